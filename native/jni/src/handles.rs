//! The handle table: Java holds a `long`, Rust holds the sink. A stale or closed handle is an
//! error message, never a dangling pointer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use once_cell::sync::Lazy;
use starrocks_sink_core::log::Log;
use starrocks_sink_core::metrics::Metrics;
use starrocks_sink_core::{Error, TaskSink};

pub struct Entry {
    pub sink: Mutex<TaskSink>,
    /// Kept outside the lock so logs drain even while a call holds the sink.
    pub log: Log,
    /// Outside the lock too: a metrics read (another thread, JMX) never waits for a `put`
    /// blocked by backpressure, and after `remove` the handle is unknown, so a read racing with
    /// `close` gets an error (or the counters of an `Arc` still alive), never freed memory.
    pub metrics: Arc<Metrics>,
}

static TABLE: Lazy<Mutex<HashMap<i64, Arc<Entry>>>> = Lazy::new(|| Mutex::new(HashMap::new()));
static NEXT: AtomicI64 = AtomicI64::new(1);

pub fn insert(sink: TaskSink) -> i64 {
    let handle = NEXT.fetch_add(1, Ordering::Relaxed);
    let log = sink.log().clone();
    let metrics = sink.metrics().clone();
    let entry = Arc::new(Entry { sink: Mutex::new(sink), log, metrics });
    TABLE.lock().unwrap_or_else(|p| p.into_inner()).insert(handle, entry);
    handle
}

pub fn get(handle: i64) -> Result<Arc<Entry>, Error> {
    TABLE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&handle)
        .cloned()
        .ok_or_else(|| Error::internal(format!("native sink handle {} is closed or unknown", handle)))
}

pub fn remove(handle: i64) -> Result<Arc<Entry>, Error> {
    TABLE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&handle)
        .ok_or_else(|| Error::internal(format!("native sink handle {} is closed or unknown", handle)))
}

/// Runs `f` on the sink. A panic in an earlier call poisoned the lock: the sink's state may be
/// half-updated, so it refuses all further work.
pub fn with_sink<T>(handle: i64, f: impl FnOnce(&mut TaskSink) -> Result<T, Error>) -> Result<T, Error> {
    let entry = get(handle)?;
    let mut sink = entry
        .sink
        .lock()
        .map_err(|_| Error::internal("the native sink failed earlier with a panic; restart the task"))?;
    f(&mut sink)
}

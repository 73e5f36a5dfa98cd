//! The sink one Connect task owns, in the delivery mode its config asks for: the JNI layer
//! holds a [`TaskSink`] and never needs to know which mode runs behind it.
//!
//! Both modes share the data path (`intake`: decode, route, serialize, bad records) and differ
//! in how a flush commits and which offsets `pre_commit` answers: [`Delivery`] is that seam.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::exactly_once::EoSink;
use crate::pipeline::OffThread;
use crate::intake::Intake;
use crate::log::Log;
use crate::metrics::Metrics;
use crate::offsets::TopicPartition;
use crate::rejected::Rejected;
use crate::runtime;
use crate::sink::Sink;

/// What a delivery mode answers to Connect's calls.
pub trait Delivery: Send {
    fn log(&self) -> &Log;

    /// The sink's counters; readable from any thread without the sink's lock.
    fn metrics(&self) -> &Arc<Metrics>;

    /// Connect assigned `tps`: where to seek each (`-1`: keep Connect's position).
    fn open_partitions(&mut self, tps: &[TopicPartition]) -> Result<Vec<i64>> {
        Ok(vec![-1; tps.len()])
    }

    /// One `put()` batch in the boundary format.
    fn put(&mut self, buf: &[u8]) -> Result<()>;

    /// Flushes what is buffered and answers the offsets safe to commit.
    fn pre_commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>>;

    /// The bad records since the last call (errors.tolerance=all); after `pre_commit`, whose
    /// offsets count them as done.
    fn drain_rejected(&mut self) -> Vec<Rejected>;

    /// Connect revoked `tps`.
    fn forget(&mut self, tps: &[TopicPartition]);

    fn close(&mut self);
}

pub struct TaskSink {
    sink: Box<dyn Delivery>,
    /// `testing.panic.on.put`: a failpoint for the tests that prove a panic fails the task
    /// instead of the JVM. Here, so it panics on the caller's thread whatever the mode.
    panic_on_put: bool,
}

impl TaskSink {
    /// `config`: the shim's config document (`config.rs`).
    pub fn open(config: &str, log: Log) -> Result<TaskSink> {
        let mut cfg = Config::from_document(config)?;
        let intake = Intake::new(&mut cfg)?;
        let panic_on_put = cfg.panic_on_put;
        let sink: Box<dyn Delivery> = match cfg.exactly_once.clone() {
            None => Box::new(Sink::with_config(cfg, intake, log)?),
            Some(eo) => {
                let rt = runtime::acquire().map_err(|e| Error::internal(format!("cannot start the I/O runtime: {}", e)))?;
                let task_id = cfg.task_id.clone();
                Box::new(OffThread::start(&task_id, EoSink::open(cfg, eo, intake, log, rt)?)?)
            }
        };
        Ok(TaskSink { sink, panic_on_put })
    }

    pub fn put(&mut self, buf: &[u8]) -> Result<()> {
        if self.panic_on_put {
            panic!("testing.panic.on.put is set");
        }
        self.sink.put(buf)
    }
}

impl Deref for TaskSink {
    type Target = dyn Delivery;

    fn deref(&self) -> &Self::Target {
        &*self.sink
    }
}

impl DerefMut for TaskSink {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut *self.sink
    }
}

//! No thread survives the last sink: the I/O runtime starts with the first sink and stops with
//! the last. (Its own test binary: other tests' sinks would keep the runtime alive.)

mod common;

use common::document;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use starrocks_sink_core::Delivery;
use starrocks_sink_core::log::Log;
use starrocks_sink_core::{runtime, Sink};

fn threads(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

fn io_threads() -> usize {
    threads("starrocks-sink")
}

/// One per sink: decodes and serializes its batches (`pipeline`).
fn serializer_threads() -> usize {
    threads("sr-rows-")
}

fn wait_for(ok: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ok() {
        assert!(Instant::now() < deadline, "waited 5 s for {} ({} I/O threads)", what, io_threads());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn settings() -> HashMap<String, String> {
    [
        ("starrocks.http.url", "127.0.0.1:1"),
        ("starrocks.database.name", "d"),
        ("starrocks.username", "root"),
        ("starrocks.password", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn the_last_sink_to_close_stops_every_io_thread() {
    assert!(!runtime::is_running());
    let mut a = Sink::open(&document(&settings()), Log::new(1)).unwrap();
    let b = Sink::open(&document(&settings()), Log::new(1)).unwrap();
    assert!(runtime::is_running());
    wait_for(|| io_threads() == 2, "the 2 I/O threads to start");
    // A thread names itself once it runs, which under load can be a moment after spawn.
    wait_for(|| serializer_threads() == 2, "the 2 serializer threads to start");
    a.close();
    // close joins the sink's serializer thread; the kernel clears a thread's id (what join waits
    // for) a moment before its /proc/self/task entry goes, so the count may lag the join briefly.
    wait_for(|| serializer_threads() == 1, "close to join the sink's serializer thread");
    drop(a);
    assert!(runtime::is_running(), "b still needs it");
    drop(b);
    assert!(!runtime::is_running());
    wait_for(|| io_threads() == 0, "the I/O threads to end");
    assert_eq!(serializer_threads(), 0, "dropping a sink joins its serializer thread");
    // and a new sink starts it again
    let c = Sink::open(&document(&settings()), Log::new(1)).unwrap();
    assert!(runtime::is_running());
    drop(c);
}

//! Log events of a sink, queued for Java to drain on the task thread.
//!
//! Rust threads never call into the JVM (docs/architecture.md), so nothing here logs directly:
//! events go to a bounded queue per sink and the shim hands them to SLF4J after `put`,
//! `preCommit` and `stop`, where the worker's connector context is set (and every second from
//! a helper thread while such a call blocks, under the same context). When the queue is full
//! the oldest events go first and a count of dropped events is logged instead, so a flood of
//! failures can never grow memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use once_cell::sync::Lazy;

/// SLF4J levels, numbered as the JNI surface numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

const MAX_QUEUED: usize = 10_000;

/// A cheap, cloneable handle on one sink's log queue.
#[derive(Clone)]
pub struct Log {
    inner: Arc<Queue>,
}

struct Queue {
    max_level: u8,
    events: Mutex<VecDeque<(u8, String)>>,
    dropped: AtomicU64,
}

impl Log {
    /// `max_level`: the most verbose level Java has enabled (1 ERROR .. 5 TRACE).
    pub fn new(max_level: i32) -> Log {
        Log {
            inner: Arc::new(Queue {
                max_level: max_level.clamp(0, 5) as u8,
                events: Mutex::new(VecDeque::new()),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// The queue of events that belong to no sink (drained with handle 0).
    pub fn global() -> &'static Log {
        static GLOBAL: Lazy<Log> = Lazy::new(|| Log::new(Level::Info as i32));
        &GLOBAL
    }

    pub fn enabled(&self, level: Level) -> bool {
        level as u8 <= self.inner.max_level
    }

    /// Queues `message()` if `level` is enabled; the closure keeps disabled levels free.
    pub fn log(&self, level: Level, message: impl FnOnce() -> String) {
        if !self.enabled(level) {
            return;
        }
        let text = message();
        let mut q = self.inner.events.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= MAX_QUEUED {
            q.pop_front();
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back((level as u8, text));
    }

    pub fn error(&self, message: impl FnOnce() -> String) {
        self.log(Level::Error, message)
    }
    pub fn warn(&self, message: impl FnOnce() -> String) {
        self.log(Level::Warn, message)
    }
    pub fn info(&self, message: impl FnOnce() -> String) {
        self.log(Level::Info, message)
    }
    pub fn debug(&self, message: impl FnOnce() -> String) {
        self.log(Level::Debug, message)
    }

    /// Moves every queued event to `other` (a closed sink's last words go to the global queue).
    pub fn forward_to(&self, other: &Log) {
        let events = self.drain();
        let mut q = other.inner.events.lock().unwrap_or_else(|p| p.into_inner());
        for e in events {
            if q.len() >= MAX_QUEUED {
                q.pop_front();
                other.inner.dropped.fetch_add(1, Ordering::Relaxed);
            }
            q.push_back(e);
        }
    }

    /// Takes every queued event, oldest first; a note on dropped events comes first.
    pub fn drain(&self) -> Vec<(u8, String)> {
        let mut q = self.inner.events.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(q.len() + 1);
        let dropped = self.inner.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            out.push((Level::Warn as u8, format!("{} native log events were dropped (queue full)", dropped)));
        }
        out.extend(q.drain(..));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_level_and_drains_in_order() {
        let log = Log::new(Level::Info as i32);
        log.debug(|| panic!("a disabled level must not format"));
        log.info(|| "one".into());
        log.error(|| "two".into());
        assert_eq!(log.drain(), vec![(3, "one".to_string()), (1, "two".to_string())]);
        assert!(log.drain().is_empty());
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_says_so() {
        let log = Log::new(5);
        for i in 0..MAX_QUEUED + 3 {
            log.info(|| format!("e{}", i));
        }
        let events = log.drain();
        assert_eq!(events.len(), MAX_QUEUED + 1);
        assert!(events[0].1.starts_with("3 native log events were dropped"), "{:?}", events[0]);
        assert_eq!(events[1].1, "e3");
    }
}

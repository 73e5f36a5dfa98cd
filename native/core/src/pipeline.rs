//! Decoding and serializing a `put()` batch off the task thread.
//!
//! Connect's task thread polls Kafka, converts records and encodes them; if it also decoded and
//! serialized every row, a single task could never go faster than the sum of both. So `put`
//! copies the batch (a memcpy, a small share of its cost) and hands it to one worker thread per
//! sink, which does the per-row work while Connect fetches and converts the next batch.
//!
//! The queue holds one batch besides the one being worked on: when the worker falls behind,
//! `submit` blocks, and that is Connect's backpressure, as a full memory budget already is.
//! Errors cannot be answered to the `put` that caused them any more; the work function records
//! them (the sink poisons itself), and the next `put` or `preCommit` reports them, which fails
//! the task just the same. `drain` waits until every submitted batch is done, so `preCommit`
//! computes offsets over every row Connect has handed over.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Batches submitted and not finished yet.
#[derive(Default)]
struct Pending {
    count: Mutex<usize>,
    changed: Condvar,
}

pub struct Pipeline {
    tx: Option<SyncSender<Vec<u8>>>,
    /// Buffers the worker is done with, reused for the next copies.
    spare: Receiver<Vec<u8>>,
    pending: Arc<Pending>,
    thread: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the worker thread. `work` gets each batch in submission order; a panic in it is
    /// caught and handed to `on_panic` with its message, and the worker goes on.
    pub fn start<W, P>(name: String, mut work: W, on_panic: P) -> std::io::Result<Pipeline>
    where
        W: FnMut(&[u8]) + Send + 'static,
        P: Fn(String) + Send + 'static,
    {
        let (tx, rx) = sync_channel::<Vec<u8>>(1);
        let (spare_tx, spare) = sync_channel::<Vec<u8>>(2);
        let pending = Arc::new(Pending::default());
        let done = pending.clone();
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            for batch in rx {
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| work(&batch))) {
                    let msg = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic without a message".to_string());
                    on_panic(msg);
                }
                let _ = spare_tx.try_send(batch);
                let mut n = done.count.lock().unwrap_or_else(|p| p.into_inner());
                *n -= 1;
                done.changed.notify_all();
            }
        })?;
        Ok(Pipeline { tx: Some(tx), spare, pending, thread: Some(thread) })
    }

    /// Copies `batch` and queues it; blocks while the worker already has one batch waiting.
    /// Answers how long it blocked, or `None` when the worker is gone (after `stop`).
    pub fn submit(&mut self, batch: &[u8]) -> Option<Duration> {
        let tx = self.tx.as_ref()?;
        let mut owned = self.spare.try_recv().unwrap_or_default();
        owned.clear();
        owned.extend_from_slice(batch);
        *self.pending.count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let sent = match tx.try_send(owned) {
            Ok(()) => Ok(Duration::ZERO),
            Err(TrySendError::Full(owned)) => {
                let blocked = Instant::now();
                tx.send(owned).map(|_| blocked.elapsed()).map_err(|_| ())
            }
            Err(TrySendError::Disconnected(_)) => Err(()),
        };
        if sent.is_err() {
            *self.pending.count.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        }
        sent.ok()
    }

    /// Waits until every submitted batch has been worked on.
    pub fn drain(&self) {
        let mut n = self.pending.count.lock().unwrap_or_else(|p| p.into_inner());
        while *n > 0 {
            n = self.pending.changed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Lets the worker finish what is queued (the work function sees the sink closed and skips
    /// it) and joins it.
    pub fn stop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_batch_is_worked_on_in_order_before_drain_returns() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut p = Pipeline::start("t".into(), move |b: &[u8]| s.lock().unwrap().push(b.to_vec()), |_| {}).unwrap();
        for i in 0..50u8 {
            assert!(p.submit(&[i, i]).is_some());
        }
        p.drain();
        let got = seen.lock().unwrap().clone();
        assert_eq!(got, (0..50u8).map(|i| vec![i, i]).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_is_reported_and_the_worker_goes_on() {
        let panics = Arc::new(Mutex::new(Vec::new()));
        let worked = Arc::new(AtomicUsize::new(0));
        let (pn, w) = (panics.clone(), worked.clone());
        let mut p = Pipeline::start(
            "t".into(),
            move |b: &[u8]| {
                if b == b"boom" {
                    panic!("bad batch");
                }
                w.fetch_add(1, Ordering::SeqCst);
            },
            move |m| pn.lock().unwrap().push(m),
        )
        .unwrap();
        p.submit(b"ok");
        p.submit(b"boom");
        p.submit(b"ok");
        p.drain();
        assert_eq!(worked.load(Ordering::SeqCst), 2);
        assert_eq!(*panics.lock().unwrap(), vec!["bad batch".to_string()]);
        p.stop();
        assert!(p.submit(b"late").is_none(), "a stopped pipeline takes nothing");
    }
}

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

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::log::Log;
use crate::metrics::Metrics;
use crate::offsets::TopicPartition;
use crate::rejected::Rejected;
use crate::sink::fatal;
use crate::task::Delivery;

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

    /// The serializer thread of task `task_id`: `work` writes each batch; a panic in it is
    /// handed to `poison` as the error the sink answers from then on.
    pub fn for_task<W, P>(task_id: &str, work: W, poison: P) -> Result<Pipeline>
    where
        W: FnMut(&[u8]) + Send + 'static,
        P: Fn(Error) + Send + 'static,
    {
        // (Linux shows 15 characters of a thread name)
        Pipeline::start(format!("sr-rows-{}", task_id), work, move |msg| poison(Error::internal(format!("panic while writing rows: {}", msg))))
            .map_err(|e| Error::internal(format!("cannot start the serializer thread: {}", e)))
    }

    /// A sink's `put`: queues a copy of `batch`, counting a wait for the worker (a batch behind)
    /// as Connect's backpressure, as a full budget is.
    pub fn put(&mut self, batch: &[u8], metrics: &Metrics) -> Result<()> {
        match self.submit(batch) {
            Some(blocked) => {
                Metrics::add(&metrics.backpressure_wait_ns, blocked);
                Ok(())
            }
            None => Err(Error::internal("put after the sink was closed")),
        }
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

/// A delivery mode whose `put` runs on a pipeline's worker thread: `put` queues a copy of the
/// batch, every other call first waits for the queue to drain (`pre_commit` then answers for
/// every row handed over). The exactly-once sink runs this way; the at-least-once sink shares
/// its state with its loads and drives a `Pipeline` itself (`sink.rs`).
pub struct OffThread<D: Delivery + 'static> {
    inner: Arc<Mutex<D>>,
    /// The first error a queued batch met, fatal: answered by every later call.
    failure: Arc<Mutex<Option<Error>>>,
    /// Set by `close`: batches still queued are skipped.
    closed: Arc<AtomicBool>,
    pipeline: Pipeline,
    log: Log,
    metrics: Arc<Metrics>,
}

impl<D: Delivery + 'static> OffThread<D> {
    pub fn start(task_id: &str, sink: D) -> Result<OffThread<D>> {
        let (log, metrics) = (sink.log().clone(), sink.metrics().clone());
        let inner = Arc::new(Mutex::new(sink));
        let failure: Arc<Mutex<Option<Error>>> = Arc::default();
        let closed = Arc::new(AtomicBool::new(false));
        let (work, failed, shut) = (inner.clone(), failure.clone(), closed.clone());
        let panicked = failure.clone();
        let pipeline = Pipeline::for_task(
            task_id,
            move |batch: &[u8]| {
                if shut.load(Ordering::Acquire) || lock(&failed).is_some() {
                    return;
                }
                if let Err(e) = lock(&work).put(batch) {
                    // the batch is gone: a retry of it could only be a copy, so nothing retries
                    lock(&failed).get_or_insert(fatal(e));
                }
            },
            move |e| {
                lock(&panicked).get_or_insert(e);
            },
        )?;
        Ok(OffThread { inner, failure, closed, pipeline, log, metrics })
    }

    fn check(&self) -> Result<()> {
        match &*lock(&self.failure) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The sink once every queued batch is in it, unless one failed.
    fn drained(&self) -> Result<MutexGuard<'_, D>> {
        self.pipeline.drain();
        self.check()?;
        Ok(lock(&self.inner))
    }

    /// `r`, an answer of the sink; an error that is not `RETRIABLE` failed the sink for good, so
    /// `put` answers it from now on without queueing anything.
    fn noted<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.kind != ErrorKind::Retriable {
                lock(&self.failure).get_or_insert(e.clone());
            }
        }
        r
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<D: Delivery + 'static> Delivery for OffThread<D> {
    fn log(&self) -> &Log {
        &self.log
    }

    fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn open_partitions(&mut self, tps: &[TopicPartition]) -> Result<Vec<i64>> {
        let r = self.drained()?.open_partitions(tps);
        self.noted(r)
    }

    /// Queues the batch; an error it meets is answered by the next call.
    fn put(&mut self, buf: &[u8]) -> Result<()> {
        self.check()?;
        self.pipeline.put(buf, &self.metrics)
    }

    fn pre_commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>> {
        let r = self.drained()?.pre_commit();
        self.noted(r)
    }

    fn drain_rejected(&mut self) -> Vec<Rejected> {
        self.pipeline.drain();
        lock(&self.inner).drain_rejected()
    }

    fn forget(&mut self, tps: &[TopicPartition]) {
        self.pipeline.drain();
        lock(&self.inner).forget(tps)
    }

    fn close(&mut self) {
        self.closed.store(true, Ordering::Release);
        self.pipeline.stop();
        lock(&self.inner).close()
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

    /// Records what reaches it; a batch `b"bad"` fails with a retriable error.
    struct Recorder {
        seen: Arc<Mutex<Vec<Vec<u8>>>>,
        log: Log,
        metrics: Arc<Metrics>,
    }

    impl Delivery for Recorder {
        fn log(&self) -> &Log {
            &self.log
        }
        fn metrics(&self) -> &Arc<Metrics> {
            &self.metrics
        }
        fn put(&mut self, buf: &[u8]) -> Result<()> {
            if buf == b"bad" {
                return Err(Error::retriable("a bad batch"));
            }
            self.seen.lock().unwrap().push(buf.to_vec());
            Ok(())
        }
        fn pre_commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>> {
            if self.seen.lock().unwrap().iter().any(|b| b == b"stall") {
                return Err(Error::load("stalled"));
            }
            let n = self.seen.lock().unwrap().len() as i64;
            Ok(BTreeMap::from([(("t".to_string(), 0), n)]))
        }
        fn drain_rejected(&mut self) -> Vec<Rejected> {
            Vec::new()
        }
        fn forget(&mut self, _: &[TopicPartition]) {}
        fn close(&mut self) {}
    }

    fn recorder() -> (Arc<Mutex<Vec<Vec<u8>>>>, OffThread<Recorder>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let r = Recorder { seen: seen.clone(), log: Log::new(5), metrics: Arc::new(Metrics::new(1)) };
        (seen, OffThread::start("0", r).unwrap())
    }

    #[test]
    fn off_thread_pre_commit_answers_for_every_batch_put() {
        let (seen, mut s) = recorder();
        for i in 0..20u8 {
            s.put(&[i]).unwrap();
        }
        assert_eq!(s.pre_commit().unwrap()[&("t".to_string(), 0)], 20);
        assert_eq!(seen.lock().unwrap().len(), 20);
        s.close();
        assert!(s.put(b"late").is_err(), "a closed sink takes nothing");
    }

    #[test]
    fn off_thread_a_failed_batch_fails_every_later_call_for_good() {
        let (seen, mut s) = recorder();
        s.put(b"ok").unwrap();
        s.put(b"bad").unwrap(); // queued: its error comes later
        let e = s.pre_commit().expect_err("the failed batch is answered");
        assert!(e.message.contains("a bad batch"), "{}", e.message);
        assert_ne!(e.kind, ErrorKind::Retriable, "the batch is gone: a retry could only copy it");
        assert!(s.put(b"after").is_err());
        assert!(s.open_partitions(&[("t".to_string(), 1)]).is_err());
        s.pipeline.drain();
        assert_eq!(*seen.lock().unwrap(), vec![b"ok".to_vec()], "nothing after the failure is taken");
    }

    #[test]
    fn off_thread_a_failed_commit_fails_the_next_put_at_once() {
        let (seen, mut s) = recorder();
        s.put(b"stall").unwrap();
        assert!(s.pre_commit().is_err());
        assert!(s.put(b"after").is_err(), "answered without queueing");
        s.pipeline.drain();
        assert_eq!(seen.lock().unwrap().len(), 1);
    }
}

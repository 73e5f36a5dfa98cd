//! The task's sink in exactly-once mode: what `delivery.guarantee=exactly_once` runs instead of
//! the at-least-once [`crate::Sink`].
//!
//! Rows are buffered per partition (a flush is one transaction per partition: its rows in every
//! target table plus its register row). A partition is flushed when all buffers together reach
//! `bufferflush.maxbytes` (the biggest goes), when its oldest record is `bufferflush.intervalms`
//! old (checked on every `put`, which Connect calls at least once per poll, with or without
//! records), and on `pre_commit`. A flush runs on the runtime while the rows of the next
//! batches are written, as at-least-once's loads do: a partition has at most one transaction at
//! a time (its writer moves into the flight and back), a task at most `sink.inflight.maxloads`,
//! and `put` waits for flights once buffered plus in-flight rows pass twice
//! `bufferflush.maxbytes`. `put` itself runs on the serializer thread (`task.rs` puts this sink
//! behind `pipeline::OffThread`).
//! `pre_commit` flushes what is buffered, waits for every flight and answers only offsets the
//! register shows visible.
//!
//! `open_partitions` fences each partition (takes ownership in the register) and answers where
//! Connect must seek: the register's offset, so Kafka's own committed offsets are advisory.
//! Records below a partition's position are dropped (already in StarRocks); records of a
//! partition another owner took (fenced) are dropped until Connect revokes it.

use bumpalo::Bump;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};

use hashbrown::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;


use super::api::Watched;
use super::http_api::HttpTxnApi;
use super::partition_buffer::{PartitionBuffer, Taken};
use crate::schema::guard::GuardContext;
use crate::sql::SqlClient;
use super::{setup, EoPolicy, FlushOutcome, PartitionWriter, Register};
use crate::backoff::Backoff;
use crate::boundary::{Batch, Record};
use crate::config::{Config, ExactlyOnceConfig};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::metrics::Metrics;
use crate::offsets::{TopicPartition, TpRef};
use crate::flush_policy::FlushPolicy;
use crate::intake::Intake;
use crate::task::Delivery;
use crate::runtime::RuntimeRef;
use crate::rejected::Rejected;
use crate::route::Target;
use crate::sink::fatal;
use crate::stall::Watchdog;
use crate::sink::budget_bytes;
use crate::stream_load::request::Headers;
use crate::stream_load::{LoadRequest, StreamLoadClient};

struct Partition {
    writer: Writer,
    /// Where the register stands as far as this sink knows (visible in StarRocks); `-1`:
    /// nothing loaded yet.
    committed: i64,
    /// Records below this offset are in StarRocks or on their way (`-1`: take any).
    position: i64,
    /// What came since the last flush began.
    buffer: PartitionBuffer,
}

enum Writer {
    Ready(PartitionWriter),
    /// A flush is running; the writer comes back with its outcome.
    Flying(Flight),
    /// Another owner fenced us out; records are dropped until Connect revokes the partition.
    Fenced,
}

/// One partition's flush running on the runtime.
struct Flight {
    job: JoinHandle<Result<Landed>>,
    /// Kept until the outcome is known: a rewind puts some of them back.
    taken: Taken,
    began: Instant,
}

/// What a flight brings back.
struct Landed {
    writer: PartitionWriter,
    outcome: FlushOutcome,
}

pub struct EoSink {
    cfg: Config,
    log: Log,
    intake: Intake,
    flush_policy: FlushPolicy,
    client: Arc<StreamLoadClient>,
    api: Arc<HttpTxnApi>,
    policy: EoPolicy,
    register: Register,
    /// The headers of every data load: `sink.properties.*` (plus `merge_condition` on the
    /// offset column).
    headers: Arc<Headers>,
    /// Unique to this sink: whose generation the register holds.
    owner: String,
    partitions: HashMap<TopicPartition, Partition>,
    /// Row bytes in the partitions' buffers.
    buffered: usize,
    /// Row bytes of the flights, and how many there are.
    flying_bytes: usize,
    flying: usize,
    rejected: Vec<Rejected>,
    failure: Option<Error>,
    metrics: Arc<Metrics>,
    /// Fails the sink when a flush or fence makes no progress for `sink.stall.timeoutms`.
    watchdog: Arc<Watchdog>,
    /// Where `put` decodes its batch, reset and reused batch after batch.
    arena: Bump,
    rt: RuntimeRef,
}

impl EoSink {
    /// Checks the StarRocks version and the register (creating it when allowed) before anything
    /// loads: a cluster older than 4.0 or a missing register fails the task with a `CONFIG` error.
    pub fn open(cfg: Config, eo: ExactlyOnceConfig, intake: Intake, log: Log, rt: RuntimeRef) -> Result<EoSink> {
        let client = Arc::new(StreamLoadClient::new(&cfg)?);
        let sql = Arc::new(SqlClient::new(&eo.query_host, eo.query_port, &cfg.username, cfg.password.as_str(), cfg.load_timeout));
        let register = Register { db: cfg.database.clone(), table: eo.register_table.clone(), connector: cfg.name.clone() };
        let version = rt.handle().block_on(async {
            let v = setup::check_version(&sql, setup::ASKED_BY_EXACTLY_ONCE).await?;
            setup::ensure_register(&sql, &register, eo.create_register).await?;
            Ok::<_, Error>(v)
        })?;
        let mut headers = client.load_headers();
        if let Some(col) = &eo.offset_column {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("merge_condition"));
            headers.push(("merge_condition".into(), col.clone()));
        }
        let policy = EoPolicy {
            // A flush's transaction spans its loads and the register check before the commit.
            txn_timeout_secs: super::api::txn_timeout::exactly_once(cfg.load_timeout),
            backoff: Backoff::new(cfg.retry_backoff.max(Duration::from_millis(50)), EoPolicy::MAX_BACKOFF),
            ..EoPolicy::default()
        };
        let owner = format!("task{}-{:016x}", cfg.task_id, std::collections::hash_map::RandomState::new().build_hasher().finish());
        log.info(|| {
            format!(
                "StarRocks sink task {} of {}: exactly-once on StarRocks {}, register {}.{} (owner {}), flush at {} bytes or {} ms",
                cfg.task_id, cfg.name, version, register.db, register.table, owner, cfg.flush_max_bytes, cfg.flush_interval.as_millis()
            )
        });
        let api = Arc::new(HttpTxnApi { client: client.clone(), sql: Some(sql), db: cfg.database.clone() });
        let metrics = Arc::new(Metrics::new(budget_bytes(&cfg)));
        let watchdog = Watchdog::new(cfg.stall_timeout, log.clone());
        Ok(EoSink {
            watchdog,
            flush_policy: FlushPolicy::new(&cfg),
            cfg,
            log,
            intake,
            client,
            api,
            policy,
            register,
            headers: Arc::new(headers),
            owner,
            partitions: HashMap::new(),
            buffered: 0,
            flying_bytes: 0,
            flying: 0,
            rejected: Vec::new(),
            failure: None,
            metrics,
            arena: Bump::new(),
            rt,
        })
    }

    fn check(&self) -> Result<()> {
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Fails the sink for good: every later call answers `e`, never as `RETRIABLE` (Connect would
    /// retry `put` forever against the same answer, the task RUNNING without progress).
    fn fail(&mut self, e: Error) -> Error {
        let e = fatal(e);
        self.log.error(|| e.message.clone());
        if self.failure.is_none() {
            self.failure = Some(e.clone());
        }
        e
    }

    /// Waits for a job on the runtime; a panic in it becomes an error. `Err`: the watchdog found
    /// a flight or fence stalled (`stall.rs`); the job is aborted then.
    fn wait_for<T: Send + 'static>(&self, job: JoinHandle<Result<T>>) -> Result<Result<T>> {
        let abort = job.abort_handle();
        let dog = self.watchdog.clone();
        let tick = (dog.limit() / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let r = self.rt.handle().block_on(async move {
            let job = async move { job.await.unwrap_or_else(|e| Err(Error::internal(format!("exactly-once task ended abnormally: {}", e)))) };
            tokio::pin!(job);
            let mut ticker = tokio::time::interval(tick);
            loop {
                tokio::select! {
                    out = &mut job => return Ok(out),
                    _ = ticker.tick() => {
                        if let Some(e) = dog.check(|_| 0) {
                            return Err(e);
                        }
                    }
                }
            }
        });
        if r.is_err() {
            abort.abort();
        }
        r
    }

    fn put_batch(&mut self, buf: &[u8], arena: &Bump) -> Result<()> {
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        self.land_finished()?;
        let batch = self.intake.decode(buf, arena, &self.metrics)?;
        let mut refused = self.intake.guard(&batch, &GuardContext { rt: self.rt.handle(), log: &self.log, metrics: &self.metrics })?;
        let budget = budget_bytes(&self.cfg) as usize;
        for (i, rec) in batch.records.iter().enumerate() {
            // a borrowed key: no String per record to find its partition
            let key = TpRef(rec.commit_topic, rec.commit_partition);
            if !self.partitions.contains_key(&key) {
                // Connect opens partitions before it delivers their records; be safe anyway.
                let tp = (rec.commit_topic.to_string(), rec.commit_partition);
                let seek = self.open_partitions(std::slice::from_ref(&tp))?;
                self.log.warn(|| format!("{}-{}: records arrived before open(); register at {}", tp.0, tp.1, seek[0]));
            }
            self.take(&batch, rec, &key, refused.take(i))?;
            if let Some(biggest) = self.flush_policy.over_size(self.buffered, self.partitions.iter().map(|(tp, p)| (tp, p.buffer.bytes()))) {
                let t = Instant::now();
                self.flush(&biggest)?;
                waited += t.elapsed();
            }
            if self.buffered + self.flying_bytes > budget && self.flying > 0 {
                let t = Instant::now();
                while self.buffered + self.flying_bytes > budget && self.flying > 0 {
                    self.land_oldest()?;
                }
                waited += t.elapsed();
            }
        }
        // A partition still flying flushes on a later `put`, once its flight has landed.
        let t = Instant::now();
        let due = self.flush_policy.due(self.partitions.iter().filter(|(_, p)| matches!(p.writer, Writer::Ready(_))).map(|(tp, p)| (tp, p.buffer.since())));
        for tp in due {
            self.flush(&tp)?;
        }
        waited += t.elapsed();
        self.note();
        Metrics::add(&self.metrics.decode_serialize_ns, started.elapsed().saturating_sub(waited));
        Metrics::add(&self.metrics.backpressure_wait_ns, waited);
        Ok(())
    }

    /// Buffers one record's row, unless its partition is fenced or the record is loaded already.
    /// `refused`: the schema guard's reason the record fits no column of its table.
    fn take(&mut self, batch: &Batch<'_>, rec: &Record<'_>, tp: &TpRef<'_>, refused: Option<Error>) -> Result<()> {
        let p = self.partitions.get_mut(tp).expect("opened above");
        if matches!(p.writer, Writer::Fenced) || rec.commit_offset < p.position {
            return Ok(());
        }
        p.position = rec.commit_offset + 1;
        let routed = self.intake.route(rec);
        let (database, table) = self.intake.target_parts(routed);
        if database != self.cfg.database {
            let e = Error::config(format!(
                "topic {} routes to {}, outside {}: delivery.guarantee=exactly_once loads only into one database",
                rec.topic, routed, self.cfg.database
            ));
            return Err(self.fail(e));
        }
        let appended = match refused {
            Some(e) => Err(e),
            None => p.buffer.append(table, &self.intake.writer, batch, rec),
        };
        match appended {
            Ok(n) => self.buffered += n,
            Err(e) => match self.intake.bad_record(rec, e, &self.metrics) {
                Ok(bad) => {
                    // The record's offset still moves the partition: it goes to the DLQ instead.
                    p.buffer.note(rec.commit_offset);
                    self.rejected.push(bad);
                }
                Err(e) => return Err(self.fail(e)),
            },
        }
        Ok(())
    }

    /// Starts the flush of `tp`'s buffer: after its own flight (one transaction per partition
    /// at a time) and once fewer than `sink.inflight.maxloads` fly (a task never holds more
    /// running transactions than that).
    fn flush(&mut self, tp: &TopicPartition) -> Result<()> {
        self.land(tp, true)?;
        while self.flying >= self.cfg.max_inflight_loads {
            self.land_oldest()?;
        }
        let Some(p) = self.partitions.get_mut(tp) else { return Ok(()) };
        if !matches!(p.writer, Writer::Ready(_)) {
            return Ok(());
        }
        let Some(taken) = p.buffer.take() else { return Ok(()) };
        let Writer::Ready(mut w) = std::mem::replace(&mut p.writer, Writer::Fenced) else { unreachable!("checked above") };
        self.buffered -= taken.bytes;
        self.flying_bytes += taken.bytes;
        self.flying += 1;
        let end = taken.end;
        let start = if w.next_offset() >= 0 { w.next_offset() } else { taken.start };
        let target = |table: &str| Target { database: self.cfg.database.clone(), table: table.to_string() };
        // the label is each attempt's transaction label, set by the writer
        let loads: Vec<LoadRequest> = taken
            .tables
            .iter()
            .map(|t| LoadRequest { target: target(&t.table), label: String::new(), body: t.body.clone(), rows: t.rows, headers: self.headers.clone() })
            .collect();
        let tables: Vec<&str> = taken.tables.iter().map(|t| t.table.as_str()).collect();
        let what = format!("the flush of {}-{} offsets [{}, {}) into {}", tp.0, tp.1, start, end, tables.join(", "));
        let watch = self.watchdog.start(&format!("{}-{}", tp.0, tp.1), what, "(none yet)", taken.rows());
        // `bytes-loaded` counts bodies before compression, as at-least-once's loads do
        let (rows, bytes) = (taken.rows(), taken.tables.iter().map(|t| t.body.len() as u64).sum::<u64>());
        let (api, policy, client, metrics) = (self.api.clone(), self.policy.clone(), self.client.clone(), self.metrics.clone());
        let job = self.rt.handle().spawn(async move {
            let watch = watch; // watched until this flight ends, however it ends
            // compressed here, off the serializer thread
            let mut loads = loads;
            for l in &mut loads {
                l.body = client.compress(std::mem::take(&mut l.body))?;
            }
            let api = Watched { api: &*api, stage: watch.stage() };
            let began = Instant::now();
            let outcome = w.flush(&api, &policy, start, end, &loads).await;
            let took = began.elapsed();
            Metrics::add(&metrics.http_ns, took);
            let outcome = outcome?;
            if matches!(outcome, FlushOutcome::Committed { .. }) {
                watch.stage().progressed();
                // counted as the commit lands, not when the serializer next looks: the rows are
                // in StarRocks now, and a reader of the metrics may already see them there
                metrics.load_succeeded(rows, 0, bytes, took);
            }
            Ok(Landed { writer: w, outcome })
        });
        p.writer = Writer::Flying(Flight { job, taken, began: Instant::now() });
        Ok(())
    }

    /// Applies the outcomes of the flights that have ended, without waiting.
    fn land_finished(&mut self) -> Result<()> {
        let done: Vec<TopicPartition> =
            self.partitions.iter().filter(|(_, p)| matches!(&p.writer, Writer::Flying(f) if f.job.is_finished())).map(|(tp, _)| tp.clone()).collect();
        for tp in done {
            self.land(&tp, false)?;
        }
        Ok(())
    }

    /// Waits for the flight that began first.
    fn land_oldest(&mut self) -> Result<()> {
        let oldest = self
            .partitions
            .iter()
            .filter_map(|(tp, p)| match &p.writer {
                Writer::Flying(f) => Some((f.began, tp)),
                _ => None,
            })
            .min_by_key(|(began, _)| *began)
            .map(|(_, tp)| tp.clone());
        match oldest {
            Some(tp) => self.land(&tp, true),
            None => Ok(()),
        }
    }

    /// Applies the outcome of `tp`'s flight, waiting for it when `wait` (else only if it ended).
    fn land(&mut self, tp: &TopicPartition, wait: bool) -> Result<()> {
        let Some(p) = self.partitions.get_mut(tp) else { return Ok(()) };
        let Writer::Flying(f) = &p.writer else { return Ok(()) };
        if !wait && !f.job.is_finished() {
            return Ok(());
        }
        // Fenced meanwhile: should the wait fail, the partition's state is lost with the sink
        let Writer::Flying(f) = std::mem::replace(&mut p.writer, Writer::Fenced) else { unreachable!("matched above") };
        self.flying -= 1;
        self.flying_bytes -= f.taken.bytes;
        let taken = f.taken;
        let landed = match self.wait_for(f.job) {
            Ok(Ok(landed)) => landed,
            Ok(Err(e)) | Err(e) => {
                self.metrics.load_failures.fetch_add(1, Relaxed);
                return Err(self.fail(e));
            }
        };
        let p = self.partitions.get_mut(tp).expect("landed partitions stay");
        let before = p.buffer.bytes();
        match landed.outcome {
            FlushOutcome::Committed { next } => {
                self.log.debug(|| format!("{}-{}: offsets [{}, {}) committed, {} rows", tp.0, tp.1, taken.start, next, taken.rows()));
                p.committed = next;
                p.writer = Writer::Ready(landed.writer);
            }
            FlushOutcome::Rewind { next } => {
                self.log.warn(|| format!("{}-{}: the register is at {} (an earlier owner's flush landed); loading from there", tp.0, tp.1, next));
                p.buffer.put_back(taken, next);
                p.position = p.position.max(next);
                p.committed = next;
                p.writer = Writer::Ready(landed.writer);
            }
            FlushOutcome::Fenced => {
                let (start, end) = (taken.start, p.buffer.range().map_or(taken.end, |(_, e)| e));
                self.log.warn(|| format!("{}-{}: another task owns this partition now; dropping its {} buffered offsets [{}, {})", tp.0, tp.1, end - start, start, end));
                p.buffer.clear();
            }
        }
        self.buffered = self.buffered + p.buffer.bytes() - before;
        Ok(())
    }

    /// Waits for every flight, failing the sink on the first error.
    fn land_all(&mut self) -> Result<()> {
        while self.flying > 0 {
            self.land_oldest()?;
        }
        Ok(())
    }

    /// Stops what still flies (after a failure): a transaction left open is rolled back by
    /// the partition's next owner, or times out.
    fn abort_flights(&self) {
        for p in self.partitions.values() {
            if let Writer::Flying(f) = &p.writer {
                f.job.abort();
            }
        }
    }

    fn note(&self) {
        self.metrics.set_buffer_bytes((self.buffered + self.flying_bytes) as u64);
        let flying = self.partitions.values().filter_map(|p| match &p.writer {
            Writer::Flying(f) => f.taken.since,
            _ => None,
        });
        self.metrics.set_oldest(self.partitions.values().filter_map(|p| p.buffer.since()).chain(flying).min());
    }
}

impl Delivery for EoSink {
    fn log(&self) -> &Log {
        &self.log
    }

    fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Takes ownership of `tps` in the register (in parallel) and answers, for each, where
    /// Connect must seek (`-1`: nothing loaded yet, keep Connect's position).
    fn open_partitions(&mut self, tps: &[TopicPartition]) -> Result<Vec<i64>> {
        self.check()?;
        for tp in tps {
            // a partition reassigned with a flight still running: its outcome first
            self.land(tp, true)?;
        }
        // a fence is a Stream Load too: `sink.inflight.maxloads` at a time
        let mut fenced = Vec::with_capacity(tps.len());
        for group in tps.chunks(self.cfg.max_inflight_loads) {
            let jobs: Vec<_> = group
                .iter()
                .map(|tp| {
                    let (api, policy, register) = (self.api.clone(), self.policy.clone(), self.register.clone());
                    let (prefix, owner, tp) = (self.cfg.label_prefix.clone(), self.owner.clone(), tp.clone());
                    let what = format!("taking ownership of {}-{} in the register", tp.0, tp.1);
                    let watch = self.watchdog.start(&format!("{}-{}", tp.0, tp.1), what, "(none yet)", 0);
                    self.rt.handle().spawn(async move {
                        let api = Watched { api: &*api, stage: watch.stage() };
                        let r = PartitionWriter::fence(&api, &policy, &register, &prefix, &tp.0, tp.1, &owner).await;
                        if r.is_ok() {
                            watch.stage().progressed();
                        }
                        r
                    })
                })
                .collect();
            let aborts: Vec<_> = jobs.iter().map(|j| j.abort_handle()).collect();
            for job in jobs {
                match self.wait_for(job) {
                    Ok(r) => fenced.push(r),
                    Err(e) => {
                        aborts.iter().for_each(|a| a.abort());
                        return Err(self.fail(e));
                    }
                }
            }
        }
        let mut seeks = Vec::with_capacity(tps.len());
        for (tp, r) in tps.iter().zip(fenced) {
            let w = r.map_err(|e| self.fail(e))?;
            let next = w.next_offset();
            self.log.info(|| format!("{}-{}: owned at generation {}, register at {}", tp.0, tp.1, w.generation(), next));
            if let Some(old) = self.partitions.remove(tp) {
                self.buffered -= old.buffer.bytes();
            }
            let buffer = PartitionBuffer::new(self.intake.framing.clone());
            self.partitions.insert(tp.clone(), Partition { writer: Writer::Ready(w), committed: next, position: next, buffer });
            seeks.push(next);
        }
        self.note();
        Ok(seeks)
    }

    fn put(&mut self, buf: &[u8]) -> Result<()> {
        self.check()?;
        // a flight that makes no progress fails the sink here, as a wait for it would
        if let Some(e) = self.watchdog.check(|_| 0) {
            return Err(self.fail(e));
        }
        // the batch borrows the arena while the rows are taken by `&mut self` methods
        let mut arena = std::mem::take(&mut self.arena);
        arena.reset();
        let result = self.put_batch(buf, &arena);
        self.arena = arena;
        result
    }

    /// Flushes every partition with something buffered, waits for every flight, and answers
    /// the register's offsets: all visible in StarRocks, and all Connect has delivered.
    fn pre_commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>> {
        self.check()?;
        let pending: Vec<TopicPartition> = self
            .partitions
            .iter()
            .filter(|(_, p)| !matches!(p.writer, Writer::Fenced) && !p.buffer.is_empty())
            .map(|(tp, _)| tp.clone())
            .collect();
        for tp in &pending {
            self.flush(tp)?;
        }
        self.land_all()?;
        self.note();
        Ok(self
            .partitions
            .iter()
            .filter(|(_, p)| !matches!(p.writer, Writer::Fenced) && p.committed >= 0)
            .map(|(tp, p)| (tp.clone(), p.committed))
            .collect())
    }

    fn drain_rejected(&mut self) -> Vec<Rejected> {
        std::mem::take(&mut self.rejected)
    }

    /// Connect revoked `tps`: their flights land (a transaction is not left running for the
    /// next owner to roll back), then their state goes; whoever owns them next fences and reads
    /// the register.
    fn forget(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            if self.failure.is_none() {
                // a failure fails the sink (`land` records it), and the next call answers it
                let _ = self.land(tp, true);
            }
            if let Some(p) = self.partitions.remove(tp) {
                self.buffered -= p.buffer.bytes();
                if let Writer::Flying(f) = p.writer {
                    self.flying -= 1;
                    self.flying_bytes -= f.taken.bytes;
                    f.job.abort();
                }
            }
        }
        self.note();
    }

    /// Flights land; what is buffered is not in the register, so the next owner loads it.
    fn close(&mut self) {
        if self.failure.is_none() {
            let _ = self.land_all();
        }
        self.abort_flights();
        self.partitions.clear();
        (self.buffered, self.flying, self.flying_bytes) = (0, 0, 0);
        self.note();
        self.log.info(|| format!("StarRocks sink task {} of {} closed", self.cfg.task_id, self.cfg.name));
    }
}

impl Drop for EoSink {
    /// A sink dropped without `close` (the task failed) leaves no flight running.
    fn drop(&mut self) {
        self.abort_flights();
    }
}

//! The task's sink in exactly-once mode: what `delivery.guarantee=exactly_once` runs instead of
//! the at-least-once [`crate::Sink`].
//!
//! Rows are buffered per partition (a flush is one transaction per partition: its rows in every
//! target table plus its register row). A partition is flushed when all buffers together reach
//! `bufferflush.maxbytes` (the biggest goes), when its oldest record is `bufferflush.intervalms`
//! old (checked on every `put`, which Connect calls at least once per poll, with or without
//! records), and on `pre_commit`. Flushes run on the task thread and wait for their commit: a
//! partition has at most one transaction at a time and a task at most `sink.inflight.maxloads`,
//! memory stays within one flush size plus one framed body, and `pre_commit` answers only
//! offsets the register shows visible.
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

use bytes::Bytes;

use super::api::Watched;
use super::http_api::HttpTxnApi;
use super::partition_buffer::PartitionBuffer;
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
use crate::stream_load::request::Headers;
use crate::stream_load::{LoadRequest, StreamLoadClient};

struct Partition {
    /// `None`: another owner fenced us out; records are dropped until Connect revokes it.
    writer: Option<PartitionWriter>,
    /// Records below this offset are in StarRocks already (`-1`: take any).
    position: i64,
    buffer: PartitionBuffer,
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
    buffered: usize,
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
            txn_timeout_secs: (cfg.load_timeout.as_secs() * 3).max(60),
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
        let api = Arc::new(HttpTxnApi { client: client.clone(), sql, db: cfg.database.clone() });
        let metrics = Arc::new(Metrics::new(cfg.flush_max_bytes));
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

    /// Runs futures on the runtime, waiting for all; a panic in one becomes an error. `Err`: the
    /// watchdog found one stalled (`stall.rs`); all are aborted then.
    fn run_all<T: Send + 'static>(&self, jobs: Vec<impl std::future::Future<Output = Result<T>> + Send + 'static>) -> Result<Vec<Result<T>>> {
        let handles: Vec<_> = jobs.into_iter().map(|j| self.rt.handle().spawn(j)).collect();
        let aborts: Vec<_> = handles.iter().map(|h| h.abort_handle()).collect();
        let dog = self.watchdog.clone();
        let tick = (dog.limit() / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let r = self.rt.handle().block_on(async move {
            let all = async move {
                let mut out = Vec::with_capacity(handles.len());
                for h in handles {
                    out.push(h.await.unwrap_or_else(|e| Err(Error::internal(format!("exactly-once task ended abnormally: {}", e)))));
                }
                out
            };
            tokio::pin!(all);
            let mut ticker = tokio::time::interval(tick);
            loop {
                tokio::select! {
                    out = &mut all => return Ok(out),
                    _ = ticker.tick() => {
                        if let Some(e) = dog.check(|_| 0) {
                            return Err(e);
                        }
                    }
                }
            }
        });
        if r.is_err() {
            for a in aborts {
                a.abort();
            }
        }
        r
    }

    fn put_batch(&mut self, buf: &[u8], arena: &Bump) -> Result<()> {
        let started = Instant::now();
        let batch = self.intake.decode(buf, arena, &self.metrics)?;
        let mut refused = self.intake.guard(&batch, &GuardContext { rt: self.rt.handle(), log: &self.log, metrics: &self.metrics })?;
        let mut flushing = Duration::ZERO;
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
                self.flush(vec![biggest])?;
                flushing += t.elapsed();
            }
        }
        let due = self.flush_policy.due(self.partitions.iter().map(|(tp, p)| (tp, p.buffer.since())));
        if !due.is_empty() {
            let t = Instant::now();
            self.flush(due)?;
            flushing += t.elapsed();
        }
        self.note();
        Metrics::add(&self.metrics.decode_serialize_ns, started.elapsed().saturating_sub(flushing));
        Metrics::add(&self.metrics.backpressure_wait_ns, flushing);
        Ok(())
    }

    /// Buffers one record's row, unless its partition is fenced or the record is loaded already.
    /// `refused`: the schema guard's reason the record fits no column of its table.
    fn take(&mut self, batch: &Batch<'_>, rec: &Record<'_>, tp: &TpRef<'_>, refused: Option<Error>) -> Result<()> {
        let p = self.partitions.get_mut(tp).expect("opened above");
        if p.writer.is_none() || rec.commit_offset < p.position {
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

    /// Flushes `tps`, `sink.inflight.maxloads` at a time (in parallel, one transaction each, so a
    /// task never holds more running transactions than that), and applies the outcomes.
    fn flush(&mut self, tps: Vec<TopicPartition>) -> Result<()> {
        for group in tps.chunks(self.cfg.max_inflight_loads) {
            self.flush_group(group.to_vec())?;
        }
        Ok(())
    }

    fn flush_group(&mut self, tps: Vec<TopicPartition>) -> Result<()> {
        let mut jobs = Vec::new();
        let mut sizes = Vec::new();
        for tp in tps {
            let Some(p) = self.partitions.get_mut(&tp) else { continue };
            let (Some((start, end)), Some(w)) = (p.buffer.range(), p.writer.clone()) else { continue };
            let start = if w.next_offset() >= 0 { w.next_offset() } else { start };
            let mut loads = Vec::new();
            let mut rows = 0;
            let mut bytes = 0;
            for t in p.buffer.bodies() {
                let body = self.client.compress(Bytes::from(t.body))?;
                bytes += body.len();
                rows += t.rows;
                let target = Target { database: self.cfg.database.clone(), table: t.table };
                // the label is each attempt's transaction label, set by the writer
                loads.push(LoadRequest { target, label: String::new(), body, rows: t.rows, headers: self.headers.clone() });
            }
            sizes.push((rows, bytes));
            let (api, policy) = (self.api.clone(), self.policy.clone());
            let tables: Vec<&str> = loads.iter().map(|l| l.target.table.as_str()).collect();
            let what = format!("the flush of {}-{} offsets [{}, {}) into {}", tp.0, tp.1, start, end, tables.join(", "));
            let watch = self.watchdog.start(&format!("{}-{}", tp.0, tp.1), what, "(none yet)", rows);
            jobs.push(async move {
                let mut w = w;
                let began = Instant::now();
                let api = Watched { api: &*api, stage: watch.stage() };
                let r = w.flush(&api, &policy, start, end, &loads).await;
                if matches!(r, Ok(FlushOutcome::Committed { .. })) {
                    watch.stage().progressed();
                }
                r.map(|outcome| (tp, w, outcome, start, end, began.elapsed()))
            });
        }
        let results = self.run_all(jobs).map_err(|e| self.fail(e))?;
        for (r, (rows, bytes)) in results.into_iter().zip(sizes) {
            let (tp, w, outcome, start, end, took) = match r {
                Ok(x) => x,
                Err(e) => {
                    self.metrics.load_failures.fetch_add(1, Relaxed);
                    return Err(self.fail(e));
                }
            };
            let p = self.partitions.get_mut(&tp).expect("flushed partitions stay");
            let before = p.buffer.bytes();
            match outcome {
                FlushOutcome::Committed { next } => {
                    self.log.debug(|| format!("{}-{}: offsets [{}, {}) committed, {} rows", tp.0, tp.1, start, next, rows));
                    self.metrics.load_succeeded(rows, 0, bytes as u64, took);
                    p.buffer.clear();
                    p.writer = Some(w);
                }
                FlushOutcome::Rewind { next } => {
                    self.log.warn(|| format!("{}-{}: the register is at {} (an earlier owner's flush landed); loading from there", tp.0, tp.1, next));
                    p.buffer.drop_below(next);
                    p.position = p.position.max(next);
                    p.writer = Some(w);
                }
                FlushOutcome::Fenced => {
                    self.log.warn(|| format!("{}-{}: another task owns this partition now; dropping its {} buffered offsets [{}, {})", tp.0, tp.1, end - start, start, end));
                    p.buffer.clear();
                    p.writer = None;
                }
            }
            self.buffered -= before - p.buffer.bytes();
        }
        Ok(())
    }

    fn note(&self) {
        self.metrics.set_buffer_bytes(self.buffered as u64);
        self.metrics.set_oldest(self.partitions.values().filter_map(|p| p.buffer.since()).min());
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
        // a fence is a Stream Load too: `sink.inflight.maxloads` at a time
        let mut fenced = Vec::with_capacity(tps.len());
        for group in tps.chunks(self.cfg.max_inflight_loads) {
            let jobs = group.iter().map(|tp| {
                let (api, policy, register) = (self.api.clone(), self.policy.clone(), self.register.clone());
                let (prefix, owner, tp) = (self.cfg.label_prefix.clone(), self.owner.clone(), tp.clone());
                let what = format!("taking ownership of {}-{} in the register", tp.0, tp.1);
                let watch = self.watchdog.start(&format!("{}-{}", tp.0, tp.1), what, "(none yet)", 0);
                async move {
                    let api = Watched { api: &*api, stage: watch.stage() };
                    let r = PartitionWriter::fence(&api, &policy, &register, &prefix, &tp.0, tp.1, &owner).await;
                    if r.is_ok() {
                        watch.stage().progressed();
                    }
                    r
                }
            });
            let done = self.run_all(jobs.collect()).map_err(|e| self.fail(e))?;
            fenced.extend(done);
        }
        let mut seeks = Vec::with_capacity(tps.len());
        for (tp, r) in tps.iter().zip(fenced) {
            let w = r.map_err(|e| self.fail(e))?;
            let next = w.next_offset();
            self.log.info(|| format!("{}-{}: owned at generation {}, register at {}", tp.0, tp.1, w.generation(), next));
            if let Some(old) = self.partitions.remove(tp) {
                self.buffered -= old.buffer.bytes();
            }
            self.partitions.insert(tp.clone(), Partition { writer: Some(w), position: next, buffer: PartitionBuffer::new(self.intake.framing.clone()) });
            seeks.push(next);
        }
        self.note();
        Ok(seeks)
    }

    fn put(&mut self, buf: &[u8]) -> Result<()> {
        self.check()?;
        // the batch borrows the arena while the rows are taken by `&mut self` methods
        let mut arena = std::mem::take(&mut self.arena);
        arena.reset();
        let result = self.put_batch(buf, &arena);
        self.arena = arena;
        result
    }

    /// Flushes every partition and answers the register's offsets: all visible in StarRocks.
    fn pre_commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>> {
        self.check()?;
        let pending: Vec<TopicPartition> = self.partitions.iter().filter(|(_, p)| !p.buffer.is_empty()).map(|(tp, _)| tp.clone()).collect();
        self.flush(pending)?;
        self.note();
        Ok(self
            .partitions
            .iter()
            .filter_map(|(tp, p)| p.writer.as_ref().map(|w| (tp.clone(), w.next_offset())))
            .filter(|(_, next)| *next >= 0)
            .collect())
    }

    fn drain_rejected(&mut self) -> Vec<Rejected> {
        std::mem::take(&mut self.rejected)
    }

    /// Connect revoked `tps`: drop their state; whoever owns them next fences and reads the
    /// register.
    fn forget(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            if let Some(p) = self.partitions.remove(tp) {
                self.buffered -= p.buffer.bytes();
            }
        }
        self.note();
    }

    /// Nothing is in flight between calls; what is buffered is not in the register, so the
    /// next owner loads it.
    fn close(&mut self) {
        self.partitions.clear();
        self.buffered = 0;
        self.note();
        self.log.info(|| format!("StarRocks sink task {} of {} closed", self.cfg.task_id, self.cfg.name));
    }
}

//! A sink: what one Connect task owns on the Rust side.
//!
//! `put` decodes a batch and appends each record's row to its table's buffer. Buffers are
//! flushed (handed to a Stream Load on the runtime) when all of them together reach
//! `bufferflush.maxbytes` (the biggest goes), when a buffer's oldest record is
//! `bufferflush.intervalms` old, and on `pre_commit`. The interval is kept by a timer on the
//! runtime, because Connect may not call `put` for as long as its offset commit interval when
//! no records arrive.
//!
//! At most one load per table is in flight, so loads into one table commit in record order (a
//! Primary Key table must see the newest version of a row last); loads into different tables
//! overlap. A buffer that must be flushed while its table's load still runs makes `put` wait:
//! that bounds memory at about two buffers and is the backpressure Connect sees.
//!
//! A load that fails for good poisons the sink: every later call returns that error, so
//! Connect fails the task with StarRocks' message instead of stalling.
//!
//! With `sink.transaction.multi-table.enabled` a flush takes every idle non-empty buffer of the
//! due table's database and commits them in one multi-table transaction (`multi_table.rs`): one
//! job, one `sink.inflight.maxloads` slot, each of its tables in flight until it ends. A flush
//! that finds one table only loads it as a plain Stream Load.

use bumpalo::Bump;
use std::collections::BTreeMap;

// hashbrown (foldhash): a record's table buffer is looked up per record; SipHash showed in profiles
use hashbrown::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::task::AbortHandle;

use crate::backoff::{Backoff, MAX_LOAD_BACKOFF};
use crate::buffer::{RowIndex, TableBuffer};
use crate::exactly_once::api::{txn_timeout, Watched};
use crate::exactly_once::http_api::HttpTxnApi;
use crate::exactly_once::setup;
use crate::multi_table::{self, Outcome};
use crate::sql::SqlClient;
use crate::flush_policy::FlushPolicy;
use crate::intake::Intake;
use crate::schema::guard::GuardContext;
use crate::task::Delivery;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::log::Log;
use crate::metrics::Metrics;
use crate::offsets::{FirstOffsets, OffsetTracker, TopicPartition};
use crate::pipeline::Pipeline;
use crate::runtime;
use crate::rejected::Rejected;
use crate::stall::{Stage, Watch, Watchdog};
use crate::stream_load::request::Headers;
use crate::stream_load::{isolate_rejected, load_with_retry, LabelMaker, LoadRequest, Loader, RetryPolicy, StreamLoadClient};

/// What never changes after `open`.
struct Settings {
    cfg: Config,
    log: Log,
    client: Arc<StreamLoadClient>,
    policy: RetryPolicy,
    intake: Intake,
    flush: FlushPolicy,
    labels: LabelMaker,
    /// The `sink.properties.*` headers every load carries.
    headers: Arc<Headers>,
    /// Longest a caller waits for a table's load: every attempt may take the whole timeout.
    max_load_wait: Duration,
    /// Fails the sink when a load makes no progress for `sink.stall.timeoutms` (`stall.rs`).
    watchdog: Arc<Watchdog>,
}

struct InFlight {
    first: FirstOffsets,
    /// When the load's oldest record arrived.
    since: Option<Instant>,
}

/// A table's buffer taken for a load.
struct Taken {
    table: String,
    request: LoadRequest,
    index: Option<RowIndex>,
    first: FirstOffsets,
    since: Option<Instant>,
}

#[derive(Default)]
struct State {
    buffers: HashMap<String, TableBuffer>,
    /// Per table: its load in flight (at most one).
    inflight: HashMap<String, InFlight>,
    /// The jobs running on the runtime, each one `sink.inflight.maxloads` slot: a table's load,
    /// or a multi-table transaction carrying several tables.
    jobs: HashMap<u64, AbortHandle>,
    next_job: u64,
    offsets: OffsetTracker,
    /// Bytes in all table buffers (not counting loads in flight).
    buffered: usize,
    failure: Option<Error>,
    /// Bytes of the bodies of loads in flight.
    inflight_bytes: usize,
    /// Records whose rows were refused, for the errant-record reporter (errors.tolerance=all).
    rejected: Vec<Rejected>,
    closed: bool,
}

struct Shared {
    /// Where loads and the flush timer run.
    io: tokio::runtime::Handle,
    settings: Settings,
    state: Mutex<State>,
    /// Signalled whenever a load finishes.
    load_done: Condvar,
    metrics: Arc<Metrics>,
}

pub struct Sink {
    shared: Arc<Shared>,
    /// Decodes and serializes batches on a thread of its own (see `pipeline`).
    pipeline: Pipeline,
    /// Dropped after `shared`'s loads are aborted: the last sink to go stops the runtime.
    _runtime: runtime::RuntimeRef,
}

impl Sink {
    /// `config`: the shim's config document (`config.rs`).
    pub fn open(config: &str, log: Log) -> Result<Sink> {
        let mut cfg = Config::from_document(config)?;
        let intake = Intake::new(&mut cfg)?;
        Sink::with_config(cfg, intake, log)
    }

    /// `cfg` already parsed, with the intake it made (`Intake::new`).
    pub fn with_config(cfg: Config, intake: Intake, log: Log) -> Result<Sink> {
        let client = Arc::new(StreamLoadClient::new(&cfg)?);
        let policy = RetryPolicy {
            max_retries: cfg.max_retries,
            backoff: Backoff::new(cfg.retry_backoff, MAX_LOAD_BACKOFF),
            label_wait: cfg.load_timeout,
        };
        let attempts = cfg.max_retries.saturating_add(1);
        let max_load_wait = (cfg.load_timeout * 2 + policy.backoff.max).saturating_mul(attempts);
        log.info(|| {
            format!(
                "StarRocks sink task {} of {}: FE {:?}, database {}, flush at {} bytes or {} ms, {:?} rows",
                cfg.task_id,
                cfg.name,
                cfg.fe.iter().map(|f| f.base_url()).collect::<Vec<_>>(),
                cfg.database,
                cfg.flush_max_bytes,
                cfg.flush_interval.as_millis(),
                intake.writer.format
            )
        });
        let state = State::default();
        let metrics = Arc::new(Metrics::new(budget_bytes(&cfg)));
        let labels = LabelMaker::new(&cfg.label_prefix);
        let interval = cfg.flush_interval;
        let watchdog = Watchdog::new(cfg.stall_timeout, log.clone());
        let rt = runtime::acquire().map_err(|e| Error::internal(format!("cannot start the I/O runtime: {}", e)))?;
        if cfg.multi_table {
            // the only use of the query port in this mode: the transactions never query
            let q = &cfg.query_address;
            let check = SqlClient::new(&q.host, q.port, &cfg.username, cfg.password.as_str(), cfg.load_timeout);
            let version = rt.handle().block_on(async {
                let v = setup::check_version(&check, setup::ASKED_BY_MULTI_TABLE).await;
                check.close().await;
                v
            })?;
            log.info(|| format!("StarRocks {}: a flush commits the due tables of a database in one multi-table transaction", version));
        }
        let shared = Arc::new(Shared {
            io: rt.handle().clone(),
            settings: Settings {
                flush: FlushPolicy::new(&cfg),
                headers: Arc::new(client.load_headers()),
                cfg,
                log,
                client,
                policy,
                intake,
                labels,
                max_load_wait,
                watchdog,
            },
            state: Mutex::new(state),
            load_done: Condvar::new(),
            metrics,
        });
        spawn_timer(rt.handle(), Arc::downgrade(&shared), interval);
        let (work, on_panic) = (shared.clone(), shared.clone());
        let pipeline = Pipeline::for_task(
            &shared.settings.cfg.task_id,
            {
                // the serializer thread's own arena for decoded values, reused batch after batch
                let mut arena = Bump::new();
                move |batch: &[u8]| {
                    arena.reset();
                    if let Err(e) = work.put_batch(batch, &arena) {
                        work.poison(e);
                    }
                }
            },
            move |e| on_panic.poison(e),
        )?;
        Ok(Sink { shared, pipeline, _runtime: rt })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Delivery for Sink {
    fn log(&self) -> &Log {
        &self.shared.settings.log
    }

    /// The sink's counters; readable from any thread without the sink's lock.
    fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }

    /// One `put()` batch in the boundary format: queued for the serializer thread. An error
    /// it meets (a malformed batch, a row that cannot be written, a failed load) is answered by
    /// the next `put` or `pre_commit`.
    fn put(&mut self, buf: &[u8]) -> Result<()> {
        check(&self.lock())?;
        self.pipeline.put(buf, &self.shared.metrics)
    }

    /// Flushes every buffer, waits for every load, and answers the offsets safe to commit.
    fn pre_commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>> {
        self.pipeline.drain();
        let shared = &self.shared;
        let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        check(&st)?;
        let tables: Vec<String> = st.buffers.iter().filter(|(_, b)| !b.is_empty()).map(|(t, _)| t.clone()).collect();
        for t in tables {
            if st.buffers.get(&t).is_none_or(|b| b.is_empty()) {
                continue; // taken meanwhile by a multi-table flush of its database
            }
            st = shared.wait_for_table(st, &t)?;
            st = shared.wait_for_slot(st)?;
            shared.start_flush(&mut st, &t);
        }
        let tables: Vec<String> = st.inflight.keys().cloned().collect();
        for t in tables {
            st = shared.wait_for_table(st, &t)?;
        }
        let pending = st.buffers.values().map(|b| b.first_offsets()).chain(st.inflight.values().map(|f| &f.first));
        Ok(st.offsets.committable(pending))
    }

    /// The records whose rows StarRocks refused (or Rust could not write) since the last call,
    /// when bad records are tolerated. Call after `pre_commit`: the offsets it answered count
    /// these records as done, so they must reach the errant-record reporter first.
    fn drain_rejected(&mut self) -> Vec<Rejected> {
        std::mem::take(&mut self.lock().rejected)
    }

    /// Connect took `partitions` away (a rebalance's `close(partitions)`): stops answering
    /// offsets for them, so a partition that comes back later starts clean instead of answering
    /// the position it had before (which would rewind the group's committed offset past rows
    /// another task loaded meanwhile). Queued batches are written first, so none of them notes
    /// the partitions again afterwards. Connect flushed them with `pre_commit` just before; rows
    /// still pending (that commit failed, or the partitions were lost) are loaded all the same,
    /// at worst twice, and no longer hold the partitions' offsets back.
    /// A sink that failed stays failed: `put` and `pre_commit` answer that, not this.
    fn forget(&mut self, partitions: &[TopicPartition]) {
        if partitions.is_empty() {
            return;
        }
        self.pipeline.drain();
        let s = &self.shared.settings;
        s.log.info(|| {
            let names: Vec<String> = partitions.iter().map(|(t, p)| format!("{}-{}", t, p)).collect();
            format!("StarRocks sink task {} of {}: partitions revoked: {}", s.cfg.task_id, s.cfg.name, names.join(", "))
        });
        let mut st = self.lock();
        for tp in partitions {
            st.offsets.forget(tp);
            for f in st.inflight.values_mut() {
                f.first.remove(tp);
            }
            for b in st.buffers.values_mut() {
                b.forget(tp);
            }
        }
    }

    /// Stops the loads in flight and frees the buffers. Nothing is committed for them, so
    /// Connect delivers those records again to whoever owns the partitions next.
    fn close(&mut self) {
        self.lock().closed = true;
        // queued batches are skipped now; the serializer thread ends
        self.pipeline.stop();
        let mut st = self.lock();
        for (_, job) in st.jobs.drain() {
            job.abort();
        }
        st.inflight.clear();
        st.buffers.clear();
        st.buffered = 0;
        self.shared.note(&st);
        drop(st);
        let s = &self.shared.settings;
        s.log.info(|| format!("StarRocks sink task {} of {} closed", s.cfg.task_id, s.cfg.name));
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let mut st = self.lock();
        st.closed = true;
        for (_, job) in st.jobs.drain() {
            job.abort();
        }
    }
}

/// `e` as a poisoned sink answers it: a `RETRIABLE` error (a wait that ran out) becomes `LOAD`,
/// since the same answer to every later call is no longer something a retry can fix.
pub(crate) fn fatal(e: Error) -> Error {
    match e.kind {
        ErrorKind::Retriable => Error::load(e.message),
        _ => e,
    }
}

fn check(st: &State) -> Result<()> {
    match &st.failure {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}

impl Shared {
    /// Decodes a batch and appends its rows to the table buffers, starting loads as the flush
    /// size says and waiting while the memory budget is full. Runs on the serializer thread.
    fn put_batch(self: &Arc<Shared>, buf: &[u8], arena: &Bump) -> Result<()> {
        let shared = self;
        let s = &shared.settings;
        let m = &shared.metrics;
        let mut clock = PutClock { metrics: m, started: Instant::now(), waited: Duration::ZERO };
        let budget = budget_bytes(&s.cfg);
        let batch = s.intake.decode(buf, arena, m)?;
        // before the lock: a table created or evolved here may take a while, and loads and
        // preCommit go on meanwhile
        let mut refused = s.intake.guard(&batch, &GuardContext { rt: &shared.io, log: &s.log, metrics: m })?;
        let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        check(&st)?;
        if st.closed {
            return Ok(());
        }
        for (i, rec) in batch.records.iter().enumerate() {
            let table = s.intake.route(rec);
            let buffer = match st.buffers.get_mut(table) {
                Some(b) => b,
                None => st.buffers.entry(table.to_string()).or_insert_with(|| TableBuffer::new(s.intake.framing.clone(), s.cfg.tolerate_errors)),
            };
            let before = buffer.bytes();
            let appended = match refused.take(i) {
                Some(e) => Err(e),
                None => buffer.append(&s.intake.writer, &batch, rec),
            };
            if let Err(e) = appended {
                match s.intake.bad_record(rec, e, m) {
                    Ok(bad) => st.rejected.push(bad),
                    Err(e) => {
                        shared.note(&st);
                        return Err(e);
                    }
                }
            }
            let buffer = st.buffers.get_mut(table).expect("inserted above");
            let grown = buffer.bytes() - before;
            st.buffered += grown;
            st.offsets.seen(rec.commit_topic, rec.commit_partition, rec.commit_offset);
            // The flush size is for all tables together: load the biggest buffer.
            if let Some(t) = s.flush.over_size(st.buffered, st.buffers.iter().map(|(t, b)| (t, b.bytes()))) {
                shared.note(&st);
                let waiting = Instant::now();
                let r = shared.wait_for_table(st, &t).and_then(|st| shared.wait_for_slot(st));
                clock.waited += waiting.elapsed();
                st = r?;
                shared.start_flush(&mut st, &t);
            }
            // Memory budget: what waits in buffers plus what loads carry stays within twice the
            // flush size (plus the one row that crossed it). Past that, `put` waits for loads:
            // Connect's backpressure. Checked after every row, so that with several tables the
            // loads in flight cannot pile up on top of a buffer filling to the flush size.
            if (st.buffered + st.inflight_bytes) as u64 > budget && !st.inflight.is_empty() {
                shared.note(&st);
                let waiting = Instant::now();
                let r = shared.wait_for_budget(st);
                clock.waited += waiting.elapsed();
                st = r?;
            }
        }
        shared.note(&st);
        Ok(())
    }

    /// Records a failure met off the task thread: every later call answers it. Never as
    /// `RETRIABLE`: Connect would call `put` again and again, each answered with the same error,
    /// leaving the task RUNNING without progress.
    fn poison(&self, e: Error) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.failure.is_none() && !st.closed {
            st.failure = Some(fatal(e));
        }
        drop(st);
        self.load_done.notify_all();
    }

    /// Waits on `load_done` while `busy` holds, at most `max_load_wait`; fails as soon as the sink
    /// is poisoned (a stall or another table's failure while a load still runs), and with
    /// `timed_out`'s message when the wait is over. The one wait of `put`: for a table, a slot,
    /// the memory budget.
    fn wait_while<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        busy: impl Fn(&State) -> bool,
        timed_out: impl FnOnce(&State) -> String,
    ) -> Result<MutexGuard<'a, State>> {
        let deadline = Instant::now() + self.settings.max_load_wait;
        while busy(&st) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::retriable(timed_out(&st)));
            }
            st = self.load_done.wait_timeout(st, left).unwrap_or_else(|p| p.into_inner()).0;
            check(&st)?;
        }
        check(&st)?;
        Ok(st)
    }

    /// Waits until `table` has no load in flight.
    fn wait_for_table<'a>(&'a self, st: MutexGuard<'a, State>, table: &str) -> Result<MutexGuard<'a, State>> {
        let secs = self.settings.max_load_wait.as_secs();
        self.wait_while(st, |st| st.inflight.contains_key(table), |_| format!("the load into {} is still running after {} s", table, secs))
    }

    /// Waits until fewer than `sink.inflight.maxloads` loads (or multi-table transactions) run,
    /// so a task never holds more running transactions than that however many tables it feeds.
    fn wait_for_slot<'a>(&'a self, st: MutexGuard<'a, State>) -> Result<MutexGuard<'a, State>> {
        let (max, secs) = (self.settings.cfg.max_inflight_loads, self.settings.max_load_wait.as_secs());
        self.wait_while(st, |st| st.jobs.len() >= max, |st| format!("no load of the {} in flight finished within {} s", st.jobs.len(), secs))
    }

    /// Waits while buffered plus in-flight bytes exceed the budget (`budget_bytes`) and a load
    /// that would free some is in flight.
    fn wait_for_budget<'a>(&'a self, st: MutexGuard<'a, State>) -> Result<MutexGuard<'a, State>> {
        let budget = budget_bytes(&self.settings.cfg);
        self.wait_while(
            st,
            |st| (st.buffered + st.inflight_bytes) as u64 > budget && !st.inflight.is_empty(),
            |_| "loads in flight did not finish in time to free memory".to_string(),
        )
    }

    /// Flushes `table`, which has no load in flight, and a slot is free: alone, or with
    /// `sink.transaction.multi-table.enabled` together with every idle table of its database.
    fn start_flush(self: &Arc<Shared>, st: &mut State, table: &str) {
        if !self.settings.cfg.multi_table {
            return self.start_load(st, table);
        }
        let s = &self.settings;
        let db = s.intake.target(table).database;
        let mut tables: Vec<String> = st
            .buffers
            .iter()
            .filter(|(t, b)| !b.is_empty() && !st.inflight.contains_key(*t) && s.intake.target(t).database == db)
            .map(|(t, _)| t.clone())
            .collect();
        tables.sort();
        let taken: Vec<Taken> = tables.iter().filter_map(|t| self.take(st, t)).collect();
        match taken.len() {
            0 => self.note(st),
            1 => self.spawn_load(st, taken),
            n => {
                let names: Vec<&str> = taken.iter().map(|t| t.request.target.table.as_str()).collect();
                let what = format!("the multi-table transaction into {} ({} tables: {})", db, n, names.join(", "));
                let labels: Vec<String> = taken.iter().map(|t| t.request.label.clone()).collect();
                let label = s.labels.multi(&db, &labels, 0);
                let rows = taken.iter().map(|t| t.request.rows).sum();
                s.log.debug(|| format!("committing {} tables of {} in one transaction {}", n, db, label));
                let watch = s.watchdog.start(&db, what, &label, rows);
                self.spawn(st, taken, watch, Some(db));
            }
        }
    }

    /// Hands `table`'s buffer to a load. The caller made sure no load of the table is running.
    fn start_load(self: &Arc<Shared>, st: &mut State, table: &str) {
        debug_assert!(!st.inflight.contains_key(table));
        match self.take(st, table) {
            Some(t) => self.spawn_load(st, vec![t]),
            None => self.note(st),
        }
    }

    /// Empties `table`'s buffer into a load request; `None` when there is nothing to load
    /// (an empty buffer, or only tombstones, whose offsets are done).
    fn take(&self, st: &mut State, table: &str) -> Option<Taken> {
        let buffer = st.buffers.get_mut(table)?;
        if buffer.is_empty() {
            return None;
        }
        let size = buffer.bytes();
        let since = buffer.since();
        let chunk = buffer.take();
        st.buffered -= size.min(st.buffered);
        if chunk.rows == 0 {
            return None;
        }
        let s = &self.settings;
        let target = s.intake.target(table);
        let label = s.labels.label(&target.database, &target.table, &chunk.ranges, chunk.fingerprint);
        s.log.debug(|| format!("loading {} rows ({} bytes) into {} as {}", chunk.rows, chunk.body.len(), table, label));
        let request = LoadRequest { target, label, body: chunk.body, rows: chunk.rows, headers: s.headers.clone() };
        Some(Taken { table: table.to_string(), request, index: chunk.index, first: chunk.first, since })
    }

    /// One table's load, watched as such.
    fn spawn_load(self: &Arc<Shared>, st: &mut State, taken: Vec<Taken>) {
        let t = &taken[0];
        let watch = self.settings.watchdog.start(&t.table, format!("the load into {}", t.table), &t.request.label, t.request.rows);
        self.spawn(st, taken, watch, None);
    }

    /// Runs `taken` as one job on the runtime: a Stream Load per table (`multi` `None`, one
    /// table in practice), or one multi-table transaction into database `multi`.
    fn spawn(self: &Arc<Shared>, st: &mut State, taken: Vec<Taken>, watch: Watch, multi: Option<String>) {
        let job = st.next_job;
        st.next_job += 1;
        let bytes: usize = taken.iter().map(|t| t.request.body.len()).sum();
        st.inflight_bytes += bytes;
        let mut tables = Vec::with_capacity(taken.len());
        let mut loads = Vec::with_capacity(taken.len());
        for t in taken {
            st.inflight.insert(t.table.clone(), InFlight { first: t.first, since: t.since });
            tables.push(t.table);
            loads.push((t.request, t.index));
        }
        let me = Arc::downgrade(self);
        let task = self.io.spawn(async move {
            let watch = watch; // watched until this task ends, however it ends
            let Some(shared) = me.upgrade() else { return };
            let mut done = LoadDone { shared: &shared, job, tables: &tables, bytes, outcome: None };
            let stage: &Stage = watch.stage();
            done.outcome = Some(match multi {
                None => shared.load_each(stage, &loads).await,
                Some(db) => shared.load_multi(stage, &db, &loads).await,
            });
        });
        st.jobs.insert(job, task.abort_handle());
        self.note(st);
    }

    /// Loads each table on its own (the single-table path): retries, and when StarRocks refuses
    /// rows that are tolerated, the load in parts to isolate them.
    async fn load_each(&self, stage: &Stage, loads: &[(LoadRequest, Option<RowIndex>)]) -> Result<Vec<Rejected>> {
        let s = &self.settings;
        let loader = Loader { client: &s.client, policy: &s.policy, log: &s.log, metrics: &self.metrics, stage };
        let mut rejected = Vec::new();
        for (request, index) in loads {
            let table = &request.target.table;
            match (load_with_retry(&loader, request).await, index) {
                (Ok(report), _) => {
                    if report.deduplicated {
                        s.log.info(|| format!("Stream Load {} into {} was already in StarRocks", report.label, table));
                    }
                }
                (Err(e), Some(index)) if e.kind == ErrorKind::Data => {
                    s.intake.table_refused(&request.target);
                    s.log.warn(|| format!("{}; loading the rows in parts to find the rejected ones", e.message));
                    rejected.extend(isolate_rejected(&loader, request, &s.intake.framing, index).await?);
                }
                (Err(e), _) => return Err(e),
            }
        }
        Ok(rejected)
    }

    /// Commits `loads` (tables of `db`) in one multi-table transaction; when StarRocks refuses
    /// it for good (rows it filters, say), loads them one by one instead (`load_each`), which
    /// isolates refused rows or fails with StarRocks' message as without multi-table mode.
    async fn load_multi(&self, stage: &Stage, db: &str, loads: &[(LoadRequest, Option<RowIndex>)]) -> Result<Vec<Rejected>> {
        let s = &self.settings;
        let api = HttpTxnApi { client: s.client.clone(), sql: None, db: db.to_string() };
        let api = Watched { api: &api, stage };
        let mut parts = Vec::with_capacity(loads.len());
        for (r, _) in loads {
            // compressed once, resent by each attempt
            parts.push(LoadRequest { body: s.client.compress(r.body.clone())?, ..r.clone() });
        }
        let labels: Vec<String> = loads.iter().map(|(r, _)| r.label.clone()).collect();
        let timeout = txn_timeout::multi_table(s.cfg.load_timeout, loads.len());
        let started = Instant::now();
        let r = multi_table::commit(&api, &s.policy, timeout, |a| s.labels.multi(db, &labels, a), &parts, &self.metrics).await;
        let took = started.elapsed();
        Metrics::add(&self.metrics.http_ns, took);
        match r? {
            Outcome::Committed { label, attempts, deduplicated } => {
                stage.progressed();
                self.metrics.multi_table_transactions.fetch_add(1, Relaxed);
                for (r, _) in loads {
                    self.metrics.load_succeeded(r.rows, 0, r.body.len() as u64, took);
                }
                if deduplicated {
                    s.log.info(|| format!("multi-table transaction {} into {} was already in StarRocks", label, db));
                }
                s.log.debug(|| format!("multi-table transaction {}: {} tables of {} committed after {} attempts", label, loads.len(), db, attempts));
                Ok(Vec::new())
            }
            Outcome::Refused(m) => {
                s.log.warn(|| format!("StarRocks refused the multi-table transaction into {} ({}); loading its {} tables one by one", db, m, loads.len()));
                self.load_each(stage, loads).await
            }
        }
    }

    /// Publishes the memory gauges and the oldest pending record's arrival: called wherever
    /// buffered plus in-flight bytes can be at a high point (before `put` waits, at the end of
    /// `put`) or fall (a load starts or ends, close). Between those points the total only grows
    /// by rows `put` appends under the lock, so `buffer-bytes-peak` is the exact high-water mark.
    fn note(&self, st: &State) {
        self.metrics.set_buffer_bytes((st.buffered + st.inflight_bytes) as u64);
        let buffered = st.buffers.values().filter_map(|b| b.since());
        let oldest = buffered.chain(st.inflight.values().filter_map(|f| f.since)).min();
        self.metrics.set_oldest(oldest);
    }
}

/// The memory bound `put` enforces: twice `bufferflush.maxbytes` of row bytes in buffers and
/// loads in flight together. `put` waits once the total is past it, after the row that crossed
/// it, so the true high-water mark is this plus the largest single row (plus a framing byte per
/// table); a row larger than the whole budget is still taken, on its own.
pub(crate) fn budget_bytes(cfg: &Config) -> u64 {
    cfg.flush_max_bytes.saturating_mul(2)
}

/// Adds a `put`'s time to the metrics however it ends: the waits to `backpressure-wait-ns`, the
/// rest (decoding, serializing rows) to `decode-serialize-ns`.
struct PutClock<'a> {
    metrics: &'a Metrics,
    started: Instant,
    waited: Duration,
}

impl Drop for PutClock<'_> {
    fn drop(&mut self) {
        let total = self.started.elapsed();
        Metrics::add(&self.metrics.backpressure_wait_ns, self.waited);
        Metrics::add(&self.metrics.decode_serialize_ns, total.saturating_sub(self.waited));
    }
}

/// Records a load's end in the shared state, also when the load task panics or is aborted
/// (then `outcome` is `None`): a waiter must never wait for a load that is gone.
struct LoadDone<'a> {
    shared: &'a Arc<Shared>,
    job: u64,
    tables: &'a [String],
    bytes: usize,
    outcome: Option<Result<Vec<Rejected>>>,
}

impl Drop for LoadDone<'_> {
    fn drop(&mut self) {
        let mut st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        for t in self.tables {
            st.inflight.remove(t);
        }
        st.jobs.remove(&self.job);
        st.inflight_bytes -= self.bytes.min(st.inflight_bytes);
        self.shared.note(&st);
        let err = match self.outcome.take() {
            Some(Ok(rejected)) => {
                self.shared.metrics.rejected_records.fetch_add(rejected.len() as u64, Relaxed);
                st.rejected.extend(rejected);
                None
            }
            Some(Err(e)) => Some(e),
            None if st.closed => None,
            None => Some(Error::internal(format!("the load into {} ended without a result", self.tables.join(", ")))),
        };
        if let Some(e) = err {
            self.shared.settings.log.error(|| e.message.clone());
            if st.failure.is_none() {
                st.failure = Some(e);
            }
        }
        drop(st);
        self.shared.load_done.notify_all();
    }
}

/// Flushes buffers whose oldest record is older than the interval, on the runtime.
fn spawn_timer(io: &tokio::runtime::Handle, shared: Weak<Shared>, interval: Duration) {
    let tick = (interval / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    io.spawn(async move {
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(shared) = shared.upgrade() else { return };
            let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            if st.closed {
                return;
            }
            if st.failure.is_some() {
                continue;
            }
            let stalled = shared.settings.watchdog.check(|table| st.buffers.get(table).map_or(0, |b| b.rows()));
            if let Some(e) = stalled {
                shared.settings.log.error(|| e.message.clone());
                st.failure = Some(e);
                drop(st);
                shared.load_done.notify_all();
                continue;
            }
            let idle = st.buffers.iter().filter(|(t, _)| !st.inflight.contains_key(*t));
            let due = shared.settings.flush.due(idle.map(|(t, b)| (t, b.since())));
            // the rest wait for a slot: the next tick after a load ends
            for t in due {
                if st.jobs.len() >= shared.settings.cfg.max_inflight_loads {
                    break;
                }
                if st.inflight.contains_key(&t) {
                    continue; // taken by a multi-table flush of its database just now
                }
                shared.start_flush(&mut st, &t);
            }
        }
    });
}

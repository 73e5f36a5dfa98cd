//! Multi-table transactions (StarRocks 4.0, `transaction_type: multi`) as a synchronous,
//! socket-free core: the HTTP layer and a Rust simulation call the same methods, so what a
//! simulation proves holds for the wire too.
//!
//! Semantics (from the StarRocks 4.0 source, see docs/emulator.md): `begin` opens a transaction
//! on a database; each `load` names its table and may be repeated; `commit` is one-phase and
//! atomic over all tables; any failed load aborts the whole transaction; an FE restart aborts
//! the running ones; without `timeout` a transaction lives 20 s.
//!
//! Nothing here waits on wall time: every call first settles what the injected clock says is
//! due (timeouts, publishes), so a `ManualClock` drives everything deterministically.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use hyper::header::{HeaderName, HeaderValue};
use hyper::HeaderMap;
use starrocks_emulator_store::model::{LoadBatch, LoadRow, LookupError, QueryResult, Store};

use crate::clock::Clock;
use crate::labels::{label_error, running_limit_message, valid_label, BeginError, Labels};
use crate::load::params::{Format, LoadParams};
use crate::load::plan::Plan;
use crate::load::{self, LoadOutput, EMPTY_LOAD};
use crate::SqlExecutor;

pub use crate::labels::TxnState;

/// StarRocks' FE exception class, as FE transaction errors carry it.
pub const FE_EXCEPTION: &str = "class com.starrocks.common.StarRocksException";
/// Abort reason of `fe_restart` (the wording is the emulator's: the reference is silent).
pub const FE_RESTARTED: &str = "FE restarted";
pub const USER_ABORTED: &str = "transaction is aborted by user.";

/// Headers that must be identical on every `load` of one table within one transaction.
pub const DATA_HEADERS: &[&str] = &[
    "format", "columns", "column_separator", "row_delimiter", "jsonpaths", "json_root", "strip_outer_array", "where",
    "partitions", "max_filter_ratio", "strict_mode", "partial_update", "partial_update_mode", "merge_condition",
    "enclose", "escape", "skip_header", "trim_space", "compression", "content-encoding", "timezone",
];

pub fn signature(h: &HeaderMap) -> Vec<Option<String>> {
    DATA_HEADERS.iter().map(|n| h.get(*n).and_then(|v| v.to_str().ok()).map(str::to_string)).collect()
}

#[derive(Debug, Clone)]
pub struct CoreOptions {
    pub label_keep_max_second: f64,
    pub label_keep_max_num: usize,
    /// Seconds between COMMITTED and VISIBLE (the data is applied at VISIBLE).
    pub publish_delay_secs: f64,
    /// Timeout of a multi-table transaction begun without `timeout` (StarRocks 4.0: 20 s).
    pub multi_default_timeout_secs: u64,
}

impl Default for CoreOptions {
    fn default() -> Self {
        CoreOptions { label_keep_max_second: 259_200.0, label_keep_max_num: 1000, publish_delay_secs: 0.0, multi_default_timeout_secs: 20 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub loaded_rows: u64,
    pub filtered_rows: u64,
    /// Added beyond the agreed API: the transaction, all parsed rows, rows dropped by `where`,
    /// and the error-log lines of the filtered rows (`Error: <msg>. Row: <row>`).
    pub txn_id: i64,
    pub total_rows: u64,
    pub unselected_rows: u64,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitReport {
    pub txn_id: i64,
    /// `Committed` (publish pending) or `Visible`.
    pub state: TxnState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnError {
    /// The label belongs to a live transaction (RUNNING = PREPARE/PREPARED, else FINISHED).
    LabelExists { running: bool },
    /// No transaction with this label is known (never used, or forgotten).
    NotFound,
    /// The transaction is aborted, or this call aborted it; the abort reason.
    Aborted(String),
    /// The request was refused and changed nothing (the transaction, if any, is as before).
    Failed(String),
}

impl fmt::Display for TxnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnError::LabelExists { running } => write!(f, "label already exists ({})", if *running { "RUNNING" } else { "FINISHED" }),
            TxnError::NotFound => write!(f, "transaction not found"),
            TxnError::Aborted(r) => write!(f, "transaction aborted: {r}"),
            TxnError::Failed(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for TxnError {}

/// Rows of one table collected by the loads of one transaction.
struct TableLoad {
    table: String,
    signature: Vec<Option<String>>,
    params: LoadParams,
    plan: Plan,
    rows: Vec<LoadRow>,
}

struct Running {
    txn_id: i64,
    begun_at: f64,
    timeout: u64,
    /// In first-load order.
    tables: Vec<TableLoad>,
}

/// A committed transaction waiting for its publish time.
struct Pending {
    db: String,
    txn_id: i64,
    visible_at: f64,
    batches: Vec<(String, LoadBatch)>,
}

pub struct TxnCore {
    store: Arc<dyn Store>,
    sql: Option<SqlExecutor>,
    labels: Arc<Labels>,
    clock: Arc<dyn Clock>,
    opts: Mutex<CoreOptions>,
    running: Mutex<HashMap<(String, String), Running>>,
    /// Commit order; published strictly front to back.
    pending: Mutex<VecDeque<Pending>>,
    /// Held while publishing so two callers cannot publish out of order.
    publishing: Mutex<()>,
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("invalid header name: {k}"))?;
        let value = HeaderValue::from_str(v).map_err(|_| format!("invalid value of header {k}"))?;
        h.append(name, value);
    }
    Ok(h)
}

/// Parse one body with a plan and apply the filter ratio: the rows, or why the load fails.
fn parse_rows(params: &LoadParams, plan: &Plan, body: &[u8]) -> Result<LoadOutput, String> {
    let data = load::decompress(params.compression, body.to_vec())?;
    let mut out = LoadOutput::default();
    load::parse_body(plan, params, &data, &mut out)?;
    if out.over_ratio(params.max_filter_ratio) {
        return Err("too many filtered rows".to_string());
    }
    Ok(out)
}

fn report(txn_id: i64, out: &LoadOutput) -> LoadReport {
    LoadReport {
        loaded_rows: out.rows.len() as u64,
        filtered_rows: out.filtered,
        txn_id,
        total_rows: out.total,
        unselected_rows: out.unselected,
        errors: out.errors.clone(),
    }
}

fn lookup_message(db: &str, table: &str, e: LookupError) -> String {
    match e {
        LookupError::UnknownDatabase => format!("unknown database, database={db}"),
        LookupError::UnknownTable => format!("unknown table \"{db}.{table}\""),
    }
}

impl TxnCore {
    /// A core with its own in-memory catalog (the query port's SQL engine; user root, empty
    /// password) and label store.
    pub fn in_memory(opts: CoreOptions, clock: Arc<dyn Clock>) -> TxnCore {
        use starrocks_emulator_store::catalog::Catalog;
        use starrocks_emulator_store::sql::Session;
        let catalog = Catalog::open("", None).expect("an in-memory catalog always opens");
        catalog.set_version(crate::DEFAULT_STARROCKS_VERSION);
        let exec = catalog.clone();
        let sql: SqlExecutor = Arc::new(move |stmt: &str| exec.execute(&mut Session::root(), stmt).map_err(|e| e.to_string()));
        let labels = Labels::open_with_clock(opts.label_keep_max_second, opts.label_keep_max_num, None, clock.clone()).expect("in-memory labels");
        TxnCore::new(catalog, Some(sql), Arc::new(labels), opts, clock)
    }

    /// A core over an existing store and label store (the server shares both with the HTTP
    /// single-table paths). `labels` should read the same clock.
    pub fn new(store: Arc<dyn Store>, sql: Option<SqlExecutor>, labels: Arc<Labels>, opts: CoreOptions, clock: Arc<dyn Clock>) -> TxnCore {
        TxnCore {
            store,
            sql,
            labels,
            clock,
            opts: Mutex::new(opts),
            running: Mutex::default(),
            pending: Mutex::default(),
            publishing: Mutex::new(()),
        }
    }

    pub fn labels(&self) -> &Arc<Labels> {
        &self.labels
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn options(&self) -> CoreOptions {
        self.opts.lock().unwrap().clone()
    }

    /// Run one SQL statement as root (DDL and SELECT as the query port supports them), after
    /// publishing what is due.
    pub fn execute(&self, sql: &str) -> Result<QueryResult, String> {
        self.tick();
        match &self.sql {
            Some(f) => f(sql),
            None => Err("this core has no SQL engine".to_string()),
        }
    }

    /// Settle what the clock says is due: abort timed-out transactions, publish commits whose
    /// time has come. Every public call starts with this; the server also calls it every second.
    pub fn tick(&self) {
        self.expire();
        self.publish_due();
    }

    fn expire(&self) {
        let now = self.clock.now();
        let expired: Vec<(String, i64, u64)> = {
            let mut g = self.running.lock().unwrap();
            let keys: Vec<(String, String)> = g.iter().filter(|(_, r)| now - r.begun_at >= r.timeout as f64).map(|(k, _)| k.clone()).collect();
            keys.into_iter().filter_map(|k| g.remove(&k).map(|r| (k.0, r.txn_id, r.timeout))).collect()
        };
        for (db, id, timeout) in expired {
            tracing::info!("multi-table txn {id} in {db}: aborted by timeout {timeout} s");
            self.labels.set_state(&db, id, TxnState::Aborted, Some(format!("transaction is aborted by timeout {timeout} seconds.")), None);
        }
    }

    /// Apply committed transactions whose publish time has passed, in commit order. A later
    /// commit never overtakes an earlier one, even if its own time has come.
    pub fn publish_due(&self) {
        let _p = self.publishing.lock().unwrap();
        self.publish_locked(None);
    }

    /// Apply a single-table commit made outside the core (HTTP stream load, BE transaction
    /// commit, FE commit of a PREPARED transaction) without overtaking queued commits that touch
    /// the same table: those are published first, as StarRocks' in-order publish of a table's
    /// versions would have made this load wait for them.
    pub fn apply_ordered(&self, db: &str, table: &str, batch: LoadBatch) -> Result<u64, String> {
        if self.pending.lock().unwrap().is_empty() {
            return self.store.apply(db, table, batch);
        }
        let _p = self.publishing.lock().unwrap();
        self.publish_locked(Some((db, table)));
        self.store.apply(db, table, batch)
    }

    /// Publish what is due; with `through`, also everything queued up to the last commit that
    /// touches that table. The caller holds `publishing`.
    fn publish_locked(&self, through: Option<(&str, &str)>) {
        let now = self.clock.now();
        let mut forced = match through {
            None => 0,
            Some((db, table)) => {
                let q = self.pending.lock().unwrap();
                q.iter().rposition(|p| p.db == db && p.batches.iter().any(|(t, _)| t == table)).map(|i| i + 1).unwrap_or(0)
            }
        };
        loop {
            let next = {
                let mut q = self.pending.lock().unwrap();
                match q.front() {
                    Some(p) if forced > 0 || p.visible_at <= now => q.pop_front(),
                    _ => None,
                }
            };
            forced = forced.saturating_sub(1);
            let Some(p) = next else { break };
            let applied = if p.batches.is_empty() { Ok(0) } else { self.store.apply_many(&p.db, p.batches) };
            match applied {
                Ok(_) => self.labels.set_state(&p.db, p.txn_id, TxnState::Visible, None, None),
                Err(e) => {
                    // Only a table dropped or changed after the load can get here.
                    tracing::error!("txn {} in {}: publish failed: {e}", p.txn_id, p.db);
                    self.labels.set_state(&p.db, p.txn_id, TxnState::Aborted, Some(format!("publish failed: {e}")), None)
                }
            };
        }
    }

    /// Whether `label` in `db` names a multi-table transaction (running or remembered).
    pub fn is_multi(&self, db: &str, label: &str) -> bool {
        self.running.lock().unwrap().contains_key(&(db.to_string(), label.to_string())) || self.labels.lookup(db, label).is_some_and(|t| t.multi)
    }

    /// Whether `label` in `db` is a running (PREPARE) multi-table transaction.
    pub fn is_running_multi(&self, db: &str, label: &str) -> bool {
        self.tick();
        self.running.lock().unwrap().contains_key(&(db.to_string(), label.to_string()))
    }

    pub fn begin_multi(&self, db: &str, label: &str, timeout_secs: Option<u64>) -> Result<i64, TxnError> {
        self.tick();
        if !valid_label(label) {
            return Err(TxnError::Failed(label_error(label)));
        }
        if self.store.database_id(db).is_none() {
            return Err(TxnError::Failed(format!("unknown database, database={db}")));
        }
        let timeout = timeout_secs.unwrap_or(self.opts.lock().unwrap().multi_default_timeout_secs);
        let mut g = self.running.lock().unwrap();
        let txn_id = self.labels.begin_with(db, "", label, true).map_err(|e| self.begin_error(db, e))?;
        g.insert((db.to_string(), label.to_string()), Running { txn_id, begun_at: self.clock.now(), timeout, tables: Vec::new() });
        Ok(txn_id)
    }

    fn begin_error(&self, db: &str, e: BeginError) -> TxnError {
        match e {
            BeginError::LabelExists { running } => TxnError::LabelExists { running },
            BeginError::TooManyRunning { running, limit } => {
                TxnError::Failed(running_limit_message(self.store.database_id(db).unwrap_or(0), running, limit))
            }
        }
    }

    /// Why a call on a transaction that is not running cannot proceed.
    fn not_running(&self, db: &str, label: &str, what: &str) -> TxnError {
        match self.labels.lookup(db, label) {
            None => TxnError::NotFound,
            Some(t) => match t.state() {
                TxnState::Aborted => TxnError::Aborted(t.reason.unwrap_or_default()),
                TxnState::Committed | TxnState::Visible => TxnError::Failed(format!("{FE_EXCEPTION}: transaction {} with label {label} is already committed, {what}", t.id)),
                _ if !t.multi => TxnError::Failed(format!("{FE_EXCEPTION}: label {label} belongs to a single-table transaction {}", t.id)),
                s => TxnError::Failed(format!("{FE_EXCEPTION}: transaction {} is {}", t.id, s.name())),
            },
        }
    }

    /// Abort a running transaction (if it is still the one with `txn_id`) with `reason`.
    fn abort(&self, db: &str, label: &str, txn_id: i64, reason: String) -> TxnError {
        let mut g = self.running.lock().unwrap();
        let key = (db.to_string(), label.to_string());
        if g.get(&key).is_some_and(|r| r.txn_id == txn_id) {
            g.remove(&key);
            drop(g);
            self.labels.set_state(db, txn_id, TxnState::Aborted, Some(reason.clone()), None);
        }
        TxnError::Aborted(reason)
    }

    /// Abort a running multi-table transaction with `reason` (for failures the HTTP layer finds
    /// before the core sees the request, such as an oversize body). False if it was not running.
    pub fn abort_running(&self, db: &str, label: &str, reason: String) -> bool {
        let id = self.running.lock().unwrap().get(&(db.to_string(), label.to_string())).map(|r| r.txn_id);
        match id {
            Some(id) => {
                self.abort(db, label, id, reason);
                true
            }
            None => false,
        }
    }

    /// Whether a `load` of `table` could go ahead, without changing anything: the refusal a
    /// load would get before its body matters (not running, no table).
    pub fn check_load(&self, db: &str, label: &str, table: &str) -> Result<(), TxnError> {
        self.tick();
        if !self.running.lock().unwrap().contains_key(&(db.to_string(), label.to_string())) {
            return Err(self.not_running(db, label, "it takes no more loads"));
        }
        if table.is_empty() {
            return Err(TxnError::Failed("No table selected.".into()));
        }
        Ok(())
    }

    /// Append the rows of `body` for `table`. Any failure aborts the whole transaction.
    pub fn load(&self, db: &str, label: &str, table: &str, headers: &[(String, String)], body: &[u8]) -> Result<LoadReport, TxnError> {
        self.tick();
        let key = (db.to_string(), label.to_string());
        // Phase 1, under the lock: the plan (made by the first load of this table).
        let planned = {
            let mut g = self.running.lock().unwrap();
            let Some(r) = g.get_mut(&key) else { return Err(self.not_running(db, label, "it takes no more loads")) };
            let txn_id = r.txn_id;
            if table.is_empty() {
                return Err(TxnError::Failed("No table selected.".into()));
            }
            let h = match header_map(headers) {
                Ok(h) => h,
                Err(m) => {
                    drop(g);
                    return Err(self.abort(db, label, txn_id, m));
                }
            };
            let sig = signature(&h);
            match r.tables.iter().find(|t| t.table == table) {
                Some(t) if t.signature != sig => Err((txn_id, "load request not equal last.".to_string())),
                Some(t) => Ok((txn_id, t.params.clone(), t.plan.clone())),
                None => {
                    let made = LoadParams::from_headers(&h, true).and_then(|p| {
                        if h.contains_key("transaction_type") {
                            return Err("Multi-statement transaction requests can only be sent to FE nodes, not BE nodes".into());
                        }
                        let schema = self.store.table(db, table).map_err(|e| lookup_message(db, table, e))?;
                        Plan::new(schema, &p, p.format == Format::Json).map(|plan| (p, plan))
                    });
                    match made {
                        Ok((p, plan)) => {
                            r.tables.push(TableLoad { table: table.to_string(), signature: sig, params: p.clone(), plan: plan.clone(), rows: Vec::new() });
                            Ok((txn_id, p, plan))
                        }
                        Err(m) => Err((txn_id, m)),
                    }
                }
            }
        };
        let (txn_id, params, plan) = match planned {
            Ok(x) => x,
            Err((txn_id, m)) => return Err(self.abort(db, label, txn_id, m)),
        };
        // Phase 2, without the lock: parse (CPU-bound for big bodies).
        let out = match parse_rows(&params, &plan, body) {
            Ok(o) => o,
            Err(m) => return Err(self.abort(db, label, txn_id, m)),
        };
        let rep = report(txn_id, &out);
        // Phase 3: append, if the transaction is still the same and still running.
        let mut g = self.running.lock().unwrap();
        match g.get_mut(&key).filter(|r| r.txn_id == txn_id) {
            Some(r) => {
                let t = r.tables.iter_mut().find(|t| t.table == table).expect("registered in phase 1");
                t.rows.extend(out.rows);
                Ok(rep)
            }
            None => {
                drop(g);
                Err(self.not_running(db, label, "it takes no more loads"))
            }
        }
    }

    /// One-phase commit of everything loaded, atomically over all tables.
    pub fn commit(&self, db: &str, label: &str) -> Result<CommitReport, TxnError> {
        self.tick();
        let taken = self.running.lock().unwrap().remove(&(db.to_string(), label.to_string()));
        let Some(r) = taken else {
            return match self.labels.lookup(db, label) {
                None => Err(TxnError::NotFound),
                Some(t) => match t.state() {
                    s @ (TxnState::Committed | TxnState::Visible) => Ok(CommitReport { txn_id: t.id, state: s }),
                    TxnState::Aborted => Err(TxnError::Aborted(t.reason.unwrap_or_default())),
                    _ => Err(self.not_running(db, label, "")),
                },
            };
        };
        let batches = r
            .tables
            .into_iter()
            .filter(|t| !t.rows.is_empty())
            .map(|t| {
                let batch = LoadBatch { rows: t.rows, partial_columns: t.plan.partial_columns.clone(), merge_condition: t.plan.merge_condition };
                (t.table, batch)
            })
            .collect();
        Ok(self.commit_batches(db, r.txn_id, batches))
    }

    /// COMMITTED now, VISIBLE (data applied) after the publish delay, behind earlier commits.
    fn commit_batches(&self, db: &str, txn_id: i64, batches: Vec<(String, LoadBatch)>) -> CommitReport {
        let delay = self.opts.lock().unwrap().publish_delay_secs;
        self.labels.set_state(db, txn_id, TxnState::Committed, None, Some(f64::INFINITY));
        let visible_at = self.clock.now() + delay;
        self.pending.lock().unwrap().push_back(Pending { db: db.to_string(), txn_id, visible_at, batches });
        self.publish_due();
        let published = self.pending.lock().unwrap().iter().all(|p| p.txn_id != txn_id);
        CommitReport { txn_id, state: if published { TxnState::Visible } else { TxnState::Committed } }
    }

    pub fn rollback(&self, db: &str, label: &str) -> Result<(), TxnError> {
        self.tick();
        let taken = self.running.lock().unwrap().remove(&(db.to_string(), label.to_string()));
        if let Some(r) = taken {
            self.labels.set_state(db, r.txn_id, TxnState::Aborted, Some(USER_ABORTED.into()), None);
            return Ok(());
        }
        match self.labels.lookup(db, label) {
            None => Err(TxnError::NotFound),
            Some(t) => match t.state() {
                TxnState::Aborted => Ok(()),
                TxnState::Committed | TxnState::Visible => Err(TxnError::Failed(format!("{FE_EXCEPTION}: cannot abort committed transaction {}, label {label} ", t.id))),
                _ => Err(self.not_running(db, label, "")),
            },
        }
    }

    /// A one-shot Stream Load (its own transaction, label rules as usual), committed through the
    /// same publish queue as multi-table commits so commit order holds.
    pub fn stream_load(&self, db: &str, table: &str, label: &str, headers: &[(String, String)], body: &[u8]) -> Result<LoadReport, TxnError> {
        self.tick();
        let label = if label.is_empty() { uuid::Uuid::new_v4().to_string() } else { label.to_string() };
        if !valid_label(&label) {
            return Err(TxnError::Failed(label_error(&label)));
        }
        let h = header_map(headers).map_err(TxnError::Failed)?;
        if h.contains_key("transaction_type") {
            return Err(TxnError::Failed("Multi-statement transaction requests can only be sent to FE nodes, not BE nodes".into()));
        }
        let schema = self.store.table(db, table).map_err(|e| TxnError::Failed(lookup_message(db, table, e)))?;
        let txn_id = self.labels.begin(db, table, &label).map_err(|e| self.begin_error(db, e))?;
        let abort = |m: String| {
            self.labels.set_state(db, txn_id, TxnState::Aborted, Some(m.clone()), None);
            TxnError::Aborted(m)
        };
        let (params, plan) = LoadParams::from_headers(&h, false).and_then(|p| Plan::new(schema, &p, p.format == Format::Json).map(|plan| (p, plan))).map_err(abort)?;
        let out = parse_rows(&params, &plan, body).map_err(abort)?;
        if out.rows.is_empty() {
            return Err(abort(EMPTY_LOAD.to_string()));
        }
        let rep = report(txn_id, &out);
        self.commit_batches(db, txn_id, vec![(table.to_string(), out.into_batch(&plan))]);
        Ok(rep)
    }

    /// `get_load_state`: the state name (PREPARE|PREPARED|COMMITTED|VISIBLE|ABORTED|UNKNOWN) and,
    /// for ABORTED, the reason.
    pub fn load_state(&self, db: &str, label: &str) -> (String, Option<String>) {
        self.tick();
        match self.labels.lookup(db, label) {
            None => ("UNKNOWN".to_string(), None),
            Some(t) => {
                let s = t.state();
                (s.name().to_string(), if s == TxnState::Aborted { t.reason } else { None })
            }
        }
    }

    /// An FE restart: every running multi-table transaction is aborted; committed ones stay and
    /// still publish.
    pub fn fe_restart(&self) {
        self.tick();
        let drained: Vec<((String, String), Running)> = self.running.lock().unwrap().drain().collect();
        for ((db, _), r) in drained {
            self.labels.set_state(&db, r.txn_id, TxnState::Aborted, Some(FE_RESTARTED.into()), None);
        }
    }

    /// Forget every finished (VISIBLE/ABORTED) label of `db` now.
    pub fn evict_finished(&self, db: &str) {
        self.tick();
        self.labels.evict_finished(db);
    }

    pub fn set_retention(&self, keep_secs: f64, keep_num: usize) {
        {
            let mut o = self.opts.lock().unwrap();
            o.label_keep_max_second = keep_secs;
            o.label_keep_max_num = keep_num;
        }
        self.labels.set_retention(keep_secs, keep_num);
    }
}

#[cfg(test)]
mod tests;

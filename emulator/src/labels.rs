//! Per-database label and transaction store: what the FE's `DatabaseTransactionMgr` keeps.
//! A label is taken while a non-ABORTED transaction with that label is remembered; finished
//! transactions are forgotten after `label_keep_max_second` or when the database holds more than
//! `label_keep_max_num` of them (oldest first), after which the label reads UNKNOWN again.
//! The label format rule lives here too, so the BE's stream load and the multi-table core
//! (`txn_core`) check labels alike without the core depending on the HTTP layer.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use starrocks_emulator_store::model::LoadBatch;

use crate::clock::{self, Clock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnState {
    Prepare,
    Prepared,
    Committed,
    Visible,
    Aborted,
}

impl TxnState {
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Prepare => "PREPARE",
            TxnState::Prepared => "PREPARED",
            TxnState::Committed => "COMMITTED",
            TxnState::Visible => "VISIBLE",
            TxnState::Aborted => "ABORTED",
        }
    }
    pub fn finished(self) -> bool {
        matches!(self, TxnState::Visible | TxnState::Aborted)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxnInfo {
    pub id: i64,
    pub label: String,
    pub table: String,
    state: TxnState,
    pub reason: Option<String>,
    /// Seconds since the epoch when the transaction began / reached a final state.
    pub begun_at: f64,
    pub finished_at: Option<f64>,
    /// A committed transaction whose publish is "slow" (publish_timeout fault) turns VISIBLE at
    /// this time; reads compute the state so no background task is needed.
    pub visible_at: Option<f64>,
    /// A StarRocks 4.0 multi-table transaction (`transaction_type: multi`), run by `TxnCore`.
    #[serde(default)]
    pub multi: bool,
    /// Data of a PREPARED transaction, applied by the FE-side commit. Not persisted.
    #[serde(skip)]
    pub prepared: Option<LoadBatch>,
}

impl TxnInfo {
    /// The state as of the `Labels::lookup` that returned this snapshot (a COMMITTED transaction
    /// past its `visible_at` reads VISIBLE).
    pub fn state(&self) -> TxnState {
        self.state
    }
    fn state_at(&self, t: f64) -> TxnState {
        match (self.state, self.visible_at) {
            (TxnState::Committed, Some(v)) if t >= v => TxnState::Visible,
            (s, _) => s,
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum BeginError {
    /// The label belongs to a live transaction; `running` = PREPARE/PREPARED (ExistingJobStatus
    /// RUNNING) rather than COMMITTED/VISIBLE (FINISHED).
    LabelExists { running: bool },
    /// `max_running_txn_num_per_db` reached: `running` transactions run in the database.
    TooManyRunning { running: usize, limit: usize },
}

/// The FE's refusal when a database has `max_running_txn_num_per_db` transactions running: it
/// names the database by id, not by name.
pub fn running_limit_message(db_id: i64, running: usize, limit: usize) -> String {
    format!("current running txns on db {db_id} is {running}, larger than limit {limit}")
}

/// What a database's transactions did since the emulator started (`GET /api/_emulator/txn_stats`;
/// emulator-only, so benchmarks can report the most transactions that ran at once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TxnStats {
    pub begun: u64,
    pub peak_running: usize,
    pub refused_running_limit: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct Inner {
    next_id: i64,
    dbs: HashMap<String, DbTxns>,
}

#[derive(Default, Serialize, Deserialize)]
struct DbTxns {
    /// label -> id of the newest transaction that used it.
    by_label: HashMap<String, i64>,
    txns: BTreeMap<i64, TxnInfo>,
    #[serde(default)]
    stats: TxnStats,
}

pub struct Labels {
    inner: Mutex<Inner>,
    /// (label_keep_max_second, label_keep_max_num); changeable at run time.
    retention: Mutex<(f64, usize)>,
    /// `max_running_txn_num_per_db`: checked under the same lock that adds a transaction, so
    /// concurrent begins cannot overshoot it.
    max_running: std::sync::atomic::AtomicUsize,
    clock: Arc<dyn Clock>,
    path: Option<PathBuf>,
    /// Serializes snapshot-and-write so an older snapshot never overwrites a newer one.
    write_lock: Mutex<()>,
}

/// `^[-\w]{1,128}$`
pub fn valid_label(l: &str) -> bool {
    !l.is_empty() && l.len() <= 128 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The FE's answer to a label that `valid_label` rejects.
pub fn label_error(l: &str) -> String {
    format!("Label format error. regex: ^[-\\w]{{1,128}}$, label: {l}")
}

/// Wall-clock seconds since the epoch.
pub fn now() -> f64 {
    clock::SystemClock.now()
}

/// TxnIds start here so they look like a real cluster's and never collide with -1/0 sentinels.
const FIRST_TXN_ID: i64 = 1000;

impl Labels {
    /// With `data_dir`, the store is read from and written to `<data_dir>/labels.json`.
    /// Transactions that were still running when the process stopped are ABORTED on load (their
    /// BE context and any PREPARED data lived only in memory).
    pub fn open(keep_secs: f64, keep_num: usize, data_dir: Option<PathBuf>) -> Result<Labels, String> {
        Self::open_with_clock(keep_secs, keep_num, data_dir, clock::system())
    }

    /// `open` with an injected clock (all timing of this store reads it).
    pub fn open_with_clock(keep_secs: f64, keep_num: usize, data_dir: Option<PathBuf>, clock: Arc<dyn Clock>) -> Result<Labels, String> {
        let path = data_dir.map(|d| d.join("labels.json"));
        let mut inner = Inner { next_id: FIRST_TXN_ID, ..Default::default() };
        if let Some(p) = &path {
            match std::fs::read(p) {
                Ok(bytes) => {
                    inner = serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))?;
                    let t = clock.now();
                    for db in inner.dbs.values_mut() {
                        for txn in db.txns.values_mut() {
                            if matches!(txn.state, TxnState::Prepare | TxnState::Prepared) {
                                txn.state = TxnState::Aborted;
                                txn.reason = Some("emulator restarted".into());
                                txn.finished_at = Some(t);
                            }
                            // A multi-table commit waiting for its publish kept its rows in memory.
                            if txn.state == TxnState::Committed && txn.visible_at.is_none() {
                                txn.state = TxnState::Aborted;
                                txn.reason = Some("emulator restarted before the transaction was published".into());
                                txn.finished_at = Some(t);
                            }
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", p.display())),
            }
        }
        Ok(Labels {
            inner: Mutex::new(inner),
            retention: Mutex::new((keep_secs, keep_num)),
            max_running: std::sync::atomic::AtomicUsize::new(usize::MAX),
            clock,
            path,
            write_lock: Mutex::new(()),
        })
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Change `label_keep_max_second` / `label_keep_max_num` at run time.
    pub fn set_retention(&self, keep_secs: f64, keep_num: usize) {
        *self.retention.lock().unwrap() = (keep_secs, keep_num);
    }

    pub fn retention(&self) -> (f64, usize) {
        *self.retention.lock().unwrap()
    }

    /// Set `max_running_txn_num_per_db` (unlimited until set).
    pub fn set_max_running(&self, limit: usize) {
        self.max_running.store(limit, std::sync::atomic::Ordering::Relaxed);
    }

    /// Start the counters of `stats` again (the peak from the transactions running now).
    pub fn reset_stats(&self) {
        for d in self.inner.lock().unwrap().dbs.values_mut() {
            d.stats = TxnStats { peak_running: Self::running_in(d), ..Default::default() };
        }
    }

    /// Per database: transactions begun, the most that ran at once, refusals for the limit.
    pub fn stats(&self) -> BTreeMap<String, TxnStats> {
        self.inner.lock().unwrap().dbs.iter().map(|(db, d)| (db.clone(), d.stats)).collect()
    }

    /// Forget every finished (VISIBLE/ABORTED) transaction of `db` now: an eviction burst, as a
    /// database that passed `label_keep_max_num` would see.
    pub fn evict_finished(&self, db: &str) {
        let mut g = self.inner.lock().unwrap();
        let t = self.clock.now();
        if let Some(d) = g.dbs.get_mut(db) {
            let done: Vec<i64> = d.txns.values().filter(|x| x.state_at(t).finished()).map(|x| x.id).collect();
            for id in done {
                Self::forget(d, id);
            }
        }
        drop(g);
        self.persist();
    }

    /// Begin a transaction (state PREPARE) for `label` in `db`.
    pub fn begin(&self, db: &str, table: &str, label: &str) -> Result<i64, BeginError> {
        self.begin_with(db, table, label, false)
    }

    /// `begin`, marking the transaction as multi-table (`multi`) or not.
    pub fn begin_with(&self, db: &str, table: &str, label: &str, multi: bool) -> Result<i64, BeginError> {
        let mut g = self.inner.lock().unwrap();
        let t = self.clock.now();
        let (keep_secs, keep_num) = self.retention();
        Self::clean(&mut g, db, t, keep_secs, keep_num);
        let id = g.next_id;
        let d = g.dbs.entry(db.to_string()).or_default();
        let running = Self::running_in(d);
        let limit = self.max_running.load(std::sync::atomic::Ordering::Relaxed);
        if running >= limit {
            d.stats.refused_running_limit += 1;
            return Err(BeginError::TooManyRunning { running, limit });
        }
        if let Some(old) = d.by_label.get(label).and_then(|id| d.txns.get(id)) {
            match old.state_at(t) {
                TxnState::Aborted => {}
                TxnState::Prepare | TxnState::Prepared => return Err(BeginError::LabelExists { running: true }),
                TxnState::Committed | TxnState::Visible => return Err(BeginError::LabelExists { running: false }),
            }
        }
        d.stats.begun += 1;
        d.stats.peak_running = d.stats.peak_running.max(running + 1);
        d.by_label.insert(label.to_string(), id);
        d.txns.insert(
            id,
            TxnInfo {
                id,
                label: label.to_string(),
                table: table.to_string(),
                state: TxnState::Prepare,
                reason: None,
                begun_at: t,
                finished_at: None,
                visible_at: None,
                multi,
                prepared: None,
            },
        );
        g.next_id += 1;
        drop(g);
        self.persist();
        Ok(id)
    }

    /// Move a transaction to `state`; `visible_after` (seconds) keeps a COMMITTED one from turning
    /// VISIBLE for a while. Returns false when the transaction is unknown.
    pub fn set_state(&self, db: &str, id: i64, state: TxnState, reason: Option<String>, visible_after: Option<f64>) -> bool {
        let mut g = self.inner.lock().unwrap();
        let t = self.clock.now();
        let Some(txn) = g.dbs.get_mut(db).and_then(|d| d.txns.get_mut(&id)) else { return false };
        txn.state = state;
        txn.reason = reason;
        if state == TxnState::Committed {
            // `f64::INFINITY`: no automatic VISIBLE; the publisher (TxnCore) sets it.
            txn.visible_at = match visible_after {
                None => Some(t),
                Some(v) if v.is_finite() => Some(t + v),
                Some(_) => None,
            };
        }
        if state.finished() || state == TxnState::Committed {
            txn.finished_at = Some(t);
            txn.prepared = None;
        }
        drop(g);
        self.persist();
        true
    }

    /// Park the data of a prepared transaction until the FE commits or aborts it.
    pub fn set_prepared(&self, db: &str, id: i64, batch: LoadBatch) -> bool {
        let mut g = self.inner.lock().unwrap();
        let Some(txn) = g.dbs.get_mut(db).and_then(|d| d.txns.get_mut(&id)) else { return false };
        txn.state = TxnState::Prepared;
        txn.prepared = Some(batch);
        drop(g);
        self.persist();
        true
    }

    pub fn take_prepared(&self, db: &str, id: i64) -> Option<LoadBatch> {
        let mut g = self.inner.lock().unwrap();
        g.dbs.get_mut(db).and_then(|d| d.txns.get_mut(&id)).and_then(|t| t.prepared.take())
    }

    /// The newest transaction that used `label` (a snapshot), after expiring old ones.
    pub fn lookup(&self, db: &str, label: &str) -> Option<TxnInfo> {
        let mut g = self.inner.lock().unwrap();
        let now = self.clock.now();
        let (keep_secs, keep_num) = self.retention();
        Self::clean(&mut g, db, now, keep_secs, keep_num);
        let d = g.dbs.get(db)?;
        d.by_label.get(label).and_then(|id| d.txns.get(id)).cloned().map(|mut t| {
            t.prepared = None;
            t.state = t.state_at(now);
            t
        })
    }

    pub fn running_count(&self, db: &str) -> usize {
        let g = self.inner.lock().unwrap();
        g.dbs.get(db).map(Self::running_in).unwrap_or(0)
    }

    fn running_in(d: &DbTxns) -> usize {
        d.txns.values().filter(|t| !t.state.finished() && t.state != TxnState::Committed).count()
    }

    fn clean(g: &mut Inner, db: &str, t: f64, keep_secs: f64, keep_num: usize) {
        let Some(d) = g.dbs.get_mut(db) else { return };
        let expired: Vec<i64> = d
            .txns
            .values()
            .filter(|x| x.state_at(t).finished() && x.finished_at.map(|f| t - f > keep_secs).unwrap_or(false))
            .map(|x| x.id)
            .collect();
        for id in expired {
            Self::forget(d, id);
        }
        if d.txns.len() > keep_num {
            // Oldest finished first; BTreeMap iterates by id, which is begin order.
            let excess = d.txns.len() - keep_num;
            let victims: Vec<i64> = d.txns.values().filter(|x| x.state_at(t).finished()).take(excess).map(|x| x.id).collect();
            for id in victims {
                Self::forget(d, id);
            }
        }
    }

    fn forget(d: &mut DbTxns, id: i64) {
        if let Some(txn) = d.txns.remove(&id) {
            if d.by_label.get(&txn.label) == Some(&id) {
                d.by_label.remove(&txn.label);
            }
        }
    }

    /// Write-through persistence: small (at most `keep_num` transactions per database) and
    /// written with rename so a crash leaves either the old or the new file.
    fn persist(&self) {
        let Some(p) = &self.path else { return };
        let _w = self.write_lock.lock().unwrap();
        let g = self.inner.lock().unwrap();
        let bytes = match serde_json::to_vec(&*g) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("labels: cannot serialize: {e}");
                return;
            }
        };
        drop(g);
        let tmp = p.with_extension("json.tmp");
        if let Err(e) = std::fs::write(&tmp, &bytes).and_then(|_| std::fs::rename(&tmp, p)) {
            tracing::error!("labels: cannot write {}: {e}", p.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_limit_refuses_a_begin_and_the_stats_keep_the_peak() {
        let l = Labels::open(3600.0, 1000, None).unwrap();
        l.set_max_running(2);
        let a = l.begin("db", "t", "a").unwrap();
        l.begin_with("db", "", "m", true).unwrap();
        assert_eq!(l.begin("db", "t", "c"), Err(BeginError::TooManyRunning { running: 2, limit: 2 }));
        assert_eq!(l.begin_with("db", "", "n", true), Err(BeginError::TooManyRunning { running: 2, limit: 2 }));
        assert!(l.begin("other", "t", "c").is_ok(), "the limit is per database");
        assert!(l.set_state("db", a, TxnState::Visible, None, None));
        assert!(l.begin("db", "t", "c").is_ok(), "a finished transaction frees its place");
        let s = l.stats()["db"];
        assert_eq!(s, TxnStats { begun: 3, peak_running: 2, refused_running_limit: 2 });
        l.reset_stats();
        assert_eq!(l.stats()["db"], TxnStats { begun: 0, peak_running: 2, refused_running_limit: 0 });
        assert_eq!(running_limit_message(10005, 2, 2), "current running txns on db 10005 is 2, larger than limit 2");
    }

    #[test]
    fn label_regex() {
        assert!(valid_label("kc-orders_0-42"));
        assert!(!valid_label("has space"));
        assert!(!valid_label(""));
        assert!(!valid_label(&"a".repeat(129)));
        assert_eq!(label_error("a b"), "Label format error. regex: ^[-\\w]{1,128}$, label: a b");
    }

    #[test]
    fn label_reuse_follows_state() {
        let l = Labels::open(1e9, 1000, None).unwrap();
        let a = l.begin("db", "t", "x").unwrap();
        assert_eq!(l.begin("db", "t", "x"), Err(BeginError::LabelExists { running: true }));
        assert!(l.begin("other", "t", "x").is_ok(), "labels are per database");
        l.set_state("db", a, TxnState::Aborted, Some("r".into()), None);
        let b = l.begin("db", "t", "x").unwrap();
        assert!(b > a, "txn ids increase");
        l.set_state("db", b, TxnState::Visible, None, None);
        assert_eq!(l.begin("db", "t", "x"), Err(BeginError::LabelExists { running: false }));
        assert_eq!(l.lookup("db", "x").unwrap().state(), TxnState::Visible);
    }

    #[test]
    fn committed_turns_visible_after_delay() {
        let l = Labels::open(1e9, 1000, None).unwrap();
        let a = l.begin("db", "t", "x").unwrap();
        l.set_state("db", a, TxnState::Committed, None, Some(3600.0));
        assert_eq!(l.lookup("db", "x").unwrap().state(), TxnState::Committed);
        let b = l.begin("db", "t", "y").unwrap();
        l.set_state("db", b, TxnState::Committed, None, Some(0.0));
        assert_eq!(l.lookup("db", "y").unwrap().state(), TxnState::Visible);
    }

    #[test]
    fn retention_by_count_drops_oldest_finished() {
        let l = Labels::open(1e9, 2, None).unwrap();
        for name in ["a", "b", "c"] {
            let id = l.begin("db", "t", name).unwrap();
            l.set_state("db", id, TxnState::Visible, None, None);
        }
        let id = l.begin("db", "t", "d").unwrap(); // cleaning happens on begin
        assert!(l.lookup("db", "a").is_none() && l.lookup("db", "b").is_none());
        assert!(l.lookup("db", "c").is_some());
        assert_eq!(l.lookup("db", "d").unwrap().id, id);
    }

    #[test]
    fn retention_by_age() {
        let l = Labels::open(0.0, 1000, None).unwrap();
        let id = l.begin("db", "t", "a").unwrap();
        l.set_state("db", id, TxnState::Visible, None, None);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(l.lookup("db", "a").is_none());
        assert!(l.begin("db", "t", "a").is_ok());
    }

    #[test]
    fn retention_follows_the_injected_clock_and_can_change() {
        let c = Arc::new(clock::ManualClock::new(1000.0));
        let l = Labels::open_with_clock(60.0, 1000, None, c.clone()).unwrap();
        let id = l.begin("db", "t", "a").unwrap();
        l.set_state("db", id, TxnState::Committed, None, Some(5.0));
        assert_eq!(l.lookup("db", "a").unwrap().state(), TxnState::Committed);
        c.advance(5.0);
        assert_eq!(l.lookup("db", "a").unwrap().state(), TxnState::Visible);
        c.advance(50.0);
        assert!(l.lookup("db", "a").is_some(), "55 s after the commit: kept");
        c.advance(6.0);
        assert!(l.lookup("db", "a").is_none());
        let b = l.begin("db", "t", "b").unwrap();
        l.set_state("db", b, TxnState::Committed, None, Some(f64::INFINITY));
        c.advance(1e6);
        assert_eq!(l.lookup("db", "b").unwrap().state(), TxnState::Committed, "waits for an explicit publish");
        l.set_state("db", b, TxnState::Visible, None, None);
        l.set_retention(1e9, 1000);
        let r = l.begin("db", "t", "r").unwrap();
        assert_eq!(l.lookup("db", "b").unwrap().state(), TxnState::Visible);
        l.evict_finished("db");
        assert!(l.lookup("db", "b").is_none(), "eviction burst forgets finished labels");
        assert_eq!(l.lookup("db", "r").unwrap().id, r, "running ones stay");
    }

    #[test]
    fn persisted_and_running_become_aborted() {
        let dir = std::env::temp_dir().join(format!("labels-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let l = Labels::open(1e9, 1000, Some(dir.clone())).unwrap();
        let a = l.begin("db", "t", "done").unwrap();
        l.set_state("db", a, TxnState::Visible, None, None);
        l.begin("db", "t", "running").unwrap();
        drop(l);
        let l = Labels::open(1e9, 1000, Some(dir.clone())).unwrap();
        assert_eq!(l.lookup("db", "done").unwrap().state(), TxnState::Visible);
        assert_eq!(l.lookup("db", "running").unwrap().state(), TxnState::Aborted);
        assert!(l.begin("db", "t", "new").unwrap() > a);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

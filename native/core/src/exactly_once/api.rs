//! The seam between the exactly-once protocol and StarRocks: one method per request the
//! protocol makes, each answering what StarRocks said or that the outcome is unknown (the
//! connection broke or timed out, so the request may or may not have been applied).
//!
//! Production implements it over HTTP (Stream Load transaction interface, `get_load_state`,
//! SQL); the deterministic simulation implements it on the emulator's in-process core, where a
//! crash is the scheduler dropping the writer's future between two calls.

use std::future::Future;
use std::time::Duration;

use crate::stall::Stage;
pub use crate::stream_load::request::Headers;
use crate::stream_load::LoadRequest;

/// The request may or may not have been applied.
#[derive(Debug, Clone)]
pub struct Unknown(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    Begun,
    /// A transaction under this label is running (`running`) or committed.
    LabelExists { running: bool },
    /// Refused; nothing was begun.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    Loaded,
    /// This load's rows or parameters were refused, and that aborted the transaction.
    Rejected(String),
    /// The transaction was already aborted (timeout, rollback by a fencer, FE restart).
    Aborted(String),
    /// Refused without touching the transaction.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    Committed { visible: bool },
    Aborted(String),
    NotFound,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollback {
    RolledBack,
    /// The transaction had committed: it cannot be rolled back.
    Committed,
    NotFound,
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    Running,
    Committed,
    Visible,
    Aborted,
    /// Never used, or forgotten.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneShot {
    Loaded,
    LabelExists,
    Failed(String),
}

/// The `timeout` (seconds) a transaction begins with (`TxnApi::begin`), one rule per mode, side by
/// side. StarRocks aborts a transaction still open after its timeout, so each rule covers what its
/// transaction spans, counted in load timeouts (`sink.timeoutms`, the longest one request may
/// take), with a floor of a minute: `sink.timeoutms` may be as short as a second, and a few of
/// those would leave a transaction no slack for the time between its requests.
pub mod txn_timeout {
    use std::time::Duration;

    /// Exactly-once (`exactly_once/sink.rs`): a partition flush's transaction spans its loads and
    /// the register check before the commit: three load timeouts.
    pub fn exactly_once(load_timeout: Duration) -> u64 {
        (load_timeout.as_secs() * 3).max(60)
    }

    /// At-least-once with `sink.transaction.multi-table.enabled` (`sink.rs`): the transaction
    /// spans its `tables`' loads one after the other, then the commit: a load timeout (at least a
    /// second) for each, and one more.
    pub fn multi_table(load_timeout: Duration, tables: usize) -> u64 {
        load_timeout.as_secs().max(1).saturating_mul(tables as u64 + 1).max(60)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn timeouts_cover_what_the_transaction_spans_and_never_go_under_a_minute() {
            let s = Duration::from_secs;
            assert_eq!(exactly_once(s(120)), 360);
            assert_eq!(exactly_once(s(10)), 60);
            assert_eq!(multi_table(s(120), 3), 480);
            assert_eq!(multi_table(s(10), 2), 60);
            assert_eq!(multi_table(Duration::from_millis(500), 100), 101);
        }
    }
}

/// StarRocks as the protocol sees it: one database.
pub trait TxnApi: Sync {
    fn begin(&self, label: &str, timeout_secs: u64) -> impl Future<Output = Result<Begin, Unknown>> + Send;
    /// One table's rows into the transaction named by `request.label`.
    fn load(&self, request: &LoadRequest) -> impl Future<Output = Result<Load, Unknown>> + Send;
    fn commit(&self, label: &str) -> impl Future<Output = Result<Commit, Unknown>> + Send;
    fn rollback(&self, label: &str) -> impl Future<Output = Result<Rollback, Unknown>> + Send;
    fn state(&self, label: &str) -> impl Future<Output = Result<TxnState, Unknown>> + Send;
    /// A one-shot Stream Load (fencing writes the register this way).
    fn stream_load(&self, request: &LoadRequest) -> impl Future<Output = Result<OneShot, Unknown>> + Send;
    /// A SELECT; every failure is `Unknown` (the caller retries, then reports the message).
    fn query(&self, sql: &str) -> impl Future<Output = Result<Vec<Vec<Option<String>>>, Unknown>> + Send;
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send;
}

/// `api` as the watchdog and the outage log see it (`stall.rs`): each request says what it waits
/// for, a failed one counts in the outage log. The protocol (`writer.rs`) does not know.
pub struct Watched<'a, A> {
    pub api: &'a A,
    pub stage: &'a Stage,
}

impl<A: TxnApi> Watched<'_, A> {
    fn outcome<T>(&self, r: &Result<T, Unknown>, refused: impl Fn(&T) -> Option<&String>) {
        match r {
            Err(Unknown(m)) => self.stage.failed(m),
            Ok(t) => {
                if let Some(m) = refused(t) {
                    self.stage.failed(m)
                }
            }
        }
    }
}

impl<A: TxnApi> TxnApi for Watched<'_, A> {
    async fn begin(&self, label: &str, timeout_secs: u64) -> Result<Begin, Unknown> {
        self.stage.label(label);
        self.stage.attempt();
        self.stage.waiting_for(|| format!("the FE to begin transaction {}", label));
        let r = self.api.begin(label, timeout_secs).await;
        self.outcome(&r, |b| match b {
            Begin::Failed(m) => Some(m),
            _ => None,
        });
        r
    }

    async fn load(&self, request: &LoadRequest) -> Result<Load, Unknown> {
        self.stage.waiting_for(|| format!("a BE to load {} rows into {} in transaction {}", request.rows, request.target.table, request.label));
        let r = self.api.load(request).await;
        self.outcome(&r, |l| match l {
            Load::Failed(m) | Load::Aborted(m) => Some(m),
            _ => None,
        });
        r
    }

    async fn commit(&self, label: &str) -> Result<Commit, Unknown> {
        self.stage.waiting_for(|| format!("the FE to commit transaction {}", label));
        let r = self.api.commit(label).await;
        self.outcome(&r, |c| match c {
            Commit::Failed(m) | Commit::Aborted(m) => Some(m),
            _ => None,
        });
        r
    }

    async fn rollback(&self, label: &str) -> Result<Rollback, Unknown> {
        self.stage.waiting_for(|| format!("the FE to roll back transaction {}", label));
        let r = self.api.rollback(label).await;
        self.outcome(&r, |_| None);
        r
    }

    async fn state(&self, label: &str) -> Result<TxnState, Unknown> {
        self.stage.waiting_for(|| format!("the FE to answer get_load_state for label {}", label));
        let r = self.api.state(label).await;
        match &r {
            Ok(TxnState::Running) => self.stage.waiting_for(|| format!("label {} to leave state PREPARE (get_load_state)", label)),
            Ok(TxnState::Committed) => self.stage.waiting_for(|| format!("label {} to go from COMMITTED to VISIBLE (get_load_state)", label)),
            Err(Unknown(m)) => self.stage.failed(m),
            Ok(_) => {}
        }
        r
    }

    async fn stream_load(&self, request: &LoadRequest) -> Result<OneShot, Unknown> {
        self.stage.label(&request.label);
        self.stage.attempt();
        self.stage.waiting_for(|| format!("a BE to take the register row of {} (Stream Load)", request.label));
        let r = self.api.stream_load(request).await;
        self.outcome(&r, |o| match o {
            OneShot::Failed(m) => Some(m),
            _ => None,
        });
        r
    }

    async fn query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Unknown> {
        self.stage.waiting_for(|| "the query port to read the register".to_string());
        let r = self.api.query(sql).await;
        self.outcome(&r, |_| None);
        r
    }

    async fn sleep(&self, d: Duration) {
        self.stage.pause(d);
        self.api.sleep(d).await
    }
}

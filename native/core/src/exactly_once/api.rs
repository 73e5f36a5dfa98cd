//! The seam between the exactly-once protocol and StarRocks: one method per request the
//! protocol makes, each answering what StarRocks said or that the outcome is unknown (the
//! connection broke or timed out, so the request may or may not have been applied).
//!
//! Production implements it over HTTP (Stream Load transaction interface, `get_load_state`,
//! SQL); the deterministic simulation implements it on the emulator's in-process core, where a
//! crash is the scheduler dropping the writer's future between two calls.

use std::future::Future;
use std::time::Duration;

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

//! Fault injection for reliability tests (`POST/GET/DELETE /api/_emulator/faults`). A fault is
//! armed for the next `count` requests that reach the point where its kind applies (and match
//! `table`, if given); nothing is random, so a test knows exactly which request fails.
//! The three request-level kinds (`fail_before`, `drop_after`, `no_reply`) also match an `op`
//! (begin, load, prepare, commit, rollback, stream_load, get_load_state), so a test can make,
//! say, exactly the next commit lose its reply.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// FE (or BE, for a client that talks to the BE directly) answers HTTP 500.
    #[serde(rename = "http_500")]
    Http500,
    /// The BE reads the body, then holds the response `seconds` (default 60) and fails the load
    /// with a timeout message; nothing is committed.
    Hang,
    /// The BE reads the first part of the body and resets the connection; nothing is committed.
    ResetMidBody,
    /// The load commits but answers `Publish Timeout`; the label reads COMMITTED for `seconds`
    /// (default 5) and VISIBLE afterwards.
    PublishTimeout,
    /// The load fails with StarRocks' "too many versions" message.
    TooManyVersions,
    /// The load commits (VISIBLE) and the connection is reset instead of answering.
    CommitThenDrop,
    /// The load fails with a memory-limit message.
    MemLimit,
    /// Begin fails with `current running txns on db <id> is <n>, larger than limit <max>`.
    RunningTxnsLimit,
    /// The FE answers `No backend alive.` instead of redirecting.
    NoBackend,
    /// The next load that reuses a live label gets the 3.3/3.4 variant: Status `Fail`, a message
    /// containing `has already been used`, no ExistingJobStatus.
    LabelExistsFailVariant,
    /// The BE reads the body at `bytes_per_second` (default 1 MiB/s), then loads it normally: a
    /// slow StarRocks, for backpressure and memory tests.
    Throttle,
    /// The FE takes a Stream Load request and never answers (no redirect): the connection stays
    /// silent for `seconds` (default and cap 600), then closes. A StarRocks that accepts
    /// connections but does not answer.
    FeSilent,
    /// The BE reads the first part of the body, then stops reading and stays silent for
    /// `seconds` (default and cap 600); the transaction ends ABORTED and the connection closes.
    StallMidBody,
    /// The BE reads the body, then leaves the transaction PREPARE for `seconds` (default and cap
    /// 600), answering nothing, even if the client goes away (a retry with the same label gets
    /// `Label Already Exists`/`RUNNING`, `get_load_state` answers PREPARE); then ABORTED.
    HoldPrepare,
    /// The request is refused before anything is applied: the connection is closed, no reply.
    FailBefore,
    /// The request is applied (the commit happens, the rows are appended), then the connection
    /// is closed without a reply.
    DropAfter,
    /// The request is applied, then no reply ever comes: the connection is held open for
    /// `seconds` (default and cap 600) and then closed.
    NoReply,
}

impl FaultKind {
    /// Kinds that act on a whole request and honour the `op` filter.
    pub const REQUEST_LEVEL: [FaultKind; 3] = [FaultKind::FailBefore, FaultKind::DropAfter, FaultKind::NoReply];
}

/// The request names the `op` filter accepts.
pub const OPS: [&str; 7] = ["begin", "load", "prepare", "commit", "rollback", "stream_load", "get_load_state"];

#[derive(Debug, Clone, Deserialize)]
pub struct FaultSpec {
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub table: Option<String>,
    #[serde(default)]
    pub op: Option<String>,
    #[serde(default)]
    pub seconds: Option<f64>,
    #[serde(default)]
    pub bytes_per_second: Option<u64>,
}

impl FaultSpec {
    pub fn validate(&self) -> Result<(), String> {
        match &self.op {
            Some(op) if !OPS.contains(&op.as_str()) => Err(format!("unknown op {op}; one of {}", OPS.join(", "))),
            _ => Ok(()),
        }
    }
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub remaining: u32,
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_second: Option<u64>,
}

#[derive(Default)]
pub struct Faults {
    armed: Mutex<Vec<Fault>>,
}

impl Faults {
    pub fn add(&self, spec: FaultSpec) {
        if spec.count == 0 {
            return;
        }
        self.armed.lock().unwrap().push(Fault {
            kind: spec.kind,
            remaining: spec.count,
            table: spec.table,
            op: spec.op,
            seconds: spec.seconds,
            bytes_per_second: spec.bytes_per_second,
        });
    }

    pub fn clear(&self) {
        self.armed.lock().unwrap().clear();
    }

    pub fn list(&self) -> Vec<Fault> {
        self.armed.lock().unwrap().clone()
    }

    /// Consume one use of the first armed fault of `kind` that matches `db.table`.
    pub fn take(&self, kind: FaultKind, db: &str, table: &str) -> Option<Fault> {
        let mut g = self.armed.lock().unwrap();
        let i = g.iter().position(|f| f.kind == kind && f.table.as_deref().map(|t| t == table || t == format!("{db}.{table}")).unwrap_or(true))?;
        g[i].remaining -= 1;
        let f = g[i].clone();
        if g[i].remaining == 0 {
            g.remove(i);
        }
        Some(f)
    }

    /// Consume one use of the first armed request-level fault (`fail_before`, `drop_after`,
    /// `no_reply`) that matches `op` and `db.table` (a fault with a `table` filter does not match
    /// a request that names no table, such as a multi-table commit).
    pub fn take_request(&self, op: &str, db: &str, table: Option<&str>) -> Option<Fault> {
        let mut g = self.armed.lock().unwrap();
        let i = g.iter().position(|f| {
            FaultKind::REQUEST_LEVEL.contains(&f.kind)
                && f.op.as_deref().map(|o| o == op).unwrap_or(true)
                && match (&f.table, table) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(t), Some(table)) => *t == table || *t == format!("{db}.{table}"),
                }
        })?;
        g[i].remaining -= 1;
        let f = g[i].clone();
        if g[i].remaining == 0 {
            g.remove(i);
        }
        Some(f)
    }

    /// Cheap check so the hot path does not format strings when nothing is armed.
    pub fn any(&self) -> bool {
        !self.armed.lock().unwrap().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_and_matches_table() {
        let f = Faults::default();
        f.add(serde_json::from_str(r#"{"kind":"http_500","count":2,"table":"t1"}"#).unwrap());
        assert!(f.take(FaultKind::Http500, "db", "t2").is_none());
        assert!(f.take(FaultKind::Hang, "db", "t1").is_none());
        assert_eq!(f.take(FaultKind::Http500, "db", "t1").unwrap().remaining, 1);
        assert!(f.take(FaultKind::Http500, "db", "t1").is_some());
        assert!(f.take(FaultKind::Http500, "db", "t1").is_none());
        assert!(!f.any());
    }

    #[test]
    fn request_level_faults_match_op_and_table() {
        let f = Faults::default();
        f.add(serde_json::from_str(r#"{"kind":"drop_after","op":"commit"}"#).unwrap());
        f.add(serde_json::from_str(r#"{"kind":"fail_before","op":"load","table":"t1"}"#).unwrap());
        assert!(f.take_request("begin", "db", None).is_none());
        assert!(f.take_request("load", "db", Some("t2")).is_none());
        assert!(f.take_request("load", "db", None).is_none(), "a table filter needs a table");
        assert_eq!(f.take_request("load", "db", Some("t1")).unwrap().kind, FaultKind::FailBefore);
        assert_eq!(f.take_request("commit", "db", None).unwrap().kind, FaultKind::DropAfter);
        assert!(!f.any());
        let bad: FaultSpec = serde_json::from_str(r#"{"kind":"no_reply","op":"explode"}"#).unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn unknown_kind_is_rejected() {
        assert!(serde_json::from_str::<FaultSpec>(r#"{"kind":"explode"}"#).is_err());
        let s: FaultSpec = serde_json::from_str(r#"{"kind":"db.t"}"#.replace("db.t", "hang").as_str()).unwrap();
        assert_eq!((s.count, s.kind), (1, FaultKind::Hang));
        for kind in ["fe_silent", "stall_mid_body", "hold_prepare"] {
            let k: FaultSpec = serde_json::from_str(&format!(r#"{{"kind":"{kind}","seconds":30}}"#)).unwrap();
            assert_eq!(k.seconds, Some(30.0));
        }
        let t: FaultSpec = serde_json::from_str(r#"{"kind":"throttle","count":5,"bytes_per_second":1000}"#).unwrap();
        assert_eq!((t.kind, t.count, t.bytes_per_second), (FaultKind::Throttle, 5, Some(1000)));
    }
}

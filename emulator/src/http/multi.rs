//! Multi-table transactions (StarRocks 4.0) on the wire: the FE runs `begin` (with
//! `transaction_type: multi`), `commit`, `rollback` and `prepare` itself; `load` is redirected to
//! the BE as for single-table transactions and appends through `TxnCore::load` there. All the
//! semantics live in `crate::txn_core`; this module only translates to and from HTTP.

use std::sync::Arc;
use std::time::Instant;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, Response, StatusCode};

use super::be::label_used;
use super::response::{be_json, fe_failed, fe_pretty, Body, Ordered};
use super::{dropped, header_str, with_request_faults, HandlerResult, Shared};
use crate::txn_core::{TxnError, TxnState, FE_EXCEPTION};

const MB: u64 = 1024 * 1024;
pub const BE_REJECTS_MULTI: &str = "Multi-statement transaction requests can only be sent to FE nodes, not BE nodes";

/// `transaction_type: multi` (value case-insensitive).
pub fn is_multi_request(h: &HeaderMap) -> bool {
    header_str(h, "transaction_type").is_some_and(|v| v.trim().eq_ignore_ascii_case("multi"))
}

fn fe_ok(o: Ordered) -> Response<Body> {
    fe_pretty(StatusCode::OK, &o)
}

fn headers_vec(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string()))).collect()
}

/// Run a core call on a blocking thread: a commit may publish (write) many rows.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, std::io::Error> {
    tokio::task::spawn_blocking(f).await.map_err(std::io::Error::other)
}

/// FE `begin` (multi), and `commit` / `rollback` / `prepare` of a multi-table label.
pub async fn fe_op(sh: &Arc<Shared>, h: &HeaderMap, op: &str, db: String, label: String) -> HandlerResult {
    let timeout = match header_str(h, "timeout").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return Ok(fe_failed(&format!("{FE_EXCEPTION}: Invalid timeout format"))),
        },
    };
    let core = sh.core.clone();
    let (op_owned, db2) = (op.to_string(), db.clone());
    with_request_faults(sh, op, &db2, None, async move {
        let op = op_owned;
        let l = label.clone();
        let reply = match op.as_str() {
            "begin" => match blocking(move || core.begin_multi(&db, &l, timeout)).await? {
                Ok(id) => fe_ok(Ordered::new().put("Status", "OK").put("Message", "").put("Label", label).put("TxnId", id)),
                Err(TxnError::LabelExists { running }) => fe_ok(
                    Ordered::new()
                        .put("Status", "LABEL_ALREADY_EXISTS")
                        .put("Message", label_used(&label))
                        .put("Label", label)
                        .put("ExistingJobStatus", if running { "RUNNING" } else { "FINISHED" }),
                ),
                Err(e) => fe_failed(&failure(e)),
            },
            "commit" => {
                let (fresh, res, id) = blocking(move || {
                    let fresh = core.is_running_multi(&db, &l);
                    let res = core.commit(&db, &l);
                    let id = core.labels().lookup(&db, &l).map(|t| t.id).unwrap_or(-1);
                    (fresh, res, id)
                })
                .await?;
                match res {
                    Ok(c) => {
                        let msg = match (fresh, c.state) {
                            (false, _) => format!("label {label} transaction {} has already committed", c.txn_id),
                            (true, TxnState::Visible) => String::new(),
                            // The FE would wait for the publish; the emulator answers at once.
                            (true, _) => format!("Publish timeout. The data will be visible after a while, txn_id: {}", c.txn_id),
                        };
                        fe_ok(Ordered::new().put("Status", "OK").put("Message", msg).put("Label", label).put("TxnId", c.txn_id))
                    }
                    Err(TxnError::Aborted(_)) => fe_failed(&format!("{FE_EXCEPTION}: cannot commit aborted transaction {id}, label {label} ")),
                    Err(e) => fe_failed(&failure_for(e, "commit", &label)),
                }
            }
            "rollback" => {
                let (fresh, res, id) = blocking(move || {
                    let fresh = core.is_running_multi(&db, &l);
                    let res = core.rollback(&db, &l);
                    let id = core.labels().lookup(&db, &l).map(|t| t.id).unwrap_or(-1);
                    (fresh, res, id)
                })
                .await?;
                match res {
                    Ok(()) if fresh => fe_ok(Ordered::new().put("Status", "OK").put("Message", "").put("Label", label)),
                    Ok(()) => fe_ok(Ordered::new().put("Status", "OK").put("Message", format!("label {label} transaction {id} has already aborted")).put("Label", label)),
                    Err(e) => fe_failed(&failure_for(e, "rollback", &label)),
                }
            }
            // One-phase only: there is no PREPARED state for multi-table transactions.
            "prepare" => fe_failed(&format!("{FE_EXCEPTION}: prepare is not supported for multi-table transactions")),
            _ => super::response::not_found(),
        };
        Ok(reply)
    })
    .await
}

fn failure(e: TxnError) -> String {
    match e {
        TxnError::Failed(m) if m.starts_with("class ") => m,
        TxnError::Failed(m) => format!("{FE_EXCEPTION}: {m}"),
        TxnError::Aborted(r) => format!("{FE_EXCEPTION}: transaction is aborted: {r}"),
        TxnError::NotFound => format!("{FE_EXCEPTION}: transaction not found"),
        TxnError::LabelExists { .. } => format!("{FE_EXCEPTION}: label already exists"),
    }
}

fn failure_for(e: TxnError, op: &str, label: &str) -> String {
    match e {
        TxnError::NotFound => format!("{FE_EXCEPTION}: transaction with op {op} label {label} has no node"),
        e => failure(e),
    }
}

fn be(o: Ordered) -> HandlerResult {
    Ok(be_json(&o))
}

fn status(s: &str, msg: impl Into<String>) -> Ordered {
    Ordered::new().put("Status", s).put("Message", msg.into())
}

/// The status-code name a BE gives a failure that aborted the transaction (as at BE commit).
fn failure_status(m: &str) -> &'static str {
    if m == "too many filtered rows" || m.starts_with("Failed to") || m.starts_with("The value") || m.starts_with("the value") || m.starts_with("illegal json") {
        "DATA_QUALITY_ERROR"
    } else {
        "ANALYSIS_ERROR"
    }
}

/// BE `PUT /api/transaction/load` for a multi-table label: read the body, append it to `table`.
pub async fn be_load(sh: &Arc<Shared>, h: &HeaderMap, body: Incoming, db: String, label: String, table: String) -> HandlerResult {
    let t0 = Instant::now();
    // Header phase: a label that is not running or a missing `table` is answered before the
    // body is read (so no `100 Continue`); the core gives the answer and changes nothing.
    let core = sh.core.clone();
    let (d2, l2, t2) = (db.clone(), label.clone(), table.clone());
    match blocking(move || core.check_load(&d2, &l2, &t2)).await? {
        Ok(()) => {}
        Err(TxnError::Aborted(m)) => return be(status("ABORTED", format!("current transaction is aborted: {m}"))),
        Err(TxnError::Failed(m)) => return be(status("INVALID_ARGUMENT", m)),
        Err(_) => return be(status("TXN_NOT_EXISTS", format!("Transaction with label {label} not exists"))),
    }
    let mut body = body;
    let mut buf = Vec::new();
    let max = sh.limits.streaming_load_max_mb * MB;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    buf.extend_from_slice(&d);
                    if buf.len() as u64 > max {
                        let m = super::be::body_too_big(buf.len() as u64, sh.limits.streaming_load_max_mb, &label);
                        // Fails the load, so (like any failed load) aborts the transaction.
                        let core = sh.core.clone();
                        let (d2, l2, m2) = (db.clone(), label.clone(), m.clone());
                        blocking(move || core.abort_running(&d2, &l2, m2)).await?;
                        return be(status("INTERNAL_ERROR", m));
                    }
                }
            }
            Err(_) => return dropped(),
        }
    }
    let received_ms = t0.elapsed().as_millis() as u64;
    let n = buf.len() as u64;
    let headers = headers_vec(h);
    let core = sh.core.clone();
    let (d2, l2, t2) = (db.clone(), label.clone(), table.clone());
    let (was_running, res) = blocking(move || {
        let was_running = core.is_running_multi(&d2, &l2);
        (was_running, core.load(&d2, &l2, &t2, &headers, &buf))
    })
    .await?;
    let plan_ms = t0.elapsed().as_millis() as u64 - received_ms;
    match res {
        Ok(r) => {
            let mut o = status("OK", "")
                .put("Label", label)
                .put("TxnId", r.txn_id)
                .put("LoadBytes", n)
                .put("StreamLoadPlanTimeMs", plan_ms)
                .put("ReceivedDataTimeMs", received_ms)
                .put("NumberTotalRows", r.total_rows)
                .put("NumberLoadedRows", r.loaded_rows)
                .put("NumberFilteredRows", r.filtered_rows)
                .put("NumberUnselectedRows", r.unselected_rows);
            if !r.errors.is_empty() {
                o.push("ErrorURL", format!("{}/api/_load_error_log?file={}", sh.be_base(), sh.error_logs.put(&r.errors)));
            }
            be(o)
        }
        Err(TxnError::Aborted(m)) if was_running => be(status(failure_status(&m), m)),
        Err(TxnError::Aborted(m)) => be(status("ABORTED", format!("current transaction is aborted: {m}"))),
        Err(TxnError::NotFound) => be(status("TXN_NOT_EXISTS", format!("Transaction with label {label} not exists"))),
        Err(TxnError::Failed(m)) => be(status("INVALID_ARGUMENT", m)),
        Err(TxnError::LabelExists { .. }) => be(status("INTERNAL_ERROR", "unexpected label state")),
    }
}

/// Convenience for the BE: refuse a request that carries `transaction_type`.
pub fn be_reject() -> HandlerResult {
    be(status("INVALID_ARGUMENT", BE_REJECTS_MULTI))
}

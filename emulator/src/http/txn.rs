//! The Stream Load transaction interface (§1.4, §5.5): the BE keeps one context per label
//! between `begin` and `prepare`/`commit`/`rollback`; the FE routes requests to the BE and
//! commits or aborts PREPARED transactions itself. BE replies name the internal status code
//! (`OK`, `TXN_NOT_EXISTS`, ...); FE replies use `OK`/`FAILED` in the 2-space shape.
//! Labels of multi-table transactions (StarRocks 4.0) are handed to `super::multi`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response, StatusCode};

use super::be::{begin_txn, body_too_big, finish, label_used, BeginFail};
use super::fe::{authenticate, redirect};
use super::response::{be_json, fe_failed, fe_pretty, Body, Ordered};
use super::{dropped, header_str, Conn, HandlerResult, Shared};
use crate::auth;
use crate::faults::FaultKind;
use crate::labels::TxnState;
use crate::load::params::{Format, LoadParams};
use crate::load::plan::Plan;
use crate::load::{self, LoadOutput};
// `signature`: the data headers that must be identical on every `load` of one transaction
// (shared with multi-table transactions).
use crate::txn_core::{signature, FE_EXCEPTION};

const MB: u64 = 1024 * 1024;
/// `stream_load_default_timeout_second`.
const DEFAULT_TIMEOUT_SECS: u64 = 600;

struct Ctx {
    db: String,
    table: String,
    txn_id: i64,
    signature: Option<Vec<Option<String>>>,
    plan: Option<(LoadParams, Plan)>,
    /// Decompressed bodies of the `load` calls, in order.
    bodies: Vec<Vec<u8>>,
    received: u64,
    busy: bool,
    /// Seconds on the emulator's clock (`TxnCore::clock`), like every other transaction time.
    begun: f64,
    last_active: f64,
    timeout: u64,
    idle_timeout: Option<u64>,
    plan_ms: u64,
    received_ms: u64,
}

#[derive(Default)]
pub struct TxnContexts {
    map: Mutex<HashMap<String, Ctx>>,
}

fn status(s: &str, msg: impl Into<String>) -> Ordered {
    Ordered::new().put("Status", s).put("Message", msg.into())
}

fn be(o: Ordered) -> HandlerResult {
    Ok(be_json(&o))
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn parse_secs(h: &HeaderMap, name: &str) -> Result<Option<u64>, String> {
    match header_str(h, name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| "Invalid timeout format".to_string()),
    }
}

// ---- BE -------------------------------------------------------------------------------------

pub async fn be_op(sh: &Arc<Shared>, conn: &Conn, req: Request<Incoming>, op: &str) -> HandlerResult {
    let h = req.headers();
    if sh.multi_enabled && h.contains_key("transaction_type") {
        return super::multi::be_reject();
    }
    sh.core.tick();
    let label = header_str(h, "label").unwrap_or("").to_string();
    let db = header_str(h, "db").unwrap_or("").to_string();
    match op {
        "begin" | "prepare" | "commit" | "rollback" => {}
        "load" => return be_load(sh, conn, req).await,
        _ => return be(status("INVALID_ARGUMENT", format!("unsupport transaction operation {op}"))),
    }
    if label.is_empty() {
        return be(status("INVALID_ARGUMENT", "empty label."));
    }
    if db.is_empty() {
        return be(status("INVALID_ARGUMENT", "No database selected."));
    }
    let Some(cred) = auth::basic(h) else { return be(status("INTERNAL_ERROR", "no valid Basic authorization")) };
    match op {
        "begin" => {
            if sh.txns.map.lock().unwrap().contains_key(&label) {
                return be(Ordered::new().put("Status", "LABEL_ALREADY_EXISTS").put("ExistingJobStatus", "").put("Message", ""));
            }
            let table = header_str(h, "table").unwrap_or("").to_string();
            if table.is_empty() {
                return be(status("INVALID_ARGUMENT", "No table selected."));
            }
            let (timeout, idle) = match (parse_secs(h, "timeout"), parse_secs(h, "idle_transaction_timeout")) {
                (Ok(t), Ok(i)) => (t.unwrap_or(DEFAULT_TIMEOUT_SECS), i),
                (Err(e), _) | (_, Err(e)) => return be(status("INVALID_ARGUMENT", e)),
            };
            let t0 = Instant::now();
            match begin_txn(sh, conn, &cred, &db, &table, &label) {
                Err(BeginFail::LabelExists { running }) => be(Ordered::new()
                    .put("Status", "LABEL_ALREADY_EXISTS")
                    .put("ExistingJobStatus", if running { "RUNNING" } else { "FINISHED" })
                    .put("Message", label_used(&label))),
                Err(BeginFail::Fail(m)) => be(status("ANALYSIS_ERROR", m)),
                Ok(b) => {
                    let now = sh.core.clock().now();
                    sh.txns.map.lock().unwrap().insert(
                        label.clone(),
                        Ctx {
                            db,
                            table,
                            txn_id: b.txn_id,
                            signature: None,
                            plan: None,
                            bodies: Vec::new(),
                            received: 0,
                            busy: false,
                            begun: now,
                            last_active: now,
                            timeout,
                            idle_timeout: idle,
                            plan_ms: 0,
                            received_ms: 0,
                        },
                    );
                    be(status("OK", "").put("Label", label).put("TxnId", b.txn_id).put("BeginTxnTimeMs", ms(t0.elapsed())))
                }
            }
        }
        "rollback" => {
            let mut g = sh.txns.map.lock().unwrap();
            let Some(ctx) = g.get(&label) else { return be(status("TXN_NOT_EXISTS", format!("transaction with label {label} not exists"))) };
            if ctx.db != db {
                return be(status("INVALID_ARGUMENT", format!("Request database {db} not equal transaction database {}", ctx.db)));
            }
            let ctx = g.remove(&label).unwrap();
            drop(g);
            sh.labels.set_state(&ctx.db, ctx.txn_id, TxnState::Aborted, Some("transaction is aborted by user.".into()), None);
            be(status("OK", "").put("Label", label))
        }
        _ => {
            if op == "prepare" {
                if let Some(v) = header_str(h, "prepared_timeout").filter(|v| !v.is_empty()) {
                    // Validated (v3.5.4+), not enforced: PREPARED transactions never time out here.
                    if !v.trim().parse::<u64>().is_ok_and(|n| n > 0) {
                        return be(status("INVALID_ARGUMENT", format!("Invalid prepared_timeout: {v}")));
                    }
                }
            }
            be_finish(sh, conn, &label, &db, op == "commit").await
        }
    }
}

/// `PUT /api/transaction/load`: append one body to the context.
pub async fn be_load(sh: &Arc<Shared>, conn: &Conn, req: Request<Incoming>) -> HandlerResult {
    let (parts, body) = req.into_parts();
    let h = &parts.headers;
    if sh.multi_enabled && h.contains_key("transaction_type") {
        return super::multi::be_reject();
    }
    let label = header_str(h, "label").unwrap_or("").to_string();
    let db = header_str(h, "db").unwrap_or("").to_string();
    let table = header_str(h, "table").unwrap_or("").to_string();
    if label.is_empty() {
        return be(status("INVALID_ARGUMENT", "empty label."));
    }
    if auth::basic(h).is_none() {
        return be(status("INTERNAL_ERROR", "no valid Basic authorization"));
    }
    // A multi-table transaction has no BE context: the core keeps its rows.
    if sh.multi_enabled && !sh.txns.map.lock().unwrap().contains_key(&label) && sh.core.is_multi(&db, &label) {
        return super::multi::be_load(sh, h, body, db, label, table).await;
    }
    let t0 = Instant::now();
    // Header phase under the lock: validate and mark busy; the body is read without the lock.
    let (txn_id, ctx_db, ctx_table, need_plan) = {
        let mut g = sh.txns.map.lock().unwrap();
        let Some(ctx) = g.get_mut(&label) else { return be(status("TXN_NOT_EXISTS", format!("Transaction with label {label} not exists"))) };
        if ctx.db != db {
            return be(status("INVALID_ARGUMENT", format!("Request database {db} not equal transaction database {}", ctx.db)));
        }
        if ctx.table != table {
            return be(status("INVALID_ARGUMENT", format!("Request table {table} not equal transaction table {}", ctx.table)));
        }
        if ctx.busy {
            return be(Ordered::new().put("Status", "TXN_IN_PROCESSING").put("Label", label.clone()).put("Message", format!("Transaction {label} is in processing by another request")));
        }
        let sig = signature(h);
        if let Some(prev) = &ctx.signature {
            if *prev != sig {
                return be(status("INVALID_ARGUMENT", "load request not equal last."));
            }
        }
        ctx.signature = Some(sig);
        ctx.busy = true;
        ctx.last_active = sh.core.clock().now();
        (ctx.txn_id, ctx.db.clone(), ctx.table.clone(), ctx.plan.is_none())
    };
    let fail_and_abort = |sh: &Shared, st: &str, msg: String| {
        if let Some(ctx) = sh.txns.map.lock().unwrap().remove(&label) {
            sh.labels.set_state(&ctx.db, ctx.txn_id, TxnState::Aborted, Some(msg.clone()), None);
        }
        be(status(st, msg))
    };
    if need_plan {
        let planned = LoadParams::from_headers(h, true).and_then(|p| {
            let schema = sh.store.table(&ctx_db, &ctx_table).map_err(|_| format!("unknown table \"{ctx_db}.{ctx_table}\""))?;
            Plan::new(schema, &p, p.format == Format::Json).map(|plan| (p, plan))
        });
        match planned {
            Ok(pp) => {
                let mut g = sh.txns.map.lock().unwrap();
                if let Some(ctx) = g.get_mut(&label) {
                    ctx.plan = Some(pp);
                    ctx.plan_ms = ms(t0.elapsed());
                }
            }
            Err(m) => return fail_and_abort(sh, "ANALYSIS_ERROR", m),
        }
    }
    let compression = sh.txns.map.lock().unwrap().get(&label).and_then(|c| c.plan.as_ref().map(|p| p.0.compression));
    let tr = Instant::now();
    let mut body = body;
    let mut buf = Vec::new();
    let max = sh.limits.streaming_load_max_mb * MB;
    let already = sh.txns.map.lock().unwrap().get(&label).map(|c| c.received).unwrap_or(0);
    if sh.faults.any() && sh.faults.take(FaultKind::ResetMidBody, &ctx_db, &ctx_table).is_some() {
        let _ = body.frame().await;
        fail_and_abort(sh, "INTERNAL_ERROR", "connection reset (emulated fault)".into())?;
        conn.arm_reset();
        return dropped();
    }
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    buf.extend_from_slice(&d);
                    if already + buf.len() as u64 > max {
                        return fail_and_abort(sh, "INTERNAL_ERROR", body_too_big(already + buf.len() as u64, sh.limits.streaming_load_max_mb, &label));
                    }
                }
            }
            Err(e) => {
                let _ = fail_and_abort(sh, "INTERNAL_ERROR", format!("failed to read body: {e}"));
                return dropped();
            }
        }
    }
    let n = buf.len() as u64;
    let data = match load::decompress(compression.unwrap_or(crate::load::params::Compression::None), buf) {
        Ok(d) => d,
        Err(m) => return fail_and_abort(sh, "INTERNAL_ERROR", m),
    };
    let received_ms = ms(tr.elapsed());
    let plan_ms = {
        let mut g = sh.txns.map.lock().unwrap();
        let Some(ctx) = g.get_mut(&label) else { return be(status("TXN_NOT_EXISTS", format!("Transaction with label {label} not exists"))) };
        ctx.bodies.push(data);
        ctx.received += n;
        ctx.received_ms += received_ms;
        ctx.busy = false;
        ctx.last_active = sh.core.clock().now();
        ctx.plan_ms
    };
    be(status("OK", "")
        .put("Label", label)
        .put("TxnId", txn_id)
        .put("LoadBytes", n)
        .put("StreamLoadPlanTimeMs", plan_ms)
        .put("ReceivedDataTimeMs", received_ms))
}

/// BE `prepare` (→ PREPARED, data parked until the FE commits) or `commit` (→ VISIBLE).
async fn be_finish(sh: &Arc<Shared>, conn: &Conn, label: &str, db: &str, commit: bool) -> HandlerResult {
    let t0 = Instant::now();
    let ctx = {
        let mut g = sh.txns.map.lock().unwrap();
        let Some(ctx) = g.get(label) else { return be(status("TXN_NOT_EXISTS", format!("transaction with label {label} not exists"))) };
        if ctx.db != db {
            return be(status("INVALID_ARGUMENT", format!("Request database {db} not equal transaction database {}", ctx.db)));
        }
        if ctx.busy {
            return be(Ordered::new().put("Status", "TXN_IN_PROCESSING").put("Label", label).put("Message", format!("Transaction {label} is in processing by another request")));
        }
        if ctx.bodies.is_empty() {
            let id = ctx.txn_id;
            return be(status("INTERNAL_ERROR", format!("transaction {id} hasn't send any data yet")));
        }
        // Any outcome ends the BE context (success: the FE owns the txn now; failure: aborted).
        g.remove(label).unwrap()
    };
    let sh2 = sh.clone();
    let (ex, batch, commit_ms, publish, drop_reply) = tokio::task::spawn_blocking(move || {
        let (p, plan) = ctx.plan.as_ref().expect("planned on first load");
        let mut out = LoadOutput::default();
        let parsed = match p.format {
            // CSV chunks are one byte stream; each JSON chunk is a complete document set.
            Format::Csv => load::parse_body(plan, p, &ctx.bodies.concat(), &mut out),
            Format::Json => ctx.bodies.iter().try_for_each(|b| load::parse_body(plan, p, b, &mut out)),
        };
        let (ex, batch) = finish(&sh2, &ctx.db, &ctx.table, p, plan, out, parsed, commit);
        let tc = Instant::now();
        let (mut publish, mut drop_reply) = (None, false);
        match &ex.result {
            Err(m) => {
                sh2.labels.set_state(&ctx.db, ctx.txn_id, TxnState::Aborted, Some(m.clone()), None);
            }
            Ok(()) if commit => {
                if sh2.faults.any() {
                    publish = sh2.faults.take(FaultKind::PublishTimeout, &ctx.db, &ctx.table);
                    drop_reply = sh2.faults.take(FaultKind::CommitThenDrop, &ctx.db, &ctx.table).is_some();
                }
                match &publish {
                    Some(f) => sh2.labels.set_state(&ctx.db, ctx.txn_id, TxnState::Committed, None, Some(f.seconds.unwrap_or(5.0))),
                    None => sh2.labels.set_state(&ctx.db, ctx.txn_id, TxnState::Visible, None, None),
                };
            }
            Ok(()) => {
                sh2.labels.set_prepared(&ctx.db, ctx.txn_id, batch.clone().expect("kept when not applied"));
            }
        }
        (ex, (ctx.txn_id, ctx.received, ctx.plan_ms, ctx.received_ms), ms(tc.elapsed()), publish, drop_reply)
    })
    .await
    .map_err(std::io::Error::other)?;
    let (txn_id, received, plan_ms, received_ms) = batch;
    let mut o = match &ex.result {
        Err(m) => {
            let st = if m == "too many filtered rows" || m.starts_with("Failed to") || m.starts_with("The value") || m.starts_with("the value") || m.starts_with("illegal json") {
                "DATA_QUALITY_ERROR"
            } else {
                "INTERNAL_ERROR"
            };
            status(st, m.clone())
        }
        Ok(()) => {
            if drop_reply {
                conn.arm_reset();
                return dropped();
            }
            let (st, msg) = match publish {
                Some(_) => ("PUBLISH_TIMEOUT", format!("Publish timeout. The data will be visible after a while, txn_id: {txn_id}")),
                None => ("OK", String::new()),
            };
            let (total, loaded, filtered, unselected) = ex.out;
            status(st, msg)
                .put("Label", label)
                .put("TxnId", txn_id)
                .put("NumberTotalRows", total)
                .put("NumberLoadedRows", loaded)
                .put("NumberFilteredRows", filtered)
                .put("NumberUnselectedRows", unselected)
                .put("LoadBytes", received)
                .put("LoadTimeMs", ms(t0.elapsed()))
                .put("StreamLoadPlanTimeMs", plan_ms)
                .put("ReceivedDataTimeMs", received_ms)
                .put("WriteDataTimeMs", ms(t0.elapsed()).saturating_sub(commit_ms))
                .put("CommitAndPublishTimeMs", commit_ms)
        }
    };
    if let Some(u) = ex.error_url {
        o.push("ErrorURL", u);
    }
    be(o)
}

/// Abort contexts past their `timeout` or `idle_transaction_timeout` (StarRocks checks every
/// 30 s; the emulator every second so tests can use small timeouts).
pub async fn cleaner(sh: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        let now = sh.core.clock().now();
        let mut expired = Vec::new();
        {
            let mut g = sh.txns.map.lock().unwrap();
            g.retain(|_, c| {
                let reason = if now - c.begun >= c.timeout as f64 {
                    Some(format!("transaction is aborted by timeout {} seconds.", c.timeout))
                } else {
                    c.idle_timeout.filter(|&i| !c.busy && now - c.last_active >= i as f64).map(|i| format!("transaction is aborted by idle timeout {i} seconds."))
                };
                match reason {
                    Some(r) => {
                        expired.push((c.db.clone(), c.txn_id, r));
                        false
                    }
                    None => true,
                }
            });
        }
        for (db, id, reason) in expired {
            tracing::info!("txn {id} in {db}: {reason}");
            sh.labels.set_state(&db, id, TxnState::Aborted, Some(reason), None);
        }
        // Multi-table timeouts and due publishes, so they happen even when nobody asks.
        let core = sh.core.clone();
        let _ = tokio::task::spawn_blocking(move || core.tick()).await;
    }
}

// ---- FE -------------------------------------------------------------------------------------

pub async fn fe_handle(sh: &Arc<Shared>, conn: &Conn, req: Request<Incoming>, op: &str) -> HandlerResult {
    if let Err(r) = authenticate(sh, conn, req.headers()) {
        return Ok(r);
    }
    if !matches!(op, "begin" | "load" | "prepare" | "commit" | "rollback") {
        return Ok(super::response::not_found());
    }
    let h = req.headers();
    let db = header_str(h, "db").unwrap_or("").to_string();
    let label = header_str(h, "label").unwrap_or("").to_string();
    if db.is_empty() {
        return Ok(fe_failed("No database selected."));
    }
    if label.is_empty() {
        return Ok(fe_failed("empty label."));
    }
    if sh.multi_enabled {
        // StarRocks 4.0: `begin` with `transaction_type: multi` and every op but `load` on a
        // multi-table label are the FE's own business (no redirect).
        let multi = match op {
            "begin" => super::multi::is_multi_request(h),
            "load" => false,
            _ => {
                let core = sh.core.clone();
                let (d, l) = (db.clone(), label.clone());
                tokio::task::spawn_blocking(move || core.is_multi(&d, &l)).await.map_err(std::io::Error::other)?
            }
        };
        if multi {
            return super::multi::fe_op(sh, h, op, db, label).await;
        }
    }
    Ok(fe_single(sh, req, op, db, label).await)
}

/// The single-table transaction interface on the FE (§1.4).
async fn fe_single(sh: &Arc<Shared>, req: Request<Incoming>, op: &str, db: String, label: String) -> Response<Body> {
    if op == "commit" || op == "rollback" {
        if let Some(t) = sh.labels.lookup(&db, &label) {
            let ok = |msg: String| fe_pretty(StatusCode::OK, &Ordered::new().put("Status", "OK").put("Message", msg).put("Label", label.clone()));
            match (t.state(), op) {
                (TxnState::Prepared, "commit") => {
                    let Some(batch) = sh.labels.take_prepared(&db, t.id) else {
                        return fe_failed(&format!("{FE_EXCEPTION}: transaction {} has no data to commit", t.id));
                    };
                    let sh2 = sh.clone();
                    let (db2, table) = (db.clone(), t.table.clone());
                    let id = t.id;
                    let applied = tokio::task::spawn_blocking(move || {
                        let r = sh2.core.apply_ordered(&db2, &table, batch);
                        match &r {
                            Ok(_) => sh2.labels.set_state(&db2, id, TxnState::Visible, None, None),
                            Err(e) => sh2.labels.set_state(&db2, id, TxnState::Aborted, Some(e.clone()), None),
                        };
                        r
                    })
                    .await;
                    return match applied {
                        Ok(Ok(_)) => ok(String::new()),
                        Ok(Err(e)) => fe_failed(&format!("{FE_EXCEPTION}: {e}")),
                        Err(e) => fe_failed(&format!("{FE_EXCEPTION}: {e}")),
                    };
                }
                (TxnState::Prepared, _) => {
                    sh.labels.set_state(&db, t.id, TxnState::Aborted, Some("User Aborted".into()), None);
                    return ok(String::new());
                }
                (TxnState::Committed | TxnState::Visible, "commit") => return ok(format!("label {label} transaction {} has already committed", t.id)),
                (TxnState::Committed | TxnState::Visible, _) => {
                    return fe_failed(&format!("{FE_EXCEPTION}: cannot abort committed transaction {}, label {label} ", t.id))
                }
                (TxnState::Aborted, "rollback") => return ok(format!("label {label} transaction {} has already aborted", t.id)),
                (TxnState::Aborted, _) => return fe_failed(&format!("{FE_EXCEPTION}: cannot commit aborted transaction {}, label {label} ", t.id)),
                (TxnState::Prepare, _) => {}
            }
        }
    }
    let key = (db.clone(), label.clone());
    if op == "begin" {
        sh.fe_txn_routes.lock().unwrap().insert(key);
        return redirect(sh, req.uri());
    }
    let known = sh.fe_txn_routes.lock().unwrap().contains(&key) || sh.txns.map.lock().unwrap().contains_key(&label) || (sh.multi_enabled && sh.core.is_multi(&db, &label));
    if !known {
        return fe_failed(&format!("{FE_EXCEPTION}: transaction with op {op} label {label} has no node"));
    }
    redirect(sh, req.uri())
}

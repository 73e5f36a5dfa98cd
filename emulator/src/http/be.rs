//! The BE-like port: Stream Load itself (§1.3), the error-log endpoint and the BE half of the
//! transaction interface. A stream load runs in three phases: the header phase decides
//! everything it can before the body is touched (so a failure is answered without
//! `100 Continue` and without reading the body), the body phase reads and parses, and the
//! completion phase applies the filter ratio and commits.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, StatusCode};
use starrocks_emulator_store::model::{LoadBatch, LookupError, TableSchema};

use super::response::{self, be_json, StreamLoadReply};
use super::{dropped, header_str, query_param, Conn, HandlerResult, Shared};
use crate::auth::{self, Credentials};
use crate::faults::FaultKind;
use crate::labels::{label_error, running_limit_message, valid_label, BeginError, TxnState};
use crate::load::params::{parse_format, Format, LoadParams};
use crate::load::plan::Plan;
use crate::load::{self, LoadOutput, EMPTY_LOAD};

const MB: u64 = 1024 * 1024;

pub async fn handle(sh: Arc<Shared>, conn: Conn, req: Request<Incoming>) -> HandlerResult {
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method().clone(), parts.as_slice()) {
        (Method::PUT, ["api", db, table, "_stream_load"]) => {
            let (db, table) = (super::percent_decode(db), super::percent_decode(table));
            super::with_request_faults(&sh, "stream_load", &db.clone(), Some(&table.clone()), stream_load(&sh, &conn, req, db, table)).await
        }
        (Method::GET, ["api", "_load_error_log"]) => {
            let file = query_param(req.uri().query(), "file").unwrap_or_default();
            Ok(match sh.error_logs.get(&file) {
                Some(text) => response::text(StatusCode::OK, text),
                None => response::not_found(),
            })
        }
        (m, ["api", "_emulator", "faults"]) => Ok(super::fe::faults(&sh, m, req).await),
        (m, ["api", "_emulator", rest @ ..]) => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            Ok(super::fe::admin(&sh, m, req, &rest).await)
        }
        (Method::PUT, ["api", "transaction", "load"]) => {
            let (db, table) = txn_target(req.headers());
            super::with_request_faults(&sh, "load", &db, table.as_deref(), super::txn::be_load(&sh, &conn, req)).await
        }
        (Method::POST | Method::PUT, ["api", "transaction", op]) => {
            let op = op.to_string();
            let (db, table) = txn_target(req.headers());
            super::with_request_faults(&sh, &op.clone(), &db, table.as_deref(), super::txn::be_op(&sh, &conn, req, &op)).await
        }
        _ => Ok(response::not_found()),
    }
}

/// `db` and `table` headers of a transaction request, for fault matching.
fn txn_target(h: &HeaderMap) -> (String, Option<String>) {
    (header_str(h, "db").unwrap_or("").to_string(), header_str(h, "table").filter(|t| !t.is_empty()).map(str::to_string))
}

/// What `begin` (the FE's loadTxnBegin) checks, in its order: credentials, privilege, label
/// format, database, table, running-transaction limit, label uniqueness.
pub enum BeginFail {
    Fail(String),
    LabelExists { running: bool },
}

pub struct Begun {
    pub txn_id: i64,
    pub schema: Arc<TableSchema>,
}

pub fn begin_txn(sh: &Shared, conn: &Conn, cred: &Credentials, db: &str, table: &str, label: &str) -> Result<Begun, BeginFail> {
    if !sh.store.authenticate(&cred.user, &cred.password) {
        return Err(BeginFail::Fail(format!("Access denied for {}@{}", cred.user, conn.peer_ip())));
    }
    if !sh.store.can_insert(&cred.user, db, table) {
        return Err(BeginFail::Fail(super::fe::insert_denied(table)));
    }
    if !valid_label(label) {
        return Err(BeginFail::Fail(label_error(label)));
    }
    let schema = match sh.store.table(db, table) {
        Ok(s) => s,
        Err(LookupError::UnknownDatabase) => return Err(BeginFail::Fail(format!("unknown database, database={db}"))),
        Err(LookupError::UnknownTable) => return Err(BeginFail::Fail(format!("unknown table \"{db}.{table}\""))),
    };
    let db_id = || sh.store.database_id(db).unwrap_or(0);
    if sh.faults.take(FaultKind::RunningTxnsLimit, db, table).is_some() {
        let limit = sh.limits.max_running_txn_num_per_db;
        return Err(BeginFail::Fail(running_limit_message(db_id(), limit.max(sh.labels.running_count(db)), limit)));
    }
    // the limit itself is checked by `begin`, atomically with adding the transaction
    match sh.labels.begin(db, table, label) {
        Ok(txn_id) => Ok(Begun { txn_id, schema }),
        Err(BeginError::TooManyRunning { running, limit }) => Err(BeginFail::Fail(running_limit_message(db_id(), running, limit))),
        Err(BeginError::LabelExists { running }) => {
            if sh.faults.take(FaultKind::LabelExistsFailVariant, db, table).is_some() {
                return Err(BeginFail::Fail(format!("Label [{label}] has already been used. (emulated 3.3/3.4 reply)")));
            }
            Err(BeginFail::LabelExists { running })
        }
    }
}

pub fn label_used(label: &str) -> String {
    format!("Label [{label}] has already been used.")
}

enum BodyError {
    TooBig(u64),
    Read(String),
}

/// Read the whole body, polling frame by frame (the first poll makes hyper send
/// `100 Continue`) into a pooled buffer; more than `limit` bytes is an error.
/// `rate`: read no faster than this many bytes per second (the `throttle` fault).
async fn read_body(sh: &Shared, body: Incoming, limit: u64, hint: Option<u64>, rate: Option<u64>) -> Result<Vec<u8>, BodyError> {
    let mut body = body;
    let mut buf = sh.buffers.take(hint.unwrap_or(64 * 1024).min(limit) as usize);
    let started = Instant::now();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
            if buf.len() as u64 > limit {
                return Err(BodyError::TooBig(buf.len() as u64));
            }
            if let Some(bps) = rate {
                // not polling the body leaves the bytes in the socket: the client's send blocks
                let due = Duration::from_secs_f64(buf.len() as f64 / bps.max(1) as f64);
                if let Some(ahead) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(ahead).await;
                }
            }
        }
    }
    Ok(buf)
}

fn content_length(h: &HeaderMap) -> Option<u64> {
    header_str(h, "content-length").and_then(|v| v.trim().parse().ok())
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

pub fn body_too_big(n: u64, limit_mb: u64, label: &str) -> String {
    format!(
        "body size {n} exceed limit: {}, id=-1, label={label}. You can increase the limit by setting streaming_load_max_mb in be.conf.",
        limit_mb * MB
    )
}

async fn stream_load(sh: &Arc<Shared>, conn: &Conn, req: Request<Incoming>, db: String, table: String) -> HandlerResult {
    let t0 = Instant::now();
    let (parts, body) = req.into_parts();
    let h = &parts.headers;
    let label = header_str(h, "label").filter(|l| !l.is_empty()).map(str::to_string).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let reply = |r: StreamLoadReply| Ok(be_json(&r.to_ordered()));
    let fail = |msg: String| reply(StreamLoadReply::fail(&label, msg));

    // ---- header phase: nothing here reads the body ----
    let Some(cred) = auth::basic(h) else { return fail("no valid Basic authorization".into()) };
    let cl = content_length(h);
    let max_bytes = sh.limits.streaming_load_max_mb * MB;
    if let Some(n) = cl {
        if n > max_bytes {
            return fail(body_too_big(n, sh.limits.streaming_load_max_mb, &label));
        }
    }
    let (format, _) = match parse_format(h) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let ignore_json_size = header_str(h, "ignore_json_size").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false);
    if let (Format::Json, Some(n), false) = (format, cl, ignore_json_size) {
        if n > sh.limits.json_max_mb * MB {
            return fail(format!(
                "The size of this batch exceed the max size [{}]  of json type data  data [ {n} ]. Set ignore_json_size to skip the check, although it may lead huge memory consuming.",
                sh.limits.json_max_mb * MB
            ));
        }
    }
    if let Some(t) = header_str(h, "timeout").filter(|t| !t.is_empty()) {
        if t.trim().parse::<u64>().is_err() {
            return fail("Invalid timeout format".into());
        }
    }
    if sh.faults.any() && sh.faults.take(FaultKind::Http500, &db, &table).is_some() {
        let mut r = be_json(&StreamLoadReply::fail(&label, "emulated fault: internal server error").to_ordered());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return Ok(r);
    }
    if sh.shutting_down.load(Ordering::Relaxed) {
        return fail("Service is shutting down, please retry later!".into());
    }
    let tb = Instant::now();
    let begun = match begin_txn(sh, conn, &cred, &db, &table, &label) {
        Ok(b) => b,
        Err(BeginFail::Fail(m)) => return fail(m),
        Err(BeginFail::LabelExists { running }) => {
            let mut r = StreamLoadReply::fail(&label, label_used(&label));
            r.status = "Label Already Exists".into();
            r.existing_job_status = Some(if running { "RUNNING" } else { "FINISHED" }.into());
            return reply(r);
        }
    };
    let txn_id = begun.txn_id;
    // From here on the transaction must end ABORTED unless committed, even if the client goes
    // away and hyper drops this future.
    let mut guard = TxnGuard { sh: sh.clone(), db: db.clone(), txn_id, done: false };
    let begin_ms = ms(tb.elapsed());
    let mut rep = StreamLoadReply { txn_id, label: label.clone(), begin_txn_time_ms: begin_ms, ..Default::default() };
    let abort = |guard: &mut TxnGuard, mut rep: StreamLoadReply, msg: String| {
        guard.abort(&msg);
        rep.status = "Fail".into();
        rep.message = msg;
        rep.load_time_ms = ms(t0.elapsed());
        reply(rep)
    };
    let tp = Instant::now();
    let planned = LoadParams::from_headers(h, false).and_then(|p| {
        if sh.multi_enabled && h.contains_key("transaction_type") {
            return Err("Multi-statement transaction requests can only be sent to FE nodes, not BE nodes".into());
        }
        Plan::new(begun.schema.clone(), &p, p.format == Format::Json).map(|plan| (p, plan))
    });
    let (params, plan) = match planned {
        Ok(x) => x,
        Err(m) => return abort(&mut guard, rep, m),
    };
    rep.plan_time_ms = ms(tp.elapsed());

    // ---- body phase: the first poll sends 100 Continue ----
    let tr = Instant::now();
    if sh.faults.any() && sh.faults.take(FaultKind::ResetMidBody, &db, &table).is_some() {
        let mut body = body;
        let _ = body.frame().await; // read some of the body, then vanish
        guard.abort("connection reset (emulated fault)");
        conn.arm_reset();
        return dropped();
    }
    if sh.faults.any() {
        if let Some(f) = sh.faults.take(FaultKind::StallMidBody, &db, &table) {
            let mut body = body;
            let _ = body.frame().await; // read some of the body, then stop reading
            tokio::time::sleep(super::silent_for(&f)).await;
            guard.abort("the body stopped arriving (emulated stall_mid_body fault)");
            return dropped();
        }
    }
    let throttle = if sh.faults.any() {
        sh.faults.take(FaultKind::Throttle, &db, &table).map(|f| f.bytes_per_second.unwrap_or(1 << 20))
    } else {
        None
    };
    let raw = match read_body(sh, body, max_bytes, cl, throttle).await {
        Ok(b) => b,
        Err(BodyError::TooBig(n)) => return abort(&mut guard, rep, body_too_big(n, sh.limits.streaming_load_max_mb, &label)),
        Err(BodyError::Read(e)) => {
            guard.abort(&format!("failed to read body: {e}"));
            return dropped();
        }
    };
    rep.load_bytes = raw.len() as u64;
    rep.read_data_time_ms = ms(tr.elapsed());
    if let Some(n) = cl {
        if n != raw.len() as u64 {
            return abort(&mut guard, rep, "receive body don't equal with body bytes".into());
        }
    }
    if sh.faults.any() {
        if let Some(f) = sh.faults.take(FaultKind::HoldPrepare, &db, &table) {
            // PREPARE for the fault's time whether or not the client stays: the guard lives in a
            // task of its own, which aborts the transaction at the end
            let held = super::silent_for(&f);
            tokio::spawn(async move {
                tokio::time::sleep(held).await;
                drop(guard);
            });
            tokio::time::sleep(held).await;
            return dropped();
        }
        if let Some(f) = sh.faults.take(FaultKind::Hang, &db, &table) {
            let secs = f.seconds.unwrap_or(60.0);
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            return abort(&mut guard, rep, format!("Timeout by txn manager: the emulator held this load for {secs} s (hang fault)"));
        }
    }

    // ---- completion phase: parse, filter ratio, commit (on a blocking thread, with the guard,
    // so a client that disconnects now cannot leave the transaction half done) ----
    let tw = Instant::now();
    let sh2 = sh.clone();
    let (db2, table2) = (db.clone(), table.clone());
    let (outcome, commit_ms, publish, drop_reply) = tokio::task::spawn_blocking(move || {
        let mut guard = guard;
        let ex = execute(&sh2, &db2, &table2, &params, &plan, raw);
        let tc = Instant::now();
        let (mut publish, mut drop_reply) = (None, false);
        match &ex.result {
            Err(m) => guard.abort(m),
            Ok(()) => {
                // Commit-time faults are consumed only by loads that get as far as committing.
                if sh2.faults.any() {
                    publish = sh2.faults.take(FaultKind::PublishTimeout, &db2, &table2);
                    drop_reply = sh2.faults.take(FaultKind::CommitThenDrop, &db2, &table2).is_some();
                }
                match &publish {
                    Some(f) => guard.finish(TxnState::Committed, Some(f.seconds.unwrap_or(5.0))),
                    None => guard.finish(TxnState::Visible, None),
                }
            }
        }
        (ex, ms(tc.elapsed()), publish, drop_reply)
    })
    .await
    .map_err(std::io::Error::other)?;
    rep.write_data_time_ms = ms(tw.elapsed()).saturating_sub(commit_ms);
    let Executed { out, result, error_url } = outcome;
    (rep.total_rows, rep.loaded_rows, rep.filtered_rows, rep.unselected_rows) = out;
    rep.error_url = error_url;
    rep.load_time_ms = ms(t0.elapsed());
    match result {
        Err(m) => {
            rep.status = "Fail".into();
            rep.message = m;
        }
        Ok(()) => {
            if drop_reply {
                conn.arm_reset();
                return dropped();
            }
            rep.commit_publish_time_ms = commit_ms;
            if publish.is_some() {
                rep.status = "Publish Timeout".into();
                rep.message = format!("Publish timeout. The data will be visible after a while, txn_id: {txn_id}");
            } else {
                rep.status = "Success".into();
                rep.message = "OK".into();
            }
        }
    }
    reply(rep)
}

/// Ends a begun transaction exactly once: explicitly (`abort`/`finish`) or, if the handler is
/// dropped first (client gone), ABORTED on drop.
pub struct TxnGuard {
    pub sh: Arc<Shared>,
    pub db: String,
    pub txn_id: i64,
    pub done: bool,
}

impl TxnGuard {
    pub fn abort(&mut self, reason: &str) {
        if !self.done {
            self.sh.labels.set_state(&self.db, self.txn_id, TxnState::Aborted, Some(reason.to_string()), None);
            self.done = true;
        }
    }
    pub fn finish(&mut self, state: TxnState, visible_after: Option<f64>) {
        if !self.done {
            self.sh.labels.set_state(&self.db, self.txn_id, state, None, visible_after);
            self.done = true;
        }
    }
}

impl Drop for TxnGuard {
    fn drop(&mut self) {
        self.abort("the client closed the connection before the load finished");
    }
}

pub struct Executed {
    /// (total, loaded, filtered, unselected)
    pub out: (u64, u64, u64, u64),
    pub result: Result<(), String>,
    pub error_url: Option<String>,
}

/// Decompress, parse, apply the filter ratio and the data faults, then write into the store.
/// Runs on a blocking thread: parsing a large body is CPU-bound.
pub fn execute(sh: &Shared, db: &str, table: &str, p: &LoadParams, plan: &Plan, raw: Vec<u8>) -> Executed {
    let mut out = LoadOutput::default();
    let parsed = load::decompress(p.compression, raw).and_then(|body| {
        let r = load::parse_body(plan, p, &body, &mut out);
        sh.buffers.give(body);
        r
    });
    finish(sh, db, table, p, plan, out, parsed, true).0
}

/// Shared by stream load and the transaction interface: counters, ErrorURL, ratio, empty-load
/// check, data faults, and (when `apply`) the write itself.
#[allow(clippy::too_many_arguments)]
/// Without `apply`, the checked batch is handed back (a PREPARED transaction parks it).
pub fn finish(sh: &Shared, db: &str, table: &str, p: &LoadParams, plan: &Plan, out: LoadOutput, parsed: Result<(), String>, apply: bool) -> (Executed, Option<LoadBatch>) {
    let counts = |o: &LoadOutput| (o.total, o.rows.len() as u64, o.filtered, o.unselected);
    let error_url = (!out.errors.is_empty()).then(|| format!("{}/api/_load_error_log?file={}", sh.be_base(), sh.error_logs.put(&out.errors)));
    if let Err(m) = parsed {
        return (Executed { out: counts(&out), result: Err(m), error_url }, None);
    }
    let c = counts(&out);
    let mut kept = None;
    let result = (|| {
        if out.over_ratio(p.max_filter_ratio) {
            return Err("too many filtered rows".to_string());
        }
        if out.rows.is_empty() {
            return Err(EMPTY_LOAD.to_string());
        }
        if sh.faults.any() {
            if sh.faults.take(FaultKind::MemLimit, db, table).is_some() {
                return Err("Memory of process exceed limit. QUERY Backend: 127.0.0.1, fragment: emulated, Used: 2147483648, Limit: 2147483648. Mem usage has exceed the limit of single query, You can change the limit by set session variable query_mem_limit.".to_string());
            }
            if sh.faults.take(FaultKind::TooManyVersions, db, table).is_some() {
                return Err("Failed to load data into tablet 10001, because of too many versions, current/limit: 1000/1000. You can reduce the loading job concurrency, or increase loading data batch size. If you are loading data with Routine Load, you can increase FE configs routine_load_task_consume_second and max_routine_load_batch_size,".to_string());
            }
        }
        if apply {
            sh.core.apply_ordered(db, table, out.into_batch(plan)).map(|_| ())
        } else {
            kept = Some(out.into_batch(plan));
            Ok(())
        }
    })();
    (Executed { out: c, result, error_url }, kept)
}

//! The FE-like port: authenticates, checks `Expect`, redirects loads to the BE with 307, answers
//! `get_load_state`, routes the transaction interface (committing/aborting PREPARED transactions
//! itself), and hosts the emulator-only fault endpoint.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode, Version};

use super::response::{self, fe_compact, fe_failed, fe_unauthorized, rest_failed, Body, Ordered};
use super::{query_param, Conn, HandlerResult, Shared};
use crate::auth;
use crate::faults::{FaultKind, FaultSpec};
use crate::labels::TxnState;

const DDL_EXCEPTION: &str = "class com.starrocks.common.DdlException";

pub async fn handle(sh: Arc<Shared>, conn: Conn, req: Request<Incoming>) -> HandlerResult {
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method().clone(), parts.as_slice()) {
        (m, ["api", "_emulator", "faults"]) => Ok(faults(&sh, m, req).await),
        (m, ["api", "_emulator", rest @ ..]) => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            Ok(admin(&sh, m, req, &rest).await)
        }
        (Method::PUT, ["api", db, table, "_stream_load"]) => {
            let (db, table) = (super::percent_decode(db), super::percent_decode(table));
            if sh.faults.any() {
                if let Some(f) = sh.faults.take(FaultKind::FeSilent, &db, &table) {
                    tokio::time::sleep(super::silent_for(&f)).await;
                    return super::dropped();
                }
            }
            Ok(close(stream_load(&sh, &conn, &req, &db, &table)))
        }
        (Method::POST | Method::PUT, ["api", "transaction", op]) => {
            let op = op.to_string();
            super::txn::fe_handle(&sh, &conn, req, &op).await
        }
        (Method::GET, ["api", db, "get_load_state"]) => {
            let db = super::percent_decode(db);
            super::with_request_faults(&sh, "get_load_state", &db, None, async { Ok(get_load_state(&sh, &conn, &req, &db)) }).await
        }
        _ => Ok(response::not_found()),
    }
}

/// LoadAction replies carry `Connection: close`; hyper then closes the socket after replying,
/// discarding any body the client started sending.
fn close(mut r: Response<Body>) -> Response<Body> {
    r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    r
}

/// RestBaseAction authentication: 401 with the RestBaseResult shape on failure. (The error is a
/// whole response so callers can return it as is; it is built once per failed request.)
#[allow(clippy::result_large_err)]
pub fn authenticate(sh: &Shared, conn: &Conn, headers: &hyper::HeaderMap) -> Result<String, Response<Body>> {
    let Some(c) = auth::basic(headers) else { return Err(fe_unauthorized("Need auth information.")) };
    if !sh.store.authenticate(&c.user, &c.password) {
        return Err(fe_unauthorized(&format!("Access denied for {}@{}", c.user, conn.peer_ip())));
    }
    Ok(c.user)
}

pub fn insert_denied(table: &str) -> String {
    format!(
        "Access denied; you need (at least one of) the INSERT privilege(s) on TABLE {table} for this operation. Please ask the admin to grant permission(s) or try activating existing roles using <set [default] role>. Current role(s): NONE. Inactivated role(s): NONE."
    )
}

fn stream_load(sh: &Shared, conn: &Conn, req: &Request<Incoming>, db: &str, table: &str) -> Response<Body> {
    let user = match authenticate(sh, conn, req.headers()) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let expect_ok = req.headers().get(header::EXPECT).and_then(|v| v.to_str().ok()).map(|v| v.eq_ignore_ascii_case("100-continue")).unwrap_or(false);
    if req.version() >= Version::HTTP_11 && !expect_ok {
        return fe_failed(&format!("{DDL_EXCEPTION}: There is no 100-continue header"));
    }
    if db.is_empty() {
        return fe_failed("No database selected.");
    }
    if table.is_empty() {
        return fe_failed("No table selected.");
    }
    if !sh.store.can_insert(&user, db, table) {
        return fe_unauthorized(&insert_denied(table));
    }
    if sh.faults.take(FaultKind::NoBackend, db, table).is_some() {
        return fe_failed(&format!("{DDL_EXCEPTION}: No backend alive."));
    }
    if sh.faults.take(FaultKind::Http500, db, table).is_some() {
        return fe_compact(StatusCode::INTERNAL_SERVER_ERROR, &rest_failed("emulated fault: internal server error"));
    }
    redirect(sh, req.uri())
}

/// 307 to the BE with the original path and query, verbatim.
pub fn redirect(sh: &Shared, uri: &hyper::Uri) -> Response<Body> {
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Response::builder()
        .status(StatusCode::TEMPORARY_REDIRECT)
        .header(header::LOCATION, format!("{}{}", sh.be_base(), pq))
        .header(header::CONTENT_LENGTH, "0")
        .body(Body::default())
        .expect("valid redirect")
}

fn get_load_state(sh: &Shared, conn: &Conn, req: &Request<Incoming>, db: &str) -> Response<Body> {
    if let Err(r) = authenticate(sh, conn, req.headers()) {
        return r;
    }
    let label = query_param(req.uri().query(), "label").unwrap_or_default();
    if db.is_empty() || label.is_empty() {
        return fe_compact(StatusCode::OK, &rest_failed("No label selected."));
    }
    if sh.store.database_id(db).is_none() {
        return fe_compact(StatusCode::OK, &rest_failed(&format!("unknown database, database={db}")));
    }
    // Timeouts and publishes that are due happen before the state is read.
    sh.core.tick();
    let mut o = Ordered::new();
    match sh.labels.lookup(db, &label) {
        None => o.push("state", "UNKNOWN"),
        Some(t) => {
            let state = t.state();
            o.push("state", state.name());
            if let (TxnState::Aborted, Some(r)) = (state, &t.reason) {
                o.push("reason", r.clone());
            }
        }
    }
    let o = o.put("status", "OK").put("code", "0").put("msg", "Success").put("message", "OK");
    fe_compact(StatusCode::OK, &o)
}

/// `POST` arms a fault (JSON body `{"kind":..,"count":..,"table":..,"seconds":..}`), `GET` lists
/// armed faults, `DELETE` disarms all. Emulator-only; no auth so tests stay simple.
pub async fn faults(sh: &Shared, m: Method, req: Request<Incoming>) -> Response<Body> {
    match m {
        Method::GET => response::json_response(StatusCode::OK, serde_json::to_string(&sh.faults.list()).unwrap()),
        Method::DELETE => {
            sh.faults.clear();
            response::json_response(StatusCode::OK, r#"{"status":"OK"}"#.into())
        }
        Method::POST | Method::PUT => {
            let body = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return response::text(StatusCode::BAD_REQUEST, format!("cannot read body: {e}")),
            };
            match serde_json::from_slice::<FaultSpec>(&body).map_err(|e| e.to_string()).and_then(|s| s.validate().map(|_| s)) {
                Ok(spec) => {
                    tracing::info!("fault armed: {spec:?}");
                    sh.faults.add(spec);
                    response::json_response(StatusCode::OK, serde_json::to_string(&sh.faults.list()).unwrap())
                }
                Err(e) => response::json_response(StatusCode::BAD_REQUEST, serde_json::json!({"status": "FAILED", "message": e}).to_string()),
            }
        }
        _ => response::not_found(),
    }
}

#[derive(serde::Deserialize)]
struct Retention {
    keep_max_second: Option<f64>,
    keep_max_num: Option<usize>,
}

fn admin_ok(extra: serde_json::Value) -> Response<Body> {
    let mut v = serde_json::json!({"status": "OK"});
    if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    response::json_response(StatusCode::OK, v.to_string())
}

fn admin_failed(msg: &str) -> Response<Body> {
    response::json_response(StatusCode::BAD_REQUEST, serde_json::json!({"status": "FAILED", "message": msg}).to_string())
}

/// Emulator-only controls besides faults (no auth, like `faults`):
/// `POST fe_restart` aborts every running multi-table transaction; `GET|POST labels` reads or
/// sets the label retention (`{"keep_max_second": f, "keep_max_num": n}`, either optional);
/// `POST labels/evict?db=X` forgets every finished label of X now.
pub async fn admin(sh: &Arc<Shared>, m: Method, req: Request<Incoming>, rest: &[String]) -> Response<Body> {
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let retention = |sh: &Shared| {
        let (s, n) = sh.labels.retention();
        serde_json::json!({"keep_max_second": s, "keep_max_num": n})
    };
    match (m, rest.as_slice()) {
        (Method::POST | Method::PUT, ["fe_restart"]) => {
            let core = sh.core.clone();
            let _ = tokio::task::spawn_blocking(move || core.fe_restart()).await;
            tracing::info!("emulated FE restart: running multi-table transactions aborted");
            admin_ok(serde_json::json!({}))
        }
        (Method::GET, ["labels"]) => admin_ok(retention(sh)),
        (Method::GET, ["txn_stats"]) => admin_ok(serde_json::json!({"dbs": sh.labels.stats()})),
        (Method::DELETE, ["txn_stats"]) => {
            sh.labels.reset_stats();
            admin_ok(serde_json::json!({}))
        }
        (Method::POST | Method::PUT, ["labels"]) => {
            let body = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return admin_failed(&format!("cannot read body: {e}")),
            };
            match serde_json::from_slice::<Retention>(&body) {
                Ok(r) => {
                    let (s, n) = sh.labels.retention();
                    sh.core.set_retention(r.keep_max_second.unwrap_or(s), r.keep_max_num.unwrap_or(n));
                    admin_ok(retention(sh))
                }
                Err(e) => admin_failed(&e.to_string()),
            }
        }
        (Method::POST | Method::PUT, ["labels", "evict"]) => match query_param(req.uri().query(), "db").filter(|d| !d.is_empty()) {
            Some(db) => {
                let core = sh.core.clone();
                let d = db.clone();
                let _ = tokio::task::spawn_blocking(move || core.evict_finished(&d)).await;
                admin_ok(serde_json::json!({"db": db}))
            }
            None => admin_failed("db query parameter required"),
        },
        _ => response::not_found(),
    }
}

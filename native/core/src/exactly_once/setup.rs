//! What exactly-once mode checks before a task loads anything: that StarRocks has multi-table
//! transactions (4.0 and later), and that the register exists (created when allowed). The
//! version check also runs when the connector's config is validated, so an old cluster refuses
//! the connector before it is created; at-least-once with `sink.transaction.multi-table.enabled`
//! asks the same (`multi_table.rs`), and each message names the key that asked.

use std::time::Duration;

use super::register::Register;
use crate::sql::{parse_version, SqlClient};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime;

/// How long validation waits for the query port: Connect's REST call that validates waits 90 s
/// in all, and a slow answer there is worse than leaving the check to the task.
const VALIDATION_WAIT: Duration = Duration::from_secs(10);

/// The oldest StarRocks with multi-table Stream Load transactions.
pub const MIN_VERSION: (u32, u32) = (4, 0);

/// The setting that asks for exactly-once.
pub const ASKED_BY_EXACTLY_ONCE: &str = "delivery.guarantee=exactly_once";
/// The setting that asks at-least-once for multi-table transactions.
pub const ASKED_BY_MULTI_TABLE: &str = "sink.transaction.multi-table.enabled=true";

/// Fails with a `CONFIG` error naming the version, and `asked_by` (the setting that needs
/// multi-table transactions, e.g. [`ASKED_BY_EXACTLY_ONCE`]), when StarRocks is older than 4.0.
pub async fn check_version(sql: &SqlClient, asked_by: &str) -> Result<String> {
    let rows = sql
        .query("SELECT current_version()")
        .await
        .map_err(|e| Error::retriable(format!("{}: cannot ask the StarRocks version: {}", asked_by, e)))?;
    let v = rows.first().and_then(|r| r.first().cloned().flatten()).unwrap_or_default();
    match parse_version(&v) {
        Some(mm) if mm >= MIN_VERSION => Ok(v),
        Some(_) => Err(Error::config(format!(
            "{} needs StarRocks {}.{} or later (multi-table transactions); this cluster runs {}",
            asked_by, MIN_VERSION.0, MIN_VERSION.1, v
        ))),
        None => Err(Error::config(format!("{}: cannot read the StarRocks version '{}'", asked_by, v))),
    }
}

/// For the connector's validation: with `delivery.guarantee=exactly_once` or
/// `sink.transaction.multi-table.enabled=true`, why this cluster cannot take it (older than 4.0,
/// or a version that cannot be read), naming the setting. Nothing when the config asks for
/// neither, does not parse (its own keys carry that error), or StarRocks cannot be reached in
/// time: a cluster that is down while the connector is created must not keep it from being
/// created, and the task checks again on start.
pub fn validation_problem(config: &str) -> Option<String> {
    let cfg = Config::from_document(config).ok()?;
    let asked_by = match (&cfg.exactly_once, cfg.multi_table) {
        (Some(_), _) => ASKED_BY_EXACTLY_ONCE,
        (None, true) => ASKED_BY_MULTI_TABLE,
        (None, false) => return None,
    };
    let rt = runtime::acquire().ok()?;
    let q = &cfg.query_address;
    let sql = SqlClient::new(&q.host, q.port, &cfg.username, cfg.password.as_str(), VALIDATION_WAIT);
    let answer = rt.handle().block_on(async {
        let answer = tokio::time::timeout(VALIDATION_WAIT, check_version(&sql, asked_by)).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), sql.close()).await;
        answer
    });
    match answer {
        Ok(Err(e)) if e.kind == ErrorKind::Config => Some(e.message),
        _ => None,
    }
}

/// Makes sure the register table exists: creates it when `create` is set, else fails naming
/// the statement to run.
pub async fn ensure_register(sql: &SqlClient, register: &Register, create: bool) -> Result<()> {
    let probe = format!("SELECT next_offset FROM `{}`.`{}` LIMIT 1", register.db, register.table);
    if sql.query(&probe).await.is_ok() {
        return Ok(());
    }
    if !create {
        return Err(Error::config(format!(
            "the exactly-once register {}.{} does not exist and creating it is not allowed; create it with: {}",
            register.db,
            register.table,
            register.create_sql()
        )));
    }
    sql.execute(&register.create_sql())
        .await
        .map_err(|e| Error::config(format!("cannot create the exactly-once register {}.{}: {}", register.db, register.table, e)))
}

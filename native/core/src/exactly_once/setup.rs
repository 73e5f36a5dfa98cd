//! What exactly-once mode checks before a task loads anything: that StarRocks has multi-table
//! transactions (4.0 and later), and that the register exists (created when allowed).

use super::register::Register;
use super::sql::{parse_version, SqlClient};
use crate::error::{Error, Result};

/// The oldest StarRocks with multi-table Stream Load transactions.
pub const MIN_VERSION: (u32, u32) = (4, 0);

/// Fails with a `CONFIG` error naming the version when StarRocks is older than 4.0.
pub async fn check_version(sql: &SqlClient) -> Result<String> {
    let rows = sql
        .query("SELECT current_version()")
        .await
        .map_err(|e| Error::retriable(format!("delivery.guarantee=exactly_once: cannot ask the StarRocks version: {}", e)))?;
    let v = rows.first().and_then(|r| r.first().cloned().flatten()).unwrap_or_default();
    match parse_version(&v) {
        Some(mm) if mm >= MIN_VERSION => Ok(v),
        Some(_) => Err(Error::config(format!(
            "delivery.guarantee=exactly_once needs StarRocks {}.{} or later (multi-table transactions); this cluster runs {}",
            MIN_VERSION.0, MIN_VERSION.1, v
        ))),
        None => Err(Error::config(format!("delivery.guarantee=exactly_once: cannot read the StarRocks version '{}'", v))),
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

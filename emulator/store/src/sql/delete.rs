//! `DELETE FROM t [WHERE cond]`: the condition runs on SQLite over a scratch copy, the matching
//! rows leave the store (both table models, as StarRocks allows).

use sqlparser::ast::{FromTable, Statement, TableFactor};

use super::select::{name_parts, parse_one, resolve_table_name, substitute};
use super::{Output, Session, SqlError};
use crate::catalog::Catalog;

pub fn run(cat: &Catalog, session: &Session, sql: &str) -> Result<Output, SqlError> {
    let mut stmt = parse_one(sql)?;
    substitute(&mut stmt, session, &cat.version())?;
    let Statement::Delete(del) = &stmt else {
        return Err(SqlError::unsupported("This DELETE form"));
    };
    if !del.tables.is_empty()
        || del.using.is_some()
        || !del.order_by.is_empty()
        || del.limit.is_some()
    {
        return Err(SqlError::unsupported(
            "Multi-table DELETE, DELETE ... USING/ORDER BY/LIMIT",
        ));
    }
    let from = match &del.from {
        FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
    };
    let [twj] = from.as_slice() else {
        return Err(SqlError::unsupported("DELETE from more than one table"));
    };
    if !twj.joins.is_empty() {
        return Err(SqlError::unsupported("DELETE with JOIN"));
    }
    let TableFactor::Table { name, alias, .. } = &twj.relation else {
        return Err(SqlError::unsupported("This DELETE target"));
    };
    let (db, tname) = resolve_table_name(session, &name_parts(name)?)?;
    let table = cat.table_by_name(&db, &tname)?;
    if !cat.has_privilege(&session.user, "DELETE", &db, &tname) {
        return Err(SqlError::new(
            1142,
            "42000",
            format!("Access denied; you need (at least one of) the DELETE privilege(s) on TABLE {tname} for this operation."),
        ));
    }
    let alias = alias
        .as_ref()
        .map(|a| a.name.value.clone())
        .unwrap_or(tname);
    let condition = del.selection.as_ref().map(|e| e.to_string());
    let n = cat.delete_where(&table, &alias, condition.as_deref())?;
    let label = format!(
        "delete_{:016x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    );
    Ok(Output {
        info: format!(
            "{{'label':'{label}', 'status':'VISIBLE', 'txnId':'{}'}}",
            super::insert::next_txn()
        ),
        ..Output::ok(n)
    })
}

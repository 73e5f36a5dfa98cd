//! `INSERT INTO t [(cols)] VALUES (...), ...` with literal values, applied as one load batch (so
//! it follows the table model and is logged like a stream load).

use sqlparser::ast::{Expr, SetExpr, Statement, TableObject, UnaryOperator, Value};

use super::select::{name_parts, parse_one, resolve_table_name};
use super::{Output, Session, SqlError};
use crate::catalog::Catalog;
use crate::model::{LoadBatch, LoadRow, RowOp};
use crate::types;

/// INSERT's transaction ids, only shown in its OK info.
static NEXT_TXN: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1_000_000);

pub(crate) fn next_txn() -> i64 {
    NEXT_TXN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A literal's text; `None` for NULL.
fn literal(e: &Expr) -> Result<Option<String>, SqlError> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Null => Ok(None),
            Value::Number(n, _) => Ok(Some(n.clone())),
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Ok(Some(s.clone())),
            Value::Boolean(b) => Ok(Some(if *b { "1" } else { "0" }.into())),
            other => Err(SqlError::unsupported(&format!("INSERT value {other}"))),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match literal(expr)? {
            Some(n) => Ok(Some(format!("-{n}"))),
            None => Ok(None),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => literal(expr),
        other => Err(SqlError::unsupported(&format!(
            "INSERT value expression `{other}` (only literals)"
        ))),
    }
}

pub fn run(cat: &Catalog, session: &Session, sql: &str) -> Result<Output, SqlError> {
    let Statement::Insert(ins) = parse_one(sql)? else {
        return Err(SqlError::unsupported("This INSERT form"));
    };
    if ins.overwrite {
        return Err(SqlError::unsupported("INSERT OVERWRITE"));
    }
    let TableObject::TableName(name) = &ins.table else {
        return Err(SqlError::unsupported("INSERT INTO FUNCTION"));
    };
    let (db, tname) = resolve_table_name(session, &name_parts(name)?)?;
    let table = cat.table_by_name(&db, &tname)?;
    if !cat.has_privilege(&session.user, "INSERT", &db, &tname) {
        return Err(SqlError::new(
            1142,
            "42000",
            format!("Access denied; you need (at least one of) the INSERT privilege(s) on TABLE {tname} for this operation."),
        ));
    }
    let schema = &table.schema;
    let targets: Vec<usize> = if ins.columns.is_empty() {
        (0..schema.columns.len()).collect()
    } else {
        let mut v = Vec::new();
        for c in &ins.columns {
            let n = c.to_string();
            let n = n.trim_matches('`');
            v.push(schema.column_index(n).ok_or_else(|| {
                SqlError::analysis(&format!("Unknown column '{n}' in '{tname}'"))
            })?);
        }
        v
    };
    let Some(source) = &ins.source else {
        return Err(SqlError::unsupported("INSERT without VALUES"));
    };
    let SetExpr::Values(values) = source.body.as_ref() else {
        return Err(SqlError::unsupported("INSERT ... SELECT"));
    };
    let mut rows = Vec::with_capacity(values.rows.len());
    for r in &values.rows {
        let exprs = &r.content;
        if exprs.len() != targets.len() {
            return Err(SqlError::analysis(&format!(
                "Column count doesn't match value count: expected {}, got {}",
                targets.len(),
                exprs.len()
            )));
        }
        let mut row = vec![None; schema.columns.len()];
        let mut given = vec![false; schema.columns.len()];
        for (&i, e) in targets.iter().zip(exprs) {
            let col = &schema.columns[i];
            given[i] = true;
            row[i] = match literal(e)? {
                None if !col.nullable => {
                    return Err(SqlError::analysis(&format!("Insert has filtered data in strict mode: NULL value in non-nullable column '{}'", col.name)))
                }
                None => None,
                Some(text) => Some(types::from_text(&col.ty, &text).map_err(|m| {
                    SqlError::analysis(&format!("Insert has filtered data in strict mode: {m} for column '{}'", col.name))
                })?),
            };
        }
        for (i, col) in schema.columns.iter().enumerate() {
            if given[i] {
                continue;
            }
            row[i] = match &col.default {
                Some(d) => d.clone(),
                None if col.nullable => None,
                None => {
                    return Err(SqlError::analysis(&format!(
                        "Column has no default value. column: {}",
                        col.name
                    )))
                }
            };
        }
        rows.push(LoadRow {
            op: RowOp::Upsert,
            values: row,
        });
    }
    let n = cat
        .apply_to(
            &table,
            LoadBatch {
                rows,
                partial_columns: None,
                merge_condition: None,
            },
        )
        .map_err(|e| SqlError::new(1105, "HY000", e))?;
    let txn = next_txn();
    let label = format!(
        "insert_{:016x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    );
    Ok(Output {
        info: format!("{{'label':'{label}', 'status':'VISIBLE', 'txnId':'{txn}'}}"),
        ..Output::ok(n)
    })
}

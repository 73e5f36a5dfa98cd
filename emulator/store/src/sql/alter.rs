//! `ALTER TABLE [db.]t ADD COLUMN ... | ADD COLUMN (...) | MODIFY COLUMN ...` and
//! `SHOW ALTER TABLE COLUMN`. The checks and their texts follow StarRocks' analyzer
//! (`AlterTableClauseAnalyzer`), `AlterJobExecutor` and `SchemaChangeHandler` in that order; the
//! job itself lives in `schema_change`.
//!
//! Hand-written over the lexer rather than sqlparser: sqlparser 0.64 parses a single
//! `ADD COLUMN c t [FIRST | AFTER x]` but not StarRocks' `ADD COLUMN (c1 t1, c2 t2)`, and its
//! types are MySQL's; reusing CREATE TABLE's column parser keeps one StarRocks type grammar.

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use sqlparser::tokenizer::Token;

use super::{resolve_db, Kind, Output, Session, SqlError};
use crate::catalog::{Catalog, State, Table};
use crate::ddl::parse_column_def;
use crate::lex::Cursor;
use crate::model::{Column, ColumnType, KeysType, TableSchema};
use crate::schema_change::{Job, JobState, TIMEOUT_SECS};
use crate::types;

#[derive(Debug, Clone, PartialEq)]
enum Position {
    First,
    After(String),
}

#[derive(Debug, Clone, PartialEq)]
struct ColumnClause {
    column: Column,
    /// `KEY` written in the definition.
    key: bool,
    position: Option<Position>,
}

#[derive(Debug, Clone, PartialEq)]
enum Clause {
    /// One `ADD COLUMN`, or the parenthesized list (which takes no positions).
    Add(Vec<ColumnClause>),
    Modify(ColumnClause),
}

/// A DDL failure as StarRocks reports a `DdlException`: its message as is, MySQL error 1064
/// with SQLSTATE HY000 (`MysqlErrPacket`'s defaults, as `QueryState.setError` sets no code).
fn ddl_error(msg: impl Into<String>) -> SqlError {
    SqlError::new(1064, "HY000", msg)
}

/// `ALTER TABLE ...`, after `ALTER`.
pub(super) fn alter_table(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    cur.expect_kw("TABLE")?;
    let (db, name) = cur.object_name()?;
    let clause = parse_clause(cur)?;
    cur.expect_end()?;
    let db = resolve_db(session, db.as_deref())?;
    let delay = cat.schema_change_delay();
    let now = cat.now();
    cat.change(session.db.as_deref(), sql, |st| {
        submit(st, &db, &name, &clause, now, delay).map(|()| ((), true))
    })?;
    // A job without delay finishes here, logged after the ALTER that started it.
    cat.advance_schema_changes();
    Ok(Output::ok(0))
}

fn parse_clause(cur: &mut Cursor) -> Result<Clause, SqlError> {
    if cur.eat_kws(&["ADD", "COLUMN"]) {
        if cur.eat(&Token::LParen) {
            let mut cols = Vec::new();
            loop {
                let (column, key) = parse_column_def(cur)?;
                cols.push(ColumnClause {
                    column,
                    key,
                    position: None,
                });
                if !cur.eat(&Token::Comma) {
                    break;
                }
            }
            cur.expect(&Token::RParen)?;
            return Ok(Clause::Add(cols));
        }
        return Ok(Clause::Add(vec![column_clause(cur)?]));
    }
    if cur.eat_kws(&["MODIFY", "COLUMN"]) {
        return Ok(Clause::Modify(column_clause(cur)?));
    }
    // Name the clause: `ADD ROLLUP` reads `ROLLUP`, `DROP COLUMN` reads `DROP`.
    if cur.is_kw("ADD") {
        cur.next();
    }
    let what = match cur.peek() {
        Token::Word(w) => w.value.to_ascii_uppercase(),
        _ => String::new(),
    };
    Err(SqlError::unsupported(&format!("ALTER TABLE ... {what}")))
}

fn column_clause(cur: &mut Cursor) -> Result<ColumnClause, SqlError> {
    let (column, key) = parse_column_def(cur)?;
    let position = if cur.eat_kw("FIRST") {
        Some(Position::First)
    } else if cur.eat_kw("AFTER") {
        Some(Position::After(cur.ident()?))
    } else {
        None
    };
    if cur.is_kw("TO") || cur.is_kw("IN") || cur.is_kw("PROPERTIES") {
        return Err(SqlError::unsupported("ALTER TABLE on a rollup index"));
    }
    Ok(ColumnClause {
        column,
        key,
        position,
    })
}

/// Checks the clause against the table and queues the job (nothing of the table changes yet).
fn submit(
    st: &mut State,
    db: &str,
    name: &str,
    clause: &Clause,
    now: f64,
    delay: f64,
) -> Result<(), SqlError> {
    let table = st.table(db, name)?.clone();
    analyze(&table.schema, clause)?;
    if st.running_job(table.id).is_some() {
        return Err(ddl_error(format!(
            "A schema change operation is in progress on the table \"{name}\". Please wait until the current operation completes.\nTo check the status of the operation, see https://docs.starrocks.io/en-us/latest/sql-reference/sql-statements/data-manipulation/SHOW%20ALTER"
        )));
    }
    let target = match clause {
        Clause::Add(cols) => add_columns(&table.schema, cols)?,
        Clause::Modify(c) => modify_column(&table.schema, c)?,
    };
    let id = st.next_id();
    let index_id = st.next_id();
    st.jobs
        .push(new_job(&table, db, id, index_id, target, now, delay));
    Ok(())
}

fn new_job(
    table: &Table,
    db: &str,
    id: i64,
    index_id: i64,
    target: TableSchema,
    now: f64,
    delay: f64,
) -> Job {
    // StarRocks' schema hash is random; a hash of the job id keeps replays identical.
    let hash = (id.wrapping_mul(2_654_435_761)).rem_euclid(1 << 31);
    Job {
        id,
        db: db.to_string(),
        table_id: table.id,
        table_name: table.schema.name.clone(),
        create_time: now,
        finish_time: None,
        delay_secs: delay,
        index_id,
        origin_index_id: table.index_id,
        schema_version: format!("{}:{hash}", table.schema_version + 1),
        state: JobState::Pending,
        msg: String::new(),
        target: Arc::new(target),
    }
}

/// The analyzer's checks, which StarRocks runs before it looks at the table's state.
fn analyze(schema: &TableSchema, clause: &Clause) -> Result<(), SqlError> {
    let (cols, add) = match clause {
        Clause::Add(cols) => (cols.iter().collect::<Vec<_>>(), true),
        Clause::Modify(c) => (vec![c], false),
    };
    for c in cols {
        let col = &c.column;
        if add && !col.nullable && !matches!(col.default, Some(Some(_))) {
            return Err(SqlError::analysis(&format!(
                "Field '{}' is not null but doesn't have a default value",
                col.name
            )));
        }
        // Primary Key tables give every added column the REPLACE aggregate, and the analyzer
        // refuses a value column at FIRST.
        if add && schema.keys_type == KeysType::Primary && c.position == Some(Position::First) {
            return Err(SqlError::analysis(&format!(
                "Cannot add value column[{}] at first",
                col.name
            )));
        }
    }
    Ok(())
}

/// Column equality as StarRocks' `Column.equals` sees it (the emulator keeps no comments).
fn same_column(a: &Column, b: &Column) -> bool {
    a.name.eq_ignore_ascii_case(&b.name)
        && a.ty == b.ty
        && a.nullable == b.nullable
        && a.is_key == b.is_key
        && same_default(a, b)
}

fn same_default(a: &Column, b: &Column) -> bool {
    // StarRocks keeps a default as its text; DEFAULT NULL is no default.
    let text = |c: &Column| match &c.default {
        Some(Some(v)) => Some(types::display(&c.ty, v)),
        _ => None,
    };
    text(a) == text(b)
}

fn rebuild(base: &TableSchema, columns: Vec<Column>) -> TableSchema {
    let key_columns = (0..columns.len()).filter(|&i| columns[i].is_key).collect();
    TableSchema {
        db: base.db.clone(),
        name: base.name.clone(),
        columns,
        keys_type: base.keys_type,
        key_columns,
    }
}

/// `SchemaChangeHandler.addColumnInternal` and `checkAndAddColumn`.
fn add_columns(schema: &TableSchema, cols: &[ColumnClause]) -> Result<TableSchema, SqlError> {
    let new_names: Vec<&str> = cols.iter().map(|c| c.column.name.as_str()).collect();
    let mut work = schema.columns.clone();
    for c in cols {
        let mut col = c.column.clone();
        if schema.keys_type == KeysType::Primary && c.key {
            return Err(ddl_error(format!(
                "Can not add key column: {} for primary key table",
                col.name
            )));
        }
        col.is_key = c.key;
        if let Some(found) = schema.column_index(&col.name) {
            if same_column(&schema.columns[found], &col) {
                return Err(ddl_error(format!(
                    "Can not add column which already exists in base table: {}",
                    col.name
                )));
            }
        }
        if let Some(i) = work
            .iter()
            .position(|w| w.name.eq_ignore_ascii_case(&col.name))
        {
            if !new_names.iter().any(|n| n.eq_ignore_ascii_case(&col.name)) {
                return Err(ddl_error(format!("Repeatedly add column: {}", col.name)));
            }
            if !same_column(&work[i], &col) {
                return Err(ddl_error(format!(
                    "Repeatedly add same column with different definition: {}",
                    col.name
                )));
            }
            continue;
        }
        let at = match &c.position {
            Some(Position::First) => 0,
            Some(Position::After(after)) => {
                let i = work
                    .iter()
                    .position(|w| w.name.eq_ignore_ascii_case(after))
                    .ok_or_else(|| ddl_error(format!("Column[{after}] does not found")))?;
                i + 1
            }
            None if col.is_key => work.iter().rposition(|w| w.is_key).map_or(0, |i| i + 1),
            None => work.len(),
        };
        work.insert(at, col);
    }
    Ok(rebuild(schema, work))
}

/// StarRocks' type names in `Can not change <from> to <to>` (`ScalarType.toString`).
fn sr_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Decimal { precision, scale } => {
            let width = match precision {
                0..=9 => "DECIMAL32",
                10..=18 => "DECIMAL64",
                _ => "DECIMAL128",
            };
            format!("{width}({precision},{scale})")
        }
        other => types::type_name(other).to_ascii_uppercase(),
    }
}

/// `ColumnType.isSchemaChangeAllowed`: StarRocks' schema-change matrix, with the DECIMALV3
/// rules (`isSchemaChangeAllowedInvolvingDecimalV3`).
fn change_allowed(from: &ColumnType, to: &ColumnType) -> bool {
    use ColumnType::*;
    let rank = |t: &ColumnType| match t {
        TinyInt => Some(1),
        SmallInt => Some(2),
        Int => Some(3),
        BigInt => Some(4),
        LargeInt => Some(5),
        _ => None,
    };
    match (from, to) {
        (
            Decimal {
                precision: p1,
                scale: s1,
            },
            Decimal {
                precision: p2,
                scale: s2,
            },
        ) => s1 <= s2 && p1 - s1 <= p2 - s2,
        // The text of the widest value (sign, digits, point) must fit.
        (Decimal { precision, scale }, Varchar(n)) => {
            (*precision as u32) + 1 + u32::from(*scale > 0) <= *n
        }
        (Varchar(_), Decimal { .. }) => true,
        (Decimal { .. }, _) | (_, Decimal { .. }) => false,
        (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => true,
        (a, b) if rank(a).is_some() && rank(b).is_some() => rank(a) < rank(b),
        (TinyInt | SmallInt | Int | BigInt, Double) => true,
        (TinyInt | SmallInt | Int | BigInt | LargeInt, Varchar(_)) => true,
        (Int, Date) => true,
        (Float, Double | Varchar(_)) | (Double, Varchar(_)) => true,
        (Char(_), Varchar(_)) | (Json, Varchar(_)) | (Varchar(_), Json) => true,
        (Varchar(_), TinyInt | SmallInt | Int | BigInt | LargeInt | Float | Double | Date) => true,
        (DateTime, Date) | (Date, DateTime) => true,
        _ => false,
    }
}

/// `SchemaChangeHandler.processModifyColumn` and `Column.checkSchemaChangeAllowed`.
fn modify_column(schema: &TableSchema, c: &ColumnClause) -> Result<TableSchema, SqlError> {
    let mut col = c.column.clone();
    let name = col.name.clone();
    let found = schema.column_index(&name);
    if schema.keys_type == KeysType::Primary {
        if let Some(ori) = found.map(|i| &schema.columns[i]).filter(|o| o.is_key) {
            let widen = matches!((&ori.ty, &col.ty), (ColumnType::Varchar(a), ColumnType::Varchar(b)) if b > a);
            if !widen {
                return Err(ddl_error(format!(
                    "Can not modify key column: {name} for primary key table except for increasing varchar length"
                )));
            }
            if col.nullable {
                return Err(ddl_error(format!(
                    "primary key column[{name}] cannot be nullable"
                )));
            }
        }
    }
    let i = found.ok_or_else(|| ddl_error(format!("Column[{name}] does not exists")))?;
    let ori = &schema.columns[i];
    // A modified column keeps its keyness (StarRocks does so for Primary Key tables; the
    // emulator does it for Duplicate Key tables too).
    col.is_key = ori.is_key;
    col.name = ori.name.clone();
    let mut work = schema.columns.clone();
    let moved = match &c.position {
        None => None,
        Some(Position::First) => Some(0),
        Some(Position::After(after)) => {
            let a = work
                .iter()
                .position(|w| w.name.eq_ignore_ascii_case(after))
                .ok_or_else(|| ddl_error(format!("Column[{after}] does not exists")))?;
            if a == i {
                return Err(ddl_error(format!(
                    "Column[{after}] modify position is invalid"
                )));
            }
            Some(if a > i { a } else { a + 1 })
        }
    };
    if !change_allowed(&ori.ty, &col.ty) {
        return Err(ddl_error(format!(
            "Can not change {} to {}",
            sr_type(&ori.ty),
            sr_type(&col.ty)
        )));
    }
    if ori.nullable && !col.nullable {
        return Err(ddl_error("Can not change from nullable to non-nullable"));
    }
    if !same_default(ori, &col) {
        return Err(ddl_error("Can not change default value"));
    }
    let len = |t: &ColumnType| match t {
        ColumnType::Char(n) | ColumnType::Varchar(n) => Some(*n),
        _ => None,
    };
    if let (Some(a), Some(b)) = (len(&ori.ty), len(&col.ty)) {
        if a > b {
            return Err(ddl_error("Cannot shorten string length"));
        }
    }
    if same_column(ori, &col) && moved.is_none_or(|to| to == i) {
        return Err(ddl_error(
            "Nothing is changed. please check your alter stmt.",
        ));
    }
    work.remove(i);
    let at = match moved {
        Some(to) if to > i => to,
        Some(to) => to,
        None => i,
    };
    work.insert(at.min(work.len()), col);
    Ok(rebuild(schema, work))
}

/// `SHOW ALTER TABLE COLUMN [FROM db] [WHERE ...] [ORDER BY ...] [LIMIT ...]`, after
/// `SHOW ALTER TABLE`. The filter, order and limit run on SQLite over the job rows.
pub(super) fn show_alter(
    cat: &Catalog,
    session: &Session,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    if !cur.eat_kw("COLUMN") {
        return Err(SqlError::unsupported(
            "SHOW ALTER TABLE ROLLUP / MATERIALIZED VIEW",
        ));
    }
    let db = if cur.eat_kw("FROM") || cur.eat_kw("IN") {
        Some(cur.ident()?)
    } else {
        None
    };
    let db = resolve_db(session, db.as_deref())?;
    let mut tail = Vec::new();
    while !cur.at_end() {
        tail.push(cur.next().to_string());
    }
    let rows: Vec<Vec<SqlValue>> = {
        let st = cat.read();
        st.db(&db)?;
        st.jobs.iter().filter(|j| j.db == db).map(job_row).collect()
    };
    const T: &str = "VARCHAR(512)";
    const N: &str = "BIGINT";
    let columns = [
        ("JobId", N),
        ("TableName", T),
        ("CreateTime", T),
        ("FinishTime", T),
        ("IndexName", T),
        ("IndexId", N),
        ("OriginIndexId", N),
        ("SchemaVersion", T),
        ("TransactionId", N),
        ("State", T),
        ("Msg", T),
        ("Progress", T),
        ("Timeout", N),
    ];
    let mut mirror = cat.mirror.lock().unwrap();
    mirror.load_scratch("alter_jobs", &columns, &rows)?;
    let answer = mirror.query(&format!("SELECT * FROM temp.alter_jobs {}", tail.join(" ")))?;
    let out = answer
        .rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| match v {
                    SqlValue::Null => None,
                    SqlValue::Integer(i) => Some(i.to_string()),
                    SqlValue::Real(f) => Some(f.to_string()),
                    SqlValue::Text(s) => Some(s),
                    SqlValue::Blob(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                })
                .collect()
        })
        .collect();
    let header: Vec<(&str, Kind)> = columns.iter().map(|(n, _)| (*n, Kind::Text)).collect();
    Ok(Output::table(&header, out))
}

fn time_text(secs: f64) -> String {
    types::format_datetime(secs.floor() as i64 * 1_000_000)
}

fn job_row(j: &Job) -> Vec<SqlValue> {
    let text = |s: String| SqlValue::Text(s);
    vec![
        SqlValue::Integer(j.id),
        text(j.table_name.clone()),
        text(time_text(j.create_time)),
        j.finish_time.map_or(SqlValue::Null, |t| text(time_text(t))),
        text(j.table_name.clone()),
        SqlValue::Integer(j.index_id),
        SqlValue::Integer(j.origin_index_id),
        text(j.schema_version.clone()),
        SqlValue::Integer(-1),
        text(j.state.name().to_string()),
        text(j.msg.clone()),
        if j.state == JobState::Running {
            text("0/1".into())
        } else {
            SqlValue::Null
        },
        SqlValue::Integer(TIMEOUT_SECS),
    ]
}

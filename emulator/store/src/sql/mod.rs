//! Statements of the query port: `execute` dispatches on the leading keywords to one module per
//! kind of statement (`databases`, `tables`, `alter`, `users`, `grants`, `show`; SELECT, INSERT
//! and DELETE in `select`, `insert` and `delete`). The catalog sits below: it knows no SQL, so opening one
//! (which replays logged statements) and running statements on it are defined here.

mod alter;
mod databases;
mod delete;
mod grants;
mod infoschema;
mod insert;
mod select;
mod show;
mod tables;
#[cfg(test)]
mod tests_alter;
#[cfg(test)]
mod tests;
mod users;
pub mod vars;

use std::path::Path;
use std::sync::Arc;

use sqlparser::tokenizer::Token;

pub use crate::error::SqlError;
pub use crate::kind::Kind;
pub use databases::use_db;

use crate::catalog::Catalog;
use crate::lex::Cursor;
use crate::model::QueryResult;

/// One client connection's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub db: Option<String>,
    pub connection_id: u32,
}

impl Session {
    pub fn new(user: &str) -> Session {
        Session {
            user: user.to_string(),
            db: None,
            connection_id: 0,
        }
    }

    pub fn root() -> Session {
        Session::new(crate::catalog::ROOT)
    }
}

/// A statement's outcome with column types; `QueryResult` without them is the public contract.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    pub columns: Vec<(String, Kind)>,
    pub rows: Vec<Vec<Option<String>>>,
    pub affected: u64,
    /// True when the statement returns a result set (possibly empty) rather than an OK.
    pub result_set: bool,
    /// The OK packet's info text (INSERT's `{'label':..., 'status':'VISIBLE', 'txnId':...}`).
    pub info: String,
}

impl Output {
    pub fn ok(affected: u64) -> Output {
        Output {
            affected,
            ..Default::default()
        }
    }

    pub fn table(columns: &[(&str, Kind)], rows: Vec<Vec<Option<String>>>) -> Output {
        Output {
            columns: columns.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
            rows,
            result_set: true,
            ..Default::default()
        }
    }

    pub fn into_result(self) -> QueryResult {
        QueryResult {
            columns: self.columns.into_iter().map(|c| c.0).collect(),
            rows: self.rows,
            affected: self.affected,
        }
    }
}

fn s(v: impl Into<String>) -> Option<String> {
    Some(v.into())
}

impl Catalog {
    /// The catalog, empty or rebuilt from `data_dir`'s log.
    pub fn open(root_password: &str, data_dir: Option<&Path>) -> Result<Arc<Catalog>, String> {
        Catalog::open_replaying(root_password, data_dir, |cat, db, sql| {
            let mut s = Session::root();
            s.db = db;
            cat.execute(&mut s, sql).map(|_| ())
        })
    }

    /// Runs one SQL statement for `session` (its current database may change).
    pub fn execute(&self, session: &mut Session, sql: &str) -> Result<QueryResult, SqlError> {
        self.execute_typed(session, sql).map(|o| o.into_result())
    }

    /// Like `execute`, with result column types for the wire protocol.
    pub fn execute_typed(&self, session: &mut Session, sql: &str) -> Result<Output, SqlError> {
        self.run_before_statement();
        self.advance_schema_changes();
        execute(self, session, sql)
    }
}

/// Runs one statement. The handlers called here get the cursor at the statement's first keyword;
/// the `*_statement` ones choose the handler by the keyword after it.
pub fn execute(cat: &Catalog, session: &mut Session, sql: &str) -> Result<Output, SqlError> {
    let mut cur = Cursor::new(sql)?;
    if cur.at_end() {
        return Err(SqlError::new(1065, "42000", "Query was empty"));
    }
    let first = match cur.peek() {
        Token::Word(w) => w.value.to_ascii_uppercase(),
        Token::LParen => "SELECT".into(),
        _ => return Err(cur.unexpected("a statement")),
    };
    match first.as_str() {
        "SELECT" | "WITH" | "VALUES" => select::run(cat, session, sql),
        "INSERT" => insert::run(cat, session, sql),
        "DELETE" => delete::run(cat, session, sql),
        "CREATE" => create_statement(cat, session, sql, &mut cur),
        "DROP" => drop_statement(cat, session, sql, &mut cur),
        "USE" => databases::use_statement(cat, session, &mut cur),
        "TRUNCATE" => tables::truncate(cat, session, sql, &mut cur),
        "DESC" | "DESCRIBE" => tables::describe_statement(cat, session, &mut cur),
        "EXPLAIN" => Err(SqlError::unsupported("EXPLAIN")),
        "SHOW" => show::run(cat, session, &mut cur),
        "GRANT" | "REVOKE" => grants::run(cat, session, sql, &mut cur, first == "GRANT"),
        "ALTER" => alter_statement(cat, session, sql, &mut cur),
        "SET" => set_statement(cat, session, &mut cur),
        "BEGIN" | "COMMIT" | "ROLLBACK" | "START" => Ok(Output::ok(0)),
        _ => Err(unsupported_statement(&mut cur)),
    }
}

fn create_statement(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    cur.next();
    if cur.eat_kw("DATABASE") || cur.eat_kw("SCHEMA") {
        databases::create(cat, session, sql, cur)
    } else if cur.is_kw("TABLE") || cur.is_kw("EXTERNAL") || cur.is_kw("TEMPORARY") {
        tables::create(cat, session, sql, cur)
    } else if cur.eat_kw("USER") {
        users::create(cat, session, sql, cur)
    } else {
        Err(unsupported_statement(&mut Cursor::new(sql)?))
    }
}

fn drop_statement(
    cat: &Catalog,
    session: &mut Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    cur.next();
    if cur.eat_kw("DATABASE") || cur.eat_kw("SCHEMA") {
        databases::drop(cat, session, sql, cur)
    } else if cur.eat_kw("TABLE") {
        tables::drop(cat, session, sql, cur)
    } else if cur.eat_kw("USER") {
        users::drop(cat, session, sql, cur)
    } else {
        Err(unsupported_statement(&mut Cursor::new(sql)?))
    }
}

fn alter_statement(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    cur.next();
    if cur.eat_kw("USER") {
        users::alter(cat, session, cur)
    } else if cur.is_kw("TABLE") {
        alter::alter_table(cat, session, sql, cur)
    } else {
        Err(unsupported_statement(&mut Cursor::new(sql)?))
    }
}

fn set_statement(cat: &Catalog, session: &Session, cur: &mut Cursor) -> Result<Output, SqlError> {
    cur.next();
    if cur.eat_kw("PASSWORD") {
        return users::set_password_statement(cat, session, cur);
    }
    // Session variables change nothing the emulator models; clients send them at connect.
    Ok(Output::ok(0))
}

/// StarRocks checks DDL privileges too; `ALL` (or an admin role) covers them.
fn require(
    cat: &Catalog,
    session: &Session,
    privilege: &str,
    db: &str,
    table: &str,
    object: &str,
) -> Result<(), SqlError> {
    if cat.read().user_has(&session.user, privilege, db, table) {
        return Ok(());
    }
    Err(SqlError::new(
        1142,
        "42000",
        format!(
            "Access denied; you need (at least one of) the {privilege} privilege(s) on {object} for this operation. Please ask the admin to grant permission(s) or try activating existing roles using <set [default] role>. Current role(s): NONE. Inactivated role(s): NONE."
        ),
    ))
}

fn unsupported_statement(cur: &mut Cursor) -> SqlError {
    let mut words = Vec::new();
    while words.len() < 2 {
        match cur.next() {
            Token::Word(w) if w.quote_style.is_none() => words.push(w.value.to_ascii_uppercase()),
            _ => break,
        }
    }
    SqlError::unsupported(&format!("Statement '{}'", words.join(" ")))
}

pub(crate) fn resolve_db(session: &Session, db: Option<&str>) -> Result<String, SqlError> {
    match db.or(session.db.as_deref()) {
        Some(d) => Ok(d.to_string()),
        None => Err(SqlError::no_db()),
    }
}

//! Statements of the query port: dispatch on the leading keywords, DDL, users and grants, SHOW.
//! SELECT and INSERT live in `select` and `insert`.

mod delete;
mod error;
mod infoschema;
mod insert;
mod select;
pub mod vars;

use sqlparser::tokenizer::Token;

pub use error::SqlError;

use crate::catalog::{Catalog, Database, Grant, User};
use crate::ddl;
use crate::lex::Cursor;
use crate::model::QueryResult;
use crate::types;

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

/// How a result column is typed on the wire (the mysql CLI right-aligns numeric ones; PyMySQL
/// converts by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    LargeInt,
    Float,
    Double,
    Decimal(u8),
    Boolean,
    Text,
    Date,
    DateTime,
    Json,
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
        "CREATE" => {
            cur.next();
            if cur.eat_kw("DATABASE") || cur.eat_kw("SCHEMA") {
                let if_not_exists = cur.eat_kws(&["IF", "NOT", "EXISTS"]);
                let name = cur.ident()?;
                if cur.eat_kw("PROPERTIES") {
                    cur.skip_parens()?;
                }
                cur.expect_end()?;
                require(
                    cat,
                    session,
                    "CREATE DATABASE",
                    "*",
                    "*",
                    "CATALOG default_catalog",
                )?;
                cat.change(session.db.as_deref(), sql, |st| {
                    if st.dbs.contains_key(&name) {
                        if if_not_exists {
                            return Ok(((), false));
                        }
                        return Err(SqlError::new(
                            1007,
                            "HY000",
                            format!("Can't create database '{name}'; database exists"),
                        ));
                    }
                    let id = st.next_id();
                    st.dbs.insert(
                        name.clone(),
                        Database {
                            id,
                            name: name.clone(),
                            tables: Default::default(),
                        },
                    );
                    Ok(((), true))
                })?;
                Ok(Output::ok(0))
            } else if cur.is_kw("TABLE") || cur.is_kw("EXTERNAL") || cur.is_kw("TEMPORARY") {
                let ct = ddl::parse_create_table(&mut cur)?;
                let db = resolve_db(session, ct.db.as_deref())?;
                require(
                    cat,
                    session,
                    "CREATE TABLE",
                    &db,
                    "*",
                    &format!("DATABASE {db}"),
                )?;
                cat.change(session.db.as_deref(), sql, |st| {
                    let created = st.create_table(&db, ct)?;
                    Ok(((), created))
                })?;
                Ok(Output::ok(0))
            } else if cur.eat_kw("USER") {
                let if_not_exists = cur.eat_kws(&["IF", "NOT", "EXISTS"]);
                let (name, host) = user_name(&mut cur)?;
                let password = if cur.is_kw("IDENTIFIED") {
                    identified(&mut cur)?
                } else {
                    String::new()
                };
                if cur.eat_kw("DEFAULT") {
                    cur.expect_kw("ROLE")?;
                    while !cur.at_end() {
                        cur.next();
                    }
                }
                cur.expect_end()?;
                require(cat, session, "GRANT", "*", "*", "SYSTEM")?;
                cat.change(session.db.as_deref(), sql, |st| {
                    if Catalog::is_root(&name) || st.users.contains_key(&name) {
                        if if_not_exists {
                            return Ok(((), false));
                        }
                        return Err(SqlError::new(
                            5022,
                            "42000",
                            format!("Operation CREATE USER failed for '{name}'@'{host}' : user already exists"),
                        ));
                    }
                    st.users.insert(name.clone(), User { name: name.clone(), password, grants: Vec::new() });
                    Ok(((), true))
                })?;
                Ok(Output::ok(0))
            } else {
                Err(unsupported_statement(&mut Cursor::new(sql)?))
            }
        }
        "DROP" => {
            cur.next();
            if cur.eat_kw("DATABASE") || cur.eat_kw("SCHEMA") {
                let if_exists = cur.eat_kws(&["IF", "EXISTS"]);
                let name = cur.ident()?;
                cur.eat_kw("FORCE");
                cur.expect_end()?;
                require(
                    cat,
                    session,
                    "DROP",
                    &name,
                    "*",
                    &format!("DATABASE {name}"),
                )?;
                cat.change(session.db.as_deref(), sql, |st| {
                    match st.dbs.remove(&name) {
                        Some(d) => {
                            for t in d.tables.values() {
                                st.tables_by_id.remove(&t.id);
                            }
                            Ok(((), true))
                        }
                        None if if_exists => Ok(((), false)),
                        None => Err(SqlError::new(
                            1008,
                            "HY000",
                            format!("Can't drop database '{name}'; database doesn't exist"),
                        )),
                    }
                })?;
                if session.db.as_deref() == Some(name.as_str()) {
                    session.db = None;
                }
                Ok(Output::ok(0))
            } else if cur.eat_kw("TABLE") {
                let if_exists = cur.eat_kws(&["IF", "EXISTS"]);
                let (db, name) = cur.object_name()?;
                cur.eat_kw("FORCE");
                cur.expect_end()?;
                let db = resolve_db(session, db.as_deref())?;
                require(cat, session, "DROP", &db, &name, &format!("TABLE {name}"))?;
                cat.change(session.db.as_deref(), sql, |st| {
                    let d = st
                        .dbs
                        .get_mut(&db)
                        .ok_or_else(|| SqlError::unknown_db(&db))?;
                    match d.tables.remove(&name) {
                        Some(t) => {
                            st.tables_by_id.remove(&t.id);
                            Ok(((), true))
                        }
                        None if if_exists => Ok(((), false)),
                        None => Err(SqlError::unknown_table(&db, &name)),
                    }
                })?;
                Ok(Output::ok(0))
            } else if cur.eat_kw("USER") {
                let if_exists = cur.eat_kws(&["IF", "EXISTS"]);
                let (name, host) = user_name(&mut cur)?;
                cur.expect_end()?;
                if Catalog::is_root(&name) {
                    return Err(SqlError::new(
                        5022,
                        "42000",
                        "Operation DROP USER failed for 'root'@'%' : cannot drop root",
                    ));
                }
                require(cat, session, "GRANT", "*", "*", "SYSTEM")?;
                cat.change(session.db.as_deref(), sql, |st| match st.users.remove(&name) {
                    Some(_) => Ok(((), true)),
                    None if if_exists => Ok(((), false)),
                    None => Err(SqlError::new(
                        5022,
                        "42000",
                        format!("Operation DROP USER failed for '{name}'@'{host}' : user not exists"),
                    )),
                })?;
                Ok(Output::ok(0))
            } else {
                Err(unsupported_statement(&mut Cursor::new(sql)?))
            }
        }
        "USE" => {
            cur.next();
            let (catalog, db) = cur.object_name()?;
            cur.expect_end()?;
            if let Some(c) = catalog {
                if c != "default_catalog" {
                    return Err(SqlError::new(
                        1049,
                        "42000",
                        format!("Unknown catalog '{c}'"),
                    ));
                }
            }
            use_db(cat, session, &db)?;
            Ok(Output::ok(0))
        }
        "TRUNCATE" => {
            cur.next();
            cur.eat_kw("TABLE");
            let (db, name) = cur.object_name()?;
            if cur.is_kw("PARTITION") {
                return Err(SqlError::unsupported("TRUNCATE TABLE ... PARTITION"));
            }
            cur.expect_end()?;
            let db = resolve_db(session, db.as_deref())?;
            require(cat, session, "DELETE", &db, &name, &format!("TABLE {name}"))?;
            cat.truncate_logged(session.db.as_deref(), sql, &db, &name)?;
            Ok(Output::ok(0))
        }
        "DESC" | "DESCRIBE" => {
            cur.next();
            let (db, name) = cur.object_name()?;
            cur.eat_kw("ALL");
            cur.expect_end()?;
            describe(cat, session, db.as_deref(), &name)
        }
        "EXPLAIN" => Err(SqlError::unsupported("EXPLAIN")),
        "SHOW" => show(cat, session, &mut cur),
        "GRANT" | "REVOKE" => {
            cur.next();
            grant(cat, session, sql, &mut cur, first == "GRANT")
        }
        "ALTER" => {
            cur.next();
            if cur.eat_kw("USER") {
                cur.eat_kws(&["IF", "EXISTS"]);
                let (name, host) = user_name(&mut cur)?;
                let password = identified(&mut cur)?;
                cur.expect_end()?;
                set_password(cat, session, &name, &host, password)
            } else {
                Err(unsupported_statement(&mut Cursor::new(sql)?))
            }
        }
        "SET" => {
            cur.next();
            if cur.eat_kw("PASSWORD") {
                let (name, host) = if cur.eat_kw("FOR") {
                    user_name(&mut cur)?
                } else {
                    (session.user.clone(), "%".into())
                };
                cur.expect(&Token::Eq)?;
                let password = if cur.eat_kw("PASSWORD") {
                    cur.expect(&Token::LParen)?;
                    let p = cur.string()?;
                    cur.expect(&Token::RParen)?;
                    p
                } else {
                    cur.string()?
                };
                cur.expect_end()?;
                return set_password(cat, session, &name, &host, password);
            }
            // Session variables change nothing the emulator models; clients send them at connect.
            Ok(Output::ok(0))
        }
        "BEGIN" | "COMMIT" | "ROLLBACK" | "START" => Ok(Output::ok(0)),
        _ => Err(unsupported_statement(&mut cur)),
    }
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

/// `USE` / COM_INIT_DB.
pub fn use_db(cat: &Catalog, session: &mut Session, db: &str) -> Result<(), SqlError> {
    let db = db.strip_prefix("default_catalog.").unwrap_or(db);
    if !cat.read().dbs.contains_key(db) {
        return Err(SqlError::unknown_db(db));
    }
    session.db = Some(db.to_string());
    Ok(())
}

/// `'u'@'%'`, `u@'%'`, `` `u`@`h` ``, `u`: (name, host); hosts are kept only for messages.
fn user_name(cur: &mut Cursor) -> Result<(String, String), SqlError> {
    let mut name = cur.ident()?;
    let mut host = "%".to_string();
    if name.ends_with('@') && name.len() > 1 {
        name.pop();
        host = cur.ident()?;
    } else if cur.eat(&Token::AtSign) {
        host = cur.ident()?;
    } else if let Token::Word(w) = cur.peek().clone() {
        if let Some(h) = w.value.strip_prefix('@') {
            cur.next();
            host = h.to_string();
        }
    }
    Ok((name, host))
}

/// `IDENTIFIED BY 'pw'` / `IDENTIFIED WITH mysql_native_password BY 'pw'`.
fn identified(cur: &mut Cursor) -> Result<String, SqlError> {
    cur.expect_kw("IDENTIFIED")?;
    if cur.eat_kw("WITH") {
        cur.ident()?;
        if cur.is_kw("AS") {
            return Err(SqlError::unsupported("IDENTIFIED WITH ... AS '<hash>'"));
        }
    }
    cur.expect_kw("BY")?;
    if cur.is_kw("PASSWORD") {
        return Err(SqlError::unsupported("IDENTIFIED BY PASSWORD '<hash>'"));
    }
    cur.string()
}

fn set_password(
    cat: &Catalog,
    session: &Session,
    name: &str,
    host: &str,
    password: String,
) -> Result<Output, SqlError> {
    if Catalog::is_root(name) {
        return Err(SqlError::unsupported(
            "Changing root's password (use --root-password)",
        ));
    }
    if !Catalog::is_root(&session.user) && session.user != name {
        return Err(SqlError::access_denied(
            "Access denied; you need (at least one of) the GRANT privilege(s) for this operation",
        ));
    }
    // Logged in a form that names the user, so a replay (as root) changes the same one.
    let logged = format!(
        "ALTER USER '{}' IDENTIFIED BY '{}'",
        name.replace('\'', "''"),
        password.replace('\'', "''")
    );
    cat.change(session.db.as_deref(), &logged, |st| {
        match st.users.get_mut(name) {
            Some(u) => {
                u.password = password;
                Ok(((), true))
            }
            None => Err(SqlError::new(
                5022,
                "42000",
                format!("Operation ALTER USER failed for '{name}'@'{host}' : user not exists"),
            )),
        }
    })?;
    Ok(Output::ok(0))
}

const ADMIN_ROLES: &[&str] = &["root", "db_admin", "cluster_admin", "user_admin"];

fn grant(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
    is_grant: bool,
) -> Result<Output, SqlError> {
    require(cat, session, "GRANT", "*", "*", "SYSTEM")?;
    // Privileges up to ON (or roles up to TO).
    let mut privileges = Vec::new();
    let mut words = Vec::new();
    loop {
        match cur.next() {
            Token::Word(w)
                if w.quote_style.is_none()
                    && (w.value.eq_ignore_ascii_case("ON")
                        || w.value.eq_ignore_ascii_case("TO")
                        || w.value.eq_ignore_ascii_case("FROM")) =>
            {
                if !words.is_empty() {
                    privileges.push(words.join(" "));
                }
                if w.value.eq_ignore_ascii_case("ON") {
                    break;
                }
                // A role grant: GRANT db_admin TO USER u.
                let _ = cur.eat_kw("USER");
                let (name, host) = user_name(cur)?;
                cur.expect_end()?;
                let roles: Vec<String> =
                    privileges.iter().map(|p| p.to_ascii_lowercase()).collect();
                if let Some(r) = roles
                    .iter()
                    .find(|r| !ADMIN_ROLES.contains(&r.as_str()) && r.as_str() != "public")
                {
                    return Err(SqlError::unsupported(&format!(
                        "Role '{r}' (only the built-in roles are emulated)"
                    )));
                }
                let g = Grant {
                    privileges: vec!["ALL".into(), "GRANT".into()],
                    db: "*".into(),
                    table: "*".into(),
                };
                return apply_grant(
                    cat,
                    session,
                    sql,
                    &name,
                    &host,
                    g,
                    is_grant && roles.iter().any(|r| r != "public"),
                );
            }
            Token::Word(w) => words.push(w.value.to_ascii_uppercase()),
            Token::Comma => {
                privileges.push(words.join(" "));
                words.clear();
            }
            _ => return Err(cur.unexpected("privilege")),
        }
    }
    let privileges: Vec<String> = privileges
        .into_iter()
        .map(|p| match p.as_str() {
            "ALL PRIVILEGES" | "ALL_PRIV" | "ADMIN_PRIV" => "ALL".to_string(),
            "LOAD_PRIV" => "INSERT".to_string(),
            "SELECT_PRIV" => "SELECT".to_string(),
            "ALTER_PRIV" => "ALTER".to_string(),
            "CREATE_PRIV" => "CREATE".to_string(),
            "DROP_PRIV" => "DROP".to_string(),
            _ => p,
        })
        .collect();
    // The object.
    let (db, table) = if cur.eat_kws(&["ALL", "TABLES", "IN", "ALL", "DATABASES"])
        || cur.eat_kws(&["ALL", "DATABASES"])
    {
        ("*".to_string(), "*".to_string())
    } else if cur.eat_kws(&["ALL", "TABLES", "IN", "DATABASE"]) || cur.eat_kw("DATABASE") {
        (cur.ident()?, "*".to_string())
    } else if cur.eat_kw("SYSTEM") {
        ("*".to_string(), "*".to_string())
    } else {
        cur.eat_kw("TABLE");
        let first = if cur.eat(&Token::Mul) {
            "*".to_string()
        } else {
            cur.ident()?
        };
        if cur.eat(&Token::Period) {
            let second = if cur.eat(&Token::Mul) {
                "*".to_string()
            } else {
                cur.ident()?
            };
            (first, second)
        } else {
            (resolve_db(session, None)?, first)
        }
    };
    if !(cur.eat_kw("TO") || cur.eat_kw("FROM")) {
        return Err(cur.unexpected("TO"));
    }
    if cur.eat_kw("ROLE") {
        return Err(SqlError::unsupported("GRANT ... TO ROLE"));
    }
    cur.eat_kw("USER");
    let (name, host) = user_name(cur)?;
    cur.eat_kws(&["WITH", "GRANT", "OPTION"]);
    cur.expect_end()?;
    if db != "*" && !cat.read().dbs.contains_key(&db) {
        return Err(SqlError::unknown_db(&db));
    }
    if table != "*" {
        cat.read().table(&db, &table)?;
    }
    apply_grant(
        cat,
        session,
        sql,
        &name,
        &host,
        Grant {
            privileges,
            db,
            table,
        },
        is_grant,
    )
}

fn apply_grant(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    name: &str,
    host: &str,
    g: Grant,
    is_grant: bool,
) -> Result<Output, SqlError> {
    if Catalog::is_root(name) {
        return Ok(Output::ok(0));
    }
    cat.change(session.db.as_deref(), sql, |st| {
        let u = st.users.get_mut(name).ok_or_else(|| {
            SqlError::new(
                5022,
                "42000",
                format!("Operation GRANT failed for '{name}'@'{host}' : user not exists"),
            )
        })?;
        if is_grant {
            u.grants.push(g);
        } else {
            for existing in u
                .grants
                .iter_mut()
                .filter(|e| e.db == g.db && e.table == g.table)
            {
                existing.privileges.retain(|p| !g.privileges.contains(p));
            }
            u.grants.retain(|e| !e.privileges.is_empty());
        }
        Ok(((), true))
    })?;
    Ok(Output::ok(0))
}

fn describe(
    cat: &Catalog,
    session: &Session,
    db: Option<&str>,
    name: &str,
) -> Result<Output, SqlError> {
    let db = resolve_db(session, db)?;
    let t = cat.table_by_name(&db, name)?;
    let rows = t
        .schema
        .columns
        .iter()
        .map(|c| {
            vec![
                s(c.name.clone()),
                s(types::type_name(&c.ty)),
                s(if c.nullable { "YES" } else { "NO" }),
                s(if c.is_key { "true" } else { "false" }),
                match &c.default {
                    Some(Some(v)) => s(types::display(&c.ty, v)),
                    _ => None,
                },
                s(""),
            ]
        })
        .collect();
    Ok(Output::table(
        &[
            ("Field", Kind::Text),
            ("Type", Kind::Text),
            ("Null", Kind::Text),
            ("Key", Kind::Text),
            ("Default", Kind::Text),
            ("Extra", Kind::Text),
        ],
        rows,
    ))
}

/// `LIKE` pattern match, case-insensitive as MySQL's default collation.
pub(crate) fn like(pattern: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('%') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('_') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some('\\') if p.len() > 1 => !s.is_empty() && s[0] == p[1] && go(&p[2..], &s[1..]),
            Some(c) => !s.is_empty() && s[0] == *c && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let s: Vec<char> = s.to_lowercase().chars().collect();
    go(&p, &s)
}

fn like_filter(cur: &mut Cursor) -> Result<Option<String>, SqlError> {
    if cur.eat_kw("LIKE") {
        Ok(Some(cur.string()?))
    } else if cur.is_kw("WHERE") {
        Err(SqlError::unsupported("SHOW ... WHERE"))
    } else {
        Ok(None)
    }
}

fn show(cat: &Catalog, session: &Session, cur: &mut Cursor) -> Result<Output, SqlError> {
    cur.next();
    let full = cur.eat_kw("FULL");
    if cur.eat_kw("DATABASES") || cur.eat_kw("SCHEMAS") {
        let pat = like_filter(cur)?;
        cur.expect_end()?;
        let rows = cat
            .read()
            .dbs
            .keys()
            .filter(|d| pat.as_deref().is_none_or(|p| like(p, d)))
            .map(|d| vec![s(d.clone())])
            .collect();
        return Ok(Output::table(&[("Database", Kind::Text)], rows));
    }
    if cur.eat_kw("TABLES") {
        let db = if cur.eat_kw("FROM") || cur.eat_kw("IN") {
            Some(cur.ident()?)
        } else {
            None
        };
        let db = resolve_db(session, db.as_deref())?;
        let pat = like_filter(cur)?;
        cur.expect_end()?;
        let st = cat.read();
        let d = st.db(&db)?;
        let header = format!("Tables_in_{db}");
        let rows: Vec<_> = d
            .tables
            .keys()
            .filter(|t| pat.as_deref().is_none_or(|p| like(p, t)))
            .map(|t| {
                if full {
                    vec![s(t.clone()), s("BASE TABLE")]
                } else {
                    vec![s(t.clone())]
                }
            })
            .collect();
        let mut cols = vec![(header.as_str(), Kind::Text)];
        if full {
            cols.push(("Table_type", Kind::Text));
        }
        return Ok(Output::table(&cols, rows));
    }
    if cur.eat_kw("COLUMNS") || cur.eat_kw("FIELDS") {
        if !(cur.eat_kw("FROM") || cur.eat_kw("IN")) {
            return Err(cur.unexpected("FROM"));
        }
        let (mut db, name) = cur.object_name()?;
        if cur.eat_kw("FROM") || cur.eat_kw("IN") {
            db = Some(cur.ident()?);
        }
        cur.expect_end()?;
        return describe(cat, session, db.as_deref(), &name);
    }
    if cur.eat_kws(&["CREATE", "TABLE"]) {
        let (db, name) = cur.object_name()?;
        cur.expect_end()?;
        let db = resolve_db(session, db.as_deref())?;
        let t = cat.table_by_name(&db, &name)?;
        let text = ddl::show_create(&t.schema, t.distribution.as_deref(), t.comment.as_deref());
        return Ok(Output::table(
            &[("Table", Kind::Text), ("Create Table", Kind::Text)],
            vec![vec![s(name), s(text)]],
        ));
    }
    if cur.eat_kws(&["CREATE", "DATABASE"]) {
        let name = cur.ident()?;
        cur.expect_end()?;
        cat.read().db(&name)?;
        return Ok(Output::table(
            &[("Database", Kind::Text), ("Create Database", Kind::Text)],
            vec![vec![
                s(name.clone()),
                s(format!("CREATE DATABASE `{name}`")),
            ]],
        ));
    }
    if cur.eat_kw("VARIABLES")
        || cur.eat_kws(&["SESSION", "VARIABLES"])
        || cur.eat_kws(&["GLOBAL", "VARIABLES"])
    {
        let pat = like_filter(cur)?;
        cur.expect_end()?;
        let rows = vars::all(session)
            .into_iter()
            .filter(|(n, _)| pat.as_deref().is_none_or(|p| like(p, n)))
            .map(|(n, v)| vec![s(n), s(v)])
            .collect();
        return Ok(Output::table(
            &[("Variable_name", Kind::Text), ("Value", Kind::Text)],
            rows,
        ));
    }
    if cur.eat_kw("GRANTS") {
        let user = if cur.eat_kw("FOR") {
            user_name(cur)?.0
        } else {
            session.user.clone()
        };
        cur.expect_end()?;
        let st = cat.read();
        let rows = if Catalog::is_root(&user) {
            vec![vec![s("'root'@'%'"), None, s("GRANT root TO 'root'@'%'")]]
        } else {
            let u = st.users.get(&user).ok_or_else(|| {
                SqlError::new(
                    5022,
                    "42000",
                    format!("Operation SHOW GRANTS failed for '{user}'@'%' : user not exists"),
                )
            })?;
            u.grants
                .iter()
                .map(|g| {
                    let object = match (g.db.as_str(), g.table.as_str()) {
                        ("*", _) => "ALL TABLES IN ALL DATABASES".to_string(),
                        (d, "*") => format!("ALL TABLES IN DATABASE {d}"),
                        (d, t) => format!("TABLE {d}.{t}"),
                    };
                    vec![
                        s(format!("'{user}'@'%'")),
                        s("default_catalog"),
                        s(format!(
                            "GRANT {} ON {object} TO USER '{user}'@'%'",
                            g.privileges.join(", ")
                        )),
                    ]
                })
                .collect()
        };
        return Ok(Output::table(
            &[
                ("UserIdentity", Kind::Text),
                ("Catalog", Kind::Text),
                ("Grants", Kind::Text),
            ],
            rows,
        ));
    }
    if cur.eat_kw("USERS") {
        cur.expect_end()?;
        let mut rows = vec![vec![s("'root'@'%'")]];
        rows.extend(
            cat.read()
                .users
                .keys()
                .map(|u| vec![s(format!("'{u}'@'%'"))]),
        );
        return Ok(Output::table(&[("User", Kind::Text)], rows));
    }
    if cur.eat_kw("WARNINGS") || cur.eat_kw("ERRORS") {
        return Ok(Output::table(
            &[
                ("Level", Kind::Text),
                ("Code", Kind::BigInt),
                ("Message", Kind::Text),
            ],
            vec![],
        ));
    }
    if cur.eat_kw("ENGINES") {
        return Ok(Output::table(
            &[
                ("Engine", Kind::Text),
                ("Support", Kind::Text),
                ("Comment", Kind::Text),
            ],
            vec![vec![s("OLAP"), s("DEFAULT"), s("StarRocks emulator")]],
        ));
    }
    Err(unsupported_statement(&mut Cursor::new(&format!(
        "SHOW {}",
        next_word(cur)
    ))?))
}

fn next_word(cur: &mut Cursor) -> String {
    match cur.next() {
        Token::Word(w) => w.value,
        _ => String::new(),
    }
}

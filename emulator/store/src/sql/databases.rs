//! CREATE DATABASE, DROP DATABASE and USE.

use super::{require, Output, Session, SqlError};
use crate::catalog::{Catalog, Database};
use crate::lex::Cursor;

/// `CREATE DATABASE|SCHEMA [IF NOT EXISTS] name [PROPERTIES (...)]`, after its leading keywords.
pub(super) fn create(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
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
}

/// `DROP DATABASE|SCHEMA [IF EXISTS] name [FORCE]`, after its leading keywords.
pub(super) fn drop(
    cat: &Catalog,
    session: &mut Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
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
}

/// `USE [catalog.]db`.
pub(super) fn use_statement(
    cat: &Catalog,
    session: &mut Session,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
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

/// `USE` / COM_INIT_DB.
pub fn use_db(cat: &Catalog, session: &mut Session, db: &str) -> Result<(), SqlError> {
    let db = db.strip_prefix("default_catalog.").unwrap_or(db);
    if !cat.read().dbs.contains_key(db) {
        return Err(SqlError::unknown_db(db));
    }
    session.db = Some(db.to_string());
    Ok(())
}

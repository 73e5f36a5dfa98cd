//! CREATE TABLE, DROP TABLE, TRUNCATE and DESCRIBE.

use super::{require, resolve_db, s, Kind, Output, Session, SqlError};
use crate::catalog::Catalog;
use crate::ddl;
use crate::lex::Cursor;
use crate::types;

/// `CREATE [EXTERNAL|TEMPORARY] TABLE ...`, after `CREATE` (the DDL parser reads the rest).
pub(super) fn create(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    let ct = ddl::parse_create_table(cur)?;
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
}

/// `DROP TABLE [IF EXISTS] [db.]name [FORCE]`, after its leading keywords.
pub(super) fn drop(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
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
}

/// `TRUNCATE [TABLE] [db.]name`.
pub(super) fn truncate(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
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

/// `DESC|DESCRIBE [db.]name [ALL]`.
pub(super) fn describe_statement(
    cat: &Catalog,
    session: &Session,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    cur.next();
    let (db, name) = cur.object_name()?;
    cur.eat_kw("ALL");
    cur.expect_end()?;
    describe(cat, session, db.as_deref(), &name)
}

/// The columns as DESCRIBE and SHOW COLUMNS list them.
pub(super) fn describe(
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

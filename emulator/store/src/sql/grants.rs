//! GRANT and REVOKE: privileges on an object, or the built-in roles.

use sqlparser::tokenizer::Token;

use super::users::user_name;
use super::{require, resolve_db, Output, Session, SqlError};
use crate::catalog::{Catalog, Grant};
use crate::lex::Cursor;

const ADMIN_ROLES: &[&str] = &["root", "db_admin", "cluster_admin", "user_admin"];

/// `GRANT|REVOKE privileges ON object TO|FROM user` or `GRANT|REVOKE roles TO|FROM user`.
pub(super) fn run(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
    is_grant: bool,
) -> Result<Output, SqlError> {
    cur.next();
    require(cat, session, "GRANT", "*", "*", "SYSTEM")?;
    let (names, on) = names_before_on_or_to(cur)?;
    if on {
        privileges_on(cat, session, sql, cur, names, is_grant)
    } else {
        roles_to(cat, session, sql, cur, names, is_grant)
    }
}

/// Privileges up to ON (true) or roles up to TO/FROM (false).
fn names_before_on_or_to(cur: &mut Cursor) -> Result<(Vec<String>, bool), SqlError> {
    let mut names = Vec::new();
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
                    names.push(words.join(" "));
                }
                return Ok((names, w.value.eq_ignore_ascii_case("ON")));
            }
            Token::Word(w) => words.push(w.value.to_ascii_uppercase()),
            Token::Comma => {
                names.push(words.join(" "));
                words.clear();
            }
            _ => return Err(cur.unexpected("privilege")),
        }
    }
}

/// A role grant, `GRANT db_admin TO USER u`, after TO/FROM: every built-in role but `public`
/// is emulated as all privileges everywhere.
fn roles_to(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
    roles: Vec<String>,
    is_grant: bool,
) -> Result<Output, SqlError> {
    let _ = cur.eat_kw("USER");
    let (name, host) = user_name(cur)?;
    cur.expect_end()?;
    let roles: Vec<String> = roles.iter().map(|p| p.to_ascii_lowercase()).collect();
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
    apply_grant(
        cat,
        session,
        sql,
        &name,
        &host,
        g,
        is_grant && roles.iter().any(|r| r != "public"),
    )
}

/// A privilege grant, after ON: `object TO|FROM [USER] user [WITH GRANT OPTION]`.
fn privileges_on(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
    privileges: Vec<String>,
    is_grant: bool,
) -> Result<Output, SqlError> {
    let privileges: Vec<String> = privileges.into_iter().map(canonical_privilege).collect();
    let (db, table) = object(session, cur)?;
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

/// The older `*_PRIV` names still work and mean today's privileges.
fn canonical_privilege(p: String) -> String {
    match p.as_str() {
        "ALL PRIVILEGES" | "ALL_PRIV" | "ADMIN_PRIV" => "ALL".to_string(),
        "LOAD_PRIV" => "INSERT".to_string(),
        "SELECT_PRIV" => "SELECT".to_string(),
        "ALTER_PRIV" => "ALTER".to_string(),
        "CREATE_PRIV" => "CREATE".to_string(),
        "DROP_PRIV" => "DROP".to_string(),
        _ => p,
    }
}

/// The object after ON as (db, table), `*` standing for all.
fn object(session: &Session, cur: &mut Cursor) -> Result<(String, String), SqlError> {
    if cur.eat_kws(&["ALL", "TABLES", "IN", "ALL", "DATABASES"])
        || cur.eat_kws(&["ALL", "DATABASES"])
    {
        return Ok(("*".to_string(), "*".to_string()));
    }
    if cur.eat_kws(&["ALL", "TABLES", "IN", "DATABASE"]) || cur.eat_kw("DATABASE") {
        return Ok((cur.ident()?, "*".to_string()));
    }
    if cur.eat_kw("SYSTEM") {
        return Ok(("*".to_string(), "*".to_string()));
    }
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
        Ok((first, second))
    } else {
        Ok((resolve_db(session, None)?, first))
    }
}

/// REVOKE takes the named privileges off the user's grants on the same object; root already
/// holds everything.
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

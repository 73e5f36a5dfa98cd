//! CREATE USER, DROP USER, ALTER USER and SET PASSWORD, plus the user-name and password syntax
//! GRANT and SHOW GRANTS share.

use sqlparser::tokenizer::Token;

use super::{require, Output, Session, SqlError};
use crate::catalog::{Catalog, User};
use crate::lex::Cursor;

/// `CREATE USER [IF NOT EXISTS] user [IDENTIFIED ...] [DEFAULT ROLE ...]`, after its leading
/// keywords.
pub(super) fn create(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    let if_not_exists = cur.eat_kws(&["IF", "NOT", "EXISTS"]);
    let (name, host) = user_name(cur)?;
    let password = if cur.is_kw("IDENTIFIED") {
        identified(cur)?
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
        st.users.insert(
            name.clone(),
            User {
                name: name.clone(),
                password,
                grants: Vec::new(),
            },
        );
        Ok(((), true))
    })?;
    Ok(Output::ok(0))
}

/// `DROP USER [IF EXISTS] user`, after its leading keywords.
pub(super) fn drop(
    cat: &Catalog,
    session: &Session,
    sql: &str,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    let if_exists = cur.eat_kws(&["IF", "EXISTS"]);
    let (name, host) = user_name(cur)?;
    cur.expect_end()?;
    if Catalog::is_root(&name) {
        return Err(SqlError::new(
            5022,
            "42000",
            "Operation DROP USER failed for 'root'@'%' : cannot drop root",
        ));
    }
    require(cat, session, "GRANT", "*", "*", "SYSTEM")?;
    cat.change(session.db.as_deref(), sql, |st| {
        match st.users.remove(&name) {
            Some(_) => Ok(((), true)),
            None if if_exists => Ok(((), false)),
            None => Err(SqlError::new(
                5022,
                "42000",
                format!("Operation DROP USER failed for '{name}'@'{host}' : user not exists"),
            )),
        }
    })?;
    Ok(Output::ok(0))
}

/// `ALTER USER [IF EXISTS] user IDENTIFIED ...`, after its leading keywords.
pub(super) fn alter(
    cat: &Catalog,
    session: &Session,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    cur.eat_kws(&["IF", "EXISTS"]);
    let (name, host) = user_name(cur)?;
    let password = identified(cur)?;
    cur.expect_end()?;
    set_password(cat, session, &name, &host, password)
}

/// `SET PASSWORD [FOR user] = [PASSWORD('pw')|'pw']`, after its leading keywords.
pub(super) fn set_password_statement(
    cat: &Catalog,
    session: &Session,
    cur: &mut Cursor,
) -> Result<Output, SqlError> {
    let (name, host) = if cur.eat_kw("FOR") {
        user_name(cur)?
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
    set_password(cat, session, &name, &host, password)
}

/// `'u'@'%'`, `u@'%'`, `` `u`@`h` ``, `u`: (name, host); hosts are kept only for messages.
pub(super) fn user_name(cur: &mut Cursor) -> Result<(String, String), SqlError> {
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

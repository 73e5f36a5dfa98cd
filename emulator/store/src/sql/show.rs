//! SHOW statements.

use sqlparser::tokenizer::Token;

use super::tables::describe;
use super::users::user_name;
use super::{resolve_db, s, unsupported_statement, vars, Kind, Output, Session, SqlError};
use crate::catalog::Catalog;
use crate::ddl;
use crate::lex::Cursor;

/// `SHOW [FULL] ...`.
pub(super) fn run(cat: &Catalog, session: &Session, cur: &mut Cursor) -> Result<Output, SqlError> {
    cur.next();
    let full = cur.eat_kw("FULL");
    if cur.eat_kw("DATABASES") || cur.eat_kw("SCHEMAS") {
        return databases(cat, cur);
    }
    if cur.eat_kw("TABLES") {
        return tables(cat, session, cur, full);
    }
    if cur.eat_kw("COLUMNS") || cur.eat_kw("FIELDS") {
        return columns(cat, session, cur);
    }
    if cur.eat_kws(&["CREATE", "TABLE"]) {
        return create_table(cat, session, cur);
    }
    if cur.eat_kws(&["ALTER", "TABLE"]) {
        return super::alter::show_alter(cat, session, cur);
    }
    if cur.eat_kws(&["CREATE", "DATABASE"]) {
        return create_database(cat, cur);
    }
    if cur.eat_kw("VARIABLES")
        || cur.eat_kws(&["SESSION", "VARIABLES"])
        || cur.eat_kws(&["GLOBAL", "VARIABLES"])
    {
        return variables(session, cur);
    }
    if cur.eat_kw("GRANTS") {
        return grants(cat, session, cur);
    }
    if cur.eat_kw("USERS") {
        return users(cat, cur);
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

fn databases(cat: &Catalog, cur: &mut Cursor) -> Result<Output, SqlError> {
    let pat = like_filter(cur)?;
    cur.expect_end()?;
    let rows = cat
        .read()
        .dbs
        .keys()
        .filter(|d| pat.as_deref().is_none_or(|p| like(p, d)))
        .map(|d| vec![s(d.clone())])
        .collect();
    Ok(Output::table(&[("Database", Kind::Text)], rows))
}

fn tables(
    cat: &Catalog,
    session: &Session,
    cur: &mut Cursor,
    full: bool,
) -> Result<Output, SqlError> {
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
    Ok(Output::table(&cols, rows))
}

/// `SHOW COLUMNS FROM t [FROM db]`: DESCRIBE's answer.
fn columns(cat: &Catalog, session: &Session, cur: &mut Cursor) -> Result<Output, SqlError> {
    if !(cur.eat_kw("FROM") || cur.eat_kw("IN")) {
        return Err(cur.unexpected("FROM"));
    }
    let (mut db, name) = cur.object_name()?;
    if cur.eat_kw("FROM") || cur.eat_kw("IN") {
        db = Some(cur.ident()?);
    }
    cur.expect_end()?;
    describe(cat, session, db.as_deref(), &name)
}

fn create_table(cat: &Catalog, session: &Session, cur: &mut Cursor) -> Result<Output, SqlError> {
    let (db, name) = cur.object_name()?;
    cur.expect_end()?;
    let db = resolve_db(session, db.as_deref())?;
    let t = cat.table_by_name(&db, &name)?;
    let text = ddl::show_create(&t.schema, t.distribution.as_deref(), t.comment.as_deref());
    Ok(Output::table(
        &[("Table", Kind::Text), ("Create Table", Kind::Text)],
        vec![vec![s(name), s(text)]],
    ))
}

fn create_database(cat: &Catalog, cur: &mut Cursor) -> Result<Output, SqlError> {
    let name = cur.ident()?;
    cur.expect_end()?;
    cat.read().db(&name)?;
    Ok(Output::table(
        &[("Database", Kind::Text), ("Create Database", Kind::Text)],
        vec![vec![
            s(name.clone()),
            s(format!("CREATE DATABASE `{name}`")),
        ]],
    ))
}

fn variables(session: &Session, cur: &mut Cursor) -> Result<Output, SqlError> {
    let pat = like_filter(cur)?;
    cur.expect_end()?;
    let rows = vars::all(session)
        .into_iter()
        .filter(|(n, _)| pat.as_deref().is_none_or(|p| like(p, n)))
        .map(|(n, v)| vec![s(n), s(v)])
        .collect();
    Ok(Output::table(
        &[("Variable_name", Kind::Text), ("Value", Kind::Text)],
        rows,
    ))
}

fn grants(cat: &Catalog, session: &Session, cur: &mut Cursor) -> Result<Output, SqlError> {
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
    Ok(Output::table(
        &[
            ("UserIdentity", Kind::Text),
            ("Catalog", Kind::Text),
            ("Grants", Kind::Text),
        ],
        rows,
    ))
}

fn users(cat: &Catalog, cur: &mut Cursor) -> Result<Output, SqlError> {
    cur.expect_end()?;
    let mut rows = vec![vec![s("'root'@'%'")]];
    rows.extend(
        cat.read()
            .users
            .keys()
            .map(|u| vec![s(format!("'{u}'@'%'"))]),
    );
    Ok(Output::table(&[("User", Kind::Text)], rows))
}

/// `LIKE` pattern match, case-insensitive as MySQL's default collation.
fn like(pattern: &str, s: &str) -> bool {
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

fn next_word(cur: &mut Cursor) -> String {
    match cur.next() {
        Token::Word(w) => w.value,
        _ => String::new(),
    }
}

//! SELECT: parsed by sqlparser (MySQL dialect), table names rewritten to the SQLite mirror's,
//! session functions and `@@variables` replaced by literals, run on SQLite, and the answer
//! rendered as StarRocks prints it.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use sqlparser::ast::{
    visit_expressions_mut, BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    Ident, ObjectName, ObjectNamePart, Query, SelectItem, SetExpr, Statement, TableAlias,
    TableFactor, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use super::{vars, Kind, Output, Session, SqlError};
use crate::catalog::{Catalog, State, Table};
use crate::mirror::{self, kind_of_decltype, kind_of_type};
use crate::model::ColumnType;
use crate::types;

pub fn parse_one(sql: &str) -> Result<Statement, SqlError> {
    let mut stmts =
        Parser::parse_sql(&MySqlDialect {}, sql).map_err(|e| SqlError::syntax(&e.to_string()))?;
    if stmts.len() != 1 {
        return Err(SqlError::unsupported("More than one statement in a query"));
    }
    Ok(stmts.remove(0))
}

/// Object name parts as plain strings.
pub fn name_parts(name: &ObjectName) -> Result<Vec<String>, SqlError> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Ok(i.value.clone()),
            _ => Err(SqlError::unsupported("A function in a table name")),
        })
        .collect()
}

/// `t`, `db.t`, `default_catalog.db.t` to (db, t).
pub fn resolve_table_name(
    session: &Session,
    parts: &[String],
) -> Result<(String, String), SqlError> {
    match parts {
        [t] => Ok((super::resolve_db(session, None)?, t.clone())),
        [d, t] => Ok((d.clone(), t.clone())),
        [c, d, t] if c == "default_catalog" => Ok((d.clone(), t.clone())),
        [c, ..] if parts.len() == 3 => Err(SqlError::new(
            1049,
            "42000",
            format!("Unknown catalog '{c}'"),
        )),
        _ => Err(SqlError::syntax("Invalid table name")),
    }
}

struct Resolver<'a> {
    session: &'a Session,
    st: &'a State,
    ctes: HashSet<String>,
    tables: Vec<Arc<Table>>,
    virtuals: Vec<super::infoschema::Virtual>,
}

impl VisitorMut for Resolver<'_> {
    type Break = SqlError;

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<SqlError> {
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.clone());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<SqlError> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = tf
        else {
            return ControlFlow::Continue(());
        };
        let parts = match name_parts(name) {
            Ok(p) => p,
            Err(e) => return ControlFlow::Break(e),
        };
        if parts.len() == 1 && self.ctes.contains(&parts[0]) {
            return ControlFlow::Continue(());
        }
        if let [db, t] = parts.as_slice() {
            if db.eq_ignore_ascii_case("information_schema") {
                if !super::infoschema::is_known(t) {
                    return ControlFlow::Break(SqlError::unsupported(&format!(
                        "information_schema.{t}"
                    )));
                }
                let v = super::infoschema::build(self.st, t);
                if alias.is_none() {
                    *alias = Some(TableAlias {
                        explicit: true,
                        name: Ident::with_quote('`', t.clone()),
                        columns: vec![],
                        at: None,
                    });
                }
                *name =
                    ObjectName::from(vec![Ident::new("temp"), Ident::new(v.sqlite_name.clone())]);
                self.virtuals.push(v);
                return ControlFlow::Continue(());
            }
        }
        let resolved = resolve_table_name(self.session, &parts).and_then(|(db, t)| {
            let table = self.st.table(&db, &t)?.clone();
            if !self.st.user_has(&self.session.user, "SELECT", &db, &t) {
                return Err(SqlError::new(
                    1142,
                    "42000",
                    format!(
                        "Access denied; you need (at least one of) the SELECT privilege(s) on TABLE {t} for this operation. Please ask the admin to grant permission(s) or try activating existing roles using <set [default] role>. Current role(s): NONE. Inactivated role(s): NONE."
                    ),
                ));
            }
            Ok((t, table))
        });
        match resolved {
            Ok((t, table)) => {
                if alias.is_none() {
                    *alias = Some(TableAlias {
                        explicit: true,
                        name: Ident::with_quote('`', t),
                        columns: vec![],
                        at: None,
                    });
                }
                *name = ObjectName::from(vec![Ident::new(mirror::sqlite_name(table.id))]);
                self.tables.push(table);
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        }
    }
}

fn lit_str(s: String) -> Expr {
    Expr::value(Value::SingleQuotedString(s))
}

fn lit_num(n: i64) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64 * 1_000_000)
        .unwrap_or(0)
}

/// Replaces what only the server knows (variables, session functions) with literals, and turns
/// MySQL's double-quoted strings into standard single-quoted ones for SQLite.
pub(crate) fn substitute(stmt: &mut Statement, session: &Session, version: &str) -> Result<(), SqlError> {
    let r = visit_expressions_mut(stmt, |e| {
        let var = match e {
            Expr::Identifier(id) if id.value.starts_with("@@") => Some(id.value.clone()),
            Expr::CompoundIdentifier(ids)
                if ids.first().is_some_and(|i| i.value.starts_with("@@")) =>
            {
                Some(
                    ids.iter()
                        .map(|i| i.value.as_str())
                        .collect::<Vec<_>>()
                        .join("."),
                )
            }
            _ => None,
        };
        if let Some(v) = var {
            match vars::get(session, &v) {
                Some(val) => {
                    *e = match val.parse::<i64>() {
                        Ok(n) => lit_num(n),
                        Err(_) => lit_str(val),
                    }
                }
                None => {
                    let name = v
                        .trim_start_matches('@')
                        .rsplit('.')
                        .next()
                        .unwrap_or("")
                        .to_string();
                    return ControlFlow::Break(SqlError::new(
                        1193,
                        "HY000",
                        format!("Unknown system variable '{name}'"),
                    ));
                }
            }
            return ControlFlow::Continue(());
        }
        match e {
            // MySQL's `/` always divides exactly; SQLite's truncates two integers.
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Divide,
                ..
            } => {
                let l = std::mem::replace(left.as_mut(), Expr::value(Value::Null));
                **left = Expr::Nested(Box::new(Expr::BinaryOp {
                    left: Box::new(l),
                    op: BinaryOperator::Multiply,
                    right: Box::new(Expr::value(Value::Number("1.0".into(), false))),
                }));
            }
            // `a DIV b`: integer quotient, truncated toward zero.
            Expr::BinaryOp {
                left,
                op: BinaryOperator::MyIntegerDivide,
                right,
            } => {
                let text = format!("CAST(({left}) / ({right}) AS INTEGER)");
                match Parser::new(&MySqlDialect {})
                    .try_with_sql(&text)
                    .and_then(|mut p| p.parse_expr())
                {
                    Ok(x) => *e = x,
                    Err(err) => return ControlFlow::Break(SqlError::syntax(&err.to_string())),
                }
            }
            // `db.t.col`: the mirror knows the table by its alias `t` only.
            Expr::CompoundIdentifier(ids) if ids.len() == 3 => {
                ids.remove(0);
            }
            Expr::Value(v) => {
                if let Value::DoubleQuotedString(s) = &v.value {
                    v.value = Value::SingleQuotedString(s.clone());
                }
            }
            Expr::Function(f) if f.name.0.len() == 1 => {
                let name = f.name.to_string().to_ascii_lowercase();
                let no_args = match &f.args {
                    FunctionArguments::None => true,
                    FunctionArguments::List(l) => l.args.is_empty(),
                    _ => false,
                };
                if !no_args {
                    return ControlFlow::Continue(());
                }
                let user = format!("'{}'@'%'", session.user);
                let replacement = match name.as_str() {
                    "database" | "schema" => Some(match &session.db {
                        Some(d) => lit_str(d.clone()),
                        None => Expr::value(Value::Null),
                    }),
                    "version" => Some(lit_str(vars::MYSQL_VERSION.into())),
                    "current_version" => Some(lit_str(format!("{version}-emulator"))),
                    "user" | "current_user" | "session_user" | "system_user" => Some(lit_str(user)),
                    "connection_id" => Some(lit_num(session.connection_id as i64)),
                    "now" | "current_timestamp" | "localtime" | "localtimestamp" => {
                        Some(lit_str(types::format_datetime(now_micros())))
                    }
                    "curdate" | "current_date" => Some(lit_str(types::format_date(
                        (now_micros() / 86_400_000_000) as i32,
                    ))),
                    _ => None,
                };
                if let Some(r) = replacement {
                    *e = r;
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    match r {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

fn column_type<'a>(tables: &'a [Arc<Table>], e: &Expr) -> Option<&'a ColumnType> {
    let name = match e {
        Expr::Identifier(i) => &i.value,
        Expr::CompoundIdentifier(ids) => &ids.last()?.value,
        _ => return None,
    };
    tables
        .iter()
        .find_map(|t| t.schema.column_index(name).map(|i| &t.schema.columns[i].ty))
}

/// The result type StarRocks gives an aggregate over one column, where SQLite cannot tell.
fn infer_kind(tables: &[Arc<Table>], e: &Expr) -> Option<Kind> {
    if let Some(ty) = column_type(tables, e) {
        return Some(kind_of_type(ty));
    }
    let Expr::Function(f) = e else { return None };
    let name = f.name.to_string().to_ascii_lowercase();
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let arg = match list.args.first() {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(a))) => Some(a),
        _ => None,
    };
    match name.as_str() {
        "count" => Some(Kind::BigInt),
        "avg" => Some(Kind::Double),
        "sum" => match column_type(tables, arg?)? {
            ColumnType::Decimal { scale, .. } => Some(Kind::Decimal(*scale)),
            ColumnType::Float | ColumnType::Double => Some(Kind::Double),
            ColumnType::LargeInt => Some(Kind::LargeInt),
            _ => Some(Kind::BigInt),
        },
        "min" | "max" | "any_value" => Some(kind_of_type(column_type(tables, arg?)?)),
        _ => None,
    }
}

/// `SELECT COUNT(*) FROM t` straight from the store, so counting millions of loaded rows does
/// not first copy them into the mirror.
fn fast_count(q: &Query) -> bool {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return false;
    };
    q.with.is_none()
        && q.order_by.is_none()
        && q.limit_clause.is_none()
        && s.from.len() == 1
        && s.from[0].joins.is_empty()
        // a plain table: the count of `FROM (subquery) x` is the subquery's rows, not its table's
        && matches!(s.from[0].relation, sqlparser::ast::TableFactor::Table { .. })
        && s.selection.is_none()
        && s.having.is_none()
        && s.distinct.is_none()
        && matches!(&s.group_by, sqlparser::ast::GroupByExpr::Expressions(g, _) if g.is_empty())
        && s.projection.len() == 1
        && match &s.projection[0] {
            SelectItem::UnnamedExpr(Expr::Function(f))
            | SelectItem::ExprWithAlias {
                expr: Expr::Function(f),
                ..
            } => {
                f.name.to_string().eq_ignore_ascii_case("count")
                    && matches!(&f.args, FunctionArguments::List(l) if l.args.len() == 1 && matches!(l.args[0], FunctionArg::Unnamed(FunctionArgExpr::Wildcard)))
            }
            _ => false,
        }
}

pub fn run(cat: &Catalog, session: &Session, sql: &str) -> Result<Output, SqlError> {
    let mut stmt = parse_one(sql)?;
    let Statement::Query(query) = &mut stmt else {
        return Err(SqlError::unsupported("This statement"));
    };
    // Names for unaliased expressions, as the client typed them (SQLite would show the rewrite).
    let mut hints: HashMap<String, Kind> = HashMap::new();
    let mut mirror = cat.mirror.lock().unwrap();
    let tables = {
        let st = cat.read();
        let mut r = Resolver {
            session,
            st: &st,
            ctes: HashSet::new(),
            tables: Vec::new(),
            virtuals: Vec::new(),
        };
        if let ControlFlow::Break(e) = query.visit(&mut r) {
            return Err(e);
        }
        mirror.prune(&st.tables_by_id.keys().copied().collect())?;
        for v in &r.virtuals {
            mirror.load_scratch(&v.sqlite_name, &v.columns, &v.rows)?;
        }
        r.tables
    };
    if fast_count(query) && tables.len() == 1 {
        let SetExpr::Select(s) = query.body.as_ref() else {
            unreachable!()
        };
        let name = match &s.projection[0] {
            SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
            SelectItem::UnnamedExpr(e) => e.to_string(),
            _ => unreachable!(),
        };
        let n = tables[0].data.lock().unwrap().len();
        return Ok(Output::table(
            &[(name.as_str(), Kind::BigInt)],
            vec![vec![Some(n.to_string())]],
        ));
    }
    if let SetExpr::Select(s) = query.body.as_mut() {
        for item in s.projection.iter_mut() {
            match item {
                SelectItem::UnnamedExpr(e)
                    if !matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
                        || is_var(e) =>
                {
                    let text = e.to_string();
                    if let Some(k) = infer_kind(&tables, e) {
                        hints.insert(text.clone(), k);
                    }
                    *item = SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::with_quote('`', text),
                    };
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    if let Some(k) = infer_kind(&tables, expr) {
                        hints.insert(alias.value.clone(), k);
                    }
                }
                _ => {}
            }
        }
    }
    substitute(&mut stmt, session, &cat.version())?;
    for t in &tables {
        mirror.sync(t)?;
    }
    let answer = mirror.query(&stmt.to_string())?;
    drop(mirror);
    render(answer, &hints)
}

fn is_var(e: &Expr) -> bool {
    match e {
        Expr::Identifier(i) => i.value.starts_with("@@"),
        Expr::CompoundIdentifier(ids) => ids.first().is_some_and(|i| i.value.starts_with("@@")),
        _ => false,
    }
}

fn render(answer: mirror::Answer, hints: &HashMap<String, Kind>) -> Result<Output, SqlError> {
    let mut columns = Vec::with_capacity(answer.names.len());
    for (i, name) in answer.names.iter().enumerate() {
        let kind = answer.decltypes[i]
            .as_deref()
            .and_then(kind_of_decltype)
            .or_else(|| hints.get(name).copied())
            .unwrap_or_else(|| {
                match answer
                    .rows
                    .iter()
                    .map(|r| &r[i])
                    .find(|v| !matches!(v, SqlValue::Null))
                {
                    Some(SqlValue::Integer(_)) => Kind::BigInt,
                    Some(SqlValue::Real(_)) => Kind::Double,
                    _ => Kind::Text,
                }
            });
        columns.push((name.clone(), kind));
    }
    let rows = answer
        .rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .zip(columns.iter())
                .map(|(v, (_, k))| render_value(v, *k))
                .collect()
        })
        .collect();
    Ok(Output {
        columns,
        rows,
        result_set: true,
        ..Default::default()
    })
}

pub fn render_value(v: SqlValue, kind: Kind) -> Option<String> {
    Some(match v {
        SqlValue::Null => return None,
        SqlValue::Integer(n) => match kind {
            Kind::Decimal(s) if s > 0 => format!("{n}.{}", "0".repeat(s as usize)),
            _ => n.to_string(),
        },
        SqlValue::Real(f) => match kind {
            Kind::Decimal(s) => format!("{:.*}", s as usize, f),
            Kind::Float => types::format_f32(f as f32),
            Kind::TinyInt
            | Kind::SmallInt
            | Kind::Int
            | Kind::BigInt
            | Kind::LargeInt
            | Kind::Boolean
                if f.fract() == 0.0 && f.abs() < 9.0e15 =>
            {
                format!("{}", f as i64)
            }
            _ => types::format_f64(f),
        },
        SqlValue::Text(t) => t,
        SqlValue::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
    })
}

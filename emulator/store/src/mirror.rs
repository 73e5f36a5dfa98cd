//! An in-memory SQLite copy of the tables, for SELECT. It catches up lazily, when a query reads a
//! table that changed: Duplicate tables append only the rows past the last sync, Primary tables
//! rewrite only the keys touched since, and TRUNCATE (a new generation) rebuilds.
//!
//! Values are stored so that SQLite compares and aggregates them sensibly and they come back as
//! StarRocks prints them: numbers as numbers, DATE/DATETIME/JSON as their display text. Each
//! column's declared type carries the StarRocks type back out to the renderer (`decltype`); the
//! `_TEXT`/`_INT` suffixes pick SQLite's TEXT/INTEGER affinity for types it would otherwise coerce.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use crate::catalog::Table;
use crate::error::SqlError;
use crate::kind::Kind;
use crate::model::{ColumnType, KeysType, Row, Value};
use crate::store::{cmp_values, decode_key, Rows, TableData};
use crate::types;

struct Synced {
    generation: u64,
    version: u64,
    /// Duplicate tables: rows already copied.
    rows: usize,
}

pub struct Mirror {
    conn: Connection,
    tables: HashMap<i64, Synced>,
}

fn internal(e: rusqlite::Error) -> SqlError {
    SqlError::new(1105, "HY000", format!("emulator query engine: {e}"))
}

pub fn sqlite_name(table_id: i64) -> String {
    format!("t_{table_id}")
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn decltype(ty: &ColumnType) -> String {
    match ty {
        ColumnType::TinyInt => "TINYINT".into(),
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Int => "INT".into(),
        ColumnType::BigInt => "BIGINT".into(),
        // BLOB affinity: SQLite would turn digits past i64 into a lossy REAL under INTEGER affinity.
        ColumnType::LargeInt => "LARGE_BLOB".into(),
        ColumnType::Float => "FLOAT".into(),
        ColumnType::Double => "DOUBLE".into(),
        // NUMERIC affinity keeps 15 significant digits; wider decimals keep their storage class
        // (see `to_sql`) under BLOB affinity.
        ColumnType::Decimal { precision, scale } if *precision <= 15 => {
            format!("DECIMAL({precision},{scale})")
        }
        ColumnType::Decimal { precision, scale } => format!("DECIMAL_BLOB({precision},{scale})"),
        ColumnType::Boolean => "BOOLEAN_INT".into(),
        ColumnType::Char(n) => format!("CHAR({n})"),
        ColumnType::Varchar(n) => format!("VARCHAR({n})"),
        ColumnType::Date => "DATE_TEXT".into(),
        ColumnType::DateTime => "DATETIME_TEXT".into(),
        ColumnType::Json => "JSON_TEXT".into(),
    }
}

/// The result kind of a column with this declared type.
pub fn kind_of_decltype(decl: &str) -> Option<Kind> {
    let d = decl.to_ascii_uppercase();
    Some(match d.as_str() {
        "TINYINT" => Kind::TinyInt,
        "SMALLINT" => Kind::SmallInt,
        "INT" => Kind::Int,
        "BIGINT" => Kind::BigInt,
        "LARGE_BLOB" => Kind::LargeInt,
        "FLOAT" => Kind::Float,
        "DOUBLE" => Kind::Double,
        "BOOLEAN_INT" => Kind::Boolean,
        "DATE_TEXT" => Kind::Date,
        "DATETIME_TEXT" => Kind::DateTime,
        "JSON_TEXT" => Kind::Json,
        _ if d.starts_with("DECIMAL(") || d.starts_with("DECIMAL_BLOB(") => {
            let scale = d
                .trim_end_matches(')')
                .rsplit(',')
                .next()?
                .trim()
                .parse()
                .ok()?;
            Kind::Decimal(scale)
        }
        _ if d.starts_with("CHAR(") || d.starts_with("VARCHAR(") => Kind::Text,
        _ => return None,
    })
}

pub fn kind_of_type(ty: &ColumnType) -> Kind {
    kind_of_decltype(&decltype(ty)).unwrap_or(Kind::Text)
}

pub fn to_sql(ty: &ColumnType, v: &Option<Value>) -> SqlValue {
    match v {
        None => SqlValue::Null,
        Some(Value::Int(i)) => match i64::try_from(*i) {
            Ok(small) => SqlValue::Integer(small),
            Err(_) => SqlValue::Text(i.to_string()),
        },
        Some(Value::Bool(b)) => SqlValue::Integer(*b as i64),
        Some(Value::Float(f)) => SqlValue::Real(*f),
        // A wide decimal is a REAL when that prints back exactly (so it compares as a number),
        // else its exact text.
        Some(Value::Decimal(s)) => match ty {
            ColumnType::Decimal { precision, scale } if *precision > 15 => match s.parse::<f64>() {
                Ok(f) if format!("{:.*}", *scale as usize, f) == *s => SqlValue::Real(f),
                _ => SqlValue::Text(s.clone()),
            },
            _ => SqlValue::Text(s.clone()),
        },
        Some(Value::Str(s)) => SqlValue::Text(s.clone()),
        Some(v @ (Value::Date(_) | Value::DateTime(_) | Value::Json(_))) => {
            SqlValue::Text(types::display(ty, v))
        }
    }
}

/// A query's raw answer: names, declared types (None for expressions), values.
pub struct Answer {
    pub names: Vec<String>,
    pub decltypes: Vec<Option<String>>,
    pub rows: Vec<Vec<SqlValue>>,
}

impl Mirror {
    pub fn new() -> rusqlite::Result<Mirror> {
        Ok(Mirror {
            conn: Connection::open_in_memory()?,
            tables: HashMap::new(),
        })
    }

    /// Drops copies of tables that no longer exist.
    pub fn prune(&mut self, live: &HashSet<i64>) -> Result<(), SqlError> {
        let dead: Vec<i64> = self
            .tables
            .keys()
            .filter(|id| !live.contains(id))
            .copied()
            .collect();
        for id in dead {
            self.conn
                .execute_batch(&format!("DROP TABLE IF EXISTS {}", sqlite_name(id)))
                .map_err(internal)?;
            self.tables.remove(&id);
        }
        Ok(())
    }

    pub fn sync(&mut self, table: &Table) -> Result<(), SqlError> {
        let mut data = table.data.lock().unwrap();
        let schema = &table.schema;
        let name = sqlite_name(table.id);
        let rebuild = self
            .tables
            .get(&table.id)
            .is_none_or(|s| s.generation != data.generation);
        if !rebuild && self.tables[&table.id].version == data.version {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(internal)?;
        let placeholders = vec!["?"; schema.columns.len()].join(",");
        let insert_verb = if schema.keys_type == KeysType::Primary {
            "INSERT OR REPLACE"
        } else {
            "INSERT"
        };
        let insert_sql = format!("{insert_verb} INTO {name} VALUES ({placeholders})");
        let insert = |tx: &rusqlite::Transaction,
                      rows: &mut dyn Iterator<Item = &Row>|
         -> Result<(), SqlError> {
            let mut stmt = tx.prepare_cached(&insert_sql).map_err(internal)?;
            for row in rows {
                let vals = schema
                    .columns
                    .iter()
                    .zip(row.iter())
                    .map(|(c, v)| to_sql(&c.ty, v));
                stmt.execute(rusqlite::params_from_iter(vals))
                    .map_err(internal)?;
            }
            Ok(())
        };
        let start = if rebuild {
            let mut cols: Vec<String> = schema
                .columns
                .iter()
                .map(|c| format!("{} {}", quote(&c.name), decltype(&c.ty)))
                .collect();
            if schema.keys_type == KeysType::Primary {
                let keys: Vec<String> = schema
                    .key_columns
                    .iter()
                    .map(|&i| quote(&schema.columns[i].name))
                    .collect();
                cols.push(format!("PRIMARY KEY ({})", keys.join(",")));
            }
            // WITHOUT ROWID: a Primary Key table scans in key order, as a one-bucket StarRocks
            // table answers `SELECT *` without ORDER BY.
            let without_rowid = if schema.keys_type == KeysType::Primary {
                " WITHOUT ROWID"
            } else {
                ""
            };
            tx.execute_batch(&format!(
                "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} ({}){without_rowid};",
                cols.join(", ")
            ))
            .map_err(internal)?;
            data.dirty.clear();
            0
        } else {
            self.tables[&table.id].rows
        };
        let data = &mut *data;
        let copied = match &data.rows {
            Rows::Duplicate(rows) => {
                insert(&tx, &mut rows[start..].iter())?;
                rows.len()
            }
            Rows::Primary(map) => {
                if rebuild {
                    // In key order, so the WITHOUT ROWID b-tree only ever appends.
                    let mut rows: Vec<&Row> = map.values().collect();
                    rows.sort_unstable_by(|a, b| {
                        schema
                            .key_columns
                            .iter()
                            .map(|&i| cmp_values(&a[i], &b[i]))
                            .find(|o| o.is_ne())
                            .unwrap_or(std::cmp::Ordering::Equal)
                    });
                    insert(&tx, &mut rows.into_iter())?;
                } else {
                    let keys: Vec<String> = schema
                        .key_columns
                        .iter()
                        .map(|&i| format!("{} = ?", quote(&schema.columns[i].name)))
                        .collect();
                    let delete_sql = format!("DELETE FROM {name} WHERE {}", keys.join(" AND "));
                    let mut upserts = Vec::new();
                    for key in data.dirty.iter() {
                        match map.get(key) {
                            Some(row) => upserts.push(row),
                            None => {
                                let kv = decode_key(schema, key);
                                let vals = schema
                                    .key_columns
                                    .iter()
                                    .map(|&i| to_sql(&schema.columns[i].ty, &kv[i]));
                                tx.prepare_cached(&delete_sql)
                                    .and_then(|mut s| s.execute(rusqlite::params_from_iter(vals)))
                                    .map_err(internal)?;
                            }
                        }
                    }
                    insert(&tx, &mut upserts.into_iter())?;
                }
                data.dirty.clear();
                0
            }
        };
        tx.commit().map_err(internal)?;
        data.track_dirty = true;
        self.tables.insert(
            table.id,
            Synced {
                generation: data.generation,
                version: data.version,
                rows: copied,
            },
        );
        Ok(())
    }

    /// Positions (in `TableData::all_rows` order) of the rows matching `condition` (SQL text over
    /// the columns, the table known as `alias`), through a scratch copy whose rowids are those
    /// positions + 1.
    pub fn matching_positions(
        &mut self,
        table: &Table,
        data: &TableData,
        alias: &str,
        condition: Option<&str>,
    ) -> Result<Vec<usize>, SqlError> {
        let schema = &table.schema;
        let cols: Vec<String> = schema
            .columns
            .iter()
            .map(|c| format!("{} {}", quote(&c.name), decltype(&c.ty)))
            .collect();
        let tx = self.conn.transaction().map_err(internal)?;
        tx.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.scratch; CREATE TEMP TABLE scratch ({});",
            cols.join(", ")
        ))
        .map_err(internal)?;
        {
            let placeholders = vec!["?"; schema.columns.len()].join(",");
            let mut stmt = tx
                .prepare(&format!("INSERT INTO temp.scratch VALUES ({placeholders})"))
                .map_err(internal)?;
            for row in data.all_rows() {
                let vals = schema
                    .columns
                    .iter()
                    .zip(row.iter())
                    .map(|(c, v)| to_sql(&c.ty, v));
                stmt.execute(rusqlite::params_from_iter(vals))
                    .map_err(internal)?;
            }
        }
        let sql = match condition {
            Some(c) => format!(
                "SELECT rowid FROM temp.scratch AS {} WHERE {c}",
                quote(alias)
            ),
            None => "SELECT rowid FROM temp.scratch".to_string(),
        };
        let positions = {
            let mut stmt = tx
                .prepare(&sql)
                .map_err(|e| SqlError::analysis(&sqlite_message(&e)))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, i64>(0))
                .map_err(|e| SqlError::analysis(&sqlite_message(&e)))?;
            rows.map(|r| r.map(|id| (id - 1) as usize))
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?
        };
        tx.execute_batch("DROP TABLE temp.scratch")
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(positions)
    }

    /// (Re)creates `temp.<name>` with these rows (information_schema tables).
    pub fn load_scratch(
        &mut self,
        name: &str,
        columns: &[(&str, &str)],
        rows: &[Vec<SqlValue>],
    ) -> Result<(), SqlError> {
        let cols: Vec<String> = columns
            .iter()
            .map(|(n, t)| format!("{} {t}", quote(n)))
            .collect();
        let tx = self.conn.transaction().map_err(internal)?;
        tx.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{name}; CREATE TEMP TABLE {name} ({});",
            cols.join(", ")
        ))
        .map_err(internal)?;
        {
            let placeholders = vec!["?"; columns.len()].join(",");
            let mut stmt = tx
                .prepare(&format!("INSERT INTO temp.{name} VALUES ({placeholders})"))
                .map_err(internal)?;
            for r in rows {
                stmt.execute(rusqlite::params_from_iter(r.iter()))
                    .map_err(internal)?;
            }
        }
        tx.commit().map_err(internal)
    }

    pub fn query(&self, sql: &str) -> Result<Answer, SqlError> {
        let mut stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| SqlError::analysis(&sqlite_message(&e)))?;
        let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let decltypes: Vec<Option<String>> = stmt
            .columns()
            .map(|c| c.decl_type().map(str::to_string))
            .collect();
        let n = names.len();
        let mut rows = Vec::new();
        let mut q = stmt
            .query([])
            .map_err(|e| SqlError::analysis(&sqlite_message(&e)))?;
        while let Some(r) = q
            .next()
            .map_err(|e| SqlError::analysis(&sqlite_message(&e)))?
        {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(r.get::<_, SqlValue>(i).map_err(internal)?);
            }
            rows.push(row);
        }
        Ok(Answer {
            names,
            decltypes,
            rows,
        })
    }
}

/// SQLite's complaint in StarRocks' words where there is an equivalent.
fn sqlite_message(e: &rusqlite::Error) -> String {
    let m = match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    };
    // Newer SQLite appends " in <statement> at offset N", which shows the mirror's table names.
    let m = match m.find(" in ") {
        Some(i) if m.contains(" at offset ") => m[..i].to_string(),
        _ => m,
    };
    if let Some(c) = m.strip_prefix("no such column: ") {
        let c = c.rsplit('.').next().unwrap_or(c);
        return format!("Column '{c}' cannot be resolved");
    }
    if let Some(f) = m.strip_prefix("no such function: ") {
        return format!("No matching function with signature: {f} (the emulator runs SELECT on SQLite, which lacks it)");
    }
    m
}

//! `information_schema.schemata`, `.tables`, `.columns` and `.tables_config`, built from the catalog into scratch
//! SQLite tables for the query that reads them (tools and connectors discover schemas this way).

use rusqlite::types::Value as SqlValue;

use crate::catalog::{State, Table};
use crate::model::{ColumnType, KeysType, TableSchema};
use crate::types;

/// A virtual table: SQLite name, columns with declared types, rows.
pub struct Virtual {
    pub sqlite_name: String,
    pub columns: Vec<(&'static str, &'static str)>,
    pub rows: Vec<Vec<SqlValue>>,
}

pub fn is_known(table: &str) -> bool {
    matches!(
        table.to_ascii_lowercase().as_str(),
        "schemata" | "tables" | "columns" | "tables_config"
    )
}

fn text(s: impl Into<String>) -> SqlValue {
    SqlValue::Text(s.into())
}

fn data_type(ty: &ColumnType) -> &'static str {
    match ty {
        ColumnType::TinyInt => "tinyint",
        ColumnType::SmallInt => "smallint",
        ColumnType::Int => "int",
        ColumnType::BigInt => "bigint",
        ColumnType::LargeInt => "bigint unsigned",
        ColumnType::Float => "float",
        ColumnType::Double => "double",
        ColumnType::Decimal { .. } => "decimal",
        ColumnType::Boolean => "tinyint",
        ColumnType::Char(_) => "char",
        ColumnType::Varchar(_) => "varchar",
        ColumnType::Date => "date",
        ColumnType::DateTime => "datetime",
        ColumnType::Json => "json",
    }
}

/// Builds `table` (lower-cased name) from the catalog; `row_count` reads a table's size.
pub fn build(st: &State, table: &str) -> Virtual {
    let table = table.to_ascii_lowercase();
    let sqlite_name = format!("is_{table}");
    const T: &str = "VARCHAR(512)";
    const N: &str = "BIGINT";
    match table.as_str() {
        "tables_config" => tables_config(st, sqlite_name),
        "schemata" => Virtual {
            sqlite_name,
            columns: vec![
                ("CATALOG_NAME", T),
                ("SCHEMA_NAME", T),
                ("DEFAULT_CHARACTER_SET_NAME", T),
                ("DEFAULT_COLLATION_NAME", T),
                ("SQL_PATH", T),
            ],
            rows: st
                .dbs
                .keys()
                .map(|d| {
                    vec![
                        text("def"),
                        text(d.clone()),
                        text("utf8"),
                        text("utf8_general_ci"),
                        SqlValue::Null,
                    ]
                })
                .collect(),
        },
        "tables" => {
            let mut rows = Vec::new();
            for (dname, d) in &st.dbs {
                for (tname, t) in &d.tables {
                    let n = t.data.lock().unwrap().len() as i64;
                    rows.push(vec![
                        text("def"),
                        text(dname.clone()),
                        text(tname.clone()),
                        text("BASE TABLE"),
                        text("StarRocks"),
                        SqlValue::Integer(n),
                        text("utf8_general_ci"),
                        text(t.comment.clone().unwrap_or_default()),
                    ]);
                }
            }
            Virtual {
                sqlite_name,
                columns: vec![
                    ("TABLE_CATALOG", T),
                    ("TABLE_SCHEMA", T),
                    ("TABLE_NAME", T),
                    ("TABLE_TYPE", T),
                    ("ENGINE", T),
                    ("TABLE_ROWS", N),
                    ("TABLE_COLLATION", T),
                    ("TABLE_COMMENT", T),
                ],
                rows,
            }
        }
        _ => {
            let mut rows = Vec::new();
            for (dname, d) in &st.dbs {
                for (tname, t) in &d.tables {
                    let s = &t.schema;
                    for (i, c) in s.columns.iter().enumerate() {
                        let (len, prec, scale) = match &c.ty {
                            ColumnType::Char(n) | ColumnType::Varchar(n) => {
                                (SqlValue::Integer(*n as i64), SqlValue::Null, SqlValue::Null)
                            }
                            ColumnType::Decimal { precision, scale } => (
                                SqlValue::Null,
                                SqlValue::Integer(*precision as i64),
                                SqlValue::Integer(*scale as i64),
                            ),
                            _ => (SqlValue::Null, SqlValue::Null, SqlValue::Null),
                        };
                        let key = match (c.is_key, s.keys_type) {
                            (false, _) => "",
                            (true, KeysType::Primary) => "PRI",
                            (true, KeysType::Duplicate) => "DUP",
                        };
                        rows.push(vec![
                            text("def"),
                            text(dname.clone()),
                            text(tname.clone()),
                            text(c.name.clone()),
                            SqlValue::Integer(i as i64 + 1),
                            match &c.default {
                                Some(Some(v)) => text(types::display(&c.ty, v)),
                                _ => SqlValue::Null,
                            },
                            text(if c.nullable { "YES" } else { "NO" }),
                            text(data_type(&c.ty)),
                            len,
                            prec,
                            scale,
                            text(types::type_name(&c.ty)),
                            text(key),
                            text(""),
                            text(""),
                        ]);
                    }
                }
            }
            Virtual {
                sqlite_name,
                columns: vec![
                    ("TABLE_CATALOG", T),
                    ("TABLE_SCHEMA", T),
                    ("TABLE_NAME", T),
                    ("COLUMN_NAME", T),
                    ("ORDINAL_POSITION", N),
                    ("COLUMN_DEFAULT", T),
                    ("IS_NULLABLE", T),
                    ("DATA_TYPE", T),
                    ("CHARACTER_MAXIMUM_LENGTH", N),
                    ("NUMERIC_PRECISION", N),
                    ("NUMERIC_SCALE", N),
                    ("COLUMN_TYPE", T),
                    ("COLUMN_KEY", T),
                    ("EXTRA", T),
                    ("COLUMN_COMMENT", T),
                ],
                rows,
            }
        }
    }
}

/// `DISTRIBUTED BY HASH(`a`, `b`) BUCKETS n` as (type, key, buckets). Without BUCKETS the
/// table's default distribution has bucket number 0 (StarRocks chooses per partition).
fn distribution(t: &Table) -> (String, String, i64) {
    let Some(text) = t.distribution.as_deref() else {
        return match t.schema.keys_type {
            KeysType::Primary => ("HASH".into(), key_list(&t.schema, &t.schema.key_columns), 0),
            KeysType::Duplicate => ("RANDOM".into(), String::new(), 0),
        };
    };
    let buckets = text
        .split_once(" BUCKETS ")
        .and_then(|(_, n)| n.trim().parse().ok())
        .unwrap_or(0);
    match (text.find("HASH("), text.rfind(')')) {
        (Some(a), Some(b)) if b > a => ("HASH".into(), text[a + 5..b].to_string(), buckets),
        _ => ("RANDOM".into(), String::new(), buckets),
    }
}

fn key_list(s: &TableSchema, idx: &[usize]) -> String {
    idx.iter()
        .map(|&i| format!("`{}`", s.columns[i].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Built as StarRocks' `InformationSchemaDataSource.genNormalTableConfigInfo` fills it.
fn tables_config(st: &State, sqlite_name: String) -> Virtual {
    const T: &str = "VARCHAR(512)";
    const N: &str = "BIGINT";
    let mut rows = Vec::new();
    for (dname, d) in &st.dbs {
        for (tname, t) in &d.tables {
            let s = &t.schema;
            let keys = key_list(s, &s.key_columns);
            let (dtype, dkey, buckets) = distribution(t);
            let sort_key = match &t.sort_key {
                Some(cols) => cols
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                None => keys.clone(),
            };
            rows.push(vec![
                text(dname.clone()),
                text(tname.clone()),
                text("OLAP"),
                text(match s.keys_type {
                    KeysType::Primary => "PRIMARY_KEYS",
                    KeysType::Duplicate => "DUP_KEYS",
                }),
                text(if s.keys_type == KeysType::Primary {
                    keys.clone()
                } else {
                    String::new()
                }),
                text(""),
                text(dkey),
                text(dtype),
                SqlValue::Integer(buckets),
                text(sort_key),
                text("{\"replication_num\":\"1\"}"),
                SqlValue::Integer(t.id),
            ]);
        }
    }
    Virtual {
        sqlite_name,
        columns: vec![
            ("TABLE_SCHEMA", T),
            ("TABLE_NAME", T),
            ("TABLE_ENGINE", T),
            ("TABLE_MODEL", T),
            ("PRIMARY_KEY", T),
            ("PARTITION_KEY", T),
            ("DISTRIBUTE_KEY", T),
            ("DISTRIBUTE_TYPE", T),
            ("DISTRIBUTE_BUCKET", N),
            ("SORT_KEY", T),
            ("PROPERTIES", T),
            ("TABLE_ID", N),
        ],
        rows,
    }
}

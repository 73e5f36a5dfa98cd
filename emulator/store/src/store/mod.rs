//! A table's rows and the table models' write semantics. Kept in plain Rust structures so the
//! load path never touches an SQL engine; the SQLite mirror (`mirror`) catches up lazily using the
//! change tracking here (an append watermark for Duplicate tables, a dirty-key set for Primary).

use std::collections::{HashMap, HashSet};

use crate::model::{ColumnType, KeysType, LoadBatch, Row, RowOp, TableSchema, Value};
use crate::types;

/// Primary key bytes: the key columns' values, each tagged and length-delimited so that distinct
/// keys never collide.
pub type Key = Box<[u8]>;

pub fn encode_key(schema: &TableSchema, row: &Row) -> Key {
    let mut out = Vec::with_capacity(16);
    for &i in &schema.key_columns {
        match &row[i] {
            None => out.push(0),
            Some(Value::Int(v)) => {
                out.push(1);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Some(Value::Bool(b)) => {
                out.push(1);
                out.extend_from_slice(&(*b as i128).to_le_bytes());
            }
            Some(Value::Float(f)) => {
                out.push(2);
                out.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Some(Value::Date(d)) => {
                out.push(3);
                out.extend_from_slice(&d.to_le_bytes());
            }
            Some(Value::DateTime(t)) => {
                out.push(4);
                out.extend_from_slice(&t.to_le_bytes());
            }
            Some(Value::Decimal(s)) | Some(Value::Str(s)) | Some(Value::Json(s)) => {
                out.push(5);
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    out.into_boxed_slice()
}

/// The key columns' values back from `encode_key` (other positions are NULL).
pub fn decode_key(schema: &TableSchema, key: &[u8]) -> Row {
    let mut row: Row = vec![None; schema.columns.len()];
    let mut pos = 0usize;
    let mut take = |n: usize| {
        let s = &key[pos..pos + n];
        pos += n;
        s
    };
    for &i in &schema.key_columns {
        let ty = &schema.columns[i].ty;
        row[i] = match take(1)[0] {
            0 => None,
            1 => {
                let v = i128::from_le_bytes(take(16).try_into().unwrap());
                Some(if *ty == ColumnType::Boolean {
                    Value::Bool(v != 0)
                } else {
                    Value::Int(v)
                })
            }
            2 => Some(Value::Float(f64::from_bits(u64::from_le_bytes(
                take(8).try_into().unwrap(),
            )))),
            3 => Some(Value::Date(i32::from_le_bytes(take(4).try_into().unwrap()))),
            4 => Some(Value::DateTime(i64::from_le_bytes(
                take(8).try_into().unwrap(),
            ))),
            _ => {
                let n = u32::from_le_bytes(take(4).try_into().unwrap()) as usize;
                let s = String::from_utf8_lossy(take(n)).into_owned();
                Some(match ty {
                    ColumnType::Decimal { .. } => Value::Decimal(s),
                    ColumnType::Json => Value::Json(s),
                    _ => Value::Str(s),
                })
            }
        };
    }
    row
}

#[derive(Debug)]
pub enum Rows {
    Duplicate(Vec<Row>),
    Primary(HashMap<Key, Row>),
}

#[derive(Debug)]
pub struct TableData {
    pub rows: Rows,
    /// Bumped when the mirror must be rebuilt from scratch (TRUNCATE).
    pub generation: u64,
    /// Bumped by every change; the mirror compares it to skip a no-op sync.
    pub version: u64,
    /// Primary tables: keys written or deleted since the mirror last synced.
    pub dirty: HashSet<Key>,
    /// Set by the mirror once it holds a copy; until then (the usual case during a load-only
    /// benchmark) keys are not tracked, which saves a key copy and a hash insert per row.
    pub track_dirty: bool,
}

/// -1/0/1 ordering of two values of one column; NULL sorts first.
pub fn cmp_values(a: &Option<Value>, b: &Option<Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (None, None) => Equal,
        (None, _) => Less,
        (_, None) => Greater,
        (Some(a), Some(b)) => match (a, b) {
            (Value::Int(x), Value::Int(y)) => x.cmp(y),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(Equal),
            (Value::Date(x), Value::Date(y)) => x.cmp(y),
            (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
            (Value::Decimal(x), Value::Decimal(y)) => cmp_decimal(x, y),
            (Value::Str(x), Value::Str(y)) | (Value::Json(x), Value::Json(y)) => x.cmp(y),
            _ => Equal,
        },
    }
}

/// Compares canonical decimal texts of the same scale without going through floats.
fn cmp_decimal(a: &str, b: &str) -> std::cmp::Ordering {
    let (an, a) = a.strip_prefix('-').map(|s| (true, s)).unwrap_or((false, a));
    let (bn, b) = b.strip_prefix('-').map(|s| (true, s)).unwrap_or((false, b));
    let mag = |s: &str| {
        let int = s.split('.').next().unwrap_or("");
        (int.len(), s.to_string())
    };
    match (an, bn) {
        (false, true) => std::cmp::Ordering::Greater,
        (true, false) => std::cmp::Ordering::Less,
        (false, false) => mag(a).cmp(&mag(b)),
        (true, true) => mag(b).cmp(&mag(a)),
    }
}

impl TableData {
    pub fn new(keys_type: KeysType) -> TableData {
        TableData {
            rows: match keys_type {
                KeysType::Duplicate => Rows::Duplicate(Vec::new()),
                KeysType::Primary => Rows::Primary(HashMap::new()),
            },
            generation: 0,
            version: 0,
            dirty: HashSet::new(),
            track_dirty: false,
        }
    }

    pub fn len(&self) -> usize {
        match &self.rows {
            Rows::Duplicate(v) => v.len(),
            Rows::Primary(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn truncate(&mut self) {
        match &mut self.rows {
            Rows::Duplicate(v) => *v = Vec::new(),
            Rows::Primary(m) => *m = HashMap::new(),
        }
        self.dirty.clear();
        self.track_dirty = false;
        self.generation += 1;
        self.version += 1;
    }

    /// Checks everything that could make a batch fail, so `apply` never fails half way.
    pub fn validate(schema: &TableSchema, batch: &LoadBatch) -> Result<(), String> {
        let n = schema.columns.len();
        for cols in batch.partial_columns.iter() {
            if schema.keys_type != KeysType::Primary {
                return Err("Only primary key table support partial update".into());
            }
            if let Some(c) = cols.iter().find(|&&c| c >= n) {
                return Err(format!("partial update column index {c} out of range"));
            }
            for &k in &schema.key_columns {
                if !cols.contains(&k) {
                    return Err(format!(
                        "key column {} not in partial update columns",
                        schema.columns[k].name
                    ));
                }
            }
        }
        if let Some(m) = batch.merge_condition {
            if m >= n {
                return Err(format!("merge_condition column index {m} out of range"));
            }
        }
        if batch.rows.iter().any(|r| r.values.len() != n) {
            return Err(format!(
                "row width does not match table {}.{} ({} columns): the table changed during the load",
                schema.db, schema.name, n
            ));
        }
        Ok(())
    }

    /// Applies a validated batch; returns rows written.
    pub fn apply(&mut self, schema: &TableSchema, batch: LoadBatch) -> u64 {
        let count = batch.rows.len() as u64;
        self.version += 1;
        match &mut self.rows {
            Rows::Duplicate(rows) => {
                // Duplicate Key ignores `__op`: every row is appended.
                rows.reserve(batch.rows.len());
                rows.extend(batch.rows.into_iter().map(|r| r.values));
            }
            Rows::Primary(map) => {
                for lr in batch.rows {
                    let key = encode_key(schema, &lr.values);
                    match lr.op {
                        RowOp::Delete => {
                            if map.remove(&key).is_some() && self.track_dirty {
                                self.dirty.insert(key);
                            }
                        }
                        RowOp::Upsert => {
                            let existing = map.get_mut(&key);
                            match existing {
                                Some(old) => {
                                    if let Some(m) = batch.merge_condition {
                                        if cmp_values(&lr.values[m], &old[m])
                                            == std::cmp::Ordering::Less
                                        {
                                            continue;
                                        }
                                    }
                                    match &batch.partial_columns {
                                        None => *old = lr.values,
                                        Some(cols) => {
                                            let mut values = lr.values;
                                            for &c in cols {
                                                old[c] = values[c].take();
                                            }
                                        }
                                    }
                                    if self.track_dirty {
                                        self.dirty.insert(key);
                                    }
                                }
                                None => {
                                    let row = match &batch.partial_columns {
                                        None => lr.values,
                                        Some(cols) => fill_new_partial_row(schema, cols, lr.values),
                                    };
                                    if self.track_dirty {
                                        map.insert(key.clone(), row);
                                        self.dirty.insert(key);
                                    } else {
                                        map.insert(key, row);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        count
    }

    /// Deletes the rows at `positions` of `all_rows()`'s order (DELETE ... WHERE); returns how many.
    pub fn delete_positions(&mut self, positions: &[usize]) -> u64 {
        let mut doomed = vec![false; self.len()];
        for &p in positions {
            if p < doomed.len() {
                doomed[p] = true;
            }
        }
        let n = doomed.iter().filter(|d| **d).count() as u64;
        if n == 0 {
            return 0;
        }
        match &mut self.rows {
            Rows::Duplicate(rows) => {
                let mut i = 0;
                rows.retain(|_| {
                    i += 1;
                    !doomed[i - 1]
                });
                // Positions shifted: the mirror must start over.
                self.generation += 1;
                self.track_dirty = false;
            }
            Rows::Primary(map) => {
                let keys: Vec<Key> = map
                    .keys()
                    .zip(doomed.iter())
                    .filter(|(_, d)| **d)
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in keys {
                    map.remove(&k);
                    if self.track_dirty {
                        self.dirty.insert(k);
                    }
                }
            }
        }
        self.version += 1;
        n
    }

    /// All rows (for tests and full mirror rebuilds).
    pub fn all_rows(&self) -> Vec<&Row> {
        match &self.rows {
            Rows::Duplicate(v) => v.iter().collect(),
            Rows::Primary(m) => m.values().collect(),
        }
    }
}

/// A new key in a partial update: the columns not sent take DEFAULT, else NULL, else zero.
fn fill_new_partial_row(schema: &TableSchema, cols: &[usize], mut values: Row) -> Row {
    for (i, c) in schema.columns.iter().enumerate() {
        if cols.contains(&i) {
            continue;
        }
        values[i] = match &c.default {
            Some(d) => d.clone(),
            None if c.nullable => None,
            None => Some(types::zero_value(&c.ty)),
        };
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, LoadRow};

    fn schema(keys_type: KeysType) -> TableSchema {
        let col =
            |name: &str, ty: ColumnType, nullable: bool, default: Option<Option<Value>>, is_key| {
                Column {
                    name: name.into(),
                    ty,
                    nullable,
                    default,
                    is_key,
                }
            };
        TableSchema {
            db: "d".into(),
            name: "t".into(),
            columns: vec![
                col("id", ColumnType::Int, false, None, true),
                col("name", ColumnType::Varchar(10), true, None, false),
                col("score", ColumnType::Int, false, None, false),
                col(
                    "city",
                    ColumnType::Varchar(10),
                    true,
                    Some(Some(Value::Str("x".into()))),
                    false,
                ),
            ],
            keys_type,
            key_columns: vec![0],
        }
    }

    fn row(id: i128, name: Option<&str>, score: i128, city: Option<&str>) -> Row {
        vec![
            Some(Value::Int(id)),
            name.map(|s| Value::Str(s.into())),
            Some(Value::Int(score)),
            city.map(|s| Value::Str(s.into())),
        ]
    }

    fn up(values: Row) -> LoadRow {
        LoadRow {
            op: RowOp::Upsert,
            values,
        }
    }

    fn batch(rows: Vec<LoadRow>) -> LoadBatch {
        LoadBatch {
            rows,
            partial_columns: None,
            merge_condition: None,
        }
    }

    fn sorted(t: &TableData) -> Vec<Row> {
        let mut v: Vec<Row> = t.all_rows().into_iter().cloned().collect();
        v.sort_by(|a, b| cmp_values(&a[0], &b[0]));
        v
    }

    #[test]
    fn duplicate_appends_identical_rows_and_ignores_delete() {
        let s = schema(KeysType::Duplicate);
        let mut t = TableData::new(s.keys_type);
        let r = row(1, Some("a"), 1, None);
        let b = batch(vec![
            up(r.clone()),
            up(r.clone()),
            LoadRow {
                op: RowOp::Delete,
                values: r.clone(),
            },
        ]);
        TableData::validate(&s, &b).unwrap();
        assert_eq!(t.apply(&s, b), 3);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn primary_upserts_whole_rows_last_wins_and_deletes() {
        let s = schema(KeysType::Primary);
        let mut t = TableData::new(s.keys_type);
        t.apply(
            &s,
            batch(vec![
                up(row(1, Some("a"), 10, Some("p"))),
                up(row(2, Some("b"), 20, None)),
            ]),
        );
        t.apply(
            &s,
            batch(vec![
                up(row(1, None, 11, None)),
                up(row(1, Some("c"), 12, None)),
                LoadRow {
                    op: RowOp::Delete,
                    values: row(2, None, 0, None),
                },
                LoadRow {
                    op: RowOp::Delete,
                    values: row(9, None, 0, None),
                },
            ]),
        );
        assert_eq!(sorted(&t), vec![row(1, Some("c"), 12, None)]);
    }

    #[test]
    fn partial_update_keeps_unsent_columns_and_fills_new_keys() {
        let s = schema(KeysType::Primary);
        let mut t = TableData::new(s.keys_type);
        t.apply(&s, batch(vec![up(row(1, Some("a"), 10, Some("p")))]));
        let b = LoadBatch {
            rows: vec![
                up(vec![
                    Some(Value::Int(1)),
                    Some(Value::Str("z".into())),
                    None,
                    None,
                ]),
                up(vec![
                    Some(Value::Int(2)),
                    Some(Value::Str("n".into())),
                    None,
                    None,
                ]),
            ],
            partial_columns: Some(vec![0, 1]),
            merge_condition: None,
        };
        TableData::validate(&s, &b).unwrap();
        t.apply(&s, b);
        // key 2: score NOT NULL without default -> 0; city has DEFAULT 'x'.
        assert_eq!(
            sorted(&t),
            vec![
                row(1, Some("z"), 10, Some("p")),
                row(2, Some("n"), 0, Some("x"))
            ]
        );
    }

    #[test]
    fn partial_update_rules() {
        let b = LoadBatch {
            rows: vec![],
            partial_columns: Some(vec![1]),
            merge_condition: None,
        };
        assert!(TableData::validate(&schema(KeysType::Primary), &b)
            .unwrap_err()
            .contains("key column id"));
        let b = LoadBatch {
            rows: vec![],
            partial_columns: Some(vec![0, 1]),
            merge_condition: None,
        };
        assert_eq!(
            TableData::validate(&schema(KeysType::Duplicate), &b).unwrap_err(),
            "Only primary key table support partial update"
        );
        let b = batch(vec![up(vec![None])]);
        assert!(TableData::validate(&schema(KeysType::Primary), &b).is_err());
    }

    #[test]
    fn merge_condition_applies_only_newer_updates() {
        let s = schema(KeysType::Primary);
        let mut t = TableData::new(s.keys_type);
        t.apply(
            &s,
            batch(vec![
                up(row(1, Some("a"), 10, None)),
                up(row(2, Some("b"), 10, None)),
            ]),
        );
        let b = LoadBatch {
            rows: vec![
                up(row(1, Some("older"), 9, None)),
                up(row(2, Some("same"), 10, None)),
                up(row(3, Some("new"), 1, None)),
                LoadRow {
                    op: RowOp::Delete,
                    values: row(2, None, 0, None),
                },
            ],
            partial_columns: None,
            merge_condition: Some(2),
        };
        t.apply(&s, b);
        assert_eq!(
            sorted(&t),
            vec![row(1, Some("a"), 10, None), row(3, Some("new"), 1, None)]
        );
    }

    #[test]
    fn decimal_ordering_is_numeric() {
        use std::cmp::Ordering::*;
        assert_eq!(cmp_decimal("10.00", "9.99"), Greater);
        assert_eq!(cmp_decimal("-10.00", "-9.99"), Less);
        assert_eq!(cmp_decimal("-1.00", "0.50"), Less);
        assert_eq!(cmp_decimal("1.50", "1.50"), Equal);
    }
}

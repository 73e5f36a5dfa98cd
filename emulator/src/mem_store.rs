//! A small in-memory `Store` for unit tests and for running the HTTP half without the catalog:
//! users, tables created programmatically, and Duplicate/Primary Key semantics of `apply`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use starrocks_emulator_store::model::{KeysType, LoadBatch, LookupError, Row, RowOp, Store, TableSchema, Value};

type Tables = HashMap<(String, String), (Arc<TableSchema>, Vec<Row>)>;

#[derive(Default)]
pub struct MemStore {
    users: Mutex<HashMap<String, String>>,
    grants: Mutex<Vec<(String, String)>>,
    tables: Mutex<Tables>,
    dbs: Mutex<Vec<String>>,
}

impl MemStore {
    pub fn new(root_password: &str) -> MemStore {
        let s = MemStore::default();
        s.users.lock().unwrap().insert("root".into(), root_password.into());
        s
    }
    pub fn add_user(&self, user: &str, password: &str, insert_db: Option<&str>) {
        self.users.lock().unwrap().insert(user.into(), password.into());
        if let Some(db) = insert_db {
            self.grants.lock().unwrap().push((user.into(), db.into()));
        }
    }
    pub fn create_table(&self, schema: TableSchema) {
        let mut dbs = self.dbs.lock().unwrap();
        if !dbs.contains(&schema.db) {
            dbs.push(schema.db.clone());
        }
        self.tables.lock().unwrap().insert((schema.db.clone(), schema.name.clone()), (Arc::new(schema), Vec::new()));
    }
    pub fn rows(&self, db: &str, table: &str) -> Vec<Row> {
        self.tables.lock().unwrap().get(&(db.into(), table.into())).map(|t| t.1.clone()).unwrap_or_default()
    }
}

fn cmp_values(a: &Option<Value>, b: &Option<Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (None, None) => Equal,
        (None, _) => Less,
        (_, None) => Greater,
        (Some(Value::Int(x)), Some(Value::Int(y))) => x.cmp(y),
        (Some(Value::Float(x)), Some(Value::Float(y))) => x.partial_cmp(y).unwrap_or(Equal),
        (Some(Value::Date(x)), Some(Value::Date(y))) => x.cmp(y),
        (Some(Value::DateTime(x)), Some(Value::DateTime(y))) => x.cmp(y),
        (Some(Value::Str(x)), Some(Value::Str(y))) => x.cmp(y),
        _ => Equal,
    }
}

impl Store for MemStore {
    fn authenticate(&self, user: &str, password: &str) -> bool {
        self.users.lock().unwrap().get(user).map(|p| p == password).unwrap_or(false)
    }
    fn can_insert(&self, user: &str, db: &str, _table: &str) -> bool {
        user == "root" || self.grants.lock().unwrap().iter().any(|(u, d)| u == user && d == db)
    }
    fn database_id(&self, db: &str) -> Option<i64> {
        self.dbs.lock().unwrap().iter().position(|d| d == db).map(|i| 10_000 + i as i64)
    }
    fn table(&self, db: &str, table: &str) -> Result<Arc<TableSchema>, LookupError> {
        if self.database_id(db).is_none() {
            return Err(LookupError::UnknownDatabase);
        }
        self.tables.lock().unwrap().get(&(db.into(), table.into())).map(|t| t.0.clone()).ok_or(LookupError::UnknownTable)
    }
    fn apply(&self, db: &str, table: &str, batch: LoadBatch) -> Result<u64, String> {
        let mut g = self.tables.lock().unwrap();
        let (schema, rows) = g.get_mut(&(db.into(), table.into())).ok_or("table dropped")?;
        let n = batch.rows.len() as u64;
        if schema.keys_type == KeysType::Duplicate {
            rows.extend(batch.rows.into_iter().map(|r| r.values));
            return Ok(n);
        }
        let key = |r: &Row| schema.key_columns.iter().map(|&i| format!("{:?}", r[i])).collect::<Vec<_>>().join("|");
        for lr in batch.rows {
            let k = key(&lr.values);
            let pos = rows.iter().position(|r| key(r) == k);
            match (lr.op, pos) {
                (RowOp::Delete, Some(p)) => {
                    rows.remove(p);
                }
                (RowOp::Delete, None) => {}
                (RowOp::Upsert, Some(p)) => {
                    if let Some(mc) = batch.merge_condition {
                        if cmp_values(&lr.values[mc], &rows[p][mc]) == std::cmp::Ordering::Less {
                            continue;
                        }
                    }
                    match &batch.partial_columns {
                        Some(cols) => cols.iter().for_each(|&c| rows[p][c] = lr.values[c].clone()),
                        None => rows[p] = lr.values,
                    }
                }
                (RowOp::Upsert, None) => rows.push(lr.values),
            }
        }
        Ok(n)
    }
}

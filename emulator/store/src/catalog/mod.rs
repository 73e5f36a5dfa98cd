//! The catalog: databases (with ids that never repeat), tables, users and grants, plus the data
//! log. Shared by the query port and the HTTP load path (through `model::Store`).
//! SQL (`sql`) sits above it: the catalog knows no statements, so `Catalog::open` (which replays
//! logged ones) and `Catalog::execute` are defined in `sql`.
//!
//! Lock order, to stay deadlock-free: mirror → catalog state → one table's data → log.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::ddl::CreateTable;
use crate::error::SqlError;
use crate::mirror::Mirror;
use crate::model::{KeysType, LoadBatch, LoadRow, LookupError, RowOp, Store, TableSchema};
use crate::persist::{Log, Record};
use crate::schema_change::{evolve, Job, JobState};
use crate::store::TableData;

pub struct Table {
    pub id: i64,
    pub schema: Arc<TableSchema>,
    pub distribution: Option<String>,
    pub comment: Option<String>,
    /// `ORDER BY (...)` of CREATE TABLE; None = the key columns.
    pub sort_key: Option<Vec<String>>,
    /// The index SHOW ALTER TABLE COLUMN names as OriginIndexId: the table id until a schema
    /// change replaces it by the job's shadow index.
    pub index_id: i64,
    /// Schema changes finished on this table (0 at CREATE).
    pub schema_version: i64,
    /// Earlier schemas, oldest first, for loads planned before a schema change finished.
    pub history: Vec<Arc<TableSchema>>,
    /// Set when a schema change has replaced this `Table` in the catalog.
    pub retired: AtomicBool,
    pub data: Mutex<TableData>,
}

pub struct Database {
    pub id: i64,
    pub name: String,
    pub tables: BTreeMap<String, Arc<Table>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Upper-case privilege names (`INSERT`, `SELECT`, `ALL`, ...).
    pub privileges: Vec<String>,
    /// `*` for every database / table.
    pub db: String,
    pub table: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub password: String,
    pub grants: Vec<Grant>,
}

pub struct State {
    pub dbs: BTreeMap<String, Database>,
    pub users: BTreeMap<String, User>,
    pub tables_by_id: HashMap<i64, Arc<Table>>,
    /// Schema-change jobs, oldest first (finished ones stay listed, as in StarRocks).
    pub jobs: Vec<Job>,
    next_id: i64,
}

impl State {
    pub fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn db(&self, name: &str) -> Result<&Database, SqlError> {
        self.dbs.get(name).ok_or_else(|| SqlError::unknown_db(name))
    }

    pub fn table(&self, db: &str, name: &str) -> Result<&Arc<Table>, SqlError> {
        self.db(db)?
            .tables
            .get(name)
            .ok_or_else(|| SqlError::unknown_table(db, name))
    }

    /// Whether `user` holds `privilege` (or ALL) on `db.table`; root holds everything.
    pub fn user_has(&self, user: &str, privilege: &str, db: &str, table: &str) -> bool {
        if Catalog::is_root(user) {
            return true;
        }
        let Some(u) = self.users.get(user) else {
            return false;
        };
        u.grants.iter().any(|g| {
            (g.db == "*" || g.db == db)
                && (g.table == "*" || g.table == table)
                && g.privileges.iter().any(|p| p == privilege || p == "ALL")
        })
    }

    pub fn create_table(&mut self, db: &str, ct: CreateTable) -> Result<bool, SqlError> {
        let id = self.next_id_if_absent(db, &ct.name)?;
        let Some(id) = id else {
            return if ct.if_not_exists {
                Ok(false)
            } else {
                Err(SqlError::new(
                    1050,
                    "42S01",
                    format!("Table '{}' already exists", ct.name),
                ))
            };
        };
        let schema = Arc::new(TableSchema {
            db: db.to_string(),
            name: ct.name.clone(),
            columns: ct.columns,
            keys_type: ct.keys_type,
            key_columns: ct.key_columns,
        });
        let table = Arc::new(Table {
            id,
            data: Mutex::new(TableData::new(schema.keys_type)),
            schema,
            distribution: ct.distribution,
            comment: ct.comment,
            sort_key: ct.sort_key,
            index_id: id,
            schema_version: 0,
            history: Vec::new(),
            retired: AtomicBool::new(false),
        });
        self.tables_by_id.insert(id, table.clone());
        self.dbs.get_mut(db).unwrap().tables.insert(ct.name, table);
        Ok(true)
    }

    fn next_id_if_absent(&mut self, db: &str, table: &str) -> Result<Option<i64>, SqlError> {
        if self.db(db)?.tables.contains_key(table) {
            return Ok(None);
        }
        Ok(Some(self.next_id()))
    }
}

pub struct Catalog {
    state: RwLock<State>,
    root_password: String,
    /// `None` in memory-only mode and while replaying the log.
    log: Mutex<Option<Log>>,
    pub(crate) mirror: Mutex<Mirror>,
    next_connection: AtomicU32,
    /// The StarRocks version `current_version()` reports (without the `-emulator` suffix).
    version: RwLock<String>,
    /// Run before every statement, without any lock held: the multi-table transaction core
    /// publishes due commits here, so a query never sees a transaction that should already be
    /// visible as still invisible.
    before_statement: RwLock<Option<BeforeStatement>>,
    /// True while the data log is replayed: schema-change jobs then wait for their logged end.
    pub(crate) replaying: AtomicBool,
    /// Seconds; the system clock unless the embedder injects its own (`set_clock`).
    clock: RwLock<ClockFn>,
    /// `--schema-change-delay-ms`, in seconds.
    schema_change_delay: RwLock<f64>,
}

pub type ClockFn = Arc<dyn Fn() -> f64 + Send + Sync>;

fn system_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub type BeforeStatement = Arc<dyn Fn() + Send + Sync>;

pub const ROOT: &str = "root";
/// What `current_version()` reports unless the embedder says otherwise.
pub const DEFAULT_VERSION: &str = "3.3.0";

impl Catalog {
    /// The catalog, empty or rebuilt from `data_dir`'s log. Statements are SQL, which sits above
    /// the catalog, so `replay_ddl` runs each logged one (in the database it was logged in).
    pub(crate) fn open_replaying(
        root_password: &str,
        data_dir: Option<&Path>,
        replay_ddl: impl Fn(&Catalog, Option<String>, &str) -> Result<(), SqlError>,
    ) -> Result<Arc<Catalog>, String> {
        let cat = Arc::new(Catalog {
            state: RwLock::new(State {
                dbs: BTreeMap::new(),
                users: BTreeMap::new(),
                tables_by_id: HashMap::new(),
                jobs: Vec::new(),
                next_id: 10000,
            }),
            root_password: root_password.to_string(),
            log: Mutex::new(None),
            mirror: Mutex::new(Mirror::new().map_err(|e| format!("sqlite: {e}"))?),
            next_connection: AtomicU32::new(0),
            version: RwLock::new(DEFAULT_VERSION.to_string()),
            before_statement: RwLock::new(None),
            replaying: AtomicBool::new(false),
            clock: RwLock::new(Arc::new(system_now)),
            schema_change_delay: RwLock::new(0.0),
        });
        if let Some(dir) = data_dir {
            cat.replaying.store(true, Ordering::SeqCst);
            let (log, records) = Log::open(dir)?;
            for rec in records {
                match rec {
                    Record::Ddl { db, sql } => {
                        // A statement that no longer replays must not keep the emulator from starting.
                        if let Err(e) = replay_ddl(&cat, db, &sql) {
                            eprintln!("starrocks-emulator: data log: skipping `{sql}`: {e}");
                        }
                    }
                    Record::DeleteRows {
                        table_id,
                        positions,
                    } => {
                        let table = cat
                            .state
                            .read()
                            .unwrap()
                            .tables_by_id
                            .get(&table_id)
                            .cloned();
                        if let Some(t) = table {
                            let positions: Vec<usize> =
                                positions.iter().map(|&p| p as usize).collect();
                            t.data.lock().unwrap().delete_positions(&positions);
                        }
                    }
                    Record::JobDone {
                        job_id,
                        create_ms,
                        finish_ms,
                        finished,
                        msg,
                    } => {
                        let mut st = cat.state.write().unwrap();
                        if let Some(j) = st.jobs.iter_mut().find(|j| j.id == job_id) {
                            j.create_time = create_ms as f64 / 1000.0;
                        }
                        let outcome = if finished {
                            (JobState::Finished, msg)
                        } else {
                            (JobState::Cancelled, msg)
                        };
                        cat.finish_job(&mut st, job_id, finish_ms as f64 / 1000.0, Some(outcome));
                    }
                    Record::Batch { table_id, batch } => {
                        let table = cat
                            .state
                            .read()
                            .unwrap()
                            .tables_by_id
                            .get(&table_id)
                            .cloned();
                        if let Some(t) = table {
                            let batch = evolve::fit_batch(&t, batch);
                            if TableData::validate(&t.schema, &batch).is_ok() {
                                t.data.lock().unwrap().apply(&t.schema, batch);
                            }
                        }
                    }
                }
            }
            *cat.log.lock().unwrap() = Some(log);
            // Jobs the log shows unfinished restart their walk from the replay time.
            let now = cat.now();
            for j in cat.state.write().unwrap().jobs.iter_mut() {
                if !j.state.is_done() {
                    j.create_time = now;
                }
            }
            cat.replaying.store(false, Ordering::SeqCst);
        }
        Ok(cat)
    }

    /// Runs the `set_before_statement` hook, if any; the caller must hold no lock.
    pub(crate) fn run_before_statement(&self) {
        let hook = self.before_statement.read().unwrap().clone();
        if let Some(h) = hook {
            h();
        }
    }

    pub fn set_before_statement(&self, hook: Option<BeforeStatement>) {
        *self.before_statement.write().unwrap() = hook;
    }

    /// The clock schema-change jobs follow (seconds); the emulator passes its own so a
    /// `ManualClock` drives them too.
    pub fn set_clock(&self, clock: ClockFn) {
        *self.clock.write().unwrap() = clock;
    }

    pub fn now(&self) -> f64 {
        let clock = self.clock.read().unwrap().clone();
        clock()
    }

    /// `--schema-change-delay-ms`: how long a schema-change job takes from ALTER to FINISHED.
    pub fn set_schema_change_delay_ms(&self, ms: u64) {
        *self.schema_change_delay.write().unwrap() = ms as f64 / 1000.0;
    }

    pub fn schema_change_delay(&self) -> f64 {
        *self.schema_change_delay.read().unwrap()
    }

    pub(crate) fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap()
    }

    /// Appends a record when there is a log; a failed write is reported on stderr only, since
    /// the change it records has already happened.
    pub(crate) fn log_record(&self, rec: &Record) {
        if let Some(log) = self.log.lock().unwrap().as_mut() {
            if let Err(e) = log.append(rec) {
                eprintln!("starrocks-emulator: data log: {e}");
            }
        }
    }

    pub fn set_version(&self, version: &str) {
        *self.version.write().unwrap() = version.to_string();
    }

    pub fn version(&self) -> String {
        self.version.read().unwrap().clone()
    }

    /// Applies the batches of one multi-table transaction. Every batch is checked before any is
    /// written, and the SQLite mirror lock is held throughout: SELECTs take it first, so a query
    /// sees all of the transaction's tables changed or none.
    pub fn apply_all(&self, db: &str, batches: Vec<(String, LoadBatch)>) -> Result<u64, String> {
        let _mirror = self.mirror.lock().unwrap();
        let mut resolved = Vec::with_capacity(batches.len());
        for (name, batch) in batches {
            let t = self.table_by_name(db, &name).map_err(|e| e.message)?;
            let batch = evolve::fit_batch(&t, batch);
            TableData::validate(&t.schema, &batch)?;
            resolved.push((t, batch));
        }
        let mut n = 0;
        for (t, batch) in resolved {
            n += self.apply_to(&t, batch)?;
        }
        Ok(n)
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap()
    }

    /// Runs a state change under the write lock and, when it succeeds and changed something,
    /// logs the statement before the lock is released, so the log order is the change order.
    pub(crate) fn change<T>(
        &self,
        session_db: Option<&str>,
        sql: &str,
        f: impl FnOnce(&mut State) -> Result<(T, bool), SqlError>,
    ) -> Result<T, SqlError> {
        let mut st = self.state.write().unwrap();
        let (out, changed) = f(&mut st)?;
        if changed {
            if let Some(log) = self.log.lock().unwrap().as_mut() {
                log.append(&Record::Ddl {
                    db: session_db.map(str::to_string),
                    sql: sql.to_string(),
                })
                .map_err(|e| SqlError::new(1105, "HY000", e))?;
            }
        }
        Ok(out)
    }

    pub fn new_connection_id(&self) -> u32 {
        self.next_connection.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn is_root(user: &str) -> bool {
        user == ROOT
    }

    /// Whether `user` holds `privilege` (or ALL) on `db.table`.
    pub fn has_privilege(&self, user: &str, privilege: &str, db: &str, table: &str) -> bool {
        self.state
            .read()
            .unwrap()
            .user_has(user, privilege, db, table)
    }

    /// Checks a plain-text password (HTTP Basic auth).
    pub fn check_password(&self, user: &str, password: &str) -> bool {
        self.password_of(user).is_some_and(|p| p == password)
    }

    /// The stored password, for the MySQL scramble check; `None` for an unknown user.
    pub fn password_of(&self, user: &str) -> Option<String> {
        if Self::is_root(user) {
            return Some(self.root_password.clone());
        }
        self.state
            .read()
            .unwrap()
            .users
            .get(user)
            .map(|u| u.password.clone())
    }

    pub fn table_by_name(&self, db: &str, table: &str) -> Result<Arc<Table>, SqlError> {
        self.state.read().unwrap().table(db, table).cloned()
    }

    /// Applies a batch to one table and logs it, under the table's lock.
    pub fn apply_to(&self, table: &Table, batch: LoadBatch) -> Result<u64, String> {
        let batch = evolve::fit_batch(table, batch);
        TableData::validate(&table.schema, &batch)?;
        let mut data = table.data.lock().unwrap();
        if table.retired.load(Ordering::SeqCst) {
            // A schema change replaced the table after the caller resolved it.
            drop(data);
            let current = self.read().tables_by_id.get(&table.id).cloned();
            return match current {
                Some(t) => self.apply_to(&t, batch),
                None => Err(format!(
                    "unknown table \"{}.{}\"",
                    table.schema.db, table.schema.name
                )),
            };
        }
        if let Some(log) = self.log.lock().unwrap().as_mut() {
            // Encoding clones nothing: the record borrows the batch only for the write.
            let rec = Record::Batch {
                table_id: table.id,
                batch,
            };
            log.append(&rec)?;
            let Record::Batch { batch, .. } = rec else {
                unreachable!()
            };
            return Ok(data.apply(&table.schema, batch));
        }
        Ok(data.apply(&table.schema, batch))
    }

    /// DELETE FROM `table` WHERE `condition`: finds the rows on SQLite and removes them from the
    /// store, logged by position under the table's lock so replay removes the same rows.
    pub(crate) fn delete_where(
        &self,
        table: &Table,
        alias: &str,
        condition: Option<&str>,
    ) -> Result<u64, SqlError> {
        let mut mirror = self.mirror.lock().unwrap();
        let mut data = table.data.lock().unwrap();
        let positions = mirror.matching_positions(table, &data, alias, condition)?;
        if positions.is_empty() {
            return Ok(0);
        }
        if let Some(log) = self.log.lock().unwrap().as_mut() {
            // A Primary table's row order is a hash order that differs between runs: log keys.
            let rec = match table.schema.keys_type {
                KeysType::Duplicate => Record::DeleteRows {
                    table_id: table.id,
                    positions: positions.iter().map(|&p| p as u64).collect(),
                },
                KeysType::Primary => {
                    let all = data.all_rows();
                    let rows = positions
                        .iter()
                        .filter_map(|&p| all.get(p))
                        .map(|r| LoadRow {
                            op: RowOp::Delete,
                            values: (*r).clone(),
                        })
                        .collect();
                    Record::Batch {
                        table_id: table.id,
                        batch: LoadBatch {
                            rows,
                            partial_columns: None,
                            merge_condition: None,
                        },
                    }
                }
            };
            log.append(&rec)
                .map_err(|e| SqlError::new(1105, "HY000", e))?;
        }
        Ok(data.delete_positions(&positions))
    }

    /// TRUNCATE under the write lock so the log sees it in order with loads.
    pub(crate) fn truncate_logged(
        &self,
        session_db: Option<&str>,
        sql: &str,
        db: &str,
        name: &str,
    ) -> Result<(), SqlError> {
        self.change(session_db, sql, |st| {
            let t = st.table(db, name)?.clone();
            t.data.lock().unwrap().truncate();
            Ok(((), true))
        })
    }
}

impl Store for Catalog {
    fn authenticate(&self, user: &str, password: &str) -> bool {
        self.check_password(user, password)
    }

    fn can_insert(&self, user: &str, db: &str, table: &str) -> bool {
        self.has_privilege(user, "INSERT", db, table)
    }

    fn database_id(&self, db: &str) -> Option<i64> {
        self.state.read().unwrap().dbs.get(db).map(|d| d.id)
    }

    fn table(&self, db: &str, table: &str) -> Result<Arc<TableSchema>, LookupError> {
        // A load sees the new columns from FINISHED on, however nobody else asked since.
        self.advance_schema_changes();
        let st = self.state.read().unwrap();
        let d = st.dbs.get(db).ok_or(LookupError::UnknownDatabase)?;
        d.tables
            .get(table)
            .map(|t| t.schema.clone())
            .ok_or(LookupError::UnknownTable)
    }

    fn apply(&self, db: &str, table: &str, batch: LoadBatch) -> Result<u64, String> {
        self.advance_schema_changes();
        let t = self.table_by_name(db, table).map_err(|e| e.message)?;
        self.apply_to(&t, batch)
    }

    fn apply_many(&self, db: &str, batches: Vec<(String, LoadBatch)>) -> Result<u64, String> {
        self.advance_schema_changes();
        self.apply_all(db, batches)
    }
}

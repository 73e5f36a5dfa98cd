//! The schema guard: before a batch's rows are buffered, each record's fields are compared with
//! its table's columns. A table that does not exist is created (`auto.create`), a field the
//! table lacks becomes a column (`auto.evolve`) or, without it, a WARN once per table and field
//! and a count in `fields-dropped` (StarRocks ignores JSON keys its table lacks, so the field
//! would vanish silently), and a field no column of its table can hold is a bad record
//! (docs/schemas.md). Runs where rows are written, in both delivery modes, so a column exists
//! before the first load (or transaction) that carries it.
//!
//! Cost: the columns are read once per table and kept; a record is compared only when its
//! field names differ from the previous record's of the same table (Structs: also when their
//! schema changes), so a steady stream pays a few string comparisons per record.

// hashbrown (foldhash): `seen` is looked up per record by table name; SipHash showed in profiles
use hashbrown::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use super::catalog::{Catalog, Columns, NO_DATABASE};
use super::column_type::{fit, ColumnType, Fit};
use super::ddl::{self, ColumnDef, Keys, TableDef};
use super::fields::{plain_map, row_fields, struct_schemas, Field, FieldType, RowShape};
use crate::backoff::{Backoff, MAX_LOAD_BACKOFF};
use crate::boundary::{Batch, Record, SchemaId, Value};
use crate::config::{Config, PkMode};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::metrics::Metrics;
use crate::route::{Router, Target};
use crate::rows::source::{row_source, RowSource};
use crate::sql::SqlClient;

/// Beyond `connect.timeoutms`, what reading a table's columns may take when only reporting.
const REPORT_QUERY_TIME: Duration = Duration::from_secs(2);

/// How long a table that lacks fields of its records is trusted before its columns are read
/// again.
const RECHECK: Duration = Duration::from_secs(60);

/// The column Debezium rows carry for StarRocks' upsert/delete flag: never a table column.
const OP: &str = "__op";

/// What the guard may do, from `auto.create`, `auto.evolve`, `pk.*` and `auto.create.*`.
#[derive(Debug, Clone)]
pub struct Policy {
    pub create: bool,
    pub evolve: bool,
    pub pk_mode: PkMode,
    pub pk_fields: Vec<String>,
    pub buckets: u32,
    pub properties: Vec<(String, String)>,
    /// `exactly.once.offset.column`, which every row carries: created as a BIGINT.
    pub offset_column: Option<String>,
    pub max_retries: u32,
    pub retry_backoff: Duration,
}

impl Policy {
    pub fn of(cfg: &Config) -> Policy {
        Policy {
            create: cfg.auto_create,
            evolve: cfg.auto_evolve,
            pk_mode: cfg.pk_mode,
            pk_fields: cfg.pk_fields.clone(),
            buckets: cfg.auto_create_buckets,
            properties: cfg.auto_create_properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            offset_column: cfg.exactly_once.as_ref().and_then(|eo| eo.offset_column.clone()),
            max_retries: cfg.max_retries,
            retry_backoff: cfg.retry_backoff,
        }
    }

    /// Whether failing to read a table is the task's error: only when the guard must act on it.
    fn acts(&self) -> bool {
        self.create || self.evolve
    }
}

/// What the guard knows of a table.
enum TableState {
    Known(Columns),
    /// No such table (and `auto.create` is off): its loads fail as they always did.
    Absent,
    /// Its columns could not be read; only reporting was asked for, so the guard steps aside.
    Unreadable,
}

/// The last field names the guard compared for a routed table, and what it found.
struct Seen {
    names: Vec<String>,
    /// Each field's value kind when schemaless (`kind_of`), so a field that changes type is
    /// compared again.
    kinds: Vec<u8>,
    /// Where each name was in the batch buffer (valid in batch `epoch` only): a map key the shim
    /// wrote once per batch (a string ref) is the same bytes for every record, so a pointer
    /// comparison says the name is the same.
    at: Vec<(usize, usize)>,
    /// The Struct schemas the fields came from, valid in batch `epoch` only.
    schemas: (Option<SchemaId>, Option<SchemaId>),
    epoch: u64,
    missing: u64,
    refusal: Option<String>,
    /// When the columns were compared: a table that lacked fields is read again after
    /// [`RECHECK`], so a column someone adds by hand stops the reports.
    at_time: Instant,
}

impl Seen {
    /// A record whose fields were compared already: it drops and is refused as the last one was.
    fn repeat(&self, i: usize, rec: &Record<'_>, bad: &mut Vec<(usize, Error)>, cx: &GuardContext<'_>) {
        cx.metrics.fields_dropped.fetch_add(self.missing, Relaxed);
        if let Some(why) = &self.refusal {
            bad.push((i, record_error(rec, why)));
        }
    }

    /// Whether a schemaless map has the members compared last time (null values match any kind:
    /// they lose nothing). The quick path of a steady JSON stream: no allocation, and within a
    /// batch a pointer comparison per name.
    fn same_map(&self, kvs: &[(Value<'_>, Value<'_>)], epoch: u64) -> bool {
        if kvs.len() != self.names.len() {
            return false;
        }
        let same_batch = epoch == self.epoch;
        kvs.iter().enumerate().all(|(i, (k, v))| {
            let Value::String(name) = k else { return false };
            let named = (same_batch && self.at[i] == (name.as_ptr() as usize, name.len())) || *name == self.names[i];
            let kind = value_kind(v);
            named && (kind == NULL_KIND || kind == self.kinds[i])
        })
    }
}

/// What the sink gives the guard for one batch.
pub struct GuardContext<'c> {
    pub rt: &'c Handle,
    pub log: &'c Log,
    pub metrics: &'c Metrics,
}

pub struct SchemaGuard {
    /// Only reporting was asked for and the query port did not answer: the task goes on without.
    disabled: bool,
    policy: Policy,
    catalog: Catalog,
    tables: HashMap<Target, TableState>,
    seen: HashMap<String, Seen>,
    warned: HashSet<(Target, String)>,
    epoch: u64,
}

impl SchemaGuard {
    pub fn new(cfg: &Config) -> SchemaGuard {
        let policy = Policy::of(cfg);
        // Only reporting: a query port that is closed or filtered must cost a moment once per task,
        // not a load timeout per table.
        let timeout = if policy.acts() { cfg.load_timeout } else { cfg.connect_timeout + REPORT_QUERY_TIME };
        let sql = SqlClient::new(&cfg.query_address.host, cfg.query_address.port, &cfg.username, cfg.password.as_str(), timeout);
        SchemaGuard {
            disabled: false,
            policy,
            catalog: Catalog::new(sql, cfg.stall_timeout),
            tables: HashMap::new(),
            seen: HashMap::new(),
            warned: HashSet::new(),
            epoch: 0,
        }
    }

    /// Forgets what the guard knows of `target`: StarRocks refused a load of it, so its columns
    /// may have changed under us.
    pub fn forget(&mut self, target: &Target) {
        self.tables.remove(target);
        self.seen.retain(|routed, _| Target::parts(&target.database, routed) != (target.database.as_str(), target.table.as_str()));
    }

    /// Checks every record of `batch` (creating and evolving tables as allowed) and answers the
    /// records that are bad for their table, by index, with the reason.
    pub fn check(&mut self, batch: &Batch<'_>, router: &Router, database: &str, cx: &GuardContext<'_>) -> Result<Vec<(usize, Error)>> {
        self.epoch += 1;
        let mut bad = Vec::new();
        if self.disabled {
            return Ok(bad);
        }
        let stale: Vec<String> = self.seen.iter().filter(|(_, s)| s.missing > 0 && s.at_time.elapsed() > RECHECK).map(|(r, _)| r.clone()).collect();
        for routed in stale {
            self.forget(&Target::of(database, &routed));
        }
        // Without create or evolve, JSON text rows are parsed for their names once per table per
        // batch only: a parse per record would double the cost of the pass-through path.
        let mut sampled: HashSet<&str> = HashSet::new();
        let mut fields = Vec::new();
        // a batch's records mostly share a topic, whose name is one string in the batch buffer
        let mut last_topic: Option<(&str, &str)> = None;
        for (i, rec) in batch.records.iter().enumerate() {
            let routed = match last_topic {
                Some((topic, routed)) if std::ptr::eq(topic, rec.topic) => routed,
                _ => router.table(rec.topic),
            };
            last_topic = Some((rec.topic, routed));
            let source = row_source(rec);
            let schemas = struct_schemas(&source);
            if let Some(seen) = self.seen.get(routed) {
                // the same Structs as last time in this batch, or a map of the same members:
                // nothing to compare
                let same = match plain_map(&source) {
                    Some(kvs) => seen.same_map(kvs, self.epoch),
                    None => schemas.0.is_some() && seen.epoch == self.epoch && seen.schemas == schemas,
                };
                if same {
                    seen.repeat(i, rec, &mut bad, cx);
                    continue;
                }
            }
            let parse = self.policy.acts() || !matches!(source, RowSource::Text(_)) || sampled.insert(routed);
            match row_fields(batch, source, parse, &mut fields) {
                RowShape::Fields => {}
                RowShape::None | RowShape::Unparsed => continue,
            }
            if let Some(seen) = self.seen.get(routed) {
                let same_fields = seen.names.len() == fields.len()
                    && seen.names.iter().zip(&fields).all(|(a, f)| *a == f.name)
                    && seen.kinds.iter().zip(&fields).all(|(k, f)| {
                        let kind = kind_of(f);
                        kind == NULL_KIND || *k == kind
                    });
                if schemas.0.is_none() && same_fields {
                    seen.repeat(i, rec, &mut bad, cx);
                    continue;
                }
            }
            let target = Target::of(database, routed);
            let outcome = self.compare(batch, rec, &target, &fields, cx)?;
            cx.metrics.fields_dropped.fetch_add(outcome.missing, Relaxed);
            if let Some(why) = &outcome.refusal {
                bad.push((i, record_error(rec, why)));
            }
            if outcome.settled {
                let names = fields.iter().map(|f| f.name.to_string()).collect();
                let kinds = fields.iter().map(kind_of).collect();
                let at = fields.iter().map(|f| (f.name.as_ptr() as usize, f.name.len())).collect();
                self.seen.insert(routed.to_string(), Seen { names, kinds, at, schemas, epoch: self.epoch, missing: outcome.missing, refusal: outcome.refusal, at_time: Instant::now() });
            }
        }
        Ok(bad)
    }

    fn compare(&mut self, batch: &Batch<'_>, rec: &Record<'_>, target: &Target, fields: &[Field<'_, '_>], cx: &GuardContext<'_>) -> Result<Outcome> {
        let mut outcome = Outcome { missing: 0, refusal: None, settled: true };
        let create = self.policy.create;
        let columns = match self.table(target, cx)? {
            TableState::Known(cols) => cols.clone(),
            TableState::Unreadable => {
                self.disabled = true;
                return Ok(outcome);
            }
            TableState::Absent if !create => return Ok(outcome),
            TableState::Absent => match self.table_def(batch, rec, fields) {
                Ok(def) => self.create(target, &def, cx)?,
                Err(why) => {
                    outcome.refusal = Some(why);
                    outcome.settled = false;
                    return Ok(outcome);
                }
            },
        };
        let mut adds: Vec<ColumnDef> = Vec::new();
        let mut widen: Vec<ColumnDef> = Vec::new();
        for f in fields {
            if self.generated(&f.name) {
                continue;
            }
            let ty = f.column_type(batch);
            match (columns.get(&f.name), ty) {
                (None, _) if !self.policy.evolve => {
                    outcome.missing += 1;
                    if self.warned.insert((target.clone(), f.name.to_string())) {
                        cx.log.warn(|| {
                            format!(
                                "table {} has no column `{}`: the field is dropped from the rows of topic {} (StarRocks ignores JSON keys its table lacks; auto.evolve=true adds the column)",
                                target, f.name, rec.topic
                            )
                        });
                    }
                }
                // a schemaless null says nothing of its type, and loses nothing: wait for a value
                (None, None) => outcome.settled = false,
                (None, Some(ty)) => {
                    if !adds.iter().any(|a| a.name.eq_ignore_ascii_case(&f.name)) {
                        adds.push(ColumnDef { name: f.name.to_string(), ty, nullable: true });
                    }
                }
                (Some(_), None) => {}
                (Some(col), Some(ty)) if self.policy.evolve => match fit(&ty, &col.ty) {
                    Fit::Fits => {}
                    Fit::Widen(to) => widen.push(ColumnDef { name: col.name.clone(), ty: to, nullable: col.nullable }),
                    Fit::Refused => {
                        outcome.refusal = Some(format!("field `{}` is {} but column `{}` of {} is {}: no value of it can be stored there", f.name, ty, col.name, target, col.ty));
                        return Ok(outcome);
                    }
                },
                (Some(_), Some(_)) => {}
            }
        }
        let mut columns = columns;
        if !adds.is_empty() {
            let sql = ddl::add_columns(target, &adds);
            columns = self.change(target, &sql, cx, |c| adds.iter().all(|a| c.get(&a.name).is_some()))?;
            cx.metrics.columns_added.fetch_add(adds.len() as u64, Relaxed);
            cx.log.info(|| format!("added {} column(s) to {} for topic {}: {}", adds.len(), target, rec.topic, sql));
        }
        for w in &widen {
            let sql = ddl::modify_column(target, w);
            columns = self.change(target, &sql, cx, |c| c.get(&w.name).is_some_and(|c| c.ty == w.ty))?;
            cx.log.info(|| format!("widened {}.{} for topic {}: {}", target, w.name, rec.topic, sql));
        }
        self.tables.insert(target.clone(), TableState::Known(columns));
        Ok(outcome)
    }

    /// A column the connector itself fills: `__op` (never a table column) and the offset column.
    fn generated(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(OP) || self.policy.offset_column.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(name))
    }

    /// The table as the guard knows it, read once (with the load retries) and kept.
    fn table(&mut self, target: &Target, cx: &GuardContext<'_>) -> Result<&TableState> {
        if !self.tables.contains_key(target) {
            let cat = &self.catalog;
            let state = match with_retries(&self.policy, cx, || cat.columns(target)) {
                Ok(Some(cols)) => TableState::Known(cols),
                Ok(None) => TableState::Absent,
                Err(e) if self.policy.acts() => return Err(Error::load(format!("cannot read the columns of {}: {}", target, e))),
                Err(e) => {
                    cx.log.warn(|| format!("cannot read the columns of {} ({}): this task does not report fields its tables lack", target, e));
                    TableState::Unreadable
                }
            };
            self.tables.insert(target.clone(), state);
        }
        Ok(&self.tables[target])
    }

    fn create(&mut self, target: &Target, def: &TableDef, cx: &GuardContext<'_>) -> Result<Columns> {
        let sql = ddl::create_table(target, def);
        let cat = &self.catalog;
        let cols = with_retries(&self.policy, cx, || cat.create(target, &sql))
            .map_err(|e| if e.contains(NO_DATABASE) { Error::config(e) } else { Error::load(e) })?;
        cx.metrics.tables_created.fetch_add(1, Relaxed);
        cx.log.info(|| format!("auto.create: created {}: {}", target, sql.replace('\n', " ")));
        Ok(cols)
    }

    /// Runs one schema change to its end, counting the wait.
    fn change(&mut self, target: &Target, sql: &str, cx: &GuardContext<'_>, done: impl Fn(&Columns) -> bool) -> Result<Columns> {
        let started = Instant::now();
        let r = cx.rt.block_on(self.catalog.alter(target, sql, done));
        Metrics::add(&cx.metrics.schema_change_wait_ns, started.elapsed());
        r.map_err(Error::load)
    }

    /// The table `auto.create` makes for `rec`'s fields.
    fn table_def(&self, batch: &Batch<'_>, rec: &Record<'_>, fields: &[Field<'_, '_>]) -> std::result::Result<TableDef, String> {
        let p = &self.policy;
        let cdc = matches!(row_source(rec), RowSource::Change(..)) || fields.iter().any(|f| f.name.eq_ignore_ascii_case(OP));
        let object_key = matches!(rec.key, Value::Struct(..) | Value::Map(_));
        let key_names: Vec<String> = match p.pk_mode {
            PkMode::None if cdc && object_key => key_members(batch, &rec.key),
            PkMode::None => Vec::new(),
            PkMode::RecordKey if object_key => key_members(batch, &rec.key),
            PkMode::RecordKey if matches!(rec.key, Value::Null) => return Err("pk.mode=record_key, but the record has no key".into()),
            PkMode::RecordKey => p.pk_fields.clone(),
            PkMode::RecordValue => p.pk_fields.clone(),
        };
        let mut columns = Vec::new();
        for k in &key_names {
            let ty = match fields.iter().find(|f| f.name == k.as_str()) {
                Some(f) => f.column_type(batch).ok_or_else(|| format!("key field `{}` is null", k))?,
                // a primitive record key, written into the row as pk.fields names it
                None if p.pk_mode == PkMode::RecordKey && !object_key => super::column_type::of_value(batch, &rec.key).ok_or("the record key is null")?,
                None => return Err(format!("key field `{}` (pk.fields) is not a field of the record", k)),
            };
            let ty = ty.as_key().map_err(|e| format!("key field `{}`: {}", k, e))?;
            columns.push(ColumnDef { name: k.clone(), ty, nullable: false });
        }
        for f in fields.iter().filter(|f| !self.generated(&f.name) && !key_names.iter().any(|k| *k == f.name)) {
            columns.push(ColumnDef {
                name: f.name.to_string(),
                // a schemaless field seen only as null: text holds whatever comes later
                ty: f.column_type(batch).unwrap_or(ColumnType::Varchar(None)),
                nullable: f.optional(batch),
            });
        }
        if let Some(col) = &p.offset_column {
            columns.push(ColumnDef { name: col.clone(), ty: ColumnType::BigInt, nullable: true });
        }
        let keys = if key_names.is_empty() { Keys::Duplicate } else { Keys::Primary(key_names) };
        Ok(TableDef { columns, keys, buckets: p.buckets, properties: p.properties.clone() })
    }
}

/// `op` with the load retries and backoff: the query port may blink like the HTTP port.
fn with_retries<T, F: std::future::Future<Output = std::result::Result<T, String>>>(
    policy: &Policy,
    cx: &GuardContext<'_>,
    mut op: impl FnMut() -> F,
) -> std::result::Result<T, String> {
    let backoff = Backoff::new(policy.retry_backoff, MAX_LOAD_BACKOFF);
    let mut attempt = 0;
    loop {
        match cx.rt.block_on(op()) {
            Ok(v) => return Ok(v),
            // no database: that will not change with time
            Err(e) if e.contains(NO_DATABASE) || !policy.acts() || attempt >= policy.max_retries => return Err(e),
            Err(e) => {
                attempt += 1;
                cx.log.debug(|| format!("query port, attempt {}: {}", attempt, e));
                std::thread::sleep(backoff.delay(attempt));
            }
        }
    }
}

struct Outcome {
    /// Fields of the record its table lacks (auto.evolve off).
    missing: u64,
    refusal: Option<String>,
    /// The same names may skip the comparison next time (false while something is pending).
    settled: bool,
}

/// A null, whose type nobody knows: it matches any kind seen before (it loses nothing).
const NULL_KIND: u8 = 0;

/// What kind of value a schemaless field holds, cheaply: the same kind means the same column type
/// (`column_type::of_value`), except for named and struct values, which a schema types anyway.
fn kind_of(f: &Field<'_, '_>) -> u8 {
    match &f.ty {
        FieldType::Schema(_) => 1,
        FieldType::Json(None) => NULL_KIND,
        // what `column_type::of_json` infers
        FieldType::Json(Some(t)) => match t {
            ColumnType::Boolean => 10,
            ColumnType::BigInt => 11,
            ColumnType::Double => 12,
            ColumnType::Varchar(_) => 13,
            _ => 14,
        },
        FieldType::Value(v) => value_kind(v),
    }
}

/// `kind_of` for a schemaless value.
fn value_kind(v: &Value<'_>) -> u8 {
    match v {
        Value::Null => NULL_KIND,
        Value::Bool(_) => 10,
        Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => 11,
        Value::Float32(_) | Value::Float64(_) => 12,
        Value::String(_) | Value::Bytes(_) => 13,
        Value::Array(_) | Value::Map(_) => 14,
        Value::Decimal { .. } => 15,
        Value::Date(_) => 16,
        Value::Time(_) => 17,
        Value::Timestamp(_) => 18,
        Value::Struct(..) | Value::Named(..) => 19,
    }
}

/// The member names of an object key, in order.
fn key_members(batch: &Batch<'_>, key: &Value<'_>) -> Vec<String> {
    match key {
        Value::Struct(id, _) => batch.schema(*id).fields.iter().map(|s| s.to_string()).collect(),
        Value::Map(kvs) => kvs.iter().filter_map(|(k, _)| if let Value::String(s) = k { Some(s.to_string()) } else { None }).collect(),
        _ => Vec::new(),
    }
}

fn record_error(rec: &Record<'_>, why: &str) -> Error {
    Error::data(format!("{} (topic {}, partition {}, offset {})", why, rec.commit_topic, rec.commit_partition, rec.commit_offset))
}

//! The contract between the two halves of the emulator: the HTTP load path (`http/`, `load/`)
//! produces typed rows; the catalog and table store (`catalog/`, `store/`, `sql/`, `mysql/`)
//! owns schemas, users and data. Both halves use only the types in this file to talk.

use std::sync::Arc;

/// A StarRocks column type as declared in `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    LargeInt,
    Float,
    Double,
    /// DECIMAL(p, s) (also DECIMAL32/64/128 and DECIMALV3 spellings); p <= 38.
    Decimal { precision: u8, scale: u8 },
    Boolean,
    /// CHAR(n): n is a length in bytes.
    Char(u32),
    /// VARCHAR(n): n is a length in bytes; STRING is Varchar(65533).
    Varchar(u32),
    Date,
    DateTime,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
    /// The DEFAULT, already converted to the column's type; `None` = no DEFAULT clause.
    /// `DEFAULT NULL` on a nullable column is `Some(None)`.
    pub default: Option<Option<Value>>,
    pub is_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysType {
    Duplicate,
    /// PRIMARY KEY and UNIQUE KEY tables: rows upsert by key, `__op`=1 deletes.
    Primary,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    pub db: String,
    pub name: String,
    pub columns: Vec<Column>,
    pub keys_type: KeysType,
    /// Indexes into `columns` of the key columns, in declaration order.
    pub key_columns: Vec<usize>,
}

impl TableSchema {
    /// Case-insensitive column lookup, as StarRocks matches `columns` names.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// A stored, already-converted value. NULL is `None` in a `Row`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// TINYINT..LARGEINT and BOOLEAN-as-number are all held here.
    Int(i128),
    Bool(bool),
    /// FLOAT and DOUBLE.
    Float(f64),
    /// DECIMAL as its canonical text with exactly `scale` fraction digits, e.g. "12.50", "-0.01".
    Decimal(String),
    /// CHAR, VARCHAR, STRING.
    Str(String),
    /// DATE as days since 1970-01-01 (may be negative).
    Date(i32),
    /// DATETIME as microseconds since 1970-01-01 00:00:00 (no time zone).
    DateTime(i64),
    /// JSON as compact JSON text.
    Json(String),
}

/// One row in table column order.
pub type Row = Vec<Option<Value>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOp {
    Upsert,
    Delete,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadRow {
    pub op: RowOp,
    /// Always `columns.len()` long, in table column order. For a full-row load the load path
    /// has already filled unsupplied columns with their DEFAULT/NULL. For a partial update only
    /// the positions in `LoadBatch::partial_columns` are meaningful.
    pub values: Row,
}

/// Everything one committed load writes into one table, applied atomically and in order.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBatch {
    pub rows: Vec<LoadRow>,
    /// `Some(cols)` for `partial_update: true` on a Primary Key table: only these column
    /// indexes are written for an existing key; a new key takes DEFAULT / NULL / the type's
    /// zero value for the others.
    pub partial_columns: Option<Vec<usize>>,
    /// `merge_condition` column index: an upsert of an existing key applies only when the
    /// incoming value >= the stored one.
    pub merge_condition: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    UnknownDatabase,
    UnknownTable,
}

/// Result of a SQL statement for the query port and for `RunningEmulator::execute`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Rows affected, for statements that have no result set.
    pub affected: u64,
}

/// What the HTTP load path needs from the catalog and store. Implemented by `catalog::Catalog`;
/// shared as `Arc<dyn Store>` so either half can be tested alone.
pub trait Store: Send + Sync + 'static {
    /// True when `user` exists and `password` is its password (root's comes from the CLI).
    fn authenticate(&self, user: &str, password: &str) -> bool;
    /// True when `user` may load into `db.table` (root always; others through GRANT INSERT).
    fn can_insert(&self, user: &str, db: &str, table: &str) -> bool;
    /// StarRocks reports the db **id** in some messages (`current running txns on db <id>`).
    fn database_id(&self, db: &str) -> Option<i64>;
    fn table(&self, db: &str, table: &str) -> Result<Arc<TableSchema>, LookupError>;
    /// Apply a committed load atomically; returns the number of rows written. The schema may have
    /// changed since `table()` (DROP/CREATE): then an error string.
    fn apply(&self, db: &str, table: &str, batch: LoadBatch) -> Result<u64, String>;
    /// Apply the batches of one multi-table transaction (StarRocks 4.0) so that no reader sees
    /// some tables changed and others not. The default applies one table after the other, which
    /// is atomic only for stores nobody reads concurrently (the unit-test store).
    fn apply_many(&self, db: &str, batches: Vec<(String, LoadBatch)>) -> Result<u64, String> {
        let mut n = 0;
        for (table, batch) in batches {
            n += self.apply(db, &table, batch)?;
        }
        Ok(n)
    }
}

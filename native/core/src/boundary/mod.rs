//! Decoder of the `put()` batch format (docs/boundary-format.md).
//!
//! The Java shim writes one batch per `SinkTask.put()` into a reused direct `ByteBuffer`; the
//! JNI layer hands the core a `&[u8]` over that memory. [`decode`] reads it in place: strings,
//! bytes and names are borrowed (`&'a str`, `&'a [u8]`), nothing is copied until the row
//! serializers write into the table buffers. Malformed input (bad magic, unknown tag, a ref
//! beyond the table, a length past the end, invalid UTF-8, an unknown schema type or flag,
//! trailing bytes, values or schema definitions nested deeper than [`MAX_DEPTH`]) is a `DATA`
//! error, never a panic or an out-of-bounds read.

mod reader;
/// An encoder of the format for tests and benchmarks (the shim is the real encoder).
#[doc(hidden)]
pub mod builder;

use crate::error::{Error, Result};
use bumpalo::collections::Vec as BumpVec;
/// The arena [`decode`] allocates nested values in (re-exported: callers make and reset it).
pub use bumpalo::Bump;
use reader::Reader;

/// Magic bytes at the start of every batch.
pub const MAGIC: &[u8; 4] = b"SRB1";
/// Deepest nesting of arrays/maps/structs, and of schema definitions inside them, accepted
/// (protects the stack from hostile input).
pub const MAX_DEPTH: usize = 128;

/// Value tags, as in the format's table.
pub mod tag {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const INT8: u8 = 3;
    pub const INT16: u8 = 4;
    pub const INT32: u8 = 5;
    pub const INT64: u8 = 6;
    pub const FLOAT32: u8 = 7;
    pub const FLOAT64: u8 = 8;
    pub const STRING: u8 = 9;
    pub const BYTES: u8 = 10;
    pub const ARRAY: u8 = 11;
    pub const MAP: u8 = 12;
    pub const STRUCT: u8 = 13;
    pub const NAMED: u8 = 14;
    pub const DECIMAL: u8 = 15;
    pub const DATE: u8 = 16;
    pub const TIME: u8 = 17;
    pub const TIMESTAMP: u8 = 18;
    /// A string from the batch's string table (the shim writes map keys so).
    pub const STRING_REF: u8 = 19;
}

/// The Connect `Schema.Type` of a schema in the table (numbered like the value tags on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaKind {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl SchemaKind {
    /// Every kind, in wire order.
    pub const ALL: [SchemaKind; 12] = [
        SchemaKind::Boolean,
        SchemaKind::Int8,
        SchemaKind::Int16,
        SchemaKind::Int32,
        SchemaKind::Int64,
        SchemaKind::Float32,
        SchemaKind::Float64,
        SchemaKind::String,
        SchemaKind::Bytes,
        SchemaKind::Array,
        SchemaKind::Map,
        SchemaKind::Struct,
    ];

    /// The kind of a definition's `type` byte; `None` for any other byte.
    pub fn from_wire(b: u8) -> Option<SchemaKind> {
        Some(match b {
            1 => SchemaKind::Boolean,
            3 => SchemaKind::Int8,
            4 => SchemaKind::Int16,
            5 => SchemaKind::Int32,
            6 => SchemaKind::Int64,
            7 => SchemaKind::Float32,
            8 => SchemaKind::Float64,
            9 => SchemaKind::String,
            10 => SchemaKind::Bytes,
            11 => SchemaKind::Array,
            12 => SchemaKind::Map,
            13 => SchemaKind::Struct,
            _ => return None,
        })
    }

    /// The `type` byte this kind is written as (the value tag of the same name; BOOLEAN is 1).
    pub fn wire(self) -> u8 {
        match self {
            SchemaKind::Boolean => 1,
            SchemaKind::Int8 => 3,
            SchemaKind::Int16 => 4,
            SchemaKind::Int32 => 5,
            SchemaKind::Int64 => 6,
            SchemaKind::Float32 => 7,
            SchemaKind::Float64 => 8,
            SchemaKind::String => 9,
            SchemaKind::Bytes => 10,
            SchemaKind::Array => 11,
            SchemaKind::Map => 12,
            SchemaKind::Struct => 13,
        }
    }
}

/// Bits of a schema definition's `flags` byte; any other bit set is a decoding error.
pub mod schema_flags {
    /// `schema.isOptional()`.
    pub const OPTIONAL: u8 = 1;
}

/// A schema from the batch's schema table: what a value alone does not say, and for a Struct
/// the schema of every field (so a field's type is known even when its value is null).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema<'a> {
    /// Connect `Schema.type()`.
    pub kind: SchemaKind,
    /// Connect `Schema.isOptional()`.
    pub optional: bool,
    pub name: Option<&'a str>,
    pub version: i32,
    pub params: Vec<(&'a str, &'a str)>,
    /// Field names of a Struct in schema order (empty for other kinds).
    pub fields: Vec<&'a str>,
    /// The schema of each field, parallel to `fields`. An id may be this schema's own or an
    /// enclosing definition's (only hostile input does that: Connect has no recursive schemas),
    /// so code that walks nested schemas must bound its depth.
    pub field_schemas: Vec<SchemaId>,
}

/// Index into [`Batch::schemas`].
pub type SchemaId = usize;

/// One decoded value, borrowing from the batch buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    String(&'a str),
    Bytes(&'a [u8]),
    Array(&'a [Value<'a>]),
    Map(&'a [(Value<'a>, Value<'a>)]),
    /// Field values in schema order; field names are in the schema.
    Struct(SchemaId, &'a [Value<'a>]),
    /// A value whose schema has a name that is not a Connect logical type.
    Named(SchemaId, &'a Value<'a>),
    /// Unscaled value as big-endian two's complement, and the scale.
    Decimal { scale: i32, unscaled: &'a [u8] },
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds of the day.
    Time(i32),
    /// Milliseconds since the epoch, UTC.
    Timestamp(i64),
}

/// One record of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// Topic after SMTs: chooses the table.
    pub topic: &'a str,
    /// Original Kafka coordinates: what preCommit answers in.
    pub commit_topic: &'a str,
    pub commit_partition: i32,
    pub commit_offset: i64,
    /// Epoch milliseconds, `None` when the record had no timestamp.
    pub timestamp: Option<i64>,
    pub key: Value<'a>,
    pub value: Value<'a>,
}

impl Record<'_> {
    /// A record whose value is NULL.
    pub fn is_tombstone(&self) -> bool {
        matches!(self.value, Value::Null)
    }
}

/// A decoded batch: the records and the schema table they refer to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch<'a> {
    pub records: Vec<Record<'a>>,
    pub schemas: Vec<Schema<'a>>,
}

impl<'a> Batch<'a> {
    pub fn schema(&self, id: SchemaId) -> &Schema<'a> {
        &self.schemas[id]
    }

    /// The schema of field `i` of Struct schema `id`.
    pub fn field_schema(&self, id: SchemaId, i: usize) -> &Schema<'a> {
        &self.schemas[self.schemas[id].field_schemas[i]]
    }

    /// The fields of Struct schema `id`: each name with its schema, in schema order.
    pub fn fields(&self, id: SchemaId) -> impl Iterator<Item = (&'a str, &Schema<'a>)> + '_ {
        let s = &self.schemas[id];
        s.fields.iter().zip(&s.field_schemas).map(move |(name, f)| (*name, &self.schemas[*f]))
    }
}

/// Decodes a whole batch; every byte must be consumed. The nested values (array elements, map
/// entries, struct fields) are allocated in `arena`: a batch makes one such allocation per
/// record or more, and bump-allocating them (then dropping them all at once when the arena is
/// reset for the next batch) costs a fraction of `malloc` and `free` for each.
pub fn decode<'a>(buf: &'a [u8], arena: &'a Bump) -> Result<Batch<'a>> {
    Decoder { r: Reader::new(buf), arena, topics: Vec::new(), strings: Vec::new(), schemas: Vec::new() }.batch()
}

struct Decoder<'a> {
    r: Reader<'a>,
    arena: &'a Bump,
    topics: Vec<&'a str>,
    strings: Vec<&'a str>,
    schemas: Vec<Schema<'a>>,
}

impl<'a> Decoder<'a> {
    fn batch(mut self) -> Result<Batch<'a>> {
        if self.r.take(4).map_err(|_| bad("batch shorter than its magic"))? != MAGIC {
            return Err(bad("bad magic (expected \"SRB1\")"));
        }
        let count = self.r.u32()? as usize;
        // Each record needs at least 34 bytes; never trust `count` for an allocation.
        let mut records = Vec::with_capacity(count.min(self.r.remaining() / 34));
        for i in 0..count {
            records.push(self.record().map_err(|e| {
                Error::data(format!("{} (record {} of {})", e.message, i, count))
            })?);
        }
        if self.r.remaining() != 0 {
            return Err(bad(&format!("{} trailing bytes after the last record", self.r.remaining())));
        }
        Ok(Batch { records, schemas: self.schemas })
    }

    fn record(&mut self) -> Result<Record<'a>> {
        let topic = self.topic_ref()?;
        let commit_topic = self.topic_ref()?;
        let commit_partition = self.r.i32()?;
        let commit_offset = self.r.i64()?;
        let ts = self.r.i64()?;
        let key = self.value(0)?;
        let value = self.value(0)?;
        Ok(Record {
            topic,
            commit_topic,
            commit_partition,
            commit_offset,
            timestamp: if ts == i64::MIN { None } else { Some(ts) },
            key,
            value,
        })
    }

    fn topic_ref(&mut self) -> Result<&'a str> {
        string_ref(&mut self.r, &mut self.topics, "topic")
    }

    fn string_ref(&mut self) -> Result<&'a str> {
        string_ref(&mut self.r, &mut self.strings, "string")
    }

    /// A schema ref at nesting `depth` (that of the value it belongs to, or the enclosing
    /// definition's plus one for a field schema): a new entry's index is reserved before the rest
    /// of its definition is read, so the field schemas it defines get higher indices.
    fn schema_ref(&mut self, depth: usize) -> Result<SchemaId> {
        let idx = self.r.u32()? as usize;
        if idx < self.schemas.len() {
            return Ok(idx);
        }
        if idx > self.schemas.len() {
            return Err(bad(&format!(
                "schema ref {} beyond the table ({} entries)",
                idx,
                self.schemas.len()
            )));
        }
        if depth > MAX_DEPTH {
            return Err(bad(&format!("schema definitions nested deeper than {}", MAX_DEPTH)));
        }
        let t = self.r.u8()?;
        let kind = SchemaKind::from_wire(t).ok_or_else(|| bad(&format!("unknown schema type {}", t)))?;
        let flags = self.r.u8()?;
        if flags & !schema_flags::OPTIONAL != 0 {
            return Err(bad(&format!("unknown schema flags {:#04x}", flags)));
        }
        // reserved: a field schema defined below gets index idx + 1 or more
        self.schemas.push(Schema {
            kind,
            optional: flags & schema_flags::OPTIONAL != 0,
            name: None,
            version: -1,
            params: Vec::new(),
            fields: Vec::new(),
            field_schemas: Vec::new(),
        });
        let name = self.r.nstring()?;
        let version = self.r.i32()?;
        let pc = self.r.u32()? as usize;
        let mut params = Vec::with_capacity(pc.min(self.r.remaining() / 8));
        for _ in 0..pc {
            params.push((self.r.string()?, self.r.string()?));
        }
        let fc = self.r.u32()? as usize;
        if fc != 0 && kind != SchemaKind::Struct {
            return Err(bad(&format!("a {:?} schema with {} fields", kind, fc)));
        }
        // each field needs at least 8 bytes (name length, schema ref)
        let cap = fc.min(self.r.remaining() / 8);
        let mut fields = Vec::with_capacity(cap);
        let mut field_schemas = Vec::with_capacity(cap);
        for _ in 0..fc {
            fields.push(self.r.string()?);
            field_schemas.push(self.schema_ref(depth + 1)?);
        }
        let s = &mut self.schemas[idx];
        s.name = name;
        s.version = version;
        s.params = params;
        s.fields = fields;
        s.field_schemas = field_schemas;
        Ok(idx)
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>> {
        if depth > MAX_DEPTH {
            return Err(bad(&format!("values nested deeper than {}", MAX_DEPTH)));
        }
        let t = self.r.u8()?;
        Ok(match t {
            tag::NULL => Value::Null,
            tag::FALSE => Value::Bool(false),
            tag::TRUE => Value::Bool(true),
            tag::INT8 => Value::Int8(self.r.u8()? as i8),
            tag::INT16 => Value::Int16(self.r.i16()?),
            tag::INT32 => Value::Int32(self.r.i32()?),
            tag::INT64 => Value::Int64(self.r.i64()?),
            tag::FLOAT32 => Value::Float32(f32::from_bits(self.r.u32()?)),
            tag::FLOAT64 => Value::Float64(f64::from_bits(self.r.i64()? as u64)),
            tag::STRING => Value::String(self.r.string()?),
            tag::STRING_REF => Value::String(self.string_ref()?),
            tag::BYTES => Value::Bytes(self.r.bytes()?),
            tag::ARRAY => {
                let n = self.r.u32()? as usize;
                let mut v = BumpVec::with_capacity_in(n.min(self.r.remaining()), self.arena);
                for _ in 0..n {
                    v.push(self.value(depth + 1)?);
                }
                Value::Array(v.into_bump_slice())
            }
            tag::MAP => {
                let n = self.r.u32()? as usize;
                let mut v = BumpVec::with_capacity_in(n.min(self.r.remaining() / 2), self.arena);
                for _ in 0..n {
                    let k = self.value(depth + 1)?;
                    let val = self.value(depth + 1)?;
                    v.push((k, val));
                }
                Value::Map(v.into_bump_slice())
            }
            tag::STRUCT => {
                let id = self.schema_ref(depth)?;
                if self.schemas[id].kind != SchemaKind::Struct {
                    return Err(bad(&format!("a STRUCT value with a {:?} schema", self.schemas[id].kind)));
                }
                let n = self.schemas[id].fields.len();
                let mut v = BumpVec::with_capacity_in(n.min(self.r.remaining()), self.arena);
                for _ in 0..n {
                    v.push(self.value(depth + 1)?);
                }
                Value::Struct(id, v.into_bump_slice())
            }
            tag::NAMED => {
                let id = self.schema_ref(depth)?;
                Value::Named(id, self.arena.alloc(self.value(depth + 1)?))
            }
            tag::DECIMAL => {
                let scale = self.r.i32()?;
                Value::Decimal { scale, unscaled: self.r.bytes()? }
            }
            tag::DATE => Value::Date(self.r.i32()?),
            tag::TIME => Value::Time(self.r.i32()?),
            tag::TIMESTAMP => Value::Timestamp(self.r.i64()?),
            other => return Err(bad(&format!("unknown value tag {}", other))),
        })
    }
}

/// A ref into one of the batch's string tables (topics, strings): the definition follows when new.
fn string_ref<'a>(r: &mut Reader<'a>, table: &mut Vec<&'a str>, what: &str) -> Result<&'a str> {
    let idx = r.u32()? as usize;
    if let Some(s) = table.get(idx) {
        return Ok(s);
    }
    if idx > table.len() {
        return Err(bad(&format!("{} ref {} beyond the table ({} entries)", what, idx, table.len())));
    }
    let s = r.string()?;
    table.push(s);
    Ok(s)
}

fn bad(msg: &str) -> Error {
    Error::data(format!("malformed batch: {}", msg))
}

#[cfg(test)]
mod tests;

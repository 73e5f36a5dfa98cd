//! Test-only encoder of the batch format, so decoder and serializer tests need no JVM.
//! It always defines a topic/schema/map key on first use (as the shim does) and refers to it later.

use super::{schema_flags, tag, SchemaKind, MAGIC};

/// A schema definition for the builder: what the shim writes for a Connect `Schema`.
///
/// `field_schemas` is parallel to `fields`; a field without an entry there (the vector is
/// shorter) is an optional STRING, so `S { fields: ..., ..S::fields(&[]) }` keeps working.
#[derive(Clone, Debug, PartialEq)]
pub struct S {
    pub kind: SchemaKind,
    pub optional: bool,
    pub name: Option<String>,
    pub version: i32,
    pub params: Vec<(String, String)>,
    pub fields: Vec<String>,
    pub field_schemas: Vec<S>,
}

impl Default for S {
    /// A required, unnamed STRUCT without fields or version.
    fn default() -> S {
        S::new(SchemaKind::Struct)
    }
}

impl S {
    /// A required, unnamed schema of `kind` without version or parameters.
    pub fn new(kind: SchemaKind) -> S {
        S {
            kind,
            optional: false,
            name: None,
            version: -1,
            params: Vec::new(),
            fields: Vec::new(),
            field_schemas: Vec::new(),
        }
    }
    /// `new(kind).optional()`.
    pub fn opt(kind: SchemaKind) -> S {
        S::new(kind).optional()
    }
    /// A required STRUCT whose fields are optional STRINGs.
    pub fn fields(names: &[&str]) -> S {
        names.iter().fold(S::new(SchemaKind::Struct), |s, n| s.field(n, S::opt(SchemaKind::String)))
    }
    /// A required STRUCT with these fields and field schemas.
    pub fn struct_of(fields: &[(&str, S)]) -> S {
        fields.iter().fold(S::new(SchemaKind::Struct), |s, (n, f)| s.field(n, f.clone()))
    }
    /// A required STRING schema with this name (set another kind with [`S::kind`]).
    pub fn named(name: &str) -> S {
        S::new(SchemaKind::String).name(name)
    }
    /// Connect's Decimal: optional BYTES named `org.apache.kafka.connect.data.Decimal` with its
    /// `scale` and, when given, `connect.decimal.precision` parameters.
    pub fn decimal(scale: i32, precision: Option<u32>) -> S {
        let s = S::opt(SchemaKind::Bytes)
            .name("org.apache.kafka.connect.data.Decimal")
            .param("scale", &scale.to_string());
        match precision {
            Some(p) => s.param("connect.decimal.precision", &p.to_string()),
            None => s,
        }
    }
    pub fn kind(mut self, kind: SchemaKind) -> S {
        self.kind = kind;
        self
    }
    pub fn optional(mut self) -> S {
        self.optional = true;
        self
    }
    pub fn required(mut self) -> S {
        self.optional = false;
        self
    }
    pub fn name(mut self, name: &str) -> S {
        self.name = Some(name.to_string());
        self
    }
    pub fn version(mut self, version: i32) -> S {
        self.version = version;
        self
    }
    pub fn param(mut self, key: &str, value: &str) -> S {
        self.params.push((key.to_string(), value.to_string()));
        self
    }
    /// Appends a field (for a STRUCT).
    pub fn field(mut self, name: &str, schema: S) -> S {
        // fields given without schemas before this one are optional STRINGs
        while self.field_schemas.len() < self.fields.len() {
            self.field_schemas.push(S::opt(SchemaKind::String));
        }
        self.fields.push(name.to_string());
        self.field_schemas.push(schema);
        self
    }
}

/// A value to encode.
#[derive(Clone, Debug)]
pub enum V {
    Null,
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Array(Vec<V>),
    Map(Vec<(V, V)>),
    Struct(S, Vec<V>),
    Named(S, Box<V>),
    Decimal(i32, Vec<u8>),
    Date(i32),
    Time(i32),
    Timestamp(i64),
}

pub fn s(x: &str) -> V {
    V::Str(x.to_string())
}

#[derive(Default)]
pub struct BatchBuilder {
    out: Vec<u8>,
    count: u32,
    topics: Vec<String>,
    keys: Vec<String>,
    schemas: Vec<String>, // Debug form as identity
}

/// The shim's bounds on the map-key table (`RecordEncoder.MAX_KEY_TABLE_*`).
const MAX_KEY_TABLE_ENTRIES: usize = 4096;
const MAX_KEY_TABLE_CHARS: usize = 256;

impl BatchBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a record (`topic` is also the commit topic unless `commit_topic` is given).
    pub fn record(&mut self, topic: &str, partition: i32, offset: i64, value: V) -> &mut Self {
        self.record_full(topic, topic, partition, offset, i64::MIN, V::Null, value)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record_full(
        &mut self,
        topic: &str,
        commit_topic: &str,
        partition: i32,
        offset: i64,
        ts: i64,
        key: V,
        value: V,
    ) -> &mut Self {
        self.topic(topic);
        self.topic(commit_topic);
        self.out.extend_from_slice(&partition.to_le_bytes());
        self.out.extend_from_slice(&offset.to_le_bytes());
        self.out.extend_from_slice(&ts.to_le_bytes());
        self.value(&key);
        self.value(&value);
        self.count += 1;
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&self.count.to_le_bytes());
        b.extend_from_slice(&self.out);
        b
    }

    fn str(&mut self, x: &str) {
        self.out.extend_from_slice(&(x.len() as u32).to_le_bytes());
        self.out.extend_from_slice(x.as_bytes());
    }

    fn topic(&mut self, t: &str) {
        let mut topics = std::mem::take(&mut self.topics);
        self.table_ref(&mut topics, t);
        self.topics = topics;
    }

    /// A map key: a STRING_REF as the shim writes it, or a plain value past the table's bounds.
    fn key(&mut self, k: &V) {
        match k {
            V::Str(x)
                if x.encode_utf16().count() <= MAX_KEY_TABLE_CHARS
                    && (self.keys.len() < MAX_KEY_TABLE_ENTRIES || self.keys.contains(x)) =>
            {
                self.out.push(tag::STRING_REF);
                let mut keys = std::mem::take(&mut self.keys);
                self.table_ref(&mut keys, x);
                self.keys = keys;
            }
            other => self.value(other),
        }
    }

    fn table_ref(&mut self, table: &mut Vec<String>, x: &str) {
        match table.iter().position(|t| t == x) {
            Some(i) => self.out.extend_from_slice(&(i as u32).to_le_bytes()),
            None => {
                self.out.extend_from_slice(&(table.len() as u32).to_le_bytes());
                table.push(x.to_string());
                self.str(x);
            }
        }
    }

    /// A schema ref; a new schema's index is taken before its field schemas are defined (as the
    /// shim does), so they get higher indices. Equal `S` values are one schema.
    fn schema(&mut self, sc: &S) {
        let key = format!("{:?}", sc);
        if let Some(i) = self.schemas.iter().position(|x| *x == key) {
            self.out.extend_from_slice(&(i as u32).to_le_bytes());
            return;
        }
        self.out.extend_from_slice(&(self.schemas.len() as u32).to_le_bytes());
        self.schemas.push(key);
        self.out.push(sc.kind.wire());
        self.out.push(if sc.optional { schema_flags::OPTIONAL } else { 0 });
        match &sc.name {
            None => self.out.extend_from_slice(&0u32.to_le_bytes()),
            Some(n) => {
                self.out.extend_from_slice(&(n.len() as u32 + 1).to_le_bytes());
                self.out.extend_from_slice(n.as_bytes());
            }
        }
        self.out.extend_from_slice(&sc.version.to_le_bytes());
        self.out.extend_from_slice(&(sc.params.len() as u32).to_le_bytes());
        for (k, v) in &sc.params {
            self.str(k);
            self.str(v);
        }
        self.out.extend_from_slice(&(sc.fields.len() as u32).to_le_bytes());
        for (i, f) in sc.fields.iter().enumerate() {
            self.str(f);
            match sc.field_schemas.get(i) {
                Some(fs) => self.schema(fs),
                None => self.schema(&S::opt(SchemaKind::String)),
            }
        }
    }

    fn value(&mut self, v: &V) {
        let o = |b: &mut Self, t: u8| b.out.push(t);
        match v {
            V::Null => o(self, tag::NULL),
            V::Bool(false) => o(self, tag::FALSE),
            V::Bool(true) => o(self, tag::TRUE),
            V::I8(x) => {
                o(self, tag::INT8);
                self.out.push(*x as u8)
            }
            V::I16(x) => {
                o(self, tag::INT16);
                self.out.extend_from_slice(&x.to_le_bytes())
            }
            V::I32(x) => {
                o(self, tag::INT32);
                self.out.extend_from_slice(&x.to_le_bytes())
            }
            V::I64(x) => {
                o(self, tag::INT64);
                self.out.extend_from_slice(&x.to_le_bytes())
            }
            V::F32(x) => {
                o(self, tag::FLOAT32);
                self.out.extend_from_slice(&x.to_bits().to_le_bytes())
            }
            V::F64(x) => {
                o(self, tag::FLOAT64);
                self.out.extend_from_slice(&x.to_bits().to_le_bytes())
            }
            V::Str(x) => {
                o(self, tag::STRING);
                self.str(x)
            }
            V::Bytes(x) => {
                o(self, tag::BYTES);
                self.out.extend_from_slice(&(x.len() as u32).to_le_bytes());
                self.out.extend_from_slice(x)
            }
            V::Array(xs) => {
                o(self, tag::ARRAY);
                self.out.extend_from_slice(&(xs.len() as u32).to_le_bytes());
                for x in xs {
                    self.value(x)
                }
            }
            V::Map(xs) => {
                o(self, tag::MAP);
                self.out.extend_from_slice(&(xs.len() as u32).to_le_bytes());
                for (k, x) in xs {
                    self.key(k);
                    self.value(x)
                }
            }
            V::Struct(sc, xs) => {
                o(self, tag::STRUCT);
                self.schema(sc);
                for x in xs {
                    self.value(x)
                }
            }
            V::Named(sc, x) => {
                o(self, tag::NAMED);
                self.schema(sc);
                self.value(x)
            }
            V::Decimal(scale, b) => {
                o(self, tag::DECIMAL);
                self.out.extend_from_slice(&scale.to_le_bytes());
                self.out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                self.out.extend_from_slice(b)
            }
            V::Date(x) => {
                o(self, tag::DATE);
                self.out.extend_from_slice(&x.to_le_bytes())
            }
            V::Time(x) => {
                o(self, tag::TIME);
                self.out.extend_from_slice(&x.to_le_bytes())
            }
            V::Timestamp(x) => {
                o(self, tag::TIMESTAMP);
                self.out.extend_from_slice(&x.to_le_bytes())
            }
        }
    }
}

//! What a record's row is made of, decided once for everyone who reads it: the JSON row writer
//! lays it out, and `schema::fields` lists the columns it fills. Keeping the decision here means a
//! table is created and evolved for exactly the members its rows carry.

use super::envelope::{self, Envelope};
use crate::boundary::{Record, Value};

pub enum RowSource<'v, 'a> {
    /// No row: a tombstone, or a change event that changes no row.
    Nothing,
    /// Text that claims to be a JSON object (StringConverter, ByteArrayConverter): the row as is.
    Text(&'a str),
    /// The row of an unwrapped Debezium envelope, and whether it deletes (`__op` is added).
    Change(&'v Value<'a>, bool),
    /// An object value, with the fields of its object key that it lacks added.
    WithKey(&'v Value<'a>, &'v Value<'a>),
    /// The value itself.
    Plain(&'v Value<'a>),
}

pub fn row_source<'v, 'a>(rec: &'v Record<'a>) -> RowSource<'v, 'a> {
    match &rec.value {
        Value::Null => RowSource::Nothing,
        Value::String(s) if s.trim_start().starts_with('{') => RowSource::Text(s),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) if s.trim_start().starts_with('{') => RowSource::Text(s),
            _ => RowSource::Plain(&rec.value),
        },
        Value::Map(kvs) => match envelope::unwrap(kvs) {
            Some(Envelope::Nothing) => RowSource::Nothing,
            Some(Envelope::Row(row, delete)) => RowSource::Change(row, delete),
            None if is_object(&rec.key) => RowSource::WithKey(&rec.value, &rec.key),
            None => RowSource::Plain(&rec.value),
        },
        Value::Struct(..) if is_object(&rec.key) => RowSource::WithKey(&rec.value, &rec.key),
        v => RowSource::Plain(v),
    }
}

pub fn is_object(v: &Value<'_>) -> bool {
    matches!(v, Value::Struct(..) | Value::Map(_))
}

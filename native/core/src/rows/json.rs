//! JSON rows (`format: json`). One record value → one JSON object, written straight into the
//! table buffer (no intermediate tree):
//!
//! - Struct → object, fields in schema order; Map → object with stringified keys; Array → array.
//! - Values mean what `leaf` says: logical and Debezium types become the text StarRocks
//!   parses, `io.debezium.data.Json` is embedded as JSON.
//! - A whole-record STRING (or BYTES) that starts with `{` is raw JSON text (StringConverter,
//!   ByteArrayConverter): it is validated and passed through as the row instead of being quoted.
//! - A row is one JSON object. A record whose row would be anything else (text that is not
//!   JSON, a JSON scalar or array, a number, a list) is a bad record before anything is loaded:
//!   StarRocks would refuse the whole load for it, and one message never becomes several rows.
//! - When the value is an object and the key is an object too, key fields the value lacks are
//!   added, so a table's key columns are filled even when the producer keeps them in the key.

use std::borrow::Cow;

use super::source::{row_source, RowSource};
use super::leaf::{leaf, Leaf};
use super::RowWriter;
use crate::boundary::{Batch, Record, Value};
use crate::error::{Error, Result};

pub fn append_row(w: &RowWriter, batch: &Batch<'_>, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<bool> {
    let start = out.len();
    let res = Writer { w, batch, rec, out: &mut *out }.row().and_then(|wrote| match out.get(start) {
        // Every path writes an object's `{` first, or the whole of something that is not one.
        Some(b'{') | None => Ok(wrote),
        Some(_) => Err(not_an_object(rec, &out[start..])),
    });
    if res.is_err() {
        out.truncate(start);
    }
    res
}

/// Adds `"col":offset` to the JSON object `append_row` wrote at `mark` in `out`. (JSON only: a
/// CSV row's columns are positional, and `sink.properties.columns` already orders them.)
pub fn add_offset_column(col: &str, offset: i64, mark: usize, out: &mut Vec<u8>) {
    add_member(col, itoa::Buffer::new().format(offset).as_bytes(), mark, out);
}

/// Adds `"name":json` as the last member of the JSON object `append_row` wrote at `mark`.
pub fn add_member(name: &str, json: &[u8], mark: usize, out: &mut Vec<u8>) {
    debug_assert!(out.get(mark) == Some(&b'{') && out.last() == Some(&b'}'), "append_row writes objects only");
    out.pop();
    if out.len() != mark + 1 {
        out.push(b',');
    }
    write_str(out, name);
    out.push(b':');
    out.extend_from_slice(json);
    out.push(b'}');
}

/// The bad-record error for a row that came out as JSON other than an object.
fn not_an_object(rec: &Record<'_>, text: &[u8]) -> Error {
    let what = match text[0] {
        b'"' => match rec.value {
            Value::String(_) | Value::Bytes(_) => "text that is not a JSON object",
            _ => "a string",
        },
        b'[' => "an array (one record is one row)",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "a number",
    };
    let all = String::from_utf8_lossy(text);
    let shown: String = all.chars().take(80).collect();
    let more = if shown.len() < all.len() { "..." } else { "" };
    record_error(rec, &format!("record value is {}, not a row: in JSON format a row is one JSON object; got {}{}", what, shown, more))
}

/// Appends the JSON text of one value (used by CSV for nested values).
pub fn append_value(w: &RowWriter, batch: &Batch<'_>, rec: &Record<'_>, v: &Value<'_>, out: &mut Vec<u8>) -> Result<()> {
    Writer { w, batch, rec, out }.value(v)
}

/// Appends `s` as a JSON string. Most strings need no escaping at all; finding that out with a
/// branch-free fold over the bytes (it vectorizes) and copying them in one go is several times
/// cheaper than serde_json's byte-by-byte escaper, which is kept for the strings that need it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let plain = s.bytes().fold(true, |ok, c| ok & (c >= 0x20) & (c != b'"') & (c != b'\\'));
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing a str to a Vec cannot fail");
    }
}

pub(super) fn record_error(rec: &Record<'_>, what: &str) -> Error {
    Error::data(format!(
        "{} (topic {}, partition {}, offset {})",
        what, rec.commit_topic, rec.commit_partition, rec.commit_offset
    ))
}

struct Writer<'w, 'b, 'a, 'o> {
    w: &'w RowWriter,
    batch: &'b Batch<'a>,
    rec: &'b Record<'a>,
    out: &'o mut Vec<u8>,
}

impl Writer<'_, '_, '_, '_> {
    fn err(&self, what: &str) -> Error {
        record_error(self.rec, what)
    }

    fn row(mut self) -> Result<bool> {
        match row_source(self.rec) {
            RowSource::Nothing => Ok(false),
            RowSource::Text(s) => self.raw_json(s).map(|_| true),
            RowSource::Change(row, delete) => self.change_row(row, delete).map(|_| true),
            RowSource::WithKey(value, key) => self.object_with_key(value, key).map(|_| true),
            RowSource::Plain(v) => self.value(v).map(|_| true),
        }
    }

    /// Validates JSON text and appends it unchanged (trimmed).
    fn raw_json(&mut self, s: &str) -> Result<()> {
        serde_json::from_str::<serde::de::IgnoredAny>(s)
            .map_err(|e| self.err(&format!("record value is not valid JSON: {}", e)))?;
        self.out.extend_from_slice(s.trim().as_bytes());
        Ok(())
    }

    fn string(&mut self, s: &str) {
        write_str(self.out, s);
    }

    fn value(&mut self, v: &Value<'_>) -> Result<()> {
        let l = leaf(self.batch, self.w.zone, v).map_err(|e| self.err(&e))?;
        match l {
            Leaf::Null => self.out.extend_from_slice(b"null"),
            Leaf::Bool(b) => self.out.extend_from_slice(if b { b"true" } else { b"false" }),
            Leaf::Int(x) => self.out.extend_from_slice(itoa::Buffer::new().format(x).as_bytes()),
            Leaf::Float(x) => self.out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes()),
            Leaf::Float32(x) => self.out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes()),
            Leaf::Text(s) => self.string(&s),
            Leaf::RawJson(s) => self.out.extend_from_slice(s.as_bytes()),
            Leaf::Array(xs) => {
                self.out.push(b'[');
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value(x)?;
                }
                self.out.push(b']');
            }
            Leaf::Map(_) | Leaf::Struct(..) => {
                self.out.push(b'{');
                self.members(v, &[], &mut true, None)?;
                self.out.push(b'}');
            }
        }
        Ok(())
    }

    /// Writes the members of an object value (no braces), skipping names in `skip`, and adds
    /// the names written to `names` when the caller needs them (key-fill, `__op`): collecting
    /// them for every row would cost an allocation per field. `first`: no member written yet
    /// in this object (so no comma before the next).
    fn members<'v>(
        &mut self,
        v: &'v Value<'_>,
        skip: &[Cow<'v, str>],
        first: &mut bool,
        mut names: Option<&mut Vec<Cow<'v, str>>>,
    ) -> Result<()> {
        match v {
            Value::Struct(id, xs) => {
                let batch = self.batch;
                for (name, x) in batch.schema(*id).fields.iter().zip(xs.iter()) {
                    if skip.iter().any(|s| s == name) {
                        continue;
                    }
                    if !std::mem::take(first) {
                        self.out.push(b',');
                    }
                    self.string(name);
                    self.out.push(b':');
                    self.value(x)?;
                    if let Some(names) = names.as_deref_mut() {
                        names.push(Cow::Owned(name.to_string()));
                    }
                }
            }
            Value::Map(kvs) => {
                for (k, x) in kvs.iter() {
                    let name = self.key_text(k)?;
                    if skip.contains(&name) {
                        continue;
                    }
                    if !std::mem::take(first) {
                        self.out.push(b',');
                    }
                    self.string(&name);
                    self.out.push(b':');
                    self.value(x)?;
                    if let Some(names) = names.as_deref_mut() {
                        names.push(name);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The row of an unwrapped Debezium envelope, with `__op` unless it already has one.
    fn change_row(&mut self, row: &Value<'_>, delete: bool) -> Result<()> {
        if !matches!(row, Value::Map(_) | Value::Struct(..)) {
            return self.value(row);
        }
        self.out.push(b'{');
        let mut first = true;
        let mut names = Vec::new();
        self.members(row, &[], &mut first, Some(&mut names))?;
        if !names.iter().any(|n| n == "__op") {
            if !first {
                self.out.push(b',');
            }
            self.out.extend_from_slice(if delete { b"\"__op\":1" } else { b"\"__op\":0" });
        }
        self.out.push(b'}');
        Ok(())
    }

    fn object_with_key(&mut self, value: &Value<'_>, key: &Value<'_>) -> Result<()> {
        self.out.push(b'{');
        let mut first = true;
        let mut names = Vec::new();
        self.members(value, &[], &mut first, Some(&mut names))?;
        self.members(key, &names, &mut first, None)?;
        self.out.push(b'}');
        Ok(())
    }

    /// The text of a map key: strings as they are, anything else as its JSON text.
    fn key_text<'v>(&mut self, k: &'v Value<'_>) -> Result<Cow<'v, str>> {
        if let Value::String(s) = k {
            return Ok(Cow::Borrowed(s));
        }
        let mut tmp = Vec::new();
        Writer { w: self.w, batch: self.batch, rec: self.rec, out: &mut tmp }.value(k)?;
        Ok(Cow::Owned(match serde_json::from_slice::<String>(&tmp) {
            Ok(s) => s,
            Err(_) => String::from_utf8_lossy(&tmp).into_owned(),
        }))
    }
}

#[cfg(test)]
mod tests;

//! JSON rows (`format: json`). One record value → one JSON object, written straight into the
//! table buffer (no intermediate tree):
//!
//! - Struct → object, fields in schema order; Map → object with stringified keys; Array → array.
//! - Logical types become the text StarRocks parses: DECIMAL exact, DATE `YYYY-MM-DD`, TIME
//!   `HH:MM:SS[.ffffff]`, TIMESTAMP `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC); Debezium's named time
//!   types likewise; `io.debezium.data.Json` is embedded as JSON.
//! - A whole-record STRING (or BYTES) that starts with `{` is raw JSON text (StringConverter):
//!   it is validated and passed through as the row, instead of becoming a quoted string.
//! - Bytes → UTF-8 text if valid, else base64. NaN/Infinity → DATA error naming the record.

use base64::Engine as _;

use super::{decimal, temporal};
use crate::boundary::{Batch, Record, Value};
use crate::error::{Error, Result};

pub fn append_row(batch: &Batch<'_>, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<bool> {
    let start = out.len();
    let res = Writer { batch, rec, out }.row();
    if res.is_err() {
        out.truncate(start);
    }
    res
}

struct Writer<'b, 'a, 'o> {
    batch: &'b Batch<'a>,
    rec: &'b Record<'a>,
    out: &'o mut Vec<u8>,
}

impl Writer<'_, '_, '_> {
    fn err(&self, what: &str) -> Error {
        Error::data(format!(
            "{} (topic {}, partition {}, offset {})",
            what, self.rec.commit_topic, self.rec.commit_partition, self.rec.commit_offset
        ))
    }

    fn row(mut self) -> Result<bool> {
        let rec = self.rec;
        match &rec.value {
            Value::Null => Ok(false),
            Value::String(s) if s.trim_start().starts_with('{') => self.raw_json(s).map(|_| true),
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) if s.trim_start().starts_with('{') => self.raw_json(s).map(|_| true),
                _ => self.value(&rec.value).map(|_| true),
            },
            v => self.value(v).map(|_| true),
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
        serde_json::to_writer(&mut *self.out, s).expect("writing a str to a Vec cannot fail");
    }

    fn text_value(&mut self, f: impl FnOnce(&mut String)) {
        let mut s = String::with_capacity(32);
        f(&mut s);
        self.string(&s);
    }

    fn value(&mut self, v: &Value<'_>) -> Result<()> {
        match v {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(b) => self.out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int8(x) => self.int(*x as i64),
            Value::Int16(x) => self.int(*x as i64),
            Value::Int32(x) => self.int(*x as i64),
            Value::Int64(x) => self.int(*x),
            Value::Float32(x) => {
                if !x.is_finite() {
                    return Err(self.err(&format!("float value {} cannot be written as JSON", x)));
                }
                self.out.extend_from_slice(ryu::Buffer::new().format_finite(*x).as_bytes())
            }
            Value::Float64(x) => {
                if !x.is_finite() {
                    return Err(self.err(&format!("double value {} cannot be written as JSON", x)));
                }
                self.out.extend_from_slice(ryu::Buffer::new().format_finite(*x).as_bytes())
            }
            Value::String(s) => self.string(s),
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => self.string(s),
                Err(_) => {
                    let s = base64::engine::general_purpose::STANDARD.encode(b);
                    self.string(&s)
                }
            },
            Value::Array(xs) => {
                self.out.push(b'[');
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value(x)?;
                }
                self.out.push(b']');
            }
            Value::Map(kvs) => {
                self.out.push(b'{');
                for (i, (k, x)) in kvs.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.map_key(k)?;
                    self.out.push(b':');
                    self.value(x)?;
                }
                self.out.push(b'}');
            }
            Value::Struct(id, xs) => {
                let batch = self.batch;
                let fields = &batch.schema(*id).fields;
                self.out.push(b'{');
                for (i, (name, x)) in fields.iter().zip(xs).enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.string(name);
                    self.out.push(b':');
                    self.value(x)?;
                }
                self.out.push(b'}');
            }
            Value::Named(id, inner) => self.named(*id, inner)?,
            Value::Decimal { scale, unscaled } => match decimal::decimal_string(unscaled, *scale) {
                Some(s) => self.string(&s),
                None => return Err(self.err(&format!("decimal scale {} out of range", scale))),
            },
            Value::Date(d) => self.text_value(|s| temporal::write_date(s, *d as i64)),
            Value::Time(ms) => self.text_value(|s| temporal::write_time(s, *ms as i64 * 1000)),
            Value::Timestamp(ms) => {
                self.text_value(|s| temporal::write_timestamp(s, ms.saturating_mul(1000)))
            }
        }
        Ok(())
    }

    fn int(&mut self, x: i64) {
        self.out.extend_from_slice(itoa(x).as_bytes());
    }

    fn map_key(&mut self, k: &Value<'_>) -> Result<()> {
        match k {
            Value::String(s) => self.string(s),
            Value::Null => self.string("null"),
            Value::Bool(b) => self.string(if *b { "true" } else { "false" }),
            Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => {
                self.out.push(b'"');
                self.value(k)?;
                self.out.push(b'"');
            }
            other => {
                // anything else: its JSON text, as a string
                let mut tmp = Vec::new();
                Writer { batch: self.batch, rec: self.rec, out: &mut tmp }.value(other)?;
                match tmp.first() {
                    Some(b'"') => self.out.extend_from_slice(&tmp),
                    _ => self.string(&String::from_utf8_lossy(&tmp)),
                }
            }
        }
        Ok(())
    }

    /// Named (Debezium and other) schemas; unknown names → the underlying value.
    fn named(&mut self, id: usize, inner: &Value<'_>) -> Result<()> {
        let name = self.batch.schema(id).name.unwrap_or("");
        let int = match inner {
            Value::Int8(x) => Some(*x as i64),
            Value::Int16(x) => Some(*x as i64),
            Value::Int32(x) => Some(*x as i64),
            Value::Int64(x) => Some(*x),
            _ => None,
        };
        match (name, int) {
            ("io.debezium.time.Date", Some(d)) => self.text_value(|s| temporal::write_date(s, d)),
            ("io.debezium.time.Time", Some(ms)) => {
                self.text_value(|s| temporal::write_time(s, ms.saturating_mul(1000)))
            }
            ("io.debezium.time.MicroTime", Some(us)) => self.text_value(|s| temporal::write_time(s, us)),
            ("io.debezium.time.NanoTime", Some(ns)) => {
                self.text_value(|s| temporal::write_time(s, ns.div_euclid(1000)))
            }
            ("io.debezium.time.Timestamp", Some(ms)) => {
                self.text_value(|s| temporal::write_timestamp(s, ms.saturating_mul(1000)))
            }
            ("io.debezium.time.MicroTimestamp", Some(us)) => {
                self.text_value(|s| temporal::write_timestamp(s, us))
            }
            ("io.debezium.time.NanoTimestamp", Some(ns)) => {
                self.text_value(|s| temporal::write_timestamp(s, ns.div_euclid(1000)))
            }
            ("io.debezium.data.Json", _) => match inner {
                Value::String(s) => {
                    serde_json::from_str::<serde::de::IgnoredAny>(s).map_err(|e| {
                        self.err(&format!("io.debezium.data.Json value is not valid JSON: {}", e))
                    })?;
                    self.out.extend_from_slice(s.trim().as_bytes());
                }
                other => self.value(other)?,
            },
            // ZonedTimestamp / ZonedTime are ISO-8601 strings: passed through as strings.
            _ => self.value(inner)?,
        }
        Ok(())
    }
}

fn itoa(x: i64) -> String {
    x.to_string()
}

#[cfg(test)]
mod tests;

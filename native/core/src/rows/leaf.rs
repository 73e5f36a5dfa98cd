//! What a Connect value *is* for StarRocks, independent of the body format: a number, a
//! boolean, text (dates, times, decimals already formatted as StarRocks parses them), JSON text
//! to embed as is, or a nested value. JSON and CSV rows both start here, so a value means the
//! same in both formats.

use std::borrow::Cow;

use super::zone::{parse_instant, Zone};
use super::{decimal, temporal};
use crate::boundary::{Batch, SchemaId, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Leaf<'v, 'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// Always finite.
    Float(f64),
    /// A float that is only a float: 32-bit values print their shortest 32-bit form.
    Float32(f32),
    Text(Cow<'v, str>),
    /// Validated JSON text, embedded unchanged in JSON and written as text in CSV.
    RawJson(&'a str),
    Array(&'v [Value<'a>]),
    Map(&'v [(Value<'a>, Value<'a>)]),
    Struct(SchemaId, &'v [Value<'a>]),
}

/// Classifies `v`; `Err` says why the value cannot be written (the caller adds the record).
pub fn leaf<'v, 'a>(batch: &Batch<'a>, zone: Zone, v: &'v Value<'a>) -> Result<Leaf<'v, 'a>, String> {
    Ok(match v {
        Value::Null => Leaf::Null,
        Value::Bool(b) => Leaf::Bool(*b),
        Value::Int8(x) => Leaf::Int(*x as i64),
        Value::Int16(x) => Leaf::Int(*x as i64),
        Value::Int32(x) => Leaf::Int(*x as i64),
        Value::Int64(x) => Leaf::Int(*x),
        Value::Float32(x) if x.is_finite() => Leaf::Float32(*x),
        Value::Float64(x) if x.is_finite() => Leaf::Float(*x),
        Value::Float32(x) => return Err(format!("float value {} has no StarRocks representation", x)),
        Value::Float64(x) => return Err(format!("double value {} has no StarRocks representation", x)),
        Value::String(s) => Leaf::Text(Cow::Borrowed(s)),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => Leaf::Text(Cow::Borrowed(s)),
            Err(_) => {
                use base64::Engine as _;
                Leaf::Text(Cow::Owned(base64::engine::general_purpose::STANDARD.encode(b)))
            }
        },
        Value::Array(xs) => Leaf::Array(xs),
        Value::Map(kvs) => Leaf::Map(kvs),
        Value::Struct(id, xs) => match batch.schema(*id).name {
            Some("io.debezium.data.VariableScaleDecimal") => variable_scale_decimal(batch, *id, xs)?,
            _ => Leaf::Struct(*id, xs),
        },
        Value::Named(id, inner) => named(batch, zone, batch.schema(*id).name.unwrap_or(""), inner)?,
        Value::Decimal { scale, unscaled } => match decimal::decimal_string(unscaled, *scale) {
            Some(s) => Leaf::Text(Cow::Owned(s)),
            None => return Err(format!("decimal scale {} out of range", scale)),
        },
        Value::Date(d) => text(|s| temporal::write_date(s, *d as i64)),
        Value::Time(ms) => text(|s| temporal::write_time(s, *ms as i64 * 1000)),
        Value::Timestamp(ms) => text(|s| temporal::write_timestamp(s, zone.local_micros(ms.saturating_mul(1000)))),
    })
}

fn text<'v, 'a>(f: impl FnOnce(&mut String)) -> Leaf<'v, 'a> {
    let mut s = String::with_capacity(26);
    f(&mut s);
    Leaf::Text(Cow::Owned(s))
}

/// Debezium's named types. Its `Timestamp`/`MicroTimestamp`/`NanoTimestamp` carry a local
/// date-time (a column without zone) encoded as if UTC, so they are written without shifting;
/// `ZonedTimestamp` is a real instant and goes to the configured zone.
fn named<'v, 'a>(batch: &Batch<'a>, zone: Zone, name: &str, inner: &'v Value<'a>) -> Result<Leaf<'v, 'a>, String> {
    let int = match inner {
        Value::Int8(x) => Some(*x as i64),
        Value::Int16(x) => Some(*x as i64),
        Value::Int32(x) => Some(*x as i64),
        Value::Int64(x) => Some(*x),
        _ => None,
    };
    Ok(match (name, int, inner) {
        ("io.debezium.time.Date", Some(d), _) => text(|s| temporal::write_date(s, d)),
        ("io.debezium.time.Time", Some(ms), _) => text(|s| temporal::write_time(s, ms.saturating_mul(1000))),
        ("io.debezium.time.MicroTime", Some(us), _) => text(|s| temporal::write_time(s, us)),
        ("io.debezium.time.NanoTime", Some(ns), _) => text(|s| temporal::write_time(s, ns.div_euclid(1000))),
        ("io.debezium.time.Timestamp", Some(ms), _) => text(|s| temporal::write_timestamp(s, ms.saturating_mul(1000))),
        ("io.debezium.time.MicroTimestamp", Some(us), _) => text(|s| temporal::write_timestamp(s, us)),
        ("io.debezium.time.NanoTimestamp", Some(ns), _) => text(|s| temporal::write_timestamp(s, ns.div_euclid(1000))),
        ("io.debezium.time.ZonedTimestamp", _, Value::String(iso)) => match parse_instant(iso) {
            Some(us) => text(|s| temporal::write_timestamp(s, zone.local_micros(us))),
            None => return Err(format!("io.debezium.time.ZonedTimestamp '{}' is not an ISO-8601 instant", iso)),
        },
        ("io.debezium.time.ZonedTime", _, Value::String(iso)) => {
            // `HH:MM:SS[.f]<offset>`: a time of day cannot move to a zone without a date, so it
            // is written as the UTC time of day.
            let probe = format!("1970-01-01T{}", iso.trim());
            match parse_instant(&probe) {
                Some(us) => text(|s| temporal::write_time(s, us)),
                None => return Err(format!("io.debezium.time.ZonedTime '{}' is not an ISO-8601 time", iso)),
            }
        }
        ("io.debezium.data.Json", _, Value::String(s)) => {
            serde_json::from_str::<serde::de::IgnoredAny>(s)
                .map_err(|e| format!("io.debezium.data.Json value is not valid JSON: {}", e))?;
            Leaf::RawJson(s.trim())
        }
        _ => leaf(batch, zone, inner)?,
    })
}

/// `io.debezium.data.VariableScaleDecimal`: a struct of `scale` (int32) and `value` (bytes).
fn variable_scale_decimal<'v, 'a>(batch: &Batch<'a>, id: SchemaId, xs: &'v [Value<'a>]) -> Result<Leaf<'v, 'a>, String> {
    let fields = &batch.schema(id).fields;
    let get = |n: &str| fields.iter().position(|f| *f == n).and_then(|i| xs.get(i));
    match (get("scale"), get("value")) {
        (Some(Value::Int32(scale)), Some(Value::Bytes(unscaled))) => decimal::decimal_string(unscaled, *scale)
            .map(|s| Leaf::Text(Cow::Owned(s)))
            .ok_or_else(|| format!("VariableScaleDecimal scale {} out of range", scale)),
        (_, Some(Value::Null)) | (_, None) => Ok(Leaf::Null),
        _ => Err("io.debezium.data.VariableScaleDecimal without int32 scale and bytes value".into()),
    }
}

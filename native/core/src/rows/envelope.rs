//! Debezium change events that reach the sink still wrapped.
//!
//! `ExtractNewRecordState` unwraps only records with a schema; with
//! `value.converter.schemas.enable=false` (as in StarRocks' CDC walkthrough) it passes the whole
//! envelope (`before`, `after`, `source`, `op`) through, and loading that as a row would fill
//! nothing but the key. So a schemaless value that is plainly a Debezium envelope is unwrapped
//! here: `c`, `u` and `r` load `after` as an upsert, `d` loads `before` as a delete (`__op` 1),
//! `t` (truncate) and `m` (message) load nothing.

use crate::boundary::Value;

pub enum Envelope<'v, 'a> {
    /// The row to load and whether it deletes.
    Row(&'v Value<'a>, bool),
    /// An event that changes no row.
    Nothing,
}

/// `Some` when `kvs` is a Debezium envelope: string `op` of a known kind, plus `before`,
/// `after` and `source` entries.
pub fn unwrap<'v, 'a>(kvs: &'v [(Value<'a>, Value<'a>)]) -> Option<Envelope<'v, 'a>> {
    let get = |name: &str| kvs.iter().find(|(k, _)| matches!(k, Value::String(s) if *s == name)).map(|(_, v)| v);
    let op = match get("op")? {
        Value::String(op) => *op,
        _ => return None,
    };
    let (before, after) = (get("before")?, get("after")?);
    get("source")?;
    match op {
        "c" | "u" | "r" => Some(match after {
            Value::Null => Envelope::Nothing,
            row => Envelope::Row(row, false),
        }),
        "d" => Some(match before {
            Value::Null => Envelope::Nothing,
            row => Envelope::Row(row, true),
        }),
        "t" | "m" => Some(Envelope::Nothing),
        _ => None,
    }
}

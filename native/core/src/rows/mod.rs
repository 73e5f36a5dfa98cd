//! Row serializers: one decoded record → one row appended to a table buffer, in the body
//! format of the table's loads. `leaf` decides what each value means for StarRocks; `json`
//! and `csv` only lay it out.

pub mod csv;
pub mod decimal;
pub mod envelope;
pub mod json;
pub mod layout;
pub mod leaf;
pub mod source;
pub mod temporal;
pub mod zone;

use crate::boundary::{Batch, Record, Value};
use crate::error::Result;
use csv::CsvOptions;
use zone::Zone;

/// The body format of a table buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowFormat {
    Json,
    Csv(CsvOptions),
}

#[derive(Debug, Clone)]
pub struct RowWriter {
    pub format: RowFormat,
    /// Where Connect timestamps (instants) are written as wall-clock DATETIMEs.
    pub zone: Zone,
    /// `exactly.once.offset.column`: every (JSON) row also carries its record's Kafka offset in
    /// this column. Config allows it with exactly-once JSON loads only.
    pub offset_column: Option<String>,
    /// `pk.mode=record_key` with one `pk.fields` name: a primitive (non-object) record key is
    /// written into the JSON row as this column, so its Primary Key table gets its key.
    pub key_column: Option<String>,
}

impl RowWriter {
    pub fn json() -> RowWriter {
        RowWriter { format: RowFormat::Json, zone: Zone::UTC, offset_column: None, key_column: None }
    }

    /// Appends the row of `rec` to `out`; `Ok(false)` (nothing written) for a tombstone.
    /// On error `out` is left as it was.
    pub fn append_row(&self, batch: &Batch<'_>, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<bool> {
        match &self.format {
            RowFormat::Json => {
                let mark = out.len();
                let wrote = json::append_row(self, batch, rec, out)?;
                if let (true, Some(col)) = (wrote, &self.offset_column) {
                    json::add_offset_column(col, rec.commit_offset, mark, out);
                }
                if let (true, Some(col)) = (wrote, &self.key_column) {
                    if !matches!(rec.key, Value::Null | Value::Struct(..) | Value::Map(_)) {
                        let mut key = Vec::new();
                        json::append_value(self, batch, rec, &rec.key, &mut key)?;
                        json::add_member(col, &key, mark, out);
                    }
                }
                Ok(wrote)
            }
            RowFormat::Csv(opts) => csv::append_row(self, opts, batch, rec, out),
        }
    }
}

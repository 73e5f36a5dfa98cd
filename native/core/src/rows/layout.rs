//! How rows are laid out in a load's body, from `sink.properties.*`: the row format (JSON or
//! CSV with its separators) and the framing (JSON array or lines). The same for both delivery
//! modes, and read once when a sink opens.

use crate::buffer::Framing;
use crate::config::{Config, PkMode};
use crate::error::{Error, Result};
use crate::rows::csv::{parse_delimiter, CsvOptions};
use crate::rows::{RowFormat, RowWriter};

/// The row format and body framing from `sink.properties.*`, adding the headers StarRocks
/// needs for them where the user did not set their own.
pub fn row_layout(cfg: &mut Config) -> Result<(RowWriter, Framing)> {
    let format = header(cfg, "format").unwrap_or("json").to_ascii_lowercase();
    let zone = cfg.zone;
    let offset_column = cfg.exactly_once.as_ref().and_then(|eo| eo.offset_column.clone());
    let key_column = match (cfg.pk_mode, cfg.pk_fields.as_slice()) {
        (PkMode::RecordKey, [one]) => Some(one.clone()),
        _ => None,
    };
    match format.as_str() {
        "json" => {
            let framing = match header(cfg, "strip_outer_array") {
                Some(v) if v.eq_ignore_ascii_case("true") => Framing::JsonArray,
                // NDJSON needs no header at all
                _ => Framing::Lines(b"\n".to_vec()),
            };
            Ok((RowWriter { format: RowFormat::Json, zone, offset_column, key_column }, framing))
        }
        "csv" => {
            let mut opts = CsvOptions::default();
            if let Some(v) = header(cfg, "column_separator") {
                opts.separator = parse_delimiter("column_separator", v)?;
            }
            if let Some(v) = header(cfg, "row_delimiter") {
                opts.delimiter = parse_delimiter("row_delimiter", v)?;
            }
            match header(cfg, "enclose") {
                Some(v) => opts.enclose = v.bytes().next(),
                None => {
                    cfg.properties.insert("enclose".to_string(), "\"".to_string());
                }
            }
            opts.escape = header(cfg, "escape").and_then(|v| v.bytes().next());
            opts.columns = header(cfg, "columns").map(|v| {
                v.split(',').map(str::trim).filter(|c| !c.is_empty() && !c.contains('=')).map(str::to_string).collect()
            });
            let framing = Framing::Lines(opts.delimiter.clone());
            Ok((RowWriter { format: RowFormat::Csv(opts), zone, offset_column: None, key_column: None }, framing))
        }
        other => Err(Error::config(format!("sink.properties.format: '{}' is neither json nor csv", other))),
    }
}

/// A `sink.properties.*` header, by case-insensitive name.
pub(crate) fn header<'a>(cfg: &'a Config, name: &str) -> Option<&'a str> {
    cfg.properties.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

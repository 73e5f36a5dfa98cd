//! CSV rows (`format: csv`), written as StarRocks' CSV reader splits them.
//!
//! - Struct → its fields in schema order; Array → its elements; Map → its values, in the order
//!   of `sink.properties.columns` when that is set (JsonConverter does not keep key order),
//!   else in map order; another scalar → a one-field row.
//! - A whole-record STRING/BYTES value is a ready CSV line and is written as it is (without a
//!   trailing row delimiter, which the buffer adds).
//! - NULL is `\N`. A field holding the separator, the row delimiter, the enclose or escape
//!   byte is wrapped in the enclose byte with enclose bytes doubled (the sink sets
//!   `enclose: "` unless the user chose one); with neither enclose nor escape such a value
//!   cannot be written and is a DATA error naming the record.
//! - Nested values (for JSON or STRING columns) are written as their JSON text.

use super::envelope::{self, Envelope};
use super::json::{append_value, record_error};
use super::leaf::{leaf, Leaf};
use super::RowWriter;
use crate::boundary::{Batch, Record, Value};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub separator: Vec<u8>,
    pub delimiter: Vec<u8>,
    pub enclose: Option<u8>,
    pub escape: Option<u8>,
    /// `sink.properties.columns`, to order Map values.
    pub columns: Option<Vec<String>>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { separator: b"\t".to_vec(), delimiter: b"\n".to_vec(), enclose: Some(b'"'), escape: None, columns: None }
    }
}

/// Parses a `column_separator`/`row_delimiter` header value as StarRocks does: `\x01`,
/// `\x0D0A` or `0x..` are hex bytes (an even number of digits), anything else is the literal
/// UTF-8 text.
pub fn parse_delimiter(key: &str, v: &str) -> Result<Vec<u8>> {
    let hex = v.strip_prefix("\\x").or_else(|| v.strip_prefix("0x")).or_else(|| v.strip_prefix("0X"));
    let Some(digits) = hex else {
        if v.is_empty() || v.len() > 50 {
            return Err(Error::config(format!("sink.properties.{}: '{}' must be 1 to 50 bytes", key, v)));
        }
        return Ok(v.as_bytes().to_vec());
    };
    if digits.is_empty() || digits.len() % 2 != 0 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::config(format!("sink.properties.{}: '{}' is not an even number of hex digits", key, v)));
    }
    Ok((0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect())
}

pub fn append_row(w: &RowWriter, opts: &CsvOptions, batch: &Batch<'_>, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<bool> {
    let start = out.len();
    let res = row(w, opts, batch, rec, out);
    if res.is_err() {
        out.truncate(start);
    }
    res
}

fn row(w: &RowWriter, opts: &CsvOptions, batch: &Batch<'_>, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<bool> {
    let fields: Vec<&Value<'_>> = match &rec.value {
        Value::Null => return Ok(false),
        Value::String(s) => return line(opts, rec, s.as_bytes(), out),
        Value::Bytes(b) => return line(opts, rec, b, out),
        Value::Struct(id, xs) if batch.schema(*id).name != Some("io.debezium.data.VariableScaleDecimal") => xs.iter().collect(),
        Value::Array(xs) => xs.iter().collect(),
        Value::Map(kvs) => match envelope::unwrap(kvs) {
            Some(Envelope::Row(Value::Map(row), _)) => return map_row(w, opts, batch, rec, row, out),
            Some(Envelope::Row(Value::Struct(_, xs), _)) => xs.iter().collect(),
            Some(Envelope::Row(v, _)) => vec![v],
            Some(Envelope::Nothing) => return Ok(false),
            None => return map_row(w, opts, batch, rec, kvs, out),
        },
        v => vec![v],
    };
    write_fields(w, opts, batch, rec, fields, out)
}

fn map_row(w: &RowWriter, opts: &CsvOptions, batch: &Batch<'_>, rec: &Record<'_>, kvs: &[(Value<'_>, Value<'_>)], out: &mut Vec<u8>) -> Result<bool> {
    let fields: Vec<&Value<'_>> = match &opts.columns {
        Some(cols) => cols
            .iter()
            .map(|c| kvs.iter().find(|(k, _)| matches!(k, Value::String(s) if s.eq_ignore_ascii_case(c))).map(|(_, v)| v).unwrap_or(&Value::Null))
            .collect(),
        None => kvs.iter().map(|(_, v)| v).collect(),
    };
    write_fields(w, opts, batch, rec, fields, out)
}

fn write_fields(w: &RowWriter, opts: &CsvOptions, batch: &Batch<'_>, rec: &Record<'_>, fields: Vec<&Value<'_>>, out: &mut Vec<u8>) -> Result<bool> {
    for (i, v) in fields.into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&opts.separator);
        }
        field(w, opts, batch, rec, v, out)?;
    }
    Ok(true)
}

fn line(opts: &CsvOptions, rec: &Record<'_>, text: &[u8], out: &mut Vec<u8>) -> Result<bool> {
    let text = text.strip_suffix(opts.delimiter.as_slice()).unwrap_or(text);
    if std::str::from_utf8(text).is_err() {
        return Err(record_error(rec, "record value is not UTF-8 text, so it cannot be a CSV line"));
    }
    out.extend_from_slice(text);
    Ok(true)
}

fn field(w: &RowWriter, opts: &CsvOptions, batch: &Batch<'_>, rec: &Record<'_>, v: &Value<'_>, out: &mut Vec<u8>) -> Result<()> {
    let l = leaf(batch, w.zone, v).map_err(|e| record_error(rec, &e))?;
    match l {
        Leaf::Null => out.extend_from_slice(b"\\N"),
        Leaf::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Leaf::Int(x) => out.extend_from_slice(itoa::Buffer::new().format(x).as_bytes()),
        Leaf::Float(x) => out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes()),
        Leaf::Float32(x) => out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes()),
        Leaf::Text(s) => text(opts, rec, s.as_bytes(), out)?,
        Leaf::RawJson(s) => text(opts, rec, s.as_bytes(), out)?,
        Leaf::Array(_) | Leaf::Map(_) | Leaf::Struct(..) => {
            let mut json = Vec::new();
            append_value(w, batch, rec, v, &mut json)?;
            text(opts, rec, &json, out)?;
        }
    }
    Ok(())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

fn text(opts: &CsvOptions, rec: &Record<'_>, s: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let special = |b: u8| Some(b) == opts.enclose || Some(b) == opts.escape;
    let needs_quoting = match (opts.separator.as_slice(), opts.delimiter.as_slice()) {
        // The usual one-byte separator and delimiter: one branch-free pass over the value for
        // all four bytes (it vectorizes), instead of a substring search per byte sequence.
        (&[sep], &[del]) => {
            let (q, e) = (opts.enclose.unwrap_or(sep), opts.escape.unwrap_or(sep));
            s.iter().fold(false, |hit, &b| hit | (b == sep) | (b == del) | (b == q) | (b == e))
        }
        _ => contains(s, &opts.separator) || contains(s, &opts.delimiter) || s.iter().any(|&b| special(b)),
    };
    if !needs_quoting {
        out.extend_from_slice(s);
        return Ok(());
    }
    match (opts.enclose, opts.escape) {
        (Some(q), esc) => {
            out.push(q);
            for &b in s {
                if b == q {
                    out.push(q);
                } else if Some(b) == esc {
                    out.push(b);
                }
                out.push(b);
            }
            out.push(q);
        }
        (None, Some(e)) => {
            // Without enclose, the escape byte protects each byte of a separator or delimiter.
            let mut i = 0;
            while i < s.len() {
                let rest = &s[i..];
                let hit = [&opts.separator, &opts.delimiter].into_iter().find(|d| rest.starts_with(d));
                if let Some(d) = hit {
                    for &b in d.iter() {
                        out.push(e);
                        out.push(b);
                    }
                    i += d.len();
                } else {
                    if rest[0] == e {
                        out.push(e);
                    }
                    out.push(rest[0]);
                    i += 1;
                }
            }
        }
        (None, None) => {
            return Err(record_error(
                rec,
                "a value contains the CSV column separator or row delimiter; set sink.properties.enclose (or escape)",
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::builder::{s, BatchBuilder, S, V};
    use crate::boundary::decode;
    use bumpalo::Bump;
    use crate::rows::{RowFormat, RowWriter};
    use crate::rows::zone::Zone;

    fn csv(opts: CsvOptions, v: V) -> Result<String> {
        let mut b = BatchBuilder::new();
        b.record("t", 0, 5, v);
        let buf = b.build();
        let arena = Bump::new();        let batch = decode(&buf, &arena).unwrap();
        let w = RowWriter { format: RowFormat::Csv(opts), zone: Zone::UTC, offset_column: None, key_column: None };
        let mut out = Vec::new();
        w.append_row(&batch, &batch.records[0], &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn struct_fields_nulls_and_quoting() {
        let sc = S::fields(&["id", "name", "note", "tags"]);
        let v = V::Struct(sc, vec![V::I32(1), s("a\tb \"q\""), V::Null, V::Array(vec![s("x"), V::I8(2)])]);
        assert_eq!(csv(CsvOptions::default(), v).unwrap(), "1\t\"a\tb \"\"q\"\"\"\t\\N\t\"[\"\"x\"\",2]\"");
    }

    #[test]
    fn multibyte_separators_newlines_and_utf8() {
        let opts = CsvOptions { separator: b"||".to_vec(), delimiter: b"\r\n".to_vec(), ..CsvOptions::default() };
        let v = V::Array(vec![s("é|x"), s("two\r\nlines"), s("a||b")]);
        assert_eq!(csv(opts, v).unwrap(), "é|x||\"two\r\nlines\"||\"a||b\"");
    }

    #[test]
    fn without_enclose_escape_protects_or_the_record_fails() {
        let opts = CsvOptions { separator: b",".to_vec(), enclose: None, escape: Some(b'\\'), ..CsvOptions::default() };
        assert_eq!(csv(opts.clone(), V::Array(vec![s("a,b\\c"), V::I32(1)])).unwrap(), "a\\,b\\\\c,1");
        let bare = CsvOptions { escape: None, ..opts };
        let e = csv(bare, V::Array(vec![s("a,b")])).unwrap_err();
        assert!(e.message.contains("enclose") && e.message.contains("offset 5"), "{}", e.message);
    }

    #[test]
    fn string_values_are_lines_and_maps_follow_columns() {
        assert_eq!(csv(CsvOptions::default(), s("1\tNew York\n")).unwrap(), "1\tNew York");
        let opts = CsvOptions { columns: Some(vec!["id".into(), "city".into(), "zip".into()]), ..CsvOptions::default() };
        let m = V::Map(vec![(s("city"), s("Boston")), (s("id"), V::I64(7))]);
        assert_eq!(csv(opts, m).unwrap(), "7\tBoston\t\\N");
    }

    #[test]
    fn delimiters_parse_like_starrocks() {
        assert_eq!(parse_delimiter("column_separator", "\\x01").unwrap(), vec![1]);
        assert_eq!(parse_delimiter("row_delimiter", "0x0D0A").unwrap(), b"\r\n".to_vec());
        assert_eq!(parse_delimiter("column_separator", "||").unwrap(), b"||".to_vec());
        assert!(parse_delimiter("column_separator", "\\x0").unwrap_err().message.starts_with("sink.properties.column_separator"));
    }
}

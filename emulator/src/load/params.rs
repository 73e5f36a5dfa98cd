//! Stream Load request headers (§3 of the reference) parsed and validated, with StarRocks'
//! error messages. Header names are case-insensitive (the `http` crate lower-cases them).

use hyper::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Lz4Frame,
    Zstd,
    Deflate,
}

/// One entry of the `columns` header: a name, optionally `= expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    pub expr: Option<Expr>,
}

/// The subset of `columns` expressions the emulator evaluates; anything else is rejected up front
/// so a test never silently loads different data than StarRocks would.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `col = other`: copy another source field.
    Source(String),
    /// `col = 'text'` / `col = 12`: a constant (text form, converted like a loaded field).
    Const(String),
    /// `col = NULL`.
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadParams {
    pub format: Format,
    pub compression: Compression,
    pub columns: Option<Vec<ColumnSpec>>,
    pub column_separator: Vec<u8>,
    pub row_delimiter: Vec<u8>,
    pub enclose: Option<u8>,
    pub escape: Option<u8>,
    pub skip_header: usize,
    pub trim_space: bool,
    pub strip_outer_array: bool,
    pub jsonpaths: Option<Vec<String>>,
    pub json_root: Option<String>,
    pub ignore_json_size: bool,
    pub max_filter_ratio: f64,
    pub strict_mode: bool,
    pub partial_update: bool,
    pub merge_condition: Option<String>,
    pub timeout_secs: Option<u64>,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn non_empty<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header(h, name).filter(|v| !v.is_empty())
}

/// StarRocks parses these booleans case-insensitively and rejects anything but true/false.
fn parse_bool(h: &HeaderMap, name: &str, err: &str) -> Result<bool, String> {
    match non_empty(h, name) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(err.to_string()),
    }
}

/// `format` header → (format, compression). Compressed CSV is named by `format` itself.
pub fn parse_format(h: &HeaderMap) -> Result<(Format, Compression), String> {
    let v = header(h, "format").unwrap_or("csv");
    let lower = v.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "" | "csv" => (Format::Csv, Compression::None),
        "json" => (Format::Json, Compression::None),
        "gzip" => (Format::Csv, Compression::Gzip),
        "lz4" => (Format::Csv, Compression::Lz4Frame),
        "zstd" => (Format::Csv, Compression::Zstd),
        "deflate" => (Format::Csv, Compression::Deflate),
        _ => return Err(format!("unknown data format, format={v}")),
    })
}

fn parse_compression_name(v: &str) -> Result<Compression, String> {
    Ok(match v.to_ascii_lowercase().as_str() {
        "gzip" => Compression::Gzip,
        "lz4_frame" | "lz4" => Compression::Lz4Frame,
        "zstd" => Compression::Zstd,
        "deflate" => Compression::Deflate,
        "identity" => Compression::None,
        // bzip2 is a real StarRocks option the emulator does not decode.
        _ => return Err(format!("Unsupported compression type: {v}")),
    })
}

/// Delimiters: `\xNN..` or `0xNN..` is a hex byte string; anything else is taken literally.
pub fn parse_delimiter(v: &str) -> Result<Vec<u8>, String> {
    let hex = v.strip_prefix("\\x").or_else(|| v.strip_prefix("0x")).or_else(|| v.strip_prefix("0X"));
    let Some(hex) = hex else { return Ok(v.as_bytes().to_vec()) };
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("Invalid delimiter '{v}': invalid hex format"));
    }
    if hex.len() % 2 != 0 {
        return Err(format!("Invalid delimiter '{v}': hex length must be a even number"));
    }
    Ok((0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect())
}

/// Split the `columns` header at top-level commas (quotes may contain commas).
pub fn parse_columns(v: &str) -> Result<Vec<ColumnSpec>, String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0i32;
    for c in v.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c)
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c)
            }
            (None, '(') => {
                depth += 1;
                cur.push(c)
            }
            (None, ')') => {
                depth -= 1;
                cur.push(c)
            }
            (None, ',') if depth == 0 => items.push(std::mem::take(&mut cur)),
            (None, c) => cur.push(c),
        }
    }
    items.push(cur);
    let mut out = Vec::new();
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, expr) = match item.split_once('=') {
            None => (item, None),
            Some((n, e)) => (n.trim(), Some(parse_expr(e.trim())?)),
        };
        let name = name.trim_matches('`').to_string();
        if name.is_empty() {
            return Err(format!("Invalid column name in columns: {item}"));
        }
        out.push(ColumnSpec { name, expr });
    }
    Ok(out)
}

fn parse_expr(e: &str) -> Result<Expr, String> {
    let unquoted = |q: char| e.len() >= 2 && e.starts_with(q) && e.ends_with(q);
    if unquoted('\'') || unquoted('"') {
        return Ok(Expr::Const(e[1..e.len() - 1].to_string()));
    }
    if e.eq_ignore_ascii_case("null") {
        return Ok(Expr::Null);
    }
    if !e.is_empty() && e.parse::<f64>().is_ok() {
        return Ok(Expr::Const(e.to_string()));
    }
    let ident = e.trim_matches('`');
    if !ident.is_empty() && ident.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Ok(Expr::Source(ident.to_string()));
    }
    Err(format!(
        "the StarRocks emulator supports only `col=other_col`, constants and NULL in the columns header, not: {e}"
    ))
}

/// Minimal JSON array of strings for `jsonpaths`.
fn parse_jsonpaths(v: &str) -> Result<Vec<String>, String> {
    serde_json::from_str::<Vec<String>>(v).map_err(|_| format!("Invalid json path: {v}"))
}

impl LoadParams {
    /// Parse everything a load needs. `txn_load` relaxes `partial_update` as the transaction
    /// interface does (anything but exact `true` is false).
    pub fn from_headers(h: &HeaderMap, txn_load: bool) -> Result<LoadParams, String> {
        let (format, mut compression) = parse_format(h)?;
        let comp_header = non_empty(h, "compression");
        let enc_header = non_empty(h, "content-encoding");
        if comp_header.is_some() && enc_header.is_some() {
            return Err("Only one of http header content-encoding and compression can be set".into());
        }
        if let Some(c) = comp_header.or(enc_header) {
            let c = parse_compression_name(c)?;
            if c != Compression::None {
                compression = c;
            }
        }
        if non_empty(h, "where").is_some() {
            return Err("the StarRocks emulator does not support the `where` header".into());
        }
        if non_empty(h, "partitions").is_some() && non_empty(h, "temporary_partitions").is_some() {
            return Err("Can not specify both partitions and temporary partitions".into());
        }
        // Validated as StarRocks does, otherwise ignored (the emulator has no memory accounting
        // or rejected-record files).
        let int = |name: &str| non_empty(h, name).map(|v| v.trim().parse::<i64>().unwrap_or(i64::MIN));
        if int("load_mem_limit").is_some_and(|v| v < 0) {
            return Err("load_mem_limit must be equal or greater than 0".into());
        }
        if int("exec_mem_limit").is_some_and(|v| v <= 0) {
            return Err("exec_mem_limit must be greater than 0".into());
        }
        if int("log_rejected_record_num").is_some_and(|v| v < -1) {
            return Err("log_rejected_record_num must be equal or greater than -1".into());
        }
        let columns = non_empty(h, "columns").map(parse_columns).transpose()?;
        let column_separator = match non_empty(h, "column_separator") {
            Some(v) => parse_delimiter(v)?,
            None => b"\t".to_vec(),
        };
        let row_delimiter = match non_empty(h, "row_delimiter") {
            Some(v) => parse_delimiter(v)?,
            None => b"\n".to_vec(),
        };
        let skip_header = match non_empty(h, "skip_header") {
            None => 0,
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => n as usize,
                Ok(_) => return Err("skip_header must be equal or greater than 0".into()),
                Err(_) => return Err("Invalid csv load skip_header format".into()),
            },
        };
        let trim_space = parse_bool(h, "trim_space", "Invalid trim space format. Must be bool type")?;
        let strict_mode = parse_bool(h, "strict_mode", "Invalid strict mode format. Must be bool type")?;
        let partial_update = if txn_load {
            header(h, "partial_update") == Some("true")
        } else {
            parse_bool(h, "partial_update", "Invalid partial update flag format. Must be bool type")?
        };
        let timeout_secs = match non_empty(h, "timeout") {
            None => None,
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| "Invalid timeout format".to_string())?),
        };
        Ok(LoadParams {
            format,
            compression,
            columns,
            column_separator,
            row_delimiter,
            enclose: non_empty(h, "enclose").map(|v| v.as_bytes()[0]),
            escape: non_empty(h, "escape").map(|v| v.as_bytes()[0]),
            skip_header,
            trim_space,
            strip_outer_array: header(h, "strip_outer_array").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false),
            jsonpaths: non_empty(h, "jsonpaths").map(parse_jsonpaths).transpose()?,
            json_root: non_empty(h, "json_root").map(str::to_string),
            ignore_json_size: header(h, "ignore_json_size").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false),
            // Lenient as in StarRocks: garbage means 0.
            max_filter_ratio: non_empty(h, "max_filter_ratio").and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(0.0),
            strict_mode,
            partial_update,
            merge_condition: non_empty(h, "merge_condition").map(str::to_string),
            timeout_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn delimiters_hex_and_literal() {
        assert_eq!(parse_delimiter("\\x01").unwrap(), vec![1]);
        assert_eq!(parse_delimiter("0x0D0A").unwrap(), b"\r\n".to_vec());
        assert_eq!(parse_delimiter("||").unwrap(), b"||".to_vec());
        assert_eq!(parse_delimiter("\\x0").unwrap_err(), "Invalid delimiter '\\x0': hex length must be a even number");
        assert_eq!(parse_delimiter("\\xZZ").unwrap_err(), "Invalid delimiter '\\xZZ': invalid hex format");
    }

    #[test]
    fn columns_with_expressions() {
        let c = parse_columns("id, name ,tmp, __op = 'delete', score=tmp, n=NULL, k = 3").unwrap();
        assert_eq!(c.len(), 7);
        assert_eq!(c[3], ColumnSpec { name: "__op".into(), expr: Some(Expr::Const("delete".into())) });
        assert_eq!(c[4].expr, Some(Expr::Source("tmp".into())));
        assert_eq!(c[5].expr, Some(Expr::Null));
        assert_eq!(c[6].expr, Some(Expr::Const("3".into())));
        assert!(parse_columns("a, b=upper(a)").unwrap_err().contains("upper(a)"));
        assert_eq!(parse_columns("a,b='x,y'").unwrap()[1].expr, Some(Expr::Const("x,y".into())));
    }

    #[test]
    fn header_validation_messages() {
        assert_eq!(LoadParams::from_headers(&headers(&[("format", "xml")]), false).unwrap_err(), "unknown data format, format=xml");
        assert_eq!(LoadParams::from_headers(&headers(&[("timeout", "x")]), false).unwrap_err(), "Invalid timeout format");
        assert_eq!(
            LoadParams::from_headers(&headers(&[("strict_mode", "yes")]), false).unwrap_err(),
            "Invalid strict mode format. Must be bool type"
        );
        assert_eq!(
            LoadParams::from_headers(&headers(&[("compression", "gzip"), ("content-encoding", "gzip")]), false).unwrap_err(),
            "Only one of http header content-encoding and compression can be set"
        );
        let p = LoadParams::from_headers(&headers(&[("format", "JSON"), ("strip_outer_array", "TRUE"), ("max_filter_ratio", "junk")]), false).unwrap();
        assert_eq!((p.format, p.strip_outer_array, p.max_filter_ratio), (Format::Json, true, 0.0));
        assert_eq!(
            LoadParams::from_headers(&headers(&[("exec_mem_limit", "0")]), false).unwrap_err(),
            "exec_mem_limit must be greater than 0"
        );
        assert_eq!(
            LoadParams::from_headers(&headers(&[("load_mem_limit", "-5")]), false).unwrap_err(),
            "load_mem_limit must be equal or greater than 0"
        );
        assert!(LoadParams::from_headers(&headers(&[("log_rejected_record_num", "-1")]), false).is_ok());
        assert!(!LoadParams::from_headers(&headers(&[("partial_update", "yes")]), true).unwrap().partial_update);
    }
}

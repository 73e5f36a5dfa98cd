//! CSV records → rows (§4.1). Two paths: a fast splitter (memchr-based) when neither `enclose`
//! nor `escape` is set — the common case and the one benchmarks hit — and a byte-level state
//! machine for RFC4180-style quoting and escaping.

use std::borrow::Cow;

use memchr::memmem;

use super::convert::Src;
use super::params::LoadParams;
use super::plan::Plan;
use super::LoadOutput;

/// How StarRocks prints a delimiter in the column-count message: printable text as is,
/// `\n`/`\t`/`\r` escaped, anything else as hex.
pub fn render_delimiter(d: &[u8]) -> String {
    if d.iter().all(|b| matches!(b, b'\n' | b'\t' | b'\r') || (0x20..0x7f).contains(b)) {
        d.iter()
            .map(|&b| match b {
                b'\n' => "\\n".to_string(),
                b'\t' => "\\t".to_string(),
                b'\r' => "\\r".to_string(),
                b => (b as char).to_string(),
            })
            .collect()
    } else {
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        format!("0x{hex}")
    }
}

pub fn parse(plan: &Plan, p: &LoadParams, body: &[u8], out: &mut LoadOutput) {
    if p.enclose.is_some() || p.escape.is_some() {
        parse_quoted(plan, p, body, out);
    } else {
        parse_plain(plan, p, body, out);
    }
}

fn count_mismatch(plan: &Plan, p: &LoadParams, got: usize) -> String {
    format!(
        "Target column count: {} doesn't match source value column count: {}. Column separator: '{}', Row delimiter: '{}'",
        plan.sources.len(),
        got,
        render_delimiter(&p.column_separator),
        render_delimiter(&p.row_delimiter)
    )
}

fn field_src(f: &str, trim: bool) -> Src<'_> {
    let f = if trim { f.trim_matches(' ') } else { f };
    if f == "\\N" {
        Src::Null
    } else {
        Src::Text(Cow::Borrowed(f))
    }
}

fn parse_plain(plan: &Plan, p: &LoadParams, body: &[u8], out: &mut LoadOutput) {
    let row_finder = memmem::Finder::new(&p.row_delimiter);
    let col_finder = memmem::Finder::new(&p.column_separator);
    let n = plan.sources.len();
    let mut fields: Vec<Src> = Vec::with_capacity(n);
    let mut start = 0;
    let mut line_no = 0usize;
    while start < body.len() {
        let end = row_finder.find(&body[start..]).map(|i| start + i).unwrap_or(body.len());
        let rec = &body[start..end];
        start = end + p.row_delimiter.len();
        line_no += 1;
        if line_no <= p.skip_header || rec.is_empty() {
            continue;
        }
        let Ok(text) = std::str::from_utf8(rec) else {
            out.reject("Invalid UTF-8 row".into(), || String::from_utf8_lossy(rec).into_owned());
            continue;
        };
        fields.clear();
        let mut fs = 0;
        loop {
            match col_finder.find(&rec[fs..]) {
                Some(i) => {
                    fields.push(field_src(&text[fs..fs + i], p.trim_space));
                    fs += i + p.column_separator.len();
                }
                None => {
                    fields.push(field_src(&text[fs..], p.trim_space));
                    break;
                }
            }
        }
        if fields.len() != n {
            out.reject(count_mismatch(plan, p, fields.len()), || text.to_string());
            continue;
        }
        out.push(plan.build_row(&fields), || text.to_string());
    }
}

/// Enclose/escape-aware parser. Fields are unescaped into owned buffers; a field is NULL only
/// when its raw text is exactly `\N` and it was not enclosed.
fn parse_quoted(plan: &Plan, p: &LoadParams, body: &[u8], out: &mut LoadOutput) {
    let sep = &p.column_separator[..];
    let delim = &p.row_delimiter[..];
    let n = plan.sources.len();
    let mut pos = 0;
    let mut line_no = 0usize;
    while pos < body.len() {
        let rec_start = pos;
        let mut fields: Vec<(Vec<u8>, bool, bool)> = Vec::new(); // (bytes, enclosed, raw == \N)
        let mut cur: Vec<u8> = Vec::new();
        let mut enclosed = false;
        let mut in_quote = false;
        let mut field_start = pos;
        let mut at_field_start = true;
        let rec_end;
        loop {
            if pos >= body.len() {
                rec_end = pos;
                break;
            }
            let b = body[pos];
            if in_quote {
                if Some(b) == p.escape && pos + 1 < body.len() {
                    cur.push(body[pos + 1]);
                    pos += 2;
                } else if Some(b) == p.enclose {
                    if body.get(pos + 1).copied() == p.enclose {
                        cur.push(b);
                        pos += 2;
                    } else {
                        in_quote = false;
                        pos += 1;
                    }
                } else {
                    cur.push(b);
                    pos += 1;
                }
                continue;
            }
            if at_field_start && p.trim_space && b == b' ' {
                pos += 1;
                field_start = pos;
                continue;
            }
            if at_field_start && Some(b) == p.enclose {
                in_quote = true;
                enclosed = true;
                at_field_start = false;
                pos += 1;
                continue;
            }
            at_field_start = false;
            // Spaces between a closing enclose and the separator are not data.
            if enclosed && p.trim_space && b == b' ' {
                pos += 1;
                continue;
            }
            if body[pos..].starts_with(delim) {
                rec_end = pos;
                pos += delim.len();
                break;
            }
            if body[pos..].starts_with(sep) {
                let raw_null = !enclosed && &body[field_start..pos] == b"\\N";
                fields.push((finish(std::mem::take(&mut cur), p.trim_space && !enclosed), enclosed, raw_null));
                pos += sep.len();
                field_start = pos;
                enclosed = false;
                at_field_start = true;
                continue;
            }
            if Some(b) == p.escape && pos + 1 < body.len() {
                cur.push(body[pos + 1]);
                pos += 2;
                continue;
            }
            cur.push(b);
            pos += 1;
        }
        let raw_null = !enclosed && &body[field_start..rec_end] == b"\\N";
        fields.push((finish(cur, p.trim_space && !enclosed), enclosed, raw_null));
        let rec = &body[rec_start..rec_end];
        line_no += 1;
        if line_no <= p.skip_header || rec.is_empty() {
            continue;
        }
        let raw_text = || String::from_utf8_lossy(rec).into_owned();
        let mut texts = Vec::with_capacity(fields.len());
        let mut bad_utf8 = false;
        for (bytes, _, raw_null) in fields {
            match String::from_utf8(bytes) {
                Ok(s) => texts.push((s, raw_null)),
                Err(_) => bad_utf8 = true,
            }
        }
        if bad_utf8 {
            out.reject("Invalid UTF-8 row".into(), raw_text);
            continue;
        }
        if texts.len() != n {
            out.reject(count_mismatch(plan, p, texts.len()), raw_text);
            continue;
        }
        let srcs: Vec<Src> = texts.iter().map(|(s, null)| if *null { Src::Null } else { Src::Text(Cow::Borrowed(s.as_str())) }).collect();
        out.push(plan.build_row(&srcs), raw_text);
    }
}

fn finish(mut v: Vec<u8>, trim_end: bool) -> Vec<u8> {
    if trim_end {
        while v.last() == Some(&b' ') {
            v.pop();
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::plan::tests::schema;
    use starrocks_emulator_store::model::Value;

    fn run(headers: &[(&str, &str)], body: &str) -> LoadOutput {
        let mut h = hyper::HeaderMap::new();
        for (k, v) in headers {
            h.insert(hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let p = LoadParams::from_headers(&h, false).unwrap();
        let plan = Plan::new(schema(false), &p, false).unwrap();
        let mut out = LoadOutput::default();
        parse(&plan, &p, body.as_bytes(), &mut out);
        out
    }

    #[test]
    fn plain_rows_blank_lines_and_null() {
        let out = run(&[("column_separator", ",")], "1,a,2\n\n2,\\N,3\n3,b,4");
        assert_eq!((out.total, out.filtered, out.rows.len()), (3, 0, 3));
        assert_eq!(out.rows[1].values[1], None);
        assert_eq!(out.rows[2].values[2], Some(Value::Int(4)));
    }

    #[test]
    fn count_mismatch_is_filtered_with_message() {
        let out = run(&[("column_separator", ",")], "1,a,2\n4,dave\n");
        assert_eq!((out.total, out.filtered), (2, 1));
        assert_eq!(
            out.errors[0],
            "Error: Target column count: 3 doesn't match source value column count: 2. Column separator: ',', Row delimiter: '\\n'. Row: 4,dave"
        );
    }

    #[test]
    fn hex_delimiters_and_skip_header() {
        let out = run(&[("column_separator", "\\x01"), ("row_delimiter", "0x0D0A"), ("skip_header", "1")], "h\r\n1\x01a\x012\r\n2\x01b\x013\r\n");
        assert_eq!((out.total, out.rows.len()), (2, 2));
    }

    #[test]
    fn enclose_escape_and_trim() {
        let out = run(
            &[("column_separator", ","), ("enclose", "\""), ("escape", "\\"), ("trim_space", "true")],
            "1, \"a,b\" ,2\n2,\"x\"\"y\",3\n3,q\\,r,4\n",
        );
        assert_eq!(out.filtered, 0, "{:?}", out.errors);
        let names: Vec<_> = out.rows.iter().map(|r| r.values[1].clone()).collect();
        assert_eq!(names, vec![Some(Value::Str("a,b".into())), Some(Value::Str("x\"y".into())), Some(Value::Str("q,r".into()))]);
    }

    #[test]
    fn invalid_utf8_row() {
        let mut h = hyper::HeaderMap::new();
        h.insert("column_separator", ",".parse().unwrap());
        let p = LoadParams::from_headers(&h, false).unwrap();
        let plan = Plan::new(schema(false), &p, false).unwrap();
        let mut out = LoadOutput::default();
        parse(&plan, &p, b"1,\xff,2\n", &mut out);
        assert_eq!(out.filtered, 1);
        assert!(out.errors[0].starts_with("Error: Invalid UTF-8 row. Row: "));
    }
}

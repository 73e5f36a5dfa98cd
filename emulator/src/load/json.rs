//! JSON bodies → rows (§4.2). The fast path (no `jsonpaths`/`json_root`) parses the body once
//! with serde_json, capturing only the values of keys the plan wants as borrowed raw slices and
//! skipping the rest; that is what keeps ingest near serde_json's raw speed. `jsonpaths` and
//! `json_root` go through `serde_json::Value`, which is slower but simple.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value as Json;

use super::convert::Src;
use super::params::LoadParams;
use super::plan::Plan;
use super::LoadOutput;

/// Parse a whole JSON body into `out`. `Err` is a failure of the whole load (syntax or layout).
pub fn parse(plan: &Plan, p: &LoadParams, body: &[u8], out: &mut LoadOutput) -> Result<(), String> {
    let first = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(first) = first else { return Ok(()) }; // empty body: an empty load
    let c = body[first];
    if p.json_root.is_some() || p.jsonpaths.is_some() {
        return parse_with_paths(plan, p, body, out);
    }
    match (c, p.strip_outer_array) {
        (b'[', true) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let mut col = Collector::new(plan, out);
            de.deserialize_seq(ArrayVisitor(&mut col)).and_then(|_| de.end()).map_err(|e| array_error(&e))
        }
        (b'[', false) => Err("The value is array type in json document stream, you can set strip_outer_array=true to parse each element of the array as individual rows".into()),
        (b'{', true) => {
            let end = body.len().min(first + 64);
            Err(format!("the value should be array type with strip_outer_array=true, value: {}", String::from_utf8_lossy(&body[first..end])))
        }
        (b'{', false) => {
            let mut col = Collector::new(plan, out);
            let stream = serde_json::Deserializer::from_slice(body).into_iter::<&RawValue>();
            for doc in stream {
                let doc = doc.map_err(|e| stream_error(&e))?;
                let text = doc.get();
                if !text.starts_with('{') {
                    return Err(stream_error_msg("The JSON element does not have the requested type."));
                }
                let mut de = serde_json::Deserializer::from_str(text);
                col.raw_doc = Some(text);
                RowSeed(&mut col).deserialize(&mut de).map_err(|e| stream_error(&e))?;
            }
            Ok(())
        }
        (other, _) => Err(format!("illegal json started with {}", other as char)),
    }
}

/// simdjson's wording for the two error classes clients see most; serde_json's own messages
/// carry positions simdjson would not.
fn simdjson_text(e: &serde_json::Error) -> &'static str {
    if e.is_eof() && e.to_string().contains("string") {
        "A string is opened, but never closed."
    } else {
        "The JSON document has an improper structure: missing or superfluous commas, braces, missing keys, etc."
    }
}

fn array_error(e: &serde_json::Error) -> String {
    format!("Failed to parse json as array. error: {}", simdjson_text(e))
}

fn stream_error(e: &serde_json::Error) -> String {
    stream_error_msg(simdjson_text(e))
}

fn stream_error_msg(m: &str) -> String {
    format!("Failed to iterate document stream as object. error: {m}")
}

/// Per-load state shared by the seeds: the plan, the output and a reusable slot vector.
struct Collector<'p, 'de> {
    plan: &'p Plan,
    out: &'p mut LoadOutput,
    slots: Vec<Option<&'de RawValue>>,
    /// Reused per row so the hot loop allocates only what the stored row keeps.
    fields: Vec<Src<'de>>,
    /// The current document's text when the parser has it (document streams), for the error log.
    raw_doc: Option<&'de str>,
}

impl<'p, 'de> Collector<'p, 'de> {
    fn new(plan: &'p Plan, out: &'p mut LoadOutput) -> Self {
        Collector { plan, out, slots: vec![None; plan.sources.len()], fields: Vec::with_capacity(plan.sources.len()), raw_doc: None }
    }

    fn finish_row(&mut self) {
        self.fields.clear();
        self.fields.extend(self.slots.iter().map(|s| s.map(raw_src).unwrap_or(Src::Null)));
        let plan = self.plan;
        let slots = &self.slots;
        let raw_doc = self.raw_doc;
        self.out.push(plan.build_row(&self.fields), || {
            if let Some(doc) = raw_doc {
                return doc.to_string();
            }
            // Inside an array the fast path does not keep the element's text: the error log
            // shows the fields the plan read.
            let parts: Vec<String> = plan
                .sources
                .iter()
                .zip(slots)
                .filter_map(|(n, s)| s.map(|v| format!("{}:{}", serde_json::to_string(n).unwrap(), v.get())))
                .collect();
            format!("{{{}}}", parts.join(","))
        });
    }

    fn not_object(&mut self, shown: String) {
        self.out.reject("JSON data is not an object".into(), || shown);
    }
}

fn raw_src(raw: &RawValue) -> Src<'_> {
    let s = raw.get().trim();
    match s.as_bytes().first() {
        Some(b'"') => {
            let inner = &s[1..s.len() - 1];
            if inner.contains('\\') {
                Src::JsonStr(Cow::Owned(serde_json::from_str::<String>(s).unwrap_or_default()))
            } else {
                Src::JsonStr(Cow::Borrowed(inner))
            }
        }
        Some(b'n') => Src::Null,
        Some(b't') => Src::Bool(true),
        Some(b'f') => Src::Bool(false),
        Some(b'{') | Some(b'[') => Src::Nested(s),
        _ => Src::Num(s),
    }
}

struct ArrayVisitor<'c, 'p, 'de>(&'c mut Collector<'p, 'de>);

impl<'c, 'p, 'de> Visitor<'de> for ArrayVisitor<'c, 'p, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(RowSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// One array element or stream document: an object becomes a row, anything else a filtered row.
struct RowSeed<'c, 'p, 'de>(&'c mut Collector<'p, 'de>);

impl<'c, 'p, 'de> DeserializeSeed<'de> for RowSeed<'c, 'p, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'c, 'p, 'de> Visitor<'de> for RowSeed<'c, 'p, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let c = self.0;
        c.slots.iter_mut().for_each(|s| *s = None);
        while let Some(key) = m.next_key_seed(KeySeed)? {
            // Exact-name match, as StarRocks matches JSON keys; last duplicate wins.
            match c.plan.sources.iter().position(|n| n.as_str() == key.as_ref()) {
                Some(i) => c.slots[i] = Some(m.next_value::<&'de RawValue>()?),
                None => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        c.finish_row();
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.0.not_object("[...]".into());
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.not_object(serde_json::to_string(v).unwrap());
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.not_object(v.to_string());
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0.not_object(v.to_string());
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0.not_object(v.to_string());
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.not_object(v.to_string());
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.not_object("null".into());
        Ok(())
    }
}

/// Object keys, borrowed from the body unless they contain escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

// ---- slow path: json_root / jsonpaths ---------------------------------------------------------

/// One step of the supported JsonPath subset: `$`, `.name`, `['name']`/`["name"]`, `[index]`.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let bad = || format!("Invalid json path: {path}");
    let rest = path.trim().strip_prefix('$').ok_or_else(bad)?;
    let mut steps = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j == start {
                    return Err(bad());
                }
                steps.push(Step::Key(rest[start..j].to_string()));
                i = j;
            }
            b'[' => {
                let close = rest[i..].find(']').ok_or_else(bad)? + i;
                let inner = rest[i + 1..close].trim();
                if (inner.starts_with('\'') && inner.ends_with('\'') || inner.starts_with('"') && inner.ends_with('"')) && inner.len() >= 2 {
                    steps.push(Step::Key(inner[1..inner.len() - 1].to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().map_err(|_| bad())?));
                }
                i = close + 1;
            }
            _ => return Err(bad()),
        }
    }
    Ok(steps)
}

fn walk<'v>(mut v: &'v Json, steps: &[Step]) -> Option<&'v Json> {
    for s in steps {
        v = match s {
            Step::Key(k) => v.as_object()?.get(k)?,
            Step::Index(i) => v.as_array()?.get(*i)?,
        };
    }
    Some(v)
}

enum Owned {
    Null,
    Str(String),
    Num(String),
    Bool(bool),
    Nested(String),
}

impl Owned {
    fn of(v: Option<&Json>) -> Owned {
        match v {
            None | Some(Json::Null) => Owned::Null,
            Some(Json::String(s)) => Owned::Str(s.clone()),
            Some(Json::Number(n)) => Owned::Num(n.to_string()),
            Some(Json::Bool(b)) => Owned::Bool(*b),
            Some(other) => Owned::Nested(other.to_string()),
        }
    }
    fn src(&self) -> Src<'_> {
        match self {
            Owned::Null => Src::Null,
            Owned::Str(s) => Src::JsonStr(Cow::Borrowed(s)),
            Owned::Num(s) => Src::Num(s),
            Owned::Bool(b) => Src::Bool(*b),
            Owned::Nested(s) => Src::Nested(s),
        }
    }
}

fn parse_with_paths(plan: &Plan, p: &LoadParams, body: &[u8], out: &mut LoadOutput) -> Result<(), String> {
    let root = p.json_root.as_deref().map(parse_path).transpose()?;
    let paths = match &p.jsonpaths {
        Some(ps) => Some(ps.iter().map(|s| parse_path(s)).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    let mut docs: Vec<Json> = Vec::new();
    for doc in serde_json::Deserializer::from_slice(body).into_iter::<Json>() {
        docs.push(doc.map_err(|e| stream_error(&e))?);
    }
    // Without json_root, an outer array with strip_outer_array yields its elements as rows.
    let mut rows: Vec<&Json> = Vec::new();
    for doc in &docs {
        let v = match &root {
            Some(steps) => match walk(doc, steps) {
                Some(v) => v,
                None => {
                    out.reject("JSON Root not found".into(), || doc.to_string());
                    continue;
                }
            },
            None => doc,
        };
        match (v, p.strip_outer_array) {
            (Json::Array(items), true) => rows.extend(items.iter()),
            (Json::Array(_), false) => return Err("The value is array type in json document stream, you can set strip_outer_array=true to parse each element of the array as individual rows".into()),
            (other, true) => {
                let t = other.to_string();
                return Err(format!("the value should be array type with strip_outer_array=true, value: {}", &t[..t.len().min(64)]));
            }
            (other, false) => rows.push(other),
        }
    }
    for row in rows {
        if !row.is_object() {
            out.reject("JSON data is not an object".into(), || row.to_string());
            continue;
        }
        let owned: Vec<Owned> = match &paths {
            Some(ps) => (0..plan.sources.len()).map(|i| Owned::of(ps.get(i).and_then(|steps| walk(row, steps)))).collect(),
            None => plan.sources.iter().map(|n| Owned::of(row.get(n))).collect(),
        };
        let fields: Vec<Src> = owned.iter().map(Owned::src).collect();
        out.push(plan.build_row(&fields), || row.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::plan::tests::schema;
    use starrocks_emulator_store::model::{RowOp, Value};

    fn run(headers: &[(&str, &str)], pk: bool, body: &str) -> Result<LoadOutput, String> {
        let mut h = hyper::HeaderMap::new();
        h.insert("format", "json".parse().unwrap());
        for (k, v) in headers {
            h.insert(hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let p = LoadParams::from_headers(&h, false).unwrap();
        let plan = Plan::new(schema(pk), &p, true).unwrap();
        let mut out = LoadOutput::default();
        parse(&plan, &p, body.as_bytes(), &mut out).map(|_| out)
    }

    #[test]
    fn array_with_strip_outer_array() {
        let out = run(&[("strip_outer_array", "true")], false, r#"[{"id":1,"name":"a\"b","score":2,"x":{"y":1}},{"id":2,"score":3}]"#).unwrap();
        assert_eq!((out.total, out.rows.len()), (2, 2));
        assert_eq!(out.rows[0].values[1], Some(Value::Str("a\"b".into())));
        assert_eq!(out.rows[1].values[1], None, "missing key is NULL");
    }

    #[test]
    fn ndjson_stream_and_op() {
        let out = run(&[], true, "{\"id\":1,\"score\":1}\n{\"id\":2,\"score\":1,\"__op\":1}\n").unwrap();
        assert_eq!(out.rows.iter().map(|r| r.op).collect::<Vec<_>>(), vec![RowOp::Upsert, RowOp::Delete]);
    }

    #[test]
    fn layout_errors() {
        assert!(run(&[], false, "[{\"id\":1}]").unwrap_err().starts_with("The value is array type in json document stream"));
        assert!(run(&[("strip_outer_array", "true")], false, "{\"id\":1}").unwrap_err().starts_with("the value should be array type with strip_outer_array=true, value: {\"id\":1}"));
        assert_eq!(run(&[], false, "x").unwrap_err(), "illegal json started with x");
        assert_eq!(
            run(&[("strip_outer_array", "true")], false, "[{\"id\":\"1}]").unwrap_err(),
            "Failed to parse json as array. error: A string is opened, but never closed."
        );
        assert!(run(&[], false, "{\"id\":1}{").unwrap_err().starts_with("Failed to iterate document stream as object."));
    }

    #[test]
    fn filtered_rows_are_logged_with_fields() {
        let out = run(&[("strip_outer_array", "true")], false, r#"[{"id":"x","score":1}, 5]"#).unwrap();
        assert_eq!(out.filtered, 2);
        assert_eq!(out.errors[0], "Error: NULL value in non-nullable column 'id'. Row: {\"id\":\"x\",\"score\":1}");
        assert_eq!(out.errors[1], "Error: JSON data is not an object. Row: 5");
    }

    #[test]
    fn stream_documents_are_logged_verbatim() {
        let out = run(&[], false, "{\"id\": \"x\", \"other\": 1}\n{\"id\":2,\"score\":1}").unwrap();
        assert_eq!(out.errors, vec!["Error: NULL value in non-nullable column 'id'. Row: {\"id\": \"x\", \"other\": 1}"]);
    }

    #[test]
    fn jsonpaths_and_root() {
        let out = run(
            &[("jsonpaths", r#"["$.k", "$.v.n"]"#), ("columns", "id,score"), ("json_root", "$.data"), ("strip_outer_array", "true")],
            false,
            r#"{"data":[{"k":1,"v":{"n":5}},{"k":2,"v":{}}]}"#,
        )
        .unwrap();
        assert_eq!(out.rows[0].values, vec![Some(Value::Int(1)), None, Some(Value::Int(5))]);
        assert_eq!(out.filtered, 1, "path matching nothing is NULL into NOT NULL score");
        assert_eq!(parse_path("$['a'][2].b").unwrap(), vec![Step::Key("a".into()), Step::Index(2), Step::Key("b".into())]);
    }
}

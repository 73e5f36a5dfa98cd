use bumpalo::Bump;
use crate::boundary::builder::{s, BatchBuilder, S, V};
use crate::boundary::decode;

/// Serializes the single record's value; `None` for a tombstone.
fn row(v: V) -> crate::Result<Option<String>> {
    let mut b = BatchBuilder::new();
    b.record("t", 4, 99, v);
    let buf = b.build();
    let arena = Bump::new();    let batch = decode(&buf, &arena).unwrap();
    let mut out = b"prefix".to_vec();
    let wrote = crate::rows::RowWriter::json().append_row(&batch, &batch.records[0], &mut out);
    match wrote {
        Ok(true) => Ok(Some(String::from_utf8(out[6..].to_vec()).unwrap())),
        Ok(false) => {
            assert_eq!(out, b"prefix");
            Ok(None)
        }
        Err(e) => {
            assert_eq!(out, b"prefix", "a failed row must leave the buffer untouched");
            Err(e)
        }
    }
}

fn ok(v: V) -> String {
    row(v).unwrap().unwrap()
}

/// The JSON text of `v` as a field value (a row itself must be an object).
fn val(v: V) -> String {
    let out = ok(V::Struct(S::fields(&["v"]), vec![v]));
    out["{\"v\":".len()..out.len() - 1].to_string()
}

#[test]
fn struct_fields_in_schema_order_with_nested_values() {
    let sc = S::fields(&["z", "a", "m"]);
    let v = V::Struct(sc, vec![V::I32(1), V::Array(vec![V::Null, V::Bool(true)]), V::Map(vec![(V::I64(7), s("x"))])]);
    assert_eq!(ok(v), r#"{"z":1,"a":[null,true],"m":{"7":"x"}}"#);
}

#[test]
fn tombstone_writes_nothing() {
    assert_eq!(row(V::Null).unwrap(), None);
}

#[test]
fn whole_value_json_string_passes_through_but_nested_strings_are_quoted() {
    assert_eq!(ok(s(" {\"id\":2, \"c\":\"LA\"} ")), "{\"id\":2, \"c\":\"LA\"}");
    assert_eq!(ok(V::Bytes(b"{\"a\":1}".to_vec())), "{\"a\":1}");
    let sc = S::fields(&["j"]);
    assert_eq!(ok(V::Struct(sc, vec![s("{\"a\":1}")])), r#"{"j":"{\"a\":1}"}"#);
    let e = row(s("{not json")).unwrap_err();
    assert_eq!(e.kind, crate::ErrorKind::Data);
    assert!(e.message.contains("topic t, partition 4, offset 99"), "{}", e.message);
}

#[test]
fn a_value_that_is_not_an_object_is_a_bad_record_not_a_row() {
    let cases: Vec<(V, &str)> = vec![
        (s("this is not json {"), "text that is not a JSON object"),
        (V::Bytes(b"this is not json {".to_vec()), "text that is not a JSON object"),
        (V::Bytes(vec![0xff, 0xfe]), "text that is not a JSON object"),
        (s("42"), "text that is not a JSON object"),
        (s("[{\"id\":1},{\"id\":2}]"), "text that is not a JSON object"),
        (V::I64(42), "a number"),
        (V::Bool(true), "a boolean"),
        (V::Array(vec![V::Map(vec![(s("id"), V::I32(1))])]), "an array"),
        (V::Named(S::named("io.debezium.data.Json"), Box::new(s("[1,2]"))), "an array"),
    ];
    for (v, what) in cases {
        let e = row(v.clone()).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Data, "{:?}", v);
        assert!(e.message.contains(what), "{:?}: {}", v, e.message);
        assert!(e.message.contains("not a row") && e.message.contains("topic t, partition 4, offset 99"), "{}", e.message);
    }
    let long = "x".repeat(500);
    let e = row(s(&long)).unwrap_err();
    assert!(e.message.len() < 300 && e.message.contains("..."), "{}", e.message);
}

#[test]
fn nan_and_infinity_are_data_errors() {
    for v in [V::F64(f64::NAN), V::F32(f32::INFINITY), V::Array(vec![V::F64(f64::NEG_INFINITY)])] {
        let e = row(v).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Data);
        assert!(e.message.contains("offset 99"));
    }
}

#[test]
fn floats_use_shortest_representation() {
    assert_eq!(val(V::Array(vec![V::F32(0.1), V::F64(0.1), V::F64(-0.25)])), "[0.1,0.1,-0.25]");
}

#[test]
fn bytes_text_or_base64_and_escapes() {
    assert_eq!(val(V::Array(vec![V::Bytes(vec![0xff, 0, 1]), V::Bytes(b"hi".to_vec())])), r#"["/wAB","hi"]"#);
    assert_eq!(val(s("a\"b\\c\n\u{1}é")), r#""a\"b\\c\n\u0001é""#);
}

#[test]
fn logical_and_debezium_types() {
    let named = |n: &str, v: V| V::Named(S::named(n), Box::new(v));
    let sc = S::fields(&["d", "t", "ts", "dec", "dd", "dt", "mt", "nt", "dts", "mts", "nts", "zts", "js", "other"]);
    let v = V::Struct(
        sc,
        vec![
            V::Date(-1),
            V::Time(3_723_004),
            V::Timestamp(-1),
            V::Decimal(3, vec![0xff, 0xfb]),
            named("io.debezium.time.Date", V::I32(19_782)),
            named("io.debezium.time.Time", V::I32(1_000)),
            named("io.debezium.time.MicroTime", V::I64(1_000_001)),
            named("io.debezium.time.NanoTime", V::I64(1_000_001_999)),
            named("io.debezium.time.Timestamp", V::I64(1_714_566_896_000)),
            named("io.debezium.time.MicroTimestamp", V::I64(-1)),
            named("io.debezium.time.NanoTimestamp", V::I64(1_500)),
            named("io.debezium.time.ZonedTimestamp", s("2024-05-01T12:00:00Z")),
            named("io.debezium.data.Json", s("{\"k\":[1]}")),
            named("com.example.Whatever", V::I16(5)),
        ],
    );
    assert_eq!(
        ok(v),
        concat!(
            r#"{"d":"1969-12-31","t":"01:02:03.004000","ts":"1969-12-31 23:59:59.999000","dec":"-0.005","#,
            r#""dd":"2024-02-29","dt":"00:00:01","mt":"00:00:01.000001","nt":"00:00:01.000001","#,
            r#""dts":"2024-05-01 12:34:56","mts":"1969-12-31 23:59:59.999999","nts":"1970-01-01 00:00:00.000001","#,
            r#""zts":"2024-05-01 12:00:00","js":{"k":[1]},"other":5}"#
        )
    );
}

#[test]
fn key_fields_fill_what_the_value_lacks() {
    let mut b = BatchBuilder::new();
    let key = V::Struct(S::fields(&["id", "region"]), vec![V::I64(7), s("eu")]);
    let value = V::Struct(S::fields(&["region", "name"]), vec![s("us"), s("x")]);
    b.record_full("t", "t", 0, 1, i64::MIN, key, value);
    let buf = b.build();
    let arena = Bump::new();    let batch = decode(&buf, &arena).unwrap();
    let mut out = Vec::new();
    crate::rows::RowWriter::json().append_row(&batch, &batch.records[0], &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), r#"{"region":"us","name":"x","id":7}"#);
}

#[test]
fn timestamps_go_to_the_configured_zone_but_debezium_local_times_do_not() {
    let mut b = BatchBuilder::new();
    let named = |n: &str, v: V| V::Named(S::named(n), Box::new(v));
    let v = V::Struct(S::fields(&["a", "b", "c", "d"]), vec![
        V::Timestamp(0),
        named("io.debezium.time.ZonedTimestamp", s("1970-01-01T00:00:00Z")),
        named("io.debezium.time.MicroTimestamp", V::I64(0)),
        named("io.debezium.data.VariableScaleDecimal", V::Null),
    ]);
    b.record("t", 0, 1, v);
    let buf = b.build();
    let arena = Bump::new();    let batch = decode(&buf, &arena).unwrap();
    let w = crate::rows::RowWriter { format: crate::rows::RowFormat::Json, zone: crate::rows::zone::Zone::parse("Asia/Tokyo").unwrap(), offset_column: None, key_column: None };
    let mut out = Vec::new();
    w.append_row(&batch, &batch.records[0], &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"a":"1970-01-01 09:00:00","b":"1970-01-01 09:00:00","c":"1970-01-01 00:00:00","d":null}"#
    );
}

#[test]
fn variable_scale_decimal_is_exact() {
    let vsd = S { name: Some("io.debezium.data.VariableScaleDecimal".into()), ..S::fields(&["scale", "value"]) };
    let v = V::Array(vec![V::Struct(vsd, vec![V::I32(2), V::Bytes(vec![0x30, 0x39])])]);
    assert_eq!(val(v), r#"["123.45"]"#);
}

#[test]
fn schemaless_debezium_envelopes_are_unwrapped() {
    let env = |op: &str, before: V, after: V| {
        V::Map(vec![(s("before"), before), (s("after"), after), (s("source"), V::Map(vec![])), (s("op"), s(op)), (s("ts_ms"), V::I64(1))])
    };
    let row = |id: i64| V::Map(vec![(s("id"), V::I64(id)), (s("name"), s("a"))]);
    assert_eq!(ok(env("c", V::Null, row(1))), r#"{"id":1,"name":"a","__op":0}"#);
    assert_eq!(ok(env("r", V::Null, row(1))), r#"{"id":1,"name":"a","__op":0}"#);
    assert_eq!(ok(env("d", row(2), V::Null)), r#"{"id":2,"name":"a","__op":1}"#);
    // AddOpFieldForDebeziumRecord already put __op in the row
    let with_op = V::Map(vec![(s("id"), V::I64(3)), (s("__op"), V::I32(0))]);
    assert_eq!(ok(env("u", row(3), with_op)), r#"{"id":3,"__op":0}"#);
    assert_eq!(row_of(env("t", V::Null, V::Null)), None);
    // not an envelope: no source
    let plain = V::Map(vec![(s("op"), s("c")), (s("before"), V::Null), (s("after"), V::Null)]);
    assert_eq!(ok(plain), r#"{"op":"c","before":null,"after":null}"#);
}

fn row_of(v: V) -> Option<String> {
    row(v).unwrap()
}

#[test]
fn the_offset_column_goes_into_every_object_row() {
    let write = |v: V| {
        let mut b = BatchBuilder::new();
        b.record("t", 4, 42, v);
        let buf = b.build();
        let arena = Bump::new();
        let batch = decode(&buf, &arena).unwrap();
        let w = crate::rows::RowWriter { offset_column: Some("kafka_offset".into()), ..crate::rows::RowWriter::json() };
        let mut out = b"xx".to_vec();
        let wrote = w.append_row(&batch, &batch.records[0], &mut out).unwrap();
        (wrote, String::from_utf8(out).unwrap())
    };
    assert_eq!(write(V::Struct(S::fields(&["a"]), vec![V::I32(1)])), (true, r#"xx{"a":1,"kafka_offset":42}"#.to_string()));
    assert_eq!(write(V::Map(vec![])), (true, r#"xx{"kafka_offset":42}"#.to_string()));
    assert_eq!(write(V::Null), (false, "xx".to_string()), "a tombstone makes no row");
}

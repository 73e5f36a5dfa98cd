//! Decodes every case of tests/vectors/boundary.json (written by the Java shim's tests).
//! Fails loudly if the file is missing: decodes each `hex`, serializes each record value as
//! a JSON row and compares it with `rows` (`null` = tombstone, no row).

use std::path::Path;

use starrocks_sink_core::rows::RowWriter;

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

#[test]
fn every_vector_decodes_with_the_expected_record_count() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/boundary.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("test vectors missing at {}: {}", path.display(), e));
    let cases: serde_json::Value = serde_json::from_str(&text).expect("boundary.json is JSON");
    let cases = cases.as_array().expect("a list of cases");
    assert!(!cases.is_empty(), "no test vectors");
    let mut checked = 0;
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let buf = unhex(case["hex"].as_str().expect("hex"));
        let arena = starrocks_sink_core::boundary::Bump::new();
        let batch = starrocks_sink_core::boundary::decode(&buf, &arena)
            .unwrap_or_else(|e| panic!("case {}: {}", name, e));
        let rows = case["rows"].as_array().expect("rows");
        assert_eq!(batch.records.len(), rows.len(), "case {}: record count", name);
        for (i, (rec, want)) in batch.records.iter().zip(rows).enumerate() {
            let mut out = Vec::new();
            let wrote = RowWriter::json()
                .append_row(&batch, rec, &mut out)
                .unwrap_or_else(|e| panic!("case {} record {}: {}", name, i, e));
            if want.is_null() {
                assert!(!wrote && out.is_empty(), "case {} record {}: expected no row", name, i);
                continue;
            }
            assert!(wrote, "case {} record {}: expected a row", name, i);
            let text = String::from_utf8(out).expect("rows are UTF-8");
            let got: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("case {} record {}: invalid JSON {}: {}", name, i, text, e));
            assert_eq!(&got, want, "case {} record {}: row {}", name, i, text);
            checked += 1;
        }
    }
    assert!(checked > 10, "only {} rows compared", checked);
}

/// The `field_schemas` case as the Java encoder wrote it: each field's schema is in the table,
/// numbered in definition order (a nested definition takes the indices after its parent's).
#[test]
fn field_schemas_vector_carries_each_fields_schema() {
    use starrocks_sink_core::boundary::SchemaKind;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/boundary.json");
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let case = cases.as_array().unwrap().iter().find(|c| c["name"] == "field_schemas").expect("a field_schemas case");
    let buf = unhex(case["hex"].as_str().unwrap());
    let arena = starrocks_sink_core::boundary::Bump::new();
    let batch = starrocks_sink_core::boundary::decode(&buf, &arena).unwrap();
    // 0 the shipment, 1 the decimal, 2 the address, 3 STRING, 4 optional STRING, 5 INT64, 6 MicroTimestamp
    assert_eq!(batch.schemas.len(), 7, "{:#?}", batch.schemas);
    let shipment = batch.schema(0);
    assert_eq!(
        (shipment.kind, shipment.optional, shipment.name, shipment.version),
        (SchemaKind::Struct, false, Some("example.Shipment"), 2)
    );
    assert_eq!(shipment.field_schemas, vec![1, 2, 5, 4, 6]);
    let got: Vec<_> = batch.fields(0).map(|(n, f)| (n, f.kind, f.optional, f.name)).collect();
    assert_eq!(
        got,
        vec![
            ("price", SchemaKind::Bytes, true, Some("org.apache.kafka.connect.data.Decimal")),
            ("ship_to", SchemaKind::Struct, true, Some("example.Address")),
            ("id", SchemaKind::Int64, false, None),
            ("note", SchemaKind::String, true, None),
            ("updated", SchemaKind::Int64, true, Some("io.debezium.time.MicroTimestamp")),
        ]
    );
    let mut params = batch.field_schema(0, 0).params.clone();
    params.sort();
    assert_eq!(params, vec![("connect.decimal.precision", "10"), ("scale", "2")]);
    let ship_to: Vec<_> = batch.fields(2).map(|(n, f)| (n, f.kind, f.optional)).collect();
    assert_eq!(ship_to, vec![("city", SchemaKind::String, false), ("zip", SchemaKind::String, true)]);
}

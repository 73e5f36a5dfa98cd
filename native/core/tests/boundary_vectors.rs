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

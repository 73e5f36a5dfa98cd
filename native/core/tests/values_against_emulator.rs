//! Every value shape lands as the right StarRocks value, in JSON and in CSV: records built as
//! the shim encodes them go through the sink into the real emulator over HTTP, and the table is
//! read back through its SQL engine. Expected values are what StarRocks stores for them.

mod common;

use common::document;
use std::collections::HashMap;

use starrocks_emulator::{EmulatorConfig, RunningEmulator};
use starrocks_sink_core::Delivery;
use starrocks_sink_core::boundary::builder::{s, BatchBuilder, S, V};
use starrocks_sink_core::log::Log;
use starrocks_sink_core::{ErrorKind, Sink};
use tokio::runtime::Runtime;

const COLUMNS: &[(&str, &str)] = &[
    ("id", "BIGINT NOT NULL"),
    ("ti", "TINYINT"),
    ("si", "SMALLINT"),
    ("i", "INT"),
    ("bi", "BIGINT"),
    ("f", "FLOAT"),
    ("d", "DOUBLE"),
    ("dec", "DECIMAL(10, 3)"),
    ("b", "BOOLEAN"),
    ("s", "VARCHAR(200)"),
    ("dt", "DATE"),
    ("ts", "DATETIME"),
    ("nested", "STRING"),
];

/// One row: the Connect values of the columns after `id`, and what StarRocks must show.
struct Case {
    values: Vec<V>,
    expected: Vec<Option<&'static str>>,
}

fn named(n: &str, v: V) -> V {
    V::Named(S::named(n), Box::new(v))
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            values: vec![
                V::I8(i8::MAX),
                V::I16(i16::MIN),
                V::I32(i32::MAX),
                V::I64(i64::MIN),
                V::F32(0.5),
                V::F64(-1.25),
                V::Decimal(3, vec![0x49, 0x96, 0x02, 0xd3]), // 1234567.891
                V::Bool(true),
                s("plain"),
                V::Date(19_782),
                V::Timestamp(1_714_566_896_789),
                V::Array(vec![V::I32(1), s("two")]),
            ],
            expected: vec![
                Some("127"), Some("-32768"), Some("2147483647"), Some("-9223372036854775808"), Some("0.5"),
                Some("-1.25"), Some("1234567.891"), Some("1"), Some("plain"), Some("2024-02-29"),
                Some("2024-05-01 12:34:56.789000"), Some(r#"[1,"two"]"#),
            ],
        },
        Case {
            values: vec![
                V::I8(i8::MIN),
                V::I16(i16::MAX),
                V::I32(i32::MIN),
                V::I64(i64::MAX),
                V::F32(-3.0),
                V::F64(0.1),
                V::Decimal(3, vec![0xff, 0xfb]), // -0.005
                V::Bool(false),
                s("quotes \" and 'single', comma, tab\tnew\nline é 中"),
                V::Date(-1),
                V::Timestamp(-1_000),
                V::Map(vec![(s("k"), V::Null)]),
            ],
            expected: vec![
                Some("-128"), Some("32767"), Some("-2147483648"), Some("9223372036854775807"), Some("-3"),
                Some("0.1"), Some("-0.005"), Some("0"), Some("quotes \" and 'single', comma, tab\tnew\nline é 中"),
                Some("1969-12-31"), Some("1969-12-31 23:59:59"), Some(r#"{"k":null}"#),
            ],
        },
        Case {
            // Debezium's types, and NULLs everywhere nullable
            values: vec![
                V::Null,
                V::Null,
                V::Null,
                named("io.debezium.time.Year", V::I32(2024)),
                V::Null,
                V::Null,
                V::Struct(
                    S { name: Some("io.debezium.data.VariableScaleDecimal".into()), ..S::fields(&["scale", "value"]) },
                    vec![V::I32(1), V::Bytes(vec![0x04, 0xd2])], // 123.4
                ),
                V::Null,
                named("io.debezium.time.ZonedTimestamp", s("2024-01-02T03:04:05.5+01:00")),
                named("io.debezium.time.Date", V::I32(0)),
                named("io.debezium.time.MicroTimestamp", V::I64(-1)),
                named("io.debezium.data.Json", s(r#"{"a":[1,2]}"#)),
            ],
            expected: vec![
                None, None, None, Some("2024"), None, None, Some("123.400"), None, Some("2024-01-02 02:04:05.500000"),
                Some("1970-01-01"), Some("1969-12-31 23:59:59.999999"), Some(r#"{"a":[1,2]}"#),
            ],
        },
    ]
}

struct Env {
    rt: Runtime,
    emu: Option<RunningEmulator>,
}

impl Env {
    fn start() -> Env {
        let rt = Runtime::new().unwrap();
        let emu = rt.block_on(starrocks_emulator::start(EmulatorConfig::default())).expect("emulator starts");
        let env = Env { rt, emu: Some(emu) };
        env.sql("CREATE DATABASE d");
        env
    }

    fn sql(&self, q: &str) -> Vec<Vec<Option<String>>> {
        self.emu.as_ref().unwrap().execute(q).unwrap_or_else(|e| panic!("{}: {}", q, e)).rows
    }

    fn create(&self, table: &str) {
        let cols: Vec<String> = COLUMNS.iter().map(|(n, t)| format!("`{}` {}", n, t)).collect();
        self.sql(&format!(
            "CREATE TABLE d.{} ({}) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
            table,
            cols.join(", ")
        ));
    }

    fn sink(&self, table: &str, extra: &[(&str, &str)]) -> Sink {
        let mut m: HashMap<String, String> = [
            ("name", "values-it"),
            ("starrocks.database.name", "d"),
            ("starrocks.username", "root"),
            ("starrocks.password", ""),
            ("bufferflush.intervalms", "3600000"),
            ("sink.maxretries", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        m.insert("starrocks.http.url".into(), format!("127.0.0.1:{}", self.emu.as_ref().unwrap().fe_http_port));
        m.insert("starrocks.topic2table.map".into(), format!("topic:{}", table));
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        Sink::open(&document(&m), Log::new(3)).unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}

fn batch(cases: &[Case]) -> Vec<u8> {
    let names: Vec<&str> = COLUMNS.iter().map(|(n, _)| *n).collect();
    let schema = S::fields(&names);
    let mut b = BatchBuilder::new();
    for (i, c) in cases.iter().enumerate() {
        let mut fields = vec![V::I64(i as i64)];
        fields.extend(c.values.iter().cloned());
        b.record("topic", 0, i as i64, V::Struct(schema.clone(), fields));
    }
    b.build()
}

fn check(env: &Env, table: &str, cases: &[Case]) {
    let names: Vec<String> = COLUMNS.iter().skip(1).map(|(n, _)| format!("`{}`", n)).collect();
    let rows = env.sql(&format!("SELECT {} FROM d.{} ORDER BY id", names.join(", "), table));
    assert_eq!(rows.len(), cases.len(), "rows in {}", table);
    for (i, (row, case)) in rows.iter().zip(cases).enumerate() {
        for (j, (got, want)) in row.iter().zip(&case.expected).enumerate() {
            assert_eq!(got.as_deref(), *want, "{}: case {} column {}", table, i, COLUMNS[j + 1].0);
        }
    }
}

fn load(env: &Env, table: &str, extra: &[(&str, &str)]) {
    env.create(table);
    let cases = cases();
    let mut sink = env.sink(table, extra);
    sink.put(&batch(&cases)).unwrap();
    let offsets = sink.pre_commit().unwrap_or_else(|e| panic!("{}: {}", table, e));
    assert_eq!(offsets.get(&("topic".to_string(), 0)), Some(&(cases.len() as i64)));
    check(env, table, &cases);
}

#[test]
fn json_lines() {
    load(&Env::start(), "j_lines", &[]);
}

#[test]
fn json_array() {
    load(&Env::start(), "j_array", &[("sink.properties.strip_outer_array", "true")]);
}

#[test]
fn csv_default_separators() {
    load(&Env::start(), "c_tab", &[("sink.properties.format", "csv")]);
}

#[test]
fn csv_multibyte_hex_separators() {
    load(
        &Env::start(),
        "c_hex",
        &[
            ("sink.properties.format", "csv"),
            ("sink.properties.column_separator", "\\x0102"),
            ("sink.properties.row_delimiter", "0x0D0A"),
        ],
    );
}

#[test]
fn nan_and_infinity_are_refused_naming_the_record() {
    let env = Env::start();
    env.create("nan");
    let mut sink = env.sink("nan", &[]);
    let mut c = cases().remove(0);
    c.values[5] = V::F64(f64::NAN);
    // rows are written off the task thread: the error comes with the next call
    sink.put(&batch(&[c])).unwrap();
    let e = sink.pre_commit().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Data);
    assert_eq!(sink.put(&batch(&[])).unwrap_err().message, e.message, "the sink stays failed");
    assert!(e.message.contains("NaN") && e.message.contains("offset 0"), "{}", e.message);
}

#[test]
fn json_lz4_frame() {
    load(&Env::start(), "j_lz4", &[("sink.properties.compression", "lz4_frame")]);
}

#[test]
fn csv_gzip() {
    load(&Env::start(), "c_gz", &[("sink.properties.format", "csv"), ("sink.properties.compression", "gzip")]);
}

#[test]
fn decimals_at_the_precision_and_scale_limits_are_exact() {
    let env = Env::start();
    env.sql(
        "CREATE TABLE d.dec (id BIGINT NOT NULL, big DECIMAL(38, 0), tiny DECIMAL(38, 38), mid DECIMAL(27, 9)) \
         DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    );
    // unscaled values as big-endian two's complement, as Connect's Decimal carries them
    let be = |v: i128| {
        let bytes = v.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0 || **b == 0xff).count().min(15);
        let keep = if (bytes[skip] & 0x80 != 0) != (v < 0) { skip - 1 } else { skip };
        bytes[keep..].to_vec()
    };
    let nines: i128 = 99_999_999_999_999_999_999_999_999_999_999_999_999; // 38 digits
    let schema = S::fields(&["id", "big", "tiny", "mid"]);
    let mut b = BatchBuilder::new();
    b.record("topic", 0, 0, V::Struct(schema.clone(), vec![V::I64(0), V::Decimal(0, be(nines)), V::Decimal(38, be(1)), V::Decimal(9, be(-123_456_789_012_345_678))]));
    b.record("topic", 0, 1, V::Struct(schema, vec![V::I64(1), V::Decimal(0, be(-nines)), V::Decimal(38, be(-nines)), V::Decimal(9, be(5))]));
    let mut sink = env.sink("dec", &[]);
    sink.put(&b.build()).unwrap();
    sink.pre_commit().unwrap();
    let rows = env.sql("SELECT big, tiny, mid FROM d.dec ORDER BY id");
    let text: Vec<Vec<String>> = rows.into_iter().map(|r| r.into_iter().map(|v| v.unwrap()).collect()).collect();
    assert_eq!(
        text,
        vec![
            vec![nines.to_string(), format!("0.{}1", "0".repeat(37)), "-123456789.012345678".to_string()],
            vec![format!("-{}", nines), format!("-0.{}", "9".repeat(38)), "0.000000005".to_string()],
        ]
    );
}

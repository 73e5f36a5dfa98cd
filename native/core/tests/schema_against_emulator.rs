//! Tables that create themselves and follow their records (`auto.create`, `auto.evolve`), and
//! fields that are never dropped silently, against the emulator's real query port and schema
//! change jobs (docs/schemas.md).

use std::collections::HashMap;

use starrocks_emulator::EmulatorConfig;
use starrocks_sink_core::boundary::builder::{s, BatchBuilder, S, V};
use starrocks_sink_core::boundary::SchemaKind;
use starrocks_sink_core::log::Log;
use starrocks_sink_core::metrics;
use starrocks_sink_core::{Delivery, ErrorKind, Sink};

mod common;

use common::{committed, document, Env};

fn settings(env: &Env, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m = env.base_settings("schema-it", format!("127.0.0.1:{}", env.emu().fe_http_port));
    for (k, v) in extra {
        m.insert(k.to_string(), v.to_string());
    }
    m
}

/// `(name, type, nullable, key)` of `d.<table>`'s columns, as information_schema shows them.
fn columns(env: &Env, table: &str) -> Vec<(String, String, String, String)> {
    env.sql(&format!(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY FROM information_schema.columns WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME = '{}' ORDER BY ORDINAL_POSITION",
        table
    ))
    .into_iter()
    .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap(), r[2].clone().unwrap(), r[3].clone().unwrap_or_default()))
    .collect()
}

fn col(name: &str, ty: &str, nullable: &str, key: &str) -> (String, String, String, String) {
    (name.into(), ty.into(), nullable.into(), key.into())
}

fn map(entries: Vec<(&str, V)>) -> V {
    V::Map(entries.into_iter().map(|(k, v)| (s(k), v)).collect())
}

fn metric(sink: &Sink, slot: usize) -> i64 {
    sink.metrics().snapshot()[slot]
}

#[test]
fn auto_create_makes_a_table_from_schemaless_values() {
    let env = Env::start_with(EmulatorConfig::default());
    let mut sink = Sink::open(&document(&settings(&env, &[("starrocks.topic2table.map", "topic:fresh"), ("auto.create", "true")])), Log::new(5)).unwrap();
    let mut b = BatchBuilder::new();
    b.record(
        "topic",
        0,
        0,
        map(vec![
            ("id", V::I64(1)),
            ("name", s("a")),
            ("score", V::F64(1.5)),
            ("ok", V::Bool(true)),
            ("tags", V::Array(vec![V::I64(1), V::I64(2)])),
            ("note", V::Null),
        ]),
    );
    b.record("topic", 0, 1, map(vec![("id", V::I64(2)), ("name", s("b")), ("score", V::F64(2.0)), ("ok", V::Bool(false)), ("tags", V::Array(vec![])), ("note", s("n"))]));
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(2));
    assert_eq!(
        columns(&env, "fresh"),
        vec![
            col("id", "bigint", "YES", "DUP"),
            // no key clause: StarRocks' default sort key, the short prefix up to the first string
            col("name", "varchar(65533)", "YES", "DUP"),
            col("score", "double", "YES", ""),
            col("ok", "boolean", "YES", ""),
            col("tags", "json", "YES", ""),
            col("note", "varchar(65533)", "YES", ""),
        ]
    );
    assert_eq!(
        env.sql("SELECT id, name, score, ok, tags, note FROM d.fresh ORDER BY id"),
        vec![
            vec![Some("1".into()), Some("a".into()), Some("1.5".into()), Some("1".into()), Some("[1, 2]".into()), None],
            vec![Some("2".into()), Some("b".into()), Some("2".into()), Some("0".into()), Some("[]".into()), Some("n".into())],
        ]
    );
    assert_eq!(metric(&sink, metrics::TABLES_CREATED), 1);
    sink.close();
}

#[test]
fn auto_create_keys_a_table_on_the_record_key() {
    let env = Env::start_with(EmulatorConfig::default());
    // an object key: its fields are the primary key, first, NOT NULL
    let mut sink = Sink::open(
        &document(&settings(&env, &[("starrocks.topic2table.map", "topic:keyed"), ("auto.create", "true"), ("pk.mode", "record_key")])),
        Log::new(5),
    )
    .unwrap();
    let mut b = BatchBuilder::new();
    b.record_full("topic", "topic", 0, 0, i64::MIN, map(vec![("id", V::I64(7))]), map(vec![("v", s("x")), ("id", V::I64(7))]));
    b.record_full("topic", "topic", 0, 1, i64::MIN, map(vec![("id", V::I64(7))]), map(vec![("v", s("y")), ("id", V::I64(7))]));
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(2));
    assert_eq!(columns(&env, "keyed"), vec![col("id", "bigint", "NO", "PRI"), col("v", "varchar(65533)", "YES", "")]);
    assert_eq!(env.sql("SELECT id, v FROM d.keyed"), vec![vec![Some("7".into()), Some("y".into())]], "an upsert by key");
    sink.close();

    // a primitive key: pk.fields names its column, and the row carries it
    let mut sink = Sink::open(
        &document(&settings(
            &env,
            &[("starrocks.topic2table.map", "topic:plain_key"), ("auto.create", "true"), ("pk.mode", "record_key"), ("pk.fields", "k")],
        )),
        Log::new(5),
    )
    .unwrap();
    let mut b = BatchBuilder::new();
    b.record_full("topic", "topic", 0, 0, i64::MIN, s("alpha"), map(vec![("v", V::I64(1))]));
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(1));
    assert_eq!(columns(&env, "plain_key"), vec![col("k", "varchar(128)", "NO", "PRI"), col("v", "bigint", "YES", "")]);
    assert_eq!(env.sql("SELECT k, v FROM d.plain_key"), vec![vec![Some("alpha".into()), Some("1".into())]]);
    sink.close();
}

#[test]
fn auto_create_needs_the_database() {
    let env = Env::start_with(EmulatorConfig::default());
    let mut sink = Sink::open(&document(&settings(&env, &[("starrocks.topic2table.map", "topic:nodb.t"), ("auto.create", "true")])), Log::new(5)).unwrap();
    let mut b = BatchBuilder::new();
    b.record("topic", 0, 0, map(vec![("id", V::I64(1))]));
    // the serializer thread fails; the next call answers it
    let _ = sink.put(&b.build());
    let e = sink.pre_commit().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config, "{}", e.message);
    assert!(e.message.contains("database `nodb` does not exist"), "{}", e.message);
}

#[test]
fn auto_evolve_adds_a_column_before_the_rows_that_carry_it() {
    // a schema change that takes a while, as StarRocks' do
    let env = Env::start_with(EmulatorConfig { schema_change_delay_ms: 400, ..EmulatorConfig::default() });
    let mut sink = Sink::open(&document(&settings(&env, &[("auto.evolve", "true")])), Log::new(5)).unwrap();
    let mut b = BatchBuilder::new();
    b.record("topic", 0, 0, map(vec![("id", V::I64(1)), ("city", s("Paris"))]));
    b.record("topic", 0, 1, map(vec![("id", V::I64(2)), ("city", s("Rome")), ("phone", s("555-0100")), ("floor", V::I64(3))]));
    b.record("topic", 0, 2, map(vec![("id", V::I64(3)), ("city", s("Oslo"))]));
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(3));
    assert_eq!(
        columns(&env, "t"),
        vec![col("id", "int", "NO", "DUP"), col("city", "varchar(64)", "YES", ""), col("phone", "varchar(65533)", "YES", ""), col("floor", "bigint", "YES", "")]
    );
    assert_eq!(
        env.sql("SELECT id, phone, floor FROM d.t ORDER BY id"),
        vec![
            vec![Some("1".into()), None, None],
            vec![Some("2".into()), Some("555-0100".into()), Some("3".into())],
            vec![Some("3".into()), None, None],
        ],
        "a field that disappears is NULL"
    );
    assert_eq!(metric(&sink, metrics::COLUMNS_ADDED), 2);
    assert!(metric(&sink, metrics::SCHEMA_CHANGE_WAIT_NS) >= 300_000_000, "waited for the job");
    sink.close();
}

#[test]
fn two_tasks_evolving_one_table_converge() {
    let env = Env::start_with(EmulatorConfig { schema_change_delay_ms: 200, ..EmulatorConfig::default() });
    let doc = document(&settings(&env, &[("auto.evolve", "true")]));
    let runs: Vec<_> = (0..2)
        .map(|task| {
            let doc = doc.clone();
            std::thread::spawn(move || {
                let mut sink = Sink::open(&doc, Log::new(5)).unwrap();
                let mut b = BatchBuilder::new();
                b.record("topic", task, 0, map(vec![("id", V::I64(10 + task as i64)), ("city", s("x")), ("phone", s("1"))]));
                sink.put(&b.build()).unwrap();
                let offsets = sink.pre_commit().unwrap();
                sink.close();
                offsets
            })
        })
        .collect();
    for r in runs {
        assert_eq!(r.join().unwrap().len(), 1, "each task committed its partition");
    }
    assert_eq!(columns(&env, "t").iter().filter(|c| c.0 == "phone").count(), 1);
    assert_eq!(env.sql("SELECT id, phone FROM d.t ORDER BY id"), vec![vec![Some("10".into()), Some("1".into())], vec![Some("11".into()), Some("1".into())]]);
}

#[test]
fn without_auto_evolve_a_missing_field_is_warned_once_and_counted() {
    let env = Env::start_with(EmulatorConfig::default());
    let log = Log::new(5);
    let mut sink = Sink::open(&document(&settings(&env, &[])), log.clone()).unwrap();
    for batch in 0..2 {
        let mut b = BatchBuilder::new();
        for i in 0..3 {
            let offset = batch * 3 + i;
            b.record("topic", 0, offset, map(vec![("id", V::I64(offset + 1)), ("city", s("c")), ("phone", s("9"))]));
        }
        sink.put(&b.build()).unwrap();
    }
    assert_eq!(committed(&mut sink), Some(6));
    assert_eq!(env.ids().len(), 6, "the rows load without the field");
    assert_eq!(metric(&sink, metrics::FIELDS_DROPPED), 6, "one per record");
    let warnings: Vec<String> = log.drain().into_iter().filter(|(_, m)| m.contains("has no column `phone`")).map(|(_, m)| m).collect();
    assert_eq!(warnings.len(), 1, "{:?}", warnings);
    assert!(warnings[0].contains("d.t") && warnings[0].contains("auto.evolve"), "{}", warnings[0]);
    assert!(columns(&env, "t").iter().all(|c| c.0 != "phone"), "nothing is changed without auto.evolve");
    sink.close();
}

#[test]
fn a_field_no_column_can_hold_is_a_bad_record() {
    let env = Env::start_with(EmulatorConfig::default());
    let mut sink = Sink::open(&document(&settings(&env, &[("auto.evolve", "true"), ("errors.tolerance", "all")])), Log::new(5)).unwrap();
    let mut b = BatchBuilder::new();
    b.record("topic", 0, 0, map(vec![("id", V::I64(1)), ("city", s("ok"))]));
    b.record("topic", 0, 1, map(vec![("id", map(vec![("nested", V::I64(1))])), ("city", s("bad"))]));
    b.record("topic", 0, 2, map(vec![("id", V::I64(3)), ("city", s("ok too"))]));
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(3), "the bad record's offset moves on with the DLQ");
    assert_eq!(env.ids(), vec!["1", "3"]);
    let bad = sink.drain_rejected();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].offset, 1);
    assert!(bad[0].reason.contains("field `id` is JSON but column `id` of d.t is INT"), "{}", bad[0].reason);

    // without tolerance, the task fails naming the record
    let mut sink = Sink::open(&document(&settings(&env, &[("auto.evolve", "true")])), Log::new(5)).unwrap();
    let mut b = BatchBuilder::new();
    b.record("topic", 0, 5, map(vec![("id", map(vec![("nested", V::I64(1))]))]));
    let _ = sink.put(&b.build());
    let e = sink.pre_commit().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Data);
    assert!(e.message.contains("column `id` of d.t is INT") && e.message.contains("offset 5"), "{}", e.message);
}

#[test]
fn structs_create_columns_from_their_field_schemas() {
    let env = Env::start_with(EmulatorConfig::default());
    let mut sink = Sink::open(&document(&settings(&env, &[("starrocks.topic2table.map", "topic:typed"), ("auto.create", "true")])), Log::new(5)).unwrap();
    let st = S::struct_of(&[
        ("id", S::new(SchemaKind::Int64)),
        ("price", S::decimal(2, Some(10))),
        ("day", S::opt(SchemaKind::Int32).name("org.apache.kafka.connect.data.Date")),
        ("at", S::opt(SchemaKind::Int64).name("io.debezium.time.MicroTimestamp")),
        ("doc", S::opt(SchemaKind::String).name("io.debezium.data.Json")),
        ("label", S::opt(SchemaKind::String)),
    ]);
    let mut b = BatchBuilder::new();
    // every optional field null: the types come from the schema alone
    b.record("topic", 0, 0, V::Struct(st.clone(), vec![V::I64(1), V::Null, V::Null, V::Null, V::Null, V::Null]));
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(1));
    assert_eq!(
        columns(&env, "typed"),
        vec![
            col("id", "bigint", "NO", "DUP"),
            col("price", "decimal(10,2)", "YES", "DUP"),
            col("day", "date", "YES", "DUP"),
            col("at", "datetime", "YES", ""),
            col("doc", "json", "YES", ""),
            col("label", "varchar(65533)", "YES", ""),
        ]
    );
    sink.close();
}

#[test]
fn a_declared_length_widens_a_varchar_and_nothing_else_is_altered() {
    let env = Env::start_with(EmulatorConfig { schema_change_delay_ms: 100, ..EmulatorConfig::default() });
    let mut sink = Sink::open(&document(&settings(&env, &[("auto.evolve", "true")])), Log::new(5)).unwrap();
    // Debezium's column.propagate.source.type: the source column is 200 characters long
    let city = S::opt(SchemaKind::String).param("__debezium.source.column.length", "200");
    let st = S::struct_of(&[("id", S::new(SchemaKind::Int32)), ("city", city)]);
    let mut b = BatchBuilder::new();
    let long = "x".repeat(150);
    b.record("topic", 0, 0, V::Struct(st, vec![V::I32(1), s(&long)]));
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(1));
    assert_eq!(columns(&env, "t"), vec![col("id", "int", "NO", "DUP"), col("city", "varchar(200)", "YES", "")], "widened, nullability kept");
    assert_eq!(env.sql("SELECT city FROM d.t"), vec![vec![Some(long)]]);
    sink.close();
}

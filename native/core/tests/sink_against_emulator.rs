//! The sink end to end against the real `starrocks-emulator` (in-process, real HTTP on
//! loopback): rows land, offsets follow only acknowledged rows, failures carry StarRocks'
//! message, retries keep the label so a retried load lands once.

use std::collections::HashMap;

use starrocks_emulator::EmulatorConfig;
use starrocks_sink_core::Delivery;
use starrocks_sink_core::boundary::builder::{s, BatchBuilder, S, V};
use starrocks_sink_core::log::Log;
use starrocks_sink_core::{ErrorKind, Sink};

mod common;

use common::{Env, cities, committed, document};

/// The shared `Env` on an emulator whose root has `root_password`, with the fault endpoint and
/// the settings of these tests.
trait SinkEnv {
    fn start(root_password: &str) -> Env;
    fn rows(&self) -> Vec<(String, String)>;
    fn fault(&self, kind: &str, count: u32);
    fn fault_for(&self, kind: &str, count: u32, seconds: f64);
    fn settings(&self, extra: &[(&str, &str)]) -> HashMap<String, String>;
}

impl SinkEnv for Env {
    fn start(root_password: &str) -> Env {
        Env::start_with(EmulatorConfig { root_password: root_password.to_string(), ..EmulatorConfig::default() })
    }

    fn rows(&self) -> Vec<(String, String)> {
        self.sql("SELECT id, city FROM d.t ORDER BY id")
            .into_iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap_or_default()))
            .collect()
    }

    fn fault(&self, kind: &str, count: u32) {
        self.fault_for(kind, count, 1.0)
    }

    fn fault_for(&self, kind: &str, count: u32, seconds: f64) {
        let url = format!("http://127.0.0.1:{}/api/_emulator/faults", self.emu().fe_http_port);
        let body = format!(r#"{{"kind":"{}","count":{},"seconds":{}}}"#, kind, count, seconds);
        let status = self.rt.block_on(async { reqwest::Client::new().post(url).body(body).send().await.unwrap().status() });
        assert!(status.is_success(), "fault endpoint answered {}", status);
    }

    fn settings(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m = self.base_settings("sink-it", format!("127.0.0.1:{}", self.emu().fe_http_port));
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        m
    }
}

#[test]
fn rows_land_and_offsets_follow_them() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&[])), Log::new(5)).unwrap();
    sink.put(&cities(0, &["New York", "Los Angeles", "Chicago"])).unwrap();
    assert!(env.rows().is_empty(), "nothing is loaded before a flush is due");
    assert_eq!(committed(&mut sink), Some(3));
    assert_eq!(
        env.rows(),
        vec![("1".into(), "New York".into()), ("2".into(), "Los Angeles".into()), ("3".into(), "Chicago".into())]
    );
    sink.put(&cities(3, &["Boston"])).unwrap();
    assert_eq!(committed(&mut sink), Some(4));
    assert_eq!(env.rows().len(), 4);
    sink.close();
}

#[test]
fn a_full_buffer_loads_without_waiting_for_a_commit() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&[("bufferflush.maxbytes", "64")])), Log::new(5)).unwrap();
    sink.put(&cities(0, &["New York", "Los Angeles", "Chicago", "Houston", "Phoenix"])).unwrap();
    // the buffer crossed 64 bytes at least once during put, so a load started then
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while env.rows().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no load started by size");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(committed(&mut sink), Some(5));
    assert_eq!(env.rows().len(), 5);
}

#[test]
fn a_wrong_password_fails_with_starrocks_message_and_commits_nothing() {
    let env = Env::start("secret");
    let mut sink = Sink::open(&document(&env.settings(&[("starrocks.password", "wrong")])), Log::new(5)).unwrap();
    sink.put(&cities(0, &["New York"])).unwrap();
    let e = sink.pre_commit().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Load);
    assert!(e.message.contains("Access denied"), "{}", e.message);
    assert!(!e.message.contains("secret") && !e.message.contains("wrong"), "{}", e.message);
    let again = sink.put(&cities(1, &["Boston"])).unwrap_err();
    assert_eq!(again.message, e.message, "the sink stays failed");
}

#[test]
fn an_unknown_table_fails_with_starrocks_message() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&[("starrocks.topic2table.map", "topic:missing")])), Log::new(5)).unwrap();
    sink.put(&cities(0, &["New York"])).unwrap();
    let e = sink.pre_commit().unwrap_err();
    assert!(e.message.contains("missing"), "{}", e.message);
}

#[test]
fn a_transient_failure_is_retried_and_lands_once() {
    let env = Env::start("");
    env.fault("http_500", 1);
    let mut sink = Sink::open(&document(&env.settings(&[])), Log::new(5)).unwrap();
    sink.put(&cities(0, &["New York", "Chicago"])).unwrap();
    assert_eq!(committed(&mut sink), Some(2));
    assert_eq!(env.rows().len(), 2);
}

#[test]
fn a_lost_answer_is_retried_with_the_same_label_and_lands_once() {
    let env = Env::start("");
    env.fault("commit_then_drop", 1);
    let log = Log::new(5);
    let mut sink = Sink::open(&document(&env.settings(&[])), log.clone()).unwrap();
    sink.put(&cities(0, &["New York", "Chicago"])).unwrap();
    assert_eq!(committed(&mut sink), Some(2));
    assert_eq!(env.rows().len(), 2, "the retry must not load the rows twice");
    let events = log.drain();
    assert!(events.iter().any(|(_, m)| m.contains("already in StarRocks")), "{:?}", events);
}

#[test]
fn retries_run_out_into_a_clear_failure() {
    let env = Env::start("");
    env.fault("http_500", 10);
    let mut sink = Sink::open(&document(&env.settings(&[("sink.maxretries", "2")])), Log::new(5)).unwrap();
    sink.put(&cities(0, &["New York"])).unwrap();
    let e = sink.pre_commit().unwrap_err();
    assert!(e.message.contains("after 3 attempts") && e.message.contains("500"), "{}", e.message);
    assert!(env.rows().is_empty());
}

fn one_batch(records: Vec<(i64, V, V)>) -> Vec<u8> {
    let mut b = BatchBuilder::new();
    for (offset, key, value) in records {
        b.record_full("topic", "topic", 0, offset, i64::MIN, key, value);
    }
    b.build()
}

#[test]
fn primary_key_upserts_deletes_and_key_fill() {
    let env = Env::start("");
    env.sql(
        "CREATE TABLE d.pk (id INT NOT NULL, city VARCHAR(64), pop BIGINT) PRIMARY KEY(id) \
         DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    );
    let mut sink = Sink::open(&document(&env.settings(&[("starrocks.topic2table.map", "topic:pk")])), Log::new(5)).unwrap();
    let key = |id: i64| V::Struct(S::fields(&["id"]), vec![V::I64(id)]);
    let row = S::fields(&["city", "pop", "__op"]);
    sink.put(&one_batch(vec![
        (0, key(1), V::Struct(row.clone(), vec![s("Paris"), V::I64(2), V::I32(0)])),
        (1, key(2), V::Struct(row.clone(), vec![s("Rome"), V::I64(3), V::I32(0)])),
        (2, key(1), V::Struct(row.clone(), vec![s("Paris"), V::I64(5), V::I32(0)])),
        (3, key(2), V::Struct(row.clone(), vec![s("Rome"), V::I64(3), V::I32(1)])),
        (4, key(3), V::Null),
    ]))
    .unwrap();
    assert_eq!(committed(&mut sink), Some(5), "the tombstone's offset is committed too");
    let rows = env.sql("SELECT id, city, pop FROM d.pk ORDER BY id");
    assert_eq!(rows, vec![vec![Some("1".to_string()), Some("Paris".to_string()), Some("5".to_string())]]);
}

#[test]
fn partial_update_keeps_the_columns_not_sent() {
    partial_update("row");
}

#[test]
fn partial_update_in_column_mode_keeps_the_columns_not_sent() {
    partial_update("column");
}

fn partial_update(mode: &str) {
    let env = Env::start("");
    env.sql(
        "CREATE TABLE d.pk (id INT NOT NULL, city VARCHAR(64), pop BIGINT) PRIMARY KEY(id) \
         DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    );
    env.sql("INSERT INTO d.pk VALUES (1, 'Paris', 2)");
    let settings = env.settings(&[
        ("starrocks.topic2table.map", "topic:pk"),
        ("sink.properties.partial_update", "true"),
        ("sink.properties.partial_update_mode", mode),
        ("sink.properties.columns", "id,pop"),
    ]);
    let mut sink = Sink::open(&document(&settings), Log::new(5)).unwrap();
    let v = V::Struct(S::fields(&["id", "pop"]), vec![V::I64(1), V::I64(9)]);
    sink.put(&one_batch(vec![(0, V::Null, v)])).unwrap();
    assert_eq!(committed(&mut sink), Some(1));
    let rows = env.sql("SELECT id, city, pop FROM d.pk");
    assert_eq!(rows, vec![vec![Some("1".to_string()), Some("Paris".to_string()), Some("9".to_string())]]);
}

#[test]
fn schemaless_maps_raw_json_strings_and_other_databases() {
    let env = Env::start("");
    env.sql("CREATE DATABASE other");
    env.sql(
        "CREATE TABLE other.t (id INT NOT NULL, city VARCHAR(64)) DUPLICATE KEY(id) \
         DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    );
    let mut sink = Sink::open(&document(&env.settings(&[("starrocks.topic2table.map", "topic:other.t")])), Log::new(5)).unwrap();
    sink.put(&one_batch(vec![
        (0, V::Null, V::Map(vec![(s("id"), V::I64(1)), (s("city"), s("Oslo"))])),
        (1, V::Null, s(r#"{"id": 2, "city": "Bergen"}"#)),
        (2, V::Null, V::Bytes(r#"{"id":3,"city":"Tromsø"}"#.as_bytes().to_vec())),
    ]))
    .unwrap();
    assert_eq!(committed(&mut sink), Some(3));
    let rows: Vec<String> = env.sql("SELECT city FROM other.t ORDER BY id").into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(rows, vec!["Oslo", "Bergen", "Tromsø"]);
    assert!(env.rows().is_empty(), "nothing went to the connector's own database");
}

fn stamped(first_offset: i64, names: &[&str], ts: i64) -> Vec<u8> {
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    for (i, name) in names.iter().enumerate() {
        let offset = first_offset + i as i64;
        b.record_full("topic", "topic", 0, offset, ts + i as i64, V::Null, V::Struct(st.clone(), vec![V::I64(offset + 1), s(name)]));
    }
    b.build()
}

#[test]
fn a_restarted_task_replaying_the_same_records_is_recognised() {
    let env = Env::start("");
    let batch = stamped(0, &["New York", "Chicago"], 1_700_000_000_000);
    let mut first = Sink::open(&document(&env.settings(&[])), Log::new(5)).unwrap();
    first.put(&batch).unwrap();
    assert_eq!(committed(&mut first), Some(2));
    drop(first); // crashed before Connect stored the offsets: the records come again
    let log = Log::new(5);
    let mut second = Sink::open(&document(&env.settings(&[])), log.clone()).unwrap();
    second.put(&batch).unwrap();
    assert_eq!(committed(&mut second), Some(2));
    assert_eq!(env.rows().len(), 2, "the replay was loaded twice");
    assert!(log.drain().iter().any(|(_, m)| m.contains("already in StarRocks")));

    // the topic deleted and created again: same offsets, new records
    let mut third = Sink::open(&document(&env.settings(&[])), Log::new(5)).unwrap();
    third.put(&stamped(0, &["Boston", "Denver"], 1_800_000_000_000)).unwrap();
    assert_eq!(committed(&mut third), Some(2));
    assert_eq!(env.rows().len(), 4, "new records at old offsets must load");
}

#[test]
fn a_revoked_partition_that_comes_back_starts_clean() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&[])), Log::new(5)).unwrap();
    let tp = ("topic".to_string(), 0);
    sink.put(&cities(0, &["New York", "Los Angeles"])).unwrap();
    assert_eq!(committed(&mut sink), Some(2));
    // A rebalance revokes the partition right after a put (still queued for the serializer):
    // nothing is answered for it afterwards, not even by that batch.
    sink.put(&cities(2, &["Chicago"])).unwrap();
    sink.forget(std::slice::from_ref(&tp));
    assert_eq!(committed(&mut sink), None, "a revoked partition's old position must not be answered");
    assert_eq!(env.rows().len(), 3, "its buffered rows still load");
    // Revoked with a row still buffered (no commit before: the partition was lost), then back at
    // 10 after another task loaded 3..9: the old row loads too (at-least-once), in the same load
    // as the new one, and the answer is the new position.
    sink.put(&cities(3, &["Boston"])).unwrap();
    sink.forget(std::slice::from_ref(&tp));
    sink.put(&cities(10, &["Denver"])).unwrap();
    assert_eq!(committed(&mut sink), Some(11));
    assert_eq!(env.ids(), vec!["1", "2", "3", "4", "11"]);
    sink.close();
}

#[test]
fn put_waits_for_loads_instead_of_growing_past_the_budget() {
    let env = Env::start("");
    // loads hang 1 s in the emulator (then fail and are retried): with a 64-byte flush size,
    // put must block
    env.fault_for("hang", 3, 1.0);
    let settings = env.settings(&[("bufferflush.maxbytes", "64"), ("sink.timeoutms", "20000")]);
    let mut sink = Sink::open(&document(&settings), Log::new(5)).unwrap();
    let started = std::time::Instant::now();
    for i in 0..4 {
        sink.put(&cities(i * 2, &["New York", "Los Angeles"])).unwrap();
    }
    assert_eq!(committed(&mut sink), Some(8));
    assert_eq!(env.rows().len(), 8);
    assert!(started.elapsed() >= std::time::Duration::from_millis(900), "put never waited: {:?}", started.elapsed());
}

#[test]
fn tolerated_bad_rows_come_back_and_good_rows_land() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&[("errors.tolerance", "all")])), Log::new(5)).unwrap();
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    // id is NOT NULL: offsets 2 and 5 are rows StarRocks filters; offset 4 cannot be written at all
    for (offset, id) in [(0, V::I64(1)), (1, V::I64(2)), (2, V::Null), (3, V::I64(4)), (4, V::F64(f64::NAN)), (5, V::Null), (6, V::I64(7))] {
        b.record("topic", 0, offset, V::Struct(st.clone(), vec![id, s("c")]));
    }
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(7));
    let ids: Vec<String> = env.rows().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec!["1", "2", "4", "7"]);
    let rejected = sink.drain_rejected();
    assert_eq!(rejected.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![4, 2, 5]);
    assert!(rejected[0].reason.contains("NaN"), "{}", rejected[0].reason);
    assert!(rejected[1].reason.contains("too many filtered rows"), "{}", rejected[1].reason);
    assert!(sink.drain_rejected().is_empty());
}

#[test]
fn without_tolerance_a_filtered_row_fails_the_sink() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&[])), Log::new(5)).unwrap();
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    b.record("topic", 0, 0, V::Struct(st.clone(), vec![V::I64(1), s("ok")]));
    b.record("topic", 0, 1, V::Struct(st, vec![V::Null, s("bad")]));
    sink.put(&b.build()).unwrap();
    let e = sink.pre_commit().unwrap_err();
    assert!(e.message.contains("too many filtered rows"), "{}", e.message);
    assert!(env.rows().is_empty(), "a failed load writes nothing");
}

/// Rows StarRocks cannot take apart: with `json_root`, a document whose root is an array makes
/// StarRocks refuse the whole load (not filter a row), for a reason the connector cannot see
/// before loading. Offset 3 is that record.
fn json_root_batch() -> Vec<u8> {
    let mut b = BatchBuilder::new();
    for (offset, id) in [1, 2, 3, 4, 5, 6].iter().enumerate() {
        let doc = if *id == 4 {
            r#"{"data":[{"id":4,"city":"x"}]}"#.to_string()
        } else {
            format!(r#"{{"data":{{"id":{},"city":"c{}"}}}}"#, id, id)
        };
        b.record("topic", 0, offset as i64, s(&doc));
    }
    b.build()
}

const JSON_ROOT: [(&str, &str); 2] = [("sink.properties.json_root", "$.data"), ("sink.properties.strip_outer_array", "false")];

#[test]
fn a_load_refused_as_a_whole_for_its_data_is_isolated_and_never_retried() {
    let env = Env::start("");
    let mut settings = env.settings(&JSON_ROOT);
    settings.insert("errors.tolerance".into(), "all".into());
    let mut sink = Sink::open(&document(&settings), Log::new(5)).unwrap();
    sink.put(&json_root_batch()).unwrap();
    assert_eq!(committed(&mut sink), Some(6));
    let ids: Vec<String> = env.rows().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec!["1", "2", "3", "5", "6"]);
    let rejected = sink.drain_rejected();
    assert_eq!(rejected.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![3]);
    assert!(rejected[0].reason.contains("The value is array type in json document stream"), "{}", rejected[0].reason);
    let m = sink.metrics().snapshot();
    assert_eq!(m[mx::RETRIES], 0, "a data error is not retried: {:?}", m);
}

#[test]
fn without_tolerance_a_load_refused_for_its_data_fails_without_retries() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&JSON_ROOT)), Log::new(5)).unwrap();
    sink.put(&json_root_batch()).unwrap();
    let e = sink.pre_commit().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Data, "{}", e.message);
    assert!(e.message.contains("The value is array type in json document stream"), "{}", e.message);
    assert!(env.rows().is_empty(), "a refused load writes nothing");
    let m = sink.metrics().snapshot();
    assert_eq!((m[mx::RETRIES], m[mx::LOAD_FAILURES]), (0, 1), "{:?}", m);
}

#[test]
fn an_unreachable_fe_is_skipped_for_the_next_one() {
    let env = Env::start("");
    let url = format!("127.0.0.1:1, http://127.0.0.1:{}", env.emu().fe_http_port);
    let log = Log::new(5);
    let mut sink = Sink::open(&document(&env.settings(&[("starrocks.http.url", url.as_str())])), log.clone()).unwrap();
    sink.put(&cities(0, &["New York"])).unwrap();
    assert_eq!(committed(&mut sink), Some(1));
    assert_eq!(env.rows().len(), 1);
    assert!(log.drain().iter().any(|(_, m)| m.contains("cannot reach FE http://127.0.0.1:1")));
}

#[test]
fn a_refusal_before_a_large_body_still_reports_starrocks_message() {
    let env = Env::start("");
    let settings = env.settings(&[("starrocks.topic2table.map", "topic:missing"), ("sink.maxretries", "1")]);
    let mut sink = Sink::open(&document(&settings), Log::new(5)).unwrap();
    let long = "x".repeat(4000);
    let names: Vec<&str> = (0..3000).map(|_| long.as_str()).collect(); // ~12 MB body
    sink.put(&cities(0, &names)).unwrap();
    let e = sink.pre_commit().unwrap_err();
    assert!(e.message.contains("missing") && !e.message.contains("Broken pipe"), "{}", e.message);
    assert!(!e.message.contains("after 2 attempts"), "an unknown table must not be retried: {}", e.message);
}

// ---- metrics ----------------------------------------------------------------------------------

use starrocks_sink_core::metrics as mx;

fn two_topics(first_offset: i64, n: usize, pad: usize) -> Vec<u8> {
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    let city = "c".repeat(pad);
    for i in 0..n {
        let offset = first_offset + i as i64;
        let topic = if i % 2 == 0 { "topic" } else { "topic2" };
        b.record(topic, 0, offset, V::Struct(st.clone(), vec![V::I64(offset + 1), s(&city)]));
    }
    b.build()
}

#[test]
fn metrics_follow_puts_and_loads() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&[])), Log::new(5)).unwrap();
    let m = sink.metrics().clone();
    let s0 = m.snapshot();
    assert_eq!(s0[mx::BUFFER_BUDGET_BYTES], 2 * 94_371_840);
    assert_eq!((s0[mx::RECORDS_RECEIVED], s0[mx::LOADS], s0[mx::BUFFER_BYTES]), (0, 0, 0));
    let put_at = std::time::Instant::now();
    sink.put(&cities(0, &["New York", "Los Angeles", "Chicago"])).unwrap();
    // The serializer thread writes the rows; on a busy machine that can take a while.
    // The serializer thread writes the rows; on a busy machine that can take a while. The age
    // counts from when they reached the buffer.
    let settled = |s: &[i64]| s[mx::RECORDS_RECEIVED] >= 3 && s[mx::OLDEST_BUFFERED_RECORD_AGE_MS] >= 20;
    while !settled(&m.snapshot()) && put_at.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let s1 = m.snapshot();
    assert_eq!((s1[mx::RECORDS_RECEIVED], s1[mx::PUT_CALLS]), (3, 1));
    let body = r#"[{"id":1,"city":"New York"},{"id":2,"city":"Los Angeles"},{"id":3,"city":"Chicago"}"#.len() as i64;
    assert_eq!(s1[mx::BUFFER_BYTES], body, "the rows wait in the buffer");
    assert!(s1[mx::OLDEST_BUFFERED_RECORD_AGE_MS] >= 20, "{:?}", s1);
    assert!(s1[mx::DECODE_SERIALIZE_NS] > 0);
    assert_eq!(s1[mx::LOADS], 0);
    assert_eq!(committed(&mut sink), Some(3));
    let s2 = m.snapshot();
    assert_eq!((s2[mx::LOADS], s2[mx::ROWS_LOADED], s2[mx::ROWS_FILTERED]), (1, 3, 0));
    assert_eq!(s2[mx::BYTES_LOADED], body + 1, "the body with its closing bracket");
    assert_eq!((s2[mx::LOAD_FAILURES], s2[mx::RETRIES], s2[mx::REJECTED_RECORDS]), (0, 0, 0));
    assert_eq!((s2[mx::BUFFER_BYTES], s2[mx::OLDEST_BUFFERED_RECORD_AGE_MS]), (0, 0), "all acknowledged: {:?}", s2);
    assert_eq!(s2[mx::BUFFER_BYTES_PEAK], body + 1);
    assert!(s2[mx::LOAD_LATENCY_TOTAL_NS] > 0 && s2[mx::LOAD_LATENCY_MAX_NS] == s2[mx::LOAD_LATENCY_TOTAL_NS]);
    assert!(s2[mx::HTTP_NS] >= s2[mx::LOAD_LATENCY_TOTAL_NS]);
    assert_eq!(s2[mx::BACKPRESSURE_WAIT_NS], 0);
    sink.put(&cities(3, &["Boston"])).unwrap();
    assert_eq!(committed(&mut sink), Some(4));
    let s3 = m.snapshot();
    assert_eq!((s3[mx::RECORDS_RECEIVED], s3[mx::LOADS], s3[mx::ROWS_LOADED], s3[mx::BUFFER_BYTES]), (4, 2, 4, 0));
    sink.close();
}

#[test]
fn metrics_count_failed_attempts_and_retries() {
    let env = Env::start("");
    env.fault("http_500", 2);
    let mut sink = Sink::open(&document(&env.settings(&[])), Log::new(5)).unwrap();
    sink.put(&cities(0, &["New York", "Chicago"])).unwrap();
    assert_eq!(committed(&mut sink), Some(2));
    let s = sink.metrics().snapshot();
    assert_eq!((s[mx::LOADS], s[mx::LOAD_FAILURES], s[mx::RETRIES], s[mx::ROWS_LOADED]), (1, 2, 2, 2), "{:?}", s);
}

#[test]
fn tolerated_bad_rows_are_counted_as_rejected() {
    let env = Env::start("");
    let mut sink = Sink::open(&document(&env.settings(&[("errors.tolerance", "all")])), Log::new(5)).unwrap();
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    b.record("topic", 0, 0, V::Struct(st.clone(), vec![V::I64(1), s("Oslo")]));
    b.record("topic", 0, 1, V::Struct(st.clone(), vec![V::Null, s("Nowhere")])); // NOT NULL id: filtered
    b.record("topic", 0, 2, V::Struct(st, vec![V::I64(3), s("Lima")]));
    sink.put(&b.build()).unwrap();
    assert_eq!(committed(&mut sink), Some(3));
    assert_eq!(sink.drain_rejected().len(), 1);
    let s = sink.metrics().snapshot();
    assert_eq!(s[mx::REJECTED_RECORDS], 1, "{:?}", s);
    assert_eq!(s[mx::ROWS_LOADED], 2, "{:?}", s);
    assert!(s[mx::LOAD_FAILURES] >= 1, "the whole-batch load failed first: {:?}", s);
}

/// Two tables, a slow StarRocks and a small flush size: put blocks, and buffered plus in-flight
/// bytes never pass the budget by more than the one row that crossed it.
#[test]
fn peak_memory_stays_within_the_budget_under_backpressure() {
    let env = Env::start("");
    for t in ["wide1", "wide2"] {
        env.sql(&format!(
            "CREATE TABLE d.{} (id INT NOT NULL, city VARCHAR(256)) DUPLICATE KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
            t
        ));
    }
    let url = format!("http://127.0.0.1:{}/api/_emulator/faults", env.emu().fe_http_port);
    let arm = r#"{"kind":"throttle","count":100000,"bytes_per_second":200000}"#;
    let status = env.rt.block_on(async { reqwest::Client::new().post(&url).body(arm).send().await.unwrap().status() });
    assert!(status.is_success());
    let flush = 4000u64;
    let settings = env.settings(&[
        ("bufferflush.maxbytes", "4000"),
        ("starrocks.topic2table.map", "topic:wide1,topic2:wide2"),
        ("sink.timeoutms", "20000"),
    ]);
    let mut sink = Sink::open(&document(&settings), Log::new(5)).unwrap();
    let m = sink.metrics().clone();
    let (batches, per_batch, pad) = (20, 100, 100);
    let row = format!(r#",{{"id":{},"city":"{}"}}"#, 100_000, "c".repeat(pad)).len() as i64;
    for i in 0..batches {
        sink.put(&two_topics((i * per_batch) as i64, per_batch, pad)).unwrap();
        let s = m.snapshot();
        assert!(s[mx::BUFFER_BYTES] <= s[mx::BUFFER_BYTES_PEAK]);
    }
    let offsets = sink.pre_commit().unwrap();
    // even offsets went to `topic`, odd ones to `topic2`
    assert_eq!(offsets[&("topic".to_string(), 0)], (batches * per_batch) as i64 - 1);
    assert_eq!(offsets[&("topic2".to_string(), 0)], (batches * per_batch) as i64);
    let s = m.snapshot();
    let budget = s[mx::BUFFER_BUDGET_BYTES];
    assert_eq!(budget, 2 * flush as i64);
    assert!(s[mx::BUFFER_BYTES_PEAK] <= budget + row + 2, "peak {} over budget {} + row {}", s[mx::BUFFER_BYTES_PEAK], budget, row);
    assert!(s[mx::BUFFER_BYTES_PEAK] > flush as i64, "the buffers did fill: {:?}", s);
    assert!(s[mx::BACKPRESSURE_WAIT_NS] > 0, "put never waited: {:?}", s);
    assert_eq!(s[mx::RECORDS_RECEIVED], (batches * per_batch) as i64);
    assert_eq!(s[mx::ROWS_LOADED], (batches * per_batch) as i64);
    assert_eq!(s[mx::BUFFER_BYTES], 0);
    let t = env.sql("SELECT count(*) FROM d.wide1")[0][0].clone().unwrap();
    let t2 = env.sql("SELECT count(*) FROM d.wide2")[0][0].clone().unwrap();
    assert_eq!((t.as_str(), t2.as_str()), ("1000", "1000"));
}

/// One record for each of `tables` topics `k0`, `k1`, ... (each its own table of `d`), loaded by a
/// sink whose loads read their bodies slowly (a throttled BE), so they overlap, against a
/// StarRocks that allows `limit` running transactions in the database. Answers what `pre_commit`
/// answered and the rows that landed.
fn many_tables(tables: usize, limit: usize, max_loads: &str) -> (starrocks_sink_core::Result<Option<i64>>, usize) {
    let mut limits = starrocks_emulator::http::Limits::default();
    limits.max_running_txn_num_per_db = limit;
    let env = Env::start_with(EmulatorConfig { limits, ..EmulatorConfig::default() });
    let mut b = BatchBuilder::new();
    let st = S::fields(&["id", "city"]);
    for i in 0..tables {
        env.sql(&format!("CREATE TABLE d.k{} (id INT, city VARCHAR(32)) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1", i));
        b.record(&format!("k{}", i), 0, 0, V::Struct(st.clone(), vec![V::I32(i as i32), s("Oslo")]));
    }
    let url = format!("http://127.0.0.1:{}/api/_emulator/faults", env.emu().fe_http_port);
    let fault = format!(r#"{{"kind":"throttle","count":{},"bytes_per_second":40}}"#, tables);
    env.rt.block_on(async { reqwest::Client::new().post(url).body(fault).send().await.unwrap().error_for_status().unwrap() });
    let settings = env.settings(&[
        ("starrocks.topic2table.map", ""),
        ("sink.maxretries", "0"),
        ("sink.inflight.maxloads", max_loads),
    ]);
    let mut sink = Sink::open(&document(&settings), Log::new(5)).unwrap();
    sink.put(&b.build()).unwrap();
    let committed = sink.pre_commit().map(|m| m.values().copied().max());
    let landed = (0..tables).map(|i| env.sql(&format!("SELECT COUNT(*) FROM d.k{}", i))[0][0].clone().unwrap()).filter(|n| n == "1").count();
    sink.close();
    (committed, landed)
}

#[test]
fn loads_in_flight_stay_within_the_cap_however_many_tables() {
    // 12 tables, a database that allows 3 running transactions, no retries: with the cap at 3
    // every load finds room
    let (committed, landed) = many_tables(12, 3, "3");
    assert!(committed.is_ok(), "{:?}", committed.err());
    assert_eq!(landed, 12);
    // the same without the cap: the loads overlap past the limit and StarRocks refuses one
    let (committed, _) = many_tables(12, 3, "12");
    let e = committed.expect_err("12 overlapping loads against a limit of 3");
    assert!(e.message.contains("current running txns"), "{}", e.message);
}

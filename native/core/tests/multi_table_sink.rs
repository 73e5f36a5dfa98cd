//! At-least-once with `sink.transaction.multi-table.enabled` against the in-process emulator
//! (StarRocks 4.0 by default): the tables of a flush commit in one transaction, a failed request
//! inside it is rolled back and retried without losing or doubling rows, offsets move only after
//! the commit, refused rows take the single-table path to the DLQ, and an older StarRocks is
//! refused by the key's name.

use std::collections::HashMap;

use starrocks_emulator::EmulatorConfig;
use starrocks_sink_core::boundary::builder::{s, BatchBuilder, S, V};
use starrocks_sink_core::log::Log;
use starrocks_sink_core::metrics as mx;
use starrocks_sink_core::{Delivery, ErrorKind, Sink};

mod common;

use common::{document, Env};

const TABLES: [&str; 3] = ["k0", "k1", "k2"];

fn start(cfg: EmulatorConfig) -> Env {
    let env = Env::start_with(cfg);
    for t in TABLES {
        env.sql(&format!("CREATE TABLE d.{} (id INT NOT NULL, city VARCHAR(32)) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1", t));
    }
    env
}

fn settings(env: &Env, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m = env.base_settings("multi-it", format!("127.0.0.1:{}", env.emu().fe_http_port));
    m.insert("starrocks.topic2table.map".into(), String::new()); // topic k0 loads into table k0, ...
    m.insert("sink.transaction.multi-table.enabled".into(), "true".into());
    for (k, v) in extra {
        m.insert(k.to_string(), v.to_string());
    }
    m
}

fn open(env: &Env, extra: &[(&str, &str)]) -> Sink {
    Sink::open(&document(&settings(env, extra)), Log::new(5)).expect("the sink opens")
}

/// `n` records on each of the topics k0, k1, k2 (partition 0), offsets from `first`; id = offset + 1.
fn batch(first: i64, n: i64) -> Vec<u8> {
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    for o in first..first + n {
        for t in TABLES {
            b.record(t, 0, o, V::Struct(st.clone(), vec![V::I64(o + 1), s("Oslo")]));
        }
    }
    b.build()
}

/// Each table's ids, sorted.
fn ids(env: &Env) -> Vec<Vec<String>> {
    TABLES
        .iter()
        .map(|t| env.sql(&format!("SELECT id FROM d.{} ORDER BY id", t)).into_iter().map(|r| r[0].clone().unwrap()).collect())
        .collect()
}

fn expected(n: i64) -> Vec<Vec<String>> {
    vec![(1..=n).map(|i| i.to_string()).collect(); TABLES.len()]
}

fn offsets(sink: &mut Sink) -> Vec<Option<i64>> {
    let o = sink.pre_commit().unwrap();
    TABLES.iter().map(|t| o.get(&(t.to_string(), 0)).copied()).collect()
}

fn fault(env: &Env, spec: &str) {
    let url = format!("http://127.0.0.1:{}/api/_emulator/faults", env.emu().fe_http_port);
    let status = env.rt.block_on(async { reqwest::Client::new().post(url).body(spec.to_string()).send().await.unwrap().status() });
    assert!(status.is_success(), "fault endpoint answered {}", status);
}

/// How many faults are still armed (each fault below must have fired).
fn armed(env: &Env) -> usize {
    let url = format!("http://127.0.0.1:{}/api/_emulator/faults", env.emu().fe_http_port);
    let text = env.rt.block_on(async { reqwest::Client::new().get(url).send().await.unwrap().text().await.unwrap() });
    serde_json::from_str::<Vec<serde_json::Value>>(&text).unwrap().len()
}

#[test]
fn the_tables_of_a_flush_commit_in_one_transaction() {
    let env = start(EmulatorConfig::default());
    let mut sink = open(&env, &[]);
    let m = sink.metrics().clone();
    sink.put(&batch(0, 3)).unwrap();
    assert_eq!(offsets(&mut sink), vec![Some(3); 3]);
    assert_eq!(ids(&env), expected(3));
    let s = m.snapshot();
    assert_eq!(s[mx::MULTI_TABLE_TRANSACTIONS], 1, "{:?}", m.describe());
    assert_eq!((s[mx::LOADS], s[mx::ROWS_LOADED], s[mx::LOAD_FAILURES], s[mx::RETRIES]), (3, 9, 0, 0), "{}", m.describe());
    sink.put(&batch(3, 2)).unwrap();
    assert_eq!(offsets(&mut sink), vec![Some(5); 3]);
    assert_eq!(ids(&env), expected(5));
    assert_eq!(m.snapshot()[mx::MULTI_TABLE_TRANSACTIONS], 2, "one transaction per flush");
    sink.close();
}

#[test]
fn the_interval_flushes_every_table_of_the_database_together() {
    let env = start(EmulatorConfig::default());
    let mut sink = open(&env, &[("bufferflush.intervalms", "200")]);
    let m = sink.metrics().clone();
    sink.put(&batch(0, 2)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ids(&env) != expected(2) {
        assert!(std::time::Instant::now() < deadline, "the timer never flushed: {:?}", ids(&env));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(m.snapshot()[mx::MULTI_TABLE_TRANSACTIONS], 1, "{}", m.describe());
    assert_eq!(offsets(&mut sink), vec![Some(2); 3]);
    sink.close();
}

#[test]
fn a_failed_load_inside_the_transaction_is_rolled_back_and_retried() {
    let env = start(EmulatorConfig::default());
    // the second table's load gets no answer: the attempt is rolled back, the next one commits
    fault(&env, r#"{"kind":"fail_before","op":"load","table":"k1"}"#);
    let mut sink = open(&env, &[]);
    let m = sink.metrics().clone();
    sink.put(&batch(0, 3)).unwrap();
    assert_eq!(offsets(&mut sink), vec![Some(3); 3]);
    assert_eq!(armed(&env), 0);
    assert_eq!(ids(&env), expected(3), "every row once: nothing of the rolled-back attempt landed");
    let s = m.snapshot();
    assert_eq!((s[mx::MULTI_TABLE_TRANSACTIONS], s[mx::RETRIES], s[mx::LOAD_FAILURES]), (1, 1, 1), "{}", m.describe());
    sink.close();
}

#[test]
fn a_commit_whose_answer_is_lost_is_settled_without_loading_twice() {
    let env = start(EmulatorConfig::default());
    // the commit lands, its answer does not: the rollback answers "committed"
    fault(&env, r#"{"kind":"drop_after","op":"commit"}"#);
    let mut sink = open(&env, &[]);
    sink.put(&batch(0, 2)).unwrap();
    assert_eq!(offsets(&mut sink), vec![Some(2); 3]);
    assert_eq!(armed(&env), 0);
    assert_eq!(ids(&env), expected(2));
    let s = sink.metrics().snapshot();
    assert_eq!((s[mx::RETRIES], s[mx::LOAD_FAILURES]), (0, 0), "settled as committed, not retried");
    // and a commit refused before it is applied is retried under a new label
    fault(&env, r#"{"kind":"fail_before","op":"commit"}"#);
    sink.put(&batch(2, 2)).unwrap();
    assert_eq!(offsets(&mut sink), vec![Some(4); 3]);
    assert_eq!(armed(&env), 0);
    assert_eq!(ids(&env), expected(4));
    let s = sink.metrics().snapshot();
    assert_eq!((s[mx::MULTI_TABLE_TRANSACTIONS], s[mx::RETRIES]), (2, 1));
    sink.close();
}

#[test]
fn offsets_do_not_move_past_a_transaction_that_did_not_commit() {
    let env = start(EmulatorConfig::default());
    let mut sink = open(&env, &[("sink.maxretries", "1")]);
    sink.put(&batch(0, 2)).unwrap();
    assert_eq!(offsets(&mut sink), vec![Some(2); 3]);
    // every begin of the next flush fails: no commit, so no offset past 2, and the task fails
    fault(&env, r#"{"kind":"fail_before","op":"begin","count":10}"#);
    sink.put(&batch(2, 2)).unwrap();
    let e = sink.pre_commit().expect_err("the transaction never began");
    assert_eq!(e.kind, ErrorKind::Load);
    assert!(e.message.contains("multi-table transaction") && e.message.contains("after 2 attempts"), "{}", e.message);
    assert_eq!(ids(&env), expected(2));
    sink.close();
    // a restarted task replays from offset 2 and loads the rest
    let url = format!("http://127.0.0.1:{}/api/_emulator/faults", env.emu().fe_http_port);
    env.rt.block_on(async { reqwest::Client::new().delete(url).send().await.unwrap() });
    let mut again = open(&env, &[]);
    again.put(&batch(2, 2)).unwrap();
    assert_eq!(offsets(&mut again), vec![Some(4); 3]);
    assert_eq!(ids(&env), expected(4));
    again.close();
}

#[test]
fn refused_rows_fall_back_to_the_single_table_path_and_the_dlq() {
    let env = start(EmulatorConfig::default());
    let mut sink = open(&env, &[("errors.tolerance", "all")]);
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    for t in TABLES {
        b.record(t, 0, 0, V::Struct(st.clone(), vec![V::I64(1), s("Oslo")]));
    }
    b.record("k1", 0, 1, V::Struct(st.clone(), vec![V::Null, s("Nowhere")])); // NOT NULL id: filtered
    b.record("k1", 0, 2, V::Struct(st, vec![V::I64(3), s("Lima")]));
    sink.put(&b.build()).unwrap();
    let o = sink.pre_commit().unwrap();
    assert_eq!(o[&("k1".to_string(), 0)], 3);
    let rejected = sink.drain_rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!((rejected[0].topic.as_str(), rejected[0].offset), ("k1", 1));
    assert_eq!(ids(&env), vec![vec!["1".to_string()], vec!["1".to_string(), "3".to_string()], vec!["1".to_string()]]);
    assert_eq!(sink.metrics().snapshot()[mx::MULTI_TABLE_TRANSACTIONS], 0, "the refused transaction was rolled back");
    sink.close();
}

#[test]
fn starrocks_older_than_4_0_is_refused_naming_the_key() {
    let env = start(EmulatorConfig { starrocks_version: "3.3.9".into(), ..EmulatorConfig::default() });
    let e = Sink::open(&document(&settings(&env, &[])), Log::new(5)).err().expect("refused");
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("sink.transaction.multi-table.enabled") && e.message.contains("3.3.9"), "{}", e.message);
    // validation says the same
    let problem = starrocks_sink_core::exactly_once::setup::validation_problem(&document(&settings(&env, &[]))).expect("3.3.9 is refused");
    assert!(problem.contains("sink.transaction.multi-table.enabled"), "{}", problem);
    // without the key, nothing is asked
    let plain = settings(&env, &[("sink.transaction.multi-table.enabled", "false")]);
    assert_eq!(starrocks_sink_core::exactly_once::setup::validation_problem(&document(&plain)), None);
    Sink::open(&document(&plain), Log::new(5)).expect("at-least-once without the key opens on 3.x").close();
}

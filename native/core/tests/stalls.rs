//! Stalls fail the task instead of leaving it RUNNING (`stall.rs`, `sink.stall.timeoutms`): each
//! kind of stall the emulator can make (an FE that never answers, a BE that stops reading the
//! body, a label held in PREPARE), in at-least-once and exactly-once, fails with an error naming
//! what the load was waiting for; a plain outage still ends by the retry bound, and its log is a
//! few lines, not one per attempt.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use starrocks_emulator::EmulatorConfig;
use starrocks_sink_core::log::Log;
use starrocks_sink_core::{Delivery, Error, ErrorKind, Sink, TaskSink};

mod common;

use common::{cities, document, Env};

fn fault(env: &Env, spec: &str) {
    let url = format!("http://127.0.0.1:{}/api/_emulator/faults", env.emu().fe_http_port);
    let status = env.rt.block_on(async { reqwest::Client::new().post(url).body(spec.to_string()).send().await.unwrap().status() });
    assert!(status.is_success(), "fault endpoint answered {}", status);
}

fn settings(env: &Env, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m = env.base_settings("stall-it", format!("127.0.0.1:{}", env.emu().fe_http_port));
    for (k, v) in extra {
        m.insert(k.to_string(), v.to_string());
    }
    m
}

/// Puts two records and commits: the error `pre_commit` ends with, and how long it took.
fn stalled_commit(sink: &mut dyn Delivery) -> (Error, Duration) {
    sink.put(&cities(0, &["Oslo", "Bergen"])).unwrap();
    let started = Instant::now();
    let e = sink.pre_commit().expect_err("a stalled load must fail the commit");
    (e, started.elapsed())
}

fn assert_stall(e: &Error, took: Duration, waiting_for: &[&str]) {
    assert_eq!(e.kind, ErrorKind::Load, "{}", e.message);
    assert!(e.message.starts_with("stalled: "), "{}", e.message);
    assert!(e.message.contains("records wait") && e.message.contains("label "), "{}", e.message);
    for w in waiting_for {
        assert!(e.message.contains(w), "'{}' not in: {}", w, e.message);
    }
    assert!(took < Duration::from_secs(20), "the watchdog took {:?}", took);
}

#[test]
fn an_fe_that_never_answers_fails_the_task_naming_the_redirect() {
    let env = Env::start_with(EmulatorConfig::default());
    fault(&env, r#"{"kind":"fe_silent","count":100,"seconds":60}"#);
    let s = settings(&env, &[("sink.timeoutms", "60000"), ("sink.stall.timeoutms", "1500")]);
    let mut sink = Sink::open(&document(&s), Log::new(5)).unwrap();
    let (e, took) = stalled_commit(&mut sink);
    assert_stall(&e, took, &["the load into t", "while 2 records wait", "FE http://127.0.0.1", "to redirect the load"]);
    assert!(sink.put(&cities(2, &["Alta"])).is_err(), "the sink stays poisoned");
    assert!(env.ids().is_empty());
}

#[test]
fn a_be_that_hangs_mid_body_fails_the_task_naming_the_be() {
    let env = Env::start_with(EmulatorConfig::default());
    fault(&env, r#"{"kind":"stall_mid_body","count":100,"seconds":60}"#);
    let s = settings(&env, &[("sink.timeoutms", "60000"), ("sink.stall.timeoutms", "1500")]);
    let mut sink = Sink::open(&document(&s), Log::new(5)).unwrap();
    let (e, took) = stalled_commit(&mut sink);
    assert_stall(&e, took, &["the load into t", "BE http://127.0.0.1", "to read the body and answer"]);
}

#[test]
fn a_label_held_in_prepare_fails_the_task_naming_the_label_state() {
    let env = Env::start_with(EmulatorConfig::default());
    // The first attempt times out after 1 s while its transaction stays PREPARE; every retry
    // finds the label RUNNING and polls get_load_state, which keeps answering PREPARE.
    fault(&env, r#"{"kind":"hold_prepare","count":1,"seconds":120}"#);
    let s = settings(&env, &[("sink.timeoutms", "1000"), ("sink.maxretries", "100"), ("sink.stall.timeoutms", "3500")]);
    let mut sink = Sink::open(&document(&s), Log::new(5)).unwrap();
    let (e, took) = stalled_commit(&mut sink);
    assert_stall(&e, took, &["the load into t", "to leave state PREPARE"]);
}

#[test]
fn a_plain_outage_ends_by_the_retry_bound_and_logs_a_few_lines() {
    let env = Env::start_with(EmulatorConfig::default());
    // nothing listens there: connection refused at once
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut s = settings(&env, &[("sink.maxretries", "5"), ("sink.stall.timeoutms", "60000")]);
    s.insert("starrocks.http.url".into(), format!("127.0.0.1:{}", port));
    let log = Log::new(5);
    let mut sink = Sink::open(&document(&s), log.clone()).unwrap();
    let (e, took) = stalled_commit(&mut sink);
    assert_eq!(e.kind, ErrorKind::Load, "{}", e.message);
    assert!(e.message.contains("failed after 6 attempts") && e.message.contains("cannot reach FE"), "{}", e.message);
    assert!(!e.message.contains("stalled"), "{}", e.message);
    assert!(took < Duration::from_secs(10), "{:?}", took);
    let warnings: Vec<String> = log.drain().into_iter().filter(|(level, _)| *level <= 2).map(|(_, m)| m).collect();
    assert_eq!(warnings.len(), 2, "the first failure and the final error, not a line per attempt: {:#?}", warnings);
    assert!(warnings[0].starts_with("StarRocks load failed: the load into t"), "{}", warnings[0]);
}

#[test]
fn a_load_that_recovers_logs_the_recovery() {
    let env = Env::start_with(EmulatorConfig::default());
    fault(&env, r#"{"kind":"http_500","count":3}"#);
    let log = Log::new(3);
    let mut sink = Sink::open(&document(&settings(&env, &[])), log.clone()).unwrap();
    sink.put(&cities(0, &["Oslo"])).unwrap();
    assert_eq!(sink.pre_commit().unwrap().get(&("topic".to_string(), 0)), Some(&1));
    let lines: Vec<String> = log.drain().into_iter().map(|(_, m)| m).filter(|m| m.contains("StarRocks load")).collect();
    assert_eq!(lines.len(), 2, "{:#?}", lines);
    assert!(lines[0].contains("HTTP 500"), "{}", lines[0]);
    assert!(lines[1].starts_with("StarRocks loads succeed again (the load into t)"), "{}", lines[1]);
}

fn eo_settings(env: &Env, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m = settings(env, extra);
    m.insert("delivery.guarantee".into(), "exactly_once".into());
    m.insert("starrocks.query.address".into(), format!("127.0.0.1:{}", env.emu().query_port));
    m
}

#[test]
fn exactly_once_a_transaction_held_in_prepare_fails_the_task() {
    let env = Env::start_with(EmulatorConfig::default());
    // Pauses of 1.05-1.4 s between commit attempts: at 2 s the flush waits to retry after
    // finding its label in PREPARE, not in the middle of a request, whatever the jitter.
    let s = eo_settings(&env, &[("sink.stall.timeoutms", "2000"), ("sink.retry.backoffms", "700")]);
    let mut sink = TaskSink::open(&document(&s), Log::new(5)).unwrap();
    sink.open_partitions(&[("topic".to_string(), 0)]).unwrap();
    // every commit is lost before it is applied: the transaction stays PREPARE
    fault(&env, r#"{"kind":"fail_before","op":"commit","count":100000}"#);
    let (e, took) = stalled_commit(&mut *sink);
    assert_stall(&e, took, &["the flush of topic-0 offsets [0, 2) into t", "while 2 records wait", "PREPARE"]);
    assert!(e.message.contains("(label stall-it-eo-"), "the transaction's label: {}", e.message);
    assert!(sink.put(&cities(2, &["Alta"])).is_err(), "the sink stays poisoned");
}

#[test]
fn exactly_once_an_fe_that_never_answers_fails_the_task() {
    let env = Env::start_with(EmulatorConfig::default());
    let s = eo_settings(&env, &[("sink.stall.timeoutms", "2000"), ("sink.timeoutms", "60000")]);
    let mut sink = TaskSink::open(&document(&s), Log::new(5)).unwrap();
    sink.open_partitions(&[("topic".to_string(), 0)]).unwrap();
    fault(&env, r#"{"kind":"no_reply","op":"begin","count":100,"seconds":60}"#);
    let (e, took) = stalled_commit(&mut *sink);
    assert_stall(&e, took, &["the flush of topic-0", "the FE to begin transaction"]);
}

//! TxnCore on a ManualClock: nothing here sleeps, time moves only when a test moves it.

use std::sync::Arc;

use super::*;
use crate::clock::ManualClock;

fn core(opts: CoreOptions) -> (TxnCore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_000.0));
    let c = TxnCore::in_memory(opts, clock.clone());
    c.execute("CREATE DATABASE db").unwrap();
    for t in ["a", "b"] {
        c.execute(&format!("CREATE TABLE db.{t} (id INT NOT NULL, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")).unwrap();
    }
    c.execute("CREATE TABLE db.pk (id INT NOT NULL, epoch INT, owner VARCHAR(20)) PRIMARY KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1").unwrap();
    (c, clock)
}

fn csv() -> Vec<(String, String)> {
    vec![("column_separator".into(), ",".into())]
}

fn count(c: &TxnCore, t: &str) -> String {
    c.execute(&format!("SELECT COUNT(*) FROM db.{t}")).unwrap().rows[0][0].clone().unwrap()
}

fn state(c: &TxnCore, label: &str) -> String {
    c.load_state("db", label).0
}

#[test]
fn commit_is_atomic_over_tables() {
    let (c, _) = core(CoreOptions::default());
    let id = c.begin_multi("db", "l1", None).unwrap();
    assert_eq!(state(&c, "l1"), "PREPARE");
    let r = c.load("db", "l1", "a", &csv(), b"1,10\n2,20\n").unwrap();
    assert_eq!((r.loaded_rows, r.filtered_rows, r.txn_id), (2, 0, id));
    c.load("db", "l1", "b", &csv(), b"3,30\n").unwrap();
    c.load("db", "l1", "a", &csv(), b"4,40\n").unwrap();
    assert_eq!((count(&c, "a"), count(&c, "b")), ("0".into(), "0".into()), "nothing before commit");
    let rep = c.commit("db", "l1").unwrap();
    assert_eq!(rep, CommitReport { txn_id: id, state: TxnState::Visible });
    assert_eq!((count(&c, "a"), count(&c, "b")), ("3".into(), "1".into()));
    assert_eq!(c.commit("db", "l1").unwrap().state, TxnState::Visible, "commit is idempotent");
    assert_eq!(c.begin_multi("db", "l1", None), Err(TxnError::LabelExists { running: false }));
}

#[test]
fn failed_load_aborts_everything() {
    let (c, _) = core(CoreOptions::default());
    c.begin_multi("db", "l", None).unwrap();
    c.load("db", "l", "a", &csv(), b"1,10\n").unwrap();
    let e = c.load("db", "l", "b", &csv(), b"x,1\n").unwrap_err();
    assert_eq!(e, TxnError::Aborted("too many filtered rows".into()));
    assert_eq!(c.commit("db", "l"), Err(TxnError::Aborted("too many filtered rows".into())));
    assert!(matches!(c.load("db", "l", "a", &csv(), b"2,2\n"), Err(TxnError::Aborted(_))));
    assert_eq!(c.load_state("db", "l"), ("ABORTED".into(), Some("too many filtered rows".into())));
    assert_eq!(count(&c, "a"), "0");
    // Label reusable after ABORTED.
    c.begin_multi("db", "l", None).unwrap();
    let e = c.load("db", "l", "nope", &csv(), b"1,1\n").unwrap_err();
    assert_eq!(e, TxnError::Aborted("unknown table \"db.nope\"".into()));
    c.begin_multi("db", "l", None).unwrap();
    c.load("db", "l", "a", &csv(), b"1,1\n").unwrap();
    let other = vec![("column_separator".to_string(), "|".to_string())];
    assert_eq!(c.load("db", "l", "a", &other, b"1|1\n"), Err(TxnError::Aborted("load request not equal last.".into())));
    assert!(c.load("db", "l", "a", &csv(), b"").is_err(), "aborted");
    assert_eq!(c.load("db", "l", "", &csv(), b""), Err(TxnError::Aborted("load request not equal last.".into())));
}

#[test]
fn table_header_required_and_refusal_does_not_abort() {
    let (c, _) = core(CoreOptions::default());
    c.begin_multi("db", "l", None).unwrap();
    assert_eq!(c.load("db", "l", "", &csv(), b"1,1\n"), Err(TxnError::Failed("No table selected.".into())));
    assert_eq!(c.check_load("db", "l", ""), Err(TxnError::Failed("No table selected.".into())));
    assert_eq!(c.check_load("db", "l", "a"), Ok(()));
    assert_eq!(c.check_load("db", "zz", "a"), Err(TxnError::NotFound));
    assert_eq!(state(&c, "l"), "PREPARE");
    assert_eq!(c.load("db", "zz", "a", &csv(), b"1,1\n"), Err(TxnError::NotFound));
    assert_eq!(c.commit("db", "zz"), Err(TxnError::NotFound));
    assert_eq!(c.rollback("db", "zz"), Err(TxnError::NotFound));
    assert!(matches!(c.begin_multi("nodb", "l", None), Err(TxnError::Failed(_))));
    assert!(matches!(c.begin_multi("db", "bad label", None), Err(TxnError::Failed(_))));
}

#[test]
fn rollback_and_label_rules() {
    let (c, _) = core(CoreOptions::default());
    c.begin_multi("db", "l", None).unwrap();
    assert_eq!(c.begin_multi("db", "l", None), Err(TxnError::LabelExists { running: true }));
    c.load("db", "l", "a", &csv(), b"1,1\n").unwrap();
    c.rollback("db", "l").unwrap();
    assert_eq!(c.load_state("db", "l"), ("ABORTED".into(), Some("transaction is aborted by user.".into())));
    c.rollback("db", "l").unwrap();
    assert_eq!(c.commit("db", "l"), Err(TxnError::Aborted("transaction is aborted by user.".into())));
    assert_eq!(count(&c, "a"), "0");
    let id = c.begin_multi("db", "l", None).unwrap();
    c.commit("db", "l").unwrap();
    assert_eq!(c.rollback("db", "l"), Err(TxnError::Failed(format!("{FE_EXCEPTION}: cannot abort committed transaction {id}, label l "))));
}

#[test]
fn empty_transaction_commits_nothing() {
    let (c, _) = core(CoreOptions::default());
    c.begin_multi("db", "e", None).unwrap();
    assert_eq!(c.commit("db", "e").unwrap().state, TxnState::Visible);
    assert_eq!(count(&c, "a"), "0");
}

#[test]
fn default_timeout_is_20_seconds_and_explicit_one_wins() {
    let (c, clock) = core(CoreOptions::default());
    c.begin_multi("db", "d", None).unwrap();
    c.begin_multi("db", "x", Some(100)).unwrap();
    c.load("db", "d", "a", &csv(), b"1,1\n").unwrap();
    clock.advance(19.9);
    assert_eq!(state(&c, "d"), "PREPARE");
    clock.advance(0.1);
    assert_eq!(c.load_state("db", "d"), ("ABORTED".into(), Some("transaction is aborted by timeout 20 seconds.".into())));
    assert_eq!(c.commit("db", "d"), Err(TxnError::Aborted("transaction is aborted by timeout 20 seconds.".into())));
    assert_eq!(state(&c, "x"), "PREPARE");
    clock.advance(80.0);
    assert_eq!(c.commit("db", "x"), Err(TxnError::Aborted("transaction is aborted by timeout 100 seconds.".into())));
    assert_eq!(count(&c, "a"), "0");
}

#[test]
fn publish_delay_hides_rows_until_visible_and_keeps_commit_order() {
    let (c, clock) = core(CoreOptions { publish_delay_secs: 5.0, ..Default::default() });
    c.begin_multi("db", "p1", None).unwrap();
    c.load("db", "p1", "pk", &csv(), b"1,1,first\n").unwrap();
    assert_eq!(c.commit("db", "p1").unwrap().state, TxnState::Committed);
    assert_eq!(state(&c, "p1"), "COMMITTED");
    assert_eq!(c.commit("db", "p1").unwrap().state, TxnState::Committed, "re-commit reports COMMITTED");
    assert_eq!(c.rollback("db", "p1").unwrap_err(), TxnError::Failed(format!("{FE_EXCEPTION}: cannot abort committed transaction {}, label p1 ", c.commit("db", "p1").unwrap().txn_id)));
    assert_eq!(count(&c, "pk"), "0", "COMMITTED rows are not visible");
    clock.advance(2.0);
    c.begin_multi("db", "p2", None).unwrap();
    c.load("db", "p2", "pk", &csv(), b"1,2,second\n").unwrap();
    c.commit("db", "p2").unwrap();
    clock.advance(3.0);
    assert_eq!((state(&c, "p1"), state(&c, "p2")), ("VISIBLE".into(), "COMMITTED".into()));
    assert_eq!(c.execute("SELECT owner FROM db.pk").unwrap().rows, vec![vec![Some("first".to_string())]]);
    clock.advance(2.0);
    assert_eq!(state(&c, "p2"), "VISIBLE");
    assert_eq!(c.execute("SELECT owner FROM db.pk").unwrap().rows, vec![vec![Some("second".to_string())]], "applied in commit order");
    // A committed transaction survives an FE restart and still publishes.
    c.begin_multi("db", "p3", None).unwrap();
    c.load("db", "p3", "a", &csv(), b"9,9\n").unwrap();
    c.commit("db", "p3").unwrap();
    c.begin_multi("db", "run", None).unwrap();
    c.fe_restart();
    assert_eq!(c.load_state("db", "run"), ("ABORTED".into(), Some("FE restarted".into())));
    clock.advance(5.0);
    assert_eq!(state(&c, "p3"), "VISIBLE");
    assert_eq!(count(&c, "a"), "1");
}

#[test]
fn stream_load_queues_behind_pending_commits() {
    let (c, clock) = core(CoreOptions { publish_delay_secs: 1.0, ..Default::default() });
    let h = |extra: &[(&str, &str)]| {
        let mut v = csv();
        v.push(("columns".into(), "id,epoch,owner".into()));
        v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        v
    };
    c.stream_load("db", "pk", "s1", &h(&[]), b"1,5,w5\n").unwrap();
    assert_eq!(state(&c, "s1"), "COMMITTED");
    clock.advance(1.0);
    assert_eq!(state(&c, "s1"), "VISIBLE");
    // merge_condition: a lower epoch does not move the value backwards.
    let mc = h(&[("merge_condition", "epoch")]);
    c.stream_load("db", "pk", "s2", &mc, b"1,3,w3\n").unwrap();
    c.stream_load("db", "pk", "s3", &mc, b"1,7,w7\n").unwrap();
    clock.advance(1.0);
    assert_eq!(c.execute("SELECT epoch, owner FROM db.pk").unwrap().rows, vec![vec![Some("7".to_string()), Some("w7".to_string())]]);
    assert_eq!(c.stream_load("db", "pk", "s3", &mc, b"1,9,w9\n"), Err(TxnError::LabelExists { running: false }));
    let e = c.stream_load("db", "pk", "s4", &mc, b"").unwrap_err();
    assert!(matches!(e, TxnError::Aborted(ref m) if m.starts_with("No partitions have data")), "{e:?}");
    assert!(matches!(c.stream_load("db", "nope", "s5", &mc, b"1,1,x\n"), Err(TxnError::Failed(_))));
}

#[test]
fn eviction_and_retention() {
    let (c, clock) = core(CoreOptions::default());
    c.begin_multi("db", "v", None).unwrap();
    c.commit("db", "v").unwrap();
    c.begin_multi("db", "r", None).unwrap();
    c.evict_finished("db");
    assert_eq!(state(&c, "v"), "UNKNOWN");
    assert_eq!(state(&c, "r"), "PREPARE", "running labels stay");
    c.begin_multi("db", "v", None).unwrap();
    c.commit("db", "v").unwrap();
    c.set_retention(10.0, 1000);
    clock.advance(11.0);
    assert_eq!(state(&c, "v"), "UNKNOWN", "forgotten after keep_max_second");
    c.rollback("db", "r").unwrap();
    c.set_retention(1e9, 1);
    for l in ["n1", "n2", "n3"] {
        c.begin_multi("db", l, None).unwrap();
        c.commit("db", l).unwrap();
    }
    assert_eq!((state(&c, "n1"), state(&c, "n2"), state(&c, "n3")), ("UNKNOWN".into(), "UNKNOWN".into(), "VISIBLE".into()));
}

#[test]
fn outside_single_table_commit_does_not_overtake_queued_commits_on_its_table() {
    let (c, clock) = core(CoreOptions { publish_delay_secs: 60.0, ..Default::default() });
    c.begin_multi("db", "m1", None).unwrap();
    c.load("db", "m1", "a", &csv(), b"1,1\n").unwrap();
    c.commit("db", "m1").unwrap();
    c.begin_multi("db", "m2", None).unwrap();
    c.load("db", "m2", "b", &csv(), b"2,2\n").unwrap();
    c.commit("db", "m2").unwrap();
    c.begin_multi("db", "m3", None).unwrap();
    c.load("db", "m3", "pk", &csv(), b"3,3,x\n").unwrap();
    c.commit("db", "m3").unwrap();
    let batch = |id: i128| LoadBatch {
        rows: vec![LoadRow { op: starrocks_emulator_store::model::RowOp::Upsert, values: vec![Some(starrocks_emulator_store::model::Value::Int(id)), None] }],
        partial_columns: None,
        merge_condition: None,
    };
    c.apply_ordered("db", "b", batch(9)).unwrap();
    assert_eq!((state(&c, "m1"), state(&c, "m2"), state(&c, "m3")), ("VISIBLE".into(), "VISIBLE".into(), "COMMITTED".into()), "queue order up to the last commit on b");
    assert_eq!((count(&c, "a"), count(&c, "b"), count(&c, "pk")), ("1".into(), "2".into(), "0".into()));
    clock.advance(60.0);
    assert_eq!(state(&c, "m3"), "VISIBLE");
}

//! The exactly-once sink (`delivery.guarantee=exactly_once`) as the task drives it, against the
//! in-process emulator over real HTTP and MySQL: replays after a crash land once, a zombie's
//! flush is fenced, old StarRocks is refused, the offset column reaches the rows.

use std::collections::HashMap;

use starrocks_emulator::EmulatorConfig;
use starrocks_sink_core::log::Log;
use starrocks_sink_core::{ErrorKind, TaskSink};

mod common;

use common::{cities, cities_on, document, Env};

fn tp() -> (String, i32) {
    ("topic".to_string(), 0)
}

fn settings(env: &Env, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m = env.base_settings("eo-it", format!("127.0.0.1:{}", env.emu().fe_http_port));
    m.insert("delivery.guarantee".into(), "exactly_once".into());
    m.insert("starrocks.query.address".into(), format!("127.0.0.1:{}", env.emu().query_port));
    for (k, v) in extra {
        m.insert(k.to_string(), v.to_string());
    }
    m
}

fn open(env: &Env) -> TaskSink {
    TaskSink::open(&document(&settings(env, &[])), Log::new(5)).expect("exactly-once sink opens")
}

fn committed(sink: &mut TaskSink) -> Option<i64> {
    sink.pre_commit().unwrap().get(&tp()).copied()
}

fn register(env: &Env) -> Vec<Vec<Option<String>>> {
    env.sql("SELECT topic, kafka_partition, next_offset, generation FROM d.kafka_connect_register")
}

#[test]
fn a_replay_after_a_crash_lands_once_and_connect_seeks_to_the_register() {
    let env = Env::start_with(EmulatorConfig::default());
    let mut first = open(&env);
    assert_eq!(first.open_partitions(&[tp()]).unwrap(), vec![-1], "nothing loaded yet: no seek");
    first.put(&cities(0, &["Oslo", "Bergen", "Tromsø"])).unwrap();
    assert_eq!(committed(&mut first), Some(3));
    assert_eq!(env.ids(), vec!["1", "2", "3"]);
    let reg = register(&env);
    assert_eq!(reg.len(), 1);
    assert_eq!(reg[0][2].as_deref(), Some("3"), "{:?}", reg);
    drop(first); // crashed before Kafka stored offset 3

    let mut second = open(&env);
    assert_eq!(second.open_partitions(&[tp()]).unwrap(), vec![3], "Connect must seek to the register");
    // had the seek not happened, the replay from 0 is dropped up to the register
    second.put(&cities(0, &["Oslo", "Bergen", "Tromsø", "Bodø", "Alta"])).unwrap();
    assert_eq!(committed(&mut second), Some(5));
    assert_eq!(env.ids(), vec!["1", "2", "3", "4", "5"]);
    assert_eq!(register(&env)[0][3].as_deref(), Some("2"), "each owner takes a new generation");
    second.close();
}

/// Flushes run while the rows of the next batches are written: a batch that starts a flush is
/// done without waiting for its transaction, and the next partition's rows are taken meanwhile.
#[test]
fn a_flush_flies_while_put_goes_on() {
    let env = Env::start_with(EmulatorConfig::default());
    let s = settings(&env, &[("bufferflush.maxbytes", "60"), ("sink.timeoutms", "30000")]);
    let mut sink = TaskSink::open(&document(&s), Log::new(5)).unwrap();
    let (p0, p1) = (tp(), ("topic".to_string(), 1));
    sink.open_partitions(&[p0.clone(), p1.clone()]).unwrap();
    // partition 0's transaction begins, then its answer never comes for 2 s
    let url = format!("http://127.0.0.1:{}/api/_emulator/faults", env.emu().fe_http_port);
    let arm = r#"{"kind":"no_reply","op":"begin","count":1,"seconds":2}"#;
    env.rt.block_on(async { reqwest::Client::new().post(url).body(arm).send().await.unwrap().error_for_status().unwrap() });

    sink.put(&cities(0, &["Oslo", "Bergen", "Tromsø"])).unwrap(); // past 60 bytes: flushes
    // (drain_rejected waits until the serializer thread is done with the batches put, and flushes nothing)
    assert!(sink.drain_rejected().is_empty());
    assert!(env.ids().is_empty(), "the batch was taken while its flush waits for begin");
    sink.put(&cities_on(1, 0, &["Bodø"], 100)).unwrap();
    assert!(sink.drain_rejected().is_empty());
    assert!(env.ids().is_empty(), "partition 1 was taken while partition 0's flush flies");
    let offsets = sink.pre_commit().unwrap();
    assert_eq!((offsets.get(&p0), offsets.get(&p1)), (Some(&3), Some(&1)), "pre_commit waits for every flight");
    assert_eq!(env.ids(), vec!["1", "2", "3", "100"]);
    sink.close();
}

#[test]
fn a_zombie_that_lost_the_partition_cannot_load() {
    let env = Env::start_with(EmulatorConfig::default());
    let mut zombie = open(&env);
    zombie.open_partitions(&[tp()]).unwrap();
    zombie.put(&cities(0, &["Oslo", "Bergen"])).unwrap();
    // a rebalance gave the partition to another task before the zombie flushed
    let mut owner = open(&env);
    assert_eq!(owner.open_partitions(&[tp()]).unwrap(), vec![-1]);
    owner.put(&cities(0, &["Oslo", "Bergen"])).unwrap();
    assert_eq!(committed(&mut owner), Some(2));
    assert_eq!(zombie.pre_commit().unwrap().get(&tp()), None, "a fenced task answers no offset");
    zombie.put(&cities(2, &["Bodø"])).unwrap();
    assert_eq!(zombie.pre_commit().unwrap().get(&tp()), None);
    assert_eq!(env.ids(), vec!["1", "2"], "the zombie's rows must not land");
    owner.put(&cities(2, &["Bodø"])).unwrap();
    assert_eq!(committed(&mut owner), Some(3));
    assert_eq!(env.ids(), vec!["1", "2", "3"]);
}

#[test]
fn starrocks_older_than_4_0_is_refused_by_name() {
    let env = Env::start_with(EmulatorConfig { starrocks_version: "3.3.9".into(), ..EmulatorConfig::default() });
    let e = TaskSink::open(&document(&settings(&env, &[])), Log::new(5)).err().expect("refused");
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("4.0") && e.message.contains("3.3.9"), "{}", e.message);
}

#[test]
fn a_missing_register_is_refused_with_its_ddl_when_creating_is_not_allowed() {
    let env = Env::start_with(EmulatorConfig::default());
    let e = TaskSink::open(&document(&settings(&env, &[("exactly.once.register.create", "false")])), Log::new(5)).err().expect("refused");
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("CREATE TABLE"), "{}", e.message);
}

#[test]
fn the_offset_column_carries_each_rows_kafka_offset() {
    let env = Env::start_with(EmulatorConfig::default());
    env.sql(
        "CREATE TABLE d.pk (id INT NOT NULL, city VARCHAR(64), kafka_offset BIGINT NOT NULL) PRIMARY KEY(id) \
         DISTRIBUTED BY HASH(id) BUCKETS 1",
    );
    let extra = [("starrocks.topic2table.map", "topic:pk"), ("exactly.once.offset.column", "kafka_offset")];
    let mut sink = TaskSink::open(&document(&settings(&env, &extra)), Log::new(5)).unwrap();
    sink.open_partitions(&[tp()]).unwrap();
    sink.put(&cities(7, &["Oslo", "Bergen"])).unwrap();
    assert_eq!(committed(&mut sink), Some(9));
    let rows = env.sql("SELECT id, kafka_offset FROM d.pk ORDER BY id");
    let rows: Vec<(String, String)> = rows.into_iter().map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap())).collect();
    assert_eq!(rows, vec![("8".into(), "7".into()), ("9".into(), "8".into())]);
}

#[test]
fn validation_names_an_old_cluster_and_passes_a_new_or_unreachable_one() {
    use starrocks_sink_core::exactly_once::setup::validation_problem;
    let old = Env::start_with(EmulatorConfig { starrocks_version: "3.3.9".into(), ..EmulatorConfig::default() });
    let problem = validation_problem(&document(&settings(&old, &[]))).expect("3.3.9 is refused");
    assert!(problem.contains("4.0") && problem.contains("3.3.9"), "{}", problem);

    let new = Env::start_with(EmulatorConfig::default());
    assert_eq!(validation_problem(&document(&settings(&new, &[]))), None);
    // at-least-once asks nothing, even of an old cluster
    let mut at_least_once = settings(&old, &[]);
    at_least_once.insert("delivery.guarantee".into(), "at_least_once".into());
    assert_eq!(validation_problem(&document(&at_least_once)), None);
    // a cluster that is down while the connector is created does not keep it from being created
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = settings(&new, &[("starrocks.query.address", &format!("127.0.0.1:{}", free))]);
    assert_eq!(validation_problem(&document(&down)), None);
}

#[test]
fn a_column_is_added_before_the_transaction_that_first_writes_it() {
    use starrocks_sink_core::boundary::builder::{s, BatchBuilder, V};
    let env = Env::start_with(EmulatorConfig { schema_change_delay_ms: 300, ..EmulatorConfig::default() });
    let mut sink = TaskSink::open(&document(&settings(&env, &[("auto.evolve", "true")])), Log::new(5)).unwrap();
    sink.open_partitions(&[tp()]).unwrap();
    let mut b = BatchBuilder::new();
    b.record("topic", 0, 0, V::Map(vec![(s("id"), V::I64(1)), (s("city"), s("Oslo")), (s("phone"), s("555"))]));
    sink.put(&b.build()).unwrap();
    assert!(sink.drain_rejected().is_empty()); // the serializer thread is done with the batch
    // the column is there before any transaction began: the batch waited for the schema change
    assert!(env.sql("SELECT COLUMN_NAME FROM information_schema.columns WHERE TABLE_NAME = 't'").iter().any(|r| r[0].as_deref() == Some("phone")));
    assert_eq!(committed(&mut sink), Some(1));
    assert_eq!(env.sql("SELECT id, phone FROM d.t"), vec![vec![Some("1".into()), Some("555".into())]]);
    sink.close();
}

//! The exactly-once protocol over the real wire: `HttpTxnApi` (multi-table transactions over
//! HTTP, `get_load_state`, one-shot Stream Load) and `SqlClient` (the register over the MySQL
//! protocol) against the in-process emulator, with its fault points armed through its admin API.

mod common;

use common::document;
use std::collections::HashMap;
use std::sync::Arc;

use starrocks_emulator::{EmulatorConfig, RunningEmulator};
use starrocks_sink_core::config::Config;
use starrocks_sink_core::backoff::Backoff;
use starrocks_sink_core::exactly_once::api::{TxnApi, TxnState, Unknown};
use starrocks_sink_core::exactly_once::http_api::HttpTxnApi;
use starrocks_sink_core::exactly_once::setup;
use starrocks_sink_core::sql::SqlClient;
use starrocks_sink_core::ErrorKind;
use starrocks_sink_core::exactly_once::{EoPolicy, FlushOutcome, PartitionWriter, Register};
use starrocks_sink_core::stream_load::LoadRequest;
use starrocks_sink_core::stream_load::StreamLoadClient;
use tokio::runtime::Runtime;

struct Env {
    rt: Runtime,
    emu: Option<RunningEmulator>,
    api: HttpTxnApi,
    /// The query port, also the api's.
    sql: Arc<SqlClient>,
}

fn register() -> Register {
    Register { db: "d".into(), table: "eo_register".into(), connector: "http-test".into() }
}

impl Env {
    fn start() -> Env {
        Env::start_with(EmulatorConfig::default())
    }

    fn start_with(cfg: EmulatorConfig) -> Env {
        let rt = Runtime::new().unwrap();
        let emu = rt.block_on(starrocks_emulator::start(cfg)).expect("emulator starts");
        let settings: HashMap<String, String> = [
            ("starrocks.http.url", format!("127.0.0.1:{}", emu.fe_http_port)),
            ("starrocks.database.name", "d".into()),
            ("starrocks.username", "root".into()),
            ("starrocks.password", "".into()),
            ("sink.timeoutms", "3000".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let cfg = Config::from_document(&document(&settings)).unwrap();
        let client = Arc::new(StreamLoadClient::new(&cfg).unwrap());
        let sql = Arc::new(SqlClient::new("127.0.0.1", emu.query_port, "root", "", std::time::Duration::from_secs(10)));
        let api = HttpTxnApi { client, sql: Some(sql.clone()), db: "d".into() };
        let env = Env { rt, emu: Some(emu), api, sql };
        for q in [
            "CREATE DATABASE d".to_string(),
            "CREATE TABLE d.events (kafka_partition INT NOT NULL, kafka_offset BIGINT NOT NULL) DUPLICATE KEY (kafka_partition, kafka_offset) DISTRIBUTED BY HASH (kafka_partition)".to_string(),
            "CREATE TABLE d.latest (k BIGINT NOT NULL, kafka_offset BIGINT NOT NULL) PRIMARY KEY (k) DISTRIBUTED BY HASH (k)".to_string(),
        ] {
            env.rt.block_on(env.sql.execute(&q)).unwrap_or_else(|e| panic!("{}: {}", q, e));
        }
        env
    }

    /// The checks a task makes before loading: version, then the register (created here).
    fn setup(&self) {
        self.rt.block_on(setup::check_version(&self.sql, setup::ASKED_BY_EXACTLY_ONCE)).expect("4.0 or later");
        self.rt.block_on(setup::ensure_register(&self.sql, &register(), true)).expect("register created");
    }

    fn offsets(&self) -> Vec<i64> {
        let rows = self.emu.as_ref().unwrap().execute("SELECT kafka_offset FROM d.events ORDER BY kafka_offset").unwrap().rows;
        rows.into_iter().map(|r| r[0].as_deref().unwrap().parse().unwrap()).collect()
    }

    fn fault(&self, spec: serde_json::Value) {
        let url = format!("http://127.0.0.1:{}/api/_emulator/faults", self.emu.as_ref().unwrap().fe_http_port);
        let r = self.rt.block_on(reqwest::Client::new().post(url).header("content-type", "application/json").body(spec.to_string()).send()).unwrap();
        assert!(r.status().is_success(), "arming {}: {}", spec, r.status());
    }

    /// Faults still armed (each is consumed by the request it hits).
    fn armed(&self) -> String {
        let url = format!("http://127.0.0.1:{}/api/_emulator/faults", self.emu.as_ref().unwrap().fe_http_port);
        let text = self.rt.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() });
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let list = v.get("faults").cloned().unwrap_or(v);
        if list.as_array().is_some_and(|a| a.is_empty()) { String::new() } else { list.to_string() }
    }

    fn fence(&self, owner: &str) -> PartitionWriter {
        self.rt
            .block_on(PartitionWriter::fence(&self.api, &policy(), &register(), "http-test", "orders", 0, owner))
            .expect("fenced")
    }

    fn flush(&self, w: &mut PartitionWriter, start: i64, end: i64) -> FlushOutcome {
        self.rt.block_on(w.flush(&self.api, &policy(), start, end, &bodies(start, end))).expect("flush")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}

fn policy() -> EoPolicy {
    EoPolicy {
        txn_timeout_secs: 20,
        max_attempts: 5,
        backoff: Backoff::new(std::time::Duration::from_millis(20), std::time::Duration::from_millis(200)),
        visible_wait: std::time::Duration::from_secs(10),
    }
}

fn bodies(start: i64, end: i64) -> Vec<LoadRequest> {
    let events: Vec<_> = (start..end).map(|o| serde_json::json!({"kafka_partition": 0, "kafka_offset": o})).collect();
    let latest: Vec<_> = (start..end).map(|o| serde_json::json!({"k": o % 3, "kafka_offset": o})).collect();
    vec![
        common::table_load("d", "events", &events),
        common::table_load("d", "latest", &latest),
    ]
}

#[test]
fn flushes_commit_data_and_register_together_and_a_zombie_is_fenced() {
    let env = Env::start();
    env.setup();

    let mut a = env.fence("task-a");
    assert_eq!(a.next_offset(), -1);
    assert_eq!(env.flush(&mut a, 0, 5), FlushOutcome::Committed { next: 5 });
    assert_eq!(env.flush(&mut a, 5, 9), FlushOutcome::Committed { next: 9 });
    assert_eq!(env.offsets(), (0..9).collect::<Vec<_>>());

    // A rebalance: task B takes the partition over while A still runs.
    let mut b = env.fence("task-b");
    assert_eq!(b.next_offset(), 9);
    assert!(b.generation() > a.generation());
    assert_eq!(env.flush(&mut a, 9, 12), FlushOutcome::Fenced, "the zombie must not commit");
    assert_eq!(env.flush(&mut b, 9, 12), FlushOutcome::Committed { next: 12 });
    assert_eq!(env.offsets(), (0..12).collect::<Vec<_>>());
}

#[test]
fn lost_answers_and_refused_requests_resolve_without_duplicates() {
    let env = Env::start();
    env.setup();
    let mut w = env.fence("task-a");
    // The commit is applied but its answer never arrives: the writer finds it through the
    // label's state and the register.
    env.fault(serde_json::json!({"kind": "drop_after", "op": "commit"}));
    assert_eq!(env.flush(&mut w, 0, 4), FlushOutcome::Committed { next: 4 });
    assert_eq!(env.armed(), "", "the fault must have hit");
    // A load refused before it is applied: rolled back and tried again under the same label.
    env.fault(serde_json::json!({"kind": "fail_before", "op": "load"}));
    assert_eq!(env.flush(&mut w, 4, 8), FlushOutcome::Committed { next: 8 });
    assert_eq!(env.armed(), "");
    // A begin applied whose answer is lost: the writer aborts it and begins again.
    env.fault(serde_json::json!({"kind": "drop_after", "op": "begin"}));
    assert_eq!(env.flush(&mut w, 8, 10), FlushOutcome::Committed { next: 10 });
    assert_eq!(env.armed(), "");
    assert_eq!(env.offsets(), (0..10).collect::<Vec<_>>());

    // A crash after the commit was applied: the successor fences and continues after it.
    env.fault(serde_json::json!({"kind": "drop_after", "op": "commit"}));
    let lost = env.rt.block_on(w.flush(&env.api, &EoPolicy { max_attempts: 1, ..policy() }, 10, 13, &bodies(10, 13)));
    drop(lost); // whatever the crashed writer concluded, it is gone now
    let mut next = env.fence("task-b");
    assert_eq!(next.next_offset(), 13);
    assert_eq!(env.flush(&mut next, 13, 15), FlushOutcome::Committed { next: 15 });
    assert_eq!(env.offsets(), (0..15).collect::<Vec<_>>());
}

#[test]
fn an_older_starrocks_and_a_missing_register_are_refused_clearly() {
    let env = Env::start_with(EmulatorConfig { starrocks_version: "3.5.2".into(), ..EmulatorConfig::default() });
    let e = env.rt.block_on(setup::check_version(&env.sql, setup::ASKED_BY_EXACTLY_ONCE)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("needs StarRocks 4.0 or later") && e.message.contains("3.5.2"), "{}", e.message);
    let e = env.rt.block_on(setup::ensure_register(&env.sql, &register(), false)).unwrap_err();
    assert!(e.message.contains("does not exist") && e.message.contains("CREATE TABLE IF NOT EXISTS `d`.`eo_register`"), "{}", e.message);
    env.rt.block_on(setup::ensure_register(&env.sql, &register(), true)).unwrap();
    env.rt.block_on(setup::ensure_register(&env.sql, &register(), false)).expect("exists now");
}

#[test]
fn without_a_query_port_client_a_query_is_an_internal_unknown() {
    // at-least-once's multi-table transactions carry no query port client: they never query
    let env = Env::start();
    let api = HttpTxnApi { client: env.api.client.clone(), sql: None, db: "d".into() };
    match env.rt.block_on(api.query("SELECT 1")) {
        Err(Unknown(m)) => assert!(m.contains("internal error") && m.contains("SELECT 1"), "{}", m),
        Ok(rows) => panic!("answered {:?}", rows),
    }
    // the transactions themselves do not need one
    assert_eq!(env.rt.block_on(api.state("never-used")).unwrap(), TxnState::Unknown);
}

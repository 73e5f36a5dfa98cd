//! What the sink's integration tests share: an in-process emulator with the table `d.t (id, city)`,
//! the task settings that load into it, and batches of cities. (A `mod common;` in each test
//! binary: Cargo builds every file of tests/ as its own crate.)
#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;

use serde_json::{json, Value};
use starrocks_sink_core::config::{sanitize_label_part, LABEL_PREFIX_MAX};

use starrocks_emulator::{EmulatorConfig, RunningEmulator};
use starrocks_sink_core::Delivery;
use starrocks_sink_core::boundary::builder::{s, BatchBuilder, S, V};
use starrocks_sink_core::Sink;
use tokio::runtime::Runtime;

pub struct Env {
    pub rt: Runtime,
    emu: Option<RunningEmulator>,
}

impl Env {
    /// Starts an emulator with `cfg` and creates `d.t`.
    pub fn start_with(cfg: EmulatorConfig) -> Env {
        let rt = Runtime::new().unwrap();
        let emu = rt.block_on(starrocks_emulator::start(cfg)).expect("emulator starts");
        let env = Env { rt, emu: Some(emu) };
        env.sql("CREATE DATABASE d");
        env.sql(
            "CREATE TABLE d.t (id INT NOT NULL, city VARCHAR(64)) DUPLICATE KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
        );
        env
    }

    pub fn emu(&self) -> &RunningEmulator {
        self.emu.as_ref().unwrap()
    }

    pub fn sql(&self, q: &str) -> Vec<Vec<Option<String>>> {
        self.emu().execute(q).unwrap_or_else(|e| panic!("{}: {}", q, e)).rows
    }

    /// `d.t`'s ids in order.
    pub fn ids(&self) -> Vec<String> {
        self.sql("SELECT id FROM d.t ORDER BY id").into_iter().map(|r| r[0].clone().unwrap()).collect()
    }

    /// A task loading topic `topic` into `d.t` through the FE at `url` as root, flushing only on
    /// `pre_commit`, with short retries.
    pub fn base_settings(&self, name: &str, url: String) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = [
            ("name", name),
            ("task.id", "0"),
            ("starrocks.database.name", "d"),
            ("starrocks.username", "root"),
            ("starrocks.password", ""),
            ("starrocks.topic2table.map", "topic:t"),
            ("bufferflush.intervalms", "3600000"),
            ("sink.retry.backoffms", "10"),
            ("sink.timeoutms", "5000"),
            ("sink.properties.strip_outer_array", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        m.insert("starrocks.http.url".into(), url);
        m.insert("starrocks.query.address".into(), format!("127.0.0.1:{}", self.emu().query_port));
        m
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}

/// One batch of `(id, city)` structs on topic `topic`, partition 0, from `first_offset` (id = offset + 1).
pub fn cities(first_offset: i64, names: &[&str]) -> Vec<u8> {
    cities_on(0, first_offset, names, 1)
}

/// `cities` on `partition`, the ids from `first_offset + first_id`.
pub fn cities_on(partition: i32, first_offset: i64, names: &[&str], first_id: i64) -> Vec<u8> {
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    for (i, name) in names.iter().enumerate() {
        let offset = first_offset + i as i64;
        b.record("topic", partition, offset, V::Struct(st.clone(), vec![V::I64(offset + first_id), s(name)]));
    }
    b.build()
}

/// The offset `pre_commit` answers for `topic`/0.
pub fn committed(sink: &mut Sink) -> Option<i64> {
    sink.pre_commit().unwrap().get(&("topic".to_string(), 0)).copied()
}

/// The shim's config document for a task whose Connect props are `m`: what
/// `StarRocksSinkConfig.nativeConfig` writes (tests/vectors/native_config.json, which java-shim's
/// NativeConfigTest holds the shim to), for the keys these tests set. Test support only: the core
/// reads documents, never props. A key the document does not carry fails here, loudly.
pub fn document(m: &HashMap<String, String>) -> String {
    let vector: Value = serde_json::from_str(include_str!("../../../../tests/vectors/native_config.json")).unwrap();
    let mut d = vector["document"].clone();
    d["sink.properties"] = json!({});
    for (k, v) in m {
        if let Some(header) = k.strip_prefix("sink.properties.") {
            d["sink.properties"][header] = v.as_str().into();
            continue;
        }
        let value = match k.as_str() {
            "starrocks.http.url" => v
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| {
                    let https = e.starts_with("https://");
                    let rest = e.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
                    json!({"https": https, "host_port": rest})
                })
                .collect(),
            "starrocks.topic2table.map" => v
                .split(',')
                .filter_map(|e| e.split_once(':'))
                .map(|(t, n)| (t.trim().to_string(), Value::from(n.trim())))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            "starrocks.query.address" => query_address(v),
            "testing.bufferflush.maxbytes" => {
                d["bufferflush.maxbytes"] = v.parse::<u64>().unwrap().into();
                continue;
            }
            "delivery.guarantee" | "errors.tolerance" => v.to_ascii_lowercase().into(),
            "exactly.once.offset.column" | "starrocks.ssl.truststore.pem" if v.is_empty() => Value::Null,
            "exactly.once.offset.column" | "starrocks.ssl.truststore.pem" => v.as_str().into(),
            _ => match &d[k.as_str()] {
                Value::Number(_) => v.parse::<u64>().unwrap_or_else(|_| panic!("{}: '{}' is not a number", k, v)).into(),
                Value::Bool(_) => (v == "true").into(),
                Value::String(_) => v.as_str().into(),
                Value::Array(_) => v.split(',').map(str::trim).filter(|e| !e.is_empty()).map(Value::from).collect(),
                _ => panic!("the shim passes no key {} to the native sink", k),
            },
        };
        d[k.as_str()] = value;
    }
    if !d["sink.properties"].as_object().unwrap().keys().any(|k| k.eq_ignore_ascii_case("format")) {
        d["sink.properties"]["format"] = "json".into();
    }
    let name = m.get("name").cloned().unwrap_or_else(|| "starrocks-sink".into());
    d["name"] = name.as_str().into();
    d["task.id"] = m.get("task.id").map_or("0", String::as_str).into();
    if m.get("sink.label.prefix").is_none_or(|p| p.is_empty()) {
        d["sink.label.prefix"] = sanitize_label_part(&name, LABEL_PREFIX_MAX).into();
    }
    if !m.contains_key("starrocks.query.address") {
        let first = d["starrocks.http.url"][0]["host_port"].as_str().unwrap().to_string();
        d["starrocks.query.address"] = query_address(&format!("{}:9030", first.rsplit_once(':').unwrap().0));
    }
    d.to_string()
}

fn query_address(v: &str) -> Value {
    let (host, port) = v.rsplit_once(':').unwrap();
    json!({"host": host.trim_start_matches('[').trim_end_matches(']'), "port": port.parse::<u16>().unwrap()})
}

/// One table's part of an exactly-once flush: JSON `rows` as a `strip_outer_array` body (the
/// writer sets each attempt's transaction label).
pub fn table_load(db: &str, table: &str, rows: &[Value]) -> starrocks_sink_core::stream_load::LoadRequest {
    let headers = vec![("format".to_string(), "json".to_string()), ("strip_outer_array".to_string(), "true".to_string())];
    starrocks_sink_core::stream_load::LoadRequest {
        target: starrocks_sink_core::route::Target { database: db.into(), table: table.into() },
        label: String::new(),
        body: serde_json::to_vec(rows).unwrap().into(),
        rows: rows.len() as u64,
        headers: std::sync::Arc::new(headers),
    }
}

//! What the sink's integration tests share: an in-process emulator with the table `d.t (id, city)`,
//! the task settings that load into it, and batches of cities. (A `mod common;` in each test
//! binary: Cargo builds every file of tests/ as its own crate.)
#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;

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
    let st = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    for (i, name) in names.iter().enumerate() {
        let offset = first_offset + i as i64;
        b.record("topic", 0, offset, V::Struct(st.clone(), vec![V::I64(offset + 1), s(name)]));
    }
    b.build()
}

/// The offset `pre_commit` answers for `topic`/0.
pub fn committed(sink: &mut Sink) -> Option<i64> {
    sink.pre_commit().unwrap().get(&("topic".to_string(), 0)).copied()
}

//! Deterministic simulation of the exactly-once protocol (issue 8), with no JVM and no sockets:
//! the core's `PartitionWriter` runs against the emulator's in-process transaction core on a
//! simulated clock. A seeded scheduler interleaves writers request by request and, between any
//! two steps, crashes a writer (drops its future: a request it sent may or may not have been
//! applied), lets a rebalance leave a zombie running beside its successor, loses replies, moves
//! time (transaction timeouts, slow publish), restarts the FE and makes StarRocks forget labels.
//!
//! After every step it checks what a reader of StarRocks sees; at the end, that every offset
//! landed exactly once. A failing seed is printed so it can be replayed:
//! `EO_SIM_SEED=<seed> cargo test --test exactly_once_sim -- --nocapture`.
//! `EO_SIM_SCHEDULES=<n>` runs more schedules (`make sim-long`).

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use starrocks_emulator::clock::ManualClock;
use starrocks_emulator::txn_core::{CoreOptions, TxnCore, TxnError};
use starrocks_sink_core::backoff::Backoff;
use starrocks_sink_core::exactly_once::api::{Begin, Commit, Load, OneShot, Rollback, TxnApi, TxnState, Unknown};
use starrocks_sink_core::stream_load::LoadRequest;
use starrocks_sink_core::exactly_once::{EoPolicy, FlushOutcome, PartitionWriter, Register};

const DB: &str = "sim";
const TOPIC: &str = "orders";
const KEYS: i64 = 7;

/// SplitMix64: a PRNG fixed in a few lines, so a seed replays the same schedule on any machine
/// and any version of a random-number crate.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// Hands control back to the scheduler once: every request the protocol makes passes two of
/// these (before it is applied, and after it is applied but before the answer).
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

fn yield_now() -> YieldNow {
    YieldNow(false)
}

/// Per mille chances that a request is refused before it is applied, or applied with its answer lost.
#[derive(Clone, Copy)]
struct Faults {
    fail_before: u64,
    drop_after: u64,
}

struct SimApi {
    core: Arc<TxnCore>,
    clock: Arc<ManualClock>,
    rng: Mutex<Rng>,
    faults: Mutex<Faults>,
}

enum Fate {
    Normal,
    FailBefore,
    DropAfter,
}

impl SimApi {
    fn fate(&self) -> Fate {
        let f = *self.faults.lock().unwrap();
        let mut r = self.rng.lock().unwrap();
        if r.chance(f.fail_before) {
            Fate::FailBefore
        } else if r.chance(f.drop_after) {
            Fate::DropAfter
        } else {
            Fate::Normal
        }
    }

    /// One request: scheduler point, maybe refused, applied, scheduler point, maybe answer lost.
    async fn request<T: std::fmt::Debug>(&self, what: &str, apply: impl FnOnce(&TxnCore) -> T) -> Result<T, Unknown> {
        yield_now().await;
        let fate = self.fate();
        if let Fate::FailBefore = fate {
            trace(|| format!("  {}: refused before applied", what));
            return Err(Unknown("connection refused (simulated)".into()));
        }
        let out = apply(&self.core);
        trace(|| format!("  {}: {:?}{}", what, out, if matches!(fate, Fate::DropAfter) { " (answer lost)" } else { "" }));
        yield_now().await;
        match fate {
            Fate::DropAfter => Err(Unknown("connection reset before the answer (simulated)".into())),
            _ => Ok(out),
        }
    }
}

impl TxnApi for SimApi {
    async fn begin(&self, label: &str, timeout_secs: u64) -> Result<Begin, Unknown> {
        self.request(&format!("begin {}", label), |c| match c.begin_multi(DB, label, Some(timeout_secs)) {
            Ok(_) => Begin::Begun,
            Err(TxnError::LabelExists { running }) => Begin::LabelExists { running },
            Err(e) => Begin::Failed(format!("{:?}", e)),
        })
        .await
    }

    async fn load(&self, request: &LoadRequest) -> Result<Load, Unknown> {
        let (label, table, body) = (request.label.as_str(), request.target.table.as_str(), &request.body[..]);
        let h = (*request.headers).clone();
        self.request(&format!("load {} {}", label, table), |c| {
            // Whether the transaction was already aborted, or this load aborted it.
            let before = c.load_state(DB, label).0;
            match c.load(DB, label, table, &h, body) {
                Ok(_) => Load::Loaded,
                Err(TxnError::Aborted(m)) if before == "ABORTED" => Load::Aborted(m),
                Err(TxnError::Aborted(m)) => Load::Rejected(m),
                Err(TxnError::NotFound) => Load::Aborted("transaction not found".into()),
                Err(e) => Load::Failed(format!("{:?}", e)),
            }
        })
        .await
    }

    async fn commit(&self, label: &str) -> Result<Commit, Unknown> {
        self.request(&format!("commit {}", label), |c| match c.commit(DB, label) {
            Ok(r) => Commit::Committed { visible: format!("{:?}", r.state).eq_ignore_ascii_case("visible") },
            Err(TxnError::Aborted(m)) => Commit::Aborted(m),
            Err(TxnError::NotFound) => Commit::NotFound,
            Err(e) => Commit::Failed(format!("{:?}", e)),
        })
        .await
    }

    async fn rollback(&self, label: &str) -> Result<Rollback, Unknown> {
        self.request(&format!("rollback {}", label), |c| {
            let state = c.load_state(DB, label).0;
            match c.rollback(DB, label) {
                Ok(()) => Rollback::RolledBack,
                Err(_) if state == "COMMITTED" || state == "VISIBLE" => Rollback::Committed,
                Err(TxnError::NotFound) => Rollback::NotFound,
                Err(e) => Rollback::Failed(format!("{:?}", e)),
            }
        })
        .await
    }

    async fn state(&self, label: &str) -> Result<TxnState, Unknown> {
        self.request(&format!("state {}", label), |c| match c.load_state(DB, label).0.as_str() {
            "PREPARE" | "PREPARED" => TxnState::Running,
            "COMMITTED" => TxnState::Committed,
            "VISIBLE" => TxnState::Visible,
            "ABORTED" => TxnState::Aborted,
            _ => TxnState::Unknown,
        })
        .await
    }

    async fn stream_load(&self, request: &LoadRequest) -> Result<OneShot, Unknown> {
        let (label, table, body) = (request.label.as_str(), request.target.table.as_str(), &request.body[..]);
        let h = (*request.headers).clone();
        self.request(&format!("stream_load {}", label), |c| match c.stream_load(DB, table, label, &h, body) {
            Ok(_) => OneShot::Loaded,
            Err(TxnError::LabelExists { .. }) => OneShot::LabelExists,
            Err(e) => OneShot::Failed(format!("{:?}", e)),
        })
        .await
    }

    async fn query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Unknown> {
        match self.request("query", |c| c.execute(sql).map(|r| r.rows)).await? {
            Ok(r) => Ok(r),
            Err(e) => Err(Unknown(e)),
        }
    }

    async fn sleep(&self, d: Duration) {
        self.clock.advance(d.as_secs_f64());
        yield_now().await;
    }
}

#[derive(Debug)]
enum TaskEnd {
    Done,
    Fenced,
    Failed(String),
}

type Task = Pin<Box<dyn Future<Output = TaskEnd>>>;

struct Slot {
    partition: i32,
    zombie: bool,
    task: Task,
}

fn register() -> Register {
    Register { db: DB.into(), table: "eo_register".into(), connector: "sim-connector".into() }
}

fn bodies(partition: i32, start: i64, end: i64) -> Vec<LoadRequest> {
    let events: Vec<_> = (start..end)
        .map(|o| serde_json::json!({"kafka_partition": partition, "kafka_offset": o, "payload": format!("p{}o{}", partition, o)}))
        .collect();
    let latest: Vec<_> = (start..end)
        .map(|o| serde_json::json!({"k": partition as i64 * 100 + o % KEYS, "kafka_offset": o}))
        .collect();
    vec![
        common::table_load(DB, "events", &events),
        common::table_load(DB, "latest", &latest),
    ]
}

/// Connect's side of one task incarnation for one partition: fence on assignment, then flush
/// batches from where the register stands, following rewinds.
async fn run_task(api: Arc<SimApi>, policy: EoPolicy, partition: i32, records: i64, kafka_committed: Arc<Mutex<BTreeMap<i32, i64>>>, owner: String, mut rng: Rng) -> TaskEnd {
    let reg = register();
    let mut w = match PartitionWriter::fence(&*api, &policy, &reg, "sim", TOPIC, partition, &owner).await {
        Ok(w) => w,
        Err(e) => {
            trace(|| format!("{} p{}: fence failed: {}", owner, partition, e.message));
            return TaskEnd::Failed(e.message);
        }
    };
    trace(|| format!("{} p{}: fenced the partition at {} gen {}", owner, partition, w.next_offset(), w.generation()));
    let committed = *kafka_committed.lock().unwrap().get(&partition).unwrap_or(&0);
    let mut pos = if w.next_offset() >= 0 { w.next_offset() } else { committed };
    loop {
        if pos >= records {
            return TaskEnd::Done;
        }
        let end = (pos + 1 + rng.below(12) as i64).min(records);
        match w.flush(&*api, &policy, pos, end, &bodies(partition, pos, end)).await {
            Ok(FlushOutcome::Committed { next }) => {
                // preCommit hands `next` to Connect: it must already be visible in StarRocks.
                let visible = visible_register(&api.core, partition).map(|r| r.0).unwrap_or(-1);
                trace(|| format!("{} p{}: committed [{}, {}) gen {}, register shows {:?}", owner, partition, pos, next, w.generation(), visible_register(&api.core, partition)));
                assert!(visible >= next, "offset {} returned to Connect while StarRocks shows {}", next, visible);
                let mut kc = kafka_committed.lock().unwrap();
                let e = kc.entry(partition).or_insert(0);
                *e = (*e).max(next);
                pos = next;
            }
            Ok(FlushOutcome::Rewind { next }) => pos = next,
            Ok(FlushOutcome::Fenced) => {
                trace(|| format!("{} p{}: fenced at {} (register {:?})", owner, partition, pos, visible_register(&api.core, partition)));
                return TaskEnd::Fenced;
            }
            Err(e) => {
                trace(|| format!("{} p{}: failed at {}: {}", owner, partition, pos, e.message));
                return TaskEnd::Failed(e.message);
            }
        }
    }
}

fn trace(msg: impl FnOnce() -> String) {
    if std::env::var_os("EO_SIM_TRACE").is_some() {
        println!("{}", msg());
    }
}

fn column_i64(core: &TxnCore, sql: &str) -> Vec<Vec<i64>> {
    let r = core.execute(sql).unwrap_or_else(|e| panic!("{}: {}", sql, e));
    r.rows.iter().map(|row| row.iter().map(|v| v.as_deref().unwrap_or("-1").parse().unwrap()).collect()).collect()
}

/// `(next_offset, generation)` of the partition's register row as a reader sees it now.
fn visible_register(core: &TxnCore, partition: i32) -> Option<(i64, i64)> {
    let rows = column_i64(
        core,
        &format!("SELECT next_offset, generation FROM {}.eo_register WHERE topic = '{}' AND kafka_partition = {}", DB, TOPIC, partition),
    );
    rows.first().map(|r| (r[0], r[1]))
}

/// What a reader sees must be consistent at every moment: the data of exactly the offsets the
/// register has passed, each once.
fn check_visible(core: &TxnCore, partition: i32, first: i64) -> Result<(), String> {
    let offsets: Vec<i64> = column_i64(core, &format!("SELECT kafka_offset FROM {}.events WHERE kafka_partition = {} ORDER BY kafka_offset", DB, partition))
        .into_iter()
        .map(|r| r[0])
        .collect();
    let next = visible_register(core, partition).map(|r| r.0).unwrap_or(-1);
    let expected: Vec<i64> = if next < 0 { Vec::new() } else { (first..next).collect() };
    if offsets != expected {
        let dups = offsets.windows(2).filter(|w| w[0] == w[1]).count();
        return Err(format!(
            "partition {}: register at {}, events hold {} rows ({} duplicated), expected offsets [{}, {})",
            partition,
            next,
            offsets.len(),
            dups,
            first,
            next
        ));
    }
    Ok(())
}

fn check_latest(core: &TxnCore, partition: i32, records: i64) -> Result<(), String> {
    let rows = column_i64(core, &format!("SELECT k, kafka_offset FROM {}.latest WHERE k >= {} AND k < {} ORDER BY k", DB, partition * 100, partition * 100 + 100));
    for k in 0..KEYS.min(records) {
        let last = (0..records).filter(|o| o % KEYS == k).max().unwrap();
        let key = partition as i64 * 100 + k;
        let got = rows.iter().find(|r| r[0] == key).map(|r| r[1]);
        if got != Some(last) {
            return Err(format!("partition {}: key {} holds offset {:?}, its last record is {}", partition, key, got, last));
        }
    }
    Ok(())
}

fn setup(seed: u64, rng: &mut Rng) -> (Arc<TxnCore>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_000_000.0));
    let opts = CoreOptions {
        label_keep_max_second: [5.0, 60.0, 259_200.0][rng.below(3) as usize],
        label_keep_max_num: [3usize, 10, 1000][rng.below(3) as usize],
        publish_delay_secs: [0.0, 0.5, 3.0][rng.below(3) as usize],
        multi_default_timeout_secs: 20,
    };
    let core = Arc::new(TxnCore::in_memory(opts, clock.clone()));
    for sql in [
        format!("CREATE DATABASE {}", DB),
        format!("CREATE TABLE {}.events (kafka_partition INT NOT NULL, kafka_offset BIGINT NOT NULL, payload VARCHAR(64)) DUPLICATE KEY (kafka_partition, kafka_offset) DISTRIBUTED BY HASH (kafka_partition)", DB),
        format!("CREATE TABLE {}.latest (k BIGINT NOT NULL, kafka_offset BIGINT NOT NULL) PRIMARY KEY (k) DISTRIBUTED BY HASH (k)", DB),
        register().create_sql(),
    ] {
        core.execute(&sql).unwrap_or_else(|e| panic!("seed {}: {}: {}", seed, sql, e));
    }
    (core, clock)
}

struct Stats {
    crashes: u64,
    zombies: u64,
    fenced: u64,
    failed: u64,
    fe_restarts: u64,
    evictions: u64,
}

/// One schedule. `Err` carries what went wrong, for the seed report.
fn run_schedule(seed: u64) -> Result<Stats, String> {
    let mut rng = Rng(seed);
    let (core, clock) = setup(seed, &mut rng);
    let faults = Faults { fail_before: rng.below(40), drop_after: rng.below(40) };
    let api = Arc::new(SimApi { core: core.clone(), clock: clock.clone(), rng: Mutex::new(Rng(seed ^ 0x5eed)), faults: Mutex::new(faults) });
    let policy = EoPolicy {
        txn_timeout_secs: 20,
        max_attempts: 6,
        // a fixed jitter seed: a schedule's seed replays it exactly
        backoff: Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(4), seed },
        visible_wait: Duration::from_secs(60),
    };
    let partitions = 1 + rng.below(2) as i32;
    let records: Vec<i64> = (0..partitions).map(|_| 20 + rng.below(60) as i64).collect();
    let kafka_committed = Arc::new(Mutex::new(BTreeMap::new()));
    let mut incarnation = 0u64;
    let mut spawn = |p: i32, zombie: bool, rng: &mut Rng| -> Slot {
        incarnation += 1;
        let task = run_task(api.clone(), policy.clone(), p, records[p as usize], kafka_committed.clone(), format!("w{}", incarnation), Rng(rng.next()));
        Slot { partition: p, zombie, task: Box::pin(task) }
    };
    let mut slots: Vec<Slot> = (0..partitions).map(|p| spawn(p, false, &mut rng)).collect();
    let mut done = vec![false; partitions as usize];
    let mut stats = Stats { crashes: 0, zombies: 0, fenced: 0, failed: 0, fe_restarts: 0, evictions: 0 };
    let mut cx = Context::from_waker(Waker::noop());
    let chaos_steps = 400 + rng.below(400);
    let mut step = 0u64;
    while !done.iter().all(|d| *d) {
        step += 1;
        if step > 60_000 {
            return Err(format!("no progress after {} steps: done {:?}, registers {:?}", step, done, (0..partitions).map(|p| visible_register(&core, p)).collect::<Vec<_>>()));
        }
        let chaos = step < chaos_steps;
        if step == chaos_steps {
            // The storm ends: no more lost answers, zombies die (Connect closes them).
            *api.faults.lock().unwrap() = Faults { fail_before: 0, drop_after: 0 };
            slots.retain(|s| !s.zombie);
        }
        if chaos {
            if rng.chance(8) {
                clock.advance(rng.below(30) as f64);
            }
            if rng.chance(3) {
                core.fe_restart();
                stats.fe_restarts += 1;
            }
            if rng.chance(4) {
                core.evict_finished(DB);
                stats.evictions += 1;
            }
        }
        if slots.is_empty() {
            // Every current task ended without finishing: Connect restarts them.
            for p in 0..partitions {
                if !done[p as usize] {
                    slots.push(spawn(p, false, &mut rng));
                }
            }
            continue;
        }
        let i = rng.below(slots.len() as u64) as usize;
        if chaos && rng.chance(15) {
            // SIGKILL: the writer stops between two steps; Connect starts a new one.
            let s = slots.swap_remove(i);
            stats.crashes += 1;
            if !s.zombie {
                slots.push(spawn(s.partition, false, &mut rng));
            }
            continue;
        }
        if chaos && rng.chance(5) && slots.iter().filter(|s| s.zombie).count() < 2 && !slots[i].zombie {
            // A rebalance whose old owner has not noticed yet: it keeps going beside the new one.
            slots[i].zombie = true;
            stats.zombies += 1;
            let p = slots[i].partition;
            slots.push(spawn(p, false, &mut rng));
            continue;
        }
        if let Poll::Ready(end) = slots[i].task.as_mut().poll(&mut cx) {
            let s = slots.swap_remove(i);
            match end {
                TaskEnd::Done if !s.zombie => done[s.partition as usize] = true,
                TaskEnd::Done => {}
                TaskEnd::Fenced => stats.fenced += 1,
                TaskEnd::Failed(m) => {
                    if m.contains("refused the rows") {
                        return Err(format!("a load was refused: {}", m));
                    }
                    stats.failed += 1;
                }
            }
            if !s.zombie && !done[s.partition as usize] && !slots.iter().any(|o| !o.zombie && o.partition == s.partition) {
                slots.push(spawn(s.partition, false, &mut rng));
            }
        }
        for p in 0..partitions {
            check_visible(&core, p, 0).map_err(|e| format!("step {}: {}", step, e))?;
        }
    }
    // Let every committed transaction publish, then check the end state.
    clock.advance(10.0);
    for p in 0..partitions {
        check_visible(&core, p, 0)?;
        let next = visible_register(&core, p).map(|r| r.0).unwrap_or(-1);
        if next != records[p as usize] {
            return Err(format!("partition {}: register at {}, {} records", p, next, records[p as usize]));
        }
        check_latest(&core, p, records[p as usize])?;
    }
    Ok(stats)
}

fn schedules() -> Vec<u64> {
    if let Ok(s) = std::env::var("EO_SIM_SEED") {
        return vec![s.trim().parse().expect("EO_SIM_SEED: a number")];
    }
    let n: u64 = std::env::var("EO_SIM_SCHEDULES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    // Seeds that once failed (see docs/exactly-once.md), kept as regression cases.
    const FOUND: &[u64] = &[14_680_166, 14_680_237, 14_687_630, 14_688_550];
    FOUND.iter().copied().chain((0..n).map(|i| 0xe0_0000 + i)).collect()
}

#[test]
fn every_offset_lands_exactly_once_under_crashes_zombies_and_faults() {
    let seeds = schedules();
    let mut totals = Stats { crashes: 0, zombies: 0, fenced: 0, failed: 0, fe_restarts: 0, evictions: 0 };
    let mut failures = Vec::new();
    for &seed in &seeds {
        match std::panic::catch_unwind(|| run_schedule(seed)) {
            Ok(Ok(s)) => {
                totals.crashes += s.crashes;
                totals.zombies += s.zombies;
                totals.fenced += s.fenced;
                totals.failed += s.failed;
                totals.fe_restarts += s.fe_restarts;
                totals.evictions += s.evictions;
            }
            Ok(Err(m)) => failures.push(format!("seed {}: {}", seed, m)),
            Err(p) => failures.push(format!("seed {}: panicked: {:?}", seed, p.downcast_ref::<String>().cloned().or(p.downcast_ref::<&str>().map(|s| s.to_string())))),
        }
        if failures.len() >= 5 {
            break;
        }
    }
    println!(
        "exactly-once simulation: {} schedules, {} writer crashes, {} zombies, {} writers fenced, {} task failures (retry budget), {} FE restarts, {} label eviction bursts, {} failing",
        seeds.len(),
        totals.crashes,
        totals.zombies,
        totals.fenced,
        totals.failed,
        totals.fe_restarts,
        totals.evictions,
        failures.len()
    );
    assert!(failures.is_empty(), "replay with EO_SIM_SEED=<seed>:\n{}", failures.join("\n"));
    // The schedules must actually have exercised the faults they claim to.
    if seeds.len() >= 100 {
        assert!(totals.crashes > 0 && totals.zombies > 0 && totals.fenced > 0 && totals.evictions > 0 && totals.fe_restarts > 0);
    }
}

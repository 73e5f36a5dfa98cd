//! `emulator-bench`: JSON ingest throughput of the emulator through real HTTP Stream Loads.
//! Starts the emulator in-process, creates a Duplicate Key table, streams ~200 MB of JSON
//! (arrays, `strip_outer_array: true`) in 20 MB loads to the BE port, and prints MB/s and rows/s.
//! `BENCH_MB` / `BENCH_LOAD_MB` override the total and per-load sizes.

/// glibc malloc spends a large share of ingest time growing thread arenas (mprotect and page
/// faults) for the millions of small row allocations a load makes; mimalloc avoids that. It is
/// built with `no_thp`: with transparent huge pages, every page mimalloc purged and took back was
/// a fresh 2 MiB page the kernel zeroed, half of the emulator's CPU (docs/emulator.md#performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use base64::Engine;
use starrocks_emulator::load::params::LoadParams;
use starrocks_emulator::load::plan::Plan;
use starrocks_emulator::load::{self, LoadOutput};
use starrocks_emulator::{start, EmulatorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// CPU seconds (user + system) this process has used so far, from /proc/self/stat: on a shared
/// machine, MB per CPU-second is steadier than wall-clock MB/s.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0) + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn env_mb(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A JSON array of rows shaped like a typical Kafka record (ids, text, numbers, a timestamp).
fn payload(target_bytes: usize, first_id: u64) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(target_bytes + 256);
    out.push(b'[');
    let mut id = first_id;
    let cities = ["New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia"];
    while out.len() < target_bytes {
        if id != first_id {
            out.push(b',');
        }
        let row = format!(
            r#"{{"id":{id},"name":"user_{id}_name","city":"{}","score":{}.{:02},"active":{},"ts":"2024-05-{:02} 12:{:02}:{:02}","note":"row number {id} of the benchmark"}}"#,
            cities[(id % 6) as usize],
            id % 1000,
            id % 100,
            id.is_multiple_of(2),
            id % 28 + 1,
            id % 60,
            (id * 7) % 60
        );
        out.extend_from_slice(row.as_bytes());
        id += 1;
    }
    out.push(b']');
    (out, id - first_id)
}

async fn stream_load(port: u16, label: &str, body: &[u8]) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode("root:");
    let head = format!(
        "PUT /api/bench/events/_stream_load HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {auth}\r\n\
         label: {label}\r\nformat: json\r\nstrip_outer_array: true\r\nignore_json_size: true\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.expect("connect to BE");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    String::from_utf8_lossy(&resp).into_owned()
}

#[tokio::main]
async fn main() {
    let total_mb = env_mb("BENCH_MB", 200);
    let load_mb = env_mb("BENCH_LOAD_MB", 20).max(1);
    let emu = start(EmulatorConfig::default()).await.expect("start emulator");
    emu.execute("CREATE DATABASE bench").unwrap();
    emu.execute(
        "CREATE TABLE bench.events (id BIGINT NOT NULL, name VARCHAR(64), city VARCHAR(32), score DOUBLE, \
         active BOOLEAN, ts DATETIME, note STRING) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1 \
         PROPERTIES(\"replication_num\"=\"1\")",
    )
    .unwrap();
    let loads = total_mb.div_ceil(load_mb);
    let mut bodies = Vec::with_capacity(loads);
    let mut next_id = 0u64;
    for _ in 0..loads {
        let (b, n) = payload(load_mb * 1024 * 1024, next_id);
        next_id += n;
        bodies.push((b, n));
    }
    let bytes: usize = bodies.iter().map(|b| b.0.len()).sum();
    let rows: u64 = bodies.iter().map(|b| b.1).sum();
    eprintln!("emulator-bench: {loads} loads, {:.1} MB, {rows} rows of JSON", bytes as f64 / 1e6);
    let t0 = Instant::now();
    let c0 = cpu_seconds();
    for (i, (body, _)) in bodies.iter().enumerate() {
        let resp = stream_load(emu.be_http_port, &format!("bench-{i}"), body).await;
        if !resp.contains("\"Status\": \"Success\"") {
            eprintln!("load {i} failed:\n{resp}");
            std::process::exit(1);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c0;
    let counted = emu.execute("SELECT COUNT(*) FROM bench.events").unwrap();
    let stored: u64 = counted.rows[0][0].as_deref().unwrap_or("0").parse().unwrap_or(0);
    assert_eq!(stored, rows, "every row must be stored");
    println!(
        "emulator-bench: JSON stream load into a Duplicate Key table: {:.1} MB in {:.2} s = {:.1} MB/s, {:.0} rows/s ({} rows); {:.2} CPU-s = {:.1} MB per CPU-second",
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / 1e6 / secs,
        rows as f64 / secs,
        rows,
        cpu,
        bytes as f64 / 1e6 / cpu.max(0.01)
    );
    // The same bodies through the parser and converter only (no HTTP, no store, rows dropped
    // after each body): the ceiling the load path itself sets.
    let schema = emu.store().table("bench", "events").expect("bench table");
    let mut h = hyper::HeaderMap::new();
    h.insert("format", "json".parse().unwrap());
    h.insert("strip_outer_array", "true".parse().unwrap());
    let params = LoadParams::from_headers(&h, false).unwrap();
    let plan = Plan::new(schema, &params, true).unwrap();
    let (t1, c1) = (Instant::now(), cpu_seconds());
    let mut parsed = 0u64;
    for (body, _) in &bodies {
        let mut out = LoadOutput::default();
        load::parse_body(&plan, &params, body, &mut out).unwrap();
        parsed += out.rows.len() as u64;
    }
    let (secs, cpu) = (t1.elapsed().as_secs_f64(), cpu_seconds() - c1);
    assert_eq!(parsed, rows);
    println!(
        "emulator-bench: parse + convert only (no HTTP, no store): {:.1} MB/s wall, {:.1} MB per CPU-second",
        bytes as f64 / 1e6 / secs,
        bytes as f64 / 1e6 / cpu.max(0.01)
    );
    emu.shutdown().await;
}

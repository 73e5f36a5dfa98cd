//! Per-sink counters and gauges (docs/metrics.md).
//!
//! Owned by the sink behind an `Arc` and updated from the task thread (`put`, `pre_commit`) and
//! from the loads on the runtime, with relaxed atomics only: no lock, a few updates per batch or
//! per load, never per record. A reader (the JMX MBean, through the JNI `metrics` export) takes a
//! [`Metrics::snapshot`] from any thread without touching the sink's lock, so a `put` blocked by
//! backpressure never blocks a metrics read.
//!
//! The snapshot is a fixed-order `[i64; COUNT]`: [`NAMES`] is the one place that defines the
//! order, mirrored by the constants of `com.starrocks.connector.kafka.metrics.NativeMetrics`.
//! Every slot is the sink's own but [`NATIVE_ALLOCATED_BYTES`], which is the process's (the JNI
//! library's allocator counts it and fills it in).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The snapshot's slots, in order. Append only: Java reads them by index.
pub const NAMES: [&str; COUNT] = [
    "records-received",
    "rows-loaded",
    "rows-filtered",
    "bytes-loaded",
    "loads",
    "load-failures",
    "retries",
    "load-latency-total-ns",
    "load-latency-max-ns",
    "buffer-bytes",
    "buffer-bytes-peak",
    "buffer-budget-bytes",
    "oldest-buffered-record-age-ms",
    "rejected-records",
    "decode-serialize-ns",
    "backpressure-wait-ns",
    "http-ns",
    "put-calls",
    "tables-created",
    "columns-added",
    "schema-change-wait-ns",
    "fields-dropped",
    "native-allocated-bytes",
    "multi-table-transactions",
];

pub const COUNT: usize = 24;

pub const RECORDS_RECEIVED: usize = 0;
pub const ROWS_LOADED: usize = 1;
pub const ROWS_FILTERED: usize = 2;
pub const BYTES_LOADED: usize = 3;
pub const LOADS: usize = 4;
pub const LOAD_FAILURES: usize = 5;
pub const RETRIES: usize = 6;
pub const LOAD_LATENCY_TOTAL_NS: usize = 7;
pub const LOAD_LATENCY_MAX_NS: usize = 8;
pub const BUFFER_BYTES: usize = 9;
pub const BUFFER_BYTES_PEAK: usize = 10;
pub const BUFFER_BUDGET_BYTES: usize = 11;
pub const OLDEST_BUFFERED_RECORD_AGE_MS: usize = 12;
pub const REJECTED_RECORDS: usize = 13;
pub const DECODE_SERIALIZE_NS: usize = 14;
pub const BACKPRESSURE_WAIT_NS: usize = 15;
pub const HTTP_NS: usize = 16;
pub const PUT_CALLS: usize = 17;
pub const TABLES_CREATED: usize = 18;
pub const COLUMNS_ADDED: usize = 19;
pub const SCHEMA_CHANGE_WAIT_NS: usize = 20;
pub const FIELDS_DROPPED: usize = 21;
/// Process-wide, not per sink: the bytes the native library holds on its heap, counted by the
/// JNI library's allocator, which fills this slot in (the core's own snapshot leaves it 0).
pub const NATIVE_ALLOCATED_BYTES: usize = 22;
/// `sink.transaction.multi-table.enabled`: multi-table transactions committed.
pub const MULTI_TABLE_TRANSACTIONS: usize = 23;

#[derive(Debug)]
pub struct Metrics {
    /// Origin of `oldest_since`.
    epoch: Instant,
    pub records_received: AtomicU64,
    pub rows_loaded: AtomicU64,
    pub rows_filtered: AtomicU64,
    pub bytes_loaded: AtomicU64,
    pub loads: AtomicU64,
    pub load_failures: AtomicU64,
    pub retries: AtomicU64,
    pub load_latency_total_ns: AtomicU64,
    pub load_latency_max_ns: AtomicU64,
    pub buffer_bytes: AtomicU64,
    pub buffer_bytes_peak: AtomicU64,
    pub buffer_budget_bytes: AtomicU64,
    /// Nanoseconds after `epoch` at which the oldest unacknowledged record arrived, plus one;
    /// 0 when none is pending.
    oldest_since: AtomicU64,
    pub rejected_records: AtomicU64,
    pub decode_serialize_ns: AtomicU64,
    pub backpressure_wait_ns: AtomicU64,
    pub http_ns: AtomicU64,
    pub put_calls: AtomicU64,
    /// `auto.create`: tables this task created.
    pub tables_created: AtomicU64,
    /// `auto.evolve`: columns this task added.
    pub columns_added: AtomicU64,
    /// Time `put` waited for schema changes (ALTER TABLE jobs) to finish.
    pub schema_change_wait_ns: AtomicU64,
    /// Fields dropped from rows because their table lacks the column (auto.evolve off), one per
    /// field per record.
    pub fields_dropped: AtomicU64,
    /// Multi-table transactions committed (`sink.transaction.multi-table.enabled`).
    pub multi_table_transactions: AtomicU64,
}

impl Metrics {
    pub fn new(budget_bytes: u64) -> Metrics {
        let z = || AtomicU64::new(0);
        Metrics {
            epoch: Instant::now(),
            records_received: z(),
            rows_loaded: z(),
            rows_filtered: z(),
            bytes_loaded: z(),
            loads: z(),
            load_failures: z(),
            retries: z(),
            load_latency_total_ns: z(),
            load_latency_max_ns: z(),
            buffer_bytes: z(),
            buffer_bytes_peak: z(),
            buffer_budget_bytes: AtomicU64::new(budget_bytes),
            oldest_since: z(),
            rejected_records: z(),
            decode_serialize_ns: z(),
            backpressure_wait_ns: z(),
            http_ns: z(),
            put_calls: z(),
            tables_created: z(),
            columns_added: z(),
            schema_change_wait_ns: z(),
            fields_dropped: z(),
            multi_table_transactions: z(),
        }
    }

    /// A successful load of `body_bytes` uncompressed body bytes that took `latency`, retries included.
    pub fn load_succeeded(&self, rows_loaded: u64, rows_filtered: u64, body_bytes: u64, latency: Duration) {
        let ns = nanos(latency);
        self.loads.fetch_add(1, Relaxed);
        self.rows_loaded.fetch_add(rows_loaded, Relaxed);
        self.rows_filtered.fetch_add(rows_filtered, Relaxed);
        self.bytes_loaded.fetch_add(body_bytes, Relaxed);
        self.load_latency_total_ns.fetch_add(ns, Relaxed);
        self.load_latency_max_ns.fetch_max(ns, Relaxed);
    }

    /// Buffered plus in-flight body bytes now; also raises the peak.
    pub fn set_buffer_bytes(&self, bytes: u64) {
        self.buffer_bytes.store(bytes, Relaxed);
        self.buffer_bytes_peak.fetch_max(bytes, Relaxed);
    }

    /// When the oldest record not yet acknowledged by StarRocks arrived (`None`: nothing pending).
    pub fn set_oldest(&self, since: Option<Instant>) {
        let v = since.map_or(0, |s| nanos(s.saturating_duration_since(self.epoch)).saturating_add(1));
        self.oldest_since.store(v, Relaxed);
    }

    pub fn add(counter: &AtomicU64, d: Duration) {
        counter.fetch_add(nanos(d), Relaxed);
    }

    /// Every value, in [`NAMES`] order.
    pub fn snapshot(&self) -> [i64; COUNT] {
        let g = |a: &AtomicU64| a.load(Relaxed).min(i64::MAX as u64) as i64;
        let oldest = self.oldest_since.load(Relaxed);
        let age_ms = if oldest == 0 {
            0
        } else {
            let since = self.epoch + Duration::from_nanos(oldest - 1);
            Instant::now().saturating_duration_since(since).as_millis().min(i64::MAX as u128) as i64
        };
        let mut out = [0i64; COUNT];
        out[RECORDS_RECEIVED] = g(&self.records_received);
        out[ROWS_LOADED] = g(&self.rows_loaded);
        out[ROWS_FILTERED] = g(&self.rows_filtered);
        out[BYTES_LOADED] = g(&self.bytes_loaded);
        out[LOADS] = g(&self.loads);
        out[LOAD_FAILURES] = g(&self.load_failures);
        out[RETRIES] = g(&self.retries);
        out[LOAD_LATENCY_TOTAL_NS] = g(&self.load_latency_total_ns);
        out[LOAD_LATENCY_MAX_NS] = g(&self.load_latency_max_ns);
        out[BUFFER_BYTES] = g(&self.buffer_bytes);
        out[BUFFER_BYTES_PEAK] = g(&self.buffer_bytes_peak);
        out[BUFFER_BUDGET_BYTES] = g(&self.buffer_budget_bytes);
        out[OLDEST_BUFFERED_RECORD_AGE_MS] = age_ms;
        out[REJECTED_RECORDS] = g(&self.rejected_records);
        out[DECODE_SERIALIZE_NS] = g(&self.decode_serialize_ns);
        out[BACKPRESSURE_WAIT_NS] = g(&self.backpressure_wait_ns);
        out[HTTP_NS] = g(&self.http_ns);
        out[PUT_CALLS] = g(&self.put_calls);
        out[TABLES_CREATED] = g(&self.tables_created);
        out[COLUMNS_ADDED] = g(&self.columns_added);
        out[SCHEMA_CHANGE_WAIT_NS] = g(&self.schema_change_wait_ns);
        out[FIELDS_DROPPED] = g(&self.fields_dropped);
        // out[NATIVE_ALLOCATED_BYTES]: 0 here; the JNI `metrics` export fills it in
        out[MULTI_TABLE_TRANSACTIONS] = g(&self.multi_table_transactions);
        out
    }

    /// `name=value` pairs of a snapshot, for logs and tests.
    pub fn describe(&self) -> String {
        NAMES.iter().zip(self.snapshot()).map(|(n, v)| format!("{}={}", n, v)).collect::<Vec<_>>().join(", ")
    }
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_slots_agree() {
        assert_eq!(NAMES.len(), COUNT);
        assert_eq!(NAMES[RECORDS_RECEIVED], "records-received");
        assert_eq!(NAMES[BUFFER_BUDGET_BYTES], "buffer-budget-bytes");
        assert_eq!(NAMES[OLDEST_BUFFERED_RECORD_AGE_MS], "oldest-buffered-record-age-ms");
        assert_eq!(NAMES[PUT_CALLS], "put-calls");
        assert_eq!(NAMES[NATIVE_ALLOCATED_BYTES], "native-allocated-bytes");
        let mut sorted = NAMES.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), COUNT, "names are unique");
    }

    /// The Java mirror (`NativeMetrics.java`) names the same slots: `RECORDS_RECEIVED = 0` is
    /// `records-received`, and so on.
    #[test]
    fn the_java_constants_mirror_the_order() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../java-shim/src/main/java/com/starrocks/connector/kafka/metrics/NativeMetrics.java");
        let java = std::fs::read_to_string(path).expect("NativeMetrics.java");
        let mut seen = 0;
        for line in java.lines() {
            let Some(rest) = line.trim().strip_prefix("public static final int ") else { continue };
            let (name, value) = rest.trim_end_matches(';').split_once(" = ").expect("NAME = n");
            let value: usize = value.parse().unwrap();
            if name == "COUNT" {
                assert_eq!(value, COUNT);
                continue;
            }
            assert_eq!(NAMES[value], name.to_ascii_lowercase().replace('_', "-"), "slot {}", value);
            seen += 1;
        }
        assert_eq!(seen, COUNT, "every slot has a Java constant");
        for n in NAMES {
            assert!(java.contains(&format!("\"{}\"", n)), "{} in NativeMetrics.NAMES", n);
        }
    }

    #[test]
    fn gauges_counters_and_age() {
        let m = Metrics::new(200);
        m.set_buffer_bytes(150);
        m.set_buffer_bytes(20);
        m.load_succeeded(3, 1, 90, Duration::from_millis(5));
        m.load_succeeded(2, 0, 10, Duration::from_millis(7));
        let s = m.snapshot();
        assert_eq!((s[BUFFER_BYTES], s[BUFFER_BYTES_PEAK], s[BUFFER_BUDGET_BYTES]), (20, 150, 200));
        assert_eq!((s[LOADS], s[ROWS_LOADED], s[ROWS_FILTERED], s[BYTES_LOADED]), (2, 5, 1, 100));
        assert_eq!((s[LOAD_LATENCY_TOTAL_NS], s[LOAD_LATENCY_MAX_NS]), (12_000_000, 7_000_000));
        assert_eq!(s[OLDEST_BUFFERED_RECORD_AGE_MS], 0);
        m.set_oldest(Some(Instant::now()));
        std::thread::sleep(Duration::from_millis(60));
        let age = m.snapshot()[OLDEST_BUFFERED_RECORD_AGE_MS];
        assert!((60..10_000).contains(&age), "age {}", age);
        m.set_oldest(None);
        assert_eq!(m.snapshot()[OLDEST_BUFFERED_RECORD_AGE_MS], 0);
        assert!(m.describe().contains("loads=2"));
    }
}

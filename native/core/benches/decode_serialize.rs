//! Decode plus serialize, the Rust half of `put()`, measured per core: a batch in the boundary
//! format (as the shim writes it for 4,096 records of about 200 bytes of JSON each) decoded and
//! appended to a table buffer as Stream Load rows, with the offset bookkeeping `Sink::put` does.
//! No HTTP, no locks: what is left is the per-record cost the task thread pays in Rust.
//!
//! Throughput is counted in bytes of the boundary batch. `make bench` runs it; the figures go
//! into docs/performance.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use starrocks_sink_core::boundary::builder::{s, BatchBuilder, S, V};
use starrocks_sink_core::boundary::{self};
use starrocks_sink_core::buffer::{Framing, TableBuffer};
use starrocks_sink_core::offsets::OffsetTracker;
use starrocks_sink_core::rows::csv::CsvOptions;
use starrocks_sink_core::rows::{RowFormat, RowWriter};

const RECORDS: i64 = 4096;
const PARTITIONS: i64 = 4;

/// The same mix of fields as the Connect benchmark's records (bench/records.py).
fn fields(i: i64) -> Vec<(&'static str, V)> {
    vec![
        ("id", V::I64(i)),
        ("user_id", V::I64(1_000_003 * i % 9_999_991)),
        ("name", s(&format!("user-{:08}", i * 7919 % 100_000_000))),
        ("email", s(&format!("user{}@example.com", i % 100_000))),
        ("city", s(["Tokyo", "New York", "Los Angeles", "Chicago", "São Paulo"][(i % 5) as usize])),
        ("amount", V::F64((i % 100_000) as f64 / 100.0)),
        ("quantity", V::I32((i % 50) as i32)),
        ("active", V::Bool(i % 3 != 0)),
        ("created_at", s("2024-05-01 12:34:56")),
        ("note", s("a fairly ordinary order placed through the web shop")),
    ]
}

fn json_text(i: i64) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in fields(i) {
        let j = match v {
            V::I64(x) => serde_json::json!(x),
            V::I32(x) => serde_json::json!(x),
            V::F64(x) => serde_json::json!(x),
            V::Bool(x) => serde_json::json!(x),
            V::Str(x) => serde_json::json!(x),
            _ => unreachable!(),
        };
        m.insert(k.to_string(), j);
    }
    serde_json::Value::Object(m).to_string()
}

/// Map values, as JsonConverter gives them without schemas.
fn schemaless(i: i64) -> V {
    V::Map(fields(i).into_iter().map(|(k, v)| (s(k), v)).collect())
}

/// Struct values with typed fields (Decimal and Timestamp logical types), as JsonConverter with
/// schemas or Avro give them.
fn structured(i: i64) -> V {
    let names: Vec<&str> = fields(0).iter().map(|(k, _)| *k).collect();
    let mut vals: Vec<V> = fields(i).into_iter().map(|(_, v)| v).collect();
    vals[5] = V::Decimal(2, ((i % 100_000) as i32).to_be_bytes().to_vec());
    vals[8] = V::Timestamp(1_714_566_896_000 + i);
    V::Struct(S::fields(&names), vals)
}

/// String values holding JSON text (StringConverter): passed through untouched.
fn raw_json(i: i64) -> V {
    s(&json_text(i))
}

fn batch(value: fn(i64) -> V) -> Vec<u8> {
    let mut b = BatchBuilder::new();
    for i in 0..RECORDS {
        // Connect's batches come grouped by partition
        let p = (i * PARTITIONS / RECORDS) as i32;
        b.record_full("bench", "bench", p, i, 1_714_566_896_000 + i, V::Null, value(i));
    }
    b.build()
}

/// What `Sink::put` does per batch (in the serializer thread's reused arena), minus locking and
/// flushing.
fn decode_and_serialize(buf: &[u8], arena: &mut boundary::Bump, writer: &RowWriter, framing: &Framing) -> usize {
    arena.reset();
    let batch = boundary::decode(buf, arena).expect("valid batch");
    let mut buffer = TableBuffer::new(framing.clone(), false);
    let mut offsets = OffsetTracker::default();
    for rec in &batch.records {
        buffer.append(writer, &batch, rec).expect("row");
        offsets.seen(rec.commit_topic, rec.commit_partition, rec.commit_offset);
    }
    buffer.bytes()
}

fn bench(c: &mut Criterion) {
    let json = RowWriter::json();
    let csv = RowWriter { format: RowFormat::Csv(CsvOptions::default()), ..RowWriter::json() };
    let lines = Framing::Lines(b"\n".to_vec());
    let cases: [(&str, fn(i64) -> V, &RowWriter, &Framing); 4] = [
        ("map-to-json", schemaless, &json, &lines),
        ("struct-to-json", structured, &json, &lines),
        ("raw-json-passthrough", raw_json, &json, &lines),
        ("map-to-csv", schemaless, &csv, &lines),
    ];
    let mut group = c.benchmark_group("decode+serialize");
    for (name, value, writer, framing) in cases {
        let buf = batch(value);
        let mut arena = boundary::Bump::new();
        let body = decode_and_serialize(&buf, &mut arena, writer, framing);
        println!("{}: batch {} bytes, body {} bytes, {} records", name, buf.len(), body, RECORDS);
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &buf, |b, buf| {
            b.iter(|| decode_and_serialize(buf, &mut arena, writer, framing))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

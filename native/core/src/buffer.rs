//! One table's rows waiting to be loaded, already in the Stream Load body format.
//!
//! Rows are serialized straight into the body, so a flush hands the bytes to HTTP without a
//! copy. JSON bodies are either a JSON array (when the user set `strip_outer_array: true`, as
//! the StarRocks docs tell them to) or newline-delimited objects, which StarRocks reads without
//! any header.

use std::time::Instant;

use bytes::Bytes;

use crate::boundary::{Batch, Record};
use crate::error::Result;
use std::collections::BTreeMap;

use crate::offsets::{note_first, set_offset, FirstOffsets, PartitionMap, TopicPartition};
use crate::rows::RowWriter;
use crate::hash::Fnv;

/// How rows are framed in one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// `[row,row,...]`, for `strip_outer_array: true`.
    JsonArray,
    /// Every row followed by the row delimiter: `\n` for JSON lines, the CSV `row_delimiter`.
    Lines(Vec<u8>),
}

#[derive(Debug)]
pub struct TableBuffer {
    framing: Framing,
    body: Vec<u8>,
    rows: u64,
    first: FirstOffsets,
    /// First offsets of partitions Connect revoked while their rows were here: no longer held
    /// back (see `forget`), still part of the label.
    forgotten: FirstOffsets,
    last: PartitionMap,
    fingerprint: Fnv,
    since: Option<Instant>,
    /// Where each row is and which record made it, kept only when rejected rows must be traced
    /// back to their records (errors.tolerance=all).
    index: Option<RowIndex>,
}

/// The rows of a body and the records they came from.
#[derive(Debug, Clone, Default)]
pub struct RowIndex {
    pub partitions: Vec<TopicPartition>,
    pub rows: Vec<RowRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef {
    /// The row's bytes in the body, without framing.
    pub start: usize,
    pub end: usize,
    /// Index into `RowIndex::partitions`.
    pub partition: u32,
    pub offset: i64,
}

/// The contents of a buffer taken for loading.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub body: Bytes,
    pub rows: u64,
    pub first: FirstOffsets,
    /// Offset range per partition, for the label.
    pub ranges: BTreeMap<TopicPartition, (i64, i64)>,
    /// Hash of every record's partition, offset and timestamp, for the label.
    pub fingerprint: u64,
    pub index: Option<RowIndex>,
}

impl TableBuffer {
    /// `index_rows`: remember which record made each row (for rejected-row reporting).
    pub fn new(framing: Framing, index_rows: bool) -> TableBuffer {
        TableBuffer {
            framing,
            body: Vec::new(),
            rows: 0,
            first: FirstOffsets::new(),
            forgotten: FirstOffsets::new(),
            last: PartitionMap::new(),
            fingerprint: Fnv::new(),
            since: None,
            index: index_rows.then(RowIndex::default),
        }
    }

    /// Serializes `rec` into the body. A record that makes no row (a tombstone) leaves the
    /// body unchanged; either way its offset is now this buffer's responsibility.
    pub fn append(&mut self, writer: &RowWriter, batch: &Batch<'_>, rec: &Record<'_>) -> Result<bool> {
        let mark = self.body.len();
        self.framing.before_row(&mut self.body, self.rows);
        let start = self.body.len();
        let wrote = match writer.append_row(batch, rec, &mut self.body) {
            Ok(w) => w,
            Err(e) => {
                self.body.truncate(mark);
                return Err(e);
            }
        };
        if wrote {
            self.row_written(start, rec.commit_topic, rec.commit_partition, rec.commit_offset);
        } else {
            self.body.truncate(mark);
        }
        self.record_taken(rec.commit_topic, rec.commit_partition, rec.commit_offset, rec.timestamp);
        Ok(wrote)
    }

    /// Takes back a row serialized earlier (from a chunk's body, through its row index) for the
    /// record at `offset` of `topic`-`partition`: exactly-once puts a flush's rows back after an
    /// earlier owner's commit moved the partition (`PartitionBuffer::put_back`). Its timestamp
    /// is gone, which only the at-least-once label's fingerprint would miss.
    pub fn push_row(&mut self, row: &[u8], topic: &str, partition: i32, offset: i64) {
        self.framing.before_row(&mut self.body, self.rows);
        let start = self.body.len();
        self.body.extend_from_slice(row);
        self.row_written(start, topic, partition, offset);
        self.record_taken(topic, partition, offset, None);
    }

    /// The row that starts at `start` of the body ends here: index and frame it.
    fn row_written(&mut self, start: usize, topic: &str, partition: i32, offset: i64) {
        if let Some(index) = &mut self.index {
            let at = match index.partitions.iter().position(|(t, p)| t == topic && *p == partition) {
                Some(i) => i,
                None => {
                    index.partitions.push((topic.to_string(), partition));
                    index.partitions.len() - 1
                }
            };
            index.rows.push(RowRef { start, end: self.body.len(), partition: at as u32, offset });
        }
        self.framing.after_row(&mut self.body);
        self.rows += 1;
    }

    /// The record at `offset` is this buffer's responsibility now, with or without a row.
    fn record_taken(&mut self, topic: &str, partition: i32, offset: i64, timestamp: Option<i64>) {
        note_first(&mut self.first, topic, partition, offset);
        self.fingerprint.write(&partition.to_le_bytes());
        self.fingerprint.write(&offset.to_le_bytes());
        self.fingerprint.write(&timestamp.unwrap_or(i64::MIN).to_le_bytes());
        set_offset(&mut self.last, topic, partition, offset);
        if self.since.is_none() {
            self.since = Some(Instant::now());
        }
    }

    pub fn bytes(&self) -> usize {
        self.body.len()
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// True when the buffer holds any record, even one that made no row.
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
    }

    /// When the oldest record still here arrived.
    pub fn since(&self) -> Option<Instant> {
        self.since
    }

    pub fn first_offsets(&self) -> &FirstOffsets {
        &self.first
    }

    /// Stops holding `tp`'s offsets back (its partition was revoked); its rows stay in the body
    /// and keep their part in the label, which `take` derives from the offsets seen.
    pub fn forget(&mut self, tp: &TopicPartition) {
        if let Some(first) = self.first.remove(tp) {
            self.forgotten.insert(tp.clone(), first);
        }
    }

    /// Empties the buffer into a chunk (a chunk with 0 rows needs no load: its offsets are done).
    pub fn take(&mut self) -> Chunk {
        self.framing.end_body(&mut self.body, self.rows);
        let body = std::mem::take(&mut self.body);
        let last = std::mem::take(&mut self.last);
        let forgotten = std::mem::take(&mut self.forgotten);
        self.since = None;
        Chunk {
            body: Bytes::from(body),
            rows: std::mem::take(&mut self.rows),
            ranges: self
                .first
                .iter()
                .chain(forgotten.iter())
                .map(|(tp, f)| (tp.clone(), (*f, last.get(tp).copied().unwrap_or(*f))))
                .collect(),
            first: std::mem::take(&mut self.first),
            fingerprint: std::mem::replace(&mut self.fingerprint, Fnv::new()).0,
            index: self.index.as_mut().map(std::mem::take),
        }
    }
}

impl Framing {
    /// What goes before row number `n` (0-based) of a body.
    fn before_row(&self, body: &mut Vec<u8>, n: u64) {
        match (self, n) {
            (Framing::JsonArray, 0) => body.push(b'['),
            (Framing::JsonArray, _) => body.push(b','),
            (Framing::Lines(_), _) => {}
        }
    }

    /// What goes after every row.
    fn after_row(&self, body: &mut Vec<u8>) {
        if let Framing::Lines(end) = self {
            body.extend_from_slice(end);
        }
    }

    /// What closes a body of `rows` rows.
    fn end_body(&self, body: &mut Vec<u8>, rows: u64) {
        if *self == Framing::JsonArray && rows > 0 {
            body.push(b']');
        }
    }

    /// A body of some rows of `body` (as indexed by `rows`), framed like the original.
    pub fn sub_body(&self, body: &[u8], rows: &[RowRef]) -> Bytes {
        let bytes = rows.iter().map(|r| r.end - r.start).sum();
        Bytes::from(self.frame(rows.iter().map(|r| &body[r.start..r.end]), rows.len(), bytes))
    }

    /// `rows` (unframed, `count` of them, `bytes` together) as one body: a part of a refused load.
    pub fn frame<'a>(&self, rows: impl Iterator<Item = &'a [u8]>, count: usize, bytes: usize) -> Vec<u8> {
        let extra = match self {
            Framing::JsonArray => count + 1,
            Framing::Lines(end) => count * end.len(),
        };
        let mut out = Vec::with_capacity(bytes + extra);
        let mut n = 0;
        for row in rows {
            self.before_row(&mut out, n);
            out.extend_from_slice(row);
            self.after_row(&mut out);
            n += 1;
        }
        self.end_body(&mut out, n);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::builder::{s, BatchBuilder, S, V};
    use crate::boundary::decode;
    use bumpalo::Bump;

    fn batch() -> Vec<u8> {
        let st = S::fields(&["id", "city"]);
        let mut b = BatchBuilder::new();
        b.record("t", 0, 7, V::Struct(st.clone(), vec![V::I32(1), s("New York")]));
        b.record("t", 0, 8, V::Null);
        b.record("t", 1, 3, V::Struct(st, vec![V::I32(2), s("Chicago")]));
        b.build()
    }

    #[test]
    fn json_array_framing() {
        let buf = batch();
        let arena = Bump::new();        let batch = decode(&buf, &arena).unwrap();
        let mut tb = TableBuffer::new(Framing::JsonArray, true);
        for r in &batch.records {
            tb.append(&RowWriter::json(), &batch, r).unwrap();
        }
        assert_eq!(tb.rows(), 2);
        let c = tb.take();
        assert_eq!(
            std::str::from_utf8(&c.body).unwrap(),
            r#"[{"id":1,"city":"New York"},{"id":2,"city":"Chicago"}]"#
        );
        assert_eq!(c.first[&("t".to_string(), 0)], 7);
        assert_eq!(c.first[&("t".to_string(), 1)], 3);
        let index = c.index.unwrap();
        assert_eq!(index.rows.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![7, 3]);
        assert_eq!(index.partitions[index.rows[1].partition as usize], ("t".to_string(), 1));
        assert_eq!(&Framing::JsonArray.sub_body(&c.body, &index.rows[1..])[..], br#"[{"id":2,"city":"Chicago"}]"#);
        assert!(tb.is_empty() && tb.bytes() == 0);
        // a table between loads keeps no memory for rows it no longer holds (hundreds of tables
        // at a low rate cost their rows, not a buffer each): the body and index went with the load
        assert_eq!((tb.body.capacity(), tb.first.len(), tb.last.len()), (0, 0, 0));
        assert_eq!(tb.index.as_ref().map(|i| (i.rows.capacity(), i.partitions.capacity())), Some((0, 0)));
    }

    #[test]
    fn line_framing_and_tombstone_only_buffers() {
        let buf = batch();
        let arena = Bump::new();        let batch = decode(&buf, &arena).unwrap();
        let mut tb = TableBuffer::new(Framing::Lines(b"\n".to_vec()), true);
        tb.append(&RowWriter::json(), &batch, &batch.records[1]).unwrap();
        assert!(!tb.is_empty(), "a tombstone's offset is held until the buffer is taken");
        assert_eq!(tb.bytes(), 0);
        tb.append(&RowWriter::json(), &batch, &batch.records[0]).unwrap();
        let c = tb.take();
        assert_eq!(std::str::from_utf8(&c.body).unwrap(), "{\"id\":1,\"city\":\"New York\"}\n");
        assert_eq!(c.first[&("t".to_string(), 0)], 8);
    }
}

//! What one partition has buffered since its last flush: a [`TableBuffer`] per target table
//! (the buffer at-least-once uses, with its rows indexed by offset) and the offset range taken
//! (records that made no row, tombstones or records sent to the DLQ, still move the partition).
//!
//! A flush takes everything into a [`Taken`] (the bodies handed to HTTP without a copy) and the
//! buffer starts over while the transaction runs. The taken rows stay with the flush until its
//! outcome is known: a rewind (an older owner's flush landed first) puts back the rows from an
//! offset on, in front of what was buffered meanwhile; the row index makes that a filter
//! instead of a re-read.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;

use crate::boundary::{Batch, Record};
use crate::buffer::{Framing, RowIndex, TableBuffer};
use crate::error::Result;
use crate::rows::RowWriter;

#[derive(Debug)]
pub struct PartitionBuffer {
    framing: Framing,
    tables: BTreeMap<String, TableBuffer>,
    /// First offset taken, `-1` when empty.
    start: i64,
    /// One past the last offset taken.
    end: i64,
    bytes: usize,
    since: Option<Instant>,
}

/// A partition's offsets `[start, end)` taken for one flush.
#[derive(Debug)]
pub struct Taken {
    pub start: i64,
    pub end: i64,
    /// Every table with rows, by name.
    pub tables: Vec<TableRows>,
    /// Row bytes in the bodies (what the memory budget counts).
    pub bytes: usize,
    /// When the oldest record arrived.
    pub since: Option<Instant>,
}

/// One table's rows of a flush, framed.
#[derive(Debug, Clone)]
pub struct TableRows {
    pub table: String,
    pub body: Bytes,
    pub rows: u64,
    pub index: RowIndex,
}

impl Taken {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

impl PartitionBuffer {
    pub fn new(framing: Framing) -> PartitionBuffer {
        PartitionBuffer { framing, tables: BTreeMap::new(), start: -1, end: -1, bytes: 0, since: None }
    }

    pub fn is_empty(&self) -> bool {
        self.start < 0
    }

    /// `[start, end)` of what is buffered; `None` when empty.
    pub fn range(&self) -> Option<(i64, i64)> {
        (!self.is_empty()).then_some((self.start, self.end))
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// When the oldest buffered record arrived.
    pub fn since(&self) -> Option<Instant> {
        self.since
    }

    /// Takes `offset` (offsets only grow) without a row.
    pub fn note(&mut self, offset: i64) {
        if self.start < 0 {
            self.start = offset;
            self.since = Some(Instant::now());
        }
        self.end = offset + 1;
    }

    /// Takes `rec` (of this partition) with the row `writer` makes of it for `table` (none for
    /// a tombstone). On error nothing is taken. Answers the bytes added.
    pub fn append(&mut self, table: &str, writer: &RowWriter, batch: &Batch<'_>, rec: &Record<'_>) -> Result<usize> {
        let buffer = match self.tables.get_mut(table) {
            Some(b) => b,
            None => self.tables.entry(table.to_string()).or_insert_with(|| TableBuffer::new(self.framing.clone(), true)),
        };
        let before = buffer.bytes();
        buffer.append(writer, batch, rec)?;
        let added = buffer.bytes() - before;
        self.bytes += added;
        self.note(rec.commit_offset);
        Ok(added)
    }

    /// Everything buffered, framed per table, for one flush; the buffer starts over empty.
    /// `None` when empty.
    pub fn take(&mut self) -> Option<Taken> {
        let (start, end) = self.range()?;
        let tables = std::mem::take(&mut self.tables)
            .into_iter()
            .filter(|(_, b)| b.rows() > 0)
            .map(|(table, mut b)| {
                let chunk = b.take();
                TableRows { table, body: chunk.body, rows: chunk.rows, index: chunk.index.expect("partition buffers index their rows") }
            })
            .collect();
        let taken = Taken { start, end, tables, bytes: self.bytes, since: self.since };
        *self = PartitionBuffer::new(self.framing.clone());
        Some(taken)
    }

    /// Puts back the rows of `earlier` (taken before anything buffered now) from offset `from`
    /// on, in front of what is buffered: a flush that did not commit because the partition
    /// moved to `from` under it. What is buffered below `from` goes too.
    pub fn put_back(&mut self, earlier: Taken, from: i64) {
        let later = self.take();
        for part in std::iter::once(earlier).chain(later) {
            self.refill(part, from);
        }
    }

    /// Drops what is below `offset` (it is in StarRocks already).
    pub fn drop_below(&mut self, offset: i64) {
        if let Some(all) = self.take() {
            self.refill(all, offset);
        }
    }

    /// Appends the rows of `part` at and above `from`; `part` follows what is here.
    fn refill(&mut self, part: Taken, from: i64) {
        if part.end <= from {
            return;
        }
        for t in &part.tables {
            let framing = &self.framing;
            let buffer = self.tables.entry(t.table.clone()).or_insert_with(|| TableBuffer::new(framing.clone(), true));
            let before = buffer.bytes();
            for r in t.index.rows.iter().filter(|r| r.offset >= from) {
                let (topic, partition) = &t.index.partitions[r.partition as usize];
                buffer.push_row(&t.body[r.start..r.end], topic, *partition, r.offset);
            }
            self.bytes += buffer.bytes() - before;
        }
        self.tables.retain(|_, b| b.rows() > 0);
        if self.start < 0 {
            self.start = part.start.max(from);
            self.since = part.since;
        }
        self.end = part.end;
    }

    pub fn clear(&mut self) {
        *self = PartitionBuffer::new(self.framing.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::builder::{BatchBuilder, V};
    use crate::boundary::decode;
    use crate::rows::csv::CsvOptions;
    use crate::rows::RowFormat;
    use bumpalo::Bump;

    /// One partition's records at `offsets`: a string each (raw text rows), `""` a tombstone.
    fn batch(records: &[(i64, &str)]) -> Vec<u8> {
        let mut b = BatchBuilder::new();
        for (offset, text) in records {
            let v = if text.is_empty() { V::Null } else { V::Str(text.to_string()) };
            b.record("t", 0, *offset, v);
        }
        b.build()
    }

    fn csv() -> RowWriter {
        RowWriter { format: RowFormat::Csv(CsvOptions::default()), ..RowWriter::json() }
    }

    fn take_all(b: &mut PartitionBuffer, table: &str, writer: &RowWriter, records: &[(i64, &str)]) {
        let buf = batch(records);
        let arena = Bump::new();
        let batch = decode(&buf, &arena).unwrap();
        for r in &batch.records {
            b.append(table, writer, &batch, r).unwrap();
        }
    }

    /// The bodies `take` would hand out, by table, leaving the buffer as it was.
    fn bodies(b: &mut PartitionBuffer) -> Vec<(String, Vec<u8>, u64)> {
        let Some(taken) = b.take() else { return Vec::new() };
        let out = taken.tables.iter().map(|t| (t.table.clone(), t.body.to_vec(), t.rows)).collect();
        b.put_back(taken, i64::MIN);
        out
    }

    #[test]
    fn frames_per_table_and_counts_rowless_offsets() {
        for (framing, t1, t2) in [
            (Framing::JsonArray, &b"[{\"a\":1},{\"a\":2}]"[..], &b"[{\"b\":1}]"[..]),
            (Framing::Lines(b"\n".to_vec()), &b"{\"a\":1}\n{\"a\":2}\n"[..], &b"{\"b\":1}\n"[..]),
        ] {
            let mut b = PartitionBuffer::new(framing);
            assert!(b.is_empty());
            let w = RowWriter::json();
            take_all(&mut b, "t1", &w, &[(5, "{\"a\":1}")]);
            take_all(&mut b, "t2", &w, &[(6, "{\"b\":1}")]);
            take_all(&mut b, "t1", &w, &[(7, ""), (8, "{\"a\":2}")]);
            b.note(9); // sent to the DLQ
            assert_eq!(b.range(), Some((5, 10)));
            let bytes = b.bytes();
            let taken = b.take().unwrap();
            assert!(b.is_empty() && b.bytes() == 0, "taking empties the buffer");
            assert_eq!((taken.start, taken.end, taken.rows(), taken.bytes), (5, 10, 3, bytes));
            assert_eq!(taken.tables.len(), 2);
            assert_eq!((taken.tables[0].table.as_str(), &taken.tables[0].body[..], taken.tables[0].rows), ("t1", t1, 2));
            assert_eq!((taken.tables[1].table.as_str(), &taken.tables[1].body[..], taken.tables[1].rows), ("t2", t2, 1));
            b.put_back(taken, 0);
            assert_eq!(b.range(), Some((5, 10)));
            assert_eq!(b.bytes(), bytes, "put back whole");
            let again = bodies(&mut b);
            assert_eq!(again, vec![("t1".to_string(), t1.to_vec(), 2), ("t2".to_string(), t2.to_vec(), 1)]);
        }
    }

    #[test]
    fn a_failed_row_leaves_nothing() {
        let mut b = PartitionBuffer::new(Framing::JsonArray);
        let buf = batch(&[(1, "not json {")]);
        let arena = Bump::new();
        let batch = decode(&buf, &arena).unwrap();
        assert!(b.append("t", &RowWriter::json(), &batch, &batch.records[0]).is_err());
        assert!(b.is_empty());
        assert_eq!(b.bytes(), 0);
        assert!(b.take().is_none());
    }

    #[test]
    fn drop_below_keeps_the_rows_at_and_above() {
        let mut b = PartitionBuffer::new(Framing::Lines(b"\n".to_vec()));
        take_all(&mut b, "t", &csv(), &[(10, "a"), (11, "b"), (12, "c"), (13, "d")]);
        take_all(&mut b, "u", &csv(), &[(14, "e")]);
        b.drop_below(12);
        assert_eq!(b.range(), Some((12, 15)));
        assert_eq!(bodies(&mut b), vec![("t".to_string(), b"c\nd\n".to_vec(), 2), ("u".to_string(), b"e\n".to_vec(), 1)]);
        assert_eq!(b.bytes(), 6);
        b.drop_below(9);
        assert_eq!(b.range(), Some((12, 15)));
        b.drop_below(14);
        assert_eq!(bodies(&mut b).len(), 1, "a table left without rows goes");
        b.drop_below(15);
        assert!(b.is_empty());
        assert_eq!(b.bytes(), 0);
    }

    #[test]
    fn drop_below_reframes_a_json_array() {
        let mut b = PartitionBuffer::new(Framing::JsonArray);
        take_all(&mut b, "t", &RowWriter::json(), &[(1, "{\"a\":1}"), (2, "{\"a\":2}"), (3, "{\"a\":3}")]);
        b.drop_below(2);
        assert_eq!(bodies(&mut b)[0].1, b"[{\"a\":2},{\"a\":3}]".to_vec());
        assert_eq!(b.bytes(), b"[{\"a\":2},{\"a\":3}".len());
    }

    #[test]
    fn put_back_goes_in_front_of_what_came_meanwhile() {
        for framing in [Framing::JsonArray, Framing::Lines(b"\n".to_vec())] {
            let mut b = PartitionBuffer::new(framing.clone());
            let w = RowWriter::json();
            take_all(&mut b, "t", &w, &[(1, "{\"a\":1}"), (2, "{\"a\":2}"), (3, "{\"a\":3}")]);
            let flying = b.take().unwrap();
            take_all(&mut b, "t", &w, &[(4, "{\"a\":4}")]);
            take_all(&mut b, "u", &w, &[(5, "{\"b\":5}")]);
            b.note(6);
            b.put_back(flying, 2);
            assert_eq!(b.range(), Some((2, 7)));
            let want_t: &[u8] = if framing == Framing::JsonArray { b"[{\"a\":2},{\"a\":3},{\"a\":4}]" } else { b"{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n" };
            let got = bodies(&mut b);
            assert_eq!((got[0].0.as_str(), &got[0].1[..], got[0].2), ("t", want_t, 3));
            assert_eq!((got[1].0.as_str(), got[1].2), ("u", 1));
            assert_eq!(b.bytes(), got.iter().map(|(_, body, _)| body.len()).sum::<usize>() - if framing == Framing::JsonArray { 2 } else { 0 });

            // the partition moved past the flush and into what came after it
            let flying = b.take().unwrap();
            take_all(&mut b, "t", &w, &[(7, "{\"a\":7}")]);
            b.put_back(flying, 5);
            assert_eq!(b.range(), Some((5, 8)));
            let got = bodies(&mut b);
            assert_eq!(got.iter().map(|(t, _, n)| (t.as_str(), *n)).collect::<Vec<_>>(), vec![("t", 1), ("u", 1)]);

            // past everything: empty
            let flying = b.take().unwrap();
            b.put_back(flying, 9);
            assert!(b.is_empty() && b.bytes() == 0);
        }
    }
}

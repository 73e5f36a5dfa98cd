//! What one partition has buffered since its last flush: a [`TableBuffer`] per target table
//! (the buffer at-least-once uses, with its rows indexed by offset) and the offset range taken
//! (records that made no row, tombstones or records sent to the DLQ, still move the partition).
//!
//! A flush is one transaction for the partition, and its rows stay here until the outcome is
//! known: a rewind (an older owner's flush landed first) keeps only the rows from an offset on,
//! which the row index makes a filter instead of a re-read.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::boundary::{Batch, Record};
use crate::buffer::{Framing, TableBuffer};
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

/// One table's rows of a flush, framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    pub table: String,
    pub body: Vec<u8>,
    pub rows: u64,
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

    /// The framed body of every table with rows, and its row count; the rows stay.
    pub fn bodies(&self) -> Vec<TableRows> {
        self.tables
            .iter()
            .filter(|(_, b)| b.rows() > 0)
            .map(|(table, b)| TableRows { table: table.clone(), body: b.framed(), rows: b.rows() })
            .collect()
    }

    /// Drops what is below `offset` (it is in StarRocks already).
    pub fn drop_below(&mut self, offset: i64) {
        if self.is_empty() || offset <= self.start {
            return;
        }
        if offset >= self.end {
            self.clear();
            return;
        }
        for b in self.tables.values_mut() {
            b.retain_from(offset);
        }
        self.tables.retain(|_, b| !b.is_empty());
        self.bytes = self.tables.values().map(TableBuffer::bytes).sum();
        self.start = offset;
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
            let bodies = b.bodies();
            assert_eq!(bodies.len(), 2);
            assert_eq!((bodies[0].table.as_str(), &bodies[0].body[..], bodies[0].rows), ("t1", t1, 2));
            assert_eq!((bodies[1].table.as_str(), &bodies[1].body[..], bodies[1].rows), ("t2", t2, 1));
            assert_eq!(b.bodies(), bodies, "taking the bodies leaves the rows");
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
        assert!(b.bodies().is_empty());
    }

    #[test]
    fn drop_below_keeps_the_rows_at_and_above() {
        let mut b = PartitionBuffer::new(Framing::Lines(b"\n".to_vec()));
        take_all(&mut b, "t", &csv(), &[(10, "a"), (11, "b"), (12, "c"), (13, "d")]);
        take_all(&mut b, "u", &csv(), &[(14, "e")]);
        b.drop_below(12);
        assert_eq!(b.range(), Some((12, 15)));
        let bodies = b.bodies();
        assert_eq!((&bodies[0].body[..], bodies[0].rows), (&b"c\nd\n"[..], 2));
        assert_eq!(&bodies[1].body[..], b"e\n");
        assert_eq!(b.bytes(), 6);
        b.drop_below(9);
        assert_eq!(b.range(), Some((12, 15)));
        b.drop_below(14);
        assert_eq!(b.bodies().len(), 1, "a table left without rows goes");
        b.drop_below(15);
        assert!(b.is_empty());
        assert_eq!(b.bytes(), 0);
    }

    #[test]
    fn drop_below_reframes_a_json_array() {
        let mut b = PartitionBuffer::new(Framing::JsonArray);
        take_all(&mut b, "t", &RowWriter::json(), &[(1, "{\"a\":1}"), (2, "{\"a\":2}"), (3, "{\"a\":3}")]);
        b.drop_below(2);
        assert_eq!(b.bodies()[0].body, b"[{\"a\":2},{\"a\":3}]".to_vec());
        assert_eq!(b.bytes(), b"[{\"a\":2},{\"a\":3}".len());
    }
}

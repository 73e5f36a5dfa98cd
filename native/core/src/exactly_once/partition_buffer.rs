//! What one partition has buffered since its last flush: its rows per target table, each row
//! with the Kafka offset it came from, and the offset range taken (records that made no row,
//! tombstones or records sent to the DLQ, still move the partition).
//!
//! Rows are kept without framing and framed when a flush takes them: a flush is one
//! transaction for the partition, and a rewind (an older owner's flush landed first) must drop
//! the rows below an offset, which per-row offsets make a filter instead of a re-read.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::buffer::Framing;
use crate::error::Result;

#[derive(Debug, Default)]
struct TableRows {
    data: Vec<u8>,
    /// (offset, end of the row in `data`); a row starts where the previous one ends.
    rows: Vec<(i64, usize)>,
}

#[derive(Debug, Default)]
pub struct PartitionBuffer {
    tables: BTreeMap<String, TableRows>,
    /// First offset taken, `-1` when empty.
    start: i64,
    /// One past the last offset taken.
    end: i64,
    bytes: usize,
    since: Option<Instant>,
}

impl PartitionBuffer {
    pub fn new() -> PartitionBuffer {
        PartitionBuffer { start: -1, ..PartitionBuffer::default() }
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

    /// Takes `offset` with the row `write` appends for `table` (`Ok(false)`: no row). On error
    /// nothing is taken. Answers the bytes added.
    pub fn append(&mut self, table: &str, offset: i64, write: impl FnOnce(&mut Vec<u8>) -> Result<bool>) -> Result<usize> {
        let rows = match self.tables.get_mut(table) {
            Some(r) => r,
            None => self.tables.entry(table.to_string()).or_default(),
        };
        let mark = rows.data.len();
        match write(&mut rows.data) {
            Ok(true) => rows.rows.push((offset, rows.data.len())),
            Ok(false) => rows.data.truncate(mark),
            Err(e) => {
                rows.data.truncate(mark);
                return Err(e);
            }
        }
        let added = rows.data.len() - mark;
        self.bytes += added;
        self.note(offset);
        Ok(added)
    }

    /// The framed body of every table with rows, and its row count.
    pub fn bodies(&self, framing: &Framing) -> Vec<(String, Vec<u8>, u64)> {
        let mut out = Vec::new();
        for (table, t) in &self.tables {
            if t.rows.is_empty() {
                continue;
            }
            // a row starts where the one before it ends
            let rows = t.rows.iter().scan(0, |at, &(_, end)| {
                let row = &t.data[*at..end];
                *at = end;
                Some(row)
            });
            let body = framing.frame(rows, t.rows.len(), t.data.len());
            out.push((table.clone(), body, t.rows.len() as u64));
        }
        out
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
        let mut bytes = 0;
        for t in self.tables.values_mut() {
            let mut data = Vec::new();
            let mut rows = Vec::new();
            let mut at = 0;
            for &(o, end) in &t.rows {
                if o >= offset {
                    data.extend_from_slice(&t.data[at..end]);
                    rows.push((o, data.len()));
                }
                at = end;
            }
            bytes += data.len();
            *t = TableRows { data, rows };
        }
        self.bytes = bytes;
        self.start = offset;
    }

    pub fn clear(&mut self) {
        *self = PartitionBuffer::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(s: &str) -> impl FnOnce(&mut Vec<u8>) -> Result<bool> + '_ {
        move |out: &mut Vec<u8>| {
            out.extend_from_slice(s.as_bytes());
            Ok(!s.is_empty())
        }
    }

    #[test]
    fn frames_per_table_and_counts_rowless_offsets() {
        let mut b = PartitionBuffer::new();
        assert!(b.is_empty());
        b.append("t1", 5, row("{\"a\":1}")).unwrap();
        b.append("t2", 6, row("x,1")).unwrap();
        b.append("t1", 7, row("")).unwrap(); // tombstone
        b.append("t1", 8, row("{\"a\":2}")).unwrap();
        b.note(9); // sent to the DLQ
        assert_eq!(b.range(), Some((5, 10)));
        let bodies = b.bodies(&Framing::JsonArray);
        assert_eq!(bodies[0], ("t1".to_string(), b"[{\"a\":1},{\"a\":2}]".to_vec(), 2));
        assert_eq!(bodies[1], ("t2".to_string(), b"[x,1]".to_vec(), 1));
        let lines = b.bodies(&Framing::Lines(b"\n".to_vec()));
        assert_eq!(lines[0].1, b"{\"a\":1}\n{\"a\":2}\n".to_vec());
        assert_eq!(b.bytes(), 7 + 3 + 7);
    }

    #[test]
    fn a_failed_row_leaves_nothing() {
        let mut b = PartitionBuffer::new();
        let e = b.append("t", 1, |out: &mut Vec<u8>| {
            out.extend_from_slice(b"half");
            Err(crate::Error::data("bad"))
        });
        assert!(e.is_err());
        assert!(b.is_empty());
        assert!(b.bodies(&Framing::JsonArray).is_empty());
    }

    #[test]
    fn drop_below_keeps_the_rows_at_and_above() {
        let mut b = PartitionBuffer::new();
        for (o, r) in [(10, "a"), (11, "b"), (12, "c"), (13, "d")] {
            b.append("t", o, row(r)).unwrap();
        }
        b.drop_below(12);
        assert_eq!(b.range(), Some((12, 14)));
        assert_eq!(b.bodies(&Framing::Lines(b"\n".to_vec()))[0].1, b"c\nd\n".to_vec());
        assert_eq!(b.bytes(), 2);
        b.drop_below(9);
        assert_eq!(b.range(), Some((12, 14)));
        b.drop_below(14);
        assert!(b.is_empty());
        assert_eq!(b.bytes(), 0);
    }
}

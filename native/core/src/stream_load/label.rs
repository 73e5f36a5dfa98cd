//! Labels: one per load, derived from what the load holds, so the same load always has the same
//! label: when it is retried, and when a restarted task replays exactly the same records.
//! StarRocks then recognises the replay (`Label Already Exists`, `FINISHED`) instead of loading
//! the rows twice.
//!
//! `<prefix>-<table>-<partition>-<first>-<last>-<hash>`: the prefix (the connector name unless
//! `sink.label.prefix` is set) keeps connectors apart, the readable middle names the first
//! partition's offset range, and the hash covers the database, the table, every
//! topic-partition range of the load and the timestamps of its records (so a topic deleted and
//! created again, whose offsets start over, never reuses the labels of the old records). Every part is cut so the label stays within StarRocks'
//! `^[-\w]{1,128}$`.

use std::collections::BTreeMap;

use crate::config::{sanitize_label_part, LABEL_PREFIX_MAX};
use crate::hash::Fnv;
use crate::offsets::TopicPartition;

#[derive(Debug, Clone)]
pub struct LabelMaker {
    stem: String,
}

impl LabelMaker {
    pub fn new(prefix: &str) -> LabelMaker {
        LabelMaker { stem: sanitize_label_part(prefix, LABEL_PREFIX_MAX) }
    }

    /// The label of a load of `ranges` (first and last offset per partition) into `db.table`.
    /// `fingerprint`: the buffer's running hash of its records' coordinates and timestamps.
    pub fn label(&self, db: &str, table: &str, ranges: &BTreeMap<TopicPartition, (i64, i64)>, fingerprint: u64) -> String {
        let mut h = Fnv::new();
        h.write(&fingerprint.to_le_bytes());
        for part in [db, "\u{0}", table] {
            h.write(part.as_bytes());
        }
        for ((topic, partition), (first, last)) in ranges {
            h.write(b"\0");
            h.write(topic.as_bytes());
            h.write(&partition.to_le_bytes());
            h.write(&first.to_le_bytes());
            h.write(&last.to_le_bytes());
        }
        let (p, first, last) = match ranges.iter().next() {
            Some(((_, p), (f, l))) => (*p, *f, *l),
            None => (0, 0, 0),
        };
        format!("{}-{}-{}-{}-{}-{:016x}", self.stem, sanitize_label_part(table, 24), p, first, last, h.0)
    }
}

impl LabelMaker {
    /// The label of attempt `attempt` (0-based) of a multi-table transaction into `db` carrying
    /// the loads labelled `parts` (each its table's [`LabelMaker::label`], so the content decides
    /// it as for a single load): `<prefix>-multi-<tables>-<attempt>-<hash>`. A replay of the same
    /// flush after a crash gets the same labels, attempt by attempt; each attempt of one flush has
    /// its own, so a late request of an aborted attempt cannot touch the next one.
    pub fn multi(&self, db: &str, parts: &[String], attempt: u32) -> String {
        let mut h = Fnv::new();
        h.write(db.as_bytes());
        for p in parts {
            h.write(b"\0");
            h.write(p.as_bytes());
        }
        format!("{}-multi-{}-{}-{:016x}", self.stem, parts.len(), attempt, h.0)
    }
}

/// StarRocks' label rule: `^[-\w]{1,128}$` with ASCII word characters.
pub fn is_valid(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 128
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(entries: &[(&str, i32, i64, i64)]) -> BTreeMap<TopicPartition, (i64, i64)> {
        entries.iter().map(|(t, p, f, l)| ((t.to_string(), *p), (*f, *l))).collect()
    }

    #[test]
    fn same_load_same_label_and_any_difference_changes_it() {
        let m = LabelMaker::new("my connector");
        let r = ranges(&[("orders", 3, 100, 199), ("orders", 1, 5, 9)]);
        let a = m.label("db", "t", &r, 1);
        assert_eq!(a, LabelMaker::new("my connector").label("db", "t", &r, 1));
        assert!(a.starts_with("my_connector-t-1-5-9-"), "{}", a);
        assert_ne!(a, m.label("db2", "t", &r, 1));
        assert_ne!(a, m.label("db", "t2", &r, 1));
        assert_ne!(a, m.label("db", "t", &ranges(&[("orders", 3, 100, 198), ("orders", 1, 5, 9)]), 1));
        assert_ne!(a, LabelMaker::new("other").label("db", "t", &r, 1));
        assert_ne!(a, m.label("db", "t", &r, 2));
    }

    #[test]
    fn a_multi_table_label_follows_its_parts_and_the_attempt() {
        let m = LabelMaker::new("c");
        let parts = vec!["c-a-0-1-2-00".to_string(), "c-b-0-3-4-00".to_string()];
        let l = m.multi("db", &parts, 0);
        assert!(l.starts_with("c-multi-2-0-") && is_valid(&l), "{}", l);
        assert_eq!(l, LabelMaker::new("c").multi("db", &parts, 0));
        assert_ne!(l, m.multi("db", &parts, 1));
        assert_ne!(l, m.multi("db2", &parts, 0));
        assert_ne!(l, m.multi("db", &parts[..1], 0));
        assert!(is_valid(&LabelMaker::new(&"p".repeat(40)).multi("db", &parts, u32::MAX)));
    }

    #[test]
    fn labels_stay_valid_at_the_limits() {
        let m = LabelMaker::new(&"long prefix ".repeat(10));
        let r = ranges(&[(&"t".repeat(300), i32::MAX, i64::MIN, i64::MAX)]);
        let l = m.label("db", &"table.name/x".repeat(20), &r, u64::MAX);
        assert!(is_valid(&l), "{} ({} chars)", l, l.len());
    }
}

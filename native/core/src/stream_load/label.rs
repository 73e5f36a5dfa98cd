//! Labels: one per load, kept when the same load is retried so StarRocks can deduplicate it.
//!
//! `<prefix>-<table>-<task>-<nonce>-<seq>`: the prefix (the connector name unless
//! `sink.label.prefix` is set) keeps two connectors apart, the nonce (fresh for every sink
//! instance) keeps a restarted task from colliding with labels StarRocks still remembers from
//! the last run, and the sequence number counts this sink's loads. Every part is cut so the
//! whole label stays within StarRocks' `^[-\w]{1,128}$`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::sanitize_label_part;

#[derive(Debug)]
pub struct LabelMaker {
    stem: String,
    nonce: String,
    seq: u64,
}

impl LabelMaker {
    pub fn new(prefix: &str, task_id: &str) -> LabelMaker {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        // Nanoseconds mixed with the process id: two sinks opened in the same instant in two
        // workers on one host still differ.
        let mixed = (nanos as u64) ^ ((std::process::id() as u64) << 40);
        LabelMaker {
            stem: format!("{}-", sanitize_label_part(prefix, 40)),
            nonce: format!("{}-{:012x}", sanitize_label_part(task_id, 6), mixed & 0xffff_ffff_ffff),
            seq: 0,
        }
    }

    /// The label of the next load into `table`.
    pub fn next(&mut self, table: &str) -> String {
        self.seq += 1;
        format!("{}{}-{}-{}", self.stem, sanitize_label_part(table, 32), self.nonce, self.seq)
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

    #[test]
    fn labels_are_valid_unique_and_bounded() {
        let mut m = LabelMaker::new(&"very long connector name ".repeat(10), "12345678");
        let a = m.next(&"t.x/y".repeat(30));
        let b = m.next("orders");
        assert!(is_valid(&a) && is_valid(&b), "{} {}", a, b);
        assert_ne!(a, b);
        assert!(b.contains("-orders-"));
        assert!(LabelMaker::new("c", "0").next("t") != LabelMaker::new("c", "0").next("t") || cfg!(miri));
    }
}

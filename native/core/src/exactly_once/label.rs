//! Labels of exactly-once transactions. A flush's label names what it moves the register from
//! (`(db, topic, partition, register offset, generation)`) and its attempt, so it is private to
//! one writer: no other writer can ever begin, load into or commit a transaction under it (a
//! label shared between writers lets one commit the other's half-loaded transaction once the
//! first is aborted and the label begun again). And a fencer, which knows the register's offset
//! and generation, can name every transaction the previous owner may have running.

use crate::config::{sanitize_label_part, LABEL_PREFIX_MAX};
use crate::hash::Fnv;

#[derive(Debug, Clone)]
pub struct EoLabels {
    stem: String,
    /// Hash of database and topic: the readable part of a label has room for neither in full.
    scope: u64,
}

impl EoLabels {
    pub fn new(prefix: &str, db: &str, topic: &str) -> EoLabels {
        let mut h = Fnv::new();
        h.write(db.as_bytes());
        h.write(b"\0");
        h.write(topic.as_bytes());
        EoLabels { stem: sanitize_label_part(prefix, LABEL_PREFIX_MAX), scope: h.0 }
    }

    /// Attempt `attempt` of the transaction that moves `partition`'s register from `from`
    /// (`-1`: nothing loaded yet) under `generation`.
    pub fn flush(&self, partition: i32, from: i64, generation: i64, attempt: u32) -> String {
        format!("{}-eo-{:016x}-{}-{}-{}-{}", self.stem, self.scope, partition, from, generation, attempt)
    }

    /// The one-shot load that takes `partition` over from the register row `(next, generation)`.
    /// It names no owner on purpose: two fencers that read the same row collide on it, and only
    /// one of them takes the next generation (while StarRocks remembers the label).
    pub fn fence(&self, partition: i32, next: i64, generation: i64) -> String {
        format!("{}-ef-{:016x}-{}-{}-{}", self.stem, self.scope, partition, next, generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_load::label::is_valid;

    #[test]
    fn flush_label_names_scope_partition_origin_generation_and_attempt() {
        let l = EoLabels::new("conn", "db", "orders");
        let a = l.flush(3, 100, 7, 0);
        assert_eq!(a, EoLabels::new("conn", "db", "orders").flush(3, 100, 7, 0));
        for other in [l.flush(3, 101, 7, 0), l.flush(4, 100, 7, 0), l.flush(3, 100, 8, 0), l.flush(3, 100, 7, 1)] {
            assert_ne!(a, other);
        }
        assert_ne!(a, EoLabels::new("conn", "db2", "orders").flush(3, 100, 7, 0));
        assert_ne!(a, EoLabels::new("conn", "db", "orders2").flush(3, 100, 7, 0));
    }

    #[test]
    fn labels_stay_valid_at_the_limits() {
        let l = EoLabels::new(&"a very long connector name ".repeat(8), "db", &"t".repeat(249));
        for s in [l.flush(i32::MAX, i64::MAX, i64::MAX, u32::MAX), l.fence(i32::MAX, -1, i64::MAX)] {
            assert!(is_valid(&s), "{} ({} chars)", s, s.len());
        }
    }
}

//! Which offsets are safe to commit.
//!
//! A record's rows may sit in a table buffer, in a load in flight, or be in StarRocks. Connect
//! may commit offset `n` of a partition only when every record before `n` is in StarRocks. So
//! the committable offset of a partition is the first offset still pending anywhere (buffers and
//! loads in flight remember the first offset they hold per partition), or, when nothing is
//! pending, the offset after the last record seen. Records that produced no row (tombstones)
//! count as seen and so are committed with their neighbours.

use std::collections::BTreeMap;

use hashbrown::{Equivalent, HashMap};

/// A Kafka topic-partition in the record's original coordinates.
pub type TopicPartition = (String, i32);

/// Per-partition offsets, looked up per record. hashbrown, because its `Equivalent` lookups take
/// a borrowed `(&str, i32)`: std's `HashMap<(String, i32), _>` would need a new `String` for
/// every record just to look its partition up.
pub type PartitionMap = HashMap<TopicPartition, i64>;

/// First offset per partition held by one pending chunk (a buffer or a load in flight).
pub type FirstOffsets = PartitionMap;

/// A borrowed `TopicPartition` key. Its `Hash` writes what `(String, i32)`'s does (the text, then
/// the number), which `Equivalent` lookups require.
#[derive(Hash)]
pub struct TpRef<'a>(pub &'a str, pub i32);

impl Equivalent<TopicPartition> for TpRef<'_> {
    fn equivalent(&self, key: &TopicPartition) -> bool {
        key.1 == self.1 && key.0 == self.0
    }
}

/// Sets `offset` for `topic`/`partition`, allocating only for a partition not in `map` yet.
pub fn set_offset(map: &mut PartitionMap, topic: &str, partition: i32, offset: i64) {
    match map.get_mut(&TpRef(topic, partition)) {
        Some(o) => *o = offset,
        None => {
            map.insert((topic.to_string(), partition), offset);
        }
    }
}

#[derive(Debug, Default)]
pub struct OffsetTracker {
    /// The offset after the last record seen, per partition. "Last", not "highest": after a
    /// rewind (Connect replays from the committed offset) the position moves back with it.
    next_seen: PartitionMap,
}

impl OffsetTracker {
    pub fn seen(&mut self, topic: &str, partition: i32, offset: i64) {
        set_offset(&mut self.next_seen, topic, partition, offset + 1);
    }

    /// Stops tracking partitions Connect took away.
    pub fn forget(&mut self, tp: &TopicPartition) {
        self.next_seen.remove(tp);
    }

    /// The offset to commit per partition, given every chunk still pending.
    pub fn committable<'a>(&self, pending: impl IntoIterator<Item = &'a FirstOffsets>) -> BTreeMap<TopicPartition, i64> {
        let mut out: BTreeMap<TopicPartition, i64> =
            self.next_seen.iter().map(|(tp, n)| (tp.clone(), *n)).collect();
        for chunk in pending {
            for (tp, first) in chunk {
                if let Some(n) = out.get_mut(tp) {
                    *n = (*n).min(*first);
                }
            }
        }
        out
    }
}

/// Notes `offset` of `tp` in a chunk's first offsets (only the first one per partition counts).
pub fn note_first(first: &mut FirstOffsets, topic: &str, partition: i32, offset: i64) {
    if !first.contains_key(&TpRef(topic, partition)) {
        first.insert((topic.to_string(), partition), offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(t: &str, p: i32) -> TopicPartition {
        (t.to_string(), p)
    }

    #[test]
    fn nothing_pending_commits_after_the_last_record() {
        let mut t = OffsetTracker::default();
        t.seen("a", 0, 4);
        t.seen("a", 0, 5);
        t.seen("b", 1, 9);
        let c = t.committable([]);
        assert_eq!(c[&tp("a", 0)], 6);
        assert_eq!(c[&tp("b", 1)], 10);
    }

    #[test]
    fn a_pending_chunk_holds_its_partition_back_and_only_that_one() {
        let mut t = OffsetTracker::default();
        for o in 0..10 {
            t.seen("a", 0, o);
        }
        t.seen("b", 0, 3);
        let mut first_x = FirstOffsets::new();
        note_first(&mut first_x, "a", 0, 4);
        note_first(&mut first_x, "a", 0, 7);
        let mut first_y = FirstOffsets::new();
        note_first(&mut first_y, "a", 0, 2);
        let c = t.committable([&first_x, &first_y]);
        assert_eq!(c[&tp("a", 0)], 2, "the earliest pending offset wins");
        assert_eq!(c[&tp("b", 0)], 4);
        assert_eq!(t.committable([&first_x])[&tp("a", 0)], 4);
    }

    #[test]
    fn a_rewind_moves_the_position_back() {
        let mut t = OffsetTracker::default();
        t.seen("a", 0, 50);
        t.seen("a", 0, 10);
        assert_eq!(t.committable([])[&tp("a", 0)], 11);
    }
}

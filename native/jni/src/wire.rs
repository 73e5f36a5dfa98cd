//! The byte layouts of the answers Java decodes (docs/architecture.md): little-endian, strings
//! as `u32 length` + UTF-8.

use std::collections::BTreeMap;

use starrocks_sink_core::offsets::TopicPartition;
use starrocks_sink_core::rejected::Rejected;

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// `u32 count, (topic:string partition:i32 next_offset:i64)*count`
fn put_offsets(out: &mut Vec<u8>, map: &BTreeMap<TopicPartition, i64>) {
    out.extend_from_slice(&(map.len() as u32).to_le_bytes());
    for ((topic, partition), next) in map {
        put_str(out, topic);
        out.extend_from_slice(&partition.to_le_bytes());
        out.extend_from_slice(&next.to_le_bytes());
    }
}

/// `u32 count, (topic:string partition:i32 offset:i64 reason:string)*count`
fn put_rejected(out: &mut Vec<u8>, records: &[Rejected]) {
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for r in records {
        put_str(out, &r.topic);
        out.extend_from_slice(&r.partition.to_le_bytes());
        out.extend_from_slice(&r.offset.to_le_bytes());
        put_str(out, &r.reason);
    }
}

/// The answer of `preCommit`, both sections in one array so one JNI call answers them: the
/// acknowledged offsets, `u32 count, (topic:string partition:i32 next_offset:i64)*count`, then
/// the records refused since the last answer, `u32 count, (topic:string partition:i32
/// offset:i64 reason:string)*count` (`u32 0` when none, always without errors.tolerance=all).
pub fn pre_commit(offsets: &BTreeMap<TopicPartition, i64>, rejected: &[Rejected]) -> Vec<u8> {
    let rejected_len = 4 + rejected.iter().map(|r| r.topic.len() + r.reason.len() + 20).sum::<usize>();
    let mut out = Vec::with_capacity(4 + offsets.len() * 32 + rejected_len);
    put_offsets(&mut out, offsets);
    put_rejected(&mut out, rejected);
    out
}

/// `u32 count, (level:u8 message:string)*count`
pub fn logs(events: &[(u8, String)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + events.iter().map(|(_, m)| m.len() + 5).sum::<usize>());
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for (level, message) in events {
        out.push(*level);
        put_str(&mut out, message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let mut m = BTreeMap::new();
        m.insert(("ab".to_string(), 3), 258i64);
        let offsets = vec![1, 0, 0, 0, 2, 0, 0, 0, b'a', b'b', 3, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0];
        let mut out = Vec::new();
        put_offsets(&mut out, &m);
        assert_eq!(out, offsets);
        assert_eq!(logs(&[(2, "x".into())]), vec![1, 0, 0, 0, 2, 1, 0, 0, 0, b'x']);
        let r = Rejected { topic: "t".into(), partition: 1, offset: 2, reason: "r".into() };
        let rejected = vec![1, 0, 0, 0, 1, 0, 0, 0, b't', 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, b'r'];
        let mut out = Vec::new();
        put_rejected(&mut out, std::slice::from_ref(&r));
        assert_eq!(out, rejected);

        // preCommit: the offsets section, then the rejected section
        assert_eq!(pre_commit(&m, std::slice::from_ref(&r)), [offsets.clone(), rejected.clone()].concat());
        assert_eq!(pre_commit(&m, &[]), [offsets, vec![0, 0, 0, 0]].concat());
        assert_eq!(pre_commit(&BTreeMap::new(), &[r]), [vec![0, 0, 0, 0], rejected].concat());
        assert_eq!(pre_commit(&BTreeMap::new(), &[]), vec![0, 0, 0, 0, 0, 0, 0, 0]);
    }
}

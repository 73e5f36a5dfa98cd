//! The one backoff of the crate: how long to wait before retry number `n`, for Stream Loads
//! (`stream_load::retry`) and for the exactly-once protocol's steps (`exactly_once::writer`)
//! alike. Each mode picks its own numbers; the formula and the jitter are here only.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::hash::Fnv;

/// The longest wait between two Stream Load attempts, whatever `sink.retry.backoffms` doubles
/// to: a task that waits longer looks hung to whoever reads its log.
pub const MAX_LOAD_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry; doubles each retry up to `max`.
    pub initial: Duration,
    pub max: Duration,
    /// Picks the jitter. Random per sink in production, so tasks that failed together do not come
    /// back together; fixed in the deterministic simulation, so a seed replays the same schedule.
    pub seed: u64,
}

impl Backoff {
    /// A backoff with a random jitter seed.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff { initial, max, seed: RandomState::new().build_hasher().finish() }
    }

    /// The wait before retry number `n` (1-based): `initial * 2^(n-1)`, capped at `max`, minus up
    /// to 25 % jitter (only ever shorter, so `max` stays a bound).
    pub fn delay(&self, n: u32) -> Duration {
        let base = self.initial.saturating_mul(1u32 << n.saturating_sub(1).min(16)).min(self.max);
        let mut h = Fnv::new();
        h.write(&self.seed.to_le_bytes());
        h.write(&n.to_le_bytes());
        let jitter = (h.0 % 1000) as f64 / 4000.0;
        base.mul_f64(1.0 - jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_is_capped_and_jittered_down_only() {
        let b = Backoff::new(Duration::from_millis(1000), Duration::from_millis(5000));
        for (n, full) in [(1, 1000), (2, 2000), (3, 4000), (4, 5000), (30, 5000)] {
            let d = b.delay(n).as_millis() as u64;
            assert!(d <= full && d >= full * 3 / 4, "retry {} waited {} ms", n, d);
        }
    }

    #[test]
    fn the_seed_decides_the_jitter() {
        let b = Backoff { initial: Duration::from_millis(1000), max: Duration::from_secs(60), seed: 7 };
        assert_eq!(b.delay(3), b.clone().delay(3));
        let spread: std::collections::BTreeSet<Duration> =
            (0..20).map(|seed| Backoff { seed, ..b.clone() }.delay(3)).collect();
        assert!(spread.len() > 10, "20 seeds gave only {:?}", spread);
    }
}

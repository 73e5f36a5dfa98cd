//! When buffered rows go: the triggers both delivery modes flush by. A mode keys its buffers by
//! what one of its flushes takes (a table at-least-once, a partition exactly-once); the triggers
//! only see sizes and ages.

use std::time::{Duration, Instant};

use crate::config::Config;

#[derive(Debug, Clone)]
pub struct FlushPolicy {
    /// `bufferflush.maxbytes`, for all buffers of the task together.
    pub max_bytes: u64,
    /// `bufferflush.intervalms`: the longest a record waits in a buffer.
    pub interval: Duration,
}

impl FlushPolicy {
    pub fn new(cfg: &Config) -> FlushPolicy {
        FlushPolicy { max_bytes: cfg.flush_max_bytes, interval: cfg.flush_interval }
    }

    /// Once `buffered` bytes (all buffers together) reach the flush size: the biggest buffer,
    /// the one to flush.
    pub fn over_size<'a, K: Clone + 'a>(&self, buffered: usize, sizes: impl Iterator<Item = (&'a K, usize)>) -> Option<K> {
        if (buffered as u64) < self.max_bytes {
            return None;
        }
        sizes.max_by_key(|(_, bytes)| *bytes).map(|(k, _)| k.clone())
    }

    /// The buffers whose oldest record arrived at least the interval ago.
    pub fn due<'a, K: Clone + 'a>(&self, oldest: impl Iterator<Item = (&'a K, Option<Instant>)>) -> Vec<K> {
        oldest.filter(|(_, since)| since.is_some_and(|s| s.elapsed() >= self.interval)).map(|(k, _)| k.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_biggest_goes_once_all_together_reach_the_size() {
        let p = FlushPolicy { max_bytes: 100, interval: Duration::from_secs(1) };
        let (a, b) = ("a".to_string(), "b".to_string());
        assert_eq!(p.over_size(99, [(&a, 60), (&b, 39)].into_iter()), None);
        assert_eq!(p.over_size(100, [(&a, 40), (&b, 60)].into_iter()), Some(b.clone()));
    }

    #[test]
    fn a_buffer_is_due_when_its_oldest_record_is_the_interval_old() {
        let p = FlushPolicy { max_bytes: 100, interval: Duration::from_millis(50) };
        let (old, new, empty) = (1, 2, 3);
        let then = Instant::now() - Duration::from_millis(60);
        let due = p.due([(&old, Some(then)), (&new, Some(Instant::now())), (&empty, None)].into_iter());
        assert_eq!(due, vec![1]);
    }
}

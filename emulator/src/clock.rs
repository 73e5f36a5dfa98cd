//! Time as the transaction machinery sees it. Timeouts, publish delays and label retention all
//! read an injected clock, so a simulation can jump hours ahead (`ManualClock`) and the server
//! runs on wall time (`SystemClock`) with the same code.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync {
    /// Seconds (since the Unix epoch for `SystemClock`; any origin for `ManualClock`).
    fn now(&self) -> f64;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    t: Mutex<f64>,
}

impl ManualClock {
    pub fn new(start: f64) -> ManualClock {
        ManualClock { t: Mutex::new(start) }
    }
    pub fn set(&self, t: f64) {
        *self.t.lock().unwrap() = t;
    }
    pub fn advance(&self, secs: f64) {
        *self.t.lock().unwrap() += secs;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> f64 {
        *self.t.lock().unwrap()
    }
}

/// The default clock everywhere.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(100.0);
        assert_eq!(c.now(), 100.0);
        c.advance(2.5);
        assert_eq!(c.now(), 102.5);
        c.set(7.0);
        assert_eq!(c.now(), 7.0);
        assert!(SystemClock.now() > 1.6e9);
    }
}

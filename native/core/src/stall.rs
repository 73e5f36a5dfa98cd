//! Stalls and outages, for both delivery modes: the watchdog that fails a task whose records
//! wait while nothing moves, and the outage log that keeps a StarRocks outage to a few lines.
//!
//! Every operation that carries records to StarRocks (an at-least-once load with its retries, an
//! exactly-once flush or fence) is *watched* while it runs ([`Watchdog::start`]): it says what it
//! waits for at each step (the FE's redirect, the BE's answer, a label's state, a transaction's
//! commit) through its [`Stage`]. When one has made no progress for `sink.stall.timeoutms`,
//! [`Watchdog::check`] answers an error naming the operation, its label, how long, how many
//! records wait and what its last attempt was waiting for; the sink poisons itself with it, so
//! Connect fails the task instead of showing it RUNNING. Success (a load, a flush, a part of an
//! isolated load) is progress and restarts the clock.
//!
//! Outage log: the first failed attempt is logged, then nothing per attempt: a summary at most
//! every [`SUMMARY_EVERY`] (attempts and failures since the last line, what waits), and one line
//! when a load succeeds again. Retries stay bounded by `sink.maxretries` as before; this only
//! changes what the log says meanwhile.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::log::Log;

/// How often an ongoing outage is summed up in the log.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// One sink's watched operations and outage state.
pub struct Watchdog {
    limit: Duration,
    log: Log,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    ops: HashMap<u64, Op>,
    next_id: u64,
    outage: Option<Outage>,
}

struct Op {
    /// The caller's name for it (a table, a partition): what `check`'s `extra` is asked about.
    key: String,
    /// "the load into d.t", "the flush of topic-0 ...".
    what: String,
    /// Since when it made no progress.
    since: Instant,
    records: u64,
    label: String,
    waiting_for: String,
    /// What it waited for before that (a stall is often a loop of two waits).
    before: String,
    /// Set while it sleeps before its next attempt.
    pause: Option<Duration>,
}

struct Outage {
    began: Instant,
    last_line: Instant,
    /// Since the last line.
    attempts: u64,
    failures: u64,
    /// Since it began.
    total_failures: u64,
    last_error: String,
}

impl Watchdog {
    /// `limit`: `sink.stall.timeoutms`.
    pub fn new(limit: Duration, log: Log) -> Arc<Watchdog> {
        Arc::new(Watchdog { limit, log, state: Mutex::new(State::default()) })
    }

    pub fn limit(&self) -> Duration {
        self.limit
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts watching an operation carrying `records` records; it is watched until the guard is
    /// dropped (the operation ended, failed, or was aborted).
    pub fn start(self: &Arc<Self>, key: &str, what: String, label: &str, records: u64) -> Watch {
        let mut st = self.lock();
        st.next_id += 1;
        let id = st.next_id;
        let op = Op { key: key.to_string(), what, since: Instant::now(), records, label: label.to_string(), waiting_for: "its first attempt".into(), before: String::new(), pause: None };
        st.ops.insert(id, op);
        Watch { stage: Stage { dog: Some(self.clone()), id } }
    }

    /// The stall error of the operation that has waited longest, when that is `limit` or more;
    /// also writes the outage summary when one is due. `extra(key)`: records waiting for the
    /// operation besides its own (rows buffered behind an at-least-once load).
    pub fn check(&self, extra: impl Fn(&str) -> u64) -> Option<Error> {
        self.check_at(Instant::now(), extra)
    }

    pub fn check_at(&self, now: Instant, extra: impl Fn(&str) -> u64) -> Option<Error> {
        let mut st = self.lock();
        self.summary_if_due(&mut st, now);
        let op = st.ops.values().filter(|o| now.saturating_duration_since(o.since) >= self.limit).max_by_key(|o| now.saturating_duration_since(o.since))?;
        let waited = now.saturating_duration_since(op.since);
        let records = op.records + extra(&op.key);
        let mut last = match op.pause {
            Some(d) => format!("it was waiting {} ms to retry, and its last attempt was waiting for {}", d.as_millis(), op.waiting_for),
            None => format!("its last attempt was waiting for {}", op.waiting_for),
        };
        if !op.before.is_empty() {
            last.push_str(&format!(" (before that: {})", op.before));
        }
        Some(Error::load(format!(
            "stalled: {} (label {}) made no progress for {:.1} s while {} records wait; {}. Failing the task rather than \
             leaving it RUNNING (sink.stall.timeoutms = {} ms)",
            op.what,
            op.label,
            waited.as_secs_f64(),
            records,
            last,
            self.limit.as_millis()
        )))
    }

    fn summary_if_due(&self, st: &mut State, now: Instant) {
        let Some(o) = st.outage.as_mut() else { return };
        if now.saturating_duration_since(o.last_line) < SUMMARY_EVERY {
            return;
        }
        let since_line = now.saturating_duration_since(o.last_line).as_secs();
        let (attempts, failures, total, last) = (o.attempts, o.failures, o.total_failures, o.last_error.clone());
        let began = now.saturating_duration_since(o.began).as_secs();
        o.last_line = now;
        o.attempts = 0;
        o.failures = 0;
        let mut waiting: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for op in st.ops.values() {
            let e = waiting.entry(op.what.as_str()).or_default();
            e.0 += op.records;
            e.1 = e.1.max(now.saturating_duration_since(op.since).as_secs());
        }
        let waiting: Vec<String> = waiting.iter().map(|(w, (r, s))| format!("{} ({} records, {} s)", w, r, s)).collect();
        self.log.warn(|| {
            format!(
                "StarRocks still failing after {} s: {} attempts and {} failures in the last {} s ({} failures in all); waiting: {}; last error: {}",
                began,
                attempts,
                failures,
                since_line,
                total,
                if waiting.is_empty() { "nothing".to_string() } else { waiting.join(", ") },
                last
            )
        });
    }
}

/// A watched operation: dropping it stops the watch.
pub struct Watch {
    stage: Stage,
}

impl Watch {
    pub fn stage(&self) -> &Stage {
        &self.stage
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(dog) = &self.stage.dog {
            dog.lock().ops.remove(&self.stage.id);
        }
    }
}

/// What a watched operation tells the watchdog and the outage log; [`Stage::none`] tells nobody
/// (tests, callers without a sink).
#[derive(Clone)]
pub struct Stage {
    dog: Option<Arc<Watchdog>>,
    id: u64,
}

impl Stage {
    pub fn none() -> Stage {
        Stage { dog: None, id: 0 }
    }

    fn with_op(&self, f: impl FnOnce(&mut Op)) {
        if let Some(dog) = &self.dog {
            if let Some(op) = dog.lock().ops.get_mut(&self.id) {
                f(op)
            }
        }
    }

    /// The operation now waits for `what()` (a request, a state).
    pub fn waiting_for(&self, what: impl FnOnce() -> String) {
        if self.dog.is_some() {
            let w = what();
            self.with_op(|op| {
                if op.waiting_for != w {
                    op.before = std::mem::replace(&mut op.waiting_for, w);
                }
                op.pause = None;
            });
        }
    }

    /// The operation's current label (exactly-once: each attempt's transaction label).
    pub fn label(&self, label: &str) {
        self.with_op(|op| op.label = label.to_string());
    }

    /// The operation sleeps `d` before its next attempt.
    pub fn pause(&self, d: Duration) {
        self.with_op(|op| op.pause = Some(d));
    }

    /// An attempt (a request to StarRocks) begins: counted in the outage summary.
    pub fn attempt(&self) {
        if let Some(dog) = &self.dog {
            if let Some(o) = dog.lock().outage.as_mut() {
                o.attempts += 1;
            }
        }
    }

    /// An attempt failed with `message`: the first failure of an outage is logged, later ones
    /// are counted for the summary.
    pub fn failed(&self, message: &str) {
        self.failed_at(Instant::now(), message)
    }

    pub fn failed_at(&self, now: Instant, message: &str) {
        let Some(dog) = &self.dog else { return };
        let mut st = dog.lock();
        let what = st.ops.get(&self.id).map(|o| format!("{} (label {})", o.what, o.label)).unwrap_or_default();
        match st.outage.as_mut() {
            Some(o) => {
                o.attempts = o.attempts.max(1);
                o.failures += 1;
                o.total_failures += 1;
                o.last_error = message.to_string();
            }
            None => {
                st.outage = Some(Outage { began: now, last_line: now, attempts: 0, failures: 0, total_failures: 1, last_error: message.to_string() });
                dog.log.warn(|| {
                    format!(
                        "StarRocks load failed: {}: {}. Retrying; until a load succeeds the log carries a summary every {} s instead of a line per attempt",
                        what,
                        message,
                        SUMMARY_EVERY.as_secs()
                    )
                });
            }
        }
        dog.summary_if_due(&mut st, now);
    }

    /// The operation moved (a load or flush succeeded): its stall clock restarts, and an outage
    /// ends with a line saying so.
    pub fn progressed(&self) {
        self.progressed_at(Instant::now())
    }

    pub fn progressed_at(&self, now: Instant) {
        let Some(dog) = &self.dog else { return };
        let mut st = dog.lock();
        let what = st.ops.get_mut(&self.id).map(|op| {
            op.since = now;
            op.what.clone()
        });
        if let Some(o) = st.outage.take() {
            dog.log.info(|| {
                format!(
                    "StarRocks loads succeed again ({}) after {} s of failures ({} failed attempts in all)",
                    what.unwrap_or_default(),
                    now.saturating_duration_since(o.began).as_secs(),
                    o.total_failures
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn dog(limit_ms: u64) -> (Arc<Watchdog>, Log) {
        let log = Log::new(5);
        (Watchdog::new(Duration::from_millis(limit_ms), log.clone()), log)
    }

    #[test]
    fn an_operation_without_progress_trips_with_what_it_waited_for() {
        let (dog, _) = dog(1000);
        let t0 = Instant::now();
        let watch = dog.start("t", "the load into d.t".into(), "lbl-1", 3);
        watch.stage().waiting_for(|| "BE http://be:8040 to read the body and answer".into());
        assert!(dog.check_at(t0, |_| 0).is_none());
        let e = dog.check_at(t0 + Duration::from_millis(1500), |_| 2).expect("stalled");
        assert_eq!(e.kind, ErrorKind::Load);
        for part in ["the load into d.t", "lbl-1", "while 5 records wait", "BE http://be:8040 to read the body", "sink.stall.timeoutms = 1000 ms"] {
            assert!(e.message.contains(part), "{} not in {}", part, e.message);
        }
        watch.stage().pause(Duration::from_millis(400));
        let e = dog.check_at(t0 + Duration::from_millis(1500), |_| 0).unwrap();
        assert!(e.message.contains("waiting 400 ms to retry"), "{}", e.message);
        drop(watch);
        assert!(dog.check_at(t0 + Duration::from_secs(10), |_| 0).is_none(), "an ended operation is not watched");
    }

    #[test]
    fn progress_restarts_the_clock() {
        let (dog, _) = dog(1000);
        let watch = dog.start("topic-0", "the flush of topic-0".into(), "l", 1);
        let t1 = Instant::now() + Duration::from_millis(900);
        watch.stage().progressed_at(t1);
        assert!(dog.check_at(t1 + Duration::from_millis(900), |_| 0).is_none());
        assert!(dog.check_at(t1 + Duration::from_millis(1000), |_| 0).is_some());
    }

    /// An outage of ten minutes with a failed attempt every 100 ms: the first failure, one summary
    /// a minute, the recovery. Never a line per attempt.
    #[test]
    fn an_outage_logs_a_few_lines_a_minute() {
        let (dog, log) = dog(3_600_000);
        let watch = dog.start("t", "the load into d.t".into(), "lbl", 10);
        let stage = watch.stage().clone();
        let t0 = Instant::now();
        let mut now = t0;
        for i in 0..6000 {
            now = t0 + Duration::from_millis(100 * i);
            stage.attempt();
            stage.failed_at(now, "FE http://fe:8030 answered HTTP 500");
            assert!(dog.check_at(now, |_| 0).is_none());
        }
        stage.progressed_at(now + Duration::from_millis(50));
        let events = log.drain();
        let lines: Vec<&str> = events.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(lines.len(), 1 + 9 + 1, "{:#?}", lines);
        assert!(lines[0].starts_with("StarRocks load failed: the load into d.t (label lbl): FE http://fe:8030 answered HTTP 500"), "{}", lines[0]);
        assert!(lines[1].contains("still failing after 60 s: 600 attempts and 600 failures in the last 60 s"), "{}", lines[1]);
        assert!(lines[1].contains("waiting: the load into d.t (10 records, 60 s)"), "{}", lines[1]);
        assert!(lines[10].starts_with("StarRocks loads succeed again (the load into d.t) after 599 s of failures (6000 failed attempts in all)"), "{}", lines[10]);
        // a new outage is reported from its first failure again
        stage.failed_at(now + Duration::from_secs(1), "boom");
        assert_eq!(log.drain().len(), 1);
    }

    #[test]
    fn a_summary_comes_from_the_check_too_when_attempts_are_far_apart() {
        let (dog, log) = dog(3_600_000);
        let watch = dog.start("t", "the load into d.t".into(), "lbl", 1);
        let t0 = Instant::now();
        watch.stage().failed_at(t0, "boom");
        for s in 1..=130 {
            dog.check_at(t0 + Duration::from_secs(s), |_| 0);
        }
        assert_eq!(log.drain().len(), 3, "first failure, then summaries at 60 s and 120 s");
    }

    #[test]
    fn a_stage_without_a_watchdog_does_nothing() {
        let s = Stage::none();
        s.waiting_for(|| panic!("not formatted"));
        s.failed("x");
        s.progressed();
    }
}

//! At-least-once with `sink.transaction.multi-table.enabled` (StarRocks 4.0+): a flush commits
//! the due tables of one database in one multi-table transaction instead of one Stream Load per
//! table, over the exactly-once path's transaction client (`exactly_once::api::TxnApi`,
//! `http_api`): `begin` (`transaction_type: multi`), one `load` per table, `commit`. (StarRocks
//! has no PREPARED state for multi-table transactions: the commit is one phase.) The sink
//! (`sink.rs`) decides which tables go together and keeps the rules of the single-table path:
//! one load per table in flight, one `sink.inflight.maxloads` slot per transaction, offsets move
//! only past a committed transaction.
//!
//! Retries: each attempt has its own label (`LabelMaker::multi`: derived from the tables' own
//! labels, so a replay of the same flush after a crash finds the first attempt's label committed
//! and loads nothing twice), the crate's backoff between attempts, at most `sink.maxretries`
//! retries. Every failed attempt is rolled back before the next one begins, and the rollback's
//! answer settles an unknown outcome: `Committed` means the commit whose answer was lost did
//! land (done), `RolledBack` or not found means it did not (retry). At-least-once tolerates the
//! one case left, a transaction StarRocks committed and forgot (`label_keep_max_num`) before the
//! rollback asked: it is loaded again. Rows are never lost: a flush is done only when StarRocks
//! says the transaction committed.
//!
//! Rows StarRocks refuses (filtered rows, a JSON error) or a refusal no retry fixes (access
//! denied, an unknown table) answer [`Outcome::Refused`] after the rollback: the sink then loads
//! that flush's tables one by one on the single-table path, which isolates refused rows for the
//! DLQ (`errors.tolerance=all`) or fails the task with StarRocks' message, as without this key.

use std::sync::atomic::Ordering::Relaxed;

use crate::error::{Error, Result};
use crate::exactly_once::api::{Begin, Commit, Load, Rollback, TxnApi, Unknown};
use crate::metrics::Metrics;
use crate::stream_load::response::is_fatal_message;
use crate::stream_load::{LoadRequest, RetryPolicy};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The transaction `label` committed; `deduplicated`: an earlier run of the same flush had
    /// committed it (its label was taken and finished).
    Committed { label: String, attempts: u32, deduplicated: bool },
    /// StarRocks refused the rows or the request for good; the transaction was rolled back.
    Refused(String),
}

/// How one attempt ended.
enum Step {
    Committed { deduplicated: bool },
    Refused(String),
    Retry(String),
}

/// Commits `loads` (each one table's rows, its body as sent: compressed already) in one
/// multi-table transaction of the database `api` talks to. `label(attempt)`: attempt's label.
/// `timeout_secs`: the transaction's `timeout`. Counts failed attempts in `load-failures` and
/// retries in `retries`; the caller counts what committed.
pub async fn commit<A: TxnApi>(
    api: &A,
    policy: &RetryPolicy,
    timeout_secs: u64,
    label: impl Fn(u32) -> String,
    loads: &[LoadRequest],
    metrics: &Metrics,
) -> Result<Outcome> {
    let mut last = String::from("no attempt");
    let attempts = policy.max_retries.saturating_add(1);
    for attempt in 0..attempts {
        if attempt > 0 {
            api.sleep(policy.backoff.delay(attempt)).await;
            metrics.retries.fetch_add(1, Relaxed);
        }
        let l = label(attempt);
        match one_attempt(api, policy, timeout_secs, &l, loads).await {
            Step::Committed { deduplicated } => return Ok(Outcome::Committed { label: l, attempts: attempt + 1, deduplicated }),
            Step::Refused(m) => {
                metrics.load_failures.fetch_add(1, Relaxed);
                return Ok(Outcome::Refused(m));
            }
            Step::Retry(m) => {
                metrics.load_failures.fetch_add(1, Relaxed);
                last = format!("{}: {}", l, m);
            }
        }
    }
    let tables: Vec<&str> = loads.iter().map(|l| l.target.table.as_str()).collect();
    Err(Error::load(format!(
        "the multi-table transaction into {} ({}) failed after {} attempts; last error: {}",
        loads.first().map_or("", |l| l.target.database.as_str()),
        tables.join(", "),
        attempts,
        last
    )))
}

async fn one_attempt<A: TxnApi>(api: &A, policy: &RetryPolicy, timeout_secs: u64, label: &str, loads: &[LoadRequest]) -> Step {
    match api.begin(label, timeout_secs).await {
        Ok(Begin::Begun) => {}
        // a replay of this very flush (same content, same attempt) committed before
        Ok(Begin::LabelExists { running: false }) => return Step::Committed { deduplicated: true },
        Ok(Begin::LabelExists { running: true }) => {
            return match settle(api, policy, label, format!("label {} is taken by a running transaction", label)).await {
                Step::Committed { .. } => Step::Committed { deduplicated: true },
                other => other,
            }
        }
        Ok(Begin::Failed(m)) if is_fatal_message(&m) => return Step::Refused(m),
        Ok(Begin::Failed(m)) => return Step::Retry(m),
        // it may have begun: roll it back (or learn it never did)
        Err(Unknown(m)) => return settle(api, policy, label, m).await,
    }
    for part in loads {
        let table = &part.target.table;
        match api.load(&part.with_label(label.to_string())).await {
            Ok(Load::Loaded) => {}
            // StarRocks aborted the transaction already; the rollback makes sure
            Ok(Load::Rejected(m)) => {
                let m = format!("table {}: {}", table, m);
                return match settle(api, policy, label, m.clone()).await {
                    Step::Retry(_) => Step::Refused(m),
                    other => other,
                };
            }
            Ok(Load::Aborted(m) | Load::Failed(m)) | Err(Unknown(m)) => return settle(api, policy, label, format!("table {}: {}", table, m)).await,
        }
    }
    match api.commit(label).await {
        Ok(Commit::Committed { .. }) => Step::Committed { deduplicated: false },
        Ok(Commit::Aborted(m)) if is_fatal_message(&m) => Step::Refused(m),
        Ok(Commit::Aborted(m)) => Step::Retry(m),
        Ok(Commit::NotFound) => Step::Retry(format!("transaction {} vanished before its commit", label)),
        // the commit may have landed: the rollback's answer says
        Ok(Commit::Failed(m)) | Err(Unknown(m)) => match settle(api, policy, label, m.clone()).await {
            Step::Retry(_) if is_fatal_message(&m) => Step::Refused(m),
            other => other,
        },
    }
}

/// Rolls `label` back, asking again while StarRocks does not answer, so no attempt leaves a
/// transaction running; the answer also settles whether it committed after all. `why`: what
/// failed, for the retry's message.
async fn settle<A: TxnApi>(api: &A, policy: &RetryPolicy, label: &str, why: String) -> Step {
    let mut last = String::new();
    for i in 0..policy.max_retries.saturating_add(1).max(3) {
        if i > 0 {
            api.sleep(policy.backoff.delay(i)).await;
        }
        match api.rollback(label).await {
            Ok(Rollback::RolledBack | Rollback::NotFound) => return Step::Retry(why),
            Ok(Rollback::Committed) => return Step::Committed { deduplicated: false },
            Ok(Rollback::Failed(m)) | Err(Unknown(m)) => last = m,
        }
    }
    // StarRocks does not answer: the transaction ends at its timeout at the latest, and the
    // next attempt (a new label) loads the rows again, at worst a second time
    Step::Retry(format!("{}; rolling back {} failed too: {}", why, label, last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crate::backoff::Backoff;
    use crate::exactly_once::api::{OneShot, TxnState};
    use crate::route::Target;

    /// Answers from a script, and records every request.
    #[derive(Default)]
    struct Fake {
        begins: Mutex<VecDeque<std::result::Result<Begin, Unknown>>>,
        loads: Mutex<VecDeque<std::result::Result<Load, Unknown>>>,
        commits: Mutex<VecDeque<std::result::Result<Commit, Unknown>>>,
        rollbacks: Mutex<VecDeque<std::result::Result<Rollback, Unknown>>>,
        calls: Mutex<Vec<String>>,
    }

    fn next<T>(q: &Mutex<VecDeque<std::result::Result<T, Unknown>>>, default: T) -> std::result::Result<T, Unknown> {
        q.lock().unwrap().pop_front().unwrap_or(Ok(default))
    }

    impl TxnApi for Fake {
        async fn begin(&self, label: &str, _: u64) -> std::result::Result<Begin, Unknown> {
            self.calls.lock().unwrap().push(format!("begin {}", label));
            next(&self.begins, Begin::Begun)
        }
        async fn load(&self, r: &LoadRequest) -> std::result::Result<Load, Unknown> {
            self.calls.lock().unwrap().push(format!("load {} {}", r.label, r.target.table));
            next(&self.loads, Load::Loaded)
        }
        async fn commit(&self, label: &str) -> std::result::Result<Commit, Unknown> {
            self.calls.lock().unwrap().push(format!("commit {}", label));
            next(&self.commits, Commit::Committed { visible: true })
        }
        async fn rollback(&self, label: &str) -> std::result::Result<Rollback, Unknown> {
            self.calls.lock().unwrap().push(format!("rollback {}", label));
            next(&self.rollbacks, Rollback::RolledBack)
        }
        async fn state(&self, _: &str) -> std::result::Result<TxnState, Unknown> {
            unreachable!()
        }
        async fn stream_load(&self, _: &LoadRequest) -> std::result::Result<OneShot, Unknown> {
            unreachable!()
        }
        async fn query(&self, _: &str) -> std::result::Result<Vec<Vec<Option<String>>>, Unknown> {
            unreachable!()
        }
        async fn sleep(&self, _: Duration) {}
    }

    fn loads() -> Vec<LoadRequest> {
        ["a", "b"]
            .iter()
            .map(|t| LoadRequest {
                target: Target { database: "d".into(), table: t.to_string() },
                label: String::new(),
                body: "[]".into(),
                rows: 1,
                headers: Arc::new(Vec::new()),
            })
            .collect()
    }

    fn run(fake: &Fake, retries: u32) -> (Result<Outcome>, Vec<String>, Metrics) {
        let policy = RetryPolicy { max_retries: retries, backoff: Backoff::new(Duration::ZERO, Duration::ZERO), label_wait: Duration::ZERO };
        let m = Metrics::new(0);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let r = rt.block_on(commit(fake, &policy, 60, |a| format!("L{}", a), &loads(), &m));
        (r, fake.calls.lock().unwrap().clone(), m)
    }

    #[test]
    fn one_transaction_carries_every_table() {
        let (r, calls, _) = run(&Fake::default(), 3);
        assert_eq!(r.unwrap(), Outcome::Committed { label: "L0".into(), attempts: 1, deduplicated: false });
        assert_eq!(calls, vec!["begin L0", "load L0 a", "load L0 b", "commit L0"]);
    }

    #[test]
    fn a_failed_load_is_rolled_back_and_retried_under_a_new_label() {
        let fake = Fake::default();
        fake.loads.lock().unwrap().extend([Ok(Load::Loaded), Err(Unknown("reset".into()))]);
        let (r, calls, m) = run(&fake, 3);
        assert_eq!(r.unwrap(), Outcome::Committed { label: "L1".into(), attempts: 2, deduplicated: false });
        assert_eq!(calls[..4], ["begin L0", "load L0 a", "load L0 b", "rollback L0"]);
        assert_eq!(calls[4..], ["begin L1", "load L1 a", "load L1 b", "commit L1"]);
        assert_eq!((m.retries.load(Relaxed), m.load_failures.load(Relaxed)), (1, 1));
    }

    #[test]
    fn a_lost_commit_answer_is_settled_by_the_rollback() {
        let fake = Fake::default();
        fake.commits.lock().unwrap().push_back(Err(Unknown("timeout".into())));
        fake.rollbacks.lock().unwrap().push_back(Ok(Rollback::Committed));
        let (r, calls, _) = run(&fake, 3);
        assert_eq!(r.unwrap(), Outcome::Committed { label: "L0".into(), attempts: 1, deduplicated: false });
        assert_eq!(calls.last().unwrap(), "rollback L0", "nothing loads twice");
        // the same, but it had not committed: retried
        let fake = Fake::default();
        fake.commits.lock().unwrap().push_back(Err(Unknown("timeout".into())));
        let (r, calls, _) = run(&fake, 3);
        assert!(matches!(r.unwrap(), Outcome::Committed { attempts: 2, .. }));
        assert_eq!(calls.last().unwrap(), "commit L1");
    }

    #[test]
    fn refused_rows_roll_back_and_answer_refused() {
        let fake = Fake::default();
        fake.loads.lock().unwrap().push_back(Ok(Load::Rejected("too many filtered rows".into())));
        let (r, calls, _) = run(&fake, 3);
        assert!(matches!(r.unwrap(), Outcome::Refused(m) if m.contains("table a") && m.contains("too many filtered rows")));
        assert_eq!(calls, vec!["begin L0", "load L0 a", "rollback L0"]);
    }

    #[test]
    fn a_replay_finds_its_label_committed() {
        let fake = Fake::default();
        fake.begins.lock().unwrap().push_back(Ok(Begin::LabelExists { running: false }));
        let (r, calls, _) = run(&fake, 3);
        assert_eq!(r.unwrap(), Outcome::Committed { label: "L0".into(), attempts: 1, deduplicated: true });
        assert_eq!(calls, vec!["begin L0"]);
    }

    #[test]
    fn retries_end_with_the_last_error_and_every_attempt_rolled_back() {
        let fake = Fake::default();
        fake.commits.lock().unwrap().extend((0..2).map(|_| Ok(Commit::Aborted("publish failed".into()))));
        let (r, calls, _) = run(&fake, 1);
        let e = r.unwrap_err();
        assert!(e.message.contains("after 2 attempts") && e.message.contains("L1: publish failed"), "{}", e.message);
        assert_eq!(calls.iter().filter(|c| c.starts_with("begin")).count(), 2);
        // a begin whose answer was lost is rolled back before the next attempt
        let fake = Fake::default();
        fake.begins.lock().unwrap().push_back(Err(Unknown("reset".into())));
        let (r, calls, _) = run(&fake, 1);
        assert!(r.is_ok());
        assert_eq!(calls[..2], ["begin L0", "rollback L0"]);
    }
}

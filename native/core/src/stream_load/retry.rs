//! Drives one load to an end: attempts with the same label, exponential backoff with jitter
//! for transient failures, `get_load_state` when an earlier attempt may still be running.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::client::StreamLoadClient;
use super::response::{LoadState, Verdict};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    /// Delay before the first retry; doubles each time up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// How long to wait for a running earlier attempt to finish.
    pub label_wait: Duration,
}

impl RetryPolicy {
    /// Delay before retry number `n` (1-based): `backoff * 2^(n-1)`, capped, minus up to 25 %
    /// jitter so tasks that failed together do not come back together.
    pub fn delay(&self, n: u32) -> Duration {
        let base = self.backoff.saturating_mul(1u32 << (n.saturating_sub(1)).min(16)).min(self.max_backoff);
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let jitter = (seed % 1000) as f64 / 4000.0;
        base.mul_f64(1.0 - jitter)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    pub label: String,
    pub rows: u64,
    pub attempts: u32,
    /// True when StarRocks had the rows from an earlier attempt with this label.
    pub deduplicated: bool,
    /// StarRocks' `NumberLoadedRows` and `NumberFilteredRows` (for a deduplicated load: `rows`
    /// and 0, the answer carries no counts).
    pub loaded_rows: u64,
    pub filtered_rows: u64,
}

/// Drives one load to an end (see `attempts`) and counts it in `metrics`: the wall time in
/// `http-ns`, a success in `loads`, `rows-loaded`, `bytes-loaded` (uncompressed) and the latency,
/// every failed attempt in `load-failures` and every attempt after the first in `retries`.
#[allow(clippy::too_many_arguments)]
pub async fn load_with_retry(
    client: &StreamLoadClient,
    db: &str,
    table: &str,
    label: &str,
    body: Bytes,
    rows: u64,
    policy: &RetryPolicy,
    log: &Log,
    metrics: &Metrics,
) -> Result<LoadReport> {
    let started = Instant::now();
    let body_bytes = body.len() as u64;
    let r = attempts(client, db, table, label, body, rows, policy, log, metrics).await;
    let took = started.elapsed();
    Metrics::add(&metrics.http_ns, took);
    if let Ok(report) = &r {
        metrics.load_succeeded(report.loaded_rows, report.filtered_rows, body_bytes, took);
    }
    r
}

#[allow(clippy::too_many_arguments)]
async fn attempts(
    client: &StreamLoadClient,
    db: &str,
    table: &str,
    label: &str,
    body: Bytes,
    rows: u64,
    policy: &RetryPolicy,
    log: &Log,
    metrics: &Metrics,
) -> Result<LoadReport> {
    let started = Instant::now();
    let body = client.compress(body)?;
    let report = |attempts, deduplicated, (loaded_rows, filtered_rows)| LoadReport {
        label: label.to_string(),
        rows,
        attempts,
        deduplicated,
        loaded_rows,
        filtered_rows,
    };
    let mut counts = (rows, 0);
    let mut last = String::new();
    for attempt in 1..=policy.max_retries.saturating_add(1) {
        if attempt > 1 {
            let d = policy.delay(attempt - 1);
            log.warn(|| format!("Stream Load {} into {}: attempt {} in {} ms after: {}", label, table, attempt, d.as_millis(), last));
            tokio::time::sleep(d).await;
            metrics.retries.fetch_add(1, Relaxed);
        }
        let verdict = match client.load(db, table, label, body.clone()).await {
            Ok(answer) => {
                let v = answer.verdict();
                if v == Verdict::Loaded {
                    counts = (answer.loaded_rows, answer.filtered_rows);
                    log.debug(|| {
                        format!(
                            "Stream Load {} into {}: {} rows loaded ({} bytes, {} ms, txn {})",
                            label, table, answer.loaded_rows, answer.load_bytes, answer.load_time_ms, answer.txn_id
                        )
                    });
                }
                match (v, &answer.error_url) {
                    (Verdict::Fatal(m), Some(url)) => Verdict::Fatal(with_error_log(client, m, url).await),
                    (Verdict::Refused(m), Some(url)) => Verdict::Refused(with_error_log(client, m, url).await),
                    (v, _) => v,
                }
            }
            Err(v) => v,
        };
        let failed = || metrics.load_failures.fetch_add(1, Relaxed);
        match verdict {
            Verdict::Loaded => return Ok(report(attempt, false, counts)),
            Verdict::AlreadyLoaded => return Ok(report(attempt, true, (rows, 0))),
            // Rows StarRocks refused are a data problem the sink may isolate and route to the DLQ.
            Verdict::Refused(m) => {
                failed();
                return Err(Error::data(format!("Stream Load {} into {} failed: {}", label, table, m)));
            }
            Verdict::Fatal(m) => {
                failed();
                return Err(Error::load(format!("Stream Load {} into {} failed: {}", label, table, m)));
            }
            Verdict::Retry(m) => {
                failed();
                last = m
            }
            Verdict::Unknown(m) => match wait_for_label(client, db, label, policy.label_wait, log).await {
                Ok(LoadState::Finished) => return Ok(report(attempt, true, (rows, 0))),
                Ok(state) => {
                    failed();
                    last = format!("{} (label state {:?})", m, state)
                }
                Err(e) => {
                    failed();
                    last = format!("{} ({})", m, e)
                }
            },
        }
    }
    Err(Error::load(format!(
        "Stream Load {} of {} rows into {} failed after {} attempts in {} s; last error: {}",
        label,
        rows,
        table,
        policy.max_retries.saturating_add(1),
        started.elapsed().as_secs(),
        last
    )))
}

/// `message` with the start of the load's error log, which names the rows StarRocks refused.
async fn with_error_log(client: &StreamLoadClient, message: String, url: &str) -> String {
    let excerpt = client.error_log_excerpt(url, 2000).await.unwrap_or_default();
    format!("{} (error log {}: {})", message, url, excerpt)
}

/// Polls `get_load_state` until the label's transaction is decided or `limit` passes.
async fn wait_for_label(client: &StreamLoadClient, db: &str, label: &str, limit: Duration, log: &Log) -> std::result::Result<LoadState, String> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(200);
    loop {
        let state = client.load_state(db, label).await?;
        if state != LoadState::Running || Instant::now() >= deadline {
            log.debug(|| format!("label {} is {:?}", label, state));
            return Ok(state);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_down_only() {
        let p = RetryPolicy {
            max_retries: 5,
            backoff: Duration::from_millis(1000),
            max_backoff: Duration::from_millis(5000),
            label_wait: Duration::from_secs(1),
        };
        for (n, full) in [(1, 1000), (2, 2000), (3, 4000), (4, 5000), (30, 5000)] {
            let d = p.delay(n).as_millis() as u64;
            assert!(d <= full && d >= full * 3 / 4, "retry {} waited {} ms", n, d);
        }
    }
}

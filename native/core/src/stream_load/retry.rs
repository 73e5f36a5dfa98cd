//! Drives one load to an end: attempts with the same label, the crate's backoff (`backoff`)
//! between transient failures, `get_load_state` when an earlier attempt may still be running.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::client::StreamLoadClient;
use super::request::LoadRequest;
use super::response::{LoadState, Verdict};
use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::metrics::Metrics;
use crate::stall::Stage;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    pub backoff: Backoff,
    /// How long to wait for a running earlier attempt to finish.
    pub label_wait: Duration,
}

/// What every load of a sink is driven with: one value instead of four arguments.
pub struct Loader<'a> {
    pub client: &'a StreamLoadClient,
    pub policy: &'a RetryPolicy,
    pub log: &'a Log,
    pub metrics: &'a Metrics,
    /// What the watchdog and the outage log hear of this load (`stall.rs`).
    pub stage: &'a Stage,
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
pub async fn load_with_retry(loader: &Loader<'_>, request: &LoadRequest) -> Result<LoadReport> {
    let started = Instant::now();
    let r = attempts(loader, request).await;
    let took = started.elapsed();
    Metrics::add(&loader.metrics.http_ns, took);
    if let Ok(report) = &r {
        loader.metrics.load_succeeded(report.loaded_rows, report.filtered_rows, request.body.len() as u64, took);
    }
    r
}

async fn attempts(loader: &Loader<'_>, request: &LoadRequest) -> Result<LoadReport> {
    let Loader { client, policy, log, metrics, stage } = *loader;
    let LoadRequest { target, label, rows, .. } = request;
    let (db, table, rows) = (target.database.as_str(), target.table.as_str(), *rows);
    let started = Instant::now();
    let body = client.compress(request.body.clone())?;
    // the same for every attempt (the label included), so built once; a label or header that is
    // not a valid HTTP header fails the first attempt (Fatal)
    let headers = client.request_headers(label, &request.headers);
    let report = |attempts, deduplicated, (loaded_rows, filtered_rows)| LoadReport {
        label: label.clone(),
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
            let d = policy.backoff.delay(attempt - 1);
            // (the outage log reports failed attempts: its first, then a summary a minute)
            log.debug(|| format!("Stream Load {} into {}: attempt {} in {} ms after: {}", label, table, attempt, d.as_millis(), last));
            stage.pause(d);
            tokio::time::sleep(d).await;
            metrics.retries.fetch_add(1, Relaxed);
        }
        stage.attempt();
        let answer = match &headers {
            Ok(headers) => client.load(request, headers, body.clone(), stage).await,
            Err(v) => Err(v.clone()),
        };
        let verdict = match answer {
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
            Verdict::Loaded => {
                stage.progressed();
                return Ok(report(attempt, false, counts));
            }
            Verdict::AlreadyLoaded => {
                stage.progressed();
                return Ok(report(attempt, true, (rows, 0)));
            }
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
                stage.failed(&m);
                last = m
            }
            Verdict::Unknown(m) => match wait_for_label(client, db, label, policy.label_wait, log, stage).await {
                Ok(LoadState::Finished) => {
                    stage.progressed();
                    return Ok(report(attempt, true, (rows, 0)));
                }
                Ok(state) => {
                    failed();
                    last = format!("{} (label state {:?})", m, state);
                    stage.failed(&last);
                }
                Err(e) => {
                    failed();
                    last = format!("{} ({})", m, e);
                    stage.failed(&last);
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
async fn wait_for_label(client: &StreamLoadClient, db: &str, label: &str, limit: Duration, log: &Log, stage: &Stage) -> std::result::Result<LoadState, String> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(200);
    loop {
        stage.waiting_for(|| format!("the FE to answer get_load_state for label {}", label));
        let raw = client.load_state_raw(db, label).await?;
        stage.waiting_for(|| format!("label {} to leave state {} (an earlier attempt still running, polled through get_load_state)", label, raw));
        let state = LoadState::from_name(raw);
        if state != LoadState::Running || Instant::now() >= deadline {
            log.debug(|| format!("label {} is {:?}", label, state));
            return Ok(state);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

//! A sink: what one Connect task owns on the Rust side.
//!
//! `put` decodes a batch and appends each record's row to its table's buffer; a buffer is
//! flushed (handed to a Stream Load on the runtime) when it reaches `bufferflush.maxbytes`, when
//! its oldest record is `bufferflush.intervalms` old, and on `pre_commit`. At most one load per
//! table is in flight, so loads into one table commit in record order (a Primary Key table
//! must see the newest version of a row last); loads into different tables overlap. A buffer
//! that fills while its table's load is still running makes `put` wait: that bounds memory at
//! about two buffers per table and is the backpressure Connect sees.
//!
//! A load that fails for good poisons the sink: every later call returns that error, so
//! Connect fails the task with StarRocks' message instead of stalling.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::boundary;
use crate::buffer::{Framing, TableBuffer};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::offsets::{FirstOffsets, OffsetTracker, TopicPartition};
use crate::rows::RowFormat;
use crate::runtime;
use crate::stream_load::{load_with_retry, LabelMaker, LoadReport, RetryPolicy, StreamLoadClient};
use std::sync::Arc;

struct InFlight {
    first: FirstOffsets,
    handle: JoinHandle<Result<LoadReport>>,
}

pub struct Sink {
    cfg: Config,
    log: Log,
    client: Arc<StreamLoadClient>,
    policy: Arc<RetryPolicy>,
    format: RowFormat,
    framing: Framing,
    labels: LabelMaker,
    buffers: HashMap<String, TableBuffer>,
    inflight: HashMap<String, InFlight>,
    offsets: OffsetTracker,
    failure: Option<Error>,
}

impl Sink {
    pub fn open(settings: &HashMap<String, String>, log: Log) -> Result<Sink> {
        let cfg = Config::parse(settings)?;
        let format = match header(&cfg, "format").unwrap_or("json").to_ascii_lowercase().as_str() {
            "json" => RowFormat::Json,
            other => {
                return Err(Error::config(format!(
                    "sink.properties.format: '{}' is not supported by this version (json only)",
                    other
                )))
            }
        };
        let framing = match header(&cfg, "strip_outer_array") {
            Some(v) if v.eq_ignore_ascii_case("true") => Framing::JsonArray,
            _ => Framing::Lines,
        };
        let client = Arc::new(StreamLoadClient::new(&cfg)?);
        let policy = Arc::new(RetryPolicy {
            max_retries: cfg.max_retries,
            backoff: cfg.retry_backoff,
            max_backoff: Duration::from_secs(60),
            label_wait: cfg.load_timeout,
        });
        log.info(|| {
            format!(
                "StarRocks sink task {} of {}: FE {:?}, database {}, flush at {} bytes or {} ms, {:?} rows",
                cfg.task_id,
                cfg.name,
                cfg.fe.iter().map(|f| f.base_url()).collect::<Vec<_>>(),
                cfg.database,
                cfg.flush_max_bytes,
                cfg.flush_interval.as_millis(),
                format
            )
        });
        Ok(Sink {
            labels: LabelMaker::new(&cfg.label_prefix, &cfg.task_id),
            cfg,
            log,
            client,
            policy,
            format,
            framing,
            buffers: HashMap::new(),
            inflight: HashMap::new(),
            offsets: OffsetTracker::default(),
            failure: None,
        })
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    fn check(&self) -> Result<()> {
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// One `put()` batch in the boundary format.
    pub fn put(&mut self, buf: &[u8]) -> Result<()> {
        self.check()?;
        self.reap()?;
        let batch = boundary::decode(buf)?;
        let mut full = Vec::new();
        for rec in &batch.records {
            let table = self.cfg.router.table(rec.topic);
            let buffer = match self.buffers.get_mut(table) {
                Some(b) => b,
                None => self.buffers.entry(table.to_string()).or_insert_with(|| TableBuffer::new(self.format, self.framing)),
            };
            buffer.append(&batch, rec)?;
            self.offsets.seen(rec.commit_topic, rec.commit_partition, rec.commit_offset);
            if buffer.bytes() as u64 >= self.cfg.flush_max_bytes && !full.iter().any(|t: &String| t == table) {
                full.push(table.to_string());
            }
            if !full.is_empty() {
                for t in full.drain(..) {
                    self.flush(&t, true)?;
                }
            }
        }
        let interval = self.cfg.flush_interval;
        let due: Vec<String> = self
            .buffers
            .iter()
            .filter(|(_, b)| b.since().map_or(false, |s| s.elapsed() >= interval))
            .map(|(t, _)| t.clone())
            .collect();
        for t in due {
            self.flush(&t, false)?;
        }
        Ok(())
    }

    /// Flushes every buffer, waits for every load, and answers the offsets safe to commit.
    pub fn pre_commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>> {
        self.check()?;
        let tables: Vec<String> = self.buffers.iter().filter(|(_, b)| !b.is_empty()).map(|(t, _)| t.clone()).collect();
        for t in tables {
            self.flush(&t, true)?;
        }
        let tables: Vec<String> = self.inflight.keys().cloned().collect();
        for t in tables {
            self.settle(&t)?;
        }
        Ok(self.committable())
    }

    fn committable(&self) -> BTreeMap<TopicPartition, i64> {
        let pending = self.buffers.values().map(|b| b.first_offsets()).chain(self.inflight.values().map(|f| &f.first));
        self.offsets.committable(pending)
    }

    /// Starts loading `table`'s buffer. If the table's previous load is still running, waits for
    /// it when `wait`, else leaves the buffer for later.
    fn flush(&mut self, table: &str, wait: bool) -> Result<()> {
        if let Some(f) = self.inflight.get(table) {
            if !wait && !f.handle.is_finished() {
                return Ok(());
            }
            self.settle(table)?;
        }
        let Some(buffer) = self.buffers.get_mut(table) else { return Ok(()) };
        if buffer.is_empty() {
            return Ok(());
        }
        let chunk = buffer.take();
        if chunk.rows == 0 {
            return Ok(()); // only tombstones: nothing to load, their offsets are done
        }
        let label = self.labels.next(table);
        let (client, policy, log) = (self.client.clone(), self.policy.clone(), self.log.clone());
        let (table_name, body, rows) = (table.to_string(), chunk.body, chunk.rows);
        log.debug(|| format!("flushing {} rows ({} bytes) into {} as {}", rows, body.len(), table_name, label));
        let handle = runtime::get().spawn(async move {
            load_with_retry(&client, &table_name, &label, body, rows, &policy, &log).await
        });
        self.inflight.insert(table.to_string(), InFlight { first: chunk.first, handle });
        Ok(())
    }

    /// Waits for `table`'s load in flight and records its outcome.
    fn settle(&mut self, table: &str) -> Result<()> {
        let Some(f) = self.inflight.remove(table) else { return Ok(()) };
        let outcome = runtime::get()
            .block_on(f.handle)
            .unwrap_or_else(|e| Err(Error::internal(format!("the load into {} panicked or was cancelled: {}", table, e))));
        match outcome {
            Ok(report) => {
                if report.deduplicated {
                    self.log.info(|| format!("Stream Load {} into {} was already in StarRocks", report.label, table));
                }
                Ok(())
            }
            Err(e) => {
                self.log.error(|| e.message.clone());
                self.failure = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Records the outcome of loads that have finished, without waiting.
    fn reap(&mut self) -> Result<()> {
        let done: Vec<String> = self.inflight.iter().filter(|(_, f)| f.handle.is_finished()).map(|(t, _)| t.clone()).collect();
        for t in done {
            self.settle(&t)?;
        }
        Ok(())
    }

    /// Stops the loads in flight and frees the buffers. Nothing is committed for them, so
    /// Connect delivers those records again to whoever owns the partitions next.
    pub fn close(&mut self) {
        for (_, f) in self.inflight.drain() {
            f.handle.abort();
        }
        self.buffers.clear();
        self.log.info(|| format!("StarRocks sink task {} of {} closed", self.cfg.task_id, self.cfg.name));
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        for (_, f) in self.inflight.drain() {
            f.handle.abort();
        }
    }
}

/// A `sink.properties.*` header, by case-insensitive name.
fn header<'a>(cfg: &'a Config, name: &str) -> Option<&'a str> {
    cfg.properties.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

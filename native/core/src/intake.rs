//! The part of the data path both delivery modes share: a `put` batch decoded and counted, each
//! record routed to its target, its row written by the one [`RowWriter`], and a record whose row
//! cannot be written turned into a bad record (`errors.tolerance=all`) or the task's error.
//!
//! Before rows are written, the schema guard (`schema::guard`) compares each record with its
//! table: it creates and evolves tables as configured and names the records no column can hold.
//!
//! What the modes do differently is only where rows wait and how a flush commits: `sink`
//! (at-least-once) buffers per table and loads in the background, one Stream Load per flush;
//! `exactly_once::sink` buffers per partition and commits each flush together with the
//! partition's register row.

use bumpalo::Bump;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;

use crate::boundary::{self, Batch, Record};
use crate::buffer::Framing;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::metrics::Metrics;
use crate::rejected::Rejected;
use crate::route::{Router, Target};
use crate::rows::layout::{header, row_layout};
use crate::rows::{RowFormat, RowWriter};
use crate::schema::guard::{GuardContext, SchemaGuard};

pub struct Intake {
    pub writer: RowWriter,
    pub framing: Framing,
    router: Router,
    database: String,
    tolerate_errors: bool,
    /// `None` where a row's members do not name columns: CSV (positional), or JSON with
    /// `sink.properties.columns`/`jsonpaths` choosing them.
    guard: Option<Mutex<SchemaGuard>>,
    /// Tables whose loads StarRocks refused for their data since the last batch: the guard
    /// re-reads their columns. (A list of its own, so a load never waits on the guard's lock.)
    stale: Mutex<Vec<Target>>,
}

/// The records of a batch that are bad for their table, by index, in order.
pub struct Refusals(std::iter::Peekable<std::vec::IntoIter<(usize, Error)>>);

impl Refusals {
    /// Record `i`'s refusal, if any; ask in increasing `i`.
    pub fn take(&mut self, i: usize) -> Option<Error> {
        self.0.next_if(|(j, _)| *j == i).map(|(_, e)| e)
    }
}

impl Intake {
    /// Reads the row layout from `sink.properties.*` (which may add headers StarRocks needs for
    /// it to `cfg`).
    pub fn new(cfg: &mut Config) -> Result<Intake> {
        let (writer, framing) = row_layout(cfg)?;
        let named_columns = matches!(writer.format, RowFormat::Json) && header(cfg, "columns").is_none() && header(cfg, "jsonpaths").is_none();
        if (cfg.auto_create || cfg.auto_evolve) && !named_columns {
            return Err(Error::config("auto.create and auto.evolve need sink.properties.format=json without sink.properties.columns or jsonpaths"));
        }
        let guard = named_columns.then(|| Mutex::new(SchemaGuard::new(cfg)));
        Ok(Intake { writer, framing, router: cfg.router.clone(), database: cfg.database.clone(), tolerate_errors: cfg.tolerate_errors, guard, stale: Mutex::new(Vec::new()) })
    }

    /// Runs the schema guard over a decoded batch (creating and evolving tables as configured);
    /// answers the records no column of their table can hold.
    pub fn guard(&self, batch: &Batch<'_>, cx: &GuardContext<'_>) -> Result<Refusals> {
        let bad = match &self.guard {
            None => Vec::new(),
            Some(g) => {
                let mut g = g.lock().unwrap_or_else(|p| p.into_inner());
                for t in std::mem::take(&mut *self.stale.lock().unwrap_or_else(|p| p.into_inner())) {
                    g.forget(&t);
                }
                g.check(batch, &self.router, &self.database, cx)?
            }
        };
        Ok(Refusals(bad.into_iter().peekable()))
    }

    /// StarRocks refused a load into `target` for its data: its columns may have changed.
    pub fn table_refused(&self, target: &Target) {
        if self.guard.is_some() {
            self.stale.lock().unwrap_or_else(|p| p.into_inner()).push(target.clone());
        }
    }


    /// Decodes one `put` batch (in `arena`) and counts it.
    pub fn decode<'a>(&self, buf: &'a [u8], arena: &'a Bump, metrics: &Metrics) -> Result<Batch<'a>> {
        let batch = boundary::decode(buf, arena)?;
        metrics.put_calls.fetch_add(1, Relaxed);
        metrics.records_received.fetch_add(batch.records.len() as u64, Relaxed);
        Ok(batch)
    }

    /// The routed name of `rec`'s table: `table` or `db.table` (see [`Intake::target`]).
    pub fn route<'a>(&'a self, rec: &Record<'a>) -> &'a str {
        self.router.table(rec.topic)
    }

    /// The database and table of a routed name, without allocating.
    pub fn target_parts<'a>(&'a self, routed: &'a str) -> (&'a str, &'a str) {
        Target::parts(&self.database, routed)
    }

    pub fn target(&self, routed: &str) -> Target {
        Target::of(&self.database, routed)
    }

    /// `rec`'s row could not be written (`e`): with `errors.tolerance=all` and a data error it is
    /// a bad record for the errant-record reporter (counted in `rejected-records`); else `e`
    /// fails the task.
    pub fn bad_record(&self, rec: &Record<'_>, e: Error, metrics: &Metrics) -> Result<Rejected> {
        if !(self.tolerate_errors && e.kind == ErrorKind::Data) {
            return Err(e);
        }
        metrics.rejected_records.fetch_add(1, Relaxed);
        Ok(Rejected { topic: rec.commit_topic.to_string(), partition: rec.commit_partition, offset: rec.commit_offset, reason: e.message })
    }
}

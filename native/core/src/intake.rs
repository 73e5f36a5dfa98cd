//! The part of the data path both delivery modes share: a `put` batch decoded and counted, each
//! record routed to its target, its row written by the one [`RowWriter`], and a record whose row
//! cannot be written turned into a bad record (`errors.tolerance=all`) or the task's error.
//!
//! What the modes do differently is only where rows wait and how a flush commits: `sink`
//! (at-least-once) buffers per table and loads in the background, one Stream Load per flush;
//! `exactly_once::sink` buffers per partition and commits each flush together with the
//! partition's register row.

use bumpalo::Bump;
use std::sync::atomic::Ordering::Relaxed;

use crate::boundary::{self, Batch, Record};
use crate::buffer::Framing;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::metrics::Metrics;
use crate::rejected::Rejected;
use crate::route::{Router, Target};
use crate::rows::layout::row_layout;
use crate::rows::RowWriter;

pub struct Intake {
    pub writer: RowWriter,
    pub framing: Framing,
    router: Router,
    database: String,
    tolerate_errors: bool,
}

impl Intake {
    /// Reads the row layout from `sink.properties.*` (which may add headers StarRocks needs for
    /// it to `cfg`).
    pub fn new(cfg: &mut Config) -> Result<Intake> {
        let (writer, framing) = row_layout(cfg)?;
        Ok(Intake { writer, framing, router: cfg.router.clone(), database: cfg.database.clone(), tolerate_errors: cfg.tolerate_errors })
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

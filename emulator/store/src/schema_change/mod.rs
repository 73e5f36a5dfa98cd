//! Schema-change jobs (`ALTER TABLE ... ADD/MODIFY COLUMN`), as StarRocks' `AlterJobV2` runs them:
//! the ALTER returns at once, the job walks PENDING → WAITING_TXN → RUNNING → FINISHED (or
//! CANCELLED), and only at FINISHED does the table take the new schema. The emulator has no
//! shadow tablets, so the states are a function of time: the job spends a third of
//! `--schema-change-delay-ms` in each of the first three and finishes when the delay is over.
//! With a delay of 0 the job finishes inside the ALTER, as StarRocks' fast schema evolution does.
//!
//! Nothing here sleeps: `Catalog::advance_schema_changes` applies what is due, and is called
//! before every statement and every load lookup.

pub mod evolve;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::catalog::{Catalog, State, Table};
use crate::model::TableSchema;
use crate::persist::Record;
use crate::store::TableData;

/// `AlterJobV2.JobState`, the names SHOW ALTER TABLE COLUMN prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    WaitingTxn,
    Running,
    Finished,
    Cancelled,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            JobState::Pending => "PENDING",
            JobState::WaitingTxn => "WAITING_TXN",
            JobState::Running => "RUNNING",
            JobState::Finished => "FINISHED",
            JobState::Cancelled => "CANCELLED",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(self, JobState::Finished | JobState::Cancelled)
    }
}

/// StarRocks' `alter_table_timeout_second` default: the Timeout column.
pub const TIMEOUT_SECS: i64 = 86_400;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub db: String,
    pub table_id: i64,
    pub table_name: String,
    /// Seconds on the catalog's clock.
    pub create_time: f64,
    pub finish_time: Option<f64>,
    pub delay_secs: f64,
    /// The shadow index that replaces `origin_index_id` at FINISHED.
    pub index_id: i64,
    pub origin_index_id: i64,
    /// `<schema version>:<schema hash>`, as StarRocks prints `SchemaVersionAndHash`.
    pub schema_version: String,
    pub state: JobState,
    pub msg: String,
    /// The schema the table takes at FINISHED.
    pub target: Arc<TableSchema>,
}

impl Job {
    /// The state a running job has reached at `now` (finishing is done by the catalog).
    fn state_at(&self, now: f64) -> JobState {
        if self.state.is_done() {
            return self.state;
        }
        let elapsed = now - self.create_time;
        if elapsed >= self.delay_secs {
            JobState::Finished
        } else if elapsed >= self.delay_secs * 2.0 / 3.0 {
            JobState::Running
        } else if elapsed >= self.delay_secs / 3.0 {
            JobState::WaitingTxn
        } else {
            JobState::Pending
        }
    }
}

impl State {
    /// The unfinished job on a table, if any: StarRocks keeps the table in SCHEMA_CHANGE state
    /// until then and refuses every other ALTER.
    pub fn running_job(&self, table_id: i64) -> Option<&Job> {
        self.jobs
            .iter()
            .find(|j| j.table_id == table_id && !j.state.is_done())
    }
}

impl Catalog {
    /// Moves every job to the state the clock says; finishes (or cancels) the due ones. While
    /// the log is being replayed jobs wait for their logged outcome instead.
    pub fn advance_schema_changes(&self) {
        if self.replaying.load(Ordering::SeqCst) {
            return;
        }
        let now = self.now();
        {
            let st = self.read();
            if st.jobs.iter().all(|j| j.state.is_done()) {
                return;
            }
        }
        let mut st = self.state_mut();
        for i in 0..st.jobs.len() {
            let state = st.jobs[i].state_at(now);
            if state == JobState::Finished {
                let job_id = st.jobs[i].id;
                let finish = st.jobs[i].create_time + st.jobs[i].delay_secs;
                self.finish_job(&mut st, job_id, finish, None);
            } else if !st.jobs[i].state.is_done() {
                st.jobs[i].state = state;
            }
        }
    }

    /// Ends a job: the table takes the target schema with its rows converted, or, when a row
    /// does not convert (or the table is gone), the job is CANCELLED and the table unchanged.
    /// `logged` carries the outcome read back from the data log at replay.
    pub(crate) fn finish_job(
        &self,
        st: &mut State,
        job_id: i64,
        finish_time: f64,
        logged: Option<(JobState, String)>,
    ) {
        let Some(pos) = st.jobs.iter().position(|j| j.id == job_id) else {
            return;
        };
        let job = st.jobs[pos].clone();
        let outcome = match logged {
            Some((JobState::Cancelled, msg)) => Err(msg),
            _ => match st.tables_by_id.get(&job.table_id).cloned() {
                None => Err(format!("table {} does not exist", job.table_name)),
                Some(old) => swap_table(st, &old, &job),
            },
        };
        let (state, msg) = match outcome {
            Ok(()) => (JobState::Finished, String::new()),
            Err(m) => (JobState::Cancelled, m),
        };
        let j = &mut st.jobs[pos];
        j.state = state;
        j.msg = msg.clone();
        j.finish_time = Some(finish_time);
        if !self.replaying.load(Ordering::SeqCst) {
            // The outcome is logged so that a restart replays it instead of re-running the job.
            self.log_record(&Record::JobDone {
                job_id,
                create_ms: (job.create_time * 1000.0) as i64,
                finish_ms: (finish_time * 1000.0) as i64,
                finished: state == JobState::Finished,
                msg,
            });
        }
    }
}

/// Replaces the table by one with the job's schema and the converted rows. The old `Table` is
/// marked retired under its data lock, so a load that resolved it earlier re-resolves by id.
fn swap_table(st: &mut State, old: &Arc<Table>, job: &Job) -> Result<(), String> {
    let data = old.data.lock().unwrap();
    let rows = evolve::convert_rows(&old.schema, &job.target, &data.all_rows())?;
    let mut new_data = TableData::new(job.target.keys_type);
    new_data.apply(&job.target, evolve::upserts(rows));
    // A new generation makes the SQLite mirror rebuild the table with the new columns.
    new_data.generation = data.generation + 1;
    let mut history = old.history.clone();
    history.push(old.schema.clone());
    let table = Arc::new(Table {
        id: old.id,
        schema: job.target.clone(),
        distribution: old.distribution.clone(),
        comment: old.comment.clone(),
        sort_key: old.sort_key.clone(),
        index_id: job.index_id,
        schema_version: old.schema_version + 1,
        history,
        retired: Default::default(),
        data: Mutex::new(new_data),
    });
    old.retired.store(true, Ordering::SeqCst);
    drop(data);
    st.tables_by_id.insert(old.id, table.clone());
    if let Some(d) = st.dbs.get_mut(&job.db) {
        d.tables.insert(job.table_name.clone(), table);
    }
    Ok(())
}

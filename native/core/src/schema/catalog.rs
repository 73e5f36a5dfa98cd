//! The schema guard's view of StarRocks over the query port: a table's columns
//! (`information_schema.columns`), whether a database exists, and DDL that finishes before it
//! returns. StarRocks runs ALTER TABLE as an asynchronous job, so a change is done when the
//! columns say so, not when the ALTER returns; and several tasks may change one table at once,
//! so every failure is judged by re-reading the columns, never by the error text alone.

use std::time::{Duration, Instant};

use super::column_type::ColumnType;
use super::ddl;
use crate::route::Target;
use crate::sql::SqlClient;

/// How often a running schema change is polled.
const POLL: Duration = Duration::from_millis(200);
/// How many times an ALTER may be refused, with no job running and the change not visible,
/// before the refusal is the answer (a type StarRocks cannot convert, a missing privilege).
const REFUSALS: u32 = 3;

/// In the error of a CREATE whose database is missing: the user's to fix, never worth a retry.
pub const NO_DATABASE: &str = "auto.create creates tables, not databases";

struct Job {
    id: i64,
    state: String,
    msg: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
}

/// A table's columns, as StarRocks shows them now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Columns(pub Vec<Column>);

impl Columns {
    /// StarRocks column names are case-insensitive.
    pub fn get(&self, name: &str) -> Option<&Column> {
        self.0.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

pub struct Catalog {
    sql: SqlClient,
    /// The longest a schema change may take before the task gives up on it.
    pub wait_limit: Duration,
}

impl Catalog {
    pub fn new(sql: SqlClient, wait_limit: Duration) -> Catalog {
        Catalog { sql, wait_limit }
    }

    /// The table's columns; `None` when there is no such table (or the user may not see it).
    pub async fn columns(&self, t: &Target) -> Result<Option<Columns>, String> {
        let rows = self.sql.query(&ddl::read_columns(t)).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let cell = |r: &Vec<Option<String>>, i: usize| r.get(i).cloned().flatten().unwrap_or_default();
        Ok(Some(Columns(
            rows.iter()
                .map(|r| Column { name: cell(r, 0), ty: ColumnType::parse(&cell(r, 1)), nullable: !cell(r, 2).eq_ignore_ascii_case("NO") })
                .collect(),
        )))
    }

    pub async fn database_exists(&self, database: &str) -> Result<bool, String> {
        Ok(!self.sql.query(&ddl::read_database(database)).await?.is_empty())
    }

    /// Runs `create` (CREATE TABLE IF NOT EXISTS) and answers the table's columns.
    pub async fn create(&self, t: &Target, create: &str) -> Result<Columns, String> {
        let run = self.sql.execute(create).await;
        match self.columns(t).await? {
            Some(cols) => Ok(cols),
            None => {
                if !self.database_exists(&t.database).await? {
                    return Err(format!("database {} does not exist: {} (CREATE DATABASE {})", ddl::ident(&t.database), NO_DATABASE, ddl::ident(&t.database)));
                }
                Err(match run {
                    Err(e) => format!("cannot create table {}: {}", t, e),
                    Ok(()) => format!("CREATE TABLE {} succeeded but the table does not show in information_schema.columns", t),
                })
            }
        }
    }

    /// Runs `alter` until `done` holds for the table's columns: a job another task started (or
    /// that this one started before a retry) counts, since only the columns decide. Waits at most
    /// `wait_limit`; a job cancelled after ours was submitted is an error with StarRocks' message,
    /// and so is an ALTER refused [`REFUSALS`] times while nothing runs. Answers the columns.
    pub async fn alter(&self, t: &Target, alter: &str, done: impl Fn(&Columns) -> bool) -> Result<Columns, String> {
        let started = Instant::now();
        // the newest job id before our ALTER was accepted
        let mut submitted_after: Option<i64> = None;
        let mut refusals = 0;
        loop {
            let cols = self.columns(t).await?.ok_or_else(|| format!("table {} disappeared during a schema change", t))?;
            if done(&cols) {
                return Ok(cols);
            }
            let jobs = self.jobs(t).await?;
            if !jobs.iter().any(|j| j.state != "FINISHED" && j.state != "CANCELLED") {
                if let Some(mark) = submitted_after {
                    if let Some(j) = jobs.iter().find(|j| j.id > mark && j.state == "CANCELLED") {
                        return Err(format!("schema change on {} was cancelled: {} ({})", t, j.msg, alter));
                    }
                }
                let mark = jobs.iter().map(|j| j.id).max().unwrap_or(0);
                // A refusal is judged by the next round's columns: another task may have made
                // the same change a moment ago ("already exists").
                match self.sql.execute(alter).await {
                    Ok(()) => submitted_after = Some(mark),
                    Err(e) => {
                        refusals += 1;
                        if refusals >= REFUSALS {
                            return Err(format!("schema change on {} refused: {} ({})", t, e, alter));
                        }
                    }
                }
            }
            if started.elapsed() > self.wait_limit {
                return Err(format!("schema change on {} not finished after {} s ({})", t, self.wait_limit.as_secs(), alter));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The table's schema change jobs, oldest first.
    async fn jobs(&self, t: &Target) -> Result<Vec<Job>, String> {
        let rows = self.sql.query(&ddl::show_alter(t)).await?;
        // SHOW ALTER TABLE COLUMN: JobId, TableName, CreateTime, FinishTime, IndexName, IndexId,
        // OriginIndexId, SchemaVersion, TransactionId, State, Msg, Progress, Timeout
        let cell = |r: &Vec<Option<String>>, i: usize| r.get(i).cloned().flatten().unwrap_or_default();
        let mut jobs: Vec<Job> = rows.iter().map(|r| Job { id: cell(r, 0).parse().unwrap_or(0), state: cell(r, 9).to_ascii_uppercase(), msg: cell(r, 10) }).collect();
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }
}

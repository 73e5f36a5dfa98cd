//! The exactly-once protocol for one topic-partition: take ownership (fence), then move the
//! partition forward one flush at a time, each flush one multi-table transaction.
//!
//! Every step that can end without an answer is resolved through StarRocks' own state: the
//! label's transaction state first, the register second. The register is the truth: a commit
//! counts as ours only when the register shows our owner tag, our generation and the flush's end.

use std::time::Duration;

use super::api::{Begin, Commit, Load, OneShot, Rollback, TxnApi, TxnState, Unknown};
use super::label::EoLabels;
use super::register::{Register, RegisterRow};
use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::stream_load::LoadRequest;

#[derive(Debug, Clone)]
pub struct EoPolicy {
    /// `timeout` header of every transaction.
    pub txn_timeout_secs: u64,
    /// Attempts of one flush (or one fence) before the task fails.
    pub max_attempts: u32,
    /// Between the attempts of a step (the crate's one backoff).
    pub backoff: Backoff,
    /// How long a COMMITTED transaction may take to become VISIBLE.
    pub visible_wait: Duration,
}

impl EoPolicy {
    /// The longest wait between two attempts of a step.
    pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
}

impl Default for EoPolicy {
    fn default() -> Self {
        EoPolicy {
            txn_timeout_secs: 600,
            max_attempts: 10,
            backoff: Backoff::new(Duration::from_millis(200), EoPolicy::MAX_BACKOFF),
            visible_wait: Duration::from_secs(300),
        }
    }
}

impl EoPolicy {
    /// The wait before attempt `attempt` (0-based, so the first retry is attempt 1): twice the
    /// initial backoff already, as this protocol has always waited.
    fn pause(&self, attempt: u32) -> Duration {
        self.backoff.delay(attempt + 1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlushOutcome {
    /// The flush is visible in StarRocks; the partition stands at `next`.
    Committed { next: i64 },
    /// Still ours, but an older owner's commit landed first: the partition stands at `next`.
    /// Drop what is buffered for it and resume from `next`.
    Rewind { next: i64 },
    /// A newer owner holds the partition: stop loading it.
    Fenced,
}

#[derive(Debug, Clone)]
pub struct PartitionWriter {
    pub topic: String,
    pub partition: i32,
    register: Register,
    labels: EoLabels,
    owner: String,
    generation: i64,
    /// Where the register stands as far as we know; `-1`: nothing loaded yet.
    next: i64,
}

impl PartitionWriter {
    /// Takes ownership of `topic`-`partition` (on assignment). `owner`: a tag unique to this
    /// writer (task and a random part).
    pub async fn fence<A: TxnApi>(
        api: &A,
        policy: &EoPolicy,
        register: &Register,
        label_prefix: &str,
        topic: &str,
        partition: i32,
        owner: &str,
    ) -> Result<PartitionWriter> {
        let mut w = PartitionWriter {
            topic: topic.to_string(),
            partition,
            register: register.clone(),
            labels: EoLabels::new(label_prefix, &register.db, topic),
            owner: owner.to_string(),
            generation: 0,
            next: -1,
        };
        w.take_ownership(api, policy).await?;
        Ok(w)
    }

    /// The offset the register holds for us (`-1`: nothing loaded yet). Only values that are
    /// visible in StarRocks are ever returned.
    pub fn next_offset(&self) -> i64 {
        self.next
    }

    pub fn generation(&self) -> i64 {
        self.generation
    }

    fn what(&self) -> String {
        format!("{}-{}", self.topic, self.partition)
    }

    async fn read<A: TxnApi>(&self, api: &A) -> std::result::Result<Option<RegisterRow>, Unknown> {
        let rows = api.query(&self.register.select_sql(&self.topic, self.partition)).await?;
        Register::parse(&rows).map_err(|e| Unknown(e.message))
    }

    async fn read_retrying<A: TxnApi>(&self, api: &A, policy: &EoPolicy) -> Result<Option<RegisterRow>> {
        let mut last = String::new();
        for attempt in 0..policy.max_attempts {
            if attempt > 0 {
                api.sleep(policy.pause(attempt)).await;
            }
            match self.read(api).await {
                Ok(r) => return Ok(r),
                Err(Unknown(m)) => last = m,
            }
        }
        Err(Error::retriable(format!("cannot read the register row of {}: {}", self.what(), last)))
    }

    fn is_mine(&self, row: &RegisterRow) -> bool {
        row.owner == self.owner && row.generation == self.generation
    }

    /// Fencing. Bump the generation without ever moving the offset backwards (the upsert's
    /// `merge_condition` does not apply if a commit moved the partition meanwhile), wait until
    /// the bump is visible and read it back; only then roll back every transaction the previous
    /// owner may have running. In that order, a previous owner's transaction either checked the
    /// register before the bump became visible, and is still running (rolled back here) or has
    /// committed (found here: start over after it), or checks after, and sees it lost the
    /// partition.
    async fn take_ownership<A: TxnApi>(&mut self, api: &A, policy: &EoPolicy) -> Result<()> {
        let mut last = String::from("no attempt");
        'attempt: for attempt in 0..policy.max_attempts * 2 {
            if attempt > 0 {
                api.sleep(policy.pause(attempt / 2)).await;
            }
            let row = match self.read(api).await {
                Ok(r) => r,
                Err(Unknown(m)) => {
                    last = m;
                    continue;
                }
            };
            let (next, generation) = row.as_ref().map(|r| (r.next_offset, r.generation)).unwrap_or((-1, 0));
            let mine = RegisterRow { next_offset: next, generation: generation + 1, owner: self.owner.clone() };
            let label = self.labels.fence(self.partition, next, generation);
            let fence = self.register.load(&self.topic, self.partition, &mine, label.clone());
            match api.stream_load(&fence).await {
                Ok(OneShot::Failed(m)) => {
                    last = m;
                    continue;
                }
                Ok(OneShot::LabelExists) => {
                    // Another fencer read the same row and won it (or our own earlier attempt
                    // did): once its write is visible, fence again from there.
                    self.wait_settled(api, policy, &label).await;
                    last = format!("{} was taken by another fencer", label);
                    continue;
                }
                // Applied, or maybe: once its publish is over, reading back decides.
                Ok(_) | Err(_) => self.wait_settled(api, policy, &label).await,
            }
            match self.read(api).await {
                Ok(Some(r)) if r == mine => {}
                Ok(r) => {
                    last = format!("the register moved meanwhile to {:?}", r);
                    continue;
                }
                Err(Unknown(m)) => {
                    last = m;
                    continue;
                }
            }
            // The previous owner's transactions, and those of a fencer of our own generation
            // that got past the fence label's compare-and-set (StarRocks forgot it meanwhile).
            let generations: Vec<i64> = if row.is_some() { vec![generation, generation + 1] } else { vec![generation + 1] };
            // (a Vec, not an iterator of closures held across `.await`: such a future is not
            // `Send` for every lifetime, and the sink spawns fences on the runtime)
            let labels: Vec<(u32, i64)> = (0..policy.max_attempts).flat_map(|a| generations.iter().map(move |g| (a, *g))).collect();
            for (a, g) in labels {
                let theirs = self.labels.flush(self.partition, next, g, a);
                match self.rollback_definitely(api, policy, &theirs).await {
                    Ok(Rollback::Committed) => {
                        // It committed after all: wait until the register shows it, then
                        // fence again from there.
                        self.wait_visible(api, policy, &theirs).await?;
                        last = format!("a flush of a displaced owner ({}) committed meanwhile", theirs);
                        continue 'attempt;
                    }
                    Ok(_) => {}
                    Err(m) => {
                        last = m;
                        continue 'attempt;
                    }
                }
            }
            self.generation = mine.generation;
            self.next = next;
            return Ok(());
        }
        Err(Error::retriable(format!("cannot take ownership of {} in the register: {}", self.what(), last)))
    }

    /// Rolls back `label`, asking again until StarRocks answers.
    async fn rollback_definitely<A: TxnApi>(&self, api: &A, policy: &EoPolicy, label: &str) -> std::result::Result<Rollback, String> {
        let mut last = String::new();
        for attempt in 0..policy.max_attempts {
            if attempt > 0 {
                api.sleep(policy.pause(attempt)).await;
            }
            match api.rollback(label).await {
                Ok(Rollback::Failed(m)) | Err(Unknown(m)) => last = m,
                Ok(r) => return Ok(r),
            }
        }
        Err(format!("rolling back {}: {}", label, last))
    }

    /// Loads offsets `[start, end)` of the partition: `tables` plus the register row moving to
    /// `end`, in one transaction. `start` must be where the register stands (or anything, before
    /// the first flush).
    /// `tables`: one load per target table, compressed; their labels are replaced by each
    /// attempt's transaction label.
    pub async fn flush<A: TxnApi>(&mut self, api: &A, policy: &EoPolicy, start: i64, end: i64, tables: &[LoadRequest]) -> Result<FlushOutcome> {
        if self.next >= 0 && start != self.next {
            return Err(Error::internal(format!("{}: flush from {} but the register stands at {}", self.what(), start, self.next)));
        }
        if end <= start {
            return Err(Error::internal(format!("{}: empty flush [{}, {})", self.what(), start, end)));
        }
        let moved = RegisterRow { next_offset: end, generation: self.generation, owner: self.owner.clone() };
        let register_row = self.register.load(&self.topic, self.partition, &moved, String::new());
        let mut last = String::from("no attempt");
        'attempt: for attempt in 0..policy.max_attempts {
            if attempt > 0 {
                api.sleep(policy.pause(attempt)).await;
            }
            // A fresh label per attempt: a request of an earlier attempt that arrives late can
            // only touch that attempt's (aborted) transaction.
            let label = self.labels.flush(self.partition, self.next, self.generation, attempt);
            match api.begin(&label, policy.txn_timeout_secs).await {
                Ok(Begin::Begun) => {}
                Ok(Begin::LabelExists { .. }) => {
                    last = format!("label {} is taken", label);
                    continue;
                }
                Ok(Begin::Failed(m)) => {
                    last = m;
                    continue;
                }
                Err(Unknown(m)) => {
                    let _ = api.rollback(&label).await;
                    last = m;
                    continue;
                }
            }
            for part in tables.iter().chain(std::iter::once(&register_row)) {
                let table = &part.target.table;
                match api.load(&part.with_label(label.clone())).await {
                    Ok(Load::Loaded) => {}
                    Ok(Load::Rejected(m)) => {
                        return Err(Error::load(format!(
                            "StarRocks refused the rows of {} offsets [{}, {}) for table {}: {}",
                            self.what(),
                            start,
                            end,
                            table,
                            m
                        )))
                    }
                    Ok(Load::Aborted(m)) => {
                        last = m;
                        continue 'attempt;
                    }
                    Ok(Load::Failed(m)) | Err(Unknown(m)) => {
                        let _ = api.rollback(&label).await;
                        last = m;
                        continue 'attempt;
                    }
                }
            }
            // A fencer bumps the generation before it rolls back the previous owner's
            // transactions: one that reads the register after the bump stops here.
            match self.read(api).await {
                Ok(Some(r)) if self.is_mine(&r) && r.next_offset == self.next => {}
                Ok(r) => {
                    let _ = api.rollback(&label).await;
                    return self.after_register_moved(api, policy, r, start, end).await;
                }
                Err(Unknown(m)) => {
                    let _ = api.rollback(&label).await;
                    last = m;
                    continue;
                }
            }
            for _ in 0..policy.max_attempts {
                match api.commit(&label).await {
                    Ok(Commit::Committed { visible }) => {
                        if !visible {
                            self.wait_visible(api, policy, &label).await?;
                        }
                        self.next = end;
                        return Ok(FlushOutcome::Committed { next: end });
                    }
                    Ok(Commit::Aborted(m)) => {
                        last = m;
                        continue 'attempt;
                    }
                    Ok(Commit::NotFound) => {
                        last = format!("transaction {} vanished", label);
                        continue 'attempt;
                    }
                    Ok(Commit::Failed(m)) | Err(Unknown(m)) => {
                        last = m;
                        match api.state(&label).await {
                            Ok(TxnState::Committed | TxnState::Visible) => {
                                return self.after_commit_under_label(api, policy, &label, start, end).await
                            }
                            Ok(TxnState::Aborted) => continue 'attempt,
                            Ok(TxnState::Unknown) => {
                                // Finished and forgotten, or never begun: the register decides.
                                let r = self.read_retrying(api, policy).await?;
                                match r {
                                    Some(r) if self.is_mine(&r) && r.next_offset == self.next => continue 'attempt,
                                    other => return self.after_register_moved(api, policy, other, start, end).await,
                                }
                            }
                            Ok(TxnState::Running) | Err(_) => api.sleep(policy.pause(1)).await,
                        }
                    }
                }
            }
        }
        Err(Error::retriable(format!(
            "loading {} offsets [{}, {}) failed after {} attempts: {}",
            self.what(),
            start,
            end,
            policy.max_attempts,
            last
        )))
    }

    /// The flush's transaction committed but its answer was lost: wait until it is visible,
    /// then read the register.
    async fn after_commit_under_label<A: TxnApi>(&mut self, api: &A, policy: &EoPolicy, label: &str, start: i64, end: i64) -> Result<FlushOutcome> {
        self.wait_visible(api, policy, label).await?;
        let row = self.read_retrying(api, policy).await?;
        self.after_register_moved(api, policy, row, start, end).await
    }

    /// The register is not where this writer left it.
    async fn after_register_moved<A: TxnApi>(
        &mut self,
        api: &A,
        policy: &EoPolicy,
        row: Option<RegisterRow>,
        start: i64,
        end: i64,
    ) -> Result<FlushOutcome> {
        let Some(r) = row else {
            return Err(Error::load(format!("the register row of {} disappeared from {}.{}", self.what(), self.register.db, self.register.table)));
        };
        if self.is_mine(&r) {
            if r.next_offset == end {
                // Our own commit, whose answer was lost.
                self.next = end;
                return Ok(FlushOutcome::Committed { next: end });
            }
            if r.next_offset == start || r.next_offset == self.next {
                return Err(Error::retriable(format!("{}: flush from {} could not commit", self.what(), start)));
            }
            self.next = r.next_offset;
            return Ok(FlushOutcome::Rewind { next: r.next_offset });
        }
        if r.generation >= self.generation {
            // Fenced by a newer owner (or one of our generation that fenced after us).
            return Ok(FlushOutcome::Fenced);
        }
        // An older owner's flush landed after we fenced: it is loaded once, by it. Fence again
        // and carry on after it.
        self.take_ownership(api, policy).await?;
        Ok(FlushOutcome::Rewind { next: self.next })
    }

    async fn wait_visible<A: TxnApi>(&self, api: &A, policy: &EoPolicy, label: &str) -> Result<()> {
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            match api.state(label).await {
                // Forgotten labels belong to finished transactions: a committed one is visible.
                Ok(TxnState::Visible | TxnState::Unknown) => return Ok(()),
                Ok(TxnState::Aborted) => {
                    return Err(Error::internal(format!("{}: committed transaction {} reads ABORTED", self.what(), label)))
                }
                Ok(_) | Err(_) => {}
            }
            if waited >= policy.visible_wait {
                return Err(Error::retriable(format!(
                    "{}: transaction {} committed but not visible after {:?}",
                    self.what(),
                    label,
                    policy.visible_wait
                )));
            }
            let d = policy.pause(attempt);
            attempt += 1;
            api.sleep(d).await;
            waited += d;
        }
    }

    /// Waits (at most `visible_wait`) until `label`'s transaction is neither running nor
    /// committed-but-unpublished: a Stream Load may answer before its rows are visible.
    async fn wait_settled<A: TxnApi>(&self, api: &A, policy: &EoPolicy, label: &str) {
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        while waited < policy.visible_wait {
            if let Ok(TxnState::Visible | TxnState::Aborted | TxnState::Unknown) = api.state(label).await {
                return;
            }
            let d = policy.pause(attempt);
            attempt += 1;
            api.sleep(d).await;
            waited += d;
        }
    }
}

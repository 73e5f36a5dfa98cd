//! Exactly-once delivery (`delivery.guarantee=exactly_once`): every Kafka record lands once in
//! StarRocks, whatever crashes, rebalances or flush timing.
//!
//! The progress of each topic-partition lives in StarRocks itself, in a Primary Key *register*
//! table. A flush of a partition's offsets `[S, E)` is one multi-table transaction (StarRocks
//! 4.0+): the data rows in every target table plus the register row moving to `E`, committed
//! together. Correctness rests on two facts about StarRocks:
//!
//! * a label is a compare-and-set: while a transaction under label `L` is running or finished
//!   (and not yet forgotten), no second transaction can begin under `L`. The label of a flush is
//!   derived from `(db, topic, partition, S)` only, so two writers that both believe the
//!   partition stands at `S` collide on the label and at most one commits;
//! * a database forgets finished labels (after days, or minutes on a busy database). So just
//!   before committing, a writer re-reads the register and commits only if it still stands at
//!   `S` under its own ownership: a forgotten label belongs to a transaction that finished, so
//!   the register already moved past `S` and the stale writer aborts.
//!
//! Ownership (`generation`, `owner`) is taken by *fencing* on partition assignment: read the
//! register, roll back the transaction that would clash with ours, bump the generation with an
//! upsert whose `merge_condition` on `next_offset` can never move the offset backwards, and
//! confirm by reading it back. A writer that finds a newer generation stops (it is a zombie); one
//! that finds an older generation's commit re-fences and continues after it.
//!
//! Split by job: `label` names transactions, `register` is the table and its SQL, `api` is the
//! transport seam (`http_api` and `sql` in production, the emulator's in-process core in the
//! deterministic simulation), `writer` is the protocol itself.

pub mod api;
pub mod http_api;
pub mod label;
pub mod register;
pub mod setup;
pub mod sql;
pub mod writer;

pub use api::TxnApi;
pub use register::{Register, RegisterRow};
pub use writer::{EoPolicy, FlushOutcome, PartitionWriter, TableBody};

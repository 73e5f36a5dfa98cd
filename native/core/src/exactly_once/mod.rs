//! Exactly-once delivery (`delivery.guarantee=exactly_once`): every Kafka record lands once in
//! StarRocks, whatever crashes, rebalances or flush timing.
//!
//! The progress of each topic-partition lives in StarRocks itself, in a Primary Key *register*
//! table. A flush of a partition's offsets `[S, E)` is one multi-table transaction (StarRocks
//! 4.0+): the data rows in every target table plus the register row moving to `E`, committed
//! together.
//!
//! Ownership of a partition (`generation`, `owner` in the register) is taken by *fencing*: bump
//! the generation with an upsert whose `merge_condition` on `next_offset` can never move the
//! offset backwards, wait until the bump is visible and read it back, and only then roll back
//! every transaction the previous owner may have running. Every flush re-reads the register just
//! before committing and commits only under its own generation. So a previous owner either read
//! the register before the bump (its transaction is then rolled back, or found committed and
//! fenced past) or reads the bump and stops. Two fencers of the same row collide on the fence
//! load's label, so a generation has one owner, and a flush's label (partition, register offset,
//! generation, attempt) is private to it: a label shared between writers would let a stale
//! `commit` commit another writer's half-loaded transaction. docs/exactly-once.md has the
//! argument in full, and the one case it leaves open.
//!
//! Split by job: `label` names transactions, `register` is the table and its SQL, `api` is the
//! transport seam (`http_api` and `sql` in production, the emulator's in-process core in the
//! deterministic simulation), `writer` is the protocol itself, `setup` checks StarRocks before
//! a task starts, `partition_buffer` holds a partition's rows until its flush, and `sink` is the
//! task's sink in this mode (buffering, flush triggers, fencing on assignment).

pub mod api;
pub mod http_api;
pub mod label;
pub mod partition_buffer;
pub mod register;
pub mod setup;
pub mod sink;
pub mod writer;

pub use api::TxnApi;
pub use register::{Register, RegisterRow};
pub use sink::EoSink;
pub use writer::{EoPolicy, FlushOutcome, PartitionWriter};

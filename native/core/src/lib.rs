//! Pure-Rust core of the StarRocks sink (no JNI): everything the JNI layer calls lives here, so
//! unit tests reach all of it without a JVM.

pub mod backoff;
pub mod boundary;
pub mod buffer;
pub mod config;
pub mod error;
pub mod exactly_once;
pub mod flush_policy;
pub mod hash;
pub mod intake;
pub mod log;
pub mod metrics;
pub mod multi_table;
pub mod offsets;
pub mod pipeline;
pub mod rejected;
pub mod route;
pub mod rows;
pub mod runtime;
pub mod schema;
pub mod sink;
pub mod sql;
pub mod stall;
pub mod stream_load;
pub mod task;

pub use error::{Error, ErrorKind, Result};
pub use sink::Sink;
pub use task::{Delivery, TaskSink};

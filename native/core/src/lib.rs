//! Pure-Rust core of the StarRocks sink (no JNI).
//!
//! Status: `error`, `boundary` (the batch decoder), `config`, `route` and `rows`
//! (JSON) are written; buffering, offsets, the Stream Load client and the sink object are not yet.

pub mod boundary;
pub mod config;
pub mod error;
pub mod route;
pub mod rows;

pub use error::{Error, ErrorKind, Result};

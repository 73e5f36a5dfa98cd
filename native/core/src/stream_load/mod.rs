//! Stream Load over HTTP: building requests, the FE→BE redirect, reading StarRocks' answer,
//! labels, and retrying a load until StarRocks has it or says it never will.
//!
//! Split as Vector splits its sinks: `label` names a load, `client` does one attempt (two HTTP
//! exchanges), `response` reads and classifies an answer, `retry` drives attempts and label
//! state polling with backoff.

pub mod client;
pub mod label;
pub mod response;
pub mod retry;

pub use client::StreamLoadClient;
pub use label::LabelMaker;
pub use response::{LoadState, StreamLoadResponse, Verdict};
pub use retry::{load_with_retry, LoadReport, RetryPolicy};

//! Stream Load over HTTP: building requests, the FE→BE redirect, reading StarRocks' answer,
//! labels, and retrying a load until StarRocks has it or says it never will.
//!
//! Split as Vector splits its sinks: `request` is a load as a value, `label` names it, `client` does one attempt (two HTTP
//! exchanges), `response` reads and classifies an answer, `retry` drives attempts and label
//! state polling with backoff, `isolate` finds the rows StarRocks rejects when bad records are
//! tolerated.

pub mod client;
pub mod compress;
pub mod isolate;
pub mod label;
pub mod request;
pub mod response;
pub mod retry;

pub use client::StreamLoadClient;
pub use isolate::isolate_rejected;
pub use label::LabelMaker;
pub use response::{LoadState, StreamLoadResponse, Verdict};
pub use request::LoadRequest;
pub use retry::{load_with_retry, LoadReport, Loader, RetryPolicy};

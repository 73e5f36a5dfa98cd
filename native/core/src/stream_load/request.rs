//! A load as a value: everything that differs from one Stream Load of a sink to the next, in
//! both delivery modes. What every load of a sink shares and never varies (the FE addresses and
//! the credentials) is the client's, built once.

use std::sync::Arc;

use bytes::Bytes;

use crate::route::Target;

/// Stream Load headers besides the label, the table and the credentials: `sink.properties.*`
/// as sent (compression rewritten), or the register's `format`/`merge_condition`.
pub type Headers = Vec<(String, String)>;

#[derive(Debug, Clone)]
pub struct LoadRequest {
    pub target: Target,
    /// At-least-once: derived from the rows, the same for every attempt and for a replay of the
    /// same records (`label`). Exactly-once: the flush's transaction label, which the partition
    /// writer sets per attempt (`with_label`).
    pub label: String,
    /// Uncompressed in at-least-once (the client compresses it once per load); exactly-once
    /// bodies are compressed when the flush is built, as the transaction resends them per attempt.
    pub body: Bytes,
    pub rows: u64,
    /// Shared by every load of a sink, so a request clones a pointer, not the list.
    pub headers: Arc<Headers>,
}

impl LoadRequest {
    /// The same load under another label (the parts of a refused load; a transaction attempt).
    pub fn with_label(&self, label: String) -> LoadRequest {
        LoadRequest { label, ..self.clone() }
    }
}

//! A load as a value: everything that differs from one Stream Load of a sink to the next.
//! What every load of a sink shares (the FE addresses, credentials and `sink.properties.*`
//! headers) is the client's, built once.

use bytes::Bytes;

use crate::route::Target;

#[derive(Debug, Clone)]
pub struct LoadRequest {
    pub target: Target,
    /// The same for every attempt, and for a replay of the same records (`label`).
    pub label: String,
    /// Uncompressed; the client compresses it once per load.
    pub body: Bytes,
    pub rows: u64,
}

//! Row serializers: one decoded record value → one row appended to a table buffer.
//!
//! [`RowFormat`] is the seam for formats: JSON is written now; CSV arrives later as a second
//! variant (its own module), chosen from `sink.properties.format`.

pub mod decimal;
pub mod json;
pub mod temporal;

use crate::boundary::{Batch, Record};
use crate::error::Result;

/// The body format of a table buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    Json,
}

impl RowFormat {
    /// Appends the row of `rec` to `out`; `Ok(false)` (nothing written) for a tombstone.
    /// On error `out` is left as it was.
    pub fn append_row(self, batch: &Batch<'_>, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<bool> {
        match self {
            RowFormat::Json => json::append_row(batch, rec, out),
        }
    }
}

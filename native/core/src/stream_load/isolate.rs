//! Finding the rows StarRocks rejects, when the connector tolerates bad records
//! (`errors.tolerance=all`).
//!
//! A load with a filtered row fails as a whole (`too many filtered rows`, nothing written). The
//! error log's text cannot be mapped back to records reliably, so the load is split instead:
//! each half is loaded on its own, a half that fails is split again, and a single row that still
//! fails is the bad one. Good rows land (in their original order), bad rows come back with
//! StarRocks' reason for the errant-record reporter. k bad rows among n cost about 2·k·log2(n)
//! extra loads, which is cheap for the rare bad record this is meant for.

use super::request::LoadRequest;
use super::retry::{load_with_retry, Loader};
use crate::buffer::{Framing, RowIndex};
use crate::error::{ErrorKind, Result};
use crate::rejected::Rejected;

/// Loads `failed`'s rows in halves, quarters, ... down to the single rows StarRocks refuses;
/// answers those.
pub async fn isolate_rejected(loader: &Loader<'_>, failed: &LoadRequest, framing: &Framing, index: &RowIndex) -> Result<Vec<Rejected>> {
    let mut rejected = Vec::new();
    let n = index.rows.len();
    // A stack of row ranges, left half on top so rows load in their original order.
    let mut todo = vec![(0, n / 2), (n / 2, n)];
    todo.reverse();
    let stem: String = failed.label.chars().take(100).collect();
    while let Some((a, b)) = todo.pop() {
        if a >= b {
            continue;
        }
        let rows = &index.rows[a..b];
        let part = LoadRequest {
            label: format!("{}-{:x}_{:x}", stem, a, b),
            body: framing.sub_body(&failed.body, rows),
            rows: (b - a) as u64,
            ..failed.clone()
        };
        match load_with_retry(loader, &part).await {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Data && b - a == 1 => {
                let (topic, partition) = index.partitions[rows[0].partition as usize].clone();
                loader.log.warn(|| format!("StarRocks rejected the row of {}-{}@{}: {}", topic, partition, rows[0].offset, e.message));
                rejected.push(Rejected { topic, partition, offset: rows[0].offset, reason: e.message });
            }
            Err(e) if e.kind == ErrorKind::Data => {
                let m = a + (b - a) / 2;
                todo.push((m, b));
                todo.push((a, m));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(rejected)
}

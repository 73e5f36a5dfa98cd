//! Turning a load body into typed rows: headers (`params`), the column plan (`plan`), parsers
//! (`csv`, `json`), value conversion (`convert`) and decompression (here).

pub mod convert;
pub mod csv;
pub mod json;
pub mod params;
pub mod plan;

use std::io::Read;

use starrocks_emulator_store::model::{LoadBatch, LoadRow};

use params::{Compression, Format, LoadParams};
use plan::Plan;

/// Only the first 50 rejected rows go into the error log, as in StarRocks.
pub const MAX_ERROR_LINES: usize = 50;

#[derive(Debug, Default)]
pub struct LoadOutput {
    pub rows: Vec<LoadRow>,
    pub total: u64,
    pub filtered: u64,
    pub unselected: u64,
    /// `Error: <msg>. Row: <row>` lines for the error log.
    pub errors: Vec<String>,
}

impl LoadOutput {
    pub fn push(&mut self, row: Result<LoadRow, String>, raw: impl FnOnce() -> String) {
        match row {
            Ok(r) => {
                self.total += 1;
                self.rows.push(r);
            }
            Err(msg) => self.reject(msg, raw),
        }
    }

    pub fn reject(&mut self, msg: String, raw: impl FnOnce() -> String) {
        self.total += 1;
        self.filtered += 1;
        if self.errors.len() < MAX_ERROR_LINES {
            self.errors.push(format!("Error: {msg}. Row: {}", raw()));
        }
    }

    /// §5.3: fail when filtered / (total - unselected) > max_filter_ratio.
    pub fn over_ratio(&self, max_filter_ratio: f64) -> bool {
        let considered = self.total.saturating_sub(self.unselected);
        considered > 0 && self.filtered as f64 / considered as f64 > max_filter_ratio
    }

    pub fn into_batch(self, plan: &Plan) -> LoadBatch {
        LoadBatch { rows: self.rows, partial_columns: plan.partial_columns.clone(), merge_condition: plan.merge_condition }
    }
}

pub const EMPTY_LOAD: &str = "No partitions have data available for loading. If you are sure there may be no data to be loaded, you can use ADMIN SET FRONTEND CONFIG ('empty_load_as_error' = 'false') to ensure such load jobs can succeed";

pub fn decompress(c: Compression, body: Vec<u8>) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len() * 4);
    let res = match c {
        Compression::None => return Ok(body),
        Compression::Gzip => flate2::read::MultiGzDecoder::new(&body[..]).read_to_end(&mut out).map(|_| ()),
        Compression::Deflate => flate2::read::ZlibDecoder::new(&body[..]).read_to_end(&mut out).map(|_| ()),
        Compression::Lz4Frame => lz4_flex::frame::FrameDecoder::new(&body[..]).read_to_end(&mut out).map(|_| ()),
        Compression::Zstd => match ruzstd::decoding::StreamingDecoder::new(&body[..]) {
            Ok(mut d) => d.read_to_end(&mut out).map(|_| ()),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        },
    };
    // Not StarRocks' wording (it reports the codec's own status text); documented as a gap.
    res.map(|_| out).map_err(|e| format!("Failed to decompress the {c:?} body: {e}"))
}

/// Parse one (decompressed) body into `out`. `Err` fails the whole load.
pub fn parse_body(plan: &Plan, p: &LoadParams, body: &[u8], out: &mut LoadOutput) -> Result<(), String> {
    // Growing a multi-million-row Vec by doubling copies it repeatedly; rows are rarely shorter
    // than ~64 bytes of source text, so this reserves at most a small over-estimate.
    out.rows.reserve(body.len() / 64);
    match p.format {
        Format::Csv => {
            csv::parse(plan, p, body, out);
            Ok(())
        }
        Format::Json => json::parse(plan, p, body, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn decompress_every_codec_roundtrip() {
        let data = b"1,a,2\n2,b,3\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&data).unwrap();
        assert_eq!(decompress(Compression::Gzip, gz.finish().unwrap()).unwrap(), data);
        let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz.write_all(&data).unwrap();
        assert_eq!(decompress(Compression::Lz4Frame, lz.finish().unwrap()).unwrap(), data);
        let zs = ruzstd::encoding::compress_to_vec(&data[..], ruzstd::encoding::CompressionLevel::Fastest);
        assert_eq!(decompress(Compression::Zstd, zs).unwrap(), data);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&data).unwrap();
        assert_eq!(decompress(Compression::Deflate, z.finish().unwrap()).unwrap(), data);
        assert!(decompress(Compression::Gzip, b"not gzip".to_vec()).unwrap_err().starts_with("Failed to decompress"));
        assert!(decompress(Compression::Zstd, b"not zstd".to_vec()).unwrap_err().starts_with("Failed to decompress"));
    }

    #[test]
    fn ratio_rule() {
        let mut o = LoadOutput { total: 10, filtered: 1, ..Default::default() };
        assert!(o.over_ratio(0.0));
        assert!(!o.over_ratio(0.1));
        o.unselected = 5;
        assert!(o.over_ratio(0.1));
        assert!(!LoadOutput::default().over_ratio(0.0));
    }
}

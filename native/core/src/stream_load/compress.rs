//! Body compression, chosen with `sink.properties.compression` as in StarRocks' own connector
//! (`gzip` or `lz4_frame`). StarRocks reads compressed JSON through the `compression` header and
//! compressed CSV through `format` (`gzip`, `lz4`), so for CSV the header is rewritten. Bodies
//! are compressed once per load, on the runtime, and the compressed bytes are what retries send.

use std::collections::BTreeMap;
use std::io::Write;

use bytes::Bytes;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Lz4Frame,
}

impl Compression {
    /// Reads `compression` from the Stream Load headers and rewrites them as StarRocks needs.
    pub fn from_headers(headers: &mut BTreeMap<String, String>) -> Result<Compression> {
        let key = headers.keys().find(|k| k.eq_ignore_ascii_case("compression")).cloned();
        let Some(key) = key else { return Ok(Compression::None) };
        let value = headers[&key].trim().to_ascii_lowercase();
        let c = match value.as_str() {
            "gzip" => Compression::Gzip,
            "lz4_frame" | "lz4" => Compression::Lz4Frame,
            "" | "none" => Compression::None,
            other => {
                return Err(Error::config(format!(
                    "sink.properties.compression: '{}' is not supported (gzip or lz4_frame)",
                    other
                )))
            }
        };
        let format_key = headers.keys().find(|k| k.eq_ignore_ascii_case("format")).cloned();
        let is_csv = format_key.as_ref().map_or(false, |k| headers[k].eq_ignore_ascii_case("csv"));
        if c == Compression::None {
            headers.remove(&key);
        } else if is_csv {
            headers.remove(&key);
            let format = if c == Compression::Gzip { "gzip" } else { "lz4" };
            headers.insert(format_key.expect("is_csv"), format.to_string());
        } else {
            headers.insert(key, if c == Compression::Gzip { "gzip" } else { "lz4_frame" }.to_string());
        }
        Ok(c)
    }

    pub fn apply(self, body: Bytes) -> Result<Bytes> {
        let failed = |e: std::io::Error| Error::internal(format!("compressing a load body: {}", e));
        match self {
            Compression::None => Ok(body),
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
                enc.write_all(&body).map_err(failed)?;
                Ok(Bytes::from(enc.finish().map_err(failed)?))
            }
            Compression::Lz4Frame => {
                let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(body.len() / 3));
                enc.write_all(&body).map_err(failed)?;
                Ok(Bytes::from(enc.finish().map_err(|e| Error::internal(format!("compressing a load body: {}", e)))?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn json_keeps_the_header_csv_moves_it_to_format() {
        let mut h = headers(&[("format", "json"), ("compression", "LZ4_FRAME")]);
        assert_eq!(Compression::from_headers(&mut h).unwrap(), Compression::Lz4Frame);
        assert_eq!(h["compression"], "lz4_frame");
        let mut h = headers(&[("format", "csv"), ("compression", "gzip")]);
        assert_eq!(Compression::from_headers(&mut h).unwrap(), Compression::Gzip);
        assert_eq!(h.get("compression"), None);
        assert_eq!(h["format"], "gzip");
        assert!(Compression::from_headers(&mut headers(&[("compression", "zip")])).unwrap_err().message.contains("compression"));
    }

    #[test]
    fn bodies_round_trip() {
        let body = Bytes::from("{\"id\":1}\n".repeat(1000));
        let gz = Compression::Gzip.apply(body.clone()).unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out.as_bytes(), &body[..]);
        let lz = Compression::Lz4Frame.apply(body.clone()).unwrap();
        let mut out = Vec::new();
        lz4_flex::frame::FrameDecoder::new(&lz[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, &body[..]);
        assert!(lz.len() < body.len() / 5);
    }
}

//! The exact reply shapes. StarRocks clients parse these by key (some case-insensitively), but
//! humans and byte-comparing tests read them too, so key order and indentation follow the
//! reference: BE replies are 4-space pretty JSON in a fixed key order, FE `TransactionResult`
//! replies 2-space pretty JSON, FE `RestBaseResult` replies compact JSON.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{header, Response, StatusCode};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value as Json;

pub type Body = Full<Bytes>;

/// A JSON object whose keys serialize in insertion order. serde_json's own `Map` sorts keys
/// unless the crate-wide `preserve_order` feature is on, which would also change how the store
/// crate's JSON behaves, so replies carry their order themselves.
#[derive(Debug, Clone, Default)]
pub struct Ordered(pub Vec<(&'static str, Json)>);

impl Ordered {
    pub fn new() -> Self {
        Ordered(Vec::new())
    }
    pub fn put(mut self, key: &'static str, value: impl Into<Json>) -> Self {
        self.0.push((key, value.into()));
        self
    }
    pub fn push(&mut self, key: &'static str, value: impl Into<Json>) {
        self.0.push((key, value.into()));
    }
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

pub fn pretty(value: &impl Serialize, indent: &[u8]) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    value.serialize(&mut ser).expect("serializing to memory cannot fail");
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}

/// BE reply: HTTP 200, 4-space pretty JSON.
pub fn be_json(body: &Ordered) -> Response<Body> {
    json_response(StatusCode::OK, pretty(body, b"    "))
}

/// FE `TransactionResult`-style reply (also the LoadAction FAILED shape): 2-space pretty JSON.
pub fn fe_pretty(status: StatusCode, body: &Ordered) -> Response<Body> {
    json_response(status, pretty(body, b"  "))
}

/// FE `RestBaseResult` reply: compact JSON.
pub fn fe_compact(status: StatusCode, body: &Ordered) -> Response<Body> {
    json_response(status, serde_json::to_string(body).expect("serializing to memory cannot fail"))
}

/// `{"status":"FAILED","code":"1","msg":m,"message":m}` — the RestBaseResult error shape.
pub fn rest_failed(msg: &str) -> Ordered {
    Ordered::new().put("status", "FAILED").put("code", "1").put("msg", msg).put("message", msg)
}

/// HTTP 401 as the FE sends it for missing/wrong credentials and missing privileges.
pub fn fe_unauthorized(msg: &str) -> Response<Body> {
    let mut r = fe_compact(StatusCode::UNAUTHORIZED, &rest_failed(msg));
    r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"\""));
    r
}

/// LoadAction / TransactionLoadAction failure: HTTP 200, `{"Status":"FAILED","Message":..}`.
pub fn fe_failed(msg: &str) -> Response<Body> {
    fe_pretty(StatusCode::OK, &Ordered::new().put("Status", "FAILED").put("Message", msg))
}

pub fn json_response(status: StatusCode, text: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(text)))
        .expect("static response parts are valid")
}

pub fn text(status: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(text.into()))
        .expect("static response parts are valid")
}

pub fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "Not Found")
}

/// The §5.2 stream load reply. Counters are always present; TxnId is -1 when no transaction
/// was begun.
#[derive(Debug, Clone, Default)]
pub struct StreamLoadReply {
    pub txn_id: i64,
    pub label: String,
    pub status: String,
    pub existing_job_status: Option<String>,
    pub message: String,
    pub total_rows: u64,
    pub loaded_rows: u64,
    pub filtered_rows: u64,
    pub unselected_rows: u64,
    pub load_bytes: u64,
    pub load_time_ms: u64,
    pub begin_txn_time_ms: u64,
    pub plan_time_ms: u64,
    pub read_data_time_ms: u64,
    pub write_data_time_ms: u64,
    pub commit_publish_time_ms: u64,
    pub error_url: Option<String>,
}

impl StreamLoadReply {
    pub fn fail(label: &str, message: impl Into<String>) -> Self {
        StreamLoadReply { txn_id: -1, label: label.to_string(), status: "Fail".into(), message: message.into(), ..Default::default() }
    }

    pub fn to_ordered(&self) -> Ordered {
        let mut o = Ordered::new().put("TxnId", self.txn_id).put("Label", self.label.clone()).put("Status", self.status.clone());
        if let Some(s) = &self.existing_job_status {
            o.push("ExistingJobStatus", s.clone());
        }
        o.push("Message", self.message.clone());
        o.push("NumberTotalRows", self.total_rows);
        o.push("NumberLoadedRows", self.loaded_rows);
        o.push("NumberFilteredRows", self.filtered_rows);
        o.push("NumberUnselectedRows", self.unselected_rows);
        o.push("LoadBytes", self.load_bytes);
        o.push("LoadTimeMs", self.load_time_ms);
        o.push("BeginTxnTimeMs", self.begin_txn_time_ms);
        o.push("StreamLoadPlanTimeMs", self.plan_time_ms);
        o.push("ReadDataTimeMs", self.read_data_time_ms);
        o.push("WriteDataTimeMs", self.write_data_time_ms);
        o.push("CommitAndPublishTimeMs", self.commit_publish_time_ms);
        if let Some(u) = &self.error_url {
            o.push("ErrorURL", u.clone());
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_load_reply_keeps_reference_key_order_and_indent() {
        let mut r = StreamLoadReply::fail("l1", "Label [l1] has already been used.");
        r.status = "Label Already Exists".into();
        r.existing_job_status = Some("FINISHED".into());
        let text = pretty(&r.to_ordered(), b"    ");
        let keys: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix('"')).map(|l| l.split('"').next().unwrap()).collect();
        assert_eq!(&keys[..5], &["TxnId", "Label", "Status", "ExistingJobStatus", "Message"]);
        assert_eq!(*keys.last().unwrap(), "CommitAndPublishTimeMs");
        assert!(text.contains("\n    \"TxnId\": -1,"), "{text}");
    }

    #[test]
    fn rest_failed_is_compact_in_order() {
        let s = serde_json::to_string(&rest_failed("x")).unwrap();
        assert_eq!(s, r#"{"status":"FAILED","code":"1","msg":"x","message":"x"}"#);
    }
}

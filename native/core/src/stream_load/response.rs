//! StarRocks' answers, and what each one means for the load.
//!
//! Stream Load answers HTTP 200 whether it worked or not, so the verdict comes from `Status`
//! and `Message` (docs: "STREAM LOAD", and the failure table of the protocol reference):
//! `Success` and `Publish Timeout` mean the data is in; `Label Already Exists` means an earlier
//! attempt of this very load (same label) got there first, or is still running; `Fail` is
//! retried unless the message names a problem that retrying cannot fix.

use serde::Deserialize;

/// The JSON body of a Stream Load answer (only the fields the sink uses).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct StreamLoadResponse {
    #[serde(rename = "TxnId")]
    pub txn_id: i64,
    #[serde(rename = "Label")]
    pub label: String,
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "ExistingJobStatus")]
    pub existing_job_status: Option<String>,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "NumberTotalRows")]
    pub total_rows: u64,
    #[serde(rename = "NumberLoadedRows")]
    pub loaded_rows: u64,
    #[serde(rename = "NumberFilteredRows")]
    pub filtered_rows: u64,
    #[serde(rename = "LoadBytes")]
    pub load_bytes: u64,
    #[serde(rename = "LoadTimeMs")]
    pub load_time_ms: u64,
    #[serde(rename = "ErrorURL")]
    pub error_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The rows are in StarRocks (possibly visible a little later, for `Publish Timeout`).
    Loaded,
    /// An earlier attempt with the same label finished: the rows are in.
    AlreadyLoaded,
    /// An earlier attempt with the same label may still be running: ask `get_load_state`.
    Unknown(String),
    /// Transient: try again with the same label.
    Retry(String),
    /// StarRocks refused the rows of this body (filtered rows, JSON it cannot parse): retrying
    /// the same body cannot help, loading parts of it finds the records at fault.
    Refused(String),
    /// Retrying cannot help, and the rows are not at fault (auth, missing table, limits).
    Fatal(String),
}

/// Whether a load failure's message says retrying cannot help: bad data, auth, missing table.
pub fn is_fatal_message(message: &str) -> bool {
    is_data_message(message) || FATAL_MESSAGES.iter().any(|m| message.contains(m))
}

/// Whether a load failure's message blames the rows of the body.
pub fn is_data_message(message: &str) -> bool {
    DATA_MESSAGES.iter().any(|m| message.contains(m))
}

/// StarRocks' messages for a body whose rows it refuses (docs/stream-load-protocol §4.2, §7):
/// filtered rows over the ratio, and the JSON parser's errors, which fail the whole load rather
/// than filter a row.
const DATA_MESSAGES: &[&str] = &[
    "too many filtered rows",
    "Failed to iterate document stream",
    "Failed to parse json",
    "The JSON element does not have the requested type",
    "illegal json started with",
    "The value is array type in json document stream",
    "the value should be array type with strip_outer_array",
];

/// Messages of failures that the same request will always hit again, for reasons other than its rows.
const FATAL_MESSAGES: &[&str] = &[
    "Access denied",
    "no valid Basic authorization",
    "unknown database",
    "unknown table",
    "Unknown table",
    "does not exist",
    "Label format error",
    "primary key size exceed the limit",
    "Only primary key table support partial update",
    "Column has no default value",
    "unknown data format",
    "exceed the max size",
    // `body size <n> exceed limit: <m>`; not the bare "exceed limit", which also ends StarRocks'
    // transient "Memory of process exceed limit."
    "You can increase the limit by setting streaming_load_max_mb",
    "is a materialized view",
    "Only olap/lake table support stream load",
    "load op type string not supported",
    "key column",
];

impl StreamLoadResponse {
    pub fn parse(body: &[u8]) -> Result<StreamLoadResponse, String> {
        serde_json::from_slice(body).map_err(|e| {
            format!("unreadable Stream Load answer ({}): {}", e, String::from_utf8_lossy(&body[..body.len().min(300)]))
        })
    }

    pub fn verdict(&self) -> Verdict {
        let msg = || format!("{}: {}", self.status, self.message);
        match self.status.as_str() {
            "Success" | "Publish Timeout" => Verdict::Loaded,
            "Label Already Exists" => match self.existing_job_status.as_deref() {
                Some("FINISHED") => Verdict::AlreadyLoaded,
                _ => Verdict::Unknown(msg()),
            },
            "Fail" => {
                // Some 3.3/3.4 releases say `Fail` + "has already been used" for a taken label.
                if self.message.contains("has already been used") {
                    Verdict::Unknown(msg())
                } else if self.message.contains("Transaction status unknown") {
                    Verdict::Retry(msg())
                } else if is_data_message(&self.message) {
                    Verdict::Refused(msg())
                } else if is_fatal_message(&self.message) {
                    Verdict::Fatal(msg())
                } else {
                    Verdict::Retry(msg())
                }
            }
            _ => Verdict::Retry(msg()),
        }
    }
}

/// The state `get_load_state` reports for a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadState {
    /// COMMITTED or VISIBLE.
    Finished,
    /// PREPARE, PREPARED: not decided yet.
    Running,
    /// ABORTED, or UNKNOWN (never started, or forgotten): the label may be used again.
    NotLoaded(String),
}

#[derive(Debug, Deserialize)]
struct GetLoadStateAnswer {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    msg: Option<String>,
}

/// Reads a `get_load_state` answer: `{"state":"VISIBLE","status":"OK",...}`.
pub fn parse_load_state(body: &[u8]) -> Result<LoadState, String> {
    parse_load_state_name(body).map(LoadState::from_name)
}

impl LoadState {
    /// From a state name as `get_load_state` reports it.
    pub fn from_name(state: String) -> LoadState {
        match state.as_str() {
            "VISIBLE" | "COMMITTED" => LoadState::Finished,
            "PREPARE" | "PREPARED" => LoadState::Running,
            _ => LoadState::NotLoaded(state),
        }
    }
}

/// The `state` of a `get_load_state` answer (`UNKNOWN` when absent).
pub fn parse_load_state_name(body: &[u8]) -> Result<String, String> {
    let a: GetLoadStateAnswer = serde_json::from_slice(body)
        .map_err(|e| format!("unreadable get_load_state answer ({}): {}", e, String::from_utf8_lossy(body)))?;
    if a.status.as_deref() != Some("OK") {
        return Err(format!("get_load_state failed: {}", a.msg.unwrap_or_else(|| String::from_utf8_lossy(body).into())));
    }
    Ok(a.state.unwrap_or_else(|| "UNKNOWN".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: &str, message: &str, existing: Option<&str>) -> StreamLoadResponse {
        StreamLoadResponse {
            status: status.into(),
            message: message.into(),
            existing_job_status: existing.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn parses_the_documented_shape() {
        let r = StreamLoadResponse::parse(
            br#"{"TxnId": 40124, "Label": "l", "Status": "Fail", "Message": "too many filtered rows",
               "NumberTotalRows": 4, "NumberLoadedRows": 3, "NumberFilteredRows": 1, "NumberUnselectedRows": 0,
               "LoadBytes": 118, "LoadTimeMs": 44, "ErrorURL": "http://be:8040/api/_load_error_log?file=x"}"#,
        )
        .unwrap();
        assert_eq!((r.txn_id, r.loaded_rows, r.filtered_rows), (40124, 3, 1));
        assert_eq!(r.error_url.as_deref(), Some("http://be:8040/api/_load_error_log?file=x"));
        assert!(matches!(r.verdict(), Verdict::Refused(m) if m.contains("too many filtered rows")));
        assert!(StreamLoadResponse::parse(b"<html>").unwrap_err().contains("<html>"));
    }

    #[test]
    fn verdicts() {
        assert_eq!(answer("Success", "OK", None).verdict(), Verdict::Loaded);
        assert_eq!(answer("Publish Timeout", "Publish timeout", None).verdict(), Verdict::Loaded);
        assert_eq!(answer("Label Already Exists", "", Some("FINISHED")).verdict(), Verdict::AlreadyLoaded);
        assert!(matches!(answer("Label Already Exists", "", Some("RUNNING")).verdict(), Verdict::Unknown(_)));
        assert!(matches!(answer("Fail", "Label [x] has already been used.", None).verdict(), Verdict::Unknown(_)));
        assert!(matches!(
            answer("Fail", "Commit transaction fail cause x, Transaction status unknown, you can retry with same label.", None).verdict(),
            Verdict::Retry(_)
        ));
        assert!(matches!(answer("Fail", "Too many versions. tablet_id: 1", None).verdict(), Verdict::Retry(_)));
        assert!(matches!(answer("Fail", "Access denied for u@h", None).verdict(), Verdict::Fatal(_)));
        assert!(matches!(answer("Fail", "Memory of process exceed limit. QUERY Backend: 1", None).verdict(), Verdict::Retry(_)));
        assert!(matches!(
            answer("Fail", "body size 20 exceed limit: 10, ctx. You can increase the limit by setting streaming_load_max_mb in be.conf.", None).verdict(),
            Verdict::Fatal(_)
        ));
        assert!(matches!(answer("Fail", "unknown table \"d.t\"", None).verdict(), Verdict::Fatal(_)));
        // the rows are at fault: never retried, and the sink can isolate them
        for m in [
            "too many filtered rows",
            "Failed to iterate document stream as object. error: The JSON element does not have the requested type.",
            "Failed to parse json as array. error: A string is opened, but never closed.",
            "illegal json started with t",
            "The value is array type in json document stream, you can set strip_outer_array=true to parse each element of the array as individual rows",
            "the value should be array type with strip_outer_array=true, value: {\"id\":1}",
        ] {
            assert!(matches!(answer("Fail", m, None).verdict(), Verdict::Refused(_)), "{}", m);
            assert!(is_fatal_message(m), "the exactly-once transaction path must not retry {}", m);
        }
    }

    #[test]
    fn load_states() {
        let s = |b: &str| parse_load_state(b.as_bytes());
        assert_eq!(s(r#"{"state":"VISIBLE","status":"OK","code":"0","msg":"Success","message":"OK"}"#), Ok(LoadState::Finished));
        assert_eq!(s(r#"{"state":"PREPARED","status":"OK"}"#), Ok(LoadState::Running));
        assert_eq!(s(r#"{"state":"ABORTED","status":"OK"}"#), Ok(LoadState::NotLoaded("ABORTED".into())));
        assert!(s(r#"{"status":"FAILED","msg":"No label selected."}"#).unwrap_err().contains("No label selected."));
    }
}

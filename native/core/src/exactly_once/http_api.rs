//! `TxnApi` over the real protocol: the Stream Load transaction interface in multi-table mode
//! (`transaction_type: multi` on begin; begin, commit and rollback answered by the FE, each
//! `load` redirected to a BE and naming its table), `get_load_state`, one-shot Stream Load for
//! fencing, and SQL on the query port for the register (when it has a client for it).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use super::api::{Begin, Commit, Load, OneShot, Rollback, TxnApi, TxnState, Unknown};
use crate::sql::SqlClient;
use crate::stream_load::response::is_fatal_message;
use crate::stream_load::{LoadRequest, StreamLoadClient};

pub struct HttpTxnApi {
    pub client: Arc<StreamLoadClient>,
    /// The query port, for exactly-once's register. `None` where nothing queries (at-least-once's
    /// multi-table transactions, `sink.rs`): `query` then answers an internal error as `Unknown`.
    pub sql: Option<Arc<SqlClient>>,
    pub db: String,
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or("")
}

fn parse(bytes: &[u8]) -> Result<Value, Unknown> {
    serde_json::from_slice(bytes).map_err(|e| Unknown(format!("unreadable answer ({}): {}", e, String::from_utf8_lossy(&bytes[..bytes.len().min(300)]))))
}

fn ok(v: &Value) -> bool {
    matches!(field(v, "Status"), "OK" | "Success")
}

/// "transaction ... not exists", "has no node", "Can't find the transaction": no such label.
fn not_found(msg: &str) -> bool {
    msg.contains("not exist") || msg.contains("has no node") || msg.contains("Can't find") || msg.contains("TXN_NOT_EXISTS")
}

impl HttpTxnApi {
    fn headers(&self, label: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut h = vec![("label".to_string(), label.to_string()), ("db".to_string(), self.db.clone())];
        h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        h
    }

    async fn txn(&self, op: &str, headers: Vec<(String, String)>, body: Option<Bytes>) -> Result<Value, Unknown> {
        let put = op == "load";
        let text = self.client.send_via_fe(put, &["api", "transaction", op], &headers, body).await.map_err(Unknown)?;
        parse(&text)
    }
}

impl TxnApi for HttpTxnApi {
    async fn begin(&self, label: &str, timeout_secs: u64) -> Result<Begin, Unknown> {
        let t = timeout_secs.to_string();
        let v = self.txn("begin", self.headers(label, &[("transaction_type", "multi"), ("timeout", &t)]), None).await?;
        Ok(match field(&v, "Status") {
            "OK" => Begin::Begun,
            "LABEL_ALREADY_EXISTS" | "Label Already Exists" => Begin::LabelExists { running: field(&v, "ExistingJobStatus") != "FINISHED" },
            _ => Begin::Failed(field(&v, "Message").to_string()),
        })
    }

    async fn load(&self, request: &LoadRequest) -> Result<Load, Unknown> {
        let mut h = self.headers(&request.label, &[("table", &request.target.table)]);
        h.extend(request.headers.iter().cloned());
        let v = self.txn("load", h, Some(request.body.clone())).await?;
        if ok(&v) {
            return Ok(Load::Loaded);
        }
        let msg = format!("{}: {}", field(&v, "Status"), field(&v, "Message"));
        // Every failed load aborts the transaction; whether to retry depends on why.
        Ok(if msg.contains("aborted") || not_found(&msg) {
            Load::Aborted(msg)
        } else if is_fatal_message(&msg) {
            Load::Rejected(msg)
        } else {
            Load::Aborted(msg)
        })
    }

    async fn commit(&self, label: &str) -> Result<Commit, Unknown> {
        let v = self.txn("commit", self.headers(label, &[]), None).await?;
        let msg = field(&v, "Message").to_string();
        Ok(if ok(&v) {
            // "already committed" included; visibility is read from get_load_state.
            Commit::Committed { visible: false }
        } else if msg.contains("aborted") {
            Commit::Aborted(msg)
        } else if not_found(&msg) {
            Commit::NotFound
        } else {
            Commit::Failed(msg)
        })
    }

    async fn rollback(&self, label: &str) -> Result<Rollback, Unknown> {
        let v = self.txn("rollback", self.headers(label, &[]), None).await?;
        let msg = field(&v, "Message").to_string();
        Ok(if ok(&v) {
            Rollback::RolledBack
        } else if msg.contains("committed") {
            Rollback::Committed
        } else if not_found(&msg) {
            Rollback::NotFound
        } else {
            Rollback::Failed(msg)
        })
    }

    async fn state(&self, label: &str) -> Result<TxnState, Unknown> {
        let text = self.client.load_state_raw(&self.db, label).await.map_err(Unknown)?;
        Ok(match text.as_str() {
            "PREPARE" | "PREPARED" => TxnState::Running,
            "COMMITTED" => TxnState::Committed,
            "VISIBLE" => TxnState::Visible,
            "ABORTED" => TxnState::Aborted,
            _ => TxnState::Unknown,
        })
    }

    async fn stream_load(&self, request: &LoadRequest) -> Result<OneShot, Unknown> {
        let mut h = vec![("label".to_string(), request.label.clone())];
        h.extend(request.headers.iter().cloned());
        let (db, table) = (&request.target.database, &request.target.table);
        let text = self
            .client
            .send_via_fe(true, &["api", db, table, "_stream_load"], &h, Some(request.body.clone()))
            .await
            .map_err(Unknown)?;
        let v = parse(&text)?;
        Ok(match field(&v, "Status") {
            "Success" | "Publish Timeout" => OneShot::Loaded,
            "Label Already Exists" => OneShot::LabelExists,
            _ => OneShot::Failed(format!("{}: {}", field(&v, "Status"), field(&v, "Message"))),
        })
    }

    async fn query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Unknown> {
        match &self.sql {
            Some(client) => client.query(sql).await.map_err(Unknown),
            None => Err(Unknown(format!("internal error: a query without a query port client (at-least-once multi-table mode never queries): {}", sql))),
        }
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await
    }
}

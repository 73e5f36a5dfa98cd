//! In-process end-to-end tests of the HTTP half over real sockets, with the in-memory store.

use std::sync::Arc;

use base64::Engine;
use starrocks_emulator_store::model::{Column, ColumnType, KeysType, TableSchema, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::mem_store::MemStore;
use crate::{start_with_store, EmulatorConfig, RunningEmulator};

async fn emulator() -> (RunningEmulator, Arc<MemStore>) {
    let store = Arc::new(MemStore::new(""));
    let col = |name: &str, ty, key: bool| Column { name: name.into(), ty, nullable: !key, default: None, is_key: key };
    store.create_table(TableSchema {
        db: "db".into(),
        name: "t".into(),
        columns: vec![col("id", ColumnType::Int, true), col("name", ColumnType::Varchar(10), false)],
        keys_type: KeysType::Duplicate,
        key_columns: vec![0],
    });
    store.add_user("u", "pw", None);
    let emu = start_with_store(EmulatorConfig::default(), store.clone(), None, 0).await.unwrap();
    (emu, store)
}

fn auth(user: &str, pw: &str) -> String {
    format!("Authorization: Basic {}\r\n", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}")))
}

/// Send raw bytes, read until the server closes (requests ask for `Connection: close`).
async fn raw(port: u16, req: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    String::from_utf8_lossy(&buf).into_owned()
}

fn put(path: &str, headers: &str, body: &str) -> String {
    format!("PUT {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n{body}", body.len())
}

fn json_body(resp: &str) -> serde_json::Value {
    serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

#[tokio::test]
async fn fe_redirects_with_auth_and_expect() {
    let (emu, _) = emulator().await;
    let r = raw(emu.fe_http_port, &put("/api/db/t/_stream_load?x=1", &(auth("root", "") + "Expect: 100-continue\r\n"), "")).await;
    assert!(r.starts_with("HTTP/1.1 307"), "{r}");
    assert!(r.to_ascii_lowercase().contains(&format!("location: http://127.0.0.1:{}/api/db/t/_stream_load?x=1\r\n", emu.be_http_port)), "{r}");
    let r = raw(emu.fe_http_port, &put("/api/db/t/_stream_load", "Expect: 100-continue\r\n", "")).await;
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
    assert!(r.ends_with(r#"{"status":"FAILED","code":"1","msg":"Need auth information.","message":"Need auth information."}"#), "{r}");
    let r = raw(emu.fe_http_port, &put("/api/db/t/_stream_load", &auth("root", ""), "")).await;
    assert_eq!(json_body(&r)["Message"], "class com.starrocks.common.DdlException: There is no 100-continue header");
    let r = raw(emu.fe_http_port, &put("/api/db/t/_stream_load", &(auth("u", "pw") + "Expect: 100-continue\r\n"), "")).await;
    assert!(r.starts_with("HTTP/1.1 401") && r.contains("INSERT privilege(s) on TABLE t"), "{r}");
    emu.shutdown().await;
}

#[tokio::test]
async fn be_json_load_then_label_exists() {
    let (emu, store) = emulator().await;
    let hdr = auth("root", "") + "label: l1\r\nformat: json\r\nstrip_outer_array: true\r\n";
    let r = raw(emu.be_http_port, &put("/api/db/t/_stream_load", &hdr, r#"[{"id":1,"name":"a"},{"id":2}]"#)).await;
    let j = json_body(&r);
    assert_eq!(j["Status"], "Success", "{r}");
    assert_eq!(j["NumberLoadedRows"], 2);
    assert_eq!(store.rows("db", "t"), vec![vec![Some(Value::Int(1)), Some(Value::Str("a".into()))], vec![Some(Value::Int(2)), None]]);
    let r = raw(emu.be_http_port, &put("/api/db/t/_stream_load", &hdr, r#"[{"id":3}]"#)).await;
    let j = json_body(&r);
    assert_eq!((j["Status"].as_str(), j["ExistingJobStatus"].as_str(), j["TxnId"].as_i64()), (Some("Label Already Exists"), Some("FINISHED"), Some(-1)));
    assert_eq!(store.rows("db", "t").len(), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn be_header_failure_sends_no_continue() {
    let (emu, _) = emulator().await;
    // Expect: 100-continue and a body we never send: the reply must come without 100.
    let req = format!("PUT /api/db/nope/_stream_load HTTP/1.1\r\nHost: x\r\n{}Expect: 100-continue\r\nContent-Length: 100\r\nConnection: close\r\n\r\n", auth("root", ""));
    let r = raw(emu.be_http_port, &req).await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(!r.contains("100 Continue"));
    assert_eq!(json_body(&r)["Message"], "unknown table \"db.nope\"");
    emu.shutdown().await;
}

fn post(path: &str, headers: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n{headers}\r\n")
}

fn load_state(j: &serde_json::Value) -> (String, Option<String>) {
    (j["state"].as_str().unwrap().to_string(), j["reason"].as_str().map(str::to_string))
}

/// The HTTP server on a ManualClock: a multi-table transaction begun without `timeout` is
/// aborted after exactly 20 s of that clock, and a publish delay holds rows until it passes.
#[tokio::test]
async fn multi_table_default_timeout_and_publish_delay_follow_the_injected_clock() {
    let store = Arc::new(MemStore::new(""));
    let col = |name: &str, ty, key: bool| Column { name: name.into(), ty, nullable: !key, default: None, is_key: key };
    store.create_table(TableSchema {
        db: "db".into(),
        name: "t".into(),
        columns: vec![col("id", ColumnType::Int, true), col("name", ColumnType::Varchar(10), false)],
        keys_type: KeysType::Duplicate,
        key_columns: vec![0],
    });
    let clock = Arc::new(crate::clock::ManualClock::new(1_000.0));
    let config = EmulatorConfig { clock: clock.clone(), publish_delay_ms: 5_000, ..Default::default() };
    let emu = start_with_store(config, store.clone(), None, 0).await.unwrap();
    let fe = emu.fe_http_port;
    let h = |label: &str| auth("root", "") + &format!("db: db\r\nlabel: {label}\r\ntransaction_type: multi\r\n");
    let state = |label: &'static str| async move {
        let r = raw(fe, &format!("GET /api/db/get_load_state?label={label} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{}\r\n", auth("root", ""))).await;
        load_state(&json_body(&r))
    };
    let j = json_body(&raw(fe, &post("/api/transaction/begin", &h("idle"))).await);
    assert_eq!(j["Status"], "OK", "{j}");
    clock.advance(19.5);
    assert_eq!(state("idle").await.0, "PREPARE");
    clock.advance(0.5);
    assert_eq!(state("idle").await, ("ABORTED".into(), Some("transaction is aborted by timeout 20 seconds.".into())));

    // begin, load on the BE (the FE would 307 there), commit: COMMITTED until the delay passes.
    assert_eq!(json_body(&raw(fe, &post("/api/transaction/begin", &h("p"))).await)["Status"], "OK");
    let load = auth("root", "") + "db: db\r\nlabel: p\r\ntable: t\r\nformat: json\r\n";
    let j = json_body(&raw(emu.be_http_port, &put("/api/transaction/load", &load, r#"{"id":1,"name":"a"}"#)).await);
    assert_eq!((j["Status"].as_str(), j["NumberLoadedRows"].as_u64()), (Some("OK"), Some(1)), "{j}");
    let j = json_body(&raw(fe, &post("/api/transaction/commit", &h("p"))).await);
    assert_eq!(j["Status"], "OK", "{j}");
    assert!(j["Message"].as_str().unwrap().starts_with("Publish timeout."), "{j}");
    assert_eq!(state("p").await.0, "COMMITTED");
    assert!(store.rows("db", "t").is_empty(), "not applied before VISIBLE");
    clock.advance(5.0);
    assert_eq!(state("p").await.0, "VISIBLE");
    assert_eq!(store.rows("db", "t").len(), 1);
    emu.shutdown().await;
}

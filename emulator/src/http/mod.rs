//! The two HTTP listeners: the FE-like port (auth, redirects, label state, transaction routing,
//! the emulator's admin endpoints) and the BE-like port (the loads themselves).

pub mod be;
pub mod fe;
pub mod multi;
pub mod response;
pub mod txn;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use starrocks_emulator_store::model::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error_log::ErrorLogs;
use crate::faults::{FaultKind, Faults};
use crate::labels::Labels;
use crate::txn_core::TxnCore;
use response::Body;

#[derive(Debug, Clone)]
pub struct Limits {
    /// `streaming_load_max_mb`: max body per stream load / per transaction.
    pub streaming_load_max_mb: u64,
    /// `streaming_load_max_batch_size_mb`: max JSON body with Content-Length.
    pub json_max_mb: u64,
    /// `max_running_txn_num_per_db`.
    pub max_running_txn_num_per_db: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { streaming_load_max_mb: 102_400, json_max_mb: 100, max_running_txn_num_per_db: 1000 }
    }
}

/// Body buffers reused across loads. Every fresh multi-megabyte buffer costs page faults and
/// kernel page zeroing, which dominated the benchmark profile; a few kept buffers avoid that.
#[derive(Default)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    const KEEP: usize = 2;
    const MAX_KEPT_BYTES: usize = 64 * 1024 * 1024;

    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let mut free = self.free.lock().unwrap();
        match free.iter().position(|b| b.capacity() >= capacity) {
            Some(i) => free.swap_remove(i),
            None => Vec::with_capacity(capacity),
        }
    }

    pub fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() > Self::MAX_KEPT_BYTES {
            return;
        }
        buf.clear();
        let mut free = self.free.lock().unwrap();
        if free.len() < Self::KEEP {
            free.push(buf);
        } else if let Some(smallest) = free.iter_mut().min_by_key(|b| b.capacity()) {
            if smallest.capacity() < buf.capacity() {
                *smallest = buf;
            }
        }
    }
}

/// Everything the handlers share.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub labels: Arc<Labels>,
    /// Multi-table transactions (StarRocks 4.0); shares `store` and `labels`.
    pub core: Arc<TxnCore>,
    /// `--starrocks-version` is 4.0 or later: the FE runs `transaction_type: multi` and the BE
    /// rejects `transaction_type`; below, both ignore the header as 3.x does.
    pub multi_enabled: bool,
    pub faults: Faults,
    pub error_logs: ErrorLogs,
    pub txns: txn::TxnContexts,
    pub buffers: BufferPool,
    /// FE side: (db, label) of transactions begun through this FE, i.e. "label → BE" routing.
    pub fe_txn_routes: Mutex<HashSet<(String, String)>>,
    /// Host name put into redirects and ErrorURLs (what the BE "registered with").
    pub public_host: String,
    pub be_port: u16,
    /// Both HTTP ports serve HTTPS only (`--tls-cert`/`--tls-key`): every request came over TLS,
    /// so redirects and ErrorURLs name `https://`.
    pub https: bool,
    pub limits: Limits,
    pub shutting_down: AtomicBool,
}

impl Shared {
    pub fn be_base(&self) -> String {
        format!("{}://{}:{}", if self.https { "https" } else { "http" }, self.public_host, self.be_port)
    }
}

/// What a handler knows about its connection. `fd` lets a fault reset the connection (RST via
/// SO_LINGER 0) instead of closing it politely.
#[derive(Clone, Copy)]
pub struct Conn {
    pub peer: SocketAddr,
    fd: RawFd,
}

impl Conn {
    pub fn peer_ip(&self) -> IpAddr {
        self.peer.ip()
    }

    /// Make the close that follows an error return an RST, as a crashed or killed peer would.
    pub fn arm_reset(&self) {
        // SAFETY: the fd belongs to the connection whose handler is running, so it is open.
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let _ = socket2::SockRef::from(&fd).set_linger(Some(std::time::Duration::ZERO));
    }
}

/// Returned by a handler to drop the connection without a response.
pub type HandlerResult = Result<Response<Body>, std::io::Error>;

pub fn dropped() -> HandlerResult {
    Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "connection dropped by an emulated fault"))
}

/// No reply is held longer than this (`no_reply` fault), so a client that never gives up does
/// not pin a task forever.
pub const NO_REPLY_CAP_SECS: f64 = 600.0;

/// How long a silent fault (`no_reply`, `fe_silent`, `stall_mid_body`, `hold_prepare`) holds.
pub fn silent_for(f: &crate::faults::Fault) -> std::time::Duration {
    std::time::Duration::from_secs_f64(f.seconds.unwrap_or(NO_REPLY_CAP_SECS).clamp(0.0, NO_REPLY_CAP_SECS))
}

/// Run one request under the request-level faults armed for `op` (and `db.table`):
/// `fail_before` closes the connection without running it, `drop_after` runs it and closes the
/// connection instead of replying, `no_reply` runs it and keeps the connection silent.
pub async fn with_request_faults<F>(sh: &Shared, op: &str, db: &str, table: Option<&str>, run: F) -> HandlerResult
where
    F: std::future::Future<Output = HandlerResult>,
{
    let fault = if sh.faults.any() { sh.faults.take_request(op, db, table) } else { None };
    let Some(f) = fault else { return run.await };
    tracing::info!("fault {:?} on {op} ({db}.{})", f.kind, table.unwrap_or(""));
    match f.kind {
        FaultKind::FailBefore => dropped(),
        FaultKind::DropAfter => {
            let _ = run.await;
            dropped()
        }
        _ => {
            let _ = run.await;
            let secs = f.seconds.unwrap_or(NO_REPLY_CAP_SECS).clamp(0.0, NO_REPLY_CAP_SECS);
            tokio::time::sleep(std::time::Duration::from_secs_f64(secs)).await;
            dropped()
        }
    }
}

/// A server certificate chain and its private key, PEM, for HTTPS on both HTTP ports.
#[derive(Clone)]
pub struct TlsPem {
    pub cert_chain: Vec<u8>,
    pub key: Vec<u8>,
}

/// rustls with the ring provider (named explicitly: `ServerConfig::builder()` panics when a build
/// happens to enable two providers), TLS 1.2 and 1.3, HTTP/1.1 only.
pub fn tls_acceptor(pem: &TlsPem) -> Result<tokio_rustls::TlsAcceptor, String> {
    use tokio_rustls::rustls;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(&pem.cert_chain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("TLS certificate: not a PEM certificate chain: {e:?}"))?;
    if certs.is_empty() {
        return Err("TLS certificate: no CERTIFICATE block in the PEM".into());
    }
    let key = PrivateKeyDer::from_pem_slice(&pem.key).map_err(|e| format!("TLS key: no usable PEM private key: {e:?}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate/key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

#[derive(Clone, Copy, Debug)]
pub enum Role {
    Fe,
    Be,
}

/// Accept connections until `shutdown` flips; each connection is served by hyper's HTTP/1 server,
/// which sends `100 Continue` only when a handler first reads the body — exactly StarRocks' BE
/// behaviour, and the FE never reads bodies.
/// With `tls`, every connection does the TLS handshake first (a failed handshake drops it).
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    role: Role,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("{role:?} accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let conn = Conn { peer, fd: stream.as_raw_fd() };
        let shared = shared.clone();
        let mut shutdown = shutdown.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let shared = shared.clone();
                async move {
                    match role {
                        Role::Fe => fe::handle(shared, conn, req).await,
                        Role::Be => be::handle(shared, conn, req).await,
                    }
                }
            });
            let connection = async move {
                let served = match tls {
                    None => http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await,
                    Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => http1::Builder::new().serve_connection(TokioIo::new(tls_stream), svc).await,
                        Ok(Err(e)) => {
                            tracing::info!("{role:?} TLS handshake with {peer} failed: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::info!("{role:?} TLS handshake with {peer} timed out");
                            return;
                        }
                    },
                };
                if let Err(e) = served {
                    tracing::debug!("{role:?} connection from {peer}: {e}");
                }
            };
            tokio::select! {
                _ = connection => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Percent-decode a path segment or query value (`+` is left alone: StarRocks paths use %20).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').filter_map(|kv| kv.split_once('=').or(Some((kv, "")))).find(|(k, _)| *k == name).map(|(_, v)| percent_decode(v))
}

pub fn header_str<'a>(req: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    req.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_query() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(query_param(Some("x=1&label=a%2Db"), "label").as_deref(), Some("a-b"));
        assert_eq!(query_param(Some("label"), "label").as_deref(), Some(""));
        assert_eq!(query_param(None, "label"), None);
    }
}

#[cfg(test)]
mod tests_e2e;

//! One Stream Load attempt: ask an FE where to load, then send the body to that BE.
//!
//! The FE never reads a body and answers 307 at once, closing the socket; hyper (under reqwest)
//! does not wait for `100 Continue`, so a body sent to the FE races that close and can end as a
//! broken pipe. So the FE gets a body-less PUT (`Content-Length: 0`, `Expect: 100-continue`,
//! decided from headers alone) and the body goes only to the BE in the `Location`. The
//! redirect is followed by hand because reqwest drops `Authorization` whenever host or port
//! change, which FE :8030 → BE :8040 always does.
//!
//! TLS (https:// addresses) is rustls with certificate and host name verification always on:
//! against the CA certificates of `starrocks.ssl.truststore.location` when set, else against the
//! Mozilla roots built into the binary (webpki-roots; the OS store is not read). A certificate
//! that does not verify fails the load at once: retrying cannot make it trusted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, EXPECT, LOCATION};
use reqwest::{StatusCode, Url};

use super::compress::Compression;
use super::request::{Headers, LoadRequest};
use super::response::{parse_load_state_name, LoadState, StreamLoadResponse, Verdict};
use crate::config::{Config, FeAddr};
use crate::error::{Error, Result};
use crate::stall::Stage;

pub struct StreamLoadClient {
    http: reqwest::Client,
    fe: Vec<FeAddr>,
    /// The FE to ask first; moves on when one cannot be reached.
    current_fe: AtomicUsize,
    /// Authorization and Expect, built once; a load adds its own headers (`LoadRequest`).
    base: HeaderMap,
    /// The `sink.properties.*` headers as sent (compression rewritten), checked once.
    properties: Headers,
    compression: Compression,
    /// True when `starrocks.ssl.truststore.location` replaced the built-in roots.
    custom_roots: bool,
}

impl StreamLoadClient {
    pub fn new(cfg: &Config) -> Result<StreamLoadClient> {
        let mut properties = cfg.properties.clone();
        let compression = Compression::from_headers(&mut properties)?;
        let mut sent = Headers::new();
        for (k, v) in &properties {
            HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::config(format!("sink.properties.{}: not a valid HTTP header name", k)))?;
            HeaderValue::from_str(v)
                .map_err(|_| Error::config(format!("sink.properties.{}: value is not a valid HTTP header value", k)))?;
            sent.push((k.to_ascii_lowercase(), v.clone()));
        }
        let mut headers = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", cfg.username, cfg.password.as_str()));
        let mut auth = HeaderValue::from_str(&format!("Basic {}", token))
            .map_err(|_| Error::config("starrocks.username: not usable in an HTTP header"))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(EXPECT, HeaderValue::from_static("100-continue"));
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.load_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true);
        if let Some(pem) = &cfg.trusted_certificates {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_str().as_bytes())
                .map_err(|e| Error::config(format!("{}: the CA certificates are not usable PEM: {}", TRUSTSTORE_KEY, error_chain(&e))))?;
            if certs.is_empty() {
                return Err(Error::config(format!("{}: no CA certificate", TRUSTSTORE_KEY)));
            }
            // Like Kafka's ssl.truststore.location: the truststore replaces the default roots.
            builder = builder.tls_built_in_root_certs(false);
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(|e| match cfg.trusted_certificates {
            Some(_) => Error::config(format!("{}: the CA certificates are not usable: {}", TRUSTSTORE_KEY, error_chain(&e))),
            None => Error::internal(format!("cannot build the HTTP client: {}", e)),
        })?;
        Ok(StreamLoadClient {
            http,
            fe: cfg.fe.clone(),
            current_fe: AtomicUsize::new(0),
            base: headers,
            properties: sent,
            compression,
            custom_roots: cfg.trusted_certificates.is_some(),
        })
    }

    /// Compresses a body as `sink.properties.compression` asks (once per load; retries resend it).
    pub fn compress(&self, body: Bytes) -> Result<Bytes> {
        self.compression.apply(body)
    }

    /// The `sink.properties.*` headers as sent (compression rewritten), without Authorization
    /// and Expect: what a sink's loads carry besides their label and table.
    pub fn load_headers(&self) -> Headers {
        self.properties.clone()
    }

    /// What every attempt of a load sends: Authorization, Expect, the label and `headers`
    /// (checked when they were made). Built once per load (`retry.rs`) and handed to each `load`:
    /// nothing in it changes between attempts.
    pub fn request_headers(&self, label: &str, headers: &Headers) -> std::result::Result<HeaderMap, Verdict> {
        let mut map = HeaderMap::with_capacity(headers.len() + 3);
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| Verdict::Fatal(format!("'{}' is not a header name", k)))?;
            let value = HeaderValue::from_str(v).map_err(|_| Verdict::Fatal(format!("header {}: not a header value", k)))?;
            map.insert(name, value);
        }
        // the credentials and Expect win over a `sink.properties.*` of the same name
        for (k, v) in &self.base {
            map.insert(k.clone(), v.clone());
        }
        let label = HeaderValue::from_str(label).map_err(|_| Verdict::Fatal(format!("label '{}' is not a header value", label)))?;
        map.insert("label", label);
        Ok(map)
    }

    fn fe(&self) -> &FeAddr {
        &self.fe[self.current_fe.load(Ordering::Relaxed) % self.fe.len()]
    }

    fn next_fe(&self) {
        self.current_fe.fetch_add(1, Ordering::Relaxed);
    }

    fn url(&self, fe: &FeAddr, segments: &[&str]) -> Result<Url> {
        let mut url = Url::parse(&fe.base_url())
            .map_err(|e| Error::config(format!("starrocks.http.url: '{}': {}", fe.host_port, e)))?;
        url.path_segments_mut()
            .map_err(|_| Error::config(format!("starrocks.http.url: '{}' cannot take a path", fe.host_port)))?
            .extend(segments);
        Ok(url)
    }

    /// One attempt at `request`, with `headers` (`request_headers` of the request) and `body`
    /// (the request's, compressed). `Err` carries a verdict for failures that produced no Stream
    /// Load answer (network, FE refusal, HTTP errors).
    /// `stage` hears what the attempt waits for (the watchdog names it when the load stalls).
    pub async fn load(&self, request: &LoadRequest, headers: &HeaderMap, body: Bytes, stage: &Stage) -> std::result::Result<StreamLoadResponse, Verdict> {
        let (db, table, label) = (request.target.database.as_str(), request.target.table.as_str(), request.label.as_str());
        let fe = self.fe().clone();
        let fe_url = self.url(&fe, &["api", db, table, "_stream_load"]).map_err(|e| Verdict::Fatal(e.message))?;
        stage.waiting_for(|| format!("FE {} to redirect the load to a BE", fe.base_url()));

        let answer = self
            .http
            .put(fe_url.clone())
            .headers(headers.clone())
            .header(CONTENT_LENGTH, 0)
            .send()
            .await
            .map_err(|e| {
                if let Some(reason) = untrusted_certificate(&e, self.custom_roots) {
                    return Verdict::Fatal(untrusted_message("FE", &fe.base_url(), &reason));
                }
                self.next_fe();
                Verdict::Retry(format!("cannot reach FE {}: {}", fe.base_url(), error_chain(&e)))
            })?;
        let be_url = match answer.status() {
            s if s.is_redirection() => {
                let loc = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                fe_url.join(&loc).map_err(|_| Verdict::Retry(format!("FE {} redirected to an unusable Location '{}'", fe.base_url(), loc)))?
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let text = answer.text().await.unwrap_or_default();
                return Err(Verdict::Fatal(format!("FE {} refused the load ({}): {}", fe.base_url(), "HTTP 401", rest_message(&text))));
            }
            s => {
                let text = answer.text().await.unwrap_or_default();
                let msg = format!("FE {} answered HTTP {} instead of a redirect: {}", fe.base_url(), s.as_u16(), rest_message(&text));
                let fatal = text.contains("There is no 100-continue header") || text.contains("No database selected") || text.contains("No table selected");
                return Err(if fatal { Verdict::Fatal(msg) } else { Verdict::Retry(msg) });
            }
        };

        stage.waiting_for(|| format!("BE {} (the redirect of FE {}) to read the body and answer", origin(&be_url), fe.base_url()));
        let answer = self
            .http
            .put(be_url.clone())
            .headers(headers.clone())
            .body(body)
            .send()
            .await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                if let Some(reason) = untrusted_certificate(&e, self.custom_roots) {
                    let be = format!("{} (the redirect of FE {})", origin(&be_url), fe.base_url());
                    return Err(Verdict::Fatal(untrusted_message("BE", &be, &reason)));
                }
                let cause = format!("load to BE {} failed: {}", origin(&be_url), error_chain(&e));
                stage.waiting_for(|| format!("BE {} to answer a body-less probe after: {}", origin(&be_url), cause));
                return match self.explain_lost_answer(db, &be_url, label, headers.clone()).await {
                    Some(answer) => Ok(answer),
                    None => Err(Verdict::Retry(cause)),
                };
            }
        };
        let status = answer.status();
        stage.waiting_for(|| format!("BE {} to send the rest of its answer", origin(&be_url)));
        let text = answer
            .bytes()
            .await
            .map_err(|e| Verdict::Retry(format!("reading the answer of BE {} failed: {}", origin(&be_url), error_chain(&e))))?;
        if status != StatusCode::OK {
            return Err(Verdict::Retry(format!(
                "BE {} answered HTTP {}: {}",
                origin(&be_url),
                status.as_u16(),
                String::from_utf8_lossy(&text[..text.len().min(300)])
            )));
        }
        StreamLoadResponse::parse(&text).map_err(Verdict::Retry)
    }

    /// A BE that refuses a load in its header phase answers at once and closes, without reading
    /// the body; hyper sends the body without waiting for `100 Continue`, so a large body can end
    /// in a broken pipe instead of StarRocks' answer. To learn the refusal, the same request
    /// goes again without a body under a probe label (never the load's own label: an empty load
    /// must not mark it as done), and the load's label state is read. Returns the answer to act on,
    /// or `None` when the probe says nothing (plain network trouble: retry).
    async fn explain_lost_answer(&self, db: &str, be_url: &Url, label: &str, mut headers: HeaderMap) -> Option<StreamLoadResponse> {
        let probe_label = format!("{}-probe", label.chars().take(120).collect::<String>());
        headers.insert("label", HeaderValue::from_str(&probe_label).ok()?);
        let probe = self
            .http
            .put(be_url.clone())
            .headers(headers)
            .header(CONTENT_LENGTH, 0)
            .send()
            .await
            .ok()?;
        let answer = StreamLoadResponse::parse(&probe.bytes().await.ok()?).ok()?;
        let refused_before_data = answer.status == "Fail"
            && !answer.message.contains("No partitions have data")
            && !answer.message.contains("all partitions have no load data");
        if refused_before_data {
            return Some(StreamLoadResponse { label: label.to_string(), ..answer });
        }
        // The headers pass: maybe the lost answer was about this very label.
        match self.load_state(db, label).await.ok()? {
            LoadState::Finished => Some(StreamLoadResponse {
                label: label.to_string(),
                status: "Label Already Exists".into(),
                existing_job_status: Some("FINISHED".into()),
                message: format!("Label [{}] has already been used. (read through get_load_state)", label),
                ..StreamLoadResponse::default()
            }),
            _ => None,
        }
    }

    /// `GET /api/{db}/get_load_state?label=...` on the FE (following one redirect to the leader).
    pub async fn load_state(&self, db: &str, label: &str) -> std::result::Result<LoadState, String> {
        Ok(LoadState::from_name(self.load_state_raw(db, label).await?))
    }

    /// One request through an FE that either answers itself or redirects to a BE (the
    /// transaction interface does both; a one-shot Stream Load always redirects). Like `load`,
    /// the FE gets no body: a body goes only to where the FE points. Sends Authorization and
    /// `Expect` plus `headers`, never the `sink.properties.*` headers. `Err`: no answer (the
    /// request may or may not have been applied) or an HTTP error status.
    pub async fn send_via_fe(&self, put: bool, segments: &[&str], headers: &[(String, String)], body: Option<Bytes>) -> std::result::Result<Bytes, String> {
        let fe = self.fe().clone();
        let mut url = self.url(&fe, segments).map_err(|e| e.message)?;
        let mut base = self.base.clone();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("'{}' is not a header name", k))?;
            let value = HeaderValue::from_str(v).map_err(|_| format!("header {}: not a header value", k))?;
            base.insert(name, value);
        }
        let mut at_fe = true;
        for _ in 0..3 {
            let req = if put { self.http.put(url.clone()) } else { self.http.post(url.clone()) };
            let req = req.headers(base.clone());
            let req = match (&body, at_fe) {
                (Some(b), false) => req.body(b.clone()),
                _ => req.header(CONTENT_LENGTH, 0),
            };
            let answer = req.send().await.map_err(|e| {
                if at_fe {
                    self.next_fe();
                }
                format!("{} {}: {}", if at_fe { "FE" } else { "BE" }, origin(&url), error_chain(&e))
            })?;
            let status = answer.status();
            if status.is_redirection() {
                let loc = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                url = url.join(&loc).map_err(|_| format!("redirected to an unusable Location '{}'", loc))?;
                at_fe = false;
                continue;
            }
            let text = answer.bytes().await.map_err(|e| format!("reading the answer of {}: {}", origin(&url), error_chain(&e)))?;
            if status != StatusCode::OK {
                return Err(format!("{} answered HTTP {}: {}", origin(&url), status.as_u16(), rest_message(&String::from_utf8_lossy(&text))));
            }
            return Ok(text);
        }
        Err(format!("{}: too many redirects", segments.join("/")))
    }

    /// The state name `get_load_state` reports for `label` (`PREPARE` ... `VISIBLE`, `ABORTED`,
    /// `UNKNOWN`).
    pub async fn load_state_raw(&self, db: &str, label: &str) -> std::result::Result<String, String> {
        let fe = self.fe().clone();
        let mut url = self.url(&fe, &["api", db, "get_load_state"]).map_err(|e| e.message)?;
        url.query_pairs_mut().append_pair("label", label);
        for _ in 0..2 {
            let auth = self.base.get(AUTHORIZATION).cloned().expect("built in new()");
            let answer = self.http.get(url.clone()).header(AUTHORIZATION, auth).send().await.map_err(|e| {
                self.next_fe();
                format!("get_load_state on {}: {}", fe.base_url(), error_chain(&e))
            })?;
            if answer.status().is_redirection() {
                let loc = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
                url = url.join(loc).map_err(|_| format!("get_load_state redirected to '{}'", loc))?;
                continue;
            }
            let status = answer.status();
            let body = answer.bytes().await.map_err(|e| error_chain(&e))?;
            if status != StatusCode::OK {
                return Err(format!("get_load_state answered HTTP {}: {}", status.as_u16(), rest_message(&String::from_utf8_lossy(&body))));
            }
            return parse_load_state_name(&body);
        }
        Err("get_load_state: too many redirects".into())
    }

    /// The first `limit` bytes of a load's error log (`ErrorURL`), to show next to the failure.
    pub async fn error_log_excerpt(&self, error_url: &str, limit: usize) -> Option<String> {
        let text = self.http.get(error_url).timeout(Duration::from_secs(10)).send().await.ok()?.bytes().await.ok()?;
        let excerpt = String::from_utf8_lossy(&text[..text.len().min(limit)]).trim().to_string();
        Some(excerpt)
    }
}

const TRUSTSTORE_KEY: &str = "starrocks.ssl.truststore.location";

/// The rustls reason, with a hint, when `e` is a failed certificate verification (unknown
/// issuer, expired, wrong host name, ...): the server is reachable but not trusted.
fn untrusted_certificate(e: &(dyn std::error::Error + 'static), custom_roots: bool) -> Option<String> {
    let invalid = |r: &rustls::Error| -> Option<String> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        match r {
            rustls::Error::InvalidCertificate(NotValidForName | NotValidForNameContext { .. }) => Some(format!(
                "{}: address it by a name or IP the certificate is issued for",
                r
            )),
            rustls::Error::InvalidCertificate(_) if custom_roots => {
                Some(format!("{}: the truststore of {} must hold the CA certificate that signed it", r, TRUSTSTORE_KEY))
            }
            rustls::Error::InvalidCertificate(_) => Some(format!(
                "{}: checked against the built-in Mozilla roots; for a private CA set {} to a truststore holding it",
                r, TRUSTSTORE_KEY
            )),
            _ => None,
        }
    };
    let mut cur = Some(e);
    while let Some(err) = cur {
        // hyper hands rustls' error up inside io::Errors (nested twice), whose source() skips
        // the error they wrap; get_ref() reaches it.
        let mut inner: &(dyn std::error::Error + 'static) = err;
        loop {
            if let Some(r) = inner.downcast_ref::<rustls::Error>().and_then(&invalid) {
                return Some(r);
            }
            match inner.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
                Some(wrapped) => inner = wrapped,
                None => break,
            }
        }
        cur = err.source();
    }
    None
}

fn untrusted_message(role: &str, url: &str, reason: &str) -> String {
    format!("the TLS certificate of {} {} is not trusted: {}", role, url, reason)
}

/// The message of an FE REST answer (`{"status":"FAILED","msg":...}` or `{"Message":...}`), or the text.
fn rest_message(text: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        for k in ["msg", "Message", "message"] {
            if let Some(m) = v.get(k).and_then(|m| m.as_str()) {
                return m.to_string();
            }
        }
    }
    text.chars().take(300).collect()
}

fn origin(url: &Url) -> String {
    format!("{}://{}:{}", url.scheme(), url.host_str().unwrap_or("?"), url.port_or_known_default().unwrap_or(0))
}

/// reqwest's top-level message hides the cause ("error sending request"); show the chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        src = s.source();
    }
    out
}

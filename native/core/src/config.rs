//! The task configuration, parsed from the `String → String` map Connect gives the task (plus
//! `task.id`). Errors are `CONFIG` and name the key. The password is never printed: the Debug
//! impl redacts it. `sink.properties.<k>` become Stream Load headers `<k>`; `format` defaults
//! to `json`.
//!
//! TLS: the shim reads `starrocks.ssl.truststore.*` (PEM, JKS or PKCS12, with its password) and
//! passes the CA certificates as PEM under [`TRUSTED_PEM_KEY`]; the core never sees a keystore
//! and keeps no truststore password.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::route::{Router, Target};
use crate::rows::zone::Zone;

/// Where the shim puts the CA certificates of `starrocks.ssl.truststore.location`, as PEM.
pub const TRUSTED_PEM_KEY: &str = "__starrocks.ssl.truststore.pem";

/// One FE HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeAddr {
    pub https: bool,
    pub host_port: String,
}

impl FeAddr {
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.https { "https" } else { "http" }, self.host_port)
    }
}

#[derive(Clone)]
pub struct Config {
    pub name: String,
    pub task_id: String,
    pub fe: Vec<FeAddr>,
    pub database: String,
    pub username: String,
    pub password: String,
    pub router: Router,
    pub flush_max_bytes: u64,
    pub flush_interval: Duration,
    pub connect_timeout: Duration,
    pub max_retries: u32,
    pub retry_backoff: Duration,
    pub load_timeout: Duration,
    pub label_prefix: String,
    /// `sink.timezone`: where Connect timestamps become wall-clock DATETIMEs (UTC by default).
    pub zone: Zone,
    /// Connect's `errors.tolerance=all`: rows StarRocks rejects and records Rust cannot
    /// serialize go back to the task for the errant-record reporter instead of failing it.
    pub tolerate_errors: bool,
    /// `testing.panic.on.put`: an undocumented failpoint for the JNI tests.
    pub panic_on_put: bool,
    /// Stream Load headers from `sink.properties.*` (sorted, names as given).
    pub properties: BTreeMap<String, String>,
    /// The CA certificates (PEM) that https:// addresses are verified against instead of the
    /// built-in Mozilla roots; `None`: the built-in roots.
    pub trusted_pem: Option<String>,
    /// `delivery.guarantee=exactly_once`; `None`: at-least-once (the default).
    pub exactly_once: Option<ExactlyOnceConfig>,
}

/// The keys of `delivery.guarantee=exactly_once` (docs/exactly-once.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactlyOnceConfig {
    /// `starrocks.query.address`: the FE's MySQL query port (default: first FE host, port 9030).
    pub query_host: String,
    pub query_port: u16,
    /// `exactly.once.register.table`, in `starrocks.database.name`.
    pub register_table: String,
    /// `exactly.once.register.create`.
    pub create_register: bool,
    /// `exactly.once.offset.column`: every row also carries its Kafka offset in this column, and
    /// loads send `merge_condition` on it.
    pub offset_column: Option<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("name", &self.name)
            .field("task_id", &self.task_id)
            .field("fe", &self.fe)
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("router", &self.router)
            .field("flush_max_bytes", &self.flush_max_bytes)
            .field("flush_interval", &self.flush_interval)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("load_timeout", &self.load_timeout)
            .field("label_prefix", &self.label_prefix)
            .field("zone", &self.zone)
            .field("properties", &self.properties)
            .field("exactly_once", &self.exactly_once)
            .field(
                "trusted_certificates",
                &self.trusted_pem.as_ref().map(|p| p.matches("-----BEGIN CERTIFICATE-----").count()),
            )
            .finish()
    }
}

impl Config {
    pub fn parse(m: &HashMap<String, String>) -> Result<Config> {
        let get = |k: &str| m.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let req = |k: &str| get(k).map(str::to_string).ok_or_else(|| Error::config(format!("{} is required", k)));
        let num = |k: &str, default: u64, min: u64| -> Result<u64> {
            match get(k) {
                None => Ok(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n >= min => Ok(n),
                    _ => Err(Error::config(format!("{}: '{}' is not an integer >= {}", k, v, min))),
                },
            }
        };
        let name = get("name").unwrap_or("starrocks-sink").to_string();
        let fe = parse_fe_list(&req("starrocks.http.url")?)?;
        let mut properties = BTreeMap::new();
        for (k, v) in m {
            if let Some(h) = k.strip_prefix("sink.properties.") {
                if h.is_empty() {
                    return Err(Error::config("sink.properties.: empty header name"));
                }
                properties.insert(h.to_string(), v.clone());
            }
        }
        if !properties.keys().any(|k| k.eq_ignore_ascii_case("format")) {
            properties.insert("format".to_string(), "json".to_string());
        }
        let label_prefix = match get("sink.label.prefix") {
            Some(p) if !p.is_empty() => {
                if !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || p.len() > LABEL_PREFIX_MAX {
                    return Err(Error::config(format!(
                        "sink.label.prefix: '{}' must be at most {} characters of [-A-Za-z0-9_]",
                        p, LABEL_PREFIX_MAX
                    )));
                }
                p.to_string()
            }
            // empty, as the shim's ConfigDef default, or unset: the connector name
            _ => sanitize_label_part(&name, LABEL_PREFIX_MAX),
        };
        let zone = match get("sink.timezone") {
            None => Zone::UTC,
            Some(z) => Zone::parse(z)
                .ok_or_else(|| Error::config(format!("sink.timezone: '{}' is not an IANA time zone such as UTC or Asia/Shanghai", z)))?,
        };
        let database = req("starrocks.database.name")?;
        let router = Router::parse(m.get("starrocks.topic2table.map").map(String::as_str).unwrap_or(""))?;
        let exactly_once = parse_delivery(&get, &fe, &database, &router, &properties)?;
        Ok(Config {
            exactly_once,
            panic_on_put: get("testing.panic.on.put") == Some("true"),
            tolerate_errors: get("errors.tolerance").map_or(false, |v| v.eq_ignore_ascii_case("all")),
            zone,
            task_id: get("task.id").unwrap_or("0").to_string(),
            fe,
            database,
            username: req("starrocks.username")?,
            // may be empty; not trimmed
            password: m.get("starrocks.password").cloned().unwrap_or_default(),
            router,
            // `testing.bufferflush.maxbytes`: an undocumented override below the 64 MB minimum the
            // shim's ConfigDef enforces, for the memory tests through a real worker.
            flush_max_bytes: match get("testing.bufferflush.maxbytes") {
                Some(_) => num("testing.bufferflush.maxbytes", 94_371_840, 1)?,
                None => num("bufferflush.maxbytes", 94_371_840, 1)?,
            },
            flush_interval: Duration::from_millis(num("bufferflush.intervalms", 1000, 1)?),
            connect_timeout: Duration::from_millis(num("connect.timeoutms", 1000, 1)?),
            max_retries: num("sink.maxretries", 3, 0)?.min(u32::MAX as u64) as u32,
            retry_backoff: Duration::from_millis(num("sink.retry.backoffms", 1000, 0)?),
            load_timeout: Duration::from_millis(num("sink.timeoutms", 120_000, 1)?),
            label_prefix,
            properties,
            trusted_pem: get(TRUSTED_PEM_KEY).map(str::to_string),
            name,
        })
    }
}

/// `delivery.guarantee` and, for `exactly_once`, its keys and refusals: every target table in
/// the connector's database (one transaction commits them all, and StarRocks' multi-table
/// transactions stay within one database), and no `max_filter_ratio` above 0 (a filtered row
/// would be skipped silently yet count as delivered).
fn parse_delivery<'a>(
    get: &dyn Fn(&str) -> Option<&'a str>,
    fe: &[FeAddr],
    database: &str,
    router: &Router,
    properties: &BTreeMap<String, String>,
) -> Result<Option<ExactlyOnceConfig>> {
    let offset_column = get("exactly.once.offset.column").map(str::to_string);
    match get("delivery.guarantee").map(str::to_ascii_lowercase).as_deref() {
        None | Some("at_least_once") => {
            if offset_column.is_some() {
                return Err(Error::config("exactly.once.offset.column: only used with delivery.guarantee=exactly_once"));
            }
            return Ok(None);
        }
        Some("exactly_once") => {}
        Some(other) => {
            return Err(Error::config(format!("delivery.guarantee: '{}' is neither at_least_once nor exactly_once", other)))
        }
    }
    for table in router.tables() {
        if Target::parts(database, table).0 != database {
            return Err(Error::config(format!(
                "starrocks.topic2table.map: target '{}' is not in {}; delivery.guarantee=exactly_once commits all tables \
                 of a flush in one transaction, which StarRocks allows only within one database",
                table, database
            )));
        }
    }
    if let Some((_, v)) = properties.iter().find(|(k, _)| k.eq_ignore_ascii_case("max_filter_ratio")) {
        if v.trim().parse::<f64>().map_or(true, |r| r != 0.0) {
            return Err(Error::config(format!(
                "delivery.guarantee: exactly_once does not allow sink.properties.max_filter_ratio={} (rows StarRocks \
                 filtered would count as delivered); use errors.tolerance=all to send bad records to the DLQ",
                v
            )));
        }
    }
    let (query_host, query_port) = match get("starrocks.query.address") {
        Some(a) => {
            let parsed = a.rsplit_once(':').and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?))).filter(|(h, p)| !h.is_empty() && *p > 0);
            let (h, p) = parsed.ok_or_else(|| Error::config(format!("starrocks.query.address: '{}' is not host:port", a)))?;
            (h.to_string(), p)
        }
        None => {
            let first = &fe[0].host_port;
            (first.rsplit_once(':').map_or(first.as_str(), |(h, _)| h).to_string(), 9030)
        }
    };
    let register_table = get("exactly.once.register.table").unwrap_or("kafka_connect_register").to_string();
    if register_table.len() > 64 || !register_table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::config(format!("exactly.once.register.table: '{}' must match [A-Za-z0-9_]{{1,64}}", register_table)));
    }
    if let Some(c) = &offset_column {
        let ok = c.len() <= 64
            && c.chars().next().map_or(false, |f| f.is_ascii_alphabetic() || f == '_')
            && c.chars().all(|x| x.is_ascii_alphanumeric() || x == '_');
        if !ok {
            return Err(Error::config(format!("exactly.once.offset.column: '{}' must match [A-Za-z_][A-Za-z0-9_]{{0,63}}", c)));
        }
    }
    let create_register = match get("exactly.once.register.create").map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(v) => return Err(Error::config(format!("exactly.once.register.create: '{}' is neither true nor false", v))),
    };
    Ok(Some(ExactlyOnceConfig {
        // `[::1]` in a URL, `::1` on a socket
        query_host: query_host.trim_start_matches('[').trim_end_matches(']').to_string(),
        query_port,
        register_table,
        create_register,
        offset_column,
    }))
}

/// Parses `host:port[,host:port...]`, each optionally prefixed by `http://` or `https://`.
pub fn parse_fe_list(s: &str) -> Result<Vec<FeAddr>> {
    let mut out = Vec::new();
    for raw in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (https, rest) = if let Some(r) = raw.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = raw.strip_prefix("http://") {
            (false, r)
        } else if raw.contains("://") {
            return Err(Error::config(format!("starrocks.http.url: unsupported scheme in '{}'", raw)));
        } else {
            (false, raw)
        };
        let rest = rest.trim_end_matches('/');
        let ok = match rest.rsplit_once(':') {
            Some((h, p)) => !h.is_empty() && !h.contains('/') && p.parse::<u16>().is_ok(),
            None => false,
        };
        if !ok {
            return Err(Error::config(format!("starrocks.http.url: '{}' is not host:port", raw)));
        }
        out.push(FeAddr { https, host_port: rest.to_string() });
    }
    if out.is_empty() {
        return Err(Error::config("starrocks.http.url: no FE address"));
    }
    Ok(out)
}

/// The width a label keeps of its prefix (stream_load/label.rs), so a valid prefix is never cut;
/// the shim's `StarRocksSinkConfig.LABEL_PREFIX_MAX` is the same (tests/vectors/label_prefix.json).
pub const LABEL_PREFIX_MAX: usize = 32;

/// Keeps `[-_A-Za-z0-9]`, replaces anything else by `_`, cuts to `max` characters.
pub fn sanitize_label_part(s: &str, max: usize) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(max)
        .collect();
    if out.is_empty() { "sink".to_string() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HashMap<String, String> {
        [
            ("name", "my connector.v1"),
            ("task.id", "2"),
            ("starrocks.http.url", "fe1:8030, https://fe2:8443/"),
            ("starrocks.database.name", "d"),
            ("starrocks.username", "root"),
            ("starrocks.password", "s3cret"),
            ("starrocks.topic2table.map", "a:ta"),
            ("sink.properties.strip_outer_array", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn parses_defaults_and_values() {
        let c = Config::parse(&base()).unwrap();
        assert_eq!(c.fe[0], FeAddr { https: false, host_port: "fe1:8030".into() });
        assert_eq!(c.fe[1].base_url(), "https://fe2:8443");
        assert_eq!(c.flush_max_bytes, 94_371_840);
        assert_eq!(c.flush_interval, Duration::from_millis(1000));
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.load_timeout, Duration::from_millis(120_000));
        assert_eq!(c.label_prefix, "my_connector_v1");
        assert_eq!(c.properties.get("format").map(String::as_str), Some("json"));
        assert_eq!(c.properties.get("strip_outer_array").map(String::as_str), Some("false"));
        assert_eq!(c.router.table("a"), "ta");
        assert_eq!(c.task_id, "2");
    }

    #[test]
    fn exactly_once_keys_and_refusals() {
        assert_eq!(Config::parse(&base()).unwrap().exactly_once, None);
        let mut m = base();
        m.insert("delivery.guarantee".into(), "EXACTLY_ONCE".into());
        m.insert("starrocks.topic2table.map".into(), "a:d.ta,b:tb".into());
        let eo = Config::parse(&m).unwrap().exactly_once.unwrap();
        assert_eq!((eo.query_host.as_str(), eo.query_port), ("fe1", 9030));
        assert_eq!(eo.register_table, "kafka_connect_register");
        assert!(eo.create_register);
        assert_eq!(eo.offset_column, None);
        m.insert("starrocks.query.address".into(), "[::1]:19030".into());
        m.insert("exactly.once.offset.column".into(), "kafka_offset".into());
        m.insert("exactly.once.register.create".into(), "false".into());
        m.insert("sink.properties.max_filter_ratio".into(), "0".into());
        let eo = Config::parse(&m).unwrap().exactly_once.unwrap();
        assert_eq!((eo.query_host.as_str(), eo.query_port), ("::1", 19030));
        assert_eq!(eo.offset_column.as_deref(), Some("kafka_offset"));
        assert!(!eo.create_register);
        m.insert("sink.properties.max_filter_ratio".into(), "0.1".into());
        let e = Config::parse(&m).unwrap_err();
        assert!(e.message.starts_with("delivery.guarantee") && e.message.contains("max_filter_ratio"), "{}", e.message);
        let mut m = base();
        m.insert("exactly.once.offset.column".into(), "kafka_offset".into());
        assert!(Config::parse(&m).unwrap_err().message.starts_with("exactly.once.offset.column"));
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = Config::parse(&base()).unwrap();
        let d = format!("{:?}", c);
        assert!(!d.contains("s3cret"), "{}", d);
        assert!(d.contains("<redacted>"));
    }

    #[test]
    fn trusted_certificates_come_as_pem_and_are_not_printed() {
        let mut m = base();
        m.insert("starrocks.ssl.truststore.password".into(), "trust-pw".into());
        assert_eq!(Config::parse(&m).unwrap().trusted_pem, None);
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        m.insert(TRUSTED_PEM_KEY.into(), pem.into());
        let c = Config::parse(&m).unwrap();
        assert_eq!(c.trusted_pem.as_deref(), Some(pem.trim()));
        let d = format!("{:?}", c);
        assert!(d.contains("trusted_certificates: Some(1)"), "{}", d);
        assert!(!d.contains("trust-pw") && !d.contains("MIIB"), "{}", d);
    }

    /// The rule of tests/vectors/label_prefix.json, which the shim's ConfigDef applies too.
    #[test]
    fn label_prefix_follows_the_shared_rule() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/label_prefix.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(v["max"].as_u64(), Some(LABEL_PREFIX_MAX as u64));
        for ok in v["valid"].as_array().unwrap() {
            let mut m = base();
            m.insert("sink.label.prefix".into(), ok.as_str().unwrap().into());
            let c = Config::parse(&m).unwrap_or_else(|e| panic!("{:?}: {}", ok, e.message));
            let want = if ok.as_str().unwrap().is_empty() { sanitize_label_part(&m["name"], LABEL_PREFIX_MAX) } else { ok.as_str().unwrap().to_string() };
            assert_eq!(c.label_prefix, want);
        }
        for bad in v["invalid"].as_array().unwrap() {
            let mut m = base();
            m.insert("sink.label.prefix".into(), bad.as_str().unwrap().into());
            let e = Config::parse(&m).unwrap_err();
            assert!(e.message.starts_with("sink.label.prefix"), "{:?}: {}", bad, e.message);
        }
    }

    #[test]
    fn errors_name_the_key() {
        for (k, v) in [
            ("bufferflush.maxbytes", "lots"),
            ("sink.maxretries", "-1"),
            ("starrocks.http.url", "fe1"),
            ("starrocks.http.url", "ftp://fe1:1"),
            ("sink.label.prefix", "bad prefix"),
            ("sink.timezone", "Mars/Olympus"),
        ] {
            let mut m = base();
            m.insert(k.into(), v.into());
            let e = Config::parse(&m).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Config);
            assert!(e.message.starts_with(k), "{} -> {}", k, e.message);
        }
        for (k, v) in [
            ("starrocks.topic2table.map", "a:other.ta"),
            ("delivery.guarantee", "sometimes"),
            ("starrocks.query.address", "fe1"),
            ("exactly.once.register.table", "bad-name"),
            ("exactly.once.offset.column", "1col"),
            ("exactly.once.register.create", "maybe"),
        ] {
            let mut m = base();
            m.insert("delivery.guarantee".into(), "exactly_once".into());
            m.insert(k.into(), v.into());
            let e = Config::parse(&m).unwrap_err();
            assert!(e.message.starts_with(k), "{} -> {}", k, e.message);
        }
        let mut m = base();
        m.remove("starrocks.database.name");
        assert!(Config::parse(&m).unwrap_err().message.contains("starrocks.database.name"));
    }
}

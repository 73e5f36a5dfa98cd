//! The task configuration, as the shim hands it over: one JSON document
//! (tests/vectors/native_config.json) that `StarRocksSinkConfig` writes after Connect's ConfigDef
//! validated every key, applied its defaults and resolved what derives from other keys (the label
//! prefix from the connector name, the query address from the first FE, ...). The shim owns the
//! schema (docs/architecture.md, "One config schema"); the core parses and defaults nothing:
//! `Config` itself is the document's serde type, each field renamed to the Connect key it comes
//! from, every field required (an `Option` through `nullable`, so `null` is `None` but a missing
//! field still fails) and none unknown, so a field on one side only fails the task as the shim's
//! bug. Adding a key is one field here (with its `#[serde(...)]`) plus the code that uses it.
//!
//! Only two things are resolved after serde: the time zone (`zone`, from `sink.timezone`: an
//! unknown name is the user's CONFIG error, not the shim's) and `exactly_once`, gathered from the
//! raw exactly-once fields. The password is a [`Secret`], never printed; the truststore's
//! certificates print as their count. `sink.properties` are the Stream Load headers; TLS arrives
//! as the truststore's CA certificates in PEM, so the core never sees a keystore or its password.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};
use crate::route::Router;
use crate::rows::zone::Zone;

/// One FE HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeAddr {
    pub https: bool,
    pub host_port: String,
}

impl FeAddr {
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.https { "https" } else { "http" }, self.host_port)
    }
}

/// The document as the shim writes it (`StarRocksSinkConfig.nativeConfig`), read by
/// [`Config::from_document`]; serde names are the Connect keys the fields come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub name: String,
    #[serde(rename = "task.id")]
    pub task_id: String,
    #[serde(rename = "starrocks.http.url")]
    pub fe: Vec<FeAddr>,
    #[serde(rename = "starrocks.database.name")]
    pub database: String,
    #[serde(rename = "starrocks.username")]
    pub username: String,
    #[serde(rename = "starrocks.password")]
    pub password: Secret,
    /// `starrocks.topic2table.map`, an object topic → table.
    #[serde(rename = "starrocks.topic2table.map", deserialize_with = "router")]
    pub router: Router,
    #[serde(rename = "bufferflush.maxbytes")]
    pub flush_max_bytes: u64,
    #[serde(rename = "bufferflush.intervalms", deserialize_with = "millis")]
    pub flush_interval: Duration,
    #[serde(rename = "connect.timeoutms", deserialize_with = "millis")]
    pub connect_timeout: Duration,
    #[serde(rename = "sink.maxretries")]
    pub max_retries: u32,
    #[serde(rename = "sink.retry.backoffms", deserialize_with = "millis")]
    pub retry_backoff: Duration,
    #[serde(rename = "sink.timeoutms", deserialize_with = "millis")]
    pub load_timeout: Duration,
    /// `sink.stall.timeoutms`: how long records may wait while no load (flush) succeeds before
    /// the task fails (`stall.rs`).
    #[serde(rename = "sink.stall.timeoutms", deserialize_with = "millis")]
    pub stall_timeout: Duration,
    /// `sink.inflight.maxloads`: the most loads (running transactions) a task has at once (the
    /// shim's ConfigDef holds it to 1..1000).
    #[serde(rename = "sink.inflight.maxloads")]
    pub max_inflight_loads: usize,
    /// `sink.transaction.multi-table.enabled` (at-least-once, StarRocks 4.0+): a flush commits
    /// every due table of one database in one multi-table transaction (`multi_table.rs`). The
    /// shim refuses it with exactly_once, which commits that way anyway.
    #[serde(rename = "sink.transaction.multi-table.enabled")]
    pub multi_table: bool,
    #[serde(rename = "sink.label.prefix")]
    pub label_prefix: String,
    /// `sink.timezone` as the shim wrote it; `zone` is what it names.
    #[serde(rename = "sink.timezone")]
    pub timezone: String,
    /// Where Connect timestamps become wall-clock DATETIMEs (UTC by default): `timezone`,
    /// resolved by `from_document`.
    #[serde(skip, default = "utc")]
    pub zone: Zone,
    /// Connect's `errors.tolerance=all`: rows StarRocks rejects and records Rust cannot
    /// serialize go back to the task for the errant-record reporter instead of failing it.
    #[serde(rename = "errors.tolerance", deserialize_with = "tolerance")]
    pub tolerate_errors: bool,
    /// `testing.panic.on.put`: an undocumented failpoint for the JNI tests.
    #[serde(rename = "testing.panic.on.put")]
    pub panic_on_put: bool,
    /// Stream Load headers from `sink.properties.*` (sorted, names as given).
    #[serde(rename = "sink.properties")]
    pub properties: BTreeMap<String, String>,
    /// The CA certificates (PEM) that https:// addresses are verified against instead of the
    /// built-in Mozilla roots; `None`: the built-in roots.
    #[serde(rename = "starrocks.ssl.truststore.pem", deserialize_with = "nullable")]
    pub trusted_certificates: Option<Pem>,
    /// `delivery.guarantee=exactly_once`; `None`: at-least-once (the default). Gathered by
    /// `from_document` from the raw fields below.
    #[serde(skip)]
    pub exactly_once: Option<ExactlyOnceConfig>,
    #[serde(rename = "delivery.guarantee")]
    delivery: Delivery,
    /// `starrocks.query.address`: the FE's MySQL query port (default: first FE host, port 9030).
    #[serde(rename = "starrocks.query.address")]
    pub query_address: QueryAddress,
    /// `auto.create`: create a missing table from the record's schema (`schema::guard`).
    #[serde(rename = "auto.create")]
    pub auto_create: bool,
    /// `auto.evolve`: add a column for a field its table lacks.
    #[serde(rename = "auto.evolve")]
    pub auto_evolve: bool,
    /// `pk.mode`: the key of a created table.
    #[serde(rename = "pk.mode")]
    pub pk_mode: PkMode,
    /// `pk.fields`: the key columns (`record_value`), or the name of a primitive key's column.
    #[serde(rename = "pk.fields")]
    pub pk_fields: Vec<String>,
    /// `auto.create.buckets`: 0 lets StarRocks choose.
    #[serde(rename = "auto.create.buckets")]
    pub auto_create_buckets: u32,
    /// `auto.create.properties.*`: the PROPERTIES of a created table (sorted, names as given).
    #[serde(rename = "auto.create.properties")]
    pub auto_create_properties: BTreeMap<String, String>,
    #[serde(rename = "exactly.once.register.table")]
    register_table: String,
    #[serde(rename = "exactly.once.register.create")]
    create_register: bool,
    #[serde(rename = "exactly.once.offset.column", deserialize_with = "nullable")]
    offset_column: Option<String>,
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

/// A value that is never printed: Debug shows `<redacted>`, and there is no Display.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// CA certificates in PEM; Debug shows how many there are, not the text.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Pem(String);

impl Pem {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.matches("-----BEGIN CERTIFICATE-----").count())
    }
}

/// An `Option` field that must be present (as `null` when unset): serde would take a missing
/// `Option` as `None`, and a field the shim forgot must fail instead.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// A duration given in milliseconds.
fn millis<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

/// The topic map, an object topic → table.
fn router<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Router, D::Error> {
    HashMap::<String, String>::deserialize(d).map(Router::new)
}

/// `errors.tolerance`: `all` or `none`.
fn tolerance<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Tolerance {
        None,
        All,
    }
    Tolerance::deserialize(d).map(|t| t == Tolerance::All)
}

/// Replaced by `from_document`.
fn utc() -> Zone {
    Zone::UTC
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Delivery {
    AtLeastOnce,
    ExactlyOnce,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryAddress {
    pub host: String,
    pub port: u16,
}

/// `pk.mode`, with Confluent's JDBC sink's names and meanings (docs/schemas.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PkMode {
    /// A Duplicate Key table (Debezium rows still key on the Debezium key).
    None,
    /// A Primary Key table on the record key's fields (a primitive key: the column `pk.fields` names).
    RecordKey,
    /// A Primary Key table on the value fields `pk.fields` names.
    RecordValue,
}

impl Config {
    /// Reads the shim's document. It was validated and defaulted by the shim's ConfigDef, so a
    /// document this cannot read is the shim's bug (`INTERNAL`), never the user's.
    pub fn from_document(json: &str) -> Result<Config> {
        let mut c: Config = serde_json::from_str(json)
            .map_err(|e| Error::internal(format!("the shim's config document does not fit the native sink: {}", e)))?;
        // The shim checks the name against the JVM's zone database; the core's (chrono-tz) may be
        // of another release, so a zone can still be unknown here: the user's to fix.
        c.zone = Zone::parse(&c.timezone)
            .ok_or_else(|| Error::config(format!("sink.timezone: '{}' is not in the native sink's time zone database", c.timezone)))?;
        c.exactly_once = match c.delivery {
            Delivery::AtLeastOnce => None,
            Delivery::ExactlyOnce => Some(ExactlyOnceConfig {
                query_host: c.query_address.host.clone(),
                query_port: c.query_address.port,
                register_table: c.register_table.clone(),
                create_register: c.create_register,
                offset_column: c.offset_column.clone(),
            }),
        };
        Ok(c)
    }
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

    fn vector() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/native_config.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn document() -> serde_json::Value {
        vector()["document"].clone()
    }

    fn read(d: &serde_json::Value) -> Result<Config> {
        Config::from_document(&d.to_string())
    }

    /// The shim's side of this vector is java-shim NativeConfigTest: a field the shim writes
    /// that the core does not read, or one the core needs that the shim does not write, fails
    /// one of the two.
    #[test]
    fn reads_the_document_the_shim_writes() {
        let c = read(&document()).unwrap();
        assert_eq!(c.name, "vector sink.v1");
        assert_eq!(c.task_id, "2");
        assert_eq!(c.fe[0], FeAddr { https: false, host_port: "fe1:8030".into() });
        assert_eq!(c.fe[1].base_url(), "https://fe2:8443");
        assert_eq!((c.database.as_str(), c.username.as_str(), c.password.as_str()), ("d", "root", "s3cret"));
        assert_eq!((c.router.table("a"), c.router.table("b"), c.router.table("c")), ("ta", "other.tb", "c"));
        assert_eq!(c.flush_max_bytes, 94_371_840);
        assert_eq!(c.flush_interval, Duration::from_millis(1000));
        assert_eq!(c.connect_timeout, Duration::from_millis(1000));
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.retry_backoff, Duration::from_millis(1000));
        assert_eq!(c.load_timeout, Duration::from_millis(120_000));
        assert_eq!(c.stall_timeout, Duration::from_millis(1_800_000));
        assert!(!c.multi_table);
        assert_eq!(c.label_prefix, "vector_sink_v1");
        assert_eq!(c.zone, Zone::UTC);
        assert_eq!(c.properties.get("format").map(String::as_str), Some("json"));
        assert_eq!(c.properties.get("Columns").map(String::as_str), Some("id,city"));
        assert!(!c.tolerate_errors && !c.panic_on_put);
        assert_eq!(c.exactly_once, None);
        assert_eq!(c.trusted_certificates, None);
    }

    #[test]
    fn a_field_on_one_side_only_is_refused() {
        let fields = document().as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        for f in &fields {
            let mut d = document();
            d.as_object_mut().unwrap().remove(f);
            let e = read(&d).err().unwrap_or_else(|| panic!("a document without {} was read", f));
            assert_eq!(e.kind, crate::ErrorKind::Internal);
            assert!(e.message.contains(f.as_str()), "{}: {}", f, e.message);
        }
        let mut d = document();
        d["sink.new.key"] = serde_json::json!(1);
        let e = read(&d).unwrap_err();
        assert!(e.message.contains("sink.new.key"), "{}", e.message);
    }

    #[test]
    fn exactly_once_takes_its_fields() {
        let mut d = document();
        d["delivery.guarantee"] = "exactly_once".into();
        d["starrocks.query.address"] = serde_json::json!({"host": "::1", "port": 19030});
        d["exactly.once.offset.column"] = "kafka_offset".into();
        d["exactly.once.register.create"] = false.into();
        d["errors.tolerance"] = "all".into();
        let c = read(&d).unwrap();
        let eo = c.exactly_once.unwrap();
        assert_eq!((eo.query_host.as_str(), eo.query_port), ("::1", 19030));
        assert_eq!(eo.register_table, "kafka_connect_register");
        assert_eq!(eo.offset_column.as_deref(), Some("kafka_offset"));
        assert!(!eo.create_register && c.tolerate_errors);
        d["delivery.guarantee"] = "sometimes".into();
        assert!(read(&d).unwrap_err().message.contains("sometimes"));
    }

    /// The zone is resolved after serde: a name the core's database lacks is the user's CONFIG
    /// error naming the key, not the shim's INTERNAL one; the resolved fields are not the document's.
    #[test]
    fn the_time_zone_is_resolved_after_reading() {
        let mut d = document();
        d["sink.timezone"] = "Asia/Shanghai".into();
        let c = read(&d).unwrap();
        assert_eq!((c.timezone.as_str(), Some(c.zone)), ("Asia/Shanghai", Zone::parse("Asia/Shanghai")));
        assert_ne!(c.zone, Zone::UTC);
        d["sink.timezone"] = "Mars/Olympus".into();
        let e = read(&d).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Config);
        assert!(e.message.contains("sink.timezone") && e.message.contains("Mars/Olympus"), "{}", e.message);
        for resolved in ["zone", "exactly_once"] {
            let mut d = document();
            d[resolved] = serde_json::json!(null);
            let e = read(&d).unwrap_err();
            assert!(e.kind == crate::ErrorKind::Internal && e.message.contains(resolved), "{}", e.message);
        }
    }

    /// The shim validates and resolves the prefix to this width (tests/vectors/label_prefix.json);
    /// a label keeps this much of it, so a valid prefix is never cut.
    #[test]
    fn the_label_prefix_width_is_the_shims() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/label_prefix.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(v["max"].as_u64(), Some(LABEL_PREFIX_MAX as u64));
        for ok in v["valid"].as_array().unwrap().iter().filter_map(|p| p.as_str()).filter(|p| !p.is_empty()) {
            assert_eq!(sanitize_label_part(ok, LABEL_PREFIX_MAX), ok);
        }
    }

    #[test]
    fn debug_redacts_the_password_and_the_certificates() {
        let mut d = document();
        d["starrocks.ssl.truststore.pem"] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into();
        let c = read(&d).unwrap();
        let shown = format!("{:?}", c);
        assert!(!shown.contains("s3cret") && shown.contains("<redacted>"), "{}", shown);
        assert!(shown.contains("trusted_certificates: Some(1)") && !shown.contains("MIIB"), "{}", shown);
    }
}

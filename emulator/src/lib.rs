//! StarRocks 3.x/4.0 one-FE/one-BE emulator — library API: start the FE/BE HTTP listeners and the
//! MySQL query port over one catalog, and stop them.

pub mod auth;
pub mod clock;
pub mod error_log;
pub mod faults;
pub mod http;
pub mod labels;
pub mod load;
#[cfg(test)]
pub mod mem_store;
pub mod txn_core;

use std::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use starrocks_emulator_store::model::Store;
pub use starrocks_emulator_store::model::QueryResult;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use http::TlsPem;
pub use txn_core::{CommitReport, CoreOptions, LoadReport, TxnCore, TxnError, TxnState};

/// The StarRocks version the emulator claims by default (`--starrocks-version`).
pub const DEFAULT_STARROCKS_VERSION: &str = "4.0.0";

/// Whether a StarRocks version has multi-table transactions (4.0 and later). An unparsable
/// version counts as new.
pub fn supports_multi_table_txn(version: &str) -> bool {
    let major = version.trim().split(|c: char| !c.is_ascii_digit()).next().and_then(|m| m.parse::<u32>().ok());
    major.map(|m| m >= 4).unwrap_or(true)
}
use http::{Limits, Role, Shared};

pub struct EmulatorConfig {
    pub host: String,
    pub fe_http_port: u16,
    pub be_http_port: u16,
    pub query_port: u16,
    pub root_password: String,
    pub data_dir: Option<PathBuf>,
    /// Finished transactions are forgotten after this many seconds (StarRocks: 3 days).
    pub label_keep_max_second: f64,
    /// ... or when a database holds more than this many (StarRocks: 1000).
    pub label_keep_max_num: usize,
    pub limits: Limits,
    /// HTTPS instead of HTTP on both the FE and the BE HTTP port.
    pub tls: Option<TlsPem>,
    /// Milliseconds between COMMITTED and VISIBLE for multi-table transactions; the rows are
    /// applied (queryable) at VISIBLE.
    pub publish_delay_ms: u64,
    /// Milliseconds from `ALTER TABLE ... ADD/MODIFY COLUMN` to its job's FINISHED (the new
    /// schema becomes visible then); 0 finishes inside the ALTER, as fast schema evolution does.
    pub schema_change_delay_ms: u64,
    /// The version reported by `current_version()`; below 4.0 the FE ignores
    /// `transaction_type` as a 3.x FE does.
    pub starrocks_version: String,
    /// The clock of every transaction time (timeouts, publish delay, label retention); a
    /// `ManualClock` lets an in-process test move time by hand.
    pub clock: Arc<dyn Clock>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            host: "127.0.0.1".to_string(),
            fe_http_port: 0,
            be_http_port: 0,
            query_port: 0,
            root_password: String::new(),
            data_dir: None,
            label_keep_max_second: 259_200.0,
            label_keep_max_num: 1000,
            limits: Limits::default(),
            tls: None,
            publish_delay_ms: 0,
            schema_change_delay_ms: 0,
            starrocks_version: DEFAULT_STARROCKS_VERSION.to_string(),
            clock: clock::system(),
        }
    }
}

/// SQL access for `RunningEmulator::execute`, supplied by whoever owns the catalog.
pub type SqlExecutor = Arc<dyn Fn(&str) -> Result<QueryResult, String> + Send + Sync>;

pub struct RunningEmulator {
    pub fe_http_port: u16,
    pub be_http_port: u16,
    pub query_port: u16,
    shared: Arc<Shared>,
    sql: Option<SqlExecutor>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

type BoxError = Box<dyn Error + Send + Sync>;

/// Start everything on the configured ports (0 = any free port), with the store crate's catalog
/// as the store and its MySQL server on the query port.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, BoxError> {
    use starrocks_emulator_store::catalog::Catalog;
    use starrocks_emulator_store::sql::Session;
    if let Some(d) = &config.data_dir {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create data dir {}: {e}", d.display()))?;
    }
    let catalog = Catalog::open(&config.root_password, config.data_dir.as_deref())?;
    catalog.set_version(&config.starrocks_version);
    catalog.set_schema_change_delay_ms(config.schema_change_delay_ms);
    let job_clock = config.clock.clone();
    catalog.set_clock(Arc::new(move || job_clock.now()));
    let query = TcpListener::bind((config.host.as_str(), config.query_port)).await.map_err(|e| bind_err("query", config.query_port, e))?;
    let query_port = query.local_addr()?.port();
    let mysql_task = tokio::spawn(starrocks_emulator_store::mysql::serve(query, catalog.clone()));
    let exec_catalog = catalog.clone();
    let sql: SqlExecutor = Arc::new(move |stmt: &str| {
        let mut session = Session::root();
        exec_catalog.execute(&mut session, stmt).map_err(|e| e.to_string())
    });
    let mut emu = start_with_store(config, catalog.clone(), Some(sql), query_port).await?;
    emu.tasks.get_mut().unwrap().push(mysql_task);
    // Queries publish due multi-table commits first; weak, so the catalog does not keep the core
    // (which holds the catalog) alive.
    let core = Arc::downgrade(&emu.shared.core);
    catalog.set_before_statement(Some(Arc::new(move || {
        if let Some(c) = core.upgrade() {
            c.tick();
        }
    })));
    Ok(emu)
}

fn bind_err(what: &str, port: u16, e: std::io::Error) -> BoxError {
    format!("cannot bind the {what} port {port}: {e}").into()
}

/// Start the HTTP listeners over any `Store` (tests use an in-memory one). `query_port` is only
/// reported back.
pub async fn start_with_store(config: EmulatorConfig, store: Arc<dyn Store>, sql: Option<SqlExecutor>, query_port: u16) -> Result<RunningEmulator, BoxError> {
    let tls = config.tls.as_ref().map(http::tls_acceptor).transpose()?;
    let fe = TcpListener::bind((config.host.as_str(), config.fe_http_port)).await.map_err(|e| bind_err("FE HTTP", config.fe_http_port, e))?;
    let be = TcpListener::bind((config.host.as_str(), config.be_http_port)).await.map_err(|e| bind_err("BE HTTP", config.be_http_port, e))?;
    let fe_http_port = fe.local_addr()?.port();
    let be_http_port = be.local_addr()?.port();
    // A wildcard bind is reachable on loopback; redirects must name a connectable host.
    let public_host = match config.host.as_str() {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1".to_string(),
        h => h.to_string(),
    };
    let clock = config.clock.clone();
    let labels = Arc::new(labels::Labels::open_with_clock(config.label_keep_max_second, config.label_keep_max_num, config.data_dir.clone(), clock.clone())?);
    labels.set_max_running(config.limits.max_running_txn_num_per_db);
    let opts = CoreOptions {
        label_keep_max_second: config.label_keep_max_second,
        label_keep_max_num: config.label_keep_max_num,
        publish_delay_secs: config.publish_delay_ms as f64 / 1000.0,
        ..Default::default()
    };
    let core = Arc::new(TxnCore::new(store.clone(), sql.clone(), labels.clone(), opts, clock));
    let shared = Arc::new(Shared {
        store,
        labels,
        core,
        multi_enabled: supports_multi_table_txn(&config.starrocks_version),
        faults: Default::default(),
        error_logs: Default::default(),
        txns: Default::default(),
        buffers: Default::default(),
        fe_txn_routes: Default::default(),
        public_host,
        be_port: be_http_port,
        https: tls.is_some(),
        limits: config.limits.clone(),
        shutting_down: AtomicBool::new(false),
    });
    let (stop, stop_rx) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(http::serve(fe, shared.clone(), Role::Fe, tls.clone(), stop_rx.clone())),
        tokio::spawn(http::serve(be, shared.clone(), Role::Be, tls, stop_rx.clone())),
        tokio::spawn(http::txn::cleaner(shared.clone(), stop_rx)),
    ];
    Ok(RunningEmulator { fe_http_port, be_http_port, query_port, shared, sql, stop, tasks: Mutex::new(tasks) })
}

impl RunningEmulator {
    /// Run one SQL statement as root through the catalog (the same engine as the query port).
    pub fn execute(&self, sql: &str) -> Result<QueryResult, String> {
        match &self.sql {
            Some(f) => f(sql),
            None => Err("this emulator was started without a SQL engine".to_string()),
        }
    }

    /// The multi-table transaction core the HTTP half uses (same store, labels and clock).
    pub fn core(&self) -> Arc<TxnCore> {
        self.shared.core.clone()
    }

    /// The store the HTTP half loads into (the catalog, for `start`).
    pub fn store(&self) -> Arc<dyn Store> {
        self.shared.store.clone()
    }

    /// Stop accepting, tell in-flight loads the service is shutting down, and wait for the
    /// listeners to finish.
    pub async fn shutdown(self) {
        self.shared.shutting_down.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap());
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_binds_loopback_with_free_ports() {
        let c = EmulatorConfig::default();
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!((c.fe_http_port, c.be_http_port, c.query_port), (0, 0, 0));
        assert!(c.root_password.is_empty());
        assert!(c.data_dir.is_none());
        assert_eq!((c.publish_delay_ms, c.starrocks_version.as_str()), (0, "4.0.0"));
    }

    #[test]
    fn multi_table_txn_from_version_4() {
        assert!(supports_multi_table_txn("4.0.0"));
        assert!(supports_multi_table_txn("4.1"));
        assert!(supports_multi_table_txn("10.0.0"));
        assert!(!supports_multi_table_txn("3.5.2"));
        assert!(!supports_multi_table_txn("3.3.0-emulator"));
        assert!(supports_multi_table_txn("dev"));
    }
}

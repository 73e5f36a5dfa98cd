//! StarRocks 3.x one-FE/one-BE emulator — library API.
//!
//! STATUS: API shape only. `start` is not implemented yet and returns an error, so callers
//! fail loudly instead of talking to a server that does not exist.

use std::error::Error;
use std::path::PathBuf;

pub struct EmulatorConfig {
    pub host: String,
    pub fe_http_port: u16,
    pub be_http_port: u16,
    pub query_port: u16,
    pub root_password: String,
    pub data_dir: Option<PathBuf>,
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
        }
    }
}

pub struct RunningEmulator {
    pub fe_http_port: u16,
    pub be_http_port: u16,
    pub query_port: u16,
    _private: (),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

pub async fn start(_config: EmulatorConfig) -> Result<RunningEmulator, Box<dyn Error + Send + Sync>> {
    Err("starrocks-emulator: start() is not implemented yet".into())
}

impl RunningEmulator {
    pub fn execute(&self, _sql: &str) -> Result<QueryResult, String> {
        Err("starrocks-emulator: execute() is not implemented yet".to_string())
    }

    pub async fn shutdown(self) {}
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
    }
}

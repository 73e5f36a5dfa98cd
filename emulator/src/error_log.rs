//! Rejected-row logs behind `ErrorURL` (`GET /api/_load_error_log?file=<name>` on the BE port).
//! Kept in memory, newest `MAX_LOGS` only: they are diagnostics, not data.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

const MAX_LOGS: usize = 1024;

#[derive(Default)]
pub struct ErrorLogs {
    inner: Mutex<(HashMap<String, String>, VecDeque<String>)>,
}

impl ErrorLogs {
    /// Store the lines and return the file name, shaped like StarRocks'
    /// `error_log_<16 hex>_<16 hex>`.
    pub fn put(&self, lines: &[String]) -> String {
        let id = uuid::Uuid::new_v4().as_u128();
        let name = format!("error_log_{:016x}_{:016x}", (id >> 64) as u64, id as u64);
        let mut text = lines.join("\n");
        text.push('\n');
        let mut g = self.inner.lock().unwrap();
        g.0.insert(name.clone(), text);
        g.1.push_back(name.clone());
        while g.1.len() > MAX_LOGS {
            if let Some(old) = g.1.pop_front() {
                g.0.remove(&old);
            }
        }
        name
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.inner.lock().unwrap().0.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_and_name_shape() {
        let logs = ErrorLogs::default();
        let name = logs.put(&["Error: x. Row: 1".to_string()]);
        assert_eq!(name.len(), "error_log_".len() + 16 + 1 + 16);
        assert_eq!(logs.get(&name).unwrap(), "Error: x. Row: 1\n");
        assert!(logs.get("error_log_nope").is_none());
    }
}

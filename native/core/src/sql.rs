//! SQL over the FE query port (MySQL protocol, `mysql_async`): exactly-once mode reads its
//! register, creates it when allowed, and asks the StarRocks version; `schema` reads table columns,
//! creates tables and adds columns. StarRocks' HTTP SQL API would avoid a second port but runs only
//! SELECT, SHOW, EXPLAIN and KILL: no CREATE TABLE or ALTER TABLE.

use std::future::Future;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{OptsBuilder, Pool, Value};

pub struct SqlClient {
    pool: Pool,
    addr: String,
    /// Longest one statement may take, connecting included: a port that accepts connections and
    /// never answers (a hung FE) must not hang the task; the caller's retries or the stall
    /// watchdog decide what follows.
    timeout: Duration,
}

impl SqlClient {
    pub fn new(host: &str, port: u16, user: &str, password: &str, timeout: Duration) -> SqlClient {
        let opts = OptsBuilder::default()
            .ip_or_hostname(host.to_string())
            .tcp_port(port)
            .user(Some(user.to_string()))
            .pass(Some(password.to_string()))
            .prefer_socket(false);
        SqlClient { pool: Pool::new(opts), addr: format!("{}:{}", host, port), timeout }
    }

    /// `work` within the statement timeout; a failure or the timeout is a message naming the port.
    async fn timed<T>(&self, work: impl Future<Output = mysql_async::Result<T>>) -> Result<T, String> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r.map_err(|e| format!("query port {}: {}", self.addr, e)),
            Err(_) => Err(format!("query port {}: no answer within {} ms", self.addr, self.timeout.as_millis())),
        }
    }

    /// Rows as text, `None` for NULL. Any failure is a message naming the query port.
    pub async fn query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let rows: Vec<mysql_async::Row> = self
            .timed(async {
                let mut conn = self.pool.get_conn().await?;
                conn.query(sql).await
            })
            .await?;
        Ok(rows.into_iter().map(|r| r.unwrap().into_iter().map(text).collect()).collect())
    }

    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        self.timed(async {
            let mut conn = self.pool.get_conn().await?;
            conn.query_drop(sql).await
        })
        .await
    }

    pub async fn close(self) {
        let _ = self.pool.disconnect().await;
    }
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// `major.minor` of a `current_version()` answer such as `4.0.2-a1b2c3d` or `3.3.0-emulator`.
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.trim().split(|c: char| !c.is_ascii_digit());
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_that_never_answers_is_an_error_in_time() {
        // accepts connections and never sends the MySQL greeting
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let sql = SqlClient::new("127.0.0.1", port, "root", "", Duration::from_millis(300));
        let started = std::time::Instant::now();
        let e = rt.block_on(sql.query("SELECT 1")).unwrap_err();
        assert!(e.contains("no answer within 300 ms") && e.contains(&port.to_string()), "{}", e);
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(held);
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("4.0.2-a1b2c3d"), Some((4, 0)));
        assert_eq!(parse_version("3.3.0-emulator"), Some((3, 3)));
        assert_eq!(parse_version("garbage"), None);
    }
}

//! SQL over the FE query port (MySQL protocol, `mysql_async`): exactly-once mode reads its
//! register, creates it when allowed, and asks the StarRocks version. StarRocks' HTTP SQL API
//! would avoid a second port but runs only SELECT, SHOW, EXPLAIN and KILL: no CREATE TABLE.

use mysql_async::prelude::Queryable;
use mysql_async::{OptsBuilder, Pool, Value};

pub struct SqlClient {
    pool: Pool,
    addr: String,
}

impl SqlClient {
    pub fn new(host: &str, port: u16, user: &str, password: &str) -> SqlClient {
        let opts = OptsBuilder::default()
            .ip_or_hostname(host.to_string())
            .tcp_port(port)
            .user(Some(user.to_string()))
            .pass(Some(password.to_string()))
            .prefer_socket(false);
        SqlClient { pool: Pool::new(opts), addr: format!("{}:{}", host, port) }
    }

    /// Rows as text, `None` for NULL. Any failure is a message naming the query port.
    pub async fn query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let mut conn = self.pool.get_conn().await.map_err(|e| format!("query port {}: {}", self.addr, e))?;
        let rows: Vec<mysql_async::Row> = conn.query(sql).await.map_err(|e| format!("query port {}: {}", self.addr, e))?;
        Ok(rows.into_iter().map(|r| r.unwrap().into_iter().map(text).collect()).collect())
    }

    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        let mut conn = self.pool.get_conn().await.map_err(|e| format!("query port {}: {}", self.addr, e))?;
        conn.query_drop(sql).await.map_err(|e| format!("query port {}: {}", self.addr, e))
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
    fn versions_parse() {
        assert_eq!(parse_version("4.0.2-a1b2c3d"), Some((4, 0)));
        assert_eq!(parse_version("3.3.0-emulator"), Some((3, 3)));
        assert_eq!(parse_version("garbage"), None);
    }
}

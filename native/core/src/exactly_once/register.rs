//! The register: a Primary Key table of the connector's, one row per (connector, topic,
//! partition) holding the next offset to load, the generation of its owner and the owner's tag.
//!
//! `partition` is a reserved word in StarRocks SQL, hence `kafka_partition`. The register is
//! written only through Stream Load (inside a flush's transaction, or one-shot when fencing),
//! always with `merge_condition` on `next_offset`, so no write can move a partition backwards.

use std::sync::Arc;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::route::Target;
use crate::stream_load::LoadRequest;

#[derive(Debug, Clone)]
pub struct Register {
    pub db: String,
    pub table: String,
    pub connector: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRow {
    /// `-1`: fenced, nothing loaded yet.
    pub next_offset: i64,
    pub generation: i64,
    pub owner: String,
}

/// SQL string literal; topic and connector names come from users.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

impl Register {
    pub fn create_sql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {}.{} (\
             connector VARCHAR(255) NOT NULL, topic VARCHAR(255) NOT NULL, kafka_partition INT NOT NULL, \
             next_offset BIGINT NOT NULL, generation BIGINT NOT NULL, owner VARCHAR(64) NOT NULL) \
             PRIMARY KEY (connector, topic, kafka_partition) \
             DISTRIBUTED BY HASH (connector, topic, kafka_partition)",
            ident(&self.db),
            ident(&self.table)
        )
    }

    pub fn select_sql(&self, topic: &str, partition: i32) -> String {
        format!(
            "SELECT next_offset, generation, owner FROM {}.{} WHERE connector = {} AND topic = {} AND kafka_partition = {}",
            ident(&self.db),
            ident(&self.table),
            quote(&self.connector),
            quote(topic),
            partition
        )
    }

    /// The Stream Load that writes `row` (under `label`: a fence's own, or the flush's
    /// transaction label, which the writer sets per attempt), always with `merge_condition` on
    /// `next_offset`.
    pub fn load(&self, topic: &str, partition: i32, row: &RegisterRow, label: String) -> LoadRequest {
        let body = serde_json::json!({
            "connector": self.connector,
            "topic": topic,
            "kafka_partition": partition,
            "next_offset": row.next_offset,
            "generation": row.generation,
            "owner": row.owner,
        })
        .to_string();
        LoadRequest {
            target: Target { database: self.db.clone(), table: self.table.clone() },
            label,
            body: Bytes::from(body),
            rows: 1,
            headers: Arc::new(vec![("format".into(), "json".into()), ("merge_condition".into(), "next_offset".into())]),
        }
    }

    /// Reads the answer to `select_sql`: no row, or one.
    pub fn parse(rows: &[Vec<Option<String>>]) -> Result<Option<RegisterRow>> {
        let Some(r) = rows.first() else { return Ok(None) };
        let num = |i: usize| -> Result<i64> {
            r.get(i)
                .and_then(|v| v.as_deref())
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| Error::internal(format!("register row has no usable column {}: {:?}", i, r)))
        };
        Ok(Some(RegisterRow {
            next_offset: num(0)?,
            generation: num(1)?,
            owner: r.get(2).cloned().flatten().unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Register {
        Register { db: "db".into(), table: "reg".into(), connector: "it's".into() }
    }

    #[test]
    fn user_names_are_quoted() {
        let sql = reg().select_sql("to'pic", 3);
        assert!(sql.contains("connector = 'it''s' AND topic = 'to''pic' AND kafka_partition = 3"), "{}", sql);
        assert!(sql.contains("`db`.`reg`"), "{}", sql);
    }

    #[test]
    fn parse_reads_one_row_or_none() {
        assert_eq!(Register::parse(&[]).unwrap(), None);
        let row = vec![Some("42".into()), Some("7".into()), Some("w1".into())];
        assert_eq!(
            Register::parse(&[row]).unwrap(),
            Some(RegisterRow { next_offset: 42, generation: 7, owner: "w1".into() })
        );
        assert!(Register::parse(&[vec![None]]).is_err());
    }
}

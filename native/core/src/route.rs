//! Topic → table routing. The topic is the record's topic *after* SMTs (a RegexRouter may
//! have renamed it); `starrocks.topic2table.map` maps it to a table, otherwise the table has
//! the topic's name (the Java connector's behaviour). A routed name is `table` (in the
//! connector's database) or `db.table`; [`Target::of`] is the one place that reads it.

use std::collections::HashMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Router {
    /// hashbrown's foldhash rather than std's SipHash: looked up for every record, and topic
    /// names are not attacker-chosen keys
    map: hashbrown::HashMap<String, String>,
}

impl Router {
    /// `map`: topic → routed name, as the shim read `starrocks.topic2table.map`.
    pub fn new(map: HashMap<String, String>) -> Router {
        Router { map: map.into_iter().collect() }
    }

    /// The table for a topic.
    pub fn table<'a>(&'a self, topic: &'a str) -> &'a str {
        self.map.get(topic).map(String::as_str).unwrap_or(topic)
    }
}

/// Where rows load: a database and a table in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub database: String,
    pub table: String,
}

impl Target {
    /// The target of a routed name: `db.table`, or `table` in `default_db`.
    pub fn of(default_db: &str, routed: &str) -> Target {
        let (database, table) = Target::parts(default_db, routed);
        Target { database: database.to_string(), table: table.to_string() }
    }

    /// [`Target::of`] without allocating, for the per-record path: (database, table).
    pub fn parts<'a>(default_db: &'a str, routed: &'a str) -> (&'a str, &'a str) {
        match routed.split_once('.') {
            Some((db, table)) if !db.is_empty() && !table.is_empty() => (db, table),
            _ => (default_db, routed),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.database, self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_routed_name_is_a_table_or_db_dot_table() {
        let t = |db: &str, table: &str| Target { database: db.into(), table: table.into() };
        assert_eq!(Target::of("d", "orders"), t("d", "orders"));
        assert_eq!(Target::of("d", "other.orders"), t("other", "orders"));
        // an empty side is no database: the whole name is the table, as StarRocks would refuse it
        assert_eq!(Target::of("d", ".orders"), t("d", ".orders"));
        assert_eq!(Target::of("d", "orders."), t("d", "orders."));
    }

    #[test]
    fn maps_listed_topics_and_defaults_to_the_topic_name() {
        let r = Router::new([("orders", "t_orders"), ("users", "db.t_users")].map(|(t, n)| (t.to_string(), n.to_string())).into());
        assert_eq!(r.table("orders"), "t_orders");
        assert_eq!(r.table("users"), "db.t_users");
        assert_eq!(r.table("other"), "other");
        assert_eq!(Router::default().table("x"), "x");
    }
}

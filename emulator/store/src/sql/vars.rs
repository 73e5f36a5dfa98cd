//! Session variables that clients read at connect (`SELECT @@version_comment`, JDBC's long
//! `SELECT @@...` list, `SHOW VARIABLES LIKE ...`). Values are StarRocks 3.x defaults.

use super::Session;

/// The version the handshake and `version()` report (StarRocks answers with a MySQL version).
pub const MYSQL_VERSION: &str = "8.0.33";
pub const VERSION_COMMENT: &str = "StarRocks version 3.3.0-emulator";

pub fn all(session: &Session) -> Vec<(String, String)> {
    let fixed: &[(&str, &str)] = &[
        ("auto_increment_increment", "1"),
        ("autocommit", "1"),
        ("character_set_client", "utf8"),
        ("character_set_connection", "utf8"),
        ("character_set_database", "utf8"),
        ("character_set_results", "utf8"),
        ("character_set_server", "utf8"),
        ("collation_connection", "utf8_general_ci"),
        ("collation_database", "utf8_general_ci"),
        ("collation_server", "utf8_general_ci"),
        ("init_connect", ""),
        ("interactive_timeout", "3600"),
        ("language", "/starrocks/share/english/"),
        ("license", "Apache License 2.0"),
        ("lower_case_table_names", "0"),
        // What opensrv answers itself to a bare `SELECT @@max_allowed_packet`.
        ("max_allowed_packet", "67108864"),
        ("net_buffer_length", "16384"),
        ("net_write_timeout", "60"),
        ("performance_schema", "0"),
        ("query_cache_size", "1048576"),
        ("query_cache_type", "0"),
        ("query_timeout", "300"),
        ("sql_mode", "ONLY_FULL_GROUP_BY"),
        ("sql_safe_updates", "0"),
        ("sql_select_limit", "9223372036854775807"),
        ("system_time_zone", "UTC"),
        ("time_zone", "UTC"),
        ("transaction_isolation", "REPEATABLE-READ"),
        ("transaction_read_only", "0"),
        ("tx_isolation", "REPEATABLE-READ"),
        ("tx_read_only", "0"),
        ("version", MYSQL_VERSION),
        ("version_comment", VERSION_COMMENT),
        ("wait_timeout", "28800"),
    ];
    let mut v: Vec<(String, String)> = fixed
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    v.push(("connection_id".into(), session.connection_id.to_string()));
    v.sort();
    v
}

/// `@@name`, `@@session.name`, `@@global.name`.
pub fn get(session: &Session, name: &str) -> Option<String> {
    let name = name.trim_start_matches('@');
    let name = name
        .strip_prefix("session.")
        .or_else(|| name.strip_prefix("global."))
        .or_else(|| name.strip_prefix("local."))
        .unwrap_or(name)
        .to_ascii_lowercase();
    all(session)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

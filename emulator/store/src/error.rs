//! Below the catalog and the statements alike, so the catalog, the DDL parser and the lexer
//! report failures in the form the query port sends without depending on `sql`.

/// A statement's failure as the MySQL protocol carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub code: u16,
    pub sqlstate: &'static str,
    pub message: String,
}

impl SqlError {
    pub fn new(code: u16, sqlstate: &'static str, message: impl Into<String>) -> SqlError {
        SqlError {
            code,
            sqlstate,
            message: message.into(),
        }
    }

    pub fn syntax(msg: &str) -> SqlError {
        SqlError::new(
            1064,
            "42000",
            format!("Getting syntax error. Detail message: {msg}"),
        )
    }

    pub fn unsupported(what: &str) -> SqlError {
        SqlError::new(
            1064,
            "42000",
            format!("{what} is not supported by the StarRocks emulator"),
        )
    }

    pub fn analysis(msg: &str) -> SqlError {
        SqlError::new(
            1064,
            "HY000",
            format!("Getting analyzing error. Detail message: {msg}."),
        )
    }

    pub fn unknown_db(db: &str) -> SqlError {
        SqlError::new(1049, "42000", format!("Unknown database '{db}'"))
    }

    pub fn unknown_table(db: &str, table: &str) -> SqlError {
        SqlError::new(1051, "42S02", format!("Unknown table '{db}.{table}'"))
    }

    pub fn no_db() -> SqlError {
        SqlError::new(1046, "3D000", "No database selected")
    }

    pub fn access_denied(msg: &str) -> SqlError {
        SqlError::new(1045, "28000", msg)
    }
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ERROR {} ({}): {}",
            self.code, self.sqlstate, self.message
        )
    }
}

impl std::error::Error for SqlError {}

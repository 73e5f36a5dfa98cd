//! StarRocks `CREATE TABLE`. sqlparser's grammar has no StarRocks table clauses (`DUPLICATE KEY`,
//! `DISTRIBUTED BY`, `PROPERTIES`, `LARGEINT`, ...), so this walks its tokens by hand.

use sqlparser::tokenizer::Token;

use crate::error::SqlError;
use crate::lex::Cursor;
use crate::model::{Column, ColumnType, KeysType, Value};
use crate::types;

#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    pub if_not_exists: bool,
    pub db: Option<String>,
    pub name: String,
    pub columns: Vec<Column>,
    pub keys_type: KeysType,
    pub key_columns: Vec<usize>,
    /// `DISTRIBUTED BY ...` as written (normalized spacing), for SHOW CREATE TABLE.
    pub distribution: Option<String>,
    pub comment: Option<String>,
    /// `ORDER BY (...)`, for information_schema.tables_config's SORT_KEY.
    pub sort_key: Option<Vec<String>>,
}

/// Parses from just after `CREATE`.
pub fn parse_create_table(cur: &mut Cursor) -> Result<CreateTable, SqlError> {
    if cur.eat_kw("EXTERNAL") {
        return Err(SqlError::unsupported("CREATE EXTERNAL TABLE"));
    }
    if cur.eat_kw("TEMPORARY") {
        return Err(SqlError::unsupported("CREATE TEMPORARY TABLE"));
    }
    cur.expect_kw("TABLE")?;
    let if_not_exists = cur.eat_kws(&["IF", "NOT", "EXISTS"]);
    let (db, name) = cur.object_name()?;
    if cur.is_kw("LIKE") {
        return Err(SqlError::unsupported("CREATE TABLE ... LIKE"));
    }
    if cur.is_kw("AS") {
        return Err(SqlError::unsupported("CREATE TABLE ... AS SELECT"));
    }
    cur.expect(&Token::LParen)?;
    let mut columns = Vec::new();
    loop {
        if cur.is_kw("INDEX") {
            // Bitmap/N-gram indexes change nothing a client can see.
            cur.next();
            cur.ident()?;
            cur.skip_parens()?;
            cur.skip_until_kw_or_comma();
        } else {
            columns.push(parse_column(cur)?);
        }
        if cur.eat(&Token::Comma) {
            continue;
        }
        cur.expect(&Token::RParen)?;
        break;
    }
    let mut keys: Option<(KeysType, Vec<String>)> = None;
    let mut distribution = None;
    let mut comment = None;
    let mut sort_key = None;
    while !cur.at_end() {
        if cur.eat_kw("ENGINE") {
            cur.eat(&Token::Eq);
            let engine = cur.ident()?;
            if !engine.eq_ignore_ascii_case("OLAP") {
                return Err(SqlError::unsupported(&format!("ENGINE={engine}")));
            }
        } else if cur.eat_kws(&["DUPLICATE", "KEY"]) {
            keys = Some((KeysType::Duplicate, cur.ident_list()?));
        } else if cur.eat_kws(&["PRIMARY", "KEY"]) || cur.eat_kws(&["UNIQUE", "KEY"]) {
            keys = Some((KeysType::Primary, cur.ident_list()?));
        } else if cur.is_kw("AGGREGATE") {
            return Err(SqlError::unsupported("AGGREGATE KEY table"));
        } else if cur.eat_kw("COMMENT") {
            comment = Some(cur.string()?);
        } else if cur.eat_kw("PARTITION") {
            // Partitions only split storage; the rows a query sees are the same.
            cur.expect_kw("BY")?;
            cur.skip_until_kw(&["DISTRIBUTED", "ORDER", "PROPERTIES", "COMMENT"]);
        } else if cur.eat_kw("DISTRIBUTED") {
            cur.expect_kw("BY")?;
            let mut text = String::from("DISTRIBUTED BY ");
            if cur.eat_kw("HASH") {
                let cols = cur.ident_list()?;
                text.push_str(&format!(
                    "HASH({})",
                    cols.iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            } else if cur.eat_kw("RANDOM") {
                text.push_str("RANDOM");
            } else {
                return Err(cur.unexpected("HASH, RANDOM"));
            }
            if cur.eat_kw("BUCKETS") {
                let n = cur.u32()?;
                text.push_str(&format!(" BUCKETS {n}"));
            }
            distribution = Some(text);
        } else if cur.eat_kw("ORDER") {
            cur.expect_kw("BY")?;
            sort_key = Some(cur.ident_list()?);
        } else if cur.eat_kw("PROPERTIES") || cur.eat_kw("ROLLUP") {
            cur.skip_parens()?;
        } else {
            return Err(cur.unexpected("ENGINE, DUPLICATE KEY, PRIMARY KEY, PARTITION BY, DISTRIBUTED BY, ORDER BY, PROPERTIES"));
        }
    }
    if columns.is_empty() {
        return Err(SqlError::analysis("Table must have at least one column"));
    }
    for (i, c) in columns.iter().enumerate() {
        if columns[..i]
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&c.name))
        {
            return Err(SqlError::analysis(&format!(
                "Duplicate column name '{}'",
                c.name
            )));
        }
    }
    let (keys_type, key_columns) = match keys {
        Some((kt, names)) => {
            let mut idx = Vec::new();
            for n in &names {
                let i = columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(n))
                    .ok_or_else(|| SqlError::analysis(&format!("Key column({n}) doesn't exist")))?;
                idx.push(i);
            }
            if idx.iter().enumerate().any(|(pos, &i)| pos != i) {
                return Err(SqlError::analysis(
                    "Key columns should be a ordered prefix of the schema",
                ));
            }
            (kt, idx)
        }
        None => (KeysType::Duplicate, default_duplicate_keys(&columns)),
    };
    for &i in &key_columns {
        let c = &mut columns[i];
        if matches!(
            c.ty,
            ColumnType::Float | ColumnType::Double | ColumnType::Json
        ) {
            return Err(SqlError::analysis(&format!(
                "Invalid data type of key column '{}': '{}'",
                c.name,
                types::type_name(&c.ty)
            )));
        }
        c.is_key = true;
        if keys_type == KeysType::Primary {
            // StarRocks makes primary key columns NOT NULL whatever the DDL says.
            c.nullable = false;
            if c.default == Some(None) {
                c.default = None;
            }
        }
    }
    Ok(CreateTable {
        if_not_exists,
        db,
        name,
        columns,
        keys_type,
        key_columns,
        distribution,
        comment,
        sort_key,
    })
}

/// Without a keys clause StarRocks keys a Duplicate table on a short prefix of the columns: at most
/// three, at most 36 bytes, ending at the first string column, stopping before a float/json.
fn default_duplicate_keys(columns: &[Column]) -> Vec<usize> {
    let mut keys = Vec::new();
    let mut bytes = 0u32;
    for (i, c) in columns.iter().enumerate().take(3) {
        let size = match c.ty {
            ColumnType::TinyInt | ColumnType::Boolean => 1,
            ColumnType::SmallInt => 2,
            ColumnType::Int | ColumnType::Date => 4,
            ColumnType::BigInt | ColumnType::DateTime => 8,
            ColumnType::LargeInt | ColumnType::Decimal { .. } => 16,
            ColumnType::Char(_) | ColumnType::Varchar(_) => 20,
            ColumnType::Float | ColumnType::Double | ColumnType::Json => break,
        };
        if !keys.is_empty() && bytes + size > 36 {
            break;
        }
        bytes += size;
        keys.push(i);
        if matches!(c.ty, ColumnType::Char(_) | ColumnType::Varchar(_)) {
            break;
        }
    }
    keys
}

fn parse_type(cur: &mut Cursor) -> Result<ColumnType, SqlError> {
    let name = match cur.next() {
        Token::Word(w) => w.value.to_ascii_uppercase(),
        _ => return Err(cur.unexpected("column type")),
    };
    let mut args = Vec::new();
    if cur.eat(&Token::LParen) {
        loop {
            args.push(cur.u32()?);
            if !cur.eat(&Token::Comma) {
                break;
            }
        }
        cur.expect(&Token::RParen)?;
    }
    let ty = match name.as_str() {
        "TINYINT" => ColumnType::TinyInt,
        "SMALLINT" => ColumnType::SmallInt,
        "INT" | "INTEGER" => ColumnType::Int,
        "BIGINT" => ColumnType::BigInt,
        "LARGEINT" => ColumnType::LargeInt,
        "FLOAT" => ColumnType::Float,
        "DOUBLE" => ColumnType::Double,
        "BOOLEAN" | "BOOL" => ColumnType::Boolean,
        "DATE" => ColumnType::Date,
        "DATETIME" => ColumnType::DateTime,
        "JSON" => ColumnType::Json,
        "STRING" | "TEXT" => ColumnType::Varchar(65533),
        "CHAR" => {
            let n = args.first().copied().unwrap_or(1);
            if n == 0 || n > 255 {
                return Err(SqlError::analysis("Char size must between 1~255"));
            }
            ColumnType::Char(n)
        }
        "VARCHAR" => {
            let n = args.first().copied().unwrap_or(1);
            if n == 0 || n > 1_048_576 {
                return Err(SqlError::analysis("VARCHAR size must between 1~1048576"));
            }
            ColumnType::Varchar(n)
        }
        "DECIMAL" | "DECIMALV2" | "DECIMALV3" | "NUMERIC" | "DECIMAL32" | "DECIMAL64"
        | "DECIMAL128" => {
            let max = match name.as_str() {
                "DECIMAL32" => 9,
                "DECIMAL64" => 18,
                "DECIMALV2" => 27,
                _ => 38,
            };
            let p = args
                .first()
                .copied()
                .unwrap_or(if max < 10 { max } else { 10 });
            let s = args.get(1).copied().unwrap_or(0);
            if p == 0 || p > max {
                return Err(SqlError::analysis(&format!(
                    "DECIMAL's precision should range from 1 to {max}"
                )));
            }
            if s > p {
                return Err(SqlError::analysis(&format!(
                    "DECIMAL's scale should be less than or equal to precision, scale={s}, precision={p}"
                )));
            }
            ColumnType::Decimal {
                precision: p as u8,
                scale: s as u8,
            }
        }
        other => return Err(SqlError::unsupported(&format!("Column type {other}"))),
    };
    Ok(ty)
}

fn parse_column(cur: &mut Cursor) -> Result<Column, SqlError> {
    parse_column_def(cur).map(|(c, _)| c)
}

/// One column definition, as CREATE TABLE and ALTER TABLE ... ADD/MODIFY COLUMN write it; the
/// flag says whether it carried `KEY` (which only ALTER TABLE acts on).
pub(crate) fn parse_column_def(cur: &mut Cursor) -> Result<(Column, bool), SqlError> {
    let mut explicit_key = false;
    let name = cur.ident()?;
    let ty = parse_type(cur)?;
    let mut nullable = true;
    let mut default_text: Option<Option<String>> = None;
    loop {
        if cur.eat_kws(&["NOT", "NULL"]) {
            nullable = false;
        } else if cur.eat_kw("NULL") {
            nullable = true;
        } else if cur.eat_kw("DEFAULT") {
            default_text = Some(parse_default(cur)?);
        } else if cur.eat_kw("COMMENT") {
            cur.string()?;
        } else if cur.eat_kw("KEY") {
            explicit_key = true;
        } else if cur.is_kw("AUTO_INCREMENT") {
            return Err(SqlError::unsupported("AUTO_INCREMENT"));
        } else if cur.is_kw("AS") {
            return Err(SqlError::unsupported("Generated column"));
        } else if [
            "SUM",
            "MAX",
            "MIN",
            "REPLACE",
            "REPLACE_IF_NOT_NULL",
            "HLL_UNION",
            "BITMAP_UNION",
        ]
        .iter()
        .any(|k| cur.is_kw(k))
        {
            return Err(SqlError::unsupported(
                "AGGREGATE KEY table (column aggregate type)",
            ));
        } else if cur.eat_kw("CHARSET") || cur.eat_kws(&["CHARACTER", "SET"]) {
            cur.ident()?;
        } else {
            break;
        }
    }
    let default = match default_text {
        None => None,
        Some(None) => {
            if !nullable {
                return Err(SqlError::analysis(&format!(
                    "Invalid default value for '{name}': Can not set null default value to non nullable column"
                )));
            }
            Some(None)
        }
        Some(Some(text)) => {
            let v = if text.eq_ignore_ascii_case("CURRENT_TIMESTAMP") {
                if ty != ColumnType::DateTime {
                    return Err(SqlError::analysis(&format!(
                        "Invalid default value for '{name}'"
                    )));
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                Value::DateTime(now * 1_000_000)
            } else {
                types::from_text(&ty, &text).map_err(|e| {
                    SqlError::analysis(&format!("Invalid default value for '{name}': {e}"))
                })?
            };
            Some(Some(v))
        }
    };
    Ok((
        Column {
            name,
            ty,
            nullable,
            default,
            is_key: false,
        },
        explicit_key,
    ))
}

/// The DEFAULT literal's text; `None` for `DEFAULT NULL`.
fn parse_default(cur: &mut Cursor) -> Result<Option<String>, SqlError> {
    let neg = cur.eat(&Token::Minus);
    match cur.next() {
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) if !neg => Ok(Some(s)),
        Token::Number(n, _) => Ok(Some(if neg { format!("-{n}") } else { n })),
        Token::Word(w)
            if !neg && w.quote_style.is_none() && w.value.eq_ignore_ascii_case("NULL") =>
        {
            Ok(None)
        }
        Token::Word(w)
            if !neg
                && w.quote_style.is_none()
                && (w.value.eq_ignore_ascii_case("CURRENT_TIMESTAMP")
                    || w.value.eq_ignore_ascii_case("NOW")) =>
        {
            if cur.eat(&Token::LParen) {
                cur.expect(&Token::RParen)?;
            }
            Ok(Some("CURRENT_TIMESTAMP".into()))
        }
        Token::LParen => Err(SqlError::unsupported("DEFAULT (expression)")),
        _ => Err(cur.unexpected("default value")),
    }
}

impl Cursor {
    /// After an INDEX definition: skip `USING BITMAP COMMENT '...'` up to the next `,` or `)`.
    fn skip_until_kw_or_comma(&mut self) {
        while !self.at_end() && !matches!(self.peek(), Token::Comma | Token::RParen) {
            self.next();
        }
    }
}

/// `SHOW CREATE TABLE` text.
pub fn show_create(
    schema: &crate::model::TableSchema,
    distribution: Option<&str>,
    comment: Option<&str>,
) -> String {
    let mut s = format!("CREATE TABLE `{}` (\n", schema.name);
    let cols: Vec<String> = schema
        .columns
        .iter()
        .map(|c| {
            let mut line = format!("  `{}` {}", c.name, types::type_name(&c.ty));
            line.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
            match &c.default {
                Some(Some(v)) => {
                    line.push_str(&format!(" DEFAULT \"{}\"", types::display(&c.ty, v)))
                }
                Some(None) => line.push_str(" DEFAULT NULL"),
                None => {}
            }
            line.push_str(" COMMENT \"\"");
            line
        })
        .collect();
    s.push_str(&cols.join(",\n"));
    let keys: Vec<String> = schema
        .key_columns
        .iter()
        .map(|&i| format!("`{}`", schema.columns[i].name))
        .collect();
    let kind = match schema.keys_type {
        KeysType::Duplicate => "DUPLICATE",
        KeysType::Primary => "PRIMARY",
    };
    s.push_str(&format!(
        "\n) ENGINE=OLAP \n{kind} KEY({})\n",
        keys.join(", ")
    ));
    s.push_str(&format!("COMMENT \"{}\"\n", comment.unwrap_or("OLAP")));
    match distribution {
        Some(d) => s.push_str(d),
        None => s.push_str("DISTRIBUTED BY RANDOM"),
    }
    s.push_str("\nPROPERTIES (\n\"replication_num\" = \"1\"\n);");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Result<CreateTable, SqlError> {
        let mut cur = Cursor::new(sql)?;
        cur.expect_kw("CREATE")?;
        parse_create_table(&mut cur)
    }

    #[test]
    fn docs_duplicate_key_table() {
        let t = parse(
            "CREATE TABLE IF NOT EXISTS `example_db`.detailDemo (
                recruit_date  DATE           NOT NULL COMMENT \"YYYY-MM-DD\",
                region_num    TINYINT        COMMENT \"range [-128, 127]\",
                num_plate     SMALLINT       COMMENT \"range [-32768, 32767] \",
                tel           INT            COMMENT \"range [-2147483648, 2147483647]\",
                id            BIGINT         COMMENT \"range [-2^63 + 1, 2^63 - 1]\",
                password      LARGEINT       COMMENT \"range [-2^127 + 1, 2^127 - 1]\",
                name          CHAR(20)       NOT NULL COMMENT \"range char(m),m in (1-255)\",
                profile       VARCHAR(500)   NOT NULL COMMENT \"upper limit value 1048576 bytes\",
                hobby         STRING         NOT NULL COMMENT \"upper limit value 65533 bytes\",
                leave_time    DATETIME       COMMENT \"YYYY-MM-DD HH:MM:SS\",
                channel       FLOAT          COMMENT \"4 bytes\",
                income        DOUBLE         COMMENT \"8 bytes\",
                account       DECIMAL(12,4)  COMMENT \"\",
                ispass        BOOLEAN        COMMENT \"true/false\"
            )
            DUPLICATE KEY(recruit_date, region_num)
            PARTITION BY RANGE(recruit_date)
            (PARTITION p1 VALUES LESS THAN (\"2022-01-01\"), PARTITION p2 VALUES LESS THAN (MAXVALUE))
            DISTRIBUTED BY HASH(recruit_date, region_num) BUCKETS 8
            PROPERTIES (\"replication_num\" = \"1\");",
        )
        .unwrap();
        assert!(t.if_not_exists);
        assert_eq!(t.db.as_deref(), Some("example_db"));
        assert_eq!(t.name, "detailDemo");
        assert_eq!(t.columns.len(), 14);
        assert_eq!(t.keys_type, KeysType::Duplicate);
        assert_eq!(t.key_columns, vec![0, 1]);
        assert_eq!(t.columns[8].ty, ColumnType::Varchar(65533));
        assert_eq!(
            t.columns[12].ty,
            ColumnType::Decimal {
                precision: 12,
                scale: 4
            }
        );
        assert!(
            t.columns[1].nullable,
            "duplicate key columns keep their declared nullability"
        );
        assert!(!t.columns[0].nullable);
        assert_eq!(
            t.distribution.as_deref(),
            Some("DISTRIBUTED BY HASH(`recruit_date`, `region_num`) BUCKETS 8")
        );
    }

    #[test]
    fn primary_key_columns_become_not_null_and_defaults_convert() {
        let t = parse(
            "create table users (id bigint, name varchar(65533) not null default 'x', score decimal(5,2) default \"1.5\",
             ts datetime default current_timestamp, flag boolean default '1', n int default -3, s string default null)
             primary key (id) distributed by hash(id) order by (name)",
        )
        .unwrap();
        assert_eq!(t.keys_type, KeysType::Primary);
        assert!(!t.columns[0].nullable && t.columns[0].is_key);
        assert_eq!(t.columns[1].default, Some(Some(Value::Str("x".into()))));
        assert_eq!(
            t.columns[2].default,
            Some(Some(Value::Decimal("1.50".into())))
        );
        assert_eq!(t.columns[4].default, Some(Some(Value::Bool(true))));
        assert_eq!(t.columns[5].default, Some(Some(Value::Int(-3))));
        assert_eq!(t.columns[6].default, Some(None));
        assert!(matches!(
            t.columns[3].default,
            Some(Some(Value::DateTime(_)))
        ));
    }

    #[test]
    fn unique_key_is_primary_and_default_keys_are_a_prefix() {
        assert_eq!(
            parse("CREATE TABLE t (a INT, b INT) UNIQUE KEY(a)")
                .unwrap()
                .keys_type,
            KeysType::Primary
        );
        let t = parse("CREATE TABLE t (a INT, b VARCHAR(10), c INT, d INT)").unwrap();
        assert_eq!(
            (t.keys_type, t.key_columns),
            (KeysType::Duplicate, vec![0, 1])
        );
        let t = parse(
            "CREATE TABLE t (a INT, b BIGINT, c INT, d INT) ENGINE=OLAP DISTRIBUTED BY RANDOM",
        )
        .unwrap();
        assert_eq!(t.key_columns, vec![0, 1, 2]);
    }

    #[test]
    fn clear_errors_for_what_is_not_emulated() {
        let e = parse("CREATE TABLE t (a INT, b INT SUM) AGGREGATE KEY(a)").unwrap_err();
        assert!(e.message.contains("AGGREGATE KEY"), "{}", e.message);
        let e = parse("CREATE TABLE t (a INT, b INT) AGGREGATE KEY(a)").unwrap_err();
        assert!(e.message.contains("AGGREGATE KEY"), "{}", e.message);
        let e = parse("CREATE TABLE t (a ARRAY<INT>)").unwrap_err();
        assert!(e.message.contains("ARRAY"), "{}", e.message);
        let e = parse("CREATE TABLE t (a INT, b INT) PRIMARY KEY(b)").unwrap_err();
        assert!(e.message.contains("prefix"), "{}", e.message);
        let e = parse("CREATE TABLE t (a INT NOT NULL DEFAULT NULL)").unwrap_err();
        assert!(e.message.contains("non nullable"), "{}", e.message);
        assert!(parse("CREATE TABLE t (a INT, A INT)").is_err());
        assert!(parse("CREATE TABLE t (a DECIMAL(40, 2))").is_err());
    }

    #[test]
    fn expression_partitions_and_indexes_are_accepted() {
        let t = parse(
            "CREATE TABLE site_access (event_day DATETIME NOT NULL, site_id INT DEFAULT '10', city_code VARCHAR(100),
             pv BIGINT DEFAULT '0', INDEX idx_city (city_code) USING BITMAP COMMENT 'x')
             DUPLICATE KEY(event_day, site_id, city_code)
             PARTITION BY date_trunc('day', event_day)
             DISTRIBUTED BY HASH(event_day, site_id)",
        )
        .unwrap();
        assert_eq!(t.columns.len(), 4);
        assert_eq!(t.key_columns, vec![0, 1, 2]);
    }

    #[test]
    fn docs_kafka_connector_tables() {
        let t = parse(
            "CREATE TABLE `customers` (
            `id` int(11) COMMENT \"\",
            `first_name` varchar(65533) NULL COMMENT \"\",
            `email` varchar(65533) NULL COMMENT \"\"
            ) ENGINE=OLAP
            PRIMARY KEY(`id`)
            DISTRIBUTED BY hash(id) buckets 1
            PROPERTIES (\"bucket_size\" = \"4294967296\", \"enable_persistent_index\" = \"true\");",
        )
        .unwrap();
        assert_eq!(
            (t.keys_type, t.key_columns.clone()),
            (KeysType::Primary, vec![0])
        );
        assert_eq!(t.columns[0].ty, ColumnType::Int);
        assert!(!t.columns[0].nullable);
        let t = parse("CREATE TABLE test_tbl (id INT, city STRING);").unwrap();
        assert_eq!(
            (t.keys_type, t.key_columns),
            (KeysType::Duplicate, vec![0, 1])
        );
    }
}

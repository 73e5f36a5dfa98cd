//! The text of the statements the schema guard runs: CREATE TABLE, ALTER TABLE ADD/MODIFY
//! COLUMN, and the catalog reads. Pure functions of values, so tests read the exact SQL.

use super::column_type::ColumnType;
use crate::route::Target;

/// A column to create or add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
}

/// The key model of a created table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    /// A Duplicate Key table with StarRocks' default sort key.
    Duplicate,
    /// A Primary Key table on these columns (which come first, in this order).
    Primary(Vec<String>),
}

/// What CREATE TABLE makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub columns: Vec<ColumnDef>,
    pub keys: Keys,
    /// `auto.create.buckets`; 0: StarRocks decides.
    pub buckets: u32,
    /// `auto.create.properties.*`.
    pub properties: Vec<(String, String)>,
}

/// An identifier in backquotes (a backquote inside is doubled, as MySQL and StarRocks read it).
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A string literal in single quotes.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn table(t: &Target) -> String {
    format!("{}.{}", ident(&t.database), ident(&t.table))
}

fn column(c: &ColumnDef) -> String {
    format!("{} {} {}", ident(&c.name), c.ty.sql(), if c.nullable { "NULL" } else { "NOT NULL" })
}

/// `CREATE TABLE IF NOT EXISTS`: a table another task made first is no failure.
pub fn create_table(t: &Target, def: &TableDef) -> String {
    let cols: Vec<String> = def.columns.iter().map(column).collect();
    let mut sql = format!("CREATE TABLE IF NOT EXISTS {} (\n  {}\n)", table(t), cols.join(",\n  "));
    match &def.keys {
        Keys::Duplicate => {
            // Without DISTRIBUTED BY, StarRocks (3.1+) buckets a Duplicate Key table at random.
            if def.buckets > 0 {
                sql.push_str(&format!("\nDISTRIBUTED BY RANDOM BUCKETS {}", def.buckets));
            }
        }
        Keys::Primary(keys) => {
            let keys = keys.iter().map(|k| ident(k)).collect::<Vec<_>>().join(", ");
            sql.push_str(&format!("\nPRIMARY KEY({})\nDISTRIBUTED BY HASH({})", keys, keys));
            if def.buckets > 0 {
                sql.push_str(&format!(" BUCKETS {}", def.buckets));
            }
        }
    }
    if !def.properties.is_empty() {
        let props: Vec<String> = def.properties.iter().map(|(k, v)| format!("\"{}\" = \"{}\"", k.replace('"', "\\\""), v.replace('"', "\\\""))).collect();
        sql.push_str(&format!("\nPROPERTIES ({})", props.join(", ")));
    }
    sql
}

/// One ALTER adding every column at once: one schema change job instead of one per column.
pub fn add_columns(t: &Target, cols: &[ColumnDef]) -> String {
    let cols: Vec<String> = cols.iter().map(column).collect();
    format!("ALTER TABLE {} ADD COLUMN ({})", table(t), cols.join(", "))
}

/// MODIFY COLUMN restates the whole definition: the nullability is kept as it was.
pub fn modify_column(t: &Target, col: &ColumnDef) -> String {
    format!("ALTER TABLE {} MODIFY COLUMN {}", table(t), column(col))
}

pub fn read_columns(t: &Target) -> String {
    format!(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.columns WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} ORDER BY ORDINAL_POSITION",
        literal(&t.database),
        literal(&t.table)
    )
}

pub fn read_database(database: &str) -> String {
    format!("SELECT SCHEMA_NAME FROM information_schema.schemata WHERE SCHEMA_NAME = {}", literal(database))
}

pub fn show_alter(t: &Target) -> String {
    format!("SHOW ALTER TABLE COLUMN FROM {} WHERE TableName = {}", ident(&t.database), literal(&t.table))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Target {
        Target { database: "d".into(), table: "or`ders".into() }
    }

    fn col(name: &str, ty: ColumnType, nullable: bool) -> ColumnDef {
        ColumnDef { name: name.into(), ty, nullable }
    }

    #[test]
    fn create_statements() {
        let def = TableDef {
            columns: vec![col("id", ColumnType::BigInt, false), col("name", ColumnType::Varchar(None), true)],
            keys: Keys::Primary(vec!["id".into()]),
            buckets: 0,
            properties: vec![("replication_num".into(), "1".into())],
        };
        assert_eq!(
            create_table(&t(), &def),
            "CREATE TABLE IF NOT EXISTS `d`.`or``ders` (\n  `id` BIGINT NOT NULL,\n  `name` STRING NULL\n)\nPRIMARY KEY(`id`)\nDISTRIBUTED BY HASH(`id`)\nPROPERTIES (\"replication_num\" = \"1\")"
        );
        let dup = TableDef { keys: Keys::Duplicate, buckets: 4, properties: vec![], ..def };
        assert!(create_table(&t(), &dup).ends_with(")\nDISTRIBUTED BY RANDOM BUCKETS 4"));
    }

    #[test]
    fn alter_statements() {
        assert_eq!(
            add_columns(&t(), &[col("phone", ColumnType::Varchar(None), true), col("n", ColumnType::Int, true)]),
            "ALTER TABLE `d`.`or``ders` ADD COLUMN (`phone` STRING NULL, `n` INT NULL)"
        );
        assert_eq!(modify_column(&t(), &col("c", ColumnType::Varchar(Some(40)), false)), "ALTER TABLE `d`.`or``ders` MODIFY COLUMN `c` VARCHAR(40) NOT NULL");
        assert!(read_columns(&Target { database: "d".into(), table: "it's".into() }).contains("TABLE_NAME = 'it\\'s'"));
    }
}

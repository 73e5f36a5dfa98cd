//! The type of a result column as the MySQL protocol announces it: shared by the SQLite mirror
//! (which derives it from declared types) and the statements above it.

/// How a result column is typed on the wire (the mysql CLI right-aligns numeric ones; PyMySQL
/// converts by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    LargeInt,
    Float,
    Double,
    Decimal(u8),
    Boolean,
    Text,
    Date,
    DateTime,
    Json,
}

//! StarRocks column types as this connector creates and compares them: the type a field gets
//! from its Connect schema (or, schemaless, from its value), the type a table already has (read
//! from `information_schema.columns`), and whether a field's values fit a column
//! (docs/schemas.md, "Type rules"). The mapping follows what `rows::leaf` writes for each value,
//! so a created column parses exactly the text its rows carry.

use std::fmt;

use crate::boundary::{Batch, SchemaId, SchemaKind, Value};

/// The widest VARCHAR; StarRocks' `STRING` is this.
pub const MAX_VARCHAR: u32 = 65533;
/// A text key column's width when its schema names none: StarRocks limits an encoded primary key
/// to 128 bytes.
pub const KEY_VARCHAR: u32 = 128;
/// `HH:MM:SS.ffffff`, what `rows::temporal` writes for a time of day (StarRocks has no TIME).
const TIME_TEXT: u32 = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    LargeInt,
    Float,
    Double,
    Decimal { precision: u8, scale: u8 },
    Date,
    DateTime,
    /// VARCHAR(n); `None` when nothing says how long the text is: created as `STRING`.
    Varchar(Option<u32>),
    Char(u32),
    Json,
    /// A type this connector neither creates nor compares (ARRAY<..>, BITMAP, ...), as read.
    Other(String),
}

/// What a field's values do to a column they load into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fit {
    Fits,
    /// Fits once the column is widened to this type (a longer VARCHAR: a cheap schema change).
    Widen(ColumnType),
    /// No value of the field can be stored there.
    Refused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Boolean,
    Integer,
    Fraction,
    Temporal,
    Text,
    Json,
    Other,
}

impl ColumnType {
    /// The type in a column definition.
    pub fn sql(&self) -> String {
        match self {
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::TinyInt => "TINYINT".into(),
            ColumnType::SmallInt => "SMALLINT".into(),
            ColumnType::Int => "INT".into(),
            ColumnType::BigInt => "BIGINT".into(),
            ColumnType::LargeInt => "LARGEINT".into(),
            ColumnType::Float => "FLOAT".into(),
            ColumnType::Double => "DOUBLE".into(),
            ColumnType::Decimal { precision, scale } => format!("DECIMAL({},{})", precision, scale),
            ColumnType::Date => "DATE".into(),
            ColumnType::DateTime => "DATETIME".into(),
            ColumnType::Varchar(None) => "STRING".into(),
            ColumnType::Varchar(Some(n)) => format!("VARCHAR({})", n),
            ColumnType::Char(n) => format!("CHAR({})", n),
            ColumnType::Json => "JSON".into(),
            ColumnType::Other(s) => s.clone(),
        }
    }

    /// An `information_schema.columns.COLUMN_TYPE` (`bigint(20)`, `varchar(65533)`,
    /// `decimal128(38,9)`, `datetime`, ...). Anything unknown is `Other`, never an error: a table
    /// may have types this connector does not write.
    pub fn parse(text: &str) -> ColumnType {
        let t = text.trim().to_ascii_lowercase();
        let (name, args) = match t.split_once('(') {
            Some((n, rest)) => (n.trim(), rest.trim_end_matches(')').split(',').map(|a| a.trim().parse::<u32>().ok()).collect::<Vec<_>>()),
            None => (t.as_str(), Vec::new()),
        };
        let arg = |i: usize| args.get(i).copied().flatten();
        match name {
            "boolean" | "bool" => ColumnType::Boolean,
            "tinyint" => ColumnType::TinyInt,
            "smallint" => ColumnType::SmallInt,
            "int" | "integer" => ColumnType::Int,
            "bigint" => ColumnType::BigInt,
            "largeint" | "bigint unsigned" => ColumnType::LargeInt,
            "float" => ColumnType::Float,
            "double" => ColumnType::Double,
            "decimal" | "decimalv2" | "decimalv3" | "decimal32" | "decimal64" | "decimal128" | "numeric" => {
                ColumnType::Decimal { precision: arg(0).unwrap_or(38).min(76) as u8, scale: arg(1).unwrap_or(0).min(76) as u8 }
            }
            "date" => ColumnType::Date,
            "datetime" => ColumnType::DateTime,
            "varchar" => ColumnType::Varchar(Some(arg(0).unwrap_or(1))),
            "string" => ColumnType::Varchar(Some(MAX_VARCHAR)),
            "char" => ColumnType::Char(arg(0).unwrap_or(1)),
            "json" => ColumnType::Json,
            _ => ColumnType::Other(text.trim().to_string()),
        }
    }

    fn family(&self) -> Family {
        match self {
            ColumnType::Boolean => Family::Boolean,
            ColumnType::TinyInt | ColumnType::SmallInt | ColumnType::Int | ColumnType::BigInt | ColumnType::LargeInt => Family::Integer,
            ColumnType::Decimal { scale: 0, .. } => Family::Integer,
            ColumnType::Float | ColumnType::Double | ColumnType::Decimal { .. } => Family::Fraction,
            ColumnType::Date | ColumnType::DateTime => Family::Temporal,
            ColumnType::Varchar(_) | ColumnType::Char(_) => Family::Text,
            ColumnType::Json => Family::Json,
            ColumnType::Other(_) => Family::Other,
        }
    }

    /// The type of a primary key column holding this field: StarRocks allows BOOLEAN, integers,
    /// DATE, DATETIME and VARCHAR in a key. `Err` names the type when there is no such column.
    pub fn as_key(&self) -> Result<ColumnType, String> {
        Ok(match self {
            ColumnType::Boolean
            | ColumnType::TinyInt
            | ColumnType::SmallInt
            | ColumnType::Int
            | ColumnType::BigInt
            | ColumnType::LargeInt
            | ColumnType::Date
            | ColumnType::DateTime => self.clone(),
            ColumnType::Decimal { precision, scale: 0 } if *precision <= 18 => ColumnType::BigInt,
            ColumnType::Decimal { scale: 0, .. } => ColumnType::LargeInt,
            ColumnType::Varchar(None) => ColumnType::Varchar(Some(KEY_VARCHAR)),
            ColumnType::Varchar(Some(n)) | ColumnType::Char(n) => ColumnType::Varchar(Some(*n)),
            other => return Err(format!("{} cannot be a primary key column in StarRocks", other)),
        })
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql())
    }
}

/// Whether values of type `field` load into a `column`. StarRocks parses text into any scalar
/// column and checks each value's range itself (a row that does not fit is filtered, as for any
/// load), so only what can never be stored is refused: a nested value outside JSON and text, a
/// fraction into an integer, a date into a number or a number into a date, a boolean into a date.
pub fn fit(field: &ColumnType, column: &ColumnType) -> Fit {
    use Family::*;
    match (field.family(), column.family()) {
        (_, Json) | (_, Other) | (Other, _) => Fit::Fits,
        (Text, Text) => match (field, column) {
            (ColumnType::Varchar(Some(want)), ColumnType::Varchar(Some(have))) if want > have => Fit::Widen(ColumnType::Varchar(Some(*want))),
            _ => Fit::Fits,
        },
        // anything loads into text (a nested value as its JSON text)
        (_, Text) => Fit::Fits,
        (Json, _) => Fit::Refused,
        (Text, _) => Fit::Fits,
        (Boolean, Boolean) | (Boolean, Integer) | (Boolean, Fraction) => Fit::Fits,
        (Integer, Integer) | (Integer, Fraction) | (Integer, Boolean) => Fit::Fits,
        (Fraction, Fraction) => Fit::Fits,
        (Temporal, Temporal) => Fit::Fits,
        _ => Fit::Refused,
    }
}

/// The column type for a field whose Connect schema is `id` (what `rows::leaf` writes for it).
pub fn of_schema(batch: &Batch<'_>, id: SchemaId) -> ColumnType {
    let s = batch.schema(id);
    let param = |k: &str| s.params.iter().find(|(n, _)| *n == k).and_then(|(_, v)| v.trim().parse::<u32>().ok());
    match s.name {
        Some("org.apache.kafka.connect.data.Decimal") => {
            let scale = param("scale").unwrap_or(0);
            let precision = param("connect.decimal.precision").unwrap_or(38).max(scale).max(1);
            if precision > 38 {
                // wider than StarRocks' DECIMAL128: the exact text is kept
                ColumnType::Varchar(None)
            } else {
                ColumnType::Decimal { precision: precision as u8, scale: scale as u8 }
            }
        }
        Some("org.apache.kafka.connect.data.Date") | Some("io.debezium.time.Date") => ColumnType::Date,
        Some("org.apache.kafka.connect.data.Timestamp")
        | Some("io.debezium.time.Timestamp")
        | Some("io.debezium.time.MicroTimestamp")
        | Some("io.debezium.time.NanoTimestamp")
        | Some("io.debezium.time.ZonedTimestamp") => ColumnType::DateTime,
        Some("org.apache.kafka.connect.data.Time")
        | Some("io.debezium.time.Time")
        | Some("io.debezium.time.MicroTime")
        | Some("io.debezium.time.NanoTime")
        | Some("io.debezium.time.ZonedTime") => ColumnType::Varchar(Some(TIME_TEXT)),
        Some("io.debezium.data.Json") => ColumnType::Json,
        Some("io.debezium.data.Uuid") => ColumnType::Varchar(Some(36)),
        // any scale: its exact text, which a fixed DECIMAL could cut
        Some("io.debezium.data.VariableScaleDecimal") => ColumnType::Varchar(None),
        _ => match s.kind {
            SchemaKind::Boolean => ColumnType::Boolean,
            SchemaKind::Int8 => ColumnType::TinyInt,
            SchemaKind::Int16 => ColumnType::SmallInt,
            SchemaKind::Int32 => ColumnType::Int,
            SchemaKind::Int64 => ColumnType::BigInt,
            SchemaKind::Float32 => ColumnType::Float,
            SchemaKind::Float64 => ColumnType::Double,
            // a declared length (Debezium's column.propagate.source.type) sizes the column
            SchemaKind::String => ColumnType::Varchar(param("__debezium.source.column.length").filter(|n| *n > 0 && *n <= MAX_VARCHAR)),
            SchemaKind::Bytes => ColumnType::Varchar(None),
            SchemaKind::Array | SchemaKind::Map | SchemaKind::Struct => ColumnType::Json,
        },
    }
}

/// The column type for a schemaless value (or one whose schema is not at hand): inferred from
/// the value as docs/schemas.md says. `None` for NULL: nothing says what it is.
pub fn of_value(batch: &Batch<'_>, v: &Value<'_>) -> Option<ColumnType> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => ColumnType::Boolean,
        // JsonConverter without schemas reads every JSON integer as a Long
        Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => ColumnType::BigInt,
        Value::Float32(_) | Value::Float64(_) => ColumnType::Double,
        Value::String(_) | Value::Bytes(_) => ColumnType::Varchar(None),
        Value::Array(_) | Value::Map(_) => ColumnType::Json,
        Value::Struct(id, _) | Value::Named(id, _) => of_schema(batch, *id),
        Value::Decimal { scale, .. } => match u8::try_from(*scale) {
            Ok(s) if s <= 38 => ColumnType::Decimal { precision: 38, scale: s },
            _ => ColumnType::Varchar(None),
        },
        Value::Date(_) => ColumnType::Date,
        Value::Time(_) => ColumnType::Varchar(Some(TIME_TEXT)),
        Value::Timestamp(_) => ColumnType::DateTime,
    })
}

/// The column type for a member of a JSON text row (StringConverter): inferred like `of_value`.
pub fn of_json(v: &serde_json::Value) -> Option<ColumnType> {
    Some(match v {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(_) => ColumnType::Boolean,
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => ColumnType::BigInt,
        serde_json::Value::Number(_) => ColumnType::Double,
        serde_json::Value::String(_) => ColumnType::Varchar(None),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => ColumnType::Json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn information_schema_types_parse() {
        assert_eq!(ColumnType::parse("bigint(20)"), ColumnType::BigInt);
        assert_eq!(ColumnType::parse("int(11)"), ColumnType::Int);
        assert_eq!(ColumnType::parse("varchar(65533)"), ColumnType::Varchar(Some(65533)));
        assert_eq!(ColumnType::parse("decimal128(38,9)"), ColumnType::Decimal { precision: 38, scale: 9 });
        assert_eq!(ColumnType::parse("decimal(10,2)"), ColumnType::Decimal { precision: 10, scale: 2 });
        assert_eq!(ColumnType::parse("DATETIME"), ColumnType::DateTime);
        assert_eq!(ColumnType::parse("largeint"), ColumnType::LargeInt);
        assert_eq!(ColumnType::parse("array<int(11)>"), ColumnType::Other("array<int(11)>".into()));
    }

    #[test]
    fn sql_text_reads_back() {
        for t in [
            ColumnType::Boolean,
            ColumnType::TinyInt,
            ColumnType::BigInt,
            ColumnType::Decimal { precision: 12, scale: 3 },
            ColumnType::DateTime,
            ColumnType::Varchar(Some(20)),
            ColumnType::Json,
        ] {
            assert_eq!(ColumnType::parse(&t.sql()), t);
        }
        assert_eq!(ColumnType::parse(&ColumnType::Varchar(None).sql()), ColumnType::Varchar(Some(MAX_VARCHAR)));
    }

    #[test]
    fn what_fits_what() {
        use ColumnType::*;
        assert_eq!(fit(&BigInt, &Int), Fit::Fits, "StarRocks checks each value's range");
        assert_eq!(fit(&Int, &Double), Fit::Fits);
        assert_eq!(fit(&Varchar(None), &Int), Fit::Fits, "text is parsed");
        assert_eq!(fit(&Varchar(None), &Varchar(Some(10))), Fit::Fits, "no length known: nothing to widen");
        assert_eq!(fit(&Varchar(Some(40)), &Varchar(Some(10))), Fit::Widen(Varchar(Some(40))));
        assert_eq!(fit(&Varchar(Some(4)), &Varchar(Some(10))), Fit::Fits);
        assert_eq!(fit(&Json, &Int), Fit::Refused);
        assert_eq!(fit(&Json, &Varchar(None)), Fit::Fits);
        assert_eq!(fit(&Double, &BigInt), Fit::Refused, "a fraction into an integer");
        assert_eq!(fit(&Decimal { precision: 10, scale: 0 }, &BigInt), Fit::Fits);
        assert_eq!(fit(&Date, &BigInt), Fit::Refused);
        assert_eq!(fit(&BigInt, &DateTime), Fit::Refused);
        assert_eq!(fit(&Boolean, &Date), Fit::Refused);
        assert_eq!(fit(&Date, &DateTime), Fit::Fits);
        assert_eq!(fit(&Int, &Other("bitmap".into())), Fit::Fits, "not ours to judge");
    }

    #[test]
    fn key_columns_are_types_a_key_allows() {
        assert_eq!(ColumnType::Varchar(None).as_key(), Ok(ColumnType::Varchar(Some(KEY_VARCHAR))));
        assert_eq!(ColumnType::Decimal { precision: 10, scale: 0 }.as_key(), Ok(ColumnType::BigInt));
        assert_eq!(ColumnType::Decimal { precision: 30, scale: 0 }.as_key(), Ok(ColumnType::LargeInt));
        assert!(ColumnType::Double.as_key().unwrap_err().contains("DOUBLE cannot be a primary key"));
        assert!(ColumnType::Json.as_key().is_err());
    }
}

//! Column types and values as StarRocks shows them: type names in `DESC`, value text in query
//! results, and the literal conversion used by `DEFAULT` and `INSERT ... VALUES`.

use crate::model::{ColumnType, Value};

/// The type as `DESC` prints it (`int`, `varchar(65533)`, `decimal(10,2)`).
pub fn type_name(ty: &ColumnType) -> String {
    match ty {
        ColumnType::TinyInt => "tinyint".into(),
        ColumnType::SmallInt => "smallint".into(),
        ColumnType::Int => "int".into(),
        ColumnType::BigInt => "bigint".into(),
        ColumnType::LargeInt => "largeint".into(),
        ColumnType::Float => "float".into(),
        ColumnType::Double => "double".into(),
        ColumnType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        ColumnType::Boolean => "boolean".into(),
        ColumnType::Char(n) => format!("char({n})"),
        ColumnType::Varchar(n) => format!("varchar({n})"),
        ColumnType::Date => "date".into(),
        ColumnType::DateTime => "datetime".into(),
        ColumnType::Json => "json".into(),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn format_datetime(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let rem = micros.rem_euclid(86_400_000_000);
    let (secs, us) = (rem / 1_000_000, rem % 1_000_000);
    let date = format_date(days as i32);
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if us == 0 {
        format!("{date} {h:02}:{mi:02}:{s:02}")
    } else {
        format!("{date} {h:02}:{mi:02}:{s:02}.{us:06}")
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `YYYY-MM-DD` (also `YYYYMMDD`) to days since the epoch.
pub fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    let (y, m, d) = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        (
            s[0..4].parse().ok()?,
            s[4..6].parse().ok()?,
            s[6..8].parse().ok()?,
        )
    } else {
        let mut it = s.split(['-', '/']);
        let y: i64 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    if !(0..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d) as i32)
}

/// `YYYY-MM-DD[ HH:MM:SS[.ffffff]]` (also `T` as separator) to microseconds since the epoch.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let days = parse_date(date)? as i64;
    let mut micros = 0i64;
    if !time.is_empty() {
        let (hms, frac) = match time.find('.') {
            Some(i) => (&time[..i], &time[i + 1..]),
            None => (time, ""),
        };
        let mut it = hms.split(':');
        let h: i64 = it.next()?.parse().ok()?;
        let mi: i64 = it.next().unwrap_or("0").parse().ok()?;
        let sec: i64 = it.next().unwrap_or("0").parse().ok()?;
        if it.next().is_some() || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let mut us = 0i64;
        if !frac.is_empty() {
            if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            us = format!("{frac:0<6}").parse().ok()?;
        }
        micros = ((h * 60 + mi) * 60 + sec) * 1_000_000 + us;
    }
    Some(days * 86_400_000_000 + micros)
}

/// Canonical decimal text with exactly `scale` fraction digits (rounded half away from zero);
/// `None` when the value is not a number or needs more than `precision` digits.
pub fn normalize_decimal(s: &str, precision: u8, scale: u8) -> Option<String> {
    let s = s.trim();
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = match body.find('.') {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, ""),
    };
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = scale as usize;
    let mut digits: Vec<u8> = int
        .bytes()
        .chain(frac.bytes().chain(std::iter::repeat(b'0')).take(scale))
        .collect();
    if frac.len() > scale && frac.as_bytes()[scale] >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - scale;
    let int_part = std::str::from_utf8(&digits[..int_len])
        .unwrap()
        .trim_start_matches('0');
    if int_part.len() > precision as usize - scale.min(precision as usize) {
        return None;
    }
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = std::str::from_utf8(&digits[int_len..]).unwrap();
    let zero = digits.iter().all(|&b| b == b'0');
    let sign = if neg && !zero { "-" } else { "" };
    Some(if scale == 0 {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac_part}")
    })
}

fn int_range(ty: &ColumnType) -> Option<(i128, i128)> {
    Some(match ty {
        ColumnType::TinyInt => (i8::MIN as i128, i8::MAX as i128),
        ColumnType::SmallInt => (i16::MIN as i128, i16::MAX as i128),
        ColumnType::Int => (i32::MIN as i128, i32::MAX as i128),
        ColumnType::BigInt => (i64::MIN as i128, i64::MAX as i128),
        ColumnType::LargeInt => (i128::MIN, i128::MAX),
        _ => return None,
    })
}

/// Converts literal text to a value of `ty` (DEFAULT clauses, INSERT VALUES).
pub fn from_text(ty: &ColumnType, s: &str) -> Result<Value, String> {
    let bad = || format!("Invalid {} value '{}'", type_name(ty), s);
    match ty {
        ColumnType::TinyInt
        | ColumnType::SmallInt
        | ColumnType::Int
        | ColumnType::BigInt
        | ColumnType::LargeInt => {
            let (lo, hi) = int_range(ty).unwrap();
            let v: i128 = s.trim().parse().map_err(|_| bad())?;
            if v < lo || v > hi {
                return Err(bad());
            }
            Ok(Value::Int(v))
        }
        ColumnType::Float | ColumnType::Double => {
            let v: f64 = s.trim().parse().map_err(|_| bad())?;
            Ok(Value::Float(if *ty == ColumnType::Float {
                v as f32 as f64
            } else {
                v
            }))
        }
        ColumnType::Decimal { precision, scale } => normalize_decimal(s, *precision, *scale)
            .map(Value::Decimal)
            .ok_or_else(bad),
        ColumnType::Boolean => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(Value::Bool(true)),
            "0" | "false" => Ok(Value::Bool(false)),
            _ => Err(bad()),
        },
        ColumnType::Char(n) | ColumnType::Varchar(n) => {
            if s.len() > *n as usize {
                Err(format!("Value '{s}' is too long for {}", type_name(ty)))
            } else {
                Ok(Value::Str(s.to_string()))
            }
        }
        ColumnType::Date => parse_date(s).map(Value::Date).ok_or_else(bad),
        ColumnType::DateTime => parse_datetime(s).map(Value::DateTime).ok_or_else(bad),
        ColumnType::Json => serde_json::from_str::<serde_json::Value>(s)
            .map(|v| Value::Json(v.to_string()))
            .map_err(|_| bad()),
    }
}

/// The value of a NOT NULL column that a new key's partial update does not supply.
pub fn zero_value(ty: &ColumnType) -> Value {
    match ty {
        ColumnType::Float | ColumnType::Double => Value::Float(0.0),
        ColumnType::Decimal { scale, .. } => {
            Value::Decimal(normalize_decimal("0", 38, *scale).unwrap())
        }
        ColumnType::Boolean => Value::Bool(false),
        ColumnType::Char(_) | ColumnType::Varchar(_) => Value::Str(String::new()),
        ColumnType::Date => Value::Date(0),
        ColumnType::DateTime => Value::DateTime(0),
        ColumnType::Json => Value::Json("null".into()),
        _ => Value::Int(0),
    }
}

/// Shortest text that reads back to the same float, as StarRocks prints FLOAT.
pub fn format_f32(v: f32) -> String {
    format_float(v as f64, v.to_string(), format!("{v:e}"))
}

/// Shortest text that reads back to the same double, as StarRocks prints DOUBLE.
pub fn format_f64(v: f64) -> String {
    format_float(v, v.to_string(), format!("{v:e}"))
}

/// StarRocks' BE prints floats with fmtlib's `{}`: shortest digits, in exponent form (`1e+20`,
/// `1.5e-05`) when the decimal exponent is below -4 or at least 16.
fn format_float(v: f64, plain: String, exp: String) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        if let Some((m, e)) = exp.split_once('e') {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            return format!("{m}e{sign}{digits:0>2}");
        }
    }
    plain
}

/// JSON as StarRocks prints it: keys sorted, `", "` and `": "` separators.
pub fn format_json(compact: &str) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(x, out);
                }
                out.push(']');
            }
            serde_json::Value::Object(m) => {
                out.push('{');
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push_str(": ");
                    write(&m[k], out);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    match serde_json::from_str::<serde_json::Value>(compact) {
        Ok(v) => {
            let mut out = String::new();
            write(&v, &mut out);
            out
        }
        Err(_) => compact.to_string(),
    }
}

/// A stored value as the mysql client shows it for a column of type `ty`.
pub fn display(ty: &ColumnType, v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        Value::Float(f) => {
            if *ty == ColumnType::Float {
                format_f32(*f as f32)
            } else {
                format_f64(*f)
            }
        }
        Value::Decimal(s) | Value::Str(s) => s.clone(),
        Value::Date(d) => format_date(*d),
        Value::DateTime(t) => format_datetime(*t),
        Value::Json(j) => format_json(j),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_days() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(format_date(parse_date("2024-02-29").unwrap()), "2024-02-29");
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(format_date(-1), "1969-12-31");
        assert_eq!(
            format_datetime(parse_datetime("2024-01-02 03:04:05").unwrap()),
            "2024-01-02 03:04:05"
        );
        assert_eq!(
            format_datetime(parse_datetime("2024-01-02 03:04:05.5").unwrap()),
            "2024-01-02 03:04:05.500000"
        );
        assert_eq!(parse_datetime("2024-01-02 24:00:00"), None);
    }

    #[test]
    fn decimals_get_exactly_scale_digits() {
        assert_eq!(normalize_decimal("12.5", 10, 2).as_deref(), Some("12.50"));
        assert_eq!(normalize_decimal("-0.001", 10, 2).as_deref(), Some("0.00"));
        assert_eq!(normalize_decimal("9.995", 10, 2).as_deref(), Some("10.00"));
        assert_eq!(normalize_decimal("-1.005", 10, 2).as_deref(), Some("-1.01"));
        assert_eq!(normalize_decimal("123456789", 10, 2), None);
        assert_eq!(normalize_decimal("abc", 10, 2), None);
        assert_eq!(normalize_decimal("7", 5, 0).as_deref(), Some("7"));
    }

    #[test]
    fn json_prints_like_starrocks() {
        assert_eq!(
            format_json(r#"{"b":[1,2],"a":"x"}"#),
            r#"{"a": "x", "b": [1, 2]}"#
        );
    }

    #[test]
    fn floats_print_shortest() {
        assert_eq!(format_f32(0.1f32), "0.1");
        assert_eq!(format_f64(3.0), "3");
        assert_eq!(format_f64(2.5), "2.5");
        assert_eq!(format_f64(1e20), "1e+20");
        assert_eq!(format_f64(-1.5e-5), "-1.5e-05");
        assert_eq!(format_f64(123456789012345.0), "123456789012345");
        assert_eq!(format_f32(3.4e38), "3.4e+38");
    }
}

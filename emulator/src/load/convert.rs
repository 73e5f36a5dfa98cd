//! Source value → typed `model::Value` for one column, as StarRocks converts while parsing.
//! A value that does not fit (bad number, out of range, bad date, too many bytes, decimal
//! overflow) is a conversion failure; what that means (NULL or filtered row) is decided by
//! `plan.rs` from `strict_mode` and the column's nullability.

use std::borrow::Cow;

use starrocks_emulator_store::model::{Column, ColumnType, Value};

/// A field as it came out of the parser.
#[derive(Debug, Clone, PartialEq)]
pub enum Src<'a> {
    /// `\N`, JSON `null`, or a JSON key that is absent.
    Null,
    /// A CSV field (or a `columns` constant).
    Text(Cow<'a, str>),
    /// A JSON string value (unescaped).
    JsonStr(Cow<'a, str>),
    /// A JSON number, as its source text.
    Num(&'a str),
    Bool(bool),
    /// A JSON object or array, as its source text.
    Nested(&'a str),
}

impl Src<'_> {
    /// The text StarRocks shows for this value in error messages.
    pub fn display(&self) -> Cow<'_, str> {
        match self {
            Src::Null => Cow::Borrowed("NULL"),
            Src::Text(s) | Src::JsonStr(s) => Cow::Borrowed(s),
            Src::Num(s) | Src::Nested(s) => Cow::Borrowed(s),
            Src::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        }
    }
}

/// Conversion failed: the value does not fit the column.
#[derive(Debug, PartialEq)]
pub struct NoFit;

pub fn type_name(t: &ColumnType) -> String {
    match t {
        ColumnType::TinyInt => "TINYINT".into(),
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Int => "INT".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::LargeInt => "LARGEINT".into(),
        ColumnType::Float => "FLOAT".into(),
        ColumnType::Double => "DOUBLE".into(),
        ColumnType::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Char(n) => format!("CHAR({n})"),
        ColumnType::Varchar(n) => format!("VARCHAR({n})"),
        ColumnType::Date => "DATE".into(),
        ColumnType::DateTime => "DATETIME".into(),
        ColumnType::Json => "JSON".into(),
    }
}

fn int_range(t: &ColumnType) -> (i128, i128) {
    match t {
        ColumnType::TinyInt => (i8::MIN as i128, i8::MAX as i128),
        ColumnType::SmallInt => (i16::MIN as i128, i16::MAX as i128),
        ColumnType::Int => (i32::MIN as i128, i32::MAX as i128),
        ColumnType::BigInt => (i64::MIN as i128, i64::MAX as i128),
        _ => (i128::MIN, i128::MAX),
    }
}

/// Convert `src` for `col`. `Ok(None)` is NULL (only for `Src::Null`).
pub fn convert(src: &Src, col: &Column) -> Result<Option<Value>, NoFit> {
    if let Src::Null = src {
        return Ok(None);
    }
    let v = match &col.ty {
        t @ (ColumnType::TinyInt | ColumnType::SmallInt | ColumnType::Int | ColumnType::BigInt | ColumnType::LargeInt) => {
            let n = match src {
                Src::Bool(b) => *b as i128,
                Src::Text(s) | Src::JsonStr(s) => parse_int(s.trim()).ok_or(NoFit)?,
                Src::Num(s) => parse_int(s).or_else(|| integral_float(s)).ok_or(NoFit)?,
                Src::Nested(_) | Src::Null => return Err(NoFit),
            };
            let (lo, hi) = int_range(t);
            if n < lo || n > hi {
                return Err(NoFit);
            }
            Value::Int(n)
        }
        ColumnType::Boolean => Value::Bool(match src {
            Src::Bool(b) => *b,
            Src::Text(s) | Src::JsonStr(s) => parse_bool(s.trim()).ok_or(NoFit)?,
            Src::Num(s) => s.parse::<f64>().map(|f| f != 0.0).map_err(|_| NoFit)?,
            _ => return Err(NoFit),
        }),
        ColumnType::Float | ColumnType::Double => {
            let f = match src {
                Src::Text(s) | Src::JsonStr(s) => s.trim().parse::<f64>().map_err(|_| NoFit)?,
                Src::Num(s) => s.parse::<f64>().map_err(|_| NoFit)?,
                Src::Bool(b) => *b as i32 as f64,
                _ => return Err(NoFit),
            };
            if col.ty == ColumnType::Float && f.is_finite() && f.abs() > f32::MAX as f64 {
                return Err(NoFit);
            }
            Value::Float(f)
        }
        ColumnType::Decimal { precision, scale } => {
            let text: &str = match src {
                Src::Text(s) | Src::JsonStr(s) => s.trim(),
                Src::Num(s) => s,
                Src::Bool(b) => if *b { "1" } else { "0" },
                _ => return Err(NoFit),
            };
            Value::Decimal(parse_decimal(text, *precision, *scale).ok_or(NoFit)?)
        }
        ColumnType::Char(n) | ColumnType::Varchar(n) => {
            let s: Cow<str> = match src {
                Src::Text(s) | Src::JsonStr(s) => Cow::Borrowed(s.as_ref()),
                Src::Num(s) => Cow::Borrowed(*s),
                Src::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
                Src::Nested(raw) => Cow::Owned(compact_json(raw).ok_or(NoFit)?),
                Src::Null => unreachable!(),
            };
            if s.len() > *n as usize {
                return Err(NoFit);
            }
            Value::Str(s.into_owned())
        }
        ColumnType::Date => {
            let s = match src {
                Src::Text(s) | Src::JsonStr(s) => s.trim(),
                Src::Num(s) => s,
                _ => return Err(NoFit),
            };
            let (y, m, d, rest) = parse_date_prefix(s).ok_or(NoFit)?;
            // A DATETIME text is accepted for a DATE column (the time is dropped).
            if !rest.is_empty() && parse_time(rest).is_none() {
                return Err(NoFit);
            }
            Value::Date(days_from_civil(y, m, d) as i32)
        }
        ColumnType::DateTime => {
            let s = match src {
                Src::Text(s) | Src::JsonStr(s) => s.trim(),
                Src::Num(s) => s,
                _ => return Err(NoFit),
            };
            let (y, m, d, rest) = parse_date_prefix(s).ok_or(NoFit)?;
            let micros_of_day = if rest.is_empty() { 0 } else { parse_time(rest).ok_or(NoFit)? };
            Value::DateTime(days_from_civil(y, m, d) * 86_400_000_000 + micros_of_day)
        }
        ColumnType::Json => Value::Json(match src {
            // CSV text must itself be a JSON document.
            Src::Text(s) => compact_json(s).ok_or(NoFit)?,
            Src::JsonStr(s) => serde_json::to_string(s.as_ref()).expect("string serializes"),
            Src::Num(s) => compact_json(s).ok_or(NoFit)?,
            Src::Bool(b) => b.to_string(),
            Src::Nested(raw) => compact_json(raw).ok_or(NoFit)?,
            Src::Null => unreachable!(),
        }),
    };
    Ok(Some(v))
}

fn compact_json(raw: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(raw).ok().map(|v| v.to_string())
}

fn parse_int(s: &str) -> Option<i128> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || digits.starts_with(['+']) {
        return None;
    }
    digits.parse::<i128>().ok()
}

/// JSON `5.0` or `1e3` into an integer column: accepted when the value is integral.
fn integral_float(s: &str) -> Option<i128> {
    let f = s.parse::<f64>().ok()?;
    (f.fract() == 0.0 && f.abs() < 1.7e38).then_some(f as i128)
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        parse_int(s).map(|n| n != 0).or_else(|| s.parse::<f64>().ok().map(|f| f != 0.0))
    }
}

/// Decimal text (sign, digits, fraction, exponent) → canonical text with exactly `scale`
/// fraction digits, rounded half away from zero; None when it is not a number or has more than
/// `precision - scale` integer digits.
pub fn parse_decimal(s: &str, precision: u8, scale: u8) -> Option<String> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit()) || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).map(|b| b - b'0').collect();
    let mut point = int_part.len() as i64 + exp as i64; // digits before the decimal point
    if point < 0 {
        let pad = (-point) as usize;
        digits.splice(0..0, std::iter::repeat_n(0, pad));
        point = 0;
    }
    let point = point as usize;
    while digits.len() < point + scale as usize + 1 {
        digits.push(0);
    }
    // Keep point + scale digits, round on the next one.
    let keep = point + scale as usize;
    let round_up = digits[keep] >= 5;
    digits.truncate(keep);
    if round_up {
        let mut i = keep;
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - scale as usize;
    let (ip, fp) = digits.split_at(int_len);
    let first_nonzero = ip.iter().position(|&d| d != 0).unwrap_or(ip.len());
    let ip = &ip[first_nonzero..];
    if ip.len() > (precision - scale) as usize {
        return None;
    }
    let is_zero = ip.is_empty() && fp.iter().all(|&d| d == 0);
    let mut out = String::with_capacity(ip.len() + fp.len() + 3);
    if neg && !is_zero {
        out.push('-');
    }
    if ip.is_empty() {
        out.push('0');
    } else {
        out.extend(ip.iter().map(|d| (b'0' + d) as char));
    }
    if scale > 0 {
        out.push('.');
        out.extend(fp.iter().map(|d| (b'0' + d) as char));
    }
    Some(out)
}

fn take_num(s: &str, max: usize) -> Option<(u32, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` (1–2 digit month/day) or `YYYYMMDD`; returns the rest of the text.
fn parse_date_prefix(s: &str) -> Option<(i64, u32, u32, &str)> {
    let b = s.as_bytes();
    let (y, m, d, rest) = if b.len() >= 8 && b[..8].iter().all(u8::is_ascii_digit) && (b.len() == 8 || !b[8].is_ascii_digit() || b.len() == 14) {
        (s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..8].parse().ok()?, &s[8..])
    } else {
        let (y, r) = take_num(s, 4)?;
        let sep = r.chars().next()?;
        if sep != '-' && sep != '/' {
            return None;
        }
        let (m, r) = take_num(&r[1..], 2)?;
        let r = r.strip_prefix(sep)?;
        let (d, r) = take_num(r, 2)?;
        (y as i64, m, d, r)
    };
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some((y, m, d, rest))
}

/// ` HH:MM[:SS[.ffffff]]` or `THH:MM:SS` (or `HHMMSS` right after a compact date) → micros.
fn parse_time(rest: &str) -> Option<i64> {
    let t = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('T')).unwrap_or(rest);
    let (h, m, sec, frac) = if t.len() >= 6 && t.bytes().take(6).all(|b| b.is_ascii_digit()) && !t.contains(':') {
        (t[..2].parse::<u32>().ok()?, t[2..4].parse::<u32>().ok()?, t[4..6].parse::<u32>().ok()?, &t[6..])
    } else {
        let (h, r) = take_num(t, 2)?;
        let r = r.strip_prefix(':')?;
        let (m, r) = take_num(r, 2)?;
        let (sec, r) = match r.strip_prefix(':') {
            Some(r) => take_num(r, 2)?,
            None => (0, r),
        };
        (h, m, sec, r)
    };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let micros = match frac.strip_prefix('.') {
        None if frac.is_empty() => 0,
        None => return None,
        Some(f) => {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let six: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
            six.parse::<i64>().ok()?
        }
    };
    Some(((h as i64 * 60 + m as i64) * 60 + sec as i64) * 1_000_000 + micros)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's civil-from-days inverse).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(ty: ColumnType) -> Column {
        Column { name: "c".into(), ty, nullable: true, default: None, is_key: false }
    }
    fn t(s: &str) -> Src<'_> {
        Src::Text(Cow::Borrowed(s))
    }

    #[test]
    fn integers_with_ranges() {
        assert_eq!(convert(&t("127"), &col(ColumnType::TinyInt)), Ok(Some(Value::Int(127))));
        assert_eq!(convert(&t("128"), &col(ColumnType::TinyInt)), Err(NoFit));
        assert_eq!(convert(&t("abc"), &col(ColumnType::Int)), Err(NoFit));
        assert_eq!(convert(&t(""), &col(ColumnType::Int)), Err(NoFit));
        assert_eq!(convert(&t("1.5"), &col(ColumnType::Int)), Err(NoFit));
        assert_eq!(convert(&Src::Num("3.0"), &col(ColumnType::BigInt)), Ok(Some(Value::Int(3))));
        assert_eq!(convert(&t("-170141183460469231731687303715884105728"), &col(ColumnType::LargeInt)), Ok(Some(Value::Int(i128::MIN))));
    }

    #[test]
    fn decimals_round_and_overflow() {
        assert_eq!(parse_decimal("12.5", 5, 2).as_deref(), Some("12.50"));
        assert_eq!(parse_decimal("-0.005", 5, 2).as_deref(), Some("-0.01"));
        assert_eq!(parse_decimal("0.004", 5, 2).as_deref(), Some("0.00"));
        assert_eq!(parse_decimal("999.995", 5, 2), None);
        assert_eq!(parse_decimal("999.994", 5, 2).as_deref(), Some("999.99"));
        assert_eq!(parse_decimal("1e2", 5, 0).as_deref(), Some("100"));
        assert_eq!(parse_decimal("1.5e-1", 5, 2).as_deref(), Some("0.15"));
        assert_eq!(parse_decimal("x", 5, 2), None);
        assert_eq!(parse_decimal(".5", 5, 1).as_deref(), Some("0.5"));
    }

    #[test]
    fn strings_count_bytes() {
        assert_eq!(convert(&t("héllo"), &col(ColumnType::Varchar(6))), Ok(Some(Value::Str("héllo".into()))));
        assert_eq!(convert(&t("héllo"), &col(ColumnType::Varchar(5))), Err(NoFit));
        assert_eq!(convert(&Src::Nested("{ \"a\" : 1 }"), &col(ColumnType::Varchar(20))), Ok(Some(Value::Str("{\"a\":1}".into()))));
    }

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(convert(&t("1970-01-02"), &col(ColumnType::Date)), Ok(Some(Value::Date(1))));
        assert_eq!(convert(&t("19691231"), &col(ColumnType::Date)), Ok(Some(Value::Date(-1))));
        assert_eq!(convert(&t("2024-02-30"), &col(ColumnType::Date)), Err(NoFit));
        assert_eq!(convert(&t("2024-02-29 10:00:00"), &col(ColumnType::Date)), Ok(Some(Value::Date(19782))));
        assert_eq!(convert(&t("1970-01-01 00:00:01.5"), &col(ColumnType::DateTime)), Ok(Some(Value::DateTime(1_500_000))));
        assert_eq!(convert(&t("1970-01-01T01:00:00"), &col(ColumnType::DateTime)), Ok(Some(Value::DateTime(3_600_000_000))));
        assert_eq!(convert(&t("1970-01-01 24:00:00"), &col(ColumnType::DateTime)), Err(NoFit));
        assert_eq!(convert(&t("yesterday"), &col(ColumnType::DateTime)), Err(NoFit));
    }

    #[test]
    fn json_and_bool() {
        assert_eq!(convert(&t("{\"a\": [1, 2]}"), &col(ColumnType::Json)), Ok(Some(Value::Json("{\"a\":[1,2]}".into()))));
        assert_eq!(convert(&t("{bad"), &col(ColumnType::Json)), Err(NoFit));
        assert_eq!(convert(&Src::JsonStr(Cow::Borrowed("x")), &col(ColumnType::Json)), Ok(Some(Value::Json("\"x\"".into()))));
        assert_eq!(convert(&t("TRUE"), &col(ColumnType::Boolean)), Ok(Some(Value::Bool(true))));
        assert_eq!(convert(&t("0"), &col(ColumnType::Boolean)), Ok(Some(Value::Bool(false))));
        assert_eq!(convert(&t("maybe"), &col(ColumnType::Boolean)), Err(NoFit));
        assert_eq!(convert(&Src::Null, &col(ColumnType::Int)), Ok(None));
    }
}

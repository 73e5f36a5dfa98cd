//! Dates and times as StarRocks parses them: `YYYY-MM-DD`, `HH:MM:SS[.ffffff]` and
//! `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC (fraction only when non-zero, always 6 digits).
//! Hand-written (Howard Hinnant's `civil_from_days`) instead of pulling chrono in: three small
//! pure functions, correct before 1970 thanks to Euclidean division.

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Appends `YYYY-MM-DD`.
pub fn write_date(out: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        digits(out, y as u32 / 100);
        digits(out, y as u32 % 100);
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{:04}", y);
    }
    out.push('-');
    digits(out, m);
    out.push('-');
    digits(out, d);
}

/// Appends two digits of `n` < 100: `format!` costs several times more, once per date part of
/// every timestamp of every row.
fn digits(out: &mut String, n: u32) {
    out.push((b'0' + (n / 10) as u8) as char);
    out.push((b'0' + (n % 10) as u8) as char);
}

/// Appends `HH:MM:SS[.ffffff]` for microseconds of the day (wrapped into one day).
pub fn write_time(out: &mut String, micros_of_day: i64) {
    let t = micros_of_day.rem_euclid(MICROS_PER_DAY);
    let secs = (t / 1_000_000) as u32;
    let frac = (t % 1_000_000) as u32;
    digits(out, secs / 3600);
    out.push(':');
    digits(out, secs / 60 % 60);
    out.push(':');
    digits(out, secs % 60);
    if frac != 0 {
        out.push('.');
        digits(out, frac / 10_000);
        digits(out, frac / 100 % 100);
        digits(out, frac % 100);
    }
}

/// Appends `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC) for microseconds since the epoch.
pub fn write_timestamp(out: &mut String, micros: i64) {
    write_date(out, micros.div_euclid(MICROS_PER_DAY));
    out.push(' ');
    write_time(out, micros.rem_euclid(MICROS_PER_DAY));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(us: i64) -> String {
        let mut s = String::new();
        write_timestamp(&mut s, us);
        s
    }

    #[test]
    fn dates_around_the_epoch_and_leap_years() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-25_567), (1900, 1, 1));
        let date = |d| {
            let mut s = String::new();
            write_date(&mut s, d);
            s
        };
        assert_eq!(date(-719_468), "0000-03-01");
        assert_eq!(date(-719_469), "0000-02-29");
        assert_eq!(date(-719_529), "-001-12-31");
        assert_eq!(date(2_932_896), "9999-12-31");
        assert_eq!(date(2_932_897), "10000-01-01");
    }

    #[test]
    fn timestamps_pre_epoch_and_fractions() {
        assert_eq!(ts(0), "1970-01-01 00:00:00");
        assert_eq!(ts(-1_000), "1969-12-31 23:59:59.999000");
        assert_eq!(ts(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(ts(1_714_566_896_789_000), "2024-05-01 12:34:56.789000");
        let mut s = String::new();
        write_time(&mut s, 3_723_004_000);
        assert_eq!(s, "01:02:03.004000");
    }
}

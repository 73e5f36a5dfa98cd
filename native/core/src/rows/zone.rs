//! The time zone Connect timestamps are written in (`sink.timezone`, UTC by default).
//!
//! A Connect `Timestamp` (and Debezium's `ZonedTimestamp`) is an instant; a StarRocks DATETIME
//! has no zone, so the instant is written as the wall-clock time of the configured zone. The
//! zone rules come from chrono-tz (the IANA database compiled in), not from the host.

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Option<Tz>);

impl Zone {
    pub const UTC: Zone = Zone(None);

    pub fn parse(name: &str) -> Option<Zone> {
        match name {
            "UTC" | "utc" | "Z" | "" => Some(Zone::UTC),
            _ => name.parse::<Tz>().ok().map(|tz| Zone(Some(tz))),
        }
    }

    /// Wall-clock microseconds (as if UTC) of the instant `utc_micros` in this zone.
    pub fn local_micros(self, utc_micros: i64) -> i64 {
        let Some(tz) = self.0 else { return utc_micros };
        let secs = utc_micros.div_euclid(1_000_000);
        match DateTime::from_timestamp(secs, 0) {
            Some(t) => {
                let offset = tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc() as i64;
                utc_micros.saturating_add(offset * 1_000_000)
            }
            None => utc_micros,
        }
    }
}

/// Microseconds since the epoch of an ISO-8601 instant with offset (`2024-05-01T12:00:00.5+02:00`, `...Z`).
pub fn parse_instant(text: &str) -> Option<i64> {
    let t = DateTime::parse_from_rfc3339(text.trim()).ok()?;
    Some(t.timestamp().checked_mul(1_000_000)? + t.timestamp_subsec_micros() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_shift_by_their_offset_at_the_instant() {
        let z = Zone::parse("Asia/Shanghai").unwrap();
        assert_eq!(z.local_micros(0), 8 * 3600 * 1_000_000);
        let ny = Zone::parse("America/New_York").unwrap();
        let july = 1_719_835_200_000_000; // 2024-07-01T12:00:00Z, daylight saving time
        assert_eq!(ny.local_micros(july), july - 4 * 3600 * 1_000_000);
        assert_eq!(Zone::UTC.local_micros(-5), -5);
        assert!(Zone::parse("Mars/Olympus").is_none());
    }

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:00:01.000002Z"), Some(1_000_002));
        assert_eq!(parse_instant("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(parse_instant("yesterday"), None);
    }
}

//! Time as Picket keeps it: microseconds since the Unix epoch, UTC.
//!
//! This module owns the conversions between that integer and calendar dates, and the
//! parsing of the timestamp styles logs use: RFC 3339 (the Debian 12+ rsyslog default),
//! BSD syslog (`Dec 10 06:55:46`, no year, local time) and dpkg's `2026-11-21 10:00:01`
//! (local time). Calendar arithmetic is done by hand (Howard Hinnant's days-from-civil)
//! because it runs once per log line; only the local-time zone rules come from `jiff`,
//! and their result is cached per hour.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time: microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

pub const MICROS_PER_SEC: i64 = 1_000_000;

impl Timestamp {
    pub const fn from_micros(us: i64) -> Timestamp {
        Timestamp(us)
    }
    pub const fn from_secs(s: i64) -> Timestamp {
        Timestamp(s * MICROS_PER_SEC)
    }
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }
    /// The wall clock now. Only sources and the CLI call this; the engine uses event time.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(d.as_micros() as i64)
    }
    pub fn saturating_add_secs(self, s: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(s.saturating_mul(MICROS_PER_SEC)))
    }

    /// Calendar fields in UTC: (year, month 1-12, day 1-31, hour, minute, second, micros).
    pub fn to_civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let secs = self.0.div_euclid(MICROS_PER_SEC);
        let micros = self.0.rem_euclid(MICROS_PER_SEC) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, sod / 3600, (sod / 60) % 60, sod % 60, micros)
    }

    /// Parses RFC 3339 / ISO 8601 with an offset (`Z`, `+00:00`, `-0400`), with or without
    /// fractional seconds. Also accepts a space instead of `T`.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let (ts, used) = parse_rfc3339_prefix(s.as_bytes())?;
        (used == s.len()).then_some(ts)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with microseconds only when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, us) = self.to_civil();
        if us == 0 {
            write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z")
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {s:?}")))
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// A naive (zone-less) date and time, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

impl Civil {
    fn valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60
    }
    /// Seconds since the epoch if this civil time were UTC (leap second folded into :59).
    pub fn utc_secs(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + (self.hour * 3600 + self.minute * 60 + self.second.min(59)) as i64
    }
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.frac]` at the start of `b`; returns it and bytes used.
pub fn parse_naive_datetime_prefix(b: &[u8]) -> Option<(Civil, usize)> {
    let year = digits(b, 0, 4)? as i64;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    let mut i = 19;
    let mut micros = 0u32;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        let mut scale = 100_000u32;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            micros += (c - b'0') as u32 * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let c = Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
    };
    c.valid().then_some((c, i))
}

/// Parses an RFC 3339 timestamp (with offset) at the start of `b`.
pub fn parse_rfc3339_prefix(b: &[u8]) -> Option<(Timestamp, usize)> {
    let (c, mut i) = parse_naive_datetime_prefix(b)?;
    let offset_secs: i64 = match b.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let h = digits(b, i + 1, 2)? as i64;
            let (m, used) = if b.get(i + 3) == Some(&b':') {
                (digits(b, i + 4, 2)? as i64, 6)
            } else {
                (digits(b, i + 3, 2)? as i64, 5)
            };
            if h > 23 || m > 59 {
                return None;
            }
            i += used;
            let off = h * 3600 + m * 60;
            if sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let secs = c.utc_secs() - offset_secs;
    Some((Timestamp(secs * MICROS_PER_SEC + c.micros as i64), i))
}

/// Month abbreviation (`Jan` … `Dec`, any case) to 1-12.
pub fn month_from_abbrev(b: &[u8]) -> Option<u32> {
    let m = [
        b.first()?.to_ascii_lowercase(),
        b.get(1)?.to_ascii_lowercase(),
        b.get(2)?.to_ascii_lowercase(),
    ];
    Some(match &m {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// A BSD syslog stamp without its year: `Dec 10 06:55:46` (day may be space-padded,
/// optional fractional seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearlessStamp {
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

/// Parses a BSD stamp at the start of `b`; returns it and the bytes used.
pub fn parse_bsd_prefix(b: &[u8]) -> Option<(YearlessStamp, usize)> {
    let month = month_from_abbrev(b)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let mut i = 4;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    let day = if let Some(d) = digits(b, i, 2) {
        i += 2;
        d
    } else {
        let d = digits(b, i, 1)?;
        i += 1;
        d
    };
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let hour = digits(b, i + 1, 2)?;
    if b.get(i + 3) != Some(&b':') || b.get(i + 6) != Some(&b':') {
        return None;
    }
    let minute = digits(b, i + 4, 2)?;
    let second = digits(b, i + 7, 2)?;
    i += 9;
    let mut micros = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        let mut scale = 100_000u32;
        while let Some(c) = b.get(j).filter(|c| c.is_ascii_digit()) {
            micros += (c - b'0') as u32 * scale;
            scale /= 10;
            j += 1;
        }
        if j > start {
            i = j;
        }
    }
    if day == 0 || day > 31 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((
        YearlessStamp {
            month,
            day,
            hour,
            minute,
            second,
            micros,
        },
        i,
    ))
}

/// Turns local (wall-clock) civil times into UTC for one time zone, with a cache keyed
/// by the hour, so a million lines cost a million hash-free array probes, not a million
/// zone-rule lookups.
#[derive(Debug, Clone)]
pub struct LocalZone {
    tz: jiff::tz::TimeZone,
    /// (utc-hour-of-naive-time, offset seconds) of the last lookup.
    cache: Option<(i64, i64)>,
}

impl LocalZone {
    /// The system's zone (`TZ`, else `/etc/localtime`), UTC if neither can be read.
    pub fn system() -> LocalZone {
        LocalZone {
            tz: jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC),
            cache: None,
        }
    }
    pub fn utc() -> LocalZone {
        LocalZone {
            tz: jiff::tz::TimeZone::UTC,
            cache: None,
        }
    }
    /// A named IANA zone, e.g. `Europe/Zurich`.
    pub fn named(name: &str) -> Result<LocalZone, String> {
        jiff::tz::TimeZone::get(name)
            .map(|tz| LocalZone { tz, cache: None })
            .map_err(|e| format!("unknown time zone {name:?}: {e}"))
    }

    /// The UTC instant of a local civil time. Ambiguous times (DST fall-back) take the
    /// earlier instant; times in a DST gap are shifted forward, as `jiff` does.
    pub fn to_utc(&mut self, c: &Civil) -> Timestamp {
        let naive = c.utc_secs();
        let hour_key = naive.div_euclid(3600);
        let offset = match self.cache {
            Some((k, off)) if k == hour_key => off,
            _ => {
                let off = self.offset_for_naive(c);
                self.cache = Some((hour_key, off));
                off
            }
        };
        Timestamp((naive - offset) * MICROS_PER_SEC + c.micros as i64)
    }

    fn offset_for_naive(&self, c: &Civil) -> i64 {
        let dt = jiff::civil::DateTime::new(
            c.year.clamp(-9999, 9999) as i16,
            c.month as i8,
            c.day as i8,
            c.hour as i8,
            c.minute as i8,
            c.second.min(59) as i8,
            0,
        );
        match dt.and_then(|dt| self.tz.to_ambiguous_zoned(dt).compatible()) {
            Ok(z) => z.offset().seconds() as i64,
            Err(_) => 0,
        }
    }

    /// The calendar year of `ts` in this zone.
    pub fn year_of(&self, ts: Timestamp) -> i64 {
        jiff::Timestamp::from_microsecond(ts.as_micros())
            .map(|t| t.to_zoned(self.tz.clone()).year() as i64)
            .unwrap_or_else(|_| ts.to_civil().0)
    }
}

/// Gives BSD stamps their missing year.
///
/// The rule (fail2ban's, and what a person reading the file assumes): a stamp belongs to
/// the latest year in which it does not lie in the future of the reference time — "now"
/// when tailing live, the file's modification time when replaying. A file that runs from
/// December into January thus gets the old year for December and the new one for January.
/// A day of slack absorbs clock skew between the logging host and this one.
#[derive(Debug, Clone)]
pub struct YearInference {
    reference: Timestamp,
    reference_year: i64,
    /// (month, day, hour) of the last stamp and the UTC micros of that hour's start: logs
    /// are in time order, so most lines fall in the hour of the line before.
    hour_cache: Option<((u32, u32, u32), i64)>,
}

/// How far in the future a stamp may lie before it is taken to be from last year.
const FUTURE_SLACK_SECS: i64 = 86_400;

impl YearInference {
    pub fn new(reference: Timestamp, zone: &LocalZone) -> YearInference {
        YearInference {
            reference,
            reference_year: zone.year_of(reference),
            hour_cache: None,
        }
    }
    pub fn reference(&self) -> Timestamp {
        self.reference
    }
    /// Moves the reference forward (a live tail calls this as time passes).
    pub fn advance_to(&mut self, now: Timestamp, zone: &LocalZone) {
        if now > self.reference {
            self.reference = now;
            self.reference_year = zone.year_of(now);
            self.hour_cache = None;
        }
    }
    pub fn resolve(&mut self, s: &YearlessStamp, zone: &mut LocalZone) -> Timestamp {
        let key = (s.month, s.day, s.hour);
        let into_hour =
            (s.minute.min(59) * 60 + s.second.min(59)) as i64 * MICROS_PER_SEC + s.micros as i64;
        if let Some((k, base)) = self.hour_cache {
            if k == key {
                return Timestamp(base + into_hour);
            }
        }
        let ts = self.resolve_uncached(s, zone);
        // Cache the hour only when all of it resolves to the same year.
        let base = ts.0 - into_hour;
        if base + 3600 * MICROS_PER_SEC <= self.reference.saturating_add_secs(FUTURE_SLACK_SECS).0 {
            self.hour_cache = Some((key, base));
        }
        ts
    }

    fn resolve_uncached(&self, s: &YearlessStamp, zone: &mut LocalZone) -> Timestamp {
        let limit = self.reference.saturating_add_secs(FUTURE_SLACK_SECS);
        let mut year = self.reference_year;
        // Feb 29 exists only in leap years: walk back to one where the date is valid.
        for _ in 0..8 {
            let c = Civil {
                year,
                month: s.month,
                day: s.day,
                hour: s.hour,
                minute: s.minute,
                second: s.second,
                micros: s.micros,
            };
            if c.valid() {
                let ts = zone.to_utc(&c);
                if ts <= limit {
                    return ts;
                }
            }
            year -= 1;
        }
        // Unreachable for valid stamps; fall back to the reference year in UTC.
        let c = Civil {
            year: self.reference_year,
            month: s.month,
            day: s.day.min(28),
            hour: s.hour,
            minute: s.minute,
            second: s.second,
            micros: s.micros,
        };
        Timestamp::from_secs(c.utc_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn civil_conversion_round_trips_over_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn rfc3339_offsets_and_fractions() {
        assert_eq!(
            ts("2026-11-21T11:45:39.328904+00:00").to_string(),
            "2026-11-21T11:45:39.328904Z"
        );
        assert_eq!(
            ts("2019-07-08T17:40:16.954167-04:00").to_string(),
            "2019-07-08T21:40:16.954167Z"
        );
        assert_eq!(
            ts("2015-04-16T18:02:50Z").to_string(),
            "2015-04-16T18:02:50Z"
        );
        assert_eq!(
            ts("2015-04-16 18:02:50+0130").to_string(),
            "2015-04-16T16:32:50Z"
        );
        assert!(Timestamp::parse_rfc3339("2015-02-30T00:00:00Z").is_none());
        assert!(Timestamp::parse_rfc3339("2015-04-16T18:02:50").is_none());
        assert!(Timestamp::parse_rfc3339("2015-04-16T25:02:50Z").is_none());
    }

    #[test]
    fn bsd_stamps_with_padded_days() {
        let (s, n) = parse_bsd_prefix(b"Jul  3 14:59:17 host").unwrap();
        assert_eq!(
            (s.month, s.day, s.hour, s.minute, s.second, n),
            (7, 3, 14, 59, 17, 15)
        );
        let (s, n) = parse_bsd_prefix(b"Dec 10 06:55:46 LabSZ").unwrap();
        assert_eq!((s.month, s.day, n), (12, 10, 15));
        assert!(parse_bsd_prefix(b"Foo 10 06:55:46").is_none());
        assert!(parse_bsd_prefix(b"Dec 10 6:55:46").is_none());
    }

    #[test]
    fn year_is_inferred_across_new_year() {
        let mut utc = LocalZone::utc();
        let mut inf = YearInference::new(ts("2027-01-02T08:00:00Z"), &utc);
        let dec = parse_bsd_prefix(b"Dec 31 23:59:59").unwrap().0;
        let jan = parse_bsd_prefix(b"Jan  1 00:00:01").unwrap().0;
        assert_eq!(
            inf.resolve(&dec, &mut utc).to_string(),
            "2026-12-31T23:59:59Z"
        );
        assert_eq!(
            inf.resolve(&jan, &mut utc).to_string(),
            "2027-01-01T00:00:01Z"
        );
    }

    #[test]
    fn year_inference_matches_fail2bans_reference_rule() {
        // fail2ban's sample logs: now = 2005-08-14 12:00 CEST, zone Europe/Zurich.
        let mut zone = LocalZone::named("Europe/Zurich").unwrap();
        let mut inf = YearInference::new(ts("2005-08-14T10:00:00Z"), &zone);
        let nov = parse_bsd_prefix(b"Nov 11 23:33:27").unwrap().0;
        let jun = parse_bsd_prefix(b"Jun 21 16:47:48").unwrap().0;
        assert_eq!(
            inf.resolve(&nov, &mut zone).to_string(),
            "2004-11-11T22:33:27Z"
        );
        assert_eq!(
            inf.resolve(&jun, &mut zone).to_string(),
            "2005-06-21T14:47:48Z"
        );
    }

    #[test]
    fn the_hour_cache_gives_what_the_full_computation_gives() {
        let mut zone = LocalZone::named("Europe/Zurich").unwrap();
        let mut cached = YearInference::new(ts("2026-11-21T12:00:00Z"), &zone);
        let uncached = YearInference::new(ts("2026-11-21T12:00:00Z"), &zone);
        // Through a DST change (2026-03-29 02:00 CET → 03:00 CEST) and up to the
        // reference's future slack, minute by minute.
        for line in [
            "Mar 29 01:59:59",
            "Mar 29 03:00:00",
            "Mar 29 03:00:01",
            "Nov 22 11:59:59",
            "Nov 22 12:00:01",
            "Nov 22 12:59:59",
            "Nov 22 13:00:00",
        ] {
            let s = parse_bsd_prefix(line.as_bytes()).unwrap().0;
            assert_eq!(
                cached.resolve(&s, &mut zone),
                uncached.resolve_uncached(&s, &mut zone),
                "{line}"
            );
            assert_eq!(
                cached.resolve(&s, &mut zone),
                uncached.resolve_uncached(&s, &mut zone),
                "{line} (cached)"
            );
        }
    }

    #[test]
    fn leap_day_walks_back_to_a_leap_year() {
        let mut utc = LocalZone::utc();
        let mut inf = YearInference::new(ts("2027-03-01T00:00:00Z"), &utc);
        let feb29 = parse_bsd_prefix(b"Feb 29 12:00:00").unwrap().0;
        assert_eq!(
            inf.resolve(&feb29, &mut utc).to_string(),
            "2024-02-29T12:00:00Z"
        );
    }
}

//! Times as RFC 3339 in UTC, without a date crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, as `2026-11-29T04:00:11.123456789Z`.
pub fn now_rfc3339() -> String {
    format_rfc3339(SystemTime::now())
}

/// Unix seconds `t` as `2026-11-29T04:00:11Z` (a reproducible build's
/// time, whole seconds as buildkit writes it); none: now.
pub fn rfc3339_or_now(t: Option<i64>) -> String {
    match t {
        Some(t) => {
            let at = UNIX_EPOCH + Duration::from_secs(t.max(0) as u64);
            format_rfc3339(at)[..19].to_string() + "Z"
        }
        None => now_rfc3339(),
    }
}

pub fn format_rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs.div_euclid(86400));
    let s = secs.rem_euclid(86400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_nanos()
    )
}

/// An RFC 3339 time as Go's time.String prints docker's `CreatedAt`:
/// `2026-11-29 04:00:11 +0000 UTC`.
pub fn docker_time(rfc3339: &str) -> String {
    match parse_rfc3339(rfc3339) {
        Some(t) => format_rfc3339(t)[..19].replace('T', " ") + " +0000 UTC",
        None => String::new(),
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
/// An HTTP date (RFC 9110's IMF-fixdate, `Sun, 06 Nov 1994 08:49:37
/// GMT`), as a Last-Modified header gives it.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let f: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, clock, "GMT"] = f.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|n| n == month)? + 1;
    parse_rfc3339(&format!("{year}-{m:02}-{:0>2}T{clock}Z", day))
}

pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let days = days_from_civil(num(0..4)?, num(5..7)?, num(8..10)?);
    let mut secs = days * 86400 + num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?;
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
        let padded = format!("{:0<9}", &frac[..digits.min(9)]);
        nanos = padded.parse().ok()?;
        rest = &frac[digits..];
    }
    match rest.as_bytes().first()? {
        b'Z' | b'z' => {}
        sign @ (b'+' | b'-') => {
            let off = rest.get(1..3)?.parse::<i64>().ok()? * 3600
                + rest.get(4..6)?.parse::<i64>().ok()? * 60;
            secs -= if *sign == b'+' { off } else { -off };
        }
        _ => return None,
    }
    Some(UNIX_EPOCH + Duration::new(secs.try_into().ok()?, nanos))
}

/// [`parse_when`] for a command-line value: a usage error names it.
pub fn when_arg(s: &str, now: SystemTime) -> crate::error::Result<SystemTime> {
    parse_when(s, now).ok_or_else(|| {
        crate::error::Error::Usage(format!(
            "invalid time '{s}': use RFC 3339, a date, unix seconds or a duration like 10m"
        ))
    })
}

/// A duration option's value in Go's form (`30s`, `1m30s`, `500ms`, `0`);
/// a usage error names the option.
pub fn duration_arg(option: &str, s: &str) -> crate::error::Result<Duration> {
    parse_duration(s).ok_or_else(|| {
        crate::error::Error::Usage(format!(
            "invalid {option} '{s}': use a duration like 30s, 1m30s or 500ms"
        ))
    })
}

/// A point in time as docker's `--since`/`--until` take it: a duration
/// before `now` (Go's form: `10m`, `1h30m`, `1.5h`, `250ms`; cc also
/// takes `d` for days), unix seconds with an optional fraction
/// (`1700000000.5`), or a date `YYYY-MM-DD` with an optional time
/// `THH:MM[:SS[.frac]]` and an optional zone `Z`/`±HH:MM`; without a zone
/// the date is local time, as docker reads it.
pub fn parse_when(s: &str, now: SystemTime) -> Option<SystemTime> {
    if let Some(d) = parse_duration(s) {
        return now.checked_sub(d);
    }
    if let Some(t) = parse_unix(s) {
        return Some(t);
    }
    parse_date(s)
}

/// Go's `time.ParseDuration` units, plus `d`; no sign. A bare `0` is
/// zero, as in Go.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        };
        total += value * unit;
        rest = &rest[u..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// A duration as Go's `Duration.String` prints it: `30s`, `1m30s`,
/// `1.5s`, `250ms`, `2h0m0s`.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        let (unit, div) = match ns {
            0..=999 => ("ns", 1u128),
            1_000..=999_999 => ("\u{b5}s", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{}{unit}", fraction(ns, div));
    }
    let secs = fraction(ns % 60_000_000_000, 1_000_000_000);
    let mins = ns / 60_000_000_000;
    match (mins / 60, mins % 60) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

/// `n / div` with its fraction's trailing zeros cut, as Go prints.
fn fraction(n: u128, div: u128) -> String {
    let whole = n / div;
    let rest = n % div;
    if rest == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// `SECONDS[.FRACTION]` since the epoch.
fn parse_unix(s: &str) -> Option<SystemTime> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || !digits(secs) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let nanos = format!("{frac:0<9}").parse().ok()?;
    Some(UNIX_EPOCH + Duration::new(secs.parse().ok()?, nanos))
}

/// `YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|±HH:MM]`; local time without a zone.
fn parse_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let days = days_from_civil(num(0..4)?, num(5..7)?, num(8..10)?);
    let mut secs = days * 86400;
    let mut rest = &s[10..];
    if let Some(t) = rest.strip_prefix(['T', 't']) {
        secs += num(11..13)? * 3600 + num(14..16)? * 60;
        if t.as_bytes().get(2) != Some(&b':') {
            return None;
        }
        rest = &t[5..];
        if let Some(sec) = rest.strip_prefix(':') {
            secs += num(17..19)?;
            rest = &sec[2..];
        }
    }
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
        nanos = format!("{:0<9}", &frac[..n.min(9)]).parse().ok()?;
        rest = &frac[n..];
    }
    match rest.as_bytes().first() {
        None => secs -= local_offset(secs),
        Some(b'Z' | b'z') if rest.len() == 1 => {}
        Some(sign @ (b'+' | b'-')) if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let off = rest.get(1..3)?.parse::<i64>().ok()? * 3600
                + rest.get(4..6)?.parse::<i64>().ok()? * 60;
            secs -= if *sign == b'+' { off } else { -off };
        }
        _ => return None,
    }
    Some(UNIX_EPOCH + Duration::new(secs.try_into().ok()?, nanos))
}

/// The local zone's offset from UTC (seconds east) at a local wall-clock
/// time given as if it were UTC.
fn local_offset(wall: i64) -> i64 {
    let at = |t: i64| -> i64 {
        let t = t as libc::time_t;
        // SAFETY: localtime_r reads `t` and writes only the tm we own; a
        // zeroed tm is a valid value of the plain C struct.
        unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            if libc::localtime_r(&t, &mut tm).is_null() {
                return 0;
            }
            tm.tm_gmtoff
        }
    };
    // Twice, so a wall time just past a DST change gets its own offset.
    let first = at(wall);
    at(wall - first)
}

/// "5 seconds ago", "3 minutes ago", as docker prints ages.
pub fn ago(t: SystemTime) -> String {
    let s = SystemTime::now()
        .duration_since(t)
        .unwrap_or_default()
        .as_secs();
    let (n, unit) = match s {
        0..=59 => (s, "second"),
        60..=3599 => (s / 60, "minute"),
        3600..=86399 => (s / 3600, "hour"),
        _ => (s / 86400, "day"),
    };
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

// Howard Hinnant's civil-date algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_read_as_last_modified_gives_them() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            784111777
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"), None);
    }

    #[test]
    fn durations_print_as_go_does() {
        let ms = Duration::from_millis;
        assert_eq!(go_duration(ms(30_000)), "30s");
        assert_eq!(go_duration(ms(90_000)), "1m30s");
        assert_eq!(go_duration(ms(1_500)), "1.5s");
        assert_eq!(go_duration(ms(250)), "250ms");
        assert_eq!(go_duration(ms(7_200_000)), "2h0m0s");
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("1m30s"), Some(ms(90_000)));
    }

    #[test]
    fn round_trips() {
        let t = UNIX_EPOCH + Duration::new(1_796_000_000, 123_456_789);
        let s = format_rfc3339(t);
        assert_eq!(s, "2026-11-30T00:53:20.123456789Z");
        assert_eq!(parse_rfc3339(&s), Some(t));
        assert_eq!(
            parse_rfc3339("2026-11-30T02:53:20+02:00"),
            Some(UNIX_EPOCH + Duration::from_secs(1_796_000_000))
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn docker_time_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let at = |s: u64| Some(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(parse_when("10m", now), at(1_796_000_000 - 600));
        assert_eq!(parse_when("1h30m", now), at(1_796_000_000 - 5400));
        assert_eq!(parse_when("1.5h", now), at(1_796_000_000 - 5400));
        assert_eq!(parse_when("2d", now), at(1_796_000_000 - 172_800));
        assert_eq!(
            parse_when("250ms", now),
            Some(now - Duration::from_millis(250))
        );
        assert_eq!(parse_when("1700000000", now), at(1_700_000_000));
        assert_eq!(
            parse_when("1700000000.5", now),
            Some(UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000))
        );
        assert_eq!(parse_when("2026-11-30T00:53:20Z", now), at(1_796_000_000));
        assert_eq!(
            parse_when("2026-11-30T00:53:20.25Z", now),
            Some(UNIX_EPOCH + Duration::new(1_796_000_000, 250_000_000))
        );
        assert_eq!(
            parse_when("2026-11-30T02:53:20+02:00", now),
            at(1_796_000_000)
        );
        assert_eq!(parse_when("2026-11-30T00:53Z", now), at(1_796_000_000 - 20));
        assert_eq!(parse_when("2026-11-30Z", now), at(1_795_996_800));
        // No zone: local time (this process's TZ).
        let local = parse_when("2026-11-30", now).unwrap();
        let utc = UNIX_EPOCH + Duration::from_secs(1_795_996_800);
        let off = local_offset(1_795_996_800);
        assert_eq!(
            local,
            if off >= 0 {
                utc - Duration::from_secs(off as u64)
            } else {
                utc + Duration::from_secs((-off) as u64)
            }
        );
        for bad in [
            "",
            "yesterday",
            "10x",
            "2026-13",
            "2026-11-30T1",
            "2026-11-30T00:53:20+2",
            "-5m",
            "1.2.3",
        ] {
            assert_eq!(parse_when(bad, now), None, "{bad}");
        }
    }
}

//! Timestamps in JSON answers, written as chrono's serde writes them (RFC 3339, UTC as `Z`,
//! fractional seconds as `SecondsFormat::AutoSi`: none, 3, 6 or 9 digits) but without going
//! through `fmt`: chrono's `Serialize` hands serde_json a `Display`, which it escapes fragment
//! by fragment, and a page of views has hundreds of timestamps (about a tenth of a feed page's
//! time), and serde_json escaped the text again, byte by byte: it is written as it is
//! (`crate::json::raw`). For fields: `#[serde(serialize_with = "crate::http::json_time::at")]`
//! (and `opt`).
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// Writes `t` into `buf`; `None` where chrono's own form is not this simple one (a year outside
/// 0-9999, a leap second).
fn format(t: &DateTime<Utc>, buf: &mut [u8; 32]) -> Option<usize> {
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    fn put(buf: &mut [u8], at: usize, n: u32, digits: usize) {
        let mut n = n;
        for i in (0..digits).rev() {
            buf[at + i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    put(buf, 0, year as u32, 4);
    buf[4] = b'-';
    put(buf, 5, t.month(), 2);
    buf[7] = b'-';
    put(buf, 8, t.day(), 2);
    buf[10] = b'T';
    put(buf, 11, t.hour(), 2);
    buf[13] = b':';
    put(buf, 14, t.minute(), 2);
    buf[16] = b':';
    put(buf, 17, t.second(), 2);
    let mut len = 19;
    let (value, digits) = if nanos == 0 {
        (0, 0)
    } else if nanos.is_multiple_of(1_000_000) {
        (nanos / 1_000_000, 3)
    } else if nanos.is_multiple_of(1_000) {
        (nanos / 1_000, 6)
    } else {
        (nanos, 9)
    };
    if digits > 0 {
        buf[len] = b'.';
        put(buf, len + 1, value, digits);
        len += 1 + digits;
    }
    buf[len] = b'Z';
    Some(len + 1)
}

/// A timestamp field, written between quotes as it is (nothing in it needs escaping).
pub fn at<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 32];
    let Some(n) = format(t, &mut buf) else {
        return serde::Serialize::serialize(t, s);
    };
    let Ok(text) = std::str::from_utf8(&buf[..n]) else {
        return serde::Serialize::serialize(t, s);
    };
    let mut quoted = [0u8; 34];
    crate::json::raw(crate::json::quoted(text, &mut quoted), s)
}

/// An optional timestamp field (`null` when absent).
pub fn opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => at(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[derive(serde::Serialize)]
    struct Ours(#[serde(serialize_with = "at")] DateTime<Utc>);

    #[test]
    fn writes_what_chrono_writes() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut cases = vec![
            Utc.with_ymd_and_hms(2026, 12, 5, 3, 33, 13).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-5, 1, 1, 0, 0, 0).unwrap(),
        ];
        for _ in 0..20_000 {
            let secs = (next() % 400_000_000_000) as i64 - 100_000_000_000;
            let nanos = match next() % 4 {
                0 => 0,
                1 => (next() % 1000) as u32 * 1_000_000,
                2 => (next() % 1_000_000) as u32 * 1_000,
                _ => (next() % 1_000_000_000) as u32,
            };
            cases.push(Utc.timestamp_opt(secs, nanos).unwrap());
        }
        for t in cases {
            assert_eq!(
                serde_json::to_string(&Ours(t)).unwrap(),
                serde_json::to_string(&t).unwrap(),
                "{t:?}"
            );
        }
    }
}

//! How long a closed application keeps its personal data and documents. No I/O here.
//!
//! A service version says `retention_days` (default ten years, as Swiss archives expect for
//! decisions; shorter for simple services). The clock starts when the application reaches a
//! final phase (rejected, completed, withdrawn) and the period is the one of the version it was
//! made under, fixed at that moment: a later catalogue change does not move it. When it has run
//! out, the retention run deletes the documents and anonymises the row, keeping the reference,
//! the service, the dates and the phases for statistics.
use chrono::{DateTime, Duration, Utc};

use super::FieldError;
use crate::msg;

/// Ten years.
pub const DEFAULT_DAYS: u32 = 3650;
/// Shorter would let the data go before the partner systems' feed (90 days) and the
/// applicant's own copy had a chance.
pub const MIN_DAYS: u32 = 30;
/// A hundred years.
pub const MAX_DAYS: u32 = 36_500;

/// The days a version keeps closed applications.
pub fn days(retention_days: Option<u32>) -> u32 {
    retention_days.unwrap_or(DEFAULT_DAYS)
}

/// Until when an application closed at `closed` is kept.
pub fn keep_until(closed: DateTime<Utc>, retention_days: Option<u32>) -> DateTime<Utc> {
    closed + Duration::days(i64::from(days(retention_days)))
}

/// A catalogue's `retention_days`, checked.
pub fn check(retention_days: Option<u32>, pointer: String, errors: &mut Vec<FieldError>) {
    if let Some(d) = retention_days {
        if !(MIN_DAYS..=MAX_DAYS).contains(&d) {
            errors.push(FieldError::new(
                pointer,
                "range",
                msg!("between {min} and {max} days", min = MIN_DAYS, max = MAX_DAYS),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_starts_at_closure_and_defaults_to_ten_years() {
        let closed = DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(keep_until(closed, None).to_rfc3339(), "2036-12-02T10:00:00+00:00");
        assert_eq!(keep_until(closed, Some(30)).to_rfc3339(), "2027-01-04T10:00:00+00:00");
        let mut errors = Vec::new();
        for ok in [None, Some(MIN_DAYS), Some(MAX_DAYS)] {
            check(ok, "/retention_days".into(), &mut errors);
        }
        assert!(errors.is_empty());
        check(Some(29), "/retention_days".into(), &mut errors);
        check(Some(36_501), "/retention_days".into(), &mut errors);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].code, "range");
    }
}

//! The service version an application was made against, as this instance's catalogue holds
//! it: what the views, the documents and the moves read from it (steps, phase, due date).
use chrono::{DateTime, Duration, Utc};

use crate::catalogue::snapshot::{ServiceEntry, Snapshot, VersionEntry};
use crate::db::applications::ApplicationRow;
use crate::domain::application::Phase;
use crate::domain::status::{effective_steps, StatusStep};
use crate::error::ApiError;
use crate::msg;

pub fn phase_of(row: &ApplicationRow) -> Result<Phase, ApiError> {
    Phase::parse(&row.phase).ok_or_else(|| ApiError::internal(format!("unknown phase '{}'", row.phase)))
}

/// The service entry and the version an application was made against.
pub fn version_of<'s>(
    snap: &'s Snapshot,
    row: &ApplicationRow,
) -> Result<(&'s ServiceEntry, &'s VersionEntry), ApiError> {
    // Published versions are never removed, so a miss means this instance's copy of the
    // catalogue has not caught up with a version published moments ago (at most ~2 s).
    let behind = || {
        ApiError::unavailable(msg!(
            "This instance's catalogue is catching up with a new service version; retry shortly."
        ))
    };
    let s = snap.service(&row.service_id.0.to_string()).ok_or_else(behind)?;
    let v = s
        .versions
        .iter()
        .find(|v| v.version == row.service_version)
        .ok_or_else(behind)?;
    Ok((s, v))
}

pub fn steps_of(v: &VersionEntry) -> Vec<StatusStep> {
    effective_steps(&v.content.status_steps)
}

/// The expected decision date of an application submitted at `at`: the service's processing
/// time, or else the sum of its steps' expected durations; None when neither is known.
pub fn due_date(v: &VersionEntry, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let pt = &v.content.processing_time;
    if let Some(days) = pt.days {
        return Some(pt.unit.add(at, days));
    }
    let sum: u32 = v.content.status_steps.iter().filter_map(|s| s.expected_days).sum();
    (sum > 0).then(|| at + Duration::days(i64::from(sum)))
}

//! The list of applications: the applicant's list and the clerks' work queue. The query
//! parameters become a filter and an order here; `Reads` runs them with the caller's
//! visibility (`Reader`) in the query.
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{access, views, Reads};
use crate::auth::Caller;
use crate::catalogue::snapshot::Snapshot;
use crate::db::applications::{ListFilter, Order, Reader};
use crate::db::types::{SqlTime, SqlUuid};
use crate::domain::application::Phase;
use crate::domain::lang::Lang;
use crate::error::ApiError;
use crate::http::pagination;
use crate::msg;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplicationParams {
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    #[param(max_length = 1024)]
    cursor: Option<String>,
    /// One phase or several, comma-separated (`submitted,in_review`).
    #[param(max_length = 200, example = "submitted,in_review")]
    phase: Option<String>,
    /// A status step key.
    #[param(max_length = 64)]
    step: Option<String>,
    /// Service slug or id.
    #[param(max_length = 64)]
    service: Option<String>,
    /// Department slug or id.
    #[param(max_length = 64)]
    department: Option<String>,
    /// An account id, `me`, or `none` for unassigned applications.
    #[param(max_length = 64)]
    assignee: Option<String>,
    /// Submitted at or after (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    submitted_after: Option<String>,
    /// Submitted before (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    submitted_before: Option<String>,
    /// Only applications past their expected decision date.
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
    /// Only applications waiting for the applicant's answer past the day the department set
    /// for it (`requests_due`).
    #[param(value_type = Option<bool>)]
    answer_overdue: Option<String>,
    /// `-created_at` (default, newest first), `submitted_at` (oldest first, the queue's order),
    /// `-submitted_at`, or `due_at` (earliest due first). Sorting by submission or due date
    /// lists only applications that have one.
    #[param(value_type = Option<ApplicationSort>)]
    sort: Option<String>,
    #[param(value_type = Option<crate::domain::lang::LangParam>)]
    pub lang: Option<String>,
}

/// Orders of the application list.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum ApplicationSort {
    #[schema(rename = "-created_at")]
    CreatedDesc,
    #[schema(rename = "submitted_at")]
    SubmittedAsc,
    #[schema(rename = "-submitted_at")]
    SubmittedDesc,
    #[schema(rename = "due_at")]
    DueAsc,
}

fn time(name: &str, v: &Option<String>) -> Result<Option<SqlTime>, ApiError> {
    v.as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| SqlTime(t.with_timezone(&Utc)))
                .map_err(|_| {
                    ApiError::invalid_parameter(name, msg!("an RFC 3339 date-time such as 2026-11-28T09:00:00Z"))
                })
        })
        .transpose()
}

fn filter(p: &ApplicationParams, caller: &Caller, snap: &Snapshot) -> Result<(ListFilter, Order), ApiError> {
    let mut f = ListFilter::default();
    if let Some(list) = &p.phase {
        for name in list.split(',').map(str::trim) {
            let phase = Phase::parse(name).ok_or_else(|| {
                ApiError::invalid_parameter(
                    "phase",
                    msg!("phases are draft, submitted, in_review, action_required, approved, rejected, completed, withdrawn"),
                )
            })?;
            f.phases.push(phase.as_str().to_string());
        }
    }
    if let Some(s) = &p.step {
        if !crate::domain::catalogue::is_slug(s) && Phase::parse(s).is_none() {
            return Err(ApiError::invalid_parameter("step", msg!("a step key")));
        }
        f.step = Some(s.clone());
    }
    if let Some(s) = &p.service {
        let svc = snap
            .service(s)
            .ok_or_else(|| ApiError::invalid_parameter("service", msg!("no such service")))?;
        f.service = Some(SqlUuid(svc.id));
    }
    if let Some(d) = &p.department {
        let (_, dep) = snap
            .department(d)
            .ok_or_else(|| ApiError::invalid_parameter("department", msg!("no such department")))?;
        f.department = Some(SqlUuid(dep.id));
    }
    match p.assignee.as_deref() {
        None => {}
        Some("none") => f.unassigned = true,
        Some("me") => {
            f.assignee = Some(
                access::account_of(caller)
                    .ok_or_else(|| ApiError::invalid_parameter("assignee", msg!("'me' is for staff accounts")))?,
            )
        }
        Some(id) => {
            f.assignee = Some(
                uuid::Uuid::parse_str(id)
                    .map(SqlUuid)
                    .map_err(|_| ApiError::invalid_parameter("assignee", msg!("an account id, me or none")))?,
            )
        }
    }
    f.submitted_after = time("submitted_after", &p.submitted_after)?;
    f.submitted_before = time("submitted_before", &p.submitted_before)?;
    match p.overdue.as_deref() {
        None | Some("false") => {}
        Some("true") => f.overdue_at = Some(SqlTime::now()),
        Some(_) => return Err(ApiError::invalid_parameter("overdue", msg!("true or false"))),
    }
    match p.answer_overdue.as_deref() {
        None | Some("false") => {}
        Some("true") => {
            let today = Utc::now().date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
            f.answer_due_before = Some(SqlTime(today));
        }
        Some(_) => return Err(ApiError::invalid_parameter("answer_overdue", msg!("true or false"))),
    }
    let order = match p.sort.as_deref() {
        None | Some("-created_at") => Order::CreatedDesc,
        Some("submitted_at") => Order::SubmittedAsc,
        Some("-submitted_at") => Order::SubmittedDesc,
        Some("due_at") => Order::DueAsc,
        Some(_) => {
            return Err(ApiError::invalid_parameter(
                "sort",
                msg!("one of -created_at, submitted_at, -submitted_at, due_at"),
            ))
        }
    };
    Ok((f, order))
}

/// One page of the applications the caller may see, each rendered for them, and the cursor
/// of the next page.
pub async fn page(
    reads: &Reads,
    caller: &Caller,
    reader: Reader,
    snap: &Snapshot,
    p: ApplicationParams,
    lang: Lang,
) -> Result<(Vec<Bytes>, Option<String>), ApiError> {
    let limit = pagination::limit(p.limit.as_deref())?;
    let (f, order) = filter(&p, caller, snap)?;
    let scope = format!("applications:{order:?}");
    let after: Option<(DateTime<Utc>, uuid::Uuid)> = pagination::decode(&scope, p.cursor.as_deref())?;
    let after = after.map(|(t, id)| (SqlTime(t), SqlUuid(id)));
    let rows = reads.applications(reader, f, order, after, limit as i64 + 1).await?;
    let more = rows.len() > limit;
    let rows = &rows[..rows.len().min(limit)];
    let next = more
        .then(|| {
            rows.last().and_then(|r| {
                let t = match order {
                    Order::CreatedDesc => Some(r.created_at),
                    Order::SubmittedAsc | Order::SubmittedDesc => r.submitted_at,
                    Order::DueAsc => r.due_at,
                }?;
                Some(pagination::encode(&scope, &(t.0, r.id.0)))
            })
        })
        .flatten();
    let staff = access::is_staff_view(caller);
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let v = views::application(snap, r, access::mover(caller, r), staff, lang)?;
        items.push(Bytes::from(serde_json::to_vec(&v).map_err(ApiError::internal)?));
    }
    Ok((items, next))
}

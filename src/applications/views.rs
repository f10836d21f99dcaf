//! How applications look over HTTP: to their applicant, to staff, and on the public tracking
//! page (which shows no personal data).
use super::records::Change;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::version::{phase_of, steps_of, version_of};
use crate::catalogue::snapshot::Snapshot;
use crate::db::applications::{ApplicationRow, HistoryRow};
use crate::domain::application::{Mover, Phase};
use crate::domain::lang::Lang;
use crate::domain::status::StatusStep;
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationService {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    #[schema(example = "wohnsitzbestaetigung", max_length = 64)]
    #[serde(serialize_with = "crate::json::str")]
    pub slug: String,
    /// The version the application was made against; it keeps it.
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: i32,
    #[schema(max_length = 200)]
    #[serde(serialize_with = "crate::json::str")]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDepartment {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    #[schema(example = "einwohnerdienste", max_length = 64)]
    #[serde(serialize_with = "crate::json::str")]
    pub slug: String,
    #[schema(max_length = 200)]
    #[serde(serialize_with = "crate::json::str")]
    pub name: String,
}

/// Who applies: a resident's account or an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Applicant {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::json::opt_uuid")]
    pub account: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::json::opt_uuid")]
    pub organisation: Option<Uuid>,
    /// The party the organisation applies for, when it applies on behalf of someone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<crate::domain::representation::OnBehalfOf>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusStepView {
    #[schema(example = "intake-check", max_length = 64)]
    #[serde(serialize_with = "crate::json::str")]
    pub key: String,
    pub phase: Phase,
    #[schema(max_length = 200)]
    #[serde(serialize_with = "crate::json::str")]
    pub label: String,
    /// Whether the applicant is told about this step.
    pub public: bool,
    /// When this step is expected to be done (its entry plus the service's expected days for
    /// it), while the application is open and the service says.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub expected_at: Option<DateTime<Utc>>,
}

/// The department's latest public comment to the applicant.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicComment {
    #[schema(example = "Bitte reichen Sie eine Kopie des Mietvertrags ein.", max_length = 5000)]
    #[serde(serialize_with = "crate::json::str")]
    pub text: String,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub at: DateTime<Utc>,
}

/// One step on the applicant's timeline: when it was entered, or when it is expected.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    #[schema(max_length = 64)]
    #[serde(serialize_with = "crate::json::str")]
    pub step: String,
    pub phase: Phase,
    #[schema(max_length = 200)]
    #[serde(serialize_with = "crate::json::str")]
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub entered_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub expected_at: Option<DateTime<Utc>>,
    pub current: bool,
}

/// An application.
#[derive(Debug, Serialize, ToSchema)]
pub struct Application {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    /// Set on submission; quote it when calling the city.
    #[schema(example = "THU-2026-7Q4KM2XD-J", max_length = 20)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub reference: Option<String>,
    /// Shown to the applicant only: with the reference it opens `GET /v1/status/{reference}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 14)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub tracking_code: Option<String>,
    pub service: ApplicationService,
    pub department: ApplicationDepartment,
    pub applicant: Applicant,
    pub phase: Phase,
    pub step: StatusStepView,
    #[schema(value_type = Object)]
    pub data: crate::db::types::SqlDoc,
    /// The clerk handling it (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::json::opt_uuid")]
    pub assignee: Option<Uuid>,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub updated_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub status_changed_at: DateTime<Utc>,
    /// The expected decision date while the application is open.
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub due_at: Option<DateTime<Utc>>,
    /// The department's latest public comment to the applicant (given with a move, e.g. what
    /// is missing when it asks for action); null when it has made none.
    pub public_comment: Option<PublicComment>,
    /// The phases this caller may move the application to now.
    #[schema(max_items = 8)]
    pub allowed_moves: Vec<Phase>,
    /// The steps the applicant sees: past ones with their dates, later ones with expected dates.
    #[schema(max_items = 60)]
    pub timeline: Vec<TimelineEntry>,
    /// What the department asked for with its move to `action_required` and is not answered
    /// yet: fields to change (gone from the list once the value changed), documents to upload
    /// (with `?request=`; listed until the resubmission, which checks them). The resubmission
    /// is refused while one is open.
    #[schema(max_items = 70)]
    pub requests: Vec<OpenRequest>,
    /// The day by which the applicant is to answer, if the department set one.
    #[schema(value_type = Option<String>, format = Date)]
    pub requests_due: Option<chrono::NaiveDate>,
    /// The language the applicant is written to in (mails), set when the application was made:
    /// the `Accept-Language` it was made with, else the account's language.
    pub language: Lang,
    /// The state of its fee's bill, when its service bills and the moment has come (`href`:
    /// the bill, with its QR-bill).
    pub payment: Option<Payment>,
    /// Once closed (rejected, completed, withdrawn): until when its documents and personal
    /// data are kept, by the retention period of its service version; then they are deleted.
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub retained_until: Option<DateTime<Utc>>,
    /// When its retention period ended and its documents, messages, form data and applicant
    /// were deleted; the reference, service, dates and phases stay.
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub anonymised_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    pub revision: i64,
}

/// A phase shown as a step: for private steps, and phases without a step of their own.
fn phase_view(phase: Phase, lang: Lang) -> StatusStepView {
    StatusStepView {
        key: phase.as_str().to_string(),
        phase,
        label: crate::domain::status::phase_label(phase).text(lang).to_string(),
        public: true,
        expected_at: None,
    }
}

/// The current step of `row`, with when it is expected to be done.
fn step_view(steps: &[StatusStep], row: &ApplicationRow, phase: Phase, lang: Lang) -> StatusStepView {
    match crate::domain::status::step(steps, &row.step) {
        Some(s) => StatusStepView {
            key: s.key.clone(),
            phase: s.phase,
            label: s.label.text(lang).to_string(),
            public: s.public,
            expected_at: s
                .expected_days
                .filter(|_| phase.is_open())
                .map(|d| row.status_changed_at.0 + Duration::days(i64::from(d))),
        },
        None => phase_view(phase, lang),
    }
}

/// The public steps with when they were entered, the current one, and expected dates for the
/// steps still ahead on the way to a decision.
fn timeline(steps: &[StatusStep], row: &ApplicationRow, phase: Phase, lang: Lang) -> Vec<TimelineEntry> {
    let mut entered: Vec<(String, DateTime<Utc>)> = Vec::new();
    // read straight from the log's text: `[{"at": "...", "step": "..."}, ...]`
    #[derive(serde::Deserialize)]
    struct Logged<'a> {
        #[serde(borrow)]
        step: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        at: Option<std::borrow::Cow<'a, str>>,
    }
    let log: Vec<Logged> = serde_json::from_str(row.step_log.get()).unwrap_or_default();
    for e in log {
        let at = e.at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        if let (Some(s), Some(at)) = (e.step, at) {
            entered.retain(|(k, _)| *k != s);
            entered.push((s.into_owned(), at.with_timezone(&Utc)));
        }
    }
    let mut out: Vec<TimelineEntry> = Vec::new();
    for (key, at) in &entered {
        if let Some(s) = crate::domain::status::step(steps, key).filter(|s| s.public) {
            out.push(TimelineEntry {
                step: s.key.clone(),
                phase: s.phase,
                label: s.label.text(lang).to_string(),
                entered_at: Some(*at),
                expected_at: None,
                current: s.key == row.step,
            });
        }
    }
    if !phase.is_open() {
        return out;
    }
    // the road ahead: the remaining steps of the phases leading to a decision
    let road = [Phase::Submitted, Phase::InReview, Phase::Approved, Phase::Completed];
    let current_idx = steps.iter().position(|s| s.key == row.step);
    let mut clock = row.status_changed_at.0;
    let mut known = true;
    if let Some(i) = current_idx {
        match steps[i].expected_days {
            Some(d) => clock += Duration::days(i64::from(d)),
            None => known = false,
        }
        for s in steps.iter().skip(i + 1).filter(|s| road.contains(&s.phase)) {
            if entered.iter().any(|(k, _)| *k == s.key) {
                continue;
            }
            if s.public {
                out.push(TimelineEntry {
                    step: s.key.clone(),
                    phase: s.phase,
                    label: s.label.text(lang).to_string(),
                    entered_at: None,
                    expected_at: known.then_some(clock),
                    current: false,
                });
            }
            match s.expected_days {
                Some(d) => clock += Duration::days(i64::from(d)),
                None => known = false,
            }
        }
    }
    out
}

/// Renders an application for a caller (`mover` is the caller's standing, `staff` whether it
/// sees staff-only fields).
pub fn application(
    snap: &Snapshot,
    row: &ApplicationRow,
    mover: Option<Mover>,
    staff: bool,
    lang: Lang,
) -> Result<Application, ApiError> {
    let (s, v) = version_of(snap, row)?;
    let dep = &snap.departments[s.department];
    let phase = phase_of(row)?;
    let steps = steps_of(v);
    let applicant = mover == Some(Mover::Applicant);
    let mut step = step_view(&steps, row, phase, lang);
    if !staff && !step.public {
        // the applicant is not told about this step: it shows as its phase
        step = phase_view(phase, lang);
    }
    let mut allowed: Vec<Phase> = mover.map(|m| phase.moves(m).to_vec()).unwrap_or_default();
    if mover == Some(Mover::Processor) && steps.iter().filter(|s| s.phase == phase).count() > 1 && !phase.is_final() {
        allowed.insert(0, phase);
    }
    Ok(Application {
        id: row.id.0,
        reference: row.reference.clone(),
        tracking_code: if applicant { row.tracking_code.clone() } else { None },
        service: ApplicationService {
            id: s.id,
            slug: s.slug.clone(),
            version: row.service_version,
            name: v.content.name.text(lang).to_string(),
        },
        department: ApplicationDepartment {
            id: dep.id,
            slug: dep.slug.clone(),
            name: dep.name.text(lang).to_string(),
        },
        applicant: Applicant {
            account: row.applicant_account.map(|a| a.0),
            organisation: row.applicant_organisation.map(|o| o.0),
            on_behalf_of: row.represented(),
        },
        phase,
        step,
        data: row.data.clone(),
        assignee: if staff { row.assignee_id.map(|a| a.0) } else { None },
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        submitted_at: row.submitted_at.map(|t| t.0),
        status_changed_at: row.status_changed_at.0,
        due_at: row.due_at.map(|t| t.0),
        public_comment: match (&row.public_comment, row.public_comment_at) {
            (Some(text), Some(at)) => Some(PublicComment {
                text: text.clone(),
                at: at.0,
            }),
            _ => None,
        },
        allowed_moves: allowed,
        timeline: timeline(&steps, row, phase, lang),
        requests: open_requests(snap, row),
        requests_due: row.requests_due_on.map(|d| d.0.date_naive()),
        language: Lang::parse(&row.language).unwrap_or(Lang::De),
        payment: super::invoices::state_of(row).map(|state| Payment {
            href: super::invoices::invoice_url(snap, row.id.0),
            state,
        }),
        retained_until: row.retain_until.map(|t| t.0),
        anonymised_at: row.anonymised_at.map(|t| t.0),
        revision: row.revision,
    })
}

/// The state of an application's bill, and where it is read.
#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    #[serde(flatten)]
    pub state: crate::domain::billing::PaymentState,
    /// The bill (`GET`, JSON with the QR code's text).
    #[schema(max_length = 2048)]
    #[serde(serialize_with = "crate::json::str")]
    pub href: String,
}

/// A request of the department that is not answered yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenRequest {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    /// `field` (change it) or `document` (upload one).
    #[schema(max_length = 16)]
    #[serde(serialize_with = "crate::json::str")]
    pub kind: &'static str,
    /// The field: a JSON pointer into `data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub pointer: Option<String>,
    /// The document: what is needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub label: Option<String>,
    /// The document: where to upload it (`multipart/form-data`, as any document).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub upload_url: Option<String>,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub created_at: DateTime<Utc>,
}

fn open_requests(snap: &Snapshot, row: &ApplicationRow) -> Vec<OpenRequest> {
    use crate::domain::requests::Wanted;
    if row.requests.is_none() {
        return Vec::new();
    }
    let all = row.requests();
    // a field is answered once its value changed; a document stays listed until the
    // resubmission (which reads which uploads answered what)
    let data: serde_json::Value = serde_json::from_str(row.data.get()).unwrap_or_default();
    crate::domain::requests::open(&all, &data, &[])
        .into_iter()
        .cloned()
        .map(|r| {
            let (kind, pointer, label, upload_url) = match r.what {
                Wanted::Field { pointer, .. } => ("field", Some(pointer), None, None),
                Wanted::Document { label } => (
                    "document",
                    None,
                    Some(label),
                    Some(format!(
                        "{}/documents?request={}",
                        application_url(snap, row.id.0),
                        r.id
                    )),
                ),
            };
            OpenRequest {
                id: r.id,
                kind,
                pointer,
                label,
                upload_url,
                created_at: r.created_at,
            }
        })
        .collect()
}

/// One entry of an application's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub occurred_at: DateTime<Utc>,
    /// `created`, `data_changed`, `submitted`, `status_changed`, `withdrawn`, `assigned`,
    /// `document_added`, `document_removed`, `message_posted`.
    #[schema(max_length = 64)]
    #[serde(serialize_with = "crate::json::str")]
    pub action: String,
    /// `resident`, `client` or `staff`.
    #[schema(max_length = 32)]
    #[serde(serialize_with = "crate::json::str")]
    pub actor_kind: String,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub actor_id: Option<String>,
    #[schema(max_length = 64)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub from_phase: Option<String>,
    #[schema(max_length = 64)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub to_phase: Option<String>,
    #[schema(max_length = 64)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub from_step: Option<String>,
    #[schema(max_length = 64)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub to_step: Option<String>,
    #[schema(max_length = 5000)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub public_comment: Option<String>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub internal_note: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
}

pub fn history(snap: &Snapshot, app: &ApplicationRow, rows: Vec<HistoryRow>, staff: bool) -> Vec<HistoryEntry> {
    let steps = version_of(snap, app).map(|(_, v)| steps_of(v)).unwrap_or_default();
    let public = |k: &Option<String>| {
        k.as_ref()
            .map(|k| crate::domain::status::step(&steps, k).is_none_or(|s| s.public))
            .unwrap_or(true)
    };
    rows.into_iter()
        .filter(|h| staff || !Change::parse(&h.action).is_some_and(Change::staff_only))
        .map(|h| {
            let shown = public(&h.from_step) && public(&h.to_step);
            let hide_steps = !(staff || shown);
            HistoryEntry {
                id: h.id.0,
                occurred_at: h.occurred_at.0,
                action: h.action,
                actor_kind: h.actor_kind,
                actor_id: if staff { h.actor_id } else { None },
                from_step: if hide_steps { h.from_phase.clone() } else { h.from_step },
                to_step: if hide_steps { h.to_phase.clone() } else { h.to_step },
                from_phase: h.from_phase,
                to_phase: h.to_phase,
                public_comment: h.public_comment,
                internal_note: if staff { h.internal_note } else { None },
                details: h.details.0,
            }
        })
        .collect()
}

/// The public tracking page: no personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tracking {
    #[schema(example = "THU-2026-7Q4KM2XD-J", max_length = 20)]
    #[serde(serialize_with = "crate::json::str")]
    pub reference: String,
    #[schema(max_length = 200)]
    #[serde(serialize_with = "crate::json::str")]
    pub service: String,
    pub phase: Phase,
    pub step: StatusStepView,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub status_changed_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub submitted_at: Option<DateTime<Utc>>,
    /// The expected decision date while the application is open.
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub due_at: Option<DateTime<Utc>>,
    #[schema(max_items = 60)]
    pub timeline: Vec<TimelineEntry>,
}

pub fn tracking(snap: &Snapshot, row: &ApplicationRow, lang: Lang) -> Result<Tracking, ApiError> {
    let mut a = application(snap, row, None, false, lang)?;
    if row.anonymised_at.is_some() {
        // past its retention period: the phase, and nothing of the way there
        a.step = phase_view(a.phase, lang);
        a.timeline.clear();
        a.due_at = None;
    }
    Ok(Tracking {
        reference: a.reference.unwrap_or_default(),
        service: a.service.name,
        phase: a.phase,
        step: a.step,
        status_changed_at: a.status_changed_at,
        submitted_at: a.submitted_at,
        due_at: a.due_at,
        timeline: a.timeline,
    })
}

/// A document on an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct Document {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    #[serde(serialize_with = "crate::json::uuid")]
    pub application: Uuid,
    /// The name it was uploaded under (without any folder).
    #[schema(example = "Grundriss EG.pdf", max_length = 255)]
    #[serde(serialize_with = "crate::json::str")]
    pub filename: String,
    /// The type its bytes were recognised as.
    #[schema(example = "application/pdf", max_length = 100)]
    #[serde(serialize_with = "crate::json::str")]
    pub media_type: String,
    #[schema(minimum = 0, maximum = 104857600)]
    pub size_bytes: i64,
    /// SHA-256 of the bytes, lower-case hex.
    #[schema(
        example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        max_length = 64
    )]
    #[serde(serialize_with = "crate::json::str")]
    pub sha256: String,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub created_at: DateTime<Utc>,
    /// Who added it: the applicant's side or the department.
    pub side: crate::domain::thread::Side,
    /// A decision of the department (a permit, a ruling): it stays once given.
    pub decision: bool,
    /// Where the bytes are downloaded.
    #[schema(max_length = 2048)]
    #[serde(serialize_with = "crate::json::str")]
    pub content_url: String,
}

/// Where an application is read.
pub fn application_url(snap: &Snapshot, application: Uuid) -> String {
    format!("{}/v1/applications/{application}", snap.public_url())
}

/// Where a document is described; its bytes are at `…/content`.
pub fn document_url(snap: &Snapshot, application: Uuid, document: Uuid) -> String {
    format!("{}/documents/{document}", application_url(snap, application))
}

pub fn document(snap: &Snapshot, d: crate::db::documents::DocumentRow) -> Document {
    Document {
        content_url: format!("{}/content", document_url(snap, d.application_id.0, d.id.0)),
        id: d.id.0,
        application: d.application_id.0,
        filename: d.filename,
        media_type: d.media_type,
        size_bytes: d.size_bytes,
        sha256: d.sha256,
        created_at: d.created_at.0,
        side: crate::domain::thread::Side::parse(&d.side).unwrap_or(crate::domain::thread::Side::Applicant),
        decision: d.decision,
    }
}

/// A phase every application goes through, with what may follow it (`GET /v1/phases`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PhaseEntry {
    pub phase: Phase,
    #[schema(example = "Eingereicht", max_length = 200)]
    #[serde(serialize_with = "crate::json::str")]
    pub label: String,
    /// Submitted and not yet decided or ended: the phases a work queue shows.
    pub open: bool,
    /// Nothing follows it.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The applicant may change the form data and documents in this phase.
    pub editable_by_applicant: bool,
    /// Where the applicant (the resident, a member of the applying organisation or its client)
    /// may move it from here.
    #[schema(max_items = 8)]
    pub applicant_moves: Vec<Phase>,
    /// Where the responsible department (its clerks, administrators) may move it from here.
    #[schema(max_items = 8)]
    pub processor_moves: Vec<Phase>,
}

/// The phases and the one transition table, in the order an application goes through them.
pub fn phases(lang: Lang) -> Vec<PhaseEntry> {
    Phase::ALL
        .into_iter()
        .map(|p| PhaseEntry {
            phase: p,
            label: crate::domain::status::phase_label(p).text(lang).to_string(),
            open: p.is_open(),
            is_final: p.is_final(),
            editable_by_applicant: p.editable_by_applicant(),
            applicant_moves: p.moves(Mover::Applicant).to_vec(),
            processor_moves: p.moves(Mover::Processor).to_vec(),
        })
        .collect()
}

//! What happens to an application: creation, editing, submission, moves between steps,
//! assignment, deletion. Each runs inside one write transaction and writes, with the change,
//! its history entry, an audit entry and a domain event.
use std::sync::Arc;

use chrono::{Datelike, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::access::{self, mover};
use super::notify::Recipient;
use super::records::{self, record, Change, Note};
use super::version::{due_date, phase_of, steps_of, version_of};
use crate::audit::Actor;
use crate::auth::policy::StaffRole;
use crate::auth::Caller;
use crate::catalogue::snapshot::{Snapshot, VersionEntry};
use crate::db::applications::{self as store, ApplicationRow, Contact, HistoryRow};
use crate::db::documents::DocumentRow;
use crate::db::records::With;
use crate::db::types::{SqlDoc, SqlJson, SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::application::{Mover, Phase, Reference};
use crate::domain::catalogue::{ApplicantKind, Channel};
use crate::domain::ids::ApplicationId;
use crate::domain::messages::Msg;
use crate::domain::representation::{may_represent, OnBehalfOf, Representation};
use crate::domain::requests::{self, RequestsInput};
use crate::domain::retention;
use crate::domain::status::first_step;
use crate::domain::{submission, FieldError};
use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// Everything an operation needs to know about who acts, from where, against which catalogue.
#[derive(Clone)]
pub struct Ctx {
    pub caller: Caller,
    pub actor: Actor,
    pub snap: Arc<Snapshot>,
    pub prefix: String,
    pub drafts: DraftLimits,
    /// The language the caller asked for (`Accept-Language` or `?lang=`), if it asked.
    pub lang: Option<crate::domain::lang::Lang>,
    /// The frontend's base URL, for links in mails (`GUICHET_FRONTEND_URL`).
    pub frontend: String,
}

/// What one applicant may keep in drafts.
#[derive(Debug, Clone, Copy)]
pub struct DraftLimits {
    /// `GUICHET_DRAFT_MAX_BYTES`: the form data of one draft, as JSON.
    pub max_bytes: usize,
    /// `GUICHET_MAX_OPEN_DRAFTS`: open drafts per applicant (account or organisation).
    pub max_open: i64,
}

/// `POST /v1/applications`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// The service's slug or id; the application is made against its current version.
    #[schema(example = "wohnsitzbestaetigung", max_length = 64)]
    pub service: String,
    /// The form data (an object); checked against the form on submission.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Map<String, Value>>,
    /// Apply for an organisation (a member, or the organisation's own client).
    #[serde(default)]
    pub applicant: Option<ApplicantInput>,
    /// Create and submit in one atomic call.
    #[serde(default)]
    pub submit: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantInput {
    /// The organisation that applies (a member names it; an organisation's client may leave
    /// it out, or name its own).
    #[serde(default)]
    pub organisation: Option<uuid::Uuid>,
    /// Apply on behalf of someone else (a person or an organisation), where the service
    /// allows it (`representation`); only an organisation represents.
    #[serde(default)]
    pub on_behalf_of: Option<OnBehalfOf>,
}

/// `PATCH /v1/applications/{id}`: JSON Merge Patch of the form data.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationPatch {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, Value>,
    /// For an application made on behalf of someone: the id of the document of this
    /// application that gives the power of attorney.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub power_of_attorney: Option<crate::domain::ids::DocumentId>,
}

/// `POST /v1/applications/{id}/transitions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// The phase to move to (the same phase to move between its steps).
    pub to: Phase,
    /// A step of that phase; its first step when absent.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub step: Option<String>,
    /// Shown to the applicant; required when asking for something (`action_required`).
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub public_comment: Option<String>,
    /// Seen by staff only.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub internal_note: Option<String>,
    /// With a move to `action_required`: what the applicant is to change and add. The
    /// resubmission is refused until every request is answered.
    #[serde(default)]
    pub requests: Option<RequestsInput>,
    /// With a move to `action_required`: the day by which the applicant is to answer (from
    /// today up to a year ahead).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-31")]
    pub due_date: Option<String>,
    /// With a move to `approved`, `rejected` or `completed`: documents the department added
    /// that are its decision (a permit, a ruling); the applicant downloads them, and they stay.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub decision_documents: Vec<uuid::Uuid>,
}

/// `POST /v1/applications/{id}/withdraw` and `.../submit`: an optional comment.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub public_comment: Option<String>,
}

/// `POST /v1/applications/{id}/assignment`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    /// A clerk of the responsible department (or an administrator); null to unassign.
    pub assignee: Option<uuid::Uuid>,
}

const COMMENT_MAX: usize = 5000;

pub(super) fn conflict(detail: Msg) -> ApiError {
    ApiError::new(ProblemKind::Conflict, detail)
}

pub(super) fn field(pointer: &str, code: &str, detail: Msg) -> ApiError {
    ApiError::validation(vec![FieldError::new(pointer, code, detail)])
}

/// Refuses to add anything to an application anonymised at the end of its retention period.
pub(super) fn not_anonymised(row: &ApplicationRow) -> Result<(), ApiError> {
    match row.anonymised_at {
        Some(_) => Err(conflict(msg!(
            "This application was anonymised at the end of its retention period: nothing can be added to it."
        ))),
        None => Ok(()),
    }
}

pub(super) fn stale() -> ApiError {
    ApiError::new(
        ProblemKind::PreconditionFailed,
        msg!("The application has changed since you read it: reload it and apply your change again."),
    )
}

fn check_comment(v: &Option<String>, pointer: &str) -> Result<Option<String>, ApiError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > COMMENT_MAX => Err(field(
            pointer,
            "too_long",
            msg!("at most {max} characters", max = COMMENT_MAX),
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

fn tracking_code() -> Result<String, ApiError> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes = crate::auth::secrets::random_bytes::<12>().map_err(ApiError::internal)?;
    let chars: String = bytes.iter().map(|b| ALPHABET[(*b % 32) as usize] as char).collect();
    Ok(format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]))
}

fn random_reference(prefix: &str) -> Result<String, ApiError> {
    let random = crate::auth::secrets::random_bytes::<5>().map_err(ApiError::internal)?;
    Ok(Reference::generate(prefix, Utc::now().year(), random)
        .as_str()
        .to_string())
}

/// A reference no application has yet (retried on collision).
fn new_reference(conn: &mut DbConnection, prefix: &str) -> Result<String, ApiError> {
    for _ in 0..10 {
        let r = random_reference(prefix)?;
        if !store::reference_taken(conn, &r)? {
            return Ok(r);
        }
    }
    Err(ApiError::internal("no free reference after 10 attempts"))
}

fn log_step(row: &mut ApplicationRow, at: SqlTime) -> Result<(), ApiError> {
    let entry = json!({"step": row.step, "at": at.0});
    let log = match row.step_log.value().map_err(doc_error)? {
        Value::Array(mut a) => {
            a.push(entry);
            a
        }
        _ => vec![entry],
    };
    row.step_log = SqlDoc::of(&Value::Array(log)).map_err(doc_error)?;
    Ok(())
}

/// Resolves who applies: the caller's own account, or an organisation it acts for.
fn applicant(
    conn: &mut DbConnection,
    caller: &Caller,
    input: &Option<ApplicantInput>,
) -> Result<(Option<SqlUuid>, Option<SqlUuid>), ApiError> {
    use crate::auth::policy::CallerKind;
    let wanted = input.as_ref().and_then(|a| a.organisation).map(SqlUuid);
    let org = match caller.kind {
        CallerKind::Client => {
            let own = caller
                .organisation
                .map(SqlUuid)
                .ok_or_else(|| {
                    access::forbidden(msg!(
                        "This client belongs to no organisation, so it cannot apply: a client applies for the organisation it belongs to. Use a client made by the organisation's owner (POST /v1/organisations/{id}/clients) or by an operator (guichet organisation create, or guichet client create --organisation ID)."
                    ))
                })?;
            if wanted.is_some_and(|w| w != own) {
                return Err(access::forbidden(msg!(
                    "This token does not allow applying for another organisation than the client's."
                )));
            }
            own
        }
        CallerKind::Resident => {
            let me = access::account_of(caller).ok_or_else(|| ApiError::internal("resident without account id"))?;
            let Some(org) = wanted else {
                return Ok((Some(me), None));
            };
            if !store::is_member(conn, org, me)? {
                return Err(access::forbidden(msg!(
                    "This token does not allow applying for an organisation one is not a member of."
                )));
            }
            org
        }
        CallerKind::Staff => {
            return Err(access::forbidden(msg!(
                "This token does not allow applying (staff process applications)."
            )))
        }
    };
    let status = crate::db::organisations::by_id(conn, org.0)?.map(|o| o.status());
    if status != Some(crate::domain::organisation::OrganisationStatus::Verified) {
        return Err(field(
            "/applicant/organisation",
            "not_verified",
            msg!("the organisation is not verified yet; an administrator verifies it first"),
        ));
    }
    Ok((None, Some(org)))
}

/// Files sent with a new application (`multipart/form-data`): its id, chosen before the files
/// were stored under it, and each file's name (as sent) with its document, stored but not
/// recorded, in the order of the parts.
pub struct Attached {
    pub id: ApplicationId,
    pub documents: Vec<(String, DocumentRow)>,
}

/// Whose contact a new application needs, read before its write ([`Reads::contact`]): the
/// resident's who makes it (their own, or as a member for an organisation: it is written to
/// them), for the language it is written in unless the request names one, and for the
/// receipt's recipient when it is submitted at once (a create with files submits later,
/// through `submit`, which reads its recipients).
///
/// [`Reads::contact`]: crate::db::reads::Reads::contact
pub fn contact_needed(ctx: &Ctx, input: &NewApplication, with_files: bool) -> Option<SqlUuid> {
    let receipt_now = input.submit && !with_files;
    access::account_of(&ctx.caller).filter(|_| ctx.lang.is_none() || receipt_now)
}

/// Creates a draft (and submits it when asked), in the caller's transaction; `contact` as
/// [`contact_needed`] asks. Created and submitted at once, it is one statement (see
/// `create_submitted`), for [`crate::db::Db::write_one`].
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    input: NewApplication,
    contact: Option<Contact>,
) -> Result<ApplicationRow, ApiError> {
    create_with(conn, ctx, input, None, contact)
}

/// Creates an application with the documents sent with it, all or nothing: the draft, each
/// document (as if uploaded to the draft), and the submission when asked, in the caller's
/// transaction. A file field of the form holds a file's name; the document's id replaces the
/// name. A file no file field names is refused.
pub fn create_with_documents(
    conn: &mut DbConnection,
    ctx: &Ctx,
    input: NewApplication,
    attached: Attached,
    contact: Option<Contact>,
) -> Result<ApplicationRow, ApiError> {
    create_with(conn, ctx, input, Some(attached), contact)
}

fn create_with(
    conn: &mut DbConnection,
    ctx: &Ctx,
    input: NewApplication,
    attached: Option<Attached>,
    contact: Option<Contact>,
) -> Result<ApplicationRow, ApiError> {
    let s = ctx
        .snap
        .service(&input.service)
        .filter(|s| s.retired_at.is_none())
        .ok_or_else(|| {
            field(
                "/service",
                "unknown",
                msg!("no such service in the published catalogue"),
            )
        })?;
    let v = s.current();
    if v.content.channel != Channel::Guichet {
        return Err(field(
            "/service",
            "channel",
            match v.content.channel {
                Channel::External => msg!("this service is applied for on another portal (see its external_url)"),
                _ => msg!("this service is applied for in person at the counter"),
            },
        ));
    }
    let mut data = Value::Object(input.data.unwrap_or_default());
    if let Some(a) = &attached {
        let poa = input
            .applicant
            .as_ref()
            .and_then(|x| x.on_behalf_of.as_ref())
            .and_then(|o| o.power_of_attorney.as_deref());
        name_documents(&v.form_schema, &mut data, &a.documents, poa)?;
    }
    let (account, org) = applicant(conn, &ctx.caller, &input.applicant)?;
    let receipt_now = input.submit && attached.is_none();
    let language = match (ctx.lang, &contact) {
        (Some(l), _) => l,
        (None, Some(c)) => crate::domain::lang::Lang::parse(&c.language).unwrap_or(crate::domain::lang::Lang::De),
        (None, None) => crate::domain::lang::Lang::De,
    };
    let known = contact.map(|c| c.address.into_iter().map(|to| (to, c.optional_mail)).collect());
    let kind = if org.is_some() {
        ApplicantKind::Organisation
    } else {
        ApplicantKind::Person
    };
    let represented = input.applicant.as_ref().and_then(|a| a.on_behalf_of.clone());
    match &represented {
        None => kind
            .admitted_by(&v.content.audience)
            .map_err(|why| field("/applicant", "audience", why))?,
        Some(party) => {
            let at = "/applicant/on_behalf_of";
            let errors = party.check(at);
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            may_represent(v.content.representation, kind, party, &v.content.audience)
                .map_err(|why| field(at, "representation", why))?;
        }
    }
    let mut represented = represented;
    if let (Some(a), Some(party)) = (&attached, represented.as_mut()) {
        name_power_of_attorney(party, &a.documents);
    }
    let now = SqlTime::now();
    let mut row = ApplicationRow {
        id: attached
            .as_ref()
            .map(|a| a.id.into())
            .unwrap_or(SqlUuid(uuid::Uuid::now_v7())),
        reference: None,
        tracking_code: None,
        service_id: SqlUuid(s.id),
        service_version: v.version,
        department_id: SqlUuid(ctx.snap.departments[s.department].id),
        applicant_account: account,
        applicant_organisation: org,
        created_by: ctx.caller.subject.clone(),
        phase: Phase::Draft.as_str().into(),
        step: Phase::Draft.as_str().into(),
        step_log: SqlDoc::of(&json!([])).map_err(doc_error)?,
        data: SqlDoc::of(&data).map_err(doc_error)?,
        assignee_id: None,
        revision: 1,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        status_changed_at: now,
        due_at: None,
        public_comment: None,
        public_comment_at: None,
        represented: represented.map(|r| SqlJson(json!(r))),
        requests: None,
        requests_due_on: None,
        language: language.code().into(),
        closed_at: None,
        retain_until: None,
        anonymised_at: None,
        payment: None,
    };
    log_step(&mut row, now)?;
    if receipt_now {
        return create_submitted(conn, ctx, v, row, known);
    }
    if !input.submit {
        check_draft(ctx, v, &data)?;
        let open = store::open_drafts(conn, row.applicant_account, row.applicant_organisation)?;
        if open >= ctx.drafts.max_open {
            return Err(conflict(msg!(
                "There are {open} open drafts already, the most one applicant may keep: submit or delete one first.",
                open = open
            )));
        }
    }
    store::insert(conn, &row)?;
    record(conn, ctx, &row, Change::Created, Note::default())?;
    let Some(a) = attached else {
        return Ok(row);
    };
    // then its documents and its submission: the records of the calls it stands for
    for (_, doc) in a.documents {
        super::documents::add(conn, ctx, doc)?;
    }
    if input.submit {
        submit(conn, ctx, a.id, None, CommentInput::default())
    } else {
        load(conn, ctx, a.id)
    }
}

/// Replaces the file names the form's file fields hold by the ids of their documents; a file
/// that no file field (nor the power of attorney) names is a 422 at `/documents/{index}`.
fn name_documents(
    schema: &Value,
    data: &mut Value,
    documents: &[(String, DocumentRow)],
    power_of_attorney: Option<&str>,
) -> Result<(), ApiError> {
    let ids: std::collections::HashMap<String, String> = documents
        .iter()
        .map(|(name, d)| (name.clone(), d.id.0.to_string()))
        .collect();
    let used = submission::name_documents(schema, data, &ids);
    let unused: Vec<FieldError> = documents
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| !used.contains(name) && Some(name.as_str()) != power_of_attorney)
        .map(|(index, _)| {
            FieldError::new(
                format!("/documents/{index}"),
                "unused",
                msg!(
                    "no file field of the form holds this file's name; put the file name in the field the file is for"
                ),
            )
        })
        .collect();
    if unused.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(unused))
    }
}

/// The power of attorney sent as a file of a multipart create: its file name becomes the id.
fn name_power_of_attorney(party: &mut OnBehalfOf, documents: &[(String, DocumentRow)]) {
    if let Some(poa) = party.power_of_attorney.as_mut() {
        if let Some((_, doc)) = documents.iter().find(|(name, _)| name == poa) {
            *poa = doc.id.0.to_string();
        }
    }
}

/// Create and submit in one: nobody can see the draft in between, so the application is
/// written once, already submitted, with the records of both changes (the same rows as a
/// create followed by a submit), in one statement: with [`crate::db::Db::write_one`], the
/// whole change is one round trip.
fn create_submitted(
    conn: &mut DbConnection,
    ctx: &Ctx,
    v: &VersionEntry,
    draft: ApplicationRow,
    recipients: Option<Vec<super::notify::Recipient>>,
) -> Result<ApplicationRow, ApiError> {
    let steps = steps_of(v);
    let step = first_step(&steps, Phase::Submitted)
        .map(|s| s.key.clone())
        .unwrap_or_else(|| Phase::Submitted.as_str().into());
    let mut row = draft.clone();
    validate(conn, v, &mut row)?;
    row.tracking_code = Some(tracking_code()?);
    move_to(&mut row, v, Phase::Submitted, &step)?;
    row.revision += 1;
    // the reference is checked by the insert itself (its unique index), retried on collision;
    // the bill's reference, and the receipt's text, derive from it
    for _ in 0..10 {
        row.reference = Some(random_reference(&ctx.prefix)?);
        row.payment = None;
        let bill = super::invoices::bill_at(conn, ctx, &mut row, v, Phase::Submitted, true)?;
        let note = Note {
            from: Some((draft.phase.clone(), draft.step.clone())),
            ..Note::default()
        };
        let mails = super::notify::after_move(conn, ctx, &row, mover(&ctx.caller, &row), false, recipients.clone())?;
        let written = super::invoices::write(
            conn,
            With {
                application: Some(&row),
                ..With::default()
            },
            bill,
            vec![
                records::of(ctx, &draft, Change::Created, Note::default()),
                records::of(ctx, &row, Change::Submitted, note),
            ],
            &mails,
        )?;
        if written {
            return Ok(row);
        }
    }
    Err(ApiError::internal("no free reference after 10 attempts"))
}

/// The answer for an application that does not exist or that the caller may not see.
/// The application, if the caller may see it, and its history (the view decides which
/// entries the caller reads).
pub fn history(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ApplicationId,
) -> Result<(ApplicationRow, Vec<HistoryRow>), ApiError> {
    let row = find(conn, caller, id)?;
    let entries = store::history(conn, id.into())?;
    Ok((row, entries))
}

pub fn unknown() -> ApiError {
    ApiError::not_found(msg!("No such application."))
}

/// An application the caller may see (or 404).
pub fn find(conn: &mut DbConnection, caller: &Caller, id: ApplicationId) -> Result<ApplicationRow, ApiError> {
    let reader = access::reader(caller)?;
    store::get(conn, id.into(), reader)?.ok_or_else(unknown)
}

/// The application behind a reference, if `code` is its tracking code (compared in constant
/// time); None for an unknown reference and a wrong code alike.
pub fn tracked(conn: &mut DbConnection, reference: &Reference, code: &str) -> Result<Option<ApplicationRow>, ApiError> {
    use subtle::ConstantTimeEq;
    let row = store::by_reference(conn, reference.as_str())?;
    Ok(row.filter(|r| {
        let stored = r.tracking_code.as_deref().unwrap_or("");
        !stored.is_empty() && bool::from(stored.as_bytes().ct_eq(code.as_bytes()))
    }))
}

/// Loads an application the caller may see, locked for this transaction.
pub(super) fn load(conn: &mut DbConnection, ctx: &Ctx, id: ApplicationId) -> Result<ApplicationRow, ApiError> {
    let reader = access::reader(&ctx.caller)?;
    store::get_for_update(conn, id.into(), reader)?.ok_or_else(unknown)
}

/// [`load`], for a move: with who is told of it, when that came with the read (an application
/// of a resident; see `db::applications::get_for_move`), so that the move's mail costs no
/// read of its own.
fn load_for_move(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
) -> Result<(ApplicationRow, Option<Vec<Recipient>>), ApiError> {
    let reader = access::reader(&ctx.caller)?;
    let found = store::get_for_move(conn, id.into(), reader)?.ok_or_else(unknown)?;
    Ok((found.row, found.recipients))
}

/// `If-Match`, checked once the caller is known to be allowed (412 when stale).
pub(super) fn check_rev(row: &ApplicationRow, expected: Option<i64>) -> Result<(), ApiError> {
    if expected.is_some_and(|e| e != row.revision) {
        return Err(stale());
    }
    Ok(())
}

pub(super) fn save(conn: &mut DbConnection, row: &mut ApplicationRow) -> Result<(), ApiError> {
    let expected = row.revision;
    row.revision += 1;
    if !store::update(conn, row, expected)? {
        return Err(stale());
    }
    Ok(())
}

/// A move the table does not allow from `phase` to `target` (a phase, or a step of the same
/// phase), with the moves it does allow.
fn not_allowed(phase: Phase, who: Option<Mover>, target: &str) -> ApiError {
    let allowed: Vec<&str> = who
        .map(|w| phase.moves(w).iter().map(|p| p.as_str()).collect())
        .unwrap_or_default();
    let list = if allowed.is_empty() {
        "-".to_string()
    } else {
        allowed.join(", ")
    };
    conflict(msg!(
        "An application in phase '{phase}' cannot go to '{target}'; moves allowed to you from here: {list}.",
        phase = phase.as_str(),
        target = target,
        list = &list
    ))
    .with_errors(vec![FieldError::new(
        "/to",
        "transition",
        msg!("allowed: {list}", list = list),
    )])
}

/// Edits the form data of a draft (or of an application waiting for the applicant).
pub fn patch(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    expected: Option<i64>,
    patch: ApplicationPatch,
) -> Result<ApplicationRow, ApiError> {
    let mut row = load(conn, ctx, id)?;
    if mover(&ctx.caller, &row) != Some(Mover::Applicant) {
        return Err(access::forbidden(msg!(
            "This token does not allow editing this application (only its applicant may)."
        )));
    }
    check_rev(&row, expected)?;
    let phase = phase_of(&row)?;
    if !phase.editable_by_applicant() {
        return Err(conflict(msg!(
            "The data can be changed while the application is a draft or waits for the applicant, not in phase '{phase}'.",
            phase = phase.as_str()
        )));
    }
    let mut data = row.data.value().map_err(doc_error)?;
    submission::merge_patch(&mut data, &Value::Object(patch.data));
    row.data = SqlDoc::of(&data).map_err(doc_error)?;
    if let Some(poa) = patch.power_of_attorney {
        let mut party = row.represented().ok_or_else(|| {
            field(
                "/power_of_attorney",
                "not_represented",
                msg!("this application is not made on behalf of someone else"),
            )
        })?;
        party.power_of_attorney = Some(poa.to_string());
        row.represented = Some(SqlJson(json!(party)));
    }
    let (_, v) = version_of(&ctx.snap, &row)?;
    check_draft(ctx, v, &data)?;
    row.updated_at = SqlTime::now();
    save(conn, &mut row)?;
    record(conn, ctx, &row, Change::DataChanged, Note::default())?;
    Ok(row)
}

/// Stored JSON of an application (its form data, its step log) that does not read or write
/// as JSON: not the caller's doing.
fn doc_error(e: serde_json::Error) -> ApiError {
    ApiError::internal(format!("an application's stored JSON: {e}"))
}

/// What every write of a draft must satisfy: at most [`DraftLimits::max_bytes`] of data, and
/// the form's types, lengths, enum values and closed objects (not completeness, formats or
/// patterns: those wait for submission, so half-typed data still saves).
fn check_draft(ctx: &Ctx, v: &VersionEntry, data: &Value) -> Result<(), ApiError> {
    let validator = v.draft_validator().map_err(ApiError::internal)?;
    submission::check(&validator, data).map_err(ApiError::validation)?;
    let size = serde_json::to_vec(data).map(|b| b.len()).unwrap_or(usize::MAX);
    if size > ctx.drafts.max_bytes {
        return Err(ApiError::validation(vec![FieldError::new(
            "/data",
            "max_bytes",
            msg!(
                "the form data is {size} bytes as JSON; a draft may hold at most {max}",
                size = size,
                max = ctx.drafts.max_bytes
            ),
        )]));
    }
    Ok(())
}

/// Checks the data against the version's form and the documents its file fields name, and
/// normalises it (phone numbers to E.164).
fn validate(conn: &mut DbConnection, v: &VersionEntry, row: &mut ApplicationRow) -> Result<(), ApiError> {
    let validator = v.validator().map_err(ApiError::internal)?;
    let mut data = row.data.value().map_err(doc_error)?;
    submission::check(&validator, &data).map_err(|e| ApiError::validation(explain_documents(&v.form_schema, e)))?;
    // the walks for phone and file fields only where the form has such fields
    let formats = v.formats();
    if formats.phone {
        submission::normalise(&v.form_schema, &mut data);
        row.data = SqlDoc::of(&data).map_err(doc_error)?;
    }
    check_power_of_attorney(conn, v, row)?;
    if !formats.document {
        return Ok(());
    }
    let named = submission::document_ids(&v.form_schema, &data);
    if named.is_empty() {
        return Ok(());
    }
    let ids: Vec<SqlUuid> = named
        .iter()
        .filter_map(|(_, id)| uuid::Uuid::parse_str(id).ok().map(SqlUuid))
        .collect();
    let found = crate::db::documents::existing(conn, row.id, ids)?;
    let missing: Vec<FieldError> = named
        .into_iter()
        .filter(|(_, id)| !found.iter().any(|f| f.0.to_string() == *id))
        .map(|(pointer, id)| {
            FieldError::new(
                format!("/data{pointer}"),
                "document",
                msg!("no document {id} on this application", id = id),
            )
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(missing))
    }
}

/// On submission: where the service asks for a power of attorney, a document of this
/// application gives it.
fn check_power_of_attorney(conn: &mut DbConnection, v: &VersionEntry, row: &ApplicationRow) -> Result<(), ApiError> {
    let Some(party) = row.represented() else {
        return Ok(());
    };
    let at = "/applicant/on_behalf_of/power_of_attorney";
    match party.power_of_attorney {
        None if v.content.representation == Representation::PowerOfAttorney => Err(field(
            at,
            "required",
            msg!("this service needs a power of attorney: upload it to the application (POST /v1/applications/{id}/documents) and give its id (PATCH the application with power_of_attorney), or send it as a part of a multipart create"),
        )),
        None => Ok(()),
        Some(id) => {
            let doc = uuid::Uuid::parse_str(&id).ok().map(SqlUuid);
            let found = match doc {
                Some(d) => !crate::db::documents::existing(conn, row.id, vec![d])?.is_empty(),
                None => false,
            };
            if found {
                Ok(())
            } else {
                Err(field(at, "document", msg!("no document {id} on this application", id = id)))
            }
        }
    }
}

/// A missing file field says how a document is supplied.
fn explain_documents(schema: &Value, mut errors: Vec<FieldError>) -> Vec<FieldError> {
    let fields = submission::document_fields(schema);
    for e in errors.iter_mut().filter(|e| e.code == "required") {
        if e.pointer
            .strip_prefix("/data")
            .is_some_and(|p| fields.iter().any(|f| f == p))
        {
            e.detail = msg!(
                "this field is required: a document. Upload the file to the application first (POST /v1/applications/{id}/documents) and give its id here, or send the file with the application in one multipart/form-data request, in a part named documents, and give its file name here"
            );
        }
    }
    errors
}

/// Sets the phase and step of a move (already checked against the table) and the dates that
/// go with it.
fn move_to(row: &mut ApplicationRow, v: &VersionEntry, to: Phase, step: &str) -> Result<(), ApiError> {
    let now = SqlTime::now();
    if row.submitted_at.is_none() && to == Phase::Submitted {
        row.submitted_at = Some(now);
        row.due_at = due_date(v, now.0).map(SqlTime);
    }
    if to.is_final() {
        row.due_at = None;
        row.closed_at = Some(now);
        row.retain_until = Some(SqlTime(retention::keep_until(now.0, v.content.retention_days)));
    }
    row.phase = to.as_str().into();
    row.step = step.into();
    row.status_changed_at = now;
    row.updated_at = now;
    log_step(row, now)
}

/// Where a move goes: phase `to` at `step` of version `v` (already checked against the table).
struct Target<'a> {
    v: &'a VersionEntry,
    to: Phase,
    step: &'a str,
}

/// Moves to the target, with its records (`known`: who is told of it, if read already).
fn apply_move(
    conn: &mut DbConnection,
    ctx: &Ctx,
    mut row: ApplicationRow,
    Target { v, to, step }: Target<'_>,
    mut note: Note,
    known: Option<Vec<Recipient>>,
) -> Result<ApplicationRow, ApiError> {
    note.from = Some((row.phase.clone(), row.step.clone()));
    if row.submitted_at.is_none() && to == Phase::Submitted {
        row.reference = Some(new_reference(conn, &ctx.prefix)?);
        row.tracking_code = Some(tracking_code()?);
    }
    move_to(&mut row, v, to, step)?;
    let bill = super::invoices::bill_at(conn, ctx, &mut row, v, to, false)?;
    let expected = row.revision;
    row.revision += 1;
    let decision_documents = note.details.contains_key("decision_documents");
    let mails = super::notify::after_move(conn, ctx, &row, mover(&ctx.caller, &row), decision_documents, known)?;
    // the row is written by the records' statement (its main part): one round trip for both
    super::invoices::write(
        conn,
        With {
            update: Some((&row, expected)),
            ..With::default()
        },
        bill,
        vec![records::of(ctx, &row, records::of_move(to), note)],
        &mails,
    )?;
    Ok(row)
}

/// Submits a draft, or resubmits an application that waited for the applicant.
pub fn submit(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    expected: Option<i64>,
    input: CommentInput,
) -> Result<ApplicationRow, ApiError> {
    let (row, known) = load_for_move(conn, ctx, id)?;
    let who = mover(&ctx.caller, &row);
    if who != Some(Mover::Applicant) {
        return Err(access::forbidden(msg!(
            "This token does not allow submitting this application (only its applicant may)."
        )));
    }
    check_rev(&row, expected)?;
    let phase = phase_of(&row)?;
    let to = match phase {
        Phase::Draft => Phase::Submitted,
        Phase::ActionRequired => Phase::InReview,
        _ => return Err(not_allowed(phase, who, Phase::Submitted.as_str())),
    };
    applicant_move(conn, ctx, row, to, input.public_comment, known)
}

/// A move of the applicant's (`known`: who is told of it, if read already).
fn applicant_move(
    conn: &mut DbConnection,
    ctx: &Ctx,
    mut row: ApplicationRow,
    to: Phase,
    comment: Option<String>,
    known: Option<Vec<Recipient>>,
) -> Result<ApplicationRow, ApiError> {
    let snap = ctx.snap.clone();
    let (_, v) = version_of(&snap, &row)?;
    let comment = check_comment(&comment, "/public_comment")?;
    let steps = steps_of(v);
    let step = first_step(&steps, to)
        .map(|s| s.key.clone())
        .unwrap_or_else(|| to.as_str().into());
    let mut note = Note {
        public_comment: comment,
        ..Note::default()
    };
    if to == Phase::InReview {
        // a resubmission answers what the department asked for, all of it
        let asked = row.requests();
        if !asked.is_empty() {
            let data = row.data.value().map_err(doc_error)?;
            let answered: Vec<uuid::Uuid> = crate::db::documents::answered(conn, row.id)?
                .into_iter()
                .map(|d| d.0)
                .collect();
            let open = requests::open(&asked, &data, &answered);
            if !open.is_empty() {
                return Err(ApiError::validation(requests::unmet(&open)));
            }
            note.details.insert("requests_answered".into(), json!(asked.len()));
        }
    }
    if matches!(to, Phase::Submitted | Phase::InReview) {
        validate(conn, v, &mut row)?;
    }
    if matches!(to, Phase::InReview | Phase::Withdrawn) {
        row.requests = None;
        row.requests_due_on = None;
    }
    apply_move(conn, ctx, row, Target { v, to, step: &step }, note, known)
}

/// Resubmits an application that waits for its applicant (a reply with `"resubmit": true`),
/// in the caller's transaction, `row` being loaded and locked by it.
pub(super) fn resubmit(
    conn: &mut DbConnection,
    ctx: &Ctx,
    row: ApplicationRow,
    expected: Option<i64>,
) -> Result<ApplicationRow, ApiError> {
    check_rev(&row, expected)?;
    let phase = phase_of(&row)?;
    if phase != Phase::ActionRequired {
        return Err(not_allowed(phase, Some(Mover::Applicant), Phase::InReview.as_str()));
    }
    applicant_move(conn, ctx, row, Phase::InReview, None, None)
}

/// Withdraws an application (the applicant, while it is not decided).
pub fn withdraw(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    expected: Option<i64>,
    input: CommentInput,
) -> Result<ApplicationRow, ApiError> {
    let row = load(conn, ctx, id)?;
    let who = mover(&ctx.caller, &row);
    if who != Some(Mover::Applicant) {
        return Err(access::forbidden(msg!(
            "This token does not allow withdrawing this application (only its applicant may)."
        )));
    }
    check_rev(&row, expected)?;
    let phase = phase_of(&row)?;
    if !phase.may_move(Phase::Withdrawn, Mover::Applicant) {
        return Err(not_allowed(phase, who, Phase::Withdrawn.as_str()));
    }
    applicant_move(conn, ctx, row, Phase::Withdrawn, input.public_comment, None)
}

/// Any move of the table, by whoever may make it; `If-Match` is required.
pub fn transition(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    expected: Option<i64>,
    input: TransitionInput,
) -> Result<ApplicationRow, ApiError> {
    let (row, known) = load_for_move(conn, ctx, id)?;
    let who = mover(&ctx.caller, &row)
        .ok_or_else(|| access::forbidden(msg!("This token does not allow moving this application.")))?;
    check_rev(&row, expected)?;
    let phase = phase_of(&row)?;
    if who == Mover::Applicant {
        if input.step.is_some() || input.internal_note.is_some() {
            return Err(field(
                "/step",
                "not_allowed",
                msg!("applicants move by phase only, without internal notes"),
            ));
        }
        if !phase.may_move(input.to, who) {
            return Err(not_allowed(phase, Some(who), input.to.as_str()));
        }
        return applicant_move(conn, ctx, row, input.to, input.public_comment, known);
    }
    let snap = ctx.snap.clone();
    let (_, v) = version_of(&snap, &row)?;
    let steps = steps_of(v);
    let step = match &input.step {
        Some(key) => {
            let s = crate::domain::status::step(&steps, key)
                .ok_or_else(|| field("/step", "unknown", msg!("not a step of this service")))?;
            if s.phase != input.to {
                return Err(field(
                    "/step",
                    "phase",
                    msg!(
                        "step '{key}' belongs to phase '{phase}'",
                        key = key,
                        phase = s.phase.as_str()
                    ),
                ));
            }
            s.key.clone()
        }
        None => first_step(&steps, input.to)
            .map(|s| s.key.clone())
            .unwrap_or_else(|| input.to.as_str().into()),
    };
    let same_phase = input.to == phase;
    if same_phase {
        if phase.is_final() || phase == Phase::Draft || step == row.step {
            return Err(not_allowed(phase, Some(who), &step));
        }
    } else if !phase.may_move(input.to, who) {
        return Err(not_allowed(phase, Some(who), input.to.as_str()));
    }
    if !same_phase {
        super::invoices::check_paid(v, &row, input.to)?;
    }
    let public_comment = check_comment(&input.public_comment, "/public_comment")?;
    let internal_note = check_comment(&input.internal_note, "/internal_note")?;
    let asking = input.to == Phase::ActionRequired && !same_phase;
    if asking && public_comment.is_none() {
        return Err(field(
            "/public_comment",
            "required",
            msg!("say what the applicant needs to do"),
        ));
    }
    let mut row = row;
    if !asking && (input.requests.is_some() || input.due_date.is_some()) {
        let at = if input.requests.is_some() {
            "/requests"
        } else {
            "/due_date"
        };
        return Err(field(
            at,
            "not_allowed",
            msg!("only with a move to action_required (asking the applicant for something)"),
        ));
    }
    if asking {
        let now = Utc::now();
        let data = row.data.value().map_err(doc_error)?;
        let asked = requests::make(&input.requests.unwrap_or_default(), &v.form_schema, &data, now)
            .map_err(ApiError::validation)?;
        let due = match &input.due_date {
            None => None,
            Some(raw) => {
                Some(requests::due_date(raw, now.date_naive()).map_err(|why| field("/due_date", "invalid", why))?)
            }
        };
        row.requests = (!asked.is_empty()).then(|| SqlJson(json!(asked)));
        row.requests_due_on = due.map(|d| SqlTime(d.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    if let Some(c) = &public_comment {
        // the view shows the department's latest word to the applicant
        row.public_comment = Some(c.clone());
        row.public_comment_at = Some(SqlTime::now());
    }
    let mut note = Note {
        public_comment: public_comment.clone(),
        internal_note,
        ..Note::default()
    };
    let decisions = decision_documents(conn, &row, input.to, same_phase, &input.decision_documents)?;
    if !decisions.is_empty() {
        note.details
            .insert("decision_documents".into(), json!(input.decision_documents));
    }
    let target = Target {
        v,
        to: input.to,
        step: &step,
    };
    let row = apply_move(conn, ctx, row, target, note, known)?;
    if !decisions.is_empty() {
        crate::db::documents::mark_decisions(conn, row.id, decisions)?;
    }
    if asking {
        // what the department asks for opens the thread, where the applicant can answer
        if let Some(c) = public_comment {
            super::messages::write(conn, ctx, &row, crate::domain::thread::Side::Department, c, Vec::new())?;
        }
    }
    Ok(row)
}

/// The most documents one deciding move names as its decision.
const DECISION_DOCUMENTS_MAX: usize = 20;

/// The department's documents a deciding move names as its decision (422 at each one that is
/// not, or when the move does not decide).
fn decision_documents(
    conn: &mut DbConnection,
    row: &ApplicationRow,
    to: Phase,
    same_phase: bool,
    ids: &[uuid::Uuid],
) -> Result<Vec<SqlUuid>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if same_phase || !matches!(to, Phase::Approved | Phase::Rejected | Phase::Completed) {
        return Err(field(
            "/decision_documents",
            "not_allowed",
            msg!("only with a move that decides (to approved, rejected or completed)"),
        ));
    }
    if ids.len() > DECISION_DOCUMENTS_MAX {
        return Err(field(
            "/decision_documents",
            "too_many",
            msg!("at most {max} documents", max = DECISION_DOCUMENTS_MAX),
        ));
    }
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let doc = crate::db::documents::get(conn, row.id, SqlUuid(*id))?;
        if doc.is_none_or(|d| d.side != crate::domain::thread::Side::Department.as_str()) {
            return Err(field(
                &format!("/decision_documents/{i}"),
                "unknown",
                msg!("not a document the department added to this application"),
            ));
        }
        out.push(SqlUuid(*id));
    }
    Ok(out)
}

/// Assigns an application to a clerk of its department (or an administrator), or unassigns it.
pub fn assign(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    expected: Option<i64>,
    input: AssignmentInput,
) -> Result<ApplicationRow, ApiError> {
    let mut row = load(conn, ctx, id)?;
    if mover(&ctx.caller, &row) != Some(Mover::Processor) {
        return Err(access::forbidden(msg!(
            "This token does not allow assigning this application (clerks of its department and administrators)."
        )));
    }
    check_rev(&row, expected)?;
    not_anonymised(&row)?;
    if let Some(a) = input.assignee {
        let acc = crate::db::auth::account_by_id(conn, a)?;
        let ok = acc.is_some_and(|acc| {
            acc.is_active_staff()
                && match acc.staff_role() {
                    Some(StaffRole::Admin) => true,
                    Some(StaffRole::Clerk) => acc.department_id == Some(row.department_id),
                    _ => false,
                }
        });
        if !ok {
            return Err(field(
                "/assignee",
                "not_a_clerk",
                msg!("not an active clerk of the responsible department"),
            ));
        }
    }
    let new = input.assignee.map(SqlUuid);
    if row.assignee_id == new {
        return Ok(row);
    }
    row.assignee_id = new;
    row.updated_at = SqlTime::now();
    save(conn, &mut row)?;
    let mut note = Note::default();
    note.details.insert("assignee".into(), json!(input.assignee));
    record(conn, ctx, &row, Change::Assigned, note)?;
    Ok(row)
}

/// Deletes a draft (its history and documents go with it; the audit log keeps the deletion).
/// Answers the storage keys of its documents, for the caller to remove once this committed.
pub fn delete(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    expected: Option<i64>,
) -> Result<Vec<String>, ApiError> {
    let row = load(conn, ctx, id)?;
    if mover(&ctx.caller, &row) != Some(Mover::Applicant) {
        return Err(access::forbidden(msg!(
            "This token does not allow deleting this application (only its applicant may)."
        )));
    }
    check_rev(&row, expected)?;
    if phase_of(&row)? != Phase::Draft {
        return Err(conflict(msg!(
            "Only a draft can be deleted; withdraw a submitted application instead."
        )));
    }
    let keys = crate::db::documents::storage_keys(conn, row.id)?;
    if !store::delete(conn, row.id, row.revision)? {
        return Err(stale());
    }
    ctx.actor.audit(
        conn,
        "application.deleted",
        "application",
        row.id.0.to_string(),
        json!({}),
    )?;
    Ok(keys)
}

//! `/v1/organisations`: businesses and organisations (by Swiss UID), their members and their
//! partner clients. A new organisation is `pending` until an administrator verifies it (UIDs
//! are public, so anyone could claim one); members see it, owners manage it; everyone else
//! gets a 404.
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{delete, get, post, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::policy::{CallerKind, Scope};
use crate::auth::{AuthService, Caller};
use crate::catalogue::snapshot::Rendered;
use crate::db::audit::{self, AuditEntry};
use crate::db::auth as aq;
use crate::db::organisations::{self as q, OrganisationRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::account::Email;
use crate::domain::forms::is_uid;
use crate::domain::FieldError;
use crate::error::{ApiError, Problem, ProblemKind};
use crate::http::conditional::{check_revision, required_revision};
use crate::http::extract::{json_body, StrictQuery};
use crate::http::middleware::RequestId;
use crate::http::pagination;

#[derive(Serialize, ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    #[schema(example = "CHE-116.281.710")]
    pub uid: String,
    pub name: String,
    /// `pending` until an administrator verifies it; only a verified organisation can add
    /// members and clients.
    #[schema(example = "pending")]
    pub status: String,
    /// The caller's role in it (`owner`, `member`), if any.
    pub role: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub href: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OrganisationPage {
    data: Vec<Organisation>,
    next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// Swiss enterprise identification number, with its check digit.
    #[schema(example = "CHE-116.281.710", pattern = r"^CHE-[0-9]{3}\.[0-9]{3}\.[0-9]{3}$")]
    pub uid: String,
    #[schema(example = "Muster Treuhand AG", max_length = 200)]
    pub name: String,
}

/// The role a member is given (the body keeps it as text and refuses others with a 422 at
/// `/role`; this type declares the values in the OpenAPI document).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum MemberRoleName {
    Owner,
    Member,
}

/// An administrator's decision on an organisation (declared values of `Decision.status`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum DecisionStatus {
    Verified,
    Rejected,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `verified` or `rejected`.
    #[schema(example = "verified", value_type = DecisionStatus)]
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct Member {
    pub account_id: Uuid,
    pub email: Option<String>,
    pub display_name: Option<String>,
    #[schema(example = "owner")]
    pub role: String,
    pub since: DateTime<Utc>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The e-mail address of an existing guichet account.
    #[schema(example = "hans.muster@example.ch", format = Email, max_length = 254)]
    pub email: String,
    /// `owner` or `member`.
    #[schema(example = "member", value_type = MemberRoleName)]
    pub role: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    #[param(max_length = 1024)]
    cursor: Option<String>,
    /// Administrators: `pending`, `verified` or `rejected`.
    #[param(max_length = 16)]
    status: Option<String>,
}

fn is_admin(c: &Caller) -> bool {
    c.has(Scope::Admin) && matches!(c.kind, CallerKind::Staff | CallerKind::Client)
}

fn account_of(c: &Caller) -> Option<SqlUuid> {
    (c.kind == CallerKind::Resident)
        .then(|| Uuid::parse_str(&c.subject).ok().map(SqlUuid))
        .flatten()
}

/// Residents and administrators use these endpoints; anyone else is refused before lookups.
pub(super) fn require_person_or_admin(c: &Caller) -> Result<(), ApiError> {
    if c.kind == CallerKind::Resident || is_admin(c) {
        Ok(())
    } else {
        Err(ApiError::new(
            ProblemKind::Forbidden,
            "Organisations are managed by their members and administrators.",
        ))
    }
}

pub(super) fn origin(req: &HttpRequest) -> (Option<String>, Option<String>) {
    (
        crate::http::middleware::client_ip(req),
        req.extensions().get::<RequestId>().map(|r| r.0.clone()),
    )
}

pub(super) fn audit_entry(
    c: &Caller,
    action: &str,
    org: SqlUuid,
    from: &(Option<String>, Option<String>),
) -> AuditEntry {
    let kind = match c.kind {
        CallerKind::Resident => "resident",
        CallerKind::Staff => "staff",
        CallerKind::Client => "client",
    };
    AuditEntry::new(action, kind, Some(c.subject.clone()))
        .target("organisation", org.0.to_string())
        .from(from.0.clone(), from.1.clone())
}

fn view(o: &OrganisationRow, role: Option<String>, base: &str) -> Organisation {
    Organisation {
        id: o.id.0,
        uid: o.uid.clone(),
        name: o.name.clone(),
        status: o.status.clone(),
        role,
        created_at: o.created_at.0,
        decided_at: o.decided_at.map(|t| t.0),
        href: format!("{base}/v1/organisations/{}", o.id.0),
    }
}

fn json_with_etag<T: Serialize>(mut res: actix_web::HttpResponseBuilder, v: &T, revision: i64) -> HttpResponse {
    let body = Bytes::from(serde_json::to_vec(v).unwrap_or_default());
    let r = Rendered::from_bytes(body, "de").with_revision(revision);
    res.insert_header((header::ETAG, r.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(r.body)
}

/// The organisation and the caller's role in it, or a 404 if the caller may not see it.
fn visible(conn: &mut DbConnection, c: &Caller, id: &str) -> Result<(OrganisationRow, Option<String>), ApiError> {
    let nf = || ApiError::not_found("No such organisation.");
    let id = Uuid::parse_str(id).map_err(|_| nf())?;
    let org = q::by_id(conn, id)?.ok_or_else(nf)?;
    let role = match account_of(c) {
        Some(acc) => q::role_of(conn, org.id, acc)?,
        None => None,
    };
    if role.is_none() && !is_admin(c) {
        return Err(nf());
    }
    Ok((org, role))
}

/// Like [`visible`], for changes only owners make, on a verified organisation.
pub(super) fn owned(conn: &mut DbConnection, c: &Caller, id: &str) -> Result<OrganisationRow, ApiError> {
    let (org, role) = visible(conn, c, id)?;
    if role.as_deref() != Some("owner") {
        return Err(ApiError::new(
            ProblemKind::Forbidden,
            "Only the organisation's owners manage it.",
        ));
    }
    if org.status != "verified" {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            format!(
                "The organisation is {}; an administrator verifies it first.",
                org.status
            ),
        ));
    }
    Ok(org)
}

/// Register an organisation
///
/// A resident registers a business or organisation by its UID and becomes its owner. It stays
/// `pending` until an administrator verifies it.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    request_body = NewOrganisation,
    responses(
        (status = 201, description = "Registered, pending verification", body = Organisation, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a resident", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This UID is verified for an organisation already, the caller registered it already, or has 3 registrations waiting", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid UID or name", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations")]
pub async fn create_organisation(
    req: HttpRequest,
    caller: Caller,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let Some(account) = account_of(&caller) else {
        return Err(ApiError::new(
            ProblemKind::Forbidden,
            "Organisations are registered by residents with an account.",
        ));
    };
    let input: NewOrganisation = json_body(&req, &body)?;
    let uid = input.uid.trim().to_string();
    let name = input.name.trim().to_string();
    let mut errors = Vec::new();
    if !is_uid(&uid) {
        errors.push(FieldError::new(
            "/uid",
            "format",
            "not a valid UID (CHE-123.456.789 with its check digit)",
        ));
    }
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("/name", "length", "1 to 200 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let from = origin(&req);
    let c = caller.clone();
    let org = auth
        .db
        .write(move |conn| {
            if q::verified_by_uid(conn, &uid)?.is_some() {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    "This UID is registered already; ask its owners to add you.",
                ));
            }
            // a pending registration reserves nothing: several may wait for the same UID
            // (one of them the real company's); each resident keeps a few at most
            let mine = q::pending_of(conn, account)?;
            if mine.iter().any(|o| o.uid == uid) {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    "You registered this UID already; an administrator verifies it.",
                ));
            }
            if mine.len() >= MAX_PENDING_PER_RESIDENT {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    format!(
                        "You have {MAX_PENDING_PER_RESIDENT} registrations waiting for verification, the most one resident may have."
                    ),
                ));
            }
            let now = SqlTime::now();
            let row = OrganisationRow {
                id: SqlUuid(Uuid::now_v7()),
                uid,
                name,
                status: "pending".into(),
                created_by: account,
                decided_at: None,
                decided_by: None,
                revision: 1,
                created_at: now,
                updated_at: now,
            };
            q::insert(conn, &row, account)?;
            audit::record(
                conn,
                &audit_entry(&c, "organisation.create", row.id, &from).details(json!({"uid": row.uid})),
            )?;
            Ok(row)
        })
        .await?;
    let v = view(&org, Some("owner".into()), &auth.issuer);
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, v.href.clone()));
    Ok(json_with_etag(res, &v, org.revision))
}

/// List organisations
///
/// Residents: the organisations they belong to. Administrators: all, filtered by `status`.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of organisations", body = OrganisationPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither a resident nor an administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<ListParams>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let limit = pagination::limit(p.limit.as_deref())?;
    if let Some(s) = &p.status {
        if !["pending", "verified", "rejected"].contains(&s.as_str()) {
            return Err(ApiError::invalid_parameter(
                "status",
                "must be pending, verified or rejected",
            ));
        }
    }
    let before: Option<Uuid> = pagination::decode("organisations", p.cursor.as_deref())?;
    let member = if is_admin(&caller) { None } else { account_of(&caller) };
    let acc = account_of(&caller);
    let status = p.status.clone();
    let rows = auth
        .db
        .run(move |conn| {
            let rows = q::list(conn, member, status, before.map(SqlUuid), limit as i64 + 1)?;
            let mut out = Vec::new();
            for r in rows {
                let role = match acc {
                    Some(a) => q::role_of(conn, r.id, a)?,
                    None => None,
                };
                out.push((r, role));
            }
            Ok(out)
        })
        .await?;
    let more = rows.len() > limit;
    let items: Vec<Organisation> = rows
        .iter()
        .take(limit)
        .map(|(r, role)| view(r, role.clone(), &auth.issuer))
        .collect();
    let next = if more {
        items.last().map(|o| pagination::encode("organisations", &o.id))
    } else {
        None
    };
    let bodies: Vec<Bytes> = items
        .iter()
        .map(|o| Bytes::from(serde_json::to_vec(o).unwrap_or_default()))
        .collect();
    let mut res = super::json_page(
        &req,
        &auth.issuer,
        bodies.iter(),
        next,
        crate::catalogue::Render::One(crate::domain::lang::Lang::De),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Get an organisation
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = Organisation, headers(("ETag" = String))),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither a resident nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or not one of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{organisation}")]
pub async fn get_organisation(
    caller: Caller,
    path: Path<String>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let c = caller.clone();
    let (org, role) = auth.db.run(move |conn| visible(conn, &c, &path)).await?;
    Ok(json_with_etag(
        HttpResponse::Ok(),
        &view(&org, role, &auth.issuer),
        org.revision,
    ))
}

/// How many registrations one resident may have waiting for verification.
const MAX_PENDING_PER_RESIDENT: usize = 3;

/// Mails the resident who registered an organisation the decision on it (`instead`: the
/// registration of the same UID that was verified instead of this one).
fn tell_creator(
    conn: &mut DbConnection,
    org: &OrganisationRow,
    status: &str,
    instead: Option<&OrganisationRow>,
) -> Result<(), ApiError> {
    let Some(email) = aq::account_by_id(conn, org.created_by.0)?.and_then(|a| a.email) else {
        return Ok(());
    };
    let (subject, body) = match (status, instead) {
        ("verified", _) => (
            "Your organisation is verified",
            format!(
                "{} ({}) is verified: its members and API clients can now act for it in guichet.",
                org.name, org.uid
            ),
        ),
        (_, Some(_)) => (
            "Your organisation registration was not accepted",
            format!(
                "Another registration of {} was verified as the organisation; yours ({}) was rejected. Ask its owners to add you as a member.",
                org.uid, org.name
            ),
        ),
        _ => (
            "Your organisation registration was not accepted",
            format!(
                "The registration of {} ({}) was rejected. Contact the city if you think this is wrong.",
                org.name, org.uid
            ),
        ),
    };
    crate::mail::enqueue(conn, &email, subject, &body)?;
    Ok(())
}

/// Verify or reject an organisation
///
/// Administrators decide on a pending organisation. `If-Match` must hold its current ETag.
/// Verifying one rejects the other pending registrations of the same UID; every registering
/// resident is told by mail.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = ["admin"])),
    params(("organisation" = String, Path, description = "Organisation id"), ("If-Match" = String, Header, description = "Current ETag")),
    request_body = Decision,
    responses(
        (status = 200, description = "Decided", body = Organisation, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another organisation with this UID is verified already", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid status", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{organisation}/verification")]
pub async fn decide_organisation(
    req: HttpRequest,
    caller: Caller,
    path: Path<String>,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    if !is_admin(&caller) {
        return Err(ApiError::new(
            ProblemKind::Forbidden,
            "Administrators verify organisations.",
        ));
    }
    let d: Decision = json_body(&req, &body)?;
    if d.status != "verified" && d.status != "rejected" {
        return Err(ApiError::validation(vec![FieldError::new(
            "/status",
            "enum",
            "verified or rejected",
        )]));
    }
    let expected = required_revision(&req)?;
    let from = origin(&req);
    let c = caller.clone();
    let org = auth
        .db
        .write(move |conn| {
            let (org, _) = visible(conn, &c, &path)?;
            check_revision(expected, org.revision)?;
            let verify = d.status == "verified";
            if verify && q::verified_by_uid(conn, &org.uid)?.is_some_and(|v| v.id != org.id) {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    "Another organisation with this UID is verified already.",
                ));
            }
            q::decide(conn, &org, &d.status, &c.subject).map_err(|e| match e {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                    ApiError::new(
                        ProblemKind::Conflict,
                        "Another organisation with this UID was verified meanwhile.",
                    )
                }
                other => other.into(),
            })?;
            audit::record(
                conn,
                &audit_entry(&c, "organisation.decide", org.id, &from).details(json!({"status": d.status})),
            )?;
            tell_creator(conn, &org, &d.status, None)?;
            if verify {
                // the other registrations of this UID were not the company's
                for other in q::pending_by_uid(conn, &org.uid)? {
                    q::decide(conn, &other, "rejected", &c.subject)?;
                    audit::record(
                        conn,
                        &audit_entry(&c, "organisation.decide", other.id, &from)
                            .details(json!({"status": "rejected", "reason": "uid verified for another registration"})),
                    )?;
                    tell_creator(conn, &other, "rejected", Some(&org))?;
                }
            }
            Ok(q::by_id(conn, org.id.0)?.unwrap_or(org))
        })
        .await?;
    Ok(json_with_etag(
        HttpResponse::Ok(),
        &view(&org, None, &auth.issuer),
        org.revision,
    ))
}

/// List members
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The members", body = Vec<Member>),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither a resident nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or not one of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{organisation}/members")]
pub async fn list_members(
    caller: Caller,
    path: Path<String>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let c = caller.clone();
    let members = auth
        .db
        .run(move |conn| {
            let (org, _) = visible(conn, &c, &path)?;
            Ok(q::members(conn, org.id)?)
        })
        .await?;
    let out: Vec<Member> = members
        .into_iter()
        .map(|(id, email, name, role, since)| Member {
            account_id: id.0,
            email,
            display_name: name,
            role,
            since: since.0,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// Add a member
///
/// Owners add an existing account by its e-mail address, as `owner` or `member`.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = String, Path, description = "Organisation id")),
    request_body = NewMember,
    responses(
        (status = 201, description = "Added", body = Member),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or not one of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not verified yet, or already a member", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid e-mail or role, or no such account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{organisation}/members")]
pub async fn add_member(
    req: HttpRequest,
    caller: Caller,
    path: Path<String>,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let input: NewMember = json_body(&req, &body)?;
    let mut errors = Vec::new();
    let email = Email::parse(&input.email)
        .map_err(|m| errors.push(FieldError::new("/email", "format", m)))
        .ok();
    if input.role != "owner" && input.role != "member" {
        errors.push(FieldError::new("/role", "enum", "owner or member"));
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let from = origin(&req);
    let c = caller.clone();
    let role = input.role.clone();
    let member = auth
        .db
        .write(move |conn| {
            let org = owned(conn, &c, &path)?;
            let account = aq::account_by_email(conn, email.as_str())?
                .filter(|a| a.kind == "resident" && a.disabled_at.is_none())
                .ok_or_else(|| {
                    ApiError::validation(vec![FieldError::new(
                        "/email",
                        "unknown",
                        "no resident account with this address",
                    )])
                })?;
            if q::role_of(conn, org.id, account.id)?.is_some() {
                return Err(ApiError::new(ProblemKind::Conflict, "Already a member."));
            }
            q::add_member(conn, org.id, account.id, &role)?;
            audit::record(
                conn,
                &audit_entry(&c, "member.add", org.id, &from).details(json!({"account": account.id.0, "role": role})),
            )?;
            Ok(Member {
                account_id: account.id.0,
                email: account.email,
                display_name: account.display_name,
                role,
                since: SqlTime::now().0,
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(member))
}

/// Remove a member
///
/// Owners remove anyone; a member may leave. The last owner cannot leave (409).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id of the member")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organisations/{organisation}/members/{account}")]
pub async fn remove_member(
    req: HttpRequest,
    caller: Caller,
    path: Path<(String, String)>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let (org_id, account) = path.into_inner();
    let from = origin(&req);
    let c = caller.clone();
    auth.db
        .write(move |conn| {
            let (org, role) = visible(conn, &c, &org_id)?;
            let target = Uuid::parse_str(&account)
                .map(SqlUuid)
                .map_err(|_| ApiError::not_found("No such member."))?;
            let leaving_self = account_of(&c) == Some(target);
            if role.as_deref() != Some("owner") && !leaving_self {
                return Err(ApiError::new(
                    ProblemKind::Forbidden,
                    "Only owners remove other members.",
                ));
            }
            let target_role =
                q::role_of(conn, org.id, target)?.ok_or_else(|| ApiError::not_found("No such member."))?;
            if target_role == "owner" && q::owner_count(conn, org.id)? <= 1 {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    "The last owner cannot leave; make someone else owner first.",
                ));
            }
            q::remove_member(conn, org.id, target)?;
            audit::record(
                conn,
                &audit_entry(&c, "member.remove", org.id, &from).details(json!({"account": target.0})),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

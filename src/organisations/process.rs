//! What happens to organisations, their members and clients: each change in one write
//! transaction with its audit entry (and its mails, queued in the same transaction).
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{owned, registrant, role_in, visible};
use crate::audit::Actor;
use crate::auth::policy::Scope;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::auth::{state, Caller};
use crate::db::auth::{self as aq, ClientRow};
use crate::db::organisations::{self as q, MemberRow, OrganisationRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::account::Email;
use crate::domain::ids::{AccountId, OrganisationId};
use crate::domain::messages::Msg;
use crate::domain::organisation::{
    decision_mail, display_name, may_remove, registration, MemberRole, OrganisationStatus, MAX_PENDING_PER_RESIDENT,
};
use crate::domain::FieldError;
use crate::error::{ApiError, ProblemKind};
use crate::http::conditional::check_revision;
use crate::msg;

/// Who acts, and from where (for the audit log).
#[derive(Clone)]
pub struct Ctx {
    pub caller: Caller,
    pub actor: Actor,
}

impl Ctx {
    fn audit(
        &self,
        conn: &mut DbConnection,
        action: &str,
        org: SqlUuid,
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
        Ok(self
            .actor
            .audit(conn, action, "organisation", org.0.to_string(), details)?)
    }
}

fn conflict(detail: Msg) -> ApiError {
    ApiError::new(ProblemKind::Conflict, detail)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// Swiss enterprise identification number, with its check digit.
    #[schema(
        example = "CHE-116.281.710",
        pattern = r"^CHE-[0-9]{3}\.[0-9]{3}\.[0-9]{3}$",
        max_length = 15
    )]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// 1 to 200 characters besides leading and trailing spaces.
    #[schema(example = "Muster Treuhand booking system", max_length = 200, pattern = r"\S")]
    pub name: String,
    /// Space-separated; at most `applications:read applications:write`.
    #[schema(
        example = "applications:read applications:write",
        pattern = "^ *applications:(read|write)( +applications:(read|write))* *$"
    )]
    #[schema(max_length = 1000)]
    pub scopes: String,
}

/// The scopes an organisation's client may hold.
pub const CLIENT_SCOPES: [Scope; 3] = [Scope::ApplicationsRead, Scope::ApplicationsWrite, Scope::WebhooksManage];

/// A resident registers an organisation and becomes its owner; it waits for verification.
/// A pending registration reserves nothing: several may wait for the same UID (one of them
/// the real company's); each resident keeps a few at most.
pub fn register(conn: &mut DbConnection, ctx: &Ctx, input: NewOrganisation) -> Result<OrganisationRow, ApiError> {
    let account = registrant(&ctx.caller)?;
    let (uid, name) = registration(&input.uid, &input.name).map_err(ApiError::validation)?;
    if q::verified_by_uid(conn, &uid)?.is_some() {
        return Err(conflict(msg!(
            "This UID is registered already; ask its owners to add you."
        )));
    }
    let mine = q::pending_of(conn, account)?;
    if mine.iter().any(|o| o.uid == uid) {
        return Err(conflict(msg!(
            "You registered this UID already; an administrator verifies it."
        )));
    }
    if mine.len() >= MAX_PENDING_PER_RESIDENT {
        return Err(conflict(msg!(
            "You have {max} registrations waiting for verification, the most one resident may have.",
            max = MAX_PENDING_PER_RESIDENT
        )));
    }
    let now = SqlTime::now();
    let row = OrganisationRow {
        id: SqlUuid(Uuid::now_v7()),
        uid,
        name,
        status: OrganisationStatus::Pending.as_str().into(),
        created_by: Some(account),
        decided_at: None,
        decided_by: None,
        revision: 1,
        created_at: now,
        updated_at: now,
    };
    q::insert(conn, &row, Some(account))?;
    ctx.audit(conn, "organisation.create", row.id, json!({"uid": row.uid}))?;
    Ok(row)
}

/// A page of organisations with the caller's role in each: residents see theirs,
/// administrators all (filtered by status).
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    status: Option<OrganisationStatus>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(OrganisationRow, Option<MemberRole>)>, ApiError> {
    let member = if caller.is_admin() {
        None
    } else {
        caller.resident_account().map(SqlUuid)
    };
    let rows = q::list(
        conn,
        member,
        status.map(|s| s.as_str().to_string()),
        before.map(SqlUuid),
        limit,
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let role = role_in(conn, caller, r.id)?;
        out.push((r, role));
    }
    Ok(out)
}

/// Tells the resident who registered an organisation the decision on it (`instead`: the
/// registration of the same UID that was verified instead of this one).
fn tell_creator(
    conn: &mut DbConnection,
    org: &OrganisationRow,
    status: OrganisationStatus,
    instead: bool,
) -> Result<(), ApiError> {
    let Some(creator) = org.created_by else {
        return Ok(());
    };
    let Some(email) = aq::account_by_id(conn, creator.0)?.and_then(|a| a.email) else {
        return Ok(());
    };
    let (subject, body) = decision_mail(&org.name, &org.uid, status, instead);
    crate::mail::enqueue(conn, &email, subject, &body)?;
    Ok(())
}

/// The decision an administrator sends, or a 422 at `/status`.
pub fn decision(d: &Decision) -> Result<OrganisationStatus, ApiError> {
    match OrganisationStatus::parse(&d.status) {
        Some(s @ (OrganisationStatus::Verified | OrganisationStatus::Rejected)) => Ok(s),
        _ => Err(ApiError::validation(vec![FieldError::new(
            "/status",
            "enum",
            msg!("verified or rejected"),
        )])),
    }
}

/// An administrator verifies or rejects an organisation. Verifying one rejects the other
/// pending registrations of its UID; every registering resident is told by mail.
pub fn decide(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: OrganisationId,
    status: OrganisationStatus,
    expected: i64,
) -> Result<OrganisationRow, ApiError> {
    let (org, _) = visible(conn, &ctx.caller, id)?;
    check_revision(expected, org.revision)?;
    let verify = status == OrganisationStatus::Verified;
    if verify && q::verified_by_uid(conn, &org.uid)?.is_some_and(|v| v.id != org.id) {
        return Err(conflict(msg!(
            "Another organisation with this UID is verified already."
        )));
    }
    q::decide(conn, &org, status.as_str(), &ctx.caller.subject).map_err(|e| match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            conflict(msg!("Another organisation with this UID was verified meanwhile."))
        }
        other => other.into(),
    })?;
    ctx.audit(conn, "organisation.decide", org.id, json!({"status": status.as_str()}))?;
    tell_creator(conn, &org, status, false)?;
    if verify {
        reject_other_registrations(conn, &org, &ctx.caller.subject, |conn, other| {
            ctx.audit(conn, "organisation.decide", other, rejected_for_uid())
        })?;
    }
    Ok(q::by_id(conn, org.id.0)?.unwrap_or(org))
}

fn rejected_for_uid() -> serde_json::Value {
    json!({"status": "rejected", "reason": "uid verified for another registration"})
}

/// The other registrations of a UID just verified were not the company's: each is rejected,
/// audited by `audit`, and its resident told.
fn reject_other_registrations(
    conn: &mut DbConnection,
    verified: &OrganisationRow,
    by: &str,
    audit: impl Fn(&mut DbConnection, SqlUuid) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    for other in q::pending_by_uid(conn, &verified.uid)? {
        q::decide(conn, &other, OrganisationStatus::Rejected.as_str(), by)?;
        audit(conn, other.id)?;
        tell_creator(conn, &other, OrganisationStatus::Rejected, true)?;
    }
    Ok(())
}

/// What an operator creates for a partner in one step (`guichet organisation create`).
pub struct OperatorOrganisation {
    pub organisation: OrganisationRow,
    pub owner: Option<Uuid>,
    pub client: Option<Credentials>,
}

/// An operator creates an organisation that is verified at once (the operator vouches for
/// it), with its first owner (an existing resident account) and a client for its systems when
/// asked; other pending registrations of the UID are rejected as when an administrator
/// verifies one. One transaction; the audit actor is `operator`.
pub fn create_verified(
    conn: &mut DbConnection,
    input: &NewOrganisation,
    owner: Option<&str>,
    client: Option<(String, Vec<Scope>)>,
) -> Result<OperatorOrganisation, ApiError> {
    let actor = Actor::operator();
    let audit = |conn: &mut DbConnection, action: &str, id: SqlUuid, details| {
        Ok::<_, ApiError>(actor.audit(conn, action, "organisation", id.0.to_string(), details)?)
    };
    let (uid, name) = registration(&input.uid, &input.name).map_err(ApiError::validation)?;
    if let Some(v) = q::verified_by_uid(conn, &uid)? {
        return Err(conflict(msg!(
            "A verified organisation with this UID exists already: {id}.",
            id = v.id.0
        )));
    }
    let owner = match owner {
        None => None,
        Some(email) => {
            let email =
                Email::parse(email).map_err(|m| ApiError::validation(vec![FieldError::new("/owner", "format", m)]))?;
            let account = aq::account_by_email(conn, email.as_str())?
                .filter(|a| a.is_active_resident())
                .ok_or_else(|| {
                    ApiError::validation(vec![FieldError::new(
                        "/owner",
                        "unknown",
                        msg!("no resident account with this address (the person registers first)"),
                    )])
                })?;
            Some(account.id)
        }
    };
    let now = SqlTime::now();
    let row = OrganisationRow {
        id: SqlUuid(Uuid::now_v7()),
        uid,
        name,
        status: OrganisationStatus::Verified.as_str().into(),
        created_by: None,
        decided_at: Some(now),
        decided_by: Some("operator".into()),
        revision: 1,
        created_at: now,
        updated_at: now,
    };
    q::insert(conn, &row, owner)?;
    audit(
        conn,
        "organisation.create",
        row.id,
        json!({"status": "verified", "owner": owner.map(|o| o.0)}),
    )?;
    reject_other_registrations(conn, &row, "operator", |conn, other| {
        audit(conn, "organisation.decide", other, rejected_for_uid())
    })?;
    let client = match client {
        None => None,
        Some((name, scopes)) => {
            let creds = insert_client(conn, ClientOwner::Organisation(row.id), name, &scopes)?;
            audit(
                conn,
                "client.create",
                row.id,
                json!({"client_id": creds.client.client_id}),
            )?;
            Some(creds)
        }
    };
    Ok(OperatorOrganisation {
        organisation: row,
        owner: owner.map(|o| o.0),
        client,
    })
}

pub fn members(conn: &mut DbConnection, caller: &Caller, id: OrganisationId) -> Result<Vec<MemberRow>, ApiError> {
    let (org, _) = visible(conn, caller, id)?;
    Ok(q::members(conn, org.id)?)
}

/// A member to add: the address and the role, or every field error.
pub fn new_member(input: &NewMember) -> Result<(Email, MemberRole), ApiError> {
    let mut errors = Vec::new();
    let email = Email::parse(&input.email)
        .map_err(|m| errors.push(FieldError::new("/email", "format", m)))
        .ok();
    let role = MemberRole::parse(&input.role);
    if role.is_none() {
        errors.push(FieldError::new("/role", "enum", msg!("owner or member")));
    }
    match (email, role) {
        (Some(e), Some(r)) => Ok((e, r)),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Owners add an existing resident account by its address.
pub fn add_member(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: OrganisationId,
    email: Email,
    role: MemberRole,
) -> Result<MemberRow, ApiError> {
    let org = owned(conn, &ctx.caller, id)?;
    let account = aq::account_by_email(conn, email.as_str())?
        .filter(|a| a.is_active_resident())
        .ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "/email",
                "unknown",
                msg!("no resident account with this address"),
            )])
        })?;
    if q::role_of(conn, org.id, account.id)?.is_some() {
        return Err(conflict(msg!("Already a member.")));
    }
    q::add_member(conn, org.id, account.id, role.as_str())?;
    ctx.audit(
        conn,
        "member.add",
        org.id,
        json!({"account": account.id.0, "role": role.as_str()}),
    )?;
    Ok((
        account.id,
        account.email,
        account.display_name,
        role.as_str().to_string(),
        SqlTime::now(),
    ))
}

/// Owners remove anyone; a member may leave; the last owner may not.
pub fn remove_member(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: OrganisationId,
    account: AccountId,
) -> Result<(), ApiError> {
    let (org, role) = visible(conn, &ctx.caller, id)?;
    let target = SqlUuid(account.0);
    if !may_remove(role, ctx.caller.resident_account() == Some(target.0)) {
        return Err(ApiError::new(
            ProblemKind::Forbidden,
            msg!("Only owners remove other members."),
        ));
    }
    let target_role = q::role_of(conn, org.id, target)?.ok_or_else(|| ApiError::not_found(msg!("No such member.")))?;
    if MemberRole::parse(&target_role) == Some(MemberRole::Owner) && q::owner_count(conn, org.id)? <= 1 {
        return Err(conflict(msg!(
            "The last owner cannot leave; make someone else owner first."
        )));
    }
    q::remove_member(conn, org.id, target)?;
    ctx.audit(conn, "member.remove", org.id, json!({"account": target.0}))
}

/// A client to create: its name and scopes, or every field error.
pub fn new_client(input: &NewClient) -> Result<(String, Vec<Scope>), ApiError> {
    new_client_with(
        input,
        &CLIENT_SCOPES,
        msg!("applications:read and/or applications:write"),
    )
}

/// The same, for a client that may hold the scopes `allowed` (`hint` names them).
pub fn new_client_with(
    input: &NewClient,
    allowed: &[Scope],
    hint: crate::domain::messages::Msg,
) -> Result<(String, Vec<Scope>), ApiError> {
    let mut errors = Vec::new();
    let name = display_name("/name", &input.name).map_err(|e| errors.push(e)).ok();
    let scopes = match Scope::parse_list(&input.scopes) {
        Ok(s) if !s.is_empty() && s.iter().all(|x| allowed.contains(x)) => Some(s),
        _ => {
            errors.push(FieldError::new("/scopes", "enum", hint));
            None
        }
    };
    match (name, scopes) {
        (Some(n), Some(s)) => Ok((n, s)),
        _ => Err(ApiError::validation(errors)),
    }
}

/// The credentials of a client, with a new secret (stored as its hash only).
pub struct Credentials {
    pub client: ClientRow,
    pub secret: String,
}

fn new_secret() -> Result<(String, String), ApiError> {
    let secret = random_token("gcs_").map_err(ApiError::internal)?;
    let hash = sha256_hex(&secret);
    Ok((secret, hash))
}

/// Owners create API clients for their organisation's systems.
pub fn create_client(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: OrganisationId,
    name: String,
    scopes: &[Scope],
) -> Result<Credentials, ApiError> {
    let org = owned(conn, &ctx.caller, id)?;
    let creds = insert_client(conn, ClientOwner::Organisation(org.id), name, scopes)?;
    ctx.audit(
        conn,
        "client.create",
        org.id,
        json!({"client_id": creds.client.client_id}),
    )?;
    Ok(creds)
}

/// Whom a client acts for.
#[derive(Debug, Clone, Copy)]
pub enum ClientOwner {
    Organisation(SqlUuid),
    /// A department's back-office system.
    Department(SqlUuid),
}

/// A new client, with its secret (stored as its hash only).
pub(crate) fn insert_client(
    conn: &mut DbConnection,
    owner: ClientOwner,
    name: String,
    scopes: &[Scope],
) -> Result<Credentials, ApiError> {
    let (secret, secret_hash) = new_secret()?;
    let now = SqlTime::now();
    let (organisation_id, department_id) = match owner {
        ClientOwner::Organisation(o) => (Some(o), None),
        ClientOwner::Department(d) => (None, Some(d)),
    };
    let client = ClientRow {
        id: SqlUuid(Uuid::now_v7()),
        client_id: format!("gc_{}", Uuid::now_v7().simple()),
        name,
        secret_hash,
        scopes: Scope::join(scopes),
        organisation_id,
        disabled_at: None,
        created_at: now,
        updated_at: now,
        is_public: false,
        department_id,
    };
    aq::insert_client(conn, &client)?;
    Ok(Credentials { client, secret })
}

pub fn clients(conn: &mut DbConnection, caller: &Caller, id: OrganisationId) -> Result<Vec<ClientRow>, ApiError> {
    let org = owned(conn, caller, id)?;
    Ok(aq::clients_of_organisation(conn, org.id)?)
}

fn org_client(conn: &mut DbConnection, org: SqlUuid, client_id: &str) -> Result<ClientRow, ApiError> {
    aq::client_by_client_id(conn, client_id)?
        .filter(|c| c.organisation_id == Some(org))
        .ok_or_else(|| ApiError::not_found(msg!("No such client.")))
}

/// A new secret for a client; the old one stops working at once.
pub fn rotate_secret(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: OrganisationId,
    client_id: &str,
) -> Result<Credentials, ApiError> {
    let org = owned(conn, &ctx.caller, id)?;
    let client = org_client(conn, org.id, client_id)?;
    let (secret, hash) = new_secret()?;
    aq::set_client_secret_hash(conn, client.id, &hash)?;
    ctx.audit(
        conn,
        "client.rotate_secret",
        org.id,
        json!({"client_id": client.client_id}),
    )?;
    Ok(Credentials { client, secret })
}

/// Disables a client; the security state is bumped so that every instance refuses its
/// tokens within the refresh bound.
pub fn disable_client(conn: &mut DbConnection, ctx: &Ctx, id: OrganisationId, client_id: &str) -> Result<(), ApiError> {
    let org = owned(conn, &ctx.caller, id)?;
    let client = org_client(conn, org.id, client_id)?;
    aq::set_client_disabled(conn, &client.client_id, true)?;
    state::bump(conn)?;
    ctx.audit(conn, "client.disable", org.id, json!({"client_id": client.client_id}))
}

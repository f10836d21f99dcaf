//! Editing the catalogue: departments, services, draft versions, publishing and retiring.
//! Every change runs in one write transaction with its audit entry and, when it changes what
//! the public sees, bumps the catalogue revision so that every instance reloads within 2 s.
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::auth::policy::may_edit_department;
use crate::auth::Caller;
use crate::db::catalogue::{bump_revision, search_document};
use crate::db::catalogue_admin as q;
use crate::db::models::{DepartmentRow, ServiceRow, ServiceVersionRow};
use crate::db::types::{SqlJson, SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::catalogue::{
    DepartmentInput, FormDefinition, ServiceContent, ServiceInput, ServiceStatus, VersionState,
};
use crate::domain::messages::Msg;
use crate::domain::{forms, FieldError};
use crate::error::{ApiError, ProblemKind};
use crate::http::conditional::check_revision;
use crate::msg;

/// The body of a draft: everything a version says.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    pub content: ServiceContent,
    pub form: FormDefinition,
}

/// A new service: where it belongs, and its first version (a draft).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    #[schema(example = "parkplatz-reservieren", max_length = 64)]
    pub slug: String,
    /// Department slug or id.
    #[schema(example = "einwohnerdienste", max_length = 64)]
    pub department: String,
    /// Category slug.
    #[schema(example = "residence", max_length = 64)]
    pub category: String,
    pub content: ServiceContent,
    pub form: FormDefinition,
}

/// A version as editors see it: every translation, the form, and its state and revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditorVersion {
    pub service_id: uuid::Uuid,
    #[schema(max_length = 64)]
    pub service: String,
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: i32,
    #[schema(example = "draft", max_length = 32)]
    pub state: String,
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    pub revision: i64,
    pub content: ServiceContent,
    pub form: FormDefinition,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl EditorVersion {
    fn of(s: &ServiceRow, row: &ServiceVersionRow) -> Result<EditorVersion, ApiError> {
        Ok(EditorVersion {
            service_id: s.id.0,
            service: s.slug.clone(),
            version: row.version,
            state: row.state.clone(),
            revision: row.revision,
            content: serde_json::from_value(row.content.0.clone()).map_err(ApiError::internal)?,
            form: FormDefinition {
                schema: row.form_schema.0.clone(),
                ui_schema: row.ui_schema.as_ref().map(|u| u.0.clone()),
            },
            created_at: row.created_at.0,
            published_at: row.published_at.map(|t| t.0),
        })
    }
}

fn conflict(detail: Msg) -> ApiError {
    ApiError::new(ProblemKind::Conflict, detail)
}

fn find_department(conn: &mut DbConnection, key: &str) -> Result<Option<DepartmentRow>, ApiError> {
    Ok(q::find_department(conn, key)?)
}

pub fn find_service(conn: &mut DbConnection, key: &str) -> Result<Option<ServiceRow>, ApiError> {
    Ok(q::find_service(conn, key)?)
}

fn find_version(conn: &mut DbConnection, service: SqlUuid, n: i32) -> Result<Option<ServiceVersionRow>, ApiError> {
    Ok(q::find_version(conn, service, n)?)
}

/// The service, if the caller may edit it; a draft-only service of another department is a
/// 404 (the caller may not know it exists), a published one a 403.
fn editable_service(conn: &mut DbConnection, caller: &Caller, key: &str) -> Result<ServiceRow, ApiError> {
    let s = find_service(conn, key)?.ok_or_else(|| ApiError::not_found(msg!("No service '{key}'.", key = key)))?;
    if !may_edit_department(caller, s.department_id.0) {
        if s.status() == Some(ServiceStatus::Draft) {
            return Err(ApiError::not_found(msg!("No service '{key}'.", key = key)));
        }
        return Err(ApiError::new(
            ProblemKind::Forbidden,
            msg!("This service belongs to another department."),
        ));
    }
    Ok(s)
}

fn draft_errors(d: &mut DraftInput, errors: &mut Vec<FieldError>) {
    d.content.validate("/content", errors);
    d.content.validate_with_form(&d.form, "/content", errors);
    forms::check_definition(&d.form, "/form", errors);
}

/// Checks a draft body before anything else (a 422 comes before a 412).
pub fn check_draft(d: &mut DraftInput) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    draft_errors(d, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Checks a department body before anything else.
pub fn check_department(d: &mut DepartmentInput) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    d.validate("", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// A department's row as `input` describes it.
fn department_row(
    id: SqlUuid,
    input: DepartmentInput,
    revision: i64,
    created_at: SqlTime,
    now: SqlTime,
) -> DepartmentRow {
    DepartmentRow {
        id,
        slug: input.slug,
        name: SqlJson(json!(input.name)),
        directorate: input.directorate,
        email: input.email,
        phone: input.phone,
        address: input.address,
        website: input.website,
        contact_verified: SqlJson(json!(input.contact_verified)),
        source: input.source,
        revision,
        created_at,
        updated_at: now,
        creditor: input.creditor.map(|c| SqlJson(json!(c))),
    }
}

pub fn create_department(
    conn: &mut DbConnection,
    actor: &Actor,
    mut input: DepartmentInput,
) -> Result<DepartmentRow, ApiError> {
    let mut errors = Vec::new();
    input.validate("", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if find_department(conn, &input.slug)?.is_some() {
        return Err(conflict(msg!(
            "A department '{slug}' exists already.",
            slug = &input.slug
        )));
    }
    let now = SqlTime::now();
    let row = department_row(SqlUuid(uuid::Uuid::now_v7()), input, 1, now, now);
    q::insert_department(conn, &row)?;
    bump_revision(conn)?;
    actor.audit(
        conn,
        "department.create",
        "department",
        row.id.0.to_string(),
        json!({"slug": row.slug}),
    )?;
    Ok(row)
}

pub fn update_department(
    conn: &mut DbConnection,
    actor: &Actor,
    key: &str,
    expected: i64,
    mut input: DepartmentInput,
) -> Result<DepartmentRow, ApiError> {
    let row =
        find_department(conn, key)?.ok_or_else(|| ApiError::not_found(msg!("No department '{key}'.", key = key)))?;
    let mut errors = Vec::new();
    input.validate("", &mut errors);
    if input.slug != row.slug {
        errors.push(FieldError::new(
            "/slug",
            "immutable",
            msg!("a department's slug cannot change"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    check_revision(expected, row.revision)?;
    let changed = department_row(row.id, input, row.revision + 1, row.created_at, SqlTime::now());
    q::update_department(conn, &changed)?;
    bump_revision(conn)?;
    actor.audit(
        conn,
        "department.update",
        "department",
        row.id.0.to_string(),
        json!({"revision": row.revision + 1}),
    )?;
    Ok(find_department(conn, key)?.unwrap_or(row))
}

fn version_row(
    service: SqlUuid,
    n: i32,
    d: &DraftInput,
    slug: &str,
    department: &str,
    category: &str,
) -> ServiceVersionRow {
    let input = ServiceInput {
        slug: slug.into(),
        department: department.into(),
        category: category.into(),
        content: d.content.clone(),
        form: d.form.clone(),
        retired: false,
    };
    let now = SqlTime::now();
    ServiceVersionRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        service_id: service,
        version: n,
        state: VersionState::Draft.as_str().into(),
        channel: d.content.channel.as_str().into(),
        content: SqlJson(json!(d.content)),
        form_schema: SqlJson(d.form.schema.clone()),
        // with the authored order of every object: jsonb keeps arrays' order, not objects'
        ui_schema: Some(SqlJson(crate::domain::forms::with_orders(
            &d.form.schema,
            d.form.ui_schema.as_ref(),
        ))),
        search: SqlJson(search_document(&input)),
        created_at: now,
        published_at: None,
        superseded_at: None,
        revision: 1,
    }
}

/// A new service with its first version as a draft (nothing public changes yet).
pub fn create_service(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    new: NewService,
) -> Result<EditorVersion, ApiError> {
    let mut input = ServiceInput {
        slug: new.slug,
        department: new.department,
        category: new.category,
        content: new.content,
        form: new.form,
        retired: false,
    };
    let mut errors = Vec::new();
    if !crate::domain::catalogue::is_slug(&input.slug) {
        errors.push(FieldError::new(
            "/slug",
            "pattern",
            msg!("a slug is 1-64 lower-case letters, digits and single hyphens"),
        ));
    }
    let dept = find_department(conn, &input.department)?;
    if dept.is_none() {
        errors.push(FieldError::new(
            "/department",
            "unknown",
            msg!("no department '{slug}'", slug = &input.department),
        ));
    }
    if !q::category_exists(conn, &input.category)? {
        errors.push(FieldError::new(
            "/category",
            "unknown",
            msg!("no category '{category}'", category = &input.category),
        ));
    }
    let mut draft = DraftInput {
        content: input.content.clone(),
        form: input.form.clone(),
    };
    draft_errors(&mut draft, &mut errors);
    let Some(dept) = dept else {
        return Err(ApiError::validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if !may_edit_department(caller, dept.id.0) {
        return Err(ApiError::new(
            ProblemKind::Forbidden,
            msg!("Clerks create services of their own department only."),
        ));
    }
    if find_service(conn, &input.slug)?.is_some() {
        return Err(conflict(msg!("A service '{slug}' exists already.", slug = &input.slug)));
    }
    input.content = draft.content.clone();
    let now = SqlTime::now();
    let row = ServiceRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        slug: input.slug.clone(),
        department_id: dept.id,
        category: input.category.clone(),
        status: ServiceStatus::Draft.as_str().into(),
        current_version: None,
        revision: 1,
        created_at: now,
        updated_at: now,
        retired_at: None,
    };
    q::insert_service(conn, &row)?;
    let version = version_row(row.id, 1, &draft, &row.slug, &dept.slug, &row.category);
    q::insert_version(conn, &version)?;
    actor.audit(
        conn,
        "service.create",
        "service",
        row.id.0.to_string(),
        json!({"slug": row.slug}),
    )?;
    EditorVersion::of(&row, &version)
}

/// A new draft: the body, or a copy of the current version. One draft at a time.
pub fn create_draft(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    key: &str,
    body: Option<DraftInput>,
) -> Result<EditorVersion, ApiError> {
    let s = editable_service(conn, caller, key)?;
    if q::has_draft(conn, s.id)? {
        return Err(conflict(msg!("This service has a draft already: edit or publish it.")));
    }
    let mut draft = match body {
        Some(d) => d,
        None => {
            let n = s
                .current_version
                .ok_or_else(|| conflict(msg!("The service has no published version to copy.")))?;
            let cur = find_version(conn, s.id, n)?.ok_or_else(|| ApiError::internal("current version missing"))?;
            let e = EditorVersion::of(&s, &cur)?;
            DraftInput {
                content: e.content,
                form: e.form,
            }
        }
    };
    check_draft(&mut draft)?;
    let next = q::next_version(conn, s.id)?;
    let dept_slug = q::department_slug(conn, s.department_id)?;
    let row = version_row(s.id, next, &draft, &s.slug, &dept_slug, &s.category);
    q::insert_version(conn, &row)?;
    actor.audit(
        conn,
        "service.draft",
        "service",
        s.id.0.to_string(),
        json!({"version": next}),
    )?;
    EditorVersion::of(&s, &row)
}

/// A version that is not published, for those who may edit the service; to anyone else it
/// does not exist (404, as for the public), whether the service is published or not.
pub fn read_version(conn: &mut DbConnection, caller: &Caller, key: &str, n: i32) -> Result<EditorVersion, ApiError> {
    let s = find_service(conn, key)?
        .filter(|s| may_edit_department(caller, s.department_id.0))
        .ok_or_else(|| ApiError::not_found(msg!("Service '{key}' has no version {n}.", key = key, n = n)))?;
    let row = find_version(conn, s.id, n)?
        .ok_or_else(|| ApiError::not_found(msg!("Service '{key}' has no version {n}.", key = key, n = n)))?;
    EditorVersion::of(&s, &row)
}

pub fn replace_draft(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    key: &str,
    n: i32,
    expected: i64,
    mut d: DraftInput,
) -> Result<EditorVersion, ApiError> {
    let s = editable_service(conn, caller, key)?;
    let row = find_version(conn, s.id, n)?
        .ok_or_else(|| ApiError::not_found(msg!("Service '{key}' has no version {n}.", key = key, n = n)))?;
    if row.state() != Some(VersionState::Draft) {
        return Err(conflict(msg!(
            "Version {n} is {state}: a published version never changes; create a draft.",
            n = n,
            state = &row.state
        )));
    }
    check_draft(&mut d)?;
    check_revision(expected, row.revision)?;
    let dept_slug = q::department_slug(conn, s.department_id)?;
    let fresh = version_row(s.id, n, &d, &s.slug, &dept_slug, &s.category);
    q::update_draft(conn, row.id, &fresh, row.revision + 1)?;
    actor.audit(
        conn,
        "service.draft_update",
        "service",
        s.id.0.to_string(),
        json!({"version": n, "revision": row.revision + 1}),
    )?;
    read_version(conn, caller, key, n)
}

/// Publishes a draft: it becomes the current version, the previous one is superseded.
pub fn publish(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    key: &str,
    n: i32,
    expected: i64,
) -> Result<EditorVersion, ApiError> {
    let s = editable_service(conn, caller, key)?;
    let row = find_version(conn, s.id, n)?
        .ok_or_else(|| ApiError::not_found(msg!("Service '{key}' has no version {n}.", key = key, n = n)))?;
    if row.state() != Some(VersionState::Draft) {
        return Err(conflict(msg!(
            "Version {n} is {state} already.",
            n = n,
            state = &row.state
        )));
    }
    if s.status() == Some(ServiceStatus::Retired) {
        return Err(conflict(msg!("The service is retired.")));
    }
    check_revision(expected, row.revision)?;
    q::publish_version(conn, &s, &row, SqlTime::now())?;
    bump_revision(conn)?;
    actor.audit(
        conn,
        "service.publish",
        "service",
        s.id.0.to_string(),
        json!({"version": n}),
    )?;
    read_version(conn, caller, key, n)
}

/// Retires a service: it stays readable, is no longer listed and takes no applications.
pub fn retire(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    key: &str,
    expected: i64,
) -> Result<String, ApiError> {
    let s = editable_service(conn, caller, key)?;
    if s.status() != Some(ServiceStatus::Active) {
        return Err(conflict(msg!(
            "The service is {status}; only an active service can be retired.",
            status = &s.status
        )));
    }
    check_revision(expected, s.revision)?;
    q::retire_service(conn, &s, SqlTime::now())?;
    bump_revision(conn)?;
    actor.audit(conn, "service.retire", "service", s.id.0.to_string(), json!({}))?;
    Ok(s.slug)
}

/// A department's back-office system (`POST /v1/departments/{department}/clients`,
/// administrators): a client bound to the department, which reads and processes its
/// applications as its clerks do. Answers its credentials; the secret is shown only now.
pub fn create_department_client(
    conn: &mut DbConnection,
    actor: &Actor,
    department: &str,
    input: &crate::organisations::process::NewClient,
) -> Result<crate::organisations::process::Credentials, ApiError> {
    use crate::organisations::process::{insert_client, new_client_with, ClientOwner};
    let dep = find_department(conn, department)?
        .ok_or_else(|| ApiError::not_found(msg!("No department '{key}'.", key = department)))?;
    let (name, scopes) = new_client_with(
        input,
        &crate::auth::policy::DEPARTMENT_CLIENT_SCOPES,
        msg!("catalogue:read, applications:read and/or applications:process"),
    )?;
    let creds = insert_client(conn, ClientOwner::Department(dep.id), name, &scopes)?;
    actor.audit(
        conn,
        "client.create",
        "department",
        dep.id.0.to_string(),
        json!({"client_id": creds.client.client_id, "scopes": creds.client.scopes}),
    )?;
    Ok(creds)
}

/// The back-office systems of a department (administrators).
pub fn department_clients(
    conn: &mut DbConnection,
    department: &str,
) -> Result<Vec<crate::db::auth::ClientRow>, ApiError> {
    let dep = find_department(conn, department)?
        .ok_or_else(|| ApiError::not_found(msg!("No department '{key}'.", key = department)))?;
    Ok(crate::db::auth::clients_of_department(conn, dep.id)?)
}

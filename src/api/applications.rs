//! `/v1/applications`: applications for services, from draft to decision.
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path, Payload};
use actix_web::{delete, get, patch, post, HttpMessage, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;

use crate::applications::process::{
    self, ApplicationPatch, AssignmentInput, CommentInput, NewApplication, TransitionInput,
};
use crate::applications::views::{self, Application};
use crate::applications::{access, ApplicationRow, Ctx, DbConnection, Reads};
use crate::audit::Actor;
use crate::auth::{AuthService, Caller};
use crate::catalogue::{CatalogueCache, Render};
use crate::domain::ids::ApplicationId;
use crate::domain::lang::Lang;
use crate::error::{ApiError, Problem};
use crate::http::conditional::required_revision;
use crate::http::extract::{json_body, media_type, optional_json_body, render_for, StrictQuery};
use crate::http::middleware::RequestId;
use crate::http::rendered::Rendered;
use crate::storage::DocumentStore;

pub mod documents;
pub mod invoices;
pub mod list;
pub mod messages;

/// The `Idempotency-Key` request header.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKey {
    /// Makes retries safe: the same key and body get the first answer again for 24 hours
    /// (docs/API.md). 1 to 255 visible ASCII characters, e.g. a UUID.
    #[param(
        rename = "Idempotency-Key",
        pattern = r"^[!-~]{1,255}$",
        max_length = 255,
        min_length = 1
    )]
    idempotency_key: Option<String>,
}

/// Settings of the applications API.
#[derive(Debug, Clone)]
pub struct ApplicationSettings {
    pub reference_prefix: String,
    pub drafts: crate::applications::process::DraftLimits,
    /// `GUICHET_BODY_LIMIT`: a JSON body, or the application part of a multipart one.
    pub body_limit: usize,
    /// `GUICHET_FRONTEND_URL`: links in the mails to applicants.
    pub frontend_url: String,
}

/// The language of labels: `?lang=` (de, fr, it, en; `all` reads as the negotiated one) or
/// else `Accept-Language`.
pub(crate) fn lang_of(req: &HttpRequest, param: Option<&str>) -> Result<Lang, ApiError> {
    match render_for(req, param)? {
        Render::One(l) => Ok(l),
        Render::All => lang_of(req, None),
    }
}

/// The language the caller asked for, if it asked (`?lang=` or `Accept-Language`).
fn asked_lang(req: &HttpRequest) -> Option<Lang> {
    let param = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .ok()
        .and_then(|q| q.into_iter().find(|(k, _)| k == "lang").map(|(_, v)| v));
    if param.is_none() && !req.headers().contains_key(header::ACCEPT_LANGUAGE) {
        return None;
    }
    lang_of(req, param.as_deref()).ok()
}

/// The query of `GET /v1/applications/{id}`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    #[param(value_type = Option<crate::api::LangParam>)]
    pub(crate) lang: Option<String>,
}

/// The revision `If-Match` asks for: None for `*` (any current representation) and, when
/// not `required`, for an absent or empty header; 428 when required and absent; 412 when it
/// is not an ETag of this API.
pub(crate) fn if_match(req: &HttpRequest, required: bool) -> Result<Option<i64>, ApiError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("?").trim())
        .filter(|v| !v.is_empty());
    match value {
        None if required => required_revision(req).map(Some),
        None | Some("*") => Ok(None),
        Some(_) => required_revision(req).map(Some),
    }
}

/// What the application handlers share: the database, the published catalogue and settings.
pub struct Apps {
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
    settings: Data<ApplicationSettings>,
    documents: Data<DocumentStore>,
    reads: Data<Reads>,
}

impl actix_web::FromRequest for Apps {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Apps, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let apps = (|| {
            Some(Apps {
                auth: req.app_data::<Data<AuthService>>()?.clone(),
                cache: req.app_data::<Data<CatalogueCache>>()?.clone(),
                settings: req.app_data::<Data<ApplicationSettings>>()?.clone(),
                documents: req.app_data::<Data<DocumentStore>>()?.clone(),
                reads: req.app_data::<Data<Reads>>()?.clone(),
            })
        })();
        std::future::ready(apps.ok_or_else(|| ApiError::internal("application services missing from app data")))
    }
}

impl Apps {
    fn ctx(&self, req: &HttpRequest, caller: &Caller) -> Ctx {
        Ctx {
            caller: caller.clone(),
            actor: Actor::of(
                caller,
                crate::http::middleware::client_ip(req),
                req.extensions().get::<RequestId>().map(|r| r.0.clone()),
            ),
            snap: self.cache.get(),
            prefix: self.settings.reference_prefix.clone(),
            drafts: self.settings.drafts,
            lang: asked_lang(req),
            frontend: self.settings.frontend_url.clone(),
        }
    }

    /// Runs one change in a write transaction and answers with the application as it is now.
    async fn change<F>(&self, req: &HttpRequest, caller: &Caller, created: bool, f: F) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut DbConnection, &Ctx) -> Result<ApplicationRow, ApiError> + Send + 'static,
    {
        let c = self.ctx(req, caller);
        let row = self.auth.db.write(move |conn| f(conn, &c)).await?;
        respond(caller, &self.cache, &row, created, lang_of(req, None)?)
    }
}

impl Apps {
    /// A new application: the contact it needs read first (on the pipelined connections), then
    /// the write; created and submitted at once, the write is one statement (`Db::write_one`).
    async fn create(
        &self,
        req: &HttpRequest,
        caller: &Caller,
        input: NewApplication,
    ) -> Result<HttpResponse, ApiError> {
        let c = self.ctx(req, caller);
        let contact = self.contact(&c, &input, false).await?;
        let submit = input.submit;
        let work = move |conn: &mut DbConnection| process::create(conn, &c, input, contact);
        let row = if submit {
            self.auth.db.write_one(work).await?
        } else {
            self.auth.db.write(work).await?
        };
        respond(caller, &self.cache, &row, true, lang_of(req, None)?)
    }

    /// The contact a new application needs ([`process::contact_needed`]).
    async fn contact(
        &self,
        c: &Ctx,
        input: &NewApplication,
        with_files: bool,
    ) -> Result<Option<crate::applications::Contact>, ApiError> {
        match process::contact_needed(c, input, with_files) {
            Some(id) => self.reads.contact(id).await,
            None => Ok(None),
        }
    }
}

/// The body, parsed after authorization; an empty body reads as `{}` where that is allowed.
fn body_or_default<T: DeserializeOwned + Default>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
    Ok(optional_json_body(req, body)?.unwrap_or_default())
}

/// Renders an application for the caller, with its ETag.
pub(crate) fn respond(
    caller: &Caller,
    cache: &CatalogueCache,
    row: &ApplicationRow,
    created: bool,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let snap = cache.get();
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    let view = views::application(
        &snap,
        row,
        access::mover(caller, row),
        access::is_staff_view(caller),
        lang,
    )?;
    let body = Bytes::from(serde_json::to_vec(&view).map_err(ApiError::internal)?);
    let r = Rendered::from_bytes(body, lang.code()).with_revision(row.revision);
    if created {
        res.insert_header((
            header::LOCATION,
            format!("{}/v1/applications/{}", snap.public_url(), row.id.0),
        ));
    }
    Ok(res
        .insert_header((header::ETAG, r.etag.as_str()))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .insert_header((header::VARY, "Accept-Language, Authorization"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(r.body))
}

/// Create an application
///
/// Creates a draft for the current version of a service applied for through guichet, for the
/// caller or, with `applicant.organisation`, for an organisation the caller acts for. With
/// `"submit": true` the draft is created and submitted in one atomic call: either the
/// application is submitted, or nothing is created. Send an `Idempotency-Key` to retry safely.
///
/// **With documents, in one call**: send `multipart/form-data` with the application as JSON in
/// a first part named `application`, then each file in a part named `documents` (with its file
/// name and media type); a file field of the form (`format: document-id`) holds the file's
/// name, and the answer holds the document's id there instead. All or nothing:
/// when anything fails (a file of a type the service does not take, the form), no application
/// and no file is kept. The service's document limits apply to each file.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"])),
    params(IdempotencyKey),
    request_body(content(
        (NewApplication = "application/json"),
        (documents::ApplicationWithDocuments = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Created (and submitted when asked)", body = Application, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The caller may not apply (or not for this organisation)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The applicant keeps GUICHET_MAX_OPEN_DRAFTS open drafts already", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The JSON body is larger than GUICHET_BODY_LIMIT, or a file larger than the service takes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither application/json nor multipart/form-data, or a file of a type the service does not take", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: a draft's types, lengths, enum values, unknown keys and size (GUICHET_DRAFT_MAX_BYTES), or on submission the whole form (every error, each with its JSON pointer); with files, a part not named documents, two files of one name, a file no field names", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications")]
pub async fn create_application(
    req: HttpRequest,
    caller: Caller,
    payload: Payload,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_apply(&caller)?;
    if media_type(&req) == "multipart/form-data" {
        let row = documents::create_with_files(&req, &caller, payload, &apps).await?;
        return respond(&caller, &apps.cache, &row, true, lang_of(&req, None)?);
    }
    let body = read_limited(payload, apps.settings.body_limit).await?;
    let input: NewApplication = json_body(&req, &body)?;
    apps.create(&req, &caller, input).await
}

/// The whole body, at most `limit` bytes (413 beyond).
async fn read_limited(payload: Payload, limit: usize) -> Result<Bytes, ApiError> {
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) => Err(ApiError::new(
            crate::error::ProblemKind::BadRequest,
            crate::msg!("The body cannot be read: {error}", error = e),
        )),
        Err(_) => Err(ApiError::new(
            crate::error::ProblemKind::PayloadTooLarge,
            crate::msg!("The body is larger than {limit} bytes.", limit = limit),
        )),
    }
}

/// Read an application
///
/// The applicant (the resident, a member of the applying organisation, its client), the
/// clerks of the responsible department once it is submitted, and administrators see it;
/// anyone else gets a 404.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ApplicationQuery, ("Accept-Language" = Option<String>, Header, description = "Language of labels")),
    responses(
        (status = 200, description = "The application", body = Application, headers(("ETag" = String))),
        (status = 400, description = "Invalid or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The token has no applications:read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}")]
pub async fn get_application(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    q: StrictQuery<ApplicationQuery>,
    apps: Apps,
    reads: Data<Reads>,
) -> Result<HttpResponse, ApiError> {
    let reader = access::reader(&caller)?;
    let id = path.into_inner();
    let lang = lang_of(&req, q.0.lang.as_deref())?;
    let row = reads
        .application(id.into(), reader)
        .await?
        .ok_or_else(process::unknown)?;
    respond(&caller, &apps.cache, &row, false, lang)
}

/// Edit a draft's data
///
/// A JSON Merge Patch (RFC 7396) of `data`: keys merge, `null` removes. Allowed to the
/// applicant while the application is a draft or waits for them (`action_required`).
/// `If-Match` is required. The data is checked against the form on submission.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("If-Match" = String, Header, description = "Current ETag")),
    request_body(content = ApplicationPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated", body = Application, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotTheApplicant),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 409, description = "Not editable in this phase", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[patch("/applications/{id}")]
pub async fn update_application(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    body: Bytes,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let input: ApplicationPatch = json_body(&req, &body)?;
    let expected = if_match(&req, true)?;
    apps.change(&req, &caller, false, move |conn, c| {
        process::patch(conn, c, id, expected, input)
    })
    .await
}

/// Delete a draft
///
/// Only a draft can be deleted, by its applicant, with its documents; a submitted application
/// is withdrawn instead and stays on record.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("If-Match" = String, Header, description = "Current ETag")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotTheApplicant),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[delete("/applications/{id}")]
pub async fn delete_application(
    req: HttpRequest,
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<ApplicationId>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let expected = if_match(&req, true)?;
    let c = apps.ctx(&req, &caller);
    let stored = apps
        .auth
        .db
        .write(move |conn| process::delete(conn, &c, id, expected))
        .await?;
    apps.documents.remove(stored).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Submit an application
///
/// Checks the data against the form of the application's service version (every error at
/// once, each with its JSON pointer) and the documents its file fields name, then submits: the
/// application gets its reference and tracking code. On an application waiting for the
/// applicant (`action_required`) this resubmits it (back to `in_review`).
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("If-Match" = String, Header, description = "Current ETag"), IdempotencyKey),
    request_body(content = Option<CommentInput>, description = "Optional comment for the department"),
    responses(
        (status = 200, description = "Submitted", body = Application, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotTheApplicant),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 409, description = "Not in a phase that can be submitted; the detail lists the allowed moves", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 428, response = crate::api::responses::IfMatchMissing),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "The data fails the form", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/submit")]
pub async fn submit_application(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    body: Bytes,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let input: CommentInput = body_or_default(&req, &body)?;
    let expected = if_match(&req, true)?;
    apps.change(&req, &caller, false, move |conn, c| {
        process::submit(conn, c, id, expected, input)
    })
    .await
}

/// Withdraw an application
///
/// The applicant ends a submitted application that is not decided yet (`submitted`,
/// `in_review`, `action_required`); the department sees the optional reason.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("If-Match" = String, Header, description = "Current ETag"), IdempotencyKey),
    request_body(content = Option<CommentInput>, description = "Optional reason"),
    responses(
        (status = 200, description = "Withdrawn", body = Application, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotTheApplicant),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 409, description = "Cannot be withdrawn in this phase", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 428, response = crate::api::responses::IfMatchMissing),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid body, or an Idempotency-Key used with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/withdraw")]
pub async fn withdraw_application(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    body: Bytes,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let input: CommentInput = body_or_default(&req, &body)?;
    let expected = if_match(&req, true)?;
    apps.change(&req, &caller, false, move |conn, c| {
        process::withdraw(conn, c, id, expected, input)
    })
    .await
}

/// Move an application
///
/// Moves to a phase (and one of its steps) as the transition table allows for the caller:
/// clerks of the responsible department and administrators process, the applicant submits,
/// resubmits and withdraws. Moving to another step of the current phase (also back) is
/// allowed to processors. `If-Match` is required. An illegal move is a 409 that lists the
/// moves allowed from the current phase. The applicant's moves (submit, resubmit, withdraw)
/// need `applications:write`, processing needs `applications:process`.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:process"]), ("oauth2" = ["applications:write"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("If-Match" = String, Header, description = "Current ETag"), IdempotencyKey),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "Moved", body = Application, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The caller may see but not move the application", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 409, description = "Not allowed from the current phase; the detail lists the allowed moves", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Unknown step, missing comment, or data failing the form", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[post("/applications/{id}/transitions")]
pub async fn transition_application(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    body: Bytes,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let input: TransitionInput = json_body(&req, &body)?;
    let expected = if_match(&req, true)?;
    apps.change(&req, &caller, false, move |conn, c| {
        process::transition(conn, c, id, expected, input)
    })
    .await
}

/// Assign an application
///
/// To a clerk of the responsible department (or an administrator); `null` unassigns.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:process"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("If-Match" = String, Header, description = "Current ETag"), IdempotencyKey),
    request_body = AssignmentInput,
    responses(
        (status = 200, description = "Assigned", body = Application, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Not a processor of this application", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 428, response = crate::api::responses::IfMatchMissing),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Not a clerk of the department", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/assignment")]
pub async fn assign_application(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    body: Bytes,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let input: AssignmentInput = json_body(&req, &body)?;
    let expected = if_match(&req, true)?;
    apps.change(&req, &caller, false, move |conn, c| {
        process::assign(conn, c, id, expected, input)
    })
    .await
}

/// An application's history
///
/// Every change with who, when, from, to and comment, oldest first. The applicant sees public
/// comments; staff also internal notes, assignments and who acted.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The history", body = HistoryPage),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, response = crate::api::responses::NoSuchApplication),
    )
)]
#[get("/applications/{id}/history")]
pub async fn list_application_history(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<ApplicationId>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let id = path.into_inner();
    let who = caller.clone();
    let (row, rows) = apps.auth.db.run(move |c| process::history(c, &who, id)).await?;
    let entries = views::history(&apps.cache.get(), &row, rows, access::is_staff_view(&caller));
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "data": entries })))
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct HistoryPage {
    data: Vec<views::HistoryEntry>,
}

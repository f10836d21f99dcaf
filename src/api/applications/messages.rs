//! `/v1/applications/{id}/messages`: the thread between an application's applicant side and
//! the department processing it.
use actix_web::http::header;
use actix_web::web::{Bytes, Path};
use actix_web::{get, post, HttpRequest, HttpResponse};

use super::{Apps, IdempotencyKey};
use crate::applications::access;
use crate::applications::messages::{self as thread, Message, NewMessage, ReadInput, ReadMarkers};
use crate::auth::Caller;
use crate::domain::ids::ApplicationId;
use crate::error::{ApiError, Problem};
use crate::http::extract::{json_body, StrictQuery};
use crate::http::pagination::{self, PageParams};

const SCOPE: &str = "messages";

/// Read an application's messages
///
/// The thread between the applicant's side (the resident; the organisation's members and
/// client; a representative) and the department processing the application, oldest first,
/// cursor-paginated. Whoever may read the application reads its thread; each message says
/// whether the other side has read it. Internal notes are not messages: they stay in the
/// history, for staff.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), PageParams),
    responses(
        (status = 200, description = "A page of the thread", body = crate::http::page::Page<Message>, headers(("Link" = String, description = "rel=\"next\" when there is a next page"))),
        (status = 400, description = "Invalid or unknown parameter, or a cursor of another collection", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, response = crate::api::responses::NoSuchApplication),
    )
)]
#[get("/applications/{id}/messages")]
pub async fn list_messages(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<PageParams>,
    path: Path<ApplicationId>,
    apps: Apps,
    reads: actix_web::web::Data<crate::applications::Reads>,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let id = path.into_inner();
    let (after, limit) = p.page::<thread::Key>(SCOPE)?;
    let (rows, more, markers) = thread::thread(&reads, &caller, id, after, limit).await?;
    let next = more
        .then(|| rows.last().map(|m| pagination::encode(SCOPE, &thread::key(m))))
        .flatten();
    let snap = apps.cache.get();
    let staff = access::is_staff_view(&caller);
    let items: Vec<Message> = rows
        .into_iter()
        .map(|m| thread::view(&snap, m, &markers, staff))
        .collect();
    Ok(crate::api::no_store_page(&req, snap.public_url(), &items, next))
}

/// Write a message
///
/// To the other side of the application's thread: the applicant (or its organisation's
/// members and client) to the department, the department's clerks and back-office systems to
/// the applicant. Not on a draft. `documents` names documents of this application. Posting
/// does not change the application (no `If-Match`); it writes a history entry and an
/// `application.message_posted` event, and marks the thread read up to the new message for
/// the writer's side. With `"resubmit": true` the applicant's reply also resubmits an
/// application waiting for it (`If-Match` required), as one change: refused (and not posted)
/// while a request of the department is open or the form fails.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"]), ("oauth2" = ["applications:process"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "Current ETag; required with resubmit"), IdempotencyKey),
    request_body = NewMessage,
    responses(
        (status = 201, description = "Posted", body = Message, headers(("Location" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The caller may read but not write in this thread", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 409, description = "The application is a draft, or (resubmitting) does not wait for the applicant", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "An empty or too long body, too many documents, a document not of this application; resubmitting: an open request or data failing the form", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[post("/applications/{id}/messages")]
pub async fn post_message(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    body: Bytes,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let input: NewMessage = json_body(&req, &body)?;
    // a plain message changes nothing of the application; a resubmission does
    let expected = if input.resubmit {
        super::if_match(&req, true)?
    } else {
        None
    };
    let ctx = apps.ctx(&req, &caller);
    let row = apps
        .auth
        .db
        .write(move |c| thread::post(c, &ctx, id, input, expected))
        .await?;
    let snap = apps.cache.get();
    let location = thread::message_url(&snap, &row);
    // the writer's side has read it; the other side has not yet
    let view = thread::view(&snap, row, &[], access::is_staff_view(&caller));
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// Read one message
///
/// One message of the thread (where `Location` pointed when it was written), with whether the
/// other side has read it.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("message_id" = uuid::Uuid, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message", body = Message),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, description = "No such application or message", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/messages/{message_id}")]
pub async fn get_message(
    caller: Caller,
    _q: StrictQuery<crate::api::health::NoParams>,
    path: Path<(ApplicationId, uuid::Uuid)>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let (id, message) = path.into_inner();
    let who = caller.clone();
    let (row, markers) = apps.auth.db.run(move |c| thread::get(c, &who, id, message)).await?;
    let view = thread::view(&apps.cache.get(), row, &markers, access::is_staff_view(&caller));
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// How far each side has read
///
/// For the applicant's side and the department: the last message read, when, and how many
/// messages of the other side came after it.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The read markers", body = ReadMarkers),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, response = crate::api::responses::NoSuchApplication),
    )
)]
#[get("/applications/{id}/messages/read")]
pub async fn get_read_markers(
    caller: Caller,
    _q: StrictQuery<crate::api::health::NoParams>,
    path: Path<ApplicationId>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let id = path.into_inner();
    let who = caller.clone();
    let markers = apps.auth.db.run(move |c| thread::markers(c, &who, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(markers))
}

/// Mark messages read
///
/// The caller's side (the applicant's, or the department's) has read the thread up to this
/// message. A marker never moves back: marking an earlier message changes nothing.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"]), ("oauth2" = ["applications:process"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), IdempotencyKey),
    request_body = ReadInput,
    responses(
        (status = 200, description = "The read markers now", body = ReadMarkers),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The caller may read but not write in this thread", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "No such message in this thread", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/messages/read")]
pub async fn mark_messages_read(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    body: Bytes,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let input: ReadInput = json_body(&req, &body)?;
    let ctx = apps.ctx(&req, &caller);
    let markers = apps
        .auth
        .db
        .write(move |c| thread::mark_read(c, &ctx, id, input))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(markers))
}

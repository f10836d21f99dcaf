//! `/v1/me`: who the token belongs to, and the caller's own profile. The rules live in
//! `src/accounts/`; these handlers parse and render.
use actix_web::web::{Bytes, Data};
use actix_web::{get, patch, HttpRequest, HttpResponse};

use crate::accounts::process::{self, MePatch};
use crate::accounts::{access, views::Me};
use crate::auth::{AuthService, Caller};
use crate::error::{ApiError, Problem};
use crate::http::conditional::{json_with_revision, required_revision};
use crate::http::extract::{json_body, StrictQuery};

/// Who am I
///
/// The caller behind the access token: kind, scopes and profile.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The caller", body = Me, headers(("ETag" = String, description = "The profile's revision, for `If-Match` on `PATCH /v1/me` (accounts)"))),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
    )
)]
#[get("/me")]
pub async fn get_me(
    caller: Caller,
    _q: StrictQuery<super::health::NoParams>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    access::may_read_profile(&caller)?;
    me_response(&caller, &auth).await
}

/// The profile, with the account's revision in its ETag (for `If-Match` on `PATCH`).
async fn me_response(caller: &Caller, auth: &AuthService) -> Result<HttpResponse, ApiError> {
    let c = caller.clone();
    let (me, revision) = auth.db.run(move |conn| process::profile(conn, &c)).await?;
    Ok(json_with_revision(HttpResponse::Ok(), &me, revision))
}

/// Change my profile
///
/// The display name, and the password (with the current one; every session of the account
/// ends). `If-Match` must hold the ETag of `GET /v1/me`. Partner clients have no profile here.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = []), ("oauth2" = [])),
    params(("If-Match" = String, Header, description = "ETag of GET /v1/me")),
    request_body(content = MePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed profile", body = Me, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "A partner client", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid fields, or a wrong current password", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[patch("/me")]
pub async fn update_me(
    req: HttpRequest,
    caller: Caller,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let account = access::own_account(&caller)?;
    let change = process::check(json_body::<MePatch>(&req, &body)?)?;
    let expected = required_revision(&req)?;
    let actor = crate::http::middleware::actor(&req, &caller);
    let ttl = auth.access_ttl;
    auth.db
        .run(move |conn| process::update(conn, &actor, account, change, expected, ttl))
        .await?;
    me_response(&caller, &auth).await
}

//! `GET /v1/status/{reference}`: where an application stands, for anyone holding its reference
//! and tracking code, without signing in. No personal data.
use crate::auth::caller::MaybeCaller;
use actix_web::http::header;
use actix_web::web::{Data, Path};
use actix_web::{get, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::applications::lang_of;
use crate::applications::process;
use crate::applications::views::{self, Tracking};
use crate::auth::AuthService;
use crate::catalogue::CatalogueCache;
use crate::domain::application::Reference;
use crate::error::{ApiError, Problem, ProblemKind};
use crate::http::extract::StrictQuery;
use crate::http::ratelimit::Limits;
use crate::msg;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrackingParams {
    /// The tracking code, when it cannot go in the `X-Tracking-Code` header (the request log
    /// never records query strings).
    #[param(max_length = 64)]
    code: Option<String>,
    #[param(value_type = Option<crate::api::LangParam>)]
    lang: Option<String>,
}

fn no_code() -> ApiError {
    ApiError::new(
        ProblemKind::BadRequest,
        msg!("Send the tracking code the applicant received with the reference, in the X-Tracking-Code header (or the code parameter)."),
    )
}

fn unknown() -> ApiError {
    ApiError::not_found(msg!("No application with this reference and tracking code."))
}

/// Track an application
///
/// The service, the current status step with its public label, when it changed and the
/// expected decision date, for whoever has both the reference and the tracking code the
/// applicant received. Without a code the answer is a 400 saying so; a wrong code and an
/// unknown reference get the same 404; lookups are rate-limited per client address.
#[utoipa::path(
    tag = "applications",
    params(
        ("reference" = String, Path, max_length = 32, description = "The application's reference, e.g. THU-2026-7Q4KM2XD-J"),
        ("X-Tracking-Code" = Option<String>, Header, description = "The tracking code"),
        TrackingParams
    ),
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 200, description = "Where the application stands", body = Tracking, headers(("RateLimit-Policy" = String, description = "The limit and its window (IETF httpapi-ratelimit-headers)"), ("RateLimit" = String, description = "What is left of the limit and when it resets"))),
        (status = 400, description = "No tracking code, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown reference or wrong code", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String), ("RateLimit-Policy" = String), ("RateLimit" = String))),
    )
)]
#[get("/status/{reference}")]
pub async fn get_application_status(
    _caller: MaybeCaller,
    req: HttpRequest,
    path: Path<String>,
    q: StrictQuery<TrackingParams>,
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
    limits: Data<Limits>,
) -> Result<HttpResponse, ApiError> {
    let ip = crate::http::middleware::client_ip(&req);
    let rate = match limits.tracking_ip.check(ip.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(state) => return Err(state.problem(msg!("Too many status lookups from this address; retry later."))),
    };
    let lang = lang_of(&req, q.0.lang.as_deref())?;
    let code = req
        .headers()
        .get("x-tracking-code")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(q.0.code)
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .ok_or_else(no_code)?;
    let reference = Reference::parse(&path).ok_or_else(unknown)?;
    let row = auth
        .db
        .run(move |c| process::tracked(c, &reference, &code))
        .await?
        .ok_or_else(unknown)?;
    let view = views::tracking(&cache.get(), &row, lang)?;
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()));
    for (k, v) in rate.map(|r| r.headers()).unwrap_or_default() {
        res.insert_header((k, v));
    }
    Ok(res.json(view))
}

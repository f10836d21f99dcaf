//! `GET /v1/events`: the event feed.
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Data;
use actix_web::{get, HttpRequest, HttpResponse};

use super::applications::lang_of;
use crate::applications::Reads;
use crate::auth::Caller;
use crate::catalogue::CatalogueCache;
use crate::error::{ApiError, Problem};
use crate::events::feed::{self, EventPage, EventSignal, FeedParams};
use crate::http::extract::StrictQuery;
use crate::http::pagination;

/// Read the event feed
///
/// Every change of an application the caller may see, in the order the changes committed:
/// residents and partner clients their applications' events, clerks and their department's
/// systems the department's, administrators all; each with the application as the caller
/// sees it now. The feed has no last page: continue with `after=next_cursor`; an empty page
/// means nothing new yet. With `wait` (seconds, at most 30) an empty page is only answered
/// when nothing new became visible in that time: a partner neither polls busily nor needs a
/// webhook. Events are kept `GUICHET_EVENT_RETENTION_DAYS` (90 days by default).
#[utoipa::path(
    tag = "events",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(FeedParams),
    responses(
        (status = 200, description = "The next events (possibly none yet)", body = EventPage, headers(("Link" = String, description = "rel=\"next\": where to continue"))),
        (status = 400, description = "Invalid or unknown parameter, or bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
    )
)]
#[get("/events")]
pub async fn list_events(
    req: HttpRequest,
    caller: Caller,
    q: StrictQuery<FeedParams>,
    signal: Data<EventSignal>,
    reads: Data<Reads>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    let lang = lang_of(&req, q.0.lang.as_deref())?;
    let snap = cache.get();
    let page = feed::page(&reads, &signal, &snap, &caller, &q.0, lang).await?;
    let next = pagination::next_url_with(
        snap.public_url(),
        req.path(),
        req.query_string(),
        "after",
        &page.next_cursor,
    );
    let mut res = HttpResponse::Ok().content_type(mime::APPLICATION_JSON).body(page.json);
    if let Ok(link) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
        res.headers_mut().insert(header::LINK, link);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

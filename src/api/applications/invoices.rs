//! `/v1/applications/{id}/invoice`: the bill of an application's fee (a Swiss QR-bill).
use actix_web::http::header;
use actix_web::web::Path;
use actix_web::{get, HttpResponse};

use super::Apps;
use crate::applications::{access, invoices};
use crate::auth::Caller;
use crate::domain::ids::ApplicationId;
use crate::error::{ApiError, Problem};

/// Read an application's bill
///
/// The bill of the application's fee, once its service billed it (on submission or on
/// approval): amount, what is paid, the due day, the account, the reference and the text of
/// its Swiss QR Code. Whoever may read the application may read its bill; 404 when there is
/// none.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The bill", body = invoices::Invoice),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, description = "No such application, or it has no bill", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/invoice")]
pub async fn get_invoice(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<ApplicationId>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let id = path.into_inner();
    let who = caller.clone();
    let view = apps.auth.db.run(move |c| invoices::get(c, &who, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

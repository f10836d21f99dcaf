//! The OpenAPI document and the interactive docs (served from guichet itself, no CDN).
use actix_web::web::Data;
use actix_web::{get, HttpResponse};

use crate::auth::caller::MaybeCaller;
use crate::http::extract::StrictQuery;

/// The OpenAPI document, serialised once at start-up.
pub struct OpenApiJson(pub String);

/// OpenAPI document
///
/// This API's OpenAPI 3.1 description, the same as `openapi/v1.json` in the repository.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
    )
)]
#[get("/openapi.json")]
pub async fn get_openapi(
    _caller: MaybeCaller,
    _q: StrictQuery<super::health::NoParams>,
    doc: Data<OpenApiJson>,
) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(doc.0.clone())
}

/// The Swagger UI at `/docs/`, with every asset vendored into the binary.
pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    let config = utoipa_swagger_ui::Config::from("/v1/openapi.json")
        .validator_url("none")
        .try_it_out_enabled(true)
        .display_operation_id(true);
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").config(config)
}

//! HTTP handlers, one module per resource. Handlers are thin: parse, call the layer below,
//! render. The handler's name is its OpenAPI operationId.
pub mod accounts;
pub mod applications;
pub mod audit;
pub mod catalogue_admin;
pub mod departments;
pub mod docs;
pub mod events;
pub mod health;
pub mod invoices;
pub mod links;
pub mod me;
pub mod oauth;
mod openapi;
pub mod organisation_clients;
pub mod organisations;
pub mod payments;
pub mod phases;
pub mod problems;
pub mod responses;
pub mod services;
pub mod tracking;
pub mod webhooks;
pub mod wellknown;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use crate::auth::Scope;
use crate::catalogue::Render;
use crate::domain::messages::Msg;
use crate::error::ApiError;
use crate::http::pagination;

pub use crate::domain::lang::LangParam;

pub(crate) fn invalid(name: &str, detail: Msg) -> ApiError {
    ApiError::invalid_parameter(name, detail)
}

/// Writes `{"data": [...], "next_cursor": ...}` from pre-serialised items, with the `Link`
/// header for the next page.
pub(crate) fn json_page<'a>(
    req: &HttpRequest,
    public_url: &str,
    items: impl Iterator<Item = &'a Bytes>,
    next_cursor: Option<String>,
    render: Render,
) -> HttpResponse {
    let body = crate::http::page::prerendered(items.map(|b| &b[..]), &next_cursor);
    let mut res = HttpResponse::Ok();
    res.content_type("application/json")
        .insert_header((header::VARY, HeaderValue::from_static("Accept-Language")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    match render {
        Render::One(l) => res.insert_header((header::CONTENT_LANGUAGE, l.code())),
        Render::All => res.insert_header((header::CONTENT_LANGUAGE, "de, fr, it, en")),
    };
    if let Some(c) = &next_cursor {
        let url = pagination::next_url(public_url, req.path(), req.query_string(), c);
        if let Ok(v) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
            res.insert_header((header::LINK, v));
        }
    }
    res.body(body)
}

/// A page of items serialised one by one, not cached (collections of one caller's data).
pub(crate) fn no_store_page<T: Serialize>(
    req: &HttpRequest,
    public_url: &str,
    items: &[T],
    next_cursor: Option<String>,
) -> HttpResponse {
    let bodies: Vec<Bytes> = items
        .iter()
        .map(|o| Bytes::from(serde_json::to_vec(o).unwrap_or_default()))
        .collect();
    let mut res = json_page(
        req,
        public_url,
        bodies.iter(),
        next_cursor,
        Render::One(crate::domain::lang::Lang::De),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn scope_description(s: Scope) -> &'static str {
    match s {
        Scope::CatalogueRead => "Read the catalogue, including drafts one may edit",
        Scope::CatalogueWrite => "Edit and publish services (clerks: their department's)",
        Scope::ApplicationsRead => "Read applications one may see",
        Scope::ApplicationsWrite => "Create and submit applications",
        Scope::ApplicationsProcess => "Process applications of one's department",
        Scope::WebhooksManage => "Manage webhook subscriptions",
        Scope::PaymentsRead => "Read bills and the payments the bank reported",
        Scope::PaymentsWrite => "Import the bank's payment notifications (camt.054)",
        Scope::Admin => "Administration: accounts, clients, organisations, audit log",
    }
}

struct SecurityAddon;

/// What the document says of access tokens (and src/auth/tokens.rs does).
const TOKENS: &str = "Access tokens are JWTs handled as RFC8725 (JSON Web Token Best Current Practices) \
asks: signed with EdDSA (Ed25519) and accepted with that algorithm only, by the key their `kid` names in \
`/.well-known/jwks.json`; explicitly typed `at+jwt` (RFC 9068); issuer, audience, expiry and not-before \
checked. They live `GUICHET_ACCESS_TOKEN_TTL` (15 minutes by default); frontends renew them with a \
single-use refresh token, partner systems ask for a new one with their client credentials.";

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(TOKENS))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let scopes = Scopes::from_iter(
            Scope::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), scope_description(*s).to_string())),
        );
        // the grants the token endpoint serves: partner systems' client credentials, and the
        // password grant of first-party frontends with its refresh tokens
        let partner = Flow::ClientCredentials(ClientCredentials::new("/v1/oauth/token", scopes.clone()));
        let frontend = Flow::Password(Password::with_refresh_url("/v1/oauth/token", scopes, "/v1/oauth/token"));
        let oauth2 = OAuth2::with_description([partner, frontend], TOKENS);
        components.add_security_scheme("oauth2", SecurityScheme::OAuth2(oauth2));
        let metrics = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("The operators' GUICHET_METRICS_TOKEN (not an OAuth token)"))
            .build();
        components.add_security_scheme("metrics_token", SecurityScheme::Http(metrics));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "guichet",
        description = "Headless e-government API: the service catalogue of a city (here the City of Thun), applications and their status, events for partner systems.\n\nConventions (errors as RFC 9457 problem details, cursor pagination, languages, ETags) are described in docs/API.md of the repository.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
        contact(name = "guichet maintainers", url = "https://github.com/guichet/guichet")
    ),
    servers((url = "/", description = "This guichet instance: production, staging or local, wherever it is deployed")),
    modifiers(&SecurityAddon),
    tags(
        (name = "catalogue", description = "Public services, their departments, forms and versions"),
        (name = "catalogue administration", description = "Departments, services, drafts, publishing and retiring (staff)"),
        (name = "oauth", description = "Tokens: the OAuth 2.0 token and revocation endpoints, keys and metadata"),
        (name = "accounts", description = "Registration, the caller's profile and the audit log"),
        (name = "applications", description = "Applications for services: drafts, submission, processing, history and public tracking"),
        (name = "events", description = "The event feed: every change of the applications a caller may see, in commit order"),
        (name = "webhooks", description = "Webhook endpoints: the same events posted as they happen, signed per Standard Webhooks"),
        (name = "organisations", description = "Businesses and organisations (by UID), their members and API clients"),
        (name = "payments", description = "The bank's notifications of incoming payments (camt.054), matched to bills"),
        (name = "operations", description = "Health, metrics and problem types")
    ),
    components(responses(
        responses::Unauthorized,
        responses::ServerError,
        responses::MalformedJson,
        responses::UnknownParameter,
        responses::NotJson,
        responses::StaleIfMatch,
        responses::IfMatchMissing,
        responses::NoSuchApplication,
        responses::NotTheApplicant,
        responses::NotAnOwner,
        responses::NoSuchService,
        responses::NoSuchOrganisation,
        responses::NotAnEditor,
        responses::NoReadScope,
        responses::NotVerified,
        responses::NoSuchServiceVersion,
        responses::NotAnAdministrator,
    ), schemas(
        crate::error::Problem,
        crate::error::FieldErrorText,
        LangParam,
        crate::domain::catalogue::Audience,
        crate::domain::catalogue::Channel,
        crate::catalogue::views::ServiceStatus,
        crate::applications::list::ApplicationSort,
        crate::payments::views::ReceivedPayment,
        crate::invoices::views::InvoiceItem
    ))
)]
pub struct ApiDoc;

/// Registers every documented route; `app::build` and `guichet openapi` both call it, so the
/// served document and the routes cannot drift apart.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        // actix tries the routes in this order, matching a regular expression for each route
        // with a path parameter, so the busiest come first: reading an application, its thread
        // or the event feed passes at most two patterns instead of some thirty. None shadows
        // another: no static path sits beside `/applications/{id}` or its `/messages`, and the
        // `/messages/read` routes stay before `/messages/{message_id}`.
        utoipa_actix_web::scope("/v1")
            .service(applications::get_application)
            .service(applications::messages::list_messages)
            .service(events::list_events)
            .service(applications::list::list_applications)
            .service(applications::create_application)
            .service(applications::update_application)
            .service(applications::delete_application)
            .service(applications::submit_application)
            .service(applications::withdraw_application)
            .service(applications::transition_application)
            .service(applications::assign_application)
            .service(applications::list_application_history)
            .service(applications::documents::list_documents)
            .service(applications::documents::upload_document)
            .service(applications::documents::get_document)
            .service(applications::documents::download_document)
            .service(applications::documents::delete_document)
            .service(applications::invoices::get_invoice)
            .service(applications::invoices::adjust_invoice)
            .service(applications::messages::post_message)
            .service(applications::messages::get_read_markers)
            .service(applications::messages::mark_messages_read)
            .service(applications::messages::get_message)
            .service(services::list_services)
            .service(catalogue_admin::create_service)
            .service(catalogue_admin::create_service_draft)
            .service(catalogue_admin::update_service_draft)
            .service(catalogue_admin::publish_service_version)
            .service(catalogue_admin::retire_service)
            .service(catalogue_admin::create_department)
            .service(catalogue_admin::update_department)
            .service(services::get_service)
            .service(services::get_service_form)
            .service(services::list_service_versions)
            .service(services::get_service_version)
            .service(services::get_service_version_form)
            .service(departments::list_departments)
            .service(departments::get_department)
            .service(docs::get_openapi)
            .service(oauth::issue_token)
            .service(oauth::revoke_token)
            .service(accounts::create_account)
            .service(accounts::verify_email)
            .service(accounts::request_password_reset)
            .service(accounts::confirm_password_reset)
            .service(me::get_me)
            .service(me::update_me)
            .service(organisations::create_organisation)
            .service(organisations::list_organisations)
            .service(organisations::get_organisation)
            .service(organisations::decide_organisation)
            .service(organisations::list_members)
            .service(organisations::add_member)
            .service(organisations::remove_member)
            .service(organisation_clients::create_organisation_client)
            .service(organisation_clients::list_organisation_clients)
            .service(organisation_clients::rotate_organisation_client_secret)
            .service(organisation_clients::disable_organisation_client)
            .service(audit::list_audit_events)
            .service(payments::import_bank_notification)
            .service(payments::list_unmatched_payments)
            .service(payments::assign_payment)
            .service(invoices::list_invoices)
            .service(invoices::summarise_invoices)
            .service(invoices::export_invoices)
            .service(tracking::get_application_status)
            .service(phases::list_phases)
            .service(catalogue_admin::create_department_client)
            .service(catalogue_admin::list_department_clients)
            .service(webhooks::create_webhook_endpoint)
            .service(webhooks::list_webhook_endpoints)
            .service(webhooks::get_webhook_endpoint)
            .service(webhooks::update_webhook_endpoint)
            .service(webhooks::delete_webhook_endpoint)
            .service(webhooks::rotate_webhook_endpoint_secret)
            .service(webhooks::test_webhook_endpoint)
            .service(webhooks::list_webhook_deliveries)
            .service(webhooks::retry_webhook_delivery),
    )
    .service(wellknown::get_jwks)
    .service(wellknown::get_authorization_server_metadata)
    .service(health::get_liveness)
    .service(health::get_readiness)
    .service(health::get_metrics)
    .service(problems::list_problems)
    .service(problems::get_problem);
}

/// The OpenAPI document, built from the same routes the server serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(configure)
        .split_for_parts();
    let mut api = api;
    links::add(&mut api);
    openapi::optional_bodies(&mut api);
    openapi::public_operations(&mut api);
    openapi::server_errors(&mut api);
    let mut api = openapi::free_form_objects(api);
    // after the round trip through JSON: utoipa 6 writes `encoding` but cannot read it back
    openapi::multipart_encodings(&mut api);
    api
}

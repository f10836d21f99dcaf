//! `/.well-known/`: the public keys that verify guichet's tokens, and the authorization
//! server metadata (RFC 8414).
use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::keys::JWKS_MAX_AGE;
use crate::auth::{AuthService, Scope};
use crate::http::extract::StrictQuery;
use crate::http::public_url::PublicUrl;

/// JSON Web Key Set
///
/// The Ed25519 public keys that verify guichet's access tokens. A key appears here before any
/// token is signed with it and stays until its last token has expired; cache it for at most
/// `max-age`.
#[utoipa::path(
    tag = "oauth",
    responses(
        (status = 200, description = "The key set", content_type = "application/jwk-set+json", body = Object, headers(("Cache-Control" = String))),
        (status = 400, response = crate::api::responses::UnknownParameter),
    )
)]
#[get("/.well-known/jwks.json")]
pub async fn get_jwks(_q: StrictQuery<super::health::NoParams>, auth: Data<AuthService>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(("Cache-Control", format!("public, max-age={}", JWKS_MAX_AGE.as_secs())))
        .json(&auth.keys().jwks)
}

/// RFC 8414 authorization server metadata.
#[derive(Serialize, ToSchema)]
pub struct ServerMetadata {
    #[schema(max_length = 2048)]
    pub issuer: String,
    #[schema(max_length = 2048)]
    pub token_endpoint: String,
    #[schema(max_length = 2048)]
    pub revocation_endpoint: String,
    #[schema(max_length = 2048)]
    pub jwks_uri: String,
    #[schema(max_items = 10, max_length = 100)]
    pub grant_types_supported: Vec<&'static str>,
    #[schema(max_items = 10, max_length = 100)]
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    #[schema(max_items = 10, max_length = 100)]
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    #[schema(max_items = 10, max_length = 100)]
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// guichet has no authorization endpoint; browser sign-in goes through the city's
    /// identity provider and token exchange.
    #[schema(max_items = 10, max_length = 100)]
    pub response_types_supported: Vec<&'static str>,
    #[schema(max_items = 20, max_length = 100)]
    pub scopes_supported: Vec<&'static str>,
    #[schema(max_length = 2048)]
    pub service_documentation: String,
}

/// Authorization server metadata
///
/// RFC 8414: where the token, revocation and key endpoints are, which grants, client
/// authentication methods and scopes this server supports.
#[utoipa::path(tag = "oauth", responses(
    (status = 200, description = "RFC 8414 metadata", body = ServerMetadata),
    (status = 400, response = crate::api::responses::UnknownParameter),
))]
#[get("/.well-known/oauth-authorization-server")]
pub async fn get_authorization_server_metadata(
    _q: StrictQuery<super::health::NoParams>,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> HttpResponse {
    let mut grants = vec!["client_credentials", "refresh_token"];
    if auth.password_grant {
        grants.push("password");
    }
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(ServerMetadata {
            issuer: auth.issuer.clone(),
            token_endpoint: base.join("/v1/oauth/token"),
            revocation_endpoint: base.join("/v1/oauth/revoke"),
            jwks_uri: base.join("/.well-known/jwks.json"),
            grant_types_supported: grants,
            token_endpoint_auth_methods_supported: vec!["client_secret_basic", "client_secret_post", "none"],
            revocation_endpoint_auth_methods_supported: vec!["client_secret_basic", "client_secret_post", "none"],
            token_endpoint_auth_signing_alg_values_supported: vec!["EdDSA"],
            response_types_supported: vec![],
            scopes_supported: Scope::ALL.iter().map(|s| s.as_str()).collect(),
            service_documentation: base.join("/docs/"),
        })
}

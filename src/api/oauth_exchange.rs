//! RFC 8693 token exchange: an ID token of the trusted identity provider becomes guichet
//! tokens for the resident, whose account is created on first use.
use std::collections::HashMap;

use actix_web::web::Data;
use actix_web::HttpResponse;
use serde_json::json;

use super::oauth::{
    account_grant, authenticate_if_given, from_api, narrow, new_refresh, no_store, oauth_error, token_body, OAuthError,
    Origin,
};
use crate::auth::policy::{account_scopes, CallerKind, Scope};
use crate::auth::AuthService;
use crate::db::audit::{self, AuditEntry};
use crate::db::auth as q;
use crate::db::types::{SqlTime, SqlUuid};

pub(super) const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// RFC 8693: a frontend hands in the resident's ID token from the trusted identity provider
/// and gets guichet tokens; the account is created on first use, linked by issuer + subject.
pub(super) async fn token_exchange_grant(
    auth: &Data<AuthService>,
    form: HashMap<String, String>,
    creds: Option<(String, String)>,
    o: Origin,
) -> Result<HttpResponse, OAuthError> {
    let Some(idp) = &auth.idp else {
        return Err(oauth_error(
            "unsupported_grant_type",
            "No external identity provider is configured.",
        ));
    };
    let subject = form
        .get("subject_token")
        .ok_or_else(|| oauth_error("invalid_request", "subject_token is required."))?;
    match form.get("subject_token_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:token-type:id_token" | "urn:ietf:params:oauth:token-type:jwt") => {}
        _ => {
            return Err(oauth_error(
                "invalid_request",
                "subject_token_type must be urn:ietf:params:oauth:token-type:id_token (or :jwt).",
            ))
        }
    }
    if let Some(t) = form.get("requested_token_type") {
        if t != "urn:ietf:params:oauth:token-type:access_token" {
            return Err(oauth_error("invalid_request", "Only access tokens can be requested."));
        }
    }
    let external = match idp.verify(subject).await {
        Ok(c) => c,
        Err(reason) => {
            let entry = AuditEntry::new("signin", "anonymous", None)
                .failed()
                .from(o.ip.clone(), o.request_id.clone())
                .details(json!({"grant_type": "token-exchange", "reason": reason}));
            let _ = auth.db.write(move |c| Ok(audit::record(c, &entry)?)).await;
            return Err(oauth_error("invalid_grant", reason));
        }
    };
    let svc = auth.clone();
    let ttl = auth.refresh_ttl;
    let outcome = auth
        .db
        .write(move |conn| {
            if let Err(e) = authenticate_if_given(conn, &creds, &o)? {
                return Ok(Err(e));
            }
            let account = match q::account_by_external(conn, &external.iss, &external.sub)? {
                Some(a) => a,
                None => {
                    // The e-mail is taken over only when the provider verified it and no other
                    // account uses it; the link is issuer + subject, never the e-mail.
                    let email = external
                        .email
                        .as_deref()
                        .filter(|_| external.email_verified == Some(true))
                        .and_then(|e| crate::domain::account::Email::parse(e).ok())
                        .map(|e| e.as_str().to_string());
                    let email = match email {
                        Some(e) if q::account_by_email(conn, &e)?.is_none() => Some(e),
                        _ => None,
                    };
                    let now = SqlTime::now();
                    let row = q::AccountRow {
                        id: SqlUuid(uuid::Uuid::now_v7()),
                        email,
                        password_hash: None,
                        kind: "resident".into(),
                        role: None,
                        department_id: None,
                        display_name: external.name.clone().filter(|n| n.chars().count() <= 200),
                        email_verified_at: Some(now),
                        disabled_at: None,
                        external_issuer: Some(external.iss.clone()),
                        external_subject: Some(external.sub.clone()),
                        created_at: now,
                        updated_at: now,
                        revision: 1,
                    };
                    q::insert_account(conn, &row)?;
                    let entry = AuditEntry::new("account.register", "resident", Some(row.id.0.to_string()))
                        .target("account", row.id.0.to_string())
                        .from(o.ip.clone(), o.request_id.clone())
                        .details(json!({"issuer": external.iss}));
                    audit::record(conn, &entry)?;
                    row
                }
            };
            if account.disabled_at.is_some() {
                return Ok(Err(oauth_error("invalid_grant", "This account is disabled.")));
            }
            let allowed = account_scopes(CallerKind::Resident, None);
            let scopes = match narrow(&allowed, form.get("scope")) {
                Ok(s) => s,
                Err(e) => return Ok(Err(e)),
            };
            let family = SqlUuid(uuid::Uuid::now_v7());
            let (refresh, row) = new_refresh(account.id, family, &Scope::join(&scopes), ttl)?;
            q::insert_refresh(conn, &row)?;
            let (token, claims) = svc.issue(&account_grant(&account, scopes, family.0))?;
            let entry = AuditEntry::new("signin", "resident", Some(account.id.0.to_string()))
                .target("account", account.id.0.to_string())
                .from(o.ip, o.request_id)
                .details(json!({"grant_type": "token-exchange", "issuer": external.iss, "jti": claims.jti}));
            audit::record(conn, &entry)?;
            Ok(Ok((token, claims, refresh)))
        })
        .await
        .map_err(from_api)??;
    let mut body = token_body(outcome.0, &outcome.1, auth.access_ttl.as_secs(), Some(outcome.2));
    // RFC 8693 §2.2.1: say what kind of token was issued.
    body.issued_token_type = Some("urn:ietf:params:oauth:token-type:access_token");
    Ok(no_store(HttpResponse::Ok().json(body)))
}

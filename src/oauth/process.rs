//! Each grant in one write transaction with its audit entry; a failed attempt is audited too
//! (its entry commits, so the refusal travels inside `Ok`: see `access::Checked`). The slow
//! password hash runs before the write transaction, the identity provider's check before any.
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::access::{authenticate_client, authenticate_if_given, narrow, Checked};
use super::views::{Issued, TokenResponse};
use super::{oauth_error, ClientCredentials, OAuthError, Origin};
use crate::auth::external::ExternalClaims;
use crate::auth::policy::{account_scopes, CallerKind, Scope};
use crate::auth::secrets::{random_token, sha256_hex, verify_password};
use crate::auth::sessions::revoke_session;
use crate::auth::tokens::{Claims, Grant};
use crate::auth::{state, AuthService};
use crate::db::audit::{self, AuditEntry};
use crate::db::auth::{self as q, AccountRow, RefreshRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::error::ApiError;

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The known parameters of a token request, by name.
pub type Form = HashMap<String, String>;

/// Runs the grant the form names and answers its tokens.
pub async fn grant(
    auth: Arc<AuthService>,
    form: Form,
    creds: ClientCredentials,
    o: Origin,
) -> Result<TokenResponse, OAuthError> {
    let expires_in = auth.access_ttl.as_secs();
    let grant_type = form.get("grant_type").cloned();
    let issued = match grant_type.as_deref() {
        Some("client_credentials") => client_credentials(auth, form, creds, o).await?,
        Some("password") => password(auth, form, creds, o).await?,
        Some("refresh_token") => refresh(auth, form, creds, o).await?,
        Some(TOKEN_EXCHANGE) => token_exchange(auth, form, creds, o).await?,
        Some(other) => {
            return Err(oauth_error(
                "unsupported_grant_type",
                format!("The grant type '{other}' is not supported."),
            ))
        }
        None => return Err(oauth_error("invalid_request", "grant_type is required.")),
    };
    let mut answer = issued.answer(expires_in);
    if grant_type.as_deref() == Some(TOKEN_EXCHANGE) {
        // RFC 8693 §2.2.1: say what kind of token was issued.
        answer.issued_token_type = Some(ACCESS_TOKEN_TYPE);
    }
    Ok(answer)
}

fn required<'a>(form: &'a Form, name: &str) -> Result<&'a String, OAuthError> {
    form.get(name)
        .ok_or_else(|| oauth_error("invalid_request", format!("{name} is required.")))
}

/// A partner system's token: no session, no refresh token.
async fn client_credentials(
    auth: Arc<AuthService>,
    form: Form,
    creds: ClientCredentials,
    o: Origin,
) -> Result<Issued, OAuthError> {
    let (id, secret) = creds.ok_or_else(|| oauth_error("invalid_client", "Client authentication is required."))?;
    let Some(secret) = secret else {
        return Err(oauth_error(
            "unauthorized_client",
            "client_credentials needs the client's secret; a public client uses the password and refresh_token grants.",
        ));
    };
    let svc = auth.clone();
    auth.db
        .write(move |conn| {
            let client = match authenticate_client(conn, &id, Some(&secret), &o)? {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            let allowed = Scope::parse_list(&client.scopes).unwrap_or_default();
            let scopes = match narrow(&allowed, form.get("scope")) {
                Ok(s) => s,
                Err(e) => return Ok(Err(e)),
            };
            let grant = Grant {
                sub: client.client_id.clone(),
                kind: CallerKind::Client,
                scopes,
                role: None,
                dept: client.department_id.map(|u| u.0),
                org: client.organisation_id.map(|u| u.0),
                sid: None,
            };
            let (token, claims) = svc.issue(&grant)?;
            let entry = AuditEntry::new("token.issue", "client", Some(client.client_id.clone()))
                .target("token", claims.jti.clone())
                .from(o.ip, o.request_id)
                .details(json!({"grant_type": "client_credentials", "scope": claims.scope}));
            audit::record(conn, &entry)?;
            Ok(Ok(Issued {
                token,
                claims,
                refresh: None,
            }))
        })
        .await?
}

/// A person's kind as a caller (an account is a resident unless it is staff).
fn person_kind(a: &AccountRow) -> CallerKind {
    match a.kind() {
        Some(CallerKind::Staff) => CallerKind::Staff,
        _ => CallerKind::Resident,
    }
}

/// The claims of an account's access token in session `sid`.
fn account_grant(a: &AccountRow, scopes: Vec<Scope>, sid: uuid::Uuid) -> Grant {
    Grant {
        sub: a.id.0.to_string(),
        kind: person_kind(a),
        scopes,
        role: a.role.clone(),
        dept: a.department_id.map(|d| d.0),
        org: None,
        sid: Some(sid),
    }
}

/// A new refresh token of session `family`, and its row (which stores only its hash).
fn new_refresh(
    account: SqlUuid,
    family: SqlUuid,
    scope: &str,
    ttl: std::time::Duration,
) -> Result<(String, RefreshRow), ApiError> {
    let token = random_token("grt_").map_err(ApiError::internal)?;
    let now = SqlTime::now();
    let row = RefreshRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        token_hash: sha256_hex(&token),
        family_id: family,
        account_id: account,
        scope: scope.to_string(),
        created_at: now,
        expires_at: SqlTime(now.0 + chrono::Duration::seconds(ttl.as_secs() as i64)),
        used_at: None,
        revoked_at: None,
    };
    Ok((token, row))
}

/// Starts a sign-in session of an account (the password grant and the token exchange): the
/// scopes asked for within those its kind and role allow, a new refresh-token family, the
/// access token of that session, and the `signin` audit entry with `details` and the token's id.
fn start_session(
    conn: &mut DbConnection,
    auth: &AuthService,
    account: &AccountRow,
    requested: Option<&String>,
    o: Origin,
    details: serde_json::Value,
) -> Checked<Issued> {
    let kind = person_kind(account);
    let allowed = account_scopes(kind, account.staff_role());
    let scopes = match narrow(&allowed, requested) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let family = SqlUuid(uuid::Uuid::now_v7());
    let (refresh, row) = new_refresh(account.id, family, &Scope::join(&scopes), auth.refresh_ttl)?;
    q::insert_refresh(conn, &row)?;
    let (token, claims) = auth.issue(&account_grant(account, scopes, family.0))?;
    let mut details = details;
    details["jti"] = json!(claims.jti);
    details["session"] = json!(family.0);
    let entry = AuditEntry::new("signin", kind.as_str(), Some(account.id.0.to_string()))
        .target("account", account.id.0.to_string())
        .from(o.ip, o.request_id)
        .details(details);
    audit::record(conn, &entry)?;
    Ok(Ok(Issued {
        token,
        claims,
        refresh: Some(refresh),
    }))
}

/// guichet's own accounts, for first-party frontends (switched off with
/// `GUICHET_PASSWORD_GRANT=off`).
async fn password(
    auth: Arc<AuthService>,
    form: Form,
    creds: ClientCredentials,
    o: Origin,
) -> Result<Issued, OAuthError> {
    if !auth.password_grant {
        return Err(oauth_error(
            "unsupported_grant_type",
            "The password grant is switched off on this server.",
        ));
    }
    let username = required(&form, "username")?.clone();
    let password = required(&form, "password")?.clone();
    if username.len() > 254 || password.len() > 1024 {
        return Err(oauth_error("invalid_request", "username or password is too long."));
    }
    let o2 = o.clone();
    // The slow hash runs on the blocking pool, outside any write transaction.
    let (account, ok) = auth
        .db
        .run(move |conn| {
            if let Err(e) = authenticate_if_given(conn, &creds, &o2)? {
                return Ok(Err(e));
            }
            let account = q::account_by_email(conn, &username)?;
            let ok = verify_password(account.as_ref().and_then(|a| a.password_hash.as_deref()), &password);
            Ok(Ok((account, ok)))
        })
        .await??;
    let svc = auth.clone();
    let username = form.get("username").map(|u| u.to_lowercase()).unwrap_or_default();
    let require_verified = auth.require_verified_email;
    auth.db
        .write(move |conn| {
            let account = match account {
                Some(a) if ok && a.disabled_at.is_none() => a,
                other => {
                    let reason = match &other {
                        None => "unknown account",
                        Some(a) if a.disabled_at.is_some() => "account disabled",
                        Some(_) => "wrong password",
                    };
                    let entry = AuditEntry::new("signin", "anonymous", other.as_ref().map(|a| a.id.0.to_string()))
                        .target("account", username)
                        .failed()
                        .from(o.ip, o.request_id)
                        .details(json!({"grant_type": "password", "reason": reason}));
                    audit::record(conn, &entry)?;
                    return Ok(Err(oauth_error(
                        "invalid_grant",
                        "The e-mail address or password is wrong.",
                    )));
                }
            };
            if require_verified && account.email_verified_at.is_none() {
                return Ok(Err(oauth_error(
                    "invalid_grant",
                    "Confirm your e-mail address first (see the mail we sent).",
                )));
            }
            start_session(
                conn,
                &svc,
                &account,
                form.get("scope"),
                o,
                json!({"grant_type": "password"}),
            )
        })
        .await?
}

/// A refresh token, rotated on every use; a used one coming back ends its whole session.
async fn refresh(
    auth: Arc<AuthService>,
    form: Form,
    creds: ClientCredentials,
    o: Origin,
) -> Result<Issued, OAuthError> {
    let presented = required(&form, "refresh_token")?.clone();
    let svc = auth.clone();
    let outcome = auth
        .db
        .write(move |conn| {
            if let Err(e) = authenticate_if_given(conn, &creds, &o)? {
                return Ok(Err(e));
            }
            rotate(conn, &svc, &presented, o)
        })
        .await?;
    if outcome.is_err() {
        // a reused refresh token has ended its session: this instance knows at once
        auth.apply_own_change().await;
    }
    outcome
}

fn rotate(conn: &mut DbConnection, auth: &AuthService, presented: &str, o: Origin) -> Checked<Issued> {
    let invalid = || oauth_error("invalid_grant", "The refresh token is invalid, expired or revoked.");
    let Some(row) = q::refresh_by_hash(conn, &sha256_hex(presented))? else {
        return Ok(Err(invalid()));
    };
    if row.revoked_at.is_some() || row.expires_at <= SqlTime::now() {
        return Ok(Err(invalid()));
    }
    if row.used_at.is_some() || !q::mark_refresh_used(conn, row.id)? {
        // A used refresh token came back: it was stolen, or the legitimate client was robbed
        // of its successor. Either way the session ends here, for both.
        revoke_session(conn, row.family_id, auth.access_ttl)?;
        let entry = AuditEntry::new("token.refresh_reuse", "anonymous", Some(row.account_id.0.to_string()))
            .target("session", row.family_id.0.to_string())
            .failed()
            .from(o.ip, o.request_id);
        audit::record(conn, &entry)?;
        return Ok(Err(invalid()));
    }
    let Some(account) = q::account_by_id(conn, row.account_id.0)?.filter(|a| a.disabled_at.is_none()) else {
        return Ok(Err(invalid()));
    };
    let scopes = Scope::parse_list(&row.scope).unwrap_or_default();
    let (refresh, new_row) = new_refresh(account.id, row.family_id, &row.scope, auth.refresh_ttl)?;
    q::insert_refresh(conn, &new_row)?;
    let (token, claims) = auth.issue(&account_grant(&account, scopes, row.family_id.0))?;
    let entry = AuditEntry::new("token.refresh", claims.kind.as_str(), Some(account.id.0.to_string()))
        .target("session", row.family_id.0.to_string())
        .from(o.ip, o.request_id)
        .details(json!({"jti": claims.jti}));
    audit::record(conn, &entry)?;
    Ok(Ok(Issued {
        token,
        claims,
        refresh: Some(refresh),
    }))
}

/// RFC 8693: a frontend hands in the resident's ID token from the trusted identity provider
/// and gets guichet tokens; the account is created on first use, linked by issuer + subject.
async fn token_exchange(
    auth: Arc<AuthService>,
    form: Form,
    creds: ClientCredentials,
    o: Origin,
) -> Result<Issued, OAuthError> {
    let Some(idp) = &auth.idp else {
        return Err(oauth_error(
            "unsupported_grant_type",
            "No external identity provider is configured.",
        ));
    };
    let subject = required(&form, "subject_token")?;
    match form.get("subject_token_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:token-type:id_token" | "urn:ietf:params:oauth:token-type:jwt") => {}
        _ => {
            return Err(oauth_error(
                "invalid_request",
                "subject_token_type must be urn:ietf:params:oauth:token-type:id_token (or :jwt).",
            ))
        }
    }
    if form.get("requested_token_type").is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
        return Err(oauth_error("invalid_request", "Only access tokens can be requested."));
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
    auth.db
        .write(move |conn| {
            if let Err(e) = authenticate_if_given(conn, &creds, &o)? {
                return Ok(Err(e));
            }
            let account = match q::account_by_external(conn, &external.iss, &external.sub)? {
                Some(a) => a,
                None => register_external(conn, &external, &o)?,
            };
            if account.disabled_at.is_some() {
                return Ok(Err(oauth_error("invalid_grant", "This account is disabled.")));
            }
            let details = json!({"grant_type": "token-exchange", "issuer": external.iss});
            start_session(conn, &svc, &account, form.get("scope"), o, details)
        })
        .await?
}

/// The resident's account on first sign-in through the identity provider. The e-mail is taken
/// over only when the provider verified it and no other account uses it; the link is issuer +
/// subject, never the e-mail.
fn register_external(conn: &mut DbConnection, external: &ExternalClaims, o: &Origin) -> Result<AccountRow, ApiError> {
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
    let row = AccountRow {
        display_name: external.name.clone().filter(|n| n.chars().count() <= 200),
        email_verified_at: Some(SqlTime::now()),
        external_issuer: Some(external.iss.clone()),
        external_subject: Some(external.sub.clone()),
        ..AccountRow::new(CallerKind::Resident, email)
    };
    q::insert_account(conn, &row)?;
    let entry = AuditEntry::new("account.register", "resident", Some(row.id.0.to_string()))
        .target("account", row.id.0.to_string())
        .from(o.ip.clone(), o.request_id.clone())
        .details(json!({"issuer": external.iss}));
    audit::record(conn, &entry)?;
    Ok(row)
}

/// RFC 7009 revocation: a refresh token ends its whole session; an access token that is ours
/// and unexpired is refused from then on by its `jti`. Unknown tokens change nothing.
pub async fn revoke(
    auth: Arc<AuthService>,
    token: String,
    creds: ClientCredentials,
    o: Origin,
) -> Result<(), OAuthError> {
    if token.len() > 8192 {
        return Err(oauth_error("invalid_request", "token is too long."));
    }
    let access: Option<Claims> = crate::auth::tokens::verify(&auth.keys(), &auth.issuer, &auth.audience, &token).ok();
    let access_ttl = auth.access_ttl;
    auth.db
        .write(move |conn| {
            if let Err(e) = authenticate_if_given(conn, &creds, &o)? {
                return Ok(Err(e));
            }
            if let Some(c) = access {
                let until = SqlTime(chrono::DateTime::from_timestamp(c.exp + 60, 0).unwrap_or_default());
                state::revoke_jti(conn, &c.jti, until)?;
                let entry = AuditEntry::new("token.revoke", c.kind.as_str(), Some(c.sub.clone()))
                    .target("token", c.jti.clone())
                    .from(o.ip, o.request_id);
                audit::record(conn, &entry)?;
            } else if let Some(row) = q::refresh_by_hash(conn, &sha256_hex(&token))? {
                revoke_session(conn, row.family_id, access_ttl)?;
                let entry = AuditEntry::new("session.revoke", "resident", Some(row.account_id.0.to_string()))
                    .target("session", row.family_id.0.to_string())
                    .from(o.ip, o.request_id);
                audit::record(conn, &entry)?;
            }
            Ok(Ok(()))
        })
        .await??;
    auth.apply_own_change().await;
    Ok(())
}

//! Who is asking for a token: the client behind its credentials, and the scopes it may have.
use super::{oauth_error, ClientCredentials, OAuthError, Origin};
use crate::auth::policy::Scope;
use crate::auth::secrets::{same_hash, sha256_hex};
use crate::db::audit::{self, AuditEntry};
use crate::db::auth::{self as q, ClientRow};
use crate::db::DbConnection;
use crate::error::ApiError;

/// The outcome of a step of a grant: `Err` of the outer result is a storage failure (the
/// transaction rolls back), `Err` of the inner one a refusal whose audit entry must stay.
pub type Checked<T> = Result<Result<T, OAuthError>, ApiError>;

/// The enabled client with this id and secret, or the enabled public client with this id when
/// no secret is given (a public client has none, a confidential one must give its own); a
/// failure is audited.
pub fn authenticate_client(conn: &mut DbConnection, id: &str, secret: Option<&str>, o: &Origin) -> Checked<ClientRow> {
    let row = q::client_by_client_id(conn, id)?;
    let ok = match (&row, secret) {
        (Some(r), Some(secret)) => {
            !r.is_public && same_hash(&r.secret_hash, &sha256_hex(secret)) && r.disabled_at.is_none()
        }
        (Some(r), None) => r.is_public && r.disabled_at.is_none(),
        (None, secret) => {
            // the same work for an unknown client as for a known one
            let _ = same_hash(&sha256_hex(secret.unwrap_or_default()), &sha256_hex(id));
            false
        }
    };
    if let (true, Some(r)) = (ok, row) {
        return Ok(Ok(r));
    }
    let entry = AuditEntry::new("client.authenticate", "client", Some(id.to_string()))
        .target("client", id)
        .failed()
        .from(o.ip.clone(), o.request_id.clone());
    audit::record(conn, &entry)?;
    Ok(Err(oauth_error(
        "invalid_client",
        "Unknown client, wrong secret, or disabled client.",
    )))
}

/// Authenticates the client when the request names one: a confidential client by its secret,
/// a public client (a first-party frontend) by its id alone. Naming no client stays allowed
/// on the password, refresh and revocation endpoints, for existing callers.
pub fn authenticate_if_given(conn: &mut DbConnection, creds: &ClientCredentials, o: &Origin) -> Checked<()> {
    match creds {
        Some((id, secret)) => Ok(authenticate_client(conn, id, secret.as_deref(), o)?.map(|_| ())),
        None => Ok(Ok(())),
    }
}

/// The scopes asked for (all that are allowed when none are), each of them allowed.
pub fn narrow(allowed: &[Scope], requested: Option<&String>) -> Result<Vec<Scope>, OAuthError> {
    let Some(req) = requested else {
        return Ok(allowed.to_vec());
    };
    let wanted = Scope::parse_list(req).map_err(|e| oauth_error("invalid_scope", e))?;
    if let Some(s) = wanted.iter().find(|s| !allowed.contains(s)) {
        return Err(oauth_error(
            "invalid_scope",
            format!("The scope '{}' is not granted to this caller.", s.as_str()),
        ));
    }
    Ok(wanted)
}

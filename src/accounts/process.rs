//! Reading and changing the caller's profile. A change runs in one write transaction with
//! its audit entry; a password change ends every session of the account in it.
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::{self, Me};
use crate::audit::Actor;
use crate::auth::secrets::{hash_password, verify_password};
use crate::auth::sessions::end_all_sessions;
use crate::auth::Caller;
use crate::db::auth as q;
use crate::db::DbConnection;
use crate::domain::account::{check_password, CallerKind};
use crate::domain::FieldError;
use crate::error::ApiError;
use crate::http::conditional::check_revision;

/// Fields of a profile change; absent fields stay as they are (`display_name: null` clears it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub display_name: Option<Option<String>>,
    pub password: Option<PasswordChange>,
}

/// A password change needs the current password; it ends every session of the account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub new: String,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn unknown() -> ApiError {
    ApiError::not_found("No such account.")
}

/// The caller's profile and, for a person, the account's revision (its ETag).
pub fn profile(conn: &mut DbConnection, c: &Caller) -> Result<(Me, Option<i64>), ApiError> {
    let mut me = views::of_token(c);
    if c.kind == CallerKind::Client {
        me.client_name = q::client_by_client_id(conn, &c.subject)?.map(|r| r.name);
        return Ok((me, None));
    }
    let id = c.account_id().ok_or_else(unknown)?;
    let row = q::account_by_id(conn, id)?.ok_or_else(unknown)?;
    me.email = row.email;
    me.display_name = row.display_name;
    Ok((me, Some(row.revision)))
}

/// A checked profile change: the display name (`Some(None)` clears it) and the password.
pub struct ProfileChange {
    display_name: Option<Option<String>>,
    password: Option<PasswordChange>,
}

/// Checks a profile change before anything is read; every field error at once.
pub fn check(patch: MePatch) -> Result<ProfileChange, ApiError> {
    let mut errors = Vec::new();
    let display_name = patch
        .display_name
        .map(|d| d.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
    if display_name
        .as_ref()
        .is_some_and(|d| d.as_ref().is_some_and(|s| s.chars().count() > 200))
    {
        errors.push(FieldError::new("/display_name", "too_long", "at most 200 characters"));
    }
    if let Some(p) = &patch.password {
        check_password(&p.new, None, "/password/new", &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ProfileChange {
        display_name,
        password: patch.password,
    })
}

/// Changes the profile of `account` if it is still at revision `expected`. The slow password
/// hash runs before the write transaction.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    account: Uuid,
    change: ProfileChange,
    expected: i64,
    access_ttl: std::time::Duration,
) -> Result<(), ApiError> {
    let new_hash = match &change.password {
        Some(p) => {
            let row = q::account_by_id(conn, account)?.ok_or_else(unknown)?;
            if !verify_password(row.password_hash.as_deref(), &p.current) {
                return Err(ApiError::validation(vec![FieldError::new(
                    "/password/current",
                    "wrong",
                    "the current password is wrong",
                )]));
            }
            Some(hash_password(&p.new).map_err(ApiError::internal)?)
        }
        None => None,
    };
    let display_name = change.display_name;
    crate::db::write_tx(conn, |c| {
        let row = q::account_by_id(c, account)?.ok_or_else(unknown)?;
        check_revision(expected, row.revision)?;
        q::update_profile(c, account, row.revision + 1, display_name.clone(), new_hash.clone())?;
        if new_hash.is_some() {
            end_all_sessions(c, account, access_ttl)?;
        }
        actor.audit(
            c,
            "account.update",
            "account",
            account.to_string(),
            json!({"password_changed": new_hash.is_some(), "display_name_changed": display_name.is_some()}),
        )?;
        Ok(())
    })
}

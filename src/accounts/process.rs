//! Accounts change here, each change in one write transaction with its audit entry (and its
//! mails, queued in it): the caller's profile (a password change ends every session of the
//! account in it), a resident's registration, the confirmation of an address and the reset
//! of a password through a link sent by mail.
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::{self, Me};
use crate::audit::{Actor, Origin};
use crate::auth::secrets::{hash_password, random_token, sha256_hex, verify_password};
use crate::auth::sessions::end_all_sessions;
use crate::auth::Caller;
use crate::db::audit;
use crate::db::auth::{self as q, AccountRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::{Db, DbConnection};
use crate::domain::account::{check_password, display_name, CallerKind, Email, TokenPurpose};
use crate::domain::lang::Lang;
use crate::domain::FieldError;
use crate::error::ApiError;
use crate::http::conditional::check_revision;
use crate::msg;

/// Fields of a profile change; absent fields stay as they are (`display_name: null` clears it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub display_name: Option<Option<String>>,
    pub password: Option<PasswordChange>,
    /// The language mails are written in (`de`, `fr`, `it`, `en`), and a new application's
    /// when it is made without `Accept-Language`.
    #[schema(value_type = Option<Lang>)]
    pub language: Option<String>,
    pub notifications: Option<views::Notifications>,
}

/// A password change needs the current password; it ends every session of the account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 1024)]
    pub current: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub new: String,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn unknown() -> ApiError {
    ApiError::not_found(msg!("No such account."))
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
    if let Some((language, optional)) = q::preferences(conn, id)? {
        me.language = Lang::parse(&language);
        me.notifications = Some(views::Notifications { optional });
    }
    Ok((me, Some(row.revision)))
}

/// A checked profile change: the display name (`Some(None)` clears it) and the password.
pub struct ProfileChange {
    display_name: Option<Option<String>>,
    password: Option<PasswordChange>,
    language: Option<Lang>,
    optional_mail: Option<bool>,
}

/// Checks a profile change before anything is read; every field error at once.
pub fn check(patch: MePatch) -> Result<ProfileChange, ApiError> {
    let mut errors = Vec::new();
    let display_name = patch.display_name.map(|d| display_name(d, &mut errors));
    if let Some(p) = &patch.password {
        check_password(&p.new, None, "/password/new", &mut errors);
    }
    let language = patch.language.as_deref().and_then(|l| {
        let parsed = Lang::parse(l).filter(|_| l.len() == 2);
        if parsed.is_none() {
            errors.push(FieldError::new("/language", "enum", msg!("one of de, fr, it, en")));
        }
        parsed
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ProfileChange {
        display_name,
        password: patch.password,
        language,
        optional_mail: patch.notifications.map(|n| n.optional),
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
                    msg!("the current password is wrong"),
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
        q::set_preferences(c, account, change.language.map(Lang::code), change.optional_mail)?;
        if new_hash.is_some() {
            end_all_sessions(c, account, access_ttl)?;
        }
        actor.audit(
            c,
            "account.update",
            "account",
            account.to_string(),
            json!({"password_changed": new_hash.is_some(), "display_name_changed": display_name.is_some(),
                "language": change.language.map(Lang::code), "optional_mail": change.optional_mail}),
        )?;
        Ok(())
    })
}

/// A registration request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    #[schema(example = "anna.muster@example.ch", format = Email, max_length = 254, pattern = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")]
    pub email: String,
    /// At least 10 characters.
    #[schema(example = "correct horse battery staple", min_length = 10, max_length = 1024)]
    pub password: String,
    #[schema(example = "Anna Muster", max_length = 200)]
    pub display_name: Option<String>,
}

/// A token from a mail.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailToken {
    #[schema(max_length = 200)]
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    #[schema(example = "anna.muster@example.ch", format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    #[schema(max_length = 200)]
    pub token: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

/// How accounts are confirmed on this server: with a mail server, by a link to the frontend.
#[derive(Clone)]
pub struct Links {
    /// Residents confirm their address before signing in (a mail server is configured).
    pub verify: bool,
    /// The frontend that receives the links (`/verify-email?token=`, `/reset-password?token=`).
    pub frontend: String,
}

const ALREADY_REGISTERED: &str = "Someone (perhaps you) tried to register a guichet account with this address, which has one already. Sign in, or reset your password if you forgot it. If it was not you, nothing changed.";

/// How long an address-confirmation link stays valid; a reset link is valid 2 hours.
const VERIFY_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
const RESET_TTL: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

/// A checked registration.
pub struct Registration {
    email: Email,
    password: String,
    display_name: Option<String>,
}

/// Checks a registration; every field error at once.
pub fn check_registration(body: NewAccount) -> Result<Registration, ApiError> {
    let mut errors = Vec::new();
    let email = Email::parse(&body.email)
        .map_err(|m| errors.push(FieldError::new("/email", "format", m)))
        .ok();
    check_password(&body.password, email.as_ref(), "/password", &mut errors);
    let display_name = display_name(body.display_name, &mut errors);
    match (email, errors.is_empty()) {
        (Some(email), true) => Ok(Registration {
            email,
            password: body.password,
            display_name,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Hashes a password on a blocking thread (Argon2 takes tens of milliseconds), holding no
/// database connection.
async fn hash_blocking(password: String) -> Result<String, ApiError> {
    crate::sched::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Registers a resident. An address that has an account already changes nothing (its owner
/// is told by mail when mail is on); the caller cannot tell the two apart, and the password is
/// hashed either way so that both take the same time.
pub async fn register(db: &Db, r: Registration, links: Links, o: Origin) -> Result<(), ApiError> {
    let hash = hash_blocking(r.password).await?;
    db.write(move |c| {
        let now = SqlTime::now();
        let email = r.email.as_str();
        if q::account_by_email(c, email)?.is_some() {
            if links.verify {
                crate::mail::enqueue(c, email, "Your guichet account", ALREADY_REGISTERED)?;
            }
            let entry = o
                .entry("account.register", "anonymous", None)
                .target("account", email)
                .failed()
                .details(json!({"reason": "address already registered"}));
            return Ok(audit::record(c, &entry)?);
        }
        let row = AccountRow {
            password_hash: Some(hash),
            display_name: r.display_name,
            // Without a mail server accounts are usable at once (see the README); with one,
            // the address is confirmed first.
            email_verified_at: (!links.verify).then_some(now),
            ..AccountRow::new(CallerKind::Resident, Some(email.to_string()))
        };
        q::insert_account(c, &row)?;
        if links.verify {
            let token = mail_token(c, row.id, TokenPurpose::Verify)?;
            let body = format!(
                "Confirm your address for guichet:\n\n{}/verify-email?token={token}\n\nThe link is valid for 24 hours.",
                links.frontend
            );
            crate::mail::enqueue(c, email, "Confirm your e-mail address", &body)?;
        }
        let id = row.id.0.to_string();
        Ok(audit::record(
            c,
            &o.entry("account.register", "resident", Some(id.clone()))
                .target("account", id),
        )?)
    })
    .await
}

/// A new single-use token for `purpose`, stored by its hash.
fn mail_token(c: &mut DbConnection, account: SqlUuid, purpose: TokenPurpose) -> Result<String, ApiError> {
    let token = random_token(purpose.prefix()).map_err(ApiError::internal)?;
    let ttl = match purpose {
        TokenPurpose::Verify => VERIFY_TTL,
        TokenPurpose::Reset => RESET_TTL,
    };
    crate::mail::store_token(c, &sha256_hex(&token), account, purpose.as_str(), ttl)?;
    Ok(token)
}

fn bad_token() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "/token",
        "invalid",
        msg!("the link is invalid, used or expired"),
    )])
}

/// Uses a token from a mail: the account it was sent for, if it is unused and unexpired.
fn use_mail_token(c: &mut DbConnection, token: &str, purpose: TokenPurpose) -> Result<SqlUuid, ApiError> {
    if token.len() > 200 {
        return Err(bad_token());
    }
    crate::mail::use_token(c, &sha256_hex(token), purpose.as_str())?.ok_or_else(bad_token)
}

/// Confirms an address with the token from the confirmation mail.
pub async fn verify_email(db: &Db, t: MailToken, o: Origin) -> Result<(), ApiError> {
    db.write(move |c| {
        let account = use_mail_token(c, &t.token, TokenPurpose::Verify)?;
        q::mark_email_verified(c, account)?;
        let id = account.0.to_string();
        Ok(audit::record(
            c,
            &o.entry("account.verify_email", "resident", Some(id.clone()))
                .target("account", id),
        )?)
    })
    .await
}

/// Sends a reset link to the address if it has an enabled account with a password; nothing
/// tells the caller whether it had.
pub async fn request_reset(db: &Db, r: ResetRequest, links: Links, o: Origin) -> Result<(), ApiError> {
    let email =
        Email::parse(&r.email).map_err(|m| ApiError::validation(vec![FieldError::new("/email", "format", m)]))?;
    db.write(move |c| {
        let account = q::account_by_email(c, email.as_str())?;
        let Some(a) = account.filter(|a| a.disabled_at.is_none() && a.password_hash.is_some()) else {
            return Ok(());
        };
        let token = mail_token(c, a.id, TokenPurpose::Reset)?;
        let body = format!("Choose a new guichet password:\n\n{}/reset-password?token={token}\n\nThe link is valid for 2 hours. If you did not ask for it, ignore this mail.", links.frontend);
        crate::mail::enqueue(c, email.as_str(), "Reset your password", &body)?;
        let entry = o.entry("account.reset_request", "anonymous", None).target("account", a.id.0.to_string());
        Ok(audit::record(c, &entry)?)
    })
    .await
}

/// Sets a new password with the token from the reset mail: every session of the account ends,
/// and its address counts as confirmed (the mail reached it).
pub async fn confirm_reset(
    db: &Db,
    r: ResetConfirm,
    access_ttl: std::time::Duration,
    o: Origin,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    check_password(&r.password, None, "/password", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if r.token.len() > 200 {
        return Err(bad_token());
    }
    let new_hash = hash_blocking(r.password).await?;
    db.write(move |c| {
        let account = use_mail_token(c, &r.token, TokenPurpose::Reset)?;
        let row = q::account_by_id(c, account.0)?.ok_or_else(bad_token)?;
        q::update_profile(c, account.0, row.revision + 1, None, Some(new_hash))?;
        q::mark_email_verified(c, account)?;
        end_all_sessions(c, account.0, access_ttl)?;
        let id = account.0.to_string();
        Ok(audit::record(
            c,
            &o.entry("account.reset_password", "resident", Some(id.clone()))
                .target("account", id),
        )?)
    })
    .await
}

//! Accounts, partner clients and refresh tokens.
use diesel::prelude::*;

use super::schema::{accounts, clients, refresh_tokens};
use super::types::{SqlTime, SqlUuid};
use super::DbConnection;
use crate::domain::account::{CallerKind, StaffRole};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: SqlUuid,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub kind: String,
    pub role: Option<String>,
    pub department_id: Option<SqlUuid>,
    pub display_name: Option<String>,
    pub email_verified_at: Option<SqlTime>,
    pub disabled_at: Option<SqlTime>,
    pub external_issuer: Option<String>,
    pub external_subject: Option<String>,
    pub created_at: SqlTime,
    pub updated_at: SqlTime,
    pub revision: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub id: SqlUuid,
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub scopes: String,
    pub organisation_id: Option<SqlUuid>,
    pub disabled_at: Option<SqlTime>,
    pub created_at: SqlTime,
    pub updated_at: SqlTime,
    /// A public client (a first-party frontend): no secret; it names itself by `client_id`
    /// on the password, refresh and revocation requests, and may not use client credentials.
    pub is_public: bool,
    /// A department's back-office system: it reads and processes that department's
    /// applications as its clerks do (never with an organisation).
    pub department_id: Option<SqlUuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshRow {
    pub id: SqlUuid,
    pub token_hash: String,
    pub family_id: SqlUuid,
    pub account_id: SqlUuid,
    pub scope: String,
    pub created_at: SqlTime,
    pub expires_at: SqlTime,
    pub used_at: Option<SqlTime>,
    pub revoked_at: Option<SqlTime>,
}

pub fn account_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::email.eq(email.to_lowercase()))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

pub fn account_by_id(conn: &mut DbConnection, id: uuid::Uuid) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .find(SqlUuid(id))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

pub fn account_by_external(conn: &mut DbConnection, issuer: &str, subject: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::external_issuer.eq(issuer))
        .filter(accounts::external_subject.eq(subject))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_account(conn: &mut DbConnection, row: &AccountRow) -> QueryResult<()> {
    diesel::insert_into(accounts::table).values(row).execute(conn)?;
    Ok(())
}

impl AccountRow {
    /// A new, enabled account of `kind`, without password, role, department, name or link
    /// to an identity provider (set what applies on the result).
    pub fn new(kind: CallerKind, email: Option<String>) -> AccountRow {
        let now = SqlTime::now();
        AccountRow {
            id: SqlUuid(uuid::Uuid::now_v7()),
            email,
            password_hash: None,
            kind: kind.as_str().into(),
            role: None,
            department_id: None,
            display_name: None,
            email_verified_at: None,
            disabled_at: None,
            external_issuer: None,
            external_subject: None,
            created_at: now,
            updated_at: now,
            revision: 1,
        }
    }

    /// The kind of account (`resident` or `staff`, as stored).
    pub fn kind(&self) -> Option<CallerKind> {
        CallerKind::parse(&self.kind)
    }

    /// A staff account's role (`clerk` or `admin`, as stored).
    pub fn staff_role(&self) -> Option<StaffRole> {
        self.role.as_deref().and_then(StaffRole::parse)
    }

    /// A resident's account that is not disabled.
    pub fn is_active_resident(&self) -> bool {
        self.kind() == Some(CallerKind::Resident) && self.disabled_at.is_none()
    }

    /// A staff account that is not disabled.
    pub fn is_active_staff(&self) -> bool {
        self.kind() == Some(CallerKind::Staff) && self.disabled_at.is_none()
    }
}

pub fn client_by_client_id(conn: &mut DbConnection, client_id: &str) -> QueryResult<Option<ClientRow>> {
    clients::table
        .filter(clients::client_id.eq(client_id))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_client(conn: &mut DbConnection, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(clients::table).values(row).execute(conn)?;
    Ok(())
}

pub fn set_client_disabled(conn: &mut DbConnection, client_id: &str, disabled: bool) -> QueryResult<usize> {
    let at = disabled.then(SqlTime::now);
    diesel::update(clients::table.filter(clients::client_id.eq(client_id)))
        .set((clients::disabled_at.eq(at), clients::updated_at.eq(SqlTime::now())))
        .execute(conn)
}

pub fn set_account_disabled(conn: &mut DbConnection, id: uuid::Uuid, disabled: bool) -> QueryResult<usize> {
    let at = disabled.then(SqlTime::now);
    diesel::update(accounts::table.find(SqlUuid(id)))
        .set((accounts::disabled_at.eq(at), accounts::updated_at.eq(SqlTime::now())))
        .execute(conn)
}

pub fn insert_refresh(conn: &mut DbConnection, row: &RefreshRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table).values(row).execute(conn)?;
    Ok(())
}

pub fn refresh_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<RefreshRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a refresh token used, only if it was not used before (false: someone was first).
pub fn mark_refresh_used(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<bool> {
    let n = diesel::update(refresh_tokens::table.find(id).filter(refresh_tokens::used_at.is_null()))
        .set(refresh_tokens::used_at.eq(SqlTime::now()))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn revoke_family(conn: &mut DbConnection, family: SqlUuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(SqlTime::now()))
    .execute(conn)
}

/// Writes a profile change (`None` leaves a field as it is).
pub fn update_profile(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    revision: i64,
    display_name: Option<Option<String>>,
    password_hash: Option<String>,
) -> QueryResult<()> {
    let now = SqlTime::now();
    diesel::update(accounts::table.find(SqlUuid(id)))
        .set((accounts::revision.eq(revision), accounts::updated_at.eq(now)))
        .execute(conn)?;
    if let Some(d) = display_name {
        diesel::update(accounts::table.find(SqlUuid(id)))
            .set(accounts::display_name.eq(d))
            .execute(conn)?;
    }
    if let Some(h) = password_hash {
        diesel::update(accounts::table.find(SqlUuid(id)))
            .set(accounts::password_hash.eq(Some(h)))
            .execute(conn)?;
    }
    Ok(())
}

/// The sign-in sessions (refresh families) of an account that are still open.
pub fn open_sessions(conn: &mut DbConnection, account: uuid::Uuid) -> QueryResult<Vec<SqlUuid>> {
    let mut v: Vec<SqlUuid> = refresh_tokens::table
        .filter(refresh_tokens::account_id.eq(SqlUuid(account)))
        .filter(refresh_tokens::revoked_at.is_null())
        .select(refresh_tokens::family_id)
        .load(conn)?;
    v.sort();
    v.dedup();
    Ok(v)
}

pub fn mark_email_verified(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<()> {
    diesel::update(accounts::table.find(id).filter(accounts::email_verified_at.is_null()))
        .set(accounts::email_verified_at.eq(Some(SqlTime::now())))
        .execute(conn)?;
    Ok(())
}

/// An organisation's clients, oldest first.
pub fn clients_of_organisation(conn: &mut DbConnection, org: SqlUuid) -> QueryResult<Vec<ClientRow>> {
    clients::table
        .filter(clients::organisation_id.eq(org))
        .order(clients::created_at)
        .select(ClientRow::as_select())
        .load(conn)
}

pub fn clients_of_department(conn: &mut DbConnection, dep: SqlUuid) -> QueryResult<Vec<ClientRow>> {
    clients::table
        .filter(clients::department_id.eq(dep))
        .order(clients::created_at)
        .select(ClientRow::as_select())
        .load(conn)
}

/// Replaces a client's secret (its hash); the old secret stops working at once.
pub fn set_client_secret_hash(conn: &mut DbConnection, id: SqlUuid, hash: &str) -> QueryResult<()> {
    diesel::update(clients::table.find(id))
        .set((clients::secret_hash.eq(hash), clients::updated_at.eq(SqlTime::now())))
        .execute(conn)?;
    Ok(())
}

/// A person's language and whether they want the mails that are not essential.
pub fn preferences(conn: &mut DbConnection, id: uuid::Uuid) -> QueryResult<Option<(String, bool)>> {
    accounts::table
        .find(SqlUuid(id))
        .select((accounts::language, accounts::optional_mail))
        .first(conn)
        .optional()
}

/// Sets a person's language and mail preference (`None` leaves one as it is).
pub fn set_preferences(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    language: Option<&str>,
    optional_mail: Option<bool>,
) -> QueryResult<()> {
    if let Some(l) = language {
        diesel::update(accounts::table.find(SqlUuid(id)))
            .set(accounts::language.eq(l))
            .execute(conn)?;
    }
    if let Some(o) = optional_mail {
        diesel::update(accounts::table.find(SqlUuid(id)))
            .set(accounts::optional_mail.eq(o))
            .execute(conn)?;
    }
    Ok(())
}

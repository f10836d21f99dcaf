//! Operator commands run from the command line (`guichet client|user|keys ...`). Each change
//! is written with its audit entry in one transaction; the actor is `operator`.
use serde_json::{json, Value};

use crate::auth::policy::{Scope, StaffRole};
use crate::auth::secrets::{hash_password, random_token, sha256_hex};
use crate::auth::{keys, state};
use crate::db::audit::{self, AuditEntry};
use crate::db::auth::{self as q, AccountRow, ClientRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::{write_tx, DbConnection};

fn operator(action: &str) -> AuditEntry {
    AuditEntry::new(action, "operator", std::env::var("USER").ok())
}

/// Whom a client made from the command line acts for.
pub enum ClientFor {
    /// A verified organisation (its id): a partner system.
    Organisation(uuid::Uuid),
    /// A department (slug or id): its back-office system, which reads and processes the
    /// department's applications as its clerks do.
    Department(String),
    /// Nobody: a system with only the scopes given (an administrators' tool).
    Nobody,
}

impl From<Option<uuid::Uuid>> for ClientFor {
    fn from(organisation: Option<uuid::Uuid>) -> ClientFor {
        organisation.map_or(ClientFor::Nobody, ClientFor::Organisation)
    }
}

/// Creates a partner client and returns its credentials (the secret is shown only here).
pub fn create_client(conn: &mut DbConnection, name: &str, scopes: &str, owner: ClientFor) -> anyhow::Result<Value> {
    let name = client_name(name)?;
    let scopes = Scope::parse_list(scopes).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(!scopes.is_empty(), "--scopes names no scope");
    let (organisation, department) = match owner {
        ClientFor::Organisation(org) => {
            let found = crate::db::organisations::by_id(conn, org)?;
            anyhow::ensure!(
                found.is_some_and(|o| o.status() == crate::domain::organisation::OrganisationStatus::Verified),
                "--organisation: no verified organisation {org}"
            );
            (Some(SqlUuid(org)), None)
        }
        ClientFor::Department(key) => {
            let dep = crate::db::catalogue_admin::find_department(conn, &key)?
                .ok_or_else(|| anyhow::anyhow!("--department: no department {key}"))?;
            let allowed = crate::auth::policy::DEPARTMENT_CLIENT_SCOPES;
            anyhow::ensure!(
                scopes.iter().all(|s| allowed.contains(s)),
                "--scopes: a department's system may hold {}",
                Scope::join(&allowed)
            );
            (None, Some(dep.id))
        }
        ClientFor::Nobody => (None, None),
    };
    let client_id = format!("gc_{}", uuid::Uuid::now_v7().simple());
    let secret = random_token("gcs_").map_err(anyhow::Error::msg)?;
    let now = SqlTime::now();
    let row = ClientRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        client_id: client_id.clone(),
        name: name.to_string(),
        secret_hash: sha256_hex(&secret),
        scopes: Scope::join(&scopes),
        organisation_id: organisation,
        disabled_at: None,
        created_at: now,
        updated_at: now,
        is_public: false,
        department_id: department,
    };
    let mut details = json!({"name": name, "scopes": row.scopes});
    if let Some(d) = department {
        details["department"] = json!(d.0);
    }
    insert_client(conn, &row, details)?;
    Ok(json!({"client_id": client_id, "client_secret": secret, "name": name, "scopes": row.scopes}))
}

/// A client's name as given to `--name`: trimmed, 1 to 200 characters.
fn client_name(name: &str) -> anyhow::Result<&str> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 200,
        "--name must be 1 to 200 characters"
    );
    Ok(name)
}

/// Writes a new client with its audit entry, in one transaction.
fn insert_client(conn: &mut DbConnection, row: &ClientRow, details: Value) -> anyhow::Result<()> {
    write_tx(conn, |c| -> anyhow::Result<()> {
        q::insert_client(c, row)?;
        audit::record(
            c,
            &operator("client.create")
                .target("client", &row.client_id)
                .details(details),
        )?;
        Ok(())
    })
}

/// Creates a public client (RFC 6749 §2.1) for a first-party frontend: no secret; it names
/// itself by its `client_id` on the password, refresh and revocation requests, and may use no
/// other grant. Its users' tokens carry their own accounts' scopes.
pub fn create_public_client(conn: &mut DbConnection, name: &str) -> anyhow::Result<Value> {
    let name = client_name(name)?;
    let client_id = format!("gc_{}", uuid::Uuid::now_v7().simple());
    let now = SqlTime::now();
    let row = ClientRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        client_id: client_id.clone(),
        name: name.to_string(),
        // no secret: nothing hashes to the empty text, so no secret is ever accepted
        secret_hash: String::new(),
        scopes: String::new(),
        organisation_id: None,
        disabled_at: None,
        created_at: now,
        updated_at: now,
        is_public: true,
        department_id: None,
    };
    insert_client(conn, &row, json!({"name": name, "public": true}))?;
    Ok(
        json!({"client_id": client_id, "name": name, "token_endpoint_auth_method": "none",
        "grant_types": ["password", "refresh_token"]}),
    )
}

/// Creates a verified organisation for a partner, with its first owner (`--owner`, an existing
/// resident account) and, unless `client` is None, a client for its systems: the ids and the
/// client's credentials (the secret is shown only here).
pub fn create_organisation(
    conn: &mut DbConnection,
    uid: &str,
    name: &str,
    owner: Option<&str>,
    client: Option<(&str, &str)>,
) -> anyhow::Result<Value> {
    use crate::organisations::process::{create_verified, NewOrganisation};
    let client = match client {
        None => None,
        Some((name, scopes)) => {
            let name = crate::domain::organisation::display_name("/client-name", name)
                .map_err(|e| anyhow::anyhow!("--client-name: {}", e.detail))?;
            let scopes = Scope::parse_list(scopes).map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                !scopes.is_empty()
                    && scopes
                        .iter()
                        .all(|s| crate::organisations::process::CLIENT_SCOPES.contains(s)),
                "--scopes: applications:read and/or applications:write"
            );
            Some((name, scopes))
        }
    };
    let input = NewOrganisation {
        uid: uid.into(),
        name: name.into(),
    };
    let made =
        write_tx(conn, |c| create_verified(c, &input, owner, client)).map_err(|e| anyhow::anyhow!(e.explain()))?;
    let org = &made.organisation;
    let mut out = json!({
        "organisation": {"id": org.id.0, "uid": org.uid, "name": org.name, "status": org.status},
        "owner": made.owner,
    });
    if let Some(creds) = made.client {
        out["client"] = json!({
            "client_id": creds.client.client_id,
            "client_secret": creds.secret,
            "name": creds.client.name,
            "scopes": creds.client.scopes,
        });
    }
    Ok(out)
}

pub fn disable_client(conn: &mut DbConnection, client_id: &str) -> anyhow::Result<()> {
    write_tx(conn, |c| -> anyhow::Result<()> {
        anyhow::ensure!(
            q::set_client_disabled(c, client_id, true)? == 1,
            "no client '{client_id}'"
        );
        state::bump(c)?;
        audit::record(c, &operator("client.disable").target("client", client_id))?;
        Ok(())
    })
}

/// Creates a staff account; returns it with the password (generated unless given).
pub fn create_user(
    conn: &mut DbConnection,
    email: &str,
    role: &str,
    department: Option<&str>,
    password: Option<String>,
) -> anyhow::Result<Value> {
    let email = email.trim().to_lowercase();
    anyhow::ensure!(
        email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.')),
        "--email is not an e-mail address"
    );
    let role = StaffRole::parse(role).ok_or_else(|| anyhow::anyhow!("--role must be clerk, admin or finance"))?;
    let department_id = match department {
        None => None,
        Some(key) => {
            let id = crate::db::catalogue_admin::find_department(conn, key)?.map(|d| d.id);
            Some(id.ok_or_else(|| anyhow::anyhow!("--department: no department '{key}'"))?)
        }
    };
    anyhow::ensure!(
        role != StaffRole::Clerk || department_id.is_some(),
        "a clerk needs --department"
    );
    let generated = password.is_none();
    let password = match password {
        Some(p) => p,
        None => random_token("").map_err(anyhow::Error::msg)?,
    };
    anyhow::ensure!(
        password.chars().count() >= 12,
        "the password needs at least 12 characters"
    );
    let row = AccountRow {
        password_hash: Some(hash_password(&password).map_err(anyhow::Error::msg)?),
        role: Some(role.as_str().into()),
        department_id,
        email_verified_at: Some(SqlTime::now()),
        ..AccountRow::new(crate::domain::account::CallerKind::Staff, Some(email.clone()))
    };
    write_tx(conn, |c| -> anyhow::Result<()> {
        anyhow::ensure!(
            q::account_by_email(c, &email)?.is_none(),
            "an account with {email} exists already"
        );
        q::insert_account(c, &row)?;
        audit::record(
            c,
            &operator("account.create")
                .target("account", row.id.0.to_string())
                .details(json!({"role": role.as_str()})),
        )?;
        Ok(())
    })?;
    let mut out =
        json!({"id": row.id.0, "email": email, "role": role.as_str(), "department": department_id.map(|d| d.0)});
    if generated {
        out["password"] = Value::String(password);
    }
    Ok(out)
}

pub fn disable_user(conn: &mut DbConnection, email: &str) -> anyhow::Result<()> {
    write_tx(conn, |c| -> anyhow::Result<()> {
        let a = q::account_by_email(c, email)?.ok_or_else(|| anyhow::anyhow!("no account {email}"))?;
        q::set_account_disabled(c, a.id.0, true)?;
        state::bump(c)?;
        audit::record(c, &operator("account.disable").target("account", a.id.0.to_string()))?;
        Ok(())
    })
}

pub fn rotate_keys(conn: &mut DbConnection, activate_in: u64, token_ttl: std::time::Duration) -> anyhow::Result<Value> {
    let kid = write_tx(conn, |c| -> anyhow::Result<String> {
        let kid = keys::rotate(c, std::time::Duration::from_secs(activate_in), token_ttl)?;
        state::bump(c)?;
        audit::record(
            c,
            &operator("key.rotate")
                .target("key", &kid)
                .details(json!({"activate_in": activate_in})),
        )?;
        Ok(kid)
    })?;
    Ok(json!({"kid": kid, "signs_in_seconds": activate_in}))
}

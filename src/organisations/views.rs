//! How organisations, their members and clients look in answers.
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::auth::ClientRow;
use crate::db::organisations::{MemberRow, OrganisationRow};
use crate::domain::organisation::MemberRole;
use crate::http::public_url::PublicUrl;

#[derive(Serialize, ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    #[schema(example = "CHE-116.281.710", max_length = 15)]
    pub uid: String,
    #[schema(max_length = 200)]
    pub name: String,
    /// `pending` until an administrator verifies it; only a verified organisation can add
    /// members and clients.
    #[schema(example = "pending", max_length = 32)]
    pub status: String,
    /// The caller's role in it (`owner`, `member`), if any.
    #[schema(max_length = 32)]
    pub role: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    #[schema(max_length = 2048)]
    pub href: String,
}

#[derive(Serialize, ToSchema)]
pub struct Member {
    pub account_id: Uuid,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub display_name: Option<String>,
    #[schema(example = "owner", max_length = 32)]
    pub role: String,
    pub since: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationClient {
    #[schema(max_length = 64)]
    pub client_id: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 1000)]
    pub scopes: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A client's credentials: the secret is shown this once and stored only as a hash.
#[derive(Serialize, ToSchema)]
pub struct ClientCredentials {
    #[schema(max_length = 64)]
    pub client_id: String,
    #[schema(max_length = 128)]
    pub client_secret: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 1000)]
    pub scopes: String,
}

/// An organisation as the caller sees it, with the caller's role in it.
pub fn organisation(o: &OrganisationRow, role: Option<MemberRole>, base: &PublicUrl) -> Organisation {
    Organisation {
        id: o.id.0,
        uid: o.uid.clone(),
        name: o.name.clone(),
        status: o.status.clone(),
        role: role.map(|r| r.as_str().to_string()),
        created_at: o.created_at.0,
        decided_at: o.decided_at.map(|t| t.0),
        href: base.join(&format!("/v1/organisations/{}", o.id.0)),
    }
}

pub fn member(m: MemberRow) -> Member {
    let (id, email, display_name, role, since) = m;
    Member {
        account_id: id.0,
        email,
        display_name,
        role,
        since: since.0,
    }
}

pub fn client(r: ClientRow) -> OrganisationClient {
    OrganisationClient {
        client_id: r.client_id,
        name: r.name,
        scopes: r.scopes,
        disabled: r.disabled_at.is_some(),
        created_at: r.created_at.0,
    }
}

/// A client's credentials, with the secret shown this once.
pub fn credentials(c: super::process::Credentials) -> ClientCredentials {
    ClientCredentials {
        client_id: c.client.client_id,
        client_secret: c.secret,
        name: c.client.name,
        scopes: c.client.scopes,
    }
}

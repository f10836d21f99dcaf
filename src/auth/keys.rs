//! Token signing keys (Ed25519), kept in the database so that every instance signs and
//! verifies alike.
//!
//! Rotation: `guichet keys rotate` adds a key that is published in the JWKS at once but signs
//! only from `sign_from` (after the JWKS cache lifetime), so no verifier meets a token whose key
//! it cannot have; the old key stops signing then, and stays published until its last token
//! has expired.
use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::Utc;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{json, Value};

use super::secrets::random_bytes;
use crate::db::keys as q;
pub use crate::db::keys::KeyRow;
use crate::db::types::SqlTime;
use crate::db::DbConnection;

/// How long clients may cache the JWKS (its `Cache-Control: max-age`).
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(300);

/// The keys one instance uses: the one it signs with, those it accepts, and the JWKS.
pub struct KeySet {
    pub signing: Option<(String, EncodingKey)>,
    pub verifying: HashMap<String, DecodingKey>,
    pub jwks: Value,
}

fn new_key_row(sign_from: SqlTime) -> Result<KeyRow, String> {
    let seed = random_bytes::<32>()?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let der = signing.to_pkcs8_der().map_err(|e| e.to_string())?;
    let public = signing.verifying_key().to_bytes();
    let now = SqlTime::now();
    Ok(KeyRow {
        kid: format!("k{}", uuid::Uuid::now_v7().simple()),
        algorithm: "EdDSA".into(),
        private_key: STANDARD.encode(der.as_bytes()),
        public_key: URL_SAFE_NO_PAD.encode(public),
        created_at: now,
        sign_from,
        retired_at: None,
        publish_until: None,
    })
}

/// Creates the first key when there is none that can sign now (first start).
pub fn ensure_signing_key(conn: &mut DbConnection) -> anyhow::Result<bool> {
    let now = SqlTime::now();
    if q::usable_keys(conn, now)? > 0 {
        return Ok(false);
    }
    let row = new_key_row(now).map_err(anyhow::Error::msg)?;
    q::insert_key(conn, &row)?;
    tracing::info!(kid = %row.kid, "created the first token signing key");
    Ok(true)
}

/// Adds a key that signs from `activate_in` on; the current key retires then and stays
/// published for `token_ttl` more. Returns the new key id.
pub fn rotate(conn: &mut DbConnection, activate_in: Duration, token_ttl: Duration) -> anyhow::Result<String> {
    let now = Utc::now();
    let sign_from = SqlTime(now + chrono::Duration::from_std(activate_in)?);
    let publish_until = SqlTime(sign_from.0 + chrono::Duration::from_std(token_ttl)? + chrono::Duration::seconds(60));
    let row = new_key_row(sign_from).map_err(anyhow::Error::msg)?;
    q::retire_keys(conn, sign_from, publish_until)?;
    q::insert_key(conn, &row)?;
    Ok(row.kid)
}

/// Reads the keys in force now.
pub fn load(conn: &mut DbConnection) -> anyhow::Result<KeySet> {
    let now = SqlTime::now();
    let rows = q::published_keys(conn, now)?;
    let mut set = KeySet {
        signing: None,
        verifying: HashMap::new(),
        jwks: json!({"keys": []}),
    };
    let mut jwks = Vec::new();
    for r in rows {
        let can_sign = r.sign_from <= now && r.retired_at.is_none_or(|t| t > now);
        if can_sign && set.signing.is_none() {
            let der = STANDARD.decode(&r.private_key)?;
            set.signing = Some((r.kid.clone(), EncodingKey::from_ed_der(&der)));
        }
        let decoding = DecodingKey::from_ed_components(&r.public_key)?;
        set.verifying.insert(r.kid.clone(), decoding);
        jwks.push(
            json!({"kty": "OKP", "crv": "Ed25519", "x": r.public_key, "kid": r.kid, "alg": "EdDSA", "use": "sig"}),
        );
    }
    set.jwks = json!({ "keys": jwks });
    Ok(set)
}

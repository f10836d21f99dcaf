//! The token service one instance runs: keys, the security state, a short-lived cache of
//! verified tokens, issuing and verifying.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::keys::{self, KeySet};
use super::state::{self, SecurityState};
use super::tokens::{self, Claims, Grant, TokenError};
use crate::db::Db;
use crate::error::ApiError;

const VERIFIED_CACHE_MAX: usize = 50_000;
/// The documented bound within which a revocation or a disabled account takes effect on every
/// instance; an instance whose security state is older than this fails closed.
const STATE_BOUND: Duration = Duration::from_secs(2);

pub struct AuthService {
    pub db: Db,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub password_grant: bool,
    /// With a mail server configured, residents confirm their address before signing in.
    pub require_verified_email: bool,
    /// The external identity provider whose ID tokens are exchanged, if configured.
    pub idp: Option<super::external::ExternalIdp>,
    keys: RwLock<Arc<KeySet>>,
    state: RwLock<Arc<SecurityState>>,
    verified: RwLock<HashMap<String, Arc<Claims>>>,
    last_key_reload: Mutex<Instant>,
    /// When the security state was last confirmed current (a successful refresh).
    confirmed_at: Mutex<Instant>,
    /// How old that confirmation may be before the state is no longer trusted.
    stale_after: Duration,
}

fn read<T: Clone>(l: &RwLock<T>) -> T {
    match l.read() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

fn write<T>(l: &RwLock<T>, v: T) {
    match l.write() {
        Ok(mut g) => *g = v,
        Err(p) => *p.into_inner() = v,
    }
}

impl AuthService {
    pub async fn start(db: Db, config: &crate::Config) -> anyhow::Result<Arc<AuthService>> {
        let svc = Arc::new(AuthService {
            db,
            issuer: config.public_url.clone(),
            audience: config.public_url.clone(),
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
            password_grant: config.password_grant,
            require_verified_email: config.mail.smtp_url.is_some(),
            idp: config.idp.clone().map(super::external::ExternalIdp::new),
            keys: RwLock::new(Arc::new(KeySet {
                signing: None,
                verifying: HashMap::new(),
                jwks: serde_json::json!({"keys": []}),
            })),
            state: RwLock::new(Arc::new(SecurityState {
                revision: -1,
                ..Default::default()
            })),
            verified: RwLock::new(HashMap::new()),
            last_key_reload: Mutex::new(Instant::now()),
            confirmed_at: Mutex::new(Instant::now()),
            stale_after: STATE_BOUND.max(config.catalogue_refresh * 2),
        });
        svc.reload_keys().await?;
        svc.refresh().await?;
        if let Some(idp) = &svc.idp {
            match idp.reload().await {
                Ok(()) => tracing::info!(issuer = %idp.config.issuer, "identity provider keys loaded"),
                Err(e) => {
                    tracing::warn!(issuer = %idp.config.issuer, error = %e, "identity provider keys not loaded yet")
                }
            }
        }
        let every = config.catalogue_refresh;
        let bg = svc.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n: u64 = 0;
            loop {
                tick.tick().await;
                n += 1;
                if let Err(e) = bg.refresh().await {
                    tracing::warn!(error = %e, "security state refresh failed");
                }
                // Keys activate by time: re-read them now and then even without a revision change.
                if n.is_multiple_of(10) {
                    if let Err(e) = bg.reload_keys().await {
                        tracing::warn!(error = %e, "key reload failed");
                    }
                }
            }
        });
        Ok(svc)
    }

    pub fn keys(&self) -> Arc<KeySet> {
        read(&self.keys)
    }

    pub fn state(&self) -> Arc<SecurityState> {
        read(&self.state)
    }

    pub async fn reload_keys(&self) -> Result<(), ApiError> {
        let set = self.db.run(|c| keys::load(c).map_err(ApiError::internal)).await?;
        write(&self.keys, Arc::new(set));
        if let Ok(mut t) = self.last_key_reload.lock() {
            *t = Instant::now();
        }
        Ok(())
    }

    /// Reloads the security state (and keys) when the database's security revision moved.
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let known = self.state().revision;
        let loaded = self
            .db
            .run(move |c| {
                if state::revision(c)? == known {
                    return Ok(None);
                }
                Ok(Some(state::load(c)?))
            })
            .await?;
        if let Some(s) = loaded {
            write(&self.state, Arc::new(s));
            write(&self.verified, HashMap::new());
            self.reload_keys().await?;
        }
        if let Ok(mut t) = self.confirmed_at.lock() {
            *t = Instant::now();
        }
        Ok(())
    }

    /// Whether the security state (revocations, disabled accounts and clients) was confirmed
    /// current within the documented bound. When it was not (the database is unreachable),
    /// operations that need an authenticated caller are refused with 503 rather than decided
    /// on a list that may miss a revocation.
    pub fn state_is_current(&self) -> bool {
        match self.confirmed_at.lock() {
            Ok(t) => t.elapsed() <= self.stale_after,
            Err(_) => false,
        }
    }

    /// After this instance changed the security state (revoked a token or session, disabled
    /// a client): applies the change here at once, so the caller's next request to this
    /// instance already sees it. Other instances follow with their next refresh.
    pub async fn apply_own_change(&self) {
        if let Err(e) = self.refresh().await {
            tracing::warn!(error = %e, "security state refresh after a change failed");
        }
    }

    pub fn issue(&self, grant: &Grant) -> Result<(String, Claims), ApiError> {
        tokens::issue(
            &self.keys(),
            &self.issuer,
            &self.audience,
            self.access_ttl.as_secs() as i64,
            grant,
        )
        .map_err(ApiError::internal)
    }

    /// Verifies a bearer token: signature and claims (cached for the token's life), then the
    /// current revocation and disabled state (never cached longer than one refresh).
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, TokenError> {
        let cached = match self.verified.read() {
            Ok(m) => m.get(token).cloned(),
            Err(_) => None,
        };
        let claims = match cached {
            Some(c) if c.exp > chrono::Utc::now().timestamp() => c,
            Some(_) => return Err(TokenError::Invalid(crate::msg!("The token has expired."))),
            None => {
                let result = tokens::verify(&self.keys(), &self.issuer, &self.audience, token);
                let result = match result {
                    Err(TokenError::UnknownKey) if self.may_reload_keys() => {
                        let _ = self.reload_keys().await;
                        tokens::verify(&self.keys(), &self.issuer, &self.audience, token)
                    }
                    other => other,
                };
                let claims = Arc::new(result?);
                if let Ok(mut m) = self.verified.write() {
                    if m.len() >= VERIFIED_CACHE_MAX {
                        m.clear();
                    }
                    m.insert(token.to_string(), claims.clone());
                }
                claims
            }
        };
        let s = self.state();
        let revoked = s.revoked_jtis.contains(&claims.jti)
            || claims
                .sid
                .is_some_and(|sid| s.revoked_sessions.contains(&sid.to_string()));
        if revoked {
            return Err(TokenError::Invalid(crate::msg!("The token has been revoked.")));
        }
        let disabled = match claims.kind {
            super::policy::CallerKind::Client => s.disabled_clients.contains(&claims.sub),
            _ => s.disabled_accounts.contains(&claims.sub),
        };
        if disabled {
            return Err(TokenError::Invalid(crate::msg!(
                "The token's account or client is disabled."
            )));
        }
        Ok(claims)
    }

    /// An unknown `kid` may mean a key this instance has not loaded yet; reload at most once a
    /// second so that garbage tokens cannot hammer the database.
    fn may_reload_keys(&self) -> bool {
        match self.last_key_reload.lock() {
            Ok(t) => t.elapsed() > Duration::from_secs(1),
            Err(_) => false,
        }
    }
}

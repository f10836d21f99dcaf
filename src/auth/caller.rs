//! The caller of a request, from its bearer token.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Data;
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use uuid::Uuid;

use super::policy::{CallerKind, Scope, StaffRole};
use super::service::AuthService;
use super::tokens::{Claims, TokenError};
use crate::domain::lang::Lang;
use crate::domain::messages::Msg;
use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// An authenticated caller. Handlers that take it refuse anonymous requests with a 401.
#[derive(Debug, Clone)]
pub struct Caller {
    pub kind: CallerKind,
    pub subject: String,
    pub scopes: Vec<Scope>,
    pub role: Option<StaffRole>,
    pub department: Option<Uuid>,
    pub organisation: Option<Uuid>,
    pub claims: Arc<Claims>,
}

impl Caller {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// An administrator: a staff administrator, or a client given the `admin` scope (the
    /// city's own tooling). The one definition; every layer asks this.
    pub fn is_admin(&self) -> bool {
        self.has(Scope::Admin) && (self.kind == CallerKind::Client || self.role == Some(StaffRole::Admin))
    }

    /// The account of a person (resident or staff); None for a client.
    pub fn account_id(&self) -> Option<Uuid> {
        if self.kind == CallerKind::Client {
            return None;
        }
        Uuid::parse_str(&self.subject).ok()
    }

    /// The account of a resident; None for staff and clients.
    pub fn resident_account(&self) -> Option<Uuid> {
        self.account_id().filter(|_| self.kind == CallerKind::Resident)
    }

    fn from_claims(claims: Arc<Claims>) -> Caller {
        Caller {
            kind: claims.kind,
            subject: claims.sub.clone(),
            scopes: Scope::parse_list(&claims.scope).unwrap_or_default(),
            role: claims.role.as_deref().and_then(StaffRole::parse),
            department: claims.dept,
            organisation: claims.org,
            claims,
        }
    }
}

fn unauthorized(detail: Msg, error: Option<&str>) -> ApiError {
    let challenge = match error {
        Some(code) => format!(
            "Bearer realm=\"guichet\", error=\"{code}\", error_description=\"{}\"",
            detail.render(Lang::En)
        ),
        None => "Bearer realm=\"guichet\"".to_string(),
    };
    ApiError::new(ProblemKind::Unauthorized, detail).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer realm=\"guichet\"")),
    )
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized(msg!("The Authorization header is malformed."), Some("invalid_request")))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized(
            msg!("Use the Bearer scheme with an access token."),
            Some("invalid_request"),
        ));
    }
    Ok(Some(token.trim().to_string()))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req, true))
    }
}

/// The caller of a request with a bearer token. With `current`, the instance's security state
/// must be current (see [`AuthService::state_is_current`]): otherwise a 503, since a token
/// revoked or an account disabled meanwhile could not be told apart. Public reads pass
/// `false`: their token is still checked for signature and expiry.
fn authenticate(req: &HttpRequest, current: bool) -> impl Future<Output = Result<Caller, ApiError>> + 'static {
    let token = bearer(req);
    let auth = req.app_data::<Data<AuthService>>().cloned();
    async move {
        let token = token?.ok_or_else(|| unauthorized(msg!("This operation needs a bearer token."), None))?;
        let auth = auth.ok_or_else(|| ApiError::internal("AuthService missing from app data"))?;
        let claims = auth.verify(&token).await.map_err(|e| {
            let why = match e {
                TokenError::Invalid(why) => why,
                TokenError::UnknownKey => msg!("The token was signed with an unknown key."),
                TokenError::NoSigningKey => msg!("No signing key is active."),
            };
            unauthorized(why, Some("invalid_token"))
        })?;
        if current && !auth.state_is_current() {
            return Err(ApiError::unavailable(msg!(
                "Revocations cannot be checked right now (the database is not reachable); retry later."
            )));
        }
        Ok(Caller::from_claims(claims))
    }
}

/// The caller if the request carries a token, `None` for anonymous requests. A token that is
/// present but invalid is still a 401: a client that sends credentials learns they are bad.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<MaybeCaller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req.headers().get(header::AUTHORIZATION).is_none() {
            return Box::pin(async { Ok(MaybeCaller(None)) });
        }
        let fut = authenticate(req, false);
        Box::pin(async move { fut.await.map(|c| MaybeCaller(Some(c))) })
    }
}

//! The address clients reach guichet at (`GUICHET_PUBLIC_URL`, no trailing slash): the base of
//! every link an answer carries (`Location`, `href`, `next` pages). It is its own value: that
//! the token issuer is the same text today is the token's business, not the links'.
use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct PublicUrl(Arc<str>);

impl PublicUrl {
    pub fn new(url: &str) -> PublicUrl {
        PublicUrl(url.trim_end_matches('/').into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute address of `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Handlers take it as an argument; the server registers it as app data.
impl FromRequest for PublicUrl {
    type Error = ApiError;
    type Future = Ready<Result<PublicUrl, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.app_data::<PublicUrl>()
                .cloned()
                .ok_or_else(|| ApiError::internal("the public URL is not registered")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_have_one_slash() {
        let u = PublicUrl::new("https://guichet.thun.ch/");
        assert_eq!(u.join("/v1/services/x"), "https://guichet.thun.ch/v1/services/x");
        assert_eq!(u.as_str(), "https://guichet.thun.ch");
    }
}

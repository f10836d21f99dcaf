//! Cursor pagination: `?limit=` (1-100, default 20) and an opaque `?cursor=`; answers
//! `{"data": [...], "next_cursor": ...}` with a `Link: <...>; rel="next"` header.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// The query of a collection that has nothing but pages: `limit` and `cursor`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    #[param(max_length = 1024)]
    cursor: Option<String>,
}

impl PageParams {
    /// Where the page starts (the key the cursor of collection `scope` holds) and its size.
    pub fn page<K: DeserializeOwned>(&self, scope: &str) -> Result<(Option<K>, usize), ApiError> {
        Ok((decode(scope, self.cursor.as_deref())?, limit(self.limit.as_deref())?))
    }
}

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// The `limit` query parameter: absent means 20; otherwise a whole number from 1 to 100.
pub fn limit(raw: Option<&str>) -> Result<usize, ApiError> {
    let bad = || ApiError::invalid_parameter("limit", msg!("must be a whole number from 1 to {max}", max = MAX_LIMIT));
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT as i64).contains(&n) => Ok(n as usize),
            _ => Err(bad()),
        },
    }
}

/// Encodes a keyset position; the `scope` ties a cursor to the collection that issued it.
pub fn encode<K: Serialize>(scope: &str, key: &K) -> String {
    let json = serde_json::to_vec(&(scope, key)).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

pub fn decode<K: DeserializeOwned>(scope: &str, cursor: Option<&str>) -> Result<Option<K>, ApiError> {
    let Some(c) = cursor else { return Ok(None) };
    let bad = || {
        ApiError::new(
            ProblemKind::InvalidCursor,
            msg!("The cursor is not one this collection issued."),
        )
        .with_errors(vec![crate::domain::FieldError::new(
            "cursor",
            "invalid",
            msg!("not a cursor of this collection"),
        )])
    };
    if c.len() > 1024 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let (s, key): (String, K) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if s != scope {
        return Err(bad());
    }
    Ok(Some(key))
}

/// Builds the URL of the next page: the same query with `cursor` replaced.
pub fn next_url(base: &str, path: &str, query: &str, cursor: &str) -> String {
    next_url_with(base, path, query, "cursor", cursor)
}

/// The same, for a collection whose cursor parameter has another name (the event feed's
/// `after`).
pub fn next_url_with(base: &str, path: &str, query: &str, name: &str, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != name)
        .collect();
    pairs.push((name.into(), cursor.into()));
    let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{base}{path}?{qs}")
}

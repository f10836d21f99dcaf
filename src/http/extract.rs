//! Extractors: strict query strings (unknown parameters are a 400) and the negotiated
//! language.
use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::domain::lang::Lang;
use crate::domain::lang::Render;
use crate::domain::FieldError;
use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// Like `web::Query`, but the target struct denies unknown fields and every error is a
/// problem document naming the parameter.
pub struct StrictQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for StrictQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(StrictQuery))
    }
}

pub fn parse_query<T: DeserializeOwned>(qs: &str) -> Result<T, ApiError> {
    serde_urlencoded::from_str::<T>(qs).map_err(|e| {
        let msg = e.to_string();
        if let Some(rest) = msg.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or("");
            let allowed = rest.split_once("expected ").map(|x| x.1).unwrap_or("no parameters");
            ApiError::new(
                ProblemKind::UnknownParameter,
                msg!(
                    "Unknown query parameter '{name}'; this operation takes {allowed}.",
                    name = name,
                    allowed = allowed
                ),
            )
            .with_errors(vec![FieldError::new(
                name,
                "unknown",
                msg!("not a parameter of this operation"),
            )])
        } else {
            let name = msg.split('`').nth(1).unwrap_or("query").to_string();
            ApiError::new(
                ProblemKind::InvalidParameter,
                msg!("Invalid query string: {error}", error = &msg),
            )
            .with_errors(vec![FieldError::new(name, "invalid", msg!("{error}", error = msg))])
        }
    })
}

/// `?lang=` (`de`, `fr`, `it`, `en`, `all`) if given, otherwise `Accept-Language`.
pub fn render_for(req: &HttpRequest, lang: Option<&str>) -> Result<Render, ApiError> {
    match lang {
        Some("all") => Ok(Render::All),
        Some(l) => Lang::parse(l)
            .filter(|_| l.len() == 2)
            .map(Render::One)
            .ok_or_else(|| ApiError::invalid_parameter("lang", msg!("must be one of de, fr, it, en, all"))),
        None => {
            let h = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
            Ok(Render::One(Lang::negotiate(h)))
        }
    }
}

/// Path segments (slugs or ids) are bounded before any lookup.
pub fn path_key(raw: &str) -> Result<&str, ApiError> {
    if raw.is_empty() || raw.len() > 64 {
        return Err(ApiError::not_found(msg!("No such resource.")));
    }
    Ok(raw)
}

/// The request's media type without parameters, in lower case (`""` when there is none).
pub fn media_type(req: &HttpRequest) -> String {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Parses a JSON request body after the handler has authorized the caller (so that a caller
/// without the right learns nothing from validation): 415 for another content type, 400 for
/// malformed JSON, 422 when the JSON does not fit the documented shape.
/// An optional body (declared `required: false`): none when it is empty or only whitespace,
/// otherwise checked as `json_body` checks it.
pub fn optional_json_body<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    json_body(req, body).map(Some)
}

pub fn json_body<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
    let mime = media_type(req);
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json")) {
        return Err(ApiError::new(
            ProblemKind::UnsupportedMediaType,
            msg!("Send the body as application/json."),
        ));
    }
    json_object(body)
}

/// A JSON object of the documented shape (a body, or the JSON part of a multipart body).
pub fn json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // A value that a database could not keep exactly is refused, with its pointer (when the
    // body is JSON at all; otherwise the parser below says what is wrong).
    if let Some(e) = super::storable::check_json(body) {
        if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
            return Err(ApiError::validation(vec![e]));
        }
    }
    // Every body of this API is an object (serde would also take a struct as an array).
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') && serde_json::from_slice::<serde_json::Value>(body).is_ok() {
        return Err(ApiError::new(
            ProblemKind::ValidationFailed,
            msg!("The body must be a JSON object."),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::new(
                ProblemKind::ValidationFailed,
                msg!("The body does not have the documented shape: {error}", error = e),
            )
        } else {
            ApiError::new(
                ProblemKind::MalformedJson,
                msg!("The body is not valid JSON: {error}", error = e),
            )
        }
    })
}

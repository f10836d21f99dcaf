//! How long the headers the API documents may be: the request headers it reads (longer ones
//! are answered 400 `invalid-parameter` before any handler runs) and the response headers it
//! sends. The OpenAPI document takes its `maxLength`s from these tables, so that what it states
//! and what the server enforces cannot drift apart.
use actix_web::http::header::HeaderMap;

/// Request headers the API reads, with the most characters it accepts in each.
pub const REQUEST_HEADERS: &[(&str, usize)] = &[
    // a list of entity tags; one of ours is under 80 characters
    ("If-Match", 1024),
    ("If-None-Match", 1024),
    // browsers send well under 200 (`de-CH,de;q=0.9,fr;q=0.8,en;q=0.7`)
    ("Accept-Language", 256),
    // `XXXX-XXXX-XXXX`, typed by people: room for spaces
    ("X-Tracking-Code", 64),
];

/// Response headers the API sends, with the most characters each can have.
pub const RESPONSE_HEADERS: &[(&str, usize)] = &[
    // a quoted 64-character digest with a content-coding suffix, or a revision
    ("ETag", 100),
    // the public URL (at most 2000 characters, see GUICHET_PUBLIC_URL) and a path
    ("Location", 2048),
    // first and next page, each a URL with a cursor of at most 1024 characters
    ("Link", 8192),
    ("Content-Language", 32),
    ("RateLimit", 100),
    ("RateLimit-Policy", 100),
    // seconds
    ("Retry-After", 10),
    ("WWW-Authenticate", 1024),
    // a file name of at most 255 characters, in ASCII and percent-encoded UTF-8 (RFC 6266)
    ("Content-Disposition", 4096),
    ("Vary", 100),
    ("Cache-Control", 100),
];

/// The first request header of [`REQUEST_HEADERS`] longer than it may be, with its limit.
pub fn oversized(headers: &HeaderMap) -> Option<(&'static str, usize)> {
    REQUEST_HEADERS
        .iter()
        .copied()
        .find(|(name, max)| headers.get_all(*name).map(|v| v.as_bytes().len()).sum::<usize>() > *max)
}

/// The bound of a response header named in [`RESPONSE_HEADERS`] (case-insensitively).
pub fn response_header(name: &str) -> Option<usize> {
    RESPONSE_HEADERS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, max)| *max)
}

/// The bound of a request header named in [`REQUEST_HEADERS`] (case-insensitively).
pub fn request_header(name: &str) -> Option<usize> {
    REQUEST_HEADERS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, max)| *max)
}

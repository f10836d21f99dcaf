//! A representation ready to send: its bytes, its strong ETag and the language it is in.
//! Built once (the catalogue snapshot pre-renders every answer), compared with `If-None-Match`
//! and `If-Match` by `http::conditional`.
use actix_web::web::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A pre-serialised JSON body with its strong ETag and the language actually served.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub etag: String,
    pub content_language: &'static str,
}

impl Rendered {
    /// `v` serialised, with the strong ETag of its bytes.
    pub fn new<T: Serialize>(v: &T, content_language: &'static str) -> Rendered {
        let body = Bytes::from(serde_json::to_vec(v).unwrap_or_default());
        Rendered::from_bytes(body, content_language)
    }

    pub fn from_bytes(body: Bytes, content_language: &'static str) -> Rendered {
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", hex16(&digest));
        Rendered {
            body,
            etag,
            content_language,
        }
    }
}

impl Rendered {
    /// Prefixes the ETag with the resource's revision (`"r7-<digest>"`): `If-None-Match`
    /// compares the whole tag, `If-Match` on writes the revision, inside the transaction.
    pub fn with_revision(mut self, revision: i64) -> Rendered {
        self.etag = format!("\"r{revision}-{}", self.etag.trim_start_matches('"'));
        self
    }
}

/// The revision in an ETag made by [`Rendered::with_revision`].
pub fn etag_revision(etag: &str) -> Option<i64> {
    let t = etag.trim().trim_start_matches("W/").trim_matches('"');
    let rest = t.strip_prefix('r')?;
    rest.split('-').next()?.parse().ok()
}

fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(10).map(|b| format!("{b:02x}")).collect()
}

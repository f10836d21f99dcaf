//! Compressed answers are representations of their own (RFC 9110 §8.8.3): `Compress` codes an
//! answer by the request's `Accept-Encoding`, so a coded answer's strong `ETag` carries the
//! coding as a suffix (`"r3-ab12-gzip"`), every answer says `Vary: Accept-Encoding`, and the
//! preconditions a client sends back (`If-Match`, `If-None-Match`) are compared without the
//! suffix, since the resource behind both representations is the same.
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;

/// The content codings an answer may get, as they appear in `Content-Encoding`.
const CODINGS: [&str; 4] = ["gzip", "br", "zstd", "deflate"];

/// The coding a tag's suffix names, if any: `"abc-gzip"` → `gzip`.
fn coding_of(tag: &str) -> Option<&'static str> {
    let inner = tag.trim().strip_suffix('"')?;
    CODINGS
        .into_iter()
        .find(|c| inner.strip_suffix(c).is_some_and(|rest| rest.ends_with('-')))
}

fn without_coding(tag: &str) -> String {
    let tag = tag.trim();
    match coding_of(tag) {
        Some(c) => format!("{}\"", &tag[..tag.len() - c.len() - 2]),
        None => tag.to_string(),
    }
}

/// Before the handler: the coding suffixes come off the tags of `If-Match` and
/// `If-None-Match`. Returns the coding of the first coded tag of `If-None-Match`: a 304 names
/// the representation the client holds.
pub fn strip_coded_tags(headers: &mut HeaderMap) -> Option<&'static str> {
    let mut held = None;
    for name in [header::IF_MATCH, header::IF_NONE_MATCH] {
        let Some(value) = headers.get(&name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        if name == header::IF_NONE_MATCH {
            held = value.split(',').find_map(coding_of);
        }
        if value.split(',').any(|t| coding_of(t).is_some()) {
            let plain = value.split(',').map(without_coding).collect::<Vec<_>>().join(", ");
            if let Ok(v) = HeaderValue::from_str(&plain) {
                headers.insert(name, v);
            }
        }
    }
    held
}

/// After `Compress`: a coded answer's (or a 304's, for the coding the client holds) `ETag`
/// gets the coding's suffix, and `Vary` lists `Accept-Encoding`.
pub fn mark_representation(headers: &mut HeaderMap, status: StatusCode, held: Option<&'static str>) {
    let coded = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| CODINGS.into_iter().find(|c| v.trim().eq_ignore_ascii_case(c)));
    let coding = if status == StatusCode::NOT_MODIFIED {
        held
    } else {
        coded
    };
    if let Some(c) = coding {
        let tagged = headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .filter(|t| t.ends_with('"') && coding_of(t).is_none())
            .map(|t| format!("{}-{c}\"", &t[..t.len() - 1]));
        if let Some(v) = tagged.and_then(|t| HeaderValue::from_str(&t).ok()) {
            headers.insert(header::ETAG, v);
        }
    }
    let varies = headers.get_all(header::VARY).any(|v| {
        v.to_str()
            .map(|s| {
                s.split(',')
                    .any(|f| f.trim().eq_ignore_ascii_case("accept-encoding") || f.trim() == "*")
            })
            .unwrap_or(false)
    });
    if !varies {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_coded_answer_has_its_own_tag_and_the_preconditions_compare_the_resource() {
        let mut h = headers(&[
            (header::ETAG, "\"r3-ab12\""),
            (header::CONTENT_ENCODING, "gzip"),
            (header::VARY, "Accept-Language"),
        ]);
        mark_representation(&mut h, StatusCode::OK, None);
        assert_eq!(h.get(header::ETAG).unwrap(), "\"r3-ab12-gzip\"");
        assert!(h.get_all(header::VARY).any(|v| v == "Accept-Encoding"));

        let mut plain = headers(&[(header::ETAG, "\"r3-ab12\"")]);
        mark_representation(&mut plain, StatusCode::OK, None);
        assert_eq!(plain.get(header::ETAG).unwrap(), "\"r3-ab12\"");
        assert_eq!(plain.get(header::VARY).unwrap(), "Accept-Encoding");

        let mut req = headers(&[
            (header::IF_MATCH, "\"r3-ab12-gzip\""),
            (header::IF_NONE_MATCH, "\"x\", W/\"r3-ab12-br\""),
        ]);
        assert_eq!(strip_coded_tags(&mut req), Some("br"));
        assert_eq!(req.get(header::IF_MATCH).unwrap(), "\"r3-ab12\"");
        assert_eq!(req.get(header::IF_NONE_MATCH).unwrap(), "\"x\", W/\"r3-ab12\"");

        // a 304 names the representation the client holds
        let mut not_modified = headers(&[(header::ETAG, "\"r3-ab12\"")]);
        mark_representation(&mut not_modified, StatusCode::NOT_MODIFIED, Some("br"));
        assert_eq!(not_modified.get(header::ETAG).unwrap(), "\"r3-ab12-br\"");
        // a tag that merely ends in a coding's letters (no dash before them) is left alone
        let mut req = headers(&[(header::IF_MATCH, "\"r3xgzip\"")]);
        assert_eq!(strip_coded_tags(&mut req), None);
        assert_eq!(req.get(header::IF_MATCH).unwrap(), "\"r3xgzip\"");
    }
}

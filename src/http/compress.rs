//! Compressed answers (RFC 9110 §8.4.1): gzip when the caller accepts it, for answers worth it.
//!
//! actix-web's `Compress` coded every answer, however small, and handed every chunk of 1 KB or
//! more to a thread of the blocking pool and back: with `Accept-Encoding: gzip`, as browsers and
//! HTTP libraries send it, reading one application fell from about 14,000 to 2,200 answers a
//! second on two cores. Here an answer is coded only when
//! - the caller accepts gzip (with the q-values of `Accept-Encoding`; nothing else is offered,
//!   and a caller that refuses every coding gets the plain answer rather than a 406),
//! - its bytes are all there (a streamed download is not buffered to be coded),
//! - it is at least [`MIN_BYTES`] long: below that the coded answer saves at most one packet
//!   and costs more CPU than sending the bytes,
//! - its media type is text-like (JSON, XML, SVG, CSV, text): PDFs, images and uploaded files
//!   are compressed already or not compressible,
//! - it has a body a coding applies to (not 204, 206 or 304) and no coding yet.
//!
//! Up to [`IN_PLACE_MAX`] bytes are coded on the server worker (about a tenth of a
//! millisecond); larger answers (a page of events, a CSV export) on the CPU queue
//! (`http::cpu`). The coded answer's `ETag` and `Vary` are set by `http::encoding`.
use std::io::Write;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, Encoding, Header, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;

/// Answers shorter than this go out as they are (one Ethernet frame's payload, about).
pub const MIN_BYTES: usize = 1400;
/// Answers up to this size are coded on the worker; larger ones on the CPU queue.
pub const IN_PLACE_MAX: usize = 16 * 1024;

pub async fn handle(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let gzip = accepts_gzip(&req);
    let res = next.call(req).await?.map_into_boxed_body();
    if !gzip || !worth_coding(res.status(), res.headers()) {
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(b) if b.len() >= MIN_BYTES => b,
        Ok(b) => return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(b)))),
        Err(stream) => return Ok(ServiceResponse::new(req, res.set_body(stream))),
    };
    let coded = if bytes.len() <= IN_PLACE_MAX {
        gzip_bytes(&bytes)
    } else {
        let whole = bytes.clone();
        crate::http::cpu::run(move || Ok(gzip_bytes(&whole)))
            .await
            .ok()
            .flatten()
    };
    let mut res = match coded {
        Some(c) => {
            let mut res = res.set_body(BoxBody::new(c));
            res.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            res
        }
        // coding into memory does not fail; if it ever did, the plain answer is still right
        None => res.set_body(BoxBody::new(bytes)),
    };
    res.headers_mut().remove(header::CONTENT_LENGTH);
    Ok(ServiceResponse::new(req, res))
}

/// Whether the caller prefers gzip to the plain answer (RFC 9110 §12.5.3).
fn accepts_gzip(req: &ServiceRequest) -> bool {
    if !req.headers().contains_key(header::ACCEPT_ENCODING) {
        return false;
    }
    AcceptEncoding::parse(req.request())
        .ok()
        .and_then(|a| a.negotiate([Encoding::gzip(), Encoding::identity()].iter()))
        .is_some_and(|e| e == Encoding::gzip())
}

fn worth_coding(status: StatusCode, headers: &HeaderMap) -> bool {
    if matches!(
        status,
        StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    ) || status.is_informational()
        || headers.contains_key(header::CONTENT_ENCODING)
    {
        return false;
    }
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(compressible)
}

/// Text-like media types: JSON and XML (with their `+json`/`+xml` kinds: problem details,
/// SVG), CSV and the other `text/` types, and JavaScript (the API explorer's assets).
pub fn compressible(content_type: &str) -> bool {
    let Ok(m) = content_type.parse::<mime::Mime>() else {
        return false;
    };
    m.type_() == mime::TEXT
        || [mime::JSON, mime::XML, mime::JAVASCRIPT].contains(&m.subtype())
        || m.suffix().is_some_and(|s| s == mime::JSON || s == mime::XML)
}

/// gzip at the fastest level: on two cores the CPU is dearer than the bytes.
fn gzip_bytes(plain: &[u8]) -> Option<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(plain.len() / 3), flate2::Compression::fast());
    enc.write_all(plain).ok()?;
    enc.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_like_types_are_compressed_and_the_rest_is_not() {
        for t in [
            "application/json",
            "application/problem+json; charset=utf-8",
            "image/svg+xml",
            "text/csv; charset=utf-8",
            "text/html",
            "application/xml",
            "application/javascript",
        ] {
            assert!(compressible(t), "{t}");
        }
        for t in [
            "application/pdf",
            "image/png",
            "application/octet-stream",
            "application/zip",
            "",
            "json",
        ] {
            assert!(!compressible(t), "{t}");
        }
    }

    #[test]
    fn a_coded_answer_decodes_to_the_plain_one() {
        let plain = br#"{"id":"x","form":{"a":1}}"#.repeat(200);
        let coded = gzip_bytes(&plain).unwrap();
        assert!(coded.len() < plain.len() / 5, "{}", coded.len());
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&coded[..]), &mut back).unwrap();
        assert_eq!(back, plain);
    }
}

//! `Idempotency-Key` on every POST but the OAuth endpoints (IETF httpapi idempotency-key draft).
//!
//! Keys are scoped to the caller (the token's subject, or the client address for anonymous
//! requests) and the endpoint, and kept in the database for 24 hours, so they hold across
//! instances. The first request claims the key; its final answer is stored when it is a 2xx or
//! 4xx (a 5xx releases the key, so a retry runs again). The same key with the same body gets
//! that answer again (`Idempotent-Replayed: true`); with another body a 422; while the first
//! is still running a 409 with `Retry-After`. A claim whose instance stopped before answering
//! is taken over after 60 seconds.
use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{HttpMessage, HttpResponse};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::auth::AuthService;
use crate::db::idempotency::{self, Answer, Found, KeyId, Outcome, Scope};
use crate::error::{ApiError, ProblemKind};
use crate::msg;

const HEADER: &str = "idempotency-key";
/// Response headers kept with the answer.
const KEPT: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::CONTENT_LANGUAGE,
    header::RETRY_AFTER,
];

fn applies(req: &ServiceRequest) -> bool {
    req.method() == Method::POST && req.path().starts_with("/v1/") && !req.path().starts_with("/v1/oauth/")
}

/// The caller a key belongs to: the token's subject, or the client address.
async fn owner(req: &ServiceRequest, auth: &AuthService) -> Option<String> {
    match req.headers().get(header::AUTHORIZATION) {
        Some(v) => {
            let token = v.to_str().ok()?.split_once(' ')?.1.trim().to_string();
            let claims = auth.verify(&token).await.ok()?;
            Some(format!("{}:{}", claims.kind.as_str(), claims.sub))
        }
        None => {
            let ip = crate::http::middleware::client_ip(req.request()).unwrap_or_default();
            Some(format!("ip:{ip}"))
        }
    }
}

/// A request body read in full before its handler runs: small ones in memory, larger ones
/// (uploads) in an anonymous temporary file in the system's temp directory (`TMPDIR`), which
/// disappears when the request is done. So a 100 MB upload costs disk, not memory.
enum Spooled {
    Memory(Bytes),
    File(tokio::fs::File),
}

/// Bodies up to this size stay in memory.
const IN_MEMORY: usize = 256 * 1024;

/// The hash of a request body that a retry must match. For `multipart/form-data` the
/// boundary is left out: clients (browsers' and Node's `FormData`, most HTTP libraries) draw a
/// new one for every request, so the same parts sent again differ only there. The boundary
/// cannot occur inside the parts (that is what makes it a boundary), so leaving it out keeps
/// every other byte, and a change of any of them, in the hash.
pub struct BodyHash {
    hash: Sha256,
    boundary: Option<Vec<u8>>,
    /// The last bytes seen, not hashed yet: they may be the start of a boundary.
    carry: Vec<u8>,
}

impl BodyHash {
    pub fn new(hash: Sha256, boundary: Option<&str>) -> BodyHash {
        BodyHash {
            hash,
            boundary: boundary.filter(|b| !b.is_empty()).map(|b| b.as_bytes().to_vec()),
            carry: Vec::new(),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        let Some(boundary) = &self.boundary else {
            self.hash.update(chunk);
            return;
        };
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(chunk);
        let mut from = 0;
        for at in memchr::memmem::find_iter(&data, boundary) {
            self.hash.update(&data[from..at]);
            from = at + boundary.len();
        }
        // keep what could be the beginning of a boundary that the next chunk completes
        let keep = (boundary.len() - 1).min(data.len() - from);
        let until = data.len() - keep;
        self.hash.update(&data[from..until]);
        self.carry = data[until..].to_vec();
    }

    pub fn finalize(mut self) -> String {
        self.hash.update(&self.carry);
        self.hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Reads the body (at most `limit` bytes) into `hash` and a [`Spooled`] copy.
async fn read_body(req: &mut ServiceRequest, limit: usize, hash: &mut BodyHash) -> Result<Spooled, ApiError> {
    use tokio::io::AsyncWriteExt;
    let spool_error = |e: std::io::Error| {
        tracing::error!(error = %e, "spooling a request body to a temporary file failed");
        ApiError::unavailable(msg!("The request body could not be buffered; retry later."))
    };
    let mut payload = req.take_payload();
    let mut buf = BytesMut::new();
    let mut file: Option<tokio::fs::File> = None;
    let mut len = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(ProblemKind::BadRequest, msg!("reading the body: {e}", e = e)))?;
        len += chunk.len();
        if len > limit {
            return Err(ApiError::new(
                ProblemKind::PayloadTooLarge,
                msg!("The body is larger than {limit} bytes.", limit = limit),
            ));
        }
        hash.update(&chunk);
        if file.is_none() && buf.len() + chunk.len() > IN_MEMORY {
            let std_file = crate::sched::spawn_blocking(tempfile::tempfile)
                .await
                .map_err(|e| ApiError::internal(format!("spool task failed: {e}")))?
                .map_err(spool_error)?;
            let mut f = tokio::fs::File::from_std(std_file);
            f.write_all(&buf).await.map_err(spool_error)?;
            buf = BytesMut::new();
            file = Some(f);
        }
        match file.as_mut() {
            Some(f) => f.write_all(&chunk).await.map_err(spool_error)?,
            None => buf.extend_from_slice(&chunk),
        }
    }
    match file {
        None => Ok(Spooled::Memory(buf.freeze())),
        Some(mut f) => {
            use tokio::io::AsyncSeekExt;
            f.flush().await.map_err(spool_error)?;
            f.seek(std::io::SeekFrom::Start(0)).await.map_err(spool_error)?;
            Ok(Spooled::File(f))
        }
    }
}

impl Spooled {
    /// The body again, as the handler's payload.
    fn into_payload(self) -> Payload {
        match self {
            Spooled::Memory(bytes) => Payload::from(bytes),
            Spooled::File(f) => {
                use tokio::io::AsyncReadExt;
                let chunks = futures_util::stream::unfold(Some(f), |f| async move {
                    let mut f = f?;
                    let mut buf = BytesMut::with_capacity(64 * 1024);
                    match f.read_buf(&mut buf).await {
                        Ok(0) => None,
                        Ok(_) => Some((Ok(buf.freeze()), Some(f))),
                        Err(e) => Some((Err(actix_web::error::PayloadError::Io(e)), None)),
                    }
                });
                let stream: std::pin::Pin<
                    Box<dyn futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>,
                > = Box::pin(chunks.fuse()); // the multipart reader may poll again after the end
                Payload::from(stream)
            }
        }
    }
}

fn problem(req: ServiceRequest, e: ApiError) -> ServiceResponse<BoxBody> {
    req.error_response(e)
}

pub async fn handle(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = match req.headers().get(HEADER) {
        Some(k) if applies(&req) => k.to_str().ok().map(str::to_string),
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let Some(key) = key.filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x21..0x7f).contains(&b)))
    else {
        let e = ApiError::invalid_parameter(
            "Idempotency-Key",
            msg!("1 to 255 visible ASCII characters, e.g. a UUID"),
        );
        return Ok(problem(req, e));
    };
    let Some(auth) = req.app_data::<Data<AuthService>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(owner) = owner(&req, &auth).await else {
        // a bad token: the handler answers 401, nothing to remember
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/"));
    let limit = if multipart || req.path().ends_with("/documents") {
        DOCUMENT_BODY
    } else {
        MAX_BODY
    };
    let mut h = Sha256::new();
    let content_type: Option<mime::Mime> = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let boundary = content_type
        .as_ref()
        .filter(|_| multipart)
        .and_then(|m| m.get_param(mime::BOUNDARY))
        .map(|b| b.as_str().to_string());
    match (&boundary, req.headers().get(header::CONTENT_TYPE)) {
        // the boundary is left out of the hash, here as in the body
        (Some(_), _) => h.update(content_type.as_ref().map(|m| m.essence_str()).unwrap_or_default()),
        (None, Some(ct)) => h.update(ct.as_bytes()),
        (None, None) => {}
    }
    h.update(b"\n");
    // a different precondition makes a different request
    if let Some(m) = req.headers().get(header::IF_MATCH) {
        h.update(b"if-match:");
        h.update(m.as_bytes());
    }
    h.update(b"\n");
    let mut h = BodyHash::new(h, boundary.as_deref());
    let body = match read_body(&mut req, limit, &mut h).await {
        Ok(b) => b,
        Err(e) => return Ok(problem(req, e)),
    };
    let hash = h.finalize();
    let id = KeyId {
        owner,
        endpoint: req.path().to_string(),
        key,
        hash,
    };
    let found = {
        let id = id.clone();
        auth.db.run(move |c| Ok(idempotency::lookup(c, &id)?)).await
    };
    match found {
        Err(e) => return Ok(problem(req, e)),
        Ok(Found::Nothing) => {}
        Ok(found) => return Ok(replay(req, found)),
    }
    req.set_payload(body.into_payload());
    let scope = Scope::new(id);
    let res = scope.run(next.call(req)).await;
    let outcome = scope.outcome();
    let res = match res {
        Ok(r) => r.map_into_boxed_body(),
        Err(e) => {
            if let Outcome::Held(held) = outcome {
                let _ = held.finish(None).await;
            }
            return Err(e);
        }
    };
    let status = res.status();
    let (http_req, res) = res.into_parts();
    if let Outcome::Replay = outcome {
        return Ok(replay_stored(&auth, &scope.id, http_req).await);
    }
    if status.is_server_error() {
        // not kept: a retry runs again (a held change is rolled back)
        if let Outcome::Held(held) = outcome {
            let _ = held.finish(None).await;
        }
        return Ok(ServiceResponse::new(http_req, res));
    }
    let (mut head, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body).await else {
        if let Outcome::Held(held) = outcome {
            let _ = held.finish(None).await;
        }
        let e = ApiError::internal("the answer's body could not be read");
        return Ok(ServiceResponse::from_err(e, http_req));
    };
    let Some(answer) = answer(status, head.headers(), &bytes) else {
        if let Outcome::Held(held) = outcome {
            let _ = held.finish(None).await;
        }
        let e = ApiError::internal("an answer to an idempotent request is not text");
        return Ok(ServiceResponse::from_err(e, http_req));
    };
    match outcome {
        Outcome::Held(held) => {
            if let Err(e) = held.finish(Some(answer)).await {
                // the change did not commit: the client must not see it acknowledged
                return Ok(ServiceResponse::from_err(e, http_req));
            }
        }
        Outcome::Unchanged => {
            let id = scope.id.clone();
            match auth.db.run(move |c| Ok(idempotency::store(c, &id, &answer)?)).await {
                Ok(None) => {}
                // another request with this key answered first: its answer holds
                Ok(Some(found)) => return Ok(respond(http_req, replayed(found))),
                Err(e) => tracing::error!(error = %e, "could not store an idempotent answer"),
            }
        }
        Outcome::Replay => unreachable!("handled above"),
    }
    head.headers_mut().remove(header::CONTENT_LENGTH);
    let res = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, res))
}

/// The answer to keep: status, the kept headers and the body (a body that is not text is
/// not kept).
fn answer(status: StatusCode, headers: &actix_web::http::header::HeaderMap, body: &Bytes) -> Option<Answer> {
    let text = std::str::from_utf8(body).ok()?.to_string();
    let kept: serde_json::Map<String, serde_json::Value> = KEPT
        .iter()
        .filter_map(|name| {
            let v = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_string(), serde_json::Value::String(v.to_string())))
        })
        .collect();
    Some(Answer {
        status: status.as_u16(),
        headers: serde_json::Value::Object(kept),
        body: text,
    })
}

/// The answer to a request whose key an earlier request used: its stored answer, or a
/// problem.
fn replayed(found: Found) -> Result<HttpResponse, ApiError> {
    match found {
        Found::Done(row) => {
            let status = u16::try_from(row.status.unwrap_or(500))
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut res = HttpResponse::build(status);
            if let Some(serde_json::Value::Object(hs)) = row.headers.map(|h| h.0) {
                for (k, v) in hs {
                    if let (Ok(k), Some(Ok(v))) =
                        (HeaderName::try_from(k.as_str()), v.as_str().map(HeaderValue::from_str))
                    {
                        res.insert_header((k, v));
                    }
                }
            }
            res.insert_header(("idempotent-replayed", "true"));
            Ok(res.body(row.body.unwrap_or_default()))
        }
        Found::Mismatch => Err(ApiError::new(
            ProblemKind::IdempotencyKeyReused,
            msg!("This Idempotency-Key was already used with another request body; use a new key for a new request."),
        )),
        Found::InProgress | Found::Nothing => Err(ApiError::new(
            ProblemKind::Conflict,
            msg!("A request with this Idempotency-Key is still being processed; retry after a moment."),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))),
    }
}

fn respond(http_req: actix_web::HttpRequest, r: Result<HttpResponse, ApiError>) -> ServiceResponse<BoxBody> {
    match r {
        Ok(res) => ServiceResponse::new(http_req, res),
        Err(e) => ServiceResponse::from_err(e, http_req),
    }
}

fn replay(req: ServiceRequest, found: Found) -> ServiceResponse<BoxBody> {
    let (http_req, _) = req.into_parts();
    respond(http_req, replayed(found))
}

/// The answer another request with the same key stored (after this one found the key taken).
async fn replay_stored(auth: &AuthService, id: &KeyId, http_req: actix_web::HttpRequest) -> ServiceResponse<BoxBody> {
    let id2 = id.clone();
    match auth.db.run(move |c| Ok(idempotency::lookup(c, &id2)?)).await {
        Ok(found) => respond(http_req, replayed(found)),
        Err(e) => ServiceResponse::from_err(e, http_req),
    }
}

/// Largest body an idempotent request may have.
pub const MAX_BODY: usize = 32 * 1024 * 1024;
/// Largest upload an idempotent request may carry (the largest document a service may
/// allow, and its multipart envelope). Such a body is spooled to a temporary file while it runs.
const DOCUMENT_BODY: usize = crate::domain::documents::MAX_BYTES_CEILING as usize + 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::BodyHash;
    use sha2::{Digest, Sha256};

    fn hash(boundary: Option<&str>, body: &[u8], chunk: usize) -> String {
        let mut h = BodyHash::new(Sha256::new(), boundary);
        for c in body.chunks(chunk.max(1)) {
            h.update(c);
        }
        h.finalize()
    }

    fn body(boundary: &str, file: &str) -> Vec<u8> {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"application\"\r\n\r\n{{}}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"documents\"; filename=\"a.pdf\"\r\n\r\n\
             {file}\r\n--{boundary}--\r\n"
        )
        .into_bytes()
    }

    /// The same parts under two boundaries hash alike, however the body is cut into chunks;
    /// another byte in a part does not.
    #[test]
    fn a_multipart_body_hashes_without_its_boundary() {
        let (a, b) = ("XyZ-boundary-1", "----WebKitFormBoundary7MA4YWxk");
        let first = hash(Some(a), &body(a, "%PDF-1.7 one"), 1 << 20);
        for chunk in 1..40 {
            assert_eq!(
                hash(Some(b), &body(b, "%PDF-1.7 one"), chunk),
                first,
                "chunks of {chunk}"
            );
            assert_eq!(
                hash(Some(a), &body(a, "%PDF-1.7 one"), chunk),
                first,
                "chunks of {chunk}"
            );
        }
        assert_ne!(hash(Some(b), &body(b, "%PDF-1.7 two"), 7), first);
        // without a boundary every byte counts
        assert_ne!(hash(None, &body(a, "x"), 5), hash(None, &body(b, "x"), 5));
    }
}

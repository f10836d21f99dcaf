//! The one middleware every request passes: request id, problem details enrichment, security
//! headers, structured request log and Prometheus metrics.
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use tracing::Instrument;

use crate::domain::lang::Lang;
use crate::error::{ApiError, ProblemKind};
use crate::msg;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, from a well-formed `X-Request-Id` or a fresh UUID v7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Settings the middleware needs, stored as app data.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub hsts: bool,
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Who acts in this request, and from where, for the audit log.
pub fn actor(req: &HttpRequest, caller: &crate::auth::Caller) -> crate::audit::Actor {
    let o = origin(req);
    crate::audit::Actor::of(caller, o.ip, o.request_id)
}

/// Where this request comes from (its client address and request id), for the audit log.
pub fn origin(req: &HttpRequest) -> crate::audit::Origin {
    crate::audit::Origin {
        ip: client_ip(req),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the right-most
/// address of `X-Forwarded-For` that is not itself a trusted proxy (what a proxy appended;
/// anything left of it could be forged by the client).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let trusted = req
        .app_data::<actix_web::web::Data<HttpSettings>>()
        .map(|s| s.trusted_proxies.clone())
        .unwrap_or_default();
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer.to_string());
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let client = forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .copied()
        .unwrap_or(peer);
    Some(client.to_string())
}

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| v.to_string())
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// Refuses a path or query string that encodes NUL (`%00`): no resource has such a name and no
/// parameter such a value, and PostgreSQL could not even compare it.
pub async fn refuse_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    use super::storable::url_has_nul;
    let e = if url_has_nul(req.uri().path()) {
        Some(ApiError::new(
            ProblemKind::BadRequest,
            msg!("The path must not contain the NUL character (%00)."),
        ))
    } else if url_has_nul(req.query_string()) {
        Some(ApiError::invalid_parameter(
            "query",
            msg!("must not contain the NUL character (%00)"),
        ))
    } else {
        None
    };
    match e {
        Some(e) => Ok(req.error_response(e)),
        None => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

pub async fn handle(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    // HEAD answers as GET does, without the body (RFC 9110 §9.3.2): it is routed as a GET, and
    // the connection, which remembers the request was a HEAD, sends the headers only (with the
    // GET's Content-Length).
    let head = req.method() == actix_web::http::Method::HEAD;
    if head {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    let held_coding = crate::http::encoding::strip_coded_tags(req.headers_mut());
    let id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let hsts = req
        .app_data::<actix_web::web::Data<HttpSettings>>()
        .is_some_and(|s| s.hsts);

    // Everything logged while the request is handled (a 500's cause too) carries its id. The
    // span is at ERROR level so that it is recorded whenever anything is logged: with
    // GUICHET_LOG=warn an info span would be off, and the warnings would lose their id.
    let span = tracing::error_span!("request", request_id = %id);
    // (The request must not be cloned before routing: actix needs it unshared.)
    // A documented header longer than the document says is refused before any handler runs.
    let mut res: ServiceResponse<BoxBody> = match crate::http::limits::oversized(req.headers()) {
        Some((name, max)) => req.error_response(ApiError::invalid_parameter(
            name,
            crate::msg!("at most {max} characters", max = max),
        )),
        None => next.call(req).instrument(span).await?.map_into_boxed_body(),
    };
    let http_req: HttpRequest = res.request().clone();

    // Every error answer is a problem document carrying the instance and the request id.
    let status = res.status();
    if status.is_client_error() || status.is_server_error() {
        let path = http_req.path().to_string();
        let api_error = res.response().error().and_then(|e| e.as_error::<ApiError>());
        // Answers a handler built itself (the OAuth endpoints' RFC 6749 errors) carry no
        // error and are left alone; errors from guichet or actix become problem documents.
        let lang = problem_lang(&http_req);
        let rebuilt = match (api_error, res.response().error()) {
            (Some(api), _) => Some(api.response(Some(path), Some(id.clone()), lang)),
            (None, Some(other)) => {
                Some(generic_problem(status, Some(other)).response(Some(path), Some(id.clone()), lang))
            }
            (None, None) => None,
        };
        if let Some(new) = rebuilt {
            let headers_to_keep: Vec<(HeaderName, HeaderValue)> = res
                .headers()
                .iter()
                .filter(|(k, _)| {
                    *k == header::ALLOW || k.as_str().starts_with("access-control-") || *k == header::WWW_AUTHENTICATE
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut new = new;
            for (k, v) in headers_to_keep {
                new.headers_mut().insert(k, v);
            }
            res = ServiceResponse::new(http_req.clone(), new);
        }
    }

    let status = res.status();
    let h = res.headers_mut();
    crate::http::encoding::mark_representation(h, status, held_coding);
    h.insert(
        REQUEST_ID,
        HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid")),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let csp = if http_req.path().starts_with("/docs") {
        DOCS_CSP
    } else {
        API_CSP
    };
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }

    let elapsed = started.elapsed();
    let route = http_req.match_pattern().unwrap_or_else(|| "unmatched".to_string());
    let method = if head { "HEAD" } else { http_req.method().as_str() }.to_string();
    let code = res.status().as_u16();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => code.to_string()).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method.clone(), "route" => route)
        .record(elapsed.as_secs_f64());
    if code >= 500 {
        tracing::error!(request_id = %id, method = %method, path = %http_req.path(), status = code, duration_ms = elapsed.as_secs_f64() * 1000.0, "request");
    } else {
        tracing::info!(request_id = %id, method = %method, path = %http_req.path(), status = code, duration_ms = elapsed.as_secs_f64() * 1000.0, "request");
    }
    Ok(res)
}

/// The language of a problem: the request's `lang` parameter when it names one of ours, else
/// `Accept-Language`, as for every other answer.
fn problem_lang(req: &HttpRequest) -> Lang {
    let param = req
        .query_string()
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(|l| Lang::parse(l).filter(|_| l.len() == 2));
    param.unwrap_or_else(|| Lang::negotiate(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())))
}

/// Maps an error that did not come from our code (actix's own) onto a problem kind.
fn generic_problem(status: actix_web::http::StatusCode, err: Option<&actix_web::Error>) -> ApiError {
    let kind = ProblemKind::ALL
        .into_iter()
        .find(|k| {
            k.status() == status
                && !matches!(
                    k,
                    ProblemKind::MalformedJson
                        | ProblemKind::InvalidParameter
                        | ProblemKind::UnknownParameter
                        | ProblemKind::InvalidCursor
                )
        })
        .unwrap_or(if status.is_server_error() {
            ProblemKind::Internal
        } else {
            ProblemKind::BadRequest
        });
    let detail = match (kind, err) {
        (ProblemKind::Internal, Some(e)) => {
            tracing::error!(error = %e, "unhandled error");
            None
        }
        (ProblemKind::Internal, None) => None,
        (_, Some(e)) => Some(msg!("{error}", error = e)),
        (_, None) => None,
    };
    ApiError {
        kind,
        detail,
        errors: Vec::new(),
        headers: Vec::new(),
    }
}

/// The answer for a path no route matched: 405 with `Allow` when the path exists for other
/// methods, 404 otherwise.
pub async fn not_matched(req: HttpRequest, routes: actix_web::web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    if let Some(methods) = routes.allowed(req.path()) {
        let allow = methods.join(", ");
        let value = HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static("GET"));
        let detail = msg!(
            "{method} is not supported here; use {allow}.",
            method = req.method(),
            allow = &allow
        );
        return Err(ApiError::new(ProblemKind::MethodNotAllowed, detail).with_header(header::ALLOW, value));
    }
    Err(ApiError::not_found(msg!("Nothing at {path}.", path = req.path())))
}

/// Path templates and their methods, taken from the OpenAPI document.
pub struct RouteTable(Vec<(regex::Regex, Vec<String>)>);

impl RouteTable {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> RouteTable {
        let mut routes = Vec::new();
        for (path, item) in &api.paths.paths {
            let mut re = String::from("^");
            for (i, seg) in path.split('/').enumerate() {
                if i > 0 {
                    re.push('/');
                }
                if seg.starts_with('{') && seg.ends_with('}') {
                    re.push_str("[^/]+");
                } else {
                    re.push_str(&regex::escape(seg));
                }
            }
            re.push('$');
            let value = serde_json::to_value(item).unwrap_or_default();
            let methods: Vec<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
                .iter()
                .filter(|m| value.get(**m).is_some())
                .map(|m| m.to_uppercase())
                .collect();
            if let Ok(r) = regex::Regex::new(&re) {
                routes.push((r, methods));
            }
        }
        RouteTable(routes)
    }

    pub fn allowed(&self, path: &str) -> Option<&Vec<String>> {
        self.0.iter().find(|(r, _)| r.is_match(path)).map(|(_, m)| m)
    }
}

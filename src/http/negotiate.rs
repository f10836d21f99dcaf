//! Content negotiation by `Accept` (RFC 9110 §12.5.1) for the few resources that have more
//! than one representation (a bill as JSON, PDF or SVG).
use actix_web::http::header::{self, HeaderMap};

use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// The index in `offers` (media types, the first the default) that `Accept` prefers: highest
/// q first, then the more specific range, then our order. No `Accept` takes the first; a
/// header that accepts none of them is a 406.
pub fn choose(headers: &HeaderMap, offers: &[&str]) -> Result<usize, ApiError> {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return Ok(0);
    }
    // (q in thousandths, specificity, offer index) of the best match so far.
    let mut best: Option<(u32, u8, usize)> = None;
    for range in values.iter().flat_map(|v| v.split(',')).take(64) {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .map(|v| (v.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0) * 1000.0) as u32)
            .next()
            .unwrap_or(1000);
        if q == 0 || media.is_empty() {
            continue;
        }
        let (kind, sub) = media.split_once('/').unwrap_or((media.as_str(), ""));
        for (i, offer) in offers.iter().enumerate() {
            let (ok, osub) = offer.split_once('/').unwrap_or((offer, ""));
            let specificity = match (kind, sub) {
                ("*", "*") => 0,
                (k, "*") if k == ok => 1,
                (k, s) if k == ok && s == osub => 2,
                _ => continue,
            };
            let better = match best {
                None => true,
                Some((bq, bs, bi)) => (q, specificity) > (bq, bs) || ((q, specificity) == (bq, bs) && i < bi),
            };
            if better {
                best = Some((q, specificity, i));
            }
        }
    }
    best.map(|(_, _, i)| i).ok_or_else(|| {
        ApiError::new(
            ProblemKind::NotAcceptable,
            msg!("This resource is available as application/json, application/pdf and image/svg+xml."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn pick(accept: Option<&str>) -> Option<usize> {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(HeaderName::from_static("accept"), HeaderValue::from_str(a).unwrap());
        }
        choose(&h, &["application/json", "application/pdf", "image/svg+xml"]).ok()
    }

    #[test]
    fn prefers_quality_then_specificity_then_our_order() {
        assert_eq!(pick(None), Some(0));
        assert_eq!(pick(Some("application/pdf")), Some(1));
        assert_eq!(pick(Some("image/*")), Some(2));
        assert_eq!(pick(Some("*/*")), Some(0));
        assert_eq!(pick(Some("application/json;q=0.5, application/pdf")), Some(1));
        assert_eq!(pick(Some("*/*;q=0.1, image/svg+xml")), Some(2));
        assert_eq!(pick(Some("text/html")), None);
        assert_eq!(pick(Some("application/pdf;q=0")), None);
    }
}

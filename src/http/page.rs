//! The one shape of every collection answer: `{"data": [...], "next_cursor": ...}`.
use serde::Serialize;
use utoipa::ToSchema;

/// A page of a collection: its items, and the cursor of the next page (`null` on the last;
/// the `Link: <...>; rel="next"` header carries the whole URL).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// At most `limit` items (at most 100).
    #[schema(max_items = 100)]
    pub data: Vec<T>,
    /// Opaque; at most 1,024 characters, as the `cursor` parameter takes.
    #[schema(max_length = 1024)]
    pub next_cursor: Option<String>,
}

/// The body of a page whose items are already serialised (the catalogue's pre-rendered
/// answers, applications rendered one by one): byte for byte what `Page<T>` serialises to.
pub fn prerendered<'a>(items: impl Iterator<Item = &'a [u8]>, next_cursor: &Option<String>) -> Vec<u8> {
    let mut body = Vec::with_capacity(16 * 1024);
    body.extend_from_slice(b"{\"data\":[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(b"],\"next_cursor\":");
    body.extend_from_slice(&serde_json::to_vec(next_cursor).unwrap_or_else(|_| b"null".to_vec()));
    body.push(b'}');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prerendered_page_is_what_page_serialises_to() {
        for (items, next) in [
            (vec![], None),
            (vec![serde_json::json!({"a": 1})], Some("c1".to_string())),
            (vec![serde_json::json!({"a": 1}), serde_json::json!("x\"y")], None),
        ] {
            let bytes: Vec<Vec<u8>> = items.iter().map(|v| serde_json::to_vec(v).unwrap()).collect();
            let spliced = prerendered(bytes.iter().map(Vec::as_slice), &next);
            let page = Page {
                data: items,
                next_cursor: next,
            };
            assert_eq!(spliced, serde_json::to_vec(&page).unwrap());
        }
    }
}

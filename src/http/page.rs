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

/// A page's body written item by item into one buffer: byte for byte what `Page<T>`
/// serialises to, without a `Vec<T>` of the items first.
pub struct PageBody {
    body: Vec<u8>,
    items: usize,
}

impl PageBody {
    /// A page with room for `capacity` bytes before it grows.
    pub fn with_capacity(capacity: usize) -> PageBody {
        let mut body = Vec::with_capacity(capacity);
        body.extend_from_slice(b"{\"data\":[");
        PageBody { body, items: 0 }
    }

    /// Appends an item already serialised.
    pub fn push_raw(&mut self, item: &[u8]) {
        self.next_item();
        self.body.extend_from_slice(item);
    }

    /// Appends an item, serialised into the page's buffer.
    pub fn push<T: Serialize>(&mut self, item: &T) -> serde_json::Result<()> {
        self.next_item();
        serde_json::to_writer(&mut self.body, item)
    }

    fn next_item(&mut self) {
        if self.items > 0 {
            self.body.push(b',');
        }
        self.items += 1;
    }

    /// How many items the page holds.
    pub fn items(&self) -> usize {
        self.items
    }

    /// The page's body, with the cursor of the next page (`null` on the last).
    pub fn finish(mut self, next_cursor: Option<&str>) -> Vec<u8> {
        self.body.extend_from_slice(b"],\"next_cursor\":");
        // a string written into a Vec cannot fail; were it to, the page is the last one
        if serde_json::to_writer(&mut self.body, &next_cursor).is_err() {
            self.body.extend_from_slice(b"null");
        }
        self.body.push(b'}');
        self.body
    }
}

/// The body of a page whose items are already serialised (the catalogue's pre-rendered
/// answers, applications rendered one by one).
pub fn prerendered<'a>(items: impl Iterator<Item = &'a [u8]>, next_cursor: &Option<String>) -> Vec<u8> {
    let mut page = PageBody::with_capacity(16 * 1024);
    for item in items {
        page.push_raw(item);
    }
    page.finish(next_cursor.as_deref())
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
            let mut written = PageBody::with_capacity(0);
            for v in &items {
                written.push(v).unwrap();
            }
            assert_eq!(written.items(), items.len());
            let written = written.finish(next.as_deref());
            let page = Page {
                data: items,
                next_cursor: next,
            };
            assert_eq!(spliced, serde_json::to_vec(&page).unwrap());
            assert_eq!(written, spliced);
        }
    }
}

//! JSON text we know to be valid, written into an answer as it is: serde_json neither checks
//! it again nor escapes it byte by byte. A feed page spent a quarter of its instructions in
//! serde_json's string escaping and another 8 % checking form data that PostgreSQL had
//! already checked (bench/README, "Where a feed page goes").
//!
//! It uses serde_json's own protocol for `RawValue` (a struct named by its private token),
//! as `RawValue`'s `Serialize` does; the tests below fail if a serde_json release changes it.
use serde::ser::{SerializeStruct, Serializer};

const TOKEN: &str = "$serde_json::private::RawValue";

/// Writes `json`, which must be valid JSON text, as it is.
pub fn raw<S: Serializer>(json: &str, s: S) -> Result<S::Ok, S::Error> {
    let mut out = s.serialize_struct(TOKEN, 1)?;
    out.serialize_field(TOKEN, json)?;
    out.end()
}

/// Whether `text` can be written between quotes as it is: no quote, no backslash, no control
/// character. Eight bytes at a time (the classic has-less-than and has-zero-byte tests); bytes
/// of 0x80 and above (UTF-8 beyond ASCII) need no escaping in JSON.
fn needs_no_escape(text: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let bytes = text.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        // a byte below 0x20, a '"' (0x22), a '\' (0x5c)
        let below = v.wrapping_sub(ONES * 0x20) & !v & HIGHS;
        if below | has_zero(v ^ (ONES * 0x22)) | has_zero(v ^ (ONES * 0x5c)) != 0 {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// Longest string [`str`] quotes on the stack; a longer one goes through serde_json.
const STACK: usize = 256;
/// Shortest string [`str`] writes as it is: below, serde_json's escaping costs less than the
/// check, the copy and the raw value's dispatch (callgrind: some 150 instructions a call).
const SHORT: usize = 24;

/// `"text"` as `&str`, in `buf` (at least two bytes longer than `text`).
pub fn quoted<'b>(text: &str, buf: &'b mut [u8]) -> &'b str {
    buf[0] = b'"';
    buf[1..=text.len()].copy_from_slice(text.as_bytes());
    buf[text.len() + 1] = b'"';
    // SAFETY: `text` is UTF-8 and ASCII quotes around it keep it so (checking it again was a
    // third of this function's instructions).
    unsafe { std::str::from_utf8_unchecked(&buf[..text.len() + 2]) }
}

/// Writes `text` as a JSON string: as it is between quotes when nothing in it needs escaping
/// (URLs, identifiers), else, and when it is short, escaped by serde_json.
pub fn str<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    if text.len() < SHORT || text.len() + 2 > STACK || !needs_no_escape(text) {
        return s.serialize_str(text);
    }
    let mut buf = [0u8; STACK];
    raw(quoted(text, &mut buf), s)
}

/// An optional string field (`null` when absent), as [`str`].
pub fn opt_str<S: Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match text {
        Some(t) => str(t, s),
        None => s.serialize_none(),
    }
}

/// A UUID field, hyphenated in lower case as uuid's `Serialize` writes it.
pub fn uuid<S: Serializer>(id: &uuid::Uuid, s: S) -> Result<S::Ok, S::Error> {
    let mut text = [0u8; 36];
    let mut buf = [0u8; 38];
    raw(quoted(id.hyphenated().encode_lower(&mut text), &mut buf), s)
}

/// An optional UUID field (`null` when absent).
pub fn opt_uuid<S: Serializer>(id: &Option<uuid::Uuid>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => uuid(id, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Ours<'a> {
        #[serde(serialize_with = "str")]
        text: &'a str,
        #[serde(serialize_with = "uuid")]
        id: uuid::Uuid,
        #[serde(serialize_with = "opt_uuid")]
        none: Option<uuid::Uuid>,
        #[serde(serialize_with = "raw_field")]
        doc: &'a str,
    }

    fn raw_field<S: Serializer>(doc: &&str, s: S) -> Result<S::Ok, S::Error> {
        raw(doc, s)
    }

    #[derive(serde::Serialize)]
    struct Theirs<'a> {
        text: &'a str,
        id: uuid::Uuid,
        none: Option<uuid::Uuid>,
        doc: serde_json::Value,
    }

    #[test]
    fn writes_what_serde_json_writes_in_every_serializer() {
        let doc = r#"{"a":[1,"zwei",{"b":null}],"c":"\"q\" \\ é"}"#;
        let texts = [
            "",
            "https://thun.example/v1/applications/0f0e",
            "THU-2026-7Q4KM2XD-J",
            "Zürich, Genève, Biel/Bienne",
            "quote \" here",
            "back\\slash",
            "tab\there",
            "new\nline",
            "bell\u{7}",
            "del\u{7f} is fine",
            "exactly8",
            "seven77",
            "sixteen bytes ok",
            "\u{1f}",
            &"x".repeat(300),
            &format!("{}\"", "y".repeat(300)),
        ];
        let id = uuid::Uuid::parse_str("0190d3c1-7b2e-7f3a-9c4d-5e6f7a8b9c0d").unwrap();
        for text in texts {
            let ours = Ours {
                text,
                id,
                none: None,
                doc,
            };
            let theirs = Theirs {
                text,
                id,
                none: None,
                doc: serde_json::from_str(doc).unwrap(),
            };
            let written = serde_json::to_string(&ours).unwrap();
            assert_eq!(written, serde_json::to_string(&theirs).unwrap(), "{text:?}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&written).unwrap(),
                serde_json::to_value(&theirs).unwrap()
            );
            assert_eq!(
                serde_json::to_value(&ours).unwrap(),
                serde_json::to_value(&theirs).unwrap()
            );
            assert_eq!(serde_json::value::to_raw_value(&ours).unwrap().get(), written);
        }
    }

    #[test]
    fn the_escape_test_agrees_with_a_byte_by_byte_one_on_every_byte_at_every_place() {
        let plain = |t: &str| t.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
        for byte in 0u8..0x80 {
            for len in 1..=17 {
                for at in 0..len {
                    let mut v = vec![b'a'; len];
                    v[at] = byte;
                    let t = std::str::from_utf8(&v).unwrap();
                    assert_eq!(needs_no_escape(t), plain(t), "{byte:#x} at {at} of {len}");
                }
            }
        }
        assert!(needs_no_escape("àéîõü 中文 🙂 0123456789"));
        assert!(!needs_no_escape("àéîõü\"中文"));
    }
}

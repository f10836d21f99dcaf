//! Values that one of the databases cannot keep exactly are refused at the edge, the same on
//! both backends: text with the NUL character (PostgreSQL refuses it in `text` and `jsonb`,
//! SQLite would store it) and integers beyond what a JavaScript number or Ajv holds exactly
//! (±(2^53 − 1); serde would otherwise round 2^70 to a float without a word).
//!
//! The JSON check is lexical, one pass over the body before it is parsed, so it knows an
//! integer literal from a float and points at the value with a JSON Pointer.
use crate::domain::FieldError;

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Where a JSON body has a value that cannot be stored, as a field error; `None` when it has
/// none (or is not JSON at all: the parser then says why).
pub fn check_json(body: &[u8]) -> Option<FieldError> {
    let (at, what) = scan(body)?;
    let detail = match what {
        Unstorable::Nul => crate::msg!("text must not contain the NUL character (U+0000)"),
        Unstorable::BigInteger => crate::msg!(
            "integers must lie within ±{max} (2^53 − 1), the range a JSON number holds exactly",
            max = MAX_SAFE_INTEGER
        ),
    };
    let code = match what {
        Unstorable::Nul => "nul_character",
        Unstorable::BigInteger => "integer_range",
    };
    Some(FieldError::new(at, code, detail))
}

/// True when a text (a form field, a decoded query parameter) holds NUL.
pub fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

/// True when a raw URL part (path or query, still percent-encoded) encodes NUL.
pub fn url_has_nul(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unstorable {
    Nul,
    BigInteger,
}

/// A container the scanner is inside, with the member it is at.
enum Frame {
    /// The raw (still escaped) key of the current member, if read.
    Object(Option<(usize, usize)>),
    Array(usize),
}

fn pointer(body: &[u8], stack: &[Frame]) -> String {
    let mut p = String::new();
    for f in stack {
        p.push('/');
        match f {
            Frame::Object(Some((a, b))) => {
                let key: String = serde_json::from_slice(&body[*a..*b])
                    .unwrap_or_else(|_| String::from_utf8_lossy(&body[a + 1..b - 1]).into_owned());
                p.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Frame::Object(None) => {}
            Frame::Array(i) => p.push_str(&i.to_string()),
        }
    }
    if p.ends_with('/') {
        p.pop();
    }
    p
}

fn scan(body: &[u8]) -> Option<(String, Unstorable)> {
    let mut stack: Vec<Frame> = Vec::new();
    // inside an object: is the next string a key?
    let mut want_key = false;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'{' => {
                stack.push(Frame::Object(None));
                want_key = true;
                i += 1;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                want_key = false;
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                want_key = false;
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Array(n)) => *n += 1,
                    Some(Frame::Object(_)) => want_key = true,
                    None => {}
                }
                i += 1;
            }
            b':' => {
                want_key = false;
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                let mut nul = false;
                while i < body.len() && body[i] != b'"' {
                    if body[i] == b'\\' {
                        if body.get(i + 1) == Some(&b'u') && body.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                            nul = true;
                        }
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                i += 1; // the closing quote
                let end = i.min(body.len());
                if want_key {
                    if let Some(Frame::Object(k)) = stack.last_mut() {
                        *k = Some((start, end));
                    }
                }
                if nul {
                    return Some((pointer(body, &stack), Unstorable::Nul));
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < body.len() && matches!(body[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let token = &body[start..i];
                let integer = !token.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
                if integer {
                    let digits = token.strip_prefix(b"-").unwrap_or(token);
                    let too_big = digits.len() > 16
                        || std::str::from_utf8(digits)
                            .ok()
                            .and_then(|d| d.parse::<u64>().ok())
                            .is_some_and(|v| v > MAX_SAFE_INTEGER);
                    if too_big {
                        return Some((pointer(body, &stack), Unstorable::BigInteger));
                    }
                }
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(body: &str) -> Option<(String, Unstorable)> {
        scan(body.as_bytes())
    }

    #[test]
    fn nul_is_found_with_its_pointer() {
        assert_eq!(at(r#"{"a": "x\u0000y"}"#), Some(("/a".into(), Unstorable::Nul)));
        assert_eq!(
            at(r#"{"data": {"list": [1, "ok", "\u0000"]}}"#),
            Some(("/data/list/2".into(), Unstorable::Nul))
        );
        // in a key: the member it names
        assert_eq!(
            at(r#"{"data": {"k\u0000": 1}}"#),
            Some(("/data/k\u{0}".into(), Unstorable::Nul))
        );
        // an escaped backslash followed by u0000 is text, not NUL
        assert_eq!(at(r#"{"a": "\\u0000"}"#), None);
        assert_eq!(at(r#"{"a": "\u0001", "b": "\"u0000"}"#), None);
        // keys with / and ~ are escaped in the pointer
        assert_eq!(
            at(r#"{"a/b~": ["\u0000"]}"#),
            Some(("/a~1b~0/0".into(), Unstorable::Nul))
        );
    }

    #[test]
    fn integers_beyond_2_53_are_found_floats_are_not() {
        assert_eq!(at(r#"{"n": 9007199254740991}"#), None);
        assert_eq!(at(r#"{"n": -9007199254740991}"#), None);
        assert_eq!(
            at(r#"{"n": 9007199254740992}"#),
            Some(("/n".into(), Unstorable::BigInteger))
        );
        assert_eq!(
            at(r#"{"x": [0, {"n": 1180591620717411303424}]}"#),
            Some(("/x/1/n".into(), Unstorable::BigInteger))
        );
        assert_eq!(
            at(r#"{"n": -99999999999999999999}"#),
            Some(("/n".into(), Unstorable::BigInteger))
        );
        assert_eq!(at(r#"{"n": 1e300, "m": 1180591620717411303424.0}"#), None);
        // digits inside strings are text
        assert_eq!(at(r#"{"n": "1180591620717411303424"}"#), None);
    }

    #[test]
    fn url_nul() {
        assert!(url_has_nul("q=a%00b"));
        assert!(!url_has_nul("q=a%100"));
        assert!(!url_has_nul("q=100"));
    }
}

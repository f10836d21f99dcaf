//! Documents on applications: which ones a service version takes. No I/O here.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;
use crate::msg;

/// Which documents an application of a service takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentLimits {
    /// Media types accepted (of `application/pdf`, `image/png`, `image/jpeg`).
    #[serde(default = "default_types")]
    #[schema(example = json!(["application/pdf", "image/png", "image/jpeg"]), max_items = 3, max_length = 100)]
    pub types: Vec<String>,
    /// Largest file, in bytes.
    #[serde(default = "default_max_bytes")]
    #[schema(example = 20971520, minimum = 1, maximum = 104857600)]
    pub max_bytes: u64,
    /// Most files on one application.
    #[serde(default = "default_max_files")]
    #[schema(example = 20, minimum = 1, maximum = 100)]
    pub max_files: u32,
}

/// The media types guichet can recognise from the bytes, and so may accept.
pub const KNOWN_TYPES: [&str; 3] = ["application/pdf", "image/png", "image/jpeg"];
/// The ceiling a service may set: 100 MB.
pub const MAX_BYTES_CEILING: u64 = 100 * 1024 * 1024;

fn default_types() -> Vec<String> {
    KNOWN_TYPES.iter().map(|t| t.to_string()).collect()
}
fn default_max_bytes() -> u64 {
    20 * 1024 * 1024
}
fn default_max_files() -> u32 {
    20
}

impl Default for DocumentLimits {
    fn default() -> Self {
        DocumentLimits {
            types: default_types(),
            max_bytes: default_max_bytes(),
            max_files: default_max_files(),
        }
    }
}

impl DocumentLimits {
    /// Whether documents of this media type are taken.
    pub fn accepts(&self, media_type: &str) -> bool {
        self.types.iter().any(|t| t == media_type)
    }

    pub fn validate(&self, p: &str, errors: &mut Vec<FieldError>) {
        if self.types.len() > KNOWN_TYPES.len() {
            errors.push(FieldError::new(
                format!("{p}/types"),
                "too_long",
                msg!("name each media type once"),
            ));
        }
        for (i, t) in self.types.iter().enumerate() {
            if !KNOWN_TYPES.contains(&t.as_str()) {
                errors.push(FieldError::new(
                    format!("{p}/types/{i}"),
                    "enum",
                    msg!("one of {types}", types = KNOWN_TYPES.join(", ")),
                ));
            }
        }
        if self.max_bytes == 0 || self.max_bytes > MAX_BYTES_CEILING {
            errors.push(FieldError::new(
                format!("{p}/max_bytes"),
                "maximum",
                msg!("from 1 to {max} bytes", max = MAX_BYTES_CEILING),
            ));
        }
        if self.max_files == 0 || self.max_files > 100 {
            errors.push(FieldError::new(
                format!("{p}/max_files"),
                "maximum",
                msg!("from 1 to 100"),
            ));
        }
    }
}

/// A declared media type as guichet compares it: the essence, lower case, with the common
/// misspelling `image/jpg` read as `image/jpeg`.
pub fn declared_type(raw: &str) -> String {
    let essence = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "image/jpg" | "image/pjpeg" => "image/jpeg".into(),
        _ => essence,
    }
}

/// The media type the bytes show (of [`KNOWN_TYPES`]), from their first bytes.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let found = infer::get(head)?.mime_type();
    KNOWN_TYPES.iter().copied().find(|t| *t == found)
}

/// How many leading bytes [`sniff`] needs at most.
pub const SNIFF_BYTES: usize = 512;

/// The name a document is kept under: the last component of what the client sent, without
/// control characters, at most 200 characters. None when nothing is left.
pub fn clean_filename(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

/// An ASCII stand-in for a file name, for the `filename` parameter of `Content-Disposition`
/// (the exact name goes in `filename*`).
pub fn ascii_filename(name: &str) -> String {
    deunicode::deunicode(name)
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_sniffed_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3"), Some("application/pdf"));
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
            Some("image/png")
        );
        assert_eq!(
            sniff(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F']),
            Some("image/jpeg")
        );
        assert_eq!(sniff(b"GIF89a\x01\x00"), None, "known to infer, not taken by guichet");
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(declared_type("Image/JPG"), "image/jpeg");
        assert_eq!(declared_type("application/pdf; name=x.pdf"), "application/pdf");
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(
            clean_filename("C:\\Users\\anna\\Grundriss.pdf").as_deref(),
            Some("Grundriss.pdf")
        );
        assert_eq!(clean_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_filename("a\u{0}b\nc.pdf").as_deref(), Some("abc.pdf"));
        assert_eq!(clean_filename("  "), None);
        assert_eq!(clean_filename("dir/.."), None);
        assert_eq!(clean_filename(&"x".repeat(300)).map(|n| n.len()), Some(200));
        assert_eq!(ascii_filename("Baugesuch \"Süd\".pdf"), "Baugesuch _Sud_.pdf");
    }

    #[test]
    fn limits_are_checked() {
        let mut errors = Vec::new();
        DocumentLimits::default().validate("/document_limits", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let bad = DocumentLimits {
            types: vec!["application/pdf".into(), "text/html".into()],
            max_bytes: MAX_BYTES_CEILING + 1,
            max_files: 0,
        };
        bad.validate("/document_limits", &mut errors);
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/document_limits/types/1",
                "/document_limits/max_bytes",
                "/document_limits/max_files"
            ]
        );
    }
}

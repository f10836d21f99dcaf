//! Documents on applications: which ones a service version takes. No I/O here.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;

/// Which documents an application of a service takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentLimits {
    /// Media types accepted (of `application/pdf`, `image/png`, `image/jpeg`).
    #[serde(default = "default_types")]
    #[schema(example = json!(["application/pdf", "image/png", "image/jpeg"]))]
    pub types: Vec<String>,
    /// Largest file, in bytes.
    #[serde(default = "default_max_bytes")]
    #[schema(example = 20971520)]
    pub max_bytes: u64,
    /// Most files on one application.
    #[serde(default = "default_max_files")]
    #[schema(example = 20)]
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
    pub fn validate(&self, p: &str, errors: &mut Vec<FieldError>) {
        for (i, t) in self.types.iter().enumerate() {
            if !KNOWN_TYPES.contains(&t.as_str()) {
                errors.push(FieldError::new(
                    format!("{p}/types/{i}"),
                    "enum",
                    format!("one of {}", KNOWN_TYPES.join(", ")),
                ));
            }
        }
        if self.max_bytes == 0 || self.max_bytes > MAX_BYTES_CEILING {
            errors.push(FieldError::new(
                format!("{p}/max_bytes"),
                "maximum",
                format!("from 1 to {MAX_BYTES_CEILING} bytes"),
            ));
        }
        if self.max_files == 0 || self.max_files > 100 {
            errors.push(FieldError::new(format!("{p}/max_files"), "maximum", "from 1 to 100"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

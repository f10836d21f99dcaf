//! Domain types and rules. No I/O here: every type is built through a `parse` constructor
//! (or serde plus `validate`), so an invalid value cannot travel past the edge.
pub mod account;
pub mod application;
pub mod catalogue;
pub mod documents;
pub mod forms;
pub mod lang;
pub mod organisation;
pub mod search;
pub mod status;
pub mod submission;

/// One problem with an input, pointing into it with a JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) into the request body, or the name of a query parameter.
    #[schema(example = "/data/move_date")]
    pub pointer: String,
    /// Stable machine-readable code, e.g. `required`, `format`, `too_long`.
    #[schema(example = "required")]
    pub code: String,
    #[schema(example = "move_date is required")]
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: &str, detail: impl Into<String>) -> FieldError {
        FieldError {
            pointer: pointer.into(),
            code: code.to_string(),
            detail: detail.into(),
        }
    }
}

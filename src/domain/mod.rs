//! Domain types and rules. No I/O here: every type is built through a `parse` constructor
//! (or serde plus `validate`), so an invalid value cannot travel past the edge.
pub mod account;
pub mod application;
pub mod billing;
pub mod camt;
pub mod catalogue;
pub mod documents;
pub mod event;
pub mod forms;
pub mod ids;
pub mod lang;
pub mod messages;
pub mod organisation;
pub mod qrbill;
pub mod representation;
pub mod requests;
pub mod retention;
pub mod search;
pub mod status;
pub mod submission;
pub mod thread;
pub mod webhook;

/// An enum stored as text: `as_str` is the stored text, `parse` reads it back (`None` for any
/// other text), `ALL` lists the variants (for the tests of the mapping). Each variant's text is
/// written once, here.
macro_rules! stored_text {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vm])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use stored_text;

/// One problem with an input, pointing into it with a JSON Pointer; its message is rendered in
/// the language of the answer (`error::FieldErrorText`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) into the request body, or the name of a query parameter.
    pub pointer: String,
    /// Stable machine-readable code, e.g. `required`, `format`, `check_digit`.
    pub code: String,
    pub detail: messages::Msg,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: &str, detail: messages::Msg) -> FieldError {
        FieldError {
            pointer: pointer.into(),
            code: code.to_string(),
            detail,
        }
    }
}

/// In English, for the command line's reports (the API renders field errors per answer).
impl serde::Serialize for FieldError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FieldError", 3)?;
        st.serialize_field("pointer", &self.pointer)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("detail", &self.detail.render(lang::Lang::En))?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::account::{CallerKind, StaffRole, TokenPurpose};
    use super::catalogue::{ServiceStatus, VersionState};
    use super::organisation::{MemberRole, OrganisationStatus};

    /// The texts in the database are what they were before the enums: no migration needed,
    /// and each reads back as the variant that wrote it.
    #[test]
    fn stored_texts_are_unchanged_and_read_back() {
        let texts = |all: Vec<&'static str>| all.join(",");
        assert_eq!(
            texts(ServiceStatus::ALL.iter().map(|v| v.as_str()).collect()),
            "draft,active,retired"
        );
        assert_eq!(
            texts(VersionState::ALL.iter().map(|v| v.as_str()).collect()),
            "draft,published,superseded"
        );
        assert_eq!(
            texts(TokenPurpose::ALL.iter().map(|v| v.as_str()).collect()),
            "verify,reset"
        );
        for v in ServiceStatus::ALL {
            assert_eq!(ServiceStatus::parse(v.as_str()), Some(*v));
        }
        for v in VersionState::ALL {
            assert_eq!(VersionState::parse(v.as_str()), Some(*v));
        }
        for v in TokenPurpose::ALL {
            assert_eq!(TokenPurpose::parse(v.as_str()), Some(*v));
        }
        assert_eq!(ServiceStatus::parse("Active"), None);
        for k in [CallerKind::Resident, CallerKind::Staff, CallerKind::Client] {
            assert_eq!(CallerKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(StaffRole::parse("admin").map(StaffRole::as_str), Some("admin"));
        assert_eq!(StaffRole::parse("clerk").map(StaffRole::as_str), Some("clerk"));
        assert_eq!(
            OrganisationStatus::parse("verified").map(OrganisationStatus::as_str),
            Some("verified")
        );
        assert_eq!(MemberRole::parse("owner").map(MemberRole::as_str), Some("owner"));
    }
}

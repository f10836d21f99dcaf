//! The thread of an application: messages between its applicant side (the resident, the
//! organisation's members and client, a representative) and the responsible department. No
//! I/O.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::application::Mover;
use super::messages::Msg;
use crate::msg;

/// The side of the thread a message comes from, and a reader belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Applicant,
    Department,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Applicant => "applicant",
            Side::Department => "department",
        }
    }

    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "applicant" => Some(Side::Applicant),
            "department" => Some(Side::Department),
            _ => None,
        }
    }

    /// The side of whoever may move the application: its applicant, or its processor.
    pub fn of(mover: Mover) -> Side {
        match mover {
            Mover::Applicant => Side::Applicant,
            Mover::Processor => Side::Department,
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Applicant => Side::Department,
            Side::Department => Side::Applicant,
        }
    }
}

/// The longest message, in characters.
pub const BODY_MAX: usize = 10_000;
/// The most documents one message names.
pub const DOCUMENTS_MAX: usize = 20;

/// A message's text as it is kept (trimmed), or why it is refused: (code, detail).
pub fn body(text: &str) -> Result<String, (&'static str, Msg)> {
    let t = text.trim();
    if t.is_empty() {
        return Err(("required", msg!("write something")));
    }
    if t.chars().count() > BODY_MAX {
        return Err(("too_long", msg!("at most {max} characters", max = BODY_MAX)));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_trimmed_and_bounded_in_characters() {
        assert_eq!(body("  Grüezi \n").unwrap(), "Grüezi");
        assert_eq!(body(" \n\t").unwrap_err().0, "required");
        let most = "é".repeat(BODY_MAX);
        assert_eq!(body(&most).unwrap(), most);
        assert_eq!(body(&format!("{most}e")).unwrap_err().0, "too_long");
    }

    #[test]
    fn sides_follow_who_moves_the_application() {
        assert_eq!(Side::of(Mover::Applicant), Side::Applicant);
        assert_eq!(Side::of(Mover::Processor), Side::Department);
        for s in [Side::Applicant, Side::Department] {
            assert_eq!(Side::parse(s.as_str()), Some(s));
            assert_eq!(s.other().other(), s);
        }
        assert_eq!(Side::parse("staff"), None);
    }
}

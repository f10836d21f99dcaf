//! Accounts: their kinds and staff roles (stored as text), and registration input, parsed.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::messages::Msg;
use crate::domain::FieldError;
use crate::msg;

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    /// A person with a guichet account (a resident, possibly acting for an organisation).
    Resident,
    /// City staff: a clerk of a department or an administrator.
    Staff,
    /// A partner system calling with client credentials.
    Client,
}

impl CallerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallerKind::Resident => "resident",
            CallerKind::Staff => "staff",
            CallerKind::Client => "client",
        }
    }

    /// The kind a stored text names (accounts keep `resident` or `staff`).
    pub fn parse(s: &str) -> Option<CallerKind> {
        [CallerKind::Resident, CallerKind::Staff, CallerKind::Client]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Clerk,
    Admin,
    /// Sees the bills (of every department, or of the one it is bound to) and books the
    /// bank's payments; reads no application.
    Finance,
}

impl StaffRole {
    pub fn parse(s: &str) -> Option<StaffRole> {
        match s {
            "clerk" => Some(StaffRole::Clerk),
            "admin" => Some(StaffRole::Admin),
            "finance" => Some(StaffRole::Finance),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Clerk => "clerk",
            StaffRole::Admin => "admin",
            StaffRole::Finance => "finance",
        }
    }
}

/// A normalised e-mail address (trimmed, lower case, plausible shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// An address of the common ASCII shape (RFC 5321 dot-atom local part, a domain of at
    /// least two labels); internationalised domains are accepted in their punycode form.
    pub fn parse(raw: &str) -> Result<Email, Msg> {
        let e = raw.trim().to_ascii_lowercase();
        let bad = || Err(msg!("not an e-mail address"));
        if !(3..=254).contains(&e.len()) {
            return bad();
        }
        let Some((local, domain)) = e.split_once('@') else {
            return bad();
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if local_ok && domain_ok {
            Ok(Email(e))
        } else {
            bad()
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 1024;

/// A new password: 10 to 1024 characters, not the e-mail address itself (NIST SP 800-63B:
/// length over composition rules).
pub fn check_password(password: &str, email: Option<&Email>, pointer: &str, errors: &mut Vec<FieldError>) {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        errors.push(FieldError::new(
            pointer,
            "too_short",
            msg!("at least {min} characters", min = PASSWORD_MIN),
        ));
    } else if n > PASSWORD_MAX {
        errors.push(FieldError::new(
            pointer,
            "too_long",
            msg!("at most {max} characters", max = PASSWORD_MAX),
        ));
    } else if email.is_some_and(|e| e.as_str() == password.trim().to_lowercase()) {
        errors.push(FieldError::new(
            pointer,
            "weak",
            msg!("the password must not be the e-mail address"),
        ));
    } else if let Some(why) = weak(password, email) {
        errors.push(FieldError::new(pointer, "weak", why));
    }
}

/// The least zxcvbn score a password needs: 3, "safely unguessable" (about 10^10 guesses),
/// what Dropbox, who wrote zxcvbn, ask for. Common passwords, keyboard runs, repeats
/// (`aaaaaaaaaa`), dates and the user's own address score lower.
const PASSWORD_MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Why a password is too easy to guess, or `None`.
fn weak(password: &str, email: Option<&Email>) -> Option<Msg> {
    let mut inputs: Vec<&str> = vec!["guichet", "thun"];
    if let Some(e) = email {
        inputs.extend(e.as_str().split(['@', '.', '-', '_']).filter(|p| p.len() > 2));
    }
    // zxcvbn looks at the first 100 characters; longer passwords are not weaker for it
    let head: String = password.chars().take(100).collect();
    let estimate = zxcvbn::zxcvbn(&head, &inputs);
    if estimate.score() >= PASSWORD_MIN_SCORE {
        return None;
    }
    let hint = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| format!(" ({w})"))
        .unwrap_or_default();
    Some(msg!(
        "the password is too easy to guess{hint}; a few unrelated words make a strong one",
        hint = hint
    ))
}

/// A display name as given: trimmed, none when empty, at most 200 characters (a longer one is
/// an error at `/display_name`).
pub fn display_name(raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let name = raw.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    if name.as_ref().is_some_and(|d| d.chars().count() > 200) {
        errors.push(FieldError::new(
            "/display_name",
            "too_long",
            msg!("at most 200 characters"),
        ));
    }
    name
}

super::stored_text! {
    /// What a single-use token sent by mail is for (`email_tokens.purpose`).
    pub enum TokenPurpose {
        /// Confirms an address (`gev_` tokens).
        Verify = "verify",
        /// Sets a new password (`gpr_` tokens).
        Reset = "reset",
    }
}

impl TokenPurpose {
    /// The prefix of the token's text, so that a leaked one is recognisable.
    pub fn prefix(self) -> &'static str {
        match self {
            TokenPurpose::Verify => "gev_",
            TokenPurpose::Reset => "gpr_",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_display_name_is_trimmed_dropped_when_empty_and_at_most_200_characters() {
        let mut errors = Vec::new();
        assert_eq!(
            super::display_name(Some("  Anna ".into()), &mut errors).as_deref(),
            Some("Anna")
        );
        assert_eq!(super::display_name(Some("   ".into()), &mut errors), None);
        assert_eq!(super::display_name(None, &mut errors), None);
        assert!(errors.is_empty());
        super::display_name(Some("é".repeat(200)), &mut errors);
        assert!(errors.is_empty(), "200 characters (400 bytes) are allowed");
        super::display_name(Some("x".repeat(201)), &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].pointer.as_str(), errors[0].code.as_str()),
            ("/display_name", "too_long")
        );
    }

    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse(" Anna@Example.CH ").unwrap().as_str(), "anna@example.ch");
        for bad in [
            "",
            "anna",
            "@x.ch",
            "anna@ch",
            "an na@x.ch",
            "a@b@c.ch",
            "a@.ch",
            "\u{de}@w.ch",
            "a@w\u{88}.ch",
            "a..b@x.ch",
            "a@x.c1.70",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::{CallerKind, StaffRole};

    #[test]
    fn kinds_and_roles_keep_their_stored_text() {
        for (k, text) in [
            (CallerKind::Resident, "resident"),
            (CallerKind::Staff, "staff"),
            (CallerKind::Client, "client"),
        ] {
            assert_eq!(k.as_str(), text);
            assert_eq!(CallerKind::parse(text), Some(k));
        }
        for (r, text) in [
            (StaffRole::Clerk, "clerk"),
            (StaffRole::Admin, "admin"),
            (StaffRole::Finance, "finance"),
        ] {
            assert_eq!(r.as_str(), text);
            assert_eq!(StaffRole::parse(text), Some(r));
        }
        assert_eq!(CallerKind::parse("Staff"), None);
    }
}

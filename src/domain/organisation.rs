//! Organisations (businesses and associations, by Swiss UID), their members and their API
//! clients: states, roles and the rules on them, without I/O.
use crate::domain::forms::is_uid;
use crate::domain::FieldError;
use crate::msg;

/// How many registrations one resident may have waiting for verification.
pub const MAX_PENDING_PER_RESIDENT: usize = 3;

/// Where an organisation stands. Stored as its text (`pending`, `verified`, `rejected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationStatus {
    /// Registered by a resident, waiting for an administrator (a UID is public: anyone could
    /// claim one).
    Pending,
    /// Verified: its members and clients act for it.
    Verified,
    Rejected,
}

impl OrganisationStatus {
    pub const ALL: [OrganisationStatus; 3] = [Self::Pending, Self::Verified, Self::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A member's role in an organisation. Stored as its text (`owner`, `member`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    /// Manages the organisation: its members and clients.
    Owner,
    /// Acts for the organisation (applies for it, reads its applications).
    Member,
}

impl MemberRole {
    pub const ALL: [MemberRole; 2] = [Self::Owner, Self::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A registration's UID and name, trimmed; or every field error.
pub fn registration(uid: &str, name: &str) -> Result<(String, String), Vec<FieldError>> {
    let (uid, name) = (uid.trim(), name.trim());
    let mut errors = Vec::new();
    if !is_uid(uid) {
        errors.push(FieldError::new(
            "/uid",
            "format",
            msg!("not a valid UID (CHE-116.281.710 with its check digit)"),
        ));
    }
    if let Err(e) = display_name("/name", name) {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok((uid.to_string(), name.to_string()))
    } else {
        Err(errors)
    }
}

/// A name people read (an organisation's, a client's): 1 to 200 characters once trimmed.
pub fn display_name(pointer: &str, name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(FieldError::new(pointer, "length", msg!("1 to 200 characters")));
    }
    Ok(name.to_string())
}

/// Whether the caller's role lets them remove a member: owners remove anyone, a member may
/// leave.
pub fn may_remove(role: Option<MemberRole>, leaving_self: bool) -> bool {
    role == Some(MemberRole::Owner) || leaving_self
}

/// The mail that tells the resident who registered an organisation the decision on it
/// (`instead`: another registration of the same UID was verified): subject and body.
pub fn decision_mail(name: &str, uid: &str, status: OrganisationStatus, instead: bool) -> (&'static str, String) {
    match (status, instead) {
        (OrganisationStatus::Verified, _) => (
            "Your organisation is verified",
            format!("{name} ({uid}) is verified: its members and API clients can now act for it in guichet."),
        ),
        (_, true) => (
            "Your organisation registration was not accepted",
            format!(
                "Another registration of {uid} was verified as the organisation; yours ({name}) was rejected. Ask its owners to add you as a member."
            ),
        ),
        _ => (
            "Your organisation registration was not accepted",
            format!("The registration of {name} ({uid}) was rejected. Contact the city if you think this is wrong."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_roles_keep_their_stored_text() {
        for (s, text) in [
            (OrganisationStatus::Pending, "pending"),
            (OrganisationStatus::Verified, "verified"),
            (OrganisationStatus::Rejected, "rejected"),
        ] {
            assert_eq!(s.as_str(), text);
            assert_eq!(OrganisationStatus::parse(text), Some(s));
        }
        for (r, text) in [(MemberRole::Owner, "owner"), (MemberRole::Member, "member")] {
            assert_eq!(r.as_str(), text);
            assert_eq!(MemberRole::parse(text), Some(r));
        }
        assert_eq!(OrganisationStatus::parse("Verified"), None);
        assert_eq!(MemberRole::parse("admin"), None);
    }

    #[test]
    fn a_registration_needs_a_checked_uid_and_a_name() {
        assert_eq!(
            registration(" CHE-116.281.710 ", " Muster AG ").unwrap(),
            ("CHE-116.281.710".to_string(), "Muster AG".to_string())
        );
        let errors = registration("CHE-116.281.711", " ").unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/uid", "/name"]);
    }

    #[test]
    fn owners_remove_anyone_members_only_themselves() {
        assert!(may_remove(Some(MemberRole::Owner), false));
        assert!(may_remove(Some(MemberRole::Member), true));
        assert!(!may_remove(Some(MemberRole::Member), false));
        assert!(!may_remove(None, false));
        assert!(may_remove(None, true));
    }
}

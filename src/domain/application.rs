//! Applications: their human reference and the status phases with the one transition table.
//! No I/O here.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Crockford's base32 alphabet (no I, L, O, U), and the five extra check symbols of the mod-37
/// check that references issued before 2026-12-05 carry.
const CROCKFORD: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/// A human reference, short enough to read out on the phone: prefix, year, 8 random Crockford
/// base32 characters and a check character, e.g. `THU-2026-7Q4KM2XD-J`. The check character is
/// ISO/IEC 7064 MOD 37,36 (a digit or a letter, so it can be read out and written on a
/// letter); references issued before 2026-12-05 carry Crockford's mod-37 symbol, which can be
/// `*`, `~`, `$` or `=`, and are still read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference(String);

fn value_of(c: u8) -> Option<u64> {
    // Crockford decoding is lenient for the look-alikes people type: I/L as 1, O as 0.
    CROCKFORD[..32]
        .iter()
        .position(|x| *x == look_alike(c))
        .map(|p| p as u64)
}

/// What people mean by a character that looks like another: I and L are 1, O is 0.
fn look_alike(c: u8) -> u8 {
    match c.to_ascii_uppercase() {
        b'I' | b'L' => b'1',
        b'O' => b'0',
        other => other,
    }
}

/// The check character of references issued from 2026-12-05: ISO/IEC 7064 MOD 37,36 over the
/// code (whose Crockford characters are all in the standard's 0-9A-Z).
fn check_char(code: &[u8]) -> Option<u8> {
    let code = std::str::from_utf8(code).ok()?;
    let [c] = iso_7064::MOD37_36.compute(code).ok()?;
    u8::try_from(c).ok()
}

/// The check symbol of references issued before: Crockford's mod 37.
fn legacy_check_symbol(code: &[u8]) -> Option<u8> {
    let mut n: u64 = 0;
    for c in code {
        n = n * 32 + value_of(*c)?;
    }
    Some(CROCKFORD[(n % 37) as usize])
}

impl Reference {
    /// A reference from 5 random bytes (40 bits = 8 base32 characters).
    pub fn generate(prefix: &str, year: i32, random: [u8; 5]) -> Reference {
        let mut n: u64 = random.iter().fold(0, |acc, b| (acc << 8) | u64::from(*b));
        let mut code = [b'0'; 8];
        for slot in code.iter_mut().rev() {
            *slot = CROCKFORD[(n % 32) as usize];
            n /= 32;
        }
        let check = check_char(&code).unwrap_or(b'0') as char;
        Reference(format!("{prefix}-{year}-{}-{check}", String::from_utf8_lossy(&code)))
    }

    /// Parses a reference as people type it: case-insensitive, with look-alikes tolerated,
    /// and the check symbol verified (a mistyped character is caught).
    pub fn parse(raw: &str) -> Option<Reference> {
        let up = raw.trim().to_ascii_uppercase();
        let parts: Vec<&str> = up.split('-').collect();
        let [prefix, year, code, check] = parts.as_slice() else {
            return None;
        };
        let prefix_ok = (2..=5).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_uppercase());
        let year_ok = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit());
        if !prefix_ok || !year_ok || code.len() != 8 || check.len() != 1 {
            return None;
        }
        let normalised: Vec<u8> = code
            .bytes()
            .map(|c| value_of(c).map(|v| CROCKFORD[v as usize]))
            .collect::<Option<_>>()?;
        let typed = check.as_bytes()[0];
        // the current check character (exactly: I, L and 1 are different checks), else the
        // legacy one
        let current = check_char(&normalised).filter(|c| *c == typed);
        let check = current.or_else(|| legacy_check_symbol(&normalised).filter(|c| *c == typed))?;
        Some(Reference(format!(
            "{prefix}-{year}-{}-{}",
            String::from_utf8_lossy(&normalised),
            check as char
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The canonical phases of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Draft,
    Submitted,
    InReview,
    ActionRequired,
    Approved,
    Rejected,
    Completed,
    Withdrawn,
}

/// Who moves an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// The applicant (the resident, a member of the applying organisation, or its client).
    Applicant,
    /// A clerk of the responsible department, or an administrator.
    Processor,
}

impl Phase {
    pub const ALL: [Phase; 8] = [
        Phase::Draft,
        Phase::Submitted,
        Phase::InReview,
        Phase::ActionRequired,
        Phase::Approved,
        Phase::Rejected,
        Phase::Completed,
        Phase::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Draft => "draft",
            Phase::Submitted => "submitted",
            Phase::InReview => "in_review",
            Phase::ActionRequired => "action_required",
            Phase::Approved => "approved",
            Phase::Rejected => "rejected",
            Phase::Completed => "completed",
            Phase::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Open: submitted and not yet decided or ended (the phases a work queue shows).
    pub fn is_open(self) -> bool {
        !self.is_final() && self != Phase::Draft
    }

    pub fn is_final(self) -> bool {
        matches!(self, Phase::Rejected | Phase::Completed | Phase::Withdrawn)
    }

    /// The one transition table: where an application may go from here, and by whom.
    pub fn moves(self, who: Mover) -> &'static [Phase] {
        use Mover::*;
        use Phase::*;
        match (self, who) {
            (Draft, Applicant) => &[Submitted],
            (Submitted, Processor) => &[InReview, Rejected],
            (Submitted, Applicant) => &[Withdrawn],
            (InReview, Processor) => &[ActionRequired, Approved, Rejected, Completed],
            (InReview, Applicant) => &[Withdrawn],
            (ActionRequired, Applicant) => &[InReview, Withdrawn],
            (Approved, Processor) => &[Completed],
            _ => &[],
        }
    }

    pub fn may_move(self, to: Phase, who: Mover) -> bool {
        self.moves(who).contains(&to)
    }

    /// Whether the applicant may still change data and documents.
    pub fn editable_by_applicant(self) -> bool {
        matches!(self, Phase::Draft | Phase::ActionRequired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_carry_a_check_symbol_that_catches_typos() {
        let r = Reference::generate("THU", 2026, [0x3a, 0x91, 0x7f, 0x02, 0xc4]);
        let s = r.as_str().to_string();
        assert!(s.starts_with("THU-2026-"), "{s}");
        assert_eq!(s.len(), "THU-2026-7Q4KM2XD-J".len());
        assert_eq!(Reference::parse(&s), Some(r.clone()));
        assert_eq!(Reference::parse(&s.to_lowercase()), Some(r.clone()));
        // every single-character change of the code is caught by the current check: it does
        // not parse, or (about one in 37) it parses as another reference with a legacy check
        // symbol, which was never issued after the switch
        let code_at = "THU-2026-".len();
        for i in code_at..code_at + 8 {
            for c in CROCKFORD[..32].iter() {
                let mut b = s.clone().into_bytes();
                if b[i] == *c {
                    continue;
                }
                b[i] = *c;
                let typo = String::from_utf8(b).unwrap();
                if let Some(other) = Reference::parse(&typo) {
                    let code = &typo.as_bytes()[code_at..code_at + 8];
                    assert_ne!(other, r, "{typo}");
                    assert_ne!(
                        check_char(code),
                        Some(*other.as_str().as_bytes().last().unwrap()),
                        "{typo}"
                    );
                }
            }
        }
        for bad in [
            "",
            "THU-2026-7Q4KM2XD",
            "THU-26-7Q4KM2XD-J",
            "THU-2026-7Q4KM2X-J",
            "THU-2026-7Q4KM2XU-J",
        ] {
            assert_eq!(Reference::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn new_check_characters_are_letters_and_digits_and_old_references_stay_valid() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..=255u8 {
            let r = Reference::generate("THU", 2026, [i, i.wrapping_mul(7), 3, i ^ 0x5a, 0x11]);
            let check = *r.as_str().as_bytes().last().unwrap();
            assert!(check.is_ascii_alphanumeric(), "{}", r.as_str());
            seen.insert(check);
        }
        assert!(seen.len() > 30, "the check uses the whole alphabet: {seen:?}");
        // ISO/IEC 7064's own example for MOD 37,36 (check character 'Z' after "A12425GABC1234002M")
        assert!(iso_7064::MOD37_36.verify("A12425GABC1234002MZ").unwrap_or(false));
        // and the hybrid algorithm written out independently (p = 36; s = (p + a) mod 36, 0 as
        // 36; p = 2s mod 37; check = (37 - p) mod 36) gives 'C' for this code
        assert_eq!(check_char(b"7Q4KM2XD"), Some(b'C'));
        // a reference issued with Crockford's mod-37 symbol, including the awkward ones
        for code in ["00000000", "7Q4KM2XD", "ZZZZZZZZ", "0000001Z"] {
            let legacy = legacy_check_symbol(code.as_bytes()).unwrap() as char;
            let old = format!("THU-2026-{code}-{legacy}");
            assert_eq!(
                Reference::parse(&old).map(|r| r.as_str().to_string()),
                Some(old.clone())
            );
        }
    }

    #[test]
    fn look_alikes_are_read_as_digits() {
        let r = Reference::generate("THU", 2026, [0, 0, 0, 0, 1]);
        assert_eq!(
            r.as_str(),
            format!("THU-2026-00000001-{}", check_char(b"00000001").unwrap() as char)
        );
        let typed = r.as_str().replace("00000001", "O0o0OoOL");
        assert_eq!(Reference::parse(&typed), Some(r));
    }

    #[test]
    fn the_transition_table() {
        use Mover::*;
        use Phase::*;
        assert!(Draft.may_move(Submitted, Applicant));
        assert!(!Draft.may_move(Submitted, Processor));
        assert!(Submitted.may_move(InReview, Processor));
        assert!(Submitted.may_move(Rejected, Processor));
        assert!(!Submitted.may_move(Approved, Processor));
        assert!(InReview.may_move(ActionRequired, Processor));
        assert!(ActionRequired.may_move(InReview, Applicant));
        assert!(!ActionRequired.may_move(InReview, Processor));
        assert!(Approved.may_move(Completed, Processor));
        for p in [Submitted, InReview, ActionRequired] {
            assert!(p.may_move(Withdrawn, Applicant), "{p:?}");
        }
        for p in Phase::ALL.into_iter().filter(|p| p.is_final()) {
            assert!(
                p.moves(Applicant).is_empty() && p.moves(Processor).is_empty(),
                "{p:?} is final"
            );
        }
        assert!(Draft.editable_by_applicant() && ActionRequired.editable_by_applicant());
        assert!(!InReview.editable_by_applicant());
    }

    #[test]
    fn every_from_to_actor_triple() {
        use Mover::*;
        use Phase::*;
        // the table, written out: (from, to, who)
        let allowed = [
            (Draft, Submitted, Applicant),
            (Submitted, InReview, Processor),
            (Submitted, Rejected, Processor),
            (InReview, ActionRequired, Processor),
            (InReview, Approved, Processor),
            (InReview, Rejected, Processor),
            (InReview, Completed, Processor),
            (ActionRequired, InReview, Applicant),
            (Approved, Completed, Processor),
            (Submitted, Withdrawn, Applicant),
            (InReview, Withdrawn, Applicant),
            (ActionRequired, Withdrawn, Applicant),
        ];
        let mut checked = 0;
        for from in Phase::ALL {
            for to in Phase::ALL {
                for who in [Applicant, Processor] {
                    assert_eq!(
                        from.may_move(to, who),
                        allowed.contains(&(from, to, who)),
                        "{from:?} -> {to:?} by {who:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 128);
    }
}

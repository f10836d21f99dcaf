//! The Swiss QR-bill: the account, the references and the payload of the Swiss QR Code, after
//! the Swiss Implementation Guidelines for the QR-bill, version 2.3 (payload version 0200,
//! structured addresses only, the extended Latin character set). No I/O here.
//!
//! - An IBAN of Switzerland or Liechtenstein (21 characters, ISO 13616 check digits); a QR-IBAN
//!   (institution id 30000-31999) takes a QR reference, any other IBAN a creditor reference.
//! - The QR reference: 26 digits and a check digit, modulo 10 recursive.
//! - The creditor reference (ISO 11649): `RF`, two check digits (modulo 97), 1-21 letters and
//!   digits.
//! - The payload: 31 lines separated by CR LF (32-34 with billing information and alternative
//!   schemes, which guichet does not use), nothing after the trailer `EPD`.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The check digit table of the modulo 10 recursive algorithm.
const MOD10: [u32; 10] = [0, 9, 4, 6, 8, 2, 7, 1, 3, 5];

/// The check digit of a string of digits, modulo 10 recursive (`None` for a non-digit).
pub fn mod10_check(digits: &str) -> Option<u32> {
    let mut carry = 0u32;
    for c in digits.chars() {
        carry = MOD10[((carry + c.to_digit(10)?) % 10) as usize];
    }
    Some((10 - carry) % 10)
}

/// The remainder modulo 97 of letters and digits read as ISO 13616 / ISO 11649 do (A = 10 ...
/// Z = 35); `None` for any other character.
fn mod97(s: &str) -> Option<u32> {
    let mut r = 0u32;
    for c in s.chars() {
        let v = c.to_digit(36)?;
        r = if v < 10 { (r * 10 + v) % 97 } else { (r * 100 + v) % 97 };
    }
    Some(r)
}

/// A QR reference from up to 26 digits (left-padded with zeros) and its check digit.
pub fn qr_reference(payload: &str) -> Option<String> {
    if payload.is_empty() || payload.len() > 26 || !payload.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{payload:0>26}");
    let check = mod10_check(&padded)?;
    Some(format!("{padded}{check}"))
}

/// Whether `r` (without spaces) is a valid QR reference: 27 digits, not all zero, the last the
/// check digit of the others.
pub fn is_qr_reference(r: &str) -> bool {
    r.len() == 27
        && r.bytes().all(|b| b.is_ascii_digit())
        && r.bytes().any(|b| b != b'0')
        && mod10_check(&r[..26]) == r[26..].chars().next().and_then(|c| c.to_digit(10))
}

/// An ISO 11649 creditor reference for `body` (1-21 letters and digits, upper-cased).
pub fn creditor_reference(body: &str) -> Option<String> {
    let body = body.to_ascii_uppercase();
    if body.is_empty() || body.len() > 21 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let check = 98 - mod97(&format!("{body}RF00"))?;
    Some(format!("RF{check:02}{body}"))
}

/// Whether `r` (without spaces, upper case) is a valid creditor reference.
pub fn is_creditor_reference(r: &str) -> bool {
    r.len() >= 5
        && r.len() <= 25
        && r.starts_with("RF")
        && r[2..4].bytes().all(|b| b.is_ascii_digit())
        && r.bytes().all(|b| b.is_ascii_alphanumeric())
        && mod97(&format!("{}{}", &r[4..], &r[..4])) == Some(1)
}

/// A reference as it is read or typed: spaces removed, upper case.
pub fn normalise_reference(r: &str) -> String {
    r.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The kind of reference a bill carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ReferenceType {
    /// A QR reference (with a QR-IBAN).
    #[serde(rename = "QRR")]
    Qrr,
    /// An ISO 11649 creditor reference (with an ordinary IBAN).
    #[serde(rename = "SCOR")]
    Scor,
}

impl ReferenceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceType::Qrr => "QRR",
            ReferenceType::Scor => "SCOR",
        }
    }

    pub fn parse(s: &str) -> Option<ReferenceType> {
        match s {
            "QRR" => Some(ReferenceType::Qrr),
            "SCOR" => Some(ReferenceType::Scor),
            _ => None,
        }
    }

    /// The type of a valid reference.
    pub fn of(reference: &str) -> Option<ReferenceType> {
        if is_qr_reference(reference) {
            Some(ReferenceType::Qrr)
        } else if is_creditor_reference(reference) {
            Some(ReferenceType::Scor)
        } else {
            None
        }
    }
}

/// An IBAN of Switzerland or Liechtenstein, electronic form (no spaces, upper case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iban(String);

impl Iban {
    /// Parses an IBAN as people write it (spaces allowed): `CH` or `LI`, 21 characters, the
    /// check digits right.
    pub fn parse(raw: &str) -> Option<Iban> {
        let s = normalise_reference(raw);
        let ok = s.len() == 21
            && (s.starts_with("CH") || s.starts_with("LI"))
            && s[2..4].bytes().all(|b| b.is_ascii_digit())
            && s[4..].bytes().all(|b| b.is_ascii_alphanumeric())
            && mod97(&format!("{}{}", &s[4..], &s[..4])) == Some(1);
        ok.then_some(Iban(s))
    }

    /// A QR-IBAN: its institution id (characters 5-9) is 30000-31999.
    pub fn is_qr_iban(&self) -> bool {
        self.0[4..9]
            .parse::<u32>()
            .is_ok_and(|iid| (30000..=31999).contains(&iid))
    }

    /// The reference type a bill to this account carries.
    pub fn reference_type(&self) -> ReferenceType {
        if self.is_qr_iban() {
            ReferenceType::Qrr
        } else {
            ReferenceType::Scor
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// In groups of four, as printed on the bill: `CH44 3199 9123 0008 8901 2`.
    pub fn grouped(&self) -> String {
        group(&self.0, 4, false)
    }
}

/// `s` in groups of `n` characters, counted from the left or (QR references) from the right.
pub fn group(s: &str, n: usize, from_right: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let first = if from_right { chars.len() % n } else { 0 };
    let mut out = String::with_capacity(s.len() + s.len() / n);
    for (i, c) in chars.iter().enumerate() {
        if i > 0 && (i + n - first).is_multiple_of(n) {
            out.push(' ');
        }
        out.push(*c);
    }
    out
}

/// A reference as printed: QR references in groups of five from the right, creditor
/// references in groups of four.
pub fn printed_reference(r: &str) -> String {
    match ReferenceType::of(r) {
        Some(ReferenceType::Qrr) => group(r, 5, true),
        _ => group(r, 4, false),
    }
}

/// Whether every character of `s` is in the QR-bill's character set (version 2.3, "extended
/// Latin": printable ASCII, Latin-1, Latin Extended-A, Ș ș Ț ț and €).
pub fn in_character_set(s: &str) -> bool {
    s.chars().all(in_set)
}

/// Whether `c` is in the QR-bill's character set.
pub fn in_set(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xFF | 0x100..=0x17F | 0x218..=0x21B | 0x20AC)
}

/// A structured address (address type `S`), as the QR-bill takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[schema(min_length = 1, max_length = 70)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 70)]
    pub street: Option<String>,
    #[serde(default)]
    #[schema(max_length = 16)]
    pub house_number: Option<String>,
    #[schema(min_length = 1, max_length = 16)]
    pub postal_code: String,
    #[schema(min_length = 1, max_length = 35)]
    pub town: String,
    /// ISO 3166-1 alpha-2, e.g. `CH`.
    #[schema(min_length = 2, max_length = 2, pattern = "^[A-Z]{2}$")]
    pub country: String,
}

impl Address {
    /// What is wrong with it, as (field, code): each field within its length and the
    /// character set, the country two capital letters.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        let mut field = |name: &'static str, v: &str, min: usize, max: usize| {
            let n = v.chars().count();
            if n < min {
                out.push((name, "required"));
            } else if n > max {
                out.push((name, "too_long"));
            } else if !in_character_set(v) {
                out.push((name, "character_set"));
            }
        };
        field("name", &self.name, 1, 70);
        field("street", self.street.as_deref().unwrap_or(""), 0, 70);
        field("house_number", self.house_number.as_deref().unwrap_or(""), 0, 16);
        field("postal_code", &self.postal_code, 1, 16);
        field("town", &self.town, 1, 35);
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            out.push(("country", "format"));
        }
        out
    }

    /// The address's seven payload lines.
    fn lines(&self) -> [String; 7] {
        [
            "S".into(),
            one_line(&self.name),
            one_line(self.street.as_deref().unwrap_or("")),
            one_line(self.house_number.as_deref().unwrap_or("")),
            one_line(&self.postal_code),
            one_line(&self.town),
            self.country.clone(),
        ]
    }
}

/// A value on one line of the payload (a line break inside would shift every later field).
fn one_line(s: &str) -> String {
    s.trim().replace(['\r', '\n'], " ")
}

/// An amount in Rappen as the payload and the bill write it: `1949.75`.
pub fn amount_text(rappen: i64) -> String {
    format!("{}.{:02}", rappen / 100, rappen % 100)
}

/// An amount as printed on the bill, with a space between thousands: `1 949.75`.
pub fn amount_printed(rappen: i64) -> String {
    let francs = (rappen / 100).to_string();
    format!("{}.{:02}", group(&francs, 3, true), rappen % 100)
}

/// The highest amount a QR-bill takes, in Rappen (999,999,999.99).
pub const AMOUNT_MAX: i64 = 99_999_999_999;

/// What a bill says, enough to write its Swiss QR Code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub account: Iban,
    pub creditor: Address,
    /// Rappen; `None` leaves the amount open (the payer writes it).
    pub amount: Option<i64>,
    /// `CHF` or `EUR`.
    pub currency: String,
    /// The payer, when known; the "payable by" box stays blank otherwise.
    pub debtor: Option<Address>,
    pub reference: String,
    /// The unstructured message (at most 140 characters).
    pub message: Option<String>,
}

impl Bill {
    /// The Swiss QR Code's text: the 31 lines joined by CR LF, nothing after `EPD`.
    pub fn payload(&self) -> String {
        let mut lines: Vec<String> = Vec::with_capacity(31);
        lines.extend(["SPC", "0200", "1"].map(String::from));
        lines.push(self.account.as_str().to_string());
        lines.extend(self.creditor.lines());
        lines.extend(std::iter::repeat_n(String::new(), 7)); // ultimate creditor: for future use
        lines.push(self.amount.map(amount_text).unwrap_or_default());
        lines.push(self.currency.clone());
        match &self.debtor {
            Some(d) => lines.extend(d.lines()),
            None => lines.extend(std::iter::repeat_n(String::new(), 7)),
        }
        let kind = ReferenceType::of(&self.reference)
            .map(ReferenceType::as_str)
            .unwrap_or("NON");
        lines.push(kind.to_string());
        lines.push(self.reference.clone());
        lines.push(self.message.as_deref().map(one_line).unwrap_or_default());
        lines.push("EPD".into());
        lines.join("\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_references_check_digit_modulo_10_recursive() {
        // the implementation guidelines' example: 21 00000 00003 13947 14300 09017
        assert_eq!(
            qr_reference("21000000000313947143000901").as_deref(),
            Some("210000000003139471430009017")
        );
        assert!(is_qr_reference("210000000003139471430009017"));
        assert!(!is_qr_reference("210000000003139471430009018"));
        assert_eq!(qr_reference("1234").as_deref(), Some("000000000000000000000012347"));
        assert!(!is_qr_reference(&"0".repeat(27)));
        assert_eq!(qr_reference(""), None);
        assert_eq!(qr_reference("12a"), None);
        assert_eq!(
            group("210000000003139471430009017", 5, true),
            "21 00000 00003 13947 14300 09017"
        );
    }

    #[test]
    fn creditor_references_after_iso_11649() {
        // ISO 11649's example: RF18 5390 0754 7034
        assert_eq!(creditor_reference("539007547034").as_deref(), Some("RF18539007547034"));
        assert!(is_creditor_reference("RF18539007547034"));
        assert!(!is_creditor_reference("RF19539007547034"));
        assert!(is_creditor_reference(&normalise_reference("rf18 5390 0754 7034")));
        assert_eq!(creditor_reference(&"A".repeat(22)), None);
        assert_eq!(printed_reference("RF18539007547034"), "RF18 5390 0754 7034");
    }

    #[test]
    fn ibans_of_switzerland_and_their_kind() {
        let qr = Iban::parse("CH44 3199 9123 0008 8901 2").unwrap();
        assert!(qr.is_qr_iban());
        assert_eq!(qr.reference_type(), ReferenceType::Qrr);
        assert_eq!(qr.grouped(), "CH44 3199 9123 0008 8901 2");
        let plain = Iban::parse("CH5800791123000889012").unwrap();
        assert!(!plain.is_qr_iban());
        assert_eq!(Iban::parse("CH4431999123000889013"), None, "check digits");
        assert_eq!(
            Iban::parse("DE89370400440532013000"),
            None,
            "Swiss and Liechtenstein only"
        );
    }

    #[test]
    fn amounts_and_the_character_set() {
        assert_eq!(amount_text(194975), "1949.75");
        assert_eq!(amount_text(5), "0.05");
        assert_eq!(amount_printed(194975), "1 949.75");
        assert_eq!(amount_printed(99_999_999_999), "999 999 999.99");
        assert!(in_character_set("Zoë Ørsted-Čapek, Rue du Lac 12, €"));
        assert!(!in_character_set("Иван"));
        assert!(!in_character_set("tab\there"));
    }

    #[test]
    fn the_payload_of_the_guidelines_example() {
        let bill = Bill {
            account: Iban::parse("CH4431999123000889012").unwrap(),
            creditor: Address {
                name: "Robert Schneider AG".into(),
                street: Some("Rue du Lac".into()),
                house_number: Some("1268".into()),
                postal_code: "2501".into(),
                town: "Biel".into(),
                country: "CH".into(),
            },
            amount: Some(194975),
            currency: "CHF".into(),
            debtor: Some(Address {
                name: "Pia-Maria Rutschmann-Schnyder".into(),
                street: Some("Grosse Marktgasse".into()),
                house_number: Some("28".into()),
                postal_code: "9400".into(),
                town: "Rorschach".into(),
                country: "CH".into(),
            }),
            reference: "210000000003139471430009017".into(),
            message: Some("Auftrag vom 15.06.2020".into()),
        };
        let p = bill.payload();
        let lines: Vec<&str> = p.split("\r\n").collect();
        assert_eq!(lines.len(), 31);
        assert_eq!(
            &lines[..6],
            ["SPC", "0200", "1", "CH4431999123000889012", "S", "Robert Schneider AG"]
        );
        assert!(lines[11..18].iter().all(|l| l.is_empty()), "no ultimate creditor");
        assert_eq!(&lines[18..21], ["1949.75", "CHF", "S"]);
        assert_eq!(
            &lines[27..],
            ["QRR", "210000000003139471430009017", "Auftrag vom 15.06.2020", "EPD"]
        );
        assert!(!p.ends_with('\n'));
    }
}

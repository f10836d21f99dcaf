//! Applying on behalf of someone: an organisation (a fiduciary, an architect) applies for a
//! person or another organisation, where the service allows it, optionally with a power of
//! attorney. No I/O here.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalogue::{ApplicantKind, Audience};
use super::forms::{is_ch_postal_code, is_uid};
use super::messages::Msg;
use super::FieldError;
use crate::msg;

/// Whether a service takes applications made on behalf of someone else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Representation {
    /// Only for oneself (or one's organisation).
    #[default]
    None,
    /// An organisation may apply for someone else.
    Allowed,
    /// Likewise, with a document giving the power of attorney, by submission.
    PowerOfAttorney,
}

impl Representation {
    pub fn is_none(&self) -> bool {
        *self == Representation::None
    }
}

/// Who is represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepresentedKind {
    Person,
    Organisation,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    #[schema(example = "Hofstettenstrasse", max_length = 200)]
    pub street: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "14", max_length = 20)]
    pub house_number: Option<String>,
    #[schema(example = "3600", max_length = 10)]
    pub postal_code: String,
    #[schema(example = "Thun", max_length = 100)]
    pub city: String,
    /// ISO 3166-1 alpha-2; Switzerland when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "CH", pattern = "^[A-Z]{2}$", max_length = 2)]
    pub country: Option<String>,
}

/// The party an application is made for, by the organisation that applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnBehalfOf {
    pub kind: RepresentedKind,
    /// The person's full name, or the organisation's.
    #[schema(example = "Maria Beispiel", max_length = 200)]
    pub name: String,
    pub address: PostalAddress,
    /// The organisation's UID (with its check digit), for an organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "CHE-116.281.710",
        pattern = r"^CHE-[0-9]{3}\.[0-9]{3}\.[0-9]{3}$",
        max_length = 15
    )]
    pub uid: Option<String>,
    /// The id of a document of this application giving the power of attorney (in a
    /// multipart create, the name of its part). Required by submission where the service asks
    /// for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255)]
    pub power_of_attorney: Option<String>,
}

fn text(errors: &mut Vec<FieldError>, at: &str, value: &str, max: usize) {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        errors.push(FieldError::new(at, "length", msg!("1 to {max} characters", max = max)));
    }
}

impl OnBehalfOf {
    /// Every field error, with pointers under `at` (`/applicant/on_behalf_of`).
    pub fn check(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        text(&mut errors, &format!("{at}/name"), &self.name, 200);
        let a = &self.address;
        text(&mut errors, &format!("{at}/address/street"), &a.street, 200);
        text(&mut errors, &format!("{at}/address/city"), &a.city, 100);
        if let Some(n) = &a.house_number {
            text(&mut errors, &format!("{at}/address/house_number"), n, 20);
        }
        let country = a.country.as_deref().unwrap_or("CH");
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new(
                format!("{at}/address/country"),
                "format",
                msg!("an ISO 3166-1 alpha-2 country code such as CH"),
            ));
        }
        let postal_ok = if country == "CH" {
            is_ch_postal_code(&a.postal_code)
        } else {
            (3..=10).contains(&a.postal_code.len())
        };
        if !postal_ok {
            errors.push(FieldError::new(
                format!("{at}/address/postal_code"),
                "format",
                msg!("not a postal code of this country"),
            ));
        }
        match (self.kind, &self.uid) {
            (RepresentedKind::Organisation, Some(uid)) if !is_uid(uid) => errors.push(FieldError::new(
                format!("{at}/uid"),
                "format",
                msg!("not a valid UID (CHE-116.281.710 with its check digit)"),
            )),
            (RepresentedKind::Person, Some(_)) => errors.push(FieldError::new(
                format!("{at}/uid"),
                "not_allowed",
                msg!("a person has no UID"),
            )),
            _ => {}
        }
        errors
    }

    /// Who the service's audience must admit: the represented party, not the representative.
    pub fn applicant_kind(&self) -> ApplicantKind {
        match self.kind {
            RepresentedKind::Person => ApplicantKind::Person,
            RepresentedKind::Organisation => ApplicantKind::Organisation,
        }
    }
}

/// Whether `applicant` may apply on behalf of `party` for a service with this representation
/// rule and audience: only an organisation represents, only where the service allows it, and
/// the service must be for the represented party.
pub fn may_represent(
    rule: Representation,
    applicant: ApplicantKind,
    party: &OnBehalfOf,
    audience: &[Audience],
) -> Result<(), Msg> {
    if applicant != ApplicantKind::Organisation {
        return Err(msg!(
            "only an organisation applies on behalf of someone else; apply for your organisation (applicant.organisation)"
        ));
    }
    if rule.is_none() {
        return Err(msg!(
            "this service does not take applications made on behalf of someone else"
        ));
    }
    party.applicant_kind().admitted_by(audience)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> OnBehalfOf {
        OnBehalfOf {
            kind: RepresentedKind::Person,
            name: "Maria Beispiel".into(),
            address: PostalAddress {
                street: "Hofstettenstrasse".into(),
                house_number: Some("14".into()),
                postal_code: "3600".into(),
                city: "Thun".into(),
                country: None,
            },
            uid: None,
            power_of_attorney: None,
        }
    }

    #[test]
    fn organisations_represent_where_the_service_allows_it_for_its_audience() {
        use ApplicantKind::{Organisation as Org, Person};
        let residents = [Audience::Resident];
        let p = person();
        assert!(may_represent(Representation::Allowed, Org, &p, &residents).is_ok());
        assert!(may_represent(Representation::PowerOfAttorney, Org, &p, &residents).is_ok());
        assert!(may_represent(Representation::None, Org, &p, &residents).is_err());
        assert!(may_represent(Representation::Allowed, Person, &p, &residents).is_err());
        let firm = OnBehalfOf {
            kind: RepresentedKind::Organisation,
            uid: Some("CHE-116.281.710".into()),
            ..person()
        };
        assert!(may_represent(Representation::Allowed, Org, &firm, &residents).is_err());
        assert!(may_represent(Representation::Allowed, Org, &firm, &[Audience::Business]).is_ok());
    }

    #[test]
    fn the_represented_party_is_checked() {
        assert!(person().check("/x").is_empty());
        let mut bad = person();
        bad.name = " ".into();
        bad.address.postal_code = "99".into();
        bad.uid = Some("CHE-116.281.710".into());
        let pointers: Vec<String> = bad.check("/x").into_iter().map(|e| e.pointer).collect();
        assert_eq!(pointers, ["/x/name", "/x/address/postal_code", "/x/uid"]);
    }
}

//! Fees billed: how a service version computes what an application costs, when it is billed,
//! and which move waits for the payment; who is paid (a department's creditor account); and
//! the reference a bill carries. No I/O here.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::application::Phase;
use super::qrbill::{self, Address, Iban, ReferenceType, AMOUNT_MAX};
use super::FieldError;
use crate::msg;

/// How an application's amount is computed, in Rappen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AmountRule {
    /// The same amount for every application.
    Fixed {
        #[schema(minimum = 0, maximum = 99999999999_i64)]
        amount: i64,
    },
    /// An amount per unit, the number of units read from a form field (an integer), e.g. the
    /// days of a parking permit.
    PerUnit {
        #[schema(minimum = 0, maximum = 99999999999_i64)]
        unit_amount: i64,
        /// JSON pointer to the form field with the quantity.
        #[schema(max_length = 1024)]
        quantity: String,
        /// At most this many units are billed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(minimum = 1, maximum = 1000000)]
        max_units: Option<i64>,
    },
    /// The amount for the option chosen in a form field, e.g. a permit's duration: every
    /// option the form offers has its amount.
    Choice {
        /// JSON pointer to the form field.
        #[schema(max_length = 1024)]
        field: String,
        /// The amount per option (the field's value).
        #[schema(min_items = 1, max_items = 100)]
        amounts: Vec<OptionAmount>,
    },
    /// The amount of the first tier whose `up_to` is at least the value of a form field (a
    /// number); the last tier may have no `up_to`, for everything above.
    Tiers {
        /// JSON pointer to the form field with the value.
        #[schema(max_length = 1024)]
        field: String,
        #[schema(min_items = 1, max_items = 50)]
        tiers: Vec<Tier>,
    },
}

/// The amount of one option of a form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionAmount {
    /// The field's value, e.g. `12_months`.
    #[schema(max_length = 200)]
    pub value: String,
    #[schema(minimum = 0, maximum = 99999999999_i64)]
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The highest value of this tier (inclusive); absent on a last tier for all above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<f64>,
    #[schema(minimum = 0, maximum = 99999999999_i64)]
    pub amount: i64,
}

/// When the bill is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BilledWhen {
    /// When the application is submitted.
    OnSubmission,
    /// When the department approves it.
    OnApproval,
}

/// Where the payer's name and address are in the form (JSON pointers); the bill's "payable
/// by" is left blank when a field is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DebtorFields {
    /// The name; with `first_name`, the first name goes first.
    #[schema(max_length = 1024)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub house_number: Option<String>,
    #[schema(max_length = 1024)]
    pub postal_code: String,
    #[schema(max_length = 1024)]
    pub town: String,
    /// The country's field; Switzerland when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub country: Option<String>,
}

/// How a service version bills its fee (beside the descriptive `fee`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Billing {
    pub amount: AmountRule,
    pub billed: BilledWhen,
    /// The move that waits for the payment (`approved` or `completed`): answered 409 while the
    /// bill is not paid (or waived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_before: Option<Phase>,
    /// Days from the bill to its due date (30 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 365)]
    pub due_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor: Option<DebtorFields>,
}

/// A department's account, to which its bills are paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Creditor {
    #[schema(min_length = 1, max_length = 70)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 70)]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 16)]
    pub house_number: Option<String>,
    #[schema(min_length = 1, max_length = 16)]
    pub postal_code: String,
    #[schema(min_length = 1, max_length = 35)]
    pub town: String,
    /// ISO 3166-1 alpha-2, e.g. `CH`.
    #[schema(min_length = 2, max_length = 2, pattern = "^[A-Z]{2}$")]
    pub country: String,
    /// IBAN or QR-IBAN of Switzerland or Liechtenstein; a QR-IBAN's bills carry QR references,
    /// another's creditor references (ISO 11649).
    #[schema(min_length = 21, max_length = 26)]
    pub iban: String,
    /// Digits the bank puts before every QR reference of this account (some banks give one,
    /// up to 6 digits); QR-IBAN only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 6, pattern = "^[0-9]{1,6}$")]
    pub reference_prefix: Option<String>,
    /// Whether the city confirmed the account (the seed's example account is not).
    #[serde(default)]
    pub verified: bool,
}

pub const DUE_DAYS: u32 = 30;

super::stored_text! {
    /// Where a bill stands.
    pub enum InvoiceStatus {
        /// Not paid yet.
        Due = "due",
        /// Less than the amount arrived.
        PartiallyPaid = "partially_paid",
        /// The amount (or more) arrived.
        Paid = "paid",
        /// A clerk waived it.
        Waived = "waived",
        /// Paid and paid back.
        Refunded = "refunded",
    }
}

impl InvoiceStatus {
    /// Whether processing that waits for the payment may go on.
    pub fn settled(self) -> bool {
        matches!(self, InvoiceStatus::Paid | InvoiceStatus::Waived)
    }

    /// After a payment: paid once the paid amount reaches the amount.
    pub fn after_payment(amount: i64, paid: i64) -> InvoiceStatus {
        if paid >= amount {
            InvoiceStatus::Paid
        } else if paid > 0 {
            InvoiceStatus::PartiallyPaid
        } else {
            InvoiceStatus::Due
        }
    }
}

/// The state of an application's bill, as the application shows it (kept on its row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PaymentState {
    /// The bill.
    pub invoice: uuid::Uuid,
    /// `due`, `partially_paid`, `paid`, `waived` or `refunded`.
    #[schema(max_length = 16)]
    pub status: String,
    /// Rappen (minor units): 2000 is CHF 20.00.
    #[schema(minimum = 0, maximum = 99999999999_i64)]
    pub amount: i64,
    #[schema(minimum = 0, maximum = 99999999999_i64)]
    pub paid_amount: i64,
    #[schema(max_length = 3)]
    pub currency: String,
    #[schema(value_type = String, format = Date)]
    pub due_on: chrono::NaiveDate,
    /// The payment reference (QR reference or creditor reference), without spaces.
    #[schema(max_length = 27)]
    pub reference: String,
}

impl Billing {
    pub fn due_days(&self) -> u32 {
        self.due_days.unwrap_or(DUE_DAYS)
    }

    /// Checks the rule against the version's form; problems go to `errors` under `p`.
    pub fn validate(&self, form: &Value, p: &str, errors: &mut Vec<FieldError>) {
        let field = |ptr: &str, at: String, errors: &mut Vec<FieldError>| {
            if !super::requests::is_form_field(form, ptr) {
                errors.push(FieldError::new(at, "unknown_field", msg!("not a field of the form")));
            }
        };
        let amount = |a: i64, at: String, errors: &mut Vec<FieldError>| {
            if !(0..=AMOUNT_MAX).contains(&a) {
                errors.push(FieldError::new(
                    at,
                    "range",
                    msg!("between 0 and {max} Rappen", max = AMOUNT_MAX),
                ));
            }
        };
        match &self.amount {
            AmountRule::Fixed { amount: a } => amount(*a, format!("{p}/amount/amount"), errors),
            AmountRule::PerUnit {
                unit_amount,
                quantity,
                max_units,
            } => {
                amount(*unit_amount, format!("{p}/amount/unit_amount"), errors);
                field(quantity, format!("{p}/amount/quantity"), errors);
                if max_units.is_some_and(|m| !(1..=1_000_000).contains(&m)) {
                    errors.push(FieldError::new(
                        format!("{p}/amount/max_units"),
                        "range",
                        msg!("between {min} and {max}", min = 1, max = 1_000_000),
                    ));
                }
            }
            AmountRule::Choice { field: f, amounts } => {
                field(f, format!("{p}/amount/field"), errors);
                if amounts.is_empty() || amounts.len() > 100 {
                    errors.push(FieldError::new(
                        format!("{p}/amount/amounts"),
                        "length",
                        msg!("between {min} and {max} options", min = 1, max = 100),
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                for (i, o) in amounts.iter().enumerate() {
                    amount(o.amount, format!("{p}/amount/amounts/{i}/amount"), errors);
                    if !seen.insert(o.value.as_str()) || o.value.chars().count() > 200 {
                        errors.push(FieldError::new(
                            format!("{p}/amount/amounts/{i}/value"),
                            "duplicate",
                            msg!("each option once, at most 200 characters"),
                        ));
                    }
                }
            }
            AmountRule::Tiers { field: f, tiers } => {
                field(f, format!("{p}/amount/field"), errors);
                if tiers.is_empty() || tiers.len() > 50 {
                    errors.push(FieldError::new(
                        format!("{p}/amount/tiers"),
                        "length",
                        msg!("between {min} and {max} tiers", min = 1, max = 50),
                    ));
                }
                let mut last: Option<f64> = None;
                for (i, t) in tiers.iter().enumerate() {
                    amount(t.amount, format!("{p}/amount/tiers/{i}/amount"), errors);
                    let open = t.up_to.is_none();
                    let rising = match (last, t.up_to) {
                        (Some(a), Some(b)) => b > a && b.is_finite(),
                        (_, Some(b)) => b.is_finite(),
                        (_, None) => i + 1 == tiers.len(),
                    };
                    if !rising {
                        errors.push(FieldError::new(
                            format!("{p}/amount/tiers/{i}/up_to"),
                            "order",
                            msg!("tiers rise, and only the last may have no upper bound"),
                        ));
                    }
                    if !open {
                        last = t.up_to;
                    }
                }
            }
        }
        if self.billed == BilledWhen::OnApproval && self.payment_before == Some(Phase::Approved) {
            errors.push(FieldError::new(
                format!("{p}/payment_before"),
                "not_allowed",
                msg!("a bill made at approval can only be awaited by completed"),
            ));
        }
        if let Some(to) = self.payment_before {
            if !matches!(to, Phase::Approved | Phase::Completed) {
                errors.push(FieldError::new(
                    format!("{p}/payment_before"),
                    "not_allowed",
                    msg!("approved or completed"),
                ));
            }
        }
        if self.due_days.is_some_and(|d| d > 365) {
            errors.push(FieldError::new(
                format!("{p}/due_days"),
                "range",
                msg!("between {min} and {max} days", min = 0, max = 365),
            ));
        }
        if let Some(d) = &self.debtor {
            let pointers = [
                ("name", Some(&d.name)),
                ("first_name", d.first_name.as_ref()),
                ("street", d.street.as_ref()),
                ("house_number", d.house_number.as_ref()),
                ("postal_code", Some(&d.postal_code)),
                ("town", Some(&d.town)),
                ("country", d.country.as_ref()),
            ];
            for (name, ptr) in pointers {
                if let Some(ptr) = ptr {
                    field(ptr, format!("{p}/debtor/{name}"), errors);
                }
            }
        }
    }

    /// The amount for an application's form data, in Rappen; the error names the form field
    /// that does not give one.
    pub fn amount(&self, data: &Value) -> Result<i64, FieldError> {
        let bad = |ptr: &str| {
            FieldError::new(
                format!("/data{ptr}"),
                "billing",
                msg!("the fee is computed from this field, which has no value it is priced for"),
            )
        };
        let total = match &self.amount {
            AmountRule::Fixed { amount } => *amount,
            AmountRule::PerUnit {
                unit_amount,
                quantity,
                max_units,
            } => {
                let units = data
                    .pointer(quantity)
                    .and_then(Value::as_i64)
                    .filter(|u| *u >= 0)
                    .ok_or_else(|| bad(quantity))?;
                let units = max_units.map_or(units, |m| units.min(m));
                units.saturating_mul(*unit_amount)
            }
            AmountRule::Choice { field, amounts } => {
                let chosen = data.pointer(field).and_then(Value::as_str).ok_or_else(|| bad(field))?;
                amounts
                    .iter()
                    .find(|o| o.value == chosen)
                    .map(|o| o.amount)
                    .ok_or_else(|| bad(field))?
            }
            AmountRule::Tiers { field, tiers } => {
                let v = data.pointer(field).and_then(Value::as_f64).ok_or_else(|| bad(field))?;
                tiers
                    .iter()
                    .find(|t| t.up_to.is_none_or(|u| v <= u))
                    .map(|t| t.amount)
                    .ok_or_else(|| bad(field))?
            }
        };
        if total > AMOUNT_MAX {
            return Err(bad(match &self.amount {
                AmountRule::PerUnit { quantity, .. } => quantity,
                _ => "",
            }));
        }
        Ok(total)
    }

    /// The payer named by the form, when every required field is filled and fits a bill.
    pub fn debtor(&self, data: &Value) -> Option<Address> {
        let d = self.debtor.as_ref()?;
        let text = |ptr: &str| {
            data.pointer(ptr)
                .and_then(|v| match v {
                    Value::String(s) => Some(s.trim().to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|s| !s.is_empty())
        };
        let opt = |ptr: &Option<String>| ptr.as_deref().and_then(text);
        let name = match opt(&d.first_name) {
            Some(first) => format!("{first} {}", text(&d.name)?),
            None => text(&d.name)?,
        };
        let address = Address {
            name,
            street: opt(&d.street),
            house_number: opt(&d.house_number),
            postal_code: text(&d.postal_code)?,
            town: text(&d.town)?,
            country: opt(&d.country).map_or_else(|| "CH".to_string(), |c| c.to_ascii_uppercase()),
        };
        address.problems().is_empty().then_some(address)
    }
}

impl Creditor {
    /// The account holder's address, as the bill shows it.
    pub fn address(&self) -> Address {
        Address {
            name: self.name.clone(),
            street: self.street.clone(),
            house_number: self.house_number.clone(),
            postal_code: self.postal_code.clone(),
            town: self.town.clone(),
            country: self.country.clone(),
        }
    }

    pub fn validate(&self, p: &str, errors: &mut Vec<FieldError>) {
        for (field, code) in self.address().problems() {
            errors.push(FieldError::new(
                format!("{p}/{field}"),
                code,
                msg!("not a valid part of a QR-bill address"),
            ));
        }
        match Iban::parse(&self.iban) {
            None => errors.push(FieldError::new(
                format!("{p}/iban"),
                "format",
                msg!("not an IBAN of Switzerland or Liechtenstein"),
            )),
            Some(iban) => {
                if self.reference_prefix.is_some() && !iban.is_qr_iban() {
                    errors.push(FieldError::new(
                        format!("{p}/reference_prefix"),
                        "not_allowed",
                        msg!("only with a QR-IBAN"),
                    ));
                }
            }
        }
        if let Some(prefix) = &self.reference_prefix {
            if prefix.is_empty() || prefix.len() > 6 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(FieldError::new(
                    format!("{p}/reference_prefix"),
                    "format",
                    msg!("1 to 6 digits"),
                ));
            }
        }
    }

    pub fn iban(&self) -> Option<Iban> {
        Iban::parse(&self.iban)
    }
}

/// The reference of the bill of an application, from its reference (`THU-2026-7Q4KM2XD-J`)
/// and the bill's number on it (1, 2, ...): to a QR-IBAN a QR reference (the account's
/// prefix, the year, the code as a number, the bill's number), to another IBAN a creditor
/// reference (`RF..` + year + code + number). The same application and number always give the
/// same reference, and two applications never share one.
pub fn bill_reference(
    kind: ReferenceType,
    prefix: Option<&str>,
    application_reference: &str,
    number: u32,
) -> Option<String> {
    let parts: Vec<&str> = application_reference.split('-').collect();
    let [_, year, code, _] = parts.as_slice() else {
        return None;
    };
    let number = number.min(99);
    match kind {
        ReferenceType::Qrr => {
            const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
            let mut n: u64 = 0;
            for c in code.chars() {
                n = n * 32 + CROCKFORD.find(c)? as u64;
            }
            // the account's prefix first (a bank's customer id), then year (4) + the code's 40
            // bits (13 digits) + number (2), zero-padded to the 26 digits before the check digit
            let prefix = prefix.unwrap_or("");
            let body = format!("{year}{n:013}{number:02}");
            let width = 26usize.checked_sub(prefix.len())?;
            qrbill::qr_reference(&format!("{prefix}{body:0>width$}"))
        }
        ReferenceType::Scor => qrbill::creditor_reference(&format!("{year}{code}{number:02}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> Value {
        json!({"type": "object", "properties": {
            "days": {"type": "integer"}, "area": {"type": "number"}, "duration": {"type": "string"},
            "last_name": {"type": "string"}, "first_name": {"type": "string"},
            "address": {"type": "object", "properties": {"street": {"type": "string"}, "postal_code": {"type": "string"}, "city": {"type": "string"}}}
        }})
    }

    #[test]
    fn amounts_fixed_per_unit_and_by_tiers() {
        let fixed: Billing =
            serde_json::from_value(json!({"amount": {"kind": "fixed", "amount": 3000}, "billed": "on_submission"}))
                .unwrap();
        assert_eq!(fixed.amount(&json!({})), Ok(3000));
        let per_day: Billing = serde_json::from_value(json!({"amount": {"kind": "per_unit", "unit_amount": 500, "quantity": "/days", "max_units": 30}, "billed": "on_submission"})).unwrap();
        assert_eq!(per_day.amount(&json!({"days": 3})), Ok(1500));
        assert_eq!(per_day.amount(&json!({"days": 90})), Ok(15000), "at most 30 days");
        let e = per_day.amount(&json!({"days": "drei"})).unwrap_err();
        assert_eq!(e.pointer, "/data/days");
        let tiers: Billing = serde_json::from_value(json!({"amount": {"kind": "tiers", "field": "/area", "tiers": [
            {"up_to": 100, "amount": 20000}, {"up_to": 500, "amount": 50000}, {"amount": 100000}]}, "billed": "on_approval"})).unwrap();
        assert_eq!(tiers.amount(&json!({"area": 100})), Ok(20000));
        assert_eq!(tiers.amount(&json!({"area": 100.5})), Ok(50000));
        assert_eq!(tiers.amount(&json!({"area": 9999})), Ok(100000));
        let choice: Billing = serde_json::from_value(json!({"amount": {"kind": "choice", "field": "/duration",
            "amounts": [{"value": "1_month", "amount": 4000}, {"value": "12_months", "amount": 36000}]}, "billed": "on_submission", "payment_before": "approved"})).unwrap();
        assert_eq!(choice.amount(&json!({"duration": "12_months"})), Ok(36000));
        assert_eq!(
            choice.amount(&json!({"duration": "2_months"})).unwrap_err().pointer,
            "/data/duration"
        );
        let mut errors = Vec::new();
        for b in [&fixed, &per_day, &tiers, &choice] {
            b.validate(&form(), "/billing", &mut errors);
        }
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_bad_rule_is_refused_with_pointers() {
        let b: Billing = serde_json::from_value(json!({"amount": {"kind": "tiers", "field": "/nowhere", "tiers": [
            {"amount": 1}, {"up_to": 5, "amount": -1}]}, "billed": "on_submission", "payment_before": "in_review"}))
        .unwrap();
        let mut errors = Vec::new();
        b.validate(&form(), "/billing", &mut errors);
        let at: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            at,
            [
                "/billing/amount/field",
                "/billing/amount/tiers/0/up_to",
                "/billing/amount/tiers/1/amount",
                "/billing/payment_before"
            ]
        );
    }

    #[test]
    fn the_payer_from_the_form() {
        let b: Billing = serde_json::from_value(json!({"amount": {"kind": "fixed", "amount": 1}, "billed": "on_submission",
            "debtor": {"name": "/last_name", "first_name": "/first_name", "street": "/address/street", "postal_code": "/address/postal_code", "town": "/address/city"}})).unwrap();
        let data = json!({"last_name": "Muster", "first_name": "Anna", "address": {"street": "Hofstettenstrasse 14", "postal_code": "3600", "city": "Thun"}});
        let d = b.debtor(&data).unwrap();
        assert_eq!(
            (d.name.as_str(), d.town.as_str(), d.country.as_str()),
            ("Anna Muster", "Thun", "CH")
        );
        assert_eq!(b.debtor(&json!({"last_name": "Muster"})), None, "no town: blank");
    }

    #[test]
    fn bill_references_are_derived_from_the_application() {
        let qrr = bill_reference(ReferenceType::Qrr, None, "THU-2026-7Q4KM2XD-J", 1).unwrap();
        assert!(qrbill::is_qr_reference(&qrr), "{qrr}");
        assert!(qrr[..26].ends_with("01"));
        let prefixed = bill_reference(ReferenceType::Qrr, Some("210000"), "THU-2026-7Q4KM2XD-J", 1).unwrap();
        assert!(prefixed.starts_with("21000002026"), "{prefixed}");
        let other = bill_reference(ReferenceType::Qrr, None, "THU-2026-7Q4KM2XE-J", 1).unwrap();
        assert_ne!(qrr, other);
        let scor = bill_reference(ReferenceType::Scor, None, "THU-2026-7Q4KM2XD-J", 1).unwrap();
        assert!(qrbill::is_creditor_reference(&scor), "{scor}");
        assert!(scor.ends_with("20267Q4KM2XD01"));
        assert_eq!(bill_reference(ReferenceType::Scor, None, "nonsense", 1), None);
    }

    #[test]
    fn creditors_are_checked() {
        let c: Creditor = serde_json::from_value(json!({"name": "Stadt Thun", "street": "Hofstettenstrasse", "house_number": "14",
            "postal_code": "3600", "town": "Thun", "country": "CH", "iban": "CH44 3199 9123 0008 8901 2", "reference_prefix": "123"})).unwrap();
        let mut errors = Vec::new();
        c.validate("/creditor", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let bad: Creditor = serde_json::from_value(
            json!({"name": "", "postal_code": "3600", "town": "Thun", "country": "ch",
            "iban": "CH5800791123000889012", "reference_prefix": "123"}),
        )
        .unwrap();
        bad.validate("/creditor", &mut errors);
        let at: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            at,
            ["/creditor/name", "/creditor/country", "/creditor/reference_prefix"]
        );
    }
}

/// Whether a payment the bank reported pays a bill (stored as text on the payment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMatch {
    Matched,
    Unmatched,
}

impl PaymentMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMatch::Matched => "matched",
            PaymentMatch::Unmatched => "unmatched",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMatch> {
        [PaymentMatch::Matched, PaymentMatch::Unmatched]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

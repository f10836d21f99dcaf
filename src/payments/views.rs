//! The answers about payments.
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::payments::PaymentRow;

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// The notification recorded.
    pub notification: uuid::Uuid,
    /// `GrpHdr/MsgId` of the document.
    #[schema(max_length = 35)]
    pub message_id: String,
    /// `04` or `08` (camt.054.001.04 or .001.08).
    #[schema(max_length = 2)]
    pub version: &'static str,
    /// Credits in the document (booked, credited, not reversed).
    #[schema(minimum = 0, maximum = 1000000)]
    pub credits: i64,
    /// Credits recorded now.
    #[schema(minimum = 0, maximum = 1000000)]
    pub recorded: i64,
    /// Credits recorded by an earlier import (the same file or entry again): nothing twice.
    #[schema(minimum = 0, maximum = 1000000)]
    pub already_recorded: i64,
    /// Recorded and matched to a bill.
    #[schema(minimum = 0, maximum = 1000000)]
    pub matched: i64,
    /// Recorded and not matched: for finance to assign or return.
    #[schema(max_items = 1000000)]
    pub unmatched: Vec<ReceivedPayment>,
}

/// A payment the bank reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedPayment {
    pub id: uuid::Uuid,
    /// The bank's reference of the transaction.
    #[schema(max_length = 100)]
    pub bank_reference: String,
    /// `matched` or `unmatched`.
    #[schema(max_length = 16)]
    pub status: String,
    /// Why it is unmatched: `unknown_reference`, `no_reference`, `currency`, `settled` (the bill
    /// was paid or waived already).
    #[schema(max_length = 32)]
    pub reason: Option<String>,
    /// The bill it paid.
    pub invoice: Option<uuid::Uuid>,
    /// Minor units (Rappen).
    #[schema(minimum = 1, maximum = 99999999999_i64)]
    pub amount: i64,
    #[schema(max_length = 3)]
    pub currency: String,
    #[schema(value_type = String, format = Date)]
    pub booking_date: NaiveDate,
    #[schema(max_length = 35)]
    pub reference: Option<String>,
    /// The payer's name, as the bank reported it.
    #[schema(max_length = 140)]
    pub debtor: Option<String>,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// When finance assigned it to its bill by hand (absent when matched by its reference).
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub assigned_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who assigned it (`staff:<account id>` or `client:<client id>`).
    #[schema(max_length = 200)]
    pub assigned_by: Option<String>,
}

pub fn payment(p: &PaymentRow) -> ReceivedPayment {
    ReceivedPayment {
        id: p.id.0,
        bank_reference: p.bank_reference.clone(),
        status: p.status.clone(),
        reason: p.reason.clone(),
        invoice: p.invoice_id.map(|i| i.0),
        amount: p.amount,
        currency: p.currency.clone(),
        booking_date: p.booking_date.0.date_naive(),
        reference: p.reference.clone(),
        debtor: p.debtor.clone(),
        recorded_at: p.recorded_at.0,
        assigned_at: p.matched_at.map(|t| t.0),
        assigned_by: p.matched_by.clone(),
    }
}

//! Importing the bank's notification of incoming payments (camt.054), in one transaction:
//! the document is read whole first (a malformed or foreign one is a 422 naming the element,
//! and nothing of it is recorded); then each credit is recorded once by its bank reference and
//! matched by its payment reference to a bill. A matched payment raises the bill's paid amount
//! (partly, fully or over), updates the application's payment state and writes a history
//! entry, an audit entry and an `application.payment_received` event. What does not match
//! (no or an unknown reference, another currency, a bill already settled) is recorded as
//! unmatched, for finance.
use std::collections::HashMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::views::{self, ImportReport};
use crate::applications::invoices::payment_doc;
use crate::applications::records::{self, Change, Note};
use crate::audit::Actor;
use crate::auth::policy::Scope;
use crate::auth::Caller;
use crate::db::applications as apps;
use crate::db::invoices::{self as bills, InvoiceRow};
use crate::db::payments::{self as store, NotificationRow, PaymentRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::billing::{InvoiceStatus, PaymentMatch};
use crate::domain::camt::{self, CamtError, Problem};
use crate::domain::FieldError;
use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// 403 unless the caller may import payments (`payments:write`: administrators, and clients
/// given it).
pub fn may_import(caller: &Caller) -> Result<(), ApiError> {
    if caller.has(Scope::PaymentsWrite) {
        Ok(())
    } else {
        Err(ApiError::new(
            ProblemKind::Forbidden,
            msg!("This token does not allow importing payments (scope payments:write)."),
        ))
    }
}

/// 403 unless the caller may read payments (`payments:read` or `payments:write`).
pub fn may_read(caller: &Caller) -> Result<(), ApiError> {
    if caller.has(Scope::PaymentsRead) || caller.has(Scope::PaymentsWrite) {
        Ok(())
    } else {
        Err(ApiError::new(
            ProblemKind::Forbidden,
            msg!("This token does not allow reading payments (scope payments:read)."),
        ))
    }
}

/// A document that is not a camt.054 of the versions read: a 422 naming the element.
fn refused(e: CamtError) -> ApiError {
    let detail = match e.problem {
        Problem::Xml(why) => msg!("not well-formed XML (line {line}): {why}", line = e.line, why = why),
        Problem::NotCamt054(what) => msg!(
            "not a camt.054 notification of version .001.04 or .001.08 (line {line}): {what}",
            line = e.line,
            what = what
        ),
        Problem::Missing(element) => msg!(
            "{element} is missing here (line {line})",
            element = element,
            line = e.line
        ),
        Problem::Amount(v) => msg!("not an amount (line {line}): {v}", line = e.line, v = v),
        Problem::Date(v) => msg!("not a date (line {line}): {v}", line = e.line, v = v),
        Problem::Currency(v) => msg!("not a currency (line {line}): {v}", line = e.line, v = v),
        Problem::TooLarge => msg!("larger than {max} MB", max = camt::MAX_BYTES / 1024 / 1024),
    };
    ApiError::validation(vec![FieldError::new(e.path, "camt054", detail)])
}

/// Imports a camt.054 document (in the caller's transaction), one import at a time. The
/// statements are batched: the named bills are loaded and locked at once, the payments
/// inserted and the bills written 500 per statement, each paid application updated once.
pub fn import(conn: &mut DbConnection, actor: &Actor, xml: &str) -> Result<ImportReport, ApiError> {
    let doc = camt::parse(xml).map_err(refused)?;
    store::serialise_imports(conn)?;
    let now = SqlTime::now();
    let notification = NotificationRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        message_id: doc.message_id.clone(),
        version: doc.version.into(),
        sha256: hex(&Sha256::digest(xml.as_bytes())),
        received_at: now,
        received_by: format!("{}:{}", actor.kind, actor.id),
        credits: doc.credits.len() as i32,
        recorded: 0,
        matched: 0,
    };
    store::insert_notification(conn, &notification)?;
    let mut report = ImportReport {
        notification: notification.id.0,
        message_id: doc.message_id.clone(),
        version: doc.version,
        credits: doc.credits.len() as i64,
        recorded: 0,
        already_recorded: 0,
        matched: 0,
        unmatched: Vec::new(),
    };
    let mut references: Vec<String> = doc.credits.iter().filter_map(|c| c.reference.clone()).collect();
    references.sort_unstable();
    references.dedup();
    let mut bills: HashMap<String, InvoiceRow> = store::invoices_for_update(conn, &references)?
        .into_iter()
        .map(|b| (b.reference.clone(), b))
        .collect();
    let bank_references: Vec<String> = doc.credits.iter().map(|c| c.bank_reference.clone()).collect();
    let mut seen = store::recorded(conn, &bank_references)?;
    let mut payments = Vec::with_capacity(doc.credits.len());
    // per matched payment: its bill's reference and the bill's status and paid amount after it
    let mut booked: Vec<(usize, String, String, i64)> = Vec::new();
    for credit in doc.credits {
        if !seen.insert(credit.bank_reference.clone()) {
            report.already_recorded += 1;
            continue;
        }
        let booking = SqlTime(credit.booking_date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
        let mut payment = PaymentRow {
            id: SqlUuid(uuid::Uuid::now_v7()),
            bank_reference: credit.bank_reference,
            notification_id: notification.id,
            invoice_id: None,
            status: PaymentMatch::Unmatched.as_str().into(),
            reason: None,
            amount: credit.amount,
            currency: credit.currency,
            booking_date: booking,
            reference: credit.reference.clone(),
            debtor: credit.debtor,
            account: credit.account,
            recorded_at: now,
            matched_by: None,
            matched_at: None,
        };
        let bill = credit.reference.as_ref().and_then(|r| bills.get_mut(r));
        let reason = match &bill {
            None if credit.reference.is_none() => Some("no_reference"),
            None => Some("unknown_reference"),
            Some(b) if b.currency != payment.currency => Some("currency"),
            Some(b) if InvoiceStatus::parse(&b.status).is_none_or(|s| s.settled()) => Some("settled"),
            Some(_) => None,
        };
        payment.reason = reason.map(str::to_string);
        match (reason, bill) {
            (None, Some(bill)) => {
                book(bill, payment.amount, now);
                payment.status = PaymentMatch::Matched.as_str().into();
                payment.invoice_id = Some(bill.id);
                booked.push((
                    payments.len(),
                    bill.reference.clone(),
                    bill.status.clone(),
                    bill.paid_amount,
                ));
                report.matched += 1;
            }
            _ => report.unmatched.push(views::payment(&payment)),
        }
        payments.push(payment);
    }
    report.recorded = payments.len() as i64;
    if store::insert_new(conn, &payments)? != payments.len() {
        return Err(ApiError::internal("a payment was recorded under the import's lock"));
    }
    let mut paid: Vec<String> = booked.iter().map(|(_, r, _, _)| r.clone()).collect();
    paid.sort_unstable();
    paid.dedup();
    let changed: Vec<InvoiceRow> = paid.iter().filter_map(|r| bills.get(r).cloned()).collect();
    bills::save_payments(conn, &changed)?;
    let mut rows = HashMap::with_capacity(changed.len());
    for bill in &changed {
        let row = apps::set_payment(conn, bill.application_id, payment_doc(bill)?, now)?
            .ok_or_else(|| ApiError::internal("a bill's application is gone"))?;
        rows.insert(bill.reference.clone(), row);
    }
    let mut written = Vec::with_capacity(booked.len());
    for (index, reference, status, paid_amount) in booked {
        let (payment, bill, row) = (&payments[index], &bills[&reference], &rows[&reference]);
        written.push(records::by(
            actor,
            row,
            Change::PaymentReceived,
            note(payment, bill, &status, paid_amount, now),
        ));
    }
    records::write(conn, written)?;
    store::count_notification(conn, notification.id, report.recorded as i32, report.matched as i32)?;
    actor.audit(
        conn,
        "payments.import",
        "bank_notification",
        notification.id.0.to_string(),
        json!({"message_id": report.message_id, "credits": report.credits, "recorded": report.recorded,
            "already_recorded": report.already_recorded, "matched": report.matched, "unmatched": report.unmatched.len()}),
    )?;
    Ok(report)
}

/// A payment of `amount` booked on a bill (in memory): its paid amount, status, revision.
fn book(bill: &mut InvoiceRow, amount: i64, now: SqlTime) {
    bill.paid_amount += amount;
    let status = InvoiceStatus::after_payment(bill.amount, bill.paid_amount);
    bill.status = status.as_str().into();
    if status == InvoiceStatus::Paid {
        bill.paid_at = Some(now);
    }
    bill.revision += 1;
    bill.updated_at = now;
}

/// The history entry's and event's account of a payment: the bill's status and paid amount
/// right after it.
fn note(payment: &PaymentRow, bill: &InvoiceRow, status: &str, paid_amount: i64, now: SqlTime) -> Note {
    let mut note = Note {
        at: Some(now),
        ..Note::default()
    };
    note.details.insert(
        "payment".into(),
        json!({"id": payment.id.0, "amount": payment.amount, "currency": payment.currency,
            "booking_date": payment.booking_date.0.date_naive(), "invoice": bill.id.0,
            "invoice_status": status, "paid_amount": paid_amount}),
    );
    note
}

/// Books a payment assigned by hand on its (locked) bill and the bill's application;
/// answers the records.
fn pay(
    conn: &mut DbConnection,
    actor: &Actor,
    mut bill: InvoiceRow,
    payment: &PaymentRow,
    now: SqlTime,
) -> Result<records::Records, ApiError> {
    let expected = bill.revision;
    book(&mut bill, payment.amount, now);
    if !bills::update(conn, &bill, expected)? {
        return Err(ApiError::internal("a locked bill changed under its payment"));
    }
    let row = apps::set_payment(conn, bill.application_id, payment_doc(&bill)?, now)?
        .ok_or_else(|| ApiError::internal("a bill's application is gone"))?;
    let status = bill.status.clone();
    Ok(records::by(
        actor,
        &row,
        Change::PaymentReceived,
        note(payment, &bill, &status, bill.paid_amount, now),
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unmatched payments, oldest first (cursor: after the last one's time and id).
pub fn unmatched(
    conn: &mut DbConnection,
    caller: &Caller,
    after: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
    limit: usize,
) -> Result<(Vec<views::ReceivedPayment>, bool), ApiError> {
    may_read(caller)?;
    let after = after.map(|(t, id)| (SqlTime(t), SqlUuid(id)));
    let mut rows = store::unmatched(conn, after, limit as i64 + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows.iter().map(views::payment).collect(), more))
}

/// Which bill an unmatched payment pays, as finance decides it.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentAssignment {
    /// The bill (`id` of `GET /v1/invoices`).
    pub invoice: uuid::Uuid,
}

/// Finance assigns an unmatched payment to a bill by hand: the payment becomes matched (who
/// and when recorded), the bill's paid amount rises and the application follows, with the
/// history entry, audit entry and `application.payment_received` event of an imported match,
/// in the caller's transaction. 409 when the payment is matched already or the bill settled;
/// 422 for a bill the caller does not see or in another currency.
pub fn assign(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    id: uuid::Uuid,
    input: PaymentAssignment,
) -> Result<views::ReceivedPayment, ApiError> {
    may_import(caller)?;
    let mut payment =
        store::payment_for_update(conn, SqlUuid(id))?.ok_or_else(|| ApiError::not_found(msg!("No such payment.")))?;
    if PaymentMatch::parse(&payment.status) != Some(PaymentMatch::Unmatched) {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            msg!("This payment is matched to a bill already."),
        ));
    }
    let no_bill = || ApiError::validation(vec![FieldError::new("/invoice", "not_found", msg!("no such bill"))]);
    let bill = bills::by_id_for_update(conn, SqlUuid(input.invoice))?.ok_or_else(no_bill)?;
    if caller.department.is_some_and(|d| d != bill.department_id.0) {
        return Err(no_bill());
    }
    if bill.currency != payment.currency {
        return Err(ApiError::validation(vec![FieldError::new(
            "/invoice",
            "currency",
            msg!("the bill is in another currency than the payment"),
        )]));
    }
    if InvoiceStatus::parse(&bill.status).is_none_or(|s| s.settled()) {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            msg!("This bill is settled (paid, waived or refunded)."),
        ));
    }
    let now = SqlTime::now();
    payment.status = PaymentMatch::Matched.as_str().into();
    payment.reason = None;
    payment.invoice_id = Some(bill.id);
    payment.matched_by = Some(format!("{}:{}", actor.kind, actor.id));
    payment.matched_at = Some(now);
    if !store::assign(conn, &payment)? {
        return Err(ApiError::internal("a locked payment changed under its assignment"));
    }
    let records = pay(conn, actor, bill, &payment, now)?;
    records::write(conn, vec![records])?;
    actor.audit(
        conn,
        "payments.assign",
        "payment",
        id.to_string(),
        json!({"invoice": input.invoice, "amount": payment.amount, "currency": payment.currency}),
    )?;
    Ok(views::payment(&payment))
}

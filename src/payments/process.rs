//! Importing the bank's notification of incoming payments (camt.054), in one transaction:
//! the document is read whole first (a malformed or foreign one is a 422 naming the element,
//! and nothing of it is recorded); then each credit is recorded once by its bank reference and
//! matched by its payment reference to a bill. A matched payment raises the bill's paid amount
//! (partly, fully or over), updates the application's payment state and writes a history
//! entry, an audit entry and an `application.payment_received` event. What does not match
//! (no or an unknown reference, another currency, a bill already settled) is recorded as
//! unmatched, for finance.
use serde_json::json;
use sha2::{Digest, Sha256};

use super::views::{self, ImportReport};
use crate::applications::records::{self, Change, Note};
use crate::audit::Actor;
use crate::auth::policy::Scope;
use crate::auth::Caller;
use crate::db::applications::{self as apps, Reader};
use crate::db::invoices::{self as bills, InvoiceRow};
use crate::db::payments::{self as store, NotificationRow, PaymentRow};
use crate::db::types::{SqlJson, SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::billing::{InvoiceStatus, PaymentMatch, PaymentState};
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

/// Imports a camt.054 document (in the caller's transaction).
pub fn import(conn: &mut DbConnection, actor: &Actor, xml: &str) -> Result<ImportReport, ApiError> {
    let doc = camt::parse(xml).map_err(refused)?;
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
    let mut written = Vec::new();
    for credit in doc.credits {
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
        let bill = match &credit.reference {
            Some(r) => store::invoice_for_update(conn, r)?,
            None => None,
        };
        let reason = match &bill {
            None if credit.reference.is_none() => Some("no_reference"),
            None => Some("unknown_reference"),
            Some(b) if b.currency != payment.currency => Some("currency"),
            Some(b) if InvoiceStatus::parse(&b.status).is_none_or(|s| s.settled()) => Some("settled"),
            Some(_) => None,
        };
        payment.reason = reason.map(str::to_string);
        if reason.is_none() {
            payment.status = PaymentMatch::Matched.as_str().into();
            payment.invoice_id = bill.as_ref().map(|b| b.id);
        }
        if !store::insert_once(conn, &payment)? {
            report.already_recorded += 1;
            continue;
        }
        report.recorded += 1;
        match (reason, bill) {
            (None, Some(bill)) => {
                written.push(pay(conn, actor, bill, &payment, now)?);
                report.matched += 1;
            }
            _ => report.unmatched.push(views::payment(&payment)),
        }
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

/// Books a matched payment on its bill and the bill's application; answers the records.
fn pay(
    conn: &mut DbConnection,
    actor: &Actor,
    mut bill: InvoiceRow,
    payment: &PaymentRow,
    now: SqlTime,
) -> Result<records::Records, ApiError> {
    let expected = bill.revision;
    bill.paid_amount += payment.amount;
    let status = InvoiceStatus::after_payment(bill.amount, bill.paid_amount);
    bill.status = status.as_str().into();
    if status == InvoiceStatus::Paid {
        bill.paid_at = Some(now);
    }
    bill.revision += 1;
    bill.updated_at = now;
    if !bills::update(conn, &bill, expected)? {
        return Err(ApiError::internal("a locked bill changed under its payment"));
    }
    let mut row = apps::get_for_update(conn, bill.application_id, Reader::Staff)?
        .ok_or_else(|| ApiError::internal("a bill's application is gone"))?;
    let expected = row.revision;
    row.payment = Some(SqlJson(json!(PaymentState {
        invoice: bill.id.0,
        status: bill.status.clone(),
        amount: bill.amount,
        paid_amount: bill.paid_amount,
        currency: bill.currency.clone(),
        due_on: bill.due_on.0.date_naive(),
        reference: bill.reference.clone(),
    })));
    row.revision += 1;
    row.updated_at = now;
    if !apps::update(conn, &row, expected)? {
        return Err(ApiError::internal("a locked application changed under its payment"));
    }
    let mut note = Note {
        at: Some(now),
        ..Note::default()
    };
    note.details.insert(
        "payment".into(),
        json!({"id": payment.id.0, "amount": payment.amount, "currency": payment.currency,
            "booking_date": payment.booking_date.0.date_naive(), "invoice": bill.id.0,
            "invoice_status": bill.status, "paid_amount": bill.paid_amount}),
    );
    Ok(records::by(actor, &row, Change::PaymentReceived, note))
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

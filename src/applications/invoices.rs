//! The bill of an application (a Swiss QR-bill): made in the transaction of the move its
//! service bills at (submission or approval), kept beside the application with its state on
//! the application's row, shown to whoever sees the application, and awaited by the move the
//! service names (`payment_before`).
use chrono::Utc;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::process::{conflict, Ctx};
use super::records::{self, Change, Note, Records};
use crate::catalogue::snapshot::{Snapshot, VersionEntry};
use crate::db::applications::ApplicationRow;
use crate::db::invoices::{self as store, InvoiceRow};
use crate::db::mail::QueuedMail;
use crate::db::records::With;
use crate::db::types::{SqlDoc, SqlJson, SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::application::Phase;
use crate::domain::billing::{self, BilledWhen, InvoiceStatus, PaymentState};
use crate::domain::lang::Lang;
use crate::domain::qrbill::{self, Address, Bill, Iban};
use crate::error::ApiError;
use crate::msg;

/// The state an application shows of its bill.
pub fn state_of(row: &ApplicationRow) -> Option<PaymentState> {
    // read from the column's text: as a `Value` first it was a tenth of a feed page's work
    row.payment.as_ref().and_then(|j| serde_json::from_str(j.get()).ok())
}

/// The payment state of a bill as its application's row keeps it.
pub fn payment_doc(i: &InvoiceRow) -> Result<SqlDoc, ApiError> {
    SqlDoc::of(&state(i)).map_err(|e| ApiError::internal(format!("payment state: {e}")))
}

fn state(i: &InvoiceRow) -> PaymentState {
    PaymentState {
        invoice: i.id.0,
        status: i.status.clone(),
        amount: i.amount,
        paid_amount: i.paid_amount,
        currency: i.currency.clone(),
        due_on: i.due_on.0.date_naive(),
        reference: i.reference.clone(),
    }
}

/// Whether the service bills when the application moves to `to`.
fn bills_at(v: &VersionEntry, to: Phase) -> Option<&billing::Billing> {
    let b = v.content.billing.as_ref()?;
    let at = match b.billed {
        BilledWhen::OnSubmission => Phase::Submitted,
        BilledWhen::OnApproval => Phase::Approved,
    };
    (at == to).then_some(b)
}

/// Makes the application's bill if its service bills at the move to `to` and it has none yet,
/// and sets the application's payment state (the caller saves the row). The amount comes from
/// the form (a 422 naming the field that does not give one); the account and its address from
/// the department. A department without an account cannot bill: the move goes on unbilled,
/// and the operator is told in the log. Answers the bill's records, to write with the move's.
pub(super) fn bill_at(
    conn: &mut DbConnection,
    ctx: &Ctx,
    row: &mut ApplicationRow,
    v: &VersionEntry,
    to: Phase,
    fresh: bool,
) -> Result<Option<(InvoiceRow, Records)>, ApiError> {
    let Some(rule) = bills_at(v, to) else {
        return Ok(None);
    };
    if row.payment.is_some() {
        return Ok(None);
    }
    let data = row.data.value().map_err(ApiError::internal)?;
    let amount = rule.amount(&data).map_err(|e| ApiError::validation(vec![e]))?;
    let snap = &ctx.snap;
    let Some((_, dep)) = snap.department(&row.department_id.0.to_string()) else {
        return Err(ApiError::internal(
            "an application's department is not in the catalogue",
        ));
    };
    let Some((creditor, iban)) = dep.creditor().and_then(|c| c.iban().map(|i| (c, i))) else {
        tracing::warn!(department = %dep.slug, "a service bills but its department has no account: not billed");
        return Ok(None);
    };
    let number = if fresh {
        1
    } else {
        store::count(conn, row.id)? as u32 + 1
    };
    let reference = billing::bill_reference(
        iban.reference_type(),
        creditor.reference_prefix.as_deref(),
        row.reference.as_deref().unwrap_or_default(),
        number,
    )
    .ok_or_else(|| ApiError::internal("a bill's reference could not be made"))?;
    let lang = Lang::parse(&row.language).unwrap_or(Lang::De);
    let message: String = format!(
        "{} {}",
        v.content.name.text(lang),
        row.reference.as_deref().unwrap_or_default()
    )
    .chars()
    .filter(|c| qrbill::in_set(*c))
    .take(140)
    .collect();
    let now = SqlTime::now();
    let due = (now.0 + chrono::Duration::days(i64::from(rule.due_days()))).date_naive();
    let due_on = SqlTime(due.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    let invoice = InvoiceRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        application_id: row.id,
        number: number as i32,
        department_id: row.department_id,
        status: InvoiceStatus::after_payment(amount, 0).as_str().into(),
        amount,
        paid_amount: 0,
        currency: v.content.fee.currency.clone(),
        reference_type: iban.reference_type().as_str().into(),
        reference,
        iban: iban.as_str().into(),
        creditor: SqlJson(json!(creditor.address())),
        debtor: rule.debtor(&data).map(|d| SqlJson(json!(d))),
        message: Some(message),
        issued_at: now,
        due_on,
        paid_at: None,
        reason: None,
        revision: 1,
        updated_at: now,
    };
    row.payment = Some(payment_doc(&invoice)?);
    let mut note = Note {
        at: Some(now),
        ..Note::default()
    };
    note.details.insert(
        "invoice".into(),
        json!({"id": invoice.id.0, "amount": amount, "currency": invoice.currency, "due_on": due, "reference": invoice.reference}),
    );
    let records = records::of(ctx, row, Change::InvoiceIssued, note);
    Ok(Some((invoice, records)))
}

/// Writes a bill made by [`bill_at`], and the records of the change that made it (`with`)
/// together with the bill's own, the mails that tell of the change and what else `first` holds
/// (a new application, a changed one), in one statement with the bill (see `db::records`):
/// false, and nothing written, when the new application's reference is taken; 412 when the
/// changed one's revision is no longer the one expected.
pub(super) fn write(
    conn: &mut DbConnection,
    first: With<'_>,
    made: Option<(InvoiceRow, Records)>,
    mut with: Vec<Records>,
    mails: &[QueuedMail],
) -> Result<bool, ApiError> {
    let bill = made.map(|(invoice, records)| {
        with.push(records);
        invoice
    });
    records::write_with(
        conn,
        With {
            bill: bill.as_ref(),
            mails,
            ..first
        },
        with,
    )
}

/// 409 when the move to `to` waits for the payment of the fee and the bill is not settled.
pub(super) fn check_paid(v: &VersionEntry, row: &ApplicationRow, to: Phase) -> Result<(), ApiError> {
    let waits = v.content.billing.as_ref().and_then(|b| b.payment_before) == Some(to);
    let settled = state_of(row)
        .and_then(|s| InvoiceStatus::parse(&s.status))
        .is_none_or(InvoiceStatus::settled);
    if waits && !settled {
        return Err(conflict(msg!(
            "Payment outstanding: this move waits until the fee is paid (or a clerk waives it)."
        )));
    }
    Ok(())
}

/// The bill of an application, as `GET /v1/applications/{id}/invoice` answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invoice {
    pub id: uuid::Uuid,
    pub application: uuid::Uuid,
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
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub issued_at: chrono::DateTime<Utc>,
    /// `QRR` (QR reference, to a QR-IBAN) or `SCOR` (ISO 11649 creditor reference).
    #[schema(max_length = 4)]
    pub reference_type: String,
    /// Without spaces, as the bank reports it.
    #[schema(max_length = 27)]
    pub reference: String,
    /// As printed on the bill (groups of five or four).
    #[schema(max_length = 40)]
    pub reference_printed: String,
    /// The account to pay to, in groups of four.
    #[schema(max_length = 30)]
    pub iban: String,
    pub creditor: Address,
    /// The payer, when the form names one (the bill's "payable by" is blank otherwise).
    pub debtor: Option<Address>,
    #[schema(max_length = 140)]
    pub message: Option<String>,
    /// The text of the bill's Swiss QR Code (payload version 0200, lines separated by CR LF),
    /// for a portal that draws its own payment part.
    #[schema(max_length = 997)]
    pub qr_payload: String,
}

/// What a bill says, enough to write its Swiss QR Code: the open amount (what is left to
/// pay), the account, the parties, the reference and the message.
fn bill_of(i: &InvoiceRow) -> Result<Bill, ApiError> {
    let creditor: Address = serde_json::from_value(i.creditor.0.clone()).map_err(ApiError::internal)?;
    let debtor: Option<Address> = i
        .debtor
        .as_ref()
        .map(|d| serde_json::from_value(d.0.clone()))
        .transpose()
        .map_err(ApiError::internal)?;
    let account = Iban::parse(&i.iban).ok_or_else(|| ApiError::internal("a bill's IBAN does not parse"))?;
    Ok(Bill {
        account,
        creditor,
        amount: Some(i.amount - i.paid_amount.min(i.amount)),
        currency: i.currency.clone(),
        debtor,
        reference: i.reference.clone(),
        message: i.message.clone(),
    })
}

/// The bill's view.
pub fn view(i: &InvoiceRow) -> Result<Invoice, ApiError> {
    let bill = bill_of(i)?;
    Ok(Invoice {
        id: i.id.0,
        application: i.application_id.0,
        status: i.status.clone(),
        amount: i.amount,
        paid_amount: i.paid_amount,
        currency: i.currency.clone(),
        due_on: i.due_on.0.date_naive(),
        issued_at: i.issued_at.0,
        reference_type: i.reference_type.clone(),
        reference_printed: qrbill::printed_reference(&i.reference),
        reference: i.reference.clone(),
        iban: bill.account.grouped(),
        qr_payload: bill.payload(),
        creditor: bill.creditor,
        debtor: bill.debtor,
        message: i.message.clone(),
    })
}

/// The bill of an application the caller sees, with the application; 404 when it has none.
pub fn find(
    conn: &mut DbConnection,
    caller: &crate::auth::Caller,
    id: crate::domain::ids::ApplicationId,
) -> Result<(ApplicationRow, InvoiceRow), ApiError> {
    let row = super::process::find(conn, caller, id)?;
    let invoice = store::of_application(conn, row.id)?
        .ok_or_else(|| ApiError::not_found(msg!("This application has no bill.")))?;
    Ok((row, invoice))
}

/// The representations of a bill, in the order `Accept` is matched against (JSON first).
pub const MEDIA_TYPES: [&str; 3] = ["application/json", "application/pdf", "image/svg+xml"];

/// A bill as asked for: its view, or the printed bill in the application's language (the
/// A4 PDF with its payment part, or the payment part alone as SVG).
pub enum Printed {
    Json(Box<Invoice>),
    File {
        body: Vec<u8>,
        media_type: &'static str,
        file_name: String,
    },
}

/// The bill in the representation `MEDIA_TYPES[format]`. Rendering is CPU work: the caller
/// runs it off the server's workers.
pub fn print(snap: &Snapshot, row: &ApplicationRow, i: &InvoiceRow, format: usize) -> Result<Printed, ApiError> {
    use crate::print::{pdf, slip, svg};
    if format == 0 {
        return Ok(Printed::Json(Box::new(view(i)?)));
    }
    let bill = bill_of(i)?;
    let lang = Lang::parse(&row.language).unwrap_or(Lang::De);
    let application = row.reference.as_deref().unwrap_or_default();
    let title = format!("{} {}", slip::labels(lang).invoice, application);
    let failed = |e: qrcode::types::QrError| ApiError::internal(format!("the bill's QR code: {e}"));
    let (body, media_type, ext) = if format == 1 {
        let (_, v) = super::version::version_of(snap, row)?;
        let letter = slip::Letter {
            bill: &bill,
            lang,
            service: v.content.name.text(lang),
            application,
            issued_on: i.issued_at.0.date_naive(),
            due_on: i.due_on.0.date_naive(),
            amount: i.amount,
            paid: i.paid_amount,
        };
        (
            pdf::render(&slip::a4(&letter).map_err(failed)?, &title),
            MEDIA_TYPES[1],
            "pdf",
        )
    } else {
        let ops = slip::slip(&bill, lang).map_err(failed)?;
        (svg::render(&ops, &title).into_bytes(), MEDIA_TYPES[2], "svg")
    };
    Ok(Printed::File {
        body,
        media_type,
        file_name: format!("{}-{}.{ext}", slip::labels(lang).invoice.to_lowercase(), i.reference),
    })
}

/// Where an application's bill is read.
pub fn invoice_url(snap: &Snapshot, application: uuid::Uuid) -> String {
    format!("{}/invoice", super::views::application_url(snap, application))
}

/// What a clerk changes on a bill, with the reason: a new amount, or a waiver of what is left.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// The new amount in minor units (Rappen); the bill's status follows what is paid of it.
    #[schema(minimum = 0, maximum = 99999999999_i64)]
    pub amount: Option<i64>,
    /// `true` waives what is left to pay (the bill becomes `waived`).
    pub waive: Option<bool>,
    /// Why: shown to finance and kept in the history.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// A clerk of the responsible department (or an administrator) changes the amount of the
/// application's open bill or waives it, with a reason: the bill, the application's payment
/// state, a history entry, an audit entry and an `application.invoice_adjusted` event, in the
/// caller's transaction; answers the application. 409 for a bill already settled; 422
/// naming what is wrong.
pub fn adjust(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: crate::domain::ids::ApplicationId,
    expected: Option<i64>,
    input: Adjustment,
) -> Result<ApplicationRow, ApiError> {
    use super::access;
    use super::process::{check_rev, field, load, not_anonymised, save};
    use crate::domain::application::Mover;
    let mut row = load(conn, ctx, id)?;
    if access::mover(&ctx.caller, &row) != Some(Mover::Processor) {
        return Err(access::forbidden(msg!(
            "This token does not allow changing this bill (clerks of the application's department and administrators)."
        )));
    }
    check_rev(&row, expected)?;
    not_anonymised(&row)?;
    let mut bill = store::of_application(conn, row.id)?
        .ok_or_else(|| ApiError::not_found(msg!("This application has no bill.")))?;
    if InvoiceStatus::parse(&bill.status).is_none_or(InvoiceStatus::settled) {
        return Err(conflict(msg!(
            "This bill is settled (paid, waived or refunded): it cannot be changed."
        )));
    }
    let reason = input.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(field("/reason", "length", msg!("a reason of 1 to 500 characters")));
    }
    let now = SqlTime::now();
    let before = (bill.amount, bill.status.clone());
    match (input.amount, input.waive) {
        (Some(amount), None | Some(false)) => {
            if !(0..=qrbill::AMOUNT_MAX).contains(&amount) {
                return Err(field(
                    "/amount",
                    "range",
                    msg!("an amount from 0 to 99999999999 (minor units)"),
                ));
            }
            bill.amount = amount;
            let status = InvoiceStatus::after_payment(amount, bill.paid_amount);
            if status == InvoiceStatus::Paid {
                bill.paid_at = Some(now);
            }
            bill.status = status.as_str().into();
        }
        (None, Some(true)) => bill.status = InvoiceStatus::Waived.as_str().into(),
        _ => {
            return Err(field(
                "",
                "one_of",
                msg!("give either a new amount or \"waive\": true, with a reason"),
            ))
        }
    }
    let revision = bill.revision;
    bill.reason = Some(reason.clone());
    bill.revision += 1;
    bill.updated_at = now;
    if !store::update(conn, &bill, revision)? {
        return Err(ApiError::internal("a bill changed under its locked application"));
    }
    row.payment = Some(payment_doc(&bill)?);
    row.updated_at = now;
    save(conn, &mut row)?;
    let mut note = Note::default();
    note.details.insert(
        "invoice".into(),
        json!({"id": bill.id.0, "amount_before": before.0, "status_before": before.1,
            "amount": bill.amount, "status": bill.status, "paid_amount": bill.paid_amount, "reason": reason}),
    );
    records::record(conn, ctx, &row, Change::InvoiceAdjusted, note)?;
    Ok(row)
}

//! The applicant side is told by mail what happens to its application (issue: no polling, no
//! phone call): received, action required, a new public step, a message from the department,
//! the decision. The mails are queued in the transaction of the change (the outbox), in the
//! application's language, to its resident, or for an organisation to the member who made it
//! (while a member) or else its owners; only to confirmed addresses; notices that are not
//! essential only to those who want them (`/v1/me`). No form data goes into a mail.
use super::version::{phase_of, steps_of, version_of};
use super::Ctx;
use crate::db::applications::{self as store, ApplicationRow};
use crate::db::mail::QueuedMail;
use crate::db::DbConnection;
use crate::domain::application::{Mover, Phase};
use crate::domain::lang::Lang;
use crate::domain::requests::Wanted;
use crate::error::ApiError;
use crate::mail::notice::{self, Facts, Moment};

/// The label of the application's step as the applicant sees it (a private step shows as its
/// phase).
fn public_step(ctx: &Ctx, row: &ApplicationRow, lang: Lang) -> Result<(String, bool), ApiError> {
    let (_, v) = version_of(&ctx.snap, row)?;
    let steps = steps_of(v);
    let phase = phase_of(row)?;
    Ok(match crate::domain::status::step(&steps, &row.step) {
        Some(s) if s.public => (s.label.text(lang).to_string(), true),
        Some(_) => (crate::domain::status::phase_label(phase).text(lang).to_string(), false),
        None => (crate::domain::status::phase_label(phase).text(lang).to_string(), true),
    })
}

/// The mails in which a move by `who` to the application's current phase tells the applicant,
/// if anything (`decision_documents`: whether the move named any); the caller queues them
/// with the move's records. `known`: the recipients, when the caller has read them already
/// (see [`recipients`]).
pub(super) fn after_move(
    conn: &mut DbConnection,
    ctx: &Ctx,
    row: &ApplicationRow,
    who: Option<Mover>,
    decision_documents: bool,
    known: Option<Vec<Recipient>>,
) -> Result<Vec<QueuedMail>, ApiError> {
    let phase = phase_of(row)?;
    let lang = Lang::parse(&row.language).unwrap_or(Lang::De);
    let moment = match (phase, who) {
        (Phase::Submitted, _) => Moment::Submitted,
        // the applicant is not told of its own moves (resubmitting, withdrawing)
        (_, Some(Mover::Applicant)) | (_, None) => return Ok(Vec::new()),
        (Phase::ActionRequired, _) => {
            let asked = row.requests();
            Moment::ActionRequired {
                documents: asked
                    .iter()
                    .filter_map(|r| match &r.what {
                        Wanted::Document { label } => Some(label.clone()),
                        Wanted::Field { .. } => None,
                    })
                    .collect(),
                fields: asked.iter().filter(|r| matches!(r.what, Wanted::Field { .. })).count(),
                due: row.requests_due_on.map(|d| d.0.date_naive()),
            }
        }
        (Phase::Approved | Phase::Rejected | Phase::Completed, _) => Moment::Decided {
            step: public_step(ctx, row, lang)?.0,
            documents: decision_documents,
        },
        _ => match public_step(ctx, row, lang)? {
            (step, true) => Moment::Step { step },
            // a private step is not news to the applicant
            (_, false) => return Ok(Vec::new()),
        },
    };
    let to = match known {
        Some(r) => r,
        None => recipients(conn, row)?,
    };
    mails(ctx, row, moment, &to)
}

/// A message of the department: queued at once.
pub(super) fn message(conn: &mut DbConnection, ctx: &Ctx, row: &ApplicationRow) -> Result<(), ApiError> {
    let to = recipients(conn, row)?;
    let mails = mails(ctx, row, Moment::Message, &to)?;
    Ok(crate::db::mail::enqueue_all(conn, &mails)?)
}

/// Someone written to about an application: the address, and whether they want the mails that
/// are not essential.
pub(super) type Recipient = (String, bool);

/// Who is written to about an application (see `db::applications::recipients`).
fn recipients(conn: &mut DbConnection, row: &ApplicationRow) -> Result<Vec<Recipient>, ApiError> {
    Ok(store::recipients(conn, row)?)
}

fn mails(
    ctx: &Ctx,
    row: &ApplicationRow,
    moment: Moment,
    recipients: &[Recipient],
) -> Result<Vec<QueuedMail>, ApiError> {
    let wanted: Vec<&String> = recipients
        .iter()
        .filter(|(_, optional)| moment.essential() || *optional)
        .map(|(to, _)| to)
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let lang = Lang::parse(&row.language).unwrap_or(Lang::De);
    let (s, v) = version_of(&ctx.snap, row)?;
    let department = &ctx.snap.departments[s.department];
    let facts = Facts {
        lang,
        service: v.content.name.text(lang),
        department: department.name.text(lang),
        reference: row.reference.as_deref(),
        tracking_code: if moment == Moment::Submitted {
            row.tracking_code.as_deref()
        } else {
            None
        },
        link: format!("{}/applications/{}", ctx.frontend.trim_end_matches('/'), row.id.0),
    };
    // the templates are compiled in and every moment is rendered in every language by the unit
    // tests; should one still fail, the change stands and the failure is logged, not answered
    let n = match notice::render(&moment, &facts) {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, application = %row.id.0, "a notice could not be rendered");
            return Ok(Vec::new());
        }
    };
    Ok(wanted
        .into_iter()
        .map(|to| QueuedMail::new(to, &n.subject, &n.text, Some(&n.html)))
        .collect())
}

//! Applications, their history and documents. Every read takes a [`Reader`], and what the
//! reader may see is part of the query's WHERE clause: an application one may not see is not
//! found, it is never loaded and filtered out afterwards.
use diesel::prelude::*;

use super::schema::{accounts, application_history as h, applications as a, memberships as m};
use super::types::{SqlDoc, SqlJson, SqlTime, SqlUuid};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = a)]
// None is bound as NULL, never rendered as DEFAULT: a records statement's text then depends
// only on how many rows each part has (`db::prepared`, `Prepared::shaped`)
#[diesel(treat_none_as_default_value = false)]
pub struct ApplicationRow {
    pub id: SqlUuid,
    pub reference: Option<String>,
    pub tracking_code: Option<String>,
    pub service_id: SqlUuid,
    pub service_version: i32,
    pub department_id: SqlUuid,
    pub applicant_account: Option<SqlUuid>,
    pub applicant_organisation: Option<SqlUuid>,
    pub created_by: String,
    pub phase: String,
    pub step: String,
    pub step_log: SqlDoc,
    pub data: SqlDoc,
    pub assignee_id: Option<SqlUuid>,
    pub revision: i64,
    pub created_at: SqlTime,
    pub updated_at: SqlTime,
    pub submitted_at: Option<SqlTime>,
    pub status_changed_at: SqlTime,
    pub due_at: Option<SqlTime>,
    /// The department's latest public comment to the applicant, and when it was made.
    pub public_comment: Option<String>,
    pub public_comment_at: Option<SqlTime>,
    /// The party an organisation applies for (`domain::representation::OnBehalfOf`).
    pub represented: Option<SqlJson>,
    /// What the department asked for and is not answered yet (`domain::requests::Request`s).
    pub requests: Option<SqlJson>,
    /// The day by which the applicant is to answer (its midnight UTC).
    pub requests_due_on: Option<SqlTime>,
    /// The language the applicant is written to in (`de`, `fr`, `it`, `en`), set when it is made.
    pub language: String,
    /// When it reached a final phase (rejected, completed, withdrawn).
    pub closed_at: Option<SqlTime>,
    /// Until when its personal data and documents are kept: `closed_at` + the service
    /// version's `retention_days`.
    pub retain_until: Option<SqlTime>,
    /// When the retention run removed them (the row keeps reference, service, dates, phases).
    pub anonymised_at: Option<SqlTime>,
    /// The state of its bill (`domain::billing::PaymentState`), if it was billed.
    pub payment: Option<SqlDoc>,
}

impl ApplicationRow {
    /// The party the application is made for, if an organisation applies on behalf of someone.
    pub fn represented(&self) -> Option<crate::domain::representation::OnBehalfOf> {
        self.represented
            .as_ref()
            .and_then(|j| serde_json::from_value(j.0.clone()).ok())
    }

    /// The open requests of the department.
    pub fn requests(&self) -> Vec<crate::domain::requests::Request> {
        self.requests
            .as_ref()
            .and_then(|j| serde_json::from_value(j.0.clone()).ok())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = h)]
// None is bound as NULL, never rendered as DEFAULT: a records statement's text then depends
// only on how many rows each part has (`db::prepared`, `Prepared::shaped`)
#[diesel(treat_none_as_default_value = false)]
pub struct HistoryRow {
    pub id: SqlUuid,
    pub application_id: SqlUuid,
    pub occurred_at: SqlTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub from_phase: Option<String>,
    pub to_phase: Option<String>,
    pub from_step: Option<String>,
    pub to_step: Option<String>,
    pub public_comment: Option<String>,
    pub internal_note: Option<String>,
    pub details: SqlJson,
}

/// Whose applications a caller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// A resident: their own, and those of the organisations they are a member of (checked
    /// against the memberships in the same query, so a removed member loses access at once).
    Account(SqlUuid),
    /// An organisation's partner client: the organisation's.
    Organisation(SqlUuid),
    /// A clerk: the department's submitted applications (drafts stay private).
    Department(SqlUuid),
    /// An administrator: every submitted application.
    Staff,
    /// Nobody (a caller without a reading role).
    Nobody,
}

/// The organisations whose applications a resident also reads (their memberships).
#[diesel::dsl::auto_type]
pub fn organisations_of(acc: SqlUuid) -> _ {
    m::table.filter(m::account_id.eq(acc)).select(m::organisation_id)
}

/// Narrows the one-application query `$q` to what the reader `$r` may see and runs `$run` on
/// it (bound to `$v`); none for a reader that sees nothing. One query per kind of reader, each
/// of a fixed shape, so that its prepared statement is cached (a boxed query is planned anew
/// each time). A macro, so that the blocking and the asynchronous connection share it.
macro_rules! for_reader {
    ($q:expr, $r:expr, |$v:ident| $run:expr) => {{
        use $crate::db::applications::Reader;
        use $crate::db::schema::{applications as a, memberships as m};
        match $r {
            Reader::Account(acc) => {
                let orgs = m::table
                    .filter(m::account_id.eq(acc))
                    .select(m::organisation_id.nullable());
                let $v = $q.filter(a::applicant_account.eq(acc).or(a::applicant_organisation.eq_any(orgs)));
                $run
            }
            Reader::Organisation(org) => {
                let $v = $q.filter(a::applicant_organisation.eq(org));
                $run
            }
            Reader::Department(dep) => {
                let $v = $q
                    .filter(a::department_id.eq(dep))
                    .filter(a::submitted_at.is_not_null());
                $run
            }
            Reader::Staff => {
                let $v = $q.filter(a::submitted_at.is_not_null());
                $run
            }
            Reader::Nobody => Ok(None),
        }
    }};
}
pub(crate) use for_reader;

/// The boxed query of one list page: what reader `$r` may see (`$orgs`: the resident's
/// organisations, read first in the same request, so that a removed member loses access at
/// once; with a sub-select there PostgreSQL cannot use the applicant indexes), the filters
/// `$f` and the keyset `$order` after `$after`. A macro, because the boxed query is built for
/// the backend of the connection that runs it.
macro_rules! list_query {
    ($r:expr, $orgs:expr, $f:expr, $order:expr, $after:expr) => {{
        use $crate::db::applications::{ApplicationRow, Order, Reader};
        use $crate::db::schema::applications as a;
        let (r, orgs, f, after) = ($r, $orgs, $f, $after);
        let mut q = a::table.select(ApplicationRow::as_select()).into_boxed();
        q = match r {
            Reader::Account(acc) if orgs.is_empty() => q.filter(a::applicant_account.eq(acc)),
            Reader::Account(acc) => q.filter(a::applicant_account.eq(acc).or(a::applicant_organisation.eq_any(orgs))),
            Reader::Organisation(org) => q.filter(a::applicant_organisation.eq(org)),
            Reader::Department(dep) => q.filter(a::department_id.eq(dep)).filter(a::submitted_at.is_not_null()),
            Reader::Staff => q.filter(a::submitted_at.is_not_null()),
            Reader::Nobody => q.filter(a::id.ne(a::id)),
        };
        match f.phases.as_slice() {
            [] => {}
            [one] => q = q.filter(a::phase.eq(one.clone())),
            many => q = q.filter(a::phase.eq_any(many.to_vec())),
        }
        if let Some(s) = &f.step {
            q = q.filter(a::step.eq(s.clone()));
        }
        if let Some(s) = f.service {
            q = q.filter(a::service_id.eq(s));
        }
        if let Some(dep) = f.department {
            q = q.filter(a::department_id.eq(dep));
        }
        if let Some(x) = f.assignee {
            q = q.filter(a::assignee_id.eq(x));
        }
        if f.unassigned {
            q = q.filter(a::assignee_id.is_null());
        }
        if let Some(t) = f.submitted_after {
            q = q.filter(a::submitted_at.ge(t));
        }
        if let Some(t) = f.submitted_before {
            q = q.filter(a::submitted_at.lt(t));
        }
        if let Some(t) = f.overdue_at {
            q = q.filter(a::due_at.lt(t));
        }
        if let Some(t) = f.answer_due_before {
            q = q.filter(a::requests_due_on.lt(t));
        }
        match $order {
            Order::CreatedDesc => {
                if let Some((t, id)) = after {
                    q = q.filter(a::created_at.lt(t).or(a::created_at.eq(t).and(a::id.lt(id))));
                }
                q.order((a::created_at.desc(), a::id.desc()))
            }
            Order::SubmittedAsc => {
                q = q.filter(a::submitted_at.is_not_null());
                if let Some((t, id)) = after {
                    q = q.filter(a::submitted_at.gt(t).or(a::submitted_at.eq(t).and(a::id.gt(id))));
                }
                q.order((a::submitted_at.asc(), a::id.asc()))
            }
            Order::SubmittedDesc => {
                q = q.filter(a::submitted_at.is_not_null());
                if let Some((t, id)) = after {
                    q = q.filter(a::submitted_at.lt(t).or(a::submitted_at.eq(t).and(a::id.lt(id))));
                }
                q.order((a::submitted_at.desc(), a::id.desc()))
            }
            Order::DueAsc => {
                q = q.filter(a::due_at.is_not_null());
                if let Some((t, id)) = after {
                    q = q.filter(a::due_at.gt(t).or(a::due_at.eq(t).and(a::id.gt(id))));
                }
                q.order((a::due_at.asc(), a::id.asc()))
            }
        }
    }};
}
pub(crate) use list_query;

/// One application, if the reader may see it.
pub fn get(conn: &mut DbConnection, id: SqlUuid, r: Reader) -> QueryResult<Option<ApplicationRow>> {
    let q = a::table.filter(a::id.eq(id)).select(ApplicationRow::as_select());
    for_reader!(q, r, |q| q.first(conn).optional())
}

/// The same, locked for the rest of the transaction on PostgreSQL (`FOR UPDATE`, in the same
/// statement); SQLite's write transaction already holds the only write lock.
pub fn get_for_update(conn: &mut DbConnection, id: SqlUuid, r: Reader) -> QueryResult<Option<ApplicationRow>> {
    match conn {
        DbConnection::Pg(pg) => {
            let q = a::table.filter(a::id.eq(id)).select(ApplicationRow::as_select());
            for_reader!(q, r, |q| q.for_update().first(pg).optional())
        }
        DbConnection::Sqlite(_) => get(conn, id, r),
    }
}

/// [`get_for_update`], with the [`recipients`] of an application of a resident read in the same
/// statement (sub-selects of its select list, which `FOR UPDATE` reads without locking): the
/// resident's address and whether they want the mails that are not essential, or nothing when
/// they are not [`mailable`]. `None` for an application of an organisation, whose recipients
/// take more than one read.
pub fn get_for_move(conn: &mut DbConnection, id: SqlUuid, r: Reader) -> QueryResult<Option<ForMove>> {
    // a macro: the select clause is built for the backend that runs it
    macro_rules! q {
        () => {{
            let mail = accounts::table
                .filter(accounts::id.nullable().eq(a::applicant_account))
                .filter(mailable())
                .select(accounts::email.assume_not_null())
                .single_value();
            let optional = accounts::table
                .filter(accounts::id.nullable().eq(a::applicant_account))
                .select(accounts::optional_mail)
                .single_value();
            a::table
                .filter(a::id.eq(id))
                .select((ApplicationRow::as_select(), mail, optional))
        }};
    }
    let found: Option<(ApplicationRow, Option<String>, Option<bool>)> = match conn {
        DbConnection::Pg(pg) => for_reader!(q!(), r, |q| q.for_update().first(pg).optional())?,
        DbConnection::Sqlite(sq) => for_reader!(q!(), r, |q| q.first(sq).optional())?,
    };
    Ok(found.map(|(row, mail, optional)| {
        let recipients = row
            .applicant_account
            .map(|_| mail.into_iter().map(|to| (to, optional.unwrap_or(false))).collect());
        ForMove { row, recipients }
    }))
}

/// An application locked for a move, and who is told of it when known (see [`get_for_move`]).
pub struct ForMove {
    pub row: ApplicationRow,
    pub recipients: Option<Vec<(String, bool)>>,
}

pub fn by_reference(conn: &mut DbConnection, reference: &str) -> QueryResult<Option<ApplicationRow>> {
    a::table
        .filter(a::reference.eq(reference))
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()
}

/// How many drafts an applicant (an account, or an organisation) keeps open.
pub fn open_drafts(
    conn: &mut DbConnection,
    account: Option<SqlUuid>,
    organisation: Option<SqlUuid>,
) -> QueryResult<i64> {
    let q = a::table.filter(a::phase.eq("draft")).count();
    match (organisation, account) {
        (Some(org), _) => q.filter(a::applicant_organisation.eq(org)).get_result(conn),
        (None, Some(acc)) => q.filter(a::applicant_account.eq(acc)).get_result(conn),
        (None, None) => Ok(0),
    }
}

pub fn insert(conn: &mut DbConnection, row: &ApplicationRow) -> QueryResult<()> {
    diesel::insert_into(a::table).values(row).execute(conn)?;
    Ok(())
}

/// Inserts a new application unless its reference is taken (`ON CONFLICT DO NOTHING` on the
/// reference's unique index); false when it is, for the caller to try another.
pub fn insert_unless_taken(conn: &mut DbConnection, row: &ApplicationRow) -> QueryResult<bool> {
    let q = diesel::insert_into(a::table)
        .values(row)
        .on_conflict(a::reference)
        .do_nothing();
    let n = match conn {
        // one text (None is bound as NULL): prepared (see `db::prepared`)
        DbConnection::Pg(pg) => super::prepared::Prepared::execute(pg, &q)?,
        DbConnection::Sqlite(sq) => q.execute(sq)?,
    };
    Ok(n == 1)
}

pub fn reference_taken(conn: &mut DbConnection, reference: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(a::table.filter(a::reference.eq(reference)))).get_result(conn)
}

/// The statement that writes the changed row `$row` if its revision is still `$expected`: one
/// text whatever the row holds. A macro, so that [`update`] and the records statement (which
/// takes it as its main part, `db::records::With::update`) share it.
macro_rules! update_query {
    ($row:expr, $expected:expr) => {{
        use diesel::{ExpressionMethods, QueryDsl};
        use $crate::db::schema::applications as a;
        let (row, expected): (&$crate::db::applications::ApplicationRow, i64) = ($row, $expected);
        diesel::update(a::table.filter(a::id.eq(row.id)).filter(a::revision.eq(expected))).set((
            a::reference.eq(&row.reference),
            a::tracking_code.eq(&row.tracking_code),
            a::phase.eq(&row.phase),
            a::step.eq(&row.step),
            a::step_log.eq(&row.step_log),
            a::data.eq(&row.data),
            a::assignee_id.eq(row.assignee_id),
            a::revision.eq(row.revision),
            a::updated_at.eq(row.updated_at),
            a::submitted_at.eq(row.submitted_at),
            a::status_changed_at.eq(row.status_changed_at),
            a::due_at.eq(row.due_at),
            a::public_comment.eq(&row.public_comment),
            a::public_comment_at.eq(row.public_comment_at),
            a::represented.eq(&row.represented),
            a::requests.eq(&row.requests),
            a::requests_due_on.eq(row.requests_due_on),
            a::closed_at.eq(row.closed_at),
            a::retain_until.eq(row.retain_until),
            a::payment.eq(&row.payment),
        ))
    }};
}
pub(super) use update_query;

/// Writes the changed row if its revision is still `expected`; false when another change came
/// first.
pub fn update(conn: &mut DbConnection, row: &ApplicationRow, expected: i64) -> QueryResult<bool> {
    let q = update_query!(row, expected);
    let n = match conn {
        // one text whatever the row holds: prepared (see `db::prepared`)
        DbConnection::Pg(pg) => super::prepared::Prepared::execute(pg, &q)?,
        DbConnection::Sqlite(sq) => q.execute(sq)?,
    };
    Ok(n == 1)
}

pub fn delete(conn: &mut DbConnection, id: SqlUuid, expected: i64) -> QueryResult<bool> {
    let n = diesel::delete(a::table.filter(a::id.eq(id)).filter(a::revision.eq(expected))).execute(conn)?;
    Ok(n == 1)
}

/// Filters of the list and work queue; all optional, combined with AND.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub phases: Vec<String>,
    pub step: Option<String>,
    pub service: Option<SqlUuid>,
    pub department: Option<SqlUuid>,
    pub assignee: Option<SqlUuid>,
    pub unassigned: bool,
    pub submitted_after: Option<SqlTime>,
    pub submitted_before: Option<SqlTime>,
    pub overdue_at: Option<SqlTime>,
    /// Waiting for an answer that was due before this time (the start of today).
    pub answer_due_before: Option<SqlTime>,
}

/// The orders a list can have; each is a keyset on (column, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    CreatedDesc,
    SubmittedAsc,
    SubmittedDesc,
    DueAsc,
}

/// Whether a first page is one range of an index read in the index's order: the applicant's
/// own list, and the clerks' queues by phase, by assignee and by due date (the indexes of the
/// applications' migration). Such a statement reads about `limit` rows whatever the table's
/// size, so it may share the point reads' pipelined connections ([`crate::db::reads`]). Any
/// other list keeps to the pool, where it holds up nobody: one that filters or sorts many rows
/// (more phases than one, a step, a service, a date range, a resident's organisations, whose
/// rows are merged and sorted) or a later page, whose keyset condition the index is walked up to.
pub fn quick_list(r: Reader, orgs: &[SqlUuid], f: &ListFilter, order: Order, later_page: bool) -> bool {
    let narrowed = f.step.is_some()
        || f.service.is_some()
        || f.unassigned
        || f.submitted_after.is_some()
        || f.submitted_before.is_some()
        || f.answer_due_before.is_some();
    if later_page || narrowed {
        return false;
    }
    let staff = matches!(r, Reader::Department(_) | Reader::Staff);
    let department = matches!(r, Reader::Department(_)) || f.department.is_some();
    match order {
        // (applicant_account | applicant_organisation, created_at, id)
        Order::CreatedDesc => {
            matches!(r, Reader::Account(_) | Reader::Organisation(_))
                && orgs.is_empty()
                && f.phases.is_empty()
                && f.department.is_none()
                && f.assignee.is_none()
                && f.overdue_at.is_none()
        }
        // (department_id, phase, submitted_at, id) and (assignee_id, phase, submitted_at, id)
        Order::SubmittedAsc | Order::SubmittedDesc => {
            staff && f.phases.len() == 1 && f.overdue_at.is_none() && (department || f.assignee.is_some())
        }
        // (department_id, due_at, id)
        Order::DueAsc => staff && department && f.phases.is_empty() && f.assignee.is_none(),
    }
}

/// The SQL of a list's first page on PostgreSQL, its binds numbered (`$1`...): for the test
/// that checks [`quick_list`] against the plans PostgreSQL makes of it.
#[doc(hidden)]
pub fn list_sql(r: Reader, orgs: Vec<SqlUuid>, f: &ListFilter, order: Order, limit: i64) -> String {
    let q = list_query!(r, orgs, f, order, None::<(SqlTime, SqlUuid)>).limit(limit);
    let sql = diesel::debug_query::<diesel::pg::Pg, _>(&q).to_string();
    match sql.split_once(" -- binds:") {
        Some((text, _)) => text.to_string(),
        None => sql,
    }
}

/// One page, after the keyset position `after` (the sort column's value and the id).
pub fn list(
    conn: &mut DbConnection,
    r: Reader,
    f: &ListFilter,
    order: Order,
    after: Option<(SqlTime, SqlUuid)>,
    limit: i64,
) -> QueryResult<Vec<ApplicationRow>> {
    let orgs = reader_organisations(conn, r)?;
    list_query!(r, orgs, f, order, after).limit(limit).load(conn)
}

/// The organisations whose applications reader `r` also sees: a resident's memberships, read
/// now (so that a removed member loses access at once); none for other readers.
pub fn reader_organisations(conn: &mut DbConnection, r: Reader) -> QueryResult<Vec<SqlUuid>> {
    match r {
        Reader::Account(acc) => organisations_of(acc).load(conn),
        _ => Ok(Vec::new()),
    }
}

/// Those of the applications `ids` that reader `r` may see now (`orgs` from
/// [`reader_organisations`]).
pub fn visible(
    conn: &mut DbConnection,
    r: Reader,
    orgs: &[SqlUuid],
    ids: Vec<SqlUuid>,
) -> QueryResult<Vec<ApplicationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let none: Option<(SqlTime, SqlUuid)> = None;
    list_query!(r, orgs.to_vec(), &ListFilter::default(), Order::CreatedDesc, none)
        .filter(a::id.eq_any(ids))
        .load(conn)
}

/// History entries one by one: SQLite's way, in the process (PostgreSQL gets them in one
/// statement with the other records, `db::records`).
pub(super) fn add_history(conn: &mut DbConnection, rows: &[HistoryRow]) -> QueryResult<()> {
    for row in rows {
        diesel::insert_into(h::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// The history of an application, oldest first.
pub fn history(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<Vec<HistoryRow>> {
    h::table
        .filter(h::application_id.eq(id))
        .order((h::occurred_at.asc(), h::id.asc()))
        .select(HistoryRow::as_select())
        .load(conn)
}

/// Whether the account is a member of the organisation.
pub fn is_member(conn: &mut DbConnection, org: SqlUuid, account: SqlUuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        m::table
            .filter(m::organisation_id.eq(org))
            .filter(m::account_id.eq(account)),
    ))
    .get_result(conn)
}

/// Who is written to about an application, each with whether they want the mails that are
/// not essential: its resident; for an organisation, the member who made it while still a
/// member, else its owners. Only enabled accounts with a confirmed address (or one from the
/// city's identity provider).
pub fn recipients(conn: &mut DbConnection, row: &ApplicationRow) -> QueryResult<Vec<(String, bool)>> {
    use super::schema::memberships as m;
    let ids: Vec<SqlUuid> = match (row.applicant_account, row.applicant_organisation) {
        (Some(acc), _) => vec![acc],
        (None, Some(org)) => {
            let maker = uuid::Uuid::parse_str(&row.created_by).ok().map(SqlUuid);
            match maker {
                Some(acc) if is_member(conn, org, acc)? => vec![acc],
                _ => m::table
                    .filter(m::organisation_id.eq(org))
                    .filter(m::role.eq("owner"))
                    .select(m::account_id)
                    .load(conn)?,
            }
        }
        (None, None) => return Ok(Vec::new()),
    };
    use super::schema::accounts as ac;
    ac::table
        .filter(ac::id.eq_any(ids))
        .filter(mailable())
        .select((ac::email.assume_not_null(), ac::optional_mail))
        .load(conn)
}

/// Whether mail goes to an account: enabled, with a confirmed address (or one from the city's
/// identity provider).
#[diesel::dsl::auto_type]
fn mailable() -> _ {
    accounts::disabled_at.is_null().and(accounts::email.is_not_null()).and(
        accounts::email_verified_at
            .is_not_null()
            .or(accounts::external_issuer.is_not_null()),
    )
}

/// A person's language, whether they want the mails that are not essential, and the address
/// mail goes to (none unless [`mailable`]).
#[derive(Debug, Queryable)]
pub struct Contact {
    pub language: String,
    pub optional_mail: bool,
    pub address: Option<String>,
}

/// A person's [`Contact`], in one read: what an application of theirs is written in and to
/// whom its mails go (see [`recipients`]).
pub fn contact(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<Option<Contact>> {
    contact_query(id).first(conn).optional()
}

/// The query of [`contact`] (also read asynchronously, `db::reads`).
#[diesel::dsl::auto_type]
pub fn contact_query(id: SqlUuid) -> _ {
    accounts::table.filter(accounts::id.eq(id)).select((
        accounts::language,
        accounts::optional_mail,
        diesel::dsl::case_when(mailable(), accounts::email.assume_not_null()),
    ))
}

/// Sets an application's payment state (a payment booked on its bill): the revision rises,
/// the row is answered as it is now. One statement.
pub fn set_payment(
    conn: &mut DbConnection,
    id: SqlUuid,
    payment: SqlDoc,
    now: SqlTime,
) -> QueryResult<Option<ApplicationRow>> {
    let q = diesel::update(a::table.filter(a::id.eq(id))).set((
        a::payment.eq(Some(payment)),
        a::revision.eq(a::revision + 1),
        a::updated_at.eq(now),
    ));
    match conn {
        DbConnection::Pg(pg) => q.returning(ApplicationRow::as_returning()).get_result(pg).optional(),
        DbConnection::Sqlite(sq) => q.returning(ApplicationRow::as_returning()).get_result(sq).optional(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uuid(n: u128) -> SqlUuid {
        SqlUuid(uuid::Uuid::from_u128(n))
    }

    fn phase(p: &str) -> ListFilter {
        ListFilter {
            phases: vec![p.into()],
            ..ListFilter::default()
        }
    }

    #[test]
    fn quick_lists_are_the_first_pages_of_one_index_range() {
        let (resident, dep, none) = (
            Reader::Account(uuid(1)),
            Reader::Department(uuid(2)),
            ListFilter::default(),
        );
        // the applicant's own list, the partner's, and the clerks' queues by phase, by
        // assignee and by due date
        assert!(quick_list(resident, &[], &none, Order::CreatedDesc, false));
        assert!(quick_list(
            Reader::Organisation(uuid(3)),
            &[],
            &none,
            Order::CreatedDesc,
            false
        ));
        assert!(quick_list(dep, &[], &phase("submitted"), Order::SubmittedAsc, false));
        let mine = ListFilter {
            assignee: Some(uuid(4)),
            ..phase("in_review")
        };
        assert!(quick_list(dep, &[], &mine, Order::SubmittedAsc, false));
        let overdue = ListFilter {
            overdue_at: Some(SqlTime::now()),
            ..ListFilter::default()
        };
        assert!(quick_list(dep, &[], &overdue, Order::DueAsc, false));
        // a later page, a resident's organisations, more phases than one, a narrower filter,
        // an order no index of the reader's serves
        assert!(!quick_list(resident, &[], &none, Order::CreatedDesc, true));
        assert!(!quick_list(resident, &[uuid(5)], &none, Order::CreatedDesc, false));
        let two = ListFilter {
            phases: vec!["submitted".into(), "in_review".into()],
            ..ListFilter::default()
        };
        assert!(!quick_list(dep, &[], &two, Order::SubmittedAsc, false));
        let by_service = ListFilter {
            service: Some(uuid(6)),
            ..phase("submitted")
        };
        assert!(!quick_list(dep, &[], &by_service, Order::SubmittedAsc, false));
        assert!(!quick_list(dep, &[], &none, Order::CreatedDesc, false));
        assert!(!quick_list(
            Reader::Staff,
            &[],
            &phase("submitted"),
            Order::SubmittedAsc,
            false
        ));
        assert!(!quick_list(resident, &[], &none, Order::SubmittedAsc, false));
    }
}

//! Catalogue queries: the published catalogue as a whole (for the in-process snapshot) and the
//! upsert that `guichet catalogue import` (and the seed) runs.
use diesel::prelude::*;
use serde_json::{json, Value};

use super::models::*;
use super::schema::{catalogue_revision, categories, departments, service_versions, services};
use super::types::{SqlJson, SqlTime, SqlUuid};
use super::DbConnection;
use crate::domain::catalogue::{
    CatalogueFile, CategoryInput, DepartmentInput, ServiceInput, ServiceStatus, VersionState,
};
use crate::domain::lang::Lang;
use crate::domain::search::normalize;

/// The catalogue's revision counter: bumped in every transaction that changes it.
pub fn revision(conn: &mut DbConnection) -> QueryResult<i64> {
    catalogue_revision::table
        .select(catalogue_revision::revision)
        .first(conn)
}

pub fn bump_revision(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::update(catalogue_revision::table)
        .set(catalogue_revision::revision.eq(catalogue_revision::revision + 1))
        .execute(conn)?;
    Ok(())
}

/// Everything the public catalogue shows: categories, departments, services that have a
/// published version, and all their published (current and superseded) versions.
pub struct Published {
    pub revision: i64,
    pub categories: Vec<CategoryRow>,
    pub departments: Vec<DepartmentRow>,
    pub services: Vec<ServiceRow>,
    pub versions: Vec<ServiceVersionRow>,
}

pub fn load_published(conn: &mut DbConnection) -> QueryResult<Published> {
    // One read transaction, so the snapshot is consistent.
    conn.transaction(|conn| {
        let revision = revision(conn)?;
        let categories = categories::table.select(CategoryRow::as_select()).load(conn)?;
        let departments = departments::table.select(DepartmentRow::as_select()).load(conn)?;
        let services = services::table
            .filter(services::status.ne(ServiceStatus::Draft.as_str()))
            .select(ServiceRow::as_select())
            .load(conn)?;
        let versions = service_versions::table
            .filter(service_versions::state.ne(VersionState::Draft.as_str()))
            .order((service_versions::service_id, service_versions::version))
            .select(ServiceVersionRow::as_select())
            .load(conn)?;
        Ok(Published {
            revision,
            categories,
            departments,
            services,
            versions,
        })
    })
}

/// Counts of what an import changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub categories_written: usize,
    pub departments_created: usize,
    pub departments_updated: usize,
    pub services_created: usize,
    pub services_new_version: usize,
    pub services_updated: usize,
    pub services_unchanged: usize,
    pub services_retired: usize,
}

impl ImportReport {
    pub fn changed(&self) -> bool {
        self.categories_written
            + self.departments_created
            + self.departments_updated
            + self.services_created
            + self.services_new_version
            + self.services_updated
            + self.services_retired
            > 0
    }
}

/// Normalised search fields per language: name, and the name plus summary and keywords.
pub fn search_document(s: &ServiceInput) -> Value {
    let mut m = serde_json::Map::new();
    for lang in Lang::ALL {
        let c = &s.content;
        let name = normalize(c.name.text(lang));
        let mut text = vec![name.clone(), normalize(c.summary.text(lang))];
        text.extend(c.keywords.get(lang).iter().map(|w| normalize(w)));
        m.insert(lang.code().into(), json!({"name": name, "text": text.join(" | ")}));
    }
    Value::Object(m)
}

/// Idempotent upsert of a whole catalogue file by slug, in one transaction (the caller's).
/// A service whose content or form changed gets a new published version; the old one is
/// superseded and stays readable.
pub fn import(conn: &mut DbConnection, file: &CatalogueFile) -> QueryResult<ImportReport> {
    let now = SqlTime::now();
    let mut report = ImportReport::default();
    for c in &file.categories {
        upsert_category(conn, c, now, &mut report)?;
    }
    for d in &file.departments {
        upsert_department(conn, d, now, &mut report)?;
    }
    for s in &file.services {
        upsert_service(conn, s, now, &mut report)?;
    }
    if report.changed() {
        bump_revision(conn)?;
    }
    Ok(report)
}

fn to_json<T: serde::Serialize>(v: &T) -> SqlJson {
    SqlJson(serde_json::to_value(v).unwrap_or(Value::Null))
}

fn upsert_category(conn: &mut DbConnection, c: &CategoryInput, now: SqlTime, r: &mut ImportReport) -> QueryResult<()> {
    let label = to_json(&c.label);
    let existing: Option<SqlJson> = categories::table
        .find(&c.slug)
        .select(categories::label)
        .first(conn)
        .optional()?;
    match existing {
        Some(l) if l == label => {}
        Some(_) => {
            diesel::update(categories::table.find(&c.slug))
                .set((categories::label.eq(label), categories::updated_at.eq(now)))
                .execute(conn)?;
            r.categories_written += 1;
        }
        None => {
            diesel::insert_into(categories::table)
                .values(CategoryRow {
                    slug: c.slug.clone(),
                    label,
                    updated_at: now,
                })
                .execute(conn)?;
            r.categories_written += 1;
        }
    }
    Ok(())
}

fn upsert_department(
    conn: &mut DbConnection,
    d: &DepartmentInput,
    now: SqlTime,
    r: &mut ImportReport,
) -> QueryResult<()> {
    let existing: Option<DepartmentRow> = departments::table
        .filter(departments::slug.eq(&d.slug))
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()?;
    let name = to_json(&d.name);
    let verified = to_json(&d.contact_verified);
    let creditor = d.creditor.as_ref().map(to_json);
    match existing {
        Some(row) => {
            let same = row.name == name
                && row.directorate == d.directorate
                && row.email == d.email
                && row.phone == d.phone
                && row.address == d.address
                && row.website == d.website
                && row.contact_verified == verified
                && row.source == d.source
                && row.creditor == creditor;
            if !same {
                diesel::update(departments::table.find(row.id))
                    .set((
                        departments::name.eq(name),
                        departments::directorate.eq(&d.directorate),
                        departments::email.eq(&d.email),
                        departments::phone.eq(&d.phone),
                        departments::address.eq(&d.address),
                        departments::website.eq(&d.website),
                        departments::contact_verified.eq(verified),
                        departments::source.eq(&d.source),
                        departments::creditor.eq(&creditor),
                        departments::revision.eq(departments::revision + 1),
                        departments::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                r.departments_updated += 1;
            }
        }
        None => {
            diesel::insert_into(departments::table)
                .values(DepartmentRow {
                    id: SqlUuid(uuid::Uuid::now_v7()),
                    slug: d.slug.clone(),
                    name,
                    directorate: d.directorate.clone(),
                    email: d.email.clone(),
                    phone: d.phone.clone(),
                    address: d.address.clone(),
                    website: d.website.clone(),
                    contact_verified: verified,
                    source: d.source.clone(),
                    revision: 1,
                    created_at: now,
                    updated_at: now,
                    creditor,
                })
                .execute(conn)?;
            r.departments_created += 1;
        }
    }
    Ok(())
}

fn department_id(conn: &mut DbConnection, slug: &str) -> QueryResult<SqlUuid> {
    departments::table
        .filter(departments::slug.eq(slug))
        .select(departments::id)
        .first(conn)
}

fn new_version(s: &ServiceInput, service_id: SqlUuid, version: i32, now: SqlTime) -> ServiceVersionRow {
    ServiceVersionRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        service_id,
        version,
        state: VersionState::Published.as_str().into(),
        channel: s.content.channel.as_str().into(),
        content: to_json(&s.content),
        form_schema: SqlJson(s.form.schema.clone()),
        // with the authored order of every object: jsonb keeps arrays' order, not objects'
        ui_schema: Some(SqlJson(crate::domain::forms::with_orders(
            &s.form.schema,
            s.form.ui_schema.as_ref(),
        ))),
        search: SqlJson(search_document(s)),
        created_at: now,
        published_at: Some(now),
        superseded_at: None,
        revision: 1,
    }
}

fn upsert_service(conn: &mut DbConnection, s: &ServiceInput, now: SqlTime, r: &mut ImportReport) -> QueryResult<()> {
    let dep = department_id(conn, &s.department)?;
    let status = if s.retired {
        ServiceStatus::Retired
    } else {
        ServiceStatus::Active
    }
    .as_str();
    let existing: Option<ServiceRow> = services::table
        .filter(services::slug.eq(&s.slug))
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = existing else {
        let id = SqlUuid(uuid::Uuid::now_v7());
        diesel::insert_into(services::table)
            .values(ServiceRow {
                id,
                slug: s.slug.clone(),
                department_id: dep,
                category: s.category.clone(),
                status: status.into(),
                current_version: Some(1),
                revision: 1,
                created_at: now,
                updated_at: now,
                retired_at: s.retired.then_some(now),
            })
            .execute(conn)?;
        diesel::insert_into(service_versions::table)
            .values(new_version(s, id, 1, now))
            .execute(conn)?;
        r.services_created += 1;
        return Ok(());
    };

    let current: Option<ServiceVersionRow> = match row.current_version {
        Some(v) => service_versions::table
            .filter(service_versions::service_id.eq(row.id))
            .filter(service_versions::version.eq(v))
            .select(ServiceVersionRow::as_select())
            .first(conn)
            .optional()?,
        None => None,
    };
    let content = to_json(&s.content);
    let same_version = current.as_ref().is_some_and(|c| {
        c.content == content
            && c.form_schema.0 == s.form.schema
            && c.ui_schema.as_ref().map(|u| &u.0)
                == Some(&crate::domain::forms::with_orders(
                    &s.form.schema,
                    s.form.ui_schema.as_ref(),
                ))
    });
    let mut version = row.current_version;
    if !same_version {
        let next: i32 = service_versions::table
            .filter(service_versions::service_id.eq(row.id))
            .select(diesel::dsl::max(service_versions::version))
            .first::<Option<i32>>(conn)?
            .unwrap_or(0)
            + 1;
        if let Some(c) = &current {
            diesel::update(service_versions::table.find(c.id))
                .set((
                    service_versions::state.eq(VersionState::Superseded.as_str()),
                    service_versions::superseded_at.eq(now),
                ))
                .execute(conn)?;
        }
        diesel::insert_into(service_versions::table)
            .values(new_version(s, row.id, next, now))
            .execute(conn)?;
        version = Some(next);
        r.services_new_version += 1;
    }
    let row_changed = row.department_id != dep || row.category != s.category || row.status != status;
    if !same_version || row_changed {
        let retired_at = match (s.retired, row.retired_at) {
            (true, Some(t)) => Some(t),
            (true, None) => Some(now),
            (false, _) => None,
        };
        diesel::update(services::table.find(row.id))
            .set((
                services::department_id.eq(dep),
                services::category.eq(&s.category),
                services::status.eq(status),
                services::current_version.eq(version),
                services::revision.eq(services::revision + 1),
                services::updated_at.eq(now),
                services::retired_at.eq(retired_at),
            ))
            .execute(conn)?;
        if same_version {
            if s.retired && row.status() != Some(ServiceStatus::Retired) {
                r.services_retired += 1;
            } else {
                r.services_updated += 1;
            }
        }
    } else {
        r.services_unchanged += 1;
    }
    Ok(())
}

/// Number of services of any status: the seed only runs on an empty catalogue.
pub fn service_count(conn: &mut DbConnection) -> QueryResult<i64> {
    services::table.count().get_result(conn)
}

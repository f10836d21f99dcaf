//! Catalogue files in and out: `guichet catalogue import|export` and the demo seed.
use std::collections::BTreeMap;

use crate::db::catalogue::{self as q, ImportReport};
use crate::db::{write_tx, DbConnection};
use crate::domain::catalogue::*;
use crate::domain::lang::Localized;

/// The City of Thun demo catalogue, bundled so the repository works on its own.
pub const THUN_SEED: &str = include_str!("../../seed/thun-catalogue.json");

/// Parses, checks and upserts a catalogue file in one write transaction.
pub fn import_str(conn: &mut DbConnection, json: &str) -> anyhow::Result<ImportReport> {
    import_as(conn, json, "operator", std::env::var("USER").ok())
}

/// Like [`import_str`], recording who imported in the audit log (in the same transaction).
pub fn import_as(
    conn: &mut DbConnection,
    json: &str,
    actor_kind: &str,
    actor_id: Option<String>,
) -> anyhow::Result<ImportReport> {
    let file = CatalogueFile::parse(json).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("  {} ({}): {}", e.pointer, e.code, e.detail))
            .collect();
        anyhow::anyhow!("the catalogue file is invalid:\n{}", lines.join("\n"))
    })?;
    write_tx(conn, |c| -> anyhow::Result<ImportReport> {
        let report = q::import(c, &file)?;
        if report.changed() {
            let entry = crate::db::audit::AuditEntry::new("catalogue.import", actor_kind, actor_id.clone())
                .details(serde_json::to_value(report).unwrap_or_default());
            crate::db::audit::record(c, &entry)?;
        }
        Ok(report)
    })
}

/// Seeds the Thun catalogue when the database has no services yet.
pub fn seed_if_empty(conn: &mut DbConnection) -> anyhow::Result<Option<ImportReport>> {
    if q::service_count(conn)? > 0 {
        return Ok(None);
    }
    import_as(conn, THUN_SEED, "system", Some("seed".into())).map(Some)
}

/// The catalogue as an import file: every service's current version (retired ones marked).
pub fn export(conn: &mut DbConnection) -> anyhow::Result<CatalogueFile> {
    let p = q::load_published(conn)?;
    let categories = p
        .categories
        .iter()
        .map(|c| {
            Ok(CategoryInput {
                slug: c.slug.clone(),
                label: serde_json::from_value(c.label.0.clone())?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut dep_slugs = BTreeMap::new();
    let mut departments = Vec::new();
    for d in &p.departments {
        dep_slugs.insert(d.id, d.slug.clone());
        departments.push(DepartmentInput {
            slug: d.slug.clone(),
            name: serde_json::from_value::<Localized>(d.name.0.clone())?,
            directorate: d.directorate.clone(),
            email: d.email.clone(),
            phone: d.phone.clone(),
            address: d.address.clone(),
            website: d.website.clone(),
            contact_verified: serde_json::from_value(d.contact_verified.0.clone())?,
            source: d.source.clone(),
            creditor: d
                .creditor
                .as_ref()
                .map(|c| serde_json::from_value(c.0.clone()))
                .transpose()?,
        });
    }
    let mut services = Vec::new();
    for s in &p.services {
        let Some(v) = p
            .versions
            .iter()
            .find(|v| v.service_id == s.id && Some(v.version) == s.current_version)
        else {
            continue;
        };
        services.push(ServiceInput {
            slug: s.slug.clone(),
            department: dep_slugs.get(&s.department_id).cloned().unwrap_or_default(),
            category: s.category.clone(),
            content: serde_json::from_value(v.content.0.clone())?,
            form: FormDefinition {
                schema: v.form_schema.0.clone(),
                ui_schema: v.ui_schema.as_ref().map(|u| u.0.clone()),
            },
            retired: s.status() == Some(crate::domain::catalogue::ServiceStatus::Retired),
        });
    }
    services.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(CatalogueFile {
        format: FORMAT.to_string(),
        categories,
        departments,
        services,
    })
}

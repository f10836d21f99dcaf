//! An immutable, pre-rendered copy of the published catalogue. Built from the database when
//! its revision changes; every public catalogue read is answered from it without I/O.
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::views::*;
use crate::db::catalogue::Published;
use crate::domain::catalogue::{self as stored, Audience, Channel, ContactVerified, ServiceContent};
use crate::domain::forms;
pub use crate::domain::lang::Render;
use crate::domain::lang::{Lang, Localized};
pub use crate::http::rendered::{etag_revision, Rendered};

/// A translatable text as `r` renders it (one language, or every translation).
trait RenderText {
    fn text(self, l: &Localized) -> Text;
}

impl RenderText for Render {
    fn text(self, l: &Localized) -> Text {
        match self {
            Render::One(lang) => Text::One(OneText(l.text(lang).to_string())),
            Render::All => Text::All(l.clone()),
        }
    }
}

pub struct DepartmentEntry {
    pub id: Uuid,
    pub revision: i64,
    pub slug: String,
    pub name: Localized,
    pub name_key: [String; 4],
    row: DepartmentData,
    creditor: Option<crate::domain::billing::Creditor>,
}

struct DepartmentData {
    directorate: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    website: Option<String>,
    contact_verified: ContactVerified,
    source: Option<String>,
}

impl DepartmentEntry {
    /// The account its bills are paid to, if it has one.
    pub fn creditor(&self) -> Option<&crate::domain::billing::Creditor> {
        self.creditor.as_ref()
    }
}

pub struct VersionEntry {
    pub version: i32,
    pub state: VersionState,
    pub published_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub content: ServiceContent,
    pub form_schema: Value,
    pub ui_schema: Option<Value>,
    /// Normalised (name, full text) per language.
    pub search: [(String, String); 4],
    /// The compiled form, built on first use (submissions) and then shared.
    validator: std::sync::OnceLock<Result<Arc<jsonschema::Validator>, String>>,
    /// The same form for drafts ([`crate::domain::forms::draft_schema`]), built on first use.
    draft_validator: std::sync::OnceLock<Result<Arc<jsonschema::Validator>, String>>,
    /// Whether the form has phone fields and file fields, found on first use.
    formats: std::sync::OnceLock<FormFormats>,
}

/// The formats a submission's data is walked for: without such a field, the walk is skipped.
#[derive(Debug, Clone, Copy)]
pub struct FormFormats {
    /// `format: phone`, normalised to E.164 on submission.
    pub phone: bool,
    /// `format: document-id`, a file field.
    pub document: bool,
}

impl VersionEntry {
    /// The version's form, compiled once per snapshot.
    pub fn validator(&self) -> Result<Arc<jsonschema::Validator>, String> {
        self.validator
            .get_or_init(|| crate::domain::forms::compile(&self.form_schema).map(Arc::new))
            .clone()
    }

    /// What a draft of this version is checked against on every write.
    pub fn draft_validator(&self) -> Result<Arc<jsonschema::Validator>, String> {
        self.draft_validator
            .get_or_init(|| crate::domain::forms::compile_draft(&self.form_schema).map(Arc::new))
            .clone()
    }

    /// Which of the formats a submission is walked for the form has anywhere.
    pub fn formats(&self) -> FormFormats {
        *self.formats.get_or_init(|| FormFormats {
            phone: crate::domain::submission::mentions_format(&self.form_schema, "phone"),
            document: crate::domain::submission::mentions_format(&self.form_schema, "document-id"),
        })
    }
}

pub struct ServiceEntry {
    pub id: Uuid,
    pub revision: i64,
    pub slug: String,
    pub status: ServiceStatus,
    pub department: usize,
    pub category: String,
    pub retired_at: Option<DateTime<Utc>>,
    /// Index into `versions` of the current version.
    pub current: usize,
    pub versions: Vec<VersionEntry>,
    /// Normalised current name per language, the sort key of listings.
    pub name_key: [String; 4],
    /// Pre-rendered current version: listing item, full resource, form schema.
    pub summary: [Rendered; 5],
    pub full: [Rendered; 5],
    pub form: [Rendered; 5],
}

impl ServiceEntry {
    pub fn current(&self) -> &VersionEntry {
        &self.versions[self.current]
    }
    pub fn audience(&self) -> &[Audience] {
        &self.current().content.audience
    }
    pub fn channel(&self) -> Channel {
        self.current().content.channel
    }
}

pub struct Snapshot {
    pub revision: i64,
    pub services: Vec<ServiceEntry>,
    pub departments: Vec<DepartmentEntry>,
    categories: HashMap<String, Localized>,
    service_keys: HashMap<String, usize>,
    department_keys: HashMap<String, usize>,
    public_url: String,
}

fn parse_json<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("{what}: {e}"))
}

fn name_keys(l: &Localized) -> [String; 4] {
    Lang::ALL.map(|lang| crate::domain::search::normalize(l.text(lang)))
}

impl Snapshot {
    pub fn empty(public_url: &str) -> Snapshot {
        Snapshot {
            revision: -1,
            services: Vec::new(),
            departments: Vec::new(),
            categories: HashMap::new(),
            service_keys: HashMap::new(),
            department_keys: HashMap::new(),
            public_url: public_url.to_string(),
        }
    }

    pub fn build(p: Published, public_url: &str) -> Result<Snapshot, String> {
        let mut snap = Snapshot::empty(public_url);
        snap.revision = p.revision;
        for c in p.categories {
            snap.categories
                .insert(c.slug, parse_json(&c.label.0, "category label")?);
        }
        let mut deps: Vec<DepartmentEntry> = Vec::new();
        for d in p.departments {
            let name: Localized = parse_json(&d.name.0, "department name")?;
            deps.push(DepartmentEntry {
                id: d.id.0,
                revision: d.revision,
                slug: d.slug,
                name_key: name_keys(&name),
                name,
                row: DepartmentData {
                    directorate: d.directorate,
                    email: d.email,
                    phone: d.phone,
                    address: d.address,
                    website: d.website,
                    contact_verified: parse_json(&d.contact_verified.0, "contact_verified")?,
                    source: d.source,
                },
                creditor: d
                    .creditor
                    .as_ref()
                    .map(|c| parse_json(&c.0, "department creditor"))
                    .transpose()?,
            });
        }
        deps.sort_by(|a, b| a.name_key[0].cmp(&b.name_key[0]).then(a.id.cmp(&b.id)));
        for (i, d) in deps.iter().enumerate() {
            snap.department_keys.insert(d.slug.clone(), i);
            snap.department_keys.insert(d.id.to_string(), i);
        }
        snap.departments = deps;

        let mut versions: HashMap<Uuid, Vec<VersionEntry>> = HashMap::new();
        for v in p.versions {
            let published = v.state() == Some(stored::VersionState::Published);
            let search: Value = v.search.0;
            let s = |lang: Lang, k: &str| search[lang.code()][k].as_str().unwrap_or("").to_string();
            // the form as served and enforced (bounds, order) and its UI schema (orders, file
            // widgets), made once here
            let content: ServiceContent = parse_json(&v.content.0, "service content")?;
            let limits = content.document_limits.clone().unwrap_or_default();
            let ui_schema =
                crate::domain::forms::served_ui_schema(&v.form_schema.0, v.ui_schema.as_ref().map(|u| &u.0), &limits);
            let form_schema = crate::domain::forms::served_schema(&v.form_schema.0, &ui_schema);
            versions.entry(v.service_id.0).or_default().push(VersionEntry {
                version: v.version,
                state: if published {
                    VersionState::Published
                } else {
                    VersionState::Superseded
                },
                published_at: v.published_at.map(|t| t.0),
                superseded_at: v.superseded_at.map(|t| t.0),
                content,
                form_schema,
                ui_schema: Some(ui_schema),
                search: Lang::ALL.map(|l| (s(l, "name"), s(l, "text"))),
                validator: Default::default(),
                draft_validator: Default::default(),
                formats: Default::default(),
            });
        }
        for s in p.services {
            let Some(vs) = versions.remove(&s.id.0) else { continue };
            let Some(current) = s.current_version.and_then(|cv| vs.iter().position(|v| v.version == cv)) else {
                continue;
            };
            let Some(&department) = snap.department_keys.get(&s.department_id.0.to_string()) else {
                continue;
            };
            let status = if s.status() == Some(stored::ServiceStatus::Retired) {
                ServiceStatus::Retired
            } else {
                ServiceStatus::Active
            };
            let empty = || Render::ALL.map(|_| Rendered::from_bytes(Bytes::new(), "de"));
            let mut entry = ServiceEntry {
                id: s.id.0,
                revision: s.revision,
                slug: s.slug,
                status,
                department,
                category: s.category,
                retired_at: s.retired_at.map(|t| t.0),
                current,
                name_key: name_keys(&vs[current].content.name),
                versions: vs,
                summary: empty(),
                full: empty(),
                form: empty(),
            };
            entry.summary = Render::ALL.map(|r| snap.render_summary(&entry, r));
            entry.full = Render::ALL.map(|r| snap.render_version(&entry, entry.current, r));
            entry.form = Render::ALL.map(|r| snap.render_form(&entry, entry.current, r));
            snap.services.push(entry);
        }
        for (i, s) in snap.services.iter().enumerate() {
            snap.service_keys.insert(s.slug.clone(), i);
            snap.service_keys.insert(s.id.to_string(), i);
        }
        Ok(snap)
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// A service by slug or id (any letter case of the id).
    pub fn service(&self, key: &str) -> Option<&ServiceEntry> {
        let i = match self.service_keys.get(key) {
            Some(i) => *i,
            None => *self.service_keys.get(&Uuid::parse_str(key).ok()?.to_string())?,
        };
        self.services.get(i)
    }

    pub fn department(&self, key: &str) -> Option<(usize, &DepartmentEntry)> {
        let i = match self.department_keys.get(key) {
            Some(i) => *i,
            None => *self.department_keys.get(&Uuid::parse_str(key).ok()?.to_string())?,
        };
        self.departments.get(i).map(|d| (i, d))
    }

    pub fn has_category(&self, slug: &str) -> bool {
        self.categories.contains_key(slug)
    }

    fn served_language(l: &Localized, r: Render) -> &'static str {
        match r {
            Render::One(lang) => l.get(lang).1.code(),
            Render::All => "de, fr, it, en",
        }
    }

    fn department_ref(&self, d: &DepartmentEntry, r: Render) -> DepartmentRef {
        DepartmentRef {
            id: d.id,
            slug: d.slug.clone(),
            name: r.text(&d.name),
            email: d.row.email.clone(),
            phone: d.row.phone.clone(),
            address: d.row.address.clone(),
            website: d.row.website.clone(),
            href: format!("{}/v1/departments/{}", self.public_url, d.slug),
        }
    }

    fn summary_view(&self, s: &ServiceEntry, v: &VersionEntry, r: Render) -> ServiceSummary {
        let c = &v.content;
        let label = self.categories.get(&s.category).cloned().unwrap_or_else(|| Localized {
            de: s.category.clone(),
            fr: None,
            it: None,
            en: None,
        });
        ServiceSummary {
            id: s.id,
            slug: s.slug.clone(),
            version: v.version,
            status: s.status,
            name: r.text(&c.name),
            summary: r.text(&c.summary),
            department: self.department_ref(&self.departments[s.department], r),
            category: CategoryView {
                slug: s.category.clone(),
                label: r.text(&label),
            },
            audience: c.audience.clone(),
            fee: FeeView {
                amount: c.fee.amount,
                currency: c.fee.currency.clone(),
                basis: c.fee.basis,
                note: c.fee.note.as_ref().map(|n| r.text(n)),
                verified: c.fee.verified,
            },
            processing_time: ProcessingTimeView {
                days: c.processing_time.days,
                unit: c.processing_time.unit,
                verified: c.processing_time.verified,
            },
            channel: c.channel,
            external_url: c.external_url.clone(),
            accepts_applications: c.channel == Channel::Guichet
                && s.status == ServiceStatus::Active
                && v.state == VersionState::Published,
            requires_login: c.requires_login,
            href: format!("{}/v1/services/{}", self.public_url, s.slug),
        }
    }

    fn render_summary(&self, s: &ServiceEntry, r: Render) -> Rendered {
        let v = s.current();
        Rendered::new(&self.summary_view(s, v, r), Self::served_language(&v.content.name, r))
    }

    pub fn version_view(&self, s: &ServiceEntry, idx: usize, r: Render) -> Service {
        let v = &s.versions[idx];
        let c = &v.content;
        let mut summary = self.summary_view(s, v, r);
        let form_path = if idx == s.current {
            format!("{}/v1/services/{}/form", self.public_url, s.slug)
        } else {
            summary.href = format!("{}/v1/services/{}/versions/{}", self.public_url, s.slug, v.version);
            format!("{}/v1/services/{}/versions/{}/form", self.public_url, s.slug, v.version)
        };
        let keywords = match r {
            Render::One(lang) => KeywordsView::One(OneKeywords(c.keywords.get(lang).to_vec())),
            Render::All => KeywordsView::All(c.keywords.clone()),
        };
        Service {
            summary,
            description: c.description.as_ref().map(|d| r.text(d)),
            keywords,
            documents_required: c.documents_required.iter().map(|d| r.text(d)).collect(),
            form: FormView {
                schema_url: form_path,
                ui_schema: v.ui_schema.clone(),
            },
            source: c.source.clone(),
            representation: c.representation,
            retention_days: crate::domain::retention::days(c.retention_days),
            version_state: v.state,
            published_at: v.published_at,
            superseded_at: v.superseded_at,
            retired_at: s.retired_at,
        }
    }

    pub fn render_version(&self, s: &ServiceEntry, idx: usize, r: Render) -> Rendered {
        let lang = Self::served_language(&s.versions[idx].content.name, r);
        let rendered = Rendered::new(&self.version_view(s, idx, r), lang);
        if idx == s.current {
            rendered.with_revision(s.revision)
        } else {
            rendered
        }
    }

    pub fn render_form(&self, s: &ServiceEntry, idx: usize, r: Render) -> Rendered {
        let v = &s.versions[idx];
        match r {
            Render::One(lang) => Rendered::new(
                &forms::localize(&v.form_schema, lang),
                Self::served_language(&v.content.name, r),
            ),
            Render::All => Rendered::new(&v.form_schema, "de, fr, it, en"),
        }
    }

    pub fn version_summaries(&self, s: &ServiceEntry) -> Vec<ServiceVersionSummary> {
        s.versions
            .iter()
            .rev()
            .map(|v| ServiceVersionSummary {
                version: v.version,
                state: v.state,
                published_at: v.published_at,
                superseded_at: v.superseded_at,
                href: format!("{}/v1/services/{}/versions/{}", self.public_url, s.slug, v.version),
            })
            .collect()
    }

    pub fn department_view(&self, idx: usize, r: Render) -> Department {
        let d = &self.departments[idx];
        Department {
            id: d.id,
            slug: d.slug.clone(),
            name: r.text(&d.name),
            directorate: d.row.directorate.clone(),
            email: d.row.email.clone(),
            phone: d.row.phone.clone(),
            address: d.row.address.clone(),
            website: d.row.website.clone(),
            contact_verified: d.row.contact_verified.clone(),
            source: d.row.source.clone(),
            creditor: d.creditor.clone(),
            service_count: self
                .services
                .iter()
                .filter(|s| s.department == idx && s.status == ServiceStatus::Active)
                .count(),
            href: format!("{}/v1/departments/{}", self.public_url, d.slug),
        }
    }

    pub fn department_detail(&self, idx: usize, r: Render) -> DepartmentDetail {
        let lang = r.lang().index();
        let mut services: Vec<&ServiceEntry> = self
            .services
            .iter()
            .filter(|s| s.department == idx && s.status == ServiceStatus::Active)
            .collect();
        services.sort_by(|a, b| a.name_key[lang].cmp(&b.name_key[lang]).then(a.id.cmp(&b.id)));
        DepartmentDetail {
            department: self.department_view(idx, r),
            services: services
                .into_iter()
                .map(|s| DepartmentServiceRef {
                    id: s.id,
                    slug: s.slug.clone(),
                    name: r.text(&s.current().content.name),
                    channel: s.channel(),
                    href: format!("{}/v1/services/{}", self.public_url, s.slug),
                })
                .collect(),
        }
    }

    pub fn department_language(&self, idx: usize, r: Render) -> &'static str {
        Self::served_language(&self.departments[idx].name, r)
    }
}

pub type SharedSnapshot = Arc<Snapshot>;

//! Listing and searching the published catalogue, with keyset pagination over the snapshot.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::snapshot::{Render, ServiceEntry, Snapshot};
use super::views::ServiceStatus;
use crate::domain::catalogue::{Audience, Channel};
use crate::domain::search::normalize;

/// Which services a listing shows.
#[derive(Debug, Default)]
pub struct ServiceFilter {
    pub department: Option<usize>,
    pub category: Option<String>,
    pub audience: Option<Audience>,
    pub channel: Option<Channel>,
    pub status: Option<ServiceStatus>,
    /// Normalised search words (all must match).
    pub words: Vec<String>,
}

/// The position after which the next page starts: (rank, name key, id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceKey(pub u8, pub String, pub Uuid);

pub fn search_words(q: &str) -> Vec<String> {
    normalize(q)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(10)
        .map(str::to_string)
        .collect()
}

/// Rank of a service for the search words: 0 when every word is in the name, 1 when every
/// word is somewhere in the text; `None` when it does not match.
fn rank(s: &ServiceEntry, lang: usize, words: &[String]) -> Option<u8> {
    if words.is_empty() {
        return Some(0);
    }
    let (name, text) = &s.current().search[lang];
    if words.iter().all(|w| name.contains(w.as_str())) {
        Some(0)
    } else if words.iter().all(|w| text.contains(w.as_str())) {
        Some(1)
    } else {
        None
    }
}

/// One page of services after `after`, and the key to continue from when there are more.
pub fn list_services<'a>(
    snap: &'a Snapshot,
    filter: &ServiceFilter,
    render: Render,
    after: Option<&ServiceKey>,
    limit: usize,
) -> (Vec<&'a ServiceEntry>, Option<ServiceKey>) {
    let lang = render.lang().index();
    let status = filter.status.unwrap_or(ServiceStatus::Active);
    let mut hits: Vec<(ServiceKey, &ServiceEntry)> = snap
        .services
        .iter()
        .filter(|s| s.status == status)
        .filter(|s| filter.department.is_none_or(|d| s.department == d))
        .filter(|s| filter.category.as_ref().is_none_or(|c| &s.category == c))
        .filter(|s| filter.audience.is_none_or(|a| s.audience().contains(&a)))
        .filter(|s| filter.channel.is_none_or(|c| s.channel() == c))
        .filter_map(|s| {
            let r = rank(s, lang, &filter.words)?;
            let key = ServiceKey(r, s.name_key[lang].clone(), s.id);
            after.is_none_or(|a| &key > a).then_some((key, s))
        })
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0));
    let more = hits.len() > limit;
    hits.truncate(limit);
    let next = if more {
        hits.last().map(|(k, _)| k.clone())
    } else {
        None
    };
    (hits.into_iter().map(|(_, s)| s).collect(), next)
}

/// Departments in name order after `after` (name key, id).
pub fn list_departments(
    snap: &Snapshot,
    render: Render,
    after: Option<&(String, Uuid)>,
    limit: usize,
) -> (Vec<usize>, Option<(String, Uuid)>) {
    let lang = render.lang().index();
    let mut keys: Vec<((String, Uuid), usize)> = snap
        .departments
        .iter()
        .enumerate()
        .map(|(i, d)| ((d.name_key[lang].clone(), d.id), i))
        .filter(|(k, _)| after.is_none_or(|a| k > a))
        .collect();
    keys.sort();
    let more = keys.len() > limit;
    keys.truncate(limit);
    let next = if more {
        keys.last().map(|(k, _)| k.clone())
    } else {
        None
    };
    (keys.into_iter().map(|(_, i)| i).collect(), next)
}

//! OpenAPI links (OpenAPI 3.1, "Link Object"): which operation an answer leads to, and
//! where the next call's parameters come from in it. Clients and generators may follow
//! them; Schemathesis's stateful phase (scripts/api-checks) chains calls along them
//! (create → read, update with the ETag, submit, upload, process...), so that the run
//! reaches real resources instead of random ids.
//!
//! One table, added to the built document by [`add`]; `links_name_real_operations`
//! (a unit test) and openapi-spec-validator keep it honest.
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};

/// Where a parameter of the next call comes from: `(parameter, runtime expression)`.
type Params = &'static [(&'static str, &'static str)];

/// An application answer: its id, and its ETag for the conditional writes.
const APP: Params = &[("path.id", "$response.body#/id")];
const APP_IF_MATCH: Params = &[
    ("path.id", "$response.body#/id"),
    ("header.If-Match", "$response.header.ETag"),
];
/// The first item of a page of applications.
const APP_IN_PAGE: Params = &[("path.id", "$response.body#/data/0/id")];
/// A document answer, on the application of the request.
const DOCUMENT: Params = &[
    ("path.id", "$request.path.id"),
    ("path.document_id", "$response.body#/id"),
];
const DOCUMENT_IN_LIST: Params = &[
    ("path.id", "$request.path.id"),
    ("path.document_id", "$response.body#/data/0/id"),
];
/// A message answer, on the application of the request.
const MESSAGE: Params = &[
    ("path.id", "$request.path.id"),
    ("path.message_id", "$response.body#/id"),
];
const MESSAGE_IN_PAGE: Params = &[
    ("path.id", "$request.path.id"),
    ("path.message_id", "$response.body#/data/0/id"),
];
/// The application of the request.
const SAME_APP: Params = &[("path.id", "$request.path.id")];
/// The public tracking of a submitted application.
const TRACKING: Params = &[
    ("path.reference", "$response.body#/reference"),
    ("header.X-Tracking-Code", "$response.body#/tracking_code"),
];
const ORGANISATION: Params = &[("path.organisation", "$response.body#/id")];
const ORGANISATION_IF_MATCH: Params = &[
    ("path.organisation", "$response.body#/id"),
    ("header.If-Match", "$response.header.ETag"),
];
const ORGANISATION_IN_PAGE: Params = &[("path.organisation", "$response.body#/data/0/id")];
const MEMBER: Params = &[
    ("path.organisation", "$request.path.organisation"),
    ("path.account", "$response.body#/account_id"),
];
const CLIENT: Params = &[
    ("path.organisation", "$request.path.organisation"),
    ("path.client", "$response.body#/client_id"),
];
const CLIENT_IN_LIST: Params = &[
    ("path.organisation", "$request.path.organisation"),
    ("path.client", "$response.body#/0/client_id"),
];
/// A version as editors see it (`EditorVersion`).
const SERVICE: Params = &[("path.service", "$response.body#/service")];
const VERSION: Params = &[
    ("path.service", "$response.body#/service"),
    ("path.version", "$response.body#/version"),
];
const VERSION_IF_MATCH: Params = &[
    ("path.service", "$response.body#/service"),
    ("path.version", "$response.body#/version"),
    ("header.If-Match", "$response.header.ETag"),
];
const DEPARTMENT: Params = &[("path.department", "$response.body#/slug")];
const DEPARTMENT_IF_MATCH: Params = &[
    ("path.department", "$response.body#/slug"),
    ("header.If-Match", "$response.header.ETag"),
];
const IF_MATCH: Params = &[("header.If-Match", "$response.header.ETag")];
/// A published service (`Service`), retired with its ETag.
const RETIRE: Params = &[
    ("path.service", "$response.body#/slug"),
    ("header.If-Match", "$response.header.ETag"),
];

/// What an application answer leads to: reading it and its parts, changing it with its
/// ETag, and (once submitted) following it publicly.
const FROM_APPLICATION: &[Link] = &[
    ("GetApplication", "get_application", APP),
    ("ListHistory", "list_application_history", APP),
    ("ListDocuments", "list_documents", APP),
    ("GetInvoice", "get_invoice", APP),
    ("UploadDocument", "upload_document", APP),
    ("ListMessages", "list_messages", APP),
    ("PostMessage", "post_message", APP),
    ("GetReadMarkers", "get_read_markers", APP),
    ("UpdateApplication", "update_application", APP_IF_MATCH),
    ("DeleteApplication", "delete_application", APP_IF_MATCH),
    ("SubmitApplication", "submit_application", APP_IF_MATCH),
    ("WithdrawApplication", "withdraw_application", APP_IF_MATCH),
    ("TransitionApplication", "transition_application", APP_IF_MATCH),
    ("AssignApplication", "assign_application", APP_IF_MATCH),
];

/// A link: `(name, target operation, parameters)`.
type Link = (&'static str, &'static str, Params);

/// `(operation, status)` → its links.
fn table() -> Vec<(&'static str, &'static str, Vec<Link>)> {
    let app = FROM_APPLICATION.to_vec();
    vec![
        ("create_application", "201", app.clone()),
        ("get_application", "200", app.clone()),
        ("update_application", "200", app.clone()),
        ("submit_application", "200", {
            let mut submitted = app.clone();
            submitted.push(("TrackApplication", "get_application_status", TRACKING));
            submitted
        }),
        ("withdraw_application", "200", app.clone()),
        ("transition_application", "200", app.clone()),
        ("assign_application", "200", app),
        (
            "list_applications",
            "200",
            vec![
                ("GetApplication", "get_application", APP_IN_PAGE),
                ("ListHistory", "list_application_history", APP_IN_PAGE),
                ("ListDocuments", "list_documents", APP_IN_PAGE),
            ],
        ),
        (
            "upload_document",
            "201",
            vec![
                ("GetDocument", "get_document", DOCUMENT),
                ("DownloadDocument", "download_document", DOCUMENT),
                ("DeleteDocument", "delete_document", DOCUMENT),
            ],
        ),
        (
            "post_message",
            "201",
            vec![
                ("GetMessage", "get_message", MESSAGE),
                ("ListMessages", "list_messages", SAME_APP),
                ("GetReadMarkers", "get_read_markers", SAME_APP),
            ],
        ),
        (
            "list_messages",
            "200",
            vec![("GetMessage", "get_message", MESSAGE_IN_PAGE)],
        ),
        (
            "list_documents",
            "200",
            vec![
                ("GetDocument", "get_document", DOCUMENT_IN_LIST),
                ("DownloadDocument", "download_document", DOCUMENT_IN_LIST),
            ],
        ),
        (
            "create_organisation",
            "201",
            vec![
                ("GetOrganisation", "get_organisation", ORGANISATION),
                ("ListMembers", "list_members", ORGANISATION),
                ("AddMember", "add_member", ORGANISATION),
                ("ListClients", "list_organisation_clients", ORGANISATION),
                ("CreateClient", "create_organisation_client", ORGANISATION),
                ("DecideOrganisation", "decide_organisation", ORGANISATION_IF_MATCH),
            ],
        ),
        (
            "get_organisation",
            "200",
            vec![
                ("ListMembers", "list_members", ORGANISATION),
                ("AddMember", "add_member", ORGANISATION),
                ("ListClients", "list_organisation_clients", ORGANISATION),
                ("CreateClient", "create_organisation_client", ORGANISATION),
                ("DecideOrganisation", "decide_organisation", ORGANISATION_IF_MATCH),
            ],
        ),
        (
            "list_organisations",
            "200",
            vec![("GetOrganisation", "get_organisation", ORGANISATION_IN_PAGE)],
        ),
        ("add_member", "201", vec![("RemoveMember", "remove_member", MEMBER)]),
        (
            "create_organisation_client",
            "201",
            vec![
                ("RotateSecret", "rotate_organisation_client_secret", CLIENT),
                ("DisableClient", "disable_organisation_client", CLIENT),
            ],
        ),
        (
            "list_organisation_clients",
            "200",
            vec![
                ("RotateSecret", "rotate_organisation_client_secret", CLIENT_IN_LIST),
                ("DisableClient", "disable_organisation_client", CLIENT_IN_LIST),
            ],
        ),
        (
            "create_service",
            "201",
            vec![
                ("GetVersion", "get_service_version", VERSION),
                ("UpdateDraft", "update_service_draft", VERSION_IF_MATCH),
                ("PublishVersion", "publish_service_version", VERSION_IF_MATCH),
                ("ListVersions", "list_service_versions", SERVICE),
                ("CreateDraft", "create_service_draft", SERVICE),
            ],
        ),
        (
            "create_service_draft",
            "201",
            vec![
                ("GetVersion", "get_service_version", VERSION),
                ("UpdateDraft", "update_service_draft", VERSION_IF_MATCH),
                ("PublishVersion", "publish_service_version", VERSION_IF_MATCH),
            ],
        ),
        (
            "update_service_draft",
            "200",
            vec![("PublishVersion", "publish_service_version", VERSION_IF_MATCH)],
        ),
        (
            "publish_service_version",
            "200",
            vec![
                ("GetService", "get_service", SERVICE),
                ("GetForm", "get_service_form", SERVICE),
                ("CreateDraft", "create_service_draft", SERVICE),
            ],
        ),
        ("get_service", "200", vec![("RetireService", "retire_service", RETIRE)]),
        (
            "create_department",
            "201",
            vec![
                ("GetDepartment", "get_department", DEPARTMENT),
                ("UpdateDepartment", "update_department", DEPARTMENT_IF_MATCH),
            ],
        ),
        (
            "get_department",
            "200",
            vec![("UpdateDepartment", "update_department", DEPARTMENT_IF_MATCH)],
        ),
        ("get_me", "200", vec![("UpdateMe", "update_me", IF_MATCH)]),
    ]
}

/// Adds the links of [`table`] to the responses of `api`. A row whose operation or status
/// is not in the document is a programming error, caught by the unit test below.
pub fn add(api: &mut OpenApi) {
    let rows = table();
    for op in super::openapi::operations_mut(api) {
        let Some(id) = op.operation_id.clone() else { continue };
        for (_, status, links) in rows.iter().filter(|(from, _, _)| *from == id) {
            let Some(RefOr::T(response)) = op.responses.responses.get_mut(*status) else {
                continue;
            };
            for (name, target, params) in links {
                let mut link = LinkBuilder::new().operation_id(*target);
                for (param, expr) in params.iter() {
                    link = link.parameter(*param, *expr);
                }
                response.links.insert((*name).to_string(), RefOr::T(link.build()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_real_operations() {
        let api = crate::api::openapi();
        let doc = serde_json::to_value(&api).unwrap();
        let mut ops = std::collections::HashMap::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                    ops.insert(id.to_string(), op.clone());
                }
            }
        }
        for (from, status, links) in table() {
            let op = ops.get(from).unwrap_or_else(|| panic!("no operation {from}"));
            assert!(op["responses"][status].is_object(), "{from} has no {status} answer");
            for (name, target, params) in links {
                let t = ops
                    .get(target)
                    .unwrap_or_else(|| panic!("{from}/{name}: no operation {target}"));
                let declared: Vec<String> = t["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .map(|p| format!("{}.{}", p["in"].as_str().unwrap(), p["name"].as_str().unwrap()))
                            .collect()
                    })
                    .unwrap_or_default();
                for (param, _) in params {
                    assert!(
                        declared.iter().any(|d| d == param),
                        "{from}/{name}: {target} has no parameter {param} (has {declared:?})"
                    );
                }
            }
        }
    }
}

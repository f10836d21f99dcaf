//! `/v1/applications/{id}/documents`: the documents of an application.
use actix_multipart::Multipart;
use actix_web::http::header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::web::{Path, Payload};
use actix_web::{delete, get, post, HttpRequest, HttpResponse};

use super::{Apps, IdempotencyKey};
use crate::applications::documents as docs;
use crate::applications::process::{self, Attached, NewApplication};
use crate::applications::{access, views};
use crate::auth::Caller;
use crate::domain::documents::ascii_filename;
use crate::domain::ids::{ApplicationId, DocumentId};
use crate::error::{ApiError, Problem, ProblemKind};
use crate::http::extract::{json_object, media_type, StrictQuery};
use crate::http::upload::{self, too_big};
use crate::msg;

/// Room for the multipart envelope (boundaries, part headers) around the file itself.
const ENVELOPE: u64 = 64 * 1024;

fn require_multipart(req: &HttpRequest) -> Result<(), ApiError> {
    if media_type(req) != "multipart/form-data" {
        return Err(ApiError::new(
            ProblemKind::UnsupportedMediaType,
            msg!("Send the document as multipart/form-data, in a part named file."),
        ));
    }
    Ok(())
}

/// The `Content-Length` the client declared, if any (checked before anything is read).
fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
}

/// A file as it was received, to be recorded (answering the department's `request`).
fn received(got: upload::Received, request: Option<uuid::Uuid>) -> docs::Upload {
    docs::Upload {
        filename: got.filename,
        media_type: got.media_type.to_string(),
        size: got.size,
        sha256: got.sha256,
        request,
        decision: false,
    }
}

/// The query of an upload.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The department's request for a document that this document answers.
    request: Option<uuid::Uuid>,
    /// The department: a correction of its decision, once the application is decided (a
    /// decision is otherwise named with the deciding move, `decision_documents`).
    decision: Option<bool>,
}

/// The body of an upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DocumentUpload {
    /// The file, with its file name and its media type (`application/pdf`, `image/png`,
    /// `image/jpeg`, as the service allows) in the part's headers.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A new application with its documents, in one `multipart/form-data` request: the part
/// `application` (the application as JSON, first), then each file in a part named `documents`
/// with its own file name (a file field of the form holds that name).
pub struct ApplicationWithDocuments;

impl utoipa::PartialSchema for ApplicationWithDocuments {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type,
        };
        let file = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some(
                "A file, with its own file name and its media type; the service's document limits apply.",
            ));
        let documents = ArrayBuilder::new().items(file).max_items(Some(100)).description(Some(
            "The files, each in a part named `documents` with its file name (unique among them); a file \
             field of the form (`format: document-id`), or `applicant.on_behalf_of.power_of_attorney`, \
             holds that file name, and the answer holds the new document's id there instead. Every file \
             is named by a field.",
        ));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The part `application` (the application as JSON, first), then one part `documents` per \
                 file.",
            ))
            .property("application", utoipa::openapi::Ref::from_schema_name("NewApplication"))
            .required("application")
            .property("documents", documents)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl utoipa::ToSchema for ApplicationWithDocuments {}

/// Creates an application with the files of a multipart body (see `create_application`):
/// the files are stored under the new application's id, then the application, its documents
/// and its submission are written in one transaction; when that fails, the files go again.
pub(super) async fn create_with_files(
    req: &HttpRequest,
    caller: &Caller,
    payload: Payload,
    apps: &Apps,
) -> Result<crate::applications::ApplicationRow, ApiError> {
    let mut body = Multipart::new(req.headers(), payload.into_inner());
    let json = upload::json_part(&mut body, "application", apps.settings.body_limit).await?;
    let input: NewApplication = json_object(&json)?;
    let limits = docs::limits_of(&apps.cache.get(), &input.service);
    let id = ApplicationId(uuid::Uuid::now_v7());
    let mut made: Vec<DocumentId> = Vec::new();
    let files = upload::receive_files(&mut body, &limits, &apps.documents, || {
        let (doc, key) = docs::new_document(id);
        made.push(doc);
        key
    })
    .await?;
    let keys: Vec<String> = files.iter().map(|f| f.key.clone()).collect();
    let documents = files
        .into_iter()
        .zip(made)
        .map(|(f, doc)| {
            (
                f.name,
                docs::stored_row(caller, id, (doc, f.key), received(f.received, None)),
            )
        })
        .collect();
    let ctx = apps.ctx(req, caller);
    let attached = Attached { id, documents };
    let result = async {
        let contact = apps.contact(&ctx, &input, true).await?;
        apps.auth
            .db
            .write(move |conn| process::create_with_documents(conn, &ctx, input, attached, contact))
            .await
    }
    .await;
    if result.is_err() {
        apps.documents.remove(keys).await;
    }
    result
}

/// The bytes of a document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct DocumentBytes(Vec<u8>);

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DocumentList {
    /// At most the 100 files a service's document limits can allow.
    #[schema(max_items = 100)]
    data: Vec<views::Document>,
}

/// Add a document
///
/// Uploads one file as `multipart/form-data`, in a part named `file`. The applicant adds
/// documents while the application is a draft or waits for them (`action_required`); the
/// department processing it adds its own once it is submitted (a decision is named with the
/// deciding move; `?decision=true` adds a correction once decided). The
/// service decides which types it takes and how large they may be (by default PDF, PNG and
/// JPEG, 20 MB each, 20 files); the type the part declares must be what its bytes are. A
/// form's file fields then hold the returned `id`. A document the department asked for is
/// uploaded with `?request=` and the request's id (the application's `requests`).
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"]), ("oauth2" = ["applications:process"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), UploadParams, IdempotencyKey),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = views::Document, headers(("Location" = String))),
        (status = 400, description = "The multipart body cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotTheApplicant),
        (status = 404, response = crate::api::responses::NoSuchApplication),
        (status = 409, description = "Not in a phase that takes documents, or as many documents as the service takes", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the service allows", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data, or a type the service does not take", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No file part, no file name, an empty file, bytes that are not the declared type, or a request that is not an open request for a document", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/documents")]
pub async fn upload_document(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(q): StrictQuery<UploadParams>,
    path: Path<ApplicationId>,
    payload: Payload,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    require_multipart(&req)?;
    let (who, snap) = (caller.clone(), apps.cache.get());
    let (request, decision) = (q.request, q.decision.unwrap_or(false));
    let limits = apps
        .auth
        .db
        .run(move |c| docs::may_add(c, &who, &snap, id, request, decision))
        .await?;
    if declared_length(&req).is_some_and(|n| n > limits.max_bytes + ENVELOPE) {
        return Err(too_big(&limits));
    }
    let (doc, key) = docs::new_document(id);
    let body = Multipart::new(req.headers(), payload.into_inner());
    let mut upload = received(upload::receive(body, &limits, &apps.documents, &key).await?, request);
    upload.decision = decision;
    let ctx = apps.ctx(&req, &caller);
    let saved = docs::record_upload(&apps.auth.db, &apps.documents, ctx, id, (doc, key), upload).await?;
    let snap = apps.cache.get();
    let location = views::document_url(&snap, id.0, doc.0);
    let view = views::document(&snap, saved);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// List an application's documents
///
/// Every document of the application, oldest first (at most the 100 a service can allow,
/// so there is no paging). Whoever may read the application may read its documents.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The documents", body = DocumentList),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, response = crate::api::responses::NoSuchApplication),
    )
)]
#[get("/applications/{id}/documents")]
pub async fn list_documents(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<ApplicationId>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let id = path.into_inner();
    let who = caller.clone();
    let rows = apps.auth.db.run(move |c| docs::list(c, &who, id)).await?;
    let snap = apps.cache.get();
    let data: Vec<views::Document> = rows.into_iter().map(|d| views::document(&snap, d)).collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "data": data })))
}

/// Read a document's description
///
/// Its file name, media type, size and SHA-256, and the address its bytes are downloaded
/// from.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("document_id" = uuid::Uuid, Path, description = "Document id")),
    responses(
        (status = 200, description = "The document", body = views::Document),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, description = "No such application or document", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/documents/{document_id}")]
pub async fn get_document(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<(ApplicationId, DocumentId)>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let (id, d) = path.into_inner();
    let who = caller.clone();
    let row = apps.auth.db.run(move |c| docs::get(c, &who, id, d)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(views::document(&apps.cache.get(), row)))
}

/// Download a document
///
/// The bytes, streamed, as an attachment under the name they were uploaded with; the
/// `ETag` is their SHA-256.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("document_id" = uuid::Uuid, Path, description = "Document id")),
    responses(
        (status = 200, description = "The file", headers(("Content-Disposition" = String), ("ETag" = String)),
            content(
                (DocumentBytes = "application/pdf"),
                (DocumentBytes = "image/png"),
                (DocumentBytes = "image/jpeg"),
            )),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, description = "No such application or document", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/documents/{document_id}/content")]
pub async fn download_document(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<(ApplicationId, DocumentId)>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let (id, d) = path.into_inner();
    let who = caller.clone();
    let row = apps.auth.db.run(move |c| docs::get(c, &who, id, d)).await?;
    let stream = apps.documents.open(&row.storage_key).await?;
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii_filename(&row.filename)),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: row.filename.clone().into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, row.media_type.as_str()))
        .insert_header(disposition)
        .insert_header((header::ETAG, format!("\"{}\"", row.sha256)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"))
        .no_chunking(u64::try_from(row.size_bytes).unwrap_or(0))
        .streaming(stream))
}

/// Remove a document
///
/// The applicant removes a document while the application is a draft or waits for them.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:write"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("document_id" = uuid::Uuid, Path, description = "Document id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotTheApplicant),
        (status = 404, description = "No such application or document", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not in a phase where documents change", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/applications/{id}/documents/{document_id}")]
pub async fn delete_document(
    req: HttpRequest,
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<(ApplicationId, DocumentId)>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let (id, d) = path.into_inner();
    let c = apps.ctx(&req, &caller);
    let gone = apps.auth.db.write(move |conn| docs::remove(conn, &c, id, d)).await?;
    apps.documents.remove(vec![gone.storage_key]).await;
    Ok(HttpResponse::NoContent().finish())
}

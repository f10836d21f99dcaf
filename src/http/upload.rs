//! Receiving one document from a `multipart/form-data` body: the part named `file` is streamed
//! into the document store while its size is counted and its SHA-256 computed; its real type
//! is sniffed from the first bytes before anything is stored.
use actix_multipart::Multipart;
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::domain::documents::{clean_filename, declared_type, sniff, DocumentLimits, SNIFF_BYTES};
use crate::domain::messages::Msg;
use crate::domain::FieldError;
use crate::error::{ApiError, ProblemKind};
use crate::msg;
use crate::storage::{DocumentStore, Upload};

/// What was stored.
#[derive(Debug)]
pub struct Received {
    pub filename: String,
    pub media_type: &'static str,
    pub size: u64,
    pub sha256: String,
}

fn invalid(pointer: &str, code: &str, detail: Msg) -> ApiError {
    ApiError::validation(vec![FieldError::new(pointer, code, detail)])
}

fn malformed(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::new(
        ProblemKind::BadRequest,
        msg!("The multipart body cannot be read: {e}.", e = e),
    )
}

pub fn too_big(limits: &DocumentLimits) -> ApiError {
    ApiError::new(
        ProblemKind::PayloadTooLarge,
        msg!(
            "A document of this service may have at most {max} bytes.",
            max = limits.max_bytes
        ),
    )
}

/// A file sent with a new application: its file name as sent (what the form's file field
/// holds) and what was stored under `key`.
#[derive(Debug)]
pub struct NamedFile {
    pub name: String,
    pub key: String,
    pub received: Received,
}

/// The name of the parts that carry the files of a new application.
pub const DOCUMENTS_PART: &str = "documents";

/// The first part of a create-with-documents body: the part named `name` (JSON, at most
/// `limit` bytes), read whole.
pub async fn json_part(body: &mut Multipart, name: &str, limit: usize) -> Result<Bytes, ApiError> {
    let first = body.next().await;
    let mut part = match first {
        Some(Ok(p)) if p.name() == Some(name) => p,
        Some(Err(e)) => return Err(malformed(e)),
        _ => {
            return Err(invalid(
                name,
                "required",
                msg!("the first part is named application and holds the application as JSON"),
            ))
        }
    };
    let mut json = BytesMut::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(malformed)?;
        if json.len() + chunk.len() > limit {
            return Err(ApiError::new(
                ProblemKind::PayloadTooLarge,
                msg!("The application part is larger than {limit} bytes.", limit = limit),
            ));
        }
        json.extend_from_slice(&chunk);
    }
    Ok(json.freeze())
}

/// The file parts after the application, each named `documents` and each with its own file
/// name: each stored under the key `key_for` gives it, at most `limits.max_files` of them. On
/// any error nothing of them stays stored. Errors point at `/documents/{index}`.
pub async fn receive_files(
    body: &mut Multipart,
    limits: &DocumentLimits,
    store: &DocumentStore,
    mut key_for: impl FnMut() -> String,
) -> Result<Vec<NamedFile>, ApiError> {
    let mut files: Vec<NamedFile> = Vec::new();
    while let Some(part) = body.next().await {
        let index = files.len();
        let pointer = format!("/{DOCUMENTS_PART}/{index}");
        let outcome = match part {
            Err(e) => Err(malformed(e)),
            Ok(part) => {
                let name = part
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or("")
                    .to_string();
                if part.name() != Some(DOCUMENTS_PART) {
                    Err(invalid(
                        &pointer,
                        "part_name",
                        msg!("after the part application, every part is a file in a part named documents"),
                    ))
                } else if name.is_empty() || name.chars().count() > 255 || files.iter().any(|f| f.name == name) {
                    Err(invalid(
                        &pointer,
                        "filename",
                        msg!("each file has its own file name, 1 to 255 characters, which the form's file field holds"),
                    ))
                } else if files.len() >= limits.max_files as usize {
                    Err(invalid(
                        &pointer,
                        "max_files",
                        msg!("at most {max} files", max = limits.max_files),
                    ))
                } else {
                    let key = key_for();
                    match receive_part(part, &pointer, limits, store, &key).await {
                        Ok(received) => {
                            files.push(NamedFile { name, key, received });
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            }
        };
        if let Err(e) = outcome {
            store.remove(files.into_iter().map(|f| f.key).collect()).await;
            return Err(e);
        }
    }
    Ok(files)
}

/// Reads the body: exactly one part, named `file`, stored under `key`. On any error nothing
/// stays stored.
pub async fn receive(
    mut body: Multipart,
    limits: &DocumentLimits,
    store: &DocumentStore,
    key: &str,
) -> Result<Received, ApiError> {
    let mut received: Option<Received> = None;
    while let Some(part) = body.next().await {
        let outcome = match part {
            Err(e) => Err(malformed(e)),
            Ok(_) if received.is_some() => Err(invalid("/file", "one_file", msg!("send one file per request"))),
            Ok(part) if part.name() != Some("file") => Err(invalid(
                &format!("/{}", part.name().unwrap_or("")),
                "unknown",
                msg!("the body has one part, named file"),
            )),
            Ok(part) => receive_part(part, "/file", limits, store, key).await.map(Some),
        };
        match outcome {
            Ok(r) => received = r,
            Err(e) => {
                if received.is_some() {
                    store.remove(vec![key.to_string()]).await;
                }
                return Err(e);
            }
        }
    }
    received.ok_or_else(|| invalid("/file", "required", msg!("a part named file with the document")))
}

async fn receive_part(
    mut part: actix_multipart::Field,
    pointer: &str,
    limits: &DocumentLimits,
    store: &DocumentStore,
    key: &str,
) -> Result<Received, ApiError> {
    let filename = part
        .content_disposition()
        .and_then(|cd| cd.get_filename())
        .and_then(clean_filename)
        .ok_or_else(|| {
            invalid(
                pointer,
                "filename",
                msg!("the part needs a file name (filename=\"...\")"),
            )
        })?;
    let declared = part
        .content_type()
        .map(|m| declared_type(m.as_ref()))
        .unwrap_or_default();
    if !limits.accepts(&declared) {
        return Err(ApiError::new(
            ProblemKind::UnsupportedMediaType,
            msg!(
                "Documents of this service are {types}; the part is declared as '{declared}'.",
                types = limits.types.join(", "),
                declared = if declared.is_empty() { "-" } else { &declared }
            ),
        ));
    }
    // the first bytes, to see what the file really is before storing anything
    let mut head = BytesMut::new();
    let mut rest: Option<Bytes> = None;
    // a field must not be polled again once it has ended
    let mut ended = false;
    while head.len() < SNIFF_BYTES {
        match part.next().await {
            None => {
                ended = true;
                break;
            }
            Some(chunk) => {
                let chunk = chunk.map_err(malformed)?;
                let take = chunk.len().min(SNIFF_BYTES - head.len());
                head.extend_from_slice(&chunk[..take]);
                if take < chunk.len() {
                    rest = Some(chunk.slice(take..));
                }
            }
        }
    }
    if head.is_empty() {
        return Err(invalid(pointer, "empty", msg!("the file is empty")));
    }
    let media_type = match sniff(&head) {
        Some(t) if t == declared => t,
        found => {
            return Err(invalid(
                pointer,
                "type_mismatch",
                match found {
                    Some(found) => msg!(
                        "the part is declared as {declared} but its bytes are {found}",
                        declared = &declared,
                        found = found
                    ),
                    None => msg!(
                        "the part is declared as {declared} but its bytes are not of a type guichet recognises",
                        declared = &declared
                    ),
                },
            ))
        }
    };
    let mut upload = store.upload(key).await?;
    let mut written = Written {
        size: 0,
        hash: Sha256::new(),
    };
    let stored = async {
        written.add(&mut upload, head.freeze(), limits).await?;
        if let Some(r) = rest {
            written.add(&mut upload, r, limits).await?;
        }
        if !ended {
            while let Some(chunk) = part.next().await {
                written.add(&mut upload, chunk.map_err(malformed)?, limits).await?;
            }
        }
        Ok::<(), ApiError>(())
    }
    .await;
    if let Err(e) = stored {
        upload.abort().await;
        return Err(e);
    }
    upload.finish().await?;
    Ok(Received {
        filename,
        media_type,
        size: written.size,
        sha256: written.hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    })
}

struct Written {
    size: u64,
    hash: Sha256,
}

impl Written {
    async fn add(&mut self, upload: &mut Upload, chunk: Bytes, limits: &DocumentLimits) -> Result<(), ApiError> {
        self.size += chunk.len() as u64;
        if self.size > limits.max_bytes {
            return Err(too_big(limits));
        }
        self.hash.update(&chunk);
        upload.write(chunk).await
    }
}

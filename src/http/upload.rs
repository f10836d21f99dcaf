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
            Ok(part) => receive_part(part, limits, store, key).await.map(Some),
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
                "/file",
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
        return Err(invalid("/file", "empty", msg!("the file is empty")));
    }
    let media_type = match sniff(&head) {
        Some(t) if t == declared => t,
        found => {
            return Err(invalid(
                "/file",
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

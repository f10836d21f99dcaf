//! Where the bytes of documents live: an object store (the `object_store` crate), a local
//! directory by default. Several instances share it when the directory is shared storage.
use std::sync::Arc;

use actix_web::web::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

use crate::error::ApiError;

#[derive(Clone, Debug)]
pub struct DocumentStore {
    store: Arc<dyn ObjectStore>,
}

fn failed(what: &str, e: object_store::Error) -> ApiError {
    ApiError::internal(format!("document storage, {what}: {e}"))
}

/// Parts written at once while an upload streams in (each up to 5 MB): bounds the memory
/// an upload holds.
const PARTS_IN_FLIGHT: usize = 2;

impl DocumentStore {
    /// A store in a local directory, created when missing.
    pub fn local(dir: &std::path::Path) -> anyhow::Result<DocumentStore> {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("GUICHET_DOCUMENTS_DIR {}: {e}", dir.display()))?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| anyhow::anyhow!("GUICHET_DOCUMENTS_DIR {}: {e}", dir.display()))?
            .with_automatic_cleanup(true);
        Ok(DocumentStore { store: Arc::new(fs) })
    }

    /// The key of a document: made of ids only, nothing the client chose.
    pub fn key(application: uuid::Uuid, document: uuid::Uuid) -> String {
        format!("applications/{application}/{document}")
    }

    /// Starts writing an object; it becomes visible on [`Upload::finish`].
    pub async fn upload(&self, key: &str) -> Result<Upload, ApiError> {
        let up = self
            .store
            .put_multipart(&Path::from(key))
            .await
            .map_err(|e| failed("starting an upload", e))?;
        Ok(Upload(WriteMultipart::new(up)))
    }

    /// The object's bytes, as a stream.
    pub async fn open(&self, key: &str) -> Result<BoxStream<'static, Result<Bytes, ApiError>>, ApiError> {
        let got = self
            .store
            .get(&Path::from(key))
            .await
            .map_err(|e| failed("reading", e))?;
        Ok(got.into_stream().map(|r| r.map_err(|e| failed("reading", e))).boxed())
    }

    /// Removes objects whose records are gone; a failure is logged, not answered (the
    /// record, which is what the API shows, is already deleted).
    pub async fn remove(&self, keys: Vec<String>) {
        for key in keys {
            match self.store.delete(&Path::from(key.as_str())).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => tracing::warn!(key, error = %e, "could not delete a stored document"),
            }
        }
    }
}

/// An object being written.
pub struct Upload(WriteMultipart);

impl Upload {
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), ApiError> {
        self.0.put(chunk);
        self.0
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(|e| failed("writing", e))
    }

    pub async fn finish(self) -> Result<(), ApiError> {
        self.0
            .finish()
            .await
            .map(|_| ())
            .map_err(|e| failed("finishing an upload", e))
    }

    pub async fn abort(self) {
        if let Err(e) = self.0.abort().await {
            tracing::warn!(error = %e, "could not abort a document upload");
        }
    }
}

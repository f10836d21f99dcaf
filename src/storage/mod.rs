//! Where the bytes of documents live: an object store (the `object_store` crate), a local
//! directory by default or any S3-compatible service (`GUICHET_DOCUMENTS_URL=s3://bucket/prefix`
//! with the usual `AWS_*` settings). Several instances share it: one bucket, or a directory on
//! shared storage.
use std::sync::Arc;

use actix_web::web::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
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

/// Where documents are kept (`GUICHET_DOCUMENTS_URL`, or `GUICHET_DOCUMENTS_DIR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A local directory (`file:///path`).
    Local(std::path::PathBuf),
    /// An S3 bucket and a key prefix (`s3://bucket/prefix`), with the `AWS_*` settings given
    /// (lower-cased names, as `object_store` reads them).
    S3 {
        bucket: String,
        prefix: String,
        settings: Vec<(String, String)>,
    },
}

/// The `AWS_*` variables read for an S3 store: where (endpoint, region), who (keys, session
/// token, web identity, container credentials), how (path or virtual-hosted style, plain
/// HTTP, encryption, checksums).
pub const AWS_SETTINGS: [&str; 17] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_SERVER_SIDE_ENCRYPTION",
    "AWS_SSE_KMS_KEY_ID",
    "AWS_CHECKSUM_ALGORITHM",
];

impl StoreConfig {
    /// Reads `GUICHET_DOCUMENTS_URL` (`file:///path` or `s3://bucket/prefix`); `Err` says what
    /// is wrong with it. `aws` looks up the `AWS_*` settings.
    pub fn parse(url: &str, aws: impl Fn(&str) -> Option<String>) -> Result<StoreConfig, String> {
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err("a file URL names an absolute directory: file:///var/lib/guichet/documents".into());
            }
            return Ok(StoreConfig::Local(path.into()));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err("file:///path or s3://bucket/prefix".into());
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid {
            return Err("the bucket name: 3 to 63 lower-case letters, digits, '-' and '.'".into());
        }
        let settings: Vec<(String, String)> = AWS_SETTINGS
            .iter()
            .filter_map(|k| aws(k).filter(|v| !v.is_empty()).map(|v| (k.to_ascii_lowercase(), v)))
            .collect();
        let get = |k: &str| settings.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let endpoint = get("aws_endpoint_url_s3").or(get("aws_endpoint_url"));
        let allow_http = get("aws_allow_http").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if endpoint.is_some_and(|e| e.starts_with("http://")) && !allow_http {
            return Err("AWS_ENDPOINT_URL is plain http://: set AWS_ALLOW_HTTP=true to send documents unencrypted (a store on this host or a private network)".into());
        }
        Ok(StoreConfig::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            settings,
        })
    }
}

impl DocumentStore {
    /// The store `config` names (nothing is contacted yet).
    pub fn connect(config: &StoreConfig) -> anyhow::Result<DocumentStore> {
        match config {
            StoreConfig::Local(dir) => DocumentStore::local(dir),
            StoreConfig::S3 {
                bucket,
                prefix,
                settings,
            } => {
                // reqwest's TLS takes the process's crypto provider: ring, as everywhere here
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut b = AmazonS3Builder::new().with_bucket_name(bucket);
                for (k, v) in settings {
                    let key = k
                        .parse()
                        .map_err(|e| anyhow::anyhow!("{}: {e}", k.to_ascii_uppercase()))?;
                    b = b.with_config(key, v);
                }
                let s3 = b.build().map_err(|e| anyhow::anyhow!("GUICHET_DOCUMENTS_URL: {e}"))?;
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, prefix.as_str()))
                };
                Ok(DocumentStore { store })
            }
        }
    }

    /// Whether the store answers (a listing of one key): read at start-up, to say early that
    /// a bucket or directory is not there.
    pub async fn check(&self) -> Result<(), String> {
        let mut keys = self.store.list(Some(&Path::from("applications")));
        match keys.next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.to_string()),
        }
    }

    /// The keys under `prefix` (operations and tests: what is stored).
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>, ApiError> {
        let mut out = Vec::new();
        let mut listing = self.store.list(Some(&Path::from(prefix)));
        while let Some(meta) = listing.next().await {
            out.push(meta.map_err(|e| failed("listing", e))?.location.to_string());
        }
        Ok(out)
    }

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

    /// Deletes objects for good (the retention run), before their records go: an object that
    /// is already gone counts as deleted; any other failure is answered, so the records stay
    /// and the next run tries again (the failure, in English, for the operator).
    pub async fn erase(&self, keys: &[String]) -> Result<(), String> {
        for key in keys {
            match self.store.delete(&Path::from(key.as_str())).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(format!("document storage, deleting {key}: {e}")),
            }
        }
        Ok(())
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

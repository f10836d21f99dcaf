//! Asynchronous PostgreSQL connections (diesel-async over tokio-postgres) for the hot reads.
//!
//! libpq and tokio-postgres read a connection URL differently, so the URL is translated here
//! with libpq's meaning: `sslmode` defaults to `prefer` (or `PGSSLMODE`), `require` encrypts
//! without checking the certificate, `verify-ca` checks it against `sslrootcert` (or
//! `PGSSLROOTCERT`, or `~/.postgresql/root.crt`), `verify-full` also checks the host name.
//! A URL this module cannot honour the same way (client certificates, other libpq-only
//! options) is not translated at all: the reads then take the blocking path like the writes.
use std::sync::Arc;
use std::time::Duration;

use diesel::ConnectionResult;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::AsyncPgConnection;
use futures_util::future::{BoxFuture, FutureExt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

pub type AsyncPool = Pool<AsyncPgConnection>;

/// How to open asynchronous connections: the URL in tokio-postgres' terms and the TLS setup.
#[derive(Clone)]
pub struct AsyncPg {
    /// The translated URL (the pool's manager wants one; connections use `config`).
    url: String,
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

impl std::fmt::Debug for AsyncPg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncPg")
            .field("ssl_mode", &self.config.get_ssl_mode())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// Encrypt, check the handshake signature, trust any certificate (libpq's prefer/require).
    Nothing,
    /// The certificate chains to the root (verify-ca).
    Chain,
    /// The chain and the host name (verify-full).
    Full,
}

impl AsyncPg {
    /// Translates a libpq URL; `Err` says why it cannot be (the reads then stay blocking).
    pub fn from_url(url: &str) -> Result<AsyncPg, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let params: Vec<(String, String)> =
            serde_urlencoded::from_str(query).map_err(|e| format!("query string: {e}"))?;
        let mut mode = env("PGSSLMODE").unwrap_or_else(|| "prefer".into());
        let mut root = env("PGSSLROOTCERT");
        let mut rest = Vec::new();
        for (k, v) in params {
            match k.as_str() {
                "sslmode" => mode = v,
                "sslrootcert" => root = Some(v),
                _ => rest.push((k, v)),
            }
        }
        let (ssl_mode, verify) = match mode.as_str() {
            "disable" => (SslMode::Disable, Verify::Nothing),
            // allow (plain first, then TLS) has no equivalent; prefer is the stricter neighbour
            "allow" | "prefer" => (SslMode::Prefer, Verify::Nothing),
            // libpq's require checks the chain when a root certificate is configured
            "require" if root.is_some() => (SslMode::Require, Verify::Chain),
            "require" => (SslMode::Require, Verify::Nothing),
            "verify-ca" => (SslMode::Require, Verify::Chain),
            "verify-full" => (SslMode::Require, Verify::Full),
            other => return Err(format!("sslmode={other} is not a libpq mode")),
        };
        let roots = match verify {
            Verify::Nothing => None,
            _ => Some(load_roots(root)?),
        };
        let url = if rest.is_empty() {
            base.to_string()
        } else {
            let q = serde_urlencoded::to_string(&rest).map_err(|e| e.to_string())?;
            format!("{base}?{q}")
        };
        // tokio-postgres refuses what it does not know (sslcert, sslkey, passfile, ...)
        let mut config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| e.to_string())?;
        config.ssl_mode(ssl_mode);
        Ok(AsyncPg {
            url,
            config,
            tls: MakeRustlsConnect::new(tls_config(verify, roots)?),
        })
    }

    /// Opens one connection.
    pub async fn connect(&self) -> ConnectionResult<AsyncPgConnection> {
        let (client, conn) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        AsyncPgConnection::try_from_client_and_connection(client, conn).await
    }

    /// A pool of at most `size` connections. Its connections are driven by the runtime that
    /// opens them, so each actix worker gets a pool of its own.
    pub fn pool(&self, size: usize) -> Result<AsyncPool, String> {
        let me = self.clone();
        let mut config = ManagerConfig::default();
        // a pooled connection is checked when it fails, not with a query before each use
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(
            move |_url: &str| -> BoxFuture<'_, ConnectionResult<AsyncPgConnection>> {
                let me = me.clone();
                async move { me.connect().await }.boxed()
            },
        );
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(&self.url, config);
        Pool::builder(manager)
            .max_size(size)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| e.to_string())
    }
}

/// A few connections that every request of one worker shares, for the reads that are one
/// quick statement (or a few sent together) outside a transaction. tokio-postgres writes every
/// statement queued since its last write in one go and the server answers them in order, so
/// that concurrent reads are pipelined: a dozen of them cost the kernel and PostgreSQL one
/// wake-up on each side instead of a dozen, where a pool connection carries one request at a
/// time. A slow statement holds up those queued behind it on the same connection, so only the
/// lists that read one short index range come here ([`crate::db::applications::quick_list`]);
/// the other lists and the feed keep to the pool.
pub struct Shared {
    pg: AsyncPg,
    slots: Vec<tokio::sync::Mutex<Option<Arc<AsyncPgConnection>>>>,
    next: std::sync::atomic::AtomicUsize,
}

impl Shared {
    /// `n` (at least 1) connections, each opened on first use by the runtime that uses it.
    pub fn new(pg: AsyncPg, n: usize) -> Shared {
        Shared {
            pg,
            slots: (0..n.max(1)).map(|_| tokio::sync::Mutex::new(None)).collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The next connection in turn, opened if it is not (yet, or any more). Waits at most 5 s
    /// in all, as the pool does: while the server does not answer, the requests queued on one
    /// connection's turn do not each wait for their own attempt after the others'.
    pub async fn get(&self) -> ConnectionResult<Arc<AsyncPgConnection>> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.slots.len();
        let open = async {
            let mut slot = self.slots[i].lock().await;
            if let Some(c) = &*slot {
                return Ok(c.clone());
            }
            let c = Arc::new(self.pg.connect().await?);
            *slot = Some(c.clone());
            Ok(c)
        };
        tokio::time::timeout(Duration::from_secs(5), open)
            .await
            .map_err(|_| diesel::ConnectionError::BadConnection("no connection within 5 s".into()))?
    }

    /// Closes `c` for the requests to come, found lost by one of its statements (those still
    /// waiting on it get their answer or their error).
    pub async fn forget(&self, c: &Arc<AsyncPgConnection>) {
        for slot in &self.slots {
            let mut slot = slot.lock().await;
            if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, c)) {
                *slot = None;
            }
        }
    }
}

fn load_roots(path: Option<String>) -> Result<RootCertStore, String> {
    let path = match path {
        Some(p) => std::path::PathBuf::from(p),
        None => std::env::var_os("HOME")
            .map(|h| std::path::Path::new(&h).join(".postgresql/root.crt"))
            .ok_or("no sslrootcert and no HOME for ~/.postgresql/root.crt")?,
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&path).map_err(|e| format!("sslrootcert {}: {e}", path.display()))? {
        let cert = cert.map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
    }
    Ok(roots)
}

fn tls_config(verify: Verify, roots: Option<RootCertStore>) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let webpki = match roots {
        Some(r) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(r), provider.clone())
                .build()
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier {
            chain: webpki,
            check_name: verify == Verify::Full,
            provider,
        }))
        .with_no_client_auth())
}

/// The server certificate check of libpq's modes: without roots (prefer, require) any
/// certificate is taken, the connection is encrypted all the same; with roots the chain is
/// checked (verify-ca), and the host name too (verify-full). The handshake signature is
/// always checked.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(NotValidForName | NotValidForNameContext { .. }))
                if !self.check_name =>
            {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_modes_translate() {
        let a = AsyncPg::from_url("postgres://u@h/db").unwrap();
        assert!(matches!(a.config.get_ssl_mode(), SslMode::Prefer));
        let a = AsyncPg::from_url("postgres://u@h/db?sslmode=disable&application_name=x").unwrap();
        assert!(matches!(a.config.get_ssl_mode(), SslMode::Disable));
        assert_eq!(a.url, "postgres://u@h/db?application_name=x");
        assert_eq!(a.config.get_application_name(), Some("x"));
        let a = AsyncPg::from_url("postgresql://u@h:5433/db?sslmode=require").unwrap();
        assert!(matches!(a.config.get_ssl_mode(), SslMode::Require));
    }

    #[test]
    fn what_cannot_be_honoured_is_refused() {
        assert!(AsyncPg::from_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent").is_err());
        assert!(AsyncPg::from_url("postgres://u@h/db?sslcert=/c.pem").is_err());
        assert!(AsyncPg::from_url("postgres://u@h/db?sslmode=sometimes").is_err());
    }
}

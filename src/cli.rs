//! The command line.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// guichet: a headless e-government API (service catalogue, applications, status, events).
///
/// Configuration comes from environment variables (DATABASE_URL, GUICHET_LISTEN, ...); see
/// the README for each and its default.
#[derive(Debug, Parser)]
#[command(name = "guichet", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, seed an empty one, and serve the API (the default).
    Serve,
    /// Apply pending database migrations (and the demo seed on an empty database), then exit.
    Migrate,
    /// Print the OpenAPI 3.1 document.
    Openapi,
    /// Import or export the service catalogue.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Create organisations for partners (verified at once, with a client for their systems).
    #[command(subcommand)]
    Organisation(OrganisationCommand),
    /// Manage partner clients (machine-to-machine credentials).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Delete the documents and anonymise the personal data of closed applications whose
    /// retention period ran out (every instance also does it daily, one at a time).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Import the bank's notifications of incoming payments.
    #[command(subcommand)]
    Payments(PaymentsCommand),
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Import a camt.054 file (.001.04 or .001.08): every credit recorded once, matched by
    /// reference to a bill; prints what was recorded and matched, as JSON.
    Import {
        /// The camt.054 file; `-` reads standard input.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Run retention now and print what went, as JSON (also recorded in the audit log).
    Run {
        /// List what would go and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: what will have gone by this moment (RFC 3339, e.g.
        /// 2027-01-01T00:00:00Z), instead of now.
        #[arg(long, requires = "dry_run")]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrganisationCommand {
    /// Create a verified organisation and a client for its systems; prints the organisation's
    /// id and the client's credentials once, as JSON.
    Create {
        /// Swiss enterprise identification number, e.g. CHE-116.281.710 (with its check digit).
        #[arg(long)]
        uid: String,
        /// The organisation's name, e.g. "Muster Treuhand AG".
        #[arg(long)]
        name: String,
        /// E-mail address of an existing resident account to make its first owner (who can
        /// then add members and manage clients through the API).
        #[arg(long)]
        owner: Option<String>,
        /// The client's name (default: the organisation's name).
        #[arg(long)]
        client_name: Option<String>,
        /// The client's space-separated scopes.
        #[arg(long, default_value = "applications:read applications:write")]
        scopes: String,
        /// Create no client.
        #[arg(long, conflicts_with_all = ["client_name"])]
        no_client: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a partner client (prints its credentials once, as JSON), or with --public a
    /// public client for a first-party frontend (no secret; password and refresh grants).
    Create {
        /// A name people recognise, e.g. "Treuhand Muster AG".
        #[arg(long)]
        name: String,
        /// Space-separated scopes, e.g. "applications:read applications:write".
        #[arg(long, required_unless_present = "public")]
        scopes: Option<String>,
        /// Id of the organisation the client acts for.
        #[arg(long, conflicts_with = "department")]
        organisation: Option<uuid::Uuid>,
        /// Slug or id of the department whose back-office system the client is: it reads and
        /// processes the department's applications as its clerks do (scopes
        /// "applications:read applications:process").
        #[arg(long)]
        department: Option<String>,
        /// A public client (RFC 6749 §2.1): a frontend that cannot keep a secret; it names
        /// itself by client_id on the password, refresh and revocation requests.
        #[arg(long, conflicts_with_all = ["scopes", "organisation", "department"])]
        public: bool,
    },
    /// Disable a client: its tokens stop working on every instance within 2 s.
    Disable { client_id: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account; prints it with a generated one-time password, as JSON.
    Create {
        #[arg(long)]
        email: String,
        /// `clerk`, `admin` or `finance` (the bills and the bank's payments).
        #[arg(long)]
        role: String,
        /// Slug or id of the clerk's department (for finance: only that department's bills).
        #[arg(long)]
        department: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account by e-mail: its tokens stop working within 2 s.
    Disable { email: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key. It is published in the JWKS at once and signs after
    /// `--activate-in` seconds (default: twice the JWKS cache lifetime), so every verifier
    /// knows it first; the current key then retires and stays published until its last token
    /// has expired.
    Rotate {
        #[arg(long, default_value_t = 600)]
        activate_in: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Upsert a catalogue file (format guichet-catalogue/1) by slug; a changed service gets a
    /// new published version. Running it twice changes nothing the second time.
    Import {
        /// The catalogue file (JSON); `-` reads standard input.
        file: PathBuf,
    },
    /// Print the current catalogue in the import format.
    Export,
}

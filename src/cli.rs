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

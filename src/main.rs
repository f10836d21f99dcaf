use std::io::Read;
use std::process::ExitCode;

use clap::Parser;
use guichet::cli::{CatalogueCommand, Cli, Command};
use guichet::config::{Config, Seed};
use guichet::{app, catalogue::import, db};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("guichet: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    guichet::telemetry::init_logging(&config);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => app::prepare_database(&config),
        Command::Openapi => print_openapi(),
        Command::Catalogue(CatalogueCommand::Import { file }) => import_file(&config, &file),
        Command::Catalogue(CatalogueCommand::Export) => export(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("guichet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let application = guichet::build(config).await?;
        application.run_until_stopped().await?;
        Ok(())
    })
}

fn print_openapi() -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&guichet::api::openapi())?);
    Ok(())
}

fn connect(config: &Config) -> anyhow::Result<db::DbConnection> {
    // Migrate first (never seed: an import into an empty database is the operator's choice).
    let mut quiet = config.clone();
    quiet.seed = Seed::None;
    app::prepare_database(&quiet)?;
    db::establish(&config.database_url).map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))
}

fn import_file(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let mut json = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut json)?;
    } else {
        json = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    }
    let mut conn = connect(config)?;
    let report = import::import_str(&mut conn, &json)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn export(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let file = import::export(&mut conn)?;
    println!("{}", serde_json::to_string_pretty(&file)?);
    Ok(())
}

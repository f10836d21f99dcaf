use std::io::Read;

use clap::Parser;
use guichet::cli::{
    CatalogueCommand, Cli, ClientCommand, Command, KeysCommand, OrganisationCommand, PaymentsCommand, RetentionCommand,
    UserCommand,
};
use guichet::config::{Config, Seed};
use guichet::{app, catalogue::import, db};

/// mimalloc instead of glibc's malloc: under load, glibc's arenas spent about a tenth of the
/// process's CPU time in malloc/free (perf, bench/applications read_one). Built with `no_thp`:
/// mimalloc does not ask for transparent huge pages for its arenas (see [`no_huge_pages`]).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process. With them, every 4 KB page the allocator
/// touched in its arenas could bring in 2 MB: on a kernel in THP `madvise` mode (Debian's
/// default) mimalloc's `MADV_HUGEPAGE` let the peak RSS of 64 connections creating
/// applications reach 398 MB, against 91 MB without (bench/README, "Memory"). mimalloc's
/// `no_thp` stops its madvise; this also covers kernels in `always` mode, for mappings the
/// allocator has made already too (the flag is checked at each fault).
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) takes plain integers and touches no memory of ours;
    // its only effect is the process's THP flag, and a failure (old kernel) is harmless.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() {
    no_huge_pages();
    let code = run();
    exit_now(code)
}

/// Ends the process without the C library's exit handlers, once our output is flushed.
/// OpenSSL (through libpq) registers a handler that frees its tables at exit, while the
/// connection pool's threads may still be opening a connection (r2d2 keeps one idle
/// connection and opens it in the background): a one-shot command such as `retention run`
/// then died of SIGSEGV or SIGABRT after printing its answer, about once in 30 runs on a
/// busy machine (and so could the server after a SIGTERM). Nothing of ours runs at exit:
/// logs go to stderr unbuffered, and stdout is flushed here.
fn exit_now(code: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; it touches no memory of ours, and what it
    // skips (atexit handlers, stdio buffers of C code) holds nothing we need.
    unsafe { libc::_exit(i32::from(code)) }
}

fn run() -> u8 {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("guichet: configuration error: {e}");
            return 2;
        }
    };
    guichet::telemetry::init_logging(&config);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => app::prepare_database(&config),
        Command::Openapi => print_openapi(),
        Command::Catalogue(CatalogueCommand::Import { file }) => import_file(&config, &file),
        Command::Catalogue(CatalogueCommand::Export) => export(&config),
        Command::Organisation(OrganisationCommand::Create {
            uid,
            name,
            owner,
            client_name,
            scopes,
            no_client,
        }) => with_db(&config, |c| {
            let client_name = client_name.unwrap_or_else(|| name.clone());
            let client = (!no_client).then_some((client_name.as_str(), scopes.as_str()));
            guichet::admin::create_organisation(c, &uid, &name, owner.as_deref(), client)
        }),
        Command::Client(ClientCommand::Create {
            name,
            scopes,
            organisation,
            department,
            public,
        }) => with_db(&config, |c| match (public, scopes) {
            (true, _) => guichet::admin::create_public_client(c, &name),
            (false, Some(scopes)) => {
                let owner = match (organisation, department) {
                    (_, Some(d)) => guichet::admin::ClientFor::Department(d),
                    (Some(o), None) => guichet::admin::ClientFor::Organisation(o),
                    (None, None) => guichet::admin::ClientFor::Nobody,
                };
                guichet::admin::create_client(c, &name, &scopes, owner)
            }
            (false, None) => anyhow::bail!("--scopes is required (or --public)"),
        }),
        Command::Client(ClientCommand::Disable { client_id }) => with_db(&config, |c| {
            guichet::admin::disable_client(c, &client_id).map(|_| serde_json::json!({"disabled": client_id}))
        }),
        Command::User(UserCommand::Create {
            email,
            role,
            department,
            password_stdin,
        }) => {
            let password = if password_stdin { Some(read_password()) } else { None };
            match password {
                Some(Err(e)) => Err(e),
                Some(Ok(p)) => with_db(&config, |c| {
                    guichet::admin::create_user(c, &email, &role, department.as_deref(), Some(p))
                }),
                None => with_db(&config, |c| {
                    guichet::admin::create_user(c, &email, &role, department.as_deref(), None)
                }),
            }
        }
        Command::User(UserCommand::Disable { email }) => with_db(&config, |c| {
            guichet::admin::disable_user(c, &email).map(|_| serde_json::json!({"disabled": email}))
        }),
        Command::Retention(RetentionCommand::Run { dry_run, as_of }) => retention(config, dry_run, as_of),
        Command::Payments(PaymentsCommand::Import { file }) => import_payments(&config, &file),
        Command::Keys(KeysCommand::Rotate { activate_in }) => {
            let ttl = config.access_token_ttl;
            with_db(&config, |c| guichet::admin::rotate_keys(c, activate_in, ttl))
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("guichet: {e:#}");
            1
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

fn retention(config: Config, dry_run: bool, as_of: Option<chrono::DateTime<chrono::Utc>>) -> anyhow::Result<()> {
    connect(&config)?; // migrated
    actix_web::rt::System::new().block_on(async move {
        let db = db::Db::new(&config.database_url, 2).map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
        let store = guichet::storage::DocumentStore::connect(&config.documents)?;
        let actor = guichet::audit::Actor::operator();
        let report = guichet::applications::retention::run_now(&db, &store, dry_run, as_of, &actor)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("{}", serde_json::to_string_pretty(&report)?);
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

fn import_payments(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let mut xml = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut xml)?;
    } else {
        xml = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    }
    with_db(config, |c| {
        let actor = guichet::audit::Actor::operator();
        let report = db::write_tx(c, |c| guichet::payments::process::import(c, &actor, &xml))
            .map_err(|e| anyhow::anyhow!("{}", e.explain()))?;
        Ok(serde_json::to_value(report)?)
    })
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin().read_line(&mut s)?;
    Ok(s.trim_end_matches(['\n', '\r']).to_string())
}

fn with_db(
    config: &Config,
    f: impl FnOnce(&mut db::DbConnection) -> anyhow::Result<serde_json::Value>,
) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let out = f(&mut conn)?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn export(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let file = import::export(&mut conn)?;
    println!("{}", serde_json::to_string_pretty(&file)?);
    Ok(())
}

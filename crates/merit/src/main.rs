//! The `merit` command: the only place that reads argv, the environment and
//! the clock. Exit codes: 0 success, 1 runtime failure, 2 usage error.

mod pay;
mod quality;
mod report;
mod simulate;
mod users;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use merit_domain::DEFAULT_TENANT;
use merit_import::asterisk_cdr::CdrLayout;
use merit_import::mapped::Mapping;
use merit_import::{ImportFormat, ImportKind};
use merit_service::Clock;
use merit_service::import::ImportRequest;
use merit_store::Store;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc instead of the system allocator: an import builds rows on one
/// thread and writes them on another, where glibc's arenas spent a fifth of
/// the import's time (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "merit",
    version,
    about = "Contact-centre performance and pay for performance, where every figure can be explained."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate the demo centre into a SQLite file and serve the overview.
    Demo {
        #[arg(long, default_value = "merit-demo.db")]
        db: String,
        #[command(flatten)]
        scenario: ScenarioArgs,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Rebuild the database even if it exists.
        #[arg(long)]
        fresh: bool,
    },
    /// Serve the web application over an existing database (it needs a
    /// first administrator: `merit user add --role administrator`).
    Serve {
        #[arg(long)]
        db: String,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Mark the session cookie Secure (behind HTTPS, e.g. a TLS proxy).
        #[arg(long)]
        secure_cookies: bool,
    },
    /// Write a simulated centre as native import files.
    Simulate {
        #[command(flatten)]
        scenario: ScenarioArgs,
        #[arg(long)]
        out: PathBuf,
    },
    /// Import files of one kind: contacts, states, schedules, absences,
    /// surveys, org, or evaluations (past and automated QA scores).
    Import {
        #[arg(value_parser = parse_kind)]
        kind: ImportWhat,
        #[arg(long)]
        db: String,
        /// native, anonymous-bank, asterisk-queue-log, asterisk-cdr,
        /// amazon-connect (contacts), or mapped (contacts or surveys, with --mapping).
        #[arg(long, default_value = "native", value_parser = parse_format)]
        format: ImportFormat,
        /// IANA zone of local times in the files (default: the centre's).
        #[arg(long)]
        time_zone: Option<String>,
        /// The column mapping of a `mapped` file (TOML; docs/formats.md).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// The column order of an `asterisk-cdr` file: cdr_csv or cdr_custom
        /// (default: detected from the first row).
        #[arg(long, value_parser = parse_cdr_layout)]
        cdr_layout: Option<CdrLayout>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Create or update the database schema.
    Migrate {
        #[arg(long)]
        db: String,
    },
    /// Show the centre, or rename it and set its time zone (used for local
    /// days, reporting buckets, business hours and files with local times).
    Centre {
        #[arg(long)]
        db: String,
        #[arg(long)]
        name: Option<String>,
        /// IANA time zone, e.g. Europe/Berlin.
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// KPI reports and the contacts behind each figure.
    Report {
        #[command(subcommand)]
        command: report::ReportCommand,
    },
    /// Versioned KPI definitions.
    Definitions {
        #[command(subcommand)]
        command: report::DefinitionsCommand,
    },
    /// The people who sign in: add, list, set-role, disable, enable, reset-password.
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// Targets with green/amber/red zones per definition, for the centre, a team or an agent.
    Targets {
        #[command(subcommand)]
        command: report::TargetsCommand,
    },
    /// Quality scoring: publish scorecard forms, list them, read a calibration session.
    Quality {
        #[command(subcommand)]
        command: quality::QualityCommand,
    },
    /// Pay for performance: publish plans, run a period, review, approve,
    /// export payroll, read a statement, run a proposed plan in shadow.
    Pay {
        #[command(subcommand)]
        command: pay::PayCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// What to simulate (the demo centre of SCENARIOS.md).
#[derive(clap::Args)]
struct ScenarioArgs {
    #[arg(long, default_value_t = 90)]
    days: u32,
    #[arg(long, default_value_t = 60)]
    agents: u32,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First simulated day (YYYY-MM-DD).
    #[arg(long, default_value = "2026-08-03")]
    start: jiff::civil::Date,
}

impl ScenarioArgs {
    fn config(&self) -> merit_sim::ScenarioConfig {
        merit_sim::ScenarioConfig {
            days: self.days,
            agents: self.agents,
            seed: self.seed,
            start: self.start,
        }
    }
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print an example configuration file.
    Example,
}

/// What `merit import` loads: records of a kind, or evaluations.
#[derive(Clone, Copy)]
enum ImportWhat {
    Records(ImportKind),
    Evaluations,
}

fn parse_kind(text: &str) -> Result<ImportWhat, String> {
    if text == "evaluations" {
        return Ok(ImportWhat::Evaluations);
    }
    ImportKind::parse(text)
        .map(ImportWhat::Records)
        .ok_or_else(|| {
            "expected one of contacts, states, schedules, absences, surveys, org, evaluations"
                .into()
        })
}

fn parse_format(text: &str) -> Result<ImportFormat, String> {
    ImportFormat::parse(text).ok_or_else(|| {
        format!(
            "expected one of {}",
            ImportFormat::ALL.map(ImportFormat::as_str).join(", ")
        )
    })
}

fn parse_cdr_layout(text: &str) -> Result<CdrLayout, String> {
    CdrLayout::parse(text).ok_or_else(|| "expected cdr_csv or cdr_custom".into())
}

struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one place that reads the system clock.
    fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

const CONFIG_EXAMPLE: &str = "\
# merit.toml: settings for `merit serve` (every key can also be given on the command line).
# Database: a SQLite file path, or a PostgreSQL URL.
db = \"merit.db\"            # or \"postgres://merit@localhost/merit\"
listen = \"127.0.0.1:8080\"  # loopback only until sign-in exists
centre_name = \"Riverside Energy\"
time_zone = \"Europe/Berlin\" # IANA zone for reporting buckets and business hours
";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn open_store(db: &str) -> Result<Store> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("cannot open database {db}"))?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo {
            db,
            scenario,
            listen,
            fresh,
        } => {
            loopback_only(listen)?;
            let exists = Path::new(&db).exists();
            if fresh && exists {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{db}{suffix}"));
                }
            }
            let store = open_store(&db).await?;
            if fresh || !exists {
                let dir = std::env::temp_dir().join(format!("merit-demo-{}", std::process::id()));
                let ScenarioArgs {
                    days, agents, seed, ..
                } = scenario;
                eprintln!(
                    "Simulating {days} days of Riverside Energy ({agents} agents, seed {seed})..."
                );
                let written = simulate::write_native_files(&scenario.config(), &dir)?;
                merit_service::centre::configure_centre(
                    &store,
                    &SystemClock,
                    DEFAULT_TENANT,
                    "demo",
                    "Riverside Energy",
                    merit_sim::scenario::CENTRE_TIME_ZONE,
                )
                .await?;
                for kind in ImportKind::ALL {
                    let source = Source::native();
                    import_files(&store, kind, &source, &[simulate::file_for(&dir, kind)]).await?;
                }
                let _ = std::fs::remove_dir_all(&dir);
                users::demo_users(&store).await?;
                let end = scenario
                    .start
                    .checked_add(jiff::Span::new().days(i64::from(scenario.days)))?;
                let summary =
                    quality::load_demo(&store, &written.sampled_for_quality, scenario.seed, end)
                        .await?;
                eprintln!("{summary}");
                let last_day = end.yesterday()?;
                eprintln!(
                    "{}",
                    pay::load_demo(&store, scenario.start, last_day).await?
                );
            } else {
                eprintln!("Reusing {db} (use --fresh to rebuild it).");
            }
            let first = scenario.start;
            let last = first.checked_add(jiff::Span::new().days(i64::from(scenario.days) - 1))?;
            eprintln!(
                "KPIs from the command line, e.g.: merit report kpi --db {db} --from {first} --to {last} --by team"
            );
            eprintln!(
                "Sign in with one of these users, password {}:",
                users::DEMO_PASSWORD
            );
            for (username, role, scope) in users::demo_users(&store).await? {
                eprintln!("  {username:<12} {} ({scope})", role.as_str());
            }
            merit_service::notifications::targets_missed(&store, &SystemClock, DEFAULT_TENANT)
                .await?;
            serve(store, listen, false).await
        }
        Command::Serve {
            db,
            listen,
            secure_cookies,
        } => {
            let store = open_store(&db).await?;
            if store.users(DEFAULT_TENANT).await?.is_empty() {
                bail!(
                    "{db} has no users yet: create the first administrator with\n  merit user add --db {db} admin --role administrator"
                );
            }
            serve(store, listen, secure_cookies).await
        }
        Command::Simulate { scenario, out } => {
            let written = simulate::write_native_files(&scenario.config(), &out)?;
            println!("{}", written.summary);
            Ok(())
        }
        Command::Import {
            kind,
            db,
            format,
            time_zone,
            mapping,
            cdr_layout,
            files,
        } => {
            if mapping.is_some() != (format == ImportFormat::Mapped) {
                bail!("--mapping FILE.toml goes with --format mapped, and only with it");
            }
            let mapping = match mapping {
                Some(path) => Some(Arc::new(Mapping::load(&path)?)),
                None => None,
            };
            let source = Source {
                format,
                time_zone,
                mapping,
                cdr_layout,
            };
            let store = open_store(&db).await?;
            match kind {
                ImportWhat::Records(kind) => import_files(&store, kind, &source, &files).await,
                ImportWhat::Evaluations if format != ImportFormat::Native => {
                    bail!("evaluations are imported in the native format only")
                }
                ImportWhat::Evaluations => quality::import_evaluations(&store, &files).await,
            }
        }
        Command::Migrate { db } => {
            let store = open_store(&db).await?;
            println!("{} database is up to date", store.backend_name());
            Ok(())
        }
        Command::Centre {
            db,
            name,
            time_zone,
        } => {
            let store = open_store(&db).await?;
            let (old_name, old_zone) =
                merit_service::centre::centre(&store, DEFAULT_TENANT).await?;
            if name.is_some() || time_zone.is_some() {
                merit_service::centre::configure_centre(
                    &store,
                    &SystemClock,
                    DEFAULT_TENANT,
                    "cli",
                    name.as_deref().unwrap_or(&old_name),
                    time_zone.as_deref().unwrap_or(&old_zone),
                )
                .await?;
            }
            let (name, zone) = merit_service::centre::centre(&store, DEFAULT_TENANT).await?;
            println!("{name} ({zone})");
            Ok(())
        }
        Command::Report { command } => report::run_report(command).await,
        Command::Definitions { command } => report::run_definitions(command).await,
        Command::Targets { command } => report::run_targets(command).await,
        Command::User { command } => users::run(command).await,
        Command::Quality { command } => quality::run(command).await,
        Command::Pay { command } => pay::run(command).await,
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{CONFIG_EXAMPLE}");
            Ok(())
        }
    }
}

/// The demo's users share a published password: it serves on loopback only.
fn loopback_only(listen: SocketAddr) -> Result<()> {
    if !listen.ip().is_loopback() {
        bail!(
            "--listen {listen}: the demo's passwords are public, so it serves on a loopback address only (use merit serve with your own users)"
        );
    }
    Ok(())
}

/// What the files of one import are, besides their kind.
struct Source {
    format: ImportFormat,
    time_zone: Option<String>,
    mapping: Option<Arc<Mapping>>,
    cdr_layout: Option<CdrLayout>,
}

impl Source {
    fn native() -> Self {
        Source {
            format: ImportFormat::Native,
            time_zone: None,
            mapping: None,
            cdr_layout: None,
        }
    }
}

async fn import_files(
    store: &Store,
    kind: ImportKind,
    source: &Source,
    files: &[PathBuf],
) -> Result<()> {
    let mut failed = false;
    for path in files {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(format!("importing {}", path.display()));
            bar
        });
        let progress = |rows: u64| match &bar {
            Some(bar) => bar.set_position(rows),
            None => eprintln!("progress: {} {rows} rows", path.display()),
        };
        let request = ImportRequest {
            tenant: DEFAULT_TENANT,
            actor: "cli",
            kind,
            format: source.format,
            time_zone: source.time_zone.as_deref(),
            mapping: source.mapping.clone(),
            cdr_layout: source.cdr_layout,
            display_name: None,
            path,
            progress: &progress,
            alone: true,
        };
        let cli = merit_service::access::Caller::command_line(DEFAULT_TENANT);
        let result = merit_service::imports::import(store, &SystemClock, &cli, request).await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        match result {
            Ok(report) => {
                for problem in &report.problems {
                    eprintln!("{problem}");
                }
                if report.rejected > report.problems.len() as u64 {
                    eprintln!(
                        "... and {} more row problems",
                        report.rejected - report.problems.len() as u64
                    );
                }
                for warning in &report.warnings {
                    eprintln!("{warning} (kept)");
                }
                for notice in &report.notices {
                    eprintln!("notice: {notice}");
                }
                for (reason, n) in &report.skipped {
                    eprintln!("skipped: {n} rows: {reason}");
                }
                let read: Vec<String> = report
                    .records
                    .iter()
                    .map(|(noun, n)| format!("{n} {noun}"))
                    .collect();
                let read = if read.is_empty() {
                    format!("{} {}", report.total_rows(), kind.as_str())
                } else {
                    read.join(", ")
                };
                println!(
                    "{}: {read}: {} inserted, {} updated, {} unchanged, {} rejected (batch {})",
                    report.file,
                    report.inserted,
                    report.updated,
                    report.unchanged,
                    report.rejected,
                    report.batch_id
                );
                if let Some(update) = &report.cache_update {
                    println!(
                        "report cache: {} definition days brought up to date, {} dropped, in {:.1} ms ({} contacts worked out again)",
                        update.updated.len(),
                        update.dropped,
                        update.elapsed.as_secs_f64() * 1000.0,
                        update.touched_contacts
                    );
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        bail!("some files were not imported");
    }
    Ok(())
}

async fn serve(store: Store, listen: SocketAddr, secure_cookies: bool) -> Result<()> {
    let today = jiff::Timestamp::from_millisecond(SystemClock.now_ms())
        .unwrap_or_default()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let mut state = merit_web::AppState::new(store, DEFAULT_TENANT, today, Arc::new(SystemClock));
    state.secure_cookies = secure_cookies;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    println!("Merit is serving on http://{address}/");
    let app = merit_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

//! The `kyoso` command: serve the API, migrate, load demo data, manage staff.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use kyoso::config::{Layer, SETTINGS, Settings};
use kyoso::domain::staff::{self, NewStaffInput};
use kyoso::storage::Db;
use kyoso::storage::connection::{DatabaseTarget, revert_all_migrations};

/// kyoso (共創): the desk and marketplace where municipalities meet companies,
/// universities and NPOs.
#[derive(Parser)]
#[command(name = "kyoso", version)]
struct Cli {
    /// Settings file (TOML); default ./kyoso.toml when it exists. Also KYOSO_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for the SQLite file, index, dictionary cache and mail files (KYOSO_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (JSON API under /api/v1). Applies pending migrations first.
    Serve {
        /// Address and port to listen on, e.g. 0.0.0.0:8080 (KYOSO_BIND).
        #[arg(long, value_name = "ADDR:PORT")]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        /// Revert every migration instead (drops all of kyoso's tables and data).
        #[arg(long)]
        revert_all: bool,
    },
    /// Load the Japanese demo data set (municipalities, departments, staff, partners,
    /// offers, needs) and print the demo accounts' API keys.
    Demo,
    /// Load scenario: seed an empty database (either backend) at realistic volume through
    /// the domain code — 50 municipalities, 100,000 needs and offers, 30,000 partners,
    /// 200,000 proposals with events by default — rebuild the search index, and write the
    /// load run's files (keys, ids, queries, documents for the Groonga peer) to --out.
    LoadSeed(LoadSeedArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Digests: run those due now (for cron; safe beside the service's own scheduler).
    #[command(subcommand)]
    Digest(DigestCommand),
    /// Mail: send what the outbox holds due now.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Rebuild the search index from the database (stop the service first: one writer
    /// per index).
    Reindex,
    /// Evaluate need → offer matching on a relevance set directory (needs.jsonl,
    /// offers.jsonl, qrels.tsv), loaded into a fresh temporary instance: per-need lines,
    /// then kyoso beside plain BM25 baselines (recall@10, MRR@10, nDCG@10) on the whole
    /// set and in 5-fold cross-validation.
    EvalMatching { dir: PathBuf },
    /// Evaluate general Japanese retrieval on a directory of docs.jsonl, queries.jsonl
    /// and qrels.tsv (e.g. JSQuAD reshaped): kyoso's index and ranked query beside plain
    /// BM25 over MeCab-style IPADIC tokens, whole set and 5-fold cross-validation.
    EvalRetrieval {
        dir: PathBuf,
        /// Only the first N questions.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Benchmark: index the harness's documents (JSONL) into INDEX_DIR with kyoso's own
    /// analysis and index code.
    BenchIndex { docs: PathBuf, index_dir: PathBuf },
    /// Benchmark: answer the harness's line protocol on stdin/stdout (READY, then one
    /// JSON line per query) from INDEX_DIR, through the query code the API uses.
    BenchQuery { index_dir: PathBuf },
    /// Benchmark: queue ITEMS digest notices for each of RECIPIENTS recipients in a
    /// temporary SQLite database and time one daily digest run (time and peak memory).
    BenchDigest {
        #[arg(long, default_value_t = 10_000)]
        recipients: usize,
        #[arg(long, default_value_t = 3)]
        items: usize,
    },
    /// Benchmark: match up to COUNT of the documents' needs against its offers and print
    /// latency percentiles.
    BenchMatch {
        docs: PathBuf,
        index_dir: PathBuf,
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
}

#[derive(Subcommand)]
enum DigestCommand {
    /// Run the daily and weekly digests that are due (each period at most once) and,
    /// without --period, the weekly report of the week just ended (once per municipality).
    Run {
        /// Run this period now, whatever the time: daily or weekly.
        #[arg(long)]
        period: Option<String>,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send the mail that is due now, then exit.
    Send,
}

#[derive(Args)]
struct LoadSeedArgs {
    /// Multiply the default volume (e.g. 0.01 for a quick run).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Municipalities (at most 60), instead of the scaled default.
    #[arg(long)]
    municipalities: Option<usize>,
    /// Needs and offers together, instead of the scaled default.
    #[arg(long)]
    documents: Option<usize>,
    #[arg(long)]
    partners: Option<usize>,
    #[arg(long)]
    proposals: Option<usize>,
    /// Seed of the generator: the same seed gives the same records (with --jobs 1).
    #[arg(long, default_value_t = 15)]
    seed: u64,
    /// Parallel writers on PostgreSQL (SQLite has one writer).
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Directory for the load run's files; default DATA_DIR/load.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff user and print its first API key (shown once).
    Add(StaffAdd),
    /// Set a staff user's console password, read from the first line of stdin.
    SetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Args)]
struct StaffAdd {
    #[arg(long)]
    email: String,
    /// Display name, e.g. "山田 花子".
    #[arg(long)]
    name: String,
    /// department, desk or admin.
    #[arg(long)]
    role: String,
    /// Municipality code; omit only for a deployment admin.
    #[arg(long, value_name = "CODE")]
    municipality: Option<String>,
    /// Department id (required for department staff).
    #[arg(long, value_name = "ID")]
    department: Option<i64>,
    /// Also set the console password, read from the first line of stdin.
    #[arg(long)]
    password_stdin: bool,
}

/// The first line of stdin, without its line end.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn settings_help() -> String {
    let mut s =
        String::from("Settings (lowest first: defaults, kyoso.toml, environment, flags):\n");
    for d in SETTINGS {
        s.push_str(&format!("  {:<18} {:<18} {}\n", d.env, d.key, d.help));
    }
    s
}

fn main() -> ExitCode {
    let matches = Cli::command().after_help(settings_help()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kyoso: {e:#}");
            if e.downcast_ref::<kyoso::demo::Refused>().is_some() {
                ExitCode::from(kyoso::demo::Refused::EXIT_CODE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::open(settings.database.clone(), settings.pool_size)?;
    let applied = db.migrate()?;
    if !applied.is_empty() {
        log::info!(
            "applied {} migration(s): {}",
            applied.len(),
            applied.join(", ")
        );
    }
    Ok(db)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let bind = match &cli.command {
        Command::Serve { bind } => bind.clone(),
        _ => None,
    };
    let flags = Layer {
        data_dir: cli.data_dir.clone(),
        bind,
        ..Layer::default()
    };
    let settings = Settings::load(cli.config.as_deref(), flags, true)?;
    env_logger::Builder::new()
        .parse_filters(&settings.log)
        .format_timestamp_millis()
        .init();
    kyoso::storage::sql_log::install_if_enabled();
    kyoso::mail::links::set_base(&settings.public_url);
    match cli.command {
        Command::Serve { .. } => {
            // Bound before anything else: a port in use is a reason to stop at once,
            // an absent database is not (see `commands::serve`).
            let listener = TcpListener::bind(settings.bind)
                .map_err(|e| anyhow::anyhow!("cannot listen on {} (bind): {e}", settings.bind))?;
            let where_ = match &settings.database {
                DatabaseTarget::Sqlite(p) => format!("SQLite {}", p.display()),
                DatabaseTarget::Postgres(_) => "PostgreSQL".to_owned(),
            };
            log::info!(
                "kyoso listening on http://{} ({where_}); starting up",
                settings.bind
            );
            actix_web::rt::System::new().block_on(kyoso::commands::serve::run(settings, listener))
        }
        Command::Migrate { revert_all } => {
            let db = Db::open(settings.database.clone(), 1)?;
            let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
            let names = if revert_all {
                revert_all_migrations(&mut conn)?
            } else {
                kyoso::storage::connection::run_migrations(&mut conn)?
            };
            let verb = if revert_all { "reverted" } else { "applied" };
            println!(
                "{verb} {} migration(s){}{}",
                names.len(),
                if names.is_empty() { "" } else { ": " },
                names.join(", ")
            );
            Ok(())
        }
        Command::Demo => {
            let db = open_db(&settings)?;
            let report = kyoso::demo::load(&db)?;
            print!("{}", report.summary());
            let path = settings.data_dir.join("demo-credentials.txt");
            std::fs::write(&path, report.credentials())?;
            println!(
                "The demo accounts' API keys are also in {}.",
                path.display()
            );
            Ok(())
        }
        Command::LoadSeed(a) => {
            let db = open_db(&settings)?;
            let mut volume = kyoso::commands::load_seed::Volume::scaled(a.scale);
            volume.municipalities = a
                .municipalities
                .unwrap_or(volume.municipalities)
                .clamp(1, kyoso::commands::load_text::MUNICIPALITIES.len());
            volume.documents = a.documents.unwrap_or(volume.documents);
            volume.partners = a.partners.unwrap_or(volume.partners);
            volume.proposals = a.proposals.unwrap_or(volume.proposals);
            let options = kyoso::commands::load_seed::Options {
                volume,
                seed: a.seed,
                jobs: a.jobs,
                out: a.out.unwrap_or_else(|| settings.data_dir.join("load")),
            };
            let report = kyoso::commands::load_seed::run(&settings, &db, &options)?;
            print!("{}", report.table());
            println!("load run files: {}", options.out.display());
            Ok(())
        }
        Command::Digest(DigestCommand::Run { period }) => {
            let db = open_db(&settings)?;
            let period = match period.as_deref() {
                None => None,
                Some("daily") => Some(kyoso::domain::notifications::digest::Period::Daily),
                Some("weekly") => Some(kyoso::domain::notifications::digest::Period::Weekly),
                Some(other) => anyhow::bail!("--period must be daily or weekly, not {other}"),
            };
            kyoso::commands::mail::run_digests(&settings, &db, period)
        }
        Command::Mail(MailCommand::Send) => {
            let db = open_db(&settings)?;
            kyoso::commands::mail::send_due(&settings, &db)
        }
        Command::Reindex => {
            let db = open_db(&settings)?;
            kyoso::commands::search::reindex(&settings, &db)?;
            Ok(())
        }
        Command::EvalMatching { dir } => kyoso::commands::eval_matching::run(&settings, &dir),
        Command::EvalRetrieval { dir, limit } => {
            kyoso::commands::eval_matching::run_retrieval(&settings, &dir, limit)
        }
        Command::BenchIndex { docs, index_dir } => {
            kyoso::commands::bench::index(&settings, &docs, &index_dir)
        }
        Command::BenchQuery { index_dir } => kyoso::commands::bench::query(&settings, &index_dir),
        Command::BenchDigest { recipients, items } => {
            kyoso::commands::bench::digest(recipients, items)
        }
        Command::BenchMatch {
            docs,
            index_dir,
            count,
        } => kyoso::commands::bench::matching(&settings, &docs, &index_dir, count),
        Command::Staff(StaffCommand::SetPassword { email }) => {
            let password = password_from_stdin()?;
            let db = open_db(&settings)?;
            kyoso::domain::console_auth::set_password(&db, None, &email, &password)
                .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!("password set for {email}; their console sessions were ended");
            Ok(())
        }
        Command::Staff(StaffCommand::Add(a)) => {
            let password = a.password_stdin.then(password_from_stdin).transpose()?;
            if let Some(p) = &password {
                kyoso::domain::console_auth::check_password(p)
                    .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            }
            let db = open_db(&settings)?;
            let created = staff::create_with_key(
                &db,
                NewStaffInput {
                    email: a.email,
                    display_name: a.name,
                    role: a.role,
                    municipality_code: a.municipality,
                    department_id: a.department,
                    locale: None,
                },
            )
            .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!(
                "created staff user {} ({}, id {})",
                created.staff.email, created.staff.role, created.staff.id
            );
            println!("API key (shown once): {}", created.api_key.key);
            if let Some(p) = password {
                kyoso::domain::console_auth::set_password(&db, None, &created.staff.email, &p)
                    .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
                println!("console password set; log in at /admin");
            }
            Ok(())
        }
    }
}

/// A domain error as one line for the terminal, with field errors spelled out.
fn describe(e: &kyoso::domain::error::AppError) -> String {
    match e {
        kyoso::domain::error::AppError::Invalid(errors) => errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

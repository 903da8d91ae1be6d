//! `opsync`: the native host. See `opsync --help`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "opsync",
    version,
    about = "Keeps WHMCS domain records and Openprovider domains in step",
    long_about = "Keeps WHMCS domain records and Openprovider domains in step.\n\n\
        Openprovider leads status, expiry date and due date; WHMCS leads auto-renew and \
        ID protection (WHOIS privacy). Every decision is made by one pure engine; this \
        program only reads, calls the engine, and applies what it answers."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the decision engine on one request (engine contract v1).
    ///
    /// Reads a request from FILE (or standard input when FILE is absent or "-") and
    /// prints the response on standard output. The request holds the policy, the WHMCS
    /// rows (`whmcs[]`: id, domain, status, expirydate, nextduedate, nextinvoicedate,
    /// donotrenew, idprotection) and the Openprovider domains as the API returns them
    /// (`openprovider.domains[]`, with `complete` true for a full listing). The response
    /// holds one result per WHMCS row: the WHMCS changes, the Openprovider changes and
    /// notices, each change as {from, to}, plus a summary.
    ///
    /// An invalid request prints one line on standard error naming the JSON path of the
    /// problem (e.g. `whmcs[3].id: expected an integer`), nothing on standard output,
    /// and exits with status 1. When no answer could be had at all (the file cannot be
    /// read, the engine ran out of fuel or memory), the one line says so and the exit
    /// status is 3.
    Decide {
        /// The request file; standard input when absent or "-".
        file: Option<PathBuf>,
        /// Which build of the engine answers (both give the same bytes).
        #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
        engine: EngineKind,
    },
    /// Sync every Openprovider domain of WHMCS once (run it from cron).
    ///
    /// Openprovider leads status, expiry and due date; WHMCS leads auto-renew and ID
    /// protection. Mails the report to the admins with System emails when anything
    /// changed or failed. Exit status: 0 the run completed (per-domain problems are in the
    /// report), 4 another run holds the lock, 5 the run could not complete.
    Sync {
        #[command(flatten)]
        run: RunArgs,
        /// Change nothing anywhere; report (and mail) what would change.
        #[arg(long)]
        dry_run: bool,
        /// Mail a report even when nothing changed.
        #[arg(long)]
        send_empty: bool,
    },
    /// Show what a sync would change, without writing or mailing anything.
    Plan {
        #[command(flatten)]
        run: RunArgs,
    },
}

/// What `sync` and `plan` share: where the configuration comes from, and overrides.
#[derive(clap::Args)]
struct RunArgs {
    /// The configuration file (see opsync.example.toml).
    #[arg(
        long,
        short,
        env = "OPSYNC_CONFIG",
        default_value = "/etc/opsync/opsync.toml"
    )]
    config: PathBuf,
    /// The WHMCS database URL, over the file and OPSYNC_DATABASE_URL.
    #[arg(long)]
    database_url: Option<String>,
    /// The Openprovider API base URL (https; http only to 127.0.0.1).
    #[arg(long)]
    base_url: Option<String>,
    /// Only the next N rows (never-synced first, then the oldest); 0: all.
    #[arg(long)]
    batch: Option<usize>,
    /// Print the outcome as JSON instead of the report text.
    #[arg(long)]
    json: bool,
    /// How to read Openprovider: auto (look-ups by name for batches under 100, else the
    /// bulk listing), bulk, or per-domain (one call per domain, as the old cron; slow).
    #[arg(long, value_enum, default_value_t = LookupArg::Auto)]
    lookup: LookupArg,
    /// Log what happens on standard error (-v: progress, -vv: every API call).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Clone, Copy, ValueEnum)]
enum LookupArg {
    Auto,
    Bulk,
    PerDomain,
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineKind {
    /// The embedded engine.wasm, run by wasmtime (compiled once, then cached on disk).
    Wasm,
    /// The engine compiled into this program.
    Native,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decide { file, engine } => decide(file, engine),
        Command::Sync {
            run,
            dry_run,
            send_empty,
        } => sync(run, dry_run, send_empty, true),
        Command::Plan { run } => sync(run, true, false, false),
    }
}

/// `sync` (mail: true) and `plan` (mail: false, always a dry run).
fn sync(args: RunArgs, dry_run: bool, send_empty: bool, mail: bool) -> ExitCode {
    let level = match args.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPSYNC_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(format!("warn,opsync={level}"))
            }),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let overrides = opsync::config::Overrides {
        database_url: args.database_url,
        base_url: args.base_url,
        batch_size: args.batch,
        send_empty_reports: send_empty.then_some(true),
    };
    let config = match opsync::config::FileConfig::read(&args.config)
        .and_then(|file| opsync::config::resolve(file, &|k| std::env::var(k).ok(), &overrides))
    {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string(), EXIT_NOT_COMPLETED),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start: {e}"), EXIT_NOT_COMPLETED),
    };
    runtime.block_on(async {
        let lookup = match args.lookup {
            LookupArg::Auto => opsync::sync::Lookup::Auto,
            LookupArg::Bulk => opsync::sync::Lookup::Bulk,
            LookupArg::PerDomain => opsync::sync::Lookup::PerDomain,
        };
        let options = opsync::sync::RunOptions { dry_run, lookup };
        let outcome = match opsync::sync::run(&config, options).await {
            Ok(outcome) => outcome,
            Err(opsync::sync::RunError::Locked) => {
                return fail(&opsync::sync::RunError::Locked.to_string(), EXIT_LOCKED)
            }
            Err(e) => return fail(&e.to_string(), EXIT_NOT_COMPLETED),
        };
        let mut mailed = 0;
        let mail_configured = config.mail.from.is_some();
        if mail && outcome.report.send && !mail_configured {
            eprintln!(
                "opsync: mail is not configured ([mail] from): the report is printed, not mailed"
            );
        }
        if mail && outcome.report.send && mail_configured {
            let sent = async {
                let mailer = opsync::mail::Mailer::new(&config.mail)?;
                let store = opsync::whmcs::Whmcs::connect(config.database_url.expose())
                    .await
                    .map_err(|e| opsync::mail::MailError::Config(e.to_string()))?;
                let admins = store
                    .system_email_admins()
                    .await
                    .map_err(|e| opsync::mail::MailError::Config(e.to_string()))?;
                mailer.send(&outcome.report, &admins).await
            }
            .await;
            match sent {
                Ok(n) => mailed = n,
                Err(e) => {
                    print_outcome(&outcome, args.json, 0);
                    return fail(&e.to_string(), EXIT_NOT_COMPLETED);
                }
            }
        }
        print_outcome(&outcome, args.json, mailed);
        ExitCode::SUCCESS
    })
}

fn print_outcome(outcome: &opsync::sync::RunOutcome, json: bool, mailed: usize) {
    if json {
        let summary = serde_json::json!({
            "summary": outcome.response.summary,
            "failures": outcome.failures,
            "listing_complete": outcome.listing_complete,
            "report_sent_to": mailed,
            "subject": outcome.report.subject,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    } else if std::io::IsTerminal::is_terminal(&std::io::stdout()) || outcome.report.send {
        // Under cron, a run with nothing to say prints nothing (cron mails any output).
        println!("{}\n\n{}", outcome.report.subject, outcome.report.text);
    }
}

fn decide(file: Option<PathBuf>, engine: EngineKind) -> ExitCode {
    let request = match read_input(file.as_ref()) {
        Ok(bytes) => bytes,
        Err(message) => return fail(&message, EXIT_NO_ANSWER),
    };
    let engine = match engine {
        EngineKind::Wasm => opsync::EngineChoice::Wasm,
        EngineKind::Native => opsync::EngineChoice::Native,
    };
    let answer = opsync::decide(&request, engine);
    match answer {
        Ok(mut response) => {
            response.push(b'\n');
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&response).and_then(|()| out.flush()) {
                return fail(&format!("cannot write the response: {e}"), EXIT_NO_ANSWER);
            }
            ExitCode::SUCCESS
        }
        Err(opsync::CallError::Invalid(line)) => fail(&line, EXIT_INVALID),
        Err(other) => fail(&other.to_string(), EXIT_NO_ANSWER),
    }
}

fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    match file {
        Some(path) if path.as_os_str() != "-" => {
            bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
        }
    }
    Ok(bytes)
}

/// `opsync decide`: the request is invalid.
const EXIT_INVALID: u8 = 1;
/// `opsync sync`: another run holds the lock.
const EXIT_LOCKED: u8 = 4;
/// `opsync sync`: the run could not complete (configuration, database, API, mail).
const EXIT_NOT_COMPLETED: u8 = 5;
/// No answer could be had (2 is the usage error of the command line itself).
const EXIT_NO_ANSWER: u8 = 3;

/// One line on standard error, and the exit status.
fn fail(message: &str, status: u8) -> ExitCode {
    let line = message.replace(['\n', '\r'], " ");
    eprintln!("opsync: {line}");
    ExitCode::from(status)
}

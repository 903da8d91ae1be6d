//! `opsync`: the native host. `main` parses the command line and hands it to `run`, which
//! calls one function per command (`commands/`); each answers with an [`ExitStatus`],
//! turned into the process's exit code in one place.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use opsync::Verb;

mod commands;

#[derive(Parser)]
#[command(
    name = "opsync",
    version,
    about = "Keeps WHMCS domain records and Openprovider domains in step",
    long_about = "Keeps WHMCS domain records and Openprovider domains in step.\n\n\
        Openprovider leads status, expiry date and due date; WHMCS leads auto-renew and \
        ID protection (WHOIS privacy). Every decision is made by one pure engine; this \
        program only reads, calls the engine, and applies what it answers.",
    after_long_help = "Files:\n  \
        /etc/opsync/opsync.toml   the configuration (opsync.example.toml explains each key)\n  \
        /etc/opsync/env           secrets for the systemd service (OPSYNC_OP_PASSWORD=..., \
        OPSYNC_DATABASE_URL=...)\n  \
        /var/lib/opsync           the Openprovider token cache and the compiled engine\n\n\
        Exit status: 0 done; 1 invalid input; 2 a bad command line; 3 no answer; 4 another \
        run holds the lock; 5 the run could not complete; 6 a law is broken; 7 a check \
        failed; 8 the mass-change brake held the run.\n\n\
        Start with `opsync check`, then `opsync plan`, then `opsync sync` (or the \
        opsync-sync.timer systemd unit)."
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
    /// notices, each change as {from, to}, what a host writes for them (`whmcs_update`,
    /// `openprovider_update`, `activity`), plus a summary.
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
    /// Render the report email of a run (the engine's `render_report`).
    ///
    /// Reads `{response, dry_run?, send_empty?, failures?}` from FILE (or standard input)
    /// and prints `{send, subject, text, html}`. Exit status and errors as for `decide`:
    /// 1 with one line for invalid input, 3 when no answer could be had.
    RenderReport {
        /// The input file; standard input when absent or "-".
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
        engine: EngineKind,
    },
    /// The names to look up at Openprovider, for domain names as WHMCS holds them.
    ///
    /// Reads a JSON array of names from FILE (or standard input) and prints the array of
    /// the names Openprovider knows them by (lower case, no trailing dot, IDN labels in
    /// punycode; null for a name that is no usable domain name): the form the engine
    /// pairs in. Exit status and errors as for `decide`.
    LookupNames {
        /// The input file; standard input when absent or "-".
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
        engine: EngineKind,
    },
    /// The settings as a run reads them (the engine's `settings` verb).
    ///
    /// Reads `{settings, options?}` (a run's raw settings) from FILE (or standard input)
    /// and prints the policy, the batch, the API address and every setting with its value
    /// and where it came from. Exit status and errors as for `decide`.
    Settings {
        /// The input file; standard input when absent or "-".
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
        engine: EngineKind,
    },
    /// One run of the engine's run protocol over standard input and output (the PHP
    /// drop-in's fallback when FFI is off).
    ///
    /// The first line in is the run's start (JSON); each next input is its header (one
    /// JSON line), a line with the body's length in bytes, and the body. Each answer out
    /// is the run's outputs (one JSON line), or `ERROR <line>` when an input was refused
    /// (the run goes on). Ends when the outputs hold the outcome.
    #[command(hide = true)]
    EngineRun {
        #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
        engine: EngineKind,
    },
    /// Print the engine's name and version (e.g. `opsync-engine 0.1.0`).
    Version {
        #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
        engine: EngineKind,
    },
    /// Sync every Openprovider domain of WHMCS once (run it from cron).
    ///
    /// Openprovider leads status, expiry and due date; WHMCS leads auto-renew and ID
    /// protection. Mails the report to the admins with System emails when anything
    /// changed or failed. A run that would change more rows than the mass-change brake
    /// allows ([safety] in opsync.toml; `opsync check` shows the limits in effect)
    /// writes nothing and reports what it would have changed; `--allow-mass-change`
    /// releases one run. Exit status: 0 the run completed (per-domain problems are in the
    /// report), 4 another run holds the lock, 5 the run could not complete, 8 the brake
    /// held the run.
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
    /// Check the set-up: run it first, and after every change.
    ///
    /// One line per check, ✓ or ✗, and for a ✗ what to do: the configuration (every
    /// setting and where it came from: file, environment or command line; secrets as ***),
    /// the WHMCS database (connection, the tables and columns opsync reads and writes,
    /// sql_mode, the Openprovider rows, duplicates and zero dates, the run lock, opsync's
    /// own tables, created when missing), Openprovider (login or the cached token, one page
    /// of the listing, how many WHMCS rows it finds), mail (connects, TLS and
    /// authentication as configured, the recipients) and the engine. Writes nothing to
    /// WHMCS or Openprovider and sends no mail unless asked. Exit status: 0 every check
    /// passed, 7 a check failed.
    Check {
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
        /// Print the settings and checks as JSON.
        #[arg(long)]
        json: bool,
        /// Send one test mail to the report's recipients.
        #[arg(long)]
        send_test_mail: bool,
        /// Also probe, read-only, what opsync assumes about Openprovider's API: a look-up
        /// of two names returns those two, order_by.id and is_deleted=true are accepted,
        /// two pages agree with the total. Send us what it prints when a probe fails.
        #[arg(long)]
        live_api: bool,
    },
    /// The run history: the last runs of `opsync sync` and of the WHMCS drop-in.
    ///
    /// One line per run, newest first: when, which host, the mode (sync, dry-run, held,
    /// failed), rows checked and changed, errors, warnings, failures, how long it took and
    /// its exit status. `opsync history show RUN` prints that run's report and the time of
    /// each step. Reads the WHMCS database (adding to opsync_runs the columns an older
    /// release did not create).
    History {
        /// The configuration file (see opsync.example.toml).
        #[arg(
            long,
            short,
            env = "OPSYNC_CONFIG",
            default_value = "/etc/opsync/opsync.toml",
            global = true
        )]
        config: PathBuf,
        /// The WHMCS database URL, over the file and OPSYNC_DATABASE_URL.
        #[arg(long, global = true)]
        database_url: Option<String>,
        /// How many runs to list.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        show: Option<HistoryCommand>,
    },
    /// Show what a sync would change, without writing or mailing anything.
    ///
    /// Exit status as for `sync`; 8 when the mass-change brake would hold the run.
    Plan {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Check the engine's laws with your policy (property tests, a few seconds).
    ///
    /// Generates random WHMCS rows and Openprovider domains, decides them with the policy
    /// of the configuration file (the contract's defaults without one), and checks every
    /// law of the contract: idempotence, each side leading its own fields, only known
    /// values written, protected and unpaired rows untouched, writes matching changes,
    /// order independence, determinism, no panic on any input. A broken law is printed
    /// with the smallest request that shows it. Exit status: 0 every law holds, 6 a law
    /// is broken, 5 the configuration could not be read.
    Laws {
        /// The configuration file whose [policy] is checked.
        #[arg(long, short, env = "OPSYNC_CONFIG")]
        config: Option<PathBuf>,
        /// Generated cases per law.
        #[arg(long, default_value_t = 256)]
        cases: u32,
    },
    /// Print the shell completions for SHELL on standard output.
    ///
    /// e.g. `opsync completions bash > /etc/bash_completion.d/opsync`. The Debian package
    /// installs them for bash, zsh and fish.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (opsync.1 and one per command) into DIR, for packaging.
    #[command(hide = true)]
    ManPages {
        /// Where the pages go (created when missing).
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum HistoryCommand {
    /// Print one run's report.
    Show {
        /// The run's number, as `opsync history` lists it.
        run: u64,
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
    /// Release the mass-change brake for this run only (read `opsync plan` first).
    #[arg(long)]
    allow_mass_change: bool,
    /// After each sync, write Prometheus metrics here (for node_exporter's textfile
    /// collector), over `[report] metrics_file`.
    #[arg(long)]
    metrics_file: Option<PathBuf>,
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

impl From<EngineKind> for opsync::EngineChoice {
    fn from(kind: EngineKind) -> Self {
        match kind {
            EngineKind::Wasm => opsync::EngineChoice::Wasm,
            EngineKind::Native => opsync::EngineChoice::Native,
        }
    }
}

/// Every way `opsync` ends, and its exit code (2 is clap's, for a bad command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitStatus {
    /// Done: an answer printed, a run completed, every law holds.
    Success,
    /// `decide` / `render-report` / `lookup-names`: the input is invalid.
    Invalid,
    /// No answer could be had (unreadable input, the engine out of fuel or memory).
    NoAnswer,
    /// `sync` / `plan`: another run holds the lock.
    Locked,
    /// `sync` / `plan` / `laws`: the run could not complete (configuration, database,
    /// API, mail).
    NotCompleted,
    /// `laws`: a law is broken under this policy.
    LawBroken,
    /// `check`: a check failed.
    CheckFailed,
    /// `sync` / `plan`: the mass-change brake held the run; nothing was written.
    Held,
}

impl ExitStatus {
    fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Invalid => 1,
            ExitStatus::NoAnswer => 3,
            ExitStatus::Locked => 4,
            ExitStatus::NotCompleted => 5,
            ExitStatus::LawBroken => 6,
            ExitStatus::CheckFailed => 7,
            ExitStatus::Held => 8,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

fn main() -> ExitCode {
    run(Cli::parse()).into()
}

fn run(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::Decide { file, engine } => commands::verb(Verb::Decide, file, engine.into()),
        Command::RenderReport { file, engine } => {
            commands::verb(Verb::RenderReport, file, engine.into())
        }
        Command::LookupNames { file, engine } => {
            commands::verb(Verb::LookupNames, file, engine.into())
        }
        Command::Settings { file, engine } => commands::verb(Verb::Settings, file, engine.into()),
        Command::EngineRun { engine } => commands::engine_run(engine.into()),
        Command::Version { engine } => commands::version(engine.into()),
        Command::Sync {
            run,
            dry_run,
            send_empty,
        } => commands::sync(
            run,
            commands::SyncMode::Sync {
                dry_run,
                send_empty,
            },
        ),
        Command::Check {
            config,
            database_url,
            base_url,
            json,
            send_test_mail,
            live_api,
        } => commands::check(
            &config,
            opsync::config::Overrides {
                database_url,
                base_url,
                ..Default::default()
            },
            opsync::check::CheckOptions {
                send_test_mail,
                live_api,
            },
            json,
        ),
        Command::History {
            config,
            database_url,
            limit,
            json,
            show,
        } => commands::history(
            &config,
            database_url,
            limit,
            show.map(|HistoryCommand::Show { run }| run),
            json,
        ),
        Command::Plan { run } => commands::sync(run, commands::SyncMode::Plan),
        Command::Laws { config, cases } => commands::laws(config, cases),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "opsync", &mut std::io::stdout());
            ExitStatus::Success
        }
        Command::ManPages { dir } => match std::fs::create_dir_all(&dir)
            .and_then(|()| clap_mangen::generate_to(Cli::command(), &dir))
        {
            Ok(()) => ExitStatus::Success,
            Err(e) => fail(
                &format!("cannot write the man pages to {}: {e}", dir.display()),
                ExitStatus::NotCompleted,
            ),
        },
    }
}

/// One line on standard error, and the exit status.
fn fail(message: &str, status: ExitStatus) -> ExitStatus {
    let line = message.replace(['\n', '\r'], " ");
    eprintln!("opsync: {line}");
    status
}

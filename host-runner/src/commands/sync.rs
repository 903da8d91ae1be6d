//! `opsync sync` and `opsync plan`: a run of the engine (`opsync::run`), and what it
//! prints. What the run did, and every word about it, is the engine's outcome.

use opsync::config::{FileConfig, Overrides};
use opsync::progress::Terminal;
use opsync_engine::run::{Lookup, Mailed, Mode, RunOutcome};

use crate::{fail, ExitStatus, LookupArg, RunArgs};

#[derive(Clone, Copy)]
pub(crate) enum SyncMode {
    /// `opsync sync`: apply (unless a dry run) and mail the report.
    Sync { dry_run: bool, send_empty: bool },
    /// `opsync plan`: a dry run that mails nothing.
    Plan,
}

/// What a run got to, for the metrics file.
#[derive(Default)]
struct Reached {
    /// `[report] metrics_file`, once the configuration was read.
    metrics_file: Option<std::path::PathBuf>,
    outcome: Option<RunOutcome>,
}

pub(crate) fn sync(args: RunArgs, mode: SyncMode) -> ExitStatus {
    let started = std::time::SystemTime::now();
    let cli_metrics = args.metrics_file.clone();
    let mut reached = Reached::default();
    let status = run(args, mode, &mut reached);
    // `plan` writes nothing, metrics included.
    if let (SyncMode::Sync { .. }, Some(path)) = (mode, cli_metrics.or(reached.metrics_file)) {
        let outcome = reached.outcome.as_ref();
        let metrics = opsync::metrics::RunMetrics {
            started,
            finished: std::time::SystemTime::now(),
            exit_status: status.code(),
            summary: outcome.and_then(|o| o.summary.clone()),
            failures: outcome.map_or(0, |o| o.failures.len()),
            api_calls: outcome.map(|o| o.api.requests),
            steps: outcome.map(|o| o.steps.clone()).unwrap_or_default(),
        };
        if let Err(e) = opsync::metrics::write(&path, &metrics) {
            eprintln!(
                "opsync: cannot write the metrics file {}: {e}",
                path.display()
            );
        }
    }
    status
}

fn run(args: RunArgs, mode: SyncMode, reached: &mut Reached) -> ExitStatus {
    init_logging(args.verbose);
    let (engine_mode, send_empty) = match mode {
        SyncMode::Sync {
            dry_run: true,
            send_empty,
        } => (Mode::DryRun, send_empty),
        SyncMode::Sync {
            dry_run: false,
            send_empty,
        } => (Mode::Sync, send_empty),
        SyncMode::Plan => (Mode::Plan, false),
    };
    let overrides = Overrides {
        database_url: args.database_url,
        base_url: args.base_url,
        batch_size: args.batch,
        send_empty_reports: send_empty.then_some(true),
        allow_mass_change: args.allow_mass_change,
    };
    let config = match FileConfig::read(&args.config)
        .and_then(|file| opsync::config::resolve(file, &|k| std::env::var(k).ok(), &overrides))
    {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string(), ExitStatus::NotCompleted),
    };
    reached.metrics_file = config.metrics_file.clone();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start: {e}"), ExitStatus::NotCompleted),
    };
    let lookup = match args.lookup {
        LookupArg::Auto => Lookup::Auto,
        LookupArg::Bulk => Lookup::Bulk,
        LookupArg::PerDomain => Lookup::PerDomain,
    };
    let start = opsync::run::start(&config, engine_mode, lookup);
    let outcome = match runtime.block_on(opsync::run::run(
        &config,
        &start,
        opsync::EngineChoice::Wasm,
        &Terminal::new(),
    )) {
        Ok(outcome) => outcome,
        Err(e) => return fail(&e.to_string(), ExitStatus::NotCompleted),
    };
    print_outcome(&outcome, args.json);
    if matches!(mode, SyncMode::Plan) && !args.json {
        println!("\n{}", outcome.brake);
    }
    for line in &outcome.lines {
        eprintln!("opsync: {}", line.replace(['\n', '\r'], " "));
    }
    let status = match outcome.exit_status {
        0 => ExitStatus::Success,
        4 => ExitStatus::Locked,
        8 => ExitStatus::Held,
        _ => ExitStatus::NotCompleted,
    };
    reached.outcome = Some(outcome);
    status
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPSYNC_LOG").unwrap_or_else(|_| {
                // Under cron every line is mailed: other crates speak only of errors
                // unless asked (-v).
                let others = if verbose == 0 { "error" } else { "warn" };
                tracing_subscriber::EnvFilter::new(format!("{others},opsync={level}"))
            }),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

/// The outcome for whoever ran the command.
#[derive(serde::Serialize)]
struct JsonOutcome<'a> {
    summary: &'a Option<opsync_engine::Summary>,
    failures: &'a [opsync_engine::Failure],
    listing_complete: bool,
    report_sent_to: u64,
    subject: &'a str,
    /// Each step's time in seconds, in the order they ran.
    steps: &'a [opsync_engine::run::StepTime],
    /// The sum of the steps.
    seconds: f64,
    exit_status: u8,
    /// Requests sent to Openprovider (retries and logins included).
    api_calls: u64,
}

fn print_outcome(outcome: &RunOutcome, json: bool) {
    let subject = outcome.report.as_ref().map_or("", |r| r.subject.as_str());
    if json {
        let shown = JsonOutcome {
            summary: &outcome.summary,
            failures: &outcome.failures,
            listing_complete: outcome.listing_complete,
            report_sent_to: if outcome.mail == Mailed::Sent {
                outcome.mailed_to
            } else {
                0
            },
            subject,
            steps: &outcome.steps,
            seconds: outcome.steps.iter().map(|s| s.seconds).sum(),
            exit_status: outcome.exit_status,
            api_calls: outcome.api.requests,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        );
    } else if let Some(report) = &outcome.report {
        // Under cron, a run with nothing to say prints nothing (cron mails any output).
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) || report.send {
            println!("{}\n\n{}", report.subject, report.text);
        }
    }
}

//! `opsync sync` and `opsync plan`: the cron flow (`opsync::sync`), and what it prints.

use opsync::config::{FileConfig, Overrides};
use opsync::progress::Terminal;
use opsync::sync::{Lookup, Mailed, RunError, RunOptions, RunOutcome};

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
    summary: Option<opsync_engine::Summary>,
    failures: usize,
    api_calls: Option<u64>,
    steps: Vec<opsync::sync::StepTime>,
}

pub(crate) fn sync(args: RunArgs, mode: SyncMode) -> ExitStatus {
    let started = std::time::SystemTime::now();
    let cli_metrics = args.metrics_file.clone();
    let mut reached = Reached::default();
    let status = run(args, mode, &mut reached);
    // `plan` writes nothing, metrics included.
    if let (SyncMode::Sync { .. }, Some(path)) = (mode, cli_metrics.or(reached.metrics_file)) {
        let metrics = opsync::metrics::RunMetrics {
            started,
            finished: std::time::SystemTime::now(),
            exit_status: status.code(),
            summary: reached.summary,
            failures: reached.failures,
            api_calls: reached.api_calls,
            steps: reached.steps,
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
    let (dry_run, send_empty, mail) = match mode {
        SyncMode::Sync {
            dry_run,
            send_empty,
        } => (dry_run, send_empty, true),
        SyncMode::Plan => (true, false, false),
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
    let options = RunOptions {
        dry_run,
        lookup: match args.lookup {
            LookupArg::Auto => Lookup::Auto,
            LookupArg::Bulk => Lookup::Bulk,
            LookupArg::PerDomain => Lookup::PerDomain,
        },
        mail,
        // `plan` promises to write nothing, not even a line of history.
        record: matches!(mode, SyncMode::Sync { .. }),
    };
    let outcome = match runtime.block_on(opsync::sync::run(&config, options, &Terminal::new())) {
        Ok(outcome) => outcome,
        Err(e @ RunError::Locked) => return fail(&e.to_string(), ExitStatus::Locked),
        Err(e) => return fail(&e.to_string(), ExitStatus::NotCompleted),
    };
    reached.summary = Some(outcome.response.summary.clone());
    reached.failures = outcome.failures.len();
    reached.api_calls = Some(outcome.api_calls);
    reached.steps = outcome.steps.clone();
    print_outcome(&outcome, args.json);
    if matches!(mode, SyncMode::Plan) && !args.json {
        println!(
            "\n{}",
            match config.policy.mass_change_limit {
                Some(limit) => format!(
                    "Mass-change brake: on. A sync in which more than {} rows and more than \
                     {}% of the rows would change is held whole ([safety] in opsync.toml).",
                    limit.min_rows, limit.percent
                ),
                None if args.allow_mass_change => {
                    "Mass-change brake: released for this run (--allow-mass-change).".into()
                }
                None => "Mass-change brake: off ([safety] mass_change_percent = 100).".into(),
            }
        );
    }
    let summary = &outcome.response.summary;
    let done = if summary.held {
        fail(
            &format!(
                "the mass-change brake held this run: {} of {} rows would change; nothing was \
                 written. Read the report ({}), then release one run with --allow-mass-change, \
                 or change [safety] in opsync.toml",
                summary.held_rows.unwrap_or(0),
                summary.rows,
                if matches!(mode, SyncMode::Plan) {
                    "above"
                } else {
                    "mailed, and printed with opsync plan"
                }
            ),
            ExitStatus::Held,
        )
    } else {
        ExitStatus::Success
    };
    match &outcome.mail {
        Mailed::Failed(why) => fail(why, ExitStatus::NotCompleted),
        Mailed::NotConfigured => {
            eprintln!(
                "opsync: mail is not configured ([mail] from): the report is printed, not mailed"
            );
            done
        }
        Mailed::NotSent | Mailed::Sent(_) => done,
    }
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
    summary: &'a opsync_engine::Summary,
    failures: &'a [opsync_engine::Failure],
    listing_complete: bool,
    report_sent_to: usize,
    subject: &'a str,
    /// Each step's time in seconds, in the order they ran.
    steps: &'a [opsync::sync::StepTime],
    /// The sum of the steps.
    seconds: f64,
    exit_status: u8,
}

fn print_outcome(outcome: &RunOutcome, json: bool) {
    if json {
        let shown = JsonOutcome {
            summary: &outcome.response.summary,
            failures: &outcome.failures,
            listing_complete: outcome.listing_complete,
            report_sent_to: match outcome.mail {
                Mailed::Sent(n) => n,
                _ => 0,
            },
            subject: &outcome.report.subject,
            steps: &outcome.steps,
            seconds: outcome.steps.iter().map(|s| s.seconds).sum(),
            exit_status: outcome.exit_code(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        );
    } else if std::io::IsTerminal::is_terminal(&std::io::stdout()) || outcome.report.send {
        // Under cron, a run with nothing to say prints nothing (cron mails any output).
        println!("{}\n\n{}", outcome.report.subject, outcome.report.text);
    }
}

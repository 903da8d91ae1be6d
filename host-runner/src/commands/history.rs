//! `opsync history`: the run history both hosts write, and one run's report.

use std::path::Path;

use opsync::config::{FileConfig, Overrides};
use opsync::whmcs::{HistoryRun, Whmcs};

use crate::{fail, ExitStatus};

/// How long a run took, from its two timestamps (whole seconds).
fn took(run: &HistoryRun) -> Option<i64> {
    let at = |t: &str| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok();
    Some((at(&run.finished_at)? - at(&run.started_at)?).num_seconds())
}

#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    run: &'a HistoryRun,
    seconds: Option<i64>,
}

pub(crate) fn history(
    config_path: &Path,
    database_url: Option<String>,
    limit: usize,
    show: Option<u64>,
    json: bool,
) -> ExitStatus {
    let overrides = Overrides {
        database_url,
        ..Overrides::default()
    };
    let config = match FileConfig::read(config_path)
        .and_then(|file| opsync::config::resolve(file, &|k| std::env::var(k).ok(), &overrides))
    {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string(), ExitStatus::NotCompleted),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start: {e}"), ExitStatus::NotCompleted),
    };
    runtime.block_on(async {
        let store = match Whmcs::connect(config.database_url.expose()).await {
            Ok(store) => store,
            Err(e) => return fail(&e.to_string(), ExitStatus::NotCompleted),
        };
        match show {
            Some(id) => match store.run_report(id).await {
                Ok(Some((run, report))) => {
                    if json {
                        let shown = serde_json::json!({
                            "run": Shown { run: &run, seconds: took(&run) },
                            "report_text": report,
                        });
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&shown).unwrap_or_default()
                        );
                    } else {
                        println!(
                            "Run {} ({} {}, {}, exit status {}), {}\n\n{}{}",
                            run.id,
                            run.host,
                            run.mode,
                            run.started_at,
                            run.exit_status.map_or("?".to_string(), |s| s.to_string()),
                            run.subject,
                            report,
                            step_lines(&run)
                        );
                    }
                    ExitStatus::Success
                }
                Ok(None) => fail(
                    &format!("there is no run {id} in the run history (opsync history lists them)"),
                    ExitStatus::NotCompleted,
                ),
                Err(e) => fail(&e.to_string(), ExitStatus::NotCompleted),
            },
            None => match store.runs(limit).await {
                Ok(runs) => {
                    if json {
                        let shown: Vec<Shown> = runs
                            .iter()
                            .map(|run| Shown {
                                run,
                                seconds: took(run),
                            })
                            .collect();
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&shown).unwrap_or_default()
                        );
                    } else {
                        print!("{}", table(&runs));
                    }
                    ExitStatus::Success
                }
                Err(e) => fail(&e.to_string(), ExitStatus::NotCompleted),
            },
        }
    })
}

/// The run's step times, one line each, when the host timed them.
fn step_lines(run: &HistoryRun) -> String {
    if run.steps.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nSteps:\n");
    for step in &run.steps {
        out.push_str(&format!("  {:20} {:>9.3} s\n", step.step, step.seconds));
    }
    out
}

fn table(runs: &[HistoryRun]) -> String {
    if runs.is_empty() {
        return "No runs yet: the history fills as opsync sync (or the WHMCS drop-in) runs.\n"
            .into();
    }
    let mut out = format!(
        "{:>6}  {:19}  {:6}  {:7}  {:>7}  {:>7}  {:>6}  {:>8}  {:>8}  {:>6}  {:>4}\n",
        "run",
        "started",
        "host",
        "mode",
        "checked",
        "changed",
        "errors",
        "warnings",
        "failures",
        "took",
        "exit"
    );
    for run in runs {
        out.push_str(&format!(
            "{:>6}  {:19}  {:6}  {:7}  {:>7}  {:>7}  {:>6}  {:>8}  {:>8}  {:>6}  {:>4}\n",
            run.id,
            run.started_at,
            run.host,
            run.mode,
            run.rows_checked,
            run.changed_rows,
            run.errors,
            run.warnings,
            run.failures,
            took(run).map_or("?".to_string(), |s| format!("{s} s")),
            run.exit_status.map_or("?".to_string(), |s| s.to_string()),
        ));
    }
    out.push_str("\nopsync history show RUN prints a run's report.\n");
    out
}

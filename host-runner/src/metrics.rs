//! The metrics file for monitoring (`--metrics-file`): after every run, the Prometheus
//! text format node_exporter's textfile collector reads, written whole (a temporary file
//! renamed into place) so a scrape never sees half of it. The time of the last successful
//! run is carried over from the previous file, so a failing run keeps it and an alert on
//! "no successful run for 3 hours" works.

use std::fmt::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use opsync_engine::Summary;

/// What one run of `opsync sync` came to.
#[derive(Debug, Clone)]
pub struct RunMetrics {
    pub started: SystemTime,
    pub finished: SystemTime,
    /// The process's exit status.
    pub exit_status: u8,
    /// The engine's summary, when the run got that far.
    pub summary: Option<Summary>,
    pub failures: usize,
    pub api_calls: Option<u64>,
    /// Each step's time (empty when the run did not complete).
    pub steps: Vec<opsync_engine::run::StepTime>,
}

impl RunMetrics {
    /// Completed, and nothing held: what "a successful run" means to monitoring.
    pub fn success(&self) -> bool {
        self.exit_status == 0 && !self.summary.as_ref().is_some_and(|s| s.held)
    }
}

fn seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The metrics text for `run`; `last_success` is the previous file's, used when this run
/// did not succeed.
pub fn render(run: &RunMetrics, last_success: Option<f64>) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, help: &str, kind: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP opsync_{name} {help}");
        let _ = writeln!(out, "# TYPE opsync_{name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "opsync_{name}{labels} {value}");
        }
    };
    let last_success = if run.success() {
        Some(seconds(run.finished))
    } else {
        last_success
    };
    metric(
        "last_run_start_timestamp_seconds",
        "When the last run started.",
        "gauge",
        &[("", seconds(run.started).floor())],
    );
    metric(
        "last_run_end_timestamp_seconds",
        "When the last run ended.",
        "gauge",
        &[("", seconds(run.finished).floor())],
    );
    metric(
        "last_run_duration_seconds",
        "How long the last run took.",
        "gauge",
        &[(
            "",
            run.finished
                .duration_since(run.started)
                .map_or(0.0, |d| d.as_secs_f64()),
        )],
    );
    metric(
        "last_run_success",
        "1 when the last run completed and was not held by the mass-change brake.",
        "gauge",
        &[("", f64::from(u8::from(run.success())))],
    );
    metric(
        "last_run_exit_status",
        "The last run's exit status (0 done, 4 locked, 5 not completed, 8 held).",
        "gauge",
        &[("", f64::from(run.exit_status))],
    );
    if let Some(at) = last_success {
        metric(
            "last_success_timestamp_seconds",
            "When the last successful run ended.",
            "gauge",
            &[("", at.floor())],
        );
    }
    if let Some(s) = &run.summary {
        let n = |v: u64| v as f64;
        metric(
            "last_run_rows_checked",
            "WHMCS rows the last run checked.",
            "gauge",
            &[("", n(s.rows))],
        );
        metric(
            "last_run_rows_changed",
            "Rows the last run changed, per side.",
            "gauge",
            &[
                ("{side=\"whmcs\"}", n(s.whmcs_updates)),
                ("{side=\"openprovider\"}", n(s.openprovider_updates)),
            ],
        );
        metric(
            "last_run_errors",
            "Error notices in the last run's report.",
            "gauge",
            &[("", n(s.errors))],
        );
        metric(
            "last_run_warnings",
            "Warnings in the last run's report.",
            "gauge",
            &[("", n(s.warnings))],
        );
        metric(
            "last_run_held",
            "1 when the mass-change brake held the last run.",
            "gauge",
            &[("", f64::from(u8::from(s.held)))],
        );
        metric(
            "last_run_held_rows",
            "Rows the held run would have changed.",
            "gauge",
            &[("", n(s.held_rows.unwrap_or(0)))],
        );
        metric(
            "last_run_failures",
            "Writes the last run could not make (refused updates, rows edited meanwhile).",
            "gauge",
            &[("", run.failures as f64)],
        );
    }
    if let Some(calls) = run.api_calls {
        metric(
            "last_run_api_calls",
            "Requests the last run sent to Openprovider.",
            "gauge",
            &[("", calls as f64)],
        );
    }
    if !run.steps.is_empty() {
        let labels: Vec<String> = run
            .steps
            .iter()
            .map(|s| format!("{{step=\"{}\"}}", s.step))
            .collect();
        let samples: Vec<(&str, f64)> = labels
            .iter()
            .zip(&run.steps)
            .map(|(l, s)| (l.as_str(), s.seconds))
            .collect();
        metric(
            "last_run_step_duration_seconds",
            "How long each step of the last run took.",
            "gauge",
            &samples,
        );
    }
    out
}

/// The last-success time a previous metrics file holds.
pub fn previous_success(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("opsync_last_success_timestamp_seconds "))
        .and_then(|v| v.trim().parse().ok())
}

/// Writes the metrics of `run` to `path`, whole.
pub fn write(path: &Path, run: &RunMetrics) -> std::io::Result<()> {
    let text = render(run, previous_success(path));
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

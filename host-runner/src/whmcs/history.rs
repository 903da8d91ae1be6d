//! The run history both hosts write (`opsync_runs`; the drop-in creates the same table):
//! one row per run, as the engine's outcome gives it, and what `opsync history` reads.

use opsync_engine::run::{HistoryRow, StepTime};
use sqlx::any::AnyRow;

use super::{id_value, query_error, text_at, StoreError, Whmcs};

const CREATE_RUNS_MYSQL: &str = "CREATE TABLE IF NOT EXISTS opsync_runs (\
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, started_at VARCHAR(19) NOT NULL, \
    finished_at VARCHAR(19) NOT NULL, host VARCHAR(16) NOT NULL, mode VARCHAR(8) NOT NULL, \
    rows_checked INT NOT NULL, changed_rows INT NOT NULL, whmcs_updates INT NOT NULL, \
    openprovider_updates INT NOT NULL, errors INT NOT NULL, warnings INT NOT NULL, \
    failures INT NOT NULL, subject TEXT NOT NULL, report_text MEDIUMTEXT NOT NULL, \
    report_html MEDIUMTEXT NOT NULL, exit_status INT NULL, steps TEXT NULL)";
const CREATE_RUNS_SQLITE: &str = "CREATE TABLE IF NOT EXISTS opsync_runs (\
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, \
    host TEXT NOT NULL, mode TEXT NOT NULL, rows_checked INTEGER NOT NULL, \
    changed_rows INTEGER NOT NULL, whmcs_updates INTEGER NOT NULL, \
    openprovider_updates INTEGER NOT NULL, errors INTEGER NOT NULL, warnings INTEGER NOT NULL, \
    failures INTEGER NOT NULL, subject TEXT NOT NULL, report_text TEXT NOT NULL, \
    report_html TEXT NOT NULL, exit_status INTEGER NULL, steps TEXT NULL)";

pub(super) fn create_runs(mysql: bool) -> &'static str {
    if mysql {
        CREATE_RUNS_MYSQL
    } else {
        CREATE_RUNS_SQLITE
    }
}

/// Columns the run history gained after its first release, added to a table created
/// before them; both hosts write them and read them when present.
const RUNS_ADDED_COLUMNS: [(&str, &str); 2] = [("exit_status", "INT NULL"), ("steps", "TEXT NULL")];

/// A run of the history, as `opsync history` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoryRun {
    pub id: u64,
    pub started_at: String,
    pub finished_at: String,
    /// `opsync` or `whmcs` (the drop-in).
    pub host: String,
    /// `sync`, `dry-run`, `held` or `failed`.
    pub mode: String,
    pub rows_checked: u64,
    pub changed_rows: u64,
    pub whmcs_updates: u64,
    pub openprovider_updates: u64,
    pub errors: u64,
    pub warnings: u64,
    pub failures: u64,
    pub subject: String,
    /// The run's exit status; `None` for runs recorded before it was kept.
    pub exit_status: Option<u8>,
    /// Each step's time; empty when the host did not time them.
    pub steps: Vec<StepTime>,
}

const HISTORY_COLUMNS: &str = "CAST(id AS CHAR), CAST(started_at AS CHAR), \
    CAST(finished_at AS CHAR), CAST(host AS CHAR), CAST(mode AS CHAR), \
    CAST(rows_checked AS CHAR), CAST(changed_rows AS CHAR), CAST(whmcs_updates AS CHAR), \
    CAST(openprovider_updates AS CHAR), CAST(errors AS CHAR), CAST(warnings AS CHAR), \
    CAST(failures AS CHAR), CAST(subject AS CHAR), CAST(exit_status AS CHAR), \
    CAST(steps AS CHAR)";

fn history_run(row: &AnyRow) -> HistoryRun {
    let text = |i: usize| text_at(row, i).unwrap_or_default();
    let number = |i: usize| text(i).parse().unwrap_or(0);
    HistoryRun {
        id: number(0),
        started_at: text(1),
        finished_at: text(2),
        host: text(3),
        mode: text(4),
        rows_checked: number(5),
        changed_rows: number(6),
        whmcs_updates: number(7),
        openprovider_updates: number(8),
        errors: number(9),
        warnings: number(10),
        failures: number(11),
        subject: text(12),
        exit_status: text_at(row, 13).and_then(|t| t.parse().ok()),
        steps: text_at(row, 14)
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
    }
}

impl Whmcs {
    /// The last `limit` runs of the history both hosts write, newest first.
    pub async fn runs(&self, limit: usize) -> Result<Vec<HistoryRun>, StoreError> {
        if !self.ensure_runs_table(false).await? {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT {HISTORY_COLUMNS} FROM opsync_runs ORDER BY id DESC LIMIT ?"
        ))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(rows.iter().map(history_run).collect())
    }

    /// One run of the history, with its report; `None` when there is no such run.
    pub async fn run_report(&self, id: u64) -> Result<Option<(HistoryRun, String)>, StoreError> {
        if !self.ensure_runs_table(false).await? {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "SELECT {HISTORY_COLUMNS}, CAST(report_text AS CHAR) FROM opsync_runs WHERE id = ?"
        ))
        .bind(id_value(id)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(row.map(|r| (history_run(&r), text_at(&r, 15).unwrap_or_default())))
    }

    /// Adds a run to the run history, as the engine's outcome gives it.
    pub async fn record_run(&self, run: &HistoryRow) -> Result<(), StoreError> {
        self.ensure_runs_table(true).await?;
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO opsync_runs (started_at, finished_at, host, mode, rows_checked, \
             changed_rows, whmcs_updates, openprovider_updates, errors, warnings, failures, \
             subject, report_text, report_html, exit_status, steps) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(run.started_at.clone())
        .bind(run.finished_at.clone())
        .bind(run.host.clone())
        .bind(run.mode.clone())
        .bind(count(run.rows_checked))
        .bind(count(run.changed_rows))
        .bind(count(run.whmcs_updates))
        .bind(count(run.openprovider_updates))
        .bind(count(run.errors))
        .bind(count(run.warnings))
        .bind(count(run.failures))
        .bind(run.subject.clone())
        .bind(run.report_text.clone())
        .bind(run.report_html.clone())
        .bind(i64::from(run.exit_status))
        .bind(run.steps.clone())
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    /// Makes the run history current: creates it (when `create`) and adds the columns a
    /// table from an earlier release lacks. False when there is no table (and `create`
    /// is off).
    pub(super) async fn ensure_runs_table(&self, create: bool) -> Result<bool, StoreError> {
        let mut present = self.columns_of("opsync_runs").await?;
        if present.is_empty() {
            if !create {
                return Ok(false);
            }
            sqlx::query(create_runs(self.mysql))
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::Query(format!("creating opsync_runs: {e}")))?;
            present = self.columns_of("opsync_runs").await?;
        }
        for (column, kind) in RUNS_ADDED_COLUMNS {
            if !present.iter().any(|(name, _)| name == column) {
                sqlx::query(&format!(
                    "ALTER TABLE opsync_runs ADD COLUMN {column} {kind}"
                ))
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::Query(format!("adding {column} to opsync_runs: {e}")))?;
            }
        }
        Ok(true)
    }
}

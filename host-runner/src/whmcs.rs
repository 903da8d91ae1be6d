//! The WHMCS database (MySQL/MariaDB for real installs, SQLite for the demo and quick
//! tests), through sqlx's `Any` driver: the same SQL serves both.
//!
//! - Rows are read as text, exactly as PHP's PDO would hand them: the engine judges dates
//!   (`0000-00-00` included) and flags; no driver ever decodes a date.
//! - Updates are the engine's [`WhmcsUpdate`]s, run as given: one row per transaction,
//!   `SET` what it sets `WHERE` the row still holds what was read, so a row someone edited
//!   after it was read is left alone and reported, never overwritten. The row's activity
//!   lines go in the same transaction, in one INSERT. A run writes every row through one
//!   connection (a [`Writer`]), so each statement is prepared once. This module knows no
//!   column the engine owns.
//! - Every value is a bound parameter; column names come from the engine and are checked
//!   to be plain identifiers before they reach the SQL text.

use std::path::PathBuf;

use opsync_engine::columns::WHMCS_COLUMNS;
use opsync_engine::contract::WhmcsRow;
use opsync_engine::WhmcsUpdate;
use serde_json::Value;
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the WHMCS database: {0}")]
    Connect(String),
    #[error("the WHMCS database answered with an error: {0}")]
    Query(String),
    #[error("{0}")]
    BadRow(String),
    #[error("refused to write: {0}")]
    Refused(String),
    #[error(
        "lost the connection to the WHMCS database ({0}); every row is written whole or not \
         at all, so the next run carries on where this one stopped"
    )]
    Lost(String),
}

fn query_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed => {
            StoreError::Lost(e.to_string())
        }
        e => StoreError::Query(e.to_string()),
    }
}

/// A `tbldomains` row as read: the engine's columns as text, and the client it belongs
/// to (activity lines name the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRow {
    pub userid: u64,
    pub row: WhmcsRow,
}

/// What became of one row's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Written,
    /// The row changed (or vanished) after it was read; nothing was written.
    EditedMeanwhile,
}

pub struct Whmcs {
    pool: AnyPool,
    /// The SQLite file, for its run lock; `None` for MySQL (and in-memory SQLite).
    sqlite_file: Option<PathBuf>,
    mysql: bool,
}

/// A run's lock: while it lives, no other `opsync sync` runs against this database.
pub enum RunLock {
    /// MySQL's `GET_LOCK` belongs to the connection that took it.
    MySql(AnyConnection),
    /// SQLite: an exclusive lock on a file beside the database.
    File(std::fs::File),
    /// In-memory SQLite: nothing else can reach it anyway.
    None,
}

/// The run history both hosts write (the PHP drop-in creates the same table).
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

/// Columns the run history gained after its first release (contract v1.1 hosts), added
/// to a table created before them; both hosts write them and read them when present.
const RUNS_ADDED_COLUMNS: [(&str, &str); 2] = [("exit_status", "INT NULL"), ("steps", "TEXT NULL")];

/// One finished run, for the run history.
#[derive(Debug, Clone)]
pub struct RunRecord<'a> {
    /// `YYYY-MM-DD HH:MM:SS`, local time.
    pub started_at: &'a str,
    pub finished_at: &'a str,
    /// `opsync` (this command) or `whmcs` (the PHP drop-in).
    pub host: &'a str,
    /// `sync`, `dry-run`, `held` or `failed`.
    pub mode: &'a str,
    pub summary: &'a opsync_engine::Summary,
    pub failures: usize,
    pub report: &'a opsync_engine::Report,
    /// The process's exit status for this run (0, 5 or 8).
    pub exit_status: u8,
    pub steps: &'a [crate::sync::StepTime],
}

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
    pub steps: Vec<crate::sync::StepTime>,
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

/// `userid` and the engine's columns of `tbldomains d`, each read as text.
fn columns() -> String {
    std::iter::once("userid")
        .chain(WHMCS_COLUMNS)
        .map(|c| format!("CAST(d.{c} AS CHAR)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query that reads every Openprovider row (`userid` first, then the engine's
/// columns), for the benchmark that compares drivers on it.
#[doc(hidden)]
pub fn read_all_sql() -> String {
    format!(
        "SELECT {} FROM tbldomains d WHERE {OURS} ORDER BY d.id",
        columns()
    )
}

/// Openprovider's rows only (the registrar column holds the module name).
const OURS: &str = "LOWER(d.registrar) = 'openprovider'";

/// The open problems both hosts remember between runs (contract v1.2 `tracking`), and
/// opsync's own small settings (`still_open_mailed_at`).
const CREATE_PROBLEMS: &str = "CREATE TABLE IF NOT EXISTS opsync_problems (\
    whmcs_id BIGINT NOT NULL, code VARCHAR(40) NOT NULL, domain TEXT NOT NULL, \
    first_seen VARCHAR(19) NOT NULL, last_seen VARCHAR(19) NOT NULL, runs_seen INT NOT NULL, \
    PRIMARY KEY (whmcs_id, code))";
const CREATE_STATE: &str = "CREATE TABLE IF NOT EXISTS opsync_state (\
    name VARCHAR(64) NOT NULL PRIMARY KEY, value TEXT NOT NULL)";
const STILL_OPEN_MAILED_AT: &str = "still_open_mailed_at";

/// What the hosts remember for the report: the open problems and when the still-open
/// list was last mailed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remembered {
    pub open_problems: Vec<opsync_engine::OpenProblem>,
    pub still_open_mailed_at: Option<String>,
}

/// The cursor of batched runs: when each row was last synced.
const CREATE_CURSOR: &str = "CREATE TABLE IF NOT EXISTS opsync_sync_state \
    (domain_id INT NOT NULL PRIMARY KEY, last_sync VARCHAR(19) NOT NULL)";

impl Whmcs {
    /// `mysql://user:password@host:port/db` or `sqlite://path` (`sqlite::memory:`).
    pub async fn connect(url: &str) -> Result<Whmcs, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .connect(url)
            .await
            .map_err(|e| StoreError::Connect(redact(&e.to_string(), url)))?;
        let sqlite_file = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or(rest))
            .filter(|path| !path.is_empty() && !path.starts_with(":memory:"))
            .map(PathBuf::from);
        Ok(Whmcs {
            pool,
            sqlite_file,
            mysql: url.starts_with("mysql:") || url.starts_with("mariadb:"),
        })
    }

    /// Takes the run lock, or `None` at once when another run holds it.
    pub async fn lock_run(&self) -> Result<Option<RunLock>, StoreError> {
        if self.mysql {
            let mut conn = self.pool.acquire().await.map_err(query_error)?.detach();
            let row =
                sqlx::query("SELECT CAST(GET_LOCK(CONCAT('opsync_sync:', DATABASE()), 0) AS CHAR)")
                    .fetch_one(&mut conn)
                    .await
                    .map_err(query_error)?;
            return Ok((text_at(&row, 0).as_deref() == Some("1")).then_some(RunLock::MySql(conn)));
        }
        let Some(db) = &self.sqlite_file else {
            return Ok(Some(RunLock::None));
        };
        let mut path = db.clone().into_os_string();
        path.push(".opsync-lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::Query(format!("{}: {e}", PathBuf::from(&path).display())))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock::File(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Query(e.to_string())),
        }
    }

    /// The rows a run syncs: every Openprovider row, or the next `batch` of them. Rows
    /// opsync cannot even read (an id that is no positive number) come back apart, for the
    /// report: one bad row never stops a run.
    pub async fn read(&self, batch: Option<usize>) -> Result<RowsRead, StoreError> {
        match batch {
            Some(limit) => Ok(read_rows(&self.batch_query(limit).await?)),
            None => self.read_all().await,
        }
    }

    /// Every Openprovider row, each decoded as it arrives: the driver's rows are never
    /// all held at once.
    async fn read_all(&self) -> Result<RowsRead, StoreError> {
        use futures_util::TryStreamExt;
        let sql = read_all_sql();
        let mut read = RowsRead::default();
        let mut rows = sqlx::query(&sql).fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(query_error)? {
            read_row(&mut read, &row);
        }
        Ok(read)
    }

    async fn batch_query(&self, limit: usize) -> Result<Vec<AnyRow>, StoreError> {
        sqlx::query(CREATE_CURSOR)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        let sql = format!(
            "SELECT {} FROM tbldomains d LEFT JOIN opsync_sync_state s ON s.domain_id = d.id \
             WHERE {OURS} ORDER BY (s.last_sync IS NULL) DESC, s.last_sync ASC, d.id ASC LIMIT ?",
            columns()
        );
        sqlx::query(&sql)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)
    }

    /// The next `limit` Openprovider rows of a batched run: never-synced rows first, then
    /// the longest ago, by id within each. Unreadable rows are left out.
    pub async fn next_batch(&self, limit: usize) -> Result<Vec<DomainRow>, StoreError> {
        Ok(self.read(Some(limit)).await?.rows)
    }

    /// What the hosts remember for the report (empty before the first run). A stored code
    /// this engine does not know (written by a newer one) is left out.
    pub async fn remembered(&self) -> Result<Remembered, StoreError> {
        for create in [CREATE_PROBLEMS, CREATE_STATE] {
            sqlx::query(create)
                .execute(&self.pool)
                .await
                .map_err(query_error)?;
        }
        let rows = sqlx::query(
            "SELECT CAST(whmcs_id AS CHAR), CAST(code AS CHAR), CAST(domain AS CHAR), \
             CAST(first_seen AS CHAR), CAST(last_seen AS CHAR), CAST(runs_seen AS CHAR) \
             FROM opsync_problems ORDER BY whmcs_id, code",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        let open_problems = rows
            .iter()
            .filter_map(|r| {
                let text = |i| text_at(r, i).unwrap_or_default();
                Some(opsync_engine::OpenProblem {
                    whmcs_id: text(0).parse().ok()?,
                    code: serde_json::from_value(serde_json::Value::String(text(1))).ok()?,
                    domain: text(2),
                    first_seen: text(3),
                    last_seen: text(4),
                    runs_seen: text(5).parse().unwrap_or(1),
                })
            })
            .collect();
        let mailed = sqlx::query("SELECT CAST(value AS CHAR) FROM opsync_state WHERE name = ?")
            .bind(STILL_OPEN_MAILED_AT)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(Remembered {
            open_problems,
            still_open_mailed_at: mailed.and_then(|r| text_at(&r, 0)),
        })
    }

    /// Replaces what the hosts remember with the report's `tracking`, in one transaction.
    pub async fn remember(&self, after: &opsync_engine::TrackingAfter) -> Result<(), StoreError> {
        for create in [CREATE_PROBLEMS, CREATE_STATE] {
            sqlx::query(create)
                .execute(&self.pool)
                .await
                .map_err(query_error)?;
        }
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        sqlx::query("DELETE FROM opsync_problems")
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        for chunk in after.open_problems.chunks(200) {
            let values = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO opsync_problems (whmcs_id, code, domain, first_seen, last_seen, \
                 runs_seen) VALUES {values}"
            );
            let mut query = sqlx::query(&sql);
            for p in chunk {
                query = query
                    .bind(id_value(p.whmcs_id)?)
                    .bind(p.code.as_str().to_string())
                    .bind(p.domain.clone())
                    .bind(p.first_seen.clone())
                    .bind(p.last_seen.clone())
                    .bind(i64::try_from(p.runs_seen).unwrap_or(i64::MAX));
            }
            query.execute(&mut *tx).await.map_err(query_error)?;
        }
        sqlx::query("DELETE FROM opsync_state WHERE name = ?")
            .bind(STILL_OPEN_MAILED_AT)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        if let Some(at) = &after.still_open_mailed_at {
            sqlx::query("INSERT INTO opsync_state (name, value) VALUES (?, ?)")
                .bind(STILL_OPEN_MAILED_AT)
                .bind(at.clone())
                .execute(&mut *tx)
                .await
                .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)
    }

    /// WHMCS's `SystemURL` setting (General Settings > System URL), when set.
    pub async fn system_url(&self) -> Option<String> {
        let row = sqlx::query(
            "SELECT CAST(value AS CHAR) FROM tblconfiguration WHERE setting = 'SystemURL'",
        )
        .fetch_optional(&self.pool)
        .await
        .ok()??;
        text_at(&row, 0).filter(|url| !url.trim().is_empty())
    }

    /// Records that these rows were synced at `now` (`YYYY-MM-DD HH:MM:SS`).
    pub async fn mark_synced(&self, ids: &[u64], now: &str) -> Result<(), StoreError> {
        sqlx::query(CREATE_CURSOR)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        for id in ids {
            // Delete and insert: the one upsert both MySQL and SQLite speak.
            sqlx::query("DELETE FROM opsync_sync_state WHERE domain_id = ?")
                .bind(*id as i64)
                .execute(&mut *tx)
                .await
                .map_err(query_error)?;
            sqlx::query("INSERT INTO opsync_sync_state (domain_id, last_sync) VALUES (?, ?)")
                .bind(*id as i64)
                .bind(now.to_string())
                .execute(&mut *tx)
                .await
                .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Every row whose registrar is Openprovider, by id.
    pub async fn openprovider_rows(&self) -> Result<Vec<DomainRow>, StoreError> {
        Ok(self.read(None).await?.rows)
    }

    /// The connection a run writes through (see [`Writer`]).
    pub async fn writer(&self) -> Result<Writer, StoreError> {
        Ok(Writer {
            conn: self.pool.acquire().await.map_err(query_error)?,
            mysql: self.mysql,
        })
    }

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

    /// Adds a finished run to the run history both hosts write.
    pub async fn record_run(&self, run: &RunRecord<'_>) -> Result<(), StoreError> {
        self.ensure_runs_table(true).await?;
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO opsync_runs (started_at, finished_at, host, mode, rows_checked, \
             changed_rows, whmcs_updates, openprovider_updates, errors, warnings, failures, \
             subject, report_text, report_html, exit_status, steps) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(run.started_at.to_string())
        .bind(run.finished_at.to_string())
        .bind(run.host.to_string())
        .bind(run.mode.to_string())
        .bind(count(run.summary.rows))
        .bind(count(run.summary.changed_rows))
        .bind(count(run.summary.whmcs_updates))
        .bind(count(run.summary.openprovider_updates))
        .bind(count(run.summary.errors))
        .bind(count(run.summary.warnings))
        .bind(count(run.failures as u64))
        .bind(run.report.subject.clone())
        .bind(run.report.text.clone())
        .bind(run.report.html.clone())
        .bind(i64::from(run.exit_status))
        .bind(serde_json::to_string(run.steps).unwrap_or_default())
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    /// Makes the run history current: creates it (when `create`) and adds the columns a
    /// table from an earlier release lacks. False when there is no table (and `create`
    /// is off).
    async fn ensure_runs_table(&self, create: bool) -> Result<bool, StoreError> {
        let mut present = self.columns_of("opsync_runs").await?;
        if present.is_empty() {
            if !create {
                return Ok(false);
            }
            let create = if self.mysql {
                CREATE_RUNS_MYSQL
            } else {
                CREATE_RUNS_SQLITE
            };
            sqlx::query(create)
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

    /// The database server, e.g. `MariaDB 10.11.6` or `SQLite 3.46.0`.
    pub async fn server(&self) -> Result<String, StoreError> {
        let sql = if self.mysql {
            "SELECT CAST(VERSION() AS CHAR)"
        } else {
            "SELECT sqlite_version()"
        };
        let row = sqlx::query(sql)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error)?;
        let version = text_at(&row, 0).unwrap_or_default();
        Ok(if !self.mysql {
            format!("SQLite {version}")
        } else if version.to_lowercase().contains("mariadb") {
            format!("MariaDB {}", version.split('-').next().unwrap_or(&version))
        } else {
            format!("MySQL {version}")
        })
    }

    /// The columns of `table` (name, declared type in lower case); empty when the table
    /// does not exist.
    pub async fn columns_of(&self, table: &str) -> Result<Vec<(String, String)>, StoreError> {
        let table = identifier(table)?;
        let rows = if self.mysql {
            sqlx::query(
                "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR) \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            )
            .bind(table.to_string())
            .fetch_all(&self.pool)
            .await
        } else {
            sqlx::query("SELECT name, type FROM pragma_table_info(?)")
                .bind(table.to_string())
                .fetch_all(&self.pool)
                .await
        }
        .map_err(query_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    text_at(r, 0).unwrap_or_default().to_lowercase(),
                    text_at(r, 1).unwrap_or_default().to_lowercase(),
                )
            })
            .collect())
    }

    /// MySQL's `sql_mode` for opsync's connections; `None` for SQLite.
    pub async fn sql_mode(&self) -> Result<Option<String>, StoreError> {
        if !self.mysql {
            return Ok(None);
        }
        let row = sqlx::query("SELECT CAST(@@SESSION.sql_mode AS CHAR)")
            .fetch_one(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(Some(text_at(&row, 0).unwrap_or_default()))
    }

    /// The MySQL connection id holding the run lock, if MySQL says.
    pub async fn lock_holder(&self) -> Option<String> {
        if !self.mysql {
            return None;
        }
        let row =
            sqlx::query("SELECT CAST(IS_USED_LOCK(CONCAT('opsync_sync:', DATABASE())) AS CHAR)")
                .fetch_one(&self.pool)
                .await
                .ok()?;
        text_at(&row, 0)
    }

    /// opsync's own tables (the run history and the batch cursor): which were missing and
    /// are created now. Fails when one is missing and cannot be created.
    pub async fn ensure_own_tables(&self) -> Result<Vec<&'static str>, StoreError> {
        let runs = if self.mysql {
            CREATE_RUNS_MYSQL
        } else {
            CREATE_RUNS_SQLITE
        };
        let mut created = Vec::new();
        for (table, create) in [
            ("opsync_runs", runs),
            ("opsync_sync_state", CREATE_CURSOR),
            ("opsync_problems", CREATE_PROBLEMS),
            ("opsync_state", CREATE_STATE),
        ] {
            if self.columns_of(table).await?.is_empty() {
                sqlx::query(create)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::Query(format!("creating {table}: {e}")))?;
                created.push(table);
            }
        }
        self.ensure_runs_table(false).await?;
        Ok(created)
    }

    /// `(name, email)` of active admins whose role receives system emails.
    pub async fn system_email_admins(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.firstname, a.lastname, a.email FROM tbladmins a \
             JOIN tbladminroles r ON r.id = a.roleid \
             WHERE a.disabled = 0 AND r.systememails = 1 AND a.email <> '' ORDER BY a.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                let first = text_at(r, 0).unwrap_or_default();
                let last = text_at(r, 1).unwrap_or_default();
                let email = text_at(r, 2).unwrap_or_default();
                (format!("{first} {last}").trim().to_string(), email)
            })
            .collect())
    }
}

/// The one connection a run's writes go through, row after row. sqlx prepares each
/// statement once per connection and keeps it, so a thousand rows of the same shape cost
/// one prepare of their UPDATE and of their activity INSERT, not a thousand.
pub struct Writer {
    conn: sqlx::pool::PoolConnection<Any>,
    mysql: bool,
}

impl Writer {
    /// Runs one row's update and writes its activity lines, in one transaction, if the
    /// row still holds what the update's guard says it held.
    pub async fn apply(
        &mut self,
        update: &WhmcsUpdate,
        lines: &[String],
        userid: u64,
        now: &str,
    ) -> Result<Applied, StoreError> {
        if update.set.is_empty() {
            return Ok(Applied::Written);
        }
        let mut sql = String::from("UPDATE tbldomains SET ");
        let mut sets = Vec::new();
        for column in update.set.keys() {
            sets.push(format!("{} = ?", identifier(column)?));
        }
        sql.push_str(&sets.join(", "));
        sql.push_str(" WHERE id = ?");
        for (column, old) in &update.guard.columns {
            let column = identifier(column)?;
            // Text is compared as text: the guard holds what the host read with CAST.
            sql.push_str(&match old {
                Value::Null => format!(" AND {column} IS NULL"),
                Value::String(_) => format!(" AND CAST({column} AS CHAR) = ?"),
                _ => format!(" AND {column} = ?"),
            });
        }

        let mut query = sqlx::query(&sql);
        for value in update.set.values() {
            query = bind(query, value)?;
        }
        query = query.bind(id_value(update.guard.id)?);
        for old in update.guard.columns.values().filter(|v| !v.is_null()) {
            query = bind(query, old)?;
        }
        let mut tx = self.conn.begin().await.map_err(query_error)?;
        let done = query.execute(&mut *tx).await.map_err(query_error)?;
        if done.rows_affected() != 1 {
            tx.rollback().await.map_err(query_error)?;
            return Ok(Applied::EditedMeanwhile);
        }
        insert_activity(&mut tx, lines, userid, now).await?;
        tx.commit().await.map_err(query_error)?;
        Ok(Applied::Written)
    }

    /// Writes `tblactivitylog` lines for a row (the Openprovider side's, once Openprovider
    /// accepted the update).
    pub async fn log_activity(
        &mut self,
        userid: u64,
        lines: &[String],
        now: &str,
    ) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.conn.begin().await.map_err(query_error)?;
        insert_activity(&mut tx, lines, userid, now).await?;
        tx.commit().await.map_err(query_error)
    }

    /// How many statements MySQL has prepared on this connection (`Com_stmt_prepare`);
    /// `None` for SQLite. The `-v` log gives it after the writes.
    pub async fn statements_prepared(&mut self) -> Option<u64> {
        if !self.mysql {
            return None;
        }
        let row = sqlx::query(
            "SELECT CAST(VARIABLE_VALUE AS CHAR) FROM information_schema.SESSION_STATUS \
             WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'",
        )
        .fetch_one(&mut *self.conn)
        .await
        .ok()?;
        text_at(&row, 0)?.parse().ok()
    }
}

/// Column `i` as text. MySQL hands TEXT columns to the driver as bytes, so bytes are
/// read as UTF-8 too (WHMCS's tables are utf8).
fn text_at(row: &AnyRow, i: usize) -> Option<String> {
    match row.try_get::<Option<String>, _>(i) {
        Ok(value) => value,
        Err(_) => row
            .try_get::<Option<Vec<u8>>, _>(i)
            .ok()
            .flatten()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// A row's activity lines, in one INSERT (in order: their ids follow the lines).
async fn insert_activity(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    lines: &[String],
    userid: u64,
    now: &str,
) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let values = vec!["(?, ?, 'opsync', ?, '')"; lines.len()].join(", ");
    let sql = format!(
        "INSERT INTO tblactivitylog (date, description, user, userid, ipaddr) VALUES {values}"
    );
    let mut query = sqlx::query(&sql);
    for line in lines {
        query = query
            .bind(now.to_string())
            .bind(line.clone())
            .bind(userid as i64);
    }
    query.execute(&mut **tx).await.map_err(query_error)?;
    Ok(())
}

/// What a read of `tbldomains` found.
#[derive(Debug, Clone, Default)]
pub struct RowsRead {
    pub rows: Vec<DomainRow>,
    /// Rows opsync cannot read at all, and why.
    pub unreadable: Vec<Unreadable>,
}

/// A row opsync cannot read: its id as the database holds it, its name, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub id: String,
    pub domain: String,
    pub why: String,
}

fn read_rows(rows: &[AnyRow]) -> RowsRead {
    let mut read = RowsRead::default();
    for row in rows {
        read_row(&mut read, row);
    }
    read
}

/// One row into `read`: a row the engine can take, or one left out, saying why.
fn read_row(read: &mut RowsRead, row: &AnyRow) {
    match domain_row(row) {
        Ok(r) => read.rows.push(r),
        Err(e) => read.unreadable.push(Unreadable {
            id: text_at(row, 1).unwrap_or_default(),
            domain: text_at(row, 2).unwrap_or_default(),
            why: e.to_string(),
        }),
    }
}

/// A row selected with [`columns`]: `userid` first, then the engine's columns.
fn domain_row(row: &AnyRow) -> Result<DomainRow, StoreError> {
    let userid = text_at(row, 0).and_then(|u| u.parse().ok()).unwrap_or(0);
    let mut at = 1;
    let row = WhmcsRow::from_columns(|_| {
        at += 1;
        text_at(row, at - 1)
    })
    .map_err(StoreError::BadRow)?;
    Ok(DomainRow { userid, row })
}

/// A column name from the engine, checked to be a plain identifier before it becomes SQL.
fn identifier(name: &str) -> Result<&str, StoreError> {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        Ok(name)
    } else {
        Err(StoreError::Refused(format!(
            "{name:?} is not a column name (the engine's answer is damaged)"
        )))
    }
}

fn id_value(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::Refused(format!("row id {id} is out of range")))
}

/// Binds a JSON value from the engine's answer as the SQL value it stands for.
fn bind<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    value: &Value,
) -> Result<Query<'q, Any, AnyArguments<'q>>, StoreError> {
    Ok(match value {
        Value::Null => query.bind(None::<String>),
        Value::Bool(b) => query.bind(i64::from(*b)),
        Value::String(s) => query.bind(s.clone()),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => query.bind(i),
            (None, Some(f)) => query.bind(f),
            _ => {
                return Err(StoreError::Refused(format!(
                    "the number {n} fits no column"
                )))
            }
        },
        Value::Array(_) | Value::Object(_) => {
            return Err(StoreError::Refused(format!(
                "{value} is not a value a column holds"
            )))
        }
    })
}

/// A database URL's password never reaches an error message.
fn redact(message: &str, url: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
    {
        Some((userinfo, _)) => match userinfo.split_once(':') {
            Some((_, password)) if !password.is_empty() => message.replace(password, "***"),
            _ => message.to_string(),
        },
        None => message.to_string(),
    }
}

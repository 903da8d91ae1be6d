//! The WHMCS database (MySQL/MariaDB for real installs, SQLite for the demo and quick
//! tests), through sqlx's `Any` driver: the same SQL serves both.
//!
//! - Rows are read as text, exactly as PHP's PDO would hand them: the engine judges dates
//!   (`0000-00-00` included) and flags; no driver ever decodes a date.
//! - Changes are applied by `id`, one row per transaction, with every synced field's old
//!   value in the WHERE clause: a row someone edited after it was read is left alone and
//!   reported, never overwritten. `reminders` is cleared when `expirydate` changes, as
//!   WHMCS's own sync does, and each change gets its `tblactivitylog` line.
//! - Every statement is parameterised.

use std::path::PathBuf;

use opsync_engine::changes::{RowResult, WhmcsChanges};
use serde_json::{json, Value};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Row};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the WHMCS database: {0}")]
    Connect(String),
    #[error("the WHMCS database answered with an error: {0}")]
    Query(String),
    #[error("tbldomains row has an id that is not a number: {0:?}")]
    BadId(String),
}

fn query_error(e: sqlx::Error) -> StoreError {
    StoreError::Query(e.to_string())
}

/// A `tbldomains` row as read, every field as text (`None` for SQL NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRow {
    pub id: u64,
    pub userid: u64,
    pub domain: String,
    pub status: Option<String>,
    pub expirydate: Option<String>,
    pub nextduedate: Option<String>,
    pub nextinvoicedate: Option<String>,
    pub donotrenew: Option<String>,
    pub idprotection: Option<String>,
}

impl DomainRow {
    /// The row for the engine's `whmcs[]`, as PDO hands it.
    pub fn to_request(&self) -> Value {
        json!({
            "id": self.id,
            "domain": self.domain,
            "status": self.status,
            "expirydate": self.expirydate,
            "nextduedate": self.nextduedate,
            "nextinvoicedate": self.nextinvoicedate,
            "donotrenew": self.donotrenew,
            "idprotection": self.idprotection,
        })
    }
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

/// The synced columns of `tbldomains d`, read as text, in [`DomainRow`] order.
const COLUMNS: &str = "CAST(d.id AS CHAR), CAST(d.userid AS CHAR), d.domain, \
    CAST(d.status AS CHAR), CAST(d.expirydate AS CHAR), CAST(d.nextduedate AS CHAR), \
    CAST(d.nextinvoicedate AS CHAR), CAST(d.donotrenew AS CHAR), CAST(d.idprotection AS CHAR)";

/// Openprovider's rows only (the registrar column holds the module name).
const OURS: &str = "LOWER(d.registrar) = 'openprovider'";

/// The cursor of batched runs: when each row was last synced.
const CREATE_CURSOR: &str = "CREATE TABLE IF NOT EXISTS opsync_sync_state \
    (domain_id INT NOT NULL PRIMARY KEY, last_sync VARCHAR(19) NOT NULL)";

/// The columns whose old values guard an update.
const GUARDED: [&str; 7] = [
    "domain",
    "status",
    "expirydate",
    "nextduedate",
    "nextinvoicedate",
    "donotrenew",
    "idprotection",
];

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

    /// The next `limit` Openprovider rows of a batched run: never-synced rows first, then
    /// the longest ago, by id within each.
    pub async fn next_batch(&self, limit: usize) -> Result<Vec<DomainRow>, StoreError> {
        sqlx::query(CREATE_CURSOR)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM tbldomains d LEFT JOIN opsync_sync_state s ON s.domain_id = d.id \
             WHERE {OURS} ORDER BY (s.last_sync IS NULL) DESC, s.last_sync ASC, d.id ASC LIMIT ?"
        );
        let rows = sqlx::query(&sql)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        rows.iter().map(domain_row).collect()
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
        let sql = format!("SELECT {COLUMNS} FROM tbldomains d WHERE {OURS} ORDER BY d.id");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        rows.iter().map(domain_row).collect()
    }

    /// Writes one row's WHMCS changes (and their activity lines) if the row still holds
    /// what `read` says it held.
    pub async fn apply(
        &self,
        read: &DomainRow,
        result: &RowResult,
        now: &str,
    ) -> Result<Applied, StoreError> {
        let changes = &result.whmcs_changes;
        let sets = assignments(changes);
        if sets.is_empty() {
            return Ok(Applied::Written);
        }
        let mut sql = String::from("UPDATE tbldomains SET ");
        let set_clauses: Vec<String> = sets.iter().map(|(col, _)| format!("{col} = ?")).collect();
        sql.push_str(&set_clauses.join(", "));
        if changes.expirydate.is_some() {
            sql.push_str(", reminders = ''");
        }
        sql.push_str(" WHERE id = ?");
        for col in GUARDED {
            // NULL-safe equality that MySQL and SQLite both speak.
            sql.push_str(&format!(
                " AND (CAST({col} AS CHAR) = ? OR ({col} IS NULL AND ? IS NULL))"
            ));
        }

        let mut tx = self.pool.begin().await.map_err(query_error)?;
        let mut update = sqlx::query(&sql);
        for (_, value) in &sets {
            update = update.bind(value.clone());
        }
        update = update.bind(read.id as i64);
        for old in guarded_values(read) {
            update = update.bind(old.clone()).bind(old);
        }
        let done = update.execute(&mut *tx).await.map_err(query_error)?;
        if done.rows_affected() != 1 {
            tx.rollback().await.map_err(query_error)?;
            return Ok(Applied::EditedMeanwhile);
        }
        for line in opsync_engine::activity::whmcs_lines(result) {
            insert_activity(&mut tx, &line, read.userid, now).await?;
        }
        tx.commit().await.map_err(query_error)?;
        Ok(Applied::Written)
    }

    /// Writes `tblactivitylog` lines for a row (the Openprovider side's, once Openprovider
    /// accepted the update).
    pub async fn log_activity(
        &self,
        userid: u64,
        lines: &[String],
        now: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        for line in lines {
            insert_activity(&mut tx, line, userid, now).await?;
        }
        tx.commit().await.map_err(query_error)
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

async fn insert_activity(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    line: &str,
    userid: u64,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tblactivitylog (date, description, user, userid, ipaddr) \
         VALUES (?, ?, 'opsync', ?, '')",
    )
    .bind(now.to_string())
    .bind(line.to_string())
    .bind(userid as i64)
    .execute(&mut **tx)
    .await
    .map_err(query_error)?;
    Ok(())
}

fn domain_row(row: &AnyRow) -> Result<DomainRow, StoreError> {
    let text = |i: usize| text_at(row, i);
    let number = |i: usize| -> Result<u64, StoreError> {
        let raw = text(i).unwrap_or_default();
        raw.parse().map_err(|_| StoreError::BadId(raw))
    };
    Ok(DomainRow {
        id: number(0)?,
        userid: number(1).unwrap_or(0),
        domain: text(2).unwrap_or_default(),
        status: text(3),
        expirydate: text(4),
        nextduedate: text(5),
        nextinvoicedate: text(6),
        donotrenew: text(7),
        idprotection: text(8),
    })
}

/// `(column, new value)` for each WHMCS change.
fn assignments(changes: &WhmcsChanges) -> Vec<(&'static str, String)> {
    [
        ("status", &changes.status),
        ("expirydate", &changes.expirydate),
        ("nextduedate", &changes.nextduedate),
        ("nextinvoicedate", &changes.nextinvoicedate),
    ]
    .into_iter()
    .filter_map(|(col, c)| c.as_ref().map(|c| (col, c.to.clone())))
    .collect()
}

fn guarded_values(read: &DomainRow) -> [Option<String>; 7] {
    [
        Some(read.domain.clone()),
        read.status.clone(),
        read.expirydate.clone(),
        read.nextduedate.clone(),
        read.nextinvoicedate.clone(),
        read.donotrenew.clone(),
        read.idprotection.clone(),
    ]
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

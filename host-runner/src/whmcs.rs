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

use opsync_engine::changes::{RowResult, WhmcsChanges};
use serde_json::{json, Value};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

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
}

/// The synced columns, read as text, in [`DomainRow`] order.
const SELECT_ROWS: &str = "SELECT CAST(id AS CHAR), CAST(userid AS CHAR), domain, \
    CAST(status AS CHAR), CAST(expirydate AS CHAR), CAST(nextduedate AS CHAR), \
    CAST(nextinvoicedate AS CHAR), CAST(donotrenew AS CHAR), CAST(idprotection AS CHAR) \
    FROM tbldomains WHERE LOWER(registrar) = 'openprovider' ORDER BY id";

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
        Ok(Whmcs { pool })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Every row whose registrar is Openprovider, by id.
    pub async fn openprovider_rows(&self) -> Result<Vec<DomainRow>, StoreError> {
        let rows = sqlx::query(SELECT_ROWS)
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
            sqlx::query(
                "INSERT INTO tblactivitylog (date, description, user, userid, ipaddr) \
                 VALUES (?, ?, 'opsync', ?, '')",
            )
            .bind(now.to_string())
            .bind(line)
            .bind(read.userid as i64)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)?;
        Ok(Applied::Written)
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

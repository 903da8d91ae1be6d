//! The WHMCS database (MySQL/MariaDB for real installs, SQLite for the demo and quick
//! tests), through sqlx's `Any` driver: the same SQL serves both. One file per thing the
//! run asks of it:
//!
//! - [`lock`]: the run lock (`GET_LOCK`, or a file lock beside a SQLite database);
//! - [`rows`]: `tbldomains` read as text, exactly as PHP's PDO would hand it: the engine
//!   judges ids, dates (`0000-00-00` included) and flags; no driver ever decodes a date;
//! - [`writes`]: the engine's guarded updates and activity lines, one row per
//!   transaction through one connection, and the batch cursor;
//! - [`memory`]: what opsync remembers between runs (the open problems);
//! - [`history`]: the run history both hosts write.
//!
//! Every value is a bound parameter; column names come from the engine and are checked to
//! be plain identifiers before they reach the SQL text.

use std::path::PathBuf;

use serde_json::Value;
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};

mod history;
mod lock;
mod memory;
mod rows;
mod writes;

pub use history::HistoryRun;
pub use lock::RunLock;
pub use rows::read_all_sql;
pub use writes::{Applied, Writer};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the WHMCS database: {0}")]
    Connect(String),
    #[error("the WHMCS database answered with an error: {0}")]
    Query(String),
    #[error("refused to write: {0}")]
    Refused(String),
    #[error(
        "lost the connection to the WHMCS database ({0}); every row is written whole or not \
         at all, so the next run carries on where this one stopped"
    )]
    Lost(String),
}

pub(crate) fn query_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed => {
            StoreError::Lost(e.to_string())
        }
        e => StoreError::Query(e.to_string()),
    }
}

pub struct Whmcs {
    pool: AnyPool,
    /// The SQLite file, for its run lock; `None` for MySQL (and in-memory SQLite).
    sqlite_file: Option<PathBuf>,
    mysql: bool,
}

/// The table creations of opsync's own tables (the drop-in's activation creates the same).
pub(crate) const CREATE_CURSOR: &str = "CREATE TABLE IF NOT EXISTS opsync_sync_state \
    (domain_id INT NOT NULL PRIMARY KEY, last_sync VARCHAR(19) NOT NULL)";
pub(crate) const CREATE_PROBLEMS: &str = "CREATE TABLE IF NOT EXISTS opsync_problems (\
    whmcs_id BIGINT NOT NULL, code VARCHAR(40) NOT NULL, domain TEXT NOT NULL, \
    first_seen VARCHAR(19) NOT NULL, last_seen VARCHAR(19) NOT NULL, runs_seen INT NOT NULL, \
    PRIMARY KEY (whmcs_id, code))";
pub(crate) const CREATE_STATE: &str = "CREATE TABLE IF NOT EXISTS opsync_state (\
    name VARCHAR(64) NOT NULL PRIMARY KEY, value TEXT NOT NULL)";

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

    pub fn pool(&self) -> &AnyPool {
        &self.pool
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

    /// WHMCS's `SystemURL` setting (General Settings > System URL), when set.
    pub async fn system_url(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(value AS CHAR) FROM tblconfiguration WHERE setting = 'SystemURL'",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(row.and_then(|r| text_at(&r, 0)))
    }

    /// opsync's own tables (the run history, the batch cursor, the memory): which were
    /// missing and are created now. Fails when one is missing and cannot be created.
    pub async fn ensure_own_tables(&self) -> Result<Vec<&'static str>, StoreError> {
        let mut created = Vec::new();
        for (table, create) in [
            ("opsync_runs", history::create_runs(self.mysql)),
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

/// Column `i` as text. MySQL hands TEXT columns to the driver as bytes, so bytes are
/// read as UTF-8 too (WHMCS's tables are utf8).
pub(crate) fn text_at(row: &AnyRow, i: usize) -> Option<String> {
    match row.try_get::<Option<String>, _>(i) {
        Ok(value) => value,
        Err(_) => row
            .try_get::<Option<Vec<u8>>, _>(i)
            .ok()
            .flatten()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// A column name from the engine, checked to be a plain identifier before it becomes SQL.
pub(crate) fn identifier(name: &str) -> Result<&str, StoreError> {
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

pub(crate) fn id_value(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::Refused(format!("row id {id} is out of range")))
}

/// Binds a JSON value from the engine's answer as the SQL value it stands for.
pub(crate) fn bind<'q>(
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

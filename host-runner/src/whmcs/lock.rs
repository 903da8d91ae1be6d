//! The run lock: one run at a time per WHMCS database, of either host.

use std::path::PathBuf;

use sqlx::AnyConnection;

use super::{query_error, text_at, StoreError, Whmcs};

/// A run's lock: while it lives, no other run goes against this database.
pub enum RunLock {
    /// MySQL's `GET_LOCK` belongs to the connection that took it.
    MySql(AnyConnection),
    /// SQLite: an exclusive lock on a file beside the database.
    File(std::fs::File),
    /// In-memory SQLite: nothing else can reach it anyway.
    None,
}

impl Whmcs {
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
}

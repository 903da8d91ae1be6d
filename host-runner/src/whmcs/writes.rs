//! The engine's writes: each row's guarded `UPDATE` with its activity lines in one
//! transaction, a side's activity lines alone, and the batch cursor. A run writes through
//! one connection (a [`Writer`]), so each statement shape is prepared once.

use opsync_engine::WhmcsUpdate;
use serde_json::Value;
use sqlx::{Any, Connection};

use super::{bind, id_value, identifier, query_error, text_at, StoreError, Whmcs, CREATE_CURSOR};

/// What became of one row's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Written,
    /// The row changed (or vanished) after it was read; nothing was written.
    EditedMeanwhile,
}

/// The one connection a run's writes go through, row after row. sqlx prepares each
/// statement once per connection and keeps it, so a thousand rows of the same shape cost
/// one prepare of their UPDATE and of their activity INSERT, not a thousand.
pub struct Writer {
    conn: sqlx::pool::PoolConnection<Any>,
    mysql: bool,
}

impl Whmcs {
    /// The connection a run writes through (see [`Writer`]).
    pub async fn writer(&self) -> Result<Writer, StoreError> {
        Ok(Writer {
            conn: self.pool.acquire().await.map_err(query_error)?,
            mysql: self.mysql,
        })
    }
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

    /// Records that these rows were synced at `now` (`YYYY-MM-DD HH:MM:SS`).
    pub async fn mark_synced(&mut self, ids: &[u64], now: &str) -> Result<(), StoreError> {
        sqlx::query(CREATE_CURSOR)
            .execute(&mut *self.conn)
            .await
            .map_err(query_error)?;
        let mut tx = self.conn.begin().await.map_err(query_error)?;
        for id in ids {
            // Delete and insert: the one upsert both MySQL and SQLite speak.
            sqlx::query("DELETE FROM opsync_sync_state WHERE domain_id = ?")
                .bind(id_value(*id)?)
                .execute(&mut *tx)
                .await
                .map_err(query_error)?;
            sqlx::query("INSERT INTO opsync_sync_state (domain_id, last_sync) VALUES (?, ?)")
                .bind(id_value(*id)?)
                .bind(now.to_string())
                .execute(&mut *tx)
                .await
                .map_err(query_error)?;
        }
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
            .bind(i64::try_from(userid).unwrap_or(0));
    }
    query.execute(&mut **tx).await.map_err(query_error)?;
    Ok(())
}

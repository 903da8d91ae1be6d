//! `tbldomains` as the run reads it: each row `[userid, id, domain, status, expirydate,
//! nextduedate, nextinvoicedate, donotrenew, idprotection]`, every column as text
//! (`CAST(... AS CHAR)`), SQL NULL as null, exactly as PHP's PDO would hand them. What a
//! value means is the engine's business.

use opsync_engine::columns::WHMCS_COLUMNS;
use serde_json::Value;
use sqlx::any::AnyRow;

use super::{id_value, query_error, text_at, StoreError, Whmcs, CREATE_CURSOR};

/// Openprovider's rows only (the registrar column holds the module name).
const OURS: &str = "LOWER(d.registrar) = 'openprovider'";

/// `userid` and the engine's columns of `tbldomains d`, each read as text.
fn columns() -> String {
    std::iter::once("userid")
        .chain(WHMCS_COLUMNS)
        .map(|c| format!("CAST(d.{c} AS CHAR)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query that reads every Openprovider row in one go (`userid` first, then the
/// engine's columns), for the benchmark that compares drivers on it.
#[doc(hidden)]
pub fn read_all_sql() -> String {
    format!(
        "SELECT {} FROM tbldomains d WHERE {OURS} ORDER BY d.id",
        columns()
    )
}

/// A row as JSON: its columns as text or null.
fn row_json(row: &AnyRow, n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| text_at(row, i).map_or(Value::Null, Value::String))
            .collect(),
    )
}

fn rows_json(rows: &[AnyRow]) -> Vec<u8> {
    let n = WHMCS_COLUMNS.len() + 1;
    let rows: Vec<Value> = rows.iter().map(|r| row_json(r, n)).collect();
    serde_json::to_vec(&rows).unwrap_or_default()
}

impl Whmcs {
    /// Openprovider's rows by id, after the row whose id reads `after`, at most `limit`.
    pub async fn read_rows(&self, after: Option<&str>, limit: u64) -> Result<Vec<u8>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match after {
            None => {
                sqlx::query(&format!("{} LIMIT ?", read_all_sql()))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
            Some(after) => {
                sqlx::query(&format!(
                    "SELECT {} FROM tbldomains d WHERE {OURS} AND d.id > ? ORDER BY d.id LIMIT ?",
                    columns()
                ))
                .bind(after.to_string())
                .bind(limit)
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(query_error)?;
        Ok(rows_json(&rows))
    }

    /// The next `limit` rows of a batched run: never synced first, then the longest ago,
    /// by id within each.
    pub async fn read_batch(
        &self,
        limit: u64,
        synced_before: Option<&str>,
    ) -> Result<Vec<u8>, StoreError> {
        sqlx::query(CREATE_CURSOR)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        // Without a minimum age every row qualifies: the bound is after any sync date.
        let sql = format!(
            "SELECT {} FROM tbldomains d LEFT JOIN opsync_sync_state s ON s.domain_id = d.id \
             WHERE {OURS} AND (s.last_sync IS NULL OR s.last_sync < ?) \
             ORDER BY (s.last_sync IS NULL) DESC, s.last_sync ASC, d.id ASC LIMIT ?",
            columns()
        );
        let rows = sqlx::query(&sql)
            .bind(synced_before.unwrap_or("9999-12-31 23:59:59"))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(rows_json(&rows))
    }

    /// The row with this id, whatever its registrar.
    pub async fn read_row(&self, id: u64) -> Result<Vec<u8>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM tbldomains d WHERE d.id = ?",
            columns()
        ))
        .bind(id_value(id)?)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(rows_json(&rows))
    }

    /// Openprovider's rows' ids and names, by id, after `after`, at most `limit`.
    pub async fn read_names(&self, after: Option<&str>, limit: u64) -> Result<Vec<u8>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let select = "SELECT CAST(d.id AS CHAR), CAST(d.domain AS CHAR) FROM tbldomains d";
        let rows = match after {
            None => {
                sqlx::query(&format!("{select} WHERE {OURS} ORDER BY d.id LIMIT ?"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
            Some(after) => {
                sqlx::query(&format!(
                    "{select} WHERE {OURS} AND d.id > ? ORDER BY d.id LIMIT ?"
                ))
                .bind(after.to_string())
                .bind(limit)
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(query_error)?;
        let names: Vec<Value> = rows.iter().map(|r| row_json(r, 2)).collect();
        Ok(serde_json::to_vec(&names).unwrap_or_default())
    }

    /// Openprovider's rows with these ids.
    pub async fn read_rows_by_id(&self, ids: &[u64]) -> Result<Vec<u8>, StoreError> {
        if ids.is_empty() {
            return Ok(b"[]".to_vec());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let sql = format!(
            "SELECT {} FROM tbldomains d WHERE {OURS} AND d.id IN ({marks}) ORDER BY d.id",
            columns()
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id_value(*id)?);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(query_error)?;
        Ok(rows_json(&rows))
    }

    /// Every Openprovider row as text (`opsync check` counts them).
    pub async fn openprovider_rows(&self) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        let rows = sqlx::query(&read_all_sql())
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        let n = WHMCS_COLUMNS.len() + 1;
        Ok(rows
            .iter()
            .map(|r| (0..n).map(|i| text_at(r, i)).collect())
            .collect())
    }
}

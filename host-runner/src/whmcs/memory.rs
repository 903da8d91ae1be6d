//! What opsync remembers between runs for the report (contract v1.2 `tracking`): the open
//! problems and when the still-open list was last mailed, read as text for the engine to
//! judge and replaced whole with what the report says.

use opsync_engine::OpenProblem;
use serde_json::{json, Value};

use super::{id_value, query_error, text_at, StoreError, Whmcs, CREATE_PROBLEMS, CREATE_STATE};

const STILL_OPEN_MAILED_AT: &str = "still_open_mailed_at";

impl Whmcs {
    /// The memory and WHMCS's System URL, as the run's `read_state` answer:
    /// `{problems: [[whmcs_id, code, domain, first_seen, last_seen, runs_seen], ...],
    /// still_open_mailed_at, system_url}`, every value as the database holds it.
    pub async fn read_state(&self) -> Result<Value, StoreError> {
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
        let problems: Vec<Value> = rows
            .iter()
            .map(|r| Value::Array((0..6).map(|i| json!(text_at(r, i))).collect()))
            .collect();
        let mailed = sqlx::query("SELECT CAST(value AS CHAR) FROM opsync_state WHERE name = ?")
            .bind(STILL_OPEN_MAILED_AT)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(json!({
            "problems": problems,
            "still_open_mailed_at": mailed.and_then(|r| text_at(&r, 0)),
            "system_url": self.system_url().await?,
        }))
    }

    /// Replaces what is remembered with the report's, in one transaction.
    pub async fn remember(
        &self,
        open_problems: &[OpenProblem],
        still_open_mailed_at: Option<&str>,
    ) -> Result<(), StoreError> {
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
        for chunk in open_problems.chunks(200) {
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
        if let Some(at) = still_open_mailed_at {
            sqlx::query("INSERT INTO opsync_state (name, value) VALUES (?, ?)")
                .bind(STILL_OPEN_MAILED_AT)
                .bind(at.to_string())
                .execute(&mut *tx)
                .await
                .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)
    }
}

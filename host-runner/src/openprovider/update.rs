//! Updates: one `PUT /domains/{id}` per domain with the body the engine gave, several
//! at a time.

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::transport::Call;
use super::{ApiError, Client};

/// A `PUT` body: API field -> value.
pub type Body = BTreeMap<String, Value>;

impl Client {
    /// One `PUT /domains/{id}` with `body`, exactly as given.
    pub async fn update(&self, id: u64, body: &Body) -> Result<Value, ApiError> {
        let path = format!("/domains/{id}");
        let body = Value::Object(body.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        self.call(Call {
            method: &reqwest::Method::PUT,
            path: &path,
            query: &[],
            body: Some(&body),
        })
        .await
    }

    /// Several updates, a few at a time, each outcome as soon as it is in, with the
    /// index of its update: a caller can record each confirmed update at once.
    pub fn update_each<'a>(
        &'a self,
        updates: &'a [(u64, &'a Body)],
    ) -> impl stream::Stream<Item = (usize, Result<Value, ApiError>)> + 'a {
        stream::iter(updates.iter().enumerate())
            .map(move |(i, (id, body))| async move { (i, self.update(*id, body).await) })
            .buffer_unordered(self.config.concurrency)
    }

    /// Several updates, a few at a time; results in the order given.
    pub async fn update_many(&self, updates: &[(u64, &Body)]) -> Vec<Result<Value, ApiError>> {
        let mut results: Vec<(usize, Result<Value, ApiError>)> =
            self.update_each(updates).collect().await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }
}

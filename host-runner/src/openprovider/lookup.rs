//! Look-ups by name (`domain_names`, the key repeated once per name as Openprovider's own
//! client sends it, 100 names a call), for small batches. A name the
//! answer does not hold is `not_found`; the names of a call that failed for good are
//! `error`; a block (10005) fails the whole look-up.

use std::collections::BTreeSet;

use futures_util::stream::{self, StreamExt};
use opsync_engine::contract::{LookupError, LookupKind};
use serde_json::Value;

use super::listing::page_of;
use super::transport::Call;
use super::{ApiError, Client};

/// What a look-up by names found.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub domains: Vec<Value>,
    /// The names not found, or whose look-up failed, as the engine's `lookup_errors`.
    pub errors: Vec<LookupError>,
}

impl Client {
    /// The named domains (names as `opsync_engine::lookup_name` gives them).
    pub async fn lookup(&self, names: &[String]) -> Result<Lookup, ApiError> {
        let mut lookup = Lookup::default();
        for chunk in names.chunks(100) {
            let mut query: Vec<(String, String)> = chunk
                .iter()
                .map(|n| ("domain_names".to_string(), n.clone()))
                .collect();
            query.push(("limit".to_string(), "1000".to_string()));
            match self.call(Call::get("/domains", &query)).await {
                Ok(data) => {
                    let (results, _) = page_of(&data)?;
                    let found: BTreeSet<String> = results.iter().map(full_name).collect();
                    for name in chunk {
                        if !found.contains(&name.to_lowercase()) {
                            lookup.errors.push(LookupError {
                                domain: name.clone(),
                                kind: LookupKind::NotFound,
                                message: "Openprovider does not list this domain in the account"
                                    .into(),
                            });
                        }
                    }
                    lookup.domains.extend(results);
                }
                Err(ApiError::Blocked) => return Err(ApiError::Blocked),
                Err(e) => {
                    lookup.errors.extend(chunk.iter().map(|name| LookupError {
                        domain: name.clone(),
                        kind: LookupKind::Error,
                        message: e.to_string(),
                    }));
                }
            }
        }
        Ok(lookup)
    }

    /// Deleted domains by name (`is_deleted=true`, 100 names a call), as Openprovider's own
    /// module looks up a domain its listing lacks. Each domain found comes back marked
    /// `"is_deleted": true`, for the engine (contract v1.1). A call that fails for good
    /// leaves its names out, with a warning: their rows stay as the listing left them.
    pub async fn lookup_deleted(&self, names: &[String]) -> Result<Vec<Value>, ApiError> {
        let mut found = Vec::new();
        for chunk in names.chunks(100) {
            let mut query: Vec<(String, String)> = chunk
                .iter()
                .map(|n| ("domain_names".to_string(), n.clone()))
                .collect();
            query.push(("is_deleted".to_string(), "true".to_string()));
            query.push(("limit".to_string(), "1000".to_string()));
            match self.call(Call::get("/domains", &query)).await {
                Ok(data) => {
                    let (results, _) = page_of(&data)?;
                    found.extend(results.into_iter().map(|mut d| {
                        d["is_deleted"] = Value::Bool(true);
                        d
                    }));
                }
                Err(ApiError::Blocked) => return Err(ApiError::Blocked),
                Err(e) => tracing::warn!(
                    names = chunk.len(),
                    error = %e,
                    "the look-up of deleted domains failed; those rows stay without a record"
                ),
            }
        }
        Ok(found)
    }

    /// One look-up per name, a few at a time: the old cron's way, kept to measure
    /// against (`opsync sync --lookup per-domain`).
    pub async fn lookup_each(&self, names: &[String]) -> Result<Lookup, ApiError> {
        let parts: Vec<Result<Lookup, ApiError>> = stream::iter(names.chunks(1))
            .map(|one| self.lookup(one))
            .buffered(self.config.concurrency)
            .collect()
            .await;
        let mut all = Lookup::default();
        for part in parts {
            let part = part?;
            all.domains.extend(part.domains);
            all.errors.extend(part.errors);
        }
        Ok(all)
    }
}

/// `name.extension` of a domain object, lower case, as Openprovider lists it.
pub fn full_name(domain: &Value) -> String {
    format!(
        "{}.{}",
        domain["domain"]["name"].as_str().unwrap_or(""),
        domain["domain"]["extension"].as_str().unwrap_or("")
    )
    .to_lowercase()
}

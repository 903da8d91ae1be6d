//! One sync run, the cron flow: lock -> WHMCS rows (all, or the next batch) -> Openprovider
//! (bulk listing, or look-ups by name for small batches) -> engine.wasm -> Openprovider
//! changes -> WHMCS changes (one row per transaction, optimistic) -> cursor -> report.
//!
//! The host decides nothing: what changes is the engine's answer, what the admin reads is
//! the engine's report. A dry run (notify only) reads everything and writes nothing.

use opsync_engine::changes::Response;
use opsync_engine::report::{Failure, Report, Side};
use serde_json::{json, Value};

use crate::config::Config;
use crate::openprovider::Client;
use crate::wasm::{Limits, WasmEngine};
use crate::whmcs::{Applied, DomainRow, Whmcs};

/// Batches this small are looked up by name instead of listing the whole account.
const LOOKUP_BELOW: usize = 100;

/// How a run reads Openprovider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lookup {
    /// Look-ups by name for a batch under 100 rows, the bulk listing otherwise.
    #[default]
    Auto,
    /// Always the bulk listing (pages of 500).
    Bulk,
    /// One look-up per domain, as the old cron did: only for comparison.
    PerDomain,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Read and decide, write nothing (the report says what would change).
    pub dry_run: bool,
    pub lookup: Lookup,
}

/// What a completed run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub response: Response,
    pub failures: Vec<Failure>,
    pub report: Report,
    pub listing_complete: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("another opsync sync is running against this WHMCS database; this run did nothing")]
    Locked,
    #[error(transparent)]
    Store(#[from] crate::whmcs::StoreError),
    #[error(transparent)]
    Openprovider(#[from] crate::openprovider::ApiError),
    #[error(transparent)]
    Engine(#[from] crate::wasm::CallError),
}

pub async fn run(config: &Config, options: RunOptions) -> Result<RunOutcome, RunError> {
    // Drawn only when standard error is a terminal: cron sees nothing of it.
    let progress = indicatif::ProgressBar::new_spinner();
    progress.set_message("reading WHMCS");
    progress.enable_steady_tick(std::time::Duration::from_millis(120));
    let store = Whmcs::connect(config.database_url.expose()).await?;
    let _lock = store.lock_run().await?.ok_or(RunError::Locked)?;
    let rows = match config.batch_size {
        Some(n) => store.next_batch(n).await?,
        None => store.openprovider_rows().await?,
    };

    tracing::info!(rows = rows.len(), "read the WHMCS rows");
    progress.set_message(format!(
        "reading Openprovider for {} WHMCS rows",
        rows.len()
    ));
    let client = Client::new(config.openprovider.clone())?;
    let by_name = match options.lookup {
        Lookup::Auto => config.batch_size.is_some() && rows.len() < LOOKUP_BELOW,
        Lookup::Bulk => false,
        Lookup::PerDomain => true,
    };
    let (domains, complete, lookup_errors) = if by_name {
        let names: Vec<String> = rows
            .iter()
            .filter_map(|r| opsync_engine::name::normalize(&r.domain))
            .collect();
        let lookup = if options.lookup == Lookup::PerDomain {
            client.lookup_each(&names).await?
        } else {
            client.lookup(&names).await?
        };
        let errors: Vec<Value> = lookup
            .errors
            .iter()
            .map(|(domain, kind, message)| json!({"domain": domain, "kind": kind, "message": message}))
            .collect();
        (lookup.domains, false, errors)
    } else {
        let listing = client.list_all().await?;
        for problem in &listing.problems {
            tracing::warn!(%problem, "the Openprovider listing is not complete");
        }
        (listing.domains, listing.complete, Vec::new())
    };

    let request = json!({
        "policy": config.policy,
        "whmcs": rows.iter().map(DomainRow::to_request).collect::<Vec<_>>(),
        "openprovider": {"complete": complete, "domains": domains},
        "lookup_errors": lookup_errors,
    });
    tracing::info!(domains = domains.len(), complete, "read Openprovider");
    progress.set_message("deciding");
    let engine = WasmEngine::global()?;
    let bytes = serde_json::to_vec(&request).unwrap_or_default();
    let answer = engine.decide(&bytes, Limits::default())?;
    let response: Response = serde_json::from_slice(&answer)
        .map_err(|e| crate::wasm::CallError::Host(format!("the engine's answer: {e}")))?;

    tracing::info!(
        changed = response.summary.changed_rows,
        errors = response.summary.errors,
        "the engine decided"
    );
    let mut failures = Vec::new();
    if !options.dry_run {
        progress.set_message(format!(
            "updating {} domains at Openprovider",
            response.summary.openprovider_updates
        ));
        apply_openprovider(&client, &response, &mut failures).await;
        let now = now_text();
        for (row, result) in rows.iter().zip(&response.results) {
            let refused = failures
                .iter()
                .any(|f| f.whmcs_id == row.id && f.side == Side::Openprovider);
            let lines = opsync_engine::activity::openprovider_lines(result);
            if !refused && !lines.is_empty() {
                store.log_activity(row.userid, &lines, &now).await?;
            }
        }
        progress.finish_and_clear();
        let writes = indicatif::ProgressBar::new(response.summary.whmcs_updates);
        writes.set_style(
            indicatif::ProgressStyle::with_template("writing WHMCS {bar:30} {pos}/{len}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        for (row, result) in rows.iter().zip(&response.results) {
            if result.whmcs_changes.is_empty() {
                continue;
            }
            writes.inc(1);
            if store.apply(row, result, &now).await? == Applied::EditedMeanwhile {
                failures.push(Failure {
                    whmcs_id: row.id,
                    domain: row.domain.clone(),
                    side: Side::Whmcs,
                    message: "the row changed in WHMCS after opsync read it; left as it is".into(),
                });
            }
        }
        writes.finish_and_clear();
        if config.batch_size.is_some() {
            let ids: Vec<u64> = rows.iter().map(|r| r.id).collect();
            store.mark_synced(&ids, &now).await?;
        }
    }
    progress.finish_and_clear();

    let input = json!({
        "response": response,
        "dry_run": options.dry_run,
        "send_empty": config.send_empty_reports,
        "failures": failures,
    });
    let report_bytes = engine.render_report(
        &serde_json::to_vec(&input).unwrap_or_default(),
        Limits::default(),
    )?;
    let report: Report = serde_json::from_slice(&report_bytes)
        .map_err(|e| crate::wasm::CallError::Host(format!("the engine's report: {e}")))?;
    Ok(RunOutcome {
        response,
        failures,
        report,
        listing_complete: complete,
    })
}

/// One PUT per changed domain; a refusal becomes a failure of that row's Openprovider side.
async fn apply_openprovider(client: &Client, response: &Response, failures: &mut Vec<Failure>) {
    let targets: Vec<(&opsync_engine::changes::RowResult, u64, Value)> = response
        .results
        .iter()
        .filter(|r| !r.openprovider_changes.is_empty())
        .filter_map(|r| {
            let mut fields = serde_json::Map::new();
            if let Some(c) = &r.openprovider_changes.autorenew {
                fields.insert("autorenew".into(), json!(c.to));
            }
            if let Some(c) = &r.openprovider_changes.is_private_whois_enabled {
                fields.insert("is_private_whois_enabled".into(), json!(c.to));
            }
            Some((r, r.openprovider_id?, Value::Object(fields)))
        })
        .collect();
    let updates: Vec<(u64, Value)> = targets.iter().map(|(_, id, f)| (*id, f.clone())).collect();
    for ((result, _, _), outcome) in targets.iter().zip(client.update_many(&updates).await) {
        if let Err(e) = outcome {
            failures.push(Failure {
                whmcs_id: result.whmcs_id,
                domain: result.domain.clone(),
                side: Side::Openprovider,
                message: e.to_string(),
            });
        }
    }
}

/// The local time as WHMCS writes `tblactivitylog.date`.
fn now_text() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

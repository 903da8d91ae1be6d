//! The `tblactivitylog` lines for a row's changes, one per change, worded the way WHMCS
//! words its own domain edits, so admins find opsync's work where they look for any
//! other. They travel in each result's `activity`; a host writes a side's lines only
//! when that side's write went through.

use crate::changes::{Change, RowResult};

/// One line per WHMCS change, e.g. `Domain Sync (opsync): Modified Domain - example.com -
/// Expiry Date changed from 2026-05-19 to 2026-05-20 - Domain ID: 12`.
pub(crate) fn whmcs_lines(result: &RowResult) -> Vec<String> {
    result
        .whmcs_changes
        .each()
        .map(|(field, change)| line(result, field.activity, change))
        .collect()
}

/// One line per Openprovider change, e.g. `... - Openprovider Auto Renew changed from on
/// to default - Domain ID: 12`.
pub(crate) fn openprovider_lines(result: &RowResult) -> Vec<String> {
    result
        .openprovider_changes
        .each()
        .map(|(field, _, shown)| line(result, field.activity, &shown))
        .collect()
}

fn line(result: &RowResult, what: &str, change: &Change<String>) -> String {
    format!(
        "Domain Sync (opsync): Modified Domain - {} - {what} changed from {} to {} - Domain ID: {}",
        result.domain,
        change.from.as_deref().unwrap_or("(unknown)"),
        change.to,
        result.whmcs_id
    )
}

//! The `tblactivitylog` lines for a row's changes, one per change, worded the way WHMCS
//! words its own domain edits, so admins find opsync's work where they look for any
//! other. Every host writes exactly these lines: the WHMCS ones with the row's update,
//! the Openprovider ones once Openprovider accepted the update.

use crate::changes::{Change, RowResult};

/// One line per WHMCS change, e.g. `Domain Sync (opsync): Modified Domain - example.com -
/// Expiry Date changed from 2026-05-19 to 2026-05-20 - Domain ID: 12`.
pub fn whmcs_lines(result: &RowResult) -> Vec<String> {
    let w = &result.whmcs_changes;
    [
        ("Status", &w.status),
        ("Expiry Date", &w.expirydate),
        ("Next Due Date", &w.nextduedate),
        ("Next Invoice Date", &w.nextinvoicedate),
    ]
    .into_iter()
    .filter_map(|(what, change)| {
        change
            .as_ref()
            .map(|c| line(result, what, c.from.clone(), c.to.clone()))
    })
    .collect()
}

/// One line per Openprovider change, e.g. `... - Openprovider Auto Renew changed from on
/// to default - Domain ID: 12`.
pub fn openprovider_lines(result: &RowResult) -> Vec<String> {
    let o = &result.openprovider_changes;
    let word = |b: bool| if b { "on" } else { "off" }.to_string();
    let mut out = Vec::new();
    if let Some(Change { from, to }) = &o.autorenew {
        out.push(line(
            result,
            "Openprovider Auto Renew",
            from.clone(),
            to.clone(),
        ));
    }
    if let Some(Change { from, to }) = &o.is_private_whois_enabled {
        out.push(line(
            result,
            "Openprovider WHOIS Privacy",
            from.map(word),
            word(*to),
        ));
    }
    out
}

fn line(result: &RowResult, what: &str, from: Option<String>, to: String) -> String {
    format!(
        "Domain Sync (opsync): Modified Domain - {} - {what} changed from {} to {to} - Domain ID: {}",
        result.domain,
        from.unwrap_or_else(|| "(unknown)".to_string()),
        result.whmcs_id
    )
}

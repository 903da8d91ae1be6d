//! The report input as `render_report_json` reads it, and the checks of what the host
//! passes (its times, its admin URL).

use std::collections::BTreeSet;

use serde::Deserialize;

use super::{Failure, Links, Tracking};
use crate::changes::{OpenproviderChanges, RowResult, Summary, WhmcsChanges};
use crate::notice::Notice;
use crate::snapshot::RequestError;

/// The report input as `render_report_json` reads it: a [`ReportInput`] whose results
/// keep only what the report shows. The fields that tell a host what to write are
/// skipped unread, which keeps a 100k-row report as fast as before they existed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InputRead {
    pub(super) response: ResponseRead,
    #[serde(default)]
    pub(super) dry_run: bool,
    #[serde(default)]
    pub(super) send_empty: bool,
    #[serde(default)]
    pub(super) failures: Vec<Failure>,
    #[serde(default)]
    pub(super) tracking: Option<Tracking>,
    #[serde(default)]
    pub(super) links: Option<Links>,
    #[serde(default)]
    pub(super) duration_ms: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(super) struct ResponseRead {
    pub(super) engine: String,
    pub(super) results: Vec<ResultRead>,
    pub(super) summary: Summary,
    #[serde(default)]
    pub(super) notices: Vec<Notice>,
}

#[derive(Deserialize)]
pub(super) struct ResultRead {
    pub(super) whmcs_id: u64,
    pub(super) domain: String,
    #[allow(dead_code)]
    pub(super) openprovider_id: Option<u64>,
    pub(super) whmcs_changes: WhmcsChanges,
    pub(super) openprovider_changes: OpenproviderChanges,
    pub(super) notices: Vec<Notice>,
    #[serde(default)]
    pub(super) held_whmcs_changes: Option<WhmcsChanges>,
    #[serde(default)]
    pub(super) held_openprovider_changes: Option<OpenproviderChanges>,
}

/// What the report reads of one result, whichever way the input arrived.
pub(super) trait Reported {
    fn whmcs_id(&self) -> u64;
    fn domain(&self) -> &str;
    fn whmcs_changes(&self) -> &WhmcsChanges;
    fn openprovider_changes(&self) -> &OpenproviderChanges;
    fn notices(&self) -> &[Notice];
    fn held_whmcs_changes(&self) -> Option<&WhmcsChanges>;
    fn held_openprovider_changes(&self) -> Option<&OpenproviderChanges>;
}

macro_rules! reported {
    ($t:ty) => {
        impl Reported for $t {
            fn whmcs_id(&self) -> u64 {
                self.whmcs_id
            }
            fn domain(&self) -> &str {
                &self.domain
            }
            fn whmcs_changes(&self) -> &WhmcsChanges {
                &self.whmcs_changes
            }
            fn openprovider_changes(&self) -> &OpenproviderChanges {
                &self.openprovider_changes
            }
            fn notices(&self) -> &[Notice] {
                &self.notices
            }
            fn held_whmcs_changes(&self) -> Option<&WhmcsChanges> {
                self.held_whmcs_changes.as_ref()
            }
            fn held_openprovider_changes(&self) -> Option<&OpenproviderChanges> {
                self.held_openprovider_changes.as_ref()
            }
        }
    };
}
reported!(RowResult);
reported!(ResultRead);

/// A time as hosts pass it: `YYYY-MM-DD HH:MM:SS`.
pub(super) fn time(value: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S").ok()
}

pub(super) fn check_time(path: &str, value: &str) -> Result<(), RequestError> {
    match time(value) {
        Some(_) => Ok(()),
        None => Err(RequestError::new(
            path,
            format!("expected a time as YYYY-MM-DD HH:MM:SS, not {value:?}"),
        )),
    }
}

pub(crate) fn check_tracking(tracking: &Tracking) -> Result<(), RequestError> {
    check_time("tracking.now", &tracking.now)?;
    if let Some(at) = &tracking.still_open_mailed_at {
        check_time("tracking.still_open_mailed_at", at)?;
    }
    let mut seen = BTreeSet::new();
    for (i, p) in tracking.open_problems.iter().enumerate() {
        check_time(
            &format!("tracking.open_problems[{i}].first_seen"),
            &p.first_seen,
        )?;
        check_time(
            &format!("tracking.open_problems[{i}].last_seen"),
            &p.last_seen,
        )?;
        if !seen.insert((p.whmcs_id, p.code)) {
            return Err(RequestError::new(
                format!("tracking.open_problems[{i}]"),
                format!(
                    "row {} and code {} are already listed",
                    p.whmcs_id,
                    p.code.as_str()
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_links(links: &Links) -> Result<(), RequestError> {
    let url = links.admin_url.as_str();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let odd = |c: char| c.is_whitespace() || c.is_control() || "?#\"<>\\".contains(c);
    if !scheme_ok || url.chars().any(odd) {
        return Err(RequestError::new(
            "links.admin_url",
            format!(
                "expected the WHMCS admin area's http(s) URL (no query, fragment, quotes or \
                 spaces), not {url:?}"
            ),
        ));
    }
    Ok(())
}

//! The response: one result per WHMCS row with the changes for each side, notices, and a
//! summary. Serialised in a fixed field order, so equal requests give equal bytes.

use serde::{Deserialize, Serialize};

use crate::notice::{Notice, Severity};

/// One field's change. `from` is null when the old value was unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: Option<T>,
    pub to: T,
}

impl<T> Change<T> {
    pub fn new(from: Option<T>, to: T) -> Change<T> {
        Change { from, to }
    }
}

/// Changes to a `tbldomains` row. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhmcsChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expirydate: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextduedate: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextinvoicedate: Option<Change<String>>,
}

impl WhmcsChanges {
    pub fn is_empty(&self) -> bool {
        self == &WhmcsChanges::default()
    }
}

/// Changes to an Openprovider domain (one `PUT /domains/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenproviderChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autorenew: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_private_whois_enabled: Option<Change<bool>>,
}

impl OpenproviderChanges {
    pub fn is_empty(&self) -> bool {
        self == &OpenproviderChanges::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowResult {
    pub whmcs_id: u64,
    /// The name as the WHMCS row holds it.
    pub domain: String,
    pub openprovider_id: Option<u64>,
    pub whmcs_changes: WhmcsChanges,
    pub openprovider_changes: OpenproviderChanges,
    pub notices: Vec<Notice>,
}

impl RowResult {
    pub fn unchanged(whmcs_id: u64, domain: &str, openprovider_id: Option<u64>) -> RowResult {
        RowResult {
            whmcs_id,
            domain: domain.to_string(),
            openprovider_id,
            whmcs_changes: WhmcsChanges::default(),
            openprovider_changes: OpenproviderChanges::default(),
            notices: Vec::new(),
        }
    }

    pub fn is_changed(&self) -> bool {
        !self.whmcs_changes.is_empty() || !self.openprovider_changes.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: u64,
    pub changed_rows: u64,
    pub whmcs_updates: u64,
    pub openprovider_updates: u64,
    pub errors: u64,
    pub warnings: u64,
}

impl Summary {
    pub fn of(results: &[RowResult]) -> Summary {
        let mut s = Summary {
            rows: results.len() as u64,
            ..Summary::default()
        };
        for r in results {
            s.changed_rows += u64::from(r.is_changed());
            s.whmcs_updates += u64::from(!r.whmcs_changes.is_empty());
            s.openprovider_updates += u64::from(!r.openprovider_changes.is_empty());
            for n in &r.notices {
                match n.severity {
                    Severity::Error => s.errors += 1,
                    Severity::Warning => s.warnings += 1,
                    Severity::Info => {}
                }
            }
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub engine: String,
    pub results: Vec<RowResult>,
    pub summary: Summary,
}

impl Response {
    /// The canonical bytes: pretty JSON with two-space indents, no trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs of strings, numbers and booleans cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

//! The request as a host builds it: typed, serialisable, and read back by the engine with
//! all of its leniency. A host fills these from its database and the API, serialises them
//! with [`Request::to_json`], and hands the bytes to any face of the engine; the answer
//! reads back into [`Response`](crate::Response).
//!
//! Hosts hand WHMCS columns over as text, exactly as they read them (`NULL` as `None`):
//! the engine judges dates and flags, and echoes the text back in each update's guard.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::columns::WHMCS_COLUMNS;
use crate::policy::Policy;

/// A decide request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub policy: Policy,
    pub whmcs: Vec<WhmcsRow>,
    pub openprovider: OpenproviderSnapshot,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lookup_errors: Vec<LookupError>,
    /// v1.4: the rows under other registrars (`None`: a v1.3 request, no book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whmcs_other: Option<Vec<OtherRow>>,
    /// v1.4: rows an admin confirmed as transferred away.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmed_transferred_away: Vec<u64>,
}

/// v1.4: a `tbldomains` row under another registrar, its four columns as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherRow {
    pub id: u64,
    pub domain: String,
    pub registrar: String,
    pub status: Option<String>,
}

impl Request {
    /// The request's JSON, as every face of the engine reads it.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain structs of strings, numbers and JSON values: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A `tbldomains` row: the columns of [`WHMCS_COLUMNS`], read as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhmcsRow {
    pub id: u64,
    pub domain: String,
    pub status: Option<String>,
    pub expirydate: Option<String>,
    pub nextduedate: Option<String>,
    pub nextinvoicedate: Option<String>,
    pub donotrenew: Option<String>,
    pub idprotection: Option<String>,
}

impl WhmcsRow {
    /// A row from its columns: `column(name)` gives the text of each of
    /// [`WHMCS_COLUMNS`] (`None` for `NULL`). Fails when `id` is not a positive number.
    pub fn from_columns(
        mut column: impl FnMut(&str) -> Option<String>,
    ) -> Result<WhmcsRow, String> {
        let [id, domain, status, expirydate, nextduedate, nextinvoicedate, donotrenew, idprotection] =
            WHMCS_COLUMNS.map(&mut column);
        let id = id.unwrap_or_default();
        let id = id
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("tbldomains has a row whose id {id:?} is not a number"))?;
        Ok(WhmcsRow {
            id,
            domain: domain.unwrap_or_default(),
            status,
            expirydate,
            nextduedate,
            nextinvoicedate,
            donotrenew,
            idprotection,
        })
    }
}

/// What the host read from Openprovider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenproviderSnapshot {
    /// True when `domains` holds every domain of the account (a listing that finished
    /// and whose pages agreed); false for look-ups by name.
    pub complete: bool,
    /// Domain objects exactly as the API returned them.
    pub domains: Vec<Value>,
}

/// A name the host tried to look up and could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupError {
    pub domain: String,
    pub kind: LookupKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupKind {
    /// The API said the domain is not in the account.
    NotFound,
    /// The look-up itself failed.
    Error,
}

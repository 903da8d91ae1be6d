//! # opsync-engine
//!
//! The decision engine of opsync, **sans I/O**: snapshots of WHMCS and Openprovider go in,
//! change sets come out, together with exactly what a host writes for them. It reads no
//! files, opens no sockets, has no clock and no randomness, so the same request gives the
//! same bytes on every face (native, `engine.wasm` in wasmtime, PHP through FFI,
//! JavaScript).
//!
//! The request and response are specified in `CONTRACT.md` (contract v1) and, for the
//! fields that tell a host what to write, in `docs/contract.md`; this crate is their one
//! implementation. Where a rule lives:
//!
//! | rule | module |
//! |---|---|
//! | request parsing, leniency, JSON-path errors | `snapshot`, `wire` |
//! | the request a host builds (typed) | [`contract`] |
//! | the WHMCS columns read, the fields each side leads | [`columns`] |
//! | policy fields and defaults | `policy` |
//! | name normalisation (IDN) and pairing, duplicates | `name`, `pairing` |
//! | the status table | `status` |
//! | dates as WHMCS and Openprovider write them | `dates` |
//! | expiry; due date and next invoice date | `expiry`, `due_date` |
//! | auto-renew and WHOIS privacy; Openprovider's ACT-only updates | `renewal`, `privacy`, `modifiable` |
//! | notices: codes, severities, wording | `notice` |
//! | the per-row walk and the response | `decide`, `changes` |
//! | the guarded UPDATE, the PUT body, the activity lines | `update`, `activity` |
//! | the email report | `report` |
//!
//! Entry points work on JSON bytes, as every host does: [`decide_json`] and
//! [`render_report_json`]; [`render_report`] renders from typed input.

#![warn(unreachable_pub)]
// Only the raw ABI of engine.wasm (built for wasm32) touches raw pointers.
#![cfg_attr(not(all(target_arch = "wasm32", feature = "abi")), forbid(unsafe_code))]
#![cfg_attr(all(target_arch = "wasm32", feature = "abi"), deny(unsafe_code))]

mod activity;
#[cfg(feature = "arbitrary")]
pub mod arbitrary;
mod book;
mod changes;
pub mod columns;
pub mod contract;
mod dates;
mod decide;
mod due_date;
mod expiry;
#[cfg(feature = "arbitrary")]
pub mod laws;
mod modifiable;
mod name;
mod notice;
mod pairing;
mod policy;
mod privacy;
mod renewal;
mod report;
mod rule;
pub mod run;
mod snapshot;
mod status;
#[doc(hidden)]
pub mod synthetic;
mod update;
mod wire;

// Exported by symbol name from the module, not by path from the crate.
#[cfg(all(target_arch = "wasm32", feature = "abi"))]
#[allow(unsafe_code, unreachable_pub)]
mod abi;

pub use changes::{
    Activity, Change, Guard, OpenproviderChanges, OpenproviderOnly, OpenproviderUpdate, Response,
    RowResult, Summary, WhmcsChanges, WhmcsUpdate,
};
pub use dates::parse_day;
pub use notice::{Code, Notice, Severity};
pub use policy::{ExpirySource, MassChangeLimit, Policy};
pub use report::{
    render as render_report, Failure, Links, OpenProblem, Report, ReportInput, RowClient, Side,
    Tracking, TrackingAfter,
};
pub use snapshot::RequestError;
pub use status::WhmcsStatus;

/// The engine's name and version, as it appears in every response's `engine` field.
pub const ENGINE: &str = concat!("opsync-engine ", env!("CARGO_PKG_VERSION"));

/// Contract v1 over bytes: a request in, the response out (pretty JSON, deterministic).
///
/// An invalid request fails the whole call with an error naming the JSON path.
pub fn decide_json(request: &[u8]) -> Result<Vec<u8>, RequestError> {
    let request = snapshot::Snapshot::from_json(request)?;
    Ok(decide::decide(&request).to_json())
}

/// The report email for a finished run: a [`ReportInput`]'s JSON in, a [`Report`]'s out.
pub fn render_report_json(input: &[u8]) -> Result<Vec<u8>, RequestError> {
    Ok(report::render_json(input)?.to_json())
}

/// The names a host looks up at Openprovider, for names as WHMCS holds them: a JSON
/// array of strings in, the array of their [`lookup_name`]s out (`null` for a name that
/// is no usable domain name). Hosts that cannot link the engine ask it this way.
pub fn lookup_names_json(input: &[u8]) -> Result<Vec<u8>, RequestError> {
    let names: Vec<serde_json::Value> = serde_json::from_slice(input).map_err(|e| {
        RequestError::new("names", format!("expected an array of domain names ({e})"))
    })?;
    let mut looked_up = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let name = name
            .as_str()
            .ok_or_else(|| RequestError::new(format!("names[{i}]"), "expected a string"))?;
        looked_up.push(lookup_name(name));
    }
    Ok(serde_json::to_vec_pretty(&looked_up).unwrap_or_default())
}

/// The settings verb: `{settings, options?}` (a run's raw settings and options) in, the
/// settings as a run reads them out: the policy, the batch, the API address, and every
/// setting with its value and where it came from (for `opsync check` and the addon page).
pub fn settings_json(input: &[u8]) -> Result<Vec<u8>, RequestError> {
    run::settings::shown_json(input).map_err(|e| RequestError::new("settings", e.0))
}

/// The name a domain is known by at Openprovider: trimmed, lower case, without a trailing
/// dot, IDN labels in punycode; `None` when it is no usable domain name. Hosts look names
/// up in this form, and the engine pairs in it.
pub fn lookup_name(domain: &str) -> Option<String> {
    name::normalize(domain)
}

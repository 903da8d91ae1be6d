//! # opsync-engine
//!
//! The decision engine of opsync, **sans I/O**: snapshots of WHMCS and Openprovider go in,
//! change sets come out. It reads no files, opens no sockets, has no clock and no
//! randomness, so the same request gives the same bytes on every face (native, `engine.wasm`
//! in wasmtime, PHP through FFI, JavaScript).
//!
//! The request and response are specified in `CONTRACT.md` (contract v1); this crate is
//! its one implementation. Where a rule lives:
//!
//! | rule | module |
//! |---|---|
//! | request parsing, leniency, JSON-path errors | [`snapshot`] |
//! | policy fields and defaults | [`policy`] |
//! | name normalisation (IDN) and pairing, duplicates | [`name`], [`pairing`] |
//! | the status table | [`status`] |
//! | dates as WHMCS and Openprovider write them | [`dates`] |
//! | expiry and due date | [`expiry`], [`due_date`] |
//! | auto-renew and WHOIS privacy | [`renewal`], [`privacy`] |
//! | notices: codes, severities, wording | [`notice`] |
//! | the per-row walk and the response | [`decide`], [`changes`] |
//! | the email report | [`report`] |
//! | `tblactivitylog` lines | [`activity`] |
//!
//! Entry points work on JSON bytes, as every host does: [`decide_json`] and
//! [`render_report_json`]. Typed entry points ([`decide`](decide::decide),
//! [`report::render`]) serve tests and Rust hosts.

pub mod activity;
#[cfg(feature = "arbitrary")]
pub mod arbitrary;
pub mod changes;
pub mod dates;
pub mod decide;
pub mod due_date;
pub mod expiry;
pub mod name;
pub mod notice;
pub mod pairing;
pub mod policy;
pub mod privacy;
pub mod renewal;
pub mod report;
pub mod snapshot;
pub mod status;
#[doc(hidden)]
pub mod synthetic;
pub mod wire;

#[cfg(all(target_arch = "wasm32", feature = "abi"))]
mod abi;

pub use changes::Response;
pub use snapshot::{Request, RequestError};

/// The engine's name and version, as it appears in every response's `engine` field.
pub const ENGINE: &str = concat!("opsync-engine ", env!("CARGO_PKG_VERSION"));

/// Contract v1 over bytes: a request in, the response out (pretty JSON, deterministic).
///
/// An invalid request fails the whole call with an error naming the JSON path.
pub fn decide_json(request: &[u8]) -> Result<Vec<u8>, RequestError> {
    let request = Request::from_json(request)?;
    Ok(decide::decide(&request).to_json())
}

/// The report email for a finished run: `{response, dry_run?, send_empty?, failures?}` in,
/// `{send, subject, text, html}` out.
pub fn render_report_json(input: &[u8]) -> Result<Vec<u8>, RequestError> {
    let input = report::ReportInput::from_json(input)?;
    Ok(report::render(&input).to_json())
}

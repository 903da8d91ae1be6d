//! The run protocol's messages: what a host starts a run with ([`Start`]), what the run
//! asks for ([`Request`]), what a host feeds back ([`Input`]) and what the run hands out
//! after each step ([`Outputs`], ending with a [`RunOutcome`]). Every face speaks them as
//! JSON; `docs/contract.md` ("The run protocol") describes each field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::changes::{Summary, WhmcsUpdate};
use crate::report::{Failure, OpenProblem};

/// The protocol's version; a [`Start`] names the one it speaks.
pub const PROTOCOL: u32 = 1;

/// What the run is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Read, decide, write both sides, mail the report, record the run.
    Sync,
    /// Read and decide, write nothing; mail the report of what would change and record
    /// the run (WHMCS's "notify only").
    DryRun,
    /// A look: a dry run that mails nothing and records nothing (`opsync plan`, the addon's
    /// "Plan" button).
    Plan,
    /// WHMCS's own sync asks about one domain (`openprovider_Sync`): the answer is
    /// WHMCS's, nothing is written by the run.
    RegistrarSync,
    /// As [`Mode::RegistrarSync`], for `openprovider_TransferSync`.
    TransferSync,
    /// `opsync check`'s look at Openprovider: the login, the listing, WHMCS's names in the
    /// account and, with `live_api`, the API's behaviours; read-only, no lock.
    Check,
}

impl Mode {
    /// Whether the run writes to WHMCS and Openprovider.
    pub(crate) fn writes(self) -> bool {
        self == Mode::Sync
    }

    /// Whether the run answers WHMCS about one domain.
    pub(crate) fn registrar(self) -> bool {
        matches!(self, Mode::RegistrarSync | Mode::TransferSync)
    }
}

/// How a run reads Openprovider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lookup {
    /// Look-ups by name for a batch of fewer than 100 rows, the bulk listing otherwise.
    #[default]
    Auto,
    /// Always the bulk listing.
    Bulk,
    /// One look-up per domain, as the old cron did: only to measure against.
    PerDomain,
}

/// What the command line (or the page's button) asked of this run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Only the next N rows (never synced first, then the longest ago); 0: every row.
    pub batch: Option<u64>,
    /// Every row, whatever the settings' batch size.
    pub all: bool,
    /// Release the mass-change brake for this run only.
    pub allow_mass_change: bool,
    /// Mail the report even when nothing changed.
    pub send_empty: Option<bool>,
    pub lookup: Lookup,
    /// The `tbldomains` row WHMCS asks about (registrar modes).
    pub domain_id: Option<u64>,
    /// Probe the API's behaviours too (mode `check`).
    pub live_api: bool,
    /// Stop at this many milliseconds after the start, finished or not (a web page's time
    /// limit): nothing more is asked, the lock goes, the outcome says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
}

/// The host's facts a run starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    /// [`PROTOCOL`].
    pub protocol: u32,
    /// Which host runs it, as the run history names it: `opsync` or `whmcs`.
    pub host: String,
    pub mode: Mode,
    /// The local time at the start, `YYYY-MM-DD HH:MM:SS`, as WHMCS writes dates.
    pub now: String,
    /// Seconds since 1970 at the start (how old a cached token is).
    pub epoch_seconds: u64,
    /// Seeds the jitter of retries (the run has no randomness of its own).
    #[serde(default)]
    pub seed: u64,
    /// The settings as the host read them, raw (see `run::settings`).
    pub settings: Value,
    #[serde(default)]
    pub options: Options,
    /// What the host found broken in its own setup, one line each (the drop-in: a module
    /// update put the old cron file back); each leads the report as a `setup_problem`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_problems: Vec<String>,
}

/// One thing the run asks the host to do. Every request but `log` gets exactly one
/// [`Input`] back, with its `id`, in any order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    #[serde(flatten)]
    pub kind: RequestKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestKind {
    /// Take the run lock (one run at a time per WHMCS database). Ok: `{"locked": bool}`.
    Lock,
    /// Let the lock go. Ok: `{}`.
    Unlock,
    /// opsync's memory and WHMCS's System URL. Ok: `{"problems": [[whmcs_id, code, domain,
    /// first_seen, last_seen, runs_seen], ...], "still_open_mailed_at": text|null,
    /// "system_url": text|null}`, every value as the database holds it, as text.
    ReadState,
    /// The cached Openprovider session. Ok: `{"text": text|null, "problem": text|null}`
    /// (`problem`: why a cache that is there is not trusted, e.g. others may read it).
    ReadToken,
    /// Cache the session (the only request that carries a secret to a store). Ok: `{}`.
    StoreToken { text: String },
    /// Drop the cached session. Ok: `{}`.
    ForgetToken,
    /// Openprovider's rows of `tbldomains`, by id, after the row whose id reads `after`
    /// (from the first when null), at most `limit`. The body of the answer: a JSON array
    /// of rows, each `[userid, id, domain, status, expirydate, nextduedate,
    /// nextinvoicedate, donotrenew, idprotection]` as text (`null` for SQL NULL).
    ReadRows { after: Option<String>, limit: u64 },
    /// The next `limit` rows of a batched run: never synced first, then the longest ago,
    /// by id within each; with `synced_before`, only rows never synced or synced before
    /// that local time (the settings' minimum age). The body as for `read_rows`.
    ReadBatch {
        limit: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        synced_before: Option<String>,
    },
    /// The `tbldomains` row with id `row`, whatever its registrar. The body as for
    /// `read_rows`.
    ReadRow { row: u64 },
    /// Openprovider's rows' ids and names only, by id, after `after`, at most `limit`
    /// (a batched run finds the rows that share a name with its batch). The body: a JSON
    /// array of `[id, domain]`, as text.
    ReadNames { after: Option<String>, limit: u64 },
    /// Openprovider's rows with these ids. The body as for `read_rows`.
    ReadRowsById { ids: Vec<u64> },
    /// An Openprovider API call, spelled out whole. Ok: `{"status": HTTP status}` with the
    /// answer's bytes as the body; error: why no answer came (a timeout, a refused
    /// connection).
    Http(Http),
    /// One row's `UPDATE` and its activity lines, in one transaction. Ok:
    /// `{"written": bool}` (false: the row changed since it was read; nothing written).
    WriteRow {
        update: WhmcsUpdate,
        activity: Vec<String>,
        userid: u64,
        date: String,
    },
    /// Activity lines for a row (its Openprovider side, once Openprovider took the
    /// update). Ok: `{}`.
    WriteActivity {
        userid: u64,
        lines: Vec<String>,
        date: String,
    },
    /// A batched run's rows were synced at `date`. Ok: `{}`.
    MarkSynced { ids: Vec<u64>, date: String },
    /// Replace what opsync remembers (the open problems). Ok: `{}`.
    StoreMemory {
        open_problems: Vec<OpenProblem>,
        still_open_mailed_at: Option<String>,
    },
    /// Add the run to the run history. Ok: `{}`.
    RecordRun(HistoryRow),
    /// Mail the report to the admins whose role has System emails. Ok: `{"sent":
    /// recipients}` or `{"not_configured": true}`; error: why it was not sent.
    SendReport {
        subject: String,
        text: String,
        html: String,
        /// The HTML's body alone, for a mailer that wraps a message in its own document
        /// (WHMCS's SendAdminEmail), every `{` and `}` written as an entity so a template
        /// engine reads none as its own.
        body: String,
    },
    /// A line for the host's log. No answer.
    Log {
        level: Level,
        message: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        fields: BTreeMap<String, Value>,
    },
}

/// One HTTP request to Openprovider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Http {
    pub method: String,
    /// The whole URL without the query.
    pub url: String,
    /// Query pairs in order; a key may repeat.
    pub query: Vec<(String, String)>,
    /// A JSON body, or none.
    pub body: Option<Value>,
    /// `Authorization: Bearer <bearer>` when given.
    pub bearer: Option<String>,
    /// Strings to mask wherever the host records this call (the password, the token).
    pub secrets: Vec<String>,
    /// Give up waiting for the answer after this long (then answer an error).
    pub timeout_ms: u64,
    /// The answer holds a secret (the login's token): a host that records calls leaves
    /// the answer's body out of its record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub answer_is_secret: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

/// A run history row, as both hosts write `opsync_runs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub started_at: String,
    pub finished_at: String,
    pub host: String,
    /// `sync`, `dry-run`, `held` or `failed`.
    pub mode: String,
    pub rows_checked: u64,
    pub changed_rows: u64,
    pub whmcs_updates: u64,
    pub openprovider_updates: u64,
    pub errors: u64,
    pub warnings: u64,
    pub failures: u64,
    pub subject: String,
    pub report_text: String,
    pub report_html: String,
    pub exit_status: u8,
    /// The steps' times, as JSON text.
    pub steps: String,
}

/// What a host feeds the run: the time, and the answer to one request (or nothing: the
/// time the run asked to be woken at has come).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Milliseconds since the run started, by the host's monotonic clock.
    pub now_ms: u64,
    pub id: Option<u64>,
    pub ok: Option<Value>,
    pub error: Option<String>,
    /// The answer's bytes, for faces that pass only JSON (the others pass them apart).
    pub body: Option<String>,
}

/// What the run hands out after each step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    pub requests: Vec<Request>,
    /// Feed the run an [`Input`] without an id at this time, unless an answer comes first.
    pub wake_at_ms: Option<u64>,
    /// The run is over: nothing more will be asked.
    pub outcome: Option<RunOutcome>,
}

/// How long one step of a run took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTime {
    /// `lock`, `read_whmcs`, `read_openprovider`, `decide`, `apply_openprovider`,
    /// `apply_whmcs`, `cursor`, `report`, `mail`.
    pub step: String,
    pub seconds: f64,
}

/// What became of the report mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mailed {
    /// Not asked for, or nothing worth sending.
    NotSent,
    Sent,
    /// Worth sending, but the host has no mail set up: the report is printed.
    NotConfigured,
    Failed,
}

/// Calls made to Openprovider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiStats {
    /// Requests sent (retries and logins included).
    pub requests: u64,
    pub retries: u64,
    pub logins: u64,
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// 0 done, 4 another run holds the lock, 5 the run could not complete (or its report
    /// could not be mailed), 8 the mass-change brake held it.
    pub exit_status: u8,
    /// `sync`, `dry-run`, `plan`, `held`, `failed`, `locked`, or `answered` (registrar
    /// modes), or `left_to_module` (transfer sync of an extension the Openprovider module
    /// renews after a transfer: the module answers, `answer` is absent).
    pub mode: String,
    /// Lines for the one who ran it (standard error, the admin page), in order.
    pub lines: Vec<String>,
    pub summary: Option<Summary>,
    pub failures: Vec<Failure>,
    /// The report (absent when the run stopped before it).
    pub report: Option<ReportShown>,
    pub mail: Mailed,
    pub mailed_to: u64,
    /// Whether the bulk listing's pages made one consistent listing (false for look-ups
    /// by name). A record left out still makes the run's picture incomplete.
    pub listing_complete: bool,
    pub api: ApiStats,
    pub steps: Vec<StepTime>,
    /// One line on the mass-change brake in effect.
    pub brake: String,
    /// WHMCS's answer (registrar modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
    /// The checks' verdicts (mode `check`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<super::probe::CheckLine>,
}

/// The report as the run's outcome shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportShown {
    pub send: bool,
    pub subject: String,
    pub text: String,
    pub html: String,
}

//! The engine for JavaScript: the same rules as `engine.wasm`, with a wasm-bindgen face.
//!
//! This crate is apart from the raw-ABI build because any `#[wasm_bindgen]` item gives
//! its module JS imports; `engine.wasm` must import nothing.
//!
//! - `decide(request)`: a request object in, a response object out (plain JSON values).
//! - `decideJson(text)`: the contract's bytes, identical to every other face.
//! - `renderReport(input)` / `renderReportJson(text)`: the report email.
//! - `lookupNames(names)`: the names Openprovider knows domains by (punycode, lower case).
//! - `version()`: `opsync-engine 0.1.0`.
//! - `settings(input)` / `settingsJson(text)`: the raw settings as a run reads them.
//! - `new Run(startJson)`: the run protocol; `run.outputs()` gives the first outputs
//!   (JSON text), `run.feedJson(header, body)` feeds one input and gives the next.
//!
//! Invalid requests throw an `Error` whose message is the contract's one-line error.

use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A WHMCS flag as PDO hands it. */
export type Flag = boolean | 0 | 1 | "0" | "1" | "";

export interface Policy {
  sync_status?: boolean;
  sync_expiry_date?: boolean;
  expiry_source?: "expiration_date" | "renewal_date";
  sync_due_date?: boolean;
  due_date_offset_days?: number;
  due_date_max_shift_days?: number | null;
  sync_auto_renew?: boolean;
  sync_whois_privacy?: boolean;
  protected_statuses?: WhmcsStatus[];
  mass_change_limit?: { percent: number; min_rows: number } | null;
  /** v1.4: rows and records left out of the sync (names compare normalised). */
  exclude?: { domains?: string[]; extensions?: string[] };
  /** v1.4: per-row fields per extension; the longest matching extension wins. */
  by_extension?: { [extension: string]: ExtensionPolicy };
}

/** v1.4: the per-row fields a by_extension entry may set. */
export type ExtensionPolicy = Pick<Policy,
  | "sync_status" | "sync_expiry_date" | "expiry_source" | "sync_due_date"
  | "due_date_offset_days" | "due_date_max_shift_days" | "sync_auto_renew" | "sync_whois_privacy">;

export type WhmcsStatus =
  | "Pending" | "Pending Registration" | "Pending Transfer" | "Active" | "Grace"
  | "Redemption" | "Expired" | "Cancelled" | "Fraud" | "Transferred Away";

/** A row of tbldomains. Dates are YYYY-MM-DD; "0000-00-00", "" and null are unknown. */
export interface WhmcsRow {
  id: number | string;
  domain: string;
  status: WhmcsStatus | string;
  expirydate?: string | null;
  nextduedate?: string | null;
  nextinvoicedate?: string | null;
  donotrenew?: Flag | null;
  idprotection?: Flag | null;
  [other: string]: unknown;
}

/** A domain object as Openprovider's REST API returns it. */
export interface OpenproviderDomain {
  id: number | string;
  domain: { name: string; extension: string; [other: string]: unknown };
  status?: string;
  expiration_date?: string;
  renewal_date?: string;
  autorenew?: "on" | "off" | "default" | string | null;
  is_private_whois_enabled?: boolean | null;
  is_private_whois_allowed?: boolean | null;
  [other: string]: unknown;
}

export interface LookupError {
  domain: string;
  kind: "not_found" | "error";
  message?: string;
}

export interface Request {
  policy?: Policy;
  whmcs: WhmcsRow[];
  openprovider: { complete?: boolean; domains: OpenproviderDomain[] };
  lookup_errors?: LookupError[];
  /** v1.4: rows under other registrars (their four columns); absent: no openprovider_only. */
  whmcs_other?: { id: number; domain: string; registrar: string; status: string | null }[];
  /** v1.4: rows an admin confirmed as transferred away. */
  confirmed_transferred_away?: number[];
}

export interface Change<T> { from: T | null; to: T }

export interface Notice {
  severity: "error" | "warning" | "info";
  code:
    | "request_failed" | "unknown_status" | "invalid_date" | "due_date_shift_too_large"
    | "whois_privacy_not_allowed" | "not_modifiable" | "not_in_openprovider"
    | "lookup_failed" | "not_checked" | "invalid_record" | "duplicate_domain"
    | "mass_change_held" | "excluded" | "transfer_confirmation_stale" | "not_in_whmcs"
    | "registrar_mismatch";
  message: string;
}

export interface RowResult {
  whmcs_id: number;
  domain: string;
  openprovider_id: number | null;
  whmcs_changes: {
    status?: Change<WhmcsStatus>;
    expirydate?: Change<string>;
    nextduedate?: Change<string>;
    nextinvoicedate?: Change<string>;
  };
  openprovider_changes: {
    autorenew?: Change<"default" | "off">;
    is_private_whois_enabled?: Change<boolean>;
  };
  notices: Notice[];
  /** The guarded UPDATE a host runs: SET these columns WHERE the row still holds these values. */
  whmcs_update?: {
    set: { [column: string]: string | number | null };
    where: { id: number; [column: string]: string | number | boolean | null };
  };
  /** The PUT /domains/{id} a host sends. */
  openprovider_update?: { id: number; body: { autorenew?: "default" | "off"; is_private_whois_enabled?: boolean } };
  /** tblactivitylog lines; a side's lines are written only when that side's write went through. */
  activity?: { whmcs: string[]; openprovider: string[] };
}

export interface Response {
  engine: string;
  results: RowResult[];
  summary: {
    rows: number; changed_rows: number; whmcs_updates: number;
    openprovider_updates: number; errors: number; warnings: number;
    held?: boolean; held_rows?: number;
    /** v1.4: openprovider_only's length, when the request carried whmcs_other. */
    openprovider_only?: number;
  };
  notices?: Notice[];
  /** v1.4: live records no openprovider row of WHMCS has (empty from a partial listing). */
  openprovider_only?: {
    openprovider_id: number; domain: string; status: string | null; expiry: string | null;
    autorenew: string | null; whmcs_id: number | null; registrar: string | null; notice: Notice;
  }[];
}

export interface ReportInput {
  response: Response;
  dry_run?: boolean;
  send_empty?: boolean;
  failures?: { whmcs_id: number; domain: string; side: "whmcs" | "openprovider"; message: string }[];
  /** v1.2: the problems the host remembers, and its clock (YYYY-MM-DD HH:MM:SS). */
  tracking?: {
    now: string;
    complete?: boolean;
    open_problems?: OpenProblem[];
    still_open_mailed_at?: string | null;
    repeat_still_open_hours?: number;
  };
  /** v1.2: links to each domain's page in the WHMCS admin area. */
  links?: { admin_url: string; rows?: { whmcs_id: number; userid: number }[] };
  /** v1.3: how long the run had taken when the report was asked for (ms); the footer gives it. */
  duration_ms?: number;
}

export interface OpenProblem {
  whmcs_id: number; domain: string; code: string;
  first_seen: string; last_seen: string; runs_seen: number;
}

export interface Report {
  send: boolean; subject: string; text: string; html: string;
  /** v1.2, when the input had `tracking`: what the host remembers next. */
  tracking?: {
    open_problems: OpenProblem[]; still_open_mailed_at: string | null;
    new: number; still_open: number; resolved: number;
  };
}
"#;

/// Contract v1 on objects.
#[wasm_bindgen(js_name = decide, unchecked_return_type = "Response")]
pub fn decide(
    #[wasm_bindgen(unchecked_param_type = "Request")] request: JsValue,
) -> Result<JsValue, JsError> {
    let bytes = to_json(request)?;
    let answer = opsync_engine::decide_json(&bytes).map_err(|e| JsError::new(&e.to_string()))?;
    from_json(&answer)
}

/// Contract v1 on text: exactly the bytes every face answers.
#[wasm_bindgen(js_name = decideJson)]
pub fn decide_json(request: &str) -> Result<String, JsError> {
    let answer =
        opsync_engine::decide_json(request.as_bytes()).map_err(|e| JsError::new(&e.to_string()))?;
    String::from_utf8(answer).map_err(|e| JsError::new(&e.to_string()))
}

/// The report email for a run.
#[wasm_bindgen(js_name = renderReport, unchecked_return_type = "Report")]
pub fn render_report(
    #[wasm_bindgen(unchecked_param_type = "ReportInput")] input: JsValue,
) -> Result<JsValue, JsError> {
    let bytes = to_json(input)?;
    let answer =
        opsync_engine::render_report_json(&bytes).map_err(|e| JsError::new(&e.to_string()))?;
    from_json(&answer)
}

/// The report email, on text.
#[wasm_bindgen(js_name = renderReportJson)]
pub fn render_report_json(input: &str) -> Result<String, JsError> {
    let answer = opsync_engine::render_report_json(input.as_bytes())
        .map_err(|e| JsError::new(&e.to_string()))?;
    String::from_utf8(answer).map_err(|e| JsError::new(&e.to_string()))
}

/// The names Openprovider knows domains by (`null` for a name that is no usable domain name).
#[wasm_bindgen(js_name = lookupNames, unchecked_return_type = "(string | null)[]")]
pub fn lookup_names(
    #[wasm_bindgen(unchecked_param_type = "string[]")] names: JsValue,
) -> Result<JsValue, JsError> {
    let bytes = to_json(names)?;
    let answer =
        opsync_engine::lookup_names_json(&bytes).map_err(|e| JsError::new(&e.to_string()))?;
    from_json(&answer)
}

/// The settings as a run reads them, on text.
#[wasm_bindgen(js_name = settingsJson)]
pub fn settings_json(input: &str) -> Result<String, JsError> {
    let answer =
        opsync_engine::settings_json(input.as_bytes()).map_err(|e| JsError::new(&e.to_string()))?;
    String::from_utf8(answer).map_err(|e| JsError::new(&e.to_string()))
}

/// One run of the run protocol: its state lives in this object.
#[wasm_bindgen]
pub struct Run {
    run: opsync_engine::run::Run,
    first: Option<String>,
}

#[wasm_bindgen]
impl Run {
    /// Starts a run from its start (JSON text).
    #[wasm_bindgen(constructor)]
    pub fn new(start: &str) -> Result<Run, JsError> {
        let (run, first) = opsync_engine::run::Run::start_json(start.as_bytes())
            .map_err(|e| JsError::new(&e.to_string()))?;
        let first = String::from_utf8(first).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Run {
            run,
            first: Some(first),
        })
    }

    /// The first outputs (JSON text), once.
    pub fn outputs(&mut self) -> Option<String> {
        self.first.take()
    }

    /// One input's header (JSON text) and the answer's body in, the next outputs out.
    #[wasm_bindgen(js_name = feedJson)]
    pub fn feed_json(&mut self, header: &str, body: &str) -> Result<String, JsError> {
        let out = self
            .run
            .handle_json(header.as_bytes(), body.as_bytes())
            .map_err(|e| JsError::new(&e.to_string()))?;
        String::from_utf8(out).map_err(|e| JsError::new(&e.to_string()))
    }
}

/// The engine's name and version.
#[wasm_bindgen]
pub fn version() -> String {
    opsync_engine::ENGINE.to_string()
}

fn to_json(value: JsValue) -> Result<Vec<u8>, JsError> {
    let mut value: serde_json::Value = serde_wasm_bindgen::from_value(value)
        .map_err(|e| JsError::new(&format!("request: not a JSON value ({e})")))?;
    integral(&mut value);
    serde_json::to_vec(&value).map_err(|e| JsError::new(&e.to_string()))
}

/// JavaScript's numbers are all doubles, and serde-wasm-bindgen hands one past 2^53 over
/// as a float even when it is a whole number. The engine gets such a number as the
/// integer it is, so that it judges an id given as an object as it judges the same id
/// in text (2^53: "expected an integer from 1 to ...", not "expected an integer").
fn integral(value: &mut serde_json::Value) {
    use serde_json::Value;
    // 2^63 and 2^64: the doubles just past i64 and u64.
    const I64_END: f64 = 9_223_372_036_854_775_808.0;
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && (0.0..U64_END).contains(&f) {
                *n = (f as u64).into();
            } else if f.fract() == 0.0 && (-I64_END..0.0).contains(&f) {
                *n = (f as i64).into();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral),
        Value::Object(fields) => fields.values_mut().for_each(integral),
        _ => {}
    }
}

fn from_json(bytes: &[u8]) -> Result<JsValue, JsError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| JsError::new(&e.to_string()))?;
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

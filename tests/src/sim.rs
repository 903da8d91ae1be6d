//! A simulated world for the run protocol, in the manner of quinn-proto's `Pair`: WHMCS's
//! tables, Openprovider (the sandbox's own state, answers and faults, without HTTP), the
//! mail and a clock, all in memory and stepped by the test. No process, socket or
//! database: a whole run takes a fraction of a millisecond, so tests can try thousands
//! of fault schedules.
//!
//! The world carries out a run's requests as a host would: database requests one after
//! the other, in order; HTTP requests at once, each answered after its latency, so the
//! answers come back in any order; wake-ups when the run asks. A [`Schedule`] puts a fault
//! on any request, or kills the host before it carries one out.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use opsync_engine::run::{
    HistoryRow, Input, Outputs, Request, RequestKind, Run, RunOutcome, Start,
};
use serde_json::{json, Value};

use crate::sandbox::{Offline, Seed};

/// Openprovider's address in the simulated world.
pub const BASE_URL: &str = "https://openprovider.sim/v1beta";

/// The `tbldomains` columns a row holds besides its id.
pub const COLUMNS: [&str; 7] = [
    "domain",
    "status",
    "expirydate",
    "nextduedate",
    "nextinvoicedate",
    "donotrenew",
    "idprotection",
];

/// One `tbldomains` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub userid: u64,
    pub registrar: String,
    /// [`COLUMNS`] and `reminders`, as text (`None`: SQL NULL).
    pub values: BTreeMap<String, Option<String>>,
}

impl Row {
    pub fn get(&self, column: &str) -> Option<&str> {
        self.values.get(column).and_then(|v| v.as_deref())
    }
}

/// A `tblactivitylog` line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Activity {
    pub line: String,
    pub userid: u64,
    pub date: String,
}

/// WHMCS's tables as a run sees them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Whmcs {
    pub rows: BTreeMap<u64, Row>,
    pub activity: Vec<Activity>,
    pub cursor: BTreeMap<u64, String>,
    /// `opsync_problems`: whmcs_id, code, domain, first_seen, last_seen, runs_seen.
    pub problems: Vec<[String; 6]>,
    pub still_open_mailed_at: Option<String>,
    pub runs: Vec<HistoryRow>,
    pub system_url: Option<String>,
    pub locked: bool,
}

/// A mail the admins got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What can go wrong at one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// HTTP 500 with business code 399.
    Business,
    /// HTTP 502 without an Openprovider answer.
    Bare502,
    /// HTTP 502 with an empty body.
    Empty502,
    /// An answer that is not JSON.
    Malformed,
    /// An answer cut off halfway.
    Truncated,
    /// Every token issued so far stops working (code 196).
    TokenExpired,
    /// This answer is code 4005.
    Maintenance,
    /// The IP is blocked from here on (code 10005).
    Blocked,
    /// No answer in time; the request never reached Openprovider.
    TimeoutBefore,
    /// No answer in time, but Openprovider did what was asked.
    TimeoutAfter,
    /// An update refused for its domain (code 399).
    RefuseUpdate,
    /// A domain appears in the account before this page is listed.
    Shift,
    /// The database request fails (the connection is lost).
    DbError,
    /// The mail server refuses the report.
    MailRefused,
    /// Someone edited the row after the run read it: its write matches nothing.
    EditedMeanwhile,
}

/// A fault for every request whose description starts with `when` (`lock`, `read_rows`,
/// `http GET /domains`, `http PUT /domains/11`, `write_row 12`, `send_report`, ...), the
/// first `times` of them (all when absent).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub when: String,
    pub fault: Fault,
    #[serde(default)]
    pub times: Option<u32>,
}

/// How a request reads in a [`Rule`].
pub fn describe(kind: &RequestKind) -> String {
    let name = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    match kind {
        RequestKind::Http(call) => format!(
            "http {} {}",
            call.method,
            call.url.strip_prefix(BASE_URL).unwrap_or(&call.url)
        ),
        RequestKind::WriteRow { update, .. } => format!("write_row {}", update.guard.id),
        _ => name,
    }
}

/// Faults by the number of the request they hit (1: the first request handed out; log
/// lines are not counted) or by what the request is, and where the host dies.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Schedule {
    pub faults: BTreeMap<usize, Fault>,
    pub rules: Vec<Rule>,
    /// The host dies before it carries out this request.
    pub kill_at: Option<usize>,
    /// Each HTTP request's latency in milliseconds, in turn (empty: 20 ms each).
    pub latencies: Vec<u64>,
}

/// One line of a run's trace.
#[derive(Debug, Clone, PartialEq)]
pub enum Traced {
    /// What the run handed out.
    Outputs(Box<Outputs>),
    /// What the world fed it: the input and the answer's bytes.
    Input(Input, Vec<u8>),
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Ran {
    /// `None`: the host died first.
    pub outcome: Option<RunOutcome>,
    pub trace: Vec<Traced>,
    /// Every log line the run handed out, with its fields, as a host prints it.
    pub logs: Vec<String>,
    /// Requests carried out (log lines not counted).
    pub requests: usize,
    /// Requests that wrote to a store (for the law on secrets).
    pub stored: Vec<Request>,
    /// The run as a script: the start, then each outputs and input, one JSON line each,
    /// the outputs exactly as the engine wrote them.
    pub script: Vec<Vec<u8>>,
}

/// WHMCS, Openprovider, the mail and the token cache.
pub struct World {
    pub whmcs: Whmcs,
    pub openprovider: Offline,
    pub mail: Vec<Mail>,
    pub token_cache: Option<String>,
    pub password: String,
    /// How often each schedule rule was used (counted over the world's runs).
    rules_used: BTreeMap<usize, u32>,
}

impl World {
    pub fn new(whmcs: Whmcs, seed: &Seed) -> World {
        World {
            whmcs,
            openprovider: Offline::new(seed),
            mail: Vec::new(),
            token_cache: None,
            password: seed.password.clone(),
            rules_used: BTreeMap::new(),
        }
    }

    /// Runs `start` to its end (or to the host's death) under `schedule`.
    pub fn run(&mut self, start: &Start, schedule: &Schedule) -> Ran {
        let mut ran = Ran {
            outcome: None,
            trace: Vec::new(),
            logs: Vec::new(),
            requests: 0,
            stored: Vec::new(),
            script: Vec::new(),
        };
        let start_json = serde_json::to_vec(start).expect("a start serialises");
        let (mut run, first) = Run::start_json(&start_json).expect("the run starts");
        ran.script.push(start_json);
        ran.script.push(first.clone());
        let mut out: Outputs = serde_json::from_slice(&first).unwrap_or_else(|e| {
            panic!(
                "outputs read back: {e}: {}",
                String::from_utf8_lossy(&first)
            )
        });
        let mut now = 0u64;
        let mut db: VecDeque<(Request, Option<Fault>)> = VecDeque::new();
        let mut http: BinaryHeap<Reverse<(u64, u64, u64)>> = BinaryHeap::new();
        let mut answers: BTreeMap<u64, (Result<Value, String>, Vec<u8>)> = BTreeMap::new();
        let mut sent = 0u64;
        for _ in 0..1_000_000 {
            ran.trace.push(Traced::Outputs(Box::new(out.clone())));
            for request in std::mem::take(&mut out.requests) {
                if let RequestKind::Log {
                    message, fields, ..
                } = &request.kind
                {
                    // As a host prints it: the message and its fields.
                    ran.logs.push(if fields.is_empty() {
                        message.clone()
                    } else {
                        format!("{message} {}", json!(fields))
                    });
                    continue;
                }
                ran.requests += 1;
                if schedule.kill_at == Some(ran.requests) {
                    // The host is gone: its connection, and the lock with it.
                    self.whmcs.locked = false;
                    return ran;
                }
                let fault = schedule
                    .faults
                    .get(&ran.requests)
                    .copied()
                    .or_else(|| self.rule_fault(schedule, &request.kind));
                match &request.kind {
                    RequestKind::Http(call) => {
                        let latency = if schedule.latencies.is_empty() {
                            20
                        } else {
                            schedule.latencies[sent as usize % schedule.latencies.len()]
                        };
                        sent += 1;
                        let (answer, delay) = self.http(call, fault);
                        let due = now + delay.max(latency).min(call.timeout_ms);
                        answers.insert(request.id, answer);
                        http.push(Reverse((due, sent, request.id)));
                    }
                    _ => db.push_back((request, fault)),
                }
            }
            if let Some(outcome) = out.outcome.take() {
                ran.outcome = Some(outcome);
                return ran;
            }
            let (input, body) = if let Some((request, fault)) = db.pop_front() {
                if is_store(&request.kind) {
                    ran.stored.push(request.clone());
                }
                let (answer, body) = self.carry_out(&request, fault);
                (input(now, Some(request.id), answer), body)
            } else {
                let next_http = http.peek().map(|Reverse((due, _, _))| *due);
                let http_first = match (next_http, out.wake_at_ms) {
                    (Some(due), Some(wake)) => due <= wake,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                match (next_http, out.wake_at_ms) {
                    (Some(_), _) if http_first => {
                        let Some(Reverse((due, _, id))) = http.pop() else {
                            unreachable!()
                        };
                        now = now.max(due);
                        let (answer, body) = answers.remove(&id).expect("an answer");
                        (input(now, Some(id), answer), body)
                    }
                    (_, Some(wake)) => {
                        now = now.max(wake);
                        (input(now, None, Ok(Value::Null)), Vec::new())
                    }
                    (_, None) => panic!(
                        "the run stalled: nothing outstanding and no wake-up asked for\n{:#?}",
                        ran.trace.last()
                    ),
                }
            };
            ran.trace.push(Traced::Input(input.clone(), body.clone()));
            let header = serde_json::to_vec(&input).expect("an input serialises");
            ran.script.push(
                serde_json::to_vec(&json!({
                    "input": input,
                    "body": String::from_utf8_lossy(&body),
                }))
                .expect("a line serialises"),
            );
            let next = run
                .handle_json(&header, &body)
                .unwrap_or_else(|e| panic!("the run refused an input: {e}"));
            ran.script.push(next.clone());
            out = serde_json::from_slice(&next).expect("outputs read back");
        }
        panic!("the run did not end in a million steps");
    }

    /// The fault a rule puts on this request, counting each rule's uses.
    fn rule_fault(&mut self, schedule: &Schedule, kind: &RequestKind) -> Option<Fault> {
        let description = describe(kind);
        for (i, rule) in schedule.rules.iter().enumerate() {
            if !description.starts_with(&rule.when) {
                continue;
            }
            let used = self.rules_used.entry(i).or_default();
            if rule.times.is_none_or(|t| *used < t) {
                *used += 1;
                return Some(rule.fault);
            }
        }
        None
    }

    /// An HTTP request's answer (and how long Openprovider takes), under `fault`.
    fn http(
        &mut self,
        call: &opsync_engine::run::Http,
        fault: Option<Fault>,
    ) -> ((Result<Value, String>, Vec<u8>), u64) {
        let path = call
            .url
            .strip_prefix(BASE_URL)
            .unwrap_or_else(|| panic!("a call to {} outside Openprovider", call.url));
        let query = (!call.query.is_empty()).then(|| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &call.query {
                q.append_pair(k, v);
            }
            q.finish()
        });
        let body = call
            .body
            .as_ref()
            .map(|b| serde_json::to_vec(b).expect("a body serialises"))
            .unwrap_or_default();
        let op = &mut self.openprovider;
        let mut undo: Option<fn(&mut Offline)> = None;
        match fault {
            Some(Fault::TimeoutBefore) => return ((Err("timed out".into()), Vec::new()), 0),
            Some(Fault::Business) => {
                let f = op.faults_mut();
                (f.fail_next, f.fail_bare_502, f.fail_empty_body) = (1, false, false);
            }
            Some(Fault::Bare502) => {
                let f = op.faults_mut();
                (f.fail_next, f.fail_bare_502, f.fail_empty_body) = (1, true, false);
            }
            Some(Fault::Empty502) => {
                let f = op.faults_mut();
                (f.fail_next, f.fail_bare_502, f.fail_empty_body) = (1, true, true);
            }
            Some(Fault::Malformed) => op.faults_mut().malformed_next = 1,
            Some(Fault::Truncated) => op.faults_mut().truncated_next = 1,
            Some(Fault::TokenExpired) => op.expire_tokens(),
            Some(Fault::Maintenance) => {
                op.faults_mut().maintenance = true;
                undo = Some(|op| op.faults_mut().maintenance = false);
            }
            Some(Fault::Blocked) => op.block(),
            Some(Fault::RefuseUpdate) => {
                if let Some(id) = path.strip_prefix("/domains/").and_then(|i| i.parse().ok()) {
                    op.faults_mut().refuse_update_ids.push(id);
                }
            }
            Some(Fault::Shift) => {
                let f = op.faults_mut();
                (f.shift_after_list_calls, f.shift_inserts) = (Some(0), true);
            }
            _ => {}
        }
        let answer = op.call(
            &call.method,
            path,
            query.as_deref(),
            call.bearer.as_deref(),
            &body,
        );
        if let Some(undo) = undo {
            undo(op);
        }
        if fault == Some(Fault::TimeoutAfter) {
            return ((Err("timed out".into()), Vec::new()), 0);
        }
        (
            (Ok(json!({ "status": answer.status })), answer.body),
            answer.delay_ms,
        )
    }

    /// A database, file or mail request, carried out at once.
    fn carry_out(
        &mut self,
        request: &Request,
        fault: Option<Fault>,
    ) -> (Result<Value, String>, Vec<u8>) {
        let w = &mut self.whmcs;
        let is_mail = matches!(request.kind, RequestKind::SendReport { .. });
        if fault == Some(Fault::EditedMeanwhile) {
            if let RequestKind::WriteRow { update, .. } = &request.kind {
                if let Some(row) = w.rows.get_mut(&update.guard.id) {
                    row.values
                        .insert("nextinvoicedate".into(), Some("2099-01-01".into()));
                }
            }
        }
        if fault == Some(Fault::DbError) && !is_mail {
            // A lost connection takes its lock with it.
            if matches!(request.kind, RequestKind::Unlock) {
                w.locked = false;
            }
            return (
                Err("lost the connection to the WHMCS database (simulated)".into()),
                Vec::new(),
            );
        }
        let ok = |v: Value| (Ok(v), Vec::new());
        match &request.kind {
            RequestKind::Lock => {
                let got = !w.locked;
                w.locked = true;
                ok(json!({ "locked": got }))
            }
            RequestKind::Unlock => {
                w.locked = false;
                ok(json!({}))
            }
            RequestKind::ReadState => ok(json!({
                "problems": w.problems,
                "still_open_mailed_at": w.still_open_mailed_at,
                "system_url": w.system_url,
            })),
            RequestKind::ReadToken => ok(json!({ "text": self.token_cache })),
            RequestKind::StoreToken { text } => {
                self.token_cache = Some(text.clone());
                ok(json!({}))
            }
            RequestKind::ForgetToken => {
                self.token_cache = None;
                ok(json!({}))
            }
            RequestKind::ReadRows { after, limit } => {
                let after: i64 = after
                    .as_deref()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(i64::MIN);
                let rows: Vec<Value> = w
                    .rows
                    .iter()
                    .filter(|(id, r)| (**id as i64) > after && ours(r))
                    .take(*limit as usize)
                    .map(|(id, r)| row_json(*id, r))
                    .collect();
                (Ok(json!({})), serde_json::to_vec(&rows).unwrap_or_default())
            }
            RequestKind::ReadBatch {
                limit,
                synced_before,
            } => {
                let mut ids: Vec<(bool, String, u64)> = w
                    .rows
                    .iter()
                    .filter(|(_, r)| ours(r))
                    .filter(|(id, _)| match (w.cursor.get(id), synced_before) {
                        (Some(last), Some(before)) => last < before,
                        _ => true,
                    })
                    .map(|(id, _)| {
                        let last = w.cursor.get(id);
                        (last.is_some(), last.cloned().unwrap_or_default(), *id)
                    })
                    .collect();
                ids.sort();
                let rows: Vec<Value> = ids
                    .iter()
                    .take(*limit as usize)
                    .map(|(_, _, id)| row_json(*id, &w.rows[id]))
                    .collect();
                (Ok(json!({})), serde_json::to_vec(&rows).unwrap_or_default())
            }
            RequestKind::ReadNames { after, limit } => {
                let after: i64 = after
                    .as_deref()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(i64::MIN);
                let names: Vec<Value> = w
                    .rows
                    .iter()
                    .filter(|(id, r)| (**id as i64) > after && ours(r))
                    .take(*limit as usize)
                    .map(|(id, r)| json!([id.to_string(), r.get("domain")]))
                    .collect();
                (
                    Ok(json!({})),
                    serde_json::to_vec(&names).unwrap_or_default(),
                )
            }
            RequestKind::ReadRowsById { ids } => {
                let rows: Vec<Value> = ids
                    .iter()
                    .filter_map(|id| w.rows.get(id).filter(|r| ours(r)).map(|r| row_json(*id, r)))
                    .collect();
                (Ok(json!({})), serde_json::to_vec(&rows).unwrap_or_default())
            }
            RequestKind::ReadRow { row: id } => {
                let rows: Vec<Value> = w
                    .rows
                    .get(id)
                    .map(|r| row_json(*id, r))
                    .into_iter()
                    .collect();
                (Ok(json!({})), serde_json::to_vec(&rows).unwrap_or_default())
            }
            RequestKind::WriteRow {
                update,
                activity,
                userid,
                date,
            } => {
                let Some(row) = w.rows.get_mut(&update.guard.id) else {
                    return ok(json!({ "written": false }));
                };
                let holds = update.guard.columns.iter().all(|(column, old)| {
                    let now = row.values.get(column).cloned().flatten();
                    match old {
                        Value::Null => now.is_none(),
                        Value::String(s) => now.as_deref() == Some(s.as_str()),
                        other => now.as_deref() == Some(other.to_string().as_str()),
                    }
                });
                if !holds {
                    return ok(json!({ "written": false }));
                }
                for (column, value) in &update.set {
                    let text = match value {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    };
                    row.values.insert(column.clone(), text);
                }
                for line in activity {
                    w.activity.push(Activity {
                        line: line.clone(),
                        userid: *userid,
                        date: date.clone(),
                    });
                }
                ok(json!({ "written": true }))
            }
            RequestKind::WriteActivity {
                userid,
                lines,
                date,
            } => {
                for line in lines {
                    w.activity.push(Activity {
                        line: line.clone(),
                        userid: *userid,
                        date: date.clone(),
                    });
                }
                ok(json!({}))
            }
            RequestKind::MarkSynced { ids, date } => {
                for id in ids {
                    w.cursor.insert(*id, date.clone());
                }
                ok(json!({}))
            }
            RequestKind::StoreMemory {
                open_problems,
                still_open_mailed_at,
            } => {
                w.problems = open_problems
                    .iter()
                    .map(|p| {
                        [
                            p.whmcs_id.to_string(),
                            p.code.as_str().to_string(),
                            p.domain.clone(),
                            p.first_seen.clone(),
                            p.last_seen.clone(),
                            p.runs_seen.to_string(),
                        ]
                    })
                    .collect();
                w.still_open_mailed_at = still_open_mailed_at.clone();
                ok(json!({}))
            }
            RequestKind::RecordRun(row) => {
                w.runs.push(row.clone());
                ok(json!({}))
            }
            RequestKind::SendReport {
                subject,
                text,
                html,
                ..
            } => {
                if fault == Some(Fault::MailRefused) {
                    return (
                        Err("the mail server refused the report (simulated)".into()),
                        Vec::new(),
                    );
                }
                self.mail.push(Mail {
                    subject: subject.clone(),
                    text: text.clone(),
                    html: html.clone(),
                });
                ok(json!({ "sent": 1 }))
            }
            RequestKind::Http(_) | RequestKind::Log { .. } => {
                unreachable!("not a database request")
            }
        }
    }
}

/// Whether a request writes to one of opsync's stores (the law on secrets reads them).
fn is_store(kind: &RequestKind) -> bool {
    matches!(
        kind,
        RequestKind::WriteRow { .. }
            | RequestKind::WriteActivity { .. }
            | RequestKind::MarkSynced { .. }
            | RequestKind::StoreMemory { .. }
            | RequestKind::RecordRun(_)
            | RequestKind::SendReport { .. }
            | RequestKind::StoreToken { .. }
    )
}

fn input(now_ms: u64, id: Option<u64>, answer: Result<Value, String>) -> Input {
    let (ok, error) = match (id, answer) {
        (None, _) => (None, None),
        (Some(_), Ok(v)) => (Some(v), None),
        (Some(_), Err(e)) => (None, Some(e)),
    };
    Input {
        now_ms,
        id,
        ok,
        error,
        body: None,
    }
}

fn ours(row: &Row) -> bool {
    row.registrar.eq_ignore_ascii_case("openprovider")
}

/// A row as a host reads it: `[userid, id, domain, status, ...]`, text or null.
fn row_json(id: u64, row: &Row) -> Value {
    let mut values = vec![
        Value::from(row.userid.to_string()),
        Value::from(id.to_string()),
    ];
    for column in COLUMNS {
        values.push(
            row.values
                .get(column)
                .cloned()
                .flatten()
                .map_or(Value::Null, Value::from),
        );
    }
    Value::Array(values)
}

/// A run scenario as written by hand: `fixtures/runs/<name>.world.json`. `make bless` runs
/// it in the simulated world and writes `<name>.run.jsonl`, the script every face of the
/// engine replays byte for byte.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// What the scenario shows.
    pub about: String,
    pub start: Start,
    pub whmcs: WhmcsDefinition,
    /// Openprovider's account: domain objects as the API returns them.
    pub openprovider: Vec<Value>,
    #[serde(default)]
    pub token_cache: Option<String>,
    #[serde(default)]
    pub schedule: Schedule,
    /// The account's password at Openprovider, when it is not the one the run starts with.
    #[serde(default)]
    pub account_password: Option<String>,
}

/// WHMCS's tables at the start.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WhmcsDefinition {
    pub rows: Vec<RowDefinition>,
    pub system_url: Option<String>,
    pub problems: Vec<[String; 6]>,
    pub still_open_mailed_at: Option<String>,
    pub cursor: BTreeMap<u64, String>,
    /// Another run holds the lock.
    pub locked: bool,
}

/// A `tbldomains` row, every column as text.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowDefinition {
    pub id: u64,
    #[serde(default = "one")]
    pub userid: u64,
    #[serde(default = "openprovider")]
    pub registrar: String,
    pub domain: Option<String>,
    pub status: Option<String>,
    pub expirydate: Option<String>,
    pub nextduedate: Option<String>,
    pub nextinvoicedate: Option<String>,
    pub donotrenew: Option<String>,
    pub idprotection: Option<String>,
}

fn one() -> u64 {
    1
}

fn openprovider() -> String {
    "openprovider".into()
}

impl Definition {
    /// The world the scenario starts in.
    pub fn world(&self) -> World {
        let mut whmcs = Whmcs {
            system_url: self.whmcs.system_url.clone(),
            problems: self.whmcs.problems.clone(),
            still_open_mailed_at: self.whmcs.still_open_mailed_at.clone(),
            cursor: self.whmcs.cursor.clone(),
            locked: self.whmcs.locked,
            ..Whmcs::default()
        };
        for r in &self.whmcs.rows {
            let mut values = BTreeMap::new();
            for (column, value) in [
                ("domain", &r.domain),
                ("status", &r.status),
                ("expirydate", &r.expirydate),
                ("nextduedate", &r.nextduedate),
                ("nextinvoicedate", &r.nextinvoicedate),
                ("donotrenew", &r.donotrenew),
                ("idprotection", &r.idprotection),
            ] {
                values.insert(column.to_string(), value.clone());
            }
            values.insert("reminders".into(), Some(String::new()));
            whmcs.rows.insert(
                r.id,
                Row {
                    userid: r.userid,
                    registrar: r.registrar.clone(),
                    values,
                },
            );
        }
        let password = self.account_password.clone().unwrap_or_else(|| {
            self.start.settings["api"]["password"]
                .as_str()
                .unwrap_or("demo-password")
                .to_string()
        });
        let username = self.start.settings["api"]["username"]
            .as_str()
            .unwrap_or("opsync-demo")
            .to_string();
        let mut seed = Seed::new(self.openprovider.clone());
        seed.username = username;
        seed.password = password;
        let mut world = World::new(whmcs, &seed);
        world.token_cache = self.token_cache.clone();
        world
    }
}

/// `fixtures/runs/`.
pub fn runs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/runs")
}

/// Every run scenario's name and definition, by name.
pub fn definitions() -> Vec<(String, Definition)> {
    let mut all: Vec<(String, Definition)> = std::fs::read_dir(runs_dir())
        .map(|entries| {
            entries
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    let name = path
                        .file_name()?
                        .to_str()?
                        .strip_suffix(".world.json")?
                        .to_string();
                    let text = std::fs::read(&path).ok()?;
                    let def = serde_json::from_slice(&text)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    Some((name, def))
                })
                .collect()
        })
        .unwrap_or_default();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// A recorded run: the start's bytes, the outputs expected after it, then each input (the
/// header's and the body's bytes) with the outputs expected after it.
pub struct Script {
    pub name: String,
    pub start: Vec<u8>,
    pub first: Vec<u8>,
    pub steps: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

impl Script {
    /// Replays the script through one face: `start` takes the start's bytes and answers
    /// the face's run and its first outputs, `feed` one input's header and body; every
    /// outputs must be the recorded bytes.
    pub fn replay<R, E: std::fmt::Display>(
        &self,
        start: impl FnOnce(&[u8]) -> Result<(R, Vec<u8>), E>,
        mut feed: impl FnMut(&mut R, &[u8], &[u8]) -> Result<Vec<u8>, E>,
    ) {
        let name = &self.name;
        let (mut run, first) =
            start(&self.start).unwrap_or_else(|e| panic!("{name}: the start: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&first),
            String::from_utf8_lossy(&self.first),
            "{name}: the first outputs"
        );
        for (i, (header, body, expected)) in self.steps.iter().enumerate() {
            let out = feed(&mut run, header, body)
                .unwrap_or_else(|e| panic!("{name} step {}: {e}", i + 1));
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(expected),
                "{name} step {}",
                i + 1
            );
        }
    }
}

/// Every recorded run scenario (`<name>.run.jsonl`), by name.
pub fn scripts() -> Vec<Script> {
    definitions()
        .into_iter()
        .map(|(name, _)| {
            let path = runs_dir().join(format!("{name}.run.jsonl"));
            let text = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run `make bless`)", path.display()));
            let lines: Vec<&[u8]> = text
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            assert!(
                lines.len() >= 2 && lines.len().is_multiple_of(2),
                "{}: a start, outputs, then inputs and outputs in pairs",
                path.display()
            );
            let steps = lines[2..]
                .chunks(2)
                .map(|pair| {
                    let line: Value =
                        serde_json::from_slice(pair[0]).expect("an input line is JSON");
                    let header = serde_json::to_vec(&line["input"]).expect("a header");
                    let body = line["body"].as_str().unwrap_or("").as_bytes().to_vec();
                    (header, body, pair[1].to_vec())
                })
                .collect();
            Script {
                name,
                start: lines[0].to_vec(),
                first: lines[1].to_vec(),
                steps,
            }
        })
        .collect()
}

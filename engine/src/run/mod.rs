//! # The run, sans I/O
//!
//! One sync run as a deterministic state machine: it reads no clock, opens no socket,
//! touches no file. A host starts it with its facts ([`Start`]: the settings as it read
//! them, the time, the mode), carries out the [`Request`]s it hands out (lock the run,
//! read rows, an Openprovider call spelled out whole, write one row, mail the report, ...)
//! and feeds back what happened ([`Input`]: the time and one answer), until the run hands
//! out its [`RunOutcome`]. Several requests may be outstanding at once; answers may come
//! back in any order. A host's whole loop:
//!
//! ```text
//! let mut out = Run::start(start)?;                 // or start_json, on every face
//! loop {
//!     for request in out.requests { carry_out(request) }   // HTTP at once, database in order
//!     if let Some(outcome) = out.outcome { break outcome }
//!     let input = next_answer_or(out.wake_at_ms);            // whichever comes first
//!     out = run.handle(input, body)?;
//! }
//! ```
//!
//! Every judgement of a run lives here, once: the settings' reading ([`settings`]), the
//! read strategy and whether a listing is complete (`listing`), which names are looked up
//! among deleted domains, leaving a row or record the engine cannot take out (`rows`,
//! `listing`), Openprovider's protocol (`api`: retries, one re-login on 196, a full stop
//! on 10005), when the cursor moves and what is remembered, the exit status and the
//! words of the outcome (`outcome`). The hosts only carry requests out and say what
//! happened.
//!
//! The run's steps: lock -> read WHMCS (with opsync's memory and the cached session) ->
//! read Openprovider (the listing, or look-ups by name; then the missing names among the
//! deleted) -> decide -> apply Openprovider (each accepted update's activity lines at
//! once) -> apply WHMCS (one row per request) -> cursor -> report -> mail -> remember ->
//! record -> unlock.

mod api;
mod clock;
mod listing;
mod outcome;
mod probe;
mod protocol;
mod rows;
pub mod settings;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use serde_json::{json, Value};

pub use probe::CheckLine;
pub use protocol::{
    ApiStats, HistoryRow, Http, Input, Level, Lookup, Mailed, Mode, Options, Outputs, ReportShown,
    Request, RequestKind, RunOutcome, Start, StepTime, PROTOCOL,
};
pub use settings::{Settings, SettingsError, Shown};

use crate::changes::{Response, Summary};
use crate::contract::{LookupError, LookupKind};
use crate::notice::Notice;
use crate::report::{Failure, Links, OpenProblem, ReportInput, RowClient, Side, Tracking};
use crate::snapshot::RequestError;

use api::{Api, ApiError, Call};
use clock::{Jitter, Steps};
use listing::{Page, Read};
use outcome::{EXIT_LOCKED, EXIT_NOT_COMPLETED, EXIT_OK};
use rows::Rows;

/// The requests a step hands out, each with the next id.
pub(crate) struct Outbox {
    next_id: u64,
    requests: Vec<Request>,
}

impl Outbox {
    pub(crate) fn send(&mut self, kind: RequestKind) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.requests.push(Request { id, kind });
        id
    }

    pub(crate) fn log(&mut self, level: Level, message: String) {
        self.log_with(level, message, BTreeMap::new());
    }

    pub(crate) fn log_with(
        &mut self,
        level: Level,
        message: String,
        fields: BTreeMap<String, Value>,
    ) {
        self.send(RequestKind::Log {
            level,
            message,
            fields,
        });
    }
}

/// What a request's answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Lock,
    State,
    Token,
    Rows,
    Row,
    Names,
    Mates,
    WriteRow(usize),
    Activity,
    Cursor,
    Mail,
    Memory,
    Record,
    Unlock,
    /// Token-cache writes: their failure costs the cache, never the run.
    TokenStore,
}

/// What an API call is for.
#[derive(Debug, Clone)]
enum Purpose {
    /// A page of the listing, at this offset.
    Page(usize),
    /// A look-up by these names.
    Names(Vec<String>),
    /// A look-up of these names among the deleted domains.
    Deleted(Vec<String>),
    /// The update of this result.
    Update(usize),
    /// One of `opsync check`'s probes.
    Probe(probe::Ask),
}

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Locking,
    ReadingWhmcs,
    Listing,
    LookingUp,
    Deleted,
    UpdatingOpenprovider,
    WritingWhmcs,
    Cursor,
    Probing,
    Reporting,
    Mailing,
    Remembering,
    Recording,
    Unlocking,
    Over,
}

/// What opsync remembers between runs, as read.
#[derive(Debug, Default)]
struct Memory {
    read: bool,
    problems: Vec<OpenProblem>,
    still_open_mailed_at: Option<String>,
    system_url: Option<String>,
}

/// One sync run (see the module's documentation).
pub struct Run {
    host: String,
    /// What the host found broken in its setup: the report's `setup_problem`s.
    host_problems: Vec<String>,
    mode: Mode,
    options: Options,
    started: NaiveDateTime,
    start_text: String,
    settings: Settings,
    now_ms: u64,
    out: Outbox,
    waiting: BTreeMap<u64, Wait>,
    api: Api,
    calls: BTreeMap<u64, Purpose>,
    stage: Stage,
    rows: Rows,
    read: Read,
    pages: Vec<Page>,
    total: usize,
    /// The names a look-up by name did not find.
    not_found: BTreeSet<String>,
    /// Whether the bulk listing's pages made one consistent listing.
    listing_complete: bool,
    response: Option<Response>,
    failures: Vec<Failure>,
    steps: Steps,
    memory: Memory,
    locked: bool,
    /// Rows outside a batch that share a name with it, to read with it.
    mates: Vec<u64>,
    /// WHMCS writes still to come (result indexes), in order.
    writes: Vec<usize>,
    report: Option<crate::report::Report>,
    mail: Mailed,
    mailed_to: u64,
    mail_error: Option<String>,
    fatal: Option<String>,
    /// The registrar modes' row, when found.
    answer_row: Option<crate::contract::WhmcsRow>,
    /// Mode `check`: the probes' answers, the names sampled, the lines so far.
    probed: BTreeMap<probe::Ask, Result<String, ApiError>>,
    probes: std::collections::VecDeque<(probe::Ask, Vec<(String, String)>)>,
    sample: Vec<String>,
    two: Vec<String>,
    checks: Vec<CheckLine>,
    outcome: Option<RunOutcome>,
    over: bool,
}

impl Run {
    /// Starts a run from the host's facts; the first requests come with it. A start that
    /// is no start at all fails; settings that cannot be used end the run at once
    /// (exit status 5, the line naming the setting).
    pub fn start(start: Start) -> Result<(Run, Outputs), RequestError> {
        if start.protocol != PROTOCOL {
            return Err(RequestError::new(
                "start.protocol",
                format!(
                    "this engine speaks run protocol {PROTOCOL}, not {}",
                    start.protocol
                ),
            ));
        }
        let started = clock::parse(&start.now).ok_or_else(|| {
            RequestError::new(
                "start.now",
                format!(
                    "expected the local time as YYYY-MM-DD HH:MM:SS, not {:?}",
                    start.now
                ),
            )
        })?;
        if start.mode.registrar() && start.options.domain_id.is_none() {
            return Err(RequestError::new(
                "start.options.domain_id",
                "missing: WHMCS asks about one domain",
            ));
        }
        let (settings, problem) = match settings::read(&start.settings, &start.options) {
            Ok(s) => (s, None),
            Err(e) => (Settings::unusable(), Some(e.0)),
        };
        let api = Api::new(
            &settings.api_url,
            &settings.username,
            &settings.password,
            settings.concurrency,
            settings.timeout_ms,
            start.epoch_seconds,
            Jitter::new(start.seed),
        );
        let mut run = Run {
            host: start.host,
            host_problems: start.host_problems,
            mode: start.mode,
            options: start.options,
            started,
            start_text: start.now,
            settings,
            now_ms: 0,
            out: Outbox {
                next_id: 1,
                requests: Vec::new(),
            },
            waiting: BTreeMap::new(),
            api,
            calls: BTreeMap::new(),
            stage: Stage::Locking,
            rows: Rows::default(),
            read: Read::default(),
            pages: Vec::new(),
            total: 0,
            not_found: BTreeSet::new(),
            listing_complete: false,
            response: None,
            failures: Vec::new(),
            steps: Steps::default(),
            memory: Memory::default(),
            locked: false,
            mates: Vec::new(),
            writes: Vec::new(),
            report: None,
            mail: Mailed::NotSent,
            mailed_to: 0,
            mail_error: None,
            fatal: None,
            answer_row: None,
            probed: BTreeMap::new(),
            probes: std::collections::VecDeque::new(),
            sample: Vec::new(),
            two: Vec::new(),
            checks: Vec::new(),
            outcome: None,
            over: false,
        };
        match problem {
            Some(problem) => run.fail(problem),
            None => run.begin(),
        }
        let outputs = run.outputs();
        Ok((run, outputs))
    }

    /// [`Run::start`] on JSON: a start in, the first outputs out.
    pub fn start_json(start: &[u8]) -> Result<(Run, Vec<u8>), RequestError> {
        let start: Start = serde_json::from_slice(start)
            .map_err(|e| RequestError::new("start", format!("not a run's start ({e})")))?;
        let (run, outputs) = Run::start(start)?;
        Ok((run, outputs.to_json()))
    }

    /// [`Run::handle`] on JSON: an input's header and the answer's bytes in, the outputs
    /// out. A face that passes only JSON puts the bytes in the header's `body`.
    pub fn handle_json(&mut self, header: &[u8], body: &[u8]) -> Result<Vec<u8>, RequestError> {
        let input: Input = serde_json::from_slice(header)
            .map_err(|e| RequestError::new("input", format!("not a run's input ({e})")))?;
        Ok(self.handle(input, body)?.to_json())
    }

    /// The time, and one answer (or none: a wake-up). `body` is the answer's bytes (an
    /// HTTP answer's body, the rows of a read); `input.body` stands for it when given.
    pub fn handle(&mut self, input: Input, body: &[u8]) -> Result<Outputs, RequestError> {
        if self.over {
            return Err(RequestError::new("input", "the run is over"));
        }
        let body = match &input.body {
            Some(text) => text.as_bytes(),
            None => body,
        };
        let answer = match (input.id, &input.ok, &input.error) {
            (None, None, None) => None,
            (Some(id), Some(ok), None) => Some((id, Ok(ok))),
            (Some(id), None, Some(error)) => Some((id, Err(error.as_str()))),
            (None, _, _) => {
                return Err(RequestError::new(
                    "input.id",
                    "an answer needs the request's id",
                ))
            }
            (Some(_), _, _) => {
                return Err(RequestError::new(
                    "input",
                    "an answer holds exactly one of ok and error",
                ))
            }
        };
        if let Some((id, _)) = answer {
            if !self.waiting.contains_key(&id) && !self.api.owns(id) && id >= self.out.next_id {
                return Err(RequestError::new(
                    "input.id",
                    format!("no request {id} was handed out"),
                ));
            }
        }
        self.now_ms = self.now_ms.max(input.now_ms);
        match answer {
            None => self.api.tick(self.now_ms),
            Some((id, answer)) => self.answered(id, answer, body),
        }
        self.settle();
        if let Some(deadline) = self.options.deadline_ms {
            if self.now_ms >= deadline && self.fatal.is_none() && self.outcome.is_none() {
                self.fail(format!(
                    "the run reached its time limit ({}) before it finished; nothing after that \
                     point was done",
                    clock::seconds(deadline)
                ));
                self.settle();
            }
        }
        Ok(self.outputs())
    }

    /// The settings as the run read them.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn outputs(&mut self) -> Outputs {
        // The API's token-cache writes: their answers are awaited too.
        for r in &self.out.requests {
            if matches!(
                r.kind,
                RequestKind::StoreToken { .. } | RequestKind::ForgetToken
            ) && !self.over
                && self.outcome.is_none()
            {
                self.waiting.insert(r.id, Wait::TokenStore);
            }
        }
        let outcome = self.outcome.take();
        if outcome.is_some() {
            self.over = true;
        }
        Outputs {
            requests: std::mem::take(&mut self.out.requests),
            wake_at_ms: if outcome.is_some() {
                None
            } else {
                // A time limit wakes the run too, if no answer comes first.
                let deadline = self.options.deadline_ms.filter(|_| self.fatal.is_none());
                match (self.api.wake_at(), deadline) {
                    (Some(a), Some(d)) => Some(a.min(d)),
                    (a, d) => a.or(d),
                }
            },
            outcome,
        }
    }

    fn ask(&mut self, kind: RequestKind, wait: Wait) -> u64 {
        let id = self.out.send(kind);
        self.waiting.insert(id, wait);
        id
    }

    fn log(&mut self, level: Level, message: impl Into<String>) {
        self.out.log(level, message.into());
    }

    fn step(&mut self, step: &'static str, progress: &str) {
        if let Some(done) = self.steps.start(step, self.now_ms) {
            self.step_logged(done);
        }
        self.log(Level::Info, progress);
    }

    fn step_logged(&mut self, done: StepTime) {
        let mut fields = BTreeMap::new();
        fields.insert("step".into(), Value::from(done.step.clone()));
        fields.insert(
            "seconds".into(),
            Value::from(format!("{:.3}", done.seconds)),
        );
        self.out
            .log_with(Level::Debug, format!("step {} done", done.step), fields);
    }

    /// The local time now, as WHMCS writes it.
    fn local_now(&self) -> String {
        clock::local(self.started, self.now_ms)
    }

    fn begin(&mut self) {
        if self.mode == Mode::Check {
            self.stage = Stage::ReadingWhmcs;
            self.ask(RequestKind::ReadToken, Wait::Token);
            self.ask(
                RequestKind::ReadRows {
                    after: None,
                    limit: 500,
                },
                Wait::Rows,
            );
            return;
        }
        if self.mode.registrar() {
            self.stage = Stage::ReadingWhmcs;
            self.ask(RequestKind::ReadToken, Wait::Token);
            let id = self.options.domain_id.unwrap_or(0);
            self.ask(RequestKind::ReadRow { row: id }, Wait::Row);
            return;
        }
        self.step("lock", "taking the run lock");
        self.ask(RequestKind::Lock, Wait::Lock);
    }

    fn answered(&mut self, id: u64, answer: Result<&Value, &str>, body: &[u8]) {
        if self.api.owns(id) {
            let status = answer.map(|ok| {
                ok.get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(0)
            });
            let http = status.map(|s| (s, body));
            self.api.answered(id, self.now_ms, http, &mut self.out);
            return;
        }
        let Some(wait) = self.waiting.remove(&id) else {
            // The answer to a request the run no longer waits for (it failed meanwhile).
            return;
        };
        let ok = match answer {
            Ok(ok) => ok,
            Err(error) => return self.refused(wait, error),
        };
        match wait {
            Wait::Lock => {
                if ok.get("locked").and_then(Value::as_bool) == Some(true) {
                    self.locked = true;
                    self.begin_reading();
                } else {
                    self.end(RunOutcome {
                        exit_status: EXIT_LOCKED,
                        mode: "locked".into(),
                        lines: vec![
                            "another opsync sync is running against this WHMCS database; this run did nothing"
                                .into(),
                        ],
                        ..self.bare_outcome()
                    });
                }
            }
            Wait::State => self.state_read(ok),
            Wait::Token => {
                let text = ok.get("text").and_then(Value::as_str);
                let problem = ok.get("problem").and_then(Value::as_str);
                self.api.token_read(text, problem, &mut self.out);
            }
            Wait::Rows => self.rows_read(body),
            Wait::Names => self.names_read(body),
            Wait::Mates => {
                if let Err(e) = self.rows.add(body, &mut self.failures) {
                    return self.fail(e);
                }
                if !self.waits_for(Wait::Mates) {
                    self.rows_done();
                }
            }
            Wait::Row => self.row_read(body),
            Wait::WriteRow(index) => {
                if ok.get("written").and_then(Value::as_bool) != Some(true) {
                    let result = self.result(index);
                    self.failures.push(Failure {
                        whmcs_id: result.0,
                        domain: result.1,
                        side: Side::Whmcs,
                        message: "the row changed in WHMCS after opsync read it; left as it is"
                            .into(),
                    });
                }
                self.write_next();
            }
            Wait::Mail => {
                if ok.get("not_configured").and_then(Value::as_bool) == Some(true) {
                    self.mail = Mailed::NotConfigured;
                } else {
                    self.mail = Mailed::Sent;
                    self.mailed_to = ok.get("sent").and_then(Value::as_u64).unwrap_or(0);
                }
                self.remember();
            }
            Wait::Activity | Wait::TokenStore => {}
            Wait::Cursor => self.begin_report(),
            Wait::Memory => self.record(),
            Wait::Record => self.unlock(),
            Wait::Unlock => self.finish(),
        }
    }

    /// A request that could not be carried out.
    fn refused(&mut self, wait: Wait, error: &str) {
        match wait {
            Wait::TokenStore => self.log(
                Level::Warn,
                format!("cannot keep the Openprovider session for the next run: {error}"),
            ),
            Wait::Token => {
                self.log(
                    Level::Warn,
                    format!("cannot read the cached Openprovider session: {error}"),
                );
                self.api.token_read(None, None, &mut self.out);
            }
            Wait::Mail => {
                self.mail = Mailed::Failed;
                self.mail_error = Some(error.to_string());
                self.remember();
            }
            // `opsync check` looks at Openprovider even when WHMCS cannot be read.
            Wait::Rows if self.mode == Mode::Check => self.begin_probe(),
            // Failing already: what is left is to let the lock go and end.
            Wait::Record if self.fatal.is_some() => self.unlock(),
            Wait::Unlock => self.finish(),
            Wait::Lock => {
                self.end(RunOutcome {
                    exit_status: EXIT_NOT_COMPLETED,
                    mode: "failed".into(),
                    lines: vec![error.to_string()],
                    ..self.bare_outcome()
                });
            }
            _ => self.fail(error.to_string()),
        }
    }

    /// After each answer: what the API has finished, then whatever comes next, until
    /// nothing moves.
    fn settle(&mut self) {
        loop {
            while let Some((call, result)) = self.api.take_done() {
                if let Some(purpose) = self.calls.remove(&call) {
                    self.call_done(purpose, result);
                }
            }
            loop {
                let before = self.stage;
                if self.fatal.is_some() || self.over || self.outcome.is_some() {
                    break;
                }
                self.advance();
                if self.stage == before {
                    break;
                }
            }
            self.api.pump(self.now_ms, &mut self.out);
            // Calls the pump ended at once (a block, a refused login) are over too.
            if !self.api.has_done() {
                break;
            }
        }
    }

    /// Moves on when the current stage is complete.
    fn advance(&mut self) {
        let calls_left = !self.calls.is_empty();
        match self.stage {
            Stage::Listing if !calls_left => self.listing_read(),
            Stage::LookingUp if !calls_left => self.begin_deleted(),
            Stage::Deleted if !calls_left => self.deleted_read(),
            Stage::UpdatingOpenprovider if !calls_left && !self.waits_for(Wait::Activity) => {
                self.begin_whmcs_writes()
            }
            Stage::Reporting if self.memory.read => self.report(),
            Stage::Probing if !calls_left => self.probed(),
            _ => {}
        }
    }

    fn waits_for(&self, wait: Wait) -> bool {
        self.waiting.values().any(|w| *w == wait)
    }

    fn begin_reading(&mut self) {
        self.stage = Stage::ReadingWhmcs;
        self.step("read_whmcs", "reading WHMCS");
        self.ask(RequestKind::ReadState, Wait::State);
        self.ask(RequestKind::ReadToken, Wait::Token);
        match self.settings.batch {
            Some(limit) => {
                let synced_before = (self.settings.min_age_hours > 0).then(|| {
                    clock::hours_before(self.started, self.settings.min_age_hours, self.now_ms)
                });
                self.ask(
                    RequestKind::ReadBatch {
                        limit,
                        synced_before,
                    },
                    Wait::Rows,
                )
            }
            None => self.ask(
                RequestKind::ReadRows {
                    after: None,
                    limit: rows::ROWS_PER_READ,
                },
                Wait::Rows,
            ),
        };
    }

    fn state_read(&mut self, ok: &Value) {
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        };
        let mut problems = Vec::new();
        for row in ok
            .get("problems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(cols) = row.as_array().filter(|c| c.len() == 6) else {
                continue;
            };
            let cols: Vec<String> = cols.iter().map(|c| text(c).unwrap_or_default()).collect();
            // A code this engine does not know (written by a newer one) is left out.
            let (Ok(whmcs_id), Ok(code)) = (
                cols[0].parse::<u64>(),
                serde_json::from_value(Value::String(cols[1].clone())),
            ) else {
                continue;
            };
            problems.push(OpenProblem {
                whmcs_id,
                code,
                domain: cols[2].clone(),
                first_seen: cols[3].clone(),
                last_seen: cols[4].clone(),
                runs_seen: cols[5].parse().unwrap_or(1),
            });
        }
        self.memory = Memory {
            read: true,
            problems,
            still_open_mailed_at: ok.get("still_open_mailed_at").and_then(text),
            system_url: ok
                .get("system_url")
                .and_then(text)
                .filter(|u| !u.trim().is_empty()),
        };
    }

    fn rows_read(&mut self, body: &[u8]) {
        let batch = match self.rows.add(body, &mut self.failures) {
            Ok(batch) => batch,
            Err(e) => return self.fail(e),
        };
        if self.mode == Mode::Check {
            return self.begin_probe();
        }
        if self.settings.batch.is_none() && batch.count as u64 >= rows::ROWS_PER_READ {
            self.ask(
                RequestKind::ReadRows {
                    after: batch.last_id,
                    limit: rows::ROWS_PER_READ,
                },
                Wait::Rows,
            );
            return;
        }
        if self.settings.batch.is_some() && !self.rows.rows.is_empty() {
            // A batch judges a duplicate name with every row of that name.
            self.ask(
                RequestKind::ReadNames {
                    after: None,
                    limit: rows::NAMES_PER_READ,
                },
                Wait::Names,
            );
            return;
        }
        self.rows_done();
    }

    /// A page of names: the rows outside the batch that share a name with it.
    fn names_read(&mut self, body: &[u8]) {
        let (mates, count, last) = match self.rows.mates(body) {
            Ok(found) => found,
            Err(e) => return self.fail(e),
        };
        self.mates.extend(mates);
        if count as u64 >= rows::NAMES_PER_READ {
            self.ask(
                RequestKind::ReadNames {
                    after: last,
                    limit: rows::NAMES_PER_READ,
                },
                Wait::Names,
            );
            return;
        }
        let mates = std::mem::take(&mut self.mates);
        if mates.is_empty() {
            return self.rows_done();
        }
        self.log(
            Level::Info,
            format!(
                "{} rows outside the batch share a name with it: read with it",
                mates.len()
            ),
        );
        for ids in mates.chunks(rows::IDS_PER_READ) {
            self.ask(RequestKind::ReadRowsById { ids: ids.to_vec() }, Wait::Mates);
        }
    }

    /// Every row of the run is read.
    fn rows_done(&mut self) {
        for f in self.failures.clone() {
            self.log(Level::Warn, f.message);
        }
        let n = self.rows.rows.len();
        self.log(Level::Info, format!("read {n} WHMCS rows"));
        self.begin_openprovider();
    }

    fn begin_openprovider(&mut self) {
        let n = self.rows.rows.len();
        self.step(
            "read_openprovider",
            &format!("reading Openprovider for {n} WHMCS rows"),
        );
        let by_name = match self.options.lookup {
            Lookup::Auto => self.settings.batch.is_some() && n < listing::LOOKUP_BELOW,
            Lookup::Bulk => false,
            Lookup::PerDomain => true,
        };
        if by_name {
            self.stage = Stage::LookingUp;
            let size = if self.options.lookup == Lookup::PerDomain {
                1
            } else {
                listing::NAMES_PER_LOOKUP
            };
            let names = self.rows.names();
            for chunk in names.chunks(size) {
                self.lookup(chunk.to_vec(), false);
            }
        } else {
            self.stage = Stage::Listing;
            self.read.complete = true;
            self.list_page(0);
        }
    }

    fn list_page(&mut self, offset: usize) {
        let call = self
            .api
            .call(Call::get("/domains", listing::page_query(offset)));
        self.calls.insert(call, Purpose::Page(offset));
    }

    fn lookup(&mut self, names: Vec<String>, deleted: bool) {
        let call = self
            .api
            .call(Call::get("/domains", listing::names_query(&names, deleted)));
        let purpose = if deleted {
            Purpose::Deleted(names)
        } else {
            Purpose::Names(names)
        };
        self.calls.insert(call, purpose);
    }

    fn call_done(&mut self, purpose: Purpose, result: Result<String, ApiError>) {
        if self.fatal.is_some() {
            return;
        }
        match purpose {
            Purpose::Page(offset) => {
                let page = result
                    .map_err(|e| e.to_string())
                    .and_then(|data| listing::page_of(&data).map_err(unreadable));
                match page {
                    Ok((domains, total)) => {
                        if offset == 0 {
                            self.total = total;
                            let mut next = listing::PAGE_SIZE;
                            while next < total {
                                self.list_page(next);
                                next += listing::PAGE_SIZE;
                            }
                        }
                        self.pages.push(Page {
                            offset,
                            domains,
                            total,
                        });
                    }
                    Err(e) => self.fail(e),
                }
            }
            Purpose::Names(names) => match result {
                Ok(data) => match listing::page_of(&data) {
                    Ok((domains, _)) => {
                        let found: BTreeSet<String> =
                            domains.iter().filter_map(|d| listing::name_of(d)).collect();
                        for name in names.into_iter().filter(|n| !found.contains(n)) {
                            self.not_found.insert(name.clone());
                            self.read.lookup_errors.push(LookupError {
                                domain: name,
                                kind: LookupKind::NotFound,
                                message: "Openprovider does not list this domain in the account"
                                    .into(),
                            });
                        }
                        let mut problems = Vec::new();
                        self.read.add(domains, &mut problems);
                        for p in problems {
                            self.log(Level::Warn, p);
                        }
                    }
                    Err(e) => self.fail(unreadable(e)),
                },
                Err(ApiError::Blocked) => self.fail(ApiError::Blocked.to_string()),
                Err(e) => {
                    for name in names {
                        self.read.lookup_errors.push(LookupError {
                            domain: name,
                            kind: LookupKind::Error,
                            message: e.to_string(),
                        });
                    }
                }
            },
            Purpose::Deleted(names) => match result {
                Ok(data) => match listing::page_of(&data) {
                    Ok((domains, _)) => {
                        let marked = domains
                            .iter()
                            .filter_map(|d| listing::mark_deleted(d))
                            .collect();
                        let mut problems = Vec::new();
                        self.read.add(marked, &mut problems);
                        for p in problems {
                            self.log(Level::Warn, p);
                        }
                    }
                    Err(e) => self.fail(unreadable(e)),
                },
                Err(ApiError::Blocked) => self.fail(ApiError::Blocked.to_string()),
                Err(e) => self.log(
                    Level::Warn,
                    format!(
                        "the look-up of {} deleted domains failed ({e}); those rows stay without a record",
                        names.len()
                    ),
                ),
            },
            Purpose::Probe(ask) => self.probe_done(ask, result),
            Purpose::Update(index) => {
                let Some(response) = self.response.as_ref() else {
                    return;
                };
                let result_row = &response.results[index];
                match result {
                    Ok(_) => {
                        let lines = result_row
                            .activity
                            .as_ref()
                            .map(|a| a.openprovider.clone())
                            .unwrap_or_default();
                        if !lines.is_empty() {
                            let date = self.local_now();
                            let userid = self.rows.userids[index];
                            self.ask(
                                RequestKind::WriteActivity {
                                    userid,
                                    lines,
                                    date,
                                },
                                Wait::Activity,
                            );
                        }
                    }
                    Err(e) => {
                        self.failures.push(Failure {
                            whmcs_id: result_row.whmcs_id,
                            domain: result_row.domain.clone(),
                            side: Side::Openprovider,
                            message: e.to_string(),
                        });
                    }
                }
            }
        }
    }

    /// Every page is in: whether they make one listing.
    fn listing_read(&mut self) {
        let pages = std::mem::take(&mut self.pages);
        let (records, problems) = listing::judge(self.total, pages);
        self.listing_complete = problems.is_empty();
        if !problems.is_empty() {
            self.read.complete = false;
        }
        for problem in &problems {
            self.log(
                Level::Warn,
                format!("the Openprovider listing is not complete: {problem}"),
            );
        }
        let mut left_out = Vec::new();
        self.read.add(records, &mut left_out);
        for p in left_out {
            self.log(Level::Warn, p);
        }
        self.begin_deleted();
    }

    /// Contract v1.1: the rows a complete listing lacks, or that a look-up did not find,
    /// are looked up again among Openprovider's deleted domains. Whether the listing was
    /// complete is the pages' verdict: a record left out later (its name a failed look-up)
    /// was listed all the same.
    fn begin_deleted(&mut self) {
        let mut listed = self.read.names();
        listed.extend(
            self.read
                .lookup_errors
                .iter()
                .filter(|e| e.kind == LookupKind::Error)
                .filter_map(|e| crate::lookup_name(&e.domain)),
        );
        let bulk = self.stage == Stage::Listing;
        let missing: Vec<String> = self
            .rows
            .names()
            .into_iter()
            .filter(|name| {
                if bulk {
                    self.listing_complete && !listed.contains(name)
                } else {
                    self.not_found.contains(name)
                }
            })
            .collect();
        if missing.is_empty() {
            return self.decide();
        }
        self.stage = Stage::Deleted;
        self.log(
            Level::Info,
            format!(
                "looking {} missing domains up among the deleted",
                missing.len()
            ),
        );
        for chunk in missing.chunks(listing::NAMES_PER_LOOKUP) {
            self.lookup(chunk.to_vec(), true);
        }
    }

    fn deleted_read(&mut self) {
        // A name found among the deleted is no longer "not found".
        let found = self.read.names();
        self.read.lookup_errors.retain(|e| {
            e.kind != LookupKind::NotFound
                || !crate::lookup_name(&e.domain).is_some_and(|n| found.contains(&n))
        });
        self.decide();
    }

    /// The engine's answer on everything read.
    fn decide_now(&mut self) -> Result<Response, String> {
        let mut request = Vec::new();
        request.extend_from_slice(b"{\"policy\":");
        let policy = serde_json::to_vec(&self.settings.policy).unwrap_or_default();
        request.extend_from_slice(&policy);
        request.extend_from_slice(b",\"whmcs\":");
        request.extend_from_slice(&serde_json::to_vec(&self.rows.rows).unwrap_or_default());
        request.extend_from_slice(b",\"openprovider\":{\"complete\":");
        request.extend_from_slice(if self.read.complete {
            b"true"
        } else {
            b"false"
        });
        request.extend_from_slice(b",\"domains\":[");
        let records = std::mem::take(&mut self.read.records);
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                request.push(b',');
            }
            request.extend_from_slice(record.get().as_bytes());
        }
        drop(records);
        request.extend_from_slice(b"]}");
        if !self.read.lookup_errors.is_empty() {
            request.extend_from_slice(b",\"lookup_errors\":");
            request.extend_from_slice(
                &serde_json::to_vec(&self.read.lookup_errors).unwrap_or_default(),
            );
        }
        request.push(b'}');
        let snapshot = crate::snapshot::Snapshot::from_json(&request)
            .map_err(|e| format!("the engine could not read what the run read: {e}"))?;
        Ok(crate::decide::decide(&snapshot))
    }

    fn decide(&mut self) {
        if self.mode.registrar() {
            return self.answer();
        }
        self.step("decide", "deciding");
        let response = match self.decide_now() {
            Ok(r) => r,
            Err(e) => return self.fail(e),
        };
        let s = &response.summary;
        self.log(
            Level::Info,
            format!(
                "the engine decided: {} rows change, {} errors{}",
                s.changed_rows,
                s.errors,
                if s.held {
                    format!(
                        " (held by the mass-change brake: {} rows would change)",
                        s.held_rows.unwrap_or(0)
                    )
                } else {
                    String::new()
                }
            ),
        );
        let held = response.summary.held;
        self.response = Some(response);
        if !self.mode.writes() || held {
            // A held run writes nothing; the dry run and the plan write nothing either.
            return self.begin_report();
        }
        self.begin_apply();
    }

    fn begin_apply(&mut self) {
        let Some(response) = self.response.as_ref() else {
            return;
        };
        let updates: Vec<(usize, Call)> = response
            .results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let update = r.openprovider_update.as_ref()?;
                let body = Value::Object(
                    update
                        .body
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                );
                Some((
                    i,
                    Call {
                        method: "PUT",
                        path: format!("/domains/{}", update.id),
                        query: Vec::new(),
                        body: Some(body),
                    },
                ))
            })
            .collect();
        self.step(
            "apply_openprovider",
            &format!("updating {} domains at Openprovider", updates.len()),
        );
        self.stage = Stage::UpdatingOpenprovider;
        for (index, call) in updates {
            let call = self.api.call(call);
            self.calls.insert(call, Purpose::Update(index));
        }
    }

    fn begin_whmcs_writes(&mut self) {
        let Some(response) = self.response.as_ref() else {
            return;
        };
        let mut writes: Vec<usize> = response
            .results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.whmcs_update.is_some())
            .map(|(i, _)| i)
            .collect();
        writes.reverse();
        self.writes = writes;
        self.step(
            "apply_whmcs",
            &format!("writing {} WHMCS rows", self.writes.len()),
        );
        self.stage = Stage::WritingWhmcs;
        self.write_next();
    }

    /// The next row's write, one at a time: a write that fails stops the run before any
    /// other is tried.
    fn write_next(&mut self) {
        if self.fatal.is_some() {
            return;
        }
        let Some(index) = self.writes.pop() else {
            return self.cursor();
        };
        let Some(result) = self.response.as_ref().map(|r| &r.results[index]) else {
            return;
        };
        let Some(update) = result.whmcs_update.clone() else {
            return self.write_next();
        };
        let activity = result
            .activity
            .as_ref()
            .map(|a| a.whmcs.clone())
            .unwrap_or_default();
        let kind = RequestKind::WriteRow {
            update,
            activity,
            userid: self.rows.userids[index],
            date: self.local_now(),
        };
        self.ask(kind, Wait::WriteRow(index));
    }

    /// A batched run records which rows it synced, so the next batch starts after them;
    /// a held run synced nothing, so its rows stay first in line.
    fn cursor(&mut self) {
        self.stage = Stage::Cursor;
        self.step("cursor", "moving the cursor");
        let held = self.response.as_ref().is_some_and(|r| r.summary.held);
        if self.settings.batch.is_some() && !held {
            let ids = self
                .response
                .as_ref()
                .map(|r| r.results.iter().map(|r| r.whmcs_id).collect())
                .unwrap_or_default();
            let date = self.local_now();
            self.ask(RequestKind::MarkSynced { ids, date }, Wait::Cursor);
        } else {
            self.begin_report();
        }
    }

    fn result(&self, index: usize) -> (u64, String) {
        self.response
            .as_ref()
            .and_then(|r| r.results.get(index))
            .map(|r| (r.whmcs_id, r.domain.clone()))
            .unwrap_or_default()
    }

    fn begin_report(&mut self) {
        self.stage = Stage::Reporting;
        self.step("report", "rendering the report");
        if self.memory.read {
            self.report();
        }
    }

    /// The report of the run, from the engine's own words.
    fn report(&mut self) {
        self.stage = Stage::Mailing;
        let Some(response) = self.response.take() else {
            return;
        };
        let mails = matches!(self.mode, Mode::Sync | Mode::DryRun);
        let mut tracking = Tracking {
            now: self.start_text.clone(),
            complete: self.settings.batch.is_none(),
            open_problems: std::mem::take(&mut self.memory.problems),
            still_open_mailed_at: self.memory.still_open_mailed_at.take(),
            // A look (`plan`) lists the still-open problems in full.
            repeat_still_open_hours: if mails {
                self.settings.repeat_still_open_hours
            } else {
                0
            },
        };
        if let Err(e) = crate::report::check_tracking(&tracking) {
            if !tracking.open_problems.is_empty() || tracking.still_open_mailed_at.is_some() {
                self.log(
                    Level::Warn,
                    format!("the remembered problems cannot be read ({e}); all are new again"),
                );
            }
            tracking.open_problems.clear();
            tracking.still_open_mailed_at = None;
        }
        let admin_url = self.settings.admin_url.clone().or_else(|| {
            self.memory.system_url.as_ref().map(|url| {
                format!(
                    "{}/{}/",
                    url.trim().trim_end_matches('/'),
                    self.settings.admin_folder
                )
            })
        });
        let links = admin_url.map(|admin_url| Links {
            admin_url,
            rows: response
                .results
                .iter()
                .zip(&self.rows.userids)
                .map(|(r, userid)| RowClient {
                    whmcs_id: r.whmcs_id,
                    userid: *userid,
                })
                .collect(),
        });
        let links = match links {
            Some(links) => match crate::report::check_links(&links) {
                Ok(()) => Some(links),
                Err(e) => {
                    self.log(
                        Level::Warn,
                        format!("the report goes without links to the WHMCS admin area ({e})"),
                    );
                    None
                }
            },
            None => None,
        };
        let mut response = response;
        let setup: Vec<Notice> = self
            .host_problems
            .iter()
            .map(|p| Notice::setup_problem(p))
            .collect();
        response.notices.splice(0..0, setup);
        let input = ReportInput {
            response,
            dry_run: !self.mode.writes(),
            send_empty: self.settings.send_empty,
            failures: self.failures.clone(),
            tracking: Some(tracking),
            links,
            duration_ms: Some(self.now_ms),
        };
        let (report, body) = crate::report::render_with_body(&input);
        let mut response = input.response;
        response
            .notices
            .retain(|n| n.code != crate::notice::Code::SetupProblem);
        self.response = Some(response);
        let send = report.send;
        let (subject, text, html) = (
            report.subject.clone(),
            report.text.clone(),
            report.html.clone(),
        );
        let body = body.replace('{', "&#123;").replace('}', "&#125;");
        self.report = Some(report);
        if mails && send {
            self.step("mail", "mailing the report");
            self.ask(
                RequestKind::SendReport {
                    subject,
                    text,
                    html,
                    body,
                },
                Wait::Mail,
            );
        } else {
            self.remember();
        }
    }

    /// What the report knew is remembered for the next one, once the report reached
    /// someone (mailed, or printed when mail is not set up). A dry run remembers nothing.
    fn remember(&mut self) {
        self.stage = Stage::Remembering;
        let after = self.report.as_ref().and_then(|r| r.tracking.clone());
        match after {
            Some(after) if self.mode.writes() && self.mail != Mailed::Failed => {
                self.ask(
                    RequestKind::StoreMemory {
                        open_problems: after.open_problems,
                        still_open_mailed_at: after.still_open_mailed_at,
                    },
                    Wait::Memory,
                );
            }
            _ => self.record(),
        }
    }

    fn summary(&self) -> Summary {
        self.response
            .as_ref()
            .map(|r| r.summary.clone())
            .unwrap_or_default()
    }

    fn exit_status(&self) -> u8 {
        outcome::exit_status(self.summary().held, self.mail)
    }

    /// The run, in the run history (sync and dry run; a plan records nothing).
    fn record(&mut self) {
        self.stage = Stage::Recording;
        if let Some(done) = self.steps.stop(self.now_ms) {
            self.step_logged(done);
        }
        if !matches!(self.mode, Mode::Sync | Mode::DryRun) {
            return self.unlock();
        }
        let summary = self.summary();
        let report = self
            .report
            .clone()
            .unwrap_or_else(|| crate::report::Report {
                send: false,
                subject: String::new(),
                text: String::new(),
                html: String::new(),
                tracking: None,
            });
        let row = HistoryRow {
            started_at: self.start_text.clone(),
            finished_at: self.local_now(),
            host: self.host.clone(),
            mode: outcome::history_mode(summary.held, self.mode.writes()).into(),
            rows_checked: summary.rows,
            changed_rows: summary.changed_rows,
            whmcs_updates: summary.whmcs_updates,
            openprovider_updates: summary.openprovider_updates,
            errors: summary.errors,
            warnings: summary.warnings,
            failures: self.failures.len() as u64,
            subject: report.subject,
            report_text: report.text,
            report_html: report.html,
            exit_status: self.exit_status(),
            steps: serde_json::to_string(&self.steps.all()).unwrap_or_default(),
        };
        self.ask(RequestKind::RecordRun(row), Wait::Record);
    }

    fn unlock(&mut self) {
        self.stage = Stage::Unlocking;
        if self.locked {
            self.ask(RequestKind::Unlock, Wait::Unlock);
        } else {
            self.finish();
        }
    }

    /// The lock is gone: the outcome.
    fn finish(&mut self) {
        self.locked = false;
        self.stage = Stage::Over;
        if let Some(message) = self.fatal.clone() {
            return self.end(RunOutcome {
                exit_status: EXIT_NOT_COMPLETED,
                mode: "failed".into(),
                lines: vec![message],
                ..self.bare_outcome()
            });
        }
        let summary = self.summary();
        let looked = self.mode == Mode::Plan;
        let lines = outcome::lines(
            &summary,
            &self.host,
            looked,
            self.mail,
            self.mail_error.as_deref(),
        );
        let mode = match self.mode {
            Mode::Plan if !summary.held => "plan".to_string(),
            _ => outcome::history_mode(summary.held, self.mode.writes()).to_string(),
        };
        let report = self.report.as_ref().map(|r| ReportShown {
            send: r.send,
            subject: r.subject.clone(),
            text: r.text.clone(),
            html: r.html.clone(),
        });
        let exit_status = self.exit_status();
        self.end(RunOutcome {
            exit_status,
            mode,
            lines,
            summary: Some(summary),
            report,
            ..self.bare_outcome()
        });
    }

    /// The parts of an outcome every ending shares.
    fn bare_outcome(&self) -> RunOutcome {
        RunOutcome {
            exit_status: EXIT_OK,
            mode: String::new(),
            lines: Vec::new(),
            summary: None,
            failures: self.failures.clone(),
            report: None,
            mail: self.mail,
            mailed_to: self.mailed_to,
            listing_complete: self.listing_complete,
            api: self.api.stats,
            steps: self.steps.all(),
            brake: if self.settings.api_url.is_empty() {
                // Settings nothing can run on: no brake to speak of.
                String::new()
            } else {
                outcome::brake_line(&self.settings, &self.host)
            },
            answer: None,
            checks: Vec::new(),
        }
    }

    fn end(&mut self, outcome: RunOutcome) {
        self.stage = Stage::Over;
        self.waiting.clear();
        self.api.abandon();
        self.calls.clear();
        self.outcome = Some(outcome);
    }

    /// The run cannot complete: nothing more is asked of Openprovider or written; the run
    /// is recorded as failed (when it holds the lock and keeps a history), the lock goes,
    /// and the outcome says why.
    fn fail(&mut self, message: String) {
        if self.fatal.is_some() || self.over || self.outcome.is_some() {
            return;
        }
        self.fatal = Some(message.clone());
        self.api.abandon();
        self.calls.clear();
        if self.mode.registrar() {
            return self.end(RunOutcome {
                exit_status: EXIT_NOT_COMPLETED,
                mode: "answered".into(),
                lines: vec![message.clone()],
                answer: Some(json!({ "error": format!("opsync: {message}") })),
                ..self.bare_outcome()
            });
        }
        // What was waited for no longer matters, but the lock is still held.
        self.waiting.clear();
        if matches!(self.stage, Stage::Recording | Stage::Unlocking) {
            // The run's own record or the unlock failed: let the lock go, and end.
            return self.unlock();
        }
        if let Some(done) = self.steps.stop(self.now_ms) {
            self.step_logged(done);
        }
        if self.locked && matches!(self.mode, Mode::Sync | Mode::DryRun) {
            self.stage = Stage::Recording;
            let subject = format!("opsync: the run did not complete: {message}");
            let row = HistoryRow {
                started_at: self.start_text.clone(),
                finished_at: self.local_now(),
                host: self.host.clone(),
                mode: "failed".into(),
                rows_checked: 0,
                changed_rows: 0,
                whmcs_updates: 0,
                openprovider_updates: 0,
                errors: 0,
                warnings: 0,
                failures: 0,
                report_text: format!(
                    "{subject}\n\nNothing after the step that failed was done; the next run starts afresh.\n"
                ),
                subject,
                report_html: String::new(),
                exit_status: EXIT_NOT_COMPLETED,
                steps: serde_json::to_string(&self.steps.all()).unwrap_or_default(),
            };
            self.ask(RequestKind::RecordRun(row), Wait::Record);
        } else {
            self.unlock();
        }
    }

    /// Registrar modes: the row as read.
    fn row_read(&mut self, body: &[u8]) {
        let mut failures = Vec::new();
        if let Err(e) = self.rows.add(body, &mut failures) {
            return self.fail(e);
        }
        let id = self.options.domain_id.unwrap_or(0);
        let Some(row) = self.rows.rows.first().cloned() else {
            return self.end(RunOutcome {
                mode: "answered".into(),
                answer: Some(
                    json!({ "error": format!("opsync: there is no domain with id {id}") }),
                ),
                ..self.bare_outcome()
            });
        };
        if self.mode == Mode::TransferSync && renewed_by_module(&self.settings, &row.domain) {
            // The module renews this extension once its transfer completes: its own
            // openprovider_TransferSync answers (the host's delegation falls through).
            return self.end(RunOutcome {
                mode: "left_to_module".into(),
                lines: vec![format!(
                    "{}: the Openprovider module renews this extension after a transfer \
                     (renewTldsUponTransferCompletion): the module answers",
                    row.domain
                )],
                ..self.bare_outcome()
            });
        }
        self.answer_row = Some(row);
        self.stage = Stage::LookingUp;
        // No usable name: nothing to look up, the engine says so on the row.
        let names = self.rows.names();
        if !names.is_empty() {
            self.lookup(names, false);
        }
    }

    /// Registrar modes: the engine's decision on the one row, in WHMCS's terms.
    fn answer(&mut self) {
        if self.outcome.is_some() || self.over {
            return;
        }
        let row = self.answer_row.clone();
        let response = match self.decide_now() {
            Ok(r) => r,
            Err(e) => return self.fail(e),
        };
        let Some(result) = response.results.first() else {
            return self.fail("the engine gave no answer for the row".into());
        };
        let answer = if self.mode == Mode::TransferSync {
            outcome::transfer_sync(result, row.as_ref().and_then(|r| r.expirydate.as_deref()))
        } else {
            outcome::registrar_sync(result)
        };
        self.end(RunOutcome {
            mode: "answered".into(),
            answer: Some(answer),
            summary: Some(response.summary.clone()),
            ..self.bare_outcome()
        });
    }
}

/// Mode `check`: the probes go one after the other, as an operator would try them.
impl Run {
    fn probe(&mut self, ask: probe::Ask, query: Vec<(String, String)>) {
        let call = self.api.call(Call::get("/domains", query));
        self.calls.insert(call, Purpose::Probe(ask));
    }

    fn begin_probe(&mut self) {
        self.stage = Stage::Probing;
        let names = self.rows.names();
        self.sample = names.into_iter().take(listing::NAMES_PER_LOOKUP).collect();
        self.probe(probe::Ask::FirstPage, listing::page_query(0));
    }

    /// The next probe in line, if any.
    fn probe_next(&mut self) {
        if let Some((ask, query)) = self.probes.pop_front() {
            self.probe(ask, query);
        }
    }

    fn probe_done(&mut self, ask: probe::Ask, result: Result<String, ApiError>) {
        use probe::{Ask, CheckLine};
        if ask == Ask::Fallback {
            if let Ok(data) = &result {
                self.two = probe::two_names(data);
                if self.two.len() == 2 {
                    let query = probe::live_query(Ask::TwoNames, &self.two);
                    self.probes.push_front((Ask::TwoNames, query));
                }
            }
        }
        if ask != Ask::FirstPage {
            self.probed.insert(ask, result);
            return self.probe_next();
        }
        let url = self.settings.api_url.clone();
        let login = "openprovider login";
        match &result {
            Err(e) if !self.api.logged_in() => {
                let fix = probe::fix(e, &self.host);
                self.checks.push(CheckLine::fail(login, e.to_string(), fix));
                return;
            }
            _ if self.api.cached => self.checks.push(CheckLine::pass(
                login,
                format!("reusing the cached token ({url})"),
            )),
            _ => {
                let user = self.settings.username.clone();
                self.checks.push(CheckLine::pass(
                    login,
                    format!("logged in as {user} ({url})"),
                ))
            }
        }
        match &result {
            Ok(data) => {
                let (domains, total) = listing::page_of(data).unwrap_or_default();
                self.checks.push(CheckLine::pass(
                    "openprovider listing",
                    format!(
                        "the account holds {total} domains; the first page brought {}",
                        domains.len()
                    ),
                ));
            }
            Err(e) => {
                let fix = probe::fix(e, &self.host);
                self.checks
                    .push(CheckLine::fail("openprovider listing", e.to_string(), fix))
            }
        }
        if !self.sample.is_empty() {
            let query = listing::names_query(&self.sample, false);
            self.probes.push_back((Ask::Sample, query));
        }
        if self.options.live_api {
            match &result {
                Ok(first) => {
                    self.two = probe::two_names(first);
                    if self.two.len() == 2 {
                        let query = probe::live_query(Ask::TwoNames, &self.two);
                        self.probes.push_back((Ask::TwoNames, query));
                    }
                }
                Err(_) => {
                    let query = probe::live_query(Ask::Fallback, &[]);
                    self.probes.push_back((Ask::Fallback, query));
                }
            }
            for ask in [
                Ask::Ascending,
                Ask::Descending,
                Ask::Deleted,
                Ask::PageA,
                Ask::PageB,
            ] {
                self.probes.push_back((ask, probe::live_query(ask, &[])));
            }
        }
        self.probe_next();
    }

    /// Every probe is in: the lines, in order.
    fn probed(&mut self) {
        use probe::Ask;
        if let Some(sample) = self.probed.get(&Ask::Sample) {
            let line = probe::sample_line(&self.sample, sample, &self.host);
            self.checks.push(line);
        }
        if self.options.live_api && self.api.logged_in() {
            let probed = &self.probed;
            let lines = probe::live_lines(&self.two, |ask| probed.get(&ask).cloned());
            self.checks.extend(lines);
        }
        let checks = std::mem::take(&mut self.checks);
        self.end(RunOutcome {
            mode: "check".into(),
            checks,
            ..self.bare_outcome()
        });
    }
}

/// Whether `domain` is under an extension the module renews after a transfer: its name
/// ends in `.` and one of them (case, a trailing dot and spaces aside).
fn renewed_by_module(settings: &Settings, domain: &str) -> bool {
    let name = domain.trim().trim_end_matches('.').to_lowercase();
    settings.renew_after_transfer.iter().any(|tld| {
        name.strip_suffix(tld.as_str())
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
    })
}

/// An answer the engine cannot read is a transient fault of the API, said so.
fn unreadable(why: String) -> String {
    ApiError::Unavailable {
        attempts: 1,
        last: why,
    }
    .to_string()
}

impl Outputs {
    /// The outputs' JSON, as every face hands it out.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl Settings {
    /// Settings nothing can run on: the run ends at once with the reason.
    fn unusable() -> Settings {
        Settings {
            policy: crate::Policy::default(),
            batch: None,
            send_empty: false,
            repeat_still_open_hours: 24,
            admin_url: None,
            admin_folder: "admin".into(),
            concurrency: 1,
            timeout_ms: 1,
            api_url: String::new(),
            username: String::new(),
            password: String::new(),
            run_from_cron: false,
            cron_interval_hours: 1,
            min_age_hours: 0,
            brake_released: false,
            renew_after_transfer: Vec::new(),
            shown: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_is_left_to_the_module_only_under_a_listed_extension() {
        let mut settings = Settings::unusable();
        settings.renew_after_transfer = vec!["nl".into(), "co.uk".into()];
        for (domain, left) in [
            ("example.nl", true),
            ("EXAMPLE.NL.", true),
            ("shop.example.co.uk", true),
            ("example.co.uk", true),
            ("example.uk", false),
            ("examplenl", false),
            ("example.xnl", false),
            ("nl", false),
            (".nl", false),
            ("example.com", false),
        ] {
            assert_eq!(renewed_by_module(&settings, domain), left, "{domain}");
        }
        settings.renew_after_transfer.clear();
        assert!(
            !renewed_by_module(&settings, "example.nl"),
            "an empty list leaves nothing to the module"
        );
    }
}

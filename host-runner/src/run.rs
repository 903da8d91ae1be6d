//! The native host of a run: it carries out what the engine's run asks and says what
//! happened, nothing more. The engine (`engine.wasm` in wasmtime, or the engine compiled
//! in) holds the run; this loop is the whole of the I/O side:
//!
//! ```text
//! outputs = engine.start(start)
//! loop {
//!     for each request: HTTP -> a task of its own; log -> the log; the rest -> in line
//!     if outputs.outcome: done
//!     input = the next database request carried out, else the first HTTP answer or the
//!             wake-up the engine asked for, whichever comes first
//!     outputs = engine.feed(input)
//! }
//! ```
//!
//! Database requests go through one connection, one after the other, in the order asked;
//! HTTP requests run at once (the engine hands out no more than may be in flight).
//! `OPSYNC_TRACE=FILE` writes every request and answer (secrets masked, bodies as their
//! length) as JSON lines, for the trace-parity test.

use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant};

use opsync_engine::run::{
    Input, Level, Lookup, Mode, Outputs, Request, RequestKind, RunOutcome, Start, PROTOCOL,
};
use opsync_wasm_host::{CallError, RunInstance, WasmEngine};
use serde_json::{json, Value};

use crate::config::Config;
use crate::http::Transport;
use crate::mail::Mailer;
use crate::progress::Progress;
use crate::whmcs::{Applied, RunLock, StoreError, Whmcs, Writer};
use crate::EngineChoice;

/// The engine that holds the run.
pub enum Core {
    Wasm(Box<RunInstance>),
    Native(Box<opsync_engine::run::Run>),
}

impl Core {
    /// Starts a run in the chosen engine: the run and its first outputs.
    pub fn start(choice: EngineChoice, start: &[u8]) -> Result<(Core, Vec<u8>), CallError> {
        match choice {
            EngineChoice::Wasm => {
                let mut run = WasmEngine::global()?.run()?;
                let first = run.start(start)?;
                Ok((Core::Wasm(Box::new(run)), first))
            }
            EngineChoice::Native => {
                let (run, first) = opsync_engine::run::Run::start_json(start)
                    .map_err(|e| CallError::Invalid(e.to_string()))?;
                Ok((Core::Native(Box::new(run)), first))
            }
        }
    }

    /// One input in, the next outputs out.
    pub fn feed(&mut self, header: &[u8], body: &[u8]) -> Result<Vec<u8>, CallError> {
        match self {
            Core::Wasm(run) => run.feed(header, body),
            Core::Native(run) => run
                .handle_json(header, body)
                .map_err(|e| CallError::Invalid(e.to_string())),
        }
    }
}

/// Why a run has no outcome at all: the engine could not go on.
#[derive(Debug, thiserror::Error)]
#[error("the run stopped: {0}")]
pub struct Stopped(String);

/// An answer as it is fed to the engine.
type Answer = (u64, Result<Value, String>, Vec<u8>);

/// Runs `start` to its outcome.
pub async fn run(
    config: &Config,
    start: &Start,
    engine: EngineChoice,
    progress: &dyn Progress,
) -> Result<RunOutcome, Stopped> {
    let clock = Instant::now();
    let start_json = serde_json::to_vec(start).unwrap_or_default();
    let mut trace = Trace::open();
    let (mut core, first) = Core::start(engine, &start_json).map_err(|e| Stopped(e.to_string()))?;
    let mut outputs = read_outputs(&first)?;
    let mut host = Host::new(config)?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Answer>();
    let mut queue: VecDeque<Request> = VecDeque::new();
    loop {
        for request in std::mem::take(&mut outputs.requests) {
            trace.request(&request);
            match request.kind {
                RequestKind::Log {
                    level,
                    message,
                    fields,
                } => log(level, &message, &fields, progress),
                RequestKind::Http(call) => {
                    let tx = tx.clone();
                    let transport = host.transport.clone();
                    let id = request.id;
                    tokio::spawn(async move {
                        let answer = match transport.send(&call).await {
                            Ok((status, body)) => (id, Ok(json!({ "status": status })), body),
                            Err(why) => (id, Err(why), Vec::new()),
                        };
                        let _ = tx.send(answer);
                    });
                }
                _ => queue.push_back(request),
            }
        }
        if let Some(outcome) = outputs.outcome.take() {
            progress.finish();
            return Ok(outcome);
        }
        let (id, answer, body) = if let Some(request) = queue.pop_front() {
            let (answer, body) = host.carry_out(&request.kind).await;
            (Some(request.id), answer, body)
        } else {
            let wake = outputs
                .wake_at_ms
                .map(|ms| clock + Duration::from_millis(ms));
            tokio::select! {
                answer = rx.recv() => match answer {
                    Some((id, answer, body)) => (Some(id), answer, body),
                    None => return Err(Stopped("the HTTP tasks ended".into())),
                },
                () = sleep_until(wake) => (None, Ok(Value::Null), Vec::new()),
            }
        };
        let input = match (id, answer) {
            (None, _) => Input {
                now_ms: elapsed_ms(clock),
                ..Input::default()
            },
            (Some(id), Ok(ok)) => Input {
                now_ms: elapsed_ms(clock),
                id: Some(id),
                ok: Some(ok),
                ..Input::default()
            },
            (Some(id), Err(error)) => Input {
                now_ms: elapsed_ms(clock),
                id: Some(id),
                error: Some(error),
                ..Input::default()
            },
        };
        trace.input(&input, body.len());
        let header = serde_json::to_vec(&input).unwrap_or_default();
        let next = core
            .feed(&header, &body)
            .map_err(|e| Stopped(e.to_string()))?;
        outputs = read_outputs(&next)?;
    }
}

/// The run's start: the configuration's raw settings, the time, the mode.
pub fn start(config: &Config, mode: Mode, lookup: Lookup) -> Start {
    let now = chrono::Local::now();
    Start {
        protocol: PROTOCOL,
        host: "opsync".into(),
        mode,
        now: now.format("%Y-%m-%d %H:%M:%S").to_string(),
        epoch_seconds: u64::try_from(now.timestamp()).unwrap_or(0),
        seed: u64::from(std::process::id()) ^ now.timestamp_subsec_nanos() as u64,
        settings: config.raw_settings(),
        options: opsync_engine::run::Options {
            lookup,
            ..config.options.clone()
        },
        host_problems: Vec::new(),
    }
}

fn read_outputs(bytes: &[u8]) -> Result<Outputs, Stopped> {
    serde_json::from_slice(bytes)
        .map_err(|e| Stopped(format!("the engine's outputs do not read: {e}")))
}

fn elapsed_ms(clock: Instant) -> u64 {
    u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX)
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// A log line of the run, on the `-v` log; info lines are the progress shown on a
/// terminal. A step's time is logged with this process's memory beside it.
fn log(
    level: Level,
    message: &str,
    fields: &std::collections::BTreeMap<String, Value>,
    progress: &dyn Progress,
) {
    if let Some(step) = fields.get("step").and_then(Value::as_str) {
        let seconds = fields.get("seconds").and_then(Value::as_str).unwrap_or("");
        let (rss, peak) = memory_mib();
        tracing::info!(
            target: "opsync::run",
            step,
            seconds,
            rss_mib = rss,
            peak_mib = peak,
            "step done"
        );
        return;
    }
    let shown = if fields.is_empty() {
        String::new()
    } else {
        format!(
            " {}",
            Value::from(serde_json::Map::from_iter(fields.clone()))
        )
    };
    match level {
        Level::Error => tracing::error!(target: "opsync::run", "{message}{shown}"),
        Level::Warn => tracing::warn!(target: "opsync::run", "{message}{shown}"),
        Level::Info => {
            progress.step(message);
            tracing::info!(target: "opsync::run", "{message}{shown}")
        }
        Level::Debug => tracing::debug!(target: "opsync::run", "{message}{shown}"),
    }
}

/// The process's resident memory now and at its peak, in MiB (Linux; 0 elsewhere).
fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kib| kib / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// What carries requests out: the database, the token cache, mail, HTTP.
struct Host<'a> {
    config: &'a Config,
    store: Option<Whmcs>,
    lock: Option<RunLock>,
    writer: Option<Writer>,
    transport: std::sync::Arc<Transport>,
}

type Done = (Result<Value, String>, Vec<u8>);

impl<'a> Host<'a> {
    fn new(config: &'a Config) -> Result<Host<'a>, Stopped> {
        let transport = Transport::new()
            .map_err(|e| Stopped(format!("the HTTP client could not be built: {e}")))?;
        Ok(Host {
            config,
            store: None,
            lock: None,
            writer: None,
            transport: std::sync::Arc::new(transport),
        })
    }

    async fn store(&mut self) -> Result<&Whmcs, StoreError> {
        if self.store.is_none() {
            self.store = Some(Whmcs::connect(self.config.database_url.expose()).await?);
        }
        Ok(self.store.as_ref().expect("connected"))
    }

    async fn writer(&mut self) -> Result<&mut Writer, StoreError> {
        if self.writer.is_none() {
            let writer = self.store().await?.writer().await?;
            self.writer = Some(writer);
        }
        Ok(self.writer.as_mut().expect("a writer"))
    }

    /// One request that is not HTTP, carried out; its answer and body.
    async fn carry_out(&mut self, kind: &RequestKind) -> Done {
        match self.database(kind).await {
            Some(done) => done,
            None => self.files_and_mail(kind).await,
        }
    }

    /// The token cache and the mail.
    async fn files_and_mail(&mut self, kind: &RequestKind) -> Done {
        let path = self.config.token_cache.clone();
        match kind {
            RequestKind::ReadToken => match path {
                None => (Ok(json!({ "text": null })), Vec::new()),
                Some(path) if !path.exists() => (Ok(json!({ "text": null })), Vec::new()),
                Some(path) => match crate::private_file::is_private(&path) {
                    Err(why) => (
                        Ok(json!({
                            "text": null,
                            "problem": format!("{}: {why}", path.display()),
                        })),
                        Vec::new(),
                    ),
                    Ok(()) => match std::fs::read_to_string(&path) {
                        Ok(text) => (Ok(json!({ "text": text })), Vec::new()),
                        Err(e) => (Err(format!("{}: {e}", path.display())), Vec::new()),
                    },
                },
            },
            RequestKind::StoreToken { text } => match path {
                None => (Ok(json!({})), Vec::new()),
                Some(path) => {
                    let written = path
                        .parent()
                        .filter(|dir| !dir.as_os_str().is_empty())
                        .map_or(Ok(()), std::fs::create_dir_all)
                        .and_then(|()| crate::private_file::write(&path, text.as_bytes()));
                    match written {
                        Ok(()) => (Ok(json!({})), Vec::new()),
                        Err(e) => (Err(format!("{}: {e}", path.display())), Vec::new()),
                    }
                }
            },
            RequestKind::ForgetToken => {
                if let Some(path) = path {
                    let _ = std::fs::remove_file(path);
                }
                (Ok(json!({})), Vec::new())
            }
            RequestKind::SendReport {
                subject,
                text,
                html,
                ..
            } => {
                if self.config.mail.from.is_none() {
                    return (Ok(json!({ "not_configured": true })), Vec::new());
                }
                let report = opsync_engine::Report {
                    send: true,
                    subject: subject.clone(),
                    text: text.clone(),
                    html: html.clone(),
                    tracking: None,
                };
                let sent = async {
                    let mailer = Mailer::new(&self.config.mail).map_err(|e| e.to_string())?;
                    let admins = self
                        .store()
                        .await
                        .map_err(|e| e.to_string())?
                        .system_email_admins()
                        .await
                        .map_err(|e| e.to_string())?;
                    mailer
                        .send(&report, &admins)
                        .await
                        .map_err(|e| e.to_string())
                }
                .await;
                match sent {
                    Ok(n) => (Ok(json!({ "sent": n })), Vec::new()),
                    Err(e) => (Err(e), Vec::new()),
                }
            }
            other => (
                Err(format!("this host does not carry out {other:?}")),
                Vec::new(),
            ),
        }
    }

    /// A database request; `None` for one that is not.
    async fn database(&mut self, kind: &RequestKind) -> Option<Done> {
        let body = |r: Result<Vec<u8>, StoreError>| match r {
            Ok(body) => (Ok(json!({})), body),
            Err(e) => (Err(e.to_string()), Vec::new()),
        };
        let ok = |r: Result<(), StoreError>| match r {
            Ok(()) => (Ok(json!({})), Vec::new()),
            Err(e) => (Err(e.to_string()), Vec::new()),
        };
        Some(match kind {
            RequestKind::Lock => match self.store().await {
                Err(e) => (Err(e.to_string()), Vec::new()),
                Ok(store) => match store.lock_run().await {
                    Ok(Some(lock)) => {
                        self.lock = Some(lock);
                        (Ok(json!({ "locked": true })), Vec::new())
                    }
                    Ok(None) => (Ok(json!({ "locked": false })), Vec::new()),
                    Err(e) => (Err(e.to_string()), Vec::new()),
                },
            },
            RequestKind::Unlock => {
                self.writer = None;
                if let Some(RunLock::MySql(mut conn)) = self.lock.take() {
                    let _ = sqlx::query("SELECT RELEASE_LOCK(CONCAT('opsync_sync:', DATABASE()))")
                        .execute(&mut conn)
                        .await;
                }
                (Ok(json!({})), Vec::new())
            }
            RequestKind::ReadState => match self.store().await {
                Ok(store) => match store.read_state().await {
                    Ok(state) => (Ok(state), Vec::new()),
                    Err(e) => (Err(e.to_string()), Vec::new()),
                },
                Err(e) => (Err(e.to_string()), Vec::new()),
            },
            RequestKind::ReadRows { after, limit } => match self.store().await {
                Ok(store) => body(store.read_rows(after.as_deref(), *limit).await),
                Err(e) => body(Err(e)),
            },
            RequestKind::ReadBatch {
                limit,
                synced_before,
            } => match self.store().await {
                Ok(store) => body(store.read_batch(*limit, synced_before.as_deref()).await),
                Err(e) => body(Err(e)),
            },
            RequestKind::ReadRow { row } => match self.store().await {
                Ok(store) => body(store.read_row(*row).await),
                Err(e) => body(Err(e)),
            },
            RequestKind::ReadNames { after, limit } => match self.store().await {
                Ok(store) => body(store.read_names(after.as_deref(), *limit).await),
                Err(e) => body(Err(e)),
            },
            RequestKind::ReadRowsById { ids } => match self.store().await {
                Ok(store) => body(store.read_rows_by_id(ids).await),
                Err(e) => body(Err(e)),
            },
            RequestKind::WriteRow {
                update,
                activity,
                userid,
                date,
            } => match self.writer().await {
                Ok(writer) => match writer.apply(update, activity, *userid, date).await {
                    Ok(applied) => (
                        Ok(json!({ "written": applied == Applied::Written })),
                        Vec::new(),
                    ),
                    Err(e) => (Err(e.to_string()), Vec::new()),
                },
                Err(e) => (Err(e.to_string()), Vec::new()),
            },
            RequestKind::WriteActivity {
                userid,
                lines,
                date,
            } => match self.writer().await {
                Ok(writer) => ok(writer.log_activity(*userid, lines, date).await),
                Err(e) => ok(Err(e)),
            },
            RequestKind::MarkSynced { ids, date } => match self.writer().await {
                Ok(writer) => ok(writer.mark_synced(ids, date).await),
                Err(e) => ok(Err(e)),
            },
            RequestKind::StoreMemory {
                open_problems,
                still_open_mailed_at,
            } => match self.store().await {
                Ok(store) => ok(store
                    .remember(open_problems, still_open_mailed_at.as_deref())
                    .await),
                Err(e) => ok(Err(e)),
            },
            RequestKind::RecordRun(row) => match self.store().await {
                Ok(store) => ok(store.record_run(row).await),
                Err(e) => ok(Err(e)),
            },
            _ => return None,
        })
    }
}

/// `OPSYNC_TRACE=FILE`: every request and answer as a JSON line, secrets masked, bodies
/// as their length.
struct Trace {
    file: Option<std::fs::File>,
    secrets: Vec<String>,
    /// The `read_token` requests: their answers hold the cached session.
    token_reads: Vec<u64>,
}

impl Trace {
    fn open() -> Trace {
        let file = std::env::var_os("OPSYNC_TRACE")
            .filter(|p| !p.is_empty())
            .and_then(|path| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .ok()
            });
        Trace {
            file,
            secrets: Vec::new(),
            token_reads: Vec::new(),
        }
    }

    fn request(&mut self, request: &Request) {
        if self.file.is_none() {
            return;
        }
        if let RequestKind::Http(call) = &request.kind {
            for s in &call.secrets {
                if !s.is_empty() && !self.secrets.contains(s) {
                    self.secrets.push(s.clone());
                }
            }
        }
        if matches!(request.kind, RequestKind::ReadToken) {
            self.token_reads.push(request.id);
        }
        let line = match &request.kind {
            RequestKind::StoreToken { .. } => {
                json!({"request": {"id": request.id, "kind": "store_token", "text": "***"}})
            }
            _ => json!({ "request": request }),
        };
        self.write(line);
    }

    fn input(&mut self, input: &Input, body_bytes: usize) {
        if self.file.is_none() {
            return;
        }
        let mut answer = serde_json::to_value(input).unwrap_or(Value::Null);
        if input.id.is_some_and(|id| self.token_reads.contains(&id))
            && !answer["ok"]["text"].is_null()
        {
            answer["ok"]["text"] = Value::from("***");
        }
        self.write(json!({ "answer": answer, "body_bytes": body_bytes }));
    }

    fn write(&mut self, line: Value) {
        let mut text = line.to_string();
        for s in &self.secrets {
            text = text.replace(s.as_str(), "***");
        }
        if let Some(file) = self.file.as_mut() {
            let _ = writeln!(file, "{text}");
        }
    }
}

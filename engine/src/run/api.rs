//! Openprovider's API as the run speaks it: every call spelled out whole, its answer
//! judged by the envelope's `code` (never by the HTTP status), and every judgement about
//! what to do next made here, once:
//!
//! - one login per run; the token is reused by every call and cached across runs for
//!   [`TOKEN_LIFETIME_SECONDS`]; on code 196 a call logs in again once (calls in flight
//!   share that one new login) and is sent once more, no more;
//! - only transient failures are retried (no answer, a timeout, an answer without an
//!   envelope, 4005 maintenance), after a backoff with jitter, at most [`ATTEMPTS`] times
//!   and not past [`MAX_ELAPSED_MS`]; business errors never are;
//! - code 10005 (the IP is blocked) stops every call at once: more calls would keep the
//!   IP blocked;
//! - at most `concurrency` requests in flight.
//!
//! The run asks for calls ([`Api::call`]) and reads what became of them
//! ([`Api::take_done`]); the API hands its HTTP requests, waits and token-cache writes to
//! the run's [`Outbox`].

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::clock::Jitter;
use super::protocol::{ApiStats, Http, Level, RequestKind};
use super::Outbox;

/// Attempts per call, the first included.
const ATTEMPTS: u32 = 4;
/// The first retry waits about this long; each next one twice as long, up to the cap.
const FIRST_DELAY_MS: u64 = 500;
const MAX_DELAY_MS: u64 = 8_000;
/// No retry starts after this much time spent on one call.
const MAX_ELAPSED_MS: u64 = 60_000;
/// A token lives about two days; a cached one is reused for less than that.
pub(crate) const TOKEN_LIFETIME_SECONDS: u64 = 40 * 3600;

/// Why a call failed. Messages name what went wrong, never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("Openprovider refused the request (code {code}: {desc})")]
    Business { code: i64, desc: String },
    #[error("Openprovider rejected the username or password (code 196)")]
    Login,
    #[error(
        "Openprovider has blocked this IP address (code 10005); opsync stopped calling it. \
         The block stays until Openprovider support lifts it"
    )]
    Blocked,
    #[error("Openprovider could not be reached ({attempts} attempts; last: {last})")]
    Unavailable { attempts: u32, last: String },
}

/// A call's answer: the envelope's `data` as JSON text (`null` when absent).
pub(crate) type Data = String;

/// One API call the run wants made.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
}

impl Call {
    pub(crate) fn get(path: &str, query: Vec<(String, String)>) -> Call {
        Call {
            method: "GET",
            path: path.to_string(),
            query,
            body: None,
        }
    }
}

/// A call on its way.
#[derive(Debug)]
struct Pending {
    call: Call,
    /// False for the login itself.
    auth: bool,
    /// Sends so far, since the call started or was renewed after a new login.
    attempt: u32,
    first_sent_ms: Option<u64>,
    /// Sent again after a new login once already.
    relogged: bool,
    /// The token it was last sent with.
    token_used: Option<String>,
    /// Waiting for a retry until then.
    due_ms: Option<u64>,
    in_flight: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// The cache has not been read yet: calls wait.
    Unread,
    None,
    Have(String),
}

/// What the cache file holds (the same text as opsync's cache before the run protocol).
#[derive(serde::Serialize, Deserialize)]
struct CachedToken {
    base_url: String,
    username: String,
    token: String,
    obtained_at: u64,
}

pub(crate) struct Api {
    url: String,
    username: String,
    password: String,
    concurrency: usize,
    timeout_ms: u64,
    /// Seconds since 1970 when the run started.
    epoch_seconds: u64,
    token: Token,
    /// A login is on its way (its call id).
    login: Option<u64>,
    blocked: bool,
    calls: BTreeMap<u64, Pending>,
    /// Calls ready to be sent, in the order they came.
    ready: VecDeque<u64>,
    /// Request id -> call id, for requests in flight.
    sent: BTreeMap<u64, u64>,
    in_flight: usize,
    next_call: u64,
    done: VecDeque<(u64, Result<Data, ApiError>)>,
    pub(crate) stats: ApiStats,
    jitter: Jitter,
    /// Whether the token came from the cache (for `opsync check`).
    pub(crate) cached: bool,
    /// A new token to cache.
    fresh: Option<String>,
    /// Why the login failed: every call that needs a token fails with it, and no second
    /// login is tried (failed logins are counted against the account).
    refused: Option<ApiError>,
}

impl Api {
    pub(crate) fn new(
        url: &str,
        username: &str,
        password: &str,
        concurrency: usize,
        timeout_ms: u64,
        epoch_seconds: u64,
        jitter: Jitter,
    ) -> Api {
        Api {
            url: url.to_string(),
            username: username.to_string(),
            password: password.to_string(),
            concurrency: concurrency.max(1),
            timeout_ms,
            epoch_seconds,
            token: Token::Unread,
            login: None,
            blocked: false,
            calls: BTreeMap::new(),
            ready: VecDeque::new(),
            sent: BTreeMap::new(),
            in_flight: 0,
            next_call: 1,
            done: VecDeque::new(),
            stats: ApiStats::default(),
            jitter,
            cached: false,
            fresh: None,
            refused: None,
        }
    }

    /// Asks for a call; what becomes of it comes out of [`Api::take_done`] with this id.
    pub(crate) fn call(&mut self, call: Call) -> u64 {
        self.add(call, true)
    }

    fn add(&mut self, call: Call, auth: bool) -> u64 {
        let id = self.next_call;
        self.next_call += 1;
        self.calls.insert(
            id,
            Pending {
                call,
                auth,
                attempt: 0,
                first_sent_ms: None,
                relogged: false,
                token_used: None,
                due_ms: None,
                in_flight: false,
            },
        );
        if auth {
            self.ready.push_back(id);
        } else {
            self.ready.push_front(id);
        }
        id
    }

    /// Calls that are over, with what became of them, in the order they ended.
    pub(crate) fn take_done(&mut self) -> Option<(u64, Result<Data, ApiError>)> {
        self.done.pop_front()
    }

    /// Whether the run holds a session (a token, cached or new).
    pub(crate) fn logged_in(&self) -> bool {
        matches!(self.token, Token::Have(_))
    }

    /// Whether calls are over that [`Api::take_done`] has not handed out.
    pub(crate) fn has_done(&self) -> bool {
        !self.done.is_empty()
    }

    /// When the next retry is due.
    pub(crate) fn wake_at(&self) -> Option<u64> {
        self.calls.values().filter_map(|p| p.due_ms).min()
    }

    /// The cached session, as the host read it (`text` null: none).
    pub(crate) fn token_read(
        &mut self,
        text: Option<&str>,
        problem: Option<&str>,
        out: &mut Outbox,
    ) {
        if let Some(problem) = problem {
            out.log(
                Level::Warn,
                format!(
                    "the Openprovider token cache is not private ({problem}): not used; a new \
                     login replaces it"
                ),
            );
        }
        let cached = text
            .and_then(|t| serde_json::from_str::<CachedToken>(t).ok())
            .filter(|c| {
                c.base_url == self.url
                    && c.username == self.username
                    && !c.token.is_empty()
                    && self.epoch_seconds.saturating_sub(c.obtained_at) < TOKEN_LIFETIME_SECONDS
            });
        self.token = match cached {
            Some(c) => {
                self.cached = true;
                Token::Have(c.token)
            }
            None => Token::None,
        };
    }

    /// Stops every call: nothing more is sent, answers still on their way are ignored.
    pub(crate) fn abandon(&mut self) {
        self.calls.clear();
        self.ready.clear();
        self.login = None;
    }

    /// Sends what may be sent now.
    pub(crate) fn pump(&mut self, now_ms: u64, out: &mut Outbox) {
        if self.blocked {
            let waiting: Vec<u64> = self
                .calls
                .iter()
                .filter(|(_, p)| !p.in_flight)
                .map(|(id, _)| *id)
                .collect();
            for id in waiting {
                self.finish(id, Err(ApiError::Blocked));
            }
            return;
        }
        if self.token == Token::Unread {
            return;
        }
        if let Some(refused) = self.refused.clone() {
            let waiting: Vec<u64> = self
                .calls
                .iter()
                .filter(|(_, p)| p.auth && !p.in_flight)
                .map(|(id, _)| *id)
                .collect();
            for id in waiting {
                self.finish(id, Err(refused.clone()));
            }
        }
        let wants_token = self
            .calls
            .values()
            .any(|p| p.auth && !p.in_flight && p.due_ms.is_none());
        if self.token == Token::None && self.login.is_none() && wants_token {
            self.stats.logins += 1;
            let body = json!({
                "username": self.username,
                "password": self.password,
                // As Openprovider's own module sends it: the token is valid from any address.
                "ip": "0.0.0.0",
            });
            let login = self.add(
                Call {
                    method: "POST",
                    path: "/auth/login".into(),
                    query: Vec::new(),
                    body: Some(body),
                },
                false,
            );
            self.login = Some(login);
        }
        let mut held = VecDeque::new();
        while self.in_flight < self.concurrency {
            let Some(id) = self.ready.pop_front() else {
                break;
            };
            let Some(p) = self.calls.get(&id) else {
                continue;
            };
            if p.auth && !matches!(self.token, Token::Have(_)) {
                held.push_back(id);
                continue;
            }
            self.send(id, now_ms, out);
        }
        while let Some(id) = held.pop_back() {
            self.ready.push_front(id);
        }
    }

    fn send(&mut self, id: u64, now_ms: u64, out: &mut Outbox) {
        let token = match &self.token {
            Token::Have(t) => Some(t.clone()),
            _ => None,
        };
        let Some(p) = self.calls.get_mut(&id) else {
            return;
        };
        p.attempt += 1;
        if p.attempt > 1 {
            self.stats.retries += 1;
        }
        self.stats.requests += 1;
        p.first_sent_ms.get_or_insert(now_ms);
        p.in_flight = true;
        p.due_ms = None;
        let bearer = if p.auth { token } else { None };
        p.token_used = bearer.clone();
        let mut secrets = vec![self.password.clone()];
        secrets.extend(bearer.clone());
        let http = Http {
            method: p.call.method.to_string(),
            url: format!("{}{}", self.url, p.call.path),
            query: p.call.query.clone(),
            body: p.call.body.clone(),
            bearer,
            secrets,
            timeout_ms: self.timeout_ms,
            answer_is_secret: !p.auth,
        };
        let request = out.send(RequestKind::Http(http));
        self.sent.insert(request, id);
        self.in_flight += 1;
    }

    /// Whether `request` is one of this API's requests.
    pub(crate) fn owns(&self, request: u64) -> bool {
        self.sent.contains_key(&request)
    }

    /// The answer to one of this API's HTTP requests: `Ok((status, body))`, or why none
    /// came.
    pub(crate) fn answered(
        &mut self,
        request: u64,
        now_ms: u64,
        answer: Result<(u16, &[u8]), &str>,
        out: &mut Outbox,
    ) {
        let Some(id) = self.sent.remove(&request) else {
            return;
        };
        self.in_flight = self.in_flight.saturating_sub(1);
        let Some(p) = self.calls.get_mut(&id) else {
            // Abandoned.
            return;
        };
        p.in_flight = false;
        let what = format!("{} {}", p.call.method, p.call.path);
        let verdict = match answer {
            Err(why) => Verdict::Transient(format!("{what}: {why}")),
            Ok((status, body)) => judge(status, body, &what),
        };
        match verdict {
            Verdict::Data(data) => self.finish(id, Ok(data)),
            Verdict::Code(10005, _) => {
                self.blocked = true;
                out.log(
                    Level::Error,
                    format!("Openprovider blocked this IP (10005) at {what}; stopping all calls"),
                );
                self.finish(id, Err(ApiError::Blocked));
            }
            Verdict::Code(196, _) if p.auth => {
                if p.relogged {
                    self.finish(id, Err(ApiError::Login));
                } else {
                    out.log(
                        Level::Info,
                        format!("Openprovider's token expired at {what}; logging in again"),
                    );
                    p.relogged = true;
                    p.attempt = 0;
                    p.first_sent_ms = None;
                    let used = p.token_used.take();
                    if matches!(&self.token, Token::Have(t) if Some(t) == used.as_ref()) {
                        self.token = Token::None;
                        out.send(RequestKind::ForgetToken);
                    }
                    self.ready.push_front(id);
                }
            }
            Verdict::Code(196, _) => self.finish(id, Err(ApiError::Login)),
            Verdict::Code(4005, desc) => {
                self.retry(id, now_ms, format!("maintenance (4005: {desc})"), out)
            }
            Verdict::Code(code, desc) => self.finish(id, Err(ApiError::Business { code, desc })),
            Verdict::Transient(why) => self.retry(id, now_ms, why, out),
        }
        if let Some(token) = self.fresh.take() {
            let cached = CachedToken {
                base_url: self.url.clone(),
                username: self.username.clone(),
                token,
                obtained_at: self.epoch_seconds + now_ms / 1000,
            };
            let text = serde_json::to_string(&cached).unwrap_or_default();
            out.send(RequestKind::StoreToken { text });
        }
    }

    /// A transient failure: another try after the backoff, or the call gives up.
    fn retry(&mut self, id: u64, now_ms: u64, last: String, out: &mut Outbox) {
        let delay = self.jitter.backoff(
            self.calls.get(&id).map_or(1, |p| p.attempt),
            FIRST_DELAY_MS,
            MAX_DELAY_MS,
        );
        let Some(p) = self.calls.get_mut(&id) else {
            return;
        };
        let spent = now_ms.saturating_sub(p.first_sent_ms.unwrap_or(now_ms));
        if p.attempt >= ATTEMPTS || spent + delay > MAX_ELAPSED_MS {
            let attempts = p.attempt;
            self.finish(id, Err(ApiError::Unavailable { attempts, last }));
            return;
        }
        let mut fields = BTreeMap::new();
        fields.insert("path".into(), Value::from(p.call.path.clone()));
        fields.insert("attempt".into(), Value::from(p.attempt));
        fields.insert("delay_ms".into(), Value::from(delay));
        out.log_with(
            Level::Warn,
            format!("retrying an Openprovider call: {last}"),
            fields,
        );
        p.due_ms = Some(now_ms + delay);
    }

    /// The time has come: retries that are due go back in line.
    pub(crate) fn tick(&mut self, now_ms: u64) {
        let due: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, p)| p.due_ms.is_some_and(|d| d <= now_ms))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(p) = self.calls.get_mut(&id) {
                p.due_ms = None;
                self.ready.push_back(id);
            }
        }
    }

    /// A call is over. The login's end is the API's own business: the calls waiting for
    /// it go on, or fail with it.
    fn finish(&mut self, id: u64, result: Result<Data, ApiError>) {
        self.calls.remove(&id);
        self.ready.retain(|r| *r != id);
        if self.login != Some(id) {
            self.done.push_back((id, result));
            return;
        }
        self.login = None;
        let token = result.and_then(|data| {
            serde_json::from_str::<Value>(&data)
                .ok()
                .and_then(|d| d.get("token")?.as_str().map(str::to_string))
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::Unavailable {
                    attempts: 1,
                    last: "the login answer held no token".into(),
                })
        });
        match token {
            Ok(token) => {
                self.token = Token::Have(token.clone());
                self.fresh = Some(token);
            }
            Err(e) => {
                self.refused = Some(e.clone());
                let waiting: Vec<u64> = self
                    .calls
                    .iter()
                    .filter(|(_, p)| p.auth && !p.in_flight)
                    .map(|(id, _)| *id)
                    .collect();
                for id in waiting {
                    self.calls.remove(&id);
                    self.ready.retain(|r| *r != id);
                    self.done.push_back((id, Err(e.clone())));
                }
            }
        }
    }
}

/// What one answer says.
enum Verdict {
    Data(Data),
    Code(i64, String),
    Transient(String),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    code: Option<i64>,
    #[serde(default)]
    desc: String,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// An answer judged by its envelope's code.
fn judge(status: u16, body: &[u8], what: &str) -> Verdict {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope {
            code: Some(0),
            data,
            ..
        }) => Verdict::Data(data.map_or_else(|| "null".to_string(), |d| d.get().to_string())),
        Ok(Envelope {
            code: Some(code),
            desc,
            ..
        }) => Verdict::Code(code, desc),
        _ => Verdict::Transient(format!(
            "{what}: HTTP {status} without an Openprovider answer"
        )),
    }
}

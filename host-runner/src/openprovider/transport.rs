//! One API call: the request, its envelope judged by `code` (never by HTTP status), and
//! retries of transient failures only, with backoff and jitter, bounded in count and
//! time. Code 10005 (IP blocked) stops every later call of this client at once.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{ApiError, Client, RetryPolicy, Secret};

/// One API request, as it is sent and, on a transient failure, sent again.
#[derive(Clone, Copy)]
pub(super) struct Call<'a> {
    pub(super) method: &'a reqwest::Method,
    pub(super) path: &'a str,
    pub(super) query: &'a [(String, String)],
    pub(super) body: Option<&'a Value>,
}

impl<'a> Call<'a> {
    pub(super) fn get(path: &'a str, query: &'a [(String, String)]) -> Call<'a> {
        Call {
            method: &reqwest::Method::GET,
            path,
            query,
            body: None,
        }
    }
}

/// What one request came to, before retries are decided.
enum Attempt {
    /// The envelope's `data`, as its JSON text (`None`: absent).
    Data(Option<Box<RawValue>>),
    /// An envelope with a non-zero code.
    Code(i64, String),
    /// No usable answer: worth another try.
    Transient(String),
}

#[derive(Deserialize)]
struct Envelope {
    code: Option<i64>,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    data: Option<Box<RawValue>>,
}

/// `data` as a value (`null` when absent).
fn value_of(data: Option<Box<RawValue>>) -> Result<Value, ApiError> {
    match data {
        None => Ok(Value::Null),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| ApiError::Unavailable {
            attempts: 1,
            last: format!("an answer that does not read back: {e}"),
        }),
    }
}

impl Client {
    /// A call with the session token: logs in when there is none, and once more when
    /// Openprovider says the token expired (196), then gives up.
    pub(super) async fn call(&self, call: Call<'_>) -> Result<Value, ApiError> {
        value_of(self.call_raw(call).await?)
    }

    /// [`Client::call`], its `data` left as JSON text (a listing page is read from it
    /// without building a tree of values).
    pub(super) async fn call_raw(&self, call: Call<'_>) -> Result<Option<Box<RawValue>>, ApiError> {
        let mut rejected: Option<Secret> = None;
        loop {
            let token = self.token(rejected.as_ref()).await?;
            match self.send_raw(call, Some(&token)).await {
                Err(ApiError::Business { code: 196, .. }) if rejected.is_none() => {
                    tracing::info!(
                        path = call.path,
                        "Openprovider token expired; logging in again"
                    );
                    rejected = Some(token);
                }
                Err(ApiError::Business { code: 196, .. }) => return Err(ApiError::Login),
                other => return other,
            }
        }
    }

    /// One API call with retries of transient failures.
    pub(super) async fn send(
        &self,
        call: Call<'_>,
        token: Option<&Secret>,
    ) -> Result<Value, ApiError> {
        value_of(self.send_raw(call, token).await?)
    }

    async fn send_raw(
        &self,
        call: Call<'_>,
        token: Option<&Secret>,
    ) -> Result<Option<Box<RawValue>>, ApiError> {
        let path = call.path;
        let policy = self.config.retry;
        let started = Instant::now();
        let mut last = String::new();
        for attempt in 1..=policy.attempts.max(1) {
            if self.blocked.load(Ordering::SeqCst) {
                return Err(ApiError::Blocked);
            }
            if attempt > 1 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            match self.attempt(call, token).await {
                Attempt::Data(data) => return Ok(data),
                Attempt::Code(10005, _) => {
                    self.blocked.store(true, Ordering::SeqCst);
                    tracing::error!(
                        path,
                        "Openprovider blocked this IP (10005); stopping all calls"
                    );
                    return Err(ApiError::Blocked);
                }
                Attempt::Code(4005, desc) => last = format!("maintenance (4005: {desc})"),
                Attempt::Code(code, desc) => return Err(ApiError::Business { code, desc }),
                Attempt::Transient(why) => last = why,
            }
            let delay = backoff(&policy, attempt);
            if attempt == policy.attempts || started.elapsed() + delay > policy.max_elapsed {
                return Err(ApiError::Unavailable {
                    attempts: attempt,
                    last,
                });
            }
            tracing::warn!(path, attempt, delay_ms = delay.as_millis() as u64, reason = %last, "retrying Openprovider call");
            tokio::time::sleep(delay).await;
        }
        Err(ApiError::Unavailable {
            attempts: policy.attempts,
            last,
        })
    }

    async fn attempt(&self, call: Call<'_>, token: Option<&Secret>) -> Attempt {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let Call {
            method,
            path,
            query,
            body,
        } = call;
        let url = format!("{}{path}", self.config.base_url.trim_end_matches('/'));
        let mut request = self.http.request(method.clone(), &url).query(query);
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = match request.send().await {
            Ok(r) => r,
            // reqwest's message names the URL, which holds no secret, and never headers.
            Err(e) if e.is_timeout() => {
                return Attempt::Transient(format!("{method} {path}: timed out"))
            }
            Err(e) => return Attempt::Transient(format!("{method} {path}: {}", without_url(&e))),
        };
        let status = response.status();
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Attempt::Transient(format!(
                    "{method} {path}: reading the answer: {}",
                    without_url(&e)
                ))
            }
        };
        tracing::debug!(%method, path, status = status.as_u16(), bytes = bytes.len(), "Openprovider answered");
        match serde_json::from_slice::<Envelope>(&bytes) {
            Ok(Envelope {
                code: Some(0),
                data,
                ..
            }) => Attempt::Data(data),
            Ok(Envelope {
                code: Some(code),
                desc,
                ..
            }) => Attempt::Code(code, desc),
            _ => Attempt::Transient(format!(
                "{method} {path}: HTTP {} without an Openprovider answer",
                status.as_u16()
            )),
        }
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut e_text = e.to_string();
    if let Some(url) = e.url() {
        e_text = e_text.replace(url.as_str(), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        e_text = format!("{e_text}: {s}");
        source = s.source();
    }
    e_text.replace("()", "").trim().to_string()
}

/// Exponential backoff with jitter: half to all of `first * 2^(attempt-1)`, capped.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let base = policy
        .first_delay
        .saturating_mul(1u32 << (attempt - 1).min(16))
        .min(policy.max_delay);
    use std::hash::{BuildHasher, Hasher};
    let noise = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let fraction = 0.5 + (noise % 1000) as f64 / 2000.0;
    base.mul_f64(fraction)
}

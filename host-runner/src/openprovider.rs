//! Openprovider's REST API (v1beta), as the sync uses it.
//!
//! - One login per run; the token is reused, and cached across runs for its lifetime in a
//!   file only its owner can read. On code 196 the client logs in again once and retries
//!   once, no more.
//! - Bulk listing in pages of 500, several pages at a time; the result is `complete` only
//!   when the pages agree (the total did not move, no page short, no domain twice).
//! - Look-ups by name (`domain_names[]`, 100 a call) for small batches; updates one PUT a
//!   domain, several at a time.
//! - Success and failure are judged by the envelope's `code`, never by the HTTP status.
//!   Only transient failures are retried (connection errors, timeouts, 5xx without a
//!   business code, unreadable answers, 4005 maintenance), with backoff and jitter,
//!   bounded in count and time. Business errors are never retried. Code 10005 (IP
//!   blocked) stops every call at once: more calls would keep the IP blocked.
//! - Passwords and tokens appear in no log line, error or report.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Openprovider's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.openprovider.eu/v1beta";

/// A token lives about two days; reuse a cached one for less than that.
const TOKEN_LIFETIME: Duration = Duration::from_secs(40 * 3600);

/// A password or token: printed as `***`, never as itself.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

/// Retries of transient failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts after this much time spent on one call.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub credentials: Credentials,
    /// Where the token is kept between runs; `None`: log in every run.
    pub token_cache: Option<PathBuf>,
    /// Requests in flight at once, for listing pages and updates.
    pub concurrency: usize,
    pub page_size: usize,
    /// Per request.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl ClientConfig {
    pub fn new(credentials: Credentials) -> ClientConfig {
        ClientConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            credentials,
            token_cache: None,
            concurrency: 4,
            page_size: 500,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// Why a call failed. Messages name what went wrong, never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
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
    #[error("the Openprovider client is misconfigured: {0}")]
    Config(String),
}

impl ApiError {
    pub fn code(&self) -> Option<i64> {
        match self {
            ApiError::Business { code, .. } => Some(*code),
            ApiError::Login => Some(196),
            ApiError::Blocked => Some(10005),
            _ => None,
        }
    }
}

/// One API request, as it is sent and, on a transient failure, sent again.
#[derive(Clone, Copy)]
struct Call<'a> {
    method: &'a reqwest::Method,
    path: &'a str,
    query: &'a [(String, String)],
    body: Option<&'a Value>,
}

impl<'a> Call<'a> {
    fn get(path: &'a str, query: &'a [(String, String)]) -> Call<'a> {
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
    Data(Value),
    /// An envelope with a non-zero code.
    Code(i64, String),
    /// No usable answer: worth another try.
    Transient(String),
}

/// Every domain of the account, as far as the listing could tell.
#[derive(Debug, Clone)]
pub struct Listing {
    pub domains: Vec<Value>,
    /// True only when the pages were consistent with each other.
    pub complete: bool,
    /// Why the listing is not complete.
    pub problems: Vec<String>,
}

/// What a look-up by names found.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub domains: Vec<Value>,
    /// `(name, kind, message)`: kind `not_found` or `error`, as the engine's `lookup_errors`.
    pub errors: Vec<(String, &'static str, String)>,
}

/// Calls made, for reports and tests.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub logins: AtomicU64,
}

pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    token: tokio::sync::Mutex<Option<Secret>>,
    blocked: AtomicBool,
    pub stats: Stats,
}

#[derive(Serialize, Deserialize)]
struct CachedToken {
    base_url: String,
    username: String,
    token: String,
    obtained_at: u64,
}

#[derive(Deserialize)]
struct Envelope {
    code: Option<i64>,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    data: Value,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        if config.concurrency == 0 || config.page_size == 0 || config.page_size > 1000 {
            return Err(ApiError::Config(
                "concurrency must be at least 1 and the page size from 1 to 1000".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("opsync/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| ApiError::Config(e.to_string()))?;
        Ok(Client {
            http,
            config,
            token: tokio::sync::Mutex::new(None),
            blocked: AtomicBool::new(false),
            stats: Stats::default(),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Every domain of the account, in pages, several at a time.
    pub async fn list_all(&self) -> Result<Listing, ApiError> {
        let size = self.config.page_size;
        let first = self.list_page(0, size).await?;
        let total = first.1;
        let offsets: Vec<usize> = (size..total).step_by(size).collect();
        let mut pages = vec![(0usize, first)];
        let rest: Vec<(usize, Result<Page, ApiError>)> = stream::iter(offsets)
            .map(|offset| async move { (offset, self.list_page(offset, size).await) })
            .buffer_unordered(self.config.concurrency)
            .collect()
            .await;
        for (offset, page) in rest {
            pages.push((offset, page?));
        }
        pages.sort_by_key(|(offset, _)| *offset);

        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut domains = Vec::with_capacity(total);
        for (offset, (results, page_total)) in pages {
            if page_total != total {
                problems.push(format!(
                    "the total moved from {total} to {page_total} while listing (page at {offset})"
                ));
            }
            let expected = size.min(total.saturating_sub(offset));
            if results.len() != expected {
                problems.push(format!(
                    "the page at {offset} held {} domains instead of {expected}",
                    results.len()
                ));
            }
            for d in results {
                let id = d["id"].as_u64();
                if !id.is_some_and(|id| seen.insert(id)) {
                    problems.push(format!(
                        "domain id {} was listed twice or has no id",
                        d["id"]
                    ));
                    continue;
                }
                domains.push(d);
            }
        }
        if domains.len() != total && problems.is_empty() {
            problems.push(format!("listed {} domains of {total}", domains.len()));
        }
        Ok(Listing {
            complete: problems.is_empty(),
            domains,
            problems,
        })
    }

    async fn list_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Value>, usize), ApiError> {
        let query = vec![
            ("limit".to_string(), limit.to_string()),
            ("offset".to_string(), offset.to_string()),
            ("order_by.id".to_string(), "asc".to_string()),
        ];
        let data = self.call(Call::get("/domains", &query)).await?;
        page_of(&data)
    }

    /// The named domains (100 a call). Names the API does not know are `not_found`;
    /// names whose call failed for good are `error`. A block (10005) fails the whole call.
    pub async fn lookup(&self, names: &[String]) -> Result<Lookup, ApiError> {
        let mut lookup = Lookup::default();
        for chunk in names.chunks(100) {
            let mut query: Vec<(String, String)> = chunk
                .iter()
                .map(|n| ("domain_names[]".to_string(), n.clone()))
                .collect();
            query.push(("limit".to_string(), "1000".to_string()));
            match self.call(Call::get("/domains", &query)).await {
                Ok(data) => {
                    let (results, _) = page_of(&data)?;
                    let found: std::collections::HashSet<String> =
                        results.iter().map(full_name).collect();
                    for name in chunk {
                        if !found.contains(&name.to_lowercase()) {
                            lookup.errors.push((
                                name.clone(),
                                "not_found",
                                "Openprovider does not list this domain in the account".into(),
                            ));
                        }
                    }
                    lookup.domains.extend(results);
                }
                Err(ApiError::Blocked) => return Err(ApiError::Blocked),
                Err(e) => {
                    for name in chunk {
                        lookup.errors.push((name.clone(), "error", e.to_string()));
                    }
                }
            }
        }
        Ok(lookup)
    }

    /// One look-up per name, a few at a time: the old cron's way, kept to measure
    /// against (`opsync sync --lookup per-domain`).
    pub async fn lookup_each(&self, names: &[String]) -> Result<Lookup, ApiError> {
        let parts: Vec<Result<Lookup, ApiError>> = stream::iter(names.chunks(1))
            .map(|one| self.lookup(one))
            .buffered(self.config.concurrency)
            .collect()
            .await;
        let mut all = Lookup::default();
        for part in parts {
            let part = part?;
            all.domains.extend(part.domains);
            all.errors.extend(part.errors);
        }
        Ok(all)
    }

    /// One `PUT /domains/{id}` with the fields to change.
    pub async fn update(&self, id: u64, fields: &Value) -> Result<Value, ApiError> {
        let path = format!("/domains/{id}");
        self.call(Call {
            method: &reqwest::Method::PUT,
            path: &path,
            query: &[],
            body: Some(fields),
        })
        .await
    }

    /// Several updates, a few at a time; results in the order given.
    pub async fn update_many(&self, updates: &[(u64, Value)]) -> Vec<Result<Value, ApiError>> {
        let mut results: Vec<(usize, Result<Value, ApiError>)> =
            stream::iter(updates.iter().enumerate())
                .map(|(i, (id, fields))| async move { (i, self.update(*id, fields).await) })
                .buffer_unordered(self.config.concurrency)
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// A call with the session token: logs in when there is none, and once more when
    /// Openprovider says the token expired (196), then gives up.
    async fn call(&self, call: Call<'_>) -> Result<Value, ApiError> {
        let mut rejected: Option<Secret> = None;
        loop {
            let token = self.token(rejected.as_ref()).await?;
            match self.send(call, Some(&token)).await {
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

    /// The token to use: the one in memory, else a cached one, else a new login. With
    /// `rejected`, that token is dropped and a new one obtained, unless another call
    /// already renewed it meanwhile (pages in flight share one new login).
    async fn token(&self, rejected: Option<&Secret>) -> Result<Secret, ApiError> {
        let mut slot = self.token.lock().await;
        if let Some(rejected) = rejected {
            if slot.as_ref().is_none_or(|current| current == rejected) {
                *slot = None;
                self.forget_cached_token();
            }
        }
        if let Some(token) = slot.as_ref() {
            return Ok(token.clone());
        }
        if rejected.is_none() {
            if let Some(token) = self.cached_token() {
                *slot = Some(token.clone());
                return Ok(token);
            }
        }
        let token = self.login().await?;
        self.store_token(&token);
        *slot = Some(token.clone());
        Ok(token)
    }

    async fn login(&self) -> Result<Secret, ApiError> {
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::json!({
            "username": self.config.credentials.username,
            "password": self.config.credentials.password.expose(),
        });
        let call = Call {
            method: &reqwest::Method::POST,
            path: "/auth/login",
            query: &[],
            body: Some(&body),
        };
        match self.send(call, None).await {
            Ok(data) => data["token"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(Secret::new)
                .ok_or_else(|| ApiError::Unavailable {
                    attempts: 1,
                    last: "the login answer held no token".into(),
                }),
            Err(ApiError::Business { code: 196, .. }) => Err(ApiError::Login),
            Err(e) => Err(e),
        }
    }

    /// One API call with retries of transient failures.
    async fn send(&self, call: Call<'_>, token: Option<&Secret>) -> Result<Value, ApiError> {
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

    fn cached_token(&self) -> Option<Secret> {
        let path = self.config.token_cache.as_ref()?;
        let cached: CachedToken = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        let age = now().saturating_sub(cached.obtained_at);
        (cached.base_url == self.config.base_url
            && cached.username == self.config.credentials.username
            && age < TOKEN_LIFETIME.as_secs())
        .then(|| Secret::new(cached.token))
    }

    fn store_token(&self, token: &Secret) {
        let Some(path) = self.config.token_cache.as_ref() else {
            return;
        };
        let cached = CachedToken {
            base_url: self.config.base_url.clone(),
            username: self.config.credentials.username.clone(),
            token: token.expose().to_string(),
            obtained_at: now(),
        };
        let written = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                crate::private_file::write(path, &serde_json::to_vec(&cached).unwrap_or_default())
            });
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot cache the Openprovider token");
        }
    }

    fn forget_cached_token(&self) {
        if let Some(path) = self.config.token_cache.as_ref() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One page of a listing: its domains and the total the API reported with it.
type Page = (Vec<Value>, usize);

fn page_of(data: &Value) -> Result<Page, ApiError> {
    let results = data["results"].as_array().cloned().unwrap_or_default();
    let total = data["total"]
        .as_u64()
        .ok_or_else(|| ApiError::Unavailable {
            attempts: 1,
            last: "a listing without a total".into(),
        })?;
    Ok((results, total as usize))
}

/// `name.extension`, lower case, as Openprovider lists it.
pub fn full_name(domain: &Value) -> String {
    format!(
        "{}.{}",
        domain["domain"]["name"].as_str().unwrap_or(""),
        domain["domain"]["extension"].as_str().unwrap_or("")
    )
    .to_lowercase()
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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

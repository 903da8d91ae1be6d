//! Openprovider's REST API (v1beta), as the sync uses it. One client, five jobs, one
//! module each: `transport` (a call, its envelope, retries), `token` (login, token
//! reuse and cache), `listing` (the bulk listing and whether it is complete),
//! `lookup` (look-ups by name) and `update` (the `PUT`s).
//!
//! - One login per run; the token is reused, and cached across runs for its lifetime in a
//!   file only its owner can read. On code 196 the client logs in again once and retries
//!   once, no more.
//! - Bulk listing in pages of 500, several pages at a time; the result is `complete` only
//!   when the pages agree (the total did not move, no page short, no domain twice).
//! - Look-ups by name (`domain_names`, repeated, 100 a call) for small batches; updates
//!   one PUT a domain, several at a time. Query keys and encodings are exactly those of
//!   Openprovider's own client (arrays as the key repeated, booleans `true`/`false`).
//! - The base URL may be given with or without `/v1beta`.
//! - Success and failure are judged by the envelope's `code`, never by the HTTP status.
//!   Only transient failures are retried (connection errors, timeouts, 5xx without a
//!   business code, unreadable answers, 4005 maintenance), with backoff and jitter,
//!   bounded in count and time. Business errors are never retried. Code 10005 (IP
//!   blocked) stops every call at once: more calls would keep the IP blocked.
//! - Passwords and tokens appear in no log line, error or report.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use serde::Deserialize;

mod listing;
mod lookup;
mod token;
mod transport;
mod update;

pub use listing::{id_of, judge, name_of, Listing, Page, Record};
pub use lookup::{full_name, Lookup};
pub use update::Body;

/// Openprovider's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.openprovider.eu/v1beta";

/// The API's base URL as calls are made on it: `…/v1beta`, whether `url` names the
/// version or only the host (`https://api.openprovider.eu`, with or without `/`).
pub fn api_base(url: &str) -> Result<String, String> {
    let parsed =
        url::Url::parse(url).map_err(|e| format!("the base URL {url:?} is not a URL: {e}"))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "the base URL {url:?} must not hold a query or fragment"
        ));
    }
    let path = parsed.path().trim_end_matches('/');
    let base = url.trim_end_matches('/');
    match path {
        "" => Ok(format!("{base}/v1beta")),
        p if p.ends_with("/v1beta") => Ok(base.to_string()),
        p => Err(format!(
            "the base URL {url:?} ends in {p:?}; give Openprovider's API as \
             https://api.openprovider.eu or https://api.openprovider.eu/v1beta"
        )),
    }
}

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
            concurrency: 8,
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

impl Client {
    pub fn new(mut config: ClientConfig) -> Result<Client, ApiError> {
        config.base_url = api_base(&config.base_url).map_err(ApiError::Config)?;
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
}

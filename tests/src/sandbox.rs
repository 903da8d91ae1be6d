//! An Openprovider sandbox: the REST API subset opsync uses, with its envelopes, codes and
//! field names (see `openprovider-api/` in the shared design documents and `DOMAIN.md`),
//! state in memory, and faults to inject.
//!
//! Endpoints (all under `/v1beta`):
//! - `POST /auth/login` `{username, password}` -> `{token, reseller_id}`
//! - `GET /domains` with `limit`, `offset`, `full_name`, `domain_name_pattern` +
//!   `extension`, `domain_names[]`, `status`, `is_deleted`, `order_by.<field>`
//! - `GET /domains/{id}`
//! - `PUT /domains/{id}` with `autorenew` and/or `is_private_whois_enabled`: code 366 when
//!   the domain is not ACT, 347 for a bad auto-renew value, 19006 where privacy is not allowed
//!
//! Control (not Openprovider's): `GET /__sandbox/counters`, `GET /__sandbox/domains`,
//! `POST /__sandbox/faults` with a [`Faults`] object, `POST /__sandbox/reset`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What the sandbox holds at start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seed {
    #[serde(default = "default_username")]
    pub username: String,
    #[serde(default = "default_password")]
    pub password: String,
    /// Domain objects as the API returns them (at least `id` and `domain`).
    pub domains: Vec<Value>,
}

fn default_username() -> String {
    "opsync-demo".to_string()
}

fn default_password() -> String {
    "demo-password".to_string()
}

impl Seed {
    pub fn new(domains: Vec<Value>) -> Seed {
        Seed {
            username: default_username(),
            password: default_password(),
            domains,
        }
    }
}

/// Faults to inject. Counts apply to the next requests of any kind, in arrival order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every request.
    pub latency_ms: u64,
    /// The next N requests fail: HTTP 500 with business code 399, or a bare 502.
    pub fail_next: u32,
    pub fail_bare_502: bool,
    /// A token stops working (code 196) after this many calls made with it.
    pub expire_token_after: Option<u32>,
    /// More identical calls than this (same method, path, query and body) block the
    /// caller (code 10005) until reset, as Openprovider blocks an IP.
    pub block_after_identical: Option<u32>,
    /// Every request answers code 4005, maintenance.
    pub maintenance: bool,
    /// The next N answers are not JSON at all.
    pub malformed_next: u32,
    /// The next N answers are cut off halfway.
    pub truncated_next: u32,
    /// After this many list calls, a domain appears (`insert`) or the lowest id vanishes.
    pub shift_after_list_calls: Option<u32>,
    pub shift_inserts: bool,
    /// The next N requests hang this long before answering (past a client's timeout).
    pub hang_next: u32,
    pub hang_ms: u64,
}

/// Requests seen, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub total: u64,
    pub login: u64,
    pub list: u64,
    pub get: u64,
    pub update: u64,
    /// Answered with an injected fault or an auth error.
    pub faulted: u64,
}

struct Shared {
    seed: Seed,
    state: Mutex<SandboxState>,
}

struct SandboxState {
    domains: BTreeMap<u64, Value>,
    tokens: HashMap<String, u32>,
    issued: u64,
    faults: Faults,
    counters: Counters,
    identical: HashMap<String, u32>,
    blocked: bool,
    shifted: bool,
}

impl SandboxState {
    fn new(seed: &Seed) -> SandboxState {
        let domains = seed
            .domains
            .iter()
            .filter_map(|d| Some((d["id"].as_u64()?, d.clone())))
            .collect();
        SandboxState {
            domains,
            tokens: HashMap::new(),
            issued: 0,
            faults: Faults::default(),
            counters: Counters::default(),
            identical: HashMap::new(),
            blocked: false,
            shifted: false,
        }
    }
}

/// A running sandbox on 127.0.0.1.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1:port` (0: any free port) in the current runtime.
    pub async fn start(seed: Seed, port: u16) -> std::io::Result<Sandbox> {
        let shared = Arc::new(Shared {
            state: Mutex::new(SandboxState::new(&seed)),
            seed,
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Sandbox {
            addr,
            shared,
            shutdown: Some(tx),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base URL, e.g. `http://127.0.0.1:4711/v1beta`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1beta", self.addr)
    }

    pub fn username(&self) -> &str {
        &self.shared.seed.username
    }

    pub fn password(&self) -> &str {
        &self.shared.seed.password
    }

    pub fn set_faults(&self, faults: Faults) {
        lock(&self.shared).faults = faults;
    }

    pub fn counters(&self) -> Counters {
        lock(&self.shared).counters.clone()
    }

    pub fn domain(&self, id: u64) -> Option<Value> {
        lock(&self.shared).domains.get(&id).cloned()
    }

    pub fn domains(&self) -> Vec<Value> {
        lock(&self.shared).domains.values().cloned().collect()
    }

    /// Back to the seed: domains, tokens, faults, counters.
    pub fn reset(&self) {
        let mut state = lock(&self.shared);
        *state = SandboxState::new(&self.shared.seed);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, SandboxState> {
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1beta/auth/login", post(login))
        .route("/v1beta/domains", get(list))
        .route("/v1beta/domains/{id}", get(get_one).put(update))
        .route("/__sandbox/counters", get(control_counters))
        .route("/__sandbox/domains", get(control_domains))
        .route("/__sandbox/faults", post(control_faults))
        .route("/__sandbox/reset", post(control_reset))
        .with_state(shared)
}

/// An Openprovider envelope.
fn envelope(status: StatusCode, code: i64, desc: &str, data: Value) -> Reply {
    let mut body = json!({"code": code, "desc": desc});
    if !data.is_null() {
        body["data"] = data;
    }
    if code == 4005 {
        body["maintenance"] = json!(true);
    }
    Reply::Json(status, body)
}

enum Reply {
    Json(StatusCode, Value),
    Bare(StatusCode, &'static str),
}

enum Kind {
    Login,
    List,
    Get,
    Update,
}

/// Everything every API request goes through: counting, latency, hangs, blocks,
/// maintenance, injected failures, authentication; then the handler, then body faults.
async fn serve(
    shared: Arc<Shared>,
    kind: Kind,
    fingerprint: String,
    headers: &HeaderMap,
    handler: impl FnOnce(&mut SandboxState) -> Reply,
) -> Response {
    let (latency, hang) = {
        let mut s = lock(&shared);
        s.counters.total += 1;
        match kind {
            Kind::Login => s.counters.login += 1,
            Kind::List => s.counters.list += 1,
            Kind::Get => s.counters.get += 1,
            Kind::Update => s.counters.update += 1,
        }
        let hang = if s.faults.hang_next > 0 {
            s.faults.hang_next -= 1;
            s.faults.hang_ms
        } else {
            0
        };
        (s.faults.latency_ms, hang)
    };
    if latency + hang > 0 {
        tokio::time::sleep(Duration::from_millis(latency + hang)).await;
    }

    let mut s = lock(&shared);
    let reply = gate(&mut s, &kind, &fingerprint, headers).unwrap_or_else(|| handler(&mut s));
    if matches!(&reply, Reply::Bare(..))
        || matches!(&reply, Reply::Json(_, b) if b["code"].as_i64() != Some(0))
    {
        s.counters.faulted += 1;
    }
    let (status, text) = match reply {
        Reply::Bare(status, text) => return (status, text).into_response(),
        Reply::Json(status, body) => (status, body.to_string()),
    };
    if s.faults.malformed_next > 0 {
        s.faults.malformed_next -= 1;
        return (status, "<html><body>502 Bad Gateway</body></html>").into_response();
    }
    if s.faults.truncated_next > 0 {
        s.faults.truncated_next -= 1;
        let cut = text.len() / 2;
        return (
            status,
            [("content-type", "application/json")],
            text[..cut].to_string(),
        )
            .into_response();
    }
    (status, [("content-type", "application/json")], text).into_response()
}

/// The checks before a handler runs; `Some` is the answer instead.
fn gate(
    s: &mut SandboxState,
    kind: &Kind,
    fingerprint: &str,
    headers: &HeaderMap,
) -> Option<Reply> {
    if s.blocked {
        return Some(envelope(
            StatusCode::FORBIDDEN,
            10005,
            "Access denied",
            Value::Null,
        ));
    }
    if let Some(limit) = s.faults.block_after_identical {
        let seen = s.identical.entry(fingerprint.to_string()).or_default();
        *seen += 1;
        if *seen > limit {
            s.blocked = true;
            return Some(envelope(
                StatusCode::FORBIDDEN,
                10005,
                "Access denied",
                Value::Null,
            ));
        }
    }
    if s.faults.maintenance {
        return Some(envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            4005,
            "Openprovider is in maintenance",
            Value::Null,
        ));
    }
    if s.faults.fail_next > 0 {
        s.faults.fail_next -= 1;
        return Some(if s.faults.fail_bare_502 {
            Reply::Bare(StatusCode::BAD_GATEWAY, "Bad Gateway")
        } else {
            envelope(
                StatusCode::INTERNAL_SERVER_ERROR,
                399,
                "Unknown domain error",
                json!("sandbox: injected failure"),
            )
        });
    }
    if matches!(kind, Kind::Login) {
        return None;
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expire_after = s.faults.expire_token_after;
    match s.tokens.get_mut(token) {
        Some(calls) if expire_after.is_some_and(|n| *calls >= n) => {
            s.tokens.remove(token);
            Some(envelope(
                StatusCode::UNAUTHORIZED,
                196,
                "Authentication/Authorization Failed",
                Value::Null,
            ))
        }
        Some(calls) => {
            *calls += 1;
            None
        }
        None => Some(envelope(
            StatusCode::UNAUTHORIZED,
            196,
            "Authentication/Authorization Failed",
            Value::Null,
        )),
    }
}

#[derive(Deserialize)]
struct LoginBody {
    username: Option<String>,
    password: Option<String>,
}

async fn login(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let fingerprint = format!("POST /auth/login {}", String::from_utf8_lossy(&body));
    let seed_user = shared.seed.username.clone();
    let seed_pass = shared.seed.password.clone();
    serve(
        shared.clone(),
        Kind::Login,
        fingerprint,
        &headers,
        move |s| {
            let Ok(creds) = serde_json::from_slice::<LoginBody>(&body) else {
                return envelope(StatusCode::BAD_REQUEST, 1, "Bad request", Value::Null);
            };
            if creds.username.as_deref() != Some(seed_user.as_str())
                || creds.password.as_deref() != Some(seed_pass.as_str())
            {
                return envelope(
                    StatusCode::UNAUTHORIZED,
                    196,
                    "Authentication/Authorization Failed",
                    Value::Null,
                );
            }
            s.issued += 1;
            let token = format!(
                "sbx{:016x}{:08x}",
                s.issued.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                s.issued
            );
            s.tokens.insert(token.clone(), 0);
            envelope(
                StatusCode::OK,
                0,
                "",
                json!({"token": token, "reseller_id": 123456}),
            )
        },
    )
    .await
}

/// The query's (key, value) pairs, decoded; `domain_names[]` may repeat.
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn full_name(d: &Value) -> String {
    format!(
        "{}.{}",
        d["domain"]["name"].as_str().unwrap_or(""),
        d["domain"]["extension"].as_str().unwrap_or("")
    )
}

/// `*` matches any run of characters; the rest matches itself, case-insensitively.
fn pattern_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_lowercase(), text.to_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fingerprint = format!("GET /domains?{}", query.as_deref().unwrap_or(""));
    serve(shared, Kind::List, fingerprint, &headers, move |s| {
        let pairs = query_pairs(query.as_deref());
        let one = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let limit = match one("limit").map(|v| v.parse::<usize>()) {
            None => 100,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            Some(_) => return envelope(StatusCode::BAD_REQUEST, 1, "limit must be from 1 to 1000", Value::Null),
        };
        let offset = match one("offset").map(|v| v.parse::<usize>()) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return envelope(StatusCode::BAD_REQUEST, 1, "offset must be a number", Value::Null),
        };
        let names: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == "domain_names[]" || k.starts_with("domain_names["))
            .map(|(_, v)| v.to_lowercase())
            .collect();
        if names.len() > 100 {
            return envelope(StatusCode::BAD_REQUEST, 1, "at most 100 domain_names per request", Value::Null);
        }

        // A domain appears or vanishes between two pages.
        if let Some(after) = s.faults.shift_after_list_calls {
            if !s.shifted && s.counters.list > u64::from(after) {
                s.shifted = true;
                if s.faults.shift_inserts {
                    let id = s.domains.keys().next_back().copied().unwrap_or(0) + 1;
                    s.domains.insert(
                        id,
                        json!({"id": id, "domain": {"name": format!("appeared-{id}"), "extension": "com"},
                               "status": "ACT", "is_deleted": false}),
                    );
                } else if let Some(first) = s.domains.keys().next().copied() {
                    s.domains.remove(&first);
                }
            }
        }

        let full = one("full_name").map(|v| v.to_lowercase());
        let pattern = one("domain_name_pattern");
        let extension = one("extension").map(|v| v.to_lowercase());
        let status = one("status");
        let deleted = one("is_deleted").map(|v| v == "true" || v == "1");
        let mut results: Vec<&Value> = s
            .domains
            .values()
            .filter(|d| full.as_ref().is_none_or(|f| full_name(d).to_lowercase() == *f))
            .filter(|d| names.is_empty() || names.contains(&full_name(d).to_lowercase()))
            .filter(|d| {
                pattern
                    .as_ref()
                    .is_none_or(|p| pattern_matches(p, d["domain"]["name"].as_str().unwrap_or("")))
            })
            .filter(|d| {
                extension
                    .as_ref()
                    .is_none_or(|e| d["domain"]["extension"].as_str().unwrap_or("").to_lowercase() == *e)
            })
            .filter(|d| status.as_ref().is_none_or(|st| d["status"].as_str() == Some(st)))
            .filter(|d| deleted.is_none_or(|del| d["is_deleted"].as_bool().unwrap_or(false) == del))
            .collect();

        if let Some((key, direction)) = pairs.iter().find(|(k, _)| k.starts_with("order_by.")) {
            let field = &key["order_by.".len()..];
            let sort_key = |d: &Value| -> String {
                match field {
                    "id" => format!("{:020}", d["id"].as_u64().unwrap_or(0)),
                    "domain_name" => d["domain"]["name"].as_str().unwrap_or("").to_string(),
                    "domain_extension" => d["domain"]["extension"].as_str().unwrap_or("").to_string(),
                    other => d[other].as_str().unwrap_or("").to_string(),
                }
            };
            results.sort_by_key(|d| sort_key(d));
            if direction.eq_ignore_ascii_case("desc") {
                results.reverse();
            }
        }

        let total = results.len();
        let page: Vec<Value> = results.into_iter().skip(offset).take(limit).cloned().collect();
        envelope(StatusCode::OK, 0, "", json!({"results": page, "total": total}))
    })
    .await
}

async fn get_one(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let fingerprint = format!("GET /domains/{id}");
    serve(shared, Kind::Get, fingerprint, &headers, move |s| match id
        .parse::<u64>()
        .ok()
        .and_then(|id| s.domains.get(&id))
    {
        Some(d) => envelope(StatusCode::OK, 0, "", d.clone()),
        None => envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            320,
            "Domain is not in your account",
            Value::Null,
        ),
    })
    .await
}

async fn update(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fingerprint = format!("PUT /domains/{id} {}", String::from_utf8_lossy(&body));
    serve(shared, Kind::Update, fingerprint, &headers, move |s| {
        let Some(domain) = id.parse::<u64>().ok().and_then(|id| s.domains.get_mut(&id)) else {
            return envelope(
                StatusCode::INTERNAL_SERVER_ERROR,
                320,
                "Domain is not in your account",
                Value::Null,
            );
        };
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
            return envelope(StatusCode::BAD_REQUEST, 1, "Bad request", Value::Null);
        };
        if domain["status"].as_str() != Some("ACT") {
            return envelope(
                StatusCode::INTERNAL_SERVER_ERROR,
                366,
                "Action is prohibited for current domain status",
                Value::Null,
            );
        }
        if let Some(autorenew) = body.get("autorenew") {
            match autorenew.as_str() {
                Some("on" | "off" | "default") => {}
                _ => {
                    return envelope(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        347,
                        "Wrong autorenew value",
                        Value::Null,
                    )
                }
            }
        }
        if body.get("is_private_whois_enabled") == Some(&json!(true))
            && domain["is_private_whois_allowed"] == json!(false)
        {
            return envelope(
                StatusCode::INTERNAL_SERVER_ERROR,
                19006,
                "WHOIS privacy is not supported for this TLD",
                Value::Null,
            );
        }
        for field in ["autorenew", "is_private_whois_enabled"] {
            if let Some(v) = body.get(field) {
                domain[field] = v.clone();
            }
        }
        let status = domain["status"].clone();
        envelope(
            StatusCode::OK,
            0,
            "",
            json!({"id": domain["id"], "status": status}),
        )
    })
    .await
}

async fn control_counters(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(lock(&shared).counters.clone()).into_response()
}

async fn control_domains(State(shared): State<Arc<Shared>>) -> Response {
    let domains: Vec<Value> = lock(&shared).domains.values().cloned().collect();
    axum::Json(domains).into_response()
}

async fn control_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            lock(&shared).faults = faults;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("faults: {e}")).into_response(),
    }
}

async fn control_reset(State(shared): State<Arc<Shared>>) -> Response {
    let mut state = lock(&shared);
    *state = SandboxState::new(&shared.seed);
    StatusCode::NO_CONTENT.into_response()
}

/// `count` ACT domains `name-000001.com` ... with ids from 1, for tests and benchmarks.
pub fn generated_domains(count: usize) -> Vec<Value> {
    (1..=count)
        .map(|i| {
            let extension = ["com", "nl", "eu", "net"][i % 4];
            json!({
                "id": i,
                "domain": {"name": format!("domain-{i:06}"), "extension": extension},
                "status": "ACT",
                "expiration_date": format!("2027-{:02}-{:02} 00:00:00", 1 + i % 12, 1 + i % 28),
                "renewal_date": format!("2027-{:02}-{:02} 00:00:00", 1 + i % 12, 1 + i % 28),
                "autorenew": "default",
                "is_private_whois_enabled": false,
                "is_private_whois_allowed": true,
                "is_deleted": false,
            })
        })
        .collect()
}

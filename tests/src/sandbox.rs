//! An Openprovider sandbox: the REST API subset opsync uses, with its envelopes, codes and
//! field names (see `openprovider-api/` in the shared design documents and `DOMAIN.md`),
//! state in memory, and faults to inject.
//!
//! Endpoints (all under `/v1beta`):
//! - `POST /auth/login` `{username, password}` -> `{token, reseller_id}`
//! - `GET /domains` with `limit`, `offset`, `id`, `full_name`, `domain_name_pattern` +
//!   `extension`, `domain_names` (repeated), `status`, `status_not_equal` (repeated),
//!   `is_deleted`, `order_by.<field>`, and the `with_*` flags (accepted, no effect). As at
//!   Openprovider, a domain with `is_deleted: true` is left out of listings and look-ups
//!   unless `is_deleted=true` is asked for (which lists only deleted ones)
//! - `GET /domains/{id}`
//! - `PUT /domains/{id}` with `autorenew` and/or `is_private_whois_enabled`: code 366 when
//!   the domain is not ACT, 347 for a bad auto-renew value, 19006 where privacy is not allowed
//!
//! Strict as Openprovider's gateway is: a query key Openprovider's own client does not send
//! for that call ([`LIST_QUERY_KEYS`], as `DOMAIN.md` lists them: the bracket form
//! `domain_names[]` is not among them), a key given twice that is no array, or a malformed value (an unknown status code,
//! a boolean that is not `true`/`false`, `limit` over 1000, an `order_by` direction other
//! than `asc`/`desc`) is refused with code [`INVALID_PARAMETER`] and a message naming it,
//! never ignored. Keys Openprovider knows but the sandbox does not model (e.g.
//! `ns_group_pattern`) are refused too, saying so, so a test can never pass on a filter
//! that was silently dropped.
//!
//! Control (not Openprovider's): `GET /__sandbox/counters`, `GET /__sandbox/domains`,
//! `GET /__sandbox/seen` (the keys each call was sent), `POST /__sandbox/faults` with a
//! [`Faults`] object, `POST /__sandbox/reset`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
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
    /// The next N requests fail: HTTP 500 with business code 399, or a bare 502 (with
    /// `fail_bare_502`; its body empty with `fail_empty_body`).
    pub fail_next: u32,
    pub fail_bare_502: bool,
    pub fail_empty_body: bool,
    /// Every Nth request (by arrival) fails with a bare 502: a steady rate of transient
    /// failures (20: 5%).
    pub fail_every: Option<u64>,
    /// Updates of these domain ids are refused (HTTP 500, code 399).
    pub refuse_update_ids: Vec<u64>,
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
    /// Look-ups behave as a gateway that drops `domain_names`: every domain comes back.
    pub ignore_domain_names: bool,
    /// These query keys are refused as unknown, as a gateway that does not know them would.
    pub refuse_keys: Vec<String>,
    /// `order_by` is accepted and has no effect: results come in id order.
    pub ignore_order_by: bool,
}

/// The code the sandbox answers a refused query key or value with (Openprovider's
/// gateway answers `status=act` with 515).
pub const INVALID_PARAMETER: i64 = 515;

/// The query keys Openprovider's own PHP client (`DomainServiceApi::listDomains`) sends
/// for `GET /domains`, besides `order_by.<field>`; `DOMAIN.md` lists the same.
pub const LIST_QUERY_KEYS: &[&str] = &[
    "limit",
    "offset",
    "id",
    "extension",
    "renewal_date",
    "full_name",
    "domain_name_pattern",
    "ns_group_pattern",
    "status",
    "status_not_equal",
    "queue_status",
    "contact_handle",
    "comment_pattern",
    "with_history",
    "with_api_history",
    "with_additional_data",
    "application_mode",
    "with_verification_email",
    "with_registry_statuses",
    "response.type",
    "response.to",
    "is_deleted",
    "with_abuse_details",
    "is_abusive",
    "domain_names",
];

/// The fields `GET /domains` orders by (`order_by.<field>=asc|desc`).
pub const LIST_ORDER_BY_FIELDS: &[&str] = &[
    "id",
    "domain_name",
    "domain_extension",
    "order_date",
    "active_date",
    "expiration_date",
    "renewal_date",
    "status",
    "transfer_date",
];

/// Keys that may repeat (arrays, sent as the same key once per element).
const ARRAY_KEYS: &[&str] = &["domain_names", "status_not_equal"];
const BOOLEAN_KEYS: &[&str] = &[
    "with_history",
    "with_api_history",
    "with_additional_data",
    "with_verification_email",
    "with_registry_statuses",
    "is_deleted",
    "with_abuse_details",
    "is_abusive",
];
/// Known but not modelled: refused, saying so.
const UNMODELLED_KEYS: &[&str] = &[
    "renewal_date",
    "ns_group_pattern",
    "queue_status",
    "contact_handle",
    "comment_pattern",
    "application_mode",
    "response.type",
    "response.to",
    "is_abusive",
];
/// The status codes `DOMAIN.md` names.
pub const STATUS_CODES: &[&str] = &["ACT", "DEL", "FAI", "PEN", "PRE", "REQ", "RRQ", "SCH"];

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
    username: String,
    password: String,
    domains: BTreeMap<u64, Value>,
    /// The listing's index, built once and kept until a domain is added, removed or
    /// renamed (`domains_mut` drops it): pages cost O(page), not O(account).
    index: Option<Index>,
    tokens: HashMap<String, u32>,
    issued: u64,
    faults: Faults,
    counters: Counters,
    identical: HashMap<String, u32>,
    blocked: bool,
    shifted: bool,
    /// The query (and body) keys each kind of call was sent, refused ones included.
    seen: BTreeMap<String, BTreeSet<String>>,
    /// The `domain_names` of each look-up by name, in the order they came.
    names_asked: Vec<Vec<String>>,
}

impl SandboxState {
    fn new(seed: &Seed) -> SandboxState {
        let domains = seed
            .domains
            .iter()
            .filter_map(|d| Some((d["id"].as_u64()?, d.clone())))
            .collect();
        SandboxState {
            username: seed.username.clone(),
            password: seed.password.clone(),
            domains,
            tokens: HashMap::new(),
            issued: 0,
            faults: Faults::default(),
            counters: Counters::default(),
            identical: HashMap::new(),
            blocked: false,
            shifted: false,
            seen: BTreeMap::new(),
            names_asked: Vec::new(),
            index: None,
        }
    }

    /// The domains, to change: the listing's index is rebuilt at the next listing.
    fn domains_mut(&mut self) -> &mut BTreeMap<u64, Value> {
        self.index = None;
        &mut self.domains
    }

    fn index(&mut self) -> &Index {
        let domains = &self.domains;
        self.index.get_or_insert_with(|| Index::new(domains))
    }
}

/// What a listing needs without looking at every domain: the live (not deleted) ids in
/// id order, and the ids of each lower-case `name.extension`.
struct Index {
    live: Vec<u64>,
    by_name: HashMap<String, Vec<u64>>,
}

impl Index {
    fn new(domains: &BTreeMap<u64, Value>) -> Index {
        let mut live = Vec::with_capacity(domains.len());
        let mut by_name: HashMap<String, Vec<u64>> = HashMap::with_capacity(domains.len());
        for (id, d) in domains {
            if !d["is_deleted"].as_bool().unwrap_or(false) {
                live.push(*id);
            }
            by_name
                .entry(full_name(d).to_lowercase())
                .or_default()
                .push(*id);
        }
        Index { live, by_name }
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

    /// Changes the domain `name.extension` as if at Openprovider's control panel.
    /// Panics when there is no such domain.
    pub fn edit_domain(&self, full_name: &str, edit: impl FnOnce(&mut Value)) {
        let mut state = lock(&self.shared);
        let domain = state
            .domains_mut()
            .values_mut()
            .find(|d| {
                format!(
                    "{}.{}",
                    d["domain"]["name"].as_str().unwrap_or_default(),
                    d["domain"]["extension"].as_str().unwrap_or_default()
                ) == full_name
            })
            .unwrap_or_else(|| panic!("no domain {full_name} in the sandbox"));
        edit(domain);
    }

    /// The keys each kind of call was sent (`GET /domains` query keys, `POST /auth/login`
    /// body keys, ...), refused ones included.
    pub fn seen_keys(&self) -> BTreeMap<String, BTreeSet<String>> {
        lock(&self.shared).seen.clone()
    }

    /// The `domain_names` of each look-up by name so far (deleted ones' included), in the
    /// order the calls came: which rows a batch looked up.
    pub fn names_asked(&self) -> Vec<Vec<String>> {
        lock(&self.shared).names_asked.clone()
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

/// The sandbox without HTTP, for a simulated world (`sim`): the same state, faults and
/// answers, each call answered at once with the delay it would have taken.
pub struct Offline {
    state: SandboxState,
}

impl Offline {
    pub fn new(seed: &Seed) -> Offline {
        Offline {
            state: SandboxState::new(seed),
        }
    }

    /// One call: `method` and `path` below `/v1beta`, the raw query, the bearer token.
    pub fn call(
        &mut self,
        method: &str,
        path: &str,
        query: Option<&str>,
        bearer: Option<&str>,
        body: &[u8],
    ) -> Answer {
        let Some(route) = Route::of(method, path, query, body) else {
            return Answer {
                status: 404,
                body: b"Not Found".to_vec(),
                json: false,
                delay_ms: 0,
            };
        };
        let (delay, number) = self.state.admit(&route.kind());
        let mut answer = self.state.respond(route, bearer, number);
        answer.delay_ms = delay;
        answer
    }

    pub fn faults_mut(&mut self) -> &mut Faults {
        &mut self.state.faults
    }

    /// Every token issued so far stops working (code 196), as when they expire.
    pub fn expire_tokens(&mut self) {
        self.state.tokens.clear();
    }

    /// The IP is blocked (code 10005) from now on.
    pub fn block(&mut self) {
        self.state.blocked = true;
    }

    /// No more faults: the IP unblocked, every injected fault off.
    pub fn calm(&mut self) {
        self.state.blocked = false;
        self.state.identical.clear();
        self.state.faults = Faults::default();
    }

    /// Every token the sandbox ever issued.
    pub fn tokens_issued(&self) -> Vec<String> {
        (1..=self.state.issued).map(token_text).collect()
    }

    pub fn domains(&self) -> &BTreeMap<u64, Value> {
        &self.state.domains
    }

    pub fn counters(&self) -> Counters {
        self.state.counters.clone()
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
        .route("/__sandbox/seen", get(control_seen))
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

/// One API call as the sandbox answers it, the HTTP framing aside: the route below
/// `/v1beta` with what the call sent.
#[derive(Debug, Clone)]
pub enum Route {
    Login {
        body: Vec<u8>,
    },
    List {
        query: Option<String>,
    },
    Get {
        id: String,
        query: Option<String>,
    },
    Update {
        id: String,
        query: Option<String>,
        body: Vec<u8>,
    },
}

impl Route {
    /// The route of `method path` (the path below `/v1beta`); `None` when the API has
    /// no such call.
    pub fn of(method: &str, path: &str, query: Option<&str>, body: &[u8]) -> Option<Route> {
        let query = query.filter(|q| !q.is_empty()).map(str::to_string);
        match (method, path) {
            ("POST", "/auth/login") => Some(Route::Login {
                body: body.to_vec(),
            }),
            ("GET", "/domains") => Some(Route::List { query }),
            (method, path) => {
                let id = path.strip_prefix("/domains/")?.to_string();
                match method {
                    "GET" => Some(Route::Get { id, query }),
                    "PUT" => Some(Route::Update {
                        id,
                        query,
                        body: body.to_vec(),
                    }),
                    _ => None,
                }
            }
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Route::Login { .. } => Kind::Login,
            Route::List { .. } => Kind::List,
            Route::Get { .. } => Kind::Get,
            Route::Update { .. } => Kind::Update,
        }
    }

    /// What makes two calls identical, for the IP block.
    fn fingerprint(&self) -> String {
        match self {
            Route::Login { body } => format!("POST /auth/login {}", String::from_utf8_lossy(body)),
            Route::List { query } => format!("GET /domains?{}", query.as_deref().unwrap_or("")),
            Route::Get { id, .. } => format!("GET /domains/{id}"),
            Route::Update { id, body, .. } => {
                format!("PUT /domains/{id} {}", String::from_utf8_lossy(body))
            }
        }
    }
}

/// The sandbox's answer to one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// Whether the body is declared JSON.
    pub json: bool,
    /// How long the answer takes (latency and hangs), in milliseconds.
    pub delay_ms: u64,
}

impl SandboxState {
    /// Counts a call and says how long it waits before it is answered (latency, hangs).
    fn admit(&mut self, kind: &Kind) -> (u64, u64) {
        self.counters.total += 1;
        let number = self.counters.total;
        match kind {
            Kind::Login => self.counters.login += 1,
            Kind::List => self.counters.list += 1,
            Kind::Get => self.counters.get += 1,
            Kind::Update => self.counters.update += 1,
        }
        let hang = if self.faults.hang_next > 0 {
            self.faults.hang_next -= 1;
            self.faults.hang_ms
        } else {
            0
        };
        (self.faults.latency_ms + hang, number)
    }

    /// Everything every API call goes through once its wait is over: blocks, maintenance,
    /// injected failures, authentication; then the handler, then body faults.
    fn respond(&mut self, route: Route, bearer: Option<&str>, number: u64) -> Answer {
        let kind = route.kind();
        let fingerprint = route.fingerprint();
        let reply =
            gate(self, &kind, &fingerprint, bearer, number).unwrap_or_else(|| handle(self, route));
        if matches!(&reply, Reply::Bare(..))
            || matches!(&reply, Reply::Json(_, b) if b["code"].as_i64() != Some(0))
        {
            self.counters.faulted += 1;
        }
        let (status, text) = match reply {
            Reply::Bare(status, text) => {
                return Answer {
                    status: status.as_u16(),
                    body: text.as_bytes().to_vec(),
                    json: false,
                    delay_ms: 0,
                }
            }
            Reply::Json(status, body) => (status, body.to_string()),
        };
        if self.faults.malformed_next > 0 {
            self.faults.malformed_next -= 1;
            return Answer {
                status: status.as_u16(),
                body: b"<html><body>502 Bad Gateway</body></html>".to_vec(),
                json: false,
                delay_ms: 0,
            };
        }
        if self.faults.truncated_next > 0 {
            self.faults.truncated_next -= 1;
            let cut = text.len() / 2;
            return Answer {
                status: status.as_u16(),
                body: text.as_bytes()[..cut].to_vec(),
                json: true,
                delay_ms: 0,
            };
        }
        Answer {
            status: status.as_u16(),
            body: text.into_bytes(),
            json: true,
            delay_ms: 0,
        }
    }
}

/// A call through HTTP: counted, held for its latency without holding the state, then
/// answered.
async fn serve(shared: Arc<Shared>, route: Route, headers: &HeaderMap) -> Response {
    let (delay, number) = lock(&shared).admit(&route.kind());
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let answer = lock(&shared).respond(route, bearer, number);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    if answer.json {
        (status, [("content-type", "application/json")], answer.body).into_response()
    } else {
        (status, answer.body).into_response()
    }
}

/// The checks before a handler runs; `Some` is the answer instead.
fn gate(
    s: &mut SandboxState,
    kind: &Kind,
    fingerprint: &str,
    bearer: Option<&str>,
    number: u64,
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
    // By the request's own number: with requests in flight, the counter has moved on.
    if s.faults
        .fail_every
        .is_some_and(|n| n > 0 && number.is_multiple_of(n))
    {
        return Some(Reply::Bare(StatusCode::BAD_GATEWAY, "Bad Gateway"));
    }
    if s.faults.fail_next > 0 {
        s.faults.fail_next -= 1;
        return Some(if s.faults.fail_bare_502 {
            Reply::Bare(
                StatusCode::BAD_GATEWAY,
                if s.faults.fail_empty_body {
                    ""
                } else {
                    "Bad Gateway"
                },
            )
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
    let token = bearer.unwrap_or("");
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

/// The login body as Openprovider's own module sends it; anything else is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: Option<String>,
    password: Option<String>,
    #[allow(dead_code)]
    ip: Option<String>,
}

async fn login(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        shared,
        Route::Login {
            body: body.to_vec(),
        },
        &headers,
    )
    .await
}

fn login_call(s: &mut SandboxState, body: &[u8]) -> Reply {
    see(s, "POST /auth/login", body_keys(body));
    let creds = match serde_json::from_slice::<LoginBody>(body) {
        Ok(creds) => creds,
        Err(e) => return invalid(format!("login body: {e}")),
    };
    if creds.username.as_deref() != Some(s.username.as_str())
        || creds.password.as_deref() != Some(s.password.as_str())
    {
        return envelope(
            StatusCode::UNAUTHORIZED,
            196,
            "Authentication/Authorization Failed",
            Value::Null,
        );
    }
    s.issued += 1;
    let token = token_text(s.issued);
    s.tokens.insert(token.clone(), 0);
    envelope(
        StatusCode::OK,
        0,
        "",
        json!({"token": token, "reseller_id": 123456}),
    )
}

/// The `n`th token the sandbox issues.
fn token_text(n: u64) -> String {
    format!("sbx{:016x}{:08x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15), n)
}

/// The query's (key, value) pairs, decoded, in order.
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

/// A refused key or value: Openprovider's error envelope, naming what is wrong.
fn invalid(message: String) -> Reply {
    envelope(
        StatusCode::BAD_REQUEST,
        INVALID_PARAMETER,
        &format!("Invalid request parameter: {message}"),
        Value::Null,
    )
}

fn see(s: &mut SandboxState, call: &str, keys: impl IntoIterator<Item = String>) {
    s.seen.entry(call.to_string()).or_default().extend(keys);
}

/// The top-level keys of a JSON object body (none for anything else).
fn body_keys(body: &[u8]) -> Vec<String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A `GET /domains` query, checked key by key and value by value.
#[derive(Debug, Default)]
struct ListQuery {
    limit: usize,
    offset: usize,
    id: Option<u64>,
    full_name: Option<String>,
    pattern: Option<String>,
    extension: Option<String>,
    status: Option<String>,
    status_not_equal: Vec<String>,
    is_deleted: Option<bool>,
    names: Vec<String>,
    order_by: Option<(String, bool)>,
}

impl ListQuery {
    fn parse(pairs: &[(String, String)], refused: &[String]) -> Result<ListQuery, Reply> {
        let mut q = ListQuery {
            limit: 100,
            ..ListQuery::default()
        };
        let mut given = BTreeSet::new();
        for (key, value) in pairs {
            let order_field = key.strip_prefix("order_by.");
            let known = LIST_QUERY_KEYS.contains(&key.as_str())
                || order_field.is_some_and(|f| LIST_ORDER_BY_FIELDS.contains(&f));
            if !known || refused.contains(key) {
                return Err(invalid(format!(
                    "unknown query key {key:?} (arrays are the same key repeated, without brackets)"
                )));
            }
            if UNMODELLED_KEYS.contains(&key.as_str()) {
                return Err(envelope(
                    StatusCode::NOT_IMPLEMENTED,
                    INVALID_PARAMETER,
                    &format!("sandbox: the filter {key:?} is not modelled"),
                    Value::Null,
                ));
            }
            if !ARRAY_KEYS.contains(&key.as_str()) && !given.insert(key.clone()) {
                return Err(invalid(format!("{key} given more than once")));
            }
            let bad = |why: &str| invalid(format!("{key}={value:?}: {why}"));
            if BOOLEAN_KEYS.contains(&key.as_str()) && value != "true" && value != "false" {
                return Err(bad("expected true or false"));
            }
            match key.as_str() {
                "limit" => match value.parse::<usize>() {
                    Ok(n) if (1..=1000).contains(&n) => q.limit = n,
                    _ => return Err(bad("expected a number from 1 to 1000")),
                },
                "offset" => q.offset = value.parse().map_err(|_| bad("expected a number"))?,
                "id" => q.id = Some(value.parse().map_err(|_| bad("expected a number"))?),
                "full_name" => q.full_name = Some(value.to_lowercase()),
                "domain_name_pattern" => q.pattern = Some(value.clone()),
                "extension" => q.extension = Some(value.to_lowercase()),
                "status" | "status_not_equal" => {
                    if !STATUS_CODES.contains(&value.as_str()) {
                        return Err(bad("unknown status code"));
                    }
                    if key == "status" {
                        q.status = Some(value.clone());
                    } else {
                        q.status_not_equal.push(value.clone());
                    }
                }
                "is_deleted" => q.is_deleted = Some(value == "true"),
                "domain_names" => q.names.push(value.to_lowercase()),
                _ => {}
            }
            if let Some(field) = order_field {
                let ascending = match value.as_str() {
                    "asc" | "ASC" => true,
                    "desc" | "DESC" => false,
                    _ => return Err(bad("expected asc or desc")),
                };
                if q.order_by.replace((field.to_string(), ascending)).is_some() {
                    return Err(invalid("one order_by at a time".into()));
                }
            }
        }
        if q.names.len() > 100 {
            return Err(invalid("at most 100 domain_names per request".into()));
        }
        Ok(q)
    }

    fn matches(&self, d: &Value) -> bool {
        let name = full_name(d).to_lowercase();
        let status = d["status"].as_str().unwrap_or("");
        self.id.is_none_or(|id| d["id"].as_u64() == Some(id))
            && self.full_name.as_ref().is_none_or(|f| name == *f)
            && (self.names.is_empty() || self.names.contains(&name))
            && self
                .pattern
                .as_ref()
                .is_none_or(|p| pattern_matches(p, d["domain"]["name"].as_str().unwrap_or("")))
            && self.extension.as_ref().is_none_or(|e| {
                d["domain"]["extension"]
                    .as_str()
                    .unwrap_or("")
                    .to_lowercase()
                    == *e
            })
            && self.status.as_ref().is_none_or(|st| status == st)
            && !self.status_not_equal.iter().any(|st| status == st)
            // As at Openprovider: deleted domains only when asked for with
            // is_deleted=true, and then only they.
            && d["is_deleted"].as_bool().unwrap_or(false) == self.is_deleted.unwrap_or(false)
    }
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    serve(shared, Route::List { query }, &headers).await
}

fn list_call(s: &mut SandboxState, query: Option<String>) -> Reply {
    let pairs = query_pairs(query.as_deref());
    see(s, "GET /domains", pairs.iter().map(|(k, _)| k.clone()));
    let mut q = match ListQuery::parse(&pairs, &s.faults.refuse_keys) {
        Ok(q) => q,
        Err(reply) => return reply,
    };
    if !q.names.is_empty() {
        s.names_asked.push(q.names.clone());
    }
    if s.faults.ignore_domain_names {
        q.names.clear();
    }
    if s.faults.ignore_order_by {
        q.order_by = None;
    }

    // A domain appears or vanishes between two pages.
    if let Some(after) = s.faults.shift_after_list_calls {
        if !s.shifted && s.counters.list > u64::from(after) {
            s.shifted = true;
            if s.faults.shift_inserts {
                let id = s.domains.keys().next_back().copied().unwrap_or(0) + 1;
                s.domains_mut().insert(
                    id,
                    json!({"id": id, "domain": {"name": format!("appeared-{id}"), "extension": "com"},
                           "status": "ACT", "is_deleted": false}),
                );
            } else if let Some(first) = s.domains.keys().next().copied() {
                s.domains_mut().remove(&first);
            }
        }
    }

    // The listing as opsync reads it (every live domain, by id, a page at a time) and
    // look-ups by name come from the index; any other filter looks at every domain.
    if let Some(page) = indexed_page(s, &q) {
        return page;
    }
    let mut results: Vec<&Value> = s.domains.values().filter(|d| q.matches(d)).collect();
    if let Some((field, ascending)) = &q.order_by {
        let sort_key = |d: &Value| -> String {
            match field.as_str() {
                "id" => format!("{:020}", d["id"].as_u64().unwrap_or(0)),
                "domain_name" => d["domain"]["name"].as_str().unwrap_or("").to_string(),
                "domain_extension" => d["domain"]["extension"].as_str().unwrap_or("").to_string(),
                other => d[other].as_str().unwrap_or("").to_string(),
            }
        };
        results.sort_by_key(|d| sort_key(d));
        if !ascending {
            results.reverse();
        }
    }

    let total = results.len();
    let page: Vec<Value> = results
        .into_iter()
        .skip(q.offset)
        .take(q.limit)
        .cloned()
        .collect();
    envelope(
        StatusCode::OK,
        0,
        "",
        json!({"results": page, "total": total}),
    )
}

/// A page of a listing the index answers: live domains by id (no order, or `order_by.id`),
/// or some of them by name; `None` for any other filter or order.
fn indexed_page(s: &mut SandboxState, q: &ListQuery) -> Option<Reply> {
    let plain = q.id.is_none()
        && q.full_name.is_none()
        && q.pattern.is_none()
        && q.extension.is_none()
        && q.status.is_none()
        && q.status_not_equal.is_empty()
        && !q.is_deleted.unwrap_or(false);
    let ascending = match &q.order_by {
        None => true,
        Some((field, ascending)) if field == "id" => *ascending,
        Some(_) => return None,
    };
    if !plain {
        return None;
    }
    let ids: Vec<u64> = if q.names.is_empty() {
        let live = &s.index().live;
        let total = live.len();
        let window: Vec<u64> = if ascending {
            live.iter().skip(q.offset).take(q.limit).copied().collect()
        } else {
            live.iter()
                .rev()
                .skip(q.offset)
                .take(q.limit)
                .copied()
                .collect()
        };
        let page: Vec<Value> = window
            .iter()
            .filter_map(|id| s.domains.get(id).cloned())
            .collect();
        return Some(envelope(
            StatusCode::OK,
            0,
            "",
            json!({"results": page, "total": total}),
        ));
    } else {
        let index = s.index();
        let mut ids: Vec<u64> = q
            .names
            .iter()
            .flat_map(|n| index.by_name.get(n).into_iter().flatten().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut results: Vec<&Value> = ids
        .iter()
        .filter_map(|id| s.domains.get(id))
        .filter(|d| !d["is_deleted"].as_bool().unwrap_or(false))
        .collect();
    if !ascending {
        results.reverse();
    }
    let total = results.len();
    let page: Vec<Value> = results
        .into_iter()
        .skip(q.offset)
        .take(q.limit)
        .cloned()
        .collect();
    Some(envelope(
        StatusCode::OK,
        0,
        "",
        json!({"results": page, "total": total}),
    ))
}

/// Calls that take no query key refuse every one.
fn no_query(s: &mut SandboxState, call: &str, query: Option<&str>) -> Option<Reply> {
    let pairs = query_pairs(query);
    see(s, call, pairs.iter().map(|(k, _)| k.clone()));
    pairs
        .first()
        .map(|(key, _)| invalid(format!("unknown query key {key:?}")))
}

async fn get_one(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    serve(shared, Route::Get { id, query }, &headers).await
}

fn get_call(s: &mut SandboxState, id: String, query: Option<String>) -> Reply {
    if let Some(refused) = no_query(s, "GET /domains/{id}", query.as_deref()) {
        return refused;
    }
    match id.parse::<u64>().ok().and_then(|id| s.domains.get(&id)) {
        Some(d) => envelope(StatusCode::OK, 0, "", d.clone()),
        None => envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            320,
            "Domain is not in your account",
            Value::Null,
        ),
    }
}

async fn update(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let body = body.to_vec();
    serve(shared, Route::Update { id, query, body }, &headers).await
}

fn update_call(s: &mut SandboxState, id: String, query: Option<String>, body: Vec<u8>) -> Reply {
    if let Some(refused) = no_query(s, "PUT /domains/{id}", query.as_deref()) {
        return refused;
    }
    see(s, "PUT /domains/{id} body", body_keys(&body));
    // An update changes neither an id, a name nor is_deleted: the index stays.
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
    if let Some(key) = body
        .keys()
        .find(|k| !["autorenew", "is_private_whois_enabled"].contains(&k.as_str()))
    {
        return envelope(
            StatusCode::NOT_IMPLEMENTED,
            INVALID_PARAMETER,
            &format!("sandbox: updating {key:?} is not modelled"),
            Value::Null,
        );
    }
    if body
        .get("is_private_whois_enabled")
        .is_some_and(|v| !v.is_boolean())
    {
        return invalid("is_private_whois_enabled: expected true or false".into());
    }
    if s.faults
        .refuse_update_ids
        .iter()
        .any(|refused| domain["id"].as_u64() == Some(*refused))
    {
        return envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            399,
            "Unknown domain error",
            json!("sandbox: this domain's update is refused"),
        );
    }
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
}

/// A call past the gate, to its handler.
fn handle(s: &mut SandboxState, route: Route) -> Reply {
    match route {
        Route::Login { body } => login_call(s, &body),
        Route::List { query } => list_call(s, query),
        Route::Get { id, query } => get_call(s, id, query),
        Route::Update { id, query, body } => update_call(s, id, query, body),
    }
}

async fn control_counters(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(lock(&shared).counters.clone()).into_response()
}

async fn control_seen(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(lock(&shared).seen.clone()).into_response()
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
/// As at Openprovider, `renewal_date` runs a few days before `expiration_date` for some
/// TLDs (here `.eu`, 3 days), and is the same for the rest.
pub fn generated_domains(count: usize) -> Vec<Value> {
    (1..=count)
        .map(|i| {
            let extension = ["com", "nl", "eu", "net"][i % 4];
            let expiration =
                chrono::NaiveDate::from_ymd_opt(2027, 1 + (i % 12) as u32, 1 + (i % 28) as u32)
                    .expect("a valid day");
            let renewal = if extension == "eu" {
                expiration - chrono::Days::new(3)
            } else {
                expiration
            };
            json!({
                "id": i,
                "domain": {"name": format!("domain-{i:06}"), "extension": extension},
                "status": "ACT",
                "expiration_date": format!("{expiration} 00:00:00"),
                "renewal_date": format!("{renewal} 00:00:00"),
                "autorenew": "default",
                "is_private_whois_enabled": false,
                "is_private_whois_allowed": true,
                "is_deleted": false,
            })
        })
        .collect()
}

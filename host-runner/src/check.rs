//! `opsync check`: what an operator runs first, and after every change. Each check is one
//! line, passed or failed, and a failed one says what to do. Nothing is written to WHMCS
//! or Openprovider; the only writes are opsync's own two tables when they are missing
//! (the first sync would create them anyway) and, when asked, one test mail.
//!
//! `--live-api` adds read-only probes of what opsync assumes about Openprovider's API
//! (look-ups by repeated `domain_names`, `order_by.id`, `is_deleted`, stable pages), for
//! an operator with real credentials to run and tell us what they found.

use std::collections::BTreeMap;

use opsync_engine::columns::{REMINDERS, WHMCS_COLUMNS};
use opsync_engine::Report;
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::mail::Mailer;
use crate::openprovider::{full_name, ApiError, Client};
use crate::wasm::{CacheOutcome, WasmEngine};
use crate::whmcs::{DomainRow, Whmcs};

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, e.g. `whmcs schema`.
    pub name: String,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// For a failed check: what to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fail(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Send one test mail to the report's recipients.
    pub send_test_mail: bool,
    /// Probe the API's behaviour (read-only).
    pub live_api: bool,
}

/// Runs every check for `config`, in order: the WHMCS database, Openprovider, mail, the
/// engine. A check that needs an earlier one (the database for the lock) is left out when
/// that one failed; its failure already says what to fix first.
pub async fn run(config: &Config, options: CheckOptions) -> Vec<Check> {
    let mut checks = Vec::new();
    let whmcs = check_whmcs(config, &mut checks).await;
    let rows = whmcs.as_ref().and_then(|(_, rows)| rows.as_deref());
    check_openprovider(config, rows, options.live_api, &mut checks).await;
    check_mail(
        config,
        whmcs.as_ref().map(|(store, _)| store),
        options.send_test_mail,
        &mut checks,
    )
    .await;
    checks.push(check_engine());
    checks
}

/// A column's use, and the declared types that serve it.
#[derive(Clone, Copy)]
enum Kind {
    Integer,
    Text,
    Date,
    Flag,
}

impl Kind {
    fn of(column: &str) -> Kind {
        match column {
            "id" | "userid" | "roleid" => Kind::Integer,
            c if c.ends_with("date") => Kind::Date,
            "donotrenew" | "idprotection" | "disabled" | "systememails" => Kind::Flag,
            _ => Kind::Text,
        }
    }

    fn accepts(self, declared: &str) -> bool {
        let text = ["char", "text", "enum"]
            .iter()
            .any(|t| declared.contains(t));
        match self {
            Kind::Integer => declared.contains("int"),
            Kind::Text => text,
            Kind::Date => declared.contains("date") || text,
            Kind::Flag => declared.contains("int") || declared.contains("bool") || text,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Integer => "an integer",
            Kind::Text => "text",
            Kind::Date => "a date or text",
            Kind::Flag => "an integer flag",
        }
    }
}

/// The WHMCS tables and columns opsync reads and writes.
fn whmcs_tables() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut domains = vec!["userid", "registrar", REMINDERS];
    domains.extend(WHMCS_COLUMNS);
    vec![
        ("tbldomains", domains),
        (
            "tblactivitylog",
            vec!["date", "description", "user", "userid", "ipaddr"],
        ),
        (
            "tbladmins",
            vec!["roleid", "firstname", "lastname", "email", "disabled"],
        ),
        ("tbladminroles", vec!["id", "systememails"]),
    ]
}

async fn check_whmcs(
    config: &Config,
    checks: &mut Vec<Check>,
) -> Option<(Whmcs, Option<Vec<DomainRow>>)> {
    const NAME: &str = "whmcs database";
    let store = match Whmcs::connect(config.database_url.expose()).await {
        Ok(store) => store,
        Err(e) => {
            checks.push(Check::fail(
                NAME,
                e.to_string(),
                "check whmcs.database_url (or whmcs.configuration_php): host, port, user, \
                 password and database name, and that the server runs and lets this host in",
            ));
            return None;
        }
    };
    match store.server().await {
        Ok(server) => checks.push(Check::pass(
            NAME,
            format!(
                "connected to {server} ({})",
                crate::config::masked_url(config.database_url.expose())
            ),
        )),
        Err(e) => {
            checks.push(Check::fail(
                NAME,
                e.to_string(),
                "check that the user may read this database",
            ));
            return None;
        }
    }

    let mut problems = Vec::new();
    for (table, columns) in whmcs_tables() {
        let found: BTreeMap<String, String> = match store.columns_of(table).await {
            Ok(found) => found.into_iter().collect(),
            Err(e) => {
                problems.push(format!("{table}: {e}"));
                continue;
            }
        };
        if found.is_empty() {
            problems.push(format!("table {table} is missing"));
            continue;
        }
        for column in columns {
            let kind = Kind::of(column);
            match found.get(column) {
                None => problems.push(format!("{table}.{column} is missing")),
                Some(declared) if !kind.accepts(declared) => problems.push(format!(
                    "{table}.{column} is {declared}, not {}",
                    kind.name()
                )),
                Some(_) => {}
            }
        }
    }
    checks.push(if problems.is_empty() {
        Check::pass(
            "whmcs schema",
            "tbldomains, tblactivitylog, tbladmins and tbladminroles have every column opsync \
             reads and writes",
        )
    } else {
        Check::fail(
            "whmcs schema",
            problems.join("; "),
            "opsync reads and writes these columns of WHMCS 7 and 8; is this WHMCS's database?",
        )
    });

    match store.sql_mode().await {
        Ok(Some(mode)) => {
            let strict = mode.contains("STRICT") || mode.contains("NO_ZERO_DATE");
            checks.push(Check::pass(
                "whmcs sql_mode",
                format!(
                    "{} ({}; opsync's writes are valid either way)",
                    if mode.is_empty() { "(empty)" } else { &mode },
                    if strict {
                        "strict: zero dates cannot be written"
                    } else {
                        "not strict: zero dates may be stored"
                    }
                ),
            ))
        }
        Ok(None) => {}
        Err(e) => checks.push(Check::fail(
            "whmcs sql_mode",
            e.to_string(),
            "check that the user may read session variables",
        )),
    }

    let rows = match store.read(None).await {
        Ok(read) if !read.unreadable.is_empty() => {
            checks.push(Check::fail(
                "whmcs domains",
                format!(
                    "{}; {} cannot be read at all (first: id {:?}: {})",
                    domain_counts(&read.rows),
                    count(read.unreadable.len(), "row"),
                    read.unreadable[0].id,
                    read.unreadable[0].why
                ),
                "fix those rows in WHMCS; a sync leaves them out and reports them",
            ));
            Some(read.rows)
        }
        Ok(read) if read.rows.is_empty() => {
            checks.push(Check::fail(
                "whmcs domains",
                "no tbldomains row has registrar openprovider: a sync would have nothing to do",
                "WHMCS marks Openprovider's domains with registrar 'openprovider'; is this the \
                 right database, and the registrar module's name?",
            ));
            Some(read.rows)
        }
        Ok(read) => {
            checks.push(Check::pass("whmcs domains", domain_counts(&read.rows)));
            Some(read.rows)
        }
        Err(e) => {
            checks.push(Check::fail(
                "whmcs domains",
                e.to_string(),
                "fix the row named (or tell us: one bad row should not stop a run)",
            ));
            None
        }
    };

    match store.lock_run().await {
        Ok(Some(lock)) => {
            drop(lock);
            checks.push(Check::pass("run lock", "free: no other run holds it"));
        }
        Ok(None) => {
            let holder = store.lock_holder().await;
            checks.push(Check::fail(
                "run lock",
                match &holder {
                    Some(id) => format!("another opsync run holds it (MySQL connection {id})"),
                    None => "another opsync run holds it".to_string(),
                },
                match &holder {
                    Some(id) => format!(
                        "wait for that run to finish; if it is stuck, end it (or KILL {id} in \
                         MySQL: the lock goes with its connection)"
                    ),
                    None => "wait for that run to finish; if it is stuck, end its process".into(),
                },
            ));
        }
        Err(e) => checks.push(Check::fail(
            "run lock",
            e.to_string(),
            "check that the user may take locks (GET_LOCK) on this database",
        )),
    }

    checks.push(match store.ensure_own_tables().await {
        Ok(created) if created.is_empty() => Check::pass(
            "opsync tables",
            "opsync_runs (run history), opsync_sync_state (batch cursor), opsync_problems and \
             opsync_state (what the report remembers) exist",
        ),
        Ok(created) => Check::pass(
            "opsync tables",
            format!(
                "created {} (opsync's own: the run history, the batch cursor and what the \
                 report remembers; nothing of WHMCS's changed)",
                created.join(", ")
            ),
        ),
        Err(e) => Check::fail(
            "opsync tables",
            format!("one of opsync's own tables is missing and cannot be created: {e}"),
            "grant CREATE on this database to opsync's user once, or create the four tables \
             with a user that may (the first sync creates them the same way)",
        ),
    });
    Some((store, rows))
}

/// `N rows; D duplicate names (R rows); U unusable names; Z zero dates`.
fn domain_counts(rows: &[DomainRow]) -> String {
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut unusable = 0;
    let mut zero = 0;
    for r in rows {
        match opsync_engine::lookup_name(&r.row.domain) {
            Some(name) => *names.entry(name).or_default() += 1,
            None => unusable += 1,
        }
        let zero_date = |d: &Option<String>| d.as_deref().is_none_or(|d| d.starts_with("0000"));
        if zero_date(&r.row.expirydate) || zero_date(&r.row.nextduedate) {
            zero += 1;
        }
    }
    let duplicated: Vec<usize> = names.values().copied().filter(|n| *n > 1).collect();
    format!(
        "{} with registrar openprovider; {} on more than one row ({}); {} without a usable \
         domain name; {} without an expiry or due date",
        count(rows.len(), "row"),
        count(duplicated.len(), "name"),
        count(duplicated.iter().sum::<usize>(), "row"),
        count(unusable, "row"),
        count(zero, "row"),
    )
}

/// `1 row`, `2 rows`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn api_fix(e: &ApiError) -> String {
    match e {
        ApiError::Login => "check openprovider.username and openprovider.password (or \
            OPSYNC_OP_USERNAME / OPSYNC_OP_PASSWORD); Openprovider allows 100 failed logins an \
            hour, and an account with 2FA cannot use the API"
            .into(),
        ApiError::Blocked => "ask Openprovider support to lift the block on this IP address; \
            no opsync run will call the API until then"
            .into(),
        ApiError::Unavailable { .. } => "check openprovider.base_url, this machine's network \
            and proxy, and Openprovider's status page; opsync retries transient failures"
            .into(),
        ApiError::Config(_) => "fix the [openprovider] settings named".into(),
        ApiError::Business { .. } => "Openprovider refused the call; its code says why \
            (DOMAIN.md lists the codes opsync knows)"
            .into(),
    }
}

async fn check_openprovider(
    config: &Config,
    rows: Option<&[DomainRow]>,
    live_api: bool,
    checks: &mut Vec<Check>,
) {
    let session = match Client::new(config.openprovider.clone()) {
        Ok(client) => client.session().await.map(|cached| (client, cached)),
        Err(e) => Err(e),
    };
    let client = match session {
        Ok((client, cached)) => {
            checks.push(Check::pass(
                "openprovider login",
                if cached {
                    format!(
                        "reusing the cached token ({})",
                        config.openprovider.base_url
                    )
                } else {
                    format!(
                        "logged in as {} ({})",
                        config.openprovider.credentials.username, config.openprovider.base_url
                    )
                },
            ));
            client
        }
        Err(e) => {
            checks.push(Check::fail(
                "openprovider login",
                e.to_string(),
                api_fix(&e),
            ));
            return;
        }
    };
    let page = match client.first_page(config.openprovider.page_size).await {
        Ok(page) => {
            checks.push(Check::pass(
                "openprovider listing",
                format!(
                    "the account holds {} domains; the first page brought {}",
                    page.total,
                    page.domains.len()
                ),
            ));
            Some(page)
        }
        Err(e) => {
            checks.push(Check::fail(
                "openprovider listing",
                e.to_string(),
                api_fix(&e),
            ));
            None
        }
    };
    if let Some(rows) = rows.filter(|r| !r.is_empty()) {
        let mut sample: Vec<String> = Vec::new();
        for name in rows
            .iter()
            .filter_map(|r| opsync_engine::lookup_name(&r.row.domain))
        {
            if sample.len() == 100 {
                break;
            }
            if !sample.contains(&name) {
                sample.push(name);
            }
        }
        checks.push(match client.lookup(&sample).await {
            Ok(found) => {
                let failed = found
                    .errors
                    .iter()
                    .filter(|e| e.kind != opsync_engine::contract::LookupKind::NotFound)
                    .count();
                let missing = found.errors.len() - failed;
                let there = sample.len() - found.errors.len();
                if failed > 0 {
                    Check::fail(
                        "whmcs rows at openprovider",
                        format!(
                            "{failed} of {} look-ups failed: {}",
                            sample.len(),
                            found.errors[0].message
                        ),
                        "run the check again; if it persists, run with --live-api and tell us",
                    )
                } else if there == 0 {
                    Check::fail(
                        "whmcs rows at openprovider",
                        format!(
                            "none of {} WHMCS domain names looked up is in this account",
                            sample.len()
                        ),
                        "is this the Openprovider account these domains are registered with?",
                    )
                } else {
                    Check::pass(
                        "whmcs rows at openprovider",
                        format!(
                            "{there} of the first {} WHMCS domain names are in this account{}",
                            sample.len(),
                            if missing > 0 {
                                format!(
                                    " ({missing} not: a sync reports those, never cancels them)"
                                )
                            } else {
                                String::new()
                            }
                        ),
                    )
                }
            }
            Err(e) => Check::fail("whmcs rows at openprovider", e.to_string(), api_fix(&e)),
        });
    }
    if live_api {
        // The probes read a page of records as values (one page: cheap).
        let values = page.map(|p| {
            p.domains
                .iter()
                .filter_map(|d| serde_json::from_str(d.get()).ok())
                .collect()
        });
        probe_api(&client, values, checks).await;
    }
}

fn ids(data: &Value) -> Vec<u64> {
    data["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|d| d["id"].as_u64()).collect())
        .unwrap_or_default()
}

/// One page of the listing as a probe asks for it: `limit`, `offset`, and
/// `order_by.id` when `order` is given.
async fn probe_page(
    client: &Client,
    limit: usize,
    offset: usize,
    order: Option<&str>,
) -> Result<Value, ApiError> {
    let mut query = vec![
        ("limit".to_string(), limit.to_string()),
        ("offset".to_string(), offset.to_string()),
    ];
    if let Some(direction) = order {
        query.push(("order_by.id".to_string(), direction.to_string()));
    }
    client.list_query(&query).await
}

const TELL_US: &str = "opsync relies on this; please send us this line (no credentials are in it)";

/// The API behaviours opsync relies on, each probed with read-only calls.
/// Each probe stands on its own, so one refused key fails its own line only.
async fn probe_api(client: &Client, first_page: Option<Vec<Value>>, checks: &mut Vec<Check>) {
    // Look-ups by name, the key repeated once per name, of two domains the account holds.
    const NAMES: &str = "api: look-up by names";
    let first_page = match first_page {
        Some(domains) => domains,
        None => match probe_page(client, 2, 0, None).await {
            Ok(data) => data["results"].as_array().cloned().unwrap_or_default(),
            Err(e) => {
                checks.push(Check::fail(NAMES, e.to_string(), TELL_US));
                Vec::new()
            }
        },
    };
    checks.push(if first_page.len() < 2 {
        Check::pass(
            NAMES,
            "not probed: the account holds fewer than two domains",
        )
    } else {
        let wanted: Vec<String> = first_page[..2].iter().map(full_name).collect();
        match client.lookup(&wanted).await {
            Ok(found) => {
                let mut got: Vec<String> = found.domains.iter().map(full_name).collect();
                got.sort();
                let mut expected = wanted.clone();
                expected.sort();
                if got == expected {
                    Check::pass(
                        NAMES,
                        format!(
                            "domain_names={}&domain_names={} returned exactly those two",
                            wanted[0], wanted[1]
                        ),
                    )
                } else {
                    Check::fail(
                        NAMES,
                        format!(
                            "a look-up of {} and {} returned {} domains{}",
                            wanted[0],
                            wanted[1],
                            got.len(),
                            if got.len() > 2 {
                                ": the API ignored domain_names"
                            } else {
                                ""
                            }
                        ),
                        format!("{TELL_US}; meanwhile run with --lookup bulk"),
                    )
                }
            }
            Err(e) => Check::fail(
                NAMES,
                e.to_string(),
                format!("{TELL_US}; meanwhile run with --lookup bulk"),
            ),
        }
    });

    // Ordering by id, both ways.
    const ORDER: &str = "api: order_by.id";
    let ascending = probe_page(client, 10, 0, Some("asc")).await;
    let descending = probe_page(client, 10, 0, Some("desc")).await;
    checks.push(match (ascending, descending) {
        (Ok(up), Ok(down)) => {
            let (up, down) = (ids(&up), ids(&down));
            if up.windows(2).all(|w| w[0] < w[1]) && down.windows(2).all(|w| w[0] > w[1]) {
                Check::pass(ORDER, "accepted; asc and desc order the results by id")
            } else {
                Check::fail(
                    ORDER,
                    format!("accepted, but the ids came back as {up:?} (asc) and {down:?} (desc)"),
                    TELL_US,
                )
            }
        }
        (Err(e), _) | (_, Err(e)) => Check::fail(ORDER, e.to_string(), TELL_US),
    });

    // Deleted domains are asked for with is_deleted=true.
    const DELETED: &str = "api: is_deleted=true";
    checks.push(
        match client
            .list_query(&[
                ("limit".to_string(), "1".to_string()),
                ("offset".to_string(), "0".to_string()),
                ("is_deleted".to_string(), "true".to_string()),
            ])
            .await
        {
            Ok(data) => Check::pass(
                DELETED,
                format!(
                    "accepted; the account holds {} deleted domains",
                    data["total"].as_u64().unwrap_or(0)
                ),
            ),
            Err(e) => Check::fail(DELETED, e.to_string(), TELL_US),
        },
    );

    // Two pages of one listing agree with each other and with the total.
    const PAGES: &str = "api: pages agree";
    let first = probe_page(client, 2, 0, Some("asc")).await;
    let second = probe_page(client, 2, 2, Some("asc")).await;
    checks.push(match (first, second) {
        (Ok(a), Ok(b)) => {
            let (total_a, total_b) = (a["total"].as_u64(), b["total"].as_u64());
            let (ids_a, ids_b) = (ids(&a), ids(&b));
            let expected_b = total_a.map_or(0, |t| t.saturating_sub(2).min(2)) as usize;
            let overlap = ids_a.iter().any(|id| ids_b.contains(id));
            if total_a.is_some()
                && total_a == total_b
                && ids_a.len() == total_a.map_or(0, |t| t.min(2)) as usize
                && ids_b.len() == expected_b
                && !overlap
                && ids_a
                    .iter()
                    .chain(&ids_b)
                    .collect::<Vec<_>>()
                    .windows(2)
                    .all(|w| w[0] < w[1])
            {
                Check::pass(
                    PAGES,
                    format!("two pages of 2 agree with total {}", total_a.unwrap_or(0)),
                )
            } else {
                Check::fail(
                    PAGES,
                    format!(
                        "page 1 said total {total_a:?} with ids {ids_a:?}, page 2 total \
                         {total_b:?} with ids {ids_b:?}"
                    ),
                    format!(
                        "{TELL_US}; a run whose pages disagree is marked incomplete and \
                         reports no domain as missing"
                    ),
                )
            }
        }
        (Err(e), _) | (_, Err(e)) => Check::fail(PAGES, e.to_string(), TELL_US),
    });
}

async fn check_mail(
    config: &Config,
    store: Option<&Whmcs>,
    send_test_mail: bool,
    checks: &mut Vec<Check>,
) {
    if config.mail.from.is_none() {
        checks.push(if send_test_mail {
            Check::fail(
                "mail",
                "not configured ([mail] from): no test mail can be sent",
                "set [mail] from, smtp_host and the rest (see opsync.example.toml)",
            )
        } else {
            Check::pass(
                "mail",
                "not configured ([mail] from): reports are printed, not mailed",
            )
        });
        return;
    }
    let mailer = match Mailer::new(&config.mail) {
        Ok(mailer) => mailer,
        Err(e) => {
            checks.push(Check::fail(
                "mail server",
                e.to_string(),
                "fix the [mail] setting named",
            ));
            return;
        }
    };
    let server = format!(
        "{}:{} ({}{})",
        config.mail.smtp_host.as_deref().unwrap_or("localhost"),
        config
            .mail
            .smtp_port
            .map_or("default port".into(), |p| p.to_string()),
        config.mail.smtp_security.as_deref().unwrap_or("starttls"),
        config
            .mail
            .smtp_username
            .as_ref()
            .map_or(String::new(), |u| format!(", authenticated as {u}")),
    );
    match mailer.test_connection().await {
        Ok(()) => checks.push(Check::pass("mail server", format!("connected to {server}"))),
        Err(e) => checks.push(Check::fail(
            "mail server",
            format!("{server}: {e}"),
            "check mail.smtp_host, smtp_port, smtp_security and the SMTP credentials; the \
             server must accept this host",
        )),
    }

    let admins = match store {
        Some(store) => match store.system_email_admins().await {
            Ok(admins) => admins,
            Err(e) => {
                checks.push(Check::fail(
                    "mail recipients",
                    e.to_string(),
                    "check the tbladmins and tbladminroles tables",
                ));
                return;
            }
        },
        None => Vec::new(),
    };
    let to: Vec<String> = mailer
        .recipients(&admins)
        .iter()
        .map(|m| m.email.to_string())
        .collect();
    if to.is_empty() {
        checks.push(Check::fail(
            "mail recipients",
            "nobody: no active admin's role receives System emails and mail.to is empty",
            "tick System Emails for an admin role in WHMCS, or set mail.to",
        ));
        return;
    }
    checks.push(Check::pass(
        "mail recipients",
        format!("reports go to {}", to.join(", ")),
    ));
    if send_test_mail {
        let report = Report {
            send: true,
            subject: "opsync check: test mail".into(),
            text: "This is a test mail from `opsync check --send-test-mail`. Sync reports \
                   will come from this address to these recipients."
                .into(),
            html: "<p>This is a test mail from <code>opsync check --send-test-mail</code>. \
                   Sync reports will come from this address to these recipients.</p>"
                .into(),
            tracking: None,
        };
        checks.push(match mailer.send(&report, &admins).await {
            Ok(n) => Check::pass("test mail", format!("sent to {n} recipients")),
            Err(e) => Check::fail(
                "test mail",
                e.to_string(),
                "check the mail server's log for why it refused",
            ),
        });
    }
}

fn check_engine() -> Check {
    match WasmEngine::global().and_then(|engine| Ok((engine.version()?, engine.cache))) {
        Ok((version, cache)) => Check::pass(
            "engine",
            format!(
                "{version}; compiled module {}",
                match (cache, crate::wasm::default_cache_dir()) {
                    (CacheOutcome::Hit, Some(dir)) =>
                        format!("read from the cache in {}", dir.display()),
                    (CacheOutcome::Stored, Some(dir)) => {
                        format!("compiled now and cached in {}", dir.display())
                    }
                    _ => "compiled now; no usable cache directory (every run compiles it, \
                          about a second: set OPSYNC_CACHE_DIR)"
                        .to_string(),
                }
            ),
        ),
        Err(e) => Check::fail(
            "engine",
            e.to_string(),
            "reinstall opsync; the embedded engine.wasm did not load",
        ),
    }
}

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

use opsync_engine::contract::WhmcsRow;

use crate::config::Config;
use crate::mail::Mailer;
use crate::wasm::{CacheOutcome, WasmEngine};
use crate::whmcs::Whmcs;

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
    check_openprovider(config, options.live_api, &mut checks).await;
    check_mail(config, whmcs.as_ref(), options.send_test_mail, &mut checks).await;
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

async fn check_whmcs(config: &Config, checks: &mut Vec<Check>) -> Option<Whmcs> {
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

    match store.openprovider_rows().await {
        Ok(rows) => {
            // The engine judges each row as a run would: one it cannot take is left out.
            let mut unreadable = Vec::new();
            let mut read = Vec::new();
            for columns in &rows {
                let mut at = 1;
                match WhmcsRow::from_columns(|_| {
                    at += 1;
                    columns.get(at - 1).cloned().flatten()
                }) {
                    Ok(row) => read.push(row),
                    Err(why) => unreadable.push((columns.get(1).cloned().flatten(), why)),
                }
            }
            checks.push(if let Some((id, why)) = unreadable.first() {
                Check::fail(
                    "whmcs domains",
                    format!(
                        "{}; {} cannot be read at all (first: id {:?}: {})",
                        domain_counts(&read),
                        count(unreadable.len(), "row"),
                        id.clone().unwrap_or_default(),
                        why
                    ),
                    "fix those rows in WHMCS; a sync leaves them out and reports them",
                )
            } else if read.is_empty() {
                Check::fail(
                    "whmcs domains",
                    "no tbldomains row has registrar openprovider: a sync would have nothing to do",
                    "WHMCS marks Openprovider's domains with registrar 'openprovider'; is this \
                     the right database, and the registrar module's name?",
                )
            } else {
                Check::pass("whmcs domains", domain_counts(&read))
            });
        }
        Err(e) => checks.push(Check::fail(
            "whmcs domains",
            e.to_string(),
            "fix the row named (or tell us: one bad row should not stop a run)",
        )),
    }

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
    Some(store)
}

/// `N rows; D duplicate names (R rows); U unusable names; Z zero dates`.
fn domain_counts(rows: &[WhmcsRow]) -> String {
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut unusable = 0;
    let mut zero = 0;
    for r in rows {
        match opsync_engine::lookup_name(&r.domain) {
            Some(name) => *names.entry(name).or_default() += 1,
            None => unusable += 1,
        }
        let zero_date = |d: &Option<String>| d.as_deref().is_none_or(|d| d.starts_with("0000"));
        if zero_date(&r.expirydate) || zero_date(&r.nextduedate) {
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

/// Openprovider, as the engine's run in mode `check` looks at it: the login, the
/// listing, WHMCS's names in the account and, with `live_api`, the API's behaviours.
async fn check_openprovider(config: &Config, live_api: bool, checks: &mut Vec<Check>) {
    let mut config = config.clone();
    config.options.live_api = live_api;
    let start = crate::run::start(
        &config,
        opsync_engine::run::Mode::Check,
        opsync_engine::run::Lookup::Auto,
    );
    match crate::run::run(
        &config,
        &start,
        crate::EngineChoice::Wasm,
        &crate::progress::Silent,
    )
    .await
    {
        Ok(outcome) => {
            for line in outcome.lines {
                checks.push(Check::fail("openprovider", line, "fix the setting named"));
            }
            checks.extend(outcome.checks.into_iter().map(|c| Check {
                name: c.name,
                ok: c.ok,
                detail: c.detail,
                fix: c.fix,
            }))
        }
        Err(e) => checks.push(Check::fail(
            "openprovider",
            e.to_string(),
            "reinstall opsync; the engine could not run",
        )),
    }
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

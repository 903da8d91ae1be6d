//! One sync run, the cron flow, one function per step:
//!
//! lock -> [`read_whmcs`] -> [`read_openprovider`] -> [`decide`] -> [`apply_openprovider`]
//! -> [`apply_whmcs`] -> [`advance_cursor`] -> [`render_report`] -> [`mail_report`] ->
//! [`record_run`] (the run history, shared with the PHP drop-in).
//!
//! The host decides nothing: what is written, and where, is each result's
//! `openprovider_update`, `whmcs_update` and `activity`, as the engine gave them; what the
//! admin reads is the engine's report. A side's activity lines are written only when that
//! side's write went through. A dry run (notify only) reads everything and writes nothing.

use opsync_engine::contract::{LookupError, WhmcsRow};
use opsync_engine::{Failure, Links, Report, ReportInput, Response, RowClient, Side, Tracking};

use crate::config::Config;
use crate::mail::Mailer;
use crate::openprovider::Client;
use crate::openprovider::{name_of, Record};
use crate::progress::Progress;
use crate::wasm::{CallError, Limits, WasmEngine};
use crate::whmcs::{Applied, DomainRow, Whmcs, Writer};

/// What the run read from Openprovider: each record as the API wrote it.
#[derive(Debug, serde::Serialize)]
struct Snapshot {
    complete: bool,
    domains: Vec<Record>,
}

/// The decide request, in contract v1's shape (`opsync_engine::contract::Request`), each
/// Openprovider record the API's own JSON text: 100k records as text cost a fraction of
/// 100k trees of values, and the engine reads the same fields either way.
#[derive(serde::Serialize)]
struct Request {
    policy: opsync_engine::Policy,
    whmcs: Vec<WhmcsRow>,
    openprovider: Snapshot,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lookup_errors: Vec<LookupError>,
}

impl Request {
    fn to_json(&self) -> Vec<u8> {
        // Plain structs, strings and JSON text: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Records from values (the look-ups by name, which are few).
fn records(values: Vec<serde_json::Value>) -> Vec<Record> {
    values
        .iter()
        .filter_map(|v| serde_json::value::to_raw_value(v).ok())
        .collect()
}

/// Batches this small are looked up by name instead of listing the whole account.
const LOOKUP_BELOW: usize = 100;

/// How a run reads Openprovider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lookup {
    /// Look-ups by name for a batch under 100 rows, the bulk listing otherwise.
    #[default]
    Auto,
    /// Always the bulk listing (pages of 500).
    Bulk,
    /// One look-up per domain, as the old cron did: only for comparison.
    PerDomain,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Read and decide, write nothing (the report says what would change).
    pub dry_run: bool,
    pub lookup: Lookup,
    /// Mail the report when it is worth sending (`opsync sync`; `opsync plan` does not).
    pub mail: bool,
    /// Add the run to the run history (`opsync sync`, dry runs included; not `plan`).
    pub record: bool,
}

/// How long one step of a run took.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepTime {
    /// `lock` (connect and take the run lock), `read_whmcs`, `read_openprovider`,
    /// `decide`, `apply_openprovider`, `apply_whmcs`, `cursor`, `report`, `mail`.
    pub step: String,
    pub seconds: f64,
}

/// Times the steps of a run, one after the other; each step's time goes to the `-v` log
/// the moment it ends.
#[derive(Debug, Default)]
struct Clock {
    done: Vec<StepTime>,
    current: Option<(&'static str, std::time::Instant)>,
}

impl Clock {
    /// Ends the current step (if any) and starts `step`.
    fn start(&mut self, step: &'static str) {
        self.stop();
        self.current = Some((step, std::time::Instant::now()));
    }

    fn stop(&mut self) {
        if let Some((step, at)) = self.current.take() {
            let seconds = at.elapsed().as_secs_f64();
            let (rss, peak) = memory_mib();
            tracing::info!(
                step,
                seconds = %format!("{seconds:.3}"),
                rss_mib = rss,
                peak_mib = peak,
                "step done"
            );
            self.done.push(StepTime {
                step: step.into(),
                seconds,
            });
        }
    }

    fn steps(&mut self) -> Vec<StepTime> {
        self.stop();
        self.done.clone()
    }

    /// The time of the steps so far, the current one included, in milliseconds.
    fn elapsed_ms(&self) -> u64 {
        let done: f64 = self.done.iter().map(|s| s.seconds).sum();
        let current = self
            .current
            .map_or(0.0, |(_, at)| at.elapsed().as_secs_f64());
        ((done + current) * 1000.0).round() as u64
    }
}

/// The process's resident memory now and at its peak, in MiB (Linux; 0 elsewhere): the
/// `-v` log gives them with each step, so a memory figure can be traced to its step.
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

/// The exit status of a completed run: 5 its report could not be mailed, 8 the brake
/// held it, 0 done. (4 locked and 5 not completed are runs that did not complete.)
pub fn exit_code(held: bool, mail: &Mailed) -> u8 {
    if matches!(mail, Mailed::Failed(_)) {
        5
    } else if held {
        8
    } else {
        0
    }
}

/// What a completed run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub response: Response,
    pub failures: Vec<Failure>,
    pub report: Report,
    pub listing_complete: bool,
    pub mail: Mailed,
    /// Requests sent to Openprovider (retries and logins included).
    pub api_calls: u64,
    /// Each step's time, in the order they ran (the history step is not in it).
    pub steps: Vec<StepTime>,
}

impl RunOutcome {
    /// See [`exit_code`].
    pub fn exit_code(&self) -> u8 {
        exit_code(self.response.summary.held, &self.mail)
    }
}

/// What became of the report mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mailed {
    /// Not asked for, or nothing worth sending.
    NotSent,
    /// Worth sending, but `[mail] from` is not set.
    NotConfigured,
    /// Sent to this many recipients.
    Sent(usize),
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("another opsync sync is running against this WHMCS database; this run did nothing")]
    Locked,
    #[error(transparent)]
    Store(#[from] crate::whmcs::StoreError),
    #[error(transparent)]
    Openprovider(#[from] crate::openprovider::ApiError),
    #[error(transparent)]
    Engine(#[from] CallError),
}

pub async fn run(
    config: &Config,
    options: RunOptions,
    progress: &dyn Progress,
) -> Result<RunOutcome, RunError> {
    let started = now_text();
    let mut clock = Clock::default();
    clock.start("lock");
    progress.step("reading WHMCS");
    let store = Whmcs::connect(config.database_url.expose()).await?;
    let _lock = store.lock_run().await?.ok_or(RunError::Locked)?;
    let client = Client::new(config.openprovider.clone())?;
    let outcome = steps(
        &store, &client, config, options, progress, &mut clock, &started,
    )
    .await;
    let api_calls = client
        .stats
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            if options.record {
                record_failed(&store, &started, &e, clock.steps()).await;
            }
            return Err(e);
        }
    };
    outcome.api_calls = api_calls;
    outcome.steps = clock.steps();
    if options.record {
        record_run(&store, options, &started, &outcome).await?;
    }
    progress.finish();
    Ok(outcome)
}

/// The steps of a run that holds the lock, each timed by `clock`.
async fn steps(
    store: &Whmcs,
    client: &Client,
    config: &Config,
    options: RunOptions,
    progress: &dyn Progress,
    clock: &mut Clock,
    started: &str,
) -> Result<RunOutcome, RunError> {
    clock.start("read_whmcs");
    let mut failures = Vec::new();
    let rows = read_whmcs(store, config, &mut failures).await?;

    clock.start("read_openprovider");
    progress.step(&format!(
        "reading Openprovider for {} WHMCS rows",
        rows.len()
    ));
    let (openprovider, lookup_errors) = read_openprovider(client, config, options, &rows).await?;
    let listing_complete = openprovider.complete;

    clock.start("decide");
    progress.step("deciding");
    let (mut userids, whmcs): (Vec<u64>, Vec<WhmcsRow>) =
        rows.into_iter().map(|r| (r.userid, r.row)).unzip();
    let engine = WasmEngine::global()?;
    let response = decide(
        engine,
        Request {
            policy: config.policy.clone(),
            whmcs,
            openprovider,
            lookup_errors,
        },
        &mut userids,
        &mut failures,
    )?;

    if !options.dry_run {
        let now = now_text();
        clock.start("apply_openprovider");
        progress.step(&format!(
            "updating {} domains at Openprovider",
            response.summary.openprovider_updates
        ));
        let mut writer = store.writer().await?;
        apply_openprovider(
            client,
            &mut writer,
            &response,
            &userids,
            &now,
            &mut failures,
        )
        .await?;
        clock.start("apply_whmcs");
        progress.counted("writing WHMCS", response.summary.whmcs_updates);
        apply_whmcs(
            &mut writer,
            &response,
            &userids,
            &now,
            &mut failures,
            progress,
        )
        .await?;
        tracing::info!(
            statements_prepared = ?writer.statements_prepared().await,
            "wrote WHMCS through one connection"
        );
        drop(writer);
        clock.start("cursor");
        advance_cursor(store, config, &response, &now).await?;
    }

    clock.start("report");
    progress.step("rendering the report");
    let remembered = store.remembered().await?;
    let links = admin_links(config, store, &response, &userids).await;
    let tracking = Tracking {
        now: started.to_string(),
        complete: config.batch_size.is_none(),
        open_problems: remembered.open_problems,
        still_open_mailed_at: remembered.still_open_mailed_at,
        // `opsync plan` is a look at everything: still-open problems in full.
        repeat_still_open_hours: if options.mail {
            config.repeat_still_open_hours
        } else {
            0
        },
    };
    let input = ReportInput {
        response,
        dry_run: options.dry_run,
        send_empty: config.send_empty_reports,
        failures: failures.clone(),
        tracking: Some(tracking),
        links,
        duration_ms: Some(clock.elapsed_ms()),
    };
    let (response, report) = render_report(engine, input)?;
    let mail = if options.mail {
        clock.start("mail");
        progress.step("mailing the report");
        mail_report(config, store, &report).await
    } else {
        Mailed::NotSent
    };
    // What the report knew is remembered for the next one, once the report reached
    // someone (mailed, or printed when mail is not configured). A dry run remembers
    // nothing.
    if let Some(after) = report.tracking.as_ref() {
        if !options.dry_run && !matches!(mail, Mailed::Failed(_)) {
            store.remember(after).await?;
        }
    }
    clock.stop();
    Ok(RunOutcome {
        response,
        failures,
        report,
        listing_complete,
        mail,
        api_calls: 0,
        steps: Vec::new(),
    })
}

/// Every Openprovider row, or the next batch of them.
/// A row opsync cannot even read is left out and becomes a failure in the report.
async fn read_whmcs(
    store: &Whmcs,
    config: &Config,
    failures: &mut Vec<Failure>,
) -> Result<Vec<DomainRow>, RunError> {
    let read = store.read(config.batch_size).await?;
    for bad in &read.unreadable {
        tracing::warn!(id = %bad.id, why = %bad.why, "left an unreadable WHMCS row out of this run");
        failures.push(Failure {
            whmcs_id: bad.id.parse().unwrap_or(0),
            domain: bad.domain.clone(),
            side: Side::Whmcs,
            message: format!(
                "left out of this run: row id {:?} cannot be read ({}); fix it in WHMCS",
                bad.id, bad.why
            ),
        });
    }
    tracing::info!(rows = read.rows.len(), "read the WHMCS rows");
    Ok(read.rows)
}

/// The bulk listing, or look-ups by name for a small batch.
async fn read_openprovider(
    client: &Client,
    config: &Config,
    options: RunOptions,
    rows: &[DomainRow],
) -> Result<(Snapshot, Vec<LookupError>), RunError> {
    let by_name = match options.lookup {
        Lookup::Auto => config.batch_size.is_some() && rows.len() < LOOKUP_BELOW,
        Lookup::Bulk => false,
        Lookup::PerDomain => true,
    };
    let (snapshot, errors) = if by_name {
        let names: Vec<String> = rows
            .iter()
            .filter_map(|r| opsync_engine::lookup_name(&r.row.domain))
            .collect();
        let found = if options.lookup == Lookup::PerDomain {
            client.lookup_each(&names).await?
        } else {
            client.lookup(&names).await?
        };
        let snapshot = Snapshot {
            complete: false,
            domains: records(found.domains),
        };
        (snapshot, found.errors)
    } else {
        let listing = client.list_all().await?;
        for problem in &listing.problems {
            tracing::warn!(%problem, "the Openprovider listing is not complete");
        }
        let snapshot = Snapshot {
            complete: listing.complete,
            domains: listing.domains,
        };
        (snapshot, Vec::new())
    };
    let (snapshot, errors) = add_deleted(client, rows, snapshot, errors).await?;
    tracing::info!(
        domains = snapshot.domains.len(),
        complete = snapshot.complete,
        "read Openprovider"
    );
    Ok((snapshot, errors))
}

/// `name.extension` of a domain object, in the form the engine pairs in.
fn record_name(record: &serde_json::value::RawValue) -> Option<String> {
    let (name, extension) = name_of(record)?;
    opsync_engine::lookup_name(&format!("{name}.{extension}"))
}

/// Contract v1.1: the rows Openprovider's listing lacks (a complete listing) or did not
/// find by name are looked up again among its deleted domains; those found join the
/// snapshot marked `is_deleted`, and their "not found" goes.
async fn add_deleted(
    client: &Client,
    rows: &[DomainRow],
    mut snapshot: Snapshot,
    mut errors: Vec<LookupError>,
) -> Result<(Snapshot, Vec<LookupError>), RunError> {
    let listed: std::collections::HashSet<String> = snapshot
        .domains
        .iter()
        .filter_map(|d| record_name(d))
        .collect();
    let not_found: std::collections::HashSet<String> = errors
        .iter()
        .filter(|e| e.kind == opsync_engine::contract::LookupKind::NotFound)
        .filter_map(|e| opsync_engine::lookup_name(&e.domain))
        .collect();
    let mut missing: Vec<String> = rows
        .iter()
        .filter_map(|r| opsync_engine::lookup_name(&r.row.domain))
        .filter(|name| {
            if snapshot.complete {
                !listed.contains(name)
            } else {
                not_found.contains(name)
            }
        })
        .collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok((snapshot, errors));
    }
    let deleted = records(client.lookup_deleted(&missing).await?);
    tracing::info!(
        asked = missing.len(),
        found = deleted.len(),
        "looked up missing domains among the deleted"
    );
    let found: std::collections::HashSet<String> =
        deleted.iter().filter_map(|d| record_name(d)).collect();
    errors.retain(|e| {
        e.kind != opsync_engine::contract::LookupKind::NotFound
            || !opsync_engine::lookup_name(&e.domain).is_some_and(|n| found.contains(&n))
    });
    snapshot.domains.extend(deleted);
    Ok((snapshot, errors))
}

/// The element of the request an engine error names: `("whmcs", 3)` for
/// `whmcs[3].id: ...`.
fn named_element(message: &str) -> Option<(&str, usize)> {
    let (list, rest) = message.split_once('[')?;
    let (index, _) = rest.split_once(']')?;
    Some((list, index.parse().ok()?))
}

/// The engine's answer to the request. One bad row never stops a run: when the engine
/// refuses the request for one element (a row whose id it cannot take, a record it
/// cannot read), that element is left out and the request decided again. A left-out row
/// is reported as a failure; a left-out Openprovider record makes the snapshot
/// incomplete (so no row is called missing on its account) and its name a failed
/// look-up.
fn decide(
    engine: &WasmEngine,
    mut request: Request,
    userids: &mut Vec<u64>,
    failures: &mut Vec<Failure>,
) -> Result<Response, RunError> {
    let answer = loop {
        let message = match engine.decide_owned(request.to_json(), Limits::default()) {
            Ok(answer) => break answer,
            Err(CallError::Invalid(message)) => message,
            Err(e) => return Err(e.into()),
        };
        match named_element(&message) {
            Some(("whmcs", i)) if i < request.whmcs.len() => {
                let row = request.whmcs.remove(i);
                userids.remove(i);
                tracing::warn!(id = row.id, %message, "left a WHMCS row out of this run");
                failures.push(Failure {
                    whmcs_id: row.id,
                    domain: row.domain,
                    side: Side::Whmcs,
                    message: format!(
                        "left out of this run: the engine cannot read this row ({message}); \
                         fix it in WHMCS"
                    ),
                });
            }
            Some(("openprovider.domains", i)) if i < request.openprovider.domains.len() => {
                let record = request.openprovider.domains.remove(i);
                tracing::warn!(%message, "left an Openprovider record out of this run");
                request.openprovider.complete = false;
                if let Some(name) = record_name(&record) {
                    request.lookup_errors.push(LookupError {
                        domain: name,
                        kind: opsync_engine::contract::LookupKind::Error,
                        message: format!("Openprovider's record could not be read ({message})"),
                    });
                }
            }
            Some(("lookup_errors", i)) if i < request.lookup_errors.len() => {
                request.lookup_errors.remove(i);
            }
            _ => return Err(CallError::Invalid(message).into()),
        }
    };
    // The request (the listing's records above all) goes before the answer is read.
    drop(request);
    let response: Response = serde_json::from_slice(&answer)
        .map_err(|e| CallError::Host(format!("the engine's answer: {e}")))?;
    drop(answer);
    tracing::info!(
        changed = response.summary.changed_rows,
        errors = response.summary.errors,
        "the engine decided"
    );
    Ok(response)
}

/// Each `openprovider_update`, a few at a time; a refusal becomes a failure of that
/// row's Openprovider side. An accepted update gets its activity lines at once, before
/// the next outcome is looked at, so a run stopped at any point has logged exactly the
/// updates Openprovider had confirmed.
async fn apply_openprovider(
    client: &Client,
    store: &mut Writer,
    response: &Response,
    userids: &[u64],
    now: &str,
    failures: &mut Vec<Failure>,
) -> Result<(), RunError> {
    use futures_util::StreamExt;
    let (rows, updates): (Vec<usize>, Vec<(u64, &crate::openprovider::Body)>) = response
        .results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let update = r.openprovider_update.as_ref()?;
            Some((i, (update.id, &update.body)))
        })
        .unzip();
    let mut outcomes = std::pin::pin!(client.update_each(&updates));
    let mut refused = Vec::new();
    while let Some((k, outcome)) = outcomes.next().await {
        let i = rows[k];
        let result = &response.results[i];
        match outcome {
            Ok(_) => {
                let lines = result
                    .activity
                    .as_ref()
                    .map_or(&[][..], |a| &a.openprovider);
                store.log_activity(userids[i], lines, now).await?;
            }
            Err(e) => refused.push((
                i,
                Failure {
                    whmcs_id: result.whmcs_id,
                    domain: result.domain.clone(),
                    side: Side::Openprovider,
                    message: e.to_string(),
                },
            )),
        }
    }
    // The report lists refusals in the rows' order, whatever order they came back in.
    refused.sort_by_key(|(i, _)| *i);
    failures.extend(refused.into_iter().map(|(_, f)| f));
    Ok(())
}

/// Each `whmcs_update`, one row per transaction with its activity lines; a row edited
/// since it was read is left alone and becomes a failure of its WHMCS side.
async fn apply_whmcs(
    store: &mut Writer,
    response: &Response,
    userids: &[u64],
    now: &str,
    failures: &mut Vec<Failure>,
    progress: &dyn Progress,
) -> Result<(), RunError> {
    for (result, userid) in response.results.iter().zip(userids) {
        let Some(update) = &result.whmcs_update else {
            continue;
        };
        progress.advance();
        let lines = result.activity.as_ref().map_or(&[][..], |a| &a.whmcs);
        if store.apply(update, lines, *userid, now).await? == Applied::EditedMeanwhile {
            failures.push(Failure {
                whmcs_id: result.whmcs_id,
                domain: result.domain.clone(),
                side: Side::Whmcs,
                message: "the row changed in WHMCS after opsync read it; left as it is".into(),
            });
        }
    }
    Ok(())
}

/// A batched run records which rows it synced, so the next batch starts after them.
async fn advance_cursor(
    store: &Whmcs,
    config: &Config,
    response: &Response,
    now: &str,
) -> Result<(), RunError> {
    // A held run synced nothing: its rows stay first in line.
    if config.batch_size.is_some() && !response.summary.held {
        let ids: Vec<u64> = response.results.iter().map(|r| r.whmcs_id).collect();
        store.mark_synced(&ids, now).await?;
    }
    Ok(())
}

/// The links to each row's page in the WHMCS admin area: `[report] whmcs_admin_url`, else
/// WHMCS's System URL followed by `admin/`; none when neither is known.
async fn admin_links(
    config: &Config,
    store: &Whmcs,
    response: &Response,
    userids: &[u64],
) -> Option<Links> {
    let admin_url = match &config.whmcs_admin_url {
        Some(url) => url.clone(),
        None => format!("{}/admin/", store.system_url().await?.trim_end_matches('/')),
    };
    Some(Links {
        admin_url,
        rows: response
            .results
            .iter()
            .zip(userids)
            .map(|(r, userid)| RowClient {
                whmcs_id: r.whmcs_id,
                userid: *userid,
            })
            .collect(),
    })
}

/// The engine's report of the run; hands the response back with it. A bad admin URL, or
/// a memory the engine refuses (edited by hand), costs the links or the memory, never
/// the report: each is logged and left out.
fn render_report(
    engine: &WasmEngine,
    mut input: ReportInput,
) -> Result<(Response, Report), RunError> {
    let answer = loop {
        let bytes = serde_json::to_vec(&input).unwrap_or_default();
        match engine.render_report(&bytes, Limits::default()) {
            Ok(answer) => break answer,
            Err(CallError::Invalid(message)) if message.starts_with("links.") => {
                tracing::warn!(%message, "the report goes without links to the WHMCS admin area");
                input.links = None;
            }
            Err(CallError::Invalid(message))
                if message.starts_with("tracking.")
                    && input
                        .tracking
                        .as_ref()
                        .is_some_and(|t| !t.open_problems.is_empty()) =>
            {
                tracing::warn!(%message, "the remembered problems cannot be read; all are new again");
                if let Some(t) = input.tracking.as_mut() {
                    t.open_problems.clear();
                    t.still_open_mailed_at = None;
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    let report: Report = serde_json::from_slice(&answer)
        .map_err(|e| CallError::Host(format!("the engine's report: {e}")))?;
    Ok((input.response, report))
}

/// The report to the admins whose role has System emails, when it is worth sending.
async fn mail_report(config: &Config, store: &Whmcs, report: &Report) -> Mailed {
    if !report.send {
        return Mailed::NotSent;
    }
    if config.mail.from.is_none() {
        return Mailed::NotConfigured;
    }
    let sent = async {
        let mailer = Mailer::new(&config.mail).map_err(|e| e.to_string())?;
        let admins = store
            .system_email_admins()
            .await
            .map_err(|e| e.to_string())?;
        mailer
            .send(report, &admins)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    match sent {
        Ok(n) => Mailed::Sent(n),
        Err(e) => Mailed::Failed(e),
    }
}

/// The run, in the run history both hosts write.
async fn record_run(
    store: &Whmcs,
    options: RunOptions,
    started: &str,
    outcome: &RunOutcome,
) -> Result<(), RunError> {
    let summary = &outcome.response.summary;
    store
        .record_run(&crate::whmcs::RunRecord {
            started_at: started,
            finished_at: &now_text(),
            host: "opsync",
            mode: if summary.held {
                "held"
            } else if options.dry_run {
                "dry-run"
            } else {
                "sync"
            },
            summary,
            failures: outcome.failures.len(),
            report: &outcome.report,
            exit_status: outcome.exit_code(),
            steps: &outcome.steps,
        })
        .await?;
    Ok(())
}

/// A run that took the lock but could not complete, in the run history (mode `failed`,
/// exit status 5, the error as its subject and report), so the history shows every run.
/// When even that cannot be written (the database is gone), the error already says why.
async fn record_failed(store: &Whmcs, started: &str, error: &RunError, steps: Vec<StepTime>) {
    let message = format!("opsync: the run did not complete: {error}");
    let report = Report {
        send: false,
        subject: message.clone(),
        text: format!("{message}\n\nNothing after the step that failed was done; the next run starts afresh.\n"),
        html: String::new(),
    tracking: None,
    };
    let recorded = store
        .record_run(&crate::whmcs::RunRecord {
            started_at: started,
            finished_at: &now_text(),
            host: "opsync",
            mode: "failed",
            summary: &opsync_engine::Summary::default(),
            failures: 0,
            report: &report,
            exit_status: 5,
            steps: &steps,
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(%e, "could not add the failed run to the run history");
    }
}

/// The local time as WHMCS writes `tblactivitylog.date`.
fn now_text() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

//! The report email, rendered from a response so that every host sends the same words.
//!
//! Input: `{response, dry_run?, send_empty?, failures?}`. `failures` are what the host
//! could not do with the response (an Openprovider update refused, a WHMCS row edited
//! meanwhile): each names the row (`whmcs_id`), the `side` (`whmcs` or `openprovider`) and
//! a message; that side's changes of that row are then not reported as made.
//!
//! Output: `{send, subject, text, html}`. Errors come first (failures, then error notices),
//! then warnings, then one table per kind of change (status, expiry, due date, auto-renew,
//! WHOIS privacy) with old and new values and a count; informational notices are counted
//! by code, not listed. `send` is false when nothing changed and nothing failed, unless
//! `send_empty` asks for a report on every run.
//!
//! A run the mass-change brake held (v1.1) is reported as held: its `mass_change_held`
//! notice leads the errors, and the held changes fill the tables as what the run would
//! have changed, so the admin reads what would have happened before releasing it.
//!
//! Contract v1.2 (`tracking`, `links`): the host passes the problems it remembers as open
//! (per WHMCS row and notice code, with when they were first seen) and its clock. The
//! report then leads with what is new this run and what was resolved since; problems
//! already reported are one "still open" line, listed in full once every
//! `repeat_still_open_hours`. A run with nothing new (no change, no new problem, nothing
//! resolved) is not sent unless the still-open list is due. Every listed code gets one
//! line of advice, every row its WHMCS id, and with `links` every domain in the HTML
//! links to its page in the WHMCS admin area. The report's `tracking` is what the host
//! remembers next: the open problems and when the still-open list was last mailed.
//! Without `tracking` the report is exactly the v1 report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::changes::{OpenproviderChanges, Response, RowResult, Summary, WhmcsChanges};
use crate::columns::{OPENPROVIDER_OWNED, WHMCS_OWNED};
use crate::notice::{Code, Notice, Severity};
use crate::snapshot::RequestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Whmcs,
    Openprovider,
}

/// Something the host could not do for one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    pub whmcs_id: u64,
    pub domain: String,
    pub side: Side,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub response: Response,
    /// Nothing was written: changes are reported as what would change.
    #[serde(default)]
    pub dry_run: bool,
    /// Send a report even when nothing changed and nothing failed.
    #[serde(default)]
    pub send_empty: bool,
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// v1.2: the problems the host remembers, and its clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
    /// v1.2: links to each domain's page in the WHMCS admin area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    /// v1.3: how long the run had taken when the host asked for its report, in
    /// milliseconds of the host's clock; the report's footer gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// A problem of one WHMCS row (an error or warning notice), as the host remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenProblem {
    pub whmcs_id: u64,
    pub domain: String,
    pub code: Code,
    /// `YYYY-MM-DD HH:MM:SS`, the host's clock, as every time here.
    pub first_seen: String,
    pub last_seen: String,
    pub runs_seen: u64,
}

/// What the host remembers between runs (contract v1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tracking {
    /// When this run started.
    pub now: String,
    /// The run checked every Openprovider row of WHMCS (not a batch): a remembered
    /// problem of a row it did not see is resolved (the row is gone). In a batch, such a
    /// problem stays open, unchecked.
    #[serde(default = "yes")]
    pub complete: bool,
    #[serde(default)]
    pub open_problems: Vec<OpenProblem>,
    /// When a report last listed every open problem; `null`: never.
    #[serde(default)]
    pub still_open_mailed_at: Option<String>,
    /// How often the still-open problems are listed in full; 0: in every report sent.
    #[serde(default = "daily")]
    pub repeat_still_open_hours: u32,
}

fn yes() -> bool {
    true
}

fn daily() -> u32 {
    24
}

/// Where each domain's page is in the WHMCS admin area (contract v1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Links {
    /// The admin area, e.g. `https://billing.example.com/admin/`.
    pub admin_url: String,
    /// The client of each row (`tbldomains.userid`), for the page's `userid`.
    #[serde(default)]
    pub rows: Vec<RowClient>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowClient {
    pub whmcs_id: u64,
    pub userid: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub send: bool,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// v1.2: what the host remembers next, when the input had `tracking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<TrackingAfter>,
}

/// What the host stores after the run (contract v1.2): the open problems replace the ones
/// it had, `still_open_mailed_at` replaces its own (both only once the report, when
/// `send`, was mailed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingAfter {
    pub open_problems: Vec<OpenProblem>,
    pub still_open_mailed_at: Option<String>,
    /// Problems first seen in this run.
    pub new: u64,
    /// Problems seen before and still there.
    pub still_open: u64,
    /// Problems remembered that this run no longer found.
    pub resolved: u64,
}

/// The report input as `render_report_json` reads it: a [`ReportInput`] whose results
/// keep only what the report shows. The fields that tell a host what to write are
/// skipped unread, which keeps a 100k-row report as fast as before they existed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputRead {
    response: ResponseRead,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    send_empty: bool,
    #[serde(default)]
    failures: Vec<Failure>,
    #[serde(default)]
    tracking: Option<Tracking>,
    #[serde(default)]
    links: Option<Links>,
    #[serde(default)]
    duration_ms: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ResponseRead {
    engine: String,
    results: Vec<ResultRead>,
    summary: Summary,
    #[serde(default)]
    notices: Vec<Notice>,
}

#[derive(Deserialize)]
struct ResultRead {
    whmcs_id: u64,
    domain: String,
    #[allow(dead_code)]
    openprovider_id: Option<u64>,
    whmcs_changes: WhmcsChanges,
    openprovider_changes: OpenproviderChanges,
    notices: Vec<Notice>,
    #[serde(default)]
    held_whmcs_changes: Option<WhmcsChanges>,
    #[serde(default)]
    held_openprovider_changes: Option<OpenproviderChanges>,
}

/// What the report reads of one result, whichever way the input arrived.
trait Reported {
    fn whmcs_id(&self) -> u64;
    fn domain(&self) -> &str;
    fn whmcs_changes(&self) -> &WhmcsChanges;
    fn openprovider_changes(&self) -> &OpenproviderChanges;
    fn notices(&self) -> &[Notice];
    fn held_whmcs_changes(&self) -> Option<&WhmcsChanges>;
    fn held_openprovider_changes(&self) -> Option<&OpenproviderChanges>;
}

macro_rules! reported {
    ($t:ty) => {
        impl Reported for $t {
            fn whmcs_id(&self) -> u64 {
                self.whmcs_id
            }
            fn domain(&self) -> &str {
                &self.domain
            }
            fn whmcs_changes(&self) -> &WhmcsChanges {
                &self.whmcs_changes
            }
            fn openprovider_changes(&self) -> &OpenproviderChanges {
                &self.openprovider_changes
            }
            fn notices(&self) -> &[Notice] {
                &self.notices
            }
            fn held_whmcs_changes(&self) -> Option<&WhmcsChanges> {
                self.held_whmcs_changes.as_ref()
            }
            fn held_openprovider_changes(&self) -> Option<&OpenproviderChanges> {
                self.held_openprovider_changes.as_ref()
            }
        }
    };
}
reported!(RowResult);
reported!(ResultRead);

/// `render_report_json`'s work: the report input's bytes in, the report out.
pub(crate) fn render_json(bytes: &[u8]) -> Result<Report, RequestError> {
    let input: InputRead = serde_json::from_slice(bytes)
        .map_err(|e| RequestError::new("report input", format!("{e}")))?;
    if let Some(tracking) = &input.tracking {
        check_tracking(tracking)?;
    }
    if let Some(links) = &input.links {
        check_links(links)?;
    }
    let duration_ms = match &input.duration_ms {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            RequestError::new(
                "duration_ms",
                format!("expected a whole number of milliseconds, 0 or more, not {v}"),
            )
        })?),
    };
    let run = Run {
        engine: &input.response.engine,
        summary: &input.response.summary,
        notices: &input.response.notices,
        dry_run: input.dry_run,
        send_empty: input.send_empty,
        failures: &input.failures,
        tracking: input.tracking.as_ref(),
        links: input.links.as_ref(),
        duration_ms,
    };
    Ok(render_results(&run, &input.response.results))
}

impl Report {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// A time as hosts pass it: `YYYY-MM-DD HH:MM:SS`.
fn time(value: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S").ok()
}

fn check_time(path: &str, value: &str) -> Result<(), RequestError> {
    match time(value) {
        Some(_) => Ok(()),
        None => Err(RequestError::new(
            path,
            format!("expected a time as YYYY-MM-DD HH:MM:SS, not {value:?}"),
        )),
    }
}

pub(crate) fn check_tracking(tracking: &Tracking) -> Result<(), RequestError> {
    check_time("tracking.now", &tracking.now)?;
    if let Some(at) = &tracking.still_open_mailed_at {
        check_time("tracking.still_open_mailed_at", at)?;
    }
    let mut seen = BTreeSet::new();
    for (i, p) in tracking.open_problems.iter().enumerate() {
        check_time(
            &format!("tracking.open_problems[{i}].first_seen"),
            &p.first_seen,
        )?;
        check_time(
            &format!("tracking.open_problems[{i}].last_seen"),
            &p.last_seen,
        )?;
        if !seen.insert((p.whmcs_id, p.code)) {
            return Err(RequestError::new(
                format!("tracking.open_problems[{i}]"),
                format!(
                    "row {} and code {} are already listed",
                    p.whmcs_id,
                    p.code.as_str()
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_links(links: &Links) -> Result<(), RequestError> {
    let url = links.admin_url.as_str();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let odd = |c: char| c.is_whitespace() || c.is_control() || "?#\"<>\\".contains(c);
    if !scheme_ok || url.chars().any(odd) {
        return Err(RequestError::new(
            "links.admin_url",
            format!(
                "expected the WHMCS admin area's http(s) URL (no query, fragment, quotes or \
                 spaces), not {url:?}"
            ),
        ));
    }
    Ok(())
}

/// One line of a table: domain, from, to.
struct Line {
    whmcs_id: u64,
    domain: String,
    from: String,
    to: String,
}

struct Section {
    title: &'static str,
    lines: Vec<Line>,
}

/// A problem line: domain, what, message; the row and code when it is a row's notice.
struct Problem {
    domain: String,
    what: String,
    message: String,
    whmcs_id: Option<u64>,
    code: Option<Code>,
}

/// The report for a run, from typed input.
pub fn render(input: &ReportInput) -> Report {
    let run = Run {
        engine: &input.response.engine,
        summary: &input.response.summary,
        notices: &input.response.notices,
        dry_run: input.dry_run,
        send_empty: input.send_empty,
        failures: &input.failures,
        tracking: input.tracking.as_ref(),
        links: input.links.as_ref(),
        duration_ms: input.duration_ms,
    };
    render_results(&run, &input.response.results)
}

/// Everything of a report input but its results.
struct Run<'a> {
    engine: &'a str,
    summary: &'a Summary,
    /// The run's own notices (v1.1: `mass_change_held`).
    notices: &'a [Notice],
    dry_run: bool,
    send_empty: bool,
    failures: &'a [Failure],
    tracking: Option<&'a Tracking>,
    links: Option<&'a Links>,
    duration_ms: Option<u64>,
}

fn render_results<R: Reported>(input: &Run, results: &[R]) -> Report {
    let failed: BTreeSet<(u64, Side)> = input
        .failures
        .iter()
        .map(|f| (f.whmcs_id, f.side))
        .collect();

    let mut errors: Vec<Problem> = input
        .failures
        .iter()
        .map(|f| Problem {
            domain: cell(&f.domain),
            what: match f.side {
                Side::Whmcs => "WHMCS update failed".to_string(),
                Side::Openprovider => "Openprovider update failed".to_string(),
            },
            message: cell(&f.message),
            whmcs_id: Some(f.whmcs_id),
            code: None,
        })
        .collect();
    // The run's own notices lead, before any row's.
    errors.splice(
        0..0,
        input
            .notices
            .iter()
            .filter(|n| n.severity == Severity::Error)
            .map(|n| Problem {
                domain: "(this run)".to_string(),
                what: n.code.as_str().to_string(),
                message: cell(&n.message),
                whmcs_id: None,
                code: Some(n.code),
            }),
    );
    let held = input.summary.held;
    let mut warnings = Vec::new();
    let mut info: BTreeMap<&'static str, u64> = BTreeMap::new();

    // One table per reported field, WHMCS's first, in the order the field lists give.
    let mut sections: Vec<Section> = WHMCS_OWNED
        .iter()
        .chain(&OPENPROVIDER_OWNED)
        .filter_map(|field| field.report)
        .map(|title| Section {
            title,
            lines: Vec::new(),
        })
        .collect();
    let mut changed_domains = 0u64;

    for r in results {
        for n in r.notices() {
            let problem = || Problem {
                domain: cell(r.domain()),
                what: n.code.as_str().to_string(),
                message: cell(&n.message),
                whmcs_id: Some(r.whmcs_id()),
                code: Some(n.code),
            };
            match n.severity {
                Severity::Error => errors.push(problem()),
                Severity::Warning => warnings.push(problem()),
                Severity::Info => *info.entry(n.code.as_str()).or_default() += 1,
            }
        }
        let empty = (WhmcsChanges::default(), OpenproviderChanges::default());
        let (whmcs, openprovider) = if held {
            (
                r.held_whmcs_changes().unwrap_or(&empty.0),
                r.held_openprovider_changes().unwrap_or(&empty.1),
            )
        } else {
            (r.whmcs_changes(), r.openprovider_changes())
        };
        let changed = !whmcs.is_empty() || !openprovider.is_empty();
        if changed && collect_changes(r, whmcs, openprovider, &failed, &mut sections) {
            changed_domains += 1;
        }
    }

    let checked: BTreeSet<u64> = results.iter().map(|r| r.whmcs_id()).collect();
    let sorted = Sorted::new(input, errors, warnings, &checked);
    let send = input.send_empty || changed_domains > 0 || sorted.worth_sending();
    // A held run wrote nothing: it reads as a dry run, marked held.
    let would = input.dry_run || held;
    let subject = subject(input.dry_run, held, changed_domains, &sorted.counts());
    let summary = input.summary;
    let intro = match (input.dry_run, held, changed_domains) {
        (true, true, _) => {
            "Dry run: nothing was written, and the mass-change brake would hold a sync of \
             this state. These are the changes it would make once released."
        }
        (false, true, _) => {
            "The mass-change brake held this run: nothing was written. These are the changes \
             it would have made; if they are right, release one run explicitly."
        }
        (true, _, 0) => "Dry run: nothing was written, and a sync would change nothing.",
        (true, _, _) => "Dry run: nothing was written. These are the changes a sync would make.",
        (false, _, 0) => "opsync compared WHMCS with Openprovider; nothing needed changing.",
        (false, _, _) => "opsync compared WHMCS with Openprovider and made these changes.",
    };
    let counts = match &sorted.tracked {
        None => format!(
            "Domains checked: {}. {} {}. Errors: {}. Warnings: {}.",
            summary.rows,
            if would { "Would change:" } else { "Changed:" },
            changed_domains,
            sorted.errors.len(),
            sorted.warnings.len()
        ),
        Some(t) => format!(
            "Domains checked: {}. {} {}. New errors: {}. New warnings: {}. Resolved: {}. \
             Still open: {}.",
            summary.rows,
            if would { "Would change:" } else { "Changed:" },
            changed_domains,
            sorted.errors.len(),
            sorted.warnings.len(),
            t.resolved.len(),
            t.still_open.len()
        ),
    };
    let info_line = (!info.is_empty()).then(|| {
        let parts: Vec<String> = info.iter().map(|(code, n)| format!("{code} {n}")).collect();
        format!("For information, not listed: {}.", parts.join(", "))
    });
    let tables = sorted.tables(&sections);
    let footer = sorted.still_open_line();
    let advice = sorted.advice();

    // Plain text.
    let mut text = format!("{intro}\n{counts}\n");
    for t in &tables {
        text_table(&mut text, t);
    }
    if let Some(line) = &footer {
        let _ = write!(text, "\n{line}\n");
    }
    if !advice.is_empty() {
        text.push_str("\nWhat to do\n");
        for (what, line) in &advice {
            let _ = writeln!(text, "  {what}: {line}");
        }
    }
    if let Some(line) = &info_line {
        let _ = write!(text, "\n{line}\n");
    }
    let took = input
        .duration_ms
        .map(|ms| format!("The run took {} up to this report.", duration(ms)));
    let _ = write!(text, "\n-- \n{}\n", input.engine);
    if let Some(line) = &took {
        let _ = writeln!(text, "{line}");
    }

    // HTML.
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n",
    );
    let _ = writeln!(html, "<h2>{}</h2>", escape(&subject));
    let _ = writeln!(html, "<p>{}<br>{}</p>", escape(intro), escape(&counts));
    let links = input.links.map(AdminLinks::new);
    for t in &tables {
        html_table(&mut html, t, links.as_ref());
    }
    if let Some(line) = &footer {
        let _ = writeln!(html, "<p>{}</p>", escape(line));
    }
    if !advice.is_empty() {
        html.push_str("<h3>What to do</h3>\n<ul>\n");
        for (what, line) in &advice {
            let _ = writeln!(html, "<li><b>{}</b>: {}</li>", escape(what), escape(line));
        }
        html.push_str("</ul>\n");
    }
    if let Some(line) = &info_line {
        let _ = writeln!(html, "<p>{}</p>", escape(line));
    }
    let _ = writeln!(
        html,
        "<p style=\"color:#777\">{}{}</p>\n</body></html>",
        escape(input.engine),
        took.map(|line| format!("<br>{}", escape(&line)))
            .unwrap_or_default()
    );

    let tracking = sorted.after(send);
    Report {
        send,
        subject,
        text,
        html,
        tracking,
    }
}

/// A run's duration as people read it: `6.1 s`, `4 min 12 s`, `1 h 3 min`.
fn duration(ms: u64) -> String {
    if ms < 59_950 {
        let tenths = (ms + 50) / 100;
        return format!("{}.{} s", tenths / 10, tenths % 10);
    }
    let seconds = (ms + 500) / 1000;
    if seconds < 3600 {
        format!("{} min {} s", seconds / 60, seconds % 60)
    } else {
        let minutes = (seconds + 30) / 60;
        format!("{} h {} min", minutes / 60, minutes % 60)
    }
}

/// A report table: its title, column heads and rows; `whmcs_id` links a row's Domain
/// cell (column `domain_column`) to its page when the input has `links`.
struct Table {
    title: String,
    head: Vec<&'static str>,
    domain_column: usize,
    rows: Vec<TableRow>,
}

struct TableRow {
    whmcs_id: Option<u64>,
    cells: Vec<String>,
}

/// A remembered problem's history, for one still there or resolved.
struct Seen {
    problem: Problem,
    first_seen: String,
    runs_seen: u64,
}

/// v1.2: the row problems sorted against what the host remembers.
struct Tracked<'a> {
    tracking: &'a Tracking,
    /// Row problems seen before and still there (not listed as new).
    still_open: Vec<Seen>,
    /// Remembered problems this run no longer found.
    resolved: Vec<&'a OpenProblem>,
    /// Remembered problems of rows this (batched) run did not check: kept as they were.
    unchecked: Vec<&'a OpenProblem>,
    /// The still-open list is due in full (never mailed, or longer ago than the repeat).
    list_still_open: bool,
    /// When each new problem was first seen: now.
    now: &'a str,
}

/// The problems of a run: `errors` and `warnings` are what the report lists as this
/// run's (in v1 every problem; in v1.2 the new ones, with failures and the run's own).
struct Sorted<'a> {
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    tracked: Option<Tracked<'a>>,
}

/// What the subject counts.
struct Counts {
    tracked: bool,
    errors: usize,
    warnings: usize,
    resolved: usize,
    /// Still-open problems the report lists in full (0 when it gives them one line).
    still_open_listed: usize,
}

impl<'a> Sorted<'a> {
    fn new(
        input: &Run<'a>,
        errors: Vec<Problem>,
        warnings: Vec<Problem>,
        checked: &BTreeSet<u64>,
    ) -> Sorted<'a> {
        let Some(tracking) = input.tracking else {
            return Sorted {
                errors,
                warnings,
                tracked: None,
            };
        };
        let known: BTreeMap<(u64, Code), &OpenProblem> = tracking
            .open_problems
            .iter()
            .map(|p| ((p.whmcs_id, p.code), p))
            .collect();
        let mut current = BTreeSet::new();
        let mut still_open = Vec::new();
        let mut split = |list: Vec<Problem>| -> Vec<Problem> {
            let mut new = Vec::new();
            for p in list {
                // Failures (no code) and the run's own notices (no row) are about this
                // run: always new.
                let remembered = p.whmcs_id.zip(p.code).and_then(|key| {
                    current.insert(key);
                    known.get(&key).copied()
                });
                match remembered {
                    Some(k) => still_open.push(Seen {
                        problem: p,
                        first_seen: k.first_seen.clone(),
                        runs_seen: k.runs_seen.saturating_add(1),
                    }),
                    None => new.push(p),
                }
            }
            new
        };
        let errors = split(errors);
        let warnings = split(warnings);
        let (resolved, unchecked): (Vec<&OpenProblem>, Vec<&OpenProblem>) = tracking
            .open_problems
            .iter()
            .filter(|p| !current.contains(&(p.whmcs_id, p.code)))
            .partition(|p| tracking.complete || checked.contains(&p.whmcs_id));
        let now = time(&tracking.now);
        let list_still_open = match (tracking.still_open_mailed_at.as_deref().and_then(time), now) {
            (Some(at), Some(now)) => {
                (now - at).num_seconds() >= i64::from(tracking.repeat_still_open_hours) * 3600
            }
            _ => true,
        };
        Sorted {
            errors,
            warnings,
            tracked: Some(Tracked {
                tracking,
                still_open,
                resolved,
                unchecked,
                list_still_open,
                now: &tracking.now,
            }),
        }
    }

    /// Beyond changes and send_empty: v1 sends for any error; v1.2 for anything new
    /// (the run's own error notices are always new: they lead `errors`) or resolved, and
    /// for the still-open list when it is due.
    fn worth_sending(&self) -> bool {
        match &self.tracked {
            None => !self.errors.is_empty(),
            Some(t) => {
                !self.errors.is_empty()
                    || !self.warnings.is_empty()
                    || !t.resolved.is_empty()
                    || (t.list_still_open && !t.still_open.is_empty())
            }
        }
    }

    fn counts(&self) -> Counts {
        let (resolved, still_open_listed) = match &self.tracked {
            Some(t) if t.list_still_open => (t.resolved.len(), t.still_open.len()),
            Some(t) => (t.resolved.len(), 0),
            None => (0, 0),
        };
        Counts {
            tracked: self.tracked.is_some(),
            errors: self.errors.len(),
            warnings: self.warnings.len(),
            resolved,
            still_open_listed,
        }
    }

    /// Every table, in the report's order: errors, warnings, resolved (v1.2), the changes,
    /// still open (v1.2, when listed in full).
    fn tables(&self, sections: &[Section]) -> Vec<Table> {
        let tracked = self.tracked.is_some();
        let with_row = |id: Option<u64>, mut cells: Vec<String>| {
            if tracked {
                cells.insert(0, id.map_or("-".to_string(), |id| id.to_string()));
            }
            TableRow {
                whmcs_id: id,
                cells,
            }
        };
        let head = |cells: &[&'static str]| {
            let mut head = cells.to_vec();
            if tracked {
                head.insert(0, "Row");
            }
            head
        };
        let domain_column = usize::from(tracked);
        let mut tables = Vec::new();
        let problem_tables = [
            (if tracked { "New errors" } else { "Errors" }, &self.errors),
            (
                if tracked { "New warnings" } else { "Warnings" },
                &self.warnings,
            ),
        ];
        for (title, list) in problem_tables {
            if !list.is_empty() {
                tables.push(Table {
                    title: title.to_string(),
                    head: head(&["Domain", "Problem", "Detail"]),
                    domain_column,
                    rows: list
                        .iter()
                        .map(|p| {
                            with_row(
                                p.whmcs_id,
                                vec![p.domain.clone(), p.what.clone(), p.message.clone()],
                            )
                        })
                        .collect(),
                });
            }
        }
        if let Some(t) = &self.tracked {
            if !t.resolved.is_empty() {
                tables.push(Table {
                    title: "Resolved since the last report".to_string(),
                    head: head(&["Domain", "Problem", "Open since"]),
                    domain_column,
                    rows: t
                        .resolved
                        .iter()
                        .map(|p| {
                            with_row(
                                Some(p.whmcs_id),
                                vec![
                                    cell(&p.domain),
                                    p.code.as_str().to_string(),
                                    p.first_seen.clone(),
                                ],
                            )
                        })
                        .collect(),
                });
            }
        }
        for s in sections.iter().filter(|s| !s.lines.is_empty()) {
            tables.push(Table {
                title: s.title.to_string(),
                head: head(&["Domain", "Was", "Now"]),
                domain_column,
                rows: s
                    .lines
                    .iter()
                    .map(|l| {
                        with_row(
                            Some(l.whmcs_id),
                            vec![l.domain.clone(), l.from.clone(), l.to.clone()],
                        )
                    })
                    .collect(),
            });
        }
        if let Some(t) = self.tracked.as_ref().filter(|t| t.list_still_open) {
            if !t.still_open.is_empty() {
                tables.push(Table {
                    title: "Still open, reported before".to_string(),
                    head: head(&["Domain", "Problem", "Detail", "Since"]),
                    domain_column,
                    rows: t
                        .still_open
                        .iter()
                        .map(|s| {
                            with_row(
                                s.problem.whmcs_id,
                                vec![
                                    s.problem.domain.clone(),
                                    s.problem.what.clone(),
                                    s.problem.message.clone(),
                                    s.first_seen.clone(),
                                ],
                            )
                        })
                        .collect(),
                });
            }
        }
        tables
    }

    /// v1.2: the one line for still-open problems the report does not list in full.
    fn still_open_line(&self) -> Option<String> {
        let t = self.tracked.as_ref()?;
        if t.list_still_open || t.still_open.is_empty() {
            return None;
        }
        let oldest = t.still_open.iter().map(|s| s.first_seen.as_str()).min()?;
        let next = t
            .tracking
            .still_open_mailed_at
            .as_deref()
            .and_then(time)
            .map(|at| at + chrono::Duration::hours(i64::from(t.tracking.repeat_still_open_hours)));
        Some(format!(
            "Still open: {} {} reported before (the oldest since {oldest}){}.",
            t.still_open.len(),
            if t.still_open.len() == 1 {
                "problem"
            } else {
                "problems"
            },
            match next {
                Some(next) => format!(
                    "; the full list comes with the first report after {}",
                    next.format("%Y-%m-%d %H:%M")
                ),
                None => String::new(),
            }
        ))
    }

    /// v1.2: one line of advice for each code the report lists (write failures too).
    fn advice(&self) -> Vec<(String, &'static str)> {
        let Some(t) = &self.tracked else {
            return Vec::new();
        };
        let mut codes = BTreeSet::new();
        let mut failed = false;
        let listed_still_open = t.still_open.iter().filter(|_| t.list_still_open);
        for p in self
            .errors
            .iter()
            .chain(&self.warnings)
            .chain(listed_still_open.map(|s| &s.problem))
        {
            match p.code {
                Some(code) => {
                    codes.insert(code);
                }
                None => failed = true,
            }
        }
        let mut lines: Vec<(String, &'static str)> = codes
            .into_iter()
            .map(|c| (c.as_str().to_string(), c.advice()))
            .collect();
        if failed {
            lines.push((
                "update failed".to_string(),
                "the write did not go through; the next run tries again. If it repeats, \
                 read the detail (and opsync check).",
            ));
        }
        lines
    }

    /// v1.2: what the host remembers next.
    fn after(&self, send: bool) -> Option<TrackingAfter> {
        let t = self.tracked.as_ref()?;
        let mut open: Vec<OpenProblem> = Vec::new();
        for p in self.errors.iter().chain(&self.warnings) {
            if let (Some(whmcs_id), Some(code)) = (p.whmcs_id, p.code) {
                open.push(OpenProblem {
                    whmcs_id,
                    domain: p.domain.clone(),
                    code,
                    first_seen: t.now.to_string(),
                    last_seen: t.now.to_string(),
                    runs_seen: 1,
                });
            }
        }
        let new = open.len() as u64;
        for s in &t.still_open {
            if let (Some(whmcs_id), Some(code)) = (s.problem.whmcs_id, s.problem.code) {
                open.push(OpenProblem {
                    whmcs_id,
                    domain: s.problem.domain.clone(),
                    code,
                    first_seen: s.first_seen.clone(),
                    last_seen: t.now.to_string(),
                    runs_seen: s.runs_seen,
                });
            }
        }
        open.extend(t.unchecked.iter().map(|p| (*p).clone()));
        open.sort_by_key(|p| (p.whmcs_id, p.code));
        open.dedup_by_key(|p| (p.whmcs_id, p.code));
        // A sent report that lists every open problem (new ones, and the still-open ones
        // in full or none) restarts the repeat interval.
        let everything_listed = t.list_still_open || t.still_open.is_empty();
        let still_open_mailed_at = if send && everything_listed {
            Some(t.now.to_string())
        } else {
            t.tracking.still_open_mailed_at.clone()
        };
        Some(TrackingAfter {
            open_problems: open,
            still_open_mailed_at,
            new,
            still_open: t.still_open.len() as u64,
            resolved: t.resolved.len() as u64,
        })
    }
}

/// Adds the row's reportable changes to the sections; true when it had any.
fn collect_changes(
    r: &impl Reported,
    whmcs: &WhmcsChanges,
    openprovider: &OpenproviderChanges,
    failed: &BTreeSet<(u64, Side)>,
    sections: &mut [Section],
) -> bool {
    let mut shown = Vec::new();
    if !failed.contains(&(r.whmcs_id(), Side::Whmcs)) {
        shown.extend(
            whmcs
                .each()
                .map(|(field, change)| (field.report, change.clone())),
        );
    }
    if !failed.contains(&(r.whmcs_id(), Side::Openprovider)) {
        shown.extend(
            openprovider
                .each()
                .map(|(field, _, change)| (field.report, change)),
        );
    }
    let mut any = false;
    for (title, change) in shown {
        let Some(section) = title.and_then(|t| sections.iter_mut().find(|s| s.title == t)) else {
            continue;
        };
        section.lines.push(Line {
            whmcs_id: r.whmcs_id(),
            domain: cell(r.domain()),
            from: cell(change.from.as_deref().unwrap_or("(unknown)")),
            to: cell(&change.to),
        });
        any = true;
    }
    any
}

/// The longest text a report cell shows; the rest is counted, not printed.
const CELL_MAX: usize = 300;

/// A value as a report shows it: control characters (NUL, escapes, ...) written out as
/// `\u{1b}` so nothing in a name can break the mail or a terminal, and a value longer
/// than [`CELL_MAX`] characters cut, saying how long it was.
fn cell(value: &str) -> String {
    let mut shown = String::with_capacity(value.len().min(CELL_MAX + 32));
    for (i, c) in value.chars().enumerate() {
        if i == CELL_MAX {
            let _ = write!(shown, "… ({} characters)", value.chars().count());
            break;
        }
        if c.is_control() {
            let _ = write!(shown, "\\u{{{:x}}}", c as u32);
        } else {
            shown.push(c);
        }
    }
    shown
}

fn subject(dry_run: bool, held: bool, changed: u64, counts: &Counts) -> String {
    let mut parts = Vec::new();
    match (changed, dry_run || held) {
        (0, _) => parts.push("no changes".to_string()),
        (1, false) => parts.push("1 domain changed".to_string()),
        (n, false) => parts.push(format!("{n} domains changed")),
        (1, true) => parts.push("1 domain would change".to_string()),
        (n, true) => parts.push(format!("{n} domains would change")),
    }
    // v1.2 counts what is new: the still-open problems only when listed in full.
    let new = if counts.tracked { "new " } else { "" };
    let mut count = |n: usize, one: &str, many: &str| match n {
        0 => {}
        1 => parts.push(format!("1 {new}{one}")),
        n => parts.push(format!("{n} {new}{many}")),
    };
    count(counts.errors, "error", "errors");
    count(counts.warnings, "warning", "warnings");
    if counts.resolved > 0 {
        parts.push(format!("{} resolved", counts.resolved));
    }
    if counts.still_open_listed > 0 {
        parts.push(format!("{} still open", counts.still_open_listed));
    }
    format!(
        "{}{}Domain Synchronisation Report: {}",
        if held { "[held] " } else { "" },
        if dry_run { "[dry run] " } else { "" },
        parts.join(", ")
    )
}

/// Each row's page in the WHMCS admin area.
struct AdminLinks<'a> {
    base: &'a str,
    userids: BTreeMap<u64, u64>,
}

impl<'a> AdminLinks<'a> {
    fn new(links: &'a Links) -> AdminLinks<'a> {
        AdminLinks {
            base: links.admin_url.trim_end_matches('/'),
            userids: links.rows.iter().map(|r| (r.whmcs_id, r.userid)).collect(),
        }
    }

    fn page(&self, whmcs_id: u64) -> String {
        match self.userids.get(&whmcs_id) {
            Some(userid) => format!(
                "{}/clientsdomains.php?userid={userid}&id={whmcs_id}",
                self.base
            ),
            None => format!("{}/clientsdomains.php?id={whmcs_id}", self.base),
        }
    }
}

fn text_table(out: &mut String, table: &Table) {
    let mut width: Vec<usize> = table.head.iter().map(|h| h.chars().count()).collect();
    for row in &table.rows {
        for (w, cell) in width.iter_mut().zip(&row.cells) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let _ = write!(out, "\n{} ({})\n", table.title, table.rows.len());
    let line = |out: &mut String, cells: &[&str]| {
        out.push(' ');
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                let _ = write!(out, " {c}");
            } else {
                let _ = write!(out, " {c:w$} ", w = width[i]);
            }
        }
        out.push('\n');
    };
    line(out, &table.head);
    for row in &table.rows {
        let cells: Vec<&str> = row.cells.iter().map(String::as_str).collect();
        line(out, &cells);
    }
}

fn html_table(out: &mut String, table: &Table, links: Option<&AdminLinks>) {
    let _ = writeln!(
        out,
        "<h3>{} ({})</h3>",
        escape(&table.title),
        table.rows.len()
    );
    out.push_str("<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\" style=\"border-collapse:collapse\">\n<tr>");
    for h in &table.head {
        let _ = write!(out, "<th align=\"left\">{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.cells.iter().enumerate() {
            match (links, row.whmcs_id) {
                (Some(links), Some(id)) if i == table.domain_column => {
                    let _ = write!(
                        out,
                        "<td><a href=\"{}\">{}</a></td>",
                        escape(&links.page(id)),
                        escape(cell)
                    );
                }
                _ => {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// HTML-escapes text for element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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

//!
//! The module's parts: `input` (the input as the verb reads it, and its checks),
//! `problems` (notices and failures sorted against what the host remembers, and the
//! changes into their tables), `format` (tables as text and HTML, cells, the subject,
//! links to the admin area); this file holds the types and puts the report together.

mod format;
mod input;
mod problems;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::changes::{OpenproviderChanges, Response, Summary, WhmcsChanges};
use crate::columns::{OPENPROVIDER_OWNED, WHMCS_OWNED};
use crate::notice::{Code, Notice, Severity};
use crate::snapshot::RequestError;

use format::{cell, escape, html_table, subject, text_table, AdminLinks};
use input::{InputRead, Reported};
use problems::{collect_changes, Problem, Section, Sorted};

pub(crate) use input::{check_links, check_tracking};

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
    Ok(render_results(&run, &input.response.results).0)
}

impl Report {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// The report for a run, from typed input.
pub fn render(input: &ReportInput) -> Report {
    render_with_body(input).0
}

/// The report, and what its HTML's body holds without the document around it: for a
/// mailer that wraps a message in its own (a run's `send_report.body`).
pub(crate) fn render_with_body(input: &ReportInput) -> (Report, String) {
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

fn render_results<R: Reported>(input: &Run, results: &[R]) -> (Report, String) {
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

    // HTML: the body, then the document around it.
    let mut html = String::new();
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
        "<p style=\"color:#777\">{}{}</p>",
        escape(input.engine),
        took.map(|line| format!("<br>{}", escape(&line)))
            .unwrap_or_default()
    );
    let body = html;
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n{body}</body></html>\n"
    );

    let tracking = sorted.after(send);
    (
        Report {
            send,
            subject,
            text,
            html,
            tracking,
        },
        body,
    )
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

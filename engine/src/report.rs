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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::changes::{OpenproviderChanges, Response, RowResult, Summary, WhmcsChanges};
use crate::columns::{OPENPROVIDER_OWNED, WHMCS_OWNED};
use crate::notice::Notice;
use crate::notice::Severity;
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub send: bool,
    pub subject: String,
    pub text: String,
    pub html: String,
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
    let run = Run {
        engine: &input.response.engine,
        summary: &input.response.summary,
        notices: &input.response.notices,
        dry_run: input.dry_run,
        send_empty: input.send_empty,
        failures: &input.failures,
    };
    Ok(render_results(&run, &input.response.results))
}

impl Report {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// One line of a table: domain, from, to.
struct Line {
    domain: String,
    from: String,
    to: String,
}

struct Section {
    title: &'static str,
    lines: Vec<Line>,
}

/// A problem line: domain, what, message.
struct Problem {
    domain: String,
    what: String,
    message: String,
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

    let send = input.send_empty || changed_domains > 0 || !errors.is_empty();
    // A held run wrote nothing: it reads as a dry run, marked held.
    let would = input.dry_run || held;
    let subject = subject(
        input.dry_run,
        held,
        changed_domains,
        errors.len(),
        warnings.len(),
    );
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
    let counts = format!(
        "Domains checked: {}. {} {}. Errors: {}. Warnings: {}.",
        summary.rows,
        if would { "Would change:" } else { "Changed:" },
        changed_domains,
        errors.len(),
        warnings.len()
    );
    let info_line = (!info.is_empty()).then(|| {
        let parts: Vec<String> = info.iter().map(|(code, n)| format!("{code} {n}")).collect();
        format!("For information, not listed: {}.", parts.join(", "))
    });

    // Plain text.
    let mut text = format!("{intro}\n{counts}\n");
    let problem_tables = [("Errors", &errors), ("Warnings", &warnings)];
    for (title, list) in problem_tables {
        if !list.is_empty() {
            let rows: Vec<[&str; 3]> = list
                .iter()
                .map(|p| [p.domain.as_str(), p.what.as_str(), p.message.as_str()])
                .collect();
            text_table(&mut text, title, ["Domain", "Problem", "Detail"], &rows);
        }
    }
    for s in sections.iter().filter(|s| !s.lines.is_empty()) {
        let rows: Vec<[&str; 3]> = s
            .lines
            .iter()
            .map(|l| [l.domain.as_str(), l.from.as_str(), l.to.as_str()])
            .collect();
        text_table(&mut text, s.title, ["Domain", "Was", "Now"], &rows);
    }
    if let Some(line) = &info_line {
        let _ = write!(text, "\n{line}\n");
    }
    let _ = write!(text, "\n-- \n{}\n", input.engine);

    // HTML.
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n",
    );
    let _ = writeln!(html, "<h2>{}</h2>", escape(&subject));
    let _ = writeln!(html, "<p>{}<br>{}</p>", escape(intro), escape(&counts));
    for (title, list) in problem_tables {
        if !list.is_empty() {
            let rows: Vec<[&str; 3]> = list
                .iter()
                .map(|p| [p.domain.as_str(), p.what.as_str(), p.message.as_str()])
                .collect();
            html_table(&mut html, title, ["Domain", "Problem", "Detail"], &rows);
        }
    }
    for s in sections.iter().filter(|s| !s.lines.is_empty()) {
        let rows: Vec<[&str; 3]> = s
            .lines
            .iter()
            .map(|l| [l.domain.as_str(), l.from.as_str(), l.to.as_str()])
            .collect();
        html_table(&mut html, s.title, ["Domain", "Was", "Now"], &rows);
    }
    if let Some(line) = &info_line {
        let _ = writeln!(html, "<p>{}</p>", escape(line));
    }
    let _ = writeln!(
        html,
        "<p style=\"color:#777\">{}</p>\n</body></html>",
        escape(input.engine)
    );

    Report {
        send,
        subject,
        text,
        html,
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

fn subject(dry_run: bool, held: bool, changed: u64, errors: usize, warnings: usize) -> String {
    let mut parts = Vec::new();
    match (changed, dry_run || held) {
        (0, _) => parts.push("no changes".to_string()),
        (1, false) => parts.push("1 domain changed".to_string()),
        (n, false) => parts.push(format!("{n} domains changed")),
        (1, true) => parts.push("1 domain would change".to_string()),
        (n, true) => parts.push(format!("{n} domains would change")),
    }
    match errors {
        0 => {}
        1 => parts.push("1 error".to_string()),
        n => parts.push(format!("{n} errors")),
    }
    match warnings {
        0 => {}
        1 => parts.push("1 warning".to_string()),
        n => parts.push(format!("{n} warnings")),
    }
    format!(
        "{}{}Domain Synchronisation Report: {}",
        if held { "[held] " } else { "" },
        if dry_run { "[dry run] " } else { "" },
        parts.join(", ")
    )
}

fn text_table(out: &mut String, title: &str, head: [&str; 3], rows: &[[&str; 3]]) {
    let mut width = head.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let _ = write!(out, "\n{title} ({})\n", rows.len());
    let line = |out: &mut String, cells: &[&str; 3]| {
        let _ = writeln!(
            out,
            "  {:w0$}  {:w1$}  {}",
            cells[0],
            cells[1],
            cells[2],
            w0 = width[0],
            w1 = width[1]
        );
    };
    line(out, &head);
    for row in rows {
        line(out, row);
    }
}

fn html_table(out: &mut String, title: &str, head: [&str; 3], rows: &[[&str; 3]]) {
    let _ = writeln!(out, "<h3>{} ({})</h3>", escape(title), rows.len());
    out.push_str("<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\" style=\"border-collapse:collapse\">\n<tr>");
    for h in head {
        let _ = write!(out, "<th align=\"left\">{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
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

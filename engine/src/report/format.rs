//! How a report looks: its tables as text and HTML, a cell's text, the subject line and
//! the links to each row's page in the WHMCS admin area.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::problems::Counts;
use super::Links;

/// A report table: its title, column heads and rows; `whmcs_id` links a row's Domain
/// cell (column `domain_column`) to its page when the input has `links`.
pub(super) struct Table {
    pub(super) title: String,
    pub(super) head: Vec<&'static str>,
    pub(super) domain_column: usize,
    pub(super) rows: Vec<TableRow>,
}

pub(super) struct TableRow {
    pub(super) whmcs_id: Option<u64>,
    pub(super) cells: Vec<String>,
}

/// The longest text a report cell shows; the rest is counted, not printed.
pub(super) const CELL_MAX: usize = 300;

/// A value as a report shows it: control characters (NUL, escapes, ...) written out as
/// `\u{1b}` so nothing in a name can break the mail or a terminal, and a value longer
/// than [`CELL_MAX`] characters cut, saying how long it was.
pub(super) fn cell(value: &str) -> String {
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

pub(super) fn subject(dry_run: bool, held: bool, changed: u64, counts: &Counts) -> String {
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
pub(super) struct AdminLinks<'a> {
    pub(super) base: &'a str,
    pub(super) userids: BTreeMap<u64, u64>,
}

impl<'a> AdminLinks<'a> {
    pub(super) fn new(links: &'a Links) -> AdminLinks<'a> {
        AdminLinks {
            base: links.admin_url.trim_end_matches('/'),
            userids: links.rows.iter().map(|r| (r.whmcs_id, r.userid)).collect(),
        }
    }

    pub(super) fn page(&self, whmcs_id: u64) -> String {
        match self.userids.get(&whmcs_id) {
            Some(userid) => format!(
                "{}/clientsdomains.php?userid={userid}&id={whmcs_id}",
                self.base
            ),
            None => format!("{}/clientsdomains.php?id={whmcs_id}", self.base),
        }
    }
}

pub(super) fn text_table(out: &mut String, table: &Table) {
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

pub(super) fn html_table(out: &mut String, table: &Table, links: Option<&AdminLinks>) {
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
pub(super) fn escape(s: &str) -> String {
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

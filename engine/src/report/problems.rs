//! A run's problems (failures and notices) sorted against what the host remembers
//! (contract v1.2: new, still open, resolved), and each row's changes into their tables.

use std::collections::{BTreeMap, BTreeSet};

use super::format::{cell, Table, TableRow};
use super::input::{time, Reported};
use super::{OpenProblem, Run, Side, Tracking, TrackingAfter};
use crate::changes::{OpenproviderChanges, WhmcsChanges};
use crate::notice::Code;

/// One line of a table: domain, from, to.
pub(super) struct Line {
    pub(super) whmcs_id: u64,
    pub(super) domain: String,
    pub(super) from: String,
    pub(super) to: String,
}

pub(super) struct Section {
    pub(super) title: &'static str,
    pub(super) lines: Vec<Line>,
}

/// A problem line: domain, what, message; the row and code when it is a row's notice.
pub(super) struct Problem {
    pub(super) domain: String,
    pub(super) what: String,
    pub(super) message: String,
    pub(super) whmcs_id: Option<u64>,
    pub(super) code: Option<Code>,
}

/// A remembered problem's history, for one still there or resolved.
pub(super) struct Seen {
    pub(super) problem: Problem,
    pub(super) first_seen: String,
    pub(super) runs_seen: u64,
}

/// v1.2: the row problems sorted against what the host remembers.
pub(super) struct Tracked<'a> {
    pub(super) tracking: &'a Tracking,
    /// Row problems seen before and still there (not listed as new).
    pub(super) still_open: Vec<Seen>,
    /// Remembered problems this run no longer found.
    pub(super) resolved: Vec<&'a OpenProblem>,
    /// Remembered problems of rows this (batched) run did not check: kept as they were.
    pub(super) unchecked: Vec<&'a OpenProblem>,
    /// The still-open list is due in full (never mailed, or longer ago than the repeat).
    pub(super) list_still_open: bool,
    /// When each new problem was first seen: now.
    pub(super) now: &'a str,
}

/// The problems of a run: `errors` and `warnings` are what the report lists as this
/// run's (in v1 every problem; in v1.2 the new ones, with failures and the run's own).
pub(super) struct Sorted<'a> {
    pub(super) errors: Vec<Problem>,
    pub(super) warnings: Vec<Problem>,
    pub(super) tracked: Option<Tracked<'a>>,
}

/// What the subject counts.
pub(super) struct Counts {
    pub(super) tracked: bool,
    pub(super) errors: usize,
    pub(super) warnings: usize,
    pub(super) resolved: usize,
    /// Still-open problems the report lists in full (0 when it gives them one line).
    pub(super) still_open_listed: usize,
}

impl<'a> Sorted<'a> {
    pub(super) fn new(
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
    pub(super) fn worth_sending(&self) -> bool {
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

    pub(super) fn counts(&self) -> Counts {
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
    pub(super) fn tables(&self, sections: &[Section]) -> Vec<Table> {
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
    pub(super) fn still_open_line(&self) -> Option<String> {
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
    pub(super) fn advice(&self) -> Vec<(String, &'static str)> {
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
    pub(super) fn after(&self, send: bool) -> Option<TrackingAfter> {
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
pub(super) fn collect_changes(
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

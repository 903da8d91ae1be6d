//! The per-row walk: pairing first, then each rule in the contract's order.
//!
//! For every WHMCS row, in request order:
//! 1. an excluded row (v1.4) -> `excluded`, nothing else;
//! 2. a row that cannot be judged -> `invalid_record`, nothing else;
//! 3. an admin's confirmed transfer away (v1.4): applied when the request's own picture
//!    bears it out (not protected, a complete listing, no record live or deleted), and
//!    nothing else; otherwise `transfer_confirmation_stale`, and the walk goes on;
//! 4. a row that duplicates the one kept in sync -> `duplicate_domain`, nothing else;
//! 5. a protected row -> nothing at all;
//! 6. no Openprovider record -> `not_in_openprovider` / `lookup_failed` / `not_checked`;
//! 7. status, expiry, due date, auto-renew, WHOIS privacy, each when the row's policy (its
//!    extension's, v1.4) enables it;
//! 8. what a host writes for the changes: the updates and the activity lines.
//!
//! Then the book (v1.4, [`book`](crate::book)): the records no row has.

use std::collections::HashSet;

use crate::changes::{Change, OpenproviderChanges, Response, RowResult, Summary, WhmcsChanges};
use crate::contract::LookupKind;
use crate::dates::format_day;
use crate::modifiable;
use crate::notice::{Notice, Severity};
use crate::pairing::Pairing;
use crate::policy::Policy;
use crate::rule::Decision;
use crate::snapshot::{OpDomain, Snapshot, WhmcsRow};
use crate::status::WhmcsStatus;
use crate::{book, due_date, expiry, privacy, renewal, status, update, ENGINE};

pub(crate) fn decide(request: &Snapshot) -> Response {
    let pairing = Pairing::new(request);
    let confirmed: HashSet<u64> = request.confirmed_transferred_away.iter().copied().collect();
    let mut results: Vec<RowResult> = request
        .whmcs
        .iter()
        .zip(&pairing.names)
        .map(|(row, name)| decide_row(row, name.as_deref(), &pairing, request, &confirmed))
        .collect();
    let openprovider_only = request
        .whmcs_other
        .as_ref()
        .map(|other| book::openprovider_only(request, &pairing, other));
    let mut summary = Summary::of(&results);
    let mut notices = Vec::new();
    if let Some(limit) = request.policy.mass_change_limit {
        if limit.holds(summary.changed_rows, summary.rows) {
            let changed = summary.changed_rows;
            results.iter_mut().for_each(RowResult::hold);
            summary = Summary::of(&results);
            summary.held = true;
            summary.held_rows = Some(changed);
            notices.push(Notice::mass_change_held(
                changed,
                summary.rows,
                limit.percent,
                limit.min_rows,
            ));
        }
    }
    if let Some(book) = &openprovider_only {
        summary.openprovider_only = Some(book.len() as u64);
        // The book's notices are warnings or information, never errors.
        summary.warnings += book
            .iter()
            .filter(|e| e.notice.severity == Severity::Warning)
            .count() as u64;
    }
    Response {
        engine: ENGINE.to_string(),
        results,
        summary,
        notices,
        openprovider_only,
    }
}

fn decide_row(
    row: &WhmcsRow,
    name: Option<&str>,
    pairing: &Pairing,
    request: &Snapshot,
    confirmed: &HashSet<u64>,
) -> RowResult {
    let op = name.and_then(|n| pairing.openprovider(n));
    let mut result = RowResult::unchanged(row.id, &row.domain, op.map(|d| d.id));

    if name.is_some_and(|n| pairing.is_excluded(n)) {
        result.notices.push(Notice::excluded());
        return result;
    }

    let (Some(name), Some(status)) = (name, row.status) else {
        let mut defects = row.defects.clone();
        if name.is_none() {
            defects.insert(0, format!("{:?} is not a usable domain name", row.domain));
        }
        result.notices.push(Notice::invalid_record(&defects));
        return result;
    };
    if !row.defects.is_empty() {
        result.notices.push(Notice::invalid_record(&row.defects));
        return result;
    }
    if confirmed.contains(&row.id) {
        match confirmation_stale(status, op, request) {
            None => {
                if status != WhmcsStatus::TransferredAway {
                    result.whmcs_changes.status = Some(Change::new(
                        Some(status.as_str().to_string()),
                        WhmcsStatus::TransferredAway.as_str().to_string(),
                    ));
                    update::fill(&mut result, row, None);
                }
                return result;
            }
            Some(why) => result
                .notices
                .push(Notice::transfer_confirmation_stale(&why)),
        }
    }
    if let Some(kept) = pairing.kept_row(name).filter(|kept| *kept != row.id) {
        result
            .notices
            .push(Notice::duplicate_domain(status.is_live(), kept));
        return result;
    }
    if request.policy.is_protected(status) {
        return result;
    }
    let Some(op) = op else {
        result
            .notices
            .push(missing_record(status, name, pairing, request));
        return result;
    };

    decide_paired(&mut result, row, status, op, pairing.policy_for(name));
    update::fill(&mut result, row, Some(op));
    result
}

/// Why an admin's confirmed transfer away cannot act on this request's own picture, or
/// `None` when it can: the row is not protected, the listing is complete and the row has
/// no record, live or deleted.
fn confirmation_stale(
    status: WhmcsStatus,
    op: Option<&OpDomain>,
    request: &Snapshot,
) -> Option<String> {
    if request.policy.is_protected(status) {
        return Some(format!(
            "the row is {}, a status opsync never changes",
            status.as_str()
        ));
    }
    if !request.openprovider.complete {
        return Some("this run did not read the whole Openprovider account".to_string());
    }
    op.map(|op| {
        format!(
            "Openprovider holds the domain (record {}, {})",
            op.id,
            if op.is_deleted {
                "deleted".to_string()
            } else {
                format!("status {}", op.status.as_deref().unwrap_or("unknown"))
            }
        )
    })
}

/// Why a row has no Openprovider record, and how much that matters.
fn missing_record(
    status: WhmcsStatus,
    name: &str,
    pairing: &Pairing,
    request: &Snapshot,
) -> Notice {
    let expects = status.expects_registrar_record();
    if request.openprovider.complete {
        return Notice::not_in_openprovider(expects);
    }
    match pairing.lookup_error(name) {
        Some(e) if e.kind == LookupKind::NotFound => Notice::not_in_openprovider(expects),
        Some(e) => Notice::lookup_failed(expects, &e.message),
        None => Notice::not_checked(expects),
    }
}

/// Runs each rule the policy enables, recording its changes and notices on `result`.
fn decide_paired(
    result: &mut RowResult,
    row: &WhmcsRow,
    status: WhmcsStatus,
    op: &OpDomain,
    policy: &Policy,
) {
    let wc: &mut WhmcsChanges = &mut result.whmcs_changes;
    let oc: &mut OpenproviderChanges = &mut result.openprovider_changes;
    let notices = &mut result.notices;
    let day = |d: Option<chrono::NaiveDate>| d.map(format_day);

    if policy.sync_status {
        match status::decide(status, op.effective_status()) {
            Decision::Set(target) => {
                wc.status = Some(Change::new(
                    Some(status.as_str().to_string()),
                    target.as_str().to_string(),
                ))
            }
            Decision::Keep => {}
            Decision::Problem(notice) => notices.push(notice),
        }
    }

    let mut expiry_after = row.expirydate;
    if policy.sync_expiry_date {
        match expiry::decide(row.expirydate, op, policy.expiry_source) {
            Decision::Set(d) => {
                wc.expirydate = Some(Change::new(day(row.expirydate), format_day(d)));
                expiry_after = Some(d);
            }
            Decision::Keep => {}
            Decision::Problem(notice) => notices.push(notice),
        }
    }

    if policy.sync_due_date {
        match due_date::decide(expiry_after, row.nextduedate, policy) {
            Decision::Set(d) => {
                wc.nextduedate = Some(Change::new(day(row.nextduedate), format_day(d)));
                if let Decision::Set(d) = due_date::next_invoice_date(row.nextinvoicedate, d) {
                    wc.nextinvoicedate = Some(Change::new(day(row.nextinvoicedate), format_day(d)));
                }
            }
            Decision::Keep => {}
            Decision::Problem(notice) => notices.push(notice),
        }
    }

    if policy.sync_auto_renew {
        let wanted = renewal::decide(row.donotrenew, op.autorenew.as_deref());
        match modifiable::gate(op, "Auto-renew", wanted) {
            Decision::Set(to) => oc.autorenew = Some(Change::new(op.autorenew.clone(), to.into())),
            Decision::Keep => {}
            Decision::Problem(notice) => notices.push(notice),
        }
    }

    if policy.sync_whois_privacy {
        let wanted = privacy::decide(row.idprotection, op);
        match modifiable::gate(op, "WHOIS privacy", wanted) {
            Decision::Set(to) => {
                oc.is_private_whois_enabled = Some(Change::new(op.is_private_whois_enabled, to))
            }
            Decision::Keep => {}
            Decision::Problem(notice) => notices.push(notice),
        }
    }
}

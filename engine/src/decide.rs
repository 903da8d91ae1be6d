//! The per-row walk: pairing first, then each rule in the contract's order.
//!
//! For every WHMCS row, in request order:
//! 1. a row that cannot be judged -> `invalid_record`, nothing else;
//! 2. a row that duplicates the one kept in sync -> `duplicate_domain`, nothing else;
//! 3. a protected row -> nothing at all;
//! 4. no Openprovider record -> `not_in_openprovider` / `lookup_failed` / `not_checked`;
//! 5. status, expiry, due date, auto-renew, WHOIS privacy, each when the policy enables it;
//! 6. what a host writes for the changes: the updates and the activity lines.

use crate::changes::{Change, OpenproviderChanges, Response, RowResult, Summary, WhmcsChanges};
use crate::contract::LookupKind;
use crate::dates::format_day;
use crate::modifiable;
use crate::notice::Notice;
use crate::pairing::Pairing;
use crate::policy::Policy;
use crate::rule::Decision;
use crate::snapshot::{OpDomain, Snapshot, WhmcsRow};
use crate::status::WhmcsStatus;
use crate::{due_date, expiry, privacy, renewal, status, update, ENGINE};

pub(crate) fn decide(request: &Snapshot) -> Response {
    let pairing = Pairing::new(request);
    let mut results: Vec<RowResult> = request
        .whmcs
        .iter()
        .zip(&pairing.names)
        .map(|(row, name)| decide_row(row, name.as_deref(), &pairing, request))
        .collect();
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
    Response {
        engine: ENGINE.to_string(),
        results,
        summary,
        notices,
    }
}

fn decide_row(
    row: &WhmcsRow,
    name: Option<&str>,
    pairing: &Pairing,
    request: &Snapshot,
) -> RowResult {
    let op = name.and_then(|n| pairing.openprovider(n));
    let mut result = RowResult::unchanged(row.id, &row.domain, op.map(|d| d.id));

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

    decide_paired(&mut result, row, status, op, &request.policy);
    update::fill(&mut result, row, op);
    result
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

//! The per-row walk: pairing first, then each rule in the contract's order.
//!
//! For every WHMCS row, in request order:
//! 1. a row that cannot be judged -> `invalid_record`, nothing else;
//! 2. a row that duplicates the one kept in sync -> `duplicate_domain`, nothing else;
//! 3. a protected row -> nothing at all;
//! 4. no Openprovider record -> `not_in_openprovider` / `lookup_failed` / `not_checked`;
//! 5. status, expiry, due date, auto-renew, WHOIS privacy, each when the policy enables it.

use crate::changes::{Change, OpenproviderChanges, Response, RowResult, Summary, WhmcsChanges};
use crate::dates::format_day;
use crate::due_date::{self, DueDate};
use crate::expiry::{self, Expiry};
use crate::notice::Notice;
use crate::pairing::Pairing;
use crate::policy::Policy;
use crate::privacy::{self, Privacy};
use crate::renewal;
use crate::snapshot::{LookupKind, OpDomain, Request, WhmcsRow};
use crate::status::{self, WhmcsStatus, MODIFIABLE_OP_STATUS};
use crate::ENGINE;

pub fn decide(request: &Request) -> Response {
    let pairing = Pairing::new(request);
    let results: Vec<RowResult> = request
        .whmcs
        .iter()
        .zip(&pairing.names)
        .map(|(row, name)| decide_row(row, name.as_deref(), &pairing, request))
        .collect();
    let summary = Summary::of(&results);
    Response {
        engine: ENGINE.to_string(),
        results,
        summary,
    }
}

fn decide_row(
    row: &WhmcsRow,
    name: Option<&str>,
    pairing: &Pairing,
    request: &Request,
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

    let (whmcs_changes, openprovider_changes, notices) =
        decide_paired(row, status, op, &request.policy);
    result.whmcs_changes = whmcs_changes;
    result.openprovider_changes = openprovider_changes;
    result.notices = notices;
    result
}

/// Why a row has no Openprovider record, and how much that matters.
fn missing_record(status: WhmcsStatus, name: &str, pairing: &Pairing, request: &Request) -> Notice {
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

fn decide_paired(
    row: &WhmcsRow,
    status: WhmcsStatus,
    op: &OpDomain,
    policy: &Policy,
) -> (WhmcsChanges, OpenproviderChanges, Vec<Notice>) {
    let mut wc = WhmcsChanges::default();
    let mut oc = OpenproviderChanges::default();
    let mut notices = Vec::new();

    if policy.sync_status {
        match status::decide(status, op.status.as_deref()) {
            Ok(Some(target)) => {
                wc.status = Some(Change::new(
                    Some(status.as_str().to_string()),
                    target.as_str().to_string(),
                ))
            }
            Ok(None) => {}
            Err(notice) => notices.push(notice),
        }
    }

    let mut expiry_after = row.expirydate;
    if policy.sync_expiry_date {
        match expiry::decide(row.expirydate, op, policy.expiry_source) {
            Expiry::Set(day) => {
                wc.expirydate = Some(Change::new(row.expirydate.map(format_day), format_day(day)));
                expiry_after = Some(day);
            }
            Expiry::Keep => {}
            Expiry::Problem(notice) => notices.push(notice),
        }
    }

    if policy.sync_due_date {
        match due_date::decide(expiry_after, row.nextduedate, policy) {
            DueDate::Set(day) => {
                let to = format_day(day);
                wc.nextduedate = Some(Change::new(row.nextduedate.map(format_day), to.clone()));
                if row.nextinvoicedate != Some(day) {
                    wc.nextinvoicedate = Some(Change::new(row.nextinvoicedate.map(format_day), to));
                }
            }
            DueDate::Keep => {}
            DueDate::Problem(notice) => notices.push(notice),
        }
    }

    // Openprovider accepts updates only for ACT domains; elsewhere a wanted change waits.
    let modifiable = op.status.as_deref() == Some(MODIFIABLE_OP_STATUS);

    if policy.sync_auto_renew {
        if let Some(to) = renewal::decide(row.donotrenew, op.autorenew.as_deref()) {
            if modifiable {
                oc.autorenew = Some(Change::new(op.autorenew.clone(), to.to_string()));
            } else {
                notices.push(Notice::not_modifiable("Auto-renew", op.status.as_deref()));
            }
        }
    }

    if policy.sync_whois_privacy {
        match privacy::decide(row.idprotection, op) {
            Privacy::Set(to) if modifiable => {
                oc.is_private_whois_enabled = Some(Change::new(op.is_private_whois_enabled, to))
            }
            Privacy::Set(_) => notices.push(Notice::not_modifiable(
                "WHOIS privacy",
                op.status.as_deref(),
            )),
            Privacy::Keep => {}
            Privacy::Problem(notice) => notices.push(notice),
        }
    }

    (wc, oc, notices)
}

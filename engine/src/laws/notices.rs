//! The notices a request calls for, read from the contract's words apart from the
//! engine's rules: the oracle of the law "the notices are the rules' findings". It is
//! kept small and literal on purpose; where it and the engine disagree, one of them has
//! misread the contract.
//!
//! Per row, in the contract's order: a row that cannot be judged gets `invalid_record`
//! alone; every row of a duplicated name but the kept one `duplicate_domain` alone; a
//! protected row nothing; a row without a record one of `not_in_openprovider`,
//! `lookup_failed`, `not_checked`; a paired row the findings of status, expiry, due date,
//! auto-renew and WHOIS privacy, in that order.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use crate::arbitrary::WHMCS_STATUSES;
use crate::{lookup_name, parse_day, Severity};

/// One expected notice: its code, severity, and words its message must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Expected {
    pub(super) code: &'static str,
    pub(super) severity: Severity,
    pub(super) says: Vec<String>,
}

fn notice(code: &'static str, severity: Severity) -> Expected {
    Expected {
        code,
        severity,
        says: Vec::new(),
    }
}

/// The policy fields the notices depend on, defaults as the contract's table gives them.
struct Policy {
    sync_status: bool,
    sync_expiry_date: bool,
    sync_due_date: bool,
    sync_auto_renew: bool,
    sync_whois_privacy: bool,
    expiry_source: String,
    offset: i64,
    max_shift: Option<i64>,
    protected: Vec<String>,
}

impl Policy {
    fn of(req: &Value) -> Policy {
        let p = &req["policy"];
        let on = |field: &str| p[field].as_bool().unwrap_or(true);
        Policy {
            sync_status: on("sync_status"),
            sync_expiry_date: on("sync_expiry_date"),
            sync_due_date: on("sync_due_date"),
            sync_auto_renew: on("sync_auto_renew"),
            sync_whois_privacy: on("sync_whois_privacy"),
            expiry_source: p["expiry_source"]
                .as_str()
                .unwrap_or("expiration_date")
                .to_string(),
            offset: p["due_date_offset_days"].as_i64().unwrap_or(0),
            max_shift: match p.get("due_date_max_shift_days") {
                None => Some(100),
                Some(v) => v.as_i64(),
            },
            protected: crate::arbitrary::protected_statuses(req),
        }
    }
}

/// A WHMCS flag: `Ok(None)` unknown, `Err` not a flag (the row cannot be judged).
fn flag(value: Option<&Value>) -> Result<Option<bool>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
        Some(Value::String(s)) if s.is_empty() || s == "0" => Ok(Some(false)),
        Some(Value::String(s)) if s == "1" => Ok(Some(true)),
        Some(_) => Err(()),
    }
}

/// An Openprovider date as the contract reads it.
enum OpDate {
    Missing,
    Unset,
    Invalid,
    Day(NaiveDate),
}

fn op_date(value: &Value) -> OpDate {
    let Some(text) = value.as_str() else {
        return if value.is_null() {
            OpDate::Missing
        } else {
            OpDate::Invalid
        };
    };
    let (day, time) = match text.split_once(' ') {
        Some((day, time)) => (day, Some(time)),
        None => (text, None),
    };
    if text.is_empty() || (day == "0000-00-00" && time.is_none_or(|t| t == "00:00:00")) {
        return OpDate::Unset;
    }
    // HH:MM:SS, the hour with one digit or two.
    let time_ok = time.is_none_or(|t| {
        let parts: Vec<&str> = t.split(':').collect();
        let number = |s: &str, max: u32, widths: &[usize]| {
            widths.contains(&s.len())
                && s.bytes().all(|b| b.is_ascii_digit())
                && s.parse::<u32>().is_ok_and(|n| n <= max)
        };
        parts.len() == 3
            && number(parts[0], 23, &[1, 2])
            && number(parts[1], 59, &[2])
            && number(parts[2], 59, &[2])
    });
    match parse_day(day) {
        Some(d) if time_ok => OpDate::Day(d),
        _ => OpDate::Invalid,
    }
}

fn pending_or_active(status: &str) -> bool {
    WHMCS_STATUSES[..4].contains(&status)
}

fn live(status: &str) -> bool {
    !["Cancelled", "Transferred Away", "Fraud", "Expired"].contains(&status)
}

fn expired_class(status: &str) -> bool {
    ["Grace", "Redemption", "Expired"].contains(&status)
}

/// The status Openprovider's record gives the row: DEL for a deleted record.
fn effective_status(record: &Value) -> Option<&str> {
    if record["is_deleted"] == Value::Bool(true) {
        Some("DEL")
    } else {
        record["status"].as_str()
    }
}

/// A row as the notices read it; `None` when it cannot be judged.
struct Row<'a> {
    id: u64,
    name: String,
    status: &'a str,
    donotrenew: Option<bool>,
    idprotection: Option<bool>,
}

fn judged(row: &Value) -> Option<Row<'_>> {
    let id = match &row["id"] {
        Value::String(s) => s.parse().ok()?,
        other => other.as_u64()?,
    };
    let status = row["status"]
        .as_str()
        .filter(|s| WHMCS_STATUSES[..10].contains(s))?;
    Some(Row {
        id,
        name: row["domain"].as_str().and_then(lookup_name)?,
        status,
        donotrenew: flag(row.get("donotrenew")).ok()?,
        idprotection: flag(row.get("idprotection")).ok()?,
    })
}

/// Every row's expected notices, in request order.
pub(super) fn expected(req: &Value) -> Vec<Vec<Expected>> {
    let policy = Policy::of(req);
    let records = super::paired_records(req);
    let rows: Vec<&Value> = req["whmcs"].as_array().into_iter().flatten().collect();
    let judged_rows: Vec<Option<Row>> = rows.iter().map(|r| judged(r)).collect();

    // The row kept of each duplicated name: the highest id among rows live now and
    // still live after this run's status decision (a DEL record expires a row outside
    // the Expired class), else the highest id.
    let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in judged_rows.iter().flatten() {
        groups.entry(row.name.as_str()).or_default().push(row);
    }
    let stays_live = |row: &Row| {
        let expires = policy.sync_status
            && !policy.protected.iter().any(|p| p == row.status)
            && records
                .get(&row.name)
                .is_some_and(|d| effective_status(d) == Some("DEL"))
            && !expired_class(row.status);
        live(row.status) && !expires
    };
    let kept: BTreeMap<&str, u64> = groups
        .iter()
        .filter(|(_, rows)| rows.len() > 1)
        .map(|(name, rows)| {
            let live_max = rows.iter().filter(|r| stays_live(r)).map(|r| r.id).max();
            let max = rows.iter().map(|r| r.id).max().unwrap_or(0);
            (*name, live_max.unwrap_or(max))
        })
        .collect();

    rows.iter()
        .zip(&judged_rows)
        .map(|(raw, row)| {
            let Some(row) = row else {
                return vec![notice("invalid_record", Severity::Error)];
            };
            if let Some(kept) = kept.get(row.name.as_str()).filter(|k| **k != row.id) {
                let severity = if live(row.status) {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                let mut n = notice("duplicate_domain", severity);
                n.says.push(format!("#{kept}"));
                return vec![n];
            }
            if policy.protected.iter().any(|p| p == row.status) {
                return Vec::new();
            }
            match records.get(&row.name) {
                Some(record) => paired(&policy, raw, row, record),
                None => vec![missing(req, row)],
            }
        })
        .collect()
}

/// A row without a record: why, and how much that matters.
fn missing(req: &Value, row: &Row) -> Expected {
    let severity = if pending_or_active(row.status) {
        Severity::Error
    } else {
        Severity::Info
    };
    if req["openprovider"]["complete"] == Value::Bool(true) {
        return notice("not_in_openprovider", severity);
    }
    let kinds: Vec<&str> = req["lookup_errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["domain"].as_str().and_then(lookup_name).as_deref() == Some(&row.name))
        .filter_map(|e| e["kind"].as_str())
        .collect();
    let code = if kinds.contains(&"not_found") {
        "not_in_openprovider"
    } else if kinds.contains(&"error") {
        "lookup_failed"
    } else {
        "not_checked"
    };
    notice(code, severity)
}

/// A paired row's findings: status, expiry, due date, auto-renew, WHOIS privacy.
fn paired(policy: &Policy, raw: &Value, row: &Row, record: &Value) -> Vec<Expected> {
    let mut found = Vec::new();
    let status = effective_status(record);
    let act = status == Some("ACT");
    if policy.sync_status {
        match status {
            Some("ACT" | "DEL" | "PEN" | "REQ" | "RRQ" | "SCH") => {}
            Some("FAI") => {
                let mut n = notice("request_failed", Severity::Error);
                n.says.push("The domain name request has failed".into());
                found.push(n);
            }
            _ => found.push(notice("unknown_status", Severity::Warning)),
        }
    }

    let day = |column: &str| raw[column].as_str().and_then(parse_day);
    let mut expiry_after = day("expirydate");
    if policy.sync_expiry_date {
        match op_date(&record[policy.expiry_source.as_str()]) {
            OpDate::Day(d) => expiry_after = Some(d),
            OpDate::Invalid => found.push(notice("invalid_date", Severity::Error)),
            OpDate::Missing | OpDate::Unset if act => {
                found.push(notice("invalid_date", Severity::Error))
            }
            OpDate::Missing | OpDate::Unset => {}
        }
    }

    if policy.sync_due_date {
        let target = expiry_after.and_then(|e| crate::arbitrary::minus_days(e, policy.offset));
        if let (Some(target), Some(due), Some(max)) = (target, day("nextduedate"), policy.max_shift)
        {
            let shift = (target - due).num_days().abs();
            if shift > max {
                let mut n = notice("due_date_shift_too_large", Severity::Warning);
                n.says.push(format!("move {shift} days"));
                n.says.push(format!("the {max} allowed"));
                found.push(n);
            }
        }
    }

    if policy.sync_auto_renew {
        if let Some(donotrenew) = row.donotrenew {
            let wanted = if donotrenew { "off" } else { "default" };
            if record["autorenew"].as_str() != Some(wanted) && !act {
                found.push(notice("not_modifiable", Severity::Info));
            }
        }
    }

    if policy.sync_whois_privacy {
        if let Some(wanted) = row.idprotection {
            let allowed = record["is_private_whois_allowed"].as_bool().unwrap_or(true);
            // Absent reads as off where privacy is not allowed at all.
            let current = record["is_private_whois_enabled"]
                .as_bool()
                .or((!allowed).then_some(false));
            if current != Some(wanted) {
                if wanted && !allowed {
                    found.push(notice("whois_privacy_not_allowed", Severity::Warning));
                } else if !act {
                    found.push(notice("not_modifiable", Severity::Info));
                }
            }
        }
    }
    found
}

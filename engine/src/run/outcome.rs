//! How a run ends, in words and numbers: the exit status, the run history's mode, the
//! lines for whoever ran it, the mass-change brake's line, and WHMCS's answer for the
//! registrar modes.

use serde_json::{json, Map, Value};

use crate::changes::{RowResult, Summary};
use crate::notice::Code;

use super::protocol::Mailed;
use super::settings::Settings;

/// Exit statuses, the same for every host.
pub(crate) const EXIT_OK: u8 = 0;
pub(crate) const EXIT_LOCKED: u8 = 4;
pub(crate) const EXIT_NOT_COMPLETED: u8 = 5;
pub(crate) const EXIT_HELD: u8 = 8;

/// Where each host's admin changes the brake.
fn brake_place(host: &str) -> &'static str {
    if host == "whmcs" {
        "the opsync addon's settings"
    } else {
        "[safety] in opsync.toml"
    }
}

/// One line on the mass-change brake in effect.
pub(crate) fn brake_line(settings: &Settings, host: &str) -> String {
    match settings.policy.mass_change_limit {
        Some(limit) => format!(
            "Mass-change brake: on. A sync in which more than {} rows and more than {}% of \
             the rows would change is held whole ({}).",
            limit.min_rows,
            limit.percent,
            brake_place(host)
        ),
        None if settings.brake_released => {
            "Mass-change brake: released for this run (--allow-mass-change).".into()
        }
        None => format!(
            "Mass-change brake: off (mass_change_percent 100, {}).",
            brake_place(host)
        ),
    }
}

/// The exit status of a run that completed: 5 its report could not be mailed, 8 the brake
/// held it, 0 done.
pub(crate) fn exit_status(held: bool, mail: Mailed) -> u8 {
    if mail == Mailed::Failed {
        EXIT_NOT_COMPLETED
    } else if held {
        EXIT_HELD
    } else {
        EXIT_OK
    }
}

/// The lines for whoever ran a run that completed.
pub(crate) fn lines(
    summary: &Summary,
    host: &str,
    looked: bool,
    mail: Mailed,
    mail_error: Option<&str>,
) -> Vec<String> {
    let mut lines = Vec::new();
    if summary.held {
        lines.push(format!(
            "the mass-change brake held this run: {} of {} rows would change; nothing was \
             written. Read the report{}, then release one run with --allow-mass-change, or \
             change {}",
            summary.held_rows.unwrap_or(0),
            summary.rows,
            if looked { " above" } else { "" },
            brake_place(host)
        ));
    }
    match mail {
        Mailed::Failed => lines.push(format!(
            "the report was not mailed: {}",
            mail_error.unwrap_or("the mail was refused")
        )),
        Mailed::NotConfigured => lines
            .push("mail is not configured ([mail] from): the report is printed, not mailed".into()),
        Mailed::NotSent | Mailed::Sent => {}
    }
    lines
}

/// The run history's mode of a run that completed.
pub(crate) fn history_mode(held: bool, writes: bool) -> &'static str {
    if held {
        "held"
    } else if writes {
        "sync"
    } else {
        "dry-run"
    }
}

/// Notices that mean the domain could not be read.
const UNREAD: [Code; 4] = [
    Code::NotInOpenprovider,
    Code::LookupFailed,
    Code::NotChecked,
    Code::InvalidRecord,
];

fn notice(result: &RowResult, code: Code) -> Option<&str> {
    result
        .notices
        .iter()
        .find(|n| n.code == code)
        .map(|n| n.message.as_str())
}

/// WHMCS's answer to `openprovider_Sync` for one row's result: `active` / `expired` when
/// the engine moves the status there, `expirydate` when it moves the expiry, `error` when
/// the domain could not be read. Never `cancelled` or `transferredAway`: opsync does not
/// cancel a domain on a guess.
pub(crate) fn registrar_sync(result: &RowResult) -> Value {
    if let Some(unread) = UNREAD.iter().find_map(|c| notice(result, *c)) {
        return json!({ "error": unread });
    }
    let mut answer = Map::new();
    match result.whmcs_changes.status.as_ref().map(|c| c.to.as_str()) {
        Some("Active") => {
            answer.insert("active".into(), Value::Bool(true));
        }
        Some("Expired") => {
            answer.insert("expired".into(), Value::Bool(true));
        }
        _ => {}
    }
    if let Some(change) = &result.whmcs_changes.expirydate {
        answer.insert("expirydate".into(), Value::from(change.to.clone()));
    }
    if let Some(failed) = notice(result, Code::RequestFailed) {
        answer.insert("error".into(), Value::from(failed));
    }
    Value::Object(answer)
}

/// WHMCS's answer to `openprovider_TransferSync`: `completed` and `expirydate` once the
/// transfer is through (the engine makes the row Active), `failed` and `reason` when
/// Openprovider says the request failed, `{}` while nothing is new, `error` when the
/// domain could not be read.
pub(crate) fn transfer_sync(result: &RowResult, expirydate: Option<&str>) -> Value {
    if let Some(unread) = UNREAD.iter().find_map(|c| notice(result, *c)) {
        return json!({ "error": unread });
    }
    if let Some(failed) = notice(result, Code::RequestFailed) {
        return json!({ "failed": true, "reason": failed });
    }
    if result.whmcs_changes.status.as_ref().map(|c| c.to.as_str()) != Some("Active") {
        return json!({});
    }
    let mut answer = Map::new();
    answer.insert("completed".into(), Value::Bool(true));
    let expiry = result
        .whmcs_changes
        .expirydate
        .as_ref()
        .map(|c| c.to.as_str())
        .or(expirydate)
        .filter(|d| crate::parse_day(d).is_some());
    if let Some(expiry) = expiry {
        answer.insert("expirydate".into(), Value::from(expiry));
    }
    Value::Object(answer)
}

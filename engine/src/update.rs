//! What a host writes for a row, built from the row's changes: the guarded `UPDATE`, the
//! `PUT` body and the activity lines. Hosts run these as given and decide nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::activity;
use crate::changes::{Activity, Guard, OpenproviderUpdate, RowResult, WhmcsUpdate};
use crate::columns::{REMINDERS, WHMCS_COLUMNS};
use crate::snapshot::{OpDomain, WhmcsRow};

/// Fills `result`'s updates and activity lines from its changes.
/// `op` is the row's record; a row without one (a confirmed transfer away) changes in
/// WHMCS only.
pub(crate) fn fill(result: &mut RowResult, row: &WhmcsRow, op: Option<&OpDomain>) {
    if !result.whmcs_changes.is_empty() {
        result.whmcs_update = Some(whmcs(result, row));
    }
    if let Some(op) = op.filter(|_| !result.openprovider_changes.is_empty()) {
        result.openprovider_update = Some(OpenproviderUpdate {
            id: op.id,
            body: result
                .openprovider_changes
                .each()
                .map(|(field, value, _)| (field.name.to_string(), value))
                .collect(),
        });
    }
    let lines = Activity {
        whmcs: activity::whmcs_lines(result),
        openprovider: activity::openprovider_lines(result),
    };
    if !lines.whmcs.is_empty() || !lines.openprovider.is_empty() {
        result.activity = Some(lines);
    }
}

fn whmcs(result: &RowResult, row: &WhmcsRow) -> WhmcsUpdate {
    let mut set: BTreeMap<String, Value> = result
        .whmcs_changes
        .each()
        .map(|(field, change)| (field.name.to_string(), Value::from(change.to.clone())))
        .collect();
    if result.whmcs_changes.expirydate.is_some() {
        set.insert(REMINDERS.to_string(), Value::from(""));
    }

    let [_id, domain, rest @ ..] = WHMCS_COLUMNS;
    let mut columns = BTreeMap::new();
    columns.insert(domain.to_string(), Value::from(row.domain.as_ref()));
    for (column, value) in rest.iter().zip(&row.read) {
        // A column the request did not carry was not read, so it guards nothing; nor
        // does an array or object, which no database column holds.
        if let Some(value) = value.as_ref().and_then(|v| v.to_value()) {
            columns.insert(column.to_string(), value);
        }
    }
    WhmcsUpdate {
        set,
        guard: Guard {
            id: row.id,
            columns,
        },
    }
}

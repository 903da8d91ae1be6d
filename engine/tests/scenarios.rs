//! The shared scenarios in `fixtures/scenarios/`: every request there has an expected
//! answer, compared byte for byte.
//!
//! After a deliberate rule change, `make bless` (engine/examples/bless.rs) rewrites the
//! expected files; review the diff before committing it. A test run never writes them.

use std::collections::BTreeSet;

use opsync_engine::Code;
use opsync_testkit::scenarios::{self, Expected};

/// What a face must answer: the response bytes plus a newline, or the error plus a newline.
fn answer(request: &[u8]) -> Expected {
    match opsync_engine::decide_json(request) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            Expected::Response(bytes)
        }
        Err(e) => Expected::Error(format!("{e}\n")),
    }
}

#[test]
fn every_scenario_gives_its_expected_answer() {
    let mut failures = Vec::new();
    for scenario in scenarios::all() {
        let got = answer(&scenario.request);
        if got != scenario.expected {
            let shown = match &got {
                Expected::Response(b) => String::from_utf8_lossy(b).into_owned(),
                Expected::Error(line) => line.clone(),
                Expected::Missing => String::new(),
            };
            failures.push(format!(
                "{}: the answer differs from the expected one ({:?} expected):\n{shown}",
                scenario.name,
                match scenario.expected {
                    Expected::Response(_) => "response.json",
                    Expected::Error(_) => "error.txt",
                    Expected::Missing => "neither file exists",
                }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nAfter a deliberate change: make bless, then read git diff fixtures/",
        failures.join("\n\n")
    );
}

/// The report scenarios (contract v1.2 and on): each input renders to its expected report
/// or error, byte for byte (`make bless` writes them).
#[test]
fn every_report_scenario_gives_its_expected_report() {
    let mut failures = Vec::new();
    let all = scenarios::reports();
    assert!(
        all.len() >= 8,
        "the report scenarios are in fixtures/reports"
    );
    for scenario in all {
        let got = match opsync_engine::render_report_json(&scenario.request) {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                Expected::Response(bytes)
            }
            Err(e) => Expected::Error(format!("{e}\n")),
        };
        if got != scenario.expected {
            failures.push(format!("{}: {got:?}", scenario.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nAfter a deliberate change: make bless, then read git diff fixtures/",
        failures.join("\n\n")
    );
}

/// The fields that tell a host what to write were added to the v1 response; every v1
/// field must read exactly as before, to the byte.
#[test]
fn the_v1_fields_are_as_v1_gave_them() {
    let mut compared = 0;
    for scenario in scenarios::all() {
        let Some(v1) = scenario.v1_response() else {
            continue;
        };
        let bytes = opsync_engine::decide_json(&scenario.request).unwrap();
        let mut response: opsync_engine::Response = serde_json::from_slice(&bytes).unwrap();
        for r in &mut response.results {
            r.whmcs_update = None;
            r.openprovider_update = None;
            r.activity = None;
        }
        let mut v1_view = serde_json::to_vec_pretty(&response).unwrap();
        v1_view.push(b'\n');
        assert_eq!(
            String::from_utf8_lossy(&v1_view),
            String::from_utf8_lossy(&v1),
            "{}: a v1 field changed",
            scenario.name
        );
        compared += 1;
    }
    assert!(compared >= 60, "only {compared} v1 responses compared");
}

#[test]
fn there_are_enough_scenarios_and_each_has_one_expected_answer() {
    let list = scenarios::all();
    let answered = list
        .iter()
        .filter(|s| matches!(s.expected, Expected::Response(_)))
        .count();
    assert!(answered >= 40, "only {answered} request/response scenarios");
    for s in &list {
        let dir = scenarios::dir();
        let response = dir.join(format!("{}.response.json", s.name)).exists();
        let error = dir.join(format!("{}.error.txt", s.name)).exists();
        assert!(
            response != error,
            "{}: needs exactly one of .response.json or .error.txt",
            s.name
        );
    }
}

#[test]
fn scenarios_exercise_every_notice_code_and_policy_field() {
    let mut codes = BTreeSet::new();
    let mut fields = BTreeSet::new();
    // A field counts only where a scenario sets it to something other than its default: a
    // fixture that spells out every default exercises none.
    let defaults = serde_json::to_value(opsync_engine::Policy::default()).unwrap();
    for scenario in scenarios::all() {
        let Expected::Response(bytes) = &scenario.expected else {
            continue;
        };
        let response: opsync_engine::Response = serde_json::from_slice(bytes).unwrap();
        for r in &response.results {
            codes.extend(r.notices.iter().map(|n| n.code));
        }
        codes.extend(response.notices.iter().map(|n| n.code));
        codes.extend(
            response
                .openprovider_only
                .iter()
                .flatten()
                .map(|e| e.notice.code),
        );
        let request: serde_json::Value = serde_json::from_slice(&scenario.request).unwrap();
        if let Some(policy) = request["policy"].as_object() {
            fields.extend(
                policy
                    .iter()
                    .filter(|(key, value)| defaults.get(key.as_str()) != Some(value))
                    .map(|(key, _)| key.clone()),
            );
        }
    }
    let all_codes = [
        Code::RequestFailed,
        Code::UnknownStatus,
        Code::InvalidDate,
        Code::DueDateShiftTooLarge,
        Code::WhoisPrivacyNotAllowed,
        Code::NotModifiable,
        Code::NotInOpenprovider,
        Code::LookupFailed,
        Code::NotChecked,
        Code::InvalidRecord,
        Code::DuplicateDomain,
        Code::MassChangeHeld,
        Code::Excluded,
        Code::TransferConfirmationStale,
        Code::NotInWhmcs,
        Code::RegistrarMismatch,
        // (setup_problem is a run's notice, never decide's: the run scenarios show it.)
    ];
    let missing: Vec<_> = all_codes.iter().filter(|c| !codes.contains(c)).collect();
    assert!(missing.is_empty(), "no scenario shows {missing:?}");

    let all_fields = [
        "sync_status",
        "sync_expiry_date",
        "expiry_source",
        "sync_due_date",
        "due_date_offset_days",
        "due_date_max_shift_days",
        "sync_auto_renew",
        "sync_whois_privacy",
        "protected_statuses",
        "mass_change_limit",
    ];
    for field in all_fields {
        assert!(
            defaults.get(field).is_some(),
            "{field} is not a key of the default policy as it serialises"
        );
    }
    // v1.4's fields are written only when set, so the default policy does not name them.
    let missing: Vec<_> = all_fields
        .iter()
        .chain(&["exclude", "by_extension"])
        .filter(|f| !fields.contains(**f))
        .collect();
    assert!(
        missing.is_empty(),
        "no scenario sets policy {missing:?} to anything but its default"
    );
}

//! The shared scenarios in `fixtures/scenarios/`: every request there has an expected
//! answer, compared byte for byte. `<name>.response.json` is the response (plus a final
//! newline); `<name>.error.txt` the one-line error of a request that must fail.
//!
//! After a deliberate rule change, `OPSYNC_BLESS=1 cargo test -p opsync-engine --test
//! scenarios` rewrites the expected files; review the diff before committing it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use opsync_engine::notice::Code;

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios")
}

fn requests() -> Vec<(String, PathBuf)> {
    let mut list: Vec<(String, PathBuf)> = std::fs::read_dir(scenario_dir())
        .expect("fixtures/scenarios exists")
        .map(|e| e.expect("readable entry").path())
        .filter_map(|p| {
            let name = p
                .file_name()?
                .to_str()?
                .strip_suffix(".request.json")?
                .to_string();
            Some((name, p))
        })
        .collect();
    list.sort();
    list
}

/// What a face must answer: the response bytes plus a newline, or the error plus a newline.
fn answer(request: &[u8]) -> (String, Vec<u8>) {
    match opsync_engine::decide_json(request) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            ("response.json".to_string(), bytes)
        }
        Err(e) => ("error.txt".to_string(), format!("{e}\n").into_bytes()),
    }
}

#[test]
fn every_scenario_gives_its_expected_answer() {
    let bless = std::env::var_os("OPSYNC_BLESS").is_some();
    let mut failures = Vec::new();
    for (name, path) in requests() {
        let request = std::fs::read(&path).unwrap();
        let (kind, got) = answer(&request);
        let expected_path = scenario_dir().join(format!("{name}.{kind}"));
        if bless {
            for stale in ["response.json", "error.txt"] {
                let _ = std::fs::remove_file(scenario_dir().join(format!("{name}.{stale}")));
            }
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        match std::fs::read(&expected_path) {
            Ok(expected) if expected == got => {}
            Ok(_) => failures.push(format!(
                "{name}: answer differs from {kind}:\n{}",
                String::from_utf8_lossy(&got)
            )),
            Err(_) => failures.push(format!(
                "{name}: answered with {kind}, which does not exist:\n{}",
                String::from_utf8_lossy(&got)
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn there_are_enough_scenarios_and_each_has_one_expected_answer() {
    if std::env::var_os("OPSYNC_BLESS").is_some() {
        return; // the files are being rewritten by the other test
    }
    let list = requests();
    let answered = list
        .iter()
        .filter(|(name, _)| {
            scenario_dir()
                .join(format!("{name}.response.json"))
                .exists()
        })
        .count();
    assert!(answered >= 40, "only {answered} request/response scenarios");
    for (name, _) in &list {
        let response = scenario_dir()
            .join(format!("{name}.response.json"))
            .exists();
        let error = scenario_dir().join(format!("{name}.error.txt")).exists();
        assert!(
            response != error,
            "{name}: needs exactly one of .response.json or .error.txt"
        );
    }
}

#[test]
fn scenarios_exercise_every_notice_code_and_policy_field() {
    if std::env::var_os("OPSYNC_BLESS").is_some() {
        return; // the files are being rewritten by the other test
    }
    let mut codes = BTreeSet::new();
    let mut fields = BTreeSet::new();
    for (name, path) in requests() {
        let response = scenario_dir().join(format!("{name}.response.json"));
        let Ok(bytes) = std::fs::read(&response) else {
            continue;
        };
        let response: opsync_engine::Response = serde_json::from_slice(&bytes).unwrap();
        for r in &response.results {
            codes.extend(r.notices.iter().map(|n| n.code));
        }
        let request: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        if let Some(policy) = request["policy"].as_object() {
            fields.extend(policy.keys().cloned());
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
    ];
    let missing: Vec<_> = all_fields
        .iter()
        .filter(|f| !fields.contains(**f))
        .collect();
    assert!(missing.is_empty(), "no scenario sets policy {missing:?}");
}

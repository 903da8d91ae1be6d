//! The run protocol in a simulated world (`opsync_testkit::sim`).

use std::collections::BTreeMap;

use opsync_engine::run::{Mode, Options, Start};
use opsync_testkit::sandbox::Seed;
use opsync_testkit::sim::{Row, Schedule, Whmcs, World, BASE_URL};
use serde_json::{json, Value};

fn row(
    domain: &str,
    status: &str,
    expiry: &str,
    due: &str,
    donotrenew: &str,
    idprotection: &str,
) -> Row {
    let mut values = BTreeMap::new();
    for (c, v) in [
        ("domain", Some(domain)),
        ("status", Some(status)),
        ("expirydate", Some(expiry)),
        ("nextduedate", Some(due)),
        ("nextinvoicedate", Some(due)),
        ("donotrenew", Some(donotrenew)),
        ("idprotection", Some(idprotection)),
        ("reminders", Some("")),
    ] {
        values.insert(c.to_string(), v.map(str::to_string));
    }
    Row {
        userid: 7,
        registrar: "openprovider".into(),
        values,
    }
}

fn record(
    id: u64,
    name: &str,
    status: &str,
    expiry: &str,
    autorenew: &str,
    private: bool,
) -> Value {
    let (name, extension) = name.split_once('.').unwrap();
    json!({
        "id": id, "domain": {"name": name, "extension": extension}, "status": status,
        "expiration_date": format!("{expiry} 00:00:00"), "renewal_date": format!("{expiry} 00:00:00"),
        "autorenew": autorenew, "is_private_whois_enabled": private, "is_private_whois_allowed": true,
        "is_deleted": false,
    })
}

fn start(mode: Mode) -> Start {
    Start {
        protocol: 1,
        host: "opsync".into(),
        mode,
        now: "2026-12-07 10:00:00".into(),
        epoch_seconds: 1_796_637_600,
        seed: 1,
        settings: json!({
            "opsync_toml": {},
            "api": {"username": "opsync-demo", "password": "demo-password", "base_url": BASE_URL},
        }),
        options: Options::default(),
        host_problems: Vec::new(),
    }
}

fn small_world() -> World {
    let mut whmcs = Whmcs::default();
    whmcs.rows.insert(
        1,
        row("drift.com", "Active", "2026-01-01", "2026-01-01", "1", "0"),
    );
    whmcs.rows.insert(
        2,
        row("same.com", "Active", "2027-03-01", "2027-03-01", "0", "0"),
    );
    whmcs.rows.insert(
        3,
        row("gone.com", "Active", "2027-03-01", "2027-03-01", "0", "0"),
    );
    let seed = Seed::new(vec![
        record(11, "drift.com", "ACT", "2026-02-01", "default", false),
        record(12, "same.com", "ACT", "2027-03-01", "default", false),
    ]);
    World::new(whmcs, &seed)
}

#[test]
fn a_clean_run_writes_both_sides_and_a_second_has_nothing_left() {
    let mut world = small_world();
    let ran = world.run(&start(Mode::Sync), &Schedule::default());
    let outcome = ran.outcome.expect("the run ends");
    assert_eq!(outcome.exit_status, 0, "{:#?}\n{:#?}", outcome, ran.logs);
    let summary = outcome.summary.unwrap();
    assert_eq!(summary.changed_rows, 1, "{:?}", ran.logs);
    let drift = &world.whmcs.rows[&1];
    assert_eq!(drift.get("expirydate"), Some("2026-02-01"));
    assert_eq!(drift.get("nextduedate"), Some("2026-02-01"));
    assert_eq!(world.openprovider.domains()[&11]["autorenew"], "off");
    assert!(!world.whmcs.locked);
    assert_eq!(world.whmcs.runs.len(), 1);
    assert_eq!(world.mail.len(), 1, "the first report is mailed");
    assert!(world.token_cache.is_some());
    let activity = world.whmcs.activity.len();
    assert!(activity >= 3, "{:?}", world.whmcs.activity);

    let again = world.run(&start(Mode::Sync), &Schedule::default());
    let outcome = again.outcome.unwrap();
    assert_eq!(outcome.summary.unwrap().changed_rows, 0);
    assert_eq!(world.whmcs.activity.len(), activity);
    assert_eq!(
        world.openprovider.counters().login,
        1,
        "the cached token is reused"
    );
}

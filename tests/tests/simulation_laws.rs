//! The run's laws under faults, in the simulated world: generated WHMCS tables and
//! Openprovider accounts, generated fault schedules (a fault at any request, the host
//! killed before any request), each case run three times: undisturbed, under the
//! schedule, and once more clean after it. `OPSYNC_SIM_CASES` sets the number of cases
//! (default 10,000, as `make test` runs them).

use std::collections::{BTreeMap, BTreeSet};

use opsync_engine::run::{Mode, Options, RequestKind, Start};
use opsync_testkit::sandbox::Seed;
use opsync_testkit::sim::{Fault, Ran, Row, Schedule, Whmcs, World, BASE_URL};
use proptest::prelude::*;
use serde_json::{json, Value};

const NAMES: [&str; 8] = [
    "alpha.com",
    "bravo.nl",
    "charlie.eu",
    "delta.net",
    "echo.org",
    "foxtrot.com",
    "golf.nl",
    "hotel.com",
];
const DATES: [&str; 5] = [
    "2026-03-01",
    "2026-06-15",
    "2027-01-31",
    "2027-12-01",
    "2028-02-29",
];
const STATUSES: [&str; 10] = [
    "Active",
    "Active",
    "Active",
    "Pending",
    "Expired",
    "Cancelled",
    "Grace",
    "Transferred Away",
    "Fraud",
    "Pending Transfer",
];
const PASSWORD: &str = "sim-password-9f3c";

/// A `tbldomains` row to generate: indexes into the lists above.
#[derive(Debug, Clone)]
struct RowSpec {
    name: usize,
    status: usize,
    expiry: Option<usize>,
    due: Option<usize>,
    donotrenew: u8,
    idprotection: u8,
    /// Filed under openprovider (else another registrar).
    ours: bool,
}

/// An Openprovider record to generate.
#[derive(Debug, Clone)]
struct RecordSpec {
    name: usize,
    status: usize,
    expiry: usize,
    autorenew: usize,
    private: bool,
    allowed: bool,
    deleted: bool,
}

/// A world to generate: WHMCS rows and Openprovider records.
#[derive(Debug, Clone)]
struct Spec {
    rows: Vec<RowSpec>,
    records: Vec<RecordSpec>,
    batch: Option<u64>,
    dry_run: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    let row = (
        0..NAMES.len(),
        0..STATUSES.len(),
        proptest::option::weighted(0.9, 0..DATES.len()),
        proptest::option::weighted(0.9, 0..DATES.len()),
        0u8..3,
        0u8..3,
        proptest::bool::weighted(0.9),
    )
        .prop_map(
            |(name, status, expiry, due, donotrenew, idprotection, ours)| RowSpec {
                name,
                status,
                expiry,
                due,
                donotrenew,
                idprotection,
                ours,
            },
        );
    let record = (
        0..NAMES.len(),
        0usize..6,
        0..DATES.len(),
        0usize..3,
        any::<bool>(),
        proptest::bool::weighted(0.9),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(name, status, expiry, autorenew, private, allowed, deleted)| RecordSpec {
                name,
                status,
                expiry,
                autorenew,
                private,
                allowed,
                deleted,
            },
        );
    (
        proptest::collection::vec(row, 0..10),
        proptest::collection::vec(record, 0..10),
        proptest::option::weighted(0.25, 1u64..6),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(rows, records, batch, dry_run)| Spec {
            rows,
            records,
            batch,
            dry_run,
        })
}

fn flag(n: u8) -> Option<String> {
    match n {
        0 => Some("0".into()),
        1 => Some("1".into()),
        _ => Some(String::new()),
    }
}

fn world(spec: &Spec) -> World {
    let mut whmcs = Whmcs {
        system_url: Some("https://billing.example.com/".into()),
        ..Whmcs::default()
    };
    for (i, r) in spec.rows.iter().enumerate() {
        let RowSpec {
            name,
            status,
            expiry,
            due,
            donotrenew,
            idprotection,
            ours,
        } = r;
        let mut values = BTreeMap::new();
        values.insert("domain".to_string(), Some(NAMES[*name].to_string()));
        values.insert("status".to_string(), Some(STATUSES[*status].to_string()));
        values.insert(
            "expirydate".to_string(),
            Some(expiry.map_or("0000-00-00".into(), |d| DATES[d].to_string())),
        );
        let due = due.map_or("0000-00-00".into(), |d| DATES[d].to_string());
        values.insert("nextduedate".to_string(), Some(due.clone()));
        values.insert("nextinvoicedate".to_string(), Some(due));
        values.insert("donotrenew".to_string(), flag(*donotrenew));
        values.insert("idprotection".to_string(), flag(*idprotection));
        values.insert("reminders".to_string(), Some("1|2".into()));
        whmcs.rows.insert(
            100 + i as u64,
            Row {
                userid: 1 + i as u64 % 3,
                registrar: if *ours { "openprovider" } else { "enom" }.into(),
                values,
            },
        );
    }
    let mut domains = Vec::new();
    for (i, r) in spec.records.iter().enumerate() {
        let RecordSpec {
            name,
            status,
            expiry,
            autorenew,
            private,
            allowed,
            deleted,
        } = r;
        let (n, ext) = NAMES[*name].split_once('.').unwrap();
        let status = ["ACT", "ACT", "ACT", "PEN", "DEL", "FAI"][*status];
        let autorenew = ["on", "off", "default"][*autorenew];
        let expiry = format!("{} 00:00:00", DATES[*expiry]);
        domains.push(json!({
            "id": 9000 + i,
            "domain": {"name": n, "extension": ext},
            "status": status,
            "expiration_date": expiry,
            "renewal_date": expiry,
            "autorenew": autorenew,
            "is_private_whois_enabled": private,
            "is_private_whois_allowed": allowed,
            "is_deleted": deleted,
        }));
    }
    let mut seed = Seed::new(domains);
    seed.password = PASSWORD.into();
    World::new(whmcs, &seed)
}

fn start(spec: &Spec) -> Start {
    Start {
        protocol: 1,
        host: "opsync".into(),
        mode: if spec.dry_run {
            Mode::DryRun
        } else {
            Mode::Sync
        },
        now: "2026-12-07 10:00:00".into(),
        epoch_seconds: 1_796_637_600,
        seed: 42,
        settings: json!({
            "opsync_toml": {},
            "api": {"username": "opsync-demo", "password": PASSWORD, "base_url": BASE_URL},
        }),
        options: Options {
            batch: spec.batch,
            ..Options::default()
        },
        host_problems: Vec::new(),
    }
}

const FAULTS: [Fault; 14] = [
    Fault::Business,
    Fault::Bare502,
    Fault::Empty502,
    Fault::Malformed,
    Fault::Truncated,
    Fault::TokenExpired,
    Fault::Maintenance,
    Fault::Blocked,
    Fault::TimeoutBefore,
    Fault::TimeoutAfter,
    Fault::RefuseUpdate,
    Fault::Shift,
    Fault::DbError,
    Fault::MailRefused,
];

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        proptest::collection::btree_map(1usize..45, 0..FAULTS.len(), 0..4),
        proptest::option::weighted(0.3, 1usize..45),
        proptest::collection::vec(1u64..120, 1..5),
    )
        .prop_map(|(faults, kill_at, latencies)| Schedule {
            rules: Vec::new(),
            faults: faults.into_iter().map(|(at, f)| (at, FAULTS[f])).collect(),
            kill_at,
            latencies,
        })
}

/// What a row and a domain look like to the laws: WHMCS's columns, Openprovider's
/// fields WHMCS leads.
type State = (BTreeMap<u64, Row>, BTreeMap<u64, (Value, Value)>);

fn state(world: &World) -> State {
    // A domain that appeared meanwhile (the listing shifted) is no one's to judge.
    let domains = world
        .openprovider
        .domains()
        .iter()
        .filter(|(_, d)| {
            !d["domain"]["name"]
                .as_str()
                .unwrap_or("")
                .starts_with("appeared-")
        })
        .map(|(id, d)| {
            (
                *id,
                (
                    d["autorenew"].clone(),
                    d["is_private_whois_enabled"].clone(),
                ),
            )
        })
        .collect();
    (world.whmcs.rows.clone(), domains)
}

/// Runs clean until every row was synced and a run changed nothing: one run, or as
/// many batches as the rows need, and one more.
fn settle(world: &mut World, start: &Start, rows: usize) {
    world.openprovider.calm();
    let runs = match start.options.batch {
        Some(b) => rows / b as usize + 2,
        None => 2,
    };
    for _ in 0..runs {
        let ran = world.run(start, &Schedule::default());
        prop_assert_ok(ran.outcome.is_some());
    }
}

fn prop_assert_ok(ended: bool) {
    assert!(ended, "a clean run ends");
}

fn secrets_nowhere(ran: &Ran, world: &World) -> Result<(), String> {
    let mut secrets = world.openprovider.tokens_issued();
    secrets.push(PASSWORD.to_string());
    let mut places: Vec<(String, String)> =
        ran.logs.iter().map(|l| ("log".into(), l.clone())).collect();
    for r in &ran.stored {
        if matches!(r.kind, RequestKind::StoreToken { .. }) {
            continue;
        }
        places.push((
            format!("request {}", r.id),
            serde_json::to_string(r).unwrap_or_default(),
        ));
    }
    if let Some(o) = &ran.outcome {
        places.push((
            "outcome".into(),
            serde_json::to_string(o).unwrap_or_default(),
        ));
    }
    for (place, text) in places {
        if let Some(s) = secrets.iter().find(|s| text.contains(s.as_str())) {
            return Err(format!(
                "a secret ({}...) is in the {place}: {text}",
                &s[..4]
            ));
        }
    }
    Ok(())
}

/// What differs between two states, entry by entry.
fn diff(a: &State, b: &State) -> String {
    let mut out = String::new();
    for (id, row) in &a.0 {
        if b.0.get(id) != Some(row) {
            out += &format!("row {id}: {row:?}\n   should be {:?}\n", b.0.get(id));
        }
    }
    for (id, d) in &a.1 {
        if b.1.get(id) != Some(d) {
            out += &format!("domain {id}: {d:?}, should be {:?}\n", b.1.get(id));
        }
    }
    out
}

fn cases() -> u32 {
    std::env::var("OPSYNC_SIM_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// The laws of a run under faults:
    /// - no wrong write: every row and domain is as it was or as an undisturbed run leaves it;
    /// - each activity line at most once, and only lines an undisturbed run writes;
    /// - a clean rerun converges to the undisturbed end;
    /// - a dry run writes nothing at all;
    /// - secrets never in a log line, report, outcome or store write (the token cache aside);
    /// - the lock never outlives a run.
    #[test]
    fn a_run_under_any_fault_schedule(spec in spec(), schedule in schedule()) {
        let start = start(&spec);
        let before = state(&world(&spec));

        // The undisturbed end: the rows as a sync leaves them (batch after batch: a batch
        // judges duplicate names among its own rows only).
        let mut calm = world(&spec);
        let sync = Start { mode: Mode::Sync, ..start.clone() };
        settle(&mut calm, &sync, spec.rows.len());
        let end = state(&calm);
        let end_lines: BTreeSet<String> = calm.whmcs.activity.iter().map(|a| a.line.clone()).collect();

        let mut hit = world(&spec);
        let ran = hit.run(&start, &schedule);
        prop_assert!(!hit.whmcs.locked, "the lock outlived the run");
        secrets_nowhere(&ran, &hit).map_err(TestCaseError::fail)?;
        let now = state(&hit);
        if spec.dry_run {
            prop_assert_eq!(&now, &before, "a dry run wrote");
            prop_assert!(hit.whmcs.activity.is_empty());
        }
        for (id, row) in &now.0 {
            prop_assert!(row == &before.0[id] || row == &end.0[id],
                "row {} is neither as it was nor as it should end: {:?}\nwas {:?}\nshould {:?}", id, row, before.0[id], end.0[id]);
        }
        for (id, d) in &now.1 {
            let (b, e) = (before.1.get(id), end.1.get(id));
            prop_assert!(Some(d) == b || Some(d) == e,
                "domain {} is neither as it was nor as it should end: {:?}", id, d);
        }
        let mut lines = BTreeSet::new();
        for a in &hit.whmcs.activity {
            prop_assert!(lines.insert(a.line.clone()), "activity written twice: {}", a.line);
            prop_assert!(end_lines.contains(&a.line), "activity an undisturbed run does not write: {}", a.line);
        }

        settle(&mut hit, &sync, spec.rows.len());
        let after = state(&hit);
        prop_assert!(after == end, "a clean rerun does not converge:\n{}", diff(&after, &end));
        let mut lines = BTreeSet::new();
        for a in &hit.whmcs.activity {
            prop_assert!(lines.insert(a.line.clone()), "activity written twice after the rerun: {}", a.line);
            prop_assert!(end_lines.contains(&a.line), "activity an undisturbed run does not write: {}", a.line);
        }
    }
}

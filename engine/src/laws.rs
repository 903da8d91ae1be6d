//! The laws of the contract as checkable properties (feature `arbitrary`): the engine's
//! own tests run them with random policies, and `opsync laws` runs them with the policy an
//! operator configured, so whoever changes a rule or a policy sees at once which law
//! breaks, with the smallest request that shows it.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{json, Value};

use crate::arbitrary::{
    arb_json, book_request, protected_statuses, request, request_with_policy, WHMCS_STATUSES,
};
use crate::columns::WHMCS_COLUMNS;
use crate::{decide_json, parse_day, render_report_json, Response};

mod notices;

/// One law: its name, what it says, and how to check one case.
pub struct Law {
    pub name: &'static str,
    pub statement: &'static str,
    check: Check,
}

#[derive(Clone, Copy)]
enum Check {
    /// On a generated request.
    Request(fn(&Value) -> Result<(), String>),
    /// On a generated request and a seed (for shuffles).
    Seeded(fn(&Value, u64) -> Result<(), String>),
    /// On arbitrary bytes.
    Bytes(fn(&[u8]) -> Result<(), String>),
    /// On a generated request with junk JSON put somewhere in it.
    Broken(fn(&Value, &Value, usize, usize) -> Result<(), String>),
    /// On a generated v1.4 request: the whole book around it (`book_request`).
    Book(fn(&Value) -> Result<(), String>),
}

/// Every law, in the contract's order.
pub const LAWS: &[Law] = &[
    Law {
        name: "law 1: idempotent",
        statement: "apply a response's writes to its request and decide again: nothing changes",
        check: Check::Request(idempotent),
    },
    Law {
        name: "law 2: each side leads its own fields",
        statement: "WHMCS changes touch only status and dates, Openprovider changes only \
                    auto-renew and WHOIS privacy; changing Openprovider's auto-renew and \
                    privacy moves no WHMCS change or update, changing WHMCS's dates moves no \
                    Openprovider change or PUT body",
        check: Check::Request(each_side_leads_its_own_fields),
    },
    Law {
        name: "law 3: only known values are written",
        statement: "never an unknown date, a status outside WHMCS's ten, or auto-renew \"on\"; \
                    a new expiry is the calendar day Openprovider wrote; a new due date is \
                    the expiry after the decision minus the offset, a new invoice date the \
                    new due date; every change's `from` is the request's value",
        check: Check::Request(writes_only_known_values),
    },
    Law {
        name: "law 4: protected and unpaired rows never change",
        statement: "rows in a protected status, rows without an Openprovider record of \
                    their name, rows that cannot be judged, and all but one of several rows \
                    of one name get no changes; a row is paired with its name's live record \
                    before a deleted one, then ACT, then the highest id",
        check: Check::Request(protected_and_unpaired_rows_never_change),
    },
    Law {
        name: "the summary is the results counted",
        statement: "one result per WHMCS row, in the request's order, and every summary \
                    count is the count over the results",
        check: Check::Request(summary_is_the_results_counted),
    },
    Law {
        name: "the notices are the rules' findings",
        statement: "each row's notices are exactly those the contract calls for, in its \
                    order, with its severities: invalid_record alone for a row that cannot \
                    be judged, duplicate_domain alone (a warning when live, naming the kept \
                    row) for the other rows of a name, none for a protected row, one of \
                    not_in_openprovider / lookup_failed / not_checked (an error for Active \
                    and Pending rows) without a record; then request_failed, \
                    unknown_status, invalid_date, due_date_shift_too_large, not_modifiable \
                    and whois_privacy_not_allowed exactly where status, dates, the guard \
                    and Openprovider's ACT-only updates call for them",
        check: Check::Request(notices_are_the_rules_findings),
    },
    Law {
        name: "the writes are the changes",
        statement: "each update, PUT body and activity line says exactly what the row's \
                    changes say, and nothing is written for a row without changes",
        check: Check::Request(writes_are_the_changes),
    },
    Law {
        name: "the brake holds all or nothing",
        statement: "with a mass-change limit, the answer is the one without it, or, when more \
                    rows would change than the limit allows, every change held and nothing \
                    to write",
        check: Check::Seeded(brake_holds_all_or_nothing),
    },
    Law {
        name: "a deleted record takes no change",
        statement: "a row paired with a record Openprovider marks is_deleted gets no \
                    Openprovider change, and its status is decided as for DEL",
        check: Check::Request(deleted_records_take_no_change),
    },
    Law {
        name: "a name's spelling does not matter",
        statement: "writing a WHMCS row's domain in upper case or with a trailing dot \
                    changes nothing but where the answer echoes the name as written (the \
                    result's domain, the guard's domain, the activity lines, an \
                    invalid_record message)",
        check: Check::Seeded(spelling_does_not_matter),
    },
    Law {
        name: "the listing's order does not matter",
        statement: "reordering openprovider.domains changes no byte of the answer",
        check: Check::Seeded(openprovider_order_does_not_matter),
    },
    Law {
        name: "deterministic",
        statement: "the same request gives the same bytes",
        check: Check::Request(same_request_same_bytes),
    },
    Law {
        name: "v1.4: nothing is guessed from a partial listing",
        statement: "from an incomplete listing, openprovider_only is empty and counts 0 and \
                    no row becomes Transferred Away; from a complete one, openprovider_only \
                    holds exactly the live records whose name no openprovider row of WHMCS \
                    has and no exclusion names, each once, with registrar_mismatch exactly \
                    where a row under another registrar has the name",
        check: Check::Book(nothing_is_guessed_from_a_partial_listing),
    },
    Law {
        name: "v1.4: a confirmation never acts against the request's own picture",
        statement: "a row becomes Transferred Away only when an admin confirmed it and, in \
                    this very request, it is not protected, the listing is complete and no \
                    record, live or deleted, has its name; every other confirmed row that \
                    can be judged, is not excluded and is not Transferred Away already gets \
                    transfer_confirmation_stale",
        check: Check::Book(confirmations_follow_the_picture),
    },
    Law {
        name: "v1.4: excluded rows never change",
        statement: "a row whose name an exclusion names (by name or by whole trailing \
                    labels) gets no change, no update, no activity and the one notice \
                    excluded; no excluded record is in openprovider_only",
        check: Check::Book(excluded_rows_never_change),
    },
    Law {
        name: "law 5: any bytes get an answer or a clean error",
        statement: "arbitrary bytes never panic the engine or its report",
        check: Check::Bytes(arbitrary_bytes_never_panic),
    },
    Law {
        name: "law 5: any JSON gets an answer or a clean error",
        statement: "junk in any place of a request gives an answer or a one-line error",
        check: Check::Broken(arbitrary_json_never_panics),
    },
];

/// A law that broke: why, and the smallest input proptest found that shows it.
#[derive(Debug)]
pub struct Counterexample {
    pub message: String,
    /// The input, as pretty JSON (or the bytes, for the bytes law).
    pub input: String,
}

/// Checks `law` on `cases` generated inputs; with `policy`, every request carries it.
pub fn check(law: &Law, policy: Option<&Value>, cases: u32) -> Result<(), Counterexample> {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let requests = || match policy {
        Some(p) => request_with_policy(p.clone()).boxed(),
        None => request().boxed(),
    };
    let fail = |why: String| TestCaseError::fail(why);
    let outcome = match law.check {
        Check::Request(f) => runner
            .run(&requests(), |req| f(&req).map_err(fail))
            .map_err(|e| counterexample(e, pretty)),
        Check::Seeded(f) => runner
            .run(&(requests(), any::<u64>()), |(req, seed)| {
                f(&req, seed).map_err(fail)
            })
            .map_err(|e| counterexample(e, |(req, seed)| format!("seed {seed}, {}", pretty(req)))),
        Check::Bytes(f) => runner
            .run(&proptest::collection::vec(any::<u8>(), 0..512), |bytes| {
                f(&bytes).map_err(fail)
            })
            .map_err(|e| counterexample(e, |bytes| format!("{bytes:?}"))),
        Check::Broken(f) => runner
            .run(
                &(requests(), arb_json(), 0usize..6, 0usize..7),
                |(req, junk, at, field)| f(&req, &junk, at, field).map_err(fail),
            )
            .map_err(|e| {
                counterexample(e, |(req, junk, at, field)| {
                    format!(
                        "junk {junk} at place {at}, field {field}, in {}",
                        pretty(req)
                    )
                })
            }),
        Check::Book(f) => runner
            .run(&book_request(policy.cloned()), |req| f(&req).map_err(fail))
            .map_err(|e| counterexample(e, pretty)),
    };
    outcome
}

fn counterexample<T: std::fmt::Debug>(
    error: TestError<T>,
    show: impl Fn(&T) -> String,
) -> Counterexample {
    match error {
        TestError::Fail(why, input) => Counterexample {
            message: why.to_string(),
            input: show(&input),
        },
        TestError::Abort(why) => Counterexample {
            message: format!("the check could not run: {why}"),
            input: String::new(),
        },
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn decide(request: &Value) -> Result<Response, String> {
    let bytes = decide_json(&serde_json::to_vec(request).unwrap_or_default())
        .map_err(|e| format!("a generated request was refused: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the answer does not read back: {e}"))
}

fn ensure(holds: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if holds {
        Ok(())
    } else {
        Err(why())
    }
}

/// Writes a response's updates into its request, as a host would.
fn apply(request: &Value, response: &Response) -> Value {
    let mut next = request.clone();
    for (i, r) in response.results.iter().enumerate() {
        if let Some(update) = &r.whmcs_update {
            for (column, value) in &update.set {
                next["whmcs"][i][column] = value.clone();
            }
        }
        let Some(update) = &r.openprovider_update else {
            continue;
        };
        let domains = next["openprovider"]["domains"].as_array_mut();
        for d in domains.into_iter().flatten() {
            if d["id"] == json!(update.id) {
                for (field, value) in &update.body {
                    d[field] = value.clone();
                }
            }
        }
    }
    next
}

/// The pairing rule read independently of the engine: for each name, the record a row of
/// that name is paired with (live before deleted, then ACT, then the highest id).
fn paired_records(req: &Value) -> std::collections::BTreeMap<String, &Value> {
    let mut records: std::collections::BTreeMap<String, &Value> = Default::default();
    let key = |d: &Value| {
        let deleted = d["is_deleted"].as_bool().unwrap_or(false);
        let act = !deleted && d["status"].as_str() == Some("ACT");
        (!deleted, act, d["id"].as_u64().unwrap_or(0))
    };
    for d in req["openprovider"]["domains"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let full = format!(
            "{}.{}",
            d["domain"]["name"].as_str().unwrap_or(""),
            d["domain"]["extension"].as_str().unwrap_or("")
        );
        if let (Some(name), Some(_)) = (crate::lookup_name(&full), d["id"].as_u64()) {
            let slot = records.entry(name).or_insert(d);
            if key(d) > key(slot) {
                *slot = d;
            }
        }
    }
    records
}

fn idempotent(req: &Value) -> Result<(), String> {
    let first = decide(req)?;
    let second = decide(&apply(req, &first))?;
    for r in &second.results {
        ensure(!r.is_changed(), || {
            format!("the second run still changes {r:?}")
        })?;
    }
    ensure(second.summary.changed_rows == 0, || {
        "the second run counts changed rows".into()
    })
}

fn each_side_leads_its_own_fields(req: &Value) -> Result<(), String> {
    let bytes =
        decide_json(&serde_json::to_vec(req).unwrap_or_default()).map_err(|e| e.to_string())?;
    let response: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    for r in response["results"].as_array().into_iter().flatten() {
        for key in r["whmcs_changes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            ensure(
                ["status", "expirydate", "nextduedate", "nextinvoicedate"].contains(&key.as_str()),
                || format!("a WHMCS change of {key}"),
            )?;
        }
        for key in r["openprovider_changes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            ensure(
                ["autorenew", "is_private_whois_enabled"].contains(&key.as_str()),
                || format!("an Openprovider change of {key}"),
            )?;
        }
    }

    // What the other side leads never moves a side's changes. (A brake that holds one
    // answer and not the other moves everything: such pairs are not compared.)
    let mut flipped = req.clone();
    for d in domains_mut(&mut flipped) {
        let autorenew = match d.get("autorenew").and_then(Value::as_str) {
            Some("on") => "off",
            Some("off") => "default",
            _ => "on",
        };
        let private = d.get("is_private_whois_enabled").and_then(Value::as_bool);
        d.insert("autorenew".into(), json!(autorenew));
        d.insert(
            "is_private_whois_enabled".into(),
            json!(!private.unwrap_or(false)),
        );
    }
    compare_side(
        &response,
        &flipped,
        ["whmcs_changes", "whmcs_update"],
        "Openprovider's auto-renew and privacy",
    )?;
    let mut redated = req.clone();
    for row in redated["whmcs"].as_array_mut().into_iter().flatten() {
        if let Some(row) = row.as_object_mut() {
            for (column, day) in [
                ("expirydate", "2031-02-20"),
                ("nextduedate", "2031-02-10"),
                ("nextinvoicedate", "2031-02-10"),
            ] {
                if row.contains_key(column) {
                    row.insert(column.into(), json!(day));
                }
            }
        }
    }
    compare_side(
        &response,
        &redated,
        ["openprovider_changes", "openprovider_update"],
        "WHMCS's dates",
    )
}

/// The Openprovider domain objects of a request, to change.
fn domains_mut(req: &mut Value) -> impl Iterator<Item = &mut serde_json::Map<String, Value>> {
    req["openprovider"]["domains"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// `fields` of every result are the same in the answer to `changed` as in `answer`, unless
/// the brake held either.
fn compare_side(
    answer: &Value,
    changed: &Value,
    fields: [&str; 2],
    what: &str,
) -> Result<(), String> {
    let bytes = decide_json(&serde_json::to_vec(changed).unwrap_or_default())
        .map_err(|e| format!("changing {what} made the request invalid: {e}"))?;
    let other: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let held = |v: &Value| v["summary"]["held"].as_bool().unwrap_or(false);
    if held(answer) || held(&other) {
        return Ok(());
    }
    let before = answer["results"].as_array().cloned().unwrap_or_default();
    let after = other["results"].as_array().cloned().unwrap_or_default();
    ensure(before.len() == after.len(), || {
        format!("changing {what} changed the number of results")
    })?;
    for (b, a) in before.iter().zip(&after) {
        for field in fields {
            ensure(b[field] == a[field], || {
                format!(
                    "changing {what} moved row {}'s {field}: {} became {}",
                    b["whmcs_id"], b[field], a[field]
                )
            })?;
        }
    }
    Ok(())
}

fn summary_is_the_results_counted(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    let rows = req["whmcs"].as_array().cloned().unwrap_or_default();
    ensure(response.results.len() == rows.len(), || {
        format!("{} results for {} rows", response.results.len(), rows.len())
    })?;
    for (i, (r, row)) in response.results.iter().zip(&rows).enumerate() {
        let id = match &row["id"] {
            Value::String(s) => s.trim().parse::<u64>().ok(),
            other => other.as_u64(),
        };
        ensure(id == Some(r.whmcs_id), || {
            format!(
                "result {i} is row {}, the request's row {i} is {}",
                r.whmcs_id, row["id"]
            )
        })?;
    }
    let count = |f: &dyn Fn(&crate::RowResult) -> u64| response.results.iter().map(f).sum::<u64>();
    let s = &response.summary;
    let severity = |r: &crate::RowResult, sev: crate::Severity| {
        r.notices.iter().filter(|n| n.severity == sev).count() as u64
    };
    let expected = [
        ("rows", s.rows, response.results.len() as u64),
        (
            "changed_rows",
            s.changed_rows,
            count(&|r| {
                u64::from(!r.whmcs_changes.is_empty() || !r.openprovider_changes.is_empty())
            }),
        ),
        (
            "whmcs_updates",
            s.whmcs_updates,
            count(&|r| u64::from(!r.whmcs_changes.is_empty())),
        ),
        (
            "openprovider_updates",
            s.openprovider_updates,
            count(&|r| u64::from(!r.openprovider_changes.is_empty())),
        ),
        (
            "errors",
            s.errors,
            count(&|r| severity(r, crate::Severity::Error)),
        ),
        (
            "warnings",
            s.warnings,
            count(&|r| severity(r, crate::Severity::Warning)),
        ),
    ];
    for (name, got, want) in expected {
        ensure(got == want, || {
            format!("summary.{name} is {got}, the results count {want}")
        })?;
    }
    if s.held {
        let held = count(&|r| {
            u64::from(r.held_whmcs_changes.is_some() || r.held_openprovider_changes.is_some())
        });
        ensure(s.held_rows == Some(held), || {
            format!(
                "summary.held_rows is {:?}, {held} results hold changes",
                s.held_rows
            )
        })?;
    }
    Ok(())
}

fn writes_only_known_values(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    let source = req["policy"]["expiry_source"]
        .as_str()
        .unwrap_or("expiration_date");
    for r in &response.results {
        let w = &r.whmcs_changes;
        for c in [&w.expirydate, &w.nextduedate, &w.nextinvoicedate]
            .into_iter()
            .flatten()
        {
            ensure(parse_day(&c.to).is_some(), || {
                format!("wrote the date {:?}", c.to)
            })?;
        }
        if let Some(c) = &w.status {
            ensure(WHMCS_STATUSES[..10].contains(&c.to.as_str()), || {
                format!("wrote the status {:?}", c.to)
            })?;
        }
        if let Some(c) = &r.openprovider_changes.autorenew {
            ensure(c.to == "default" || c.to == "off", || {
                format!("wrote autorenew {:?}", c.to)
            })?;
        }
        let op = req["openprovider"]["domains"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| r.openprovider_id.is_some_and(|id| d["id"] == json!(id)));
        if let Some(c) = &w.expirydate {
            let written = op.and_then(|d| d[source].as_str()).unwrap_or("");
            ensure(written.starts_with(&c.to), || {
                format!("expiry {} is not Openprovider's {source} {written:?}", c.to)
            })?;
        }
        exact_dates_and_from_values(req, r, op)?;
    }
    Ok(())
}

/// Law 3's arithmetic, read independently of the engine's rules: the due date is the
/// expiry after the decision minus the offset, the invoice date follows the due date, and
/// each change starts from the request's own value.
fn exact_dates_and_from_values(
    req: &Value,
    r: &crate::RowResult,
    op: Option<&Value>,
) -> Result<(), String> {
    let rows = req["whmcs"].as_array().cloned().unwrap_or_default();
    let Some(row) = rows.iter().find(|row| match &row["id"] {
        Value::String(s) => s.trim().parse::<u64>().ok() == Some(r.whmcs_id),
        other => other.as_u64() == Some(r.whmcs_id),
    }) else {
        return Ok(());
    };
    // A WHMCS date as the request holds it: text that is a calendar day, else unknown.
    let day = |column: &str| row[column].as_str().filter(|t| parse_day(t).is_some());
    let w = &r.whmcs_changes;
    for (column, change) in [
        ("expirydate", &w.expirydate),
        ("nextduedate", &w.nextduedate),
        ("nextinvoicedate", &w.nextinvoicedate),
    ] {
        if let Some(c) = change {
            ensure(c.from.as_deref() == day(column), || {
                format!(
                    "{column} changes from {:?}, the row holds {}",
                    c.from, row[column]
                )
            })?;
        }
    }
    if let Some(c) = &w.status {
        let held = row["status"].as_str().unwrap_or("").trim();
        ensure(
            c.from
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(held)),
            || format!("status changes from {:?}, the row holds {:?}", c.from, held),
        )?;
    }
    if let Some(due) = &w.nextduedate {
        let offset = req["policy"]["due_date_offset_days"].as_i64().unwrap_or(0);
        let expiry = w
            .expirydate
            .as_ref()
            .map(|c| c.to.clone())
            .or_else(|| day("expirydate").map(str::to_string));
        let target = expiry
            .as_deref()
            .and_then(parse_day)
            .and_then(|e| crate::arbitrary::minus_days(e, offset));
        ensure(
            target.is_some_and(|t| t.format("%Y-%m-%d").to_string() == due.to),
            || {
                format!(
                    "the due date {} is not the expiry {expiry:?} minus {offset} days",
                    due.to
                )
            },
        )?;
    }
    match (&w.nextinvoicedate, &w.nextduedate) {
        (Some(invoice), Some(due)) => ensure(invoice.to == due.to, || {
            format!(
                "the invoice date {} is not the due date {}",
                invoice.to, due.to
            )
        })?,
        (Some(invoice), None) => {
            return Err(format!(
                "the invoice date moved to {} without the due date",
                invoice.to
            ))
        }
        _ => {}
    }
    let o = &r.openprovider_changes;
    if let (Some(c), Some(op)) = (&o.autorenew, op) {
        ensure(c.from.as_deref() == op["autorenew"].as_str(), || {
            format!(
                "autorenew changes from {:?}, the record holds {}",
                c.from, op["autorenew"]
            )
        })?;
    }
    if let (Some(c), Some(op)) = (&o.is_private_whois_enabled, op) {
        ensure(c.from == op["is_private_whois_enabled"].as_bool(), || {
            format!(
                "WHOIS privacy changes from {:?}, the record holds {}",
                c.from, op["is_private_whois_enabled"]
            )
        })?;
    }
    Ok(())
}

fn protected_and_unpaired_rows_never_change(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    let protected = protected_statuses(req);
    let records = paired_records(req);
    let preferred = |name: &str| records.get(name).and_then(|d| d["id"].as_u64());
    let mut changed_per_name: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for (i, r) in response.results.iter().enumerate() {
        let row = &req["whmcs"][i];
        let status = row["status"].as_str().unwrap_or("").to_string();
        let name = row["domain"].as_str().and_then(crate::lookup_name);
        let expected = name.as_deref().and_then(preferred);
        let invalid = r
            .notices
            .iter()
            .any(|n| n.code == crate::Code::InvalidRecord);
        if !invalid {
            ensure(r.openprovider_id == expected, || {
                format!(
                    "row {i} ({:?}) is paired with {:?}; the rule pairs it with {expected:?}",
                    row["domain"], r.openprovider_id
                )
            })?;
        }
        if protected.contains(&status) || expected.is_none() || invalid {
            ensure(!r.is_changed(), || format!("row {i} changed: {r:?}"))?;
        }
        if let (Some(name), true) = (name, r.is_changed()) {
            changed_per_name.entry(name).or_default().push(r.whmcs_id);
        }
    }
    for (name, ids) in changed_per_name {
        ensure(ids.len() <= 1, || {
            format!("rows {ids:?} of one name {name:?} all changed")
        })?;
    }
    Ok(())
}

fn notices_are_the_rules_findings(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    let expected = notices::expected(req);
    ensure(response.results.len() == expected.len(), || {
        format!(
            "{} results for {} rows",
            response.results.len(),
            expected.len()
        )
    })?;
    for (r, want) in response.results.iter().zip(&expected) {
        let got: Vec<(&str, crate::Severity)> = r
            .notices
            .iter()
            .map(|n| (n.code.as_str(), n.severity))
            .collect();
        let wanted: Vec<(&str, crate::Severity)> =
            want.iter().map(|n| (n.code, n.severity)).collect();
        ensure(got == wanted, || {
            format!(
                "row {} ({:?}) has notices {got:?}; the contract calls for {wanted:?}",
                r.whmcs_id, r.domain
            )
        })?;
        for (n, w) in r.notices.iter().zip(want) {
            for words in &w.says {
                ensure(n.message.contains(words.as_str()), || {
                    format!(
                        "row {}: the {} notice {:?} does not say {words:?}",
                        r.whmcs_id, w.code, n.message
                    )
                })?;
            }
        }
    }
    ensure(response.summary.held || response.notices.is_empty(), || {
        format!("a run not held has notices {:?}", response.notices)
    })
}

fn writes_are_the_changes(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    for (i, r) in response.results.iter().enumerate() {
        let w = &r.whmcs_changes;
        match &r.whmcs_update {
            None => ensure(w.is_empty(), || format!("changes without an update: {r:?}"))?,
            Some(update) => {
                let mut wanted: std::collections::BTreeMap<String, Value> = w
                    .each()
                    .map(|(f, c)| (f.name.to_string(), json!(c.to)))
                    .collect();
                if w.expirydate.is_some() {
                    wanted.insert("reminders".into(), json!(""));
                }
                let set = &update.set;
                ensure(*set == wanted, || {
                    format!("set {set:?} is not the changes {wanted:?}")
                })?;
                ensure(update.guard.id == r.whmcs_id, || {
                    format!(
                        "the update of row {} is guarded by {:?}",
                        r.whmcs_id, update.guard
                    )
                })?;
                // The guard is every other read column, exactly as the request held it.
                let row = &req["whmcs"][i];
                let read: std::collections::BTreeMap<String, Value> = WHMCS_COLUMNS[1..]
                    .iter()
                    .filter_map(|c| Some((c.to_string(), row.get(*c)?.clone())))
                    .filter(|(_, v)| !v.is_array() && !v.is_object())
                    .collect();
                ensure(update.guard.columns == read, || {
                    format!(
                        "guard {:?} is not the row as read {read:?}",
                        update.guard.columns
                    )
                })?;
            }
        }
        let o = &r.openprovider_changes;
        match &r.openprovider_update {
            None => ensure(o.is_empty(), || format!("changes without a PUT: {r:?}"))?,
            Some(update) => {
                ensure(Some(update.id) == r.openprovider_id, || {
                    format!(
                        "PUT to {} for a row paired with {:?}",
                        update.id, r.openprovider_id
                    )
                })?;
                let wanted: Vec<(String, Value)> =
                    o.each().map(|(f, v, _)| (f.name.to_string(), v)).collect();
                let body: Vec<(String, Value)> = update
                    .body
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                ensure(body == wanted, || {
                    format!("body {body:?} is not the changes {wanted:?}")
                })?;
            }
        }
        let (whmcs_lines, op_lines) = r
            .activity
            .as_ref()
            .map_or((0, 0), |a| (a.whmcs.len(), a.openprovider.len()));
        ensure(
            whmcs_lines == w.each().count() && op_lines == o.each().count(),
            || format!("activity lines do not match the changes: {r:?}"),
        )?;
    }
    Ok(())
}

fn brake_holds_all_or_nothing(req: &Value, seed: u64) -> Result<(), String> {
    let (percent, min_rows) = (seed % 101, (seed >> 8) % 6);
    let mut free = req.clone();
    free["policy"] = match req["policy"].as_object() {
        Some(p) => Value::Object(p.clone()),
        None => json!({}),
    };
    free["policy"]["mass_change_limit"] = Value::Null;
    let mut braked = free.clone();
    braked["policy"]["mass_change_limit"] = json!({"percent": percent, "min_rows": min_rows});
    let unbraked = decide(&free)?;
    let answer = decide(&braked)?;
    let changed = unbraked.summary.changed_rows;
    let rows = unbraked.summary.rows;
    // The contract's words: more than both M rows and P% of the rows, rounded down.
    let over = changed > min_rows && changed > rows * percent / 100;
    if !over {
        return ensure(answer == unbraked, || {
            format!(
                "{changed} of {rows} rows is within {percent}%/{min_rows}, yet the answer differs"
            )
        });
    }
    ensure(
        answer.summary.held && answer.summary.held_rows == Some(changed),
        || {
            format!(
                "{changed} of {rows} rows is over {percent}%/{min_rows}, yet summary is {:?}",
                answer.summary
            )
        },
    )?;
    ensure(
        answer.notices.len() == 1 && answer.notices[0].code.as_str() == "mass_change_held",
        || format!("a held run's notices are {:?}", answer.notices),
    )?;
    for (held, free) in answer.results.iter().zip(&unbraked.results) {
        ensure(!held.is_changed(), || {
            format!("row {}: a held run still changes it", held.whmcs_id)
        })?;
        ensure(
            held.whmcs_update.is_none()
                && held.openprovider_update.is_none()
                && held.activity.is_none(),
            || {
                format!(
                    "row {}: a held run still has something to write",
                    held.whmcs_id
                )
            },
        )?;
        let same_whmcs = held.held_whmcs_changes.clone().unwrap_or_default() == free.whmcs_changes;
        let same_op =
            held.held_openprovider_changes.clone().unwrap_or_default() == free.openprovider_changes;
        ensure(
            same_whmcs && same_op && held.notices == free.notices,
            || {
                format!(
                    "row {}: what was held is not what would have changed",
                    held.whmcs_id
                )
            },
        )?;
    }
    Ok(())
}

fn deleted_records_take_no_change(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    let deleted: Vec<u64> = req["openprovider"]["domains"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter(|d| d["is_deleted"] == json!(true))
                .filter_map(|d| d["id"].as_u64())
                .collect()
        })
        .unwrap_or_default();
    for r in &response.results {
        let Some(id) = r.openprovider_id.filter(|id| deleted.contains(id)) else {
            continue;
        };
        ensure(
            r.openprovider_changes.is_empty() && r.openprovider_update.is_none(),
            || {
                format!(
                    "row {}: Openprovider changes for deleted record {id}",
                    r.whmcs_id
                )
            },
        )?;
        if let Some(status) = &r.whmcs_changes.status {
            ensure(status.to == "Expired", || {
                format!(
                    "row {}: a deleted record made the row {}",
                    r.whmcs_id, status.to
                )
            })?;
        }
    }
    Ok(())
}

/// A name spelt another way that WHMCS would hold just the same: upper case, a trailing
/// dot (after the name, before any padding), or both, by `how`.
fn respelt(domain: &str, how: u64) -> String {
    let core = domain.trim();
    let (start, end) = match domain.find(core) {
        Some(at) if !core.is_empty() => (&domain[..at], &domain[at + core.len()..]),
        _ => return domain.to_string(),
    };
    let mut core = core.to_string();
    if how & 1 == 1 {
        core = core.to_ascii_uppercase();
    }
    if how & 2 == 2 && !core.ends_with('.') {
        core.push('.');
    }
    format!("{start}{core}{end}")
}

fn spelling_does_not_matter(req: &Value, seed: u64) -> Result<(), String> {
    let mut respelled = req.clone();
    let mut names = Vec::new();
    for (i, row) in respelled["whmcs"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let how = (seed >> (2 * (i % 32))) & 3;
        let Some(domain) = row["domain"].as_str().map(str::to_string) else {
            names.push(None);
            continue;
        };
        let new = respelt(&domain, if how == 0 { 1 } else { how });
        row["domain"] = json!(new);
        names.push(Some((domain, new)));
    }
    let answer = |r: &Value| -> Result<Value, String> {
        let bytes = decide_json(&serde_json::to_vec(r).unwrap_or_default())
            .map_err(|e| format!("a request was refused: {e}"))?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    };
    let (original, mut other) = (answer(req)?, answer(&respelled)?);
    // Where the answer echoes the name as written, the original's spelling goes back in.
    for (r, names) in other["results"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .zip(&names)
    {
        let Some((was, now)) = names else { continue };
        ensure(r["domain"] == json!(now), || {
            format!("result for {now:?} echoes the domain {}", r["domain"])
        })?;
        r["domain"] = json!(was);
        if let Some(domain) = r.pointer_mut("/whmcs_update/where/domain") {
            if *domain == json!(now) {
                *domain = json!(was);
            }
        }
        for side in ["/activity/whmcs", "/activity/openprovider"] {
            let lines = r.pointer_mut(side).and_then(Value::as_array_mut);
            for line in lines.into_iter().flatten() {
                let text = line.as_str().unwrap_or("").replacen(
                    &format!(" - {now} - "),
                    &format!(" - {was} - "),
                    1,
                );
                *line = json!(text);
            }
        }
        let notices = r.get_mut("notices").and_then(Value::as_array_mut);
        for n in notices.into_iter().flatten() {
            let text = n["message"]
                .as_str()
                .unwrap_or("")
                .replace(&format!("{now:?}"), &format!("{was:?}"));
            n["message"] = json!(text);
        }
    }
    ensure(other == original, || {
        let differs = original["results"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(other["results"].as_array().into_iter().flatten())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("{a} became {b}"))
            .unwrap_or_else(|| "the summary or the run's notices".into());
        format!("respelling the names changed the answer: {differs}")
    })
}

fn openprovider_order_does_not_matter(req: &Value, seed: u64) -> Result<(), String> {
    let mut shuffled = req.clone();
    if let Some(domains) = shuffled["openprovider"]["domains"].as_array_mut() {
        // A deterministic shuffle from the seed (reverse plus rotation).
        domains.reverse();
        if !domains.is_empty() {
            let k = (seed as usize) % domains.len();
            domains.rotate_left(k);
        }
    }
    let a = decide_json(&serde_json::to_vec(req).unwrap_or_default());
    let b = decide_json(&serde_json::to_vec(&shuffled).unwrap_or_default());
    ensure(a == b, || {
        "the answer changed with the listing's order".into()
    })
}

fn same_request_same_bytes(req: &Value) -> Result<(), String> {
    let bytes = serde_json::to_vec(req).unwrap_or_default();
    ensure(decide_json(&bytes) == decide_json(&bytes), || {
        "two answers to one request differ".into()
    })
}

fn arbitrary_bytes_never_panic(bytes: &[u8]) -> Result<(), String> {
    let answered = std::panic::catch_unwind(|| {
        let _ = decide_json(bytes);
        let _ = render_report_json(bytes);
    });
    ensure(answered.is_ok(), || "the engine panicked".into())
}

/// Junk in one of `fields` of `element`, or (`which` past the last) in every one of them
/// at once: one field at a time alone would reach a given field, the id say, too seldom.
fn put_junk(element: &mut Value, fields: &[&str], which: usize, junk: &Value) {
    match fields.get(which) {
        Some(field) => element[*field] = junk.clone(),
        None => fields.iter().for_each(|f| element[*f] = junk.clone()),
    }
}

fn arbitrary_json_never_panics(
    req: &Value,
    junk: &Value,
    at: usize,
    field: usize,
) -> Result<(), String> {
    let mut broken = req.clone();
    match at {
        0 => broken = junk.clone(),
        1 => broken["policy"] = junk.clone(),
        2 => broken["openprovider"]["domains"] = junk.clone(),
        3 => {
            if let Some(row) = broken["whmcs"].as_array_mut().and_then(|a| a.first_mut()) {
                let fields = [
                    "id",
                    "domain",
                    "status",
                    "expirydate",
                    "donotrenew",
                    "idprotection",
                ];
                put_junk(row, &fields, field, junk);
            }
        }
        4 => {
            if let Some(d) = broken["openprovider"]["domains"]
                .as_array_mut()
                .and_then(|a| a.first_mut())
            {
                let fields = [
                    "id",
                    "domain",
                    "status",
                    "expiration_date",
                    "autorenew",
                    "is_private_whois_enabled",
                ];
                put_junk(d, &fields, field, junk);
            }
        }
        _ => broken["lookup_errors"] = junk.clone(),
    }
    let bytes = serde_json::to_vec(&broken).unwrap_or_default();
    match std::panic::catch_unwind(|| decide_json(&bytes)) {
        Err(_) => Err("the engine panicked".into()),
        Ok(Ok(answer)) => serde_json::from_slice::<Response>(&answer)
            .map(|_| ())
            .map_err(|e| format!("the answer does not read back: {e}")),
        Ok(Err(e)) => ensure(!e.to_string().contains('\n'), || {
            format!("the error is not one line: {e}")
        }),
    }
}

/// The book's laws' own reading of v1.4's exclusions: the request's names and extensions,
/// normalised as pairing does.
fn exclusions(req: &Value) -> (Vec<String>, Vec<String>) {
    let list = |key: &str| -> Vec<String> {
        req["policy"]["exclude"][key]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let names = list("domains")
        .iter()
        .filter_map(|n| crate::lookup_name(n))
        .collect();
    let extensions = list("extensions")
        .iter()
        .filter_map(|e| crate::lookup_name(&format!("x.{}", e.trim().trim_start_matches('.'))))
        .map(|n| n["x.".len()..].to_string())
        .collect();
    (names, extensions)
}

fn is_excluded(req: &Value, name: &str) -> bool {
    let (names, extensions) = exclusions(req);
    names.iter().any(|n| n == name)
        || extensions
            .iter()
            .any(|e| name.ends_with(&format!(".{e}")) && name.len() > e.len() + 1)
}

/// Normalised names of every record in the listing, `(name, record)`.
fn records(req: &Value) -> Vec<(String, &Value)> {
    req["openprovider"]["domains"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|d| {
                    let name = format!(
                        "{}.{}",
                        d["domain"]["name"].as_str()?,
                        d["domain"]["extension"].as_str()?
                    );
                    Some((crate::lookup_name(&name)?, d))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn row_names(req: &Value) -> Vec<Option<String>> {
    req["whmcs"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r["domain"].as_str().and_then(crate::lookup_name))
                .collect()
        })
        .unwrap_or_default()
}

fn became_transferred_away(r: &crate::RowResult) -> bool {
    r.whmcs_changes
        .status
        .as_ref()
        .is_some_and(|c| c.to == "Transferred Away")
}

fn nothing_is_guessed_from_a_partial_listing(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    let complete = req["openprovider"]["complete"].as_bool().unwrap_or(false);
    let book = response.openprovider_only.clone();
    ensure(book.is_some() == req.get("whmcs_other").is_some(), || {
        "openprovider_only is there exactly when whmcs_other is".to_string()
    })?;
    ensure(
        response.summary.openprovider_only == book.as_ref().map(|b| b.len() as u64),
        || "the summary counts openprovider_only".to_string(),
    )?;
    let Some(book) = book else { return Ok(()) };
    if !complete {
        ensure(book.is_empty(), || {
            format!("guessed from a partial listing: {book:?}")
        })?;
        for (i, r) in response.results.iter().enumerate() {
            ensure(!became_transferred_away(r), || {
                format!("row {i} became Transferred Away from a partial listing")
            })?;
        }
        return Ok(());
    }
    let billed: Vec<String> = row_names(req).into_iter().flatten().collect();
    let mut wanted: Vec<(String, u64)> = records(req)
        .into_iter()
        .filter(|(_, d)| !d["is_deleted"].as_bool().unwrap_or(false))
        .filter(|(name, _)| !billed.contains(name) && !is_excluded(req, name))
        .filter_map(|(name, d)| Some((name, d["id"].as_u64()?)))
        .collect();
    wanted.sort();
    let got: Vec<(String, u64)> = book
        .iter()
        .map(|e| {
            (
                crate::lookup_name(&e.domain).unwrap_or_default(),
                e.openprovider_id,
            )
        })
        .collect();
    ensure(got == wanted, || {
        format!("openprovider_only lists {got:?}; the records nobody bills are {wanted:?}")
    })?;
    let others: Vec<(Option<String>, u64)> = req["whmcs_other"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|o| {
                    (
                        o["domain"].as_str().and_then(crate::lookup_name),
                        o["id"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for e in &book {
        let name = crate::lookup_name(&e.domain).unwrap_or_default();
        let filed: Vec<u64> = others
            .iter()
            .filter(|(n, _)| n.as_deref() == Some(name.as_str()))
            .map(|(_, id)| *id)
            .collect();
        let code = if filed.is_empty() {
            crate::Code::NotInWhmcs
        } else {
            crate::Code::RegistrarMismatch
        };
        ensure(e.notice.code == code, || {
            format!(
                "{} gets {:?}; other rows of its name: {filed:?}",
                e.domain, e.notice.code
            )
        })?;
        ensure(e.whmcs_id.is_none_or(|id| filed.contains(&id)), || {
            format!(
                "{} names row {:?}, not one of {filed:?}",
                e.domain, e.whmcs_id
            )
        })?;
    }
    Ok(())
}

fn confirmations_follow_the_picture(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    let complete = req["openprovider"]["complete"].as_bool().unwrap_or(false);
    let confirmed: Vec<u64> = req["confirmed_transferred_away"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    let protected = protected_statuses(req);
    let held = response.summary.held;
    let listed: Vec<String> = records(req).into_iter().map(|(n, _)| n).collect();
    for ((i, r), name) in response.results.iter().enumerate().zip(row_names(req)) {
        let status = req["whmcs"][i]["status"].as_str().unwrap_or("");
        let is_confirmed = confirmed.contains(&r.whmcs_id);
        let has_record = name.as_ref().is_some_and(|n| listed.contains(n));
        let may_act =
            is_confirmed && complete && !protected.iter().any(|p| p == status) && !has_record;
        if became_transferred_away(r) {
            ensure(may_act, || {
                format!(
                    "row {i} became Transferred Away (confirmed {is_confirmed}, complete \
                     {complete}, status {status}, a record of its name {has_record})"
                )
            })?;
        }
        let stale = r
            .notices
            .iter()
            .any(|n| n.code == crate::Code::TransferConfirmationStale);
        ensure(!stale || (is_confirmed && !may_act), || {
            format!("row {i}: transfer_confirmation_stale where the confirmation may act")
        })?;
        let judged = !r
            .notices
            .iter()
            .any(|n| n.code == crate::Code::InvalidRecord || n.code == crate::Code::Excluded);
        if is_confirmed && judged && status != "Transferred Away" && !held {
            ensure(became_transferred_away(r) || stale, || {
                format!("row {i}: a confirmation that neither acted nor was reported stale")
            })?;
        }
    }
    Ok(())
}

fn excluded_rows_never_change(req: &Value) -> Result<(), String> {
    let response = decide(req)?;
    for ((i, r), name) in response.results.iter().enumerate().zip(row_names(req)) {
        if !name.as_deref().is_some_and(|n| is_excluded(req, n)) {
            ensure(
                !r.notices.iter().any(|n| n.code == crate::Code::Excluded),
                || format!("row {i} ({name:?}) is excluded, though no exclusion names it"),
            )?;
            continue;
        }
        ensure(
            !r.is_changed()
                && r.whmcs_update.is_none()
                && r.openprovider_update.is_none()
                && r.activity.is_none(),
            || format!("excluded row {i} ({name:?}) changed: {r:?}"),
        )?;
        let codes: Vec<crate::Code> = r.notices.iter().map(|n| n.code).collect();
        ensure(codes == [crate::Code::Excluded], || {
            format!("excluded row {i} gets {codes:?}, not the one notice excluded")
        })?;
    }
    for e in response.openprovider_only.iter().flatten() {
        let name = crate::lookup_name(&e.domain).unwrap_or_default();
        ensure(!is_excluded(req, &name), || {
            format!("the excluded record {} is in openprovider_only", e.domain)
        })?;
    }
    Ok(())
}

//! The fault suite (`RELIABILITY.md`): each fault is a test that runs a real host against
//! MariaDB, the Openprovider sandbox and the SMTP sink, and compares the end state (every
//! `tbldomains` column, the sandbox's domains, the activity log) with the one an
//! undisturbed run of the same host reaches from the same start. Each runs twice: with the
//! `opsync` binary (`::native`) and with the PHP drop-in as WHMCS's cron runs it
//! (`::drop_in`), since both only carry out what the engine's run asks.

mod common;

use std::time::Duration;

use common::{
    assert_same, closed_port, drifted, text, undisturbed_on, wait_for, EndState, Host, World,
};
use opsync_testkit::sandbox::Faults;
use opsync_testkit::smtp_sink::SmtpSink;
use serde_json::Value;
use sqlx::Connection;

/// Twelve rows change on both sides; the brake is off, so faults are all there is.
const SAFETY: &str = "[safety]\nmass_change_percent = 100\n";
const N: u64 = 12;

/// `name(host)` as two tests, `name::native` and `name::drop_in`.
macro_rules! on_both_hosts {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn native() {
                super::$name(super::Host::Native).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn drop_in() {
                super::$name(super::Host::DropIn).await
            }
        }
    };
}

/// Every row as it started or as the undisturbed run left it: never half written, never
/// anything a failure made up.
fn each_row_is_before_or_after(now: &EndState, start: &EndState, calm: &EndState) {
    assert_eq!(now.rows.len(), start.rows.len());
    for (i, row) in now.rows.iter().enumerate() {
        assert!(
            *row == start.rows[i] || *row == calm.rows[i],
            "row {i} is neither as it was nor as it should be:\n  now:    {row}\n  before: {}\n  after:  {}",
            start.rows[i],
            calm.rows[i]
        );
    }
}

/// Nothing is logged that did not happen: every line is one the undisturbed run logged.
fn logged_only_what_happened(now: &EndState, calm: &EndState) {
    let mut rest = calm.activity.clone();
    for line in &now.activity {
        let Some(at) = rest.iter().position(|l| l == line) else {
            panic!("logged what did not happen: {line}");
        };
        rest.remove(at);
    }
}

/// Without faults, a rerun reaches the undisturbed end state exactly.
async fn rerun_converges(world: &World, calm: &EndState) {
    world.sandbox.set_faults(Faults::default());
    let rerun = world.opsync(&["sync"]).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun));
    assert_same(&world.end_state().await, calm, "the rerun");
}

async fn kill(child: &mut tokio::process::Child) {
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert!(
        !status.success(),
        "the run had finished before it was killed"
    );
}

async fn sigkill_during_the_listing_writes_nothing_and_the_rerun_converges(host: Host) {
    let (rows, domains) = drifted(N, 600);
    let calm = undisturbed_on(host, "kill-list", &rows, &domains, SAFETY).await;
    let world = World::on(host, "kill-list", &rows, domains, SAFETY).await;
    let start = world.end_state().await;
    world.sandbox.set_faults(Faults {
        latency_ms: 400,
        ..Faults::default()
    });
    let mut child = world.command(&["sync"]).spawn().unwrap();
    let w = &world;
    wait_for(
        "the listing",
        || async move { w.sandbox.counters().list >= 1 },
    )
    .await;
    kill(&mut child).await;
    assert_same(&world.end_state().await, &start, "nothing written");

    rerun_converges(&world, &calm).await;
    world.finish().await;
}

on_both_hosts!(sigkill_during_the_listing_writes_nothing_and_the_rerun_converges);

async fn sigkill_between_openprovider_updates_logs_only_what_openprovider_took(host: Host) {
    let (rows, domains) = drifted(N, 0);
    let calm = undisturbed_on(host, "kill-put", &rows, &domains, SAFETY).await;
    let world = World::on(host, "kill-put", &rows, domains, SAFETY).await;
    world.configure_with(SAFETY, "concurrency = 1");
    let start = world.end_state().await;
    world.sandbox.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let mut child = world.command(&["sync"]).spawn().unwrap();
    let w = &world;
    wait_for("the fourth update", || async move {
        w.sandbox.counters().update >= 4
    })
    .await;
    kill(&mut child).await;
    // Give an update in flight its moment: if the sandbox still applies it, it is counted.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let now = world.end_state().await;
    assert_eq!(now.rows, start.rows, "WHMCS is written after Openprovider");
    let updated = now
        .domains
        .iter()
        .zip(&start.domains)
        .filter(|(a, b)| a != b)
        .count();
    assert!((3..=4).contains(&updated), "{updated} domains updated");
    logged_only_what_happened(&now, &calm);
    assert!(
        now.activity.len() == updated || now.activity.len() + 1 == updated,
        "{} lines for {updated} updates: each confirmed update is logged at once",
        now.activity.len()
    );

    world.sandbox.set_faults(Faults::default());
    let rerun = world.opsync(&["sync"]).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun));
    let end = world.end_state().await;
    assert_eq!((&end.rows, &end.domains), (&calm.rows, &calm.domains));
    logged_only_what_happened(&end, &calm);
    assert!(
        calm.activity.len() - end.activity.len() <= 1,
        "at most the update in flight at the kill lacks its line"
    );
    world.finish().await;
}

on_both_hosts!(sigkill_between_openprovider_updates_logs_only_what_openprovider_took);

/// Holds a lock on row `id` (as an admin editing it would), so the run's write of that row
/// waits; returns the connection that holds it.
async fn hold_row(world: &World, id: u64) -> sqlx::AnyConnection {
    let mut conn = world.connect().await;
    sqlx::query("START TRANSACTION")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!(
        "SELECT id FROM tbldomains WHERE id = {id} FOR UPDATE"
    ))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn
}

/// The connection id of a transaction of this world's database waiting for a lock, if
/// there is one (other tests' worlds wait for their own rows on the same server).
async fn lock_waiter(world: &World) -> Option<String> {
    // MariaDB refreshes INNODB_TRX only after it went unread for 100 ms: reading it
    // more often would show the same old picture forever.
    tokio::time::sleep(Duration::from_millis(150)).await;
    world
        .texts(
            "SELECT CONCAT(t.trx_state, '|', t.trx_mysql_thread_id) \
             FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE p.DB = DATABASE()",
        )
        .await
        .into_iter()
        .find_map(|t| t.strip_prefix("LOCK WAIT|").map(str::to_string))
}

/// The connection id of the transaction waiting for a lock, once there is one.
async fn waiting_connection(world: &World) -> String {
    let w = world;
    wait_for("a write waiting for the held row", || async move {
        lock_waiter(w).await.is_some()
    })
    .await;
    lock_waiter(world).await.unwrap_or_default()
}

/// Waits until no transaction of the run is left on the server.
async fn settled(world: &World) {
    let w = world;
    wait_for("the server to roll the run back", || async move {
        lock_waiter(w).await.is_none()
    })
    .await;
}

async fn sigkill_between_whmcs_writes_leaves_no_row_half_written(host: Host) {
    let (rows, domains) = drifted(N, 0);
    let calm = undisturbed_on(host, "kill-write", &rows, &domains, SAFETY).await;
    let world = World::on(host, "kill-write", &rows, domains, SAFETY).await;
    let start = world.end_state().await;
    let holder = hold_row(&world, 7).await;
    let mut child = world.command(&["sync"]).spawn().unwrap();
    waiting_connection(&world).await;
    kill(&mut child).await;
    holder.close().await.unwrap();
    settled(&world).await;

    let now = world.end_state().await;
    each_row_is_before_or_after(&now, &start, &calm);
    assert_eq!(now.rows[..6], calm.rows[..6], "rows 1-6 were written");
    assert_eq!(now.rows[6..], start.rows[6..], "rows 7-12 were not");
    assert_eq!(now.domains, calm.domains, "Openprovider was done first");
    logged_only_what_happened(&now, &calm);

    let rerun = world.opsync(&["sync"]).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun));
    assert_same(&world.end_state().await, &calm, "the rerun");
    world.finish().await;
}

on_both_hosts!(sigkill_between_whmcs_writes_leaves_no_row_half_written);

async fn the_database_connection_killed_mid_apply_is_a_clean_stop_and_the_rerun_converges(
    host: Host,
) {
    let (rows, domains) = drifted(N, 0);
    let calm = undisturbed_on(host, "kill-conn", &rows, &domains, SAFETY).await;
    let world = World::on(host, "kill-conn", &rows, domains, SAFETY).await;
    let start = world.end_state().await;
    let holder = hold_row(&world, 5).await;
    let child = world.command(&["sync"]).spawn().unwrap();
    let victim = waiting_connection(&world).await;
    let mut admin = world.connect().await;
    sqlx::query(&format!("KILL CONNECTION {victim}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    holder.close().await.unwrap();
    settled(&world).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.starts_with("opsync: lost the connection to the WHMCS database"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "one line: {said}");

    let now = world.end_state().await;
    each_row_is_before_or_after(&now, &start, &calm);
    logged_only_what_happened(&now, &calm);
    let rerun = world.opsync(&["sync"]).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun));
    assert_same(&world.end_state().await, &calm, "the rerun");
    world.finish().await;
}

on_both_hosts!(the_database_connection_killed_mid_apply_is_a_clean_stop_and_the_rerun_converges);

async fn the_database_down_at_start_is_one_line_and_no_call(host: Host) {
    let (rows, domains) = drifted(N, 0);
    let world = World::on(host, "db-down", &rows, domains, SAFETY).await;
    // A port nobody listens on.
    world.set_database(&format!("mysql://root@127.0.0.1:{}/whmcs", closed_port()));
    let out = world.opsync(&["sync"]).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.starts_with("opsync: cannot open the WHMCS database"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "one line: {said}");
    assert_eq!(
        world.sandbox.counters().total,
        0,
        "Openprovider was never called"
    );
    world.finish().await;
}

on_both_hosts!(the_database_down_at_start_is_one_line_and_no_call);

/// A fault, what the run's exit status must be, and whether the run still reaches the
/// undisturbed end (a retried fault) or writes nothing at all (a failed run).
struct ApiCase {
    name: &'static str,
    faults: Faults,
    status: i32,
    outcome: Outcome,
}

#[derive(PartialEq)]
enum Outcome {
    /// Retried or worked around: the run reaches the undisturbed end state.
    Converges,
    /// The run stopped before writing anything.
    NothingWritten,
    /// Some rows written, some not; no status made up.
    Partial,
}

async fn api_faults_never_change_a_status_and_a_clean_rerun_converges(host: Host) {
    let (rows, domains) = drifted(N, 600);
    let calm = undisturbed_on(host, "api", &rows, &domains, SAFETY).await;
    let cases = [
        ApiCase {
            name: "500 with a business code (399): not retried",
            faults: Faults {
                fail_next: 1,
                ..Faults::default()
            },
            status: 5,
            outcome: Outcome::NothingWritten,
        },
        ApiCase {
            name: "502 without an Openprovider body: retried",
            faults: Faults {
                fail_next: 2,
                fail_bare_502: true,
                ..Faults::default()
            },
            status: 0,
            outcome: Outcome::Converges,
        },
        ApiCase {
            name: "502 with an empty body: retried",
            faults: Faults {
                fail_next: 2,
                fail_bare_502: true,
                fail_empty_body: true,
                ..Faults::default()
            },
            status: 0,
            outcome: Outcome::Converges,
        },
        ApiCase {
            name: "a timeout: retried",
            faults: Faults {
                hang_next: 1,
                hang_ms: 3_000,
                ..Faults::default()
            },
            status: 0,
            outcome: Outcome::Converges,
        },
        ApiCase {
            name: "truncated answers: retried",
            faults: Faults {
                truncated_next: 2,
                ..Faults::default()
            },
            status: 0,
            outcome: Outcome::Converges,
        },
        ApiCase {
            name: "malformed answers: retried",
            faults: Faults {
                malformed_next: 2,
                ..Faults::default()
            },
            status: 0,
            outcome: Outcome::Converges,
        },
        ApiCase {
            name: "196, the token expired mid-run: one new login",
            faults: Faults {
                expire_token_after: Some(8),
                ..Faults::default()
            },
            status: 0,
            outcome: Outcome::Converges,
        },
        ApiCase {
            name: "4005 maintenance: retried, then given up",
            faults: Faults {
                maintenance: true,
                ..Faults::default()
            },
            status: 5,
            outcome: Outcome::NothingWritten,
        },
        ApiCase {
            name: "10005, the IP blocked: every call stops",
            faults: Faults {
                block_after_identical: Some(0),
                ..Faults::default()
            },
            status: 5,
            outcome: Outcome::NothingWritten,
        },
        ApiCase {
            name: "a listing that shifts between pages: incomplete, nobody called missing",
            faults: Faults {
                shift_after_list_calls: Some(1),
                shift_inserts: true,
                ..Faults::default()
            },
            status: 0,
            outcome: Outcome::Partial,
        },
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let world = World::on(host, &format!("api-{i}"), &rows, domains.clone(), SAFETY).await;
        let start = world.end_state().await;
        world.sandbox.set_faults(case.faults);
        // The drop-in prints the report, not the outcome's JSON.
        let args: &[&str] = match host {
            Host::Native => &["sync", "--json"],
            Host::DropIn => &["sync"],
        };
        let out = world.opsync(args).await;
        let name = case.name;
        assert_eq!(
            out.status.code(),
            Some(case.status),
            "{name}: {}",
            text(&out)
        );
        let now = world.end_state().await;
        each_row_is_before_or_after(&now, &start, &calm);
        logged_only_what_happened(&now, &calm);
        match case.outcome {
            Outcome::Converges => assert_same(&now, &calm, name),
            Outcome::NothingWritten => {
                assert_eq!(now.rows, start.rows, "{name}");
                assert_eq!(now.activity, start.activity, "{name}");
                assert_eq!(world.sandbox.counters().update, 0, "{name}");
            }
            Outcome::Partial => {
                if host == Host::Native {
                    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
                    assert_eq!(outcome["listing_complete"], Value::Bool(false), "{name}");
                }
                let reports = world
                    .texts("SELECT CAST(report_text AS CHAR) FROM opsync_runs")
                    .await;
                assert!(
                    !reports[0].contains("not_in_openprovider"),
                    "{name}: {}",
                    reports[0]
                );
            }
        }
        if case.outcome == Outcome::NothingWritten {
            // Openprovider lifts a block (10005) only by hand; here, a reset.
            world.sandbox.reset();
        } else {
            world.sandbox.set_faults(Faults::default());
        }
        let rerun = world.opsync(&["sync"]).await;
        assert_eq!(rerun.status.code(), Some(0), "{name}: {}", text(&rerun));
        let mut end = world.end_state().await;
        if case.outcome == Outcome::Partial {
            // The domain that appeared mid-listing stays at Openprovider.
            end.domains.retain(|d| calm.domains.contains(d));
        }
        assert_same(&end, &calm, &format!("{name}: the clean rerun"));
        world.finish().await;
    }
}

on_both_hosts!(api_faults_never_change_a_status_and_a_clean_rerun_converges);

async fn an_update_refused_for_one_domain_is_reported_and_the_rest_applied(host: Host) {
    let (rows, domains) = drifted(N, 0);
    let calm = undisturbed_on(host, "refused", &rows, &domains, SAFETY).await;
    let world = World::on(host, "refused", &rows, domains, SAFETY).await;
    let start = world.end_state().await;
    world.sandbox.set_faults(Faults {
        refuse_update_ids: vec![1003],
        ..Faults::default()
    });
    let out = world.opsync(&["sync"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("1 new error"), "{report}");
    let line = report
        .lines()
        .find(|l| l.contains("fault-3.com"))
        .unwrap_or_else(|| panic!("fault-3.com is not reported: {report}"));
    assert!(line.contains("Openprovider update failed"), "{line}");
    assert!(line.contains("code 399"), "{line}");

    let now = world.end_state().await;
    assert_eq!(
        now.rows, calm.rows,
        "WHMCS's side of every row, fault-3.com's too"
    );
    for (i, domain) in now.domains.iter().enumerate() {
        let expected = if domain["id"] == 1003 {
            &start.domains[i]
        } else {
            &calm.domains[i]
        };
        assert_eq!(domain, expected);
    }
    logged_only_what_happened(&now, &calm);
    assert_eq!(
        now.activity.len() + 1,
        calm.activity.len(),
        "all but the refused"
    );

    rerun_converges(&world, &calm).await;
    world.finish().await;
}

on_both_hosts!(an_update_refused_for_one_domain_is_reported_and_the_rest_applied);

async fn mail_down_or_refusing_keeps_the_writes_and_the_report(host: Host) {
    let (rows, domains) = drifted(N, 0);
    let calm = undisturbed_on(host, "mail", &rows, &domains, SAFETY).await;
    let refusing = SmtpSink::start_refusing().await.unwrap();
    let closed = closed_port();
    for (case, port) in [("down", closed), ("refusing", refusing.port())] {
        let world = World::on(
            host,
            &format!("mail-{case}"),
            &rows,
            domains.clone(),
            SAFETY,
        )
        .await;
        world.refuse_mail(port);
        let out = world.opsync(&["sync"]).await;
        assert_eq!(out.status.code(), Some(5), "{case}: {}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("the report was not mailed"), "{case}: {said}");
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(
            printed.starts_with("Domain Synchronisation Report: 12 domains changed"),
            "{case}: the report is printed: {printed}"
        );
        assert_same(
            &world.end_state().await,
            &calm,
            &format!("{case}: the writes stand"),
        );
        let runs = world.runs().await;
        assert_eq!(
            runs,
            ["sync|Domain Synchronisation Report: 12 domains changed"],
            "{case}: the report is kept in the run history"
        );
        world.finish().await;
    }
}

on_both_hosts!(mail_down_or_refusing_keeps_the_writes_and_the_report);

async fn two_runs_started_at_once_never_both_apply(host: Host) {
    let (rows, domains) = drifted(4, 0);
    let world = World::on(host, "twins", &rows, domains, SAFETY).await;
    let start = world.end_state().await;
    let mut conn = world.connect().await;
    let mut both_ran = 0;
    // PHP loads the engine anew for each run: fewer rounds, as many races per second.
    let rounds = match host {
        Host::Native => 100,
        Host::DropIn => 30,
    };
    for round in 0..rounds {
        // Back to the start: the rows drifted again, the sandbox as seeded.
        sqlx::query(
            "UPDATE tbldomains SET expirydate = '2026-06-01', nextduedate = '2026-06-01', \
             nextinvoicedate = '2026-06-01', reminders = '1|2'",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query("DELETE FROM tblactivitylog")
            .execute(&mut conn)
            .await
            .unwrap();
        world.sandbox.reset();
        assert_same(
            &world.end_state().await,
            &start,
            &format!("round {round}: reset"),
        );

        let (a, b) = tokio::join!(world.opsync(&["sync"]), world.opsync(&["sync"]));
        let codes = [a.status.code(), b.status.code()];
        assert!(
            codes.iter().all(|c| matches!(c, Some(0) | Some(4))),
            "round {round}: {codes:?} {} {}",
            text(&a),
            text(&b)
        );
        if codes == [Some(0), Some(0)] {
            both_ran += 1; // one after the other: the second found nothing to do
        }
        let end = world.end_state().await;
        assert_eq!(
            end.activity.len(),
            16,
            "round {round}: each change logged once"
        );
        assert_eq!(
            world.sandbox.counters().update,
            4,
            "round {round}: each PUT once"
        );
    }
    eprintln!("two runs at once, {rounds} rounds: {both_ran} rounds ran one after the other");
    world.finish().await;
}

on_both_hosts!(two_runs_started_at_once_never_both_apply);

/// The metrics file, read as Prometheus reads it: metric name (with labels) -> value.
fn metrics(path: &std::path::Path) -> std::collections::BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    scrape
        .samples
        .into_iter()
        .map(|s| {
            let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let value = match s.value {
                prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                other => panic!("{}: {other:?}", s.metric),
            };
            let name = if labels.is_empty() {
                s.metric
            } else {
                format!("{}{{{}}}", s.metric, labels.join(","))
            };
            (name, value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_file_after_a_clean_a_failed_and_a_held_run() {
    let (rows, domains) = drifted(N, 0);
    let world = World::new("metrics", &rows, domains, SAFETY).await;
    let file = world.dir.join("opsync.prom");
    let path = file.to_str().unwrap();

    let clean = world.opsync(&["sync", "--metrics-file", path]).await;
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let m = metrics(&file);
    assert_eq!(m["opsync_last_run_success"], 1.0);
    assert_eq!(m["opsync_last_run_exit_status"], 0.0);
    assert_eq!(m["opsync_last_run_rows_checked"], 12.0);
    assert_eq!(m["opsync_last_run_rows_changed{side=whmcs}"], 12.0);
    assert_eq!(m["opsync_last_run_rows_changed{side=openprovider}"], 12.0);
    assert_eq!(m["opsync_last_run_held"], 0.0);
    assert_eq!(
        m["opsync_last_run_api_calls"],
        1.0 + 1.0 + 12.0,
        "login, one page, 12 PUTs"
    );
    let succeeded = m["opsync_last_success_timestamp_seconds"];
    assert!(succeeded >= m["opsync_last_run_start_timestamp_seconds"]);
    let steps: Vec<(&str, f64)> = m
        .iter()
        .filter_map(|(k, v)| {
            let step = k.strip_prefix("opsync_last_run_step_duration_seconds{step=")?;
            Some((step.strip_suffix('}')?, *v))
        })
        .collect();
    let mut names: Vec<&str> = steps.iter().map(|(s, _)| *s).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "apply_openprovider",
            "apply_whmcs",
            "cursor",
            "decide",
            "lock",
            "mail",
            "read_openprovider",
            "read_whmcs",
            "report"
        ],
        "each step's duration"
    );
    let total: f64 = steps.iter().map(|(_, v)| v).sum();
    assert!(
        steps.iter().all(|(_, v)| *v >= 0.0) && total <= m["opsync_last_run_duration_seconds"],
        "the steps fit in the run: {steps:?}"
    );

    // A failed run (the API down): not a success, and the last success is kept.
    world.sandbox.set_faults(Faults {
        maintenance: true,
        ..Faults::default()
    });
    let failed = world.opsync(&["sync", "--metrics-file", path]).await;
    assert_eq!(failed.status.code(), Some(5));
    let m = metrics(&file);
    assert_eq!(m["opsync_last_run_success"], 0.0);
    assert_eq!(m["opsync_last_run_exit_status"], 5.0);
    assert_eq!(m["opsync_last_success_timestamp_seconds"], succeeded);
    assert!(
        !m.contains_key("opsync_last_run_rows_checked"),
        "no counts it did not reach"
    );
    assert_eq!(
        world
            .texts(
                "SELECT CONCAT(mode, '|', CAST(exit_status AS CHAR)) FROM opsync_runs ORDER BY id"
            )
            .await,
        ["sync|0", "failed|5"],
        "the failed run is in the history"
    );

    // A held run: completed, but not a success for monitoring; from [report] this time.
    world.sandbox.set_faults(Faults::default());
    let mut conn = world.connect().await;
    sqlx::query("UPDATE tbldomains SET expirydate = '2026-06-01', nextduedate = '2026-06-01'")
        .execute(&mut conn)
        .await
        .unwrap();
    world.configure(&format!(
        "[safety]\nmass_change_percent = 10\nmass_change_min_rows = 2\n[report]\nmetrics_file = {path:?}\n"
    ));
    let held = world.opsync(&["sync"]).await;
    assert_eq!(held.status.code(), Some(8), "{}", text(&held));
    let m = metrics(&file);
    assert_eq!(m["opsync_last_run_held"], 1.0);
    assert_eq!(m["opsync_last_run_held_rows"], 12.0);
    assert_eq!(m["opsync_last_run_success"], 0.0);
    assert_eq!(m["opsync_last_run_exit_status"], 8.0);
    assert_eq!(m["opsync_last_success_timestamp_seconds"], succeeded);
    assert_eq!(
        world
            .texts("SELECT CAST(exit_status AS CHAR) FROM opsync_runs ORDER BY id DESC LIMIT 1")
            .await,
        ["8"]
    );
    world.finish().await;
}

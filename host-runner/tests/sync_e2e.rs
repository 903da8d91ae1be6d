//! `opsync sync` end to end: the real binary against a WHMCS database (MariaDB and
//! SQLite), the Openprovider sandbox and the SMTP sink, in the suites' shared world
//! (`common`).

mod common;

use std::process::Output;

use common::{text, World, ADMIN, INSERT};
use opsync_testkit::sandbox::Seed;
use opsync_testkit::whmcs_db::TestDb;
use serde_json::json;

/// What every world of this suite configures besides its parts.
const POLICY: &str = "[policy]\ndue_date_offset_days = 10\n";

fn rows() -> Vec<String> {
    let row = |id: u32, domain: &str, status: &str, exp: &str, due: &str, dnr: u8, idp: u8| {
        format!("{INSERT}({id}, 1, '{domain}', 'openprovider', '{status}', '{exp}', '{due}', '{due}', {dnr}, {idp}, '3', '', '', '')")
    };
    vec![
        row(
            12,
            "example.com",
            "Active",
            "2026-05-19",
            "2026-05-09",
            0,
            1,
        ),
        row(13, "zero.nl", "Pending", "0000-00-00", "0000-00-00", 0, 0),
        row(14, "gone.com", "Expired", "2024-01-01", "2024-01-01", 0, 0),
        row(
            15,
            "pen.com",
            "Pending Registration",
            "2027-01-01",
            "2026-12-22",
            1,
            0,
        ),
        row(16, "fraud.com", "Fraud", "2020-01-01", "2020-01-01", 0, 1),
        ADMIN[0].into(),
        ADMIN[1].into(),
    ]
}

fn domains() -> Vec<serde_json::Value> {
    let d = |id: u32,
             name: &str,
             ext: &str,
             status: &str,
             exp: &str,
             autorenew: &str,
             private: bool| {
        json!({"id": id, "domain": {"name": name, "extension": ext}, "status": status,
               "expiration_date": format!("{exp} 00:00:00"), "renewal_date": format!("{exp} 00:00:00"),
               "autorenew": autorenew, "is_private_whois_enabled": private, "is_private_whois_allowed": true,
               "is_deleted": false})
    };
    vec![
        d(7, "example", "com", "ACT", "2026-05-20", "on", false),
        d(8, "zero", "nl", "ACT", "2027-01-31", "default", false),
        d(9, "pen", "com", "PEN", "2027-01-01", "default", false),
        d(10, "fraud", "com", "ACT", "2027-06-01", "default", false),
        d(
            11,
            "elsewhere",
            "org",
            "ACT",
            "2027-02-02",
            "default",
            false,
        ),
    ]
}

/// A fresh SQLite database holding [`rows`].
async fn sqlite(name: &str) -> TestDb {
    let rows = rows();
    TestDb::sqlite(name, &rows.iter().map(String::as_str).collect::<Vec<_>>()).await
}

/// A fresh MariaDB database holding [`rows`].
async fn mariadb(name: &str) -> TestDb {
    let rows = rows();
    TestDb::mariadb(name, &rows.iter().map(String::as_str).collect::<Vec<_>>()).await
}

/// The `--json` output of a run, or a panic that shows what the run printed instead.
fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

async fn a_sync_changes_both_sides_mails_once_and_a_second_run_does_nothing(
    db: TestDb,
    name: &str,
) {
    let world = World::with(db, Seed::new(domains()), name, POLICY).await;
    let first = world.opsync(&["sync"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));

    assert_eq!(
        world.row(12).await,
        "Active|2026-05-20|2026-05-10|2026-05-10"
    );
    assert_eq!(
        world.row(13).await,
        "Active|2027-01-31|2027-01-21|2027-01-21"
    );
    assert_eq!(
        world.row(14).await,
        "Expired|2024-01-01|2024-01-01|2024-01-01",
        "no record: untouched"
    );
    assert_eq!(
        world.row(16).await,
        "Fraud|2020-01-01|2020-01-01|2020-01-01",
        "protected: untouched"
    );
    let example = world.sandbox.domain(7).unwrap();
    assert_eq!(
        (
            example["autorenew"].clone(),
            example["is_private_whois_enabled"].clone()
        ),
        (json!("default"), json!(true))
    );
    assert_eq!(
        world.sandbox.domain(10).unwrap()["autorenew"],
        json!("default"),
        "a Fraud row pushes nothing"
    );
    assert_eq!(world.sandbox.counters().update, 1);

    let store = opsync::whmcs::Whmcs::connect(&world.db.url).await.unwrap();
    let log: Vec<String> =
        sqlx::query("SELECT CAST(description AS CHAR) FROM tblactivitylog ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| {
                use sqlx::Row;
                r.try_get::<String, _>(0).unwrap_or_else(|_| {
                    String::from_utf8(r.try_get::<Vec<u8>, _>(0).unwrap()).unwrap()
                })
            })
            .collect();
    assert!(
        log.iter().any(|l| l.ends_with(
            "example.com - Openprovider Auto Renew changed from on to default - Domain ID: 12"
        )),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("zero.nl - Status changed from Pending to Active")),
        "{log:#?}"
    );
    assert_eq!(log.len(), 9, "one line per change, both sides: {log:#?}");

    let mails = world.sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["alice@example.net"]);
    assert!(
        mails[0]
            .data
            .contains("Subject: Domain Synchronisation Report: 2 domains changed"),
        "{}",
        mails[0].data
    );

    let second = world.opsync(&["sync"]).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(
        world.row(12).await,
        "Active|2026-05-20|2026-05-10|2026-05-10"
    );
    assert_eq!(
        world.sandbox.counters().update,
        1,
        "nothing pushed on the second run"
    );
    assert_eq!(
        world.sink.mails().len(),
        1,
        "nothing changed, nothing failed: no mail"
    );
    assert!(
        second.stdout.is_empty(),
        "quiet under cron: {}",
        text(&second)
    );

    let send_empty = world.opsync(&["sync", "--send-empty"]).await;
    assert_eq!(send_empty.status.code(), Some(0));
    assert_eq!(world.sink.mails().len(), 2, "--send-empty mails every run");
    assert_eq!(
        world.history().await,
        vec![
            "opsync|sync|5|2|Domain Synchronisation Report: 2 domains changed",
            "opsync|sync|5|0|Domain Synchronisation Report: no changes",
            "opsync|sync|5|0|Domain Synchronisation Report: no changes",
        ],
        "every sync is in the run history"
    );
    world.finish().await;
}

async fn a_dry_run_changes_nothing_and_reports_what_would_change(db: TestDb, name: &str) {
    let world = World::with(db, Seed::new(domains()), name, POLICY).await;
    let out = world.opsync(&["sync", "--dry-run", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let summary = json_of(&out);
    assert_eq!(summary["summary"]["changed_rows"], json!(2));
    assert_eq!(
        world.row(12).await,
        "Active|2026-05-19|2026-05-09|2026-05-09"
    );
    assert_eq!(world.sandbox.counters().update, 0);
    let mails = world.sink.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0]
        .data
        .contains("Subject: [dry run] Domain Synchronisation Report: 2 domains would change"));

    let plan = world.opsync(&["plan"]).await;
    assert_eq!(plan.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&plan.stdout).contains("example.com"),
        "{}",
        text(&plan)
    );
    assert_eq!(world.sink.mails().len(), 1, "plan mails nothing");
    assert_eq!(
        world.history().await,
        vec!["opsync|dry-run|5|2|[dry run] Domain Synchronisation Report: 2 domains would change"],
        "the dry run is in the run history, the plan is not"
    );
    world.finish().await;
}

async fn a_concurrent_run_is_refused(db: TestDb, name: &str) {
    let world = World::with(db, Seed::new(domains()), name, POLICY).await;
    let store = opsync::whmcs::Whmcs::connect(&world.db.url).await.unwrap();
    let held = store
        .lock_run()
        .await
        .unwrap()
        .expect("the test takes the lock");
    let out = world.opsync(&["sync"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains("another opsync sync is running"),
        "{}",
        text(&out)
    );
    assert_eq!(
        world.sandbox.counters().total,
        0,
        "a refused run calls nothing"
    );
    drop(held);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sync_end_to_end() {
    a_sync_changes_both_sides_mails_once_and_a_second_run_does_nothing(
        sqlite("e2e").await,
        "sqlite",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_sync_end_to_end() {
    a_sync_changes_both_sides_mails_once_and_a_second_run_does_nothing(
        mariadb("e2e").await,
        "mariadb",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_dry_run_and_plan() {
    a_dry_run_changes_nothing_and_reports_what_would_change(mariadb("dry").await, "dry").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_refuses_a_concurrent_run() {
    a_concurrent_run_is_refused(mariadb("locked").await, "locked").await;
}

async fn every_way_of_reading_openprovider_reaches_the_same_end(
    db: TestDb,
    name: &str,
    lookup: &str,
    list_calls: u64,
) {
    let world = World::with(db, Seed::new(domains()), name, POLICY).await;
    let out = world.opsync(&["sync", "--lookup", lookup]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        world.row(12).await,
        "Active|2026-05-20|2026-05-10|2026-05-10"
    );
    assert_eq!(
        world.row(13).await,
        "Active|2027-01-31|2027-01-21|2027-01-21"
    );
    assert_eq!(world.sandbox.counters().list, list_calls, "{lookup}");
    assert_eq!(
        world.sandbox.domain(7).unwrap()["autorenew"],
        json!("default")
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_per_domain_lookups_reach_the_bulk_listings_end_state() {
    // Five Openprovider rows: five look-ups, one each, against one page of listing; both
    // then look gone.com (which Openprovider does not hold) up once among the deleted.
    every_way_of_reading_openprovider_reaches_the_same_end(
        sqlite("per").await,
        "per",
        "per-domain",
        5 + 1,
    )
    .await;
    every_way_of_reading_openprovider_reaches_the_same_end(
        sqlite("bulk").await,
        "bulk",
        "bulk",
        1 + 1,
    )
    .await;
}

/// The demo's fixture (`fixtures/demo/`): one row for nearly every rule of the contract.
fn demo_rows() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/demo/whmcs.sql"
    ))
    .unwrap();
    text.split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}

fn demo_seed() -> Seed {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/demo/openprovider.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn the_demo_fixture_syncs_rule_by_rule(db: TestDb, name: &str) {
    let world = World::with(db, demo_seed(), name, POLICY).await;
    let out = world.opsync(&["sync"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Renewed at the registrar: the expiry follows, the due date is held by the guard.
    assert_eq!(
        world.row(101).await,
        "Active|2027-03-14|2026-03-04|2026-03-04"
    );
    // Registered: Active, with the dates it did not have.
    assert_eq!(
        world.row(104).await,
        "Active|2027-11-27|2027-11-17|2027-11-17"
    );
    // Deleted at the registrar: Expired.
    assert_eq!(
        world.row(105).await,
        "Expired|2026-10-01|2026-09-21|2026-09-21"
    );
    // Failed order, gone from the registrar, Fraud: left as they were.
    assert_eq!(
        world.row(106).await,
        "Pending Registration|0000-00-00|0000-00-00|0000-00-00"
    );
    assert_eq!(
        world.row(108).await,
        "Active|2027-01-01|2026-12-22|2026-12-22"
    );
    assert_eq!(
        world.row(109).await,
        "Fraud|2020-01-01|2020-01-01|2020-01-01"
    );
    // An Openprovider status opsync does not know (PRE): the WHMCS status is not guessed.
    assert_eq!(
        world.row(115).await,
        "Active|2027-10-10|2027-09-30|2027-09-30"
    );
    // Two rows of one name: the higher id follows, the other is only reported.
    assert_eq!(
        world.row(112).await,
        "Active|2027-08-08|2027-07-29|2027-07-29"
    );
    assert_eq!(
        world.row(113).await,
        "Active|2027-08-08|2027-07-29|2027-07-29"
    );

    let op = |id: u64, field: &str| world.sandbox.domain(id).unwrap()[field].clone();
    assert_eq!(
        op(9002, "autorenew"),
        json!("off"),
        "auto-renew off in WHMCS"
    );
    assert_eq!(
        op(9002, "is_private_whois_enabled"),
        json!(false),
        "privacy not allowed: not attempted"
    );
    assert_eq!(op(9003, "is_private_whois_enabled"), json!(true));
    assert_eq!(
        op(9007, "autorenew"),
        json!("default"),
        "the IDN row paired with its punycode record"
    );
    assert_eq!(
        op(9009, "autorenew"),
        json!("on"),
        "a Fraud row pushes nothing"
    );
    assert_eq!(
        op(9013, "autorenew"),
        json!("default"),
        "PEN: not modifiable, nothing pushed"
    );
    assert_eq!(world.sandbox.counters().update, 3);

    let mails = world.sink.mails();
    assert_eq!(mails.len(), 1);
    // Long header lines arrive folded; unfold them before reading.
    let unfolded = mails[0].data.replace("\r\n ", " ").replace("\n ", " ");
    assert!(
        unfolded.contains(
            "Subject: Domain Synchronisation Report: 8 domains changed, 2 new errors, 5 new \
             warnings"
        ),
        "{unfolded}"
    );
    let first = mail_body(&mails[0].data);
    for expected in [
        // Each domain links to its page in the WHMCS admin area (System URL + admin/).
        "<a href=\"https://billing.example.com/admin/clientsdomains.php?userid=1&amp;id=108\">transferred-out.com</a>",
        "<h3>What to do</h3>",
        "set it to Transferred Away in WHMCS",
    ] {
        assert!(first.contains(expected), "{expected}: {first}");
    }

    // The problems stay until someone acts: the second run changes nothing, has nothing
    // new, and mails nothing.
    let again = world.opsync(&["sync", "--json"]).await;
    let summary = json_of(&again);
    assert_eq!(
        summary["summary"]["changed_rows"],
        json!(0),
        "{}",
        text(&again)
    );
    assert_eq!(world.sandbox.counters().update, 3);
    assert_eq!(world.sink.mails().len(), 1, "nothing new: no mail");

    // One domain renewed at Openprovider: the mail holds that change and one line for
    // the problems already reported.
    world.sandbox.edit_domain("far-future.com", |d| {
        d["expiration_date"] = json!("2031-02-01 00:00:00");
        d["renewal_date"] = json!("2031-02-01 00:00:00");
    });
    let third = world.opsync(&["sync"]).await;
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    let mails = world.sink.mails();
    assert_eq!(mails.len(), 2, "{}", text(&third));
    let unfolded = mails[1].data.replace("\r\n ", " ").replace("\n ", " ");
    assert!(
        unfolded.contains("Subject: Domain Synchronisation Report: 1 domain changed\r\n"),
        "{unfolded}"
    );
    let body = mail_body(&mails[1].data);
    assert!(body.contains("far-future.com"), "{body}");
    assert!(
        body.contains("Still open: 7 problems reported before"),
        "{body}"
    );
    assert!(
        !body.contains("transferred-out.com"),
        "no old problem listed: {body}"
    );

    // A problem fixed in WHMCS (the order that failed is cancelled, so no longer checked
    // as active): the next mail says it was resolved.
    let store = opsync::whmcs::Whmcs::connect(&world.db.url).await.unwrap();
    sqlx::query("UPDATE tbldomains SET status = 'Cancelled' WHERE id = 106")
        .execute(store.pool())
        .await
        .unwrap();
    let fourth = world.opsync(&["sync"]).await;
    assert_eq!(fourth.status.code(), Some(0), "{}", text(&fourth));
    let mails = world.sink.mails();
    assert_eq!(mails.len(), 3, "{}", text(&fourth));
    let body = mail_body(&mails[2].data);
    assert!(
        body.contains("Resolved since the last report (1)"),
        "{body}"
    );
    assert!(body.contains("failed-order.org"), "{body}");
    world.finish().await;
}

/// A mail's HTML part, decoded, as the admin's mail program shows it.
fn mail_body(data: &str) -> String {
    let mail = mailparse::parse_mail(data.as_bytes()).expect("a mail");
    let html = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/html")
        .expect("an HTML part");
    html.get_body().expect("a decodable body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_demo_fixture_rule_by_rule() {
    let rows = demo_rows();
    let db = TestDb::mariadb("demo", &rows.iter().map(String::as_str).collect::<Vec<_>>()).await;
    the_demo_fixture_syncs_rule_by_rule(db, "demo-mariadb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_demo_fixture_reaches_the_same_end_state() {
    let rows = demo_rows();
    let db = TestDb::sqlite("demo", &rows.iter().map(String::as_str).collect::<Vec<_>>()).await;
    the_demo_fixture_syncs_rule_by_rule(db, "demo-sqlite").await;
}

/// Openprovider gives `.eu` and `.de` a `renewal_date` a few days before the
/// `expiration_date` in the demo; the policy's `expiry_source` chooses which one WHMCS gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_source_chooses_between_openproviders_two_dates() {
    let rows = demo_rows();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let seed = demo_seed();
    let dates = |id: u64| {
        let d = seed.domains.iter().find(|d| d["id"] == json!(id)).unwrap();
        (d["expiration_date"].clone(), d["renewal_date"].clone())
    };
    assert_eq!(
        dates(9003),
        (json!("2027-06-30 00:00:00"), json!("2027-06-25 00:00:00"))
    );
    assert_eq!(
        dates(9007),
        (json!("2027-04-01 00:00:00"), json!("2027-03-29 00:00:00"))
    );

    for (source, eu, de) in [
        // Unnamed: the renewal date, as Openprovider's API documentation advises.
        (
            None,
            "Active|2027-06-25|2027-06-15|2027-06-15",
            "Active|2027-03-29|2027-03-19|2027-03-19",
        ),
        (
            Some("expiration_date"),
            "Active|2027-06-30|2027-06-20|2027-06-20",
            "Active|2027-04-01|2027-03-22|2027-03-22",
        ),
        (
            Some("renewal_date"),
            "Active|2027-06-25|2027-06-15|2027-06-15",
            "Active|2027-03-29|2027-03-19|2027-03-19",
        ),
    ] {
        let name = format!("expiry-{}", source.unwrap_or("default"));
        let db = TestDb::mariadb(&name.replace('-', "_"), &rows).await;
        let policy = match source {
            Some(source) => format!("{POLICY}expiry_source = {source:?}\n"),
            None => POLICY.to_string(),
        };
        let world = World::with(db, demo_seed(), &name, &policy).await;
        let out = world.opsync(&["sync"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(world.row(103).await, eu, "{source:?}");
        assert_eq!(world.row(107).await, de, "{source:?}");
        world.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_a_row_edited_during_the_run_is_left_alone_and_reported() {
    let world = World::with(
        mariadb("edited").await,
        Seed::new(domains()),
        "edited",
        POLICY,
    )
    .await;
    // Openprovider answers slowly, so the run reads WHMCS, then waits seconds for the API:
    // the admin's edit lands between opsync's read and its write.
    world.sandbox.set_faults(opsync_testkit::sandbox::Faults {
        latency_ms: 1_500,
        ..Default::default()
    });
    let run = world.opsync(&["sync"]);
    let edit = async {
        tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
        let store = opsync::whmcs::Whmcs::connect(&world.db.url).await.unwrap();
        sqlx::query("UPDATE tbldomains SET nextduedate = '2026-06-01' WHERE id = 12")
            .execute(store.pool())
            .await
            .unwrap();
    };
    let (out, ()) = tokio::join!(run, edit);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        world.row(12).await,
        "Active|2026-05-19|2026-06-01|2026-05-09",
        "the admin's edit stands"
    );
    assert_eq!(
        world.row(13).await,
        "Active|2027-01-31|2027-01-21|2027-01-21",
        "other rows are synced"
    );
    // Undo header folding and quoted-printable soft line breaks before reading the body.
    let mail = world.sink.mails()[0]
        .data
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("\r\n ", " ")
        .replace("\n ", " ");
    assert!(mail.contains("WHMCS update failed"), "{mail}");
    assert!(
        mail.contains("the row changed in WHMCS after opsync read it"),
        "{mail}"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_batches_look_up_by_name_and_move_the_cursor() {
    let world = World::with(sqlite("batch").await, Seed::new(domains()), "batch", POLICY).await;
    let first = world.opsync(&["sync", "--batch", "2", "--json"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let summary = json_of(&first);
    assert_eq!(summary["summary"]["rows"], json!(2));
    assert_eq!(
        summary["listing_complete"],
        json!(false),
        "a look-up is never a complete listing"
    );
    assert_eq!(
        world.sandbox.names_asked(),
        [["example.com", "zero.nl"]],
        "the first batch: the two lowest ids, never synced"
    );
    assert_eq!(
        world.row(12).await,
        "Active|2026-05-20|2026-05-10|2026-05-10"
    );
    assert_eq!(
        world.row(13).await,
        "Active|2027-01-31|2027-01-21|2027-01-21",
        "the batch's second row synced too"
    );
    assert_eq!(
        world.row(14).await,
        "Expired|2024-01-01|2024-01-01|2024-01-01"
    );
    let c = world.sandbox.counters();
    assert_eq!(
        (c.list, c.login),
        (1, 1),
        "two names, one look-up call, no listing"
    );

    // The next batch starts where the last one ended: rows never synced come first.
    let second = world.opsync(&["sync", "--batch", "2", "--json"]).await;
    let summary = json_of(&second);
    assert_eq!(summary["summary"]["rows"], json!(2));
    assert_eq!(
        summary["summary"]["changed_rows"],
        json!(0),
        "rows 14 and 15 need nothing"
    );
    let asked = world.sandbox.names_asked();
    assert_eq!(
        asked[1..],
        [vec!["gone.com", "pen.com"], vec!["gone.com"]],
        "the second batch: the next two never synced (gone.com then looked up among the \
         deleted)"
    );
    let third = world.opsync(&["sync", "--batch", "2", "--json"]).await;
    let summary = json_of(&third);
    assert_eq!(
        summary["summary"]["rows"],
        json!(2),
        "row 16, then the oldest synced (12)"
    );
    assert_eq!(
        world.sandbox.names_asked()[3..],
        [vec!["example.com", "fraud.com"]],
        "the third batch: the last never synced (16), then the oldest synced, lowest id (12)"
    );
    world.finish().await;
}

/// `count` Active rows `brake-N.com` whose expiry is a year behind Openprovider's.
fn drifted(count: u32) -> (Vec<String>, Vec<serde_json::Value>) {
    let mut rows = Vec::new();
    let mut domains = Vec::new();
    for i in 1..=count {
        rows.push(format!(
            "{INSERT}({i}, 1, 'brake-{i}.com', 'openprovider', 'Active', '2026-06-01', '2026-05-22', '2026-05-22', 0, 0, '', '', '', '')"
        ));
        domains.push(json!({"id": 1000 + i, "domain": {"name": format!("brake-{i}"), "extension": "com"},
            "status": "ACT", "expiration_date": "2026-06-11 00:00:00", "renewal_date": "2026-06-11 00:00:00",
            "autorenew": "default", "is_private_whois_enabled": false, "is_private_whois_allowed": true,
            "is_deleted": false}));
    }
    rows.extend(ADMIN.map(String::from));
    (rows, domains)
}

/// The expiry dates of rows `1..=count`.
async fn expiries(world: &World, count: u32) -> Vec<String> {
    let mut out = Vec::new();
    for i in 1..=count {
        out.push(world.row(i).await.split('|').nth(1).unwrap().to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mass_change_brake_holds_a_run_until_one_is_released() {
    // 30 rows drift: more than 25 rows and more than 10%, the default brake.
    let (rows, domains) = drifted(30);
    let db = TestDb::mariadb(
        "brake",
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let world = World::with(db, Seed::new(domains), "brake", POLICY).await;

    let plan = world.opsync(&["plan"]).await;
    assert_eq!(plan.status.code(), Some(8), "{}", text(&plan));
    let shown = text(&plan);
    assert!(
        shown.contains("[held] [dry run] Domain Synchronisation Report: 30 domains would change"),
        "{shown}"
    );
    assert!(shown.contains("Mass-change brake: on. A sync in which more than 25 rows and more than 10% of the rows"), "{shown}");

    let held = world.opsync(&["sync"]).await;
    assert_eq!(held.status.code(), Some(8), "{}", text(&held));
    assert!(
        text(&held).contains(
            "the mass-change brake held this run: 30 of 30 rows would change; nothing was written"
        ),
        "{}",
        text(&held)
    );
    assert_eq!(
        expiries(&world, 30).await,
        vec!["2026-06-01"; 30],
        "nothing written"
    );
    assert_eq!(world.sandbox.counters().update, 0);
    let mails = world.sink.mails();
    assert_eq!(mails.len(), 1, "the held run's report is mailed");
    let unfolded = mails[0].data.replace("\r\n ", " ").replace("\n ", " ");
    assert!(
        unfolded.contains(
            "Subject: [held] Domain Synchronisation Report: 30 domains would change, 1 new error"
        ),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("brake-17.com"),
        "the held changes are listed"
    );
    assert_eq!(
        world.history().await.last().unwrap().split('|').nth(1),
        Some("held")
    );

    // Held again until released, then applied once.
    let again = world.opsync(&["sync", "--json"]).await;
    assert_eq!(again.status.code(), Some(8));
    assert_eq!(json_of(&again)["summary"]["held_rows"], json!(30));
    let released = world
        .opsync(&["sync", "--allow-mass-change", "--json"])
        .await;
    assert_eq!(released.status.code(), Some(0), "{}", text(&released));
    assert_eq!(json_of(&released)["summary"]["changed_rows"], json!(30));
    assert_eq!(expiries(&world, 30).await, vec!["2026-06-11"; 30]);
    let after = world.opsync(&["sync", "--json"]).await;
    assert_eq!(
        after.status.code(),
        Some(0),
        "nothing left to change, nothing held"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safety_settings_move_or_switch_off_the_brake() {
    let (rows, domains) = drifted(30);
    let db = TestDb::sqlite(
        "brake_off",
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let world = World::with(db, Seed::new(domains), "brake-off", POLICY).await;
    world.configure(&format!("{POLICY}[safety]\nmass_change_percent = 100\n"));
    let plan = world.opsync(&["plan"]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(
        text(&plan).contains("Mass-change brake: off"),
        "{}",
        text(&plan)
    );
    world.configure(&format!("{POLICY}[safety]\nmass_change_percent = 101\n"));
    let bad = world.opsync(&["plan"]).await;
    assert_eq!(bad.status.code(), Some(5));
    assert!(
        text(&bad).contains("safety.mass_change_percent must be from 0 to 100"),
        "{}",
        text(&bad)
    );
    world.configure(&format!(
        "{POLICY}mass_change_limit = {{ percent = 1, min_rows = 1 }}\n"
    ));
    let misplaced = world.opsync(&["plan"]).await;
    assert_eq!(misplaced.status.code(), Some(5));
    assert!(
        text(&misplaced).contains("set the mass-change brake in [safety]"),
        "{}",
        text(&misplaced)
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_deleted_at_openprovider_is_found_and_expired_never_called_missing() {
    let mut domains = domains();
    // gone.com (row 14, Expired) and pen.com (row 15): deleted at Openprovider, so the
    // listing leaves them out.
    domains.push(
        json!({"id": 12, "domain": {"name": "gone", "extension": "com"}, "status": "DEL",
        "expiration_date": "2024-01-01 00:00:00", "renewal_date": "2024-01-01 00:00:00",
        "autorenew": "default", "is_deleted": true}),
    );
    for d in domains.iter_mut().filter(|d| d["id"] == json!(9)) {
        d["is_deleted"] = json!(true);
    }
    for (db, name, args) in [
        (mariadb("deleted").await, "deleted", vec!["sync", "--json"]),
        (
            sqlite("deleted_batch").await,
            "deleted-batch",
            vec!["sync", "--batch", "10", "--json"],
        ),
    ] {
        let world = World::with(db, Seed::new(domains.clone()), name, POLICY).await;
        let out = world.opsync(&args).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(
            world.row(15).await,
            "Expired|2027-01-01|2026-12-22|2026-12-22",
            "{name}: deleted at Openprovider (its status said PEN): Expired"
        );
        assert_eq!(
            world.row(14).await,
            "Expired|2024-01-01|2023-12-22|2023-12-22",
            "{name}: paired with its deleted record, the due date follows its expiry"
        );
        let report = text(&out);
        let subject = json_of(&out)["subject"].as_str().unwrap().to_string();
        assert!(
            !subject.contains("error"),
            "{name}: no row is missing: {subject} {report}"
        );
        let c = world.sandbox.counters();
        assert_eq!(
            c.list, 2,
            "{name}: one listing or look-up, one look-up of the deleted"
        );
        assert_eq!(c.update, 1, "{name}: the deleted records take no update");
        world.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_row_or_record_never_stops_a_run() {
    let mut rows = rows();
    rows.push(format!(
        "{INSERT}(20, 1, '', 'openprovider', 'Active', '2026-01-01', '2026-01-01', '2026-01-01', 0, 0, '', '', '', '')"
    ));
    rows.push(format!(
        "{INSERT}(21, 1, '   ', 'openprovider', 'Active', '2026-01-01', '2026-01-01', '2026-01-01', 0, 0, '', '', '', '')"
    ));
    let db = TestDb::mariadb(
        "badrow",
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let mut domains = domains();
    // A record the engine cannot read (no name): left out, the listing no longer complete.
    domains.push(json!({"id": 99, "domain": {"name": "", "extension": "com"}, "status": "ACT"}));
    let world = World::with(db, Seed::new(domains), "badrow", POLICY).await;
    let out = world.opsync(&["sync", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let outcome = json_of(&out);
    assert_eq!(
        outcome["summary"]["rows"],
        json!(7),
        "every row was decided"
    );
    assert_eq!(
        outcome["listing_complete"],
        json!(true),
        "the listing itself was complete"
    );
    assert_eq!(
        world.row(12).await,
        "Active|2026-05-20|2026-05-10|2026-05-10",
        "the good rows were synced"
    );
    assert_eq!(
        world.row(20).await,
        "Active|2026-01-01|2026-01-01|2026-01-01"
    );
    let plan = world.opsync(&["plan"]).await;
    let shown = text(&plan);
    assert!(shown.contains("invalid_record"), "{shown}");
    assert!(
        shown.contains("\"\" is not a usable domain name"),
        "{shown}"
    );
    // Without a readable record for every domain, no row is called missing.
    assert!(!shown.contains("not_in_openprovider"), "{shown}");
    assert!(shown.contains("not_checked"), "{shown}");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_the_runs_newest_first_and_shows_a_report() {
    let world = World::with(
        sqlite("history").await,
        Seed::new(domains()),
        "history",
        POLICY,
    )
    .await;
    let empty = world.opsync(&["history"]).await;
    assert_eq!(empty.status.code(), Some(0), "{}", text(&empty));
    assert!(text(&empty).starts_with("No runs yet"), "{}", text(&empty));

    // The table as the first release created it, with one run in it: it gains the
    // exit status and step columns, and its run is kept.
    let store = opsync::whmcs::Whmcs::connect(&world.db.url).await.unwrap();
    for sql in [
        "CREATE TABLE opsync_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, \
         finished_at TEXT NOT NULL, host TEXT NOT NULL, mode TEXT NOT NULL, \
         rows_checked INTEGER NOT NULL, changed_rows INTEGER NOT NULL, \
         whmcs_updates INTEGER NOT NULL, openprovider_updates INTEGER NOT NULL, \
         errors INTEGER NOT NULL, warnings INTEGER NOT NULL, failures INTEGER NOT NULL, \
         subject TEXT NOT NULL, report_text TEXT NOT NULL, report_html TEXT NOT NULL)",
        "INSERT INTO opsync_runs VALUES (NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:05', \
         'whmcs', 'sync', 1, 0, 0, 0, 0, 0, 0, 'old', 'old', 'old')",
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }

    let first = world.opsync(&["sync", "--json"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let outcome = json_of(&first);
    let steps: Vec<&str> = outcome["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "lock",
            "read_whmcs",
            "read_openprovider",
            "decide",
            "apply_openprovider",
            "apply_whmcs",
            "cursor",
            "report",
            "mail"
        ],
        "every step of the cron flow, timed, in order"
    );
    let sum: f64 = outcome["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seconds"].as_f64().unwrap())
        .sum();
    assert!((outcome["seconds"].as_f64().unwrap() - sum).abs() < 1e-9);
    assert_eq!(outcome["exit_status"], json!(0));
    let dry = world.opsync(&["sync", "--dry-run", "-v"]).await;
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    let log = String::from_utf8_lossy(&dry.stderr);
    for step in ["read_whmcs", "decide", "report"] {
        assert!(
            log.contains(&format!("step done step=\"{step}\" seconds=")),
            "-v logs each step's time: {log}"
        );
    }
    assert!(
        !log.contains("apply_whmcs"),
        "a dry run applies nothing: {log}"
    );

    let listed = world.opsync(&["history", "--json"]).await;
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed));
    let runs = json_of(&listed);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(
        (runs[0]["mode"].clone(), runs[1]["mode"].clone()),
        (json!("dry-run"), json!("sync")),
        "newest first"
    );
    assert_eq!(
        (runs[2]["subject"].clone(), runs[2]["exit_status"].clone()),
        (json!("old"), json!(null)),
        "the old run is kept, its exit status unknown"
    );
    assert_eq!(runs[1]["exit_status"], json!(0));
    assert_eq!(
        runs[1]["steps"], outcome["steps"],
        "the history keeps each step's time"
    );
    assert_eq!(runs[1]["host"], json!("opsync"));
    assert_eq!(runs[1]["rows_checked"], json!(5));
    assert!(runs[1]["changed_rows"].as_u64().unwrap() > 0);
    assert!(runs[1]["seconds"].as_i64().unwrap() >= 0);
    let id = runs[1]["id"].as_u64().unwrap();

    let one = world.opsync(&["history", "--limit", "1"]).await;
    let shown = text(&one);
    assert_eq!(
        shown.lines().filter(|l| l.contains("opsync  ")).count(),
        1,
        "{shown}"
    );
    assert!(shown.contains("dry-run"), "{shown}");

    let report = world.opsync(&["history", "show", &id.to_string()]).await;
    assert_eq!(report.status.code(), Some(0), "{}", text(&report));
    let shown = text(&report);
    assert!(
        shown.starts_with(&format!("Run {id} (opsync sync, ")),
        "{shown}"
    );
    assert!(shown.contains("example.com"), "the report's text: {shown}");
    // The report's footer gives the run's time up to the report: at most the whole run.
    let took: f64 = shown
        .split_once("The run took ")
        .and_then(|(_, rest)| rest.split_once(" s up to this report."))
        .and_then(|(seconds, _)| seconds.parse().ok())
        .unwrap_or_else(|| panic!("no run time in the footer: {shown}"));
    let steps_before_mail: f64 = outcome["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] != "mail")
        .map(|s| s["seconds"].as_f64().unwrap())
        .sum();
    assert!(
        took <= steps_before_mail + 0.05,
        "the footer's {took} s is more than the steps before the mail ({steps_before_mail} s)"
    );

    let missing = world.opsync(&["history", "show", "999"]).await;
    assert_eq!(missing.status.code(), Some(5));
    assert!(
        text(&missing).contains("there is no run 999"),
        "{}",
        text(&missing)
    );

    // A run that cannot complete (a wrong password) is in the history too, exit status 5.
    let config = std::fs::read_to_string(world.dir.join("opsync.toml")).unwrap();
    let wrong = config.replace(
        &format!("password = {:?}", world.sandbox.password()),
        "password = \"wrong\"",
    );
    assert_ne!(wrong, config);
    std::fs::write(world.dir.join("opsync.toml"), wrong).unwrap();
    let _ = std::fs::remove_file(world.dir.join("token.json"));
    let failed = world.opsync(&["sync"]).await;
    assert_eq!(failed.status.code(), Some(5), "{}", text(&failed));
    let listed = world.opsync(&["history"]).await;
    let newest = text(&listed).lines().nth(1).unwrap_or_default().to_string();
    assert!(
        newest.contains("opsync  failed") && newest.trim_end().ends_with(" 5"),
        "the failed run is listed first, exit status 5: {}",
        text(&listed)
    );
    let id = json_of(&world.opsync(&["history", "--json", "--limit", "1"]).await)[0]["id"]
        .as_u64()
        .unwrap();
    let shown = text(&world.opsync(&["history", "show", &id.to_string()]).await);
    assert!(
        shown.contains("opsync: the run did not complete: Openprovider rejected"),
        "{shown}"
    );
    assert!(
        shown.contains("Steps:\n  lock") && shown.contains("read_openprovider"),
        "the steps it got through: {shown}"
    );
    assert!(
        !shown.contains("wrong"),
        "no password in the history: {shown}"
    );
    world.finish().await;
}

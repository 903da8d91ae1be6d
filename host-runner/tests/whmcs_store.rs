//! The WHMCS store against a real MariaDB (a database of its own per test, dropped after)
//! and SQLite, on the schema in `fixtures/whmcs/`.

use std::collections::BTreeMap;

use opsync::whmcs::{Applied, Whmcs};
use opsync_engine::contract::{OpenproviderSnapshot, Request, WhmcsRow};
use opsync_engine::{Guard, Policy, WhmcsUpdate};
use opsync_testkit::whmcs_db::TestDb;
use serde_json::json;
use sqlx::{AnyConnection, Connection};

const ROWS: &[&str] = &[
    "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, nextduedate, nextinvoicedate, \
     donotrenew, idprotection, reminders, subscriptionid, additionalnotes, paymentmethod) VALUES \
     (12, 3, 'example.com', 'openprovider', 'Active', '2026-05-19', '2026-05-09', '2026-05-09', 0, 1, '1|2', '', '', '')",
    "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, nextduedate, nextinvoicedate, \
     donotrenew, idprotection, reminders, subscriptionid, additionalnotes, paymentmethod) VALUES \
     (13, 3, 'Zero.NL', 'OpenProvider', 'Pending', '0000-00-00', '0000-00-00', '0000-00-00', 1, 0, '', '', '', '')",
    "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, nextduedate, nextinvoicedate, \
     donotrenew, idprotection, reminders, subscriptionid, additionalnotes, paymentmethod) VALUES \
     (14, 4, 'elsewhere.com', 'enom', 'Active', NULL, '2026-01-01', '2026-01-01', 0, 0, '', '', '', '')",
    "INSERT INTO tbladminroles (id, name, widgets, reports, systememails) VALUES (1, 'Full', '', '', 1), (2, 'Sales', '', '', 0)",
    "INSERT INTO tbladmins (id, roleid, username, firstname, lastname, email, disabled) VALUES \
     (1, 1, 'alice', 'Alice', 'Admin', 'alice@example.net', 0), (2, 2, 'bob', 'Bob', 'Sales', 'bob@example.net', 0), \
     (3, 1, 'carol', 'Carol', 'Gone', 'carol@example.net', 1)",
];

/// A row as the engine takes it (the engine's own reading of the columns), and its client.
struct DomainRow {
    userid: u64,
    row: WhmcsRow,
}

fn domain_row(columns: Vec<Option<String>>) -> DomainRow {
    let mut at = 1;
    let row = WhmcsRow::from_columns(|_| {
        at += 1;
        columns[at - 1].clone()
    })
    .unwrap();
    DomainRow {
        userid: columns[0].as_deref().unwrap_or("0").parse().unwrap(),
        row,
    }
}

async fn openprovider_rows(store: &Whmcs) -> Vec<DomainRow> {
    store
        .openprovider_rows()
        .await
        .unwrap()
        .into_iter()
        .map(domain_row)
        .collect()
}

/// The ids of a read's rows (`[[userid, id, ...], ...]`).
fn ids_read(body: Vec<u8>) -> Vec<u64> {
    let rows: Vec<Vec<Option<String>>> = serde_json::from_slice(&body).unwrap();
    rows.iter()
        .map(|r| r[1].as_deref().unwrap().parse().unwrap())
        .collect()
}

fn decide(rows: &[DomainRow], domains: serde_json::Value) -> opsync_engine::Response {
    let request = Request {
        policy: Policy {
            due_date_offset_days: 10,
            ..Policy::default()
        },
        whmcs: rows.iter().map(|r| r.row.clone()).collect(),
        openprovider: OpenproviderSnapshot {
            complete: true,
            domains: serde_json::from_value(domains).unwrap(),
        },
        lookup_errors: Vec::new(),
        whmcs_other: None,
        confirmed_transferred_away: Vec::new(),
    };
    let bytes = opsync_engine::decide_json(&request.to_json()).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Runs a result's update as `opsync sync` does.
async fn apply(store: &Whmcs, row: &DomainRow, result: &opsync_engine::RowResult) -> Applied {
    let Some(update) = &result.whmcs_update else {
        return Applied::Written;
    };
    let lines = &result.activity.as_ref().unwrap().whmcs;
    store
        .writer()
        .await
        .unwrap()
        .apply(update, lines, row.userid, "2026-11-28 03:00:00")
        .await
        .unwrap()
}

fn op_domains() -> serde_json::Value {
    serde_json::json!([
        {"id": 7, "domain": {"name": "example", "extension": "com"}, "status": "ACT",
         "expiration_date": "2026-05-20 00:00:00", "autorenew": "default", "is_private_whois_enabled": true},
        {"id": 8, "domain": {"name": "zero", "extension": "nl"}, "status": "ACT",
         "expiration_date": "2027-01-31 0:00:00", "autorenew": "off", "is_private_whois_enabled": false},
    ])
}

/// Each row of `sql` as its columns (cast to text) joined by `|`.
async fn text(db: &TestDb, sql: &str) -> Vec<String> {
    let mut conn = AnyConnection::connect(&db.url).await.unwrap();
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| match r.try_get::<Option<String>, _>(i) {
                    Ok(v) => v.unwrap_or_else(|| "NULL".into()),
                    Err(_) => String::from_utf8(r.try_get::<Vec<u8>, _>(i).unwrap()).unwrap(),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

async fn reads_rows_as_pdo_hands_them(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    let rows = openprovider_rows(&store).await;
    assert_eq!(
        rows.iter().map(|r| r.row.id).collect::<Vec<_>>(),
        vec![12, 13],
        "only Openprovider's rows"
    );
    assert_eq!(rows[1].row.domain, "Zero.NL");
    assert_eq!(
        rows[1].row.expirydate.as_deref(),
        Some("0000-00-00"),
        "zero dates come back as text"
    );
    assert_eq!(rows[1].row.donotrenew.as_deref(), Some("1"));
    assert_eq!(rows[0].row.status.as_deref(), Some("Active"));
    assert_eq!(rows[0].userid, 3);
    assert_eq!(
        store.system_email_admins().await.unwrap(),
        vec![("Alice Admin".to_string(), "alice@example.net".to_string())]
    );
    db.finish().await;
}

async fn applies_changes_clears_reminders_and_logs_each_change(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    let rows = openprovider_rows(&store).await;
    let response = decide(&rows, op_domains());
    for (row, result) in rows.iter().zip(&response.results) {
        assert_eq!(apply(&store, row, result).await, Applied::Written);
    }
    let example = text(&db, "SELECT CAST(expirydate AS CHAR), CAST(nextduedate AS CHAR), CAST(nextinvoicedate AS CHAR), CAST(reminders AS CHAR) FROM tbldomains WHERE id = 12").await;
    assert_eq!(example, vec!["2026-05-20|2026-05-10|2026-05-10|"]);
    let zero = text(&db, "SELECT CAST(status AS CHAR), CAST(expirydate AS CHAR), CAST(nextduedate AS CHAR) FROM tbldomains WHERE id = 13").await;
    assert_eq!(zero, vec!["Active|2027-01-31|2027-01-21"]);
    let untouched = text(
        &db,
        "SELECT CAST(nextduedate AS CHAR) FROM tbldomains WHERE id = 14",
    )
    .await;
    assert_eq!(untouched, vec!["2026-01-01"]);
    let log = text(
        &db,
        "SELECT CAST(description AS CHAR) FROM tblactivitylog ORDER BY id",
    )
    .await;
    assert_eq!(log.len(), 7, "{log:#?}");
    assert_eq!(
        log[0],
        "Domain Sync (opsync): Modified Domain - example.com - Expiry Date changed from 2026-05-19 to 2026-05-20 - Domain ID: 12"
    );
    assert!(
        log[3].contains("Zero.NL - Status changed from Pending to Active - Domain ID: 13"),
        "{log:#?}"
    );
    db.finish().await;
}

async fn a_row_edited_after_reading_is_left_alone(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    let rows = openprovider_rows(&store).await;
    let response = decide(&rows, op_domains());
    // An admin moves the due date by hand between the read and the write.
    sqlx::query("UPDATE tbldomains SET nextduedate = '2026-06-01' WHERE id = 12")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(
        apply(&store, &rows[0], &response.results[0]).await,
        Applied::EditedMeanwhile
    );
    let row = text(&db, "SELECT CAST(expirydate AS CHAR), CAST(nextduedate AS CHAR), CAST(reminders AS CHAR) FROM tbldomains WHERE id = 12").await;
    assert_eq!(
        row,
        vec!["2026-05-19|2026-06-01|1|2"],
        "nothing of opsync's was written"
    );
    assert!(
        text(&db, "SELECT CAST(description AS CHAR) FROM tblactivitylog")
            .await
            .is_empty()
    );
    db.finish().await;
}

/// A run's writes go through one connection, where each statement shape is prepared once:
/// forty rows of one shape cost one UPDATE prepare and one activity INSERT prepare.
#[tokio::test]
async fn mariadb_prepares_each_statement_once_for_a_whole_run() {
    let db = TestDb::mariadb("prepared", ROWS).await;
    let store = Whmcs::connect(&db.url).await.unwrap();
    for id in 100..140 {
        sqlx::query(&format!(
            "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, nextduedate, \
             nextinvoicedate, donotrenew, idprotection, reminders, subscriptionid, additionalnotes, \
             paymentmethod) VALUES ({id}, 5, 'd{id}.com', 'openprovider', 'Active', '2026-05-19', \
             '2027-05-01', '2027-05-01', 0, 0, '', '', '', '')"
        ))
        .execute(store.pool())
        .await
        .unwrap();
    }
    let rows: Vec<DomainRow> = openprovider_rows(&store)
        .await
        .into_iter()
        .filter(|r| r.row.id >= 100)
        .collect();
    let domains: Vec<serde_json::Value> = (100..140)
        .map(|id| {
            json!({"id": id, "domain": {"name": format!("d{id}"), "extension": "com"},
                   "status": "ACT", "expiration_date": "2027-05-19 00:00:00",
                   "autorenew": "default", "is_private_whois_enabled": false})
        })
        .collect();
    let response = decide(&rows, json!(domains));
    let mut writer = store.writer().await.unwrap();
    let before = writer.statements_prepared().await.unwrap();
    for (row, result) in rows.iter().zip(&response.results) {
        let update = result.whmcs_update.as_ref().unwrap();
        let lines = &result.activity.as_ref().unwrap().whmcs;
        assert_eq!(lines.len(), 3, "expiry, due date and invoice date lines");
        let applied = writer
            .apply(update, lines, row.userid, "2026-11-28 03:00:00")
            .await
            .unwrap();
        assert_eq!(applied, Applied::Written);
    }
    let prepared = writer.statements_prepared().await.unwrap() - before;
    assert_eq!(
        prepared, 2,
        "one UPDATE and one activity INSERT for 40 rows"
    );
    let written = text(
        &db,
        "SELECT CAST(COUNT(*) AS CHAR) FROM tbldomains WHERE id >= 100 AND expirydate = '2027-05-19' \
         AND nextduedate = '2027-05-09'",
    )
    .await;
    assert_eq!(written, vec!["40"]);
    let log = text(
        &db,
        "SELECT CAST(description AS CHAR) FROM tblactivitylog WHERE userid = 5 ORDER BY id",
    )
    .await;
    assert_eq!(log.len(), 120);
    assert!(
        log[0].contains("d100.com - Expiry Date changed"),
        "{}",
        log[0]
    );
    assert!(
        log[1].contains("d100.com - Next Due Date changed"),
        "{}",
        log[1]
    );
    assert!(
        log[119].contains("d139.com - Next Invoice Date changed"),
        "{}",
        log[119]
    );
    drop(writer);
    db.finish().await;
}

#[tokio::test]
async fn mariadb_reads_rows_as_pdo_hands_them() {
    reads_rows_as_pdo_hands_them(TestDb::mariadb("read", ROWS).await).await;
}

#[tokio::test]
async fn sqlite_reads_rows_as_pdo_hands_them() {
    reads_rows_as_pdo_hands_them(TestDb::sqlite("read", ROWS).await).await;
}

#[tokio::test]
async fn mariadb_applies_changes_clears_reminders_and_logs_each_change() {
    applies_changes_clears_reminders_and_logs_each_change(TestDb::mariadb("apply", ROWS).await)
        .await;
}

#[tokio::test]
async fn sqlite_applies_changes_clears_reminders_and_logs_each_change() {
    applies_changes_clears_reminders_and_logs_each_change(TestDb::sqlite("apply", ROWS).await)
        .await;
}

#[tokio::test]
async fn mariadb_leaves_a_row_edited_after_reading_alone() {
    a_row_edited_after_reading_is_left_alone(TestDb::mariadb("edited", ROWS).await).await;
}

#[tokio::test]
async fn sqlite_leaves_a_row_edited_after_reading_alone() {
    a_row_edited_after_reading_is_left_alone(TestDb::sqlite("edited", ROWS).await).await;
}

async fn a_second_run_cannot_take_the_lock(db: TestDb) {
    let first = Whmcs::connect(&db.url).await.unwrap();
    let second = Whmcs::connect(&db.url).await.unwrap();
    let held = first.lock_run().await.unwrap();
    assert!(held.is_some(), "the first run takes the lock");
    assert!(
        second.lock_run().await.unwrap().is_none(),
        "a second run is refused at once"
    );
    drop(held);
    assert!(
        second.lock_run().await.unwrap().is_some(),
        "the lock is free again"
    );
    db.finish().await;
}

async fn batches_take_never_synced_rows_first_then_the_oldest(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    let mut writer = store.writer().await.unwrap();
    assert_eq!(ids_read(store.read_batch(1, None).await.unwrap()), vec![12]);
    writer
        .mark_synced(&[12], "2026-11-28 01:00:00")
        .await
        .unwrap();
    assert_eq!(
        ids_read(store.read_batch(1, None).await.unwrap()),
        vec![13],
        "never synced comes first"
    );
    writer
        .mark_synced(&[13], "2026-11-28 02:00:00")
        .await
        .unwrap();
    assert_eq!(
        ids_read(store.read_batch(5, None).await.unwrap()),
        vec![12, 13],
        "then the oldest"
    );
    writer
        .mark_synced(&[12], "2026-11-28 03:00:00")
        .await
        .unwrap();
    assert_eq!(ids_read(store.read_batch(1, None).await.unwrap()), vec![13]);
    assert_eq!(
        ids_read(
            store
                .read_batch(5, Some("2026-11-28 03:00:00"))
                .await
                .unwrap()
        ),
        vec![13],
        "a minimum age leaves out the rows synced since (12 at 03:00)"
    );
    assert!(
        ids_read(
            store
                .read_batch(5, Some("2026-11-28 02:00:00"))
                .await
                .unwrap()
        )
        .is_empty(),
        "and every row synced at or after the bound"
    );
    drop(writer);
    db.finish().await;
}

/// The run's reads: by id after a row, by ids, and the names alone, Openprovider's rows
/// only, every column as text.
async fn reads_page_by_id_and_by_name(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    assert_eq!(ids_read(store.read_rows(None, 1).await.unwrap()), vec![12]);
    assert_eq!(
        ids_read(store.read_rows(Some("12"), 10).await.unwrap()),
        vec![13]
    );
    assert!(ids_read(store.read_rows(Some("13"), 10).await.unwrap()).is_empty());
    assert_eq!(
        ids_read(store.read_rows_by_id(&[13, 14, 99]).await.unwrap()),
        vec![13],
        "another registrar's row is not read"
    );
    let names: Vec<Vec<Option<String>>> =
        serde_json::from_slice(&store.read_names(None, 10).await.unwrap()).unwrap();
    assert_eq!(
        names,
        vec![
            vec![Some("12".to_string()), Some("example.com".to_string())],
            vec![Some("13".to_string()), Some("Zero.NL".to_string())],
        ]
    );
    let row: Vec<Vec<Option<String>>> =
        serde_json::from_slice(&store.read_row(14).await.unwrap()).unwrap();
    assert_eq!(
        row[0][2].as_deref(),
        Some("elsewhere.com"),
        "any registrar's row by id"
    );
    assert_eq!(row[0][4], None, "NULL stays null");
    db.finish().await;
}

#[tokio::test]
async fn mariadb_reads_page_by_id_and_by_name() {
    reads_page_by_id_and_by_name(TestDb::mariadb("pages", ROWS).await).await;
}

#[tokio::test]
async fn sqlite_reads_page_by_id_and_by_name() {
    reads_page_by_id_and_by_name(TestDb::sqlite("pages", ROWS).await).await;
}

#[tokio::test]
async fn mariadb_refuses_a_second_run() {
    a_second_run_cannot_take_the_lock(TestDb::mariadb("lock", ROWS).await).await;
}

#[tokio::test]
async fn sqlite_refuses_a_second_run() {
    a_second_run_cannot_take_the_lock(TestDb::sqlite("lock", ROWS).await).await;
}

#[tokio::test]
async fn mariadb_batches_by_cursor() {
    batches_take_never_synced_rows_first_then_the_oldest(TestDb::mariadb("batch", ROWS).await)
        .await;
}

#[tokio::test]
async fn sqlite_batches_by_cursor() {
    batches_take_never_synced_rows_first_then_the_oldest(TestDb::sqlite("batch", ROWS).await).await;
}

/// The store knows no column the engine owns: whatever the engine's `set` names (here a
/// column no rule writes today) is written, guarded like any other update.
async fn a_column_the_engine_sets_reaches_the_database_as_it_is(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    let rows = openprovider_rows(&store).await;
    let response = decide(&rows, op_domains());
    let mut update = response.results[0].whmcs_update.clone().unwrap();
    update
        .set
        .insert("additionalnotes".into(), json!("synced by a future rule"));
    update.set.insert("synced".into(), json!(1));
    assert_eq!(
        store
            .writer()
            .await
            .unwrap()
            .apply(&update, &[], 3, "now")
            .await
            .unwrap(),
        Applied::Written
    );
    let row = text(&db, "SELECT CAST(additionalnotes AS CHAR), CAST(synced AS CHAR), CAST(expirydate AS CHAR), CAST(reminders AS CHAR) FROM tbldomains WHERE id = 12").await;
    assert_eq!(row, vec!["synced by a future rule|1|2026-05-20|"]);
    db.finish().await;
}

/// A guard that names a column is honoured whatever the column: the row does not hold
/// that value, so nothing is written.
async fn a_guard_on_any_column_is_honoured(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    let update = WhmcsUpdate {
        set: BTreeMap::from([("status".to_string(), json!("Expired"))]),
        guard: Guard {
            id: 12,
            columns: BTreeMap::from([
                ("status".to_string(), json!("Active")),
                ("paymentmethod".to_string(), json!("banktransfer")),
            ]),
        },
    };
    assert_eq!(
        store
            .writer()
            .await
            .unwrap()
            .apply(&update, &[], 3, "now")
            .await
            .unwrap(),
        Applied::EditedMeanwhile
    );
    let mut matching = update.clone();
    matching
        .guard
        .columns
        .insert("paymentmethod".into(), json!(""));
    matching
        .guard
        .columns
        .insert("expirydate".into(), json!("2026-05-19"));
    assert_eq!(
        store
            .writer()
            .await
            .unwrap()
            .apply(&matching, &[], 3, "now")
            .await
            .unwrap(),
        Applied::Written
    );
    let status = text(
        &db,
        "SELECT CAST(status AS CHAR) FROM tbldomains WHERE id = 12",
    )
    .await;
    assert_eq!(status, vec!["Expired"]);
    db.finish().await;
}

/// Column names reach the SQL text, so anything but a plain name is refused, and
/// nothing is written.
async fn a_column_name_that_is_not_a_name_is_refused(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    let rows = openprovider_rows(&store).await;
    let response = decide(&rows, op_domains());
    let mut update = response.results[0].whmcs_update.clone().unwrap();
    update
        .set
        .insert("status = 'Fraud', domain".into(), json!("x"));
    let err = store
        .writer()
        .await
        .unwrap()
        .apply(&update, &[], 3, "now")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not a column name"), "{err}");
    let row = text(
        &db,
        "SELECT CAST(status AS CHAR), CAST(expirydate AS CHAR) FROM tbldomains WHERE id = 12",
    )
    .await;
    assert_eq!(row, vec!["Active|2026-05-19"]);
    db.finish().await;
}

#[tokio::test]
async fn mariadb_writes_whatever_column_the_engine_sets() {
    a_column_the_engine_sets_reaches_the_database_as_it_is(TestDb::mariadb("newcol", ROWS).await)
        .await;
}

#[tokio::test]
async fn sqlite_writes_whatever_column_the_engine_sets() {
    a_column_the_engine_sets_reaches_the_database_as_it_is(TestDb::sqlite("newcol", ROWS).await)
        .await;
}

#[tokio::test]
async fn mariadb_honours_a_guard_on_any_column() {
    a_guard_on_any_column_is_honoured(TestDb::mariadb("guard", ROWS).await).await;
}

#[tokio::test]
async fn sqlite_honours_a_guard_on_any_column() {
    a_guard_on_any_column_is_honoured(TestDb::sqlite("guard", ROWS).await).await;
}

#[tokio::test]
async fn mariadb_refuses_a_column_that_is_not_a_name() {
    a_column_name_that_is_not_a_name_is_refused(TestDb::mariadb("badcol", ROWS).await).await;
}

#[tokio::test]
async fn sqlite_refuses_a_column_that_is_not_a_name() {
    a_column_name_that_is_not_a_name_is_refused(TestDb::sqlite("badcol", ROWS).await).await;
}

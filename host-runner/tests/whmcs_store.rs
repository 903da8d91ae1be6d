//! The WHMCS store against a real MariaDB (a database of its own per test, dropped after)
//! and SQLite, on the schema in `fixtures/whmcs/`.

use opsync::whmcs::{Applied, DomainRow, Whmcs};
use opsync_testkit::whmcs_db::TestDb;
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

fn decide(rows: &[DomainRow], domains: serde_json::Value) -> opsync_engine::Response {
    let request = serde_json::json!({
        "policy": {"due_date_offset_days": 10},
        "whmcs": rows.iter().map(DomainRow::to_request).collect::<Vec<_>>(),
        "openprovider": {"complete": true, "domains": domains},
    });
    let bytes = opsync_engine::decide_json(&serde_json::to_vec(&request).unwrap()).unwrap();
    serde_json::from_slice(&bytes).unwrap()
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
    let rows = store.openprovider_rows().await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![12, 13],
        "only Openprovider's rows"
    );
    assert_eq!(rows[1].domain, "Zero.NL");
    assert_eq!(
        rows[1].expirydate.as_deref(),
        Some("0000-00-00"),
        "zero dates come back as text"
    );
    assert_eq!(rows[1].donotrenew.as_deref(), Some("1"));
    assert_eq!(rows[0].status.as_deref(), Some("Active"));
    assert_eq!(
        store.system_email_admins().await.unwrap(),
        vec![("Alice Admin".to_string(), "alice@example.net".to_string())]
    );
    db.finish().await;
}

async fn applies_changes_clears_reminders_and_logs_each_change(db: TestDb) {
    let store = Whmcs::connect(&db.url).await.unwrap();
    let rows = store.openprovider_rows().await.unwrap();
    let response = decide(&rows, op_domains());
    for (row, result) in rows.iter().zip(&response.results) {
        assert_eq!(
            store
                .apply(row, result, "2026-11-28 03:00:00")
                .await
                .unwrap(),
            Applied::Written
        );
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
    let rows = store.openprovider_rows().await.unwrap();
    let response = decide(&rows, op_domains());
    // An admin moves the due date by hand between the read and the write.
    sqlx::query("UPDATE tbldomains SET nextduedate = '2026-06-01' WHERE id = 12")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(
        store
            .apply(&rows[0], &response.results[0], "now")
            .await
            .unwrap(),
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
    let ids = |rows: Vec<DomainRow>| rows.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(store.next_batch(1).await.unwrap()), vec![12]);
    store
        .mark_synced(&[12], "2026-11-28 01:00:00")
        .await
        .unwrap();
    assert_eq!(
        ids(store.next_batch(1).await.unwrap()),
        vec![13],
        "never synced comes first"
    );
    store
        .mark_synced(&[13], "2026-11-28 02:00:00")
        .await
        .unwrap();
    assert_eq!(
        ids(store.next_batch(5).await.unwrap()),
        vec![12, 13],
        "then the oldest"
    );
    store
        .mark_synced(&[12], "2026-11-28 03:00:00")
        .await
        .unwrap();
    assert_eq!(ids(store.next_batch(1).await.unwrap()), vec![13]);
    db.finish().await;
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

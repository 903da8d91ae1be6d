//! Hostile input through the whole flow (`RELIABILITY.md`): WHMCS rows and Openprovider
//! records with quotes, backslashes, markup, NUL and control characters, 10,000-character
//! names, invalid UTF-8, impossible dates, a negative id, an id past 2^53, empty names and
//! fifty rows of one name. Every row syncs correctly, ends as a notice, or (an id the
//! engine cannot take) is left out and reported; the report stays well-formed and
//! escaped; nothing opsync does not own changes in the database.

mod common;

use common::{text, World, ADMIN};
use serde_json::{json, Value};

const SAFETY: &str = "[safety]\nmass_change_percent = 100\n";

fn record(id: u64, name: &str, extension: &str, expiration: &str) -> Value {
    json!({"id": id, "domain": {"name": name, "extension": extension}, "status": "ACT",
        "expiration_date": expiration, "renewal_date": expiration, "autorenew": "default",
        "is_private_whois_enabled": false, "is_private_whois_allowed": true,
        "is_deleted": false})
}

/// Every column of `tbldomains` opsync does not own, for every row; and the other tables.
const UNOWNED: &str = "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, userid, orderid, type, \
    registrationdate, HEX(domain), firstpaymentamount, recurringamount, HEX(registrar), \
    registrationperiod, HEX(subscriptionid), promoid, HEX(additionalnotes), \
    HEX(paymentmethod), dnsmanagement, emailforwarding, idprotection, IFNULL(is_premium, 'N'), \
    donotrenew, synced) ORDER BY id SEPARATOR '\\n')) FROM tbldomains";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rows_and_records_sync_or_end_as_notices_and_nothing_else_changes() {
    let long = "x".repeat(10_000);
    let domains = vec![
        record(1, "it's\"quoted\"", "com", "2027-01-01 00:00:00"),
        record(2, "<script>alert(1)</script>", "com", "2027-01-01 00:00:00"),
        record(3, "same", "com", "2027-05-05 00:00:00"),
        record(4, "good", "com", "2027-03-01 00:00:00"),
        record(5, "baddate", "com", "2026-02-30 00:00:00"),
        record(6, &long, "com", "2027-01-01 00:00:00"),
        record(7, "nul\0name", "com", "2027-01-01 00:00:00"),
        record(8, "ctl\u{1}\u{1b}[31m", "com", "2027-01-01 00:00:00"),
    ];
    let rows: Vec<String> = ADMIN.iter().map(|s| s.to_string()).collect();
    let world = World::new("hostile", &rows, domains, SAFETY).await;
    let mut conn = world.connect().await;
    // A schema someone changed by hand: ids may be negative, or beyond what JSON carries
    // exactly (2^53).
    sqlx::query("ALTER TABLE tbldomains MODIFY id bigint NOT NULL AUTO_INCREMENT")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut names: Vec<(i64, String)> = vec![
        (1, "it's\"quoted\".com".into()),
        (2, "back\\slash.com".into()),
        (3, "<script>alert(1)</script>.com".into()),
        (4, "nul\0byte.com".into()),
        (5, "ctl\u{1}\u{1f}\u{7f}.com".into()),
        (6, format!("{long}.com")),
        (7, String::new()),
        (8, "baddate.com".into()),
        (9, "good.com".into()),
        (-5, "negative.com".into()),
        (9_007_199_254_740_993, "overflow.com".into()),
    ];
    names.extend((100..150).map(|id| (id, "same.com".to_string())));
    for (id, domain) in &names {
        sqlx::query(
            "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, \
             nextduedate, nextinvoicedate, donotrenew, idprotection, reminders, subscriptionid, \
             additionalnotes, paymentmethod) VALUES (?, 1, ?, 'openprovider', 'Active', \
             '2026-01-01', '2026-01-01', '2026-01-01', 0, 0, '', 'sub''\"\\\\', ?, 'paypal')",
        )
        .bind(*id)
        .bind(domain.clone())
        .bind(format!("<b>notes</b> for {id}"))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    // Bytes that are no UTF-8, as a lax server stores them in a text column.
    sqlx::query("SET SESSION sql_mode = ''")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, nextduedate, \
         nextinvoicedate, reminders, subscriptionid, additionalnotes, paymentmethod) VALUES \
         (10, 1, CONCAT('bad', _binary X'C328FF', '.com'), 'openprovider', 'Active', \
         '2026-01-01', '2026-01-01', '2026-01-01', '', '', '', '')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let unowned_before = world.texts(UNOWNED).await;
    let others_before = world
        .texts("CHECKSUM TABLE tbladmins, tbladminroles, tblconfiguration, tbladdonmodules")
        .await;

    let out = world.opsync(&["sync", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        outcome["summary"]["rows"],
        json!(60),
        "every readable row decided"
    );

    // The rows that can sync, synced; the rest ended as notices, untouched.
    let expiry = |id: i64| {
        let w = &world;
        async move {
            w.texts(&format!(
                "SELECT CAST(expirydate AS CHAR) FROM tbldomains WHERE id = {id}"
            ))
            .await
            .remove(0)
        }
    };
    assert_eq!(expiry(9).await, "2027-03-01", "good.com synced");
    assert_eq!(
        expiry(149).await,
        "2027-05-05",
        "same.com: the highest id is kept in sync"
    );
    for id in [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        10,
        -5,
        9_007_199_254_740_993,
        100,
        148,
    ] {
        assert_eq!(expiry(id).await, "2026-01-01", "row {id} untouched");
    }
    assert_eq!(
        world.texts(UNOWNED).await,
        unowned_before,
        "unowned columns unchanged"
    );
    assert_eq!(
        world
            .texts("CHECKSUM TABLE tbladmins, tbladminroles, tblconfiguration, tbladdonmodules")
            .await,
        others_before,
        "other tables unchanged"
    );

    // The report: well-formed, escaped, every problem named.
    let mails = world.sink.mails();
    assert_eq!(mails.len(), 1);
    let report = world
        .texts("SELECT CONCAT(report_text, '\\n=====\\n', report_html) FROM opsync_runs")
        .await
        .remove(0);
    let (text_report, html) = report.split_once("\n=====\n").unwrap();
    assert!(!html.contains("<script>"), "markup is escaped");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.com"),
        "{html}"
    );
    for tag in ["table", "tr", "td", "th", "p", "h2", "html", "body"] {
        // `<tag>` or `<tag attributes>`, never a longer tag that starts alike.
        let opened =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        assert_eq!(
            opened,
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}> balanced"
        );
        assert!(opened > 0 || tag == "th", "<{tag}> used");
    }
    for shown in [text_report, html] {
        assert!(!shown.contains('\0'), "no NUL in the report");
        assert!(
            !shown.contains('\u{1b}'),
            "no terminal escape in the report"
        );
    }
    for needle in [
        "invalid_record",
        "duplicate_domain",
        "invalid_date",
        "negative.com",
        "overflow.com",
        "good.com",
    ] {
        assert!(text_report.contains(needle), "{needle} in {text_report}");
    }
    // A second run changes nothing more.
    let again = world.opsync(&["sync", "--json"]).await;
    let outcome: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        outcome["summary"]["changed_rows"],
        json!(0),
        "{}",
        text(&again)
    );
    world.finish().await;
}

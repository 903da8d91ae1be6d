//! The typed request a Rust host builds (`opsync_engine::contract`): rows from the columns
//! as the host read them, and the JSON every face of the engine reads.

use std::collections::BTreeMap;

use opsync_engine::columns::WHMCS_COLUMNS;
use opsync_engine::contract::{OpenproviderSnapshot, Request, WhmcsRow};
use opsync_engine::{decide_json, Policy, Response};
use serde_json::json;

/// A row from `columns` (name -> text), as a host's reader hands them over.
fn row(columns: &[(&str, &str)]) -> Result<WhmcsRow, String> {
    let columns: BTreeMap<&str, &str> = columns.iter().copied().collect();
    WhmcsRow::from_columns(|name| columns.get(name).map(|v| v.to_string()))
}

#[test]
fn a_row_takes_each_column_by_its_name() {
    let read = row(&[
        ("id", "12"),
        ("domain", "Example.COM"),
        ("status", "Active"),
        ("expirydate", "2026-05-19"),
        ("nextduedate", "0000-00-00"),
        ("nextinvoicedate", "2026-05-09"),
        ("donotrenew", "0"),
        ("idprotection", "1"),
    ])
    .unwrap();
    assert_eq!(
        read,
        WhmcsRow {
            id: 12,
            domain: "Example.COM".into(),
            status: Some("Active".into()),
            expirydate: Some("2026-05-19".into()),
            nextduedate: Some("0000-00-00".into()),
            nextinvoicedate: Some("2026-05-09".into()),
            donotrenew: Some("0".into()),
            idprotection: Some("1".into()),
        }
    );
    assert_eq!(
        WHMCS_COLUMNS.len(),
        8,
        "every column above is one the engine reads"
    );
    let nulls = row(&[("id", "1"), ("domain", "a.com")]).unwrap();
    assert_eq!(
        (nulls.status, nulls.expirydate),
        (None, None),
        "NULL stays None"
    );
}

#[test]
fn a_row_whose_id_is_no_positive_number_is_refused_naming_it() {
    for id in ["0", "-3", "abc", ""] {
        assert_eq!(
            row(&[("id", id), ("domain", "a.com")]),
            Err(format!(
                "tbldomains has a row whose id {id:?} is not a number"
            )),
        );
    }
    assert_eq!(row(&[("id", "1"), ("domain", "a.com")]).unwrap().id, 1);
}

#[test]
fn the_request_a_host_builds_is_the_contracts_request() {
    let request = Request {
        policy: Policy {
            due_date_offset_days: 10,
            ..Policy::default()
        },
        whmcs: vec![row(&[
            ("id", "12"),
            ("domain", "example.com"),
            ("status", "Active"),
            ("expirydate", "2026-05-19"),
            ("nextduedate", "2026-05-09"),
            ("nextinvoicedate", "2026-05-09"),
            ("donotrenew", "0"),
            ("idprotection", "1"),
        ])
        .unwrap()],
        openprovider: OpenproviderSnapshot {
            complete: true,
            domains: vec![json!({
                "id": 7, "domain": {"name": "example", "extension": "com"}, "status": "ACT",
                "expiration_date": "2026-05-20 00:00:00", "autorenew": "on",
                "is_private_whois_enabled": false
            })],
        },
        lookup_errors: Vec::new(),
        whmcs_other: None,
        confirmed_transferred_away: Vec::new(),
    };
    let bytes = request.to_json();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(value["whmcs"][0]["id"], json!(12));
    assert_eq!(value["whmcs"][0]["nextduedate"], json!("2026-05-09"));
    assert_eq!(value["policy"]["due_date_offset_days"], json!(10));
    assert_eq!(value["openprovider"]["complete"], json!(true));
    assert!(
        value.get("lookup_errors").is_none(),
        "no look-ups, no field"
    );
    let back: Request = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(back, request);

    // The engine answers it as it answers the contract's own example.
    let answer: Response = serde_json::from_slice(&decide_json(&bytes).unwrap()).unwrap();
    let r = &answer.results[0];
    assert_eq!((r.whmcs_id, r.openprovider_id), (12, Some(7)));
    let due = r.whmcs_changes.nextduedate.as_ref().unwrap();
    assert_eq!(
        (due.from.as_deref(), due.to.as_str()),
        (Some("2026-05-09"), "2026-05-10")
    );
    let renew = r.openprovider_changes.autorenew.as_ref().unwrap();
    assert_eq!(renew.to, "default");
}

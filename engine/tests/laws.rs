//! The laws of CONTRACT.md, stated as properties over generated requests.
//!
//! Requests are drawn from small pools (a handful of names, statuses and dates) so that
//! pairs, duplicates, protected rows and drift all happen often.

use opsync_engine::{decide_json, Response};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

const NAMES: &[&str] = &[
    "alpha.com",
    "Alpha.COM.",
    "beta.nl",
    "bücher.de",
    "xn--bcher-kva.de",
    "gamma.org",
    "delta.eu",
    "epsilon.net",
    "bad name.com",
];
const WHMCS_STATUSES: &[&str] = &[
    "Pending",
    "Pending Registration",
    "Pending Transfer",
    "Active",
    "Grace",
    "Redemption",
    "Expired",
    "Cancelled",
    "Fraud",
    "Transferred Away",
    "Suspended",
];
const OP_STATUSES: &[&str] = &[
    "ACT", "ACT", "DEL", "PEN", "REQ", "RRQ", "SCH", "FAI", "PRE",
];
const DAYS: &[&str] = &[
    "2026-01-31",
    "2026-03-01",
    "2026-05-20",
    "2026-09-30",
    "2027-02-28",
    "2027-05-19",
    "2028-02-29",
];

fn whmcs_date() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => select(DAYS).prop_map(|d| json!(d)),
        1 => Just(json!("0000-00-00")),
        1 => Just(json!("")),
        1 => Just(Value::Null),
        1 => Just(json!("31/12/2026")),
    ]
}

fn op_date() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => select(DAYS).prop_map(|d| Some(json!(format!("{d} 00:00:00")))),
        2 => select(DAYS).prop_map(|d| Some(json!(format!("{d} 9:30:00")))),
        1 => select(DAYS).prop_map(|d| Some(json!(d))),
        1 => Just(Some(json!("0000-00-00 00:00:00"))),
        1 => Just(Some(json!(""))),
        1 => Just(Some(json!("2027-02-30 00:00:00"))),
        1 => Just(None),
    ]
}

fn flag() -> impl Strategy<Value = Option<Value>> {
    select(vec![
        Some(json!(0)),
        Some(json!(1)),
        Some(json!("0")),
        Some(json!("1")),
        Some(json!("")),
        Some(json!(true)),
        Some(json!(false)),
        Some(Value::Null),
        None,
    ])
}

fn whmcs_row() -> impl Strategy<Value = Value> {
    (
        select(NAMES),
        select(WHMCS_STATUSES),
        whmcs_date(),
        whmcs_date(),
        whmcs_date(),
        flag(),
        flag(),
    )
        .prop_map(|(name, status, exp, due, inv, dnr, idp)| {
            let mut row = Map::new();
            row.insert("domain".into(), json!(name));
            row.insert("status".into(), json!(status));
            row.insert("expirydate".into(), exp);
            row.insert("nextduedate".into(), due);
            row.insert("nextinvoicedate".into(), inv);
            if let Some(v) = dnr {
                row.insert("donotrenew".into(), v);
            }
            if let Some(v) = idp {
                row.insert("idprotection".into(), v);
            }
            Value::Object(row)
        })
}

fn op_domain() -> impl Strategy<Value = Value> {
    (
        select(NAMES),
        select(OP_STATUSES),
        op_date(),
        op_date(),
        select(vec![Some("on"), Some("off"), Some("default"), None]),
        select(vec![Some(true), Some(false), None]),
        select(vec![Some(true), Some(false), None]),
    )
        .prop_map(|(name, status, exp, ren, autorenew, enabled, allowed)| {
            let name = name.trim().trim_end_matches('.');
            let (label, ext) = name.split_once('.').unwrap();
            let mut d = Map::new();
            d.insert("domain".into(), json!({"name": label, "extension": ext}));
            d.insert("status".into(), json!(status));
            if let Some(v) = exp {
                d.insert("expiration_date".into(), v);
            }
            if let Some(v) = ren {
                d.insert("renewal_date".into(), v);
            }
            if let Some(v) = autorenew {
                d.insert("autorenew".into(), json!(v));
            }
            if let Some(v) = enabled {
                d.insert("is_private_whois_enabled".into(), json!(v));
            }
            if let Some(v) = allowed {
                d.insert("is_private_whois_allowed".into(), json!(v));
            }
            Value::Object(d)
        })
}

fn policy() -> impl Strategy<Value = Value> {
    (
        any::<[bool; 5]>(),
        prop_oneof![Just("expiration_date"), Just("renewal_date")],
        0i64..40,
        prop_oneof![Just(Value::Null), (0i64..400).prop_map(|n| json!(n))],
        proptest::sample::subsequence(WHMCS_STATUSES[..10].to_vec(), 0..4),
    )
        .prop_map(|(on, source, offset, max_shift, protected)| {
            json!({
                "sync_status": on[0], "sync_expiry_date": on[1], "sync_due_date": on[2],
                "sync_auto_renew": on[3], "sync_whois_privacy": on[4],
                "expiry_source": source, "due_date_offset_days": offset,
                "due_date_max_shift_days": max_shift, "protected_statuses": protected,
            })
        })
}

fn request() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just(Value::Null), policy()],
        proptest::collection::vec(whmcs_row(), 0..12),
        proptest::collection::vec(op_domain(), 0..10),
        any::<bool>(),
        proptest::collection::vec(
            (select(NAMES), prop_oneof![Just("not_found"), Just("error")]),
            0..3,
        ),
    )
        .prop_map(|(policy, mut rows, mut domains, complete, lookups)| {
            for (i, row) in rows.iter_mut().enumerate() {
                row["id"] = json!(i as u64 * 7 + 3);
            }
            for (i, d) in domains.iter_mut().enumerate() {
                d["id"] = json!(i as u64 * 5 + 100);
            }
            let lookups: Vec<Value> = lookups
                .into_iter()
                .map(|(d, k)| json!({"domain": d, "kind": k, "message": "x"}))
                .collect();
            let mut req = json!({
                "whmcs": rows,
                "openprovider": {"complete": complete, "domains": domains},
                "lookup_errors": lookups,
            });
            if !policy.is_null() {
                req["policy"] = policy;
            }
            req
        })
}

fn decide(request: &Value) -> Response {
    let bytes = decide_json(&serde_json::to_vec(request).unwrap()).expect("a valid request");
    serde_json::from_slice(&bytes).unwrap()
}

/// Writes a response's changes into its request, as the hosts would.
fn apply(request: &Value, response: &Response) -> Value {
    let mut next = request.clone();
    for (i, r) in response.results.iter().enumerate() {
        let row = &mut next["whmcs"][i];
        let w = &r.whmcs_changes;
        for (field, change) in [
            ("status", &w.status),
            ("expirydate", &w.expirydate),
            ("nextduedate", &w.nextduedate),
            ("nextinvoicedate", &w.nextinvoicedate),
        ] {
            if let Some(c) = change {
                row[field] = json!(c.to);
            }
        }
        if r.openprovider_changes.is_empty() {
            continue;
        }
        let id = r.openprovider_id.expect("changes only for paired rows");
        for d in next["openprovider"]["domains"].as_array_mut().unwrap() {
            if d["id"] == json!(id) {
                if let Some(c) = &r.openprovider_changes.autorenew {
                    d["autorenew"] = json!(c.to);
                }
                if let Some(c) = &r.openprovider_changes.is_private_whois_enabled {
                    d["is_private_whois_enabled"] = json!(c.to);
                }
            }
        }
    }
    next
}

fn protected_statuses(request: &Value) -> Vec<String> {
    match request["policy"]["protected_statuses"].as_array() {
        Some(list) => list
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
        None => vec!["Fraud".into(), "Cancelled".into()],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Law 1: apply a response's changes to its request and decide again: no changes.
    #[test]
    fn law1_idempotent(req in request()) {
        let first = decide(&req);
        let second = decide(&apply(&req, &first));
        for r in &second.results {
            prop_assert!(!r.is_changed(), "second run still changes {r:?}");
        }
        prop_assert_eq!(second.summary.changed_rows, 0);
    }

    /// Law 2: each side leads only its own fields (checked on the JSON, not the types).
    #[test]
    fn law2_each_side_leads_its_own_fields(req in request()) {
        let bytes = decide_json(&serde_json::to_vec(&req).unwrap()).unwrap();
        let response: Value = serde_json::from_slice(&bytes).unwrap();
        for r in response["results"].as_array().unwrap() {
            for key in r["whmcs_changes"].as_object().unwrap().keys() {
                prop_assert!(["status", "expirydate", "nextduedate", "nextinvoicedate"].contains(&key.as_str()));
            }
            for key in r["openprovider_changes"].as_object().unwrap().keys() {
                prop_assert!(["autorenew", "is_private_whois_enabled"].contains(&key.as_str()));
            }
        }
    }

    /// Law 3: never an unknown date, a status outside WHMCS's ten, or autorenew "on"; and
    /// a new expiry is exactly the calendar day Openprovider wrote.
    #[test]
    fn law3_writes_only_known_values(req in request()) {
        let response = decide(&req);
        let source = req["policy"]["expiry_source"].as_str().unwrap_or("expiration_date");
        for r in &response.results {
            let w = &r.whmcs_changes;
            for c in [&w.expirydate, &w.nextduedate, &w.nextinvoicedate].into_iter().flatten() {
                prop_assert!(opsync_engine::dates::parse_day(&c.to).is_some(), "wrote {:?}", c.to);
            }
            if let Some(c) = &w.status {
                prop_assert!(WHMCS_STATUSES[..10].contains(&c.to.as_str()));
            }
            if let Some(c) = &r.openprovider_changes.autorenew {
                prop_assert!(c.to == "default" || c.to == "off");
            }
            if let Some(c) = &w.expirydate {
                let op = req["openprovider"]["domains"].as_array().unwrap().iter()
                    .find(|d| d["id"] == json!(r.openprovider_id.unwrap())).unwrap();
                prop_assert!(op[source].as_str().unwrap().starts_with(&c.to));
            }
        }
    }

    /// Law 4: protected rows and rows without an Openprovider record never change.
    #[test]
    fn law4_protected_and_unpaired_rows_never_change(req in request()) {
        let response = decide(&req);
        let protected = protected_statuses(&req);
        for (i, r) in response.results.iter().enumerate() {
            let status = req["whmcs"][i]["status"].as_str().unwrap().to_string();
            if protected.contains(&status) || r.openprovider_id.is_none() {
                prop_assert!(!r.is_changed(), "row {i} changed: {r:?}");
            }
        }
    }

    /// Reordering `openprovider.domains` changes nothing, to the byte.
    #[test]
    fn openprovider_order_does_not_matter(req in request(), seed in any::<u64>()) {
        let mut shuffled = req.clone();
        let domains = shuffled["openprovider"]["domains"].as_array_mut().unwrap();
        // A deterministic shuffle from the seed (reverse plus rotation).
        domains.reverse();
        if !domains.is_empty() {
            let k = (seed as usize) % domains.len();
            domains.rotate_left(k);
        }
        let a = decide_json(&serde_json::to_vec(&req).unwrap()).unwrap();
        let b = decide_json(&serde_json::to_vec(&shuffled).unwrap()).unwrap();
        prop_assert_eq!(a, b);
    }

    /// Deterministic: the same request gives the same bytes.
    #[test]
    fn same_request_same_bytes(req in request()) {
        let bytes = serde_json::to_vec(&req).unwrap();
        prop_assert_eq!(decide_json(&bytes).unwrap(), decide_json(&bytes).unwrap());
    }

    /// Law 5: arbitrary bytes give an answer or a clean error, never a panic.
    #[test]
    fn law5_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decide_json(&bytes);
        let _ = opsync_engine::render_report_json(&bytes);
    }

    /// Law 5: arbitrary JSON values, in any place, give an answer or a clean error.
    #[test]
    fn law5_arbitrary_json_never_panics(req in request(), junk in arb_json(), at in 0usize..6, field in 0usize..6) {
        let mut broken = req.clone();
        match at {
            0 => broken = junk.clone(),
            1 => broken["policy"] = junk.clone(),
            2 => broken["openprovider"]["domains"] = junk.clone(),
            3 => if let Some(row) = broken["whmcs"].as_array_mut().and_then(|a| a.first_mut()) {
                row[["id", "domain", "status", "expirydate", "donotrenew", "idprotection"][field]] = junk.clone();
            },
            4 => if let Some(d) = broken["openprovider"]["domains"].as_array_mut().and_then(|a| a.first_mut()) {
                d[["id", "domain", "status", "expiration_date", "autorenew", "is_private_whois_enabled"][field]] = junk.clone();
            },
            _ => broken["lookup_errors"] = junk.clone(),
        }
        match decide_json(&serde_json::to_vec(&broken).unwrap()) {
            Ok(bytes) => { serde_json::from_slice::<Response>(&bytes).unwrap(); }
            Err(e) => prop_assert!(!e.to_string().contains('\n')),
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        select(vec![
            "ACT",
            "Active",
            "0000-00-00",
            "2027-01-01 0:00:00",
            "1",
            "",
            "x.com"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

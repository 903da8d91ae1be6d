//! The laws of CONTRACT.md, stated as properties over generated requests.
//!
//! Requests come from `opsync_engine::arbitrary`: small pools of names, statuses and dates,
//! so that pairs, duplicates, protected rows and drift all happen often.

use opsync_engine::arbitrary::{arb_json, request, WHMCS_STATUSES};
use opsync_engine::{decide_json, Response};
use proptest::prelude::*;
use serde_json::{json, Value};

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

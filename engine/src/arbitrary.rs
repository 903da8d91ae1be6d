//! Proptest strategies for requests (feature `arbitrary`): shared by the engine's law
//! tests and by the hosts' tests that compare faces on random requests.
//!
//! Requests are drawn from small pools (a handful of names, statuses and dates) so that
//! pairs, duplicates, protected rows and drift all happen often.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

pub const NAMES: &[&str] = &[
    "alpha.com",
    "Alpha.COM.",
    "beta.nl",
    "bücher.de",
    "xn--bcher-kva.de",
    "gamma.org",
    "delta.eu",
    "epsilon.net",
    "bad name.com",
    "  gamma.org  ",
];
pub const WHMCS_STATUSES: &[&str] = &[
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
pub const OP_STATUSES: &[&str] = &[
    "ACT", "ACT", "DEL", "PEN", "REQ", "RRQ", "SCH", "FAI", "PRE",
];
pub const DAYS: &[&str] = &[
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
        1 => Just(json!("2026-02-30")),
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
    prop_oneof![
        12 => select(vec![
            Some(json!(0)),
            Some(json!(1)),
            Some(json!("0")),
            Some(json!("1")),
            Some(json!("")),
            Some(json!(true)),
            Some(json!(false)),
            Some(Value::Null),
            None,
        ]),
        // No flag at all: the row cannot be judged (`invalid_record`).
        1 => select(vec![Some(json!("yes")), Some(json!(2))]),
    ]
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
        select(vec![None, None, Some(false), Some(true)]),
    )
        .prop_map(
            |(name, status, exp, ren, autorenew, enabled, allowed, deleted)| {
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
                if let Some(v) = deleted {
                    d.insert("is_deleted".into(), json!(v));
                }
                Value::Object(d)
            },
        )
}

pub fn policy() -> impl Strategy<Value = Value> {
    (
        any::<[bool; 5]>(),
        prop_oneof![Just("expiration_date"), Just("renewal_date")],
        -20i64..40,
        prop_oneof![Just(Value::Null), (0i64..400).prop_map(|n| json!(n))],
        proptest::sample::subsequence(WHMCS_STATUSES[..10].to_vec(), 0..4),
        prop_oneof![
            Just(Value::Null),
            (0u32..=100, 0u64..5).prop_map(|(p, m)| json!({"percent": p, "min_rows": m})),
        ],
    )
        .prop_map(|(on, source, offset, max_shift, protected, brake)| {
            json!({
                "sync_status": on[0], "sync_expiry_date": on[1], "sync_due_date": on[2],
                "sync_auto_renew": on[3], "sync_whois_privacy": on[4],
                "expiry_source": source, "due_date_offset_days": offset,
                "due_date_max_shift_days": max_shift, "protected_statuses": protected,
                "mass_change_limit": brake,
            })
        })
}

/// A policy with only some of its fields: the rest take their defaults.
fn partial_policy() -> impl Strategy<Value = Value> {
    (policy(), any::<[bool; 10]>()).prop_map(|(policy, keep)| {
        let mut fields = policy.as_object().cloned().unwrap_or_default();
        let keys: Vec<String> = fields.keys().cloned().collect();
        for (key, keep) in keys.iter().zip(keep) {
            if !keep {
                fields.remove(key);
            }
        }
        Value::Object(fields)
    })
}

/// A request with the given policy in place of a generated one.
pub fn request_with_policy(policy: Value) -> impl Strategy<Value = Value> {
    request().prop_map(move |mut req| {
        req["policy"] = policy.clone();
        req
    })
}

pub fn request() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            1 => Just(Value::Null),
            2 => policy(),
            2 => partial_policy(),
        ],
        proptest::collection::vec(whmcs_row(), 0..12),
        proptest::collection::vec(op_domain(), 0..10),
        any::<bool>(),
        proptest::collection::vec(
            (select(NAMES), prop_oneof![Just("not_found"), Just("error")]),
            0..3,
        ),
        // The rows' ids: in list order, reversed, or shuffled, so that "the highest id"
        // and "the last row" are not the same thing; some as the numeric strings PDO
        // hands over.
        (0u8..3, any::<u64>(), any::<[bool; 12]>()),
        // A due-date move exactly at the guard's limit, one day over it (two in five
        // each), or left to chance (which almost never lands on either).
        0u8..5,
    )
        .prop_map(
            |(policy, mut rows, mut domains, complete, lookups, (order, seed, as_text), limit)| {
                let n = rows.len() as u64;
                let mut ids: Vec<u64> = (0..n).map(|i| i * 7 + 3).collect();
                match order {
                    0 => {}
                    1 => ids.reverse(),
                    _ => {
                        // A seeded Fisher-Yates shuffle, deterministic per case.
                        let mut state = seed | 1;
                        for i in (1..ids.len()).rev() {
                            state ^= state << 13;
                            state ^= state >> 7;
                            state ^= state << 17;
                            ids.swap(i, (state % (i as u64 + 1)) as usize);
                        }
                    }
                }
                for (i, row) in rows.iter_mut().enumerate() {
                    row["id"] = if as_text[i % 12] {
                        json!(ids[i].to_string())
                    } else {
                        json!(ids[i])
                    };
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
                match limit {
                    0 | 1 => put_a_due_date_move_at_the_limit(&mut req, 0),
                    2 | 3 => put_a_due_date_move_at_the_limit(&mut req, 1),
                    _ => {}
                }
                req
            },
        )
}

/// A request's protected statuses as its policy gives them, the contract's default
/// (Fraud, Cancelled) when it gives none.
/// The laws' own reading of the due-date rule's arithmetic: `expiry` minus `offset` days
/// (a negative offset: after the expiry); `None` off the calendar.
pub(crate) fn minus_days(expiry: chrono::NaiveDate, offset: i64) -> Option<chrono::NaiveDate> {
    let days = chrono::Days::new(offset.unsigned_abs());
    if offset < 0 {
        expiry.checked_add_days(days)
    } else {
        expiry.checked_sub_days(days)
    }
}

pub(crate) fn protected_statuses(request: &Value) -> Vec<String> {
    match request["policy"]["protected_statuses"].as_array() {
        Some(list) => list
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        None => vec!["Fraud".into(), "Cancelled".into()],
    }
}

/// Sets the due-date guard so that the first row with a due date and a record of its name
/// would move its due date by exactly the limit (`over` 0) or one day more (`over` 1), and
/// turns the due-date rule on. A bias of the generator, not a rule: whether the move
/// happens is the engine's to say, and the generator's coverage test counts how often.
fn put_a_due_date_move_at_the_limit(req: &mut Value, over: i64) {
    let policy = req.get("policy").cloned().unwrap_or_else(|| json!({}));
    let source = policy["expiry_source"]
        .as_str()
        .unwrap_or("expiration_date")
        .to_string();
    let from_openprovider = policy["sync_expiry_date"].as_bool().unwrap_or(true);
    let offset = policy["due_date_offset_days"].as_i64().unwrap_or(0);
    let protected = protected_statuses(req);
    let day = |v: &Value| v.as_str().and_then(|t| crate::parse_day(t.get(..10)?));
    let name_of = |d: &Value| {
        crate::lookup_name(&format!(
            "{}.{}",
            d["domain"]["name"].as_str()?,
            d["domain"]["extension"].as_str()?
        ))
    };
    let domains = req["openprovider"]["domains"].as_array();
    let shift = req["whmcs"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|row| {
            let status = row["status"].as_str()?;
            if protected.iter().any(|p| p == status) || !WHMCS_STATUSES[..10].contains(&status) {
                return None;
            }
            let no_flag = |v: &Value| *v == json!("yes") || *v == json!(2);
            if no_flag(&row["donotrenew"]) || no_flag(&row["idprotection"]) {
                return None;
            }
            let due = day(&row["nextduedate"])?;
            let name = row["domain"].as_str().and_then(crate::lookup_name)?;
            let record = domains?
                .iter()
                .find(|d| name_of(d).as_deref() == Some(name.as_str()))?;
            let expiry = if from_openprovider {
                day(&record[source.as_str()])
            } else {
                day(&row["expirydate"])
            }?;
            let target = minus_days(expiry, offset)?;
            let shift = (target - due).num_days().abs() - over;
            (shift >= 0).then_some(shift)
        });
    if let Some(shift) = shift {
        if !req["policy"].is_object() {
            req["policy"] = json!({});
        }
        req["policy"]["sync_due_date"] = json!(true);
        req["policy"]["due_date_max_shift_days"] = json!(shift);
    }
}

/// Any JSON value, biased towards the strings the engine looks at.
pub fn arb_json() -> impl Strategy<Value = Value> {
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

/// Names only rows under other registrars and the listing have (v1.4's book).
const OTHER_ONLY: &[&str] = &["elsewhere.com", "Elsewhere.COM", "unbilled.net"];

/// A v1.4 request: a generated request (with `policy`, or a generated one) and the
/// whole book around it: rows under other registrars (absent one time in four, a v1.3
/// request), confirmed transfers away of some of its rows (and an id it does not have),
/// and, without a given policy, exclusions and per-extension fields.
pub fn book_request(policy: Option<Value>) -> impl Strategy<Value = Value> {
    let base = match policy.clone() {
        Some(p) => request_with_policy(p).boxed(),
        None => request().boxed(),
    };
    let other_row = (
        select([NAMES, OTHER_ONLY].concat()),
        select(vec!["enom", "", "resellerclub"]),
        select(WHMCS_STATUSES),
    );
    (
        base,
        prop_oneof![
            1 => Just(None),
            3 => proptest::collection::vec(other_row, 0..6).prop_map(Some),
        ],
        any::<[bool; 12]>(),
        proptest::sample::subsequence(NAMES.to_vec(), 0..3),
        proptest::sample::subsequence(vec!["com", "nl", "de", "org", ".EU"], 0..2),
        select(vec![
            Value::Null,
            json!({"eu": {"sync_status": false}, "org": {"due_date_offset_days": 3}}),
            json!({"com": {"expiry_source": "renewal_date", "sync_auto_renew": false}}),
        ]),
        0u8..4,
    )
        .prop_map(
            move |(mut req, other, confirm, names, extensions, by_extension, mix)| {
                if let Some(other) = other {
                    // Listing records of the other-only names, so that the book has
                    // something to find.
                    let list: Vec<Value> = other
                        .into_iter()
                        .enumerate()
                        .map(|(i, (domain, registrar, status))| {
                            json!({"id": 50_000 + i as u64, "domain": domain,
                                   "registrar": registrar, "status": status})
                        })
                        .collect();
                    req["whmcs_other"] = Value::Array(list);
                    if let Some(domains) = req["openprovider"]["domains"].as_array_mut() {
                        let next = domains.len() as u64 * 5 + 100;
                        domains.push(json!({"id": next, "domain": {"name": "elsewhere", "extension": "com"},
                                            "status": "ACT", "autorenew": "default"}));
                        domains.push(json!({"id": next + 5, "domain": {"name": "unbilled", "extension": "net"},
                                            "status": "ACT", "autorenew": "off"}));
                    }
                }
                let ids: Vec<Value> = req["whmcs"]
                    .as_array()
                    .map(|rows| {
                        rows.iter()
                            .zip(confirm)
                            .filter(|(_, c)| *c)
                            .map(|(row, _)| row["id"].clone())
                            .collect()
                    })
                    .unwrap_or_default();
                if !ids.is_empty() || mix == 0 {
                    let mut ids = ids;
                    ids.push(json!(999_999));
                    req["confirmed_transferred_away"] = Value::Array(ids);
                }
                if policy.is_none() && mix > 0 {
                    if !req["policy"].is_object() {
                        req["policy"] = json!({});
                    }
                    let usable: Vec<&str> =
                        names.into_iter().filter(|n| !n.contains(' ')).collect();
                    if !usable.is_empty() || !extensions.is_empty() {
                        req["policy"]["exclude"] =
                            json!({"domains": usable, "extensions": extensions});
                    }
                    if !by_extension.is_null() {
                        req["policy"]["by_extension"] = by_extension.clone();
                    }
                }
                req
            },
        )
}

//! How often the request generator (`opsync_engine::arbitrary::request`, the laws' input)
//! reaches each corner a law must see. Prints the share of 2,000 generated requests that
//! hit each corner, and fails when one falls under 5%: a law cannot catch what its
//! input never shows.

use opsync_engine::arbitrary::request;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

const CASES: usize = 2000;

/// A corner: its name and whether a request reaches it.
type Corner = (&'static str, fn(&Value) -> bool);

/// Every corner the laws must see.
fn corners() -> Vec<Corner> {
    fn rows(req: &Value) -> Vec<Value> {
        req["whmcs"].as_array().cloned().unwrap_or_default()
    }
    fn records(req: &Value) -> Vec<Value> {
        req["openprovider"]["domains"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
    fn id(row: &Value) -> Option<u64> {
        match &row["id"] {
            Value::String(s) => s.parse().ok(),
            other => other.as_u64(),
        }
    }
    fn names(list: &[Value], name: impl Fn(&Value) -> String) -> bool {
        let mut seen = std::collections::BTreeSet::new();
        list.iter()
            .filter_map(|v| opsync_engine::lookup_name(&name(v)))
            .any(|n| !seen.insert(n))
    }
    vec![
        ("ids that do not grow with the position", |req| {
            let ids: Vec<u64> = rows(req).iter().filter_map(id).collect();
            ids.windows(2).any(|w| w[0] > w[1])
        }),
        ("an id as a numeric string", |req| {
            rows(req).iter().any(|r| r["id"].is_string())
        }),
        ("a name padded with blanks", |req| {
            rows(req)
                .iter()
                .any(|r| r["domain"].as_str().is_some_and(|d| d != d.trim()))
        }),
        ("a partial policy", |req| {
            req["policy"].as_object().is_some_and(|p| p.len() < 10)
        }),
        ("no policy at all", |req| req.get("policy").is_none()),
        ("an impossible WHMCS date", |req| {
            rows(req).iter().any(|r| {
                ["expirydate", "nextduedate", "nextinvoicedate"]
                    .iter()
                    .any(|c| r[*c] == "2026-02-30")
            })
        }),
        ("a deleted record", |req| {
            records(req).iter().any(|d| d["is_deleted"] == true)
        }),
        ("a mass-change limit", |req| {
            req["policy"]["mass_change_limit"].is_object()
        }),
        ("two WHMCS rows of one name", |req| {
            names(&rows(req), |r| {
                r["domain"].as_str().unwrap_or("").to_string()
            })
        }),
        ("two records of one name", |req| {
            names(&records(req), |d| {
                format!(
                    "{}.{}",
                    d["domain"]["name"].as_str().unwrap_or(""),
                    d["domain"]["extension"].as_str().unwrap_or("")
                )
            })
        }),
        ("an empty flag (\"\", as PDO hands it)", |req| {
            rows(req)
                .iter()
                .any(|r| r["donotrenew"] == "" || r["idprotection"] == "")
        }),
        ("a flag that is no flag (the row cannot be judged)", |req| {
            let bad = |v: &Value| *v == "yes" || *v == 2;
            rows(req)
                .iter()
                .any(|r| bad(&r["donotrenew"]) || bad(&r["idprotection"]))
        }),
        ("a due-date move exactly at the limit (made)", |req| {
            due_date_moves(req)
                .iter()
                .any(|(shift, max, made)| *made && shift == max)
        }),
        ("a due-date move one day over the limit (refused)", |req| {
            due_date_moves(req)
                .iter()
                .any(|(shift, max, made)| !*made && *shift == max + 1)
        }),
        ("a failed look-up", |req| {
            req["lookup_errors"]
                .as_array()
                .is_some_and(|l| !l.is_empty())
        }),
    ]
}

/// The due-date moves the engine's answer makes or refuses: `(days, limit, made)`. The
/// generator aims at the limit; only the answer says whether it got there.
fn due_date_moves(req: &Value) -> Vec<(i64, i64, bool)> {
    let Some(max) = (match req["policy"].get("due_date_max_shift_days") {
        None => Some(100),
        Some(v) => v.as_i64(),
    }) else {
        return Vec::new();
    };
    let answer = opsync_engine::decide_json(&serde_json::to_vec(req).unwrap()).unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    let day = |v: &Value| v.as_str().and_then(opsync_engine::parse_day);
    let mut moves = Vec::new();
    for r in answer["results"].as_array().into_iter().flatten() {
        let change = &r["whmcs_changes"]["nextduedate"];
        if let (Some(from), Some(to)) = (day(&change["from"]), day(&change["to"])) {
            moves.push(((to - from).num_days().abs(), max, true));
        }
        for n in r["notices"].as_array().into_iter().flatten() {
            let text = n["message"].as_str().unwrap_or("");
            if n["code"] == "due_date_shift_too_large" {
                let days = text
                    .split_once("move ")
                    .and_then(|(_, rest)| rest.split_once(' '))
                    .and_then(|(n, _)| n.parse().ok());
                moves.extend(days.map(|d| (d, max, false)));
            }
        }
    }
    moves
}

#[test]
fn the_generator_reaches_every_corner() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = request();
    let corners = corners();
    let mut hits = vec![0usize; corners.len()];
    for _ in 0..CASES {
        let req = strategy.new_tree(&mut runner).unwrap().current();
        for (hit, (_, reaches)) in hits.iter_mut().zip(&corners) {
            *hit += usize::from(reaches(&req));
        }
    }
    let mut thin = Vec::new();
    for ((name, _), hit) in corners.iter().zip(&hits) {
        let share = *hit as f64 * 100.0 / CASES as f64;
        println!("{share:5.1}%  {name}");
        if share < 5.0 {
            thin.push(format!("{name}: {share:.1}%"));
        }
    }
    assert!(thin.is_empty(), "corners the laws rarely see: {thin:?}");
}

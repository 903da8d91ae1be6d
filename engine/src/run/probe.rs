//! `opsync check`'s look at Openprovider, as a run of its own (mode `check`): the login
//! (a cached session or a new one), the listing's first page, whether WHMCS's names are
//! in the account, and with `live_api` the API behaviours a sync relies on (look-ups by
//! repeated `domain_names`, `order_by.id`, `is_deleted=true`, pages that agree), each
//! probed with read-only calls and said in one line, with what to do when it fails.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::api::ApiError;
use super::listing;

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckLine {
    /// What was checked, e.g. `openprovider login`.
    pub name: String,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// For a failed check: what to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl CheckLine {
    pub(crate) fn pass(name: &str, detail: impl Into<String>) -> CheckLine {
        CheckLine {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(crate) fn fail(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> CheckLine {
        CheckLine {
            name: name.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// What to do about an API error, where the host keeps its settings.
pub(crate) fn fix(e: &ApiError, host: &str) -> &'static str {
    match e {
        ApiError::Login if host == "whmcs" => {
            "check the Username and Password of the Openprovider registrar module (Setup > \
             Products/Services > Domain Registrars); Openprovider allows 100 failed logins \
             an hour, and an account with 2FA cannot use the API"
        }
        ApiError::Login => {
            "check openprovider.username and openprovider.password (or OPSYNC_OP_USERNAME / \
             OPSYNC_OP_PASSWORD); Openprovider allows 100 failed logins an hour, and an \
             account with 2FA cannot use the API"
        }
        ApiError::Blocked => {
            "ask Openprovider support to lift the block on this IP address; no opsync run \
             will call the API until then"
        }
        ApiError::Unavailable { .. } => {
            "check the API address, this machine's network and proxy, and Openprovider's \
             status page; opsync retries transient failures"
        }
        ApiError::Business { .. } => {
            "Openprovider refused the call; its code says why (DOMAIN.md lists the codes \
             opsync knows)"
        }
    }
}

const TELL_US: &str = "opsync relies on this; please send us this line (no credentials are in it)";

/// The probes' calls: what each asks Openprovider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Ask {
    FirstPage,
    Sample,
    /// Two names to look up, when the first page failed: a page of two without order.
    Fallback,
    TwoNames,
    Ascending,
    Descending,
    Deleted,
    PageA,
    PageB,
}

/// A page's query as a probe asks for it.
pub(crate) fn page_query(
    limit: usize,
    offset: usize,
    order: Option<&str>,
) -> Vec<(String, String)> {
    let mut query = vec![
        ("limit".to_string(), limit.to_string()),
        ("offset".to_string(), offset.to_string()),
    ];
    if let Some(direction) = order {
        query.push(("order_by.id".to_string(), direction.to_string()));
    }
    query
}

/// The query each live probe sends; `TwoNames` needs the two names.
pub(crate) fn live_query(ask: Ask, names: &[String]) -> Vec<(String, String)> {
    match ask {
        Ask::TwoNames => listing::names_query(names, false),
        Ask::Ascending => page_query(10, 0, Some("asc")),
        Ask::Descending => page_query(10, 0, Some("desc")),
        Ask::Deleted => {
            let mut q = page_query(1, 0, None);
            q.push(("is_deleted".into(), "true".into()));
            q
        }
        Ask::PageA => page_query(2, 0, Some("asc")),
        Ask::PageB => page_query(2, 2, Some("asc")),
        Ask::Fallback => page_query(2, 0, None),
        Ask::FirstPage | Ask::Sample => Vec::new(),
    }
}

fn value(data: &str) -> Value {
    serde_json::from_str(data).unwrap_or(Value::Null)
}

fn ids(data: &Value) -> Vec<u64> {
    data["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|d| d["id"].as_u64()).collect())
        .unwrap_or_default()
}

fn names(data: &Value) -> Vec<String> {
    data["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|d| {
                    format!(
                        "{}.{}",
                        d["domain"]["name"].as_str().unwrap_or(""),
                        d["domain"]["extension"].as_str().unwrap_or("")
                    )
                    .to_lowercase()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The "whmcs rows at openprovider" line: how many of the sample the look-up found.
pub(crate) fn sample_line(
    sample: &[String],
    answer: &Result<String, ApiError>,
    host: &str,
) -> CheckLine {
    const NAME: &str = "whmcs rows at openprovider";
    let data = match answer {
        Ok(data) => value(data),
        Err(e) => return CheckLine::fail(NAME, e.to_string(), fix(e, host)),
    };
    let found = names(&data);
    let there = sample.iter().filter(|n| found.contains(n)).count();
    let missing = sample.len() - there;
    if there == 0 {
        CheckLine::fail(
            NAME,
            format!(
                "none of {} WHMCS domain names looked up is in this account",
                sample.len()
            ),
            "is this the Openprovider account these domains are registered with?",
        )
    } else {
        CheckLine::pass(
            NAME,
            format!(
                "{there} of the first {} WHMCS domain names are in this account{}",
                sample.len(),
                if missing > 0 {
                    format!(" ({missing} not: a sync reports those, never cancels them)")
                } else {
                    String::new()
                }
            ),
        )
    }
}

/// The live probes' lines, from their answers (`two`: the names the look-up probe asked
/// for, from the listing's first page or the fallback page).
pub(crate) fn live_lines(
    two: &[String],
    answer: impl Fn(Ask) -> Option<Result<String, ApiError>>,
) -> Vec<CheckLine> {
    let mut lines = Vec::new();
    const NAMES: &str = "api: look-up by names";
    lines.push(if let Some(Err(e)) = answer(Ask::Fallback) {
        CheckLine::fail(NAMES, e.to_string(), TELL_US)
    } else if two.len() < 2 {
        CheckLine::pass(
            NAMES,
            "not probed: the account holds fewer than two domains",
        )
    } else {
        match answer(Ask::TwoNames) {
            Some(Ok(data)) => {
                let mut got = names(&value(&data));
                got.sort();
                let mut expected = two.to_vec();
                expected.sort();
                if got == expected {
                    CheckLine::pass(
                        NAMES,
                        format!(
                            "domain_names={}&domain_names={} returned exactly those two",
                            two[0], two[1]
                        ),
                    )
                } else {
                    CheckLine::fail(
                        NAMES,
                        format!(
                            "a look-up of {} and {} returned {} domains{}",
                            two[0],
                            two[1],
                            got.len(),
                            if got.len() > 2 {
                                ": the API ignored domain_names"
                            } else {
                                ""
                            }
                        ),
                        format!("{TELL_US}; meanwhile run with --lookup bulk"),
                    )
                }
            }
            Some(Err(e)) => CheckLine::fail(
                NAMES,
                e.to_string(),
                format!("{TELL_US}; meanwhile run with --lookup bulk"),
            ),
            None => CheckLine::fail(NAMES, "not asked", TELL_US),
        }
    });

    const ORDER: &str = "api: order_by.id";
    lines.push(match (answer(Ask::Ascending), answer(Ask::Descending)) {
        (Some(Ok(up)), Some(Ok(down))) => {
            let (up, down) = (ids(&value(&up)), ids(&value(&down)));
            if up.windows(2).all(|w| w[0] < w[1]) && down.windows(2).all(|w| w[0] > w[1]) {
                CheckLine::pass(ORDER, "accepted; asc and desc order the results by id")
            } else {
                CheckLine::fail(
                    ORDER,
                    format!("accepted, but the ids came back as {up:?} (asc) and {down:?} (desc)"),
                    TELL_US,
                )
            }
        }
        (Some(Err(e)), _) | (_, Some(Err(e))) => CheckLine::fail(ORDER, e.to_string(), TELL_US),
        _ => CheckLine::fail(ORDER, "not asked", TELL_US),
    });

    const DELETED: &str = "api: is_deleted=true";
    lines.push(match answer(Ask::Deleted) {
        Some(Ok(data)) => CheckLine::pass(
            DELETED,
            format!(
                "accepted; the account holds {} deleted domains",
                value(&data)["total"].as_u64().unwrap_or(0)
            ),
        ),
        Some(Err(e)) => CheckLine::fail(DELETED, e.to_string(), TELL_US),
        None => CheckLine::fail(DELETED, "not asked", TELL_US),
    });

    const PAGES: &str = "api: pages agree";
    lines.push(match (answer(Ask::PageA), answer(Ask::PageB)) {
        (Some(Ok(a)), Some(Ok(b))) => {
            let (a, b) = (value(&a), value(&b));
            let (total_a, total_b) = (a["total"].as_u64(), b["total"].as_u64());
            let (ids_a, ids_b) = (ids(&a), ids(&b));
            let expected_b = total_a.map_or(0, |t| t.saturating_sub(2).min(2)) as usize;
            let overlap = ids_a.iter().any(|id| ids_b.contains(id));
            let ascending = ids_a
                .iter()
                .chain(&ids_b)
                .collect::<Vec<_>>()
                .windows(2)
                .all(|w| w[0] < w[1]);
            if total_a.is_some()
                && total_a == total_b
                && ids_a.len() == total_a.map_or(0, |t| t.min(2)) as usize
                && ids_b.len() == expected_b
                && !overlap
                && ascending
            {
                CheckLine::pass(
                    PAGES,
                    format!("two pages of 2 agree with total {}", total_a.unwrap_or(0)),
                )
            } else {
                CheckLine::fail(
                    PAGES,
                    format!(
                        "page 1 said total {total_a:?} with ids {ids_a:?}, page 2 total \
                         {total_b:?} with ids {ids_b:?}"
                    ),
                    format!(
                        "{TELL_US}; a run whose pages disagree is marked incomplete and \
                         reports no domain as missing"
                    ),
                )
            }
        }
        (Some(Err(e)), _) | (_, Some(Err(e))) => CheckLine::fail(PAGES, e.to_string(), TELL_US),
        _ => CheckLine::fail(PAGES, "not asked", TELL_US),
    });
    lines
}

/// Two names of the listing's first page, for the look-up probe.
pub(crate) fn two_names(first: &str) -> Vec<String> {
    names(&value(first)).into_iter().take(2).collect()
}

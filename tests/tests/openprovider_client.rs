//! The Openprovider client against the sandbox, through every fault the sandbox can
//! inject: what was retried and how often, what was reported, and what was never said.

use std::time::Duration;

use opsync::openprovider::{ApiError, Client, ClientConfig, Credentials, Secret};
use opsync_engine::contract::{LookupError, LookupKind};
use opsync_testkit::sandbox::{generated_domains, Counters, Faults, Sandbox, Seed};
use serde_json::json;

mod client;

use client::{body, client_for, client_with_timeout, quick_retries, sandbox_with};

fn counters(list: u64, login: u64) -> (u64, u64) {
    (list, login)
}

fn seen(c: &Counters) -> (u64, u64) {
    (c.list, c.login)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_10000_domains_costs_20_list_calls_and_one_login() {
    let sandbox = sandbox_with(10_000).await;
    let client = client_for(&sandbox, None);
    let listing = client.list_all().await.unwrap();
    assert!(listing.complete, "{:?}", listing.problems);
    assert_eq!(listing.domains.len(), 10_000);
    assert_eq!(seen(&sandbox.counters()), counters(20, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shifting_listing_is_marked_incomplete() {
    for inserts in [true, false] {
        let sandbox = sandbox_with(1_200).await;
        sandbox.set_faults(Faults {
            shift_after_list_calls: Some(1),
            shift_inserts: inserts,
            ..Faults::default()
        });
        let listing = client_for(&sandbox, None).list_all().await.unwrap();
        assert!(
            !listing.complete,
            "a listing whose total moved was called complete"
        );
        assert!(
            listing
                .problems
                .iter()
                .any(|p| p.contains("the total moved from 1200")),
            "{:?}",
            listing.problems
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_reused_within_a_run_and_cached_across_runs() {
    let sandbox = sandbox_with(700).await;
    let dir = std::env::temp_dir().join(format!("opsync-token-{}", std::process::id()));
    let cache = dir.join("token.json");
    let _ = std::fs::remove_dir_all(&dir);

    let first = client_for(&sandbox, Some(cache.clone()));
    first.list_all().await.unwrap();
    first.list_all().await.unwrap();
    assert_eq!(sandbox.counters().login, 1, "one login per run");

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the token file is readable by its owner only");

    let second_run = client_for(&sandbox, Some(cache.clone()));
    second_run.list_all().await.unwrap();
    assert_eq!(
        sandbox.counters().login,
        1,
        "the next run reuses the cached token"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_means_one_new_login_and_one_retry() {
    let sandbox = sandbox_with(10).await;
    let client = client_for(&sandbox, None);
    client.list_all().await.unwrap();
    sandbox.set_faults(Faults {
        expire_token_after: Some(1),
        ..Faults::default()
    });
    // The token has made its one call: the next one gets 196, a new login, a retry.
    client.list_all().await.unwrap();
    let c = sandbox.counters();
    assert_eq!((c.login, c.list), (2, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_again_after_a_new_login_is_given_up() {
    let sandbox = sandbox_with(10).await;
    sandbox.set_faults(Faults {
        expire_token_after: Some(0),
        ..Faults::default()
    });
    let client = client_for(&sandbox, None);
    let err = client.list_all().await.unwrap_err();
    assert_eq!(err, ApiError::Login);
    let c = sandbox.counters();
    assert_eq!(
        (c.login, c.list),
        (2, 2),
        "exactly one new login and one retry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_clear_error_without_the_password() {
    let sandbox = sandbox_with(1).await;
    let mut config = ClientConfig::new(Credentials {
        username: sandbox.username().to_string(),
        password: Secret::new("hunter2-wrong"),
    });
    config.base_url = sandbox.base_url();
    config.retry = quick_retries();
    let err = Client::new(config.clone())
        .unwrap()
        .list_all()
        .await
        .unwrap_err();
    assert_eq!(err, ApiError::Login);
    assert!(!err.to_string().contains("hunter2"));
    assert!(
        !format!("{config:?}").contains("hunter2"),
        "Debug shows the password"
    );
    assert_eq!(sandbox.counters().login, 1, "a failed login is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_error_is_never_retried() {
    let sandbox = sandbox_with(5).await;
    let client = client_for(&sandbox, None);
    client.list_all().await.unwrap();
    sandbox.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let err = client
        .update(1, &body(json!({"autorenew": "off"})))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(399));
    assert_eq!(
        sandbox.counters().update,
        1,
        "HTTP 500 with a business code is not retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openproviders_refusals_come_back_by_code() {
    let mut domains = generated_domains(3);
    domains[1]["status"] = json!("PEN");
    domains[2]["is_private_whois_allowed"] = json!(false);
    let sandbox = Sandbox::start(Seed::new(domains), 0).await.unwrap();
    let client = client_for(&sandbox, None);
    let results = client
        .update_many(&[
            (1, &body(json!({"autorenew": "sometimes"}))),
            (2, &body(json!({"autorenew": "off"}))),
            (3, &body(json!({"is_private_whois_enabled": true}))),
            (
                1,
                &body(json!({"autorenew": "off", "is_private_whois_enabled": true})),
            ),
            (99, &body(json!({"autorenew": "off"}))),
        ])
        .await;
    let codes: Vec<Option<i64>> = results
        .iter()
        .map(|r| r.as_ref().err().and_then(ApiError::code))
        .collect();
    assert_eq!(
        codes,
        vec![Some(347), Some(366), Some(19006), None, Some(320)]
    );
    assert_eq!(sandbox.domain(1).unwrap()["autorenew"], json!("off"));
    assert_eq!(
        sandbox.domain(1).unwrap()["is_private_whois_enabled"],
        json!(true)
    );
    assert_eq!(sandbox.counters().update, 5, "no refusal was retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_502_is_retried_until_it_succeeds() {
    let sandbox = sandbox_with(5).await;
    let client = client_for(&sandbox, None);
    client.list_all().await.unwrap();
    sandbox.set_faults(Faults {
        fail_next: 2,
        fail_bare_502: true,
        ..Faults::default()
    });
    client
        .update(2, &body(json!({"autorenew": "off"})))
        .await
        .unwrap();
    assert_eq!(sandbox.counters().update, 3, "two 502s, then the update");
    assert_eq!(
        client
            .stats
            .retries
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_a_bounded_number_of_times() {
    let sandbox = sandbox_with(5).await;
    let client = client_for(&sandbox, None);
    client.list_all().await.unwrap();
    sandbox.set_faults(Faults {
        fail_next: 100,
        fail_bare_502: true,
        ..Faults::default()
    });
    let err = client
        .update(2, &body(json!({"autorenew": "off"})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Unavailable { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("HTTP 502 without an Openprovider answer"),
        "{err}"
    );
    assert_eq!(sandbox.counters().update, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_is_waited_out_within_bounds() {
    let sandbox = sandbox_with(5).await;
    sandbox.set_faults(Faults {
        maintenance: true,
        ..Faults::default()
    });
    let err = client_for(&sandbox, None).list_all().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Unavailable { attempts: 3, ref last } if last.contains("4005")),
        "{err:?}"
    );
    assert_eq!(
        sandbox.counters().login,
        3,
        "the login itself met maintenance three times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_truncated_answers_are_retried() {
    let sandbox = sandbox_with(600).await;
    let client = client_for(&sandbox, None);
    sandbox.set_faults(Faults {
        malformed_next: 1,
        truncated_next: 1,
        ..Faults::default()
    });
    let listing = client.list_all().await.unwrap();
    assert!(listing.complete);
    assert_eq!(listing.domains.len(), 600);
    assert_eq!(
        client
            .stats
            .retries
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_hangs_times_out_and_is_retried() {
    let sandbox = sandbox_with(5).await;
    let client = client_with_timeout(&sandbox, None, Duration::from_secs(1));
    client.list_all().await.unwrap();
    sandbox.set_faults(Faults {
        hang_next: 1,
        hang_ms: 6_000,
        ..Faults::default()
    });
    client
        .update(1, &body(json!({"autorenew": "off"})))
        .await
        .unwrap();
    assert_eq!(sandbox.counters().update, 2, "the hung call and its retry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_stops_every_call_at_once() {
    let sandbox = sandbox_with(3_000).await;
    let client = client_for(&sandbox, None);
    client.list_all().await.unwrap();
    let before = sandbox.counters();
    sandbox.set_faults(Faults {
        block_after_identical: Some(0),
        ..Faults::default()
    });
    let err = client.list_all().await.unwrap_err();
    assert_eq!(err, ApiError::Blocked);
    let after_block = sandbox.counters().total;
    let off = body(json!({"autorenew": "off"}));
    let updates = client
        .update_many(&(1..=20).map(|id| (id, &off)).collect::<Vec<_>>())
        .await;
    assert!(updates.iter().all(|r| r == &Err(ApiError::Blocked)));
    assert_eq!(
        sandbox.counters().total,
        after_block,
        "no call after the block"
    );
    assert!(
        after_block - before.total <= 4,
        "at most the calls already in flight reached the API: {}",
        after_block - before.total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_by_name_go_100_at_a_time_and_report_what_is_missing() {
    let sandbox = sandbox_with(300).await;
    let client = client_for(&sandbox, None);
    let mut names: Vec<String> = sandbox
        .domains()
        .iter()
        .take(150)
        .map(|d| {
            format!(
                "{}.{}",
                d["domain"]["name"].as_str().unwrap(),
                d["domain"]["extension"].as_str().unwrap()
            )
        })
        .collect();
    names.push("not-there.com".to_string());
    let lookup = client.lookup(&names).await.unwrap();
    assert_eq!(lookup.domains.len(), 150);
    assert_eq!(
        lookup.errors,
        vec![LookupError {
            domain: "not-there.com".to_string(),
            kind: LookupKind::NotFound,
            message: "Openprovider does not list this domain in the account".to_string()
        }]
    );
    assert_eq!(sandbox.counters().list, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_flight_share_one_new_login_when_the_token_expires() {
    let sandbox = sandbox_with(3_000).await;
    let client = client_for(&sandbox, None);
    client.list_all().await.unwrap();
    // The first token made six calls; it serves the next listing's first page, then
    // expires under the pages that go out four at a time.
    sandbox.set_faults(Faults {
        expire_token_after: Some(7),
        ..Faults::default()
    });
    let listing = client.list_all().await.unwrap();
    assert!(listing.complete);
    assert_eq!(
        sandbox.counters().login,
        2,
        "one new login, not one per page in flight"
    );
}

/// The keys Openprovider's own client sends for `GET /domains` (`DOMAIN.md`), with
/// `order_by.<field>`.
fn official_list_keys() -> Vec<String> {
    use opsync_testkit::sandbox::{LIST_ORDER_BY_FIELDS, LIST_QUERY_KEYS};
    LIST_QUERY_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(LIST_ORDER_BY_FIELDS.iter().map(|f| format!("order_by.{f}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_sends_the_keys_openproviders_own_client_sends() {
    let sandbox = sandbox_with(1_200).await;
    let client = client_for(&sandbox, None);
    assert!(client.list_all().await.unwrap().complete);
    let names = vec![
        "domain-000001.nl".to_string(),
        "domain-000002.eu".to_string(),
    ];
    let lookup = client.lookup(&names).await.unwrap();
    assert_eq!(lookup.domains.len(), 2, "{:?}", lookup.errors);
    assert!(lookup.errors.is_empty());
    client
        .update(
            1,
            &body(json!({"autorenew": "on", "is_private_whois_enabled": true})),
        )
        .await
        .unwrap();

    let seen = sandbox.seen_keys();
    let list_keys: Vec<&String> = seen["GET /domains"].iter().collect();
    let official = official_list_keys();
    for key in &list_keys {
        assert!(
            official.contains(key),
            "{key} is not a key Openprovider's client sends"
        );
    }
    for key in ["domain_names", "limit", "offset", "order_by.id"] {
        assert!(
            seen["GET /domains"].contains(key),
            "{key} never sent: {list_keys:?}"
        );
    }
    let login: Vec<&str> = seen["POST /auth/login"]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(login, ["ip", "password", "username"]);
    let put: Vec<&str> = seen["PUT /domains/{id} body"]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(put, ["autorenew", "is_private_whois_enabled"]);
    assert!(seen["PUT /domains/{id}"].is_empty(), "{seen:?}");
}

#[tokio::test]
async fn the_base_url_works_with_or_without_the_api_version() {
    let sandbox = sandbox_with(3).await;
    let root = sandbox.base_url().trim_end_matches("/v1beta").to_string();
    for given in [
        sandbox.base_url(),
        format!("{}/", sandbox.base_url()),
        root.clone(),
        format!("{root}/"),
    ] {
        let mut config = ClientConfig::new(Credentials {
            username: sandbox.username().to_string(),
            password: Secret::new(sandbox.password()),
        });
        config.base_url = given.clone();
        let client = Client::new(config).unwrap();
        assert_eq!(client.config().base_url, sandbox.base_url(), "{given}");
        assert_eq!(client.list_all().await.unwrap().domains.len(), 3, "{given}");
    }
    for wrong in [
        format!("{root}/v1"),
        format!("{root}/api"),
        "not a url".to_string(),
    ] {
        let mut config = ClientConfig::new(Credentials {
            username: "u".into(),
            password: Secret::new("p"),
        });
        config.base_url = wrong.clone();
        match Client::new(config) {
            Err(ApiError::Config(message)) => {
                assert!(message.contains("base URL"), "{wrong}: {message}")
            }
            other => panic!("{wrong}: {:?}", other.map(|_| ())),
        }
    }
}

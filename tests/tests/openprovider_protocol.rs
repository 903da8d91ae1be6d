//! Openprovider's protocol as the engine's run speaks it, over real HTTP: the native
//! host's executor (`opsync::run`) against the sandbox, through every fault the sandbox
//! can inject. What was sent and how often, what was reported, what was never said.

use std::path::PathBuf;

use opsync::config::{resolve, Config, FileConfig, Overrides};
use opsync_engine::run::{Lookup, Mode, RunOutcome};
use opsync_testkit::sandbox::{generated_domains, Faults, Sandbox, Seed};
use opsync_testkit::whmcs_db::TestDb;

/// WHMCS rows for the first `n` generated domains, as they are at Openprovider.
fn rows(n: usize) -> Vec<String> {
    generated_domains(n)
        .iter()
        .map(|d| {
            let id = d["id"].as_u64().unwrap();
            let name = format!(
                "{}.{}",
                d["domain"]["name"].as_str().unwrap(),
                d["domain"]["extension"].as_str().unwrap()
            );
            let expiry = &d["expiration_date"].as_str().unwrap()[..10];
            format!(
                "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, \
                 nextduedate, nextinvoicedate, donotrenew, idprotection, reminders, \
                 subscriptionid, additionalnotes, paymentmethod) VALUES ({id}, 1, '{name}', \
                 'openprovider', 'Active', '{expiry}', '{expiry}', '{expiry}', 0, 0, '', '', '', '')"
            )
        })
        .collect()
}

/// The sandbox with `domains` generated domains, WHMCS with rows for the first `rows`.
struct World {
    sandbox: Sandbox,
    db: TestDb,
    dir: PathBuf,
}

impl World {
    async fn new(name: &str, domains: usize, with_rows: usize) -> World {
        let sandbox = Sandbox::start(Seed::new(generated_domains(domains)), 0)
            .await
            .unwrap();
        let rows = rows(with_rows);
        let db = TestDb::sqlite(
            &format!("protocol_{name}"),
            &rows.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await;
        let dir =
            std::env::temp_dir().join(format!("opsync-protocol-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        World { sandbox, db, dir }
    }

    /// The configuration of a run: the sandbox, `password` (the sandbox's when `None`),
    /// a token cache in this world's folder, and `openprovider` keys added.
    fn config(&self, password: Option<&str>, openprovider: &str, batch: Option<usize>) -> Config {
        let text = format!(
            "[whmcs]\ndatabase_url = {:?}\n[openprovider]\nusername = {:?}\npassword = {:?}\n\
             base_url = {:?}\ntoken_cache = {:?}\n{openprovider}\n",
            self.db.url,
            self.sandbox.username(),
            password.unwrap_or(self.sandbox.password()),
            self.sandbox.base_url(),
            self.dir.join("token.json").display().to_string(),
        );
        let overrides = Overrides {
            batch_size: batch,
            ..Overrides::default()
        };
        resolve(FileConfig::parse(&text).unwrap(), &|_| None, &overrides).unwrap()
    }

    async fn run(&self, config: &Config, mode: Mode) -> RunOutcome {
        let start = opsync::run::start(config, mode, Lookup::Auto);
        opsync::run::run(
            config,
            &start,
            opsync::EngineChoice::Native,
            &opsync::progress::Silent,
        )
        .await
        .unwrap()
    }

    async fn plan(&self) -> RunOutcome {
        self.run(&self.config(None, "", None), Mode::Plan).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_10000_domains_costs_20_list_calls_and_one_login() {
    let world = World::new("10k", 10_000, 0).await;
    let outcome = world.plan().await;
    assert!(outcome.listing_complete);
    let c = world.sandbox.counters();
    assert_eq!((c.list, c.login), (20, 1));
    assert_eq!(outcome.api.requests, 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shifting_listing_is_marked_incomplete_and_no_row_is_called_missing() {
    for inserts in [true, false] {
        let world = World::new(&format!("shift{inserts}"), 1_200, 3).await;
        world.sandbox.set_faults(Faults {
            shift_after_list_calls: Some(1),
            shift_inserts: inserts,
            ..Faults::default()
        });
        let outcome = world.plan().await;
        assert!(
            !outcome.listing_complete,
            "a listing whose total moved was called complete"
        );
        let report = outcome.report.unwrap().text;
        assert!(!report.contains("not_in_openprovider"), "{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_reused_within_a_run_and_cached_across_runs() {
    let world = World::new("token", 1_700, 0).await;
    world.plan().await;
    assert_eq!(world.sandbox.counters().login, 1, "one login per run");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(world.dir.join("token.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the token file is readable by its owner only");
    world.plan().await;
    assert_eq!(
        world.sandbox.counters().login,
        1,
        "the next run reuses the cached token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_means_one_new_login_and_one_retry() {
    let world = World::new("expired", 10, 0).await;
    world.plan().await;
    world.sandbox.set_faults(Faults {
        expire_token_after: Some(1),
        ..Faults::default()
    });
    // The cached token has made its one call: the next one gets 196, a new login, a retry.
    let outcome = world.plan().await;
    assert_eq!(outcome.exit_status, 0, "{:?}", outcome.lines);
    let c = world.sandbox.counters();
    assert_eq!((c.login, c.list), (2, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_again_after_a_new_login_is_given_up() {
    let world = World::new("rejected", 10, 0).await;
    world.sandbox.set_faults(Faults {
        expire_token_after: Some(0),
        ..Faults::default()
    });
    let outcome = world.plan().await;
    assert_eq!(outcome.exit_status, 5);
    assert_eq!(
        outcome.lines,
        vec!["Openprovider rejected the username or password (code 196)"]
    );
    let c = world.sandbox.counters();
    assert_eq!(
        (c.login, c.list),
        (2, 2),
        "exactly one new login and one retry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_clear_error_without_the_password() {
    let world = World::new("wrong", 1, 0).await;
    let config = world.config(Some("hunter2-wrong"), "", None);
    assert!(
        !format!("{config:?}").contains("hunter2"),
        "Debug shows the password"
    );
    let outcome = world.run(&config, Mode::Plan).await;
    assert_eq!(outcome.exit_status, 5);
    assert!(outcome.lines[0].contains("rejected the username or password"));
    assert!(!serde_json::to_string(&outcome).unwrap().contains("hunter2"));
    assert_eq!(
        world.sandbox.counters().login,
        1,
        "a failed login is not retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_update_is_reported_by_code_and_never_retried() {
    let world = World::new("refused", 5, 5).await;
    // WHMCS wants auto-renew off for domain 2; Openprovider refuses its update.
    sqlx::query("UPDATE tbldomains SET donotrenew = 1 WHERE id IN (2, 3)")
        .execute(
            &mut <sqlx::AnyConnection as sqlx::Connection>::connect(&world.db.url)
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    world.sandbox.set_faults(Faults {
        refuse_update_ids: vec![2],
        ..Faults::default()
    });
    let outcome = world.run(&world.config(None, "", None), Mode::Sync).await;
    assert_eq!(outcome.exit_status, 0);
    let failures: Vec<(u64, &str)> = outcome
        .failures
        .iter()
        .map(|f| (f.whmcs_id, f.message.as_str()))
        .collect();
    assert_eq!(
        failures,
        vec![(
            2,
            "Openprovider refused the request (code 399: Unknown domain error)"
        )]
    );
    assert_eq!(
        world.sandbox.counters().update,
        2,
        "one refusal, one update, no retry"
    );
    assert_eq!(world.sandbox.domain(3).unwrap()["autorenew"], "off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_502s_are_retried_until_one_succeeds_and_then_given_up() {
    let world = World::new("bare502", 5, 0).await;
    world.plan().await;
    world.sandbox.set_faults(Faults {
        fail_next: 2,
        fail_bare_502: true,
        ..Faults::default()
    });
    let outcome = world.plan().await;
    assert_eq!(outcome.exit_status, 0);
    assert_eq!(outcome.api.retries, 2);
    assert_eq!(
        world.sandbox.counters().list,
        4,
        "one, then two 502s, then the page"
    );

    world.sandbox.set_faults(Faults {
        fail_next: 100,
        fail_bare_502: true,
        ..Faults::default()
    });
    let outcome = world.plan().await;
    assert_eq!(outcome.exit_status, 5);
    assert_eq!(
        outcome.lines,
        vec!["Openprovider could not be reached (4 attempts; last: GET /domains: HTTP 502 without an Openprovider answer)"]
    );
    assert_eq!(
        world.sandbox.counters().list,
        8,
        "four attempts, then given up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_is_waited_out_within_bounds() {
    let world = World::new("maintenance", 5, 0).await;
    world.sandbox.set_faults(Faults {
        maintenance: true,
        ..Faults::default()
    });
    let outcome = world.plan().await;
    assert_eq!(outcome.exit_status, 5);
    assert!(
        outcome.lines[0].contains("(4 attempts; last: maintenance (4005"),
        "{:?}",
        outcome.lines
    );
    assert_eq!(
        world.sandbox.counters().login,
        4,
        "the login met maintenance four times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_truncated_answers_are_retried() {
    let world = World::new("malformed", 600, 0).await;
    world.sandbox.set_faults(Faults {
        malformed_next: 1,
        truncated_next: 1,
        ..Faults::default()
    });
    let outcome = world.plan().await;
    assert!(outcome.listing_complete);
    assert_eq!(outcome.api.retries, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_hangs_times_out_and_is_retried() {
    let world = World::new("hang", 5, 0).await;
    let config = world.config(None, "timeout_seconds = 1", None);
    world.run(&config, Mode::Plan).await;
    world.sandbox.set_faults(Faults {
        hang_next: 1,
        hang_ms: 6_000,
        ..Faults::default()
    });
    let outcome = world.run(&config, Mode::Plan).await;
    assert_eq!(outcome.exit_status, 0, "{:?}", outcome.lines);
    assert_eq!(
        world.sandbox.counters().list,
        3,
        "one, the hung page and its retry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_stops_every_call_at_once() {
    let world = World::new("block", 3_000, 0).await;
    world.plan().await;
    let before = world.sandbox.counters();
    world.sandbox.set_faults(Faults {
        block_after_identical: Some(0),
        ..Faults::default()
    });
    let outcome = world.plan().await;
    assert_eq!(outcome.exit_status, 5);
    assert!(
        outcome.lines[0].contains("code 10005"),
        "{:?}",
        outcome.lines
    );
    let after = world.sandbox.counters().total;
    assert!(
        after - before.total <= 8,
        "at most the calls already in flight reached the API: {}",
        after - before.total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_batch_looks_up_100_names_a_call_and_says_what_is_missing() {
    let world = World::new("lookup", 300, 99).await;
    sqlx::query(
        "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, nextduedate, \
         nextinvoicedate, donotrenew, idprotection, reminders, subscriptionid, additionalnotes, \
         paymentmethod) VALUES (9999, 1, 'not-there.com', 'openprovider', 'Active', '2027-01-01', \
         '2027-01-01', '2027-01-01', 0, 0, '', '', '', '')",
    )
    .execute(
        &mut <sqlx::AnyConnection as sqlx::Connection>::connect(&world.db.url)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let outcome = world
        .run(&world.config(None, "", Some(99)), Mode::Plan)
        .await;
    assert!(
        !outcome.listing_complete,
        "look-ups are no complete listing"
    );
    let asked = world.sandbox.names_asked();
    assert_eq!(asked.len(), 1, "99 names in one look-up: {asked:?}");
    assert_eq!(asked[0].len(), 99);
    let outcome = world
        .run(&world.config(None, "", Some(50)), Mode::Plan)
        .await;
    let report = outcome.report.unwrap().text;
    assert!(
        !report.contains("not-there.com"),
        "not in this batch: {report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_flight_share_one_new_login_when_the_token_expires() {
    let world = World::new("share", 3_000, 0).await;
    world.plan().await;
    // The first token made six calls; it serves the next listing's first page, then
    // expires under the pages that go out at once.
    world.sandbox.set_faults(Faults {
        expire_token_after: Some(7),
        ..Faults::default()
    });
    let outcome = world.plan().await;
    assert!(outcome.listing_complete);
    assert_eq!(
        world.sandbox.counters().login,
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
    let world = World::new("keys", 1_200, 2).await;
    sqlx::query("UPDATE tbldomains SET donotrenew = 1, idprotection = 1 WHERE id = 1")
        .execute(
            &mut <sqlx::AnyConnection as sqlx::Connection>::connect(&world.db.url)
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    world.run(&world.config(None, "", None), Mode::Sync).await;
    world
        .run(&world.config(None, "", Some(2)), Mode::Plan)
        .await;
    let seen = world.sandbox.seen_keys();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_base_url_works_with_or_without_the_api_version() {
    let world = World::new("base", 3, 0).await;
    let root = world
        .sandbox
        .base_url()
        .trim_end_matches("/v1beta")
        .to_string();
    for given in [
        world.sandbox.base_url(),
        format!("{}/", world.sandbox.base_url()),
        root.clone(),
        format!("{root}/"),
    ] {
        let mut config = world.config(None, "", None);
        config.base_url = Some((given.clone(), opsync::config::Source::File));
        let outcome = world.run(&config, Mode::Plan).await;
        assert_eq!(outcome.exit_status, 0, "{given}: {:?}", outcome.lines);
    }
    for wrong in [
        format!("{root}/v1"),
        format!("{root}/api"),
        "not a url".to_string(),
    ] {
        let text = format!(
            "[whmcs]\ndatabase_url = \"sqlite::memory:\"\n[openprovider]\nusername = \"u\"\n\
             password = \"p\"\nbase_url = {wrong:?}\n"
        );
        let err = resolve(
            FileConfig::parse(&text).unwrap(),
            &|_| None,
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("base URL") || err.contains("must use https"),
            "{wrong}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_outcome_ever_holds_the_password_or_the_token() {
    let world = World::new("secrets", 1_100, 3).await;
    let config = world.config(None, "timeout_seconds = 3", None);
    let mut said = Vec::new();
    for faults in [
        Faults {
            fail_next: 2,
            fail_bare_502: true,
            ..Faults::default()
        },
        Faults {
            expire_token_after: Some(1),
            ..Faults::default()
        },
        Faults {
            malformed_next: 1,
            truncated_next: 1,
            ..Faults::default()
        },
        Faults {
            maintenance: true,
            ..Faults::default()
        },
        Faults {
            hang_next: 1,
            hang_ms: 8_000,
            ..Faults::default()
        },
        Faults {
            fail_next: 1,
            ..Faults::default()
        },
        Faults {
            block_after_identical: Some(0),
            ..Faults::default()
        },
    ] {
        world.sandbox.set_faults(faults);
        said.push(serde_json::to_string(&world.run(&config, Mode::Sync).await).unwrap());
    }
    let everything = said.join("\n");
    assert!(
        everything.contains("could not be reached"),
        "the faults were met"
    );
    assert!(
        !everything.contains(world.sandbox.password()),
        "the password leaked"
    );
    assert!(!everything.contains("sbx"), "a token leaked:\n{everything}");
}

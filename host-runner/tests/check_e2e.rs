//! `opsync check` end to end: the real binary against MariaDB, the Openprovider sandbox and
//! the SMTP sink (the suites' shared world, `common`), healthy and with each thing an
//! operator gets wrong.

mod common;

use std::process::Output;

use common::{text, World, ADMIN, INSERT};
use opsync_testkit::sandbox::{generated_domains, Faults, Seed};
use opsync_testkit::whmcs_db::TestDb;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Connection};

/// Five WHMCS rows: four of the sandbox's domains (two rows of one name) and one it
/// does not hold; one admin who receives System emails.
fn rows() -> Vec<String> {
    let row = |id: u32, domain: &str, exp: &str| {
        format!("{INSERT}({id}, 1, '{domain}', 'openprovider', 'Active', '{exp}', '{exp}', '{exp}', 0, 0, '', '', '', '')")
    };
    vec![
        row(1, "domain-000001.nl", "2027-02-02"),
        row(2, "domain-000002.eu", "2027-03-03"),
        row(3, "Domain-000003.net.", "0000-00-00"),
        row(4, "domain-000003.net", "2027-04-04"),
        row(5, "elsewhere.org", "2027-01-01"),
        ADMIN[0].into(),
        ADMIN[1].into(),
    ]
}

/// A world of the shared kind, configured as an operator would for `opsync check`: the
/// Openprovider password in the environment, a report recipient named.
async fn world(name: &str) -> World {
    let rows = rows();
    let db = TestDb::mariadb(
        &format!("check_{name}"),
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let world = World::with(
        db,
        Seed::new(generated_domains(6)),
        &format!("check-{name}"),
        "",
    )
    .await;
    world.configure_check(
        &world.db.url.clone(),
        world.sink.port(),
        world.sandbox.password(),
    );
    world
}

trait Check {
    fn configure_check(&self, database_url: &str, smtp_port: u16, password: &str);
    async fn check(&self, args: &[&str]) -> Output;
    async fn check_json(&self, args: &[&str]) -> (i32, Value);
}

impl Check for World {
    /// Writes the configuration; the Openprovider password comes from the environment.
    fn configure_check(&self, database_url: &str, smtp_port: u16, password: &str) {
        let config = format!(
            "[whmcs]\ndatabase_url = {database_url:?}\n\
             [openprovider]\nusername = {:?}\nbase_url = {:?}\n\
             [mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {smtp_port}\nsmtp_security = \"none\"\n\
             from = \"opsync@example.net\"\nto = [\"noc@example.net\"]\n",
            self.sandbox.username(),
            self.sandbox.base_url(),
        );
        std::fs::write(self.config_path(), config).unwrap();
        std::fs::write(self.dir.join("password"), password).unwrap();
    }

    async fn check(&self, args: &[&str]) -> Output {
        let password = std::fs::read_to_string(self.dir.join("password")).unwrap();
        let mut all = vec!["check"];
        all.extend(args);
        self.command(&all)
            .env("OPSYNC_OP_PASSWORD", password)
            .env_remove("OPSYNC_OP_USERNAME")
            .env_remove("OPSYNC_OP_BASE_URL")
            .output()
            .await
            .unwrap()
    }

    /// `check --json`, with the exit code.
    async fn check_json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--json"];
        all.extend(args);
        let out = self.check(&all).await;
        let value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        assert!(
            !text(&out).contains(self.sandbox.password()),
            "the password was printed"
        );
        (out.status.code().unwrap_or(-1), value)
    }
}

/// The check named `name`: `(ok, detail, fix)`.
fn verdict(outcome: &Value, name: &str) -> (bool, String, String) {
    let check = outcome["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == json!(name))
        .unwrap_or_else(|| panic!("no check {name:?} in {outcome:#}"));
    (
        check["ok"].as_bool().unwrap(),
        check["detail"].as_str().unwrap().to_string(),
        check["fix"].as_str().unwrap_or("").to_string(),
    )
}

/// The names of the failed checks.
fn failed(outcome: &Value) -> Vec<String> {
    outcome["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == json!(false))
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_setup_passes_every_check_and_changes_nothing() {
    let world = world("healthy").await;
    let (code, outcome) = world.check_json(&[]).await;
    assert_eq!((code, failed(&outcome)), (0, vec![]), "{outcome:#}");
    assert_eq!(outcome["passed"], json!(true));

    // Every setting, where it came from, the secrets masked.
    let setting = |key: &str| {
        outcome["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == json!(key))
            .cloned()
            .unwrap_or_else(|| panic!("no setting {key}"))
    };
    assert_eq!(
        setting("openprovider.password"),
        json!({"key": "openprovider.password", "value": "***",
               "source": {"kind": "environment", "name": "OPSYNC_OP_PASSWORD"}})
    );
    assert_eq!(
        setting("openprovider.username")["source"],
        json!({"kind": "file"})
    );
    assert_eq!(setting("whmcs.database_url")["value"], json!(world.db.url));
    assert_eq!(
        setting("policy.expiry_source")["source"],
        json!({"kind": "default"})
    );

    let (_, detail, _) = verdict(&outcome, "whmcs database");
    assert!(detail.starts_with("connected to MariaDB "), "{detail}");
    let (_, detail, _) = verdict(&outcome, "whmcs domains");
    assert_eq!(
        detail,
        "5 rows with registrar openprovider; 1 name on more than one row (2 rows); 0 rows \
         without a usable domain name; 1 row without an expiry or due date"
    );
    let (_, detail, _) = verdict(&outcome, "whmcs sql_mode");
    assert!(
        detail.contains("opsync's writes are valid either way"),
        "{detail}"
    );
    let (_, detail, _) = verdict(&outcome, "opsync tables");
    assert!(
        detail.starts_with("created opsync_runs, opsync_sync_state, opsync_problems, opsync_state"),
        "{detail}"
    );
    let (_, detail, _) = verdict(&outcome, "openprovider listing");
    assert!(
        detail.starts_with("the account holds 6 domains"),
        "{detail}"
    );
    let (_, detail, _) = verdict(&outcome, "whmcs rows at openprovider");
    assert!(
        detail.starts_with("3 of the first 4 WHMCS domain names are in this account (1 not"),
        "{detail}"
    );
    let (_, detail, _) = verdict(&outcome, "mail recipients");
    assert_eq!(detail, "reports go to alice@example.net, noc@example.net");
    let (_, detail, _) = verdict(&outcome, "engine");
    assert!(detail.starts_with("opsync-engine "), "{detail}");

    // Read-only: no update, no mail; the tables exist now, so the next check says so.
    assert_eq!(world.sandbox.counters().update, 0);
    assert!(world.sink.mails().is_empty());
    let (code, outcome) = world.check_json(&[]).await;
    assert_eq!(code, 0);
    assert!(verdict(&outcome, "opsync tables").1.ends_with("exist"));

    // The text form: one line per check, and a last line that counts them.
    let out = world.check(&[]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("\n✓ openprovider login: logged in as opsync-demo"),
        "{shown}"
    );
    assert!(shown.contains("openprovider.password"), "{shown}");
    assert!(
        shown.contains("***  (environment OPSYNC_OP_PASSWORD)"),
        "{shown}"
    );
    assert!(shown.trim_end().ends_with("checks passed."), "{shown}");
    assert!(!shown.contains('✗'), "{shown}");

    // One test mail, only when asked.
    let (code, outcome) = world.check_json(&["--send-test-mail"]).await;
    assert_eq!(code, 0, "{outcome:#}");
    let mails = world.sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["alice@example.net", "noc@example.net"]);
    assert!(mails[0].data.contains("Subject: opsync check: test mail"));
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_the_login_check_and_says_what_to_do() {
    let world = world("password").await;
    world.configure_check(&world.db.url, world.sink.port(), "not-the-password");
    let out = world.check(&[]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(7), "{shown}");
    assert!(!shown.contains("not-the-password"), "{shown}");
    assert!(
        shown.contains("✗ openprovider login: Openprovider rejected the username or password"),
        "{shown}"
    );
    assert!(
        shown.contains("what to do: check openprovider.username and openprovider.password"),
        "{shown}"
    );
    // The rest was still checked.
    assert!(shown.contains("✓ whmcs database"), "{shown}");
    assert!(shown.contains("✓ mail server"), "{shown}");
    assert!(
        shown.trim_end().ends_with("1 of 11 checks failed."),
        "{shown}"
    );
    assert_eq!(
        world.sandbox.counters().login,
        1,
        "one failed login, no retry"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_database_fails_the_database_check() {
    let world = world("nodb").await;
    let gone = format!("{}_gone", world.db.url);
    world.configure_check(&gone, world.sink.port(), world.sandbox.password());
    let (code, outcome) = world.check_json(&[]).await;
    assert_eq!(code, 7);
    assert_eq!(failed(&outcome), ["whmcs database"], "{outcome:#}");
    let (_, detail, fix) = verdict(&outcome, "whmcs database");
    assert!(
        detail.starts_with("cannot open the WHMCS database"),
        "{detail}"
    );
    assert!(detail.contains("Unknown database"), "{detail}");
    assert!(fix.contains("whmcs.database_url"), "{fix}");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_column_fails_the_schema_check_naming_it() {
    let world = world("column").await;
    let mut conn = AnyConnection::connect(&world.db.url).await.unwrap();
    sqlx::query("ALTER TABLE tbldomains DROP COLUMN nextinvoicedate")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE tblactivitylog MODIFY userid VARCHAR(20)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (code, outcome) = world.check_json(&[]).await;
    assert_eq!(code, 7);
    let (ok, detail, fix) = verdict(&outcome, "whmcs schema");
    assert!(!ok);
    assert_eq!(
        detail,
        "tbldomains.nextinvoicedate is missing; tblactivitylog.userid is varchar(20), not an integer"
    );
    assert!(fix.contains("is this WHMCS's database?"), "{fix}");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_server_refusing_fails_the_mail_check() {
    let world = world("smtp").await;
    // A port nobody listens on: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    world.configure_check(&world.db.url, closed, world.sandbox.password());
    let (code, outcome) = world.check_json(&["--send-test-mail"]).await;
    assert_eq!(code, 7);
    let (ok, detail, fix) = verdict(&outcome, "mail server");
    assert!(!ok);
    assert!(
        detail.starts_with(&format!("127.0.0.1:{closed} (none)")),
        "{detail}"
    );
    assert!(fix.contains("mail.smtp_host"), "{fix}");
    assert_eq!(
        failed(&outcome),
        ["mail server", "test mail"],
        "{outcome:#}"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_holding_the_lock_fails_the_lock_check() {
    let world = world("lock").await;
    let mut holder = AnyConnection::connect(&world.db.url).await.unwrap();
    let taken: String =
        sqlx::query_scalar("SELECT CAST(GET_LOCK(CONCAT('opsync_sync:', DATABASE()), 0) AS CHAR)")
            .fetch_one(&mut holder)
            .await
            .unwrap();
    assert_eq!(taken, "1");
    let holder_id: String = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS CHAR)")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    let (code, outcome) = world.check_json(&[]).await;
    assert_eq!(code, 7);
    assert_eq!(failed(&outcome), ["run lock"], "{outcome:#}");
    let (_, detail, fix) = verdict(&outcome, "run lock");
    assert_eq!(
        detail,
        format!("another opsync run holds it (MySQL connection {holder_id})")
    );
    assert!(fix.contains(&format!("KILL {holder_id}")), "{fix}");
    holder.close().await.unwrap();
    let (code, _) = world.check_json(&[]).await;
    assert_eq!(code, 0, "the lock is free again");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_configuration_is_the_one_failed_check() {
    let world = world("config").await;
    std::fs::write(
        world.dir.join("opsync.toml"),
        "[openprovider]\nusername = \"u\"\nbase_url = \"https://api.openprovider.eu/v2\"\n",
    )
    .unwrap();
    let out = world.check(&[]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(7), "{shown}");
    assert!(
        shown.contains("✗ configuration: openprovider.base_url: the base URL"),
        "{shown}"
    );
    assert!(
        shown.trim_end().ends_with("1 of 1 checks failed."),
        "{shown}"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_api_probes_pass_on_the_sandbox_and_each_fails_when_it_behaves_otherwise() {
    let world = world("live").await;
    const PROBES: [&str; 4] = [
        "api: look-up by names",
        "api: order_by.id",
        "api: is_deleted=true",
        "api: pages agree",
    ];
    let (code, outcome) = world.check_json(&["--live-api"]).await;
    assert_eq!((code, failed(&outcome)), (0, vec![]), "{outcome:#}");
    for probe in PROBES {
        assert!(verdict(&outcome, probe).0);
    }
    assert!(verdict(&outcome, "api: look-up by names")
        .1
        .ends_with("returned exactly those two"));
    let list_calls = world.sandbox.counters().list;

    // A gateway that drops domain_names: the look-up brings every domain.
    world.sandbox.reset();
    world.sandbox.set_faults(Faults {
        ignore_domain_names: true,
        ..Faults::default()
    });
    let (code, outcome) = world.check_json(&["--live-api"]).await;
    assert_eq!(code, 7);
    assert!(failed(&outcome).contains(&"api: look-up by names".to_string()));
    let (_, detail, fix) = verdict(&outcome, "api: look-up by names");
    assert!(
        detail.ends_with("returned 6 domains: the API ignored domain_names"),
        "{detail}"
    );
    assert!(fix.contains("--lookup bulk"), "{fix}");

    // A gateway that refuses is_deleted.
    world.sandbox.reset();
    world.sandbox.set_faults(Faults {
        refuse_keys: vec!["is_deleted".into()],
        ..Faults::default()
    });
    let (code, outcome) = world.check_json(&["--live-api"]).await;
    assert_eq!(
        (code, failed(&outcome)),
        (7, vec!["api: is_deleted=true".to_string()])
    );
    assert!(verdict(&outcome, "api: is_deleted=true")
        .1
        .contains("(code 515"));

    // A gateway that refuses order_by.id: the listing fails, and so does the probe, each
    // saying so; the look-up probe still runs.
    world.sandbox.reset();
    world.sandbox.set_faults(Faults {
        refuse_keys: vec!["order_by.id".into()],
        ..Faults::default()
    });
    let (code, outcome) = world.check_json(&["--live-api"]).await;
    assert_eq!(code, 7);
    assert_eq!(
        failed(&outcome),
        [
            "openprovider listing",
            "api: order_by.id",
            "api: pages agree"
        ],
        "{outcome:#}"
    );
    assert!(verdict(&outcome, "openprovider listing")
        .1
        .contains("order_by.id"));
    assert!(verdict(&outcome, "api: order_by.id")
        .1
        .contains("order_by.id"));
    assert!(verdict(&outcome, "api: look-up by names").0);

    // A gateway that takes order_by.id and ignores it.
    world.sandbox.reset();
    world.sandbox.set_faults(Faults {
        ignore_order_by: true,
        ..Faults::default()
    });
    let (code, outcome) = world.check_json(&["--live-api"]).await;
    assert_eq!(
        (code, failed(&outcome)),
        (7, vec!["api: order_by.id".to_string()])
    );
    assert_eq!(
        verdict(&outcome, "api: order_by.id").1,
        "accepted, but the ids came back as [1, 2, 3, 4, 5, 6] (asc) and [1, 2, 3, 4, 5, 6] (desc)"
    );

    // A listing that shifts between the two pages of the last probe.
    world.sandbox.reset();
    world.sandbox.set_faults(Faults {
        shift_after_list_calls: Some(u32::try_from(list_calls).unwrap() - 1),
        ..Faults::default()
    });
    let (code, outcome) = world.check_json(&["--live-api"]).await;
    assert_eq!(
        (code, failed(&outcome)),
        (7, vec!["api: pages agree".to_string()])
    );
    let (_, detail, _) = verdict(&outcome, "api: pages agree");
    assert!(detail.contains("page 1 said total Some(6)"), "{detail}");
    assert!(detail.contains("page 2 total Some(5)"), "{detail}");
    world.finish().await;
}

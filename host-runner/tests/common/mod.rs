//! What the end-to-end suites share: a world (a WHMCS database of its own on MariaDB, the
//! Openprovider sandbox, the SMTP sink) that runs a real host, and the end state a run
//! leaves in it. A world runs either host: the `opsync` binary with an `opsync.toml`
//! ([`Host::Native`]), or the PHP drop-in in a stand-in WHMCS root installed by the real
//! installer, the module's `DomainSync.php` run as cron would ([`Host::DropIn`]).

#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::process::Output;

use opsync_testkit::sandbox::{Sandbox, Seed};
use opsync_testkit::smtp_sink::SmtpSink;
use opsync_testkit::whmcs_db::TestDb;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Connection, Row};

pub const INSERT: &str = "INSERT INTO tbldomains (id, userid, domain, registrar, status, \
    expirydate, nextduedate, nextinvoicedate, donotrenew, idprotection, reminders, \
    subscriptionid, additionalnotes, paymentmethod) VALUES ";

/// An admin who receives System emails, so reports have a recipient.
pub const ADMIN: [&str; 2] = [
    "INSERT INTO tbladminroles (id, name, widgets, reports, systememails) VALUES (1, 'Full', '', '', 1)",
    "INSERT INTO tbladmins (id, roleid, username, firstname, lastname, email, disabled) VALUES \
     (1, 1, 'alice', 'Alice', 'Admin', 'alice@example.net', 0)",
];

/// `n` WHMCS rows `fault-N.com` and their Openprovider records, drifted on both sides:
/// every row's expiry (and due date) is a month behind, and every record's auto-renew
/// differs from what WHMCS wants. Plus `filler` records WHMCS does not hold.
pub fn drifted(n: u64, filler: u64) -> (Vec<String>, Vec<Value>) {
    let mut rows: Vec<String> = (1..=n)
        .map(|i| {
            format!(
                "{INSERT}({i}, {}, 'fault-{i}.com', 'openprovider', 'Active', '2026-06-01', \
                 '2026-06-01', '2026-06-01', {}, 0, '1|2', '', 'notes {i}', 'paypal')",
                1 + i % 3,
                i % 2
            )
        })
        .collect();
    rows.extend(ADMIN.iter().map(|s| s.to_string()));
    let mut domains: Vec<Value> = (1..=n)
        .map(|i| {
            json!({"id": 1000 + i, "domain": {"name": format!("fault-{i}"), "extension": "com"},
                "status": "ACT", "expiration_date": "2026-07-01 00:00:00",
                "renewal_date": "2026-07-01 00:00:00", "autorenew": "on",
                "is_private_whois_enabled": false, "is_private_whois_allowed": true,
                "is_deleted": false})
        })
        .collect();
    domains.extend((1..=filler).map(|i| {
        json!({"id": 100_000 + i, "domain": {"name": format!("filler-{i}"), "extension": "net"},
            "status": "ACT", "expiration_date": "2027-01-01 00:00:00",
            "renewal_date": "2027-01-01 00:00:00", "autorenew": "default",
            "is_private_whois_enabled": false, "is_private_whois_allowed": true,
            "is_deleted": false})
    }));
    (rows, domains)
}

/// Which host a world runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `opsync`, with the world's `opsync.toml`.
    Native,
    /// The PHP drop-in in a stand-in WHMCS root (`php-bridge/tests/standin`), its
    /// settings in the addon's table, mail through the stand-in's `SendAdminEmail`.
    DropIn,
}

pub struct World {
    pub db: TestDb,
    pub sandbox: Sandbox,
    pub sink: SmtpSink,
    pub dir: PathBuf,
    pub name: String,
    pub host: Host,
}

/// The repository's root.
pub fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What a run leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct EndState {
    /// Every column of every `tbldomains` row, as text.
    pub rows: Vec<String>,
    /// The sandbox's domains.
    pub domains: Vec<Value>,
    /// `tblactivitylog` descriptions, sorted.
    pub activity: Vec<String>,
}

impl World {
    /// A world on MariaDB; `extra` goes into the configuration (sections, e.g.
    /// `[safety]`; a last line of `key = value` lands in `[openprovider]`).
    pub async fn new(name: &str, rows: &[String], domains: Vec<Value>, extra: &str) -> World {
        World::on(Host::Native, name, rows, domains, extra).await
    }

    /// A world on MariaDB that runs `host`.
    pub async fn on(
        host: Host,
        name: &str,
        rows: &[String],
        domains: Vec<Value>,
        extra: &str,
    ) -> World {
        let name = match host {
            Host::Native => name.to_string(),
            Host::DropIn => format!("php-{name}"),
        };
        let db = TestDb::mariadb(
            &name.replace('-', "_"),
            &rows.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await;
        World::build(host, db, Seed::new(domains), &name, extra).await
    }

    /// A native world on `db` (MariaDB or SQLite) with the sandbox seeded by `seed`.
    pub async fn with(db: TestDb, seed: Seed, name: &str, extra: &str) -> World {
        World::build(Host::Native, db, seed, name, extra).await
    }

    async fn build(host: Host, db: TestDb, seed: Seed, name: &str, extra: &str) -> World {
        let sandbox = Sandbox::start(seed, 0).await.unwrap();
        let sink = SmtpSink::start().await.unwrap();
        let dir = std::env::temp_dir().join(format!("opsync-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let world = World {
            db,
            sandbox,
            sink,
            dir,
            name: name.to_string(),
            host,
        };
        if host == Host::DropIn {
            world.install_drop_in();
        }
        world.configure(extra);
        world
    }

    /// The stand-in WHMCS root of a drop-in world.
    pub fn root(&self) -> PathBuf {
        self.dir.join("whmcs")
    }

    /// A stand-in WHMCS root with the drop-in installed by the real installer, WHMCS's
    /// database this world's, the registrar module's credentials the sandbox's, and the
    /// module's advanced configuration empty (opsync's defaults, as natively).
    fn install_drop_in(&self) {
        let root = self.root();
        copy_tree(&repository().join("php-bridge/tests/standin"), &root);
        let lib = std::env::var_os("OPSYNC_PHP_LIB")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| repository().join("target"))
                    .join("debug/libopsync_php.so")
            });
        assert!(
            lib.is_file(),
            "{} is missing: the drop-in's tests need the FFI library (make build builds it)",
            lib.display()
        );
        let out = std::process::Command::new("php")
            .arg(repository().join("php-bridge/bin/opsync-whmcs-install.php"))
            .arg(&root)
            .arg("--lib")
            .arg(&lib)
            .output()
            .expect("php runs the installer");
        assert!(
            out.status.success(),
            "the installer: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(
            root.join(
                "modules/registrars/openprovider/configuration/advanced-module-configurations.php",
            ),
            "<?php\n\nreturn [];\n",
        )
        .unwrap();
        std::fs::write(
            root.join("standin-registrar.json"),
            serde_json::json!({"openprovider": {
                "Username": self.sandbox.username(),
                "Password": self.sandbox.password(),
                "test_mode": "",
            }})
            .to_string(),
        )
        .unwrap();
        self.set_database(&self.db.url);
        // As an admin does next: Setup > Addon Modules > opsync > Activate (its tables).
        let activate = root.join("activate.php");
        std::fs::write(
            &activate,
            "<?php\nrequire __DIR__ . '/init.php';\n\
             require ROOTDIR . '/modules/addons/opsync/opsync.php';\n\
             echo json_encode(opsync_activate());\n",
        )
        .unwrap();
        let out = std::process::Command::new("php")
            .arg(&activate)
            .output()
            .expect("php runs the activation");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("\"success\""),
            "the activation: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Points the host at the database `url` (`mysql://root@host:port/name`).
    pub fn set_database(&self, url: &str) {
        match self.host {
            Host::Native => {
                let config = std::fs::read_to_string(self.config_path()).unwrap_or_default();
                if !config.is_empty() {
                    std::fs::write(self.config_path(), config.replace(&self.db.url, url)).unwrap();
                }
            }
            Host::DropIn => {
                let parsed = url::Url::parse(url).unwrap();
                std::fs::write(
                    self.root().join("configuration.php"),
                    format!(
                        "<?php\n$db_host = '{}';\n$db_port = '{}';\n$db_username = '{}';\n\
                         $db_password = '';\n$db_name = '{}';\n",
                        parsed.host_str().unwrap_or("127.0.0.1"),
                        parsed.port().unwrap_or(3306),
                        parsed.username(),
                        parsed.path().trim_start_matches('/'),
                    ),
                )
                .unwrap();
            }
        }
    }

    /// The report mail is refused: the SMTP server (natively) or WHMCS's SendAdminEmail
    /// (the drop-in) says no.
    pub fn refuse_mail(&self, port: u16) {
        match self.host {
            Host::Native => {
                let config = std::fs::read_to_string(self.config_path()).unwrap();
                std::fs::write(
                    self.config_path(),
                    config.replace(
                        &format!("smtp_port = {}", self.sink.port()),
                        &format!("smtp_port = {port}"),
                    ),
                )
                .unwrap();
            }
            Host::DropIn => std::fs::write(
                self.root().join("standin-mail-refused"),
                "Email Sending Failed: the mail server refused the message",
            )
            .unwrap(),
        }
    }

    /// (Re)writes `opsync.toml`: the world's database, sink and sandbox, and `extra`
    /// before `[openprovider]`, which comes last; `op` goes into `[openprovider]`.
    pub fn configure(&self, extra: &str) {
        self.configure_with(extra, "");
    }

    pub fn configure_with(&self, extra: &str, op: &str) {
        if self.host == Host::DropIn {
            return self.configure_addon(extra, op);
        }
        let config = format!(
            "[whmcs]\ndatabase_url = {:?}\n\
             [mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_security = \"none\"\n\
             from = \"opsync@example.net\"\n{extra}\n\
             [openprovider]\nusername = {:?}\npassword = {:?}\nbase_url = {:?}\n\
             token_cache = {:?}\ntimeout_seconds = 2\n{op}\n",
            self.db.url,
            self.sink.port(),
            self.sandbox.username(),
            self.sandbox.password(),
            self.sandbox.base_url(),
            self.dir.join("token.json").display().to_string(),
        );
        std::fs::write(self.config_path(), config).unwrap();
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("opsync.toml")
    }

    /// The drop-in's settings: `extra` (opsync.toml sections) and `op` (`[openprovider]`
    /// keys) as the addon's settings, by the name each has there; a 2-second timeout, as
    /// the native world's.
    fn configure_addon(&self, extra: &str, op: &str) {
        let table: toml::Table = toml::from_str(&format!(
            "{extra}\n[openprovider]\ntimeout_seconds = 2\n{op}\n"
        ))
        .unwrap();
        let mut settings = Vec::new();
        for (section, keys) in &table {
            for (key, value) in keys.as_table().into_iter().flatten() {
                let name = match (section.as_str(), key.as_str()) {
                    ("mail", "send_empty_reports") => "send_empty".to_string(),
                    ("report", "whmcs_admin_url") => "admin_url".to_string(),
                    _ => key.clone(),
                };
                let text = match value {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Boolean(b) => if *b { "on" } else { "off" }.to_string(),
                    toml::Value::Array(items) => items
                        .iter()
                        .filter_map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                settings.push((name, text));
            }
        }
        let url = self.db.url.clone();
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let mut conn = AnyConnection::connect(&url).await.unwrap();
                sqlx::query("DELETE FROM tbladdonmodules WHERE module = 'opsync'")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                for (name, value) in settings {
                    sqlx::query(
                        "INSERT INTO tbladdonmodules (module, setting, value) VALUES ('opsync', ?, ?)",
                    )
                    .bind(name)
                    .bind(value)
                    .execute(&mut conn)
                    .await
                    .unwrap();
                }
            })
        })
        .join()
        .unwrap();
    }

    /// The world's host, run as cron would with `args` (`opsync` arguments; for the
    /// drop-in, `sync` is its default and the rest are passed on), ready to run or spawn.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        if self.host == Host::DropIn {
            let mut command = tokio::process::Command::new("php");
            command
                .arg(
                    self.root()
                        .join("modules/registrars/openprovider/cron/DomainSync.php"),
                )
                .args(args.iter().filter(|a| **a != "sync"))
                .env("OPSYNC_OP_BASE_URL", self.sandbox.base_url())
                .env("OPSYNC_TOKEN_CACHE", self.dir.join("token.json"))
                .env(
                    "OPSYNC_CACHE_DIR",
                    std::env::temp_dir().join("opsync-test-cache"),
                )
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true);
            return command;
        }
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsync"));
        command
            .args(args)
            .arg("--config")
            .arg(self.config_path())
            .env(
                "OPSYNC_CACHE_DIR",
                std::env::temp_dir().join("opsync-test-cache"),
            )
            .env_remove("OPSYNC_OP_PASSWORD")
            .env_remove("OPSYNC_DATABASE_URL")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        command
    }

    pub async fn opsync(&self, args: &[&str]) -> Output {
        self.command(args).output().await.unwrap()
    }

    pub async fn connect(&self) -> AnyConnection {
        sqlx::any::install_default_drivers();
        AnyConnection::connect(&self.db.url).await.unwrap()
    }

    /// One text per row of `sql` (one column).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let mut conn = self.connect().await;
        let rows = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
        rows.iter()
            .map(|r| {
                r.try_get::<String, _>(0).unwrap_or_else(|_| {
                    String::from_utf8_lossy(&r.try_get::<Vec<u8>, _>(0).unwrap_or_default())
                        .into_owned()
                })
            })
            .collect()
    }

    pub async fn end_state(&self) -> EndState {
        let rows = self
            .texts(
                "SELECT CONCAT_WS('|', id, userid, IFNULL(domain, 'NULL'), registrar, status, \
                 IFNULL(expirydate, 'NULL'), IFNULL(nextduedate, 'NULL'), \
                 IFNULL(nextinvoicedate, 'NULL'), donotrenew, idprotection, reminders, \
                 subscriptionid, additionalnotes, paymentmethod) FROM tbldomains ORDER BY id",
            )
            .await;
        let mut activity = self
            .texts("SELECT CAST(description AS CHAR) FROM tblactivitylog")
            .await;
        activity.sort();
        EndState {
            rows,
            domains: self.sandbox.domains(),
            activity,
        }
    }

    /// The run history: `mode|subject`, oldest first.
    pub async fn runs(&self) -> Vec<String> {
        self.texts("SELECT CONCAT(mode, '|', subject) FROM opsync_runs ORDER BY id")
            .await
    }

    /// Row `id` as `status|expirydate|nextduedate|nextinvoicedate`, read as the sync reads it.
    pub async fn row(&self, id: u32) -> String {
        let store = opsync::whmcs::Whmcs::connect(&self.db.url).await.unwrap();
        let row = store
            .openprovider_rows()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r[1].as_deref() == Some(id.to_string().as_str()))
            .unwrap();
        // userid, id, domain, status, expirydate, nextduedate, nextinvoicedate, ...
        let col = |i: usize| row[i].clone().unwrap_or_default();
        format!("{}|{}|{}|{}", col(3), col(4), col(5), col(6))
    }

    /// The run history: `host|mode|rows_checked|changed_rows|subject`, oldest first
    /// (MariaDB or SQLite).
    pub async fn history(&self) -> Vec<String> {
        let mut conn = self.connect().await;
        sqlx::query(
            "SELECT CAST(host AS CHAR), CAST(mode AS CHAR), CAST(rows_checked AS CHAR), \
             CAST(changed_rows AS CHAR), CAST(subject AS CHAR) FROM opsync_runs ORDER BY id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..5)
                .map(|i| {
                    r.try_get::<String, _>(i).unwrap_or_else(|_| {
                        String::from_utf8(r.try_get::<Vec<u8>, _>(i).unwrap()).unwrap()
                    })
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
    }

    pub async fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        self.db.finish().await;
    }
}

/// The end state an undisturbed run reaches from the same start.
pub async fn undisturbed(name: &str, rows: &[String], domains: &[Value], extra: &str) -> EndState {
    undisturbed_on(Host::Native, name, rows, domains, extra).await
}

/// The end state an undisturbed run of `host` reaches from the same start.
pub async fn undisturbed_on(
    host: Host,
    name: &str,
    rows: &[String],
    domains: &[Value],
    extra: &str,
) -> EndState {
    let world = World::on(host, &format!("{name}-calm"), rows, domains.to_vec(), extra).await;
    let out = world.opsync(&["sync"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let end = world.end_state().await;
    world.finish().await;
    end
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits (up to 60 s) until `ready` holds, checking every 20 ms.
pub async fn wait_for<F, Fut>(what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..3000 {
        if ready().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("waited a minute for {what}");
}

/// `now == expected`, or a panic that shows only what differs.
pub fn assert_same(now: &EndState, expected: &EndState, what: &str) {
    if now == expected {
        return;
    }
    let rows: Vec<_> = now
        .rows
        .iter()
        .zip(&expected.rows)
        .filter(|(a, b)| a != b)
        .take(5)
        .collect();
    let domains: Vec<_> = now
        .domains
        .iter()
        .zip(&expected.domains)
        .filter(|(a, b)| a != b)
        .take(5)
        .collect();
    let missing: Vec<_> = expected
        .activity
        .iter()
        .filter(|l| !now.activity.contains(l))
        .take(5)
        .collect();
    let extra: Vec<_> = now
        .activity
        .iter()
        .filter(|l| !expected.activity.contains(l))
        .take(5)
        .collect();
    panic!(
        "{what}: the end states differ (counts now/expected: rows {}/{}, domains {}/{}, \
         lines {}/{})\nrows (now, expected): {rows:#?}\ndomains (now, expected): {domains:#?}\n\
         lines missing: {missing:#?}\nlines not expected: {extra:#?}",
        now.rows.len(),
        expected.rows.len(),
        now.domains.len(),
        expected.domains.len(),
        now.activity.len(),
        expected.activity.len()
    );
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A port on 127.0.0.1 nobody listens on: a connection to it is refused.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

//! Secrets stay secret (`RELIABILITY.md`): the Openprovider password and the session token
//! never reach standard output or error (`-vv` included), the report mail, the activity
//! log, the run history or the process list; the token cache is 0600 and not trusted when
//! anyone else may read it.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{drifted, text, wait_for, World};
use opsync_testkit::sandbox::Faults;

const SAFETY: &str = "[safety]\nmass_change_percent = 100\n";

/// The world's configuration without the password: it comes from the environment.
fn without_password(world: &World) {
    let config = std::fs::read_to_string(world.config_path()).unwrap();
    let line = format!("password = {:?}\n", world.sandbox.password());
    assert!(config.contains(&line));
    std::fs::write(world.config_path(), config.replace(&line, "")).unwrap();
}

fn run(world: &World, args: &[&str]) -> tokio::process::Command {
    let mut command = world.command(args);
    command.env("OPSYNC_OP_PASSWORD", world.sandbox.password());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_and_the_token_appear_nowhere() {
    let (rows, domains) = drifted(6, 0);
    let world = World::new("secrets", &rows, domains, SAFETY).await;
    without_password(&world);
    // A token that expires mid-run (a second login) and a refused update (an error
    // message from Openprovider in the report): the paths where secrets could leak.
    world.sandbox.set_faults(Faults {
        expire_token_after: Some(4),
        refuse_update_ids: vec![1002],
        latency_ms: 100,
        ..Faults::default()
    });
    let child = run(&world, &["sync", "-vv"]).spawn().unwrap();
    let pid = child.id().unwrap();
    // The process list, while the run is on (logged in: it is opsync by now).
    let w = &world;
    wait_for(
        "the login",
        || async move { w.sandbox.counters().login >= 1 },
    )
    .await;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(world.sandbox.counters().login >= 2, "the token was renewed");

    let token_file = std::fs::read_to_string(world.dir.join("token.json")).unwrap();
    let token: serde_json::Value = serde_json::from_str(&token_file).unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    assert!(token.len() > 10);
    let password = world.sandbox.password().to_string();

    let mails: Vec<String> = world.sink.mails().into_iter().map(|m| m.data).collect();
    assert_eq!(mails.len(), 1);
    let activity = world
        .texts("SELECT CAST(description AS CHAR) FROM tblactivitylog")
        .await;
    let history = world
        .texts("SELECT CONCAT(subject, report_text, report_html, host, mode) FROM opsync_runs")
        .await;
    let places: [(&str, String); 6] = [
        ("standard output and error, -vv", text(&out)),
        (
            "the process list",
            String::from_utf8_lossy(&cmdline).replace('\0', " "),
        ),
        ("the report mail", mails.join("\n")),
        ("the activity log", activity.join("\n")),
        ("the run history", history.join("\n")),
        (
            "the configuration file",
            std::fs::read_to_string(world.config_path()).unwrap(),
        ),
    ];
    assert!(
        places[0].1.contains("Openprovider answered"),
        "-vv logs every call"
    );
    assert!(places[1].1.contains("sync -vv --config"), "{}", places[1].1);
    assert!(
        places[2].1.contains("fault-2.com"),
        "the refusal is reported"
    );
    for (place, content) in &places {
        assert!(!content.contains(&password), "the password is in {place}");
        assert!(!content.contains(&token), "the token is in {place}");
    }
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_cache_is_private_and_refused_when_it_is_not() {
    let (rows, domains) = drifted(2, 0);
    let world = World::new("token-cache", &rows, domains, SAFETY).await;
    let cache = world.dir.join("token.json");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;

    let first = world.opsync(&["plan"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert_eq!(mode(&cache), 0o600);
    let second = world.opsync(&["plan"]).await;
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(
        world.sandbox.counters().login,
        1,
        "the cached token is reused"
    );

    for loose in [0o640, 0o604] {
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(loose)).unwrap();
        let before = world.sandbox.counters().login;
        let out = world.opsync(&["plan", "-v"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(
            text(&out).contains("the Openprovider token cache is not private"),
            "{}",
            text(&out)
        );
        assert_eq!(
            world.sandbox.counters().login,
            before + 1,
            "{loose:o}: not used"
        );
        assert_eq!(mode(&cache), 0o600, "{loose:o}: replaced by a private one");
    }
    world.finish().await;
}

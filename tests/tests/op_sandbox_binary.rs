//! `op-sandbox --seed FILE --port N` serves a seeded sandbox until stopped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use opsync_testkit::sandbox::{generated_domains, Seed};

#[tokio::test]
async fn the_binary_serves_its_seed_and_its_counters() {
    let dir = std::env::temp_dir().join(format!("op-sandbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.json");
    std::fs::write(
        &seed,
        serde_json::to_vec(&Seed::new(generated_domains(7))).unwrap(),
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_op-sandbox"))
        .args(["--seed", seed.to_str().unwrap(), "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(
        line.starts_with("op-sandbox: 7 domains at http://127.0.0.1:"),
        "{line}"
    );

    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"username": "opsync-demo", "password": "demo-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["code"], 0);
    let root = base.trim_end_matches("/v1beta");
    let counters: serde_json::Value = http
        .get(format!("{root}/__sandbox/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["login"], 1);
    let bad = http
        .post(format!("{root}/__sandbox/faults"))
        .body(r#"{"latency": 5}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        bad.status(),
        400,
        "an unknown fault is refused, not ignored"
    );

    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_seed_file_is_one_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_op-sandbox"))
        .args(["--seed", "/nonexistent/seed.json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("/nonexistent/seed.json: No such file"),
        "{stderr}"
    );
}

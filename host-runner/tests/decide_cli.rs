//! `opsync decide` as the contract states it: request on stdin or from a file, the
//! response on stdout, exit 0; an invalid request gives one line on stderr, nothing on
//! stdout, and a non-zero exit.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn scenarios() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    let mut list: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let name = p
                .file_name()?
                .to_str()?
                .strip_suffix(".request.json")?
                .to_string();
            Some((name, p))
        })
        .collect();
    list.sort();
    list
}

fn opsync(args: &[&str], stdin: &[u8]) -> Output {
    let cache = std::env::temp_dir().join("opsync-test-cache");
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsync"))
        .args(args)
        .env("OPSYNC_CACHE_DIR", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn every_scenario_through_stdin_prints_its_expected_answer_natively() {
    every_scenario_prints_its_expected_answer("native");
}

#[test]
fn every_scenario_through_stdin_prints_its_expected_answer_through_wasm() {
    every_scenario_prints_its_expected_answer("wasm");
}

fn every_scenario_prints_its_expected_answer(engine: &str) {
    for (name, path) in scenarios() {
        let request = std::fs::read(&path).unwrap();
        let out = opsync(&["decide", "--engine", engine], &request);
        let response = path.with_file_name(format!("{name}.response.json"));
        if response.exists() {
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                out.stdout,
                std::fs::read(&response).unwrap(),
                "{name}: stdout differs"
            );
            assert!(out.stderr.is_empty(), "{name}: stderr not empty");
        } else {
            let expected =
                std::fs::read_to_string(path.with_file_name(format!("{name}.error.txt"))).unwrap();
            assert_eq!(out.status.code(), Some(1), "{name}");
            assert!(out.stdout.is_empty(), "{name}: printed something on stdout");
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(
                stderr.lines().count(),
                1,
                "{name}: one line on stderr, got {stderr:?}"
            );
            assert_eq!(stderr, format!("opsync: {expected}"), "{name}");
        }
    }
}

#[test]
fn a_file_argument_reads_the_same_request() {
    let (name, path) = scenarios()
        .into_iter()
        .find(|(n, _)| n == "contract-example")
        .unwrap();
    let out = opsync(
        &["decide", "--engine", "native", path.to_str().unwrap()],
        b"",
    );
    assert!(out.status.success());
    let expected = std::fs::read(path.with_file_name(format!("{name}.response.json"))).unwrap();
    assert_eq!(out.stdout, expected);
}

#[test]
fn a_missing_file_is_one_clear_line() {
    let out = opsync(
        &["decide", "--engine", "native", "/nonexistent/request.json"],
        b"",
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("opsync: /nonexistent/request.json: No such file"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn help_explains_the_contract() {
    let out = opsync(&["decide", "--help"], b"");
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "standard input",
        "whmcs[3].id: expected an integer",
        "openprovider.domains",
        "--engine",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

//! The engine's verbs on the command line, as the contract states them: `opsync decide`
//! (request on stdin or from a file, the response on stdout, exit 0; an invalid request
//! gives one line on stderr, nothing on stdout, and exit 1), `opsync render-report` the
//! same way, and `opsync version`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use opsync_testkit::scenarios::{self, Expected};

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

#[test]
fn every_report_scenario_through_stdin_prints_its_expected_report_natively() {
    every_report_scenario_prints_its_expected_report("native");
}

#[test]
fn every_report_scenario_through_stdin_prints_its_expected_report_through_wasm() {
    every_report_scenario_prints_its_expected_report("wasm");
}

fn every_scenario_prints_its_expected_answer(engine: &str) {
    let all = scenarios::all();
    assert!(all.len() >= 50, "only {} scenarios", all.len());
    expect_answers("decide", engine, all);
}

fn every_report_scenario_prints_its_expected_report(engine: &str) {
    let all = scenarios::reports();
    assert!(all.len() >= 8, "only {} report scenarios", all.len());
    expect_answers("render-report", engine, all);
}

/// Each scenario through `opsync VERB --engine ENGINE` prints its expected answer.
fn expect_answers(verb: &str, engine: &str, all: Vec<scenarios::Scenario>) {
    for scenario in all {
        let name = &scenario.name;
        let out = opsync(&[verb, "--engine", engine], &scenario.request);
        match &scenario.expected {
            Expected::Response(expected) => {
                assert!(
                    out.status.success(),
                    "{name}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_eq!(&out.stdout, expected, "{name}: stdout differs");
                assert!(out.stderr.is_empty(), "{name}: stderr not empty");
            }
            Expected::Error(line) => {
                assert_eq!(out.status.code(), Some(1), "{name}");
                assert!(out.stdout.is_empty(), "{name}: printed something on stdout");
                let stderr = String::from_utf8(out.stderr).unwrap();
                assert_eq!(
                    stderr.lines().count(),
                    1,
                    "{name}: one line on stderr, got {stderr:?}"
                );
                assert_eq!(stderr, format!("opsync: {line}"), "{name}");
            }
            Expected::Missing => panic!("{name}: no expected answer"),
        }
    }
}

#[test]
fn a_file_argument_reads_the_same_request() {
    let scenario = scenarios::named("contract-example");
    let path = scenario.request_path();
    let out = opsync(
        &["decide", "--engine", "native", path.to_str().unwrap()],
        b"",
    );
    assert!(out.status.success());
    assert_eq!(Expected::Response(out.stdout), scenario.expected);
}

/// `{"response": <the contract example's answer>, ...}`.
fn report_input(extra: &str) -> Vec<u8> {
    let response =
        opsync_engine::decide_json(&scenarios::named("contract-example").request).unwrap();
    [
        b"{\"response\":".as_slice(),
        &response,
        extra.as_bytes(),
        b"}",
    ]
    .concat()
}

#[test]
fn render_report_prints_the_engines_report_through_either_engine() {
    let input = report_input(r#","dry_run":true"#);
    let mut expected = opsync_engine::render_report_json(&input).unwrap();
    expected.push(b'\n');
    for engine in ["wasm", "native"] {
        let out = opsync(&["render-report", "--engine", engine], &input);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{engine}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, expected, "{engine}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report["subject"],
            "[dry run] Domain Synchronisation Report: 1 domain would change"
        );
    }
}

#[test]
fn render_report_refuses_bad_input_in_one_line_with_status_one() {
    let out = opsync(&["render-report"], br#"{"response": {}}"#);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("opsync: report input: missing field"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
    let missing = opsync(&["render-report", "/nonexistent/input.json"], b"");
    assert_eq!(missing.status.code(), Some(3));
}

#[test]
fn lookup_names_prints_the_names_openprovider_knows_through_either_engine() {
    for engine in ["wasm", "native"] {
        let out = opsync(
            &["lookup-names", "--engine", engine],
            r#"[" Example.COM. ", "Bücher.de", "a..com"]"#.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(0), "{engine}");
        let names: Vec<Option<String>> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            names,
            vec![
                Some("example.com".to_string()),
                Some("xn--bcher-kva.de".to_string()),
                None
            ]
        );
        let bad = opsync(&["lookup-names", "--engine", engine], br#"["a.com", 7]"#);
        assert_eq!(bad.status.code(), Some(1));
        assert_eq!(
            String::from_utf8(bad.stderr).unwrap(),
            "opsync: names[1]: expected a string\n"
        );
    }
}

#[test]
fn version_prints_the_engines_name_through_either_engine() {
    for engine in ["wasm", "native"] {
        let out = opsync(&["version", "--engine", engine], b"");
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("{}\n", opsync_engine::ENGINE)
        );
    }
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

//! The shared scenarios in `fixtures/scenarios/`: each `<name>.request.json` with the
//! answer every face must give, `<name>.response.json` (the response plus a newline) or
//! `<name>.error.txt` (the one-line error plus a newline). `v1/` keeps the v1 responses
//! as they were before the host fields were added; the v1 fields must still match them.
//!
//! The report scenarios in `fixtures/reports/` are alike: `<name>.input.json` (a
//! `render_report` input) with `<name>.report.json` or `<name>.error.txt`.

use std::path::{Path, PathBuf};

pub struct Scenario {
    pub name: String,
    pub request: Vec<u8>,
    pub expected: Expected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The response's bytes, with the trailing newline every command prints.
    Response(Vec<u8>),
    /// The one-line error, with its newline.
    Error(String),
    /// Neither file exists (yet): a new scenario waiting for `OPSYNC_BLESS=1`.
    Missing,
}

impl Scenario {
    pub fn request_path(&self) -> PathBuf {
        dir().join(format!("{}.request.json", self.name))
    }

    /// The response as v1 gave it, if the scenario existed then.
    pub fn v1_response(&self) -> Option<Vec<u8>> {
        std::fs::read(
            dir()
                .join("v1")
                .join(format!("{}.response.json", self.name)),
        )
        .ok()
    }
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios")
}

/// Every scenario, by name.
pub fn all() -> Vec<Scenario> {
    every(&dir(), "request.json", "response.json")
}

/// Every scenario of `dir`: each `<name>.<input>`, with its `<name>.<output>` or
/// `<name>.error.txt`, sorted by name.
fn every(dir: &Path, input: &str, output: &str) -> Vec<Scenario> {
    let suffix = format!(".{input}");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let file = e.ok()?.file_name().into_string().ok()?;
            Some(file.strip_suffix(&suffix)?.to_string())
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| load_from(dir, &name, input, output))
        .collect()
}

/// One scenario by name; panics when it does not exist.
pub fn named(name: &str) -> Scenario {
    let scenario = load(name);
    assert!(
        scenario.request_path().exists(),
        "no scenario {name} in fixtures/scenarios"
    );
    scenario
}

fn load(name: &str) -> Scenario {
    load_from(&dir(), name, "request.json", "response.json")
}

pub fn reports_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/reports")
}

/// Every report scenario, by name: `request` holds the input, `Expected::Response` the
/// report.
pub fn reports() -> Vec<Scenario> {
    every(&reports_dir(), "input.json", "report.json")
}

fn load_from(dir: &Path, name: &str, input: &str, output: &str) -> Scenario {
    let request = std::fs::read(dir.join(format!("{name}.{input}"))).unwrap_or_default();
    let response = std::fs::read(dir.join(format!("{name}.{output}")));
    let error = std::fs::read_to_string(dir.join(format!("{name}.error.txt")));
    let expected = match (response, error) {
        (Ok(bytes), _) => Expected::Response(bytes),
        (_, Ok(line)) => Expected::Error(line),
        _ => Expected::Missing,
    };
    Scenario {
        name: name.to_string(),
        request,
        expected,
    }
}

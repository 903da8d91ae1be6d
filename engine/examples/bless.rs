//! `make bless`: writes every scenario's expected answer as the engine gives it now, after
//! a deliberate rule change. The tests never write them; read the diff line by line
//! (`git diff fixtures/`) before committing it.
//!
//! - `fixtures/scenarios/<name>.request.json` -> `<name>.response.json` or `.error.txt`
//! - `fixtures/reports/<name>.input.json` -> `<name>.report.json` or `.error.txt`
//! - `fixtures/runs/<name>.world.json` -> `<name>.run.jsonl` (the run in the simulated
//!   world, recorded as the script every face replays)

use std::path::Path;

use opsync_testkit::{scenarios, sim};

/// The answer as a face prints it: the bytes and a newline, or the error line.
fn write(dir: &Path, name: &str, ok_suffix: &str, answer: Result<Vec<u8>, String>) -> bool {
    let (keep, drop, bytes) = match answer {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            (ok_suffix, "error.txt", bytes)
        }
        Err(line) => ("error.txt", ok_suffix, format!("{line}\n").into_bytes()),
    };
    let _ = std::fs::remove_file(dir.join(format!("{name}.{drop}")));
    let path = dir.join(format!("{name}.{keep}"));
    let changed = std::fs::read(&path).ok().as_deref() != Some(&bytes[..]);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    changed
}

fn main() {
    let mut changed = Vec::new();
    let decide = scenarios::all();
    for s in &decide {
        let answer = opsync_engine::decide_json(&s.request).map_err(|e| e.to_string());
        if write(&scenarios::dir(), &s.name, "response.json", answer) {
            changed.push(format!("scenarios/{}", s.name));
        }
    }
    let reports = scenarios::reports();
    for s in &reports {
        let answer = opsync_engine::render_report_json(&s.request).map_err(|e| e.to_string());
        if write(&scenarios::reports_dir(), &s.name, "report.json", answer) {
            changed.push(format!("reports/{}", s.name));
        }
    }
    let runs = sim::definitions();
    for (name, def) in &runs {
        let mut world = def.world();
        let ran = world.run(&def.start, &def.schedule);
        let mut bytes = Vec::new();
        for line in &ran.script {
            bytes.extend_from_slice(line);
            bytes.push(b'\n');
        }
        let path = sim::runs_dir().join(format!("{name}.run.jsonl"));
        if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            changed.push(format!("runs/{name}"));
        }
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    println!(
        "bless: {} decide, {} report and {} run scenarios written; {} changed{}",
        decide.len(),
        reports.len(),
        runs.len(),
        changed.len(),
        if changed.is_empty() {
            String::new()
        } else {
            format!(": {}", changed.join(", "))
        }
    );
}

//! The run scenarios (`fixtures/runs/`): every recorded run replayed through the engine
//! compiled into this crate, each outputs compared byte for byte. The other faces
//! (wasmtime, PHP FFI, Node) replay the same scripts.

use opsync_engine::run::Run;
use opsync_testkit::sim;

#[test]
fn every_run_scenario_replays_byte_for_byte() {
    let scripts = sim::scripts();
    assert!(scripts.len() >= 18, "{} run scenarios", scripts.len());
    for script in scripts {
        script.replay(Run::start_json, |run, header, body| {
            run.handle_json(header, body)
        });
    }
}

#[test]
fn every_run_scenario_ends_with_an_outcome() {
    for script in sim::scripts() {
        let last = script.steps.last().map_or(&script.first, |s| &s.2);
        let out: serde_json::Value = serde_json::from_slice(last).unwrap();
        assert!(
            out["outcome"].is_object(),
            "{}: the script ends without an outcome",
            script.name
        );
    }
}

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
        let (mut run, first) = Run::start_json(&script.start)
            .unwrap_or_else(|e| panic!("{}: the start: {e}", script.name));
        assert_eq!(
            String::from_utf8_lossy(&first),
            String::from_utf8_lossy(&script.first),
            "{}: the first outputs",
            script.name
        );
        for (i, (header, body, expected)) in script.steps.iter().enumerate() {
            let out = run
                .handle_json(header, body)
                .unwrap_or_else(|e| panic!("{} step {}: {e}", script.name, i + 1));
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(expected),
                "{} step {}",
                script.name,
                i + 1
            );
        }
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

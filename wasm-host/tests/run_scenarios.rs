//! The run scenarios (`fixtures/runs/`) through `engine.wasm` in wasmtime, one instance
//! per run, every outputs compared byte for byte with the recorded script.

use opsync_testkit::sim;
use opsync_wasm_host::WasmEngine;

#[test]
fn every_run_scenario_replays_byte_for_byte_in_wasmtime() {
    let engine = WasmEngine::new(None).expect("engine.wasm loads");
    let scripts = sim::scripts();
    assert!(!scripts.is_empty());
    for script in scripts {
        script.replay(
            |start| {
                let mut run = engine.run()?;
                let first = run.start(start)?;
                Ok::<_, opsync_wasm_host::CallError>((run, first))
            },
            |run, header, body| run.feed(header, body),
        );
    }
}

#[test]
fn a_bad_input_is_refused_and_the_run_goes_on() {
    let engine = WasmEngine::new(None).expect("engine.wasm loads");
    let script = sim::scripts()
        .into_iter()
        .find(|s| s.name == "clean-sync")
        .expect("the clean-sync scenario");
    let mut run = engine.run().unwrap();
    run.start(&script.start).unwrap();
    let err = run.feed(b"{not json", b"").unwrap_err();
    assert!(
        err.to_string().starts_with("input: not a run's input"),
        "{err}"
    );
    let err = run.feed(br#"{"now_ms": 1, "id": 999}"#, b"").unwrap_err();
    assert!(
        err.to_string().contains("exactly one of ok and error"),
        "{err}"
    );
    let (header, body, expected) = &script.steps[0];
    assert_eq!(
        run.feed(header, body).unwrap(),
        *expected,
        "the run goes on"
    );
}

#[test]
fn a_run_keeps_its_memory_between_calls_and_frees_what_it_was_fed() {
    let engine = WasmEngine::new(None).expect("engine.wasm loads");
    let script = sim::scripts()
        .into_iter()
        .find(|s| s.name == "clean-sync")
        .unwrap();
    // The same run twice over in one process: each instance starts afresh.
    for _ in 0..2 {
        let mut run = engine.run().unwrap();
        run.start(&script.start).unwrap();
        for (header, body, expected) in &script.steps {
            assert_eq!(&run.feed(header, body).unwrap(), expected);
        }
        assert!(
            run.memory_bytes() < 64 << 20,
            "{} bytes",
            run.memory_bytes()
        );
    }
}

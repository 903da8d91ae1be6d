//! The wasmtime host: `engine.wasm` imports nothing, answers like the native engine to the
//! byte, survives traps, fuel and memory exhaustion, and caches its compiled module.

use std::sync::OnceLock;

use opsync_wasm_host::{CacheOutcome, CallError, Limits, WasmEngine, ENGINE_WASM};
use proptest::prelude::*;

fn engine() -> &'static WasmEngine {
    static ENGINE: OnceLock<WasmEngine> = OnceLock::new();
    ENGINE.get_or_init(|| WasmEngine::new(None).expect("engine.wasm loads"))
}

#[test]
fn engine_wasm_imports_nothing_and_exports_the_abi() {
    let module = engine().module();
    let imports: Vec<String> = module
        .imports()
        .map(|i| format!("{}.{}", i.module(), i.name()))
        .collect();
    assert!(imports.is_empty(), "engine.wasm imports {imports:?}");
    let exports: Vec<&str> = module.exports().map(|e| e.name()).collect();
    for name in [
        "memory",
        "alloc",
        "dealloc",
        "decide",
        "render_report",
        "lookup_names",
        "version",
    ] {
        assert!(
            exports.contains(&name),
            "engine.wasm does not export {name}: {exports:?}"
        );
    }
}

#[test]
fn a_module_with_imports_is_refused() {
    let wasm =
        wat::parse_str(r#"(module (import "env" "clock" (func)) (memory (export "memory") 1))"#)
            .unwrap();
    let Err(err) = WasmEngine::from_wasm(&wasm) else {
        panic!("a module with imports was accepted")
    };
    assert_eq!(
        err.to_string(),
        "engine.wasm could not be run: engine.wasm must import nothing, but imports env.clock"
    );
}

#[test]
fn version_names_the_engine() {
    assert_eq!(engine().version().unwrap(), opsync_engine::ENGINE);
}

/// Each scenario's answer through engine.wasm is the native engine's, byte for byte.
fn same_as_native(
    all: &[opsync_testkit::scenarios::Scenario],
    native: fn(&[u8]) -> Result<Vec<u8>, opsync_engine::RequestError>,
    verb: opsync_wasm_host::Verb,
) {
    for scenario in all {
        let native = native(&scenario.request).map_err(|e| e.to_string());
        let wasm = engine()
            .answer(verb, &scenario.request, Limits::default())
            .map_err(|e| match e {
                CallError::Invalid(line) => line,
                other => panic!("{}: {other}", scenario.name),
            });
        assert_eq!(native, wasm, "{}", scenario.name);
    }
}

#[test]
fn every_scenario_gives_the_native_bytes() {
    let all = opsync_testkit::scenarios::all();
    same_as_native(
        &all,
        opsync_engine::decide_json,
        opsync_wasm_host::Verb::Decide,
    );
    assert!(all.len() >= 50, "only {} scenarios", all.len());
}

#[test]
fn every_report_scenario_gives_the_native_bytes() {
    let all = opsync_testkit::scenarios::reports();
    same_as_native(
        &all,
        opsync_engine::render_report_json,
        opsync_wasm_host::Verb::RenderReport,
    );
    assert!(all.len() >= 8, "only {} report scenarios", all.len());
}

#[test]
fn report_rendering_gives_the_native_bytes() {
    let request = opsync_engine::synthetic::request(300, 7);
    let response = opsync_engine::decide_json(&request).unwrap();
    let input = [
        b"{\"dry_run\":true,\"response\":".as_slice(),
        &response,
        b"}",
    ]
    .concat();
    let native = opsync_engine::render_report_json(&input).unwrap();
    assert_eq!(
        engine().render_report(&input, Limits::default()).unwrap(),
        native
    );
}

#[test]
fn running_out_of_fuel_is_a_clean_error_and_the_next_call_succeeds() {
    let request = opsync_engine::synthetic::request(2_000, 10);
    let err = engine()
        .decide(
            &request,
            Limits {
                fuel: Some(1_000_000),
                memory: None,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        CallError::OutOfFuel {
            budget: 1_000_000,
            input_len: request.len()
        }
    );
    assert!(
        err.to_string()
            .starts_with("engine.wasm ran out of fuel (1000000 units"),
        "{err}"
    );
    let after = engine().decide(&request, Limits::default()).unwrap();
    assert_eq!(after, opsync_engine::decide_json(&request).unwrap());
}

#[test]
fn hitting_the_memory_cap_is_a_clean_error_and_the_next_call_succeeds() {
    let request = opsync_engine::synthetic::request(5_000, 10);
    let cap = 4 << 20;
    let err = engine()
        .decide(
            &request,
            Limits {
                fuel: None,
                memory: Some(cap),
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        CallError::OutOfMemory {
            cap,
            input_len: request.len()
        }
    );
    assert!(err.to_string().contains("cap of 4 MiB"), "{err}");
    assert!(engine().decide(&request, Limits::default()).is_ok());
}

#[test]
fn a_trap_is_a_clean_error_and_the_host_keeps_serving() {
    let wasm = wat::parse_str(
        r#"(module
            (memory (export "memory") 1)
            (global $calls (mut i32) (i32.const 0))
            (func (export "alloc") (param i32) (result i32) (i32.const 1024))
            (func (export "decide") (param i32 i32) (result i64)
                ;; The first call in a store traps; state never survives into the next call.
                (if (i32.eqz (global.get $calls)) (then (global.set $calls (i32.const 1)) (unreachable)))
                (i64.const 0)))"#,
    )
    .unwrap();
    let host = WasmEngine::from_wasm(&wasm).unwrap();
    for _ in 0..3 {
        let err = host.decide(b"{}", Limits::default()).unwrap_err();
        assert!(matches!(err, CallError::Trap(_)), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("engine.wasm stopped with a trap"),
            "{err}"
        );
    }
    // The real engine in the same process is unaffected.
    assert!(engine()
        .decide(
            b"{\"whmcs\":[],\"openprovider\":{\"domains\":[]}}",
            Limits::default()
        )
        .is_ok());
}

#[test]
fn the_compiled_module_is_cached_and_a_bad_cache_file_is_replaced() {
    let dir = std::env::temp_dir().join(format!("opsync-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        WasmEngine::new(Some(&dir)).unwrap().cache,
        CacheOutcome::Stored
    );
    assert_eq!(
        WasmEngine::new(Some(&dir)).unwrap().cache,
        CacheOutcome::Hit
    );

    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!(
            "engine-{}-",
            &opsync_wasm_host::ENGINE_SHA256[..16]
        )),
        "{name}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );

    std::fs::write(&files[0], b"not a module").unwrap();
    let host = WasmEngine::new(Some(&dir)).unwrap();
    assert_eq!(
        host.cache,
        CacheOutcome::Stored,
        "a corrupt file is recompiled and replaced"
    );
    assert!(host
        .decide(
            b"{\"whmcs\":[],\"openprovider\":{\"domains\":[]}}",
            Limits::default()
        )
        .is_ok());

    // A cache directory others can write to is not trusted.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(
        WasmEngine::new(Some(&dir)).unwrap().cache,
        CacheOutcome::Uncached
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_embedded_module_is_the_engine_built_for_wasm32() {
    assert_eq!(&ENGINE_WASM[..4], b"\0asm");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Random requests give identical bytes (or the identical error) native and wasm.
    #[test]
    fn native_and_wasm_agree_on_random_requests(req in opsync_engine::arbitrary::request()) {
        let bytes = serde_json::to_vec(&req).unwrap();
        let native = opsync_engine::decide_json(&bytes).map_err(|e| e.to_string());
        let wasm = engine().decide(&bytes, Limits::default()).map_err(|e| e.to_string());
        prop_assert_eq!(native, wasm);
    }

    /// Even broken requests get the same error line from both.
    #[test]
    fn native_and_wasm_agree_on_arbitrary_json(junk in opsync_engine::arbitrary::arb_json()) {
        let bytes = serde_json::to_vec(&junk).unwrap();
        let native = opsync_engine::decide_json(&bytes).map_err(|e| e.to_string());
        let wasm = engine().decide(&bytes, Limits::default()).map_err(|e| e.to_string());
        prop_assert_eq!(native, wasm);
    }
}

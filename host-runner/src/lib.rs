//! The native host of opsync: thin I/O around `opsync-engine`.
//!
//! - [`wasm`]: runs the embedded `engine.wasm` in wasmtime (the default engine).

pub mod wasm;

/// Which build of the engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// `engine.wasm`, embedded at build time, run by wasmtime.
    Wasm,
    /// The engine compiled into this program.
    Native,
}

/// Contract v1 through the chosen engine: request bytes in, response bytes out; the
/// error is the one line the contract asks for.
pub fn decide(request: &[u8], engine: EngineChoice) -> Result<Vec<u8>, String> {
    match engine {
        EngineChoice::Native => opsync_engine::decide_json(request).map_err(|e| e.to_string()),
        EngineChoice::Wasm => wasm::WasmEngine::global()
            .and_then(|e| e.decide(request, wasm::Limits::default()))
            .map_err(|e| e.to_string()),
    }
}

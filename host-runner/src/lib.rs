//! The native host of opsync: thin I/O around `opsync-engine`.
//!
//! - [`sync`]: one sync run, the cron flow.
//! - [`wasm`]: runs the embedded `engine.wasm` in wasmtime (the default engine).
//! - [`config`]: `opsync.toml`, the environment and the command line.
//! - [`mail`]: the report email over SMTP.
//! - [`openprovider`]: the Openprovider REST client.
//! - [`whmcs`]: the WHMCS database (MySQL/MariaDB or SQLite).

pub mod config;
pub mod mail;
pub mod openprovider;
mod private_file;
pub mod sync;
pub mod wasm;
pub mod whmcs;

pub use wasm::CallError;

/// Which build of the engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// `engine.wasm`, embedded at build time, run by wasmtime.
    Wasm,
    /// The engine compiled into this program.
    Native,
}

/// Contract v1 through the chosen engine: request bytes in, response bytes out. An
/// invalid request is [`CallError::Invalid`] with the contract's one-line error.
pub fn decide(request: &[u8], engine: EngineChoice) -> Result<Vec<u8>, CallError> {
    match engine {
        EngineChoice::Native => {
            opsync_engine::decide_json(request).map_err(|e| CallError::Invalid(e.to_string()))
        }
        EngineChoice::Wasm => {
            wasm::WasmEngine::global().and_then(|e| e.decide(request, wasm::Limits::default()))
        }
    }
}

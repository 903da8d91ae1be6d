//! The native host of opsync: thin I/O around `opsync-engine`.
//!
//! - [`sync`]: one sync run, the cron flow, one function per step.
//! - [`wasm`]: runs the embedded `engine.wasm` in wasmtime (the default engine).
//! - [`config`]: `opsync.toml`, the environment and the command line.
//! - [`mail`]: the report email over SMTP.
//! - [`openprovider`]: the Openprovider REST client.
//! - [`whmcs`]: the WHMCS database (MySQL/MariaDB or SQLite).
//! - [`progress`]: what a run shows on a terminal.
//!
//! The engine's verbs, [`decide`], [`render_report`], [`lookup_names`] and [`version`],
//! are the same on every face; here either build of the engine answers them.

pub mod config;
pub mod mail;
pub mod openprovider;
mod private_file;
pub mod progress;
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

/// A decide request's bytes in, the response's bytes out. An invalid request is
/// [`CallError::Invalid`] with the contract's one-line error.
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

/// A report input's bytes in, the report's bytes out; invalid input is
/// [`CallError::Invalid`] with a one-line error.
pub fn render_report(input: &[u8], engine: EngineChoice) -> Result<Vec<u8>, CallError> {
    match engine {
        EngineChoice::Native => {
            opsync_engine::render_report_json(input).map_err(|e| CallError::Invalid(e.to_string()))
        }
        EngineChoice::Wasm => {
            wasm::WasmEngine::global().and_then(|e| e.render_report(input, wasm::Limits::default()))
        }
    }
}

/// A JSON array of domain names in, the names Openprovider knows them by out (`null`
/// for a name that is no usable domain name).
pub fn lookup_names(input: &[u8], engine: EngineChoice) -> Result<Vec<u8>, CallError> {
    match engine {
        EngineChoice::Native => {
            opsync_engine::lookup_names_json(input).map_err(|e| CallError::Invalid(e.to_string()))
        }
        EngineChoice::Wasm => {
            wasm::WasmEngine::global().and_then(|e| e.lookup_names(input, wasm::Limits::default()))
        }
    }
}

/// The engine's name and version, e.g. `opsync-engine 0.1.0`.
pub fn version(engine: EngineChoice) -> Result<String, CallError> {
    match engine {
        EngineChoice::Native => Ok(opsync_engine::ENGINE.to_string()),
        EngineChoice::Wasm => wasm::WasmEngine::global().and_then(|e| e.version()),
    }
}

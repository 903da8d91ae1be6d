//! The native host of opsync: thin I/O around `opsync-engine`. The engine holds the run
//! (its run protocol); this crate only carries its requests out.
//!
//! - [`run`]: the loop that carries a run's requests out and feeds back what happened.
//! - [`wasm`]: runs the embedded `engine.wasm` in wasmtime (the default engine).
//! - [`config`]: `opsync.toml`, the environment and the command line.
//! - [`whmcs`]: the WHMCS database (MySQL/MariaDB or SQLite).
//! - [`http`]: Openprovider's HTTP, each call as the engine spelled it out.
//! - [`mail`]: the report email over SMTP.
//! - [`check`]: `opsync check`; [`metrics`]: the Prometheus file; [`progress`]: what a
//!   run shows on a terminal.
//!
//! The engine's verbs ([`Verb`] and [`version`]) are the same on every face; here either
//! build of the engine answers them ([`answer`]).

pub mod check;
pub mod config;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod progress;
pub mod run;
pub mod whmcs;

/// `engine.wasm` in wasmtime (the `opsync-wasm-host` crate, shared with the PHP library).
pub use opsync_wasm_host as wasm;
pub use opsync_wasm_host::{private_file, CallError, Verb};

/// Which build of the engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// `engine.wasm`, embedded at build time, run by wasmtime.
    Wasm,
    /// The engine compiled into this program.
    Native,
}

/// A verb answered by the engine compiled into this program.
fn native(verb: Verb, input: &[u8]) -> Result<Vec<u8>, opsync_engine::RequestError> {
    match verb {
        Verb::Decide => opsync_engine::decide_json(input),
        Verb::RenderReport => opsync_engine::render_report_json(input),
        Verb::LookupNames => opsync_engine::lookup_names_json(input),
        Verb::Settings => opsync_engine::settings_json(input),
    }
}

/// A verb's answer from the chosen engine. Invalid input is [`CallError::Invalid`] with
/// the contract's one-line error.
pub fn answer(verb: Verb, input: &[u8], engine: EngineChoice) -> Result<Vec<u8>, CallError> {
    match engine {
        EngineChoice::Native => native(verb, input).map_err(|e| CallError::Invalid(e.to_string())),
        EngineChoice::Wasm => {
            wasm::WasmEngine::global().and_then(|e| e.answer(verb, input, wasm::Limits::default()))
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

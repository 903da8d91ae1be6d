//! Runs the embedded `engine.wasm` in wasmtime: the engine's verbs (each call in a fresh
//! instance) and its run protocol ([`RunInstance`]: one instance for the whole run). The
//! `opsync` command and the PHP library (`libopsync_php.so`) both use it; it links
//! wasmtime and nothing of a host's I/O.
//!
//! - One wasmtime `Engine` and `Module` per process ([`WasmEngine::global`]); every call
//!   gets a fresh `Store` and instance, so nothing one call does can reach the next.
//! - Each call has a fuel budget and a memory cap sized from its input; a trap, running
//!   out of fuel or hitting the cap is a [`CallError`], and the host keeps serving.
//! - The compiled module is cached on disk, keyed by the engine's SHA-256, wasmtime's
//!   version and this configuration, so a new process does not recompile it.
//!
//! The ABI (`alloc`, `dealloc`, `decide`, `render_report`, `lookup_names`, `version`) is described in
//! `engine/src/abi.rs`. The module imports nothing; [`WasmEngine::new`] refuses one that does.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wasmtime::{Config, Engine, Instance, Module, ResourceLimiter, Store, Trap};

pub mod private_file;
mod run;

pub use run::RunInstance;

/// The engine's verbs that take JSON bytes and answer JSON bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// A request in, the response out.
    Decide,
    /// A report input in, the report out.
    RenderReport,
    /// Domain names in, the names Openprovider knows them by out.
    LookupNames,
    /// The raw settings in, the settings as a run reads them out.
    Settings,
}

impl Verb {
    /// The export of `engine.wasm` that answers it.
    pub fn export(self) -> &'static str {
        match self {
            Verb::Decide => "decide",
            Verb::RenderReport => "render_report",
            Verb::LookupNames => "lookup_names",
            Verb::Settings => "settings",
        }
    }
}

/// The engine, built for wasm32 by `build.rs`.
pub static ENGINE_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/engine.wasm"));

/// SHA-256 of [`ENGINE_WASM`], hex.
pub const ENGINE_SHA256: &str = env!("OPSYNC_ENGINE_SHA256");

/// Fuel for a call: a fixed part plus a part per input byte. One unit is about one wasm
/// instruction; deciding costs about 160 units per request byte (see BENCHMARKS.md), so
/// this leaves a wide margin while still stopping a runaway call within seconds.
pub(crate) const FUEL_BASE: u64 = 50_000_000;
pub(crate) const FUEL_PER_BYTE: u64 = 1_000;

/// Memory for a call: a fixed part plus a multiple of the input. Deciding peaks at about
/// 3.6 times the request size (see BENCHMARKS.md).
pub(crate) const MEMORY_BASE: usize = 32 << 20;
pub(crate) const MEMORY_PER_BYTE: usize = 12;
/// wasm32 cannot address more.
pub(crate) const MEMORY_MAX: usize = 4 << 30;

/// Why a call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The engine judged the request invalid: the contract's one-line error.
    #[error("{0}")]
    Invalid(String),
    #[error("engine.wasm ran out of fuel ({budget} units for a {input_len}-byte input); nothing was decided")]
    OutOfFuel { budget: u64, input_len: usize },
    #[error("engine.wasm needed more memory than its cap of {} MiB for a {input_len}-byte input; nothing was decided", cap >> 20)]
    OutOfMemory { cap: usize, input_len: usize },
    #[error("engine.wasm stopped with a trap ({0}); nothing was decided")]
    Trap(String),
    #[error("engine.wasm could not be run: {0}")]
    Host(String),
}

/// Per-call limits; `None` sizes them from the input.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub fuel: Option<u64>,
    pub memory: Option<usize>,
}

impl Limits {
    fn fuel_for(&self, input_len: usize) -> u64 {
        self.fuel.unwrap_or_else(|| {
            FUEL_BASE.saturating_add(FUEL_PER_BYTE.saturating_mul(input_len as u64))
        })
    }

    fn memory_for(&self, input_len: usize) -> usize {
        self.memory
            .unwrap_or_else(|| {
                MEMORY_BASE.saturating_add(MEMORY_PER_BYTE.saturating_mul(input_len))
            })
            .min(MEMORY_MAX)
    }
}

/// Where the compiled module came from when this process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Read from the on-disk cache.
    Hit,
    /// Compiled now and written to the cache.
    Stored,
    /// Compiled now; no usable cache directory.
    Uncached,
}

pub struct WasmEngine {
    engine: Engine,
    module: Module,
    pub cache: CacheOutcome,
}

pub(crate) struct CallState {
    pub(crate) cap: usize,
    pub(crate) denied: bool,
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.cap;
        self.denied |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 10_000)
    }
}

impl WasmEngine {
    /// The process's engine: compiled (or read from the cache) on first use.
    pub fn global() -> Result<&'static WasmEngine, CallError> {
        static GLOBAL: OnceLock<Result<WasmEngine, CallError>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| WasmEngine::new(default_cache_dir().as_deref()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Loads the embedded module, through the cache in `cache_dir` when given.
    pub fn new(cache_dir: Option<&Path>) -> Result<WasmEngine, CallError> {
        WasmEngine::load(ENGINE_WASM, &ENGINE_SHA256[..16], cache_dir)
    }

    /// Loads another module with the same ABI, uncached (tests use it for modules that
    /// misbehave on purpose).
    pub fn from_wasm(wasm: &[u8]) -> Result<WasmEngine, CallError> {
        WasmEngine::load(wasm, "", None)
    }

    fn load(wasm: &[u8], key: &str, cache_dir: Option<&Path>) -> Result<WasmEngine, CallError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        let engine = Engine::new(&config).map_err(host_error)?;
        let (module, cache) = load_module(&engine, wasm, key, cache_dir)?;
        if let Some(import) = module.imports().next() {
            return Err(CallError::Host(format!(
                "engine.wasm must import nothing, but imports {}.{}",
                import.module(),
                import.name()
            )));
        }
        Ok(WasmEngine {
            engine,
            module,
            cache,
        })
    }

    /// One of the engine's verbs: its input's bytes in, its answer's bytes out.
    pub fn answer(&self, verb: Verb, input: &[u8], limits: Limits) -> Result<Vec<u8>, CallError> {
        self.call(verb.export(), input, limits)
    }

    /// Contract v1: a request's bytes in, the response's bytes out.
    pub fn decide(&self, request: &[u8], limits: Limits) -> Result<Vec<u8>, CallError> {
        self.answer(Verb::Decide, request, limits)
    }

    /// [`WasmEngine::decide`] on a request the caller hands over: its bytes are freed once
    /// they are in the engine's memory, before the engine runs, so a large request is
    /// never held twice while it is decided.
    pub fn decide_owned(&self, request: Vec<u8>, limits: Limits) -> Result<Vec<u8>, CallError> {
        self.call_input(Verb::Decide.export(), Input::Owned(request), limits)
    }

    /// `{response, dry_run?, send_empty?, failures?}` in, `{send, subject, text, html}` out.
    pub fn render_report(&self, input: &[u8], limits: Limits) -> Result<Vec<u8>, CallError> {
        self.answer(Verb::RenderReport, input, limits)
    }

    /// The engine's name and version, e.g. `opsync-engine 0.1.0`.
    pub fn version(&self) -> Result<String, CallError> {
        let mut store = self.store(Limits::default(), 0)?;
        let instance = Instance::new(&mut store, &self.module, &[]).map_err(host_error)?;
        let version = instance
            .get_typed_func::<(), u64>(&mut store, "version")
            .map_err(host_error)?;
        let packed = version
            .call(&mut store, ())
            .map_err(|e| trap_error(e, &store, 0, 0))?;
        match read_answer(&instance, &mut store, packed)?.split_first() {
            Some((0, name)) => String::from_utf8(name.to_vec())
                .map_err(|_| CallError::Host("version is not UTF-8".into())),
            _ => Err(CallError::Host("engine.wasm gave no version".into())),
        }
    }

    /// The compiled module, as wasmtime serialises it.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The settings verb: the raw settings in, the settings as a run reads them out.
    pub fn settings(&self, input: &[u8]) -> Result<Vec<u8>, CallError> {
        self.answer(Verb::Settings, input, Limits::default())
    }

    pub(crate) fn store(
        &self,
        limits: Limits,
        input_len: usize,
    ) -> Result<Store<CallState>, CallError> {
        let state = CallState {
            cap: limits.memory_for(input_len),
            denied: false,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| s);
        store
            .set_fuel(limits.fuel_for(input_len))
            .map_err(host_error)?;
        Ok(store)
    }

    fn call(&self, export: &str, input: &[u8], limits: Limits) -> Result<Vec<u8>, CallError> {
        self.call_input(export, Input::Borrowed(input), limits)
    }

    fn call_input(
        &self,
        export: &str,
        input: Input<'_>,
        limits: Limits,
    ) -> Result<Vec<u8>, CallError> {
        let input_len = input.bytes().len();
        let len = u32::try_from(input_len).map_err(|_| {
            CallError::Host(format!("a {input_len}-byte input does not fit wasm32"))
        })?;
        let budget = limits.fuel_for(input_len);
        let mut store = self.store(limits, input_len)?;
        let instance = Instance::new(&mut store, &self.module, &[])
            .map_err(|e| trap_error(e, &store, budget, input_len))?;
        let alloc = instance
            .get_typed_func::<u32, u32>(&mut store, "alloc")
            .map_err(host_error)?;
        let entry = instance
            .get_typed_func::<(u32, u32), u64>(&mut store, export)
            .map_err(host_error)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| CallError::Host("engine.wasm exports no memory".into()))?;

        let ptr = alloc
            .call(&mut store, len)
            .map_err(|e| trap_error(e, &store, budget, input_len))?;
        memory
            .write(&mut store, ptr as usize, input.bytes())
            .map_err(|_| CallError::Host("the input buffer lies outside engine memory".into()))?;
        // The engine has its copy: an input handed over is freed before the engine runs.
        drop(input);
        let packed = entry
            .call(&mut store, (ptr, len))
            .map_err(|e| trap_error(e, &store, budget, input_len))?;
        let mut answer = read_answer(&instance, &mut store, packed)?;
        // The store, and with it every byte the call touched, goes before the answer is
        // looked at; the answer is moved, not copied again.
        drop(store);
        match answer.first().copied() {
            Some(0) => {
                answer.remove(0);
                Ok(answer)
            }
            Some(1) => Err(CallError::Invalid(
                String::from_utf8_lossy(&answer[1..]).into_owned(),
            )),
            _ => Err(CallError::Host(
                "engine.wasm gave an answer without a status byte".into(),
            )),
        }
    }

    /// Fuel a call would have left after running `export` on `input`: for measurements.
    pub fn fuel_used(&self, input: &[u8]) -> Result<(u64, usize), CallError> {
        let limits = Limits {
            fuel: Some(u64::MAX / 2),
            memory: Some(MEMORY_MAX),
        };
        let mut store = self.store(limits, input.len())?;
        let instance = Instance::new(&mut store, &self.module, &[]).map_err(host_error)?;
        let alloc = instance
            .get_typed_func::<u32, u32>(&mut store, "alloc")
            .map_err(host_error)?;
        let decide = instance
            .get_typed_func::<(u32, u32), u64>(&mut store, "decide")
            .map_err(host_error)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| CallError::Host("no memory".into()))?;
        let ptr = alloc
            .call(&mut store, input.len() as u32)
            .map_err(host_error)?;
        memory
            .write(&mut store, ptr as usize, input)
            .map_err(host_error)?;
        decide
            .call(&mut store, (ptr, input.len() as u32))
            .map_err(host_error)?;
        let left = store.get_fuel().map_err(host_error)?;
        Ok((u64::MAX / 2 - left, memory.data_size(&store)))
    }
}

/// An engine call's input: lent by the caller, or handed over (freed once copied in).
enum Input<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Input<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Borrowed(bytes) => bytes,
            Input::Owned(bytes) => bytes,
        }
    }
}

pub(crate) fn read_answer(
    instance: &Instance,
    store: &mut Store<CallState>,
    packed: u64,
) -> Result<Vec<u8>, CallError> {
    let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| CallError::Host("engine.wasm exports no memory".into()))?;
    memory
        .data(&*store)
        .get(ptr..ptr.saturating_add(len))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| CallError::Host("engine.wasm answered outside its memory".into()))
}

pub(crate) fn host_error(e: impl std::fmt::Display) -> CallError {
    CallError::Host(e.to_string())
}

pub(crate) fn trap_error(
    e: wasmtime::Error,
    store: &Store<CallState>,
    budget: u64,
    input_len: usize,
) -> CallError {
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => CallError::OutOfFuel { budget, input_len },
        _ if store.data().denied => CallError::OutOfMemory {
            cap: store.data().cap,
            input_len,
        },
        Some(trap) => CallError::Trap(trap.to_string()),
        None => CallError::Trap(e.to_string()),
    }
}

/// `OPSYNC_CACHE_DIR`, else `$XDG_CACHE_HOME/opsync`, else `~/.cache/opsync`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("OPSYNC_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("opsync"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|home| PathBuf::from(home).join(".cache/opsync"))
}

/// The cache file for the module keyed `key` under this wasmtime and configuration.
fn cache_file(engine: &Engine, key: &str, dir: &Path) -> PathBuf {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let compat = hasher.finish();
    dir.join(format!("engine-{key}-{compat:016x}.cwasm"))
}

fn load_module(
    engine: &Engine,
    wasm: &[u8],
    key: &str,
    cache_dir: Option<&Path>,
) -> Result<(Module, CacheOutcome), CallError> {
    let Some(dir) = cache_dir.filter(|d| !key.is_empty() && prepare_cache_dir(d)) else {
        let module = Module::new(engine, wasm).map_err(host_error)?;
        return Ok((module, CacheOutcome::Uncached));
    };
    let file = cache_file(engine, key, dir);
    if file.exists() {
        // SAFETY: the file is in a directory only this user can write (checked above),
        // named by the engine's hash and wasmtime's compatibility hash; wasmtime checks
        // the header and refuses a file made by another version or configuration.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, &file) } {
            return Ok((module, CacheOutcome::Hit));
        }
    }
    let module = Module::new(engine, wasm).map_err(host_error)?;
    let stored = module
        .serialize()
        .ok()
        .and_then(|bytes| crate::private_file::write(&file, &bytes).ok())
        .is_some();
    Ok((
        module,
        if stored {
            CacheOutcome::Stored
        } else {
            CacheOutcome::Uncached
        },
    ))
}

/// Creates the cache directory (mode 0700) and says whether it is safe to trust: owned by
/// this user and writable by no one else.
fn prepare_cache_dir(dir: &Path) -> bool {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    if !dir.exists()
        && std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .is_err()
    {
        return false;
    }
    let Ok(meta) = std::fs::metadata(dir) else {
        return false;
    };
    meta.is_dir()
        && meta.uid() == crate::private_file::euid()
        && meta.permissions().mode() & 0o022 == 0
}

//! The C ABI PHP's FFI loads (`include/opsync.h`): the same wasmtime host and the same
//! `engine.wasm` as the `opsync` command, so PHP inside WHMCS decides exactly as cron does.
//! It links wasmtime and the engine only: no database driver, HTTP or mail client.
//!
//! The run protocol goes through a handle: `opsync_run_start` starts a run in an instance
//! of its own and hands back the handle, `opsync_run_feed` feeds it one input,
//! `opsync_run_free` lets it go.
//!
//! Every call returns a status and hands back a buffer the caller frees with
//! `opsync_free`: 0 = the answer, 1 = the request is invalid (the contract's one-line
//! error), 2 = the engine could not answer (trap, fuel, memory; a one-line message).
//! Nothing panics across the boundary.

use std::collections::BTreeMap;
use std::os::raw::c_char;
use std::sync::Mutex;

use opsync_wasm_host::{CallError, Limits, RunInstance, Verb, WasmEngine};

const OK: i32 = 0;
const INVALID: i32 = 1;
const FAILED: i32 = 2;

/// # Safety
/// `request` points to `request_len` readable bytes; `out` and `out_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn opsync_decide(
    request: *const c_char,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    call(Verb::Decide, request, request_len, out, out_len)
}

/// # Safety
/// As for `opsync_decide`.
#[no_mangle]
pub unsafe extern "C" fn opsync_render_report(
    input: *const c_char,
    input_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    call(Verb::RenderReport, input, input_len, out, out_len)
}

/// # Safety
/// As for `opsync_decide`.
#[no_mangle]
pub unsafe extern "C" fn opsync_lookup_names(
    input: *const c_char,
    input_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    call(Verb::LookupNames, input, input_len, out, out_len)
}

/// # Safety
/// As for `opsync_decide`.
#[no_mangle]
pub unsafe extern "C" fn opsync_settings(
    input: *const c_char,
    input_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    call(Verb::Settings, input, input_len, out, out_len)
}

/// The runs started and not yet freed, by handle.
static RUNS: Mutex<BTreeMap<u64, RunInstance>> = Mutex::new(BTreeMap::new());
static NEXT_RUN: Mutex<u64> = Mutex::new(1);

/// Starts a run: `start` is the run's start (JSON); `*handle` gets the run's handle (0
/// when it did not start) and `*out` its first outputs.
///
/// # Safety
/// As for `opsync_decide`; `handle` is writable.
#[no_mangle]
pub unsafe extern "C" fn opsync_run_start(
    start: *const c_char,
    start_len: usize,
    handle: *mut u64,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    let start = bytes(start, start_len);
    if !handle.is_null() {
        *handle = 0;
    }
    let result = std::panic::catch_unwind(|| {
        let mut run = WasmEngine::global()?.run()?;
        let outputs = run.start(start)?;
        let mut next = NEXT_RUN.lock().unwrap_or_else(|e| e.into_inner());
        let id = *next;
        *next += 1;
        RUNS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, run);
        Ok((id, outputs))
    });
    let result = result.map(|r| {
        r.map(|(id, outputs)| {
            if !handle.is_null() {
                *handle = id;
            }
            outputs
        })
    });
    answer(result, out, out_len)
}

/// Feeds run `handle` one input: `header` (JSON) and the answer's bytes; `*out` gets the
/// next outputs.
///
/// # Safety
/// `header` and `body` point to readable bytes of the given lengths; `out` and `out_len`
/// are writable.
#[no_mangle]
pub unsafe extern "C" fn opsync_run_feed(
    handle: u64,
    header: *const c_char,
    header_len: usize,
    body: *const c_char,
    body_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    let header = bytes(header, header_len);
    let body = bytes(body, body_len);
    let result = std::panic::catch_unwind(|| {
        let mut runs = RUNS.lock().unwrap_or_else(|e| e.into_inner());
        match runs.get_mut(&handle) {
            Some(run) => run.feed(header, body),
            None => Err(CallError::Invalid(format!(
                "input: no run has the handle {handle}"
            ))),
        }
    });
    answer(result, out, out_len)
}

/// Lets run `handle` go (its instance with it).
#[no_mangle]
pub extern "C" fn opsync_run_free(handle: u64) {
    let _ = std::panic::catch_unwind(|| {
        RUNS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&handle);
    });
}

/// One verb through the process's `engine.wasm`.
unsafe fn call(
    verb: Verb,
    input: *const c_char,
    input_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    let input = bytes(input, input_len);
    answer(
        std::panic::catch_unwind(|| {
            WasmEngine::global().and_then(|e| e.answer(verb, input, Limits::default()))
        }),
        out,
        out_len,
    )
}

/// # Safety
/// `out` and `out_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn opsync_version(out: *mut *mut u8, out_len: *mut usize) -> i32 {
    answer(
        std::panic::catch_unwind(|| {
            WasmEngine::global()
                .and_then(|e| e.version())
                .map(String::into_bytes)
        }),
        out,
        out_len,
    )
}

/// Frees a buffer this library handed out.
///
/// # Safety
/// `ptr` and `len` come from one of the calls above, and are freed once.
#[no_mangle]
pub unsafe extern "C" fn opsync_free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)));
    }
}

unsafe fn bytes<'a>(ptr: *const c_char, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr.cast::<u8>(), len)
    }
}

unsafe fn answer(
    result: std::thread::Result<Result<Vec<u8>, CallError>>,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    let (status, body) = match result {
        Ok(Ok(body)) => (OK, body),
        Ok(Err(CallError::Invalid(line))) => (INVALID, line.into_bytes()),
        Ok(Err(other)) => (FAILED, other.to_string().into_bytes()),
        Err(_) => (FAILED, b"the opsync library failed unexpectedly".to_vec()),
    };
    if out.is_null() || out_len.is_null() {
        return FAILED;
    }
    let body = body.into_boxed_slice();
    *out_len = body.len();
    *out = Box::into_raw(body).cast::<u8>();
    status
}

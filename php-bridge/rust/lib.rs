//! The C ABI PHP's FFI loads (`include/opsync.h`): the same wasmtime host and the same
//! `engine.wasm` as the `opsync` command, so PHP inside WHMCS decides exactly as cron does.
//!
//! Every call returns a status and hands back a buffer the caller frees with
//! `opsync_free`: 0 = the answer, 1 = the request is invalid (the contract's one-line
//! error), 2 = the engine could not answer (trap, fuel, memory; a one-line message).
//! Nothing panics across the boundary.

use std::os::raw::c_char;

use opsync::wasm::{CallError, Limits, WasmEngine};
use opsync::Verb;

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

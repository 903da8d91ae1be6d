//! The raw ABI of `engine.wasm`: no imports, six exports, JSON bytes in and out.
//!
//! - `alloc(len) -> ptr` / `dealloc(ptr, len)`: the host's buffers in the module's memory.
//! - `decide`, `render_report` and `lookup_names` (each `(ptr, len) -> u64`): read the input at
//!   `ptr..ptr+len`, return `(out_ptr << 32) | out_len` of a fresh buffer whose first byte
//!   is `0` (the rest is the answer) or `1` (the rest is a one-line error). The host frees
//!   it with `dealloc(out_ptr, out_len)`; the input buffer stays the host's to free.
//! - `version() -> u64`: the same packing, status byte `0`, the engine's name and version.
//! - `settings(ptr, len) -> u64`: the raw settings and options in, the settings as a run
//!   reads them out (or the one-line error).
//! - The run protocol, one run per instance (its state lives in the instance between
//!   calls): `run_start(ptr, len) -> u64` takes the start and answers the first outputs;
//!   `run_feed(header_ptr, header_len, body_ptr, body_len) -> u64` takes one input and the
//!   answer's bytes and answers the next outputs. Both pack their answer as above.
//!
//! A panic aborts (the profile sets `panic = "abort"`), which wasm turns into a trap: the
//! host sees a clean error and its next call starts from a fresh instance.

#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[no_mangle]
pub extern "C" fn alloc(len: u32) -> u32 {
    let mut buf: Vec<u8> = Vec::with_capacity(len as usize);
    let ptr = buf.as_mut_ptr();
    core::mem::forget(buf);
    ptr as u32
}

/// # Safety
/// `ptr` and `len` must come from `alloc` (or from an answer) and be freed once.
#[no_mangle]
pub unsafe extern "C" fn dealloc(ptr: u32, len: u32) {
    drop(Vec::from_raw_parts(ptr as *mut u8, 0, len as usize));
}

/// # Safety
/// `ptr..ptr+len` must be memory the host wrote through `alloc`.
#[no_mangle]
pub unsafe extern "C" fn decide(ptr: u32, len: u32) -> u64 {
    let input = core::slice::from_raw_parts(ptr as *const u8, len as usize);
    answer(crate::decide_json(input).map_err(|e| e.to_string()))
}

/// # Safety
/// `ptr..ptr+len` must be memory the host wrote through `alloc`.
#[no_mangle]
pub unsafe extern "C" fn render_report(ptr: u32, len: u32) -> u64 {
    let input = core::slice::from_raw_parts(ptr as *const u8, len as usize);
    answer(crate::render_report_json(input).map_err(|e| e.to_string()))
}

/// # Safety
/// `ptr..ptr+len` must be memory the host wrote through `alloc`.
#[no_mangle]
pub unsafe extern "C" fn lookup_names(ptr: u32, len: u32) -> u64 {
    let input = core::slice::from_raw_parts(ptr as *const u8, len as usize);
    answer(crate::lookup_names_json(input).map_err(|e| e.to_string()))
}

/// # Safety
/// `ptr..ptr+len` must be memory the host wrote through `alloc`.
#[no_mangle]
pub unsafe extern "C" fn settings(ptr: u32, len: u32) -> u64 {
    let input = core::slice::from_raw_parts(ptr as *const u8, len as usize);
    answer(crate::settings_json(input).map_err(|e| e.to_string()))
}

std::thread_local! {
    /// This instance's run.
    static RUN: core::cell::RefCell<Option<crate::run::Run>> = const { core::cell::RefCell::new(None) };
}

/// # Safety
/// `ptr..ptr+len` must be memory the host wrote through `alloc`.
#[no_mangle]
pub unsafe extern "C" fn run_start(ptr: u32, len: u32) -> u64 {
    let input = core::slice::from_raw_parts(ptr as *const u8, len as usize);
    answer(match crate::run::Run::start_json(input) {
        Ok((run, outputs)) => {
            RUN.with(|r| *r.borrow_mut() = Some(run));
            Ok(outputs)
        }
        Err(e) => Err(e.to_string()),
    })
}

/// # Safety
/// Both ranges must be memory the host wrote through `alloc`.
#[no_mangle]
pub unsafe extern "C" fn run_feed(header: u32, header_len: u32, body: u32, body_len: u32) -> u64 {
    let header = core::slice::from_raw_parts(header as *const u8, header_len as usize);
    let body = core::slice::from_raw_parts(body as *const u8, body_len as usize);
    answer(RUN.with(|r| match r.borrow_mut().as_mut() {
        Some(run) => run.handle_json(header, body).map_err(|e| e.to_string()),
        None => Err("input: no run was started in this instance".to_string()),
    }))
}

#[no_mangle]
pub extern "C" fn version() -> u64 {
    answer(Ok(crate::ENGINE.as_bytes().to_vec()))
}

fn answer(result: Result<Vec<u8>, String>) -> u64 {
    let (status, body) = match result {
        Ok(body) => (0u8, body),
        Err(message) => (1u8, message.into_bytes()),
    };
    let mut out = Vec::with_capacity(body.len() + 1);
    out.push(status);
    out.extend_from_slice(&body);
    // Exact capacity so that `dealloc(ptr, len)` frees what was allocated.
    let mut out = out.into_boxed_slice().into_vec();
    let (ptr, len) = (out.as_mut_ptr() as u64, out.len() as u64);
    core::mem::forget(out);
    (ptr << 32) | len
}

//! One run of the engine's run protocol in one wasm instance. The run's state lives in
//! the instance between calls, so the host keeps this value for the whole run and feeds
//! it each answer; the instance goes with it.
//!
//! Each call gets fuel and a memory cap sized from everything fed to the run so far (a
//! run's deciding step works on all of it at once). A trap ends the run: every later call
//! answers the same error, and the host ends the run as not completed.

use wasmtime::{Instance, Memory, Store, TypedFunc};

use crate::{
    host_error, read_answer, trap_error, CallError, CallState, Limits, WasmEngine, FUEL_BASE,
    FUEL_PER_BYTE, MEMORY_BASE, MEMORY_MAX, MEMORY_PER_BYTE,
};

/// A run, in its own instance of `engine.wasm`.
pub struct RunInstance {
    store: Store<CallState>,
    instance: Instance,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    dealloc: TypedFunc<(u32, u32), ()>,
    start: TypedFunc<(u32, u32), u64>,
    feed: TypedFunc<(u32, u32, u32, u32), u64>,
    /// Bytes fed to the run so far.
    fed: usize,
    /// Why the run can go no further (a trap, fuel, memory).
    broken: Option<CallError>,
}

impl WasmEngine {
    /// A new instance for one run.
    pub fn run(&self) -> Result<RunInstance, CallError> {
        let mut store = self.store(Limits::default(), 0)?;
        let instance = Instance::new(&mut store, self.module(), &[]).map_err(host_error)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| CallError::Host("engine.wasm exports no memory".into()))?;
        let alloc = instance
            .get_typed_func(&mut store, "alloc")
            .map_err(host_error)?;
        let dealloc = instance
            .get_typed_func(&mut store, "dealloc")
            .map_err(host_error)?;
        let start = instance
            .get_typed_func(&mut store, "run_start")
            .map_err(host_error)?;
        let feed = instance
            .get_typed_func(&mut store, "run_feed")
            .map_err(host_error)?;
        Ok(RunInstance {
            store,
            instance,
            memory,
            alloc,
            dealloc,
            start,
            feed,
            fed: 0,
            broken: None,
        })
    }
}

impl RunInstance {
    /// The run's start (JSON) in, its first outputs (JSON) out.
    pub fn start(&mut self, start: &[u8]) -> Result<Vec<u8>, CallError> {
        self.call(start, None)
    }

    /// One input's header (JSON) and the answer's bytes in, the outputs (JSON) out.
    pub fn feed(&mut self, header: &[u8], body: &[u8]) -> Result<Vec<u8>, CallError> {
        self.call(header, Some(body))
    }

    fn call(&mut self, first: &[u8], body: Option<&[u8]>) -> Result<Vec<u8>, CallError> {
        if let Some(broken) = &self.broken {
            return Err(broken.clone());
        }
        let len = first.len() + body.map_or(0, <[u8]>::len);
        self.fed = self.fed.saturating_add(len);
        let budget = FUEL_BASE.saturating_add(FUEL_PER_BYTE.saturating_mul(self.fed as u64));
        self.store.set_fuel(budget).map_err(host_error)?;
        self.store.data_mut().cap = MEMORY_BASE
            .saturating_add(MEMORY_PER_BYTE.saturating_mul(self.fed))
            .min(MEMORY_MAX);
        let answer = self.call_inner(first, body, budget, len);
        if let Err(e) = &answer {
            if !matches!(e, CallError::Invalid(_)) {
                self.broken = Some(e.clone());
            }
        }
        answer
    }

    fn call_inner(
        &mut self,
        first: &[u8],
        body: Option<&[u8]>,
        budget: u64,
        len: usize,
    ) -> Result<Vec<u8>, CallError> {
        let (a_ptr, a_len) = self.put(first, budget, len)?;
        let packed = match body {
            None => self.start.call(&mut self.store, (a_ptr, a_len)),
            Some(body) => {
                let (b_ptr, b_len) = self.put(body, budget, len)?;
                let packed = self
                    .feed
                    .call(&mut self.store, (a_ptr, a_len, b_ptr, b_len));
                if packed.is_ok() {
                    self.free(b_ptr, b_len, budget, len)?;
                }
                packed
            }
        }
        .map_err(|e| trap_error(e, &self.store, budget, len))?;
        self.free(a_ptr, a_len, budget, len)?;
        let mut answer = read_answer(&self.instance, &mut self.store, packed)?;
        let (ptr, n) = ((packed >> 32) as u32, (packed & 0xffff_ffff) as u32);
        self.free(ptr, n, budget, len)?;
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

    /// Copies `bytes` into the instance's memory.
    fn put(&mut self, bytes: &[u8], budget: u64, len: usize) -> Result<(u32, u32), CallError> {
        let n = u32::try_from(bytes.len()).map_err(|_| {
            CallError::Host(format!("a {}-byte input does not fit wasm32", bytes.len()))
        })?;
        let ptr = self
            .alloc
            .call(&mut self.store, n)
            .map_err(|e| trap_error(e, &self.store, budget, len))?;
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .map_err(|_| CallError::Host("the input buffer lies outside engine memory".into()))?;
        Ok((ptr, n))
    }

    fn free(&mut self, ptr: u32, n: u32, budget: u64, len: usize) -> Result<(), CallError> {
        self.dealloc
            .call(&mut self.store, (ptr, n))
            .map_err(|e| trap_error(e, &self.store, budget, len))
    }

    /// The bytes the instance's memory holds now (it grows and is never given back).
    pub fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }
}

//! `cargo bench -p opsync --bench faces`: the same decide, native and through engine.wasm
//! in wasmtime, at 1k, 10k and 100k rows (1% drift). Also prints, per size, the fuel and
//! the linear memory a wasm call used, which size the per-call limits in `src/wasm.rs`.
//!
//! `OPSYNC_BENCH_OTHER_WASM=path/to/engine.wasm` also runs another build of the module
//! (an earlier commit's, say) in the same run, beside the embedded one, as "wasm-other".

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use opsync::wasm::{Limits, WasmEngine};

fn faces(c: &mut Criterion) {
    let wasm = WasmEngine::new(None).expect("engine.wasm loads");
    let other = std::env::var_os("OPSYNC_BENCH_OTHER_WASM").map(|path| {
        let bytes = std::fs::read(&path).expect("OPSYNC_BENCH_OTHER_WASM is readable");
        WasmEngine::from_wasm(&bytes).expect("OPSYNC_BENCH_OTHER_WASM loads")
    });
    let mut group = c.benchmark_group("decide");
    group.sample_size(10);
    for rows in [1_000usize, 10_000, 100_000] {
        let request = opsync_engine::synthetic::request(rows, 100);
        let (fuel, memory) = wasm.fuel_used(&request).unwrap();
        println!(
            "rows {rows}: request {} bytes, wasm fuel {fuel} ({:.0} per byte), wasm memory {} MiB ({:.1}x the request)",
            request.len(),
            fuel as f64 / request.len() as f64,
            memory >> 20,
            memory as f64 / request.len() as f64
        );
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(BenchmarkId::new("native", rows), &request, |b, req| {
            b.iter(|| opsync_engine::decide_json(req).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("wasm", rows), &request, |b, req| {
            b.iter(|| wasm.decide(req, Limits::default()).unwrap())
        });
        if let Some(other) = &other {
            group.bench_with_input(BenchmarkId::new("wasm-other", rows), &request, |b, req| {
                b.iter(|| other.decide(req, Limits::default()).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, faces);
criterion_main!(benches);

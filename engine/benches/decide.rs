//! `cargo bench -p opsync-engine`: decide (parse, pair, decide, serialise) on synthetic
//! requests of 1k, 10k and 100k rows with 1% drift, and the report rendering.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn decide(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide");
    group.sample_size(10);
    for rows in [1_000usize, 10_000, 100_000] {
        let request = opsync_engine::synthetic::request(rows, 100);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(BenchmarkId::from_parameter(rows), &request, |b, req| {
            b.iter(|| opsync_engine::decide_json(req).unwrap())
        });
    }
    group.finish();
}

fn render_report(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_report");
    group.sample_size(10);
    let request = opsync_engine::synthetic::request(100_000, 100);
    let response = opsync_engine::decide_json(&request).unwrap();
    let input = [b"{\"response\":".as_slice(), &response, b"}"].concat();
    group.bench_function("100000", |b| {
        b.iter(|| opsync_engine::render_report_json(&input).unwrap())
    });
    group.finish();
}

criterion_group!(benches, decide, render_report);
criterion_main!(benches);

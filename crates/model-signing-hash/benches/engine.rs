//! Criterion benchmarks of the hashing engine on models generated on the fly.
//!
//! Sizes are modest so the bench runs on a 2-core CI machine in about a minute;
//! `scripts/bench-compare` measures multi-gigabyte models against the reference.

use std::fs;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use model_signing_hash::{hash_model, HashAlgorithm, HashConfig, NoProgress};

fn fill(path: &Path, len: usize, seed: u8) {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    fs::write(path, data).expect("write bench data");
}

fn big_file(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let len = 256 << 20;
    fill(&dir.path().join("weights.bin"), len, 1);
    let mut group = c.benchmark_group("one_256MiB_file");
    group.throughput(Throughput::Bytes(len as u64));
    group.sample_size(10);
    for (label, config) in [
        ("files-sha256", HashConfig::new()),
        (
            "shards64M-sha256",
            HashConfig::new().shards(64 << 20).expect("valid"),
        ),
        (
            "files-blake3",
            HashConfig::new().algorithm(HashAlgorithm::Blake3),
        ),
        (
            "files-blake2b",
            HashConfig::new().algorithm(HashAlgorithm::Blake2b),
        ),
    ] {
        group.bench_with_input(BenchmarkId::from_parameter(label), &config, |b, config| {
            b.iter(|| hash_model(dir.path(), config, &NoProgress).expect("hash"))
        });
    }
    group.finish();
}

fn many_small_files(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let count = 5_000;
    for i in 0..count {
        let sub = dir.path().join(format!("d{}", i % 50));
        fs::create_dir_all(&sub).expect("mkdir");
        fill(&sub.join(format!("f{i}")), 4096, i as u8);
    }
    let mut group = c.benchmark_group("5000_x_4KiB_files");
    group.throughput(Throughput::Elements(count as u64));
    group.sample_size(10);
    for threads in [1usize, 2] {
        let config = HashConfig::new().threads(threads).expect("valid");
        group.bench_with_input(
            BenchmarkId::new("sha256-threads", threads),
            &config,
            |b, config| b.iter(|| hash_model(dir.path(), config, &NoProgress).expect("hash")),
        );
    }
    group.finish();
}

criterion_group!(benches, big_file, many_small_files);
criterion_main!(benches);

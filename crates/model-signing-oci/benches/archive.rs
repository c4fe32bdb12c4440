//! Archive layers streamed and hashed, against `digest` of the unpacked
//! directory and the work they must at least do: every byte hashed twice
//! (uncompressed tar layers), single-threaded decompression plus hashing of
//! the same blob (gzip and zstd layers). Data is generated at start-up into a temporary directory
//! (in the page cache: this measures computation, not the disk).
//!
//! `cargo bench -p model-signing-oci --bench archive`; the method and the
//! numbers are in docs/performance.md. `OCI_BENCH_MIB` sets the size of
//! each file (default 64 MiB; four files; 1 MiB when run as a test).

use std::io::{Read, Write};
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use model_signing::hashing::{HashAlgorithm, HashConfig, Hasher, NoProgress};
use model_signing::Manifest;
use model_signing_oci::artifact::{self, LayerMode};
use model_signing_oci::{model, RegistryOptions};
use testkit::oci::{self, Image, Layer, TAR, TAR_GZIP, TAR_ZSTD};

/// Weights-like bytes: a xorshift stream with runs, so that gzip and zstd
/// compress it a little (about as much as real weights) but not away.
fn weights(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        // Half the bytes from a small alphabet: compressible like float exponents.
        out.extend_from_slice(&[
            b[0],
            b[1] & 0x0f,
            b[2],
            b[3] & 0x0f,
            b[4],
            b[5] & 0x0f,
            b[6],
            b[7] & 0x0f,
        ]);
    }
    out.truncate(len);
    out
}

fn hash_layout(dir: &Path) -> Manifest {
    let r = model_signing_oci::parse(&format!("oci-layout://{}:b", dir.display()))
        .expect("parse")
        .expect("oci");
    let store = model_signing_oci::open(&r, &RegistryOptions::default()).expect("open");
    let a = artifact::resolve(store.as_ref(), &r, None).expect("resolve");
    model::hash_model(
        store.as_ref(),
        &a,
        "m".into(),
        &HashConfig::new(),
        LayerMode::Files,
        &NoProgress,
    )
    .expect("hash")
    .0
}

/// SHA-256 of each file, twice, on two threads per file.
fn sha256_twice(dir: &Path, names: &[&str]) -> Vec<Vec<u8>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .flat_map(|n| [n, n])
            .map(|n| {
                s.spawn(move || {
                    let mut f = std::fs::File::open(dir.join(n)).expect("open");
                    let mut h = Hasher::new(HashAlgorithm::Sha256);
                    let mut buf = vec![0u8; 1 << 20];
                    loop {
                        let k = f.read(&mut buf).expect("read");
                        if k == 0 {
                            break;
                        }
                        h.update(&buf[..k]);
                    }
                    h.finalize()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    })
}

fn bench(c: &mut Criterion) {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this
    // once as a test, with 1 MiB files.
    let benching = std::env::args().any(|a| a == "--bench");
    let default_mib = if benching { 64 } else { 1 };
    let mib: usize = std::env::var("OCI_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_mib);
    let size = mib << 20;
    let tmp = tempfile::tempdir().expect("tempdir");
    let names = ["w-00001.bin", "w-00002.bin", "w-00003.bin", "w-00004.bin"];
    let data: Vec<Vec<u8>> = (0..4).map(|i| weights(size, i + 1)).collect();
    let files: Vec<(&str, &[u8])> = names.iter().zip(&data).map(|(n, d)| (*n, &d[..])).collect();

    // The unpacked directories: four files, and the first alone.
    let dir4 = tmp.path().join("dir4");
    testkit::write_files(&dir4, &files);
    let dir1 = tmp.path().join("dir1");
    testkit::write_files(&dir1, &files[..1]);

    let layout = |name: &str, layers: Vec<Layer>| {
        let dir = tmp.path().join(name);
        oci::write_layout(&dir, "b", &Image::model(layers));
        dir
    };
    let tar4 = layout(
        "tar4",
        files
            .iter()
            .map(|f| Layer::archive(TAR, &[*f], None))
            .collect(),
    );
    let tar1 = layout("tar1", vec![Layer::archive(TAR, &files[..1], None)]);
    let gz = Layer::archive(TAR_GZIP, &files[..1], None);
    let zst = Layer::archive(TAR_ZSTD, &files[..1], None);
    let gz_blob = gz.blob.clone();
    let zst_blob = zst.blob.clone();
    let gz1 = layout("gz1", vec![gz]);
    let zst1 = layout("zst1", vec![zst]);
    // Same results as the directory, checked once before timing.
    assert_eq!(
        hash_layout(&tar4).resources,
        Manifest::hash(&dir4, &HashConfig::new(), &NoProgress)
            .expect("dir")
            .resources
    );
    assert_eq!(
        hash_layout(&gz1).resources,
        Manifest::hash(&dir1, &HashConfig::new(), &NoProgress)
            .expect("dir")
            .resources
    );
    eprintln!(
        "file {mib} MiB; gzip blob {} bytes ({:.0}%), zstd blob {} bytes ({:.0}%)",
        gz_blob.len(),
        100.0 * gz_blob.len() as f64 / size as f64,
        zst_blob.len(),
        100.0 * zst_blob.len() as f64 / size as f64
    );

    let mut g = c.benchmark_group("uncompressed");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(4 * size as u64));
    g.bench_function(BenchmarkId::new("digest-directory", "4 files"), |b| {
        b.iter(|| Manifest::hash(&dir4, &HashConfig::new(), &NoProgress).expect("hash"))
    });
    g.bench_function(BenchmarkId::new("oci-tar-layers", "4 layers"), |b| {
        b.iter(|| hash_layout(&tar4))
    });
    // The least work the layers need: every byte hashed twice (the blob's
    // digest and the file's), here as two independent reads and SHA-256
    // passes over each file, all eight at once.
    g.bench_function(
        BenchmarkId::new("sha256-twice", "4 files, 8 threads"),
        |b| b.iter(|| sha256_twice(&dir4, &names)),
    );
    g.throughput(Throughput::Bytes(size as u64));
    g.bench_function(BenchmarkId::new("digest-directory", "1 file"), |b| {
        b.iter(|| Manifest::hash(&dir1, &HashConfig::new(), &NoProgress).expect("hash"))
    });
    g.bench_function(BenchmarkId::new("oci-tar-layers", "1 layer"), |b| {
        b.iter(|| hash_layout(&tar1))
    });
    g.finish();

    // Single-threaded decompression of the blob read from its file, and
    // SHA-256 of what comes out: the least a reader of the layer must do.
    let floor = |blob_path: &Path, zstd: bool| {
        let f = std::fs::File::open(blob_path).expect("blob");
        let mut r: Box<dyn Read> = if zstd {
            Box::new(zstd::stream::read::Decoder::new(f).expect("zstd"))
        } else {
            Box::new(flate2::read::GzDecoder::new(f))
        };
        let mut h = Hasher::new(HashAlgorithm::Sha256);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = r.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        h.finalize()
    };
    let blob = |dir: &Path, bytes: &[u8]| dir.join("blobs/sha256").join(&oci::digest(bytes)[7..]);
    let mut g = c.benchmark_group("compressed");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(size as u64));
    let gz_path = blob(&gz1, &gz_blob);
    let zst_path = blob(&zst1, &zst_blob);
    g.bench_function(BenchmarkId::new("decompress+sha256", "gzip"), |b| {
        b.iter(|| floor(&gz_path, false))
    });
    g.bench_function(BenchmarkId::new("oci-layer", "gzip"), |b| {
        b.iter(|| hash_layout(&gz1))
    });
    g.bench_function(BenchmarkId::new("decompress+sha256", "zstd"), |b| {
        b.iter(|| floor(&zst_path, true))
    });
    g.bench_function(BenchmarkId::new("oci-layer", "zstd"), |b| {
        b.iter(|| hash_layout(&zst1))
    });
    g.finish();
    let _ = std::io::stderr().flush();
}

criterion_group!(benches, bench);
criterion_main!(benches);

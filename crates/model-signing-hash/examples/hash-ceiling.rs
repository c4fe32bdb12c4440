//! Throughput ceilings for `scripts/bench-compare`: the same hash crates as the
//! engine, on the same files, with none of the engine's bookkeeping (no walk,
//! no change checks, no resources, no sorting).
//!
//! ```text
//! hash-ceiling sha256 THREADS FILE...    SHA-256; the files' bytes, taken as one
//!                                         stream, are cut into THREADS equal
//!                                         contiguous parts hashed concurrently
//!                                         (a part spanning files restarts the
//!                                         hash at each file)
//! hash-ceiling blake3 CHUNK_MIB FILE...  BLAKE3 per file: sequential reads of
//!                                         CHUNK_MIB, each hashed with update_rayon
//!                                         on all cores while the next is read
//! hash-ceiling sha256-mem THREADS FILE... SHA-256 compute only: as many bytes as
//! hash-ceiling blake3-mem THREADS FILE... the files hold, split over THREADS
//!                                         threads, each hashing its own 1 MiB
//!                                         in-memory buffer over and over (no I/O)
//! ```
//!
//! Reads are positional, into page-aligned 1 MiB (SHA-256) or CHUNK_MIB
//! (BLAKE3) buffers. Prints the bytes hashed and a checksum of the digests.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::ExitCode;

use sha2::{Digest as _, Sha256};

const PAGE: usize = 4096;

/// A page-aligned buffer of `len` bytes inside an ordinary vector.
struct Aligned {
    storage: Vec<u8>,
    offset: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Self {
        let storage = vec![0u8; len + PAGE];
        let offset = storage.as_ptr().align_offset(PAGE).min(PAGE);
        Aligned {
            storage,
            offset,
            len,
        }
    }

    fn slice(&mut self, n: usize) -> &mut [u8] {
        &mut self.storage[self.offset..self.offset + n.min(self.len)]
    }
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    file.read_exact_at(buf, offset)
}

/// Hashes `[start, end)` of `path` with SHA-256.
fn sha256_range(path: &PathBuf, start: u64, end: u64, buf: &mut Aligned) -> [u8; 32] {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut h = Sha256::new();
    let mut pos = start;
    while pos < end {
        let n = usize::try_from(end - pos)
            .unwrap_or(usize::MAX)
            .min(buf.len);
        let s = buf.slice(n);
        read_exact_at(&file, s, pos).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        h.update(&*s);
        pos += n as u64;
    }
    h.finalize().into()
}

fn sha256(threads: usize, files: &[(PathBuf, u64)]) -> (u64, u8) {
    let total: u64 = files.iter().map(|f| f.1).sum();
    let part = total.div_ceil(threads as u64).max(1);
    // Cut the concatenated stream into `threads` parts of `part` bytes.
    let mut parts: Vec<Vec<(PathBuf, u64, u64)>> = vec![Vec::new(); threads];
    let mut base = 0u64;
    for (path, size) in files {
        let mut start = 0;
        while start < *size {
            let idx = ((base + start) / part) as usize;
            let part_end = (idx as u64 + 1) * part - base;
            let end = part_end.min(*size);
            parts[idx].push((path.clone(), start, end));
            start = end;
        }
        if *size == 0 {
            parts[((base / part) as usize).min(threads - 1)].push((path.clone(), 0, 0));
        }
        base += size;
    }
    let check = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|ranges| {
                s.spawn(move || {
                    let mut buf = Aligned::new(1 << 20);
                    let mut x = 0u8;
                    for (path, start, end) in ranges {
                        x ^= sha256_range(path, *start, *end, &mut buf)[0];
                    }
                    x
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("hashing thread"))
            .fold(0, |a, b| a ^ b)
    });
    (total, check)
}

fn blake3(chunk: usize, files: &[(PathBuf, u64)]) -> (u64, u8) {
    let mut cur = Aligned::new(chunk);
    let mut next = Aligned::new(chunk);
    let mut check = 0u8;
    let mut total = 0;
    // Inside the pool, so that the thread that reads also helps to hash.
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .expect("thread pool");
    pool.install(|| {
        for (path, size) in files {
            let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let read = |buf: &mut Aligned, pos: u64| {
                let n = usize::try_from(size - pos).unwrap_or(usize::MAX).min(chunk);
                read_exact_at(&file, buf.slice(n), pos)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n
            };
            let mut h = blake3::Hasher::new();
            let mut cur_len = read(&mut cur, 0);
            let mut pos = cur_len as u64;
            while cur_len > 0 {
                // Read the next chunk while the pool hashes this one.
                let (next_len, _) = rayon::join(
                    || if pos < *size { read(&mut next, pos) } else { 0 },
                    || h.update_rayon(cur.slice(cur_len)),
                );
                std::mem::swap(&mut cur, &mut next);
                cur_len = next_len;
                pos += next_len as u64;
            }
            check ^= h.finalize().as_bytes()[0];
            total += size;
        }
    });
    (total, check)
}

/// Hashes `total` bytes on `threads` threads without reading anything: each
/// thread runs its share through one hasher from its own 1 MiB buffer.
fn in_memory(threads: usize, total: u64, blake3: bool) -> (u64, u8) {
    const LEN: usize = 1 << 20;
    let share = total.div_ceil(threads as u64);
    let check = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut buf = Aligned::new(LEN);
                    for (i, b) in buf.slice(LEN).iter_mut().enumerate() {
                        *b = (i as u8).wrapping_mul(31).wrapping_add(t as u8);
                    }
                    let data = buf.slice(LEN);
                    let mut left = share.min(total.saturating_sub(share * t as u64));
                    let mut sha = Sha256::new();
                    let mut b3 = blake3::Hasher::new();
                    while left > 0 {
                        let n = usize::try_from(left).unwrap_or(usize::MAX).min(LEN);
                        if blake3 {
                            b3.update(&data[..n]);
                        } else {
                            sha.update(&data[..n]);
                        }
                        left -= n as u64;
                    }
                    if blake3 {
                        b3.finalize().as_bytes()[0]
                    } else {
                        sha.finalize()[0]
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("hashing thread"))
            .fold(0, |a, b| a ^ b)
    });
    (total, check)
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: hash-ceiling sha256|sha256-mem|blake3-mem THREADS FILE... | hash-ceiling blake3 CHUNK_MIB FILE..."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return usage();
    }
    let Ok(n) = args[1].parse::<usize>() else {
        return usage();
    };
    if n == 0 {
        return usage();
    }
    let files: Vec<(PathBuf, u64)> = args[2..]
        .iter()
        .map(|p| {
            let size = std::fs::metadata(p)
                .unwrap_or_else(|e| panic!("{p}: {e}"))
                .len();
            (PathBuf::from(p), size)
        })
        .collect();
    let start = std::time::Instant::now();
    let (total, check) = match args[0].as_str() {
        "sha256" => sha256(n, &files),
        "blake3" => blake3(n << 20, &files),
        "sha256-mem" | "blake3-mem" => {
            let total = files.iter().map(|f| f.1).sum();
            in_memory(n, total, args[0] == "blake3-mem")
        }
        _ => return usage(),
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} bytes in {secs:.3} s ({:.2} GB/s), check {check:02x}",
        total,
        total as f64 / secs / 1e9
    );
    ExitCode::SUCCESS
}

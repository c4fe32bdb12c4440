use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::algorithm::BLAKE3_SUBTREE;
use crate::algorithm::{blake3_root, Blake3Subtree, ChainingValue, HashAlgorithm, Hasher};
use crate::config::{HashConfig, Method};
use crate::error::HashError;
use crate::progress::Progress;
use crate::read::{read_range, Buffer};
use crate::resource::{ResourceDigest, ResourceKey};
use crate::walk::{walk, FileEntry, ModelFiles};

/// Default upper bound on the number of resources (files or shards) of one
/// model ([`HashConfig::max_resources`]): 4,194,304 (2^22). A tiny shard size
/// on a large file hits this before any memory is spent.
///
/// Sized from a measurement: a model of 2,000,000 empty files with
/// ImageNet-like names (`train/n01440764/n01440764_10026.JPEG`) signs to a
/// 504,001,273-byte signature (252 bytes per file), in 30 s and 1.76 GB of
/// memory, and verifies in 32 s and 2.41 GB (2-core machine,
/// `docs/security.md`). The bound is twice that dataset, and about as many
/// such files as the largest signature verifiers read holds
/// (`model_signing::bundle::MAX_BUNDLE_BYTES` / 252 = 4.26 million).
pub const MAX_RESOURCES: usize = 4_194_304;

/// Read size for SHA-256 and BLAKE2b: large enough to amortize system calls,
/// small enough to stay in the L2 cache while it is hashed.
const STREAM_READ: usize = 1 << 20;
/// Read size for BLAKE3, whose SIMD code goes through data about twice as
/// fast: a smaller piece keeps the copy and the hash in the same L2 cache.
const BLAKE3_READ: usize = 256 << 10;

/// One resource to produce: a whole file, or one shard of it.
struct Resource<'a> {
    entry: &'a FileEntry,
    /// The bytes hashed, `[start, end)`.
    start: u64,
    end: u64,
    /// The shard range in the resource name; `None` for a whole file.
    shard: Option<(u64, u64)>,
}

impl Resource<'_> {
    fn len(&self) -> u64 {
        self.end - self.start
    }
}

fn plan<'a>(files: &'a ModelFiles, config: &HashConfig) -> Result<Vec<Resource<'a>>, HashError> {
    let mut items = Vec::new();
    match config.get_method() {
        Method::Files => {
            if files.entries.len() > config.get_max_resources() {
                return Err(HashError::TooMany {
                    what: "resources",
                    limit: config.get_max_resources(),
                });
            }
            items.extend(files.entries.iter().map(|entry| Resource {
                entry,
                start: 0,
                end: entry.snapshot.size,
                shard: None,
            }));
        }
        Method::Shards { shard_size } => {
            let shard_size = shard_size.get();
            let mut count: u64 = 0;
            for entry in &files.entries {
                count = count.saturating_add(entry.snapshot.size.div_ceil(shard_size));
            }
            if count > config.get_max_resources() as u64 {
                return Err(HashError::TooMany {
                    what: "shards",
                    limit: config.get_max_resources(),
                });
            }
            for entry in &files.entries {
                let size = entry.snapshot.size;
                let mut start = 0;
                while start < size {
                    let end = start.saturating_add(shard_size).min(size);
                    items.push(Resource {
                        entry,
                        start,
                        end,
                        shard: Some((start, end)),
                    });
                    start = end;
                }
            }
        }
    }
    Ok(items)
}

/// A resource hashed as several BLAKE3 subtrees by whichever threads are free.
struct Split {
    /// The chaining values received so far, by subtree index.
    cvs: Vec<Option<ChainingValue>>,
    missing: usize,
}

/// Hands out work, largest resources first (so that no thread is left with a
/// big file while the others idle), one piece at a time: a whole resource, or
/// one subtree of a BLAKE3 resource longer than the subtree size.
struct Scheduler {
    /// Resource indices, longest first; ties in signing order.
    order: Vec<usize>,
    /// (position in `order`, next subtree of that resource).
    cursor: Mutex<(usize, u64)>,
}

impl Scheduler {
    fn next(&self, pieces_of: impl Fn(usize) -> u64) -> Option<(usize, u64)> {
        let mut cursor = self.cursor.lock().unwrap_or_else(|e| e.into_inner());
        let (pos, piece) = *cursor;
        let &index = self.order.get(pos)?;
        *cursor = if piece + 1 < pieces_of(index) {
            (pos, piece + 1)
        } else {
            (pos + 1, 0)
        };
        Some((index, piece))
    }
}

/// Walks and hashes the model at `root`: the resources sorted in signing order.
pub fn hash_model(
    root: &Path,
    config: &HashConfig,
    progress: &dyn Progress,
) -> Result<Vec<ResourceDigest>, HashError> {
    let files = walk(root, config)?;
    hash_files(&files, config, progress)
}

/// Hashes files already listed by [`walk`](crate::walk()) (possibly filtered):
/// the resources sorted in signing order. The output does not depend on the
/// number of threads.
pub fn hash_files(
    files: &ModelFiles,
    config: &HashConfig,
    progress: &dyn Progress,
) -> Result<Vec<ResourceDigest>, HashError> {
    hash_files_with(files, config, progress, BLAKE3_SUBTREE)
}

/// [`hash_files`] with BLAKE3 resources longer than `subtree` bytes hashed as
/// subtrees of that size (a power of two of at least 1 KiB).
fn hash_files_with(
    files: &ModelFiles,
    config: &HashConfig,
    progress: &dyn Progress,
    subtree: u64,
) -> Result<Vec<ResourceDigest>, HashError> {
    let resources = checked_plan(files, config)?;
    hash_planned(&resources, config, progress, subtree)
}

/// The resources of `files`, refusing a model that has none.
fn checked_plan<'a>(
    files: &'a ModelFiles,
    config: &HashConfig,
) -> Result<Vec<Resource<'a>>, HashError> {
    if files.entries.is_empty() {
        return Err(HashError::EmptyModel {
            path: files.root.clone(),
            detail: "no files are left after the ignore rules",
        });
    }
    let resources = plan(files, config)?;
    if resources.is_empty() {
        return Err(HashError::EmptyModel {
            path: files.root.clone(),
            detail: "every file is empty, and the shards method gives empty files no resource",
        });
    }
    Ok(resources)
}

/// Checks that `files` make a model that [`hash_files`] would hash (some
/// resource, within the bounds), without hashing anything.
pub(crate) fn check_plan(files: &ModelFiles, config: &HashConfig) -> Result<(), HashError> {
    checked_plan(files, config).map(drop)
}

/// Hashes `entries` of a model (a subset of a model already checked with
/// [`check_plan`]; possibly none): their resources in signing order.
pub(crate) fn hash_entries(
    entries: &[&FileEntry],
    config: &HashConfig,
    progress: &dyn Progress,
) -> Result<Vec<ResourceDigest>, HashError> {
    let subset = ModelFiles {
        root: PathBuf::new(),
        single_file: false,
        entries: entries.iter().map(|&e| e.clone()).collect(),
        ignored: Vec::new(),
        unsigned: Vec::new(),
        walked_at: std::time::SystemTime::UNIX_EPOCH,
    };
    let resources = plan(&subset, config)?;
    if resources.is_empty() {
        return Ok(Vec::new());
    }
    hash_planned(&resources, config, progress, BLAKE3_SUBTREE)
}

/// Hashes planned resources (at least one).
fn hash_planned(
    resources: &[Resource<'_>],
    config: &HashConfig,
    progress: &dyn Progress,
    subtree: u64,
) -> Result<Vec<ResourceDigest>, HashError> {
    let algorithm = config.get_algorithm();
    let total: u64 = resources.iter().map(Resource::len).sum();
    progress.start(total, resources.len());

    let (read_size, split_above) = match algorithm {
        HashAlgorithm::Blake3 => (BLAKE3_READ, subtree),
        HashAlgorithm::Sha256 | HashAlgorithm::Blake2b => (STREAM_READ, u64::MAX),
    };
    let pieces_of = |index: usize| -> u64 {
        let len = resources[index].len();
        if len > split_above {
            len.div_ceil(subtree)
        } else {
            1
        }
    };
    let splits: Vec<Option<Mutex<Split>>> = (0..resources.len())
        .map(|i| {
            let n = usize::try_from(pieces_of(i)).unwrap_or(usize::MAX);
            (n > 1).then(|| {
                Mutex::new(Split {
                    cvs: vec![None; n],
                    missing: n,
                })
            })
        })
        .collect();
    let digests: Vec<OnceLock<Vec<u8>>> = resources.iter().map(|_| OnceLock::new()).collect();
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(resources[i].len()));
    let scheduler = Scheduler {
        order,
        cursor: Mutex::new((0, 0)),
    };
    // A long range is read ahead of its hashing by a thread of its own, so
    // that storage reads overlap hashing (a cold page cache) and the copy
    // from the page cache leaves the hashing core (one big file). Measured
    // on 2 cores: several big files hash as fast warm as without it, and
    // read from a cold cache at the speed of `cat` (docs/performance.md).
    let pipeline = true;
    let failed = AtomicBool::new(false);
    // The failure of the resource that comes first in signing order, among
    // those seen before the threads stopped.
    let first_error: Mutex<Option<(usize, HashError)>> = Mutex::new(None);

    let hash_piece = |buf: &mut Buffer, index: usize, piece: u64| -> Result<(), HashError> {
        let r = &resources[index];
        match &splits[index] {
            None => {
                let mut hasher = Hasher::new(algorithm);
                read_range(
                    r.entry,
                    (r.start, r.end),
                    read_size,
                    pipeline,
                    buf,
                    progress,
                    &mut |d| hasher.update(d),
                )?;
                let _ = digests[index].set(hasher.finalize());
                progress.item_done();
            }
            Some(split) => {
                let offset = piece * subtree;
                let start = r.start + offset;
                let end = start.saturating_add(subtree).min(r.end);
                let mut hasher = Blake3Subtree::new(offset);
                read_range(
                    r.entry,
                    (start, end),
                    read_size,
                    false,
                    buf,
                    progress,
                    &mut |d| hasher.update(d),
                )?;
                let cv = hasher.finalize();
                let mut state = split.lock().unwrap_or_else(|e| e.into_inner());
                let slot = &mut state.cvs[usize::try_from(piece).unwrap_or(usize::MAX)];
                if slot.replace(cv).is_none() {
                    state.missing -= 1;
                }
                if state.missing == 0 {
                    let cvs: Vec<ChainingValue> = state.cvs.iter().flatten().copied().collect();
                    drop(state);
                    let _ = digests[index].set(blake3_root(&cvs, subtree, r.len()));
                    progress.item_done();
                }
            }
        }
        Ok(())
    };

    let worker = || {
        let mut buf = Buffer::new(read_size + 1);
        while !failed.load(Ordering::Relaxed) {
            let Some((index, piece)) = scheduler.next(pieces_of) else {
                break;
            };
            if let Err(e) = hash_piece(&mut buf, index, piece) {
                failed.store(true, Ordering::Relaxed);
                let mut first = first_error.lock().unwrap_or_else(|e| e.into_inner());
                if first.as_ref().is_none_or(|(i, _)| index < *i) {
                    *first = Some((index, e));
                }
            }
        }
    };

    match config.get_threads() {
        Some(threads) => {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("model-signing-hash-{i}"))
                .build()
                .map_err(|source| HashError::ThreadPool { threads, source })?
                .broadcast(|_| worker());
        }
        None => {
            rayon::broadcast(|_| worker());
        }
    }
    progress.finish();
    if let Some((_, e)) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }

    let mut out = Vec::with_capacity(resources.len());
    for (r, digest) in resources.iter().zip(digests) {
        let digest = digest
            .into_inner()
            .expect("every resource is hashed when no thread failed");
        out.push(ResourceDigest {
            key: ResourceKey::from_walked(&r.entry.components, r.shard),
            digest,
        });
    }
    // The walk already sorts; keep the invariant explicit and cheap.
    if !out.windows(2).all(|w| w[0].key <= w[1].key) {
        out.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(out)
}

/// SHA-256 over the concatenated raw digests, in the given order: the in-toto
/// subject digest of a model.
pub fn root_digest<'a>(digests: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    for d in digests {
        h.update(d);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;
    use crate::progress::NoProgress;

    /// Deterministic bytes without a short period.
    fn data(len: usize, seed: u64) -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    }

    /// Files of lengths around multiples of a 1 KiB subtree, and an empty one.
    fn model(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let lens = [
            0,
            1,
            1023,
            1024,
            1025,
            2048,
            2049,
            3 * 1024 + 7,
            5000,
            8 * 1024,
            9 * 1024 + 1,
        ];
        lens.iter()
            .enumerate()
            .map(|(i, &len)| {
                let path = dir.join(format!("f{i:02}"));
                let bytes = data(len, i as u64);
                fs::write(&path, &bytes).expect("write");
                (path, bytes)
            })
            .collect()
    }

    fn blake3(bytes: &[u8]) -> Vec<u8> {
        blake3::hash(bytes).as_bytes().to_vec()
    }

    #[test]
    fn blake3_subtrees_match_whole_file_digests_with_any_thread_count() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let files = model(tmp.path());
        let config = HashConfig::new().algorithm(HashAlgorithm::Blake3);
        let listed = walk(tmp.path(), &config).expect("walk");
        for threads in [1, 2, 3, 8] {
            let config = config.clone().threads(threads).expect("valid");
            for subtree in [1024, 2048, BLAKE3_SUBTREE] {
                let got = hash_files_with(&listed, &config, &NoProgress, subtree).expect("hash");
                assert_eq!(got.len(), files.len());
                for (r, (path, bytes)) in got.iter().zip(&files) {
                    assert_eq!(
                        r.key.path_name(),
                        path.file_name().unwrap_or_default().to_string_lossy()
                    );
                    assert_eq!(
                        r.digest,
                        blake3(bytes),
                        "{} with subtrees of {subtree}, {threads} threads",
                        r.key
                    );
                }
            }
        }
    }

    #[test]
    fn blake3_shards_split_into_subtrees() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let files = model(tmp.path());
        let shard = 3000;
        let config = HashConfig::new()
            .algorithm(HashAlgorithm::Blake3)
            .shards(shard)
            .expect("valid")
            .threads(3)
            .expect("valid");
        let listed = walk(tmp.path(), &config).expect("walk");
        let got = hash_files_with(&listed, &config, &NoProgress, 1024).expect("hash");
        let mut expected = Vec::new();
        for (path, bytes) in &files {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            for (i, piece) in bytes.chunks(shard as usize).enumerate() {
                let start = i as u64 * shard;
                expected.push((
                    format!("{name}:{start}:{}", start + piece.len() as u64),
                    blake3(piece),
                ));
            }
        }
        let got: Vec<(String, Vec<u8>)> = got
            .into_iter()
            .map(|r| (r.key.to_string(), r.digest))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_file_that_grows_or_shrinks_fails_whichever_subtree_sees_it() {
        for change in [1usize, 5000, 9 * 1024 + 1] {
            let tmp = tempfile::tempdir().expect("tempdir");
            let path = tmp.path().join("big");
            fs::write(&path, data(9 * 1024 + 1, 7)).expect("write");
            let config = HashConfig::new()
                .algorithm(HashAlgorithm::Blake3)
                .threads(2)
                .expect("valid");
            let listed = walk(tmp.path(), &config).expect("walk");
            let mut bytes = data(9 * 1024 + 1, 7);
            if change == bytes.len() {
                bytes.push(0);
            } else {
                bytes.truncate(change);
            }
            fs::write(&path, &bytes).expect("rewrite");
            let err = hash_files_with(&listed, &config, &NoProgress, 1024).expect_err("changed");
            assert!(
                matches!(&err, HashError::FileChanged { path: p, .. } if *p == path),
                "{err:?}"
            );
        }
    }

    #[test]
    fn largest_resources_are_handed_out_first_and_subtrees_in_order() {
        let lens = [5u64, 100, 7, 100, 1];
        let mut order: Vec<usize> = (0..lens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(lens[i]));
        let scheduler = Scheduler {
            order,
            cursor: Mutex::new((0, 0)),
        };
        let pieces = |i: usize| if i == 1 { 3 } else { 1 };
        let mut got = Vec::new();
        while let Some(next) = scheduler.next(pieces) {
            got.push(next);
        }
        assert_eq!(
            got,
            [(1, 0), (1, 1), (1, 2), (3, 0), (2, 0), (0, 0), (4, 0)]
        );
    }

    /// Stops after `after` bytes: every thread sees it after its next read.
    struct CancelAfter {
        after: u64,
        seen: std::sync::atomic::AtomicU64,
    }

    impl Progress for CancelAfter {
        fn advance(&self, bytes: u64) {
            self.seen
                .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        }
        fn cancelled(&self) -> bool {
            self.seen.load(std::sync::atomic::Ordering::Relaxed) >= self.after
        }
    }

    #[test]
    fn cancelling_stops_hashing_after_the_next_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        for i in 0..4 {
            fs::write(dir.path().join(format!("w{i}")), data(6 << 20, i)).expect("write");
        }
        for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
            let config = HashConfig::new()
                .algorithm(algorithm)
                .threads(2)
                .expect("threads");
            let progress = CancelAfter {
                after: 1,
                seen: 0.into(),
            };
            let err = hash_model(dir.path(), &config, &progress).expect_err("cancelled");
            assert!(matches!(err, HashError::Cancelled), "{err:?}");
            assert_eq!(err.kind(), crate::ErrorKind::Environment);
            // Two threads, one read each at most (plus BLAKE3's subtree reads).
            let read = progress.seen.load(std::sync::atomic::Ordering::Relaxed);
            assert!(
                read < 24 << 20,
                "{algorithm:?}: read {read} of {} bytes",
                24 << 20
            );
            // Not cancelled: the same model hashes.
            hash_model(dir.path(), &config, &NoProgress).expect("hashes");
        }
    }
}

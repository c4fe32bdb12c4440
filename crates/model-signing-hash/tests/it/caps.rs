//! The engine's resource bounds: the number of files a walk lists and the
//! number of resources (files or shards) hashing produces. Each limit is
//! accepted exactly and refused one above, with an error naming it; the
//! default limits are checked on sparse files, which cost no disk and are
//! refused before a byte is read.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use model_signing_hash::{
    hash_model, walk, HashConfig, HashError, NoProgress, Progress, MAX_FILES, MAX_RESOURCES,
};

/// Counts the bytes the engine reports as hashed.
#[derive(Default)]
struct Bytes(AtomicU64);

impl Progress for Bytes {
    fn advance(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::Relaxed);
    }
}

fn model_with(tmp: &Path, files: &[(&str, u64)]) -> PathBuf {
    let model = tmp.join("model");
    fs::create_dir_all(&model).expect("mkdir model");
    for (name, len) in files {
        let f = fs::File::create(model.join(name)).expect("create");
        // Sparse: no disk blocks, reads give zeros.
        f.set_len(*len).expect("set_len");
    }
    model
}

fn too_many(result: Result<impl std::fmt::Debug, HashError>) -> (&'static str, usize, String) {
    match result {
        Err(e @ HashError::TooMany { what, limit }) => (what, limit, e.to_string()),
        other => panic!("expected HashError::TooMany, got {other:?}"),
    }
}

#[test]
fn default_limits_are_the_documented_constants() {
    assert_eq!(MAX_RESOURCES, 4_194_304);
    assert_eq!(MAX_FILES, MAX_RESOURCES);
    let config = HashConfig::new();
    assert_eq!(config.get_max_resources(), MAX_RESOURCES);
    assert_eq!(config.get_max_files(), MAX_FILES);
}

#[test]
fn shard_count_at_the_limit_is_hashed_one_more_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // 5 + 3 = 8 shards of at most 2 bytes.
    let model = model_with(tmp.path(), &[("a", 10), ("b", 5)]);
    let at_limit = HashConfig::new()
        .shards(2)
        .expect("shards")
        .max_resources(8);
    let resources = hash_model(&model, &at_limit, &NoProgress).expect("8 shards are accepted");
    assert_eq!(resources.len(), 8);

    let below = at_limit.clone().max_resources(7);
    let (what, limit, message) = too_many(hash_model(&model, &below, &NoProgress));
    assert_eq!((what, limit), ("shards", 7));
    assert!(
        message.contains("more than 7 shards") && message.contains("larger shard size"),
        "{message}"
    );
}

#[test]
fn file_resource_count_at_the_limit_is_hashed_one_more_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_with(tmp.path(), &[("a", 1), ("b", 2), ("c", 3)]);
    let at_limit = HashConfig::new().max_resources(3);
    assert_eq!(
        hash_model(&model, &at_limit, &NoProgress)
            .expect("3 files are accepted")
            .len(),
        3
    );
    let (what, limit, message) = too_many(hash_model(
        &model,
        &HashConfig::new().max_resources(2),
        &NoProgress,
    ));
    assert_eq!((what, limit), ("resources", 2));
    assert!(message.contains("more than 2 resources"), "{message}");
}

#[test]
fn walk_file_count_at_the_limit_is_listed_one_more_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_with(tmp.path(), &[("a", 1), ("b", 1), ("c", 1), ("d", 1)]);
    let listed = walk(&model, &HashConfig::new().max_files(4)).expect("4 files are listed");
    assert_eq!(listed.entries().len(), 4);
    let (what, limit, message) = too_many(walk(&model, &HashConfig::new().max_files(3)));
    assert_eq!((what, limit), ("files", 3));
    assert!(message.contains("more than 3 files"), "{message}");
}

/// A shard size of one byte on a file of `MAX_RESOURCES + 1` bytes is one
/// shard too many under the default limit.
#[test]
fn default_shard_limit_plus_one_is_refused_before_reading() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let len = u64::try_from(MAX_RESOURCES).expect("u64") + 1;
    let model = model_with(tmp.path(), &[("weights.bin", len)]);
    let config = HashConfig::new().shards(1).expect("shards");
    let progress = Bytes::default();
    let (what, limit, message) = too_many(hash_model(&model, &config, &progress));
    assert_eq!((what, limit), ("shards", MAX_RESOURCES));
    assert!(message.contains(&MAX_RESOURCES.to_string()), "{message}");
    assert_eq!(progress.0.load(Ordering::Relaxed), 0, "bytes were read");
}

/// A tiny shard size on a huge (sparse) file would be a trillion shards: it
/// is refused from the file size alone, before any memory is spent on them.
#[test]
fn tiny_shard_size_on_a_huge_sparse_file_does_not_explode() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_with(tmp.path(), &[("huge.bin", 1 << 40), ("small.bin", 3)]);
    let progress = Bytes::default();
    for shard_size in [1, 1 << 10, 1 << 17] {
        let config = HashConfig::new().shards(shard_size).expect("shards");
        let (what, limit, _) = too_many(hash_model(&model, &config, &progress));
        assert_eq!(
            (what, limit),
            ("shards", MAX_RESOURCES),
            "shard size {shard_size}"
        );
    }
    // 2^40 / 2^18 = 2^22 shards, and one for small.bin: one over the limit.
    assert_eq!(MAX_RESOURCES, 1 << 22);
    let config = HashConfig::new().shards(1 << 18).expect("shards");
    assert_eq!(too_many(hash_model(&model, &config, &progress)).0, "shards");
    assert_eq!(progress.0.load(Ordering::Relaxed), 0, "bytes were read");
}

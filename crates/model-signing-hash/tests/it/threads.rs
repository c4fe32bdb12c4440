//! The output does not depend on the number of hashing threads.

use crate::support;

use std::path::Path;

use model_signing_hash::{
    hash_model, HashAlgorithm, HashConfig, NoProgress, ResourceDigest, ResourceKey,
};

/// 150 files of 0 to ~3 KiB in nested directories, plus one larger file, so
/// that a shard size of 512 gives several hundred shards of uneven files.
fn many_files(base: &Path) -> std::path::PathBuf {
    let model = base.join("model");
    for i in 0..150u32 {
        let dir = model.join(format!("d{}/e{}", i % 7, i % 3));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let len = (i as usize * 97) % 3001;
        std::fs::write(dir.join(format!("f{i}.bin")), support::pattern(len, i)).expect("write");
    }
    std::fs::write(model.join("large.bin"), support::pattern(200_003, 999)).expect("write");
    model
}

fn run(model: &Path, config: &HashConfig) -> Vec<ResourceDigest> {
    hash_model(model, config, &NoProgress).expect("hash")
}

#[test]
fn one_thread_and_many_give_identical_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = many_files(tmp.path());
    let configs = [
        HashConfig::new(),
        HashConfig::new().shards(512).expect("valid"),
        HashConfig::new()
            .algorithm(HashAlgorithm::Blake2b)
            .shards(1000)
            .expect("valid"),
        HashConfig::new().algorithm(HashAlgorithm::Blake3),
    ];
    for config in configs {
        let one = run(&model, &config.clone().threads(1).expect("valid"));
        for threads in [2, 3, 8] {
            let many = run(&model, &config.clone().threads(threads).expect("valid"));
            assert_eq!(
                one,
                many,
                "{} {} with {threads} threads",
                config.get_method().name(),
                config.get_algorithm()
            );
        }
        assert_eq!(one, run(&model, &config), "default thread count");

        // The order is the signing order, whatever the scheduling was.
        let keys: Vec<&ResourceKey> = one.iter().map(|r| &r.key).collect();
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        match config.get_method().shard_size() {
            None => assert_eq!(one.len(), 151),
            Some(size) => assert!(one.len() > 151, "{size}: {} shards", one.len()),
        }
    }
}

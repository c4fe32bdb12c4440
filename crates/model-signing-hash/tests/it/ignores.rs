//! Ignore paths: which entries they leave out, and what the walk reports as
//! left out. Their cost with many long paths is measured by
//! `crates/model-signing/examples/ignore_paths_scale.rs`, not here.

use std::fs;

use model_signing_hash::{hash_files, walk, HashConfig, HashError, ModelFiles, NoProgress};

fn names(files: &ModelFiles) -> Vec<String> {
    files.entries().iter().map(|e| e.name()).collect()
}

#[test]
fn ignored_entries_are_listed_top_most_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir_all(model.join("sub")).expect("mkdir");
    fs::write(model.join("a"), "hello\n").expect("write");
    fs::write(model.join("sub/b"), "world\n").expect("write");
    fs::create_dir_all(model.join("d/inner")).expect("mkdir");
    fs::write(model.join("d/x"), "x").expect("write");
    fs::write(model.join("d/inner/y"), "y").expect("write");
    fs::write(model.join("d2"), "not ignored").expect("write");
    fs::create_dir_all(model.join(".git/objects")).expect("mkdir");
    fs::write(model.join(".git/HEAD"), "ref").expect("write");
    fs::create_dir_all(model.join(".cache/huggingface")).expect("mkdir");
    fs::write(model.join(".cache/huggingface/x.metadata"), "m").expect("write");
    fs::write(model.join(".cache/other"), "o").expect("write");
    let config = HashConfig::new()
        .ignore_paths(["d", "sub/b", "not-there", "a/below-a-file"])
        .expect("valid");
    let files = walk(&model, &config).expect("walk");
    assert_eq!(names(&files), [".cache/other", "a", "d2"]);
    assert_eq!(
        files.ignored(),
        [".cache/huggingface", ".git", "d", "sub/b"]
    );
}

/// Many long ignore paths, some present in the model, some naming nothing,
/// some differing from a present file only by a suffix or lying below it:
/// the same answer as matching each file against each path by whole
/// components.
#[test]
fn many_deep_ignore_paths_match_by_whole_components() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    let deep: Vec<String> = (0..40).map(|i| format!("c{}", i % 3)).collect();
    let deep = deep.join("/");
    fs::create_dir_all(model.join(&deep)).expect("mkdir");
    let mut ignores = Vec::new();
    let mut kept = Vec::new();
    for i in 0..300 {
        let name = format!("{deep}/f{i}");
        fs::write(model.join(&name), "x").expect("write");
        if i % 3 == 0 {
            ignores.push(name);
        } else {
            kept.push(name);
        }
        ignores.push(format!("{deep}/f{i}x"));
        ignores.push(format!("{deep}/f{i}/below"));
    }
    let config = HashConfig::new().ignore_paths(&ignores).expect("valid");
    assert_eq!(config.user_ignore_paths().len(), 700);
    let files = walk(&model, &config).expect("walk");
    kept.sort_by(|a, b| a.split('/').cmp(b.split('/')));
    assert_eq!(names(&files), kept);
    assert_eq!(files.ignored().len(), 100);
    // A prefix of them all leaves out the whole chain, as one entry.
    let config = config.ignore_paths(["c0/c1"]).expect("valid");
    let files = walk(&model, &config).expect("walk");
    assert_eq!(files.ignored(), ["c0/c1"]);
    let err = hash_files(&files, &config, &NoProgress).expect_err("nothing left");
    assert!(matches!(err, HashError::EmptyModel { .. }), "{err:?}");
}

#[test]
fn duplicate_ignore_paths_are_kept_once_in_order() {
    let config = HashConfig::new()
        .ignore_paths(["b", "a/x", "b/", "a//x", "a-b", "a"])
        .expect("valid");
    let listed: Vec<String> = config
        .user_ignore_paths()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(listed, ["a", "a/x", "a-b", "b"]);
}

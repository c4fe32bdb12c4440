//! Hugging Face layouts in the engine: a cache snapshot (files are relative
//! links into the repository's `blobs/`) hashes exactly like a copy with
//! real files when links are contained in the repository folder; links that
//! leave it are refused; `.cache/huggingface` is ignored by default.

use testkit::hf_support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use hf_support::{commit_hash, write_local_dir, write_plain, CachedRepo, HubFile};
use model_signing_hash::{
    hash_files, hash_model, hf_cache_repo, walk, HashAlgorithm, HashConfig, HashError, NoProgress,
    ResourceDigest,
};

fn sha256(data: &[u8]) -> Vec<u8> {
    HashAlgorithm::Sha256.digest(data)
}

fn files() -> Vec<HubFile> {
    vec![
        HubFile::git("config.json", b"{\"model_type\": \"tiny\"}\n"),
        HubFile::git(
            ".gitattributes",
            b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
        ),
        HubFile::lfs("model.safetensors", &[7u8; 3000]),
        HubFile::git("tokenizer/tokenizer.json", b"{\"version\": \"1.0\"}\n"),
        HubFile::lfs("deep/er/weights.bin", &[9u8; 1500]),
        // The same content twice: one blob, two links.
        HubFile::git("tokenizer/copy.json", b"{\"version\": \"1.0\"}\n"),
    ]
}

struct Layout {
    _tmp: tempfile::TempDir,
    tmp: PathBuf,
    repo: CachedRepo,
    snapshot: PathBuf,
    copy: PathBuf,
}

fn layout() -> Layout {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().canonicalize().expect("canonical tempdir");
    let repo = CachedRepo::new(&root.join("hub"), "acme/tiny", sha256);
    let commit = commit_hash("one");
    let snapshot = repo.add_commit(&commit, &files());
    repo.set_ref("main", &commit);
    let copy = root.join("copy");
    write_plain(&copy, &files());
    Layout {
        _tmp: tmp,
        tmp: root,
        repo,
        snapshot,
        copy,
    }
}

fn names(resources: &[ResourceDigest]) -> Vec<String> {
    resources.iter().map(|r| r.key.to_string()).collect()
}

fn hash(model: &Path, config: &HashConfig) -> Result<Vec<ResourceDigest>, HashError> {
    hash_model(model, config, &NoProgress)
}

fn contained(l: &Layout) -> HashConfig {
    HashConfig::new().contained_links(&l.repo.dir)
}

fn assert_mentions(err: &HashError, what: &Path) {
    let msg = err.to_string();
    assert!(
        msg.contains(&what.display().to_string()),
        "{msg:?} does not name {}",
        what.display()
    );
}

#[test]
fn layout_is_the_hub_clients() {
    let l = layout();
    let link = fs::read_link(l.snapshot.join("config.json")).expect("a link");
    assert_eq!(
        link,
        Path::new("../../blobs").join(hf_support::git_sha1(b"{\"model_type\": \"tiny\"}\n"))
    );
    let deep = fs::read_link(l.snapshot.join("deep/er/weights.bin")).expect("a link");
    assert!(deep.starts_with("../../../../blobs"), "{}", deep.display());
    assert_eq!(
        deep.file_name().and_then(|n| n.to_str()),
        Some(hex::encode(sha256(&[9u8; 1500])).as_str())
    );
    assert_eq!(
        fs::read_to_string(l.repo.dir.join("refs/main")).expect("ref"),
        commit_hash("one")
    );
}

#[test]
fn snapshot_hashes_like_a_plain_copy() {
    let l = layout();
    let copy = hash(&l.copy, &HashConfig::new()).expect("copy");
    let snap = hash(&l.snapshot, &contained(&l)).expect("snapshot");
    assert_eq!(snap, copy);
    assert_eq!(
        names(&snap),
        [
            "config.json",
            "deep/er/weights.bin",
            "model.safetensors",
            "tokenizer/copy.json",
            "tokenizer/tokenizer.json"
        ]
    );
    // Shards and other hashes too.
    let sharded = HashConfig::new()
        .algorithm(HashAlgorithm::Blake2b)
        .shards(1024)
        .expect("valid");
    assert_eq!(
        hash(&l.snapshot, &sharded.clone().contained_links(&l.repo.dir)).expect("snapshot"),
        hash(&l.copy, &sharded).expect("copy")
    );
    // The option does not change what is recorded.
    assert!(!contained(&l).get_allow_symlinks());
    assert_eq!(
        contained(&l).effective_ignore_paths(),
        HashConfig::new().effective_ignore_paths()
    );
}

#[test]
fn without_the_option_snapshot_links_are_refused_as_before() {
    let l = layout();
    let err = hash(&l.snapshot, &HashConfig::new()).expect_err("links refused");
    assert!(
        matches!(err, HashError::SymlinkNotAllowed { .. }),
        "{err:?}"
    );
}

#[test]
fn detects_snapshots_and_folders_inside_them() {
    let l = layout();
    let repo = l.repo.dir.canonicalize().expect("canonical");
    assert_eq!(hf_cache_repo(&l.snapshot), Some(repo.clone()));
    assert_eq!(
        hf_cache_repo(&l.snapshot.join("tokenizer")),
        Some(repo.clone())
    );
    let config = HashConfig::new().contain_links_in_hf_snapshot(&l.snapshot);
    assert_eq!(config.get_contained_links(), Some(repo.as_path()));
    // A link to the snapshot (how a user might name it) is resolved first.
    let alias = l.tmp.join("alias");
    symlink(&l.snapshot, &alias).expect("symlink");
    assert_eq!(hf_cache_repo(&alias), Some(repo));

    for not in [
        l.copy.clone(),
        l.repo.dir.clone(),
        l.repo.dir.join("snapshots"),
        l.repo.dir.join("blobs"),
        l.tmp.join("missing"),
    ] {
        assert_eq!(hf_cache_repo(&not), None, "{}", not.display());
        assert!(HashConfig::new()
            .contain_links_in_hf_snapshot(&not)
            .get_contained_links()
            .is_none());
    }
    // `snapshots/<commit>` without `blobs/` beside it is not a cache repository.
    let fake = l.tmp.join("fake/snapshots/abc");
    fs::create_dir_all(&fake).expect("mkdir");
    assert_eq!(hf_cache_repo(&fake), None);
}

#[test]
fn model_through_linked_cache_folder() {
    let l = layout();
    // HF_HUB_CACHE may itself be a link; containment uses resolved paths.
    let cache_link = l.tmp.join("cache-link");
    symlink(l.repo.dir.parent().expect("cache"), &cache_link).expect("symlink");
    let repo = cache_link.join("models--acme--tiny");
    let snapshot = repo.join("snapshots").join(commit_hash("one"));
    let config = HashConfig::new().contained_links(&repo);
    assert_eq!(
        hash(&snapshot, &config).expect("snapshot"),
        hash(&l.copy, &HashConfig::new()).expect("copy")
    );
}

#[test]
fn absolute_and_chained_links_inside_the_repository_are_followed() {
    let l = layout();
    let blob = l
        .repo
        .blob_path(&HubFile::lfs("model.safetensors", &[7u8; 3000]));
    let target = l.snapshot.join("model.safetensors");
    fs::remove_file(&target).expect("remove");
    symlink(&blob, &target).expect("absolute link");
    // A link to another snapshot's link, which leads to a blob.
    let other = l.repo.add_commit(
        &commit_hash("two"),
        &[HubFile::git("config.json", b"{\"model_type\": \"tiny\"}\n")],
    );
    let cfg = l.snapshot.join("config.json");
    fs::remove_file(&cfg).expect("remove");
    symlink(other.join("config.json"), &cfg).expect("chained link");
    assert_eq!(
        hash(&l.snapshot, &contained(&l)).expect("snapshot"),
        hash(&l.copy, &HashConfig::new()).expect("copy")
    );
}

#[test]
fn link_leaving_the_repository_is_refused() {
    let l = layout();
    let outside = l.tmp.join("outside.txt");
    fs::write(&outside, "secret\n").expect("write");
    let link = l.snapshot.join("evil.txt");
    symlink("../../../../outside.txt", &link).expect("symlink");
    for config in [contained(&l), contained(&l).allow_symlinks(true)] {
        let err = hash(&l.snapshot, &config).expect_err("refused");
        match &err {
            HashError::SymlinkOutsideContainer {
                path,
                target,
                container,
            } => {
                assert_eq!(path, &link);
                assert_eq!(target, &outside);
                assert_eq!(container, &l.repo.dir);
            }
            other => panic!("{other:?}"),
        }
        assert_mentions(&err, &link);
        assert_mentions(&err, &outside);
    }
}

#[test]
fn link_into_a_sibling_with_the_repository_name_as_prefix_is_refused() {
    let l = layout();
    // `models--acme--tiny2` starts with the same characters: components count.
    let sibling = CachedRepo::new(l.repo.dir.parent().expect("cache"), "acme/tiny2", sha256);
    let f = HubFile::lfs("w.bin", b"other weights");
    sibling.add_commit(&commit_hash("sib"), std::slice::from_ref(&f));
    let link = l.snapshot.join("w.bin");
    symlink(
        format!(
            "../../../models--acme--tiny2/blobs/{}",
            sibling.blob_name(&f)
        ),
        &link,
    )
    .expect("symlink");
    let err = hash(&l.snapshot, &contained(&l)).expect_err("refused");
    assert!(
        matches!(&err, HashError::SymlinkOutsideContainer { path, .. } if *path == link),
        "{err:?}"
    );
}

#[test]
fn link_to_another_repositorys_blob_is_refused() {
    let l = layout();
    let other = CachedRepo::new(l.repo.dir.parent().expect("cache"), "other/model", sha256);
    let f = HubFile::git("config.json", b"{\"model_type\": \"other\"}\n");
    let other_snapshot = other.add_commit(&commit_hash("other"), std::slice::from_ref(&f));
    // Through the other repository's snapshot link, and straight to its blob.
    for (name, target) in [
        (
            "via-snapshot.json",
            format!(
                "../../../models--other--model/snapshots/{}/config.json",
                commit_hash("other")
            ),
        ),
        (
            "via-blob.json",
            format!(
                "../../../models--other--model/blobs/{}",
                other.blob_name(&f)
            ),
        ),
    ] {
        let link = l.snapshot.join(name);
        symlink(&target, &link).expect("symlink");
        let err = hash(&l.snapshot, &contained(&l)).expect_err("refused");
        assert!(
            matches!(&err, HashError::SymlinkOutsideContainer { path, .. } if *path == link),
            "{err:?}"
        );
        assert_mentions(&err, &link);
        fs::remove_file(&link).expect("remove");
    }
    assert!(other_snapshot.is_dir());
}

#[test]
fn link_to_a_directory_outside_is_refused() {
    let l = layout();
    let outside = l.tmp.join("elsewhere");
    fs::create_dir(&outside).expect("mkdir");
    fs::write(outside.join("x"), "x").expect("write");
    let link = l.snapshot.join("dir");
    symlink(&outside, &link).expect("symlink");
    let err = hash(&l.snapshot, &contained(&l)).expect_err("refused");
    assert!(
        matches!(&err, HashError::SymlinkOutsideContainer { path, .. } if *path == link),
        "{err:?}"
    );
}

#[test]
fn dangling_and_looping_links_in_a_snapshot() {
    let l = layout();
    let link = l.snapshot.join("gone.bin");
    symlink("../../blobs/0000", &link).expect("symlink");
    let err = hash(&l.snapshot, &contained(&l)).expect_err("dangling");
    assert!(
        matches!(&err, HashError::DanglingSymlink { path } if *path == link),
        "{err:?}"
    );
    fs::remove_file(&link).expect("remove");
    symlink("gone.bin", &link).expect("symlink to itself");
    let err = hash(&l.snapshot, &contained(&l)).expect_err("loop");
    assert!(
        matches!(&err, HashError::SymlinkCycle { path } if *path == link),
        "{err:?}"
    );
}

#[test]
fn tampered_blob_changes_the_digest_of_the_linked_name() {
    let l = layout();
    let before = hash(&l.snapshot, &contained(&l)).expect("snapshot");
    let blob = l
        .repo
        .blob_path(&HubFile::lfs("model.safetensors", &[7u8; 3000]));
    fs::write(&blob, [8u8; 3000]).expect("tamper");
    let after = hash(&l.snapshot, &contained(&l)).expect("snapshot");
    let changed: Vec<String> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.digest != b.digest)
        .map(|(a, _)| a.key.to_string())
        .collect();
    assert_eq!(changed, ["model.safetensors"]);
}

#[test]
fn link_redirected_after_the_walk_is_detected() {
    let l = layout();
    let files = walk(&l.snapshot, &contained(&l)).expect("walk");
    // Point `model.safetensors` at another blob of the same repository.
    let link = l.snapshot.join("model.safetensors");
    fs::remove_file(&link).expect("remove");
    symlink(
        format!(
            "../../blobs/{}",
            l.repo.blob_name(&HubFile::lfs("w", &[9u8; 1500]))
        ),
        &link,
    )
    .expect("symlink");
    let err = hash_files(&files, &contained(&l), &NoProgress).expect_err("changed");
    assert!(
        matches!(&err, HashError::FileChanged { path, .. } if *path == link),
        "{err:?}"
    );
}

#[test]
fn blob_changed_after_the_walk_is_detected() {
    let l = layout();
    let files = walk(&l.snapshot, &contained(&l)).expect("walk");
    let blob = l
        .repo
        .blob_path(&HubFile::lfs("model.safetensors", &[7u8; 3000]));
    fs::write(&blob, [7u8; 3001]).expect("grow");
    let err = hash_files(&files, &contained(&l), &NoProgress).expect_err("changed");
    assert!(matches!(&err, HashError::FileChanged { .. }), "{err:?}");
    assert_mentions(&err, &l.snapshot.join("model.safetensors"));
}

#[test]
fn local_dir_metadata_is_ignored_by_default_and_recorded() {
    let l = layout();
    let local = l.tmp.join("local");
    write_local_dir(&local, &commit_hash("one"), &files(), |f| {
        l.repo.blob_name(f)
    });
    // Something else below `.cache`, and a nested `.cache/huggingface`: kept.
    fs::write(local.join(".cache/other"), "kept\n").expect("write");
    fs::create_dir_all(local.join("sub/.cache/huggingface")).expect("mkdir");
    fs::write(local.join("sub/.cache/huggingface/x"), "kept\n").expect("write");

    let config = HashConfig::new();
    assert!(config.get_ignore_hf_download_cache());
    let recorded: Vec<String> = config
        .effective_ignore_paths()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        recorded.contains(&".cache/huggingface".to_owned()),
        "{recorded:?}"
    );

    let got = names(&hash(&local, &config).expect("local dir"));
    assert!(got.contains(&".cache/other".to_owned()), "{got:?}");
    assert!(
        got.contains(&"sub/.cache/huggingface/x".to_owned()),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|n| n.starts_with(".cache/huggingface")),
        "{got:?}"
    );

    fs::remove_file(local.join(".cache/other")).expect("remove");
    fs::remove_dir_all(local.join("sub")).expect("remove");
    assert_eq!(
        hash(&local, &config).expect("local dir"),
        hash(&l.snapshot, &contained(&l)).expect("snapshot")
    );

    let all = names(&hash(&local, &config.ignore_hf_download_cache(false)).expect("local dir"));
    assert!(
        all.contains(&".cache/huggingface/download/config.json.metadata".to_owned()),
        "{all:?}"
    );
    assert!(
        all.contains(&".cache/huggingface/.gitignore".to_owned()),
        "{all:?}"
    );
}

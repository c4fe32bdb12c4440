//! The walk for verification ([`walk_signed`]): an entry the signature does
//! not list is reported by its name, and never followed outside the model,
//! opened or hashed.

use crate::support;

use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use model_signing_hash::{
    hash_files, walk, walk_signed, HashConfig, HashError, ModelFiles, Progress,
};
use support::mkfifo;

/// Runs `f` on another thread and fails if it takes more than 20 seconds
/// (a walk through `/usr` or a FIFO opened for reading would).
fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the walk did not finish in 20 seconds"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the walk panicked"),
    }
}

/// A model with the signed files `a` and `sub/b`.
fn signed_model(tmp: &Path) -> std::path::PathBuf {
    let model = tmp.join("model");
    fs::create_dir_all(model.join("sub")).expect("mkdir");
    fs::write(model.join("a"), "hello\n").expect("write");
    fs::write(model.join("sub/b"), "world\n").expect("write");
    model
}

const SIGNED: [&str; 2] = ["a", "sub/b"];

fn walk_ok(model: &Path, config: &HashConfig) -> ModelFiles {
    let (model, config) = (model.to_owned(), config.clone());
    within_20s(move || walk_signed(&model, &config, SIGNED))
        .unwrap_or_else(|e| panic!("walk failed: {e}"))
}

fn names(files: &ModelFiles) -> Vec<String> {
    files.entries().iter().map(|e| e.name()).collect()
}

fn allowed() -> HashConfig {
    HashConfig::new().allow_symlinks(true)
}

/// Counts the bytes the engine reports as read.
#[derive(Default)]
struct Bytes(AtomicU64);

impl Progress for Bytes {
    fn advance(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::Relaxed);
    }
}

#[test]
fn unsigned_link_to_a_big_directory_outside_the_model_is_not_walked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    // Outside the model: many files, a FIFO that would block a reader, and a
    // link back up (a cycle). Walking into it would list thousands of files
    // or fail.
    let outside = tmp.path().join("outside");
    fs::create_dir_all(outside.join("deep")).expect("mkdir");
    for i in 0..2000 {
        fs::write(outside.join(format!("f{i}")), "x").expect("write");
    }
    mkfifo(&outside.join("deep/pipe"));
    symlink("../..", outside.join("deep/up")).expect("symlink");
    symlink(&outside, model.join("usr-share")).expect("symlink");
    symlink(&outside, model.join("sub/also")).expect("symlink");
    for config in [allowed(), HashConfig::new()] {
        let files = walk_ok(&model, &config);
        assert_eq!(names(&files), SIGNED);
        assert_eq!(files.unsigned(), ["sub/also", "usr-share"]);
    }
}

#[test]
fn unsigned_link_to_root_is_reported_unsigned_not_a_cycle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    symlink("/", model.join("root")).expect("symlink");
    symlink("/proc", model.join("proc")).expect("symlink");
    symlink("..", model.join("sub/parent")).expect("symlink");
    symlink(&model, model.join("self")).expect("symlink");
    let files = walk_ok(&model, &allowed());
    assert_eq!(names(&files), SIGNED);
    assert_eq!(files.unsigned(), ["proc", "root", "self", "sub/parent"]);
    // The plain walk (for signing) follows them and finds the cycle.
    let err = walk(&model, &allowed()).expect_err("a cycle");
    assert!(matches!(err, HashError::SymlinkCycle { .. }), "{err:?}");
}

#[test]
fn unsigned_big_sparse_file_is_reported_without_being_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    // 16 GiB that occupy no disk: reading them would take half a minute.
    File::create(model.join("huge.bin"))
        .and_then(|f| f.set_len(16 << 30))
        .expect("sparse file");
    for config in [
        HashConfig::new(),
        HashConfig::new().shards(1 << 20).expect("valid"),
    ] {
        let files = walk_ok(&model, &config);
        assert_eq!(names(&files), SIGNED);
        assert_eq!(files.unsigned(), ["huge.bin"]);
        assert_eq!(files.total_bytes(), 12);
        let progress = Bytes::default();
        let digests = hash_files(&files, &config, &progress).expect("hash");
        assert_eq!(digests.len(), 2);
        assert_eq!(
            progress.0.load(Ordering::Relaxed),
            12,
            "only the signed files are read"
        );
    }
}

#[test]
fn unsigned_fifo_socket_and_dangling_link_are_reported_not_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    mkfifo(&model.join("pipe"));
    let _listener = UnixListener::bind(model.join("sub/sock")).expect("bind socket");
    symlink("missing", model.join("dangling")).expect("symlink");
    for config in [allowed(), HashConfig::new()] {
        let files = walk_ok(&model, &config);
        assert_eq!(names(&files), SIGNED);
        assert_eq!(files.unsigned(), ["dangling", "pipe", "sub/sock"]);
    }
}

#[test]
fn unsigned_link_to_a_signed_file_is_not_followed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    symlink("a", model.join("copy-of-a")).expect("symlink");
    // Without --allow-symlinks a link is refused when it is signed, and
    // merely unsigned otherwise.
    let files = walk_ok(&model, &HashConfig::new());
    assert_eq!(files.unsigned(), ["copy-of-a"]);
}

#[test]
fn unsigned_directory_inside_the_model_lists_its_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    fs::create_dir_all(model.join("extra/deeper")).expect("mkdir");
    fs::write(model.join("extra/x"), "x").expect("write");
    fs::write(model.join("extra/deeper/y"), "y").expect("write");
    symlink("/", model.join("extra/deeper/root")).expect("symlink");
    // Empty directories are not part of a model, signed or not.
    fs::create_dir_all(model.join("empty/inner")).expect("mkdir");
    fs::create_dir(model.join("sub/empty")).expect("mkdir");
    let files = walk_ok(&model, &allowed());
    assert_eq!(names(&files), SIGNED);
    assert_eq!(
        files.unsigned(),
        ["extra/deeper/root", "extra/deeper/y", "extra/x"]
    );
}

#[test]
fn signed_file_replaced_by_a_directory_lists_the_directory_files_as_unsigned() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    fs::remove_file(model.join("a")).expect("rm");
    fs::create_dir(model.join("a")).expect("mkdir");
    fs::write(model.join("a/inside"), "x").expect("write");
    // And a directory above a signed file replaced by a file.
    fs::remove_dir_all(model.join("sub")).expect("rm");
    fs::write(model.join("sub"), "now a file").expect("write");
    let files = walk_ok(&model, &allowed());
    assert!(names(&files).is_empty());
    assert_eq!(files.unsigned(), ["a/inside", "sub"]);
}

#[test]
fn signed_link_into_a_directory_lists_other_entries_there_by_name_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("a"), "hello\n").expect("write");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(elsewhere.join("big/inner")).expect("mkdir");
    fs::write(elsewhere.join("b"), "world\n").expect("write");
    fs::write(elsewhere.join("big/inner/f"), "x").expect("write");
    fs::create_dir(elsewhere.join("empty")).expect("mkdir");
    symlink(&elsewhere, model.join("sub")).expect("symlink");
    let files = walk_ok(&model, &allowed());
    assert_eq!(names(&files), SIGNED);
    // `big` is reached through a link: listed by name, not read through.
    assert_eq!(files.unsigned(), ["sub/big"]);
}

#[test]
fn unsigned_empty_file_gives_no_resource_under_shards() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    fs::write(model.join("empty"), "").expect("write");
    symlink("empty", model.join("link-to-empty")).expect("symlink");
    let shards = allowed().shards(1 << 20).expect("valid");
    assert!(walk_ok(&model, &shards).unsigned().is_empty());
    assert_eq!(
        walk_ok(&model, &allowed()).unsigned(),
        ["empty", "link-to-empty"]
    );
}

#[test]
fn unsigned_non_utf8_name_is_reported_not_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    fs::write(model.join(OsStr::from_bytes(b"bad\xff")), "x").expect("write");
    let files = walk_ok(&model, &allowed());
    assert_eq!(files.unsigned(), ["bad\u{fffd}"]);
    assert!(matches!(
        walk(&model, &allowed()),
        Err(HashError::NonUtf8Name { .. })
    ));
}

#[test]
fn unsigned_entries_count_towards_the_file_limit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    for i in 0..5 {
        fs::write(model.join(format!("x{i}")), "x").expect("write");
    }
    let err = walk_signed(&model, &HashConfig::new().max_files(6), SIGNED).expect_err("limit");
    assert!(
        matches!(
            err,
            HashError::TooMany {
                what: "files",
                limit: 6
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        walk_signed(&model, &HashConfig::new().max_files(7), SIGNED)
            .expect("walk")
            .unsigned()
            .len(),
        5
    );
}

#[test]
fn signed_special_file_is_still_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    fs::remove_file(model.join("a")).expect("rm");
    mkfifo(&model.join("a"));
    let (m, c) = (model.clone(), HashConfig::new());
    let err = within_20s(move || walk_signed(&m, &c, SIGNED)).expect_err("a FIFO");
    assert!(matches!(err, HashError::SpecialFile { .. }), "{err:?}");
}

// ------------------------------------------------------------------ ignores

/// Ignore paths apply first: an ignored entry is listed as ignored, not as
/// unsigned, wherever it lies.
#[test]
fn ignored_entries_are_listed_as_ignored_not_unsigned() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = signed_model(tmp.path());
    fs::create_dir_all(model.join("d/inner")).expect("mkdir");
    fs::write(model.join("d/inner/y"), "y").expect("write");
    fs::create_dir_all(model.join(".git")).expect("mkdir");
    mkfifo(&model.join(".git/pipe"));
    fs::create_dir_all(model.join(".cache/huggingface")).expect("mkdir");
    fs::write(model.join(".cache/huggingface/x.metadata"), "m").expect("write");
    fs::write(model.join(".cache/other"), "o").expect("write");
    symlink("/", model.join("sub/root")).expect("symlink");
    let config = HashConfig::new()
        .ignore_paths(["d", "sub/root"])
        .expect("valid");
    let files = walk_signed(&model, &config, SIGNED).expect("walk");
    assert_eq!(names(&files), SIGNED);
    assert_eq!(files.unsigned(), [".cache/other"]);
    assert_eq!(
        files.ignored(),
        [".cache/huggingface", ".git", "d", "sub/root"]
    );
}

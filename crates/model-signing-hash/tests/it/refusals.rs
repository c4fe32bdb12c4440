//! Every refusal of the engine: each test asserts the specific error, that
//! its message names the offending path, and that no digest comes back.

use testkit::skip_support;

use crate::support;

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use model_signing_hash::{
    hash_files, hash_model, walk, ConfigError, HashConfig, HashError, NoProgress,
};
use support::{assert_names, mkfifo};

fn model_dir(tmp: &Path) -> PathBuf {
    let model = tmp.join("model");
    fs::create_dir(&model).expect("mkdir model");
    fs::write(model.join("a"), "hello\n").expect("write a");
    model
}

fn allowed() -> HashConfig {
    HashConfig::new().allow_symlinks(true)
}

fn hash_err(model: &Path, config: &HashConfig) -> HashError {
    match hash_model(model, config, &NoProgress) {
        Ok(r) => panic!(
            "hashing {} gave {} resources instead of an error",
            model.display(),
            r.len()
        ),
        Err(e) => e,
    }
}

/// Runs `f` on another thread and fails if it takes more than 10 seconds:
/// opening a FIFO for reading blocks until a writer appears, so an engine that
/// opened one the ordinary way would hang here instead of failing.
fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("hashing did not finish within 10 seconds (blocked on a special file?)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the hashing thread panicked"),
    }
}

fn hash_err_within_10s(model: PathBuf, config: HashConfig) -> HashError {
    within_10s(move || hash_err(&model, &config))
}

// ---------------------------------------------------------------- symlinks

#[test]
fn symlink_to_file_refused_unless_allowed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let l = model.join("l");
    symlink("a", &l).expect("symlink");
    let err = hash_err(&model, &HashConfig::new());
    assert!(
        matches!(&err, HashError::SymlinkNotAllowed { path } if *path == l),
        "{err:?}"
    );
    assert_names(&err, &l);
    assert!(hash_model(&model, &allowed(), &NoProgress).is_ok());
}

#[test]
fn symlink_to_dir_refused_unless_allowed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    fs::create_dir_all(model.join("d")).expect("mkdir");
    fs::write(model.join("d/x"), "x").expect("write");
    fs::create_dir(model.join("sub")).expect("mkdir");
    let l = model.join("sub/ld");
    symlink("../d", &l).expect("symlink");
    let err = hash_err(&model, &HashConfig::new());
    assert!(
        matches!(&err, HashError::SymlinkNotAllowed { path } if *path == l),
        "{err:?}"
    );
    assert_names(&err, &l);
}

#[test]
fn dangling_symlink() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let l = model.join("dangling");
    symlink("missing", &l).expect("symlink");
    let err = hash_err(&model, &allowed());
    assert!(
        matches!(&err, HashError::DanglingSymlink { path } if *path == l),
        "{err:?}"
    );
    assert_names(&err, &l);
    // Refused as a link before its target is even looked at.
    let err = hash_err(&model, &HashConfig::new());
    assert!(
        matches!(&err, HashError::SymlinkNotAllowed { path } if *path == l),
        "{err:?}"
    );
}

#[test]
fn symlink_to_ancestor_directory_is_a_cycle() {
    for (at, target) in [("x/y/up", "../.."), ("x/y/up", ".."), ("self", ".")] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let model = model_dir(tmp.path());
        fs::create_dir_all(model.join("x/y")).expect("mkdir");
        fs::write(model.join("x/y/f"), "f").expect("write");
        let l = model.join(at);
        symlink(target, &l).expect("symlink");
        let err = within_10s({
            let model = model.clone();
            move || hash_err(&model, &allowed())
        });
        assert!(
            matches!(&err, HashError::SymlinkCycle { path } if *path == l),
            "{at} -> {target}: {err:?}"
        );
        assert_names(&err, &l);
    }
}

#[test]
fn symlink_to_model_root_by_absolute_path_is_a_cycle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let l = model.join("root");
    symlink(&model, &l).expect("symlink");
    let err = hash_err(&model, &allowed());
    assert!(
        matches!(&err, HashError::SymlinkCycle { path } if *path == l),
        "{err:?}"
    );
    assert_names(&err, &l);
}

/// A link to the directory that holds the model leads back into the model
/// through its real directory, which is the walk's starting point.
#[test]
fn symlink_to_the_directory_holding_the_model_is_a_cycle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let l = model.join("up");
    symlink("..", &l).expect("symlink");
    let err = within_10s({
        let model = model.clone();
        move || hash_err(&model, &allowed())
    });
    let HashError::SymlinkCycle { path } = &err else {
        panic!("{err:?}")
    };
    assert!(path.starts_with(&l), "{err:?}");
    assert_names(&err, path);
}

#[test]
fn directories_linking_to_each_other_are_a_cycle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    fs::create_dir(model.join("x")).expect("mkdir");
    fs::create_dir(model.join("y")).expect("mkdir");
    symlink("../y", model.join("x/to_y")).expect("symlink");
    symlink("../x", model.join("y/to_x")).expect("symlink");
    let err = hash_err(&model, &allowed());
    let HashError::SymlinkCycle { path } = &err else {
        panic!("{err:?}")
    };
    assert!(path.ends_with("to_x") || path.ends_with("to_y"), "{err:?}");
    assert_names(&err, path);
}

#[test]
fn links_to_each_other_are_a_cycle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    symlink("p", model.join("q")).expect("symlink");
    symlink("q", model.join("p")).expect("symlink");
    let err = hash_err(&model, &allowed());
    let HashError::SymlinkCycle { path } = &err else {
        panic!("{err:?}")
    };
    assert!(path.ends_with("p") || path.ends_with("q"), "{err:?}");
    assert_names(&err, path);

    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let l = model.join("me");
    symlink("me", &l).expect("symlink");
    let err = hash_err(&model, &allowed());
    assert!(
        matches!(&err, HashError::SymlinkCycle { path } if *path == l),
        "{err:?}"
    );
}

// ----------------------------------------------------------- special files

#[test]
fn fifo_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    fs::create_dir(model.join("sub")).expect("mkdir");
    let pipe = model.join("sub/pipe");
    mkfifo(&pipe);
    let err = hash_err_within_10s(model.clone(), HashConfig::new());
    assert!(
        matches!(&err, HashError::SpecialFile { path, kind: "FIFO" } if *path == pipe),
        "{err:?}"
    );
    assert_names(&err, &pipe);
}

#[test]
fn fifo_behind_an_allowed_symlink_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    mkfifo(&tmp.path().join("pipe"));
    let l = model.join("l");
    symlink("../pipe", &l).expect("symlink");
    let err = hash_err_within_10s(model, allowed());
    assert!(
        matches!(&err, HashError::SpecialFile { path, kind: "FIFO" } if *path == l),
        "{err:?}"
    );
    assert_names(&err, &l);
}

#[test]
fn fifo_as_the_model_path_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pipe = tmp.path().join("pipe");
    mkfifo(&pipe);
    let err = hash_err_within_10s(pipe.clone(), HashConfig::new());
    assert!(
        matches!(&err, HashError::SpecialFile { path, kind: "FIFO" } if *path == pipe),
        "{err:?}"
    );
    assert_names(&err, &pipe);
}

#[test]
fn socket_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let sock = model.join("sock");
    let _listener = UnixListener::bind(&sock).expect("bind socket");
    let err = hash_err_within_10s(model, HashConfig::new());
    assert!(
        matches!(&err, HashError::SpecialFile { path, kind: "socket" } if *path == sock),
        "{err:?}"
    );
    assert_names(&err, &sock);
}

/// Makes a character device like /dev/null at `path`, if this process may
/// (root with CAP_MKNOD); a link to /dev/null would be refused as a link.
fn mknod_null(path: &Path) -> bool {
    Command::new("mknod")
        .arg(path)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn device_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let dev = model.join("null");
    if !mknod_null(&dev) {
        skip_support::prerequisite_missing(
            "device_is_refused",
            "cannot create a device node here (it needs root with CAP_MKNOD)",
        );
        return;
    }
    let err = hash_err_within_10s(model, HashConfig::new());
    assert!(
        matches!(&err, HashError::SpecialFile { path, kind: "character device" } if *path == dev),
        "{err:?}"
    );
    assert_names(&err, &dev);
}

// -------------------------------------------------------- unreadable files

/// Set in the child process of `unreadable_file_and_directory`.
const WITHOUT_DAC_OVERRIDE: &str = "MODEL_SIGNING_TEST_WITHOUT_DAC_OVERRIDE";

/// Whether permission bits apply to this process: they do not for root, whose
/// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH bypass them.
fn permission_bits_enforced() -> bool {
    let tmp = tempfile::tempdir().expect("tempdir");
    let probe = tmp.path().join("probe");
    fs::write(&probe, "x").expect("write probe");
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o000)).expect("chmod");
    fs::File::open(&probe).is_err()
}

fn unreadable_checks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let secret = model.join("secret");
    fs::write(&secret, "secret").expect("write");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).expect("chmod");
    let err = hash_err(&model, &HashConfig::new());
    assert!(
        matches!(&err, HashError::Io { path, source }
            if *path == secret && source.kind() == io::ErrorKind::PermissionDenied),
        "{err:?}"
    );
    assert_names(&err, &secret);
    fs::remove_file(&secret).expect("rm");

    let locked = model.join("locked");
    fs::create_dir(&locked).expect("mkdir");
    fs::write(locked.join("x"), "x").expect("write");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
    let err = hash_err(&model, &HashConfig::new());
    assert!(
        matches!(&err, HashError::Io { path, source }
            if *path == locked && source.kind() == io::ErrorKind::PermissionDenied),
        "{err:?}"
    );
    assert_names(&err, &locked);
    // An ignored directory is never opened.
    let config = HashConfig::new().ignore_paths(["locked"]).expect("valid");
    let resources = hash_model(&model, &config, &NoProgress).expect("hash");
    assert_eq!(resources.len(), 1);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod back");
}

/// `chmod 000` makes a file unreadable only where permission bits apply. The
/// tests often run as root, which bypasses them (CAP_DAC_OVERRIDE), so there
/// this test runs itself again in a child process that is still root but
/// lacks CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (dropped from its bounding
/// set with `setpriv`), to which permission bits apply as to any user.
#[test]
fn unreadable_file_and_directory() {
    if permission_bits_enforced() {
        unreadable_checks();
        return;
    }
    assert!(
        std::env::var_os(WITHOUT_DAC_OVERRIDE).is_none(),
        "permission bits are still bypassed after dropping CAP_DAC_OVERRIDE"
    );
    let exe = std::env::current_exe().expect("test binary path");
    let output = Command::new("setpriv")
        .arg("--bounding-set=-dac_override,-dac_read_search")
        .arg(&exe)
        // The test's name in this binary: its module path without the crate.
        .args([
            &test_name(module_path!(), "unreadable_file_and_directory"),
            "--exact",
            "--test-threads=1",
        ])
        .env(WITHOUT_DAC_OVERRIDE, "1")
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Nothing can be made unreadable to this process without it.
            skip_support::prerequisite_missing(
                "unreadable_file_and_directory",
                "permission bits are bypassed here and setpriv is not installed",
            );
            return;
        }
        Err(e) => panic!("cannot run setpriv: {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the run without CAP_DAC_OVERRIDE failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// ------------------------------------------------------------------- names

#[test]
fn non_utf8_file_name_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let bad = model.join(OsStr::from_bytes(b"bad\xff.bin"));
    fs::write(&bad, "x").expect("write");
    let err = hash_err(&model, &HashConfig::new());
    assert!(
        matches!(&err, HashError::NonUtf8Name { path } if *path == bad),
        "{err:?}"
    );
    assert_names(&err, &bad);
}

#[test]
fn non_utf8_directory_name_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let bad = model.join(OsStr::from_bytes(b"d\xfe"));
    fs::create_dir(&bad).expect("mkdir");
    fs::write(bad.join("x"), "x").expect("write");
    let err = hash_err(&model, &HashConfig::new());
    assert!(
        matches!(&err, HashError::NonUtf8Name { path } if *path == bad),
        "{err:?}"
    );
    assert_names(&err, &bad);
}

// ----------------------------------------------------------- empty models

fn assert_empty(model: &Path, config: &HashConfig) {
    let err = hash_err(model, config);
    assert!(
        matches!(&err, HashError::EmptyModel { path, .. } if path == model),
        "{err:?}"
    );
    assert_names(&err, model);
}

#[test]
fn empty_directory_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    assert_empty(&model, &HashConfig::new());
    fs::create_dir_all(model.join("a/b/c")).expect("mkdir");
    fs::create_dir_all(model.join("d")).expect("mkdir");
    assert_empty(&model, &HashConfig::new());
    assert_empty(&model, &HashConfig::new().shards(4).expect("valid"));
}

#[test]
fn directory_with_only_ignored_files_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir_all(model.join(".git/objects")).expect("mkdir");
    fs::write(model.join(".git/HEAD"), "ref").expect("write");
    fs::write(model.join(".gitignore"), "x").expect("write");
    fs::create_dir_all(model.join("skip")).expect("mkdir");
    fs::write(model.join("skip/w"), "w").expect("write");
    let config = HashConfig::new().ignore_paths(["skip"]).expect("valid");
    assert_empty(&model, &config);
    // Sanity: the same model is not empty once nothing is ignored.
    let all = HashConfig::new().ignore_git_paths(false);
    assert_eq!(
        hash_model(&model, &all, &NoProgress).expect("hash").len(),
        3
    );
}

#[test]
fn shards_of_only_empty_files_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir_all(model.join("sub")).expect("mkdir");
    fs::write(model.join("e1"), "").expect("write");
    fs::write(model.join("sub/e2"), "").expect("write");
    let shards = HashConfig::new().shards(4).expect("valid");
    assert_empty(&model, &shards);
    // A single empty file in shards mode has no resource either.
    assert_empty(&model.join("e1"), &shards);
    // The files method gives empty files a resource.
    assert_eq!(
        hash_model(&model, &HashConfig::new(), &NoProgress)
            .expect("hash")
            .len(),
        2
    );
}

// ------------------------------------------------------------------ ignores

/// Ignored paths are skipped before they are examined in any way, so nothing
/// inside them (or they themselves) can make hashing fail.
#[test]
fn ignored_paths_are_not_examined() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    let ign = model.join("ign");
    fs::create_dir(&ign).expect("mkdir");
    mkfifo(&ign.join("pipe"));
    let _listener = UnixListener::bind(ign.join("sock")).expect("bind socket");
    symlink("../a", ign.join("link")).expect("symlink");
    symlink("missing", ign.join("dangling")).expect("symlink");
    symlink("..", ign.join("cycle")).expect("symlink");
    fs::write(ign.join(OsStr::from_bytes(b"bad\xff")), "x").expect("write");
    // Ignored by their own name, at the model root.
    mkfifo(&model.join("top-pipe"));
    symlink("a", model.join("top-link")).expect("symlink");
    // Ignored by default: the git paths.
    fs::create_dir(model.join(".git")).expect("mkdir");
    mkfifo(&model.join(".git/pipe"));
    symlink("missing", model.join(".gitignore")).expect("symlink");

    for allow_symlinks in [false, true] {
        let config = HashConfig::new()
            .allow_symlinks(allow_symlinks)
            .ignore_paths(["ign", "top-pipe", "top-link"])
            .expect("valid");
        let model = model.clone();
        let resources = within_10s(move || hash_model(&model, &config, &NoProgress))
            .unwrap_or_else(|e| panic!("ignored paths were examined: {e}"));
        let names: Vec<String> = resources.iter().map(|r| r.key.to_string()).collect();
        assert_eq!(names, ["a"]);
    }
}

#[test]
fn invalid_ignore_paths_are_rejected() {
    for bad in [
        "", ".", "./", "./.", "/", "/abs", "/a/b", "..", "../x", "a/../b", "a/..", "a\0b",
    ] {
        let err = HashConfig::new()
            .ignore_paths(["fine", bad])
            .expect_err(&format!("{bad:?} was accepted"));
        assert!(
            matches!(&err, ConfigError::InvalidIgnorePath { path, .. } if path == bad),
            "{bad:?}: {err:?}"
        );
        assert!(
            err.to_string().contains(&format!("{bad:?}")),
            "{err} does not name {bad:?}"
        );
    }
}

#[test]
fn zero_shard_size_and_zero_threads_are_rejected() {
    assert_eq!(
        HashConfig::new().shards(0).expect_err("zero shard size"),
        ConfigError::ZeroShardSize
    );
    assert_eq!(
        HashConfig::new().threads(0).expect_err("zero threads"),
        ConfigError::ZeroThreads
    );
}

#[test]
fn missing_model_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for missing in [tmp.path().join("nope"), tmp.path().join("nope/deeper")] {
        let err = hash_err(&missing, &HashConfig::new());
        assert!(
            matches!(&err, HashError::ModelNotFound { path } if *path == missing),
            "{err:?}"
        );
        assert_names(&err, &missing);
    }
}

// --------------------------------------------- changes after the walk

/// Walks a model of `a` and `b`, lets `change` alter `model/a`, then hashes
/// what the walk listed: the result must be an error, never digests.
fn changed_after_walk(config: &HashConfig, change: impl FnOnce(&Path)) -> (HashError, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model_dir(tmp.path());
    fs::write(model.join("b"), "other\n").expect("write b");
    let files = walk(&model, config).expect("walk");
    assert_eq!(files.entries().len(), 2);
    let a = model.join("a");
    change(&a);
    let config = config.clone();
    let err = within_10s(move || match hash_files(&files, &config, &NoProgress) {
        Ok(r) => panic!("a changed file gave {} digests", r.len()),
        Err(e) => e,
    });
    assert_names(&err, &a);
    (err, a)
}

fn configs() -> [HashConfig; 3] {
    [
        HashConfig::new(),
        HashConfig::new().shards(4).expect("valid"),
        allowed(),
    ]
}

fn assert_file_changed(err: &HashError, a: &Path) {
    assert!(
        matches!(err, HashError::FileChanged { path, .. } if path == a),
        "{err:?}"
    );
}

#[test]
fn file_grown_after_walk() {
    for config in configs() {
        let (err, a) = changed_after_walk(&config, |a| {
            fs::write(a, "hello, world\n").expect("rewrite");
        });
        assert_file_changed(&err, &a);
    }
}

#[test]
fn file_shrunk_after_walk() {
    for config in configs() {
        let (err, a) = changed_after_walk(&config, |a| fs::write(a, "h").expect("rewrite"));
        assert_file_changed(&err, &a);
    }
}

#[test]
fn file_mtime_changed_after_walk() {
    for config in configs() {
        // Same size, same content, same inode: only the modification time differs.
        let (err, a) = changed_after_walk(&config, |a| {
            let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
            fs::File::options()
                .write(true)
                .open(a)
                .expect("open")
                .set_modified(when)
                .expect("set mtime");
        });
        assert_file_changed(&err, &a);
    }
}

#[test]
fn file_rewritten_with_same_size_after_walk() {
    for config in configs() {
        let (err, a) = changed_after_walk(&config, |a| {
            let when = fs::metadata(a).expect("stat").modified().expect("mtime");
            fs::write(a, "HELLO\n").expect("rewrite");
            // Make sure the new write is seen even on a coarse clock.
            let later = when + Duration::from_secs(1);
            fs::File::options()
                .write(true)
                .open(a)
                .expect("open")
                .set_modified(later)
                .expect("set mtime");
        });
        assert_file_changed(&err, &a);
    }
}

#[test]
fn file_replaced_by_another_file_after_walk() {
    for config in configs() {
        // Same name, size and content, but another inode.
        let (err, a) = changed_after_walk(&config, |a| {
            let tmp = a.with_file_name("a.new");
            fs::write(&tmp, "hello\n").expect("write");
            fs::rename(&tmp, a).expect("rename over");
        });
        assert_file_changed(&err, &a);
    }
}

#[test]
fn file_replaced_by_symlink_after_walk() {
    for config in configs() {
        let (err, a) = changed_after_walk(&config, |a| {
            fs::remove_file(a).expect("rm");
            symlink("b", a).expect("symlink");
        });
        assert_file_changed(&err, &a);
    }
}

#[test]
fn file_replaced_by_fifo_after_walk() {
    for config in configs() {
        let (err, a) = changed_after_walk(&config, |a| {
            fs::remove_file(a).expect("rm");
            mkfifo(a);
        });
        assert!(
            matches!(&err, HashError::SpecialFile { path, .. } | HashError::FileChanged { path, .. } if *path == a),
            "{err:?}"
        );
    }
}

#[test]
fn file_replaced_by_socket_after_walk() {
    for config in configs() {
        let mut listener = None;
        let (err, a) = changed_after_walk(&config, |a| {
            fs::remove_file(a).expect("rm");
            listener = Some(UnixListener::bind(a).expect("bind socket"));
        });
        assert!(
            matches!(&err, HashError::SpecialFile { path, .. } | HashError::FileChanged { path, .. } if *path == a),
            "{err:?}"
        );
    }
}

#[test]
fn file_replaced_by_directory_after_walk() {
    for config in configs() {
        let (err, a) = changed_after_walk(&config, |a| {
            fs::remove_file(a).expect("rm");
            fs::create_dir(a).expect("mkdir");
        });
        assert!(
            matches!(&err, HashError::SpecialFile { path, .. } | HashError::FileChanged { path, .. } if *path == a),
            "{err:?}"
        );
    }
}

#[test]
fn file_removed_after_walk() {
    for config in configs() {
        let (err, a) = changed_after_walk(&config, |a| fs::remove_file(a).expect("rm"));
        assert!(
            matches!(&err, HashError::Io { path, source }
                if *path == a && source.kind() == io::ErrorKind::NotFound),
            "{err:?}"
        );
    }
}

/// The name libtest gives the test `function` of the module `module` (its
/// `module_path!()`, which starts with the test binary's crate name).
fn test_name(module: &str, function: &str) -> String {
    match module.split_once("::") {
        Some((_, inner)) => format!("{inner}::{function}"),
        None => function.to_owned(),
    }
}

//! Files that change while they are hashed, and files swapped for something
//! else between the walk and the read. Every case must end in an error that
//! names the file, never in a digest (which would be the digest of no
//! version of the file) and never in a hang.
//!
//! Changes are made from inside the hashing itself, through the progress
//! callback that the engine calls after each read: the file is changed after
//! its first bytes were hashed and before its last, every time. One test
//! instead runs a writer thread that appends while the engine reads.
//!
//! The plainer swaps (a FIFO with no writer, a symbolic link, a socket, a
//! directory, a removed file) are in `refusals.rs`.

use testkit::skip_support;

use crate::support;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{symlink, FileExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use model_signing_hash::{
    hash_files, hash_model, walk, HashAlgorithm, HashConfig, HashError, NoProgress, Progress,
    ResourceDigest,
};
use support::{assert_names, mkfifo, pattern};

/// Larger than the engine's largest read and its BLAKE3 subtree, so that the
/// file is read in several pieces, and by several threads in BLAKE3.
const BIG: usize = 6 << 20;

/// `len` bytes of `block` repeated, each copy starting with its number, so
/// that no two 64 KiB pieces of the file are alike.
fn content(len: usize, seed: u32) -> Vec<u8> {
    let block = pattern(64 << 10, seed);
    let mut out = Vec::with_capacity(len);
    for i in 0u32.. {
        if out.len() >= len {
            break;
        }
        out.extend_from_slice(&i.to_le_bytes());
        out.extend_from_slice(&block[4..]);
    }
    out.truncate(len);
    out
}

/// Runs `f` on another thread and fails if it takes more than 20 seconds.
fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("hashing did not finish within 20 seconds (blocked on a special file?)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the hashing thread panicked"),
    }
}

fn configs() -> Vec<(&'static str, HashConfig)> {
    vec![
        ("files sha256", HashConfig::new()),
        (
            "shards sha256",
            HashConfig::new().shards(3 << 20).expect("valid"),
        ),
        (
            "files blake3",
            HashConfig::new().algorithm(HashAlgorithm::Blake3),
        ),
        (
            "files sha256, one thread",
            HashConfig::new().threads(1).expect("valid"),
        ),
        // One long file and two threads: the file is read by a thread of
        // its own ahead of the hashing (the pipelined read); changes are
        // caught there too.
        (
            "files sha256, pipelined",
            HashConfig::new().threads(2).expect("valid"),
        ),
    ]
}

/// The size of the big file for a configuration: the pipelined one needs a
/// range longer than the engine's pipelining threshold (32 MiB).
fn big_size(name: &str) -> usize {
    if name.ends_with("pipelined") {
        40 << 20
    } else {
        BIG
    }
}

/// Calls its action once, on the engine's first progress report.
struct ChangeOnFirstRead {
    action: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl ChangeOnFirstRead {
    fn new(action: impl FnOnce() + Send + 'static) -> Self {
        ChangeOnFirstRead {
            action: Mutex::new(Some(Box::new(action))),
        }
    }
}

impl Progress for ChangeOnFirstRead {
    fn advance(&self, _bytes: u64) {
        let action = self.action.lock().expect("lock").take();
        if let Some(action) = action {
            // File times come from a clock that may tick only every few
            // milliseconds: let it tick, so that the change is visible in
            // them as it would be for any change made later.
            std::thread::sleep(Duration::from_millis(25));
            action();
        }
    }
}

/// A model of one big file `w`; returns (tmp, model, w). Only one file, so
/// that the first progress report comes from a read of `w`, whose reader
/// then reads on, or at least checks the file again, after the change.
fn big_model(size: usize) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    let w = model.join("w.bin");
    fs::write(&w, content(size, 7)).expect("write big file");
    (tmp, model, w)
}

/// Hashes a fresh big model under every configuration while `change` alters
/// the big file after its first bytes were read; the result must be a
/// `FileChanged` error for it. Also checks that, unchanged, it hashes.
fn assert_change_detected(what: &str, change: fn(&Path)) {
    for (name, config) in configs() {
        let (_tmp, model, w) = big_model(big_size(name));
        let progress = ChangeOnFirstRead::new({
            let w = w.clone();
            move || change(&w)
        });
        let result = within_20s({
            let (model, config) = (model.clone(), config.clone());
            move || hash_model(&model, &config, &progress)
        });
        let err = match result {
            Ok(r) => panic!("{what} ({name}): hashing gave {} digests", r.len()),
            Err(e) => e,
        };
        assert!(
            matches!(&err, HashError::FileChanged { path, .. } if *path == w),
            "{what} ({name}): {err:?}"
        );
        assert_names(&err, &w);
    }
}

fn open_rw(path: &Path) -> File {
    OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for writing")
}

fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).expect("stat").modified().expect("mtime")
}

#[test]
fn file_truncated_while_hashed() {
    assert_change_detected("truncated to half", |w| {
        open_rw(w).set_len(BIG as u64 / 2).expect("truncate");
    });
    assert_change_detected("truncated to nothing", |w| {
        open_rw(w).set_len(0).expect("truncate");
    });
}

#[test]
fn file_appended_to_while_hashed() {
    assert_change_detected("appended to", |w| {
        let mut f = OpenOptions::new().append(true).open(w).expect("open");
        f.write_all(b"more").expect("append");
    });
}

#[test]
fn file_rewritten_in_place_while_hashed() {
    assert_change_detected("rewritten in place", |w| {
        open_rw(w)
            .write_all_at(&content(1 << 20, 8), 0)
            .expect("rewrite");
    });
}

/// Same inode, same size, and the modification time set back to what the
/// walk saw: only the status change time, which cannot be set back, tells.
#[test]
fn file_rewritten_with_its_modification_time_restored_while_hashed() {
    assert_change_detected("rewritten, mtime restored", |w| {
        let was = mtime(w);
        let f = open_rw(w);
        f.write_all_at(&content(1 << 20, 9), 0).expect("rewrite");
        f.set_modified(was).expect("restore mtime");
        assert_eq!(mtime(w), was);
    });
    assert_change_detected("truncated and extended, mtime restored", |w| {
        let was = mtime(w);
        let f = open_rw(w);
        f.set_len(0).expect("truncate");
        f.set_len(BIG as u64).expect("extend");
        f.set_modified(was).expect("restore mtime");
    });
}

/// Holds the first read of the file until the writer thread has appended at
/// least once more, so that the file grows between the walk and the engine's
/// last check of it. Without this gate the test raced: on a loaded machine
/// the writer could sleep through the whole hash (a few milliseconds for
/// BLAKE3), and the engine then rightly gave the digest of the one version it
/// read.
struct WaitForAppend {
    appends: Arc<AtomicU64>,
    waited: AtomicBool,
}

impl Progress for WaitForAppend {
    fn advance(&self, _bytes: u64) {
        if self.waited.swap(true, Ordering::SeqCst) {
            return;
        }
        let seen = self.appends.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.appends.load(Ordering::SeqCst) == seen {
            assert!(
                Instant::now() < deadline,
                "the writer thread did not append for 10 seconds"
            );
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

/// A real concurrent writer: a thread appends to the file for as long as the
/// engine hashes it, and at least once while the engine reads it.
#[test]
fn file_growing_under_a_concurrent_writer() {
    for (name, config) in configs() {
        let (_tmp, model, w) = big_model(big_size(name));
        let stop = Arc::new(AtomicBool::new(false));
        let appends = Arc::new(AtomicU64::new(0));
        let writer = std::thread::spawn({
            let (w, stop, appends) = (w.clone(), Arc::clone(&stop), Arc::clone(&appends));
            move || {
                let mut f = OpenOptions::new().append(true).open(&w).expect("open");
                while !stop.load(Ordering::SeqCst) {
                    f.write_all(&[0x5a; 512]).expect("append");
                    appends.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        // Let the writer start before the walk sees the file.
        std::thread::sleep(Duration::from_millis(5));
        let progress = WaitForAppend {
            appends: Arc::clone(&appends),
            waited: AtomicBool::new(false),
        };
        let result = within_20s({
            let (model, config) = (model.clone(), config.clone());
            move || hash_model(&model, &config, &progress)
        });
        stop.store(true, Ordering::SeqCst);
        writer.join().expect("writer thread");
        assert!(appends.load(Ordering::SeqCst) > 0);
        let err = match result {
            Ok(r) => panic!("{name}: a growing file gave {} digests", r.len()),
            Err(e) => e,
        };
        assert!(
            matches!(&err, HashError::FileChanged { path, .. } if *path == w),
            "{name}: {err:?}"
        );
        assert_names(&err, &w);
    }
}

/// The control: the same model, left alone, hashes to the same digests under
/// every configuration of one method, run after run.
#[test]
fn unchanged_big_file_hashes_the_same_every_time() {
    for (name, config) in configs() {
        let (_tmp, model, w) = big_model(big_size(name));
        let first = hash_model(&model, &config, &NoProgress).expect("hash");
        let again = hash_model(&model, &config, &NoProgress).expect("hash");
        assert_eq!(keys_and_digests(&first), keys_and_digests(&again), "{name}");
        // And it is the file's digest, computed in one piece here.
        if name.starts_with("files sha256") {
            use sha2::Digest as _;
            let whole = sha2::Sha256::digest(fs::read(&w).expect("read"));
            assert_eq!(first[0].digest, whole.to_vec(), "{name}");
        }
    }
}

fn keys_and_digests(r: &[ResourceDigest]) -> Vec<(String, Vec<u8>)> {
    r.iter()
        .map(|d| (d.key.to_string(), d.digest.clone()))
        .collect()
}

// --------------------------------------- swapped between walk and open

/// Walks a model of `a` and `b` (with `config`), lets `swap` replace `a`,
/// then hashes what the walk listed, with a time limit: opening a FIFO the
/// ordinary way would block forever.
fn swapped_after_walk(config: HashConfig, swap: impl FnOnce(&Path)) -> (HashError, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    let a = model.join("a");
    fs::write(&a, "hello\n").expect("write a");
    fs::write(model.join("b"), "other\n").expect("write b");
    let files = walk(&model, &config).expect("walk");
    assert_eq!(files.entries().len(), 2);
    swap(&a);
    let err = within_20s(move || match hash_files(&files, &config, &NoProgress) {
        Ok(r) => panic!("a swapped file gave {} digests", r.len()),
        Err(e) => e,
    });
    assert_names(&err, &a);
    drop(tmp);
    (err, a)
}

/// A FIFO that a writer holds open and keeps feeding: the engine must refuse
/// it from its type, not read what the writer sends.
#[test]
fn file_swapped_for_a_fifo_with_a_writer_is_refused() {
    let mut writer = None;
    let (err, a) = swapped_after_walk(HashConfig::new(), |a| {
        fs::remove_file(a).expect("rm");
        mkfifo(a);
        // `yes` blocks opening the FIFO until the engine opens it to read,
        // then writes until the pipe breaks.
        writer = Some(
            Command::new("sh")
                .arg("-c")
                .arg("exec yes > \"$0\"")
                .arg(a)
                .stderr(Stdio::null())
                .spawn()
                .expect("start a FIFO writer"),
        );
    });
    assert!(
        matches!(&err, HashError::SpecialFile { path, .. } if *path == a),
        "{err:?}"
    );
    if let Some(mut w) = writer {
        let _ = w.kill();
        let _ = w.wait();
    }
}

#[test]
fn symlink_swapped_for_a_fifo_behind_it_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    let target = tmp.path().join("target");
    fs::write(&target, "hello\n").expect("write");
    let l = model.join("l");
    symlink(&target, &l).expect("symlink");
    let config = HashConfig::new().allow_symlinks(true);
    let files = walk(&model, &config).expect("walk");
    fs::remove_file(&target).expect("rm");
    mkfifo(&target);
    let err = within_20s(move || match hash_files(&files, &config, &NoProgress) {
        Ok(r) => panic!("a FIFO behind a link gave {} digests", r.len()),
        Err(e) => e,
    });
    assert!(
        matches!(&err, HashError::SpecialFile { path, .. } if *path == l),
        "{err:?}"
    );
    assert_names(&err, &l);
}

/// Opening a socket fails with ENXIO; the error says it is a socket.
#[test]
fn file_swapped_for_a_socket_is_labelled_a_socket() {
    let mut listener = None;
    let (err, a) = swapped_after_walk(HashConfig::new(), |a| {
        fs::remove_file(a).expect("rm");
        listener = Some(UnixListener::bind(a).expect("bind"));
    });
    assert!(
        matches!(&err, HashError::SpecialFile { path, kind: "socket" } if *path == a),
        "{err:?}"
    );
}

/// A character device major number that no driver has registered here
/// (from the range for local use), if `/proc/devices` can tell.
fn unregistered_char_major() -> Option<u32> {
    let devices = fs::read_to_string("/proc/devices").ok()?;
    let chars = devices.split("Block devices:").next()?;
    let used: Vec<u32> = chars
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    (234..=254).rev().find(|m| !used.contains(m))
}

/// Opening a device with no driver behind it also fails with ENXIO, which
/// must not be reported as a socket.
#[test]
fn file_swapped_for_a_device_without_driver_is_labelled_a_device() {
    let Some(major) = unregistered_char_major() else {
        skip_support::prerequisite_missing(
            "file_swapped_for_a_device_without_driver_is_labelled_a_device",
            "no unregistered character device number found in /proc/devices",
        );
        return;
    };
    let mut made = true;
    let (err, a) = swapped_after_walk(HashConfig::new(), |a| {
        fs::remove_file(a).expect("rm");
        made = Command::new("mknod")
            .arg(a)
            .args(["c", &major.to_string(), "0"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            // Keep the test meaningful where device nodes cannot be made:
            // any other replacement is refused as well.
            fs::write(a, "replaced\n").expect("write");
        }
    });
    if !made {
        skip_support::prerequisite_missing(
            "file_swapped_for_a_device_without_driver_is_labelled_a_device",
            "cannot create a device node here (it needs root with CAP_MKNOD)",
        );
        return;
    }
    assert!(
        matches!(&err, HashError::SpecialFile { path, kind: "character device" } if *path == a),
        "{err:?}"
    );
}

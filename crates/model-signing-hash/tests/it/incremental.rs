//! Incremental re-hashing: every rule that forces a file to be hashed
//! again, every kind of unusable state record, and concurrent writers.
//! Each test checks the digests against a full hash of the same model.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use model_signing_hash::{
    hash_files, hash_files_incremental, walk, HashAlgorithm, HashConfig, Incremental,
    IncrementalReport, NoProgress, ResourceDigest, MAX_RECORD_BYTES,
};

struct Fixture {
    _dir: tempfile::TempDir,
    model: PathBuf,
    state: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("model");
        fs::create_dir_all(model.join("sub")).expect("mkdir");
        fs::write(model.join("config.json"), b"{\"layers\": 2}\n").expect("write");
        fs::write(model.join("weights.bin"), testkit::pattern(300_000, 1)).expect("write");
        fs::write(model.join("sub/tokenizer.json"), b"{}").expect("write");
        fs::write(model.join("empty"), b"").expect("write");
        let state = dir.path().join("state");
        Fixture {
            _dir: dir,
            model,
            state,
        }
    }

    /// Reuse as soon as possible: these files were written microseconds
    /// before they are hashed, on a filesystem with nanosecond timestamps.
    fn state(&self) -> Incremental {
        Incremental::in_dir(&self.state).racy_margin(Duration::ZERO)
    }

    fn run_with(&self, config: &HashConfig, state: &Incremental) -> IncrementalReport {
        let files = walk(&self.model, config).expect("walk");
        let (digests, report) =
            hash_files_incremental(&files, config, &NoProgress, state).expect("hash");
        assert_eq!(digests, full(&self.model, config), "{report:?}");
        report
    }

    fn run(&self) -> IncrementalReport {
        self.run_with(&HashConfig::new(), &self.state())
    }

    fn record(&self) -> PathBuf {
        self.state()
            .record_path(&self.model, &HashConfig::new())
            .expect("record path")
    }
}

fn full(model: &Path, config: &HashConfig) -> Vec<ResourceDigest> {
    hash_files(&walk(model, config).expect("walk"), config, &NoProgress).expect("hash")
}

fn notes(report: &IncrementalReport) -> String {
    report.notes.join("\n")
}

/// The bytes of the model's files (4 of them, one empty).
const TOTAL: u64 = 14 + 300_000 + 2;

#[test]
fn the_first_run_hashes_everything_and_the_second_nothing() {
    let f = Fixture::new();
    let first = f.run();
    assert_eq!((first.files_hashed, first.files_reused), (4, 0));
    assert_eq!((first.bytes_hashed, first.bytes_reused), (TOTAL, 0));
    assert!(notes(&first).contains("no state record for this model path"));
    assert_eq!(first.record.as_deref(), Some(f.record().as_path()));
    let second = f.run();
    assert_eq!((second.files_hashed, second.files_reused), (0, 4));
    assert_eq!((second.bytes_hashed, second.bytes_reused), (0, TOTAL));
    assert!(second.notes.is_empty(), "{second:?}");
}

#[test]
fn the_record_is_private_to_its_user() {
    let f = Fixture::new();
    f.run();
    let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode(&f.record()), 0o600);
    assert_eq!(mode(&f.state), 0o700);
}

#[test]
fn shards_blake3_and_single_file_models_reuse_too() {
    let f = Fixture::new();
    let shards = HashConfig::new().shards(65_536).expect("shard size");
    let blake3 = HashConfig::new().algorithm(HashAlgorithm::Blake3);
    for config in [&shards, &blake3] {
        f.run_with(config, &f.state());
        let again = f.run_with(config, &f.state());
        assert_eq!((again.files_hashed, again.bytes_reused), (0, TOTAL));
    }
    let single = f.model.join("weights.bin");
    let files = walk(&single, &shards).expect("walk");
    for reused in [0, 1] {
        let (digests, report) =
            hash_files_incremental(&files, &shards, &NoProgress, &f.state()).expect("hash");
        assert_eq!(digests, full(&single, &shards));
        assert_eq!(digests.len(), 5);
        assert_eq!(report.files_reused, reused);
    }
}

#[test]
fn other_hashing_parameters_or_another_path_have_their_own_record() {
    let f = Fixture::new();
    f.run();
    let blake3 = HashConfig::new().algorithm(HashAlgorithm::Blake3);
    let other = f.run_with(&blake3, &f.state());
    assert_eq!(other.files_reused, 0);
    assert!(notes(&other).contains("no state record"));
    let ignoring = HashConfig::new()
        .ignore_paths(["empty"])
        .expect("ignore path");
    assert_eq!(f.run_with(&ignoring, &f.state()).files_reused, 0);
    // The same model moved elsewhere is another model path.
    let moved = f.model.with_file_name("moved");
    fs::rename(&f.model, &moved).expect("rename");
    let files = walk(&moved, &HashConfig::new()).expect("walk");
    let (_, report) =
        hash_files_incremental(&files, &HashConfig::new(), &NoProgress, &f.state()).expect("hash");
    assert_eq!(report.files_reused, 0);
    // And the original records are still there for the first two.
    fs::rename(&moved, &f.model).expect("rename back");
    assert_eq!(f.run().files_reused, 4);
    assert_eq!(f.run_with(&blake3, &f.state()).files_reused, 4);
}

/// Runs once to record, applies `change` to `config.json`, and checks that
/// exactly that file is hashed again.
fn rehashed_after(change: impl FnOnce(&Path)) {
    let f = Fixture::new();
    f.run();
    change(&f.model.join("config.json"));
    let report = f.run();
    assert_eq!(
        (report.files_hashed, report.files_reused),
        (1, 3),
        "{report:?}"
    );
    let size = fs::metadata(f.model.join("config.json"))
        .expect("stat")
        .len();
    assert_eq!(report.bytes_hashed, size);
    assert_eq!(f.run().files_reused, 4);
}

fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).expect("stat").modified().expect("mtime")
}

fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(time)
        .expect("set mtime");
}

#[test]
fn a_rewrite_of_the_same_size_with_the_old_mtime_is_hashed_again() {
    // Only the status change time tells: it cannot be set back.
    rehashed_after(|p| {
        let old = mtime(p);
        fs::write(p, b"{\"layers\": 3}\n").expect("write");
        set_mtime(p, old);
        assert_eq!(mtime(p), old);
    });
}

#[test]
fn a_size_change_is_hashed_again() {
    rehashed_after(|p| fs::write(p, b"{\"layers\": 12}\n").expect("write"));
}

#[test]
fn a_new_mtime_alone_is_hashed_again() {
    rehashed_after(|p| set_mtime(p, mtime(p) - Duration::from_secs(3600)));
}

#[test]
fn a_status_change_alone_is_hashed_again() {
    rehashed_after(|p| {
        let mut perm = fs::metadata(p).expect("stat").permissions();
        perm.set_mode(0o640);
        fs::set_permissions(p, perm).expect("chmod");
    });
}

#[test]
fn a_file_replaced_by_another_inode_is_hashed_again() {
    rehashed_after(|p| {
        let old = mtime(p);
        let new = p.with_file_name("config.json.new");
        fs::write(&new, b"{\"layers\": 2}\n").expect("write");
        set_mtime(&new, old);
        fs::rename(&new, p).expect("rename");
    });
}

#[test]
fn files_changed_within_the_racy_margin_are_hashed_again() {
    let f = Fixture::new();
    // With the default margin (2 s), files written just now are not
    // recorded: a second write within their timestamp tick could keep
    // their timestamps.
    let state = Incremental::in_dir(&f.state);
    let first = f.run_with(&HashConfig::new(), &state);
    let second = f.run_with(&HashConfig::new(), &state);
    assert_eq!((first.files_hashed, second.files_hashed), (4, 4));
    assert!(second.notes.is_empty(), "{second:?}");
    // Once older than the margin, they are.
    let state = state.racy_margin(Duration::from_millis(300));
    std::thread::sleep(Duration::from_millis(400));
    f.run_with(&HashConfig::new(), &state);
    assert_eq!(f.run_with(&HashConfig::new(), &state).files_reused, 4);
}

#[test]
fn added_and_removed_files() {
    let f = Fixture::new();
    f.run();
    fs::write(f.model.join("sub/new.txt"), b"new").expect("write");
    fs::remove_file(f.model.join("empty")).expect("rm");
    let report = f.run();
    assert_eq!((report.files_hashed, report.files_reused), (1, 3));
    assert_eq!(report.bytes_hashed, 3);
}

/// Records once, spoils the record with `spoil`, and checks that every file
/// is hashed, with a note containing `note`, and that the record is whole
/// again afterwards.
fn unusable_record(spoil: impl FnOnce(&Path), note: &str) {
    let f = Fixture::new();
    f.run();
    spoil(&f.record());
    let report = f.run();
    assert_eq!(report.files_reused, 0, "{report:?}");
    assert!(notes(&report).contains(note), "{report:?}");
    assert!(
        notes(&report).contains("every file is hashed"),
        "{report:?}"
    );
    if fs::symlink_metadata(f.record()).is_ok_and(|m| m.is_file()) {
        let _ = fs::set_permissions(f.record(), fs::Permissions::from_mode(0o600));
        assert_eq!(f.run().files_reused, 4, "the record is rewritten");
    }
}

#[test]
fn a_corrupt_record_is_not_used() {
    unusable_record(
        |p| {
            let mut bytes = fs::read(p).expect("read");
            let last = bytes.len() - 20;
            bytes[last] ^= 0x20;
            fs::write(p, bytes).expect("write");
        },
        "corrupt (checksum mismatch)",
    );
}

#[test]
fn a_truncated_record_is_not_used() {
    unusable_record(
        |p| {
            let bytes = fs::read(p).expect("read");
            fs::write(p, &bytes[..bytes.len() / 2]).expect("write");
        },
        "corrupt",
    );
}

#[test]
fn an_empty_record_is_not_used() {
    unusable_record(|p| fs::write(p, b"").expect("write"), "no header line");
}

#[test]
fn a_record_of_another_format_version_is_not_used() {
    unusable_record(
        |p| {
            let text = fs::read_to_string(p).expect("read");
            fs::write(
                p,
                text.replacen("incremental state 1 ", "incremental state 7 ", 1),
            )
            .expect("write");
        },
        "format version 7",
    );
}

#[test]
fn a_record_open_to_other_users_is_not_used() {
    unusable_record(
        |p| fs::set_permissions(p, fs::Permissions::from_mode(0o644)).expect("chmod"),
        "its mode is 0644, not 0600",
    );
}

#[test]
fn a_record_that_is_a_symbolic_link_is_not_followed() {
    unusable_record(
        |p| {
            let elsewhere = p.with_file_name("elsewhere");
            fs::rename(p, &elsewhere).expect("rename");
            symlink(&elsewhere, p).expect("symlink");
        },
        "is a symbolic link",
    );
}

#[test]
fn a_record_that_is_a_directory_is_not_used() {
    let f = Fixture::new();
    fs::create_dir_all(f.record()).expect("mkdir");
    let report = f.run();
    assert!(notes(&report).contains("not a regular file"), "{report:?}");
    assert!(notes(&report).contains("could not be saved"), "{report:?}");
}

#[test]
fn a_record_over_the_size_limit_is_not_read() {
    unusable_record(
        |p| {
            fs::File::options()
                .write(true)
                .open(p)
                .expect("open")
                .set_len(MAX_RECORD_BYTES + 1)
                .expect("sparse file");
        },
        "over the limit",
    );
}

#[test]
fn a_record_of_another_model_under_this_name_is_not_used() {
    let f = Fixture::new();
    let other = f.model.with_file_name("other");
    fs::create_dir(&other).expect("mkdir");
    fs::write(other.join("config.json"), b"{}").expect("write");
    let files = walk(&other, &HashConfig::new()).expect("walk");
    hash_files_incremental(&files, &HashConfig::new(), &NoProgress, &f.state()).expect("hash");
    let other_record = f
        .state()
        .record_path(&other, &HashConfig::new())
        .expect("path");
    fs::rename(other_record, f.record()).expect("rename");
    let report = f.run();
    assert_eq!(report.files_reused, 0);
    assert!(notes(&report).contains("another model path"), "{report:?}");
}

#[test]
fn a_record_that_cannot_be_saved_is_a_note_not_an_error() {
    let f = Fixture::new();
    // The state directory's place is taken by a file.
    fs::write(&f.state, b"not a directory").expect("write");
    let report = f.run();
    assert_eq!(report.files_hashed, 4);
    assert!(notes(&report).contains("could not be saved"), "{report:?}");
    fs::remove_file(&f.state).expect("rm");
    // A state directory others may write to is not written to.
    fs::create_dir(&f.state).expect("mkdir");
    fs::set_permissions(&f.state, fs::Permissions::from_mode(0o777)).expect("chmod");
    let report = f.run();
    assert!(
        notes(&report).contains("writable by no one else"),
        "{report:?}"
    );
    assert!(!f.record().exists());
}

#[test]
fn concurrent_writers_leave_a_whole_record() {
    let f = Fixture::new();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..5 {
                    f.run();
                }
            });
        }
    });
    let report = f.run();
    assert_eq!(report.files_reused, 4);
    assert!(report.notes.is_empty(), "{report:?}");
    // No temporary record is left behind.
    let left: Vec<_> = fs::read_dir(&f.state)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn temporary_records_of_dead_writers_are_removed() {
    let f = Fixture::new();
    f.run();
    let name = f
        .record()
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    // No process has this id (above the kernel's largest pid).
    let dead = f.state.join(format!(".{name}.tmp-99999999-1"));
    let alive = f
        .state
        .join(format!(".{name}.tmp-{}-1", std::process::id()));
    fs::write(&dead, b"partial").expect("write");
    fs::write(&alive, b"partial").expect("write");
    f.run();
    assert!(!dead.exists());
    assert!(alive.exists(), "a running writer's file is kept");
}

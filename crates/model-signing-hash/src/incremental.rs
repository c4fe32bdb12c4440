//! Incremental re-hashing: the digests of files that have not changed since
//! the last incremental hashing of the same model on this machine are taken
//! from a local state record instead of being computed again.
//!
//! The trust argument and its limits are in `docs/security.md`
//! ("Incremental re-signing"). In short: a digest is reused only when the
//! file's device, inode, size, modification time and status change time (in
//! nanoseconds) are all what they were when the digest was computed, the
//! record is a regular file owned by the current user and readable by no one
//! else, and its checksum, format version, model path and hashing parameters
//! match. A file whose status change time was within
//! [`DEFAULT_RACY_MARGIN`] of the walk that hashed it is not recorded, so a
//! second write within the same timestamp tick cannot go unnoticed. Any
//! doubt means hashing: a missing, corrupt, foreign or stale record is never
//! an error, only a note and a full hash.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::config::{HashConfig, Method};
use crate::engine::{check_plan, hash_entries};
use crate::error::HashError;
use crate::progress::Progress;
use crate::resource::{ResourceDigest, ResourceKey};
use crate::walk::{FileEntry, ModelFiles, Snapshot};

/// How recent a file's status change may be, relative to the start of the
/// walk that hashed it, for its digest to be recorded: 2 seconds, the
/// coarsest timestamp granularity of the filesystems models live on (FAT;
/// ext3 and HFS+ have 1 second, most others a nanosecond). A file changed
/// twice within one timestamp tick keeps its timestamps; a file that was
/// hashed less than one tick after its last change is therefore hashed again
/// next time, as git treats "racily clean" index entries.
pub const DEFAULT_RACY_MARGIN: Duration = Duration::from_secs(2);

/// The largest state record read: 1 GiB, about 5 million files with
/// 100-byte names. A larger one is left unread (a note, and a full hash).
pub const MAX_RECORD_BYTES: u64 = 1 << 30;

/// The first line of a state record starts with this, then the format
/// version and the SHA-256 of everything after the line.
const MAGIC: &str = "model-signing incremental state";
const VERSION: u32 = 1;

/// Where state records live, and how cautious reuse is.
#[derive(Debug, Clone)]
pub struct Incremental {
    dir: Option<PathBuf>,
    racy_margin: Duration,
}

impl Incremental {
    /// State records in the user's cache directory:
    /// `$XDG_CACHE_HOME/model-signing/incremental` when `XDG_CACHE_HOME` is
    /// an absolute path, else `$HOME/.cache/model-signing/incremental`. With
    /// neither, nothing is read or written: every file is hashed, with a
    /// note.
    pub fn in_cache_dir() -> Self {
        Incremental {
            dir: cache_dir(&|name| std::env::var_os(name)),
            racy_margin: DEFAULT_RACY_MARGIN,
        }
    }

    /// State records in `dir` (created, mode 0700, when a record is first
    /// written).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Incremental {
            dir: Some(dir.into()),
            racy_margin: DEFAULT_RACY_MARGIN,
        }
    }

    /// Sets the racy margin ([`DEFAULT_RACY_MARGIN`] by default). Lower it
    /// only for a filesystem whose timestamps are finer than the new margin
    /// and set by this machine's clock: with a margin under the timestamp
    /// granularity, a file written twice within one tick can keep a stale
    /// digest.
    pub fn racy_margin(mut self, margin: Duration) -> Self {
        self.racy_margin = margin;
        self
    }

    /// The directory of the state records, if there is one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The state record of the model at `root` hashed under `config`
    /// (`None` without a directory, or when `root` cannot be resolved).
    pub fn record_path(&self, root: &Path, config: &HashConfig) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let key = RecordKey::new(root, config).ok()?;
        Some(dir.join(key.file_name()))
    }
}

/// What an incremental hashing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncrementalReport {
    /// Files read and hashed.
    pub files_hashed: usize,
    /// Files whose digests came from the state record.
    pub files_reused: usize,
    /// Bytes read and hashed.
    pub bytes_hashed: u64,
    /// Bytes of the files whose digests were reused (not read).
    pub bytes_reused: u64,
    /// The state record read and replaced; `None` without a cache directory
    /// or when the model path could not be resolved.
    pub record: Option<PathBuf>,
    /// Why the record was not used, or could not be saved, one sentence
    /// each (for example "no state record for this model and these hashing
    /// parameters yet: every file is hashed"). Files that changed are not
    /// noted: hashing them is the point.
    pub notes: Vec<String>,
}

/// The user's cache directory for state records, from the environment.
fn cache_dir(get: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = match set("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        Some(xdg) => xdg,
        None => set("HOME")?.join(".cache"),
    };
    Some(base.join("model-signing").join("incremental"))
}

/// What a state record is about: the model's absolute path and every
/// hashing parameter that decides its resources and their digests.
#[derive(Debug, PartialEq, Eq)]
struct RecordKey {
    /// The resolved model path, as hex of its bytes (paths need not be UTF-8).
    model: String,
    params: String,
}

impl RecordKey {
    fn new(root: &Path, config: &HashConfig) -> io::Result<Self> {
        let abs = fs::canonicalize(root)?;
        let (method, shard_size) = match config.get_method() {
            Method::Files => ("files", 0),
            Method::Shards { shard_size } => ("shards", shard_size.get()),
        };
        let ignore: Vec<String> = config
            .effective_ignore_paths()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect();
        let params = serde_json::json!({
            "algorithm": config.get_algorithm().name(),
            "method": method,
            "shard_size": shard_size,
            "allow_symlinks": config.get_allow_symlinks(),
            "contained_links": config
                .get_contained_links()
                .map(|p| hex_of(p.as_os_str().as_bytes())),
            "ignore_paths": ignore,
        })
        .to_string();
        Ok(RecordKey {
            model: hex_of(abs.as_os_str().as_bytes()),
            params,
        })
    }

    /// The record's file name: a hash of the key, so that any path and
    /// parameters give a short, safe name.
    fn file_name(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!("{MAGIC} {VERSION}\0").as_bytes());
        h.update(self.model.as_bytes());
        h.update([0]);
        h.update(self.params.as_bytes());
        format!("{}.state", hex_of(&h.finalize()))
    }
}

/// The body of a state record (JSON, after the header line).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    model: String,
    params: String,
    files: Vec<RecordFile>,
}

/// One file: name, device, inode, size, modification time (seconds,
/// nanoseconds), status change time (seconds, nanoseconds), and the hex of
/// its resources' digests concatenated in signing order. An array, to keep
/// records of million-file datasets small.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecordFile(String, u64, u64, u64, i64, i64, i64, i64, String);

impl RecordFile {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            dev: self.1,
            ino: self.2,
            size: self.3,
            mtime: self.4,
            mtime_nsec: self.5,
            ctime: self.6,
            ctime_nsec: self.7,
        }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// Why a record that is there cannot be trusted, from its owner and mode:
/// it must belong to the current user and grant nothing to anyone else.
fn foreign(uid: u32, mode: u32, euid: u32) -> Option<String> {
    if uid != euid {
        return Some(format!(
            "it belongs to user {uid}, not to the current user ({euid})"
        ));
    }
    if mode & 0o077 != 0 {
        return Some(format!(
            "its mode is {:04o}, not 0600: other users may read or write it",
            mode & 0o7777
        ));
    }
    None
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Reads and checks the record at `path` for `key`: `Ok(None)` when there
/// is none, `Err(why)` when it is there but unusable.
fn load(path: &Path, key: &RecordKey, limit: u64) -> Result<Option<Vec<RecordFile>>, String> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err("it is a symbolic link".to_owned())
        }
        Err(e) => return Err(format!("it cannot be opened: {e}")),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("it cannot be examined: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    if let Some(why) = foreign(meta.uid(), meta.mode(), euid()) {
        return Err(why);
    }
    if meta.len() > limit {
        return Err(format!(
            "it is {} bytes, over the limit of {limit}",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("it cannot be read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("it is over the limit of {limit} bytes"));
    }
    parse(&bytes, key).map(Some)
}

/// Parses a record's bytes and checks its header, checksum, format version,
/// model and parameters.
fn parse(bytes: &[u8], key: &RecordKey) -> Result<Vec<RecordFile>, String> {
    let corrupt = |what: &str| format!("it is corrupt ({what})");
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| corrupt("no header line"))?;
    let header = std::str::from_utf8(&bytes[..newline]).map_err(|_| corrupt("bad header"))?;
    let rest = &bytes[newline + 1..];
    let mut words = header
        .strip_prefix(MAGIC)
        .ok_or_else(|| corrupt("bad header"))?
        .split_whitespace();
    let version = words.next().ok_or_else(|| corrupt("no version"))?;
    if version.is_empty() || version.len() > 9 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(corrupt("bad version"));
    }
    if version != VERSION.to_string() {
        return Err(format!(
            "it has format version {version}, and this version reads {VERSION}"
        ));
    }
    let sum = words
        .next()
        .and_then(|w| w.strip_prefix("sha256:"))
        .ok_or_else(|| corrupt("no checksum"))?;
    if words.next().is_some() {
        return Err(corrupt("bad header"));
    }
    if sum != hex_of(&Sha256::digest(rest)) {
        return Err(corrupt("checksum mismatch"));
    }
    let body: Body =
        serde_json::from_slice(rest).map_err(|e| corrupt(&format!("malformed JSON: {e}")))?;
    if body.model != key.model || body.params != key.params {
        return Err("it belongs to another model path or other hashing parameters".to_owned());
    }
    Ok(body.files)
}

/// Serializes a record: header line, then the JSON body.
fn serialize(key: &RecordKey, files: Vec<RecordFile>) -> Result<Vec<u8>, String> {
    let body = Body {
        model: key.model.clone(),
        params: key.params.clone(),
        files,
    };
    let json = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let mut out = format!(
        "{MAGIC} {VERSION} sha256:{}\n",
        hex_of(&Sha256::digest(&json))
    )
    .into_bytes();
    out.extend_from_slice(&json);
    Ok(out)
}

/// Replaces the record at `path` with `contents`: written to a new file of
/// its own (mode 0600) in the same directory, then renamed over it, so that
/// concurrent writers leave one complete record, never a mix.
fn save(path: &Path, contents: &[u8]) -> Result<(), String> {
    let dir = path
        .parent()
        .ok_or_else(|| "it has no directory".to_owned())?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let meta = fs::metadata(dir).map_err(|e| format!("cannot examine {}: {e}", dir.display()))?;
    if meta.uid() != euid() || meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is not a directory of the current user writable by no one else",
            dir.display()
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_temps(dir, &name);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let temp = dir.join(format!(".{name}.tmp-{}-{nanos}", std::process::id()));
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temp)?;
        f.write_all(contents)?;
        fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&temp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// Removes temporary records left by writers that were killed before their
/// rename: those whose process no longer runs (nothing where `/proc` is
/// missing).
fn remove_stale_temps(dir: &Path, name: &str) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let prefix = format!(".{name}.tmp-");
    let Ok(items) = fs::read_dir(dir) else {
        return;
    };
    for item in items.flatten() {
        let file_name = item.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|rest| rest.split('-').next())
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if !proc.join(pid).exists() && item.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(item.path());
        }
    }
}

/// How many resources `size` bytes make under `method`.
fn resource_count(method: Method, size: u64) -> u64 {
    match method {
        Method::Files => 1,
        Method::Shards { shard_size } => size.div_ceil(shard_size.get()),
    }
}

/// The digests of `entry` from the record, if the record holds the same
/// file (same snapshot) with the right number of well-formed digests.
fn reusable(
    entry: &FileEntry,
    recorded: &RecordFile,
    config: &HashConfig,
) -> Option<Vec<ResourceDigest>> {
    if recorded.snapshot() != entry.snapshot {
        return None;
    }
    let method = config.get_method();
    let len = config.get_algorithm().digest_len();
    let count = usize::try_from(resource_count(method, entry.snapshot.size)).ok()?;
    let raw = unhex(&recorded.8)?;
    if raw.len() != count.checked_mul(len)? {
        return None;
    }
    let ranges: Vec<Option<(u64, u64)>> = match method {
        Method::Files => vec![None],
        Method::Shards { shard_size } => {
            let step = shard_size.get();
            (0..count as u64)
                .map(|i| Some((i * step, ((i + 1) * step).min(entry.snapshot.size))))
                .collect()
        }
    };
    Some(
        ranges
            .into_iter()
            .zip(raw.chunks_exact(len))
            .map(|(range, digest)| ResourceDigest {
                key: ResourceKey::from_walked(&entry.components, range),
                digest: digest.to_vec(),
            })
            .collect(),
    )
}

/// Whether `entry`'s status changed too close to `walked_at` for its
/// timestamps to tell a later write apart (see [`DEFAULT_RACY_MARGIN`]).
fn racy(entry: &FileEntry, walked_at: SystemTime, margin: Duration) -> bool {
    let Some(cutoff) = walked_at.checked_sub(margin) else {
        return true;
    };
    let cutoff = match cutoff.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            i64::from(d.subsec_nanos()),
        ),
        Err(_) => return true,
    };
    (entry.snapshot.ctime, entry.snapshot.ctime_nsec) >= cutoff
}

/// [`hash_files`](crate::hash_files) that reuses the digests of files
/// unchanged since the last incremental hashing of the same model (same
/// resolved path, same hashing parameters) recorded in `state`, and then
/// replaces that record. The result is the same as `hash_files` gives
/// whenever the record is right about the files it lists.
///
/// Never fails because of the record: a missing, unreadable, corrupt,
/// foreign or stale record (or one that cannot be saved) is noted in the
/// report, and the files are hashed.
pub fn hash_files_incremental(
    files: &ModelFiles,
    config: &HashConfig,
    progress: &dyn Progress,
    state: &Incremental,
) -> Result<(Vec<ResourceDigest>, IncrementalReport), HashError> {
    check_plan(files, config)?;
    let mut report = IncrementalReport::default();
    let key = match (&state.dir, RecordKey::new(&files.root, config)) {
        (None, _) => {
            report.notes.push(
                "no cache directory for state records (neither XDG_CACHE_HOME nor HOME is set): every file is hashed and nothing is recorded".to_owned(),
            );
            None
        }
        (Some(_), Err(e)) => {
            report.notes.push(format!(
                "the model path cannot be resolved ({e}): every file is hashed and nothing is recorded"
            ));
            None
        }
        (Some(dir), Ok(key)) => {
            let path = dir.join(key.file_name());
            report.record = Some(path);
            Some(key)
        }
    };
    let prior: Vec<RecordFile> = match (&key, &report.record) {
        (Some(key), Some(path)) => match load(path, key, MAX_RECORD_BYTES) {
            Ok(Some(files)) => files,
            Ok(None) => {
                report.notes.push(
                    "no state record for this model path and these hashing parameters yet: every file is hashed".to_owned(),
                );
                Vec::new()
            }
            Err(why) => {
                report.notes.push(format!(
                    "the state record {} is not used: {why}; every file is hashed",
                    path.display()
                ));
                Vec::new()
            }
        },
        _ => Vec::new(),
    };
    let mut by_name: HashMap<&str, &RecordFile> = HashMap::with_capacity(prior.len());
    for f in &prior {
        if by_name.insert(f.0.as_str(), f).is_some() {
            report.notes.push(format!(
                "the state record {} is not used: it is corrupt (a file is listed twice); every file is hashed",
                report.record.as_deref().unwrap_or(Path::new("")).display()
            ));
            by_name.clear();
            break;
        }
    }

    let mut out: Vec<ResourceDigest> = Vec::new();
    let mut to_hash: Vec<&FileEntry> = Vec::new();
    for entry in &files.entries {
        let name = entry.components.join("/");
        match by_name
            .get(name.as_str())
            .and_then(|r| reusable(entry, r, config))
        {
            Some(digests) => {
                report.files_reused += 1;
                report.bytes_reused += entry.snapshot.size;
                out.extend(digests);
            }
            None => {
                report.files_hashed += 1;
                report.bytes_hashed += entry.snapshot.size;
                to_hash.push(entry);
            }
        }
    }
    drop(by_name);
    drop(prior);
    if to_hash.is_empty() {
        progress.start(0, 0);
        progress.finish();
    } else {
        out.extend(hash_entries(&to_hash, config, progress)?);
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));

    if let (Some(key), Some(path)) = (&key, &report.record) {
        let record = to_record(files, &out, config, state.racy_margin);
        if let Err(why) = serialize(key, record).and_then(|bytes| save(path, &bytes)) {
            report
                .notes
                .push(format!("the state record could not be saved: {why}"));
        }
    }
    Ok((out, report))
}

/// The record of `files` with their digests `out` (in signing order), less
/// the files changed too recently to be trusted next time.
fn to_record(
    files: &ModelFiles,
    out: &[ResourceDigest],
    config: &HashConfig,
    margin: Duration,
) -> Vec<RecordFile> {
    let mut digests: HashMap<&str, String> = HashMap::with_capacity(files.entries.len());
    for d in out {
        digests
            .entry(d.key.path())
            .or_default()
            .push_str(&hex_of(&d.digest));
    }
    files
        .entries
        .iter()
        .filter(|e| !racy(e, files.walked_at, margin))
        .map(|e| {
            let name = e.components.join("/");
            let hex = digests.get(name.as_str()).cloned().unwrap_or_default();
            let s = e.snapshot;
            debug_assert_eq!(
                hex.len() as u64,
                resource_count(config.get_method(), s.size)
                    * config.get_algorithm().digest_len() as u64
                    * 2
            );
            RecordFile(
                name,
                s.dev,
                s.ino,
                s.size,
                s.mtime,
                s.mtime_nsec,
                s.ctime,
                s.ctime_nsec,
                hex,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_directory_follows_xdg() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            cache_dir(&env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/model-signing/incremental"))
        );
        // A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
        assert_eq!(
            cache_dir(&env(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.cache/model-signing/incremental"))
        );
        assert_eq!(
            cache_dir(&env(&[("XDG_CACHE_HOME", ""), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.cache/model-signing/incremental"))
        );
        assert_eq!(cache_dir(&env(&[("HOME", "")])), None);
        assert_eq!(cache_dir(&env(&[])), None);
    }

    #[test]
    fn a_record_of_another_user_or_open_to_others_is_foreign() {
        assert_eq!(foreign(1000, 0o100600, 1000), None);
        assert_eq!(foreign(0, 0o100400, 0), None);
        assert!(foreign(1001, 0o100600, 1000).is_some_and(|w| w.contains("belongs to user 1001")));
        assert!(foreign(0, 0o100600, 1000).is_some());
        for mode in [0o100640, 0o100604, 0o100660, 0o100666, 0o100610] {
            assert!(
                foreign(1000, mode, 1000).is_some_and(|w| w.contains("not 0600")),
                "{mode:o}"
            );
        }
    }

    fn key() -> RecordKey {
        RecordKey {
            model: hex_of(b"/m"),
            params: "{}".to_owned(),
        }
    }

    #[test]
    fn records_round_trip_and_every_corruption_is_caught() {
        let files = vec![RecordFile(
            "a".to_owned(),
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            "00".repeat(32),
        )];
        let bytes = serialize(&key(), files).expect("serialize");
        assert_eq!(parse(&bytes, &key()).expect("parse").len(), 1);
        // Any flipped byte, anywhere, is refused.
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            assert!(parse(&bad, &key()).is_err(), "byte {i}");
        }
        // Every truncation too.
        for n in 0..bytes.len() {
            assert!(parse(&bytes[..n], &key()).is_err(), "length {n}");
        }
        let other = RecordKey {
            model: hex_of(b"/n"),
            params: "{}".to_owned(),
        };
        assert!(parse(&bytes, &other).is_err_and(|w| w.contains("another model")));
        let other = RecordKey {
            model: hex_of(b"/m"),
            params: "{\"a\":1}".to_owned(),
        };
        assert!(parse(&bytes, &other).is_err_and(|w| w.contains("other hashing parameters")));
        let v2 = String::from_utf8(bytes.clone()).expect("utf-8").replacen(
            &format!("{MAGIC} 1 "),
            &format!("{MAGIC} 2 "),
            1,
        );
        assert!(parse(v2.as_bytes(), &key()).is_err_and(|w| w.contains("format version 2")));
    }

    #[test]
    fn a_digest_is_reused_only_when_every_field_matches() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("f"), vec![7u8; 2500]).expect("write");
        let shards = HashConfig::new().shards(1000).expect("shard size");
        let files = crate::walk(dir.path(), &shards).expect("walk");
        let entry = &files.entries[0];
        let s = entry.snapshot;
        let good = RecordFile(
            "f".to_owned(),
            s.dev,
            s.ino,
            s.size,
            s.mtime,
            s.mtime_nsec,
            s.ctime,
            s.ctime_nsec,
            "ab".repeat(32 * 3),
        );
        let reused = reusable(entry, &good, &shards).expect("reused");
        let ranges: Vec<_> = reused.iter().map(|d| d.key.to_string()).collect();
        assert_eq!(ranges, ["f:0:1000", "f:1000:2000", "f:2000:2500"]);
        // Each field of the snapshot, changed by one.
        let mut changed = Vec::new();
        for field in 1..=7 {
            let mut r = good.clone();
            match field {
                1 => r.1 += 1,
                2 => r.2 += 1,
                3 => r.3 += 1,
                4 => r.4 += 1,
                5 => r.5 = (r.5 + 1) % 1_000_000_000,
                6 => r.6 -= 1,
                _ => r.7 = (r.7 + 1) % 1_000_000_000,
            }
            changed.push(r);
        }
        // Digests of the wrong number, length or spelling.
        for digests in [
            "ab".repeat(32 * 2),
            "ab".repeat(32 * 4),
            "ab".repeat(32 * 3 - 1),
            "ab".repeat(32 * 3) + "a",
            "zz".repeat(32 * 3),
            String::new(),
        ] {
            let mut r = good.clone();
            r.8 = digests;
            changed.push(r);
        }
        for r in &changed {
            assert!(reusable(entry, r, &shards).is_none(), "{r:?}");
        }
        // Under the files method, one digest of the algorithm's length.
        let files_method = HashConfig::new();
        assert!(reusable(entry, &good, &files_method).is_none());
        let mut one = good.clone();
        one.8 = "cd".repeat(32);
        assert_eq!(
            reusable(entry, &one, &files_method).expect("reused")[0].digest,
            vec![0xcd; 32]
        );
        let blake2b = HashConfig::new().algorithm(crate::HashAlgorithm::Blake2b);
        assert!(reusable(entry, &one, &blake2b).is_none());
    }

    #[test]
    fn racy_files_are_those_changed_within_the_margin_of_the_walk() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("f"), b"x").expect("write");
        let files = crate::walk(dir.path(), &HashConfig::new()).expect("walk");
        let entry = &files.entries[0];
        let walked = files.walked_at;
        assert!(racy(entry, walked, DEFAULT_RACY_MARGIN));
        assert!(!racy(entry, walked, Duration::ZERO));
        assert!(!racy(
            entry,
            walked + Duration::from_secs(3),
            DEFAULT_RACY_MARGIN
        ));
        // A status change in the future (another machine's clock) is racy.
        assert!(racy(
            entry,
            walked - Duration::from_secs(60),
            Duration::ZERO
        ));
        assert!(racy(entry, UNIX_EPOCH, Duration::from_secs(1)));
    }

    #[test]
    fn record_names_depend_on_path_and_parameters() {
        let a = key().file_name();
        assert!(a.ends_with(".state") && a.len() == 64 + 6);
        let other = RecordKey {
            model: hex_of(b"/n"),
            params: "{}".to_owned(),
        };
        assert_ne!(a, other.file_name());
    }
}

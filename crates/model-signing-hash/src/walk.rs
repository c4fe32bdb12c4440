//! Enumerates the files of a model, applying ignore rules before any type check.

use std::fs::{self, FileType, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::config::HashConfig;
use crate::error::HashError;

/// Default upper bound on the number of files in one model
/// ([`HashConfig::max_files`]): the walk stops there, before the engine's
/// resource bound ([`MAX_RESOURCES`](crate::MAX_RESOURCES)) would refuse the
/// list anyway.
pub const MAX_FILES: usize = 1_000_000;

/// What identifies a file's content between the walk and the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
    /// The status change time, which any write, truncation or metadata
    /// change advances and which, unlike the modification time, cannot be
    /// set back.
    pub ctime: i64,
    pub ctime_nsec: i64,
}

impl Snapshot {
    pub(crate) fn of(meta: &Metadata) -> Self {
        Snapshot {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
            ctime: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
        }
    }
}

/// One regular file of a model.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Path components relative to the model root; empty for a single-file model.
    pub(crate) components: Vec<String>,
    /// Where to open it.
    pub(crate) fs_path: PathBuf,
    /// Whether the final component is a symbolic link that must be followed.
    pub(crate) via_symlink: bool,
    pub(crate) snapshot: Snapshot,
}

impl FileEntry {
    /// Path components relative to the model root (empty for a single-file model).
    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// The resource name of the file: `/`-joined components, or `.` for a
    /// single-file model.
    pub fn name(&self) -> String {
        if self.components.is_empty() {
            ".".to_owned()
        } else {
            self.components.join("/")
        }
    }

    /// Size in bytes when the model was walked.
    pub fn size(&self) -> u64 {
        self.snapshot.size
    }

    /// The path on disk.
    pub fn path(&self) -> &Path {
        &self.fs_path
    }
}

/// The files of a model, sorted by path components, and the ignored paths
/// the walk met.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub(crate) root: PathBuf,
    pub(crate) single_file: bool,
    pub(crate) entries: Vec<FileEntry>,
    pub(crate) ignored: Vec<String>,
}

impl ModelFiles {
    /// The model path as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the model is one file rather than a directory.
    pub fn is_single_file(&self) -> bool {
        self.single_file
    }

    /// The files, sorted by path components (Unicode code point order).
    pub fn entries(&self) -> &[FileEntry] {
        &self.entries
    }

    /// Keeps only the files for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&FileEntry) -> bool) {
        self.entries.retain(|e| keep(e));
    }

    /// The paths present in the model that an ignore path named, `/`-joined
    /// and sorted by components: the top-most ones only, since nothing below
    /// an ignored directory is read.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// Total size in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.snapshot.size).sum()
    }
}

pub(crate) fn special_kind(ft: &FileType) -> &'static str {
    if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

/// Follows a symbolic link at `path`, mapping a missing target to a clear error.
fn follow(path: &Path) -> Result<Metadata, HashError> {
    match fs::metadata(path) {
        Ok(m) => Ok(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(HashError::DanglingSymlink {
            path: path.to_owned(),
        }),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(HashError::SymlinkCycle {
            path: path.to_owned(),
        }),
        Err(e) => Err(HashError::io(path, e)),
    }
}

/// Follows a symbolic link at `path` only if its fully resolved target lies
/// inside `container` (already resolved). The metadata is that of the
/// resolved target, so the read, which opens the link again, fails unless it
/// reaches that very file.
fn follow_contained(path: &Path, container: &Path) -> Result<Metadata, HashError> {
    let target = match fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(HashError::DanglingSymlink {
                path: path.to_owned(),
            })
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(HashError::SymlinkCycle {
                path: path.to_owned(),
            })
        }
        Err(e) => return Err(HashError::io(path, e)),
    };
    if !target.starts_with(container) {
        return Err(HashError::SymlinkOutsideContainer {
            path: path.to_owned(),
            target,
            container: container.to_owned(),
        });
    }
    fs::metadata(&target).map_err(|e| HashError::io(path, e))
}

struct PendingDir {
    fs_path: PathBuf,
    components: Vec<String>,
    /// The components joined with `/` (empty at the root).
    path: String,
    /// (dev, ino) of this directory and every ancestor up to the root.
    ancestors: Vec<(u64, u64)>,
}

/// Lists the files of the model at `root` under `config`'s ignore and symlink
/// rules. Ignored paths are skipped before they are examined in any way, and
/// listed in [`ModelFiles::ignored`].
///
/// With [`HashConfig::contained_links`], a link is followed when its fully
/// resolved target lies inside that folder and refused otherwise, whatever
/// `allow_symlinks` says; the file keeps the link's name.
///
/// Matching costs one hash lookup per directory entry, whatever the number
/// and the depth of the ignore paths.
pub fn walk(root: &Path, config: &HashConfig) -> Result<ModelFiles, HashError> {
    let lmeta = match fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(HashError::ModelNotFound {
                path: root.to_owned(),
            })
        }
        Err(e) => return Err(HashError::io(root, e)),
    };
    // The model path itself is how the user names the model, not part of its
    // content: a link there is followed.
    let root_is_link = lmeta.file_type().is_symlink();
    let meta = if root_is_link { follow(root)? } else { lmeta };
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(ModelFiles {
            root: root.to_owned(),
            single_file: true,
            entries: vec![FileEntry {
                components: Vec::new(),
                fs_path: root.to_owned(),
                via_symlink: root_is_link,
                snapshot: Snapshot::of(&meta),
            }],
            ignored: Vec::new(),
        });
    }
    if !ft.is_dir() {
        return Err(HashError::SpecialFile {
            path: root.to_owned(),
            kind: special_kind(&ft),
        });
    }

    let ignores = config.ignore_set();
    let allow_symlinks = config.get_allow_symlinks();
    let container = match config.get_contained_links() {
        Some(c) => Some(fs::canonicalize(c).map_err(|e| HashError::io(c, e))?),
        None => None,
    };
    let mut entries = Vec::new();
    let mut ignored = Vec::new();
    let mut stack = vec![PendingDir {
        fs_path: root.to_owned(),
        components: Vec::new(),
        path: String::new(),
        ancestors: vec![(meta.dev(), meta.ino())],
    }];

    while let Some(dir) = stack.pop() {
        let read_dir = fs::read_dir(&dir.fs_path).map_err(|e| HashError::io(&dir.fs_path, e))?;
        for item in read_dir {
            let item = item.map_err(|e| HashError::io(&dir.fs_path, e))?;
            let fs_path = item.path();
            let Some(name) = item.file_name().to_str().map(str::to_owned) else {
                return Err(HashError::NonUtf8Name { path: fs_path });
            };
            let path = join(&dir.path, &name);
            if ignores.contains(path.as_str()) {
                ignored.push(path);
                continue;
            }
            let mut components = Vec::with_capacity(dir.components.len() + 1);
            components.extend_from_slice(&dir.components);
            components.push(name);
            // A file removed since its directory was read is not part of the
            // model, as if the walk had come a moment later (a signer's
            // temporary file renamed away, say). Removed after the walk, it
            // is an error when it is read.
            let ft = match item.file_type() {
                Ok(ft) => ft,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(HashError::io(&fs_path, e)),
            };
            let (meta, via_symlink) = if ft.is_symlink() {
                if let Some(container) = &container {
                    (follow_contained(&fs_path, container)?, true)
                } else if allow_symlinks {
                    (follow(&fs_path)?, true)
                } else {
                    return Err(HashError::SymlinkNotAllowed { path: fs_path });
                }
            } else if ft.is_file() || ft.is_dir() {
                match fs::symlink_metadata(&fs_path) {
                    Ok(meta) => (meta, false),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(HashError::io(&fs_path, e)),
                }
            } else {
                return Err(HashError::SpecialFile {
                    path: fs_path,
                    kind: special_kind(&ft),
                });
            };
            let ft = meta.file_type();
            if ft.is_dir() {
                let id = (meta.dev(), meta.ino());
                if dir.ancestors.contains(&id) {
                    return Err(HashError::SymlinkCycle { path: fs_path });
                }
                let mut ancestors = dir.ancestors.clone();
                ancestors.push(id);
                stack.push(PendingDir {
                    fs_path,
                    components,
                    path,
                    ancestors,
                });
            } else if ft.is_file() {
                if entries.len() >= config.get_max_files() {
                    return Err(HashError::TooMany {
                        what: "files",
                        limit: config.get_max_files(),
                    });
                }
                entries.push(FileEntry {
                    components,
                    fs_path,
                    via_symlink,
                    snapshot: Snapshot::of(&meta),
                });
            } else {
                return Err(HashError::SpecialFile {
                    path: fs_path,
                    kind: special_kind(&ft),
                });
            }
        }
    }

    entries.sort_by(|a, b| a.components.cmp(&b.components));
    ignored.sort_unstable_by(|a, b| cmp_paths(a, b));
    Ok(ModelFiles {
        root: root.to_owned(),
        single_file: false,
        entries,
        ignored,
    })
}

/// Orders `/`-joined paths as tuples of components, each by Unicode code
/// point: byte order with `/` ranked below every other byte (no component
/// holds `/` or NUL), so that a component ends before any longer one.
pub(crate) fn cmp_paths(a: &str, b: &str) -> std::cmp::Ordering {
    let rank = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => rank(a[i]).cmp(&rank(b[i])),
        None => a.len().cmp(&b.len()),
    }
}

/// `dir/name`, or `name` at the root.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        let mut path = String::with_capacity(dir.len() + 1 + name.len());
        path.push_str(dir);
        path.push('/');
        path.push_str(name);
        path
    }
}

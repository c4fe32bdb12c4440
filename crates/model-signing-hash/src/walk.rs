//! Enumerates the files of a model, applying ignore rules before any type check.

use std::fs::{self, FileType, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::{HashConfig, Method};
use crate::error::HashError;
use crate::tree::{NodeId, PathTree};

/// Default upper bound on the number of files in one model
/// ([`HashConfig::max_files`]): the walk stops there, before the engine's
/// resource bound ([`MAX_RESOURCES`](crate::MAX_RESOURCES)) would refuse the
/// list anyway.
pub const MAX_FILES: usize = crate::engine::MAX_RESOURCES;

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

    /// Opens the file for reading as hashing does: a final symbolic link is
    /// not followed unless the walk followed one there, and the opened file
    /// must be the regular file the walk saw (same device, inode, size and
    /// times).
    pub fn open(&self) -> Result<std::fs::File, HashError> {
        crate::read::open_checked(self)
    }
}

/// The files of a model, sorted by path components, and what the walk left
/// out.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub(crate) root: PathBuf,
    pub(crate) single_file: bool,
    pub(crate) entries: Vec<FileEntry>,
    pub(crate) ignored: Vec<String>,
    pub(crate) unsigned: Vec<String>,
    /// The clock when the walk began, before any file was examined: every
    /// snapshot was taken at or after it.
    pub(crate) walked_at: SystemTime,
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

    /// With [`walk_signed`], the entries that are not signed, `/`-joined and
    /// sorted by components: files, links, special files, and non-empty
    /// directories reached through a link. None of them was opened, followed
    /// or hashed. Always empty after [`walk`].
    pub fn unsigned(&self) -> &[String] {
        &self.unsigned
    }

    /// The system clock when the walk began, before any file was examined.
    pub fn walked_at(&self) -> SystemTime {
        self.walked_at
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

/// Where a directory lies relative to the signed paths, when walking for
/// verification.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Not verifying: every file counts.
    All,
    /// The directory is the model root or lies above a signed path: its
    /// entries are looked up in the tree of signed paths from this node.
    Signed(NodeId),
    /// A real directory inside the model that no signed path goes through:
    /// every file in it is unsigned.
    Unsigned,
}

struct PendingDir {
    fs_path: PathBuf,
    components: Vec<String>,
    /// The components joined with `/` (empty at the root).
    path: String,
    /// (dev, ino) of this directory and every ancestor up to the root.
    ancestors: Vec<(u64, u64)>,
    scope: Scope,
    /// Whether a followed symbolic link leads here: what lies below may be
    /// outside the model.
    below_link: bool,
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
/// of ignore paths.
pub fn walk(root: &Path, config: &HashConfig) -> Result<ModelFiles, HashError> {
    walk_inner(root, config, None)
}

/// [`walk`] for comparing the model against a signature whose files are
/// `signed` (`/`-joined paths relative to the model root, the file paths of
/// its resources; the empty string for a single-file model).
///
/// Only the signed paths, and the directories above them, are examined as
/// [`walk`] does. Any other entry is listed by its name in
/// [`ModelFiles::unsigned`] and never opened, hashed or followed: a link is
/// not followed wherever it points, and a FIFO, socket, device or dangling
/// link is listed, not an error. A real directory inside the model that
/// holds no signed path is read to list its files (a followed link is never
/// read through to list unsigned files: the directory it leads to is listed
/// by its name, unless it is empty). An empty regular file that is not
/// signed is left out under the `shards` method, which gives empty files no
/// resource.
pub fn walk_signed<'a>(
    root: &Path,
    config: &HashConfig,
    signed: impl IntoIterator<Item = &'a str>,
) -> Result<ModelFiles, HashError> {
    let tree = PathTree::new(signed);
    walk_inner(root, config, Some(&tree))
}

/// The metadata of the final component of `fs_path`: the link's target for
/// a link the walk follows, else the entry itself. Errors as [`walk`] reports
/// them. `None` when the entry vanished since its directory was read.
fn examine(
    fs_path: &Path,
    ft: &FileType,
    allow_symlinks: bool,
    container: Option<&Path>,
) -> Result<Option<(Metadata, bool)>, HashError> {
    if ft.is_symlink() {
        if let Some(container) = container {
            Ok(Some((follow_contained(fs_path, container)?, true)))
        } else if allow_symlinks {
            Ok(Some((follow(fs_path)?, true)))
        } else {
            Err(HashError::SymlinkNotAllowed {
                path: fs_path.to_owned(),
            })
        }
    } else if ft.is_file() || ft.is_dir() {
        match fs::symlink_metadata(fs_path) {
            Ok(meta) => Ok(Some((meta, false))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HashError::io(fs_path, e)),
        }
    } else {
        Err(HashError::SpecialFile {
            path: fs_path.to_owned(),
            kind: special_kind(ft),
        })
    }
}

/// Whether an unsigned entry would give no resource: an empty regular file
/// (or a link the walk would follow to one) under the `shards` method. Only
/// metadata is read; nothing is walked through a link.
fn gives_no_resource(
    fs_path: &Path,
    ft: &FileType,
    config: &HashConfig,
    container: Option<&Path>,
) -> bool {
    if !matches!(config.get_method(), Method::Shards { .. }) {
        return false;
    }
    let meta = if ft.is_file() {
        fs::symlink_metadata(fs_path).ok()
    } else if ft.is_symlink() {
        match container {
            Some(container) => follow_contained(fs_path, container).ok(),
            None if config.get_allow_symlinks() => fs::metadata(fs_path).ok(),
            None => None,
        }
    } else {
        None
    };
    meta.is_some_and(|m| m.is_file() && m.len() == 0)
}

/// Whether the directory at `path` holds at least one entry (or cannot be
/// read, which is reported as holding something).
fn has_entries(path: &Path) -> bool {
    fs::read_dir(path).map_or(true, |mut d| d.next().is_some())
}

fn walk_inner(
    root: &Path,
    config: &HashConfig,
    signed: Option<&PathTree<'_>>,
) -> Result<ModelFiles, HashError> {
    let walked_at = SystemTime::now();
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
            unsigned: Vec::new(),
            walked_at,
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
    let container = container.as_deref();
    let max_files = config.get_max_files();
    let mut entries = Vec::new();
    let mut ignored = Vec::new();
    let mut unsigned = Vec::new();
    let mut stack = vec![PendingDir {
        fs_path: root.to_owned(),
        components: Vec::new(),
        path: String::new(),
        ancestors: vec![(meta.dev(), meta.ino())],
        scope: match signed {
            Some(tree) => Scope::Signed(tree.root()),
            None => Scope::All,
        },
        below_link: false,
    }];
    let too_many = || HashError::TooMany {
        what: "files",
        limit: max_files,
    };

    while let Some(dir) = stack.pop() {
        let read_dir = fs::read_dir(&dir.fs_path).map_err(|e| HashError::io(&dir.fs_path, e))?;
        for item in read_dir {
            let item = item.map_err(|e| HashError::io(&dir.fs_path, e))?;
            let fs_path = item.path();
            let file_name = item.file_name();
            let name = match file_name.to_str() {
                Some(name) => name,
                // No signature can name it: when verifying it is one more
                // file the signature does not cover.
                None if !matches!(dir.scope, Scope::All) => {
                    if entries.len() + unsigned.len() >= max_files {
                        return Err(too_many());
                    }
                    let lossy = file_name.to_string_lossy();
                    unsigned.push(join(&dir.path, &lossy));
                    continue;
                }
                None => return Err(HashError::NonUtf8Name { path: fs_path }),
            };
            let path = join(&dir.path, name);
            if ignores.contains(path.as_str()) {
                ignored.push(path);
                continue;
            }
            // A file removed since its directory was read is not part of the
            // model, as if the walk had come a moment later (a signer's
            // temporary file renamed away, say). Removed after the walk, it
            // is an error when it is read.
            let ft = match item.file_type() {
                Ok(ft) => ft,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(HashError::io(&fs_path, e)),
            };
            let node = match dir.scope {
                Scope::All => None,
                Scope::Signed(parent) => signed.and_then(|t| t.child(parent, name)),
                Scope::Unsigned => None,
            };
            let mut components = Vec::with_capacity(dir.components.len() + 1);
            components.extend_from_slice(&dir.components);
            components.push(name.to_owned());
            if !matches!(dir.scope, Scope::All) && node.is_none() {
                // Not signed and no signed path below it: listed by its
                // name, never followed or opened.
                if ft.is_dir() && !dir.below_link {
                    let meta = match item.metadata() {
                        Ok(m) => m,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(HashError::io(&fs_path, e)),
                    };
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
                        scope: Scope::Unsigned,
                        below_link: false,
                    });
                    continue;
                }
                if (ft.is_dir() && !has_entries(&fs_path))
                    || gives_no_resource(&fs_path, &ft, config, container)
                {
                    continue;
                }
                if entries.len() + unsigned.len() >= max_files {
                    return Err(too_many());
                }
                unsigned.push(path);
                continue;
            }
            let Some((meta, via_symlink)) = examine(&fs_path, &ft, allow_symlinks, container)?
            else {
                continue;
            };
            let ft = meta.file_type();
            // When verifying, a signed file that is now a directory, or a
            // directory above signed paths that is now a file, is unsigned
            // under its new type.
            let wanted = match (signed, node) {
                (Some(tree), Some(node)) => {
                    (ft.is_dir() && tree.is_inner(node)) || (ft.is_file() && tree.is_member(node))
                }
                _ => true,
            };
            if ft.is_dir() {
                let id = (meta.dev(), meta.ino());
                if dir.ancestors.contains(&id) {
                    return Err(HashError::SymlinkCycle { path: fs_path });
                }
                let below_link = dir.below_link || via_symlink;
                if !wanted && below_link {
                    // Never read through a link to list what it does not sign.
                    if has_entries(&fs_path) {
                        if entries.len() + unsigned.len() >= max_files {
                            return Err(too_many());
                        }
                        unsigned.push(path);
                    }
                    continue;
                }
                let mut ancestors = dir.ancestors.clone();
                ancestors.push(id);
                stack.push(PendingDir {
                    fs_path,
                    components,
                    path,
                    ancestors,
                    scope: match node {
                        Some(node) if wanted => Scope::Signed(node),
                        Some(_) => Scope::Unsigned,
                        None => Scope::All,
                    },
                    below_link,
                });
            } else if ft.is_file() {
                if entries.len() + unsigned.len() >= max_files {
                    return Err(too_many());
                }
                if !wanted {
                    if !(meta.len() == 0 && matches!(config.get_method(), Method::Shards { .. })) {
                        unsigned.push(path);
                    }
                    continue;
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
    unsigned.sort_unstable_by(|a, b| cmp_paths(a, b));
    Ok(ModelFiles {
        root: root.to_owned(),
        single_file: false,
        entries,
        ignored,
        unsigned,
        walked_at,
    })
}

/// Orders `/`-joined paths as tuples of components, each by Unicode code
/// point (the signing order of the reference implementation): byte order
/// with `/` ranked below every other byte (no component holds `/` or NUL),
/// so that a component ends before any longer one.
pub fn cmp_paths(a: &str, b: &str) -> std::cmp::Ordering {
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

//! Builds Hugging Face layouts on disk exactly as the hub client writes them,
//! for the engine tests (`crates/model-signing-hash/tests/it/hf_snapshot.rs`)
//! and the command-line tests (`crates/model-signing-cli/tests/it/hf_layouts.rs`). Only `std` is used; the caller passes a SHA-256 function.
//!
//! The cache (`HF_HUB_CACHE`):
//!
//! ```text
//! models--ORG--NAME/
//!   blobs/<sha256 of content>        LFS files (weights)
//!   blobs/<git blob sha1 of content> ordinary git files (configs, tokenizers)
//!   refs/main                        the commit hash, no newline
//!   snapshots/<commit>/config.json -> ../../blobs/<hash>
//!   snapshots/<commit>/sub/x.bin   -> ../../../blobs/<hash>
//!   .no_exist/<commit>/<path>        empty: files the client asked for and the hub lacked
//! .locks/models--ORG--NAME/          the client's download locks, beside the repositories
//! ```
//!
//! A `--local-dir` download: real files, plus
//! `.cache/huggingface/.gitignore` (`*`) and
//! `.cache/huggingface/download/<path>.metadata` (commit, etag, timestamp).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// One file of a hub repository.
#[derive(Debug, Clone)]
pub struct HubFile {
    /// `/`-separated path in the repository.
    pub path: String,
    pub content: Vec<u8>,
    /// Stored with Git LFS (the blob is named by the SHA-256 of the content)
    /// rather than as an ordinary git file (named by its git blob SHA-1).
    pub lfs: bool,
}

impl HubFile {
    pub fn git(path: &str, content: &[u8]) -> Self {
        HubFile {
            path: path.to_owned(),
            content: content.to_vec(),
            lfs: false,
        }
    }

    pub fn lfs(path: &str, content: &[u8]) -> Self {
        HubFile {
            path: path.to_owned(),
            content: content.to_vec(),
            lfs: true,
        }
    }
}

pub use crate::sha1_support::sha1;

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The git blob name of `content`: SHA-1 of `blob <len>\0<content>`.
pub fn git_sha1(content: &[u8]) -> String {
    let mut data = format!("blob {}\0", content.len()).into_bytes();
    data.extend_from_slice(content);
    to_hex(&sha1(&data))
}

/// A commit hash (40 hex digits) derived from `seed`.
pub fn commit_hash(seed: &str) -> String {
    to_hex(&sha1(format!("commit {seed}").as_bytes()))
}

/// A repository folder in a hub cache.
#[derive(Debug, Clone)]
pub struct CachedRepo {
    /// `<cache>/models--ORG--NAME` (or `datasets--ORG--NAME`).
    pub dir: PathBuf,
    sha256: fn(&[u8]) -> Vec<u8>,
}

impl CachedRepo {
    /// Creates (or reopens) `models--ORG--NAME` for `repo_id` (`ORG/NAME`) in `cache`.
    pub fn new(cache: &Path, repo_id: &str, sha256: fn(&[u8]) -> Vec<u8>) -> Self {
        Self::of_kind(cache, "models", repo_id, sha256)
    }

    /// Creates (or reopens) the dataset `datasets--ORG--NAME` in `cache`.
    pub fn new_dataset(cache: &Path, repo_id: &str, sha256: fn(&[u8]) -> Vec<u8>) -> Self {
        Self::of_kind(cache, "datasets", repo_id, sha256)
    }

    fn of_kind(cache: &Path, kind: &str, repo_id: &str, sha256: fn(&[u8]) -> Vec<u8>) -> Self {
        let folder = format!("{kind}--{}", repo_id.replace('/', "--"));
        let dir = cache.join(&folder);
        for sub in ["blobs", "refs", "snapshots"] {
            fs::create_dir_all(dir.join(sub)).expect("create the repository folders");
        }
        fs::create_dir_all(cache.join(".locks").join(&folder)).expect("create the locks folder");
        CachedRepo { dir, sha256 }
    }

    /// Records that `path` does not exist at `commit`, as the client does
    /// when a library asks for an optional file (`.no_exist/<commit>/<path>`).
    pub fn mark_missing(&self, commit: &str, path: &str) {
        let marker = self.dir.join(".no_exist").join(commit).join(path);
        fs::create_dir_all(marker.parent().expect("parent")).expect("create .no_exist folders");
        fs::write(marker, b"").expect("write .no_exist marker");
    }

    /// The blob name of a file: SHA-256 for LFS files, git SHA-1 otherwise.
    pub fn blob_name(&self, file: &HubFile) -> String {
        if file.lfs {
            to_hex(&(self.sha256)(&file.content))
        } else {
            git_sha1(&file.content)
        }
    }

    pub fn blob_path(&self, file: &HubFile) -> PathBuf {
        self.dir.join("blobs").join(self.blob_name(file))
    }

    pub fn snapshot(&self, commit: &str) -> PathBuf {
        self.dir.join("snapshots").join(commit)
    }

    /// Writes the blobs and the snapshot of `commit`: one relative link per
    /// file, `../` once per directory level plus two (out of the commit
    /// folder and `snapshots/`), then `blobs/<name>`. Returns the snapshot.
    pub fn add_commit(&self, commit: &str, files: &[HubFile]) -> PathBuf {
        let snapshot = self.snapshot(commit);
        for f in files {
            let blob = self.blob_path(f);
            if !blob.exists() {
                fs::write(&blob, &f.content).expect("write blob");
            }
            let link = snapshot.join(&f.path);
            fs::create_dir_all(link.parent().expect("parent")).expect("create snapshot folders");
            let depth = f.path.split('/').count();
            let target = format!("{}blobs/{}", "../".repeat(depth + 1), self.blob_name(f));
            symlink(&target, &link).expect("create snapshot link");
        }
        fs::create_dir_all(&snapshot).expect("create snapshot");
        snapshot
    }

    /// Writes `refs/<name>` (may hold `/`) with `commit`, without a newline.
    pub fn set_ref(&self, name: &str, commit: &str) {
        let path = self.dir.join("refs").join(name);
        fs::create_dir_all(path.parent().expect("parent")).expect("create refs folders");
        fs::write(path, commit).expect("write ref");
    }
}

/// Writes `files` as real files below `dir` (a plain copy).
pub fn write_plain(dir: &Path, files: &[HubFile]) {
    for f in files {
        let path = dir.join(&f.path);
        fs::create_dir_all(path.parent().expect("parent")).expect("create folders");
        fs::write(path, &f.content).expect("write file");
    }
}

/// Writes what `huggingface-cli download REPO --local-dir DIR` leaves: the
/// files, and their metadata below `.cache/huggingface/`.
pub fn write_local_dir(
    dir: &Path,
    commit: &str,
    files: &[HubFile],
    blob_name: impl Fn(&HubFile) -> String,
) {
    write_plain(dir, files);
    let meta_root = dir.join(".cache/huggingface");
    fs::create_dir_all(meta_root.join("download")).expect("create .cache/huggingface");
    fs::write(meta_root.join(".gitignore"), "*").expect("write .gitignore");
    for f in files {
        let meta = meta_root
            .join("download")
            .join(format!("{}.metadata", f.path));
        fs::create_dir_all(meta.parent().expect("parent")).expect("create metadata folders");
        fs::write(
            meta,
            format!("{commit}\n{}\n1718035200.123456\n", blob_name(f)),
        )
        .expect("write metadata");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_names() {
        // `git hash-object` of "hello\n".
        assert_eq!(
            git_sha1(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }
}

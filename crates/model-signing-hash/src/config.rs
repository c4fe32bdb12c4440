use std::collections::HashSet;
use std::fmt;
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::{Path, PathBuf};

use crate::algorithm::HashAlgorithm;
use crate::error::ConfigError;

/// Default shard size of the `shards` method: 1,000,000,000 bytes.
pub const DEFAULT_SHARD_SIZE: NonZeroU64 = match NonZeroU64::new(1_000_000_000) {
    Some(v) => v,
    None => unreachable!(),
};

/// Paths ignored by default at the model root (never below it).
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// Where `huggingface-cli download --local-dir` keeps its download metadata
/// (etags, commit hashes, timestamps), ignored by default at the model root.
pub const HF_DOWNLOAD_CACHE_PATH: &str = ".cache/huggingface";

/// How a model is split into resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// One resource per file, digest of the whole content.
    #[default]
    Files,
    /// Each file cut into `[start, end)` pieces of `shard_size` bytes (the last
    /// one shorter). Empty files produce no shard.
    Shards {
        /// Bytes per shard.
        shard_size: NonZeroU64,
    },
}

impl Method {
    /// `files` or `shards`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Files => "files",
            Method::Shards { .. } => "shards",
        }
    }

    /// The shard size, for the shards method.
    pub fn shard_size(self) -> Option<u64> {
        match self {
            Method::Files => None,
            Method::Shards { shard_size } => Some(shard_size.get()),
        }
    }

    /// The `algorithm` string each resource carries under this method and
    /// `algorithm`: `sha256`, or `sha256-sharded-1000000000` for shards.
    pub fn resource_algorithm(self, algorithm: HashAlgorithm) -> String {
        match self {
            Method::Files => algorithm.name().to_owned(),
            Method::Shards { shard_size } => format!("{}-sharded-{}", algorithm.name(), shard_size),
        }
    }
}

/// A validated path relative to the model root: one or more components, none
/// of them empty, `.` or `..`, none containing `/` or NUL.
///
/// Kept as one `/`-joined string, so that a path costs its length however
/// many components it has (a signature may list 10,000 ignore paths of
/// hundreds of components each). Ordered as the tuple of its components,
/// each by Unicode code point.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelPath {
    path: Box<str>,
}

impl RelPath {
    /// Parses a `/`-separated relative path. Empty components and `.`
    /// components are dropped (`a//b/./c/` is `a/b/c`); the result must not be
    /// empty, absolute, or contain `..`.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let invalid = |reason| ConfigError::InvalidIgnorePath {
            path: s.to_owned(),
            reason,
        };
        if s.is_empty() {
            return Err(invalid("it is empty"));
        }
        if s.starts_with('/') {
            return Err(invalid(
                "it is absolute; ignore paths are relative to the model root",
            ));
        }
        if s.contains('\0') {
            return Err(invalid("it contains a NUL byte"));
        }
        let mut path = String::with_capacity(s.len());
        for c in s.split('/') {
            match c {
                "" | "." => {}
                ".." => return Err(invalid("it contains `..`")),
                c => {
                    if !path.is_empty() {
                        path.push('/');
                    }
                    path.push_str(c);
                }
            }
        }
        if path.is_empty() {
            return Err(invalid("it names the model root itself"));
        }
        Ok(RelPath {
            path: path.into_boxed_str(),
        })
    }

    /// Builds a path from components that were already checked by the caller
    /// (for example names read from a directory).
    pub fn from_components<I, S>(components: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut joined = String::new();
        let mut count = 0;
        for (i, c) in components.into_iter().enumerate() {
            if i > 0 {
                joined.push('/');
            }
            joined.push_str(c.as_ref());
            count += 1;
        }
        let parsed = RelPath::parse(&joined)?;
        if parsed.path.len() != joined.len() || parsed.components().count() != count {
            return Err(ConfigError::InvalidIgnorePath {
                path: joined,
                reason: "a component is empty, `.` or contains `/`",
            });
        }
        Ok(parsed)
    }

    /// The `/`-joined path.
    pub fn as_str(&self) -> &str {
        &self.path
    }

    /// The components of the path.
    pub fn components(&self) -> std::str::Split<'_, char> {
        self.path.split('/')
    }

    /// Whether the `/`-joined `path` is this path or lies below it (whole
    /// components).
    pub fn is_prefix_of(&self, path: &str) -> bool {
        path.strip_prefix(&*self.path)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

impl Ord for RelPath {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        crate::walk::cmp_paths(&self.path, &other.path)
    }
}

impl PartialOrd for RelPath {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

/// Everything that determines the digests of a model.
///
/// When verifying, build this from the signed payload, never from user flags:
/// user ignore paths may only be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashConfig {
    method: Method,
    algorithm: HashAlgorithm,
    ignore_paths: Vec<RelPath>,
    ignore_git_paths: bool,
    ignore_hf_download_cache: bool,
    allow_symlinks: bool,
    contained_links: Option<PathBuf>,
    threads: Option<NonZeroUsize>,
    max_files: usize,
    max_resources: usize,
}

impl Default for HashConfig {
    fn default() -> Self {
        HashConfig {
            method: Method::Files,
            algorithm: HashAlgorithm::Sha256,
            ignore_paths: Vec::new(),
            ignore_git_paths: true,
            ignore_hf_download_cache: true,
            allow_symlinks: false,
            contained_links: None,
            threads: None,
            max_files: crate::walk::MAX_FILES,
            max_resources: crate::engine::MAX_RESOURCES,
        }
    }
}

impl HashConfig {
    /// `files` + `sha256`, git paths and `.cache/huggingface` ignored,
    /// symlinks refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Selects the shards method with the given shard size in bytes.
    pub fn shards(mut self, shard_size: u64) -> Result<Self, ConfigError> {
        let shard_size = NonZeroU64::new(shard_size).ok_or(ConfigError::ZeroShardSize)?;
        self.method = Method::Shards { shard_size };
        Ok(self)
    }

    /// Sets the content hash.
    pub fn algorithm(mut self, algorithm: HashAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Adds paths (relative to the model root) to ignore, with everything below them.
    pub fn ignore_paths<I, S>(mut self, paths: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for p in paths {
            self.ignore_paths.push(RelPath::parse(p.as_ref())?);
        }
        self.ignore_paths.sort_unstable();
        self.ignore_paths.dedup();
        Ok(self)
    }

    /// Adds already validated ignore paths.
    pub fn ignore_rel_paths(mut self, paths: impl IntoIterator<Item = RelPath>) -> Self {
        self.ignore_paths.extend(paths);
        self.ignore_paths.sort_unstable();
        self.ignore_paths.dedup();
        self
    }

    /// Whether `.git`, `.gitattributes`, `.github` and `.gitignore` at the
    /// model root are ignored (default: yes).
    pub fn ignore_git_paths(mut self, yes: bool) -> Self {
        self.ignore_git_paths = yes;
        self
    }

    /// Whether `.cache/huggingface` at the model root (the metadata of a
    /// `huggingface-cli download --local-dir`) is ignored (default: yes).
    pub fn ignore_hf_download_cache(mut self, yes: bool) -> Self {
        self.ignore_hf_download_cache = yes;
        self
    }

    /// Whether symbolic links are followed (default: refused).
    pub fn allow_symlinks(mut self, yes: bool) -> Self {
        self.allow_symlinks = yes;
        self
    }

    /// Follows symbolic links whose fully resolved target lies inside `root`
    /// (the layout of a Hugging Face cache snapshot, whose files are links
    /// into the repository's `blobs/`), and refuses every other link, even
    /// when [`allow_symlinks`](Self::allow_symlinks) is set. Each file is
    /// named by the link's path, so the resources are those of a copy of the
    /// model with real files.
    ///
    /// This is a property of where the model lies on disk, not of the model:
    /// it is not recorded in a signature and does not change
    /// `allow_symlinks` there. `root` must exist when the model is walked.
    pub fn contained_links(mut self, root: impl Into<PathBuf>) -> Self {
        self.contained_links = Some(root.into());
        self
    }

    /// Applies [`contained_links`](Self::contained_links) with the repository
    /// folder when `model` is (or lies inside) a snapshot of a Hugging Face
    /// cache repository (see [`hf_cache_repo`]); otherwise, or when a
    /// container is already set, returns the configuration unchanged.
    pub fn contain_links_in_hf_snapshot(self, model: &Path) -> Self {
        if self.contained_links.is_some() {
            return self;
        }
        match hf_cache_repo(model) {
            Some(repo) => self.contained_links(repo),
            None => self,
        }
    }

    /// Number of hashing threads (default: one per CPU).
    pub fn threads(mut self, threads: usize) -> Result<Self, ConfigError> {
        self.threads = Some(NonZeroUsize::new(threads).ok_or(ConfigError::ZeroThreads)?);
        Ok(self)
    }

    /// The most files a walk lists before it fails with
    /// [`HashError::TooMany`](crate::HashError::TooMany) (default
    /// [`MAX_FILES`](crate::MAX_FILES)). Not part of a signature.
    pub fn max_files(mut self, limit: usize) -> Self {
        self.max_files = limit;
        self
    }

    /// The most resources (files, or shards in the `shards` method) hashing
    /// produces before it fails with
    /// [`HashError::TooMany`](crate::HashError::TooMany) (default
    /// [`MAX_RESOURCES`](crate::MAX_RESOURCES)). The count is known from the
    /// file sizes before anything is read or allocated, so a tiny shard size
    /// on a large file fails at once. Not part of a signature.
    pub fn max_resources(mut self, limit: usize) -> Self {
        self.max_resources = limit;
        self
    }

    /// The method.
    pub fn get_method(&self) -> Method {
        self.method
    }

    /// The content hash.
    pub fn get_algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// Whether symlinks are followed.
    pub fn get_allow_symlinks(&self) -> bool {
        self.allow_symlinks
    }

    /// Whether the git paths are ignored.
    pub fn get_ignore_git_paths(&self) -> bool {
        self.ignore_git_paths
    }

    /// Whether `.cache/huggingface` is ignored.
    pub fn get_ignore_hf_download_cache(&self) -> bool {
        self.ignore_hf_download_cache
    }

    /// The folder that followed links must stay inside, if set.
    pub fn get_contained_links(&self) -> Option<&Path> {
        self.contained_links.as_deref()
    }

    /// The thread count, if set.
    pub fn get_threads(&self) -> Option<usize> {
        self.threads.map(NonZeroUsize::get)
    }

    /// The file count limit of a walk.
    pub fn get_max_files(&self) -> usize {
        self.max_files
    }

    /// The resource (file or shard) count limit of hashing.
    pub fn get_max_resources(&self) -> usize {
        self.max_resources
    }

    /// The user ignore paths (without the git paths).
    pub fn user_ignore_paths(&self) -> &[RelPath] {
        &self.ignore_paths
    }

    /// Every path that is ignored, git paths and `.cache/huggingface`
    /// included when enabled, sorted and without duplicates: what a signature
    /// records in `ignore_paths`.
    pub fn effective_ignore_paths(&self) -> Vec<RelPath> {
        let mut all = self.ignore_paths.clone();
        if self.ignore_git_paths {
            for g in GIT_PATHS {
                if let Ok(p) = RelPath::parse(g) {
                    all.push(p);
                }
            }
        }
        if self.ignore_hf_download_cache {
            if let Ok(p) = RelPath::parse(HF_DOWNLOAD_CACHE_PATH) {
                all.push(p);
            }
        }
        all.sort();
        all.dedup();
        all
    }

    /// Every ignored path, `/`-joined, for the walk's lookups: one per
    /// directory entry, whatever the number of ignore paths.
    pub(crate) fn ignore_set(&self) -> HashSet<&str> {
        let mut set: HashSet<&str> = self.ignore_paths.iter().map(RelPath::as_str).collect();
        if self.ignore_git_paths {
            set.extend(GIT_PATHS);
        }
        if self.ignore_hf_download_cache {
            set.insert(HF_DOWNLOAD_CACHE_PATH);
        }
        set
    }

    /// The `algorithm` string of each resource: `sha256`, or
    /// `sha256-sharded-1000000000` for shards.
    pub fn resource_algorithm(&self) -> String {
        self.method.resource_algorithm(self.algorithm)
    }
}

/// The Hugging Face cache repository folder (`models--ORG--NAME`) when
/// `model` is a snapshot of it or lies inside one: after resolving links,
/// `model` is `<repo>/snapshots/<commit>` or below it, and `<repo>/blobs/` is
/// a directory. Returns the resolved `<repo>`; `None` otherwise (also when
/// `model` cannot be resolved).
pub fn hf_cache_repo(model: &Path) -> Option<PathBuf> {
    let resolved = std::fs::canonicalize(model).ok()?;
    let mut dir = resolved.as_path();
    while let Some(parent) = dir.parent() {
        if parent.file_name().is_some_and(|n| n == "snapshots") {
            if let Some(repo) = parent.parent() {
                if repo.join("blobs").is_dir() {
                    return Some(repo.to_owned());
                }
            }
        }
        dir = parent;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_path_normalizes() {
        let p = RelPath::parse("a//b/./c/").expect("valid");
        assert_eq!(p.components().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(p.to_string(), "a/b/c");
        assert_eq!(RelPath::from_components(["a", "b", "c"]), Ok(p));
        for bad in [&["a", ""][..], &["a/b"], &["."], &["a", ".."], &[]] {
            assert!(RelPath::from_components(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rel_path_orders_by_components() {
        let mut paths: Vec<RelPath> = ["a.b/c", "a-b", "a/b", "A", "a"]
            .iter()
            .map(|p| RelPath::parse(p).expect("valid"))
            .collect();
        paths.sort();
        let names: Vec<&str> = paths.iter().map(RelPath::as_str).collect();
        assert_eq!(names, ["A", "a", "a/b", "a-b", "a.b/c"]);
    }

    #[test]
    fn rel_path_rejects() {
        for bad in ["", ".", "./", "/abs", "a/../b", "..", "a/..", "a\0b", "//"] {
            assert!(RelPath::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn prefix_is_by_whole_components() {
        let d = RelPath::parse("d").expect("valid");
        assert!(d.is_prefix_of("d"));
        assert!(d.is_prefix_of("d/x"));
        assert!(!d.is_prefix_of("d2"));
        assert!(!d.is_prefix_of("d2/x"));
        assert!(!d.is_prefix_of("x/d"));
    }

    #[test]
    fn effective_ignore_paths_sorted_with_git() {
        let c = HashConfig::new()
            .ignore_paths(["z", "model.sig", "z/"])
            .expect("valid");
        let names: Vec<String> = c
            .effective_ignore_paths()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            names,
            [
                ".cache/huggingface",
                ".git",
                ".gitattributes",
                ".github",
                ".gitignore",
                "model.sig",
                "z"
            ]
        );
        let c = c.ignore_git_paths(false);
        assert_eq!(c.effective_ignore_paths().len(), 3);
        let c = c.ignore_hf_download_cache(false);
        assert_eq!(c.effective_ignore_paths().len(), 2);
    }

    #[test]
    fn resource_algorithm_names() {
        let c = HashConfig::new();
        assert_eq!(c.resource_algorithm(), "sha256");
        let c = c
            .algorithm(HashAlgorithm::Blake2b)
            .shards(1024)
            .expect("valid");
        assert_eq!(c.resource_algorithm(), "blake2b-sharded-1024");
        assert!(HashConfig::new().shards(0).is_err());
        assert!(HashConfig::new().threads(0).is_err());
    }
}

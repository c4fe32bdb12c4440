use std::io;
use std::path::PathBuf;

/// What kind of failure an error is: what a caller, or a command line's
/// exit code, does about it. Every operation error of these crates says its
/// kind (`kind()`), so that front ends classify errors in one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller asked for something invalid: an option, argument or
    /// configuration. Fix the call.
    Usage,
    /// An input that should be a signature, payload, key or certificate is
    /// malformed.
    Malformed,
    /// Verification ran and said no: the signature, the signer, the
    /// certificate chain or the model's content.
    Rejected,
    /// The environment failed: a file that cannot be read or written, a
    /// model that is not there, a device, threads, a network service.
    Environment,
}

/// Why a hashing configuration was rejected before any file was touched.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum ConfigError {
    /// An ignore path was empty, `.`, absolute, contained `..` or another
    /// component that cannot name a file inside the model.
    #[error("invalid ignore path {path:?}: {reason}")]
    InvalidIgnorePath { path: String, reason: &'static str },
    /// A shard size of zero.
    #[error("shard size must be a positive number of bytes")]
    ZeroShardSize,
    /// A hash algorithm name that is not `sha256`, `blake2b` or `blake3`.
    #[error("unknown hash algorithm {0:?} (expected sha256, blake2b or blake3)")]
    UnknownAlgorithm(String),
    /// A thread count of zero.
    #[error("the number of threads must be at least 1")]
    ZeroThreads,
}

/// Why hashing a model failed. Every variant that concerns a file names it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum HashError {
    /// The configuration was rejected.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Reading metadata, a directory or a file failed.
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The model path does not exist.
    #[error("model path {path} does not exist")]
    ModelNotFound { path: PathBuf },
    /// A symbolic link was found and symlinks are not allowed.
    #[error("{path} is a symbolic link; symlinks are refused unless allowed (--allow-symlinks)")]
    SymlinkNotAllowed { path: PathBuf },
    /// A symbolic link whose resolved target lies outside the folder links
    /// must stay in (a Hugging Face cache repository).
    #[error("{path} is a symbolic link to {target}, outside {container}; only links that stay inside it are followed")]
    SymlinkOutsideContainer {
        path: PathBuf,
        target: PathBuf,
        container: PathBuf,
    },
    /// A symbolic link whose target does not exist.
    #[error("{path} is a dangling symbolic link (its target does not exist)")]
    DanglingSymlink { path: PathBuf },
    /// Following directory links led back into an ancestor directory.
    #[error("{path} is a link to a directory that contains it (a cycle)")]
    SymlinkCycle { path: PathBuf },
    /// A FIFO, socket, device or other non-regular file.
    #[error("{path} is a {kind}, not a regular file or directory")]
    SpecialFile { path: PathBuf, kind: &'static str },
    /// A file or directory name that is not valid UTF-8.
    #[error("{path} has a name that is not valid UTF-8")]
    NonUtf8Name { path: PathBuf },
    /// No files are left to hash after applying the ignore rules.
    #[error("the model at {path} has nothing to hash: {detail}")]
    EmptyModel { path: PathBuf, detail: &'static str },
    /// The file changed while it was being hashed.
    #[error("{path} changed while it was being hashed ({detail})")]
    FileChanged { path: PathBuf, detail: String },
    /// The walk found more files, or the model makes more resources or
    /// shards, than the configured limit (`what` is `files`, `resources` or
    /// `shards`).
    #[error("the model has more than {limit} {what}; refusing to continue{}",
        if *what == "shards" { " (use a larger shard size)" } else { "" })]
    TooMany { what: &'static str, limit: usize },
    /// The caller cancelled hashing ([`Progress::cancelled`](crate::Progress::cancelled)).
    #[error("hashing was cancelled")]
    Cancelled,
    /// A worker thread pool could not be built.
    #[error("cannot start {threads} hashing threads")]
    ThreadPool {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
}

impl HashError {
    /// What kind of failure this is: [`ErrorKind::Usage`] for a rejected
    /// configuration, [`ErrorKind::Environment`] for I/O, a missing model
    /// and threads, and [`ErrorKind::Rejected`] for a model that cannot be
    /// hashed as it is (links not allowed, special files, names that are
    /// not UTF-8, no files, a file changing, too many files).
    pub fn kind(&self) -> ErrorKind {
        match self {
            HashError::Config(_) => ErrorKind::Usage,
            HashError::Io { .. }
            | HashError::ModelNotFound { .. }
            | HashError::ThreadPool { .. }
            | HashError::Cancelled => ErrorKind::Environment,
            _ => ErrorKind::Rejected,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        HashError::Io {
            path: path.into(),
            source,
        }
    }
}

//! The hashing engine of model-signing: walks a model directory, splits it into
//! files or shards, and digests them in parallel with SHA-256, BLAKE2b or BLAKE3,
//! producing exactly the resources the OpenSSF Model Signing format (and its
//! Python reference implementation) expects.
//!
//! ```no_run
//! use model_signing_hash::{hash_model, root_digest, HashConfig, NoProgress};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = HashConfig::new().shards(1_000_000_000)?;
//! let resources = hash_model("path/to/model".as_ref(), &config, &NoProgress)?;
//! for r in &resources {
//!     println!("{} {}", r.key, r.digest.len());
//! }
//! let root = root_digest(resources.iter().map(|r| r.digest.as_slice()));
//! # let _ = root;
//! # Ok(())
//! # }
//! ```
//!
//! Design notes:
//! - Files are read with large positional reads into page-aligned buffers; no
//!   memory mapping, so a file truncated while it is hashed yields an error,
//!   never a crash, and memory use does not grow with the model.
//! - Every file is checked against what the walk saw (device, inode, size,
//!   modification and status change times) when it is opened and after it is
//!   read; a file that changes meanwhile is an error, never a wrong digest.
//! - Work is spread over a rayon pool by file (or by shard); results are sorted
//!   by resource key, so one thread and many give identical output.

#![deny(missing_docs)]

mod algorithm;
mod config;
mod engine;
mod error;
mod incremental;
mod progress;
mod read;
mod resource;
mod tree;
mod walk;

pub use algorithm::{HashAlgorithm, Hasher};
pub use config::{
    hf_cache_repo, HashConfig, Method, RelPath, DEFAULT_SHARD_SIZE, GIT_PATHS,
    HF_DOWNLOAD_CACHE_PATH,
};
pub use engine::{hash_files, hash_model, root_digest, MAX_RESOURCES};
pub use error::{ConfigError, ErrorKind, HashError};
pub use incremental::{
    hash_files_incremental, Incremental, IncrementalReport, DEFAULT_RACY_MARGIN, MAX_RECORD_BYTES,
};
pub use progress::{NoProgress, Progress};
pub use resource::{check_component, check_path, NameError, ResourceDigest, ResourceKey};
pub use walk::{cmp_paths, walk, walk_signed, FileEntry, ModelFiles, MAX_FILES};

use std::path::Path;

use rayon::prelude::*;

use crate::config::{HashConfig, Method};
use crate::error::HashError;
use crate::progress::Progress;
use crate::read::hash_entry;
use crate::resource::{ResourceDigest, ResourceKey};
use crate::walk::{walk, FileEntry, ModelFiles};

/// Upper bound on the number of resources (files or shards) of one model.
/// A tiny shard size on a large file hits this before any memory is spent.
pub const MAX_RESOURCES: usize = 10_000_000;

struct WorkItem<'a> {
    entry: &'a FileEntry,
    range: Option<(u64, u64)>,
}

fn plan<'a>(files: &'a ModelFiles, config: &HashConfig) -> Result<Vec<WorkItem<'a>>, HashError> {
    let mut items = Vec::new();
    match config.get_method() {
        Method::Files => {
            if files.entries.len() > MAX_RESOURCES {
                return Err(HashError::TooMany {
                    what: "resources",
                    limit: MAX_RESOURCES,
                });
            }
            items.extend(
                files
                    .entries
                    .iter()
                    .map(|entry| WorkItem { entry, range: None }),
            );
        }
        Method::Shards { shard_size } => {
            let shard_size = shard_size.get();
            let mut count: u64 = 0;
            for entry in &files.entries {
                count = count.saturating_add(entry.snapshot.size.div_ceil(shard_size));
            }
            if count > MAX_RESOURCES as u64 {
                return Err(HashError::TooMany {
                    what: "shards",
                    limit: MAX_RESOURCES,
                });
            }
            for entry in &files.entries {
                let size = entry.snapshot.size;
                let mut start = 0;
                while start < size {
                    let end = start.saturating_add(shard_size).min(size);
                    items.push(WorkItem {
                        entry,
                        range: Some((start, end)),
                    });
                    start = end;
                }
            }
        }
    }
    Ok(items)
}

/// Walks and hashes the model at `root`: the resources sorted in signing order.
pub fn hash_model(
    root: &Path,
    config: &HashConfig,
    progress: &dyn Progress,
) -> Result<Vec<ResourceDigest>, HashError> {
    let files = walk(root, config)?;
    hash_files(&files, config, progress)
}

/// Hashes files already listed by [`walk`](crate::walk()) (possibly filtered):
/// the resources sorted in signing order. The output does not depend on the
/// number of threads.
pub fn hash_files(
    files: &ModelFiles,
    config: &HashConfig,
    progress: &dyn Progress,
) -> Result<Vec<ResourceDigest>, HashError> {
    if files.entries.is_empty() {
        return Err(HashError::EmptyModel {
            path: files.root.clone(),
            detail: "no files are left after the ignore rules",
        });
    }
    let items = plan(files, config)?;
    if items.is_empty() {
        return Err(HashError::EmptyModel {
            path: files.root.clone(),
            detail: "every file is empty, and the shards method gives empty files no resource",
        });
    }
    let algorithm = config.get_algorithm();
    let total: u64 = items
        .iter()
        .map(|i| match i.range {
            Some((s, e)) => e - s,
            None => i.entry.snapshot.size,
        })
        .sum();
    progress.start(total, items.len());

    let run = || -> Result<Vec<ResourceDigest>, HashError> {
        items
            .par_iter()
            .with_max_len(1)
            .map(|item| {
                let digest = hash_entry(item.entry, item.range, algorithm, progress)?;
                progress.item_done();
                Ok(ResourceDigest {
                    key: ResourceKey {
                        path: item.entry.components.clone(),
                        range: item.range,
                    },
                    digest,
                })
            })
            .collect()
    };

    let result = match config.get_threads() {
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("model-signing-hash-{i}"))
            .build()
            .map_err(|source| HashError::ThreadPool { threads, source })?
            .install(run),
        None => run(),
    };
    progress.finish();
    let mut resources = result?;
    // The walk already sorts; keep the invariant explicit and cheap.
    if !resources.windows(2).all(|w| w[0].key <= w[1].key) {
        resources.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(resources)
}

/// SHA-256 over the concatenated raw digests, in the given order: the in-toto
/// subject digest of a model.
pub fn root_digest<'a>(digests: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    for d in digests {
        h.update(d);
    }
    h.finalize().into()
}

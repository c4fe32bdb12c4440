//! Turns the shared hashing flags into a hashing configuration.

use std::path::Path;

use model_signing::hashing::{HashAlgorithm, HashConfig, RelPath};

use crate::cli::{HashArg, HashingArgs};
use crate::paths;
use crate::printer::Printer;

impl From<HashArg> for HashAlgorithm {
    fn from(h: HashArg) -> Self {
        match h {
            HashArg::Sha256 => HashAlgorithm::Sha256,
            HashArg::Blake2b => HashAlgorithm::Blake2b,
            HashArg::Blake3 => HashAlgorithm::Blake3,
        }
    }
}

/// The configuration for hashing `model` under the given flags, plus any
/// extra paths (already relative to the model root) to leave out.
pub fn config(
    args: &HashingArgs,
    model: &Path,
    extra_ignores: Vec<RelPath>,
    printer: &Printer,
) -> anyhow::Result<HashConfig> {
    let mut config = base_config(args, printer)?.allow_symlinks(args.allow_symlinks);
    if !args.ignore_paths.is_empty() {
        let root = paths::model_root(model)?;
        let mut rel = Vec::new();
        for p in &args.ignore_paths {
            rel.push(paths::ignore_path(&root, p)?);
        }
        config = config.ignore_rel_paths(rel);
    }
    Ok(config.ignore_rel_paths(extra_ignores))
}

/// The algorithm, method, git paths and threads of the flags: what every
/// kind of model shares (ignore paths and links depend on where it lies).
pub fn base_config(args: &HashingArgs, printer: &Printer) -> anyhow::Result<HashConfig> {
    let algorithm = HashAlgorithm::from(args.hash);
    let mut config = HashConfig::new()
        .algorithm(algorithm)
        .ignore_git_paths(!args.no_ignore_git_paths);
    if let Some(size) = args.shard_size {
        if algorithm == HashAlgorithm::Blake3 {
            printer.warn(
                "BLAKE3 is hashed per file (it is parallel already, as in the reference implementation); --shard-size is ignored",
            );
        } else {
            config = config.shards(size)?;
        }
    }
    if let Some(threads) = args.threads {
        config = config.threads(threads)?;
    }
    Ok(config)
}

//! Command-line definitions. Every flag of the reference implementation is
//! accepted in both its hyphen and underscore spellings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Sign and verify machine-learning models (OpenSSF Model Signing v1.0).
#[derive(Debug, Parser)]
#[command(
    name = "model-signing",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 success, 1 verification failed, 2 usage error, 3 other error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print nothing but results and errors (no progress bar).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail about what is done.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute a model's digest (the in-toto subject a signature would carry).
    Digest(DigestArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    Sha256,
    Blake2b,
    Blake3,
}

/// How a model is hashed; shared by `digest` and `sign`.
#[derive(Debug, Args)]
pub struct HashingArgs {
    /// Content hash for every file or shard.
    #[arg(
        long = "hash",
        value_enum,
        default_value = "sha256",
        alias = "hash_type",
        alias = "hash-type"
    )]
    pub hash: HashArg,
    /// Hash files in shards of this many bytes (the `shards` method) instead of whole files.
    #[arg(long = "shard-size", alias = "shard_size", value_name = "BYTES")]
    pub shard_size: Option<u64>,
    /// Path to leave out of the manifest, with everything below it (repeatable).
    /// Relative paths are resolved against the current directory and must lie
    /// inside the model.
    #[arg(long = "ignore-paths", alias = "ignore_paths", value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// Ignore .git, .gitattributes, .github and .gitignore at the model root (default).
    #[arg(
        long = "ignore-git-paths",
        alias = "ignore_git_paths",
        overrides_with = "no_ignore_git_paths"
    )]
    pub ignore_git_paths: bool,
    /// Include git-related files at the model root in the manifest.
    #[arg(
        long = "no-ignore-git-paths",
        alias = "no_ignore_git_paths",
        overrides_with = "ignore_git_paths"
    )]
    pub no_ignore_git_paths: bool,
    /// Follow symbolic links (refused by default).
    #[arg(long = "allow-symlinks", alias = "allow_symlinks")]
    pub allow_symlinks: bool,
    /// Number of hashing threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The model: a directory or a single file.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    #[command(flatten)]
    pub hashing: HashingArgs,
    /// Print the whole manifest as JSON instead of the digest.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}

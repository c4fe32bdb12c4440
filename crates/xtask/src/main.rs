//! `cargo run -p xtask -- man [DIR]`: writes `model-signing.1` and one page per
//! subcommand (`model-signing-sign-key.1`, ...) into DIR (default `target/man`).
//! `cargo run -p xtask -- completions [DIR]`: writes completion scripts for
//! bash, zsh, fish and PowerShell into DIR (default `target/completions`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::CommandFactory;
use clap_complete::Shell;
use model_signing_cli::cli::Cli;

fn man_pages(
    cmd: &clap::Command,
    prefix: &str,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let name = if prefix.is_empty() {
        cmd.get_name().to_owned()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    let page = cmd.clone().name(name.clone());
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, out).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands() {
        if sub.get_name() != "help" {
            man_pages(sub, &name, dir, written)?;
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str);
    let dir = |default: &str| PathBuf::from(args.get(1).map(String::as_str).unwrap_or(default));
    let mut cmd = Cli::command();
    cmd.build();
    match task {
        Some("man") => {
            let dir = dir("target/man");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut written = Vec::new();
            man_pages(&cmd, "", &dir, &mut written)?;
            for p in written {
                println!("{}", p.display());
            }
        }
        Some("completions") => {
            let dir = dir("target/completions");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
                let path = clap_complete::generate_to(shell, &mut cmd, "model-signing", &dir)?;
                println!("{}", path.display());
            }
        }
        _ => bail!("usage: cargo run -p xtask -- man|completions [DIR]"),
    }
    Ok(())
}

//! One module per command.

mod digest;
pub mod hashing;
mod inspect;
mod keyload;
pub mod report;
mod sign;
mod sigstore;
mod verify;

use crate::cli::{Cli, Command};
use crate::printer::Printer;

/// Runs the command and returns the exit code for a normal outcome.
pub fn run(cli: Cli, printer: &Printer) -> anyhow::Result<u8> {
    match cli.command {
        Command::Digest(args) => digest::run(args, printer),
        Command::Inspect(args) => inspect::run(args, printer),
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = crate::cli::Cli::command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(args.shell, &mut cmd, "model-signing", &mut out);
            Ok(crate::exit::SUCCESS)
        }
        Command::Sign(cmd) => sign::run(cmd, printer),
        Command::Verify(cmd) => verify::run(cmd, printer),
    }
}

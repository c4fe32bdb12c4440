//! One module per command.

mod digest;
pub mod hashing;

use crate::cli::{Cli, Command};
use crate::printer::Printer;

/// Runs the command and returns the exit code for a normal outcome.
pub fn run(cli: Cli, printer: &Printer) -> anyhow::Result<u8> {
    match cli.command {
        Command::Digest(args) => digest::run(args, printer),
    }
}

//! One module per command.

mod attest;
mod digest;
mod gate;
pub mod hashing;
mod inspect;
mod keyload;
mod lineage;
mod oci;
mod pkcs11;
pub mod report;
mod sign;
mod sigstore;
mod sigstore_sign;
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
            // Generated into memory: clap_complete panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "model-signing", &mut script);
            printer.out_raw(String::from_utf8_lossy(&script).trim_end_matches('\n'));
            Ok(crate::exit::SUCCESS)
        }
        Command::Sign(args) if !args.default.unexpected.is_empty() => {
            let first = args.default.model.unwrap_or_default();
            let extra = &args.default.unexpected[0];
            let message = if first.exists() || crate::hf::parse(&first).is_ok_and(|r| r.is_some()) {
                format!(
                    "unexpected argument `{}` after the model {}",
                    extra.display(),
                    first.display()
                )
            } else {
                crate::cli::unknown_sign_method(&first.to_string_lossy())
            };
            Err(crate::exit::UsageError(message).into())
        }
        Command::Sign(args) => match args.into_command() {
            Some(cmd) => sign::run(cmd, printer),
            // clap requires a method or a model.
            None => Err(crate::exit::UsageError("give a model, or a signing method".into()).into()),
        },
        Command::Verify(cmd) => verify::run(*cmd, printer),
        Command::Attest(cmd) => sign::attest(*cmd, printer),
        Command::Predicate(cmd) => attest::predicate(cmd, printer),
        Command::Lineage(cmd) => lineage::run(cmd, printer),
    }
}

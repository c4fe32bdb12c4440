//! The `model-signing` command-line tool, as a library so that the man page
//! and shell completions can be generated from the same definitions.

pub mod cli;
mod commands;
mod env;
mod exit;
mod hf;
mod paths;
mod printer;

use std::process::ExitCode;

use clap::Parser;

/// Runs the tool with the process arguments; returns the exit code.
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
            if e.kind() == clap::error::ErrorKind::UnknownArgument {
                let args: Vec<_> = std::env::args_os().collect();
                if let Some(message) = cli::misspelled_sign_method(&args) {
                    let global = cli::GlobalArgs {
                        quiet: false,
                        verbose: 0,
                    };
                    printer::Printer::new(&global)
                        .error(&anyhow::Error::new(exit::UsageError(message)));
                    return ExitCode::from(exit::USAGE);
                }
            }
            // Help and version go to stdout; a closed pipe there is not an error.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let printer = printer::Printer::new(&cli.global);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        commands::run(cli, &printer)
    }));
    match result {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(err)) => {
            if exit::is_broken_pipe(&err) {
                return ExitCode::from(exit::SUCCESS);
            }
            printer.error(&err);
            ExitCode::from(exit::code_for(&err))
        }
        Err(_) => ExitCode::from(exit::OTHER),
    }
}

//! The `model-signing` command-line tool, as a library: the binary is a thin
//! `main` over [`run`], tests and fuzz targets call [`run`] in-process with
//! their own output streams, and the man page and shell completions are
//! generated from the same definitions.

pub mod cli;
mod commands;
mod env;
mod exit;
mod hf;
mod paths;
mod printer;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

/// Why a model reference could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelReferenceError {
    /// Whether the reference itself is malformed (a usage error), rather
    /// than naming something the cache does not have.
    pub usage: bool,
    /// What is wrong, with its causes.
    pub message: String,
}

/// Resolves a model argument as the commands do: `hf://ORG/NAME[@REVISION]`
/// names the snapshot directory of that revision in the local Hugging Face
/// cache (`HF_HUB_CACHE`, `HF_HOME`, ...; offline, nothing is downloaded);
/// any other path is itself.
pub fn resolve_model(model: &std::path::Path) -> Result<std::path::PathBuf, ModelReferenceError> {
    hf::resolve_model(model).map_err(|e| ModelReferenceError {
        usage: e.is::<exit::UsageError>(),
        message: format!("{e:#}"),
    })
}

/// The output streams of one run, and whether each is a terminal (a
/// progress bar, colour and interactive prompts need one).
pub struct Io {
    /// Where results go.
    pub stdout: Box<dyn Write + Send>,
    /// Where progress and diagnostics go.
    pub stderr: Box<dyn Write + Send>,
    /// Whether `stdout` is a terminal.
    pub stdout_is_terminal: bool,
    /// Whether `stderr` is a terminal.
    pub stderr_is_terminal: bool,
}

impl Io {
    /// The process's own stdout and stderr.
    pub fn process() -> Self {
        Io {
            stdout: Box::new(std::io::stdout()),
            stderr: Box::new(std::io::stderr()),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Two streams that are not terminals (tests, fuzzing).
    pub fn streams(stdout: Box<dyn Write + Send>, stderr: Box<dyn Write + Send>) -> Self {
        Io {
            stdout,
            stderr,
            stdout_is_terminal: false,
            stderr_is_terminal: false,
        }
    }
}

/// Runs the tool with the process arguments and streams; returns the exit code.
pub fn main() -> ExitCode {
    ExitCode::from(run(std::env::args_os(), Io::process()))
}

/// Runs the tool with `args` (the first is the program name) writing to
/// `io`, and returns the exit code (see the README's table).
///
/// The code is decided by the outcome first: 0 only for success, whatever
/// happens to the output. A stream whose reader has gone never turns a
/// failure into 0 and never panics; a success whose result cannot be written
/// (other than to a closed pipe) exits 3. A panic exits 3.
pub fn run<I, T>(args: I, io: Io) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return parse_failed(&e, &args, io),
    };
    let printer = printer::Printer::new(&cli.global, io);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        commands::run(cli, &printer)
    }));
    let code = match result {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            printer.error(&err);
            exit::code_for(&err)
        }
        Err(_) => exit::OTHER,
    };
    if code == exit::SUCCESS {
        if let Some(e) = printer.output_error() {
            printer.error(&anyhow::anyhow!("cannot write the result to stdout: {e}"));
            return exit::OTHER;
        }
    }
    code
}

/// Help, version and usage errors from the argument parser.
fn parse_failed(e: &clap::Error, args: &[OsString], io: Io) -> u8 {
    let quiet = cli::GlobalArgs::plain();
    let to_stderr = e.use_stderr();
    // Colour only for help on a terminal: usage errors quote arguments, which
    // are escaped like any untrusted text.
    let color = !to_stderr
        && io.stdout_is_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let printer = printer::Printer::new(&quiet, io);
    if e.kind() == clap::error::ErrorKind::UnknownArgument {
        if let Some(message) = cli::misspelled_sign_method(args) {
            printer.error(&anyhow::Error::new(exit::UsageError(message)));
            return exit::USAGE;
        }
    }
    if to_stderr {
        if let Some(message) = cli::misused_verify(args) {
            printer.error(&anyhow::Error::new(exit::UsageError(message)));
            return exit::USAGE;
        }
    }
    let rendered = e.render();
    let text = if color {
        rendered.ansi().to_string()
    } else {
        rendered.to_string()
    };
    let text = text.trim_end_matches('\n');
    if to_stderr {
        printer.diag(text);
        exit::USAGE
    } else {
        // Help and version (our own text, colour codes included).
        printer.out_raw(text);
        exit::SUCCESS
    }
}

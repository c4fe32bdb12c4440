//! Everything the tool writes: results on stdout, progress and diagnostics on stderr.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model_signing::hashing::{HashError, Progress};
use model_signing::verify::VerifyError;

use crate::cli::GlobalArgs;

pub struct Printer {
    quiet: bool,
    verbose: u8,
    stderr_tty: bool,
    color: bool,
}

impl Printer {
    pub fn new(global: &GlobalArgs) -> Self {
        let stderr_tty = io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Printer {
            quiet: global.quiet,
            verbose: global.verbose,
            stderr_tty,
            color: stderr_tty && !no_color,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A progress reporter for hashing: a bar on a terminal, nothing otherwise.
    pub fn hashing_progress(&self, label: &'static str) -> BarProgress {
        let bar = if self.quiet || !self.stderr_tty {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10))
        };
        BarProgress { bar, label }
    }

    /// Writes one line of results to stdout.
    pub fn out(&self, line: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()
    }

    pub fn warn(&self, msg: &str) {
        eprintln!("{} {msg}", self.paint("1;33", "warning:"));
    }

    /// A diagnostic line on stderr (always shown).
    pub fn diag(&self, msg: &str) {
        eprintln!("{msg}");
    }

    pub fn info(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    pub fn verbose(&self, msg: &str) {
        if self.verbose > 0 && !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// `error:` line, one `caused by:` line per source, and a `hint:` where one helps.
    pub fn error(&self, err: &anyhow::Error) {
        let mut stderr = io::stderr().lock();
        let _ = writeln!(stderr, "{} {err}", self.paint("1;31", "error:"));
        for cause in err.chain().skip(1) {
            let _ = writeln!(stderr, "  {} {cause}", self.paint("1", "caused by:"));
        }
        if let Some(hint) = hint_for(err) {
            let _ = writeln!(stderr, "  {} {hint}", self.paint("1;36", "hint:"));
        }
    }
}

fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    if let Some(hint) = crate::commands::pkcs11_hint(err) {
        return Some(hint);
    }
    if let Some(hint) = crate::commands::sigstore_sign_hint(err) {
        return Some(hint);
    }
    // Verification follows the signature, not --allow-symlinks.
    let verifying = err.chain().any(|c| c.is::<VerifyError>());
    err.chain()
        .find_map(|c| match c.downcast_ref::<HashError>()? {
            HashError::SymlinkNotAllowed { .. } if verifying => {
                Some("the signature was made without --allow-symlinks, so links in the model are refused; remove the link, or sign again with --allow-symlinks")
            }
            HashError::SymlinkNotAllowed { .. } => {
                Some("pass --allow-symlinks to hash the targets of links under the links' names")
            }
            HashError::FileChanged { .. } => {
                Some("another process is writing to the model; try again once it has finished")
            }
            HashError::EmptyModel { .. } => {
                Some("check the model path and the --ignore-paths given")
            }
            HashError::SpecialFile { .. } => {
                Some("remove it from the model or leave it out with --ignore-paths")
            }
            HashError::NonUtf8Name { .. } => {
                Some("rename the file: signatures name files in UTF-8")
            }
            _ => None,
        })
}

/// Progress bar on stderr for the hashing engine.
pub struct BarProgress {
    bar: ProgressBar,
    label: &'static str,
}

impl Progress for BarProgress {
    fn start(&self, total_bytes: u64, total_items: usize) {
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        self.bar.set_style(style);
        self.bar.set_length(total_bytes);
        self.bar
            .set_message(format!("{} {total_items} items", self.label));
        self.bar.enable_steady_tick(Duration::from_millis(200));
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

//! Everything the tool writes: results on stdout, progress and diagnostics on
//! stderr, into the streams [`crate::Io`] gives.
//!
//! Two rules hold here for every command:
//!
//! - **Output never decides the exit code of a failure.** Writing is
//!   best-effort: a stream whose reader has gone (EPIPE) or that fails in any
//!   other way is noted, never propagated and never a panic, so a failed
//!   verification exits 1 whatever happens to its output. Only a success
//!   whose result could not be written to stdout (other than EPIPE) turns into
//!   exit 3 ([`Printer::output_error`]).
//! - **Untrusted text never reaches a terminal raw.** Every line is passed
//!   through [`model_signing::text`] (controls, bidi characters and invalid
//!   UTF-8 escaped; newlines of our own kept), names and error messages are
//!   escaped whole (newlines included) where they are formatted, and JSON is
//!   written with [`model_signing::text::json_pretty`].

use std::io::{self, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model_signing::hashing::Progress;
use model_signing::text::{escape, escape_keep_newlines};

use crate::cli::GlobalArgs;

/// An output stream that tolerates failure: the first error is kept.
struct Sink {
    stream: Box<dyn Write + Send>,
    /// The first write error other than EPIPE.
    error: Option<io::Error>,
    /// Whether the reader has gone (EPIPE): nothing more is written.
    closed: bool,
}

impl Sink {
    fn new(stream: Box<dyn Write + Send>) -> Mutex<Self> {
        Mutex::new(Sink {
            stream,
            error: None,
            closed: false,
        })
    }

    fn write(&mut self, text: &str) {
        if self.closed || self.error.is_some() {
            return;
        }
        let result = self
            .stream
            .write_all(text.as_bytes())
            .and_then(|()| self.stream.flush());
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.closed = true,
            Err(e) => self.error = Some(e),
        }
    }
}

fn lock(sink: &Mutex<Sink>) -> std::sync::MutexGuard<'_, Sink> {
    // A panic while printing leaves the sink usable.
    sink.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub struct Printer {
    quiet: bool,
    verbose: u8,
    stderr_tty: bool,
    color: bool,
    out: Mutex<Sink>,
    err: Mutex<Sink>,
}

impl Printer {
    pub fn new(global: &GlobalArgs, io: crate::Io) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Printer {
            quiet: global.is_quiet(),
            verbose: global.verbosity(),
            stderr_tty: io.stderr_is_terminal,
            color: io.stderr_is_terminal && !no_color,
            out: Sink::new(io.stdout),
            err: Sink::new(io.stderr),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Whether diagnostics go to a terminal (prompts need one).
    pub fn stderr_is_terminal(&self) -> bool {
        self.stderr_tty
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

    /// Writes results to stdout, one line (or several of our own).
    pub fn out(&self, text: &str) {
        let mut line = escape_keep_newlines(text).into_owned();
        line.push('\n');
        lock(&self.out).write(&line);
    }

    /// Writes text of our own (help, with its colour codes) to stdout as it is.
    pub fn out_raw(&self, text: &str) {
        lock(&self.out).write(&format!("{text}\n"));
    }

    /// Writes `value` to stdout as one pretty-printed JSON document.
    pub fn out_json<T: serde::Serialize>(&self, value: &T) -> anyhow::Result<()> {
        let text = model_signing::text::json_pretty(value)?;
        self.out(&text);
        Ok(())
    }

    /// The first error (other than a closed pipe) met writing results: a
    /// success whose result was lost is not a success.
    pub fn output_error(&self) -> Option<String> {
        lock(&self.out).error.as_ref().map(ToString::to_string)
    }

    fn err_line(&self, text: &str) {
        let mut line = escape_keep_newlines(text).into_owned();
        line.push('\n');
        lock(&self.err).write(&line);
    }

    pub fn warn(&self, msg: &str) {
        let label = self.paint("1;33", "warning:");
        self.err_line_labelled(&label, msg);
    }

    fn err_line_labelled(&self, label: &str, msg: &str) {
        let line = format!("{label} {}\n", escape_keep_newlines(msg));
        lock(&self.err).write(&line);
    }

    /// A diagnostic line on stderr (always shown).
    pub fn diag(&self, msg: &str) {
        self.err_line(msg);
    }

    pub fn info(&self, msg: &str) {
        if !self.quiet {
            self.err_line(msg);
        }
    }

    pub fn verbose(&self, msg: &str) {
        if self.verbose > 0 && !self.quiet {
            self.err_line(msg);
        }
    }

    /// `error:` line, one `caused by:` line per source, and a `hint:` where
    /// one helps. Each message is escaped whole: errors quote names.
    pub fn error(&self, err: &anyhow::Error) {
        let mut text = format!(
            "{} {}\n",
            self.paint("1;31", "error:"),
            escape(&err.to_string())
        );
        for cause in err.chain().skip(1) {
            text.push_str(&format!(
                "  {} {}\n",
                self.paint("1", "caused by:"),
                escape(&cause.to_string())
            ));
        }
        if let Some(hint) = crate::exit::classify(err).hint {
            text.push_str(&format!("  {} {hint}\n", self.paint("1;36", "hint:")));
        }
        lock(&self.err).write(&text);
    }
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

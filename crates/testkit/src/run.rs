//! What a command-line run did, as the tests read it.

use std::process::Output;

/// A finished command: its exit code and its output as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    /// Panics when the command was killed by a signal (no exit code).
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().expect("exit code"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Standard output then standard error.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts that the run succeeded (`what` says which), and returns it.
    pub fn ok(self, what: &str) -> Self {
        assert_eq!(self.code, 0, "{what}\n{self:?}");
        self
    }
}

//! The Python reference implementation (`model-signing` 1.1.1 with
//! `sigstore` 4.5.1), for interoperability tests against the stand-in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The reference's virtual environment: `MODEL_SIGNING_REFERENCE_VENV` or
/// `target/reference-venv`, installed by `scripts/setup-reference-venv` on
/// first use (idempotent; it takes a lock).
///
/// # Panics
///
/// If the installation fails.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let root = workspace_root();
        let venv = std::env::var_os("MODEL_SIGNING_REFERENCE_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/reference-venv"));
        let script = root.join("scripts/setup-reference-venv");
        let status = Command::new(&script)
            .arg(&venv)
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            status.success(),
            "{} {} failed ({status}); the Sigstore interoperability tests need the Python \
             reference (pip install model-signing==1.1.1)",
            script.display(),
            venv.display()
        );
        venv
    })
}

/// The reference's `model_signing` command line.
pub fn model_signing() -> PathBuf {
    venv().join("bin/model_signing")
}

/// The venv's Python (`python -m sigstore ...` is sigstore-python 4.5.1).
pub fn python() -> PathBuf {
    venv().join("bin/python")
}

/// Runs `program` with `args`, no stdin, and returns its output.
///
/// # Panics
///
/// If it cannot be started.
pub fn run<I, S>(program: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

/// Panics with the command's output unless it succeeded.
pub fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Panics with the command's output if it succeeded; returns its stdout and
/// stderr together, for checking the reason.
pub fn assert_failure(what: &str, output: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.status.success(),
        "{what} succeeded but should have failed:\n{text}"
    );
    text
}

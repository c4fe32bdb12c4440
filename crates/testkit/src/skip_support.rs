//! The one policy for a test whose prerequisite is missing (a tool such as
//! `setpriv`, a privilege such as `CAP_MKNOD`, the Python reference): it never
//! passes without testing.
//!
//! - Under CI (`MODEL_SIGNING_CI` set, as `.ci/run` does: there every
//!   prerequisite is installed) the test fails.
//! - Elsewhere it says so on stderr and records itself, with the reason, in
//!   `target/tmp/skipped-tests.log`, which `scripts/test` lists in its final
//!   summary. libtest still shows it as `ok`, so the log is what counts.
//!

use std::io::Write;
use std::path::PathBuf;

/// Where skipped tests are recorded (cleared by `scripts/test` at its start):
/// `tmp/skipped-tests.log` in the target directory of the running test
/// binary (`<target>/<profile>/deps/<binary>`), which is where Cargo's
/// `CARGO_TARGET_TMPDIR` points.
pub fn skip_log() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("a test binary under <target>/<profile>/deps");
    target.join("tmp").join("skipped-tests.log")
}

/// Whether missing prerequisites fail tests (under CI).
pub fn required() -> bool {
    std::env::var_os("MODEL_SIGNING_CI").is_some_and(|v| !v.is_empty())
}

/// Called by `test` (its name) when `reason` keeps it from running: fails
/// under CI, else records the skip. The caller returns right after.
#[track_caller]
pub fn prerequisite_missing(test: &str, reason: &str) {
    record_skip(test, reason, required(), &skip_log());
}

/// [`prerequisite_missing`] with the policy and the log given.
#[track_caller]
pub fn record_skip(test: &str, reason: &str, required: bool, log: &std::path::Path) {
    assert!(
        !required,
        "{test}: a prerequisite is missing under CI (MODEL_SIGNING_CI is set): {reason}"
    );
    eprintln!("SKIPPED {test}: {reason}");
    let line = format!("{test}: {reason}\n");
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!(
            "{test} is skipped ({reason}), and the skip cannot be recorded in {}: {e}",
            log.display()
        );
    }
}

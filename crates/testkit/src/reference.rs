//! The Python reference implementation (`model-signing` 1.1.1) in its
//! virtual environment.
//!
//! With `MODEL_SIGNING_REFERENCE_VENV` set (as `scripts/test` does), that
//! environment must exist: a missing one fails the test instead of skipping
//! it. Without the variable, `target/reference-venv` is used, and installed
//! with `scripts/setup-reference-venv` when it is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The reference's virtual environment.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        if let Some(dir) = std::env::var_os("MODEL_SIGNING_REFERENCE_VENV") {
            let venv = PathBuf::from(dir);
            assert!(
                venv.join("bin/python").exists() && venv.join("bin/model_signing").exists(),
                "MODEL_SIGNING_REFERENCE_VENV is set but {} holds no reference installation: run scripts/setup-reference-venv {}",
                venv.display(),
                venv.display()
            );
            return venv;
        }
        let root = super::root();
        let venv = root.join("target/reference-venv");
        if !venv.join("bin/model_signing").exists() {
            let script = root.join("scripts/setup-reference-venv");
            let status = Command::new(&script)
                .arg(&venv)
                .stdin(Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
            assert!(
                status.success(),
                "{} failed ({status}): the interoperability tests need the Python reference (model-signing 1.1.1)",
                script.display()
            );
        }
        venv
    })
}

pub fn python() -> PathBuf {
    venv().join("bin/python")
}

/// The reference's command line tool.
pub fn cli() -> PathBuf {
    venv().join("bin/model_signing")
}

/// Runs a Python script with `args`; returns stdout, panics with stderr on failure.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "the reference script failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        script
    );
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}

/// Runs the reference's CLI with `args` in `cwd`.
pub fn run_cli(cwd: &Path, args: &[&str]) -> Output {
    Command::new(cli())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("the reference CLI runs")
}

/// Runs the reference's CLI and panics with its output if it fails.
pub fn run_cli_ok(cwd: &Path, args: &[&str]) -> String {
    let out = run_cli(cwd, args);
    assert!(
        out.status.success(),
        "model_signing {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Signs and verifies jobs with the reference's Python API, in one process.
///
/// Input: a JSON list of jobs. Each job has `op` (`sign` or `verify`),
/// `model`, `signature`, `method` (`key` or `certificate`), key material
/// (`private_key`, `public_key`, `signing_certificate`, `chain` for signing,
/// `roots` for verifying), and hashing parameters: `hash` (`sha256`,
/// `blake2b`, `blake3`), `shard_size` (null for files), `ignore` (relative
/// paths) and `symlinks`. Output: a JSON object mapping each job's `name` to
/// `"ok"` or the error.
///
/// The reference calls BLAKE2b `blake2`, and its verifier cannot guess a
/// hashing configuration from a `blake2b` manifest, so the verifier is given
/// the hashing configuration explicitly.
pub const API_SCRIPT: &str = r#"
import json, sys, traceback
import model_signing

jobs = json.load(open(sys.argv[1]))
results = {}
for job in jobs:
    try:
        algo = {"sha256": "sha256", "blake2b": "blake2", "blake3": "blake3"}[job["hash"]]
        h = model_signing.hashing.Config()
        if job["shard_size"] is None:
            h = h.use_file_serialization(hashing_algorithm=algo)
        else:
            h = h.use_shard_serialization(hashing_algorithm=algo, shard_size=job["shard_size"])
        h = h.set_ignored_paths(paths=job["ignore"], ignore_git_paths=True)
        h = h.set_allow_symlinks(job["symlinks"])
        if job["op"] == "sign":
            c = model_signing.signing.Config().set_hashing_config(h)
            if job["method"] == "key":
                c = c.use_elliptic_key_signer(private_key=job["private_key"])
            else:
                c = c.use_certificate_signer(private_key=job["private_key"],
                                             signing_certificate=job["signing_certificate"],
                                             certificate_chain=job["chain"])
            c.sign(job["model"], job["signature"])
        else:
            c = model_signing.verifying.Config()
            if job["method"] == "key":
                c = c.use_elliptic_key_verifier(public_key=job["public_key"])
            else:
                c = c.use_certificate_verifier(certificate_chain=job["roots"])
            c.set_hashing_config(h).verify(job["model"], job["signature"])
        results[job["name"]] = "ok"
    except Exception as e:
        results[job["name"]] = "error: " + type(e).__name__ + ": " + str(e)
json.dump(results, sys.stdout)
"#;

/// Runs [`API_SCRIPT`] on `jobs` (written to `dir`); returns the results.
pub fn run_api(dir: &Path, jobs: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let path = dir.join("reference-jobs.json");
    std::fs::write(&path, serde_json::to_vec_pretty(jobs).expect("JSON")).expect("write jobs");
    let out = run_python(API_SCRIPT, &[super::path_str(&path)]);
    match serde_json::from_str(&out).expect("the reference script prints JSON") {
        serde_json::Value::Object(map) => map,
        other => panic!("unexpected output {other}"),
    }
}

//! The `digest` command, run as a separate process, checked against the
//! Python reference implementation (`model-signing` 1.1.1, installed by
//! `scripts/setup-reference-venv` on first use).

use testkit::skip_support;
use testkit::Run;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

/// What a signature records by default: the git paths and the metadata of
/// a `huggingface-cli download --local-dir`.
const DEFAULT_IGNORES: [&str; 5] = [
    ".cache/huggingface",
    ".git",
    ".gitattributes",
    ".github",
    ".gitignore",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn tiny_model() -> PathBuf {
    workspace_root().join("examples/tiny-model")
}

// ------------------------------------------------------------- reference

/// The reference's Python, installed by `scripts/setup-reference-venv` if
/// needed (idempotent; it takes a lock). A failure there fails the test.
fn reference_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = workspace_root();
        let venv = std::env::var_os("MODEL_SIGNING_REFERENCE_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/reference-venv"));
        let script = root.join("scripts/setup-reference-venv");
        let status = Command::new(&script)
            .arg(&venv)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            status.success(),
            "{} {} failed ({status}); these tests need the Python reference \
             implementation (pip install model-signing==1.1.1 pyOpenSSL)",
            script.display(),
            venv.display()
        );
        venv.join("bin/python")
    })
}

const REFERENCE_SCRIPT: &str = r#"
import hashlib, json, sys
import model_signing.hashing as h

job = json.loads(sys.argv[1])
c = h.Config().set_ignored_paths(paths=job["ignores"], ignore_git_paths=job["git"])
if job["shard_size"] is None:
    c = c.use_file_serialization(hashing_algorithm=job["hash"])
else:
    c = c.use_shard_serialization(hashing_algorithm=job["hash"], shard_size=job["shard_size"])
c = c.set_allow_symlinks(job["symlinks"])
m = c.hash(job["model"])
rs = list(m.resource_descriptors())
ser = dict(m.serialization_type)
ser["ignore_paths"] = sorted(ser.get("ignore_paths", []))
json.dump({
    "root": hashlib.sha256(b"".join(r.digest.digest_value for r in rs)).hexdigest(),
    "resources": [
        {"name": r.identifier, "algorithm": r.digest.algorithm, "digest": r.digest.digest_hex}
        for r in rs
    ],
    "serialization": ser,
}, sys.stdout)
"#;

struct RefJob<'a> {
    /// `sha256`, `blake2` or `blake3` (the reference's names).
    hash: &'a str,
    shard_size: Option<u64>,
    ignores: &'a [&'a str],
    symlinks: bool,
}

const DEFAULT_JOB: RefJob<'static> = RefJob {
    hash: "sha256",
    shard_size: None,
    ignores: &[],
    symlinks: false,
};

/// What the reference gives for `model`: `{root, resources, serialization}`,
/// with resources as `{name, algorithm, digest}` and ignore paths sorted.
/// The reference has no `.cache/huggingface` default: it is told instead.
fn reference(model: &Path, job: &RefJob<'_>) -> Value {
    let mut ignores = job.ignores.to_vec();
    ignores.push(".cache/huggingface");
    let input = json!({
        "model": model.to_str().expect("UTF-8 path"),
        "hash": job.hash,
        "shard_size": job.shard_size,
        "ignores": ignores,
        "git": true,
        "symlinks": job.symlinks,
    });
    let output = Command::new(reference_python())
        .arg("-c")
        .arg(REFERENCE_SCRIPT)
        .arg(input.to_string())
        .output()
        .expect("run the reference");
    assert!(
        output.status.success(),
        "the reference failed on {}: {}",
        model.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("reference output is JSON")
}

fn reference_digest(model: &Path, job: &RefJob<'_>) -> String {
    let root = reference(model, job)["root"]
        .as_str()
        .expect("root")
        .to_owned();
    format!("sha256:{root}\n")
}

// --------------------------------------------------------------- running

/// Runs the tool with stdout and stderr on pipes (not terminals); fails if
/// it takes more than a minute.
fn run_in(dir: Option<&Path>, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("NO_COLOR");
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    finish(cmd, args)
}

fn finish(mut cmd: Command, args: &[&str]) -> Run {
    let child = cmd.spawn().expect("start model-signing");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output: Output = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("wait for model-signing"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("model-signing {args:?} did not finish within a minute");
        }
    };
    Run {
        code: output
            .status
            .code()
            .expect("exit code (not killed by a signal)"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

fn run(args: &[&str]) -> Run {
    run_in(None, args)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn assert_ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
}

/// An error exit: `error:` first on stderr, nothing on stdout.
fn assert_error(r: &Run, code: i32, names: &str) {
    assert_eq!(r.code, code, "stderr: {}", r.stderr);
    assert!(r.stdout.is_empty(), "stdout: {}", r.stdout);
    assert!(r.stderr.starts_with("error: "), "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains(names),
        "stderr does not name {names}: {}",
        r.stderr
    );
}

fn json_of(r: &Run) -> Value {
    assert_ok(r);
    serde_json::from_str(&r.stdout).expect("--json prints JSON")
}

// ----------------------------------------------------------------- tests

#[test]
fn digest_matches_reference_for_tiny_model() {
    let model = tiny_model();
    let r = run(&["digest", s(&model)]);
    assert_ok(&r);
    assert_eq!(r.stdout, reference_digest(&model, &DEFAULT_JOB));
    assert!(r.stdout.starts_with("sha256:") && r.stdout.len() == 7 + 64 + 1);
}

#[test]
fn digest_of_single_file_matches_reference() {
    let file = tiny_model().join("config.json");
    let r = run(&["digest", s(&file)]);
    assert_ok(&r);
    assert_eq!(r.stdout, reference_digest(&file, &DEFAULT_JOB));
}

#[test]
fn json_has_version_digest_serialization_and_resources() {
    let model = tiny_model();
    let doc = json_of(&run(&["digest", s(&model), "--json"]));
    let want = reference(&model, &DEFAULT_JOB);
    assert_eq!(doc["version"], json!(1));
    assert_eq!(
        doc["digest"],
        json!(format!("sha256:{}", want["root"].as_str().expect("root")))
    );
    assert_eq!(doc["model_name"], json!("tiny-model"));
    assert_eq!(doc["resources"], want["resources"]);
    assert_eq!(doc["serialization"], want["serialization"]);
    assert_eq!(
        doc["serialization"],
        json!({
            "method": "files",
            "hash_type": "sha256",
            "allow_symlinks": false,
            "ignore_paths": DEFAULT_IGNORES,
        })
    );
    let names: Vec<&str> = doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "README.md",
            "config.json",
            "model.safetensors",
            "tokenizer/special_tokens_map.json",
            "tokenizer/tokenizer.json"
        ]
    );
}

#[test]
fn json_of_shards_and_blake2b_matches_reference() {
    let model = tiny_model();
    let doc = json_of(&run(&[
        "digest",
        s(&model),
        "--json",
        "--hash",
        "blake2b",
        "--shard-size",
        "10000",
    ]));
    let want = reference(
        &model,
        &RefJob {
            hash: "blake2",
            shard_size: Some(10000),
            ..DEFAULT_JOB
        },
    );
    assert_eq!(doc["resources"], want["resources"]);
    assert_eq!(doc["serialization"], want["serialization"]);
    assert_eq!(doc["serialization"]["shard_size"], json!(10000));
    assert_eq!(
        doc["digest"],
        json!(format!("sha256:{}", want["root"].as_str().expect("root")))
    );
}

#[test]
fn ignore_paths_are_relative_to_the_current_directory() {
    let model = tiny_model();
    let want = reference_digest(
        &model,
        &RefJob {
            ignores: &["tokenizer", "README.md"],
            ..DEFAULT_JOB
        },
    );
    assert_ne!(want, reference_digest(&model, &DEFAULT_JOB));

    // From inside the model.
    let r = run_in(
        Some(&model),
        &[
            "digest",
            ".",
            "--ignore-paths",
            "tokenizer",
            "--ignore-paths",
            "README.md",
        ],
    );
    assert_ok(&r);
    assert_eq!(r.stdout, want);

    // From its parent, with the underscore spelling of the reference.
    let parent = model.parent().expect("parent");
    let r = run_in(
        Some(parent),
        &[
            "digest",
            "tiny-model",
            "--ignore_paths",
            "tiny-model/tokenizer",
            "--ignore-paths",
            "./tiny-model/README.md",
        ],
    );
    assert_ok(&r);
    assert_eq!(r.stdout, want);

    // From elsewhere, with an absolute path; recorded relative to the model.
    let tmp = tempfile::tempdir().expect("tempdir");
    let abs = model.join("tokenizer");
    let doc = json_of(&run_in(
        Some(tmp.path()),
        &["digest", s(&model), "--json", "--ignore-paths", s(&abs)],
    ));
    let mut ignores: Vec<&str> = DEFAULT_IGNORES.to_vec();
    ignores.push("tokenizer");
    assert_eq!(doc["serialization"]["ignore_paths"], json!(ignores));
    let want = reference(
        &model,
        &RefJob {
            ignores: &["tokenizer"],
            ..DEFAULT_JOB
        },
    );
    assert_eq!(doc["resources"], want["resources"]);
}

#[test]
fn ignore_path_outside_the_model_exits_2() {
    let model = tiny_model();
    for outside in ["../outside", "/etc", ".", "..", "../tiny-model-other/x"] {
        let r = run_in(Some(&model), &["digest", ".", "--ignore-paths", outside]);
        assert_error(&r, 2, &format!("ignore path {outside} "));
    }
    // Relative to the current directory, not to the model: from the parent,
    // `tokenizer` names a path outside the model.
    let r = run_in(
        model.parent(),
        &["digest", "tiny-model", "--ignore-paths", "tokenizer"],
    );
    assert_error(&r, 2, "ignore path tokenizer ");
}

#[test]
fn zero_shard_size_exits_2() {
    let r = run(&["digest", s(&tiny_model()), "--shard-size", "0"]);
    assert_error(&r, 2, "shard size");
}

#[test]
fn usage_errors_exit_2() {
    let model = tiny_model();
    for args in [
        vec!["digest", s(&model), "--threads", "0"],
        vec!["digest", s(&model), "--hash", "md5"],
        vec!["digest", s(&model), "--shard-size", "-1"],
        vec!["digest"],
        vec!["digest", s(&model), "--no-such-flag"],
    ] {
        let r = run(&args);
        assert_error(&r, 2, "");
    }
}

#[test]
fn missing_model_exits_3() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("no-such-model");
    let r = run(&["digest", s(&missing)]);
    assert_error(&r, 3, s(&missing));
}

#[test]
fn symlink_refusal_exits_3() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("a"), "hello\n").expect("write");
    let link = model.join("l");
    symlink("a", &link).expect("symlink");
    let r = run(&["digest", s(&model)]);
    assert_error(&r, 3, s(&link));
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert!(r.stderr.contains("--allow-symlinks"), "{}", r.stderr);

    let want = reference_digest(
        &model,
        &RefJob {
            symlinks: true,
            ..DEFAULT_JOB
        },
    );
    for flag in ["--allow-symlinks", "--allow_symlinks"] {
        let r = run(&["digest", s(&model), flag]);
        assert_ok(&r);
        assert_eq!(r.stdout, want);
    }
}

#[test]
fn special_file_exits_3_without_blocking() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("a"), "hello\n").expect("write");
    let pipe = model.join("pipe");
    let made = Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let r = run(&["digest", s(&model)]);
    assert_error(&r, 3, s(&pipe));
    // Ignored, it is not even looked at.
    let r = run_in(Some(&model), &["digest", ".", "--ignore-paths", "pipe"]);
    assert_ok(&r);
}

/// `chmod 000` stops only processes to which permission bits apply. Root
/// bypasses them (CAP_DAC_OVERRIDE), so as root the tool is run without
/// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (dropped with `setpriv`).
#[test]
fn unreadable_file_exits_3() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("a"), "hello\n").expect("write");
    let secret = model.join("secret");
    fs::write(&secret, "secret").expect("write");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).expect("chmod");
    let args = ["digest", s(&model)];
    let r = if fs::File::open(&secret).is_err() {
        run(&args)
    } else if Command::new("setpriv").arg("--version").output().is_err() {
        skip_support::prerequisite_missing(
            "unreadable_file_exits_3",
            "permission bits are bypassed here and setpriv is not installed",
        );
        return;
    } else {
        let mut cmd = Command::new("setpriv");
        cmd.arg("--bounding-set=-dac_override,-dac_read_search")
            .arg(env!("CARGO_BIN_EXE_model-signing"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        finish(cmd, &args)
    };
    assert_error(&r, 3, s(&secret));
}

#[test]
fn blake3_with_shard_size_warns_and_hashes_files() {
    let model = tiny_model();
    let r = run(&[
        "digest",
        s(&model),
        "--hash",
        "blake3",
        "--shard-size",
        "1000",
    ]);
    assert_ok(&r);
    assert!(r.stderr.starts_with("warning: "), "{}", r.stderr);
    assert!(r.stderr.contains("--shard-size"), "{}", r.stderr);
    let files = run(&["digest", s(&model), "--hash", "blake3"]);
    assert_ok(&files);
    assert_eq!(r.stdout, files.stdout);
    // The reference does the same: shards with BLAKE3 fall back to files.
    let want = reference_digest(
        &model,
        &RefJob {
            hash: "blake3",
            shard_size: Some(1000),
            ..DEFAULT_JOB
        },
    );
    assert_eq!(r.stdout, want);
    let doc = json_of(&run(&[
        "digest",
        s(&model),
        "--json",
        "--hash",
        "blake3",
        "--shard-size",
        "1000",
    ]));
    assert_eq!(doc["serialization"]["method"], json!("files"));
    assert_eq!(doc["serialization"]["hash_type"], json!("blake3"));
    assert!(doc["serialization"].get("shard_size").is_none());
}

#[test]
fn one_thread_equals_default() {
    let model = tiny_model();
    for extra in [&[][..], &["--shard-size", "4096"][..]] {
        let mut args = vec!["digest", s(&model)];
        args.extend_from_slice(extra);
        let default = run(&args);
        assert_ok(&default);
        args.extend_from_slice(&["--threads", "1"]);
        let one = run(&args);
        assert_ok(&one);
        assert_eq!(one.stdout, default.stdout);
    }
}

#[test]
fn no_progress_on_a_non_terminal_stderr() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    let mut f = fs::File::create(model.join("weights.bin")).expect("create");
    let block: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
    for _ in 0..4 {
        f.write_all(&block).expect("write");
    }
    drop(f);
    for args in [
        vec!["digest", s(&model)],
        vec!["digest", s(&model), "--json"],
        vec![
            "digest",
            s(&model),
            "--shard-size",
            "65536",
            "--threads",
            "2",
        ],
    ] {
        let r = run(&args);
        assert_ok(&r);
        assert!(
            r.stderr.is_empty(),
            "{args:?} wrote to stderr: {:?}",
            r.stderr
        );
    }
}

/// Regression: `digest MODEL` counted a `model.sig` inside the model, so it
/// disagreed with the digest that very signature holds.
#[test]
fn digest_leaves_out_a_signature_inside_the_model_as_sign_does() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("weights.bin"), b"weights").expect("write");
    let key = workspace_root().join("examples/keys/demo-signing-key.pem");
    let bin = env!("CARGO_BIN_EXE_model-signing");
    let sign = Command::new(bin)
        .args(["sign", "key", "--json", "--private-key"])
        .arg(&key)
        .arg("--signature")
        .arg(model.join("model.sig"))
        .arg(&model)
        .output()
        .expect("sign runs");
    assert!(sign.status.success(), "{sign:?}");
    let signed: Value = serde_json::from_slice(&sign.stdout).expect("sign --json");
    for cwd in [tmp.path(), model.as_path()] {
        let digest = Command::new(bin)
            .arg("digest")
            .arg(&model)
            .current_dir(cwd)
            .output()
            .expect("digest runs");
        assert!(digest.status.success(), "{digest:?}");
        assert_eq!(
            String::from_utf8_lossy(&digest.stdout).trim(),
            signed["digest"].as_str().expect("digest"),
            "{digest:?}"
        );
        assert!(
            String::from_utf8_lossy(&digest.stderr).contains("leaving out"),
            "{digest:?}"
        );
    }
}

//! Two-way interoperability of the command line tool with the Python
//! reference (`model-signing` 1.1.1):
//!
//! - its command line signs (files, SHA-256: all it can do) with a key and
//!   with a certificate chain, ours verifies; ours signs, its command line
//!   verifies;
//! - for shards, BLAKE2b and BLAKE3, which its command line cannot verify,
//!   its Python API signs and verifies with the matching hashing
//!   configuration (one Python process per direction).
//!
//! Signatures are written inside the model, where both tools must leave
//! them out, and an ignore path is used on both sides.

use testkit as support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use model_signing::keys::KeyAlgorithm;
use serde_json::{json, Value};
use support::{public, reference, Pki};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn ours(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_model-signing"))
        .args(args)
        .current_dir(cwd)
        .env_remove("MODEL_SIGNING_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("model-signing runs");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ours_ok(cwd: &Path, args: &[&str]) -> Run {
    let r = ours(cwd, args);
    assert_eq!(r.code, 0, "{args:?}\n{}{}", r.stdout, r.stderr);
    r
}

fn s(p: &Path) -> &str {
    support::path_str(p)
}

/// A model with nested and non-ASCII names and a file to ignore; a key
/// pair on `curve`; a chain whose leaf is on `curve`.
struct Setup {
    tmp: tempfile::TempDir,
    model: PathBuf,
    key: PathBuf,
    public: PathBuf,
    pki: Pki,
    files: support::certs::PkiFiles,
}

fn setup(curve: KeyAlgorithm) -> Setup {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = support::rich_model(tmp.path());
    support::write_files(&model, &[("scratch/notes.txt", b"not part of the model\n")]);
    let key = support::key(curve);
    let key_path = tmp.path().join("key.pem");
    let public_path = tmp.path().join("key.pub");
    std::fs::write(&key_path, key.to_pkcs8_pem().as_bytes()).expect("write");
    std::fs::write(&public_path, public(&key).to_pem()).expect("write");
    let pki = Pki::new(curve);
    let files = pki.write(&tmp.path().join("pki"));
    Setup {
        tmp,
        model,
        key: key_path,
        public: public_path,
        pki,
        files,
    }
}

#[test]
fn reference_cli_signs_our_cli_verifies() {
    let t = setup(KeyAlgorithm::EcdsaP384Sha384);
    let dir = t.tmp.path();
    let scratch = t.model.join("scratch");
    // Key: the signature inside the model, found and left out by ours.
    reference::run_cli_ok(
        dir,
        &[
            "sign",
            "key",
            s(&t.model),
            "--private_key",
            s(&t.key),
            "--signature",
            s(&t.model.join("model.sig")),
            "--ignore-paths",
            s(&scratch),
        ],
    );
    std::fs::write(scratch.join("notes.txt"), b"changed after signing").expect("write");
    let r = ours_ok(
        dir,
        &["verify", "key", s(&t.model), "--public-key", s(&t.public)],
    );
    assert!(r.stdout.contains("PKIX_ECDSA_P384_SHA_384"), "{}", r.stdout);

    // Certificate chain: root -> intermediate -> leaf (P-384).
    let sig = dir.join("cert.sig");
    reference::run_cli_ok(
        dir,
        &[
            "sign",
            "certificate",
            s(&t.model),
            "--private_key",
            s(&t.files.key),
            "--signing_certificate",
            s(&t.files.leaf),
            "--certificate_chain",
            s(&t.files.chain),
            "--signature",
            s(&sig),
            "--ignore-paths",
            s(&scratch),
            "--ignore-paths",
            s(&t.model.join("model.sig")),
        ],
    );
    let r = ours_ok(
        dir,
        &[
            "verify",
            "certificate",
            s(&t.model),
            "--signature",
            s(&sig),
            "--certificate-chain",
            s(&t.files.root),
            "--log-fingerprints",
        ],
    );
    assert!(
        r.stderr.contains(&t.pki.leaf.fingerprint_sha256()),
        "{}",
        r.stderr
    );

    // A signed file changed: ours reports it.
    std::fs::write(t.model.join("ünïcode/日本語.txt"), b"changed").expect("write");
    let r = ours(
        dir,
        &[
            "verify",
            "certificate",
            s(&t.model),
            "--signature",
            s(&sig),
            "--certificate-chain",
            s(&t.files.root),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("ünïcode/日本語.txt"), "{}", r.stderr);
}

#[test]
fn our_cli_signs_reference_cli_verifies() {
    let t = setup(KeyAlgorithm::EcdsaP521Sha512);
    let dir = t.tmp.path();
    let scratch = t.model.join("scratch");
    let inside = t.model.join("model.sig");
    ours_ok(
        dir,
        &[
            "sign",
            "key",
            s(&t.model),
            "--private-key",
            s(&t.key),
            "--signature",
            s(&inside),
            "--ignore-paths",
            s(&scratch),
        ],
    );
    let cert_sig = dir.join("cert.sig");
    ours_ok(
        dir,
        &[
            "sign",
            "certificate",
            s(&t.model),
            "--private-key",
            s(&t.files.key),
            "--signing-certificate",
            s(&t.files.leaf),
            "--certificate-chain",
            s(&t.files.chain),
            "--signature",
            s(&cert_sig),
            "--ignore-paths",
            s(&scratch),
        ],
    );
    std::fs::write(scratch.join("notes.txt"), b"changed after signing").expect("write");
    // The ignore paths come from the signature; the reference is not told.
    let out = reference::run_cli_ok(
        dir,
        &[
            "verify",
            "key",
            s(&t.model),
            "--signature",
            s(&inside),
            "--public_key",
            s(&t.public),
        ],
    );
    assert!(out.contains("Verification succeeded"), "{out}");
    let out = reference::run_cli_ok(
        dir,
        &[
            "verify",
            "certificate",
            s(&t.model),
            "--signature",
            s(&cert_sig),
            "--certificate_chain",
            s(&t.files.root),
        ],
    );
    assert!(out.contains("Verification succeeded"), "{out}");
    // (That the reference rejects a changed model is checked through its API
    // in the library's interop tests, without another slow CLI start.)
}

/// Hashing flags of ours and the matching reference job parameters.
const CONFIGS: [(&str, &[&str], &str, Option<u64>); 5] = [
    ("shards-sha256", &["--shard-size", "7"], "sha256", Some(7)),
    ("files-blake2b", &["--hash", "blake2b"], "blake2b", None),
    (
        "shards-blake2b",
        &["--hash", "blake2b", "--shard-size", "5"],
        "blake2b",
        Some(5),
    ),
    ("files-blake3", &["--hash", "blake3"], "blake3", None),
    // Both tools hash BLAKE3 per file even when asked for shards.
    (
        "shards-blake3",
        &["--hash", "blake3", "--shard-size", "16"],
        "blake3",
        Some(16),
    ),
];

fn job(
    name: &str,
    op: &str,
    model: &Path,
    sig: &Path,
    t: &Setup,
    hash: &str,
    shards: Option<u64>,
) -> Value {
    json!({
        "name": name, "op": op, "method": "key",
        "model": s(model), "signature": s(sig),
        "private_key": s(&t.key), "public_key": s(&t.public),
        "hash": hash, "shard_size": shards, "ignore": ["scratch"], "symlinks": false,
    })
}

#[test]
fn shards_and_blake_through_the_reference_api() {
    let t = setup(KeyAlgorithm::EcdsaP256Sha256);
    let dir = t.tmp.path();
    let scratch = t.model.join("scratch");
    // Ours signs; the reference API verifies.
    let mut jobs = Vec::new();
    for (name, flags, hash, shards) in CONFIGS {
        let sig = dir.join(format!("ours-{name}.sig"));
        let mut args = vec![
            "sign",
            "key",
            s(&t.model),
            "--private-key",
            s(&t.key),
            "--signature",
            s(&sig),
        ];
        args.extend_from_slice(&["--ignore-paths", s(&scratch)]);
        args.extend_from_slice(flags);
        ours_ok(dir, &args);
        jobs.push(job(name, "verify", &t.model, &sig, &t, hash, shards));
        // Its single-file form as well.
        let single = t.model.join("weights/layer-0.bin");
        let sig = dir.join(format!("ours-single-{name}.sig"));
        let mut args = vec![
            "sign",
            "key",
            s(&single),
            "--private-key",
            s(&t.key),
            "--signature",
            s(&sig),
        ];
        args.extend_from_slice(flags);
        ours_ok(dir, &args);
        jobs.push(job(
            &format!("single {name}"),
            "verify",
            &single,
            &sig,
            &t,
            hash,
            shards,
        ));
    }
    // The reference API signs; ours verifies, reading the hashing from the signature.
    for (name, _, hash, shards) in CONFIGS {
        let sig = dir.join(format!("reference-{name}.sig"));
        jobs.push(job(
            &format!("sign {name}"),
            "sign",
            &t.model,
            &sig,
            &t,
            hash,
            shards,
        ));
    }
    let results = reference::run_api(dir, &Value::Array(jobs));
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, v)| *v != "ok")
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(results.len(), 3 * CONFIGS.len());

    std::fs::write(scratch.join("notes.txt"), b"changed after signing").expect("write");
    for (name, _, hash, shards) in CONFIGS {
        let sig = dir.join(format!("reference-{name}.sig"));
        let r = ours_ok(
            dir,
            &[
                "verify",
                "key",
                s(&t.model),
                "--signature",
                s(&sig),
                "--public-key",
                s(&t.public),
            ],
        );
        let expect_shards = shards.is_some() && hash != "blake3";
        let resources: usize = r
            .stdout
            .split('(')
            .nth(1)
            .and_then(|x| x.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("resource count");
        // The rich model has 9 non-empty files; shards make more resources.
        assert_eq!(resources > 10, expect_shards, "{name}: {}", r.stdout);
    }
}

//! The command line's bounds on what it reads, as a user meets them: a
//! signature over `MAX_BUNDLE_BYTES`, key, certificate and password files over
//! `MAX_KEY_FILE_BYTES` (devices included, which report no size), and a shard
//! size so small that the shard count goes over `MAX_RESOURCES`. Sparse files
//! stand in for big ones: they cost no disk, and each refusal comes before
//! they are read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use model_signing::bundle::MAX_BUNDLE_BYTES;
use model_signing::hashing::MAX_RESOURCES;
use model_signing::keys::{EcPrivateKey, KeyAlgorithm};

/// `MAX_KEY_FILE_BYTES` of `commands/keyload.rs`.
const MAX_KEY_FILE_BYTES: u64 = 16 << 20;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_model-signing"))
        .args(args)
        .env_remove("MODEL_SIGNING_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("model-signing runs")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_refused(out: &Output, code: i32, contains: &[&str]) {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for c in contains {
        assert!(stderr.contains(c), "no {c:?} in\n{}", text(out));
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path)
        .expect("create")
        .set_len(len)
        .expect("set_len");
}

/// A model, a key pair and a signature of the model.
struct Signed {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    model: PathBuf,
    public: PathBuf,
    signature: PathBuf,
}

impl Signed {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_owned();
        let model = dir.join("model");
        std::fs::create_dir(&model).expect("mkdir");
        std::fs::write(model.join("weights.bin"), b"weights\n").expect("write");
        let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
        let private = dir.join("key.pem");
        let public = dir.join("key.pub");
        std::fs::write(&private, key.to_pkcs8_pem().as_bytes()).expect("write");
        std::fs::write(&public, key.public_key().to_pem()).expect("write");
        let signature = dir.join("model.sig");
        let out = run(&[
            "sign",
            "key",
            s(&model),
            "--private-key",
            s(&private),
            "--signature",
            s(&signature),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        Signed {
            _tmp: tmp,
            dir,
            model,
            public,
            signature,
        }
    }

    fn verify_key(&self, public: &Path, signature: &Path) -> Output {
        run(&[
            "verify",
            "key",
            s(&self.model),
            "--public-key",
            s(public),
            "--signature",
            s(signature),
        ])
    }
}

#[test]
fn a_signature_over_the_bundle_limit_is_refused_before_reading() {
    let t = Signed::new();
    let big = t.dir.join("big.sig");
    sparse(&big, MAX_BUNDLE_BYTES as u64 + 1);
    let limit = format!("more than the {MAX_BUNDLE_BYTES}-byte limit");
    let out = t.verify_key(&t.public, &big);
    let size = format!("{} bytes", MAX_BUNDLE_BYTES + 1);
    assert_refused(&out, 1, &[&limit, &size]);
    let out = run(&["inspect", s(&big)]);
    assert_refused(&out, 1, &[&limit]);
    let out = run(&["inspect", s(&big), "--json"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    // The signature itself verifies.
    let out = t.verify_key(&t.public, &t.signature);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn key_files_at_the_limit_are_read_one_byte_more_is_refused() {
    let t = Signed::new();
    let limit = format!("larger than {MAX_KEY_FILE_BYTES} bytes");

    // The public key followed by NUL bytes up to the limit (outside the PEM
    // block, so ignored; sparse, so free).
    let padded = t.dir.join("padded.pub");
    std::fs::copy(&t.public, &padded).expect("copy");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&padded)
        .expect("open")
        .set_len(MAX_KEY_FILE_BYTES)
        .expect("set_len");
    let out = t.verify_key(&padded, &t.signature);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let over = t.dir.join("over.pub");
    sparse(&over, MAX_KEY_FILE_BYTES + 1);
    assert_refused(
        &t.verify_key(&over, &t.signature),
        2,
        &[&limit, "public key"],
    );

    let sign_with = |key: &Path, extra: &[&str]| {
        let mut args = vec![
            "sign",
            "key",
            s(&t.model),
            "--private-key",
            s(key),
            "--signature",
            "/nonexistent/never-written.sig",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    assert_refused(&sign_with(&over, &[]), 2, &[&limit, "private key"]);
}

/// Devices report no size: the bound holds on the read itself.
#[test]
fn devices_given_as_key_files_are_read_up_to_the_limit() {
    let t = Signed::new();
    let limit = format!("larger than {MAX_KEY_FILE_BYTES} bytes");
    let zero = Path::new("/dev/zero");
    assert_refused(&t.verify_key(zero, &t.signature), 2, &[&limit]);

    let encrypted = t.dir.join("encrypted.pem");
    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    std::fs::write(
        &encrypted,
        key.to_encrypted_pkcs8_pem_with_iterations(b"pw", 2048)
            .expect("encrypt")
            .as_bytes(),
    )
    .expect("write");
    let out = run(&[
        "sign",
        "key",
        s(&t.model),
        "--private-key",
        s(&encrypted),
        "--password-file",
        "/dev/zero",
        "--signature",
        s(&t.dir.join("never.sig")),
    ]);
    assert_refused(&out, 2, &[&limit, "password file"]);

    let out = run(&[
        "verify",
        "certificate",
        s(&t.model),
        "--certificate-chain",
        "/dev/zero",
        "--signature",
        s(&t.signature),
    ]);
    assert_refused(&out, 2, &[&limit, "certificate file"]);
}

#[test]
fn a_tiny_shard_size_on_a_huge_sparse_file_is_refused_before_hashing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("model");
    std::fs::create_dir(&model).expect("mkdir");
    sparse(&model.join("huge.bin"), 1 << 40);
    let limit = format!("more than {MAX_RESOURCES} shards");
    let out = run(&["digest", s(&model), "--shard-size", "1"]);
    assert_refused(&out, 3, &[&limit, "use a larger shard size"]);

    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    let key_path = tmp.path().join("key.pem");
    std::fs::write(&key_path, key.to_pkcs8_pem().as_bytes()).expect("write");
    let signature = tmp.path().join("model.sig");
    let out = run(&[
        "sign",
        "key",
        s(&model),
        "--private-key",
        s(&key_path),
        "--shard-size",
        "1",
        "--signature",
        s(&signature),
    ]);
    assert_refused(&out, 3, &[&limit]);
    assert!(!signature.exists(), "a signature was written");
}

/// An identity token file is read up to 64 KiB (JWTs are a few kilobytes);
/// a device is read only that far.
#[test]
fn identity_token_files_at_the_limit_are_read_one_byte_more_is_refused() {
    const LIMIT: usize = 64 << 10;
    let t = Signed::new();
    let sign_with = |token_file: &Path| {
        run(&[
            "sign",
            "sigstore",
            s(&t.model),
            "--identity-token-file",
            s(token_file),
            "--signature",
            s(&t.dir.join("never.sig")),
        ])
    };
    let at = t.dir.join("at.jwt");
    std::fs::write(&at, "x".repeat(LIMIT)).expect("write");
    let out = sign_with(&at);
    assert_refused(&out, 2, &["invalid identity token"]);
    assert!(!text(&out).contains("larger than"), "{}", text(&out));

    let over = t.dir.join("over.jwt");
    std::fs::write(&over, "x".repeat(LIMIT + 1)).expect("write");
    let limit = format!("larger than {LIMIT} bytes");
    assert_refused(&sign_with(&over), 2, &[&limit]);
    assert_refused(&sign_with(Path::new("/dev/zero")), 2, &[&limit]);
}

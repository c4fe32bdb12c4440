//! `sign ... --incremental`: what is hashed and reused, reported in text and
//! JSON; the state record in the user's cache directory; signatures equal to
//! a full signing; verification that never trusts the record; concurrent
//! signers.
//!
//! Files are reused only once they are older than the racy margin (2 s), so
//! each test waits that long once after writing its model.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use model_signing::keys::KeyAlgorithm;
use serde_json::Value;
use sha2::{Digest, Sha256};
use testkit::Run;

/// A model (`a.bin`, `b.bin`, `sub/c.txt`), a P-256 key and a private HOME,
/// with the model's files older than the racy margin.
struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        testkit::small_model(tmp.path());
        let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
        fs::write(tmp.path().join("key.pem"), key.to_pkcs8_pem().as_bytes()).expect("key");
        fs::write(tmp.path().join("key.pub"), testkit::public(&key).to_pem()).expect("key");
        fs::create_dir(tmp.path().join("home")).expect("home");
        std::thread::sleep(
            model_signing::hashing::DEFAULT_RACY_MARGIN + Duration::from_millis(200),
        );
        Fixture { tmp }
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
        cmd.args(args)
            .current_dir(self.dir())
            .env("HOME", self.dir().join("home"))
            .env_remove("XDG_CACHE_HOME")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("model-signing runs"))
    }

    /// Signs incrementally into `sig` and returns `--json`'s `incremental`.
    fn sign(&self, sig: &str) -> Value {
        let run = self
            .run(&[
                "sign",
                "key",
                "model",
                "--private-key",
                "key.pem",
                "--signature",
                sig,
                "--incremental",
                "--json",
            ])
            .ok("sign --incremental");
        let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
        doc["incremental"].clone()
    }

    fn verify(&self, sig: &str) -> Run {
        self.run(&[
            "verify",
            "key",
            "model",
            "--public-key",
            "key.pub",
            "--signature",
            sig,
        ])
    }

    fn records(&self) -> Vec<PathBuf> {
        let dir = self.dir().join("home/.cache/model-signing/incremental");
        fs::read_dir(dir)
            .map(|items| items.map(|e| e.expect("entry").path()).collect())
            .unwrap_or_default()
    }
}

fn counts(report: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| report[k].as_u64().expect(k);
    (
        n("files_hashed"),
        n("bytes_hashed"),
        n("files_reused"),
        n("bytes_reused"),
    )
}

/// The statement a signature carries.
fn payload(sig: &Path) -> Value {
    let bytes = fs::read(sig).expect("read signature");
    let bundle = model_signing::bundle::Bundle::from_json(&bytes).expect("bundle");
    testkit::statement(&bundle)
}

#[test]
fn the_second_signing_reuses_every_digest_and_an_edit_rehashes_one_file() {
    let f = Fixture::new();
    let first = f.sign("one.sig");
    assert_eq!(counts(&first), (3, 40, 0, 0));
    let notes = first["notes"].to_string();
    assert!(notes.contains("no state record"), "{first}");
    let records = f.records();
    assert_eq!(records.len(), 1);
    assert_eq!(first["record"], records[0].display().to_string());
    let mode = fs::metadata(&records[0])
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o600);

    let second = f.sign("two.sig");
    assert_eq!(counts(&second), (0, 0, 3, 40));
    assert_eq!(second["notes"], serde_json::json!([]));
    assert_eq!(
        payload(&f.dir().join("one.sig")),
        payload(&f.dir().join("two.sig"))
    );

    fs::write(f.dir().join("model/sub/c.txt"), b"edited third file\n").expect("edit");
    let third = f.sign("three.sig");
    assert_eq!(counts(&third), (1, 18, 2, 29));
    f.verify("three.sig")
        .ok("verify after an incremental signing");
    // The signature is the one a full signing makes.
    f.run(&[
        "sign",
        "key",
        "model",
        "--private-key",
        "key.pem",
        "--signature",
        "full.sig",
    ])
    .ok("full signing");
    assert_eq!(
        payload(&f.dir().join("three.sig")),
        payload(&f.dir().join("full.sig"))
    );
    // The old signatures no longer match.
    assert_eq!(f.verify("two.sig").code, 1);
}

#[test]
fn text_output_says_what_was_hashed_and_reused() {
    let f = Fixture::new();
    let args = [
        "sign",
        "key",
        "model",
        "--private-key",
        "key.pem",
        "--incremental",
    ];
    let first = f.run(&args).ok("first");
    assert!(
        first
            .stderr
            .contains("incremental: no state record for this model path"),
        "{first:?}"
    );
    assert!(
        first.stderr.contains(
            "incremental: hashed 3 files (40 bytes), reused the digests of 0 files (0 bytes)"
        ),
        "{first:?}"
    );
    let second = f.run(&args).ok("second");
    assert!(
        second.stderr.contains(
            "incremental: hashed 0 files (0 bytes), reused the digests of 3 files (40 bytes)"
        ),
        "{second:?}"
    );
    // Without the flag, no record is read and nothing is said about it.
    let plain = f
        .run(&["sign", "key", "model", "--private-key", "key.pem", "--json"])
        .ok("plain");
    assert!(!plain.stderr.contains("incremental"), "{plain:?}");
    let doc: Value = serde_json::from_str(&plain.stdout).expect("JSON");
    assert_eq!(doc["incremental"], Value::Null);
}

#[test]
fn certificate_signing_is_incremental_too() {
    let f = Fixture::new();
    testkit::Pki::new(KeyAlgorithm::EcdsaP256Sha256).write(f.dir());
    let args = [
        "sign",
        "certificate",
        "model",
        "--private-key",
        "leaf-key.pem",
        "--signing-certificate",
        "leaf.pem",
        "--certificate-chain",
        "intermediate.pem",
        "--incremental",
        "--json",
    ];
    f.run(&args).ok("first");
    let second: Value = serde_json::from_str(&f.run(&args).ok("second").stdout).expect("JSON");
    assert_eq!(counts(&second["incremental"]), (0, 0, 3, 40));
    f.run(&[
        "verify",
        "certificate",
        "model",
        "--certificate-chain",
        "root.pem",
        "--certificate-chain",
        "intermediate.pem",
    ])
    .ok("verify");
}

#[test]
fn without_a_cache_directory_every_file_is_hashed() {
    let f = Fixture::new();
    for _ in 0..2 {
        let out = f
            .command(&[
                "sign",
                "key",
                "model",
                "--private-key",
                "key.pem",
                "--incremental",
                "--json",
            ])
            .env_remove("HOME")
            .output()
            .expect("runs");
        let run = Run::from(out).ok("sign without HOME");
        let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(counts(&doc["incremental"]), (3, 40, 0, 0));
        assert_eq!(doc["incremental"]["record"], Value::Null);
        assert!(run.stderr.contains("no cache directory"), "{run:?}");
    }
    assert!(f.records().is_empty());
}

#[test]
fn xdg_cache_home_decides_where_the_record_lives() {
    let f = Fixture::new();
    let cache = f.dir().join("xdg");
    let out = f
        .command(&[
            "sign",
            "key",
            "model",
            "--private-key",
            "key.pem",
            "--incremental",
            "--json",
        ])
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .expect("runs");
    let doc: Value = serde_json::from_str(&Run::from(out).ok("sign").stdout).expect("JSON");
    let record = PathBuf::from(doc["incremental"]["record"].as_str().expect("record"));
    assert!(record.starts_with(cache.join("model-signing/incremental")));
    assert!(record.is_file());
}

/// Rewrites the record's digest of `name` with `digest` (hex), with a valid
/// checksum: what a user who can write the record can do, and as much as
/// such a user could do to the model itself.
fn plant_digest(record: &Path, name: &str, digest: &str) {
    let text = fs::read_to_string(record).expect("read record");
    let (_, body) = text.split_once('\n').expect("header line");
    let mut body: Value = serde_json::from_str(body).expect("record JSON");
    let files = body["files"].as_array_mut().expect("files");
    let file = files
        .iter_mut()
        .find(|f| f[0] == name)
        .expect("file in record");
    file[8] = Value::String(digest.to_owned());
    let body = serde_json::to_string(&body).expect("JSON");
    let sum = hex::encode(Sha256::digest(body.as_bytes()));
    fs::write(
        record,
        format!("model-signing incremental state 1 sha256:{sum}\n{body}"),
    )
    .expect("write record");
}

#[test]
fn verification_never_uses_the_record() {
    let f = Fixture::new();
    f.sign("model.sig");
    let record = f.records().remove(0);
    plant_digest(&record, "a.bin", &"00".repeat(32));
    // Signing trusts the user's own record (docs/security.md) ...
    let report = f.sign("planted.sig");
    assert_eq!(report["files_reused"], 3);
    // ... and verification hashes the model: the planted digest is caught.
    let run = f.verify("planted.sig");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.all().contains("a.bin"), "{run:?}");
    f.verify("model.sig").ok("the honest signature");
}

#[test]
fn a_damaged_record_means_a_full_hash_not_an_error() {
    let f = Fixture::new();
    f.sign("model.sig");
    let record = f.records().remove(0);
    let mut bytes = fs::read(&record).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x04;
    fs::write(&record, bytes).expect("write");
    let report = f.sign("again.sig");
    assert_eq!(counts(&report), (3, 40, 0, 0));
    assert!(
        report["notes"].to_string().contains("checksum mismatch"),
        "{report}"
    );
    f.verify("again.sig").ok("verify");
    // The record was rewritten whole.
    assert_eq!(f.sign("third.sig")["files_reused"], 3);
}

#[test]
fn concurrent_signers_never_corrupt_the_record() {
    let f = Fixture::new();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let sig = format!("sig-{i}.sig");
            f.command(&[
                "sign",
                "key",
                "model",
                "--private-key",
                "key.pem",
                "--signature",
                &sig,
                "--incremental",
                "--json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
        })
        .collect();
    for child in children {
        Run::from(child.wait_with_output().expect("wait")).ok("concurrent signer");
    }
    for i in 0..6 {
        f.verify(&format!("sig-{i}.sig")).ok("verify");
    }
    let after = f.sign("after.sig");
    assert_eq!(counts(&after), (0, 0, 3, 40));
    assert_eq!(after["notes"], serde_json::json!([]));
    assert_eq!(f.records().len(), 1, "no temporary record is left");
}

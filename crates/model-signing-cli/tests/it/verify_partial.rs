//! `verify ... --files PATH...` and `--files-from FILE`: the signature and
//! the signer in full, then only the named files. The output says plainly
//! what was not checked; names the signature does not list, paths outside
//! the model and bad lists fail with the exit code of their kind (1
//! verification failed, 2 usage).

use testkit as support;
use testkit::Run;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use model_signing::keys::KeyAlgorithm;
use serde_json::Value;
use support::public;

/// A small model (a.bin, b.bin, sub/c.txt) signed with a P-256 key;
/// `model.sig` beside it.
struct Fixture {
    tmp: tempfile::TempDir,
    model: PathBuf,
}

impl Fixture {
    fn new(extra_sign_args: &[&str]) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let model = support::small_model(tmp.path());
        let key = support::key(KeyAlgorithm::EcdsaP256Sha256);
        std::fs::write(tmp.path().join("key.pem"), key.to_pkcs8_pem().as_bytes()).expect("key");
        std::fs::write(tmp.path().join("key.pub"), public(&key).to_pem()).expect("key");
        let f = Fixture { tmp, model };
        let mut args = vec!["sign", "key", "model", "--private-key", "key.pem"];
        args.extend_from_slice(extra_sign_args);
        let signed = f.run(&args);
        assert_eq!(signed.code, 0, "{signed:?}");
        f
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_model-signing"))
            .args(args)
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .output()
            .expect("model-signing runs");
        Run::from(out)
    }

    fn verify(&self, extra: &[&str]) -> Run {
        let mut args = vec![
            "verify",
            "key",
            "model",
            "--public-key",
            "key.pub",
            "--signature",
            "model.sig",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

#[test]
fn the_named_files_verify_and_the_output_says_what_was_not_checked() {
    let f = Fixture::new(&[]);
    std::fs::write(f.model.join("b.bin"), b"tampered").expect("tamper");
    std::fs::write(f.model.join("unsigned.txt"), b"x").expect("extra");
    let run = f.verify(&["--files", "a.bin", "sub/c.txt"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "Partial verification succeeded: 2 files of model match model.sig (2 resources)"
        ),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("NOT checked: the other 1 resource the signature lists"),
        "{run:?}"
    );
    // The full verification of the same model fails.
    assert_eq!(f.verify(&[]).code, 1);
}

#[test]
fn json_says_partial_and_lists_the_files() {
    let f = Fixture::new(&["--shard-size", "8"]);
    let run = f.verify(&["--files", "a.bin", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = json(&run);
    assert_eq!(doc["verified"], true);
    assert_eq!(doc["partial"], true);
    assert_eq!(doc["files_checked"], serde_json::json!(["a.bin"]));
    assert_eq!(doc["resources"], 3, "20 bytes in 8-byte shards");
    assert_eq!(doc["resources_not_checked"], 2 + 2);
    let full = json(&f.verify(&["--json"]));
    assert_eq!(full["partial"], false);
    assert!(full.get("files_checked").is_none(), "{full}");
}

#[test]
fn a_changed_named_file_fails_with_its_report() {
    let f = Fixture::new(&[]);
    std::fs::write(f.model.join("sub/c.txt"), b"changed\n").expect("tamper");
    let run = f.verify(&["--files", "sub/c.txt", "a.bin"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("1 changed, 0 missing, 0 unexpected"),
        "{run:?}"
    );
    assert!(run.stderr.contains("sub/c.txt"), "{run:?}");
    let doc = json(&f.verify(&["--files", "sub/c.txt", "--json"]));
    assert_eq!(doc["verified"], false);
    assert_eq!(doc["partial"], true);
    assert_eq!(doc["differences"]["changed"][0]["path"], "sub/c.txt");
}

#[test]
fn a_removed_named_file_is_missing() {
    let f = Fixture::new(&[]);
    std::fs::remove_file(f.model.join("a.bin")).expect("remove");
    let run = f.verify(&["--files", "a.bin"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("0 changed, 1 missing"), "{run:?}");
}

#[test]
fn names_the_signature_does_not_list_fail() {
    let f = Fixture::new(&[]);
    std::fs::write(f.model.join("unsigned.txt"), b"x").expect("extra");
    for names in [&["unsigned.txt"][..], &["a.bin", "nope.bin"], &["sub"]] {
        let mut args = vec!["--files"];
        args.extend_from_slice(names);
        let run = f.verify(&args);
        assert_eq!(run.code, 1, "{names:?}: {run:?}");
        assert!(
            run.stderr.contains("not listed in the signature"),
            "{run:?}"
        );
        assert!(!run.stdout.contains("succeeded"), "{run:?}");
    }
    let doc = json(&f.verify(&["--files", "unsigned.txt", "--json"]));
    assert_eq!(doc["verified"], false);
    assert_eq!(doc["partial"], true);
    assert_eq!(doc["error"]["kind"], "verification_failed", "{doc}");
}

#[test]
fn paths_outside_the_model_are_usage_errors() {
    let f = Fixture::new(&[]);
    let outside = f.dir().join("key.pub");
    for bad in [
        "../key.pub",
        "/etc/passwd",
        outside.to_str().expect("utf-8"),
        "a.bin/../../x",
    ] {
        let run = f.verify(&["--files", bad]);
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(
            run.stderr
                .contains("does not name a file inside the model directory"),
            "{run:?}"
        );
    }
    // An absolute path inside the model names its file.
    let inside = f.model.join("a.bin");
    let run = f.verify(&["--files", inside.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn files_from_reads_one_path_per_line() {
    let f = Fixture::new(&[]);
    std::fs::write(f.dir().join("list"), "a.bin\r\n\n  \nsub/c.txt\n").expect("list");
    let run = f.verify(&["--files-from", "list", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        json(&run)["files_checked"],
        serde_json::json!(["a.bin", "sub/c.txt"])
    );
    // With --files too: both lists count.
    let run = f.verify(&["--files-from", "list", "--files", "b.bin", "--json"]);
    assert_eq!(json(&run)["resources_not_checked"], 0, "{run:?}");
}

#[test]
fn bad_files_from_lists_fail() {
    let f = Fixture::new(&[]);
    std::fs::write(f.dir().join("empty"), "\n\n").expect("list");
    let run = f.verify(&["--files-from", "empty"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("names no file"), "{run:?}");
    let run = f.verify(&["--files-from", "no-such-list"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("no-such-list"), "{run:?}");
    let big = std::fs::File::create(f.dir().join("big")).expect("create");
    big.set_len((16 << 20) + 1).expect("grow");
    let run = f.verify(&["--files-from", "big"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("larger than 16 MiB"), "{run:?}");
}

#[test]
fn files_and_ignore_unsigned_files_do_not_mix() {
    let f = Fixture::new(&[]);
    let run = f.verify(&["--files", "a.bin", "--ignore-unsigned-files"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn a_single_file_model_has_no_partial_verification() {
    let f = Fixture::new(&[]);
    let run = f.run(&[
        "sign",
        "key",
        "model/a.bin",
        "--private-key",
        "key.pem",
        "--signature",
        "a.sig",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = f.run(&[
        "verify",
        "key",
        "model/a.bin",
        "--public-key",
        "key.pub",
        "--signature",
        "a.sig",
        "--files",
        "a.bin",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("single file"), "{run:?}");
}

#[test]
fn a_wrong_key_fails_before_the_files_are_looked_at() {
    let f = Fixture::new(&[]);
    let other = support::key(KeyAlgorithm::EcdsaP256Sha256);
    std::fs::write(f.dir().join("other.pub"), public(&other).to_pem()).expect("key");
    let run = f.run(&[
        "verify",
        "key",
        "model",
        "--public-key",
        "other.pub",
        "--signature",
        "model.sig",
        "--files",
        "a.bin",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!run.stdout.contains("succeeded"), "{run:?}");
}

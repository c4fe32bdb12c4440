//! Partial verification (`check_files`): the signature and the signer are
//! verified in full, then only the named files are hashed and compared.
//! A name the signature does not list fails before anything is read; every
//! difference in a named file is reported; the other files are not looked
//! at, whatever they hold.

use testkit as support;

use std::fs;
use std::os::unix::fs::symlink;

use model_signing::hashing::{HashConfig, NoProgress, RelPath};
use model_signing::keys::KeyAlgorithm;
use model_signing::verify::{
    verify_bundle, DiffReport, KeyVerifier, ModelCheckOptions, PartiallyVerifiedModel, VerifyError,
};
use model_signing::ErrorKind;
use support::{key, public, sign_with_key, signed_model, write_files, SignedModel};

/// A tensor-parallel-like checkpoint: two rank files, a config, an index
/// in a folder; signed with `config`.
fn signed(config: &HashConfig) -> SignedModel {
    signed_model(
        &[
            ("rank-0.safetensors", &[0u8; 3000]),
            ("rank-1.safetensors", &[1u8; 3000]),
            ("config.json", b"{\"tp\": 2}\n"),
            ("meta/index.json", b"{}\n"),
        ],
        config,
    )
}

/// A partial check of a signed model.
trait Check {
    fn check(&self, files: &[&str]) -> Result<PartiallyVerifiedModel, VerifyError>;
}

impl Check for SignedModel {
    fn check(&self, files: &[&str]) -> Result<PartiallyVerifiedModel, VerifyError> {
        let files: Vec<RelPath> = files
            .iter()
            .map(|f| RelPath::parse(f).expect("a relative path"))
            .collect();
        verify_bundle(&self.bundle, &KeyVerifier::new(public(&self.key).clone()))?.check_files(
            &self.model,
            &files,
            &ModelCheckOptions::default(),
            &NoProgress,
        )
    }
}

fn mismatch(result: Result<PartiallyVerifiedModel, VerifyError>) -> DiffReport {
    match result {
        Err(VerifyError::ModelMismatch(report)) => *report,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

fn shards() -> HashConfig {
    HashConfig::new().shards(1000).expect("shard size")
}

#[test]
fn the_named_files_are_checked_and_nothing_else_is_looked_at() {
    let s = signed(&HashConfig::new());
    // Everything else is wrong: another rank changed, the index gone, an
    // unsigned file and an unreadable FIFO added.
    write_files(
        &s.model,
        &[("rank-1.safetensors", b"tampered"), ("extra.bin", b"x")],
    );
    fs::remove_file(s.model.join("meta/index.json")).expect("remove");
    nix_fifo(&s.model.join("pipe"));
    let ok = s
        .check(&["rank-0.safetensors", "config.json"])
        .expect("the named files match");
    assert_eq!(ok.files_checked, ["config.json", "rank-0.safetensors"]);
    assert_eq!(ok.resources_checked, 2);
    assert_eq!(ok.resources_not_checked, 2);
}

#[test]
fn every_shard_of_a_named_file_is_checked() {
    let s = signed(&shards());
    let ok = s.check(&["rank-1.safetensors"]).expect("matches");
    assert_eq!(ok.files_checked, ["rank-1.safetensors"]);
    assert_eq!(ok.resources_checked, 3, "3000 bytes in 1000-byte shards");
    assert_eq!(ok.resources_not_checked, 3 + 1 + 1);
}

#[test]
fn a_changed_named_file_fails_and_is_the_only_one_reported() {
    let s = signed(&HashConfig::new());
    write_files(
        &s.model,
        &[("rank-0.safetensors", b"evil"), ("config.json", b"{}")],
    );
    let report = mismatch(s.check(&["rank-0.safetensors"]));
    let changed: Vec<&str> = report.changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(changed, ["rank-0.safetensors"]);
    assert!(
        report.missing.is_empty() && report.unexpected.is_empty(),
        "{report:?}"
    );
}

#[test]
fn a_flipped_byte_in_the_last_shard_is_found() {
    let s = signed(&shards());
    let path = s.model.join("rank-1.safetensors");
    let mut bytes = fs::read(&path).expect("read");
    bytes[2999] ^= 1;
    fs::write(&path, bytes).expect("write");
    let report = mismatch(s.check(&["rank-1.safetensors"]));
    let changed: Vec<&str> = report.changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(changed, ["rank-1.safetensors:2000:3000"]);
}

#[test]
fn a_truncated_or_grown_named_file_fails() {
    let s = signed(&shards());
    let path = s.model.join("rank-0.safetensors");
    fs::write(&path, [0u8; 1500]).expect("truncate");
    let report = mismatch(s.check(&["rank-0.safetensors"]));
    assert_eq!(
        report.missing,
        [
            "rank-0.safetensors:1000:2000",
            "rank-0.safetensors:2000:3000"
        ]
    );
    assert_eq!(report.unexpected, ["rank-0.safetensors:1000:1500"]);
    fs::write(&path, [0u8; 3001]).expect("grow");
    let report = mismatch(s.check(&["rank-0.safetensors"]));
    assert_eq!(report.unexpected, ["rank-0.safetensors:3000:3001"]);
}

#[test]
fn a_missing_named_file_fails() {
    let s = signed(&HashConfig::new());
    fs::remove_file(s.model.join("meta/index.json")).expect("remove");
    let report = mismatch(s.check(&["meta/index.json", "config.json"]));
    assert_eq!(report.missing, ["meta/index.json"]);
}

#[test]
fn names_the_signature_does_not_list_fail_before_anything_is_read() {
    let s = signed(&HashConfig::new());
    write_files(&s.model, &[("extra.bin", b"x")]);
    for names in [
        &["extra.bin"][..],
        &["no-such-file"],
        &["meta"],
        &["rank-0.safetensors", "extra.bin", "rank-9.safetensors"],
    ] {
        match s.check(names) {
            Err(e @ VerifyError::NotSigned { .. }) => {
                assert_eq!(e.kind(), ErrorKind::Rejected);
                let message = e.to_string();
                for name in names
                    .iter()
                    .filter(|n| n.as_bytes()[0] != b'r' || n.contains('9'))
                {
                    assert!(message.contains(&format!("`{name}`")), "{message}");
                }
                assert!(!message.contains("rank-0"), "{message}");
            }
            other => panic!("{names:?}: expected NotSigned, got {other:?}"),
        }
    }
}

#[test]
fn unsigned_names_are_escaped_in_the_message() {
    let s = signed(&HashConfig::new());
    let err = s
        .check(&["\u{1b}[2Jevil\u{7}.bin"])
        .expect_err("not signed");
    let message = err.to_string();
    assert!(
        !message.contains('\u{1b}') && !message.contains('\u{7}'),
        "{message:?}"
    );
}

#[test]
fn many_unsigned_names_are_counted_not_all_shown() {
    let s = signed(&HashConfig::new());
    let names: Vec<String> = (0..8).map(|i| format!("x{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let message = s.check(&refs).expect_err("not signed").to_string();
    assert!(message.contains("3 more"), "{message}");
}

#[test]
fn a_single_file_model_has_no_partial_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("weights.bin");
    fs::write(&model, b"weights").expect("write");
    let key = key(KeyAlgorithm::EcdsaP256Sha256);
    let bundle = sign_with_key(&model, &HashConfig::new(), &key);
    let verified =
        verify_bundle(&bundle, &KeyVerifier::new(public(&key).clone())).expect("signature");
    let named = [RelPath::parse("weights.bin").expect("path")];
    let err = verified
        .check_files(&model, &named, &ModelCheckOptions::default(), &NoProgress)
        .expect_err("refused");
    assert!(matches!(err, VerifyError::PartialSingleFile), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Usage);
}

#[test]
fn a_named_file_replaced_by_a_link_fails() {
    let s = signed(&HashConfig::new());
    let outside = s.model.parent().expect("parent").join("outside.json");
    fs::write(&outside, b"{\"tp\": 2}\n").expect("write");
    fs::remove_file(s.model.join("config.json")).expect("remove");
    symlink(&outside, s.model.join("config.json")).expect("symlink");
    let err = s
        .check(&["config.json"])
        .expect_err("a link the signature does not allow");
    assert!(matches!(err, VerifyError::Hash(_)), "{err:?}");
}

#[test]
fn a_named_file_below_a_linked_folder_fails() {
    let s = signed(&HashConfig::new());
    let elsewhere = s.model.parent().expect("parent").join("elsewhere");
    fs::rename(s.model.join("meta"), &elsewhere).expect("move");
    symlink(&elsewhere, s.model.join("meta")).expect("symlink");
    let err = s.check(&["meta/index.json"]).expect_err("a linked folder");
    assert!(matches!(err, VerifyError::Hash(_)), "{err:?}");
}

#[test]
fn a_bad_signature_fails_before_any_file_is_named() {
    let s = signed(&HashConfig::new());
    let other = key(KeyAlgorithm::EcdsaP256Sha256);
    let err = verify_bundle(&s.bundle, &KeyVerifier::new(public(&other).clone()))
        .expect_err("another key");
    assert_eq!(err.kind(), ErrorKind::Rejected);
}

fn nix_fifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

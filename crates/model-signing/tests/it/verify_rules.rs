//! What verification leaves out, and why: the signature decides, not a list
//! of defaults. Each rule of `ModelCheckOptions` (its documentation states
//! them) has a test here, and so has each report of a left-out path. Also:
//! entries the signature does not list are reported by their names, never
//! followed or hashed; and every golden signature of the reference verifies
//! with the signature file inside the model and outside it.

use testkit as support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use model_signing::bundle::Bundle;
use model_signing::hashing::{HashConfig, HashError, NoProgress, Progress, RelPath};
use model_signing::keys::{KeyAlgorithm, PublicKey};
use model_signing::statement::parse_statement;
use model_signing::verify::{
    verify_bundle, CertificateVerifier, DiffReport, KeyVerifier, LeftOut, LeftOutReason,
    ModelCheckOptions, SignatureVerifier, VerifiedModel, VerifyError,
};
use model_signing::x509::Certificate;
use serde_json::Value;
use support::{key, public, reference, resign, sign_with_key, statement, write_files, Key};

/// A model of three files, signed with a fresh key under `config`.
struct Signed {
    dir: tempfile::TempDir,
    model: PathBuf,
    key: Key,
    bundle: Bundle,
}

impl Signed {
    fn new(config: &HashConfig) -> Self {
        Signed::with_files(config, &[])
    }

    fn with_files(config: &HashConfig, extra: &[(&str, &[u8])]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("model");
        write_files(
            &model,
            &[("a.bin", b"weights\n"), ("sub/c.txt", b"config\n")],
        );
        write_files(&model, extra);
        let key = key(KeyAlgorithm::EcdsaP256Sha256);
        let bundle = sign_with_key(&model, config, &key);
        Signed {
            dir,
            model,
            key,
            bundle,
        }
    }

    /// The same signature with its statement changed by `mutate`.
    fn resigned(&self, mutate: impl FnOnce(&mut Value)) -> Bundle {
        resign(&self.bundle, &self.key, mutate)
    }

    fn add(&self, files: &[(&str, &[u8])]) {
        write_files(&self.model, files);
    }

    fn verify(
        &self,
        bundle: &Bundle,
        options: &ModelCheckOptions,
    ) -> Result<VerifiedModel, VerifyError> {
        check(
            &self.model,
            bundle,
            &KeyVerifier::new(public(&self.key).clone()),
            options,
        )
    }
}

fn check(
    model: &Path,
    bundle: &Bundle,
    verifier: &dyn SignatureVerifier,
    options: &ModelCheckOptions,
) -> Result<VerifiedModel, VerifyError> {
    verify_bundle(bundle, verifier)?.check_model(model, options, &NoProgress)
}

/// Signs as the reference does when it ignores nothing: no `ignore_paths`.
fn without_ignore_paths(v: &mut Value) {
    let serialization = v["predicate"]["serialization"]
        .as_object_mut()
        .expect("serialization");
    serialization.remove("ignore_paths");
}

fn mismatch(result: Result<VerifiedModel, VerifyError>) -> DiffReport {
    match result {
        Err(VerifyError::ModelMismatch(report)) => *report,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

fn left(entries: &[(&str, LeftOutReason)]) -> Vec<LeftOut> {
    entries
        .iter()
        .map(|(path, reason)| LeftOut {
            path: (*path).to_owned(),
            reason: *reason,
        })
        .collect()
}

fn rel(paths: &[&str]) -> Vec<RelPath> {
    paths
        .iter()
        .map(|p| RelPath::parse(p).expect("relative path"))
        .collect()
}

/// No default ignores: the signature records `ignore_paths: []`.
fn nothing_ignored() -> HashConfig {
    HashConfig::new()
        .ignore_git_paths(false)
        .ignore_hf_download_cache(false)
}

const GIT_FILES: [(&str, &[u8]); 3] = [
    (".gitattributes", b"*.bin filter=lfs\n"),
    (".github/workflows/x.yml", b"on: push\n"),
    (".git/HEAD", b"ref: refs/heads/main\n"),
];

// ---------------------------------------------------------- what is signed

#[test]
fn our_signer_always_records_ignore_paths_even_empty() {
    for (config, expected) in [
        (nothing_ignored(), Vec::<&str>::new()),
        (
            HashConfig::new(),
            vec![
                ".cache/huggingface",
                ".git",
                ".gitattributes",
                ".github",
                ".gitignore",
            ],
        ),
    ] {
        let s = Signed::new(&config);
        let st = statement(&s.bundle);
        assert_eq!(
            st["predicate"]["serialization"]["ignore_paths"],
            serde_json::json!(expected)
        );
        let parsed = parse_statement(&s.bundle.envelope.payload_type, &s.bundle.envelope.payload)
            .expect("parse");
        assert!(parsed.manifest.serialization.ignore_paths_recorded);
        let absent = s.resigned(without_ignore_paths);
        let parsed = parse_statement(&absent.envelope.payload_type, &absent.envelope.payload)
            .expect("parse");
        assert!(!parsed.manifest.serialization.ignore_paths_recorded);
        assert!(parsed.manifest.serialization.ignore_paths.is_empty());
    }
}

// ---------------------------------------------------------- ignore rules

#[test]
fn a_recorded_empty_ignore_list_makes_added_git_paths_unexpected() {
    let s = Signed::new(&nothing_ignored());
    s.add(&GIT_FILES);
    let report = mismatch(s.verify(&s.bundle, &ModelCheckOptions::default()));
    assert_eq!(
        report.unexpected,
        [".git/HEAD", ".gitattributes", ".github/workflows/x.yml"]
    );
    assert!(report.left_out.is_empty());
}

#[test]
fn an_absent_ignore_list_leaves_out_the_git_paths_implicitly() {
    let s = Signed::new(&nothing_ignored());
    let bundle = s.resigned(without_ignore_paths);
    s.add(&GIT_FILES);
    let ok = s
        .verify(&bundle, &ModelCheckOptions::default())
        .expect("the reference's rule for signatures without ignore_paths");
    let expected = left(&[
        (".git", LeftOutReason::LegacyGitPath),
        (".gitattributes", LeftOutReason::LegacyGitPath),
        (".github", LeftOutReason::LegacyGitPath),
    ]);
    assert_eq!(ok.left_out, expected);
    // The rule can be turned off.
    let options = ModelCheckOptions {
        ignore_git_paths: false,
        ..ModelCheckOptions::default()
    };
    let report = mismatch(s.verify(&bundle, &options));
    assert_eq!(report.unexpected.len(), 3);
}

#[test]
fn an_absent_ignore_list_still_compares_git_paths_it_signs() {
    let s = Signed::with_files(&nothing_ignored(), &[(".gitattributes", b"signed\n")]);
    let bundle = s.resigned(without_ignore_paths);
    s.verify(&bundle, &ModelCheckOptions::default())
        .expect("unchanged");
    s.add(&[(".gitattributes", b"changed\n")]);
    let report = mismatch(s.verify(&bundle, &ModelCheckOptions::default()));
    assert_eq!(report.changed.len(), 1);
    assert_eq!(report.changed[0].name, ".gitattributes");
}

#[test]
fn hf_download_cache_added_to_a_reference_style_signature_is_unexpected() {
    let s = Signed::new(&nothing_ignored());
    let absent = s.resigned(without_ignore_paths);
    // As the reference 1.1 signs by default: the git paths, not the cache.
    let git_only = s.resigned(|v| {
        v["predicate"]["serialization"]["ignore_paths"] =
            serde_json::json!([".git", ".gitattributes", ".github", ".gitignore"]);
    });
    s.add(&[(".cache/huggingface/evil.py", b"import os\n")]);
    for bundle in [&s.bundle, &absent, &git_only] {
        let report = mismatch(s.verify(bundle, &ModelCheckOptions::default()));
        assert_eq!(report.unexpected, [".cache/huggingface/evil.py"]);
    }
}

#[test]
fn hf_download_cache_in_our_own_signature_is_left_out_as_signed() {
    let s = Signed::new(&HashConfig::new());
    s.add(&[(".cache/huggingface/download/a.bin.metadata", b"etag\n")]);
    s.add(&GIT_FILES);
    let ok = s
        .verify(&s.bundle, &ModelCheckOptions::default())
        .expect("recorded ignore paths");
    assert_eq!(
        ok.left_out,
        left(&[
            (".cache/huggingface", LeftOutReason::SignedIgnorePath),
            (".git", LeftOutReason::SignedIgnorePath),
            (".gitattributes", LeftOutReason::SignedIgnorePath),
            (".github", LeftOutReason::SignedIgnorePath),
        ])
    );
}

#[test]
fn user_ignore_paths_are_left_out_and_listed() {
    let s = Signed::new(&nothing_ignored());
    s.add(&[
        ("notes/a.md", b"x"),
        ("notes/b.md", b"y"),
        ("scratch", b"z"),
    ]);
    let options = ModelCheckOptions {
        extra_ignore_paths: rel(&["notes", "scratch", "not-there"]),
        ..ModelCheckOptions::default()
    };
    let ok = s.verify(&s.bundle, &options).expect("left out");
    assert_eq!(
        ok.left_out,
        left(&[
            ("notes", LeftOutReason::UserIgnorePath),
            ("scratch", LeftOutReason::UserIgnorePath),
        ])
    );
    // They can only remove files: a signed one left out is missing.
    let options = ModelCheckOptions {
        extra_ignore_paths: rel(&["sub"]),
        ..ModelCheckOptions::default()
    };
    let report = mismatch(s.verify(&s.bundle, &options));
    assert_eq!(report.missing, ["sub/c.txt"]);
    assert_eq!(
        report.left_out,
        left(&[("sub", LeftOutReason::UserIgnorePath)])
    );
}

#[test]
fn signature_inside_the_model_is_left_out() {
    let s = Signed::new(&nothing_ignored());
    let sig = s.model.join("model.sig");
    fs::write(&sig, s.bundle.to_json()).expect("write signature");
    // A signer writing the same file at this moment.
    s.add(&[(".model.sig.tmp-4242-123456789", b"partial")]);
    let options = ModelCheckOptions {
        signature_path: Some(sig.clone()),
        ..ModelCheckOptions::default()
    };
    // The temporary file is not signed: unexpected, like any other file
    // (only the signature file itself is left out).
    let report = mismatch(s.verify(&s.bundle, &options));
    assert_eq!(report.unexpected, [".model.sig.tmp-4242-123456789"]);
    assert_eq!(
        report.left_out,
        left(&[("model.sig", LeftOutReason::SignatureFile)])
    );
    fs::remove_file(s.model.join(".model.sig.tmp-4242-123456789")).expect("rm");
    let ok = s.verify(&s.bundle, &options).expect("signature left out");
    assert_eq!(
        ok.left_out,
        left(&[("model.sig", LeftOutReason::SignatureFile)])
    );
    s.add(&[(".model.sig.tmp-4242-123456789", b"partial")]);
    // Not told where the signature is, the library sees two unsigned files.
    let report = mismatch(s.verify(&s.bundle, &ModelCheckOptions::default()));
    assert_eq!(
        report.unexpected,
        [".model.sig.tmp-4242-123456789", "model.sig"]
    );
    // Named through a link to the model folder, and in a subfolder.
    let alias = s.dir.path().join("alias");
    symlink(&s.model, &alias).expect("symlink");
    fs::create_dir(s.model.join("sigs")).expect("mkdir");
    fs::rename(&sig, s.model.join("sigs/model.sig")).expect("move");
    fs::remove_file(s.model.join(".model.sig.tmp-4242-123456789")).expect("rm");
    let options = ModelCheckOptions {
        signature_path: Some(alias.join("sigs/model.sig")),
        ..ModelCheckOptions::default()
    };
    let ok = s.verify(&s.bundle, &options).expect("signature left out");
    assert_eq!(
        ok.left_out,
        left(&[("sigs/model.sig", LeftOutReason::SignatureFile)])
    );
    // Temporary files of other names, or elsewhere, are not left out.
    s.add(&[(".model.sig.tmp-x-1", b"?"), (".model.sig.tmp-1-1", b"?")]);
    let report = mismatch(s.verify(&s.bundle, &options));
    assert_eq!(
        report.unexpected,
        [".model.sig.tmp-1-1", ".model.sig.tmp-x-1"]
    );
}

#[test]
fn signature_outside_the_model_leaves_out_nothing() {
    let s = Signed::new(&nothing_ignored());
    let sig = s.dir.path().join("model.sig");
    fs::write(&sig, s.bundle.to_json()).expect("write signature");
    s.add(&[("model.sig", b"a file of the model")]);
    let options = ModelCheckOptions {
        signature_path: Some(sig),
        ..ModelCheckOptions::default()
    };
    let report = mismatch(s.verify(&s.bundle, &options));
    assert_eq!(report.unexpected, ["model.sig"]);
}

#[test]
fn left_out_paths_are_reported_when_verification_fails() {
    let s = Signed::new(&HashConfig::new());
    s.add(&[(".git/HEAD", b"x"), ("a.bin", b"changed")]);
    let report = mismatch(s.verify(&s.bundle, &ModelCheckOptions::default()));
    assert_eq!(report.changed.len(), 1);
    assert_eq!(
        report.left_out,
        left(&[(".git", LeftOutReason::SignedIgnorePath)])
    );
}

#[test]
fn unsigned_files_skipped_on_request_are_left_out_as_unsigned() {
    let s = Signed::new(&nothing_ignored());
    s.add(&[("extra/x", b"x"), ("y", b"y")]);
    let options = ModelCheckOptions {
        ignore_unsigned_files: true,
        ..ModelCheckOptions::default()
    };
    let ok = s.verify(&s.bundle, &options).expect("skipped");
    assert_eq!(ok.unsigned_ignored, ["extra/x", "y"]);
    assert_eq!(
        ok.left_out,
        left(&[
            ("extra/x", LeftOutReason::Unsigned),
            ("y", LeftOutReason::Unsigned)
        ])
    );
}

// ------------------------------------------------ unsigned entries unread

/// Creates a FIFO with the `mkfifo` tool (the tests forbid `unsafe`).
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {} failed", path.display());
}

fn with_symlinks() -> HashConfig {
    nothing_ignored().allow_symlinks(true)
}

#[test]
fn unsigned_link_to_a_big_directory_outside_the_model_is_not_walked() {
    let s = Signed::new(&with_symlinks());
    let outside = s.dir.path().join("usr-share");
    fs::create_dir_all(outside.join("deep")).expect("mkdir");
    for i in 0..2000 {
        fs::write(outside.join(format!("f{i}")), "x").expect("write");
    }
    mkfifo(&outside.join("deep/pipe"));
    symlink(&outside, s.model.join("share")).expect("symlink");
    let report = mismatch(s.verify(&s.bundle, &ModelCheckOptions::default()));
    assert_eq!(report.unexpected, ["share"]);
    let options = ModelCheckOptions {
        ignore_unsigned_files: true,
        ..ModelCheckOptions::default()
    };
    let ok = s.verify(&s.bundle, &options).expect("skipped");
    assert_eq!(ok.left_out, left(&[("share", LeftOutReason::Unsigned)]));
}

#[test]
fn unsigned_link_to_root_is_reported_unexpected_not_a_cycle() {
    let s = Signed::new(&with_symlinks());
    symlink("/", s.model.join("root")).expect("symlink");
    symlink("/proc", s.model.join("sub/proc")).expect("symlink");
    symlink("..", s.model.join("sub/up")).expect("symlink");
    let report = mismatch(s.verify(&s.bundle, &ModelCheckOptions::default()));
    assert_eq!(report.unexpected, ["root", "sub/proc", "sub/up"]);
    assert!(report.changed.is_empty() && report.missing.is_empty());
}

/// Counts the bytes hashing reports as read.
#[derive(Default)]
struct Bytes(AtomicU64);

impl Progress for Bytes {
    fn advance(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::Relaxed);
    }
}

#[test]
fn unsigned_big_sparse_file_is_reported_without_being_hashed() {
    for config in [
        nothing_ignored(),
        nothing_ignored().shards(1 << 20).expect("valid"),
    ] {
        let s = Signed::new(&config);
        fs::File::create(s.model.join("huge.bin"))
            .and_then(|f| f.set_len(16 << 30))
            .expect("sparse file");
        let progress = Bytes::default();
        let verified =
            verify_bundle(&s.bundle, &KeyVerifier::new(public(&s.key).clone())).expect("signature");
        let report =
            mismatch(verified.check_model(&s.model, &ModelCheckOptions::default(), &progress));
        assert_eq!(report.unexpected, ["huge.bin"]);
        let signed_bytes = ("weights\n".len() + "config\n".len()) as u64;
        assert_eq!(progress.0.load(Ordering::Relaxed), signed_bytes);
    }
}

#[test]
fn unsigned_fifo_is_reported_unexpected_not_an_error() {
    let s = Signed::new(&nothing_ignored());
    mkfifo(&s.model.join("pipe"));
    symlink("missing", s.model.join("dangling")).expect("symlink");
    let report = mismatch(s.verify(&s.bundle, &ModelCheckOptions::default()));
    assert_eq!(report.unexpected, ["dangling", "pipe"]);
}

#[test]
fn signed_file_replaced_by_a_fifo_is_still_an_error() {
    let s = Signed::new(&nothing_ignored());
    fs::remove_file(s.model.join("a.bin")).expect("rm");
    mkfifo(&s.model.join("a.bin"));
    let err = s
        .verify(&s.bundle, &ModelCheckOptions::default())
        .expect_err("a FIFO at a signed path");
    assert!(
        matches!(err, VerifyError::Hash(HashError::SpecialFile { .. })),
        "{err:?}"
    );
}

// ------------------------------------------------------- golden signatures

fn golden_keys() -> PathBuf {
    support::golden().join("keys/certificate")
}

fn golden_public_key() -> PublicKey {
    PublicKey::from_pem(
        &fs::read_to_string(golden_keys().join("signing-key-pub.pem")).expect("key"),
    )
    .expect("golden public key")
}

fn golden_ca() -> Vec<Certificate> {
    Certificate::from_pem_bundle(&fs::read(golden_keys().join("ca-cert.pem")).expect("CA"))
        .expect("golden CA")
}

/// Copies the files of a golden folder but its signature into `to`.
fn copy_model(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read golden folder") {
        let e = e.expect("entry");
        if e.file_name() != "model.sig" {
            fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

/// Verifies a signed model folder (signature in `signature`, which may lie
/// inside it), leaving out `ignore-me` (added after signing) as the golden
/// README says, and checks what was left out.
fn verify_placed(
    what: &str,
    model: &Path,
    signature: &Path,
    verifier: &dyn SignatureVerifier,
    expected_left_out: &[(&str, LeftOutReason)],
) {
    let bundle = Bundle::from_json(&fs::read(signature).expect("read signature"))
        .unwrap_or_else(|e| panic!("{what}: {e:?}"));
    let ignore: &[&str] = if model.join("ignore-me").exists() {
        &["ignore-me"]
    } else {
        &[]
    };
    let options = ModelCheckOptions {
        extra_ignore_paths: rel(ignore),
        signature_path: Some(signature.to_owned()),
        ..ModelCheckOptions::default()
    };
    let ok = check(model, &bundle, verifier, &options).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    assert!(ok.resources_checked >= 1, "{what}");
    assert_eq!(ok.left_out, left(expected_left_out), "{what}");
}

/// Verifies a golden folder with its signature inside the model folder and
/// outside it (a single-file model has its signature beside it only).
fn verify_golden_both_ways(folder: &str, verifier: &dyn SignatureVerifier) {
    let golden = support::golden().join(folder);
    let tmp = tempfile::tempdir().expect("tempdir");
    let has_ignore_me = golden.join("ignore-me").exists();
    // v1.1.0 lists `ignore-me` and `model.sig` in its signed ignore paths.
    let ignore_me = if folder.starts_with("v1.1") {
        LeftOutReason::SignedIgnorePath
    } else {
        LeftOutReason::UserIgnorePath
    };
    if golden.join("signme-2").exists() {
        let inside = tmp.path().join("inside");
        copy_model(&golden, &inside);
        fs::copy(golden.join("model.sig"), inside.join("model.sig")).expect("copy");
        let mut expected = vec![("model.sig", LeftOutReason::SignatureFile)];
        if has_ignore_me {
            expected.insert(0, ("ignore-me", ignore_me));
        }
        verify_placed(
            &format!("{folder}, inside"),
            &inside,
            &inside.join("model.sig"),
            verifier,
            &expected,
        );
        let outside = tmp.path().join("outside/model");
        copy_model(&golden, &outside);
        let sig = tmp.path().join("outside/model.sig");
        fs::copy(golden.join("model.sig"), &sig).expect("copy");
        let expected: Vec<_> = if has_ignore_me {
            vec![("ignore-me", ignore_me)]
        } else {
            Vec::new()
        };
        verify_placed(
            &format!("{folder}, outside"),
            &outside,
            &sig,
            verifier,
            &expected,
        );
    } else {
        verify_placed(
            &format!("{folder}, single file"),
            &golden.join("signme-1"),
            &golden.join("model.sig"),
            verifier,
            &[],
        );
    }
}

#[test]
fn every_golden_signature_verifies_with_the_signature_inside_and_outside_the_model() {
    let key = KeyVerifier::new(golden_public_key());
    let ca = CertificateVerifier::new(golden_ca());
    let mut seen = 0;
    for e in fs::read_dir(support::golden()).expect("golden folder") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        let verifier: &dyn SignatureVerifier = if name.ends_with("-elliptic-key") {
            &key
        } else if name.ends_with("-certificate") {
            &ca
        } else {
            // Sigstore: in the model-signing-sigstore crate's tests.
            continue;
        };
        verify_golden_both_ways(&name, verifier);
        seen += 1;
    }
    assert_eq!(seen, 9, "four key and five certificate folders");
}

/// The reference 1.1.1 signs the golden model (key and certificate), with
/// the signature inside the model and outside it, with its default ignores
/// and with `--no-ignore-git-paths`; each verifies here, `ignore-me` added
/// after signing.
#[test]
fn reference_1_1_1_signatures_verify_with_the_signature_inside_and_outside_the_model() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keys = support::root().join("testdata/keys");
    let s = |p: &Path| p.to_str().expect("UTF-8 path").to_owned();
    let golden = support::golden().join("v1.1.0-elliptic-key");
    let key = KeyVerifier::new(golden_public_key());
    let ca = CertificateVerifier::new(golden_ca());
    for method in ["key", "certificate"] {
        for (place, git_flag) in [
            ("inside", "--ignore-git-paths"),
            ("outside", "--ignore-git-paths"),
            ("outside", "--no-ignore-git-paths"),
        ] {
            let what = format!("1.1.1 {method}, {place}, {git_flag}");
            let base = tmp.path().join(format!("{method}-{place}{git_flag}"));
            let model = base.join("model");
            fs::create_dir_all(&model).expect("mkdir");
            for f in ["signme-1", "signme-2"] {
                fs::copy(golden.join(f), model.join(f)).expect("copy");
            }
            let sig = if place == "inside" {
                model.join("model.sig")
            } else {
                base.join("model.sig")
            };
            let mut args = vec![
                "sign".to_owned(),
                method.to_owned(),
                s(&model),
                "--signature".to_owned(),
                s(&sig),
                git_flag.to_owned(),
                "--private_key".to_owned(),
                s(&keys.join("certtool-p384-key.pem")),
            ];
            if method == "certificate" {
                args.extend([
                    "--signing_certificate".to_owned(),
                    s(&keys.join("certtool-p384-cert.pem")),
                    "--certificate_chain".to_owned(),
                    s(&golden_keys().join("int-ca-cert.pem")),
                ]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            reference::run_cli_ok(&base, &args);
            fs::write(model.join("ignore-me"), "").expect("write");
            let bundle = Bundle::from_json(&fs::read(&sig).expect("signature")).expect("bundle");
            let recorded = parse_statement(&bundle.envelope.payload_type, &bundle.envelope.payload)
                .expect("payload")
                .manifest
                .serialization
                .ignore_paths_recorded;
            // The reference leaves the field out when its list is empty.
            assert_eq!(
                recorded,
                git_flag == "--ignore-git-paths" || place == "inside",
                "{what}"
            );
            let mut expected = vec![("ignore-me", LeftOutReason::UserIgnorePath)];
            if place == "inside" {
                expected.push(("model.sig", LeftOutReason::SignatureFile));
            }
            let verifier: &dyn SignatureVerifier = if method == "key" { &key } else { &ca };
            verify_placed(&what, &model, &sig, verifier, &expected);
            // Git paths added after signing: left out as the signature says,
            // or as the reference does when the signature says nothing.
            fs::write(model.join(".gitattributes"), "x").expect("write");
            let bundle_result = check(
                &model,
                &bundle,
                verifier,
                &ModelCheckOptions {
                    extra_ignore_paths: rel(&["ignore-me"]),
                    signature_path: Some(sig.clone()),
                    ..ModelCheckOptions::default()
                },
            );
            let expected_reason = if !recorded {
                Some(LeftOutReason::LegacyGitPath)
            } else if git_flag == "--ignore-git-paths" {
                Some(LeftOutReason::SignedIgnorePath)
            } else {
                None
            };
            match expected_reason {
                Some(reason) => {
                    let ok = bundle_result.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                    assert!(
                        ok.left_out.contains(&LeftOut {
                            path: ".gitattributes".into(),
                            reason
                        }),
                        "{what}: {:?}",
                        ok.left_out
                    );
                }
                None => {
                    let report = mismatch(bundle_result);
                    assert_eq!(report.unexpected, [".gitattributes"], "{what}");
                }
            }
        }
    }
}

/// What `sign_model` returns verifies as it is, without a JSON round trip,
/// for the key and certificate methods (Sigstore and PKCS#11 have theirs in
/// their crates): what is in memory is what is written.
#[test]
fn a_bundle_verifies_in_memory_as_signed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let config = HashConfig::new();
    let k = key(KeyAlgorithm::EcdsaP384Sha384);
    let bundle = support::sign_with_key(&model, &config, &k);
    let verified = verify_bundle(&bundle, &KeyVerifier::new(public(&k).clone()))
        .expect("the key signature verifies")
        .check_model(&model, &ModelCheckOptions::default(), &NoProgress)
        .expect("the model matches");
    assert_eq!(verified.resources_checked, 3);
    let pki = support::certs::Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    let bundle = support::sign_with_pki(&model, &config, &pki);
    verify_bundle(&bundle, &CertificateVerifier::new(vec![pki.root.clone()]))
        .expect("the certificate signature verifies")
        .check_model(&model, &ModelCheckOptions::default(), &NoProgress)
        .expect("the model matches");
    // And what is written reads back equal.
    let read = Bundle::from_json(bundle.to_json().as_bytes()).expect("reads back");
    assert_eq!(read.to_json(), bundle.to_json());
}

/// Every verification error says its kind, which front ends map to exit
/// codes: malformed input, a rejection, a usage mistake, the environment.
#[test]
fn verification_errors_say_their_kind() {
    use model_signing::ErrorKind;
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let k = key(KeyAlgorithm::EcdsaP256Sha256);
    let bundle = sign_with_key(&model, &HashConfig::new(), &k);
    let signed =
        || verify_bundle(&bundle, &KeyVerifier::new(public(&k).clone())).expect("verifies");
    // A changed model: rejected.
    fs::write(model.join("a.bin"), b"changed").expect("write");
    let e = signed()
        .check_model(&model, &ModelCheckOptions::default(), &NoProgress)
        .expect_err("changed");
    assert_eq!(e.kind(), ErrorKind::Rejected, "{e}");
    // Another key: rejected.
    let other = key(KeyAlgorithm::EcdsaP256Sha256);
    let e = verify_bundle(&bundle, &KeyVerifier::new(public(&other).clone())).expect_err("other");
    assert_eq!(e.kind(), ErrorKind::Rejected, "{e}");
    // A model that is not there: the environment.
    let e = signed()
        .check_model(
            &dir.path().join("gone"),
            &ModelCheckOptions::default(),
            &NoProgress,
        )
        .expect_err("gone");
    assert_eq!(e.kind(), ErrorKind::Environment, "{e}");
    // A malformed signature, and one that cannot be read.
    let e = VerifyError::from(Bundle::from_json(b"{").expect_err("malformed"));
    assert_eq!(e.kind(), ErrorKind::Malformed, "{e}");
    let e = VerifyError::from(Bundle::read(&dir.path().join("none.sig")).expect_err("missing"));
    assert_eq!(e.kind(), ErrorKind::Environment, "{e}");
    // An invalid ignore path given by the caller: usage.
    let e = HashConfig::new()
        .ignore_paths(["../x"])
        .expect_err("invalid");
    assert_eq!(VerifyError::Config(e).kind(), ErrorKind::Usage);
}

/// A key or certificate signer says who it signs as before it signs
/// (`sign --json` prints it): the same signer a verifier then reports, for a
/// certificate with the chain it was given in place of the validated path.
#[test]
fn a_signer_knows_who_it_signs_as_and_the_verifier_agrees() {
    use model_signing::sign::{BundleSigner, CertificateSigner, KeySigner};
    use model_signing::verify::Signer;
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let config = HashConfig::new();

    let k = key(KeyAlgorithm::EcdsaP384Sha384);
    let signer = KeySigner::new(Box::new(k.clone())).expect("key signer");
    let bundle = model_signing::sign::sign_model(&model, &config, &signer, &NoProgress)
        .expect("sign")
        .0;
    let verified = verify_bundle(&bundle, &KeyVerifier::new(public(&k).clone())).expect("verifies");
    assert_eq!(signer.signer().as_ref(), Some(&verified.check().signer));
    assert!(matches!(
        signer.signer(),
        Some(Signer::Key {
            algorithm: "PKIX_ECDSA_P384_SHA_384",
            ..
        })
    ));

    let pki = support::certs::Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    let signer = CertificateSigner::new(
        Box::new(pki.leaf_key.clone()),
        pki.leaf.clone(),
        pki.chain(),
        support::now(),
    )
    .expect("certificate signer");
    let bundle = model_signing::sign::sign_model(&model, &config, &signer, &NoProgress)
        .expect("sign")
        .0;
    let verified = verify_bundle(&bundle, &CertificateVerifier::new(vec![pki.root.clone()]))
        .expect("verifies");
    let (
        Some(Signer::Certificate {
            subject,
            fingerprint,
            path: given,
        }),
        Signer::Certificate {
            subject: v_subject,
            fingerprint: v_fingerprint,
            path: validated,
        },
    ) = (signer.signer(), &verified.check().signer)
    else {
        panic!("certificate signers: {:?}", signer.signer());
    };
    assert_eq!((&subject, &fingerprint), (v_subject, v_fingerprint));
    assert_eq!(subject, pki.leaf.subject());
    assert_eq!(given.len(), pki.chain().len() + 1, "{given:?}");
    assert!(validated.starts_with(&given), "{given:?} vs {validated:?}");
}

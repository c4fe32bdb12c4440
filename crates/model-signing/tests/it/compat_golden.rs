//! Compatibility with signatures made by the reference's releases (v0.2.0 to
//! v1.1.0, `model-transparency-golden`) and with the OMS v1.0 test vectors,
//! both in `testdata/third_party/`.

use testkit as support;

use std::path::{Path, PathBuf};

use model_signing::bundle::{Bundle, BundleError};
use model_signing::hashing::{NoProgress, RelPath};
use model_signing::keys::PublicKey;
use model_signing::verify::{
    verify_bundle, CertificateVerifier, KeyVerifier, ModelCheckOptions, SignatureVerifier, Signer,
    VerifiedModel, VerifyError,
};
use model_signing::x509::Certificate;
use model_signing::JsonError;

/// Each golden folder, and whether its model is the single file `signme-1`.
const KEY_FOLDERS: [(&str, bool); 4] = [
    ("v0.3.1-elliptic-key", true),
    ("v1.0.0-elliptic-key", true),
    ("v1.0.1-elliptic-key", false),
    ("v1.1.0-elliptic-key", false),
];
const CERTIFICATE_FOLDERS: [&str; 5] = [
    "v0.2.0-certificate",
    "v0.3.1-certificate",
    "v1.0.0-certificate",
    "v1.0.1-certificate",
    "v1.1.0-certificate",
];

fn keys_dir() -> PathBuf {
    support::golden().join("keys/certificate")
}

fn golden_public_key() -> PublicKey {
    let text = std::fs::read_to_string(keys_dir().join("signing-key-pub.pem")).expect("read key");
    PublicKey::from_pem(&text).expect("golden public key")
}

fn golden_ca() -> Vec<Certificate> {
    Certificate::from_pem_bundle(&std::fs::read(keys_dir().join("ca-cert.pem")).expect("read CA"))
        .expect("golden CA")
}

fn read_bundle(path: &Path) -> Result<Bundle, VerifyError> {
    Ok(Bundle::from_json(&std::fs::read(path).unwrap_or_else(
        |e| panic!("read {}: {e}", path.display()),
    ))?)
}

/// Verifies `model` against `signature`, leaving out `ignore` (relative
/// paths) when the model is a directory.
fn verify(
    model: &Path,
    signature: &Path,
    verifier: &dyn SignatureVerifier,
    ignore: &[&str],
) -> Result<VerifiedModel, VerifyError> {
    let bundle = read_bundle(signature)?;
    let verified = verify_bundle(&bundle, verifier)?;
    let options = ModelCheckOptions {
        extra_ignore_paths: ignore
            .iter()
            .map(|p| RelPath::parse(p).expect("relative path"))
            .collect(),
        ignore_git_paths: true,
        ..ModelCheckOptions::default()
    };
    verified.check_model(model, &options, &NoProgress)
}

/// The model of a golden folder and the paths to leave out.
fn model_of(dir: &Path, single_file: bool) -> (PathBuf, Vec<&'static str>) {
    if single_file {
        (dir.join("signme-1"), Vec::new())
    } else {
        (dir.to_owned(), vec!["model.sig", "ignore-me"])
    }
}

#[test]
fn the_golden_set_is_what_these_tests_expect() {
    let mut found: Vec<String> = std::fs::read_dir(support::golden())
        .expect("golden folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-elliptic-key") || n.ends_with("-certificate"))
        .collect();
    found.sort();
    let mut expected: Vec<String> = KEY_FOLDERS
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .chain(CERTIFICATE_FOLDERS.iter().map(|n| (*n).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn every_golden_key_signature_verifies() {
    let verifier = KeyVerifier::new(golden_public_key());
    for (folder, single_file) in KEY_FOLDERS {
        let dir = support::golden().join(folder);
        let (model, ignore) = model_of(&dir, single_file);
        let ok = verify(&model, &dir.join("model.sig"), &verifier, &ignore)
            .unwrap_or_else(|e| panic!("{folder}: {e:?}"));
        assert!(ok.resources_checked >= 1, "{folder}");
        let check = ok.manifest.check();
        assert!(matches!(check.signer, Signer::Key { .. }), "{folder}");
        assert!(!check.legacy_pae, "{folder}");
        // Releases before 1.1 carried the key itself (rawBytes) instead of a hint.
        let pre_hint = !folder.starts_with("v1.1");
        assert_eq!(
            !check.warnings.is_empty(),
            pre_hint,
            "{folder}: {:?}",
            check.warnings
        );
    }
}

#[test]
fn every_golden_certificate_signature_verifies() {
    let verifier = CertificateVerifier::new(golden_ca());
    for folder in CERTIFICATE_FOLDERS {
        let dir = support::golden().join(folder);
        let (model, ignore) = model_of(&dir, false);
        let ok = verify(&model, &dir.join("model.sig"), &verifier, &ignore)
            .unwrap_or_else(|e| panic!("{folder}: {e:?}"));
        assert_eq!(ok.resources_checked, 2, "{folder}");
        let check = ok.manifest.check();
        let Signer::Certificate { path, .. } = &check.signer else {
            panic!("{folder}: {:?}", check.signer)
        };
        assert_eq!(path.len(), 3, "{folder}: leaf, intermediate, root");
        // v0.2.0 signed its payload with a faulty encoding, accepted for it only.
        assert_eq!(check.legacy_pae, folder == "v0.2.0-certificate", "{folder}");
        assert_eq!(ok.manifest.value().legacy, folder == "v0.2.0-certificate");
    }
}

#[test]
fn golden_signatures_fail_with_the_wrong_signer_or_a_stray_file() {
    // The `ignore-me` file was added after signing: without leaving it out
    // verification reports it (v1.1.0 lists it in its signed ignore paths).
    let dir = support::golden().join("v1.0.1-elliptic-key");
    let verifier = KeyVerifier::new(golden_public_key());
    match verify(&dir, &dir.join("model.sig"), &verifier, &["model.sig"]) {
        Err(VerifyError::ModelMismatch(r)) => {
            assert_eq!(r.unexpected, ["ignore-me"]);
            assert!(r.changed.is_empty() && r.missing.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let dir = support::golden().join("v1.1.0-elliptic-key");
    verify(&dir, &dir.join("model.sig"), &verifier, &["model.sig"]).expect("signed ignore path");

    // Another key, another CA.
    let other = support::key(model_signing::keys::KeyAlgorithm::EcdsaP384Sha384);
    let wrong = KeyVerifier::new(support::public(&other).clone());
    for (folder, single_file) in KEY_FOLDERS {
        let dir = support::golden().join(folder);
        let (model, ignore) = model_of(&dir, single_file);
        let err = verify(&model, &dir.join("model.sig"), &wrong, &ignore).expect_err(folder);
        assert!(
            matches!(err, VerifyError::SignerMismatch(_)),
            "{folder}: {err:?}"
        );
    }
    let pki = support::Pki::new(model_signing::keys::KeyAlgorithm::EcdsaP256Sha256);
    let wrong = CertificateVerifier::new(vec![pki.root.clone()]);
    for folder in CERTIFICATE_FOLDERS {
        let dir = support::golden().join(folder);
        let err = verify(
            &dir,
            &dir.join("model.sig"),
            &wrong,
            &["model.sig", "ignore-me"],
        )
        .expect_err(folder);
        assert!(
            matches!(err, VerifyError::Certificate(_)),
            "{folder}: {err:?}"
        );
    }
    // A key signature given to the certificate verifier and the reverse.
    let dir = support::golden().join("v1.1.0-elliptic-key");
    let err = verify(
        &dir,
        &dir.join("model.sig"),
        &CertificateVerifier::new(golden_ca()),
        &[],
    )
    .expect_err("key signature");
    assert!(matches!(err, VerifyError::WrongMaterial { .. }), "{err:?}");
    let dir = support::golden().join("v1.1.0-certificate");
    let err = verify(&dir, &dir.join("model.sig"), &verifier, &[]).expect_err("certificate");
    assert!(matches!(err, VerifyError::WrongMaterial { .. }), "{err:?}");
}

#[test]
fn valid_oms_vectors_verify() {
    let model = support::golden().join("v1.1.0-elliptic-key");
    let ignore = ["model.sig", "ignore-me"];
    let valid = support::oms_vectors().join("valid");
    let key = verify(
        &model,
        &valid.join("key.bundle.json"),
        &KeyVerifier::new(golden_public_key()),
        &ignore,
    )
    .expect("key vector");
    assert_eq!(key.resources_checked, 2);
    let cert = verify(
        &model,
        &valid.join("certificate.bundle.json"),
        &CertificateVerifier::new(golden_ca()),
        &ignore,
    )
    .expect("certificate vector");
    assert_eq!(cert.resources_checked, 2);
}

#[test]
fn invalid_oms_vectors_are_rejected() {
    let vectors = support::oms_vectors();
    let model = support::golden().join("v1.1.0-elliptic-key");
    let key = KeyVerifier::new(golden_public_key());
    let ca = CertificateVerifier::new(golden_ca());
    let mut seen = 0;
    for sub in ["invalid", "invalid-payload"] {
        for entry in std::fs::read_dir(vectors.join(sub)).expect("vectors") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            for (method, verifier) in [
                ("key", &key as &dyn SignatureVerifier),
                ("certificate", &ca),
            ] {
                let err =
                    verify(&model, &path, verifier, &["model.sig", "ignore-me"]).expect_err(&name);
                let expected = match name.as_str() {
                    "empty.bundle.json" => {
                        matches!(
                            err,
                            VerifyError::Bundle(BundleError::Json(JsonError::Syntax(_)))
                        )
                    }
                    "missing-envelope.bundle.json" => {
                        matches!(err, VerifyError::Bundle(BundleError::NoEnvelope(_)))
                    }
                    "missing-verification-material.bundle.json" => matches!(
                        err,
                        VerifyError::Bundle(BundleError::Json(JsonError::Missing(ref f))) if f.contains("verificationMaterial")
                    ),
                    // A Sigstore bundle without its log entry: not a key
                    // signature; for the certificate method, the form the Go
                    // implementation signs in without a chain, whose Fulcio
                    // certificate the CA given does not vouch for.
                    "missing-tlog-entries.bundle.json" if method == "key" => {
                        matches!(err, VerifyError::WrongMaterial { .. })
                    }
                    "missing-tlog-entries.bundle.json" => {
                        matches!(err, VerifyError::Certificate(_))
                    }
                    // Its payload was changed after signing with the golden key
                    // (the reference rejects it for its signature as well).
                    "wrong-predicate.bundle.json" if method == "key" => {
                        matches!(err, VerifyError::BadSignature)
                    }
                    "wrong-predicate.bundle.json" => {
                        matches!(err, VerifyError::WrongMaterial { .. })
                    }
                    other => panic!("unknown vector {other}: {err:?}"),
                };
                assert!(expected, "{sub}/{name} ({method}): {err:?}");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 5, "every invalid vector was checked");
}

//! The reference's Sigstore signatures (model-transparency-golden v0.3.1 to
//! v1.1.0, and the OMS spec's sigstore vector) verify offline with the
//! production root; tampered copies and wrong policies are refused with the
//! right error. The data lies in `testdata/third_party/`.

use testkit::third_party_support;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use model_signing::bundle::{Bundle, BundleError};
use model_signing::hashing::{NoProgress, RelPath};
use model_signing::verify::{verify_bundle, ModelCheckOptions, Signer, VerifyError};
use model_signing_sigstore::{
    Check, IdentityPolicy, Match, SigstoreError, SigstoreVerifier, TrustRoot,
};
use serde_json::{json, Value};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";
const VERSIONS: [&str; 4] = ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"];

fn golden(version: &str) -> PathBuf {
    third_party_support::golden().join(format!("{version}-sigstore"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}

fn verifier(policy: IdentityPolicy) -> SigstoreVerifier {
    SigstoreVerifier::new(TrustRoot::production().expect("production root"), policy)
}

fn exact() -> SigstoreVerifier {
    verifier(IdentityPolicy::exact(IDENTITY, ISSUER))
}

fn options() -> ModelCheckOptions {
    ModelCheckOptions {
        extra_ignore_paths: ["ignore-me", "model.sig"]
            .iter()
            .map(|p| RelPath::parse(p).expect("relpath"))
            .collect(),
        ignore_git_paths: true,
        ..ModelCheckOptions::default()
    }
}

/// Verifies `bundle` (JSON) and the model of `version`.
fn verify(bundle: &Value, v: &SigstoreVerifier, version: &str) -> Result<Signer, VerifyError> {
    let bundle = Bundle::from_json(bundle.to_string().as_bytes())?;
    let verified = verify_bundle(&bundle, v)?;
    let signer = verified.check().signer.clone();
    assert!(verified
        .check()
        .signed_at
        .is_some_and(|t| t > 1_600_000_000));
    verified.check_model(&golden(version), &options(), &NoProgress)?;
    Ok(signer)
}

/// The Sigstore error inside a failed verification.
fn sigstore_error(result: Result<Signer, VerifyError>) -> SigstoreError {
    match result {
        Err(VerifyError::Method { method, source }) => {
            assert_eq!(method, "sigstore");
            *source.downcast::<SigstoreError>().expect("a SigstoreError")
        }
        other => panic!("expected a Sigstore verification error, got {other:?}"),
    }
}

fn rejected_by(result: Result<Signer, VerifyError>, checks: &[Check]) {
    let e = sigstore_error(result);
    assert!(
        e.check().is_some_and(|c| checks.contains(&c)),
        "expected a rejection by {checks:?}, got {e:?}"
    );
}

fn golden_bundle(version: &str) -> Value {
    read_json(&golden(version).join("model.sig"))
}

#[test]
fn golden_signatures_verify_offline() {
    let v = exact();
    for version in VERSIONS {
        let signer = verify(&golden_bundle(version), &v, version)
            .unwrap_or_else(|e| panic!("{version}: {e:?}"));
        assert_eq!(
            signer,
            Signer::Sigstore {
                identity: IDENTITY.into(),
                issuer: ISSUER.into()
            }
        );
    }
}

#[test]
fn oms_spec_vector_verifies() {
    let bundle = read_json(&third_party_support::oms_vectors().join("valid/sigstore.bundle.json"));
    verify(&bundle, &exact(), "v1.1.0").expect("OMS sigstore vector");
}

#[test]
fn trust_from_files() {
    let trust = third_party_support::trust("production");
    for root in [
        TrustRoot::from_trust_config_file(&trust.join("client_trust_config.json")),
        TrustRoot::from_trusted_root_file(&trust.join("trusted_root.json")),
    ] {
        let v = SigstoreVerifier::new(
            root.expect("trust"),
            IdentityPolicy::exact(IDENTITY, ISSUER),
        );
        verify(&golden_bundle("v1.1.0"), &v, "v1.1.0").expect("verifies");
    }
    // Another instance's roots do not verify production bundles.
    for root in [
        TrustRoot::staging().expect("staging"),
        TrustRoot::from_trusted_root_file(
            &third_party_support::trust("github").join("trusted_root.json"),
        )
        .expect("github"),
    ] {
        let v = SigstoreVerifier::new(root, IdentityPolicy::exact(IDENTITY, ISSUER));
        let e = sigstore_error(verify(&golden_bundle("v1.1.0"), &v, "v1.1.0"));
        assert!(e.check().is_some(), "{e:?}");
    }
    assert!(matches!(
        TrustRoot::from_trusted_root_file(Path::new("/nonexistent/trusted_root.json")),
        Err(SigstoreError::Io { .. })
    ));
}

#[test]
fn identity_policy() {
    let bundle = golden_bundle("v1.1.0");
    let run = |identity: Match, issuer: Match| {
        verify(
            &bundle,
            &verifier(IdentityPolicy::new(identity, issuer)),
            "v1.1.0",
        )
    };
    let re = |p: &str| Match::regex(p).expect("pattern");

    assert!(matches!(
        sigstore_error(run(Match::exact("stefanb@us.ibm.co"), Match::exact(ISSUER))),
        SigstoreError::IdentityMismatch { .. }
    ));
    assert!(matches!(
        sigstore_error(run(
            Match::exact(IDENTITY),
            Match::exact("https://accounts.google.com")
        )),
        SigstoreError::IssuerMismatch { .. }
    ));
    // Patterns must match the whole value.
    assert!(matches!(
        sigstore_error(run(re("stefanb@us.ibm"), Match::exact(ISSUER))),
        SigstoreError::IdentityMismatch { .. }
    ));
    assert!(matches!(
        sigstore_error(run(re("us\\.ibm\\.com"), Match::exact(ISSUER))),
        SigstoreError::IdentityMismatch { .. }
    ));
    assert!(matches!(
        sigstore_error(run(
            Match::exact(IDENTITY),
            re("sigstore\\.verify\\.ibm\\.com")
        )),
        SigstoreError::IssuerMismatch { .. }
    ));
    run(
        re("[a-z]+@us\\.ibm\\.com"),
        re("https://sigstore\\.verify\\.ibm\\.com/.*"),
    )
    .expect("anchored patterns that match the whole value");
    // Not a GitHub Actions certificate.
    let gh =
        IdentityPolicy::exact(IDENTITY, ISSUER).github_repository("sigstore/model-transparency");
    assert!(matches!(
        sigstore_error(verify(&bundle, &verifier(gh), "v1.1.0")),
        SigstoreError::ClaimMismatch { .. }
    ));
}

fn entry(b: &mut Value) -> &mut Value {
    &mut b["verificationMaterial"]["tlogEntries"][0]
}

/// Flips one bit of a base64 field.
fn flip(field: &mut Value) {
    let mut bytes = STANDARD
        .decode(field.as_str().expect("base64 string"))
        .expect("base64");
    let last = bytes.len() - 1;
    bytes[last / 2] ^= 0x01;
    *field = json!(STANDARD.encode(bytes));
}

fn tampered(f: impl FnOnce(&mut Value)) -> Result<Signer, VerifyError> {
    let mut b = golden_bundle("v1.1.0");
    f(&mut b);
    verify(&b, &exact(), "v1.1.0")
}

#[test]
fn tampered_payload() {
    let result = tampered(|b| {
        let payload = STANDARD
            .decode(b["dsseEnvelope"]["payload"].as_str().expect("payload"))
            .expect("base64");
        let text = String::from_utf8(payload).expect("utf-8");
        // Point the signature at other content for signme-1.
        let mut statement: Value = serde_json::from_str(&text).expect("statement");
        let digest = statement["predicate"]["resources"][0]["digest"]
            .as_str()
            .expect("digest")
            .to_owned();
        let other = format!(
            "{}{}",
            if digest.starts_with('0') { '1' } else { '0' },
            &digest[1..]
        );
        statement["predicate"]["resources"][0]["digest"] = json!(other);
        b["dsseEnvelope"]["payload"] = json!(STANDARD.encode(statement.to_string()));
    });
    rejected_by(result, &[Check::Signature, Check::TransparencyLog]);

    let result = tampered(|b| b["dsseEnvelope"]["payloadType"] = json!("application/json"));
    assert!(result.is_err());
    let result = tampered(|b| flip(&mut b["dsseEnvelope"]["signatures"][0]["sig"]));
    rejected_by(
        result,
        &[Check::Signature, Check::TransparencyLog, Check::Timestamp],
    );
}

#[test]
fn counts_are_bounded() {
    let e = sigstore_error(tampered(|b| {
        b["verificationMaterial"]["tlogEntries"] = json!([]);
    }));
    assert!(
        matches!(
            e,
            SigstoreError::TlogEntryCount {
                expected: 1,
                found: 0
            }
        ),
        "{e:?}"
    );
    // Nine timestamps: refused when the bundle is read (tests/caps.rs has
    // the Sigstore verifier's own check).
    let result = tampered(|b| {
        let ts = &mut b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
        *ts = json!(vec![ts[0].clone(); 9]);
    });
    assert!(
        matches!(
            result,
            Err(VerifyError::Bundle(BundleError::TooMany {
                count: 9,
                limit: 8,
                ..
            }))
        ),
        "{result:?}"
    );
    let e = sigstore_error(tampered(|b| {
        let one = entry(b).clone();
        b["verificationMaterial"]["tlogEntries"] = json!([one.clone(), one]);
    }));
    assert!(
        matches!(
            e,
            SigstoreError::TlogEntryCount {
                expected: 1,
                found: 2
            }
        ),
        "{e:?}"
    );
}

#[test]
fn tampered_log_entry() {
    // Inclusion proof: a sibling hash, the root hash, the index.
    rejected_by(
        tampered(|b| flip(&mut entry(b)["inclusionProof"]["hashes"][3])),
        &[Check::TransparencyLog],
    );
    rejected_by(
        tampered(|b| flip(&mut entry(b)["inclusionProof"]["rootHash"])),
        &[Check::TransparencyLog, Check::Bundle],
    );
    rejected_by(
        tampered(|b| entry(b)["inclusionProof"]["logIndex"] = json!("476246823")),
        &[Check::TransparencyLog],
    );
    // The checkpoint's signature line.
    rejected_by(
        tampered(|b| {
            let cp = entry(b)["inclusionProof"]["checkpoint"]["envelope"]
                .as_str()
                .expect("checkpoint")
                .replace("wNI9ajBFAiBtV0gov0pC", "wNI9ajBFAiBtV0gov0pD");
            entry(b)["inclusionProof"]["checkpoint"]["envelope"] = json!(cp);
        }),
        &[Check::TransparencyLog, Check::Bundle],
    );
    // The SET, and the time it signs.
    rejected_by(
        tampered(|b| flip(&mut entry(b)["inclusionPromise"]["signedEntryTimestamp"])),
        &[Check::TransparencyLog],
    );
    rejected_by(
        tampered(|b| entry(b)["integratedTime"] = json!("1760062341")),
        &[Check::TransparencyLog],
    );
    // The logged body.
    rejected_by(
        tampered(|b| {
            let body = STANDARD
                .decode(entry(b)["canonicalizedBody"].as_str().expect("body"))
                .expect("base64");
            let text = String::from_utf8(body)
                .expect("utf-8")
                .replacen('a', "b", 1);
            entry(b)["canonicalizedBody"] = json!(STANDARD.encode(text));
        }),
        &[Check::TransparencyLog, Check::Bundle],
    );
    // The RFC 3161 timestamp's signed time: present but unverifiable is fatal.
    rejected_by(
        tampered(|b| {
            let field = &mut b["verificationMaterial"]["timestampVerificationData"]
                ["rfc3161Timestamps"][0]["signedTimestamp"];
            let mut token = STANDARD
                .decode(field.as_str().expect("token"))
                .expect("base64");
            let at = token
                .windows(2)
                .position(|w| w == [0x18, 0x0f])
                .expect("a GeneralizedTime");
            // 2025 -> 2024: one year earlier.
            token[at + 5] -= 1;
            *field = json!(STANDARD.encode(token));
        }),
        &[Check::Timestamp],
    );
}

#[test]
fn relabelled_media_type_skips_nothing() {
    for media_type in [
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
    ] {
        let e = sigstore_error(tampered(|b| {
            b["mediaType"] = json!(media_type);
            entry(b).as_object_mut().map(|o| o.remove("inclusionProof"));
        }));
        assert!(e.check().is_some(), "{media_type}: {e:?}");
    }
}

#[test]
fn certificate_from_another_bundle() {
    let other = golden_bundle("v1.0.0")["verificationMaterial"]["certificate"].clone();
    assert_ne!(
        other,
        golden_bundle("v1.1.0")["verificationMaterial"]["certificate"]
    );
    let e = sigstore_error(tampered(|b| {
        b["verificationMaterial"]["certificate"] = other
    }));
    assert!(e.check().is_some(), "{e:?}");
}

#[test]
fn wrong_method_and_changed_model() {
    let key_sig = read_json(&third_party_support::golden().join("v1.1.0-elliptic-key/model.sig"));
    let bundle = Bundle::from_json(key_sig.to_string().as_bytes()).expect("bundle");
    assert!(matches!(
        verify_bundle(&bundle, &exact()),
        Err(VerifyError::WrongMaterial { .. })
    ));

    // A valid signature over another model's content.
    let dir = tempfile::tempdir().expect("tempdir");
    for f in ["signme-1", "signme-2"] {
        std::fs::copy(golden("v1.1.0").join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::write(dir.path().join("signme-2"), "changed\n").expect("write");
    let bundle = Bundle::from_json(golden_bundle("v1.1.0").to_string().as_bytes()).expect("bundle");
    let verified = verify_bundle(&bundle, &exact()).expect("signature verifies");
    match verified.check_model(dir.path(), &options(), &NoProgress) {
        Err(VerifyError::ModelMismatch(report)) => {
            assert_eq!(report.changed.len(), 1);
            assert_eq!(report.changed[0].name, "signme-2");
        }
        other => panic!("expected a model mismatch, got {other:?}"),
    }
}

//! The Python reference signs and verifies against the stand-in, with no
//! network: `model_signing` 1.1.1 (DSSE bundles) for every flavour, and
//! sigstore-python 4.5.1 directly (message-signature bundles, so the
//! hashedrekord entry kinds are exercised too). These tests need nothing from
//! our own Sigstore code; they show the stand-in is a Sigstore instance real
//! clients accept.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use sigstore_standin_harness::reference::{
    assert_failure, assert_success, model_signing, python, run,
};
use sigstore_standin_harness::{Flavour, StandIn};

/// A second, independent instance (its own keys), for "wrong instance" cases.
fn other_instance() -> &'static StandIn {
    static OTHER: OnceLock<StandIn> = OnceLock::new();
    OTHER.get_or_init(|| StandIn::start().unwrap_or_else(|e| panic!("{e}")))
}

fn small_model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(model.join("weights")).expect("mkdir");
    std::fs::write(model.join("config.json"), b"{\"layers\": 2}\n").expect("write");
    std::fs::write(model.join("weights/part-0.bin"), vec![7u8; 4096]).expect("write");
    model
}

fn read_bundle(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("bundle is readable");
    serde_json::from_str(&text).expect("bundle is JSON")
}

/// What the flavour's bundles must carry.
fn check_bundle_shape(flavour: Flavour, bundle: &Value, dsse: bool) {
    let material = &bundle["verificationMaterial"];
    let entry = &material["tlogEntries"][0];
    let kind = &entry["kindVersion"];
    let timestamps = material["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .map_or(0, Vec::len);
    match flavour {
        Flavour::RekorV1 | Flavour::RekorV1Tsa => {
            let expected = if dsse { "dsse" } else { "hashedrekord" };
            assert_eq!(kind["kind"], expected, "{bundle}");
            assert_eq!(kind["version"], "0.0.1");
            assert!(entry["inclusionPromise"]["signedEntryTimestamp"].is_string());
            assert!(entry["integratedTime"].is_string());
            let want = usize::from(flavour == Flavour::RekorV1Tsa);
            assert_eq!(timestamps, want, "{flavour:?}: {bundle}");
        }
        Flavour::RekorV2 => {
            assert_eq!(kind["kind"], "hashedrekord", "{bundle}");
            assert_eq!(kind["version"], "0.0.2");
            assert!(entry.get("inclusionPromise").is_none());
            assert!(entry.get("integratedTime").is_none());
            assert_eq!(timestamps, 1, "{bundle}");
        }
    }
    let proof = &entry["inclusionProof"];
    let index: u64 = proof["logIndex"]
        .as_str()
        .expect("logIndex")
        .parse()
        .expect("number");
    let size: u64 = proof["treeSize"]
        .as_str()
        .expect("treeSize")
        .parse()
        .expect("number");
    assert!(index < size, "logIndex {index} < treeSize {size}");
    assert!(proof["checkpoint"]["envelope"].is_string());
}

fn sign_model(standin: &StandIn, flavour: Flavour, model: &Path, subject: &str, sig: &Path) {
    let token = standin.identity_token(subject).expect("token");
    let out = run(
        &model_signing(),
        [
            "sign".as_ref(),
            "sigstore".as_ref(),
            model.as_os_str(),
            "--trust_config".as_ref(),
            standin.trust_config(flavour).as_os_str(),
            "--identity_token".as_ref(),
            token.as_ref(),
            "--signature".as_ref(),
            sig.as_os_str(),
        ],
    );
    assert_success(&format!("model_signing sign sigstore ({flavour:?})"), &out);
}

fn verify_model(
    trust_config: &Path,
    model: &Path,
    sig: &Path,
    identity: &str,
    issuer: &str,
) -> std::process::Output {
    run(
        &model_signing(),
        [
            "verify".as_ref(),
            "sigstore".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            sig.as_os_str(),
            "--trust_config".as_ref(),
            trust_config.as_os_str(),
            "--identity".as_ref(),
            identity.as_ref(),
            "--identity_provider".as_ref(),
            issuer.as_ref(),
        ],
    )
}

/// Checks, in one Python process (interpreter start-up dominates these
/// tests): facts of the leaf certificate, then verifications through the
/// reference's API that must fail. Prints a JSON object.
const INSPECT_AND_REFUSE: &str = r#"
import json, pathlib, sys
from cryptography import x509
import model_signing

bundle, model, sig, subject, issuer, config, other_config = sys.argv[1:8]
b = json.load(open(bundle))
import base64
c = x509.load_der_x509_certificate(base64.b64decode(b["verificationMaterial"]["certificate"]["rawBytes"]))
ext = lambda cls: c.extensions.get_extension_for_class(cls).value
facts = {
    "uris": ext(x509.SubjectAlternativeName).get_values_for_type(x509.UniformResourceIdentifier),
    "issuer_ext": c.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")).value.value.decode("latin1"),
    "lifetime": (c.not_valid_after_utc - c.not_valid_before_utc).total_seconds(),
    "eku_code_signing": x509.oid.ExtendedKeyUsageOID.CODE_SIGNING in ext(x509.ExtendedKeyUsage),
    "scts": len(ext(x509.PrecertificateSignedCertificateTimestamps)),
}

def verify(identity, oidc_issuer, trust_config, model_path):
    try:
        model_signing.verifying.Config().use_sigstore_verifier(
            identity=identity, oidc_issuer=oidc_issuer,
            trust_config=pathlib.Path(trust_config)).verify(model_path, sig)
        return "verified"
    except Exception as e:
        return f"{type(e).__name__}: {e}"

facts["wrong_issuer"] = verify(subject, "https://accounts.example.com", config, model)
facts["other_instance"] = verify(subject, issuer, other_config, model)
pathlib.Path(model, "config.json").write_text('{"layers": 3}\n')
facts["changed_model"] = verify(subject, issuer, config, model)
print(json.dumps(facts))
"#;

fn reference_model_round_trip(flavour: Flavour) {
    let standin = StandIn::shared();
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = small_model(tmp.path());
    let sig = tmp.path().join("model.sig");
    let subject = format!("https://example.com/signers/{}", flavour.name());
    let config = standin.trust_config(flavour);

    // (a) the reference signs, (b) verifies, (c) refuses another identity.
    sign_model(standin, flavour, &model, &subject, &sig);
    check_bundle_shape(flavour, &read_bundle(&sig), true);
    let ok = verify_model(config, &model, &sig, &subject, standin.issuer());
    assert_success(&format!("model_signing verify sigstore ({flavour:?})"), &ok);
    let wrong_identity = verify_model(
        config,
        &model,
        &sig,
        "https://example.com/someone-else",
        standin.issuer(),
    );
    let why = assert_failure("verify with the wrong identity", &wrong_identity);
    assert!(why.contains("SAN"), "{why}");

    // The certificate, and more refusals, in one process.
    let out = run(
        &python(),
        [
            "-c".as_ref(),
            INSPECT_AND_REFUSE.as_ref(),
            sig.as_os_str(),
            model.as_os_str(),
            sig.as_os_str(),
            subject.as_ref(),
            standin.issuer().as_ref(),
            config.as_os_str(),
            other_instance().trust_config(flavour).as_os_str(),
        ],
    );
    assert_success("inspecting the bundle", &out);
    let facts: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(facts["uris"], serde_json::json!([subject]), "{facts}");
    // The .8 extension holds a DER UTF8String: tag, length, then the URL.
    let issuer_ext = facts["issuer_ext"].as_str().expect("string");
    assert!(issuer_ext.ends_with(standin.issuer()), "{facts}");
    assert_eq!(facts["lifetime"], 600.0, "{facts}");
    assert_eq!(facts["eku_code_signing"], true, "{facts}");
    assert_eq!(facts["scts"], 1, "{facts}");
    // Each refusal for its own reason (the trust root of another instance
    // fails at the certificate chain, or at the timestamps for Rekor v2).
    for (case, reason) in [
        ("wrong_issuer", "OIDCIssuer does not match"),
        ("other_instance", "Error"),
        ("changed_model", "Hash mismatch for 'config.json'"),
    ] {
        let result = facts[case].as_str().expect("string");
        assert!(result.contains(reason), "{case}: {result}");
    }
}

#[test]
fn reference_signs_and_verifies_rekor_v1() {
    reference_model_round_trip(Flavour::RekorV1);
}

#[test]
fn reference_signs_and_verifies_rekor_v1_with_tsa() {
    reference_model_round_trip(Flavour::RekorV1Tsa);
}

#[test]
fn reference_signs_and_verifies_rekor_v2_with_tsa() {
    reference_model_round_trip(Flavour::RekorV2);
}

/// sigstore-python signs two files (message-signature bundles, hashedrekord
/// entries; the second lands later in the log, so its inclusion proof is not
/// the trivial one) and verifies them, then refuses another identity.
fn sigstore_python_round_trip(flavour: Flavour) {
    let standin = StandIn::shared();
    let tmp = tempfile::tempdir().expect("tempdir");
    let subject = format!("{}@example.com", flavour.name());
    let config = standin.trust_config(flavour);
    let files: Vec<PathBuf> = (0..2)
        .map(|i| {
            let file = tmp.path().join(format!("artifact-{i}.txt"));
            std::fs::write(&file, format!("artifact {i}\n")).expect("write");
            file
        })
        .collect();
    let sigstore = |args: &[&std::ffi::OsStr]| {
        let mut all: Vec<&std::ffi::OsStr> = vec![
            "-m".as_ref(),
            "sigstore".as_ref(),
            "--trust-config".as_ref(),
            config.as_os_str(),
        ];
        all.extend_from_slice(args);
        all.extend(files.iter().map(|f| f.as_os_str()));
        run(&python(), all)
    };
    let token = standin.identity_token(&subject).expect("token");
    let signed = sigstore(&["sign".as_ref(), "--identity-token".as_ref(), token.as_ref()]);
    assert_success(&format!("sigstore sign ({flavour:?})"), &signed);
    for file in &files {
        let bundle = PathBuf::from(format!("{}.sigstore.json", file.display()));
        check_bundle_shape(flavour, &read_bundle(&bundle), false);
    }
    for (identity, expect_ok) in [(subject.as_str(), true), ("other@example.com", false)] {
        let out = sigstore(&[
            "verify".as_ref(),
            "identity".as_ref(),
            "--cert-identity".as_ref(),
            identity.as_ref(),
            "--cert-oidc-issuer".as_ref(),
            standin.issuer().as_ref(),
        ]);
        if expect_ok {
            assert_success(&format!("sigstore verify identity ({flavour:?})"), &out);
        } else {
            assert_failure("sigstore verify with the wrong identity", &out);
        }
    }
}

#[test]
fn sigstore_python_signs_and_verifies_rekor_v1() {
    sigstore_python_round_trip(Flavour::RekorV1);
}

#[test]
fn sigstore_python_signs_and_verifies_rekor_v2() {
    sigstore_python_round_trip(Flavour::RekorV2);
}

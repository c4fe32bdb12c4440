//! `sign-bundle` of the sigstore-conformance protocol, against the loopback
//! Sigstore stand-in: artifacts (message signatures) and in-toto statements
//! (DSSE), for Rekor v1 and Rekor v2 with a timestamp authority, each checked
//! with `verify-bundle`. The trust material is passed the way the suite
//! passes it for a private instance: `--trusted-root` and `--signing-config`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sigstore_standin_harness::{Flavour, StandIn};

fn conformance(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_model-signing-conformance"))
        .args(args)
        .output()
        .expect("run model-signing-conformance")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sign(flavour: Flavour, in_toto: bool, input: &Path, bundle: &Path, subject: &str) -> Output {
    let standin = StandIn::shared();
    let token = standin.identity_token(subject).expect("token");
    let mut args: Vec<&std::ffi::OsStr> = vec!["sign-bundle".as_ref()];
    if in_toto {
        args.push("--in-toto".as_ref());
    }
    args.extend([
        "--identity-token".as_ref(),
        token.as_ref(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        "--trusted-root".as_ref(),
        standin.trusted_root().as_os_str(),
        "--signing-config".as_ref(),
        standin.signing_config(flavour).as_os_str(),
        input.as_os_str(),
    ]);
    conformance(&args)
}

fn verify(bundle: &Path, identity: &str, artifact: &str) -> Output {
    let standin = StandIn::shared();
    conformance(&[
        "verify-bundle".as_ref(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        "--certificate-identity".as_ref(),
        identity.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        standin.issuer().as_ref(),
        "--trusted-root".as_ref(),
        standin.trusted_root().as_os_str(),
        artifact.as_ref(),
    ])
}

fn sign_and_verify(flavour: Flavour) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let subject = format!("https://example.com/conformance/{}", flavour.name());

    // An artifact, as a message signature.
    let artifact = tmp.path().join("a.txt");
    std::fs::write(&artifact, b"an artifact for the conformance client\n").expect("write");
    let bundle = tmp.path().join("a.txt.sigstore.json");
    let out = sign(flavour, false, &artifact, &bundle, &subject);
    assert!(out.status.success(), "{}", text(&out));
    let value: Value =
        serde_json::from_slice(&std::fs::read(&bundle).expect("read")).expect("JSON");
    assert!(
        value["messageSignature"]["signature"].is_string(),
        "{value}"
    );
    let kind = &value["verificationMaterial"]["tlogEntries"][0]["kindVersion"];
    let expected = match flavour {
        Flavour::RekorV2 => json!({"kind": "hashedrekord", "version": "0.0.2"}),
        _ => json!({"kind": "hashedrekord", "version": "0.0.1"}),
    };
    assert_eq!(kind, &expected);
    let path = artifact.to_str().expect("utf-8");
    let out = verify(&bundle, &subject, path);
    assert!(out.status.success(), "{}", text(&out));
    let out = verify(&bundle, "https://example.com/other", path);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // An in-toto statement, as a DSSE envelope.
    let digest = hex::encode(Sha256::digest(b"the subject"));
    let statement = tmp.path().join("statement.json");
    let content = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "subject", "digest": {"sha256": digest}}],
        "predicateType": "https://example.com/predicate/v1",
        "predicate": {"k": "v"},
    });
    std::fs::write(&statement, content.to_string()).expect("write");
    let bundle = tmp.path().join("statement.sigstore.json");
    let out = sign(flavour, true, &statement, &bundle, &subject);
    assert!(out.status.success(), "{}", text(&out));
    let value: Value =
        serde_json::from_slice(&std::fs::read(&bundle).expect("read")).expect("JSON");
    assert_eq!(
        value["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    let out = verify(&bundle, &subject, &format!("sha256:{digest}"));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn sign_bundle_rekor_v1() {
    sign_and_verify(Flavour::RekorV1);
}

#[test]
fn sign_bundle_rekor_v2_with_tsa() {
    sign_and_verify(Flavour::RekorV2);
}

#[test]
fn sign_bundle_usage_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("a");
    std::fs::write(&input, b"a").expect("write");
    let bundle = tmp.path().join("b.json");
    for args in [
        vec!["sign-bundle".as_ref(), input.as_os_str()],
        vec![
            "sign-bundle".as_ref(),
            "--identity-token".as_ref(),
            "not-a-jwt".as_ref(),
            "--bundle".as_ref(),
            bundle.as_os_str(),
            input.as_os_str(),
        ],
        vec![
            "sign-bundle".as_ref(),
            "--trusted-root".as_ref(),
            input.as_os_str(),
            "--identity-token".as_ref(),
            "a.b.c".as_ref(),
            "--bundle".as_ref(),
            bundle.as_os_str(),
            input.as_os_str(),
        ],
    ] {
        let out = conformance(&args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    }
    assert!(!bundle.exists());
}

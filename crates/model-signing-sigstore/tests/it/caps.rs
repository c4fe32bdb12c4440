//! The Sigstore verifier's own bounds on a bundle, checked before any
//! cryptography: exactly the one transparency log entry the production root
//! calls for, at most `MAX_TIMESTAMPS` RFC 3161 timestamps and at most
//! `MAX_CHAIN_CERTIFICATES` certificates. They apply to bundles read by the
//! Sigstore crate itself (the conformance client's path); model signatures
//! read by `Bundle::from_json` meet the same bounds there first
//! (`crates/model-signing/tests/it/caps.rs`).
//!
//! The reference's v1.1.0 production signature (one Rekor entry, one
//! timestamp) is the template, from `testdata/third_party/`.

use testkit::third_party_support;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use model_signing::bundle::Bundle;
use model_signing::hashing::{NoProgress, RelPath};
use model_signing::limits::{MAX_CHAIN_CERTIFICATES, MAX_TIMESTAMPS};
use model_signing::verify::{verify_bundle, ModelCheckOptions};
use model_signing_sigstore::{
    Artifact, IdentityPolicy, SigstoreBundle, SigstoreError, SigstoreVerifier, TrustRoot,
};
use serde_json::{json, Value};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn golden() -> PathBuf {
    third_party_support::golden().join("v1.1.0-sigstore")
}

fn template() -> Value {
    serde_json::from_slice(&std::fs::read(golden().join("model.sig")).expect("read")).expect("json")
}

fn verifier() -> SigstoreVerifier {
    SigstoreVerifier::new(
        TrustRoot::production().expect("production root"),
        IdentityPolicy::exact(IDENTITY, ISSUER),
    )
}

/// The statement's subject digest, the artifact a DSSE bundle is verified
/// against.
fn subject(bundle: &Value) -> Artifact<'static> {
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("base64");
    let statement: Value = serde_json::from_slice(&payload).expect("statement");
    let digest = statement["subject"][0]["digest"]["sha256"]
        .as_str()
        .expect("digest");
    Artifact::parse_digest(&format!("sha256:{digest}")).expect("digest")
}

/// Verifies the template changed by `mutate` through the Sigstore crate's
/// own bundle reader.
fn verify_sigstore(mutate: impl FnOnce(&mut Value)) -> Result<(), SigstoreError> {
    let mut b = template();
    mutate(&mut b);
    let bundle = SigstoreBundle::from_json(b.to_string().as_bytes())?;
    verifier()
        .verify_artifact(&bundle, &subject(&b))
        .map(|_| ())
}

fn with_timestamps(n: usize) -> impl FnOnce(&mut Value) {
    move |b: &mut Value| {
        let ts = &mut b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
        *ts = json!(vec![ts[0].clone(); n]);
    }
}

fn malformed(result: Result<(), SigstoreError>, contains: &str) {
    match result {
        Err(SigstoreError::MalformedBundle(m)) => assert!(m.contains(contains), "{m}"),
        other => panic!("expected MalformedBundle({contains:?}), got {other:?}"),
    }
}

#[test]
fn timestamps_at_the_limit_are_verified_one_more_is_refused() {
    assert_eq!(MAX_TIMESTAMPS, 8);
    verify_sigstore(with_timestamps(MAX_TIMESTAMPS)).expect("8 copies of a valid timestamp");
    malformed(
        verify_sigstore(with_timestamps(MAX_TIMESTAMPS + 1)),
        "9 RFC 3161 timestamps; at most 8 are accepted",
    );
}

#[test]
fn a_model_signature_with_timestamps_at_the_limit_verifies() {
    let mut b = template();
    with_timestamps(MAX_TIMESTAMPS)(&mut b);
    let bundle = Bundle::from_json(b.to_string().as_bytes()).expect("bundle");
    let verified = verify_bundle(&bundle, &verifier()).expect("verifies");
    let options = ModelCheckOptions {
        extra_ignore_paths: ["ignore-me", "model.sig"]
            .iter()
            .map(|p| RelPath::parse(p).expect("relpath"))
            .collect(),
        ignore_git_paths: true,
        ..ModelCheckOptions::default()
    };
    verified
        .check_model(&golden(), &options, &NoProgress)
        .expect("the model matches");
}

#[test]
fn exactly_one_tlog_entry() {
    for n in [0, 2, 9] {
        let result = verify_sigstore(|b| {
            let one = b["verificationMaterial"]["tlogEntries"][0].clone();
            b["verificationMaterial"]["tlogEntries"] = json!(vec![one; n]);
        });
        match result {
            Err(SigstoreError::TlogEntryCount { expected: 1, found }) => assert_eq!(found, n),
            other => panic!("{n} entries: expected TlogEntryCount, got {other:?}"),
        }
    }
}

#[test]
fn chain_certificates_at_the_limit_pass_the_count_one_more_is_refused() {
    assert_eq!(MAX_CHAIN_CERTIFICATES, 32);
    let chain = |n: usize| {
        move |b: &mut Value| {
            b["mediaType"] = json!("application/vnd.dev.sigstore.bundle+json;version=0.2");
            let vm = b["verificationMaterial"].as_object_mut().expect("object");
            let leaf = vm.remove("certificate").expect("certificate");
            vm.insert(
                "x509CertificateChain".into(),
                json!({ "certificates": vec![leaf; n] }),
            );
        }
    };
    malformed(
        verify_sigstore(chain(MAX_CHAIN_CERTIFICATES + 1)),
        "33 certificates in x509CertificateChain; at most 32 are accepted",
    );
    // At the limit the count passes; what follows decides (the copies of
    // the leaf are not a chain).
    if let Err(SigstoreError::MalformedBundle(m)) = verify_sigstore(chain(MAX_CHAIN_CERTIFICATES)) {
        assert!(!m.contains("at most"), "{m}");
    }
}

/// Trust files (`--trusted-root`, `--trust-config`) are read up to 4 MiB;
/// devices, which report no size, are read only that far. A file at the
/// limit is read (and then judged on its content).
#[test]
fn trust_files_at_the_limit_are_read_one_byte_more_is_refused() {
    const LIMIT: u64 = 4 << 20;
    let dir = tempfile::tempdir().expect("tempdir");
    let sparse = |name: &str, len: u64| {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .expect("create")
            .set_len(len)
            .expect("set_len");
        path
    };
    let too_large = |result: Result<TrustRoot, SigstoreError>| match result {
        Err(e @ SigstoreError::TrustRoot { .. }) => {
            assert!(
                e.to_string()
                    .contains(&format!("larger than the {LIMIT} bytes accepted")),
                "{e}"
            );
        }
        other => panic!("expected a TrustRoot error, got {:?}", other.map(|_| ())),
    };
    let over = sparse("over.json", LIMIT + 1);
    too_large(TrustRoot::from_trusted_root_file(&over));
    too_large(TrustRoot::from_trust_config_file(&over));
    too_large(TrustRoot::from_trusted_root_file(Path::new("/dev/zero")));

    // At the limit: read, then refused as JSON (NUL bytes), not for its size.
    let at = sparse("at.json", LIMIT);
    match TrustRoot::from_trusted_root_file(&at) {
        Err(e) => assert!(!e.to_string().contains("larger than"), "{e}"),
        Ok(_) => panic!("NUL bytes accepted as a trusted root"),
    }
}

//! The reference's Sigstore signatures (model-transparency-golden v0.3.1 to
//! v1.1.0) verify offline with the signature file inside the model folder,
//! where the library leaves it out by itself, and outside it; what was left
//! out is reported. Key and certificate signatures are checked the same way
//! in `crates/model-signing/tests/it/verify_rules.rs`.

use testkit::third_party_support;

use std::fs;
use std::path::Path;

use model_signing::bundle::Bundle;
use model_signing::hashing::{NoProgress, RelPath};
use model_signing::verify::{verify_bundle, LeftOut, LeftOutReason, ModelCheckOptions};
use model_signing_sigstore::{IdentityPolicy, SigstoreVerifier, TrustRoot};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";
const VERSIONS: [&str; 4] = ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"];

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

fn verify(what: &str, model: &Path, signature: &Path, expected: &[(&str, LeftOutReason)]) {
    let verifier = SigstoreVerifier::new(
        TrustRoot::production().expect("production root"),
        IdentityPolicy::exact(IDENTITY, ISSUER),
    );
    let bundle = Bundle::from_json(&fs::read(signature).expect("read")).expect("bundle");
    let verified = verify_bundle(&bundle, &verifier).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    let options = ModelCheckOptions {
        extra_ignore_paths: if model.join("ignore-me").exists() {
            vec![RelPath::parse("ignore-me").expect("relpath")]
        } else {
            Vec::new()
        },
        signature_path: Some(signature.to_owned()),
        ..ModelCheckOptions::default()
    };
    let ok = verified
        .check_model(model, &options, &NoProgress)
        .unwrap_or_else(|e| panic!("{what}: {e:?}"));
    assert_eq!(ok.resources_checked, 2, "{what}");
    let expected: Vec<LeftOut> = expected
        .iter()
        .map(|(path, reason)| LeftOut {
            path: (*path).to_owned(),
            reason: *reason,
        })
        .collect();
    assert_eq!(ok.left_out, expected, "{what}");
}

#[test]
fn golden_sigstore_signatures_verify_with_the_signature_inside_and_outside_the_model() {
    for version in VERSIONS {
        let golden = third_party_support::golden().join(format!("{version}-sigstore"));
        let tmp = tempfile::tempdir().expect("tempdir");
        // v1.1.0 lists `ignore-me` and `model.sig` in its signed ignore paths.
        let ignore_me = if version == "v1.1.0" {
            LeftOutReason::SignedIgnorePath
        } else {
            LeftOutReason::UserIgnorePath
        };
        let mut left_out = Vec::new();
        if golden.join("ignore-me").exists() {
            left_out.push(("ignore-me", ignore_me));
        }

        let outside = tmp.path().join("outside/model");
        copy_model(&golden, &outside);
        let sig = tmp.path().join("outside/model.sig");
        fs::copy(golden.join("model.sig"), &sig).expect("copy");
        verify(&format!("{version}, outside"), &outside, &sig, &left_out);

        let inside = tmp.path().join("inside");
        copy_model(&golden, &inside);
        fs::copy(golden.join("model.sig"), inside.join("model.sig")).expect("copy");
        left_out.push(("model.sig", LeftOutReason::SignatureFile));
        verify(
            &format!("{version}, inside"),
            &inside,
            &inside.join("model.sig"),
            &left_out,
        );
    }
}

//! The Sigstore crate's own bundle parsing (`SigstoreBundle::from_json`) and
//! its verifier, offline against the embedded production trust root, on
//! arbitrary bytes: nothing may panic, and nothing fuzzed may verify.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use model_signing::bundle::Bundle;
use model_signing::verify::verify_bundle;
use model_signing_sigstore::{
    Artifact, IdentityPolicy, SigstoreBundle, SigstoreVerifier, TrustRoot,
};

fn verifier() -> &'static SigstoreVerifier {
    static VERIFIER: OnceLock<SigstoreVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        SigstoreVerifier::new(
            TrustRoot::production().expect("the embedded root parses"),
            IdentityPolicy::exact("fuzz@example.com", "https://accounts.example.com"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    match SigstoreBundle::from_json(data) {
        Ok(bundle) => {
            let _ = bundle.media_type();
            let artifact = Artifact::Bytes(b"fuzz");
            if let Ok(v) = verifier().verify_artifact(&bundle, &artifact) {
                panic!("a fuzzed bundle verified for {:?}", v.identity());
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(bundle) = Bundle::from_json(data) {
        if let Err(e) = verify_bundle(&bundle, verifier()) {
            let _ = e.to_string();
        } else {
            panic!("a fuzzed model bundle verified against the production root");
        }
    }
});

//! `Bundle::from_json` on arbitrary bytes. A bundle that parses must write
//! back to JSON that parses to the same bundle, and must survive signature
//! verification against a fixed key without panicking.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use model_signing::bundle::Bundle;
use model_signing::keys::PublicKey;
use model_signing::verify::{verify_bundle, KeyVerifier};

/// The key of the golden key-signed bundles in `testdata/keys`, so that those
/// seeds verify and their mutations reach the payload checks.
fn verifier() -> &'static KeyVerifier {
    static VERIFIER: OnceLock<KeyVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let pem = include_str!("../../testdata/keys/certtool-p384-pub.pem");
        KeyVerifier::new(PublicKey::from_pem(pem).expect("the fixture key parses"))
    })
}

fuzz_target!(|data: &[u8]| {
    let bundle = match Bundle::from_json(data) {
        Ok(bundle) => bundle,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = bundle.material.kind();

    let text = bundle.to_json();
    let again = Bundle::from_json(text.as_bytes())
        .unwrap_or_else(|e| panic!("a parsed bundle writes JSON that does not parse: {e}\n{text}"));
    assert_eq!(again.media_type, bundle.media_type);
    assert_eq!(again.material, bundle.material);
    assert_eq!(again.tlog_entries, bundle.tlog_entries);
    assert_eq!(again.timestamp_data, bundle.timestamp_data);
    let mut envelope = bundle.envelope.clone();
    // `to_json` writes a missing keyid as "".
    envelope.keyid.get_or_insert_with(String::new);
    assert_eq!(again.envelope, envelope);
    assert_eq!(again.to_json(), text, "to_json is not stable");

    match verify_bundle(&bundle, verifier()) {
        Ok(verified) => {
            let _ = verified.value().manifest.root_digest_hex();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

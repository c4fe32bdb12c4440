//! RFC 3161 timestamps: `Timestamp::from_der` on arbitrary bytes (responses
//! and bare tokens), then `check_timestamps` of a bundle that carries the
//! input as its one timestamp over the signature `fuzz signature`, against a
//! fixed authority (the root of `testdata/timestamps/`), and
//! `TimestampAuthority::from_pem` on the same bytes.
//!
//! A timestamp that verifies must parse on its own, be over the signature,
//! and carry a time within the authority's validity (2020 to 2069): nothing
//! else can be signed by that authority's key.

#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use model_signing::bundle::{Bundle, VerificationMaterial};
use model_signing::dsse::Envelope;
use model_signing::timestamp::{check_timestamps, Timestamp, TimestampAuthority};

const ROOT: &[u8] = include_bytes!("../../testdata/timestamps/root.pem");
const SIGNATURE: &[u8] = b"fuzz signature";

fuzz_target!(|data: &[u8]| {
    let parsed = Timestamp::from_der(data, "input");
    if let Ok(t) = &parsed {
        let _ = (t.time(), t.serial(), t.covers(SIGNATURE), t.embedded_signer());
    }
    let mut bundle = Bundle::new(
        VerificationMaterial::PublicKey {
            hint: Some(String::new()),
            raw_bytes: None,
            key_details: None,
        },
        Envelope {
            payload: Vec::new(),
            payload_type: String::new(),
            signature: SIGNATURE.to_vec(),
            keyid: None,
        },
    );
    bundle.timestamp_data = Some(serde_json::json!({
        "rfc3161Timestamps": [{
            "signedTimestamp": base64::engine::general_purpose::STANDARD.encode(data)
        }]
    }));
    let authority = TimestampAuthority::from_pem(ROOT).expect("the fixed authority loads");
    match check_timestamps(&bundle, std::slice::from_ref(&authority)) {
        Ok(outcome) => {
            let t = parsed.expect("a verified timestamp parses on its own");
            assert!(t.covers(SIGNATURE), "a verified timestamp is over the signature");
            assert_eq!(outcome.verified.len(), 1);
            assert_eq!(outcome.verified[0].time, t.time());
            assert!(
                (1_577_836_800..=3_155_760_000).contains(&t.time()),
                "verified at {} outside the authority's validity",
                t.time()
            );
        }
        Err(e) => {
            let _ = (e.to_string(), e.kind());
        }
    }
    if let Err(e) = TimestampAuthority::from_pem(data) {
        let _ = e.to_string();
    }
});

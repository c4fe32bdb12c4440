//! `parse_statement` on arbitrary payloads (the in-toto statement and the
//! model-signing predicate). A v1.0 statement that is accepted must be
//! rebuilt by `build_statement` into a payload that parses to the same
//! manifest.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model_signing::dsse::IN_TOTO_PAYLOAD_TYPE;
use model_signing::statement::{build_statement, parse_resource_name, parse_statement};

fuzz_target!(|data: &[u8]| {
    let signed = match parse_statement(IN_TOTO_PAYLOAD_TYPE, data) {
        Ok(s) => s,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let manifest = &signed.manifest;
    assert!(
        !manifest.resources.is_empty(),
        "a statement without resources was accepted"
    );
    assert_eq!(manifest.resources.len(), signed.keys.len());
    assert_eq!(signed.root_digest, manifest.root_digest_hex());
    for (resource, key) in manifest.resources.iter().zip(&signed.keys) {
        assert_eq!(resource.name, key.to_string());
        let again = parse_resource_name(&resource.name, manifest.serialization.method)
            .expect("a signed resource name parses again");
        assert_eq!(&again, key);
    }
    if signed.legacy {
        return;
    }
    let rebuilt = build_statement(manifest);
    let mut again = parse_statement(IN_TOTO_PAYLOAD_TYPE, &rebuilt).unwrap_or_else(|e| {
        panic!(
            "a rebuilt statement does not parse: {e}\n{}",
            String::from_utf8_lossy(&rebuilt)
        )
    });
    // The statement digest is of the bytes, which the rebuild formats anew;
    // it differs exactly when the bytes do.
    assert_eq!(
        again.statement_digest == signed.statement_digest,
        rebuilt.as_slice() == data
    );
    again.statement_digest = signed.statement_digest;
    assert_eq!(again, signed);
});

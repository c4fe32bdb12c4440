//! Certificates: `Certificate::from_der` and `from_pem_bundle` on arbitrary
//! bytes, every accessor of what parses, then `verify_chain` with the first
//! certificate as the leaf, the last as the only trust anchor and the others
//! as intermediates, under both chain policies.
//!
//! A parsed certificate must write back to DER and PEM that parse to the same
//! certificate; a path that validates must run leaf to anchor, each
//! certificate named as the issuer of the one before, valid at the time
//! checked and no longer than the policy allows.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model_signing::x509::{
    check_signing_certificate, verify_chain, Certificate, ChainPolicy, EKU_CODE_SIGNING,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = Certificate::from_der(data) {
        inspect(&cert);
        chains(std::slice::from_ref(&cert));
    }
    match Certificate::from_pem_bundle(data) {
        Ok(certs) => {
            assert!(!certs.is_empty(), "an empty PEM bundle was accepted");
            for cert in &certs {
                inspect(cert);
            }
            chains(&certs);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

fn inspect(cert: &Certificate) {
    let _ = (
        cert.subject(),
        cert.issuer(),
        cert.is_self_issued(),
        cert.serial_hex(),
        cert.fingerprint_sha256(),
        cert.not_before(),
        cert.not_after(),
        cert.is_ca(),
        cert.path_len_constraint(),
        cert.extended_key_usage(),
        cert.subject_alt_names(),
        cert.subject_alt_name_entries(),
        cert.subject_key_id(),
        cert.authority_key_id(),
        cert.extension("2.5.29.19"),
        cert.extension_by_oid(&EKU_CODE_SIGNING),
        cert.signature_algorithm_oid(),
        cert.tbs_der(),
        cert.spki_der(),
        format!("{cert:?}"),
    );
    if let Some(ku) = cert.key_usage() {
        let _ = (ku.bits(), ku.digital_signature(), ku.key_cert_sign());
    }
    let again = Certificate::from_der(cert.der()).expect("its own DER parses");
    assert_eq!(&again, cert);
    let pem = cert.to_pem();
    let again = Certificate::from_pem_bundle(pem.as_bytes()).expect("its own PEM parses");
    assert_eq!(again.as_slice(), std::slice::from_ref(cert));
}

fn chains(certs: &[Certificate]) {
    let Some((leaf, rest)) = certs.split_first() else {
        return;
    };
    let (anchors, intermediates) = match rest.split_last() {
        Some((anchor, middle)) => (std::slice::from_ref(anchor), middle),
        None => (std::slice::from_ref(leaf), rest),
    };
    let time = leaf.not_before();
    for policy in [
        ChainPolicy::certificate_method(time),
        ChainPolicy::sigstore(time),
    ] {
        if let Err(e) = check_signing_certificate(leaf, &policy) {
            let _ = e.to_string();
        }
        match verify_chain(leaf, intermediates, anchors, &policy) {
            Ok(path) => check_path(&path, leaf, anchors, &policy),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

fn check_path(
    path: &[Certificate],
    leaf: &Certificate,
    anchors: &[Certificate],
    policy: &ChainPolicy,
) {
    assert!(!path.is_empty() && path.len() <= policy.max_depth);
    assert_eq!(&path[0], leaf);
    assert!(
        anchors.contains(&path[path.len() - 1]),
        "the path does not end at an anchor"
    );
    for cert in path {
        assert!(
            cert.not_before() <= policy.time && policy.time <= cert.not_after(),
            "a certificate on the path is not valid at the time checked"
        );
    }
    for pair in path.windows(2) {
        assert_eq!(pair[0].issuer_der(), pair[1].subject_der());
    }
}

//! The library's resource bounds (`model_signing::limits`): bundle size, JSON
//! nesting depth, certificates, transparency log entries and timestamps in a
//! bundle, resources and ignore paths in a signed manifest, and the same
//! bounds on the signing side. Each limit is accepted exactly where that is
//! cheap, and one more is refused with an error that names the limit.

use crate::x509_support;
use testkit as support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use model_signing::bundle::{Bundle, BundleError};
use model_signing::dsse::IN_TOTO_PAYLOAD_TYPE;
use model_signing::hashing::{HashConfig, NoProgress};
use model_signing::keys::KeyAlgorithm;
use model_signing::limits::MAX_JSON_DEPTH as MAX_DEPTH;
use model_signing::limits::{
    Limits, MAX_BUNDLE_BYTES, MAX_CHAIN_CERTIFICATES, MAX_IGNORE_PATHS, MAX_JSON_DEPTH,
    MAX_PAYLOAD_BYTES, MAX_RESOURCES, MAX_TIMESTAMPS, MAX_TLOG_ENTRIES,
};
use model_signing::sign::{
    sign_manifest, sign_manifest_with_limits, CertificateSigner, KeySigner, SignError,
};
use model_signing::statement::{
    parse_statement, parse_statement_with_limits, PayloadError, LEGACY_PREDICATE_TYPE,
    PREDICATE_TYPE, STATEMENT_TYPE,
};
use model_signing::verify::{verify_bundle, KeyVerifier, VerifyError};
use model_signing::JsonError;
use model_signing::Manifest;
use serde_json::{json, Value};
use support::{key, now, public, Pki};

/// A small signed model's bundle, its statement, and the key.
fn signed() -> (Bundle, support::Key) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(tmp.path());
    let key = key(KeyAlgorithm::EcdsaP256Sha256);
    (
        support::sign_with_key(&model, &HashConfig::new(), &key),
        key,
    )
}

fn bundle_with(mutate: impl FnOnce(&mut Value)) -> Result<Bundle, BundleError> {
    let (bundle, _) = signed();
    Bundle::from_json(&support::edit_json(&bundle, mutate))
}

fn assert_too_many_in_bundle(
    result: Result<Bundle, BundleError>,
    what_contains: &str,
    count: usize,
    limit: usize,
) {
    match result {
        Err(e @ BundleError::TooMany { .. }) => {
            let BundleError::TooMany {
                what,
                count: c,
                limit: l,
            } = &e
            else {
                unreachable!()
            };
            assert!(what.contains(what_contains), "{e}");
            assert_eq!((*c, *l), (count, limit), "{e}");
            assert!(e.to_string().contains(&format!("at most {limit}")), "{e}");
        }
        other => panic!("expected BundleError::TooMany, got {other:?}"),
    }
}

#[test]
fn default_limits_are_the_documented_constants() {
    assert_eq!(MAX_BUNDLE_BYTES, 1 << 30);
    assert_eq!(model_signing::bundle::MAX_BUNDLE_BYTES, MAX_BUNDLE_BYTES);
    assert_eq!(MAX_JSON_DEPTH, 32);
    assert_eq!(MAX_CHAIN_CERTIFICATES, 32);
    assert_eq!(MAX_TLOG_ENTRIES, 8);
    assert_eq!(MAX_TIMESTAMPS, 8);
    assert_eq!(MAX_RESOURCES, 4_194_304);
    assert_eq!(MAX_RESOURCES, model_signing::hashing::MAX_RESOURCES);
    assert_eq!(MAX_IGNORE_PATHS, 10_000);
    assert_eq!(MAX_PAYLOAD_BYTES, 768 << 20);
    assert_eq!(MAX_PAYLOAD_BYTES / 3 * 4, MAX_BUNDLE_BYTES);
    assert_eq!(
        Limits::default(),
        Limits {
            bundle_bytes: MAX_BUNDLE_BYTES,
            payload_bytes: MAX_PAYLOAD_BYTES,
            chain_certificates: MAX_CHAIN_CERTIFICATES,
            tlog_entries: MAX_TLOG_ENTRIES,
            timestamps: MAX_TIMESTAMPS,
            resources: MAX_RESOURCES,
            ignore_paths: MAX_IGNORE_PATHS,
        }
    );
}

#[test]
fn bundle_size_at_the_limit_is_read_one_byte_more_is_refused() {
    let (bundle, _) = signed();
    let json = bundle.to_json();
    let exact = Limits {
        bundle_bytes: json.len(),
        ..Limits::default()
    };
    Bundle::from_json_with_limits(json.as_bytes(), &exact).expect("a bundle at the limit");
    let under = Limits {
        bundle_bytes: json.len() - 1,
        ..Limits::default()
    };
    match Bundle::from_json_with_limits(json.as_bytes(), &under) {
        Err(e @ BundleError::Json(JsonError::TooLarge { .. })) => {
            let limit = json.len() - 1;
            assert!(
                e.to_string()
                    .contains(&format!("more than the {limit}-byte limit")),
                "{e}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn payload_size_at_the_limit_is_read_one_byte_more_is_refused() {
    let (bundle, _) = signed();
    let payload = &bundle.envelope.payload;
    let exact = Limits {
        payload_bytes: payload.len(),
        ..Limits::default()
    };
    parse_statement_with_limits(IN_TOTO_PAYLOAD_TYPE, payload, &exact).expect("at the limit");
    let under = Limits {
        payload_bytes: payload.len() - 1,
        ..Limits::default()
    };
    let limit = payload.len() - 1;
    match parse_statement_with_limits(IN_TOTO_PAYLOAD_TYPE, payload, &under) {
        Err(e @ PayloadError::Json(JsonError::TooLarge { .. })) => assert!(
            e.to_string()
                .contains(&format!("more than the {limit}-byte limit")),
            "{e}"
        ),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn json_nesting_at_the_limit_is_read_one_level_more_is_refused() {
    // The reader alone: `json::tests::nesting_at_the_limit_is_read_one_level_more_is_refused`.
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // In a bundle, the document itself is the first level.
    let result =
        bundle_with(|v| v["extra"] = serde_json::from_str(&nested(MAX_DEPTH)).expect("json"));
    assert!(
        matches!(&result, Err(BundleError::Json(JsonError::Syntax(m))) if m.contains("deeper than 32 levels")),
        "{result:?}"
    );
    bundle_with(|v| v["extra"] = serde_json::from_str(&nested(MAX_DEPTH - 1)).expect("json"))
        .expect("nesting at the limit");
}

#[test]
fn chain_certificates_at_the_limit_are_read_one_more_is_refused() {
    let chain = |n: usize| {
        move |v: &mut Value| {
            let vm = v["verificationMaterial"].as_object_mut().expect("object");
            vm.remove("publicKey");
            vm.insert(
                "x509CertificateChain".into(),
                json!({"certificates": vec![json!({"rawBytes": "AQ=="}); n]}),
            );
        }
    };
    let ok = bundle_with(chain(MAX_CHAIN_CERTIFICATES)).expect("32 certificates");
    assert!(matches!(
        ok.material,
        model_signing::bundle::VerificationMaterial::X509CertificateChain(ref c) if c.len() == MAX_CHAIN_CERTIFICATES
    ));
    assert_too_many_in_bundle(
        bundle_with(chain(MAX_CHAIN_CERTIFICATES + 1)),
        "certificates",
        MAX_CHAIN_CERTIFICATES + 1,
        MAX_CHAIN_CERTIFICATES,
    );
}

#[test]
fn tlog_entries_at_the_limit_are_read_one_more_is_refused() {
    let entries = |n: usize| {
        move |v: &mut Value| {
            v["verificationMaterial"]["tlogEntries"] = json!(vec![json!({"logIndex": "1"}); n]);
        }
    };
    let ok = bundle_with(entries(MAX_TLOG_ENTRIES)).expect("8 entries");
    assert_eq!(ok.tlog_entries.len(), MAX_TLOG_ENTRIES);
    assert_too_many_in_bundle(
        bundle_with(entries(MAX_TLOG_ENTRIES + 1)),
        "transparency log entries",
        MAX_TLOG_ENTRIES + 1,
        MAX_TLOG_ENTRIES,
    );
}

#[test]
fn timestamps_at_the_limit_are_read_one_more_is_refused() {
    let stamps = |n: usize| {
        move |v: &mut Value| {
            v["verificationMaterial"]["timestampVerificationData"] =
                json!({"rfc3161Timestamps": vec![json!({"signedTimestamp": "AQ=="}); n]});
        }
    };
    bundle_with(stamps(MAX_TIMESTAMPS)).expect("8 timestamps");
    assert_too_many_in_bundle(
        bundle_with(stamps(MAX_TIMESTAMPS + 1)),
        "RFC 3161 timestamps",
        MAX_TIMESTAMPS + 1,
        MAX_TIMESTAMPS,
    );
}

/// A v1.0 statement whose `resources` is `n` zeros: the count is checked
/// before any element, so the boundary costs 2 bytes per resource.
fn statement_with_resources(n: usize) -> Vec<u8> {
    let mut resources = String::with_capacity(2 * n + 2);
    resources.push('[');
    for i in 0..n {
        if i > 0 {
            resources.push(',');
        }
        resources.push('0');
    }
    resources.push(']');
    format!(
        r#"{{"_type":"{STATEMENT_TYPE}","subject":[{{"name":"m","digest":{{"sha256":"00"}}}}],"predicateType":"{PREDICATE_TYPE}","predicate":{{"serialization":{{"method":"files","hash_type":"sha256","allow_symlinks":false,"ignore_paths":[]}},"resources":{resources}}}}}"#
    )
    .into_bytes()
}

fn assert_too_many_in_payload(
    result: Result<impl std::fmt::Debug, PayloadError>,
    what: &str,
    count: usize,
    limit: usize,
) {
    match result {
        Err(e @ PayloadError::TooMany { .. }) => {
            assert_eq!(
                e,
                PayloadError::TooMany {
                    what: if what == "resources" {
                        "resources"
                    } else {
                        "ignore paths"
                    },
                    count,
                    limit
                }
            );
            assert!(e.to_string().contains(&format!("at most {limit}")), "{e}");
        }
        other => panic!("expected PayloadError::TooMany, got {other:?}"),
    }
}

#[test]
fn resources_at_the_default_limit_pass_the_count_one_more_is_refused() {
    assert_too_many_in_payload(
        parse_statement(
            IN_TOTO_PAYLOAD_TYPE,
            &statement_with_resources(MAX_RESOURCES + 1),
        ),
        "resources",
        MAX_RESOURCES + 1,
        MAX_RESOURCES,
    );
    // At the limit the count passes and the first element is looked at.
    let at_limit = parse_statement(
        IN_TOTO_PAYLOAD_TYPE,
        &statement_with_resources(MAX_RESOURCES),
    );
    assert!(
        matches!(&at_limit, Err(PayloadError::Json(JsonError::Invalid { path, .. })) if path == "predicate.resources[0]"),
        "{at_limit:?}"
    );
}

#[test]
fn legacy_subjects_are_bounded_like_resources() {
    let n = MAX_RESOURCES + 1;
    let mut subjects = String::with_capacity(2 * n);
    for i in 0..n {
        if i > 0 {
            subjects.push(',');
        }
        subjects.push('0');
    }
    let payload = format!(
        r#"{{"_type":"{STATEMENT_TYPE}","subject":[{subjects}],"predicateType":"{LEGACY_PREDICATE_TYPE}","predicate":{{}}}}"#
    );
    assert_too_many_in_payload(
        parse_statement(IN_TOTO_PAYLOAD_TYPE, payload.as_bytes()),
        "resources",
        n,
        MAX_RESOURCES,
    );
}

#[test]
fn resources_at_a_small_limit_are_accepted_one_more_is_refused() {
    let (bundle, _) = signed();
    let payload = &bundle.envelope.payload;
    // The small model has three files.
    let three = Limits {
        resources: 3,
        ..Limits::default()
    };
    let m =
        parse_statement_with_limits(IN_TOTO_PAYLOAD_TYPE, payload, &three).expect("3 resources");
    assert_eq!(m.manifest.resources.len(), 3);
    let two = Limits {
        resources: 2,
        ..Limits::default()
    };
    assert_too_many_in_payload(
        parse_statement_with_limits(IN_TOTO_PAYLOAD_TYPE, payload, &two),
        "resources",
        3,
        2,
    );
}

/// A signed statement listing a million and one resources is refused by
/// verification after its signature checks out, before any file is read.
#[test]
fn a_signed_statement_with_too_many_resources_is_refused_when_verifying() {
    let (template, key) = signed();
    let bundle = support::resign_raw(
        &template,
        IN_TOTO_PAYLOAD_TYPE,
        statement_with_resources(MAX_RESOURCES + 1),
        &key,
    );
    let verifier = KeyVerifier::new(public(&key).clone());
    match verify_bundle(&bundle, &verifier) {
        Err(VerifyError::Payload(e)) => assert_eq!(
            e,
            PayloadError::TooMany {
                what: "resources",
                count: MAX_RESOURCES + 1,
                limit: MAX_RESOURCES
            }
        ),
        other => panic!("expected a payload error, got {other:?}"),
    }
}

#[test]
fn ignore_paths_at_the_limit_are_accepted_one_more_is_refused() {
    let (template, key) = signed();
    let with_paths = |n: usize| {
        let paths: Vec<String> = (0..n).map(|i| format!("ignored/{i}")).collect();
        support::resign(&template, &key, |st| {
            st["predicate"]["serialization"]["ignore_paths"] = json!(paths);
        })
    };
    let verifier = KeyVerifier::new(public(&key).clone());
    let ok = verify_bundle(&with_paths(MAX_IGNORE_PATHS), &verifier).expect("10,000 ignore paths");
    assert_eq!(
        ok.value().manifest.serialization.ignore_paths.len(),
        MAX_IGNORE_PATHS
    );
    match verify_bundle(&with_paths(MAX_IGNORE_PATHS + 1), &verifier) {
        Err(VerifyError::Payload(e)) => assert_too_many_in_payload(
            Err::<(), _>(e),
            "ignore paths",
            MAX_IGNORE_PATHS + 1,
            MAX_IGNORE_PATHS,
        ),
        other => panic!("expected a payload error, got {other:?}"),
    }
}

fn limit_error(result: Result<impl std::fmt::Debug, SignError>) -> (&'static str, usize, usize) {
    match result {
        Err(e @ SignError::Limit { .. }) => {
            let message = e.to_string();
            let SignError::Limit { what, count, limit } = e else {
                unreachable!()
            };
            assert!(
                message.contains(&format!("more than the {limit} verifiers accept")),
                "{message}"
            );
            (what, count, limit)
        }
        other => panic!("expected SignError::Limit, got {other:?}"),
    }
}

#[test]
fn signing_refuses_what_verifying_would_refuse() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(tmp.path());
    let config = HashConfig::new()
        .ignore_paths(["x", "y"])
        .expect("ignore paths");
    let manifest = Manifest::hash(&model, &config, &NoProgress).expect("hash");
    let key = key(KeyAlgorithm::EcdsaP256Sha256);
    let signer = KeySigner::new(Box::new(key.clone())).expect("signer");

    // Three resources; seven ignore paths (x, y, four git paths and
    // .cache/huggingface).
    assert_eq!(manifest.resources.len(), 3);
    assert_eq!(manifest.serialization.ignore_paths.len(), 7);
    let limits = |f: fn(&mut Limits)| {
        let mut l = Limits::default();
        f(&mut l);
        l
    };
    sign_manifest_with_limits(&manifest, &signer, &limits(|l| l.resources = 3)).expect("at limit");
    assert_eq!(
        limit_error(sign_manifest_with_limits(
            &manifest,
            &signer,
            &limits(|l| l.resources = 2)
        )),
        ("resources", 3, 2)
    );
    sign_manifest_with_limits(&manifest, &signer, &limits(|l| l.ignore_paths = 7))
        .expect("at limit");
    assert_eq!(
        limit_error(sign_manifest_with_limits(
            &manifest,
            &signer,
            &limits(|l| l.ignore_paths = 6)
        )),
        ("ignore paths", 7, 6)
    );
    // The size estimate: base64 of the payload plus 1 MiB of room.
    let (what, count, limit) = limit_error(sign_manifest_with_limits(
        &manifest,
        &signer,
        &limits(|l| l.bundle_bytes = 1 << 20),
    ));
    assert_eq!(what, "bytes");
    assert!(count > limit && limit == 1 << 20);
    let bundle = sign_manifest(&manifest, &signer).expect("default limits");
    Bundle::from_json(bundle.to_json().as_bytes()).expect("reads back");
}

#[test]
fn a_certificate_signer_carries_at_most_the_chain_limit() {
    let pki = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    let chain = |n: usize| vec![pki.intermediate.clone(); n];
    CertificateSigner::new(
        Box::new(pki.leaf_key.clone()),
        pki.leaf.clone(),
        chain(MAX_CHAIN_CERTIFICATES - 1),
        now(),
    )
    .expect("leaf + 31 = 32 certificates");
    assert_eq!(
        limit_error(
            CertificateSigner::new(
                Box::new(pki.leaf_key.clone()),
                pki.leaf.clone(),
                chain(MAX_CHAIN_CERTIFICATES),
                now(),
            )
            .map(|_| ())
        ),
        (
            "certificates",
            MAX_CHAIN_CERTIFICATES + 1,
            MAX_CHAIN_CERTIFICATES
        )
    );
}

/// `-----BEGIN LABEL-----` labels of up to 64 characters are read; longer
/// ones are refused as malformed.
#[test]
fn pem_labels_up_to_64_characters_are_read() {
    use model_signing::keys::{KeyError, PublicKey};
    let pem = |label: &str| format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
    let at_limit = "X".repeat(64);
    match PublicKey::from_pem(&pem(&at_limit)) {
        Err(KeyError::WrongPemLabel { found, .. }) => assert_eq!(found, at_limit),
        other => panic!("expected WrongPemLabel, got {other:?}"),
    }
    match PublicKey::from_pem(&pem(&"X".repeat(65))) {
        Err(e @ KeyError::Malformed { .. }) => {
            assert!(e.to_string().contains("overlong"), "{e}")
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// An scrypt-encrypted key may ask for at most 1 GiB of memory
/// (128 * r * (N + p) bytes); the parameters are checked before the key
/// derivation runs, so neither case below spends that memory.
#[test]
fn scrypt_keys_asking_for_more_than_1_gib_are_refused_before_derivation() {
    use der::Encode;
    use model_signing::keys::{EcPrivateKey, KeyError};
    use pkcs8::pkcs5::pbes2::{self, Kdf, ScryptParams};
    use pkcs8::pkcs5::EncryptionScheme;
    use pkcs8::EncryptedPrivateKeyInfo;

    let iv = [7u8; 16];
    let data = [0u8; 48];
    let pem_with = |cost_parameter: u64| {
        let info = EncryptedPrivateKeyInfo {
            encryption_algorithm: EncryptionScheme::Pbes2(pbes2::Parameters {
                kdf: Kdf::Scrypt(ScryptParams {
                    salt: &[1; 16],
                    cost_parameter,
                    block_size: 8,
                    parallelization: 1,
                    key_length: None,
                }),
                encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
            }),
            encrypted_data: &data,
        };
        let der = info.to_der().expect("DER");
        format!(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n",
            STANDARD.encode(der)
        )
    };
    // 128 * 8 * (2^20 + 1) = 1 GiB + 1 KiB.
    match EcPrivateKey::from_pem(pem_with(1 << 20).as_bytes(), Some(b"pw")) {
        Err(e @ KeyError::UnsupportedEncryption { .. }) => {
            assert!(e.to_string().contains("more than 1 GiB"), "{e}")
        }
        other => panic!("expected UnsupportedEncryption, got {other:?}"),
    }
    // 128 * 8 * (2^20 - 1 + 1) = exactly 1 GiB: the bound lets it through
    // (and the parameters fail next: N is not a power of two).
    let e = EcPrivateKey::from_pem(pem_with((1 << 20) - 1).as_bytes(), Some(b"pw"))
        .expect_err("invalid N");
    assert!(!e.to_string().contains("1 GiB"), "{e}");
}

/// RSA issuer keys of up to 8192 bits are used; larger ones are refused
/// before any arithmetic on them.
#[test]
fn rsa_issuer_keys_over_8192_bits_are_refused() {
    use der::{Decode, Encode};
    use model_signing::x509::{verify_chain, CertError, Certificate, ChainPolicy};
    use rsa::pkcs8::EncodePublicKey;
    use rsa::BigUint;
    use x509_support::{Ca, Key as XKey, Spec as XSpec};

    let root = Ca::root(XSpec::ca("Root", None), XKey::p256());
    let leaf = root.issue(&XSpec::leaf("Leaf"), &XKey::p256());
    // The root with an RSA key of `bits` bits in place of its own (a trust
    // anchor's own signature is not checked).
    let anchor_with = |bits: usize| {
        let n = (BigUint::from(1u8) << (bits - 1)) + BigUint::from(1u8);
        let key = rsa::RsaPublicKey::new_unchecked(n, BigUint::from(65_537u32));
        let spki_der = key.to_public_key_der().expect("SPKI");
        let mut cert = x509_cert::Certificate::from_der(root.cert.der()).expect("decode");
        cert.tbs_certificate.subject_public_key_info =
            spki::SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).expect("SPKI");
        Certificate::from_der(&cert.to_der().expect("encode")).expect("certificate")
    };
    let policy = ChainPolicy::certificate_method(support::now());
    match verify_chain(&leaf, &[], &[anchor_with(8193)], &policy) {
        Err(e @ CertError::UnsupportedAlgorithm { .. }) => {
            assert!(e.to_string().contains("8193-bit key (at most 8192)"), "{e}")
        }
        other => panic!("expected UnsupportedAlgorithm, got {other:?}"),
    }
    // At 8192 bits the key is read; the leaf's ECDSA signature does not fit it.
    match verify_chain(&leaf, &[], &[anchor_with(8192)], &policy) {
        Err(CertError::BadSignature { .. }) => {}
        other => panic!("expected BadSignature, got {other:?}"),
    }
}

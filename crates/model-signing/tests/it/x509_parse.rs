//! Certificate parsing: the reference's golden certificates, PEM bundles,
//! and malformed input (which must be refused without a panic).

use crate::x509_support as support;

use der::asn1::{Ia5String, OctetString, Utf8StringRef};
use der::{Decode, Encode};
use model_signing::x509::{CertError, Certificate, SubjectAltName, EKU_CODE_SIGNING};
use sha2::{Digest, Sha256};
use support::*;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};

fn golden_text(file: &str) -> Vec<u8> {
    std::fs::read(golden_dir().join(file)).expect("read golden file")
}

fn golden_leaf() -> Certificate {
    golden("signing-key-cert.pem").remove(0)
}

fn is_malformed(r: &Result<Certificate, CertError>) -> bool {
    matches!(r, Err(CertError::Malformed { .. }))
}

// ---- the golden certificates ----

#[test]
fn golden_leaf_fields() {
    let leaf = golden_leaf();
    assert_eq!(leaf.subject(), "CN=intermediate-ca");
    assert_eq!(leaf.issuer(), "CN=intermediate-ca");
    assert!(leaf.is_self_issued());
    assert_eq!(
        leaf.serial_hex(),
        "6e5346e4b06d34cf978386af305f25aeff0b6755"
    );
    assert_eq!(
        leaf.fingerprint_sha256(),
        "da3662b630eb0f585c33f114a076b8da2ceda0f275cb578e6d1d9cab84c04d3b"
    );
    assert_eq!(leaf.not_before(), 1_746_228_988); // 2025-05-02T23:36:28Z
    assert_eq!(leaf.not_after(), 2_061_588_988); // 2035-04-30T23:36:28Z
    assert!(leaf.is_ca());
    assert_eq!(leaf.path_len_constraint(), None);
    let ku = leaf.key_usage().expect("keyUsage");
    assert!(ku.digital_signature());
    assert!(!ku.key_cert_sign() && !ku.crl_sign());
    assert_eq!(ku.bits(), 1);
    assert_eq!(leaf.extended_key_usage(), Some(&[EKU_CODE_SIGNING][..]));
    assert_eq!(
        hex::encode(leaf.subject_key_id().expect("ski")),
        "195eed014eeea416be215a6ebc3b5489d3e12acf"
    );
    assert_eq!(
        hex::encode(leaf.authority_key_id().expect("aki")),
        "f18f8cbd85b6e8c01b8ae60685db169ee994d332"
    );
    assert!(leaf.subject_alt_names().is_empty());
    assert_eq!(leaf.signature_algorithm_oid(), "1.2.840.113549.1.1.11");
    // EKU extnValue: SEQUENCE { codeSigning }
    assert_eq!(
        leaf.extension("2.5.29.37").map(hex::encode),
        Some("300a06082b06010505070303".to_owned())
    );
    assert_eq!(leaf.extension("1.2.3.4"), None);
    assert_eq!(leaf.extension("not an oid"), None);
    let (critical, _) = leaf
        .extension_by_oid(&"2.5.29.15".parse().expect("oid"))
        .expect("keyUsage present");
    assert!(critical);
    let debug = format!("{leaf:?}");
    assert!(debug.contains("CN=intermediate-ca") && debug.contains("da3662b6"));
}

#[test]
fn golden_leaf_public_key_is_the_signing_key() {
    let leaf = golden_leaf();
    // The SPKI of signing-key-pub.pem, as openssl writes it in DER.
    assert_eq!(
        hex::encode(Sha256::digest(leaf.spki_der())),
        "c1e49d63327f85c7e2971aefd30b5a0d1c6b9b5e1a892e7f5fba995adace816d"
    );
    use p384::pkcs8::DecodePublicKey;
    p384::PublicKey::from_public_key_der(leaf.spki_der()).expect("a P-384 key");
}

#[test]
fn golden_ca_fields() {
    let root = golden("ca-cert.pem").remove(0);
    assert_eq!(root.subject(), "CN=root-ca");
    assert!(root.is_self_issued() && root.is_ca());
    let ku = root.key_usage().expect("keyUsage");
    assert!(ku.key_cert_sign() && !ku.digital_signature());
    let int = golden("int-ca-cert.pem").remove(0);
    assert_eq!(int.issuer(), "CN=root-ca");
    assert_eq!(int.authority_key_id(), root.subject_key_id());
    assert_eq!(
        int.fingerprint_sha256(),
        "9bbfcf17babdc99cf6c30cec108fc49ea8880e38506852596714315ca3c846c1"
    );
}

#[test]
fn der_and_pem_round_trip() {
    let leaf = golden_leaf();
    assert_eq!(Certificate::from_der(leaf.der()).expect("parse"), leaf);
    let again = Certificate::from_pem_bundle(leaf.to_pem().as_bytes()).expect("parse PEM");
    assert_eq!(again, vec![leaf.clone()]);
    assert_eq!(
        leaf.to_pem().as_bytes(),
        &golden_text("signing-key-cert.pem")[..]
    );
    // The signed part is a prefix-free slice of the DER.
    let tbs = leaf.tbs_der();
    assert_eq!(tbs[0], 0x30);
    assert!(leaf.der().windows(tbs.len()).any(|w| w == tbs));
}

// ---- PEM bundles ----

#[test]
fn pem_bundle_with_text_around_blocks() {
    let mut text = b"Certificate chain written by certtool\nSubject: CN=intermediate-ca\n".to_vec();
    text.extend(golden_text("signing-key-cert.pem"));
    text.extend(b"\n  some trailing notes\n");
    text.extend(golden_text("int-ca-cert.pem"));
    text.extend(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    text.extend(golden_text("ca-cert.pem"));
    let certs = Certificate::from_pem_bundle(&text).expect("three certificates");
    let subjects: Vec<String> = certs.iter().map(Certificate::issuer).collect();
    assert_eq!(subjects, ["CN=intermediate-ca", "CN=root-ca", "CN=root-ca"]);
}

#[test]
fn pem_bundle_with_crlf_and_indentation() {
    let text = String::from_utf8(golden_text("ca-cert.pem")).expect("ascii");
    let crlf: String = text.lines().map(|l| format!("  {l}  \r\n")).collect();
    let certs = Certificate::from_pem_bundle(crlf.as_bytes()).expect("parse");
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].subject(), "CN=root-ca");
}

#[test]
fn pem_errors() {
    let good = String::from_utf8(golden_text("ca-cert.pem")).expect("ascii");
    let body: String = good
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n");
    let block =
        |inner: &str| format!("-----BEGIN CERTIFICATE-----\n{inner}\n-----END CERTIFICATE-----\n");
    type Check = fn(&CertError) -> bool;
    let cases: Vec<(&str, String, Check)> = vec![
        ("empty file", String::new(), |e| {
            matches!(e, CertError::NoCertificate)
        }),
        ("text only", "hello\nworld\n".into(), |e| {
            matches!(e, CertError::NoCertificate)
        }),
        (
            "only a key block",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
            |e| matches!(e, CertError::NoCertificate),
        ),
        (
            "unterminated block",
            format!("-----BEGIN CERTIFICATE-----\n{body}\n"),
            |e| matches!(e, CertError::Malformed { .. }),
        ),
        (
            "mismatched END label",
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END PRIVATE KEY-----\n"),
            |e| matches!(e, CertError::Malformed { .. }),
        ),
        (
            "BEGIN inside a block",
            format!("-----BEGIN CERTIFICATE-----\n{body}\n{good}"),
            |e| matches!(e, CertError::Malformed { .. }),
        ),
        (
            "invalid base64 character",
            block(&body.replacen('A', "*", 1)),
            |e| matches!(e, CertError::Malformed { .. }),
        ),
        ("missing padding", block(body.trim_end_matches('=')), |e| {
            matches!(e, CertError::Malformed { .. })
        }),
        (
            "headers",
            block(&format!("Proc-Type: 4,ENCRYPTED\n\n{body}")),
            |e| matches!(e, CertError::Malformed { .. }),
        ),
        ("empty block", block(""), |e| {
            matches!(e, CertError::Malformed { .. })
        }),
        ("not a certificate", block("aGVsbG8="), |e| {
            matches!(e, CertError::Malformed { .. })
        }),
        (
            "a good block then a bad one",
            format!("{good}{}", block("aGVsbG8=")),
            |e| matches!(e, CertError::Malformed { .. }),
        ),
        ("truncated base64", block(&body[..body.len() / 2]), |e| {
            matches!(e, CertError::Malformed { .. })
        }),
    ];
    for (what, text, expected) in cases {
        match Certificate::from_pem_bundle(text.as_bytes()) {
            Ok(certs) => panic!("{what}: accepted {certs:?}"),
            Err(e) => assert!(expected(&e), "{what}: got {e:?}"),
        }
    }
}

// ---- malformed DER ----

#[test]
fn der_errors() {
    let der = golden_leaf().der().to_vec();
    let mut trailing = der.clone();
    trailing.push(0);
    let mut two = der.clone();
    two.extend_from_slice(&der);
    let mut wrong_tag = der.clone();
    wrong_tag[0] = 0x31;
    // The outer length re-encoded with a superfluous length byte (BER, not DER).
    let mut long_length = vec![0x30, 0x83, 0x00];
    long_length.extend_from_slice(&der[2..]);
    let mut indefinite = vec![0x30, 0x80];
    indefinite.extend_from_slice(&der[4..]);
    indefinite.extend_from_slice(&[0, 0]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one byte", vec![0x30]),
        ("empty sequence", vec![0x30, 0x00]),
        ("trailing zero byte", trailing),
        ("two certificates", two),
        ("wrong outer tag", wrong_tag),
        ("non-minimal length", long_length),
        ("indefinite length", indefinite),
        ("PEM text given as DER", golden_text("signing-key-cert.pem")),
    ];
    for (what, bytes) in cases {
        let r = Certificate::from_der(&bytes);
        assert!(is_malformed(&r), "{what}: got {r:?}");
    }
}

#[test]
fn every_truncation_is_refused() {
    let der = golden_leaf().der().to_vec();
    for len in 0..der.len() {
        let r = Certificate::from_der(&der[..len]);
        assert!(is_malformed(&r), "length {len}: got {r:?}");
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let der = golden_leaf().der().to_vec();
    for i in 0..der.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bytes = der.clone();
            bytes[i] ^= mask;
            if let Ok(cert) = Certificate::from_der(&bytes) {
                // Whatever parsed can be displayed and inspected.
                let _ = (cert.subject(), cert.issuer(), cert.serial_hex());
                let _ = (cert.subject_alt_names(), cert.key_usage(), cert.is_ca());
            }
        }
    }
}

fn built(spec: &Spec) -> x509_cert::Certificate {
    let key = Key::p256();
    let tbs = spec.tbs(&key, &spec.subject, &key);
    x509_cert::Certificate::from_der(&sign_tbs(&tbs, &key)).expect("parse")
}

#[test]
fn duplicate_extension_refused() {
    let spec = Spec::leaf("Leaf").ext_again(OID_KEY_USAGE, true, vec![0x03, 0x02, 0x07, 0x80]);
    let r = Certificate::from_der(&built(&spec).to_der().expect("encode"));
    assert!(
        matches!(&r, Err(CertError::Malformed { detail }) if detail.contains("duplicate")),
        "{r:?}"
    );
}

#[test]
fn extensions_in_a_version_1_certificate_refused() {
    let mut spec = Spec::leaf("Leaf");
    spec.version = x509_cert::Version::V1;
    let r = Certificate::from_der(&built(&spec).to_der().expect("encode"));
    assert!(is_malformed(&r), "{r:?}");
}

#[test]
fn version_1_certificate_without_extensions_parses() {
    let mut spec = Spec::new("Old").no_key_ids();
    spec.version = x509_cert::Version::V1;
    let cert = Certificate::from_der(&built(&spec).to_der().expect("encode")).expect("parse");
    assert!(!cert.is_ca());
    assert_eq!(cert.key_usage(), None);
}

#[test]
fn inner_and_outer_signature_algorithms_must_agree() {
    let mut cert = built(&Spec::leaf("Leaf"));
    cert.signature_algorithm = Alg::EcdsaSha384.identifier();
    let r = Certificate::from_der(&cert.to_der().expect("encode"));
    assert!(is_malformed(&r), "{r:?}");
}

#[test]
fn malformed_known_extensions_refused() {
    let cases: Vec<(&str, &str)> = vec![
        (OID_KEY_USAGE, "keyUsage"),
        (OID_BASIC_CONSTRAINTS, "basicConstraints"),
        (OID_EXT_KEY_USAGE, "extendedKeyUsage"),
        (OID_SUBJECT_ALT_NAME, "subjectAltName"),
        (OID_AUTHORITY_KEY_ID, "authorityKeyIdentifier"),
    ];
    for (oid, what) in cases {
        // An INTEGER where a structure belongs, for every known extension.
        let spec = Spec::new("Leaf")
            .no_key_ids()
            .ext(oid, false, vec![0x02, 0x01, 0x05]);
        let r = Certificate::from_der(&built(&spec).to_der().expect("encode"));
        assert!(
            matches!(&r, Err(CertError::Malformed { detail }) if detail.contains(what)),
            "{what}: {r:?}"
        );
    }
    // Trailing bytes inside an extension value.
    let spec = Spec::new("Leaf").ext(OID_KEY_USAGE, true, vec![0x03, 0x02, 0x07, 0x80, 0x00]);
    let r = Certificate::from_der(&built(&spec).to_der().expect("encode"));
    assert!(is_malformed(&r), "{r:?}");
}

// ---- accessors on built certificates ----

#[test]
fn subject_alt_names() {
    let other = OtherName {
        type_id: "1.3.6.1.4.1.57264.1.7".parse().expect("oid"),
        value: der::Any::encode_from(&Utf8StringRef::new("octocat").expect("utf8")).expect("any"),
    };
    let spec = Spec::leaf("Leaf").san(vec![
        GeneralName::Rfc822Name(Ia5String::new("signer@example.com").expect("ia5")),
        GeneralName::DnsName(Ia5String::new("example.com").expect("ia5")),
        GeneralName::UniformResourceIdentifier(
            Ia5String::new(
                "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1",
            )
            .expect("ia5"),
        ),
        GeneralName::IpAddress(OctetString::new(vec![127, 0, 0, 1]).expect("octets")),
        GeneralName::OtherName(other),
    ]);
    let key = Key::p256();
    let cert = spec.self_signed(&key);
    assert_eq!(
        cert.subject_alt_names(),
        [
            "signer@example.com",
            "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1"
        ]
    );
    let entries = cert.subject_alt_name_entries();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[1], SubjectAltName::Dns("example.com".into()));
    assert_eq!(entries[3], SubjectAltName::IpAddress(vec![127, 0, 0, 1]));
    assert!(matches!(
        &entries[4],
        SubjectAltName::OtherName { type_id, value: Some(v) }
            if type_id.to_string() == "1.3.6.1.4.1.57264.1.7" && v == "octocat"
    ));
}

#[test]
fn names_display_in_rfc_4514_form() {
    let cases = [
        (
            "CN=Jane Doe,O=Example\\, Inc.,C=US",
            "CN=Jane Doe,O=Example\\, Inc.,C=US",
        ),
        ("CN=a+OU=b,DC=example,DC=com", "CN=a+OU=b,DC=example,DC=com"),
        ("CN=\\#hash", "CN=\\#hash"),
        ("CN=with\\+plus", "CN=with\\+plus"),
        ("1.2.3.4=#040161", "1.2.3.4=#040161"),
    ];
    let key = Key::p256();
    for (input, shown) in cases {
        let cert = Spec::leaf("x").subject(input).self_signed(&key);
        assert_eq!(cert.subject(), shown, "{input}");
        assert_eq!(cert.issuer(), shown, "{input}");
    }
}

#[test]
fn serial_shown_without_sign_padding() {
    let key = Key::p256();
    let mut spec = Spec::leaf("Leaf");
    spec.serial = 0x8000_0000_0000_0001;
    assert_eq!(spec.self_signed(&key).serial_hex(), "8000000000000001");
    spec.serial = 0x0102;
    assert_eq!(spec.self_signed(&key).serial_hex(), "0102");
}

#[test]
fn times_beyond_2049_use_generalized_time() {
    let key = Key::p256();
    let cert = Spec::leaf("Leaf")
        .validity(1_700_000_000, 4_102_444_800) // 2100-01-01
        .self_signed(&key);
    assert_eq!(cert.not_before(), 1_700_000_000);
    assert_eq!(cert.not_after(), 4_102_444_800);
}

#[test]
fn no_certificate_error_reads_well() {
    let err = Certificate::from_pem_bundle(b"").expect_err("empty");
    assert_eq!(
        err.to_string(),
        "no CERTIFICATE block found in the PEM text"
    );
}

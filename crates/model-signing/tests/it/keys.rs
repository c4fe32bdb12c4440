//! Keys without external tools: algorithms, sign/verify round trips, PKCS#8
//! export and import, the reference's golden keys and signatures, malformed
//! keys and signatures, and secrets kept out of `Debug` and error messages.

use crate::keys_support;

use keys_support::*;
use model_signing::keys::{
    is_encrypted_pem, DigestAlgorithm, EcPrivateKey, KeyAlgorithm, KeyError, PublicKey, SigningKey,
    MIN_PKCS8_PBKDF2_ITERATIONS,
};

/// PBKDF2 iterations for keys encrypted in tests: the default takes seconds
/// in unoptimized builds.
const FAST: u32 = MIN_PKCS8_PBKDF2_ITERATIONS;
const MESSAGE: &[u8] = b"DSSEv1 28 application/vnd.in-toto+json 2 {}";
const GOLDEN_HINT: &str = "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e";
const GOLDEN_SPKI_SHA256: &str = "c1e49d63327f85c7e2971aefd30b5a0d1c6b9b5e1a892e7f5fba995adace816d";

fn key(alg: KeyAlgorithm) -> EcPrivateKey {
    EcPrivateKey::generate(alg)
}

fn p256() -> (EcPrivateKey, PublicKey) {
    let key = key(KeyAlgorithm::EcdsaP256Sha256);
    let public = key.public_key().clone();
    (key, public)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = b64encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn oid(dotted: &str) -> Vec<u8> {
    let oid = const_oid::ObjectIdentifier::new(dotted).expect("valid OID");
    tlv(0x06, oid.as_bytes())
}

/// A SEC1 ECPrivateKey DER with the given parts.
fn sec1(version: u8, scalar: &[u8], curve: Option<&str>, public: Option<&[u8]>) -> Vec<u8> {
    let mut body = tlv(0x02, &[version]);
    body.extend_from_slice(&tlv(0x04, scalar));
    if let Some(curve) = curve {
        body.extend_from_slice(&tlv(0xa0, &oid(curve)));
    }
    if let Some(public) = public {
        let mut bits = vec![0];
        bits.extend_from_slice(public);
        body.extend_from_slice(&tlv(0xa1, &tlv(0x03, &bits)));
    }
    tlv(0x30, &body)
}

/// A PKCS#8 PrivateKeyInfo DER around `inner`.
fn pkcs8(algorithm: &str, params: Option<&[u8]>, inner: &[u8]) -> Vec<u8> {
    let mut alg = oid(algorithm);
    if let Some(params) = params {
        alg.extend_from_slice(params);
    }
    let mut body = tlv(0x02, &[0]);
    body.extend_from_slice(&tlv(0x30, &alg));
    body.extend_from_slice(&tlv(0x04, inner));
    tlv(0x30, &body)
}

/// A SubjectPublicKeyInfo DER.
fn spki(algorithm: &str, params: Option<&[u8]>, bits: &[u8]) -> Vec<u8> {
    let mut alg = oid(algorithm);
    if let Some(params) = params {
        alg.extend_from_slice(params);
    }
    let mut body = tlv(0x30, &alg);
    body.extend_from_slice(&tlv(0x03, bits));
    tlv(0x30, &body)
}

const EC: &str = "1.2.840.10045.2.1";

fn field_len(alg: KeyAlgorithm) -> usize {
    match alg {
        KeyAlgorithm::EcdsaP256Sha256 => 32,
        KeyAlgorithm::EcdsaP384Sha384 => 48,
        _ => 66,
    }
}

fn curve(alg: KeyAlgorithm) -> &'static str {
    match alg {
        KeyAlgorithm::EcdsaP256Sha256 => P256,
        KeyAlgorithm::EcdsaP384Sha384 => P384,
        _ => "1.3.132.0.35",
    }
}
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

// ---------------------------------------------------------------- algorithms

#[test]
fn key_details_round_trip() {
    for alg in KeyAlgorithm::ECDSA {
        assert_eq!(KeyAlgorithm::from_key_details(alg.key_details()), Some(alg));
    }
    assert_eq!(
        KeyAlgorithm::EcdsaP256Sha256.key_details(),
        "PKIX_ECDSA_P256_SHA_256"
    );
    assert_eq!(
        KeyAlgorithm::EcdsaP384Sha384.key_details(),
        "PKIX_ECDSA_P384_SHA_384"
    );
    assert_eq!(
        KeyAlgorithm::EcdsaP521Sha512.key_details(),
        "PKIX_ECDSA_P521_SHA_512"
    );
    assert_eq!(KeyAlgorithm::EcdsaP521Sha512.curve_name(), "P-521");
    assert_eq!(
        KeyAlgorithm::EcdsaP384Sha384.digest(),
        DigestAlgorithm::Sha384
    );
    assert_eq!(
        KeyAlgorithm::EcdsaP384Sha384.to_string(),
        "ECDSA P-384 with SHA-384"
    );
}

#[test]
fn unknown_key_details_are_refused() {
    for name in [
        "",
        "PKIX_ECDSA_P256_SHA_384",
        "pkix_ecdsa_p256_sha_256",
        "PKIX_ED25519",
        "PKIX_RSA_PSS_2048_SHA256",
        "PKIX_RSA_PKCS1V15_8192_SHA256",
        "PKIX_ECDSA_P256_SHA_256 ",
    ] {
        assert_eq!(KeyAlgorithm::from_key_details(name), None, "{name:?}");
    }
    for alg in KeyAlgorithm::ALL {
        assert_eq!(KeyAlgorithm::from_key_details(alg.key_details()), Some(alg));
    }
}

// ------------------------------------------------------------- round trips

#[test]
fn sign_and_verify_on_every_curve() {
    for alg in KeyAlgorithm::ECDSA {
        let key = key(alg);
        assert_eq!(SigningKey::algorithm(&key), alg);
        let signature = key.sign(MESSAGE).expect("signs");
        let public = SigningKey::public_key(&key).expect("public key");
        assert_eq!(public.algorithm(), alg);
        public.verify(MESSAGE, &signature).expect("verifies");
        public
            .verify_with_digest(MESSAGE, &signature, alg.digest())
            .expect("verifies with the curve's digest");
        // Through the trait object, as signers use it.
        let boxed: Box<dyn SigningKey> = Box::new(key);
        public
            .verify(MESSAGE, &boxed.sign(MESSAGE).expect("signs"))
            .expect("verifies");
    }
}

#[test]
fn signatures_are_low_s_der() {
    for alg in KeyAlgorithm::ECDSA {
        let key = key(alg);
        let n = order(alg);
        for i in 0..8u8 {
            let signature = key.sign(&[i]).expect("signs");
            let (r, s) = split_signature(&signature);
            assert!(!r.is_empty() && !s.is_empty());
            assert!(
                !greater(&s, &sub(&n, &s)),
                "{alg:?}: s is in the upper half"
            );
            assert_eq!(der_signature(&r, &s), signature, "minimal DER");
        }
    }
}

#[test]
fn p256_and_p384_signatures_are_deterministic() {
    for alg in [KeyAlgorithm::EcdsaP256Sha256, KeyAlgorithm::EcdsaP384Sha384] {
        let key = key(alg);
        assert_eq!(
            key.sign(MESSAGE).expect("signs"),
            key.sign(MESSAGE).expect("signs")
        );
    }
}

#[test]
fn high_s_signatures_verify_as_in_openssl() {
    // Documented choice: OpenSSL (and so the reference) accepts (r, n - s).
    for alg in KeyAlgorithm::ECDSA {
        let key = key(alg);
        let (r, s) = split_signature(&key.sign(MESSAGE).expect("signs"));
        let high = der_signature(&r, &sub(&order(alg), &s));
        key.public_key()
            .verify(MESSAGE, &high)
            .expect("high-S verifies");
    }
}

#[test]
fn pkcs8_round_trip_on_every_curve() {
    for alg in KeyAlgorithm::ECDSA {
        let key = key(alg);
        let text = key.to_pkcs8_pem();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(text.ends_with("-----END PRIVATE KEY-----\n"));
        assert!(!is_encrypted_pem(text.as_bytes()));
        let loaded = EcPrivateKey::from_pem(text.as_bytes(), None).expect("loads");
        assert_eq!(loaded.public_key(), key.public_key());
        key.public_key()
            .verify(MESSAGE, &loaded.sign(MESSAGE).expect("signs"))
            .expect("verifies");
        assert_eq!(*loaded.to_pkcs8_pem(), *text, "export is stable");
    }
}

#[test]
fn encrypted_pkcs8_round_trip() {
    let key = key(KeyAlgorithm::EcdsaP384Sha384);
    let text = key
        .to_encrypted_pkcs8_pem_with_iterations(b"correct horse", FAST)
        .expect("encrypts");
    assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    assert!(is_encrypted_pem(text.as_bytes()));
    let loaded = EcPrivateKey::from_pem(text.as_bytes(), Some(b"correct horse")).expect("decrypts");
    assert_eq!(loaded.public_key(), key.public_key());

    assert!(matches!(
        EcPrivateKey::from_pem(text.as_bytes(), Some(b"correct horsf")),
        Err(KeyError::WrongPassword)
    ));
    assert!(matches!(
        EcPrivateKey::from_pem(text.as_bytes(), Some(b"")),
        Err(KeyError::WrongPassword)
    ));
    assert!(matches!(
        EcPrivateKey::from_pem(text.as_bytes(), None),
        Err(KeyError::PasswordRequired)
    ));
}

#[test]
fn encrypting_with_an_empty_password_is_refused() {
    let key = key(KeyAlgorithm::EcdsaP256Sha256);
    assert!(matches!(
        key.to_encrypted_pkcs8_pem(b""),
        Err(KeyError::EncryptionFailed { .. })
    ));
}

#[test]
fn encrypting_with_few_iterations_is_refused() {
    let key = key(KeyAlgorithm::EcdsaP256Sha256);
    for iterations in [0, 1, FAST - 1] {
        assert!(matches!(
            key.to_encrypted_pkcs8_pem_with_iterations(b"pw", iterations),
            Err(KeyError::EncryptionFailed { .. })
        ));
    }
}

#[test]
fn password_for_a_plain_key_is_refused() {
    let key = key(KeyAlgorithm::EcdsaP256Sha256);
    let err =
        EcPrivateKey::from_pem(key.to_pkcs8_pem().as_bytes(), Some(b"pw")).expect_err("fails");
    assert!(matches!(err, KeyError::UnexpectedPassword), "{err}");
}

#[test]
fn public_pem_is_spki_in_64_columns() {
    for alg in KeyAlgorithm::ECDSA {
        let public = key(alg).public_key().clone();
        let text = public.to_pem();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], "-----BEGIN PUBLIC KEY-----");
        assert_eq!(lines[lines.len() - 2], "-----END PUBLIC KEY-----");
        assert_eq!(lines[lines.len() - 1], "", "trailing newline");
        assert!(lines[1..lines.len() - 2].iter().all(|l| l.len() <= 64));
        assert!(lines[1..lines.len() - 3].iter().all(|l| l.len() == 64));
        assert!(!text.contains('\r'));
        assert_eq!(PublicKey::from_pem(&text).expect("loads"), public);
        assert_eq!(
            PublicKey::from_spki_der(public.spki_der()).expect("loads"),
            public
        );
        assert_eq!(
            PublicKey::from_sec1_point(alg, &public.sec1_point()).expect("loads"),
            public
        );
        assert_eq!(public.hint().len(), 64);
        assert_ne!(public.hint(), public.fingerprint_sha256());
    }
}

// ----------------------------------------------------------- golden fixtures

#[test]
fn golden_certtool_keys_load_and_match() {
    let private = EcPrivateKey::from_pem(fixture_text("certtool-p384-key.pem").as_bytes(), None)
        .expect("certtool private key loads");
    let public =
        PublicKey::from_pem(&fixture_text("certtool-p384-pub.pem")).expect("public key loads");
    assert_eq!(private.public_key(), &public);
    assert_eq!(public.algorithm(), KeyAlgorithm::EcdsaP384Sha384);
    assert_eq!(public.hint(), GOLDEN_HINT);
    assert_eq!(public.fingerprint_sha256(), GOLDEN_SPKI_SHA256);
    public
        .verify(MESSAGE, &private.sign(MESSAGE).expect("signs"))
        .expect("verifies");
    assert!(!is_encrypted_pem(
        fixture_text("certtool-p384-key.pem").as_bytes()
    ));
}

/// The DSSE pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

struct Envelope {
    payload_type: String,
    payload: Vec<u8>,
    sig: Vec<u8>,
    bundle: serde_json::Value,
}

fn envelope(name: &str) -> Envelope {
    let bundle: serde_json::Value =
        serde_json::from_str(&fixture_text(name)).expect("bundle is JSON");
    let env = &bundle["dsseEnvelope"];
    Envelope {
        payload_type: env["payloadType"].as_str().expect("type").to_owned(),
        payload: b64decode(env["payload"].as_str().expect("payload")),
        sig: b64decode(env["signatures"][0]["sig"].as_str().expect("sig")),
        bundle,
    }
}

#[test]
fn golden_v1_1_signature_verifies() {
    let env = envelope("golden-v1.1.0-elliptic-key.sig");
    let public = PublicKey::from_pem(&fixture_text("certtool-p384-pub.pem")).expect("loads");
    assert_eq!(
        env.bundle["verificationMaterial"]["publicKey"]["hint"],
        public.hint()
    );
    public
        .verify(&pae(&env.payload_type, &env.payload), &env.sig)
        .expect("the reference's signature verifies");
}

#[test]
fn golden_v1_0_signature_verifies_with_the_embedded_pem() {
    let env = envelope("golden-v1.0.0-elliptic-key.sig");
    let material = &env.bundle["verificationMaterial"]["publicKey"];
    let pem = String::from_utf8(b64decode(material["rawBytes"].as_str().expect("raw")))
        .expect("PEM text");
    let public = PublicKey::from_pem(&pem).expect("embedded PEM loads");
    assert_eq!(public.to_pem(), pem, "we write the PEM the reference wrote");
    assert_eq!(
        KeyAlgorithm::from_key_details(material["keyDetails"].as_str().expect("details")),
        Some(public.algorithm())
    );
    public
        .verify(&pae(&env.payload_type, &env.payload), &env.sig)
        .expect("verifies");
}

/// `repr()` of a Python `bytes` value, as the v0.2 PAE embeds it.
fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ if b as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

#[test]
fn golden_v0_2_signature_verifies_with_sha256_on_p384() {
    let env = envelope("golden-v0.2.0-certificate.sig");
    let public = PublicKey::from_pem(&fixture_text("certtool-p384-pub.pem")).expect("loads");
    let message = format!(
        "DSSEV1 {} {} {} {}",
        env.payload_type.len(),
        env.payload_type,
        env.payload.len(),
        python_bytes_repr(&env.payload)
    );
    public
        .verify_with_digest(message.as_bytes(), &env.sig, DigestAlgorithm::Sha256)
        .expect("legacy signature verifies with SHA-256");
    // The curve's own digest does not.
    assert!(matches!(
        public.verify(message.as_bytes(), &env.sig),
        Err(KeyError::SignatureInvalid)
    ));
}

#[test]
fn golden_signatures_fail_when_tampered() {
    let env = envelope("golden-v1.1.0-elliptic-key.sig");
    let public = PublicKey::from_pem(&fixture_text("certtool-p384-pub.pem")).expect("loads");
    let mut payload = env.payload.clone();
    payload[10] ^= 1;
    assert!(matches!(
        public.verify(&pae(&env.payload_type, &payload), &env.sig),
        Err(KeyError::SignatureInvalid)
    ));
    assert!(matches!(
        public.verify(&pae("application/json", &env.payload), &env.sig),
        Err(KeyError::SignatureInvalid)
    ));
    // The v1.0 signature is over another payload.
    let other = envelope("golden-v1.0.0-elliptic-key.sig");
    assert!(public
        .verify(&pae(&env.payload_type, &env.payload), &other.sig)
        .is_err());
    // Right key, wrong digest.
    assert!(public
        .verify_with_digest(
            &pae(&env.payload_type, &env.payload),
            &env.sig,
            DigestAlgorithm::Sha512
        )
        .is_err());
}

// ---------------------------------------------------------- bad signatures

fn assert_malformed_signature(public: &PublicKey, signature: &[u8], why: &str) {
    match public.verify(MESSAGE, signature) {
        Err(KeyError::MalformedSignature { .. }) => {}
        other => panic!("{why}: expected MalformedSignature, got {other:?}"),
    }
}

#[test]
fn tampered_message_fails() {
    let (key, public) = p256();
    let signature = key.sign(MESSAGE).expect("signs");
    let mut message = MESSAGE.to_vec();
    message[0] ^= 0x20;
    assert!(matches!(
        public.verify(&message, &signature),
        Err(KeyError::SignatureInvalid)
    ));
    assert!(public.verify(b"", &signature).is_err());
    assert!(public.verify(&MESSAGE[1..], &signature).is_err());
}

#[test]
fn tampered_signature_fails() {
    let (key, public) = p256();
    let (r, s) = split_signature(&key.sign(MESSAGE).expect("signs"));
    let mut r2 = r.clone();
    *r2.last_mut().expect("r") ^= 1;
    let mut s2 = s.clone();
    *s2.last_mut().expect("s") ^= 1;
    for (why, signature) in [
        ("r changed", der_signature(&r2, &s)),
        ("s changed", der_signature(&r, &s2)),
        ("r and s swapped", der_signature(&s, &r)),
    ] {
        let err = public.verify(MESSAGE, &signature).expect_err("fails");
        assert!(err.is_verification_failure(), "{why}: {err}");
    }
}

#[test]
fn signature_from_another_key_fails() {
    let (_, public) = p256();
    let other = key(KeyAlgorithm::EcdsaP256Sha256);
    assert!(matches!(
        public.verify(MESSAGE, &other.sign(MESSAGE).expect("signs")),
        Err(KeyError::SignatureInvalid)
    ));
}

#[test]
fn signature_from_another_curve_fails() {
    for (signer, verifier) in [
        (KeyAlgorithm::EcdsaP384Sha384, KeyAlgorithm::EcdsaP256Sha256),
        (KeyAlgorithm::EcdsaP256Sha256, KeyAlgorithm::EcdsaP384Sha384),
        (KeyAlgorithm::EcdsaP521Sha512, KeyAlgorithm::EcdsaP384Sha384),
        (KeyAlgorithm::EcdsaP256Sha256, KeyAlgorithm::EcdsaP521Sha512),
    ] {
        let signature = key(signer).sign(MESSAGE).expect("signs");
        let err = key(verifier)
            .public_key()
            .verify(MESSAGE, &signature)
            .expect_err("fails");
        assert!(err.is_verification_failure(), "{signer:?} -> {verifier:?}");
    }
}

#[test]
fn der_with_trailing_bytes_is_refused() {
    let (key, public) = p256();
    let signature = key.sign(MESSAGE).expect("signs");
    for extra in [&[0u8][..], &[0, 0], &[0x30, 0x00], &[0xff]] {
        let mut long = signature.clone();
        long.extend_from_slice(extra);
        assert_malformed_signature(&public, &long, "trailing bytes");
    }
}

#[test]
fn zero_r_or_s_is_refused() {
    let (key, public) = p256();
    let (r, s) = split_signature(&key.sign(MESSAGE).expect("signs"));
    assert_malformed_signature(&public, &der_signature(&[0], &s), "r = 0");
    assert_malformed_signature(&public, &der_signature(&r, &[0]), "s = 0");
    assert_malformed_signature(&public, &der_signature(&[0], &[0]), "r = s = 0");
}

#[test]
fn out_of_range_r_or_s_is_refused() {
    let (key, public) = p256();
    let (r, s) = split_signature(&key.sign(MESSAGE).expect("signs"));
    let n = order(KeyAlgorithm::EcdsaP256Sha256);
    let mut n_plus_r = vec![1u8];
    n_plus_r.extend_from_slice(&[0u8; 32]);
    assert_malformed_signature(&public, &der_signature(&n, &s), "r = n");
    assert_malformed_signature(&public, &der_signature(&r, &n), "s = n");
    assert_malformed_signature(&public, &der_signature(&n_plus_r, &s), "r = 2^256");
    assert_malformed_signature(&public, &der_signature(&r, &[0xff; 33]), "s too long");
}

#[test]
fn non_der_encodings_are_refused() {
    let (key, public) = p256();
    let signature = key.sign(MESSAGE).expect("signs");
    let (r, s) = split_signature(&signature);
    let body = &signature[2..];

    // Long-form length where the short form fits (BER, not DER).
    let mut long_len = vec![0x30, 0x81, body.len() as u8];
    long_len.extend_from_slice(body);
    assert_malformed_signature(&public, &long_len, "non-minimal length");

    // Indefinite length.
    let mut indefinite = vec![0x30, 0x80];
    indefinite.extend_from_slice(body);
    indefinite.extend_from_slice(&[0, 0]);
    assert_malformed_signature(&public, &indefinite, "indefinite length");

    // An INTEGER with a superfluous leading zero.
    let mut padded_r = vec![0x02, (r.len() + 1) as u8, 0];
    padded_r.extend_from_slice(&r);
    let mut padded = padded_r.clone();
    padded.extend_from_slice(&der_uint(&s));
    assert_malformed_signature(&public, &tlv(0x30, &padded), "non-minimal integer");

    // A negative INTEGER (the top bit set, no leading zero).
    let mut negative = tlv(0x02, &[0x80; 32]);
    negative.extend_from_slice(&der_uint(&s));
    assert_malformed_signature(&public, &tlv(0x30, &negative), "negative r");

    // Wrong tags, wrong shapes.
    let mut set = signature.clone();
    set[0] = 0x31;
    assert_malformed_signature(&public, &set, "SET instead of SEQUENCE");
    let mut octets = der_uint(&r);
    octets[0] = 0x04;
    octets.extend_from_slice(&der_uint(&s));
    assert_malformed_signature(&public, &tlv(0x30, &octets), "OCTET STRING r");
    let mut three = der_uint(&r);
    three.extend_from_slice(&der_uint(&s));
    three.extend_from_slice(&der_uint(&s));
    assert_malformed_signature(&public, &tlv(0x30, &three), "three integers");
    assert_malformed_signature(&public, &tlv(0x30, &der_uint(&r)), "one integer");
    assert_malformed_signature(&public, &[], "empty");
    assert_malformed_signature(&public, &[0x30], "truncated header");
    assert_malformed_signature(&public, &signature[..signature.len() - 1], "truncated");

    // Raw r || s (IEEE P1363), as some HSMs return.
    let mut raw = vec![0u8; 64];
    raw[32 - r.len().min(32)..32].copy_from_slice(&r[r.len().saturating_sub(32)..]);
    raw[64 - s.len().min(32)..].copy_from_slice(&s[s.len().saturating_sub(32)..]);
    assert_malformed_signature(&public, &raw, "P1363 form");
}

// ---------------------------------------------------------- bad public keys

#[test]
fn garbage_is_not_a_public_key() {
    for text in [
        "",
        "hello",
        "-----BEGIN-----",
        "\u{0}\u{1}\u{2}",
        "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEsu6rZGBTjxtvRWPMixT+3HyndV0J0Ybt",
    ] {
        assert!(
            matches!(PublicKey::from_pem(text), Err(KeyError::NoPemBlock { .. })),
            "{text:?}"
        );
    }
}

#[test]
fn truncated_or_corrupted_public_pem_is_refused() {
    let text = fixture_text("certtool-p384-pub.pem");
    let begin = text.find("-----BEGIN").expect("block");
    let block = &text[begin..];
    // Drop the last base64 line: valid base64, truncated DER.
    let lines: Vec<&str> = block.lines().collect();
    let truncated = [&lines[..lines.len() - 2], &lines[lines.len() - 1..]]
        .concat()
        .join("\n");
    assert!(matches!(
        PublicKey::from_pem(&truncated),
        Err(KeyError::Malformed { .. })
    ));
    // Cut in the middle of a base64 quantum.
    let cut = block.replacen(
        "Qq6J7lTvp/EAXQGOKxW9RP0MGX3qAkvi",
        "Qq6J7lTvp/EAXQGOKxW9RP0MGX3qAkv",
        1,
    );
    assert!(matches!(
        PublicKey::from_pem(&cut),
        Err(KeyError::Malformed { .. })
    ));
    // A character outside base64.
    let bad = block.replacen("MHYw", "MH*w", 1);
    assert!(matches!(
        PublicKey::from_pem(&bad),
        Err(KeyError::Malformed { .. })
    ));
    // No END line.
    let open = block.replace("-----END PUBLIC KEY-----", "");
    assert!(matches!(
        PublicKey::from_pem(&open),
        Err(KeyError::Malformed { .. })
    ));
    // Mismatched END label.
    let mismatched = block.replace("END PUBLIC KEY", "END PRIVATE KEY");
    assert!(matches!(
        PublicKey::from_pem(&mismatched),
        Err(KeyError::Malformed { .. })
    ));
}

#[test]
fn certificate_passed_as_public_key_is_refused_with_a_hint() {
    let err = PublicKey::from_pem(&fixture_text("certtool-p384-cert.pem")).expect_err("fails");
    match &err {
        KeyError::WrongPemLabel { found, .. } => assert_eq!(found, "CERTIFICATE"),
        other => panic!("expected WrongPemLabel, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("CERTIFICATE"), "{message}");
    assert!(message.contains("openssl x509 -pubkey"), "{message}");
}

#[test]
fn private_key_passed_as_public_key_is_refused_with_a_hint() {
    let err = PublicKey::from_pem(&fixture_text("certtool-p384-key.pem")).expect_err("fails");
    match &err {
        KeyError::WrongPemLabel { found, .. } => assert_eq!(found, "EC PRIVATE KEY"),
        other => panic!("expected WrongPemLabel, got {other:?}"),
    }
    assert!(err.to_string().contains("-pubout"), "{err}");
    let pkcs8 = key(KeyAlgorithm::EcdsaP256Sha256).to_pkcs8_pem();
    assert!(matches!(
        PublicKey::from_pem(&pkcs8),
        Err(KeyError::WrongPemLabel { .. })
    ));
}

#[test]
fn two_public_keys_in_one_file_are_refused() {
    let a = key(KeyAlgorithm::EcdsaP256Sha256).public_key().to_pem();
    let b = key(KeyAlgorithm::EcdsaP256Sha256).public_key().to_pem();
    assert!(matches!(
        PublicKey::from_pem(&format!("{a}{b}")),
        Err(KeyError::Malformed { .. })
    ));
}

#[test]
fn rsa_public_key_label_says_how_to_convert() {
    let err = PublicKey::from_pem(&pem("RSA PUBLIC KEY", &[0x30, 0x00])).expect_err("fails");
    assert!(matches!(&err, KeyError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("RSA PUBLIC KEY"), "{err}");
    assert!(err.to_string().contains("-RSAPublicKey_in"), "{err}");
}

#[test]
fn public_key_algorithms_other_than_ec_rsa_and_ed25519_are_unsupported() {
    // RSA and Ed25519 keys load; these bytes are no such key.
    for (alg, params) in [
        ("1.2.840.113549.1.1.1", Some(&[0x05, 0x00][..])),
        ("1.3.101.112", None),
    ] {
        let der = spki(alg, params, &[0, 1, 2, 3]);
        match PublicKey::from_spki_der(&der) {
            Err(KeyError::Malformed { .. }) => {}
            other => panic!("{alg}: {other:?}"),
        }
    }
    for (alg, params, name) in [
        ("1.2.840.113549.1.1.10", None, "RSA-PSS"),
        ("1.3.101.113", None, "Ed448"),
        ("1.3.101.110", None, "X25519"),
        ("1.2.840.10040.4.1", None, "DSA"),
        ("1.2.3.4", None, "key algorithm 1.2.3.4"),
    ] {
        let der = spki(alg, params, &[0, 1, 2, 3]);
        match PublicKey::from_spki_der(&der) {
            Err(KeyError::UnsupportedKeyType { found }) => assert_eq!(found, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn public_keys_on_other_curves_are_unsupported() {
    for (curve, name) in [
        ("1.3.132.0.10", "secp256k1"),
        ("1.3.132.0.33", "secp224r1"),
        ("1.2.840.10045.3.1.1", "secp192r1"),
        ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"),
        ("1.2.3.4", "1.2.3.4"),
    ] {
        let der = spki(EC, Some(&oid(curve)), &[0, 4, 1, 2]);
        match PublicKey::from_spki_der(&der) {
            Err(e @ KeyError::UnsupportedKeyType { .. }) => {
                assert!(e.to_string().contains(name), "{e}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // Explicit curve parameters, and no parameters at all.
    let explicit = spki(EC, Some(&tlv(0x30, &tlv(0x02, &[1]))), &[0, 4]);
    assert!(matches!(
        PublicKey::from_spki_der(&explicit),
        Err(KeyError::UnsupportedKeyType { .. })
    ));
    assert!(matches!(
        PublicKey::from_spki_der(&spki(EC, None, &[0, 4])),
        Err(KeyError::Malformed { .. })
    ));
}

#[test]
fn malformed_spki_is_refused() {
    let good = key(KeyAlgorithm::EcdsaP256Sha256).public_key().clone();
    let point = good.sec1_point();
    let bits = |p: &[u8]| [&[0u8][..], p].concat();

    let mut trailing = good.spki_der().to_vec();
    trailing.push(0);
    let mut off_curve = point.clone();
    off_curve[64] ^= 1;
    let mut unused_bits = bits(&point);
    unused_bits[0] = 1;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("trailing byte", trailing),
        (
            "truncated",
            good.spki_der()[..good.spki_der().len() - 1].to_vec(),
        ),
        ("empty", Vec::new()),
        (
            "point off the curve",
            spki(EC, Some(&oid(P256)), &bits(&off_curve)),
        ),
        ("identity point", spki(EC, Some(&oid(P256)), &bits(&[0]))),
        (
            "short point",
            spki(EC, Some(&oid(P256)), &bits(&point[..64])),
        ),
        (
            "P-256 point on P-384",
            spki(EC, Some(&oid(P384)), &bits(&point)),
        ),
        (
            "hybrid point form",
            spki(
                EC,
                Some(&oid(P256)),
                &bits(&[&[6u8][..], &point[1..]].concat()),
            ),
        ),
        ("unused bits", spki(EC, Some(&oid(P256)), &unused_bits)),
        (
            "curve as string",
            spki(EC, Some(&tlv(0x0c, b"P-256")), &bits(&point)),
        ),
    ];
    for (why, der) in cases {
        match PublicKey::from_spki_der(&der) {
            Err(KeyError::Malformed { .. }) => {}
            other => panic!("{why}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn bad_sec1_points_are_refused() {
    let good = key(KeyAlgorithm::EcdsaP384Sha384).public_key().sec1_point();
    for (alg, bytes) in [
        (KeyAlgorithm::EcdsaP256Sha256, good.clone()),
        (KeyAlgorithm::EcdsaP521Sha512, good.clone()),
        (
            KeyAlgorithm::EcdsaP384Sha384,
            good[..good.len() - 1].to_vec(),
        ),
        (KeyAlgorithm::EcdsaP384Sha384, Vec::new()),
        (KeyAlgorithm::EcdsaP384Sha384, vec![0]),
        (KeyAlgorithm::EcdsaP384Sha384, vec![4; 97]),
    ] {
        assert!(matches!(
            PublicKey::from_sec1_point(alg, &bytes),
            Err(KeyError::Malformed { .. })
        ));
    }
}

#[test]
fn compressed_points_load_and_export_uncompressed() {
    let public = key(KeyAlgorithm::EcdsaP256Sha256).public_key().clone();
    let point = public.sec1_point();
    let mut compressed = vec![2 + (point[64] & 1)];
    compressed.extend_from_slice(&point[1..33]);
    let loaded =
        PublicKey::from_sec1_point(KeyAlgorithm::EcdsaP256Sha256, &compressed).expect("loads");
    assert_eq!(loaded, public);
    let from_spki = PublicKey::from_spki_der(&spki(
        EC,
        Some(&oid(P256)),
        &[&[0u8][..], &compressed].concat(),
    ))
    .expect("loads");
    assert_eq!(from_spki.to_pem(), public.to_pem());
    assert_eq!(from_spki.hint(), public.hint());
}

// --------------------------------------------------------- bad private keys

#[test]
fn garbage_is_not_a_private_key() {
    for text in [&b""[..], b"hello", b"\xff\xfe\x00binary", b"MHcCAQEEI"] {
        assert!(matches!(
            EcPrivateKey::from_pem(text, None),
            Err(KeyError::NoPemBlock { .. })
        ));
    }
    let der = key(KeyAlgorithm::EcdsaP256Sha256).to_pkcs8_pem();
    let truncated = der.replacen("\n-----END", "AAAA\n-----END", 1);
    assert!(EcPrivateKey::from_pem(truncated.as_bytes(), None).is_err());
}

#[test]
fn public_key_passed_as_private_key_is_refused() {
    let err = EcPrivateKey::from_pem(fixture_text("certtool-p384-pub.pem").as_bytes(), None)
        .expect_err("fails");
    match &err {
        KeyError::WrongPemLabel { found, .. } => assert_eq!(found, "PUBLIC KEY"),
        other => panic!("expected WrongPemLabel, got {other:?}"),
    }
    assert!(err.to_string().contains("private key"), "{err}");
}

#[test]
fn certificate_passed_as_private_key_is_refused() {
    let err = EcPrivateKey::from_pem(fixture_text("certtool-p384-cert.pem").as_bytes(), None)
        .expect_err("fails");
    assert!(
        matches!(&err, KeyError::WrongPemLabel { found, .. } if found == "CERTIFICATE"),
        "{err:?}"
    );
}

#[test]
fn certtool_rsa_key_is_unsupported() {
    let err = EcPrivateKey::from_pem(fixture_text("certtool-rsa-key.pem").as_bytes(), None)
        .expect_err("fails");
    assert!(
        matches!(&err, KeyError::UnsupportedKeyType { found } if found == "RSA"),
        "{err:?}"
    );
}

#[test]
fn openssh_key_is_refused_with_a_hint() {
    let err = EcPrivateKey::from_pem(
        pem("OPENSSH PRIVATE KEY", b"openssh-key-v1\0").as_bytes(),
        None,
    )
    .expect_err("fails");
    assert!(err.to_string().contains("ssh-keygen"), "{err}");
}

#[test]
fn two_private_keys_in_one_file_are_refused() {
    let a = key(KeyAlgorithm::EcdsaP256Sha256).to_pkcs8_pem();
    let b = key(KeyAlgorithm::EcdsaP256Sha256).to_pkcs8_pem();
    assert!(matches!(
        EcPrivateKey::from_pem(format!("{}{}", *a, *b).as_bytes(), None),
        Err(KeyError::Malformed { .. })
    ));
}

#[test]
fn private_key_pem_with_headers_is_refused() {
    let text = key(KeyAlgorithm::EcdsaP256Sha256).to_pkcs8_pem().replacen(
        "KEY-----\n",
        "KEY-----\nComment: hello\n\n",
        1,
    );
    assert!(matches!(
        EcPrivateKey::from_pem(text.as_bytes(), None),
        Err(KeyError::Malformed { .. })
    ));
}

#[test]
fn legacy_encrypted_header_is_detected() {
    let text = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,0011223344556677\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
    let err = EcPrivateKey::from_pem(text.as_bytes(), Some(b"pw")).expect_err("fails");
    assert!(matches!(err, KeyError::LegacyEncryptedPem), "{err:?}");
    assert!(err.to_string().contains("openssl pkcs8 -topk8"));
    assert!(!is_encrypted_pem(text.as_bytes()));
}

#[test]
fn private_scalars_out_of_range_are_refused() {
    let n = order(KeyAlgorithm::EcdsaP256Sha256);
    for (why, scalar) in [
        ("zero", vec![0u8; 32]),
        ("n", n.clone()),
        ("n + 1", {
            let mut v = n.clone();
            v[31] += 1;
            v
        }),
        ("all ones", vec![0xff; 32]),
        ("33 bytes", [&[1u8][..], &[0u8; 32]].concat()),
        ("empty", Vec::new()),
    ] {
        let der = sec1(1, &scalar, Some(P256), None);
        match EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &der).as_bytes(), None) {
            Err(KeyError::Malformed { .. }) => {}
            other => panic!("{why}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn short_private_scalars_are_padded() {
    // Some encoders drop leading zero bytes of the scalar.
    let der = sec1(1, &[7], Some(P256), None);
    let key = EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &der).as_bytes(), None).expect("loads");
    key.public_key()
        .verify(MESSAGE, &key.sign(MESSAGE).expect("signs"))
        .expect("verifies");
}

#[test]
fn malformed_sec1_is_refused() {
    let scalar = [0x11u8; 32];
    let other_public = key(KeyAlgorithm::EcdsaP256Sha256).public_key().sec1_point();
    let mut trailing = sec1(1, &scalar, Some(P256), None);
    trailing.push(0);
    for (why, der) in [
        ("version 0", sec1(0, &scalar, Some(P256), None)),
        ("version 2", sec1(2, &scalar, Some(P256), None)),
        ("no curve", sec1(1, &scalar, None, None)),
        (
            "public key of another key",
            sec1(1, &scalar, Some(P256), Some(&other_public)),
        ),
        (
            "garbage public key",
            sec1(1, &scalar, Some(P256), Some(&[4, 1, 2])),
        ),
        ("trailing byte", trailing),
        ("not a sequence", tlv(0x04, &scalar)),
    ] {
        match EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &der).as_bytes(), None) {
            Err(KeyError::Malformed { .. }) => {}
            other => panic!("{why}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn sec1_on_other_curves_is_unsupported() {
    let scalar = [0x11u8; 32];
    for (curve, name) in [("1.3.132.0.10", "secp256k1"), ("1.3.132.0.33", "secp224r1")] {
        let der = sec1(1, &scalar[..28], Some(curve), None);
        match EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &der).as_bytes(), None) {
            Err(e @ KeyError::UnsupportedKeyType { .. }) => {
                assert!(e.to_string().contains(name), "{e}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn pkcs8_with_other_algorithms_is_unsupported() {
    let ed25519 = pkcs8("1.3.101.112", None, &tlv(0x04, &[1; 32]));
    let rsa = pkcs8(
        "1.2.840.113549.1.1.1",
        Some(&[0x05, 0x00]),
        &tlv(0x30, &tlv(0x02, &[0])),
    );
    let k1 = pkcs8(
        EC,
        Some(&oid("1.3.132.0.10")),
        &sec1(1, &[1; 32], None, None),
    );
    for (der, name) in [(ed25519, "Ed25519"), (rsa, "RSA"), (k1, "secp256k1")] {
        match EcPrivateKey::from_pem(pem("PRIVATE KEY", &der).as_bytes(), None) {
            Err(KeyError::UnsupportedKeyType { found }) => assert!(found.contains(name)),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn pkcs8_with_mismatched_inner_curve_is_refused() {
    let der = pkcs8(EC, Some(&oid(P256)), &sec1(1, &[1; 32], Some(P384), None));
    assert!(matches!(
        EcPrivateKey::from_pem(pem("PRIVATE KEY", &der).as_bytes(), None),
        Err(KeyError::Malformed { .. })
    ));
}

#[test]
fn corrupted_encrypted_pkcs8_is_refused() {
    let key = key(KeyAlgorithm::EcdsaP256Sha256);
    let text = key
        .to_encrypted_pkcs8_pem_with_iterations(b"pw", FAST)
        .expect("encrypts");
    let der = b64decode(
        &text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    );
    // Flip a byte of the ciphertext's last block: padding breaks.
    let mut flipped = der.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x55;
    assert!(matches!(
        EcPrivateKey::from_pem(
            pem("ENCRYPTED PRIVATE KEY", &flipped).as_bytes(),
            Some(b"pw")
        ),
        Err(KeyError::WrongPassword)
    ));
    // Truncate the structure.
    assert!(matches!(
        EcPrivateKey::from_pem(
            pem("ENCRYPTED PRIVATE KEY", &der[..der.len() - 20]).as_bytes(),
            Some(b"pw")
        ),
        Err(KeyError::Malformed { .. })
    ));
}

// ---------------------------------------------------------------- secrets

/// The scalar planted in the keys below, and what it looks like printed.
const PLANTED: [u8; 32] = [0x5a; 32];
const PLANTED_RENDERINGS: &[&str] = &["5a5a5a5a", "5A5A5A5A", "90, 90, 90", "WlpaWlpa"];
const PASSWORD: &str = "s3cret-Passw0rd";
const WRONG_PASSWORD: &str = "hunter2-Wr0ng";

fn assert_no_secret(text: &str) {
    for secret in PLANTED_RENDERINGS.iter().chain(&[PASSWORD, WRONG_PASSWORD]) {
        assert!(!text.contains(secret), "{secret:?} leaked into {text:?}");
    }
}

fn planted_key() -> EcPrivateKey {
    let der = sec1(1, &PLANTED, Some(P256), None);
    EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &der).as_bytes(), None).expect("loads")
}

#[test]
fn debug_of_a_private_key_holds_no_secret() {
    let key = planted_key();
    let debug = format!("{key:?} {key:#?}");
    assert!(debug.contains("EcPrivateKey"));
    assert_no_secret(&debug);
    // The export does hold it (base64 of the DER).
    let exported = key.to_pkcs8_pem();
    let der = b64decode(
        &exported
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    );
    assert!(der.windows(32).any(|w| w == PLANTED));
}

#[test]
fn errors_hold_no_secret() {
    let key = planted_key();
    let encrypted = key
        .to_encrypted_pkcs8_pem_with_iterations(PASSWORD.as_bytes(), FAST)
        .expect("encrypts");
    let other_public = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256)
        .public_key()
        .sec1_point();
    let too_long = [&PLANTED[..], &PLANTED[..2]].concat();
    let mismatched = sec1(1, &PLANTED, Some(P256), Some(&other_public));
    let k1 = sec1(1, &PLANTED, Some("1.3.132.0.10"), None);
    let p384_outer = pkcs8(EC, Some(&oid(P384)), &sec1(1, &PLANTED, Some(P256), None));
    let bad_base64 = pem("EC PRIVATE KEY", &mismatched).replacen("Wlpa", "Wl*a", 1);

    let errors = [
        EcPrivateKey::from_pem(encrypted.as_bytes(), Some(WRONG_PASSWORD.as_bytes())),
        EcPrivateKey::from_pem(encrypted.as_bytes(), None),
        EcPrivateKey::from_pem(
            pem("EC PRIVATE KEY", &sec1(1, &too_long, Some(P256), None)).as_bytes(),
            None,
        ),
        EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &mismatched).as_bytes(), None),
        EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &k1).as_bytes(), None),
        EcPrivateKey::from_pem(pem("PRIVATE KEY", &p384_outer).as_bytes(), None),
        EcPrivateKey::from_pem(bad_base64.as_bytes(), None),
        EcPrivateKey::from_pem(key.to_pkcs8_pem().as_bytes(), Some(PASSWORD.as_bytes())),
    ];
    for result in errors {
        let err = result.expect_err("fails");
        assert_no_secret(&format!("{err} {err:?}"));
    }
}

// ------------------------------------------------------------ no panics

/// Every truncation and many single-byte corruptions of valid encodings:
/// the parsers must return (an error, mostly), never panic.
#[test]
fn corrupted_encodings_never_panic() {
    fn variants(good: &[u8]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = (0..good.len()).map(|n| good[..n].to_vec()).collect();
        for i in 0..good.len() {
            for mask in [0x01u8, 0x80] {
                let mut v = good.to_vec();
                v[i] ^= mask;
                out.push(v);
            }
        }
        out
    }
    for alg in KeyAlgorithm::ECDSA {
        let key = key(alg);
        let public = key.public_key().clone();
        for v in variants(public.spki_der()) {
            let _ = PublicKey::from_spki_der(&v);
        }
        for v in variants(&public.sec1_point()) {
            let _ = PublicKey::from_sec1_point(alg, &v);
        }
        // Private key and signature parsing is the same code on every curve,
        // and curve arithmetic is slow in unoptimized builds: P-256 only.
        if alg != KeyAlgorithm::EcdsaP256Sha256 {
            continue;
        }
        let pkcs8 = b64decode(
            &key.to_pkcs8_pem()
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        );
        for v in variants(&pkcs8) {
            let _ = EcPrivateKey::from_pem(pem("PRIVATE KEY", &v).as_bytes(), None);
        }
        let mut scalar = vec![0x33; field_len(alg)];
        scalar[0] = 1;
        let sec1_der = sec1(1, &scalar, Some(curve(alg)), None);
        EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &sec1_der).as_bytes(), None).expect("loads");
        for v in variants(&sec1_der) {
            let _ = EcPrivateKey::from_pem(pem("EC PRIVATE KEY", &v).as_bytes(), None);
        }
        let signature = key.sign(MESSAGE).expect("signs");
        for v in variants(&signature) {
            assert!(
                public.verify(MESSAGE, &v).is_err(),
                "a corrupted signature verified"
            );
        }
    }
    // PEM text cut at every point.
    let text = fixture_text("certtool-p384-pub.pem");
    for n in 0..text.len() {
        if text.is_char_boundary(n) {
            let _ = PublicKey::from_pem(&text[..n]);
            let _ = EcPrivateKey::from_pem(&text.as_bytes()[..n], None);
        }
    }
}

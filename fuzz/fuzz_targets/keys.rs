//! Key loading: private keys (PEM: SEC1, PKCS#8, PKCS#1 RSA, encrypted
//! PKCS#8 with a fixed password; DER PKCS#8 and SEC1) and public keys (PEM, DER
//! SubjectPublicKeyInfo, SEC1 points, PKCS#1 RSAPublicKey, raw Ed25519), all
//! on the same input.
//!
//! A key that loads must write back to PEM that loads to the same key, and a
//! private key must make signatures its public key verifies.
//!
//! Encrypted keys are decrypted only when their KDF work factor is small: the
//! iteration count is part of the input, and a slow input is not a finding.

#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use model_signing::keys::{
    is_encrypted_pem, EcPrivateKey, KeyAlgorithm, PrivateKey, PublicKey, SigningKey,
};
use pkcs8::der::Decode;
use pkcs8::EncryptedPrivateKeyInfo;

/// The password of the encrypted seeds (`fuzz/seeds/keys/*encrypted*`).
const PASSWORD: &[u8] = b"fuzz-password";

/// Most PBKDF2 iterations decrypted per input.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000;
/// Most scrypt memory (128 * r * N * p bytes) used per input.
const MAX_SCRYPT_BYTES: u64 = 16 << 20;

const ALGORITHMS: [KeyAlgorithm; 3] = [
    KeyAlgorithm::EcdsaP256Sha256,
    KeyAlgorithm::EcdsaP384Sha384,
    KeyAlgorithm::EcdsaP521Sha512,
];

fuzz_target!(|data: &[u8]| {
    private_pem(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = PublicKey::from_pem(text) {
            check_public(&key);
        }
    }
    for result in [
        EcPrivateKey::from_pkcs8_der(data),
        EcPrivateKey::from_sec1_der(data),
    ] {
        match result {
            Ok(key) => check_private(&key),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    if let Ok(key) = PublicKey::from_spki_der(data) {
        check_public(&key);
    }
    // RSA (PKCS#1 RSAPublicKey) and Ed25519 (32 bytes) keys.
    for result in [
        PublicKey::from_pkcs1_der(data),
        PublicKey::from_ed25519_bytes(data),
    ] {
        if let Ok(key) = result {
            assert!(!key.algorithm().is_ecdsa());
            check_public(&key);
        }
    }
    for alg in ALGORITHMS {
        if let Ok(key) = PublicKey::from_sec1_point(alg, data) {
            assert_eq!(key.algorithm(), alg);
            check_public(&key);
        }
    }
});

fn private_pem(data: &[u8]) {
    // Every key type (RSA and Ed25519 too) through the loader `sign` uses.
    if let Ok(key) = PrivateKey::from_pem(data, None) {
        let public = SigningKey::public_key(&key).expect("a loaded key has a public key");
        assert_eq!(public.algorithm(), SigningKey::algorithm(&key));
        check_public(&public);
        let signature = SigningKey::sign(&key, b"fuzz message").expect("the key signs");
        public
            .verify(b"fuzz message", &signature)
            .expect("the key's own signature verifies");
    }
    let encrypted = is_encrypted_pem(data);
    match EcPrivateKey::from_pem(data, None) {
        Ok(key) => {
            assert!(!encrypted, "an encrypted key loaded without a password");
            check_private(&key);
        }
        Err(e) => {
            let _ = (e.to_string(), e.is_verification_failure());
        }
    }
    if encrypted && affordable(data) {
        match EcPrivateKey::from_pem(data, Some(PASSWORD)) {
            Ok(key) => check_private(&key),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

fn check_private(key: &EcPrivateKey) {
    let public = key.public_key();
    assert_eq!(public.algorithm(), key.algorithm());
    check_public(public);

    let pem = key.to_pkcs8_pem();
    let again = EcPrivateKey::from_pem(pem.as_bytes(), None).expect("written PKCS#8 loads");
    assert_eq!(again.public_key(), public);

    let message = b"fuzz message";
    let signature = SigningKey::sign(key, message).expect("the key signs");
    public
        .verify(message, &signature)
        .expect("the key's own signature verifies");
    assert!(
        public.verify(b"other message", &signature).is_err(),
        "a signature verified for another message"
    );
}

fn check_public(key: &PublicKey) {
    let again = PublicKey::from_pem(&key.to_pem()).expect("written PEM loads");
    assert_eq!(&again, key);
    let again = PublicKey::from_spki_der(key.spki_der()).expect("its SPKI loads");
    assert_eq!(&again, key);
    if key.algorithm().is_ecdsa() {
        let again = PublicKey::from_sec1_point(key.algorithm(), &key.sec1_point())
            .expect("its point loads");
        assert_eq!(&again, key);
    } else {
        assert!(key.sec1_point().is_empty());
    }
    let _ = (key.hint(), key.fingerprint_sha256());
    assert!(key
        .verify(b"m", &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])
        .is_err());
}

/// Whether decrypting the key in `text` takes little work. Finds the block
/// the way the library does (the first `ENCRYPTED PRIVATE KEY` block, lines
/// trimmed, headers refused) and reads its KDF parameters.
fn affordable(text: &[u8]) -> bool {
    let mut lines = text.split(|&b| b == b'\n').map(<[u8]>::trim_ascii);
    if !lines.any(|l| l == b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return false;
    }
    let mut body = Vec::new();
    for line in lines {
        if line.starts_with(b"-----END ") || line.starts_with(b"-----BEGIN ") {
            break;
        }
        if line.contains(&b':') {
            return false;
        }
        body.extend_from_slice(line);
    }
    let Ok(der) = STANDARD.decode(&body) else {
        return false;
    };
    let Ok(info) = EncryptedPrivateKeyInfo::from_der(&der) else {
        return false;
    };
    let Some(pbes2) = info.encryption_algorithm.pbes2() else {
        // PBES1 is refused before any key derivation.
        return true;
    };
    if let Some(p) = pbes2.kdf.pbkdf2() {
        return p.iteration_count <= MAX_PBKDF2_ITERATIONS;
    }
    if let Some(s) = pbes2.kdf.scrypt() {
        let bytes = 128u64
            .saturating_mul(u64::from(s.block_size))
            .saturating_mul(s.cost_parameter)
            .saturating_mul(u64::from(s.parallelization));
        return bytes <= MAX_SCRYPT_BYTES;
    }
    false
}

//! Two-way interoperability with the Python reference (`model-signing`
//! 1.1.1 and its `cryptography`), run from its virtual environment: keys and
//! signatures made by either side are read and checked by the other, and the
//! `publicKey.hint` is computed by the reference's own signer.

use crate::keys_support;

use std::path::Path;

use keys_support::*;
use model_signing::keys::{
    is_encrypted_pem, DigestAlgorithm, EcPrivateKey, KeyAlgorithm, KeyError, PublicKey, SigningKey,
    MIN_PKCS8_PBKDF2_ITERATIONS,
};

const MESSAGE: &[u8] = b"DSSEv1 28 application/vnd.in-toto+json 13 {\"a\": \"b\"}\n";

/// The reference's hint for a private key file, from its own key signer.
const REFERENCE_HINT: &str = r#"
import pathlib, sys
from model_signing._signing import sign_ec_key
password = sys.argv[2].encode() if len(sys.argv) > 2 else None
signer = sign_ec_key.Signer(pathlib.Path(sys.argv[1]), password)
print(signer._get_verification_material().public_key.hint)
"#;

/// Verifies a DER signature the way the reference does (digest by curve).
const REFERENCE_VERIFY: &str = r#"
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing._signing import sign_ec_key
key = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
message = open(sys.argv[2], "rb").read()
signature = open(sys.argv[3], "rb").read()
try:
    key.verify(signature, message, ec.ECDSA(sign_ec_key.get_ec_key_hash(key)))
    print("valid")
except Exception as e:
    print("invalid", type(e).__name__)
"#;

/// Makes a key on every curve in every format, and signatures.
const PYTHON_KEYS: &str = r#"
import pathlib, sys
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import ec, utils
out = pathlib.Path(sys.argv[1])
message = bytes.fromhex(sys.argv[2])
curves = {"p256": (ec.SECP256R1(), hashes.SHA256()),
          "p384": (ec.SECP384R1(), hashes.SHA384()),
          "p521": (ec.SECP521R1(), hashes.SHA512())}
for name, (curve, digest) in curves.items():
    key = ec.generate_private_key(curve)
    def write(suffix, data):
        (out / f"{name}.{suffix}").write_bytes(data)
    write("sec1.pem", key.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()))
    write("pkcs8.pem", key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
    write("enc.pem", key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.BestAvailableEncryption(b"py pass")))
    write("legacy.pem", key.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.BestAvailableEncryption(b"py pass")))
    write("pub.pem", key.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))
    sig = key.sign(message, ec.ECDSA(digest))
    write("sig", sig)
    write("sha256.sig", key.sign(message, ec.ECDSA(hashes.SHA256())))
    r, sv = utils.decode_dss_signature(sig)
    n = {"p256": 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551,
         "p384": 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973,
         "p521": 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409}[name]
    high = utils.encode_dss_signature(r, n - sv if sv <= n // 2 else sv)
    key.public_key().verify(high, message, ec.ECDSA(digest))
    write("high.sig", high)
"#;

fn names(alg: KeyAlgorithm) -> &'static str {
    match alg {
        KeyAlgorithm::EcdsaP256Sha256 => "p256",
        KeyAlgorithm::EcdsaP384Sha384 => "p384",
        _ => "p521",
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary path")
}

#[test]
fn reference_hint_of_the_golden_key() {
    let Some(python) = python() else { return };
    let path = fixture("certtool-p384-key.pem");
    let hint = run_python(&python, REFERENCE_HINT, &[path_str(&path)]);
    let public = PublicKey::from_pem(&fixture_text("certtool-p384-pub.pem")).expect("loads");
    assert_eq!(hint.trim(), public.hint());
}

#[test]
fn our_keys_load_in_the_reference_with_the_same_hint() {
    let Some(python) = python() else { return };
    for alg in KeyAlgorithm::ECDSA {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = EcPrivateKey::generate(alg);
        let plain = dir.path().join("key.pem");
        let encrypted = dir.path().join("enc.pem");
        std::fs::write(&plain, key.to_pkcs8_pem().as_bytes()).expect("write");
        std::fs::write(
            &encrypted,
            key.to_encrypted_pkcs8_pem_with_iterations(b"rust pass", MIN_PKCS8_PBKDF2_ITERATIONS)
                .expect("encrypts")
                .as_bytes(),
        )
        .expect("write");
        let expected = key.public_key().hint();
        assert_eq!(
            run_python(&python, REFERENCE_HINT, &[path_str(&plain)]).trim(),
            expected,
            "{alg:?}"
        );
        assert_eq!(
            run_python(
                &python,
                REFERENCE_HINT,
                &[path_str(&encrypted), "rust pass"]
            )
            .trim(),
            expected,
            "{alg:?} encrypted"
        );
    }
}

#[test]
fn our_signatures_verify_in_the_reference() {
    let Some(python) = python() else { return };
    for alg in KeyAlgorithm::ECDSA {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = EcPrivateKey::generate(alg);
        let public = dir.path().join("pub.pem");
        let message = dir.path().join("msg");
        let signature = dir.path().join("sig");
        std::fs::write(&public, key.public_key().to_pem()).expect("write");
        std::fs::write(&message, MESSAGE).expect("write");
        std::fs::write(&signature, key.sign(MESSAGE).expect("signs")).expect("write");
        let args = [path_str(&public), path_str(&message), path_str(&signature)];
        assert_eq!(
            run_python(&python, REFERENCE_VERIFY, &args).trim(),
            "valid",
            "{alg:?}"
        );
        // A signature by another key is refused there too.
        let other = EcPrivateKey::generate(alg).sign(MESSAGE).expect("signs");
        std::fs::write(&signature, other).expect("write");
        assert!(run_python(&python, REFERENCE_VERIFY, &args).starts_with("invalid"));
    }
}

#[test]
fn reference_keys_and_signatures_work_here() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    run_python(&python, PYTHON_KEYS, &[path_str(dir.path()), &hex(MESSAGE)]);
    let read = |name: &str| std::fs::read(dir.path().join(name)).expect("written");
    for alg in KeyAlgorithm::ECDSA {
        let n = names(alg);
        let public_pem = String::from_utf8(read(&format!("{n}.pub.pem"))).expect("text");
        let public = PublicKey::from_pem(&public_pem).expect("public key loads");
        assert_eq!(public.algorithm(), alg);
        assert_eq!(public.to_pem(), public_pem, "same PEM text as cryptography");

        let sec1 = EcPrivateKey::from_pem(&read(&format!("{n}.sec1.pem")), None).expect("SEC1");
        let pkcs8 = EcPrivateKey::from_pem(&read(&format!("{n}.pkcs8.pem")), None).expect("PKCS#8");
        let enc_pem = read(&format!("{n}.enc.pem"));
        assert!(is_encrypted_pem(&enc_pem));
        let enc = EcPrivateKey::from_pem(&enc_pem, Some(b"py pass")).expect("encrypted PKCS#8");
        for key in [&sec1, &pkcs8, &enc] {
            assert_eq!(key.public_key(), &public);
            public
                .verify(MESSAGE, &key.sign(MESSAGE).expect("signs"))
                .expect("verifies");
        }
        assert!(matches!(
            EcPrivateKey::from_pem(&enc_pem, Some(b"py pasS")),
            Err(KeyError::WrongPassword)
        ));
        assert!(matches!(
            EcPrivateKey::from_pem(&enc_pem, None),
            Err(KeyError::PasswordRequired)
        ));
        assert!(matches!(
            EcPrivateKey::from_pem(&read(&format!("{n}.legacy.pem")), Some(b"py pass")),
            Err(KeyError::LegacyEncryptedPem)
        ));

        // Signatures made by cryptography.
        let sig = read(&format!("{n}.sig"));
        public
            .verify(MESSAGE, &sig)
            .expect("cryptography's signature verifies");
        public
            .verify(MESSAGE, &read(&format!("{n}.high.sig")))
            .expect("high-S verifies, as in cryptography");
        // SHA-256 on every curve (the v0.2 legacy digest), P-521 included.
        let sha256 = read(&format!("{n}.sha256.sig"));
        public
            .verify_with_digest(MESSAGE, &sha256, DigestAlgorithm::Sha256)
            .expect("SHA-256 signature verifies");
        if alg != KeyAlgorithm::EcdsaP256Sha256 {
            assert!(public.verify(MESSAGE, &sha256).is_err());
        }
        let mut tampered = MESSAGE.to_vec();
        tampered[0] ^= 1;
        assert!(matches!(
            public.verify(&tampered, &sig),
            Err(KeyError::SignatureInvalid)
        ));
        let _ = SigningKey::public_key(&sec1).expect("public key");
    }
}

//! Keys made by the `openssl` command line tool at test time: every format
//! that must load, every key type that must be refused, and signatures
//! checked both ways.

use crate::keys_support;

use std::path::Path;

use keys_support::*;
use model_signing::keys::{
    is_encrypted_pem, EcPrivateKey, KeyAlgorithm, KeyError, PublicKey, SigningKey,
    PKCS8_PBKDF2_ITERATIONS,
};

const CURVES: [(&str, KeyAlgorithm); 3] = [
    ("prime256v1", KeyAlgorithm::EcdsaP256Sha256),
    ("secp384r1", KeyAlgorithm::EcdsaP384Sha384),
    ("secp521r1", KeyAlgorithm::EcdsaP521Sha512),
];

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).expect("file written")
}

fn text(dir: &Path, name: &str) -> String {
    String::from_utf8(read(dir, name)).expect("PEM text")
}

/// `openssl genpkey` for an EC curve, PKCS#8 PEM in `key.pem`, and its
/// public key in `pub.pem`.
fn genpkey_ec(dir: &Path, curve: &str) {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            &format!("ec_paramgen_curve:{curve}"),
            "-out",
            "key.pem",
        ],
    );
    openssl(
        dir,
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
}

fn unsupported(result: Result<impl std::fmt::Debug, KeyError>, name: &str) {
    match result {
        Err(KeyError::UnsupportedKeyType { found }) => {
            assert!(found.contains(name), "expected {name}, found {found}")
        }
        other => panic!("{name}: expected UnsupportedKeyType, got {other:?}"),
    }
}

// ----------------------------------------------------------- formats that load

#[test]
fn pkcs8_and_public_keys_from_openssl_load() {
    for (curve, alg) in CURVES {
        let dir = tempdir();
        genpkey_ec(dir.path(), curve);
        let key = EcPrivateKey::from_pem(&read(dir.path(), "key.pem"), None).expect("loads");
        let public = PublicKey::from_pem(&text(dir.path(), "pub.pem")).expect("loads");
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key.public_key(), &public);
        // OpenSSL writes the same PEM text as we do.
        assert_eq!(public.to_pem(), text(dir.path(), "pub.pem"));
        let der = openssl(
            dir.path(),
            &["pkey", "-pubin", "-in", "pub.pem", "-outform", "DER"],
        );
        assert_eq!(public.spki_der(), &der[..]);
        assert!(!is_encrypted_pem(&read(dir.path(), "key.pem")));
    }
}

#[test]
fn sec1_keys_from_openssl_load() {
    for (curve, alg) in CURVES {
        let dir = tempdir();
        // With an `EC PARAMETERS` block before the key, as ecparam writes it.
        openssl(
            dir.path(),
            &["ecparam", "-name", curve, "-genkey", "-out", "key.pem"],
        );
        let pem = text(dir.path(), "key.pem");
        assert!(pem.contains("-----BEGIN EC PARAMETERS-----"));
        assert!(pem.contains("-----BEGIN EC PRIVATE KEY-----"));
        let key = EcPrivateKey::from_pem(pem.as_bytes(), None).expect("loads");
        assert_eq!(key.algorithm(), alg);
        openssl(
            dir.path(),
            &["ec", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
        );
        let public = PublicKey::from_pem(&text(dir.path(), "pub.pem")).expect("loads");
        assert_eq!(key.public_key(), &public);
    }
}

#[test]
fn sec1_without_public_key_loads() {
    let dir = tempdir();
    openssl(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "full.pem",
        ],
    );
    openssl(
        dir.path(),
        &["ec", "-in", "full.pem", "-no_public", "-out", "bare.pem"],
    );
    let full = EcPrivateKey::from_pem(&read(dir.path(), "full.pem"), None).expect("loads");
    let bare = EcPrivateKey::from_pem(&read(dir.path(), "bare.pem"), None).expect("loads");
    assert_eq!(full.public_key(), bare.public_key());
}

#[test]
fn compressed_public_key_loads_and_exports_uncompressed() {
    let dir = tempdir();
    genpkey_ec(dir.path(), "P-256");
    openssl(
        dir.path(),
        &[
            "ec",
            "-in",
            "key.pem",
            "-pubout",
            "-conv_form",
            "compressed",
            "-out",
            "compressed.pem",
        ],
    );
    let compressed = PublicKey::from_pem(&text(dir.path(), "compressed.pem")).expect("loads");
    assert_ne!(
        text(dir.path(), "compressed.pem"),
        text(dir.path(), "pub.pem")
    );
    assert_eq!(compressed.to_pem(), text(dir.path(), "pub.pem"));
}

#[test]
fn encrypted_pkcs8_from_openssl_loads() {
    for (curve, alg) in CURVES {
        let dir = tempdir();
        genpkey_ec(dir.path(), curve);
        openssl(
            dir.path(),
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-in",
                "key.pem",
                "-out",
                "enc.pem",
                "-passout",
                "pass:open sesame",
            ],
        );
        let enc = read(dir.path(), "enc.pem");
        assert!(is_encrypted_pem(&enc));
        let key = EcPrivateKey::from_pem(&enc, Some(b"open sesame")).expect("decrypts");
        assert_eq!(key.algorithm(), alg);
        let plain = EcPrivateKey::from_pem(&read(dir.path(), "key.pem"), None).expect("loads");
        assert_eq!(key.public_key(), plain.public_key());
    }
}

#[test]
fn encrypted_pkcs8_with_other_pbes2_ciphers_loads() {
    let dir = tempdir();
    genpkey_ec(dir.path(), "P-256");
    for (name, args) in [
        ("aes-128", &["-v2", "aes-128-cbc"][..]),
        ("aes-192", &["-v2", "aes-192-cbc"]),
        (
            "sha512-prf",
            &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"],
        ),
        ("scrypt", &["-scrypt"]),
    ] {
        let out = format!("{name}.pem");
        let mut all = vec!["pkcs8", "-topk8", "-in", "key.pem", "-out", &out];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-passout", "pass:pw"]);
        openssl(dir.path(), &all);
        EcPrivateKey::from_pem(&read(dir.path(), &out), Some(b"pw"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

// --------------------------------------------------------- passwords refused

#[test]
fn wrong_or_missing_password_is_reported() {
    let dir = tempdir();
    genpkey_ec(dir.path(), "P-384");
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "key.pem",
            "-out",
            "enc.pem",
            "-passout",
            "pass:right",
        ],
    );
    let enc = read(dir.path(), "enc.pem");
    for wrong in [&b"wrong"[..], b"Right", b"right ", b""] {
        let err = EcPrivateKey::from_pem(&enc, Some(wrong)).expect_err("fails");
        assert!(matches!(err, KeyError::WrongPassword), "{err:?}");
        assert!(err.to_string().contains("password"));
    }
    let err = EcPrivateKey::from_pem(&enc, None).expect_err("fails");
    assert!(matches!(err, KeyError::PasswordRequired), "{err:?}");
}

#[test]
fn legacy_encrypted_pem_is_refused_with_the_conversion_command() {
    let dir = tempdir();
    openssl(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "key.pem",
        ],
    );
    openssl(
        dir.path(),
        &[
            "ec",
            "-in",
            "key.pem",
            "-aes256",
            "-out",
            "legacy.pem",
            "-passout",
            "pass:pw",
        ],
    );
    let legacy = read(dir.path(), "legacy.pem");
    assert!(String::from_utf8_lossy(&legacy).contains("Proc-Type: 4,ENCRYPTED"));
    assert!(!is_encrypted_pem(&legacy));
    for password in [None, Some(&b"pw"[..])] {
        let err = EcPrivateKey::from_pem(&legacy, password).expect_err("fails");
        assert!(matches!(err, KeyError::LegacyEncryptedPem), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("openssl pkcs8 -topk8")
                && message.contains("-v2 aes-256-cbc")
                && message.contains("-in OLD.pem -out NEW.pem"),
            "{message}"
        );
    }
}

#[test]
fn legacy_encrypted_traditional_pkey_is_refused() {
    let dir = tempdir();
    genpkey_ec(dir.path(), "P-384");
    openssl(
        dir.path(),
        &[
            "pkey",
            "-in",
            "key.pem",
            "-traditional",
            "-aes256",
            "-passout",
            "pass:pw",
            "-out",
            "legacy.pem",
        ],
    );
    let legacy = read(dir.path(), "legacy.pem");
    assert!(String::from_utf8_lossy(&legacy).contains("BEGIN EC PRIVATE KEY"));
    let err = EcPrivateKey::from_pem(&legacy, Some(b"pw")).expect_err("fails");
    assert!(matches!(err, KeyError::LegacyEncryptedPem), "{err:?}");
}

#[test]
fn unsupported_pkcs8_encryption_is_named() {
    let dir = tempdir();
    genpkey_ec(dir.path(), "P-256");
    for (args, expected) in [
        (&["-v2", "des3"][..], "des-ede3-cbc"),
        (&["-v1", "PBE-SHA1-3DES"], "PKCS#12"),
        // OpenSSL 1.0's `-v2` default PRF; the PKCS#5 implementation used
        // here leaves SHA-1 out.
        (
            &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"],
            "PBKDF2 with hmacWithSHA1, aes-256-cbc",
        ),
    ] {
        let mut all = vec!["pkcs8", "-topk8", "-in", "key.pem", "-out", "enc.pem"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-passout", "pass:pw"]);
        openssl(dir.path(), &all);
        let enc = read(dir.path(), "enc.pem");
        assert!(is_encrypted_pem(&enc));
        match EcPrivateKey::from_pem(&enc, Some(b"pw")) {
            Err(e @ KeyError::UnsupportedEncryption { .. }) => {
                let message = e.to_string();
                assert!(message.contains(expected), "{message}");
                assert!(message.contains("openssl pkcs8 -topk8"), "{message}");
            }
            other => panic!("{args:?}: {other:?}"),
        }
    }
}

// -------------------------------------------------------- key types refused

#[test]
fn rsa_private_keys_and_small_rsa_public_keys_are_unsupported() {
    let dir = tempdir();
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "key.pem",
        ],
    );
    openssl(
        dir.path(),
        &["pkey", "-in", "key.pem", "-traditional", "-out", "trad.pem"],
    );
    openssl(
        dir.path(),
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
    openssl(
        dir.path(),
        &[
            "rsa",
            "-in",
            "key.pem",
            "-RSAPublicKey_out",
            "-out",
            "rsapub.pem",
        ],
    );
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "key.pem",
            "-out",
            "enc.pem",
            "-passout",
            "pass:pw",
        ],
    );
    assert!(text(dir.path(), "trad.pem").contains("BEGIN RSA PRIVATE KEY"));
    unsupported(
        EcPrivateKey::from_pem(&read(dir.path(), "key.pem"), None),
        "RSA",
    );
    unsupported(
        EcPrivateKey::from_pem(&read(dir.path(), "trad.pem"), None),
        "RSA",
    );
    unsupported(
        EcPrivateKey::from_pem(&read(dir.path(), "enc.pem"), Some(b"pw")),
        "RSA",
    );
    // RSA public keys of 2048, 3072 or 4096 bits verify; this one is 1024.
    unsupported(
        PublicKey::from_pem(&text(dir.path(), "pub.pem")),
        "RSA key of 1024 bits",
    );
    // A PKCS#1 `RSA PUBLIC KEY` block: the error says how to convert it.
    let e = PublicKey::from_pem(&text(dir.path(), "rsapub.pem")).expect_err("PKCS#1 block");
    assert!(e.to_string().contains("-RSAPublicKey_in"), "{e}");
}

#[test]
fn ed25519_private_keys_and_ed448_and_x25519_keys_are_unsupported() {
    let dir = tempdir();
    for alg in ["ED25519", "ED448", "X25519"] {
        openssl(
            dir.path(),
            &["genpkey", "-algorithm", alg, "-out", "key.pem"],
        );
        openssl(
            dir.path(),
            &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
        );
        let name = match alg {
            "ED25519" => "Ed25519",
            "ED448" => "Ed448",
            _ => "X25519",
        };
        unsupported(
            EcPrivateKey::from_pem(&read(dir.path(), "key.pem"), None),
            name,
        );
        if alg == "ED25519" {
            // Ed25519 public keys verify (Ed25519ph signatures).
            let key = PublicKey::from_pem(&text(dir.path(), "pub.pem")).expect("Ed25519 loads");
            assert_eq!(
                key.algorithm(),
                model_signing::keys::KeyAlgorithm::Ed25519Ph
            );
        } else {
            unsupported(PublicKey::from_pem(&text(dir.path(), "pub.pem")), name);
        }
    }
}

#[test]
fn other_curves_are_unsupported() {
    for (curve, name) in [
        ("secp256k1", "secp256k1"),
        ("secp224r1", "secp224r1"),
        ("brainpoolP256r1", "brainpoolP256r1"),
        ("prime192v1", "secp192r1"),
    ] {
        let dir = tempdir();
        genpkey_ec(dir.path(), curve);
        openssl(dir.path(), &["ec", "-in", "key.pem", "-out", "sec1.pem"]);
        unsupported(
            EcPrivateKey::from_pem(&read(dir.path(), "key.pem"), None),
            name,
        );
        unsupported(
            EcPrivateKey::from_pem(&read(dir.path(), "sec1.pem"), None),
            name,
        );
        unsupported(PublicKey::from_pem(&text(dir.path(), "pub.pem")), name);
    }
}

#[test]
fn explicit_curve_parameters_are_unsupported() {
    let dir = tempdir();
    openssl(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-param_enc",
            "explicit",
            "-out",
            "key.pem",
        ],
    );
    openssl(
        dir.path(),
        &[
            "ec",
            "-in",
            "key.pem",
            "-param_enc",
            "explicit",
            "-pubout",
            "-out",
            "pub.pem",
        ],
    );
    unsupported(
        EcPrivateKey::from_pem(&read(dir.path(), "key.pem"), None),
        "explicit curve parameters",
    );
    unsupported(
        PublicKey::from_pem(&text(dir.path(), "pub.pem")),
        "explicit curve parameters",
    );
}

#[test]
fn dsa_keys_are_unsupported() {
    let dir = tempdir();
    openssl(
        dir.path(),
        &["dsaparam", "-genkey", "-noout", "-out", "key.pem", "1024"],
    );
    openssl(dir.path(), &["pkey", "-in", "key.pem", "-out", "pkcs8.pem"]);
    openssl(
        dir.path(),
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
    unsupported(
        EcPrivateKey::from_pem(&read(dir.path(), "key.pem"), None),
        "DSA",
    );
    unsupported(
        EcPrivateKey::from_pem(&read(dir.path(), "pkcs8.pem"), None),
        "DSA",
    );
    unsupported(PublicKey::from_pem(&text(dir.path(), "pub.pem")), "DSA");
}

#[test]
fn der_files_are_not_pem() {
    let dir = tempdir();
    genpkey_ec(dir.path(), "P-256");
    let der = openssl(dir.path(), &["pkey", "-in", "key.pem", "-outform", "DER"]);
    assert!(matches!(
        EcPrivateKey::from_pem(&der, None),
        Err(KeyError::NoPemBlock { .. })
    ));
    let pub_der = openssl(
        dir.path(),
        &["pkey", "-pubin", "-in", "pub.pem", "-outform", "DER"],
    );
    assert!(matches!(
        PublicKey::from_pem(&String::from_utf8_lossy(&pub_der)),
        Err(KeyError::NoPemBlock { .. })
    ));
    // from_spki_der takes it.
    PublicKey::from_spki_der(&pub_der).expect("DER loads");
}

// -------------------------------------------------------- signatures, both ways

#[test]
fn our_signatures_verify_with_openssl() {
    for (curve, alg) in CURVES {
        let dir = tempdir();
        let key = EcPrivateKey::generate(alg);
        std::fs::write(dir.path().join("pub.pem"), key.public_key().to_pem()).expect("write");
        std::fs::write(dir.path().join("msg"), b"model payload").expect("write");
        std::fs::write(
            dir.path().join("sig"),
            key.sign(b"model payload").expect("signs"),
        )
        .expect("write");
        let digest = format!("-{}", alg.digest().name());
        let out = openssl(
            dir.path(),
            &[
                "dgst",
                &digest,
                "-verify",
                "pub.pem",
                "-signature",
                "sig",
                "msg",
            ],
        );
        assert!(
            String::from_utf8_lossy(&out).contains("Verified OK"),
            "{curve}"
        );
        // And OpenSSL refuses it for another message.
        std::fs::write(dir.path().join("msg"), b"model payloaD").expect("write");
        let status = std::process::Command::new("openssl")
            .args([
                "dgst",
                &digest,
                "-verify",
                "pub.pem",
                "-signature",
                "sig",
                "msg",
            ])
            .current_dir(dir.path())
            .output()
            .expect("openssl runs");
        assert!(!status.status.success(), "{curve}");
    }
}

#[test]
fn openssl_signatures_verify_with_us() {
    for (curve, alg) in CURVES {
        let dir = tempdir();
        genpkey_ec(dir.path(), curve);
        std::fs::write(dir.path().join("msg"), b"model payload").expect("write");
        let digest = format!("-{}", alg.digest().name());
        openssl(
            dir.path(),
            &["dgst", &digest, "-sign", "key.pem", "-out", "sig", "msg"],
        );
        let public = PublicKey::from_pem(&text(dir.path(), "pub.pem")).expect("loads");
        let sig = read(dir.path(), "sig");
        public.verify(b"model payload", &sig).expect("verifies");
        assert!(matches!(
            public.verify(b"model payloaD", &sig),
            Err(KeyError::SignatureInvalid)
        ));
        let mut trailing = sig.clone();
        trailing.push(0);
        assert!(matches!(
            public.verify(b"model payload", &trailing),
            Err(KeyError::MalformedSignature { .. })
        ));
    }
}

#[test]
fn our_encrypted_pkcs8_opens_in_openssl() {
    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP521Sha512);
    let dir = tempdir();
    // The default iteration count (slow in unoptimized builds: once).
    let enc = key
        .to_encrypted_pkcs8_pem(b"pass phrase")
        .expect("encrypts");
    std::fs::write(dir.path().join("enc.pem"), enc.as_bytes()).expect("write");
    let parsed =
        String::from_utf8(openssl(dir.path(), &["asn1parse", "-in", "enc.pem"])).expect("text");
    assert!(
        parsed.contains("PBES2") && parsed.contains("PBKDF2"),
        "{parsed}"
    );
    assert!(
        parsed.contains("hmacWithSHA256") && parsed.contains("aes-256-cbc"),
        "{parsed}"
    );
    let mut count = format!("{PKCS8_PBKDF2_ITERATIONS:X}");
    if count.len() % 2 == 1 {
        count.insert(0, '0');
    }
    assert!(
        parsed.contains(&format!("INTEGER           :{count}")),
        "iteration count {PKCS8_PBKDF2_ITERATIONS}: {parsed}"
    );
    openssl(
        dir.path(),
        &[
            "pkey",
            "-in",
            "enc.pem",
            "-passin",
            "pass:pass phrase",
            "-pubout",
            "-out",
            "pub.pem",
        ],
    );
    assert_eq!(text(dir.path(), "pub.pem"), key.public_key().to_pem());
    // And our own plain export.
    std::fs::write(dir.path().join("plain.pem"), key.to_pkcs8_pem().as_bytes()).expect("write");
    openssl(
        dir.path(),
        &["pkey", "-in", "plain.pem", "-pubout", "-out", "pub2.pem"],
    );
    assert_eq!(text(dir.path(), "pub2.pem"), key.public_key().to_pem());
    let _ = SigningKey::algorithm(&key);
}

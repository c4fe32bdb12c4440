//! RSA and Ed25519 keys, as the Go implementation of OMS signs with them:
//! RSASSA-PKCS1-v1_5 with SHA-256 over the DSSE PAE (key details
//! `PKIX_RSA_PKCS1V15_{2048,3072,4096}_SHA256`) and Ed25519ph over the PAE
//! (SHA-512 pre-hash, empty context; `PKIX_ED25519_PH`), for key and
//! certificate signatures. The Go tool cannot be installed here, so the
//! bundles are built by these tests following its rules, with signatures made
//! by OpenSSL (RSA) and by `ed25519-dalek` (Ed25519ph, which OpenSSL 3.0 lacks),
//! never by this library's signers.
//!
//! The vectors: Project Wycheproof's RSA PKCS#1 v1.5 SHA-256 set and RFC
//! 8032's Ed25519ph test vector.

use std::fs;
use std::path::Path;

use ed25519_dalek::{Signer as _, SigningKey as EdSigningKey};
use model_signing::bundle::{Bundle, VerificationMaterial};
use model_signing::dsse::pae;
use model_signing::hashing::{HashConfig, NoProgress};
use model_signing::keys::{KeyAlgorithm, KeyError, PublicKey};
use model_signing::sign::sign_model;
use model_signing::verify::{
    verify_bundle, CertificateVerifier, KeyVerifier, ModelCheckOptions, Signer, VerifyError,
};
use testkit as support;
use testkit::go::{
    ed25519_from_openssl, ed25519_key, ed25519_public_pem, go_hint, key_material, openssl,
    openssl_pki, openssl_rsa_sign, rsa_key, GoSigner, Scheme,
};
use wycheproof::TestResult;

fn sign(model: &Path, signer: &GoSigner) -> Bundle {
    sign_model(model, &HashConfig::new(), signer, &NoProgress)
        .expect("sign")
        .0
}

fn verify_key(bundle: &Bundle, public_pem: &str, model: &Path) -> Result<Signer, VerifyError> {
    let key = PublicKey::from_pem(public_pem).map_err(VerifyError::Key)?;
    let verified = verify_bundle(bundle, &KeyVerifier::new(key))?;
    let signer = verified.check().signer.clone();
    verified.check_model(model, &ModelCheckOptions::default(), &NoProgress)?;
    Ok(signer)
}

// ------------------------------------------------------- key signatures

#[test]
fn go_rsa_key_signatures_verify_for_every_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    for (bits, details) in [
        (2048, "PKIX_RSA_PKCS1V15_2048_SHA256"),
        (3072, "PKIX_RSA_PKCS1V15_3072_SHA256"),
        (4096, "PKIX_RSA_PKCS1V15_4096_SHA256"),
    ] {
        let (key, public) = rsa_key(dir.path(), &format!("rsa{bits}"), bits, 65537);
        let loaded = PublicKey::from_pem(&public).expect("RSA public key loads");
        assert_eq!(loaded.algorithm().key_details(), details);
        assert_eq!(loaded.hint(), go_hint(&public), "the hint is the Go one");
        assert_eq!(
            loaded.to_pem(),
            public,
            "PEM text as OpenSSL and Go write it"
        );
        let signer = GoSigner {
            scheme: Scheme::RsaPkcs1 {
                dir: dir.path().to_owned(),
                key,
            },
            material: key_material(&public),
        };
        let bundle = sign(&model, &signer);
        let signer = verify_key(&bundle, &public, &model).expect("RSA signature verifies");
        assert_eq!(
            signer,
            Signer::Key {
                hint: go_hint(&public),
                algorithm: details
            }
        );
        // And through JSON, as a file from the Go tool arrives.
        let read = Bundle::from_json(bundle.to_json().as_bytes()).expect("reads");
        verify_key(&read, &public, &model).expect("verifies after a JSON round trip");
    }
}

#[test]
fn go_ed25519ph_key_signatures_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let key = ed25519_key(7);
    let public = ed25519_public_pem(dir.path(), &key);
    let loaded = PublicKey::from_pem(&public).expect("Ed25519 public key loads");
    assert_eq!(loaded.algorithm(), KeyAlgorithm::Ed25519Ph);
    assert_eq!(loaded.to_pem(), public);
    let signer = GoSigner {
        scheme: Scheme::Ed25519Ph {
            key: Box::new(key),
            context: None,
        },
        material: key_material(&public),
    };
    let bundle = sign(&model, &signer);
    let signer = verify_key(&bundle, &public, &model).expect("Ed25519ph signature verifies");
    assert_eq!(
        signer,
        Signer::Key {
            hint: go_hint(&public),
            algorithm: "PKIX_ED25519_PH"
        }
    );
}

#[test]
fn a_changed_model_fails_with_rsa_and_ed25519_keys_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let (key, rsa_public) = rsa_key(dir.path(), "rsa", 2048, 65537);
    let rsa = sign(
        &model,
        &GoSigner {
            scheme: Scheme::RsaPkcs1 {
                dir: dir.path().to_owned(),
                key,
            },
            material: key_material(&rsa_public),
        },
    );
    let ed = ed25519_key(9);
    let ed_public = ed25519_public_pem(dir.path(), &ed);
    let ed = sign(
        &model,
        &GoSigner {
            scheme: Scheme::Ed25519Ph {
                key: Box::new(ed),
                context: None,
            },
            material: key_material(&ed_public),
        },
    );
    fs::write(model.join("a.bin"), b"changed").expect("write");
    for (bundle, public) in [(&rsa, &rsa_public), (&ed, &ed_public)] {
        let e = verify_key(bundle, public, &model).expect_err("changed model");
        assert!(matches!(e, VerifyError::ModelMismatch(_)), "{e}");
    }
}

/// A key bundle names its key by a hint only: the scheme follows the key.
/// An RSA key verifies PKCS#1 v1.5 and nothing else; an Ed25519 key
/// Ed25519ph with no context and nothing else.
#[test]
fn the_scheme_follows_the_key_and_other_schemes_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let (key, public) = rsa_key(dir.path(), "rsa", 2048, 65537);
    let pss = sign(
        &model,
        &GoSigner {
            scheme: Scheme::RsaPss {
                dir: dir.path().to_owned(),
                key: key.clone(),
            },
            material: key_material(&public),
        },
    );
    let e = verify_key(&pss, &public, &model).expect_err("PSS is not PKCS#1 v1.5");
    assert!(matches!(e, VerifyError::BadSignature), "{e}");

    // PKCS#1 v1.5 over SHA-384 of the PAE: not the key's digest.
    let pkcs1 = sign(
        &model,
        &GoSigner {
            scheme: Scheme::RsaPkcs1 {
                dir: dir.path().to_owned(),
                key: key.clone(),
            },
            material: key_material(&public),
        },
    );
    let message = pae(&pkcs1.envelope.payload_type, &pkcs1.envelope.payload);
    let sha384 = openssl_rsa_sign(dir.path(), &key, &message, "sha384", false);
    let mut wrong_digest = pkcs1.clone();
    wrong_digest.envelope.signature = sha384;
    let e = verify_key(&wrong_digest, &public, &model).expect_err("SHA-384");
    assert!(matches!(e, VerifyError::BadSignature), "{e}");

    // A signature one byte short, and one with a byte flipped.
    let mut short = pkcs1.clone();
    short.envelope.signature.remove(0);
    let e = verify_key(&short, &public, &model).expect_err("short");
    assert!(matches!(e, VerifyError::BadSignature), "{e}");
    let mut flipped = pkcs1.clone();
    let last = flipped.envelope.signature.len() - 1;
    flipped.envelope.signature[last] ^= 1;
    let e = verify_key(&flipped, &public, &model).expect_err("flipped");
    assert!(matches!(e, VerifyError::BadSignature), "{e}");

    let ed = ed25519_key(3);
    let ed_public = ed25519_public_pem(dir.path(), &ed);
    let pure = sign(
        &model,
        &GoSigner {
            scheme: Scheme::Ed25519Pure(Box::new(ed.clone())),
            material: key_material(&ed_public),
        },
    );
    let e = verify_key(&pure, &ed_public, &model).expect_err("pure Ed25519");
    assert!(matches!(e, VerifyError::BadSignature), "{e}");
    let with_context = sign(
        &model,
        &GoSigner {
            scheme: Scheme::Ed25519Ph {
                key: Box::new(ed),
                context: Some(b"model-signing".to_vec()),
            },
            material: key_material(&ed_public),
        },
    );
    let e = verify_key(&with_context, &ed_public, &model).expect_err("context");
    assert!(matches!(e, VerifyError::BadSignature), "{e}");

    // An ECDSA key given for an RSA signature: the hint says so first.
    let ec = support::key(KeyAlgorithm::EcdsaP256Sha256);
    let e = verify_key(&pkcs1, &support::public(&ec).to_pem(), &model).expect_err("EC key");
    assert!(matches!(e, VerifyError::SignerMismatch(_)), "{e}");
}

/// Bundles of releases before 1.1 name the key type: one that disagrees
/// with the key given is refused.
#[test]
fn key_details_that_disagree_with_the_key_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let (key, public) = rsa_key(dir.path(), "rsa", 2048, 65537);
    for (details, ok) in [
        ("PKIX_RSA_PKCS1V15_2048_SHA256", true),
        ("PKIX_RSA_PKCS1V15_4096_SHA256", false),
        ("PKIX_ECDSA_P256_SHA_256", false),
        ("PKIX_RSA_PSS_2048_SHA256", false),
    ] {
        let bundle = sign(
            &model,
            &GoSigner {
                scheme: Scheme::RsaPkcs1 {
                    dir: dir.path().to_owned(),
                    key: key.clone(),
                },
                material: VerificationMaterial::PublicKey {
                    hint: Some(go_hint(&public)),
                    raw_bytes: None,
                    key_details: Some(details.to_owned()),
                },
            },
        );
        let outcome = verify_key(&bundle, &public, &model);
        assert_eq!(outcome.is_ok(), ok, "{details}: {outcome:?}");
    }
}

#[test]
fn weak_or_unusual_rsa_keys_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (bits, exponent, says) in [
        (1024, 65537, "1024 bits"),
        (2048, 3, "exponent 3"),
        (2304, 65537, "2304 bits"),
    ] {
        let (_, public) = rsa_key(dir.path(), "weak", bits, exponent);
        let e = PublicKey::from_pem(&public).expect_err("refused");
        assert!(
            matches!(&e, KeyError::UnsupportedKeyType { found } if found.contains(says)),
            "{bits}/{exponent}: {e}"
        );
    }
    // A PKCS#1 `RSA PUBLIC KEY` block says how to convert it.
    let (key, _) = rsa_key(dir.path(), "pkcs1", 2048, 65537);
    let pkcs1 = openssl(
        dir.path(),
        &[
            "rsa",
            "-in",
            key.to_str().expect("UTF-8"),
            "-RSAPublicKey_out",
        ],
    );
    let e = PublicKey::from_pem(std::str::from_utf8(&pkcs1).expect("PEM")).expect_err("PKCS#1");
    assert!(e.to_string().contains("-RSAPublicKey_in"), "{e}");
}

#[test]
fn malformed_ed25519_keys_are_refused() {
    // A small-order point (the identity), then 31 and 33 bytes.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    for bad in [&identity[..], &[9u8; 31][..], &[9u8; 33][..]] {
        let e = PublicKey::from_ed25519_bytes(bad).expect_err("refused");
        assert!(matches!(e, KeyError::Malformed { .. }), "{e}");
    }
    // Parameters on the algorithm identifier (RFC 8410 has none).
    let key = ed25519_key(1);
    let mut der = hex::decode("302c300706032b65700500032100").expect("hex");
    der.extend_from_slice(key.verifying_key().as_bytes());
    let e = PublicKey::from_spki_der(&der).expect_err("parameters");
    assert!(matches!(e, KeyError::Malformed { .. }), "{e}");
}

// ---------------------------------------------------------------- vectors

#[test]
fn rfc8032_ed25519ph_vector() {
    // RFC 8032, section 7.3, "abc".
    let public = hex::decode("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
        .expect("hex");
    let signature = hex::decode(
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
         31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
    )
    .expect("hex");
    let key = PublicKey::from_ed25519_bytes(&public).expect("RFC key loads");
    assert_eq!(key.algorithm(), KeyAlgorithm::Ed25519Ph);
    key.verify(b"abc", &signature)
        .expect("the RFC signature verifies");
    assert!(key.verify(b"abd", &signature).is_err());
    let mut flipped = signature.clone();
    flipped[0] ^= 1;
    assert!(key.verify(b"abc", &flipped).is_err());
    // The same key's pure Ed25519 signature of the message is not Ed25519ph.
    let secret: [u8; 32] =
        hex::decode("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
            .expect("hex")
            .try_into()
            .expect("32 bytes");
    let pure = EdSigningKey::from_bytes(&secret).sign(b"abc").to_bytes();
    assert!(key.verify(b"abc", &pure).is_err());
    // A non-canonical S (S + L) is refused: verification is strict.
    let mut s_plus_l = signature.clone();
    let l = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
        .expect("hex");
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s_plus_l[32 + i]) + u16::from(l[i]) + carry;
        s_plus_l[32 + i] = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    assert!(key.verify(b"abc", &s_plus_l).is_err());
}

#[test]
fn wycheproof_rsa_pkcs1v15_2048_sha256() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let set = TestSet::load(TestName::Rsa2048Sha256).expect("the vector set loads");
    let (mut valid, mut invalid, mut refused_keys) = (0, 0, 0);
    let mut failures = Vec::new();
    for group in &set.test_groups {
        let key = match PublicKey::from_spki_der(&group.der) {
            Ok(key) => key,
            Err(e) => {
                // Groups with the exponent 3: refused as a key, whatever
                // their signatures.
                assert!(
                    matches!(&e, KeyError::UnsupportedKeyType { found } if found.contains("exponent")),
                    "{e}"
                );
                refused_keys += 1;
                continue;
            }
        };
        assert_eq!(key.algorithm(), KeyAlgorithm::Rsa2048Pkcs1v15Sha256);
        assert_eq!(PublicKey::from_pem(&group.pem).expect("PEM loads"), key);
        for test in &group.tests {
            let outcome = key.verify(&test.msg, &test.sig);
            match (test.result, &outcome) {
                (TestResult::Valid, Ok(())) => valid += 1,
                (TestResult::Invalid | TestResult::Acceptable, Err(e)) => {
                    assert!(e.is_verification_failure(), "tc {}: {e}", test.tc_id);
                    invalid += 1;
                }
                (expected, got) => failures.push(format!(
                    "tc {} ({}): expected {expected:?}, got {got:?}",
                    test.tc_id, test.comment
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Counts of the vector set this crate version carries.
    assert_eq!((valid, invalid), (7, 250), "valid, invalid");
    assert_eq!(refused_keys, 2, "the two exponent-3 groups");
}

// ------------------------------------------------------ certificate chains

#[test]
fn go_certificate_signatures_with_rsa_and_ed25519_leaves_and_cas_verify() {
    for (ca_alg, leaf_alg, details) in [
        ("rsa:2048", "rsa:3072", "PKIX_RSA_PKCS1V15_3072_SHA256"),
        ("ed25519", "ed25519", "PKIX_ED25519_PH"),
        ("ed25519", "rsa:2048", "PKIX_RSA_PKCS1V15_2048_SHA256"),
        ("rsa:2048", "ed25519", "PKIX_ED25519_PH"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = support::small_model(dir.path());
        let pki = openssl_pki(dir.path(), ca_alg, leaf_alg);
        let key = PublicKey::from_spki_der(pki.leaf.spki_der()).expect("leaf key loads");
        assert_eq!(key.algorithm().key_details(), details);
        assert_eq!(key.to_pem(), pki.leaf_public);
        // With --certificate-chain the Go tool writes x509CertificateChain;
        // without, sigstore-go's singular `certificate` (no log entry).
        let chain = GoSigner {
            scheme: pki.go_scheme(dir.path()),
            material: VerificationMaterial::X509CertificateChain(vec![
                pki.leaf.der().to_vec(),
                pki.ca.der().to_vec(),
            ]),
        };
        let single = GoSigner {
            scheme: pki.go_scheme(dir.path()),
            material: VerificationMaterial::Certificate(pki.leaf.der().to_vec()),
        };
        let single_bundle = sign(&model, &single);
        let verified = verify_bundle(
            &single_bundle,
            &CertificateVerifier::new(vec![pki.ca.clone()]),
        )
        .unwrap_or_else(|e| panic!("{ca_alg} CA, {leaf_alg} leaf, no chain: {e}"));
        assert!(matches!(
            &verified.check().signer,
            Signer::Certificate { .. }
        ));
        // A log entry makes it a Sigstore signature, which this method refuses.
        let mut logged = single_bundle.clone();
        logged
            .tlog_entries
            .push(serde_json::json!({"logIndex": "1"}));
        assert!(matches!(
            verify_bundle(&logged, &CertificateVerifier::new(vec![pki.ca.clone()])),
            Err(VerifyError::WrongMaterial { .. })
        ));
        let bundle = sign(&model, &chain);
        let verified = verify_bundle(&bundle, &CertificateVerifier::new(vec![pki.ca.clone()]))
            .unwrap_or_else(|e| panic!("{ca_alg} CA, {leaf_alg} leaf: {e}"));
        assert!(
            matches!(&verified.check().signer, Signer::Certificate { subject, .. } if subject == "CN=Test Go Signer"),
            "{:?}",
            verified.check().signer
        );
        verified
            .check_model(&model, &ModelCheckOptions::default(), &NoProgress)
            .expect("model matches");

        // Another CA of the same name does not vouch for the leaf.
        let other = tempfile::tempdir().expect("tempdir");
        let impostor = openssl_pki(other.path(), ca_alg, leaf_alg);
        let e = verify_bundle(&bundle, &CertificateVerifier::new(vec![impostor.ca]))
            .expect_err("impostor CA");
        assert!(matches!(e, VerifyError::Certificate(_)), "{e}");
    }
}

#[test]
fn an_ed25519_certificate_signature_that_is_not_ed25519ph_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let pki = openssl_pki(dir.path(), "ed25519", "ed25519");
    let key = ed25519_from_openssl(dir.path(), &pki.leaf_key);
    let signer = GoSigner {
        scheme: Scheme::Ed25519Pure(Box::new(key)),
        material: VerificationMaterial::X509CertificateChain(vec![pki.leaf.der().to_vec()]),
    };
    let bundle = sign(&model, &signer);
    let e =
        verify_bundle(&bundle, &CertificateVerifier::new(vec![pki.ca])).expect_err("pure Ed25519");
    assert!(matches!(e, VerifyError::BadSignature), "{e}");
}

// ------------------------------------------------------------- signing here

/// Our RSA signatures are what OpenSSL verifies as RSASSA-PKCS1-v1_5 with
/// SHA-256, and our Ed25519ph signatures are RFC 8032's (Ed25519 is
/// deterministic, so the RFC vector pins the signing side too).
#[test]
fn our_rsa_and_ed25519ph_signatures_are_the_standard_ones() {
    use model_signing::keys::{Ed25519PrivateKey, PrivateKey, SigningKey};
    let dir = tempfile::tempdir().expect("tempdir");
    let (key_file, public) = rsa_key(dir.path(), "rsa", 2048, 65537);
    let key =
        PrivateKey::from_pem(&fs::read(&key_file).expect("read key"), None).expect("RSA key loads");
    assert_eq!(key.algorithm(), KeyAlgorithm::Rsa2048Pkcs1v15Sha256);
    assert_eq!(
        key.public_key().expect("public").to_pem(),
        public,
        "the public half is the one OpenSSL derives"
    );
    let message = b"a message OpenSSL checks";
    let signature = key.sign(message).expect("signs");
    fs::write(dir.path().join("m.bin"), message).expect("write");
    fs::write(dir.path().join("m.sig"), &signature).expect("write");
    fs::write(dir.path().join("rsa.pub"), &public).expect("write");
    let out = openssl(
        dir.path(),
        &[
            "dgst",
            "-sha256",
            "-verify",
            "rsa.pub",
            "-signature",
            "m.sig",
            "m.bin",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out).trim(), "Verified OK");

    let secret: [u8; 32] =
        hex::decode("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
            .expect("hex")
            .try_into()
            .expect("32 bytes");
    let ed = Ed25519PrivateKey::from_seed(&secret).expect("RFC key");
    assert_eq!(
        hex::encode(ed.sign(b"abc").expect("signs")),
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
         31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
    );
}

#[test]
fn rsa_and_ed25519_private_keys_load_from_openssl_formats() {
    use model_signing::keys::{PrivateKey, SigningKey};
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (rsa, rsa_public) = rsa_key(d, "rsa", 3072, 65537);
    let rsa = rsa.to_str().expect("UTF-8").to_owned();
    openssl(
        d,
        &["pkey", "-in", &rsa, "-traditional", "-out", "rsa-pkcs1.pem"],
    );
    openssl(d, &["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"]);
    let ed_public =
        String::from_utf8(openssl(d, &["pkey", "-in", "ed.pem", "-pubout"])).expect("PEM");
    for (file, public, alg) in [
        (
            rsa.as_str(),
            &rsa_public,
            KeyAlgorithm::Rsa3072Pkcs1v15Sha256,
        ),
        (
            "rsa-pkcs1.pem",
            &rsa_public,
            KeyAlgorithm::Rsa3072Pkcs1v15Sha256,
        ),
        ("ed.pem", &ed_public, KeyAlgorithm::Ed25519Ph),
    ] {
        let path = d.join(file);
        assert!(
            file != "rsa-pkcs1.pem"
                || fs::read_to_string(&path)
                    .expect("read")
                    .contains("BEGIN RSA PRIVATE KEY")
        );
        let key = PrivateKey::from_pem(&fs::read(&path).expect("read"), None).expect(file);
        assert_eq!(key.algorithm(), alg, "{file}");
        assert_eq!(
            &key.public_key().expect("public").to_pem(),
            public,
            "{file}"
        );
        // Encrypted PKCS#8 of the same key.
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-in",
                file,
                "-out",
                "enc.pem",
                "-passout",
                "pass:pw",
            ],
        );
        let encrypted = fs::read(d.join("enc.pem")).expect("read");
        let again = PrivateKey::from_pem(&encrypted, Some(b"pw")).expect("decrypts");
        assert_eq!(again.public_key().expect("public").to_pem(), *public);
        assert!(matches!(
            PrivateKey::from_pem(&encrypted, None),
            Err(KeyError::PasswordRequired)
        ));
        assert!(matches!(
            PrivateKey::from_pem(&encrypted, Some(b"wrong")),
            Err(KeyError::WrongPassword)
        ));
        assert!(matches!(
            PrivateKey::from_pem(&fs::read(&path).expect("read"), Some(b"pw")),
            Err(KeyError::UnexpectedPassword)
        ));
    }
    // Keys that do not sign here: too small, another exponent, another curve.
    for (bits, exponent, says) in [(1024, 65537, "1024 bits"), (2048, 3, "exponent 3")] {
        let (file, _) = rsa_key(d, "weak", bits, exponent);
        let e = PrivateKey::from_pem(&fs::read(file).expect("read"), None).expect_err("weak");
        assert!(
            matches!(&e, KeyError::UnsupportedKeyType { found } if found.contains(says)),
            "{e}"
        );
    }
    openssl(d, &["genpkey", "-algorithm", "ed448", "-out", "ed448.pem"]);
    let e = PrivateKey::from_pem(&fs::read(d.join("ed448.pem")).expect("read"), None)
        .expect_err("Ed448");
    assert!(
        matches!(&e, KeyError::UnsupportedKeyType { found } if found == "Ed448"),
        "{e}"
    );
}

/// Key and certificate signatures made here with RSA and Ed25519 keys
/// verify here, in memory and through JSON; the Python reference cannot
/// verify them (it knows ECDSA only: see the README's key types).
#[test]
fn rsa_and_ed25519_keys_sign_models_with_the_key_and_certificate_methods() {
    use model_signing::keys::PrivateKey;
    use model_signing::sign::{CertificateSigner, KeySigner};
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let (rsa, rsa_public) = rsa_key(dir.path(), "rsa", 2048, 65537);
    openssl(
        dir.path(),
        &["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"],
    );
    let ed_public =
        String::from_utf8(openssl(dir.path(), &["pkey", "-in", "ed.pem", "-pubout"])).expect("PEM");
    for (file, public, details) in [
        (rsa, rsa_public, "PKIX_RSA_PKCS1V15_2048_SHA256"),
        (dir.path().join("ed.pem"), ed_public, "PKIX_ED25519_PH"),
    ] {
        let key = PrivateKey::from_pem(&fs::read(&file).expect("read"), None).expect("loads");
        let signer = KeySigner::new(Box::new(key)).expect("key signer");
        let (bundle, _) =
            sign_model(&model, &HashConfig::new(), &signer, &NoProgress).expect("signs");
        let signer = verify_key(&bundle, &public, &model).expect("verifies in memory");
        assert_eq!(
            signer,
            Signer::Key {
                hint: go_hint(&public),
                algorithm: details
            }
        );
        let read = Bundle::from_json(bundle.to_json().as_bytes()).expect("reads");
        verify_key(&read, &public, &model).expect("verifies through JSON");
    }
    for (ca, leaf) in [("rsa:2048", "rsa:4096"), ("ed25519", "ed25519")] {
        let pki_dir = tempfile::tempdir().expect("tempdir");
        let pki = openssl_pki(pki_dir.path(), ca, leaf);
        let key = PrivateKey::from_pem(&fs::read(&pki.leaf_key).expect("read"), None)
            .expect("leaf key loads");
        let signer = CertificateSigner::new(
            Box::new(key),
            pki.leaf.clone(),
            vec![pki.ca.clone()],
            support::now(),
        )
        .expect("certificate signer");
        let (bundle, _) =
            sign_model(&model, &HashConfig::new(), &signer, &NoProgress).expect("signs");
        verify_bundle(&bundle, &CertificateVerifier::new(vec![pki.ca.clone()]))
            .unwrap_or_else(|e| panic!("{ca}/{leaf}: {e}"))
            .check_model(&model, &ModelCheckOptions::default(), &NoProgress)
            .expect("model matches");
    }
}

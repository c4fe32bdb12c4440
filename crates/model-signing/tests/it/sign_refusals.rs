//! What the library's signers refuse, before any hashing: a certificate that
//! is not for the key, not valid now, or not for code signing; a signature
//! location that cannot be written. And how signatures are written: the
//! reference's bundle layout, atomically.

use testkit as support;

use model_signing::bundle::{Bundle, VerificationMaterial};
use model_signing::hashing::{HashConfig, HashError, NoProgress};
use model_signing::keys::KeyAlgorithm;
use model_signing::sign::{
    check_writable, sign_model, write_atomic, CertificateSigner, KeySigner, SignError,
};
use model_signing::x509::Certificate;
use support::certs::{
    Spec, DAY, EKU_SERVER_AUTH, KU_CRL_SIGN, KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN,
};
use support::{now, public, Pki, PkiSpec};

fn signer(pki: &Pki, key: &support::Key) -> Result<CertificateSigner, SignError> {
    CertificateSigner::new(Box::new(key.clone()), pki.leaf.clone(), pki.chain(), now())
}

fn with_leaf(f: impl FnOnce(Spec) -> Spec) -> Pki {
    let mut spec = PkiSpec::default();
    spec.leaf = f(spec.leaf);
    Pki::with(spec)
}

#[test]
fn certificate_signer_refusals() {
    let t = now();
    let ok = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    signer(&ok, &ok.leaf_key).expect("a code-signing leaf for its own key");

    let other = support::key(KeyAlgorithm::EcdsaP256Sha256);
    assert!(matches!(
        signer(&ok, &other),
        Err(SignError::CertificateKeyMismatch { subject }) if subject.contains("Test Model Signer")
    ));

    let unusable: [(&str, Pki, &str); 5] = [
        (
            "expired",
            with_leaf(|s| s.validity(t - 10 * DAY, t - DAY)),
            "expired",
        ),
        (
            "not yet valid",
            with_leaf(|s| s.validity(t + DAY, t + 10 * DAY)),
            "not valid before",
        ),
        (
            "serverAuth only",
            with_leaf(|s| s.eku(Some(vec![EKU_SERVER_AUTH]))),
            "1.3.6.1.5.5.7.3.3",
        ),
        (
            "no digitalSignature",
            with_leaf(|s| s.key_usage(Some(support::certs::KU_KEY_ENCIPHERMENT))),
            "digitalSignature",
        ),
        (
            "a CA that can sign certificates",
            with_leaf(|s| {
                s.basic_ca(Some(true))
                    .key_usage(Some(KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE))
            }),
            "CA",
        ),
    ];
    for (name, pki, words) in unusable {
        match signer(&pki, &pki.leaf_key) {
            Err(SignError::CertificateUnusable { reason, .. }) => {
                assert!(reason.contains(words), "{name}: {reason}");
            }
            Err(e) => panic!("{name}: {e:?}"),
            Ok(_) => panic!("{name}: accepted"),
        }
    }

    // extendedKeyUsage is checked when present; a leaf with only keyUsage
    // digitalSignature may sign.
    let no_eku = with_leaf(|s| s.eku(None));
    signer(&no_eku, &no_eku.leaf_key).expect("keyUsage alone");
}

#[test]
fn bundles_have_the_reference_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let key = support::key(KeyAlgorithm::EcdsaP256Sha256);
    let bundle = support::sign_with_key(&model, &HashConfig::new(), &key);
    let json: serde_json::Value = serde_json::from_str(&bundle.to_json()).expect("JSON");
    assert_eq!(
        json["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        json["verificationMaterial"]["publicKey"]["hint"],
        public(&key).hint()
    );
    assert_eq!(
        json["verificationMaterial"]["tlogEntries"],
        serde_json::json!([])
    );
    assert_eq!(
        json["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    assert_eq!(json["dsseEnvelope"]["signatures"][0]["keyid"], "");
    let st = support::statement(&bundle);
    assert_eq!(st["predicateType"], "https://model_signing/signature/v1.0");
    assert_eq!(st["subject"][0]["name"], "model");
    assert_eq!(st["predicate"]["serialization"]["method"], "files");

    let pki = Pki::new(KeyAlgorithm::EcdsaP521Sha512);
    let bundle = support::sign_with_pki(&model, &HashConfig::new(), &pki);
    let VerificationMaterial::X509CertificateChain(ders) = &bundle.material else {
        panic!("{:?}", bundle.material)
    };
    let certs: Vec<Certificate> = ders
        .iter()
        .map(|d| Certificate::from_der(d).expect("cert"))
        .collect();
    assert_eq!(
        certs,
        vec![pki.leaf.clone(), pki.intermediate.clone()],
        "leaf first, then the chain"
    );
    Bundle::from_json(bundle.to_json().as_bytes()).expect("reads back");
}

#[test]
fn an_empty_model_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("empty");
    support::write_files(&model, &[(".git/HEAD", b"ref\n"), ("sub/.keep-dir/x", b"")]);
    std::fs::remove_file(model.join("sub/.keep-dir/x")).expect("remove");
    let key = support::key(KeyAlgorithm::EcdsaP256Sha256);
    let signer = KeySigner::new(Box::new(key)).expect("signer");
    let err = sign_model(&model, &HashConfig::new(), &signer, &NoProgress).expect_err("empty");
    assert!(
        matches!(err, SignError::Hash(HashError::EmptyModel { .. })),
        "{err:?}"
    );
}

#[test]
fn signatures_are_written_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let dest = dir.path().join("model.sig");
    std::fs::write(&dest, b"old").expect("write");
    check_writable(&dest).expect("writable");
    write_atomic(&dest, b"new").expect("write");
    assert_eq!(std::fs::read(&dest).expect("read"), b"new");
    assert_eq!(listing(), ["model.sig"]);

    // A destination that cannot be replaced: nothing changes, nothing is left.
    let sub = dir.path().join("a-dir");
    std::fs::create_dir(&sub).expect("mkdir");
    std::fs::write(sub.join("inside"), b"x").expect("write");
    assert!(matches!(check_writable(&sub), Err(SignError::Write { .. })));
    assert!(
        matches!(write_atomic(&sub, b"new"), Err(SignError::Write { path, .. }) if path == sub)
    );
    assert_eq!(listing(), ["a-dir", "model.sig"]);
    let missing = dir.path().join("no/such/dir/model.sig");
    assert!(matches!(
        check_writable(&missing),
        Err(SignError::Write { .. })
    ));
    assert!(matches!(
        write_atomic(&missing, b"new"),
        Err(SignError::Write { .. })
    ));
    assert_eq!(listing(), ["a-dir", "model.sig"]);
}

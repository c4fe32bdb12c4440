//! `verify key` and `verify certificate` of signatures made with RSA and
//! Ed25519 keys as the Go implementation of OMS makes them (its binary cannot
//! be installed here: `testkit::go` makes them by its rules with OpenSSL and
//! `ed25519-dalek`). Signing with such keys is not supported yet and says so.

use std::path::Path;
use std::process::{Command, Output};

use model_signing::hashing::{HashConfig, NoProgress};
use model_signing::sign::sign_model;
use serde_json::Value;
use testkit as support;
use testkit::go::{
    ed25519_key, ed25519_public_pem, go_hint, key_material, openssl_pki, rsa_key, GoSigner, Scheme,
};

fn cli(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_model-signing"))
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run model-signing")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write_signature(model: &Path, signer: &GoSigner, sig: &Path) {
    let (bundle, _) =
        sign_model(model, &HashConfig::new(), signer, &NoProgress).expect("sign as Go does");
    std::fs::write(sig, bundle.to_json()).expect("write signature");
}

#[test]
fn verify_key_takes_go_rsa_and_ed25519ph_signatures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let (rsa, rsa_public) = rsa_key(dir.path(), "rsa", 2048, 65537);
    let ed = ed25519_key(11);
    let ed_public = ed25519_public_pem(dir.path(), &ed);
    let cases = [
        (
            "rsa",
            GoSigner {
                scheme: Scheme::RsaPkcs1 {
                    dir: dir.path().to_owned(),
                    key: rsa,
                },
                material: key_material(&rsa_public),
            },
            rsa_public,
            "PKIX_RSA_PKCS1V15_2048_SHA256",
        ),
        (
            "ed25519",
            GoSigner {
                scheme: Scheme::Ed25519Ph {
                    key: Box::new(ed),
                    context: None,
                },
                material: key_material(&ed_public),
            },
            ed_public,
            "PKIX_ED25519_PH",
        ),
    ];
    for (name, signer, public, details) in cases {
        let sig = dir.path().join(format!("{name}.sig"));
        let public_file = dir.path().join(format!("{name}.pub"));
        std::fs::write(&public_file, &public).expect("write key");
        write_signature(&model, &signer, &sig);
        let args = |json: bool| {
            let mut a = vec![
                "verify",
                "key",
                model.to_str().expect("UTF-8"),
                "--signature",
                sig.to_str().expect("UTF-8"),
                "--public-key",
                public_file.to_str().expect("UTF-8"),
            ];
            if json {
                a.push("--json");
            }
            a.into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        let plain: Vec<String> = args(false);
        let out = cli(
            dir.path(),
            &plain.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out));
        assert!(text(&out).contains(details), "{name}: {}", text(&out));
        let json: Vec<String> = args(true);
        let out = cli(
            dir.path(),
            &json.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(doc["signer"]["algorithm"], details, "{doc}");
        assert_eq!(doc["signer"]["hint"], go_hint(&public), "{doc}");
        // `inspect` names the key by the same hint.
        let out = cli(
            dir.path(),
            &["inspect", sig.to_str().expect("UTF-8"), "--json"],
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(doc["signer"]["hint"], go_hint(&public), "{doc}");
    }
    // A changed model fails with exit code 1, for both.
    std::fs::write(model.join("a.bin"), b"changed").expect("write");
    for name in ["rsa", "ed25519"] {
        let out = cli(
            dir.path(),
            &[
                "verify",
                "key",
                model.to_str().expect("UTF-8"),
                "--signature",
                &format!("{name}.sig"),
                "--public-key",
                &format!("{name}.pub"),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out));
        assert!(text(&out).contains("a.bin"), "{name}: {}", text(&out));
    }
}

#[test]
fn verify_certificate_takes_go_signatures_with_rsa_and_ed25519_chains() {
    for (ca, leaf) in [("rsa:2048", "rsa:2048"), ("ed25519", "ed25519")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = support::small_model(dir.path());
        let pki = openssl_pki(dir.path(), ca, leaf);
        let scheme = pki.go_scheme(dir.path());
        let signer = GoSigner {
            scheme,
            material: model_signing::bundle::VerificationMaterial::X509CertificateChain(vec![pki
                .leaf
                .der()
                .to_vec()]),
        };
        let sig = dir.path().join("model.sig");
        write_signature(&model, &signer, &sig);
        let out = cli(
            dir.path(),
            &[
                "verify",
                "certificate",
                model.to_str().expect("UTF-8"),
                "--signature",
                "model.sig",
                "--certificate-chain",
                "ca.pem",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{ca}/{leaf}: {}", text(&out));
        assert!(
            text(&out).contains("Test Go Signer"),
            "{ca}/{leaf}: {}",
            text(&out)
        );
    }
}

/// Signing with RSA or Ed25519 keys is not supported yet: the error says
/// which keys sign and which only verify.
#[test]
fn signing_with_rsa_or_ed25519_keys_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(dir.path());
    let (rsa, _) = rsa_key(dir.path(), "rsa", 2048, 65537);
    support::go::openssl(
        dir.path(),
        &["genpkey", "-algorithm", "ed25519", "-out", "ed.key"],
    );
    for key in [rsa.to_str().expect("UTF-8"), "ed.key"] {
        let out = cli(
            dir.path(),
            &[
                "sign",
                "key",
                model.to_str().expect("UTF-8"),
                "--signature",
                "out.sig",
                "--private-key",
                key,
            ],
        );
        assert_ne!(out.status.code(), Some(0), "{key}: {}", text(&out));
        assert!(
            text(&out).contains("unsupported key type")
                && text(&out).contains("Ed25519 (verifying)"),
            "{key}: {}",
            text(&out)
        );
        assert!(!dir.path().join("out.sig").exists());
    }
}

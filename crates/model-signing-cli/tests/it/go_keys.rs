//! `verify key` and `verify certificate` of signatures made with RSA and
//! Ed25519 keys as the Go implementation of OMS makes them (its binary cannot
//! be installed here: `testkit::go` makes them by its rules with OpenSSL and
//! `ed25519-dalek`), and signing with such keys here.

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

/// `sign key` and `sign certificate` with RSA and Ed25519 keys in OpenSSL's
/// files, then `verify`: exit 0, and the JSON names the key type.
#[test]
fn sign_and_verify_with_rsa_and_ed25519_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = support::small_model(d);
    let model = model.to_str().expect("UTF-8");
    let (rsa, rsa_public) = rsa_key(d, "rsa", 2048, 65537);
    std::fs::write(d.join("rsa.pub"), &rsa_public).expect("write");
    support::go::openssl(d, &["genpkey", "-algorithm", "ed25519", "-out", "ed.key"]);
    support::go::openssl(d, &["pkey", "-in", "ed.key", "-pubout", "-out", "ed.pub"]);
    for (key, public, details) in [
        (
            rsa.to_str().expect("UTF-8"),
            "rsa.pub",
            "PKIX_RSA_PKCS1V15_2048_SHA256",
        ),
        ("ed.key", "ed.pub", "PKIX_ED25519_PH"),
    ] {
        let out = cli(
            d,
            &[
                "sign",
                "key",
                model,
                "--signature",
                "out.sig",
                "--private-key",
                key,
                "--json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{key}: {}", text(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(doc["signer"]["algorithm"], details, "{doc}");
        let out = cli(
            d,
            &[
                "verify",
                "key",
                model,
                "--signature",
                "out.sig",
                "--public-key",
                public,
                "--json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{key}: {}", text(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(doc["signer"]["algorithm"], details, "{doc}");
    }
    let pki_dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_pki(pki_dir.path(), "rsa:2048", "ed25519");
    let p = |name: &str| pki_dir.path().join(name).display().to_string();
    let out = cli(
        d,
        &[
            "sign",
            "certificate",
            model,
            "--signature",
            "cert.sig",
            "--private-key",
            &p("leaf.key"),
            "--signing-certificate",
            &p("leaf.pem"),
            "--certificate-chain",
            &p("ca.pem"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = cli(
        d,
        &[
            "verify",
            "certificate",
            model,
            "--signature",
            "cert.sig",
            "--certificate-chain",
            &p("ca.pem"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Test Go Signer"), "{}", text(&out));
    drop(pki);
}

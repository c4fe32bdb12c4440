//! The command line tool verifies every key and certificate signature made
//! by the reference's releases v0.2.0 to v1.1.0 (`model-transparency-golden`)
//! and the valid OMS v1.0 vectors, and rejects the invalid vectors with exit
//! code 1 and a message naming the cause. The data lies in
//! `testdata/third_party/`.

use testkit as support;
use testkit::Run;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_model-signing"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("model-signing runs");
    Run::from(out)
}

fn s(p: &Path) -> &str {
    support::path_str(p)
}

fn keys(name: &str) -> PathBuf {
    support::golden().join("keys/certificate").join(name)
}

fn ok(args: &[&str]) -> Run {
    let r = run(args);
    assert!(
        r.code == 0 && r.stdout.contains("Verification succeeded"),
        "{args:?}: exit {}\n{}{}",
        r.code,
        r.stdout,
        r.stderr
    );
    r
}

#[test]
fn golden_key_signatures_verify() {
    let public = keys("signing-key-pub.pem");
    // Signatures of a single file, `signme-1`.
    for folder in ["v0.3.1-elliptic-key", "v1.0.0-elliptic-key"] {
        let dir = support::golden().join(folder);
        let r = ok(&[
            "verify",
            "key",
            s(&dir.join("signme-1")),
            "--signature",
            s(&dir.join("model.sig")),
            "--public-key",
            s(&public),
        ]);
        assert!(
            r.stderr.contains("releases before 1.1"),
            "{folder}: {}",
            r.stderr
        );
    }
    // Directories: the signature is found inside and left out; `ignore-me`
    // was added after signing.
    for folder in ["v1.0.1-elliptic-key", "v1.1.0-elliptic-key"] {
        let dir = support::golden().join(folder);
        ok(&[
            "verify",
            "key",
            s(&dir),
            "--public_key",
            s(&public),
            "--ignore_paths",
            s(&dir.join("ignore-me")),
        ]);
    }
    // Without leaving `ignore-me` out, v1.0.1 reports it.
    let dir = support::golden().join("v1.0.1-elliptic-key");
    let r = run(&["verify", "key", s(&dir), "--public-key", s(&public)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("unexpected") && r.stderr.contains("ignore-me"),
        "{}",
        r.stderr
    );
}

#[test]
fn golden_certificate_signatures_verify() {
    let ca = keys("ca-cert.pem");
    for folder in [
        "v0.2.0-certificate",
        "v0.3.1-certificate",
        "v1.0.0-certificate",
        "v1.0.1-certificate",
        "v1.1.0-certificate",
    ] {
        let dir = support::golden().join(folder);
        let r = ok(&[
            "verify",
            "certificate",
            s(&dir),
            "--certificate-chain",
            s(&ca),
            "--ignore-paths",
            s(&dir.join("ignore-me")),
            "--log-fingerprints",
        ]);
        // The golden signing certificate is (confusingly) named `intermediate-ca` too.
        assert!(
            r.stdout.contains("certificate CN=intermediate-ca"),
            "{folder}: {}",
            r.stdout
        );
    }
    // The signing certificate is not a trust anchor by itself, nor is its key.
    let dir = support::golden().join("v1.1.0-certificate");
    let r = run(&[
        "verify",
        "certificate",
        s(&dir),
        "--certificate-chain",
        s(&keys("int-ca-cert.pem")),
    ]);
    assert_eq!(
        r.code, 0,
        "a trusted intermediate ends the path: {}",
        r.stderr
    );
    let r = run(&[
        "verify",
        "key",
        s(&dir),
        "--public-key",
        s(&keys("signing-key-pub.pem")),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("certificate chain"), "{}", r.stderr);
}

#[test]
fn oms_vectors() {
    let vectors = support::oms_vectors();
    let model = support::golden().join("v1.1.0-elliptic-key");
    let (ignore_me, sig_inside) = (model.join("ignore-me"), model.join("model.sig"));
    let public = keys("signing-key-pub.pem");
    let ca = keys("ca-cert.pem");
    let verify = |method: &str, bundle: &Path| {
        let trust_flag = if method == "key" {
            "--public-key"
        } else {
            "--certificate-chain"
        };
        let trust = if method == "key" { &public } else { &ca };
        run(&[
            "verify",
            method,
            s(&model),
            "--signature",
            s(bundle),
            trust_flag,
            s(trust),
            "--ignore-paths",
            s(&ignore_me),
            "--ignore-paths",
            s(&sig_inside),
        ])
    };
    for (method, file) in [
        ("key", "key.bundle.json"),
        ("certificate", "certificate.bundle.json"),
    ] {
        let r = verify(method, &vectors.join("valid").join(file));
        assert_eq!(r.code, 0, "{file}: {}{}", r.stdout, r.stderr);
    }
    let invalid: [(&str, &str, &[&str]); 10] = [
        ("empty", "key", &["malformed bundle", "invalid JSON"]),
        (
            "empty",
            "certificate",
            &["malformed bundle", "invalid JSON"],
        ),
        ("missing-envelope", "key", &["no DSSE envelope"]),
        ("missing-envelope", "certificate", &["no DSSE envelope"]),
        (
            "missing-verification-material",
            "key",
            &["missing field", "verificationMaterial"],
        ),
        (
            "missing-verification-material",
            "certificate",
            &["missing field", "verificationMaterial"],
        ),
        (
            "missing-tlog-entries",
            "key",
            &["Sigstore certificate", "needs a public key"],
        ),
        // A lone certificate without a log entry is how the Go
        // implementation signs with a certificate and no chain, so
        // `verify certificate` reads it as such: its Fulcio certificate
        // is not trusted (expired, and issued by no CA given).
        (
            "missing-tlog-entries",
            "certificate",
            &["the signing certificate is not trusted"],
        ),
        ("wrong-predicate", "key", &["the signature does not verify"]),
        ("wrong-predicate", "certificate", &["carries a public key"]),
    ];
    for (name, method, needles) in invalid {
        let sub = if name == "wrong-predicate" {
            "invalid-payload"
        } else {
            "invalid"
        };
        let path = vectors.join(sub).join(format!("{name}.bundle.json"));
        assert!(path.is_file(), "{}", path.display());
        let r = verify(method, &path);
        assert_eq!(r.code, 1, "{name} ({method}): {}{}", r.stdout, r.stderr);
        assert!(
            support::contains_all(&r.stderr, needles),
            "{name} ({method}): expected {needles:?} in {}",
            r.stderr
        );
    }
    let count = |sub: &str| {
        std::fs::read_dir(vectors.join(sub))
            .expect("vectors")
            .count()
    };
    assert_eq!(
        count("invalid") + count("invalid-payload"),
        5,
        "every invalid vector is listed"
    );
}

//! `model-signing verify sigstore`, run as a separate process, offline: the
//! reference's Sigstore signatures verify with the embedded production root;
//! wrong signers, tampered bundles and other instances' roots are refused.
//! The data lies in `testdata/third_party/`.

use testkit::third_party_support;

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{json, Value};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn golden(version: &str) -> PathBuf {
    third_party_support::golden().join(format!("{version}-sigstore"))
}

/// `verify sigstore <golden v1.1.0>` with `extra` arguments.
fn verify(extra: &[&str]) -> Output {
    let model = golden("v1.1.0");
    Command::new(env!("CARGO_BIN_EXE_model-signing"))
        .args(["verify", "sigstore"])
        .arg(&model)
        .arg("--ignore-paths")
        .arg(model.join("ignore-me"))
        .args(extra)
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

#[track_caller]
fn assert_code(out: &Output, code: i32, contains: &str) {
    let t = text(out);
    assert_eq!(out.status.code(), Some(code), "{t}");
    assert!(t.contains(contains), "expected {contains:?} in:\n{t}");
}

const OK: &[&str] = &["--identity", IDENTITY, "--identity-provider", ISSUER];

#[test]
fn golden_signatures_verify() {
    for version in ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"] {
        let model = golden(version);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
        cmd.args(["verify", "sigstore"]).arg(&model);
        if model.join("ignore-me").exists() {
            cmd.arg("--ignore-paths").arg(model.join("ignore-me"));
        }
        // The reference's spellings.
        let out = cmd
            .args(["--identity", IDENTITY, "--identity_provider", ISSUER])
            .output()
            .expect("run");
        assert_code(&out, 0, "Verification succeeded");
        assert!(text(&out).contains(IDENTITY));
    }
}

#[test]
fn oms_spec_vector_and_trust_files() {
    let vector = third_party_support::oms_vectors().join("valid/sigstore.bundle.json");
    let sig_in_model = golden("v1.1.0").join("model.sig");
    let mut args = OK.to_vec();
    let vector = vector.display().to_string();
    let sig_in_model = sig_in_model.display().to_string();
    args.extend(["--signature", &vector, "--ignore-paths", &sig_in_model]);
    assert_code(&verify(&args), 0, "Verification succeeded");

    let prod = third_party_support::trust("production");
    for (flag, file) in [
        ("--trust_config", "client_trust_config.json"),
        ("--trust-config", "client_trust_config.json"),
        ("--trusted-root", "trusted_root.json"),
        ("--trusted_root", "trusted_root.json"),
    ] {
        let path = prod.join(file).display().to_string();
        let mut args = OK.to_vec();
        args.extend([flag, &path]);
        assert_code(&verify(&args), 0, "Verification succeeded");
    }

    let out = verify(&[OK, &["--json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["method"], "sigstore");
    assert_eq!(
        doc["signer"],
        json!({"kind": "sigstore", "identity": IDENTITY, "issuer": ISSUER})
    );
    assert_eq!(doc["signed_at"], "2025-10-10T02:12:20Z");
}

#[test]
fn wrong_signer() {
    assert_code(
        &verify(&[
            "--identity",
            "stefanb@us.ibm.co",
            "--identity-provider",
            ISSUER,
        ]),
        1,
        "identity mismatch",
    );
    assert_code(
        &verify(&[
            "--identity",
            IDENTITY,
            "--identity-provider",
            "https://accounts.google.com",
        ]),
        1,
        "identity provider mismatch",
    );
    // Patterns are anchored: a pattern that matches only part of the value fails.
    assert_code(
        &verify(&[
            "--identity-regexp",
            "stefanb@us\\.ibm",
            "--identity-provider",
            ISSUER,
        ]),
        1,
        "identity mismatch",
    );
    assert_code(
        &verify(&[
            "--identity",
            IDENTITY,
            "--identity_provider_regexp",
            "sigstore\\.verify\\.ibm\\.com",
        ]),
        1,
        "identity provider mismatch",
    );
    assert_code(
        &verify(&[
            "--identity_regexp",
            ".*@us\\.ibm\\.com",
            "--identity-provider-regexp",
            "https://sigstore\\.verify\\.ibm\\.com/.*",
        ]),
        0,
        "Verification succeeded",
    );
    assert_code(
        &verify(&[OK, &["--github-repository", "sigstore/model-transparency"]].concat()),
        1,
        "source repository mismatch",
    );
}

#[test]
fn other_instances_roots() {
    assert_code(
        &verify(&[OK, &["--use-staging"]].concat()),
        1,
        "sigstore verification failed",
    );
    assert_code(
        &verify(&[OK, &["--use_staging"]].concat()),
        1,
        "sigstore verification failed",
    );
    let github = third_party_support::trust("github").join("trusted_root.json");
    let github = github.display().to_string();
    assert_code(
        &verify(&[OK, &["--trusted-root", &github]].concat()),
        1,
        "sigstore verification failed",
    );
}

#[test]
fn tampered_bundles() {
    let original: Value =
        serde_json::from_slice(&std::fs::read(golden("v1.1.0").join("model.sig")).expect("read"))
            .expect("json");
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut b = original.clone();
        f(&mut b);
        let path = dir.path().join(name);
        std::fs::write(&path, b.to_string()).expect("write");
        let path = path.display().to_string();
        verify(&[OK, &["--signature", &path]].concat())
    };
    assert_code(
        &run("no-entry.sig", &|b| {
            b["verificationMaterial"]["tlogEntries"] = json!([]);
        }),
        1,
        "exactly 1 required",
    );
    assert_code(
        &run("set.sig", &|b| {
            b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = json!("1760062000");
        }),
        1,
        "transparency log entry check failed",
    );
    let other: Value =
        serde_json::from_slice(&std::fs::read(golden("v1.0.0").join("model.sig")).expect("read"))
            .expect("json");
    let cert = other["verificationMaterial"]["certificate"].clone();
    assert_code(
        &run("cert.sig", &|b| {
            b["verificationMaterial"]["certificate"] = cert.clone()
        }),
        1,
        "sigstore verification failed",
    );
}

#[test]
fn usage_and_environment_errors() {
    // A pattern that does not compile, a missing identity: usage errors.
    assert_code(
        &verify(&["--identity-regexp", "(", "--identity-provider", ISSUER]),
        2,
        "invalid regular expression",
    );
    assert_code(&verify(&["--identity-provider", ISSUER]), 2, "--identity");
    assert_code(
        &verify(&[OK, &["--identity-regexp", "x"]].concat()),
        2,
        "cannot be used with",
    );
    // Unreadable trust material.
    assert_code(
        &verify(&[OK, &["--trusted-root", "/nonexistent/trusted_root.json"]].concat()),
        3,
        "cannot load the Sigstore trust material",
    );
}

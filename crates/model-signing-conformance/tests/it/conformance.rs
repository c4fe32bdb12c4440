//! Runs every case of the sigstore-conformance `bundle-verify` suite, and the
//! real bundles of `sigstore-bundles`, through the `model-signing-conformance`
//! binary, offline: each by artifact path and by digest. Cases whose name ends
//! in `_fail` must be rejected, the others accepted. The data lies in
//! `testdata/third_party/` (see its README).

use testkit::third_party_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Conformance cases we do not pass, with the reason. Each entry is checked
/// to still fail, so fixing one forces removing it here. Empty: all pass.
const CONFORMANCE_KNOWN_FAILURES: &[(&str, &str)] = &[];

/// Real bundles whose expectation we do not meet, with the reason (checked
/// the same way).
const REAL_KNOWN_FAILURES: &[(&str, &str)] = &[(
    "legacy-v0.1-dsse-intoto",
    "its v0.1 certificate chain carries the 2022 Fulcio root; root certificates in a bundle \
     are refused (SIGSTORE.md, conformance case bundle-with-root-cert_fail), so this bundle \
     fails by policy",
)];

/// Why each `_fail` case must be rejected: a fragment of our error message,
/// so that a case rejected for an unrelated reason is noticed.
const REJECTION_REASONS: &[(&str, &str)] = &[
    (
        "bundle-empty-certificate-chain_fail",
        "empty certificate chain",
    ),
    ("bundle-from-wrong-instance_fail", "No log key valid"),
    ("bundle-invalid-base64-signature_fail", "invalid base64"),
    ("bundle-malformed-json_fail", "invalid JSON"),
    ("bundle-negative-log-index_fail", "negative log index"),
    ("bundle-unknown-version_fail", "Invalid media type"),
    ("bundle-with-root-cert_fail", "root certificate"),
    ("checkpoint-bad-keyhint_fail", "checkpoint"),
    (
        "checkpoint-wrong-roothash_fail",
        "root hash does not match checkpoint",
    ),
    (
        "dsse-invalid-sig_fail",
        "DSSE signature verification failed",
    ),
    ("dsse-mismatch-envelope_fail", "DSSE payload hash mismatch"),
    (
        "dsse-mismatch-sig_fail",
        "does not match any signature in Rekor entry",
    ),
    ("inclusion-proof-corrupted-hash_fail", "inclusion proof"),
    ("incorrect-public-key_fail", "SET verification failed"),
    ("integrated-time-in-future_fail", "CertExpired"),
    ("intoto-expired-certificate_fail", "CertNotValidYet"),
    ("intoto-log-entry-mismatch_fail", "log entry"),
    (
        "intoto-missing-inclusion-proof_fail",
        "must have an inclusion proof",
    ),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        "CertExpired",
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "CertExpired",
    ),
    ("invalid-checkpoint-signature_fail", "checkpoint"),
    ("invalid-ct-key_fail", "signed certificate timestamp"),
    (
        "invalid-inclusion-proof_fail",
        "inclusion proof has no checkpoint",
    ),
    ("managed-key-no-key_fail", "carries a public key"),
    ("managed-key-wrong-key_fail", "invalid public key"),
    (
        "message-digest-mismatch_fail",
        "message digest in bundle does not match",
    ),
    ("rekor2-checkpoint-missing-log-signature_fail", "checkpoint"),
    ("rekor2-checkpoint-missing-origin_fail", "checkpoint"),
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        "missing root hash",
    ),
    ("rekor2-checkpoint-missing-size_fail", "invalid tree size"),
    ("rekor2-checkpoint-no-matching-signature_fail", "checkpoint"),
    (
        "rekor2-dsse-invalid-sig_fail",
        "DSSE signature verification failed",
    ),
    (
        "rekor2-dsse-mismatch-envelope_fail",
        "artifact hash mismatch",
    ),
    (
        "rekor2-dsse-mismatch-sig_fail",
        "does not match signature in Rekor entry",
    ),
    (
        "rekor2-no-inclusion-proof_fail",
        "must have an inclusion proof",
    ),
    ("rekor2-no-timestamp_fail", "no verified timestamp"),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "outside the validity period",
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        "CertExpired",
    ),
    (
        "rekor2-timestamp-payload-mismatch_fail",
        "message hash mismatch",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "does not match any trusted TSA",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "does not match any trusted TSA",
    ),
    // Rejected before its intended check: the replacement timestamp's base64
    // is wrapped at 76 columns, which strict base64 refuses. The intended
    // check (timestamp outside the certificate's validity) is exercised by
    // intoto-tsa-timestamp-outside-cert-validity_fail.
    (
        "rekor2-timestamp-with-incorrect-time_fail",
        "invalid base64",
    ),
    ("set-invalid-signature_fail", "SET verification failed"),
    ("signature-mismatch_fail", "signature verification failed"),
    (
        "trust-root-tlog-missing-validity-start_fail",
        "missing field `start`",
    ),
    ("wrong-hashedrekord-artifact_fail", "artifact hash mismatch"),
    (
        "wrong-hashedrekord-cert-and-sig_fail",
        "certificate in bundle does not match",
    ),
    ("wrong-hashedrekord-entry_fail", "artifact hash mismatch"),
    (
        "wrong-material_fail",
        "message digest in bundle does not match",
    ),
];

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hex::encode(Sha256::digest(bytes))
}

/// One verification to run.
struct Run {
    name: String,
    args: Vec<String>,
    /// Artifact path, or the digest argument.
    inputs: Vec<(&'static str, String)>,
    expect_ok: bool,
}

/// The outcome: `Ok(stdout)` when verified, `Err(stderr)` when rejected.
/// Anything but exit 0 or 1 (a crash, a usage error) fails the test.
fn run(args: &[String], input: &str) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_model-signing-conformance"))
        .arg("verify-bundle")
        .args(args)
        .arg(input)
        .output()
        .expect("run model-signing-conformance");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    match out.status.code() {
        Some(0) => Ok(stdout),
        Some(1) => Err(stderr),
        other => panic!("exit status {other:?} for {args:?} {input}: {stderr}"),
    }
}

/// Runs everything; returns the names (with mode) whose outcome differed from
/// the expectation, with what was printed.
fn run_all(runs: &[Run]) -> BTreeMap<String, String> {
    let mut unexpected = BTreeMap::new();
    for r in runs {
        for (mode, input) in &r.inputs {
            let outcome = run(&r.args, input);
            if outcome.is_ok() != r.expect_ok {
                let text = match outcome {
                    Ok(s) | Err(s) => s,
                };
                unexpected.insert(format!("{} ({mode})", r.name), text);
            } else if let (Err(stderr), Some((_, reason))) = (
                &outcome,
                REJECTION_REASONS.iter().find(|(n, _)| *n == r.name),
            ) {
                assert!(
                    stderr.contains(reason),
                    "{} ({mode}) was rejected, but not for the expected reason ({reason:?}): {stderr}",
                    r.name
                );
            }
        }
    }
    unexpected
}

fn check(unexpected: BTreeMap<String, String>, known: &[(&str, &str)], total: usize) {
    let mut failures = Vec::new();
    for (case, text) in &unexpected {
        let name = case.split(" (").next().unwrap_or(case);
        if !known.iter().any(|(k, _)| *k == name) {
            failures.push(format!("{case}: {}", text.trim()));
        }
    }
    for (name, reason) in known {
        assert!(
            unexpected
                .keys()
                .any(|k| k.starts_with(&format!("{name} ("))),
            "{name} now meets its expectation: remove it from the known failures ({reason})"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {total} runs did not meet their expectation:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn conformance_bundle_verify_suite() {
    let suite = third_party_support::third_party().join("sigstore-conformance/bundle-verify");
    let mut runs = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&suite)
        .expect("read suite")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("case name")
            .to_owned();
        let file = |f: &str| dir.join(f);
        let text = |f: &str| {
            std::fs::read_to_string(file(f))
                .ok()
                .map(|s| s.trim_end().to_owned())
        };
        let mut args = vec![
            "--bundle".to_owned(),
            file("bundle.sigstore.json").display().to_string(),
        ];
        if file("key.pub").is_file() {
            args.extend(["--key".to_owned(), file("key.pub").display().to_string()]);
        } else {
            args.extend([
                "--certificate-identity".to_owned(),
                text("identity").unwrap_or_else(|| DEFAULT_IDENTITY.to_owned()),
                "--certificate-oidc-issuer".to_owned(),
                text("issuer").unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
            ]);
        }
        if file("trusted_root.json").is_file() {
            args.extend([
                "--trusted-root".to_owned(),
                file("trusted_root.json").display().to_string(),
            ]);
        }
        let artifact = if file("artifact").is_file() {
            file("artifact")
        } else {
            suite.join("a.txt")
        };
        let expect_ok = !name.ends_with("_fail");
        if !expect_ok && !REJECTION_REASONS.iter().any(|(n, _)| *n == name) {
            panic!("{name}: add the expected rejection reason to REJECTION_REASONS");
        }
        runs.push(Run {
            name,
            args,
            inputs: vec![
                ("path", artifact.display().to_string()),
                ("digest", format!("sha256:{}", sha256_hex(&artifact))),
            ],
            expect_ok,
        });
    }
    assert!(runs.len() >= 70, "only {} cases found", runs.len());
    let total = runs.len() * 2;
    check(run_all(&runs), CONFORMANCE_KNOWN_FAILURES, total);
}

/// The digest to verify a bundle against when its artifact is not shipped:
/// the statement's subject (sha256, else sha512), or the message digest.
fn digest_from_bundle(bundle: &Value) -> String {
    if let Some(payload) = bundle["dsseEnvelope"]["payload"].as_str() {
        let payload = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .expect("payload base64");
        let statement: Value = serde_json::from_slice(&payload).expect("statement");
        let subjects = statement["subject"].as_array().expect("subjects");
        for alg in ["sha256", "sha512"] {
            if let Some(d) = subjects.iter().find_map(|s| s["digest"][alg].as_str()) {
                return format!("{alg}:{d}");
            }
        }
        panic!("no sha256 or sha512 subject");
    }
    let digest = bundle["messageSignature"]["messageDigest"]["digest"]
        .as_str()
        .expect("message digest");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(digest)
        .expect("digest base64");
    format!("sha256:{}", hex::encode(bytes))
}

#[test]
fn real_bundles() {
    let root = third_party_support::third_party().join("sigstore-bundles");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("read sigstore-bundles")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut runs = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.join("meta.json")).expect("meta.json"))
                .expect("meta.json is JSON");
        let field = |k: &str| meta[k].as_str().unwrap_or("").to_owned();
        let bundle_path = dir.join("bundle.sigstore.json");
        let mut args = vec!["--bundle".to_owned(), bundle_path.display().to_string()];

        let instance = field("instance");
        if dir.join("trusted_root.json").is_file() {
            args.extend([
                "--trusted-root".to_owned(),
                dir.join("trusted_root.json").display().to_string(),
            ]);
        } else if instance.contains("GitHub") {
            args.extend([
                "--trusted-root".to_owned(),
                third_party_support::trust("github")
                    .join("trusted_root.json")
                    .display()
                    .to_string(),
            ]);
        } else if instance.starts_with("staging") {
            args.push("--staging".to_owned());
        }

        if dir.join("key.pub").is_file() {
            args.extend([
                "--key".to_owned(),
                dir.join("key.pub").display().to_string(),
            ]);
        } else {
            // meta.json describes the identity in words where it is not a
            // plain value: "SAN URI <uri> (...)".
            let identity = field("identity");
            let identity = identity
                .strip_prefix("SAN URI ")
                .and_then(|s| s.split_whitespace().next())
                .map_or(identity.clone(), str::to_owned);
            args.extend(["--certificate-identity".to_owned(), identity]);
            let issuer = field("issuer");
            if issuer != "n/a" {
                args.extend(["--certificate-oidc-issuer".to_owned(), issuer]);
            }
        }

        let artifact_name = match field("artifact_name") {
            n if n.is_empty() => "artifact".to_owned(),
            n => n,
        };
        let artifact = dir.join(artifact_name);
        let inputs = if artifact.is_file() {
            vec![
                ("path", artifact.display().to_string()),
                ("digest", format!("sha256:{}", sha256_hex(&artifact))),
            ]
        } else {
            let bundle: Value =
                serde_json::from_slice(&std::fs::read(&bundle_path).expect("bundle"))
                    .unwrap_or(Value::Null);
            vec![("digest", digest_from_bundle(&bundle))]
        };
        runs.push(Run {
            expect_ok: !field("expect").starts_with("MUST FAIL"),
            name,
            args,
            inputs,
        });
    }
    assert!(runs.len() >= 15, "only {} bundles found", runs.len());
    let total = runs.iter().map(|r| r.inputs.len()).sum();
    check(run_all(&runs), REAL_KNOWN_FAILURES, total);
}

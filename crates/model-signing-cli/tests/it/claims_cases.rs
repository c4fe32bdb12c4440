//! The data-driven cases of signed claims in `testdata/claims` (made by
//! `scripts/gen-claim-cases`): for each, `verify key model --public-key
//! trust/a.pub --claims claims.jsonl ARGS --json` must give the exit code and
//! the verdict on each claim that its `case.json` states.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use testkit::Run;

fn cases_dir() -> PathBuf {
    testkit::root().join("testdata/claims")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs our tool in `dir`.
fn ours<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S]) -> Run {
    Run::from(
        Command::new(env!("CARGO_BIN_EXE_model-signing"))
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("model-signing runs"),
    )
}

fn verify(case: &Path, extra: &[String]) -> Run {
    let mut args: Vec<String> = [
        "verify",
        "key",
        "model",
        "--public-key",
        "trust/a.pub",
        "--claims",
        "claims.jsonl",
    ]
    .map(String::from)
    .to_vec();
    args.extend_from_slice(extra);
    args.push("--json".into());
    ours(case, &args)
}

#[test]
fn every_claims_case_gives_its_verdicts() {
    let hints = read_json(&cases_dir().join("keys.json"));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("testdata/claims")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let (mut positive, mut negative) = (0, 0);
    for case in &cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let spec = read_json(&case.join("case.json"));
        let extra: Vec<String> = spec["verify"]
            .as_array()
            .expect("verify")
            .iter()
            .map(|a| a.as_str().expect("argument").to_owned())
            .collect();
        let run = verify(case, &extra);
        assert_eq!(
            i64::from(run.code),
            spec["exit"].as_i64().expect("exit"),
            "{name}: {run:?}"
        );
        let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
        // The model itself always verifies: only its claims differ.
        assert_eq!(report["resources"], 3, "{name}: {report}");
        let got = report["claims"].as_array().expect("claims");
        let want = spec["claims"].as_array().expect("claims");
        assert_eq!(got.len(), want.len(), "{name}: {report}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g["line"], w["line"], "{name}");
            assert_eq!(g["verdict"], w["verdict"], "{name}: {g}");
            if let Some(ty) = w.get("predicate_type") {
                assert_eq!(&g["predicate_type"], ty, "{name}");
            }
            if let Some(signer) = w.get("signer").and_then(Value::as_str) {
                assert_eq!(g["signer"]["hint"], hints[signer], "{name}: {g}");
            }
            if let Some(reason) = w.get("reason").and_then(Value::as_str) {
                let text = g["reason"].as_str().unwrap_or_default();
                assert!(text.contains(reason), "{name}: {reason:?} not in {text:?}");
            }
            if w["verdict"] == "valid" {
                assert!(g["predicate"].is_object(), "{name}: {g}");
                assert!(g["reason"].is_null(), "{name}: {g}");
            } else {
                // An invalid claim's predicate is never handed out.
                assert!(g["predicate"].is_null(), "{name}: {g}");
            }
        }
        if spec["exit"] == 0 {
            positive += 1;
        } else {
            negative += 1;
        }
    }
    assert!(positive >= 2, "{positive} positive cases");
    assert!(
        negative > positive,
        "{negative} negative, {positive} positive cases"
    );
}

/// The model's signature stays valid whatever is added to the claims file,
/// and wherever it lies: adding claims never breaks it.
#[test]
fn claims_inside_the_model_never_break_its_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("case");
    testkit::copy_dir(&cases_dir().join("valid-two-signers"), &case);
    let plain = |case: &Path| {
        ours(
            case,
            &[
                "verify",
                "key",
                "model",
                "--public-key",
                "trust/a.pub",
                "--signature",
                "model.sig",
                "--json",
            ],
        )
    };
    plain(&case).ok("before");
    // The claims file moved into the model: left out, and reported.
    std::fs::rename(case.join("claims.jsonl"), case.join("model/claims.jsonl")).expect("move");
    let run = plain(&case).ok("claims inside the model");
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        doc["left_out"],
        serde_json::json!([{"path": "claims.jsonl", "reason": "claims-file"}])
    );
    let run = ours(
        &case,
        &[
            "verify",
            "key",
            "model",
            "--public-key",
            "trust/a.pub",
            "--signature",
            "model.sig",
            "--claims",
            "model/claims.jsonl",
            "--claim-key",
            "trust/b.pub",
            "--json",
        ],
    )
    .ok("claims verified from inside the model");
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["claims"].as_array().map(Vec::len), Some(2));
    // Signing again leaves the claims file out, so claims appended later
    // still do not break the new signature.
    let key = testkit::key(model_signing::keys::KeyAlgorithm::EcdsaP256Sha256);
    std::fs::write(case.join("new.pem"), key.to_pkcs8_pem().as_bytes()).expect("key");
    std::fs::write(case.join("new.pub"), testkit::public(&key).to_pem()).expect("key");
    let sign = ours(
        &case,
        &[
            "sign",
            "key",
            "model",
            "--private-key",
            "new.pem",
            "--signature",
            "new.sig",
            "--json",
        ],
    );
    let doc: Value = serde_json::from_str(&sign.ok("sign").stdout).expect("JSON");
    assert_eq!(doc["resources"], 3, "the claims file is not signed: {doc}");
    let mut claims = std::fs::read_to_string(case.join("model/claims.jsonl")).expect("read");
    let first = claims.lines().next().expect("a claim").to_owned();
    claims.push_str(&first);
    claims.push('\n');
    std::fs::write(case.join("model/claims.jsonl"), claims).expect("append");
    ours(
        &case,
        &[
            "verify",
            "key",
            "model",
            "--public-key",
            "new.pub",
            "--signature",
            "new.sig",
        ],
    )
    .ok("a claim appended after signing");
    // A file named claims.jsonl that is not a claims file is signed like
    // any other, and then checked like any other.
    std::fs::write(
        case.join("model/claims.jsonl"),
        "{\"claim\": \"the sky is green\"}\n",
    )
    .expect("write");
    let sign = ours(
        &case,
        &[
            "sign",
            "key",
            "model",
            "--private-key",
            "new.pem",
            "--signature",
            "data.sig",
            "--json",
        ],
    );
    let doc: Value = serde_json::from_str(&sign.ok("sign").stdout).expect("JSON");
    assert_eq!(doc["resources"], 4, "{doc}");
    std::fs::write(
        case.join("model/claims.jsonl"),
        "{\"claim\": \"the sky is red\"}\n",
    )
    .expect("write");
    let run = ours(
        &case,
        &[
            "verify",
            "key",
            "model",
            "--public-key",
            "new.pub",
            "--signature",
            "data.sig",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.all().contains("claims.jsonl"), "{run:?}");
}

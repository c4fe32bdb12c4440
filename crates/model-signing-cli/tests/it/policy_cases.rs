//! The data-driven cases of verification policies in `testdata/policies`
//! (made by `scripts/gen-policy-cases`): for each, `verify --policy POLICY
//! model --json`, run in the case folder, must give the exit code, the
//! status of each rule, the reasons and (for a bad policy) the line that
//! its `case.json` states; the text output must agree on the verdict.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use testkit::Run;

fn cases_dir() -> PathBuf {
    testkit::root().join("testdata/policies")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ours(dir: &Path, args: &[&str]) -> Run {
    Run::from(
        Command::new(env!("CARGO_BIN_EXE_model-signing"))
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("model-signing runs"),
    )
}

#[test]
fn every_policy_case_gives_its_decision() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("testdata/policies")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let (mut positive, mut negative, mut bad_policies) = (0, 0, 0);
    for case in &cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let spec = read_json(&case.join("case.json"));
        let policy = spec["policy"].as_str().expect("policy");
        let want_exit = spec["exit"].as_i64().expect("exit");
        let run = ours(case, &["verify", "--policy", policy, "model", "--json"]);
        assert_eq!(i64::from(run.code), want_exit, "{name}: {run:?}");
        let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(report["allowed"], Value::Bool(want_exit == 0), "{name}");
        let rules: Vec<(String, String)> = report["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| {
                (
                    r["rule"].as_str().expect("rule").to_owned(),
                    r["status"].as_str().expect("status").to_owned(),
                )
            })
            .collect();
        for (rule, status) in spec["rules"].as_object().expect("rules") {
            let got = rules
                .iter()
                .find(|(r, _)| r == rule)
                .map(|(_, s)| s.as_str());
            assert_eq!(got, status.as_str(), "{name}: rule {rule}: {run:?}");
        }
        for reason in spec["reasons"].as_array().expect("reasons") {
            let reason = reason.as_str().expect("reason");
            assert!(
                run.stdout.contains(reason),
                "{name}: no {reason:?} in {run:?}"
            );
        }
        match want_exit {
            0 => {
                positive += 1;
                assert!(rules.iter().all(|(_, s)| s == "pass"), "{name}: {run:?}");
                assert!(report["error"].is_null(), "{name}");
            }
            1 => {
                negative += 1;
                // Denied: a decision with at least one failed rule, not an error.
                assert!(rules.iter().any(|(_, s)| s == "fail"), "{name}: {run:?}");
                assert!(report["error"].is_null(), "{name}");
            }
            2 => {
                negative += 1;
                bad_policies += 1;
                assert_eq!(report["error"]["kind"], "policy_invalid", "{name}");
                assert_eq!(report["error"]["line"], spec["line"], "{name}: {run:?}");
                assert!(
                    rules.is_empty(),
                    "{name}: no rule is decided under a bad policy"
                );
            }
            other => panic!("{name}: unexpected exit {other} in case.json"),
        }
        // The text output reaches the same verdict, with the same code.
        let text = ours(case, &["verify", "--policy", policy, "model"]);
        assert_eq!(text.code, run.code, "{name}: {text:?}");
        match want_exit {
            0 => assert!(
                text.stdout.contains("Allowed by policy"),
                "{name}: {text:?}"
            ),
            1 => assert!(text.stdout.contains("DENIED by policy"), "{name}: {text:?}"),
            _ => {
                let line = spec["line"].as_i64().expect("line");
                assert!(
                    text.stderr
                        .contains(&format!("policy {policy}, line {line}: ")),
                    "{name}: {text:?}"
                );
            }
        }
    }
    assert!(
        negative > positive,
        "negative cases must outnumber positive ones ({negative} and {positive})"
    );
    assert!(
        positive >= 5 && bad_policies >= 10,
        "{positive} {bad_policies}"
    );
}

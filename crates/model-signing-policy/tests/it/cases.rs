//! The policy cases of `testdata/policies` against the library: the
//! published JSON Schema accepts exactly the policies it should, and
//! `decide` with default options reaches the decision the command line
//! reaches with default flags (`case.json`).

use std::path::{Path, PathBuf};

use model_signing::hashing::NoProgress;
use model_signing_policy::gate::{decide, GateOptions};
use model_signing_policy::Policy;
use serde_json::Value;

fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(testkit::root().join("testdata/policies"))
        .expect("testdata/policies")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(out.len() >= 30, "{} cases", out.len());
    out
}

fn spec(case: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(case.join("case.json")).expect("case.json"))
        .expect("JSON")
}

/// The policy as a JSON value, or `None` when its text does not parse.
fn policy_value(case: &Path) -> Option<Value> {
    let name = spec(case)["policy"].as_str().expect("policy").to_owned();
    let text = std::fs::read_to_string(case.join(&name)).expect("policy");
    if name.ends_with(".json") {
        serde_json::from_str(&text).ok()
    } else {
        serde_norway::from_str(&text).ok()
    }
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(testkit::root().join("docs/policy-v1.schema.json"))
        .expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

#[test]
fn the_json_schema_accepts_the_policies_the_tool_reads() {
    let validator = schema();
    // Refused by the schema itself.
    let schema_invalid = [
        "bad-unknown-field",
        "bad-version",
        "bad-identity-and-pattern",
        "bad-cost-limit",
    ];
    // Valid by the schema, refused by checks it cannot express (references
    // between fields, CEL, regular expressions, key files, duplicate keys
    // that a JSON parser merges).
    let semantic = [
        "bad-unknown-signer",
        "bad-cel-syntax",
        "bad-cel-unknown-variable",
        "bad-regex",
        "bad-key-file",
        "bad-duplicate-signer",
    ];
    let mut checked = 0;
    for case in cases() {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let Some(value) = policy_value(&case) else {
            assert_eq!(name, "bad-yaml-syntax", "{name}: the policy does not parse");
            continue;
        };
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        if schema_invalid.contains(&name.as_str()) {
            assert!(!errors.is_empty(), "{name}: the schema accepts it");
        } else {
            assert!(errors.is_empty(), "{name}: {errors:?}");
            if name.starts_with("bad-") {
                assert!(
                    semantic.contains(&name.as_str()),
                    "{name} is not classified"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 30);
}

#[test]
fn the_library_decides_as_the_command_line() {
    for case in cases() {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let spec = spec(&case);
        let policy_file = case.join(spec["policy"].as_str().expect("policy"));
        let exit = spec["exit"].as_i64().expect("exit");
        let policy = match Policy::load(&policy_file) {
            Ok(p) => p,
            Err(e) => {
                assert_eq!(exit, 2, "{name}: {e}");
                assert_eq!(
                    e.line.map(|l| l as i64),
                    spec["line"].as_i64(),
                    "{name}: {e}"
                );
                continue;
            }
        };
        assert_ne!(
            exit, 2,
            "{name}: the library loads a policy the CLI refuses"
        );
        let options = GateOptions {
            signature: case.join("model.sig"),
            ..GateOptions::default()
        };
        let decision =
            decide(&policy, &case.join("model"), &options, &NoProgress).expect("a decision");
        assert_eq!(decision.allowed, exit == 0, "{name}: {:?}", decision.rules);
        for (rule, status) in spec["rules"].as_object().expect("rules") {
            let got = decision
                .rules
                .iter()
                .find(|r| r.rule == *rule)
                .map(|r| r.status.as_str());
            assert_eq!(got, status.as_str(), "{name}: {rule}");
        }
    }
}

//! Verification policies and their conditions. The first byte chooses:
//! a policy read as YAML or as JSON (any text is refused with a reason or
//! loaded; nothing panics), or fixed CEL conditions evaluated on an
//! arbitrary JSON predicate, such as a claim carries: two evaluations that
//! both answer give the same answer, and a condition whose estimated cost
//! is over the limit is never run.

#![no_main]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use model_signing_policy::expr::{Condition, Inputs};
use model_signing_policy::Policy;

const CONDITIONS: &[&str] = &[
    "predicate.results.exists(r, r.metric == 'accuracy' && r.value >= 0.8)",
    "predicate.buildDefinition.resolvedDependencies.filter(d, d.annotations.kind == 'dataset').all(d, signed_by(d.digest.sha256, 'data'))",
    "has(predicate.frontMatter) && predicate.frontMatter.license == 'apache-2.0'",
    "predicate.results.all(a, predicate.results.all(b, a.value >= b.value || b.value >= a.value))",
    "size(predicate) > 2 && predicate.name.matches('^[a-z]+$') && model.name.startsWith(predicate.name)",
];
const LIMIT: u64 = 200_000;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    match choice % 3 {
        0 | 1 => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            match Policy::parse(
                Path::new("fuzz.yaml"),
                text,
                choice % 3 == 1,
                Path::new("/nonexistent"),
            ) {
                Ok(policy) => assert!(!policy.model_signers.is_empty()),
                Err(e) => {
                    assert!(!e.reason.is_empty());
                    if let Some(line) = e.line {
                        // YAML also breaks lines at CR (and, in 1.1, NEL, LS, PS).
                        let breaks = text
                            .chars()
                            .filter(|c| {
                                matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
                            })
                            .count();
                        assert!(line >= 1 && line <= breaks + 2, "{e}");
                    }
                }
            }
        }
        _ => {
            let Ok(predicate) = serde_json::from_slice::<serde_json::Value>(rest) else {
                return;
            };
            let claim = serde_json::json!({"line": 1, "signers": ["eval"]});
            let model = serde_json::json!({"name": "model", "hash": "sha256"});
            let inputs = Inputs {
                variables: vec![
                    ("predicate", &predicate),
                    ("claim", &claim),
                    ("model", &model),
                ],
                signed: Arc::new(HashMap::from([("ab".repeat(32), vec!["data".to_owned()])])),
            };
            for source in CONDITIONS {
                let condition = Condition::compile(source).expect("a fixed condition compiles");
                let first = condition.evaluate(&inputs, LIMIT);
                // Maps iterate in no fixed order, so a comprehension over one
                // may meet an error or a decisive element first: only two
                // answers must never disagree.
                if let (Ok(a), Ok(b)) = (&first, &condition.evaluate(&inputs, LIMIT)) {
                    assert_eq!(a, b, "{source}");
                }
                if condition.cost(&inputs) > LIMIT {
                    assert!(first.is_err_and(|e| e.contains("cost limit")), "{source}");
                }
            }
        }
    }
});

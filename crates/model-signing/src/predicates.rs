//! Predicates for the common claims, built from what users already have:
//! a model card (the front matter of a Hugging Face README), evaluation
//! results, training provenance (SLSA Provenance v1 listing datasets and
//! base models by their signatures' statement digests) and a CycloneDX
//! ML-BOM. `docs/claims.md` shows each with an example.
//!
//! [`check`] validates a predicate of a known type when a claim is
//! verified: a malformed one is reported as such, never counted valid.

use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

use crate::claims::{ClaimTarget, STATEMENT_SUBJECT};

/// A model card: the README's YAML front matter as JSON, and the digest of
/// the whole README.
pub const MODEL_CARD_V1: &str =
    "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#model-card-v1";
/// Evaluation results: one entry per task, dataset and metric.
pub const EVALUATION_V1: &str =
    "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#evaluation-v1";
/// SLSA Provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// The build type of training provenance.
pub const TRAINING_BUILD_TYPE: &str =
    "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#training-v1";
/// A CycloneDX bill of materials (in-toto's predicate type for CycloneDX).
pub const CYCLONEDX_BOM: &str = "https://cyclonedx.org/bom";

/// The largest README read for a model card: 1 MiB.
pub const MAX_README_BYTES: usize = 1 << 20;

/// A predicate and its type: what `attest` signs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Predicate {
    /// The predicate type URI.
    pub predicate_type: String,
    /// The predicate (a JSON object).
    pub predicate: Value,
}

/// Why a predicate cannot be built, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PredicateError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, PredicateError> {
    Err(PredicateError(msg.into()))
}

/// The YAML front matter of a README (between a first line `---` and the
/// next `---` line), if any.
fn front_matter(text: &str) -> Option<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some(&rest[..offset]);
        }
        offset += line.len();
    }
    None
}

/// A model card predicate from a Hugging Face README: its YAML front matter
/// (license, datasets, base_model, model-index, ...) as JSON, and the
/// SHA-256 and size of the README.
pub fn model_card(readme: &[u8]) -> Result<Predicate, PredicateError> {
    if readme.len() > MAX_README_BYTES {
        return err(format!(
            "the README is {} bytes, over the limit of {MAX_README_BYTES}",
            readme.len()
        ));
    }
    let text = std::str::from_utf8(readme)
        .map_err(|_| PredicateError("the README is not UTF-8".into()))?;
    let Some(yaml) = front_matter(text) else {
        return err("the README has no YAML front matter (a first line `---`, the metadata, and a closing `---` line)");
    };
    let front: Value = serde_norway::from_str(yaml)
        .map_err(|e| PredicateError(format!("the README's front matter is not valid YAML: {e}")))?;
    let front = match front {
        Value::Object(m) => Value::Object(m),
        Value::Null => Value::Object(Map::new()),
        other => {
            return err(format!(
                "the README's front matter is {}, not a mapping",
                kind(&other)
            ))
        }
    };
    Ok(Predicate {
        predicate_type: MODEL_CARD_V1.to_owned(),
        predicate: json!({
            "frontMatter": front,
            "readme": {"sha256": hex::encode(Sha256::digest(readme)), "size": readme.len()},
        }),
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn non_empty_str<'a>(v: &'a Value, what: &str) -> Result<&'a str, PredicateError> {
    match v.as_str() {
        Some(s) if !s.trim().is_empty() && s.len() <= 1024 => Ok(s),
        _ => err(format!(
            "{what} must be a non-empty string of at most 1024 bytes"
        )),
    }
}

fn finite_number(v: &Value, what: &str) -> Result<f64, PredicateError> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => err(format!("{what} must be a number")),
    }
}

/// An evaluation predicate from either
/// `{"results": [{"task", "dataset", "metric", "value"}, ...]}` (with
/// optional `split`, `evaluator` and `date`), or a Hugging Face
/// `model-index` (the list a model card's front matter holds under that
/// key, or an object holding it), whose results are flattened into the
/// first form.
pub fn evaluation(input: &Value) -> Result<Predicate, PredicateError> {
    let index = match input {
        Value::Array(_) => Some(input),
        Value::Object(o) => o.get("model-index"),
        _ => None,
    };
    let predicate = match index {
        Some(index) => from_model_index(index)?,
        None => input.clone(),
    };
    check_evaluation(&predicate)?;
    Ok(Predicate {
        predicate_type: EVALUATION_V1.to_owned(),
        predicate,
    })
}

fn from_model_index(index: &Value) -> Result<Value, PredicateError> {
    let Some(models) = index.as_array() else {
        return err("model-index must be a list");
    };
    let mut results = Vec::new();
    for model in models {
        let Some(list) = model.get("results").and_then(Value::as_array) else {
            return err("each model-index entry must hold a list of results");
        };
        for r in list {
            let task = r
                .pointer("/task/type")
                .or_else(|| r.pointer("/task/name"))
                .cloned()
                .unwrap_or(Value::Null);
            let dataset = r
                .pointer("/dataset/name")
                .or_else(|| r.pointer("/dataset/type"))
                .cloned()
                .unwrap_or(Value::Null);
            let split = r.pointer("/dataset/split").cloned();
            let Some(metrics) = r.get("metrics").and_then(Value::as_array) else {
                return err("each model-index result must hold a list of metrics");
            };
            for m in metrics {
                let metric = m
                    .get("type")
                    .or_else(|| m.get("name"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut entry = json!({
                    "task": task,
                    "dataset": dataset,
                    "metric": metric,
                    "value": m.get("value").cloned().unwrap_or(Value::Null),
                });
                if let Some(split) = &split {
                    entry["split"] = split.clone();
                }
                results.push(entry);
            }
        }
    }
    Ok(json!({ "results": results }))
}

fn check_evaluation(p: &Value) -> Result<(), PredicateError> {
    let Some(obj) = p.as_object() else {
        return err("an evaluation predicate must be an object");
    };
    for key in obj.keys() {
        if !["results", "evaluator", "date"].contains(&key.as_str()) {
            return err(format!(
                "an evaluation predicate has no field {key:?} (results, evaluator, date)"
            ));
        }
    }
    let Some(results) = obj.get("results").and_then(Value::as_array) else {
        return err("an evaluation predicate must hold a list `results`");
    };
    if results.is_empty() {
        return err("an evaluation predicate must hold at least one result");
    }
    for (i, r) in results.iter().enumerate() {
        let at = |f: &str| format!("results[{i}].{f}");
        let Some(o) = r.as_object() else {
            return err(format!("results[{i}] must be an object"));
        };
        for key in o.keys() {
            if !["task", "dataset", "metric", "value", "split"].contains(&key.as_str()) {
                return err(format!(
                    "results[{i}] has no field {key:?} (task, dataset, metric, value, split)"
                ));
            }
        }
        non_empty_str(o.get("task").unwrap_or(&Value::Null), &at("task"))?;
        non_empty_str(o.get("dataset").unwrap_or(&Value::Null), &at("dataset"))?;
        non_empty_str(o.get("metric").unwrap_or(&Value::Null), &at("metric"))?;
        finite_number(o.get("value").unwrap_or(&Value::Null), &at("value"))?;
        if let Some(split) = o.get("split") {
            non_empty_str(split, &at("split"))?;
        }
    }
    for key in ["evaluator", "date"] {
        if let Some(v) = obj.get(key) {
            non_empty_str(v, key)?;
        }
    }
    Ok(())
}

/// What a model was trained from, or a BOM lists: a dataset or a model,
/// named by its OMS signature.
#[derive(Debug, Clone)]
pub struct Input {
    /// `dataset` or `model`.
    pub kind: InputKind,
    /// What its signature names and binds.
    pub target: ClaimTarget,
}

/// The kind of an [`Input`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A training or evaluation dataset.
    Dataset,
    /// A base model.
    Model,
}

impl InputKind {
    fn as_str(self) -> &'static str {
        match self {
            InputKind::Dataset => "dataset",
            InputKind::Model => "base-model",
        }
    }
}

/// SLSA Provenance v1 of a training run by `builder_id` (a URI naming the
/// training platform), listing its datasets and base models by the
/// SHA-256 of their signatures' statements (the same digest claims bind
/// to), with their root digests as annotations. `parameters` are the run's
/// external parameters (hyperparameters, code revision), an object.
pub fn training_provenance(
    builder_id: &str,
    inputs: &[Input],
    parameters: Option<&Value>,
) -> Result<Predicate, PredicateError> {
    if !crate::claims::is_uri(builder_id) {
        return err(format!("the builder id {builder_id:?} is not a URI"));
    }
    let parameters = match parameters {
        None => json!({}),
        Some(p) if p.is_object() => p.clone(),
        Some(p) => {
            return err(format!(
                "the training parameters are {}, not an object",
                kind(p)
            ))
        }
    };
    let deps: Vec<Value> = inputs
        .iter()
        .map(|i| {
            json!({
                "name": i.target.model_name,
                "digest": {"sha256": i.target.statement_digest},
                "annotations": {
                    "kind": i.kind.as_str(),
                    "rootDigest": format!("sha256:{}", i.target.root_digest),
                    "subject": STATEMENT_SUBJECT,
                },
            })
        })
        .collect();
    let predicate = json!({
        "buildDefinition": {
            "buildType": TRAINING_BUILD_TYPE,
            "externalParameters": parameters,
            "resolvedDependencies": deps,
        },
        "runDetails": {"builder": {"id": builder_id}},
    });
    check_slsa(&predicate)?;
    Ok(Predicate {
        predicate_type: SLSA_PROVENANCE_V1.to_owned(),
        predicate,
    })
}

fn check_slsa(p: &Value) -> Result<(), PredicateError> {
    let build_type = p.pointer("/buildDefinition/buildType");
    non_empty_str(
        build_type.unwrap_or(&Value::Null),
        "buildDefinition.buildType",
    )?;
    if !p
        .pointer("/buildDefinition/externalParameters")
        .is_some_and(Value::is_object)
    {
        return err("buildDefinition.externalParameters must be an object");
    }
    non_empty_str(
        p.pointer("/runDetails/builder/id").unwrap_or(&Value::Null),
        "runDetails.builder.id",
    )?;
    if let Some(deps) = p.pointer("/buildDefinition/resolvedDependencies") {
        let Some(deps) = deps.as_array() else {
            return err("buildDefinition.resolvedDependencies must be a list");
        };
        for (i, d) in deps.iter().enumerate() {
            let digest = d.get("digest").and_then(Value::as_object);
            let ok = digest.is_some_and(|m| {
                !m.is_empty()
                    && m.values()
                        .all(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            });
            if !ok {
                return err(format!(
                    "buildDefinition.resolvedDependencies[{i}].digest must map algorithms to digests"
                ));
            }
        }
    }
    Ok(())
}

/// A CycloneDX 1.6 ML-BOM: the model (with its root digest, and the model
/// card's front matter as properties when given), and its datasets and
/// base models as components it depends on.
pub fn cyclonedx(
    model: &ClaimTarget,
    model_card: Option<&Value>,
    inputs: &[Input],
) -> Result<Predicate, PredicateError> {
    let mut component = json!({
        "type": "machine-learning-model",
        "bom-ref": "model",
        "name": model.model_name,
        "hashes": [{"alg": "SHA-256", "content": model.root_digest}],
        "properties": [
            {"name": "model-signing:statement-sha256", "value": model.statement_digest},
        ],
    });
    if let Some(card) = model_card {
        let front = card.get("frontMatter").unwrap_or(card);
        let mut model_card = json!({});
        if let Some(license) = front.get("license").and_then(Value::as_str) {
            component["licenses"] = json!([{"license": {"id": license}}]);
        }
        if let Some(task) = front.get("pipeline_tag").and_then(Value::as_str) {
            model_card["modelParameters"] = json!({"task": task});
        }
        component["modelCard"] = model_card;
    }
    let components: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(n, i)| {
            json!({
                "type": match i.kind { InputKind::Dataset => "data", InputKind::Model => "machine-learning-model" },
                "bom-ref": format!("input-{n}"),
                "name": i.target.model_name,
                "hashes": [{"alg": "SHA-256", "content": i.target.root_digest}],
                "properties": [
                    {"name": "model-signing:statement-sha256", "value": i.target.statement_digest},
                    {"name": "model-signing:kind", "value": i.kind.as_str()},
                ],
            })
        })
        .collect();
    let depends: Vec<Value> = (0..inputs.len())
        .map(|n| Value::String(format!("input-{n}")))
        .collect();
    let predicate = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"component": component},
        "components": components,
        "dependencies": [{"ref": "model", "dependsOn": depends}],
    });
    check_cyclonedx(&predicate)?;
    Ok(Predicate {
        predicate_type: CYCLONEDX_BOM.to_owned(),
        predicate,
    })
}

fn check_cyclonedx(p: &Value) -> Result<(), PredicateError> {
    if p.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        return err("a CycloneDX BOM must have bomFormat \"CycloneDX\"");
    }
    non_empty_str(p.get("specVersion").unwrap_or(&Value::Null), "specVersion")?;
    if let Some(c) = p.get("components") {
        let Some(list) = c.as_array() else {
            return err("components must be a list");
        };
        for (i, c) in list.iter().enumerate() {
            non_empty_str(
                c.get("type").unwrap_or(&Value::Null),
                &format!("components[{i}].type"),
            )?;
            non_empty_str(
                c.get("name").unwrap_or(&Value::Null),
                &format!("components[{i}].name"),
            )?;
        }
    }
    Ok(())
}

fn check_model_card(p: &Value) -> Result<(), PredicateError> {
    if !p.get("frontMatter").is_some_and(Value::is_object) {
        return err("a model card predicate must hold the object frontMatter");
    }
    let sha = p.pointer("/readme/sha256").and_then(Value::as_str);
    if !sha.is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())) {
        return err("a model card predicate must hold readme.sha256, 64 hex digits");
    }
    Ok(())
}

/// Checks a predicate of a type this module knows (model card, evaluation,
/// SLSA Provenance v1, CycloneDX); any other type is accepted as any JSON
/// object.
pub fn check(predicate_type: &str, predicate: &Value) -> Result<(), PredicateError> {
    match predicate_type {
        MODEL_CARD_V1 => check_model_card(predicate),
        EVALUATION_V1 => check_evaluation(predicate),
        SLSA_PROVENANCE_V1 => check_slsa(predicate),
        CYCLONEDX_BOM => check_cyclonedx(predicate),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "---\nlicense: apache-2.0\npipeline_tag: text-generation\ndatasets:\n- org/data\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n    dataset: {name: wiki, type: wikitext, split: test}\n    metrics:\n    - {type: perplexity, value: 12.5}\n    - {type: accuracy, value: 0.81}\n---\n# The model\n";

    fn target(name: &str) -> ClaimTarget {
        ClaimTarget {
            model_name: name.to_owned(),
            root_digest: "aa".repeat(32),
            statement_digest: "bb".repeat(32),
        }
    }

    #[test]
    fn a_model_card_holds_the_front_matter() {
        let p = model_card(README.as_bytes()).expect("card");
        assert_eq!(p.predicate_type, MODEL_CARD_V1);
        assert_eq!(p.predicate["frontMatter"]["license"], "apache-2.0");
        assert_eq!(p.predicate["frontMatter"]["datasets"][0], "org/data");
        assert_eq!(p.predicate["readme"]["size"], README.len());
        check(MODEL_CARD_V1, &p.predicate).expect("valid");
        let crlf = README.replace('\n', "\r\n");
        assert!(model_card(crlf.as_bytes()).is_ok());
        let bad: [&[u8]; 6] = [
            b"# no front matter\n",
            b"---\nlicense: x\n",
            b"---\n- a list\n---\n",
            b"---\nkey: [unclosed\n---\n",
            b"---\n\xff: x\n---\n",
            b"---\na: &a [*a]\n---\n",
        ];
        for b in bad {
            assert!(model_card(b).is_err(), "{}", String::from_utf8_lossy(b));
        }
        assert!(model_card(&vec![b' '; MAX_README_BYTES + 1]).is_err());
    }

    #[test]
    fn evaluations_from_a_model_index_or_a_results_list() {
        let card = model_card(README.as_bytes()).expect("card");
        let p = evaluation(&card.predicate["frontMatter"]).expect("from model-index");
        assert_eq!(p.predicate["results"].as_array().map(Vec::len), Some(2));
        assert_eq!(p.predicate["results"][1]["metric"], "accuracy");
        assert_eq!(p.predicate["results"][1]["split"], "test");
        let direct = json!({"results": [{"task": "qa", "dataset": "squad", "metric": "f1", "value": 88.1}], "evaluator": "lab"});
        assert!(evaluation(&direct).is_ok());
        for bad in [
            json!({"results": []}),
            json!({"results": [{"task": "qa", "dataset": "squad", "metric": "f1", "value": "high"}]}),
            json!({"results": [{"task": "", "dataset": "squad", "metric": "f1", "value": 1}]}),
            json!({"results": [{"task": "qa", "dataset": "squad", "metric": "f1", "value": 1, "extra": 1}]}),
            json!({"results": [{"task": "qa", "dataset": "squad", "value": 1}]}),
            json!({"results": "none"}),
            json!({"results": [], "other": 1}),
            json!([{"name": "m"}]),
            json!("text"),
        ] {
            assert!(evaluation(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn training_provenance_lists_inputs_by_statement_digest() {
        let inputs = [
            Input {
                kind: InputKind::Dataset,
                target: target("data"),
            },
            Input {
                kind: InputKind::Model,
                target: target("base"),
            },
        ];
        let p = training_provenance(
            "https://ci.example/trainer",
            &inputs,
            Some(&json!({"lr": 0.1})),
        )
        .expect("provenance");
        assert_eq!(p.predicate_type, SLSA_PROVENANCE_V1);
        let deps = &p.predicate["buildDefinition"]["resolvedDependencies"];
        assert_eq!(deps[0]["digest"]["sha256"], "bb".repeat(32));
        assert_eq!(deps[1]["annotations"]["kind"], "base-model");
        check(SLSA_PROVENANCE_V1, &p.predicate).expect("valid");
        assert!(training_provenance("not a uri", &inputs, None).is_err());
        assert!(training_provenance("https://x", &inputs, Some(&json!([1]))).is_err());
        for bad in [
            json!({}),
            json!({"buildDefinition": {"buildType": "x", "externalParameters": {}}}),
            json!({"buildDefinition": {"buildType": "x", "externalParameters": {}, "resolvedDependencies": [{"digest": {}}]}, "runDetails": {"builder": {"id": "x"}}}),
        ] {
            assert!(check(SLSA_PROVENANCE_V1, &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_cyclonedx_bom_lists_the_model_and_its_inputs() {
        let card = model_card(README.as_bytes()).expect("card");
        let inputs = [Input {
            kind: InputKind::Dataset,
            target: target("data"),
        }];
        let p = cyclonedx(&target("m"), Some(&card.predicate), &inputs).expect("bom");
        assert_eq!(
            p.predicate["metadata"]["component"]["type"],
            "machine-learning-model"
        );
        assert_eq!(p.predicate["components"][0]["type"], "data");
        assert_eq!(
            p.predicate["metadata"]["component"]["licenses"][0]["license"]["id"],
            "apache-2.0"
        );
        check(CYCLONEDX_BOM, &p.predicate).expect("valid");
        for bad in [
            json!({}),
            json!({"bomFormat": "SPDX", "specVersion": "1.6"}),
            json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "data"}]}),
        ] {
            assert!(check(CYCLONEDX_BOM, &bad).is_err(), "{bad}");
        }
        // Unknown types are any object.
        assert!(check("urn:x:y", &json!({"anything": [1]})).is_ok());
    }
}

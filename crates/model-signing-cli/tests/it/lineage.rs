//! `lineage add|derived|inputs`, and `signed_by` in policy conditions,
//! with models, datasets and training claims signed by the tool itself.

use std::path::Path;
use std::process::{Command, Stdio};

use model_signing::keys::KeyAlgorithm;
use serde_json::Value;
use testkit::Run;

const SLSA: &str = "https://slsa.dev/provenance/v1";

struct Lab {
    tmp: tempfile::TempDir,
}

impl Lab {
    /// Keys `release` (models), `data` (datasets), `trainer` and
    /// `trainer2` (training claims) and `rogue`, and a policy trusting all
    /// but `rogue`.
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        for name in ["release", "data", "trainer", "trainer2", "rogue"] {
            let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
            std::fs::write(
                tmp.path().join(format!("{name}.pem")),
                key.to_pkcs8_pem().as_bytes(),
            )
            .expect("key");
            std::fs::write(
                tmp.path().join(format!("{name}.pub")),
                testkit::public(&key).to_pem(),
            )
            .expect("key");
        }
        let lab = Lab { tmp };
        lab.write(
            "policy.yaml",
            "version: 1
signers:
  release: {key: release.pub}
  data-team: {key: data.pub}
  trainer: {key: trainer.pub}
  trainer2: {key: trainer2.pub}
model:
  signers: [release, data-team]
",
        );
        lab.write(
            "strict.yaml",
            "version: 1
signers:
  release: {key: release.pub}
  data-team: {key: data.pub}
  trainer: {key: trainer.pub}
model:
  signers: [release, data-team]
",
        );
        lab
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir().join(name), text).expect("write");
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_model-signing"))
                .args(args)
                .current_dir(self.dir())
                .env("XDG_DATA_HOME", self.dir().join("xdg"))
                .stdin(Stdio::null())
                .output()
                .expect("model-signing runs"),
        )
    }

    /// A model or dataset `name/` with one file, signed by `key` into `name.sig`.
    fn artifact(&self, name: &str, key: &str) {
        let dir = self.dir().join(name);
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::write(dir.join("data.bin"), format!("the bytes of {name}")).expect("write");
        self.run(&[
            "sign",
            "key",
            name,
            "--private-key",
            &format!("{key}.pem"),
            "--signature",
            &format!("{name}.sig"),
        ])
        .ok("sign");
    }

    /// A training claim about `name` by `key`, listing `inputs` (`--dataset X.sig` or `--base-model X.sig`).
    fn trained(&self, name: &str, key: &str, inputs: &[(&str, &str)]) {
        let mut args = vec![
            "predicate".to_owned(),
            "training".into(),
            "--builder-id".into(),
            "https://ci.example.com/train".into(),
            "-o".into(),
            format!("{name}-train.json"),
        ];
        for (flag, sig) in inputs {
            args.push((*flag).to_owned());
            args.push(format!("{sig}.sig"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args).ok("predicate training");
        self.run(&[
            "attest",
            "key",
            name,
            "--private-key",
            &format!("{key}.pem"),
            "--signature",
            &format!("{name}.sig"),
            "--claims",
            &format!("{name}.claims"),
            "--predicate",
            &format!("{name}-train.json"),
        ])
        .ok("attest");
    }

    fn add(&self, name: &str, extra: &[&str]) -> Run {
        let sig = format!("{name}.sig");
        let claims = format!("{name}.claims");
        let mut args = vec![
            "lineage",
            "add",
            "--policy",
            "policy.yaml",
            name,
            "--signature",
            &sig,
            "--index",
            "lineage.db",
            "--json",
        ];
        if self.dir().join(&claims).exists() {
            args.extend(["--claims", &claims]);
        }
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn query(&self, what: &str, reference: &str, extra: &[&str]) -> Value {
        let mut args = vec![
            "lineage",
            what,
            reference,
            "--index",
            "lineage.db",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let run = self.run(&args).ok("query");
        serde_json::from_str(&run.stdout).expect("JSON")
    }

    /// `data` <- `a` <- `b` <- `c`, `rogue-model` claimed from `data` by
    /// the rogue key, every one recorded.
    fn chain() -> Lab {
        let lab = Lab::new();
        lab.artifact("data", "data");
        for m in ["a", "b", "c", "rogue-model"] {
            lab.artifact(m, "release");
        }
        lab.trained("a", "trainer", &[("--dataset", "data")]);
        lab.trained("b", "trainer2", &[("--base-model", "a")]);
        lab.trained("c", "trainer", &[("--base-model", "b")]);
        lab.trained("rogue-model", "rogue", &[("--dataset", "data")]);
        lab.add("data", &["--dataset"]).ok("add data");
        for m in ["a", "b", "c"] {
            lab.add(m, &[]).ok("add");
        }
        let rogue = lab.add("rogue-model", &[]).ok("add rogue-model");
        assert!(
            rogue.stderr.contains("not recorded (signature failed)"),
            "{rogue:?}"
        );
        lab
    }
}

fn names(graph: &Value) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = graph["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["name"].as_str().expect("name").to_owned(),
                n["depth"].as_u64().expect("depth"),
            )
        })
        .collect();
    out.sort_by_key(|(n, d)| (*d, n.clone()));
    out
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(n, d)| ((*n).to_owned(), *d)).collect()
}

#[test]
fn a_poisoned_dataset_three_levels_deep_is_found() {
    let lab = Lab::chain();
    let graph = lab.query("derived", "data", &[]);
    assert_eq!(
        names(&graph),
        pairs(&[("data", 0), ("a", 1), ("b", 2), ("c", 3)]),
        "{graph:#}"
    );
    // The rogue key's claim made no edge: rogue-model is not found.
    assert!(!graph.to_string().contains("rogue-model"));
    let edges = graph["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 3);
    assert!(edges
        .iter()
        .any(|e| e["relation"] == "dataset" && e["signer"]["kind"] == "key"));
    // And back: what went into c.
    let inputs = lab.query("inputs", "c", &[]);
    assert_eq!(
        names(&inputs),
        pairs(&[("c", 0), ("b", 1), ("a", 2), ("data", 3)])
    );
    let data = inputs["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["name"] == "data")
        .expect("data");
    assert_eq!(data["kind"], "dataset");
    assert_eq!(data["recorded"], true);
    // The same start by signature file and by statement digest.
    let by_sig = lab.query("derived", "data.sig", &[]);
    assert_eq!(names(&by_sig), names(&graph));
    let digest = graph["start"][0].as_str().expect("digest").to_owned();
    let by_digest = lab.query("impact", &format!("sha256:{digest}"), &[]);
    assert_eq!(names(&by_digest), names(&graph));
}

#[test]
fn a_policy_filters_the_links_by_who_signed_the_claims() {
    let lab = Lab::chain();
    // strict.yaml does not trust trainer2, who signed "b derives from a".
    let graph = lab.query("derived", "data", &["--policy", "strict.yaml"]);
    assert_eq!(names(&graph), pairs(&[("data", 0), ("a", 1)]), "{graph:#}");
    let a = &graph["nodes"][1];
    assert_eq!(a["trusted_signers"], serde_json::json!(["release"]));
    // Text: one line per node, with who signed it.
    let text = lab
        .run(&["lineage", "derived", "data", "--index", "lineage.db"])
        .ok("text");
    assert!(text.stdout.contains("3 derive from it"), "{text:?}");
    assert!(text.stdout.contains("model c  sha256:"), "{text:?}");
}

#[test]
fn cycles_and_duplicates_are_handled() {
    let lab = Lab::new();
    lab.artifact("x", "release");
    lab.artifact("y", "release");
    lab.trained("x", "trainer", &[("--base-model", "y")]);
    lab.trained("y", "trainer", &[("--base-model", "x")]);
    let first: Value = serde_json::from_str(&lab.add("x", &[]).ok("add x").stdout).expect("JSON");
    assert_eq!(first["new_signature"], true);
    assert_eq!(first["new_edges"], 1);
    lab.add("y", &[]).ok("add y");
    // Recording again adds nothing.
    let again: Value =
        serde_json::from_str(&lab.add("x", &[]).ok("add x again").stdout).expect("JSON");
    assert_eq!(again["new_signature"], false);
    assert_eq!(again["new_claims"], 0);
    assert_eq!(again["known_claims"], 1);
    assert_eq!(again["new_edges"], 0);
    let graph = lab.query("derived", "x", &[]);
    assert_eq!(names(&graph), pairs(&[("x", 0), ("y", 1)]));
    assert_eq!(graph["edges"].as_array().expect("edges").len(), 2);
    // DOT: both edges, each node once.
    let dot = lab
        .run(&[
            "lineage",
            "derived",
            "x",
            "--index",
            "lineage.db",
            "--format",
            "dot",
        ])
        .ok("dot");
    assert!(dot.stdout.starts_with("digraph lineage {"), "{dot:?}");
    assert_eq!(dot.stdout.matches(" -> ").count(), 2, "{dot:?}");
    assert_eq!(dot.stdout.matches("[label=\"model ").count(), 2, "{dot:?}");
}

#[test]
fn lineage_refuses_what_did_not_verify_and_names_what_it_cannot_find() {
    let lab = Lab::new();
    lab.artifact("m", "release");
    std::fs::write(lab.dir().join("m/data.bin"), "changed").expect("write");
    let run = lab.add("m", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not recorded"), "{run:?}");
    // Nothing was recorded: the index holds no node.
    let missing = lab.run(&["lineage", "derived", "m", "--index", "lineage.db"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing.stderr.contains("no model or dataset named \"m\""),
        "{missing:?}"
    );
    // A signer the policy does not trust for the model.
    lab.artifact("n", "rogue");
    let run = lab.add("n", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    // References that are not digests, and an index that is not there.
    let bad = lab.run(&["lineage", "derived", "sha256:abc", "--index", "lineage.db"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("not a SHA-256 digest"), "{bad:?}");
    let none = lab.run(&["lineage", "inputs", "m", "--index", "nothing.db"]);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("no lineage index at"), "{none:?}");
    // A file that is not an index.
    lab.write(
        "junk.db",
        "not a database, just text that is long enough to be read",
    );
    let junk = lab.run(&["lineage", "inputs", "m", "--index", "junk.db"]);
    assert_eq!(junk.code, 3, "{junk:?}");
    // The default index lives in the user's data directory.
    lab.artifact("d", "data");
    let run = lab.run(&[
        "lineage",
        "add",
        "--policy",
        "policy.yaml",
        "d",
        "--signature",
        "d.sig",
    ]);
    run.ok("add to the default index");
    assert!(lab.dir().join("xdg/model-signing/lineage.db").is_file());
}

#[test]
fn conditions_ask_the_index_who_signed_the_training_data() {
    let lab = Lab::chain();
    lab.artifact("unsigned-data", "rogue");
    lab.artifact("m2", "release");
    lab.trained(
        "m2",
        "trainer",
        &[("--dataset", "data"), ("--dataset", "unsigned-data")],
    );
    lab.write(
        "gate.yaml",
        &format!(
            "version: 1
signers:
  release: {{key: release.pub}}
  data-team: {{key: data.pub}}
  trainer: {{key: trainer.pub}}
model:
  signers: [release]
claims:
  - id: training-data
    predicate_type: {SLSA}
    signers: [trainer]
    condition: >-
      predicate.buildDefinition.resolvedDependencies
        .filter(d, d.annotations.kind == 'dataset')
        .all(d, signed_by(d.digest.sha256, 'data-team'))
"
        ),
    );
    let gate = |model: &str, index: bool| {
        let claims = format!("{model}.claims");
        let sig = format!("{model}.sig");
        let mut args = vec![
            "verify",
            "--policy",
            "gate.yaml",
            model,
            "--signature",
            &sig,
            "--claims",
            &claims,
            "--json",
        ];
        if index {
            args.extend(["--index", "lineage.db"]);
        }
        lab.run(&args)
    };
    // a was trained on data, which the index knows the data team signed.
    let ok = gate("a", true);
    assert_eq!(ok.code, 0, "{ok:?}");
    // Without the index nothing is known to be signed: denied.
    let blind = gate("a", false);
    assert_eq!(blind.code, 1, "{blind:?}");
    assert!(blind.stdout.contains("the condition is false"), "{blind:?}");
    // m2 was also trained on a dataset nobody trusted signed.
    let mixed = gate("m2", true);
    assert_eq!(mixed.code, 1, "{mixed:?}");
}

//! `attest` and `predicate` from the command line: the certificate method,
//! the training and CycloneDX predicates end to end, the text report of
//! `verify --claims`, and every way `attest` refuses its input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use model_signing::keys::KeyAlgorithm;
use serde_json::Value;
use testkit::{Pki, Run};

struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        testkit::small_model(tmp.path());
        let data = tmp.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        std::fs::write(data.join("train.jsonl"), "{\"text\": \"a\"}\n").expect("write");
        let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
        std::fs::write(tmp.path().join("key.pem"), key.to_pkcs8_pem().as_bytes()).expect("key");
        std::fs::write(tmp.path().join("key.pub"), testkit::public(&key).to_pem()).expect("key");
        let f = Fixture { tmp };
        f.run(&["sign", "key", "model", "--private-key", "key.pem"])
            .ok("sign the model");
        f.run(&[
            "sign",
            "key",
            "data",
            "--private-key",
            "key.pem",
            "--signature",
            "data.sig",
        ])
        .ok("sign the dataset");
        f
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_model-signing"))
                .args(args)
                .current_dir(self.dir())
                .stdin(Stdio::null())
                .output()
                .expect("model-signing runs"),
        )
    }

    fn attest_key(&self, extra: &[&str]) -> Run {
        let mut args = vec!["attest", "key", "model", "--private-key", "key.pem"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn verify_claims(&self, extra: &[&str]) -> Run {
        let mut args = vec![
            "verify",
            "key",
            "model",
            "--public-key",
            "key.pub",
            "--claims",
            "claims.jsonl",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

#[test]
fn training_provenance_and_a_cyclonedx_bom_from_the_command_line() {
    let f = Fixture::new();
    std::fs::write(f.path("params.json"), r#"{"learning_rate": 0.001}"#).expect("write");
    f.run(&[
        "predicate",
        "training",
        "--builder-id",
        "https://ci.example.com/train",
        "--dataset",
        "data.sig",
        "--parameters",
        "params.json",
        "-o",
        "train.json",
    ])
    .ok("predicate training");
    let train: Value =
        serde_json::from_str(&std::fs::read_to_string(f.path("train.json")).expect("read"))
            .expect("JSON");
    assert_eq!(train["predicateType"], "https://slsa.dev/provenance/v1");
    let dep = &train["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(dep["name"], "data");
    assert_eq!(dep["annotations"]["kind"], "dataset");
    let inspect: Value = serde_json::from_str(
        &f.run(&["inspect", "data.sig", "--json"])
            .ok("inspect")
            .stdout,
    )
    .expect("JSON");
    assert_eq!(
        dep["annotations"]["rootDigest"], inspect["digest"],
        "{inspect}"
    );

    let bom = f
        .run(&[
            "predicate",
            "cyclonedx",
            "--model-signature",
            "model.sig",
            "--dataset",
            "data.sig",
        ])
        .ok("predicate cyclonedx");
    std::fs::write(f.path("bom.json"), &bom.stdout).expect("write");
    let bom: Value = serde_json::from_str(&bom.stdout).expect("JSON");
    assert_eq!(bom["predicate"]["bomFormat"], "CycloneDX");
    assert_eq!(bom["predicate"]["components"][0]["type"], "data");

    f.attest_key(&["--predicate", "train.json"])
        .ok("attest training");
    f.attest_key(&["--predicate", "bom.json"]).ok("attest BOM");
    let run = f.verify_claims(&[]).ok("verify claims");
    // The text report: one line per claim, with its type and signer.
    assert!(
        run.stdout.contains("Claims in claims.jsonl: 2 valid of 2"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("line 1: valid  https://slsa.dev/provenance/v1, signed by key "),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("line 2: valid  https://cyclonedx.org/bom, signed by key "),
        "{run:?}"
    );
    assert!(run.stdout.contains("Verification succeeded"), "{run:?}");
}

#[test]
fn certificate_claims_verify_against_their_ca() {
    let f = Fixture::new();
    let pki = Pki::new(KeyAlgorithm::EcdsaP384Sha384).write(&f.path("pki"));
    std::fs::write(
        f.path("eval.json"),
        r#"{"results": [{"task": "t", "dataset": "d", "metric": "m", "value": 1}]}"#,
    )
    .expect("write");
    f.run(&[
        "attest",
        "certificate",
        "model",
        "--private-key",
        pki.key.to_str().expect("utf-8"),
        "--signing-certificate",
        pki.leaf.to_str().expect("utf-8"),
        "--certificate-chain",
        pki.chain.to_str().expect("utf-8"),
        "--predicate-type",
        "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#evaluation-v1",
        "--predicate",
        "eval.json",
    ])
    .ok("attest certificate");
    // Untrusted until its CA is named.
    let run = f.verify_claims(&[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("NOT VALID (signature failed)"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("1 of 1 claims in claims.jsonl are not valid"),
        "{run:?}"
    );
    let run = f
        .verify_claims(&[
            "--claim-certificate-chain",
            pki.root.to_str().expect("utf-8"),
            "--json",
        ])
        .ok("with the CA");
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["claims"][0]["signer"]["kind"], "certificate", "{doc}");
}

#[test]
fn attest_refuses_what_it_cannot_vouch_for() {
    let f = Fixture::new();
    let card =
        "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#model-card-v1";
    let eval =
        "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#evaluation-v1";
    std::fs::write(f.path("obj.json"), r#"{"ok": true}"#).expect("write");
    std::fs::write(f.path("list.json"), "[1, 2]").expect("write");
    std::fs::write(f.path("bad.json"), "{not json").expect("write");
    std::fs::write(f.path("bad-eval.json"), r#"{"results": []}"#).expect("write");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        // A bare predicate needs its type.
        (vec!["--predicate", "obj.json"], 2, "--predicate-type"),
        (
            vec!["--predicate-type", "not a uri", "--predicate", "obj.json"],
            2,
            "is not a URI",
        ),
        (
            vec!["--predicate-type", "urn:x:y", "--predicate", "list.json"],
            2,
            "JSON object",
        ),
        (
            vec!["--predicate-type", "urn:x:y", "--predicate", "bad.json"],
            2,
            "not valid JSON",
        ),
        (
            vec!["--predicate-type", "urn:x:y", "--predicate", "absent.json"],
            3,
            "absent.json",
        ),
        // A known type must be well formed.
        (
            vec!["--predicate-type", eval, "--predicate", "bad-eval.json"],
            2,
            "at least one result",
        ),
        (
            vec!["--predicate-type", card, "--predicate", "obj.json"],
            2,
            "frontMatter",
        ),
        // No signature to bind to.
        (
            vec![
                "--predicate-type",
                "urn:x:y",
                "--predicate",
                "obj.json",
                "--signature",
                "absent.sig",
            ],
            3,
            "absent.sig",
        ),
    ];
    for (extra, code, needle) in &cases {
        let run = f.attest_key(extra);
        assert_eq!(run.code, *code, "{extra:?}: {run:?}");
        assert!(
            run.stderr.contains(needle),
            "{extra:?}: {needle:?} not in {run:?}"
        );
    }
    assert!(!f.path("claims.jsonl").exists(), "no claim was written");
    // A model that no longer matches its signature.
    std::fs::write(f.path("model/a.bin"), b"changed").expect("write");
    let run = f.attest_key(&["--predicate-type", "urn:x:y", "--predicate", "obj.json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("does not match its signature"),
        "{run:?}"
    );
    assert!(!f.path("claims.jsonl").exists(), "no claim was written");
    // `predicate` refuses inputs it cannot read.
    std::fs::write(f.path("README.md"), "# no front matter\n").expect("write");
    for (args, needle) in [
        (
            vec!["predicate", "model-card", "README.md"],
            "no YAML front matter",
        ),
        (
            vec!["predicate", "evaluation", "README.md"],
            "neither JSON nor a README",
        ),
        (
            vec![
                "predicate",
                "training",
                "--builder-id",
                "nope",
                "--dataset",
                "data.sig",
            ],
            "not a URI",
        ),
        (
            vec!["predicate", "cyclonedx", "--model-signature", "absent.sig"],
            "absent.sig",
        ),
    ] {
        let run = f.run(&args);
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(needle),
            "{args:?}: {needle:?} not in {run:?}"
        );
    }
}

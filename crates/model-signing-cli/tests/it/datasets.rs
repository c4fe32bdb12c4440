//! Datasets are directory trees too: `digest`, `sign`, `verify` and `attest`
//! on a dataset of many small shards in the Hugging Face cache
//! (`hf://datasets/ORG/NAME[@REVISION]`, stored as `datasets--ORG--NAME`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use model_signing::keys::KeyAlgorithm;
use serde_json::Value;
use sha2::{Digest, Sha256};
use testkit::hf_support::{commit_hash, CachedRepo, HubFile};
use testkit::Run;

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

const SHARDS: usize = 150;

/// The files of a dataset: a card, JSONL and Parquet shards (many small files).
fn dataset_files(edit: Option<usize>) -> Vec<HubFile> {
    let mut files = vec![HubFile::git(
        "README.md",
        b"---\nlicense: cc-by-4.0\ntask_categories: [text-classification]\n---\n# reviews\n",
    )];
    for i in 0..SHARDS {
        let mut jsonl = String::new();
        for row in 0..20 {
            let label = (i + row) % 2;
            let text = if edit == Some(i) && row == 0 {
                "poisoned"
            } else {
                "fine"
            };
            jsonl.push_str(&format!(
                "{{\"id\": {}, \"text\": \"{text} {row}\", \"label\": {label}}}\n",
                i * 20 + row
            ));
        }
        files.push(HubFile::git(
            &format!("data/train-{i:05}-of-{SHARDS:05}.jsonl"),
            jsonl.as_bytes(),
        ));
        // Parquet framing ("PAR1" at both ends) around a payload: the bytes
        // matter to the signature, not the format.
        let mut parquet = b"PAR1".to_vec();
        parquet.extend(testkit::pattern(300 + i, (i % 250) as u8));
        parquet.extend_from_slice(b"PAR1");
        files.push(HubFile::lfs(
            &format!("data/test-{i:05}-of-{SHARDS:05}.parquet"),
            &parquet,
        ));
    }
    files
}

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    cache: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        let cache = root.join("hub");
        let repo = CachedRepo::new_dataset(&cache, "acme/reviews", sha256);
        let v1 = commit_hash("v1");
        repo.add_commit(&v1, &dataset_files(None));
        repo.set_ref("main", &v1);
        repo.set_ref("v1", &v1);
        let v2 = commit_hash("v2");
        repo.add_commit(&v2, &dataset_files(Some(7)));
        repo.set_ref("v2", &v2);
        let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
        std::fs::write(root.join("key.pem"), key.to_pkcs8_pem().as_bytes()).expect("key");
        std::fs::write(root.join("key.pub"), testkit::public(&key).to_pem()).expect("key");
        Setup {
            _tmp: tmp,
            root,
            cache,
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_model-signing"))
                .args(args)
                .current_dir(&self.root)
                .env("HF_HUB_CACHE", &self.cache)
                .stdin(Stdio::null())
                .output()
                .expect("model-signing runs"),
        )
    }

    fn json(&self, args: &[&str]) -> Value {
        let run = self.run(args).ok(&format!("{args:?}"));
        serde_json::from_str(&run.stdout).expect("JSON")
    }
}

fn snapshot(cache: &Path, commit: &str) -> PathBuf {
    cache.join("datasets--acme--reviews/snapshots").join(commit)
}

#[test]
fn a_dataset_in_the_hub_cache_is_digested_signed_verified_and_attested() {
    let s = Setup::new();
    let by_name = s.json(&["digest", "hf://datasets/acme/reviews", "--json"]);
    let by_path = s.json(&[
        "digest",
        snapshot(&s.cache, &commit_hash("v1"))
            .to_str()
            .expect("utf-8"),
        "--json",
    ]);
    assert_eq!(by_name["digest"], by_path["digest"]);
    assert_eq!(
        by_name["resources"].as_array().map(Vec::len),
        Some(1 + 2 * SHARDS)
    );

    let signed = s.json(&[
        "sign",
        "key",
        "hf://datasets/acme/reviews@v1",
        "--private-key",
        "key.pem",
        "--signature",
        "reviews.sig",
        "--json",
    ]);
    assert_eq!(signed["resources"], 1 + 2 * SHARDS);
    assert_eq!(signed["digest"], by_name["digest"]);
    let inspect = s.json(&["inspect", "reviews.sig", "--json"]);
    assert_eq!(inspect["model_name"], "reviews", "{inspect}");

    s.run(&[
        "verify",
        "key",
        "hf://datasets/acme/reviews",
        "--public-key",
        "key.pub",
        "--signature",
        "reviews.sig",
    ])
    .ok("verify by name");
    // The revision with one poisoned row does not match.
    let run = s.run(&[
        "verify",
        "key",
        "hf://datasets/acme/reviews@v2",
        "--public-key",
        "key.pub",
        "--signature",
        "reviews.sig",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        doc["differences"]["changed"][0]["path"], "data/train-00007-of-00150.jsonl",
        "{doc}"
    );

    // A claim about the dataset: its card.
    let card = s.run(&[
        "predicate",
        "model-card",
        snapshot(&s.cache, &commit_hash("v1"))
            .join("README.md")
            .to_str()
            .expect("utf-8"),
    ]);
    std::fs::write(s.root.join("card.json"), card.ok("card").stdout).expect("write");
    s.run(&[
        "attest",
        "key",
        "hf://datasets/acme/reviews",
        "--private-key",
        "key.pem",
        "--signature",
        "reviews.sig",
        "--claims",
        "reviews.claims.jsonl",
        "--predicate",
        "card.json",
    ])
    .ok("attest");
    let doc = s.json(&[
        "verify",
        "key",
        "hf://datasets/acme/reviews",
        "--public-key",
        "key.pub",
        "--signature",
        "reviews.sig",
        "--claims",
        "reviews.claims.jsonl",
        "--json",
    ]);
    assert_eq!(doc["claims"][0]["verdict"], "valid", "{doc}");
    assert_eq!(
        doc["claims"][0]["predicate"]["frontMatter"]["license"],
        "cc-by-4.0"
    );
}

#[test]
fn dataset_references_are_checked() {
    let s = Setup::new();
    // A model of that name is another repository.
    let run = s.run(&["digest", "hf://acme/reviews"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("models--acme--reviews"), "{run:?}");
    let run = s.run(&["digest", "hf://datasets/acme/absent"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("--repo-type dataset"), "{run:?}");
    let run = s.run(&["digest", "hf://datasets/acme/reviews@v9"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("unknown revision"), "{run:?}");
    for bad in [
        "hf://datasets/",
        "hf://datasets/a/b/c",
        "hf://datasets/acme/../x",
        "hf://datasets/acme/re--views",
        "hf://datasets/acme/reviews@../../x",
    ] {
        let run = s.run(&["digest", bad]);
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(
            run.stderr.contains("invalid Hugging Face reference"),
            "{bad}: {run:?}"
        );
    }
}

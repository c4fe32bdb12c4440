//! Two-way interoperability of signing and verification with the Python
//! reference (`model-signing` 1.1.1), through its Python API with a matching
//! hashing configuration (its command line can only re-hash with files and
//! SHA-256; the command line interop is in the CLI crate's tests):
//!
//! - the reference signs, this library verifies (and computes the same root digest);
//! - this library signs, the reference verifies.
//!
//! The cases cover files and shards, SHA-256, BLAKE2b and BLAKE3, a
//! single-file model, nested and non-ASCII names, an empty file, ignore
//! paths, allowed symbolic links, the three curves, and both the key and the
//! certificate (root -> intermediate -> leaf) methods. All reference calls of
//! one direction run in a single Python process.

use testkit as support;

use std::path::{Path, PathBuf};

use model_signing::bundle::Bundle;
use model_signing::hashing::{HashAlgorithm, HashConfig, NoProgress};
use model_signing::keys::KeyAlgorithm;
use model_signing::verify::{
    verify_bundle, CertificateVerifier, KeyVerifier, ModelCheckOptions, SignatureVerifier,
    VerifyError,
};
use model_signing::Manifest;
use serde_json::{json, Value};
use support::{path_str, public, reference, Key, Pki};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    Rich,
    SingleFile,
    Ignoring,
    Symlinks,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Method {
    Key,
    Certificate,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    model: Model,
    hash: HashAlgorithm,
    shard_size: Option<u64>,
    curve: KeyAlgorithm,
    method: Method,
}

const P256: KeyAlgorithm = KeyAlgorithm::EcdsaP256Sha256;
const P384: KeyAlgorithm = KeyAlgorithm::EcdsaP384Sha384;
const P521: KeyAlgorithm = KeyAlgorithm::EcdsaP521Sha512;

const fn c(
    model: Model,
    hash: HashAlgorithm,
    shard_size: Option<u64>,
    curve: KeyAlgorithm,
    method: Method,
) -> Case {
    Case {
        model,
        hash,
        shard_size,
        curve,
        method,
    }
}

/// Every hashing configuration, model shape, curve and method at least once.
const CASES: [Case; 13] = [
    c(Model::Rich, HashAlgorithm::Sha256, None, P256, Method::Key),
    c(
        Model::Rich,
        HashAlgorithm::Blake2b,
        None,
        P384,
        Method::Certificate,
    ),
    c(Model::Rich, HashAlgorithm::Blake3, None, P521, Method::Key),
    c(
        Model::Rich,
        HashAlgorithm::Sha256,
        Some(7),
        P256,
        Method::Certificate,
    ),
    c(
        Model::Rich,
        HashAlgorithm::Blake2b,
        Some(5),
        P384,
        Method::Key,
    ),
    // The reference hashes BLAKE3 per file even when asked for shards.
    c(
        Model::Rich,
        HashAlgorithm::Blake3,
        Some(16),
        P521,
        Method::Certificate,
    ),
    c(
        Model::SingleFile,
        HashAlgorithm::Sha256,
        None,
        P256,
        Method::Certificate,
    ),
    c(
        Model::SingleFile,
        HashAlgorithm::Blake2b,
        Some(4),
        P521,
        Method::Key,
    ),
    c(
        Model::Ignoring,
        HashAlgorithm::Sha256,
        None,
        P256,
        Method::Key,
    ),
    c(
        Model::Ignoring,
        HashAlgorithm::Sha256,
        Some(6),
        P384,
        Method::Certificate,
    ),
    c(
        Model::Ignoring,
        HashAlgorithm::Blake3,
        None,
        P256,
        Method::Certificate,
    ),
    c(
        Model::Symlinks,
        HashAlgorithm::Blake2b,
        None,
        P384,
        Method::Key,
    ),
    c(
        Model::Symlinks,
        HashAlgorithm::Sha256,
        Some(8),
        P521,
        Method::Certificate,
    ),
];

const IGNORED: [&str; 2] = ["ignored-dir", "notes.txt"];

impl Case {
    fn name(&self, i: usize) -> String {
        format!(
            "{i:02}-{:?}-{}-{}-{}-{:?}",
            self.model,
            self.hash,
            self.shard_size
                .map_or("files".to_owned(), |s| format!("shards{s}")),
            self.curve.curve_name(),
            self.method
        )
    }

    fn ignores(&self) -> Vec<&'static str> {
        if self.model == Model::Ignoring {
            IGNORED.to_vec()
        } else {
            Vec::new()
        }
    }

    /// The configuration both sides hash with (BLAKE3 is never sharded).
    fn config(&self) -> HashConfig {
        let mut config = HashConfig::new()
            .algorithm(self.hash)
            .allow_symlinks(self.model == Model::Symlinks)
            .ignore_paths(self.ignores())
            .expect("ignore paths");
        if let (Some(size), false) = (self.shard_size, self.hash == HashAlgorithm::Blake3) {
            config = config.shards(size).expect("shard size");
        }
        config
    }
}

/// One case's directory: the model, the keys and certificates.
struct Prepared {
    case: Case,
    name: String,
    dir: PathBuf,
    model: PathBuf,
    key: Option<Key>,
    pki: Option<Pki>,
}

fn make_model(dir: &Path, model: Model) -> PathBuf {
    let rich = support::rich_model(dir);
    match model {
        Model::Rich => rich,
        Model::SingleFile => rich.join("weights/layer-0.bin"),
        Model::Ignoring => {
            support::write_files(
                &rich,
                &[
                    ("ignored-dir/scratch.bin", b"scratch"),
                    ("ignored-dir/deeper/log.txt", b"log"),
                    ("notes.txt", b"notes\n"),
                ],
            );
            rich
        }
        Model::Symlinks => {
            std::os::unix::fs::symlink("README.md", rich.join("link-to-readme")).expect("symlink");
            std::os::unix::fs::symlink("../config.json", rich.join("weights/link-to-config"))
                .expect("symlink");
            rich
        }
    }
}

fn prepare(root: &Path) -> Vec<Prepared> {
    CASES
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let name = case.name(i);
            let dir = root.join(&name);
            std::fs::create_dir_all(&dir).expect("mkdir");
            let model = make_model(&dir, case.model);
            let (key, pki) = match case.method {
                Method::Key => {
                    let key = support::key(case.curve);
                    std::fs::write(dir.join("key.pem"), key.to_pkcs8_pem().as_bytes())
                        .expect("write key");
                    std::fs::write(dir.join("key.pub"), public(&key).to_pem()).expect("write");
                    (Some(key), None)
                }
                Method::Certificate => {
                    let pki = Pki::new(case.curve);
                    pki.write(&dir.join("pki"));
                    (None, Some(pki))
                }
            };
            Prepared {
                case: *case,
                name,
                dir,
                model,
                key,
                pki,
            }
        })
        .collect()
}

/// The reference job for `op` (`sign` or `verify`) of `signature`.
fn job(p: &Prepared, op: &str, signature: &Path, model: &Path) -> Value {
    let pki = p.dir.join("pki");
    json!({
        "name": format!("{op} {}", p.name),
        "op": op,
        "model": path_str(model),
        "signature": path_str(signature),
        "method": if p.case.method == Method::Key { "key" } else { "certificate" },
        "private_key": path_str(&if p.case.method == Method::Key { p.dir.join("key.pem") } else { pki.join("leaf-key.pem") }),
        "public_key": path_str(&p.dir.join("key.pub")),
        "signing_certificate": path_str(&pki.join("leaf.pem")),
        "chain": [path_str(&pki.join("intermediate.pem"))],
        "roots": [path_str(&pki.join("root.pem"))],
        "hash": p.case.hash.name(),
        "shard_size": p.case.shard_size,
        "ignore": p.case.ignores(),
        "symlinks": p.case.model == Model::Symlinks,
    })
}

fn verifier(p: &Prepared) -> Box<dyn SignatureVerifier> {
    match (&p.key, &p.pki) {
        (Some(key), _) => Box::new(KeyVerifier::new(public(key).clone())),
        (_, Some(pki)) => Box::new(CertificateVerifier::new(vec![pki.root.clone()])),
        _ => unreachable!("a key or a chain"),
    }
}

fn verify_here(p: &Prepared, signature: &Path) -> Result<usize, VerifyError> {
    let bundle = Bundle::from_json(&std::fs::read(signature).expect("read signature"))?;
    let verified = verify_bundle(&bundle, verifier(p).as_ref())?;
    let root = verified.value().root_digest.clone();
    let checked = verified.check_model(
        &p.model,
        &ModelCheckOptions {
            ignore_git_paths: true,
            ..ModelCheckOptions::default()
        },
        &NoProgress,
    )?;
    // Same resources in the same order: the same root digest as ours.
    let ours = Manifest::hash(&p.model, &p.case.config(), &NoProgress).expect("hash");
    assert_eq!(root, ours.root_digest_hex(), "{}: root digest", p.name);
    Ok(checked.resources_checked)
}

#[test]
fn reference_signs_library_verifies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases = prepare(tmp.path());
    let jobs: Vec<Value> = cases
        .iter()
        .map(|p| job(p, "sign", &p.dir.join("reference.sig"), &p.model))
        .collect();
    let results = reference::run_api(tmp.path(), &Value::Array(jobs));
    let mut failures = Vec::new();
    for p in &cases {
        let result = &results[&format!("sign {}", p.name)];
        if result != "ok" {
            failures.push(format!(
                "{}: the reference failed to sign: {result}",
                p.name
            ));
            continue;
        }
        match verify_here(p, &p.dir.join("reference.sig")) {
            Ok(n) => assert!(n > 0),
            Err(e) => failures.push(format!("{}: {e:?}", p.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A control: the reference's signature no longer verifies once a signed
    // file changes.
    let p = &cases[0];
    std::fs::write(p.model.join("weights/layer-1.bin"), b"changed").expect("write");
    match verify_here(p, &p.dir.join("reference.sig")) {
        Err(VerifyError::ModelMismatch(r)) => {
            assert_eq!(r.changed.len(), 1);
            assert_eq!(r.changed[0].name, "weights/layer-1.bin");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn library_signs_reference_verifies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases = prepare(tmp.path());
    let mut jobs = Vec::new();
    for p in &cases {
        let config = p.case.config();
        let bundle = match (&p.key, &p.pki) {
            (Some(key), _) => support::sign_with_key(&p.model, &config, key),
            (_, Some(pki)) => support::sign_with_pki(&p.model, &config, pki),
            _ => unreachable!("a key or a chain"),
        };
        let signature = p.dir.join("ours.sig");
        std::fs::write(&signature, bundle.to_json()).expect("write signature");
        jobs.push(job(p, "verify", &signature, &p.model));
    }
    // Controls, which the reference must reject: a changed file, and a
    // signature checked with another key.
    let changed = &cases[3];
    let copy = changed.dir.join("changed-copy");
    testkit::copy_dir(&changed.model, &copy);
    std::fs::write(copy.join("README.md"), b"changed\n").expect("write");
    let mut control = job(changed, "verify", &changed.dir.join("ours.sig"), &copy);
    control["name"] = json!("control: changed file");
    jobs.push(control);
    let mut control = job(
        &cases[0],
        "verify",
        &cases[0].dir.join("ours.sig"),
        &cases[0].model,
    );
    control["name"] = json!("control: another key");
    control["public_key"] = json!(path_str(&cases[2].dir.join("key.pub")));
    jobs.push(control);

    let results = reference::run_api(tmp.path(), &Value::Array(jobs));
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|p| {
            let r = &results[&format!("verify {}", p.name)];
            (r != "ok").then(|| format!("{}: {r}", p.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "the reference rejected:\n{}",
        failures.join("\n")
    );
    for control in ["control: changed file", "control: another key"] {
        let r = results[control].as_str().expect("result");
        assert!(r.starts_with("error"), "{control}: {r}");
    }
    assert!(
        results["control: changed file"]
            .as_str()
            .is_some_and(|r| r.contains("README.md")),
        "{results:?}"
    );
}

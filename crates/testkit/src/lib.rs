//! Test helpers shared by the integration tests of every crate of the
//! workspace (`crates/*/tests/it/`): not published, not API.
//!
//! - [`certs`]: certificate chains and keys made at test time.
//! - [`reference`](mod@reference): the Python reference implementation's virtual environment.
//! - [`matrix`]: the data-driven table of verification cases.
//! - [`third_party`], [`golden`], [`oms_vectors`], [`trust`]: the third-party
//!   test data in `testdata/third_party/`.
//! - [`skip_support`]: the one policy for a test whose prerequisite is missing.
//! - [`hf_support`], [`sha1_support`]: Hugging Face layouts on disk.
//! - [`softhsm`]: SoftHSM2 tokens made at test time.
//! - [`oci`]: OCI image layouts and a loopback `docker-registry`.
//! - [`go`]: RSA and Ed25519ph signatures made as the Go implementation of
//!   OMS makes them, by OpenSSL and `ed25519-dalek`.

pub mod certs;
pub mod go;
pub mod hf_support;
pub mod matrix;
pub mod oci;
pub mod oci_server;
pub mod reference;
pub mod run;
pub mod sha1_support;
pub mod skip_support;
pub mod softhsm;
pub mod third_party_support;
pub mod tsa;

use std::path::{Path, PathBuf};

use model_signing::bundle::Bundle;
use model_signing::dsse::{pae, Envelope, IN_TOTO_PAYLOAD_TYPE};
use model_signing::hashing::{HashConfig, NoProgress};
use model_signing::keys::SigningKey;
use model_signing::sign::{sign_model, CertificateSigner, KeySigner};
use serde_json::Value;

pub use certs::{key, now, public, Key, Pki, PkiSpec};
pub use run::Run;
pub use third_party_support::{golden, oms_vectors, third_party, trust};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// `testdata/sign-verify/<name>`.
pub fn testdata(name: &str) -> PathBuf {
    root().join("testdata/sign-verify").join(name)
}

/// Writes `files` (path relative to `dir`, contents) creating directories.
pub fn write_files(dir: &Path, files: &[(&str, &[u8])]) {
    for (name, data) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Bytes `0, 1, 2, ...` (mod 251), `len` of them.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((i + usize::from(seed)) % 251).expect("byte"))
        .collect()
}

/// A small model with nested and non-ASCII names, a name with a space, a
/// name with a colon, an empty file, and files larger than small shards.
pub fn rich_model(dir: &Path) -> PathBuf {
    let model = dir.join("rich-model");
    write_files(
        &model,
        &[
            ("README.md", b"# a model\n"),
            ("config.json", b"{\"layers\": 2}\n"),
            ("weights/layer-0.bin", &pattern(40, 0)),
            ("weights/layer-1.bin", &pattern(13, 7)),
            ("weights/deep/er/bias.bin", &pattern(7, 3)),
            ("tokenizer/vocab with space.txt", b"a b c\n"),
            ("ünïcode/日本語.txt", "こんにちは\n".as_bytes()),
            ("A", b"upper\n"),
            ("a-b", b"dash\n"),
            ("empty.txt", b""),
        ],
    );
    model
}

/// Three small files: `a.bin`, `b.bin` and `sub/c.txt`.
pub fn small_model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    write_files(
        &model,
        &[
            ("a.bin", &pattern(20, 1)),
            ("b.bin", &pattern(9, 2)),
            ("sub/c.txt", b"third file\n"),
        ],
    );
    model
}

/// A model written to a temporary directory and signed with a fresh P-256
/// key.
pub struct SignedModel {
    /// Removed when dropped.
    pub dir: tempfile::TempDir,
    /// `<dir>/model`.
    pub model: PathBuf,
    /// The signing key.
    pub key: Key,
    /// The signature.
    pub bundle: Bundle,
}

/// Writes `files` into a new model directory and signs it under `config`.
pub fn signed_model(files: &[(&str, &[u8])], config: &HashConfig) -> SignedModel {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    write_files(&model, files);
    let key = key(model_signing::keys::KeyAlgorithm::EcdsaP256Sha256);
    let bundle = sign_with_key(&model, config, &key);
    SignedModel {
        dir,
        model,
        key,
        bundle,
    }
}

/// Copies the tree at `from` to `to` (created), files made writable (a
/// copy of read-only test data can then be changed).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
            let mut perms = std::fs::metadata(&dest).expect("stat").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&dest, perms).expect("chmod");
        }
    }
}

/// Hashes `model` under `config` and signs it with `key`.
pub fn sign_with_key(model: &Path, config: &HashConfig, key: &Key) -> Bundle {
    let signer = KeySigner::new(Box::new(key.clone())).expect("key signer");
    sign_model(model, config, &signer, &NoProgress)
        .expect("sign")
        .0
}

/// Hashes `model` under `config` and signs it with the chain's leaf.
pub fn sign_with_pki(model: &Path, config: &HashConfig, pki: &Pki) -> Bundle {
    let signer = CertificateSigner::new(
        Box::new(pki.leaf_key.clone()),
        pki.leaf.clone(),
        pki.chain(),
        now(),
    )
    .expect("certificate signer");
    sign_model(model, config, &signer, &NoProgress)
        .expect("sign")
        .0
}

/// The statement a bundle carries, as JSON.
pub fn statement(bundle: &Bundle) -> Value {
    serde_json::from_slice(&bundle.envelope.payload).expect("payload is JSON")
}

/// A bundle with the same verification material, carrying `payload` of
/// `payload_type`, signed (over the DSSE PAE) by `key`.
pub fn resign_raw(template: &Bundle, payload_type: &str, payload: Vec<u8>, key: &Key) -> Bundle {
    let signature = SigningKey::sign(&**key, &pae(payload_type, &payload)).expect("sign");
    Bundle::new(
        template.material.clone(),
        Envelope {
            payload,
            payload_type: payload_type.to_owned(),
            signature,
            keyid: Some(String::new()),
        },
    )
}

/// A bundle whose statement is changed by `mutate`, signed again by `key` so
/// that the signature verifies and the payload checks are reached.
pub fn resign(template: &Bundle, key: &Key, mutate: impl FnOnce(&mut Value)) -> Bundle {
    let mut st = statement(template);
    mutate(&mut st);
    let payload = serde_json::to_vec_pretty(&st).expect("JSON");
    resign_raw(template, IN_TOTO_PAYLOAD_TYPE, payload, key)
}

/// Sets the subject digest to the SHA-256 of the resource digests in listed
/// order, so that a mutated statement stays self-consistent.
pub fn fix_root(statement: &mut Value) {
    let mut all = Vec::new();
    if let Some(resources) = statement["predicate"]["resources"].as_array() {
        for r in resources {
            if let Some(bytes) = r["digest"].as_str().and_then(|d| hex::decode(d).ok()) {
                all.extend_from_slice(&bytes);
            }
        }
    }
    let root = model_signing::keys::DigestAlgorithm::Sha256.digest(&all);
    statement["subject"][0]["digest"]["sha256"] = Value::String(hex::encode(root));
}

/// The bundle as JSON changed by `mutate` (no new signature).
pub fn edit_json(bundle: &Bundle, mutate: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(&bundle.to_json()).expect("bundle JSON");
    mutate(&mut v);
    serde_json::to_vec_pretty(&v).expect("JSON")
}

/// Whether `haystack` contains every one of `needles`.
pub fn contains_all(haystack: &str, needles: &[&str]) -> bool {
    needles.iter().all(|n| haystack.contains(n))
}

//! Hugging Face layouts, without extra flags: a model in the hub cache
//! (`hf://ORG/NAME[@REVISION]` or its snapshot directory), a `--local-dir`
//! download and a plain copy all verify against one signature, whichever of
//! them was signed; links leaving the repository's cache folder are refused;
//! `.cache/huggingface` is ignored and recorded. The cache is built on disk
//! as the hub client writes it (see `hf_support`).

use testkit::hf_support;
use testkit::Run;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use hf_support::{commit_hash, write_local_dir, write_plain, CachedRepo, HubFile};
use model_signing::bundle::Bundle;
use model_signing::hashing::HashAlgorithm;
use model_signing::keys::{EcPrivateKey, KeyAlgorithm};
use serde_json::{json, Value};

/// Every variable that locates the Hugging Face cache.
const HF_VARS: [&str; 4] = [
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_HOME",
    "XDG_CACHE_HOME",
];

const DEFAULT_IGNORES: [&str; 5] = [
    ".cache/huggingface",
    ".git",
    ".gitattributes",
    ".github",
    ".gitignore",
];

fn sha256(data: &[u8]) -> Vec<u8> {
    HashAlgorithm::Sha256.digest(data)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 test path")
}

/// The files of commit `one` of `acme/tiny` (`main`).
fn files_one() -> Vec<HubFile> {
    vec![
        HubFile::git(
            ".gitattributes",
            b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
        ),
        HubFile::git("README.md", b"# tiny\n"),
        HubFile::git("config.json", b"{\"model_type\": \"tiny\"}\n"),
        HubFile::lfs("model.safetensors", &[7u8; 4096]),
        HubFile::git("tokenizer/tokenizer.json", b"{\"version\": \"1.0\"}\n"),
        HubFile::lfs("onnx/fp16/model.onnx", &[3u8; 2048]),
    ]
}

/// The files of commit `two` (tag `v1.0`): the weights differ.
fn files_two() -> Vec<HubFile> {
    let mut f = files_one();
    f[3] = HubFile::lfs("model.safetensors", &[5u8; 4096]);
    f
}

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    /// `HF_HUB_CACHE`.
    cache: PathBuf,
    repo: CachedRepo,
    commit: String,
    commit_two: String,
    snapshot: PathBuf,
    snapshot_two: PathBuf,
    local_dir: PathBuf,
    plain: PathBuf,
    key: PathBuf,
    public: PathBuf,
    sigs: PathBuf,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().canonicalize().expect("canonical tempdir");
    let cache = root.join("hub");
    let repo = CachedRepo::new(&cache, "acme/tiny", sha256);
    let commit = commit_hash("one");
    let commit_two = commit_hash("two");
    let snapshot = repo.add_commit(&commit, &files_one());
    let snapshot_two = repo.add_commit(&commit_two, &files_two());
    repo.set_ref("main", &commit);
    repo.set_ref("v1.0", &commit_two);
    // An optional file a loader asked for and the hub did not have.
    repo.mark_missing(&commit, "generation_config.json");
    let local_dir = root.join("local-dir");
    write_local_dir(&local_dir, &commit, &files_one(), |f| repo.blob_name(f));
    let plain = root.join("plain");
    write_plain(&plain, &files_one());

    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    let key_path = root.join("key.pem");
    let public_path = root.join("key.pub");
    fs::write(&key_path, key.to_pkcs8_pem().as_bytes()).expect("write key");
    fs::write(&public_path, key.public_key().to_pem()).expect("write public key");
    let sigs = root.join("sigs");
    fs::create_dir(&sigs).expect("mkdir");
    fs::create_dir(root.join("home")).expect("mkdir");
    Setup {
        _tmp: tmp,
        root,
        cache,
        repo,
        commit,
        commit_two,
        snapshot,
        snapshot_two,
        local_dir,
        plain,
        key: key_path,
        public: public_path,
        sigs,
    }
}

impl Setup {
    /// Runs ours in the temporary folder with `HOME` there and no cache
    /// variable but `vars`.
    fn run_with(&self, vars: &[(&str, &Path)], args: &[&str]) -> Run {
        self.run_in(&self.root, vars, args)
    }

    /// Runs ours as [`Setup::run_with`] does, in `cwd`.
    fn run_in(&self, cwd: &Path, vars: &[(&str, &Path)], args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
        cmd.args(args)
            .current_dir(cwd)
            .env("HOME", self.root.join("home"))
            .env_remove("MODEL_SIGNING_PASSWORD")
            .stdin(Stdio::null());
        for v in HF_VARS {
            cmd.env_remove(v);
        }
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("model-signing runs");
        Run::from(out)
    }

    /// Runs ours with `HF_HUB_CACHE` set to the test cache.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(&[("HF_HUB_CACHE", &self.cache)], args)
    }

    fn sign(&self, model: &str, sig: &Path) -> Run {
        self.run(&[
            "sign",
            "key",
            model,
            "--private-key",
            s(&self.key),
            "--signature",
            s(sig),
        ])
    }

    fn verify(&self, model: &str, sig: &Path) -> Run {
        self.run(&[
            "verify",
            "key",
            model,
            "--public-key",
            s(&self.public),
            "--signature",
            s(sig),
        ])
    }

    fn sig(&self, name: &str) -> PathBuf {
        self.sigs.join(name)
    }

    fn digest(&self, model: &str) -> String {
        self.run(&["digest", model])
            .ok(model)
            .stdout
            .trim()
            .to_owned()
    }
}

/// The signed in-toto predicate of a signature file.
fn predicate(sig: &Path) -> Value {
    let bundle = Bundle::from_json(&fs::read(sig).expect("read signature")).expect("bundle");
    let statement: Value = serde_json::from_slice(&bundle.envelope.payload).expect("payload");
    statement["predicate"].clone()
}

fn resource_names(predicate: &Value) -> Vec<String> {
    predicate["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect()
}

const NAMES: [&str; 5] = [
    "README.md",
    "config.json",
    "model.safetensors",
    "onnx/fp16/model.onnx",
    "tokenizer/tokenizer.json",
];

#[test]
fn snapshot_signature_verifies_the_local_dir_and_a_plain_copy() {
    let t = setup();
    let sig = t.sig("snapshot.sig");
    t.sign(s(&t.snapshot), &sig).ok("sign the snapshot");
    let p = predicate(&sig);
    assert_eq!(resource_names(&p), NAMES);
    assert_eq!(p["serialization"]["allow_symlinks"], json!(false));
    assert_eq!(p["serialization"]["ignore_paths"], json!(DEFAULT_IGNORES));

    // The same manifest as a signature of the plain copy.
    let plain_sig = t.sig("plain.sig");
    t.sign(s(&t.plain), &plain_sig).ok("sign the plain copy");
    assert_eq!(p, predicate(&plain_sig));

    for model in [&t.snapshot, &t.local_dir, &t.plain] {
        let r = t.verify(s(model), &sig).ok(s(model));
        assert!(r.stdout.contains("Verification succeeded"), "{}", r.stdout);
    }
    // The plain copy's signature verifies the snapshot too.
    t.verify(s(&t.snapshot), &plain_sig)
        .ok("snapshot against the plain signature");
}

#[test]
fn hf_reference_signs_digests_and_verifies() {
    let t = setup();
    let sig = t.sig("hf.sig");
    let r = t.sign("hf://acme/tiny", &sig).ok("sign hf://acme/tiny");
    assert!(r.stdout.contains("hf://acme/tiny"), "{}", r.stdout);
    assert_eq!(resource_names(&predicate(&sig)), NAMES);
    for model in [
        "hf://acme/tiny",
        s(&t.snapshot),
        s(&t.local_dir),
        s(&t.plain),
    ] {
        t.verify(model, &sig).ok(model);
    }
    let digest = t.digest("hf://acme/tiny");
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert_eq!(digest, t.digest(s(&t.snapshot)));
    assert_eq!(digest, t.digest(s(&t.local_dir)));
    assert_eq!(digest, t.digest(s(&t.plain)));
}

/// Runs openssl, which makes the certificates of the certificate method.
use testkit::go::openssl;

#[test]
fn every_method_resolves_hf_references() {
    let t = setup();
    // A CA and a code-signing leaf for our key, made with openssl.
    let pki = t.root.join("pki");
    fs::create_dir(&pki).expect("mkdir");
    let ca_key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    fs::write(pki.join("ca.key"), ca_key.to_pkcs8_pem().as_bytes()).expect("write");
    fs::write(
        pki.join("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
    )
    .expect("write");
    openssl(
        &pki,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            "/CN=HF Test CA",
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        &pki,
        &[
            "req",
            "-new",
            "-key",
            s(&t.key),
            "-subj",
            "/CN=HF Test Signer",
            "-out",
            "leaf.csr",
        ],
    );
    openssl(
        &pki,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    let sig = t.sig("cert.sig");
    t.run(&[
        "sign",
        "certificate",
        "hf://acme/tiny",
        "--private-key",
        s(&t.key),
        "--signing-certificate",
        s(&pki.join("leaf.pem")),
        "--signature",
        s(&sig),
    ])
    .ok("sign certificate hf://");
    for model in ["hf://acme/tiny", s(&t.local_dir), s(&t.plain)] {
        t.run(&[
            "verify",
            "certificate",
            model,
            "--signature",
            s(&sig),
            "--certificate-chain",
            s(&pki.join("ca.pem")),
        ])
        .ok(model);
    }

    // Sigstore verification reads MODEL the same way (it fails before any
    // signature is read).
    let r = t.run(&[
        "verify",
        "sigstore",
        "hf://acme/nope",
        "--signature",
        s(&sig),
        "--identity",
        "someone@example.com",
        "--identity-provider",
        "https://issuer.example.com",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("models--acme--nope"), "{}", r.stderr);
}

#[test]
fn local_dir_and_plain_copy_signatures_verify_the_snapshot() {
    let t = setup();
    for (name, model) in [("local.sig", &t.local_dir), ("plain.sig", &t.plain)] {
        let sig = t.sig(name);
        t.sign(s(model), &sig).ok(name);
        assert_eq!(resource_names(&predicate(&sig)), NAMES, "{name}");
        for other in [
            s(&t.snapshot),
            "hf://acme/tiny",
            "hf://acme/tiny@main",
            s(&t.local_dir),
            s(&t.plain),
        ] {
            t.verify(other, &sig).ok(&format!("{other} against {name}"));
        }
    }
}

#[test]
fn a_subfolder_of_a_snapshot_is_a_snapshot_too() {
    let t = setup();
    let sig = t.sig("onnx.sig");
    t.sign(s(&t.snapshot.join("onnx")), &sig)
        .ok("sign a subfolder");
    assert_eq!(resource_names(&predicate(&sig)), ["fp16/model.onnx"]);
    t.verify(s(&t.plain.join("onnx")), &sig)
        .ok("plain subfolder");
}

// ------------------------------------------------------------- reference

/// The reference's command line tool, installed by
/// `scripts/setup-reference-venv` when missing (as the other interop tests do).
fn reference_cli() -> &'static Path {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .expect("workspace root");
        let venv = std::env::var_os("MODEL_SIGNING_REFERENCE_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/reference-venv"));
        if !venv.join("bin/model_signing").exists() {
            let script = root.join("scripts/setup-reference-venv");
            let status = Command::new(&script)
                .arg(&venv)
                .stdin(Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
            assert!(
                status.success(),
                "{} failed ({status}): these tests need the Python reference (model-signing 1.1.1)",
                script.display()
            );
        }
        venv.join("bin/model_signing")
    })
}

fn reference(cwd: &Path, args: &[&str]) -> Output {
    Command::new(reference_cli())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("the reference runs")
}

fn reference_ok(cwd: &Path, args: &[&str]) -> String {
    let out = reference(cwd, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "reference {args:?}:\n{text}");
    text
}

#[test]
fn reference_verifies_our_snapshot_signature() {
    let t = setup();
    let sig = t.sig("snapshot.sig");
    t.sign(s(&t.snapshot), &sig).ok("sign the snapshot");
    for model in [&t.plain, &t.local_dir] {
        let out = reference_ok(
            &t.root,
            &[
                "verify",
                "key",
                s(model),
                "--signature",
                s(&sig),
                "--public_key",
                s(&t.public),
            ],
        );
        assert!(out.contains("Verification succeeded"), "{out}");
    }
    // And rejects a copy whose weights differ.
    fs::write(t.plain.join("model.safetensors"), [1u8; 4096]).expect("write");
    let out = reference(
        &t.root,
        &[
            "verify",
            "key",
            s(&t.plain),
            "--signature",
            s(&sig),
            "--public_key",
            s(&t.public),
        ],
    );
    assert!(!out.status.success());
}

#[test]
fn reference_signatures_and_the_download_metadata() {
    let t = setup();
    // Signed by the reference without `.cache/huggingface` on disk (its
    // signature records no ignore paths): the snapshot verifies; the
    // local-dir download's metadata is not covered by the signature, so it
    // is unexpected (with a hint) unless left out knowingly.
    let plain_sig = t.sig("reference-plain.sig");
    reference_ok(
        &t.root,
        &[
            "sign",
            "key",
            s(&t.plain),
            "--private_key",
            s(&t.key),
            "--signature",
            s(&plain_sig),
        ],
    );
    for model in [s(&t.snapshot), "hf://acme/tiny"] {
        t.verify(model, &plain_sig).ok(model);
    }
    let r = t.verify(s(&t.local_dir), &plain_sig);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        [
            ".cache/huggingface/download/config.json.metadata",
            "hint: .cache/huggingface/ is the download metadata",
            "--ignore-paths",
        ]
        .iter()
        .all(|n| r.stderr.contains(n)),
        "{}",
        r.stderr
    );
    let metadata = t.local_dir.join(".cache/huggingface");
    let r = t.run(&[
        "verify",
        "key",
        s(&t.local_dir),
        "--public-key",
        s(&t.public),
        "--signature",
        s(&plain_sig),
        "--ignore-paths",
        s(&metadata),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(".cache/huggingface  (ignored as asked)"),
        "the left-out folder is listed: {}",
        r.stderr
    );

    // Signed by the reference over the local-dir download, metadata included:
    // then the metadata is checked like any signed file.
    let local_sig = t.sig("reference-local.sig");
    reference_ok(
        &t.root,
        &[
            "sign",
            "key",
            s(&t.local_dir),
            "--private_key",
            s(&t.key),
            "--signature",
            s(&local_sig),
        ],
    );
    assert!(resource_names(&predicate(&local_sig))
        .contains(&".cache/huggingface/download/config.json.metadata".to_owned()));
    t.verify(s(&t.local_dir), &local_sig)
        .ok("local dir, metadata signed");
    let meta = t
        .local_dir
        .join(".cache/huggingface/download/config.json.metadata");
    fs::write(&meta, "changed\n").expect("write");
    let r = t.verify(s(&t.local_dir), &local_sig);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(".cache/huggingface/download/config.json.metadata"),
        "{}",
        r.stderr
    );
    // The snapshot has no metadata: those files are missing.
    let r = t.verify(s(&t.snapshot), &local_sig);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("missing"), "{}", r.stderr);
}

// ------------------------------------------------------------- refusals

#[test]
fn tampered_blob_fails_verification_of_the_snapshot() {
    let t = setup();
    let sig = t.sig("snapshot.sig");
    t.sign(s(&t.snapshot), &sig).ok("sign");
    let blob = t
        .repo
        .blob_path(&HubFile::lfs("model.safetensors", &[7u8; 4096]));
    fs::write(&blob, [6u8; 4096]).expect("tamper with the blob");
    for model in [s(&t.snapshot), "hf://acme/tiny"] {
        let r = t.verify(model, &sig);
        assert_eq!(r.code, 1, "{model}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("changed (1)"), "{}", r.stderr);
        assert!(r.stderr.contains("model.safetensors"), "{}", r.stderr);
        assert!(
            !r.stderr.contains("blobs/"),
            "named by the blob: {}",
            r.stderr
        );
    }
    // The copies are untouched.
    t.verify(s(&t.local_dir), &sig).ok("local dir");
}

#[test]
fn link_escaping_the_repository_is_refused() {
    let t = setup();
    let sig = t.sig("before.sig");
    t.sign(s(&t.snapshot), &sig).ok("sign");
    let outside = t.root.join("outside.txt");
    fs::write(&outside, "not from the hub\n").expect("write");
    let link = t.snapshot.join("extra.txt");
    symlink("../../../../outside.txt", &link).expect("symlink");
    for args in [
        vec![
            "sign",
            "key",
            s(&t.snapshot),
            "--private-key",
            s(&t.key),
            "--signature",
            s(&t.sig("x.sig")),
        ],
        vec![
            "sign",
            "key",
            "hf://acme/tiny",
            "--private-key",
            s(&t.key),
            "--signature",
            s(&t.sig("x.sig")),
            "--allow-symlinks",
        ],
        vec!["digest", s(&t.snapshot)],
    ] {
        let r = t.run(&args);
        assert_ne!(r.code, 0, "{args:?} succeeded: {}", r.stdout);
        assert!(r.stderr.contains(s(&link)), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(s(&outside)), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    assert!(!t.sig("x.sig").exists());
    // Verifying: the link is not signed, so it is reported by its name and
    // never followed (nothing names its target).
    let r = t.verify(s(&t.snapshot), &sig);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("unexpected"), "{}", r.stderr);
    assert!(r.stderr.contains("extra.txt"), "{}", r.stderr);
    assert!(!r.stderr.contains(s(&outside)), "{}", r.stderr);
    let r = t.run(&[
        "verify",
        "key",
        "hf://acme/tiny",
        "--public-key",
        s(&t.public),
        "--signature",
        s(&sig),
        "--ignore-unsigned-files",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("skipped 1 unsigned file"), "{}", r.stderr);
    assert!(r.stderr.contains("extra.txt"), "{}", r.stderr);
}

#[test]
fn link_to_another_repositorys_blobs_is_refused() {
    let t = setup();
    let other = CachedRepo::new(&t.cache, "evil/model", sha256);
    let f = HubFile::lfs("model.safetensors", b"other weights");
    other.add_commit(&commit_hash("evil"), std::slice::from_ref(&f));
    // Replace a file of the snapshot by a link into the other repository.
    let link = t.snapshot.join("model.safetensors");
    fs::remove_file(&link).expect("remove");
    symlink(
        format!("../../../models--evil--model/blobs/{}", other.blob_name(&f)),
        &link,
    )
    .expect("symlink");
    let r = t.sign("hf://acme/tiny", &t.sig("x.sig"));
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains(s(&link)), "{}", r.stderr);
    assert!(r.stderr.contains("models--evil--model"), "{}", r.stderr);
}

#[test]
fn hf_reference_errors() {
    let t = setup();
    let sig = t.sig("x.sig");

    // Unknown repository.
    for args in [
        vec!["digest", "hf://acme/nope"],
        vec![
            "verify",
            "key",
            "hf://acme/nope",
            "--public-key",
            s(&t.public),
            "--signature",
            s(&sig),
        ],
    ] {
        let r = t.run(&args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("not in the Hugging Face cache"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(s(&t.cache.join("models--acme--nope"))),
            "{}",
            r.stderr
        );
    }
    let r = t.sign("hf://acme/nope", &sig);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(!sig.exists());

    // Unknown revision: the known refs are listed.
    let r = t.run(&["digest", "hf://acme/tiny@nope"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown revision \"nope\""),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("known refs: main, v1.0"), "{}", r.stderr);
    // A short commit hash is not looked up.
    let r = t.run(&["digest", &format!("hf://acme/tiny@{}", &t.commit[..7])]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("full 40-digit commit hash"),
        "{}",
        r.stderr
    );

    // A ref to a commit whose snapshot is gone, and a full hash with none.
    let gone = commit_hash("gone");
    t.repo.set_ref("broken", &gone);
    for model in [
        "hf://acme/tiny@broken".to_owned(),
        format!("hf://acme/tiny@{gone}"),
    ] {
        let r = t.run(&["digest", &model]);
        assert_eq!(r.code, 3, "{model}: {}", r.stderr);
        assert!(r.stderr.contains("snapshot"), "{}", r.stderr);
        assert!(r.stderr.contains(&gone), "{}", r.stderr);
    }
    // A ref that does not hold a commit hash.
    t.repo.set_ref("garbage", "../../../../etc");
    let r = t.run(&["digest", "hf://acme/tiny@garbage"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("does not hold a commit hash"),
        "{}",
        r.stderr
    );

    // No cache where the variable says, and none at the default place.
    let missing = t.root.join("no-such-cache");
    let r = t.run_with(&[("HF_HUB_CACHE", &missing)], &["digest", "hf://acme/tiny"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("cache was not found"), "{}", r.stderr);
    assert!(r.stderr.contains(s(&missing)), "{}", r.stderr);
    assert!(r.stderr.contains("HF_HUB_CACHE"), "{}", r.stderr);
    let r = t.run_with(&[], &["digest", "hf://acme/tiny"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(s(&t.root.join("home/.cache/huggingface/hub"))),
        "{}",
        r.stderr
    );

    // Malformed references are usage errors.
    for bad in [
        "hf://acme",
        "hf://a/b/c",
        "hf://acme/tiny@",
        "hf://acme/../tiny",
        "hf://acme/tiny@../x",
    ] {
        let r = t.run(&["digest", bad]);
        if bad == "hf://acme" {
            // A bare NAME is a valid id (the hub's unprefixed models).
            assert_eq!(r.code, 3, "{bad}: {}", r.stderr);
            assert!(r.stderr.contains("models--acme"), "{}", r.stderr);
            continue;
        }
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(
            r.stderr.contains("invalid Hugging Face reference"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn cache_location_from_hf_home_and_home() {
    let t = setup();
    let want = t.digest(s(&t.snapshot));
    // HF_HOME/hub.
    let hf_home = t.root.join("hf-home");
    fs::create_dir(&hf_home).expect("mkdir");
    symlink(&t.cache, hf_home.join("hub")).expect("symlink");
    let r = t
        .run_with(&[("HF_HOME", &hf_home)], &["digest", "hf://acme/tiny"])
        .ok("HF_HOME");
    assert_eq!(r.stdout.trim(), want);
    // ~/.cache/huggingface/hub.
    let default = t.root.join("home/.cache/huggingface");
    fs::create_dir_all(&default).expect("mkdir");
    symlink(&t.cache, default.join("hub")).expect("symlink");
    let r = t.run_with(&[], &["digest", "hf://acme/tiny"]).ok("HOME");
    assert_eq!(r.stdout.trim(), want);
    // HUGGINGFACE_HUB_CACHE (the older name) and XDG_CACHE_HOME/huggingface/hub.
    let r = t
        .run_with(
            &[("HUGGINGFACE_HUB_CACHE", &t.cache)],
            &["digest", "hf://acme/tiny"],
        )
        .ok("HUGGINGFACE_HUB_CACHE");
    assert_eq!(r.stdout.trim(), want);
    let xdg = t.root.join("xdg-cache");
    fs::create_dir_all(xdg.join("huggingface")).expect("mkdir");
    symlink(&t.cache, xdg.join("huggingface/hub")).expect("symlink");
    let r = t
        .run_with(&[("XDG_CACHE_HOME", &xdg)], &["digest", "hf://acme/tiny"])
        .ok("XDG_CACHE_HOME");
    assert_eq!(r.stdout.trim(), want);
    // HF_HUB_CACHE wins over HF_HOME.
    let empty = t.root.join("empty-home");
    fs::create_dir_all(empty.join("hub")).expect("mkdir");
    let r = t
        .run_with(
            &[("HF_HOME", &empty), ("HF_HUB_CACHE", &t.cache)],
            &["digest", "hf://acme/tiny"],
        )
        .ok("HF_HUB_CACHE first");
    assert_eq!(r.stdout.trim(), want);
}

#[test]
fn revision_by_branch_tag_and_commit_hash() {
    let t = setup();
    let one = t.digest(s(&t.snapshot));
    let two = t.digest(s(&t.snapshot_two));
    assert_ne!(one, two);
    assert_eq!(t.digest("hf://acme/tiny"), one);
    assert_eq!(t.digest("hf://acme/tiny@main"), one);
    assert_eq!(t.digest(&format!("hf://acme/tiny@{}", t.commit)), one);
    assert_eq!(t.digest("hf://acme/tiny@v1.0"), two);
    assert_eq!(t.digest(&format!("hf://acme/tiny@{}", t.commit_two)), two);
    // A branch with a `/` in its name (the hub stores pull requests so).
    t.repo.set_ref("refs/pr/1", &t.commit_two);
    assert_eq!(t.digest("hf://acme/tiny@refs/pr/1"), two);

    // Sign one revision; the other does not verify.
    let sig = t.sig("v1.sig");
    t.sign("hf://acme/tiny@v1.0", &sig).ok("sign v1.0");
    t.verify(&format!("hf://acme/tiny@{}", t.commit_two), &sig)
        .ok("verify by commit");
    let r = t.verify("hf://acme/tiny", &sig);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("model.safetensors"), "{}", r.stderr);
}

#[test]
fn download_metadata_is_ignored_and_recorded() {
    let t = setup();
    let doc: Value = serde_json::from_str(
        &t.run(&["digest", s(&t.local_dir), "--json"])
            .ok("digest --json")
            .stdout,
    )
    .expect("JSON");
    assert_eq!(doc["serialization"]["ignore_paths"], json!(DEFAULT_IGNORES));
    let names = resource_names(&doc);
    assert_eq!(names, NAMES);

    let sig = t.sig("local.sig");
    let r = t.run(&[
        "sign",
        "key",
        s(&t.local_dir),
        "--private-key",
        s(&t.key),
        "--signature",
        s(&sig),
        "--json",
    ]);
    let doc: Value = serde_json::from_str(&r.ok("sign --json").stdout).expect("JSON");
    assert_eq!(doc["hashing"]["ignore_paths"], json!(DEFAULT_IGNORES));
    assert_eq!(
        predicate(&sig)["serialization"]["ignore_paths"],
        json!(DEFAULT_IGNORES)
    );
    // Metadata written by a later download does not matter.
    fs::write(
        t.local_dir
            .join(".cache/huggingface/download/README.md.metadata"),
        "rewritten\n",
    )
    .expect("write");
    t.verify(s(&t.local_dir), &sig).ok("after a new download");
    // `.cache/huggingface` below the root is an ordinary folder.
    fs::create_dir_all(t.local_dir.join("tokenizer/.cache/huggingface")).expect("mkdir");
    fs::write(t.local_dir.join("tokenizer/.cache/huggingface/x"), "x").expect("write");
    let r = t.verify(s(&t.local_dir), &sig);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("tokenizer/.cache/huggingface/x"),
        "{}",
        r.stderr
    );
}

/// `sign X` then `verify X`, both with the default signature path, from the
/// model's parent and from an unrelated folder, for every form of `X`: the
/// signature `sign` writes is one `verify` looks for.
#[test]
fn default_signature_paths_meet_for_every_form_of_model() {
    let t = setup();
    let elsewhere = t.root.join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    let snapshots = t.snapshot.parent().expect("snapshots/").to_owned();
    let single = t.plain.join("config.json");
    let forms: [(&str, &str, &Path); 4] = [
        ("directory", s(&t.plain), &t.root),
        ("single file", s(&single), &t.plain),
        ("hf:// reference", "hf://acme/tiny", &snapshots),
        ("snapshot path", s(&t.snapshot), &snapshots),
    ];
    let vars = [("HF_HUB_CACHE", t.cache.as_path())];
    for (form, model, parent) in forms {
        for cwd in [parent, elsewhere.as_path()] {
            let what = format!("{form} from {}", cwd.display());
            let sign = ["sign", "key", model, "--private-key", s(&t.key)];
            let r = t.run_in(cwd, &vars, &sign);
            assert_eq!(r.code, 0, "sign {what}: {}", r.stderr);
            let written = cwd.join("model.sig");
            assert!(written.is_file(), "sign {what} writes ./model.sig");
            let verify = ["verify", "key", model, "--public-key", s(&t.public)];
            let r = t.run_in(cwd, &vars, &verify);
            assert_eq!(r.code, 0, "verify {what}: {}{}", r.stdout, r.stderr);
            assert!(r.stderr.contains("using signature"), "{what}: {}", r.stderr);
            assert!(!r.stderr.contains("also found"), "{what}: {}", r.stderr);
            fs::remove_file(&written).expect("remove the signature");
        }
    }
}

/// With several candidate signatures, `verify` uses the first in the order
/// the README gives and names the others.
#[test]
fn the_first_candidate_signature_is_used_and_the_others_are_named() {
    let t = setup();
    let elsewhere = t.root.join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    let model = t.root.join("model");
    write_plain(&model, &files_one());
    // One inside the model (made with --signature), one in the current
    // directory: the one inside wins.
    t.sign(s(&model), &model.join("model.sig"))
        .ok("sign into the model");
    t.sign(s(&model), &elsewhere.join("model.sig"))
        .ok("sign into elsewhere/");
    let verify = ["verify", "key", s(&model), "--public-key", s(&t.public)];
    let r = t.run_in(&elsewhere, &[], &verify);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let inside = format!("using signature {}", model.join("model.sig").display());
    assert!(r.stderr.contains(&inside), "{}", r.stderr);
    assert!(
        r.stderr.contains("also found ./model.sig, not used"),
        "{}",
        r.stderr
    );
    // Run from inside the model, ./model.sig is the one inside: one file,
    // found twice, named once.
    let r = t.run_in(
        &model,
        &[],
        &["verify", "key", ".", "--public-key", s(&t.public)],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("also found"), "{}", r.stderr);
    // None at all: every place looked at is named, in order, and a place
    // named two ways (the current directory is the model's parent) once.
    fs::remove_file(model.join("model.sig")).expect("rm");
    fs::remove_file(elsewhere.join("model.sig")).expect("rm");
    let inside = model.join("model.sig");
    let r = t.run_in(&elsewhere, &[], &verify);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let looked = format!(
        "looked for {}, ./model.sig, {}); pass --signature",
        inside.display(),
        t.root.join("model.sig").display()
    );
    assert!(r.stderr.contains(&looked), "{}", r.stderr);
    let r = t.run_in(&t.root, &[], &verify);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let looked = format!("looked for {}, ./model.sig); pass", inside.display());
    assert!(r.stderr.contains(&looked), "{}", r.stderr);
}

/// The model name a signature of a cache snapshot records is the
/// repository's name, as a `--local-dir` copy named after it would give.
#[test]
fn a_snapshot_signature_names_the_repository() {
    let t = setup();
    for model in ["hf://acme/tiny", s(&t.snapshot)] {
        let sig = t.sig("name.sig");
        t.sign(model, &sig).ok(model);
        let bundle = Bundle::from_json(&fs::read(&sig).expect("read")).expect("bundle");
        let statement: Value = serde_json::from_slice(&bundle.envelope.payload).expect("payload");
        assert_eq!(statement["subject"][0]["name"], json!("tiny"), "{model}");
        let r = t.run(&["inspect", s(&sig)]).ok("inspect");
        assert!(r.stdout.contains("model name:   tiny"), "{}", r.stdout);
    }
}

//! `model-signing sign|verify key|certificate` as a user runs them: exit codes
//! (0 success, 1 verification failed, 2 usage, 3 other), password sources,
//! refused keys, the checks `sign certificate` makes before hashing, atomic
//! signature writing, fingerprints, flag spellings and signature discovery.
//!
//! Models that hold a FIFO prove that a refusal came before hashing: hashing
//! such a model fails with its own error ("is a FIFO").

use testkit as support;
use testkit::Run;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use model_signing::keys::{EcPrivateKey, KeyAlgorithm, MIN_PKCS8_PBKDF2_ITERATIONS};
use support::certs::{Spec, DAY, EKU_SERVER_AUTH};
use support::{now, public, Pki, PkiSpec};

fn run_env<S: AsRef<OsStr>>(cwd: &Path, args: &[S], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("MODEL_SIGNING_PASSWORD")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("model-signing runs");
    Run::from(out)
}

fn run<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Run {
    run_env(cwd, args, &[])
}

fn s(p: &Path) -> &str {
    support::path_str(p)
}

/// A temporary directory with a small model and a P-256 key pair.
struct Fixture {
    tmp: tempfile::TempDir,
    model: PathBuf,
    key: PathBuf,
    public: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let model = support::small_model(tmp.path());
        let key = support::key(KeyAlgorithm::EcdsaP256Sha256);
        let key_path = tmp.path().join("key.pem");
        let public_path = tmp.path().join("key.pub");
        std::fs::write(&key_path, key.to_pkcs8_pem().as_bytes()).expect("write key");
        std::fs::write(&public_path, public(&key).to_pem()).expect("write key");
        Fixture {
            tmp,
            model,
            key: key_path,
            public: public_path,
        }
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// `sign key` of the fixture's model with its key into `sig`.
    fn sign_key(&self, sig: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "sign",
            "key",
            s(&self.model),
            "--private-key",
            s(&self.key),
            "--signature",
            s(sig),
        ];
        args.extend_from_slice(extra);
        run(self.dir(), &args)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A model directory holding one file and a FIFO.
    fn fifo_model(&self) -> PathBuf {
        let model = self.path("fifo-model");
        support::write_files(&model, &[("weights.bin", b"weights")]);
        let status = Command::new("mkfifo")
            .arg(model.join("pipe"))
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        model
    }
}

fn assert_code(r: &Run, code: i32) {
    assert_eq!(r.code, code, "{r:?}");
}

fn assert_stderr(r: &Run, needles: &[&str]) {
    assert!(
        support::contains_all(&r.stderr, needles),
        "expected {needles:?} in {r:?}"
    );
}

#[test]
fn exit_codes_success_verification_failure_usage_other() {
    let f = Fixture::new();
    let sig = f.path("model.sig");
    let signed = f.sign_key(&sig, &[]);
    assert_code(&signed, 0);
    assert!(signed.stdout.contains("Signed"), "{signed:?}");
    let verify = [
        "verify",
        "key",
        s(&f.model),
        "--signature",
        s(&sig),
        "--public-key",
        s(&f.public),
    ];
    assert_code(&run(f.dir(), &verify), 0);

    std::fs::write(f.model.join("b.bin"), b"changed").expect("write");
    let failed = run(f.dir(), &verify);
    assert_code(&failed, 1);
    assert_stderr(
        &failed,
        &["does not match its signature", "changed (1)", "b.bin"],
    );

    // Usage: unknown flag, missing required flag, missing method, bad value.
    for args in [
        vec![
            "verify",
            "key",
            s(&f.model),
            "--public-key",
            s(&f.public),
            "--bogus",
        ],
        vec!["verify", "key", s(&f.model)],
        vec!["verify", "certificate", s(&f.model), "--signature", s(&sig)],
        vec!["sign", "key", s(&f.model)],
        vec!["sign"],
        vec![
            "sign",
            "key",
            s(&f.model),
            "--private-key",
            s(&f.key),
            "--shard-size",
            "many",
        ],
    ] {
        let r = run(f.dir(), &args);
        assert_code(&r, 2);
        assert!(r.stderr.contains("error"), "{args:?}: {r:?}");
    }
    // A usage error found after parsing: an ignore path outside the model.
    let r = f.sign_key(&sig, &["--ignore-paths", "/etc"]);
    assert_code(&r, 2);
    assert_stderr(&r, &["not inside the model"]);

    // Other: files that cannot be read.
    let r = run(
        f.dir(),
        &[
            "verify",
            "key",
            s(&f.model),
            "--signature",
            s(&sig),
            "--public-key",
            s(&f.path("absent.pub")),
        ],
    );
    assert_code(&r, 3);
    assert_stderr(&r, &["cannot read public key", "absent.pub"]);
    let r = run(
        f.dir(),
        &[
            "sign",
            "key",
            s(&f.path("no-model")),
            "--private-key",
            s(&f.key),
            "--signature",
            s(&sig),
        ],
    );
    assert_code(&r, 3);
    assert_stderr(&r, &["no-model"]);
}

#[test]
fn every_curve_signs_and_verifies() {
    let f = Fixture::new();
    for alg in KeyAlgorithm::ECDSA {
        let key = support::key(alg);
        let (k, p, sig) = (f.path("c.pem"), f.path("c.pub"), f.path("c.sig"));
        std::fs::write(&k, key.to_pkcs8_pem().as_bytes()).expect("write");
        std::fs::write(&p, public(&key).to_pem()).expect("write");
        assert_code(
            &run(
                f.dir(),
                &[
                    "sign",
                    "key",
                    s(&f.model),
                    "--private-key",
                    s(&k),
                    "--signature",
                    s(&sig),
                ],
            ),
            0,
        );
        let r = run(
            f.dir(),
            &[
                "verify",
                "key",
                s(&f.model),
                "--signature",
                s(&sig),
                "--public-key",
                s(&p),
            ],
        );
        assert_code(&r, 0);
        assert!(r.stdout.contains(alg.key_details()), "{alg:?}: {r:?}");
    }
}

#[test]
fn passwords_from_file_environment_flag_and_none() {
    let f = Fixture::new();
    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    let enc = f.path("enc.pem");
    let pem = key
        .to_encrypted_pkcs8_pem_with_iterations(b"s3cret pass", MIN_PKCS8_PBKDF2_ITERATIONS)
        .expect("encrypt");
    std::fs::write(&enc, pem.as_bytes()).expect("write");
    std::fs::write(f.path("enc.pub"), key.public_key().to_pem()).expect("write");
    std::fs::write(f.path("password.txt"), b"s3cret pass\n").expect("write");
    std::fs::write(f.path("wrong.txt"), b"not it\n").expect("write");
    let sig = f.path("enc.sig");
    let sign = |extra: &[&str], env: &[(&str, &str)]| {
        let _ = std::fs::remove_file(&sig);
        let mut args = vec![
            "sign",
            "key",
            s(&f.model),
            "--private-key",
            s(&enc),
            "--signature",
            s(&sig),
        ];
        args.extend_from_slice(extra);
        run_env(f.dir(), &args, env)
    };
    let verify = || {
        run(
            f.dir(),
            &[
                "verify",
                "key",
                s(&f.model),
                "--signature",
                s(&sig),
                "--public-key",
                s(&f.path("enc.pub")),
            ],
        )
    };

    let r = sign(&["--password-file", s(&f.path("password.txt"))], &[]);
    assert_code(&r, 0);
    assert!(!r.stderr.contains("warning"), "{r:?}");
    assert_code(&verify(), 0);

    let r = sign(&[], &[("MODEL_SIGNING_PASSWORD", "s3cret pass")]);
    assert_code(&r, 0);
    assert_code(&verify(), 0);

    let r = sign(&["--password", "s3cret pass"], &[]);
    assert_code(&r, 0);
    assert_stderr(&r, &["warning:", "--password", "process list"]);
    assert_code(&verify(), 0);

    // No password, and no terminal to ask on.
    let r = sign(&[], &[]);
    assert_code(&r, 2);
    assert_stderr(
        &r,
        &["is encrypted", "--password-file", "MODEL_SIGNING_PASSWORD"],
    );
    assert!(!sig.exists());

    let r = sign(&["--password-file", s(&f.path("wrong.txt"))], &[]);
    assert_code(&r, 3);
    assert_stderr(&r, &["wrong password"]);
    assert!(!sig.exists());

    // Both sources at once is a usage error.
    let r = sign(
        &[
            "--password-file",
            s(&f.path("password.txt")),
            "--password",
            "x",
        ],
        &[],
    );
    assert_code(&r, 2);
}

#[test]
fn legacy_encrypted_key_names_the_conversion_command() {
    let f = Fixture::new();
    let (pw, key, sig) = (
        f.path("pw"),
        support::testdata("legacy-encrypted-p256.pem"),
        f.path("x.sig"),
    );
    std::fs::write(&pw, b"legacy-pass\n").expect("write");
    for extra in [vec![], vec!["--password-file", s(&pw)]] {
        let mut args = vec![
            "sign",
            "key",
            s(&f.model),
            "--private-key",
            s(&key),
            "--signature",
            s(&sig),
        ];
        args.extend(extra);
        let r = run(f.dir(), &args);
        assert_code(&r, 3);
        assert_stderr(&r, &["Proc-Type: 4,ENCRYPTED", "openssl pkcs8 -topk8"]);
        assert!(!sig.exists());
    }
}

#[test]
fn unsupported_key_types_are_refused_clearly() {
    let f = Fixture::new();
    let sig = f.path("x.sig");
    // RSA 2048-4096 and Ed25519 keys sign and verify (go_keys.rs); these
    // do not.
    for (file, kind) in [
        ("rsa1024", "RSA key of 1024 bits"),
        ("secp256k1", "secp256k1"),
    ] {
        let private = support::testdata(&format!("{file}.pem"));
        let r = run(
            f.dir(),
            &[
                "sign",
                "key",
                s(&f.model),
                "--private-key",
                s(&private),
                "--signature",
                s(&sig),
            ],
        );
        assert_code(&r, 3);
        assert_stderr(
            &r,
            &["unsupported key type", kind, "P-256, P-384 and P-521"],
        );
        assert!(!sig.exists());
    }
    // The verifier's key as well.
    assert_code(&f.sign_key(&sig, &[]), 0);
    for (file, kind) in [
        ("rsa1024", "RSA key of 1024 bits"),
        ("secp256k1", "secp256k1"),
    ] {
        let public_key = support::testdata(&format!("{file}.pub"));
        let r = run(
            f.dir(),
            &[
                "verify",
                "key",
                s(&f.model),
                "--signature",
                s(&sig),
                "--public-key",
                s(&public_key),
            ],
        );
        assert_code(&r, 3);
        assert_stderr(&r, &["unsupported key type", kind]);
    }
}

#[test]
fn sign_certificate_refusals_come_before_hashing() {
    let f = Fixture::new();
    let model = f.fifo_model();
    let sig = f.path("cert.sig");
    let t = now();
    let sign = |pki: &Pki, key_override: Option<&Path>| {
        let files = pki.write(&f.path("pki"));
        let key = key_override.map_or(files.key.clone(), Path::to_path_buf);
        run(
            f.dir(),
            &[
                "sign",
                "certificate",
                s(&model),
                "--private-key",
                s(&key),
                "--signing-certificate",
                s(&files.leaf),
                "--certificate-chain",
                s(&files.chain),
                "--signature",
                s(&sig),
            ],
        )
    };
    let with_leaf = |f: fn(Spec, i64) -> Spec| {
        let mut spec = PkiSpec::default();
        spec.leaf = f(spec.leaf, t);
        Pki::with(spec)
    };

    // The control: a usable certificate gets as far as hashing, which fails on the FIFO.
    let r = sign(&Pki::new(KeyAlgorithm::EcdsaP256Sha256), None);
    assert_code(&r, 3);
    assert_stderr(&r, &["pipe", "FIFO"]);

    let cases: Vec<(&str, Run, &[&str])> = vec![
        (
            "key of another certificate",
            sign(&Pki::new(KeyAlgorithm::EcdsaP256Sha256), Some(&f.key)),
            &[
                "does not match the signing certificate",
                "Test Model Signer",
            ],
        ),
        (
            "expired",
            sign(&with_leaf(|s, t| s.validity(t - 10 * DAY, t - DAY)), None),
            &["cannot be used", "expired"],
        ),
        (
            "not yet valid",
            sign(&with_leaf(|s, t| s.validity(t + DAY, t + 10 * DAY)), None),
            &["cannot be used", "not valid before"],
        ),
        (
            "serverAuth only",
            sign(&with_leaf(|s, _| s.eku(Some(vec![EKU_SERVER_AUTH]))), None),
            &["cannot be used", "extended key usage", "1.3.6.1.5.5.7.3.3"],
        ),
    ];
    for (name, r, needles) in cases {
        assert_eq!(r.code, 3, "{name}: {r:?}");
        assert!(!r.stderr.contains("FIFO"), "{name}: hashing started: {r:?}");
        assert!(
            support::contains_all(&r.stderr, needles),
            "{name}: {needles:?} in {r:?}"
        );
        assert!(!sig.exists(), "{name}");
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_sign_leaves_the_previous_signature_untouched() {
    let f = Fixture::new();
    std::os::unix::fs::symlink("a.bin", f.model.join("link")).expect("symlink");
    for sig in [f.path("model.sig"), f.model.join("model.sig")] {
        let parent = sig.parent().expect("parent").to_owned();
        std::fs::write(&sig, b"previous signature\n").expect("write");
        let before = listing(&parent);
        let r = f.sign_key(&sig, &[]);
        assert_code(&r, 3);
        assert_stderr(&r, &["symbolic link", "--allow-symlinks"]);
        assert_eq!(std::fs::read(&sig).expect("read"), b"previous signature\n");
        assert_eq!(listing(&parent), before, "no temporary file is left behind");
        // A successful sign replaces it, again without leftovers.
        let r = f.sign_key(&sig, &["--allow-symlinks"]);
        assert_code(&r, 0);
        assert_ne!(std::fs::read(&sig).expect("read"), b"previous signature\n");
        assert_eq!(listing(&parent), before);
        let r = run(
            f.dir(),
            &[
                "verify",
                "key",
                s(&f.model),
                "--signature",
                s(&sig),
                "--public-key",
                s(&f.public),
            ],
        );
        assert_code(&r, 0);
    }
}

#[test]
fn an_unwritable_signature_location_fails_before_hashing() {
    let f = Fixture::new();
    let model = f.fifo_model();
    let blocker = f.path("a-file");
    std::fs::write(&blocker, b"x").expect("write");
    std::fs::create_dir(f.path("a-dir")).expect("mkdir");
    for sig in [
        f.path("missing-dir/model.sig"),
        blocker.join("model.sig"),
        f.path("a-dir"),
    ] {
        let r = run(
            f.dir(),
            &[
                "sign",
                "key",
                s(&model),
                "--private-key",
                s(&f.key),
                "--signature",
                s(&sig),
            ],
        );
        assert_code(&r, 3);
        assert!(!r.stderr.contains("FIFO"), "hashing started: {r:?}");
        assert_stderr(&r, &["cannot write the signature", s(&sig)]);
    }
}

#[test]
fn log_fingerprints_prints_the_certificate_fingerprints() {
    let f = Fixture::new();
    let pki = Pki::new(KeyAlgorithm::EcdsaP521Sha512);
    let files = pki.write(&f.path("pki"));
    let sig = f.path("cert.sig");
    let r = run(
        f.dir(),
        &[
            "sign",
            "certificate",
            s(&f.model),
            "--private-key",
            s(&files.key),
            "--signing-certificate",
            s(&files.leaf),
            "--certificate-chain",
            s(&files.chain),
            "--signature",
            s(&sig),
        ],
    );
    assert_code(&r, 0);
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "certificate",
            s(&f.model),
            "--signature",
            s(&sig),
            "--certificate-chain",
            s(&files.root),
        ];
        args.extend_from_slice(extra);
        run(f.dir(), &args)
    };
    let fingerprints = [
        pki.leaf.fingerprint_sha256(),
        pki.intermediate.fingerprint_sha256(),
        pki.root.fingerprint_sha256(),
    ];
    let r = verify(&["--log-fingerprints"]);
    assert_code(&r, 0);
    let all = format!("{}{}", r.stdout, r.stderr);
    for fp in &fingerprints {
        assert!(all.contains(fp.as_str()), "{fp} in {r:?}");
    }
    let r = verify(&[]);
    assert_code(&r, 0);
    assert!(!r.stderr.contains(fingerprints[1].as_str()), "{r:?}");
}

#[test]
fn underscore_and_hyphen_flag_spellings() {
    let f = Fixture::new();
    let pki = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    let files = pki.write(&f.path("pki"));
    support::write_files(
        &f.model,
        &[("skip/me.txt", b"ignored"), ("notes.txt", b"ignored")],
    );
    for (u, sig) in [(true, f.path("u.sig")), (false, f.path("h.sig"))] {
        let flag = |name: &str| {
            if u {
                format!("--{}", name.replace('-', "_"))
            } else {
                format!("--{name}")
            }
        };
        let skip = f.model.join("skip");
        let r = run(
            f.dir(),
            &[
                "sign",
                "key",
                s(&f.model),
                &flag("private-key"),
                s(&f.key),
                "--signature",
                s(&sig),
                &flag("ignore-paths"),
                s(&skip),
            ],
        );
        assert_code(&r, 0);
        std::fs::write(skip.join("me.txt"), b"changed").expect("write");
        let r = run(
            f.dir(),
            &[
                "verify",
                "key",
                s(&f.model),
                "--signature",
                s(&sig),
                &flag("public-key"),
                s(&f.public),
            ],
        );
        assert_code(&r, 0);
        let r = run(
            f.dir(),
            &[
                "verify",
                "key",
                s(&f.model),
                "--signature",
                s(&sig),
                &flag("public-key"),
                s(&f.public),
                &flag("ignore-unsigned-files"),
            ],
        );
        assert_code(&r, 0);
        let csig = f.path("cert.sig");
        let r = run(
            f.dir(),
            &[
                "sign",
                "certificate",
                s(&f.model),
                &flag("private-key"),
                s(&files.key),
                &flag("signing-certificate"),
                s(&files.leaf),
                &flag("certificate-chain"),
                s(&files.chain),
                "--signature",
                s(&csig),
                &flag("ignore-paths"),
                s(&f.model.join("notes.txt")),
            ],
        );
        assert_code(&r, 0);
        std::fs::write(f.model.join("notes.txt"), b"changed").expect("write");
        let r = run(
            f.dir(),
            &[
                "verify",
                "certificate",
                s(&f.model),
                "--signature",
                s(&csig),
                &flag("certificate-chain"),
                s(&files.root),
                &flag("log-fingerprints"),
            ],
        );
        assert_code(&r, 0);
        assert!(r.stderr.contains(&pki.root.fingerprint_sha256()), "{r:?}");
        // The extra ignore path when verifying.
        std::fs::write(f.model.join("extra.bin"), b"new").expect("write");
        let r = run(
            f.dir(),
            &[
                "verify",
                "certificate",
                s(&f.model),
                "--signature",
                s(&csig),
                &flag("certificate-chain"),
                s(&files.root),
                &flag("ignore-paths"),
                s(&f.model.join("extra.bin")),
            ],
        );
        assert_code(&r, 0);
        std::fs::remove_file(f.model.join("extra.bin")).expect("remove");
    }
}

#[test]
fn verify_finds_model_sig_inside_the_model_and_ignores_it() {
    let f = Fixture::new();
    let sig = f.model.join("model.sig");
    // Relative paths, resolved against the current directory.
    let r = run(
        f.dir(),
        &[
            "sign",
            "key",
            "model",
            "--private-key",
            "key.pem",
            "--signature",
            "model/model.sig",
        ],
    );
    assert_code(&r, 0);
    assert!(sig.is_file());
    let bundle = model_signing::bundle::Bundle::from_json(&std::fs::read(&sig).expect("read"))
        .expect("bundle");
    let text = String::from_utf8(bundle.envelope.payload).expect("payload");
    assert!(
        !text.contains("\"name\": \"model.sig\""),
        "the signature is not signed: {text}"
    );

    let r = run(
        f.dir(),
        &["verify", "key", s(&f.model), "--public-key", s(&f.public)],
    );
    assert_code(&r, 0);
    assert!(
        r.stderr.contains("model.sig"),
        "says which signature it used: {r:?}"
    );
    assert!(r.stdout.contains("Verification succeeded"), "{r:?}");
    // Signing again over the existing signature gives the same manifest.
    let r = run(
        f.dir(),
        &[
            "sign",
            "key",
            "model",
            "--private-key",
            "key.pem",
            "--signature",
            "model/model.sig",
        ],
    );
    assert_code(&r, 0);
    assert_code(
        &run(
            &f.model,
            &["verify", "key", ".", "--public-key", s(&f.public)],
        ),
        0,
    );

    // No signature anywhere: a usage error that says where it looked.
    std::fs::remove_file(&sig).expect("remove");
    let r = run(
        f.dir(),
        &["verify", "key", s(&f.model), "--public-key", s(&f.public)],
    );
    assert_code(&r, 2);
    assert_stderr(&r, &["no signature given", "--signature"]);
}

/// A FIFO named `model.sig` inside the model (it may come with a downloaded
/// model) is not taken for a signature, and one given with `--signature` is
/// refused at once: opening it must not wait for a writer.
#[test]
fn a_fifo_signature_is_refused_without_blocking() {
    let f = Fixture::new();
    let fifo = f.model.join("model.sig");
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let r = run(
        f.dir(),
        &["verify", "key", s(&f.model), "--public-key", s(&f.public)],
    );
    assert_code(&r, 2);
    assert_stderr(&r, &["none found"]);

    let mut child = Command::new(env!("CARGO_BIN_EXE_model-signing"))
        .args([
            "verify",
            "key",
            s(&f.model),
            "--public-key",
            s(&f.public),
            "--signature",
            s(&fifo),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("model-signing runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("verify blocked on a FIFO signature");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let r = Run::from(out);
    assert_code(&r, 3);
    assert_stderr(
        &r,
        &["cannot read signature", "model.sig", "not a regular file"],
    );
}

/// `verify --json` prints its one object even when the trusted key or
/// certificates cannot be loaded, with the exit code of the plain output.
#[test]
fn verify_json_reports_trust_material_that_cannot_be_loaded() {
    let f = Fixture::new();
    let r = run(
        f.dir(),
        &["sign", "key", s(&f.model), "--private-key", s(&f.key)],
    );
    assert_code(&r, 0);
    let missing = f.path("no-such-key.pub");
    let not_a_key = f.path("not-a-key.pub");
    std::fs::write(&not_a_key, "hello\n").expect("write");
    let cases: Vec<Vec<&str>> = vec![
        vec!["verify", "key", s(&f.model), "--public-key", s(&missing)],
        vec!["verify", "key", s(&f.model), "--public-key", s(&not_a_key)],
        vec![
            "verify",
            "certificate",
            s(&f.model),
            "--certificate-chain",
            s(&missing),
        ],
        vec![
            "verify",
            "sigstore",
            s(&f.model),
            "--identity",
            "a@example.com",
            "--identity-provider",
            "https://accounts.example.com",
            "--trusted-root",
            s(&missing),
        ],
    ];
    for args in cases {
        let plain = run(f.dir(), &args);
        assert_ne!(plain.code, 0, "{plain:?}");
        assert!(plain.stdout.is_empty(), "{plain:?}");
        let mut json_args = args.clone();
        json_args.push("--json");
        let r = run(f.dir(), &json_args);
        assert_eq!(r.code, plain.code, "same exit code as plain output: {r:?}");
        let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON object");
        assert_eq!(doc["verified"], false, "{r:?}");
        assert_eq!(doc["version"], 1, "{r:?}");
        let message = doc["error"]["message"].as_str().expect("error message");
        let kind = doc["error"]["kind"].as_str().expect("error kind");
        assert!(!kind.is_empty(), "{r:?}");
        let first_line = plain
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("error: "))
            .expect("plain error line");
        assert!(
            message.contains(first_line),
            "JSON message {message:?} carries the plain error {first_line:?}"
        );
    }
}

/// Regression: signing two models from one folder replaced `./model.sig`
/// silently, and verifying the first then listed missing and unexpected
/// files without saying the signature was another model's.
#[test]
fn a_signature_of_another_model_is_named_as_such() {
    let f = Fixture::new();
    support::write_files(&f.path("other"), &[("weights.bin", b"other weights")]);
    let sign = |model: &str| run(f.dir(), &["sign", "key", model, "--private-key", s(&f.key)]);
    let first = sign("model");
    assert_code(&first, 0);
    assert!(!first.stderr.contains("replacing"), "{first:?}");
    // Signing the same model again is re-signing: no warning.
    let again = sign("model");
    assert_code(&again, 0);
    assert!(!again.stderr.contains("replacing"), "{again:?}");
    let second = sign("other");
    assert_code(&second, 0);
    assert!(
        second
            .stderr
            .contains("replacing model.sig, a signature of another model (`model`"),
        "{second:?}"
    );
    let r = run(
        f.dir(),
        &[
            "verify",
            "key",
            "model",
            "--public-key",
            s(&f.public),
            "--signature",
            "model.sig",
        ],
    );
    assert_code(&r, 1);
    assert!(
        r.stderr
            .contains("hint: the signature names the model `other`")
            && r.stderr
                .contains("and this one is `model`: it may be the signature of another model"),
        "{r:?}"
    );
}

/// One identifier for a key everywhere: `sign --json`, `inspect --json`,
/// `verify --json` and text, and the error for a signature by another key,
/// which shows both sides in that form.
#[test]
fn a_key_has_one_identifier_in_sign_inspect_verify_and_errors() {
    let f = Fixture::new();
    let sig = f.path("model.sig");
    let json = |r: &Run| -> serde_json::Value {
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"))
    };
    let r = f.sign_key(&sig, &["--json"]);
    assert_code(&r, 0);
    let hint = json(&r)["signer"]["hint"]
        .as_str()
        .expect("hint")
        .to_owned();
    // The SHA-256 of the public key file (PEM as the reference writes it).
    let pem = std::fs::read(&f.public).expect("read");
    assert_eq!(
        hint,
        model_signing::hashing::HashAlgorithm::Sha256
            .digest(&pem)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let r = run(f.dir(), &["inspect", s(&sig), "--json"]);
    assert_code(&r, 0);
    assert_eq!(json(&r)["signer"]["hint"], serde_json::json!(hint));
    let verify = |public: &Path, extra: &[&str]| {
        let mut args = vec![
            "verify",
            "key",
            s(&f.model),
            "--public-key",
            s(public),
            "--signature",
            s(&sig),
        ];
        args.extend_from_slice(extra);
        run(f.dir(), &args)
    };
    let r = verify(&f.public, &["--json"]);
    assert_code(&r, 0);
    assert_eq!(json(&r)["signer"]["hint"], serde_json::json!(hint));
    let r = verify(&f.public, &[]);
    assert_code(&r, 0);
    assert!(r.stdout.contains(&format!("key {hint}")), "{r:?}");
    // Another key: both hints, and nothing in another form.
    let other = support::key(KeyAlgorithm::EcdsaP384Sha384);
    let other_pub = f.path("other.pub");
    let other_pem = public(&other).to_pem();
    std::fs::write(&other_pub, &other_pem).expect("write");
    let other_hint = public(&other).hint();
    let r = verify(&other_pub, &[]);
    assert_code(&r, 1);
    assert_stderr(
        &r,
        &[&format!("hint {hint}"), &format!("hint {other_hint}")],
    );
    assert!(
        !r.stderr.contains(&public(&other).fingerprint_sha256()),
        "{r:?}"
    );
}

/// A leaf signed alone though another issued it, or with a chain file that
/// is not its chain: `sign` warns; `verify certificate` that finds no path
/// hints at --certificate-chain, and passes once the intermediate is given.
#[test]
fn an_incomplete_certificate_chain_is_warned_at_signing_and_hinted_at_verifying() {
    let f = Fixture::new();
    let pki = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    let files = pki.write(&f.path("pki"));
    let sig = f.path("cert.sig");
    let sign = |chain: Option<&Path>| {
        let mut args = vec![
            "sign",
            "certificate",
            s(&f.model),
            "--private-key",
            s(&files.key),
            "--signing-certificate",
            s(&files.leaf),
            "--signature",
            s(&sig),
        ];
        if let Some(c) = chain {
            args.extend_from_slice(&["--certificate-chain", s(c)]);
        }
        run(f.dir(), &args)
    };
    let verify = |anchors: &[&Path]| {
        let mut args = vec!["verify", "certificate", s(&f.model), "--signature", s(&sig)];
        for a in anchors {
            args.extend_from_slice(&["--certificate-chain", s(a)]);
        }
        run(f.dir(), &args)
    };
    // Complete chain: no warning.
    let r = sign(Some(&files.chain));
    assert_code(&r, 0);
    assert!(!r.stderr.contains("warning"), "{r:?}");
    // The leaf alone: a warning naming its issuer, then verify against the
    // root fails with the hint, and passes with the intermediate added.
    let r = sign(None);
    assert_code(&r, 0);
    let issuer = pki.intermediate.subject();
    assert_stderr(
        &r,
        &[
            "warning:",
            "only the signing certificate",
            &issuer,
            "--certificate-chain",
        ],
    );
    let r = verify(&[&files.root]);
    assert_code(&r, 1);
    assert_stderr(
        &r,
        &[
            "no path from certificate",
            "hint:",
            "--certificate-chain",
            "inspect",
        ],
    );
    let r = verify(&[&files.root, &files.chain]);
    assert_code(&r, 0);
    // The root given as the chain: it did not issue the leaf.
    let r = sign(Some(&files.root));
    assert_code(&r, 0);
    assert_stderr(
        &r,
        &[
            "warning:",
            &pki.root.subject(),
            "is not on the chain",
            &issuer,
        ],
    );
}

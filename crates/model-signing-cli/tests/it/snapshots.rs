//! Snapshots of what the command line tool prints: the help of every
//! command, the error messages a person can reach (usage mistakes, missing
//! files, refused keys, wrong passwords, malformed signatures, every kind of
//! failed verification, refused links and special files, bad PKCS#11 URIs
//! and tokens (SoftHSM2, as in `pkcs11.rs`), bad identity tokens, Hugging
//! Face references), and the `--json` documents, each with its exit code.
//!
//! A changed message fails here, on purpose. Read the new text in the
//! `.snap.new` file insta leaves beside the old one; when it is right, accept
//! it with `cargo insta accept` or by running
//! `INSTA_UPDATE=always cargo test -p model-signing-cli --test snapshots`,
//! and commit the snapshot with the change. A new row of the verification
//! matrix or a new subcommand gets a new snapshot, to be accepted the same way.
//!
//! Each snapshot is the transcript of one or more runs: the command line, the
//! exit code, stdout and stderr. What differs between machines and runs is
//! replaced (see [`filtered`]): temporary folders by `[TMP]`, the workspace by
//! `[ROOT]`, the third-party test data (`testdata/third_party`) by
//! `[THIRD_PARTY]`, hex digests, hints and fingerprints by `[DIGEST]`, times
//! by `[TIME]`; lists a device returns in no fixed order are sorted. The tool
//! runs with an empty environment (no `SIGSTORE_ID_TOKEN`, `CI`,
//! `GITHUB_ACTIONS`, `MODEL_SIGNING_*`, `HF_*`, `COLUMNS`...), `NO_COLOR` set,
//! `HOME` in its temporary folder, no terminal and an empty stdin.

use testkit as support;

use testkit::hf_support;

use testkit::softhsm;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::CommandFactory;
use hf_support::{commit_hash, write_local_dir, write_plain, CachedRepo, HubFile};
use model_signing::hashing::HashAlgorithm;
use model_signing::keys::{EcPrivateKey, KeyAlgorithm, MIN_PKCS8_PBKDF2_ITERATIONS};
use support::matrix::{self, Setup, Trust};
use support::{Pki, PkiSpec};

// ------------------------------------------------------------- harness

/// The workspace root, canonical.
fn root() -> PathBuf {
    support::root()
}

/// `testdata/third_party/`, canonical.
fn third_party() -> PathBuf {
    support::third_party()
}

fn example(rel: &str) -> String {
    root().join("examples").join(rel).display().to_string()
}

fn s(p: &Path) -> &str {
    support::path_str(p)
}

/// A temporary folder the tool runs in, with `HOME` inside it.
struct Sandbox {
    _tmp: tempfile::TempDir,
    /// Canonical, so that paths the tool resolves print the same.
    dir: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().canonicalize().expect("canonical tempdir");
        fs::create_dir(dir.join("home")).expect("mkdir home");
        Sandbox { _tmp: tmp, dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn run(&self, args: &[&str]) -> String {
        self.run_env(args, &[])
    }

    /// Runs the tool in the sandbox with an empty environment but `env`.
    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        run_in(&self.dir, &self.dir.join("home"), args, env)
    }

    /// Asserts the snapshot `name` of `text`, filtered for this sandbox.
    fn check(&self, name: &str, text: &str) {
        check(name, &[&self.dir], text);
    }
}

/// Runs the tool in `cwd` with an empty environment but `NO_COLOR`, `HOME`
/// and `env`; returns the transcript.
fn run_in(cwd: &Path, home: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("HOME", home)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("model-signing runs");
    let code = out
        .status
        .code()
        .map_or_else(|| format!("{:?}", out.status), |c| c.to_string());
    let mut line = String::from("$");
    for (k, v) in env {
        line.push_str(&format!(" {k}={}", quote(v)));
    }
    line.push_str(" model-signing");
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    format!(
        "{line}\nexit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `arg` as a shell would need it written.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%[]".contains(c));
    if plain {
        arg.to_owned()
    } else {
        // Escaped, so that the snapshot files hold no terminal controls either.
        format!(
            "'{}'",
            model_signing::text::escape(&arg.replace('\'', r"'\''"))
        )
    }
}

/// Transcripts of several runs, one after the other.
fn join(parts: &[String]) -> String {
    parts.join("\n")
}

fn escape(path: &Path) -> String {
    regex_escape(s(path))
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~ ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The filters that make a transcript the same on every machine and run.
/// `dirs` are the temporary folders of the test (as given and canonical).
fn filtered(dirs: &[&Path]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut paths: Vec<(String, &str)> = Vec::new();
    for d in dirs {
        paths.push((escape(d), "[TMP]"));
        if let Ok(c) = d.canonicalize() {
            paths.push((escape(&c), "[TMP]"));
        }
    }
    paths.push((escape(&third_party()), "[THIRD_PARTY]"));
    paths.push((escape(&root()), "[ROOT]"));
    // Longest first, so that a folder inside another is replaced whole.
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    for (pattern, with) in paths {
        settings.add_filter(&pattern, with);
    }
    settings.add_filter(r"\b[0-9a-f]{128}\b", "[DIGEST128]");
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[DIGEST]");
    settings.add_filter(r"\b[0-9a-f]{12}\.\.", "[DIGEST12]..");
    settings.add_filter(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]");
    settings
}

fn check(name: &str, dirs: &[&Path], text: &str) {
    check_with(name, dirs, &[], text);
}

/// [`check`] with more filters (regex, replacement).
fn check_with(name: &str, dirs: &[&Path], extra: &[(&str, &str)], text: &str) {
    let mut settings = filtered(dirs);
    for (pattern, with) in extra {
        settings.add_filter(pattern, *with);
    }
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// Sorts every list of two or more `` `quoted` `` items joined by `, `, for
/// messages that list what a device returns in no fixed order.
fn sort_quoted_lists(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let mut items = Vec::new();
        let mut tail = &rest[start..];
        while let Some(end) = tail.get(1..).and_then(|t| t.find('`')) {
            items.push(&tail[..end + 2]);
            tail = &tail[end + 2..];
            match tail.strip_prefix(", `") {
                Some(_) => tail = &tail[2..],
                None => break,
            }
        }
        if items.is_empty() {
            out.push_str(tail);
            return out;
        }
        items.sort_unstable();
        out.push_str(&items.join(", "));
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The stdout of a transcript: the JSON document of a `--json` run.
fn json_of(transcript: &str) -> serde_json::Value {
    let start = transcript.find("--- stdout\n").expect("stdout") + "--- stdout\n".len();
    let end = transcript.find("--- stderr\n").expect("stderr");
    serde_json::from_str(&transcript[start..end])
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{transcript}"))
}

// ------------------------------------------------------------- fixtures

/// `examples/keys/demo-signing-key.*`.
fn demo_key() -> (String, String) {
    (
        example("keys/demo-signing-key.pem"),
        example("keys/demo-signing-key.pub"),
    )
}

fn write(path: &Path, data: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A copy of `examples/tiny-model` at `dest`.
fn copy_tiny_model(dest: &Path) {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("mkdir");
        for entry in fs::read_dir(from).expect("read_dir") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("type").is_dir() {
                copy(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), target).expect("copy");
            }
        }
    }
    copy(&root().join("examples/tiny-model"), dest);
}

/// A fresh P-256 key pair, written as `NAME.pem` (PKCS#8) and `NAME.pub`.
fn key_pair(sb: &Sandbox, name: &str) -> (String, String) {
    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    let private = sb.path(&format!("{name}.pem"));
    let public = sb.path(&format!("{name}.pub"));
    write(&private, key.to_pkcs8_pem().as_bytes());
    write(&public, key.public_key().to_pem().as_bytes());
    (format!("{name}.pem"), format!("{name}.pub"))
}

/// An unsigned, base64url-encoded JWT with these claims (the tool parses
/// tokens; only the certificate authority checks their signature).
fn jwt(claims: &str) -> String {
    use base64::Engine;
    let b64 = |t: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(claims),
        b64("signature")
    )
}

// ------------------------------------------------------------- help

/// Every command path below the root (`[]`, `["sign"]`, `["sign", "key"]`...).
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(prefix.clone());
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut path = prefix.clone();
            path.push(sub.get_name().to_owned());
            walk(sub, path, out);
        }
    }
    let mut out = Vec::new();
    walk(
        &model_signing_cli::cli::Cli::command(),
        Vec::new(),
        &mut out,
    );
    out
}

#[test]
fn help_of_every_command() {
    let sb = Sandbox::new();
    let paths = command_paths();
    // sign (5 methods), verify (3), digest, inspect, completions.
    assert!(paths.len() >= 14, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let text = sb.run(&args);
        assert!(text.contains("\nexit: 0\n"), "{text}");
        let name = if path.is_empty() {
            "help__model_signing".to_owned()
        } else {
            format!("help__{}", path.join("_").replace('-', "_"))
        };
        sb.check(&name, &text);
    }
}

// ------------------------------------------------------------- usage errors

#[test]
fn usage_errors() {
    let sb = Sandbox::new();
    let (key, public) = demo_key();
    let model = example("tiny-model");
    let m = model.as_str();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("no_command", vec![]),
        ("unknown_command", vec!["bogus"]),
        ("unknown_flag", vec!["digest", m, "--no-such-flag"]),
        ("sign_without_model", vec!["sign"]),
        ("sign_key_without_anything", vec!["sign", "key"]),
        ("sign_key_without_key", vec!["sign", "key", m]),
        ("sign_unknown_method", vec!["sign", "gpg", m]),
        (
            "sign_misspelled_method_with_its_flags",
            vec!["sign", "kye", m, "--private-key", &key],
        ),
        ("sign_argument_after_model", vec!["sign", m, "extra"]),
        ("verify_without_method", vec!["verify"]),
        ("verify_model_without_method", vec!["verify", m]),
        (
            "verify_misspelt_method",
            vec!["verify", "kye", m, "--public-key", &public],
        ),
        (
            "verify_policy_without_model",
            vec!["verify", "--policy", &key],
        ),
        (
            "verify_policy_missing_file",
            vec!["verify", "--policy", "no-such-policy.yaml", m],
        ),
        (
            "lineage_missing_index",
            vec!["lineage", "derived", "x", "--index", "no-such-index.db"],
        ),
        ("verify_key_without_public_key", vec!["verify", "key", m]),
        (
            "verify_certificate_without_chain",
            vec!["verify", "certificate", m, "--signature", "model.sig"],
        ),
        (
            "verify_sigstore_without_identity_provider",
            vec!["verify", "sigstore", m, "--identity", "a@example.com"],
        ),
        (
            "verify_sigstore_identity_and_regexp",
            vec![
                "verify",
                "sigstore",
                m,
                "--identity",
                "a@example.com",
                "--identity-regexp",
                ".*",
                "--identity-provider",
                "https://issuer.example.com",
            ],
        ),
        (
            "verify_sigstore_bad_regexp",
            vec![
                "verify",
                "sigstore",
                m,
                "--signature",
                "model.sig",
                "--identity-regexp",
                "(unclosed",
                "--identity-provider",
                "https://issuer.example.com",
            ],
        ),
        (
            "verify_sigstore_staging_and_trusted_root",
            vec![
                "verify",
                "sigstore",
                m,
                "--identity",
                "a@example.com",
                "--identity-provider",
                "https://issuer.example.com",
                "--use-staging",
                "--trusted-root",
                "trusted_root.json",
            ],
        ),
        ("digest_without_model", vec!["digest"]),
        ("digest_unknown_hash", vec!["digest", m, "--hash", "md5"]),
        (
            "digest_zero_shard_size",
            vec!["digest", m, "--shard-size", "0"],
        ),
        (
            "digest_negative_shard_size",
            vec!["digest", m, "--shard-size", "-1"],
        ),
        (
            "digest_shard_size_not_a_number",
            vec!["digest", m, "--shard-size", "4k"],
        ),
        ("digest_zero_threads", vec!["digest", m, "--threads", "0"]),
        (
            "verify_zero_threads",
            vec![
                "verify",
                "key",
                m,
                "--public-key",
                &public,
                "--threads",
                "0",
            ],
        ),
        ("inspect_without_signature", vec!["inspect"]),
        ("completions_unknown_shell", vec!["completions", "tcsh"]),
        (
            "sign_password_and_password_file",
            vec![
                "sign",
                "key",
                m,
                "--private-key",
                &key,
                "--password",
                "x",
                "--password-file",
                "pw",
            ],
        ),
        (
            "sign_sigstore_token_and_token_file",
            vec![
                "sign",
                "sigstore",
                m,
                "--identity-token",
                "x",
                "--identity-token-file",
                "token",
            ],
        ),
        (
            "sign_sigstore_staging_and_trust_config",
            vec!["sign", m, "--use-staging", "--trust-config", "trust.json"],
        ),
        ("sign_pkcs11_key_without_uri", vec!["sign", "pkcs11-key", m]),
        (
            "sign_pkcs11_certificate_without_certificate",
            vec!["sign", "pkcs11-certificate", m, "--pkcs11-uri", "pkcs11:"],
        ),
    ];
    for (name, args) in cases {
        let text = sb.run(&args);
        sb.check(&format!("usage__{name}"), &text);
    }
}

#[test]
fn ignore_path_errors() {
    let sb = Sandbox::new();
    copy_tiny_model(&sb.path("model"));
    let (key, public) = demo_key();
    let mut parts = vec![
        sb.run(&["digest", "model", "--ignore-paths", "/etc"]),
        sb.run(&["digest", "model", "--ignore-paths", "model"]),
        sb.run(&["digest", "model", "--ignore-paths", "model/../elsewhere"]),
        // Relative to the current directory, not to the model.
        sb.run(&["digest", "model", "--ignore-paths", "README.md"]),
        sb.run(&[
            "sign",
            "key",
            "model",
            "--private-key",
            &key,
            "--signature",
            "model.sig",
            "--ignore-paths",
            "..",
        ]),
    ];
    sb.run(&[
        "sign",
        "key",
        "model",
        "--private-key",
        &key,
        "--signature",
        "model.sig",
    ]);
    parts.push(sb.run(&[
        "verify",
        "key",
        "model",
        "--public-key",
        &public,
        "--signature",
        "model.sig",
        "--ignore-paths",
        "/tmp",
    ]));
    // Everything left out.
    parts.push(sb.run(&[
        "digest",
        "model",
        "--ignore-paths",
        "model/README.md",
        "--ignore-paths",
        "model/config.json",
        "--ignore-paths",
        "model/model.safetensors",
        "--ignore-paths",
        "model/tokenizer",
    ]));
    sb.check("errors__ignore_paths", &join(&parts));
}

// ------------------------------------------------------------- models

#[test]
fn model_errors() {
    let sb = Sandbox::new();
    let (key, _) = demo_key();
    let sign = |model: &str| {
        sb.run(&[
            "sign",
            "key",
            model,
            "--private-key",
            &key,
            "--signature",
            "out.sig",
        ])
    };

    sb.check(
        "errors__model_missing",
        &join(&[sb.run(&["digest", "missing"]), sign("missing")]),
    );

    write(&sb.path("fifo/weights.bin"), b"weights");
    let status = Command::new("mkfifo")
        .arg(sb.path("fifo/pipe"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    sb.check(
        "errors__model_fifo",
        &join(&[sb.run(&["digest", "fifo"]), sign("fifo")]),
    );

    write(&sb.path("links/weights.bin"), b"weights");
    symlink("weights.bin", sb.path("links/alias.bin")).expect("symlink");
    let mut parts = vec![
        sb.run(&["digest", "links"]),
        sign("links"),
        sb.run(&["digest", "links", "--allow-symlinks"]),
    ];
    symlink("nowhere", sb.path("links/dangling")).expect("symlink");
    parts.push(sb.run(&["digest", "links", "--allow-symlinks"]));
    sb.check("errors__model_symlinks", &join(&parts));

    write(&sb.path("cycle/weights.bin"), b"weights");
    symlink("..", sb.path("cycle/up")).expect("symlink");
    sb.check(
        "errors__model_symlink_cycle",
        &sb.run(&["digest", "cycle", "--allow-symlinks"]),
    );

    fs::create_dir(sb.path("empty")).expect("mkdir");
    write(&sb.path("only-git/.gitattributes"), b"* text\n");
    sb.check(
        "errors__model_empty",
        &join(&[
            sb.run(&["digest", "empty"]),
            sign("empty"),
            sb.run(&["digest", "only-git"]),
        ]),
    );

    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.bin");
        write(&sb.path("latin1").join(name), b"bytes");
        sb.check(
            "errors__model_non_utf8_name",
            &sb.run(&["digest", "latin1"]),
        );
    }

    // The signature cannot be written.
    copy_tiny_model(&sb.path("model"));
    let parts = [
        sb.run(&[
            "sign",
            "key",
            "model",
            "--private-key",
            &key,
            "--signature",
            "no-such-dir/model.sig",
        ]),
        sb.run(&[
            "sign",
            "key",
            "model",
            "--private-key",
            &key,
            "--signature",
            "model",
        ]),
    ];
    sb.check("errors__signature_not_writable", &join(&parts));
}

#[test]
fn hashing_warnings() {
    let sb = Sandbox::new();
    let m = example("tiny-model");
    let parts = [
        sb.run(&["digest", &m, "--hash", "blake3", "--shard-size", "1024"]),
        sb.run(&["digest", &m, "--hash", "blake2b", "--shard-size", "1024"]),
        sb.run(&["digest", &example("tiny-model/config.json")]),
    ];
    sb.check("output__digest_variants", &join(&parts));
}

// ------------------------------------------------------------- keys

#[test]
fn private_key_errors() {
    let sb = Sandbox::new();
    let m = example("tiny-model");
    let (_, demo_public) = demo_key();
    let sign = |key: &str, extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "sign",
            "key",
            m.as_str(),
            "--private-key",
            key,
            "--signature",
            "out.sig",
        ];
        args.extend_from_slice(extra);
        sb.run_env(&args, env)
    };
    let testdata = |name: &str| root().join("testdata/sign-verify").join(name);
    // RSA and Ed25519 keys sign (tests/it/go_keys.rs); these do not.
    let rsa = testdata("rsa1024.pem");
    let secp256k1 = testdata("secp256k1.pem");
    let legacy = testdata("legacy-encrypted-p256.pem");
    write(&sb.path("not-pem.pem"), b"just text\n");
    write(&sb.path("empty.pem"), b"");
    let parts = [
        sign("missing.pem", &[], &[]),
        sign(&demo_public, &[], &[]),
        sign(s(&rsa), &[], &[]),
        sign(s(&secp256k1), &[], &[]),
        sign(s(&legacy), &[], &[]),
        sign("not-pem.pem", &[], &[]),
        sign("empty.pem", &[], &[]),
        sign(
            &root()
                .join("testdata/keys/certtool-p384-cert.pem")
                .display()
                .to_string(),
            &[],
            &[],
        ),
    ];
    sb.check("errors__private_keys", &join(&parts));

    // An encrypted key: no password, wrong ones from every source, then right.
    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    let pem = key
        .to_encrypted_pkcs8_pem_with_iterations(b"right password", MIN_PKCS8_PBKDF2_ITERATIONS)
        .expect("encrypt");
    write(&sb.path("encrypted.pem"), pem.as_bytes());
    write(&sb.path("wrong-password.txt"), b"wrong password\n");
    write(&sb.path("right-password.txt"), b"right password\n");
    let parts = [
        sign("encrypted.pem", &[], &[]),
        sign("encrypted.pem", &["--password", "wrong password"], &[]),
        sign(
            "encrypted.pem",
            &[],
            &[("MODEL_SIGNING_PASSWORD", "wrong password")],
        ),
        sign(
            "encrypted.pem",
            &["--password-file", "wrong-password.txt"],
            &[],
        ),
        sign("encrypted.pem", &["--password-file", "missing.txt"], &[]),
        sign(
            "encrypted.pem",
            &["--password-file", "right-password.txt"],
            &[],
        ),
    ];
    sb.check("errors__encrypted_private_key", &join(&parts));
}

#[test]
fn public_key_errors() {
    let sb = Sandbox::new();
    copy_tiny_model(&sb.path("model"));
    let (key, demo_public) = demo_key();
    sb.run(&[
        "sign",
        "key",
        "model",
        "--private-key",
        &key,
        "--signature",
        "model.sig",
    ]);
    let verify = |public: &str| {
        sb.run(&[
            "verify",
            "key",
            "model",
            "--public-key",
            public,
            "--signature",
            "model.sig",
        ])
    };
    let testdata = |name: &str| {
        root()
            .join("testdata/sign-verify")
            .join(name)
            .display()
            .to_string()
    };
    write(&sb.path("binary.pub"), &[0xff, 0xfe, 0x00, 0x01]);
    let parts = [
        verify("missing.pub"),
        verify(&key),
        verify(&testdata("rsa2048.pub")),
        verify(&testdata("ed25519.pub")),
        verify(&testdata("rsa1024.pub")),
        verify(&testdata("secp256k1.pub")),
        verify("binary.pub"),
        verify(&demo_public),
    ];
    sb.check("errors__public_keys", &join(&parts));
}

#[test]
fn certificate_errors() {
    let sb = Sandbox::new();
    copy_tiny_model(&sb.path("model"));
    let pki = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    let files = pki.write(&sb.path("pki"));
    let other = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    let other_files = other.write(&sb.path("other-pki"));
    let two = format!("{}{}", pki.leaf.to_pem(), pki.intermediate.to_pem());
    write(&sb.path("two-certificates.pem"), two.as_bytes());
    let (demo_key_path, demo_public) = demo_key();
    let sign = |key: &Path, leaf: &str, chain: &[&str]| {
        let mut args = vec![
            "sign",
            "certificate",
            "model",
            "--private-key",
            s(key),
            "--signing-certificate",
            leaf,
            "--signature",
            "cert.sig",
        ];
        for c in chain {
            args.push("--certificate-chain");
            args.push(c);
        }
        sb.run(&args)
    };
    let parts = [
        sign(&files.key, "missing.pem", &[]),
        sign(&files.key, &demo_public, &[]),
        sign(&files.key, "two-certificates.pem", &[]),
        sign(&other_files.key, s(&files.leaf), &[s(&files.chain)]),
        sign(&files.key, s(&files.leaf), &["missing-chain.pem"]),
        sign(
            Path::new(&demo_key_path),
            s(&files.leaf),
            &[s(&files.chain)],
        ),
    ];
    sb.check("errors__sign_certificate", &join(&parts));

    // Signed, then verified against the right and the wrong roots.
    let signed = sign(&files.key, s(&files.leaf), &[s(&files.chain)]);
    let verify = |anchors: &[&str], extra: &[&str]| {
        let mut args = vec!["verify", "certificate", "model", "--signature", "cert.sig"];
        for a in anchors {
            args.push("--certificate-chain");
            args.push(a);
        }
        args.extend_from_slice(extra);
        sb.run(&args)
    };
    let parts = [
        signed,
        verify(&[s(&files.root)], &["--log-fingerprints"]),
        verify(&[s(&other_files.root)], &[]),
        verify(&["missing-root.pem"], &[]),
        verify(&[&demo_public], &[]),
        sb.run(&[
            "verify",
            "key",
            "model",
            "--public-key",
            &demo_public,
            "--signature",
            "cert.sig",
        ]),
    ];
    sb.check("errors__verify_certificate", &join(&parts));
}

// ------------------------------------------------------------- signature files

#[test]
fn signature_file_errors() {
    let sb = Sandbox::new();
    copy_tiny_model(&sb.path("model"));
    let (key, public) = demo_key();
    sb.run(&[
        "sign",
        "key",
        "model",
        "--private-key",
        &key,
        "--signature",
        "good.sig",
    ]);
    write(&sb.path("truncated.sig"), b"{\"mediaType\": ");
    write(&sb.path("empty-object.sig"), b"{}");
    write(&sb.path("binary.sig"), &[0xff, 0xfe, 0x00, 0x01]);
    write(&sb.path("empty.sig"), b"");
    let good = fs::read_to_string(sb.path("good.sig")).expect("read");
    let mut v: serde_json::Value = serde_json::from_str(&good).expect("JSON");
    v["dsseEnvelope"]["payload"] = serde_json::Value::String("bm90IGEgc3RhdGVtZW50".into());
    write(
        &sb.path("bad-payload.sig"),
        serde_json::to_string(&v).expect("JSON").as_bytes(),
    );
    let big = fs::File::create(sb.path("huge.sig")).expect("create");
    big.set_len(model_signing::bundle::MAX_BUNDLE_BYTES as u64 + 1)
        .expect("sparse file");
    let verify = |sig: &str| {
        sb.run(&[
            "verify",
            "key",
            "model",
            "--public-key",
            &public,
            "--signature",
            sig,
        ])
    };
    let parts = [
        verify("missing.sig"),
        verify("truncated.sig"),
        verify("empty-object.sig"),
        verify("binary.sig"),
        verify("empty.sig"),
        verify("bad-payload.sig"),
        verify("huge.sig"),
        // Discovery: none inside the model, none beside it.
        sb.run(&["verify", "key", "model", "--public-key", &public]),
    ];
    sb.check("errors__signature_files", &join(&parts));

    let parts = [
        sb.run(&["inspect", "missing.sig"]),
        sb.run(&["inspect", "truncated.sig"]),
        sb.run(&["inspect", "empty-object.sig"]),
        sb.run(&["inspect", "bad-payload.sig"]),
        sb.run(&["inspect", "truncated.sig", "--json"]),
    ];
    sb.check("errors__inspect", &join(&parts));
}

// ------------------------------------------------------------- verification

/// A model of 45 files signed with the demo key, then 23 files changed, 21
/// removed and 22 added: more than the 20 shown of each group.
#[test]
fn many_differences_are_grouped_and_counted() {
    let sb = Sandbox::new();
    let (key, public) = demo_key();
    for i in 0..45 {
        write(
            &sb.path(&format!("model/f{i:02}.bin")),
            format!("{i}").as_bytes(),
        );
    }
    let sign = sb.run(&[
        "sign",
        "key",
        "model",
        "--private-key",
        &key,
        "--signature",
        "model.sig",
    ]);
    assert!(sign.contains("\nexit: 0\n"), "{sign}");
    for i in 0..23 {
        write(&sb.path(&format!("model/f{i:02}.bin")), b"changed");
    }
    for i in 23..44 {
        fs::remove_file(sb.path(&format!("model/f{i:02}.bin"))).expect("remove");
    }
    for i in 0..22 {
        write(&sb.path(&format!("model/u{i:02}.bin")), b"new");
    }
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "key",
            "model",
            "--public-key",
            &public,
            "--signature",
            "model.sig",
        ];
        args.extend_from_slice(extra);
        sb.run(&args)
    };
    sb.check("verify__many_differences", &verify(&[]));
    sb.check(
        "verify__many_differences_ignore_unsigned_files",
        &verify(&["--ignore-unsigned-files"]),
    );
    let json = verify(&["--json"]);
    let doc = json_of(&json);
    assert_eq!(
        doc["differences"]["changed"].as_array().map(Vec::len),
        Some(23)
    );
    assert_eq!(
        doc["differences"]["missing"].as_array().map(Vec::len),
        Some(21)
    );
    assert_eq!(
        doc["differences"]["unexpected"].as_array().map(Vec::len),
        Some(22)
    );
    sb.check("verify__many_differences_json", &json);
}

/// The demo's tampered copy (scripts/demo), and the signature found without
/// `--signature`.
#[test]
fn tampered_example_model() {
    let sb = Sandbox::new();
    let (key, public) = demo_key();
    copy_tiny_model(&sb.path("tiny-model"));
    let mut parts = vec![sb.run(&[
        "sign",
        "key",
        "tiny-model",
        "--private-key",
        &key,
        "--signature",
        "tiny-model/model.sig",
    ])];
    parts.push(sb.run(&["verify", "key", "tiny-model", "--public-key", &public]));
    let config = sb.path("tiny-model/config.json");
    let mut text = fs::read(&config).expect("read");
    text.extend_from_slice(b"extra\n");
    write(&config, &text);
    fs::remove_file(sb.path("tiny-model/README.md")).expect("remove");
    write(&sb.path("tiny-model/tokenizer/added.json"), b"{}\n");
    parts.push(sb.run(&["verify", "key", "tiny-model", "--public-key", &public]));
    parts.push(sb.run(&[
        "verify",
        "key",
        "tiny-model",
        "--public-key",
        &public,
        "--json",
    ]));
    parts.push(sb.run(&[
        "verify",
        "key",
        "tiny-model",
        "--public-key",
        &public,
        "--ignore-unsigned-files",
    ]));
    // A link where the signature has a file.
    fs::remove_file(sb.path("tiny-model/model.safetensors")).expect("remove");
    symlink("config.json", sb.path("tiny-model/model.safetensors")).expect("symlink");
    parts.push(sb.run(&[
        "verify",
        "key",
        "tiny-model",
        "--public-key",
        &public,
        "--allow-symlinks",
    ]));
    sb.check("verify__tampered_example_model", &join(&parts));
}

/// Runs one matrix row as `verify_matrix.rs` does, in text and in JSON.
fn run_matrix_row(s: &Setup) -> String {
    let dir = s.dir.path();
    let signature = dir.join("signature.json");
    fs::write(&signature, &s.bundle).expect("write signature");
    let mut args: Vec<String> = vec!["verify".into()];
    match &s.trust {
        Trust::Key(key) => {
            let path = dir.join("trusted.pub");
            fs::write(&path, key.to_pem()).expect("write key");
            args.extend(["key".into(), "--public-key".into(), "trusted.pub".into()]);
        }
        Trust::Anchors(roots) => {
            let path = dir.join("trusted-roots.pem");
            let pem: String = roots.iter().map(|c| c.to_pem()).collect();
            fs::write(&path, pem).expect("write roots");
            args.extend([
                "certificate".into(),
                "--certificate-chain".into(),
                "trusted-roots.pem".into(),
            ]);
        }
    }
    let model = s
        .model
        .strip_prefix(dir)
        .expect("model inside the row's folder");
    args.push(model.display().to_string());
    args.extend(["--signature".into(), "signature.json".into()]);
    if s.ignore_unsigned {
        args.push("--ignore-unsigned-files".into());
    }
    let home = dir.join("home");
    fs::create_dir_all(&home).expect("mkdir home");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = run_in(dir, &home, &args, &[]);
    let mut json_args = args.clone();
    json_args.push("--json");
    let json = run_in(dir, &home, &json_args, &[]);
    json_of(&json);
    join(&[text, json])
}

/// A snapshot name from a row name: lowercase words joined by `_`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    out.chars()
        .take(70)
        .collect::<String>()
        .trim_end_matches('_')
        .to_owned()
}

/// Every row of the verification matrix (each kind of failed verification,
/// and the passing rows), through `verify key|certificate`, as text and JSON.
#[test]
fn verification_matrix() {
    let rows = matrix::all();
    let mut names: Vec<String> = rows.iter().map(|r| slug(r.name)).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), rows.len(), "two rows have the same slug");
    let results = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(case) = rows.get(i) else { break };
                let setup = (case.setup)();
                let text = run_matrix_row(&setup);
                let dir = setup.dir.path().to_owned();
                results
                    .lock()
                    .expect("lock")
                    .push((slug(case.name), case.name, dir, text, setup));
            });
        }
    });
    let mut results = results.into_inner().expect("lock");
    results.sort_by(|a, b| a.0.cmp(&b.0));
    for (slug, name, dir, text, _setup) in &results {
        let text = format!("# {name}\n{text}");
        check(&format!("matrix__{slug}"), &[dir], &text);
    }
}

// ------------------------------------------------------------- JSON output

#[test]
fn json_of_digest_sign_verify_and_inspect_with_a_key() {
    let sb = Sandbox::new();
    let (key, public) = demo_key();
    let m = example("tiny-model");
    let digest = sb.run(&["digest", &m, "--json"]);
    json_of(&digest);
    sb.check("json__digest", &digest);
    let digest = sb.run(&[
        "digest",
        &m,
        "--json",
        "--hash",
        "blake2b",
        "--shard-size",
        "16384",
        "--no-ignore-git-paths",
    ]);
    json_of(&digest);
    sb.check("json__digest_shards_blake2b", &digest);

    let sign = sb.run(&[
        "sign",
        "key",
        &m,
        "--private-key",
        &key,
        "--signature",
        "model.sig",
        "--json",
    ]);
    json_of(&sign);
    sb.check("json__sign_key", &sign);

    let verify = sb.run(&[
        "verify",
        "key",
        &m,
        "--public-key",
        &public,
        "--signature",
        "model.sig",
        "--json",
    ]);
    assert_eq!(json_of(&verify)["verified"], serde_json::json!(true));
    sb.check("json__verify_key", &verify);

    let (_, other_public) = key_pair(&sb, "other");
    let verify = sb.run(&[
        "verify",
        "key",
        &m,
        "--public-key",
        &other_public,
        "--signature",
        "model.sig",
        "--json",
    ]);
    assert_eq!(json_of(&verify)["verified"], serde_json::json!(false));
    sb.check("json__verify_key_signer_mismatch", &verify);

    write(&sb.path("truncated.sig"), b"{");
    let verify = sb.run(&[
        "verify",
        "key",
        &m,
        "--public-key",
        &public,
        "--signature",
        "truncated.sig",
        "--json",
    ]);
    json_of(&verify);
    sb.check("json__verify_malformed_signature", &verify);

    let inspect = sb.run(&["inspect", "model.sig", "--json"]);
    json_of(&inspect);
    sb.check("json__inspect_key", &inspect);
    sb.check("output__inspect_key", &sb.run(&["inspect", "model.sig"]));

    // Plain (not JSON) outcomes of the same runs.
    let parts = [
        sb.run(&["digest", &m]),
        sb.run(&[
            "sign",
            "key",
            &m,
            "--private-key",
            &key,
            "--signature",
            "again.sig",
        ]),
        sb.run(&[
            "verify",
            "key",
            &m,
            "--public-key",
            &public,
            "--signature",
            "again.sig",
        ]),
        sb.run(&[
            "verify",
            "key",
            &m,
            "--public-key",
            &public,
            "--signature",
            "again.sig",
            "--allow-symlinks",
        ]),
        sb.run(&[
            "-q",
            "verify",
            "key",
            &m,
            "--public-key",
            &public,
            "--signature",
            "again.sig",
        ]),
    ];
    sb.check("output__key_round_trip", &join(&parts));
}

#[test]
fn json_of_sign_verify_and_inspect_with_a_certificate() {
    let sb = Sandbox::new();
    copy_tiny_model(&sb.path("model"));
    let pki = Pki::with(PkiSpec::default());
    let files = pki.write(&sb.path("pki"));
    let sign = sb.run(&[
        "sign",
        "certificate",
        "model",
        "--private-key",
        s(&files.key),
        "--signing-certificate",
        s(&files.leaf),
        "--certificate-chain",
        s(&files.chain),
        "--signature",
        "cert.sig",
        "--json",
    ]);
    json_of(&sign);
    sb.check("json__sign_certificate", &sign);
    let verify = sb.run(&[
        "verify",
        "certificate",
        "model",
        "--certificate-chain",
        s(&files.root),
        "--signature",
        "cert.sig",
        "--json",
    ]);
    assert_eq!(json_of(&verify)["verified"], serde_json::json!(true));
    sb.check("json__verify_certificate", &verify);
    let inspect = sb.run(&["inspect", "cert.sig", "--json"]);
    json_of(&inspect);
    sb.check("json__inspect_certificate", &inspect);
    sb.check(
        "output__inspect_certificate",
        &sb.run(&["inspect", "cert.sig"]),
    );
}

// ------------------------------------------------------------- Sigstore

/// The reference's v1.1.0 Sigstore signature (`testdata/third_party`), verified
/// offline with the embedded production root.
#[test]
fn sigstore_verification() {
    let sb = Sandbox::new();
    let golden = third_party().join("model-transparency-golden/v1.1.0-sigstore");
    let model = golden.display().to_string();
    let ignore = golden.join("ignore-me").display().to_string();
    let identity = "stefanb@us.ibm.com";
    let issuer = "https://sigstore.verify.ibm.com/oauth2";
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "sigstore",
            model.as_str(),
            "--ignore-paths",
            ignore.as_str(),
        ];
        args.extend_from_slice(extra);
        sb.run(&args)
    };
    let ok = verify(&[
        "--identity",
        identity,
        "--identity-provider",
        issuer,
        "--json",
    ]);
    assert_eq!(json_of(&ok)["verified"], serde_json::json!(true), "{ok}");
    sb.check("json__verify_sigstore", &ok);
    write(&sb.path("trusted_root.json"), b"{}");
    let parts = [
        verify(&["--identity", identity, "--identity-provider", issuer]),
        verify(&[
            "--identity",
            "someone@example.com",
            "--identity-provider",
            issuer,
        ]),
        verify(&[
            "--identity",
            identity,
            "--identity-provider",
            "https://accounts.google.com",
        ]),
        verify(&[
            "--identity-regexp",
            ".*@example\\.com",
            "--identity-provider-regexp",
            "https://.*",
        ]),
        verify(&[
            "--identity",
            identity,
            "--identity-provider",
            issuer,
            "--github-repository",
            "acme/models",
        ]),
        verify(&[
            "--identity",
            identity,
            "--identity-provider",
            issuer,
            "--use-staging",
        ]),
        verify(&[
            "--identity",
            identity,
            "--identity-provider",
            issuer,
            "--trusted-root",
            "trusted_root.json",
        ]),
        verify(&[
            "--identity",
            identity,
            "--identity-provider",
            issuer,
            "--trust-config",
            "missing.json",
        ]),
    ];
    sb.check("verify__sigstore", &join(&parts));

    let sig = golden.join("model.sig").display().to_string();
    let inspect = sb.run(&["inspect", &sig, "--json"]);
    json_of(&inspect);
    sb.check("json__inspect_sigstore", &inspect);
    sb.check("output__inspect_sigstore", &sb.run(&["inspect", &sig]));
}

/// `sign sigstore` up to the point where a certificate authority would be
/// asked: every failure before the network.
#[test]
fn sigstore_signing_errors() {
    let sb = Sandbox::new();
    let m = example("tiny-model");
    let expired = jwt(
        r#"{"iss":"https://issuer.example.com","sub":"x","aud":"sigstore","exp":1000000000,"iat":999999000,"email":"a@example.com"}"#,
    );
    let other_audience = jwt(
        r#"{"iss":"https://issuer.example.com","sub":"x","aud":"other","exp":1000000000,"iat":999999000,"email":"a@example.com"}"#,
    );
    let no_subject = jwt(r#"{"iss":"https://issuer.example.com","aud":"sigstore"}"#);
    write(&sb.path("token.jwt"), expired.as_bytes());
    write(&sb.path("empty.jwt"), b"");
    write(&sb.path("trust.json"), b"{}");
    let big = fs::File::create(sb.path("huge.jwt")).expect("create");
    big.set_len(1 << 20).expect("sparse file");
    let sign = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["sign", "sigstore", m.as_str(), "--signature", "out.sig"];
        args.extend_from_slice(extra);
        sb.run_env(&args, env)
    };
    let parts = [
        // No token from anywhere (no terminal, not in CI).
        sb.run(&["sign", &m, "--signature", "out.sig"]),
        sign(&["--identity-token", "not-a-jwt"], &[]),
        sign(&["--identity-token", "a.b.c"], &[]),
        sign(&["--identity-token", &no_subject], &[]),
        sign(&["--identity-token", &expired], &[]),
        sign(&["--identity-token", &other_audience], &[]),
        sign(&["--identity-token-file", "token.jwt"], &[]),
        sign(&["--identity-token-file", "missing.jwt"], &[]),
        sign(&["--identity-token-file", "empty.jwt"], &[]),
        sign(&["--identity-token-file", "huge.jwt"], &[]),
        sign(&[], &[("SIGSTORE_ID_TOKEN", "garbage")]),
        sign(
            &["--identity-token", &expired, "--trust-config", "trust.json"],
            &[],
        ),
        sign(
            &[
                "--identity-token",
                &expired,
                "--trust-config",
                "missing.json",
            ],
            &[],
        ),
    ];
    assert!(!sb.path("out.sig").exists());
    sb.check("errors__sign_sigstore", &join(&parts));
}

// ------------------------------------------------------------- PKCS#11

#[test]
fn pkcs11_uri_errors() {
    let sb = Sandbox::new();
    let m = example("tiny-model");
    let sign = |uri: &str, extra: &[&str]| {
        let mut args = vec![
            "sign",
            "pkcs11-key",
            m.as_str(),
            "--signature",
            "out.sig",
            "--pkcs11-uri",
            uri,
        ];
        args.extend_from_slice(extra);
        sb.run(&args)
    };
    let parts = [
        sign("token=HSM;object=signer", &[]),
        sign("pkcs11:token=HSM;object=signer", &[]),
        sign(
            "pkcs11:token=HSM;object=signer?module-path=libsofthsm2.so",
            &[],
        ),
        sign(
            "pkcs11:token=HSM;object=signer?module-path=/nonexistent/libhsm.so",
            &[],
        ),
        sign(
            "pkcs11:token=HSM;object=signer",
            &["--module-path", "relative.so"],
        ),
        sign(
            "pkcs11:token=HSM;object=signer?module-name=no-such-module",
            &[],
        ),
        sign("pkcs11:token=%zz", &[]),
        sign("pkcs11:token=HSM;pin-value=1234", &[]),
        sign("pkcs11:token=HSM;token=Other", &[]),
        sign("pkcs11:token=HSM;colour=blue", &[]),
        sign("pkcs11:token=HSM;object=signer;type=public", &[]),
        sign(
            "pkcs11:token=HSM;object=signer?pin-value=1234&pin-source=/run/pin",
            &[],
        ),
        sb.run(&[
            "sign",
            "pkcs11-certificate",
            &m,
            "--signature",
            "out.sig",
            "--pkcs11-uri",
            "pkcs11:token=HSM;object=signer",
            "--signing-certificate",
            "missing.pem",
        ]),
    ];
    sb.check("errors__pkcs11_uri", &join(&parts));
}

/// A SoftHSM2 token `models` (see `softhsm.rs`): the failures of opening a
/// token key, and a signature made with one.
#[test]
fn pkcs11_token_errors() {
    use softhsm::{module_path, KeySpec, SoftHsm};
    const PIN: &str = "token-pin-2468";
    let hsm = SoftHsm::new();
    {
        let active = hsm.activate();
        active.init_token("models", PIN);
        let spec = |label: &str, id: &[u8]| KeySpec::new(KeyAlgorithm::EcdsaP256Sha256, label, id);
        active.generate("models", PIN, &spec("signer", &[0x01]));
        active.generate("models", PIN, &spec("twin", &[0x10]));
        active.generate("models", PIN, &spec("twin", &[0x11]));
        let mut no_sign = spec("no-sign", &[0x12]);
        no_sign.sign = false;
        active.generate("models", PIN, &no_sign);
    }
    let sb = Sandbox::new();
    write(&sb.path("pin"), format!("{PIN}\n").as_bytes());
    write(&sb.path("wrong-pin"), b"0000\n");
    let pki = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
    let files = pki.write(&sb.path("pki"));
    let module = module_path().display().to_string();
    let conf = s(hsm.conf()).to_owned();
    let m = example("tiny-model");
    let pin = s(&sb.path("pin")).to_owned();
    let wrong_pin = s(&sb.path("wrong-pin")).to_owned();
    let pin_source = format!("&pin-source={pin}");
    let uri = |attrs: &str, query: &str| {
        format!("pkcs11:token=models;{attrs}?module-path={module}{query}")
    };
    let sign = |uri: &str, extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "sign",
            "pkcs11-key",
            m.as_str(),
            "--signature",
            "token.sig",
            "--pkcs11-uri",
            uri,
        ];
        args.extend_from_slice(extra);
        let mut vars = vec![("SOFTHSM2_CONF", conf.as_str())];
        vars.extend_from_slice(env);
        sb.run_env(&args, &vars)
    };
    let parts = [
        sign(&uri("object=signer", ""), &[], &[]),
        sign(
            &uri("object=signer", &format!("&pin-source={wrong_pin}")),
            &[],
            &[],
        ),
        sign(
            &uri("object=signer", ""),
            &[],
            &[("MODEL_SIGNING_PKCS11_PIN", "0000")],
        ),
        sign(
            &uri(
                "object=signer",
                &format!("&pin-source={}", s(&sb.path("missing-pin"))),
            ),
            &[],
            &[],
        ),
        sign(
            &format!("pkcs11:token=nope;object=signer?module-path={module}{pin_source}"),
            &[],
            &[],
        ),
        sign(&uri("object=nope", &pin_source), &[], &[]),
        sign(&uri("object=twin", &pin_source), &[], &[]),
        sign(&uri("object=no-sign", &pin_source), &[], &[]),
        sign(
            &uri("object=signer", &pin_source),
            &["--module-path", "/usr/lib/other.so"],
            &[],
        ),
        sign(
            &uri("object=signer", &format!("&pin-value={PIN}")),
            &["--json"],
            &[],
        ),
        sb.run_env(
            &[
                "sign",
                "pkcs11-certificate",
                &m,
                "--signature",
                "token-cert.sig",
                "--pkcs11-uri",
                &uri("object=signer", &pin_source),
                "--signing-certificate",
                s(&files.leaf),
                "--certificate-chain",
                s(&files.chain),
            ],
            &[("SOFTHSM2_CONF", conf.as_str())],
        ),
    ];
    let text = sort_quoted_lists(
        &join(&parts)
            .replace(&conf, "[SOFTHSM2_CONF]")
            .replace(&module, "[SOFTHSM2_MODULE]"),
    );
    check_with(
        "errors__pkcs11_token",
        &[&sb.dir, hsm.dir()],
        &[
            (r"serial=[0-9a-f]+", "serial=[SERIAL]"),
            (r"slot-id=\d+", "slot-id=[SLOT]"),
            (r"slot \d+", "slot [SLOT]"),
        ],
        &text,
    );
}

// ------------------------------------------------------------- completions

#[test]
fn completions_into_a_closed_pipe_are_not_an_error() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_model-signing"))
            .args(["completions", shell])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("model-signing runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{shell}: {stderr}");
        assert!(stderr.is_empty(), "{shell}: {stderr}");
    }
}

// ------------------------------------------------------------- Hugging Face

fn sha256(data: &[u8]) -> Vec<u8> {
    HashAlgorithm::Sha256.digest(data)
}

fn hub_files(weights: u8) -> Vec<HubFile> {
    vec![
        HubFile::git(
            ".gitattributes",
            b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
        ),
        HubFile::git("README.md", b"# tiny\n"),
        HubFile::git("config.json", b"{\"model_type\": \"tiny\"}\n"),
        HubFile::lfs("model.safetensors", &[weights; 4096]),
        HubFile::git("tokenizer/tokenizer.json", b"{\"version\": \"1.0\"}\n"),
    ]
}

/// A hub cache (`hub/`) holding `acme/tiny` at `main` and `v1.0`, a
/// `--local-dir` download of `main` and a plain copy, as the hub client
/// writes them.
struct Hub {
    sb: Sandbox,
    repo: CachedRepo,
    commit: String,
}

impl Hub {
    fn new() -> Self {
        let sb = Sandbox::new();
        let repo = CachedRepo::new(&sb.path("hub"), "acme/tiny", sha256);
        let commit = commit_hash("one");
        let two = commit_hash("two");
        repo.add_commit(&commit, &hub_files(7));
        repo.add_commit(&two, &hub_files(5));
        repo.set_ref("main", &commit);
        repo.set_ref("v1.0", &two);
        // Optional files a loader asked for and the hub did not have.
        repo.mark_missing(&commit, "generation_config.json");
        repo.mark_missing(&commit, "tokenizer/added_tokens.json");
        write_local_dir(&sb.path("local-dir"), &commit, &hub_files(7), |f| {
            repo.blob_name(f)
        });
        write_plain(&sb.path("plain"), &hub_files(7));
        let (key, _) = demo_key();
        fs::copy(&key, sb.path("key.pem")).expect("copy key");
        fs::copy(demo_key().1, sb.path("key.pub")).expect("copy key");
        Hub { sb, repo, commit }
    }

    fn snapshot(&self) -> String {
        format!("hub/models--acme--tiny/snapshots/{}", self.commit)
    }

    /// Runs with `HF_HUB_CACHE` set to the test cache.
    fn run(&self, args: &[&str]) -> String {
        let cache = self.sb.path("hub");
        self.sb.run_env(args, &[("HF_HUB_CACHE", s(&cache))])
    }

    fn sign(&self, model: &str, sig: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "sign",
            "key",
            model,
            "--private-key",
            "key.pem",
            "--signature",
            sig,
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn verify(&self, model: &str, sig: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "verify",
            "key",
            model,
            "--public-key",
            "key.pub",
            "--signature",
            sig,
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

/// One signature of the cache snapshot verifies the `--local-dir` download
/// and the plain copy, and the other way round; names are snapshot paths,
/// `.cache/huggingface` is ignored and recorded.
#[test]
fn hf_snapshot_local_dir_and_plain_copy() {
    let hub = Hub::new();
    let snapshot = hub.snapshot();
    let digest = hub.run(&["digest", "hf://acme/tiny", "--json"]);
    json_of(&digest);
    hub.sb.check("hf__digest_json", &digest);
    let parts = [
        hub.sign("hf://acme/tiny", "hf.sig", &["--json"]),
        hub.verify("local-dir", "hf.sig", &[]),
        hub.verify("plain", "hf.sig", &[]),
        hub.verify(&snapshot, "hf.sig", &[]),
        hub.sign("local-dir", "local.sig", &[]),
        hub.verify("hf://acme/tiny@main", "local.sig", &[]),
        hub.verify(&format!("hf://acme/tiny@{}", hub.commit), "local.sig", &[]),
        hub.verify("hf://acme/tiny@v1.0", "local.sig", &[]),
        hub.run(&["inspect", "local.sig"]),
    ];
    hub.sb
        .check("hf__sign_and_verify_every_layout", &join(&parts));
}

#[test]
fn hf_tampered_blob_and_escaping_links() {
    let hub = Hub::new();
    let snapshot = hub.snapshot();
    hub.sign("hf://acme/tiny", "hf.sig", &[]);
    let blob = hub
        .repo
        .blob_path(&HubFile::lfs("model.safetensors", &[7; 4096]));
    fs::write(blob, [6u8; 4096]).expect("tamper with the blob");
    let parts = [
        hub.verify("hf://acme/tiny", "hf.sig", &[]),
        hub.verify("hf://acme/tiny", "hf.sig", &["--json"]),
        hub.verify("local-dir", "hf.sig", &[]),
    ];
    hub.sb.check("hf__tampered_blob", &join(&parts));

    // A link out of the repository's cache folder, and one into another
    // repository's blobs.
    write(&hub.sb.path("outside.txt"), b"not from the hub\n");
    symlink(
        "../../../../outside.txt",
        hub.sb.path(&format!("{snapshot}/extra.txt")),
    )
    .expect("symlink");
    let parts = [
        hub.run(&["digest", "hf://acme/tiny"]),
        hub.run(&["digest", &snapshot, "--allow-symlinks"]),
        hub.sign("hf://acme/tiny", "x.sig", &[]),
        hub.verify("hf://acme/tiny", "hf.sig", &[]),
    ];
    hub.sb
        .check("hf__link_leaving_the_repository", &join(&parts));

    fs::remove_file(hub.sb.path(&format!("{snapshot}/extra.txt"))).expect("remove");
    let other = CachedRepo::new(&hub.sb.path("hub"), "evil/model", sha256);
    let f = HubFile::lfs("model.safetensors", b"other weights");
    other.add_commit(&commit_hash("evil"), std::slice::from_ref(&f));
    let link = hub.sb.path(&format!("{snapshot}/model.safetensors"));
    fs::remove_file(&link).expect("remove");
    symlink(
        format!("../../../models--evil--model/blobs/{}", other.blob_name(&f)),
        &link,
    )
    .expect("symlink");
    hub.sb.check(
        "hf__link_into_another_repository",
        &hub.run(&["digest", "hf://acme/tiny"]),
    );
}

#[test]
fn hf_reference_errors() {
    let hub = Hub::new();
    let gone = commit_hash("gone");
    hub.repo.set_ref("broken", &gone);
    hub.repo.set_ref("garbage", "../../../../etc");
    let mut parts = vec![
        hub.run(&["digest", "hf://acme/nope"]),
        hub.sign("hf://acme/nope", "x.sig", &[]),
        hub.verify("hf://acme/nope", "x.sig", &[]),
        hub.run(&["digest", "hf://acme/tiny@nope"]),
        hub.run(&["digest", &format!("hf://acme/tiny@{}", &hub.commit[..7])]),
        hub.run(&["digest", "hf://acme/tiny@broken"]),
        hub.run(&["digest", &format!("hf://acme/tiny@{gone}")]),
        hub.run(&["digest", "hf://acme/tiny@garbage"]),
        hub.run(&["digest", "hf://acme"]),
    ];
    for bad in [
        "hf://",
        "hf://a/b/c",
        "hf://acme/tiny@",
        "hf://acme/../tiny",
        "hf://acme/na--me",
        "hf://acme/tiny@../x",
    ] {
        parts.push(hub.run(&["digest", bad]));
    }
    hub.sb.check("hf__reference_errors", &join(&parts));

    // Where the cache is looked for, and what is said when it is not there.
    let sb = &hub.sb;
    let parts = [
        sb.run_env(
            &["digest", "hf://acme/tiny"],
            &[("HF_HUB_CACHE", "no-such-cache")],
        ),
        sb.run_env(
            &["digest", "hf://acme/tiny"],
            &[("HUGGINGFACE_HUB_CACHE", "no-such-cache")],
        ),
        sb.run_env(
            &["digest", "hf://acme/tiny"],
            &[("HF_HOME", "no-such-home")],
        ),
        sb.run_env(
            &["digest", "hf://acme/tiny"],
            &[("XDG_CACHE_HOME", "no-such-xdg")],
        ),
        sb.run(&["digest", "hf://acme/tiny"]),
    ];
    sb.check("hf__cache_not_found", &join(&parts));
}

#[test]
fn quoted_lists_are_sorted() {
    assert_eq!(
        sort_quoted_lists("keys: `b`, `a`, `c`; one `z` and `y`, `x`\nno `end"),
        "keys: `a`, `b`, `c`; one `z` and `x`, `y`\nno `end"
    );
}

/// Checks the filters themselves: a snapshot must not hold what differs
/// between machines.
#[test]
fn filters_remove_machine_specific_text() {
    let sb = Sandbox::new();
    let text = format!(
        "{} {} {} sha256:{} {}..  2026-11-26T10:00:00Z",
        sb.dir.display(),
        root().join("examples").display(),
        third_party().join("x").display(),
        "a".repeat(64),
        "b".repeat(12),
    );
    filtered(&[&sb.dir]).bind(|| {
        insta::assert_snapshot!(
            text,
            @"[TMP] [ROOT]/examples [THIRD_PARTY]/x sha256:[DIGEST] [DIGEST12]..  [TIME]"
        );
    });
}

// ------------------------------------------------------------- hostile names

/// The runs' output (not the command lines the transcript echoes) holds no
/// character that could drive a terminal.
#[track_caller]
fn assert_no_raw_controls(transcript: &str) {
    for run in transcript.split("\n$ ") {
        let output = run.split_once("\n--- stdout\n").map_or("", |(_, o)| o);
        if let Some(c) = output
            .chars()
            .find(|&c| c != '\n' && model_signing::text::is_unsafe_char(c))
        {
            panic!("raw {c:?} in the output:\n{output}");
        }
    }
}

/// Names a hostile model uploader or signer picks: terminal escapes that
/// move the cursor up and erase the screen before a fake success line, a
/// bidi override, a newline, DEL, a C1 control.
const ERASE_AND_FAKE: &str = "x\u{1b}[2A\r\u{1b}[JVerification succeeded: fake.bin";
const BIDI: &str = "report\u{202e}fdp.exe";
const NEWLINE: &str = "two\nlines\u{7f}\u{9b}31m.bin";

/// Every place `verify` and `inspect` print a name from the disk or from the
/// signature: changed, missing and unexpected files, skipped unsigned files,
/// refused special files and links, the model and subject name, the success
/// line, and the same in `--json`.
#[test]
fn hostile_names_are_escaped_everywhere_they_are_printed() {
    let sb = Sandbox::new();
    let (key, public) = demo_key();
    let model = "m\u{1b}[31m\u{202e}odel";
    for name in [ERASE_AND_FAKE, BIDI, NEWLINE, "plain.bin"] {
        write(&sb.path(&format!("{model}/{name}")), name.as_bytes());
    }
    let mut parts = vec![sb.run(&[
        "sign",
        "key",
        model,
        "--private-key",
        &key,
        "--signature",
        "model.sig",
    ])];
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "key",
            model,
            "--public-key",
            &public,
            "--signature",
            "model.sig",
        ];
        args.extend_from_slice(extra);
        sb.run(&args)
    };
    parts.push(verify(&[]));
    parts.push(sb.run(&["inspect", "model.sig"]));
    // Changed, missing and unexpected, each with a hostile name.
    write(&sb.path(&format!("{model}/{ERASE_AND_FAKE}")), b"changed");
    fs::remove_file(sb.path(&format!("{model}/{BIDI}"))).expect("remove");
    write(
        &sb.path(&format!("{model}/new {ERASE_AND_FAKE}")),
        b"unsigned",
    );
    parts.push(verify(&[]));
    parts.push(verify(&["--json"]));
    parts.push(verify(&["--ignore-unsigned-files"]));
    // A refused link and a refused FIFO, named in errors.
    fs::remove_file(sb.path(&format!("{model}/new {ERASE_AND_FAKE}"))).expect("remove");
    symlink(
        "plain.bin",
        sb.path(&format!("{model}/link {ERASE_AND_FAKE}")),
    )
    .expect("symlink");
    parts.push(verify(&[]));
    parts.push(sb.run(&[
        "sign",
        "key",
        model,
        "--private-key",
        &key,
        "--signature",
        "other.sig",
    ]));
    let text = join(&parts);
    assert_no_raw_controls(&text);
    assert!(
        text.contains("\\x1b[2A\\r\\x1b[JVerification succeeded: fake.bin"),
        "{text}"
    );
    assert!(text.contains("report\\u{202e}fdp.exe"), "{text}");
    assert!(text.contains("two\\nlines\\x7f\\u{9b}31m.bin"), "{text}");
    let json = json_of(&parts[4]);
    let unexpected = json["differences"]["unexpected"].to_string();
    assert!(
        unexpected.contains("\\u001b[2A\\r\\u001b[J"),
        "{unexpected}"
    );
    assert_eq!(
        json["differences"]["missing"][0],
        serde_json::Value::String(BIDI.to_owned()),
        "JSON keeps names exact"
    );
    sb.check("output__hostile_names", &text);
}

/// `inspect` of an unsigned bundle whose fields try to erase its
/// UNVERIFIED banner.
#[test]
fn hostile_names_cannot_erase_the_unverified_banner_of_inspect() {
    let sb = Sandbox::new();
    let (key, _) = demo_key();
    write(&sb.path("model/a.bin"), b"a");
    sb.run(&[
        "sign",
        "key",
        "model",
        "--private-key",
        &key,
        "--signature",
        "model.sig",
    ]);
    let bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(sb.path("model.sig")).expect("read")).expect("JSON");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut statement: serde_json::Value = serde_json::from_slice(
        &b64.decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
            .expect("base64"),
    )
    .expect("statement");
    let erase = "\u{1b}[1A\u{1b}[2K\u{1b}[1A\u{1b}[2KVERIFIED by your security team";
    statement["subject"][0]["name"] = serde_json::Value::String(erase.to_owned());
    statement["predicate"]["resources"][0]["name"] =
        serde_json::Value::String(format!("a.bin{erase}"));
    let mut forged = bundle.clone();
    forged["dsseEnvelope"]["payload"] =
        serde_json::Value::String(b64.encode(serde_json::to_vec(&statement).expect("JSON")));
    forged["verificationMaterial"]["publicKey"]["hint"] =
        serde_json::Value::String(erase.to_owned());
    write(
        &sb.path("forged.sig"),
        &serde_json::to_vec(&forged).expect("JSON"),
    );
    let parts = [
        sb.run(&["inspect", "forged.sig"]),
        sb.run(&["inspect", "forged.sig", "--json"]),
    ];
    let text = join(&parts);
    assert_no_raw_controls(&text);
    assert!(parts[0].contains("--- stdout\nUNVERIFIED"), "{text}");
    assert_eq!(
        json_of(&parts[1])["model_name"],
        serde_json::Value::String(erase.to_owned())
    );
    sb.check("output__hostile_inspect", &text);
}

/// A certificate whose subject holds terminal escapes: the signer named on
/// success, the certificate path of `--log-fingerprints`, and `inspect`.
#[test]
fn hostile_certificate_subjects_are_escaped() {
    let sb = Sandbox::new();
    let pki = Pki::with(PkiSpec {
        leaf: support::certs::Spec::leaf("Signer\u{1b}[2K\r\u{1b}[32mTrusted Vendor Inc\u{202e}"),
        ..PkiSpec::default()
    });
    let files = pki.write(&sb.path("pki"));
    write(&sb.path("model/a.bin"), b"a");
    let mut parts = vec![sb.run(&[
        "sign",
        "certificate",
        "model",
        "--private-key",
        s(&files.key),
        "--signing-certificate",
        s(&files.leaf),
        "--certificate-chain",
        s(&files.chain),
        "--signature",
        "model.sig",
    ])];
    parts.push(sb.run(&[
        "verify",
        "certificate",
        "model",
        "--certificate-chain",
        s(&files.root),
        "--signature",
        "model.sig",
        "--log-fingerprints",
    ]));
    parts.push(sb.run(&["inspect", "model.sig"]));
    let text = join(&parts);
    assert_no_raw_controls(&text);
    assert!(
        // The distinguished name is written as RFC 4514 says (hex escapes for
        // controls); the bidi override, which it keeps, is escaped here.
        text.contains("Signer\\1b[2K\\0d\\1b[32mTrusted Vendor Inc\\u{202e}"),
        "{text}"
    );
    sb.check("output__hostile_certificate_subject", &text);
}

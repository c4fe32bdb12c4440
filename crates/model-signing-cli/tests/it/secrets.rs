//! Secrets never reach the output. Distinctive secrets are planted (a key
//! password, a PKCS#11 PIN, an OIDC identity token, the bytes of a private
//! key) and every error path the command line can reach without a token or
//! a network is driven, plain, with `-v`/`-vv` and with `--json`; stdout and
//! stderr must not hold any of them. Then `Debug` of every type that holds a
//! secret (parsed flags, keys, PINs, URIs, tokens) must not show it either.
//!
//! SoftHSM failures (wrong PIN, locked token, missing key) with a planted
//! PIN are in `tests/pkcs11.rs` (`the_planted_pin_never_appears_in_any_output`).

use testkit::third_party_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use clap::Parser;
use model_signing::keys::{EcPrivateKey, KeyAlgorithm};
use model_signing_cli::cli::Cli;
use model_signing_pkcs11::{Pin, Pkcs11Uri};
use model_signing_sigstore::IdentityToken;
use serde_json::json;

const PASSWORD: &str = "Pl4nted-Passw0rd-Qx93";
const PIN: &str = "Pl4ntedPin5521";
const CLIENT_SECRET: &str = "Pl4ntedClientSecretQx93";
/// The signature part of every planted token.
const TOKEN_SIGNATURE: &str = "Pl4ntedTokenSignatureQx93";

/// A JWT with the given claims and the planted signature.
fn jwt(claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.{TOKEN_SIGNATURE}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn claims(exp: i64) -> serde_json::Value {
    json!({
        "iss": "https://issuer.example",
        "sub": "someone@example.com",
        "email": "someone@example.com",
        "aud": "sigstore",
        "iat": 1,
        "exp": exp,
    })
}

fn expired_token() -> String {
    jwt(&claims(2))
}

fn live_token() -> String {
    jwt(&claims(4_000_000_000))
}

/// The secrets, and pieces of them that would show a partial leak.
struct Planted {
    needles: Vec<String>,
}

impl Planted {
    fn new(private_key_pem: &str) -> Self {
        let mut needles: Vec<String> = [PASSWORD, PIN, CLIENT_SECRET, TOKEN_SIGNATURE]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        needles.push("Pl4nted".to_owned());
        // Any 16 characters of the private key's base64 body.
        for line in private_key_pem.lines().filter(|l| !l.starts_with("-----")) {
            let chars: Vec<char> = line.chars().collect();
            for start in (0..chars.len().saturating_sub(16)).step_by(8) {
                needles.push(chars[start..start + 16].iter().collect());
            }
        }
        Planted { needles }
    }

    fn assert_absent(&self, what: &str, output: &str) {
        for needle in &self.needles {
            assert!(
                !output.contains(needle.as_str()),
                "{what}: the secret piece {needle:?} shows in\n{output}"
            );
        }
    }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    model: PathBuf,
    /// An unencrypted key and its PEM.
    key: PathBuf,
    key_pem: String,
    public: PathBuf,
    /// The same key encrypted with `PASSWORD`.
    encrypted: PathBuf,
    signature: PathBuf,
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_owned();
        let model = dir.join("model");
        std::fs::create_dir(&model).expect("mkdir");
        std::fs::write(model.join("weights.bin"), b"weights\n").expect("write");
        let k = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
        let key_pem = k.to_pkcs8_pem().to_string();
        let key = dir.join("key.pem");
        std::fs::write(&key, &key_pem).expect("write");
        let public = dir.join("key.pub");
        std::fs::write(&public, k.public_key().to_pem()).expect("write");
        let encrypted = dir.join("encrypted.pem");
        std::fs::write(
            &encrypted,
            k.to_encrypted_pkcs8_pem_with_iterations(PASSWORD.as_bytes(), 2048)
                .expect("encrypt")
                .as_bytes(),
        )
        .expect("write");
        let signature = dir.join("model.sig");
        let f = Fixture {
            _tmp: tmp,
            dir,
            model,
            key,
            key_pem,
            public,
            encrypted,
            signature,
        };
        let out = f.run(
            &[
                "sign",
                "key",
                s(&f.model),
                "--private-key",
                s(&f.key),
                "--signature",
                s(&f.signature),
            ],
            &[],
        );
        assert_eq!(out.0, Some(0), "{}", out.1);
        f
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// Runs the tool with a clean environment plus `env`; (exit code, all output).
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env_remove("MODEL_SIGNING_PASSWORD")
            .env_remove("MODEL_SIGNING_PKCS11_PIN")
            .env_remove("SIGSTORE_ID_TOKEN")
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("model-signing runs");
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

/// One failing command, with its extra environment.
struct Case {
    what: String,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    /// Whether the command takes `--json`.
    json: bool,
}

fn case(what: &str, args: &[&str], env: &[(&'static str, &str)], json: bool) -> Case {
    Case {
        what: what.to_owned(),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        env: env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        json,
    }
}

/// Runs every case plain, with `-v`, with `-vv` and (where accepted) with
/// `--json`: each must fail, and no output may hold a planted secret.
fn run_all(f: &Fixture, planted: &Planted, cases: &[Case]) {
    for c in cases {
        let mut variants: Vec<Vec<String>> = vec![
            c.args.clone(),
            [vec!["-v".to_owned()], c.args.clone()].concat(),
            [c.args.clone(), vec!["-vv".to_owned()]].concat(),
        ];
        if c.json {
            variants.push([c.args.clone(), vec!["--json".to_owned()]].concat());
        }
        for args in variants {
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> = c.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (code, output) = f.run(&argv, &env);
            assert_ne!(code, Some(0), "{}: {argv:?} succeeded\n{output}", c.what);
            planted.assert_absent(&format!("{} {argv:?}", c.what), &output);
        }
    }
}

#[test]
fn planted_passwords_and_key_bytes_never_appear_in_any_output() {
    let f = Fixture::new();
    let planted = Planted::new(&f.key_pem);
    let wrong = format!("{PASSWORD}-wrong");
    let wrong_file = f.file("wrong-password", &format!("{wrong}\n"));
    let right_file = f.file("password", &format!("{PASSWORD}\n"));
    let m = s(&f.model).to_owned();
    let sig = s(&f.dir.join("never-written.sig")).to_owned();
    let enc = s(&f.encrypted).to_owned();
    let key = s(&f.key).to_owned();

    // Corrupted copies of the private key: every error about them must
    // leave its bytes out.
    let body: Vec<&str> = f
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let with_body = |label: &str, lines: &[&str]| {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    };
    let mut starred: Vec<String> = body.iter().map(|l| (*l).to_owned()).collect();
    starred[1].insert(10, '*');
    let starred: Vec<&str> = starred.iter().map(String::as_str).collect();
    let broken = [
        ("rsa-label.pem", with_body("RSA PRIVATE KEY", &body)),
        ("bad-base64.pem", with_body("PRIVATE KEY", &starred)),
        ("truncated.pem", with_body("PRIVATE KEY", &body[..body.len() - 1])),
        (
            "unclosed.pem",
            format!("-----BEGIN PRIVATE KEY-----\n{}\n", body.join("\n")),
        ),
        (
            "headers.pem",
            format!(
                "-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\n{}\n-----END PRIVATE KEY-----\n",
                body.join("\n")
            ),
        ),
        ("sec1-label.pem", with_body("EC PRIVATE KEY", &body)),
        ("public-label.pem", with_body("PUBLIC KEY", &body)),
        ("certificate-label.pem", with_body("CERTIFICATE", &body)),
    ];
    // The encrypted key with its ciphertext changed from the middle to the
    // end, the last block (the padding) included: the right password no
    // longer opens it. (Changing one middle block only can leave a key that
    // still parses, a different one, and signs.)
    let enc_pem = std::fs::read_to_string(&f.encrypted).expect("read");
    let mut enc_lines: Vec<String> = enc_pem.lines().map(str::to_owned).collect();
    let (mid, last_body) = (enc_lines.len() / 2, enc_lines.len() - 2);
    for line in &mut enc_lines[mid..=last_body] {
        let flipped: String = line
            .chars()
            .map(|c| match c {
                'A' => 'B',
                'B' => 'A',
                'g' => 'h',
                'h' => 'g',
                other => other,
            })
            .collect();
        *line = if flipped == *line {
            line.replacen(|c: char| c.is_ascii_alphabetic(), "Q", 1)
        } else {
            flipped
        };
    }
    let tampered_enc = f.file("tampered-encrypted.pem", &(enc_lines.join("\n") + "\n"));

    let mut cases = vec![
        case(
            "wrong password (--password)",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                &enc,
                "--password",
                &wrong,
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "wrong password (MODEL_SIGNING_PASSWORD)",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                &enc,
                "--signature",
                &sig,
            ],
            &[("MODEL_SIGNING_PASSWORD", &wrong)],
            true,
        ),
        case(
            "wrong password (--password-file)",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                &enc,
                "--password-file",
                s(&wrong_file),
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "right password, tampered key (--password)",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                s(&tampered_enc),
                "--password",
                PASSWORD,
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "right password, tampered key (MODEL_SIGNING_PASSWORD)",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                s(&tampered_enc),
                "--signature",
                &sig,
            ],
            &[("MODEL_SIGNING_PASSWORD", PASSWORD)],
            true,
        ),
        case(
            "right password, tampered key (--password-file)",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                s(&tampered_enc),
                "--password-file",
                s(&right_file),
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "a password for a key that is not encrypted, then an unwritable signature",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                &key,
                "--password",
                PASSWORD,
                "--signature",
                "/nonexistent/dir/model.sig",
            ],
            &[],
            true,
        ),
        case(
            "--password with --password-file (usage error)",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                &enc,
                "--password",
                PASSWORD,
                "--password-file",
                s(&right_file),
            ],
            &[],
            false,
        ),
        case(
            "password, then a model that does not exist",
            &[
                "sign",
                "key",
                "/nonexistent/model",
                "--private-key",
                &enc,
                "--password",
                PASSWORD,
                "--signature",
                &sig,
            ],
            &[("MODEL_SIGNING_PASSWORD", PASSWORD)],
            true,
        ),
        case(
            "password, then an unwritable signature",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                &enc,
                "--password",
                PASSWORD,
                "--signature",
                "/nonexistent/dir/model.sig",
            ],
            &[],
            true,
        ),
        case(
            "password, then a bad ignore path",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                &enc,
                "--password-file",
                s(&right_file),
                "--ignore-paths",
                "/elsewhere",
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "certificate method, wrong password",
            &[
                "sign",
                "certificate",
                &m,
                "--private-key",
                &enc,
                "--password",
                &wrong,
                "--signing-certificate",
                &key,
                "--signature",
                &sig,
            ],
            &[("MODEL_SIGNING_PASSWORD", PASSWORD)],
            true,
        ),
        case(
            "certificate method, the private key as the certificate",
            &[
                "sign",
                "certificate",
                &m,
                "--private-key",
                &key,
                "--signing-certificate",
                &key,
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "the private key as the public key",
            &[
                "verify",
                "key",
                &m,
                "--public-key",
                &key,
                "--signature",
                s(&f.signature),
            ],
            &[("MODEL_SIGNING_PASSWORD", PASSWORD)],
            true,
        ),
        case(
            "the private key as a trust anchor",
            &[
                "verify",
                "certificate",
                &m,
                "--certificate-chain",
                &key,
                "--signature",
                s(&f.signature),
            ],
            &[],
            true,
        ),
        case(
            "the private key as the signature",
            &[
                "verify",
                "key",
                &m,
                "--public-key",
                s(&f.public),
                "--signature",
                &key,
            ],
            &[],
            true,
        ),
        case("inspect the private key", &["inspect", &key], &[], true),
        case(
            "verification failure with every secret in the environment",
            &[
                "verify",
                "key",
                &m,
                "--public-key",
                s(&f.public),
                "--signature",
                s(&f.signature),
                "--ignore-paths",
                "weights.bin",
            ],
            &[
                ("MODEL_SIGNING_PASSWORD", PASSWORD),
                ("MODEL_SIGNING_PKCS11_PIN", PIN),
            ],
            true,
        ),
    ];
    // Argument errors: clap names the flags, never their values.
    let typo = format!("--pasword={PASSWORD}");
    let token_typo = format!("--identity-tokn={}", live_token());
    cases.extend([
        case(
            "a misspelt --password=VALUE",
            &["sign", "key", &m, "--private-key", &enc, &typo],
            &[],
            false,
        ),
        case(
            "--password twice",
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                &enc,
                "--password",
                PASSWORD,
                "--password",
                &wrong,
            ],
            &[],
            false,
        ),
        case(
            "a misspelt --identity-token=VALUE",
            &["sign", "sigstore", &m, &token_typo],
            &[],
            false,
        ),
        case(
            "--password on a command without it",
            &[
                "verify",
                "key",
                &m,
                "--public-key",
                s(&f.public),
                "--password",
                PASSWORD,
            ],
            &[],
            false,
        ),
    ]);
    for (name, pem) in &broken {
        let path = f.file(name, pem);
        cases.push(case(
            &format!("malformed key {name}"),
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                s(&path),
                "--signature",
                &sig,
            ],
            &[],
            true,
        ));
        cases.push(case(
            &format!("malformed key {name} with a password"),
            &[
                "sign",
                "key",
                &m,
                "--private-key",
                s(&path),
                "--password",
                PASSWORD,
                "--signature",
                &sig,
            ],
            &[],
            true,
        ));
    }
    run_all(&f, &planted, &cases);
}

#[test]
fn planted_identity_tokens_never_appear_in_any_output() {
    let f = Fixture::new();
    let planted = Planted::new(&f.key_pem);
    let m = s(&f.model).to_owned();
    let sig = s(&f.dir.join("never-written.sig")).to_owned();

    // A trust config whose services refuse connections (port 9 on the
    // loopback), for a token that is accepted and then sent nowhere.
    let mut config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            third_party_support::trust("production").join("client_trust_config.json"),
        )
        .expect("production trust config"),
    )
    .expect("json");
    let sc = &mut config["signingConfig"];
    for (list, url) in [
        ("caUrls", "http://127.0.0.1:9"),
        ("oidcUrls", "http://127.0.0.1:9/auth"),
        ("rekorTlogUrls", "http://127.0.0.1:9"),
        ("tsaUrls", "http://127.0.0.1:9/api/v1/timestamp"),
    ] {
        if let Some(entries) = sc[list].as_array_mut() {
            for e in entries {
                e["url"] = json!(url);
            }
        }
    }
    let unreachable = f.file("unreachable.json", &config.to_string());

    let tokens = [
        ("not a JWT", format!("not-a-jwt-{TOKEN_SIGNATURE}")),
        (
            "two parts",
            format!("{}.{TOKEN_SIGNATURE}", URL_SAFE_NO_PAD.encode(b"{}")),
        ),
        (
            "bad base64 claims",
            format!("eyJhbGciOiJSUzI1NiJ9.%%%.{TOKEN_SIGNATURE}"),
        ),
        (
            "claims that are not JSON",
            format!(
                "eyJhbGciOiJSUzI1NiJ9.{}.{TOKEN_SIGNATURE}",
                URL_SAFE_NO_PAD.encode(b"not json")
            ),
        ),
        (
            "missing claims",
            jwt(&json!({"iss": "https://issuer.example"})),
        ),
        ("expired", expired_token()),
    ];
    let mut cases = Vec::new();
    for (what, token) in &tokens {
        let file = f.file(&format!("token-{}", what.replace(' ', "-")), token);
        cases.push(case(
            &format!("{what} (--identity-token)"),
            &[
                "sign",
                "sigstore",
                &m,
                "--identity-token",
                token,
                "--signature",
                &sig,
            ],
            &[],
            true,
        ));
        cases.push(case(
            &format!("{what} (SIGSTORE_ID_TOKEN)"),
            &["sign", &m, "--signature", &sig],
            &[("SIGSTORE_ID_TOKEN", token)],
            true,
        ));
        cases.push(case(
            &format!("{what} (--identity-token-file)"),
            &[
                "sign",
                "sigstore",
                &m,
                "--identity-token-file",
                s(&file),
                "--signature",
                &sig,
            ],
            &[],
            true,
        ));
    }
    let live = live_token();
    cases.extend([
        case(
            "a live token, services unreachable",
            &[
                "sign",
                "sigstore",
                &m,
                "--identity-token",
                &live,
                "--trust-config",
                s(&unreachable),
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "a live token, services unreachable (SIGSTORE_ID_TOKEN)",
            &[
                "sign",
                "sigstore",
                &m,
                "--trust-config",
                s(&unreachable),
                "--signature",
                &sig,
            ],
            &[("SIGSTORE_ID_TOKEN", &live)],
            true,
        ),
        case(
            "a live token, then a model that does not exist",
            &[
                "sign",
                "sigstore",
                "/nonexistent/model",
                "--identity-token",
                &live,
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "a live token and a trust config that does not exist",
            &[
                "sign",
                "sigstore",
                &m,
                "--identity-token",
                &live,
                "--trust-config",
                "/nonexistent.json",
            ],
            &[],
            true,
        ),
        case(
            "--identity-token with --identity-token-file (usage error)",
            &[
                "sign",
                "sigstore",
                &m,
                "--identity-token",
                &live,
                "--identity-token-file",
                "/nonexistent",
            ],
            &[],
            false,
        ),
        case(
            "a client secret, then no way to log in",
            &[
                "sign",
                "sigstore",
                &m,
                "--client-secret",
                CLIENT_SECRET,
                "--trust-config",
                s(&unreachable),
                "--signature",
                &sig,
            ],
            &[],
            true,
        ),
        case(
            "verification failure with a token in the environment",
            &[
                "verify",
                "key",
                &m,
                "--public-key",
                s(&f.public),
                "--signature",
                s(&f.signature),
                "--ignore-paths",
                "weights.bin",
            ],
            &[("SIGSTORE_ID_TOKEN", &live)],
            true,
        ),
    ]);
    run_all(&f, &planted, &cases);
}

#[test]
fn planted_pins_never_appear_in_any_output() {
    let f = Fixture::new();
    let planted = Planted::new(&f.key_pem);
    let m = s(&f.model).to_owned();
    let sig = s(&f.dir.join("never-written.sig")).to_owned();
    let pin_file = f.file("pin", &format!("{PIN}\n"));
    let nope = "/nonexistent/libnope.so";
    let uris = [
        format!("pkcs11:token=t;object=k?pin-value={PIN}&module-path={nope}"),
        format!("pkcs11:token=t;object=k?pin-value={PIN}"),
        format!(
            "pkcs11:token=t;object=k?pin-value={PIN}&pin-source={}",
            s(&pin_file)
        ),
        format!("pkcs11:token=t?pin-value={PIN}&{PIN}=1&module-path={nope}"),
        format!("pkcs11:token=t?pin-value=a&{PIN}&module-path={nope}"),
        format!("pkcs11:token=t?pin-value={PIN}%zz&module-path={nope}"),
        format!("pkcs11:token=t?pin-value={PIN} x&module-path={nope}"),
        format!("pkcs11:pin-value={PIN};token=t?module-path={nope}"),
        format!("token=t?pin-value={PIN}"),
        format!("pkcs11:token=t?pin-value={PIN}#frag"),
        format!("pkcs11:token=t?pin-value={PIN}&module-name=../lib.so"),
        format!(
            "pkcs11:token=t;object=k?pin-source={}&module-path={nope}",
            s(&pin_file)
        ),
        "pkcs11:token=t;object=k?module-path=/nonexistent/libnope.so".to_owned(),
    ];
    let mut cases = Vec::new();
    for uri in &uris {
        for method in ["pkcs11-key", "pkcs11-certificate"] {
            let mut args = vec!["sign", method, &m, "--pkcs11-uri", uri, "--signature", &sig];
            if method == "pkcs11-certificate" {
                args.extend(["--signing-certificate", s(&f.public)]);
            }
            cases.push(case(
                &format!("{method} {uri}"),
                &args,
                &[("MODEL_SIGNING_PKCS11_PIN", PIN)],
                true,
            ));
        }
        cases.push(case(
            &format!("pkcs11-key {uri} with a relative --module-path"),
            &[
                "sign",
                "pkcs11-key",
                &m,
                "--pkcs11-uri",
                uri,
                "--module-path",
                "rel.so",
            ],
            &[],
            true,
        ));
    }
    run_all(&f, &planted, &cases);
}

/// `Debug` of the parsed command line shows no flag value that is a secret.
#[test]
fn debug_of_parsed_flags_hides_every_secret() {
    let token = live_token();
    let uri = format!("pkcs11:token=t;object=k?pin-value={PIN}&module-path=/m.so");
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "sign",
            "key",
            "m",
            "--private-key",
            "k.pem",
            "--password",
            PASSWORD,
        ],
        vec![
            "sign",
            "certificate",
            "m",
            "--private-key",
            "k.pem",
            "--password",
            PASSWORD,
            "--signing-certificate",
            "c.pem",
        ],
        vec![
            "sign",
            "sigstore",
            "m",
            "--identity-token",
            &token,
            "--client-secret",
            CLIENT_SECRET,
        ],
        vec![
            "sign",
            "m",
            "--identity_token",
            &token,
            "--client_secret",
            CLIENT_SECRET,
        ],
        vec!["sign", "pkcs11-key", "m", "--pkcs11-uri", &uri],
        vec![
            "sign",
            "pkcs11-certificate",
            "m",
            "--pkcs11_uri",
            &uri,
            "--signing-certificate",
            "c.pem",
        ],
    ];
    for args in commands {
        let cli = Cli::try_parse_from(std::iter::once("model-signing").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let debug = format!("{cli:?} {cli:#?}");
        for secret in [PASSWORD, PIN, CLIENT_SECRET, TOKEN_SIGNATURE, "Pl4nted"] {
            assert!(
                !debug.contains(secret),
                "{args:?}: {secret} shows in\n{debug}"
            );
        }
        assert!(debug.contains("REDACTED"), "{debug}");
    }
}

#[test]
fn debug_of_keys_pins_uris_and_tokens_hides_the_secret() {
    // A private key: neither its PEM nor its scalar.
    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    let pem = key.to_pkcs8_pem().to_string();
    let der = STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .expect("base64");
    // PKCS#8 of P-256: the SEC1 structure's 32-byte scalar follows
    // `02 01 01 04 20` (version 1, OCTET STRING of 32 bytes).
    let at = der
        .windows(5)
        .position(|w| w == [0x02, 0x01, 0x01, 0x04, 0x20])
        .expect("SEC1 private key")
        + 5;
    let scalar = &der[at..at + 32];
    let debug = format!("{key:?} {key:#?}");
    let planted = Planted::new(&pem);
    planted.assert_absent("EcPrivateKey Debug", &debug);
    assert!(!debug.contains(&hex::encode(scalar)), "{debug}");
    let as_list = format!("{:?}", &scalar[..4]);
    assert!(!debug.contains(as_list.trim_matches(['[', ']'])), "{debug}");
    assert!(debug.contains("EcPrivateKey"), "{debug}");

    // A PIN, and a URI that holds one.
    let pin = Pin::from(PIN.to_owned());
    assert_eq!(format!("{pin:?}"), "Pin(REDACTED)");
    let uri = Pkcs11Uri::parse(&format!(
        "pkcs11:token=t;object=k?pin-value={PIN}&module-path=/m.so"
    ))
    .expect("uri");
    for shown in [format!("{uri:?}"), format!("{uri:#?}"), uri.to_string()] {
        assert!(!shown.contains(PIN), "{shown}");
    }
    assert_eq!(uri.pin_value().map(Pin::expose), Some(PIN.as_bytes()));

    // An identity token: who and when, never the token.
    let token = live_token();
    let parsed = IdentityToken::parse(&token).expect("token");
    let debug = format!("{parsed:?} {parsed:#?}");
    assert!(!debug.contains(TOKEN_SIGNATURE), "{debug}");
    assert!(!debug.contains(&token), "{debug}");
    assert!(debug.contains("someone@example.com"), "{debug}");
    let expired = IdentityToken::parse(&expired_token()).expect("token");
    assert!(!format!("{expired:?}").contains(TOKEN_SIGNATURE));
}

/// The planted values really reach the code under test: a right password
/// signs, and the token's claims are read.
#[test]
fn the_planted_secrets_are_the_ones_in_use() {
    let f = Fixture::new();
    let out = f.run(
        &[
            "sign",
            "key",
            s(&f.model),
            "--private-key",
            s(&f.encrypted),
            "--signature",
            s(&f.dir.join("ok.sig")),
        ],
        &[("MODEL_SIGNING_PASSWORD", PASSWORD)],
    );
    assert_eq!(out.0, Some(0), "{}", out.1);
    Planted::new(&f.key_pem).assert_absent("success", &out.1);
    let (code, output) = f.run(
        &[
            "sign",
            "sigstore",
            s(&f.model),
            "--identity-token",
            &expired_token(),
        ],
        &[],
    );
    assert_ne!(code, Some(0));
    assert!(output.contains("expired"), "{output}");
}

//! Keyless signing end to end, offline, through the loopback Sigstore
//! stand-in (`testsupport/sigstore-standin`), with the Python reference
//! (`model_signing` 1.1.1) on the other side:
//!
//! - we sign, we verify; we sign, the reference verifies; the reference
//!   signs, we verify: for Rekor v1, Rekor v1 with a timestamp authority, and
//!   Rekor v2 with a timestamp authority;
//! - refusals: wrong identity, wrong issuer, a certificate outside its
//!   validity at the timestamped time, tampered log entries, the log entry of
//!   another signature, another instance's bundle, a Rekor v2 bundle without
//!   its timestamp;
//! - the identity token sources: flag, file, `SIGSTORE_ID_TOKEN`, ambient
//!   GitHub Actions and Google Cloud credentials (served on loopback), the
//!   out-of-band login (with a client secret, against a loopback identity
//!   provider), and their refusals.
//!
//! One stand-in serves the whole test binary; a second supplies foreign trust
//! material.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{mpsc, OnceLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sigstore_standin_harness::oauth::{self, OAuthProvider, ProviderOptions};
use sigstore_standin_harness::reference::{assert_failure, assert_success, model_signing, run};
use sigstore_standin_harness::{http, Flavour, StandIn};

/// Variables that select identity token sources; cleared for every run so
/// that the tests behave the same inside and outside CI.
const TOKEN_ENV: [&str; 10] = [
    "CI",
    "SIGSTORE_ID_TOKEN",
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "GCE_METADATA_HOST",
    "MODEL_SIGNING_PASSWORD",
];

fn other_instance() -> &'static StandIn {
    static OTHER: OnceLock<StandIn> = OnceLock::new();
    OTHER.get_or_init(|| StandIn::start().unwrap_or_else(|e| panic!("{e}")))
}

fn ours() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
    for var in TOKEN_ENV {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("run model-signing")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn assert_code(out: &Output, code: i32, contains: &str) {
    let t = text(out);
    assert_eq!(out.status.code(), Some(code), "{t}");
    assert!(t.contains(contains), "expected {contains:?} in:\n{t}");
}

fn small_model(dir: &Path, name: &str) -> PathBuf {
    let model = dir.join(name);
    std::fs::create_dir_all(model.join("weights")).expect("mkdir");
    std::fs::write(
        model.join("config.json"),
        format!("{{\"name\": \"{name}\"}}\n"),
    )
    .expect("write");
    std::fs::write(model.join("weights/part-0.bin"), vec![7u8; 8192]).expect("write");
    model
}

fn token(standin: &StandIn, subject: &str) -> String {
    standin.identity_token(subject).expect("token")
}

/// `model-signing sign sigstore MODEL --signature SIG --trust-config ... --identity-token ...`
fn we_sign(flavour: Flavour, model: &Path, sig: &Path, subject: &str) {
    let standin = StandIn::shared();
    let out = output(
        ours()
            .args(["sign", "sigstore"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--trust-config")
            .arg(standin.trust_config(flavour))
            .arg("--identity-token")
            .arg(token(standin, subject)),
    );
    assert_code(&out, 0, "Signed");
}

fn we_verify(
    trust_config: &Path,
    model: &Path,
    sig: &Path,
    identity: &str,
    issuer: &str,
) -> Output {
    output(
        ours()
            .args(["verify", "sigstore"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--trust-config")
            .arg(trust_config)
            .args(["--identity", identity, "--identity-provider", issuer]),
    )
}

fn reference_verify(
    trust_config: &Path,
    model: &Path,
    sig: &Path,
    identity: &str,
    issuer: &str,
) -> Output {
    run(
        &model_signing(),
        [
            "verify".as_ref(),
            "sigstore".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            sig.as_os_str(),
            "--trust_config".as_ref(),
            trust_config.as_os_str(),
            "--identity".as_ref(),
            identity.as_ref(),
            "--identity_provider".as_ref(),
            issuer.as_ref(),
        ],
    )
}

fn reference_sign(flavour: Flavour, model: &Path, sig: &Path, subject: &str) {
    let standin = StandIn::shared();
    let tok = token(standin, subject);
    let out = run(
        &model_signing(),
        [
            "sign".as_ref(),
            "sigstore".as_ref(),
            model.as_os_str(),
            "--trust_config".as_ref(),
            standin.trust_config(flavour).as_os_str(),
            "--identity_token".as_ref(),
            tok.as_ref(),
            "--signature".as_ref(),
            sig.as_os_str(),
        ],
    );
    assert_success(&format!("model_signing sign sigstore ({flavour:?})"), &out);
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON")
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).expect("JSON")).expect("write");
}

fn check_shape(flavour: Flavour, bundle: &Value) {
    let material = &bundle["verificationMaterial"];
    assert!(material["certificate"]["rawBytes"].is_string(), "{bundle}");
    let entry = &material["tlogEntries"][0];
    let timestamps = material["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .map_or(0, Vec::len);
    match flavour {
        Flavour::RekorV1 | Flavour::RekorV1Tsa => {
            assert_eq!(
                entry["kindVersion"],
                json!({"kind": "dsse", "version": "0.0.1"})
            );
            assert!(entry["inclusionPromise"]["signedEntryTimestamp"].is_string());
            assert_eq!(
                timestamps,
                usize::from(flavour == Flavour::RekorV1Tsa),
                "{bundle}"
            );
        }
        Flavour::RekorV2 => {
            assert_eq!(
                entry["kindVersion"],
                json!({"kind": "hashedrekord", "version": "0.0.2"})
            );
            assert!(entry.get("inclusionPromise").is_none());
            assert_eq!(timestamps, 1, "{bundle}");
        }
    }
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
}

fn round_trip(flavour: Flavour) {
    let standin = StandIn::shared();
    let config = standin.trust_config(flavour);
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = small_model(tmp.path(), "model");
    let subject = format!("https://example.com/e2e/{}", flavour.name());

    // We sign; we and the reference verify.
    let sig = tmp.path().join("ours.sig");
    we_sign(flavour, &model, &sig, &subject);
    check_shape(flavour, &read_json(&sig));
    let out = we_verify(config, &model, &sig, &subject, standin.issuer());
    assert_code(&out, 0, "");
    let out = reference_verify(config, &model, &sig, &subject, standin.issuer());
    assert_success(
        &format!("the reference verifies our {flavour:?} bundle"),
        &out,
    );

    // The reference signs; we verify.
    let theirs = tmp.path().join("theirs.sig");
    reference_sign(flavour, &model, &theirs, &subject);
    check_shape(flavour, &read_json(&theirs));
    let out = we_verify(config, &model, &theirs, &subject, standin.issuer());
    assert_code(&out, 0, "");
}

#[test]
fn round_trip_rekor_v1() {
    round_trip(Flavour::RekorV1);
}

#[test]
fn round_trip_rekor_v1_with_tsa() {
    round_trip(Flavour::RekorV1Tsa);
}

#[test]
fn round_trip_rekor_v2_with_tsa() {
    round_trip(Flavour::RekorV2);
}

/// `sign MODEL` (no method) is `sign sigstore MODEL`; the reference's
/// underscore spellings work.
#[test]
fn sigstore_is_the_default_method() {
    let standin = StandIn::shared();
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = small_model(tmp.path(), "model");
    let subject = "https://example.com/default";
    let sig = tmp.path().join("model.sig");
    let out = output(
        ours()
            .arg("sign")
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--trust_config")
            .arg(standin.trust_config(Flavour::RekorV2))
            .arg("--identity_token")
            .arg(token(standin, subject))
            .arg("--json"),
    );
    assert_code(&out, 0, "\"kind\": \"sigstore\"");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["signer"]["identity"], subject);
    // The same signer object as `verify --json` prints.
    assert_eq!(doc["signer"]["issuer"], standin.issuer(), "{doc}");
    let out = we_verify(
        standin.trust_config(Flavour::RekorV1),
        &model,
        &sig,
        subject,
        standin.issuer(),
    );
    assert_code(&out, 0, "");

    // A method name still selects the method, and a model is required.
    let out = output(ours().arg("sign"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = output(ours().args(["sign", "key"]));
    assert_code(&out, 2, "--private-key");
}

/// A signed bundle to tamper with, and what verifies it.
struct Signed {
    _tmp: tempfile::TempDir,
    model: PathBuf,
    sig: PathBuf,
    subject: String,
    flavour: Flavour,
}

impl Signed {
    fn new(flavour: Flavour, name: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let model = small_model(tmp.path(), name);
        let sig = tmp.path().join(format!("{name}.sig"));
        let subject = format!("https://example.com/{name}/{}", flavour.name());
        we_sign(flavour, &model, &sig, &subject);
        Signed {
            _tmp: tmp,
            model,
            sig,
            subject,
            flavour,
        }
    }

    fn bundle(&self) -> Value {
        read_json(&self.sig)
    }

    /// Verifies `bundle` (written next to the model) with this instance's trust.
    fn verify(&self, bundle: &Value) -> Output {
        let path = self.sig.with_extension("tampered");
        write_json(&path, bundle);
        let standin = StandIn::shared();
        we_verify(
            standin.trust_config(self.flavour),
            &self.model,
            &path,
            &self.subject,
            standin.issuer(),
        )
    }

    fn reference_verify(&self, bundle: &Value) -> Output {
        let path = self.sig.with_extension("tampered");
        write_json(&path, bundle);
        let standin = StandIn::shared();
        reference_verify(
            standin.trust_config(self.flavour),
            &self.model,
            &path,
            &self.subject,
            standin.issuer(),
        )
    }
}

#[test]
fn refuses_other_signers() {
    let standin = StandIn::shared();
    for flavour in [Flavour::RekorV1, Flavour::RekorV2] {
        let signed = Signed::new(flavour, "identity");
        let config = standin.trust_config(flavour);
        let out = we_verify(
            config,
            &signed.model,
            &signed.sig,
            "https://example.com/someone-else",
            standin.issuer(),
        );
        assert_code(&out, 1, "identity mismatch");
        let out = we_verify(
            config,
            &signed.model,
            &signed.sig,
            &signed.subject,
            "https://accounts.example.com",
        );
        assert_code(&out, 1, "identity provider mismatch");
    }
    // A token naming another issuer gets a certificate naming it.
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = small_model(tmp.path(), "model");
    let sig = tmp.path().join("model.sig");
    let subject = "https://example.com/issuer";
    let jwt = standin
        .identity_token_with(&json!({"sub": subject, "iss": "https://issuer.example.com"}))
        .expect("token");
    let out = output(
        ours()
            .args(["sign", "sigstore"])
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--trust-config")
            .arg(standin.trust_config(Flavour::RekorV1))
            .args(["--identity-token", &jwt]),
    );
    assert_code(&out, 0, "Signed");
    let config = standin.trust_config(Flavour::RekorV1);
    let out = we_verify(config, &model, &sig, subject, standin.issuer());
    assert_code(&out, 1, "identity provider mismatch");
    let out = we_verify(config, &model, &sig, subject, "https://issuer.example.com");
    assert_code(&out, 0, "");
    let out = reference_verify(config, &model, &sig, subject, standin.issuer());
    let why = assert_failure("the reference with the wrong issuer", &out);
    assert!(why.contains("OIDCIssuer"), "{why}");
}

/// A timestamp from the stand-in's TSA dated an hour after signing, over
/// the same signature: the 10-minute certificate is expired at that
/// verified time.
fn skewed_timestamp(signature_b64: &str) -> String {
    let signature = STANDARD.decode(signature_b64).expect("base64");
    let request = json!({
        "artifactHash": STANDARD.encode(Sha256::digest(&signature)),
        "hashAlgorithm": "sha256",
        "certificates": true,
    });
    let url = format!(
        "{}/skew/3600/api/v1/timestamp",
        StandIn::shared().urls().tsa
    );
    let response =
        http::post(&url, "application/json", request.to_string().as_bytes()).expect("TSA answers");
    assert_eq!(
        response.status,
        201,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    STANDARD.encode(response.body)
}

#[test]
fn refuses_a_certificate_outside_its_validity_at_the_signed_time() {
    for flavour in [Flavour::RekorV2, Flavour::RekorV1Tsa] {
        let signed = Signed::new(flavour, "late");
        let mut bundle = signed.bundle();
        let sig = bundle["dsseEnvelope"]["signatures"][0]["sig"]
            .as_str()
            .expect("signature")
            .to_owned();
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
            ["signedTimestamp"] = json!(skewed_timestamp(&sig));
        let out = signed.verify(&bundle);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            text(&out).to_lowercase().contains("expired"),
            "{}",
            text(&out)
        );
        if flavour == Flavour::RekorV2 {
            let out = signed.reference_verify(&bundle);
            assert_failure("the reference with a late timestamp", &out);
        }
    }
}

#[test]
fn refuses_tampered_log_entries() {
    for flavour in [Flavour::RekorV1, Flavour::RekorV2] {
        let signed = Signed::new(flavour, "tampered");
        let original = signed.bundle();
        assert_code(&signed.verify(&original), 0, "");

        // The logged body, changed (the signature it names, one digit off).
        let mut bundle = original.clone();
        let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
        let body = STANDARD
            .decode(entry["canonicalizedBody"].as_str().expect("body"))
            .expect("base64");
        let mut body: Value = serde_json::from_slice(&body).expect("JSON body");
        let spec = &mut body["spec"];
        let sig = if flavour == Flavour::RekorV1 {
            &mut spec["signatures"][0]["signature"]
        } else {
            &mut spec["hashedRekordV002"]["signature"]["content"]
        };
        let mut raw = STANDARD
            .decode(sig.as_str().expect("signature"))
            .expect("b64");
        let last = raw.len() - 1;
        raw[last] ^= 1;
        *sig = json!(STANDARD.encode(raw));
        entry["canonicalizedBody"] = json!(STANDARD.encode(body.to_string()));
        let out = signed.verify(&bundle);
        assert_eq!(out.status.code(), Some(1), "{flavour:?}: {}", text(&out));

        // A hash of the inclusion proof.
        let mut bundle = original.clone();
        let proof = &mut bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
        if let Some(hash) = proof["hashes"].get_mut(0) {
            let mut raw = STANDARD.decode(hash.as_str().expect("hash")).expect("b64");
            raw[0] ^= 1;
            *hash = json!(STANDARD.encode(raw));
            let out = signed.verify(&bundle);
            assert_eq!(out.status.code(), Some(1), "{flavour:?}: {}", text(&out));
        }

        // The log index the proof is checked at. Rekor v1 proofs use the
        // inclusion proof's own index (logs are sharded); for Rekor v2,
        // sigstore-verify 0.15.1 uses the entry's `logIndex` and does not
        // compare the two (the reference reads only the proof's).
        let mut bundle = original.clone();
        let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
        let field = if flavour == Flavour::RekorV1 {
            &mut entry["inclusionProof"]["logIndex"]
        } else {
            &mut entry["logIndex"]
        };
        let index: u64 = field.as_str().expect("index").parse().expect("number");
        *field = json!((index + 1).to_string());
        let out = signed.verify(&bundle);
        assert_eq!(out.status.code(), Some(1), "{flavour:?}: {}", text(&out));

        if flavour == Flavour::RekorV1 {
            // The integrated time, covered by the SET.
            let mut bundle = original.clone();
            let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
            let time: i64 = entry["integratedTime"]
                .as_str()
                .expect("time")
                .parse()
                .expect("n");
            entry["integratedTime"] = json!((time - 5).to_string());
            let out = signed.verify(&bundle);
            assert_eq!(out.status.code(), Some(1), "{}", text(&out));
            let out = signed.reference_verify(&bundle);
            assert_failure("the reference with a tampered integrated time", &out);
        }
    }
}

#[test]
fn refuses_the_log_entry_of_another_signature() {
    for flavour in [Flavour::RekorV1, Flavour::RekorV2] {
        let first = Signed::new(flavour, "first");
        let second = Signed::new(flavour, "second");
        let mut bundle = first.bundle();
        bundle["verificationMaterial"]["tlogEntries"] =
            second.bundle()["verificationMaterial"]["tlogEntries"].clone();
        let out = first.verify(&bundle);
        assert_eq!(out.status.code(), Some(1), "{flavour:?}: {}", text(&out));
        if flavour == Flavour::RekorV1 {
            let out = first.reference_verify(&bundle);
            assert_failure("the reference with another signature's entry", &out);
        }
    }
}

#[test]
fn refuses_bundles_of_another_instance() {
    for flavour in [Flavour::RekorV1, Flavour::RekorV2] {
        let signed = Signed::new(flavour, "foreign");
        let out = we_verify(
            other_instance().trust_config(flavour),
            &signed.model,
            &signed.sig,
            &signed.subject,
            StandIn::shared().issuer(),
        );
        assert_eq!(out.status.code(), Some(1), "{flavour:?}: {}", text(&out));
    }
}

#[test]
fn refuses_rekor_v2_bundles_without_a_timestamp() {
    let signed = Signed::new(Flavour::RekorV2, "untimed");
    let mut bundle = signed.bundle();
    bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] = json!([]);
    let out = signed.verify(&bundle);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let material = bundle["verificationMaterial"]
        .as_object_mut()
        .expect("object");
    material.remove("timestampVerificationData");
    let out = signed.verify(&bundle);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = signed.reference_verify(&bundle);
    assert_failure("the reference without a timestamp", &out);
}

/// `sign sigstore` against the Rekor v1 flavour with `extra` arguments.
fn sign_with(env: &[(&str, &str)], extra: &[&str]) -> (Output, tempfile::TempDir) {
    let standin = StandIn::shared();
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = small_model(tmp.path(), "model");
    let mut cmd = ours();
    cmd.args(["sign", "sigstore"])
        .arg(&model)
        .arg("--signature")
        .arg(tmp.path().join("model.sig"))
        .arg("--trust-config")
        .arg(standin.trust_config(Flavour::RekorV1))
        .args(extra)
        .arg("--json");
    for (k, v) in env {
        cmd.env(k, v);
    }
    (output(&mut cmd), tmp)
}

fn signed_identity(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    doc["signer"]["identity"]
        .as_str()
        .expect("identity")
        .to_owned()
}

/// Serves one HTTP request on loopback with `body`; returns the URL and a
/// receiver for the request head.
fn serve_once(body: String) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => head.push_str(&line),
            }
        }
        let mut stream = reader.into_inner();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.flush();
        let _ = tx.send(head);
    });
    (format!("http://{addr}"), rx)
}

#[test]
fn identity_token_sources() {
    let standin = StandIn::shared();

    // A file (with a trailing newline), and SIGSTORE_ID_TOKEN.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("token");
    std::fs::write(
        &file,
        format!("{}\n", token(standin, "https://example.com/file")),
    )
    .expect("write");
    let (out, _tmp) = sign_with(
        &[],
        &["--identity-token-file", file.to_str().expect("utf-8")],
    );
    assert_eq!(signed_identity(&out), "https://example.com/file");
    let env_token = token(standin, "https://example.com/env");
    let (out, _tmp) = sign_with(&[("SIGSTORE_ID_TOKEN", &env_token)], &[]);
    assert_eq!(signed_identity(&out), "https://example.com/env");
    // The flag comes first.
    let flag_token = token(standin, "https://example.com/flag");
    let (out, _tmp) = sign_with(
        &[("SIGSTORE_ID_TOKEN", &env_token)],
        &["--identity-token", &flag_token],
    );
    assert_eq!(signed_identity(&out), "https://example.com/flag");

    // Refusals: not a JWT (usage), not for sigstore (usage), expired.
    let (out, _tmp) = sign_with(&[], &["--identity-token", "not-a-jwt"]);
    assert_code(&out, 2, "invalid identity token");
    let other_aud = standin
        .identity_token_with(&json!({"sub": "https://example.com/aud", "aud": "other"}))
        .expect("token");
    let (out, _tmp) = sign_with(&[], &["--identity-token", &other_aud]);
    assert!(
        text(&out).contains("not for the audience `sigstore`"),
        "{}",
        text(&out)
    );
    let expired = standin
        .identity_token_with(&json!({"sub": "https://example.com/late", "ttl": -60}))
        .expect("token");
    let (out, _tmp) = sign_with(&[], &["--identity-token", &expired]);
    assert_code(&out, 3, "expired");

    // No token anywhere (and no terminal for the login).
    let (out, _tmp) = sign_with(&[], &[]);
    assert_code(&out, 3, "no identity token");
    assert!(text(&out).contains("hint:"), "{}", text(&out));
}

#[test]
fn ambient_github_actions_credentials() {
    let standin = StandIn::shared();
    let jwt = token(standin, "https://example.com/github");
    let (url, head) = serve_once(json!({ "value": jwt }).to_string());
    let url = format!("{url}/token?api-version=2.0");
    let github = [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token"),
    ];
    // On by default inside CI.
    let (out, _tmp) = sign_with(&github, &[]);
    assert_eq!(signed_identity(&out), "https://example.com/github");
    let head = head.recv().expect("the token endpoint was asked");
    assert!(head.contains("audience=sigstore"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer request-token"),
        "{head}"
    );

    // Off when asked, even in CI.
    let (out, _tmp) = sign_with(&github, &["--no-use-ambient-credentials"]);
    assert_code(&out, 3, "no identity token");
    // Off outside CI unless asked for.
    let outside = &github[1..];
    let (out, _tmp) = sign_with(outside, &[]);
    assert_code(&out, 3, "no identity token");
    let (url, _head) =
        serve_once(json!({ "value": token(standin, "https://example.com/gh2") }).to_string());
    let url = format!("{url}/token");
    let outside = [
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
    ];
    let (out, _tmp) = sign_with(&outside, &["--use_ambient_credentials"]);
    assert_eq!(signed_identity(&out), "https://example.com/gh2");

    // GitHub Actions without `id-token: write`.
    let (out, _tmp) = sign_with(&[("CI", "true"), ("GITHUB_ACTIONS", "true")], &[]);
    assert_code(&out, 3, "ACTIONS_ID_TOKEN_REQUEST_URL");
}

#[test]
fn ambient_google_cloud_credentials() {
    let standin = StandIn::shared();
    let (url, head) = serve_once(token(standin, "https://example.com/gce"));
    let host = url.trim_start_matches("http://").to_owned();
    let (out, _tmp) = sign_with(&[("CI", "true"), ("GCE_METADATA_HOST", &host)], &[]);
    assert_eq!(signed_identity(&out), "https://example.com/gce");
    let head = head.recv().expect("the metadata server was asked");
    assert!(
        head.contains(
            "/computeMetadata/v1/instance/service-accounts/default/identity?audience=sigstore"
        ),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("metadata-flavor: google"),
        "{head}"
    );
}

/// The out-of-band login prints the provider's URL on stderr and reads the
/// code from stdin; the stand-in has no login, so the exchange fails (with
/// the token endpoint's status).
#[test]
fn out_of_band_login() {
    let standin = StandIn::shared();
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = small_model(tmp.path(), "model");
    let mut child = ours()
        .args(["sign", "sigstore"])
        .arg(&model)
        .arg("--signature")
        .arg(tmp.path().join("model.sig"))
        .arg("--trust-config")
        .arg(standin.trust_config(Flavour::RekorV1))
        .args(["--oauth-force-oob", "--client-id", "my-client"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"the-code\n")
        .expect("write the code");
    let mut stderr = String::new();
    let status = {
        let mut pipe = child.stderr.take().expect("stderr");
        pipe.read_to_string(&mut stderr).expect("read");
        child.wait().expect("wait")
    };
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("{}/auth?", standin.issuer())),
        "{stderr}"
    );
    assert!(stderr.contains("client_id=my-client"), "{stderr}");
    assert!(stderr.contains("Enter verification code"), "{stderr}");
    assert!(stderr.contains("interactive login failed"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the token endpoint {}/oauth2/token answered HTTP 501",
            standin.issuer()
        )),
        "{stderr}"
    );
}

/// `sign sigstore --oauth-force-oob --client-secret S` against an identity
/// provider with a confidential client (the harness's loopback provider,
/// named in a copy of the stand-in's trust config): the URL on stderr, the
/// code the provider's page shows on stdin; returns the exit code, stdout
/// and stderr.
fn sign_after_login(trust: &Path, model: &Path, sig: &Path, secret: &str) -> (i32, String, String) {
    let mut child = ours()
        .args(["sign", "sigstore"])
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .arg("--trust_config")
        .arg(trust)
        .args([
            "--oauth_force_oob",
            "--client_id",
            "my-client",
            "--client_secret",
            secret,
        ])
        .arg("--json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut shown = String::new();
    let url = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("read stderr") == 0 {
            panic!("no login URL on stderr:\n{shown}");
        }
        shown.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("http://") {
            break format!("http://{url}");
        }
    };
    // The user opens the page and pastes the code it shows.
    let code = oauth::authorize(&url).expect("the provider's page");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{code}\n").as_bytes())
        .expect("paste the code");
    stderr.read_to_string(&mut shown).expect("read stderr");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        shown,
    )
}

#[test]
fn login_with_a_client_secret() {
    let standin = StandIn::shared();
    let subject = "https://example.com/cli-confidential-client";
    let provider = OAuthProvider::start(ProviderOptions {
        client_secret: Some("s3cret".into()),
        ..ProviderOptions::new("my-client", &token(standin, subject))
    })
    .expect("provider");
    let tmp = tempfile::tempdir().expect("tempdir");
    let trust = tmp.path().join("trust_config.json");
    oauth::trust_config_with_issuer(
        standin.trust_config(Flavour::RekorV1),
        provider.url(),
        &trust,
    )
    .expect("trust config");
    let model = small_model(tmp.path(), "model");
    let sig = tmp.path().join("model.sig");

    let (code, stdout, stderr) = sign_after_login(&trust, &model, &sig, "s3cret");
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(doc["signer"]["identity"], subject, "{stdout}");
    assert!(stderr.contains("Enter verification code"), "{stderr}");
    let log = provider.log();
    assert_eq!(
        log.token_requests[0].basic,
        Some(("my-client".to_owned(), "s3cret".to_owned()))
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    let out = we_verify(
        standin.trust_config(Flavour::RekorV1),
        &model,
        &sig,
        subject,
        standin.issuer(),
    );
    assert_code(&out, 0, "");

    // A wrong secret: the provider's refusal, with its status, and a hint.
    let (code, _, stderr) = sign_after_login(&trust, &model, &sig, "not-the-secret");
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the token endpoint {}/token answered HTTP 401: invalid_client",
            provider.url()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("check --client-id and --client-secret"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-secret"), "{stderr}");
}

/// Buildkite and CircleCI hand out tokens through their agents' commands;
/// stand-in scripts on `PATH` play them.
#[cfg(unix)]
#[test]
fn ambient_buildkite_and_circleci_credentials() {
    use std::os::unix::fs::PermissionsExt;
    let standin = StandIn::shared();
    for (tool, variable, subject) in [
        (
            "buildkite-agent",
            "BUILDKITE",
            "https://example.com/buildkite",
        ),
        ("circleci", "CIRCLECI", "https://example.com/circleci"),
    ] {
        let bin = tempfile::tempdir().expect("tempdir");
        let args_file = bin.path().join("args");
        let script = bin.path().join(tool);
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$@\" > '{}'\necho '{}'\n",
                args_file.display(),
                token(standin, subject)
            ),
        )
        .expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let path = format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let (out, _tmp) = sign_with(&[("CI", "true"), (variable, "true"), ("PATH", &path)], &[]);
        assert_eq!(signed_identity(&out), subject);
        let args = std::fs::read_to_string(&args_file).expect("the tool ran");
        assert!(args.contains("sigstore"), "{tool} {args}");
    }
}

/// Verifies the DSSE envelope of each bundle in a claims file with
/// sigstore-python (the reference's dependency), as any Sigstore client
/// would: the claims are standard Sigstore bundles. Prints the payload type
/// and the payload of each.
const SIGSTORE_PYTHON_VERIFY_DSSE: &str = r#"
import sys
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy

config = ClientTrustConfig.from_json(open(sys.argv[1]).read())
verifier = Verifier(trusted_root=config.trusted_root)
identity = policy.Identity(identity=sys.argv[3], issuer=sys.argv[4])
for line in open(sys.argv[2]).read().splitlines():
    if line.strip():
        payload_type, payload = verifier.verify_dsse(Bundle.from_json(line), identity)
        print(payload_type)
        print(payload.decode())
"#;

#[test]
fn sigstore_claims_verify_here_and_with_sigstore_python() {
    let standin = StandIn::shared();
    let flavour = Flavour::RekorV2;
    let config = standin.trust_config(flavour);
    let dir = tempfile::tempdir().expect("tempdir");
    let model = small_model(dir.path(), "claimed");
    let sig = dir.path().join("model.sig");
    let claims = dir.path().join("claims.jsonl");
    let predicate = dir.path().join("card.json");
    std::fs::write(&predicate, r#"{"frontMatter": {"license": "mit"}, "readme": {"sha256": "0000000000000000000000000000000000000000000000000000000000000000", "size": 0}}"#)
        .expect("write predicate");
    let signer = "model-owner@example.com";
    let attester = "evaluator@example.com";
    we_sign(flavour, &model, &sig, signer);
    let card =
        "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#model-card-v1";
    let out = output(
        ours()
            .args(["attest", "sigstore"])
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--claims")
            .arg(&claims)
            .args(["--predicate-type", card, "--predicate"])
            .arg(&predicate)
            .arg("--trust-config")
            .arg(config)
            .arg("--identity-token")
            .arg(token(standin, attester)),
    );
    assert_code(&out, 0, "Attested");

    let verify = |extra: &[&str]| {
        output(
            ours()
                .args(["verify", "sigstore"])
                .arg(&model)
                .arg("--signature")
                .arg(&sig)
                .arg("--trust-config")
                .arg(config)
                .args([
                    "--identity",
                    signer,
                    "--identity-provider",
                    standin.issuer(),
                ])
                .arg("--claims")
                .arg(&claims)
                .args(extra)
                .arg("--json"),
        )
    };
    // The attester is not trusted for claims unless named.
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["claims"][0]["verdict"], "signature_failed", "{doc}");
    assert_eq!(doc["error"]["kind"], "claims_invalid", "{doc}");
    let out = verify(&[
        "--claim-identity",
        attester,
        "--claim-identity-provider",
        standin.issuer(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let claim = &doc["claims"][0];
    assert_eq!(claim["verdict"], "valid", "{doc}");
    assert_eq!(claim["signer"]["kind"], "sigstore");
    assert_eq!(claim["signer"]["identity"], attester);
    assert_eq!(claim["predicate_type"], card);

    // sigstore-python verifies the claim as a DSSE Sigstore bundle; the
    // payload is the in-toto statement naming the model and its signature.
    let script = dir.path().join("verify_dsse.py");
    std::fs::write(&script, SIGSTORE_PYTHON_VERIFY_DSSE).expect("write script");
    let out = run(
        &sigstore_standin_harness::reference::python(),
        [
            script.as_os_str(),
            config.as_os_str(),
            claims.as_os_str(),
            std::ffi::OsStr::new(attester),
            std::ffi::OsStr::new(standin.issuer()),
        ],
    );
    assert_success("sigstore-python verify_dsse", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (payload_type, statement) = stdout.split_once('\n').expect("two lines");
    assert_eq!(payload_type, "application/vnd.in-toto+json");
    let statement: Value = serde_json::from_str(statement.trim()).expect("statement");
    assert_eq!(statement["predicateType"], card);
    let bundle: Value = read_json(&sig);
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        bundle["dsseEnvelope"]["payload"].as_str().expect("payload"),
    )
    .expect("base64");
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&payload));
    assert_eq!(statement["subject"][1]["digest"]["sha256"], digest.as_str());
    // And fails it for another identity.
    let out = run(
        &sigstore_standin_harness::reference::python(),
        [
            script.as_os_str(),
            config.as_os_str(),
            claims.as_os_str(),
            std::ffi::OsStr::new(signer),
            std::ffi::OsStr::new(standin.issuer()),
        ],
    );
    assert_failure("sigstore-python with another identity", &out);
}

//! `sign key|certificate --tsa-url` and `verify key|certificate
//! --tsa-certificate-chain` against two real RFC 3161 timestamp authorities
//! on 127.0.0.1: `openssl ts` behind an HTTP wrapper (testkit::tsa; at a
//! chosen time under `faketime`) and the Sigstore stand-in's TSA (Node.js).
//! The Python reference verifies the timestamped signatures (it does not
//! read the timestamps).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use model_signing::keys::KeyAlgorithm;
use serde_json::Value;
use sigstore_standin_harness::StandIn;
use testkit as support;
use testkit::certs::Spec;
use testkit::reference;
use testkit::tsa::{trusted_root_tsa_chain, Mode, OpensslTsa, TsaKey};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_model-signing")
}

fn cli(cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run model-signing")
}

/// The CLI with the clock at `time` (`faketime` syntax).
fn cli_at(cwd: &Path, time: &str, args: &[&str]) -> Output {
    Command::new("faketime")
        .arg(time)
        .arg(bin())
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("faketime is installed (Debian package faketime)")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> String {
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    t
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// The stand-in TSA's URL and its certificates as a PEM file in `dir`.
fn standin_tsa(dir: &Path) -> (String, PathBuf) {
    let standin = StandIn::shared();
    let chain = dir.join("standin-tsa.pem");
    trusted_root_tsa_chain(standin.trusted_root(), &chain);
    (format!("{}/api/v1/timestamp", standin.urls().tsa), chain)
}

struct Keys {
    key: PathBuf,
    public: PathBuf,
}

fn keys(dir: &Path) -> Keys {
    let k = support::key(KeyAlgorithm::EcdsaP256Sha256);
    let key = dir.join("key.pem");
    let public = dir.join("key.pub");
    std::fs::write(&key, k.to_pkcs8_pem().as_bytes()).expect("write key");
    std::fs::write(&public, support::public(&k).to_pem()).expect("write public key");
    Keys { key, public }
}

/// A root (2020..2040) and a code-signing leaf valid `from..to`, as files.
struct Certs {
    root: PathBuf,
    leaf: PathBuf,
    key: PathBuf,
}

fn certs(dir: &Path, from: i64, to: i64) -> Certs {
    let root_key = support::key(KeyAlgorithm::EcdsaP384Sha384);
    let root = Spec::ca("CLI Timestamp Root")
        .validity(1_577_836_800, 2_208_988_800)
        .self_signed(&root_key);
    let leaf_key = support::key(KeyAlgorithm::EcdsaP256Sha256);
    let leaf = Spec::leaf("CLI Timestamp Signer").validity(from, to).issue(
        support::public(&leaf_key),
        "CLI Timestamp Root",
        &root_key,
    );
    let files = Certs {
        root: dir.join("root.pem"),
        leaf: dir.join("leaf.pem"),
        key: dir.join("leaf-key.pem"),
    };
    std::fs::write(&files.root, root.to_pem()).expect("write root");
    std::fs::write(&files.leaf, leaf.to_pem()).expect("write leaf");
    std::fs::write(&files.key, leaf_key.to_pkcs8_pem().as_bytes()).expect("write key");
    files
}

#[test]
fn a_key_signature_timestamped_by_openssl_verifies_here_and_with_the_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = support::small_model(d);
    let k = keys(d);
    let tsa = OpensslTsa::start("OpenSSL TSA", TsaKey::Rsa);
    let sig = d.join("model.sig");
    let out = cli(
        d,
        &[
            "sign",
            "key",
            s(&model),
            "--private-key",
            s(&k.key),
            "--signature",
            s(&sig),
            "--tsa-url",
            tsa.url(),
            "--json",
        ],
    );
    let signed = json(&out);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(signed["timestamps"][0]["authority"], tsa.url());
    assert!(signed["timestamps"][0]["time"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(tsa.requests(), 1);

    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "key",
            s(&model),
            "--signature",
            s(&sig),
            "--public-key",
            s(&k.public),
        ];
        args.extend_from_slice(extra);
        cli(d, &args)
    };
    let chain = tsa.chain_pem();
    let t = ok(verify(&["--tsa-certificate-chain", s(&chain)]));
    assert!(t.contains("signed at 20"), "{t}");
    assert!(t.contains("(a verified RFC 3161 timestamp)"), "{t}");
    let out = verify(&["--tsa-certificate-chain", s(&chain), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["signed_at"], signed["timestamps"][0]["time"]);
    // Without a trusted authority: verified, the timestamp unused, said so.
    let t = ok(verify(&[]));
    assert!(
        t.contains("1 RFC 3161 timestamp, not checked and not used"),
        "{t}"
    );
    assert!(!t.contains("signed at"), "{t}");

    let out = reference::run_cli_ok(
        d,
        &[
            "verify",
            "key",
            s(&model),
            "--signature",
            s(&sig),
            "--public_key",
            s(&k.public),
        ],
    );
    assert!(out.contains("Verification succeeded"), "{out}");
}

#[test]
fn two_authorities_each_must_be_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = support::small_model(d);
    let t0 = support::now();
    let c = certs(d, t0 - 3600, t0 + 86_400);
    let openssl = OpensslTsa::start("OpenSSL TSA", TsaKey::EcP256);
    let (standin_url, standin_chain) = standin_tsa(d);
    let sig = d.join("model.sig");
    ok(cli(
        d,
        &[
            "sign",
            "certificate",
            s(&model),
            "--private-key",
            s(&c.key),
            "--signing-certificate",
            s(&c.leaf),
            "--signature",
            s(&sig),
            "--tsa-url",
            &standin_url,
            "--tsa-url",
            openssl.url(),
        ],
    ));
    let inspect = ok(cli(d, &["inspect", s(&sig)]));
    assert!(
        inspect.contains("by O=sigstore.mock,CN=tsa signing (serial"),
        "{inspect}"
    );
    assert!(inspect.contains("by CN=OpenSSL TSA (serial"), "{inspect}");
    assert!(!inspect.contains("NOT over"), "{inspect}");

    let verify = |chains: &[&Path], json: bool| {
        let mut args = vec![
            "verify",
            "certificate",
            s(&model),
            "--signature",
            s(&sig),
            "--certificate-chain",
            s(&c.root),
        ];
        for chain in chains {
            args.extend_from_slice(&["--tsa-certificate-chain", s(chain)]);
        }
        if json {
            args.push("--json");
        }
        cli(d, &args)
    };
    let openssl_chain = openssl.root_pem();
    ok(verify(&[&standin_chain, &openssl_chain], false));
    // Only the OpenSSL authority trusted: the stand-in's timestamp (the
    // first) fails, and with it the verification.
    let out = verify(&[&openssl_chain], false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("a timestamp of the signature cannot be trusted"),
        "{t}"
    );
    assert!(t.contains("timestamp 1 of 2"), "{t}");
    let out = verify(&[&openssl_chain], true);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "untrusted_timestamp");

    let out = reference::run_cli_ok(
        d,
        &[
            "verify",
            "certificate",
            s(&model),
            "--signature",
            s(&sig),
            "--certificate_chain",
            s(&c.root),
        ],
    );
    assert!(out.contains("Verification succeeded"), "{out}");
}

#[test]
fn an_expired_certificate_verifies_by_its_timestamp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = support::small_model(d);
    // Valid through 2024 only; signed (and stamped) on 2024-06-01.
    let c = certs(d, 1_704_067_200, 1_735_689_600);
    let tsa = OpensslTsa::start("OpenSSL TSA", TsaKey::Rsa);
    tsa.set_time(Some("2024-06-01 12:00:00"));
    let sig = d.join("model.sig");
    let t = ok(cli_at(
        d,
        "2024-06-01 12:00:00",
        &[
            "sign",
            "certificate",
            s(&model),
            "--private-key",
            s(&c.key),
            "--signing-certificate",
            s(&c.leaf),
            "--signature",
            s(&sig),
            "--tsa-url",
            tsa.url(),
        ],
    ));
    assert!(t.contains("timestamped at 2024-06-01T12:00:"), "{t}");

    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "certificate",
            s(&model),
            "--signature",
            s(&sig),
            "--certificate-chain",
            s(&c.root),
        ];
        args.extend_from_slice(extra);
        cli(d, &args)
    };
    let chain = tsa.chain_pem();
    let t = ok(verify(&["--tsa-certificate-chain", s(&chain)]));
    assert!(t.contains("signed at 2024-06-01T12:00:"), "{t}");
    // Checked now without it: expired, with the way out in the hint.
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(t.contains("expired at 2025-01-01"), "{t}");
    assert!(
        t.contains("sign with --tsa-url, and verify with --tsa-certificate-chain"),
        "{t}"
    );
}

#[test]
fn a_timestamp_outside_the_certificates_validity_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = support::small_model(d);
    let t0 = support::now();
    let c = certs(d, t0 - 3600, t0 + 86_400);
    let (standin_url, standin_chain) = standin_tsa(d);
    // The stand-in stamps two days ahead: after the certificate expired.
    let skewed = standin_url.replace("/api/v1/timestamp", "/skew/172800/api/v1/timestamp");
    let sig = d.join("model.sig");
    ok(cli(
        d,
        &[
            "sign",
            "certificate",
            s(&model),
            "--private-key",
            s(&c.key),
            "--signing-certificate",
            s(&c.leaf),
            "--signature",
            s(&sig),
            "--tsa-url",
            &skewed,
        ],
    ));
    let out = cli(
        d,
        &[
            "verify",
            "certificate",
            s(&model),
            "--signature",
            s(&sig),
            "--certificate-chain",
            s(&c.root),
            "--tsa-certificate-chain",
            s(&standin_chain),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "untrusted_certificate", "{doc}");
    let message = doc["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned()
        + doc["error"]["causes"].to_string().as_str();
    assert!(message.contains("at the time of its timestamp"), "{doc}");
    assert!(
        message.contains("CN=CLI Timestamp Signer expired at"),
        "{doc}"
    );
}

#[test]
fn signing_fails_when_the_authority_misbehaves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = support::small_model(d);
    let k = keys(d);
    let tsa = OpensslTsa::start("OpenSSL TSA", TsaKey::EcP256);
    let sig = d.join("model.sig");
    let cases = [
        (Mode::WrongNonce, "is not the request's"),
        (Mode::OtherImprint, "is over other bytes than the signature"),
        (Mode::Reject, "was not granted: status 2"),
        (Mode::HttpError, "answered HTTP 500"),
        (Mode::Oversized, "larger than 262144 bytes"),
    ];
    for (mode, expected) in cases {
        tsa.set_mode(mode.clone());
        let out = cli(
            d,
            &[
                "sign",
                "key",
                s(&model),
                "--private-key",
                s(&k.key),
                "--signature",
                s(&sig),
                "--tsa-url",
                tsa.url(),
            ],
        );
        let t = text(&out);
        assert_eq!(out.status.code(), Some(3), "{mode:?}: {t}");
        assert!(
            t.contains(&format!("cannot get a timestamp from {}", tsa.url())),
            "{mode:?}: {t}"
        );
        assert!(t.contains(expected), "{mode:?}: {t}");
        assert!(!sig.exists(), "{mode:?}: a signature was written");
    }
    // Not an HTTP URL: a usage error before any hashing.
    for url in ["ftp://127.0.0.1/tsr", "127.0.0.1:1/tsr", "http://"] {
        let out = cli(
            d,
            &[
                "sign",
                "key",
                s(&model),
                "--private-key",
                s(&k.key),
                "--signature",
                s(&sig),
                "--tsa-url",
                url,
            ],
        );
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{url}: {t}");
        assert!(
            t.contains("is not an http:// or https:// URL"),
            "{url}: {t}"
        );
    }
    // Nobody listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{closed}/tsr");
    let out = cli(
        d,
        &[
            "sign",
            "key",
            s(&model),
            "--private-key",
            s(&k.key),
            "--signature",
            s(&sig),
            "--tsa-url",
            &url,
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("the request failed"), "{}", text(&out));
    assert!(!sig.exists());
}

#[test]
fn tsa_certificate_chain_files_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = support::small_model(d);
    let k = keys(d);
    let sig = d.join("model.sig");
    ok(cli(
        d,
        &[
            "sign",
            "key",
            s(&model),
            "--private-key",
            s(&k.key),
            "--signature",
            s(&sig),
        ],
    ));
    let leaf_only = d.join("leaf-only.pem");
    let tsa = OpensslTsa::start("OpenSSL TSA", TsaKey::EcP256);
    let chain = std::fs::read_to_string(tsa.chain_pem()).expect("chain");
    let end = chain.find("-----END CERTIFICATE-----").expect("pem") + 26;
    std::fs::write(&leaf_only, &chain[..end]).expect("write");
    let missing = d.join("missing.pem");
    for (file, expected, code) in [
        (&leaf_only, "no root certificate", 2),
        (&missing, "missing.pem", 3),
    ] {
        let out = cli(
            d,
            &[
                "verify",
                "key",
                s(&model),
                "--signature",
                s(&sig),
                "--public-key",
                s(&k.public),
                "--tsa-certificate-chain",
                s(file),
            ],
        );
        let t = text(&out);
        assert_eq!(out.status.code(), Some(code), "{t}");
        assert!(t.contains(expected), "{t}");
    }
    // A signature without timestamps, an authority trusted: checked as before.
    ok(cli(
        d,
        &[
            "verify",
            "key",
            s(&model),
            "--signature",
            s(&sig),
            "--public-key",
            s(&k.public),
            "--tsa-certificate-chain",
            s(&tsa.chain_pem()),
        ],
    ));
}

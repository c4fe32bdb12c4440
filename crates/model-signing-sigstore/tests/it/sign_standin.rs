//! Keyless signing through the loopback Sigstore stand-in: the signer's own
//! checks (certificate chain and SCT before signing, the finished bundle
//! verified before it is returned), its identity token sources, and sign →
//! verify for every flavour. One stand-in serves the whole test binary; a
//! second one supplies foreign trust material.

use std::path::Path;
use std::sync::OnceLock;

use model_signing::bundle::Bundle;
use model_signing::dsse::IN_TOTO_PAYLOAD_TYPE;
use model_signing::hashing::{HashConfig, NoProgress};
use model_signing::sign::{sign_model, SignError};
use model_signing::verify::verify_bundle;
use model_signing_sigstore::{
    Artifact, IdentityPolicy, IdentityToken, InteractiveLogin, LoginCallbacks, LoginError, Secret,
    SigningConfig, SigningError, SigstoreBundle, SigstoreSigner, SigstoreVerifier, TokenSource,
    TrustRoot,
};
use serde_json::{json, Value};
use sigstore_standin_harness::{Flavour, StandIn};

fn other_instance() -> &'static StandIn {
    static OTHER: OnceLock<StandIn> = OnceLock::new();
    OTHER.get_or_init(|| StandIn::start().unwrap_or_else(|e| panic!("{e}")))
}

fn token(standin: &StandIn, subject: &str) -> IdentityToken {
    let jwt = standin.identity_token(subject).expect("token");
    IdentityToken::parse(&jwt).expect("a JWT")
}

fn config(flavour: Flavour) -> SigningConfig {
    SigningConfig::from_trust_config_file(StandIn::shared().trust_config(flavour))
        .expect("the stand-in's trust config loads")
}

fn signer(flavour: Flavour, subject: &str) -> SigstoreSigner {
    let standin = StandIn::shared();
    SigstoreSigner::new(
        config(flavour),
        vec![TokenSource::Token(token(standin, subject))],
    )
    .expect("signer")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON")
}

/// The signing error inside a core `SignError`.
fn signing_error(e: &SignError) -> &SigningError {
    match e {
        SignError::Method { method, source } => {
            assert_eq!(*method, "sigstore");
            source
                .downcast_ref::<SigningError>()
                .expect("a SigningError")
        }
        other => panic!("unexpected error {other:?}"),
    }
}

fn model(dir: &Path) -> std::path::PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(&model).expect("mkdir");
    std::fs::write(model.join("weights.bin"), vec![3u8; 10_000]).expect("write");
    std::fs::write(model.join("config.json"), b"{}\n").expect("write");
    model
}

fn sign_and_verify_model(flavour: Flavour) {
    let standin = StandIn::shared();
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model(tmp.path());
    let subject = format!("https://example.com/lib/{}", flavour.name());
    let signer = signer(flavour, &subject);
    let (bundle, manifest) =
        sign_model(&model, &HashConfig::new(), &signer, &NoProgress).expect("signs");
    let text = bundle.to_json();
    let value: Value = serde_json::from_str(&text).expect("JSON");
    let entry = &value["verificationMaterial"]["tlogEntries"][0];
    let timestamps = value["verificationMaterial"]["timestampVerificationData"]
        ["rfc3161Timestamps"]
        .as_array()
        .map_or(0, Vec::len);
    match flavour {
        Flavour::RekorV1 | Flavour::RekorV1Tsa => {
            assert_eq!(
                entry["kindVersion"],
                json!({"kind": "dsse", "version": "0.0.1"})
            );
            assert!(entry["inclusionPromise"]["signedEntryTimestamp"].is_string());
            assert_eq!(timestamps, usize::from(flavour == Flavour::RekorV1Tsa));
        }
        Flavour::RekorV2 => {
            assert_eq!(
                entry["kindVersion"],
                json!({"kind": "hashedrekord", "version": "0.0.2"})
            );
            assert_eq!(timestamps, 1);
        }
    }

    // In memory, without a JSON round trip, the bundle verifies: its log
    // entry and timestamps are those that were signed.
    let trust = || TrustRoot::from_trust_config_file(standin.trust_config(flavour)).expect("trust");
    verify_bundle(
        &bundle,
        &SigstoreVerifier::new(trust(), IdentityPolicy::exact(&subject, standin.issuer())),
    )
    .expect("the in-memory bundle verifies")
    .check_model(&model, &Default::default(), &NoProgress)
    .expect("the model matches");

    // The core reads it back and our verifier accepts it for this identity only.
    let parsed = Bundle::from_json(text.as_bytes()).expect("parses");
    let verified = verify_bundle(
        &parsed,
        &SigstoreVerifier::new(trust(), IdentityPolicy::exact(&subject, standin.issuer())),
    )
    .expect("verifies");
    verified
        .check_model(&model, &Default::default(), &NoProgress)
        .expect("the model matches");
    assert_eq!(manifest.resources.len(), 2);
    assert!(verify_bundle(
        &parsed,
        &SigstoreVerifier::new(
            trust(),
            IdentityPolicy::exact("https://example.com/other", standin.issuer())
        ),
    )
    .is_err());
}

#[test]
fn signs_models_rekor_v1() {
    sign_and_verify_model(Flavour::RekorV1);
}

#[test]
fn signs_models_rekor_v1_with_tsa() {
    sign_and_verify_model(Flavour::RekorV1Tsa);
}

#[test]
fn signs_models_rekor_v2() {
    sign_and_verify_model(Flavour::RekorV2);
}

#[test]
fn signs_messages_and_statements() {
    let standin = StandIn::shared();
    for flavour in [Flavour::RekorV1, Flavour::RekorV2] {
        let subject = format!("https://example.com/message/{}", flavour.name());
        let signer = signer(flavour, &subject);
        let trust = || TrustRoot::from_trusted_root_file(standin.trusted_root()).expect("trust");
        let verifier =
            SigstoreVerifier::new(trust(), IdentityPolicy::exact(&subject, standin.issuer()));

        let artifact = b"an artifact\n";
        let signed = signer.sign_message(artifact).expect("signs");
        assert_eq!(signed.identity(), Some(subject.as_str()));
        assert_eq!(signed.issuer(), Some(standin.issuer()));
        let bundle = SigstoreBundle::from_json(signed.to_json().as_bytes()).expect("bundle");
        verifier
            .verify_artifact(&bundle, &Artifact::Bytes(artifact))
            .expect("the message signature verifies");
        assert!(verifier
            .verify_artifact(&bundle, &Artifact::Bytes(b"another artifact\n"))
            .is_err());

        let digest = "c0ffee".repeat(10) + "c0ff";
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "a", "digest": {"sha256": digest}}],
            "predicateType": "https://example.com/p",
            "predicate": {},
        })
        .to_string();
        let signed = signer
            .sign_dsse(IN_TOTO_PAYLOAD_TYPE, statement.as_bytes())
            .expect("signs");
        let bundle = SigstoreBundle::from_json(signed.to_json().as_bytes()).expect("bundle");
        verifier
            .verify_artifact(
                &bundle,
                &Artifact::parse_digest(&format!("sha256:{digest}")).expect("digest"),
            )
            .expect("the statement verifies");
    }
}

/// Trust material whose Fulcio CA (or CT log) is another instance's: the
/// certificate must be refused before anything is signed or logged.
#[test]
fn refuses_certificates_the_trusted_root_does_not_vouch_for() {
    // A private instance: other tests log to the shared one concurrently,
    // which would move its tree size between the two reads below.
    let private = StandIn::start().expect("stand-in");
    let standin = &private;
    let ours = read_json(standin.trust_config(Flavour::RekorV1));
    let theirs = read_json(other_instance().trust_config(Flavour::RekorV1));
    let log_size = || {
        let url = format!("{}/api/v1/log", standin.urls().rekor_v1);
        let body = sigstore_standin_harness::http::get(&url)
            .expect("log info")
            .body;
        serde_json::from_slice::<Value>(&body).expect("JSON")["treeSize"].clone()
    };

    for (field, expected) in [
        (
            "certificateAuthorities",
            "does not chain to a trusted Fulcio CA",
        ),
        ("ctlogs", "SCT"),
    ] {
        let mut mixed = ours.clone();
        mixed["trustedRoot"][field] = theirs["trustedRoot"][field].clone();
        let config = SigningConfig::from_trust_config_json(mixed.to_string().as_bytes(), field)
            .expect("loads");
        let signer = SigstoreSigner::new(
            config,
            vec![TokenSource::Token(token(standin, "https://example.com/x"))],
        )
        .expect("signer");
        let before = log_size();
        let err = signer.sign_message(b"x").expect_err("refused");
        assert!(
            matches!(&err, SigningError::CertificateRejected(d) if d.contains(expected)),
            "{field}: {err}"
        );
        assert_eq!(log_size(), before, "{field}: nothing was logged");
    }
}

/// A timestamp authority whose time lies outside the certificate's
/// validity: the finished bundle does not verify, so the signer reports it
/// instead of returning it.
#[test]
fn refuses_a_bundle_stamped_outside_the_certificate_validity() {
    let standin = StandIn::shared();
    let mut config = read_json(standin.trust_config(Flavour::RekorV2));
    let skewed = format!("{}/skew/3600/api/v1/timestamp", standin.urls().tsa);
    config["signingConfig"]["tsaUrls"][0]["url"] = json!(skewed);
    let config = SigningConfig::from_trust_config_json(config.to_string().as_bytes(), "skewed")
        .expect("loads");
    let signer = SigstoreSigner::new(
        config,
        vec![TokenSource::Token(token(
            standin,
            "https://example.com/skew",
        ))],
    )
    .expect("signer");
    let err = signer.sign_message(b"late").expect_err("refused");
    assert!(
        matches!(&err, SigningError::SelfCheck(_)),
        "{err}: {:?}",
        std::error::Error::source(&err)
    );
}

#[test]
fn token_sources() {
    let standin = StandIn::shared();
    let config = || config(Flavour::RekorV1);

    // Nothing to get a token from.
    let err = SigstoreSigner::new(config(), vec![])
        .expect("signer")
        .sign_message(b"x")
        .expect_err("no token");
    assert!(matches!(err, SigningError::NoToken), "{err}");

    // An expired token is refused before Fulcio is asked.
    let expired = standin
        .identity_token_with(&json!({"sub": "https://example.com/late", "ttl": -60}))
        .expect("token");
    let expired = IdentityToken::parse(&expired).expect("JWT");
    assert!(expired.is_expired());
    let err = SigstoreSigner::new(config(), vec![TokenSource::Token(expired)])
        .expect("signer")
        .sign_message(b"x")
        .expect_err("expired");
    assert!(matches!(err, SigningError::TokenExpired { .. }), "{err}");

    // Not a JWT.
    assert!(matches!(
        IdentityToken::parse("not-a-jwt"),
        Err(SigningError::InvalidToken(_))
    ));

    // The first source that gives a token wins.
    let subject = "https://example.com/first";
    let signed = SigstoreSigner::new(
        config(),
        vec![
            TokenSource::Token(token(standin, subject)),
            TokenSource::Token(token(standin, "https://example.com/second")),
        ],
    )
    .expect("signer")
    .sign_message(b"x")
    .expect("signs");
    assert_eq!(signed.identity(), Some(subject));
}

#[derive(Default)]
struct Recorder {
    urls: std::sync::Mutex<Vec<(String, bool)>>,
}

impl LoginCallbacks for Recorder {
    fn login_url(&self, url: &str, browser_opened: bool) {
        self.urls
            .lock()
            .expect("lock")
            .push((url.to_owned(), browser_opened));
    }
    fn prompt_for_code(&self) -> std::io::Result<Secret> {
        Ok(Secret::from("the-code"))
    }
}

/// The out-of-band login goes through the callbacks: the login page of
/// the signing config's identity provider (from its discovery document)
/// with PKCE, then the code exchange, which the stand-in refuses (it has no
/// interactive login; `tests/oauth.rs` logs in against a provider that
/// has one).
#[test]
fn out_of_band_login_uses_the_callbacks() {
    let standin = StandIn::shared();
    let recorder = std::sync::Arc::new(Recorder::default());
    struct Shared(std::sync::Arc<Recorder>);
    impl LoginCallbacks for Shared {
        fn login_url(&self, url: &str, browser_opened: bool) {
            self.0.login_url(url, browser_opened);
        }
        fn prompt_for_code(&self) -> std::io::Result<Secret> {
            self.0.prompt_for_code()
        }
    }
    let login = InteractiveLogin {
        force_oob: true,
        client_id: "my-client".into(),
        client_secret: Some(Secret::from("s3cret")),
    };
    let err = SigstoreSigner::new(
        config(Flavour::RekorV1),
        vec![TokenSource::Interactive(login)],
    )
    .expect("signer")
    .with_callbacks(Box::new(Shared(recorder.clone())))
    .sign_message(b"x")
    .expect_err("the stand-in has no login");
    assert!(
        matches!(
            &err,
            SigningError::Login(LoginError::Status { status: 501, url, .. })
                if url == &format!("{}/oauth2/token", standin.issuer())
        ),
        "{err:?}"
    );
    let urls = recorder.urls.lock().expect("lock").clone();
    assert_eq!(urls.len(), 1, "{urls:?}");
    let (url, browser) = &urls[0];
    assert!(!browser);
    assert!(
        url.starts_with(&format!("{}/auth?", standin.issuer())),
        "{url}"
    );
    for part in [
        "client_id=my-client",
        "code_challenge_method=S256",
        "redirect_uri=urn",
    ] {
        assert!(url.contains(part), "{url} lacks {part}");
    }
    assert!(!url.contains("s3cret"), "{url}");
}

/// Through the core `BundleSigner` interface the error keeps its kind.
#[test]
fn errors_reach_the_core_as_method_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = model(tmp.path());
    let signer = SigstoreSigner::new(config(Flavour::RekorV1), vec![]).expect("signer");
    let err = sign_model(&model, &HashConfig::new(), &signer, &NoProgress).expect_err("no token");
    assert!(matches!(signing_error(&err), SigningError::NoToken));
}

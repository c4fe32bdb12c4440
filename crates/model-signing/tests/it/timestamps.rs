//! RFC 3161 timestamps on key and certificate signatures, with a real
//! timestamp authority: `openssl ts` (testkit::tsa), at the real time or at a
//! chosen one under `faketime`. Each timestamp is over the DSSE signature
//! bytes; a verifier that trusts the authority checks the certificate at the
//! timestamp's time.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use model_signing::bundle::Bundle;
use model_signing::hashing::{HashConfig, NoProgress};
use model_signing::keys::KeyAlgorithm;
use model_signing::sign::{
    sign_model, BundleSigner, CertificateSigner, KeySigner, SignError, TimestampingSigner,
};
use model_signing::timestamp::{TimestampAuthority, TimestampError, Timestamper};
use model_signing::verify::{
    verify_bundle, CertificateVerifier, KeyVerifier, SignatureVerifier, VerifyError,
};
use model_signing::x509::{CertError, Certificate};
use testkit::certs::{Spec, DAY, HOUR};
use testkit::tsa::{OpensslTsa, TsaKey};
use testkit::{key, now, public, write_files};

/// Stamps through `openssl ts` directly (no HTTP).
struct Direct<'a>(&'a OpensslTsa);

impl Timestamper for Direct<'_> {
    fn name(&self) -> String {
        "openssl".into()
    }

    fn timestamp(
        &self,
        signature: &[u8],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.0.stamp(signature))
    }
}

/// Answers with fixed bytes.
struct Fixed(Vec<u8>);

impl Timestamper for Fixed {
    fn name(&self) -> String {
        "fixed".into()
    }

    fn timestamp(
        &self,
        _signature: &[u8],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.0.clone())
    }
}

fn model() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(
        dir.path(),
        &[("weights.bin", b"weights"), ("config.json", b"{}")],
    );
    dir
}

fn sign_stamped(signer: &dyn BundleSigner, tsas: &[&OpensslTsa]) -> Bundle {
    let model = model();
    let stamped = TimestampingSigner::new(
        signer,
        tsas.iter()
            .map(|t| Box::new(Direct(t)) as Box<dyn Timestamper>)
            .collect(),
    );
    sign_model(model.path(), &HashConfig::new(), &stamped, &NoProgress)
        .expect("sign")
        .0
}

fn authority(path: &std::path::Path) -> TimestampAuthority {
    TimestampAuthority::from_pem(&std::fs::read(path).expect("read chain")).expect("authority")
}

fn set_timestamps(bundle: &mut Bundle, tokens: &[Vec<u8>]) {
    let list: Vec<serde_json::Value> = tokens
        .iter()
        .map(|t| serde_json::json!({ "signedTimestamp": STANDARD.encode(t) }))
        .collect();
    bundle.timestamp_data = Some(serde_json::json!({ "rfc3161Timestamps": list }));
}

fn key_signer() -> (KeySigner, model_signing::keys::PublicKey) {
    let k = key(KeyAlgorithm::EcdsaP256Sha256);
    let public = public(&k).clone();
    (KeySigner::new(Box::new(k)).expect("signer"), public)
}

/// A root valid 2020..2040 and a code-signing leaf valid `from..to`.
struct Chain {
    root: Certificate,
    leaf: Certificate,
    leaf_key: testkit::Key,
}

fn chain(from: i64, to: i64) -> Chain {
    let root_key = key(KeyAlgorithm::EcdsaP384Sha384);
    let root = Spec::ca("Timestamp Test Root")
        .validity(1_577_836_800, 2_208_988_800)
        .self_signed(&root_key);
    let leaf_key = key(KeyAlgorithm::EcdsaP256Sha256);
    let leaf = Spec::leaf("Timestamp Test Signer")
        .validity(from, to)
        .issue(public(&leaf_key), "Timestamp Test Root", &root_key);
    Chain {
        root,
        leaf,
        leaf_key,
    }
}

fn certificate_signer(c: &Chain, at: i64) -> CertificateSigner {
    CertificateSigner::new(Box::new(c.leaf_key.clone()), c.leaf.clone(), Vec::new(), at)
        .expect("certificate signer")
}

fn untrusted(err: VerifyError) -> String {
    match err {
        VerifyError::Timestamp(e @ TimestampError::Untrusted { .. }) => e.to_string(),
        other => panic!("expected an untrusted timestamp, got {other:?}"),
    }
}

#[test]
fn a_key_signature_carries_a_verified_timestamp() {
    for tsa_key in [TsaKey::Rsa, TsaKey::EcP256] {
        let tsa = OpensslTsa::start("Test TSA", tsa_key);
        let (signer, public) = key_signer();
        let before = now();
        let bundle = sign_stamped(&signer, &[&tsa]);
        let after = now();
        let verifier = KeyVerifier::new(public.clone())
            .with_timestamp_authorities(vec![authority(&tsa.chain_pem())]);
        let verified = verify_bundle(&bundle, &verifier).expect("verifies");
        let at = verified.check().signed_at.expect("a verified time");
        assert!(
            (before - 1..=after + 1).contains(&at),
            "{at} not in {before}..{after}"
        );
        assert!(
            verified.check().warnings.is_empty(),
            "{:?}",
            verified.check().warnings
        );

        // The root alone is enough: the token carries its signer.
        let verifier = KeyVerifier::new(public.clone())
            .with_timestamp_authorities(vec![authority(&tsa.root_pem())]);
        assert_eq!(
            verify_bundle(&bundle, &verifier)
                .expect("verifies")
                .check()
                .signed_at,
            Some(at)
        );

        // Without an authority the timestamp is not used, and that is said.
        let check = KeyVerifier::new(public)
            .verify_signature(&bundle)
            .expect("verifies");
        assert_eq!(check.signed_at, None);
        assert_eq!(check.warnings.len(), 1, "{:?}", check.warnings);
        assert!(check.warnings[0].contains("1 RFC 3161 timestamp, not checked and not used"));
    }
}

#[test]
fn the_bundle_stores_whole_timestamp_responses() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let (signer, _) = key_signer();
    let bundle = sign_stamped(&signer, &[&tsa]);
    let json: serde_json::Value = serde_json::from_str(&bundle.to_json()).expect("json");
    let list = json["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .expect("a list");
    assert_eq!(list.len(), 1);
    let der = STANDARD
        .decode(list[0]["signedTimestamp"].as_str().expect("a string"))
        .expect("base64");
    // TimeStampResp: SEQUENCE { PKIStatusInfo SEQUENCE { INTEGER 0 } ... }
    assert_eq!(&der[..1], &[0x30]);
    let token = model_signing::timestamp::Timestamp::from_der(&der, "t").expect("parses");
    assert!(token.covers(&bundle.envelope.signature));
    assert_eq!(
        token.embedded_signer().map(|c| c.subject()).as_deref(),
        Some("CN=Test TSA")
    );
    // The bundle reads back with its timestamp.
    let read = Bundle::from_json(bundle.to_json().as_bytes()).expect("reads");
    assert_eq!(read.timestamp_data, bundle.timestamp_data);
}

#[test]
fn an_expired_certificate_verifies_at_the_time_of_its_timestamp() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::Rsa);
    // A leaf valid in 2024 only, used then; the timestamp says 2024-06-01.
    let c = chain(1_704_067_200, 1_735_689_600);
    tsa.set_time(Some("2024-06-01 12:00:00"));
    let bundle = sign_stamped(&certificate_signer(&c, 1_717_243_200), &[&tsa]);

    let trusted = CertificateVerifier::new(vec![c.root.clone()])
        .with_timestamp_authorities(vec![authority(&tsa.chain_pem())]);
    let verified = verify_bundle(&bundle, &trusted).expect("verifies at the timestamp");
    let at = verified.check().signed_at.expect("signed at");
    assert!((1_717_243_200..1_717_243_260).contains(&at), "{at}");

    // Without the authority it is checked now, and has expired.
    let err = verify_bundle(&bundle, &CertificateVerifier::new(vec![c.root.clone()]))
        .expect_err("expired now");
    assert!(
        matches!(err, VerifyError::Certificate(CertError::Expired { .. })),
        "{err:?}"
    );
}

#[test]
fn a_timestamp_outside_the_certificates_validity_fails() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let t = now();
    let c = chain(t - HOUR, t + DAY);
    // The authority stamps 2021: before the leaf existed.
    tsa.set_time(Some("2021-03-01 00:00:00"));
    let bundle = sign_stamped(&certificate_signer(&c, t), &[&tsa]);
    let verifier = CertificateVerifier::new(vec![c.root.clone()])
        .with_timestamp_authorities(vec![authority(&tsa.chain_pem())]);
    let err = verify_bundle(&bundle, &verifier).expect_err("not valid then");
    match &err {
        VerifyError::CertificateAtTimestamp { time, source } => {
            assert!(time.starts_with("2021-03-01T00:00"), "{time}");
            assert!(
                matches!(source, CertError::NotYetValid { .. }),
                "{source:?}"
            );
        }
        other => panic!("expected CertificateAtTimestamp, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("at the time of its timestamp, 2021-03-01"),
        "{err}"
    );
}

#[test]
fn a_valid_certificate_checked_later_needs_its_timestamp() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let t = now();
    let c = chain(t - HOUR, t + HOUR);
    let bundle = sign_stamped(&certificate_signer(&c, t), &[&tsa]);
    let later = t + 2 * DAY;
    let with = CertificateVerifier::new(vec![c.root.clone()])
        .at_time(later)
        .with_timestamp_authorities(vec![authority(&tsa.chain_pem())]);
    verify_bundle(&bundle, &with).expect("the timestamp time is used");
    let without = CertificateVerifier::new(vec![c.root.clone()]).at_time(later);
    assert!(matches!(
        verify_bundle(&bundle, &without),
        Err(VerifyError::Certificate(CertError::Expired { .. }))
    ));
}

#[test]
fn a_timestamp_over_other_bytes_fails() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let (signer, public) = key_signer();
    let mut bundle = sign_stamped(&signer, &[]);
    set_timestamps(&mut bundle, &[tsa.stamp(b"some other signature")]);
    let verifier =
        KeyVerifier::new(public).with_timestamp_authorities(vec![authority(&tsa.chain_pem())]);
    let err = verify_bundle(&bundle, &verifier).expect_err("other bytes");
    assert!(
        matches!(
            &err,
            VerifyError::Timestamp(TimestampError::OtherBytes { .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.source_text(),
        "timestamp 1 of 1 is over other bytes than the signature (its message imprint differs)"
    );
}

trait SourceText {
    fn source_text(&self) -> String;
}

impl SourceText for VerifyError {
    fn source_text(&self) -> String {
        std::error::Error::source(self)
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

#[test]
fn a_timestamp_signer_without_the_timestamping_purpose_fails() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::Rsa);
    let (signer, public) = key_signer();
    let mut bundle = sign_stamped(&signer, &[]);
    let token = tsa.stamp_without_eku(&bundle.envelope.signature);
    set_timestamps(&mut bundle, &[token]);
    // With the root only (the token carries its signer).
    let verifier =
        KeyVerifier::new(public).with_timestamp_authorities(vec![authority(&tsa.root_pem())]);
    let text = untrusted(verify_bundle(&bundle, &verifier).expect_err("no EKU"));
    assert!(
        text.contains("timeStamping (1.3.6.1.5.5.7.3.8) is not listed"),
        "{text}"
    );
}

#[test]
fn a_timestamp_by_an_authority_not_trusted_fails() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let other = OpensslTsa::start("Other TSA", TsaKey::EcP256);
    let (signer, public) = key_signer();
    let bundle = sign_stamped(&signer, &[&tsa]);
    // The other authority's signing certificate is named: the token's signer is not it.
    let text = untrusted(
        verify_bundle(
            &bundle,
            &KeyVerifier::new(public.clone())
                .with_timestamp_authorities(vec![authority(&other.chain_pem())]),
        )
        .expect_err("other authority"),
    );
    assert!(
        text.contains("not signed by the authority's certificate CN=Other TSA"),
        "{text}"
    );
    // The other authority's root only: no path from the token's signer.
    let text = untrusted(
        verify_bundle(
            &bundle,
            &KeyVerifier::new(public)
                .with_timestamp_authorities(vec![authority(&other.root_pem())]),
        )
        .expect_err("other root"),
    );
    assert!(
        text.contains("no path from certificate CN=Test TSA"),
        "{text}"
    );
}

#[test]
fn every_timestamp_must_verify() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let other = OpensslTsa::start("Other TSA", TsaKey::Rsa);
    let (signer, public) = key_signer();
    let bundle = sign_stamped(&signer, &[&tsa, &other]);
    // Both trusted: both verify, the earliest is reported.
    let both = KeyVerifier::new(public.clone()).with_timestamp_authorities(vec![
        authority(&tsa.chain_pem()),
        authority(&other.chain_pem()),
    ]);
    verify_bundle(&bundle, &both).expect("both verify");
    // One trusted: the second fails, and the bundle with it.
    let one =
        KeyVerifier::new(public).with_timestamp_authorities(vec![authority(&tsa.chain_pem())]);
    let text = untrusted(verify_bundle(&bundle, &one).expect_err("second untrusted"));
    assert!(text.starts_with("timestamp 2 of 2 ("), "{text}");
}

#[test]
fn a_tampered_token_fails() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let (signer, public) = key_signer();
    let bundle = sign_stamped(&signer, &[&tsa]);
    let good = model_signing::timestamp::bundle_timestamps(&bundle).expect("timestamps");
    let verifier =
        KeyVerifier::new(public).with_timestamp_authorities(vec![authority(&tsa.chain_pem())]);
    // Change what the authority signed (a digit of genTime, inside the
    // TSTInfo) and the signature itself (the token's last byte): each must
    // fail. (Bytes outside what is signed, like an embedded certificate when
    // the authority's own certificate is given, do not matter.)
    let token = &good[0];
    let gen_time = token
        .windows(17)
        .position(|w| w[0] == 0x18 && w[1] == 15 && w[16] == b'Z')
        .expect("a whole-second genTime")
        + 2
        + 12;
    for (what, at) in [("genTime", gen_time), ("signature", token.len() - 1)] {
        let mut bad = token.clone();
        bad[at] ^= 0x01;
        let mut b = bundle.clone();
        set_timestamps(&mut b, &[bad]);
        let text = untrusted(verify_bundle(&b, &verifier).expect_err(what));
        let expected = match what {
            "genTime" => "the signed message digest is not that of the TSTInfo",
            _ => "the token's signature does not verify with the key of CN=Test TSA",
        };
        assert!(text.contains(expected), "{what}: {text}");
    }
}

#[test]
fn malformed_timestamp_data_is_refused() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let (signer, public) = key_signer();
    let bundle = sign_stamped(&signer, &[]);
    let verifier =
        KeyVerifier::new(public).with_timestamp_authorities(vec![authority(&tsa.chain_pem())]);
    let cases: Vec<(&str, serde_json::Value)> = vec![
        (
            "not base64",
            serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": "%%%"}]}),
        ),
        (
            "no signedTimestamp",
            serde_json::json!({"rfc3161Timestamps": [{}]}),
        ),
        ("not a list", serde_json::json!({"rfc3161Timestamps": "x"})),
        (
            "garbage DER",
            serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": "MAA="}]}),
        ),
        (
            "a rejection",
            // TimeStampResp { status { 2 } }
            serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": STANDARD.encode([0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02])}]}),
        ),
        (
            "granted without a token",
            serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": STANDARD.encode([0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00])}]}),
        ),
    ];
    for (what, data) in cases {
        let mut b = bundle.clone();
        b.timestamp_data = Some(data);
        let err = verify_bundle(&b, &verifier).expect_err(what);
        let VerifyError::Timestamp(e) = &err else {
            panic!("{what}: {err:?}");
        };
        match what {
            "a rejection" => assert!(
                matches!(e, TimestampError::NotGranted { status: 2, .. }),
                "{e:?}"
            ),
            _ => assert!(
                matches!(e, TimestampError::Malformed { .. }),
                "{what}: {e:?}"
            ),
        }
    }
}

#[test]
fn timestamp_authority_files_are_checked() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let other = OpensslTsa::start("Other TSA", TsaKey::EcP256);
    let leaf_only = {
        let text = std::fs::read_to_string(tsa.chain_pem()).expect("chain");
        let end = text
            .find("-----END CERTIFICATE-----")
            .expect("a certificate")
            + "-----END CERTIFICATE-----\n".len();
        text[..end].to_owned()
    };
    let err = TimestampAuthority::from_pem(leaf_only.as_bytes()).expect_err("no root");
    assert!(err.to_string().contains("no root certificate"), "{err}");
    let two_leaves = format!(
        "{}{}",
        std::fs::read_to_string(tsa.chain_pem()).expect("chain"),
        std::fs::read_to_string(other.chain_pem()).expect("chain")
    );
    let err = TimestampAuthority::from_pem(two_leaves.as_bytes()).expect_err("two leaves");
    assert!(
        err.to_string().contains("2 certificates that are not CAs"),
        "{err}"
    );
    let err = TimestampAuthority::from_pem(b"not PEM").expect_err("not PEM");
    assert!(matches!(err, TimestampError::Authority { .. }), "{err:?}");
}

#[test]
fn signing_refuses_a_response_that_is_not_a_timestamp_of_the_signature() {
    let tsa = OpensslTsa::start("Test TSA", TsaKey::EcP256);
    let (signer, _) = key_signer();
    let model = model();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (tsa.stamp(b"other bytes"), "over other bytes"),
        (
            vec![0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02],
            "was not granted: status 2",
        ),
        (b"<html>busy</html>".to_vec(), "is malformed"),
    ];
    for (answer, expected) in cases {
        let stamped = TimestampingSigner::new(&signer, vec![Box::new(Fixed(answer))]);
        let err = sign_model(model.path(), &HashConfig::new(), &stamped, &NoProgress)
            .expect_err("refused");
        let SignError::Timestamp { authority, source } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(authority, "fixed");
        assert!(source.to_string().contains(expected), "{source}");
    }
    // More timestamps than verifiers accept are refused before any is asked for.
    let many: Vec<Box<dyn Timestamper>> = (0..9).map(|_| Box::new(Direct(&tsa)) as _).collect();
    let before = tsa.requests();
    let stamped = TimestampingSigner::new(&signer, many);
    let err =
        sign_model(model.path(), &HashConfig::new(), &stamped, &NoProgress).expect_err("too many");
    assert!(
        matches!(
            err,
            SignError::Limit {
                what: "timestamps",
                count: 9,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(tsa.requests(), before);
}

/// `testdata/timestamps/`: fixed responses of an `openssl ts` authority
/// over the bytes `fuzz signature` (see its README).
fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(testkit::root().join("testdata/timestamps").join(name)).expect("fixture")
}

fn fixture_bundle(tokens: &[Vec<u8>]) -> Bundle {
    let mut bundle = Bundle::new(
        model_signing::bundle::VerificationMaterial::PublicKey {
            hint: Some(String::new()),
            raw_bytes: None,
            key_details: None,
        },
        model_signing::dsse::Envelope {
            payload: Vec::new(),
            payload_type: String::new(),
            signature: b"fuzz signature".to_vec(),
            keyid: None,
        },
    );
    set_timestamps(&mut bundle, tokens);
    bundle
}

#[test]
fn fixed_openssl_responses_and_tokens_verify() {
    use model_signing::timestamp::{check_timestamps, Timestamp};
    let root = TimestampAuthority::from_pem(&fixture("root.pem")).expect("root");
    let pinned = TimestampAuthority::from_pem(&[fixture("tsa.pem"), fixture("root.pem")].concat())
        .expect("chain");
    // Milliseconds in genTime (dropped), a nonce, the signer embedded; the
    // same as a bare token.
    let response = Timestamp::from_der(&fixture("resp-sha256.tsr"), "t").expect("parses");
    let token = Timestamp::from_der(&fixture("token.der"), "t").expect("parses");
    assert_eq!(response.time(), token.time());
    assert!(response.covers(b"fuzz signature"));
    assert!(!response.covers(b"fuzz signaturf"));
    for der in [fixture("resp-sha256.tsr"), fixture("token.der")] {
        let outcome = check_timestamps(
            &fixture_bundle(std::slice::from_ref(&der)),
            std::slice::from_ref(&root),
        )
        .expect("verifies");
        assert_eq!(outcome.verified[0].time, response.time());
        assert_eq!(outcome.verified[0].authority, "CN=Fuzz TSA");
        check_timestamps(&fixture_bundle(&[der]), std::slice::from_ref(&pinned))
            .expect("verifies with the signer pinned");
    }
    // SHA-512 imprint, no nonce, no certificate embedded: only an authority
    // that names its signing certificate can verify it.
    let bare = fixture("resp-sha512.tsr");
    let err = check_timestamps(
        &fixture_bundle(std::slice::from_ref(&bare)),
        std::slice::from_ref(&root),
    )
    .expect_err("the signer is unknown");
    assert!(
        err.to_string()
            .contains("does not carry its signer's certificate"),
        "{err}"
    );
    check_timestamps(&fixture_bundle(&[bare]), std::slice::from_ref(&pinned))
        .expect("verifies with the signer given");
    // Over other bytes.
    let mut other = fixture_bundle(&[fixture("resp-sha256.tsr")]);
    other.envelope.signature = b"another signature".to_vec();
    assert!(matches!(
        check_timestamps(&other, &[root]),
        Err(TimestampError::OtherBytes { .. })
    ));
}

/// A DER tree, for editing tokens: a primitive value or constructed children.
#[derive(Clone, Debug)]
enum Node {
    Prim(u8, Vec<u8>),
    Cons(u8, Vec<Node>),
}

fn parse_der(mut bytes: &[u8]) -> Vec<Node> {
    let mut nodes = Vec::new();
    while !bytes.is_empty() {
        let tag = bytes[0];
        let (len, header) = match bytes[1] {
            l if l < 0x80 => (usize::from(l), 2),
            l => {
                let n = usize::from(l & 0x7f);
                let len = bytes[2..2 + n]
                    .iter()
                    .fold(0usize, |a, b| (a << 8) | usize::from(*b));
                (len, 2 + n)
            }
        };
        let value = &bytes[header..header + len];
        nodes.push(if tag & 0x20 != 0 {
            Node::Cons(tag, parse_der(value))
        } else {
            Node::Prim(tag, value.to_vec())
        });
        bytes = &bytes[header + len..];
    }
    nodes
}

fn encode_der(nodes: &[Node]) -> Vec<u8> {
    nodes
        .iter()
        .flat_map(|n| match n {
            Node::Prim(tag, value) => testkit::certs::tlv(*tag, value),
            Node::Cons(tag, children) => testkit::certs::tlv(*tag, &encode_der(children)),
        })
        .collect()
}

fn children(node: &mut Node) -> &mut Vec<Node> {
    match node {
        Node::Cons(_, c) => c,
        Node::Prim(..) => panic!("not constructed: {node:?}"),
    }
}

/// The fixture token (a ContentInfo), with `edit` applied to its SignedData
/// fields (version, digest algorithms, content, [0] certificates, signer
/// infos).
fn edited_token(edit: impl FnOnce(&mut Vec<Node>)) -> Vec<u8> {
    let mut tree = parse_der(&fixture("token.der"));
    let content_info = children(&mut tree[0]);
    let explicit = children(&mut content_info[1]);
    let signed_data = children(&mut explicit[0]);
    edit(signed_data);
    encode_der(&tree)
}

/// The one signer info's fields (version, sid, digest algorithm, [0]
/// signed attributes, signature algorithm, signature).
fn signer_fields(signed_data: &mut [Node]) -> &mut Vec<Node> {
    let infos = children(&mut signed_data[4]);
    children(&mut infos[0])
}

fn oid_node(dotted: &str) -> Node {
    let der = testkit::certs::oid(dotted);
    Node::Prim(0x06, der[2..].to_vec())
}

#[test]
fn edited_cms_structures_never_verify() {
    use model_signing::timestamp::check_timestamps;
    let root = TimestampAuthority::from_pem(&fixture("root.pem")).expect("root");
    // The unedited token verifies: every failure below is the edit's.
    check_timestamps(
        &fixture_bundle(&[fixture("token.der")]),
        std::slice::from_ref(&root),
    )
    .expect("the fixture verifies");
    type Edit = Box<dyn FnOnce(&mut Vec<Node>)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "two signers",
            Box::new(|sd| {
                let infos = children(&mut sd[4]);
                let again = infos[0].clone();
                infos.push(again);
            }),
            "has 2 signers, not one",
        ),
        (
            "no signer",
            Box::new(|sd| children(&mut sd[4]).clear()),
            "has 0 signers, not one",
        ),
        (
            "no signed attributes",
            Box::new(|sd| {
                signer_fields(sd).remove(3);
            }),
            "the signer has no signed attributes",
        ),
        (
            "no content-type attribute",
            Box::new(|sd| {
                let attrs = children(&mut signer_fields(sd)[3]);
                attrs
                    .retain(|a| !format!("{a:?}").contains("[42, 134, 72, 134, 247, 13, 1, 9, 3]"));
            }),
            "no content-type among the signed attributes",
        ),
        (
            "no message-digest attribute",
            Box::new(|sd| {
                let attrs = children(&mut signer_fields(sd)[3]);
                attrs
                    .retain(|a| !format!("{a:?}").contains("[42, 134, 72, 134, 247, 13, 1, 9, 4]"));
            }),
            "no message-digest among the signed attributes",
        ),
        (
            "a SHA-1 signer digest",
            Box::new(|sd| {
                let alg = children(&mut signer_fields(sd)[2]);
                alg[0] = oid_node("1.3.14.3.2.26");
            }),
            "SHA-1 is too weak",
        ),
        (
            "an unknown signature algorithm",
            Box::new(|sd| {
                let alg = children(&mut signer_fields(sd)[4]);
                alg[0] = oid_node("1.2.3.4.5");
            }),
            "the token's signature cannot be checked",
        ),
        (
            "a signature by another algorithm",
            Box::new(|sd| {
                let alg = children(&mut signer_fields(sd)[4]);
                alg[0] = oid_node("1.2.840.113549.1.1.11");
            }),
            "does not verify with the key of CN=Fuzz TSA",
        ),
        (
            "no embedded certificate",
            Box::new(|sd| {
                sd.remove(3);
            }),
            "does not carry its signer's certificate",
        ),
    ];
    for (what, edit, expected) in cases {
        let token = edited_token(edit);
        let err = check_timestamps(&fixture_bundle(&[token]), std::slice::from_ref(&root))
            .expect_err(what);
        assert!(
            matches!(err, TimestampError::Untrusted { .. }),
            "{what}: {err:?}"
        );
        assert!(err.to_string().contains(expected), "{what}: {err}");
    }

    let malformed: Vec<(&str, Edit, &str)> = vec![
        (
            "a field after the signer infos",
            Box::new(|sd| sd.push(Node::Prim(0x05, Vec::new()))),
            "fields after its signer infos",
        ),
        (
            "another content type",
            Box::new(|sd| {
                let encap = children(&mut sd[2]);
                encap[0] = oid_node("1.2.840.113549.1.7.1");
            }),
            "not a TSTInfo",
        ),
        (
            "no content",
            Box::new(|sd| {
                children(&mut sd[2]).truncate(1);
            }),
            "the token holds no TSTInfo",
        ),
        (
            "signer infos that are not a SET",
            Box::new(|sd| {
                if let Node::Cons(tag, _) = &mut sd[4] {
                    *tag = 0x30;
                }
            }),
            "the signer infos: expected SET, found SEQUENCE",
        ),
        (
            "no version",
            Box::new(|sd| {
                sd.remove(0);
            }),
            "the version: expected INTEGER, found SET",
        ),
    ];
    for (what, edit, expected) in malformed {
        let token = edited_token(edit);
        let err = check_timestamps(&fixture_bundle(&[token]), std::slice::from_ref(&root))
            .expect_err(what);
        assert!(
            matches!(err, TimestampError::Malformed { .. }),
            "{what}: {err:?}"
        );
        assert!(err.to_string().contains(expected), "{what}: {err}");
    }
}

//! Project Wycheproof ECDSA vectors (DER signatures) through
//! `PublicKey::verify_with_digest`.
//!
//! Every `valid` vector must verify and every `invalid` one must fail.
//! `acceptable` vectors are signatures that a verifier may take or refuse by
//! policy; the ECDSA sets for these curves and digests hold none (the count is
//! asserted), so our choice for them is moot: if a future vector set adds
//! some, the test reports them and requires them to be listed here first.

use model_signing::keys::{DigestAlgorithm, KeyAlgorithm, PublicKey};
use wycheproof::ecdsa::{TestName, TestSet};
use wycheproof::{HashFunction, TestResult};

#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
}

fn digest_of(hash: HashFunction) -> DigestAlgorithm {
    match hash {
        HashFunction::Sha2_256 => DigestAlgorithm::Sha256,
        HashFunction::Sha2_384 => DigestAlgorithm::Sha384,
        HashFunction::Sha2_512 => DigestAlgorithm::Sha512,
        other => panic!("unexpected digest {other:?}"),
    }
}

fn run(name: TestName, alg: KeyAlgorithm) -> Tally {
    let set = TestSet::load(name).expect("the vector set loads");
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for group in &set.test_groups {
        let key = PublicKey::from_spki_der(&group.der).expect("the group's key loads");
        assert_eq!(key.algorithm(), alg);
        // The same key three ways: DER, PEM and the raw SEC1 point.
        assert_eq!(
            PublicKey::from_pem(&group.pem).expect("the group's PEM loads"),
            key
        );
        assert_eq!(
            PublicKey::from_sec1_point(alg, &group.key.key).expect("the group's point loads"),
            key
        );
        let digest = digest_of(group.hash);
        for test in &group.tests {
            let outcome = key.verify_with_digest(&test.msg, &test.sig, digest);
            match (test.result, &outcome) {
                (TestResult::Valid, Ok(())) => tally.valid += 1,
                (TestResult::Invalid, Err(e)) => {
                    assert!(e.is_verification_failure(), "tc {}: {e}", test.tc_id);
                    tally.invalid += 1;
                }
                (TestResult::Acceptable, Ok(())) => tally.acceptable_accepted += 1,
                (TestResult::Acceptable, Err(_)) => tally.acceptable_rejected += 1,
                (expected, got) => failures.push(format!(
                    "tc {} ({}, flags {:?}): expected {expected:?}, got {got:?}",
                    test.tc_id, test.comment, test.flags
                )),
            }
        }
    }
    eprintln!("{name:?}: {tally:?}");
    assert!(
        failures.is_empty(),
        "{name:?}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    tally
}

#[test]
fn p256_sha256() {
    let tally = run(
        TestName::EcdsaSecp256r1Sha256,
        KeyAlgorithm::EcdsaP256Sha256,
    );
    assert_eq!(tally.acceptable_accepted + tally.acceptable_rejected, 0);
    assert!(tally.valid > 50 && tally.invalid > 200, "{tally:?}");
}

#[test]
fn p384_sha384() {
    let tally = run(
        TestName::EcdsaSecp384r1Sha384,
        KeyAlgorithm::EcdsaP384Sha384,
    );
    assert_eq!(tally.acceptable_accepted + tally.acceptable_rejected, 0);
    assert!(tally.valid > 50 && tally.invalid > 200, "{tally:?}");
}

#[test]
fn p521_sha512() {
    let tally = run(
        TestName::EcdsaSecp521r1Sha512,
        KeyAlgorithm::EcdsaP521Sha512,
    );
    assert_eq!(tally.acceptable_accepted + tally.acceptable_rejected, 0);
    assert!(tally.valid > 50 && tally.invalid > 200, "{tally:?}");
}

/// P-384 with SHA-256: how legacy v0.2 signatures hash.
#[test]
fn p384_sha256() {
    let tally = run(
        TestName::EcdsaSecp384r1Sha256,
        KeyAlgorithm::EcdsaP384Sha384,
    );
    assert_eq!(tally.acceptable_accepted + tally.acceptable_rejected, 0);
    assert!(tally.valid > 50 && tally.invalid > 200, "{tally:?}");
}

/// Digests longer than the curve order are truncated to its leftmost bits.
#[test]
fn p256_sha512() {
    let tally = run(
        TestName::EcdsaSecp256r1Sha512,
        KeyAlgorithm::EcdsaP256Sha256,
    );
    assert_eq!(tally.acceptable_accepted + tally.acceptable_rejected, 0);
    assert!(tally.valid > 50 && tally.invalid > 200, "{tally:?}");
}

#[test]
fn p384_sha512() {
    let tally = run(
        TestName::EcdsaSecp384r1Sha512,
        KeyAlgorithm::EcdsaP384Sha384,
    );
    assert_eq!(tally.acceptable_accepted + tally.acceptable_rejected, 0);
    assert!(tally.valid > 50 && tally.invalid > 200, "{tally:?}");
}

//! Chain validation: the reference's golden CA chain, then chains built at
//! test time for every rule `verify_chain` enforces (negative cases first
//! among equals: most cases here must fail, and fail for the right reason).

use crate::x509_support as support;

use std::slice::from_ref;
use std::time::Instant;

use model_signing::x509::{
    chain_gap, verify_chain, CertError, Certificate, ChainGap, ChainPolicy, LeafCaRule,
    MAX_SIGNATURE_CHECKS,
};
use support::*;

/// A leaf, the untrusted intermediates offered with it, and the anchors.
struct Scenario {
    leaf: Certificate,
    intermediates: Vec<Certificate>,
    anchors: Vec<Certificate>,
}

/// The specs of a three-level PKI, to be edited before signing.
struct Specs {
    root: Spec,
    int: Spec,
    leaf: Spec,
}

/// Root -> intermediate -> leaf, all P-256, after `edit` has changed the
/// specs. (Other curves and RSA have their own cases below: their signing is
/// slow in an unoptimised build.)
fn three_level(edit: impl FnOnce(&mut Specs)) -> Scenario {
    let mut specs = Specs {
        root: Spec::ca("Root", None),
        int: Spec::ca("Intermediate", None),
        leaf: Spec::leaf("Leaf"),
    };
    edit(&mut specs);
    let root = Ca::root(specs.root, Key::p256());
    let int = root.sub(specs.int, Key::p256());
    let leaf = int.issue(&specs.leaf, &Key::p256());
    Scenario {
        leaf,
        intermediates: vec![int.cert],
        anchors: vec![root.cert],
    }
}

/// Root -> intermediate 1 (`int1`) -> intermediate 2 (`int2`) -> leaf.
fn four_level(int1: Spec, int2: Spec) -> Scenario {
    let root = Ca::root(Spec::ca("Root", None), Key::p256());
    let a = root.sub(int1, Key::p256());
    let b = a.sub(int2, Key::p256());
    let leaf = b.issue(&Spec::leaf("Leaf"), &Key::p256());
    Scenario {
        leaf,
        intermediates: vec![b.cert, a.cert],
        anchors: vec![root.cert],
    }
}

/// nameConstraints permitting dNSName example.com.
fn name_constraints_example_com() -> Vec<u8> {
    let mut der = vec![0x30, 0x11, 0xa0, 0x0f, 0x30, 0x0d, 0x82, 0x0b];
    der.extend_from_slice(b"example.com");
    der
}

fn cert_policy() -> ChainPolicy {
    ChainPolicy::certificate_method(now())
}

fn sigstore_policy() -> ChainPolicy {
    ChainPolicy::sigstore(now())
}

fn subject_of(e: &CertError) -> Option<&str> {
    match e {
        CertError::Expired { subject, .. }
        | CertError::NotYetValid { subject, .. }
        | CertError::NotACa { subject }
        | CertError::PathLenExceeded { subject }
        | CertError::KeyUsage { subject, .. }
        | CertError::ExtendedKeyUsage { subject, .. }
        | CertError::CaLeaf { subject, .. }
        | CertError::BadSignature { subject }
        | CertError::WeakAlgorithm { subject, .. }
        | CertError::WeakKey { subject, .. }
        | CertError::UnknownCriticalExtension { subject, .. }
        | CertError::UnsupportedNameConstraints { subject } => Some(subject),
        _ => None,
    }
}

/// One test per case: build the scenario, validate with the policy, and the
/// result must match the pattern.
macro_rules! chain_cases {
    ($( $(#[$doc:meta])* $name:ident: $scenario:expr, $policy:expr => $expect:pat $(if $guard:expr)?, )*) => {
        $(
            $(#[$doc])*
            #[test]
            #[allow(clippy::redundant_pattern_matching)]
            fn $name() {
                let scenario: Scenario = $scenario;
                let result = verify_chain(
                    &scenario.leaf,
                    &scenario.intermediates,
                    &scenario.anchors,
                    &$policy,
                );
                let subject = result.as_ref().err().and_then(subject_of);
                assert!(
                    matches!(&result, $expect $(if $guard)?),
                    "{}: got {result:?} (subject {subject:?})",
                    stringify!($name)
                );
                if let Err(e) = &result {
                    // Every error renders as a sentence.
                    assert!(!e.to_string().is_empty());
                }
            }
        )*
    };
}

chain_cases! {
    // ---- accepted ----
    valid_three_level_chain:
        three_level(|_| {}), cert_policy() => Ok(p) if p.len() == 3,
    valid_three_level_chain_under_sigstore_policy:
        three_level(|_| {}), sigstore_policy() => Ok(p) if p.len() == 3,
    leaf_without_eku_accepted_for_certificate_method:
        three_level(|s| s.leaf = Spec::leaf("Leaf").without(OID_EXT_KEY_USAGE)),
        cert_policy() => Ok(_),
    leaf_without_key_usage_but_with_code_signing_accepted:
        three_level(|s| s.leaf = Spec::leaf("Leaf").without(OID_KEY_USAGE)),
        cert_policy() => Ok(_),
    leaf_with_code_signing_among_other_purposes_accepted:
        three_level(|s| s.leaf = Spec::leaf("Leaf").eku(&[EKU_SERVER_AUTH, EKU_CODE_SIGNING])),
        sigstore_policy() => Ok(_),
    ca_leaf_without_cert_sign_accepted_when_allowed:
        three_level(|s| s.leaf = Spec::leaf("Leaf").basic_constraints(true, None, true)),
        cert_policy() => Ok(p) if p[0].is_ca(),
    intermediate_without_key_usage_accepted:
        three_level(|s| s.int = Spec::new("Intermediate").basic_constraints(true, None, true)),
        cert_policy() => Ok(_),
    intermediate_path_len_zero_directly_above_leaf_accepted:
        three_level(|s| s.int = Spec::ca("Intermediate", Some(0))), cert_policy() => Ok(_),
    root_path_len_one_with_one_intermediate_accepted:
        three_level(|s| s.root = Spec::ca("Root", Some(1))), cert_policy() => Ok(_),
    chain_without_key_identifiers_accepted:
        three_level(|s| {
            s.root = Spec::ca("Root", None).no_key_ids();
            s.int = Spec::ca("Intermediate", None).no_key_ids();
            s.leaf = Spec::leaf("Leaf").no_key_ids();
        }),
        cert_policy() => Ok(p) if p.len() == 3,

    // ---- validity ----
    expired_leaf_rejected:
        three_level(|s| s.leaf = Spec::leaf("Leaf").validity(now() - 2 * DAY, now() - DAY)),
        cert_policy() => Err(CertError::Expired { subject, .. }) if subject == "CN=Leaf",
    not_yet_valid_leaf_rejected:
        three_level(|s| s.leaf = Spec::leaf("Leaf").validity(now() + DAY, now() + 2 * DAY)),
        cert_policy() => Err(CertError::NotYetValid { subject, .. }) if subject == "CN=Leaf",
    expired_intermediate_rejected:
        three_level(|s| {
            s.int = Spec::ca("Intermediate", None).validity(now() - 2 * DAY, now() - DAY)
        }),
        cert_policy() => Err(CertError::Expired { subject, .. }) if subject == "CN=Intermediate",
    not_yet_valid_intermediate_rejected:
        three_level(|s| {
            s.int = Spec::ca("Intermediate", None).validity(now() + DAY, now() + 2 * DAY)
        }),
        cert_policy() => Err(CertError::NotYetValid { subject, .. }) if subject == "CN=Intermediate",
    expired_anchor_rejected:
        three_level(|s| s.root = Spec::ca("Root", None).validity(now() - 2 * DAY, now() - DAY)),
        cert_policy() => Err(CertError::Expired { subject, .. }) if subject == "CN=Root",

    // ---- leaf key usage and extended key usage ----
    server_auth_only_leaf_rejected:
        three_level(|s| s.leaf = Spec::leaf("Leaf").eku(&[EKU_SERVER_AUTH])),
        cert_policy() => Err(CertError::ExtendedKeyUsage { subject, .. }) if subject == "CN=Leaf",
    server_auth_only_leaf_rejected_under_sigstore_policy:
        three_level(|s| s.leaf = Spec::leaf("Leaf").eku(&[EKU_SERVER_AUTH])),
        sigstore_policy() => Err(CertError::ExtendedKeyUsage { .. }),
    any_extended_key_usage_does_not_stand_for_code_signing:
        three_level(|s| s.leaf = Spec::leaf("Leaf").eku(&[EKU_ANY])),
        cert_policy() => Err(CertError::ExtendedKeyUsage { detail, .. }) if detail.contains("anyExtendedKeyUsage"),
    leaf_without_eku_rejected_when_eku_required:
        three_level(|s| s.leaf = Spec::leaf("Leaf").without(OID_EXT_KEY_USAGE)),
        sigstore_policy() => Err(CertError::ExtendedKeyUsage { subject, .. }) if subject == "CN=Leaf",
    leaf_with_cert_sign_only_key_usage_rejected:
        three_level(|s| s.leaf = Spec::leaf("Leaf").key_usage(KU_KEY_CERT_SIGN)),
        cert_policy() => Err(CertError::KeyUsage { subject, .. }) if subject == "CN=Leaf",
    leaf_with_key_encipherment_only_rejected:
        three_level(|s| s.leaf = Spec::leaf("Leaf").key_usage(KU_KEY_ENCIPHERMENT)),
        cert_policy() => Err(CertError::KeyUsage { .. }),
    leaf_with_empty_key_usage_rejected:
        three_level(|s| s.leaf = Spec::leaf("Leaf").key_usage(0)),
        cert_policy() => Err(CertError::KeyUsage { .. }),
    leaf_with_neither_key_usage_nor_eku_rejected:
        three_level(|s| {
            s.leaf = Spec::leaf("Leaf").without(OID_KEY_USAGE).without(OID_EXT_KEY_USAGE)
        }),
        cert_policy() => Err(CertError::KeyUsage { .. }),

    // ---- CA leaves ----
    ca_leaf_with_cert_sign_rejected_when_allowed_without_cert_sign:
        three_level(|s| {
            s.leaf = Spec::leaf("Leaf")
                .basic_constraints(true, None, true)
                .key_usage(KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN)
        }),
        cert_policy() => Err(CertError::CaLeaf { subject, .. }) if subject == "CN=Leaf",
    ca_leaf_with_crl_sign_rejected_when_allowed_without_cert_sign:
        three_level(|s| {
            s.leaf = Spec::leaf("Leaf")
                .basic_constraints(true, None, true)
                .key_usage(KU_DIGITAL_SIGNATURE | KU_CRL_SIGN)
        }),
        cert_policy() => Err(CertError::CaLeaf { .. }),
    ca_leaf_without_key_usage_rejected_when_allowed_without_cert_sign:
        three_level(|s| {
            s.leaf = Spec::leaf("Leaf")
                .basic_constraints(true, None, true)
                .without(OID_KEY_USAGE)
        }),
        cert_policy() => Err(CertError::CaLeaf { .. }),
    ca_leaf_rejected_under_reject_rule:
        three_level(|s| s.leaf = Spec::leaf("Leaf").basic_constraints(true, None, true)),
        sigstore_policy() => Err(CertError::CaLeaf { .. }),

    // ---- issuers ----
    intermediate_with_ca_false_rejected:
        three_level(|s| {
            s.int = Spec::ca("Intermediate", None).basic_constraints(false, None, true)
        }),
        cert_policy() => Err(CertError::NotACa { subject }) if subject == "CN=Intermediate",
    intermediate_without_basic_constraints_rejected:
        three_level(|s| s.int = Spec::ca("Intermediate", None).without(OID_BASIC_CONSTRAINTS)),
        cert_policy() => Err(CertError::NotACa { subject }) if subject == "CN=Intermediate",
    intermediate_without_key_cert_sign_rejected:
        three_level(|s| s.int = Spec::ca("Intermediate", None).key_usage(KU_DIGITAL_SIGNATURE | KU_CRL_SIGN)),
        cert_policy() => Err(CertError::KeyUsage { subject, .. }) if subject == "CN=Intermediate",
    anchor_without_ca_flag_rejected:
        three_level(|s| s.root = Spec::ca("Root", None).without(OID_BASIC_CONSTRAINTS)),
        cert_policy() => Err(CertError::NotACa { subject }) if subject == "CN=Root",
    anchor_without_key_cert_sign_rejected:
        three_level(|s| s.root = Spec::ca("Root", None).key_usage(KU_DIGITAL_SIGNATURE)),
        cert_policy() => Err(CertError::KeyUsage { subject, .. }) if subject == "CN=Root",
    path_len_zero_with_an_intermediate_below_rejected:
        four_level(Spec::ca("Int1", Some(0)), Spec::ca("Int2", None)),
        cert_policy() => Err(CertError::PathLenExceeded { subject }) if subject == "CN=Int1",
    anchor_path_len_zero_with_an_intermediate_below_rejected:
        three_level(|s| s.root = Spec::ca("Root", Some(0))),
        cert_policy() => Err(CertError::PathLenExceeded { subject }) if subject == "CN=Root",
    name_constraints_on_intermediate_refused:
        three_level(|s| {
            s.int = Spec::ca("Intermediate", None).ext(
                OID_NAME_CONSTRAINTS,
                true,
                name_constraints_example_com(),
            )
        }),
        cert_policy() => Err(CertError::UnsupportedNameConstraints { subject }) if subject == "CN=Intermediate",
    non_critical_name_constraints_refused_too:
        three_level(|s| {
            s.int = Spec::ca("Intermediate", None).ext(
                OID_NAME_CONSTRAINTS,
                false,
                name_constraints_example_com(),
            )
        }),
        cert_policy() => Err(CertError::UnsupportedNameConstraints { .. }),

    // ---- critical extensions ----
    unknown_critical_extension_on_leaf_rejected:
        three_level(|s| s.leaf = Spec::leaf("Leaf").ext("1.3.6.1.4.1.99999.1", true, vec![0x05, 0x00])),
        cert_policy() => Err(CertError::UnknownCriticalExtension { subject, oid }) if subject == "CN=Leaf" && oid == "1.3.6.1.4.1.99999.1",
    unknown_critical_extension_on_intermediate_rejected:
        three_level(|s| s.int = Spec::ca("Intermediate", None).ext("1.3.6.1.4.1.99999.1", true, vec![0x05, 0x00])),
        cert_policy() => Err(CertError::UnknownCriticalExtension { subject, .. }) if subject == "CN=Intermediate",
    unknown_critical_extension_on_anchor_rejected:
        three_level(|s| s.root = Spec::ca("Root", None).ext("1.3.6.1.4.1.99999.1", true, vec![0x05, 0x00])),
        cert_policy() => Err(CertError::UnknownCriticalExtension { subject, .. }) if subject == "CN=Root",
    critical_certificate_policies_rejected:
        three_level(|s| {
            // certificatePolicies: anyPolicy
            s.leaf = Spec::leaf("Leaf").ext(OID_CERT_POLICIES, true,
                vec![0x30, 0x08, 0x30, 0x06, 0x06, 0x04, 0x55, 0x1d, 0x20, 0x00])
        }),
        cert_policy() => Err(CertError::UnknownCriticalExtension { oid, .. }) if oid == OID_CERT_POLICIES,
    unknown_non_critical_extension_ignored:
        three_level(|s| s.leaf = Spec::leaf("Leaf").ext("1.3.6.1.4.1.99999.1", false, vec![0x05, 0x00])),
        cert_policy() => Ok(_),

    // ---- signatures ----
    wrong_issuer_signature_rejected:
        {
            // Same issuer name and key identifier as the real intermediate,
            // signed by another key.
            let mut s = three_level(|_| {});
            let int = &s.intermediates[0];
            let impostor = Key::p384();
            let spec = Spec::leaf("Leaf").aki(Aki::Fixed(int.subject_key_id().expect("ski").to_vec()));
            s.leaf = spec.sign(&Key::p256(), &name("CN=Intermediate"), &impostor);
            s
        },
        cert_policy() => Err(CertError::BadSignature { subject }) if subject == "CN=Leaf",
    wrong_issuer_signature_without_key_ids_rejected:
        {
            let mut s = three_level(|s| s.int = Spec::ca("Intermediate", None).no_key_ids());
            s.leaf = Spec::leaf("Leaf").no_key_ids().sign(&Key::p256(), &name("CN=Intermediate"), &Key::p384());
            s
        },
        cert_policy() => Err(CertError::BadSignature { subject }) if subject == "CN=Leaf",
    tampered_leaf_rejected:
        {
            let mut s = three_level(|_| {});
            let mut der = s.leaf.der().to_vec();
            // Change one byte of the subject name ("Leaf" -> "Lea?").
            let at = der.windows(4).position(|w| w == b"Leaf").expect("subject in DER");
            der[at + 3] = b'g';
            s.leaf = Certificate::from_der(&der).expect("still parses");
            s
        },
        cert_policy() => Err(CertError::BadSignature { subject }) if subject == "CN=Leag",
    wrong_intermediate_signature_rejected:
        {
            let root = Ca::root(Spec::ca("Root", None), Key::p256());
            let int_key = Key::p256();
            let int = Spec::ca("Intermediate", None).aki(Aki::Fixed(root.key.key_id()))
                .sign(&int_key, &root.name, &Key::p256());
            let leaf = Spec::leaf("Leaf").sign(&Key::p256(), &name("CN=Intermediate"), &int_key);
            Scenario { leaf, intermediates: vec![int], anchors: vec![root.cert] }
        },
        cert_policy() => Err(CertError::BadSignature { subject }) if subject == "CN=Intermediate",
    sha1_rsa_signed_leaf_rejected:
        {
            let root = Ca::root(Spec::ca("Root", None), Key::rsa("rsa2048-a"));
            let leaf = root.issue(&Spec::leaf("Leaf").alg(Alg::RsaSha1), &Key::p256());
            Scenario { leaf, intermediates: vec![], anchors: vec![root.cert] }
        },
        cert_policy() => Err(CertError::WeakAlgorithm { subject, algorithm }) if subject == "CN=Leaf" && algorithm == "sha1WithRSAEncryption",
    sha1_ecdsa_signed_leaf_rejected:
        {
            let root = Ca::root(Spec::ca("Root", None), Key::p256());
            let leaf = root.issue(&Spec::leaf("Leaf").alg(Alg::EcdsaSha1), &Key::p256());
            Scenario { leaf, intermediates: vec![], anchors: vec![root.cert] }
        },
        cert_policy() => Err(CertError::WeakAlgorithm { algorithm, .. }) if algorithm == "ecdsa-with-SHA1",
    sha1_signed_intermediate_rejected:
        three_level(|s| s.int = Spec::ca("Intermediate", None).alg(Alg::EcdsaSha1)),
        cert_policy() => Err(CertError::WeakAlgorithm { subject, .. }) if subject == "CN=Intermediate",
    md5_signed_leaf_rejected:
        {
            let root = Ca::root(Spec::ca("Root", None), Key::rsa("rsa2048-a"));
            let leaf = root.issue(&Spec::leaf("Leaf").alg(Alg::RsaMd5), &Key::p256());
            Scenario { leaf, intermediates: vec![], anchors: vec![root.cert] }
        },
        cert_policy() => Err(CertError::WeakAlgorithm { algorithm, .. }) if algorithm == "md5WithRSAEncryption",
    rsa_1024_issuer_rejected:
        {
            let root = Ca::root(Spec::ca("Root", None), Key::rsa("rsa2048-a"));
            let int = root.sub(Spec::ca("Intermediate", None), Key::rsa("rsa1024"));
            let leaf = int.issue(&Spec::leaf("Leaf"), &Key::p256());
            Scenario { leaf, intermediates: vec![int.cert], anchors: vec![root.cert] }
        },
        cert_policy() => Err(CertError::WeakKey { subject, .. }) if subject == "CN=Intermediate",
    ed25519_signature_algorithm_with_ec_issuer_rejected:
        {
            let root = Ca::root(Spec::ca("Root", None), Key::p256());
            let leaf = root.issue(&Spec::leaf("Leaf").alg(Alg::Ed25519), &Key::p256());
            Scenario { leaf, intermediates: vec![], anchors: vec![root.cert] }
        },
        cert_policy() => Err(CertError::BadSignature { .. }),
    ecdsa_algorithm_with_rsa_issuer_rejected:
        {
            let root = Ca::root(Spec::ca("Root", None), Key::rsa("rsa2048-a"));
            // Signed with an EC key under the ECDSA OID, but the named issuer is RSA.
            let leaf = Spec::leaf("Leaf").alg(Alg::EcdsaSha256)
                .aki(Aki::Fixed(root.key.key_id()))
                .sign(&Key::p256(), &root.name, &Key::p256());
            Scenario { leaf, intermediates: vec![], anchors: vec![root.cert] }
        },
        cert_policy() => Err(CertError::BadSignature { .. }),
    rsa_pkcs1_algorithm_with_ec_issuer_rejected:
        {
            let root = Ca::root(Spec::ca("Root", None), Key::p256());
            let leaf = Spec::leaf("Leaf").alg(Alg::RsaSha256)
                .aki(Aki::Fixed(root.key.key_id()))
                .sign(&Key::p256(), &root.name, &Key::rsa("rsa2048-b"));
            Scenario { leaf, intermediates: vec![], anchors: vec![root.cert] }
        },
        cert_policy() => Err(CertError::BadSignature { .. }),

    // ---- trust ----
    untrusted_root_rejected:
        {
            let mut s = three_level(|_| {});
            s.anchors = vec![Ca::root(Spec::ca("Other Root", None), Key::p256()).cert];
            s
        },
        cert_policy() => Err(CertError::NoPathToTrustAnchor { leaf_subject, .. }) if leaf_subject == "CN=Leaf",
    untrusted_root_offered_as_intermediate_rejected:
        {
            let mut s = three_level(|_| {});
            let root = s.anchors.remove(0);
            s.intermediates.push(root);
            s.anchors = vec![Ca::root(Spec::ca("Other Root", None), Key::p256()).cert];
            s
        },
        cert_policy() => Err(CertError::NoPathToTrustAnchor { .. }),
    same_named_root_with_another_key_rejected:
        {
            let mut s = three_level(|_| {});
            s.anchors = vec![Ca::root(Spec::ca("Root", None), Key::rsa("rsa2048-b")).cert];
            s
        },
        cert_policy() => Err(CertError::NoPathToTrustAnchor { .. }),
    same_named_root_with_another_key_and_no_key_ids_rejected:
        {
            let mut s = three_level(|s| {
                s.root = Spec::ca("Root", None).no_key_ids();
                s.int = Spec::ca("Intermediate", None).no_key_ids();
            });
            s.anchors = vec![Ca::root(Spec::ca("Root", None).no_key_ids(), Key::rsa("rsa2048-b")).cert];
            s
        },
        cert_policy() => Err(CertError::BadSignature { subject }) if subject == "CN=Intermediate",
    no_anchors_rejected:
        { let mut s = three_level(|_| {}); s.anchors.clear(); s },
        cert_policy() => Err(CertError::NoPathToTrustAnchor { .. }),
    missing_intermediate_rejected:
        { let mut s = three_level(|_| {}); s.intermediates.clear(); s },
        cert_policy() => Err(CertError::NoPathToTrustAnchor { detail, .. }) if detail.contains("CN=Intermediate"),
    leaf_as_its_own_anchor_rejected_when_not_self_signed:
        { let mut s = three_level(|_| {}); s.anchors = vec![s.leaf.clone()]; s },
        cert_policy() => Err(CertError::NoPathToTrustAnchor { .. }),
    self_issued_leaf_is_not_its_own_issuer:
        {
            // Like the reference's golden leaf: subject = issuer name = the
            // intermediate's name, issued by the intermediate.
            let mut s = three_level(|s| s.leaf = Spec::leaf("Intermediate"));
            s.intermediates.clear();
            s.anchors.push(s.leaf.clone());
            s
        },
        cert_policy() => Err(CertError::NoPathToTrustAnchor { .. }),
    self_signed_leaf_not_in_anchors_rejected:
        {
            let leaf = Spec::leaf("Leaf").self_signed(&Key::p256());
            Scenario { leaf, intermediates: vec![], anchors: vec![Ca::root(Spec::ca("Root", None), Key::p256()).cert] }
        },
        cert_policy() => Err(CertError::NoPathToTrustAnchor { .. }),
    path_longer_than_max_depth_rejected:
        four_level(Spec::ca("Int1", None), Spec::ca("Int2", None)),
        ChainPolicy { max_depth: 3, ..cert_policy() } => Err(CertError::NoPathToTrustAnchor { detail, .. }) if detail.contains("longer than 3"),
    zero_max_depth_is_a_caller_error:
        three_level(|_| {}),
        ChainPolicy { max_depth: 0, ..cert_policy() } => Err(CertError::InvalidPolicy { .. }),

    // ---- accepted variants that exercise path building ----
    four_level_chain_accepted:
        four_level(Spec::ca("Int1", Some(1)), Spec::ca("Int2", Some(0))),
        cert_policy() => Ok(p) if p.len() == 4,
    path_exactly_max_depth_accepted:
        four_level(Spec::ca("Int1", None), Spec::ca("Int2", None)),
        ChainPolicy { max_depth: 4, ..cert_policy() } => Ok(p) if p.len() == 4,
    trusting_the_intermediate_directly_accepted:
        { let mut s = three_level(|_| {}); s.anchors = std::mem::take(&mut s.intermediates); s },
        cert_policy() => Ok(p) if p.len() == 2,
    root_offered_among_intermediates_is_harmless:
        { let mut s = three_level(|_| {}); let root = s.anchors[0].clone(); s.intermediates.insert(0, root); s },
        cert_policy() => Ok(p) if p.len() == 3,
    unrelated_intermediates_ignored:
        {
            let mut s = three_level(|_| {});
            let other = Ca::root(Spec::ca("Other", None), Key::p256());
            s.intermediates.insert(0, other.sub(Spec::ca("Another", None), Key::p256()).cert);
            s.intermediates.push(other.cert);
            s
        },
        cert_policy() => Ok(p) if p.len() == 3,
    leaf_repeated_among_intermediates_is_harmless:
        { let mut s = three_level(|_| {}); let leaf = s.leaf.clone(); s.intermediates.insert(0, leaf); s },
        cert_policy() => Ok(p) if p.len() == 3,
}

// ---- the reference's golden chain ----

fn golden_chain() -> (Certificate, Certificate, Certificate) {
    let leaf = golden("signing-key-cert.pem").remove(0);
    let int = golden("int-ca-cert.pem").remove(0);
    let root = golden("ca-cert.pem").remove(0);
    (leaf, int, root)
}

#[test]
fn golden_chain_validates_now() {
    let (leaf, int, root) = golden_chain();
    let path = verify_chain(&leaf, from_ref(&int), from_ref(&root), &cert_policy())
        .expect("golden chain validates");
    assert_eq!(path, vec![leaf, int, root]);
}

#[test]
fn golden_chain_validates_with_the_intermediate_as_anchor() {
    let (leaf, int, _) = golden_chain();
    let path =
        verify_chain(&leaf, &[], from_ref(&int), &cert_policy()).expect("golden chain validates");
    assert_eq!(path, vec![leaf, int]);
}

#[test]
fn golden_chain_validates_with_the_intermediate_offered_twice() {
    let (leaf, int, root) = golden_chain();
    let path = verify_chain(
        &leaf,
        &[int.clone(), root.clone()],
        &[int, root],
        &cert_policy(),
    )
    .expect("golden chain validates");
    assert_eq!(path.len(), 2);
}

#[test]
fn golden_chain_fails_without_anchors() {
    let (leaf, int, _) = golden_chain();
    let err = verify_chain(&leaf, &[int], &[], &cert_policy()).expect_err("no anchors");
    assert!(
        matches!(err, CertError::NoPathToTrustAnchor { ref leaf_subject, .. } if leaf_subject == "CN=intermediate-ca"),
        "{err:?}"
    );
}

#[test]
fn golden_chain_fails_with_an_unrelated_ca() {
    let (leaf, int, _) = golden_chain();
    let other = Ca::root(Spec::ca("root-ca", None), Key::rsa("rsa2048-a")).cert;
    let err = verify_chain(&leaf, &[int], &[other], &cert_policy()).expect_err("unrelated CA");
    assert!(
        matches!(
            err,
            CertError::NoPathToTrustAnchor { .. } | CertError::BadSignature { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn golden_chain_fails_without_the_intermediate() {
    let (leaf, _, root) = golden_chain();
    let err = verify_chain(&leaf, &[], &[root], &cert_policy()).expect_err("missing intermediate");
    assert!(
        matches!(err, CertError::NoPathToTrustAnchor { .. }),
        "{err:?}"
    );
}

#[test]
fn golden_leaf_is_not_its_own_issuer() {
    // Subject and issuer are both CN=intermediate-ca; the leaf is not self-signed.
    let (leaf, _, _) = golden_chain();
    assert!(leaf.is_self_issued());
    let err = verify_chain(&leaf, from_ref(&leaf), from_ref(&leaf), &cert_policy())
        .expect_err("a leaf cannot vouch for itself");
    assert!(
        matches!(err, CertError::NoPathToTrustAnchor { .. }),
        "{err:?}"
    );
}

#[test]
fn golden_leaf_rejected_under_reject_rule() {
    let (leaf, int, root) = golden_chain();
    let policy = ChainPolicy {
        allow_ca_leaf: LeafCaRule::Reject,
        ..cert_policy()
    };
    let err = verify_chain(&leaf, &[int], &[root], &policy).expect_err("CA leaf");
    assert!(matches!(err, CertError::CaLeaf { .. }), "{err:?}");
}

#[test]
fn golden_chain_checked_at_its_validity_bounds() {
    let (leaf, int, root) = golden_chain();
    let at = |time| {
        verify_chain(
            &leaf,
            from_ref(&int),
            from_ref(&root),
            &ChainPolicy::certificate_method(time),
        )
    };
    assert!(at(leaf.not_before()).is_ok());
    assert!(at(leaf.not_after()).is_ok());
    assert!(matches!(
        at(leaf.not_before() - 1),
        Err(CertError::NotYetValid { .. })
    ));
    assert!(matches!(
        at(leaf.not_after() + 1),
        Err(CertError::Expired { not_after, .. }) if not_after == leaf.not_after()
    ));
}

// ---- signature algorithms ----

#[test]
fn every_supported_signature_algorithm_verifies() {
    let cases: Vec<(&str, Key, Alg)> = vec![
        ("P-256 SHA-256", Key::p256(), Alg::EcdsaSha256),
        ("P-256 SHA-384", Key::p256(), Alg::EcdsaSha384),
        ("P-256 SHA-512", Key::p256(), Alg::EcdsaSha512),
        ("P-384 SHA-256", Key::p384(), Alg::EcdsaSha256),
        ("P-384 SHA-384", Key::p384(), Alg::EcdsaSha384),
        ("P-384 SHA-512", Key::p384(), Alg::EcdsaSha512),
        ("P-521 SHA-256", Key::p521(), Alg::EcdsaSha256),
        ("P-521 SHA-384", Key::p521(), Alg::EcdsaSha384),
        ("P-521 SHA-512", Key::p521(), Alg::EcdsaSha512),
        ("RSA SHA-256", Key::rsa("rsa2048-a"), Alg::RsaSha256),
        ("RSA SHA-384", Key::rsa("rsa2048-a"), Alg::RsaSha384),
        ("RSA SHA-512", Key::rsa("rsa3072"), Alg::RsaSha512),
        ("RSA-PSS SHA-256", Key::rsa("rsa2048-b"), Alg::RsaPssSha256),
        ("RSA-PSS SHA-384", Key::rsa("rsa2048-b"), Alg::RsaPssSha384),
        ("RSA-PSS SHA-512", Key::rsa("rsa3072"), Alg::RsaPssSha512),
    ];
    for (what, key, alg) in cases {
        let root = Ca::root(Spec::ca("Root", None).alg(alg), key);
        let leaf = root.issue(&Spec::leaf("Leaf").alg(alg), &Key::p256());
        let path = verify_chain(&leaf, &[], &[root.cert], &cert_policy());
        assert!(path.is_ok(), "{what}: {path:?}");
    }
}

#[test]
fn valid_three_level_chain_for_each_leaf_curve_under_an_rsa_ca() {
    for (curve, leaf_key) in [
        ("P-256", Key::p256()),
        ("P-384", Key::p384()),
        ("P-521", Key::p521()),
    ] {
        let root = Ca::root(Spec::ca("Root", None), Key::rsa("rsa2048-a"));
        let int = root.sub(
            Spec::ca("Intermediate", None).alg(Alg::RsaSha384),
            Key::rsa("rsa2048-b"),
        );
        let leaf = int.issue(&Spec::leaf("Leaf").alg(Alg::RsaPssSha256), &leaf_key);
        let path = verify_chain(&leaf, from_ref(&int.cert), &[root.cert], &cert_policy())
            .unwrap_or_else(|e| panic!("{curve}: {e}"));
        assert_eq!(path.len(), 3, "{curve}");
        // The leaf's key comes back as SPKI DER for the caller to use.
        assert_eq!(path[0].spki_der(), leaf_key.spki().to_der_vec());
    }
}

trait ToDerVec {
    fn to_der_vec(&self) -> Vec<u8>;
}

impl ToDerVec for spki::SubjectPublicKeyInfoOwned {
    fn to_der_vec(&self) -> Vec<u8> {
        der::Encode::to_der(self).expect("encode SPKI")
    }
}

// ---- path building ----

#[test]
fn backtracks_past_a_same_named_intermediate_with_another_key() {
    // Two intermediates named alike, without key identifiers: the first
    // offered did not sign the leaf, the second did.
    let root = Ca::root(Spec::ca("Root", None).no_key_ids(), Key::p256());
    let decoy = root.sub(Spec::ca("Intermediate", None).no_key_ids(), Key::p256());
    let real = root.sub(Spec::ca("Intermediate", None).no_key_ids(), Key::p256());
    let leaf = real.issue(&Spec::leaf("Leaf").no_key_ids(), &Key::p256());
    let path = verify_chain(
        &leaf,
        &[decoy.cert, real.cert.clone()],
        &[root.cert],
        &cert_policy(),
    )
    .expect("path through the second intermediate");
    assert_eq!(path[1], real.cert);
}

#[test]
fn backtracks_past_an_expired_intermediate_with_the_same_key() {
    // The same intermediate key certified twice: an expired certificate and a
    // current one. The expired one is offered first.
    let root = Ca::root(Spec::ca("Root", None), Key::p256());
    let int_key = Key::p256();
    let old = root.issue(
        &Spec::ca("Intermediate", None).validity(now() - 3 * DAY, now() - DAY),
        &int_key,
    );
    let current = root.issue(&Spec::ca("Intermediate", None), &int_key);
    let int = Ca {
        cert: current.clone(),
        key: int_key,
        name: name("CN=Intermediate"),
    };
    let leaf = int.issue(&Spec::leaf("Leaf"), &Key::p256());
    let path = verify_chain(&leaf, &[old, current.clone()], &[root.cert], &cert_policy())
        .expect("path through the current certificate");
    assert_eq!(path[1], current);
}

#[test]
fn backtracks_to_a_cross_signed_path_to_the_trusted_root() {
    // Intermediate certified by an old root (not trusted) and cross-signed by
    // a new root (trusted); the old one is offered first.
    let old_root = Ca::root(Spec::ca("Old Root", None), Key::p256());
    let new_root = Ca::root(Spec::ca("New Root", None), Key::p256());
    let int_key = Key::p256();
    let by_old = old_root.issue(&Spec::ca("Intermediate", None), &int_key);
    let by_new = new_root.issue(&Spec::ca("Intermediate", None), &int_key);
    let int = Ca {
        cert: by_old.clone(),
        key: int_key,
        name: name("CN=Intermediate"),
    };
    let leaf = int.issue(&Spec::leaf("Leaf"), &Key::p256());
    let path = verify_chain(
        &leaf,
        &[by_old, old_root.cert, by_new.clone()],
        from_ref(&new_root.cert),
        &cert_policy(),
    )
    .expect("path through the cross-signed certificate");
    assert_eq!(path, vec![leaf, by_new, new_root.cert]);
}

#[test]
fn self_issued_intermediate_does_not_count_against_path_len() {
    // Root (pathLen 0) -> key-rollover certificate (self-issued: subject =
    // issuer = Root, new key) -> leaf. RFC 5280 does not count self-issued
    // intermediates.
    let root = Ca::root(Spec::ca("Root", Some(0)), Key::p256());
    let new_key = Key::p256();
    let rollover = root.issue(&Spec::ca("Root", Some(0)), &new_key);
    let rolled = Ca {
        cert: rollover.clone(),
        key: new_key,
        name: name("CN=Root"),
    };
    let leaf = rolled.issue(&Spec::leaf("Leaf"), &Key::p256());
    let path = verify_chain(&leaf, &[rollover], &[root.cert], &cert_policy())
        .expect("self-issued intermediate allowed under pathLen 0");
    assert_eq!(path.len(), 3);
}

#[test]
fn self_signed_leaf_trusted_directly() {
    let key = Key::p256();
    let leaf = Spec::leaf("Self").self_signed(&key);
    let path = verify_chain(&leaf, &[], from_ref(&leaf), &cert_policy()).expect("pinned");
    assert_eq!(path, vec![leaf.clone()]);
    // Still subject to the leaf checks.
    let err = verify_chain(
        &leaf,
        &[],
        from_ref(&leaf),
        &ChainPolicy::certificate_method(leaf.not_after() + 1),
    )
    .expect_err("expired");
    assert!(matches!(err, CertError::Expired { .. }), "{err:?}");
}

#[test]
fn cycle_of_cross_signed_certificates_terminates() {
    // A and B certify each other (both names, several keys); the leaf is
    // issued by A; nothing leads to the trusted root.
    let a_keys: Vec<Key> = (0..3).map(|_| Key::p256()).collect();
    let b_keys: Vec<Key> = (0..3).map(|_| Key::p256()).collect();
    let a_name = name("CN=A");
    let b_name = name("CN=B");
    let mut pool = Vec::new();
    for ak in &a_keys {
        for bk in &b_keys {
            pool.push(Spec::ca("A", None).no_key_ids().sign(ak, &b_name, bk));
            pool.push(Spec::ca("B", None).no_key_ids().sign(bk, &a_name, ak));
        }
    }
    let leaf = Spec::leaf("Leaf")
        .no_key_ids()
        .sign(&Key::p256(), &a_name, &a_keys[0]);
    let trusted = Ca::root(Spec::ca("Root", None), Key::p256()).cert;
    let started = Instant::now();
    let err = verify_chain(&leaf, &pool, &[trusted], &cert_policy()).expect_err("no path");
    assert!(
        matches!(err, CertError::NoPathToTrustAnchor { .. }),
        "{err:?}"
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn two_certificates_signing_each_other_terminate() {
    let ka = Key::p256();
    let kb = Key::p256();
    let a = Spec::ca("A", None).sign(&ka, &name("CN=B"), &kb);
    let b = Spec::ca("B", None).sign(&kb, &name("CN=A"), &ka);
    let leaf = Spec::leaf("Leaf").sign(&Key::p256(), &name("CN=A"), &ka);
    let trusted = Ca::root(Spec::ca("Root", None), Key::p256()).cert;
    let err = verify_chain(&leaf, &[a, b], &[trusted], &cert_policy()).expect_err("no path");
    assert!(
        matches!(err, CertError::NoPathToTrustAnchor { .. }),
        "{err:?}"
    );
}

#[test]
fn search_work_is_bounded() {
    // Many same-named intermediates without key identifiers, none of which
    // signed the leaf: each needs a signature check, and the search stops at
    // the budget rather than trying them all.
    let key = Key::p256();
    let root = Ca::root(Spec::ca("Root", None), Key::p256());
    let pool: Vec<Certificate> = (0..MAX_SIGNATURE_CHECKS + 10)
        .map(|_| root.issue(&Spec::ca("Intermediate", None).no_key_ids(), &key))
        .collect();
    let leaf =
        Spec::leaf("Leaf")
            .no_key_ids()
            .sign(&Key::p256(), &name("CN=Intermediate"), &Key::p256());
    let err = verify_chain(&leaf, &pool, &[root.cert], &cert_policy()).expect_err("no path");
    assert!(
        matches!(err, CertError::NoPathToTrustAnchor { ref detail, .. } if detail.contains("gave up")),
        "{err:?}"
    );
}

#[test]
fn chains_in_the_reference_certificate_bundles_validate() {
    use base64::Engine as _;
    let root = golden("ca-cert.pem").remove(0);
    let dir = golden_dir().join("../..");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("golden folder") {
        let path = entry.expect("entry").path();
        let is_cert_method = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("-certificate"));
        if !is_cert_method {
            continue;
        }
        let text = std::fs::read(path.join("model.sig")).expect("read bundle");
        let bundle: serde_json::Value = serde_json::from_slice(&text).expect("bundle JSON");
        let certs: Vec<Certificate> = bundle["verificationMaterial"]["x509CertificateChain"]
            ["certificates"]
            .as_array()
            .expect("certificate list")
            .iter()
            .map(|c| {
                let b64 = c["rawBytes"].as_str().expect("rawBytes");
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .expect("base64");
                Certificate::from_der(&der).expect("certificate")
            })
            .collect();
        let (leaf, chain) = certs.split_first().expect("a leaf");
        let path_found = verify_chain(leaf, chain, from_ref(&root), &cert_policy())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(path_found.len(), 3, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 5, "found {seen} certificate bundles");
}

/// Fulcio CA certificates from the production trusted root:
/// (intermediates, roots).
fn fulcio_production() -> (Vec<Certificate>, Vec<Certificate>) {
    use base64::Engine as _;
    let path = support::trust("production").join("trusted_root.json");
    let text = std::fs::read(&path).expect("read trusted root");
    let root: serde_json::Value = serde_json::from_slice(&text).expect("trusted root JSON");
    let mut intermediates = Vec::new();
    let mut roots = Vec::new();
    for ca in root["certificateAuthorities"].as_array().expect("CAs") {
        for c in ca["certChain"]["certificates"].as_array().expect("chain") {
            let der = base64::engine::general_purpose::STANDARD
                .decode(c["rawBytes"].as_str().expect("rawBytes"))
                .expect("base64");
            let cert = Certificate::from_der(&der).expect("Fulcio certificate");
            if cert.is_self_issued() {
                roots.push(cert);
            } else {
                intermediates.push(cert);
            }
        }
    }
    (intermediates, roots)
}

#[test]
fn fulcio_leaves_in_the_reference_sigstore_bundles_validate_at_signing_time() {
    use base64::Engine as _;
    let (intermediates, roots) = fulcio_production();
    assert!(!intermediates.is_empty() && !roots.is_empty());
    let dir = golden_dir().join("../..");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("golden folder") {
        let path = entry.expect("entry").path();
        let is_sigstore = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("-sigstore"));
        if !is_sigstore {
            continue;
        }
        let text = std::fs::read(path.join("model.sig")).expect("read bundle");
        let bundle: serde_json::Value = serde_json::from_slice(&text).expect("bundle JSON");
        let der = base64::engine::general_purpose::STANDARD
            .decode(
                bundle["verificationMaterial"]["certificate"]["rawBytes"]
                    .as_str()
                    .expect("rawBytes"),
            )
            .expect("base64");
        let leaf = Certificate::from_der(&der).expect("Fulcio leaf");
        assert!(!leaf.subject_alt_names().is_empty());
        let during = ChainPolicy::sigstore(leaf.not_before() + 60);
        let path_found = verify_chain(&leaf, &intermediates, &roots, &during)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(path_found.len(), 3, "{}", path.display());
        // Trusting the intermediates directly also works.
        let short = verify_chain(&leaf, &[], &intermediates, &during).expect("short path");
        assert_eq!(short.len(), 2);
        // After the ten minutes, the leaf has expired.
        let after = ChainPolicy::sigstore(leaf.not_after() + 1);
        let err = verify_chain(&leaf, &intermediates, &roots, &after).expect_err("expired");
        assert!(matches!(err, CertError::Expired { .. }), "{err:?}");
        seen += 1;
    }
    assert!(seen >= 4, "found {seen} Sigstore bundles");
}

/// What signing warns about in the certificates it would carry.
#[test]
fn chain_gap_names_a_leaf_carried_alone_and_certificates_off_its_chain() {
    let root = Ca::root(Spec::ca("Root", None), Key::p256());
    let int = root.sub(Spec::ca("Intermediate", None), Key::p256());
    let other = root.sub(Spec::ca("Other Intermediate", None), Key::p256());
    let leaf = int.issue(&Spec::leaf("Leaf"), &Key::p256());
    // The leaf alone: a verifier holding only the root cannot link it.
    assert_eq!(
        chain_gap(&leaf, &[]),
        Some(ChainGap::LeafOnly {
            subject: leaf.subject(),
            issuer: int.cert.subject(),
        })
    );
    // A certificate that did not issue the leaf.
    assert_eq!(
        chain_gap(&leaf, from_ref(&other.cert)),
        Some(ChainGap::Unlinked {
            subject: other.cert.subject(),
            top: leaf.subject(),
            top_issuer: int.cert.subject(),
        })
    );
    // The root without the intermediate between.
    assert!(matches!(
        chain_gap(&leaf, from_ref(&root.cert)),
        Some(ChainGap::Unlinked { subject, .. }) if subject == root.cert.subject()
    ));
    // The intermediate and an unrelated one: the unrelated one is named.
    assert!(matches!(
        chain_gap(&leaf, &[int.cert.clone(), other.cert.clone()]),
        Some(ChainGap::Unlinked { subject, top, .. })
            if subject == other.cert.subject() && top == int.cert.subject()
    ));
}

#[test]
fn chain_gap_accepts_chains_that_link_up_from_the_leaf() {
    let root = Ca::root(Spec::ca("Root", None), Key::p256());
    let int = root.sub(Spec::ca("Intermediate", None), Key::p256());
    let leaf = int.issue(&Spec::leaf("Leaf"), &Key::p256());
    // Up to the intermediate (the root left to verifiers), up to the root,
    // in any order, a certificate given twice, and a self-issued leaf alone.
    assert_eq!(chain_gap(&leaf, from_ref(&int.cert)), None);
    assert_eq!(
        chain_gap(&leaf, &[root.cert.clone(), int.cert.clone()]),
        None
    );
    assert_eq!(
        chain_gap(&leaf, &[int.cert.clone(), int.cert.clone()]),
        None
    );
    assert_eq!(chain_gap(&root.cert, &[]), None);
    let direct = root.issue(&Spec::leaf("Direct"), &Key::p256());
    assert_eq!(chain_gap(&direct, from_ref(&root.cert)), None);
}

//! X.509 certificates: parsing and chain validation for the certificate
//! signing method (user PKI) and, with a stricter policy, for Sigstore.
//!
//! Certificates are untrusted input: every accessor works on a certificate that
//! [`Certificate::from_der`] parsed strictly, and nothing here panics on bad
//! data.
//!
//! [`verify_chain`] builds a path from a leaf through untrusted intermediates
//! to one of the trust anchors the caller passes (there is no implicit system
//! trust) and checks it at a chosen time:
//!
//! ```no_run
//! use model_signing::x509::{verify_chain, Certificate, ChainPolicy};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let leaf = Certificate::from_pem_bundle(&std::fs::read("signing-cert.pem")?)?.remove(0);
//! let chain = Certificate::from_pem_bundle(&std::fs::read("int-ca.pem")?)?;
//! let roots = Certificate::from_pem_bundle(&std::fs::read("ca.pem")?)?;
//! let now = std::time::SystemTime::now()
//!     .duration_since(std::time::UNIX_EPOCH)?
//!     .as_secs() as i64;
//! let path = verify_chain(&leaf, &chain, &roots, &ChainPolicy::certificate_method(now))?;
//! println!("trusted through {}", path[path.len() - 1].subject());
//! # Ok(())
//! # }
//! ```
//!
//! # Validation rules
//!
//! - **Path building.** Starting at the leaf, an issuer candidate is any
//!   anchor or intermediate whose subject name is byte-for-byte the child's
//!   issuer name (and whose subject key identifier equals the child's
//!   authority key identifier when both are present); the child's signature
//!   must verify with the candidate's key. Anchors are tried before
//!   intermediates, and alternatives are tried in turn (backtracking). A
//!   certificate whose subject and key already appear on the path is never
//!   used again, so cross-signed cycles end; the search also stops after
//!   [`MAX_SIGNATURE_CHECKS`] signature checks or [`MAX_PATH_STEPS`]
//!   steps. The leaf's own checks come first, as they do not depend on the
//!   path. A path has at most [`ChainPolicy::max_depth`] certificates, leaf
//!   and anchor included. When no path is found, the error from the deepest
//!   point the search reached is returned.
//! - **Anchors** are exactly the certificates passed; a trusted intermediate
//!   ends the path there. An anchor is treated like every other issuer: it
//!   must be valid at the policy time, be a CA (basicConstraints `CA:TRUE`),
//!   carry keyCertSign when it has a keyUsage extension, have no unknown
//!   critical extension, and its pathLenConstraint counts. Its own signature
//!   (self-signature or otherwise) is not checked: it is trusted as given,
//!   so a root self-signed with SHA-1 still works as an anchor.
//! - **A leaf that is itself an anchor** is accepted alone (a one-certificate
//!   path) only when it is self-signed, i.e. its signature verifies with its
//!   own key. A certificate is never its own issuer otherwise: the reference
//!   test leaf `CN=intermediate-ca` issued by a different `CN=intermediate-ca`
//!   is checked against that other certificate's key.
//! - **Validity** of every certificate on the path, anchors included, is
//!   checked at [`ChainPolicy::time`] (bounds inclusive).
//! - **Critical extensions** understood: basicConstraints, keyUsage,
//!   extendedKeyUsage, subjectAltName, subjectKeyIdentifier,
//!   authorityKeyIdentifier. Any other critical extension (certificate
//!   policies, policy constraints and mappings, inhibitAnyPolicy included: no
//!   policy processing is done) fails with
//!   [`CertError::UnknownCriticalExtension`]. Non-critical extensions that are
//!   not understood are ignored. nameConstraints on an issuer (anchors
//!   included), critical or not, fails with
//!   [`CertError::UnsupportedNameConstraints`]: name constraints are not
//!   enforced, so they are refused rather than ignored.
//! - **Issuers**: basicConstraints `CA:TRUE`; keyCertSign when keyUsage is
//!   present; pathLenConstraint counts the intermediates below, not counting
//!   self-issued ones (RFC 5280 6.1.4). extendedKeyUsage on issuers is not
//!   checked.
//! - **Leaf**: digitalSignature when keyUsage is present; a leaf with neither
//!   keyUsage nor extendedKeyUsage is refused (the reference refuses it too).
//!   With [`ChainPolicy::required_eku`] set, an extendedKeyUsage extension must
//!   list that purpose; anyExtendedKeyUsage does not stand in for it. With
//!   [`ChainPolicy::eku_required_present`] the extension must be present.
//!   A CA leaf (`CA:TRUE`) follows [`LeafCaRule`].
//! - **Signature algorithms**: sha256/384/512WithRSAEncryption, RSASSA-PSS
//!   with SHA-256/384/512 (MGF1 with the same hash, the declared salt length,
//!   trailer field 1), ecdsa-with-SHA256/384/512 over P-256, P-384 and P-521
//!   in any combination. SHA-1, MD5 and MD2 signatures fail with
//!   [`CertError::WeakAlgorithm`]; issuer RSA keys under 2048 bits with
//!   [`CertError::WeakKey`]; Ed25519 (RFC 8410, pure Ed25519); anything else
//!   (DSA, other curves, RSA keys over 8192 bits) with [`CertError::UnsupportedAlgorithm`]. The outer
//!   signature algorithm must equal the one inside the signed part. The
//!   leaf's own key is not examined here: [`Certificate::spki_der`] hands it
//!   to the caller.
//! - **Names** are compared as DER bytes, without the RFC 5280 string
//!   folding; revocation (CRL, OCSP) is not checked.

mod cert;
mod chain;
mod pem;
mod signature;

pub use cert::{Certificate, KeyUsage, SubjectAltName};
pub use chain::{
    chain_gap, check_signing_certificate, verify_chain, ChainGap, MAX_PATH_STEPS,
    MAX_SIGNATURE_CHECKS,
};
pub use const_oid::ObjectIdentifier;
pub(crate) use signature::{verify_message, Hash};

/// The extended key usage for code signing, `1.3.6.1.5.5.7.3.3`.
pub const EKU_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// The extended key usage for timestamping, `1.3.6.1.5.5.7.3.8`: what an
/// RFC 3161 timestamp authority's signing certificate must list.
pub const EKU_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// anyExtendedKeyUsage, `2.5.29.37.0`: never accepted in place of a required
/// purpose.
pub const EKU_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// The default bound on the number of certificates in a path, leaf and anchor
/// included.
pub const DEFAULT_MAX_DEPTH: usize = 8;

/// What to do with a leaf certificate that is a CA (basicConstraints
/// `CA:TRUE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafCaRule {
    /// Refuse any CA leaf (Sigstore: Fulcio never issues one).
    Reject,
    /// Accept a CA leaf only when it has a keyUsage extension without
    /// keyCertSign and without cRLSign, so that it cannot act as a CA. The
    /// reference's own test signing certificate is such a certificate
    /// (`CA:TRUE`, keyUsage digitalSignature, extendedKeyUsage codeSigning).
    AllowWithoutCertSign,
}

/// What [`verify_chain`] requires of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainPolicy {
    /// The time, in seconds since the Unix epoch, at which every certificate
    /// on the path must be valid.
    pub time: i64,
    /// The purpose the leaf's extendedKeyUsage must list when the extension is
    /// present (anyExtendedKeyUsage does not count); `None` checks nothing.
    pub required_eku: Option<ObjectIdentifier>,
    /// Whether the leaf must carry an extendedKeyUsage extension at all.
    pub eku_required_present: bool,
    /// What to do with a leaf that is a CA.
    pub allow_ca_leaf: LeafCaRule,
    /// The most certificates a path may have, leaf and anchor included.
    pub max_depth: usize,
}

impl ChainPolicy {
    /// The policy of the certificate signing method: codeSigning checked when
    /// the leaf has an extendedKeyUsage extension, CA leaves accepted when
    /// they cannot sign certificates, [`DEFAULT_MAX_DEPTH`].
    pub fn certificate_method(time: i64) -> Self {
        Self {
            time,
            required_eku: Some(EKU_CODE_SIGNING),
            eku_required_present: false,
            allow_ca_leaf: LeafCaRule::AllowWithoutCertSign,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// The policy for the signing certificate of an RFC 3161 timestamp
    /// authority, checked at the timestamp's time: extendedKeyUsage
    /// timeStamping required, CA leaves refused, [`DEFAULT_MAX_DEPTH`].
    pub fn timestamping(time: i64) -> Self {
        Self {
            time,
            required_eku: Some(EKU_TIME_STAMPING),
            eku_required_present: true,
            allow_ca_leaf: LeafCaRule::Reject,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// The policy for Sigstore (Fulcio) certificates: extendedKeyUsage
    /// codeSigning required, CA leaves refused, [`DEFAULT_MAX_DEPTH`].
    pub fn sigstore(time: i64) -> Self {
        Self {
            time,
            required_eku: Some(EKU_CODE_SIGNING),
            eku_required_present: true,
            allow_ca_leaf: LeafCaRule::Reject,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// Why a certificate could not be parsed or a chain could not be validated.
///
/// `subject` fields hold the RFC 4514 display form of the certificate's
/// subject; times are seconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The bytes are not a well-formed DER certificate, or a PEM file is not
    /// well formed.
    #[error("malformed certificate: {detail}")]
    Malformed {
        /// What is wrong.
        detail: String,
    },
    /// A PEM file holds no `CERTIFICATE` block.
    #[error("no CERTIFICATE block found in the PEM text")]
    NoCertificate,
    /// The certificate expired before the validation time.
    #[error("certificate {subject} expired at {}", format_time(*.not_after))]
    Expired {
        /// The certificate's subject.
        subject: String,
        /// Its notAfter.
        not_after: i64,
    },
    /// The certificate is not valid yet at the validation time.
    #[error("certificate {subject} is not valid before {}", format_time(*.not_before))]
    NotYetValid {
        /// The certificate's subject.
        subject: String,
        /// Its notBefore.
        not_before: i64,
    },
    /// No path leads from the leaf to a trust anchor.
    #[error("no path from certificate {leaf_subject} to a trusted certificate: {detail}")]
    NoPathToTrustAnchor {
        /// The leaf's subject.
        leaf_subject: String,
        /// Where the search stopped.
        detail: String,
    },
    /// An issuer on the path is not a CA (basicConstraints missing or
    /// `CA:FALSE`).
    #[error("certificate {subject} issues certificates but is not a CA (basicConstraints CA:TRUE missing)")]
    NotACa {
        /// The issuer's subject.
        subject: String,
    },
    /// An issuer's pathLenConstraint is smaller than the number of
    /// intermediates below it.
    #[error(
        "certificate {subject} has more intermediates below it than its pathLenConstraint allows"
    )]
    PathLenExceeded {
        /// The issuer's subject.
        subject: String,
    },
    /// The keyUsage extension does not allow the certificate's role.
    #[error("certificate {subject}: key usage: {detail}")]
    KeyUsage {
        /// The certificate's subject.
        subject: String,
        /// What is missing.
        detail: String,
    },
    /// The leaf's extendedKeyUsage does not allow the required purpose.
    #[error("certificate {subject}: extended key usage: {detail}")]
    ExtendedKeyUsage {
        /// The certificate's subject.
        subject: String,
        /// What is missing.
        detail: String,
    },
    /// The leaf is a CA and the policy does not allow it.
    #[error("certificate {subject} is a CA and cannot be used to sign: {detail}")]
    CaLeaf {
        /// The leaf's subject.
        subject: String,
        /// Why it is refused.
        detail: String,
    },
    /// A certificate's signature does not verify with its issuer's key.
    #[error("the signature on certificate {subject} does not verify with its issuer's key")]
    BadSignature {
        /// The subject of the certificate whose signature failed.
        subject: String,
    },
    /// A signature or key algorithm that is not supported.
    #[error("unsupported signature or key algorithm {oid}")]
    UnsupportedAlgorithm {
        /// The algorithm's object identifier (or a name for a curve).
        oid: String,
    },
    /// A signature algorithm that is supported by some but too weak to trust
    /// (SHA-1, MD5, MD2).
    #[error("certificate {subject} is signed with {algorithm}, which is not accepted")]
    WeakAlgorithm {
        /// The subject of the signed certificate.
        subject: String,
        /// The algorithm's name.
        algorithm: String,
    },
    /// An issuer key that is too weak (RSA under 2048 bits).
    #[error("certificate {subject} has a weak key: {detail}")]
    WeakKey {
        /// The issuer's subject.
        subject: String,
        /// What is wrong with the key.
        detail: String,
    },
    /// A critical extension that is not understood.
    #[error("certificate {subject} has an unsupported critical extension {oid}")]
    UnknownCriticalExtension {
        /// The certificate's subject.
        subject: String,
        /// The extension's object identifier.
        oid: String,
    },
    /// An issuer carries nameConstraints, which are not enforced.
    #[error("certificate {subject} has nameConstraints, which are not supported")]
    UnsupportedNameConstraints {
        /// The issuer's subject.
        subject: String,
    },
    /// The caller passed an unusable policy.
    #[error("invalid chain policy: {detail}")]
    InvalidPolicy {
        /// What is wrong.
        detail: String,
    },
}

/// Formats Unix seconds as an RFC 3339 UTC time, for messages.
pub(crate) fn format_time(secs: i64) -> String {
    crate::text::rfc3339(secs)
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn formats_times() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_746_228_988), "2025-05-02T23:36:28Z");
        assert_eq!(format_time(2_061_588_988), "2035-04-30T23:36:28Z");
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_time(253_402_300_799), "9999-12-31T23:59:59Z");
    }
}

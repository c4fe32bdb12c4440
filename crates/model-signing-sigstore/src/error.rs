//! The one error type of this crate.

use std::path::PathBuf;

use model_signing::x509::CertError;

/// Which Sigstore check rejected a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// Bundle structure: media type, material kind, counts, encodings.
    Bundle,
    /// The signing certificate: chain to a trusted Fulcio CA, validity at
    /// every verified time, key usage.
    Certificate,
    /// The certificate's signed certificate timestamp (CT log).
    Sct,
    /// The transparency log entry: inclusion proof, checkpoint, SET, and its
    /// consistency with this bundle.
    TransparencyLog,
    /// RFC 3161 timestamps and the verified signing time.
    Timestamp,
    /// The signature over the envelope or message.
    Signature,
    /// The artifact (or the statement subject) does not match the signature.
    Artifact,
    /// The trust material itself is unusable.
    TrustRoot,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Check::Bundle => "bundle",
            Check::Certificate => "signing certificate",
            Check::Sct => "certificate transparency",
            Check::TransparencyLog => "transparency log entry",
            Check::Timestamp => "timestamp",
            Check::Signature => "signature",
            Check::Artifact => "artifact",
            Check::TrustRoot => "trusted root",
        })
    }
}

/// Why Sigstore trust material could not be loaded or a bundle did not verify.
///
/// Variants fall in three groups: trouble with the caller's input or
/// environment ([`Io`](Self::Io), [`TrustRoot`](Self::TrustRoot),
/// [`Pattern`](Self::Pattern), [`Digest`](Self::Digest)), malformed untrusted
/// input ([`MalformedBundle`](Self::MalformedBundle) and the count and
/// material checks), and failed verification (the rest).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigstoreError {
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Trust material (trusted root or client trust config) is malformed or unusable.
    #[error("invalid Sigstore trust material ({origin}): {detail}")]
    TrustRoot {
        /// Where it came from: a path or `embedded production root`.
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// An identity or issuer pattern is not a valid regular expression.
    #[error("invalid regular expression {pattern:?}: {detail}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong.
        detail: String,
    },
    /// An artifact digest is not `sha256:<64 hex>` (or `sha384:`/`sha512:`).
    #[error("invalid artifact digest {0:?}: expected sha256:<hex>")]
    Digest(String),
    /// A public key given for verification is malformed.
    #[error("invalid public key: {0}")]
    PublicKey(String),

    /// The bundle is not well-formed.
    #[error("malformed Sigstore bundle: {0}")]
    MalformedBundle(String),
    /// The bundle carries a number of log entries other than the one required.
    #[error("the bundle carries {found} transparency log entries; exactly {expected} required")]
    TlogEntryCount {
        /// Entries required by the trust material (1, or 0 for an instance without a log).
        expected: usize,
        /// Entries found.
        found: usize,
    },
    /// A self-signed (root) certificate travels in the bundle.
    #[error("the bundle carries a root certificate; roots come only from the trusted root")]
    RootCertificateInBundle,
    /// The bundle's verification material does not suit the requested verification.
    #[error("the bundle carries a {found}, but this verification needs a {expected}")]
    WrongMaterial {
        /// What is needed.
        expected: &'static str,
        /// What the bundle has.
        found: &'static str,
    },
    /// The signed statement has no SHA-256 subject to verify against.
    #[error("the signed in-toto statement has no single sha256 subject: {0}")]
    NoSubjectDigest(String),

    /// A Sigstore check failed.
    #[error("{check} check failed: {detail}")]
    Rejected {
        /// Which check.
        check: Check,
        /// What the check found.
        detail: String,
    },
    /// The signing certificate does not chain to a trusted Fulcio CA at a
    /// verified time, or is not fit for code signing.
    #[error("the signing certificate is not trusted")]
    Certificate(#[source] CertError),
    /// The certificate names another identity than the one expected.
    #[error("identity mismatch: expected {expected}, the certificate says {}", found.as_deref().unwrap_or("nothing"))]
    IdentityMismatch {
        /// The expected identity or pattern.
        expected: String,
        /// The certificate's identity.
        found: Option<String>,
    },
    /// The certificate names another OIDC issuer than the one expected.
    #[error("identity provider mismatch: expected {expected}, the certificate says {}", found.as_deref().unwrap_or("nothing"))]
    IssuerMismatch {
        /// The expected issuer or pattern.
        expected: String,
        /// The certificate's issuer.
        found: Option<String>,
    },
    /// The certificate's identity claims are ambiguous (several SAN
    /// identities, or issuer extensions that disagree).
    #[error("ambiguous identity in the signing certificate: {0}")]
    AmbiguousIdentity(String),
    /// A CI claim from the certificate's Fulcio extensions does not match.
    #[error("{claim} mismatch: expected {expected}, the certificate says {}", found.as_deref().unwrap_or("nothing"))]
    ClaimMismatch {
        /// The claim, like `source repository`.
        claim: &'static str,
        /// The expected value.
        expected: String,
        /// The certificate's value.
        found: Option<String>,
    },
    /// What sigstore-verify checked differs from what the bundle parser read.
    #[error("the verified bundle content differs from the parsed bundle ({0})")]
    Inconsistent(&'static str),
}

impl SigstoreError {
    pub(crate) fn rejected(check: Check, detail: impl Into<String>) -> Self {
        SigstoreError::Rejected {
            check,
            detail: detail.into(),
        }
    }

    /// The check that failed, for [`Rejected`](Self::Rejected) errors.
    pub fn check(&self) -> Option<Check> {
        match self {
            SigstoreError::Rejected { check, .. } => Some(*check),
            SigstoreError::Certificate(_) => Some(Check::Certificate),
            SigstoreError::TlogEntryCount { .. } | SigstoreError::RootCertificateInBundle => {
                Some(Check::Bundle)
            }
            _ => None,
        }
    }

    /// Whether this is trouble with the caller's input or environment rather
    /// than a bundle that failed verification.
    pub fn is_setup_error(&self) -> bool {
        matches!(
            self,
            SigstoreError::Io { .. }
                | SigstoreError::TrustRoot { .. }
                | SigstoreError::Pattern { .. }
                | SigstoreError::Digest(_)
                | SigstoreError::PublicKey(_)
        )
    }
}

/// Maps sigstore-verify's error onto ours, keeping its message as detail.
pub(crate) fn from_sigstore(e: sigstore_verify::Error) -> SigstoreError {
    use sigstore_verify::{CertificateError, Error as E};
    let detail = e.to_string();
    let check = match &e {
        E::IdentityMismatch { .. } | E::IssuerMismatch { .. } => Check::Certificate,
        E::SignatureInvalid(_) => Check::Signature,
        E::ArtifactMismatch(_) | E::UnsupportedArtifact(_) | E::ArtifactRead(_) => Check::Artifact,
        E::Certificate(CertificateError::Sct(_)) => Check::Sct,
        E::Certificate(_) => Check::Certificate,
        E::TransparencyLog(_) => Check::TransparencyLog,
        E::Timestamp(_) => Check::Timestamp,
        E::InvalidTrustRoot(_) | E::TrustRoot(_) | E::TrustedCertificate(_) => Check::TrustRoot,
        E::InvalidBundle(_) | E::UnsupportedBundle(_) | E::Bundle(_) | E::Types(_) => Check::Bundle,
        _ => Check::Signature,
    };
    SigstoreError::rejected(check, detail)
}

//! Verification of Sigstore bundles: the checks of sigstore-verify, plus our
//! own structure, certificate-chain and identity checks on top.

use model_signing::__private::{parse_shaped, shorten, Node, Obj, Shape};
use model_signing::bundle::{
    array_len, check_known_fields, read_known_fields, Bundle, BundleError, VerificationMaterial,
};
use model_signing::dsse::PaeEncoding;
use model_signing::keys::PublicKey;
use model_signing::limits::{Limits, MAX_CHAIN_CERTIFICATES, MAX_PAYLOAD_BYTES, MAX_TIMESTAMPS};
use model_signing::verify::{SignatureCheck, SignatureVerifier, Signer, VerifyError};
use model_signing::x509::{verify_chain, Certificate, ChainPolicy};
use serde_json::Value;
use sigstore_types::bundle::VerificationMaterialContent;
use sigstore_types::{HashAlgorithm, PayloadBytes, SignatureContent};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy};

use crate::error::{from_sigstore, Check, SigstoreError};
use crate::policy::{certificate_identity, CertIdentity, CiClaims, IdentityPolicy};
use crate::trust::TrustRoot;

/// A parsed Sigstore bundle of any content (message signature or DSSE
/// envelope), not yet verified.
///
/// It is built from the known fields of the document only (see
/// [`read_known_fields`]): an unknown field, however large, is skipped while
/// the document is read and never reaches sigstore-verify's parser, which
/// would buffer it whole.
#[derive(Debug, Clone)]
pub struct SigstoreBundle {
    inner: sigstore_types::Bundle,
    media_type: String,
    counts: Counts,
}

/// How many log entries, timestamps and chain certificates the document
/// holds (those beyond the bounds are counted, not kept).
#[derive(Debug, Clone, Copy)]
struct Counts {
    tlog_entries: usize,
    timestamps: usize,
    certificates: usize,
}

impl SigstoreBundle {
    /// Parses a bundle strictly: size bound, no duplicate JSON keys, known
    /// media type, well-formed fields, every field within its bound.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SigstoreError> {
        let malformed = |e: BundleError| SigstoreError::MalformedBundle(e.to_string());
        let node = read_known_fields(bytes, &Limits::default()).map_err(malformed)?;
        check_known_fields(&node).map_err(malformed)?;
        let vm = "verificationMaterial";
        let counts = Counts {
            tlog_entries: array_len(&node, &[vm, "tlogEntries"]),
            timestamps: array_len(
                &node,
                &[vm, "timestampVerificationData", "rfc3161Timestamps"],
            ),
            certificates: array_len(&node, &[vm, "x509CertificateChain", "certificates"]),
        };
        let known = node.to_value();
        drop(node);
        let inner = sigstore_types::Bundle::from_json(&known.to_string())
            .map_err(|e| SigstoreError::MalformedBundle(e.to_string()))?;
        let media_type = known
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        Ok(SigstoreBundle {
            inner,
            media_type,
            counts,
        })
    }

    /// The bundle a model signature was read into, for sigstore-verify: its
    /// fields written out without the payload, parsed, and the payload bytes
    /// attached as they are (no base64 text of a large payload is made).
    fn from_model_bundle(bundle: &Bundle) -> Result<Self, SigstoreError> {
        let mut inner = sigstore_types::Bundle::from_json(&bundle.to_json_without_payload())
            .map_err(|e| SigstoreError::MalformedBundle(e.to_string()))?;
        let SignatureContent::DsseEnvelope(env) = &mut inner.content else {
            return Err(SigstoreError::Inconsistent("content"));
        };
        env.payload = PayloadBytes::new(bundle.envelope.payload.clone());
        let material = &inner.verification_material;
        let counts = Counts {
            tlog_entries: material.tlog_entries.len(),
            timestamps: material
                .timestamp_verification_data
                .rfc3161_timestamps
                .len(),
            certificates: match &material.content {
                VerificationMaterialContent::X509CertificateChain { certificates } => {
                    certificates.len()
                }
                _ => 0,
            },
        };
        Ok(SigstoreBundle {
            inner,
            media_type: bundle.media_type.clone(),
            counts,
        })
    }

    /// The bundle's `mediaType`.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }
}

/// The digest algorithms an [`Artifact::Digest`] may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// What was signed: the bytes, or their digest.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Artifact<'a> {
    /// The artifact itself.
    Bytes(&'a [u8]),
    /// A digest of the artifact (for a DSSE bundle: a subject digest).
    Digest {
        /// The algorithm.
        algorithm: DigestAlgorithm,
        /// The digest bytes.
        value: Vec<u8>,
    },
}

impl Artifact<'static> {
    /// Parses `sha256:<hex>` (also `sha384:` and `sha512:`).
    pub fn parse_digest(text: &str) -> Result<Self, SigstoreError> {
        let bad = || SigstoreError::Digest(shorten(text, 80));
        let (name, hex_value) = text.split_once(':').ok_or_else(bad)?;
        let (algorithm, len) = match name {
            "sha256" => (DigestAlgorithm::Sha256, 32),
            "sha384" => (DigestAlgorithm::Sha384, 48),
            "sha512" => (DigestAlgorithm::Sha512, 64),
            _ => return Err(bad()),
        };
        let value = hex::decode(hex_value).map_err(|_| bad())?;
        if value.len() != len {
            return Err(bad());
        }
        Ok(Artifact::Digest { algorithm, value })
    }
}

impl<'a> Artifact<'a> {
    fn to_sigstore(&self) -> Result<sigstore_types::Artifact<'a>, SigstoreError> {
        Ok(match self {
            Artifact::Bytes(b) => sigstore_types::Artifact::Blob(b),
            Artifact::Digest { algorithm, value } => {
                let algorithm = match algorithm {
                    DigestAlgorithm::Sha256 => HashAlgorithm::Sha2256,
                    DigestAlgorithm::Sha384 => HashAlgorithm::Sha2384,
                    DigestAlgorithm::Sha512 => HashAlgorithm::Sha2512,
                };
                sigstore_types::Artifact::Digest(
                    sigstore_types::ArtifactDigest::new(algorithm, value.clone())
                        .map_err(|e| SigstoreError::Digest(e.to_string()))?,
                )
            }
        })
    }
}

/// What a successful verification established. Only this crate makes one.
#[derive(Debug, Clone)]
pub struct Verification {
    identity: Option<String>,
    issuer: Option<String>,
    verified_times: Vec<i64>,
}

impl Verification {
    /// The certificate identity (email, URI or username); `None` for a key.
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The OIDC issuer from the certificate; `None` for a key or a
    /// certificate without one.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The earliest verified signing time (log SET or RFC 3161 timestamp),
    /// Unix seconds.
    pub fn signed_at(&self) -> Option<i64> {
        self.verified_times.iter().copied().min()
    }

    /// Every verified time the certificate was checked at, Unix seconds.
    pub fn verified_times(&self) -> &[i64] {
        &self.verified_times
    }
}

fn material_name(m: &VerificationMaterialContent) -> &'static str {
    match m {
        VerificationMaterialContent::Certificate(_) => "signing certificate",
        VerificationMaterialContent::X509CertificateChain { .. } => "certificate chain",
        VerificationMaterialContent::PublicKey(_) => "public key",
        _ => "unknown verification material",
    }
}

/// Checks shared by both verifiers, before any cryptography: exactly the log
/// entries the trust root calls for, at most
/// [`MAX_TIMESTAMPS`](model_signing::limits::MAX_TIMESTAMPS) RFC 3161
/// timestamps (each is verified, so the count bounds the work) and at most
/// [`MAX_CHAIN_CERTIFICATES`](model_signing::limits::MAX_CHAIN_CERTIFICATES)
/// certificates (each is parsed).
fn check_structure(trust: &TrustRoot, bundle: &SigstoreBundle) -> Result<(), SigstoreError> {
    let expected = usize::from(trust.has_transparency_log());
    let found = bundle.counts.tlog_entries;
    if found != expected {
        return Err(SigstoreError::TlogEntryCount { expected, found });
    }
    let timestamps = bundle.counts.timestamps;
    if timestamps > MAX_TIMESTAMPS {
        return Err(SigstoreError::MalformedBundle(format!(
            "{timestamps} RFC 3161 timestamps; at most {MAX_TIMESTAMPS} are accepted"
        )));
    }
    let certificates = bundle.counts.certificates;
    if certificates > MAX_CHAIN_CERTIFICATES {
        return Err(SigstoreError::MalformedBundle(format!(
            "{certificates} certificates in x509CertificateChain; at most {MAX_CHAIN_CERTIFICATES} are accepted"
        )));
    }
    Ok(())
}

/// The leaf certificate, after refusing roots carried in the bundle.
fn leaf_certificate(bundle: &SigstoreBundle) -> Result<Certificate, SigstoreError> {
    let ders: Vec<&[u8]> = match &bundle.inner.verification_material.content {
        VerificationMaterialContent::Certificate(c) => vec![c.raw_bytes.as_bytes()],
        VerificationMaterialContent::X509CertificateChain { certificates } => certificates
            .iter()
            .map(|c| c.raw_bytes.as_bytes())
            .collect(),
        other => {
            return Err(SigstoreError::WrongMaterial {
                expected: "signing certificate",
                found: material_name(other),
            })
        }
    };
    let mut certs = Vec::with_capacity(ders.len());
    for der in ders {
        certs.push(Certificate::from_der(der).map_err(SigstoreError::Certificate)?);
    }
    if certs.iter().any(Certificate::is_self_issued) {
        return Err(SigstoreError::RootCertificateInBundle);
    }
    // Intermediates carried in the bundle are ignored: paths are built from
    // the trusted root alone.
    certs
        .into_iter()
        .next()
        .ok_or_else(|| SigstoreError::MalformedBundle("empty certificate chain".into()))
}

/// Verifies keyless (Fulcio certificate) Sigstore signatures against a trust
/// root and an identity policy.
#[derive(Debug)]
pub struct SigstoreVerifier {
    trust: TrustRoot,
    policy: IdentityPolicy,
}

impl SigstoreVerifier {
    /// A verifier trusting `trust` and accepting signers allowed by `policy`.
    pub fn new(trust: TrustRoot, policy: IdentityPolicy) -> Self {
        SigstoreVerifier { trust, policy }
    }

    /// The trust material in use.
    pub fn trust(&self) -> &TrustRoot {
        &self.trust
    }

    /// Verifies a bundle over an artifact: structure, verified times,
    /// certificate chain and SCT, transparency log entry and its binding to
    /// this bundle, signature, artifact binding, then the identity policy.
    pub fn verify_artifact(
        &self,
        bundle: &SigstoreBundle,
        artifact: &Artifact<'_>,
    ) -> Result<Verification, SigstoreError> {
        check_structure(&self.trust, bundle)?;
        let leaf = leaf_certificate(bundle)?;
        // Claims are read before any cryptography so that a malformed or
        // ambiguous identity is reported as such.
        let cert_id = certificate_identity(&leaf)?;

        let mut policy = VerificationPolicy::any_identity();
        if !self.trust.has_transparency_log() {
            // No log to check against: the bundle carries no entry (checked
            // above) and sigstore-verify then requires a verified RFC 3161
            // timestamp.
            policy = policy.skip_tlog_unsafe();
        }
        if !self.trust.has_ct_log() {
            // An instance without a CT log (GitHub's private one) issues
            // certificates without SCTs; the chain is still verified.
            policy = policy.skip_sct();
        }
        let result = self
            .trust
            .verifier
            .verify(artifact.to_sigstore()?, &bundle.inner, &policy)
            .map_err(from_sigstore)?;
        if !result.certificate_verified() || (self.trust.has_ct_log() && !result.sct_verified()) {
            return Err(SigstoreError::rejected(
                Check::Certificate,
                "the certificate chain or its SCT was not verified",
            ));
        }
        if self.trust.has_transparency_log() && !result.tlog_verified() {
            return Err(SigstoreError::rejected(
                Check::TransparencyLog,
                "the log entry was not verified",
            ));
        }
        let times = result.verified_timestamps();
        if times.is_empty() {
            return Err(SigstoreError::rejected(
                Check::Timestamp,
                "no verified signing time",
            ));
        }

        // Our own path validation at every verified time, from the trusted
        // root's CA certificates only.
        for time in times {
            let anchors: Vec<Certificate> = self
                .trust
                .fulcio
                .iter()
                .filter(|ca| ca.valid_for.is_none_or(|w| w.contains(*time)))
                .flat_map(|ca| ca.certificates.iter().cloned())
                .collect();
            verify_chain(
                &leaf,
                &[],
                &anchors,
                &ChainPolicy::sigstore(time.as_second()),
            )
            .map_err(SigstoreError::Certificate)?;
        }

        // Both readings of the certificate must agree.
        let theirs = CertIdentity {
            identity: result.identity().map(|s| s.as_str().to_owned()),
            issuer: result.issuer().map(str::to_owned),
        };
        if theirs.identity.is_some() && theirs.identity != cert_id.identity {
            return Err(SigstoreError::AmbiguousIdentity(
                "the subjectAltName identity is read differently by two parsers".into(),
            ));
        }
        if theirs.issuer != cert_id.issuer {
            return Err(SigstoreError::AmbiguousIdentity(
                "the issuer extension is read differently by two parsers".into(),
            ));
        }
        let claims = result
            .certificate()
            .map(|info| {
                let c = &info.ci_claims;
                CiClaims {
                    source_repository_uri: c.source_repository_uri.clone(),
                    source_repository_ref: c.source_repository_ref.clone(),
                    workflow_repository: c.deprecated_github.workflow_repository.clone(),
                    workflow_ref: c.deprecated_github.workflow_ref.clone(),
                }
            })
            .unwrap_or_default();
        self.policy.check(&cert_id, &claims)?;

        Ok(Verification {
            identity: cert_id.identity,
            issuer: cert_id.issuer,
            verified_times: times.iter().map(|t| t.as_second()).collect(),
        })
    }

    /// Checks made before the payload is handed to sigstore-verify, which
    /// parses the whole statement into a tree (several times the payload's
    /// size) before any cryptography: the signing certificate chains to a
    /// trusted Fulcio CA (at its own notBefore; the full check at every
    /// verified time follows), names the expected identity and issuer, and
    /// its key signed the envelope. Only a payload signed by the expected
    /// signer goes further; each check here is repeated, or made stronger,
    /// by what follows.
    fn precheck(&self, bundle: &Bundle, leaf_der: &[u8]) -> Result<(), SigstoreError> {
        if let VerificationMaterial::X509CertificateChain(ders) = &bundle.material {
            for der in ders {
                let cert = Certificate::from_der(der).map_err(SigstoreError::Certificate)?;
                if cert.is_self_issued() {
                    return Err(SigstoreError::RootCertificateInBundle);
                }
            }
        }
        let leaf = Certificate::from_der(leaf_der).map_err(SigstoreError::Certificate)?;
        if leaf.is_self_issued() {
            return Err(SigstoreError::RootCertificateInBundle);
        }
        let issued = leaf.not_before();
        let anchors: Vec<Certificate> = self
            .trust
            .fulcio
            .iter()
            .filter(|ca| {
                ca.valid_for.is_none_or(|w| {
                    w.start.as_second() <= issued && w.end.is_none_or(|e| issued <= e.as_second())
                })
            })
            .flat_map(|ca| ca.certificates.iter().cloned())
            .collect();
        verify_chain(&leaf, &[], &anchors, &ChainPolicy::sigstore(issued))
            .map_err(SigstoreError::Certificate)?;
        self.policy.check_identity(&certificate_identity(&leaf)?)?;
        let key = PublicKey::from_spki_der(leaf.spki_der())
            .map_err(|e| SigstoreError::rejected(Check::Signature, e.to_string()))?;
        match bundle.envelope.verify(&key) {
            Ok(PaeEncoding::Standard) => Ok(()),
            _ => Err(SigstoreError::rejected(
                Check::Signature,
                "DSSE signature verification failed: the signing certificate's key did not sign the envelope",
            )),
        }
    }

    fn verify_model_bundle(&self, bundle: &Bundle) -> Result<SignatureCheck, SigstoreError> {
        let leaf_der = match &bundle.material {
            VerificationMaterial::Certificate(der) => der.as_slice(),
            VerificationMaterial::X509CertificateChain(ders) => ders
                .first()
                .map(Vec::as_slice)
                .ok_or_else(|| SigstoreError::MalformedBundle("empty certificate chain".into()))?,
            VerificationMaterial::PublicKey { .. } => {
                return Err(SigstoreError::WrongMaterial {
                    expected: "signing certificate",
                    found: "public key",
                })
            }
        };
        let expected = usize::from(self.trust.has_transparency_log());
        if bundle.tlog_entries.len() != expected {
            return Err(SigstoreError::TlogEntryCount {
                expected,
                found: bundle.tlog_entries.len(),
            });
        }
        self.precheck(bundle, leaf_der)?;
        let digest = subject_sha256(&bundle.envelope.payload)?;
        let sb = SigstoreBundle::from_model_bundle(bundle)?;
        let verification = self.verify_artifact(
            &sb,
            &Artifact::Digest {
                algorithm: DigestAlgorithm::Sha256,
                value: digest,
            },
        )?;

        // Model signatures are logged with an inclusion proof and a signed
        // checkpoint whatever media type the bundle claims: a bundle
        // relabelled v0.1 (where a SET alone is allowed) must not skip them.
        if let Some(entry) = bundle.tlog_entries.first() {
            let proof = &entry["inclusionProof"];
            let checkpoint = proof["checkpoint"]["envelope"].as_str().unwrap_or("");
            if checkpoint.is_empty() {
                return Err(SigstoreError::rejected(
                    Check::TransparencyLog,
                    "the log entry has no inclusion proof with a checkpoint",
                ));
            }
            // Rekor v2 logs have one index: the proof's must be the entry's
            // (the proof is checked at the entry's index).
            if entry["kindVersion"]["version"].as_str() == Some("0.0.2") {
                let index = |v: &serde_json::Value| match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                if index(&entry["logIndex"]).is_none()
                    || index(&entry["logIndex"]) != index(&proof["logIndex"])
                {
                    return Err(SigstoreError::rejected(
                        Check::TransparencyLog,
                        "the inclusion proof's log index differs from the entry's",
                    ));
                }
            }
        }

        // What sigstore-verify checked must be what the model checks read.
        let SignatureContent::DsseEnvelope(env) = &sb.inner.content else {
            return Err(SigstoreError::Inconsistent("content"));
        };
        if env.payload.as_bytes() != bundle.envelope.payload.as_slice()
            || env.payload_type != bundle.envelope.payload_type
        {
            return Err(SigstoreError::Inconsistent("payload"));
        }
        if env.signature.sig.as_bytes() != bundle.envelope.signature.as_slice() {
            return Err(SigstoreError::Inconsistent("signature"));
        }
        if sb.inner.signing_certificate().map(|c| c.as_bytes()) != Some(leaf_der) {
            return Err(SigstoreError::Inconsistent("certificate"));
        }

        Ok(SignatureCheck {
            signer: Signer::Sigstore {
                identity: verification.identity.clone().unwrap_or_default(),
                issuer: verification.issuer.clone().unwrap_or_default(),
            },
            legacy_pae: false,
            signed_at: verification.signed_at(),
            warnings: Vec::new(),
        })
    }
}

/// The most subjects a statement may name: one for a model signature, two
/// for a claim about one (the model and its signature's statement,
/// `model_signing::claims`), a few more for other statements.
const MAX_SUBJECTS: usize = 16;

/// The SHA-256 digest of a statement's first subject: what its log entry
/// and signature are checked against (the model's root digest, for a model
/// signature or a claim). Read without building a tree of the statement:
/// everything but the subjects is skipped.
fn subject_sha256(payload: &[u8]) -> Result<Vec<u8>, SigstoreError> {
    let shape = Shape::object([(
        "subject",
        Shape::array(
            MAX_SUBJECTS,
            Shape::object([("digest", Shape::object([("sha256", Shape::Scalar)]))]),
        ),
    )]);
    let statement = parse_shaped(payload, MAX_PAYLOAD_BYTES, usize::MAX, &shape)
        .map_err(|e| SigstoreError::NoSubjectDigest(e.to_string()))?;
    let none = |what: &str| SigstoreError::NoSubjectDigest(what.to_owned());
    let root = Obj::new(&statement, "").map_err(|_| none("no subject list"))?;
    let Some(Node::Array(subjects)) = root.get("subject") else {
        return Err(none("no subject list"));
    };
    let (Some(subject), 1..=MAX_SUBJECTS) = (subjects.items.first(), subjects.len) else {
        return Err(SigstoreError::NoSubjectDigest(format!(
            "{} subjects",
            subjects.len
        )));
    };
    let hex_digest = Obj::new(subject, "subject[0]")
        .ok()
        .and_then(|s| s.get("digest"))
        .and_then(|d| Obj::new(d, "subject[0].digest").ok())
        .and_then(|d| d.opt_str("sha256").ok().flatten())
        .ok_or_else(|| none("the subject has no sha256 digest"))?;
    let digest = hex::decode(hex_digest.as_bytes())
        .map_err(|_| SigstoreError::NoSubjectDigest("the sha256 digest is not hex".into()))?;
    if digest.len() != 32 {
        return Err(SigstoreError::NoSubjectDigest(
            "the sha256 digest is not 32 bytes".into(),
        ));
    }
    Ok(digest)
}

impl SignatureVerifier for SigstoreVerifier {
    fn verify_signature(&self, bundle: &Bundle) -> Result<SignatureCheck, VerifyError> {
        self.verify_model_bundle(bundle).map_err(|e| match e {
            SigstoreError::WrongMaterial { .. } => VerifyError::WrongMaterial {
                method: "sigstore",
                expected: "Sigstore certificate",
                found: match &bundle.material {
                    VerificationMaterial::PublicKey { .. } => "public key (made with `sign key`)",
                    _ => "certificate",
                },
            },
            other => VerifyError::Method {
                method: "sigstore",
                source: Box::new(other),
            },
        })
    }
}

/// Verifies Sigstore bundles signed with a managed key (a public key given
/// out of band, `publicKey.hint` in the bundle), with their log entries and
/// timestamps checked against a trust root.
#[derive(Debug)]
pub struct SigstoreKeyVerifier {
    trust: TrustRoot,
    key: sigstore_types::DerPublicKey,
}

impl SigstoreKeyVerifier {
    /// A verifier for signatures by the PEM public key `key_pem`.
    pub fn new(trust: TrustRoot, key_pem: &str) -> Result<Self, SigstoreError> {
        let key = sigstore_types::DerPublicKey::from_pem(key_pem)
            .map_err(|e| SigstoreError::PublicKey(e.to_string()))?;
        model_signing::keys::PublicKey::from_spki_der(key.as_bytes())
            .map_err(|e| SigstoreError::PublicKey(e.to_string()))?;
        Ok(SigstoreKeyVerifier { trust, key })
    }

    /// Verifies a bundle over an artifact.
    pub fn verify_artifact(
        &self,
        bundle: &SigstoreBundle,
        artifact: &Artifact<'_>,
    ) -> Result<Verification, SigstoreError> {
        check_structure(&self.trust, bundle)?;
        let content = &bundle.inner.verification_material.content;
        if !matches!(content, VerificationMaterialContent::PublicKey(_)) {
            return Err(SigstoreError::WrongMaterial {
                expected: "public key",
                found: material_name(content),
            });
        }
        let mut policy = PublicKeyVerificationPolicy::new(self.key.clone());
        if !self.trust.has_transparency_log() {
            policy = policy.skip_tlog_unsafe();
        }
        let result = self
            .trust
            .verifier
            .verify(artifact.to_sigstore()?, &bundle.inner, &policy)
            .map_err(from_sigstore)?;
        if self.trust.has_transparency_log() && !result.tlog_verified() {
            return Err(SigstoreError::rejected(
                Check::TransparencyLog,
                "the log entry was not verified",
            ));
        }
        Ok(Verification {
            identity: None,
            issuer: None,
            verified_times: result
                .verified_timestamps()
                .iter()
                .map(|t| t.as_second())
                .collect(),
        })
    }
}

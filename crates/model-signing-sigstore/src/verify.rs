//! Verification of Sigstore bundles: the checks of sigstore-verify, plus our
//! own structure, certificate-chain and identity checks on top.

use model_signing::bundle::{Bundle, VerificationMaterial, MAX_BUNDLE_BYTES};
use model_signing::json::parse_strict;
use model_signing::limits::{MAX_CHAIN_CERTIFICATES, MAX_TIMESTAMPS};
use model_signing::verify::{SignatureCheck, SignatureVerifier, Signer, VerifyError};
use model_signing::x509::{verify_chain, Certificate, ChainPolicy};
use serde_json::Value;
use sigstore_types::bundle::VerificationMaterialContent;
use sigstore_types::{HashAlgorithm, SignatureContent};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy};

use crate::error::{from_sigstore, Check, SigstoreError};
use crate::policy::{certificate_identity, CertIdentity, CiClaims, IdentityPolicy};
use crate::trust::TrustRoot;

/// A parsed Sigstore bundle of any content (message signature or DSSE
/// envelope), not yet verified.
#[derive(Debug, Clone)]
pub struct SigstoreBundle {
    inner: sigstore_types::Bundle,
    raw: Value,
}

impl SigstoreBundle {
    /// Parses a bundle strictly: size bound, no duplicate JSON keys, known
    /// media type, well-formed fields.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SigstoreError> {
        let raw = parse_strict(bytes, MAX_BUNDLE_BYTES)
            .map_err(|e| SigstoreError::MalformedBundle(e.to_string()))?;
        Self::from_value(raw)
    }

    fn from_value(raw: Value) -> Result<Self, SigstoreError> {
        let inner = sigstore_types::Bundle::from_json(&raw.to_string())
            .map_err(|e| SigstoreError::MalformedBundle(e.to_string()))?;
        Ok(SigstoreBundle { inner, raw })
    }

    /// The bundle's `mediaType`.
    pub fn media_type(&self) -> &str {
        self.raw
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or("")
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
        let bad = || SigstoreError::Digest(model_signing::json::shorten(text, 80));
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
    let material = &bundle.inner.verification_material;
    let expected = usize::from(trust.has_transparency_log());
    let found = material.tlog_entries.len();
    if found != expected {
        return Err(SigstoreError::TlogEntryCount { expected, found });
    }
    let timestamps = material
        .timestamp_verification_data
        .rfc3161_timestamps
        .len();
    if timestamps > MAX_TIMESTAMPS {
        return Err(SigstoreError::MalformedBundle(format!(
            "{timestamps} RFC 3161 timestamps; at most {MAX_TIMESTAMPS} are accepted"
        )));
    }
    if let VerificationMaterialContent::X509CertificateChain { certificates } = &material.content {
        if certificates.len() > MAX_CHAIN_CERTIFICATES {
            return Err(SigstoreError::MalformedBundle(format!(
                "{} certificates in x509CertificateChain; at most {MAX_CHAIN_CERTIFICATES} are accepted",
                certificates.len()
            )));
        }
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
        let digest = subject_sha256(&bundle.envelope.payload)?;
        let sb = SigstoreBundle::from_value(bundle.raw.clone())?;
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
        if self.trust.has_transparency_log() {
            let proof = &sb.raw["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
            let checkpoint = proof["checkpoint"]["envelope"].as_str().unwrap_or("");
            if checkpoint.is_empty() {
                return Err(SigstoreError::rejected(
                    Check::TransparencyLog,
                    "the log entry has no inclusion proof with a checkpoint",
                ));
            }
            // Rekor v2 logs have one index: the proof's must be the entry's
            // (the proof is checked at the entry's index).
            let entry = &sb.raw["verificationMaterial"]["tlogEntries"][0];
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

/// The single sha256 subject digest of an in-toto statement.
fn subject_sha256(payload: &[u8]) -> Result<Vec<u8>, SigstoreError> {
    let statement = parse_strict(payload, MAX_BUNDLE_BYTES)
        .map_err(|e| SigstoreError::NoSubjectDigest(e.to_string()))?;
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| SigstoreError::NoSubjectDigest("no subject list".into()))?;
    let [subject] = subjects.as_slice() else {
        return Err(SigstoreError::NoSubjectDigest(format!(
            "{} subjects",
            subjects.len()
        )));
    };
    let hex_digest = subject
        .get("digest")
        .and_then(|d| d.get("sha256"))
        .and_then(Value::as_str)
        .ok_or_else(|| SigstoreError::NoSubjectDigest("the subject has no sha256 digest".into()))?;
    let digest = hex::decode(hex_digest)
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

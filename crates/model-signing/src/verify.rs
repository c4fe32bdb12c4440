//! Verification: first the signature and the signer, then the payload, then
//! the model's files. Each step fails closed.
//!
//! Only [`verify_bundle`] creates a [`Verified`] manifest, and only a
//! verified manifest can be compared against a model, so files are never
//! checked against a payload whose signature was not verified.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use model_signing_hash::{
    hash_files, walk, ConfigError, HashConfig, HashError, Method, Progress, RelPath, ResourceKey,
    GIT_PATHS, HF_DOWNLOAD_CACHE_PATH,
};

use crate::bundle::{Bundle, BundleError, VerificationMaterial};
use crate::dsse::PaeEncoding;
use crate::keys::{KeyError, PublicKey};
use crate::statement::{parse_statement, PayloadError, SignedManifest};
use crate::x509::{verify_chain, CertError, Certificate, ChainPolicy, LeafCaRule};

/// Why verification failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The bundle is malformed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The signed payload is not an acceptable manifest.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The bundle was made with another method than the one used to verify.
    #[error("the signature carries a {found}, but {method} verification needs a {expected}")]
    WrongMaterial {
        /// The verification method in use.
        method: &'static str,
        /// The material that method needs.
        expected: &'static str,
        /// The material the bundle has.
        found: &'static str,
    },
    /// The bundle names another signer than the one expected.
    #[error("signer mismatch: {0}")]
    SignerMismatch(String),
    /// The signature does not verify.
    #[error("the signature does not verify with the signer's key")]
    BadSignature,
    /// Key material in the bundle is malformed.
    #[error("malformed key material in the signature")]
    Key(#[source] KeyError),
    /// The signing certificate is not trusted or not fit for signing.
    #[error("the signing certificate is not trusted")]
    Certificate(#[source] CertError),
    /// A signing method implemented in its own crate (Sigstore) rejected the
    /// signature or its signer; `source` is that crate's error.
    #[error("{method} verification failed")]
    Method {
        /// The verification method, like `sigstore`.
        method: &'static str,
        /// Why it failed (downcast to the method's error type for detail).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The model does not match the signed manifest.
    #[error("the model does not match the signature: {}", .0.summary())]
    ModelMismatch(Box<DiffReport>),
    /// The model could not be hashed.
    #[error("cannot hash the model")]
    Hash(#[source] HashError),
    /// An invalid option (for example an ignore path).
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Who made a verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signer {
    /// A public key.
    Key {
        /// Hex SHA-256 of the public key (SubjectPublicKeyInfo DER).
        fingerprint: String,
        /// The key type, like `PKIX_ECDSA_P384_SHA_384`.
        algorithm: &'static str,
    },
    /// A certificate chained to a trust anchor.
    Certificate {
        /// Subject of the signing certificate.
        subject: String,
        /// Hex SHA-256 of the signing certificate (DER).
        fingerprint: String,
        /// The validated path from the signing certificate to the anchor:
        /// (subject, SHA-256 fingerprint) of each certificate.
        path: Vec<(String, String)>,
    },
    /// A Sigstore keyless identity.
    Sigstore {
        /// The identity (email, URI) in the certificate.
        identity: String,
        /// The OIDC issuer.
        issuer: String,
    },
}

/// What a signature check established.
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    /// Who signed.
    pub signer: Signer,
    /// Whether the signature is over the v0.2 encoding (legacy payloads only).
    pub legacy_pae: bool,
    /// Time of signing established by a verified source (log or timestamp), Unix seconds.
    pub signed_at: Option<i64>,
    /// Things worth telling the user (old formats accepted, ...).
    pub warnings: Vec<String>,
}

/// Checks a bundle's signature and signer. Implemented per signing method:
/// [`KeyVerifier`], [`CertificateVerifier`], and the Sigstore verifier in its own crate.
pub trait SignatureVerifier {
    /// Verifies the envelope's signature and that the expected signer made it.
    fn verify_signature(&self, bundle: &Bundle) -> Result<SignatureCheck, VerifyError>;
}

/// Proof that a value came out of a verified signature. Only this module
/// constructs it.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    value: T,
    check: SignatureCheck,
}

impl<T> Verified<T> {
    /// The verified value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// What the signature check established.
    pub fn check(&self) -> &SignatureCheck {
        &self.check
    }
}

/// Verifies the signature, then reads and validates the payload.
pub fn verify_bundle(
    bundle: &Bundle,
    verifier: &dyn SignatureVerifier,
) -> Result<Verified<SignedManifest>, VerifyError> {
    let check = verifier.verify_signature(bundle)?;
    let manifest = parse_statement(&bundle.envelope.payload_type, &bundle.envelope.payload)?;
    if check.legacy_pae && !manifest.legacy {
        // The v0.2 encoding is accepted for v0.2 payloads only.
        return Err(VerifyError::BadSignature);
    }
    Ok(Verified {
        value: manifest,
        check,
    })
}

fn verify_envelope(key: &PublicKey, bundle: &Bundle) -> Result<bool, VerifyError> {
    match bundle.envelope.verify(key) {
        Ok(encoding) => Ok(encoding == PaeEncoding::LegacyV02),
        Err(_) => Err(VerifyError::BadSignature),
    }
}

/// Verifies signatures made with a private key, given its public key.
#[derive(Debug, Clone)]
pub struct KeyVerifier {
    key: PublicKey,
}

impl KeyVerifier {
    /// A verifier for signatures by `key`.
    pub fn new(key: PublicKey) -> Self {
        KeyVerifier { key }
    }
}

impl SignatureVerifier for KeyVerifier {
    fn verify_signature(&self, bundle: &Bundle) -> Result<SignatureCheck, VerifyError> {
        let VerificationMaterial::PublicKey {
            hint,
            raw_bytes,
            key_details,
        } = &bundle.material
        else {
            return Err(VerifyError::WrongMaterial {
                method: "key",
                expected: "public key",
                found: material_name(&bundle.material),
            });
        };
        let mut warnings = Vec::new();
        if let Some(hint) = hint {
            if *hint != self.key.hint() {
                return Err(VerifyError::SignerMismatch(format!(
                    "the signature was made by the key with hint {}, not by the given public key (hint {})",
                    crate::json::shorten(hint, 64),
                    self.key.hint()
                )));
            }
        }
        if let Some(raw) = raw_bytes {
            let text = std::str::from_utf8(raw).map_err(|_| {
                VerifyError::Key(KeyError::Malformed {
                    what: "publicKey.rawBytes",
                    detail: "not PEM text".into(),
                })
            })?;
            let carried = PublicKey::from_pem(text).map_err(VerifyError::Key)?;
            if carried != self.key {
                return Err(VerifyError::SignerMismatch(
                    "the signature carries a different public key than the one given".into(),
                ));
            }
            if let Some(details) = key_details {
                if details != self.key.algorithm().key_details() {
                    return Err(VerifyError::SignerMismatch(format!(
                        "the signature says its key is {}, but the given key is {}",
                        crate::json::shorten(details, 40),
                        self.key.algorithm().key_details()
                    )));
                }
            }
            if hint.is_none() {
                warnings.push(
                    "the signature uses the bundle format of model-signing releases before 1.1 (publicKey.rawBytes); it was accepted".into(),
                );
            }
        }
        let legacy_pae = verify_envelope(&self.key, bundle)?;
        Ok(SignatureCheck {
            signer: Signer::Key {
                fingerprint: self.key.fingerprint_sha256(),
                algorithm: self.key.algorithm().key_details(),
            },
            legacy_pae,
            signed_at: None,
            warnings,
        })
    }
}

fn material_name(m: &VerificationMaterial) -> &'static str {
    match m {
        VerificationMaterial::PublicKey { .. } => "public key (made with `sign key`)",
        VerificationMaterial::X509CertificateChain(_) => {
            "certificate chain (made with `sign certificate`)"
        }
        VerificationMaterial::Certificate(_) => "Sigstore certificate (made with `sign sigstore`)",
    }
}

/// Verifies signatures made with a certificate, given the trust anchors.
#[derive(Debug, Clone)]
pub struct CertificateVerifier {
    anchors: Vec<Certificate>,
    time: i64,
    leaf_ca: LeafCaRule,
}

impl CertificateVerifier {
    /// A verifier that trusts exactly `anchors` (no system trust store), and
    /// checks validity at the current time.
    pub fn new(anchors: Vec<Certificate>) -> Self {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        CertificateVerifier {
            anchors,
            time,
            leaf_ca: LeafCaRule::AllowWithoutCertSign,
        }
    }

    /// Checks validity at `time` (Unix seconds) instead of now.
    pub fn at_time(mut self, time: i64) -> Self {
        self.time = time;
        self
    }

    /// How to treat a signing certificate that is marked as a CA.
    pub fn leaf_ca_rule(mut self, rule: LeafCaRule) -> Self {
        self.leaf_ca = rule;
        self
    }
}

impl SignatureVerifier for CertificateVerifier {
    fn verify_signature(&self, bundle: &Bundle) -> Result<SignatureCheck, VerifyError> {
        let VerificationMaterial::X509CertificateChain(ders) = &bundle.material else {
            return Err(VerifyError::WrongMaterial {
                method: "certificate",
                expected: "certificate chain",
                found: material_name(&bundle.material),
            });
        };
        let mut certs = Vec::with_capacity(ders.len());
        for der in ders {
            certs.push(Certificate::from_der(der).map_err(VerifyError::Certificate)?);
        }
        let Some((leaf, intermediates)) = certs.split_first() else {
            return Err(VerifyError::Bundle(BundleError::Empty(
                "verificationMaterial.x509CertificateChain.certificates".into(),
            )));
        };
        let policy = ChainPolicy {
            allow_ca_leaf: self.leaf_ca,
            ..ChainPolicy::certificate_method(self.time)
        };
        let path = verify_chain(leaf, intermediates, &self.anchors, &policy)
            .map_err(VerifyError::Certificate)?;
        let key = PublicKey::from_spki_der(leaf.spki_der()).map_err(VerifyError::Key)?;
        let legacy_pae = verify_envelope(&key, bundle)?;
        Ok(SignatureCheck {
            signer: Signer::Certificate {
                subject: leaf.subject(),
                fingerprint: leaf.fingerprint_sha256(),
                path: path
                    .iter()
                    .map(|c| (c.subject(), c.fingerprint_sha256()))
                    .collect(),
            },
            legacy_pae,
            signed_at: None,
            warnings: Vec::new(),
        })
    }
}

/// How to compare a model against a verified manifest.
///
/// Where the model lies on disk is detected from its path, never read from
/// the signature: when the model is a snapshot of a Hugging Face cache
/// repository (`models--ORG--NAME/snapshots/<commit>`, or a folder inside
/// one), its files, links into the repository's `blobs/`, are followed under
/// their snapshot names, and links that leave the repository folder are
/// refused (see [`HashConfig::contain_links_in_hf_snapshot`]). Signing does
/// the same, so one signature covers the snapshot and a copy with real files.
#[derive(Debug, Clone, Default)]
pub struct ModelCheckOptions {
    /// Paths (relative to the model root) to leave out in addition to those
    /// the signature lists. They can only remove files, so at worst a signed
    /// file is reported missing.
    pub extra_ignore_paths: Vec<RelPath>,
    /// Also leave out `.git`, `.gitattributes`, `.github` and `.gitignore` at
    /// the model root, unless the signature covers files there (the default
    /// of the reference implementation, which signatures before v1.1 did not record).
    pub ignore_git_paths: bool,
    /// Also leave out `.cache/huggingface` at the model root (the metadata of
    /// a `huggingface-cli download --local-dir`), unless the signature covers
    /// files there. Signatures made by this library record it; others do not.
    pub ignore_hf_download_cache: bool,
    /// Hash only the files the signature lists; report the others as skipped.
    pub ignore_unsigned_files: bool,
    /// Hashing threads.
    pub threads: Option<usize>,
}

/// A resource whose content differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Resource name.
    pub name: String,
    /// Signed digest (hex).
    pub expected: String,
    /// Digest now (hex).
    pub actual: String,
}

/// Every difference between a model and its signed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffReport {
    /// Resources whose content changed.
    pub changed: Vec<Changed>,
    /// Signed resources that are absent.
    pub missing: Vec<String>,
    /// Resources present but not signed.
    pub unexpected: Vec<String>,
    /// Files left out because of `ignore_unsigned_files`.
    pub unsigned_ignored: Vec<String>,
}

impl DiffReport {
    /// No differences.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.unexpected.is_empty()
    }

    /// `2 changed, 1 missing, 0 unexpected`.
    pub fn summary(&self) -> String {
        format!(
            "{} changed, {} missing, {} unexpected",
            self.changed.len(),
            self.missing.len(),
            self.unexpected.len()
        )
    }
}

/// A model that matched a verified signature.
#[derive(Debug, Clone)]
pub struct VerifiedModel {
    /// The manifest and signature facts.
    pub manifest: Verified<SignedManifest>,
    /// Number of resources compared.
    pub resources_checked: usize,
    /// Files skipped because they are not signed (with `ignore_unsigned_files`).
    pub unsigned_ignored: Vec<String>,
}

impl Verified<SignedManifest> {
    /// The hashing configuration the signature prescribes (never user flags).
    pub fn hash_config(&self, options: &ModelCheckOptions) -> Result<HashConfig, VerifyError> {
        let s = &self.value.manifest.serialization;
        let mut config = HashConfig::new()
            .method(s.method)
            .algorithm(s.hash_type)
            .allow_symlinks(s.allow_symlinks)
            .ignore_git_paths(false)
            .ignore_hf_download_cache(false)
            .ignore_paths(&s.ignore_paths)?
            .ignore_rel_paths(options.extra_ignore_paths.iter().cloned());
        let covered = |path: &RelPath| self.value.keys.iter().any(|k| k.is_under(path));
        let mut defaults = Vec::new();
        if options.ignore_git_paths {
            defaults.extend(GIT_PATHS);
        }
        if options.ignore_hf_download_cache {
            defaults.push(HF_DOWNLOAD_CACHE_PATH);
        }
        for d in defaults {
            let path = RelPath::parse(d)?;
            if !covered(&path) {
                config = config.ignore_rel_paths([path]);
            }
        }
        if let Some(t) = options.threads {
            config = config.threads(t)?;
        }
        Ok(config)
    }

    /// Re-hashes the model with the signed parameters and compares every
    /// resource. All differences are reported at once.
    pub fn check_model(
        self,
        model: &Path,
        options: &ModelCheckOptions,
        progress: &dyn Progress,
    ) -> Result<VerifiedModel, VerifyError> {
        let config = self
            .hash_config(options)?
            .contain_links_in_hf_snapshot(model);
        let mut files = walk(model, &config).map_err(VerifyError::Hash)?;

        // A single-file model may be signed as `.` (what the reference writes)
        // or by its file name (what the OMS specification says).
        let mut expected_keys = self.value.keys.clone();
        if files.is_single_file() {
            let file_name = model
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned);
            let all_named = file_name
                .as_ref()
                .is_some_and(|n| expected_keys.iter().all(|k| k.path() == n));
            if all_named {
                expected_keys = expected_keys
                    .into_iter()
                    .map(ResourceKey::into_single_file)
                    .collect();
            }
        }

        let mut unsigned_ignored = Vec::new();
        if options.ignore_unsigned_files {
            let signed: BTreeSet<&str> = expected_keys.iter().map(|k| k.path_name()).collect();
            files.retain(|e| {
                let keep = signed.contains(e.name().as_str());
                if !keep {
                    unsigned_ignored.push(e.name());
                }
                keep
            });
        }

        let actual = if files.entries().is_empty() {
            Vec::new()
        } else {
            match hash_files(&files, &config, progress) {
                Ok(a) => a,
                // Shards of empty files: nothing to hash is a difference, not an error.
                Err(HashError::EmptyModel { .. }) => Vec::new(),
                Err(e) => return Err(VerifyError::Hash(e)),
            }
        };

        let expected: BTreeMap<&ResourceKey, &[u8]> = expected_keys
            .iter()
            .zip(&self.value.manifest.resources)
            .map(|(k, r)| (k, r.digest.as_slice()))
            .collect();
        let actual_map: BTreeMap<&ResourceKey, &[u8]> = actual
            .iter()
            .map(|r| (&r.key, r.digest.as_slice()))
            .collect();

        let mut report = DiffReport {
            unsigned_ignored: unsigned_ignored.clone(),
            ..DiffReport::default()
        };
        for (key, want) in &expected {
            match actual_map.get(key) {
                None => report.missing.push(key.to_string()),
                Some(got) if got != want => report.changed.push(Changed {
                    name: key.to_string(),
                    expected: hex::encode(want),
                    actual: hex::encode(got),
                }),
                Some(_) => {}
            }
        }
        for key in actual_map.keys() {
            if !expected.contains_key(key) {
                report.unexpected.push(key.to_string());
            }
        }
        if !report.is_empty() {
            return Err(VerifyError::ModelMismatch(Box::new(report)));
        }
        let resources_checked = expected.len();
        Ok(VerifiedModel {
            manifest: self,
            resources_checked,
            unsigned_ignored,
        })
    }
}

/// Whether a method uses shards (for callers describing a manifest).
pub fn is_sharded(method: Method) -> bool {
    matches!(method, Method::Shards { .. })
}

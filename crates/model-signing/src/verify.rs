//! Verification: first the signature and the signer, then the payload, then
//! the model's files. Each step fails closed.
//!
//! Only [`verify_bundle`] creates a [`Verified`] manifest, and only a
//! verified manifest can be compared against a model, so files are never
//! checked against a payload whose signature was not verified.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

use model_signing_hash::{
    cmp_paths, hash_files, walk_signed, ConfigError, HashConfig, HashError, Progress, RelPath,
    ResourceDigest, ResourceKey, GIT_PATHS,
};

use crate::bundle::{Bundle, BundleError, VerificationMaterial};
use crate::dsse::PaeEncoding;
use crate::keys::{KeyError, PublicKey};
use crate::statement::{parse_statement, PayloadError, SignedManifest};
use crate::timestamp::{check_timestamps, TimestampAuthority, TimestampError};
use crate::x509::{verify_chain, CertError, Certificate, ChainPolicy, LeafCaRule};
use crate::ErrorKind;

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
    SignerMismatch(SignerMismatch),
    /// The signature does not verify.
    #[error("the signature does not verify with the signer's key")]
    BadSignature,
    /// Key material in the bundle is malformed.
    #[error("malformed key material in the signature")]
    Key(#[source] KeyError),
    /// The signing certificate is not trusted or not fit for signing.
    #[error("the signing certificate is not trusted")]
    Certificate(#[source] CertError),
    /// The signing certificate is not trusted at the time of a verified
    /// timestamp (every certificate on its path must be valid then).
    #[error("the signing certificate is not trusted at the time of its timestamp, {time}")]
    CertificateAtTimestamp {
        /// The timestamp's time, RFC 3339.
        time: String,
        /// Why.
        #[source]
        source: CertError,
    },
    /// An RFC 3161 timestamp the signature carries does not verify against
    /// the trusted timestamp authorities.
    #[error("a timestamp of the signature cannot be trusted")]
    Timestamp(#[source] TimestampError),
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
    /// Files named for a partial check that the signature does not list:
    /// nothing vouches for them.
    #[error("{} not listed in the signature: nothing vouches for {}", list_paths(.paths), if .paths.len() == 1 { "it" } else { "them" })]
    NotSigned {
        /// The paths, as given.
        paths: Vec<String>,
    },
    /// A file opened for verified reading whose size is not the total of
    /// its signed shards.
    #[error("{} is {actual} bytes, its signed shards {expected}", crate::text::escape(.name))]
    FileSize {
        /// The file, as the signature names it.
        name: String,
        /// The size of its signed shards.
        expected: u64,
        /// Its size.
        actual: u64,
    },
    /// A partial check of a model that is one file.
    #[error("a partial check names files inside a model directory; this model is a single file")]
    PartialSingleFile,
}

/// `a, b and 2 more`, each path escaped for a terminal.
fn list_paths(paths: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut out: Vec<String> = paths
        .iter()
        .take(SHOWN)
        .map(|p| format!("`{}`", crate::text::escape(p)))
        .collect();
    if paths.len() > SHOWN {
        out.push(format!("{} more", paths.len() - SHOWN));
    }
    out.join(", ")
}

impl VerifyError {
    /// What kind of failure this is. A malformed signature or payload is
    /// [`ErrorKind::Malformed`]; a signature, signer, certificate or model
    /// that does not verify, and a model that cannot be hashed as signed,
    /// [`ErrorKind::Rejected`]; an invalid option [`ErrorKind::Usage`]; a
    /// model or signature that cannot be read [`ErrorKind::Environment`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            VerifyError::Bundle(e) => e.kind(),
            VerifyError::Payload(_) | VerifyError::Key(_) => ErrorKind::Malformed,
            VerifyError::WrongMaterial { .. }
            | VerifyError::SignerMismatch(_)
            | VerifyError::BadSignature
            | VerifyError::Certificate(_)
            | VerifyError::Method { .. }
            | VerifyError::ModelMismatch(_) => ErrorKind::Rejected,
            VerifyError::CertificateAtTimestamp { .. } => ErrorKind::Rejected,
            VerifyError::Timestamp(e) => e.kind(),
            VerifyError::Hash(e) => e.kind(),
            VerifyError::Config(_) | VerifyError::PartialSingleFile => ErrorKind::Usage,
            VerifyError::NotSigned { .. } | VerifyError::FileSize { .. } => ErrorKind::Rejected,
        }
    }
}

/// How the signer a bundle names differs from the one expected. Keys are
/// named by their hint ([`PublicKey::hint`]) on both sides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerMismatch {
    /// The bundle's `publicKey.hint` is not the given key's.
    #[error("the signature was made by the key with hint {signature}, not by the given public key (hint {given})")]
    KeyHint {
        /// The hint the signature records (shortened when long).
        signature: String,
        /// The given key's hint.
        given: String,
    },
    /// The key a bundle of releases before 1.1 carries is not the given one.
    #[error("the signature carries the key with hint {signature}, not the given public key (hint {given})")]
    CarriedKey {
        /// The carried key's hint.
        signature: String,
        /// The given key's hint.
        given: String,
    },
    /// The bundle's `keyDetails` name another key type than the given key's.
    #[error("the signature says its key is {signature}, but the given key is {given}")]
    KeyDetails {
        /// The key details the signature records (shortened when long).
        signature: String,
        /// The given key's details.
        given: &'static str,
    },
}

/// Who made a verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signer {
    /// A public key.
    Key {
        /// The key's identifier, as signatures record it (`publicKey.hint`):
        /// lowercase hex SHA-256 of its PEM text ([`PublicKey::hint`]). The
        /// same identifier is what signing and `inspect` show.
        ///
        /// [`PublicKey::hint`]: crate::keys::PublicKey::hint
        hint: String,
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
        /// (subject, SHA-256 fingerprint) of each certificate. From
        /// [`BundleSigner::signer`](crate::sign::BundleSigner::signer), which
        /// validates nothing, the chain the signature carries.
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

impl Signer {
    /// The signer as JSON, the shape `--json` output and the Python package
    /// use: `{"kind": "key", "hint", "algorithm"}`, `{"kind":
    /// "certificate", "subject", "fingerprint", "path": [{"subject",
    /// "fingerprint"}]}` or `{"kind": "sigstore", "identity", "issuer"}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Signer::Key { hint, algorithm } => {
                json!({"kind": "key", "hint": hint, "algorithm": algorithm})
            }
            Signer::Certificate {
                subject,
                fingerprint,
                path,
            } => json!({
                "kind": "certificate",
                "subject": subject,
                "fingerprint": fingerprint,
                "path": path
                    .iter()
                    .map(|(s, f)| json!({"subject": s, "fingerprint": f}))
                    .collect::<Vec<_>>(),
            }),
            Signer::Sigstore { identity, issuer } => {
                json!({"kind": "sigstore", "identity": identity, "issuer": issuer})
            }
        }
    }
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
    timestamp_authorities: Vec<TimestampAuthority>,
}

impl KeyVerifier {
    /// A verifier for signatures by `key`. Timestamps the signature carries
    /// are not checked (a warning says so).
    pub fn new(key: PublicKey) -> Self {
        KeyVerifier {
            key,
            timestamp_authorities: Vec::new(),
        }
    }

    /// Trusts these RFC 3161 timestamp authorities: every timestamp the
    /// signature carries must then verify against one of them, and the
    /// earliest is the signing time reported
    /// ([`SignatureCheck::signed_at`]). See [`crate::timestamp`].
    pub fn with_timestamp_authorities(mut self, authorities: Vec<TimestampAuthority>) -> Self {
        self.timestamp_authorities = authorities;
        self
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
        let timestamps = check_timestamps(bundle, &self.timestamp_authorities)
            .map_err(VerifyError::Timestamp)?;
        let mut warnings: Vec<String> = timestamps.warning().into_iter().collect();
        if let Some(hint) = hint {
            if *hint != self.key.hint() {
                return Err(VerifyError::SignerMismatch(SignerMismatch::KeyHint {
                    signature: crate::json::shorten(hint, 64),
                    given: self.key.hint(),
                }));
            }
        }
        // The scheme follows the key (an RSA key verifies PKCS#1 v1.5, an
        // Ed25519 key Ed25519ph): key details that name another scheme or
        // size are refused, whatever else the material holds.
        if let Some(details) = key_details {
            if details != self.key.algorithm().key_details() {
                return Err(VerifyError::SignerMismatch(SignerMismatch::KeyDetails {
                    signature: crate::json::shorten(details, 40),
                    given: self.key.algorithm().key_details(),
                }));
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
                return Err(VerifyError::SignerMismatch(SignerMismatch::CarriedKey {
                    signature: carried.hint(),
                    given: self.key.hint(),
                }));
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
                hint: self.key.hint(),
                algorithm: self.key.algorithm().key_details(),
            },
            legacy_pae,
            signed_at: timestamps.earliest(),
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
///
/// The bundle carries the signing certificate and the chain above it in
/// `x509CertificateChain` (this library, the Python reference), or the
/// signing certificate alone in `certificate` without any transparency log
/// entry (the Go implementation of OMS, signing without a chain).
#[derive(Debug, Clone)]
pub struct CertificateVerifier {
    anchors: Vec<Certificate>,
    time: i64,
    leaf_ca: LeafCaRule,
    timestamp_authorities: Vec<TimestampAuthority>,
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
            timestamp_authorities: Vec::new(),
        }
    }

    /// Trusts these RFC 3161 timestamp authorities. Every timestamp the
    /// signature carries must then verify against one of them, and the
    /// certificate path is checked at the time of each (instead of now or
    /// [`at_time`](Self::at_time)): a signature timestamped while its
    /// certificate was valid verifies after the certificate expired. A
    /// signature without timestamps is checked at the current time as
    /// before. Without authorities, timestamps are not used (a warning
    /// says so). See [`crate::timestamp`].
    pub fn with_timestamp_authorities(mut self, authorities: Vec<TimestampAuthority>) -> Self {
        self.timestamp_authorities = authorities;
        self
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
        let ders: &[Vec<u8>] = match &bundle.material {
            VerificationMaterial::X509CertificateChain(ders) => ders,
            // The Go implementation of OMS signs without a chain this way;
            // a Sigstore signature has a log entry besides.
            VerificationMaterial::Certificate(der) if bundle.tlog_entries.is_empty() => {
                std::slice::from_ref(der)
            }
            other => {
                return Err(VerifyError::WrongMaterial {
                    method: "certificate",
                    expected: "certificate chain",
                    found: material_name(other),
                })
            }
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
        let timestamps = check_timestamps(bundle, &self.timestamp_authorities)
            .map_err(VerifyError::Timestamp)?;
        let policy = |time| ChainPolicy {
            allow_ca_leaf: self.leaf_ca,
            ..ChainPolicy::certificate_method(time)
        };
        let mut times: Vec<i64> = timestamps.verified.iter().map(|t| t.time).collect();
        times.sort_unstable();
        times.dedup();
        let path = if times.is_empty() {
            verify_chain(leaf, intermediates, &self.anchors, &policy(self.time))
                .map_err(VerifyError::Certificate)?
        } else {
            let mut path = Vec::new();
            for time in times {
                path = verify_chain(leaf, intermediates, &self.anchors, &policy(time)).map_err(
                    |source| VerifyError::CertificateAtTimestamp {
                        time: crate::x509::format_time(time),
                        source,
                    },
                )?;
            }
            path
        };
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
            signed_at: timestamps.earliest(),
            warnings: timestamps.warning().into_iter().collect(),
        })
    }
}

/// How to compare a model against a verified manifest.
///
/// [`ModelCheckOptions::default`] decides as `model-signing verify` does with
/// no flags. What is left out of the comparison:
///
/// - the signature file, when [`signature_path`](Self::signature_path) lies
///   inside the model (a temporary file a signer writing it leaves beside it,
///   `.NAME.tmp-PID-NANOS`, is not left out: it is not signed, so it is
///   unexpected like any other file: nothing but these rules decides what
///   verification skips);
/// - when the signature records `ignore_paths` (every signature of this
///   library, and of the reference from 1.1 on when its list is not empty),
///   exactly those paths;
/// - when it does not (releases before 1.1, and the reference 1.1.1 when
///   its list is empty), `.git`, `.gitattributes`, `.github` and
///   `.gitignore` at the model root, as the reference does, unless
///   [`ignore_git_paths`](Self::ignore_git_paths) is off or the signature
///   covers files there;
/// - the [`extra_ignore_paths`](Self::extra_ignore_paths) the caller gives.
///
/// Nothing else: `.cache/huggingface` is compared like any other folder
/// unless the signature lists it. Every path left out is reported
/// ([`VerifiedModel::left_out`], [`DiffReport::left_out`]).
///
/// Where the model lies on disk is detected from its path, never read from
/// the signature: when the model is a snapshot of a Hugging Face cache
/// repository (`models--ORG--NAME/snapshots/<commit>`, or a folder inside
/// one), its files, links into the repository's `blobs/`, are followed under
/// their snapshot names, and links that leave the repository folder are
/// refused (see [`HashConfig::contain_links_in_hf_snapshot`]). Signing does
/// the same, so one signature covers the snapshot and a copy with real files.
#[derive(Debug, Clone)]
pub struct ModelCheckOptions {
    /// Paths (relative to the model root) to leave out in addition to those
    /// the signature lists. They can only remove files, so at worst a signed
    /// file is reported missing.
    pub extra_ignore_paths: Vec<RelPath>,
    /// For a signature that does not record `ignore_paths`: leave out `.git`,
    /// `.gitattributes`, `.github` and `.gitignore` at the model root, unless
    /// the signature covers files there, as the reference implementation
    /// does (default: yes). No effect on signatures that record the field:
    /// they are compared exactly.
    pub ignore_git_paths: bool,
    /// Where the signature being verified lies. When that is inside the
    /// model, the file is left out (by the name given, so a link there is
    /// left out itself).
    pub signature_path: Option<PathBuf>,
    /// Where the claims file lies ([`crate::claims`]). When that is inside
    /// the model, and the signature does not list it, it is left out, as
    /// is a `claims.jsonl` at the model root
    /// ([`CLAIMS_FILE_NAME`](crate::claims::CLAIMS_FILE_NAME)) that the
    /// signature does not list: adding claims never breaks the model's
    /// signature.
    pub claims_path: Option<PathBuf>,
    /// Hash only the files the signature lists; report the others as left
    /// out ([`LeftOutReason::Unsigned`]) instead of unexpected.
    pub ignore_unsigned_files: bool,
    /// Hashing threads.
    pub threads: Option<usize>,
}

impl Default for ModelCheckOptions {
    fn default() -> Self {
        ModelCheckOptions {
            extra_ignore_paths: Vec::new(),
            ignore_git_paths: true,
            signature_path: None,
            claims_path: None,
            ignore_unsigned_files: false,
            threads: None,
        }
    }
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

/// Why a path present in the model was left out of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LeftOutReason {
    /// The signature file being verified
    /// ([`ModelCheckOptions::signature_path`]).
    SignatureFile,
    /// A claims file the signature does not list
    /// ([`ModelCheckOptions::claims_path`]).
    ClaimsFile,
    /// A path the signature's `ignore_paths` lists.
    SignedIgnorePath,
    /// A git path left out because the signature does not record
    /// `ignore_paths` ([`ModelCheckOptions::ignore_git_paths`]).
    LegacyGitPath,
    /// A path the caller asked to leave out
    /// ([`ModelCheckOptions::extra_ignore_paths`]).
    UserIgnorePath,
    /// A file the signature does not list, with
    /// [`ModelCheckOptions::ignore_unsigned_files`].
    Unsigned,
}

impl LeftOutReason {
    /// A short phrase: `the signature file`, `ignored by the signature`, ...
    pub fn describe(self) -> &'static str {
        match self {
            LeftOutReason::SignatureFile => "the signature file",
            LeftOutReason::ClaimsFile => "a claims file",
            LeftOutReason::SignedIgnorePath => "ignored by the signature",
            LeftOutReason::LegacyGitPath => {
                "a git path, ignored because the signature records no ignore paths"
            }
            LeftOutReason::UserIgnorePath => "ignored as asked",
            LeftOutReason::Unsigned => "not signed, skipped as asked",
        }
    }

    /// A stable identifier: `signature-file`, `claims-file`,
    /// `signed-ignore-path`, `legacy-git-path`, `user-ignore-path`, `unsigned`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeftOutReason::SignatureFile => "signature-file",
            LeftOutReason::ClaimsFile => "claims-file",
            LeftOutReason::SignedIgnorePath => "signed-ignore-path",
            LeftOutReason::LegacyGitPath => "legacy-git-path",
            LeftOutReason::UserIgnorePath => "user-ignore-path",
            LeftOutReason::Unsigned => "unsigned",
        }
    }
}

/// A path present in the model that verification left out: the top-most
/// one (a directory left out is one entry, not each file inside it; an
/// unsigned file is listed by its own path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// `/`-joined, relative to the model root.
    pub path: String,
    /// Why.
    pub reason: LeftOutReason,
}

/// Every difference between a model and its signed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffReport {
    /// Resources whose content changed.
    pub changed: Vec<Changed>,
    /// Signed resources that are absent.
    pub missing: Vec<String>,
    /// Resources present but not signed: files (or their shards) and, by
    /// their names, links, special files and directories reached through a
    /// link that the signature does not list, none of them opened.
    pub unexpected: Vec<String>,
    /// Files left out because of `ignore_unsigned_files` (also in
    /// [`left_out`](Self::left_out)).
    pub unsigned_ignored: Vec<String>,
    /// Every path present in the model that was left out, and why, sorted
    /// by path.
    pub left_out: Vec<LeftOut>,
}

impl DiffReport {
    /// Records each expected resource that `actual` lacks (missing) or
    /// gives another digest (changed).
    fn compare(
        &mut self,
        expected: &BTreeMap<&ResourceKey, &[u8]>,
        actual: &BTreeMap<&ResourceKey, &[u8]>,
    ) {
        for (key, want) in expected {
            match actual.get(key) {
                None => self.missing.push(key.to_string()),
                Some(got) if got != want => self.changed.push(Changed {
                    name: key.to_string(),
                    expected: hex::encode(want),
                    actual: hex::encode(got),
                }),
                Some(_) => {}
            }
        }
    }

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
    /// Files skipped because they are not signed (with
    /// `ignore_unsigned_files`; also in [`left_out`](Self::left_out)).
    pub unsigned_ignored: Vec<String>,
    /// Every path present in the model that was left out, and why, sorted
    /// by path.
    pub left_out: Vec<LeftOut>,
}

/// A model of which only some files were compared with a verified
/// signature ([`Verified::<SignedManifest>::check_files`]): the signature
/// and the signer were verified in full, the files not named were not
/// looked at.
#[derive(Debug, Clone)]
pub struct PartiallyVerifiedModel {
    /// The manifest and signature facts.
    pub manifest: Verified<SignedManifest>,
    /// The files compared (their resource paths, in signing order).
    pub files_checked: Vec<String>,
    /// Number of resources compared (shards count one each).
    pub resources_checked: usize,
    /// Number of the signature's resources that were not compared.
    pub resources_not_checked: usize,
}

/// The ignore paths of a check, kept apart by origin to say why each path
/// was left out.
struct IgnoreRules {
    signature: Option<RelPath>,
    claims: Vec<RelPath>,
    signed: HashSet<String>,
    legacy_git: HashSet<&'static str>,
    user: HashSet<String>,
}

impl IgnoreRules {
    fn reason(&self, path: &str) -> LeftOutReason {
        if self.signature.as_ref().is_some_and(|s| s.as_str() == path) {
            LeftOutReason::SignatureFile
        } else if self.claims.iter().any(|c| c.as_str() == path) {
            LeftOutReason::ClaimsFile
        } else if self.signed.contains(path) {
            LeftOutReason::SignedIgnorePath
        } else if self.legacy_git.contains(path) {
            LeftOutReason::LegacyGitPath
        } else {
            debug_assert!(self.user.contains(path), "{path} matched no rule");
            LeftOutReason::UserIgnorePath
        }
    }
}

/// `signature` relative to `model`, when it lies strictly inside it: both
/// resolved except the signature's final component, kept as given.
fn signature_in_model(model: &Path, signature: &Path) -> Option<RelPath> {
    let root = std::fs::canonicalize(model).ok()?;
    let name = signature.file_name()?;
    let dir = match signature.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir).ok()?;
    let rel = dir.strip_prefix(&root).ok()?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            _ => return None,
        }
    }
    parts.push(name.to_str()?);
    RelPath::from_components(parts).ok()
}

impl Verified<SignedManifest> {
    /// The hashing configuration the signature prescribes (never user
    /// flags), with the ignore paths of `options` (see
    /// [`ModelCheckOptions`]) except the signature file, whose place
    /// depends on the model's: [`check_model`](Self::check_model) adds it.
    pub fn hash_config(&self, options: &ModelCheckOptions) -> Result<HashConfig, VerifyError> {
        Ok(self.value.plan(options, None, Vec::new())?.0)
    }

    /// Re-hashes the model with the signed parameters and compares every
    /// resource. All differences are reported at once.
    ///
    /// Only the paths the signature lists are opened and hashed; any other
    /// entry of the model is reported by its name as unexpected (or left
    /// out, with [`ModelCheckOptions::ignore_unsigned_files`]), and never
    /// read, nor followed when it is a link (see
    /// [`walk_signed`]).
    pub fn check_model(
        self,
        model: &Path,
        options: &ModelCheckOptions,
        progress: &dyn Progress,
    ) -> Result<VerifiedModel, VerifyError> {
        let (resources_checked, unsigned_ignored, left_out) =
            self.value.compare(model, options, None, progress)?;
        Ok(VerifiedModel {
            manifest: self,
            resources_checked,
            unsigned_ignored,
            left_out,
        })
    }

    /// Compares only the named files of the model with the signature: for
    /// a loader that needs some files of a model (one shard of a
    /// tensor-parallel checkpoint, say) and checks what it loads. Each path
    /// (relative to the model root) must be a file the signature lists, or
    /// the check fails with [`VerifyError::NotSigned`] before anything is
    /// read. The named files are hashed as the signature prescribes and
    /// every difference among them is reported ([`VerifyError::ModelMismatch`]);
    /// nothing else in the model is opened, hashed or reported, so the
    /// result says nothing about the other files.
    pub fn check_files(
        self,
        model: &Path,
        files: &[RelPath],
        options: &ModelCheckOptions,
        progress: &dyn Progress,
    ) -> Result<PartiallyVerifiedModel, VerifyError> {
        if model.is_file() {
            return Err(VerifyError::PartialSingleFile);
        }
        let named: BTreeSet<String> = files.iter().map(ToString::to_string).collect();
        let listed: HashSet<&str> = self.value.keys.iter().map(ResourceKey::path).collect();
        let not_signed: Vec<String> = named
            .iter()
            .filter(|p| !listed.contains(p.as_str()))
            .cloned()
            .collect();
        if !not_signed.is_empty() {
            return Err(VerifyError::NotSigned { paths: not_signed });
        }
        let (resources_checked, _, _) =
            self.value.compare(model, options, Some(&named), progress)?;
        let mut files_checked: Vec<String> = Vec::new();
        for key in &self.value.keys {
            let path = key.path();
            if named.contains(path) && files_checked.last().map(String::as_str) != Some(path) {
                files_checked.push(path.to_owned());
            }
        }
        let resources_not_checked = self.value.keys.len() - resources_checked;
        Ok(PartiallyVerifiedModel {
            manifest: self,
            files_checked,
            resources_checked,
            resources_not_checked,
        })
    }
}

impl Verified<SignedManifest> {
    /// Compares resources computed elsewhere (the layers of an OCI
    /// artifact, say) with the signature, reporting every difference at
    /// once as [`check_model`](Self::check_model) does for a directory.
    /// `actual` holds the resources hashed with the signature's parameters
    /// ([`hash_config`](Self::hash_config)) and `left_out` the paths its
    /// ignore rules left out. With
    /// [`ModelCheckOptions::ignore_unsigned_files`], files the signature
    /// does not list are left out instead of unexpected.
    pub fn check_resources(
        self,
        actual: &[ResourceDigest],
        left_out: &[String],
        options: &ModelCheckOptions,
    ) -> Result<VerifiedModel, VerifyError> {
        let (_, rules) = self.value.plan(options, None, Vec::new())?;
        let mut left: Vec<LeftOut> = left_out
            .iter()
            .map(|p| LeftOut {
                path: p.clone(),
                reason: rules.reason(p),
            })
            .collect();
        let expected: BTreeMap<&ResourceKey, &[u8]> = self
            .value
            .keys
            .iter()
            .zip(&self.value.manifest.resources)
            .map(|(k, r)| (k, r.digest.as_slice()))
            .collect();
        let signed_paths: HashSet<&str> = self.value.keys.iter().map(ResourceKey::path).collect();
        let mut report = DiffReport::default();
        let mut unsigned_ignored = Vec::new();
        let mut actual_map: BTreeMap<&ResourceKey, &[u8]> = BTreeMap::new();
        for r in actual {
            if options.ignore_unsigned_files && !signed_paths.contains(r.key.path()) {
                if unsigned_ignored.last() != Some(&r.key.path().to_owned()) {
                    unsigned_ignored.push(r.key.path().to_owned());
                    left.push(LeftOut {
                        path: r.key.path().to_owned(),
                        reason: LeftOutReason::Unsigned,
                    });
                }
                continue;
            }
            actual_map.insert(&r.key, r.digest.as_slice());
        }
        left.sort_by(|a, b| cmp_paths(&a.path, &b.path).then(a.reason.cmp(&b.reason)));
        report.compare(&expected, &actual_map);
        report.unexpected = actual_map
            .keys()
            .filter(|k| !expected.contains_key(*k))
            .map(|k| k.to_string())
            .collect();
        report.unsigned_ignored = unsigned_ignored.clone();
        report.left_out = left.clone();
        if !report.is_empty() {
            return Err(VerifyError::ModelMismatch(Box::new(report)));
        }
        Ok(VerifiedModel {
            resources_checked: expected.len(),
            manifest: self,
            unsigned_ignored,
            left_out: left,
        })
    }
}

impl SignedManifest {
    fn plan(
        &self,
        options: &ModelCheckOptions,
        signature: Option<RelPath>,
        claims: Vec<RelPath>,
    ) -> Result<(HashConfig, IgnoreRules), VerifyError> {
        let s = &self.manifest.serialization;
        let mut legacy_git = HashSet::new();
        if !s.ignore_paths_recorded && options.ignore_git_paths {
            for g in GIT_PATHS {
                let path = RelPath::parse(g)?;
                if !self.keys.iter().any(|k| k.is_under(&path)) {
                    legacy_git.insert(g);
                }
            }
        }
        let mut config = HashConfig::new()
            .method(s.method)
            .algorithm(s.hash_type)
            .allow_symlinks(s.allow_symlinks)
            .ignore_git_paths(false)
            .ignore_hf_download_cache(false)
            .ignore_paths(
                s.ignore_paths
                    .iter()
                    .map(String::as_str)
                    .chain(legacy_git.iter().copied()),
            )?
            .ignore_rel_paths(options.extra_ignore_paths.iter().cloned())
            .ignore_rel_paths(signature.iter().cloned())
            .ignore_rel_paths(claims.iter().cloned());
        if let Some(t) = options.threads {
            config = config.threads(t)?;
        }
        let rules = IgnoreRules {
            signature,
            claims,
            signed: s.ignore_paths.iter().cloned().collect(),
            legacy_git,
            user: options
                .extra_ignore_paths
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        Ok((config, rules))
    }

    /// The comparison of [`Verified::check_model`] (`only`: none) and
    /// [`Verified::check_files`] (`only`: the named files, each one the
    /// signature lists). Returns the number of resources compared, the
    /// unsigned files skipped and what was left out.
    #[allow(clippy::type_complexity)]
    fn compare(
        &self,
        model: &Path,
        options: &ModelCheckOptions,
        only: Option<&BTreeSet<String>>,
        progress: &dyn Progress,
    ) -> Result<(usize, Vec<String>, Vec<LeftOut>), VerifyError> {
        let signature = options
            .signature_path
            .as_deref()
            .and_then(|sig| signature_in_model(model, sig));
        // Claims files, unless the signature covers them.
        let mut claims = vec![RelPath::parse(crate::claims::CLAIMS_FILE_NAME)?];
        if let Some(c) = options
            .claims_path
            .as_deref()
            .and_then(|c| signature_in_model(model, c))
        {
            claims.push(c);
        }
        claims
            .retain(|c| signature.as_ref() != Some(c) && !self.keys.iter().any(|k| k.is_under(c)));
        claims.dedup();
        let (config, rules) = self.plan(options, signature, claims)?;
        let config = config.contain_links_in_hf_snapshot(model);

        // A partial check walks as if only the named files were signed: the
        // rest are then unsigned entries, never opened, and not reported.
        let files = match only {
            Some(named) => walk_signed(model, &config, named.iter().map(String::as_str)),
            None => walk_signed(model, &config, self.keys.iter().map(ResourceKey::path)),
        }
        .map_err(VerifyError::Hash)?;

        // A single-file model may be signed as `.` (what the reference writes)
        // or by its file name (what the OMS specification says).
        let mut expected_keys = self.keys.clone();
        if files.is_single_file() {
            let file_name = model.file_name().and_then(|n| n.to_str());
            let all_named = file_name.is_some_and(|n| expected_keys.iter().all(|k| k.path() == n));
            if all_named {
                expected_keys = expected_keys
                    .into_iter()
                    .map(ResourceKey::into_single_file)
                    .collect();
            }
        }

        let mut left_out: Vec<LeftOut> = match only {
            Some(_) => Vec::new(),
            None => files
                .ignored()
                .iter()
                .map(|p| LeftOut {
                    path: p.clone(),
                    reason: rules.reason(p),
                })
                .collect(),
        };
        let mut unsigned_ignored = Vec::new();
        let mut unsigned_unexpected = Vec::new();
        for path in files.unsigned() {
            if only.is_some() {
                // Not named: not looked at.
            } else if options.ignore_unsigned_files {
                unsigned_ignored.push(path.clone());
                left_out.push(LeftOut {
                    path: path.clone(),
                    reason: LeftOutReason::Unsigned,
                });
            } else {
                unsigned_unexpected.push(path);
            }
        }
        left_out.sort_by(|a, b| cmp_paths(&a.path, &b.path).then(a.reason.cmp(&b.reason)));

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
            .zip(&self.manifest.resources)
            .filter(|(k, _)| only.is_none_or(|named| named.contains(k.path())))
            .map(|(k, r)| (k, r.digest.as_slice()))
            .collect();
        let actual_map: BTreeMap<&ResourceKey, &[u8]> = actual
            .iter()
            .map(|r| (&r.key, r.digest.as_slice()))
            .collect();

        let mut report = DiffReport {
            unsigned_ignored: unsigned_ignored.clone(),
            left_out: left_out.clone(),
            ..DiffReport::default()
        };
        report.compare(&expected, &actual_map);
        // Files at signed paths whose shards differ from the signed ones,
        // and the unsigned entries by name, in signing order.
        let mut unexpected: Vec<(Option<ResourceKey>, String)> = actual_map
            .keys()
            .filter(|k| !expected.contains_key(*k))
            .map(|k| (Some((*k).clone()), k.to_string()))
            .collect();
        unexpected.extend(
            unsigned_unexpected
                .into_iter()
                .map(|p| (ResourceKey::from_path(p, None).ok(), p.clone())),
        );
        unexpected.sort();
        report.unexpected = unexpected.into_iter().map(|(_, name)| name).collect();
        if !report.is_empty() {
            return Err(VerifyError::ModelMismatch(Box::new(report)));
        }
        Ok((expected.len(), unsigned_ignored, left_out))
    }
}

/// Compares the model with a signature's manifest **without verifying the
/// signature**: for a signer who vouches for the model a signature names
/// (`attest`), never to verify a model (use [`verify_bundle`] and
/// [`Verified::check_model`]). Returns the number of resources compared.
pub fn check_model_unverified(
    signed: &SignedManifest,
    model: &Path,
    options: &ModelCheckOptions,
    progress: &dyn Progress,
) -> Result<usize, VerifyError> {
    signed
        .compare(model, options, None, progress)
        .map(|(checked, _, _)| checked)
}

//! Signing: hash the model, build the in-toto statement, sign its DSSE
//! encoding, and write the bundle atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use model_signing_hash::{
    FileEntry, HashConfig, HashError, Incremental, IncrementalReport, Progress,
};

use crate::bundle::{Bundle, VerificationMaterial};
use crate::dsse::{pae, Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::{KeyError, PublicKey, SigningKey};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::limits::{Limits, MAX_CHAIN_CERTIFICATES, MAX_TIMESTAMPS};
use crate::manifest::Manifest;
use crate::statement::build_statement;
use crate::timestamp::{check_response, Timestamper};
use crate::verify::Signer;
use crate::x509::{check_signing_certificate, CertError, Certificate, ChainPolicy};

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key could not be used.
    #[error("cannot sign with the private key")]
    Key(#[source] KeyError),
    /// A certificate could not be read or used.
    #[error("cannot use the signing certificate")]
    Certificate(#[source] CertError),
    /// The signing certificate is not for this key.
    #[error("the private key does not match the signing certificate {subject}")]
    CertificateKeyMismatch {
        /// Subject of the certificate.
        subject: String,
    },
    /// The signing certificate cannot sign now.
    #[error("the signing certificate {subject} cannot be used: {reason}")]
    CertificateUnusable {
        /// Subject of the certificate.
        subject: String,
        /// Why.
        reason: String,
    },
    /// The signature produced does not verify (a faulty key backend).
    #[error("the signature just made does not verify with the signer's public key")]
    SelfCheck,
    /// The model could not be hashed.
    #[error("cannot hash the model")]
    Hash(#[source] HashError),
    /// A signing method backed by services (Sigstore: identity token,
    /// certificate authority, transparency log, timestamp authority) failed.
    #[error("{method} signing failed")]
    Method {
        /// The method, like `sigstore`.
        method: &'static str,
        /// What went wrong, as the method reports it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A timestamp authority gave no usable timestamp.
    #[error("cannot get a timestamp from {authority}")]
    Timestamp {
        /// The authority (its URL).
        authority: String,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The signature would be refused by verifiers: it would hold more
    /// resources, ignore paths or certificates, or more bytes, than
    /// [`Limits`] accept.
    #[error("the signature would hold {count} {what}, more than the {limit} verifiers accept")]
    Limit {
        /// What: `resources`, `ignore paths`, `certificates`, `timestamps`
        /// or `bytes`.
        what: &'static str,
        /// How many it would hold.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The signature file cannot be written.
    #[error("cannot write the signature to {path}")]
    Write {
        /// Destination.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
}

impl SignError {
    /// What kind of failure this is: key and certificate files that do not
    /// parse are [`ErrorKind::Malformed`](crate::ErrorKind::Malformed); a key
    /// that is not the certificate's, a certificate that cannot sign now and
    /// a model over the limits verifiers accept are
    /// [`ErrorKind::Usage`](crate::ErrorKind::Usage); hashing errors keep
    /// their kind; a backend (token, Sigstore services) or a write that
    /// fails is [`ErrorKind::Environment`](crate::ErrorKind::Environment).
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            SignError::Key(_) | SignError::Certificate(_) => ErrorKind::Malformed,
            SignError::CertificateKeyMismatch { .. }
            | SignError::CertificateUnusable { .. }
            | SignError::Limit { .. } => ErrorKind::Usage,
            SignError::Hash(e) => e.kind(),
            SignError::SelfCheck
            | SignError::Method { .. }
            | SignError::Timestamp { .. }
            | SignError::Write { .. } => ErrorKind::Environment,
        }
    }
}

/// Signs a DSSE envelope's payload; one implementation per method.
pub trait BundleSigner {
    /// Signs the DSSE pre-authentication encoding of `payload_type` and
    /// `payload` ([`pae`]) and returns the signature with
    /// the bundle material to store beside it.
    fn sign_envelope(&self, payload_type: &str, payload: &[u8]) -> Result<SignedPae, SignError>;

    /// Who this signer signs as, when that is known before signing: the
    /// key's identifier and type, or the certificate and the chain given
    /// with it (as given: only a verifier validates a path). `None` for a
    /// signer whose identity comes with each signature (Sigstore: the
    /// certificate is issued when signing), and by default.
    fn signer(&self) -> Option<Signer> {
        None
    }
}

/// A signature and what a verifier needs to check it.
#[derive(Debug, Clone)]
pub struct SignedPae {
    /// DER-encoded ECDSA signature.
    pub signature: Vec<u8>,
    /// Key or certificates.
    pub material: VerificationMaterial,
    /// Transparency log entries (Sigstore).
    pub tlog_entries: Vec<serde_json::Value>,
    /// Timestamps (Sigstore).
    pub timestamp_data: Option<serde_json::Value>,
}

fn sign_checked(
    key: &dyn SigningKey,
    public: &PublicKey,
    message: &[u8],
) -> Result<Vec<u8>, SignError> {
    let signature = key.sign(message).map_err(SignError::Key)?;
    public
        .verify(message, &signature)
        .map_err(|_| SignError::SelfCheck)?;
    Ok(signature)
}

/// Signs with a private key; the bundle identifies the key by its hint.
pub struct KeySigner {
    key: Box<dyn SigningKey>,
    public: PublicKey,
}

impl KeySigner {
    /// A signer for `key`.
    pub fn new(key: Box<dyn SigningKey>) -> Result<Self, SignError> {
        let public = key.public_key().map_err(SignError::Key)?;
        Ok(KeySigner { key, public })
    }

    /// The public key that verifies this signer's signatures.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl BundleSigner for KeySigner {
    fn sign_envelope(&self, payload_type: &str, payload: &[u8]) -> Result<SignedPae, SignError> {
        let message = pae(payload_type, payload);
        Ok(SignedPae {
            signature: sign_checked(self.key.as_ref(), &self.public, &message)?,
            material: VerificationMaterial::PublicKey {
                hint: Some(self.public.hint()),
                raw_bytes: None,
                key_details: None,
            },
            tlog_entries: Vec::new(),
            timestamp_data: None,
        })
    }

    fn signer(&self) -> Option<Signer> {
        Some(Signer::Key {
            hint: self.public.hint(),
            algorithm: self.public.algorithm().key_details(),
        })
    }
}

/// Signs with a private key and its certificate; the bundle carries the
/// certificate and the given chain.
pub struct CertificateSigner {
    key: Box<dyn SigningKey>,
    public: PublicKey,
    chain: Vec<Certificate>,
}

impl CertificateSigner {
    /// A signer for `key` with its certificate `leaf` and the `chain` above it.
    /// Refuses a key that does not match the certificate, a certificate
    /// that is not valid at `now` (Unix seconds) or not allowed to sign, and
    /// more than [`MAX_CHAIN_CERTIFICATES`] certificates in all.
    pub fn new(
        key: Box<dyn SigningKey>,
        leaf: Certificate,
        chain: Vec<Certificate>,
        now: i64,
    ) -> Result<Self, SignError> {
        let count = chain.len().saturating_add(1);
        if count > MAX_CHAIN_CERTIFICATES {
            return Err(SignError::Limit {
                what: "certificates",
                count,
                limit: MAX_CHAIN_CERTIFICATES,
            });
        }
        let public = key.public_key().map_err(SignError::Key)?;
        let subject = leaf.subject();
        let leaf_key = PublicKey::from_spki_der(leaf.spki_der()).map_err(|e| {
            SignError::CertificateUnusable {
                subject: subject.clone(),
                reason: format!("its public key cannot be used: {e}"),
            }
        })?;
        if leaf_key != public {
            return Err(SignError::CertificateKeyMismatch { subject });
        }
        check_signing_certificate(&leaf, &ChainPolicy::certificate_method(now)).map_err(|e| {
            SignError::CertificateUnusable {
                subject: subject.clone(),
                reason: e.to_string(),
            }
        })?;
        let mut all = vec![leaf];
        all.extend(chain);
        Ok(CertificateSigner {
            key,
            public,
            chain: all,
        })
    }
}

impl BundleSigner for CertificateSigner {
    fn sign_envelope(&self, payload_type: &str, payload: &[u8]) -> Result<SignedPae, SignError> {
        let message = pae(payload_type, payload);
        Ok(SignedPae {
            signature: sign_checked(self.key.as_ref(), &self.public, &message)?,
            material: VerificationMaterial::X509CertificateChain(
                self.chain.iter().map(|c| c.der().to_vec()).collect(),
            ),
            tlog_entries: Vec::new(),
            timestamp_data: None,
        })
    }

    fn signer(&self) -> Option<Signer> {
        let leaf = self.chain.first()?;
        Some(Signer::Certificate {
            subject: leaf.subject(),
            fingerprint: leaf.fingerprint_sha256(),
            path: self
                .chain
                .iter()
                .map(|c| (c.subject(), c.fingerprint_sha256()))
                .collect(),
        })
    }
}

/// Adds RFC 3161 timestamps over the signature that another signer makes:
/// one from each [`Timestamper`], in order, stored in the bundle's
/// `timestampVerificationData` as Sigstore bundles store them. Each response
/// must be granted and cover the signature ([`check_response`]); its signer
/// is for verifiers to check against the authorities they trust.
pub struct TimestampingSigner<'a> {
    inner: &'a dyn BundleSigner,
    timestampers: Vec<Box<dyn Timestamper + 'a>>,
}

impl<'a> TimestampingSigner<'a> {
    /// Timestamps what `inner` signs with each of `timestampers`.
    pub fn new(inner: &'a dyn BundleSigner, timestampers: Vec<Box<dyn Timestamper + 'a>>) -> Self {
        TimestampingSigner {
            inner,
            timestampers,
        }
    }
}

impl BundleSigner for TimestampingSigner<'_> {
    fn sign_envelope(&self, payload_type: &str, payload: &[u8]) -> Result<SignedPae, SignError> {
        let mut signed = self.inner.sign_envelope(payload_type, payload)?;
        if self.timestampers.is_empty() {
            return Ok(signed);
        }
        let mut list: Vec<serde_json::Value> = signed
            .timestamp_data
            .as_ref()
            .and_then(|d| d.get("rfc3161Timestamps"))
            .and_then(|l| l.as_array())
            .cloned()
            .unwrap_or_default();
        let count = list.len().saturating_add(self.timestampers.len());
        if count > MAX_TIMESTAMPS {
            return Err(SignError::Limit {
                what: "timestamps",
                count,
                limit: MAX_TIMESTAMPS,
            });
        }
        for timestamper in &self.timestampers {
            let failed = |source| SignError::Timestamp {
                authority: timestamper.name(),
                source,
            };
            let der = timestamper.timestamp(&signed.signature).map_err(failed)?;
            check_response(&der, &signed.signature).map_err(|e| failed(Box::new(e)))?;
            list.push(serde_json::json!({ "signedTimestamp": STANDARD.encode(&der) }));
        }
        signed.timestamp_data = Some(serde_json::json!({ "rfc3161Timestamps": list }));
        Ok(signed)
    }

    fn signer(&self) -> Option<Signer> {
        self.inner.signer()
    }
}

/// Room left in a bundle for everything but the payload: certificates, log
/// entries, timestamps, JSON punctuation.
const BUNDLE_OVERHEAD: usize = 1 << 20;

/// Signs a manifest: statement, DSSE, bundle. A manifest that verifiers would
/// refuse (see [`Limits`]) is refused before the signer is called.
pub fn sign_manifest(manifest: &Manifest, signer: &dyn BundleSigner) -> Result<Bundle, SignError> {
    sign_manifest_with_limits(manifest, signer, &Limits::default())
}

/// [`sign_manifest`] with other bounds.
pub fn sign_manifest_with_limits(
    manifest: &Manifest,
    signer: &dyn BundleSigner,
    limits: &Limits,
) -> Result<Bundle, SignError> {
    let check = |what, count, limit| {
        if count > limit {
            Err(SignError::Limit { what, count, limit })
        } else {
            Ok(())
        }
    };
    check("resources", manifest.resources.len(), limits.resources)?;
    check(
        "ignore paths",
        manifest.serialization.ignore_paths.len(),
        limits.ignore_paths,
    )?;
    let payload = build_statement(manifest);
    // The payload is stored base64-encoded.
    let encoded = payload.len().div_ceil(3).saturating_mul(4);
    check(
        "bytes",
        encoded.saturating_add(BUNDLE_OVERHEAD),
        limits.bundle_bytes,
    )?;
    sign_statement(payload, signer)
}

/// Signs an in-toto statement (`payload`) as a DSSE envelope in a bundle.
pub(crate) fn sign_statement(
    payload: Vec<u8>,
    signer: &dyn BundleSigner,
) -> Result<Bundle, SignError> {
    let signed = signer.sign_envelope(IN_TOTO_PAYLOAD_TYPE, &payload)?;
    let mut bundle = Bundle::new(
        signed.material,
        Envelope {
            payload,
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            signature: signed.signature,
            keyid: Some(String::new()),
        },
    );
    bundle.tlog_entries = signed.tlog_entries;
    bundle.timestamp_data = signed.timestamp_data;
    Ok(bundle)
}

/// The current time in Unix seconds, as signers check certificates at it
/// (0 for a clock before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Hashes the model at `model` and signs its manifest. To write the
/// signature with [`write_atomic`] inside the model, use [`sign_model_to`].
pub fn sign_model(
    model: &Path,
    config: &HashConfig,
    signer: &dyn BundleSigner,
    progress: &dyn Progress,
) -> Result<(Bundle, Manifest), SignError> {
    let manifest = Manifest::hash(model, config, progress).map_err(SignError::Hash)?;
    let bundle = sign_manifest(&manifest, signer)?;
    Ok((bundle, manifest))
}

/// The prefix of the temporary files that [`write_atomic`] makes beside
/// `dest`: `.NAME.tmp-`, followed by the writer's process id, `-` and a
/// nanosecond count.
fn temp_prefix(dest: &Path) -> String {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    temp_prefix_of(&name)
}

/// [`temp_prefix`] for a destination file named `name`.
pub(crate) fn temp_prefix_of(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// Whether `name` is that of a temporary file of [`write_atomic`] for a
/// destination whose temporary files start with `prefix`.
pub(crate) fn is_temp_name(name: &str, prefix: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix(prefix)
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(pid, nanos)| digits(pid) && digits(nanos))
}

/// [`sign_model`] for a signature that [`write_atomic`] will write at
/// `dest`. When `dest` lies inside the model, the temporary files of other
/// writes to `dest` (another signer of the same model at the same moment)
/// are not hashed: they are not files of the model, and the one that was
/// hashed would be gone, renamed to `dest`, when the signature is verified.
/// Such a file that is still there at verification is reported as a file
/// the signature does not cover.
pub fn sign_model_to(
    model: &Path,
    config: &HashConfig,
    signer: &dyn BundleSigner,
    progress: &dyn Progress,
    dest: &Path,
) -> Result<(Bundle, Manifest), SignError> {
    let manifest =
        Manifest::hash_except(model, config, progress, temp_of(dest)).map_err(SignError::Hash)?;
    let bundle = sign_manifest(&manifest, signer)?;
    Ok((bundle, manifest))
}

/// [`sign_model_to`] that re-hashes only the files changed since the last
/// incremental signing of the same model path with the same hashing
/// parameters on this machine, as recorded in `state`
/// ([`Manifest::hash_except_incremental`]; the trust argument and its
/// limits are in `docs/security.md`). The report says what was hashed and
/// reused, and why a record was not used.
pub fn sign_model_to_incremental(
    model: &Path,
    config: &HashConfig,
    signer: &dyn BundleSigner,
    progress: &dyn Progress,
    dest: &Path,
    state: &Incremental,
) -> Result<(Bundle, Manifest, IncrementalReport), SignError> {
    let (manifest, report) =
        Manifest::hash_except_incremental(model, config, progress, temp_of(dest), state)
            .map_err(SignError::Hash)?;
    let bundle = sign_manifest(&manifest, signer)?;
    Ok((bundle, manifest, report))
}

/// Whether a walked file is a temporary file of another write to `dest`
/// (see [`sign_model_to`]), or a claims file at the model root (a
/// `claims.jsonl` whose first line is a bundle; see [`crate::claims`]):
/// claims added later never break the signature.
fn temp_of(dest: &Path) -> impl Fn(&FileEntry) -> bool {
    let prefix = temp_prefix(dest);
    let dest_dir = fs::canonicalize(parent_dir(dest)).ok();
    move |f: &FileEntry| {
        if f.components() == [crate::claims::CLAIMS_FILE_NAME] && crate::claims::is_claims_file(f) {
            return true;
        }
        let path = f.path();
        let named_like = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| is_temp_name(n, &prefix));
        named_like
            && dest_dir.is_some()
            && path.parent().and_then(|p| fs::canonicalize(p).ok()) == dest_dir
    }
}

fn temp_path(dest: &Path) -> PathBuf {
    let unique = format!(
        "{}{}-{}",
        temp_prefix(dest),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    dest.with_file_name(unique)
}

/// The directory that holds `dest`.
fn parent_dir(dest: &Path) -> &Path {
    match dest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Removes the temporary files that writes to `dest` left behind when their
/// process was killed between creating the file and renaming it: those named
/// by [`temp_path`] whose process no longer runs on this machine. A process
/// that still runs keeps its file. Nothing is removed where the process table
/// cannot be read (no `/proc`), and failures are ignored: a leftover is only
/// clutter, never a signature.
fn remove_stale_temps(dest: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let prefix = temp_prefix(dest);
    let Ok(items) = fs::read_dir(parent_dir(dest)) else {
        return;
    };
    for item in items.flatten() {
        let name = item.file_name();
        let Some(name) = name.to_str().filter(|n| is_temp_name(n, &prefix)) else {
            continue;
        };
        let pid = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('-').next())
            .unwrap_or_default();
        if proc.join(pid).exists() {
            continue;
        }
        if item.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(item.path());
        }
    }
}

/// Refuses a `dest` that exists (after following links) and is not a
/// regular file: renaming over it would put a regular file in the place of a
/// directory entry, a FIFO, a socket or a device node (`/dev/stdout` and
/// `/dev/full` for root).
fn check_replaceable(dest: &Path) -> io::Result<()> {
    match fs::metadata(dest) {
        Ok(m) if m.is_dir() => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        )),
        Ok(m) if !m.is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file (a FIFO, socket or device), and the signature is written by replacing the file",
        )),
        _ => Ok(()),
    }
}

/// Checks, before any hashing, that a signature can be written at `dest`,
/// and removes the temporary files that an earlier [`write_atomic`] to
/// `dest` left behind when its process was killed (see [`write_atomic`]).
///
/// Call it before hashing: when `dest` lies inside the model, a leftover
/// would otherwise be hashed as a file of the model. The check creates a
/// file that has no name where the system allows it (`O_TMPFILE` on Linux),
/// so a walk of the directory running meanwhile cannot see it; elsewhere a
/// named file is created and removed at once.
pub fn check_writable(dest: &Path) -> Result<(), SignError> {
    let err = |source| SignError::Write {
        path: dest.to_owned(),
        source,
    };
    check_replaceable(dest).map_err(err)?;
    tempfile::tempfile_in(parent_dir(dest)).map_err(err)?;
    remove_stale_temps(dest);
    Ok(())
}

/// Writes `contents` to `dest` atomically: a temporary file in the same
/// directory (`.NAME.tmp-PID-NANOS`), flushed to disk, then renamed over
/// `dest`. At every moment `dest` is either the previous file or the complete
/// new one. On failure the previous file at `dest` is untouched and the
/// temporary file removed.
///
/// A process killed while the temporary file exists (it is made only now,
/// after hashing, and lives for one write, one flush and one rename) leaves it
/// behind; the next [`check_writable`] for `dest` removes it.
pub fn write_atomic(dest: &Path, contents: &[u8]) -> Result<(), SignError> {
    let err = |source| SignError::Write {
        path: dest.to_owned(),
        source,
    };
    check_replaceable(dest).map_err(err)?;
    let tmp = temp_path(dest);
    let result = (|| -> io::Result<()> {
        let mut file: File = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, dest)?;
        if let Ok(d) = File::open(parent_dir(dest)) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

//! Signing: hash the model, build the in-toto statement, sign its DSSE
//! encoding, and write the bundle atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use model_signing_hash::{HashConfig, HashError, Progress};

use crate::bundle::{Bundle, VerificationMaterial};
use crate::dsse::{pae, Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::{KeyError, PublicKey, SigningKey};
use crate::manifest::Manifest;
use crate::statement::build_statement;
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

/// Signs the DSSE encoding of a statement; one implementation per method.
pub trait BundleSigner {
    /// Signs `pae` and returns the bundle material to store with the signature.
    fn sign_pae(&self, pae: &[u8]) -> Result<SignedPae, SignError>;
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
    fn sign_pae(&self, pae: &[u8]) -> Result<SignedPae, SignError> {
        Ok(SignedPae {
            signature: sign_checked(self.key.as_ref(), &self.public, pae)?,
            material: VerificationMaterial::PublicKey {
                hint: Some(self.public.hint()),
                raw_bytes: None,
                key_details: None,
            },
            tlog_entries: Vec::new(),
            timestamp_data: None,
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
    /// Refuses a key that does not match the certificate, and a certificate
    /// that is not valid at `now` (Unix seconds) or not allowed to sign.
    pub fn new(
        key: Box<dyn SigningKey>,
        leaf: Certificate,
        chain: Vec<Certificate>,
        now: i64,
    ) -> Result<Self, SignError> {
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
    fn sign_pae(&self, pae: &[u8]) -> Result<SignedPae, SignError> {
        Ok(SignedPae {
            signature: sign_checked(self.key.as_ref(), &self.public, pae)?,
            material: VerificationMaterial::X509CertificateChain(
                self.chain.iter().map(|c| c.der().to_vec()).collect(),
            ),
            tlog_entries: Vec::new(),
            timestamp_data: None,
        })
    }
}

/// Signs a manifest: statement, DSSE, bundle.
pub fn sign_manifest(manifest: &Manifest, signer: &dyn BundleSigner) -> Result<Bundle, SignError> {
    let payload = build_statement(manifest);
    let signed = signer.sign_pae(&pae(IN_TOTO_PAYLOAD_TYPE, &payload))?;
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

/// Hashes the model at `model` and signs its manifest.
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

fn temp_path(dest: &Path, tag: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = format!(
        ".{name}.{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    dest.with_file_name(unique)
}

/// Checks, before any hashing, that a signature can be written at `dest`.
pub fn check_writable(dest: &Path) -> Result<(), SignError> {
    let err = |source| SignError::Write {
        path: dest.to_owned(),
        source,
    };
    if dest.is_dir() {
        return Err(err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        )));
    }
    let probe = temp_path(dest, "probe");
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(err)?;
    drop(file);
    fs::remove_file(&probe).map_err(err)
}

/// Writes `contents` to `dest` atomically: a temporary file in the same
/// directory, flushed to disk, then renamed over `dest`. On failure the
/// previous file at `dest` is untouched and the temporary file removed.
pub fn write_atomic(dest: &Path, contents: &[u8]) -> Result<(), SignError> {
    let err = |source| SignError::Write {
        path: dest.to_owned(),
        source,
    };
    let tmp = temp_path(dest, "tmp");
    let result = (|| -> io::Result<()> {
        let mut file: File = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, dest)?;
        if let Some(dir) = dest.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

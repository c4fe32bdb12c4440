//! Sign and verify machine-learning models in the OpenSSF Model Signing (OMS)
//! v1.0 format, compatible with the Python reference implementation.
//!
//! Signing hashes every file of the model into a manifest, puts it in an
//! in-toto statement and signs that as a DSSE envelope, stored as a
//! Sigstore bundle ([`bundle::Bundle`], usually written to `model.sig`).
//! Verifying checks the signature and the signer first, then re-hashes the
//! model with the parameters the signature records and reports every
//! changed, missing and unexpected file. The `model-signing` command line
//! does exactly this, with these defaults.
//!
//! Sign with a private key, then verify with its public key:
//!
//! ```
//! use model_signing::bundle::Bundle;
//! use model_signing::hashing::{HashConfig, NoProgress};
//! use model_signing::keys::{EcPrivateKey, KeyAlgorithm};
//! use model_signing::sign::{sign_model, KeySigner};
//! use model_signing::verify::{verify_bundle, KeyVerifier, ModelCheckOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let model = dir.path().join("model");
//! # std::fs::create_dir(&model)?;
//! # std::fs::write(model.join("weights.bin"), b"weights")?;
//! # let signature = dir.path().join("model.sig");
//! let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
//! let public_key = key.public_key().clone();
//!
//! let signer = KeySigner::new(Box::new(key))?;
//! let (bundle, _manifest) = sign_model(&model, &HashConfig::new(), &signer, &NoProgress)?;
//! std::fs::write(&signature, bundle.to_json())?;
//!
//! let bundle = Bundle::from_json(&std::fs::read(&signature)?)?;
//! let signed = verify_bundle(&bundle, &KeyVerifier::new(public_key))?;
//! let verified = signed.check_model(&model, &ModelCheckOptions::default(), &NoProgress)?;
//! assert_eq!(verified.resources_checked, 1);
//! # Ok(())
//! # }
//! ```
//!
//! Sign with a certificate and the intermediate CA above it; verify against
//! the root CA (the demo PKI of `examples/certificates`):
//!
//! ```
//! use model_signing::hashing::{HashConfig, NoProgress};
//! use model_signing::keys::EcPrivateKey;
//! use model_signing::sign::{sign_model, CertificateSigner};
//! use model_signing::verify::{verify_bundle, CertificateVerifier, ModelCheckOptions};
//! use model_signing::x509::Certificate;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let model = dir.path().join("model");
//! # std::fs::create_dir(&model)?;
//! # std::fs::write(model.join("weights.bin"), b"weights")?;
//! # let pki = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/certificates");
//! # let read = |name: &str| std::fs::read(pki.join(name));
//! let key = EcPrivateKey::from_pem(&read("demo-signing-key.pem")?, None)?;
//! let mut certificate = Certificate::from_pem_bundle(&read("demo-signing-cert.pem")?)?;
//! let chain = Certificate::from_pem_bundle(&read("demo-intermediate-ca.pem")?)?;
//! let root = Certificate::from_pem_bundle(&read("demo-root-ca.pem")?)?;
//! let now = model_signing::sign::now();
//!
//! let signer = CertificateSigner::new(Box::new(key), certificate.remove(0), chain, now)?;
//! let (bundle, _manifest) = sign_model(&model, &HashConfig::new(), &signer, &NoProgress)?;
//!
//! let signed = verify_bundle(&bundle, &CertificateVerifier::new(root))?;
//! signed.check_model(&model, &ModelCheckOptions::default(), &NoProgress)?;
//! # Ok(())
//! # }
//! ```
//!
//! A model that does not match fails with
//! [`VerifyError::ModelMismatch`](verify::VerifyError::ModelMismatch), whose
//! report lists every difference. Hashing alone (the manifest that a
//! signature carries):
//!
//! ```
//! use model_signing::{hashing::HashConfig, Manifest};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # std::fs::write(dir.path().join("a"), "hello\n")?;
//! let manifest = Manifest::hash(dir.path(), &HashConfig::new(), &model_signing::hashing::NoProgress)?;
//! assert_eq!(
//!     manifest.root_digest_hex(),
//!     "ecb65bb98f9d905b70458986c39fcbad7715e5f2fcc3b1f07767d7c83e2438cc"
//! );
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod bundle;
pub mod claims;
pub mod dsse;
mod json;
pub mod keys;
pub mod limits;
pub mod manifest;
pub mod predicates;
pub mod reader;
pub mod sign;
pub mod statement;
pub mod text;
pub mod timestamp;
pub mod verify;
pub mod x509;

pub use json::JsonError;
pub use manifest::{Manifest, Resource, Serialization};
pub use model_signing_hash::ErrorKind;

/// Shared with this workspace's other crates (the Sigstore crate reads the
/// Sigstore parts of a bundle with the same bounded JSON reader). Not part
/// of the API: no stability promise, hidden from the documentation.
#[doc(hidden)]
pub mod __private {
    pub use crate::json::{parse_shaped, parse_strict, shorten, Node, Obj, Shape};
}

/// Internals the fuzz targets check against (feature `fuzzing`): not part
/// of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use crate::statement::PayloadError;

    /// Python's `repr()` of a `bytes` object, as the v0.2 PAE embeds it.
    pub fn python_bytes_repr(data: &[u8]) -> String {
        crate::dsse::python_bytes_repr(data)
    }

    /// The components of a signed file path, or why it is refused.
    pub fn parse_path(name: &str) -> Result<Vec<String>, PayloadError> {
        crate::statement::parse_path(name)
    }
}

/// The hashing engine: what a caller needs to hash a model and to read a
/// [`Manifest`]. The walking and per-file machinery under it stays in
/// `model-signing-hash`.
pub mod hashing {
    pub use model_signing_hash::{
        check_component, hash_model, hf_cache_repo, root_digest, ConfigError, FileEntry,
        HashAlgorithm, HashConfig, HashError, Hasher, Incremental, IncrementalReport, Method,
        NameError, NoProgress, Progress, RelPath, ResourceDigest, ResourceKey, DEFAULT_RACY_MARGIN,
        DEFAULT_SHARD_SIZE, GIT_PATHS, HF_DOWNLOAD_CACHE_PATH, MAX_FILES, MAX_RECORD_BYTES,
        MAX_RESOURCES,
    };
}

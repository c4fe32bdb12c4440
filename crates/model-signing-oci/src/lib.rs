//! Models stored as OCI artifacts, in a registry (`oci://HOST/REPO:TAG`) or
//! an OCI image layout on disk (`oci-layout://DIR:TAG`).
//!
//! One rule gives the OMS manifest of an artifact ([`artifact`]):
//!
//! - **files** (the default): each layer is part of the model directory. A
//!   raw layer (media type ending `.raw`, or `application/octet-stream`)
//!   is one file, at the path of its `org.cncf.model.filepath` annotation,
//!   else its `org.opencontainers.image.title`; its blob digest is the
//!   file's SHA-256, so with `files` hashing and SHA-256 the manifest comes
//!   from the OCI manifest alone. An archive layer (tar, tar+gzip,
//!   tar+zstd) is unpacked at the model root, on the fly, and its files
//!   hashed. The result is the manifest of the unpacked directory.
//! - **blobs**: every layer is one opaque resource named by its title,
//!   else `layer_NNN.tar.gz`, with its blob digest, and the config blob is
//!   `config.json`: what the Go implementation of OMS signs.
//!
//! Signatures are stored as OCI referrers of the model manifest
//! ([`referrers`]). The registry code ([`registry`]) runs its own async
//! runtime on the calling thread; callers see blocking functions.

pub mod artifact;
pub mod auth;
pub mod layout;
pub mod model;
pub mod oci;
pub mod reference;
pub mod referrers;
pub mod registry;

use std::io::Read;

pub use artifact::{Artifact, LayerMode, OciManifestHash};
pub use reference::{is_oci_reference, parse, Location, OciRef, Target};
pub use registry::RegistryOptions;

use model_signing::ErrorKind;
use oci::{Descriptor, Fetched};

/// Why an OCI model could not be read, signed or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum OciError {
    #[error("invalid OCI reference {reference:?}: {reason}")]
    Reference { reference: String, reason: String },
    #[error("{what} is malformed: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{what} has media type {media_type:?}, which is not supported (expected {expected})")]
    UnsupportedMediaType {
        what: String,
        media_type: String,
        expected: String,
    },
    #[error("{what} is larger than the {limit} bytes allowed")]
    TooLarge { what: String, limit: u64 },
    #[error("{what} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("cannot read {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {reason}")]
    Registry { what: String, reason: String },
    #[error("access to {registry} denied: {reason}")]
    Denied { registry: String, reason: String },
    #[error("cannot get credentials for {registry}: {reason}")]
    Credentials { registry: String, reason: String },
    #[error("{reference} is an image index of {} manifests; choose one with --platform OS/ARCH[/VARIANT] or by digest: {}", manifests.len(), manifests.join("; "))]
    ImageIndex {
        reference: String,
        manifests: Vec<String>,
    },
    #[error("{reference}: no manifest of the image index is for platform {platform} (it has: {})", manifests.join("; "))]
    NoPlatform {
        reference: String,
        platform: String,
        manifests: Vec<String>,
    },
    #[error("{layer}: invalid path {path:?}: {reason}")]
    BadPath {
        layer: String,
        path: String,
        reason: String,
    },
    #[error("{what}: {reason}")]
    Archive { what: String, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("no signature of {reference} was found: {reason}")]
    NoSignature { reference: String, reason: String },
    #[error("hashing {what} failed: {source}")]
    Hash {
        what: String,
        #[source]
        source: model_signing::hashing::HashError,
    },
}

impl OciError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            OciError::Reference { .. }
            | OciError::Usage(_)
            | OciError::ImageIndex { .. }
            | OciError::NoPlatform { .. } => ErrorKind::Usage,
            OciError::Malformed { .. }
            | OciError::UnsupportedMediaType { .. }
            | OciError::TooLarge { .. }
            | OciError::BadPath { .. }
            | OciError::Archive { .. } => ErrorKind::Malformed,
            OciError::DigestMismatch { .. } => ErrorKind::Rejected,
            OciError::Hash { source, .. } => source.kind(),
            OciError::NotFound { .. }
            | OciError::Io { .. }
            | OciError::Registry { .. }
            | OciError::Denied { .. }
            | OciError::Credentials { .. }
            | OciError::NoSignature { .. } => ErrorKind::Environment,
        }
    }
}

/// Where manifests and blobs are read and written: a registry repository
/// ([`registry::Registry`]) or an image layout ([`layout::Layout`]).
pub trait Store: Sync {
    /// The manifest `target` names, at most [`oci::MAX_MANIFEST_BYTES`];
    /// by digest, checked against it.
    fn fetch_manifest(&self, target: &Target) -> Result<Fetched, OciError>;
    /// A reader of the blob's bytes as stored. Callers check the digest
    /// ([`artifact::DigestingReader`]).
    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError>;
    /// The manifests whose `subject` is `subject` (at most
    /// [`referrers::MAX_REFERRERS`] are looked at).
    fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>, OciError>;
    /// Stores a blob.
    fn push_blob(&self, bytes: &[u8], digest: &str) -> Result<(), OciError>;
    /// Stores a manifest under its digest, or under a tag.
    fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        target: &Target,
    ) -> Result<(), OciError>;
    /// Whether the store answers referrer queries itself (a registry's
    /// Referrers API, an image layout); otherwise signatures are listed in
    /// the referrers tag schema (`sha256-<hex>`).
    fn has_referrers_api(&self, subject: &Descriptor) -> Result<bool, OciError>;
    /// The reference, for messages.
    fn name(&self) -> String;
}

/// Opens the store an OCI reference names.
pub fn open(reference: &OciRef, options: &RegistryOptions) -> Result<Box<dyn Store>, OciError> {
    match &reference.location {
        Location::Layout { dir } => Ok(Box::new(layout::Layout::open(dir)?)),
        Location::Registry { host, repository } => Ok(Box::new(registry::Registry::connect(
            host, repository, options,
        )?)),
    }
}

//! Trust material: which Fulcio CAs, transparency logs, CT logs and
//! timestamp authorities a verification trusts.
//!
//! Nothing here touches the network: the production and staging roots are
//! the snapshots embedded in `sigstore-trust-root`; other roots are read from
//! files.

use std::path::Path;

use model_signing::x509::Certificate;
use serde_json::Value;
use sigstore_trust_root::{SigstoreInstance, TrustedRoot};
use sigstore_types::TimeRange;

use crate::error::{from_sigstore, SigstoreError};

/// Media types accepted for a trusted root (production still ships the legacy one).
pub const TRUSTED_ROOT_MEDIA_TYPES: [&str; 3] = [
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.1+json",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// The media type of a ClientTrustConfig (`--trust-config`).
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// Largest trust file read: trusted roots, client trust configs and signing
/// configs (real ones are a few kilobytes).
pub(crate) const MAX_TRUST_FILE_BYTES: u64 = 4 << 20;

/// A Fulcio certificate authority: its certificates and when it was trusted.
pub(crate) struct FulcioCa {
    pub(crate) certificates: Vec<Certificate>,
    pub(crate) valid_for: Option<TimeRange>,
}

/// A set of trusted Sigstore services, ready to verify with.
pub struct TrustRoot {
    origin: String,
    pub(crate) root: TrustedRoot,
    pub(crate) verifier: sigstore_verify::Verifier,
    pub(crate) fulcio: Vec<FulcioCa>,
}

impl std::fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustRoot")
            .field("origin", &self.origin)
            .field("tlogs", &self.root.tlogs.len())
            .field("certificate_authorities", &self.fulcio.len())
            .field("ctlogs", &self.root.ctlogs.len())
            .field(
                "timestamp_authorities",
                &self.root.timestamp_authorities.len(),
            )
            .finish()
    }
}

fn invalid(origin: &str, detail: impl Into<String>) -> SigstoreError {
    SigstoreError::TrustRoot {
        origin: origin.to_owned(),
        detail: detail.into(),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, SigstoreError> {
    let io = |source| SigstoreError::Io {
        path: path.to_owned(),
        source,
    };
    let too_large = |size: Option<u64>| {
        let size = size.map(|n| format!(" of {n} bytes")).unwrap_or_default();
        invalid(
            &path.display().to_string(),
            format!("file{size} is larger than the {MAX_TRUST_FILE_BYTES} bytes accepted"),
        )
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.len() > MAX_TRUST_FILE_BYTES {
        return Err(too_large(Some(meta.len())));
    }
    // Read through the bound as well: a FIFO or a device reports no size, and
    // a file may grow after its size was read.
    match model_signing::limits::read_bounded(file, MAX_TRUST_FILE_BYTES, meta.len()).map_err(io)? {
        Some(mut bytes) => Ok(std::mem::take(&mut *bytes)),
        None => Err(too_large(None)),
    }
}

fn parse_json(bytes: &[u8], origin: &str) -> Result<Value, SigstoreError> {
    model_signing::__private::parse_strict(bytes, MAX_TRUST_FILE_BYTES as usize)
        .map_err(|e| invalid(origin, e.to_string()))
}

impl TrustRoot {
    /// The Sigstore public-good production instance (embedded snapshot).
    pub fn production() -> Result<Self, SigstoreError> {
        Self::embedded(SigstoreInstance::PublicGood, "embedded production root")
    }

    /// The Sigstore public-good staging instance (embedded snapshot).
    pub fn staging() -> Result<Self, SigstoreError> {
        Self::embedded(SigstoreInstance::Staging, "embedded staging root")
    }

    fn embedded(instance: SigstoreInstance, origin: &str) -> Result<Self, SigstoreError> {
        Self::from_trusted_root_json(instance.embedded_trusted_root_json().as_bytes(), origin)
    }

    /// A `trusted_root.json` file.
    pub fn from_trusted_root_file(path: &Path) -> Result<Self, SigstoreError> {
        Self::from_trusted_root_json(&read_file(path)?, &path.display().to_string())
    }

    /// A ClientTrustConfig file (`trustedRoot` + `signingConfig`), as taken by
    /// the reference's `--trust_config`. Only the trusted root is used to verify.
    pub fn from_trust_config_file(path: &Path) -> Result<Self, SigstoreError> {
        Self::from_trust_config_json(&read_file(path)?, &path.display().to_string())
    }

    /// A ClientTrustConfig document; `origin` names it in errors.
    pub fn from_trust_config_json(bytes: &[u8], origin: &str) -> Result<Self, SigstoreError> {
        let value = parse_json(bytes, origin)?;
        let media_type = value.get("mediaType").and_then(Value::as_str);
        if media_type != Some(CLIENT_TRUST_CONFIG_MEDIA_TYPE) {
            return Err(invalid(
                origin,
                format!(
                    "not a client trust config: mediaType is {}, expected {CLIENT_TRUST_CONFIG_MEDIA_TYPE}",
                    media_type.map_or("missing".to_owned(), |m| format!("{m:?}"))
                ),
            ));
        }
        let root = value
            .get("trustedRoot")
            .ok_or_else(|| invalid(origin, "the client trust config has no trustedRoot"))?;
        Self::from_value(root, origin)
    }

    /// A trusted root document; `origin` names it in errors.
    pub fn from_trusted_root_json(bytes: &[u8], origin: &str) -> Result<Self, SigstoreError> {
        Self::from_value(&parse_json(bytes, origin)?, origin)
    }

    fn from_value(value: &Value, origin: &str) -> Result<Self, SigstoreError> {
        let media_type = value.get("mediaType").and_then(Value::as_str);
        if !media_type.is_some_and(|m| TRUSTED_ROOT_MEDIA_TYPES.contains(&m)) {
            return Err(invalid(
                origin,
                format!(
                    "not a trusted root: mediaType is {}",
                    media_type.map_or("missing".to_owned(), |m| format!("{m:?}"))
                ),
            ));
        }
        let root = TrustedRoot::from_json(&value.to_string())
            .map_err(|e| invalid(origin, e.to_string()))?;
        let verifier = sigstore_verify::Verifier::new(&root).map_err(|e| {
            let SigstoreError::Rejected { detail, .. } = from_sigstore(e) else {
                return invalid(origin, "unusable trusted root");
            };
            invalid(origin, detail)
        })?;
        let mut fulcio = Vec::with_capacity(root.certificate_authorities.len());
        for ca in &root.certificate_authorities {
            let mut certificates = Vec::with_capacity(ca.cert_chain.certificates.len());
            for entry in &ca.cert_chain.certificates {
                certificates.push(Certificate::from_der(entry.raw_bytes.as_bytes()).map_err(
                    |e| invalid(origin, format!("certificate authority {}: {e}", ca.uri)),
                )?);
            }
            fulcio.push(FulcioCa {
                certificates,
                valid_for: ca.valid_for,
            });
        }
        Ok(TrustRoot {
            origin: origin.to_owned(),
            root,
            verifier,
            fulcio,
        })
    }

    /// Where the trust material came from (a path, or `embedded production root`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether the instance has a transparency log. Bundles from an instance
    /// without one (GitHub's private instance) carry no log entry and must
    /// carry an RFC 3161 timestamp instead.
    pub fn has_transparency_log(&self) -> bool {
        !self.root.tlogs.is_empty()
    }

    /// Whether the instance has a certificate transparency log. Certificates
    /// of an instance without one carry no SCT, and none is required.
    pub fn has_ct_log(&self) -> bool {
        !self.root.ctlogs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_load() {
        let prod = TrustRoot::production().expect("production");
        assert!(prod.has_transparency_log());
        assert!(!prod.fulcio.is_empty());
        TrustRoot::staging().expect("staging");
    }

    #[test]
    fn rejects_wrong_documents() {
        assert!(matches!(
            TrustRoot::from_trusted_root_json(b"{\"mediaType\": \"x\"}", "t"),
            Err(SigstoreError::TrustRoot { .. })
        ));
        assert!(matches!(
            TrustRoot::from_trust_config_json(
                SigstoreInstance::PublicGood
                    .embedded_trusted_root_json()
                    .as_bytes(),
                "t"
            ),
            Err(SigstoreError::TrustRoot { .. })
        ));
        assert!(TrustRoot::from_trusted_root_json(b"not json", "t").is_err());
        let dup = br#"{"mediaType": "a", "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#;
        assert!(TrustRoot::from_trusted_root_json(dup, "t").is_err());
    }
}

//! OCI image manifests, image indexes and descriptors, read with bounds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::reference::is_sha256_digest;
use crate::OciError;

/// The OCI image manifest media type.
pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI image index media type.
pub const IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker's image manifest (schema 2).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker's manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The empty descriptor's media type (`{}`), the config of artifacts.
pub const EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";
/// The digest of `{}`.
pub const EMPTY_JSON_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// The media types asked for when fetching a manifest.
pub const ACCEPTED_MANIFESTS: [&str; 4] = [
    IMAGE_MANIFEST,
    IMAGE_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

/// Largest manifest or index read: 4 MiB, the limit of the CNCF
/// distribution registry (and of most others).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Most layers of one model manifest.
pub const MAX_LAYERS: usize = 65_536;

/// `org.opencontainers.image.title`: a layer's file name (ORAS).
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
/// `org.cncf.model.filepath`: a layer's path in the model (CNCF ModelPack).
pub const ANNOTATION_FILEPATH: &str = "org.cncf.model.filepath";

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the content.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// The artifact type of a manifest in an index (referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform of a manifest in an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

impl Descriptor {
    /// The hex part of the digest.
    pub fn hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }
}

/// The platform of an image index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// e.g. `amd64`.
    pub architecture: String,
    /// e.g. `linux`.
    pub os: String,
    /// e.g. `v8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest media type (optional in documents, but then the one the
    /// registry reported must be an image manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, in order.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index (or Docker manifest list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A manifest as fetched: its bytes (which its digest covers) and media type.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
    /// The media type the registry (or layout index) gave, if any.
    pub media_type: Option<String>,
}

impl Fetched {
    /// Wraps bytes read from somewhere, computing their digest; refuses
    /// more than [`MAX_MANIFEST_BYTES`] and, when `expected` is given, bytes
    /// whose digest differs.
    pub fn new(
        bytes: Vec<u8>,
        media_type: Option<String>,
        expected: Option<&str>,
        what: &str,
    ) -> Result<Self, OciError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(OciError::TooLarge {
                what: what.to_owned(),
                limit: MAX_MANIFEST_BYTES as u64,
            });
        }
        let digest = sha256_digest(&bytes);
        if let Some(want) = expected {
            if want != digest {
                return Err(OciError::DigestMismatch {
                    what: what.to_owned(),
                    expected: want.to_owned(),
                    actual: digest,
                });
            }
        }
        Ok(Fetched {
            bytes,
            digest,
            media_type,
        })
    }

    /// The descriptor of this manifest, with the media type it declares.
    pub fn descriptor(&self, media_type: &str) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: self.digest.clone(),
            size: self.bytes.len() as u64,
            artifact_type: None,
            annotations: BTreeMap::new(),
            platform: None,
        }
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A parsed manifest.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// An image manifest, with the media type it has.
    Manifest(Box<ImageManifest>, String),
    /// An image index.
    Index(ImageIndex),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    schema_version: Option<u32>,
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    config: Option<serde_json::Value>,
}

/// Parses a fetched manifest, deciding between manifest and index by its
/// `mediaType` (else the one the registry gave, else its fields).
pub fn parse_manifest(fetched: &Fetched, what: &str) -> Result<Parsed, OciError> {
    let malformed = |reason: String| OciError::Malformed {
        what: what.to_owned(),
        reason,
    };
    let probe: Probe = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| malformed(format!("not a JSON manifest: {e}")))?;
    if probe.schema_version != Some(2) {
        return Err(malformed(format!(
            "schemaVersion is {}, expected 2",
            probe
                .schema_version
                .map_or_else(|| "missing".to_owned(), |v| v.to_string())
        )));
    }
    let media_type = probe
        .media_type
        .clone()
        .or_else(|| fetched.media_type.clone())
        .unwrap_or_else(|| {
            if probe.manifests.is_some() && probe.config.is_none() {
                IMAGE_INDEX.to_owned()
            } else {
                IMAGE_MANIFEST.to_owned()
            }
        });
    if let (Some(declared), Some(served)) = (&probe.media_type, &fetched.media_type) {
        let served = served.split(';').next().unwrap_or("").trim();
        if declared != served && ACCEPTED_MANIFESTS.contains(&served) {
            return Err(malformed(format!(
                "the registry served it as {served} but it declares {declared}"
            )));
        }
    }
    match media_type.as_str() {
        IMAGE_MANIFEST | DOCKER_MANIFEST => {
            let m: ImageManifest = serde_json::from_slice(&fetched.bytes)
                .map_err(|e| malformed(format!("invalid image manifest: {e}")))?;
            check_descriptor(&m.config, "config", what)?;
            if m.layers.len() > MAX_LAYERS {
                return Err(malformed(format!(
                    "{} layers, more than the {MAX_LAYERS} allowed",
                    m.layers.len()
                )));
            }
            for (i, l) in m.layers.iter().enumerate() {
                check_descriptor(l, &format!("layer {i}"), what)?;
            }
            if let Some(s) = &m.subject {
                check_descriptor(s, "subject", what)?;
            }
            Ok(Parsed::Manifest(Box::new(m), media_type))
        }
        IMAGE_INDEX | DOCKER_MANIFEST_LIST => {
            let i: ImageIndex = serde_json::from_slice(&fetched.bytes)
                .map_err(|e| malformed(format!("invalid image index: {e}")))?;
            for (n, d) in i.manifests.iter().enumerate() {
                check_descriptor(d, &format!("manifest {n}"), what)?;
            }
            Ok(Parsed::Index(i))
        }
        other => Err(OciError::UnsupportedMediaType {
            what: what.to_owned(),
            media_type: other.to_owned(),
            expected: ACCEPTED_MANIFESTS.join(", "),
        }),
    }
}

fn check_descriptor(d: &Descriptor, which: &str, what: &str) -> Result<(), OciError> {
    if !is_sha256_digest(&d.digest) {
        return Err(OciError::Malformed {
            what: what.to_owned(),
            reason: format!(
                "the {which} digest {:?} is not sha256: with 64 lowercase hex digits (other digest algorithms are not supported)",
                d.digest
            ),
        });
    }
    if d.media_type.is_empty() || d.media_type.len() > 255 {
        return Err(OciError::Malformed {
            what: what.to_owned(),
            reason: format!("the {which} has no valid media type"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(v: &serde_json::Value, served: Option<&str>) -> Fetched {
        Fetched::new(
            serde_json::to_vec(v).expect("json"),
            served.map(str::to_owned),
            None,
            "m",
        )
        .expect("fetched")
    }

    fn layer(digest: &str) -> serde_json::Value {
        serde_json::json!({"mediaType": "application/octet-stream", "digest": digest, "size": 1})
    }

    fn good() -> serde_json::Value {
        let d = format!("sha256:{}", "a".repeat(64));
        serde_json::json!({
            "schemaVersion": 2,
            "mediaType": IMAGE_MANIFEST,
            "config": {"mediaType": EMPTY_JSON, "digest": EMPTY_JSON_DIGEST, "size": 2},
            "layers": [layer(&d)],
        })
    }

    #[test]
    fn parses_a_manifest_and_an_index() {
        let Ok(Parsed::Manifest(m, mt)) = parse_manifest(&fetched(&good(), None), "m") else {
            panic!("not a manifest")
        };
        assert_eq!(mt, IMAGE_MANIFEST);
        assert_eq!(m.layers.len(), 1);
        let idx = serde_json::json!({"schemaVersion": 2, "manifests": []});
        assert!(matches!(
            parse_manifest(&fetched(&idx, None), "m"),
            Ok(Parsed::Index(_))
        ));
        assert_eq!(sha256_digest(b"{}"), EMPTY_JSON_DIGEST);
    }

    #[test]
    fn refuses_malformed_manifests() {
        let mut cases: Vec<(serde_json::Value, Option<&str>, &str)> = Vec::new();
        let mut v = good();
        v["schemaVersion"] = 1.into();
        cases.push((v, None, "schemaVersion is 1"));
        let mut v = good();
        v["mediaType"] = "application/x-foo".into();
        cases.push((v, None, "application/x-foo"));
        let mut v = good();
        v["layers"][0]["digest"] = "sha512:00".into();
        cases.push((v, None, "other digest algorithms"));
        let mut v = good();
        v["layers"][0]["digest"] = format!("sha256:{}", "A".repeat(64)).into();
        cases.push((v, None, "layer 0 digest"));
        let mut v = good();
        v["config"]["digest"] = "".into();
        cases.push((v, None, "config digest"));
        let mut v = good();
        v["layers"][0]["size"] = (-1).into();
        cases.push((v, None, "invalid image manifest"));
        let mut v = good();
        v["layers"][0]["mediaType"] = "".into();
        cases.push((v, None, "no valid media type"));
        let v = good();
        cases.push((v, Some(IMAGE_INDEX), "served it as"));
        let mut v = good();
        v.as_object_mut().expect("object").remove("config");
        cases.push((v, None, "invalid image manifest"));
        cases.push((serde_json::json!([1, 2]), None, "not a JSON manifest"));
        for (v, served, why) in cases {
            let e = parse_manifest(&fetched(&v, served), "m")
                .err()
                .unwrap_or_else(|| panic!("accepted {v}"))
                .to_string();
            assert!(e.contains(why), "{v}: {e}");
        }
    }

    #[test]
    fn bounds_and_digests() {
        let big = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(matches!(
            Fetched::new(big, None, None, "m"),
            Err(OciError::TooLarge { .. })
        ));
        let e = Fetched::new(
            b"{}".to_vec(),
            None,
            Some(&format!("sha256:{}", "0".repeat(64))),
            "m",
        );
        assert!(matches!(e, Err(OciError::DigestMismatch { .. })));
    }
}

//! Signatures stored as OCI referrers of the model manifest.
//!
//! A signature is an image manifest with `artifactType` the Sigstore
//! bundle media type, the empty config (`{}`), one layer holding the bundle
//! JSON, and `subject` the model manifest's descriptor. It is pushed by
//! digest; a registry with the Referrers API lists it itself, and for one
//! without, the referrers tag schema is kept: an image index under the tag
//! `sha256-<hex of the model manifest digest>` listing the referrers.
//!
//! Reading is bounded: of the referrers that may be signatures (image
//! manifests whose artifact type is a Sigstore bundle's, or not given; the
//! others are passed over), at most [`MAX_REFERRERS`] are read, each manifest within [`crate::oci::MAX_MANIFEST_BYTES`] and each bundle
//! within [`MAX_SIGNATURE_BYTES`].

use std::collections::BTreeMap;
use std::io::Read;

use model_signing::bundle::KNOWN_MEDIA_TYPES;
use model_signing::hashing::NoProgress;
use serde_json::json;

use crate::artifact::DigestingReader;
use crate::oci::{
    self, Descriptor, Fetched, ImageIndex, ImageManifest, Parsed, EMPTY_JSON, EMPTY_JSON_DIGEST,
    IMAGE_INDEX, IMAGE_MANIFEST,
};
use crate::{OciError, Store, Target};

/// Most referrers read when searching for signatures (after the ones of
/// other artifact types are passed over).
pub const MAX_REFERRERS: usize = 64;
/// Largest signature read from a registry: the limit on bundle files.
pub const MAX_SIGNATURE_BYTES: u64 = model_signing::limits::MAX_BUNDLE_BYTES as u64;

/// Where a pushed signature went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The signature manifest's digest.
    pub digest: String,
    /// `None` when the store lists referrers itself; else the tag of the
    /// referrers index that lists it.
    pub tag: Option<String>,
}

/// The tag of the referrers tag schema for `subject`.
pub fn referrers_tag(subject: &Descriptor) -> String {
    subject.digest.replace(':', "-")
}

/// Pushes `bundle` (JSON of media type `media_type`) as a referrer of
/// `subject`.
pub fn push_signature(
    store: &dyn Store,
    subject: &Descriptor,
    bundle: &[u8],
    media_type: &str,
) -> Result<Pushed, OciError> {
    let bundle_digest = oci::sha256_digest(bundle);
    store.push_blob(b"{}", EMPTY_JSON_DIGEST)?;
    store.push_blob(bundle, &bundle_digest)?;
    let subject_json = json!({
        "mediaType": subject.media_type,
        "digest": subject.digest,
        "size": subject.size,
    });
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": IMAGE_MANIFEST,
        "artifactType": media_type,
        "config": {"mediaType": EMPTY_JSON, "digest": EMPTY_JSON_DIGEST, "size": 2},
        "layers": [{"mediaType": media_type, "digest": bundle_digest, "size": bundle.len()}],
        "subject": subject_json,
        "annotations": {"dev.sigstore.bundle.predicateType": model_signing::statement::PREDICATE_TYPE},
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| OciError::Malformed {
        what: "signature manifest".into(),
        reason: e.to_string(),
    })?;
    let digest = oci::sha256_digest(&bytes);
    store.push_manifest(&bytes, IMAGE_MANIFEST, &Target::Digest(digest.clone()))?;
    if store.has_referrers_api(subject)? {
        return Ok(Pushed { digest, tag: None });
    }
    let tag = referrers_tag(subject);
    let mut index = match store.fetch_manifest(&Target::Tag(tag.clone())) {
        Ok(f) => match oci::parse_manifest(&f, &format!("referrers index {tag}"))? {
            Parsed::Index(i) => i,
            Parsed::Manifest(..) => {
                return Err(OciError::Malformed {
                    what: format!("the referrers tag {tag}"),
                    reason: "it names an image manifest, not an image index".into(),
                })
            }
        },
        Err(OciError::NotFound { .. }) => ImageIndex {
            schema_version: 2,
            media_type: Some(IMAGE_INDEX.to_owned()),
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
        },
        Err(e) => return Err(e),
    };
    if !index.manifests.iter().any(|m| m.digest == digest) {
        let mut annotations = BTreeMap::new();
        annotations.insert(
            "dev.sigstore.bundle.predicateType".to_owned(),
            model_signing::statement::PREDICATE_TYPE.to_owned(),
        );
        index.manifests.push(Descriptor {
            media_type: IMAGE_MANIFEST.to_owned(),
            digest: digest.clone(),
            size: bytes.len() as u64,
            artifact_type: Some(media_type.to_owned()),
            annotations,
            platform: None,
        });
        index.media_type = Some(IMAGE_INDEX.to_owned());
        let body = serde_json::to_vec(&index).map_err(|e| OciError::Malformed {
            what: "referrers index".into(),
            reason: e.to_string(),
        })?;
        Fetched::new(body.clone(), None, None, "referrers index")?;
        store.push_manifest(&body, IMAGE_INDEX, &Target::Tag(tag.clone()))?;
    }
    Ok(Pushed {
        digest,
        tag: Some(tag),
    })
}

/// A signature found among the referrers.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The signature manifest's digest.
    pub digest: String,
    /// The bundle's bytes.
    pub bundle: Vec<u8>,
}

/// The signatures among the referrers of `subject`, and why any referrer
/// that claims to be one was not read.
pub fn find_signatures(
    store: &dyn Store,
    subject: &Descriptor,
) -> Result<(Vec<Candidate>, Vec<String>), OciError> {
    let listed = store.referrers(subject)?;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    // Other referrers (SBOMs, attestations of other kinds) are passed over
    // first, so that they cannot push the signatures out of the number read.
    let signatures = listed.iter().filter(|d| {
        d.media_type == IMAGE_MANIFEST
            && d.artifact_type
                .as_ref()
                .is_none_or(|t| KNOWN_MEDIA_TYPES.contains(&t.as_str()))
    });
    for d in signatures.take(MAX_REFERRERS) {
        match read_candidate(store, subject, d) {
            Ok(Some(c)) => found.push(c),
            Ok(None) => {}
            Err(e) => skipped.push(format!("{}: {e}", d.digest)),
        }
    }
    Ok((found, skipped))
}

/// Whether `m` is a signature manifest (its artifact type, else its
/// config's media type, is a Sigstore bundle's).
pub fn is_signature_manifest(m: &ImageManifest) -> bool {
    let artifact = m.artifact_type.as_deref().unwrap_or(&m.config.media_type);
    KNOWN_MEDIA_TYPES.contains(&artifact)
}

/// The bundle a signature manifest holds (for `inspect` of a signature
/// named by its own reference).
pub fn read_bundle(
    store: &dyn Store,
    digest: &str,
    m: &ImageManifest,
) -> Result<Vec<u8>, OciError> {
    let what = format!("signature manifest {digest}");
    if !is_signature_manifest(m) {
        return Err(OciError::Malformed {
            what,
            reason: "not a signature (its artifact type is not a Sigstore bundle's)".into(),
        });
    }
    bundle_layer(store, &what, m)
}

fn read_candidate(
    store: &dyn Store,
    subject: &Descriptor,
    d: &Descriptor,
) -> Result<Option<Candidate>, OciError> {
    let fetched = store.fetch_manifest(&Target::Digest(d.digest.clone()))?;
    let what = format!("signature manifest {}", d.digest);
    let Parsed::Manifest(m, _) = oci::parse_manifest(&fetched, &what)? else {
        return Ok(None);
    };
    if !is_signature_manifest(&m) {
        return Ok(None);
    }
    if m.subject.as_ref().map(|s| s.digest.as_str()) != Some(subject.digest.as_str()) {
        return Err(OciError::Malformed {
            what,
            reason: format!(
                "it is listed as a referrer of {} but its subject is another manifest",
                subject.digest
            ),
        });
    }
    let bundle = bundle_layer(store, &what, &m)?;
    Ok(Some(Candidate {
        digest: d.digest.clone(),
        bundle,
    }))
}

fn bundle_layer(store: &dyn Store, what: &str, m: &ImageManifest) -> Result<Vec<u8>, OciError> {
    let layer = match m.layers.as_slice() {
        [one] if KNOWN_MEDIA_TYPES.contains(&one.media_type.as_str()) => one,
        _ => {
            return Err(OciError::Malformed {
                what: what.to_owned(),
                reason: "a signature manifest has exactly one layer, the bundle".into(),
            })
        }
    };
    if layer.size > MAX_SIGNATURE_BYTES {
        return Err(OciError::TooLarge {
            what: format!("the bundle of {what}"),
            limit: MAX_SIGNATURE_BYTES,
        });
    }
    let progress = NoProgress;
    let mut r = DigestingReader::open(store, layer, what, &progress)?;
    let mut bundle = Vec::new();
    r.read_to_end(&mut bundle).map_err(|e| r.error(e))?;
    r.finish()?;
    Ok(bundle)
}

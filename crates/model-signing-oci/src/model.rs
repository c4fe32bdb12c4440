//! Signing and verifying an OCI model: the decisions the command line
//! makes with its default flags, as library calls.
//!
//! - [`hash_model`]: the OMS manifest of an artifact.
//! - [`sign_model`]: that manifest signed; store the bundle with
//!   [`crate::referrers::push_signature`] or in a file.
//! - [`find_signature`]: the model's signatures among its referrers, each
//!   verified in turn; the first that verifies is used.
//! - [`check_model`]: the verified signature's resources compared with the
//!   artifact's, read as the signature was made ([`LayerChoice::Auto`]).

use model_signing::bundle::Bundle;
use model_signing::hashing::{HashConfig, Progress};
use model_signing::sign::{sign_manifest, BundleSigner, SignError};
use model_signing::statement::SignedManifest;
use model_signing::verify::{
    verify_bundle, ModelCheckOptions, SignatureVerifier, Verified, VerifiedModel, VerifyError,
};
use model_signing::Manifest;

use crate::artifact::{hash_artifact, Artifact, LayerMode, OciManifestHash, CONFIG_RESOURCE};
use crate::oci::{ANNOTATION_FILEPATH, ANNOTATION_TITLE};
use crate::referrers::{find_signatures, MAX_REFERRERS};
use crate::{OciError, Store, Target};

/// The manifest of `artifact` under `config`, named `model_name`, and what
/// reading it cost.
pub fn hash_model(
    store: &dyn Store,
    artifact: &Artifact,
    model_name: String,
    config: &HashConfig,
    mode: LayerMode,
    progress: &dyn Progress,
) -> Result<(Manifest, OciManifestHash), OciError> {
    let hashed = hash_artifact(store, artifact, config, mode, false, progress)?;
    let manifest = Manifest::from_digests(model_name, config, hashed.digests.clone());
    Ok((manifest, hashed))
}

/// Why signing an OCI model failed.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)]
pub enum SignModelError {
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Hashes and signs `artifact`: the bundle and the manifest it signs. The
/// model name is the repository's last component (a layout: its folder).
pub fn sign_model(
    store: &dyn Store,
    artifact: &Artifact,
    config: &HashConfig,
    mode: LayerMode,
    signer: &dyn BundleSigner,
    progress: &dyn Progress,
) -> Result<(Bundle, Manifest), SignModelError> {
    let (manifest, _) = hash_model(
        store,
        artifact,
        artifact.reference.model_name(),
        config,
        mode,
        progress,
    )?;
    let bundle = sign_manifest(&manifest, signer)?;
    Ok((bundle, manifest))
}

/// The signature chosen among an OCI model's referrers.
#[derive(Debug)]
pub struct FoundSignature {
    /// The signature manifest's digest.
    pub digest: String,
    /// Its bundle, when it parsed.
    pub bundle: Option<Bundle>,
    /// The outcome of verifying it: the first signature that verified, else
    /// the first failure.
    pub verified: Result<Verified<SignedManifest>, VerifyError>,
    /// How many signatures the referrers held (at most [`MAX_REFERRERS`]).
    pub count: usize,
    /// The other signatures tried that did not verify, and why.
    pub others_failed: Vec<(String, String)>,
    /// Referrers that claim to be signatures but could not be read.
    pub skipped: Vec<String>,
}

/// Finds the signatures of `artifact` among its referrers and verifies
/// them with `verifier` in turn; the first that verifies is used. No
/// signature at all is [`OciError::NoSignature`].
pub fn find_signature(
    store: &dyn Store,
    artifact: &Artifact,
    verifier: &dyn SignatureVerifier,
) -> Result<FoundSignature, OciError> {
    let (candidates, skipped) = find_signatures(store, &artifact.descriptor)?;
    if candidates.is_empty() {
        return Err(OciError::NoSignature {
            reference: artifact.reference.to_string(),
            reason: format!(
                "none of its referrers is a signature (at most {MAX_REFERRERS} are looked at{}); sign it, or give the signature with --signature",
                if skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} could not be read", skipped.len())
                }
            ),
        });
    }
    let count = candidates.len();
    let mut failures: Vec<(String, Option<Bundle>, VerifyError)> = Vec::new();
    for c in candidates {
        let bundle = match Bundle::from_json(&c.bundle) {
            Ok(b) => b,
            Err(e) => {
                failures.push((c.digest, None, VerifyError::Bundle(e)));
                continue;
            }
        };
        match verify_bundle(&bundle, verifier) {
            Ok(v) => {
                return Ok(FoundSignature {
                    digest: c.digest,
                    bundle: Some(bundle),
                    verified: Ok(v),
                    count,
                    others_failed: failures
                        .into_iter()
                        .map(|(d, _, e)| (d, e.to_string()))
                        .collect(),
                    skipped,
                })
            }
            Err(e) => failures.push((c.digest, Some(bundle), e)),
        }
    }
    let mut failures = failures.into_iter();
    let Some((digest, bundle, first)) = failures.next() else {
        return Err(OciError::NoSignature {
            reference: artifact.reference.to_string(),
            reason: "no signature could be read".into(),
        });
    };
    Ok(FoundSignature {
        digest,
        bundle,
        verified: Err(first),
        count,
        others_failed: failures.map(|(d, _, e)| (d, e.to_string())).collect(),
        skipped,
    })
}

/// Where the signature of a verification is.
pub fn signature_reference(artifact: &Artifact, digest: &str) -> String {
    artifact
        .reference
        .with_target(Target::Digest(digest.to_owned()))
        .to_string()
}

/// How verification reads the layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerChoice {
    /// [`LayerMode::Blobs`] when the signature lists the config blob as
    /// `config.json` with its digest (only that mode signs the config) and
    /// no layer names itself two ways (a title and another
    /// `org.cncf.model.filepath`: blobs mode would take the title, a files
    /// reader the path, so the artifact could pick the reading), else
    /// [`LayerMode::Files`].
    #[default]
    Auto,
    /// This mode.
    Mode(LayerMode),
}

/// The mode `choice` gives for a signature of `artifact`.
pub fn layer_mode(choice: LayerChoice, signed: &SignedManifest, artifact: &Artifact) -> LayerMode {
    match choice {
        LayerChoice::Mode(m) => m,
        LayerChoice::Auto => {
            let config_hex = artifact.manifest.config.hex();
            let lists_config = signed
                .manifest
                .resources
                .iter()
                .any(|r| r.name == CONFIG_RESOURCE && hex::encode(&r.digest) == config_hex);
            let named_two_ways = artifact.manifest.layers.iter().any(|l| {
                matches!(
                    (l.annotations.get(ANNOTATION_TITLE), l.annotations.get(ANNOTATION_FILEPATH)),
                    (Some(t), Some(p)) if t != p
                )
            });
            if lists_config && !named_two_ways {
                LayerMode::Blobs
            } else {
                LayerMode::Files
            }
        }
    }
}

/// Why an OCI model did not verify.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)]
pub enum CheckModelError {
    /// The artifact could not be read (or its bytes do not match its digests).
    #[error(transparent)]
    Oci(#[from] OciError),
    /// The artifact does not match the signature.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// Compares `artifact` with a verified signature: its resources are read
/// as `choice` says, with the signature's hashing parameters and ignore
/// paths plus those of `options`; `deep` streams and checks every blob.
pub fn check_model(
    store: &dyn Store,
    artifact: &Artifact,
    verified: Verified<SignedManifest>,
    choice: LayerChoice,
    deep: bool,
    options: &ModelCheckOptions,
    progress: &dyn Progress,
) -> Result<VerifiedModel, CheckModelError> {
    let mode = layer_mode(choice, verified.value(), artifact);
    let config = verified.hash_config(options)?;
    let hashed = hash_artifact(store, artifact, &config, mode, deep, progress)?;
    Ok(verified.check_resources(&hashed.digests, &hashed.left_out, options)?)
}

//! OCI models (`oci://`, `oci-layout://`) for `digest`, `sign` and `verify`:
//! a thin layer over `model-signing-oci`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use model_signing::bundle::Bundle;
use model_signing::hashing::{HashConfig, RelPath};
use model_signing::sign::{check_writable, sign_manifest, write_atomic, BundleSigner};
use model_signing::statement::SignedManifest;
use model_signing::text::escape;
use model_signing::verify::{
    verify_bundle, ModelCheckOptions, SignatureVerifier, Verified, VerifiedModel,
};
use model_signing::Manifest;
use model_signing_oci::artifact::{self, Artifact, LayerMode};
use model_signing_oci::model::{self, CheckModelError, LayerChoice};
use model_signing_oci::referrers::{self, push_signature};
use model_signing_oci::{OciRef, RegistryOptions, Store};

use crate::cli::{
    HashingArgs, OciArgs, OciLayersArg, OciVerifyArgs, OciVerifyLayersArg, SignCommon,
};
use crate::exit::UsageError;
use crate::printer::Printer;

/// Refuses an OCI model for a command that takes models on disk only.
pub fn on_disk_only(model: &Path, command: &str) -> anyhow::Result<()> {
    if parse(model)?.is_some() {
        return Err(UsageError(format!(
            "{command} takes a model on disk or hf://ORG/NAME; for an OCI model ({}), verify it with a method (verify key|certificate|sigstore), or run {command} on its unpacked directory",
            model.display()
        ))
        .into());
    }
    Ok(())
}

/// The OCI reference `model` names, if it has an OCI scheme.
pub fn parse(model: &Path) -> anyhow::Result<Option<OciRef>> {
    let Some(s) = model.to_str() else {
        return Ok(None);
    };
    Ok(model_signing_oci::parse(s)?)
}

fn open(reference: &OciRef, args: &OciArgs) -> anyhow::Result<Box<dyn Store>> {
    let options = RegistryOptions {
        ca_files: args.registry_ca.clone(),
        insecure: args.insecure_registry,
        credential: None,
    };
    model_signing_oci::open(reference, &options).with_context(|| format!("cannot open {reference}"))
}

fn resolve(store: &dyn Store, reference: &OciRef, args: &OciArgs) -> anyhow::Result<Artifact> {
    artifact::resolve(store, reference, args.platform.as_deref())
        .with_context(|| format!("cannot read the manifest of {reference}"))
}

fn mode(arg: OciLayersArg) -> LayerMode {
    match arg {
        OciLayersArg::Files => LayerMode::Files,
        OciLayersArg::Blobs => LayerMode::Blobs,
    }
}

/// The hashing configuration of the flags; ignore paths are paths inside
/// the model as the layers give them.
fn hash_config(args: &HashingArgs, printer: &Printer) -> anyhow::Result<HashConfig> {
    if args.allow_symlinks {
        printer.warn(
            "--allow-symlinks has no effect on OCI models: archive layers may not hold links",
        );
    }
    let config = super::hashing::base_config(args, printer)?;
    let mut rel = Vec::new();
    for p in &args.ignore_paths {
        rel.push(ignore_path(p)?);
    }
    Ok(config.ignore_rel_paths(rel))
}

fn ignore_path(p: &Path) -> anyhow::Result<RelPath> {
    let s = p
        .to_str()
        .ok_or_else(|| UsageError(format!("ignore path {} is not UTF-8", p.display())))?;
    Ok(RelPath::parse(s.trim_start_matches("./"))?)
}

/// `digest oci://...`.
pub fn digest(
    reference: &OciRef,
    hashing: &HashingArgs,
    oci: &crate::cli::OciSignArgs,
    printer: &Printer,
) -> anyhow::Result<Manifest> {
    let (manifest, _, _) = hash(reference, hashing, oci, printer)?;
    Ok(manifest)
}

fn hash(
    reference: &OciRef,
    hashing: &HashingArgs,
    oci: &crate::cli::OciSignArgs,
    printer: &Printer,
) -> anyhow::Result<(Manifest, Artifact, Box<dyn Store>)> {
    let config = hash_config(hashing, printer)?;
    let store = open(reference, &oci.source)?;
    let artifact = resolve(store.as_ref(), reference, &oci.source)?;
    printer.verbose(&format!(
        "{} is manifest {} ({} layers, {} manifest bytes read)",
        reference,
        artifact.descriptor.digest,
        artifact.manifest.layers.len(),
        artifact.manifest_bytes
    ));
    let progress = printer.hashing_progress("hashing");
    let (manifest, hashed) = model::hash_model(
        store.as_ref(),
        &artifact,
        reference.model_name(),
        &config,
        mode(oci.oci_layers),
        &progress,
    )
    .with_context(|| format!("cannot hash model {reference}"))?;
    printer.verbose(&format!(
        "read {} blobs ({} bytes)",
        hashed.blobs_read, hashed.blob_bytes_read
    ));
    for p in &hashed.left_out {
        printer.verbose(&format!("left out {}", escape(p)));
    }
    Ok((manifest, artifact, store))
}

/// `sign ... oci://...`: the signature, the manifest and where the
/// signature went (a file, or the referrer pushed).
pub fn sign(
    common: &SignCommon,
    reference: &OciRef,
    signer: &dyn BundleSigner,
    printer: &Printer,
) -> anyhow::Result<(Bundle, Manifest, String)> {
    if common.incremental {
        return Err(UsageError(
            "--incremental applies to models on disk, not to OCI models".into(),
        )
        .into());
    }
    if let Some(file) = &common.signature {
        check_writable(file)?;
    }
    let (manifest, artifact, store) = hash(reference, &common.hashing, &common.oci, printer)?;
    let bundle = sign_manifest(&manifest, signer)
        .with_context(|| format!("cannot sign model {reference}"))?;
    let json = bundle.to_json();
    if let Some(file) = &common.signature {
        write_atomic(file, json.as_bytes())?;
        return Ok((bundle, manifest, file.display().to_string()));
    }
    let pushed = push_signature(
        store.as_ref(),
        &artifact.descriptor,
        json.as_bytes(),
        &bundle.media_type,
    )
    .with_context(|| format!("cannot store the signature of {reference}"))?;
    let at = reference.with_target(model_signing_oci::Target::Digest(pushed.digest.clone()));
    match &pushed.tag {
        None => printer.info(&format!(
            "signature stored as a referrer of {} (listed by the Referrers API)",
            artifact.descriptor.digest
        )),
        Some(tag) => printer.info(&format!(
            "signature stored as a referrer of {}, listed in the referrers tag {tag} (the registry has no Referrers API)",
            artifact.descriptor.digest
        )),
    }
    Ok((bundle, manifest, at.to_string()))
}

/// Finds and verifies the signature of an OCI model, then compares the
/// model: the steps of `verify` for `oci://` and `oci-layout://`.
pub struct OciCheck {
    store: Box<dyn Store>,
    artifact: Artifact,
    /// Where the signature used came from.
    pub signature: PathBuf,
}

impl OciCheck {
    /// Opens the model and finds its signature: `--signature FILE`, else
    /// each referrer that is a signature, verified in turn; the first that
    /// verifies is used.
    pub fn find(
        reference: &OciRef,
        signature: Option<&Path>,
        oci: &OciVerifyArgs,
        verifier: &dyn SignatureVerifier,
        printer: &Printer,
    ) -> anyhow::Result<(
        Self,
        Option<Bundle>,
        anyhow::Result<Verified<SignedManifest>>,
    )> {
        let store = open(reference, &oci.source)?;
        let artifact = resolve(store.as_ref(), reference, &oci.source)?;
        if let Some(file) = signature {
            let bundle = super::verify::read_bundle(file)?;
            let verified = verify_bundle(&bundle, verifier)
                .with_context(|| format!("verification of {} failed", file.display()));
            return Ok((
                OciCheck {
                    store,
                    artifact,
                    signature: file.to_path_buf(),
                },
                Some(bundle),
                verified,
            ));
        }
        let found = model::find_signature(store.as_ref(), &artifact, verifier)
            .with_context(|| format!("cannot find the signature of {}", artifact.reference))?;
        for sk in &found.skipped {
            printer.warn(&format!("skipping a referrer: {}", escape(sk)));
        }
        let at = model::signature_reference(&artifact, &found.digest);
        for (d, why) in &found.others_failed {
            printer.warn(&format!(
                "signature {} did not verify: {}",
                escape(&model::signature_reference(&artifact, d)),
                escape(why)
            ));
        }
        let verified = match found.verified {
            Ok(v) => {
                if found.count > 1 {
                    printer.info(&format!(
                        "using signature {at}, one of {} signatures of the model",
                        found.count
                    ));
                }
                Ok(v)
            }
            Err(e) => {
                let mut err = anyhow::Error::new(e).context(format!("verification of {at} failed"));
                if found.count > 1 {
                    err = err.context(format!(
                        "none of the {} signatures of the model verified",
                        found.count
                    ));
                }
                Err(err)
            }
        };
        Ok((
            OciCheck {
                store,
                artifact,
                signature: PathBuf::from(at),
            },
            found.bundle,
            verified,
        ))
    }

    /// Compares the model with the verified signature.
    pub fn compare(
        &self,
        verified: Verified<SignedManifest>,
        oci: &OciVerifyArgs,
        options: &ModelCheckOptions,
        printer: &Printer,
    ) -> Result<VerifiedModel, anyhow::Error> {
        let choice = match oci.oci_layers {
            OciVerifyLayersArg::Auto => LayerChoice::Auto,
            OciVerifyLayersArg::Files => LayerChoice::Mode(LayerMode::Files),
            OciVerifyLayersArg::Blobs => LayerChoice::Mode(LayerMode::Blobs),
        };
        printer.verbose(&format!(
            "reading the layers as {}",
            model::layer_mode(choice, verified.value(), &self.artifact).name()
        ));
        let progress = printer.hashing_progress("verifying");
        model::check_model(
            self.store.as_ref(),
            &self.artifact,
            verified,
            choice,
            oci.deep,
            options,
            &progress,
        )
        .map_err(|e| match e {
            CheckModelError::Verify(v) => anyhow::Error::new(v),
            CheckModelError::Oci(o) => anyhow::Error::new(o)
                .context(format!("cannot verify model {}", self.artifact.reference)),
        })
    }
}

/// The signature `inspect` shows for an OCI reference: the signature
/// manifest it names, else the model's first signature among its
/// referrers. Returns where it is and the bundle; nothing is verified.
pub fn inspect_signature(
    reference: &OciRef,
    args: &OciArgs,
    printer: &Printer,
) -> anyhow::Result<(String, Bundle)> {
    let store = open(reference, args)?;
    let artifact = resolve(store.as_ref(), reference, args)?;
    let (digest, bytes) = if referrers::is_signature_manifest(&artifact.manifest) {
        let d = artifact.descriptor.digest.clone();
        let b = referrers::read_bundle(store.as_ref(), &d, &artifact.manifest)
            .with_context(|| format!("cannot read the signature {reference}"))?;
        (d, b)
    } else {
        let (candidates, skipped) =
            referrers::find_signatures(store.as_ref(), &artifact.descriptor)
                .with_context(|| format!("cannot list the signatures of {}", artifact.reference))?;
        for sk in &skipped {
            printer.warn(&format!("skipping a referrer: {}", escape(sk)));
        }
        let mut candidates = candidates.into_iter();
        let Some(first) = candidates.next() else {
            return Err(model_signing_oci::OciError::NoSignature {
                reference: artifact.reference.to_string(),
                reason: "none of its referrers is a signature".into(),
            }
            .into());
        };
        let others: Vec<String> = candidates
            .map(|c| model::signature_reference(&artifact, &c.digest))
            .collect();
        if !others.is_empty() {
            printer.info(&format!(
                "{} more signatures of the model; inspect one by its reference: {}",
                others.len(),
                others.join(", ")
            ));
        }
        (first.digest, first.bundle)
    };
    let at = model::signature_reference(&artifact, &digest);
    let bundle = Bundle::from_json(&bytes)
        .map_err(model_signing::verify::VerifyError::Bundle)
        .with_context(|| format!("invalid signature {at}"))?;
    Ok((at, bundle))
}

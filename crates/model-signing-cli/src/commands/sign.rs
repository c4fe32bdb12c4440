//! `model-signing sign key|certificate`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use model_signing::hashing::{Incremental, IncrementalReport};
use model_signing::sign::{
    self, check_writable, sign_model_to, sign_model_to_incremental, write_atomic, BundleSigner,
    CertificateSigner, KeySigner, TimestampingSigner,
};
use model_signing::timestamp::{bundle_timestamps, Timestamp, Timestamper};
use model_signing_sigstore::HttpTimestamper;

use crate::cli::{
    AttestCommand, AttestCommon, CertificateMethodArgs, KeyMethodArgs, SignCommand, SignCommon,
};
use model_signing::bundle::{Bundle, VerificationMaterial};
use model_signing::verify::Signer;
use model_signing::x509::{Certificate, ChainGap};
use model_signing::Manifest;
use serde::Serialize;

use crate::commands::report::{HashingJson, SignerJson, JSON_VERSION};
use crate::commands::{hashing, keyload};
use crate::exit;
use crate::hf;
use crate::paths;
use crate::printer::Printer;

pub fn run(cmd: SignCommand, printer: &Printer) -> anyhow::Result<u8> {
    match cmd {
        SignCommand::Sigstore(args) => super::sigstore_sign::sign(args, printer),
        SignCommand::Key(args) => key(args, printer),
        SignCommand::Certificate(args) => certificate(args, printer),
        SignCommand::Pkcs11Key(args) => super::pkcs11::key(args, printer),
        SignCommand::Pkcs11Certificate(args) => super::pkcs11::certificate(args, printer),
    }
}

/// `model-signing attest METHOD ...`: every signing method, signing a claim.
pub fn attest(cmd: AttestCommand, printer: &Printer) -> anyhow::Result<u8> {
    match cmd {
        AttestCommand::Sigstore(args) => super::sigstore_sign::sign(args, printer),
        AttestCommand::Key(args) => key(args, printer),
        AttestCommand::Certificate(args) => certificate(args, printer),
        AttestCommand::Pkcs11Key(args) => super::pkcs11::key(args, printer),
        AttestCommand::Pkcs11Certificate(args) => super::pkcs11::certificate(args, printer),
    }
}

/// What a signing method signs: a model (`sign`) or a claim about one
/// (`attest`). The methods build the signer; this does the rest.
pub trait Signs: clap::Args {
    /// Signs with `signer`, adding a timestamp from each of `tsa_urls`,
    /// writes the result and reports it.
    fn sign_with(
        &self,
        signer: &dyn BundleSigner,
        tsa_urls: &[String],
        printer: &Printer,
    ) -> anyhow::Result<u8>;
}

impl Signs for SignCommon {
    fn sign_with(
        &self,
        signer: &dyn BundleSigner,
        tsa_urls: &[String],
        printer: &Printer,
    ) -> anyhow::Result<u8> {
        sign_with(self, signer, tsa_urls, printer)
    }
}

impl Signs for AttestCommon {
    fn sign_with(
        &self,
        signer: &dyn BundleSigner,
        tsa_urls: &[String],
        printer: &Printer,
    ) -> anyhow::Result<u8> {
        super::attest::attest_with(self, signer, tsa_urls, printer)
    }
}

/// A timestamper for each `--tsa-url`.
pub(super) fn timestampers(tsa_urls: &[String]) -> anyhow::Result<Vec<Box<dyn Timestamper>>> {
    let mut timestampers: Vec<Box<dyn Timestamper>> = Vec::with_capacity(tsa_urls.len());
    for url in tsa_urls {
        let timestamper =
            HttpTimestamper::new(url).map_err(|e| exit::UsageError(format!("--tsa-url: {e}")))?;
        timestampers.push(Box::new(timestamper));
    }
    Ok(timestampers)
}

fn key<C: Signs>(args: KeyMethodArgs<C>, printer: &Printer) -> anyhow::Result<u8> {
    let key = keyload::private_key(&args.private_key, &args.password, printer)?;
    let signer = KeySigner::new(Box::new(key))?;
    args.common.sign_with(&signer, &args.tsa.tsa_url, printer)
}

fn certificate<C: Signs>(args: CertificateMethodArgs<C>, printer: &Printer) -> anyhow::Result<u8> {
    let key = keyload::private_key(&args.private_key, &args.password, printer)?;
    let mut leaf = keyload::certificates(&args.signing_certificate)?;
    if leaf.len() != 1 {
        return Err(exit::UsageError(format!(
            "{} holds {} certificates; --signing-certificate takes exactly one (put the others in --certificate-chain)",
            args.signing_certificate.display(),
            leaf.len()
        ))
        .into());
    }
    let leaf = leaf.remove(0);
    let mut chain = Vec::new();
    for path in &args.certificate_chain {
        chain.extend(keyload::certificates(path)?);
    }
    warn_about_chain(&leaf, &chain, printer);
    let signer =
        CertificateSigner::new(Box::new(key), leaf, chain, sign::now()).with_context(|| {
            format!(
                "cannot sign with the private key {} and the certificate {}",
                args.private_key.display(),
                args.signing_certificate.display()
            )
        })?;
    args.common.sign_with(&signer, &args.tsa.tsa_url, printer)
}

#[derive(Serialize)]
struct SignJson {
    version: u32,
    model: String,
    signature: String,
    digest: String,
    resources: usize,
    hashing: HashingJson,
    /// The same object as `verify --json`'s `signer`; for a certificate,
    /// `path` is the chain the signature carries (sign validates no path).
    signer: Option<SignerJson>,
    /// The RFC 3161 timestamps added (`--tsa-url`), in order.
    timestamps: Vec<TimestampJson>,
    /// With `--incremental`, what was hashed and reused (else `null`).
    incremental: Option<IncrementalJson>,
}

/// What `--incremental` did, for `--json`.
#[derive(Serialize)]
struct IncrementalJson {
    files_hashed: usize,
    bytes_hashed: u64,
    files_reused: usize,
    bytes_reused: u64,
    /// The state record read and replaced (`null` without a cache directory).
    record: Option<String>,
    /// Why the record was not used or not saved.
    notes: Vec<String>,
}

impl From<&IncrementalReport> for IncrementalJson {
    fn from(r: &IncrementalReport) -> Self {
        IncrementalJson {
            files_hashed: r.files_hashed,
            bytes_hashed: r.bytes_hashed,
            files_reused: r.files_reused,
            bytes_reused: r.bytes_reused,
            record: r.record.as_ref().map(|p| p.display().to_string()),
            notes: r.notes.clone(),
        }
    }
}

/// A timestamp the new signature carries, for `--json`.
#[derive(Serialize)]
struct TimestampJson {
    /// The `--tsa-url` it came from.
    authority: String,
    /// Its time, RFC 3339 (as the authority says; verifiers check it).
    time: String,
}

/// Signs the model of `common` with `signer`, adding a timestamp from each
/// of `tsa_urls`, and writes the signature.
pub(super) fn sign_with(
    common: &SignCommon,
    signer: &dyn BundleSigner,
    tsa_urls: &[String],
    printer: &Printer,
) -> anyhow::Result<u8> {
    let stamped = TimestampingSigner::new(signer, timestampers(tsa_urls)?);
    let signer: &dyn BundleSigner = &stamped;
    if let Some(reference) = super::oci::parse(&common.model)? {
        let (bundle, manifest, destination) =
            super::oci::sign(common, &reference, signer, printer)?;
        return report_signed(
            common,
            signer,
            tsa_urls,
            &bundle,
            &manifest,
            &destination,
            None,
            printer,
        );
    }
    let signature = common
        .signature
        .clone()
        .unwrap_or_else(|| PathBuf::from("model.sig"));
    let model = hf::resolve_model(&common.model)?;
    // The signature file is left out of the model when it lies inside it.
    let mut extra = Vec::new();
    if let Ok(root) = paths::model_root(&model) {
        if let Ok(sig) = paths::resolve(&signature) {
            if let Some(rel) = paths::inside(&root, &sig) {
                extra.push(rel);
            }
        }
    }
    let config = hashing::config(&common.hashing, &model, extra, printer)?;
    check_writable(&signature)?;
    let progress = printer.hashing_progress("hashing");
    let (bundle, manifest, incremental) = if common.incremental {
        let state = Incremental::in_cache_dir();
        sign_model_to_incremental(&model, &config, signer, &progress, &signature, &state)
            .map(|(b, m, r)| (b, m, Some(r)))
    } else {
        sign_model_to(&model, &config, signer, &progress, &signature).map(|(b, m)| (b, m, None))
    }
    .with_context(|| format!("cannot sign model {}", common.model.display()))?;
    if let Some(report) = &incremental {
        for note in &report.notes {
            printer.info(&format!("incremental: {note}"));
        }
    }
    warn_if_replacing_another_model(&signature, &manifest.model_name, printer);
    write_atomic(&signature, bundle.to_json().as_bytes())?;
    report_signed(
        common,
        signer,
        tsa_urls,
        &bundle,
        &manifest,
        &signature.display().to_string(),
        incremental.as_ref(),
        printer,
    )
}

/// Prints what was signed and where the signature went.
#[allow(clippy::too_many_arguments)]
fn report_signed(
    common: &SignCommon,
    signer: &dyn BundleSigner,
    tsa_urls: &[String],
    bundle: &Bundle,
    manifest: &Manifest,
    destination: &str,
    incremental: Option<&IncrementalReport>,
    printer: &Printer,
) -> anyhow::Result<u8> {
    // The timestamps were checked when they came; read back their times.
    let timestamps: Vec<TimestampJson> = bundle_timestamps(bundle)
        .unwrap_or_default()
        .iter()
        .zip(tsa_urls)
        .filter_map(|(der, url)| {
            let token = Timestamp::from_der(der, "timestamp").ok()?;
            Some(TimestampJson {
                authority: url.clone(),
                time: model_signing::text::rfc3339(token.time()),
            })
        })
        .collect();
    if common.json {
        let signer = signer
            .signer()
            .or_else(|| sigstore_signer(&bundle.material))
            .as_ref()
            .map(SignerJson::from);
        let doc = SignJson {
            version: JSON_VERSION,
            model: common.model.display().to_string(),
            signature: destination.to_owned(),
            digest: format!("sha256:{}", manifest.root_digest_hex()),
            resources: manifest.resources.len(),
            hashing: HashingJson::from(&manifest.serialization),
            signer,
            timestamps,
            incremental: incremental.map(IncrementalJson::from),
        };
        printer.out_json(&doc)?;
        return Ok(exit::SUCCESS);
    }
    printer.out(&format!(
        "Signed {} ({}, sha256:{}) -> {}",
        model_signing::text::escape_path(&common.model),
        super::verify::count(manifest.resources.len(), "resource", "resources"),
        manifest.root_digest_hex(),
        model_signing::text::escape(destination)
    ));
    if let Some(r) = incremental {
        printer.info(&format!(
            "incremental: hashed {} ({}), reused the digests of {} ({})",
            super::verify::count(r.files_hashed, "file", "files"),
            super::verify::count(
                usize::try_from(r.bytes_hashed).unwrap_or(usize::MAX),
                "byte",
                "bytes"
            ),
            super::verify::count(r.files_reused, "file", "files"),
            super::verify::count(
                usize::try_from(r.bytes_reused).unwrap_or(usize::MAX),
                "byte",
                "bytes"
            ),
        ));
    }
    for t in &timestamps {
        printer.info(&format!(
            "timestamped at {} by {}",
            t.time,
            model_signing::text::escape(&t.authority)
        ));
    }
    Ok(exit::SUCCESS)
}

/// Warns when the certificates the signature will carry cannot be linked
/// up to a root by a verifier that trusts only the root: the signing
/// certificate alone, issued by another, or certificates given with
/// `--certificate-chain` that are not on its chain.
pub(super) fn warn_about_chain(leaf: &Certificate, chain: &[Certificate], printer: &Printer) {
    match model_signing::x509::chain_gap(leaf, chain) {
        None => {}
        Some(ChainGap::LeafOnly { subject, issuer }) => printer.warn(&format!(
            "the signature will carry only the signing certificate {subject}, issued by {issuer}: verifiers must trust {issuer} itself. If {issuer} is an intermediate CA, pass its certificate (and any between it and the root) with --certificate-chain, or verifiers that trust only the root will fail"
        )),
        Some(ChainGap::Unlinked {
            subject,
            top,
            top_issuer,
        }) => printer.warn(&format!(
            "the certificate {subject} given with --certificate-chain is not on the chain of the signing certificate, which goes up to {top}, issued by {top_issuer}: check that the chain belongs to this signing certificate"
        )),
    }
}

/// Warns when `signature` holds a signature of a model with another name:
/// signing two models from one folder with the default `./model.sig` would
/// otherwise replace the first signature silently.
fn warn_if_replacing_another_model(signature: &Path, model_name: &str, printer: &Printer) {
    if !signature.is_file() {
        return;
    }
    let Ok(old) = super::verify::read_bundle(signature) else {
        return;
    };
    let Ok(old) = model_signing::statement::parse_statement(
        &old.envelope.payload_type,
        &old.envelope.payload,
    ) else {
        return;
    };
    if old.manifest.model_name != model_name {
        printer.warn(&format!(
            "replacing {}, a signature of another model (`{}`, sha256:{}); this one signs `{}`",
            model_signing::text::escape_path(signature),
            model_signing::text::escape(&old.manifest.model_name),
            old.root_digest,
            model_signing::text::escape(model_name)
        ));
    }
}

/// Who signed a Sigstore signature: the identity and issuer of the
/// certificate Fulcio issued for it.
pub(super) fn sigstore_signer(material: &VerificationMaterial) -> Option<Signer> {
    let VerificationMaterial::Certificate(der) = material else {
        return None;
    };
    let leaf = Certificate::from_der(der).ok()?;
    Some(Signer::Sigstore {
        identity: leaf.subject_alt_names().join(", "),
        issuer: model_signing_sigstore::oidc_issuer(&leaf)
            .ok()
            .flatten()
            .unwrap_or_default(),
    })
}

//! `model-signing verify key|certificate|sigstore`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use model_signing::bundle::{Bundle, VerificationMaterial};
use model_signing::claims::{self, ClaimReport};
use model_signing::hashing::HashError;
use model_signing::statement::SignedManifest;
use model_signing::text::{escape, escape_path};
use model_signing::timestamp::TimestampAuthority;
use model_signing::verify::{
    verify_bundle, CertificateVerifier, DiffReport, KeyVerifier, LeftOut, LeftOutReason,
    ModelCheckOptions, SignatureVerifier, Signer, Verified, VerifiedModel, VerifyError,
};
use model_signing::JsonError;
use serde::Serialize;

use crate::cli::{VerifyCertificateArgs, VerifyCommand, VerifyCommon, VerifyKeyArgs};
use crate::commands::keyload;
use crate::commands::report::{
    error_message, DifferencesJson, ErrorJson, HashingJson, SignerJson, JSON_VERSION,
};
use crate::exit;
use crate::hf;
use crate::paths;
use crate::printer::Printer;

/// The model as hashed: a `hf://` reference resolved, else as given.
fn model_path(common: &VerifyCommon) -> PathBuf {
    hf::resolve_model(&common.model).unwrap_or_else(|_| common.model.clone())
}

/// Hugging Face download metadata, which signatures of the reference do not cover.
const HF_METADATA: &str = ".cache/huggingface/";

/// A path verification left out, and why.
#[derive(Serialize)]
struct LeftOutJson<'a> {
    path: &'a str,
    reason: &'static str,
}

/// How many entries of each difference group are printed.
const SHOWN: usize = 20;

pub fn run(args: crate::cli::VerifyArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Some(cmd) = args.method else {
        return super::gate::verify(args.policy, printer);
    };
    match cmd {
        VerifyCommand::Key(args) => key(args, printer),
        VerifyCommand::Certificate(args) => certificate(args, printer),
        VerifyCommand::Sigstore(args) => super::sigstore::verify(args, printer),
    }
}

fn key(args: VerifyKeyArgs, printer: &Printer) -> anyhow::Result<u8> {
    let key = match keyload::public_key(&args.public_key) {
        Ok(key) => key,
        Err(e) => return setup_failed(&args.common, e, printer),
    };
    let authorities = match timestamp_authorities(&args.tsa_certificate_chain) {
        Ok(a) => a,
        Err(e) => return setup_failed(&args.common, e, printer),
    };
    verify_with(
        &args.common,
        &KeyVerifier::new(key).with_timestamp_authorities(authorities),
        Vec::new(),
        false,
        printer,
    )
}

/// One trusted timestamp authority per `--tsa-certificate-chain` file.
fn timestamp_authorities(files: &[PathBuf]) -> anyhow::Result<Vec<TimestampAuthority>> {
    let mut authorities = Vec::with_capacity(files.len());
    for path in files {
        let certs = keyload::certificates(path)?;
        let authority = TimestampAuthority::new(certs).map_err(|e| {
            exit::UsageError(format!(
                "--tsa-certificate-chain {}: {e}",
                escape_path(path)
            ))
        })?;
        authorities.push(authority);
    }
    Ok(authorities)
}

fn certificate(args: VerifyCertificateArgs, printer: &Printer) -> anyhow::Result<u8> {
    let mut anchors = Vec::new();
    for path in &args.certificate_chain {
        match keyload::certificates(path) {
            Ok(certs) => anchors.extend(certs),
            Err(e) => return setup_failed(&args.common, e, printer),
        }
    }
    let authorities = match timestamp_authorities(&args.tsa_certificate_chain) {
        Ok(a) => a,
        Err(e) => return setup_failed(&args.common, e, printer),
    };
    verify_with(
        &args.common,
        &CertificateVerifier::new(anchors).with_timestamp_authorities(authorities),
        Vec::new(),
        args.log_fingerprints,
        printer,
    )
}

/// The signature file: as given, else the first that exists of
/// `model.sig` inside the model directory,
/// `./model.sig` (where `sign` writes by default), `model.sig` next to the
/// model. `model` is the resolved model path (the snapshot directory of an
/// `hf://` reference). When several distinct files exist, the first is used
/// and the others are named, so that the choice is never silent.
pub fn find_signature(
    signature: Option<&Path>,
    given: &Path,
    model: &Path,
    printer: &Printer,
) -> anyhow::Result<PathBuf> {
    if let Some(sig) = signature {
        return Ok(sig.to_path_buf());
    }
    // A mistyped model path is named as such, not as a missing signature.
    if std::fs::symlink_metadata(model).is_err() {
        return Err(VerifyError::Hash(HashError::ModelNotFound {
            path: model.to_path_buf(),
        }))
        .with_context(|| format!("cannot verify model {}", given.display()));
    }
    let candidates = signature_candidates(model);
    let mut found: Vec<(&PathBuf, PathBuf)> = Vec::new();
    for c in &candidates {
        if !c.is_file() {
            continue;
        }
        let canonical = std::fs::canonicalize(c).unwrap_or_else(|_| c.clone());
        if found.iter().all(|(_, seen)| *seen != canonical) {
            found.push((c, canonical));
        }
    }
    let Some(((first, _), others)) = found.split_first() else {
        // Exact paths: the printer escapes the message for a terminal, and
        // `--json` carries it as it is.
        return Err(exit::UsageError(format!(
            "no signature given and none found (looked for {}); pass --signature",
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into());
    };
    printer.info(&format!("using signature {}", escape_path(first)));
    for (other, _) in others {
        printer.info(&format!(
            "also found {}, not used (pass --signature to choose)",
            escape_path(other)
        ));
    }
    Ok((*first).clone())
}

/// The candidate signature paths for the resolved model path `model`, in
/// the order of the `--signature` help and the README.
fn signature_candidates(model: &Path) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if model.is_dir() {
        candidates.push(model.join("model.sig"));
    }
    candidates.push(PathBuf::from("./model.sig"));
    let parent = match model.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    candidates.push(parent.join("model.sig"));
    // One place named two ways (the model's parent is the current
    // directory) is looked at, and named, once.
    let mut seen = Vec::new();
    candidates.retain(|c| {
        let at = crate::paths::resolve(c).unwrap_or_else(|_| c.clone());
        let new = !seen.contains(&at);
        seen.push(at);
        new
    });
    candidates
}

pub fn read_bundle(path: &Path) -> anyhow::Result<Bundle> {
    use model_signing::bundle::BundleError;
    match Bundle::read(path) {
        Ok(bundle) => Ok(bundle),
        // Not the signature's content: the file could not be read at all.
        Err(e @ (BundleError::Io { .. } | BundleError::NotAFile { .. })) => {
            Err(anyhow::Error::new(e))
        }
        Err(e @ BundleError::Json(JsonError::TooLarge { .. })) => Err(VerifyError::Bundle(e))
            .with_context(|| format!("cannot read signature {}", path.display())),
        Err(e) => Err(VerifyError::Bundle(e))
            .with_context(|| format!("invalid signature file {}", path.display())),
    }
}

pub fn describe(signer: &Signer) -> String {
    match signer {
        Signer::Key { hint, algorithm } => format!("key {hint} ({algorithm})"),
        Signer::Certificate {
            subject,
            fingerprint,
            ..
        } => format!("certificate {} (sha256:{fingerprint})", escape(subject)),
        Signer::Sigstore { identity, issuer } => {
            format!("{} (issuer {})", escape(identity), escape(issuer))
        }
        _ => "unknown signer".to_owned(),
    }
}

/// `1 resource`, `2 resources`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

pub fn print_report(report: &DiffReport, printer: &Printer) {
    let mut lines = Vec::new();
    let mut group = |title: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        lines.push(format!("{title} ({}):", items.len()));
        for item in items.iter().take(SHOWN) {
            lines.push(format!("  {item}"));
        }
        if items.len() > SHOWN {
            lines.push(format!(
                "  ... and {} more (use --json for the full list)",
                items.len() - SHOWN
            ));
        }
    };
    group(
        "changed",
        report
            .changed
            .iter()
            .map(|c| {
                format!(
                    "{}  expected {}..  actual {}..",
                    escape(&c.name),
                    short(&c.expected),
                    short(&c.actual)
                )
            })
            .collect(),
    );
    group(
        "missing",
        report
            .missing
            .iter()
            .map(|n| escape(n).into_owned())
            .collect(),
    );
    group(
        "unexpected (not in the signature)",
        report
            .unexpected
            .iter()
            .map(|n| escape(n).into_owned())
            .collect(),
    );
    for l in lines {
        printer.diag(&l);
    }
}

/// What the verify steps established, kept even when a later step fails.
#[derive(Default)]
struct Outcome {
    signature: Option<PathBuf>,
    method: Option<&'static str>,
    signer: Option<Signer>,
    signed_at: Option<i64>,
    hashing: Option<HashingJson>,
    resources: usize,
    diff: Option<DiffReport>,
    unsigned_ignored: Vec<String>,
    left_out: Vec<LeftOut>,
    /// The model name and root digest the signature names.
    subject: Option<(String, String)>,
    warnings: Vec<String>,
    /// A partial verification (--files): the files named, as resource paths.
    partial: Option<Vec<String>>,
    /// The signature's resources a partial verification did not compare.
    not_checked: usize,
    /// With --claims: the claims file and the verdict on each claim.
    claims: Option<(PathBuf, Vec<ClaimReport>)>,
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    version: u32,
    verified: bool,
    model: String,
    signature: Option<String>,
    method: Option<&'static str>,
    signer: Option<SignerJson>,
    signed_at: Option<String>,
    hashing: Option<&'a HashingJson>,
    resources: usize,
    /// Whether only some files were compared (--files): the others were
    /// not checked.
    partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    files_checked: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources_not_checked: Option<usize>,
    differences: DifferencesJson,
    unsigned_ignored: &'a [String],
    left_out: Vec<LeftOutJson<'a>>,
    warnings: &'a [String],
    /// With --claims, each claim's verdict (else `null`).
    claims: Option<Vec<ClaimJson<'a>>>,
    error: Option<ErrorJson>,
}

/// One claim, for `verify --claims --json`.
#[derive(Serialize)]
struct ClaimJson<'a> {
    line: usize,
    /// `valid`, `malformed`, `signature_failed` or `other_model`.
    verdict: &'static str,
    /// Why it is not valid (`null` when it is).
    reason: Option<&'a str>,
    signer: Option<SignerJson>,
    predicate_type: Option<&'a str>,
    /// The predicate, only for a valid claim.
    predicate: Option<&'a serde_json::Value>,
}

impl<'a> From<&'a ClaimReport> for ClaimJson<'a> {
    fn from(c: &'a ClaimReport) -> Self {
        ClaimJson {
            line: c.line,
            verdict: c.verdict.as_str(),
            reason: c.verdict.reason(),
            signer: c.signer.as_ref().map(SignerJson::from),
            predicate_type: c.predicate_type.as_deref(),
            predicate: c.predicate.as_ref(),
        }
    }
}

/// The claim signers `--claim-key` and `--claim-certificate-chain` name.
fn claim_verifiers(common: &VerifyCommon) -> anyhow::Result<Vec<Box<dyn SignatureVerifier>>> {
    let mut out: Vec<Box<dyn SignatureVerifier>> = Vec::new();
    for path in &common.claim_key {
        out.push(Box::new(KeyVerifier::new(keyload::public_key(path)?)));
    }
    let mut anchors = Vec::new();
    for path in &common.claim_certificate_chain {
        anchors.extend(keyload::certificates(path)?);
    }
    if !anchors.is_empty() {
        out.push(Box::new(CertificateVerifier::new(anchors)));
    }
    Ok(out)
}

fn method_of(bundle: &Bundle) -> &'static str {
    match bundle.material {
        VerificationMaterial::PublicKey { .. } => "key",
        VerificationMaterial::X509CertificateChain(_) => "certificate",
        // The Go implementation's certificate signatures without a chain.
        VerificationMaterial::Certificate(_) if bundle.tlog_entries.is_empty() => "certificate",
        VerificationMaterial::Certificate(_) => "sigstore",
    }
}

fn run_steps(
    common: &VerifyCommon,
    verifier: &dyn SignatureVerifier,
    claim_verifiers: &[Box<dyn SignatureVerifier>],
    log_fingerprints: bool,
    printer: &Printer,
    out: &mut Outcome,
) -> anyhow::Result<()> {
    if let Some(reference) = super::oci::parse(&common.model)? {
        return run_oci_steps(
            common,
            &reference,
            verifier,
            claim_verifiers,
            log_fingerprints,
            printer,
            out,
        );
    }
    let model = hf::resolve_model(&common.model)?;
    // The files of a partial verification, checked before the signature.
    let partial = match paths::model_root(&model) {
        Ok(root) => paths::partial_files(&root, &common.files, common.files_from.as_deref())?,
        Err(_) if common.files.is_empty() && common.files_from.is_none() => None,
        Err(e) => return Err(e),
    };
    out.partial = partial
        .as_ref()
        .map(|files| files.iter().map(ToString::to_string).collect());
    let signature = find_signature(common.signature.as_deref(), &common.model, &model, printer)?;
    out.signature = Some(signature.clone());
    let bundle = read_bundle(&signature)?;
    out.method = Some(method_of(&bundle));
    let verified = verify_bundle(&bundle, verifier)
        .with_context(|| format!("verification of {} failed", signature.display()))?;
    signature_verified(common, &verified, log_fingerprints, printer, out);

    let mut options = ModelCheckOptions {
        ignore_git_paths: !common.no_ignore_git_paths,
        ignore_unsigned_files: common.ignore_unsigned_files,
        threads: common.threads,
        ..ModelCheckOptions::default()
    };
    if let Ok(root) = paths::model_root(&model) {
        for p in &common.ignore_paths {
            options
                .extra_ignore_paths
                .push(paths::ignore_path(&root, p)?);
        }
    }
    // Left out by the library when it lies inside the model, with the
    // temporary files a concurrent signer writes beside it.
    options.signature_path = Some(signature.clone());
    options.claims_path = common.claims.clone();
    if common.allow_symlinks && !verified.value().manifest.serialization.allow_symlinks {
        out.warnings.push(
            "--allow-symlinks is ignored: the signature was made without following symbolic links, and verification follows the signature"
                .into(),
        );
    }

    let progress = printer.hashing_progress("verifying");
    if let Some(files) = partial {
        return match verified.check_files(&model, &files, &options, &progress) {
            Ok(ok) => {
                out.resources = ok.resources_checked;
                out.not_checked = ok.resources_not_checked;
                out.partial = Some(ok.files_checked);
                Ok(())
            }
            Err(VerifyError::ModelMismatch(report)) => {
                out.diff = Some((*report).clone());
                Err(VerifyError::ModelMismatch(report))
                    .with_context(|| format!("verification of {} failed", common.model.display()))
            }
            Err(e) => {
                Err(e).with_context(|| format!("cannot verify model {}", common.model.display()))
            }
        };
    }
    match verified.check_model(&model, &options, &progress) {
        Ok(ok) => model_verified(common, verifier, claim_verifiers, &ok, out),
        Err(VerifyError::ModelMismatch(report)) => {
            out.unsigned_ignored = report.unsigned_ignored.clone();
            out.left_out = report.left_out.clone();
            out.diff = Some((*report).clone());
            Err(VerifyError::ModelMismatch(report))
                .with_context(|| format!("verification of {} failed", common.model.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot verify model {}", common.model.display())),
    }
}

/// Records what a verified signature says.
fn signature_verified(
    common: &VerifyCommon,
    verified: &Verified<SignedManifest>,
    log_fingerprints: bool,
    printer: &Printer,
    out: &mut Outcome,
) {
    out.warnings
        .extend(verified.check().warnings.iter().cloned());
    out.signer = Some(verified.check().signer.clone());
    out.signed_at = verified.check().signed_at;
    out.hashing = Some(HashingJson::from(&verified.value().manifest.serialization));
    out.subject = Some((
        verified.value().manifest.model_name.clone(),
        verified.value().root_digest.clone(),
    ));
    // What the signature lists, reported even when the model then fails.
    out.resources = verified.value().manifest.resources.len();
    if log_fingerprints && !common.json {
        if let Some(Signer::Certificate { path, .. }) = &out.signer {
            for (subject, fp) in path {
                printer.diag(&format!("certificate {}: sha256:{fp}", escape(subject)));
            }
        }
    }
}

/// Records a model that matched its signature, and checks its claims.
fn model_verified(
    common: &VerifyCommon,
    verifier: &dyn SignatureVerifier,
    claim_verifiers: &[Box<dyn SignatureVerifier>],
    ok: &VerifiedModel,
    out: &mut Outcome,
) -> anyhow::Result<()> {
    out.resources = ok.resources_checked;
    out.unsigned_ignored = ok.unsigned_ignored.clone();
    out.left_out = ok.left_out.clone();
    let Some(path) = &common.claims else {
        return Ok(());
    };
    let lines = claims::read_claims(path)?;
    let mut trusted: Vec<&dyn SignatureVerifier> = vec![verifier];
    trusted.extend(claim_verifiers.iter().map(|v| v.as_ref()));
    let reports = claims::verify_claims(ok, &lines, &trusted);
    let invalid = reports.iter().filter(|r| !r.is_valid()).count();
    let total = reports.len();
    out.claims = Some((path.clone(), reports));
    if invalid > 0 {
        return Err(exit::ClaimsInvalid {
            invalid,
            total,
            path: path.clone(),
        }
        .into());
    }
    Ok(())
}

/// [`run_steps`] for an OCI model: the signature from `--signature` or
/// the model's referrers, the model read from its manifest and blobs.
fn run_oci_steps(
    common: &VerifyCommon,
    reference: &model_signing_oci::OciRef,
    verifier: &dyn SignatureVerifier,
    claim_verifiers: &[Box<dyn SignatureVerifier>],
    log_fingerprints: bool,
    printer: &Printer,
    out: &mut Outcome,
) -> anyhow::Result<()> {
    if !common.files.is_empty() || common.files_from.is_some() {
        return Err(exit::UsageError(
            "--files and --files-from apply to models on disk, not to OCI models".into(),
        )
        .into());
    }
    let (check, bundle, verified) = super::oci::OciCheck::find(
        reference,
        common.signature.as_deref(),
        &common.oci,
        verifier,
        printer,
    )?;
    out.signature = Some(check.signature.clone());
    if let Some(b) = &bundle {
        out.method = Some(method_of(b));
    }
    let verified = verified?;
    signature_verified(common, &verified, log_fingerprints, printer, out);
    let mut options = ModelCheckOptions {
        ignore_git_paths: !common.no_ignore_git_paths,
        ignore_unsigned_files: common.ignore_unsigned_files,
        threads: common.threads,
        ..ModelCheckOptions::default()
    };
    for p in &common.ignore_paths {
        let s = p
            .to_str()
            .ok_or_else(|| exit::UsageError(format!("ignore path {} is not UTF-8", p.display())))?;
        options
            .extra_ignore_paths
            .push(model_signing::hashing::RelPath::parse(
                s.trim_start_matches("./"),
            )?);
    }
    match check.compare(verified, &common.oci, &options, printer) {
        Ok(ok) => model_verified(common, verifier, claim_verifiers, &ok, out),
        Err(e) => {
            if let Some(VerifyError::ModelMismatch(report)) = e.downcast_ref::<VerifyError>() {
                out.unsigned_ignored = report.unsigned_ignored.clone();
                out.left_out = report.left_out.clone();
                out.diff = Some((**report).clone());
                return Err(e.context(format!("verification of {reference} failed")));
            }
            Err(e)
        }
    }
}

/// The verify flow shared by every method: find and read the signature,
/// check it with `verifier`, compare the model, print the outcome.
pub fn verify_with(
    common: &VerifyCommon,
    verifier: &dyn SignatureVerifier,
    mut extra_claim_verifiers: Vec<Box<dyn SignatureVerifier>>,
    log_fingerprints: bool,
    printer: &Printer,
) -> anyhow::Result<u8> {
    match claim_verifiers(common) {
        Ok(v) => extra_claim_verifiers.extend(v),
        Err(e) => return setup_failed(common, e, printer),
    }
    let mut out = Outcome::default();
    let result = run_steps(
        common,
        verifier,
        &extra_claim_verifiers,
        log_fingerprints,
        printer,
        &mut out,
    );
    let code = match &result {
        Ok(()) => exit::SUCCESS,
        Err(e) => exit::code_for(e),
    };
    if common.json {
        print_json(common, &out, &result, printer)?;
        return Ok(code);
    }

    for w in &out.warnings {
        printer.warn(w);
    }
    let left_out: Vec<String> = out
        .left_out
        .iter()
        .filter(|l| l.reason != LeftOutReason::Unsigned)
        .map(|l| format!("{}  ({})", escape(&l.path), l.reason.describe()))
        .collect();
    if !left_out.is_empty() {
        printer.info(&format!("left out ({}):", left_out.len()));
        for l in left_out.iter().take(SHOWN) {
            printer.info(&format!("  {l}"));
        }
        if left_out.len() > SHOWN {
            printer.info(&format!(
                "  ... and {} more (use --json for the full list)",
                left_out.len() - SHOWN
            ));
        }
    }
    if !out.unsigned_ignored.is_empty() {
        printer.diag(&format!(
            "skipped {} unsigned file(s):",
            out.unsigned_ignored.len()
        ));
        for f in out.unsigned_ignored.iter().take(SHOWN) {
            printer.diag(&format!("  {}", escape(f)));
        }
        if out.unsigned_ignored.len() > SHOWN {
            printer.diag(&format!(
                "  ... and {} more (use --json for the full list)",
                out.unsigned_ignored.len() - SHOWN
            ));
        }
    }
    if let Some((path, reports)) = &out.claims {
        print_claims(path, reports, printer);
    }
    match result {
        Ok(()) => {
            let signature = out.signature.as_deref().unwrap_or(Path::new("model.sig"));
            let signer = out.signer.as_ref().map(describe).unwrap_or_default();
            if let Some(files) = &out.partial {
                printer.out(&format!(
                    "Partial verification succeeded: {} of {} match {} ({}), signed by {}",
                    count(files.len(), "file", "files"),
                    escape_path(&common.model),
                    escape_path(signature),
                    count(out.resources, "resource", "resources"),
                    signer
                ));
                printer.out(&format!(
                    "NOT checked: the other {} the signature lists (and any file it does not list)",
                    count(out.not_checked, "resource", "resources"),
                ));
            } else {
                printer.out(&format!(
                    "Verification succeeded: {} matches {} ({}), signed by {}",
                    escape_path(&common.model),
                    escape_path(signature),
                    count(out.resources, "resource", "resources"),
                    signer
                ));
            }
            if let Some(time) = out.signed_at {
                printer.info(&format!(
                    "signed at {} (a verified {})",
                    model_signing::text::rfc3339(time),
                    if out.method == Some("sigstore") {
                        "transparency log entry or timestamp"
                    } else {
                        "RFC 3161 timestamp"
                    }
                ));
            }
            Ok(exit::SUCCESS)
        }
        Err(e) => {
            if let Some(report) = &out.diff {
                printer.error(&anyhow::anyhow!(
                    "verification failed: {} does not match its signature ({})",
                    escape_path(&common.model),
                    report.summary()
                ));
                print_report(report, printer);
                if let Some((name, digest)) = &out.subject {
                    let here = match super::oci::parse(&common.model) {
                        Ok(Some(r)) => r.model_name(),
                        _ => model_signing::manifest::model_name(&model_path(common)),
                    };
                    if *name != here {
                        printer.diag(&format!(
                            "  hint: the signature names the model `{}` (sha256:{}), and this one is `{}`: it may be the signature of another model",
                            escape(name),
                            digest,
                            escape(&here)
                        ));
                    }
                }
                if report.unexpected.iter().any(|u| u.starts_with(HF_METADATA)) {
                    printer.diag(&format!(
                        "  hint: {HF_METADATA} is the download metadata that `huggingface-cli download --local-dir` writes; the signature does not cover it. To verify the rest knowingly, leave it out with --ignore-paths {}",
                        escape_path(&common.model.join(HF_METADATA.trim_end_matches('/')))
                    ));
                }
                Ok(exit::VERIFICATION_FAILED)
            } else {
                Err(e)
            }
        }
    }
}

/// Prints the verdict on each claim: on stdout for valid ones, with the
/// reason on stderr for the others.
fn print_claims(path: &Path, reports: &[ClaimReport], printer: &Printer) {
    let valid = reports.iter().filter(|r| r.is_valid()).count();
    printer.out(&format!(
        "Claims in {}: {} valid of {}",
        escape_path(path),
        valid,
        reports.len()
    ));
    for r in reports {
        let ty = r
            .predicate_type
            .as_deref()
            .map_or_else(|| "(unread)".to_owned(), |t| escape(t).into_owned());
        let signer = r
            .signer
            .as_ref()
            .map_or_else(|| "an untrusted or unknown signer".to_owned(), describe);
        match r.verdict.reason() {
            None => printer.out(&format!(
                "  line {}: valid  {ty}, signed by {signer}",
                r.line
            )),
            Some(reason) => printer.out(&format!(
                "  line {}: NOT VALID ({})  {ty}, signed by {signer}: {}",
                r.line,
                r.verdict.as_str().replace('_', " "),
                escape(reason)
            )),
        }
    }
}

/// Prints the one JSON object of `verify --json` for `result`.
fn print_json(
    common: &VerifyCommon,
    out: &Outcome,
    result: &anyhow::Result<()>,
    printer: &Printer,
) -> anyhow::Result<()> {
    let doc = VerifyJson {
        version: JSON_VERSION,
        verified: result.is_ok(),
        model: common.model.display().to_string(),
        signature: out.signature.as_ref().map(|p| p.display().to_string()),
        method: out.method,
        signer: out.signer.as_ref().map(SignerJson::from),
        signed_at: out.signed_at.map(model_signing::text::rfc3339),
        hashing: out.hashing.as_ref(),
        resources: out.resources,
        partial: out.partial.is_some(),
        files_checked: out.partial.as_deref(),
        resources_not_checked: out.partial.as_ref().map(|_| out.not_checked),
        differences: out
            .diff
            .as_ref()
            .map(DifferencesJson::from)
            .unwrap_or_default(),
        unsigned_ignored: &out.unsigned_ignored,
        left_out: out
            .left_out
            .iter()
            .map(|l| LeftOutJson {
                path: &l.path,
                reason: l.reason.as_str(),
            })
            .collect(),
        warnings: &out.warnings,
        claims: out
            .claims
            .as_ref()
            .map(|(_, reports)| reports.iter().map(ClaimJson::from).collect()),
        error: result.as_ref().err().map(|e| ErrorJson {
            kind: exit::classify(e).kind,
            message: error_message(e),
        }),
    };
    printer.out_json(&doc)?;
    Ok(())
}

/// A failure before the signature is looked at (the trusted key, certificates
/// or trust material cannot be loaded): with `--json` it is reported in the
/// JSON object like any other failure, with the same exit code.
pub fn setup_failed(
    common: &VerifyCommon,
    err: anyhow::Error,
    printer: &Printer,
) -> anyhow::Result<u8> {
    if !common.json {
        return Err(err);
    }
    let code = exit::code_for(&err);
    print_json(common, &Outcome::default(), &Err(err), printer)?;
    Ok(code)
}

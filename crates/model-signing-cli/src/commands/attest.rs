//! `model-signing attest METHOD ...` (a signed claim about a model, bound to
//! its signature, appended to a claims file) and `model-signing predicate
//! KIND ...` (the predicates of the common claims).

use std::path::Path;

use anyhow::Context;
use model_signing::claims::{self, ClaimTarget};
use model_signing::predicates::{self, Input, InputKind, Predicate};
use model_signing::sign::{BundleSigner, TimestampingSigner};
use model_signing::statement::{parse_statement, SignedManifest};
use model_signing::verify::{check_model_unverified, ModelCheckOptions};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{AttestCommon, InputArgs, PredicateCommand, PredicateOutput};
use crate::commands::report::{SignerJson, JSON_VERSION};
use crate::exit;
use crate::hf;
use crate::printer::Printer;

/// Reads a signature and its statement, unverified: what a claim, or a
/// provenance record, names.
fn read_statement(path: &Path) -> anyhow::Result<SignedManifest> {
    let bundle = super::verify::read_bundle(path)?;
    parse_statement(&bundle.envelope.payload_type, &bundle.envelope.payload)
        .with_context(|| format!("cannot read the signature {}", path.display()))
}

/// Reads a JSON file given on the command line, within the size of a claim.
fn read_json(path: &Path, what: &str) -> anyhow::Result<Value> {
    let bytes = read_small(path, what)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        exit::UsageError(format!("{what} {} is not valid JSON: {e}", path.display())).into()
    })
}

fn read_small(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    let limit = claims::MAX_CLAIM_BYTES as u64;
    match model_signing::limits::read_bounded(file, limit, 0)
        .with_context(|| format!("cannot read {what} {}", path.display()))?
    {
        Some(bytes) => Ok(bytes.to_vec()),
        None => {
            Err(exit::UsageError(format!("{what} {} is over {limit} bytes", path.display())).into())
        }
    }
}

#[derive(Serialize)]
struct AttestJson {
    version: u32,
    model: String,
    signature: String,
    claims: String,
    /// The claim's line in the claims file.
    line: usize,
    predicate_type: String,
    subject: SubjectJson,
    signer: Option<SignerJson>,
}

#[derive(Serialize)]
struct SubjectJson {
    name: String,
    digest: String,
    statement_digest: String,
}

/// Signs the claim of `common` with `signer` and appends it to the claims
/// file, after checking that the model matches its signature.
pub fn attest_with(
    common: &AttestCommon,
    signer: &dyn BundleSigner,
    tsa_urls: &[String],
    printer: &Printer,
) -> anyhow::Result<u8> {
    let stamped = TimestampingSigner::new(signer, super::sign::timestampers(tsa_urls)?);
    let predicate = match &common.predicate_type {
        Some(predicate_type) => Predicate {
            predicate_type: predicate_type.clone(),
            predicate: read_json(&common.predicate, "the predicate")?,
        },
        None => {
            let doc = read_json(&common.predicate, "the predicate")?;
            serde_json::from_value::<Predicate>(doc).map_err(|_| {
                exit::UsageError(format!(
                    "{} is not {{\"predicateType\", \"predicate\"}} (what `model-signing predicate` writes); for a bare predicate, give its type with --predicate-type",
                    common.predicate.display()
                ))
            })?
        }
    };
    predicates::check(&predicate.predicate_type, &predicate.predicate).map_err(|e| {
        exit::UsageError(format!(
            "the predicate {} is malformed: {e}",
            common.predicate.display()
        ))
    })?;
    super::oci::on_disk_only(&common.model, "attest")?;
    let model = hf::resolve_model(&common.model)?;
    let signed = read_statement(&common.signature)?;
    // The claim vouches for this model: it must be the one the signature names.
    let options = ModelCheckOptions {
        signature_path: Some(common.signature.clone()),
        claims_path: Some(common.claims.clone()),
        ..ModelCheckOptions::default()
    };
    let progress = printer.hashing_progress("checking the model");
    check_model_unverified(&signed, &model, &options, &progress).with_context(|| {
        format!(
            "cannot attest: {} does not match its signature {} (sign it again first)",
            common.model.display(),
            common.signature.display()
        )
    })?;
    let target = ClaimTarget::of_statement(&signed);
    let bundle = claims::sign_claim(
        &target,
        &predicate.predicate_type,
        &predicate.predicate,
        &stamped,
    )
    .context("cannot sign the claim")?;
    let line = claims::append_claim(&common.claims, &bundle)?;
    if common.json {
        let signer = stamped
            .signer()
            .or_else(|| super::sign::sigstore_signer(&bundle.material));
        printer.out_json(&AttestJson {
            version: JSON_VERSION,
            model: common.model.display().to_string(),
            signature: common.signature.display().to_string(),
            claims: common.claims.display().to_string(),
            line,
            predicate_type: predicate.predicate_type.clone(),
            subject: SubjectJson {
                name: target.model_name.clone(),
                digest: format!("sha256:{}", target.root_digest),
                statement_digest: format!("sha256:{}", target.statement_digest),
            },
            signer: signer.as_ref().map(SignerJson::from),
        })?;
        return Ok(exit::SUCCESS);
    }
    printer.out(&format!(
        "Attested {} about {} (sha256:{}, signature {}) -> {} line {line}",
        model_signing::text::escape(&predicate.predicate_type),
        model_signing::text::escape_path(&common.model),
        target.root_digest,
        model_signing::text::escape_path(&common.signature),
        model_signing::text::escape_path(&common.claims),
    ));
    Ok(exit::SUCCESS)
}

fn inputs(args: &InputArgs) -> anyhow::Result<Vec<Input>> {
    let mut out = Vec::new();
    for (paths, kind) in [
        (&args.datasets, InputKind::Dataset),
        (&args.base_models, InputKind::Model),
    ] {
        for path in paths {
            out.push(Input {
                kind,
                target: ClaimTarget::of_statement(&read_statement(path)?),
            });
        }
    }
    Ok(out)
}

/// `model-signing predicate KIND ...`.
pub fn predicate(cmd: PredicateCommand, printer: &Printer) -> anyhow::Result<u8> {
    let usage = |e: predicates::PredicateError| exit::UsageError(e.to_string());
    let (predicate, output) = match cmd {
        PredicateCommand::ModelCard(args) => {
            let readme = read_small(&args.input, "the README")?;
            (predicates::model_card(&readme).map_err(usage)?, args.output)
        }
        PredicateCommand::Evaluation(args) => {
            let bytes = read_small(&args.input, "the evaluation results")?;
            let input = match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => v,
                // A README whose front matter holds a model-index.
                Err(_) => predicates::model_card(&bytes)
                    .map(|card| card.predicate["frontMatter"].clone())
                    .map_err(|_| {
                        exit::UsageError(format!(
                            "{} is neither JSON nor a README with YAML front matter",
                            args.input.display()
                        ))
                    })?,
            };
            (predicates::evaluation(&input).map_err(usage)?, args.output)
        }
        PredicateCommand::Training(args) => {
            let parameters = args
                .parameters
                .as_deref()
                .map(|p| read_json(p, "the training parameters"))
                .transpose()?;
            let predicate = predicates::training_provenance(
                &args.builder_id,
                &inputs(&args.inputs)?,
                parameters.as_ref(),
            )
            .map_err(usage)?;
            (predicate, args.output)
        }
        PredicateCommand::Cyclonedx(args) => {
            let model = ClaimTarget::of_statement(&read_statement(&args.model_signature)?);
            let card = match &args.model_card {
                Some(path) => Some(
                    predicates::model_card(&read_small(path, "the README")?)
                        .map_err(usage)?
                        .predicate,
                ),
                None => None,
            };
            let predicate = predicates::cyclonedx(&model, card.as_ref(), &inputs(&args.inputs)?)
                .map_err(usage)?;
            (predicate, args.output)
        }
    };
    write_predicate(&predicate, &output, printer)
}

fn write_predicate(
    predicate: &Predicate,
    output: &PredicateOutput,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let mut text = serde_json::to_string_pretty(predicate)?;
    text.push('\n');
    match &output.output {
        Some(path) => {
            model_signing::sign::write_atomic(path, text.as_bytes())?;
            printer.info(&format!(
                "wrote a {} predicate to {}",
                model_signing::text::escape(&predicate.predicate_type),
                model_signing::text::escape_path(path)
            ));
        }
        None => printer.out_raw(&text),
    }
    Ok(exit::SUCCESS)
}

//! `model-signing verify --policy FILE MODEL`: a deployment gate.

use std::path::{Path, PathBuf};

use anyhow::Context;
use model_signing::text::{escape, escape_path};
use model_signing::verify::ModelCheckOptions;
use model_signing_policy::gate::{decide, Decision, GateOptions, Status};
use model_signing_policy::{Index, Policy, PolicyError};
use serde::Serialize;

use crate::cli::{GateInputs, VerifyPolicyArgs};
use crate::commands::report::{
    error_message, DifferencesJson, ErrorJson, SignerJson, JSON_VERSION,
};
use crate::commands::verify::{describe, find_signature, print_report};
use crate::exit;
use crate::hf;
use crate::paths;
use crate::printer::Printer;

#[derive(Serialize)]
struct RuleJson<'a> {
    rule: &'a str,
    /// `pass`, `fail` or `skipped`.
    status: &'static str,
    detail: &'a str,
}

#[derive(Serialize)]
struct SubjectJson<'a> {
    name: &'a str,
    root_digest: &'a str,
    statement_digest: &'a str,
}

#[derive(Serialize)]
pub struct GateClaimJson<'a> {
    line: usize,
    verdict: &'static str,
    reason: Option<&'a str>,
    /// The policy's signers that verified it.
    signers: &'a [String],
    signer: Option<SignerJson>,
    predicate_type: Option<&'a str>,
}

#[derive(Serialize)]
struct GateJson<'a> {
    version: u32,
    allowed: bool,
    policy: String,
    model: String,
    signature: Option<String>,
    signer: Option<SignerJson>,
    /// The policy's names for the model's signer.
    signer_names: Option<&'a [String]>,
    subject: Option<SubjectJson<'a>>,
    rules: Vec<RuleJson<'a>>,
    differences: DifferencesJson,
    claims_file: Option<String>,
    claims: Vec<GateClaimJson<'a>>,
    error: Option<GateErrorJson>,
}

#[derive(Serialize)]
struct GateErrorJson {
    #[serde(flatten)]
    error: ErrorJson,
    /// For a policy error, the line of the policy file.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

/// Loads a policy, with the error classified for the exit code.
pub fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    Ok(Policy::load(path)?)
}

pub fn verify(args: VerifyPolicyArgs, printer: &Printer) -> anyhow::Result<u8> {
    let (Some(policy_path), Some(given)) = (args.policy.clone(), args.model.clone()) else {
        return Err(exit::UsageError(
            "give a verification method (key, certificate, sigstore), or --policy FILE and a model"
                .into(),
        )
        .into());
    };
    let result = run(&args, &policy_path, &given, printer);
    match result {
        Ok(decision) => {
            if args.json {
                print_json(&args, &policy_path, &given, Some(&decision), None, printer)?;
            } else {
                print_text(&policy_path, &given, &decision, printer);
            }
            Ok(if decision.allowed {
                exit::SUCCESS
            } else {
                exit::VERIFICATION_FAILED
            })
        }
        Err(e) if args.json => {
            let code = exit::code_for(&e);
            print_json(&args, &policy_path, &given, None, Some(&e), printer)?;
            Ok(code)
        }
        Err(e) => Err(e),
    }
}

fn run(
    args: &VerifyPolicyArgs,
    policy_path: &Path,
    given: &Path,
    printer: &Printer,
) -> anyhow::Result<Decision> {
    super::oci::on_disk_only(given, "verify --policy")?;
    let policy = load_policy(policy_path)?;
    let model = hf::resolve_model(given)?;
    let mut options = gate_options(&args.inputs, given, &model, printer)?;
    if let Ok(root) = paths::model_root(&model) {
        for p in &args.ignore_paths {
            options
                .check
                .extra_ignore_paths
                .push(paths::ignore_path(&root, p)?);
        }
    }
    if let Some(index) = &args.index {
        let index = Index::open(index, false)?;
        options.signed = index.signed_map(&policy)?;
    }
    let progress = printer.hashing_progress("verifying");
    decide(&policy, &model, &options, &progress)
        .with_context(|| format!("cannot verify model {}", given.display()))
}

fn print_text(policy: &Path, given: &Path, d: &Decision, printer: &Printer) {
    let width = d.rules.iter().map(|r| r.rule.len()).max().unwrap_or(0);
    for r in &d.rules {
        let status = match r.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Skipped => "skip",
        };
        printer.out(&format!(
            "  {status}  {:width$}  {}",
            escape(&r.rule),
            escape(&r.detail)
        ));
    }
    for c in &d.claims {
        if let Some(reason) = c.verdict.reason() {
            printer.diag(&format!(
                "claim at line {} is not valid ({}): {}",
                c.line,
                c.verdict.as_str().replace('_', " "),
                escape(reason)
            ));
        }
    }
    if let Some(report) = &d.diff {
        print_report(report, printer);
    }
    let failed = d.rules.iter().filter(|r| r.status == Status::Fail).count();
    if d.allowed {
        let signer = d
            .signer
            .as_ref()
            .map(|(s, _)| describe(s))
            .unwrap_or_default();
        printer.out(&format!(
            "Allowed by policy {}: {} ({} rules passed), signed by {signer}",
            escape_path(policy),
            escape_path(given),
            d.rules.len()
        ));
    } else {
        printer.out(&format!(
            "DENIED by policy {}: {} ({} of {} rules failed)",
            escape_path(policy),
            escape_path(given),
            failed,
            d.rules.len()
        ));
    }
}

pub fn claim_json(c: &model_signing_policy::gate::GateClaim) -> GateClaimJson<'_> {
    GateClaimJson {
        line: c.line,
        verdict: c.verdict.as_str(),
        reason: c.verdict.reason(),
        signers: &c.signers,
        signer: c.signer.as_ref().map(SignerJson::from),
        predicate_type: c.predicate_type.as_deref(),
    }
}

fn print_json(
    args: &VerifyPolicyArgs,
    policy: &Path,
    given: &Path,
    d: Option<&Decision>,
    err: Option<&anyhow::Error>,
    printer: &Printer,
) -> anyhow::Result<()> {
    let doc = GateJson {
        version: JSON_VERSION,
        allowed: d.is_some_and(|d| d.allowed),
        policy: policy.display().to_string(),
        model: given.display().to_string(),
        signature: d.map(|d| d.signature.display().to_string()).or_else(|| {
            args.inputs
                .signature
                .as_ref()
                .map(|s| s.display().to_string())
        }),
        signer: d.and_then(|d| d.signer.as_ref().map(|(s, _)| SignerJson::from(s))),
        signer_names: d.and_then(|d| d.signer.as_ref().map(|(_, n)| n.as_slice())),
        subject: d.and_then(|d| {
            d.subject.as_ref().map(|(n, r, s)| SubjectJson {
                name: n,
                root_digest: r,
                statement_digest: s,
            })
        }),
        rules: d
            .map(|d| {
                d.rules
                    .iter()
                    .map(|r| RuleJson {
                        rule: &r.rule,
                        status: r.status.as_str(),
                        detail: &r.detail,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        differences: d
            .and_then(|d| d.diff.as_ref())
            .map(DifferencesJson::from)
            .unwrap_or_default(),
        claims_file: d.and_then(|d| d.claims_file.as_ref().map(|p| p.display().to_string())),
        claims: d
            .map(|d| d.claims.iter().map(claim_json).collect())
            .unwrap_or_default(),
        error: err.map(|e| GateErrorJson {
            error: ErrorJson {
                kind: exit::classify(e).kind,
                message: error_message(e),
            },
            line: e
                .chain()
                .find_map(|c| c.downcast_ref::<PolicyError>())
                .and_then(|p| p.line),
        }),
    };
    printer.out_json(&doc)?;
    Ok(())
}

/// The options of a decision: the signature (as given, else found as
/// `verify` finds it), the claims file and the hashing threads.
pub fn gate_options(
    inputs: &GateInputs,
    given: &Path,
    model: &Path,
    printer: &Printer,
) -> anyhow::Result<GateOptions> {
    Ok(GateOptions {
        signature: find_signature(inputs.signature.as_deref(), given, model, printer)?,
        claims: inputs.claims.clone(),
        check: ModelCheckOptions {
            threads: inputs.threads,
            ..ModelCheckOptions::default()
        },
        ..GateOptions::default()
    })
}

/// The path a `--index` flag names, else the default index.
pub fn index_path(flag: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match flag {
        Some(p) => Ok(p.clone()),
        None => Index::default_path().ok_or_else(|| {
            exit::UsageError(
                "no --index given, and neither XDG_DATA_HOME nor HOME is set to find the default"
                    .into(),
            )
            .into()
        }),
    }
}

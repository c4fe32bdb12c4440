//! `model-signing verify sigstore`: trust material and identity policy from
//! the flags, then the shared verify flow.

use anyhow::Context;
use model_signing_sigstore::{IdentityPolicy, Match, SigstoreError, SigstoreVerifier, TrustRoot};

use crate::cli::VerifySigstoreArgs;
use crate::commands::verify::verify_with;
use crate::exit;
use crate::printer::Printer;

fn usage(e: SigstoreError) -> anyhow::Error {
    exit::UsageError(e.to_string()).into()
}

/// The cause of a regex parse error on one line: the parser's message spans
/// several (the pattern, a caret under the fault, then `error: CAUSE`).
fn regex_cause(detail: &str) -> String {
    match detail.lines().rev().find_map(|l| l.strip_prefix("error: ")) {
        Some(cause) => cause.trim().to_owned(),
        None => detail.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

fn matcher(exact: &Option<String>, pattern: &Option<String>, flag: &str) -> anyhow::Result<Match> {
    match (exact, pattern) {
        (Some(value), None) => Ok(Match::exact(value.clone())),
        (None, Some(pattern)) => Match::regex(pattern).map_err(|e| match e {
            SigstoreError::Pattern { pattern, detail } => exit::UsageError(format!(
                "invalid regular expression {pattern:?} for --{flag}-regexp: {}",
                regex_cause(&detail)
            ))
            .into(),
            other => usage(other),
        }),
        // clap enforces exactly one of the two.
        _ => Err(exit::UsageError(format!("give --{flag} or --{flag}-regexp")).into()),
    }
}

fn trust(args: &VerifySigstoreArgs) -> anyhow::Result<TrustRoot> {
    let root = if let Some(path) = &args.trust_config {
        TrustRoot::from_trust_config_file(path)
    } else if let Some(path) = &args.trusted_root {
        TrustRoot::from_trusted_root_file(path)
    } else if args.use_staging {
        TrustRoot::staging()
    } else {
        TrustRoot::production()
    };
    root.context("cannot load the Sigstore trust material")
}

pub fn verify(args: VerifySigstoreArgs, printer: &Printer) -> anyhow::Result<u8> {
    let verifier = match verifier(&args, printer) {
        Ok(v) => v,
        Err(e) => return super::verify::setup_failed(&args.common, e, printer),
    };
    let claim_verifiers = match claim_verifiers(&args) {
        Ok(v) => v,
        Err(e) => return super::verify::setup_failed(&args.common, e, printer),
    };
    verify_with(&args.common, &verifier, claim_verifiers, false, printer)
}

/// Sigstore claim signers: each `--claim-identity` with the
/// `--claim-identity-provider` at the same position, under the same trust
/// material as the model's signature.
fn claim_verifiers(
    args: &VerifySigstoreArgs,
) -> anyhow::Result<Vec<Box<dyn model_signing::verify::SignatureVerifier>>> {
    if args.claim_identity.len() != args.claim_identity_provider.len() {
        return Err(exit::UsageError(format!(
            "give one --claim-identity-provider per --claim-identity ({} and {} given)",
            args.claim_identity_provider.len(),
            args.claim_identity.len()
        ))
        .into());
    }
    let mut out: Vec<Box<dyn model_signing::verify::SignatureVerifier>> = Vec::new();
    for (identity, issuer) in args
        .claim_identity
        .iter()
        .zip(&args.claim_identity_provider)
    {
        let policy =
            IdentityPolicy::new(Match::exact(identity.clone()), Match::exact(issuer.clone()));
        out.push(Box::new(SigstoreVerifier::new(trust(args)?, policy)));
    }
    Ok(out)
}

/// The identity policy and trust material the flags ask for.
fn verifier(args: &VerifySigstoreArgs, printer: &Printer) -> anyhow::Result<SigstoreVerifier> {
    let mut policy = IdentityPolicy::new(
        matcher(&args.identity, &args.identity_regexp, "identity")?,
        matcher(
            &args.identity_provider,
            &args.identity_provider_regexp,
            "identity-provider",
        )?,
    );
    if let Some(repo) = &args.github_repository {
        policy = policy.github_repository(repo.clone());
    }
    if let Some(git_ref) = &args.github_ref {
        policy = policy.github_ref(git_ref.clone());
    }
    let trust = trust(args)?;
    printer.verbose(&format!("Sigstore trust material: {}", trust.origin()));
    Ok(SigstoreVerifier::new(trust, policy))
}

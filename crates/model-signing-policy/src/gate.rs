//! Deciding a deployment gate: verify a model under a policy, rule by rule.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use model_signing::bundle::Bundle;
use model_signing::claims::{self, ClaimLine, ClaimVerdict, CLAIMS_FILE_NAME};
use model_signing::hashing::Progress;
use model_signing::verify::{
    verify_bundle, DiffReport, ModelCheckOptions, SignatureVerifier, Signer, VerifiedModel,
    VerifyError,
};
use serde_json::{json, Value};

use crate::expr::Inputs;
use crate::policy::{Policy, PolicyError, Quantifier, UnsignedFiles};

/// The outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The rule holds.
    Pass,
    /// The rule does not hold: the gate denies.
    Fail,
    /// Not checked, because a rule it depends on failed (the gate denies).
    Skipped,
}

impl Status {
    /// `pass`, `fail` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
        }
    }
}

/// One rule of the decision.
#[derive(Debug, Clone)]
pub struct RuleResult {
    /// `signer`, `hashing`, `files`, or `claim:ID`.
    pub rule: String,
    /// Whether it holds.
    pub status: Status,
    /// Why.
    pub detail: String,
}

/// One claim as the gate saw it.
#[derive(Debug, Clone)]
pub struct GateClaim {
    /// Its line in the claims file.
    pub line: usize,
    /// The verdict (valid when at least one of the policy's signers made it
    /// and it is about this signature of the model).
    pub verdict: ClaimVerdict,
    /// The policy's signers that verified it (by name).
    pub signers: Vec<String>,
    /// Who signed it, when a signer verified it.
    pub signer: Option<Signer>,
    /// Its predicate type, when read.
    pub predicate_type: Option<String>,
    /// Its predicate, when valid.
    pub predicate: Option<Value>,
    /// The SHA-256 of its statement (its DSSE payload), when it is a bundle.
    pub digest: Option<String>,
}

/// What the gate decided, and everything it established on the way.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Whether every rule passed.
    pub allowed: bool,
    /// Each rule, in order: `signer`, `hashing`, `files`, then one per
    /// claim rule.
    pub rules: Vec<RuleResult>,
    /// The signature file.
    pub signature: PathBuf,
    /// Who signed the model, and the names the policy gives them.
    pub signer: Option<(Signer, Vec<String>)>,
    /// The model name, root digest and statement digest the signature names.
    pub subject: Option<(String, String, String)>,
    /// The verified model, when the signature and the files passed.
    pub model: Option<VerifiedModel>,
    /// The differences, when the files did not match.
    pub diff: Option<DiffReport>,
    /// The claims file read, and each claim.
    pub claims_file: Option<PathBuf>,
    /// Each claim of the claims file.
    pub claims: Vec<GateClaim>,
}

/// Where to find things, and how to hash.
#[derive(Debug, Clone, Default)]
pub struct GateOptions {
    /// The signature file.
    pub signature: PathBuf,
    /// The claims file; by default [`default_claims_file`].
    pub claims: Option<PathBuf>,
    /// Hashing options; `ignore_unsigned_files` is the policy's, and
    /// `signature_path` and `claims_path` are set from the fields above.
    pub check: ModelCheckOptions,
    /// Statement digests known as signed, with the names of the policy's
    /// signers that signed them (from a lineage index: `signed_by`).
    pub signed: HashMap<String, Vec<String>>,
}

/// A failure that prevents a decision: the environment, or input that
/// cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The policy.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The signature file cannot be read, or the model cannot be hashed.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The claims file cannot be read.
    #[error(transparent)]
    Claims(#[from] claims::ClaimError),
}

impl GateError {
    /// How the command line classifies it.
    pub fn kind(&self) -> model_signing::ErrorKind {
        match self {
            GateError::Policy(p) => p.kind(),
            GateError::Verify(v) => v.kind(),
            GateError::Claims(c) => c.kind(),
        }
    }
}

/// A verifier that accepts what any of the policy's signers at `indices`
/// signed, and says which (the first that verifies). Each signer's
/// verifier (a Sigstore one loads its trust material) is built once.
struct AnyOf<'a> {
    policy: &'a Policy,
    verifiers: Vec<(usize, Box<dyn SignatureVerifier>)>,
}

impl AnyOf<'_> {
    fn new<'p>(policy: &'p Policy, indices: &[usize]) -> Result<AnyOf<'p>, PolicyError> {
        let mut verifiers = Vec::new();
        for &i in indices {
            verifiers.push((i, policy.verifier(i)?));
        }
        Ok(AnyOf { policy, verifiers })
    }

    /// Adds the verifiers of every other signer of the policy.
    fn extend_to_all(&mut self) -> Result<(), PolicyError> {
        for i in 0..self.policy.signers.len() {
            if !self.verifiers.iter().any(|(j, _)| *j == i) {
                self.verifiers.push((i, self.policy.verifier(i)?));
            }
        }
        self.verifiers.sort_by_key(|(i, _)| *i);
        Ok(())
    }

    /// Every signer (of `only`, when given) that verifies `bundle`, with
    /// the check of the first.
    fn verify(
        &self,
        bundle: &Bundle,
        only: Option<&[usize]>,
    ) -> Result<(model_signing::verify::SignatureCheck, Vec<String>), String> {
        let mut first = None;
        let mut names = Vec::new();
        let mut failures = Vec::new();
        let chosen = self
            .verifiers
            .iter()
            .filter(|(i, _)| only.is_none_or(|o| o.contains(i)));
        for (i, v) in chosen {
            let name = &self.policy.signers[*i].name;
            match v.verify_signature(bundle) {
                Ok(check) if !check.legacy_pae => {
                    names.push(name.clone());
                    first.get_or_insert(check);
                }
                Ok(_) => failures.push(format!("`{name}`: signed over the legacy v0.2 encoding")),
                Err(e) => failures.push(format!("`{name}`: {}", with_causes(&e))),
            }
        }
        match first {
            Some(check) => Ok((check, names)),
            None => Err(failures.join("; ")),
        }
    }
}

/// An error with its causes, on one line.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// A one-signer verifier in the shape `verify_bundle` takes.
struct Accepted(model_signing::verify::SignatureCheck);

impl SignatureVerifier for Accepted {
    fn verify_signature(
        &self,
        _bundle: &Bundle,
    ) -> Result<model_signing::verify::SignatureCheck, VerifyError> {
        Ok(self.0.clone())
    }
}

/// A description of a signer, for messages.
pub fn describe_signer(s: &Signer) -> String {
    match s {
        Signer::Key { hint, algorithm } => format!("key {hint} ({algorithm})"),
        Signer::Certificate {
            subject,
            fingerprint,
            ..
        } => format!("certificate {subject} (sha256:{fingerprint})"),
        Signer::Sigstore { identity, issuer } => format!("{identity} (issuer {issuer})"),
        _ => "an unknown signer".to_owned(),
    }
}

fn rule(rules: &mut Vec<RuleResult>, name: &str, status: Status, detail: impl Into<String>) {
    rules.push(RuleResult {
        rule: name.to_owned(),
        status,
        detail: detail.into(),
    });
}

/// Verifies `model` under `policy`: the signature by one of the model's
/// trusted signers, the hashing parameters, the files, then every claim
/// rule. Returns the decision with each rule; an error only when no
/// decision can be made (the signature file or the model cannot be read).
pub fn decide(
    policy: &Policy,
    model: &Path,
    options: &GateOptions,
    progress: &dyn Progress,
) -> Result<Decision, GateError> {
    let bundle = Bundle::read(&options.signature).map_err(VerifyError::Bundle)?;
    let mut decision = Decision {
        allowed: false,
        rules: Vec::new(),
        signature: options.signature.clone(),
        signer: None,
        subject: None,
        model: None,
        diff: None,
        claims_file: None,
        claims: Vec::new(),
    };
    let rules = &mut decision.rules;
    let mut signers = AnyOf::new(policy, &policy.model_signers)?;
    // Marks the rules from `from` on (0: hashing, 1: files, 2: the claims)
    // as not checked.
    let skip_rest = |rules: &mut Vec<RuleResult>, from: usize, why: &str| {
        let mut names = vec!["hashing".to_owned(), "files".to_owned()];
        names.extend(policy.claims.iter().map(|c| format!("claim:{}", c.id)));
        for n in &names[from.min(names.len())..] {
            rule(rules, n, Status::Skipped, format!("not checked: {why}"));
        }
    };

    // 1. The signer.
    let verified = match signers.verify(&bundle, Some(&policy.model_signers)) {
        Err(why) => {
            rule(
                rules,
                "signer",
                Status::Fail,
                format!(
                    "not signed by a signer the policy trusts for the model ({}): {why}",
                    policy.names(&policy.model_signers)
                ),
            );
            skip_rest(rules, 0, "the signature did not verify");
            return Ok(decision);
        }
        Ok((check, names)) => {
            let signer = check.signer.clone();
            match verify_bundle(&bundle, &Accepted(check)) {
                Ok(v) => {
                    rule(
                        rules,
                        "signer",
                        Status::Pass,
                        format!(
                            "signed by {} ({})",
                            names
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            describe_signer(&signer)
                        ),
                    );
                    decision.signer = Some((signer, names));
                    v
                }
                Err(e) => {
                    rule(
                        rules,
                        "signer",
                        Status::Fail,
                        format!("the signature verified, but its statement is not valid: {e}"),
                    );
                    skip_rest(rules, 0, "the signature's statement is not valid");
                    return Ok(decision);
                }
            }
        }
    };
    let signed = verified.value();
    let (model_name, root_digest, statement_digest) = (
        signed.manifest.model_name.clone(),
        signed.root_digest.clone(),
        hex::encode(signed.statement_digest),
    );
    decision.subject = Some((
        model_name.clone(),
        root_digest.clone(),
        statement_digest.clone(),
    ));

    // 2. Hashing parameters.
    let algorithm = signed.manifest.serialization.hash_type;
    let method = signed.manifest.serialization.method.name();
    let mut hashing_ok = true;
    let mut why = Vec::new();
    if let Some(accepted) = &policy.algorithms {
        if !accepted.contains(&algorithm) {
            hashing_ok = false;
            why.push(format!(
                "the signature hashes with {}, which the policy does not accept (accepted: {})",
                algorithm.name(),
                accepted
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if let Some(accepted) = &policy.methods {
        if !accepted.iter().any(|m| m.as_str() == method) {
            hashing_ok = false;
            why.push(format!(
                "the signature uses the method {method}, which the policy does not accept (accepted: {})",
                accepted.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if hashing_ok {
        rule(
            rules,
            "hashing",
            Status::Pass,
            format!("{}, {method}", algorithm.name()),
        );
    } else {
        rule(rules, "hashing", Status::Fail, why.join("; "));
        skip_rest(rules, 1, "the hashing parameters are not accepted");
        return Ok(decision);
    }

    // 3. The files.
    let claims_file = match &options.claims {
        Some(p) => Some(p.clone()),
        None => default_claims_file(model),
    };
    let mut check = options.check.clone();
    check.ignore_unsigned_files = policy.unsigned_files == UnsignedFiles::Allow;
    check.signature_path = Some(options.signature.clone());
    check.claims_path = claims_file.clone();
    let verified_model = match verified.check_model(model, &check, progress) {
        Ok(m) => m,
        Err(VerifyError::ModelMismatch(report)) => {
            let mut detail = format!(
                "the model does not match its signature ({})",
                report.summary()
            );
            if !report.unexpected.is_empty() && policy.unsigned_files == UnsignedFiles::Deny {
                detail.push_str("; the policy does not allow files the signature does not list");
            }
            rule(rules, "files", Status::Fail, detail);
            decision.diff = Some(*report);
            skip_rest(rules, 2, "the model does not match its signature");
            return Ok(decision);
        }
        Err(e) => return Err(e.into()),
    };
    let mut detail = format!(
        "{} match the signature",
        count(verified_model.resources_checked, "resource", "resources")
    );
    if !verified_model.unsigned_ignored.is_empty() {
        detail.push_str(&format!(
            "; {} the signature does not list left out, as the policy allows",
            count(verified_model.unsigned_ignored.len(), "file", "files")
        ));
    }
    rule(rules, "files", Status::Pass, detail);

    // 4. Claims.
    decision.claims_file = claims_file.clone();
    if let Some(path) = &claims_file {
        let lines = claims::read_claims(path)?;
        signers.extend_to_all()?;
        decision.claims = verify_claims(&signers, &verified_model, &lines);
    }
    let model_value = json!({
        "name": model_name,
        "root_digest": root_digest,
        "statement_digest": statement_digest,
        "hash": algorithm.name(),
        "method": method,
        "resources": verified_model.resources_checked,
        "signers": decision.signer.as_ref().map(|(_, n)| n.clone()).unwrap_or_default(),
        "signer": decision.signer.as_ref().map(|(s, _)| s.to_json()),
    });
    let signed_map = Arc::new(options.signed.clone());
    for r in &policy.claims {
        let name = format!("claim:{}", r.id);
        let wanted: Vec<&str> = r
            .signers
            .iter()
            .map(|&i| policy.signers[i].name.as_str())
            .collect();
        let of_type: Vec<&GateClaim> = decision
            .claims
            .iter()
            .filter(|c| c.verdict == ClaimVerdict::Valid)
            .filter(|c| c.predicate_type.as_deref() == Some(r.predicate_type.as_str()))
            .collect();
        let (trusted, others): (Vec<&GateClaim>, Vec<&GateClaim>) = of_type
            .into_iter()
            .partition(|c| c.signers.iter().any(|n| wanted.contains(&n.as_str())));
        if trusted.is_empty() {
            let mut detail = format!(
                "no valid claim of type {} signed by {}",
                r.predicate_type,
                policy.names(&r.signers)
            );
            if claims_file.is_none() {
                detail.push_str(&format!(
                    " (no claims file: none given, and no {CLAIMS_FILE_NAME} in the model, the current directory or beside the model)"
                ));
            }
            for o in others.iter().take(5) {
                detail.push_str(&format!(
                    "; line {} is of this type but signed by {}, which this rule does not trust for it",
                    o.line,
                    o.signers
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            rule(rules, &name, Status::Fail, detail);
            continue;
        }
        let lines = trusted
            .iter()
            .map(|c| c.line.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let Some(condition) = &r.condition else {
            rule(
                rules,
                &name,
                Status::Pass,
                format!("present: line {lines} (no condition)"),
            );
            continue;
        };
        let mut holds = Vec::new();
        let mut fails = Vec::new();
        for c in &trusted {
            let predicate = c.predicate.clone().unwrap_or(Value::Null);
            let claim_value = json!({
                "line": c.line,
                "predicate_type": c.predicate_type,
                "signers": c.signers,
                "signer": c.signer.as_ref().map(Signer::to_json),
            });
            let inputs = Inputs {
                variables: vec![
                    ("predicate", &predicate),
                    ("claim", &claim_value),
                    ("model", &model_value),
                ],
                signed: Arc::clone(&signed_map),
            };
            match condition.evaluate(&inputs, policy.cel_cost) {
                Ok(true) => holds.push(c.line),
                Ok(false) => fails.push(format!("line {}: the condition is false", c.line)),
                Err(e) => fails.push(format!("line {}: the condition {e}", c.line)),
            }
        }
        let passed = match r.require {
            Quantifier::All => fails.is_empty(),
            Quantifier::Any => !holds.is_empty(),
        };
        if passed {
            rule(
                rules,
                &name,
                Status::Pass,
                format!(
                    "the condition holds for {} (line {})",
                    match r.require {
                        Quantifier::All => "every claim",
                        Quantifier::Any => "a claim",
                    },
                    holds
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        } else {
            rule(rules, &name, Status::Fail, fails.join("; "));
        }
    }
    decision.allowed = decision.rules.iter().all(|r| r.status == Status::Pass);
    decision.model = Some(verified_model);
    Ok(decision)
}

/// The claims file used when none is given: the first that exists of
/// `claims.jsonl` at the root of the model directory, `./claims.jsonl`
/// (where `attest` appends by default), and `claims.jsonl` next to the
/// model; the same places, in the same order, as the signature is looked
/// for.
pub fn default_claims_file(model: &Path) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if model.is_dir() {
        candidates.push(model.join(CLAIMS_FILE_NAME));
    }
    candidates.push(PathBuf::from(".").join(CLAIMS_FILE_NAME));
    let parent = match model.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    candidates.push(parent.join(CLAIMS_FILE_NAME));
    candidates.into_iter().find(|c| c.is_file())
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Verifies every claim with every signer the policy names, keeping the
/// names of those that verify it.
fn verify_claims(
    signers: &AnyOf<'_>,
    model: &VerifiedModel,
    lines: &[ClaimLine],
) -> Vec<GateClaim> {
    let mut out = Vec::new();
    for line in lines {
        let digest = line.bundle.as_ref().ok().map(claims::statement_digest_of);
        let mut claim = GateClaim {
            line: line.line,
            verdict: ClaimVerdict::Malformed(String::new()),
            signers: Vec::new(),
            signer: None,
            predicate_type: None,
            predicate: None,
            digest,
        };
        let bundle = match &line.bundle {
            Ok(b) => b,
            Err(e) => {
                claim.verdict = ClaimVerdict::Malformed(format!("not a Sigstore bundle: {e}"));
                out.push(claim);
                continue;
            }
        };
        match signers.verify(bundle, None) {
            Err(why) => {
                claim.verdict = ClaimVerdict::SignatureFailed(why);
            }
            Ok((check, names)) => {
                // The statement checks of the library, with the signer found.
                let report =
                    claims::verify_claims(model, std::slice::from_ref(line), &[&Accepted(check)]);
                if let Some(r) = report.into_iter().next() {
                    claim.verdict = r.verdict;
                    claim.signer = r.signer;
                    claim.predicate_type = r.predicate_type;
                    claim.predicate = r.predicate;
                    claim.signers = names;
                }
            }
        }
        out.push(claim);
    }
    out
}

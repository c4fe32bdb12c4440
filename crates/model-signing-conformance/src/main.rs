//! The client CLI of the sigstore-conformance suite, over
//! `model-signing-sigstore`:
//!
//! ```text
//! model-signing-conformance verify-bundle [--staging] --bundle B
//!     (--certificate-identity I --certificate-oidc-issuer U | --key PEM)
//!     [--trusted-root F | --trust-config F] FILE_OR_DIGEST
//! model-signing-conformance sign-bundle ...   (not supported yet)
//! ```
//!
//! `FILE_OR_DIGEST` is a file, or `sha256:<hex>` when no such file exists
//! (for a DSSE bundle, the digest of the statement's subject). Without
//! `--certificate-oidc-issuer`, the certificate must carry no issuer (GitHub's
//! private instance). Exit status: 0 verified, 1 not verified, 2 usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use model_signing_sigstore::{
    Artifact, IdentityPolicy, Match, SigstoreBundle, SigstoreKeyVerifier, SigstoreVerifier,
    TrustRoot,
};

const USAGE: &str = "usage: model-signing-conformance verify-bundle [--staging] --bundle FILE \
(--certificate-identity ID --certificate-oidc-issuer URL | --key PEM) \
[--trusted-root FILE | --trust-config FILE] FILE_OR_DIGEST";

/// Largest artifact read into memory (the suite's are a few bytes).
const MAX_ARTIFACT_BYTES: u64 = 1 << 30;

#[derive(Default)]
struct VerifyArgs {
    staging: bool,
    bundle: Option<PathBuf>,
    identity: Option<String>,
    issuer: Option<String>,
    key: Option<PathBuf>,
    trusted_root: Option<PathBuf>,
    trust_config: Option<PathBuf>,
    input: Option<String>,
}

fn parse(args: &[String]) -> Result<VerifyArgs, String> {
    let mut out = VerifyArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--staging" => out.staging = true,
            "--bundle" => out.bundle = Some(value(arg)?.into()),
            "--certificate-identity" => out.identity = Some(value(arg)?),
            "--certificate-oidc-issuer" => out.issuer = Some(value(arg)?),
            "--key" => out.key = Some(value(arg)?.into()),
            "--trusted-root" => out.trusted_root = Some(value(arg)?.into()),
            "--trust-config" => out.trust_config = Some(value(arg)?.into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => {
                if out.input.replace(s.to_owned()).is_some() {
                    return Err("more than one FILE_OR_DIGEST".into());
                }
            }
        }
    }
    Ok(out)
}

fn read(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.len() > limit {
        return Err(format!("{} is larger than {limit} bytes", path.display()));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

enum Failure {
    Usage(String),
    Rejected(String),
}

fn verify(args: VerifyArgs) -> Result<String, Failure> {
    let usage = |m: &str| Failure::Usage(m.to_owned());
    let setup = |e: model_signing_sigstore::SigstoreError| Failure::Usage(error_chain(&e));
    let rejected = |e: model_signing_sigstore::SigstoreError| Failure::Rejected(error_chain(&e));

    let bundle_path = args.bundle.ok_or_else(|| usage("--bundle is required"))?;
    let input = args
        .input
        .ok_or_else(|| usage("FILE_OR_DIGEST is required"))?;
    let trust = match (&args.trusted_root, &args.trust_config, args.staging) {
        (Some(f), None, _) => TrustRoot::from_trusted_root_file(f),
        (None, Some(f), _) => TrustRoot::from_trust_config_file(f),
        (None, None, true) => TrustRoot::staging(),
        (None, None, false) => TrustRoot::production(),
        (Some(_), Some(_), _) => return Err(usage("--trusted-root and --trust-config conflict")),
    }
    // Unusable trust material is a rejection, not a usage error: the suite
    // has cases whose trusted root must be refused.
    .map_err(rejected)?;

    let bytes = read(&bundle_path, 64 << 20).map_err(Failure::Usage)?;
    let bundle = SigstoreBundle::from_json(&bytes).map_err(rejected)?;

    let artifact_bytes;
    let artifact = if Path::new(&input).exists() {
        artifact_bytes = read(Path::new(&input), MAX_ARTIFACT_BYTES).map_err(Failure::Usage)?;
        Artifact::Bytes(&artifact_bytes)
    } else {
        Artifact::parse_digest(&input).map_err(setup)?
    };

    let verification = match (&args.key, &args.identity) {
        (Some(key), None) => {
            let pem = read(key, 1 << 20).map_err(Failure::Usage)?;
            let pem = String::from_utf8(pem).map_err(|_| usage("the key is not PEM text"))?;
            SigstoreKeyVerifier::new(trust, &pem)
                .map_err(rejected)?
                .verify_artifact(&bundle, &artifact)
        }
        (None, Some(identity)) => {
            let issuer = match &args.issuer {
                Some(i) => Match::exact(i.clone()),
                None => Match::absent(),
            };
            SigstoreVerifier::new(
                trust,
                IdentityPolicy::new(Match::exact(identity.clone()), issuer),
            )
            .verify_artifact(&bundle, &artifact)
        }
        _ => {
            return Err(usage(
                "give either --key or --certificate-identity (with --certificate-oidc-issuer)",
            ))
        }
    }
    .map_err(rejected)?;
    Ok(format!(
        "verified: identity {}, issuer {}, signed at {}",
        verification.identity().unwrap_or("(key)"),
        verification.issuer().unwrap_or("(none)"),
        verification
            .signed_at()
            .map_or("(no verified time)".to_owned(), |t| t.to_string())
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((cmd, rest)) if cmd == "verify-bundle" => {
            let outcome = parse(rest).map_err(Failure::Usage).and_then(verify);
            match outcome {
                Ok(msg) => {
                    println!("{msg}");
                    ExitCode::SUCCESS
                }
                Err(Failure::Rejected(msg)) => {
                    eprintln!("verification failed: {msg}");
                    ExitCode::from(1)
                }
                Err(Failure::Usage(msg)) => {
                    eprintln!("error: {msg}\n{USAGE}");
                    ExitCode::from(2)
                }
            }
        }
        Some((cmd, _)) if cmd == "sign-bundle" => {
            eprintln!("error: sign-bundle is not supported yet (this client verifies only)");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

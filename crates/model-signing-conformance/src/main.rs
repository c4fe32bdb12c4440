//! The client CLI of the sigstore-conformance suite, over
//! `model-signing-sigstore`:
//!
//! ```text
//! model-signing-conformance verify-bundle [--staging] --bundle B
//!     (--certificate-identity I --certificate-oidc-issuer U | --key PEM)
//!     [--trusted-root F | --trust-config F] FILE_OR_DIGEST
//! model-signing-conformance sign-bundle [--staging] [--in-toto]
//!     --identity-token T --bundle OUT
//!     [--trusted-root F --signing-config F | --trust-config F] FILE
//! ```
//!
//! `FILE_OR_DIGEST` is a file, or `sha256:<hex>` when no such file exists
//! (for a DSSE bundle, the digest of the statement's subject). Without
//! `--certificate-oidc-issuer`, the certificate must carry no issuer (GitHub's
//! private instance). `sign-bundle` signs FILE as a message signature, or,
//! with `--in-toto`, FILE as an in-toto statement in a DSSE envelope; the
//! services come from the signing config (production's by default). Exit
//! status: 0 verified or signed, 1 not verified or signing failed, 2 usage
//! error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use model_signing_sigstore::{
    Artifact, IdentityPolicy, IdentityToken, Match, SigningConfig, SigstoreBundle,
    SigstoreKeyVerifier, SigstoreSigner, SigstoreVerifier, TokenSource, TrustRoot,
};

const USAGE: &str = "usage: model-signing-conformance verify-bundle [--staging] --bundle FILE \
(--certificate-identity ID --certificate-oidc-issuer URL | --key PEM) \
[--trusted-root FILE | --trust-config FILE] FILE_OR_DIGEST
       model-signing-conformance sign-bundle [--staging] [--in-toto] --identity-token TOKEN \
--bundle FILE [--trusted-root FILE --signing-config FILE | --trust-config FILE] FILE";

/// The DSSE payload type of an in-toto statement.
const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

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

#[derive(Default)]
struct SignArgs {
    staging: bool,
    in_toto: bool,
    identity_token: Option<String>,
    bundle: Option<PathBuf>,
    trusted_root: Option<PathBuf>,
    signing_config: Option<PathBuf>,
    trust_config: Option<PathBuf>,
    input: Option<PathBuf>,
}

fn parse_sign(args: &[String]) -> Result<SignArgs, String> {
    let mut out = SignArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--staging" => out.staging = true,
            "--in-toto" => out.in_toto = true,
            "--identity-token" => out.identity_token = Some(value(arg)?),
            "--bundle" => out.bundle = Some(value(arg)?.into()),
            "--trusted-root" => out.trusted_root = Some(value(arg)?.into()),
            "--signing-config" => out.signing_config = Some(value(arg)?.into()),
            "--trust-config" => out.trust_config = Some(value(arg)?.into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => {
                if out.input.replace(s.into()).is_some() {
                    return Err("more than one FILE".into());
                }
            }
        }
    }
    Ok(out)
}

fn sign(args: SignArgs) -> Result<String, Failure> {
    let usage = |m: &str| Failure::Usage(m.to_owned());
    let setup = |e: model_signing_sigstore::SigningError| Failure::Usage(error_chain(&e));
    let token = args
        .identity_token
        .ok_or_else(|| usage("--identity-token is required"))?;
    let bundle_path = args.bundle.ok_or_else(|| usage("--bundle is required"))?;
    let input = args.input.ok_or_else(|| usage("FILE is required"))?;
    let config = match (&args.trusted_root, &args.signing_config, &args.trust_config) {
        (Some(root), Some(signing), None) => SigningConfig::from_files(root, signing),
        (None, None, Some(config)) => SigningConfig::from_trust_config_file(config),
        (None, None, None) if args.staging => SigningConfig::staging(),
        (None, None, None) => SigningConfig::production(),
        _ => {
            return Err(usage(
                "give --trusted-root with --signing-config, or --trust-config, or neither",
            ))
        }
    }
    .map_err(setup)?;
    let token = IdentityToken::parse(&token).map_err(setup)?;
    let signer = SigstoreSigner::new(config, vec![TokenSource::Token(token)]).map_err(setup)?;
    let content = read(&input, MAX_ARTIFACT_BYTES).map_err(Failure::Usage)?;
    let signed = if args.in_toto {
        signer.sign_dsse(IN_TOTO_PAYLOAD_TYPE, &content)
    } else {
        signer.sign_message(&content)
    }
    .map_err(|e| Failure::Rejected(error_chain(&e)))?;
    std::fs::write(&bundle_path, signed.to_json())
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", bundle_path.display())))?;
    Ok(format!(
        "signed as {} ({}) -> {}",
        signed.identity().unwrap_or("(no identity)"),
        signed.issuer().unwrap_or("no issuer"),
        bundle_path.display()
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
        Some((cmd, rest)) if cmd == "sign-bundle" => {
            match parse_sign(rest).map_err(Failure::Usage).and_then(sign) {
                Ok(msg) => {
                    println!("{msg}");
                    ExitCode::SUCCESS
                }
                Err(Failure::Rejected(msg)) => {
                    eprintln!("signing failed: {msg}");
                    ExitCode::from(1)
                }
                Err(Failure::Usage(msg)) => {
                    eprintln!("error: {msg}\n{USAGE}");
                    ExitCode::from(2)
                }
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

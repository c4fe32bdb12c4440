//! The one place that classifies errors: exit code, JSON kind and hint
//! ([`classify`]).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | verification failed (signature, signer or content); a policy denied |
//! | 2 | usage error (bad flags or arguments; a malformed PKCS#11 URI, or one that picks no single token or key; a bad policy) |
//! | 3 | any other error (I/O, environment, unreadable model; PKCS#11 module, token, PIN or key trouble) |

use model_signing::hashing::{ConfigError, HashError};
use model_signing::timestamp::TimestampError;
use model_signing::verify::VerifyError;
use model_signing::x509::CertError;
use model_signing::ErrorKind;
use model_signing_pkcs11::{Pkcs11Error, UriError};
use model_signing_policy::{GateError, LineageError, PolicyError};
use model_signing_sigstore::{LoginError, OAuthEndpoint, SigningError};

pub const SUCCESS: u8 = 0;
pub const VERIFICATION_FAILED: u8 = 1;
pub const USAGE: u8 = 2;
pub const OTHER: u8 = 3;

/// A mistake in how the command was invoked, detected after argument parsing.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Claims that are not valid (`verify --claims`): the model verified, its
/// claims did not all.
#[derive(Debug)]
pub struct ClaimsInvalid {
    /// How many claims are not valid.
    pub invalid: usize,
    /// How many claims the file holds.
    pub total: usize,
    /// The claims file.
    pub path: std::path::PathBuf,
}

impl std::fmt::Display for ClaimsInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} claims in {} are not valid (the model itself verified)",
            self.invalid,
            self.total,
            self.path.display()
        )
    }
}

impl std::error::Error for ClaimsInvalid {}

/// What the CLI makes of an error: its exit code, the stable name `--json`
/// reports it under (docs/json.md) and the hint printed under it. Every
/// front end of the CLI (the exit code, the JSON `error.kind`, the `hint:`
/// line) reads it from here, so the three never disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// The process exit code (see the table above).
    pub code: u8,
    /// The JSON `error.kind`.
    pub kind: &'static str,
    /// What the user can do about it, when the error says enough.
    pub hint: Option<&'static str>,
}

/// Classifies an error by the first cause in its chain that says what it is.
pub fn classify(err: &anyhow::Error) -> Class {
    let code = code_for(err);
    Class {
        code,
        kind: kind_for(err, code),
        hint: hint_for(err),
    }
}

/// The exit code of an error. A verification error's code follows its
/// [`ErrorKind`]: a malformed signature or payload fails verification like a
/// bad signature does.
pub fn code_for(err: &anyhow::Error) -> u8 {
    let by_kind = |kind: ErrorKind| match kind {
        ErrorKind::Usage => USAGE,
        ErrorKind::Environment => OTHER,
        _ => VERIFICATION_FAILED,
    };
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<GateError>() {
            return by_kind(e.kind());
        }
        if let Some(e) = cause.downcast_ref::<PolicyError>() {
            return by_kind(e.kind());
        }
        if let Some(e) = cause.downcast_ref::<LineageError>() {
            return by_kind(e.kind());
        }
        if cause.is::<ClaimsInvalid>() {
            return VERIFICATION_FAILED;
        }
        if let Some(e) = cause.downcast_ref::<model_signing_oci::OciError>() {
            return by_kind(e.kind());
        }
        if let Some(c) = cause.downcast_ref::<model_signing::claims::ClaimError>() {
            return match c.kind() {
                ErrorKind::Usage => USAGE,
                ErrorKind::Environment => OTHER,
                _ => VERIFICATION_FAILED,
            };
        }
        if let Some(v) = cause.downcast_ref::<VerifyError>() {
            return match v.kind() {
                ErrorKind::Usage => USAGE,
                ErrorKind::Environment => OTHER,
                _ => VERIFICATION_FAILED,
            };
        }
        if cause.is::<UsageError>() || cause.is::<ConfigError>() || cause.is::<UriError>() {
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<Pkcs11Error>() {
            return if e.is_usage() { USAGE } else { OTHER };
        }
        if cause
            .downcast_ref::<HashError>()
            .is_some_and(|h| h.kind() == ErrorKind::Usage)
        {
            return USAGE;
        }
    }
    OTHER
}

/// The JSON `error.kind`: a verification error names what failed; anything
/// else is named by its exit code.
fn kind_for(err: &anyhow::Error, code: u8) -> &'static str {
    for cause in err.chain() {
        if cause.is::<ClaimsInvalid>() {
            return "claims_invalid";
        }
        let policy = match cause.downcast_ref::<GateError>() {
            Some(GateError::Policy(p)) => Some(p),
            Some(GateError::Verify(v)) => return verify_kind(v),
            Some(_) => None,
            None => cause.downcast_ref::<PolicyError>(),
        };
        if let Some(p) = policy {
            return if p.unreadable {
                "error"
            } else {
                "policy_invalid"
            };
        }
        if let Some(v) = cause.downcast_ref::<VerifyError>() {
            return verify_kind(v);
        }
        if cause.is::<UsageError>() {
            return "usage";
        }
    }
    match code {
        USAGE => "usage",
        VERIFICATION_FAILED => "verification_failed",
        _ => "error",
    }
}

/// The JSON `error.kind` of a verification error.
fn verify_kind(v: &VerifyError) -> &'static str {
    match v {
        VerifyError::Bundle(_) => "malformed_signature",
        VerifyError::Payload(_) => "malformed_payload",
        VerifyError::WrongMaterial { .. } => "wrong_method",
        VerifyError::SignerMismatch(_) => "signer_mismatch",
        VerifyError::BadSignature => "bad_signature",
        VerifyError::Key(_) => "malformed_key",
        VerifyError::Certificate(_) | VerifyError::CertificateAtTimestamp { .. } => {
            "untrusted_certificate"
        }
        VerifyError::Timestamp(TimestampError::Malformed { .. }) => "malformed_timestamp",
        VerifyError::Timestamp(TimestampError::Authority { .. }) => "usage",
        VerifyError::Timestamp(_) => "untrusted_timestamp",
        VerifyError::ModelMismatch(_) => "model_mismatch",
        VerifyError::Hash(_) => "model_unreadable",
        VerifyError::Config(_) => "usage",
        _ => "verification_failed",
    }
}

/// The hint for the first cause a person can act on.
fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    // Verification follows the signature, not --allow-symlinks.
    let verifying = err.chain().any(|c| c.is::<VerifyError>());
    err.chain().find_map(|c| {
        if c.is::<UriError>() {
            return Some("write the URI in single quotes: the shell gives `;`, `&` and `?` meanings of their own");
        }
        if let Some(e) = c.downcast_ref::<Pkcs11Error>() {
            return pkcs11_hint(e);
        }
        if let Some(e) = c.downcast_ref::<SigningError>() {
            return sigstore_hint(e);
        }
        if let Some(e) = c.downcast_ref::<VerifyError>() {
            return verify_hint(e);
        }
        hash_hint(c.downcast_ref::<HashError>()?, verifying)
    })
}

fn pkcs11_hint(err: &Pkcs11Error) -> Option<&'static str> {
    match err {
        Pkcs11Error::PinRequired { .. } => Some(
            "set MODEL_SIGNING_PKCS11_PIN, add pin-source=/PATH to the URI, or run on a terminal to be asked",
        ),
        Pkcs11Error::NoModule | Pkcs11Error::ModuleNameNotFound { .. } => Some(
            "pass the module's absolute path with --module-path, or add module-path=/PATH to the URI",
        ),
        _ => None,
    }
}

fn sigstore_hint(err: &SigningError) -> Option<&'static str> {
    match err {
        SigningError::NoToken => Some(
            "give --identity-token or --identity-token-file, set SIGSTORE_ID_TOKEN, use \
             --use-ambient-credentials in CI (GitHub Actions needs `permissions: id-token: write`), \
             or run from a terminal (or with --oauth-force-oob) to log in",
        ),
        SigningError::TokenExpired { .. } => {
            Some("identity tokens live a few minutes: get a fresh one just before signing")
        }
        SigningError::Login(LoginError::Status {
            endpoint: OAuthEndpoint::Token,
            status,
            error,
            ..
        }) if *status == 401 || error.as_deref() == Some("invalid_client") => Some(
            "the identity provider did not accept the client: check --client-id and --client-secret",
        ),
        SigningError::Login(LoginError::StateMismatch) => Some(
            "another login answer reached the browser's redirect: log in again, or use --oauth-force-oob",
        ),
        SigningError::Login(LoginError::BrowserTimeout(_)) => {
            Some("log in within five minutes, or use --oauth-force-oob to paste the code instead")
        }
        _ => None,
    }
}

fn verify_hint(err: &VerifyError) -> Option<&'static str> {
    match err {
        // `verify certificate` found no path to the certificates trusted: most
        // often an intermediate CA that neither the signature nor the verifier
        // holds.
        VerifyError::Certificate(CertError::NoPathToTrustAnchor { .. }) => Some(
            "the certificates the signature carries and those given with --certificate-chain must link the signer to a certificate you trust: pass the root and any intermediate CA certificates the signature lacks with --certificate-chain (`model-signing inspect SIGNATURE` lists the ones it carries)",
        ),
        // An expired certificate without a verified timestamp.
        VerifyError::Certificate(CertError::Expired { .. }) => Some(
            "a certificate is checked at the current time unless the signature carries an RFC 3161 timestamp from an authority you trust: sign with --tsa-url, and verify with --tsa-certificate-chain",
        ),
        VerifyError::Timestamp(TimestampError::Untrusted { .. }) => Some(
            "--tsa-certificate-chain takes the timestamp authority's root certificate (and any intermediates, and optionally its signing certificate); `model-signing inspect SIGNATURE` shows who signed each timestamp",
        ),
        _ => None,
    }
}

fn hash_hint(err: &HashError, verifying: bool) -> Option<&'static str> {
    match err {
        HashError::SymlinkNotAllowed { .. } if verifying => Some(
            "the signature was made without --allow-symlinks, so links in the model are refused; remove the link, or sign again with --allow-symlinks",
        ),
        HashError::SymlinkNotAllowed { .. } => {
            Some("pass --allow-symlinks to hash the targets of links under the links' names")
        }
        HashError::FileChanged { .. } => {
            Some("another process is writing to the model; try again once it has finished")
        }
        HashError::EmptyModel { .. } => Some("check the model path and the --ignore-paths given"),
        HashError::SpecialFile { .. } => {
            Some("remove it from the model or leave it out with --ignore-paths")
        }
        HashError::NonUtf8Name { .. } => Some("rename the file: signatures name files in UTF-8"),
        _ => None,
    }
}

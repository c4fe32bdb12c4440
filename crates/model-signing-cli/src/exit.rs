//! The one place that maps errors to exit codes.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | verification failed (signature, signer or content) |
//! | 2 | usage error (bad flags or arguments; a malformed PKCS#11 URI, or one that picks no single token or key) |
//! | 3 | any other error (I/O, environment, unreadable model; PKCS#11 module, token, PIN or key trouble) |

use model_signing::hashing::{ConfigError, HashError};
use model_signing::verify::VerifyError;
use model_signing::ErrorKind;
use model_signing_pkcs11::{Pkcs11Error, UriError};

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

/// The exit code of a verification error, from its kind: a malformed
/// signature or payload fails verification like a bad signature does.
fn verify_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Usage => USAGE,
        ErrorKind::Environment => OTHER,
        _ => VERIFICATION_FAILED,
    }
}

pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(v) = cause.downcast_ref::<VerifyError>() {
            return verify_code(v.kind());
        }
        if cause.is::<UsageError>() || cause.is::<ConfigError>() {
            return USAGE;
        }
        if cause.is::<UriError>() {
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

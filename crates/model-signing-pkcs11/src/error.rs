//! Errors of opening a token key.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::uri::{encode_all, encode_path};

/// A token as the error messages describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    /// The slot number.
    pub slot_id: u64,
    /// The token label.
    pub label: String,
    /// The token manufacturer.
    pub manufacturer: String,
    /// The token model.
    pub model: String,
    /// The token serial number.
    pub serial: String,
}

impl fmt::Display for TokenSummary {
    /// The path attributes that select this token:
    /// `token=LABEL;serial=SERIAL` (slot NUMBER, MODEL).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token={};serial={} (slot-id={}, {} {})",
            encode_path(&self.label),
            encode_path(&self.serial),
            self.slot_id,
            self.manufacturer,
            self.model
        )
    }
}

/// A key object as the error messages describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySummary {
    /// `CKA_LABEL`, when the object has one.
    pub label: Option<String>,
    /// `CKA_ID`.
    pub id: Vec<u8>,
}

impl fmt::Display for KeySummary {
    /// The path attributes that select this key: `object=LABEL;id=%01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.label {
            Some(label) => write!(
                f,
                "object={};id={}",
                encode_path(label),
                encode_all(&self.id)
            ),
            None => write!(f, "id={} (no label)", encode_all(&self.id)),
        }
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a token key could not be opened or used.
///
/// No variant holds the PIN. [`Pkcs11Error::is_usage`] tells the mistakes in
/// how the key was named (fix the URI or the options) from trouble with the
/// token or its environment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// Neither the URI nor the options name a module.
    #[error("no PKCS#11 module given: add `module-path=/ABSOLUTE/PATH.so` or `module-name=NAME` to the URI's query")]
    NoModule,
    /// A module path given outside the URI is not absolute.
    #[error("the PKCS#11 module path must be absolute, found {}", .path.display())]
    RelativeModulePath {
        /// The path.
        path: PathBuf,
    },
    /// The URI's `module-path` and the one given as an option differ.
    #[error("two different PKCS#11 modules given: {} in the URI and {} as an option", .uri.display(), .option.display())]
    ModuleConflict {
        /// `module-path` of the URI.
        uri: PathBuf,
        /// The option's path.
        option: PathBuf,
    },
    /// The module file does not exist.
    #[error("PKCS#11 module {} not found", .path.display())]
    ModuleNotFound {
        /// The path.
        path: PathBuf,
    },
    /// `module-path` is a directory and no `module-name` says what to load from it.
    #[error("PKCS#11 `module-path` {} is a directory: add `module-name` to say which module in it", .path.display())]
    ModuleNameMissing {
        /// The directory.
        path: PathBuf,
    },
    /// No file of that exact name in the module directories.
    #[error("PKCS#11 module `{name}` not found (looked for {candidates} in {dirs})",
        candidates = .candidates.join(", "),
        dirs = .directories.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "))]
    ModuleNameNotFound {
        /// `module-name`.
        name: String,
        /// The file names tried.
        candidates: Vec<String>,
        /// The directories searched.
        directories: Vec<PathBuf>,
    },
    /// The module could not be loaded or initialized.
    #[error("cannot load PKCS#11 module {}: {detail}", .path.display())]
    ModuleLoad {
        /// The path.
        path: PathBuf,
        /// What the loader or the module said.
        detail: String,
    },
    /// A `library-*` attribute of the URI does not match the module.
    #[error("the PKCS#11 module does not match the URI: `{attribute}` is `{expected}`, the module has `{found}`")]
    LibraryMismatch {
        /// The attribute.
        attribute: &'static str,
        /// The URI's value.
        expected: String,
        /// The module's.
        found: String,
    },
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {operation} failed: {detail}")]
    Call {
        /// What was being done (`C_Login`, `listing the slots`...).
        operation: &'static str,
        /// The return value or the library's message.
        detail: String,
    },
    /// No token matches the URI's token attributes.
    #[error("no PKCS#11 token matches the URI; tokens present: {}", list(.available))]
    NoToken {
        /// Every token present.
        available: Vec<TokenSummary>,
    },
    /// Several tokens match the URI.
    #[error("{} PKCS#11 tokens match the URI: {}; add `token=`, `serial=` or `slot-id=` to pick one", .candidates.len(), list(.candidates))]
    AmbiguousToken {
        /// The tokens that match.
        candidates: Vec<TokenSummary>,
    },
    /// The URI's `type` names objects that cannot sign.
    #[error("the URI selects `type={found}` objects, which cannot sign: use `type=private` or leave `type` out")]
    NotPrivateKeyType {
        /// The URI's `type`.
        found: &'static str,
    },
    /// The user PIN is locked on the token.
    #[error("the user PIN of token `{token}` is locked (too many wrong PINs); the token's security officer must unlock it")]
    PinLocked {
        /// The token label.
        token: String,
    },
    /// The token needs a PIN and none was given.
    #[error("token `{token}` needs its user PIN: give it with `pin-source=/PATH` in the URI, or on a terminal")]
    PinRequired {
        /// The token label.
        token: String,
    },
    /// The PIN was refused.
    #[error("wrong PIN for token `{token}`{}", if *.final_try { "; one more wrong PIN locks it" } else { "" })]
    PinIncorrect {
        /// The token label.
        token: String,
        /// The token now reports that one more failure locks it.
        final_try: bool,
    },
    /// The `pin-source` file could not be read.
    #[error("cannot read the PIN from {}", .path.display())]
    PinSource {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The application's PIN callback failed.
    #[error("cannot read the PIN")]
    PinCallback(#[source] io::Error),
    /// No private key matches the URI's object attributes.
    #[error("no private key on token `{token}` matches {criteria}; private keys on it: {}", list(.available))]
    NoMatchingKey {
        /// The token label.
        token: String,
        /// The object attributes of the URI (`object=...;id=...`), or `the URI`.
        criteria: String,
        /// Every private key the token shows.
        available: Vec<KeySummary>,
    },
    /// Several private keys match.
    #[error("{} private keys on token `{token}` match {criteria}: {}; {hint}", .candidates.len(), list(.candidates))]
    AmbiguousKey {
        /// The token label.
        token: String,
        /// The object attributes of the URI, or `the URI`.
        criteria: String,
        /// The keys that match.
        candidates: Vec<KeySummary>,
        /// Which attributes tell them apart.
        hint: String,
    },
    /// The key's `CKA_SIGN` is false.
    #[error("private key `{key}` is not allowed to sign (its CKA_SIGN attribute is false)")]
    KeyCannotSign {
        /// The key.
        key: KeySummary,
    },
    /// The key is not ECDSA on P-256, P-384 or P-521, nor RSA of 2048, 3072
    /// or 4096 bits with the exponent 65537.
    #[error("private key `{key}` cannot be used: {detail}; only ECDSA keys on P-256, P-384 and P-521 and RSA keys of 2048, 3072 and 4096 bits (exponent 65537) are supported")]
    UnsupportedKey {
        /// The key.
        key: KeySummary,
        /// What it is.
        detail: String,
    },
    /// The key's public half cannot be read from the token.
    #[error("cannot read the public key of `{key}` from the token: {detail}")]
    PublicKey {
        /// The key.
        key: KeySummary,
        /// Why.
        detail: String,
    },
    /// A test signature made when opening the key does not verify with the
    /// public key read from the token.
    #[error("the public key the token holds for `{key}` does not verify the private key's signatures: the key pair on the token is inconsistent")]
    KeyPairMismatch {
        /// The key.
        key: KeySummary,
    },
}

impl Pkcs11Error {
    /// Whether the error is a mistake in how the key was named (URI,
    /// options, a missing PIN on a machine with no terminal), as opposed to
    /// trouble with the module, the token or the key it holds.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Pkcs11Error::NoModule
                | Pkcs11Error::RelativeModulePath { .. }
                | Pkcs11Error::ModuleConflict { .. }
                | Pkcs11Error::ModuleNameMissing { .. }
                | Pkcs11Error::AmbiguousToken { .. }
                | Pkcs11Error::NotPrivateKeyType { .. }
                | Pkcs11Error::PinRequired { .. }
                | Pkcs11Error::AmbiguousKey { .. }
        )
    }

    pub(crate) fn call(operation: &'static str, err: cryptoki::error::Error) -> Self {
        Pkcs11Error::Call {
            operation,
            detail: describe(&err),
        }
    }
}

/// A PKCS#11 error in one line: `CKR_...` names rather than the
/// specification's paragraphs.
pub(crate) fn describe(err: &cryptoki::error::Error) -> String {
    match err {
        cryptoki::error::Error::Pkcs11(rv, _) => ckr_name(&format!("{rv:?}")),
        other => other.to_string(),
    }
}

/// `PinIncorrect` -> `CKR_PIN_INCORRECT`, the name the specification and
/// token vendors use.
fn ckr_name(debug: &str) -> String {
    let mut out = String::from("CKR_");
    for (i, c) in debug.char_indices() {
        if !c.is_ascii_alphanumeric() {
            out.push_str(&debug[i..]);
            break;
        }
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_values_are_named_as_in_the_specification() {
        assert_eq!(ckr_name("PinIncorrect"), "CKR_PIN_INCORRECT");
        assert_eq!(ckr_name("SlotIdInvalid"), "CKR_SLOT_ID_INVALID");
        assert_eq!(ckr_name("VendorDefined(1)"), "CKR_VENDOR_DEFINED(1)");
    }
}

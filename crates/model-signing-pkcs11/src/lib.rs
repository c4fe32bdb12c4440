//! Sign models with keys held in PKCS#11 tokens (HSMs, smart cards, cloud
//! HSM gateways), named by RFC 7512 URIs.
//!
//! ```no_run
//! use model_signing::sign::KeySigner;
//! use model_signing_pkcs11::{NoCallbacks, OpenOptions, Pkcs11Key, Pkcs11Uri};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let uri = Pkcs11Uri::parse(
//!     "pkcs11:token=models;object=release-key?pin-source=/run/secrets/pin\
//!      &module-path=/usr/lib/softhsm/libsofthsm2.so",
//! )?;
//! let key = Pkcs11Key::open(&uri, &OpenOptions::new(&NoCallbacks))?;
//! let signer = KeySigner::new(Box::new(key))?;
//! // model_signing::sign::sign_model(path, &config, &signer, &progress)?
//! # Ok(())
//! # }
//! ```
//!
//! - [`Pkcs11Uri`] parses the URI ([`uri`] lists the rules).
//! - [`Pkcs11Key::open`] loads the module (from an absolute path only, or by
//!   exact `module-name` in the [standard directories](standard_module_directories)),
//!   selects exactly one token and exactly one private key, logs in with the
//!   PIN (URI `pin-value`, `pin-source` file, or [`Callbacks`], tried once),
//!   and reads the public key from the token.
//! - [`Pkcs11Key`] implements the core library's
//!   [`SigningKey`](model_signing::keys::SigningKey): ECDSA on P-256, P-384
//!   and P-521 through `CKM_ECDSA` (the raw `r || s` converted to DER), and
//!   RSA 2048/3072/4096 (exponent 65537) through `CKM_RSA_PKCS` over a
//!   SHA-256 `DigestInfo` (PKCS#1 v1.5), with the message hashed on the host;
//!   every signature is verified with the token's public key before it is
//!   returned.
//!
//! This crate is the only one in the workspace that loads native code. It
//! never prints, prompts or reads the environment, and no error or `Debug`
//! output holds the PIN.
//!
//! Not supported: keys with `CKA_ALWAYS_AUTHENTICATE` (a PIN for each
//! signature), RSA-PSS, other RSA sizes and exponents, EdDSA keys,
//! `pin-source` commands (`|/bin/cmd`) and URLs other than files.

#![deny(missing_docs)]

mod ec;
mod error;
mod key;
mod module;
mod pin;
pub mod uri;

pub use error::{KeySummary, Pkcs11Error, TokenSummary};
pub use key::{OpenOptions, Pkcs11Key};
pub use module::{locate_module, module_file_names, standard_module_directories};
pub use pin::{Callbacks, NoCallbacks, Pin, PinRequest, MAX_PIN_FILE_BYTES};
pub use uri::{Pkcs11Uri, UriError};

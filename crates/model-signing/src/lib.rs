//! Sign and verify machine-learning models in the OpenSSF Model Signing (OMS)
//! v1.0 format, compatible with the Python reference implementation.
//!
//! Hashing a model (the manifest that a signature carries):
//!
//! ```
//! use model_signing::{hashing::HashConfig, Manifest};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # std::fs::write(dir.path().join("a"), "hello\n")?;
//! let manifest = Manifest::hash(dir.path(), &HashConfig::new(), &model_signing::hashing::NoProgress)?;
//! assert_eq!(
//!     manifest.root_digest_hex(),
//!     "ecb65bb98f9d905b70458986c39fcbad7715e5f2fcc3b1f07767d7c83e2438cc"
//! );
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod bundle;
pub mod dsse;
pub mod json;
pub mod keys;
pub mod limits;
pub mod manifest;
pub mod sign;
pub mod statement;
pub mod text;
pub mod verify;
pub mod x509;

pub use manifest::{Manifest, Resource, Serialization};

/// The hashing engine, re-exported.
pub mod hashing {
    pub use model_signing_hash::*;
}

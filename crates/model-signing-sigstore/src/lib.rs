//! Sigstore keyless signing and verification for model signatures;
//! verification is offline.
//!
//! A model signed with `model-signing sign sigstore` (or the reference's
//! `model_signing sign`) carries a Fulcio certificate, a Rekor log entry and
//! possibly RFC 3161 timestamps. [`SigstoreVerifier`] checks all of them
//! against a [`TrustRoot`] and an [`IdentityPolicy`], and plugs into the core
//! crate's [`verify_bundle`](model_signing::verify::verify_bundle), which then
//! checks the signed manifest:
//!
//! ```no_run
//! use model_signing::bundle::Bundle;
//! use model_signing::verify::{verify_bundle, ModelCheckOptions};
//! use model_signing_sigstore::{IdentityPolicy, SigstoreVerifier, TrustRoot};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = SigstoreVerifier::new(
//!     TrustRoot::production()?,
//!     IdentityPolicy::exact("someone@example.com", "https://accounts.google.com"),
//! );
//! let bundle = Bundle::from_json(&std::fs::read("model/model.sig")?)?;
//! let verified = verify_bundle(&bundle, &verifier)?;
//! verified.check_model(
//!     "model".as_ref(),
//!     &ModelCheckOptions::default(),
//!     &model_signing::hashing::NoProgress,
//! )?;
//! # Ok(())
//! # }
//! ```
//!
//! No network and no async runtime are involved in verification: the
//! production and staging roots are embedded snapshots, other roots are read
//! from files. A verifier that never signs can leave out the `sign` feature
//! (on by default): `default-features = false` builds the crate without
//! tokio, hyper, reqwest or any other network client.
//!
//! Signing (feature `sign`; [`SigstoreSigner`], a [`BundleSigner`](model_signing::sign::BundleSigner))
//! talks to the instance's services named by its signing config
//! ([`SigningConfig`]): an identity token from the first [`TokenSource`]
//! that gives one, a Fulcio certificate for an ephemeral P-256 key (checked
//! against the trusted root and its CT log before use), a Rekor v1 `dsse` or
//! Rekor v2 `hashedrekord` entry, and an RFC 3161 timestamp when the instance
//! has a timestamp authority. The finished bundle is verified before it is
//! returned.
//!
//! ```no_run
//! use model_signing::hashing::{HashConfig, NoProgress};
//! use model_signing::sign::sign_model;
//! use model_signing_sigstore::{IdentityToken, SigningConfig, SigstoreSigner, TokenSource};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let token = IdentityToken::parse(&std::env::var("SIGSTORE_ID_TOKEN")?)?;
//! let signer = SigstoreSigner::new(SigningConfig::production()?, vec![TokenSource::Token(token)])?;
//! // Hashes first; the certificate is requested only when signing.
//! let (bundle, _manifest) = sign_model("model".as_ref(), &HashConfig::new(), &signer, &NoProgress)?;
//! std::fs::write("model.sig", bundle.to_json())?;
//! # Ok(())
//! # }
//! ```
//!
//! Every check is delegated to `sigstore-verify` where it implements it
//! (verified times from SETs and RFC 3161 timestamps, certificate chain and
//! SCT, inclusion proof, checkpoint, SET, the binding of the log entry to the
//! bundle, the DSSE signature). On top of that this crate requires exactly one
//! log entry, refuses root certificates carried in a bundle, validates the
//! certificate path again with the core crate's X.509 code at every verified
//! time (bundle intermediates ignored), reads the identity and issuer itself
//! (rejecting several SAN identities or disagreeing issuer extensions),
//! matches identity patterns fully anchored, and checks that the envelope it
//! verified is the one the model checks read. The `sigstore-*` crates are an
//! implementation detail: none of their types appear in this API.

#![deny(missing_docs)]

mod error;
#[cfg(feature = "sign")]
mod oauth;
mod policy;
#[cfg(feature = "sign")]
mod sct;
#[cfg(feature = "sign")]
mod sign;
#[cfg(feature = "sign")]
mod token;
mod trust;
#[cfg(feature = "sign")]
mod tsa;
mod verify;

pub use error::{Check, SigstoreError};
#[cfg(feature = "sign")]
pub use oauth::{LoginError, OAuthEndpoint, Secret, MAX_RESPONSE_BYTES, OOB_REDIRECT_URI};
pub use policy::{oidc_issuer, IdentityPolicy, Match};
#[cfg(feature = "sign")]
pub use sign::{Service, SignedBundle, SigningConfig, SigningError, SigstoreSigner};
#[cfg(feature = "sign")]
pub use token::{
    IdentityToken, InteractiveLogin, LoginCallbacks, NoLoginCallbacks, TokenSource, AUDIENCE,
};
pub use trust::{TrustRoot, CLIENT_TRUST_CONFIG_MEDIA_TYPE, TRUSTED_ROOT_MEDIA_TYPES};
#[cfg(feature = "sign")]
pub use tsa::{HttpTimestamper, TsaError, MAX_TIMESTAMP_RESPONSE_BYTES};
pub use verify::{
    Artifact, DigestAlgorithm, SigstoreBundle, SigstoreKeyVerifier, SigstoreVerifier, Verification,
};

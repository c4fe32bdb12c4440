//! Keyless signing: an identity token, a Fulcio certificate for an ephemeral
//! P-256 key, a transparency log entry (Rekor v1 `dsse`, or Rekor v2
//! `hashedrekord` over the DSSE PAE) and, when the instance has a timestamp
//! authority, an RFC 3161 timestamp.
//!
//! The network calls are async (sigstore-sign's clients); a
//! [`SigstoreSigner`] owns a current-thread tokio runtime and blocks on it,
//! so callers, like the core crate's [`BundleSigner`], stay synchronous. Do
//! not call it from inside another tokio runtime.
//!
//! Before the certificate's key signs anything, the certificate is checked:
//! it must certify the ephemeral key, chain to a Fulcio CA of the trusted
//! root now (the chain Fulcio returns is ignored beyond the leaf), and carry
//! an SCT that verifies with a trusted CT log key. After signing, the whole
//! bundle goes through [`SigstoreVerifier`], so a bundle that this crate
//! would not accept is never returned.

use std::path::{Path, PathBuf};
use std::time::Duration;

use model_signing::bundle::VerificationMaterial;
use model_signing::dsse::pae;
use model_signing::keys::PublicKey;
use model_signing::sign::{BundleSigner, SignError, SignedPae};
use model_signing::x509::{verify_chain, Certificate, ChainPolicy};
use serde_json::Value;
use sigstore_sign::bundle::BundleV03;
use sigstore_sign::crypto::{sha256, KeyPair};
use sigstore_sign::fulcio::{FulcioClient, SigningCertificate};
use sigstore_sign::rekor::{
    DsseEntry, HashedRekord, HashedRekordV2, RekorApiVersion, RekorClient, RekorV2Client,
    RekorV2KeyDetails,
};
use sigstore_sign::trust_root::SigstoreInstance;
use sigstore_sign::tsa::TimestampClient;
use sigstore_sign::types::{
    DerCertificate, DsseEnvelope, DsseSignature, KeyId, KindVersion, PayloadBytes, SignatureBytes,
    TimestampToken, TransparencyLogEntry,
};
use sigstore_sign::{reqwest, SigningServices};

use crate::error::SigstoreError;
use crate::oauth::LoginError;
use crate::policy::{certificate_identity, IdentityPolicy, Match};
use crate::token::{self, IdentityToken, LoginCallbacks, NoLoginCallbacks, TokenSource};
use crate::trust::TrustRoot;
use crate::trust::MAX_TRUST_FILE_BYTES;
use crate::verify::{Artifact, DigestAlgorithm, SigstoreBundle, SigstoreVerifier};

/// Timeout of each request to a Sigstore service.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A service contacted while signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// The certificate authority.
    Fulcio,
    /// The transparency log.
    Rekor,
    /// The RFC 3161 timestamp authority.
    Tsa,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::Fulcio => "Fulcio (certificate authority)",
            Service::Rekor => "Rekor (transparency log)",
            Service::Tsa => "timestamp authority",
        })
    }
}

/// Why keyless signing failed.
///
/// [`Io`](Self::Io), [`Trust`](Self::Trust) and
/// [`SigningConfig`](Self::SigningConfig) are trouble with the caller's
/// setup; the token variants with the identity; [`Service`](Self::Service)
/// and [`CertificateRejected`](Self::CertificateRejected) with the services
/// (a rejected certificate is never used to sign).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The trusted root is unusable.
    #[error("cannot use the Sigstore trust material")]
    Trust(#[source] SigstoreError),
    /// The signing config is malformed or names no usable services.
    #[error("invalid Sigstore signing config ({origin}): {detail}")]
    SigningConfig {
        /// Where it came from.
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// The identity token is not a JWT with the claims Sigstore needs.
    #[error("invalid identity token: {0}")]
    InvalidToken(String),
    /// The identity token has expired.
    #[error("the identity token expired at {expired_at} (Unix seconds); get a fresh one")]
    TokenExpired {
        /// The token's `exp` claim.
        expired_at: i64,
    },
    /// No source gave an identity token.
    #[error("no identity token: none was given, no ambient CI credentials were found, and the interactive login is not enabled")]
    NoToken,
    /// Ambient CI credentials were detected but could not be obtained.
    #[error("cannot get an identity token from the CI environment: {0}")]
    Ambient(String),
    /// The interactive login failed.
    #[error("interactive login failed")]
    Login(#[source] LoginError),
    /// A service refused the request or could not be reached.
    #[error("{service}: {detail}")]
    Service {
        /// Which service.
        service: Service,
        /// What went wrong.
        detail: String,
    },
    /// The certificate Fulcio issued is not one to sign with.
    #[error("the certificate from Fulcio was rejected before signing: {0}")]
    CertificateRejected(String),
    /// The finished bundle does not verify (a faulty service answer).
    #[error("the signed bundle does not verify")]
    SelfCheck(#[source] SigstoreError),
    /// Key generation, signing or the async runtime failed.
    #[error("internal error: {0}")]
    Internal(String),
}

fn config_error(origin: &str, detail: impl Into<String>) -> SigningError {
    SigningError::SigningConfig {
        origin: origin.to_owned(),
        detail: detail.into(),
    }
}

fn service(service: Service) -> impl Fn(&dyn std::fmt::Display) -> SigningError {
    move |e| SigningError::Service {
        service,
        detail: e.to_string(),
    }
}

fn internal(e: impl std::fmt::Display) -> SigningError {
    SigningError::Internal(e.to_string())
}

/// A Sigstore instance to sign with: the services of its signing config,
/// and the trusted root that checks what they return.
pub struct SigningConfig {
    origin: String,
    trusted_root_json: Vec<u8>,
    trust: TrustRoot,
    services: SigningServices,
}

impl std::fmt::Debug for SigningConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningConfig")
            .field("origin", &self.origin)
            .field("fulcio", &self.fulcio_url())
            .field("rekor", &self.rekor_url())
            .field("rekor_version", &self.rekor_version())
            .field("tsa", &self.tsa_url())
            .finish()
    }
}

impl SigningConfig {
    /// The Sigstore public-good production instance (embedded trusted root
    /// and signing config snapshots).
    pub fn production() -> Result<Self, SigningError> {
        Self::embedded(SigstoreInstance::PublicGood, "embedded production root")
    }

    /// The Sigstore public-good staging instance (embedded snapshots).
    pub fn staging() -> Result<Self, SigningError> {
        Self::embedded(SigstoreInstance::Staging, "embedded staging root")
    }

    fn embedded(instance: SigstoreInstance, origin: &str) -> Result<Self, SigningError> {
        let config = instance
            .embedded_signing_config_json()
            .ok_or_else(|| config_error(origin, "no embedded signing config"))?;
        Self::from_parts(
            instance.embedded_trusted_root_json().as_bytes(),
            config.as_bytes(),
            origin,
        )
    }

    /// A ClientTrustConfig file (`trustedRoot` + `signingConfig`), as taken
    /// by the reference's `--trust_config`.
    pub fn from_trust_config_file(path: &Path) -> Result<Self, SigningError> {
        Self::from_trust_config_json(&read_file(path)?, &path.display().to_string())
    }

    /// A ClientTrustConfig document; `origin` names it in errors.
    pub fn from_trust_config_json(bytes: &[u8], origin: &str) -> Result<Self, SigningError> {
        // The trust root reader checks the media types and the trusted root.
        TrustRoot::from_trust_config_json(bytes, origin).map_err(SigningError::Trust)?;
        let value = model_signing::__private::parse_strict(bytes, MAX_TRUST_FILE_BYTES as usize)
            .map_err(|e| config_error(origin, e.to_string()))?;
        let root = value
            .get("trustedRoot")
            .ok_or_else(|| config_error(origin, "no trustedRoot"))?;
        let signing = value
            .get("signingConfig")
            .ok_or_else(|| config_error(origin, "the client trust config has no signingConfig"))?;
        Self::from_parts(
            root.to_string().as_bytes(),
            signing.to_string().as_bytes(),
            origin,
        )
    }

    /// A trusted root and a signing config (v0.2), as separate documents.
    pub fn from_parts(
        trusted_root_json: &[u8],
        signing_config_json: &[u8],
        origin: &str,
    ) -> Result<Self, SigningError> {
        let trust = TrustRoot::from_trusted_root_json(trusted_root_json, origin)
            .map_err(SigningError::Trust)?;
        let text = std::str::from_utf8(signing_config_json)
            .map_err(|_| config_error(origin, "the signing config is not UTF-8"))?;
        let config = sigstore_sign::trust_root::SigningConfig::from_json(text)
            .map_err(|e| config_error(origin, e.to_string()))?;
        let services = select_services(&config).map_err(|e| config_error(origin, e))?;
        services
            .validate()
            .map_err(|e| config_error(origin, e.to_string()))?;
        Ok(SigningConfig {
            origin: origin.to_owned(),
            trusted_root_json: trusted_root_json.to_vec(),
            trust,
            services,
        })
    }

    /// Files with a trusted root and a signing config.
    pub fn from_files(trusted_root: &Path, signing_config: &Path) -> Result<Self, SigningError> {
        Self::from_parts(
            &read_file(trusted_root)?,
            &read_file(signing_config)?,
            &format!("{} + {}", trusted_root.display(), signing_config.display()),
        )
    }

    /// Where the configuration came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The certificate authority.
    pub fn fulcio_url(&self) -> &str {
        self.services.fulcio_url()
    }

    /// The transparency log.
    pub fn rekor_url(&self) -> &str {
        self.services.rekor_url()
    }

    /// The transparency log's major API version (1 or 2).
    pub fn rekor_version(&self) -> u32 {
        self.services.rekor_api_version().major()
    }

    /// The timestamp authority, if timestamps are requested.
    pub fn tsa_url(&self) -> Option<&str> {
        self.services.tsa_url()
    }

    /// The identity provider of the interactive login.
    pub fn oidc_url(&self) -> Option<&str> {
        self.services.oidc_url()
    }

    /// Uses another identity provider (an OIDC issuer URL) for the
    /// interactive login than the one the signing config names, like the
    /// reference's `oidc_issuer`.
    pub fn with_oidc_url(mut self, issuer: impl Into<String>) -> Self {
        self.services = self.services.with_oidc_url(issuer);
        self
    }
}

/// The services to use. sigstore-sign's selection requires a timestamp
/// authority; an instance without one (Rekor v1, where the SET dates the
/// signature) is accepted here with the same Fulcio and Rekor choice.
fn select_services(
    config: &sigstore_sign::trust_root::SigningConfig,
) -> Result<SigningServices, String> {
    use sigstore_sign::{ConfigError, Error};
    match SigningServices::from_signing_config(config) {
        Ok(services) => Ok(services),
        Err(Error::Config(ConfigError::MissingService(sigstore_sign::Service::Tsa)))
            if config.eligible_tsa_urls().is_empty() =>
        {
            let fulcio = config
                .fulcio_url()
                .ok_or("no eligible Fulcio endpoint in the signing config")?;
            let rekor = config
                .rekor_url(None)
                .ok_or("no eligible Rekor endpoint in the signing config")?;
            let version =
                RekorApiVersion::from_major(rekor.major_api_version).ok_or_else(|| {
                    format!("unsupported Rekor API version {}", rekor.major_api_version)
                })?;
            let mut services = SigningServices::new(fulcio.url.clone(), rekor.url.clone())
                .with_rekor(rekor.url.clone(), version);
            if let Some(oidc) = config.oidc_url() {
                services = services.with_oidc_url(oidc.url.clone());
            }
            Ok(services)
        }
        Err(e) => Err(e.to_string()),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, SigningError> {
    let io = |source| SigningError::Io {
        path: path.to_owned(),
        source,
    };
    let too_large = || {
        config_error(
            &path.display().to_string(),
            format!("larger than the {MAX_TRUST_FILE_BYTES} bytes accepted"),
        )
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > MAX_TRUST_FILE_BYTES {
        return Err(too_large());
    }
    // Bounded read too: the file may grow after its size was read, and a
    // device or pipe has no size.
    match model_signing::limits::read_bounded(file, MAX_TRUST_FILE_BYTES, size).map_err(io)? {
        Some(mut bytes) => Ok(std::mem::take(&mut *bytes)),
        None => Err(too_large()),
    }
}

/// A finished Sigstore bundle (v0.3) and what it says about its signer.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    json: Value,
    signature: Vec<u8>,
    certificate: Vec<u8>,
    identity: Option<String>,
    issuer: Option<String>,
}

impl SignedBundle {
    /// The bundle as pretty-printed JSON, newline-terminated.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.json).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The bundle as a JSON value.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The DER signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signing certificate, DER.
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    /// The identity the certificate names (SAN).
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The OIDC issuer the certificate names.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
}

/// What is signed.
enum Content<'a> {
    /// A DSSE envelope's payload (the signature is over its PAE).
    Dsse {
        payload_type: &'a str,
        payload: &'a [u8],
    },
    /// An artifact, as a message signature (hashedrekord).
    Message(&'a [u8]),
}

/// Signs with a short-lived Fulcio certificate, logs the signature and
/// timestamps it. Implements the core crate's [`BundleSigner`]: the identity
/// token and the certificate are obtained in
/// [`sign_envelope`](BundleSigner::sign_envelope), after the model was hashed.
pub struct SigstoreSigner {
    config: SigningConfig,
    sources: Vec<TokenSource>,
    callbacks: Box<dyn LoginCallbacks>,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for SigstoreSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigstoreSigner")
            .field("config", &self.config)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl SigstoreSigner {
    /// A signer for the instance `config`, taking its identity token from
    /// the first of `sources` that gives one.
    pub fn new(config: SigningConfig, sources: Vec<TokenSource>) -> Result<Self, SigningError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(internal)?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("model-signing-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(internal)?;
        Ok(SigstoreSigner {
            config,
            sources,
            callbacks: Box::new(NoLoginCallbacks),
            http,
            runtime,
        })
    }

    /// How the interactive login talks to the user (by default it cannot).
    pub fn with_callbacks(mut self, callbacks: Box<dyn LoginCallbacks>) -> Self {
        self.callbacks = callbacks;
        self
    }

    /// The instance signed with.
    pub fn config(&self) -> &SigningConfig {
        &self.config
    }

    /// Signs a DSSE payload (for a model signature, the in-toto statement).
    /// The finished bundle is verified against the statement's first sha256
    /// subject; a payload without one is returned unverified.
    pub fn sign_dsse(
        &self,
        payload_type: &str,
        payload: &[u8],
    ) -> Result<SignedBundle, SigningError> {
        self.runtime.block_on(self.sign(Content::Dsse {
            payload_type,
            payload,
        }))
    }

    /// Signs an artifact as a message signature (a `hashedrekord` entry).
    pub fn sign_message(&self, artifact: &[u8]) -> Result<SignedBundle, SigningError> {
        self.runtime.block_on(self.sign(Content::Message(artifact)))
    }

    /// Obtains an identity token from the first of the sources that gives
    /// one (running the interactive login, if it comes to that), as signing
    /// does. The token can be given to other signers as a
    /// [`TokenSource::Token`].
    pub fn identity_token(&self) -> Result<IdentityToken, SigningError> {
        self.runtime.block_on(self.token())
    }

    async fn token(&self) -> Result<IdentityToken, SigningError> {
        for source in &self.sources {
            match source {
                TokenSource::Token(t) => return Ok(t.clone()),
                TokenSource::Ambient => {
                    if let Some(t) = token::ambient(&self.http).await? {
                        return Ok(t);
                    }
                }
                TokenSource::Interactive(login) => {
                    return token::interactive(
                        self.config.oidc_url(),
                        login,
                        self.callbacks.as_ref(),
                    )
                    .await;
                }
            }
        }
        Err(SigningError::NoToken)
    }

    async fn sign(&self, content: Content<'_>) -> Result<SignedBundle, SigningError> {
        let token = self.token().await?;
        if token.is_expired() {
            return Err(SigningError::TokenExpired {
                expired_at: token.expires_at(),
            });
        }

        // An ephemeral key and its certificate, checked before any use.
        let key = KeyPair::generate_ecdsa_p256().map_err(internal)?;
        let fulcio = FulcioClient::builder(self.config.fulcio_url())
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| service(Service::Fulcio)(&e))?;
        let issued = fulcio
            .create_signing_certificate(token.inner(), &key)
            .await
            .map_err(|e| service(Service::Fulcio)(&e))?;
        let chain = match &issued {
            SigningCertificate::EmbeddedSct { chain } => chain,
            _ => {
                return Err(SigningError::CertificateRejected(
                    "Fulcio returned a detached SCT, which a bundle cannot carry".into(),
                ))
            }
        };
        let leaf_der = chain
            .first()
            .ok_or_else(|| SigningError::CertificateRejected("empty certificate chain".into()))?
            .clone();
        let public = PublicKey::from_spki_der(key.public_key_der().map_err(internal)?.as_bytes())
            .map_err(internal)?;
        let leaf = check_certificate(
            &self.config.trust,
            leaf_der.as_bytes(),
            &public,
            model_signing::sign::now(),
        )?;

        // Sign, log, timestamp.
        let (signed, artifact_digest) = match content {
            Content::Dsse {
                payload_type,
                payload,
            } => {
                let message = pae(payload_type, payload);
                let signature = sign_checked(&key, &public, &message)?;
                let envelope = DsseEnvelope::new(
                    payload_type,
                    PayloadBytes::new(payload.to_vec()),
                    DsseSignature::new(signature.clone(), KeyId::default()),
                );
                let entry = self
                    .log_dsse(&envelope, &message, &signature, &leaf_der)
                    .await?;
                let digest = first_sha256_subject(payload);
                ((signature, entry, Some(envelope), None), digest)
            }
            Content::Message(artifact) => {
                let signature = sign_checked(&key, &public, artifact)?;
                let digest = sha256(artifact);
                let entry = self
                    .log_hashedrekord(&digest, &signature, &leaf_der)
                    .await?;
                (
                    (signature, entry, None, Some(digest)),
                    Some(digest.as_bytes().to_vec()),
                )
            }
        };
        let (signature, entry, envelope, message_digest) = signed;
        let timestamp = match self.config.tsa_url() {
            Some(url) => Some(self.timestamp(url, &signature).await?),
            None => None,
        };

        let mut bundle = match (envelope, message_digest) {
            (Some(envelope), _) => BundleV03::with_certificate_and_dsse(leaf_der.clone(), envelope),
            (None, Some(digest)) => BundleV03::with_certificate_and_signature(
                leaf_der.clone(),
                signature.clone(),
                digest,
            ),
            (None, None) => return Err(internal("nothing was signed")),
        }
        .with_tlog_entry(entry);
        if let Some(ts) = timestamp {
            bundle = bundle.with_rfc3161_timestamp(ts);
        }
        let text = bundle.into_bundle().to_json().map_err(internal)?;

        let identity = certificate_identity(&leaf).map_err(SigningError::SelfCheck)?;
        if let Some(digest) = artifact_digest {
            self.self_check(&text, digest, &identity)?;
        }
        let json: Value = serde_json::from_str(&text).map_err(internal)?;
        Ok(SignedBundle {
            json,
            signature: signature.as_bytes().to_vec(),
            certificate: leaf_der.as_bytes().to_vec(),
            identity: identity.identity,
            issuer: identity.issuer,
        })
    }

    async fn log_dsse(
        &self,
        envelope: &DsseEnvelope,
        message: &[u8],
        signature: &SignatureBytes,
        certificate: &DerCertificate,
    ) -> Result<TransparencyLogEntry, SigningError> {
        let rekor = service(Service::Rekor);
        match self.config.services.rekor_api_version() {
            RekorApiVersion::V1 => {
                let client = self.rekor_v1()?;
                let request = DsseEntry::new(envelope, certificate).map_err(|e| rekor(&e))?;
                let entry = client
                    .create_dsse_entry(request)
                    .await
                    .map_err(|e| rekor(&e))?;
                entry
                    .to_bundle_entry(KindVersion::DsseV001)
                    .map_err(|e| rekor(&e))
            }
            RekorApiVersion::V2 => {
                // Rekor v2 logs DSSE signatures as hashedrekord entries over the PAE.
                self.log_v2(&sha256(message), signature, certificate).await
            }
            other => Err(rekor(&format!("unsupported API version {}", other.major()))),
        }
    }

    async fn log_hashedrekord(
        &self,
        digest: &sigstore_sign::types::Sha256Hash,
        signature: &SignatureBytes,
        certificate: &DerCertificate,
    ) -> Result<TransparencyLogEntry, SigningError> {
        let rekor = service(Service::Rekor);
        match self.config.services.rekor_api_version() {
            RekorApiVersion::V1 => {
                let client = self.rekor_v1()?;
                let entry = client
                    .create_entry(HashedRekord::new(digest, signature, certificate))
                    .await
                    .map_err(|e| rekor(&e))?;
                entry
                    .to_bundle_entry(KindVersion::HashedRekordV001)
                    .map_err(|e| rekor(&e))
            }
            RekorApiVersion::V2 => self.log_v2(digest, signature, certificate).await,
            other => Err(rekor(&format!("unsupported API version {}", other.major()))),
        }
    }

    fn rekor_v1(&self) -> Result<RekorClient, SigningError> {
        RekorClient::builder(self.config.rekor_url())
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| service(Service::Rekor)(&e))
    }

    async fn log_v2(
        &self,
        digest: &sigstore_sign::types::Sha256Hash,
        signature: &SignatureBytes,
        certificate: &DerCertificate,
    ) -> Result<TransparencyLogEntry, SigningError> {
        let rekor = service(Service::Rekor);
        let client = RekorV2Client::builder(self.config.rekor_url())
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| rekor(&e))?;
        client
            .create_entry(HashedRekordV2::new_with_certificate(
                digest,
                signature,
                certificate,
                RekorV2KeyDetails::PkixEcdsaP256Sha256,
            ))
            .await
            .map_err(|e| rekor(&e))
    }

    async fn timestamp(
        &self,
        url: &str,
        signature: &SignatureBytes,
    ) -> Result<TimestampToken, SigningError> {
        let tsa = service(Service::Tsa);
        TimestampClient::builder(url)
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| tsa(&e))?
            .timestamp_signature(signature)
            .await
            .map_err(|e| tsa(&e))
    }

    /// Verifies the finished bundle as a verifier will.
    fn self_check(
        &self,
        bundle_json: &str,
        digest: Vec<u8>,
        identity: &crate::policy::CertIdentity,
    ) -> Result<(), SigningError> {
        let trust =
            TrustRoot::from_trusted_root_json(&self.config.trusted_root_json, &self.config.origin)
                .map_err(SigningError::Trust)?;
        let policy = IdentityPolicy::new(
            identity
                .identity
                .clone()
                .map_or_else(Match::absent, Match::exact),
            identity
                .issuer
                .clone()
                .map_or_else(Match::absent, Match::exact),
        );
        let bundle =
            SigstoreBundle::from_json(bundle_json.as_bytes()).map_err(SigningError::SelfCheck)?;
        SigstoreVerifier::new(trust, policy)
            .verify_artifact(
                &bundle,
                &Artifact::Digest {
                    algorithm: DigestAlgorithm::Sha256,
                    value: digest,
                },
            )
            .map_err(SigningError::SelfCheck)?;
        Ok(())
    }
}

/// Signs and checks the signature with the public key.
fn sign_checked(
    key: &KeyPair,
    public: &PublicKey,
    message: &[u8],
) -> Result<SignatureBytes, SigningError> {
    let signature = key.sign(message).map_err(internal)?;
    public
        .verify(message, signature.as_bytes())
        .map_err(|_| internal("the signature just made does not verify"))?;
    Ok(signature)
}

/// The certificate must certify `key`, chain to a Fulcio CA of the trusted
/// root at `time` (intermediates from Fulcio's answer are not used), and
/// carry an SCT from a trusted CT log.
fn check_certificate(
    trust: &TrustRoot,
    leaf_der: &[u8],
    key: &PublicKey,
    time: i64,
) -> Result<Certificate, SigningError> {
    let reject = |d: String| SigningError::CertificateRejected(d);
    let leaf = Certificate::from_der(leaf_der).map_err(|e| reject(e.to_string()))?;
    let certified = PublicKey::from_spki_der(leaf.spki_der())
        .map_err(|e| reject(format!("its public key cannot be read: {e}")))?;
    if &certified != key {
        return Err(reject("it certifies another key than the one sent".into()));
    }
    // A client clock a little behind Fulcio's must not reject a certificate
    // issued just now: the chain is checked no earlier than its notBefore.
    // The verified times of the finished bundle come from the services.
    let time = time.max(leaf.not_before());
    let anchors: Vec<Certificate> = trust
        .fulcio
        .iter()
        .filter(|ca| {
            ca.valid_for.is_none_or(|w| {
                w.start.as_second() <= time && w.end.is_none_or(|e| time <= e.as_second())
            })
        })
        .flat_map(|ca| ca.certificates.iter().cloned())
        .collect();
    let path = verify_chain(&leaf, &[], &anchors, &ChainPolicy::sigstore(time))
        .map_err(|e| reject(format!("it does not chain to a trusted Fulcio CA: {e}")))?;
    let issuer = path
        .get(1)
        .ok_or_else(|| reject("it is itself a trust anchor".into()))?;
    if trust.has_ct_log() {
        crate::sct::check_embedded_sct(trust, &leaf, issuer)
            .map_err(|e| reject(format!("its SCT: {e}")))?;
    }
    Ok(leaf)
}

/// The digest of the statement's first sha256 subject, if any.
fn first_sha256_subject(payload: &[u8]) -> Option<Vec<u8>> {
    let statement: Value = serde_json::from_slice(payload).ok()?;
    statement
        .get("subject")?
        .as_array()?
        .iter()
        .find_map(|s| s.get("digest")?.get("sha256")?.as_str())
        .and_then(|h| hex::decode(h).ok())
        .filter(|d| d.len() == 32)
}

impl BundleSigner for SigstoreSigner {
    fn sign_envelope(&self, payload_type: &str, payload: &[u8]) -> Result<SignedPae, SignError> {
        let method = |e: SigningError| SignError::Method {
            method: "sigstore",
            source: Box::new(e),
        };
        let bundle = self.sign_dsse(payload_type, payload).map_err(method)?;
        let material = &bundle.json["verificationMaterial"];
        let tlog_entries = material["tlogEntries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let timestamp_data = material
            .get("timestampVerificationData")
            .filter(|t| {
                t.get("rfc3161Timestamps")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
            })
            .cloned();
        Ok(SignedPae {
            signature: bundle.signature,
            material: VerificationMaterial::Certificate(bundle.certificate),
            tlog_entries,
            timestamp_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_instances_give_services() {
        let prod = SigningConfig::production().expect("production");
        assert!(prod.fulcio_url().starts_with("https://"));
        assert!(prod.oidc_url().is_some());
        let staging = SigningConfig::staging().expect("staging");
        assert_eq!(staging.rekor_version(), 2);
        assert!(staging.tsa_url().is_some());
    }

    #[test]
    fn subject_digest() {
        let digest = "ab".repeat(32);
        let statement =
            format!(r#"{{"subject": [{{"name": "m", "digest": {{"sha256": "{digest}"}}}}]}}"#);
        assert_eq!(
            first_sha256_subject(statement.as_bytes()),
            hex::decode(&digest).ok()
        );
        assert_eq!(first_sha256_subject(b"{}"), None);
        assert_eq!(
            first_sha256_subject(br#"{"subject": [{"digest": {"sha256": "ab"}}]}"#),
            None
        );
    }
}

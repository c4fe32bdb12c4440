//! Identity tokens for keyless signing, and where they come from: given
//! explicitly, ambient CI credentials, or an interactive OAuth login.

use std::fmt;
use std::time::Duration;

use sigstore_sign::oidc;

use crate::oauth::{self, LoginError, Secret};
use crate::sign::SigningError;

/// The audience every Sigstore identity token is requested for.
pub const AUDIENCE: &str = "sigstore";

/// How long an ambient-credential request may take.
const AMBIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest response read from a cloud metadata server.
const MAX_METADATA_BYTES: usize = 64 << 10;

/// An OIDC identity token (a JWT). Its claims are read without checking the
/// signature: the certificate authority authenticates the token, this client
/// only needs to know who it names. `Debug` does not show the token.
#[derive(Clone)]
pub struct IdentityToken {
    inner: oidc::IdentityToken,
}

impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityToken")
            .field("issuer", &self.issuer())
            .field("identity", &self.identity())
            .field("expires_at", &self.expires_at())
            .finish_non_exhaustive()
    }
}

impl IdentityToken {
    /// Reads a JWT (surrounding white space is ignored). Refuses text that is
    /// not a JWT with `iss`, `sub` and `exp` claims; does not check expiry.
    pub fn parse(jwt: &str) -> Result<Self, SigningError> {
        let jwt = jwt.trim();
        oidc::IdentityToken::from_jwt(jwt)
            .map(|inner| IdentityToken { inner })
            .map_err(|e| SigningError::InvalidToken(e.to_string()))
    }

    fn from_inner(inner: oidc::IdentityToken) -> Self {
        IdentityToken { inner }
    }

    pub(crate) fn inner(&self) -> &oidc::IdentityToken {
        &self.inner
    }

    /// The `iss` claim: the identity provider.
    pub fn issuer(&self) -> &str {
        self.inner.issuer()
    }

    /// The identity the certificate authority will certify for most
    /// providers: the `email` claim, else `sub`.
    pub fn identity(&self) -> &str {
        self.inner.identity()
    }

    /// The `exp` claim, Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.inner.expiration().as_second()
    }

    /// Whether the token has expired.
    pub fn is_expired(&self) -> bool {
        self.inner.is_expired()
    }

    /// Whether the `aud` claim names `sigstore`.
    pub fn is_for_sigstore(&self) -> bool {
        self.inner.claims().aud.contains(AUDIENCE)
    }
}

/// Options of the interactive OAuth login (the reference's
/// `--oauth_force_oob`, `--client_id`, `--client_secret`).
///
/// The login is the authorization code flow with PKCE (`S256`) against the
/// signing config's identity provider, whose endpoints come from its OIDC
/// discovery document. With a browser, the provider redirects to
/// `http://localhost:PORT/auth/callback` (a listener on 127.0.0.1) and the
/// returned `state` must match; out of band, the redirect URI is
/// `urn:ietf:wg:oauth:2.0:oob` and the user pastes the code. A client
/// secret is sent to the token endpoint only: HTTP Basic
/// (`client_secret_basic`), or form fields when the provider's discovery
/// document offers only `client_secret_post`.
#[derive(Debug, Clone)]
pub struct InteractiveLogin {
    /// Never open a browser: print the URL and read the code the provider
    /// shows (out of band).
    pub force_oob: bool,
    /// The OAuth client ID (`sigstore` for the public instances).
    pub client_id: String,
    /// The OAuth client secret of a confidential client. Sigstore's public
    /// identity providers use a public client without one; an empty secret
    /// counts as none.
    pub client_secret: Option<Secret>,
}

impl Default for InteractiveLogin {
    fn default() -> Self {
        InteractiveLogin {
            force_oob: false,
            client_id: "sigstore".to_owned(),
            client_secret: None,
        }
    }
}

/// One place an identity token may come from. A signer tries its sources in
/// order, when it signs (after the model is hashed).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TokenSource {
    /// A token already at hand (a flag, a file, `SIGSTORE_ID_TOKEN`).
    Token(IdentityToken),
    /// Ambient CI credentials, if this process runs where some are offered:
    /// GitHub Actions (`ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`, needs
    /// `id-token: write`), GitLab CI (`SIGSTORE_ID_TOKEN`), Buildkite
    /// (`buildkite-agent oidc request-token`), CircleCI (`circleci run
    /// oidc get`) and Google Cloud (the instance metadata server, or
    /// `GCE_METADATA_HOST`). Skipped when none are detected.
    Ambient,
    /// The interactive OAuth login with the instance's identity provider.
    Interactive(InteractiveLogin),
}

/// How the interactive login reaches the user. The library never prints,
/// reads the terminal or starts a browser itself; a command-line tool
/// implements this.
pub trait LoginCallbacks: Send + Sync {
    /// Opens `url` (the provider's login page) in a web browser; says
    /// whether one was opened. Then the provider sends the browser back to
    /// a local listener with the code. The default opens none, and the
    /// login goes out of band.
    fn open_browser(&self, url: &str) -> bool {
        let _ = url;
        false
    }
    /// The login URL is ready. `browser_opened` says whether a browser was
    /// opened on it (then the code comes back by redirect); otherwise the
    /// user must open it and [`prompt_for_code`](Self::prompt_for_code) follows.
    fn login_url(&self, url: &str, browser_opened: bool);
    /// Asks the user for the code the identity provider showed (surrounding
    /// white space is ignored).
    fn prompt_for_code(&self) -> std::io::Result<Secret>;
    /// Waiting for the browser to come back.
    fn waiting_for_browser(&self) {}
    /// The login succeeded.
    fn logged_in(&self) {}
}

/// Callbacks for when nobody can answer: the out-of-band prompt fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLoginCallbacks;

impl LoginCallbacks for NoLoginCallbacks {
    fn login_url(&self, _url: &str, _browser_opened: bool) {}
    fn prompt_for_code(&self) -> std::io::Result<Secret> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no way to ask for the login code",
        ))
    }
}

/// Runs the interactive login against `oidc_url`, the identity provider
/// of the signing config (see [`InteractiveLogin`]).
pub(crate) async fn interactive(
    oidc_url: Option<&str>,
    login: &InteractiveLogin,
    callbacks: &dyn LoginCallbacks,
) -> Result<IdentityToken, SigningError> {
    let jwt = oauth::login(oidc_url, login, callbacks)
        .await
        .map_err(SigningError::Login)?;
    let token = oidc::IdentityToken::from_jwt(jwt.expose())
        .map_err(|e| SigningError::Login(LoginError::InvalidIdToken(e.to_string())))?;
    callbacks.logged_in();
    Ok(IdentityToken::from_inner(token))
}

/// Looks for ambient CI credentials; `Ok(None)` when this is not a CI
/// environment that offers them.
pub(crate) async fn ambient(
    http: &sigstore_sign::reqwest::Client,
) -> Result<Option<IdentityToken>, SigningError> {
    // The detector's own error names only the platform; say what is missing.
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        for variable in [
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        ] {
            if std::env::var_os(variable).is_none() {
                return Err(SigningError::Ambient(format!(
                    "GitHub Actions: {variable} is not set (the job needs `permissions: id-token: write`)"
                )));
            }
        }
    }
    let detected = tokio::time::timeout(AMBIENT_TIMEOUT, oidc::IdentityToken::detect_ambient())
        .await
        .map_err(|_| SigningError::Ambient(format!("no answer within {AMBIENT_TIMEOUT:?}")))?
        .map_err(|e| SigningError::Ambient(e.to_string()))?;
    if let Some(token) = detected {
        return Ok(Some(IdentityToken::from_inner(token)));
    }
    google_cloud(http).await
}

/// The metadata server of a Google Cloud VM (GCE, GKE with workload
/// identity, Cloud Run, Cloud Build), found by `GCE_METADATA_HOST` or by the
/// machine's DMI product name.
fn google_metadata_host() -> Option<String> {
    if let Some(host) = std::env::var("GCE_METADATA_HOST")
        .ok()
        .filter(|h| !h.is_empty())
    {
        return Some(host);
    }
    let product = std::fs::read_to_string("/sys/class/dmi/id/product_name").ok()?;
    let product = product.trim();
    (product == "Google" || product == "Google Compute Engine")
        .then(|| "metadata.google.internal".to_owned())
}

async fn google_cloud(
    http: &sigstore_sign::reqwest::Client,
) -> Result<Option<IdentityToken>, SigningError> {
    let Some(host) = google_metadata_host() else {
        return Ok(None);
    };
    let url = format!(
        "http://{host}/computeMetadata/v1/instance/service-accounts/default/identity?audience={AUDIENCE}&format=full"
    );
    let fail = |detail: String| {
        SigningError::Ambient(format!("Google Cloud metadata server {host}: {detail}"))
    };
    let mut response = http
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .timeout(AMBIENT_TIMEOUT)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("status {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        if body.len() + chunk.len() > MAX_METADATA_BYTES {
            return Err(fail("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body).map_err(|_| fail("answer is not text".into()))?;
    IdentityToken::parse(&text).map(Some)
}

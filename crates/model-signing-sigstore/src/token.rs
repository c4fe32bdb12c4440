//! Identity tokens for keyless signing, and where they come from: given
//! explicitly, ambient CI credentials, or an interactive OAuth login.

use std::fmt;
use std::time::Duration;

use sigstore_sign::oidc;

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
#[derive(Debug, Clone)]
pub struct InteractiveLogin {
    /// Never open a browser: print the URL and read the code the provider
    /// shows (out of band).
    pub force_oob: bool,
    /// The OAuth client ID (`sigstore` for the public instances).
    pub client_id: String,
    /// The OAuth client secret. Sigstore's public identity provider uses a
    /// public client without one; a non-empty secret is refused, because the
    /// PKCE flow used here does not send it.
    pub client_secret: Option<String>,
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

/// How the interactive login reaches the user. The library never prints or
/// reads the terminal itself; a command-line tool implements this.
pub trait LoginCallbacks: Send + Sync {
    /// The login URL is ready. `browser_opened` says whether a browser was
    /// opened on it (then the code comes back by redirect); otherwise the
    /// user must open it and [`prompt_for_code`](Self::prompt_for_code) follows.
    fn login_url(&self, url: &str, browser_opened: bool);
    /// Asks the user for the code the identity provider showed.
    fn prompt_for_code(&self) -> std::io::Result<String>;
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
    fn prompt_for_code(&self) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no way to ask for the login code",
        ))
    }
}

/// Adapts [`LoginCallbacks`] to sigstore-oidc's callback trait.
struct Adapter<'a>(&'a dyn LoginCallbacks);

impl oidc::HtmlTemplates for Adapter<'_> {}

impl oidc::AuthCallback for Adapter<'_> {
    fn auth_url_ready(&self, url: &str, mode: oidc::AuthMode) {
        self.0
            .login_url(url, matches!(mode, oidc::AuthMode::BrowserRedirect));
    }

    fn prompt_for_code(&self) -> std::io::Result<oidc::SecretString> {
        self.0.prompt_for_code().map(oidc::SecretString::new)
    }

    fn waiting_for_redirect(&self) {
        self.0.waiting_for_browser();
    }

    fn auth_complete(&self) {
        self.0.logged_in();
    }
}

/// Runs the interactive login against `oidc_url` (a Dex issuer, as in the
/// signing configs of the public instances).
pub(crate) async fn interactive(
    oidc_url: Option<&str>,
    login: &InteractiveLogin,
    callbacks: &dyn LoginCallbacks,
    http: &sigstore_sign::reqwest::Client,
) -> Result<IdentityToken, SigningError> {
    if login
        .client_secret
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(SigningError::Login(
            "an OAuth client secret is not supported: the login uses PKCE with a public client \
             (Sigstore's identity providers need no secret)"
                .into(),
        ));
    }
    let oidc_url = oidc_url.ok_or_else(|| {
        SigningError::Login("the signing config names no OIDC identity provider".into())
    })?;
    let config = oidc::OAuthConfig::dex(oidc_url).with_client_id(login.client_id.clone());
    let client = oidc::OAuthClient::with_http_client(config, http.clone());
    let options = oidc::AuthOptions::new().with_force_oob(login.force_oob);
    client
        .authenticate_with_options(Adapter(callbacks), options)
        .await
        .map(IdentityToken::from_inner)
        .map_err(|e| SigningError::Login(e.to_string()))
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

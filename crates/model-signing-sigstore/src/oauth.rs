//! The interactive OAuth login: the authorization code flow with PKCE
//! (RFC 7636, `S256`) against the identity provider of the signing config.
//!
//! The provider's endpoints come from its OIDC discovery document
//! (`<issuer>/.well-known/openid-configuration`). With a browser, the
//! provider sends the browser back to a listener on 127.0.0.1
//! (`http://localhost:PORT/auth/callback`, the redirect URI the reference
//! uses), and the `state` it carries must be the one sent; out of band
//! (`urn:ietf:wg:oauth:2.0:oob`), the user pastes the code the provider
//! shows. The code and the PKCE verifier then go to the token endpoint. A
//! confidential client (one with a secret) authenticates there with HTTP
//! Basic (`client_secret_basic`, the OIDC default and what sigstore-python
//! sends), or with form fields (`client_secret_post`) when the provider
//! advertises only that; the secret never goes into the authorization URL.
//!
//! The client secret, the code, the verifier and the tokens live in
//! zeroizing buffers and are never formatted into messages; the HTTP
//! client's own buffers are beyond reach. Every answer is read up to a
//! bound, every exchange has a timeout, and every error names the endpoint
//! and, where there is one, the HTTP status.

use std::future::poll_fn;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sigstore_sign::reqwest::{self, header, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use crate::token::{InteractiveLogin, LoginCallbacks};

/// The redirect URI of the out-of-band flow: the provider shows the code.
pub const OOB_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";
/// The path of the loopback redirect URI.
const CALLBACK_PATH: &str = "/auth/callback";
/// The scopes asked for: an ID token with the e-mail address.
const SCOPES: &str = "openid email";
/// Timeout of each request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the user has to log in in the browser.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a connection to the loopback listener may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head accepted by the loopback listener.
const MAX_REQUEST_HEAD: usize = 8 << 10;
/// Connections the loopback listener serves at once; more are closed.
const MAX_CONNECTIONS: usize = 16;
/// Largest answer read from the provider (discovery documents and token
/// answers are a few kilobytes).
pub const MAX_RESPONSE_BYTES: usize = 128 << 10;
/// Longest text of the provider's kept in an error message.
const MAX_ERROR_TEXT: usize = 200;

/// A secret string (an OAuth client secret, an authorization code, a token):
/// wiped from memory when dropped, never shown by `Debug`.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(Zeroizing::new(secret.into()))
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Secret::new(secret)
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Secret::new(secret)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// An endpoint of the identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthEndpoint {
    /// The OIDC discovery document.
    Discovery,
    /// The authorization endpoint (the login page).
    Authorization,
    /// The token endpoint, where the code is exchanged.
    Token,
}

impl std::fmt::Display for OAuthEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OAuthEndpoint::Discovery => "the OIDC discovery document",
            OAuthEndpoint::Authorization => "the authorization endpoint",
            OAuthEndpoint::Token => "the token endpoint",
        })
    }
}

/// Why the interactive login failed.
///
/// [`NoProvider`](Self::NoProvider), [`Insecure`](Self::Insecure) and
/// [`Prompt`](Self::Prompt) are trouble with the setup; the endpoint
/// variants with the provider; [`Denied`](Self::Denied),
/// [`StateMismatch`](Self::StateMismatch) and [`NoCode`](Self::NoCode)
/// with the login itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The signing config names no identity provider.
    #[error("the signing config names no OIDC identity provider")]
    NoProvider,
    /// An endpoint is neither `https://` nor on the loopback interface:
    /// nothing is sent to it.
    #[error("{endpoint} {url} is not an https:// URL; nothing was sent to it")]
    Insecure {
        /// Which endpoint.
        endpoint: OAuthEndpoint,
        /// Its URL.
        url: String,
    },
    /// An endpoint could not be reached, or did not answer in time.
    #[error("{endpoint} {url}: {detail}")]
    Request {
        /// Which endpoint.
        endpoint: OAuthEndpoint,
        /// Its URL.
        url: String,
        /// What failed.
        detail: String,
    },
    /// An endpoint answered with an error status, or with an OAuth error
    /// object (`error`, `error_description`).
    #[error("{endpoint} {url} answered HTTP {status}{}", oauth_error(.error, .description))]
    Status {
        /// Which endpoint.
        endpoint: OAuthEndpoint,
        /// Its URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The OAuth error code, like `invalid_client` or `invalid_grant`.
        error: Option<String>,
        /// The provider's description of the error.
        description: Option<String>,
    },
    /// An endpoint answered with more than [`MAX_RESPONSE_BYTES`].
    #[error("{endpoint} {url} answered with more than {limit} bytes")]
    TooLarge {
        /// Which endpoint.
        endpoint: OAuthEndpoint,
        /// Its URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// An endpoint's answer is not what the protocol prescribes.
    #[error("{endpoint} {url} answered with an unusable document: {detail}")]
    Malformed {
        /// Which endpoint.
        endpoint: OAuthEndpoint,
        /// Its URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The provider sent the browser back with an error.
    #[error("the identity provider refused the login{}", oauth_error(&Some(.error.clone()), .description))]
    Denied {
        /// The OAuth error code, like `access_denied`.
        error: String,
        /// The provider's description.
        description: Option<String>,
    },
    /// The browser came back with another `state` than the one sent: a
    /// stale or forged answer. Its code is not used.
    #[error("the browser came back with another OAuth state than the one sent (a stale or forged login answer); its code was not used")]
    StateMismatch,
    /// No authorization code came back, or none was entered.
    #[error("no authorization code was received")]
    NoCode,
    /// The browser did not come back in time.
    #[error("the browser did not come back within {} seconds", .0.as_secs())]
    BrowserTimeout(Duration),
    /// The loopback listener for the browser's redirect failed.
    #[error("the local listener for the browser's redirect failed")]
    Listener(#[source] std::io::Error),
    /// The code could not be read from the user.
    #[error("cannot read the authorization code")]
    Prompt(#[source] std::io::Error),
    /// The token endpoint's `id_token` is not a JWT with the claims needed.
    #[error("the identity token from the token endpoint is unusable: {0}")]
    InvalidIdToken(String),
    /// The operating system's random generator failed.
    #[error("no randomness for the login: {0}")]
    Random(String),
}

fn oauth_error(error: &Option<String>, description: &Option<String>) -> String {
    match (error, description) {
        (Some(e), Some(d)) => format!(": {e} ({d})"),
        (Some(e), None) => format!(": {e}"),
        (None, Some(d)) => format!(": {d}"),
        (None, None) => String::new(),
    }
}

/// Text from the provider, made safe for a terminal and short: control
/// characters and bidirectional overrides become `?`.
fn printable(text: &str) -> String {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    let mut out: String = text
        .chars()
        .take(MAX_ERROR_TEXT)
        .map(|c| if unsafe_char(c) { '?' } else { c })
        .collect();
    if text.chars().nth(MAX_ERROR_TEXT).is_some() {
        out.push_str("...");
    }
    out
}

/// The endpoints of a provider, from its discovery document.
#[derive(Debug, Clone)]
struct Provider {
    authorization: Url,
    token: Url,
    /// `token_endpoint_auth_methods_supported`; empty when not given.
    auth_methods: Vec<String>,
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    /// A public client: `client_id` in the form, no secret.
    Public,
    /// `client_secret_basic`: HTTP Basic with the form-encoded ID and secret.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form.
    Post,
}

fn client_auth(secret: Option<&Secret>, supported: &[String]) -> ClientAuth {
    if secret.is_none_or(Secret::is_empty) {
        return ClientAuth::Public;
    }
    let offers = |m: &str| supported.iter().any(|s| s == m);
    // OIDC Discovery: an absent list means client_secret_basic.
    if offers("client_secret_post") && !offers("client_secret_basic") {
        ClientAuth::Post
    } else {
        ClientAuth::Basic
    }
}

/// Runs the login for `login` with the provider at `issuer`; returns the
/// raw ID token.
pub(crate) async fn login(
    issuer: Option<&str>,
    login: &InteractiveLogin,
    callbacks: &dyn LoginCallbacks,
) -> Result<Secret, LoginError> {
    let issuer = issuer.ok_or(LoginError::NoProvider)?;
    // Redirects are not followed: a token endpoint's 307 would send the
    // form, with a `client_secret_post` secret, to wherever it points.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .user_agent(concat!("model-signing-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| LoginError::Request {
            endpoint: OAuthEndpoint::Discovery,
            url: issuer.to_owned(),
            detail: format!("cannot set up an HTTP client: {e}"),
        })?;
    let http = &http;
    let provider = discover(http, issuer).await?;
    let verifier = random_text(32)?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()));
    let state = random_text(16)?;
    let flow = Flow {
        provider: &provider,
        client_id: &login.client_id,
        challenge: &challenge,
        state: &state,
        callbacks,
    };
    let from_browser = if login.force_oob {
        None
    } else {
        flow.browser().await?
    };
    let (code, redirect_uri) = match from_browser {
        Some(answer) => answer,
        None => flow.out_of_band()?,
    };
    exchange(http, &provider, login, &code, &verifier, &redirect_uri).await
}

/// 32 or 16 random bytes, base64url: a PKCE verifier (43 characters) or a state.
fn random_text(bytes: usize) -> Result<Secret, LoginError> {
    let mut raw = Zeroizing::new(vec![0u8; bytes]);
    OsRng
        .try_fill_bytes(&mut raw)
        .map_err(|e| LoginError::Random(e.to_string()))?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(&*raw)))
}

/// `https://`, or `http://` to the loopback interface (a local provider).
fn is_secure(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(|host| {
            host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

fn request_error(endpoint: OAuthEndpoint, url: &Url, e: &reqwest::Error) -> LoginError {
    let detail = if e.is_timeout() {
        format!("no answer within {} seconds", HTTP_TIMEOUT.as_secs())
    } else {
        // reqwest's own message is terse; its causes say what happened.
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        detail
    };
    LoginError::Request {
        endpoint,
        url: url.to_string(),
        detail,
    }
}

fn malformed(endpoint: OAuthEndpoint, url: &Url, detail: impl Into<String>) -> LoginError {
    LoginError::Malformed {
        endpoint,
        url: url.to_string(),
        detail: detail.into(),
    }
}

/// Reads an answer, up to [`MAX_RESPONSE_BYTES`].
async fn read_body(
    endpoint: OAuthEndpoint,
    url: &Url,
    mut response: reqwest::Response,
) -> Result<Zeroizing<Vec<u8>>, LoginError> {
    let too_large = || LoginError::TooLarge {
        endpoint,
        url: url.to_string(),
        limit: MAX_RESPONSE_BYTES,
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    // Allocated once: a growing buffer would leave unwiped copies behind.
    let mut body = Zeroizing::new(Vec::with_capacity(MAX_RESPONSE_BYTES));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| request_error(endpoint, url, &e))?
    {
        if chunk.len() > MAX_RESPONSE_BYTES - body.len() {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error of an answer with an error status: the status, and the OAuth
/// error object if the body holds one.
fn status_error(
    endpoint: OAuthEndpoint,
    url: &Url,
    status: u16,
    body: Option<&[u8]>,
) -> LoginError {
    let doc = body.and_then(|b| serde_json::from_slice::<Value>(b).ok());
    let (error, description) = doc.map_or((None, None), |doc| {
        let error = oauth_error_fields(&doc);
        wipe(doc);
        error
    });
    LoginError::Status {
        endpoint,
        url: url.to_string(),
        status,
        error,
        description,
    }
}

/// `error` and `error_description` of an OAuth error object.
fn oauth_error_fields(doc: &Value) -> (Option<String>, Option<String>) {
    let field = |name| doc.get(name).and_then(Value::as_str).map(printable);
    (field("error"), field("error_description"))
}

/// Drops a parsed answer, wiping every string in it (tokens included).
fn wipe(value: Value) {
    match value {
        Value::String(s) => drop(Zeroizing::new(s)),
        Value::Array(items) => items.into_iter().for_each(wipe),
        Value::Object(map) => map.into_iter().for_each(|(_, v)| wipe(v)),
        _ => {}
    }
}

/// Fetches and reads the provider's discovery document.
async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Provider, LoginError> {
    let endpoint = OAuthEndpoint::Discovery;
    let text = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let url = Url::parse(&text).map_err(|e| LoginError::Request {
        endpoint,
        url: text.clone(),
        detail: format!("not a URL: {e}"),
    })?;
    if !is_secure(&url) {
        return Err(LoginError::Insecure {
            endpoint,
            url: url.to_string(),
        });
    }
    let response = http
        .get(url.clone())
        .header(header::ACCEPT, "application/json")
        .timeout(HTTP_TIMEOUT)
        .send()
        .await
        .map_err(|e| request_error(endpoint, &url, &e))?;
    let status = response.status();
    let body = read_body(endpoint, &url, response).await;
    if !status.is_success() {
        return Err(status_error(
            endpoint,
            &url,
            status.as_u16(),
            body.ok().as_deref().map(Vec::as_slice),
        ));
    }
    let body = body?;
    let doc: Value = serde_json::from_slice(&body)
        .map_err(|e| malformed(endpoint, &url, format!("not JSON: {e}")))?;
    let endpoint_url = |field: &str, which: OAuthEndpoint| -> Result<Url, LoginError> {
        let text = doc
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(endpoint, &url, format!("no {field}")))?;
        let parsed = Url::parse(text).map_err(|e| {
            malformed(
                endpoint,
                &url,
                format!("{field} {:?} is not a URL: {e}", printable(text)),
            )
        })?;
        if !is_secure(&parsed) {
            return Err(LoginError::Insecure {
                endpoint: which,
                url: parsed.to_string(),
            });
        }
        Ok(parsed)
    };
    let authorization = endpoint_url("authorization_endpoint", OAuthEndpoint::Authorization)?;
    let token = endpoint_url("token_endpoint", OAuthEndpoint::Token)?;
    let auth_methods = doc
        .get("token_endpoint_auth_methods_supported")
        .and_then(Value::as_array)
        .map(|methods| {
            methods
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Provider {
        authorization,
        token,
        auth_methods,
    })
}

/// One login attempt: what the browser and out-of-band flows share.
struct Flow<'a> {
    provider: &'a Provider,
    client_id: &'a str,
    challenge: &'a str,
    state: &'a Secret,
    callbacks: &'a dyn LoginCallbacks,
}

impl Flow<'_> {
    /// The login page's URL. It carries no secret: the state and the PKCE
    /// challenge are useless without the verifier.
    fn authorization_url(&self, redirect_uri: &str) -> Url {
        let mut url = self.provider.authorization.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", SCOPES)
            .append_pair("code_challenge", self.challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", self.state.expose());
        url
    }

    /// The browser flow; `None` when no browser could be opened.
    async fn browser(&self) -> Result<Option<(Secret, String)>, LoginError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(LoginError::Listener)?;
        let port = listener.local_addr().map_err(LoginError::Listener)?.port();
        let redirect_uri = format!("http://localhost:{port}{CALLBACK_PATH}");
        let url = self.authorization_url(&redirect_uri);
        if !self.callbacks.open_browser(url.as_str()) {
            return Ok(None);
        }
        self.callbacks.login_url(url.as_str(), true);
        self.callbacks.waiting_for_browser();
        let expected = Arc::new(self.state.clone());
        let code = tokio::time::timeout(BROWSER_TIMEOUT, wait_for_redirect(&listener, expected))
            .await
            .map_err(|_| LoginError::BrowserTimeout(BROWSER_TIMEOUT))??;
        Ok(Some((code, redirect_uri)))
    }

    /// The out-of-band flow: the user opens the URL and pastes the code.
    fn out_of_band(&self) -> Result<(Secret, String), LoginError> {
        let url = self.authorization_url(OOB_REDIRECT_URI);
        self.callbacks.login_url(url.as_str(), false);
        let entered = self
            .callbacks
            .prompt_for_code()
            .map_err(LoginError::Prompt)?;
        let code = Secret::new(entered.expose().trim());
        if code.is_empty() {
            return Err(LoginError::NoCode);
        }
        Ok((code, OOB_REDIRECT_URI.to_owned()))
    }
}

/// What one connection to the loopback listener brought.
type Answer = Option<Result<Secret, LoginError>>;

enum Event {
    Served(Result<Answer, tokio::task::JoinError>),
    Accepted(std::io::Result<(TcpStream, std::net::SocketAddr)>),
}

/// Serves the loopback listener until a request to the callback path
/// arrives; other requests (a favicon, a browser's spare connection) are
/// answered and ignored.
async fn wait_for_redirect(
    listener: &TcpListener,
    expected: Arc<Secret>,
) -> Result<Secret, LoginError> {
    // Dropping the set (on return or timeout) aborts the other connections.
    let mut connections: JoinSet<Answer> = JoinSet::new();
    loop {
        let event = poll_fn(|cx| {
            if let Poll::Ready(Some(done)) = connections.poll_join_next(cx) {
                return Poll::Ready(Event::Served(done));
            }
            listener.poll_accept(cx).map(Event::Accepted)
        })
        .await;
        match event {
            Event::Served(Ok(Some(answer))) => return answer,
            Event::Served(_) => {}
            Event::Accepted(Ok((stream, _))) => {
                if connections.len() < MAX_CONNECTIONS {
                    connections.spawn(serve(stream, expected.clone()));
                }
            }
            Event::Accepted(Err(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Event::Accepted(Err(e)) => return Err(LoginError::Listener(e)),
        }
    }
}

/// Reads one request from the browser and answers it.
async fn serve(mut stream: TcpStream, expected: Arc<Secret>) -> Answer {
    let head = tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut stream))
        .await
        .ok()??;
    let (status, page, answer) = answer(&head, expected.expose());
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = tokio::time::timeout(REQUEST_TIMEOUT, async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    answer
}

/// The request head (up to the blank line), if one arrives within
/// [`MAX_REQUEST_HEAD`] bytes.
async fn read_head(stream: &mut TcpStream) -> Option<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; MAX_REQUEST_HEAD]);
    let mut len = 0;
    loop {
        let n = stream.read(buf.get_mut(len..)?).await.ok()?;
        if n == 0 {
            return None;
        }
        let start = len.saturating_sub(3);
        len += n;
        if let Some(end) = buf
            .get(start..len)?
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            buf.truncate(start + end);
            return Some(buf);
        }
        if len == MAX_REQUEST_HEAD {
            return None;
        }
    }
}

const SUCCESS_PAGE: &str = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Logged in</title></head>\
<body><p>You are logged in. You may close this page and return to the terminal.</p></body></html>\n";
const FAILURE_PAGE: &str =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Login failed</title></head>\
<body><p>The login did not complete; the terminal says why.</p></body></html>\n";
const NOT_FOUND_PAGE: &str = "<!DOCTYPE html>\n<html><body><p>Not found.</p></body></html>\n";

/// The status line, page and outcome for a request head. Only
/// `GET /auth/callback?...` has an outcome.
fn answer(head: &[u8], expected_state: &str) -> (&'static str, &'static str, Answer) {
    const BAD_REQUEST: &str = "400 Bad Request";
    let Some(request_line) = head
        .split(|b| *b == b'\n')
        .next()
        .and_then(|l| std::str::from_utf8(l).ok())
    else {
        return (BAD_REQUEST, NOT_FOUND_PAGE, None);
    };
    let mut parts = request_line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return (BAD_REQUEST, NOT_FOUND_PAGE, None);
    };
    if !version.starts_with("HTTP/1.") {
        return (BAD_REQUEST, NOT_FOUND_PAGE, None);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != CALLBACK_PATH {
        return ("404 Not Found", NOT_FOUND_PAGE, None);
    }
    if method != "GET" {
        return ("405 Method Not Allowed", NOT_FOUND_PAGE, None);
    }
    let (mut code, mut state, mut error, mut description) = (None, None, None, None);
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match key {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(form_decode(value));
        }
    }
    let failed = |e| (BAD_REQUEST, FAILURE_PAGE, Some(Err(e)));
    if !state
        .as_ref()
        .is_some_and(|s| same(s.expose(), expected_state))
    {
        return failed(LoginError::StateMismatch);
    }
    if let Some(error) = error {
        return failed(LoginError::Denied {
            error: printable(error.expose()),
            description: description.map(|d| printable(d.expose())),
        });
    }
    match code {
        Some(code) if !code.is_empty() => ("200 OK", SUCCESS_PAGE, Some(Ok(code))),
        _ => failed(LoginError::NoCode),
    }
}

/// Decodes an application/x-www-form-urlencoded value into a wiped buffer
/// (a `%` not followed by two hex digits stays as it is; bytes that are not
/// UTF-8 give U+FFFD).
fn form_decode(text: &str) -> Secret {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let bytes = text.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = (b == b'%')
            .then(|| Some(hex(*bytes.get(i + 1)?)? << 4 | hex(*bytes.get(i + 2)?)?))
            .flatten();
        match (b, escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (other, None) => {
                out.push(other);
                i += 1;
            }
        }
    }
    let text = match std::str::from_utf8(&out) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(&out).into_owned(),
    };
    Secret::new(text)
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Appends `key=value` to a form (application/x-www-form-urlencoded).
fn append_pair(form: &mut String, key: &str, value: &str) {
    if !form.is_empty() {
        form.push('&');
    }
    form_encode(form, key);
    form.push('=');
    form_encode(form, value);
}

/// application/x-www-form-urlencoded, as RFC 6749 also prescribes for the
/// HTTP Basic credentials of a client.
fn form_encode(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

/// Exchanges the code (and the PKCE verifier) for tokens; returns the ID token.
async fn exchange(
    http: &reqwest::Client,
    provider: &Provider,
    login: &InteractiveLogin,
    code: &Secret,
    verifier: &Secret,
    redirect_uri: &str,
) -> Result<Secret, LoginError> {
    let endpoint = OAuthEndpoint::Token;
    let url = &provider.token;
    let mut form = Zeroizing::new(String::with_capacity(1024));
    append_pair(&mut form, "grant_type", "authorization_code");
    append_pair(&mut form, "code", code.expose());
    append_pair(&mut form, "redirect_uri", redirect_uri);
    append_pair(&mut form, "code_verifier", verifier.expose());
    let mut request = http
        .post(url.clone())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .timeout(HTTP_TIMEOUT);
    let secret = login.client_secret.as_ref();
    match (client_auth(secret, &provider.auth_methods), secret) {
        (ClientAuth::Basic, Some(secret)) => {
            let mut credentials = Zeroizing::new(String::with_capacity(256));
            form_encode(&mut credentials, &login.client_id);
            credentials.push(':');
            form_encode(&mut credentials, secret.expose());
            let encoded = Zeroizing::new(STANDARD.encode(credentials.as_bytes()));
            let value = Zeroizing::new(format!("Basic {}", encoded.as_str()));
            let mut value = header::HeaderValue::from_str(&value)
                .map_err(|_| malformed(endpoint, url, "unencodable client credentials"))?;
            value.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, value);
        }
        (ClientAuth::Post, Some(secret)) => {
            append_pair(&mut form, "client_id", &login.client_id);
            append_pair(&mut form, "client_secret", secret.expose());
        }
        _ => append_pair(&mut form, "client_id", &login.client_id),
    }
    let response = request
        .body(form.as_bytes().to_vec())
        .send()
        .await
        .map_err(|e| request_error(endpoint, url, &e))?;
    let status = response.status();
    let body = read_body(endpoint, url, response).await;
    if !status.is_success() {
        return Err(status_error(
            endpoint,
            url,
            status.as_u16(),
            body.ok().as_deref().map(Vec::as_slice),
        ));
    }
    let body = body?;
    let mut doc: Value = serde_json::from_slice(&body)
        .map_err(|e| malformed(endpoint, url, format!("not JSON: {e}")))?;
    let token = id_token(&mut doc).map_err(|problem| match problem {
        TokenProblem::Error(error, description) => LoginError::Status {
            endpoint,
            url: url.to_string(),
            status: status.as_u16(),
            error,
            description,
        },
        TokenProblem::Missing(detail) => malformed(endpoint, url, detail),
    });
    wipe(doc);
    token
}

enum TokenProblem {
    /// An OAuth error object.
    Error(Option<String>, Option<String>),
    /// No usable `id_token`.
    Missing(&'static str),
}

/// Takes the `id_token` out of a token answer (the string moves, it is not
/// copied).
fn id_token(doc: &mut Value) -> Result<Secret, TokenProblem> {
    if !doc.is_object() {
        return Err(TokenProblem::Missing("not a JSON object"));
    }
    if doc.get("error").is_some() {
        let (error, description) = oauth_error_fields(doc);
        return Err(TokenProblem::Error(error, description));
    }
    match doc.get_mut("id_token").map(Value::take) {
        Some(Value::String(token)) => Ok(Secret::new(token)),
        Some(other) => {
            wipe(other);
            Err(TokenProblem::Missing("its id_token is not a string"))
        }
        None => Err(TokenProblem::Missing(
            "no id_token (the provider must return an OpenID Connect ID token for the scope openid)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = "the-state";

    fn callback(query: &str) -> Answer {
        let head = format!("GET /auth/callback?{query} HTTP/1.1\r\nHost: localhost:1");
        answer(head.as_bytes(), STATE).2
    }

    #[test]
    fn the_redirect_must_carry_the_state_and_a_code() {
        let code = callback("code=abc%2Fd&state=the-state")
            .expect("an outcome")
            .expect("accepted");
        assert_eq!(code.expose(), "abc/d");
        for (query, expected) in [
            ("code=abc&state=other", "StateMismatch"),
            ("code=abc", "StateMismatch"),
            ("code=abc&state=the-stat", "StateMismatch"),
            ("code=abc&state=the-state2", "StateMismatch"),
            ("state=the-state", "NoCode"),
            ("code=&state=the-state", "NoCode"),
            (
                "error=access_denied&error_description=no+thanks&state=the-state",
                "Denied",
            ),
            // An error answer without the state is not trusted either.
            ("error=access_denied", "StateMismatch"),
        ] {
            let err = callback(query).expect("an outcome").expect_err(query);
            assert!(format!("{err:?}").starts_with(expected), "{query}: {err:?}");
        }
        // The first of repeated parameters counts.
        assert!(callback("state=the-state&state=x&code=1")
            .expect("outcome")
            .is_ok());
        assert!(callback("state=x&state=the-state&code=1")
            .expect("outcome")
            .is_err());
    }

    #[test]
    fn other_requests_are_answered_and_ignored() {
        for (head, status) in [
            ("GET /favicon.ico HTTP/1.1\r\n", "404 Not Found"),
            ("GET / HTTP/1.1\r\n", "404 Not Found"),
            (
                "GET /auth/callbackx?code=1&state=the-state HTTP/1.1\r\n",
                "404 Not Found",
            ),
            (
                "POST /auth/callback?code=1&state=the-state HTTP/1.1\r\n",
                "405 Method Not Allowed",
            ),
            (
                "GET /auth/callback?code=1&state=the-state\r\n",
                "400 Bad Request",
            ),
            ("GET  /auth/callback HTTP/1.1\r\n", "400 Bad Request"),
            ("\u{ff}\r\n", "400 Bad Request"),
            ("", "400 Bad Request"),
        ] {
            let (got, _, outcome) = answer(head.as_bytes(), STATE);
            assert_eq!(got, status, "{head:?}");
            assert!(outcome.is_none(), "{head:?}");
        }
    }

    #[test]
    fn denial_text_is_made_printable() {
        let err = callback("error=x%1B%5B31m&error_description=a%0Ab&state=the-state")
            .expect("outcome")
            .expect_err("denied");
        assert_eq!(
            err.to_string(),
            "the identity provider refused the login: x?[31m (a?b)"
        );
        assert_eq!(printable("a\u{202e}b\u{2066}c\u{200b}d"), "a?b?c?d");
        let long = "d".repeat(500);
        assert_eq!(printable(&long).len(), MAX_ERROR_TEXT + 3);
    }

    #[test]
    fn client_authentication_follows_the_discovery_document() {
        let methods = |m: &[&str]| m.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let secret = Secret::from("s");
        assert_eq!(client_auth(None, &[]), ClientAuth::Public);
        assert_eq!(
            client_auth(Some(&Secret::from("")), &[]),
            ClientAuth::Public
        );
        assert_eq!(client_auth(Some(&secret), &[]), ClientAuth::Basic);
        assert_eq!(
            client_auth(Some(&secret), &methods(&["client_secret_post"])),
            ClientAuth::Post
        );
        assert_eq!(
            client_auth(
                Some(&secret),
                &methods(&["client_secret_post", "client_secret_basic"])
            ),
            ClientAuth::Basic
        );
        assert_eq!(
            client_auth(Some(&secret), &methods(&["private_key_jwt"])),
            ClientAuth::Basic
        );
    }

    #[test]
    fn form_values_are_decoded() {
        for (encoded, decoded) in [
            ("a+b%2Fc%3d", "a b/c="),
            ("100%", "100%"),
            ("%zz%4", "%zz%4"),
            ("%C3%A9", "é"),
            ("%FF", "\u{fffd}"),
            ("", ""),
        ] {
            assert_eq!(form_decode(encoded).expose(), decoded, "{encoded}");
        }
    }

    #[test]
    fn forms_are_encoded() {
        let mut form = String::new();
        append_pair(&mut form, "a b", "x&y=z/é*~");
        append_pair(&mut form, "k", "");
        assert_eq!(form, "a+b=x%26y%3Dz%2F%C3%A9*%7E&k=");
    }

    #[test]
    fn only_https_or_loopback_endpoints() {
        for (url, secure) in [
            ("https://oauth2.sigstore.dev/auth", true),
            ("http://127.0.0.1:8080/token", true),
            ("http://127.1.2.3/token", true),
            ("http://localhost/token", true),
            ("http://[::1]:9/token", true),
            ("http://oauth2.sigstore.dev/auth", false),
            ("http://10.0.0.1/token", false),
            ("http://localhost.example.com/token", false),
            ("ftp://127.0.0.1/token", false),
        ] {
            assert_eq!(is_secure(&Url::parse(url).expect("URL")), secure, "{url}");
        }
    }

    #[test]
    fn pkce_verifiers_and_states_are_random() {
        let a = random_text(32).expect("random");
        let b = random_text(32).expect("random");
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), b.expose());
        assert!(a
            .expose()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(format!("{a:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn the_id_token_is_taken_and_errors_are_read() {
        let mut doc = serde_json::json!({"access_token": "a", "id_token": "h.p.s"});
        assert_eq!(
            id_token(&mut doc).ok().map(|t| t.expose().to_owned()),
            Some("h.p.s".into())
        );
        assert_eq!(doc["id_token"], Value::Null);
        let mut doc =
            serde_json::json!({"error": "invalid_grant", "error_description": "bad\ncode"});
        assert!(matches!(
            id_token(&mut doc),
            Err(TokenProblem::Error(Some(e), Some(d))) if e == "invalid_grant" && d == "bad?code"
        ));
        for mut doc in [
            serde_json::json!({"access_token": "a"}),
            serde_json::json!({"id_token": 1}),
            serde_json::json!(["id_token"]),
        ] {
            assert!(matches!(id_token(&mut doc), Err(TokenProblem::Missing(_))));
        }
    }
}

//! A loopback OAuth 2.0 / OpenID Connect provider for testing interactive
//! logins, on 127.0.0.1 with an ephemeral port.
//!
//! It serves an OIDC discovery document, an authorization endpoint that
//! approves every well-formed request at once, and a token endpoint that
//! checks what a real provider (Dex, say) checks: the client's
//! authentication (HTTP Basic or form fields, the secret compared), the code
//! (known, unused, issued to this client), the redirect URI (the one the
//! code was issued for) and the PKCE verifier against the `S256` challenge.
//! It hands out the ID token it was given, so a token minted by the
//! stand-in ([`StandIn::identity_token`](crate::StandIn::identity_token))
//! makes the login end in a real certificate.
//!
//! The authorization endpoint answers a loopback redirect URI with `302`
//! (the `Location` also in the body, for [`http::get`]),
//! and the out-of-band redirect URI `urn:ietf:wg:oauth:2.0:oob` with the
//! code as a `text/plain` body, the page a person would copy it from.
//!
//! ```no_run
//! use sigstore_standin_harness::oauth::{OAuthProvider, ProviderOptions};
//!
//! let provider = OAuthProvider::start(ProviderOptions {
//!     client_secret: Some("s3cret".into()),
//!     ..ProviderOptions::new("my-client", "<an id token>")
//! })
//! .expect("provider");
//! // Log in against provider.url(); a test "browser" follows the login URL:
//! // let location = sigstore_standin_harness::oauth::authorize(&login_url)?;
//! // sigstore_standin_harness::http::get(&location)?;
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{http, Error};

/// The out-of-band redirect URI.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

const IO_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REQUEST: usize = 1 << 20;

/// A canned answer of the token endpoint to a valid exchange.
#[derive(Clone, Debug)]
pub struct Canned {
    /// The status code.
    pub status: u16,
    /// The body (sent as `application/json`).
    pub body: Vec<u8>,
    /// Whether a `Content-Length` is sent; without one the body ends when
    /// the connection closes.
    pub content_length: bool,
    /// A `Location` header, for a redirect.
    pub location: Option<String>,
}

/// How the provider behaves.
#[derive(Clone, Debug)]
pub struct ProviderOptions {
    /// The one registered client.
    pub client_id: String,
    /// Its secret; `None` for a public client (authenticated by its
    /// `client_id` in the form alone).
    pub client_secret: Option<String>,
    /// `token_endpoint_auth_methods_supported` in the discovery document
    /// (and the only methods accepted); `None` leaves it out and accepts
    /// both `client_secret_basic` and `client_secret_post`.
    pub auth_methods: Option<Vec<String>>,
    /// The ID token handed out.
    pub id_token: String,
    /// Answers a valid exchange with this instead of the tokens.
    pub token_answer: Option<Canned>,
    /// Names this as the token endpoint in the discovery document instead
    /// of the provider's own.
    pub token_endpoint: Option<String>,
}

impl ProviderOptions {
    /// A public client `client_id` that is given `id_token`.
    pub fn new(client_id: &str, id_token: &str) -> Self {
        ProviderOptions {
            client_id: client_id.to_owned(),
            client_secret: None,
            auth_methods: None,
            id_token: id_token.to_owned(),
            token_answer: None,
            token_endpoint: None,
        }
    }
}

/// One request to the token endpoint, as the provider saw it.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    /// The form fields.
    pub form: BTreeMap<String, String>,
    /// The HTTP Basic credentials (form-decoded), if any.
    pub basic: Option<(String, String)>,
    /// The status answered.
    pub status: u16,
    /// The OAuth error answered, if any.
    pub error: Option<String>,
}

/// What the provider was asked.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// The query parameters of each authorization request.
    pub authorizations: Vec<BTreeMap<String, String>>,
    /// Each token request.
    pub token_requests: Vec<TokenRequest>,
    /// The request line of every request.
    pub requests: Vec<String>,
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    used: bool,
}

struct Shared {
    options: ProviderOptions,
    url: String,
    log: Mutex<Log>,
    grants: Mutex<HashMap<String, Grant>>,
    next: AtomicU64,
}

/// A running provider; stopped on drop.
pub struct OAuthProvider {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("url", &self.shared.url)
            .finish_non_exhaustive()
    }
}

impl OAuthProvider {
    /// Starts a provider on 127.0.0.1.
    pub fn start(options: ProviderOptions) -> Result<OAuthProvider, Error> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| Error::Io { what, source }
        };
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io("binding 127.0.0.1:0"))?;
        let addr = listener
            .local_addr()
            .map_err(io("the listener's address"))?;
        listener
            .set_nonblocking(true)
            .map_err(io("a non-blocking listener"))?;
        let shared = Arc::new(Shared {
            options,
            url: format!("http://{addr}"),
            log: Mutex::new(Log::default()),
            grants: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
            std::thread::spawn(move || accept_loop(&listener, &shared, &stop))
        };
        Ok(OAuthProvider {
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// The issuer URL (`http://127.0.0.1:PORT`), for the signing config's
    /// `oidcUrls`.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// What the provider was asked so far.
    pub fn log(&self) -> Log {
        lock(&self.shared.log).clone()
    }
}

impl Drop for OAuthProvider {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                std::thread::spawn(move || {
                    let _ = handle(stream, &shared);
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if raw.len() > MAX_REQUEST {
            return None;
        }
    };
    let head = std::str::from_utf8(&raw[..head_end]).ok()?.to_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_REQUEST {
        return None;
    }
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(length);
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

struct Reply {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    content_length: bool,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
            content_length: true,
        }
    }

    fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: text.as_bytes().to_vec(),
            content_length: true,
        }
    }

    fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": error, "error_description": description}),
        )
    }
}

fn handle(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let Some(request) = read_request(&mut stream) else {
        return Ok(());
    };
    lock(&shared.log)
        .requests
        .push(format!("{} {}", request.method, request.target));
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let reply = match (request.method.as_str(), path) {
        ("GET", "/.well-known/openid-configuration") => discovery(shared),
        ("GET", "/auth") => authorize_request(shared, query),
        ("POST", "/token") => token(shared, &request),
        _ => Reply::text(404, "not found"),
    };
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nConnection: close\r\n",
        reply.status, reply.content_type
    );
    if reply.content_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    // A large body goes out in pieces; the client may hang up early.
    for piece in reply.body.chunks(16 << 10) {
        stream.write_all(piece)?;
    }
    stream.flush()
}

fn discovery(shared: &Shared) -> Reply {
    let url = &shared.url;
    let mut doc = json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/auth"),
        "token_endpoint": shared
            .options
            .token_endpoint
            .clone()
            .unwrap_or_else(|| format!("{url}/token")),
        "jwks_uri": format!("{url}/keys"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email"],
    });
    if let Some(methods) = &shared.options.auth_methods {
        doc["token_endpoint_auth_methods_supported"] = json!(methods);
    }
    Reply::json(200, &doc)
}

/// Parses a query or form into its fields (the first of repeated ones).
pub fn parse_form(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        fields
            .entry(form_decode(key))
            .or_insert_with(|| form_decode(value));
    }
    fields
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn authorize_request(shared: &Shared, query: &str) -> Reply {
    let params = parse_form(query);
    lock(&shared.log).authorizations.push(params.clone());
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let redirect_uri = get("redirect_uri");
    let loopback = redirect_uri.starts_with("http://localhost:")
        || redirect_uri.starts_with("http://127.0.0.1:");
    let problem = if get("response_type") != "code" {
        Some("response_type must be code")
    } else if get("client_id") != shared.options.client_id {
        Some("unknown client_id")
    } else if redirect_uri != OOB && !loopback {
        Some("redirect_uri must be loopback or out of band")
    } else if get("code_challenge_method") != "S256" {
        Some("code_challenge_method must be S256")
    } else if get("code_challenge").len() != 43 {
        Some("code_challenge must be 43 characters")
    } else if get("state").is_empty() {
        Some("no state")
    } else if !get("scope").split(' ').any(|s| s == "openid") {
        Some("the scope must include openid")
    } else if params.contains_key("client_secret") {
        Some("the client secret does not belong in the authorization URL")
    } else {
        None
    };
    if let Some(problem) = problem {
        return Reply::text(400, problem);
    }
    let n = shared.next.fetch_add(1, Ordering::SeqCst);
    let code = format!("code-{n}-{}", &get("code_challenge")[..8]);
    lock(&shared.grants).insert(
        code.clone(),
        Grant {
            client_id: get("client_id").to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: get("code_challenge").to_owned(),
            used: false,
        },
    );
    if redirect_uri == OOB {
        return Reply::text(200, &code);
    }
    let location = format!(
        "{redirect_uri}?code={}&state={}",
        http::percent_encode(&code),
        http::percent_encode(get("state"))
    );
    Reply {
        status: 302,
        content_type: "text/plain; charset=utf-8",
        headers: vec![("Location", location.clone())],
        body: location.into_bytes(),
        content_length: true,
    }
}

fn token(shared: &Shared, request: &Request) -> Reply {
    let form = parse_form(&String::from_utf8_lossy(&request.body));
    let basic = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            text.split_once(':')
                .map(|(id, secret)| (form_decode(id), form_decode(secret)))
        });
    let reply = check_token_request(shared, &form, basic.as_ref(), request);
    let error = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
    lock(&shared.log).token_requests.push(TokenRequest {
        form,
        basic,
        status: reply.status,
        error,
    });
    reply
}

fn check_token_request(
    shared: &Shared,
    form: &BTreeMap<String, String>,
    basic: Option<&(String, String)>,
    request: &Request,
) -> Reply {
    let options = &shared.options;
    let get = |k: &str| form.get(k).map(String::as_str);
    if !request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    {
        return Reply::oauth_error(400, "invalid_request", "expected a form");
    }
    // Client authentication.
    let client_id = match (&options.client_secret, basic, get("client_secret")) {
        (_, Some(_), Some(_)) => {
            return Reply::oauth_error(400, "invalid_request", "two authentication methods");
        }
        (Some(secret), Some((id, given)), None) => {
            if !method_allowed(options, "client_secret_basic") {
                return Reply::oauth_error(
                    401,
                    "invalid_client",
                    "client_secret_basic not allowed",
                );
            }
            if id != &options.client_id || given != secret {
                return Reply::oauth_error(401, "invalid_client", "client authentication failed");
            }
            id.clone()
        }
        (Some(secret), None, Some(given)) => {
            if !method_allowed(options, "client_secret_post") {
                return Reply::oauth_error(401, "invalid_client", "client_secret_post not allowed");
            }
            if get("client_id") != Some(options.client_id.as_str()) || given != secret {
                return Reply::oauth_error(401, "invalid_client", "client authentication failed");
            }
            options.client_id.clone()
        }
        (Some(_), None, None) => {
            return Reply::oauth_error(401, "invalid_client", "client authentication required");
        }
        (None, None, None) => {
            if get("client_id") != Some(options.client_id.as_str()) {
                return Reply::oauth_error(401, "invalid_client", "unknown client_id");
            }
            options.client_id.clone()
        }
        (None, _, _) => {
            return Reply::oauth_error(401, "invalid_client", "a public client has no secret");
        }
    };
    if get("grant_type") != Some("authorization_code") {
        return Reply::oauth_error(400, "unsupported_grant_type", "expected authorization_code");
    }
    let mut grants = lock(&shared.grants);
    let Some(grant) = get("code").and_then(|c| grants.get_mut(c)) else {
        return Reply::oauth_error(400, "invalid_grant", "unknown code");
    };
    if grant.used {
        return Reply::oauth_error(400, "invalid_grant", "code already used");
    }
    grant.used = true;
    if grant.client_id != client_id {
        return Reply::oauth_error(400, "invalid_grant", "code issued to another client");
    }
    if get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Reply::oauth_error(400, "invalid_grant", "redirect_uri differs");
    }
    let verifier = get("code_verifier").unwrap_or("");
    if verifier.len() < 43 || URL_SAFE_NO_PAD.encode(Sha256::digest(verifier)) != grant.challenge {
        return Reply::oauth_error(400, "invalid_grant", "PKCE verification failed");
    }
    drop(grants);
    if let Some(canned) = &options.token_answer {
        return Reply {
            status: canned.status,
            content_type: "application/json",
            headers: canned
                .location
                .iter()
                .map(|l| ("Location", l.clone()))
                .collect(),
            body: canned.body.clone(),
            content_length: canned.content_length,
        };
    }
    Reply::json(
        200,
        &json!({
            "access_token": "opaque-access-token",
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": options.id_token,
        }),
    )
}

fn method_allowed(options: &ProviderOptions, method: &str) -> bool {
    options
        .auth_methods
        .as_ref()
        .is_none_or(|methods| methods.iter().any(|m| m == method))
}

/// A browser's first step: opens the login URL; returns where the provider
/// sends the browser next (the redirect URI with the code and state), or,
/// for the out-of-band flow, the code the page shows.
pub fn authorize(login_url: &str) -> Result<String, Error> {
    let response = http::get(login_url)?;
    let text = String::from_utf8_lossy(&response.body).into_owned();
    if response.status != 302 && response.status != 200 {
        return Err(Error::Http {
            method: "GET".into(),
            url: login_url.into(),
            detail: format!("status {}: {text}", response.status),
        });
    }
    Ok(text)
}

/// Writes a copy of a ClientTrustConfig whose signing config names `issuer`
/// as its identity provider (`oidcUrls`).
pub fn trust_config_with_issuer(
    trust_config: &Path,
    issuer: &str,
    out: &Path,
) -> Result<(), Error> {
    let io = |what: String| move |source| Error::Io { what, source };
    let text =
        std::fs::read(trust_config).map_err(io(format!("reading {}", trust_config.display())))?;
    let mut doc: Value = serde_json::from_slice(&text).map_err(|e| Error::Io {
        what: format!("parsing {}", trust_config.display()),
        source: std::io::Error::other(e),
    })?;
    if let Some(urls) = doc
        .pointer_mut("/signingConfig/oidcUrls")
        .and_then(Value::as_array_mut)
    {
        for entry in urls {
            entry["url"] = json!(issuer);
        }
    }
    std::fs::write(out, doc.to_string()).map_err(io(format!("writing {}", out.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let form = parse_form("a=1&b=x+y%2Fz&a=2&c&d=%zz&e=%4");
        assert_eq!(form["a"], "1");
        assert_eq!(form["b"], "x y/z");
        assert_eq!(form["c"], "");
        assert_eq!(form["d"], "%zz");
        assert_eq!(form["e"], "%4");
    }
}

//! A repository in an OCI distribution registry: reads by capped and
//! streamed GETs of our own, pushes through `oci-client`.
//!
//! Transport: HTTPS with the system's roots plus any `--registry-ca`
//! certificates; certificate checks are never turned off. Plain HTTP is
//! used only for a loopback registry (`localhost`, `127.0.0.0/8`, `[::1]`)
//! or one named with `insecure`, and then only when it does not answer
//! HTTPS. Credentials come from the Docker configuration ([`crate::auth`]);
//! reads answer the registry's challenge here (HTTP basic, or a bearer
//! token from its token service, read within a cap); pushes go through
//! `oci-client`, which keeps its own tokens.
//!
//! Manifests and referrer lists are read within [`MAX_MANIFEST_BYTES`]
//! (the body is not buffered past the cap); blobs are streamed.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};

use crate::artifact::OciErrorBox;
use crate::auth::{self, Credential};
use crate::oci::{self, Descriptor, Fetched, Parsed, ACCEPTED_MANIFESTS, MAX_MANIFEST_BYTES};
use crate::reference::is_loopback_host;
use crate::{OciError, Store, Target};

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// PEM files of CA certificates trusted besides the system's roots.
    pub ca_files: Vec<PathBuf>,
    /// Allow plain HTTP to a registry that is not on this machine.
    pub insecure: bool,
    /// Credentials to use instead of the Docker configuration's.
    pub credential: Option<Credential>,
}

/// Connection and read timeouts.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Status, content type, `Docker-Content-Digest` and body of a response.
type Answer = (u16, Option<String>, Option<String>, Vec<u8>);

#[derive(Clone)]
enum AuthHeader {
    None,
    Bearer(String),
    Basic(String, String),
}

/// A repository in a registry.
pub struct Registry {
    rt: tokio::runtime::Runtime,
    client: oci_client::Client,
    http: reqwest::Client,
    host: String,
    repository: String,
    scheme: &'static str,
    auth: RegistryAuth,
    headers: Mutex<HashMap<&'static str, AuthHeader>>,
}

fn op_name(op: RegistryOperation) -> &'static str {
    match op {
        RegistryOperation::Pull => "pull",
        RegistryOperation::Push => "push",
    }
}

impl Registry {
    /// Connects to `host` for `repository`.
    pub fn connect(
        host: &str,
        repository: &str,
        options: &RegistryOptions,
    ) -> Result<Self, OciError> {
        let credential = match &options.credential {
            Some(c) => c.clone(),
            None => auth::credentials_for(host)?,
        };
        let mut pems = Vec::new();
        let mut certs = Vec::new();
        for f in &options.ca_files {
            let data = std::fs::read(f).map_err(|e| OciError::Io {
                what: format!("registry CA file {}", f.display()),
                source: e,
            })?;
            let parsed = reqwest::Certificate::from_pem_bundle(&data).map_err(|e| {
                OciError::Usage(format!(
                    "registry CA file {} holds no PEM certificate: {e}",
                    f.display()
                ))
            })?;
            if parsed.is_empty() {
                return Err(OciError::Usage(format!(
                    "registry CA file {} holds no PEM certificate",
                    f.display()
                )));
            }
            certs.extend(parsed);
            pems.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            });
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| OciError::Io {
                what: "the registry client's runtime".into(),
                source: e,
            })?;
        let http = reqwest::Client::builder()
            .tls_certs_merge(certs)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .user_agent(concat!("model-signing/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OciError::Registry {
                what: host.to_owned(),
                reason: format!("cannot set up HTTPS: {e}"),
            })?;
        let plain_allowed = is_loopback_host(host) || options.insecure;
        let scheme = if plain_allowed {
            rt.block_on(pick_scheme(&http, host))
        } else {
            "https"
        };
        let config = ClientConfig {
            protocol: if scheme == "http" {
                ClientProtocol::HttpsExcept(vec![host.to_owned()])
            } else {
                ClientProtocol::Https
            },
            extra_root_certificates: pems,
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            max_concurrent_download: 4,
            ..ClientConfig::default()
        };
        let client = oci_client::Client::try_from(config).map_err(|e| OciError::Registry {
            what: host.to_owned(),
            reason: format!("cannot set up the registry client: {e}"),
        })?;
        let auth = match credential {
            Credential::Anonymous => RegistryAuth::Anonymous,
            Credential::Basic(u, p) => RegistryAuth::Basic(u, p),
        };
        Ok(Registry {
            rt,
            client,
            http,
            host: host.to_owned(),
            repository: repository.to_owned(),
            scheme,
            auth,
            headers: Mutex::new(HashMap::new()),
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    fn reference(&self, target: &Target) -> Reference {
        match target {
            Target::Tag(t) => {
                Reference::with_tag(self.host.clone(), self.repository.clone(), t.clone())
            }
            Target::Digest(d) => {
                Reference::with_digest(self.host.clone(), self.repository.clone(), d.clone())
            }
        }
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}://{}/v2/{}/{tail}",
            self.scheme, self.host, self.repository
        )
    }

    fn map_client_error(&self, what: &str, e: OciDistributionError) -> OciError {
        match e {
            OciDistributionError::AuthenticationFailure(reason) => OciError::Denied {
                registry: self.host.clone(),
                reason: format!(
                    "{what}: the token service refused: {}{}",
                    short(&reason),
                    self.credential_hint()
                ),
            },
            OciDistributionError::UnauthorizedError { url } => OciError::Denied {
                registry: self.host.clone(),
                reason: format!("{what}: not authorized for {url}{}", self.credential_hint()),
            },
            OciDistributionError::ServerError {
                code: 401 | 403,
                url,
                ..
            } => OciError::Denied {
                registry: self.host.clone(),
                reason: format!("{what}: not authorized for {url}{}", self.credential_hint()),
            },
            other => OciError::Registry {
                what: what.to_owned(),
                reason: short(&with_causes(&other)),
            },
        }
    }

    fn credential_hint(&self) -> String {
        match self.auth {
            RegistryAuth::Anonymous => format!(
                " (no credentials for {} in {}: log in with docker login or podman login)",
                self.host,
                auth::config_path().map_or_else(
                    || "the Docker configuration".to_owned(),
                    |p| p.display().to_string()
                )
            ),
            _ => " (check the credentials)".to_owned(),
        }
    }

    /// The authorization for `op`, asked of the registry once.
    fn authorize(&self, op: RegistryOperation) -> Result<AuthHeader, OciError> {
        if let Some(h) = self
            .headers
            .lock()
            .ok()
            .and_then(|m| m.get(op_name(op)).cloned())
        {
            return Ok(h);
        }
        let header = match op {
            // Reads (all a verifier does) answer the challenge here, every
            // body read within a cap.
            RegistryOperation::Pull => self.rt.block_on(self.pull_authorization())?,
            // Pushes go through the client, which keeps its own tokens.
            RegistryOperation::Push => {
                let reference = self.reference(&Target::Tag("latest".into()));
                let token = self
                    .rt
                    .block_on(self.client.auth(&reference, &self.auth, op))
                    .map_err(|e| {
                        self.map_client_error(&format!("authenticating to {}", self.host), e)
                    })?;
                match (token, &self.auth) {
                    (Some(t), _) => AuthHeader::Bearer(t),
                    (None, RegistryAuth::Basic(u, p)) => AuthHeader::Basic(u.clone(), p.clone()),
                    _ => AuthHeader::None,
                }
            }
        };
        if let Ok(mut m) = self.headers.lock() {
            m.insert(op_name(op), header.clone());
        }
        Ok(header)
    }

    /// The authorization for reading: the registry's challenge at `/v2/`
    /// answered with HTTP basic credentials, or with a bearer token from
    /// its token service (HTTPS, or plain HTTP only where the registry
    /// itself may be reached so), the token's answer read within 1 MiB.
    async fn pull_authorization(&self) -> Result<AuthHeader, OciError> {
        let what = format!("authenticating to {}", self.host);
        let fail = |reason: String| OciError::Registry {
            what: what.clone(),
            reason,
        };
        let basic = match &self.auth {
            RegistryAuth::Basic(u, p) => Some((u.clone(), p.clone())),
            _ => None,
        };
        let without_token = match &basic {
            Some((u, p)) => AuthHeader::Basic(u.clone(), p.clone()),
            None => AuthHeader::None,
        };
        let resp = self
            .http
            .get(format!("{}://{}/v2/", self.scheme, self.host))
            .send()
            .await
            .map_err(|e| fail(describe_reqwest(&e)))?;
        if resp.status().as_u16() != 401 {
            return Ok(without_token);
        }
        let challenge = resp
            .headers()
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(bearer_challenge);
        drop(resp);
        let Some(params) = challenge else {
            // A basic challenge: the credentials go with each request.
            return Ok(without_token);
        };
        let realm = params
            .get("realm")
            .ok_or_else(|| fail("a bearer challenge without a realm".into()))?;
        let mut url = reqwest::Url::parse(realm).map_err(|_| {
            fail(format!(
                "a token realm that is not a URL: {:?}",
                short(realm)
            ))
        })?;
        match url.scheme() {
            "https" => {}
            "http" if self.scheme == "http" => {}
            _ => {
                return Err(fail(format!(
                    "the token service {:?} is not HTTPS; credentials are not sent to it",
                    short(realm)
                )))
            }
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = params.get("service") {
                q.append_pair("service", service);
            }
            q.append_pair("scope", &format!("repository:{}:pull", self.repository));
        }
        let mut req = self.http.get(url);
        if let Some((u, p)) = &basic {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.map_err(|e| fail(describe_reqwest(&e)))?;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            return Err(OciError::Denied {
                registry: self.host.clone(),
                reason: format!(
                    "{what}: the token service refused: HTTP {status}{}",
                    self.credential_hint()
                ),
            });
        }
        if !(200..300).contains(&status) {
            return Err(fail(format!("the token service answered HTTP {status}")));
        }
        let body = read_body_capped(resp, MAX_TOKEN_ANSWER, &what).await?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("the token service's answer is not JSON: {e}")))?;
        let token = ["token", "access_token"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|t| t.as_str()).filter(|t| !t.is_empty()))
            .ok_or_else(|| fail("the token service's answer holds no token".into()))?;
        Ok(AuthHeader::Bearer(token.to_owned()))
    }

    /// A GET of a small document, read within `cap` bytes. Returns the
    /// status, the content type, the `Docker-Content-Digest` header and
    /// the body (empty unless 2xx).
    fn get_capped(
        &self,
        url: &str,
        accept: &[&str],
        cap: usize,
        what: &str,
    ) -> Result<Answer, OciError> {
        let header = self.authorize(RegistryOperation::Pull)?;
        let fail = |reason: String| OciError::Registry {
            what: what.to_owned(),
            reason,
        };
        self.rt.block_on(async {
            let mut req = self.http.get(url).header("Accept", accept.join(", "));
            req = match &header {
                AuthHeader::None => req,
                AuthHeader::Bearer(t) => req.bearer_auth(t),
                AuthHeader::Basic(u, p) => req.basic_auth(u, Some(p)),
            };
            let resp = req.send().await.map_err(|e| fail(describe_reqwest(&e)))?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let digest = resp
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if !(200..300).contains(&status) {
                return Ok((status, content_type, digest, Vec::new()));
            }
            let body = read_body_capped(resp, cap, what).await?;
            Ok((status, content_type, digest, body))
        })
    }

    fn status_error(&self, status: u16, what: &str) -> OciError {
        match status {
            401 | 403 => OciError::Denied {
                registry: self.host.clone(),
                reason: format!("{what}: HTTP {status}{}", self.credential_hint()),
            },
            404 => OciError::NotFound {
                what: what.to_owned(),
            },
            s => OciError::Registry {
                what: what.to_owned(),
                reason: format!("the registry answered HTTP {s}"),
            },
        }
    }
}

/// The largest answer read from a token service.
const MAX_TOKEN_ANSWER: usize = 1 << 20;

/// A response's body, refused past `cap` bytes (by its length, else as it
/// arrives).
async fn read_body_capped(
    resp: reqwest::Response,
    cap: usize,
    what: &str,
) -> Result<Vec<u8>, OciError> {
    let too_large = || OciError::TooLarge {
        what: what.to_owned(),
        limit: cap as u64,
    };
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| OciError::Registry {
            what: what.to_owned(),
            reason: format!("the transfer broke off: {}", describe_reqwest(&e)),
        })?;
        if body.len() + chunk.len() > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The parameters of a `Bearer` challenge (`WWW-Authenticate: Bearer
/// realm="...",service="...",scope="..."`); `None` for another scheme.
fn bearer_challenge(header: &str) -> Option<HashMap<String, String>> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
        }
        params.insert(key.trim().to_ascii_lowercase(), value);
    }
    Some(params)
}

/// Keeps an untrusted message short; callers escape it before printing.
fn short(s: &str) -> String {
    let mut out: String = s.chars().take(300).collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    short(&with_causes(e))
}

/// An error and its causes, `: `-joined (a transport error's own text
/// rarely says why: the certificate, the refused connection).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// HTTPS when the registry answers it, else plain HTTP when a registry
/// answers that: `/v2/` gives 200 or 401 (a TLS server that rejects plain
/// HTTP answers 400, and then HTTPS is kept, so that its certificate
/// error is the one reported).
async fn pick_scheme(http: &reqwest::Client, host: &str) -> &'static str {
    if http.get(format!("https://{host}/v2/")).send().await.is_ok() {
        return "https";
    }
    match http.get(format!("http://{host}/v2/")).send().await {
        Ok(r) if matches!(r.status().as_u16(), 200 | 401) => "http",
        _ => "https",
    }
}

/// A blob stream as a reader.
struct BlobReader {
    handle: tokio::runtime::Handle,
    stream: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, io::Error>>,
    buf: bytes::Bytes,
    /// The stream ended: it is not polled again (a finished stream may
    /// not be).
    done: bool,
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.buf.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.handle.block_on(self.stream.next()) {
                None => {
                    self.done = true;
                    return Ok(0);
                }
                Some(Ok(b)) => self.buf = b,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(io::Error::other(OciErrorBox(format!(
                        "the transfer broke off: {}",
                        short(&e.to_string())
                    ))));
                }
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        let _ = self.buf.split_to(n);
        Ok(n)
    }
}

impl Store for Registry {
    fn fetch_manifest(&self, target: &Target) -> Result<Fetched, OciError> {
        let what = format!(
            "{}{}/{}{target}",
            crate::reference::REGISTRY_SCHEME,
            self.host,
            self.repository
        );
        let tail = match target {
            Target::Tag(t) => format!("manifests/{t}"),
            Target::Digest(d) => format!("manifests/{d}"),
        };
        let (status, content_type, header_digest, body) = self.get_capped(
            &self.url(&tail),
            &ACCEPTED_MANIFESTS,
            MAX_MANIFEST_BYTES,
            &what,
        )?;
        if !(200..300).contains(&status) {
            return Err(self.status_error(status, &format!("manifest {what}")));
        }
        let expected = match target {
            Target::Digest(d) => Some(d.as_str()),
            Target::Tag(_) => header_digest
                .as_deref()
                .filter(|d| d.starts_with("sha256:")),
        };
        Fetched::new(body, content_type, expected, &format!("manifest {what}"))
    }

    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError> {
        // Our own GET (not the client's, which reads a failure's whole body
        // into memory): a failure's body is never read, the content is
        // streamed.
        let header = self.authorize(RegistryOperation::Pull)?;
        let what = format!("blob {} of {}/{}", desc.digest, self.host, self.repository);
        let url = self.url(&format!("blobs/{}", desc.digest));
        let resp = self.rt.block_on(async {
            let req = match &header {
                AuthHeader::None => self.http.get(&url),
                AuthHeader::Bearer(t) => self.http.get(&url).bearer_auth(t),
                AuthHeader::Basic(u, p) => self.http.get(&url).basic_auth(u, Some(p)),
            };
            req.send().await.map_err(|e| OciError::Registry {
                what: what.clone(),
                reason: describe_reqwest(&e),
            })
        })?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(self.status_error(status, &what));
        }
        let stream = resp
            .bytes_stream()
            .map(|r| r.map_err(|e| io::Error::other(describe_reqwest(&e))))
            .boxed();
        Ok(Box::new(BlobReader {
            handle: self.rt.handle().clone(),
            stream,
            buf: bytes::Bytes::new(),
            done: false,
        }))
    }

    fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>, OciError> {
        let what = format!(
            "referrers of {}/{}@{}",
            self.host, self.repository, subject.digest
        );
        let (status, ct, _, body) = self.get_capped(
            &self.url(&format!("referrers/{}", subject.digest)),
            &[oci::IMAGE_INDEX],
            MAX_MANIFEST_BYTES,
            &what,
        )?;
        let fetched = if status == 404 {
            // No Referrers API: the referrers tag schema.
            let tag = subject.digest.replace(':', "-");
            match self.fetch_manifest(&Target::Tag(tag)) {
                Ok(f) => f,
                Err(OciError::NotFound { .. }) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        } else if (200..300).contains(&status) {
            Fetched::new(body, ct, None, &what)?
        } else {
            return Err(self.status_error(status, &what));
        };
        match oci::parse_manifest(&fetched, &what)? {
            // All of them (the index is within 4 MiB): the signatures are
            // picked out before the number read is capped.
            Parsed::Index(i) => Ok(i.manifests),
            Parsed::Manifest(..) => Err(OciError::Malformed {
                what,
                reason: "not an image index".into(),
            }),
        }
    }

    fn push_blob(&self, bytes: &[u8], digest: &str) -> Result<(), OciError> {
        self.authorize(RegistryOperation::Push)?;
        let reference = self.reference(&Target::Digest(digest.to_owned()));
        let what = format!("pushing blob {digest} to {}/{}", self.host, self.repository);
        self.rt
            .block_on(self.client.push_blob(&reference, bytes.to_vec(), digest))
            .map(|_| ())
            .map_err(|e| self.map_client_error(&what, e))
    }

    fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        target: &Target,
    ) -> Result<(), OciError> {
        self.authorize(RegistryOperation::Push)?;
        let reference = self.reference(target);
        let what = format!("pushing manifest {}/{}{target}", self.host, self.repository);
        let ct = reqwest::header::HeaderValue::from_str(media_type)
            .map_err(|_| OciError::Usage(format!("invalid media type {media_type:?}")))?;
        self.rt
            .block_on(
                self.client
                    .push_manifest_raw(&reference, bytes.to_vec(), ct),
            )
            .map(|_| ())
            .map_err(|e| self.map_client_error(&what, e))
    }

    fn has_referrers_api(&self, subject: &Descriptor) -> Result<bool, OciError> {
        let what = format!(
            "referrers of {}/{}@{}",
            self.host, self.repository, subject.digest
        );
        let (status, ..) = self.get_capped(
            &self.url(&format!("referrers/{}", subject.digest)),
            &[oci::IMAGE_INDEX],
            MAX_MANIFEST_BYTES,
            &what,
        )?;
        match status {
            200..=299 => Ok(true),
            404 => Ok(false),
            s => Err(self.status_error(s, &what)),
        }
    }

    fn name(&self) -> String {
        format!(
            "{}{}/{}",
            crate::reference::REGISTRY_SCHEME,
            self.host,
            self.repository
        )
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_challenge;

    #[test]
    fn bearer_challenges() {
        let p = bearer_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .expect("bearer");
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
        let p = bearer_challenge(r#"bearer Realm="https://x/t", service=unquoted , x="a\"b""#)
            .expect("bearer");
        assert_eq!(p["realm"], "https://x/t");
        assert_eq!(p["service"], "unquoted ");
        assert_eq!(p["x"], "a\"b");
        // Not bearer, or nothing after the scheme.
        for h in [r#"Basic realm="registry""#, "Bearer", "", "Negotiate abc"] {
            assert!(bearer_challenge(h).is_none(), "{h}");
        }
        // No realm, an unterminated quote, junk: parsed without a realm.
        for h in [
            r#"Bearer service="s""#,
            r#"Bearer realm="https://x"#,
            "Bearer ,,,=,,",
        ] {
            let p = bearer_challenge(h).expect("bearer");
            if let Some(r) = p.get("realm") {
                assert_eq!(r, "https://x", "{h}");
            }
        }
    }
}

//! A small OCI distribution server on 127.0.0.1 for what `docker-registry`
//! 2.8 lacks: the Referrers API and a bearer-token service. It also counts
//! the bytes it serves (manifests and blobs apart) and can misbehave on
//! purpose: stop in the middle of a blob, serve a manifest past the size
//! cap. In memory, HTTP/1.1 with one request per connection.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{json, Value};

use crate::oci::digest;

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Answer `GET /v2/<name>/referrers/<digest>` (else 404, as registries
    /// without the API do).
    pub referrers_api: bool,
    /// Require a bearer token from `/token`, given for these basic credentials.
    pub token_auth: Option<(String, String)>,
    /// Listen on this address instead of 127.0.0.1 (a non-loopback one,
    /// for the plain-HTTP rule).
    pub bind: Option<std::net::IpAddr>,
}

/// A non-loopback IPv4 address of this machine (`hostname -I`), if any.
pub fn non_loopback_address() -> Option<std::net::IpAddr> {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
        .find(|a| a.is_ipv4() && !a.is_loopback())
}

/// Bytes served, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Manifest bodies (GET) served.
    pub manifest_bytes: u64,
    /// Manifest GETs.
    pub manifest_gets: u64,
    /// Blob bodies served.
    pub blob_bytes: u64,
    /// Blob GETs.
    pub blob_gets: u64,
}

#[derive(Default)]
struct State {
    blobs: HashMap<String, Vec<u8>>,
    /// digest -> (media type, body)
    manifests: HashMap<String, (String, Vec<u8>)>,
    /// The order the manifests came in: referrers are listed oldest first.
    arrival: Vec<String>,
    /// "repo:tag" -> digest
    tags: HashMap<String, String>,
    uploads: HashMap<String, Vec<u8>>,
    next_upload: u64,
    served: Served,
    /// Blobs cut short after this many bytes.
    truncate: HashMap<String, usize>,
    /// Manifests answered with this declared length and a body that long.
    oversized: HashMap<String, usize>,
}

/// The running server; stopped on drop.
pub struct Server {
    /// `127.0.0.1:PORT`.
    pub host: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Server {
    /// Starts a server.
    pub fn start(options: ServerOptions) -> Server {
        let ip = options
            .bind
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        let listener = TcpListener::bind((ip, 0)).expect("bind");
        let host = listener.local_addr().expect("addr").to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, stop2, host2) = (state.clone(), stop.clone(), host.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (s3, o3, h3) = (s2.clone(), options.clone(), host2.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, &s3, &o3, &h3);
                });
            }
        });
        Server {
            host,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// `oci://HOST/REPO...`.
    pub fn reference(&self, repo_ref: &str) -> String {
        format!("oci://{}/{repo_ref}", self.host)
    }

    /// Stores an image under `repo:tag`; returns the manifest digest.
    pub fn put_image(&self, repo: &str, tag: &str, image: &crate::oci::Image) -> String {
        let mut st = lock(&self.state);
        st.blobs.insert(digest(&image.config), image.config.clone());
        for l in &image.layers {
            st.blobs.insert(digest(&l.blob), l.blob.clone());
        }
        let m = image.manifest();
        let d = digest(&m);
        st.arrival.push(d.clone());
        st.manifests.insert(
            d.clone(),
            ("application/vnd.oci.image.manifest.v1+json".into(), m),
        );
        st.tags.insert(format!("{repo}:{tag}"), d.clone());
        d
    }

    /// Stores a raw manifest (or index) of `media_type` under `repo:tag`.
    pub fn put_manifest(&self, repo: &str, tag: &str, media_type: &str, body: Vec<u8>) -> String {
        let mut st = lock(&self.state);
        let d = digest(&body);
        st.arrival.push(d.clone());
        st.manifests
            .insert(d.clone(), (media_type.to_owned(), body));
        st.tags.insert(format!("{repo}:{tag}"), d.clone());
        d
    }

    /// Serves only the first `after` bytes of blob `digest`, then closes.
    pub fn truncate_blob(&self, digest: &str, after: usize) {
        lock(&self.state).truncate.insert(digest.to_owned(), after);
    }

    /// Answers `repo:tag` with a manifest body of `len` bytes.
    pub fn oversize_manifest(&self, repo_tag: &str, len: usize) {
        lock(&self.state).oversized.insert(repo_tag.to_owned(), len);
    }

    /// Bytes served so far.
    pub fn served(&self) -> Served {
        lock(&self.state).served
    }

    /// Resets the counters.
    pub fn reset_served(&self) {
        lock(&self.state).served = Served::default();
    }

    /// The manifests stored whose subject is `digest`.
    pub fn referrers_of(&self, digest: &str) -> Vec<Value> {
        let st = lock(&self.state);
        referrers(&st, digest)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.host);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn referrers(st: &State, subject: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for d in st.arrival.iter().filter(|d| seen.insert(d.as_str())) {
        let Some((mt, body)) = st.manifests.get(d) else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            continue;
        };
        if v["subject"]["digest"] == json!(subject) {
            let mut e = json!({"mediaType": mt, "digest": d, "size": body.len()});
            if let Some(t) = v.get("artifactType") {
                e["artifactType"] = t.clone();
            }
            if let Some(a) = v.get("annotations") {
                e["annotations"] = a.clone();
            }
            out.push(e);
        }
    }
    out
}

struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn read_request(conn: &TcpStream) -> std::io::Result<Request> {
    let mut r = BufReader::new(conn);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let query = q
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%3A", ":").replace("%3a", ":")))
        .collect();
    Ok(Request {
        method,
        path: path.to_owned(),
        query,
        headers,
        body,
    })
}

fn respond(
    conn: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body)?;
    conn.flush()
}

fn handle(
    mut conn: TcpStream,
    state: &Mutex<State>,
    options: &ServerOptions,
    host: &str,
) -> std::io::Result<()> {
    let req = read_request(&conn)?;
    let token = "test-token-5f3a";
    if req.path == "/token" {
        let Some((u, p)) = &options.token_auth else {
            return respond(&mut conn, 404, &[], b"");
        };
        let want = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        );
        if req.headers.get("authorization") == Some(&want) {
            let body =
                serde_json::to_vec(&json!({"token": token, "expires_in": 300})).expect("json");
            return respond(
                &mut conn,
                200,
                &[("Content-Type", "application/json".into())],
                &body,
            );
        }
        return respond(
            &mut conn,
            401,
            &[],
            b"{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
        );
    }
    if options.token_auth.is_some()
        && req.headers.get("authorization") != Some(&format!("Bearer {token}"))
    {
        let challenge = format!("Bearer realm=\"http://{host}/token\",service=\"test-registry\"");
        return respond(
            &mut conn,
            401,
            &[
                ("WWW-Authenticate", challenge),
                ("Content-Type", "application/json".into()),
            ],
            b"{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
        );
    }
    if req.path == "/v2/" || req.path == "/v2" {
        return respond(&mut conn, 200, &[], b"{}");
    }
    let Some(rest) = req.path.strip_prefix("/v2/") else {
        return respond(&mut conn, 404, &[], b"");
    };
    let not_found = |conn: &mut TcpStream| {
        respond(
            conn,
            404,
            &[("Content-Type", "application/json".into())],
            b"{\"errors\":[{\"code\":\"NOT_FOUND\"}]}",
        )
    };
    if let Some((repo, reference)) = rest.rsplit_once("/manifests/") {
        let mut st = lock(state);
        if req.method == "PUT" {
            let d = digest(&req.body);
            let mt = req.headers.get("content-type").cloned().unwrap_or_default();
            st.arrival.push(d.clone());
            st.manifests.insert(d.clone(), (mt, req.body.clone()));
            if !reference.starts_with("sha256:") {
                st.tags.insert(format!("{repo}:{reference}"), d.clone());
            }
            let mut headers = vec![
                ("Location", format!("/v2/{repo}/manifests/{d}")),
                ("Docker-Content-Digest", d.clone()),
            ];
            if options.referrers_api {
                if let Ok(v) = serde_json::from_slice::<Value>(&req.body) {
                    if let Some(s) = v["subject"]["digest"].as_str() {
                        headers.push(("OCI-Subject", s.to_owned()));
                    }
                }
            }
            drop(st);
            return respond(&mut conn, 201, &headers, b"");
        }
        if let Some(len) = st.oversized.get(&format!("{repo}:{reference}")).copied() {
            drop(st);
            let body = vec![b' '; len];
            return respond(
                &mut conn,
                200,
                &[(
                    "Content-Type",
                    "application/vnd.oci.image.manifest.v1+json".into(),
                )],
                &body,
            );
        }
        let d = if reference.starts_with("sha256:") {
            reference.to_owned()
        } else {
            match st.tags.get(&format!("{repo}:{reference}")) {
                Some(d) => d.clone(),
                None => {
                    drop(st);
                    return not_found(&mut conn);
                }
            }
        };
        let Some((mt, body)) = st.manifests.get(&d).cloned() else {
            drop(st);
            return not_found(&mut conn);
        };
        if req.method == "GET" {
            st.served.manifest_bytes += body.len() as u64;
            st.served.manifest_gets += 1;
        }
        drop(st);
        let headers = [("Content-Type", mt), ("Docker-Content-Digest", d)];
        let body = if req.method == "HEAD" {
            Vec::new()
        } else {
            body
        };
        return respond(&mut conn, 200, &headers, &body);
    }
    if let Some((repo, subject)) = rest.rsplit_once("/referrers/") {
        let _ = repo;
        if !options.referrers_api {
            return not_found(&mut conn);
        }
        let st = lock(state);
        let mut list = referrers(&st, subject);
        drop(st);
        if let Some(t) = req.query.get("artifactType") {
            list.retain(|e| e["artifactType"] == json!(t));
        }
        let body = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": list,
        }))
        .expect("json");
        return respond(
            &mut conn,
            200,
            &[(
                "Content-Type",
                "application/vnd.oci.image.index.v1+json".into(),
            )],
            &body,
        );
    }
    if let Some((repo, upload)) = rest.split_once("/blobs/uploads/") {
        let mut st = lock(state);
        match req.method.as_str() {
            "POST" => {
                if let Some(d) = req.query.get("digest") {
                    st.blobs.insert(d.clone(), req.body.clone());
                    drop(st);
                    return respond(
                        &mut conn,
                        201,
                        &[("Location", format!("/v2/{repo}/blobs/{d}"))],
                        b"",
                    );
                }
                st.next_upload += 1;
                let id = format!("u{}", st.next_upload);
                st.uploads.insert(id.clone(), Vec::new());
                drop(st);
                return respond(
                    &mut conn,
                    202,
                    &[
                        ("Location", format!("/v2/{repo}/blobs/uploads/{id}")),
                        ("Range", "0-0".into()),
                    ],
                    b"",
                );
            }
            "PATCH" => {
                let buf = st.uploads.entry(upload.to_owned()).or_default();
                buf.extend_from_slice(&req.body);
                let end = buf.len().saturating_sub(1);
                drop(st);
                return respond(
                    &mut conn,
                    202,
                    &[
                        ("Location", format!("/v2/{repo}/blobs/uploads/{upload}")),
                        ("Range", format!("0-{end}")),
                    ],
                    b"",
                );
            }
            "PUT" => {
                let mut data = st.uploads.remove(upload).unwrap_or_default();
                data.extend_from_slice(&req.body);
                let d = req.query.get("digest").cloned().unwrap_or_default();
                if digest(&data) != d {
                    drop(st);
                    return respond(
                        &mut conn,
                        400,
                        &[],
                        b"{\"errors\":[{\"code\":\"DIGEST_INVALID\"}]}",
                    );
                }
                st.blobs.insert(d.clone(), data);
                drop(st);
                return respond(
                    &mut conn,
                    201,
                    &[
                        ("Location", format!("/v2/{repo}/blobs/{d}")),
                        ("Docker-Content-Digest", d),
                    ],
                    b"",
                );
            }
            _ => return respond(&mut conn, 405, &[], b""),
        }
    }
    if let Some((_, d)) = rest.rsplit_once("/blobs/") {
        let mut st = lock(state);
        let Some(body) = st.blobs.get(d).cloned() else {
            drop(st);
            return not_found(&mut conn);
        };
        if req.method == "HEAD" {
            drop(st);
            let head = format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\nDocker-Content-Digest: {d}\r\n\r\n", body.len());
            return conn.write_all(head.as_bytes());
        }
        let cut = st.truncate.get(d).copied();
        st.served.blob_gets += 1;
        st.served.blob_bytes += cut.unwrap_or(body.len()).min(body.len()) as u64;
        drop(st);
        if let Some(n) = cut {
            let head = format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n", body.len());
            conn.write_all(head.as_bytes())?;
            conn.write_all(&body[..n.min(body.len())])?;
            conn.flush()?;
            return conn.shutdown(std::net::Shutdown::Both);
        }
        return respond(
            &mut conn,
            200,
            &[
                ("Content-Type", "application/octet-stream".into()),
                ("Docker-Content-Digest", d.to_owned()),
            ],
            &body,
        );
    }
    not_found(&mut conn)
}

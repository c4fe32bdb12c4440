//! A real RFC 3161 timestamp authority for tests: `openssl ts -reply`
//! behind a small HTTP server on 127.0.0.1, with its own root and
//! timeStamping certificate made by OpenSSL. Debian's `faketime` makes it
//! stamp a chosen time ([`OpensslTsa::set_time`]); other modes make it
//! misbehave (a wrong nonce, a rejection, an HTTP error, an oversized
//! answer) for the negative tests. It is an implementation independent of
//! the Sigstore stand-in's timestamp authority (Node.js, pkijs).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::go::openssl;

/// The key type of the authority's signing certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsaKey {
    /// RSA 2048 (PKCS#1 v1.5 signatures, as most public TSAs).
    Rsa,
    /// ECDSA P-256.
    EcP256,
}

/// How the authority answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A correct timestamp.
    Normal,
    /// A correct timestamp of a request whose nonce was changed.
    WrongNonce,
    /// A correct timestamp over other bytes than those asked for.
    OtherImprint,
    /// A rejection (status 2): the authority accepts only SHA-512 imprints.
    Reject,
    /// HTTP 500.
    HttpError,
    /// 1 MiB of zeros.
    Oversized,
}

struct State {
    mode: Mode,
    time: Option<String>,
    requests: u64,
}

/// A running authority; stopped on drop.
pub struct OpensslTsa {
    dir: tempfile::TempDir,
    url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const EXTENSIONS: &str = "\
[req]
distinguished_name=dn
[dn]
[v3_ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[v3_tsa]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[v3_no_eku]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=codeSigning
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl OpensslTsa {
    /// A new authority (root `CN=<name> Root`, signing certificate
    /// `CN=<name>`, both valid from 2020 to 2040) listening on 127.0.0.1.
    pub fn start(name: &str, key: TsaKey) -> OpensslTsa {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        std::fs::write(d.join("ext.cnf"), EXTENSIONS).expect("write ext.cnf");
        let keygen: &[&str] = match key {
            TsaKey::Rsa => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            TsaKey::EcP256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        };
        for k in ["root.key", "tsa.key"] {
            let mut args = vec!["genpkey"];
            args.extend_from_slice(keygen);
            args.extend_from_slice(&["-out", k]);
            openssl(d, &args);
        }
        // Certificates valid 2020..2040, whatever the clock says.
        let root_subject = format!("/CN={name} Root");
        faketime_openssl(
            d,
            "2020-01-01 00:00:00",
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "root.key",
                "-out",
                "root.pem",
                "-subj",
                &root_subject,
                "-days",
                "7305",
                "-config",
                "ext.cnf",
                "-extensions",
                "v3_ca",
            ],
        );
        let subject = format!("/CN={name}");
        openssl(
            d,
            &[
                "req", "-new", "-key", "tsa.key", "-out", "tsa.csr", "-subj", &subject, "-config",
                "ext.cnf",
            ],
        );
        for (ext, out) in [("v3_tsa", "tsa.pem"), ("v3_no_eku", "no-eku.pem")] {
            faketime_openssl(
                d,
                "2020-01-01 00:00:00",
                &[
                    "x509",
                    "-req",
                    "-in",
                    "tsa.csr",
                    "-CA",
                    "root.pem",
                    "-CAkey",
                    "root.key",
                    "-set_serial",
                    if out == "tsa.pem" { "2" } else { "3" },
                    "-out",
                    out,
                    "-days",
                    "7305",
                    "-extfile",
                    "ext.cnf",
                    "-extensions",
                    ext,
                ],
            );
        }
        std::fs::write(d.join("serial"), "01\n").expect("write serial");
        for (file, digests) in [
            ("ts.cnf", "sha256,sha384,sha512"),
            ("ts-reject.cnf", "sha512"),
        ] {
            let config = format!(
                "[tsa]\ndefault_tsa=tsa_config\n[tsa_config]\nserial={dir}/serial\nsigner_cert={dir}/tsa.pem\n\
                 signer_key={dir}/tsa.key\nsigner_digest=sha256\ndefault_policy=1.2.3.4.1\n\
                 digests={digests}\naccuracy=secs:1\nordering=no\ntsa_name=yes\ness_cert_id_alg=sha256\n",
                dir = d.display()
            );
            std::fs::write(d.join(file), config).expect("write ts config");
        }
        let combined = [
            std::fs::read(d.join("tsa.pem")).expect("tsa.pem"),
            std::fs::read(d.join("root.pem")).expect("root.pem"),
        ]
        .concat();
        std::fs::write(d.join("chain.pem"), combined).expect("write chain.pem");

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!(
            "http://{}/tsr",
            listener.local_addr().expect("the listener's address")
        );
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Normal,
            time: None,
            requests: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, dir) = (Arc::clone(&state), Arc::clone(&stop), d.to_owned());
            std::thread::spawn(move || accept_loop(&listener, &dir, &state, &stop))
        };
        OpensslTsa {
            dir,
            url,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The URL to POST `application/timestamp-query` to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The root certificate alone (PEM file).
    pub fn root_pem(&self) -> PathBuf {
        self.dir.path().join("root.pem")
    }

    /// The signing certificate and the root (PEM file).
    pub fn chain_pem(&self) -> PathBuf {
        self.dir.path().join("chain.pem")
    }

    /// How the authority answers from now on.
    pub fn set_mode(&self, mode: Mode) {
        lock(&self.state).mode = mode;
    }

    /// Stamps this time (`faketime` syntax, like `2024-06-01 12:00:00`)
    /// from now on, or the real time with `None`.
    pub fn set_time(&self, time: Option<&str>) {
        lock(&self.state).time = time.map(str::to_owned);
    }

    /// How many timestamps it was asked for (over HTTP and with [`stamp`](Self::stamp)).
    pub fn requests(&self) -> u64 {
        lock(&self.state).requests
    }

    /// A timestamp response over `signature` (SHA-256 imprint, with a
    /// nonce), made directly, in the current mode's time.
    pub fn stamp(&self, signature: &[u8]) -> Vec<u8> {
        let d = self.dir.path();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let data = format!("data-{n}.bin");
        let query = format!("query-{n}.tsq");
        std::fs::write(d.join(&data), signature).expect("write data");
        openssl(
            d,
            &[
                "ts", "-query", "-data", &data, "-sha256", "-cert", "-out", &query,
            ],
        );
        let query = std::fs::read(d.join(&query)).expect("read query");
        let time = {
            let mut state = lock(&self.state);
            state.requests += 1;
            state.time.clone()
        };
        reply(d, "ts.cnf", &query, time.as_deref()).expect("openssl ts -reply")
    }

    /// A timestamp token over `signature` whose signer certificate lacks the
    /// timeStamping extended key usage (OpenSSL's TSA refuses such a
    /// certificate, so the TSTInfo of a correct token is signed again with
    /// `openssl cms -sign`).
    pub fn stamp_without_eku(&self, signature: &[u8]) -> Vec<u8> {
        let d = self.dir.path();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let (resp, token, info, out) = (
            format!("resp-{n}.tsr"),
            format!("token-{n}.der"),
            format!("tstinfo-{n}.der"),
            format!("no-eku-{n}.der"),
        );
        std::fs::write(d.join(&resp), self.stamp(signature)).expect("write response");
        openssl(
            d,
            &["ts", "-reply", "-in", &resp, "-token_out", "-out", &token],
        );
        openssl(
            d,
            &[
                "cms",
                "-verify",
                "-noverify",
                "-inform",
                "DER",
                "-in",
                &token,
                "-out",
                &info,
            ],
        );
        openssl(
            d,
            &[
                "cms",
                "-sign",
                "-binary",
                "-nodetach",
                "-nosmimecap",
                "-econtent_type",
                "1.2.840.113549.1.9.16.1.4",
                "-in",
                &info,
                "-signer",
                "no-eku.pem",
                "-inkey",
                "tsa.key",
                "-md",
                "sha256",
                "-outform",
                "DER",
                "-out",
                &out,
            ],
        );
        std::fs::read(d.join(&out)).expect("read the re-signed token")
    }
}

impl Drop for OpensslTsa {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs openssl under `faketime` at `time`.
fn faketime_openssl(dir: &Path, time: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new("faketime")
        .arg(time)
        .arg("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("faketime is installed (Debian package faketime; .ci/run installs it)");
    assert!(
        out.status.success(),
        "faketime openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `openssl ts -reply` for `query`, under faketime when `time` is given.
fn reply(dir: &Path, config: &str, query: &[u8], time: Option<&str>) -> Result<Vec<u8>, String> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let (q, r) = (format!("q-{n}.tsq"), format!("r-{n}.tsr"));
    std::fs::write(dir.join(&q), query).map_err(|e| e.to_string())?;
    let args = [
        "ts",
        "-reply",
        "-config",
        config,
        "-queryfile",
        &q,
        "-out",
        &r,
    ];
    let mut command = match time {
        Some(t) => {
            let mut c = Command::new("faketime");
            c.arg(t).arg("openssl");
            c
        }
        None => Command::new("openssl"),
    };
    let out = command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    // A rejection is written as a response too; no file means a failure.
    std::fs::read(dir.join(&r)).map_err(|_| String::from_utf8_lossy(&out.stderr).into_owned())
}

fn accept_loop(listener: &TcpListener, dir: &Path, state: &Mutex<State>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = handle(stream, dir, state);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn handle(mut stream: TcpStream, dir: &Path, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    let (mode, time) = {
        let mut s = lock(state);
        s.requests += 1;
        (s.mode.clone(), s.time.clone())
    };
    let answer = match mode {
        Mode::Normal => reply(dir, "ts.cnf", &body, time.as_deref()),
        Mode::Reject => reply(dir, "ts-reject.cnf", &body, time.as_deref()),
        Mode::WrongNonce => reply(dir, "ts.cnf", &change_request(&body, 2), time.as_deref()),
        Mode::OtherImprint => reply(dir, "ts.cnf", &change_request(&body, 1), time.as_deref()),
        Mode::HttpError => Err("HTTP 500 on purpose".into()),
        Mode::Oversized => Ok(vec![0u8; 1 << 20]),
    };
    let (status, body) = match answer {
        Ok(body) => ("200 OK", body),
        Err(e) => ("500 Internal Server Error", e.into_bytes()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}

/// Reads one DER TLV at the start of `data`: (header length, total length).
fn tlv_len(data: &[u8]) -> (usize, usize) {
    let first = data[1];
    if first < 0x80 {
        return (2, 2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    let len = data[2..2 + n]
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    (2 + n, 2 + n + len)
}

/// `request` (a DER TimeStampReq) with the last byte of its `index`-th
/// element changed: 1 is the message imprint (its hash), 2 the nonce when
/// no policy is asked for (as this workspace's requests are).
fn change_request(request: &[u8], index: usize) -> Vec<u8> {
    let (header, total) = tlv_len(request);
    let mut out = request[..total].to_vec();
    let mut at = header;
    for _ in 0..index {
        at += tlv_len(&out[at..]).1;
    }
    let end = at + tlv_len(&out[at..]).1;
    out[end - 1] ^= 0x01;
    out
}

/// The certificates of the first timestamp authority of a Sigstore trusted
/// root (`timestampAuthorities[0].certChain`), written as one PEM file at
/// `out`: what `--tsa-certificate-chain` takes for the stand-in's TSA.
pub fn trusted_root_tsa_chain(trusted_root: &Path, out: &Path) {
    use base64::Engine as _;
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(trusted_root).expect("read the trusted root"))
            .expect("trusted root JSON");
    let certs = root["timestampAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .expect("a TSA certificate chain");
    let mut pem = String::new();
    for cert in certs {
        let der = base64::engine::general_purpose::STANDARD
            .decode(cert["rawBytes"].as_str().expect("rawBytes"))
            .expect("base64");
        pem.push_str(
            &model_signing::x509::Certificate::from_der(&der)
                .expect("a certificate")
                .to_pem(),
        );
    }
    std::fs::write(out, pem).expect("write the TSA chain");
}

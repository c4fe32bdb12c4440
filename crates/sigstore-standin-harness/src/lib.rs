//! Test support: a loopback stand-in for the Sigstore services.
//!
//! [`StandIn::start`] runs `testsupport/sigstore-standin` (a Node.js adapter
//! over npm `@sigstore/mock`) on 127.0.0.1 with ephemeral ports: an OIDC
//! issuer, Fulcio with an embedded-SCT CT log, Rekor v1, Rekor v2 and a
//! timestamp authority, all with keys generated at start-up. It writes a
//! trusted root and, for each [`Flavour`], a signing config and a
//! ClientTrustConfig (the file `model_signing --trust_config` and
//! `sigstore --trust-config` read).
//!
//! ```no_run
//! use sigstore_standin_harness::{Flavour, StandIn};
//!
//! let standin = StandIn::shared(); // one instance per test binary
//! let token = standin
//!     .identity_token("https://example.com/signer")
//!     .expect("token");
//! let trust_config = standin.trust_config(Flavour::RekorV2);
//! // sign with `token` against `trust_config`, then verify with identity
//! // "https://example.com/signer" and issuer `standin.issuer()`.
//! # let _ = (token, trust_config);
//! ```
//!
//! Node.js >= 20 and npm must be on `PATH`; the npm packages are installed
//! with `npm ci` on first use (serialized across processes by a lock file).
//! Set `SIGSTORE_STANDIN_VERBOSE=1` to see every request on stderr.
//!
//! The stand-in's issuer has no interactive login; [`oauth::OAuthProvider`]
//! is a loopback identity provider (in Rust, no Node.js) for testing one,
//! with public and confidential clients.

pub mod http;
mod install;
pub mod oauth;
pub mod reference;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

use http::Response;

/// How long the adapter may take to print its ready line (it takes about a
/// second; key generation and module loading dominate).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`Drop`] waits for a graceful exit before killing the process.
const EXIT_GRACE: Duration = Duration::from_secs(3);
/// How much of the adapter's stderr is kept for error messages.
const STDERR_KEEP: usize = 64 * 1024;

/// What went wrong starting or talking to the stand-in.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `node` or `npm` is missing or too old.
    #[error(
        "the Sigstore stand-in needs {tool} on PATH ({detail}); install Node.js >= 20 with npm"
    )]
    MissingTool {
        /// `node` or `npm`.
        tool: &'static str,
        /// What was found instead.
        detail: String,
    },
    /// `npm ci` failed.
    #[error("`npm ci` in {dir} failed ({status}):\n{output}")]
    NpmInstall {
        /// The stand-in directory.
        dir: PathBuf,
        /// The exit status.
        status: String,
        /// Its stdout and stderr.
        output: String,
    },
    /// The adapter exited or timed out before it was ready.
    #[error("the Sigstore stand-in did not start: {reason}\nits stderr:\n{stderr}")]
    StartUp {
        /// Why.
        reason: String,
        /// What the adapter wrote on stderr.
        stderr: String,
    },
    /// An HTTP exchange with the stand-in failed.
    #[error("{method} {url}: {detail}")]
    Http {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// What failed.
        detail: String,
    },
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, naming the path.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// A signing config choice; all share one trusted root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// Fulcio + Rekor v1; no timestamp authority (times come from the SET).
    RekorV1,
    /// Fulcio + Rekor v1 + timestamp authority (like the production instance).
    RekorV1Tsa,
    /// Fulcio + Rekor v2 + timestamp authority (like the staging instance).
    RekorV2,
}

impl Flavour {
    /// Every flavour.
    pub const ALL: [Flavour; 3] = [Flavour::RekorV1, Flavour::RekorV1Tsa, Flavour::RekorV2];

    /// The flavour's name in the adapter's output and directory layout.
    pub fn name(self) -> &'static str {
        match self {
            Flavour::RekorV1 => "rekor-v1",
            Flavour::RekorV1Tsa => "rekor-v1-tsa",
            Flavour::RekorV2 => "rekor-v2",
        }
    }
}

/// The base URLs of the services (`http://127.0.0.1:PORT`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Urls {
    /// The OIDC issuer (also the `iss` of minted tokens).
    pub oidc: String,
    /// Fulcio (`POST /api/v2/signingCert`).
    pub fulcio: String,
    /// Rekor v1 (`/api/v1/log/...`).
    pub rekor_v1: String,
    /// Rekor v2 (`POST /api/v2/log/entries`).
    pub rekor_v2: String,
    /// The timestamp authority (`POST /api/v1/timestamp`).
    pub tsa: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlavourFiles {
    signing_config: PathBuf,
    trust_config: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ready {
    ready: bool,
    pid: u32,
    dir: PathBuf,
    issuer: String,
    token_url: String,
    urls: Urls,
    trusted_root: PathBuf,
    flavours: std::collections::HashMap<String, FlavourFiles>,
}

/// A running stand-in instance; stopped (and its files removed) on drop.
pub struct StandIn {
    child: Child,
    stdin: Option<ChildStdin>,
    ready: Ready,
    stderr: Arc<Mutex<String>>,
}

impl std::fmt::Debug for StandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn")
            .field("pid", &self.ready.pid)
            .field("issuer", &self.ready.issuer)
            .field("dir", &self.ready.dir)
            .finish_non_exhaustive()
    }
}

/// The adapter's directory, `testsupport/sigstore-standin` in the workspace.
pub fn standin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testsupport/sigstore-standin")
}

/// Checks for Node.js and installs the adapter's npm packages if needed
/// (what [`StandIn::start`] does first); returns the `node` program to run.
pub fn prepare() -> Result<&'static str, Error> {
    let node = install::check_node()?;
    install::ensure_node_modules(&standin_dir())?;
    Ok(node)
}

impl StandIn {
    /// Starts a new instance, with its own keys and ports (installing the npm
    /// packages first if needed).
    pub fn start() -> Result<StandIn, Error> {
        let dir = standin_dir();
        let node = prepare()?;
        let verbose = std::env::var_os("SIGSTORE_STANDIN_VERBOSE").is_some_and(|v| v != "0");

        let mut command = Command::new(node);
        command
            .arg("src/main.js")
            .arg("--watch-stdin")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if verbose {
            command.arg("--verbose");
        }
        let mut child = command.spawn().map_err(|source| Error::Io {
            what: format!("starting node {}/src/main.js", dir.display()),
            source,
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr_pipe = child.stderr.take().expect("stderr is piped");

        let stderr = Arc::new(Mutex::new(String::new()));
        spawn_stderr_reader(stderr_pipe, Arc::clone(&stderr), verbose);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Ok(ready) = serde_json::from_str::<Ready>(&line) {
                        sent = ready.ready;
                        let _ = tx.send(ready);
                    }
                }
            }
        });

        let started = Instant::now();
        let ready = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(ready) => ready,
            Err(e) => {
                let reason = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("no ready line within {READY_TIMEOUT:?}")
                    }
                    mpsc::RecvTimeoutError::Disconnected => {
                        let status = wait_briefly(&mut child);
                        format!("the adapter exited ({status}) without a ready line")
                    }
                };
                let _ = child.kill();
                let _ = child.wait();
                let stderr = lock(&stderr).clone();
                return Err(Error::StartUp { reason, stderr });
            }
        };
        if verbose {
            eprintln!(
                "sigstore-standin: ready in {:?}: issuer {}",
                started.elapsed(),
                ready.issuer
            );
        }
        Ok(StandIn {
            child,
            stdin,
            ready,
            stderr,
        })
    }

    /// One instance shared by every test of this test binary, started on
    /// first use. The process exits when the test binary does (it watches
    /// its stdin pipe).
    ///
    /// # Panics
    ///
    /// If the stand-in cannot start (the message says why).
    pub fn shared() -> &'static StandIn {
        static SHARED: OnceLock<StandIn> = OnceLock::new();
        SHARED.get_or_init(|| StandIn::start().unwrap_or_else(|e| panic!("{e}")))
    }

    /// The OIDC issuer URL: the `iss` of minted tokens and the issuer the
    /// certificates name (extensions 1.3.6.1.4.1.57264.1.1 and .1.8).
    pub fn issuer(&self) -> &str {
        &self.ready.issuer
    }

    /// The services' base URLs.
    pub fn urls(&self) -> &Urls {
        &self.ready.urls
    }

    /// The trusted root (`trusted_root.json`): the Fulcio CA, CT log, both
    /// Rekor logs and the TSA of this instance.
    pub fn trusted_root(&self) -> &Path {
        &self.ready.trusted_root
    }

    /// The ClientTrustConfig of a flavour (trusted root + signing config).
    pub fn trust_config(&self, flavour: Flavour) -> &Path {
        &self.files(flavour).trust_config
    }

    /// The signing config (v0.2) of a flavour.
    pub fn signing_config(&self, flavour: Flavour) -> &Path {
        &self.files(flavour).signing_config
    }

    /// The directory the trust files are in (removed when the instance stops).
    pub fn dir(&self) -> &Path {
        &self.ready.dir
    }

    /// The adapter's process id.
    pub fn pid(&self) -> u32 {
        self.ready.pid
    }

    fn files(&self, flavour: Flavour) -> &FlavourFiles {
        self.ready
            .flavours
            .get(flavour.name())
            .expect("the adapter writes every flavour")
    }

    /// Mints an identity token for `subject` (claims `iss` = [`issuer`],
    /// `aud` = `sigstore`, `sub`, `iat` = now, `exp` = now + 10 minutes),
    /// signed by the issuer's key, which the stand-in's Fulcio requires.
    /// The certificate's SAN will be `subject` (as a URI SAN).
    ///
    /// [`issuer`]: StandIn::issuer
    pub fn identity_token(&self, subject: &str) -> Result<String, Error> {
        let url = format!(
            "{}?sub={}",
            self.ready.token_url,
            http::percent_encode(subject)
        );
        token_from(http::get(&url)?, &url)
    }

    /// Mints a token with `claims` over the defaults (`iss`, `aud`, `iat`,
    /// `exp`); `sub` is required, a claim set to `null` is left out, and a
    /// `"ttl"` member sets the lifetime in seconds (negative: expired).
    /// Other issuers can be named in `iss` (the stand-in's Fulcio takes any
    /// `iss`, as long as its own key signed the token).
    pub fn identity_token_with(&self, claims: &serde_json::Value) -> Result<String, Error> {
        let body = serde_json::to_vec(claims).expect("a JSON value serializes");
        let url = &self.ready.token_url;
        token_from(http::post(url, "application/json", &body)?, url)
    }

    /// What the adapter wrote on stderr so far (the last 64 KiB), for
    /// diagnosing a failed test.
    pub fn stderr(&self) -> String {
        lock(&self.stderr).clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        // Closing stdin asks the adapter to stop and remove its directory.
        drop(self.stdin.take());
        let deadline = Instant::now() + EXIT_GRACE;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token_from(response: Response, url: &str) -> Result<String, Error> {
    if response.status != 200 {
        return Err(Error::Http {
            method: "token".into(),
            url: url.into(),
            detail: format!(
                "status {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ),
        });
    }
    String::from_utf8(response.body)
        .map(|token| token.trim().to_owned())
        .map_err(|_| Error::Http {
            method: "token".into(),
            url: url.into(),
            detail: "the token is not UTF-8".into(),
        })
}

fn spawn_stderr_reader(mut pipe: std::process::ChildStderr, keep: Arc<Mutex<String>>, echo: bool) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let text = String::from_utf8_lossy(&buf[..n]);
            if echo {
                eprint!("{text}");
            }
            let mut kept = lock(&keep);
            kept.push_str(&text);
            if kept.len() > STDERR_KEEP {
                let mut cut = kept.len() - STDERR_KEEP;
                while !kept.is_char_boundary(cut) {
                    cut += 1;
                }
                kept.drain(..cut);
            }
        }
    });
}

fn wait_briefly(child: &mut Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    "still running".into()
}

fn lock(m: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

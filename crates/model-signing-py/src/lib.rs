//! `model_signing_rs._native`: the Rust half of the `model-signing-rs`
//! Python package. Every function takes plain arguments and a JSON
//! specification built by the Python modules (`hashing`, `signing`,
//! `verifying`), runs the library with the GIL released, and returns JSON;
//! a failure raises `NativeError(kind, message, details_json)`, which the
//! Python layer turns into its exception types. A panic never crosses into
//! Python: it becomes a `NativeError` of kind `internal`.
//!
//! Paths of the model and of the signature arrive as `os.PathLike` (bytes
//! and non-UTF-8 names work); paths inside a specification are text.

use model_signing::text::error_chain as chain;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use model_signing::hashing::{
    HashAlgorithm, HashConfig, HashError, Incremental, Progress, RelPath, DEFAULT_SHARD_SIZE,
};
use model_signing::keys::{is_encrypted_pem, PrivateKey, PublicKey};
use model_signing::sign::{
    check_writable, sign_model_to, sign_model_to_incremental, write_atomic, BundleSigner,
    CertificateSigner, KeySigner, SignError, TimestampingSigner,
};
use model_signing::timestamp::{TimestampAuthority, Timestamper};
use model_signing::verify::{
    verify_bundle, CertificateVerifier, KeyVerifier, ModelCheckOptions, SignatureVerifier, Signer,
    VerifyError,
};
use model_signing::x509::Certificate;
use model_signing::{ErrorKind, Manifest};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pyo3::create_exception!(
    _native,
    NativeError,
    pyo3::exceptions::PyException,
    "A failure of the native library: (kind, message, details as JSON)."
);

/// The largest key, certificate or password file read.
const MAX_KEY_FILE_BYTES: u64 = 16 << 20;

/// A failure on its way to Python.
struct Failure {
    kind: &'static str,
    message: String,
    details: Value,
}

impl Failure {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            details: Value::Null,
        }
    }

    fn usage(message: impl Into<String>) -> Self {
        Failure::new("usage", message)
    }
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Usage => "usage",
        ErrorKind::Malformed => "malformed",
        ErrorKind::Rejected => "rejected",
        ErrorKind::Environment => "environment",
        _ => "error",
    }
}

fn failure<E: std::error::Error + 'static>(kind: ErrorKind, context: &str, err: &E) -> Failure {
    let message = if context.is_empty() {
        chain(err)
    } else {
        format!("{context}: {}", chain(err))
    };
    Failure::new(kind_name(kind), message)
}

impl From<HashError> for Failure {
    fn from(e: HashError) -> Self {
        failure(e.kind(), "cannot hash the model", &e)
    }
}

impl From<SignError> for Failure {
    fn from(e: SignError) -> Self {
        failure(e.kind(), "", &e)
    }
}

impl From<VerifyError> for Failure {
    fn from(e: VerifyError) -> Self {
        let mut f = failure(e.kind(), "verification failed", &e);
        if let VerifyError::ModelMismatch(report) = &e {
            f.details = json!({
                "changed": report.changed.iter().map(|c| json!({
                    "name": c.name, "expected": c.expected, "actual": c.actual,
                })).collect::<Vec<_>>(),
                "missing": report.missing,
                "unexpected": report.unexpected,
            });
        }
        f
    }
}

/// What a running call shares with the Python thread that waits for it:
/// the progress it reports and whether to stop.
struct Control {
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

impl Control {
    fn new() -> Self {
        Control {
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
        }
    }
}

impl Progress for Control {
    fn start(&self, total_bytes: u64, _total_items: usize) {
        self.total.fetch_add(total_bytes, Ordering::Relaxed);
    }

    fn advance(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// How often the waiting Python thread looks at signals (Ctrl-C) and
/// reports progress.
const POLL: Duration = Duration::from_millis(50);

/// Runs `f` on a thread of its own while this thread, the GIL released
/// between looks, checks for signals (a KeyboardInterrupt cancels `f`,
/// which stops hashing after its next read, and is raised) and calls
/// `progress(done_bytes, total_bytes)` when it changed (an exception it
/// raises cancels too). Failures and panics of `f` become `NativeError`.
fn run<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    f: impl FnOnce(&Control) -> Result<T, Failure> + Send,
) -> PyResult<T> {
    let control = Control::new();
    let mut interrupt: Option<PyErr> = None;
    let outcome = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        let control = &control;
        scope.spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(|| f(control))));
        });
        // Shared with the GIL-free wait (a receiver alone is not Sync).
        let rx = std::sync::Mutex::new(rx);
        let mut reported = (u64::MAX, u64::MAX);
        loop {
            let received = py.allow_threads(|| {
                rx.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .recv_timeout(POLL)
            });
            let now = (
                control.done.load(Ordering::Relaxed),
                control.total.load(Ordering::Relaxed),
            );
            if let (Some(callback), None) = (progress, &interrupt) {
                if now != reported {
                    reported = now;
                    if let Err(e) = callback.call1(now) {
                        control.cancel.store(true, Ordering::Relaxed);
                        interrupt = Some(e);
                    }
                }
            }
            match received {
                Ok(outcome) => return outcome,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Ok(Err(Failure::new("internal", "the worker thread vanished")));
                }
            }
            if interrupt.is_none() {
                if let Err(e) = py.check_signals() {
                    control.cancel.store(true, Ordering::Relaxed);
                    interrupt = Some(e);
                }
            }
        }
    });
    let failure = match outcome {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(failure)) => failure,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Failure::new("internal", format!("internal error: {what}"))
        }
    };
    // A KeyboardInterrupt (or the callback's exception) that stopped the
    // call is what Python sees, not the cancellation it caused.
    if let Some(e) = interrupt {
        return Err(e);
    }
    Err(native_error(failure))
}

/// The Python exception of a failure (its message escaped for a terminal).
fn native_error(failure: Failure) -> PyErr {
    let message = model_signing::text::escape(&failure.message).into_owned();
    NativeError::new_err((failure.kind, message, failure.details.to_string()))
}

fn parse<T: for<'de> Deserialize<'de>>(json: &str, what: &str) -> Result<T, Failure> {
    serde_json::from_str(json).map_err(|e| Failure::usage(format!("invalid {what}: {e}")))
}

fn read_file(path: &Path, what: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, Failure> {
    let fail = |e: &dyn std::fmt::Display| {
        Failure::new(
            "environment",
            format!("cannot read {what} {}: {e}", path.display()),
        )
    };
    let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
    let size = file.metadata().map_or(0, |m| m.len());
    match model_signing::limits::read_bounded(file, MAX_KEY_FILE_BYTES, size) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(Failure::usage(format!(
            "{what} {} is larger than {MAX_KEY_FILE_BYTES} bytes; it is not a {what}",
            path.display()
        ))),
        Err(e) => Err(fail(&e)),
    }
}

fn certificates(path: &Path) -> Result<Vec<Certificate>, Failure> {
    let text = read_file(path, "certificate file")?;
    Certificate::from_pem_bundle(&text).map_err(|e| {
        Failure::new(
            "malformed",
            format!("cannot read certificates from {}: {e}", path.display()),
        )
    })
}

fn public_key(path: &Path) -> Result<PublicKey, Failure> {
    let pem = read_file(path, "public key")?;
    let text = std::str::from_utf8(&pem).map_err(|_| {
        Failure::new(
            "malformed",
            format!("public key {} is not PEM text", path.display()),
        )
    })?;
    PublicKey::from_pem(text).map_err(|e| {
        failure(
            ErrorKind::Malformed,
            &format!("cannot load public key {}", path.display()),
            &e,
        )
    })
}

fn private_key(path: &Path, password: Option<&str>) -> Result<PrivateKey, Failure> {
    let pem = read_file(path, "private key")?;
    let password = if is_encrypted_pem(&pem) {
        Some(password.ok_or_else(|| {
            Failure::usage(format!(
                "the private key {} is encrypted; give its password",
                path.display()
            ))
        })?)
    } else {
        None
    };
    PrivateKey::from_pem(&pem, password.map(str::as_bytes)).map_err(|e| {
        failure(
            ErrorKind::Malformed,
            &format!("cannot load private key {}", path.display()),
            &e,
        )
    })
}

// ------------------------------------------------------------------ hashing

/// How to hash, as `hashing.Config` holds it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HashingSpec {
    /// `files` or `shards`.
    method: String,
    /// `sha256`, `blake2` or `blake3`.
    algorithm: String,
    shard_size: Option<u64>,
    /// Relative to the model, or absolute inside it.
    #[serde(default)]
    ignore_paths: Vec<String>,
    ignore_git_paths: bool,
    allow_symlinks: bool,
    #[serde(default)]
    threads: Option<usize>,
}

/// `path` (relative to `root`, or absolute) as a path inside `root`, or
/// `None` when it is not inside (the reference skips those).
fn inside(root: &Path, path: &Path) -> Option<RelPath> {
    let rel = if path.is_absolute() {
        let canonical = root.canonicalize().ok()?;
        path.strip_prefix(root)
            .or_else(|_| path.strip_prefix(&canonical))
            .ok()?
            .to_owned()
    } else {
        path.to_owned()
    };
    let mut parts: Vec<String> = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?.to_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    RelPath::from_components(parts).ok()
}

fn hash_config(spec: &HashingSpec, model: &Path) -> Result<HashConfig, Failure> {
    let algorithm = match spec.algorithm.as_str() {
        "sha256" => HashAlgorithm::Sha256,
        "blake2" | "blake2b" => HashAlgorithm::Blake2b,
        "blake3" => HashAlgorithm::Blake3,
        other => {
            return Err(Failure::usage(format!(
                "Unsupported hashing method {other}"
            )))
        }
    };
    let mut config = HashConfig::new()
        .algorithm(algorithm)
        .ignore_git_paths(spec.ignore_git_paths)
        .allow_symlinks(spec.allow_symlinks);
    match spec.method.as_str() {
        "files" => {}
        // BLAKE3 is parallel already: sharding it is hashing per file, as
        // in the reference.
        "shards" if algorithm == HashAlgorithm::Blake3 => {}
        "shards" => {
            config = config
                .shards(spec.shard_size.unwrap_or(DEFAULT_SHARD_SIZE.get()))
                .map_err(|e| failure(ErrorKind::Usage, "invalid shard size", &e))?;
        }
        other => {
            return Err(Failure::usage(format!(
                "unknown serialization method {other:?}"
            )))
        }
    }
    if let Some(threads) = spec.threads {
        config = config
            .threads(threads)
            .map_err(|e| failure(ErrorKind::Usage, "invalid max_workers", &e))?;
    }
    let ignores: Vec<RelPath> = spec
        .ignore_paths
        .iter()
        .filter_map(|p| inside(model, Path::new(p)))
        .collect();
    Ok(config.ignore_rel_paths(ignores))
}

/// A manifest as the Python package reads it (`manifest._from_native`):
/// the manifest's own serialization plus the root digest.
#[derive(Serialize)]
struct ManifestOut<'a> {
    model_name: &'a str,
    serialization: &'a model_signing::manifest::Serialization,
    root_digest: String,
    resources: &'a [model_signing::manifest::Resource],
}

fn manifest_out(manifest: &Manifest) -> ManifestOut<'_> {
    ManifestOut {
        model_name: &manifest.model_name,
        serialization: &manifest.serialization,
        root_digest: manifest.root_digest_hex(),
        resources: &manifest.resources,
    }
}

/// The manifest in the JSON form of [`ManifestOut`].
fn manifest_json(manifest: &Manifest) -> Result<String, Failure> {
    serde_json::to_string(&manifest_out(manifest))
        .map_err(|e| Failure::new("internal", format!("cannot serialize the manifest: {e}")))
}

/// `model`, or the Hugging Face cache snapshot an `hf://ORG/NAME[@REV]`
/// names.
fn resolve_model(model: &Path) -> Result<PathBuf, Failure> {
    model_signing_cli::resolve_model(model)
        .map_err(|e| Failure::new(if e.usage { "usage" } else { "environment" }, e.message))
}

/// Hashes the model at `model` as `spec` says; returns the manifest.
#[pyfunction]
#[pyo3(signature = (model, spec, progress = None))]
fn hash(
    py: Python<'_>,
    model: PathBuf,
    spec: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    run(py, progress, |control| {
        let spec: HashingSpec = parse(spec, "hashing configuration")?;
        let model = resolve_model(&model)?;
        let config = hash_config(&spec, &model)?;
        let manifest = Manifest::hash(&model, &config, control)?;
        manifest_json(&manifest)
    })
}

// ------------------------------------------------------------------ signing

/// Who signs, as `signing.Config` holds it.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum SignerSpec {
    Key {
        private_key: PathBuf,
        password: Option<String>,
    },
    Certificate {
        private_key: PathBuf,
        password: Option<String>,
        signing_certificate: PathBuf,
        certificate_chain: Vec<PathBuf>,
    },
    Pkcs11 {
        uri: String,
        module_paths: Vec<PathBuf>,
    },
    Pkcs11Certificate {
        uri: String,
        module_paths: Vec<PathBuf>,
        signing_certificate: PathBuf,
        certificate_chain: Vec<PathBuf>,
    },
    Sigstore {
        identity_token: Option<String>,
        use_staging: bool,
        trust_config: Option<PathBuf>,
        use_ambient_credentials: bool,
        #[serde(default)]
        oidc_issuer: Option<String>,
        #[serde(default)]
        force_oob: bool,
        #[serde(default)]
        client_id: Option<String>,
        #[serde(default)]
        client_secret: Option<String>,
    },
}

/// The interactive Sigstore login's prompts, through Python: the browser
/// is `webbrowser.open`, the URL goes to `sys.stderr`, the code comes from
/// `input()` (what the reference, through sigstore-python, does). Called on
/// the worker thread, which takes the GIL for each.
struct PythonLogin;

impl PythonLogin {
    fn stderr(text: &str) {
        Python::with_gil(|py| {
            let _ = py.import("sys").and_then(|sys| {
                let err = sys.getattr("stderr")?;
                err.call_method1("write", (text,))?;
                err.call_method0("flush")
            });
        });
    }
}

impl model_signing_sigstore::LoginCallbacks for PythonLogin {
    fn open_browser(&self, url: &str) -> bool {
        Python::with_gil(|py| {
            py.import("webbrowser")
                .and_then(|w| w.call_method1("open", (url,)))
                .and_then(|opened| opened.is_truthy())
                .unwrap_or(false)
        })
    }

    fn login_url(&self, url: &str, browser_opened: bool) {
        let url = model_signing::text::escape(url);
        if browser_opened {
            Self::stderr(&format!(
                "Your browser was opened to log in to Sigstore:\n\n\t{url}\n\n"
            ));
        } else {
            Self::stderr(&format!(
                "Go to the following link in a browser to log in to Sigstore:\n\n\t{url}\n\n"
            ));
        }
    }

    fn prompt_for_code(&self) -> std::io::Result<model_signing_sigstore::Secret> {
        Python::with_gil(|py| {
            py.import("builtins")
                .and_then(|b| b.call_method1("input", ("Enter verification code: ",)))
                .and_then(|code| code.extract::<String>())
                .map(model_signing_sigstore::Secret::new)
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
    }

    fn waiting_for_browser(&self) {
        Self::stderr("Waiting for the browser ...\n");
    }
}

/// A PIN for a PKCS#11 token whose URI has none: the environment.
struct EnvPin;

impl model_signing_pkcs11::Callbacks for EnvPin {
    fn request_pin(
        &self,
        _request: &model_signing_pkcs11::PinRequest,
    ) -> std::io::Result<Option<model_signing_pkcs11::Pin>> {
        Ok(std::env::var_os("MODEL_SIGNING_PKCS11_PIN")
            .map(|p| model_signing_pkcs11::Pin::new(p.into_encoded_bytes())))
    }
}

fn pkcs11_key(
    uri: &str,
    module_paths: &[PathBuf],
) -> Result<model_signing_pkcs11::Pkcs11Key, Failure> {
    let uri = model_signing_pkcs11::Pkcs11Uri::parse(uri)
        .map_err(|e| failure(ErrorKind::Usage, "invalid PKCS #11 URI", &e))?;
    let callbacks = EnvPin;
    let mut options = model_signing_pkcs11::OpenOptions::new(&callbacks);
    // The first module path that is a file is the module; directories are
    // searched for the URI's module-name.
    if let Some(module) = module_paths.iter().find(|p| p.is_file()) {
        options = options.module_path(module);
    }
    let dirs: Vec<PathBuf> = module_paths
        .iter()
        .filter(|p| p.is_dir())
        .cloned()
        .collect();
    if !dirs.is_empty() {
        options = options.module_directories(dirs);
    }
    model_signing_pkcs11::Pkcs11Key::open(&uri, &options).map_err(|e| {
        let kind = if e.is_usage() {
            ErrorKind::Usage
        } else {
            ErrorKind::Environment
        };
        failure(kind, "cannot open the PKCS #11 key", &e)
    })
}

fn leaf_and_chain(
    signing_certificate: &Path,
    chain_files: &[PathBuf],
) -> Result<(Certificate, Vec<Certificate>), Failure> {
    let mut leaf = certificates(signing_certificate)?;
    if leaf.len() != 1 {
        return Err(Failure::usage(format!(
            "{} holds {} certificates; the signing certificate must be exactly one",
            signing_certificate.display(),
            leaf.len()
        )));
    }
    let mut chain = Vec::new();
    for path in chain_files {
        chain.extend(certificates(path)?);
    }
    Ok((leaf.remove(0), chain))
}

fn signer(spec: SignerSpec) -> Result<Box<dyn BundleSigner>, Failure> {
    let now = model_signing::sign::now();
    Ok(match spec {
        SignerSpec::Key {
            private_key: path,
            password,
        } => Box::new(KeySigner::new(Box::new(private_key(
            &path,
            password.as_deref(),
        )?))?),
        SignerSpec::Certificate {
            private_key: path,
            password,
            signing_certificate,
            certificate_chain,
        } => {
            let (leaf, chain) = leaf_and_chain(&signing_certificate, &certificate_chain)?;
            let key = private_key(&path, password.as_deref())?;
            Box::new(CertificateSigner::new(Box::new(key), leaf, chain, now)?)
        }
        SignerSpec::Pkcs11 { uri, module_paths } => {
            Box::new(KeySigner::new(Box::new(pkcs11_key(&uri, &module_paths)?))?)
        }
        SignerSpec::Pkcs11Certificate {
            uri,
            module_paths,
            signing_certificate,
            certificate_chain,
        } => {
            let (leaf, chain) = leaf_and_chain(&signing_certificate, &certificate_chain)?;
            let key = pkcs11_key(&uri, &module_paths)?;
            Box::new(CertificateSigner::new(Box::new(key), leaf, chain, now)?)
        }
        SignerSpec::Sigstore {
            identity_token,
            use_staging,
            trust_config,
            use_ambient_credentials,
            oidc_issuer,
            force_oob,
            client_id,
            client_secret,
        } => {
            use model_signing_sigstore::{
                IdentityToken, InteractiveLogin, SigningConfig, SigstoreSigner, TokenSource,
            };
            let sigstore =
                |e: &(dyn std::error::Error + 'static)| Failure::new("environment", chain(e));
            let token = identity_token
                .or_else(|| std::env::var("SIGSTORE_ID_TOKEN").ok())
                .filter(|t| !t.trim().is_empty());
            let mut sources = Vec::new();
            if let Some(text) = token {
                let token = IdentityToken::parse(&text)
                    .map_err(|e| failure(ErrorKind::Usage, "invalid identity token", &e))?;
                sources.push(TokenSource::Token(token));
            } else if use_ambient_credentials {
                sources.push(TokenSource::Ambient);
            } else {
                sources.push(TokenSource::Interactive(InteractiveLogin {
                    force_oob,
                    client_id: client_id.unwrap_or_else(|| "sigstore".to_owned()),
                    client_secret: client_secret.map(model_signing_sigstore::Secret::new),
                }));
            }
            let config = match &trust_config {
                Some(path) => SigningConfig::from_trust_config_file(path),
                None if use_staging => SigningConfig::staging(),
                None => SigningConfig::production(),
            }
            .map_err(|e| sigstore(&e))?;
            let config = match oidc_issuer {
                Some(issuer) => config.with_oidc_url(issuer),
                None => config,
            };
            Box::new(
                SigstoreSigner::new(config, sources)
                    .map_err(|e| sigstore(&e))?
                    .with_callbacks(Box::new(PythonLogin)),
            )
        }
    })
}

/// Signs the model at `model` and writes the signature at `signature`.
/// `hashing` is a [`HashingSpec`], `signer` a [`SignerSpec`]; `tsa_urls`
/// add RFC 3161 timestamps. Returns the signed manifest.
#[pyfunction]
#[pyo3(signature = (model, signature, hashing, signer, tsa_urls = Vec::new(), progress = None, incremental = false))]
#[allow(clippy::too_many_arguments)]
fn sign(
    py: Python<'_>,
    model: PathBuf,
    signature: PathBuf,
    hashing: &str,
    signer: &str,
    tsa_urls: Vec<String>,
    progress: Option<&Bound<'_, PyAny>>,
    incremental: bool,
) -> PyResult<String> {
    run(py, progress, |control| {
        let hashing: HashingSpec = parse(hashing, "hashing configuration")?;
        let spec: SignerSpec = parse(signer, "signing configuration")?;
        let model = resolve_model(&model)?;
        let mut config = hash_config(&hashing, &model)?;
        // The signature file is not part of the model it signs.
        if let (Ok(root), Some(parent)) = (model.canonicalize(), signature.parent()) {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            if let (Ok(dir), Some(name)) = (parent.canonicalize(), signature.file_name()) {
                if let Some(rel) = inside(&root, &dir.join(name)) {
                    config = config.ignore_rel_paths([rel]);
                }
            }
        }
        let inner = self::signer(spec)?;
        let mut timestampers: Vec<Box<dyn Timestamper>> = Vec::new();
        for url in &tsa_urls {
            let t = model_signing_sigstore::HttpTimestamper::new(url)
                .map_err(|e| failure(ErrorKind::Usage, "invalid timestamp authority", &e))?;
            timestampers.push(Box::new(t));
        }
        let stamped = TimestampingSigner::new(inner.as_ref(), timestampers);
        check_writable(&signature)?;
        if !incremental {
            let (bundle, manifest) = sign_model_to(&model, &config, &stamped, control, &signature)?;
            write_atomic(&signature, bundle.to_json().as_bytes())?;
            return manifest_json(&manifest);
        }
        let state = Incremental::in_cache_dir();
        let (bundle, manifest, report) =
            sign_model_to_incremental(&model, &config, &stamped, control, &signature, &state)?;
        write_atomic(&signature, bundle.to_json().as_bytes())?;
        let mut out = serde_json::to_value(manifest_out(&manifest))
            .map_err(|e| Failure::new("internal", format!("cannot serialize the manifest: {e}")))?;
        out["incremental"] = json!({
            "files_hashed": report.files_hashed,
            "bytes_hashed": report.bytes_hashed,
            "files_reused": report.files_reused,
            "bytes_reused": report.bytes_reused,
            "record": report.record.map(|p| p.to_string_lossy().into_owned()),
            "notes": report.notes,
        });
        Ok(out.to_string())
    })
}

// ------------------------------------------------------------- verification

/// Who must have signed, as `verifying.Config` holds it.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum VerifierSpec {
    Key {
        public_key: PathBuf,
        #[serde(default)]
        tsa_certificate_chains: Vec<PathBuf>,
    },
    Certificate {
        certificate_chain: Vec<PathBuf>,
        #[serde(default)]
        tsa_certificate_chains: Vec<PathBuf>,
    },
    Sigstore {
        identity: String,
        oidc_issuer: String,
        use_staging: bool,
        trust_config: Option<PathBuf>,
    },
}

/// What besides the signature decides: the options of `verifying.Config`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyOptions {
    ignore_unsigned_files: bool,
    #[serde(default)]
    ignore_paths: Vec<String>,
    /// A partial verification: only these files (as the signature lists
    /// them, or absolute paths inside the model).
    #[serde(default)]
    files: Option<Vec<String>>,
    #[serde(default = "yes")]
    ignore_git_paths: bool,
    /// A claims file to verify after the model (`verify --claims`).
    #[serde(default)]
    claims: Option<PathBuf>,
    /// Public keys trusted for claims, besides the model's signer.
    #[serde(default)]
    claim_keys: Vec<PathBuf>,
    /// CA certificates trusted for claims.
    #[serde(default)]
    claim_certificate_chains: Vec<PathBuf>,
}

fn yes() -> bool {
    true
}

fn authorities(files: &[PathBuf]) -> Result<Vec<TimestampAuthority>, Failure> {
    files
        .iter()
        .map(|path| {
            TimestampAuthority::new(certificates(path)?)
                .map_err(|e| failure(e.kind(), &format!("{}", path.display()), &e))
        })
        .collect()
}

fn verifier(spec: VerifierSpec) -> Result<Box<dyn SignatureVerifier>, Failure> {
    Ok(match spec {
        VerifierSpec::Key {
            public_key: path,
            tsa_certificate_chains,
        } => Box::new(
            KeyVerifier::new(public_key(&path)?)
                .with_timestamp_authorities(authorities(&tsa_certificate_chains)?),
        ),
        VerifierSpec::Certificate {
            certificate_chain,
            tsa_certificate_chains,
        } => {
            let mut anchors = Vec::new();
            for path in &certificate_chain {
                anchors.extend(certificates(path)?);
            }
            Box::new(
                CertificateVerifier::new(anchors)
                    .with_timestamp_authorities(authorities(&tsa_certificate_chains)?),
            )
        }
        VerifierSpec::Sigstore {
            identity,
            oidc_issuer,
            use_staging,
            trust_config,
        } => {
            use model_signing_sigstore::{IdentityPolicy, Match, SigstoreVerifier, TrustRoot};
            let trust = match &trust_config {
                Some(path) => TrustRoot::from_trust_config_file(path),
                None if use_staging => TrustRoot::staging(),
                None => TrustRoot::production(),
            }
            .map_err(|e| {
                failure(
                    ErrorKind::Usage,
                    "cannot load the Sigstore trust material",
                    &e,
                )
            })?;
            let policy = IdentityPolicy::new(Match::exact(identity), Match::exact(oidc_issuer));
            Box::new(SigstoreVerifier::new(trust, policy))
        }
    })
}

/// Verifies the signature at `signature`, then the model at `model`
/// against it, with the hashing the signature records. `verifier` is a
/// [`VerifierSpec`], `options` [`VerifyOptions`].
#[pyfunction]
#[pyo3(signature = (model, signature, verifier, options, progress = None))]
fn verify(
    py: Python<'_>,
    model: PathBuf,
    signature: PathBuf,
    verifier: &str,
    options: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    run(py, progress, |control| {
        let spec: VerifierSpec = parse(verifier, "verification configuration")?;
        let options: VerifyOptions = parse(options, "verification options")?;
        let model = resolve_model(&model)?;
        let verifier = self::verifier(spec)?;
        let bundle = model_signing::bundle::Bundle::read(&signature).map_err(|e| {
            let kind = e.kind();
            failure(
                kind,
                &format!("cannot read signature {}", signature.display()),
                &e,
            )
        })?;
        let verified = verify_bundle(&bundle, verifier.as_ref())?;
        let check = verified.check().clone();
        let mut check_options = ModelCheckOptions {
            ignore_unsigned_files: options.ignore_unsigned_files,
            ignore_git_paths: options.ignore_git_paths,
            signature_path: Some(signature.clone()),
            claims_path: options.claims.clone(),
            ..ModelCheckOptions::default()
        };
        check_options.extra_ignore_paths.extend(
            options
                .ignore_paths
                .iter()
                .filter_map(|p| inside(&model, Path::new(p))),
        );
        if options.files.is_some() && options.claims.is_some() {
            return Err(Failure::usage(
                "claims= needs the whole model verified, not files=".to_owned(),
            ));
        }
        if let Some(files) = &options.files {
            let root = model.canonicalize().map_err(|e| {
                Failure::new(
                    "environment",
                    format!("cannot open model {}: {e}", model.display()),
                )
            })?;
            let mut named = Vec::with_capacity(files.len());
            for given in files {
                named.push(inside(&model, Path::new(given)).ok_or_else(|| {
                    Failure::usage(format!(
                        "{} does not name a file inside the model directory {} (give paths as the signature lists them, relative to the model directory)",
                        model_signing::text::escape(given),
                        root.display()
                    ))
                })?);
            }
            let result = verified.check_files(&model, &named, &check_options, control)?;
            let mut out = verification_json(
                &check,
                result.resources_checked,
                &[],
                &result.manifest.value().manifest,
            );
            out["partial"] = json!(true);
            out["files_checked"] = json!(result.files_checked);
            out["resources_not_checked"] = json!(result.resources_not_checked);
            return Ok(out.to_string());
        }
        let result = verified.check_model(&model, &check_options, control)?;
        let mut out = verification_json(
            &check,
            result.resources_checked,
            &result.unsigned_ignored,
            &result.manifest.value().manifest,
        );
        if let Some(path) = &options.claims {
            out["claims"] = verify_claims(&result, path, verifier.as_ref(), &options)?;
        }
        Ok(out.to_string())
    })
}

/// Verifies the claims in `path` about the verified model: trusted are the
/// model's signer and the claim keys and CAs of `options`. Fails when any
/// claim is not valid, naming each.
fn verify_claims(
    model: &model_signing::verify::VerifiedModel,
    path: &Path,
    model_verifier: &dyn SignatureVerifier,
    options: &VerifyOptions,
) -> Result<Value, Failure> {
    use model_signing::claims;
    let lines = claims::read_claims(path).map_err(|e| failure(e.kind(), "", &e))?;
    let mut extra: Vec<Box<dyn SignatureVerifier>> = Vec::new();
    for key in &options.claim_keys {
        extra.push(Box::new(KeyVerifier::new(public_key(key)?)));
    }
    let mut anchors = Vec::new();
    for file in &options.claim_certificate_chains {
        anchors.extend(certificates(file)?);
    }
    if !anchors.is_empty() {
        extra.push(Box::new(CertificateVerifier::new(anchors)));
    }
    let mut trusted: Vec<&dyn SignatureVerifier> = vec![model_verifier];
    trusted.extend(extra.iter().map(|v| v.as_ref()));
    let reports = claims::verify_claims(model, &lines, &trusted);
    let invalid: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.verdict
                .reason()
                .map(|why| format!("line {}: {}: {why}", r.line, r.verdict.as_str()))
        })
        .collect();
    if !invalid.is_empty() {
        return Err(Failure::new(
            "rejected",
            format!(
                "{} of {} claims in {} are not valid (the model itself verified): {}",
                invalid.len(),
                reports.len(),
                path.display(),
                invalid.join("; ")
            ),
        ));
    }
    Ok(Value::Array(
        reports
            .iter()
            .map(|r| {
                json!({
                    "line": r.line,
                    "verdict": r.verdict.as_str(),
                    "signer": r.signer.as_ref().map(Signer::to_json),
                    "predicate_type": r.predicate_type,
                    "predicate": r.predicate,
                })
            })
            .collect(),
    ))
}

/// What `verify` returns to the Python package (`_api.Verification`): the
/// signature facts, what was compared, and the manifest.
fn verification_json(
    check: &model_signing::verify::SignatureCheck,
    resources: usize,
    unsigned_ignored: &[String],
    manifest: &Manifest,
) -> Value {
    json!({
        "signer": check.signer.to_json(),
        "signed_at": check.signed_at,
        "warnings": check.warnings,
        "resources": resources,
        "unsigned_ignored": unsigned_ignored,
        "manifest": manifest_out(manifest),
    })
}

/// Runs the `model-signing` command line in this process with `args`
/// (the program name first) on the process's standard streams; returns its
/// exit code.
#[pyfunction]
fn cli(py: Python<'_>, args: Vec<String>) -> PyResult<u8> {
    run(py, None, |_| {
        Ok(model_signing_cli::run(
            args,
            model_signing_cli::Io::process(),
        ))
    })
}

/// A buffer the command line writes into, read back after it ran.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// What the signature at `signature` says, unverified: the JSON of
/// `model-signing inspect --json` (docs/json.md).
#[pyfunction]
fn inspect(py: Python<'_>, signature: PathBuf) -> PyResult<String> {
    run(py, None, |_| {
        cli_json(
            vec![
                "inspect".into(),
                "--json".into(),
                signature.into_os_string(),
            ],
            "malformed",
        )
    })
}

/// `model-signing attest METHOD ... --json` with `args` (from the method
/// on; `--json` is added): the JSON it prints (docs/json.md).
#[pyfunction]
fn attest(py: Python<'_>, args: Vec<std::ffi::OsString>) -> PyResult<String> {
    run(py, None, |_| {
        let mut all: Vec<std::ffi::OsString> = vec!["attest".into()];
        all.extend(args);
        all.push("--json".into());
        // Exit 1: the model does not match its signature.
        cli_json(all, "rejected")
    })
}

/// `model-signing verify --policy ... --json` with `args` (after
/// `verify`; `--json` is added): its exit code, the JSON it printed and
/// its stderr. A denial (exit 1) is a decision, not an error: the caller
/// reads it from the JSON.
#[pyfunction]
fn verify_policy(py: Python<'_>, args: Vec<std::ffi::OsString>) -> PyResult<(u8, String, String)> {
    run(py, None, |_| {
        let mut all: Vec<std::ffi::OsString> = vec!["verify".into()];
        all.extend(args);
        all.push("--json".into());
        Ok(cli_capture(all))
    })
}

/// Runs the command line in this process with `args` (after the program
/// name): its exit code, stdout and stderr.
fn cli_capture(args: Vec<std::ffi::OsString>) -> (u8, String, String) {
    let (out, err) = (Captured::default(), Captured::default());
    let io = model_signing_cli::Io::streams(Box::new(out.clone()), Box::new(err.clone()));
    let mut argv: Vec<std::ffi::OsString> = vec!["model-signing".into()];
    argv.extend(args);
    let code = model_signing_cli::run(argv, io);
    (code, out.text(), err.text())
}

/// Runs the command line in this process with `args` (after the program
/// name), its output captured: the JSON it printed, or a failure with the
/// message of its error object (else its stderr) and the kind of its exit
/// code (`exit_1` for 1, whose meaning depends on the command).
fn cli_json(args: Vec<std::ffi::OsString>, exit_1: &'static str) -> Result<String, Failure> {
    {
        let (code, text, stderr) = cli_capture(args);
        if code == 0 {
            return Ok(text);
        }
        // The error object the command prints, else its stderr.
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = doc["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| stderr.trim().to_owned());
        let kind = match code {
            2 => "usage",
            1 => exit_1,
            _ => "environment",
        };
        Err(Failure::new(kind, message))
    }
}

// ------------------------------------------------------ verify while loading

/// A verified signature and the model it is for, whose files are opened
/// with [`VerifiedModel::open`] to be read while they are verified.
#[pyclass(module = "model_signing_rs._native", frozen)]
struct VerifiedModel {
    verified: model_signing::verify::Verified<model_signing::statement::SignedManifest>,
    model: PathBuf,
    options: ModelCheckOptions,
    info: String,
}

/// Verifies the signature at `signature` with `verifier` (a
/// [`VerifierSpec`]) for the model directory `model`, without hashing it.
#[pyfunction]
fn open_verified(
    py: Python<'_>,
    model: PathBuf,
    signature: PathBuf,
    verifier: &str,
) -> PyResult<VerifiedModel> {
    run(py, None, |_| {
        let spec: VerifierSpec = parse(verifier, "verification configuration")?;
        let model = resolve_model(&model)?;
        if !model.is_dir() {
            return Err(Failure::usage(format!(
                "{} is not a model directory: verified reading opens files inside one",
                model.display()
            )));
        }
        let verifier = self::verifier(spec)?;
        let bundle = model_signing::bundle::Bundle::read(&signature).map_err(|e| {
            failure(
                e.kind(),
                &format!("cannot read signature {}", signature.display()),
                &e,
            )
        })?;
        let verified = verify_bundle(&bundle, verifier.as_ref())?;
        let check = verified.check();
        let value = verified.value();
        let mut files: Vec<&str> = value.keys.iter().map(|k| k.path()).collect();
        files.dedup();
        let info = json!({
            "signer": check.signer.to_json(),
            "signed_at": check.signed_at,
            "warnings": check.warnings,
            "digest": value.root_digest,
            "files": files,
        })
        .to_string();
        let options = ModelCheckOptions {
            signature_path: Some(signature.clone()),
            ..ModelCheckOptions::default()
        };
        Ok(VerifiedModel {
            verified,
            model,
            options,
            info,
        })
    })
}

#[pymethods]
impl VerifiedModel {
    /// Who signed and what: JSON `{"signer", "signed_at", "warnings",
    /// "digest", "files"}`.
    fn info(&self) -> &str {
        &self.info
    }

    /// Opens the file `name` (as the signature lists it) for verified
    /// reading.
    fn open(&self, py: Python<'_>, name: &str) -> PyResult<VerifiedReader> {
        let reader = py
            .allow_threads(|| {
                self.verified
                    .open_file(&self.model, name, &self.options)
                    .map_err(Failure::from)
            })
            .map_err(native_error)?;
        Ok(VerifiedReader {
            reader: std::sync::Mutex::new(Some(reader)),
        })
    }
}

/// A file being read while it is verified (see
/// `model_signing::reader::VerifyingReader`).
#[pyclass(module = "model_signing_rs._native", frozen)]
struct VerifiedReader {
    reader: std::sync::Mutex<Option<model_signing::reader::VerifyingReader>>,
}

fn read_failure(e: &model_signing::reader::ReadError) -> Failure {
    Failure::new(kind_name(e.kind()), e.to_string())
}

/// A failed read of a verified file: the reader's own error (a mismatch),
/// or the system's.
fn io_failure(name: &str, e: &std::io::Error) -> Failure {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<model_signing::reader::ReadError>())
    {
        Some(read) => read_failure(read),
        None => Failure::new("environment", format!("cannot read {name}: {e}")),
    }
}

#[pymethods]
impl VerifiedReader {
    /// Reads up to `size` bytes (fewer at the end of the file; none after
    /// it). Fails once the bytes read differ from the signed ones.
    fn read<'py>(&self, py: Python<'py>, size: usize) -> PyResult<Bound<'py, PyBytes>> {
        let size = size.min(16 << 20);
        let data = py
            .allow_threads(|| {
                let mut guard = self.reader.lock().unwrap_or_else(|e| e.into_inner());
                let Some(reader) = guard.as_mut() else {
                    return Err(Failure::usage("the file is closed"));
                };
                let mut buf = vec![0u8; size];
                match std::io::Read::read(reader, &mut buf) {
                    Ok(n) => {
                        buf.truncate(n);
                        Ok(buf)
                    }
                    Err(e) => Err(io_failure(reader.name(), &e)),
                }
            })
            .map_err(native_error)?;
        Ok(PyBytes::new(py, &data))
    }

    /// Reads the rest of the file into one bytes object (no copy besides
    /// the read itself). Fails once the bytes read differ from the signed
    /// ones.
    fn read_rest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let remaining = {
            let guard = self.reader.lock().unwrap_or_else(|e| e.into_inner());
            match guard.as_ref() {
                Some(r) => usize::try_from(r.remaining()).map_err(|_| {
                    native_error(Failure::usage(
                        "the file is larger than this machine can hold",
                    ))
                })?,
                None => return Err(native_error(Failure::usage("the file is closed"))),
            }
        };
        PyBytes::new_with(py, remaining, |buf| {
            py.allow_threads(|| {
                let mut guard = self.reader.lock().unwrap_or_else(|e| e.into_inner());
                let Some(reader) = guard.as_mut() else {
                    return Err(Failure::usage("the file is closed"));
                };
                let mut done = 0;
                while done < buf.len() {
                    match std::io::Read::read(reader, &mut buf[done..]) {
                        Ok(0) => {
                            return Err(Failure::new(
                                "rejected",
                                format!("{} ended before its size", reader.name()),
                            ))
                        }
                        Ok(n) => done += n,
                        Err(e) => return Err(io_failure(reader.name(), &e)),
                    }
                }
                Ok(())
            })
            .map_err(native_error)
        })
    }

    /// `(bytes read, size)`.
    fn position(&self) -> (u64, u64) {
        let guard = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map_or((0, 0), |r| (r.position(), r.size()))
    }

    /// Ends the reading: fails when the file did not match, or was not read
    /// to the end (unless `allow_unread_rest`). A second call does nothing.
    fn finish(&self, py: Python<'_>, allow_unread_rest: bool) -> PyResult<()> {
        py.allow_threads(|| {
            let taken = self.reader.lock().unwrap_or_else(|e| e.into_inner()).take();
            match taken {
                None => Ok(()),
                Some(mut reader) => {
                    if allow_unread_rest {
                        reader.allow_unread_rest();
                    }
                    reader.finish().map_err(|e| read_failure(&e))
                }
            }
        })
        .map_err(native_error)
    }
}

/// The version of the native library.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_function(wrap_pyfunction!(hash, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_function(wrap_pyfunction!(attest, m)?)?;
    m.add_function(wrap_pyfunction!(verify_policy, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(open_verified, m)?)?;
    m.add_class::<VerifiedModel>()?;
    m.add_class::<VerifiedReader>()?;
    Ok(())
}

//! Registry credentials from the Docker configuration file, found and used
//! as Docker finds and uses them.
//!
//! The file is `REGISTRY_AUTH_FILE` when set (the containers tools' auth
//! file), else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`;
//! no file means anonymous access. For a registry `HOST[:PORT]`:
//! `credHelpers[HOST]` names a helper, else `credsStore` names one for
//! every registry; a helper `NAME` is the program `docker-credential-NAME`,
//! run with the argument `get` and the registry on its standard input, and
//! answers `{"Username": ..., "Secret": ...}`. Without a helper, the
//! `auths` entry for the registry (keys compared without scheme and path,
//! so `https://HOST/v1/` matches) gives `auth` (base64 `user:password`) or
//! `username` and `password`. An `identitytoken` (an OAuth refresh token)
//! is not supported and says so.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;

use crate::OciError;

/// Largest configuration file or helper answer read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// How long a credential helper may run.
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// None: anonymous access.
    Anonymous,
    /// A user name and password (or token used as one).
    Basic(String, String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic(u, _) => write!(f, "Basic({u:?}, <redacted>)"),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// The configuration file used, if any exists.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// `HOST[:PORT]` of an `auths` key: scheme and path dropped.
fn normalize_key(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// The credentials for `host` (`HOST[:PORT]`).
pub fn credentials_for(host: &str) -> Result<Credential, OciError> {
    match config_path() {
        Some(p) if p.exists() => credentials_from(&p, host),
        _ => Ok(Credential::Anonymous),
    }
}

/// The credentials for `host` from the configuration file at `path`.
pub fn credentials_from(path: &Path, host: &str) -> Result<Credential, OciError> {
    let fail = |reason: String| OciError::Credentials {
        registry: host.to_owned(),
        reason,
    };
    let f = std::fs::File::open(path)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(fail(format!("{} is larger than 1 MiB", path.display())));
    }
    let config: DockerConfig = serde_json::from_slice(&bytes).map_err(|e| {
        fail(format!(
            "{} is not a Docker configuration file: {e}",
            path.display()
        ))
    })?;
    let helper = config
        .cred_helpers
        .iter()
        .find(|(k, _)| normalize_key(k) == host)
        .map(|(_, v)| v.clone())
        .or(config.creds_store.clone())
        .filter(|h| !h.is_empty());
    if let Some(helper) = helper {
        return run_helper(&helper, host);
    }
    let Some((key, entry)) = config.auths.iter().find(|(k, _)| normalize_key(k) == host) else {
        return Ok(Credential::Anonymous);
    };
    if entry
        .identitytoken
        .as_deref()
        .is_some_and(|t| !t.is_empty())
    {
        return Err(fail(format!(
            "the auths entry {key:?} in {} holds an identity token (OAuth refresh token), which is not supported; log in with a user name and password or token",
            path.display()
        )));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| {
                fail(format!(
                    "the auth of {key:?} in {} is not base64",
                    path.display()
                ))
            })?;
        let text = String::from_utf8(decoded).map_err(|_| {
            fail(format!(
                "the auth of {key:?} in {} is not UTF-8",
                path.display()
            ))
        })?;
        let (user, pass) = text.split_once(':').ok_or_else(|| {
            fail(format!(
                "the auth of {key:?} in {} is not user:password",
                path.display()
            ))
        })?;
        return Ok(Credential::Basic(user.to_owned(), pass.to_owned()));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Credential::Basic(u.clone(), p.clone())),
        _ => Ok(Credential::Anonymous),
    }
}

fn run_helper(helper: &str, host: &str) -> Result<Credential, OciError> {
    let fail = |reason: String| OciError::Credentials {
        registry: host.to_owned(),
        reason,
    };
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(fail(format!("invalid credential helper name {helper:?}")));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is reported by its status.
        let _ = stdin.write_all(host.as_bytes());
    }
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(4096).read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > HELPER_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "{program} did not answer within {} s",
                    HELPER_TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(fail(format!("cannot wait for {program}: {e}"))),
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let said = String::from_utf8_lossy(if out.is_empty() { &err } else { &out })
        .trim()
        .to_owned();
    if !status.success() {
        if said.contains("credentials not found") {
            return Ok(Credential::Anonymous);
        }
        return Err(fail(format!(
            "{program} failed ({status}): {}",
            model_signing::text::escape(&said)
        )));
    }
    if out.len() as u64 > MAX_CONFIG_BYTES {
        return Err(fail(format!("{program} answered more than 1 MiB")));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out).map_err(|e| {
        fail(format!(
            "{program} gave an answer that is not its JSON: {e}"
        ))
    })?;
    if answer.username == "<token>" {
        return Err(fail(format!(
            "{program} gave an identity token (OAuth refresh token), which is not supported"
        )));
    }
    Ok(Credential::Basic(answer.username, answer.secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, v: &serde_json::Value) -> PathBuf {
        let p = dir.join("config.json");
        std::fs::write(&p, serde_json::to_vec(v).expect("json")).expect("write");
        p
    }

    #[test]
    fn auths_entries() {
        let d = tempfile::tempdir().expect("tempdir");
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3cret:x");
        let p = write(
            d.path(),
            &serde_json::json!({"auths": {
                "https://reg.example.com/v1/": {"auth": b64},
                "other:5000": {"username": "bob", "password": "pw"},
                "tok.example.com": {"identitytoken": "abc"},
                "bad.example.com": {"auth": "%%%"},
                "colon.example.com": {"auth": base64::engine::general_purpose::STANDARD.encode("nocolon")},
            }}),
        );
        assert_eq!(
            credentials_from(&p, "reg.example.com").expect("creds"),
            Credential::Basic("alice".into(), "s3cret:x".into())
        );
        assert_eq!(
            credentials_from(&p, "other:5000").expect("creds"),
            Credential::Basic("bob".into(), "pw".into())
        );
        assert_eq!(
            credentials_from(&p, "unknown").expect("creds"),
            Credential::Anonymous
        );
        for (host, why) in [
            ("tok.example.com", "identity token"),
            ("bad.example.com", "not base64"),
            ("colon.example.com", "not user:password"),
        ] {
            let e = credentials_from(&p, host).expect_err(host).to_string();
            assert!(e.contains(why), "{host}: {e}");
        }
        let debug = format!("{:?}", Credential::Basic("u".into(), "secret".into()));
        assert!(!debug.contains("secret"));
    }

    #[test]
    fn malformed_files_and_helpers() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("config.json");
        std::fs::write(&p, b"{not json").expect("write");
        let e = credentials_from(&p, "h")
            .expect_err("malformed")
            .to_string();
        assert!(e.contains("not a Docker configuration file"), "{e}");
        let p = write(d.path(), &serde_json::json!({"credsStore": "../../bin/sh"}));
        let e = credentials_from(&p, "h")
            .expect_err("bad helper")
            .to_string();
        assert!(e.contains("invalid credential helper name"), "{e}");
        let p = write(
            d.path(),
            &serde_json::json!({"credHelpers": {"h": "surely-not-installed-xyz"}}),
        );
        let e = credentials_from(&p, "h")
            .expect_err("missing helper")
            .to_string();
        assert!(
            e.contains("docker-credential-surely-not-installed-xyz"),
            "{e}"
        );
        let e = credentials_from(&d.path().join("absent.json"), "h")
            .expect_err("absent")
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
    }
}

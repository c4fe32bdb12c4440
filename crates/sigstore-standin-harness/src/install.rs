//! Finding Node.js and installing the adapter's npm packages (`npm ci`, from
//! the committed lockfile) on first use, one process at a time.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::Error;

/// The oldest Node.js major version the adapter runs on.
const NODE_MIN_MAJOR: u32 = 20;
/// A lock older than this is taken to be left over by a killed process.
const STALE_LOCK: Duration = Duration::from_secs(600);
/// Written into `node_modules` after a successful install: a copy of the
/// lockfile it installed, so a changed lockfile triggers a new install.
const MARKER: &str = "node_modules/.standin-installed-lock.json";
const LOCK: &str = ".install.lock";

/// Checks that `node` runs and is recent enough; returns the program name.
pub(crate) fn check_node() -> Result<&'static str, Error> {
    let version = tool_version("node")?;
    let major = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(major) if major >= NODE_MIN_MAJOR => Ok("node"),
        _ => Err(Error::MissingTool {
            tool: "node",
            detail: format!("found version {}", version.trim()),
        }),
    }
}

fn tool_version(tool: &'static str) -> Result<String, Error> {
    let out = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::MissingTool {
            tool,
            detail: format!("cannot run `{tool} --version`: {e}"),
        })?;
    if !out.status.success() {
        return Err(Error::MissingTool {
            tool,
            detail: format!("`{tool} --version` exited {}", out.status),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn installed(dir: &Path) -> bool {
    match (
        fs::read(dir.join("package-lock.json")),
        fs::read(dir.join(MARKER)),
    ) {
        (Ok(lock), Ok(marker)) => lock == marker,
        _ => false,
    }
}

/// Runs `npm ci` in `dir` unless its `node_modules` already matches the
/// lockfile. Concurrent test processes wait for each other.
pub(crate) fn ensure_node_modules(dir: &Path) -> Result<(), Error> {
    if installed(dir) {
        return Ok(());
    }
    let _lock = InstallLock::acquire(&dir.join(LOCK))?;
    if installed(dir) {
        return Ok(());
    }
    tool_version("npm")?;
    let out = Command::new("npm")
        .args([
            "ci",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Io {
            what: format!("running npm ci in {}", dir.display()),
            source,
        })?;
    if !out.status.success() {
        return Err(Error::NpmInstall {
            dir: dir.to_path_buf(),
            status: out.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
    }
    let lock = dir.join("package-lock.json");
    fs::copy(&lock, dir.join(MARKER)).map_err(|source| Error::Io {
        what: format!("copying {} into node_modules", lock.display()),
        source,
    })?;
    Ok(())
}

/// An exclusive lock held by creating a file (holding this process's id);
/// removed on drop. A lock whose process is gone, or which is older than
/// [`STALE_LOCK`], is broken.
struct InstallLock(PathBuf);

impl InstallLock {
    fn acquire(path: &Path) -> Result<InstallLock, Error> {
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut file) => {
                    let _ = write!(file, "{}", std::process::id());
                    return Ok(InstallLock(path.to_path_buf()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if is_stale(path) {
                        let _ = fs::remove_file(path);
                    } else {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                Err(source) => {
                    return Err(Error::Io {
                        what: format!("creating the install lock {}", path.display()),
                        source,
                    })
                }
            }
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn is_stale(path: &Path) -> bool {
    let old = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > STALE_LOCK);
    let owner_gone = fs::read_to_string(path)
        .ok()
        .and_then(|pid| pid.trim().parse::<u32>().ok())
        .is_some_and(|pid| {
            Path::new("/proc").is_dir() && !Path::new(&format!("/proc/{pid}")).exists()
        });
    old || owner_gone
}

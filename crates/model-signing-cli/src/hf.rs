//! `hf://ORG/NAME[@REVISION]`: a model in the local Hugging Face cache,
//! resolved offline to its snapshot directory; `hf://datasets/ORG/NAME[@REVISION]`:
//! a dataset there (`datasets--ORG--NAME/`).
//!
//! The cache is the one the hub client uses: `HF_HUB_CACHE`, else
//! `HUGGINGFACE_HUB_CACHE` (its older name), else `HF_HOME/hub`, else
//! `XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`; the first
//! variable that is set decides, with no fallback to the next. A repository
//! `ORG/NAME` lives in `models--ORG--NAME/`; a branch or tag names a commit in
//! `refs/<REVISION>` (default `main`), a full 40-digit commit hash names
//! itself, and the model is `snapshots/<commit>/`.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};

use crate::env;
use crate::exit::UsageError;

/// The prefix of a Hugging Face cache reference.
pub const SCHEME: &str = "hf://";

/// The revision used when none is given.
const DEFAULT_REVISION: &str = "main";

/// A parsed `hf://ORG/NAME[@REVISION]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfRef {
    /// Whether it names a dataset (`hf://datasets/...`) rather than a model.
    pub dataset: bool,
    /// `ORG/NAME` (or `NAME` for the hub's unprefixed models).
    pub repo_id: String,
    /// The revision as given, if any.
    pub revision: Option<String>,
}

impl fmt::Display for HfRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.dataset { "datasets/" } else { "" };
        write!(f, "{SCHEME}{kind}{}", self.repo_id)?;
        if let Some(r) = &self.revision {
            write!(f, "@{r}")?;
        }
        Ok(())
    }
}

fn malformed(given: &str, why: &str) -> anyhow::Error {
    UsageError(format!(
        "invalid Hugging Face reference {given:?}: {why} (expected hf://ORG/NAME[@REVISION], or hf://datasets/ORG/NAME[@REVISION] for a dataset)"
    ))
    .into()
}

/// The hub's rule for the parts of a repository id: letters, digits, `-`,
/// `_` and `.`, at most 96 characters, neither `--` nor `..`, not starting
/// or ending with `-` or `.`.
fn valid_repo_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 96
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !s.contains("--")
        && !s.contains("..")
        && !s.starts_with(['-', '.'])
        && !s.ends_with(['-', '.'])
}

/// A branch or tag name, used as a path below `refs/`: no empty, `.` or `..`
/// component, no control character, no backslash.
fn valid_revision(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && !s.chars().any(|c| c.is_control() || c == '\\')
        && s.split('/').all(|c| !matches!(c, "" | "." | ".."))
}

fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses `model` as a Hugging Face reference: `Ok(None)` when it does not
/// start with `hf://`, an error (a usage error) when it does but is malformed.
pub fn parse(model: &Path) -> anyhow::Result<Option<HfRef>> {
    let Some(text) = model.to_str() else {
        return Ok(None);
    };
    let Some(rest) = text.strip_prefix(SCHEME) else {
        return Ok(None);
    };
    // `datasets` is a namespace of the hub, not an organization.
    let (dataset, rest) = match rest.strip_prefix("datasets/") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (repo_id, revision) = match rest.split_once('@') {
        Some((id, rev)) => (id, Some(rev)),
        None => (rest, None),
    };
    let parts: Vec<&str> = repo_id.split('/').collect();
    if parts.len() > 2 || !parts.iter().all(|p| valid_repo_part(p)) {
        return Err(malformed(
            text,
            "the repository must be ORG/NAME, each part letters, digits, '-', '_' or '.'",
        ));
    }
    if let Some(rev) = revision {
        if !valid_revision(rev) {
            return Err(malformed(
                text,
                "the revision must be a branch or tag name or a commit hash",
            ));
        }
    }
    Ok(Some(HfRef {
        dataset,
        repo_id: repo_id.to_owned(),
        revision: revision.map(str::to_owned),
    }))
}

/// Where the cache is, and which setting said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheDir {
    pub path: PathBuf,
    pub source: String,
}

/// The hub cache directory from the environment (`get` reads a variable),
/// whether or not it exists.
pub fn cache_dir(get: &dyn Fn(&str) -> Option<OsString>) -> anyhow::Result<CacheDir> {
    let set = |name: &str| get(name).filter(|v| !v.is_empty());
    let home = || set(env::HOME).map(PathBuf::from);
    let expand = |v: OsString| -> PathBuf {
        let p = PathBuf::from(v);
        match (p.strip_prefix("~"), home()) {
            (Ok(rest), Some(h)) => h.join(rest),
            _ => p,
        }
    };
    for name in [env::HF_HUB_CACHE, env::HUGGINGFACE_HUB_CACHE] {
        if let Some(v) = set(name) {
            return Ok(CacheDir {
                path: expand(v),
                source: name.to_owned(),
            });
        }
    }
    if let Some(v) = set(env::HF_HOME) {
        return Ok(CacheDir {
            path: expand(v).join("hub"),
            source: format!("{}/hub", env::HF_HOME),
        });
    }
    if let Some(v) = set(env::XDG_CACHE_HOME) {
        return Ok(CacheDir {
            path: expand(v).join("huggingface/hub"),
            source: format!("{}/huggingface/hub", env::XDG_CACHE_HOME),
        });
    }
    match home() {
        Some(h) => Ok(CacheDir {
            path: h.join(".cache/huggingface/hub"),
            source: "the default, ~/.cache/huggingface/hub".to_owned(),
        }),
        None => Err(anyhow!(
            "cannot find the Hugging Face cache: none of {}, {}, {}, {} or {} is set",
            env::HF_HUB_CACHE,
            env::HUGGINGFACE_HUB_CACHE,
            env::HF_HOME,
            env::XDG_CACHE_HOME,
            env::HOME
        )),
    }
}

/// Names of the entries below `dir` (files only, as `/`-joined paths),
/// sorted; at most `limit`.
fn list_refs(dir: &Path, limit: usize) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>, limit: usize, depth: usize) {
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        for item in read.flatten() {
            if out.len() >= limit || depth > 8 {
                return;
            }
            let Some(name) = item.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let full = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            match item.file_type() {
                Ok(t) if t.is_dir() => walk(&item.path(), &full, out, limit, depth + 1),
                Ok(t) if t.is_file() => out.push(full),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out, limit, 0);
    out.sort();
    out
}

/// Reads `refs/<revision>`: `Ok(None)` when there is no such file, the
/// commit hash it holds otherwise.
fn read_ref(path: &Path) -> anyhow::Result<Option<String>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Ok(None);
    }
    let mut text = String::new();
    file.take(1024)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let commit = text.trim();
    if !is_commit_hash(commit) {
        return Err(anyhow!(
            "{} does not hold a commit hash (40 hexadecimal digits)",
            path.display()
        ));
    }
    Ok(Some(commit.to_owned()))
}

/// Resolves `r` in the cache at `cache`: the snapshot directory.
pub fn resolve_in(r: &HfRef, cache: &CacheDir) -> anyhow::Result<PathBuf> {
    if !cache.path.is_dir() {
        return Err(anyhow!(
            "cannot resolve {r}: the Hugging Face cache was not found (tried {}, given by {}; set {} or {} to the cache in use)",
            cache.path.display(),
            cache.source,
            env::HF_HUB_CACHE,
            env::HF_HOME
        ));
    }
    let kind = if r.dataset { "datasets" } else { "models" };
    let folder = format!("{kind}--{}", r.repo_id.replace('/', "--"));
    let repo = cache.path.join(&folder);
    if !repo.is_dir() {
        return Err(anyhow!(
            "cannot resolve {r}: the repository {} is not in the Hugging Face cache (no {}; download it first, e.g. with `huggingface-cli download {}{}`)",
            r.repo_id,
            repo.display(),
            r.repo_id,
            if r.dataset { " --repo-type dataset" } else { "" }
        ));
    }
    let revision = r.revision.as_deref().unwrap_or(DEFAULT_REVISION);
    let ref_path = repo.join("refs").join(revision);
    let commit = match read_ref(&ref_path)
        .with_context(|| format!("cannot resolve {r}: invalid reference {revision}"))?
    {
        Some(commit) => commit,
        None if is_commit_hash(revision) => revision.to_owned(),
        None => {
            let refs = list_refs(&repo.join("refs"), 20);
            let known = if refs.is_empty() {
                "the repository has no refs".to_owned()
            } else {
                format!("known refs: {}", refs.join(", "))
            };
            return Err(anyhow!(
                "cannot resolve {r}: unknown revision {revision:?} (no {}, and it is not a full 40-digit commit hash; {known})",
                ref_path.display()
            ));
        }
    };
    let snapshot = repo.join("snapshots").join(&commit);
    if !snapshot.is_dir() {
        let via = if commit == revision {
            String::new()
        } else {
            format!(" ({} points to it)", ref_path.display())
        };
        return Err(anyhow!(
            "cannot resolve {r}: the snapshot of commit {commit} is missing from the cache: {} does not exist{via}",
            snapshot.display()
        ));
    }
    Ok(snapshot)
}

/// The model directory named by `model`: the snapshot directory of an
/// `hf://` reference, resolved in the cache the environment names, or
/// `model` itself.
pub fn resolve_model(model: &Path) -> anyhow::Result<PathBuf> {
    match parse(model)? {
        Some(r) => {
            let cache = cache_dir(&|name| std::env::var_os(name))?;
            resolve_in(&r, &cache)
        }
        None => Ok(model.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> anyhow::Result<Option<HfRef>> {
        parse(Path::new(s))
    }

    #[test]
    fn parses_references() {
        let r = p("hf://org/name").expect("valid").expect("a reference");
        assert_eq!(r.repo_id, "org/name");
        assert_eq!(r.revision, None);
        let r = p("hf://gpt2@v1.0").expect("valid").expect("a reference");
        assert_eq!(
            (r.repo_id.as_str(), r.revision.as_deref()),
            ("gpt2", Some("v1.0"))
        );
        let r = p("hf://o/n@refs/pr/1")
            .expect("valid")
            .expect("a reference");
        assert_eq!(r.revision.as_deref(), Some("refs/pr/1"));
        assert_eq!(r.to_string(), "hf://o/n@refs/pr/1");
        let r = p("hf://datasets/org/data@v2")
            .expect("valid")
            .expect("a reference");
        assert!(r.dataset);
        assert_eq!(
            (r.repo_id.as_str(), r.revision.as_deref()),
            ("org/data", Some("v2"))
        );
        assert_eq!(r.to_string(), "hf://datasets/org/data@v2");
        assert!(
            !p("hf://org/data")
                .expect("valid")
                .expect("a reference")
                .dataset
        );
        assert!(p("model").expect("not a reference").is_none());
        assert!(p("./hf:/x").expect("not a reference").is_none());
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "hf://",
            "hf://org/",
            "hf:///name",
            "hf://a/b/c",
            "hf://org/na--me",
            "hf://org/../x",
            "hf://org/.x",
            "hf://org/name@",
            "hf://org/name@../../etc",
            "hf://org/name@a//b",
            "hf://org/na me",
            "hf://datasets/",
            "hf://datasets/a/b/c",
            "hf://datasets/org/../x",
        ] {
            let err = p(bad).expect_err(bad);
            assert!(err.is::<UsageError>(), "{bad}: {err}");
        }
    }

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn cache_location_follows_the_hub_client() {
        let c = |vars| cache_dir(&env_of(vars)).expect("found").path;
        let all = &[
            ("HF_HUB_CACHE", "/a"),
            ("HUGGINGFACE_HUB_CACHE", "/b"),
            ("HF_HOME", "/c"),
            ("XDG_CACHE_HOME", "/d"),
            ("HOME", "/e"),
        ];
        assert_eq!(c(all), Path::new("/a"));
        assert_eq!(c(&all[1..]), Path::new("/b"));
        assert_eq!(c(&all[2..]), Path::new("/c/hub"));
        assert_eq!(c(&all[3..]), Path::new("/d/huggingface/hub"));
        assert_eq!(c(&all[4..]), Path::new("/e/.cache/huggingface/hub"));
        assert_eq!(
            c(&[("HF_HOME", "~/hf"), ("HOME", "/e")]),
            Path::new("/e/hf/hub")
        );
        assert_eq!(
            c(&[("HF_HUB_CACHE", ""), ("HOME", "/e")]),
            Path::new("/e/.cache/huggingface/hub")
        );
        assert!(cache_dir(&env_of(&[])).is_err());
    }
}

//! Resolution of command-line paths against the model.

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use anyhow::Context;
use model_signing::hashing::RelPath;

use crate::exit::UsageError;

/// Makes `path` absolute and resolves symbolic links in its existing leading
/// part; the rest (which may not exist) is normalized lexically. The final
/// component is kept as written so that an ignore path may name a link.
pub fn resolve(path: &Path) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let abs = if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    };
    let mut lexical = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let Some(last) = lexical.file_name().map(ToOwned::to_owned) else {
        return Ok(lexical);
    };
    let mut head = lexical.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut tail = vec![last];
    loop {
        match std::fs::canonicalize(&head) {
            Ok(mut canon) => {
                for t in tail.iter().rev() {
                    canon.push(t);
                }
                return Ok(canon);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match head.file_name() {
                Some(name) => {
                    tail.push(name.to_owned());
                    head.pop();
                }
                None => return Ok(lexical),
            },
            Err(e) => return Err(e).with_context(|| format!("cannot resolve {}", head.display())),
        }
    }
}

/// The model root as used to place command-line paths relative to it.
pub fn model_root(model: &Path) -> anyhow::Result<PathBuf> {
    std::fs::canonicalize(model).with_context(|| format!("cannot open model {}", model.display()))
}

/// `path` relative to `root`, if it lies strictly inside it.
pub fn inside(root: &Path, path: &Path) -> Option<RelPath> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<String>> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str().map(str::to_owned),
            _ => None,
        })
        .collect();
    RelPath::from_components(parts?).ok()
}

/// Resolves a command-line ignore path as the reference does (against the
/// current directory), requiring it to lie inside the model.
pub fn ignore_path(root: &Path, given: &Path) -> anyhow::Result<RelPath> {
    let resolved = resolve(given)?;
    inside(root, &resolved).ok_or_else(|| {
        UsageError(format!(
            "ignore path {} is not inside the model directory {} (ignore paths are resolved against the current directory)",
            given.display(),
            root.display()
        ))
        .into()
    })
}

/// The most bytes `--files-from` reads.
pub const MAX_FILES_FROM: u64 = 16 << 20;

/// The files a partial verification names (`--files`, `--files-from`), as
/// resource paths: relative paths name files in the model directory as the
/// signature lists them; an absolute path must lie inside `root` (the
/// resolved model directory). `None` when neither option is given.
pub fn partial_files(
    root: &Path,
    files: &[PathBuf],
    files_from: Option<&Path>,
) -> anyhow::Result<Option<Vec<RelPath>>> {
    let mut given: Vec<PathBuf> = files.to_vec();
    if let Some(list) = files_from {
        let mut text = String::new();
        let file = std::fs::File::open(list)
            .with_context(|| format!("cannot read --files-from {}", list.display()))?;
        std::io::Read::take(file, MAX_FILES_FROM + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read --files-from {}", list.display()))?;
        if text.len() as u64 > MAX_FILES_FROM {
            return Err(UsageError(format!(
                "--files-from {} is larger than {} MiB",
                list.display(),
                MAX_FILES_FROM >> 20
            ))
            .into());
        }
        given.extend(
            text.lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.trim().is_empty())
                .map(PathBuf::from),
        );
        if given.is_empty() {
            return Err(
                UsageError(format!("--files-from {} names no file", list.display())).into(),
            );
        }
    }
    if given.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(given.len());
    for path in &given {
        let rel = if path.is_absolute() {
            inside(root, &resolve(path)?)
        } else {
            path.to_str().and_then(|p| RelPath::parse(p).ok())
        };
        out.push(rel.ok_or_else(|| {
            UsageError(format!(
                "{} does not name a file inside the model directory {} (give paths as the signature lists them, relative to the model directory)",
                model_signing::text::escape(&path.display().to_string()),
                root.display()
            ))
        })?);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_and_outside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canon");
        std::fs::create_dir(root.join("sub")).expect("mkdir");
        let p = ignore_path(&root, &root.join("sub/../sub/x")).expect("inside");
        assert_eq!(p.to_string(), "sub/x");
        assert!(ignore_path(&root, &root).is_err());
        assert!(ignore_path(&root, &root.join("..")).is_err());
        assert!(ignore_path(&root, Path::new("/etc/passwd")).is_err());
        assert!(ignore_path(&root, &root.join("missing/deeper")).is_ok());
    }
}

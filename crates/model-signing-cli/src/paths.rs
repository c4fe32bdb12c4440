//! Resolution of command-line paths against the model.

use std::io;
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

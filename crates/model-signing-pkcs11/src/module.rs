//! Finding and loading PKCS#11 modules: the only native code this project
//! loads.
//!
//! A module is loaded from an absolute path only: the URI's `module-path`, or
//! one given by the application (`--module-path`). A `module-name` is looked
//! up by exact file name in the [standard module
//! directories](standard_module_directories), never by substring, so that
//! `module-name=opensc-pkcs11` cannot load `onepin-opensc-pkcs11.so`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};

use crate::error::{describe, Pkcs11Error};
use crate::uri::Pkcs11Uri;

/// Where PKCS#11 modules are installed on Linux distributions: Debian and
/// Ubuntu's multiarch directory for this machine's architecture
/// (`/usr/lib/x86_64-linux-gnu/pkcs11`), then `/usr/lib64/pkcs11` (Fedora,
/// RHEL, openSUSE) and `/usr/lib/pkcs11` (Arch Linux, Alpine, 32-bit Fedora),
/// searched in that order.
pub fn standard_module_directories() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(triple) = debian_multiarch() {
        dirs.push(PathBuf::from(format!("/usr/lib/{triple}/pkcs11")));
    }
    dirs.push(PathBuf::from("/usr/lib64/pkcs11"));
    dirs.push(PathBuf::from("/usr/lib/pkcs11"));
    dirs
}

fn debian_multiarch() -> Option<&'static str> {
    Some(match std::env::consts::ARCH {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "x86" => "i386-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "powerpc64" => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "riscv64" => "riscv64-linux-gnu",
        _ => return None,
    })
}

/// The file names `module-name=NAME` stands for: `NAME`, `NAME.so` and
/// `libNAME.so` (`.dylib` on macOS), compared exactly.
pub fn module_file_names(name: &str) -> Vec<String> {
    let suffix = std::env::consts::DLL_SUFFIX;
    let prefix = std::env::consts::DLL_PREFIX;
    let mut names = vec![name.to_owned()];
    if !name.ends_with(suffix) {
        names.push(format!("{name}{suffix}"));
        if !name.starts_with(prefix) {
            names.push(format!("{prefix}{name}{suffix}"));
        }
    }
    names
}

/// The module a URI and the application's options name.
///
/// `option_path` (an absolute file, e.g. `--module-path`) and the URI's
/// `module-path` must agree when both are given. A `module-path` that is a
/// directory is searched for `module-name`; otherwise `module-name` is
/// searched in `directories`.
pub fn locate_module(
    uri: &Pkcs11Uri,
    option_path: Option<&Path>,
    directories: &[PathBuf],
) -> Result<PathBuf, Pkcs11Error> {
    if let Some(p) = option_path {
        if !p.is_absolute() {
            return Err(Pkcs11Error::RelativeModulePath { path: p.to_owned() });
        }
    }
    let path = match (uri.module_path(), option_path) {
        (Some(u), Some(o)) if u != o => {
            return Err(Pkcs11Error::ModuleConflict {
                uri: u.to_owned(),
                option: o.to_owned(),
            })
        }
        (Some(p), _) | (None, Some(p)) => Some(p),
        (None, None) => None,
    };
    if let Some(path) = path {
        if path.is_dir() {
            let name = uri
                .module_name()
                .ok_or_else(|| Pkcs11Error::ModuleNameMissing {
                    path: path.to_owned(),
                })?;
            return find_by_name(name, &[path.to_owned()]);
        }
        if !path.is_file() {
            return Err(Pkcs11Error::ModuleNotFound {
                path: path.to_owned(),
            });
        }
        return Ok(path.to_owned());
    }
    match uri.module_name() {
        Some(name) => find_by_name(name, directories),
        None => Err(Pkcs11Error::NoModule),
    }
}

fn find_by_name(name: &str, directories: &[PathBuf]) -> Result<PathBuf, Pkcs11Error> {
    let candidates = module_file_names(name);
    for dir in directories {
        for file in &candidates {
            let path = dir.join(file);
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    Err(Pkcs11Error::ModuleNameNotFound {
        name: name.to_owned(),
        candidates,
        directories: directories.to_vec(),
    })
}

/// A loaded and initialized module, shared by every key opened from it in
/// this process; finalized when the last one is dropped (unless something
/// else in the process had initialized it).
pub(crate) struct Module {
    ctx: Pkcs11,
    finalize: bool,
}

impl Module {
    pub(crate) fn ctx(&self) -> &Pkcs11 {
        &self.ctx
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        if self.finalize {
            let _ = self.ctx.clone().finalize();
        }
    }
}

static LOADED: Mutex<Vec<(PathBuf, Weak<Module>)>> = Mutex::new(Vec::new());

/// Loads and initializes the module at `path`, or returns the one already
/// loaded from the same file.
pub(crate) fn load(path: &Path) -> Result<Arc<Module>, Pkcs11Error> {
    let key = path.canonicalize().map_err(|e| Pkcs11Error::ModuleLoad {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    loaded.retain(|(_, m)| m.strong_count() > 0);
    if let Some(module) = loaded
        .iter()
        .find(|(p, _)| *p == key)
        .and_then(|(_, m)| m.upgrade())
    {
        return Ok(module);
    }
    let ctx = Pkcs11::new(&key).map_err(|e| Pkcs11Error::ModuleLoad {
        path: path.to_owned(),
        detail: match &e {
            CkError::LibraryLoading(l) => l.to_string(),
            other => describe(other),
        },
    })?;
    let finalize = match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => true,
        Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => false,
        Err(e) => {
            return Err(Pkcs11Error::ModuleLoad {
                path: path.to_owned(),
                detail: format!("C_Initialize: {}", describe(&e)),
            })
        }
    };
    let module = Arc::new(Module { ctx, finalize });
    loaded.push((key, Arc::downgrade(&module)));
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_exact_file_names() {
        assert_eq!(
            module_file_names("softhsm2"),
            ["softhsm2", "softhsm2.so", "libsofthsm2.so"]
        );
        assert_eq!(module_file_names("libsofthsm2.so"), ["libsofthsm2.so"]);
        assert_eq!(
            module_file_names("libsofthsm2"),
            ["libsofthsm2", "libsofthsm2.so"]
        );
    }

    #[test]
    fn standard_directories_are_absolute() {
        let dirs = standard_module_directories();
        assert!(dirs.contains(&PathBuf::from("/usr/lib64/pkcs11")));
        assert!(dirs.contains(&PathBuf::from("/usr/lib/pkcs11")));
        assert!(dirs.iter().all(|d| d.is_absolute()));
    }
}

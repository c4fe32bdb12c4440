//! Where the third-party test data lies: `testdata/third_party/` at the
//! workspace root (its README names the source, version and licence of each
//! folder). The one lookup of it for every test of the workspace.

use std::path::{Path, PathBuf};

/// `testdata/third_party/`, canonical.
pub fn third_party() -> PathBuf {
    // Every crate of the workspace lies at `crates/<name>`.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/third_party");
    dir.canonicalize().unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the test data is part of the repository)",
            dir.display()
        )
    })
}

/// `model-transparency-golden/`: the signatures made by every release of the
/// Python reference, the tiny models they sign, and its test CA and key.
pub fn golden() -> PathBuf {
    third_party().join("model-transparency-golden")
}

/// `oms-spec-vectors/v1.0/`: the OMS specification's test vectors.
pub fn oms_vectors() -> PathBuf {
    third_party().join("oms-spec-vectors/v1.0")
}

/// `sigstore-trust/<instance>/`: the trust roots of a Sigstore instance
/// (`production` or `github`).
pub fn trust(instance: &str) -> PathBuf {
    third_party().join("sigstore-trust").join(instance)
}

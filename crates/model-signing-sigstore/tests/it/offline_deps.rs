//! Verifying Sigstore bundles needs neither an async runtime nor an HTTP
//! client: built without its default `sign` feature, this crate holds no
//! tokio, hyper, reqwest or other network client in its dependency tree.

use std::path::Path;
use std::process::Command;

/// The crates of a networked client stack; none may be a normal dependency
/// of a verifier.
const NETWORK_CRATES: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "reqwest",
    "h2",
    "mio",
    "sigstore-sign",
    "sigstore-oidc",
    "sigstore-fulcio",
];

/// The names of the crates `cargo tree` lists for this crate with `args`.
fn dependencies(args: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "tree",
            "--frozen",
            "-p",
            "model-signing-sigstore",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(args)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn verification_alone_compiles_no_network_client() {
    let verify_only = dependencies(&["--no-default-features"]);
    assert!(
        verify_only.iter().any(|n| n == "sigstore-verify"),
        "the verifier's tree lacks sigstore-verify: {verify_only:?}"
    );
    let found: Vec<&String> = verify_only
        .iter()
        .filter(|n| NETWORK_CRATES.contains(&n.as_str()))
        .collect();
    assert!(
        found.is_empty(),
        "model-signing-sigstore without `sign` depends on {found:?}"
    );

    // The check can fail: with signing, the same crates are there.
    let with_signing = dependencies(&[]);
    for needed in ["tokio", "reqwest", "sigstore-sign"] {
        assert!(
            with_signing.iter().any(|n| n == needed),
            "the signing build lacks {needed}: is the list of network crates out of date?"
        );
    }
}

//! `oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]` and `oci-layout://DIR[:TAG|@sha256:DIGEST]`.

use std::fmt;
use std::path::PathBuf;

use crate::OciError;

/// The prefix of a registry reference.
pub const REGISTRY_SCHEME: &str = "oci://";
/// The prefix of an OCI image layout reference.
pub const LAYOUT_SCHEME: &str = "oci-layout://";

/// The tag used when a reference names neither a tag nor a digest.
pub const DEFAULT_TAG: &str = "latest";

/// Which manifest of a repository: by tag or by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A tag, which a registry may move to another manifest.
    Tag(String),
    /// A manifest digest, `sha256:<64 hex>`.
    Digest(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tag(t) => write!(f, ":{t}"),
            Target::Digest(d) => write!(f, "@{d}"),
        }
    }
}

/// Where an OCI model lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A registry: `host[:port]` and repository.
    Registry {
        /// `HOST[:PORT]`.
        host: String,
        /// The repository, `/`-separated lowercase components.
        repository: String,
    },
    /// An OCI image layout directory.
    Layout {
        /// The directory holding `oci-layout` and `index.json`.
        dir: PathBuf,
    },
}

/// A parsed OCI model reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// The registry repository or layout directory.
    pub location: Location,
    /// The manifest.
    pub target: Target,
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::Registry { host, repository } => {
                write!(f, "{REGISTRY_SCHEME}{host}/{repository}{}", self.target)
            }
            Location::Layout { dir } => {
                write!(f, "{LAYOUT_SCHEME}{}{}", dir.display(), self.target)
            }
        }
    }
}

impl OciRef {
    /// The same repository at another manifest.
    pub fn with_target(&self, target: Target) -> OciRef {
        OciRef {
            location: self.location.clone(),
            target,
        }
    }

    /// The informative model name of a signature: the last repository
    /// component (a layout: its directory name).
    pub fn model_name(&self) -> String {
        match &self.location {
            Location::Registry { repository, .. } => repository
                .rsplit('/')
                .next()
                .unwrap_or(repository)
                .to_owned(),
            Location::Layout { dir } => dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .or_else(|| {
                    std::fs::canonicalize(dir)
                        .ok()
                        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                })
                .unwrap_or_default(),
        }
    }

    /// Whether the registry is on this machine (`localhost`, `127.0.0.0/8`,
    /// `[::1]`): the only registries reached over plain HTTP without
    /// `insecure`.
    pub fn is_loopback(&self) -> bool {
        match &self.location {
            Location::Registry { host, .. } => is_loopback_host(host),
            Location::Layout { .. } => true,
        }
    }
}

/// Whether `HOST[:PORT]` names this machine.
pub fn is_loopback_host(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `s` starts with one of the OCI schemes.
pub fn is_oci_reference(s: &str) -> bool {
    s.starts_with(REGISTRY_SCHEME) || s.starts_with(LAYOUT_SCHEME)
}

fn bad(given: &str, why: impl fmt::Display) -> OciError {
    OciError::Reference {
        reference: given.to_owned(),
        reason: why.to_string(),
    }
}

/// Parses an OCI reference; `Ok(None)` when `s` has neither OCI scheme.
pub fn parse(s: &str) -> Result<Option<OciRef>, OciError> {
    if let Some(rest) = s.strip_prefix(REGISTRY_SCHEME) {
        return parse_registry(s, rest).map(Some);
    }
    if let Some(rest) = s.strip_prefix(LAYOUT_SCHEME) {
        return parse_layout(s, rest).map(Some);
    }
    Ok(None)
}

fn parse_registry(given: &str, rest: &str) -> Result<OciRef, OciError> {
    const FORM: &str = "expected oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]";
    let (host, path) = rest
        .split_once('/')
        .ok_or_else(|| bad(given, format!("no repository ({FORM})")))?;
    if !valid_host(host) {
        return Err(bad(
            given,
            format!("invalid registry host {host:?} ({FORM})"),
        ));
    }
    let (repository, target) = split_target(given, path)?;
    if !valid_repository(repository) {
        return Err(bad(
            given,
            format!("invalid repository {repository:?}: lowercase letters, digits and separators (. _ __ -) in /-separated components ({FORM})"),
        ));
    }
    Ok(OciRef {
        location: Location::Registry {
            host: host.to_owned(),
            repository: repository.to_owned(),
        },
        target,
    })
}

fn parse_layout(given: &str, rest: &str) -> Result<OciRef, OciError> {
    if rest.is_empty() {
        return Err(bad(
            given,
            "no directory (expected oci-layout://DIR[:TAG|@sha256:DIGEST])",
        ));
    }
    // A digest or tag follows the last `@` or `:` after the last `/`.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let name = &rest[last_slash..];
    let (dir, target) = if let Some(at) = name.rfind('@') {
        let digest = &name[at + 1..];
        check_digest(given, digest)?;
        (&rest[..last_slash + at], Target::Digest(digest.to_owned()))
    } else if let Some(colon) = name.rfind(':') {
        let tag = &name[colon + 1..];
        if !valid_tag(tag) {
            return Err(bad(given, format!("invalid tag {tag:?}")));
        }
        (&rest[..last_slash + colon], Target::Tag(tag.to_owned()))
    } else {
        (rest, Target::Tag(DEFAULT_TAG.to_owned()))
    };
    if dir.is_empty() {
        return Err(bad(given, "no directory"));
    }
    Ok(OciRef {
        location: Location::Layout {
            dir: PathBuf::from(dir),
        },
        target,
    })
}

fn split_target<'a>(given: &str, path: &'a str) -> Result<(&'a str, Target), OciError> {
    if let Some((repo, digest)) = path.split_once('@') {
        check_digest(given, digest)?;
        return Ok((repo, Target::Digest(digest.to_owned())));
    }
    let last_slash = path.rfind('/').map_or(0, |i| i + 1);
    if let Some(colon) = path[last_slash..].rfind(':') {
        let tag = &path[last_slash + colon + 1..];
        if !valid_tag(tag) {
            return Err(bad(
                given,
                format!("invalid tag {tag:?}: up to 128 letters, digits, _ . -, not starting with . or -"),
            ));
        }
        return Ok((&path[..last_slash + colon], Target::Tag(tag.to_owned())));
    }
    Ok((path, Target::Tag(DEFAULT_TAG.to_owned())))
}

fn check_digest(given: &str, digest: &str) -> Result<(), OciError> {
    if is_sha256_digest(digest) {
        Ok(())
    } else {
        Err(bad(
            given,
            format!("invalid digest {digest:?}: expected sha256: and 64 lowercase hex digits"),
        ))
    }
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The distribution specification's tag grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    tag.len() <= 128
        && (first.is_ascii_alphanumeric() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The distribution specification's repository grammar: `/`-separated
/// components of `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, at most 255 bytes.
pub fn valid_repository(repo: &str) -> bool {
    !repo.is_empty() && repo.len() <= 255 && repo.split('/').all(valid_component)
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !alnum_lower(b[0]) || !alnum_lower(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__` or `-`+.
        let start = i;
        while i < b.len() && !alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn alnum_lower(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_lowercase()
}

/// `HOST[:PORT]`: a DNS name, an IPv4 address or a bracketed IPv6
/// address, with an optional port.
fn valid_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 255 {
        return false;
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        if p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535) {
            return false;
        }
    }
    if name.is_empty() {
        return host.starts_with('[');
    }
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> OciRef {
        match parse(s) {
            Ok(Some(r)) => r,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn err(s: &str) -> String {
        match parse(s) {
            Err(e) => e.to_string(),
            other => panic!("{s}: accepted as {other:?}"),
        }
    }

    #[test]
    fn registry_references() {
        let r = ok("oci://127.0.0.1:5000/models/llama:v1");
        assert_eq!(
            r.location,
            Location::Registry {
                host: "127.0.0.1:5000".into(),
                repository: "models/llama".into()
            }
        );
        assert_eq!(r.target, Target::Tag("v1".into()));
        assert_eq!(r.model_name(), "llama");
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/models/llama:v1");

        let d = format!("sha256:{}", "a".repeat(64));
        let r = ok(&format!("oci://registry.example.com/m@{d}"));
        assert_eq!(r.target, Target::Digest(d));
        assert!(!r.is_loopback());
        assert_eq!(ok("oci://localhost/a").target, Target::Tag("latest".into()));
        assert!(ok("oci://[::1]:5000/a").is_loopback());
        assert_eq!(ok("oci://h/a__b/c-d.e:x").target, Target::Tag("x".into()));
    }

    #[test]
    fn layout_references() {
        let r = ok("oci-layout://./out/layout:v2");
        assert_eq!(
            r.location,
            Location::Layout {
                dir: "./out/layout".into()
            }
        );
        assert_eq!(r.target, Target::Tag("v2".into()));
        assert_eq!(r.model_name(), "layout");
        let r = ok("oci-layout:///tmp/x");
        assert_eq!(r.target, Target::Tag("latest".into()));
        let d = format!("sha256:{}", "0".repeat(64));
        assert_eq!(
            ok(&format!("oci-layout://dir@{d}")).target,
            Target::Digest(d)
        );
        assert_eq!(parse("./model").ok(), Some(None));
    }

    #[test]
    fn malformed_references_are_refused() {
        for (s, why) in [
            ("oci://", "no repository"),
            ("oci://host", "no repository"),
            ("oci:///repo", "invalid registry host"),
            ("oci://ho st/repo", "invalid registry host"),
            ("oci://host:0/repo", "invalid registry host"),
            ("oci://host:99999/repo", "invalid registry host"),
            ("oci://host:/repo", "invalid registry host"),
            ("oci://-host/repo", "invalid registry host"),
            ("oci://[zz]/repo", "invalid registry host"),
            ("oci://host/Repo", "invalid repository"),
            ("oci://host/a//b", "invalid repository"),
            ("oci://host/a/../b", "invalid repository"),
            ("oci://host/a.", "invalid repository"),
            ("oci://host/a___b", "invalid repository"),
            ("oci://host/repo:", "invalid tag"),
            ("oci://host/repo:.x", "invalid tag"),
            ("oci://host/repo:a b", "invalid tag"),
            ("oci://host/repo@sha256:abc", "invalid digest"),
            ("oci://host/repo@sha512:00", "invalid digest"),
            ("oci://host/repo@SHA256:00", "invalid digest"),
            ("oci-layout://", "no directory"),
            ("oci-layout://:tag", "no directory"),
            ("oci-layout://dir:bad tag", "invalid tag"),
            ("oci-layout://dir@sha256:zz", "invalid digest"),
        ] {
            let e = err(s);
            assert!(e.contains(why), "{s}: {e}");
            assert!(e.contains(&format!("{s:?}")), "{s}: {e}");
        }
        let long_tag = format!("oci://h/r:{}", "a".repeat(129));
        assert!(err(&long_tag).contains("invalid tag"));
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "LOCALHOST:80",
            "127.0.0.1",
            "127.9.9.9:5000",
            "[::1]:1",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "0.0.0.0:5000",
            "[::]:5000",
            "example.com",
            "localhost.example.com",
            "[::2]",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}

//! Verification policies: reading, checking and compiling a policy file.
//!
//! A policy is YAML or JSON (a `.json` file is read as JSON, anything else
//! as YAML) of one schema, `docs/policy-v1.schema.json`. Every mistake is
//! a [`PolicyError`] that names the file, the line where it can be found,
//! and the reason; nothing in a policy that fails to load is used.

use std::fmt;
use std::path::{Path, PathBuf};

use model_signing::hashing::HashAlgorithm;
use model_signing::keys::PublicKey;
use model_signing::x509::Certificate;
use model_signing_sigstore::{IdentityPolicy, Match, SigstoreVerifier, TrustRoot};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::expr::Condition;

/// The largest policy file read: 1 MiB.
pub const MAX_POLICY_BYTES: u64 = 1 << 20;
/// The most signers a policy may name.
pub const MAX_SIGNERS: usize = 64;
/// The most claim rules a policy may hold.
pub const MAX_CLAIM_RULES: usize = 256;
/// The longest CEL condition, in bytes.
pub const MAX_CONDITION_BYTES: usize = 4096;
/// The cost limit of each condition when the policy sets none
/// (`limits.cel_cost`); see [`crate::expr`] for how cost is counted.
pub const DEFAULT_CEL_COST: u64 = 1_000_000;
/// The highest cost limit a policy may set.
pub const MAX_CEL_COST: u64 = 100_000_000;
/// The largest key or certificate file a policy may name: 1 MiB.
pub const MAX_MATERIAL_BYTES: u64 = 1 << 20;

/// What is wrong with a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The policy file.
    pub path: PathBuf,
    /// The line (1-based) the problem is on, where it can be told.
    pub line: Option<usize>,
    /// Why the policy cannot be used.
    pub reason: String,
    /// Whether a file could not be read (the environment), rather than
    /// the policy being wrong.
    pub unreadable: bool,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy {}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    /// How the command line classifies it: a bad policy is a usage error,
    /// a file that cannot be read an environment error.
    pub fn kind(&self) -> model_signing::ErrorKind {
        if self.unreadable {
            model_signing::ErrorKind::Environment
        } else {
            model_signing::ErrorKind::Usage
        }
    }
}

// ---------------------------------------------------------------------------
// The file as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: u32,
    #[serde(default)]
    sigstore: Option<RawSigstore>,
    signers: UniqueMap<RawSigner>,
    model: RawModel,
    #[serde(default)]
    claims: Vec<RawClaimRule>,
    #[serde(default)]
    limits: Option<RawLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSigstore {
    #[serde(default)]
    instance: Option<Instance>,
    #[serde(default)]
    trusted_root: Option<PathBuf>,
    #[serde(default)]
    trust_config: Option<PathBuf>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Instance {
    Production,
    Staging,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct RawSigner {
    #[serde(default)]
    sigstore: Option<RawSigstoreSigner>,
    #[serde(default)]
    key: Option<PathBuf>,
    #[serde(default)]
    certificate_chain: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSigstoreSigner {
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    identity_pattern: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    issuer_pattern: Option<String>,
    #[serde(default)]
    github_repository: Option<String>,
    #[serde(default)]
    github_ref: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    signers: Vec<String>,
    #[serde(default)]
    hashing: Option<RawHashing>,
    #[serde(default)]
    unsigned_files: Option<UnsignedFiles>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHashing {
    #[serde(default)]
    algorithms: Option<Vec<AlgorithmName>>,
    #[serde(default)]
    methods: Option<Vec<MethodName>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum AlgorithmName {
    Sha256,
    Blake2b,
    Blake3,
}

/// A hashing method a policy accepts.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    /// One digest per file.
    Files,
    /// One digest per shard of each file.
    Shards,
}

impl MethodName {
    /// The name as signatures and `--json` output write it.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodName::Files => "files",
            MethodName::Shards => "shards",
        }
    }
}

/// Whether files the signature does not list may be present.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnsignedFiles {
    /// A file the signature does not list denies (the default).
    #[default]
    Deny,
    /// Files the signature does not list are left out, and reported.
    Allow,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaimRule {
    id: String,
    predicate_type: String,
    signers: Vec<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    require: Option<Quantifier>,
}

/// Which of the trusted claims of a rule's type must satisfy its condition.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[serde(rename_all = "snake_case")]
pub enum Quantifier {
    /// Every claim of the type by the rule's signers (and there is at least
    /// one): the default, so that an older or contrary claim is not
    /// outvoted by a newer one.
    #[default]
    All,
    /// At least one of them.
    Any,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    #[serde(default)]
    cel_cost: Option<u64>,
}

/// A map whose keys must be unique (JSON parsers keep the last of
/// duplicates silently; a policy must not mean something else than it
/// reads).
struct UniqueMap<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of signer names to signers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, V)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!(
                            "the signer name `{key}` is defined twice"
                        )));
                    }
                    if out.len() >= MAX_SIGNERS {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_SIGNERS} signers"
                        )));
                    }
                    let value = map.next_value()?;
                    out.push((key, value));
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(V2(std::marker::PhantomData))
    }
}

// ---------------------------------------------------------------------------
// The compiled policy.

/// A signer a policy trusts.
#[derive(Debug, Clone)]
pub enum SignerSpec {
    /// A Sigstore keyless identity.
    Sigstore {
        /// The certificate identity (email, URI).
        identity: Match,
        /// The OIDC issuer.
        issuer: Match,
        /// The GitHub repository (`owner/name`) a GitHub Actions certificate must name.
        github_repository: Option<String>,
        /// The git ref a GitHub Actions certificate must name.
        github_ref: Option<String>,
    },
    /// A public key.
    Key {
        /// The key.
        key: PublicKey,
        /// Its file, as the policy names it.
        file: PathBuf,
    },
    /// Certificates chained to one of these anchors.
    CertificateChain {
        /// The trust anchors (and intermediates).
        certificates: Vec<Certificate>,
        /// The files, as the policy names them.
        files: Vec<PathBuf>,
    },
}

/// A named signer of a policy.
#[derive(Debug, Clone)]
pub struct NamedSigner {
    /// Its name in the policy.
    pub name: String,
    /// Who it is.
    pub spec: SignerSpec,
}

/// A claim a policy requires.
#[derive(Debug)]
pub struct ClaimRule {
    /// The rule's id, unique in the policy.
    pub id: String,
    /// The predicate type of the claims it is about.
    pub predicate_type: String,
    /// Indices into [`Policy::signers`] of the signers trusted for it.
    pub signers: Vec<usize>,
    /// The condition on each claim's content.
    pub condition: Option<Condition>,
    /// Which claims must satisfy it.
    pub require: Quantifier,
}

/// Where Sigstore trust material comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigstoreTrust {
    /// The production instance (embedded trusted root).
    Production,
    /// The staging instance.
    Staging,
    /// A trusted root JSON file.
    TrustedRoot(PathBuf),
    /// A signing config / trust config file.
    TrustConfig(PathBuf),
}

/// A loaded and checked policy.
#[derive(Debug)]
pub struct Policy {
    /// The policy file.
    pub path: PathBuf,
    /// Every signer it names, in the order written.
    pub signers: Vec<NamedSigner>,
    /// Indices into `signers` trusted for the model's signature.
    pub model_signers: Vec<usize>,
    /// The hash algorithms accepted (all, when `None`).
    pub algorithms: Option<Vec<HashAlgorithm>>,
    /// The hashing methods accepted (all, when `None`).
    pub methods: Option<Vec<MethodName>>,
    /// Whether files the signature does not list are tolerated.
    pub unsigned_files: UnsignedFiles,
    /// The claims required.
    pub claims: Vec<ClaimRule>,
    /// The cost limit of each condition.
    pub cel_cost: u64,
    /// Sigstore trust material for `sigstore` signers.
    pub sigstore_trust: SigstoreTrust,
}

/// Where `needle` first appears in `source`, as a 1-based line number.
fn line_of(source: &str, needle: &str) -> Option<usize> {
    let needle = needle.lines().find(|l| !l.trim().is_empty())?.trim();
    if needle.is_empty() {
        return None;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    // A whole occurrence: `b` is not found in `verbose`.
    let whole = |line: &str| {
        line.match_indices(needle).any(|(at, _)| {
            let before = line[..at].chars().next_back();
            let after = line[at + needle.len()..].chars().next();
            !before.is_some_and(word) && !after.is_some_and(word)
        })
    };
    source
        .lines()
        .position(whole)
        .or_else(|| source.lines().position(|l| l.contains(needle)))
        .map(|i| i + 1)
}

struct Loader<'a> {
    path: &'a Path,
    source: &'a str,
    dir: PathBuf,
}

impl Loader<'_> {
    fn error(&self, near: Option<&str>, reason: impl Into<String>) -> PolicyError {
        PolicyError {
            path: self.path.to_path_buf(),
            line: near.and_then(|n| line_of(self.source, n)),
            reason: reason.into(),
            unreadable: false,
        }
    }

    fn resolve(&self, file: &Path) -> PathBuf {
        if file.is_absolute() {
            file.to_path_buf()
        } else {
            self.dir.join(file)
        }
    }

    fn read_material(&self, file: &Path, what: &str) -> Result<Vec<u8>, PolicyError> {
        let at = self.resolve(file);
        let near = file.to_string_lossy();
        let unreadable = |e: std::io::Error| PolicyError {
            path: self.path.to_path_buf(),
            line: line_of(self.source, &near),
            reason: format!("cannot read the {what} {}: {e}", at.display()),
            unreadable: true,
        };
        let f = std::fs::File::open(&at).map_err(unreadable)?;
        let meta = f.metadata().map_err(unreadable)?;
        if !meta.is_file() {
            return Err(self.error(
                Some(&near),
                format!("the {what} {} is not a file", at.display()),
            ));
        }
        match model_signing::limits::read_bounded(f, MAX_MATERIAL_BYTES, meta.len()) {
            Ok(Some(bytes)) => Ok(bytes.to_vec()),
            Ok(None) => Err(self.error(
                Some(&near),
                format!(
                    "the {what} {} is larger than {MAX_MATERIAL_BYTES} bytes",
                    at.display()
                ),
            )),
            Err(e) => Err(unreadable(e)),
        }
    }

    fn pattern(&self, pattern: &str, field: &str) -> Result<Match, PolicyError> {
        Match::regex(pattern).map_err(|e| {
            let detail = match e {
                model_signing_sigstore::SigstoreError::Pattern { detail, .. } => detail
                    .lines()
                    .rev()
                    .find_map(|l| l.strip_prefix("error: "))
                    .map_or_else(
                        || detail.split_whitespace().collect::<Vec<_>>().join(" "),
                        |c| c.trim().to_owned(),
                    ),
                other => other.to_string(),
            };
            self.error(
                Some(pattern),
                format!("{field}: invalid regular expression {pattern:?}: {detail}"),
            )
        })
    }

    fn matcher(
        &self,
        name: &str,
        exact: Option<String>,
        pattern: Option<String>,
        field: &str,
    ) -> Result<Match, PolicyError> {
        match (exact, pattern) {
            (Some(v), None) if !v.is_empty() => Ok(Match::exact(v)),
            (Some(_), None) => {
                Err(self.error(Some(name), format!("signer `{name}`: `{field}` is empty")))
            }
            (None, Some(p)) => self.pattern(&p, &format!("signer `{name}`: {field}_pattern")),
            (Some(_), Some(_)) => Err(self.error(
                Some(&format!("{field}_pattern")),
                format!("signer `{name}`: give `{field}` or `{field}_pattern`, not both"),
            )),
            (None, None) => Err(self.error(
                Some(name),
                format!("signer `{name}`: a sigstore signer needs `{field}` or `{field}_pattern`"),
            )),
        }
    }

    fn signer(&self, name: String, raw: RawSigner) -> Result<NamedSigner, PolicyError> {
        if !valid_name(&name) {
            return Err(self.error(
                Some(&name),
                format!("the signer name {name:?} is not a name (letters, digits, `.`, `_`, `-`; at most 128)"),
            ));
        }
        let given = [
            raw.sigstore.is_some(),
            raw.key.is_some(),
            raw.certificate_chain.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given != 1 {
            return Err(self.error(
                Some(&format!("{name}:")),
                format!("signer `{name}` must be exactly one of `sigstore`, `key` or `certificate_chain` ({given} given)"),
            ));
        }
        let spec = if let Some(s) = raw.sigstore {
            let identity = self.matcher(&name, s.identity, s.identity_pattern, "identity")?;
            let issuer = self.matcher(&name, s.issuer, s.issuer_pattern, "issuer")?;
            for (field, v) in [
                ("github_repository", &s.github_repository),
                ("github_ref", &s.github_ref),
            ] {
                if v.as_deref() == Some("") {
                    return Err(
                        self.error(Some(field), format!("signer `{name}`: `{field}` is empty"))
                    );
                }
            }
            SignerSpec::Sigstore {
                identity,
                issuer,
                github_repository: s.github_repository,
                github_ref: s.github_ref,
            }
        } else if let Some(file) = raw.key {
            let pem = self.read_material(&file, "public key")?;
            let near = file.to_string_lossy().into_owned();
            let text = std::str::from_utf8(&pem).map_err(|_| {
                self.error(
                    Some(&near),
                    format!("signer `{name}`: the public key {near} is not PEM text"),
                )
            })?;
            let key = PublicKey::from_pem(text).map_err(|e| {
                self.error(
                    Some(&near),
                    format!("signer `{name}`: cannot load the public key {near}: {e}"),
                )
            })?;
            SignerSpec::Key { key, file }
        } else {
            let files = match raw.certificate_chain {
                Some(OneOrMany::One(f)) => vec![f],
                Some(OneOrMany::Many(f)) => f,
                None => Vec::new(),
            };
            if files.is_empty() {
                return Err(self.error(
                    Some(&name),
                    format!("signer `{name}`: `certificate_chain` names no file"),
                ));
            }
            let mut certificates = Vec::new();
            for file in &files {
                let pem = self.read_material(file, "certificate file")?;
                let near = file.to_string_lossy().into_owned();
                let certs = Certificate::from_pem_bundle(&pem).map_err(|e| {
                    self.error(
                        Some(&near),
                        format!("signer `{name}`: cannot load certificates from {near}: {e}"),
                    )
                })?;
                certificates.extend(certs);
            }
            SignerSpec::CertificateChain {
                certificates,
                files,
            }
        };
        Ok(NamedSigner { name, spec })
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn algorithm(a: AlgorithmName) -> HashAlgorithm {
    match a {
        AlgorithmName::Sha256 => HashAlgorithm::Sha256,
        AlgorithmName::Blake2b => HashAlgorithm::Blake2b,
        AlgorithmName::Blake3 => HashAlgorithm::Blake3,
    }
}

/// The line a serde error points at: serde_json and serde_norway put it in
/// their messages as `at line N column M` / `line N column M`.
fn parse_error(path: &Path, message: String) -> PolicyError {
    let line = message
        .split("line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok());
    PolicyError {
        path: path.to_path_buf(),
        line,
        reason: message,
        unreadable: false,
    }
}

impl Policy {
    /// Reads the policy file at `path`. Relative key and certificate paths
    /// are read from the policy file's directory.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let unreadable = |e: std::io::Error| PolicyError {
            path: path.to_path_buf(),
            line: None,
            reason: format!("cannot read it: {e}"),
            unreadable: true,
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let meta = file.metadata().map_err(unreadable)?;
        if !meta.is_file() {
            return Err(PolicyError {
                path: path.to_path_buf(),
                line: None,
                reason: "not a file".into(),
                unreadable: false,
            });
        }
        let bytes = match model_signing::limits::read_bounded(file, MAX_POLICY_BYTES, meta.len()) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Err(PolicyError {
                    path: path.to_path_buf(),
                    line: None,
                    reason: format!("larger than {MAX_POLICY_BYTES} bytes"),
                    unreadable: false,
                })
            }
            Err(e) => return Err(unreadable(e)),
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| PolicyError {
            path: path.to_path_buf(),
            line: Some(
                bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1,
            ),
            reason: "not UTF-8 text".into(),
            unreadable: false,
        })?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Policy::parse(path, text, json, &dir)
    }

    /// Reads a policy from its text: JSON when `json`, else YAML. `path`
    /// names it in errors; relative key and certificate paths are read
    /// from `dir`.
    pub fn parse(path: &Path, text: &str, json: bool, dir: &Path) -> Result<Policy, PolicyError> {
        if text.len() as u64 > MAX_POLICY_BYTES {
            return Err(PolicyError {
                path: path.to_path_buf(),
                line: None,
                reason: format!("larger than {MAX_POLICY_BYTES} bytes"),
                unreadable: false,
            });
        }
        let raw: RawPolicy = if json {
            serde_json::from_str(text).map_err(|e| parse_error(path, e.to_string()))?
        } else {
            serde_norway::from_str(text).map_err(|e| parse_error(path, e.to_string()))?
        };
        let loader = Loader {
            path,
            source: text,
            dir: dir.to_path_buf(),
        };
        if raw.version != 1 {
            return Err(loader.error(
                Some("version"),
                format!(
                    "version {} is not supported (this release reads version 1)",
                    raw.version
                ),
            ));
        }
        let sigstore_trust = match raw.sigstore {
            None => SigstoreTrust::Production,
            Some(s) => match (s.instance, s.trusted_root, s.trust_config) {
                (None | Some(Instance::Production), None, None) => SigstoreTrust::Production,
                (Some(Instance::Staging), None, None) => SigstoreTrust::Staging,
                (None, Some(f), None) => SigstoreTrust::TrustedRoot(loader.resolve(&f)),
                (None, None, Some(f)) => SigstoreTrust::TrustConfig(loader.resolve(&f)),
                _ => return Err(loader.error(
                    Some("sigstore:"),
                    "sigstore: give at most one of `instance`, `trusted_root` and `trust_config`",
                )),
            },
        };
        let mut signers = Vec::new();
        for (name, s) in raw.signers.0 {
            signers.push(loader.signer(name, s)?);
        }
        if signers.is_empty() {
            return Err(loader.error(Some("signers"), "`signers` names no signer"));
        }
        let lookup =
            |names: &[String], what: &str, near: &str| -> Result<Vec<usize>, PolicyError> {
                if names.is_empty() {
                    return Err(loader.error(Some(near), format!("{what}: `signers` is empty")));
                }
                let mut out = Vec::new();
                for n in names {
                    match signers.iter().position(|s| s.name == *n) {
                        Some(i) if !out.contains(&i) => out.push(i),
                        Some(_) => {}
                        None => {
                            return Err(loader.error(
                                Some(n),
                                format!(
                                    "{what}: no signer named `{n}` (the signers are {})",
                                    signers
                                        .iter()
                                        .map(|s| format!("`{}`", s.name))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ))
                        }
                    }
                }
                Ok(out)
            };
        let model_signers = lookup(&raw.model.signers, "model", "model")?;
        let (algorithms, methods) = match raw.model.hashing {
            None => (None, None),
            Some(h) => {
                if h.algorithms.as_ref().is_some_and(Vec::is_empty)
                    || h.methods.as_ref().is_some_and(Vec::is_empty)
                {
                    return Err(loader.error(
                        Some("hashing"),
                        "model.hashing: an empty list accepts nothing; leave the field out to accept any",
                    ));
                }
                (
                    h.algorithms.map(|a| a.into_iter().map(algorithm).collect()),
                    h.methods,
                )
            }
        };
        let cel_cost = match raw.limits.and_then(|l| l.cel_cost) {
            None => DEFAULT_CEL_COST,
            Some(c) if (1..=MAX_CEL_COST).contains(&c) => c,
            Some(c) => {
                return Err(loader.error(
                    Some("cel_cost"),
                    format!("limits.cel_cost {c} is not between 1 and {MAX_CEL_COST}"),
                ))
            }
        };
        if raw.claims.len() > MAX_CLAIM_RULES {
            return Err(loader.error(
                Some("claims"),
                format!("more than {MAX_CLAIM_RULES} claim rules"),
            ));
        }
        let mut claims: Vec<ClaimRule> = Vec::new();
        for rule in raw.claims {
            let near = format!("id: {}", rule.id);
            if !valid_name(&rule.id) {
                return Err(loader.error(
                    Some(&rule.id),
                    format!("the claim rule id {:?} is not a name (letters, digits, `.`, `_`, `-`; at most 128)", rule.id),
                ));
            }
            if claims.iter().any(|c| c.id == rule.id) {
                return Err(loader.error(
                    Some(&near),
                    format!("the claim rule id `{}` is used twice", rule.id),
                ));
            }
            if !model_signing::claims::is_uri(&rule.predicate_type) {
                return Err(loader.error(
                    Some(&rule.predicate_type),
                    format!(
                        "claim rule `{}`: predicate_type {:?} is not a URI",
                        rule.id, rule.predicate_type
                    ),
                ));
            }
            let rule_signers = lookup(
                &rule.signers,
                &format!("claim rule `{}`", rule.id),
                &format!("id: {}", rule.id),
            )?;
            let condition = match rule.condition {
                None => None,
                Some(text) => Some(Condition::compile(&text).map_err(|e| {
                    loader.error(
                        Some(&text),
                        format!("claim rule `{}`: condition: {e}", rule.id),
                    )
                })?),
            };
            claims.push(ClaimRule {
                id: rule.id,
                predicate_type: rule.predicate_type,
                signers: rule_signers,
                condition,
                require: rule.require.unwrap_or_default(),
            });
        }
        Ok(Policy {
            path: path.to_path_buf(),
            signers,
            model_signers,
            algorithms,
            methods,
            unsigned_files: raw.model.unsigned_files.unwrap_or_default(),
            claims,
            cel_cost,
            sigstore_trust,
        })
    }

    /// The Sigstore trust material, loaded (only when a Sigstore signer is used).
    pub fn trust_root(&self) -> Result<TrustRoot, PolicyError> {
        let root = match &self.sigstore_trust {
            SigstoreTrust::Production => TrustRoot::production(),
            SigstoreTrust::Staging => TrustRoot::staging(),
            SigstoreTrust::TrustedRoot(p) => TrustRoot::from_trusted_root_file(p),
            SigstoreTrust::TrustConfig(p) => TrustRoot::from_trust_config_file(p),
        };
        root.map_err(|e| PolicyError {
            path: self.path.clone(),
            line: None,
            reason: format!("cannot load the Sigstore trust material: {e}"),
            unreadable: true,
        })
    }

    /// Whether any signer is a Sigstore identity.
    pub fn has_sigstore_signer(&self) -> bool {
        self.signers
            .iter()
            .any(|s| matches!(s.spec, SignerSpec::Sigstore { .. }))
    }

    /// A verifier for one signer (a Sigstore signer loads the policy's
    /// trust material).
    pub fn verifier(
        &self,
        index: usize,
    ) -> Result<Box<dyn model_signing::verify::SignatureVerifier>, PolicyError> {
        use model_signing::verify::{CertificateVerifier, KeyVerifier};
        let signer = &self.signers[index];
        Ok(match &signer.spec {
            SignerSpec::Key { key, .. } => Box::new(KeyVerifier::new(key.clone())),
            SignerSpec::CertificateChain { certificates, .. } => {
                Box::new(CertificateVerifier::new(certificates.clone()))
            }
            SignerSpec::Sigstore {
                identity,
                issuer,
                github_repository,
                github_ref,
            } => {
                let mut policy = IdentityPolicy::new(identity.clone(), issuer.clone());
                if let Some(r) = github_repository {
                    policy = policy.github_repository(r.clone());
                }
                if let Some(r) = github_ref {
                    policy = policy.github_ref(r.clone());
                }
                Box::new(SigstoreVerifier::new(self.trust_root()?, policy))
            }
        })
    }

    /// The names of the signers at `indices`, for messages.
    pub fn names(&self, indices: &[usize]) -> String {
        indices
            .iter()
            .map(|&i| format!("`{}`", self.signers[i].name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

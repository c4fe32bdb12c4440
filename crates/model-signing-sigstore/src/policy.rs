//! Who may have signed: the identity and OIDC issuer in the Fulcio
//! certificate, and optionally CI claims from its extensions.

use der::Decode as _;
use model_signing::x509::{Certificate, ObjectIdentifier, SubjectAltName};

use crate::error::SigstoreError;

/// Fulcio's username identity, an otherName in the subjectAltName.
const OTHERNAME_USERNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");
/// The OIDC issuer, legacy encoding (raw UTF-8 bytes).
const ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// The OIDC issuer, current encoding (DER UTF8String).
const ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");

/// How one claim (identity or issuer) must match.
#[derive(Clone, Debug)]
pub struct Match(MatchKind);

#[derive(Clone, Debug)]
enum MatchKind {
    Exact(String),
    Pattern {
        pattern: String,
        regex: regex::Regex,
    },
    Absent,
}

impl Match {
    /// The claim equals `value`, byte for byte.
    pub fn exact(value: impl Into<String>) -> Self {
        Match(MatchKind::Exact(value.into()))
    }

    /// The whole claim matches the regular expression `pattern` (Rust regex
    /// syntax). The pattern is anchored at both ends: `a.c` does not accept
    /// `xabc`.
    pub fn regex(pattern: &str) -> Result<Self, SigstoreError> {
        let invalid = |e: regex::Error| SigstoreError::Pattern {
            pattern: pattern.to_owned(),
            detail: e.to_string(),
        };
        // Checked alone first so that errors point into the pattern as given.
        regex::Regex::new(pattern).map_err(invalid)?;
        let regex = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(invalid)?;
        Ok(Match(MatchKind::Pattern {
            pattern: pattern.to_owned(),
            regex,
        }))
    }

    /// The claim must be absent (certificates of GitHub's private Fulcio
    /// carry no issuer extension).
    pub fn absent() -> Self {
        Match(MatchKind::Absent)
    }

    /// Whether `value` matches: equal to an exact value, or wholly matched by
    /// a pattern. [`Match::absent`] matches no value.
    pub fn is_match(&self, value: &str) -> bool {
        self.matches(Some(value))
    }

    fn matches(&self, found: Option<&str>) -> bool {
        match (&self.0, found) {
            (MatchKind::Exact(want), Some(got)) => want == got,
            (MatchKind::Pattern { regex, .. }, Some(got)) => regex.is_match(got),
            (MatchKind::Absent, None) => true,
            _ => false,
        }
    }
}

impl std::fmt::Display for Match {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            MatchKind::Exact(v) => f.write_str(v),
            MatchKind::Pattern { pattern, .. } => write!(f, "a match of the pattern {pattern:?}"),
            MatchKind::Absent => f.write_str("no value"),
        }
    }
}

/// A CI claim from the Fulcio extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Claim {
    GitHubRepository,
    GitHubRef,
}

/// Which signers are accepted. Build one with [`IdentityPolicy::new`] (exact
/// identity and issuer, the default of the command line) and refine it.
#[derive(Clone, Debug)]
pub struct IdentityPolicy {
    identity: Match,
    issuer: Match,
    claims: Vec<(Claim, String)>,
}

/// The identity claims of a Fulcio certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertIdentity {
    pub(crate) identity: Option<String>,
    pub(crate) issuer: Option<String>,
}

/// The CI claims a policy may check, as read by the verifier.
#[derive(Clone, Debug, Default)]
pub(crate) struct CiClaims {
    pub(crate) source_repository_uri: Option<String>,
    pub(crate) source_repository_ref: Option<String>,
    pub(crate) workflow_repository: Option<String>,
    pub(crate) workflow_ref: Option<String>,
}

impl IdentityPolicy {
    /// Signatures whose certificate identity and OIDC issuer match.
    pub fn new(identity: Match, issuer: Match) -> Self {
        IdentityPolicy {
            identity,
            issuer,
            claims: Vec::new(),
        }
    }

    /// Shorthand for exact identity and issuer.
    pub fn exact(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::new(Match::exact(identity), Match::exact(issuer))
    }

    /// Also require a GitHub Actions certificate for the repository
    /// `owner/name` (Fulcio extension 1.3.6.1.4.1.57264.1.12, or the
    /// deprecated .1.5 in older certificates).
    pub fn github_repository(mut self, owner_name: impl Into<String>) -> Self {
        self.claims
            .push((Claim::GitHubRepository, owner_name.into()));
        self
    }

    /// Also require a GitHub Actions certificate for the git ref, like
    /// `refs/heads/main` or `refs/tags/v1.0` (extension .1.14, or the
    /// deprecated .1.6).
    pub fn github_ref(mut self, git_ref: impl Into<String>) -> Self {
        self.claims.push((Claim::GitHubRef, git_ref.into()));
        self
    }

    pub(crate) fn check(&self, id: &CertIdentity, claims: &CiClaims) -> Result<(), SigstoreError> {
        self.check_identity(id)?;
        self.check_claims(claims)
    }

    /// The identity and issuer checks of [`check`](Self::check), without the
    /// CI claims.
    pub(crate) fn check_identity(&self, id: &CertIdentity) -> Result<(), SigstoreError> {
        if !self.identity.matches(id.identity.as_deref()) {
            return Err(SigstoreError::IdentityMismatch {
                expected: self.identity.to_string(),
                found: id.identity.clone(),
            });
        }
        if !self.issuer.matches(id.issuer.as_deref()) {
            return Err(SigstoreError::IssuerMismatch {
                expected: self.issuer.to_string(),
                found: id.issuer.clone(),
            });
        }
        Ok(())
    }

    fn check_claims(&self, claims: &CiClaims) -> Result<(), SigstoreError> {
        for (claim, want) in &self.claims {
            let (name, found, ok) = match claim {
                Claim::GitHubRepository => {
                    let url = format!("https://github.com/{want}");
                    match (&claims.source_repository_uri, &claims.workflow_repository) {
                        (Some(uri), _) => ("source repository", Some(uri.clone()), *uri == url),
                        (None, Some(repo)) => {
                            ("source repository", Some(repo.clone()), repo == want)
                        }
                        (None, None) => ("source repository", None, false),
                    }
                }
                Claim::GitHubRef => {
                    let found = claims
                        .source_repository_ref
                        .clone()
                        .or_else(|| claims.workflow_ref.clone());
                    let ok = found.as_deref() == Some(want.as_str());
                    ("source repository ref", found, ok)
                }
            };
            if !ok {
                return Err(SigstoreError::ClaimMismatch {
                    claim: name,
                    expected: want.clone(),
                    found,
                });
            }
        }
        Ok(())
    }
}

/// Reads the identity (the one email, URI or Fulcio username in the
/// subjectAltName) and the OIDC issuer (extension .1.8, else .1.1; both
/// present must agree).
pub(crate) fn certificate_identity(leaf: &Certificate) -> Result<CertIdentity, SigstoreError> {
    let mut identities = Vec::new();
    for name in leaf.subject_alt_name_entries() {
        match name {
            SubjectAltName::Email(s) | SubjectAltName::Uri(s) => identities.push(s.clone()),
            SubjectAltName::OtherName {
                type_id,
                value: Some(v),
            } if *type_id == OTHERNAME_USERNAME => identities.push(v.clone()),
            _ => {}
        }
    }
    if identities.len() > 1 {
        return Err(SigstoreError::AmbiguousIdentity(format!(
            "the subjectAltName holds {} identities",
            identities.len()
        )));
    }
    let identity = identities.pop();
    let issuer = oidc_issuer(leaf)?;
    Ok(CertIdentity { identity, issuer })
}

/// The OIDC issuer Fulcio recorded in a certificate: the DER UTF8String of
/// extension 1.3.6.1.4.1.57264.1.8, else the raw (or DER) UTF-8 of the older
/// 1.3.6.1.4.1.57264.1.1; both present must agree. `None` when neither is.
pub fn oidc_issuer(leaf: &Certificate) -> Result<Option<String>, SigstoreError> {
    let v2 = match leaf.extension_by_oid(&ISSUER_V2) {
        None => None,
        Some((_, value)) => Some(
            der::asn1::Utf8StringRef::from_der(value)
                .map(|s| s.as_str().to_owned())
                .map_err(|_| {
                    SigstoreError::AmbiguousIdentity(
                        "the issuer extension 1.3.6.1.4.1.57264.1.8 is not a UTF8String".into(),
                    )
                })?,
        ),
    };
    let v1 = match leaf.extension_by_oid(&ISSUER_V1) {
        None => None,
        // Written raw by Fulcio; accept a DER UTF8String too, as other clients do.
        Some((_, value)) => Some(
            der::asn1::Utf8StringRef::from_der(value)
                .map(|s| s.as_str().to_owned())
                .or_else(|_| std::str::from_utf8(value).map(str::to_owned))
                .map_err(|_| {
                    SigstoreError::AmbiguousIdentity(
                        "the issuer extension 1.3.6.1.4.1.57264.1.1 is not UTF-8".into(),
                    )
                })?,
        ),
    };
    let issuer = match (v2, v1) {
        (Some(a), Some(b)) if a != b => {
            return Err(SigstoreError::AmbiguousIdentity(format!(
                "the issuer extensions disagree: {a:?} (1.3.6.1.4.1.57264.1.8) and {b:?} (1.3.6.1.4.1.57264.1.1)"
            )))
        }
        (Some(a), _) => Some(a),
        (None, b) => b,
    };
    Ok(issuer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(identity: &str, issuer: &str) -> CertIdentity {
        CertIdentity {
            identity: Some(identity.into()),
            issuer: Some(issuer.into()),
        }
    }

    #[test]
    fn patterns_are_anchored() -> Result<(), SigstoreError> {
        let m = Match::regex("b.*@example\\.com")?;
        assert!(m.matches(Some("bob@example.com")));
        assert!(!m.matches(Some("xbob@example.com")));
        assert!(!m.matches(Some("bob@example.com.evil")));
        assert!(!m.matches(None));
        // An alternation cannot escape the anchors.
        let m = Match::regex("a|b")?;
        assert!(m.matches(Some("a")));
        assert!(!m.matches(Some("ab")));
        assert!(matches!(
            Match::regex("("),
            Err(SigstoreError::Pattern { .. })
        ));
        Ok(())
    }

    #[test]
    fn exact_policy() {
        let p = IdentityPolicy::exact("a@b.c", "https://issuer");
        let claims = CiClaims::default();
        assert!(p.check(&id("a@b.c", "https://issuer"), &claims).is_ok());
        assert!(matches!(
            p.check(&id("A@b.c", "https://issuer"), &claims),
            Err(SigstoreError::IdentityMismatch { .. })
        ));
        assert!(matches!(
            p.check(&id("a@b.c", "https://issuer/"), &claims),
            Err(SigstoreError::IssuerMismatch { .. })
        ));
        let none = CertIdentity {
            identity: Some("a@b.c".into()),
            issuer: None,
        };
        assert!(p.check(&none, &claims).is_err());
        let absent = IdentityPolicy::new(Match::exact("a@b.c"), Match::absent());
        assert!(absent.check(&none, &claims).is_ok());
        assert!(absent.check(&id("a@b.c", "x"), &claims).is_err());
    }

    #[test]
    fn github_claims() {
        let p = IdentityPolicy::exact("i", "s")
            .github_repository("o/r")
            .github_ref("refs/heads/main");
        let mut claims = CiClaims {
            source_repository_uri: Some("https://github.com/o/r".into()),
            source_repository_ref: Some("refs/heads/main".into()),
            ..CiClaims::default()
        };
        assert!(p.check(&id("i", "s"), &claims).is_ok());
        claims.source_repository_uri = Some("https://github.com/o/r2".into());
        assert!(matches!(
            p.check(&id("i", "s"), &claims),
            Err(SigstoreError::ClaimMismatch { .. })
        ));
        let legacy = CiClaims {
            workflow_repository: Some("o/r".into()),
            workflow_ref: Some("refs/heads/main".into()),
            ..CiClaims::default()
        };
        assert!(p.check(&id("i", "s"), &legacy).is_ok());
        assert!(p.check(&id("i", "s"), &CiClaims::default()).is_err());
    }
}

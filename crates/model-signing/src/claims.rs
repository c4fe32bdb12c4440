//! Signed claims about a model: in-toto statements (training data,
//! evaluations, model cards, bills of materials), each signed as DSSE in a
//! Sigstore bundle and bound to one verified OMS signature of the model.
//!
//! **Binding.** The OMS root digest alone is a hash of the resource digests
//! without their names or the hashing parameters: two different trees can
//! share it. A claim therefore names two subjects: the model (its name and
//! root digest, for tools that expect the usual in-toto subject) and the OMS
//! statement itself ([`STATEMENT_SUBJECT`], the SHA-256 of the signed
//! payload bytes, which cover every resource name, digest and hashing
//! parameter). A claim is valid for a model only when the model's own
//! signature verified, the model matched it, and both subjects match that
//! signature ([`verify_claims`] takes a [`VerifiedModel`], which only
//! verification makes). `docs/guarantees.md` has the argument.
//!
//! **Storage.** Claims live in a claims file, one bundle per line (JSON
//! Lines), as the OMS community's unified bundle layout proposes
//! (`claims.jsonl`); several signers append to one file. The model's
//! signature (`model.sig`) stays a file of its own, so the reference
//! implementation reads it unchanged. Neither signing nor verifying a model
//! hashes the claims file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::bundle::Bundle;
use crate::dsse::IN_TOTO_PAYLOAD_TYPE;
use crate::json::parse_strict;
use crate::sign::{write_atomic, BundleSigner, SignError};
use crate::statement::{SignedManifest, STATEMENT_TYPE};
use crate::verify::{SignatureVerifier, Signer, VerifiedModel};

/// The default name of a claims file: beside the model's signature, or at
/// the model root, where verification leaves it out.
pub const CLAIMS_FILE_NAME: &str = "claims.jsonl";

/// The name of the subject that binds a claim to one OMS signature: its
/// digest is the SHA-256 of that signature's statement (the DSSE payload).
pub const STATEMENT_SUBJECT: &str = "https://model_signing/signature/v1.0#statement";

/// The largest claims file read: 64 MiB.
pub const MAX_CLAIMS_FILE_BYTES: u64 = 64 << 20;

/// The most claims one file may hold.
pub const MAX_CLAIMS: usize = 4096;

/// The largest claim statement (payload) signed or read: 4 MiB.
pub const MAX_CLAIM_BYTES: usize = 4 << 20;

/// The longest predicate type URI.
pub const MAX_PREDICATE_TYPE_LEN: usize = 1024;

/// Why a claim could not be made, or a claims file read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// The predicate type is not a URI.
    #[error("the predicate type {0:?} is not a URI (scheme:rest, no spaces or control characters, at most 1024 bytes)")]
    PredicateType(String),
    /// The predicate is not a JSON object, or too big.
    #[error("the predicate must be a JSON object of at most 4 MiB: {0}")]
    Predicate(String),
    /// The model's signature cannot be attested (a legacy v0.1 one).
    #[error("{0}")]
    Target(String),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The claims file cannot be read or written.
    #[error("cannot {action} the claims file {path}: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The claims file is over a bound.
    #[error("the claims file {path} {what}")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Which bound, in words.
        what: String,
    },
}

impl ClaimError {
    /// The kind of failure, for exit codes.
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            ClaimError::PredicateType(_) | ClaimError::Predicate(_) | ClaimError::Target(_) => {
                crate::ErrorKind::Usage
            }
            ClaimError::Sign(e) => e.kind(),
            ClaimError::Io { .. } => crate::ErrorKind::Environment,
            ClaimError::TooLarge { .. } => crate::ErrorKind::Malformed,
        }
    }
}

/// What a claim is about: one OMS signature of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimTarget {
    /// The model's name, as its signature's subject gives it.
    pub model_name: String,
    /// The OMS root digest (hex).
    pub root_digest: String,
    /// SHA-256 of the signature's statement (hex).
    pub statement_digest: String,
}

impl ClaimTarget {
    /// The target of a verified model: what claims about it must name.
    pub fn of_verified(model: &VerifiedModel) -> Self {
        Self::of_statement(model.manifest.value())
    }

    /// The target named by a signature's statement, **unverified**: for
    /// making a claim (the signer of the claim vouches for what it names;
    /// [`verify_claims`] checks it against a verified model).
    pub fn of_statement(signed: &SignedManifest) -> Self {
        ClaimTarget {
            model_name: signed.manifest.model_name.clone(),
            root_digest: signed.root_digest.clone(),
            statement_digest: hex::encode(signed.statement_digest),
        }
    }
}

/// Whether `s` looks like a URI: `scheme:rest` with an ASCII letter
/// first in the scheme, no whitespace or control characters, at most
/// [`MAX_PREDICATE_TYPE_LEN`] bytes.
pub fn is_uri(s: &str) -> bool {
    let scheme_ok = s.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    let chars_ok = s.chars().all(|c| !c.is_whitespace() && !c.is_control());
    s.len() <= MAX_PREDICATE_TYPE_LEN && scheme_ok && chars_ok
}

fn check_predicate_type(predicate_type: &str) -> Result<(), ClaimError> {
    if is_uri(predicate_type) {
        Ok(())
    } else {
        Err(ClaimError::PredicateType(
            predicate_type.chars().take(200).collect(),
        ))
    }
}

/// The in-toto statement of a claim about `target` (compact JSON).
pub fn build_claim(
    target: &ClaimTarget,
    predicate_type: &str,
    predicate: &Value,
) -> Result<Vec<u8>, ClaimError> {
    check_predicate_type(predicate_type)?;
    if !predicate.is_object() {
        return Err(ClaimError::Predicate(format!(
            "it is {}",
            json_kind(predicate)
        )));
    }
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": target.model_name, "digest": {"sha256": target.root_digest}},
            {"name": STATEMENT_SUBJECT, "digest": {"sha256": target.statement_digest}},
        ],
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    let bytes = serde_json::to_vec(&statement)
        .map_err(|e| ClaimError::Predicate(format!("cannot serialize it: {e}")))?;
    if bytes.len() > MAX_CLAIM_BYTES {
        return Err(ClaimError::Predicate(format!(
            "the statement would be {} bytes",
            bytes.len()
        )));
    }
    Ok(bytes)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Signs a claim about `target` with `signer`: a bundle holding the claim's
/// statement as a DSSE envelope.
pub fn sign_claim(
    target: &ClaimTarget,
    predicate_type: &str,
    predicate: &Value,
    signer: &dyn BundleSigner,
) -> Result<Bundle, ClaimError> {
    let payload = build_claim(target, predicate_type, predicate)?;
    Ok(crate::sign::sign_statement(payload, signer)?)
}

/// Reads a claims file whole, within [`MAX_CLAIMS_FILE_BYTES`]. A missing
/// file is `Ok(None)`.
fn read_file(path: &Path) -> Result<Option<Vec<u8>>, ClaimError> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ClaimError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            })
        }
    };
    let io = |source| ClaimError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file",
        )));
    }
    match crate::limits::read_bounded(file, MAX_CLAIMS_FILE_BYTES, meta.len()).map_err(io)? {
        Some(bytes) => Ok(Some(bytes.to_vec())),
        None => Err(ClaimError::TooLarge {
            path: path.to_owned(),
            what: format!("is over {MAX_CLAIMS_FILE_BYTES} bytes"),
        }),
    }
}

/// Adds `bundle` as the last line of the claims file at `path` (created if
/// missing), replacing the file atomically: a concurrent reader sees the
/// old file or the new one. Returns the claim's line number (from 1, as
/// [`read_claims`] numbers lines).
pub fn append_claim(path: &Path, bundle: &Bundle) -> Result<usize, ClaimError> {
    let mut contents = read_file(path)?.unwrap_or_default();
    let lines = contents
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    if lines >= MAX_CLAIMS {
        return Err(ClaimError::TooLarge {
            path: path.to_owned(),
            what: format!("already holds {lines} claims, the most one file may hold"),
        });
    }
    if !contents.is_empty() && !contents.ends_with(b"\n") {
        contents.push(b'\n');
    }
    contents.extend_from_slice(bundle.to_json_line().as_bytes());
    contents.push(b'\n');
    if contents.len() as u64 > MAX_CLAIMS_FILE_BYTES {
        return Err(ClaimError::TooLarge {
            path: path.to_owned(),
            what: format!("would be over {MAX_CLAIMS_FILE_BYTES} bytes"),
        });
    }
    write_atomic(path, &contents).map_err(ClaimError::Sign)?;
    Ok(contents.iter().filter(|&&b| b == b'\n').count())
}

/// One line of a claims file.
#[derive(Debug, Clone)]
pub struct ClaimLine {
    /// Its line number (from 1).
    pub line: usize,
    /// The bundle, or why the line is not one.
    pub bundle: Result<Bundle, String>,
}

/// Reads the claims of the file at `path`: one entry per non-empty line,
/// malformed lines included (they are reported, never skipped silently).
/// A missing file holds no claims.
pub fn read_claims(path: &Path) -> Result<Vec<ClaimLine>, ClaimError> {
    let Some(bytes) = read_file(path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if out.len() == MAX_CLAIMS {
            return Err(ClaimError::TooLarge {
                path: path.to_owned(),
                what: format!("holds more than {MAX_CLAIMS} claims"),
            });
        }
        out.push(ClaimLine {
            line: i + 1,
            bundle: Bundle::from_json(line).map_err(|e| e.to_string()),
        });
    }
    Ok(out)
}

/// The verdict on one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimVerdict {
    /// Signed by a trusted signer, about this very signature of the model.
    Valid,
    /// Not a well-formed claim: the line, its bundle, its statement or its
    /// predicate is malformed.
    Malformed(String),
    /// The signature does not verify with any trusted claim signer.
    SignatureFailed(String),
    /// A well-signed claim about another model, or another signature of it
    /// (another version, other hashing parameters).
    OtherModel(String),
}

impl ClaimVerdict {
    /// `valid`, `malformed`, `signature_failed` or `other_model`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ClaimVerdict::Valid => "valid",
            ClaimVerdict::Malformed(_) => "malformed",
            ClaimVerdict::SignatureFailed(_) => "signature_failed",
            ClaimVerdict::OtherModel(_) => "other_model",
        }
    }

    /// Why the claim is not valid (`None` when it is).
    pub fn reason(&self) -> Option<&str> {
        match self {
            ClaimVerdict::Valid => None,
            ClaimVerdict::Malformed(r)
            | ClaimVerdict::SignatureFailed(r)
            | ClaimVerdict::OtherModel(r) => Some(r),
        }
    }
}

/// What verifying one claim established.
#[derive(Debug, Clone)]
pub struct ClaimReport {
    /// The claim's line in the claims file.
    pub line: usize,
    /// Who signed it, once its signature verified.
    pub signer: Option<Signer>,
    /// Its predicate type, once its signature verified and its statement
    /// was read.
    pub predicate_type: Option<String>,
    /// Its predicate, only when the claim is valid.
    pub predicate: Option<Value>,
    /// The verdict.
    pub verdict: ClaimVerdict,
}

impl ClaimReport {
    /// Whether the claim counts.
    pub fn is_valid(&self) -> bool {
        self.verdict == ClaimVerdict::Valid
    }
}

/// Verifies each claim against the verified model: its signature with the
/// first of `verifiers` that accepts it (the claim signers trusted), then
/// its statement, which must name this model's signature. A claim is never
/// counted valid unless all of that holds.
pub fn verify_claims(
    model: &VerifiedModel,
    claims: &[ClaimLine],
    verifiers: &[&dyn SignatureVerifier],
) -> Vec<ClaimReport> {
    let target = ClaimTarget::of_verified(model);
    claims
        .iter()
        .map(|c| verify_claim(&target, c, verifiers))
        .collect()
}

fn verify_claim(
    target: &ClaimTarget,
    claim: &ClaimLine,
    verifiers: &[&dyn SignatureVerifier],
) -> ClaimReport {
    let mut report = ClaimReport {
        line: claim.line,
        signer: None,
        predicate_type: None,
        predicate: None,
        verdict: ClaimVerdict::Valid,
    };
    let bundle = match &claim.bundle {
        Ok(b) => b,
        Err(e) => {
            report.verdict = ClaimVerdict::Malformed(format!("not a Sigstore bundle: {e}"));
            return report;
        }
    };
    if verifiers.is_empty() {
        report.verdict = ClaimVerdict::SignatureFailed("no claim signer is trusted".to_owned());
        return report;
    }
    let mut failures = Vec::new();
    for verifier in verifiers {
        match verifier.verify_signature(bundle) {
            Ok(check) if !check.legacy_pae => {
                report.signer = Some(check.signer);
                break;
            }
            Ok(_) => failures.push("signed over the legacy v0.2 encoding".to_owned()),
            Err(e) => failures.push(e.to_string()),
        }
    }
    if report.signer.is_none() {
        failures.dedup();
        report.verdict = ClaimVerdict::SignatureFailed(failures.join("; "));
        return report;
    }
    match read_statement(&bundle.envelope.payload_type, &bundle.envelope.payload) {
        Err(why) => report.verdict = ClaimVerdict::Malformed(why),
        Ok((predicate_type, subjects, predicate)) => {
            report.verdict = check_subjects(target, &subjects);
            if report.verdict == ClaimVerdict::Valid {
                match crate::predicates::check(&predicate_type, &predicate) {
                    Ok(()) => report.predicate = Some(predicate),
                    Err(e) => {
                        report.verdict =
                            ClaimVerdict::Malformed(format!("the predicate is malformed: {e}"))
                    }
                }
            }
            report.predicate_type = Some(predicate_type);
        }
    }
    report
}

/// A subject: name and SHA-256 digest (hex), as far as the statement gives them.
type Subject = (String, Option<String>);

/// Reads a claim's statement: predicate type, subjects, predicate.
fn read_statement(
    payload_type: &str,
    payload: &[u8],
) -> Result<(String, Vec<Subject>, Value), String> {
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(format!(
            "the payload type is {}, not {IN_TOTO_PAYLOAD_TYPE}",
            payload_type.chars().take(80).collect::<String>()
        ));
    }
    let doc = parse_strict(payload, MAX_CLAIM_BYTES)
        .map_err(|e| format!("the statement is not valid JSON: {e}"))?;
    let obj = doc
        .as_object()
        .ok_or("the statement is not a JSON object")?;
    if obj.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(format!("the statement's _type is not {STATEMENT_TYPE}"));
    }
    let predicate_type = obj
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or("the statement has no predicateType string")?;
    check_predicate_type(predicate_type).map_err(|e| e.to_string())?;
    let predicate = obj
        .get("predicate")
        .filter(|p| p.is_object())
        .ok_or("the statement's predicate is missing or not a JSON object")?
        .clone();
    let subjects = obj
        .get("subject")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty() && s.len() <= 16)
        .ok_or("the statement's subject is not a list of 1 to 16 subjects")?;
    let mut out = Vec::new();
    for s in subjects {
        let name = s
            .get("name")
            .and_then(Value::as_str)
            .ok_or("a subject has no name")?;
        let digest = s
            .get("digest")
            .and_then(Value::as_object)
            .ok_or("a subject has no digest")?;
        let sha = digest
            .get("sha256")
            .and_then(Value::as_str)
            .map(str::to_owned);
        out.push((name.to_owned(), sha));
    }
    Ok((predicate_type.to_owned(), out, predicate))
}

/// At most 80 characters of an untrusted digest, for a message.
fn short(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

fn check_subjects(target: &ClaimTarget, subjects: &[Subject]) -> ClaimVerdict {
    let statement: Vec<&Subject> = subjects
        .iter()
        .filter(|(name, _)| name == STATEMENT_SUBJECT)
        .collect();
    let [(_, statement_digest)] = statement.as_slice() else {
        return ClaimVerdict::Malformed(format!(
            "the statement names {} subjects {STATEMENT_SUBJECT}, where one binds a claim to the model's signature",
            statement.len()
        ));
    };
    let roots: Vec<&Subject> = subjects
        .iter()
        .filter(|(name, _)| name != STATEMENT_SUBJECT)
        .collect();
    let root_matches = roots
        .iter()
        .any(|(_, d)| d.as_deref() == Some(target.root_digest.as_str()));
    let statement_matches = statement_digest.as_deref() == Some(target.statement_digest.as_str());
    match (statement_matches, root_matches) {
        (true, true) => ClaimVerdict::Valid,
        (true, false) => ClaimVerdict::Malformed(format!(
            "the claim names this model's signature but not its root digest sha256:{}",
            target.root_digest
        )),
        (false, true) => ClaimVerdict::OtherModel(format!(
            "the claim is about another signature of a model with this root digest (statement sha256:{}, this signature's statement sha256:{}): other hashing parameters or other file names",
            short(statement_digest.as_deref().unwrap_or("none")),
            target.statement_digest
        )),
        (false, false) => ClaimVerdict::OtherModel(format!(
            "the claim is about another model or another version of it (root digest {}, this model's sha256:{})",
            roots
                .first()
                .and_then(|(_, d)| d.as_deref())
                .map_or("none".to_owned(), |d| format!("sha256:{}", short(d))),
            target.root_digest
        )),
    }
}

/// Whether the file is a claims file: its first non-empty line (read up to
/// [`MAX_CLAIM_BYTES`] plus room for the rest of a bundle) is a Sigstore
/// bundle. Signing leaves such a file out at the model root.
pub fn is_claims_file(file: &model_signing_hash::FileEntry) -> bool {
    use std::io::Read as _;
    let Ok(f) = file.open() else {
        return false;
    };
    let limit = (MAX_CLAIM_BYTES as u64) * 2 + (1 << 20);
    let mut bytes = Vec::new();
    if f.take(limit).read_to_end(&mut bytes).is_err() {
        return false;
    }
    let first = bytes
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace));
    first.is_some_and(|l| Bundle::from_json(l).is_ok())
}

/// SHA-256 (hex) of a signature's statement: what a claim about it, or a
/// provenance record that lists it, names.
pub fn statement_digest_of(bundle: &Bundle) -> String {
    hex::encode(Sha256::digest(&bundle.envelope.payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ClaimTarget {
        ClaimTarget {
            model_name: "m".to_owned(),
            root_digest: "aa".repeat(32),
            statement_digest: "bb".repeat(32),
        }
    }

    #[test]
    fn predicate_types_must_be_uris() {
        for good in [
            "https://slsa.dev/provenance/v1",
            "urn:example:claim",
            "https://cyclonedx.org/bom",
        ] {
            assert!(check_predicate_type(good).is_ok(), "{good}");
        }
        let long = format!("https://x/{}", "a".repeat(1100));
        for bad in [
            "",
            "no-scheme",
            "https:",
            "1http://x",
            "https://a b",
            "https://a\u{1b}[31m",
            ":rest",
            long.as_str(),
        ] {
            assert!(check_predicate_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_claim_names_the_model_and_its_signature() {
        let bytes = build_claim(&target(), "urn:x:y", &json!({"a": 1})).expect("claim");
        let (ty, subjects, predicate) =
            read_statement(IN_TOTO_PAYLOAD_TYPE, &bytes).expect("statement");
        assert_eq!(ty, "urn:x:y");
        assert_eq!(predicate, json!({"a": 1}));
        assert_eq!(check_subjects(&target(), &subjects), ClaimVerdict::Valid);
        for bad in [json!([]), json!("s"), json!(1), Value::Null] {
            assert!(matches!(
                build_claim(&target(), "urn:x:y", &bad),
                Err(ClaimError::Predicate(_))
            ));
        }
        let huge = json!({"a": "x".repeat(MAX_CLAIM_BYTES)});
        assert!(build_claim(&target(), "urn:x:y", &huge).is_err());
    }

    #[test]
    fn subjects_of_another_model_or_signature_are_told_apart() {
        let t = target();
        let sub = |root: &str, statement: &str| {
            vec![
                ("m".to_owned(), Some(root.to_owned())),
                (STATEMENT_SUBJECT.to_owned(), Some(statement.to_owned())),
            ]
        };
        let (a, b, c) = ("aa".repeat(32), "bb".repeat(32), "cc".repeat(32));
        assert_eq!(check_subjects(&t, &sub(&a, &b)), ClaimVerdict::Valid);
        assert!(matches!(
            check_subjects(&t, &sub(&c, &c)),
            ClaimVerdict::OtherModel(_)
        ));
        assert!(matches!(
            check_subjects(&t, &sub(&a, &c)),
            ClaimVerdict::OtherModel(_)
        ));
        assert!(matches!(
            check_subjects(&t, &sub(&c, &b)),
            ClaimVerdict::Malformed(_)
        ));
        // The root digest alone does not bind.
        let root_only = vec![("m".to_owned(), Some(a.clone()))];
        assert!(matches!(
            check_subjects(&t, &root_only),
            ClaimVerdict::Malformed(_)
        ));
        // Two statement subjects are ambiguous.
        let mut twice = sub(&a, &b);
        twice.push((STATEMENT_SUBJECT.to_owned(), Some(c.clone())));
        assert!(matches!(
            check_subjects(&t, &twice),
            ClaimVerdict::Malformed(_)
        ));
        // A statement subject without a SHA-256 digest.
        let no_sha = vec![
            ("m".to_owned(), Some(a)),
            (STATEMENT_SUBJECT.to_owned(), None),
        ];
        assert!(matches!(
            check_subjects(&t, &no_sha),
            ClaimVerdict::OtherModel(_)
        ));
    }

    #[test]
    fn claims_files_are_bounded_and_every_line_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("claims.jsonl");
        assert!(read_claims(&path).expect("missing file").is_empty());
        std::fs::write(&path, "\n{\"not\": \"a bundle\"}\r\n\n  \nnot json\n").expect("write");
        let lines = read_claims(&path).expect("read");
        assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), [2, 5]);
        assert!(lines.iter().all(|l| l.bundle.is_err()));
        std::fs::write(&path, "x\n".repeat(MAX_CLAIMS + 1)).expect("write");
        assert!(matches!(
            read_claims(&path),
            Err(ClaimError::TooLarge { .. })
        ));
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(MAX_CLAIMS_FILE_BYTES + 1).expect("sparse");
        assert!(matches!(
            read_claims(&path),
            Err(ClaimError::TooLarge { .. })
        ));
        let sub = dir.path().join("dir.jsonl");
        std::fs::create_dir(&sub).expect("mkdir");
        assert!(matches!(read_claims(&sub), Err(ClaimError::Io { .. })));
    }

    #[test]
    fn malformed_statements_are_refused() {
        let ok = |v: Value| serde_json::to_vec(&v).expect("json");
        let base = json!({
            "_type": STATEMENT_TYPE,
            "subject": [{"name": "m", "digest": {"sha256": "aa"}}],
            "predicateType": "urn:x:y",
            "predicate": {},
        });
        assert!(read_statement(IN_TOTO_PAYLOAD_TYPE, &ok(base.clone())).is_ok());
        assert!(read_statement("text/plain", &ok(base.clone())).is_err());
        let mut cases = Vec::new();
        for (key, value) in [
            ("_type", json!("https://in-toto.io/Statement/v0.1")),
            ("predicateType", json!(7)),
            ("predicateType", json!("not a uri")),
            ("predicate", json!([1])),
            ("predicate", Value::Null),
            ("subject", json!([])),
            ("subject", json!({})),
            ("subject", json!([{"digest": {"sha256": "aa"}}])),
            ("subject", json!([{"name": "m"}])),
        ] {
            let mut v = base.clone();
            v[key] = value;
            cases.push(ok(v));
        }
        cases.push(b"{\"_type\": 1, \"_type\": 2}".to_vec());
        cases.push(b"[]".to_vec());
        cases.push(b"{".to_vec());
        cases.push(vec![0xff, 0xfe]);
        for case in &cases {
            assert!(
                read_statement(IN_TOTO_PAYLOAD_TYPE, case).is_err(),
                "{}",
                String::from_utf8_lossy(case)
            );
        }
    }
}

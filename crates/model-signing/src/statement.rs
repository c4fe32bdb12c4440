//! The in-toto statement a model signature signs: building it, and reading it
//! back with every check a verifier needs before any file is touched.

use model_signing_hash::{HashAlgorithm, Method, RelPath, ResourceKey};
use serde_json::{json, Value};

use crate::json::{
    for_each_item, parse_shaped, shorten, Array, ItemError, JsonError, Node, Obj, Shape,
};
use crate::limits::Limits;
use crate::manifest::{Manifest, Resource, Serialization};

/// The in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of OMS v1.0 signatures.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The predicate type of signatures made by model-signing v0.2.
pub const LEGACY_PREDICATE_TYPE: &str = "https://model_signing/Digests/v0.1";

/// Largest payload accepted: 768 MiB, what a bundle of
/// [`MAX_BUNDLE_BYTES`](crate::limits::MAX_BUNDLE_BYTES) holds in base64 (four
/// characters for three bytes), so in practice that bound comes first.
pub const MAX_PAYLOAD_BYTES: usize = 768 << 20;

const KEY_ORDER: [&str; 13] = [
    "_type",
    "subject",
    "predicateType",
    "predicate",
    "serialization",
    "method",
    "hash_type",
    "shard_size",
    "allow_symlinks",
    "ignore_paths",
    "resources",
    "name",
    "algorithm",
];

/// Why a signed payload is not an acceptable model manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Malformed JSON or a missing or mistyped field.
    #[error("malformed payload: {0}")]
    Json(JsonError),
    /// The DSSE payload type is not in-toto.
    #[error("payload type is {0:?}, expected \"application/vnd.in-toto+json\"")]
    PayloadType(String),
    /// `_type` is not an in-toto v1 statement.
    #[error("statement type is {0:?}, expected \"https://in-toto.io/Statement/v1\"")]
    StatementType(String),
    /// The predicate type is not a model signature.
    #[error("predicate type is {0:?}, not a model signature (expected \"https://model_signing/signature/v1.0\")")]
    PredicateType(String),
    /// Not exactly one subject.
    #[error("the statement has {0} subjects; a model signature has exactly one")]
    SubjectCount(usize),
    /// The subject digest does not match the resources.
    #[error(
        "subject digest {expected} does not match the resources listed (they hash to {actual})"
    )]
    RootDigest {
        /// The digest the subject claims.
        expected: String,
        /// The digest of the resources.
        actual: String,
    },
    /// No resources.
    #[error("the manifest lists no resources")]
    NoResources,
    /// An invalid resource name.
    #[error("invalid resource name {name:?}: {reason}")]
    ResourceName {
        /// The name as signed (shortened).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A name listed twice.
    #[error("resource {0:?} is listed more than once")]
    DuplicateResource(String),
    /// A malformed digest.
    #[error("resource {name:?} has a malformed digest: {reason}")]
    Digest {
        /// The resource.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A resource algorithm that does not match the serialization.
    #[error("resource {name:?} has algorithm {found:?}, expected {expected:?}")]
    Algorithm {
        /// The resource.
        name: String,
        /// What it says.
        found: String,
        /// What the serialization implies.
        expected: String,
    },
    /// A bad `serialization` block.
    #[error("invalid serialization: {0}")]
    Serialization(SerializationError),
    /// More resources or ignore paths than accepted.
    #[error("the manifest lists {count} {what}; at most {limit} are accepted")]
    TooMany {
        /// What: `resources` or `ignore paths`.
        what: &'static str,
        /// How many the manifest lists.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

fn at_most(what: &'static str, count: usize, limit: usize) -> Result<(), PayloadError> {
    if count > limit {
        return Err(PayloadError::TooMany { what, count, limit });
    }
    Ok(())
}

impl From<JsonError> for PayloadError {
    fn from(e: JsonError) -> Self {
        PayloadError::Json(e)
    }
}

/// A manifest read back from a signed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedManifest {
    /// The manifest (resources in signed order).
    pub manifest: Manifest,
    /// The parsed key of each resource, in the same order.
    pub keys: Vec<ResourceKey>,
    /// The subject digest (hex).
    pub root_digest: String,
    /// Whether this is a legacy v0.1 (`Digests/v0.1`) statement.
    pub legacy: bool,
    /// SHA-256 of the statement's bytes (the DSSE payload): what signed
    /// claims about this signature bind to ([`crate::claims`]).
    pub statement_digest: [u8; 32],
}

/// Builds the in-toto statement for `manifest`, as pretty JSON bytes with a
/// fixed key order.
///
/// The resource list is written straight into the output, one resource at a
/// time: no JSON tree of it is built (it would cost several times the
/// statement's size for a model of millions of files).
pub fn build_statement(manifest: &Manifest) -> Vec<u8> {
    // Everything but the resources goes through the ordered pretty printer;
    // the resources replace this marker, which no JSON string escapes to.
    const MARKER: &str = "\u{0}resources\u{0}";
    let serialization = serde_json::to_value(&manifest.serialization).unwrap_or(Value::Null);
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": manifest.model_name, "digest": {"sha256": manifest.root_digest_hex()}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"serialization": serialization, "resources": MARKER},
    });
    let head = crate::json::to_pretty_ordered(&statement, &KEY_ORDER);
    let marker = Value::from(MARKER).to_string();
    let (before, after) = head.split_at(head.find(&marker).unwrap_or(head.len()));
    let after = after.get(marker.len()..).unwrap_or_default();
    let quoted = |s: &str| Value::from(s).to_string();
    let size: usize = manifest
        .resources
        .iter()
        .map(|r| r.name.len() + r.algorithm.len() + 2 * r.digest.len() + 72)
        .sum();
    let mut out = String::with_capacity(head.len() + size + 8);
    out.push_str(before);
    if manifest.resources.is_empty() {
        out.push_str("[]");
    } else {
        out.push_str("[\n");
        for (i, r) in manifest.resources.iter().enumerate() {
            out.push_str("      {\n        \"name\": ");
            out.push_str(&quoted(&r.name));
            out.push_str(",\n        \"algorithm\": ");
            out.push_str(&quoted(&r.algorithm));
            out.push_str(",\n        \"digest\": \"");
            out.push_str(&hex::encode(&r.digest));
            out.push_str(if i + 1 < manifest.resources.len() {
                "\"\n      },\n"
            } else {
                "\"\n      }\n"
            });
        }
        out.push_str("    ]");
    }
    out.push_str(after);
    out.push('\n');
    out.into_bytes()
}

fn name_error(name: &str, reason: &'static str) -> PayloadError {
    PayloadError::ResourceName {
        name: shorten(name, 120),
        reason,
    }
}

/// Validates a file path as signed: relative, `/`-separated, every
/// component valid under the one name rule that signing also applies
/// ([`check_path`](model_signing_hash::check_path): no empty, `.` or `..`
/// component, no NUL; a backslash is an ordinary character). Returns its
/// components.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_path(name: &str) -> Result<Vec<String>, PayloadError> {
    model_signing_hash::check_path(name).map_err(|e| name_error(name, e.reason()))?;
    Ok(name.split('/').map(str::to_owned).collect())
}

fn parse_offset(s: &str, name: &str) -> Result<u64, PayloadError> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return Err(name_error(
            name,
            "a shard offset is not a canonical decimal number",
        ));
    }
    s.parse()
        .map_err(|_| name_error(name, "a shard offset is out of range"))
}

/// The key of `path` (the path part of resource `name`, `.` for a
/// single-file model).
fn key_of(path: &str, name: &str, range: Option<(u64, u64)>) -> Result<ResourceKey, PayloadError> {
    ResourceKey::from_path(path, range).map_err(|e| name_error(name, e.reason()))
}

/// Parses a resource name under the given method. The single-file name `.` is
/// returned as an empty path.
pub fn parse_resource_name(name: &str, method: Method) -> Result<ResourceKey, PayloadError> {
    match method {
        Method::Files => key_of(name, name, None),
        Method::Shards { shard_size } => {
            let mut parts = name.rsplitn(3, ':');
            let (Some(end), Some(start), Some(path)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(name_error(name, "a shard name must be PATH:START:END"));
            };
            let start = parse_offset(start, name)?;
            let end = parse_offset(end, name)?;
            if start >= end {
                return Err(name_error(name, "a shard must end after it starts"));
            }
            let size = shard_size.get();
            if start % size != 0 || end - start > size {
                return Err(name_error(
                    name,
                    "the shard does not fit the signed shard size",
                ));
            }
            key_of(path, name, Some((start, end)))
        }
    }
}

/// What is wrong with a payload's `serialization` block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SerializationError {
    /// `hash_type` names no supported algorithm.
    #[error(transparent)]
    HashType(model_signing_hash::ConfigError),
    /// `method` is neither `files` nor `shards` (shortened when long).
    #[error("unknown method {0:?} (expected files or shards)")]
    Method(String),
    /// `shard_size` is zero.
    #[error("shard_size must be positive")]
    ZeroShardSize,
    /// An entry of `ignore_paths` is not a string.
    #[error("ignore_paths[{0}] is not a string")]
    IgnorePathNotAString(usize),
    /// An entry of `ignore_paths` cannot name a path inside the model.
    #[error(transparent)]
    IgnorePath(model_signing_hash::ConfigError),
}

fn parse_serialization(pred: &Obj<'_>, limits: &Limits) -> Result<Serialization, PayloadError> {
    let path = pred.path_of("serialization");
    let s = pred.obj("serialization", &path)?;
    let hash_type: HashAlgorithm = s
        .str("hash_type")?
        .parse()
        .map_err(|e| PayloadError::Serialization(SerializationError::HashType(e)))?;
    let method = match s.str("method")? {
        "files" => Method::Files,
        "shards" => {
            let size = s.positive_int("shard_size")?;
            Method::Shards {
                shard_size: std::num::NonZeroU64::new(size).ok_or(PayloadError::Serialization(
                    SerializationError::ZeroShardSize,
                ))?,
            }
        }
        other => {
            return Err(PayloadError::Serialization(SerializationError::Method(
                shorten(other, 40),
            )))
        }
    };
    let allow_symlinks = s.bool("allow_symlinks")?;
    let recorded = s.opt_array("ignore_paths")?;
    let ignore_paths_recorded = recorded.is_some();
    let listed: &[Node<'_>] = match recorded {
        Some(listed) => {
            at_most("ignore paths", listed.len, limits.ignore_paths)?;
            &listed.items
        }
        None => &[],
    };
    let mut ignore_paths = Vec::with_capacity(listed.len());
    for (i, p) in listed.iter().enumerate() {
        let Node::Str(p) = p else {
            return Err(PayloadError::Serialization(
                SerializationError::IgnorePathNotAString(i),
            ));
        };
        let rel = RelPath::parse(p)
            .map_err(|e| PayloadError::Serialization(SerializationError::IgnorePath(e)))?;
        ignore_paths.push(rel.to_string());
    }
    ignore_paths.sort();
    ignore_paths.dedup();
    Ok(Serialization {
        method,
        hash_type,
        allow_symlinks,
        ignore_paths,
        ignore_paths_recorded,
    })
}

fn parse_digest(
    name: &str,
    hex_digest: &str,
    algorithm: HashAlgorithm,
) -> Result<Vec<u8>, PayloadError> {
    let bad = |reason: String| PayloadError::Digest {
        name: shorten(name, 120),
        reason,
    };
    if !hex_digest
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad("not lowercase hexadecimal".into()));
    }
    let bytes = hex::decode(hex_digest).map_err(|e| bad(e.to_string()))?;
    if bytes.len() != algorithm.digest_len() {
        return Err(bad(format!(
            "{} bytes, but {} digests are {} bytes",
            bytes.len(),
            algorithm,
            algorithm.digest_len()
        )));
    }
    Ok(bytes)
}

/// Reads a signed payload: the statement and predicate types, exactly one
/// subject, the serialization, every resource name and digest, and the subject
/// digest recomputed over the resources in listed order. At most
/// [`MAX_RESOURCES`](crate::limits::MAX_RESOURCES) resources and
/// [`MAX_IGNORE_PATHS`](crate::limits::MAX_IGNORE_PATHS) ignore paths are
/// accepted.
///
/// The payload is read twice without building a tree of it: once for
/// everything but the resources (which are only counted), then once more
/// handing each resource, in turn, to the checks that turn it into its key
/// and digest. Memory is the result's, allocated once the count is known.
pub fn parse_statement(payload_type: &str, payload: &[u8]) -> Result<SignedManifest, PayloadError> {
    parse_statement_with_limits(payload_type, payload, &Limits::default())
}

/// What the first read of a statement keeps: the resource list (or, for
/// legacy statements, the subject list) is only counted.
fn statement_shape(limits: &Limits) -> Shape {
    let s = || Shape::Scalar;
    Shape::object([
        ("_type", s()),
        ("predicateType", s()),
        ("subject", Shape::array(1, subject_shape())),
        (
            "predicate",
            Shape::object([
                (
                    "serialization",
                    Shape::object([
                        ("method", s()),
                        ("hash_type", s()),
                        ("shard_size", s()),
                        ("allow_symlinks", s()),
                        ("ignore_paths", Shape::array(limits.ignore_paths, s())),
                    ]),
                ),
                ("resources", Shape::array(0, s())),
            ]),
        ),
    ])
}

fn subject_shape() -> Shape {
    Shape::object([
        ("name", Shape::Scalar),
        ("digest", Shape::object([("sha256", Shape::Scalar)])),
    ])
}

fn resource_shape() -> Shape {
    Shape::object([
        ("name", Shape::Scalar),
        ("algorithm", Shape::Scalar),
        ("digest", Shape::Scalar),
    ])
}

/// [`parse_statement`] with other bounds.
pub fn parse_statement_with_limits(
    payload_type: &str,
    payload: &[u8],
    limits: &Limits,
) -> Result<SignedManifest, PayloadError> {
    if payload_type != crate::dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(PayloadError::PayloadType(shorten(payload_type, 80)));
    }
    let doc = parse_shaped(
        payload,
        limits.payload_bytes,
        usize::MAX,
        &statement_shape(limits),
    )?;
    let root = Obj::new(&doc, "")?;
    let ty = root.str("_type")?;
    if ty != STATEMENT_TYPE {
        return Err(PayloadError::StatementType(shorten(ty, 80)));
    }
    let predicate_type = root.str("predicateType")?;
    let subjects = root.array("subject")?;
    let mut signed = match predicate_type {
        PREDICATE_TYPE => parse_v1(payload, &root, subjects, limits),
        LEGACY_PREDICATE_TYPE => parse_legacy(payload, subjects, limits),
        other => Err(PayloadError::PredicateType(shorten(other, 80))),
    }?;
    signed.statement_digest = {
        use sha2::Digest as _;
        sha2::Sha256::digest(payload).into()
    };
    Ok(signed)
}

fn subject_digest(subject: &Obj<'_>) -> Result<String, PayloadError> {
    let dp = subject.path_of("digest");
    let digest = subject.obj("digest", &dp)?;
    let sha = digest.str("sha256")?;
    Ok(sha.to_owned())
}

/// Hands each item of the array at `path` to `each`, one at a time.
fn stream<'a>(
    payload: &'a [u8],
    path: &[&'static str],
    item: &Shape,
    each: &mut dyn FnMut(usize, Node<'a>) -> Result<(), PayloadError>,
) -> Result<(), PayloadError> {
    for_each_item(payload, path, item, each).map_err(|e| match e {
        ItemError::Json(e) => PayloadError::Json(e),
        ItemError::Item(e) => e,
    })
}

/// The position of the first resource whose key an earlier one already has.
/// Keys listed in signing order (what signers write) are checked in one
/// pass; others are sorted by index.
fn first_duplicate(keys: &[ResourceKey]) -> Option<usize> {
    if keys.windows(2).all(|w| w[0] < w[1]) {
        return None;
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]).then(a.cmp(&b)));
    order
        .windows(2)
        .filter(|w| keys[w[0]] == keys[w[1]])
        .map(|w| w[1])
        .min()
}

fn parse_v1(
    payload: &[u8],
    root: &Obj<'_>,
    subjects: &Array<'_>,
    limits: &Limits,
) -> Result<SignedManifest, PayloadError> {
    let [subject] = subjects.items.as_slice() else {
        return Err(PayloadError::SubjectCount(subjects.len));
    };
    if subjects.len != 1 {
        return Err(PayloadError::SubjectCount(subjects.len));
    }
    let subject = Obj::new(subject, "subject[0]")?;
    let model_name = subject.opt_str("name")?.unwrap_or_default().to_owned();
    let expected_root = subject_digest(&subject)?;

    let pred_path = root.path_of("predicate");
    let pred = root.obj("predicate", &pred_path)?;
    let serialization = parse_serialization(&pred, limits)?;
    let expected_algorithm = serialization.resource_algorithm();
    let count = pred.array("resources")?.len;
    if count == 0 {
        return Err(PayloadError::NoResources);
    }
    at_most("resources", count, limits.resources)?;
    let mut resources = Vec::with_capacity(count);
    let mut keys = Vec::with_capacity(count);
    stream(
        payload,
        &["predicate", "resources"],
        &resource_shape(),
        &mut |i, node| {
            let rp = format!("predicate.resources[{i}]");
            let r = Obj::new(&node, &rp)?;
            let name = r.str("name")?;
            let algorithm = r.str("algorithm")?;
            if algorithm != expected_algorithm {
                return Err(PayloadError::Algorithm {
                    name: shorten(name, 120),
                    found: shorten(algorithm, 60),
                    expected: expected_algorithm.clone(),
                });
            }
            let key = parse_resource_name(name, serialization.method)?;
            let digest = parse_digest(name, r.str("digest")?, serialization.hash_type)?;
            resources.push(Resource {
                name: key.to_string(),
                algorithm: algorithm.to_owned(),
                digest,
            });
            keys.push(key);
            Ok(())
        },
    )?;
    if let Some(i) = first_duplicate(&keys) {
        return Err(PayloadError::DuplicateResource(shorten(
            &resources[i].name,
            120,
        )));
    }
    // `.` names the model itself: a single file, hashed whole or in shards
    // (`.:0:N`, `.:N:2N`, ...). It cannot sit beside named files.
    if keys.iter().any(ResourceKey::is_single_file) && !keys.iter().all(ResourceKey::is_single_file)
    {
        return Err(name_error(
            ".",
            "the single-file name `.` appears beside other resources",
        ));
    }
    let manifest = Manifest {
        model_name,
        serialization,
        resources,
    };
    let actual = manifest.root_digest_hex();
    if actual != expected_root {
        return Err(PayloadError::RootDigest {
            expected: shorten(&expected_root, 80),
            actual,
        });
    }
    Ok(SignedManifest {
        manifest,
        keys,
        root_digest: actual,
        legacy: false,
        statement_digest: [0; 32],
    })
}

fn parse_legacy(
    payload: &[u8],
    subjects: &Array<'_>,
    limits: &Limits,
) -> Result<SignedManifest, PayloadError> {
    if subjects.len == 0 {
        return Err(PayloadError::NoResources);
    }
    at_most("resources", subjects.len, limits.resources)?;
    let mut resources = Vec::with_capacity(subjects.len);
    let mut keys = Vec::with_capacity(subjects.len);
    stream(payload, &["subject"], &subject_shape(), &mut |i, node| {
        let sp = format!("subject[{i}]");
        let s = Obj::new(&node, &sp)?;
        let name = s.str("name")?;
        let key = parse_resource_name(name, Method::Files)?;
        let digest = parse_digest(name, &subject_digest(&s)?, HashAlgorithm::Sha256)?;
        resources.push(Resource {
            name: key.to_string(),
            algorithm: "sha256".into(),
            digest,
        });
        keys.push(key);
        Ok(())
    })?;
    if let Some(i) = first_duplicate(&keys) {
        return Err(PayloadError::DuplicateResource(shorten(
            &resources[i].name,
            120,
        )));
    }
    let manifest = Manifest {
        model_name: String::new(),
        serialization: Serialization {
            method: Method::Files,
            hash_type: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: Vec::new(),
            ignore_paths_recorded: false,
        },
        resources,
    };
    let root_digest = manifest.root_digest_hex();
    Ok(SignedManifest {
        manifest,
        keys,
        root_digest,
        legacy: true,
        statement_digest: [0; 32],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_no_directory_entry_can_have_are_refused() {
        for bad in ["", ".", "..", "a/", "/a", "a//b", "a/./b", "a/../b", "a\0b"] {
            assert!(parse_path(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "a/b", "d/.hidden", "a\\b", "a b/c:d", "\u{e9}/x"] {
            assert_eq!(parse_path(good).expect(good).join("/"), good);
        }
    }
    use model_signing_hash::HashConfig;

    fn manifest() -> Manifest {
        let config = HashConfig::new();
        Manifest::from_digests(
            "m".into(),
            &config,
            vec![
                model_signing_hash::ResourceDigest {
                    key: ResourceKey::from_path("a", None).expect("valid"),
                    digest: vec![1; 32],
                },
                model_signing_hash::ResourceDigest {
                    key: ResourceKey::from_path("b/c", None).expect("valid"),
                    digest: vec![2; 32],
                },
            ],
        )
    }

    #[test]
    fn round_trip() {
        let m = manifest();
        let payload = build_statement(&m);
        let parsed = parse_statement(crate::dsse::IN_TOTO_PAYLOAD_TYPE, &payload).expect("parse");
        assert_eq!(parsed.manifest, m);
        assert!(!parsed.legacy);
        assert_eq!(parsed.keys[1].components().collect::<Vec<_>>(), ["b", "c"]);
    }

    fn mutated(f: impl FnOnce(&mut Value)) -> Result<SignedManifest, PayloadError> {
        let mut v: Value = serde_json::from_slice(&build_statement(&manifest())).expect("json");
        f(&mut v);
        parse_statement(crate::dsse::IN_TOTO_PAYLOAD_TYPE, v.to_string().as_bytes())
    }

    #[test]
    fn rejects() {
        use PayloadError as E;
        assert!(matches!(
            mutated(|v| v["_type"] = json!("x")),
            Err(E::StatementType(_))
        ));
        assert!(matches!(
            mutated(|v| v["predicateType"] = json!("https://example.com/p")),
            Err(E::PredicateType(_))
        ));
        assert!(matches!(
            mutated(|v| {
                let s = v["subject"][0].clone();
                v["subject"] = json!([s.clone(), s]);
            }),
            Err(E::SubjectCount(2))
        ));
        assert!(matches!(
            mutated(|v| v["subject"] = json!([])),
            Err(E::SubjectCount(0))
        ));
        assert!(matches!(
            mutated(|v| v["predicate"]["resources"] = json!([])),
            Err(E::NoResources)
        ));
        assert!(matches!(
            mutated(|v| v["predicate"]["resources"][0]["digest"] = json!("01".repeat(31))),
            Err(E::Digest { .. })
        ));
        assert!(matches!(
            mutated(|v| v["predicate"]["resources"][0]["digest"] = json!("0A".repeat(32))),
            Err(E::Digest { .. })
        ));
        assert!(matches!(
            mutated(|v| v["predicate"]["resources"][0]["algorithm"] = json!("blake3")),
            Err(E::Algorithm { .. })
        ));
        assert!(matches!(
            mutated(|v| v["predicate"]["resources"][1]["name"] = json!("a")),
            Err(E::DuplicateResource(_))
        ));
        for bad in [
            "../x",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "",
            "./a",
            "a/",
            "a\u{0}",
        ] {
            assert!(
                matches!(
                    mutated(|v| v["predicate"]["resources"][0]["name"] = json!(bad)),
                    Err(E::ResourceName { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            mutated(|v| v["predicate"]["resources"][0]["digest"] = json!("03".repeat(32))),
            Err(E::RootDigest { .. })
        ));
        assert!(matches!(
            mutated(|v| v["predicate"]["serialization"]["method"] = json!("tensors")),
            Err(E::Serialization(_))
        ));
        assert!(matches!(
            mutated(|v| v["predicate"]["serialization"]["ignore_paths"] = json!(["../x"])),
            Err(E::Serialization(_))
        ));
        assert!(
            mutated(|v| v["predicate"]["serialization"]["allow_symlinks"] = json!("no")).is_err()
        );
        assert!(parse_statement("text/plain", &build_statement(&manifest())).is_err());
    }

    #[test]
    fn shard_names() {
        let m = Method::Shards {
            shard_size: std::num::NonZeroU64::new(4).expect("nonzero"),
        };
        let k = parse_resource_name("a:b:4:8", m).expect("valid");
        assert_eq!(k.path(), "a:b");
        assert_eq!(k.range, Some((4, 8)));
        assert!(parse_resource_name(".:0:3", m)
            .expect("valid")
            .is_single_file());
        for bad in [
            "a:4",
            "a:04:8",
            "a:4:4",
            "a:8:4",
            "a:1:4",
            "a:0:5",
            "a:+0:4",
            "a:0:-4",
            ":0:4",
            "a:0:99999999999999999999999",
        ] {
            assert!(parse_resource_name(bad, m).is_err(), "{bad}");
        }
    }

    fn with_names(names: &[&str]) -> Result<SignedManifest, PayloadError> {
        mutated(|v| {
            let r = v["predicate"]["resources"][0].clone();
            let list: Vec<Value> = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let mut r = r.clone();
                    r["name"] = json!(n);
                    r["digest"] = json!(format!("{i:02x}").repeat(32));
                    r
                })
                .collect();
            v["predicate"]["resources"] = json!(list);
            let digests: Vec<u8> = (0..names.len())
                .flat_map(|i| vec![u8::try_from(i).expect("small"); 32])
                .collect();
            v["subject"][0]["digest"]["sha256"] =
                json!(hex::encode(model_signing_hash::root_digest([
                    digests.as_slice()
                ])));
        })
    }

    #[test]
    fn resources_in_any_order_are_read_in_listed_order() {
        let m = with_names(&["z", "a/b", "a"]).expect("any order");
        let names: Vec<&str> = m
            .manifest
            .resources
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["z", "a/b", "a"]);
        assert_eq!(m.keys[1].path(), "a/b");
    }

    #[test]
    fn duplicates_are_found_whatever_the_order() {
        for names in [
            &["a", "b", "a"][..],
            &["b", "a", "b"],
            &["c", "b", "a", "a"],
            &["x/y", "x", "x/y"],
        ] {
            match with_names(names) {
                Err(PayloadError::DuplicateResource(n)) => assert!(names.contains(&n.as_str())),
                other => panic!("{names:?}: {other:?}"),
            }
        }
        let e = with_names(&["d", "c", "c", "d"]).expect_err("two duplicates");
        assert_eq!(
            e,
            PayloadError::DuplicateResource("c".into()),
            "the first one listed"
        );
    }

    #[test]
    fn a_bad_resource_deep_in_the_list_is_named_by_its_index() {
        let mut names = vec!["n"; 0];
        let owned: Vec<String> = (0..50).map(|i| format!("f{i:03}")).collect();
        names.extend(owned.iter().map(String::as_str));
        names[37] = "../up";
        match with_names(&names) {
            Err(PayloadError::ResourceName { name, .. }) => assert_eq!(name, "../up"),
            other => panic!("{other:?}"),
        }
        let e =
            mutated(|v| v["predicate"]["resources"][1]["digest"] = json!(7)).expect_err("mistyped");
        assert_eq!(
            e.to_string(),
            "malformed payload: field `predicate.resources[1].digest` must be a string, found a number"
        );
    }

    /// The statement as the whole-tree printer writes it.
    fn statement_as_a_tree(manifest: &Manifest) -> Vec<u8> {
        let resources: Vec<Value> = manifest
            .resources
            .iter()
            .map(|r| json!({"name": r.name, "algorithm": r.algorithm, "digest": hex::encode(&r.digest)}))
            .collect();
        let statement = json!({
            "_type": STATEMENT_TYPE,
            "subject": [{"name": manifest.model_name, "digest": {"sha256": manifest.root_digest_hex()}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "serialization": serde_json::to_value(&manifest.serialization).expect("json"),
                "resources": resources,
            },
        });
        let mut out = crate::json::to_pretty_ordered(&statement, &KEY_ORDER);
        out.push('\n');
        out.into_bytes()
    }

    #[test]
    fn statements_are_written_as_the_tree_printer_writes_them() {
        let mut m = manifest();
        assert_eq!(build_statement(&m), statement_as_a_tree(&m));
        m.model_name = "with \"quotes\" and \\ and \u{1} and é".into();
        m.resources[0].name = "back\\slash \"q\" \n é/x:1:2".into();
        assert_eq!(build_statement(&m), statement_as_a_tree(&m));
        m.serialization.method = Method::Shards {
            shard_size: std::num::NonZeroU64::new(8).expect("nonzero"),
        };
        m.serialization.ignore_paths = vec!["a".into(), "b/c".into()];
        assert_eq!(build_statement(&m), statement_as_a_tree(&m));
        m.resources.truncate(1);
        assert_eq!(build_statement(&m), statement_as_a_tree(&m));
        m.resources.clear();
        assert_eq!(build_statement(&m), statement_as_a_tree(&m));
    }
}

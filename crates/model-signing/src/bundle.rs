//! The Sigstore bundle (`model.sig`) that carries a model signature.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::dsse::Envelope;
use crate::json::{parse_shaped, JsonError, Node, Obj, Shape, MAX_ESCAPED_STRING};
use crate::limits::Limits;
pub use crate::limits::{
    MAX_BUNDLE_BYTES, MAX_CERTIFICATE_BYTES, MAX_FIELD_BYTES, MAX_PROOF_HASHES,
};

/// The media type written for every new signature.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Media types accepted when reading.
pub const KNOWN_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    BUNDLE_V03_MEDIA_TYPE,
];

/// Why a bundle could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The JSON is malformed, has duplicate keys, or a field is missing or mistyped.
    #[error("malformed bundle: {0}")]
    Json(JsonError),
    /// The `mediaType` is not a Sigstore bundle type this tool knows.
    #[error("unknown bundle media type {0:?}")]
    UnknownMediaType(String),
    /// A base64 field does not decode.
    #[error("malformed bundle: field `{field}` is not valid base64")]
    Base64 {
        /// JSON path of the field.
        field: String,
    },
    /// The envelope does not carry exactly one signature.
    #[error("the DSSE envelope carries {0} signatures; exactly one is required")]
    SignatureCount(usize),
    /// Not a DSSE envelope (for example a message signature).
    #[error("the bundle carries no DSSE envelope{0}")]
    NoEnvelope(&'static str),
    /// `verificationMaterial` holds none or several of the known kinds.
    #[error("malformed bundle: verificationMaterial must hold exactly one of publicKey, x509CertificateChain or certificate (found: {0})")]
    MaterialKind(String),
    /// A required value is empty.
    #[error("malformed bundle: field `{0}` is empty")]
    Empty(String),
    /// More certificates, log entries or timestamps than accepted.
    #[error("malformed bundle: {count} {what}; at most {limit} are accepted")]
    TooMany {
        /// What: `certificates in x509CertificateChain`, `transparency log
        /// entries` or `RFC 3161 timestamps`.
        what: &'static str,
        /// How many the bundle holds.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The signature file cannot be opened or read ([`Bundle::read`]).
    #[error("cannot read signature {}: {message}", path.display())]
    Io {
        /// The signature file.
        path: PathBuf,
        /// What kind of I/O error.
        kind: std::io::ErrorKind,
        /// The error's text.
        message: String,
    },
    /// The signature path is a directory, FIFO, socket or device
    /// ([`Bundle::read`]).
    #[error("cannot read signature {}: it is not a regular file", path.display())]
    NotAFile {
        /// The signature path.
        path: PathBuf,
    },
}

impl BundleError {
    /// [`ErrorKind::Environment`](crate::ErrorKind::Environment) when the file could not be read at all,
    /// else [`ErrorKind::Malformed`](crate::ErrorKind::Malformed).
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            BundleError::Io { .. } | BundleError::NotAFile { .. } => crate::ErrorKind::Environment,
            _ => crate::ErrorKind::Malformed,
        }
    }
}

impl From<JsonError> for BundleError {
    fn from(e: JsonError) -> Self {
        BundleError::Json(e)
    }
}

/// Who signed, as the bundle says (not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationMaterial {
    /// A public key, identified by `hint` (current) or carried as PEM in
    /// `rawBytes` with `keyDetails` (bundles from releases v0.3.1 to v1.0.x).
    PublicKey {
        /// Lowercase hex SHA-256 of the signer's public key PEM.
        hint: Option<String>,
        /// The PEM bytes of older bundles.
        raw_bytes: Option<Vec<u8>>,
        /// The key type of older bundles, like `PKIX_ECDSA_P384_SHA_384`.
        key_details: Option<String>,
    },
    /// The signing certificate followed by its chain, DER.
    X509CertificateChain(Vec<Vec<u8>>),
    /// A single certificate, DER (Sigstore keyless signing).
    Certificate(Vec<u8>),
}

impl VerificationMaterial {
    /// `publicKey`, `x509CertificateChain` or `certificate`.
    pub fn kind(&self) -> &'static str {
        match self {
            VerificationMaterial::PublicKey { .. } => "publicKey",
            VerificationMaterial::X509CertificateChain(_) => "x509CertificateChain",
            VerificationMaterial::Certificate(_) => "certificate",
        }
    }
}

/// A parsed bundle. The signature is not checked by parsing.
///
/// Only the fields of the Sigstore bundle format are kept: unknown fields are
/// skipped while the document is read, never stored, and never reach a
/// verifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The bundle's media type (one of [`KNOWN_MEDIA_TYPES`]).
    pub media_type: String,
    /// The signer's key or certificates.
    pub material: VerificationMaterial,
    /// Transparency log entries (their known fields, as JSON; interpreted by
    /// Sigstore verification).
    pub tlog_entries: Vec<Value>,
    /// `timestampVerificationData` (its known fields, as JSON), if any.
    pub timestamp_data: Option<Value>,
    /// The signed envelope.
    pub envelope: Envelope,
}

/// What of a bundle document is read: the fields of the Sigstore bundle
/// format (v0.1 to v0.3), with their counts bounded by `limits`.
fn bundle_shape(limits: &Limits) -> Shape {
    let s = || Shape::Scalar;
    let cert = || Shape::object([("rawBytes", s())]);
    let tlog_entry = Shape::object([
        ("logIndex", s()),
        ("logId", Shape::object([("keyId", s())])),
        (
            "kindVersion",
            Shape::object([("kind", s()), ("version", s())]),
        ),
        ("integratedTime", s()),
        (
            "inclusionPromise",
            Shape::object([("signedEntryTimestamp", s())]),
        ),
        (
            "inclusionProof",
            Shape::object([
                ("logIndex", s()),
                ("rootHash", s()),
                ("treeSize", s()),
                ("hashes", Shape::array(MAX_PROOF_HASHES, s())),
                ("checkpoint", Shape::object([("envelope", s())])),
            ]),
        ),
        ("canonicalizedBody", s()),
    ]);
    Shape::object([
        ("mediaType", s()),
        (
            "verificationMaterial",
            Shape::object([
                (
                    "publicKey",
                    Shape::object([("hint", s()), ("rawBytes", s()), ("keyDetails", s())]),
                ),
                (
                    "x509CertificateChain",
                    Shape::object([(
                        "certificates",
                        Shape::array(limits.chain_certificates, cert()),
                    )]),
                ),
                ("certificate", cert()),
                ("tlogEntries", Shape::array(limits.tlog_entries, tlog_entry)),
                (
                    "timestampVerificationData",
                    Shape::object([(
                        "rfc3161Timestamps",
                        Shape::array(limits.timestamps, Shape::object([("signedTimestamp", s())])),
                    )]),
                ),
            ]),
        ),
        (
            "dsseEnvelope",
            Shape::object([
                ("payload", s()),
                ("payloadType", s()),
                (
                    "signatures",
                    Shape::array(1, Shape::object([("sig", s()), ("keyid", s())])),
                ),
            ]),
        ),
        (
            "messageSignature",
            Shape::object([
                (
                    "messageDigest",
                    Shape::object([("algorithm", s()), ("digest", s())]),
                ),
                ("signature", s()),
            ]),
        ),
    ])
}

/// The longest string accepted at `path` of a bundle: the payload is bounded
/// by the bundle size alone, a certificate by [`MAX_CERTIFICATE_BYTES`],
/// anything else by [`MAX_FIELD_BYTES`].
fn field_bound(path: &str) -> usize {
    if path == "dsseEnvelope.payload" {
        usize::MAX
    } else if path.starts_with("verificationMaterial.x509CertificateChain.certificates")
        || path == "verificationMaterial.certificate.rawBytes"
    {
        MAX_CERTIFICATE_BYTES
    } else {
        MAX_FIELD_BYTES
    }
}

/// Reads a bundle document under the shape of the Sigstore bundle format:
/// the known fields only, their strings borrowed from `bytes`, every string
/// and array within its bound. What the verifiers of this library and of
/// Sigstore are given is made of these fields alone.
pub fn read_known_fields<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Node<'a>, BundleError> {
    let node = parse_shaped(
        bytes,
        limits.bundle_bytes,
        MAX_ESCAPED_STRING,
        &bundle_shape(limits),
    )?;
    Ok(node)
}

/// The arrays whose length the reader of a bundle checks itself, with an
/// error of its own: certificates, log entries and timestamps.
pub const COUNTED_ARRAYS: [&str; 3] = [
    "verificationMaterial.x509CertificateChain.certificates",
    "verificationMaterial.tlogEntries",
    "verificationMaterial.timestampVerificationData.rfc3161Timestamps",
];

/// Checks a document read with [`read_known_fields`]: every string within
/// its bound ([`MAX_CERTIFICATE_BYTES`], [`MAX_FIELD_BYTES`]; the payload
/// within the bundle size), and no array longer than its bound but the
/// [`COUNTED_ARRAYS`], whose lengths the caller checks.
pub fn check_known_fields(doc: &Node<'_>) -> Result<(), BundleError> {
    doc.check_bounds("", &field_bound, &|path| COUNTED_ARRAYS.contains(&path))?;
    Ok(())
}

/// The length of the array at `path` (keys from the root) in a document
/// read with [`read_known_fields`]; 0 when absent or not an array.
pub fn array_len(doc: &Node<'_>, path: &[&str]) -> usize {
    let mut node = doc;
    for key in path {
        let Node::Object(fields) = node else {
            return 0;
        };
        match fields.iter().find(|(k, _)| k == key) {
            Some((_, v)) => node = v,
            None => return 0,
        }
    }
    match node {
        Node::Array(a) => a.len,
        _ => 0,
    }
}

fn b64(o: &Obj<'_>, key: &str) -> Result<Vec<u8>, BundleError> {
    let text = o.str(key)?;
    if text.is_empty() {
        return Err(BundleError::Empty(o.path_of(key)));
    }
    STANDARD.decode(text).map_err(|_| BundleError::Base64 {
        field: o.path_of(key),
    })
}

fn at_most(what: &'static str, count: usize, limit: usize) -> Result<(), BundleError> {
    if count > limit {
        return Err(BundleError::TooMany { what, count, limit });
    }
    Ok(())
}

impl Bundle {
    /// Reads a bundle, strictly: unknown media types, duplicate JSON keys, bad
    /// base64 and anything but exactly one DSSE signature are rejected, and so
    /// are bundles over [`MAX_BUNDLE_BYTES`] or with more than
    /// [`MAX_CHAIN_CERTIFICATES`](crate::limits::MAX_CHAIN_CERTIFICATES)
    /// certificates, [`MAX_TLOG_ENTRIES`](crate::limits::MAX_TLOG_ENTRIES) log
    /// entries or [`MAX_TIMESTAMPS`](crate::limits::MAX_TIMESTAMPS)
    /// timestamps, a certificate over [`MAX_CERTIFICATE_BYTES`], an inclusion
    /// proof of more than [`MAX_PROOF_HASHES`] hashes, or any other string
    /// but the payload over [`MAX_FIELD_BYTES`].
    ///
    /// Memory: the decoded payload (three quarters of its base64 text) and
    /// the other fields, whose total the bounds above keep to a few MiB; no
    /// tree of the document is built, and unknown fields are skipped unread.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
        Self::from_json_with_limits(bytes, &Limits::default())
    }

    /// Reads and parses the signature file at `path`, with the default
    /// [`Limits`]: a file over [`crate::limits::MAX_BUNDLE_BYTES`] is refused
    /// from its size before a byte is read (and the read stops there if it
    /// grows), and anything but a regular file (a FIFO shipped beside a
    /// model, a device, a directory) is refused without blocking.
    pub fn read(path: &Path) -> Result<Self, BundleError> {
        use std::os::unix::fs::OpenOptionsExt;
        let io = |e: std::io::Error| BundleError::Io {
            path: path.to_owned(),
            kind: e.kind(),
            message: e.to_string(),
        };
        let limit = crate::limits::MAX_BUNDLE_BYTES;
        let too_large = |size: u64| {
            BundleError::Json(JsonError::TooLarge {
                size: usize::try_from(size).unwrap_or(usize::MAX),
                limit,
            })
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(BundleError::NotAFile {
                path: path.to_owned(),
            });
        }
        if meta.len() > limit as u64 {
            return Err(too_large(meta.len()));
        }
        let bytes = crate::limits::read_bounded(file, limit as u64, meta.len())
            .map_err(io)?
            .ok_or_else(|| too_large(limit as u64 + 1))?;
        Self::from_json(&bytes)
    }

    /// [`from_json`](Self::from_json) with other bounds.
    pub fn from_json_with_limits(bytes: &[u8], limits: &Limits) -> Result<Self, BundleError> {
        let doc = read_known_fields(bytes, limits)?;
        let root = Obj::new(&doc, "")?;
        let media_type = root.str("mediaType")?;
        if !KNOWN_MEDIA_TYPES.contains(&media_type) {
            return Err(BundleError::UnknownMediaType(crate::json::shorten(
                media_type, 80,
            )));
        }

        let vm_path = root.path_of("verificationMaterial");
        let vm = root.obj("verificationMaterial", &vm_path)?;
        let present: Vec<&str> = ["publicKey", "x509CertificateChain", "certificate"]
            .into_iter()
            .filter(|k| vm.get(k).is_some())
            .collect();
        if present.len() != 1 {
            return Err(BundleError::MaterialKind(if present.is_empty() {
                "none".to_owned()
            } else {
                present.join(", ")
            }));
        }
        at_most(
            "certificates in x509CertificateChain",
            array_len(
                &doc,
                &[
                    "verificationMaterial",
                    "x509CertificateChain",
                    "certificates",
                ],
            ),
            limits.chain_certificates,
        )?;
        let tlog_entries = vm.opt_array("tlogEntries")?;
        at_most(
            "transparency log entries",
            tlog_entries.map_or(0, |a| a.len),
            limits.tlog_entries,
        )?;
        let timestamp_data = vm.get("timestampVerificationData");
        at_most(
            "RFC 3161 timestamps",
            array_len(
                &doc,
                &[
                    "verificationMaterial",
                    "timestampVerificationData",
                    "rfc3161Timestamps",
                ],
            ),
            limits.timestamps,
        )?;
        let signatures = array_len(&doc, &["dsseEnvelope", "signatures"]);
        if signatures > 1 {
            return Err(BundleError::SignatureCount(signatures));
        }
        // Every string and array within its bound before anything is decoded.
        check_known_fields(&doc)?;

        let material = match present[0] {
            "publicKey" => {
                let p = vm.path_of("publicKey");
                let pk = vm.obj("publicKey", &p)?;
                let hint = pk.opt_str("hint")?.map(str::to_owned);
                let raw_bytes = if pk.get("rawBytes").is_some() {
                    Some(b64(&pk, "rawBytes")?)
                } else {
                    None
                };
                let key_details = pk.opt_str("keyDetails")?.map(str::to_owned);
                if hint.is_none() && raw_bytes.is_none() {
                    return Err(BundleError::Json(JsonError::Missing(format!("{p}.hint"))));
                }
                VerificationMaterial::PublicKey {
                    hint,
                    raw_bytes,
                    key_details,
                }
            }
            "x509CertificateChain" => {
                let p = vm.path_of("x509CertificateChain");
                let chain = vm.obj("x509CertificateChain", &p)?;
                let certs = chain.array("certificates")?;
                if certs.len == 0 {
                    return Err(BundleError::Empty(chain.path_of("certificates")));
                }
                let mut out = Vec::with_capacity(certs.items.len());
                for (i, c) in certs.items.iter().enumerate() {
                    let cp = format!("{}[{i}]", chain.path_of("certificates"));
                    out.push(b64(&Obj::new(c, &cp)?, "rawBytes")?);
                }
                VerificationMaterial::X509CertificateChain(out)
            }
            _ => {
                let p = vm.path_of("certificate");
                let cert = vm.obj("certificate", &p)?;
                VerificationMaterial::Certificate(b64(&cert, "rawBytes")?)
            }
        };
        let tlog_entries = tlog_entries
            .map(|a| a.items.iter().map(Node::to_value).collect())
            .unwrap_or_default();
        let timestamp_data = timestamp_data.map(Node::to_value);

        if root.get("dsseEnvelope").is_none() {
            return Err(BundleError::NoEnvelope(
                if root.get("messageSignature").is_some() {
                    " (it holds a message signature; model signatures are DSSE envelopes)"
                } else {
                    ""
                },
            ));
        }
        if root.get("messageSignature").is_some() {
            return Err(BundleError::MaterialKind(
                "both dsseEnvelope and messageSignature".to_owned(),
            ));
        }
        let env_path = root.path_of("dsseEnvelope");
        let env = root.obj("dsseEnvelope", &env_path)?;
        let payload_type = env.str("payloadType")?.to_owned();
        let sigs = env.array("signatures")?;
        let [sig] = sigs.items.as_slice() else {
            return Err(BundleError::SignatureCount(sigs.len));
        };
        let sig_path = format!("{}[0]", env.path_of("signatures"));
        let sig_obj = Obj::new(sig, &sig_path)?;
        let signature = b64(&sig_obj, "sig")?;
        let keyid = sig_obj.opt_str("keyid")?.map(str::to_owned);
        // Last: the one large field.
        let payload = b64(&env, "payload")?;

        Ok(Bundle {
            media_type: media_type.to_owned(),
            material,
            tlog_entries,
            timestamp_data,
            envelope: Envelope {
                payload,
                payload_type,
                signature,
                keyid,
            },
        })
    }

    /// A new v0.3 bundle for key or certificate signatures (no log entries).
    pub fn new(material: VerificationMaterial, envelope: Envelope) -> Self {
        Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
            material,
            tlog_entries: Vec::new(),
            timestamp_data: None,
            envelope,
        }
    }

    /// The bundle as JSON with the payload left empty (`""`): what a
    /// verifier that is handed the payload bytes separately reads, without
    /// a second base64 copy of a large payload.
    pub fn to_json_without_payload(&self) -> String {
        self.to_value(false).to_string()
    }

    fn to_value(&self, with_payload: bool) -> Value {
        let material = match &self.material {
            VerificationMaterial::PublicKey {
                hint,
                raw_bytes,
                key_details,
            } => {
                let mut pk = serde_json::Map::new();
                if let Some(h) = hint {
                    pk.insert("hint".into(), json!(h));
                }
                if let Some(r) = raw_bytes {
                    pk.insert("rawBytes".into(), json!(STANDARD.encode(r)));
                }
                if let Some(k) = key_details {
                    pk.insert("keyDetails".into(), json!(k));
                }
                ("publicKey", Value::Object(pk))
            }
            VerificationMaterial::X509CertificateChain(certs) => (
                "x509CertificateChain",
                json!({ "certificates": certs.iter().map(|c| json!({"rawBytes": STANDARD.encode(c)})).collect::<Vec<_>>() }),
            ),
            VerificationMaterial::Certificate(c) => {
                ("certificate", json!({"rawBytes": STANDARD.encode(c)}))
            }
        };
        let mut vm = serde_json::Map::new();
        vm.insert(material.0.into(), material.1);
        vm.insert(
            "tlogEntries".into(),
            Value::Array(self.tlog_entries.clone()),
        );
        if let Some(t) = &self.timestamp_data {
            vm.insert("timestampVerificationData".into(), t.clone());
        }
        json!({
            "mediaType": self.media_type,
            "verificationMaterial": Value::Object(vm),
            "dsseEnvelope": {
                "payload": if with_payload { PAYLOAD_MARKER } else { "" },
                "payloadType": self.envelope.payload_type,
                "signatures": [{
                    "sig": STANDARD.encode(&self.envelope.signature),
                    "keyid": self.envelope.keyid.clone().unwrap_or_default(),
                }],
            },
        })
    }

    /// The bundle as pretty-printed JSON with a fixed key order, newline-terminated.
    ///
    /// The base64 text of the payload is written straight into the output,
    /// which is the only copy of it made.
    pub fn to_json(&self) -> String {
        let mut s = self.with_payload(to_pretty(&self.to_value(true)));
        s.push('\n');
        s
    }

    /// The bundle as compact JSON on one line (no newline at the end), as
    /// a line of a JSON Lines file holds it.
    pub fn to_json_line(&self) -> String {
        let text = serde_json::to_string(&self.to_value(true)).unwrap_or_default();
        self.with_payload(text)
    }

    /// `text` with the payload marker replaced by the base64 payload.
    fn with_payload(&self, text: String) -> String {
        let marker = Value::from(PAYLOAD_MARKER).to_string();
        let (before, after) = text.split_at(text.find(&marker).unwrap_or(text.len()));
        let after = after.get(marker.len()..).unwrap_or_default();
        let mut s = String::with_capacity(
            text.len() + base64::encoded_len(self.envelope.payload.len(), true).unwrap_or(0) + 1,
        );
        s.push_str(before);
        s.push('"');
        STANDARD.encode_string(&self.envelope.payload, &mut s);
        s.push('"');
        s.push_str(after);
        s
    }
}

/// Stands for the payload in the tree that [`Bundle::to_json`] prints; no
/// JSON string escapes to its quoted form.
const PAYLOAD_MARKER: &str = "\u{0}payload\u{0}";

/// Keys in the order the Sigstore bundle schema lists them.
const KEY_ORDER: [&str; 17] = [
    "mediaType",
    "verificationMaterial",
    "publicKey",
    "x509CertificateChain",
    "certificate",
    "certificates",
    "hint",
    "rawBytes",
    "keyDetails",
    "tlogEntries",
    "timestampVerificationData",
    "dsseEnvelope",
    "payload",
    "payloadType",
    "signatures",
    "sig",
    "keyid",
];

fn to_pretty(v: &Value) -> String {
    crate::json::to_pretty_ordered(v, &KEY_ORDER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_refuses_what_is_not_a_readable_regular_file_within_the_bound() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("model.sig");
        std::fs::write(&good, sample().to_json()).expect("write");
        assert_eq!(
            Bundle::read(&good).expect("reads").to_json(),
            sample().to_json()
        );
        // Missing: an I/O error naming the file.
        let missing = dir.path().join("missing.sig");
        let e = Bundle::read(&missing).expect_err("missing");
        assert!(
            matches!(&e, BundleError::Io { path, kind: std::io::ErrorKind::NotFound, .. } if *path == missing),
            "{e:?}"
        );
        assert!(e.to_string().contains("missing.sig"), "{e}");
        // A directory and a FIFO (opened without blocking): not regular files.
        assert!(matches!(
            Bundle::read(dir.path()),
            Err(BundleError::NotAFile { .. })
        ));
        let fifo = dir.path().join("fifo.sig");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.expect("mkfifo runs").success());
        assert!(matches!(
            Bundle::read(&fifo),
            Err(BundleError::NotAFile { .. })
        ));
        // Over the bound: refused from its size (a sparse file: nothing is read).
        let big = dir.path().join("big.sig");
        let f = std::fs::File::create(&big).expect("create");
        f.set_len(crate::limits::MAX_BUNDLE_BYTES as u64 + 1)
            .expect("sparse");
        assert!(matches!(
            Bundle::read(&big),
            Err(BundleError::Json(JsonError::TooLarge { .. }))
        ));
        // Malformed content: the parser's error.
        std::fs::write(&big, b"{").expect("write");
        assert!(matches!(Bundle::read(&big), Err(BundleError::Json(_))));
    }

    fn sample() -> Bundle {
        Bundle::new(
            VerificationMaterial::PublicKey {
                hint: Some("ab".into()),
                raw_bytes: None,
                key_details: None,
            },
            Envelope {
                payload: b"{}".to_vec(),
                payload_type: crate::dsse::IN_TOTO_PAYLOAD_TYPE.into(),
                signature: vec![1, 2, 3],
                keyid: None,
            },
        )
    }

    #[test]
    fn round_trip_and_key_order() {
        let b = sample();
        let text = b.to_json();
        let positions: Vec<usize> = [
            "mediaType",
            "verificationMaterial",
            "hint",
            "tlogEntries",
            "dsseEnvelope",
            "payload\"",
            "payloadType",
            "signatures",
            "sig\"",
            "keyid",
        ]
        .iter()
        .map(|k| text.find(k).unwrap_or(usize::MAX))
        .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        let back = Bundle::from_json(text.as_bytes()).expect("parse");
        assert_eq!(
            back.envelope,
            Envelope {
                keyid: Some(String::new()),
                ..b.envelope.clone()
            }
        );
        assert_eq!(back.material, b.material);
    }

    fn mutate(f: impl FnOnce(&mut Value)) -> Result<Bundle, BundleError> {
        let mut v: Value = serde_json::from_str(&sample().to_json()).expect("json");
        f(&mut v);
        Bundle::from_json(v.to_string().as_bytes())
    }

    #[test]
    fn rejects_malformed() {
        assert!(matches!(
            mutate(|v| v["mediaType"] = json!("application/json")),
            Err(BundleError::UnknownMediaType(_))
        ));
        assert!(matches!(
            mutate(|v| v["dsseEnvelope"]["signatures"] = json!([])),
            Err(BundleError::SignatureCount(0))
        ));
        assert!(matches!(
            mutate(|v| {
                let s = v["dsseEnvelope"]["signatures"][0].clone();
                v["dsseEnvelope"]["signatures"] = json!([s.clone(), s]);
            }),
            Err(BundleError::SignatureCount(2))
        ));
        assert!(matches!(
            mutate(|v| v["dsseEnvelope"]["payload"] = json!("@@@")),
            Err(BundleError::Base64 { .. })
        ));
        assert!(matches!(
            mutate(|v| v["dsseEnvelope"]["payload"] = json!("e30")),
            Err(BundleError::Base64 { .. })
        ));
        assert!(mutate(|v| v["dsseEnvelope"]["signatures"][0]["sig"] = json!("")).is_err());
        assert!(mutate(|v| v["dsseEnvelope"]["payloadType"] = json!(3)).is_err());
        assert!(matches!(
            mutate(|v| v["verificationMaterial"]["certificate"] = json!({"rawBytes": "AQ=="})),
            Err(BundleError::MaterialKind(_))
        ));
        assert!(matches!(
            mutate(|v| v["verificationMaterial"] = json!({"tlogEntries": []})),
            Err(BundleError::MaterialKind(_))
        ));
        assert!(matches!(
            mutate(|v| {
                v.as_object_mut().map(|o| o.remove("dsseEnvelope"));
            }),
            Err(BundleError::NoEnvelope(_))
        ));
        assert!(mutate(|v| v["verificationMaterial"]["publicKey"] = json!({})).is_err());
        let dup =
            sample()
                .to_json()
                .replacen("\"mediaType\"", "\"mediaType\": \"x\", \"mediaType\"", 1);
        assert!(matches!(
            Bundle::from_json(dup.as_bytes()),
            Err(BundleError::Json(JsonError::Syntax(_)))
        ));
        assert!(Bundle::from_json(b"").is_err());
        assert!(Bundle::from_json(b"[]").is_err());
    }

    fn edited(f: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut v: Value = serde_json::from_str(&sample().to_json()).expect("json");
        f(&mut v);
        v.to_string().into_bytes()
    }

    fn entry() -> Value {
        json!({
            "logIndex": "1",
            "logId": {"keyId": "AAAA"},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"},
            "integratedTime": "1700000000",
            "inclusionProof": {"logIndex": "1", "rootHash": "AAAA", "treeSize": "2",
                               "hashes": ["AAAA"], "checkpoint": {"envelope": "cp"}},
            "canonicalizedBody": "e30=",
        })
    }

    #[test]
    fn unknown_fields_are_dropped_wherever_they_are() {
        let bytes = edited(|v| {
            v["x"] = json!(vec![0; 10_000]);
            v["verificationMaterial"]["y"] = json!({"z": [1, 2, 3]});
            let mut e = entry();
            e["unknown"] = json!("a".repeat(1000));
            e["inclusionProof"]["extra"] = json!([[1]]);
            v["verificationMaterial"]["tlogEntries"] = json!([e]);
            v["verificationMaterial"]["timestampVerificationData"] =
                json!({"rfc3161Timestamps": [{"signedTimestamp": "AAAA", "w": 1}], "v": 2});
            v["dsseEnvelope"]["signatures"][0]["other"] = json!(true);
        });
        let b = Bundle::from_json(&bytes).expect("reads");
        assert_eq!(b.tlog_entries, [entry()]);
        assert_eq!(
            b.timestamp_data,
            Some(json!({"rfc3161Timestamps": [{"signedTimestamp": "AAAA"}]}))
        );
        let written = b.to_json();
        for unknown in [
            "\"x\"", "\"y\"", "unknown", "extra", "\"w\"", "\"v\"", "other",
        ] {
            assert!(!written.contains(unknown), "{unknown} in {written}");
        }
        let without: Value = serde_json::from_str(&b.to_json_without_payload()).expect("json");
        assert_eq!(without["dsseEnvelope"]["payload"], "");
        assert_eq!(
            without["verificationMaterial"]["tlogEntries"],
            json!([entry()])
        );
    }

    #[test]
    fn fields_over_their_bound_are_refused_before_decoding() {
        let long_cert = "A".repeat(MAX_CERTIFICATE_BYTES + 4);
        let cases: [(Vec<u8>, &str); 5] = [
            (
                edited(|v| {
                    v["verificationMaterial"] = json!({"certificate": {"rawBytes": long_cert}})
                }),
                "verificationMaterial.certificate.rawBytes",
            ),
            (
                edited(|v| {
                    v["dsseEnvelope"]["signatures"][0]["sig"] =
                        json!("A".repeat(MAX_FIELD_BYTES + 4))
                }),
                "dsseEnvelope.signatures[0].sig",
            ),
            (
                edited(|v| {
                    v["verificationMaterial"]["publicKey"]["hint"] =
                        json!("a".repeat(MAX_FIELD_BYTES + 1))
                }),
                "verificationMaterial.publicKey.hint",
            ),
            (
                edited(|v| {
                    let mut e = entry();
                    e["canonicalizedBody"] = json!("A".repeat(MAX_FIELD_BYTES + 4));
                    v["verificationMaterial"]["tlogEntries"] = json!([e]);
                }),
                "verificationMaterial.tlogEntries[0].canonicalizedBody",
            ),
            (
                edited(|v| {
                    let mut e = entry();
                    e["inclusionProof"]["hashes"] = json!(vec!["AAAA"; MAX_PROOF_HASHES + 1]);
                    v["verificationMaterial"]["tlogEntries"] = json!([e]);
                }),
                "verificationMaterial.tlogEntries[0].inclusionProof.hashes",
            ),
        ];
        for (bytes, path) in cases {
            match Bundle::from_json(&bytes) {
                Err(BundleError::Json(JsonError::Invalid { path: p, .. })) => assert_eq!(p, path),
                other => panic!("{path}: {other:?}"),
            }
        }
        // At the bounds.
        let mut e = entry();
        e["inclusionProof"]["hashes"] = json!(vec!["AAAA"; MAX_PROOF_HASHES]);
        e["canonicalizedBody"] = json!("A".repeat(MAX_FIELD_BYTES));
        Bundle::from_json(&edited(|v| {
            v["verificationMaterial"]["tlogEntries"] = json!([e])
        }))
        .expect("at the bounds");
    }

    #[test]
    fn a_long_payload_with_escape_sequences_is_refused() {
        let payload = STANDARD.encode(vec![0xffu8; 3 * MAX_ESCAPED_STRING]);
        let escaped = payload.replace('/', "\\/");
        assert!(escaped.len() > payload.len(), "the payload has a `/`");
        let text = String::from_utf8(edited(|v| v["dsseEnvelope"]["payload"] = json!("PAYLOAD")))
            .expect("utf-8");
        let e =
            Bundle::from_json(text.replace("PAYLOAD", &escaped).as_bytes()).expect_err("escaped");
        assert!(e.to_string().contains("escape sequences"), "{e}");
        // Unescaped, or escaped but short, it reads.
        let b = Bundle::from_json(text.replace("PAYLOAD", &payload).as_bytes()).expect("plain");
        assert_eq!(b.envelope.payload.len(), 3 * MAX_ESCAPED_STRING);
        let b = Bundle::from_json(text.replace("PAYLOAD", "e30\\u003d").as_bytes()).expect("short");
        assert_eq!(b.envelope.payload, b"{}");
    }

    #[test]
    fn the_document_is_refused_before_it_is_read_when_too_deep() {
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let bytes = edited(|v| v["unknown"] = json!("DEEP"));
        let text = String::from_utf8(bytes)
            .expect("utf-8")
            .replace("\"DEEP\"", &deep);
        let e = Bundle::from_json(text.as_bytes()).expect_err("too deep");
        assert!(
            e.to_string().contains("nesting deeper than 32 levels"),
            "{e}"
        );
    }

    #[test]
    fn the_payload_is_written_in_place_of_its_marker() {
        let mut b = sample();
        for payload in [Vec::new(), b"{}".to_vec(), vec![0xfb; 1000]] {
            b.envelope.payload = payload;
            let mut tree = b.to_value(true);
            tree["dsseEnvelope"]["payload"] = json!(STANDARD.encode(&b.envelope.payload));
            assert_eq!(b.to_json(), format!("{}\n", to_pretty(&tree)));
        }
    }
}

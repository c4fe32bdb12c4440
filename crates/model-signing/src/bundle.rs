//! The Sigstore bundle (`model.sig`) that carries a model signature.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::dsse::Envelope;
use crate::json::{parse_strict, JsonError, Obj};
use crate::limits::Limits;
pub use crate::limits::MAX_BUNDLE_BYTES;

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
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The bundle's media type (one of [`KNOWN_MEDIA_TYPES`]).
    pub media_type: String,
    /// The signer's key or certificates.
    pub material: VerificationMaterial,
    /// Transparency log entries, as raw JSON (interpreted by Sigstore verification).
    pub tlog_entries: Vec<Value>,
    /// `timestampVerificationData`, as raw JSON, if any.
    pub timestamp_data: Option<Value>,
    /// The signed envelope.
    pub envelope: Envelope,
    /// The whole document as read.
    pub raw: Value,
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
    /// entries or [`MAX_TIMESTAMPS`](crate::limits::MAX_TIMESTAMPS) timestamps.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
        Self::from_json_with_limits(bytes, &Limits::default())
    }

    /// [`from_json`](Self::from_json) with other bounds.
    pub fn from_json_with_limits(bytes: &[u8], limits: &Limits) -> Result<Self, BundleError> {
        let raw = parse_strict(bytes, limits.bundle_bytes)?;
        let root = Obj::new(&raw, "")?;
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
                if certs.is_empty() {
                    return Err(BundleError::Empty(chain.path_of("certificates")));
                }
                at_most(
                    "certificates in x509CertificateChain",
                    certs.len(),
                    limits.chain_certificates,
                )?;
                let mut out = Vec::with_capacity(certs.len());
                for (i, c) in certs.iter().enumerate() {
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
        let tlog_entries = vm.opt_array("tlogEntries")?;
        at_most(
            "transparency log entries",
            tlog_entries.len(),
            limits.tlog_entries,
        )?;
        let tlog_entries = tlog_entries.to_vec();
        let timestamp_data = vm.get("timestampVerificationData").cloned();
        let timestamps = timestamp_data
            .as_ref()
            .and_then(|t| t.get("rfc3161Timestamps"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        at_most("RFC 3161 timestamps", timestamps, limits.timestamps)?;

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
        let payload = b64(&env, "payload")?;
        let payload_type = env.str("payloadType")?.to_owned();
        let sigs = env.array("signatures")?;
        if sigs.len() != 1 {
            return Err(BundleError::SignatureCount(sigs.len()));
        }
        let sig_path = format!("{}[0]", env.path_of("signatures"));
        let sig_obj = Obj::new(&sigs[0], &sig_path)?;
        let signature = b64(&sig_obj, "sig")?;
        let keyid = sig_obj.opt_str("keyid")?.map(str::to_owned);

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
            raw,
        })
    }

    /// A new v0.3 bundle for key or certificate signatures (no log entries).
    pub fn new(material: VerificationMaterial, envelope: Envelope) -> Self {
        let mut b = Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
            material,
            tlog_entries: Vec::new(),
            timestamp_data: None,
            envelope,
            raw: Value::Null,
        };
        b.raw = b.to_value();
        b
    }

    fn to_value(&self) -> Value {
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
                "payload": STANDARD.encode(&self.envelope.payload),
                "payloadType": self.envelope.payload_type,
                "signatures": [{
                    "sig": STANDARD.encode(&self.envelope.signature),
                    "keyid": self.envelope.keyid.clone().unwrap_or_default(),
                }],
            },
        })
    }

    /// The bundle as pretty-printed JSON with a fixed key order, newline-terminated.
    pub fn to_json(&self) -> String {
        let mut s = to_pretty(&self.to_value());
        s.push('\n');
        s
    }
}

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
}

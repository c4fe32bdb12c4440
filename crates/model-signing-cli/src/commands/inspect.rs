//! `model-signing inspect`: what a signature says, without verifying it.

use std::path::PathBuf;

use anyhow::Context;

use model_signing::bundle::VerificationMaterial;
use model_signing::statement::parse_statement;
use model_signing::timestamp::{bundle_timestamps, Timestamp};
use model_signing::x509::Certificate;
use serde::Serialize;
use serde_json::Value;

use crate::cli::InspectArgs;
use crate::commands::report::{HashingJson, JSON_VERSION};
use crate::commands::verify::read_bundle;
use crate::exit;
use crate::printer::Printer;
use model_signing::text::rfc3339;

#[derive(Serialize)]
struct CertJson {
    subject: String,
    issuer: String,
    fingerprint: String,
    not_before: String,
    not_after: String,
    subject_alt_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oidc_issuer: Option<String>,
}

impl CertJson {
    fn of(der: &[u8]) -> Option<Self> {
        let c = Certificate::from_der(der).ok()?;
        Some(CertJson {
            subject: c.subject(),
            issuer: c.issuer(),
            fingerprint: c.fingerprint_sha256(),
            not_before: rfc3339(c.not_before()),
            not_after: rfc3339(c.not_after()),
            subject_alt_names: c.subject_alt_names(),
            oidc_issuer: oidc_issuer(&c),
        })
    }
}

/// The OIDC issuer Fulcio recorded, when it can be read (inspect shows what
/// it can; verification refuses what is ambiguous).
fn oidc_issuer(c: &Certificate) -> Option<String> {
    model_signing_sigstore::oidc_issuer(c).ok().flatten()
}

/// What the signature carries to identify its signer, unverified (the JSON
/// `signer` of `inspect`): the raw material with the details of each
/// certificate, not who signed (that is [`super::report::SignerJson`], which
/// `sign` and `verify` print).
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum MaterialJson {
    Key {
        hint: Option<String>,
        key_details: Option<String>,
        public_key_pem: Option<String>,
    },
    Certificate {
        chain: Vec<Option<CertJson>>,
    },
    Sigstore {
        certificate: Option<CertJson>,
    },
}

#[derive(Serialize)]
struct LogEntryJson {
    log_index: Option<String>,
    integrated_time: Option<String>,
    kind: Option<String>,
}

/// An RFC 3161 timestamp, unverified.
#[derive(Serialize)]
struct TimestampJson {
    /// Its time, or `null` when it cannot be read.
    time: Option<String>,
    /// Its serial number (hex).
    serial: Option<String>,
    /// The subject of the signer certificate it embeds.
    signer: Option<String>,
    /// Whether it is over this signature's bytes.
    covers_signature: bool,
    /// Why it cannot be read, if it cannot.
    error: Option<String>,
}

#[derive(Serialize)]
struct ResourceJson {
    name: String,
    algorithm: String,
    digest: String,
}

#[derive(Serialize)]
struct InspectJson {
    version: u32,
    verified: bool,
    signature: String,
    media_type: String,
    method: &'static str,
    signer: MaterialJson,
    log_entries: Vec<LogEntryJson>,
    timestamps: usize,
    timestamp_details: Vec<TimestampJson>,
    predicate_type: &'static str,
    model_name: String,
    digest: String,
    hashing: HashingJson,
    resource_count: usize,
    resources: Vec<ResourceJson>,
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn run(args: InspectArgs, printer: &Printer) -> anyhow::Result<u8> {
    let path: PathBuf = args.signature;
    let (label, bundle) = match super::oci::parse(&path)? {
        Some(reference) => super::oci::inspect_signature(&reference, &args.oci, printer)?,
        None => (path.display().to_string(), read_bundle(&path)?),
    };
    let manifest = parse_statement(&bundle.envelope.payload_type, &bundle.envelope.payload)
        .map_err(model_signing::verify::VerifyError::Payload)
        .with_context(|| format!("invalid signature {label}"))?;
    let (method, signer) = match &bundle.material {
        VerificationMaterial::PublicKey {
            hint,
            raw_bytes,
            key_details,
        } => (
            "key",
            MaterialJson::Key {
                // Signatures before 1.1 carry the key instead of its hint:
                // show the hint it has, the identifier signing and verify use.
                hint: hint.clone().or_else(|| {
                    let pem = std::str::from_utf8(raw_bytes.as_deref()?).ok()?;
                    Some(model_signing::keys::PublicKey::from_pem(pem).ok()?.hint())
                }),
                key_details: key_details.clone(),
                public_key_pem: raw_bytes
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
            },
        ),
        VerificationMaterial::X509CertificateChain(certs) => (
            "certificate",
            MaterialJson::Certificate {
                chain: certs.iter().map(|c| CertJson::of(c)).collect(),
            },
        ),
        VerificationMaterial::Certificate(c) => (
            // Without a log entry: the Go implementation's certificate
            // signature without a chain.
            if bundle.tlog_entries.is_empty() {
                "certificate"
            } else {
                "sigstore"
            },
            MaterialJson::Sigstore {
                certificate: CertJson::of(c),
            },
        ),
    };
    let log_entries: Vec<LogEntryJson> = bundle
        .tlog_entries
        .iter()
        .map(|e| LogEntryJson {
            log_index: str_field(e, "logIndex"),
            integrated_time: str_field(e, "integratedTime")
                .and_then(|t| t.parse::<i64>().ok())
                .map(rfc3339),
            kind: e.get("kindVersion").and_then(|k| str_field(k, "kind")),
        })
        .collect();
    let timestamps = bundle
        .timestamp_data
        .as_ref()
        .and_then(|t| t.get("rfc3161Timestamps"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let timestamp_details: Vec<TimestampJson> = match bundle_timestamps(&bundle) {
        Err(e) => vec![TimestampJson {
            time: None,
            serial: None,
            signer: None,
            covers_signature: false,
            error: Some(e.to_string()),
        }],
        Ok(ders) => ders
            .iter()
            .enumerate()
            .map(|(i, der)| {
                match Timestamp::from_der(der, &format!("timestamp {} of {}", i + 1, ders.len())) {
                    Ok(t) => TimestampJson {
                        time: Some(rfc3339(t.time())),
                        serial: Some(t.serial().to_owned()),
                        signer: t.embedded_signer().map(|c| c.subject()),
                        covers_signature: t.covers(&bundle.envelope.signature),
                        error: None,
                    },
                    Err(e) => TimestampJson {
                        time: None,
                        serial: None,
                        signer: None,
                        covers_signature: false,
                        error: Some(e.to_string()),
                    },
                }
            })
            .collect(),
    };
    let m = &manifest.manifest;
    let doc = InspectJson {
        version: JSON_VERSION,
        verified: false,
        signature: label,
        media_type: bundle.media_type.clone(),
        method,
        signer,
        log_entries,
        timestamps,
        timestamp_details,
        predicate_type: if manifest.legacy {
            model_signing::statement::LEGACY_PREDICATE_TYPE
        } else {
            model_signing::statement::PREDICATE_TYPE
        },
        model_name: m.model_name.clone(),
        digest: format!("sha256:{}", manifest.root_digest),
        hashing: HashingJson::from(&m.serialization),
        resource_count: m.resources.len(),
        resources: m
            .resources
            .iter()
            .map(|r| ResourceJson {
                name: r.name.clone(),
                algorithm: r.algorithm.clone(),
                digest: hex::encode(&r.digest),
            })
            .collect(),
    };
    if args.json {
        printer.out_json(&doc)?;
        return Ok(exit::SUCCESS);
    }
    let mut lines = vec![
        "UNVERIFIED: this is what the signature claims; nothing has been checked (use `verify`)."
            .to_owned(),
        format!("signature:    {}", doc.signature),
        format!("media type:   {}", doc.media_type),
        format!("method:       {}", doc.method),
    ];
    match &doc.signer {
        MaterialJson::Key {
            hint, key_details, ..
        } => {
            lines.push(format!(
                "signer:       public key{}{}",
                hint.as_ref()
                    .map(|h| format!(", hint {h}"))
                    .unwrap_or_default(),
                key_details
                    .as_ref()
                    .map(|k| format!(", {k}"))
                    .unwrap_or_default()
            ));
        }
        MaterialJson::Certificate { chain } => {
            for (i, c) in chain.iter().enumerate() {
                let label = if i == 0 {
                    "signer:      "
                } else {
                    "chain:       "
                };
                match c {
                    Some(c) => lines.push(format!(
                        "{label} {} (issuer {}, sha256:{}, valid {} to {})",
                        c.subject, c.issuer, c.fingerprint, c.not_before, c.not_after
                    )),
                    None => lines.push(format!("{label} (unparsable certificate)")),
                }
            }
        }
        MaterialJson::Sigstore { certificate } => match certificate {
            Some(c) => lines.push(format!(
                "signer:       {} (issuer {}), certificate valid {} to {}",
                c.subject_alt_names.join(", "),
                c.oidc_issuer.as_deref().unwrap_or("unknown"),
                c.not_before,
                c.not_after
            )),
            None => lines.push("signer:       (unparsable certificate)".to_owned()),
        },
    }
    for e in &doc.log_entries {
        lines.push(format!(
            "log entry:    index {}, {} at {}",
            e.log_index.as_deref().unwrap_or("?"),
            e.kind.as_deref().unwrap_or("?"),
            e.integrated_time.as_deref().unwrap_or("?")
        ));
    }
    for t in &doc.timestamp_details {
        match (&t.time, &t.error) {
            (Some(time), _) => lines.push(format!(
                "timestamp:    {time} by {} (serial {}){}",
                t.signer
                    .as_deref()
                    .unwrap_or("a signer whose certificate it does not carry"),
                t.serial.as_deref().unwrap_or("?"),
                if t.covers_signature {
                    ""
                } else {
                    ", NOT over this signature"
                }
            )),
            (None, error) => lines.push(format!(
                "timestamp:    unreadable: {}",
                error.as_deref().unwrap_or("?")
            )),
        }
    }
    let h = &doc.hashing;
    lines.push(format!("predicate:    {}", doc.predicate_type));
    lines.push(format!("model name:   {}", doc.model_name));
    lines.push(format!("digest:       {}", doc.digest));
    lines.push(format!(
        "hashing:      {} {}{}, symlinks {}",
        h.method,
        h.hash,
        h.shard_size
            .map(|s| format!(", shard size {s}"))
            .unwrap_or_default(),
        if h.allow_symlinks {
            "followed"
        } else {
            "refused"
        }
    ));
    lines.push(format!(
        "ignore paths: {}",
        if h.ignore_paths.is_empty() {
            "(none)".to_owned()
        } else {
            h.ignore_paths.join(", ")
        }
    ));
    lines.push(format!("resources ({}):", doc.resource_count));
    for r in &doc.resources {
        lines.push(format!("  {}  {}  {}", r.digest, r.algorithm, r.name));
    }
    for l in lines {
        // Each line is one line: untrusted fields cannot start another.
        printer.out(&model_signing::text::escape(&l));
    }
    Ok(exit::SUCCESS)
}

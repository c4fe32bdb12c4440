//! JSON documents printed by `--json` (see docs/json.md). Every document has a
//! `version` field; fields are only ever added within a version.

use model_signing::hashing::Method;
use model_signing::verify::{DiffReport, Signer};
use model_signing::Serialization;
use serde::Serialize;

/// Version of every `--json` document.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct HashingJson {
    pub method: &'static str,
    pub hash: &'static str,
    pub shard_size: Option<u64>,
    pub ignore_paths: Vec<String>,
    pub allow_symlinks: bool,
}

impl From<&Serialization> for HashingJson {
    fn from(s: &Serialization) -> Self {
        HashingJson {
            method: s.method.name(),
            hash: s.hash_type.name(),
            shard_size: match s.method {
                Method::Files => None,
                Method::Shards { shard_size } => Some(shard_size.get()),
            },
            ignore_paths: s.ignore_paths.clone(),
            allow_symlinks: s.allow_symlinks,
        }
    }
}

#[derive(Serialize)]
pub struct PathEntryJson {
    pub subject: String,
    pub fingerprint: String,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignerJson {
    Key {
        hint: String,
        algorithm: String,
    },
    Certificate {
        subject: String,
        fingerprint: String,
        path: Vec<PathEntryJson>,
    },
    Sigstore {
        identity: String,
        issuer: String,
    },
}

impl From<&Signer> for SignerJson {
    fn from(s: &Signer) -> Self {
        match s {
            Signer::Key { hint, algorithm } => SignerJson::Key {
                hint: hint.clone(),
                algorithm: (*algorithm).to_owned(),
            },
            Signer::Certificate {
                subject,
                fingerprint,
                path,
            } => SignerJson::Certificate {
                subject: subject.clone(),
                fingerprint: fingerprint.clone(),
                path: path
                    .iter()
                    .map(|(subject, fingerprint)| PathEntryJson {
                        subject: subject.clone(),
                        fingerprint: fingerprint.clone(),
                    })
                    .collect(),
            },
            Signer::Sigstore { identity, issuer } => SignerJson::Sigstore {
                identity: identity.clone(),
                issuer: issuer.clone(),
            },
            _ => SignerJson::Key {
                hint: String::new(),
                algorithm: "unknown".into(),
            },
        }
    }
}

#[derive(Serialize)]
pub struct ChangedJson {
    pub path: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Serialize, Default)]
pub struct DifferencesJson {
    pub changed: Vec<ChangedJson>,
    pub missing: Vec<String>,
    pub unexpected: Vec<String>,
}

impl From<&DiffReport> for DifferencesJson {
    fn from(r: &DiffReport) -> Self {
        DifferencesJson {
            changed: r
                .changed
                .iter()
                .map(|c| ChangedJson {
                    path: c.name.clone(),
                    expected: c.expected.clone(),
                    actual: c.actual.clone(),
                })
                .collect(),
            missing: r.missing.clone(),
            unexpected: r.unexpected.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct ErrorJson {
    pub kind: &'static str,
    pub message: String,
}

/// The error's message with its causes, on one line.
pub fn error_message(err: &anyhow::Error) -> String {
    err.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

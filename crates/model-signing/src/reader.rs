//! Verify while loading: sequential readers of a verified signature's files
//! that hash what the caller reads and fail on the read that completes a
//! file (or a shard) whose digest differs.
//!
//! Verifying a model and then loading it reads every byte twice (once to
//! hash, once to load). A loader that reads each file once, from start to
//! end, can verify as it goes: [`Verified::<SignedManifest>::open_file`]
//! checks that the signature lists the file and opens it under the same
//! rules as verification (no link followed that the signature does not
//! allow, the file the walk saw); [`VerifyingReader`] then hashes every byte
//! it hands out. For a signature of whole files the digest is known only
//! at the end, so the read that reaches the end fails instead of returning
//! its bytes when the digest differs; for shards, the read that completes a
//! shard does. [`VerifyingReader::finish`] fails when the file was not read
//! to the end (its rest was not verified), unless the caller opts out.
//!
//! **Only for formats whose loading executes nothing**: safetensors, GGUF,
//! raw tensors, JSON, text. The bytes a reader hands out before the failing
//! read are not yet verified: a loader must treat an error as fatal and
//! discard what it built. Pickle-based formats (PyTorch `.bin`/`.pt`/`.pth`,
//! `.ckpt`, `.pkl`, joblib) run code while they are parsed, so a tampered
//! file would run its payload before the read that detects it: verify those
//! in full ([`check_model`](Verified::<SignedManifest>::check_model)) before
//! opening them.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use model_signing_hash::{walk_signed, HashAlgorithm, Hasher};

use crate::statement::SignedManifest;
use crate::verify::{ModelCheckOptions, Verified, VerifyError};
use crate::ErrorKind;

/// Why reading a file through a [`VerifyingReader`] failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The bytes read differ from the signed ones.
    #[error("{name} does not match its signature: the digest of bytes {start}..{end} differs")]
    Mismatch {
        /// The file, as the signature names it.
        name: String,
        /// The first byte of the part whose digest differs.
        start: u64,
        /// The end of that part (excluded).
        end: u64,
    },
    /// The file's size is not the signed one (shards), or it changed while
    /// it was read.
    #[error("{name} is {actual} bytes where {expected} were expected")]
    Size {
        /// The file, as the signature names it.
        name: String,
        /// The size expected (signed, or seen when the file was opened).
        expected: u64,
        /// The size found.
        actual: u64,
    },
    /// [`VerifyingReader::finish`] before the end of the file.
    #[error("{name} was read to byte {position} of {size}: the rest was not verified")]
    NotReadToEnd {
        /// The file, as the signature names it.
        name: String,
        /// How far it was read.
        position: u64,
        /// Its size.
        size: u64,
    },
    /// Reading failed.
    #[error("cannot read {name}: {message}")]
    Io {
        /// The file, as the signature names it.
        name: String,
        /// The system's message.
        message: String,
    },
}

impl ReadError {
    /// What kind of failure this is: a file that does not match,
    /// [`ErrorKind::Rejected`]; one not read to the end,
    /// [`ErrorKind::Usage`]; a read error, [`ErrorKind::Environment`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            ReadError::Mismatch { .. } | ReadError::Size { .. } => ErrorKind::Rejected,
            ReadError::NotReadToEnd { .. } => ErrorKind::Usage,
            ReadError::Io { .. } => ErrorKind::Environment,
        }
    }
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> Self {
        let kind = match e {
            ReadError::Io { .. } => io::ErrorKind::Other,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// One part of a file whose digest the signature lists.
#[derive(Debug, Clone)]
struct Part {
    start: u64,
    end: u64,
    digest: Vec<u8>,
}

/// A file of a verified signature, read sequentially while it is hashed
/// (see the [module documentation](self)). Reads fail with an
/// [`io::Error`] of kind [`io::ErrorKind::InvalidData`] wrapping a
/// [`ReadError`] once a part's digest differs, and keep failing.
#[derive(Debug)]
pub struct VerifyingReader {
    name: String,
    file: File,
    algorithm: HashAlgorithm,
    parts: Vec<Part>,
    next: usize,
    hasher: Hasher,
    position: u64,
    size: u64,
    failed: Option<ReadError>,
    allow_unread_rest: bool,
}

impl Verified<SignedManifest> {
    /// Opens the file `name` of the model at `model` (a directory; `name`
    /// as the signature lists it) for reading while verifying it. The
    /// signature must list the file ([`VerifyError::NotSigned`]); it is
    /// found and opened under the rules of [`check_model`](Self::check_model)
    /// with `options` (hashing as the signature prescribes, links followed
    /// only where the signature allows). A signature of shards must list
    /// the file's shards from its first byte to its last, and the file must
    /// have their total size.
    pub fn open_file(
        &self,
        model: &Path,
        name: &str,
        options: &ModelCheckOptions,
    ) -> Result<VerifyingReader, VerifyError> {
        if model.is_file() {
            return Err(VerifyError::PartialSingleFile);
        }
        let mut parts: Vec<Part> = self
            .value()
            .keys
            .iter()
            .zip(&self.value().manifest.resources)
            .filter(|(k, _)| k.path() == name && !name.is_empty())
            .map(|(k, r)| {
                let (start, end) = k.range.unwrap_or((0, u64::MAX));
                Part {
                    start,
                    end,
                    digest: r.digest.clone(),
                }
            })
            .collect();
        if parts.is_empty() {
            return Err(VerifyError::NotSigned {
                paths: vec![name.to_owned()],
            });
        }
        parts.sort_by_key(|p| (p.start, p.end));
        let mut expected = 0;
        for part in &parts {
            if part.start != expected || part.end < part.start {
                return Err(VerifyError::NotSigned {
                    paths: vec![format!(
                        "{name} (its shards do not cover it from its first byte to its last)"
                    )],
                });
            }
            expected = part.end;
        }
        let config = self
            .hash_config(options)?
            .contain_links_in_hf_snapshot(model);
        let files = walk_signed(model, &config, [name]).map_err(VerifyError::Hash)?;
        let Some(entry) = files.entries().iter().find(|e| e.name() == name) else {
            return Err(VerifyError::ModelMismatch(Box::new(
                crate::verify::DiffReport {
                    missing: parts
                        .iter()
                        .map(|p| match p.end {
                            u64::MAX => name.to_owned(),
                            end => format!("{name}:{}:{end}", p.start),
                        })
                        .collect(),
                    ..Default::default()
                },
            )));
        };
        let file = entry.open().map_err(VerifyError::Hash)?;

        let size = entry.size();
        let whole = parts.len() == 1 && parts[0].end == u64::MAX;
        let algorithm = self.value().manifest.serialization.hash_type;
        let mut reader = VerifyingReader {
            name: name.to_owned(),
            file,
            algorithm,
            parts,
            next: 0,
            hasher: Hasher::new(algorithm),
            position: 0,
            size,
            failed: None,
            allow_unread_rest: false,
        };
        if whole {
            reader.parts[0].end = size;
        } else if expected != size {
            return Err(VerifyError::FileSize {
                name: name.to_owned(),
                expected,
                actual: size,
            });
        }
        Ok(reader)
    }
}

impl VerifyingReader {
    /// The file, as the signature names it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How many bytes are left to read.
    pub fn remaining(&self) -> u64 {
        self.size - self.position
    }

    /// How many bytes were read.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Whether every part read so far matched and the whole file was read:
    /// only then were all its bytes verified.
    pub fn is_verified(&self) -> bool {
        self.failed.is_none() && self.next == self.parts.len()
    }

    /// Lets [`finish`](Self::finish) succeed when the file was not read to
    /// the end: for a loader that needs only its beginning. What was not
    /// read was not verified; a part that was read only in part was not
    /// verified either.
    pub fn allow_unread_rest(&mut self) {
        self.allow_unread_rest = true;
    }

    /// Ends the reading: fails when a part did not match, when the file
    /// grew, or when it was not read to the end (unless
    /// [`allow_unread_rest`](Self::allow_unread_rest)).
    pub fn finish(mut self) -> Result<(), ReadError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.position < self.size {
            if self.allow_unread_rest {
                return Ok(());
            }
            return Err(ReadError::NotReadToEnd {
                name: self.name.clone(),
                position: self.position,
                size: self.size,
            });
        }
        // At the end: complete an empty file's part and make sure nothing
        // was appended.
        let mut probe = [0u8; 1];
        match self.read(&mut probe) {
            Ok(0) => Ok(()),
            Ok(_) => Err(self.failed.clone().unwrap_or_else(|| self.grew())),
            Err(e) => Err(self.failed.clone().unwrap_or(ReadError::Io {
                name: self.name.clone(),
                message: e.to_string(),
            })),
        }
    }

    fn grew(&self) -> ReadError {
        ReadError::Size {
            name: self.name.clone(),
            expected: self.size,
            actual: self.size + 1,
        }
    }

    fn fail(&mut self, e: ReadError) -> io::Error {
        self.failed = Some(e.clone());
        e.into()
    }

    /// Completes the parts that end at the current position.
    fn complete_parts(&mut self) -> Result<(), io::Error> {
        while let Some(part) = self.parts.get(self.next) {
            if part.end != self.position {
                break;
            }
            let hasher = std::mem::replace(&mut self.hasher, Hasher::new(self.algorithm));
            if hasher.finalize() != part.digest {
                let e = ReadError::Mismatch {
                    name: self.name.clone(),
                    start: part.start,
                    end: part.end,
                };
                return Err(self.fail(e));
            }
            self.next += 1;
        }
        Ok(())
    }
}

impl Read for VerifyingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(e.clone().into());
        }
        let remaining = self.size - self.position;
        if remaining == 0 || buf.is_empty() {
            self.complete_parts()?;
            if remaining == 0 && !buf.is_empty() {
                // Nothing may follow the size the file had when opened.
                let n = self.file.read(&mut buf[..1])?;
                if n > 0 {
                    let e = self.grew();
                    return Err(self.fail(e));
                }
            }
            return Ok(0);
        }
        let want = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            let e = ReadError::Size {
                name: self.name.clone(),
                expected: self.size,
                actual: self.position,
            };
            return Err(self.fail(e));
        }
        let mut done = 0;
        while done < n {
            let end = self.parts.get(self.next).map_or(self.size, |p| p.end);
            let take = usize::try_from(end - self.position).map_or(n - done, |t| t.min(n - done));
            self.hasher.update(&buf[done..done + take]);
            self.position += take as u64;
            done += take;
            self.complete_parts()?;
        }
        Ok(n)
    }
}

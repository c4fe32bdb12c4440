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
//! Each reader reads its file on a thread of its own, at most a few 4 MiB
//! chunks ahead of the caller (16 MiB of buffers at most), so the storage
//! reads overlap the hashing; the thread ends when the file does or when
//! the reader is dropped. Only bytes that were hashed are handed out: a
//! file changed after its bytes were read ahead is still checked against
//! what was read.
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
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

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
    /// The file's size is not the signed one (shards), or it shrank while
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
    /// The file has more bytes than its size when it was opened (the
    /// signed size): it grew while it was read. How many more is unknown:
    /// the reader stops at the first byte past the end.
    #[error("{name} grew past the {size} bytes it had when it was opened (and that the signature lists)")]
    Grew {
        /// The file, as the signature names it.
        name: String,
        /// Its size when opened, which the signature lists.
        size: u64,
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
            ReadError::Mismatch { .. } | ReadError::Size { .. } | ReadError::Grew { .. } => {
                ErrorKind::Rejected
            }
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

/// The size of a read-ahead chunk.
const CHUNK: usize = 4 << 20;

/// How many chunks the read-ahead thread may hold ready: with the one being
/// handed out and the one being read, what a reader holds in memory.
const DEPTH: usize = 2;

/// What the read-ahead thread sends.
#[derive(Debug)]
enum Chunk {
    /// The next bytes: the buffer and how much of it is filled.
    Data(Vec<u8>, usize),
    /// The file ended at the size it had when opened (`grew`: more bytes
    /// followed).
    End { grew: bool },
    /// The file ended early, at this size.
    Short(u64),
    /// Reading failed.
    Failed(String),
}

/// Reads `file` from its start, `size` bytes in chunks, then checks that
/// nothing follows; stops when the reader is gone.
fn read_ahead(mut file: File, size: u64, chunks: SyncSender<Chunk>, spare: Receiver<Vec<u8>>) {
    let mut done: u64 = 0;
    while done < size {
        let want = usize::try_from(size - done).map_or(CHUNK, |left| left.min(CHUNK));
        let mut buf = spare.try_recv().unwrap_or_default();
        if buf.len() < want {
            buf = vec![0u8; want.max(buf.len())];
        }
        let mut filled = 0;
        while filled < want {
            match file.read(&mut buf[filled..want]) {
                Ok(0) => {
                    let _ = chunks.send(Chunk::Short(done + filled as u64));
                    return;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = chunks.send(Chunk::Failed(e.to_string()));
                    return;
                }
            }
        }
        done += filled as u64;
        if chunks.send(Chunk::Data(buf, filled)).is_err() {
            return;
        }
    }
    let mut probe = [0u8; 1];
    let end = loop {
        match file.read(&mut probe) {
            Ok(n) => break Chunk::End { grew: n > 0 },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Chunk::Failed(e.to_string()),
        }
    };
    let _ = chunks.send(end);
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
    /// What the read-ahead thread read.
    chunks: Receiver<Chunk>,
    /// Buffers handed back to it.
    spare: Sender<Vec<u8>>,
    /// The chunk being handed out, and how far.
    chunk: Vec<u8>,
    chunk_len: usize,
    chunk_pos: usize,
    /// The read-ahead thread said the file ended where it should.
    ended: bool,
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
        if whole {
            parts[0].end = size;
        } else if expected != size {
            return Err(VerifyError::FileSize {
                name: name.to_owned(),
                expected,
                actual: size,
            });
        }
        // The file is read by a thread of its own, a few chunks ahead of
        // the caller, so reading overlaps hashing.
        let (chunk_tx, chunk_rx) = mpsc::sync_channel(DEPTH);
        let (spare_tx, spare_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("model-signing-read-ahead".into())
            .spawn(move || read_ahead(file, size, chunk_tx, spare_rx))
            .map_err(|source| {
                VerifyError::Hash(model_signing_hash::HashError::Io {
                    path: entry.path().to_owned(),
                    source,
                })
            })?;
        let algorithm = self.value().manifest.serialization.hash_type;
        let reader = VerifyingReader {
            name: name.to_owned(),
            chunks: chunk_rx,
            spare: spare_tx,
            chunk: Vec::new(),
            chunk_len: 0,
            chunk_pos: 0,
            ended: false,
            algorithm,
            parts,
            next: 0,
            hasher: Hasher::new(algorithm),
            position: 0,
            size,
            failed: None,
            allow_unread_rest: false,
        };
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
        ReadError::Grew {
            name: self.name.clone(),
            size: self.size,
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

impl VerifyingReader {
    /// Takes the read-ahead thread's next message: `Ok(true)` when a chunk
    /// is ready, `Ok(false)` at the end of the file.
    fn next_chunk(&mut self) -> io::Result<bool> {
        if self.ended {
            return Ok(false);
        }
        let message = self
            .chunks
            .recv()
            .unwrap_or(Chunk::Failed("the read-ahead thread stopped".to_owned()));
        match message {
            Chunk::Data(buf, len) => {
                let old = std::mem::replace(&mut self.chunk, buf);
                let _ = self.spare.send(old);
                self.chunk_len = len;
                self.chunk_pos = 0;
                Ok(true)
            }
            Chunk::End { grew: false } => {
                self.ended = true;
                Ok(false)
            }
            Chunk::End { grew: true } => {
                let e = self.grew();
                Err(self.fail(e))
            }
            Chunk::Short(actual) => {
                let e = ReadError::Size {
                    name: self.name.clone(),
                    expected: self.size,
                    actual,
                };
                Err(self.fail(e))
            }
            Chunk::Failed(message) => {
                let e = ReadError::Io {
                    name: self.name.clone(),
                    message,
                };
                Err(self.fail(e))
            }
        }
    }
}

impl Read for VerifyingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(e.clone().into());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        while self.chunk_pos == self.chunk_len {
            if !self.next_chunk()? {
                // The end: complete an empty file's (or last) part.
                self.complete_parts()?;
                return Ok(0);
            }
        }
        let n = buf.len().min(self.chunk_len - self.chunk_pos);
        let start = self.chunk_pos;
        // Hash part by part; a part that completes with another digest fails
        // this read, before its bytes are handed out.
        let mut done = 0;
        while done < n {
            let end = self.parts.get(self.next).map_or(self.size, |p| p.end);
            let take = usize::try_from(end - self.position).map_or(n - done, |t| t.min(n - done));
            self.hasher
                .update(&self.chunk[start + done..start + done + take]);
            self.position += take as u64;
            done += take;
            self.complete_parts()?;
        }
        buf[..n].copy_from_slice(&self.chunk[start..start + n]);
        self.chunk_pos += n;
        Ok(n)
    }
}

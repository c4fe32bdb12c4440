//! The OMS manifest of an OCI artifact: which layer gives which file, and
//! the digests, read from the OCI manifest or streamed from the blobs.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use model_signing::hashing::{
    HashAlgorithm, HashConfig, Hasher, Method, Progress, ResourceDigest, ResourceKey,
};
use model_signing_hash::{check_path, cmp_paths};
use sha2::{Digest, Sha256};

use crate::oci::{self, Descriptor, ImageManifest, Parsed, ANNOTATION_FILEPATH, ANNOTATION_TITLE};
use crate::{OciError, OciRef, Store, Target};

/// How layers become resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerMode {
    /// Raw layers are files, archive layers are unpacked: the manifest of
    /// the unpacked model directory.
    Files,
    /// Every layer is one resource with its blob digest, named by its
    /// title (else `layer_NNN.tar.gz`), and the config blob is
    /// `config.json`: the Go implementation's OCI manifests.
    Blobs,
}

impl LayerMode {
    /// `files` or `blobs`.
    pub fn name(self) -> &'static str {
        match self {
            LayerMode::Files => "files",
            LayerMode::Blobs => "blobs",
        }
    }
}

/// The name of the config blob's resource in [`LayerMode::Blobs`].
pub const CONFIG_RESOURCE: &str = "config.json";

/// A model manifest selected from a store.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The reference, with the manifest digest as target.
    pub reference: OciRef,
    /// The model manifest's descriptor (media type, digest, size).
    pub descriptor: Descriptor,
    /// The model manifest.
    pub manifest: ImageManifest,
    /// The image index it was chosen from, if any (its digest).
    pub index: Option<String>,
    /// Manifest bytes read to get here.
    pub manifest_bytes: u64,
}

fn describe_entry(d: &Descriptor) -> String {
    match &d.platform {
        Some(p) => format!("{} {p}", d.digest),
        None => format!("{} (no platform)", d.digest),
    }
}

/// Fetches the manifest `reference` names. An image index is refused
/// with the list of its manifests unless `platform` (`OS/ARCH[/VARIANT]`)
/// selects exactly one.
pub fn resolve(
    store: &dyn Store,
    reference: &OciRef,
    platform: Option<&str>,
) -> Result<Artifact, OciError> {
    let what = reference.to_string();
    let fetched = store.fetch_manifest(&reference.target)?;
    let mut read = fetched.bytes.len() as u64;
    match oci::parse_manifest(&fetched, &what)? {
        Parsed::Manifest(manifest, media_type) => {
            if platform.is_some() {
                return Err(OciError::Usage(format!(
                    "--platform applies to image indexes; {what} is an image manifest"
                )));
            }
            Ok(Artifact {
                reference: reference.with_target(Target::Digest(fetched.digest.clone())),
                descriptor: fetched.descriptor(&media_type),
                manifest: *manifest,
                index: None,
                manifest_bytes: read,
            })
        }
        Parsed::Index(index) => {
            let listed: Vec<String> = index.manifests.iter().map(describe_entry).collect();
            let Some(want) = platform else {
                return Err(OciError::ImageIndex {
                    reference: what,
                    manifests: listed,
                });
            };
            let mut parts = want.split('/');
            let (os, arch, variant) = (parts.next(), parts.next(), parts.next());
            if os.is_none_or(str::is_empty)
                || arch.is_none_or(str::is_empty)
                || parts.next().is_some()
            {
                return Err(OciError::Usage(format!(
                    "invalid platform {want:?}: expected OS/ARCH[/VARIANT], e.g. linux/amd64"
                )));
            }
            let chosen: Vec<&Descriptor> = index
                .manifests
                .iter()
                .filter(|d| {
                    d.platform.as_ref().is_some_and(|p| {
                        Some(p.os.as_str()) == os
                            && Some(p.architecture.as_str()) == arch
                            && (variant.is_none() || p.variant.as_deref() == variant)
                    })
                })
                .collect();
            let one =
                match chosen.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(OciError::NoPlatform {
                            reference: what,
                            platform: want.to_owned(),
                            manifests: listed,
                        })
                    }
                    many => {
                        return Err(OciError::Usage(format!(
                        "{what}: {} manifests are for platform {want}: {}; choose one by digest",
                        many.len(),
                        many.iter().map(|d| describe_entry(d)).collect::<Vec<_>>().join("; ")
                    )))
                    }
                };
            let target = Target::Digest(one.digest.clone());
            let chosen_ref = reference.with_target(target.clone());
            let fetched_one = store.fetch_manifest(&target)?;
            read += fetched_one.bytes.len() as u64;
            match oci::parse_manifest(&fetched_one, &chosen_ref.to_string())? {
                Parsed::Manifest(manifest, media_type) => Ok(Artifact {
                    reference: chosen_ref,
                    descriptor: fetched_one.descriptor(&media_type),
                    manifest: *manifest,
                    index: Some(fetched.digest),
                    manifest_bytes: read,
                }),
                Parsed::Index(_) => Err(OciError::Malformed {
                    what: chosen_ref.to_string(),
                    reason: "an image index inside an image index".into(),
                }),
            }
        }
    }
}

/// How a layer's blob is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// One file.
    Raw,
    /// A tar archive, with this compression.
    Tar(Compression),
}

/// The compression of an archive layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// None.
    None,
    /// gzip.
    Gzip,
    /// Zstandard.
    Zstd,
}

/// The layer media types understood, by the rule of [`classify`].
pub const KNOWN_LAYER_TYPES: &str = "*.raw or application/octet-stream (one file); *.tar, *.tar+gzip, *.tar.gzip, *.tar+zstd, *.tar.zstd (archives), e.g. application/vnd.cncf.model.weight.v1.raw, application/vnd.oci.image.layer.v1.tar+gzip";

/// What a layer media type says of its blob: raw (ModelPack `...v1.raw`,
/// `application/octet-stream`), a tar archive (`...tar`), gzip
/// (`...tar+gzip`, `...tar.gzip`) or Zstandard (`...tar+zstd`,
/// `...tar.zstd`); `None` for anything else.
pub fn classify(media_type: &str) -> Option<LayerKind> {
    let m = media_type.split(';').next().unwrap_or("").trim();
    if m.ends_with(".raw") || m == "application/octet-stream" {
        return Some(LayerKind::Raw);
    }
    if m.ends_with(".tar") {
        return Some(LayerKind::Tar(Compression::None));
    }
    if m.ends_with(".tar+gzip") || m.ends_with(".tar.gzip") {
        return Some(LayerKind::Tar(Compression::Gzip));
    }
    if m.ends_with(".tar+zstd") || m.ends_with(".tar.zstd") {
        return Some(LayerKind::Tar(Compression::Zstd));
    }
    None
}

fn layer_name(i: usize, d: &Descriptor) -> String {
    match d
        .annotations
        .get(ANNOTATION_FILEPATH)
        .or_else(|| d.annotations.get(ANNOTATION_TITLE))
    {
        Some(p) => format!("layer {i} ({:?})", p),
        None => format!("layer {i} ({})", d.digest),
    }
}

/// One unit of work.
enum Work<'a> {
    /// A resource whose digest the manifest gives; `check` streams the blob
    /// to confirm it (`--deep`).
    Known {
        path: String,
        digest: Vec<u8>,
        desc: &'a Descriptor,
        what: String,
        check: bool,
    },
    /// A raw layer hashed from its bytes.
    Raw {
        path: String,
        desc: &'a Descriptor,
        what: String,
    },
    /// An archive layer unpacked at the model root (under `under` if given).
    Archive {
        desc: &'a Descriptor,
        compression: Compression,
        what: String,
        under: Option<String>,
    },
}

/// The resources of an artifact, and what reading them cost.
#[derive(Debug, Clone, Default)]
pub struct OciManifestHash {
    /// The resources in signing order.
    pub digests: Vec<ResourceDigest>,
    /// Paths the ignore rules left out.
    pub left_out: Vec<String>,
    /// Blobs streamed.
    pub blobs_read: usize,
    /// Blob bytes streamed (as stored, compressed or not).
    pub blob_bytes_read: u64,
}

fn bad_path(what: &str, path: &str, reason: &str) -> OciError {
    OciError::BadPath {
        layer: what.to_owned(),
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Checks a layer or archive entry path like a resource name.
/// The longest path a layer or archive entry may give (Linux's `PATH_MAX`).
const MAX_PATH_LEN: usize = 4096;

fn checked_path(what: &str, path: &str) -> Result<String, OciError> {
    if path.len() > MAX_PATH_LEN {
        return Err(bad_path(
            what,
            &format!("{}...", path.chars().take(64).collect::<String>()),
            &format!("longer than {MAX_PATH_LEN} bytes"),
        ));
    }
    check_path(path).map_err(|e| bad_path(what, path, e.reason()))?;
    if path.ends_with('/') {
        return Err(bad_path(what, path, "ends with /"));
    }
    if path.chars().any(char::is_control) {
        return Err(bad_path(what, path, "contains a control character"));
    }
    Ok(path.to_owned())
}

/// Whether an ignore path covers `path`; the ignore path when it does.
fn ignored_by<'a>(ignore: &'a [String], path: &str) -> Option<&'a str> {
    ignore
        .iter()
        .find(|i| {
            path == i.as_str()
                || path
                    .strip_prefix(i.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
        .map(String::as_str)
}

fn blob_digest_bytes(d: &Descriptor) -> Result<Vec<u8>, OciError> {
    hex::decode(d.hex()).map_err(|_| OciError::Malformed {
        what: d.digest.clone(),
        reason: "not a hex digest".into(),
    })
}

/// Computes the OMS resources of `artifact` under `config`.
///
/// With [`LayerMode::Files`] and `files` hashing with SHA-256, raw layers
/// are not read (`deep`: read and checked against their digests); other
/// hashing reads them. Archive layers are always streamed, checked
/// against their digest and unpacked in memory. With
/// [`LayerMode::Blobs`] nothing is read unless `deep`.
pub fn hash_artifact(
    store: &dyn Store,
    artifact: &Artifact,
    config: &HashConfig,
    mode: LayerMode,
    deep: bool,
    progress: &dyn Progress,
) -> Result<OciManifestHash, OciError> {
    let ignore: Vec<String> = config
        .effective_ignore_paths()
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    let sha256_files =
        config.get_method() == Method::Files && config.get_algorithm() == HashAlgorithm::Sha256;
    let mut work: Vec<Work> = Vec::new();
    let mut left_out: Vec<String> = Vec::new();
    let layers = &artifact.manifest.layers;
    match mode {
        LayerMode::Blobs => {
            if !sha256_files {
                return Err(OciError::Usage(
                    "--oci-layers blobs signs layer digests: it needs files hashing with sha256 (the defaults)".into(),
                ));
            }
            let config_desc = &artifact.manifest.config;
            let mut entries: Vec<(String, &Descriptor, String)> = vec![(
                CONFIG_RESOURCE.to_owned(),
                config_desc,
                "the config blob".to_owned(),
            )];
            for (i, d) in layers.iter().enumerate() {
                let what = layer_name(i, d);
                let name = match d.annotations.get(ANNOTATION_TITLE) {
                    Some(t) => checked_path(&what, t)?,
                    None => format!("layer_{i:03}.tar.gz"),
                };
                entries.push((name, d, what));
            }
            for (path, desc, what) in entries {
                if let Some(i) = ignored_by(&ignore, &path) {
                    left_out.push(i.to_owned());
                    continue;
                }
                work.push(Work::Known {
                    path,
                    digest: blob_digest_bytes(desc)?,
                    desc,
                    what,
                    check: deep,
                });
            }
        }
        LayerMode::Files => {
            for (i, d) in layers.iter().enumerate() {
                let what = layer_name(i, d);
                let kind = classify(&d.media_type).ok_or_else(|| OciError::UnsupportedMediaType {
                    what: format!("{} of {}", what, artifact.reference),
                    media_type: d.media_type.clone(),
                    expected: format!("{KNOWN_LAYER_TYPES}; or sign the layers as opaque blobs with --oci-layers blobs"),
                })?;
                let annotated = d
                    .annotations
                    .get(ANNOTATION_FILEPATH)
                    .or_else(|| d.annotations.get(ANNOTATION_TITLE));
                match kind {
                    LayerKind::Raw => {
                        let Some(p) = annotated else {
                            return Err(OciError::Malformed {
                                what: format!("{what} of {}", artifact.reference),
                                reason: format!("a raw layer needs a path: annotate it with {ANNOTATION_FILEPATH} or {ANNOTATION_TITLE}"),
                            });
                        };
                        let path = checked_path(&what, p.trim_start_matches("./"))?;
                        if let Some(i) = ignored_by(&ignore, &path) {
                            left_out.push(i.to_owned());
                            continue;
                        }
                        if sha256_files {
                            work.push(Work::Known {
                                path,
                                digest: blob_digest_bytes(d)?,
                                desc: d,
                                what,
                                check: deep,
                            });
                        } else {
                            work.push(Work::Raw {
                                path,
                                desc: d,
                                what,
                            });
                        }
                    }
                    LayerKind::Tar(compression) => {
                        let under = match annotated {
                            Some(p) => {
                                let p = p.trim_start_matches("./").trim_end_matches('/');
                                if p.is_empty() || p == "." {
                                    None
                                } else {
                                    Some(checked_path(&what, p)?)
                                }
                            }
                            None => None,
                        };
                        work.push(Work::Archive {
                            desc: d,
                            compression,
                            what,
                            under,
                        });
                    }
                }
            }
        }
    }

    let total: u64 = work
        .iter()
        .map(|w| match w {
            Work::Known {
                desc, check: true, ..
            } => desc.size,
            Work::Known { .. } => 0,
            Work::Raw { desc, .. } | Work::Archive { desc, .. } => desc.size,
        })
        .sum();
    progress.start(total, work.len());
    let results: Mutex<Found> = Mutex::new(Vec::new());
    let ignored_found: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let blobs_read = AtomicUsize::new(0);
    let bytes_read = AtomicU64::new(0);
    let first_error: Mutex<Option<OciError>> = Mutex::new(None);
    let next = AtomicUsize::new(0);
    // Largest first, so that no thread is left with a big layer at the end.
    let mut order: Vec<usize> = (0..work.len()).collect();
    order.sort_by_key(|&i| {
        std::cmp::Reverse(match &work[i] {
            Work::Known { desc, check, .. } => {
                if *check {
                    desc.size
                } else {
                    0
                }
            }
            Work::Raw { desc, .. } | Work::Archive { desc, .. } => desc.size,
        })
    });
    let threads = config
        .get_threads()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 64)
        .min(work.len().max(1));
    let max_resources = config.get_max_resources();
    let failed = || first_error.lock().map(|e| e.is_some()).unwrap_or(true);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                if failed() || progress.cancelled() {
                    return;
                }
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(n) else {
                    return;
                };
                let outcome = run_work(store, &work[i], config, &ignore, progress);
                match outcome {
                    Ok((found, ignored, read)) => {
                        if read > 0 {
                            blobs_read.fetch_add(1, Ordering::Relaxed);
                            bytes_read.fetch_add(read, Ordering::Relaxed);
                        }
                        // The limit on resources holds as the layers are
                        // read, not only at the end.
                        let too_many = match results.lock() {
                            Ok(mut r) => {
                                r.extend(found);
                                r.len() > max_resources
                            }
                            Err(_) => false,
                        };
                        if too_many {
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(OciError::Hash {
                                    what: artifact.reference.to_string(),
                                    source: model_signing::hashing::HashError::TooMany {
                                        what: "resources",
                                        limit: max_resources,
                                    },
                                });
                            }
                            return;
                        }
                        if let Ok(mut g) = ignored_found.lock() {
                            g.extend(ignored);
                        }
                        progress.item_done();
                    }
                    Err(e) => {
                        if let Ok(mut slot) = first_error.lock() {
                            slot.get_or_insert(e);
                        }
                        return;
                    }
                }
            });
        }
    });
    progress.finish();
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    if progress.cancelled() {
        return Err(OciError::Hash {
            what: artifact.reference.to_string(),
            source: model_signing::hashing::HashError::Cancelled,
        });
    }
    let mut found = results.into_inner().unwrap_or_default();
    left_out.extend(ignored_found.into_inner().unwrap_or_default());
    left_out.sort_by(|a, b| cmp_paths(a, b));
    left_out.dedup();

    // Each path once; a path that is a file cannot be a directory too.
    found.sort_by(|a, b| cmp_paths(&a.0, &b.0).then(a.2.cmp(&b.2)));
    // Shards of one file share its path: each file is counted by its first.
    let mut files: Vec<&str> = found
        .iter()
        .filter(|f| f.2.is_none_or(|r| r.0 == 0))
        .map(|f| f.0.as_str())
        .collect();
    let mut seen = HashSet::new();
    for f in &files {
        if !seen.insert(*f) {
            return Err(OciError::Malformed {
                what: artifact.reference.to_string(),
                reason: format!("two layers or archive entries give the file {f:?}"),
            });
        }
    }
    files.sort_by(|a, b| cmp_paths(a, b));
    for pair in files.windows(2) {
        if pair[1]
            .strip_prefix(pair[0])
            .is_some_and(|r| r.starts_with('/'))
        {
            return Err(OciError::Malformed {
                what: artifact.reference.to_string(),
                reason: format!("{:?} is both a file and a directory", pair[0]),
            });
        }
    }
    let mut digests = Vec::with_capacity(found.len());
    for (path, digest, range) in found {
        if range == Some((0, 0)) {
            // An empty file hashed by shards: no resource.
            continue;
        }
        let key = ResourceKey::from_path(&path, range)
            .map_err(|e| bad_path(&artifact.reference.to_string(), &path, e.reason()))?;
        digests.push(ResourceDigest { key, digest });
    }
    Ok(OciManifestHash {
        digests,
        left_out,
        blobs_read: blobs_read.into_inner(),
        blob_bytes_read: bytes_read.into_inner(),
    })
}

type Found = Vec<(String, Vec<u8>, Option<(u64, u64)>)>;

fn run_work(
    store: &dyn Store,
    work: &Work,
    config: &HashConfig,
    ignore: &[String],
    progress: &dyn Progress,
) -> Result<(Found, Vec<String>, u64), OciError> {
    match work {
        Work::Known {
            path,
            digest,
            desc,
            what,
            check,
        } => {
            if !check {
                return Ok((vec![(path.clone(), digest.clone(), None)], Vec::new(), 0));
            }
            let mut r = DigestingReader::open(store, desc, what, progress)?;
            io::copy(&mut r, &mut io::sink()).map_err(|e| r.error(e))?;
            r.finish()?;
            Ok((
                vec![(path.clone(), digest.clone(), None)],
                Vec::new(),
                desc.size,
            ))
        }
        Work::Raw { path, desc, what } => {
            let found = pipelined(store, desc, what, progress, |r| {
                hash_stream(r, desc.size, path, config).map_err(|e| OciError::Io {
                    what: format!("{what} blob {}", desc.digest),
                    source: e,
                })
            })?;
            Ok((found, Vec::new(), desc.size))
        }
        Work::Archive {
            desc,
            compression,
            what,
            under,
        } => {
            let (found, ignored) = pipelined(store, desc, what, progress, |r| {
                let unpacked = {
                    let decoded: Box<dyn Read> = match compression {
                        Compression::None => Box::new(&mut *r),
                        // Every member: a second member is more of the same archive, as
                        // Go's reader, `tar xz` and Python read it.
                        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&mut *r)),
                        Compression::Zstd => {
                            Box::new(zstd::stream::read::Decoder::new(&mut *r).map_err(|e| {
                                OciError::Archive {
                                    what: what.clone(),
                                    reason: format!("cannot start Zstandard decoding: {e}"),
                                }
                            })?)
                        }
                    };
                    unpack(decoded, what, under.as_deref(), config, ignore)?
                };
                // Whatever follows the archive (padding) is read and digested too.
                io::copy(r, &mut io::sink()).map_err(|e| OciError::Io {
                    what: format!("{what} blob {}", desc.digest),
                    source: e,
                })?;
                Ok(unpacked)
            })?;
            Ok((found, ignored, desc.size))
        }
    }
}

/// Size of the chunks handed from the blob reader to the hashing thread.
const PIPE_CHUNK: usize = 1 << 20;
/// Chunks in flight between the two.
const PIPE_DEPTH: usize = 4;

/// Runs `consume` on the bytes of a blob while another thread reads the
/// blob and checks its size and digest ([`DigestingReader`]): the blob's
/// SHA-256 and the work on its content (decompression, the files'
/// digests) run in parallel. The reader's failure (a transfer that broke
/// off, bytes that do not match the digest) is reported before the
/// consumer's, which may only be its consequence.
fn pipelined<T>(
    store: &dyn Store,
    desc: &Descriptor,
    what: &str,
    progress: &dyn Progress,
    consume: impl FnOnce(&mut dyn Read) -> Result<T, OciError>,
) -> Result<T, OciError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(PIPE_DEPTH);
    // Chunks the consumer is done with come back, so that no chunk is
    // allocated and zeroed more than once.
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || -> Result<(), OciError> {
            let mut r = DigestingReader::open(store, desc, what, progress)?;
            loop {
                let mut buf = back_rx.try_recv().unwrap_or_default();
                buf.resize(PIPE_CHUNK, 0);
                let mut filled = 0;
                while filled < buf.len() {
                    match r.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(r.error(e)),
                    }
                }
                if filled == 0 {
                    break;
                }
                buf.truncate(filled);
                if tx.send(buf).is_err() {
                    // The consumer stopped; its error says why.
                    return Ok(());
                }
            }
            drop(tx);
            r.finish()
        });
        let mut reader = ChannelReader {
            rx,
            back: back_tx,
            chunk: Vec::new(),
            pos: 0,
        };
        let consumed = consume(&mut reader);
        drop(reader);
        let produced = producer.join().unwrap_or_else(|_| {
            Err(OciError::Registry {
                what: format!("{what} blob {}", desc.digest),
                reason: "the reading thread panicked".into(),
            })
        });
        match produced {
            Err(e) => Err(e),
            Ok(()) => consumed,
        }
    })
}

/// The consumer's end of [`pipelined`]: the chunks as one stream; the end
/// of the stream when the reader stopped.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    back: std::sync::mpsc::Sender<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(c) => {
                    let done = std::mem::replace(&mut self.chunk, c);
                    if done.capacity() > 0 {
                        // The reader may have stopped: then the chunk is dropped.
                        let _ = self.back.send(done);
                    }
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Hashes one file of `size` bytes from `r` as `config` prescribes.
fn hash_stream(r: &mut dyn Read, size: u64, path: &str, config: &HashConfig) -> io::Result<Found> {
    let algorithm = config.get_algorithm();
    let mut buf = vec![0u8; 1 << 20];
    let Some(shard) = config.get_method().shard_size() else {
        let digest = hash_exact(r, size, algorithm, &mut buf)?;
        return Ok(vec![(path.to_owned(), digest, None)]);
    };
    if size == 0 {
        // No shard, but the file is there: its path takes part in the
        // checks for duplicates (a marker, left out of the manifest).
        return Ok(vec![(path.to_owned(), Vec::new(), Some((0, 0)))]);
    }
    let mut out = Vec::new();
    let mut start = 0u64;
    while start < size {
        let end = start.saturating_add(shard).min(size);
        let digest = hash_exact(r, end - start, algorithm, &mut buf)?;
        out.push((path.to_owned(), digest, Some((start, end))));
        start = end;
    }
    Ok(out)
}

/// The digest of the next `len` bytes of `r`; fails if it ends first.
fn hash_exact(
    r: &mut dyn Read,
    len: u64,
    algorithm: HashAlgorithm,
    buf: &mut [u8],
) -> io::Result<Vec<u8>> {
    let mut h = Hasher::new(algorithm);
    let mut left = len;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = r.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the content ended early",
            ));
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(h.finalize())
}

/// Reads the tar archive in `r`, hashing each regular file.
fn unpack(
    r: Box<dyn Read + '_>,
    what: &str,
    under: Option<&str>,
    config: &HashConfig,
    ignore: &[String],
) -> Result<(Found, Vec<String>), OciError> {
    let archive_err = |reason: String| OciError::Archive {
        what: what.to_owned(),
        reason,
    };
    let mut archive = tar::Archive::new(TarGuard::new(r));
    let mut found = Vec::new();
    let mut ignored = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| archive_err(format!("not a readable tar archive: {e}")))?;
    let mut count = 0usize;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| archive_err(format!("not a readable tar archive: {e}")))?;
        count += 1;
        if count > config.get_max_files() {
            return Err(archive_err(format!(
                "more than {} entries",
                config.get_max_files()
            )));
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw)
            .map_err(|e| bad_path(what, &String::from_utf8_lossy(e.as_bytes()), "not UTF-8"))?;
        let mut trimmed = name.as_str();
        while let Some(rest) = trimmed.strip_prefix("./") {
            trimmed = rest;
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            let t = trimmed.trim_end_matches('/');
            if !t.is_empty() && t != "." {
                checked_path(what, t)?;
            }
            continue;
        }
        let path = checked_path(what, trimmed)?;
        if path.split('/').any(|c| c.starts_with(".wh.")) {
            return Err(bad_path(
                what,
                &path,
                "a whiteout entry (a deletion in a container image layer), not a model file",
            ));
        }
        if let Some(u) = under {
            if path != u && !path.strip_prefix(u).is_some_and(|r| r.starts_with('/')) {
                return Err(bad_path(
                    what,
                    &path,
                    &format!("outside {u:?}, the path the layer's annotation gives"),
                ));
            }
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            let kind_name = if kind.is_symlink() {
                "a symbolic link"
            } else if kind.is_hard_link() {
                "a hard link"
            } else {
                "not a regular file"
            };
            return Err(bad_path(
                what,
                &path,
                &format!("{kind_name}; archive layers may hold only regular files and directories"),
            ));
        }
        if let Some(i) = ignored_by(ignore, &path) {
            ignored.push(i.to_owned());
            continue;
        }
        let size = entry.size();
        let mut got = hash_stream(&mut entry, size, &path, config)
            .map_err(|e| archive_err(format!("{path}: {e}")))?;
        found.append(&mut got);
        if found.len() > config.get_max_resources() {
            return Err(archive_err(format!(
                "more than {} resources",
                config.get_max_resources()
            )));
        }
    }
    // The end of the archive is zero blocks; anything else after it (more
    // entries another reader would unpack, other data) is refused.
    let mut rest = archive.into_inner();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(archive_err(format!("not a readable tar archive: {e}"))),
        };
        if buf[..n].iter().any(|&b| b != 0) {
            return Err(archive_err(
                "data after the end of the tar archive (only zero blocks may follow it)".into(),
            ));
        }
    }
    Ok((found, ignored))
}

/// The largest tar extension header (GNU long name or link, PAX) taken:
/// the tar reader holds each one in memory.
const MAX_TAR_EXTENSION: u64 = 1 << 20;

/// Follows the framing of the tar stream it hands on, as the `tar` crate
/// reads it, and fails the read that brings an extension header over
/// [`MAX_TAR_EXTENSION`] bytes (the tar reader would buffer all of it: a
/// small compressed blob could ask for gigabytes) or a GNU sparse entry
/// (refused anyway; its chain of extension blocks is unbounded). After the
/// first zero block it only passes bytes on.
struct TarGuard<R> {
    inner: R,
    header: [u8; 512],
    filled: usize,
    /// Bytes of entry data and padding still to pass.
    skip: u64,
    /// Bytes of a PAX header's body still to keep in `pax`.
    keep: u64,
    pax: Vec<u8>,
    /// The size a PAX header gives the next entry.
    pax_size: Option<u64>,
    ended: bool,
}

impl<R: Read> TarGuard<R> {
    fn new(inner: R) -> Self {
        TarGuard {
            inner,
            header: [0; 512],
            filled: 0,
            skip: 0,
            keep: 0,
            pax: Vec::new(),
            pax_size: None,
            ended: false,
        }
    }

    fn follow(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let refuse = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
        while !bytes.is_empty() && !self.ended {
            if self.skip > 0 {
                let k = bytes
                    .len()
                    .min(usize::try_from(self.skip).unwrap_or(usize::MAX));
                if self.keep > 0 {
                    let kept = k.min(usize::try_from(self.keep).unwrap_or(usize::MAX));
                    self.pax.extend_from_slice(&bytes[..kept]);
                    self.keep -= kept as u64;
                    if self.keep == 0 {
                        self.pax_size = pax_size(&self.pax);
                    }
                }
                self.skip -= k as u64;
                bytes = &bytes[k..];
                continue;
            }
            let k = bytes.len().min(512 - self.filled);
            self.header[self.filled..self.filled + k].copy_from_slice(&bytes[..k]);
            self.filled += k;
            bytes = &bytes[k..];
            if self.filled < 512 {
                continue;
            }
            self.filled = 0;
            if self.header.iter().all(|&b| b == 0) {
                self.ended = true;
                break;
            }
            let header = tar::Header::from_byte_slice(&self.header);
            let kind = header.entry_type();
            let Ok(mut size) = header.entry_size() else {
                // The tar reader reports the malformed header.
                self.ended = true;
                break;
            };
            let extension = matches!(
                kind,
                tar::EntryType::GNULongName
                    | tar::EntryType::GNULongLink
                    | tar::EntryType::XHeader
                    | tar::EntryType::XGlobalHeader
            );
            if extension {
                if size > MAX_TAR_EXTENSION {
                    return Err(refuse(format!(
                        "a tar extension header of {size} bytes (at most {MAX_TAR_EXTENSION})"
                    )));
                }
                if kind == tar::EntryType::XHeader {
                    self.pax.clear();
                    self.keep = size;
                    if size == 0 {
                        self.pax_size = None;
                    }
                }
            } else {
                if kind == tar::EntryType::GNUSparse {
                    return Err(refuse(
                        "a GNU sparse entry; archive layers may hold only regular files and \
                         directories"
                            .into(),
                    ));
                }
                if let Some(s) = self.pax_size.take() {
                    size = s;
                }
            }
            self.skip = size
                .checked_next_multiple_of(512)
                .ok_or_else(|| refuse("an entry size out of range".into()))?;
        }
        Ok(())
    }
}

/// The `size` record of a PAX header, as the `tar` crate reads it.
fn pax_size(body: &[u8]) -> Option<u64> {
    for ext in tar::PaxExtensions::new(body) {
        let ext = ext.ok()?;
        if ext.key() == Ok("size") {
            return ext.value().ok()?.parse().ok();
        }
    }
    None
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.follow(&buf[..n])?;
        Ok(n)
    }
}

/// A blob's bytes, digested as they are read: [`finish`](Self::finish)
/// fails unless the bytes match the descriptor's size and digest.
pub struct DigestingReader<'a> {
    inner: Box<dyn Read + Send + 'a>,
    hasher: Sha256,
    read: u64,
    desc: &'a Descriptor,
    what: &'a str,
    progress: &'a dyn Progress,
}

impl<'a> DigestingReader<'a> {
    /// Opens the blob of `desc`.
    pub fn open(
        store: &'a dyn Store,
        desc: &'a Descriptor,
        what: &'a str,
        progress: &'a dyn Progress,
    ) -> Result<Self, OciError> {
        Ok(DigestingReader {
            inner: store.open_blob(desc)?,
            hasher: Sha256::new(),
            read: 0,
            desc,
            what,
            progress,
        })
    }

    /// An error while reading: a blob longer than its size is a mismatch,
    /// anything else cannot be read.
    pub fn error(&self, e: io::Error) -> OciError {
        if e.kind() == io::ErrorKind::InvalidData && self.read > self.desc.size {
            return OciError::DigestMismatch {
                what: format!("{} blob", self.what),
                expected: format!("{} bytes", self.desc.size),
                actual: format!("more than {} bytes", self.desc.size),
            };
        }
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<OciErrorBox>()) {
            return OciError::Registry {
                what: format!("{} blob {}", self.what, self.desc.digest),
                reason: inner.0.clone(),
            };
        }
        OciError::Io {
            what: format!("{} blob {}", self.what, self.desc.digest),
            source: e,
        }
    }

    /// Checks the size and digest of what was read.
    pub fn finish(self) -> Result<(), OciError> {
        if self.read != self.desc.size {
            return Err(OciError::DigestMismatch {
                what: format!("{} blob", self.what),
                expected: format!("{} ({} bytes)", self.desc.digest, self.desc.size),
                actual: format!("{} bytes", self.read),
            });
        }
        let actual = format!("sha256:{}", hex::encode(self.hasher.finalize()));
        if actual != self.desc.digest {
            return Err(OciError::DigestMismatch {
                what: format!("{} blob", self.what),
                expected: self.desc.digest.clone(),
                actual,
            });
        }
        Ok(())
    }
}

/// A registry failure carried through `io::Error`.
#[derive(Debug)]
pub struct OciErrorBox(pub String);

impl std::fmt::Display for OciErrorBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OciErrorBox {}

impl Read for DigestingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Never more than the descriptor's size (plus one byte to notice).
        let room = self.desc.size.saturating_add(1).saturating_sub(self.read);
        if room == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "blob longer than its size",
            ));
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        if self.read > self.desc.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "blob longer than its size",
            ));
        }
        self.hasher.update(&buf[..n]);
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// The resources by path, for reports.
pub fn by_path(digests: &[ResourceDigest]) -> BTreeMap<String, String> {
    digests
        .iter()
        .map(|d| (d.key.to_string(), hex::encode(&d.digest)))
        .collect()
}

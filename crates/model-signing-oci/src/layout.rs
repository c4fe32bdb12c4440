//! An OCI image layout directory: `oci-layout`, `index.json` and
//! `blobs/sha256/<hex>`. Tags are the `org.opencontainers.image.ref.name`
//! annotations of `index.json`; referrers are the manifests it lists whose
//! `subject` is the model manifest.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::oci::{self, Descriptor, Fetched, ImageIndex, Parsed, MAX_MANIFEST_BYTES};
use crate::reference::is_sha256_digest;
use crate::referrers::MAX_REFERRERS;
use crate::{OciError, Store, Target};

/// The annotation naming a manifest's tag in `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An image layout on disk.
#[derive(Debug)]
pub struct Layout {
    dir: PathBuf,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> OciError {
    let what = what.into();
    move |source| OciError::Io { what, source }
}

/// Reads at most `limit` bytes of `path`, refusing a longer file.
/// The most manifests of `index.json` looked at for referrers.
const MAX_LAYOUT_SCAN: usize = 4096;
/// The largest manifest read as a possible referrer.
const MAX_REFERRER_MANIFEST: u64 = 64 << 10;

fn read_capped(path: &Path, limit: usize, what: &str) -> Result<Vec<u8>, OciError> {
    let f = open_file(path, what)?;
    let mut out = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(io(what))?;
    if out.len() > limit {
        return Err(OciError::TooLarge {
            what: what.to_owned(),
            limit: limit as u64,
        });
    }
    Ok(out)
}

/// Opens a regular file of the layout; anything else (a FIFO, which would
/// block the open, a device, a directory) is refused.
fn open_file(path: &Path, what: &str) -> Result<fs::File, OciError> {
    let fail = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            OciError::NotFound {
                what: what.to_owned(),
            }
        } else {
            OciError::Io {
                what: what.to_owned(),
                source: e,
            }
        }
    };
    if !fs::metadata(path).map_err(fail)?.is_file() {
        return Err(OciError::Malformed {
            what: what.to_owned(),
            reason: "not a regular file".into(),
        });
    }
    fs::File::open(path).map_err(fail)
}

impl Layout {
    /// Opens the layout at `dir`, checking its `oci-layout` marker.
    pub fn open(dir: &Path) -> Result<Self, OciError> {
        let marker = dir.join("oci-layout");
        let what = format!("{}: oci-layout", dir.display());
        let bytes = read_capped(&marker, 4096, &what).map_err(|e| match e {
            OciError::NotFound { .. } => OciError::NotFound {
                what: format!("OCI image layout {} (no oci-layout file)", dir.display()),
            },
            e => e,
        })?;
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| OciError::Malformed {
                what: what.clone(),
                reason: e.to_string(),
            })?;
        if v.get("imageLayoutVersion").and_then(|v| v.as_str()) != Some("1.0.0") {
            return Err(OciError::Malformed {
                what,
                reason: "imageLayoutVersion is not 1.0.0".into(),
            });
        }
        Ok(Layout {
            dir: dir.to_path_buf(),
        })
    }

    /// Makes an empty layout at `dir` (for tests and exports).
    pub fn create(dir: &Path) -> Result<Self, OciError> {
        fs::create_dir_all(dir.join("blobs/sha256")).map_err(io(dir.display().to_string()))?;
        fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
            .map_err(io(dir.display().to_string()))?;
        if !dir.join("index.json").exists() {
            let index = ImageIndex {
                schema_version: 2,
                media_type: Some(oci::IMAGE_INDEX.to_owned()),
                manifests: Vec::new(),
                annotations: Default::default(),
            };
            write_json(&dir.join("index.json"), &index)?;
        }
        Ok(Layout {
            dir: dir.to_path_buf(),
        })
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf, OciError> {
        if !is_sha256_digest(digest) {
            return Err(OciError::Malformed {
                what: self.name(),
                reason: format!("invalid blob digest {digest:?}"),
            });
        }
        Ok(self.dir.join("blobs/sha256").join(&digest[7..]))
    }

    /// `index.json`.
    pub fn index(&self) -> Result<ImageIndex, OciError> {
        let what = format!("{}/index.json", self.dir.display());
        let bytes = read_capped(&self.dir.join("index.json"), MAX_MANIFEST_BYTES, &what)?;
        let fetched = Fetched::new(bytes, Some(oci::IMAGE_INDEX.to_owned()), None, &what)?;
        match oci::parse_manifest(&fetched, &what)? {
            Parsed::Index(i) => Ok(i),
            Parsed::Manifest(..) => Err(OciError::Malformed {
                what,
                reason: "not an image index".into(),
            }),
        }
    }

    fn write_index(&self, index: &ImageIndex) -> Result<(), OciError> {
        write_json(&self.dir.join("index.json"), index)
    }
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), OciError> {
    let bytes = serde_json::to_vec(value).map_err(|e| OciError::Malformed {
        what: path.display().to_string(),
        reason: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OciError> {
    let what = path.display().to_string();
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut f = fs::File::create(&tmp).map_err(io(what.clone()))?;
    f.write_all(bytes).map_err(io(what.clone()))?;
    f.sync_all().map_err(io(what.clone()))?;
    fs::rename(&tmp, path).map_err(io(what))
}

impl Store for Layout {
    fn fetch_manifest(&self, target: &Target) -> Result<Fetched, OciError> {
        let (digest, media_type) = match target {
            Target::Digest(d) => {
                let known = self.index()?.manifests.into_iter().find(|m| &m.digest == d);
                (d.clone(), known.map(|m| m.media_type))
            }
            Target::Tag(tag) => {
                let index = self.index()?;
                let found: Vec<&Descriptor> = index
                    .manifests
                    .iter()
                    .filter(|m| m.annotations.get(REF_NAME) == Some(tag))
                    .collect();
                match found.as_slice() {
                    [one] => (one.digest.clone(), Some(one.media_type.clone())),
                    [] => {
                        let tags: Vec<&str> = index
                            .manifests
                            .iter()
                            .filter_map(|m| m.annotations.get(REF_NAME).map(String::as_str))
                            .collect();
                        return Err(OciError::NotFound {
                            what: format!(
                                "tag {tag:?} in {} (tags: {})",
                                self.dir.display(),
                                if tags.is_empty() {
                                    "none".to_owned()
                                } else {
                                    tags.join(", ")
                                }
                            ),
                        });
                    }
                    _ => {
                        return Err(OciError::Malformed {
                            what: format!("{}/index.json", self.dir.display()),
                            reason: format!("tag {tag:?} names {} manifests", found.len()),
                        })
                    }
                }
            }
        };
        let what = format!("manifest {digest} in {}", self.dir.display());
        let bytes = read_capped(&self.blob_path(&digest)?, MAX_MANIFEST_BYTES, &what)?;
        Fetched::new(bytes, media_type, Some(&digest), &what)
    }

    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError> {
        let path = self.blob_path(&desc.digest)?;
        let what = format!("blob {} in {}", desc.digest, self.dir.display());
        let f = open_file(&path, &what)?;
        Ok(Box::new(f))
    }

    fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>, OciError> {
        // index.json read once; the manifests it lists read directly, the
        // small ones only (a signature manifest is under a kilobyte), and
        // at most MAX_LAYOUT_SCAN of them.
        let index = self.index()?;
        let mut out = Vec::new();
        for m in index
            .manifests
            .iter()
            .filter(|m| m.media_type == oci::IMAGE_MANIFEST && m.size <= MAX_REFERRER_MANIFEST)
            .take(MAX_LAYOUT_SCAN)
        {
            if out.len() >= MAX_REFERRERS {
                break;
            }
            let what = format!("manifest {} in {}", m.digest, self.dir.display());
            let Ok(path) = self.blob_path(&m.digest) else {
                continue;
            };
            let Ok(bytes) = read_capped(&path, MAX_REFERRER_MANIFEST as usize, &what) else {
                continue;
            };
            let Ok(fetched) =
                Fetched::new(bytes, Some(m.media_type.clone()), Some(&m.digest), &what)
            else {
                continue;
            };
            if let Ok(Parsed::Manifest(man, _)) = oci::parse_manifest(&fetched, "referrer") {
                if man
                    .subject
                    .as_ref()
                    .is_some_and(|s| s.digest == subject.digest)
                {
                    let mut d = m.clone();
                    d.artifact_type = man.artifact_type.clone();
                    d.annotations = man.annotations.clone();
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    fn push_blob(&self, bytes: &[u8], digest: &str) -> Result<(), OciError> {
        let path = self.blob_path(digest)?;
        if path.exists() {
            return Ok(());
        }
        write_atomic(&path, bytes)
    }

    fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        target: &Target,
    ) -> Result<(), OciError> {
        let digest = oci::sha256_digest(bytes);
        self.push_blob(bytes, &digest)?;
        let mut index = self.index()?;
        let mut desc = Fetched::new(bytes.to_vec(), None, None, "manifest")?.descriptor(media_type);
        if let Target::Tag(tag) = target {
            // A tag names one manifest: move it.
            for m in &mut index.manifests {
                if m.annotations.get(REF_NAME) == Some(tag) {
                    m.annotations.remove(REF_NAME);
                }
            }
            desc.annotations.insert(REF_NAME.to_owned(), tag.clone());
        } else if index.manifests.iter().any(|m| m.digest == digest) {
            return Ok(());
        }
        index.manifests.push(desc);
        self.write_index(&index)
    }

    fn has_referrers_api(&self, _subject: &Descriptor) -> Result<bool, OciError> {
        Ok(true)
    }

    fn name(&self) -> String {
        format!("{}{}", crate::reference::LAYOUT_SCHEME, self.dir.display())
    }
}

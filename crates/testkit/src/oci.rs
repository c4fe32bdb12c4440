//! OCI artifacts for the tests: image layouts built here (raw and archive
//! layers, ModelPack-style annotations), Debian's `docker-registry` (the
//! CNCF distribution registry) started on loopback, open or with htpasswd
//! over TLS, and `skopeo` to copy layouts into it.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// ModelPack's raw weight layer.
pub const RAW: &str = "application/vnd.cncf.model.weight.v1.raw";
/// ModelPack's tar weight layer.
pub const TAR: &str = "application/vnd.cncf.model.weight.v1.tar";
/// ModelPack's tar+gzip layer.
pub const TAR_GZIP: &str = "application/vnd.cncf.model.weight.v1.tar+gzip";
/// ModelPack's tar+zstd layer.
pub const TAR_ZSTD: &str = "application/vnd.cncf.model.weight.v1.tar+zstd";
/// ModelPack's config media type.
pub const MODEL_CONFIG: &str = "application/vnd.cncf.model.config.v1+json";
/// `org.cncf.model.filepath`.
pub const FILEPATH: &str = "org.cncf.model.filepath";
/// `org.opencontainers.image.title`.
pub const TITLE: &str = "org.opencontainers.image.title";

/// `sha256:<hex>`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// One layer of a test artifact.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Media type.
    pub media_type: String,
    /// The blob.
    pub blob: Vec<u8>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

impl Layer {
    /// A raw file layer at `path` (`org.cncf.model.filepath`).
    pub fn raw(path: &str, data: &[u8]) -> Layer {
        Layer {
            media_type: RAW.into(),
            blob: data.to_vec(),
            annotations: [(FILEPATH.to_owned(), path.to_owned())].into(),
        }
    }

    /// A raw layer titled `title` (ORAS style).
    pub fn titled(title: &str, data: &[u8]) -> Layer {
        Layer {
            media_type: "application/octet-stream".into(),
            blob: data.to_vec(),
            annotations: [(TITLE.to_owned(), title.to_owned())].into(),
        }
    }

    /// An archive layer of `files` with this media type (tar, tar+gzip or
    /// tar+zstd by its suffix), annotated with `path` when given.
    pub fn archive(media_type: &str, files: &[(&str, &[u8])], path: Option<&str>) -> Layer {
        let tar = tar_of(files);
        let blob = if media_type.ends_with("+gzip") || media_type.ends_with(".gzip") {
            gzip(&tar)
        } else if media_type.ends_with("+zstd") || media_type.ends_with(".zstd") {
            zstd::encode_all(&tar[..], 3).expect("zstd")
        } else {
            tar
        };
        Layer {
            media_type: media_type.into(),
            blob,
            annotations: path
                .map(|p| [(FILEPATH.to_owned(), p.to_owned())].into())
                .unwrap_or_default(),
        }
    }

    /// Any blob, with annotations.
    pub fn custom(media_type: &str, blob: Vec<u8>, annotations: &[(&str, &str)]) -> Layer {
        Layer {
            media_type: media_type.into(),
            blob,
            annotations: annotations
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// Its descriptor.
    pub fn descriptor(&self) -> Value {
        let mut d = json!({
            "mediaType": self.media_type,
            "digest": digest(&self.blob),
            "size": self.blob.len(),
        });
        if !self.annotations.is_empty() {
            d["annotations"] = json!(self.annotations);
        }
        d
    }
}

/// A tar archive of regular files (directories made as needed).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, name, *data).expect("tar entry");
    }
    b.into_inner().expect("tar")
}

/// A tar archive with raw headers: for entries the builder refuses
/// (`..`, absolute paths, links).
pub fn tar_raw(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_old();
        {
            let bytes = h.as_old_mut();
            let n = name.as_bytes();
            bytes.name[..n.len()].copy_from_slice(n);
            if let Some(l) = link {
                bytes.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
        }
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(*kind);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// gzip of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A test artifact: config and layers.
#[derive(Debug, Clone)]
pub struct Image {
    /// The config blob.
    pub config: Vec<u8>,
    /// The config media type.
    pub config_media_type: String,
    /// The layers.
    pub layers: Vec<Layer>,
    /// The manifest's artifactType, if any.
    pub artifact_type: Option<String>,
}

impl Image {
    /// A ModelPack-style artifact of `layers`.
    pub fn model(layers: Vec<Layer>) -> Image {
        Image {
            config: br#"{"descriptor":{"name":"test-model"},"modelfs":{"type":"layers"}}"#.to_vec(),
            config_media_type: MODEL_CONFIG.into(),
            layers,
            artifact_type: Some("application/vnd.cncf.model.manifest.v1+json".into()),
        }
    }

    /// The manifest JSON.
    pub fn manifest(&self) -> Vec<u8> {
        let mut m = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": self.config_media_type,
                "digest": digest(&self.config),
                "size": self.config.len(),
            },
            "layers": self.layers.iter().map(Layer::descriptor).collect::<Vec<_>>(),
        });
        if let Some(t) = &self.artifact_type {
            m["artifactType"] = json!(t);
        }
        serde_json::to_vec_pretty(&m).expect("manifest")
    }
}

/// Writes `image` into the image layout at `dir` under `tag` (making the
/// layout if needed); returns the manifest digest.
pub fn write_layout(dir: &Path, tag: &str, image: &Image) -> String {
    let manifest = image.manifest();
    let mut blobs: Vec<&[u8]> = vec![&image.config, &manifest];
    blobs.extend(image.layers.iter().map(|l| &l.blob[..]));
    add_to_layout(
        dir,
        tag,
        &blobs,
        &manifest,
        "application/vnd.oci.image.manifest.v1+json",
    )
}

/// Adds blobs and a manifest (or index) of `media_type` under `tag`.
pub fn add_to_layout(
    dir: &Path,
    tag: &str,
    blobs: &[&[u8]],
    manifest: &[u8],
    media_type: &str,
) -> String {
    let blob_dir = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blob_dir).expect("mkdir blobs");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("oci-layout");
    for b in blobs.iter().chain(std::iter::once(&manifest)) {
        let d = digest(b);
        std::fs::write(blob_dir.join(&d[7..]), b).expect("blob");
    }
    let index_path = dir.join("index.json");
    let mut index: Value = std::fs::read(&index_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}));
    let d = digest(manifest);
    let manifests = index["manifests"].as_array_mut().expect("manifests");
    manifests.retain(|m| m["annotations"]["org.opencontainers.image.ref.name"] != json!(tag));
    manifests.push(json!({
        "mediaType": media_type,
        "digest": d,
        "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }));
    std::fs::write(
        &index_path,
        serde_json::to_vec_pretty(&index).expect("index"),
    )
    .expect("index.json");
    d
}

/// Overwrites the blob `digest` in the layout at `dir` with `bytes`.
pub fn tamper_blob(dir: &Path, digest: &str, bytes: &[u8]) {
    std::fs::write(dir.join("blobs/sha256").join(&digest[7..]), bytes).expect("tamper");
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// `docker-registry`, if installed.
pub fn registry_binary() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/docker-registry");
    p.is_file().then_some(p)
}

/// `skopeo`, if installed.
pub fn skopeo_binary() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/skopeo");
    p.is_file().then_some(p)
}

/// How a test registry is protected.
pub struct Auth {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// A `docker-registry` on 127.0.0.1, stopped on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The CA certificate (PEM) when it serves TLS.
    pub ca: Option<PathBuf>,
    /// A Docker config directory with its credentials, when it has auth.
    pub docker_config: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry: open over plain HTTP, or with `auth` over TLS
    /// (a test CA, made with openssl). `None` when `docker-registry` is
    /// not installed.
    pub fn start(auth: Option<Auth>) -> Option<Registry> {
        let bin = registry_binary()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: test-secret\n",
            dir.path().join("data").display()
        );
        let mut ca = None;
        let mut docker_config = None;
        if let Some(auth) = &auth {
            let (ca_pem, cert, key) = make_tls(dir.path());
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: test-realm\n    path: {}\n",
                cert.display(),
                key.display(),
                dir.path().join("htpasswd").display()
            ));
            let hash = bcrypt::hash(&auth.password, 5).expect("bcrypt");
            std::fs::write(
                dir.path().join("htpasswd"),
                format!("{}:{hash}\n", auth.user),
            )
            .expect("htpasswd");
            ca = Some(ca_pem);
            let cfg_dir = dir.path().join("docker");
            std::fs::create_dir_all(&cfg_dir).expect("mkdir");
            let b64 = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{}:{}", auth.user, auth.password),
            );
            std::fs::write(
                cfg_dir.join("config.json"),
                serde_json::to_vec(&json!({"auths": {host.clone(): {"auth": b64}}})).expect("json"),
            )
            .expect("docker config");
            docker_config = Some(cfg_dir);
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("config");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let reg = Registry {
            child,
            host,
            ca,
            docker_config,
            _dir: dir,
        };
        reg.wait_ready();
        Some(reg)
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if std::net::TcpStream::connect(&self.host).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not start on {}", self.host);
    }

    /// `oci://HOST/REPO:TAG`.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("oci://{}/{repo_tag}", self.host)
    }

    /// Copies `layout:tag` to `repo:tag` with skopeo (an independent
    /// client); panics when skopeo fails.
    pub fn push_layout(&self, layout: &Path, tag: &str, repo_tag: &str, creds: Option<&Auth>) {
        let skopeo = skopeo_binary().expect("skopeo");
        let mut cmd = Command::new(skopeo);
        cmd.args(["copy", "--quiet", "--preserve-digests"]);
        match (&self.ca, creds) {
            (Some(ca), Some(a)) => {
                let certs = ca.parent().expect("ca dir").join("skopeo-certs");
                std::fs::create_dir_all(&certs).expect("certs dir");
                std::fs::copy(ca, certs.join("ca.crt")).expect("ca copy");
                cmd.arg(format!("--dest-cert-dir={}", certs.display()));
                cmd.arg(format!("--dest-creds={}:{}", a.user, a.password));
            }
            _ => {
                cmd.arg("--dest-tls-verify=false");
            }
        }
        cmd.arg(format!("oci:{}:{tag}", layout.display()));
        cmd.arg(format!("docker://{}/{repo_tag}", self.host));
        let out = cmd.output().expect("run skopeo");
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1, by openssl.
fn make_tls(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Test Registry CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

//! OCI input read from registries and layouts: manifests and indexes (the
//! first input byte 0), and layer blobs (1: a tar archive, 2: tar+gzip,
//! 3: tar+zstd, 4: a raw layer whose path annotation is the input), hashed
//! through an in-memory store as `digest oci://...` hashes them.
//! Properties: no panic; an accepted artifact gives each path once, every
//! path a valid resource name, in signing order.

#![no_main]

use std::collections::HashSet;
use std::io::Read;

use libfuzzer_sys::fuzz_target;
use model_signing::hashing::{HashConfig, NoProgress};
use model_signing_oci::artifact::{self, LayerMode};
use model_signing_oci::oci::{self, Descriptor, Fetched, ImageManifest};
use model_signing_oci::{OciError, Store, Target};

struct Mem {
    blob: Vec<u8>,
}

impl Store for Mem {
    fn fetch_manifest(&self, _: &Target) -> Result<Fetched, OciError> {
        Err(OciError::NotFound { what: "manifest".into() })
    }
    fn open_blob(&self, _: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError> {
        Ok(Box::new(&self.blob[..]))
    }
    fn referrers(&self, _: &Descriptor) -> Result<Vec<Descriptor>, OciError> {
        Ok(Vec::new())
    }
    fn push_blob(&self, _: &[u8], _: &str) -> Result<(), OciError> {
        Ok(())
    }
    fn push_manifest(&self, _: &[u8], _: &str, _: &Target) -> Result<(), OciError> {
        Ok(())
    }
    fn has_referrers_api(&self, _: &Descriptor) -> Result<bool, OciError> {
        Ok(true)
    }
    fn name(&self) -> String {
        "mem".into()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => manifest(rest),
        1 => layer(rest.to_vec(), "application/vnd.oci.image.layer.v1.tar", None),
        2 => layer(rest.to_vec(), "application/vnd.oci.image.layer.v1.tar+gzip", None),
        3 => layer(rest.to_vec(), "application/vnd.cncf.model.weight.v1.tar+zstd", None),
        _ => {
            let path = String::from_utf8_lossy(rest).into_owned();
            layer(b"raw".to_vec(), "application/vnd.cncf.model.weight.v1.raw", Some(path));
        }
    }
});

fn manifest(bytes: &[u8]) {
    for served in [None, Some(oci::IMAGE_MANIFEST), Some(oci::IMAGE_INDEX)] {
        let Ok(f) = Fetched::new(bytes.to_vec(), served.map(str::to_owned), None, "m") else {
            return;
        };
        if let Ok(oci::Parsed::Manifest(m, _)) = oci::parse_manifest(&f, "m") {
            // Whatever parsed has sha256 digests only.
            assert!(m.layers.iter().all(|l| l.digest.len() == 71));
        }
    }
}

fn layer(blob: Vec<u8>, media_type: &str, path: Option<String>) {
    let mut annotations = std::collections::BTreeMap::new();
    if let Some(p) = path {
        annotations.insert(oci::ANNOTATION_FILEPATH.to_owned(), p);
    }
    let desc = Descriptor {
        media_type: media_type.to_owned(),
        digest: oci::sha256_digest(&blob),
        size: blob.len() as u64,
        artifact_type: None,
        annotations,
        platform: None,
    };
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(oci::IMAGE_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor {
            media_type: oci::EMPTY_JSON.to_owned(),
            digest: oci::EMPTY_JSON_DIGEST.to_owned(),
            size: 2,
            artifact_type: None,
            annotations: Default::default(),
            platform: None,
        },
        layers: vec![desc.clone()],
        subject: None,
        annotations: Default::default(),
    };
    let reference = model_signing_oci::parse("oci-layout://mem").ok().flatten().expect("reference");
    let a = artifact::Artifact {
        reference,
        descriptor: desc,
        manifest,
        index: None,
        manifest_bytes: 0,
    };
    let store = Mem { blob };
    let config = HashConfig::new().threads(1).expect("threads").max_files(10_000);
    let Ok(h) = artifact::hash_artifact(&store, &a, &config, LayerMode::Files, true, &NoProgress) else {
        return;
    };
    let mut seen = HashSet::new();
    for d in &h.digests {
        let name = d.key.to_string();
        assert!(model_signing::hashing::check_component(name.rsplit('/').next().unwrap_or("")).is_ok(), "{name}");
        assert!(!name.starts_with('/') && !name.split('/').any(|c| c == ".." || c.is_empty()), "{name}");
        assert!(seen.insert(name.clone()), "{name} twice");
    }
}

//! The manifest of a model: how it was hashed and the digest of every resource.

use std::path::Path;

use model_signing_hash::{
    hash_files, hash_files_incremental, root_digest, walk, FileEntry, HashAlgorithm, HashConfig,
    HashError, Incremental, IncrementalReport, Method, Progress, ResourceDigest,
};
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

/// How the resources of a manifest were produced: the signed `serialization`
/// block of the predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    /// `files` or `shards` (with the shard size).
    pub method: Method,
    /// The content hash.
    pub hash_type: HashAlgorithm,
    /// Whether symbolic links were followed.
    pub allow_symlinks: bool,
    /// Paths (relative to the model root) left out of the manifest, sorted.
    pub ignore_paths: Vec<String>,
    /// Whether the payload has the `ignore_paths` field. Signatures made
    /// before release 1.1 of the reference, and by the reference 1.1.1 when
    /// its list is empty, leave it out, so its absence does not say that
    /// nothing was ignored: verification then leaves out the git paths as
    /// the reference does ([`ModelCheckOptions::ignore_git_paths`]). This
    /// library always writes the field, even empty.
    ///
    /// [`ModelCheckOptions::ignore_git_paths`]: crate::verify::ModelCheckOptions::ignore_git_paths
    pub ignore_paths_recorded: bool,
}

impl Serialization {
    /// The serialization that `config` produces.
    pub fn from_config(config: &HashConfig) -> Self {
        Serialization {
            method: config.get_method(),
            hash_type: config.get_algorithm(),
            allow_symlinks: config.get_allow_symlinks(),
            ignore_paths: config
                .effective_ignore_paths()
                .iter()
                .map(ToString::to_string)
                .collect(),
            ignore_paths_recorded: true,
        }
    }

    /// The `algorithm` string each resource carries (see
    /// [`Method::resource_algorithm`]).
    pub fn resource_algorithm(&self) -> String {
        self.method.resource_algorithm(self.hash_type)
    }
}

impl Serialize for Serialization {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let shard_size = self.method.shard_size();
        let mut st = s.serialize_struct("Serialization", 5)?;
        st.serialize_field("method", self.method.name())?;
        st.serialize_field("hash_type", self.hash_type.name())?;
        if let Some(size) = shard_size {
            st.serialize_field("shard_size", &size)?;
        } else {
            st.skip_field("shard_size")?;
        }
        st.serialize_field("allow_symlinks", &self.allow_symlinks)?;
        if self.ignore_paths_recorded {
            st.serialize_field("ignore_paths", &self.ignore_paths)?;
        } else {
            st.skip_field("ignore_paths")?;
        }
        st.end()
    }
}

/// One entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// `path` for files, `path:start:end` for shards, `.` for a single-file model.
    pub name: String,
    /// `sha256`, `blake2b`, `blake3`, or `<hash>-sharded-<size>`.
    pub algorithm: String,
    /// Raw digest bytes.
    pub digest: Vec<u8>,
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Resource", 3)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("algorithm", &self.algorithm)?;
        st.serialize_field("digest", &hex::encode(&self.digest))?;
        st.end()
    }
}

/// A model's manifest: its informative name, how it was hashed, and the
/// digest of each resource in signing order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The last component of the model path. Informative only: renaming the
    /// model does not invalidate a signature.
    pub model_name: String,
    /// How the resources were produced.
    pub serialization: Serialization,
    /// The resources, in the order they are signed.
    pub resources: Vec<Resource>,
}

/// The informative model name: the final component of the path, resolved
/// when the path ends in `.` or `..`. For the snapshot of a Hugging Face
/// cache repository (`.../models--ORG--NAME/snapshots/<commit>`), whose
/// final component is a commit hash, it is the repository's name `NAME`:
/// the name a `huggingface-cli download --local-dir NAME` copy has.
pub fn model_name(path: &Path) -> String {
    if let Some(name) = hf_snapshot_repo_name(path) {
        return name;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.is_empty() {
        return name;
    }
    std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// `NAME` when `path` is the snapshot directory itself of a Hugging Face
/// cache repository folder `models--ORG--NAME` (or `models--NAME`), or of
/// a dataset, `datasets--ORG--NAME`.
fn hf_snapshot_repo_name(path: &Path) -> Option<String> {
    let repo = model_signing_hash::hf_cache_repo(path)?;
    let resolved = std::fs::canonicalize(path).ok()?;
    if resolved.parent()? != repo.join("snapshots") {
        return None;
    }
    let folder = repo.file_name()?.to_str()?;
    // Repository ids never hold `--`, so the cache joins ORG and NAME with it.
    let name = folder
        .strip_prefix("models--")
        .or_else(|| folder.strip_prefix("datasets--"))?
        .rsplit("--")
        .next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

impl Manifest {
    /// Walks and hashes the model at `path`.
    ///
    /// When `path` is a snapshot of a Hugging Face cache repository (or lies
    /// inside one), its links into the repository are followed under their
    /// snapshot names and links leaving the repository are refused, as
    /// [`HashConfig::contain_links_in_hf_snapshot`] describes; the manifest
    /// is the one a copy of the snapshot with real files gives.
    pub fn hash(
        path: &Path,
        config: &HashConfig,
        progress: &dyn Progress,
    ) -> Result<Self, HashError> {
        Manifest::hash_except(path, config, progress, |_| false)
    }

    /// [`Manifest::hash`] without the files for which `skip` returns true.
    /// Unlike an ignore path, what is skipped is not recorded in the
    /// manifest, so a verifier sees any such file as one the signature does
    /// not cover.
    pub fn hash_except(
        path: &Path,
        config: &HashConfig,
        progress: &dyn Progress,
        skip: impl Fn(&FileEntry) -> bool,
    ) -> Result<Self, HashError> {
        let config = config.clone().contain_links_in_hf_snapshot(path);
        let mut files = walk(path, &config)?;
        files.retain(|f| !skip(f));
        let digests = hash_files(&files, &config, progress)?;
        Ok(Manifest::from_digests(model_name(path), &config, digests))
    }

    /// [`Manifest::hash_except`] that reuses the digests of files unchanged
    /// since the last incremental hashing of the same model path with the
    /// same parameters, recorded in `state`, and then replaces that record
    /// ([`hash_files_incremental`]). The manifest is the one
    /// [`Manifest::hash_except`] gives whenever the record is right about
    /// the files it lists (`docs/security.md` says when that holds).
    /// Verification never uses a state record.
    pub fn hash_except_incremental(
        path: &Path,
        config: &HashConfig,
        progress: &dyn Progress,
        skip: impl Fn(&FileEntry) -> bool,
        state: &Incremental,
    ) -> Result<(Self, IncrementalReport), HashError> {
        let config = config.clone().contain_links_in_hf_snapshot(path);
        let mut files = walk(path, &config)?;
        files.retain(|f| !skip(f));
        let (digests, report) = hash_files_incremental(&files, &config, progress, state)?;
        Ok((
            Manifest::from_digests(model_name(path), &config, digests),
            report,
        ))
    }

    /// Builds the manifest from digests computed under `config`.
    pub fn from_digests(
        model_name: String,
        config: &HashConfig,
        digests: Vec<ResourceDigest>,
    ) -> Self {
        let serialization = Serialization::from_config(config);
        let algorithm = serialization.resource_algorithm();
        let resources = digests
            .into_iter()
            .map(|d| Resource {
                name: d.key.to_string(),
                algorithm: algorithm.clone(),
                digest: d.digest,
            })
            .collect();
        Manifest {
            model_name,
            serialization,
            resources,
        }
    }

    /// SHA-256 over the resource digests in listed order (the in-toto subject digest).
    pub fn root_digest(&self) -> [u8; 32] {
        root_digest(self.resources.iter().map(|r| r.digest.as_slice()))
    }

    /// [`root_digest`](Self::root_digest) as lowercase hex.
    pub fn root_digest_hex(&self) -> String {
        hex::encode(self.root_digest())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model_signing_hash::NoProgress;

    #[test]
    fn a_hugging_face_snapshot_is_named_after_its_repository() {
        let dir = tempfile::tempdir().expect("tempdir");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        for (folder, name) in [
            ("models--org--my-model", "my-model"),
            ("models--gpt2", "gpt2"),
            ("datasets--org--my-data", "my-data"),
        ] {
            let repo = dir.path().join(folder);
            let snapshot = repo.join("snapshots").join(commit);
            std::fs::create_dir_all(snapshot.join("tokenizer")).expect("mkdir");
            std::fs::create_dir_all(repo.join("blobs")).expect("mkdir");
            assert_eq!(model_name(&snapshot), name);
            assert_eq!(model_name(&snapshot.join("tokenizer/..")), name);
            // A folder inside a snapshot keeps its own name.
            assert_eq!(model_name(&snapshot.join("tokenizer")), "tokenizer");
        }
        // Without blobs/ beside snapshots/, it is no cache repository.
        let plain = dir.path().join("models--a--b/snapshots").join(commit);
        std::fs::create_dir_all(&plain).expect("mkdir");
        assert_eq!(model_name(&plain), commit);
    }

    #[test]
    fn serialization_json_is_deterministic() {
        let config = HashConfig::new()
            .shards(1000)
            .and_then(|c| c.ignore_paths(["b", "a"]))
            .expect("valid");
        let json = serde_json::to_string(&Serialization::from_config(&config)).expect("json");
        assert_eq!(
            json,
            r#"{"method":"shards","hash_type":"sha256","shard_size":1000,"allow_symlinks":false,"ignore_paths":[".cache/huggingface",".git",".gitattributes",".github",".gitignore","a","b"]}"#
        );
        let files = serde_json::to_string(&Serialization::from_config(
            &HashConfig::new()
                .ignore_git_paths(false)
                .ignore_hf_download_cache(false),
        ))
        .expect("json");
        assert_eq!(
            files,
            r#"{"method":"files","hash_type":"sha256","allow_symlinks":false,"ignore_paths":[]}"#
        );
    }

    #[test]
    fn format_vectors() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a"), "hello\n").expect("write");
        let m = Manifest::hash(dir.path(), &HashConfig::new(), &NoProgress).expect("hash");
        assert_eq!(
            m.root_digest_hex(),
            "ecb65bb98f9d905b70458986c39fcbad7715e5f2fcc3b1f07767d7c83e2438cc"
        );
        let single =
            Manifest::hash(&dir.path().join("a"), &HashConfig::new(), &NoProgress).expect("hash");
        assert_eq!(single.resources[0].name, ".");
        assert_eq!(single.model_name, "a");
        assert_eq!(single.root_digest(), m.root_digest());
        std::fs::write(dir.path().join("b"), "world\n").expect("write");
        let m = Manifest::hash(dir.path(), &HashConfig::new(), &NoProgress).expect("hash");
        assert_eq!(
            m.root_digest_hex(),
            "96cb8058ed58b58f8fc0ad459bacf81108599b403e91674460ccb089f8ebb9db"
        );
    }
}

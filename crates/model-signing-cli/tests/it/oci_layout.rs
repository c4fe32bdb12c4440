//! OCI models in image layouts on disk (`oci-layout://DIR:TAG`): the rule
//! that turns layers into files (raw and archive layers equal the unpacked
//! directory), signatures stored as referrers in the layout, the Go
//! implementation's blob mode, and the refusals of hostile artifacts.

use std::path::{Path, PathBuf};

use model_signing::keys::KeyAlgorithm;
use serde_json::{json, Value};
use testkit::oci::{self, Image, Layer, RAW, TAR, TAR_GZIP, TAR_ZSTD};
use testkit::{public, Run};

fn run(cwd: &Path, args: &[&str]) -> Run {
    let out = crate::cli_with_docker_config(cwd, &cwd.join("no-docker-config"))
        .args(args)
        .output()
        .expect("model-signing runs");
    Run::from(out)
}

fn s(p: &Path) -> &str {
    testkit::path_str(p)
}

/// The files of the test model, as the unpacked directory holds them.
const FILES: [(&str, &[u8]); 6] = [
    ("config.json", b"{\"hidden_size\": 8}"),
    ("model.safetensors", b"weights weights weights"),
    ("tokenizer/vocab.txt", b"a\nb\nc\n"),
    ("tokenizer/merges.txt", b"a b\n"),
    ("docs/README.md", b"# test model\n"),
    ("extra/zstd.bin", b"zstd zstd zstd"),
];

/// A ModelPack-style artifact holding [`FILES`]: two raw layers, one tar,
/// one tar+gzip and one tar+zstd layer.
fn model_image() -> Image {
    Image::model(vec![
        Layer::raw("config.json", FILES[0].1),
        Layer::raw("model.safetensors", FILES[1].1),
        Layer::archive(TAR, &[FILES[2], FILES[3]], Some("tokenizer")),
        Layer::archive(TAR_GZIP, &[FILES[4]], Some("docs")),
        Layer::archive(TAR_ZSTD, &[FILES[5]], None),
    ])
}

struct Fixture {
    tmp: tempfile::TempDir,
    layout: PathBuf,
    dir: PathBuf,
    key: PathBuf,
    key_obj: testkit::Key,
    public: PathBuf,
    manifest: String,
}

impl Fixture {
    fn new() -> Self {
        Self::with(&model_image())
    }

    fn with(image: &Image) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = tmp.path().join("layout");
        let manifest = oci::write_layout(&layout, "v1", image);
        let dir = tmp.path().join("unpacked");
        testkit::write_files(&dir, &FILES);
        let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
        let key_path = tmp.path().join("key.pem");
        let public_path = tmp.path().join("key.pub");
        std::fs::write(&key_path, key.to_pkcs8_pem().as_bytes()).expect("key");
        std::fs::write(&public_path, public(&key).to_pem()).expect("key");
        Fixture {
            tmp,
            layout,
            dir,
            key: key_path,
            key_obj: key,
            public: public_path,
            manifest,
        }
    }

    fn cwd(&self) -> &Path {
        self.tmp.path()
    }

    fn reference(&self) -> String {
        format!("oci-layout://{}:v1", self.layout.display())
    }

    fn run(&self, args: &[&str]) -> Run {
        run(self.cwd(), args)
    }

    fn sign(&self, extra: &[&str]) -> Run {
        let r = self.reference();
        let mut args = vec!["sign", "key", r.as_str(), "--private-key", s(&self.key)];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn verify(&self, extra: &[&str]) -> Run {
        let r = self.reference();
        let mut args = vec!["verify", "key", r.as_str(), "--public-key", s(&self.public)];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

fn digest_of(cwd: &Path, model: &str, extra: &[&str]) -> String {
    let mut args = vec!["digest", model];
    args.extend_from_slice(extra);
    let r = run(cwd, &args).ok("digest");
    r.stdout.trim().to_owned()
}

#[test]
fn artifact_digest_equals_the_unpacked_directory() {
    let f = Fixture::new();
    let r = f.reference();
    for extra in [
        &[][..],
        &["--hash", "blake3"],
        &["--hash", "sha256", "--shard-size", "8"],
        &["--ignore-paths", "docs"],
    ] {
        let oci_digest = digest_of(f.cwd(), &r, extra);
        // Ignore paths of a directory are given relative to the current directory.
        let dir_digest = digest_of(&f.dir, ".", extra);
        assert_eq!(oci_digest, dir_digest, "{extra:?}");
        assert!(oci_digest.starts_with("sha256:"), "{oci_digest}");
    }
    // The manifests agree resource by resource, not only in the root digest.
    let j = |m: &str| -> Value {
        serde_json::from_str(&run(f.cwd(), &["digest", m, "--json"]).ok("json").stdout)
            .expect("json")
    };
    let (a, b) = (j(&r), j(s(&f.dir)));
    assert_eq!(a["resources"], b["resources"]);
    assert_eq!(a["serialization"], b["serialization"]);
    assert_eq!(a["resources"].as_array().map(Vec::len), Some(6));
}

#[test]
fn sign_stores_a_referrer_and_verify_finds_it() {
    let f = Fixture::new();
    let signed = f.sign(&["--json"]).ok("sign");
    let doc: Value = serde_json::from_str(&signed.stdout).expect("json");
    let sig_ref = doc["signature"].as_str().expect("signature");
    assert!(sig_ref.starts_with("oci-layout://"), "{sig_ref}");
    assert!(sig_ref.contains("@sha256:"), "{sig_ref}");
    // The referrer is in the layout: an image manifest whose subject is the model.
    let index: Value =
        serde_json::from_slice(&std::fs::read(f.layout.join("index.json")).expect("index"))
            .expect("json");
    let entries = index["manifests"].as_array().expect("manifests");
    assert_eq!(entries.len(), 2, "{index}");
    let sig_digest = &sig_ref[sig_ref.find("@").expect("@") + 1..];
    let sig_manifest: Value = serde_json::from_slice(
        &std::fs::read(f.layout.join("blobs/sha256").join(&sig_digest[7..])).expect("sig manifest"),
    )
    .expect("json");
    assert_eq!(sig_manifest["subject"]["digest"], json!(f.manifest));
    assert_eq!(
        sig_manifest["artifactType"],
        json!("application/vnd.dev.sigstore.bundle.v0.3+json")
    );

    let ok = f.verify(&["--json"]).ok("verify");
    let v: Value = serde_json::from_str(&ok.stdout).expect("json");
    assert_eq!(v["verified"], json!(true));
    assert_eq!(v["resources"], json!(6));
    assert_eq!(v["signature"], json!(sig_ref));
    // The same signature verifies the unpacked directory.
    let sig_file = f.cwd().join("model.sig");
    let r = f.reference();
    f.run(&[
        "sign",
        "key",
        &r,
        "--private-key",
        s(&f.key),
        "--signature",
        s(&sig_file),
    ])
    .ok("sign to file");
    f.run(&[
        "verify",
        "key",
        s(&f.dir),
        "--public-key",
        s(&f.public),
        "--signature",
        s(&sig_file),
    ])
    .ok("the directory verifies with the artifact's signature");
    // --deep reads every blob and agrees.
    f.verify(&["--deep"]).ok("deep");
}

#[test]
fn tampered_layers_fail_verification() {
    let f = Fixture::new();
    f.sign(&[]).ok("sign");
    let image = model_image();
    // A raw layer whose bytes were replaced: the manifest still names the
    // old digest, so only --deep reads it; it fails closed.
    let raw = &image.layers[1];
    oci::tamper_blob(
        &f.layout,
        &oci::digest(&raw.blob),
        b"weights WEIGHTS weights",
    );
    f.verify(&[])
        .ok("raw layers are taken from the manifest without --deep");
    let deep = f.verify(&["--deep"]);
    assert_eq!(deep.code, 1, "{deep:?}");
    assert!(
        deep.stderr.contains("does not match its digest"),
        "{deep:?}"
    );
    assert!(deep.stderr.contains("model.safetensors"), "{deep:?}");
    // An archive layer is always streamed and checked.
    let g = Fixture::new();
    g.sign(&[]).ok("sign");
    let tar = &image.layers[2];
    let mut other = oci::tar_of(&[
        ("tokenizer/vocab.txt", b"x"),
        ("tokenizer/merges.txt", b"a b\n"),
    ]);
    other.truncate(tar.blob.len().min(other.len()));
    oci::tamper_blob(&g.layout, &oci::digest(&tar.blob), &other);
    let r = g.verify(&[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("does not match its digest"), "{r:?}");
}

#[test]
fn a_changed_artifact_is_reported_file_by_file() {
    let f = Fixture::new();
    let sig = f.cwd().join("model.sig");
    let r = f.reference();
    f.run(&[
        "sign",
        "key",
        &r,
        "--private-key",
        s(&f.key),
        "--signature",
        s(&sig),
    ])
    .ok("sign");
    // Another artifact under the same tag: a file changed, one missing, one new.
    let moved = Image::model(vec![
        Layer::raw("config.json", b"{\"hidden_size\": 9}"),
        Layer::archive(TAR, &[FILES[2], FILES[3]], Some("tokenizer")),
        Layer::archive(TAR_GZIP, &[FILES[4]], Some("docs")),
        Layer::archive(TAR_ZSTD, &[FILES[5]], None),
        Layer::raw("new.bin", b"new"),
    ]);
    oci::write_layout(&f.layout, "v1", &moved);
    let out = f.verify(&["--signature", s(&sig), "--json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let d = &v["differences"];
    assert_eq!(d["changed"][0]["path"], json!("config.json"), "{v}");
    assert_eq!(d["missing"], json!(["model.safetensors"]), "{v}");
    assert_eq!(d["unexpected"], json!(["new.bin"]), "{v}");
    // Without --signature the moved tag has no referrer: no signature.
    let none = f.verify(&[]);
    assert_eq!(none.code, 3, "{none:?}");
    assert!(none.stderr.contains("no signature of"), "{none:?}");
}

#[test]
fn blob_mode_signs_layer_digests_and_config() {
    let f = Fixture::new();
    let r = f.reference();
    let j: Value = serde_json::from_str(
        &f.run(&["digest", &r, "--oci-layers", "blobs", "--json"])
            .ok("digest")
            .stdout,
    )
    .expect("json");
    let names: Vec<&str> = j["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    // ModelPack layers carry org.cncf.model.filepath, not a title: each is
    // named by its position, as the Go implementation names them.
    assert_eq!(
        names,
        [
            "config.json",
            "layer_000.tar.gz",
            "layer_001.tar.gz",
            "layer_002.tar.gz",
            "layer_003.tar.gz",
            "layer_004.tar.gz"
        ],
    );
    f.sign(&["--oci-layers", "blobs"]).ok("sign blobs");
    // verify picks the blob mode from the signature (it lists config.json).
    f.verify(&[]).ok("auto");
    let wrong = f.verify(&["--oci-layers", "files"]);
    assert_eq!(wrong.code, 1, "{wrong:?}");
}

/// The statement the Go implementation of OMS signs for an OCI manifest
/// (`pkg/oci/manifest.go`): `config.json` with the config digest, each
/// layer by its title or `layer_NNN.tar.gz`, files serialization with
/// SHA-256 and empty `ignore_paths`, sorted by name.
fn go_statement(image: &Image) -> Value {
    let mut resources = vec![("config.json".to_owned(), oci::digest(&image.config))];
    for (i, l) in image.layers.iter().enumerate() {
        let name = l
            .annotations
            .get(oci::TITLE)
            .cloned()
            .unwrap_or_else(|| format!("layer_{i:03}.tar.gz"));
        resources.push((name, oci::digest(&l.blob)));
    }
    resources.sort();
    let mut root = sha2::Sha256::default();
    for (_, d) in &resources {
        sha2::Digest::update(&mut root, hex::decode(&d[7..]).expect("hex"));
    }
    let root = hex::encode(sha2::Digest::finalize(root));
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "manifest", "digest": {"sha256": root}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {
            "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false, "ignore_paths": []},
            "resources": resources.iter().map(|(n, d)| json!({"name": n, "algorithm": "sha256", "digest": &d[7..]})).collect::<Vec<_>>(),
        }
    })
}

#[test]
fn go_implementation_manifest_signatures_verify() {
    let image = Image::model(vec![
        Layer::titled("model.safetensors", FILES[1].1),
        Layer::titled("config.json.bak", FILES[0].1),
        Layer::archive(TAR_GZIP, &[FILES[4]], None),
    ]);
    let f = Fixture::with(&image);
    let statement = go_statement(&image);
    let template = testkit::sign_with_key(
        &f.dir,
        &model_signing::hashing::HashConfig::new(),
        &f.key_obj,
    );
    let bundle = testkit::resign(&template, &f.key_obj, |st| *st = statement);
    let sig = f.cwd().join("go.sig");
    std::fs::write(&sig, bundle.to_json()).expect("sig");
    f.verify(&["--signature", s(&sig)])
        .ok("a Go-style signature of the manifest verifies (auto: blobs)");
    f.verify(&["--signature", s(&sig), "--oci-layers", "blobs", "--deep"])
        .ok("and with every blob read");
    // A layer swapped for another breaks it.
    let other = Image::model(vec![
        Layer::titled("model.safetensors", b"other weights"),
        Layer::titled("config.json.bak", FILES[0].1),
        Layer::archive(TAR_GZIP, &[FILES[4]], None),
    ]);
    oci::write_layout(&f.layout, "v1", &other);
    let bad = f.verify(&["--signature", s(&sig)]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(bad.all().contains("model.safetensors"), "{bad:?}");
}

fn refused(image: &Image, why: &str, code: i32) {
    let f = Fixture::with(image);
    let r = f.reference();
    let out = f.run(&["digest", &r]);
    assert_eq!(out.code, code, "{why}: {out:?}");
    assert!(out.stderr.contains(why), "{why}: {out:?}");
    assert!(
        out.stderr.contains("layout"),
        "names the reference: {out:?}"
    );
}

#[test]
fn hostile_paths_are_refused() {
    use tar::EntryType::{Link, Regular, Symlink};
    for (path, why) in [
        ("../escape", "invalid path"),
        ("/etc/passwd", "invalid path"),
        ("a//b", "invalid path"),
        ("", "invalid path"),
        ("dir/", "empty path component"),
        ("a\u{1b}[31mred", "control character"),
    ] {
        refused(&Image::model(vec![Layer::raw(path, b"x")]), why, 1);
    }
    refused(
        &Image::model(vec![Layer::custom(RAW, b"x".to_vec(), &[])]),
        "needs a path",
        1,
    );
    refused(
        &Image::model(vec![Layer::raw("a", b"x"), Layer::raw("a", b"y")]),
        "two layers or archive entries give the file",
        1,
    );
    refused(
        &Image::model(vec![Layer::raw("a", b"x"), Layer::raw("a/b", b"y")]),
        "both a file and a directory",
        1,
    );
    for (entries, why) in [
        (vec![("../x", Regular, &b"x"[..], None)], "invalid path"),
        (vec![("/abs", Regular, &b"x"[..], None)], "invalid path"),
        (
            vec![("link", Symlink, &b""[..], Some("/etc/passwd"))],
            "symbolic link",
        ),
        (vec![("hard", Link, &b""[..], Some("x"))], "hard link"),
        (vec![("dir/.wh.file", Regular, &b""[..], None)], "whiteout"),
        (
            vec![("fifo", tar::EntryType::Fifo, &b""[..], None)],
            "not a regular file",
        ),
    ] {
        let blob = oci::tar_raw(&entries);
        refused(&Image::model(vec![Layer::custom(TAR, blob, &[])]), why, 1);
    }
    // Entries outside the path the layer's annotation names.
    refused(
        &Image::model(vec![Layer::archive(
            TAR,
            &[("other/x", b"x")],
            Some("tokenizer"),
        )]),
        "outside \"tokenizer\"",
        1,
    );
    refused(
        &Image::model(vec![Layer::custom(
            TAR,
            b"not a tar archive at all, surely".repeat(20),
            &[],
        )]),
        "tar archive",
        1,
    );
    refused(
        &Image::model(vec![Layer::custom(TAR_GZIP, b"not gzip".to_vec(), &[])]),
        "layer 0",
        1,
    );
}

#[test]
fn unknown_media_types_and_indexes_are_refused() {
    refused(
        &Image::model(vec![Layer::custom(
            "application/x-something",
            b"x".to_vec(),
            &[(oci::TITLE, "x")],
        )]),
        "application/x-something",
        1,
    );
    // An image index: listed, and chosen with --platform.
    let tmp = tempfile::tempdir().expect("tempdir");
    let layout = tmp.path().join("l");
    let a = Image::model(vec![Layer::raw("a", b"amd64")]);
    let b = Image::model(vec![Layer::raw("a", b"arm64")]);
    let da = oci::write_layout(&layout, "a", &a);
    let db = oci::write_layout(&layout, "b", &b);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": da, "size": a.manifest().len(), "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": db, "size": b.manifest().len(), "platform": {"os": "linux", "architecture": "arm64"}},
        ]
    }))
    .expect("index");
    oci::add_to_layout(
        &layout,
        "multi",
        &[],
        &index,
        "application/vnd.oci.image.index.v1+json",
    );
    let r = format!("oci-layout://{}:multi", layout.display());
    let out = run(tmp.path(), &["digest", &r]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("image index of 2 manifests"), "{out:?}");
    assert!(
        out.stderr.contains(&da) && out.stderr.contains("linux/arm64"),
        "{out:?}"
    );
    let amd = digest_of(tmp.path(), &r, &["--platform", "linux/amd64"]);
    let arm = digest_of(tmp.path(), &r, &["--platform", "linux/arm64"]);
    assert_ne!(amd, arm);
    assert_eq!(
        amd,
        digest_of(
            tmp.path(),
            &format!("oci-layout://{}:a", layout.display()),
            &[]
        )
    );
    let none = run(tmp.path(), &["digest", &r, "--platform", "linux/s390x"]);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(
        none.stderr
            .contains("no manifest of the image index is for platform linux/s390x"),
        "{none:?}"
    );
    let bad = run(tmp.path(), &["digest", &r, "--platform", "linux"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn malformed_references_and_layouts_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (r, code, why) in [
        ("oci://", 2, "no repository"),
        ("oci://host/UPPER", 2, "invalid repository"),
        ("oci://host/repo@sha256:short", 2, "invalid digest"),
        ("oci-layout://", 2, "no directory"),
        ("oci-layout://missing-dir:v1", 3, "no oci-layout file"),
    ] {
        let out = run(tmp.path(), &["digest", r]);
        assert_eq!(out.code, code, "{r}: {out:?}");
        assert!(out.stderr.contains(why), "{r}: {out:?}");
    }
    let f = Fixture::new();
    let missing_tag = format!("oci-layout://{}:v2", f.layout.display());
    let out = f.run(&["digest", &missing_tag]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains("tag \"v2\"") && out.stderr.contains("tags: v1"),
        "{out:?}"
    );
    // A manifest over the size cap.
    std::fs::write(
        f.layout.join("blobs/sha256").join(&f.manifest[7..]),
        vec![b' '; (4 << 20) + 1],
    )
    .expect("big");
    let out = f.run(&["digest", &f.reference()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("larger than the 4194304 bytes allowed"),
        "{out:?}"
    );
}

#[test]
fn inspect_shows_the_signature_of_a_model() {
    let f = Fixture::new();
    let r = f.reference();
    let none = f.run(&["inspect", &r]);
    assert_eq!(none.code, 3, "{none:?}");
    assert!(none.stderr.contains("no signature of"), "{none:?}");
    let signed: Value = serde_json::from_str(&f.sign(&["--json"]).ok("sign").stdout).expect("json");
    let sig_ref = signed["signature"].as_str().expect("signature");
    let by_model: Value =
        serde_json::from_str(&f.run(&["inspect", &r, "--json"]).ok("inspect").stdout)
            .expect("json");
    assert_eq!(by_model["signature"], json!(sig_ref));
    assert_eq!(by_model["model_name"], json!("layout"));
    assert_eq!(by_model["resource_count"], json!(6));
    assert_eq!(by_model["digest"], signed["digest"]);
    let by_sig: Value = serde_json::from_str(
        &f.run(&["inspect", sig_ref, "--json"])
            .ok("inspect sig")
            .stdout,
    )
    .expect("json");
    assert_eq!(by_sig, by_model);
    // A second signature is named.
    f.sign(&["--hash", "blake3"]).ok("another signature");
    let two = f.run(&["inspect", &r]).ok("inspect");
    assert!(
        two.stderr.contains("1 more signatures of the model"),
        "{two:?}"
    );
}

#[test]
fn commands_for_models_on_disk_refuse_oci_models() {
    let f = Fixture::new();
    let r = f.reference();
    let policy = f.cwd().join("policy.yaml");
    std::fs::write(&policy, "version: 1\nsigners: {}\n").expect("policy");
    for args in [
        vec!["verify", "--policy", s(&policy), &r],
        vec![
            "lineage",
            "add",
            "--policy",
            s(&policy),
            &r,
            "--index",
            "x.db",
        ],
    ] {
        let out = f.run(&args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("takes a model on disk"),
            "{args:?}: {out:?}"
        );
    }
    let out = f.run(&[
        "sign",
        "key",
        &r,
        "--private-key",
        s(&f.key),
        "--incremental",
    ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("--incremental applies to models on disk"),
        "{out:?}"
    );
    let out = f.run(&[
        "verify",
        "key",
        &r,
        "--public-key",
        s(&f.public),
        "--files",
        "config.json",
    ]);
    assert_eq!(out.code, 2, "{out:?}");
}

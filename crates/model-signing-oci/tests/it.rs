//! The library on image layouts: signing and verifying with the calls of
//! `model`, the layer rules (archive entry names, ignore paths, shards),
//! and refusals.

use model_signing::hashing::{HashAlgorithm, HashConfig, NoProgress};
use model_signing::keys::KeyAlgorithm;
use model_signing::sign::KeySigner;
use model_signing::verify::{KeyVerifier, ModelCheckOptions, VerifyError};
use model_signing::Manifest;
use model_signing_oci::artifact::{self, LayerMode};
use model_signing_oci::model::{self, CheckModelError, LayerChoice};
use model_signing_oci::referrers::push_signature;
use model_signing_oci::{OciError, RegistryOptions};
use testkit::oci::{self, Image, Layer, TAR, TAR_GZIP, TAR_ZSTD};

fn open(
    layout: &std::path::Path,
    tag: &str,
) -> (Box<dyn model_signing_oci::Store>, artifact::Artifact) {
    let r = model_signing_oci::parse(&format!("oci-layout://{}:{tag}", layout.display()))
        .expect("parse")
        .expect("oci");
    let store = model_signing_oci::open(&r, &RegistryOptions::default()).expect("open");
    let a = artifact::resolve(store.as_ref(), &r, None).expect("resolve");
    (store, a)
}

fn manifest_of(image: &Image, config: &HashConfig, mode: LayerMode) -> Result<Manifest, OciError> {
    let tmp = tempfile::tempdir().expect("tempdir");
    oci::write_layout(tmp.path(), "t", image);
    let (store, a) = open(tmp.path(), "t");
    model::hash_model(store.as_ref(), &a, "m".into(), config, mode, &NoProgress).map(|(m, _)| m)
}

/// The artifact hashed in files mode with the default configuration.
fn hash_files(
    store: &dyn model_signing_oci::Store,
    a: &artifact::Artifact,
) -> Result<Manifest, OciError> {
    model::hash_model(
        store,
        a,
        "m".into(),
        &HashConfig::new(),
        LayerMode::Files,
        &NoProgress,
    )
    .map(|(m, _)| m)
}

fn dir_manifest(files: &[(&str, &[u8])], config: &HashConfig) -> Manifest {
    let tmp = tempfile::tempdir().expect("tempdir");
    testkit::write_files(tmp.path(), files);
    Manifest::hash(tmp.path(), config, &NoProgress).expect("hash")
}

#[test]
fn library_sign_and_verify_round_trip() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let image = Image::model(vec![
        Layer::raw("a.bin", b"alpha"),
        Layer::archive(TAR_ZSTD, &[("dir/b.bin", b"beta")], Some("dir")),
    ]);
    oci::write_layout(tmp.path(), "v1", &image);
    let (store, a) = open(tmp.path(), "v1");
    let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
    let signer = KeySigner::new(Box::new(key.clone())).expect("signer");
    let config = HashConfig::new();
    let (bundle, manifest) = model::sign_model(
        store.as_ref(),
        &a,
        &config,
        LayerMode::Files,
        &signer,
        &NoProgress,
    )
    .expect("sign");
    assert_eq!(manifest.resources.len(), 2);
    let pushed = push_signature(
        store.as_ref(),
        &a.descriptor,
        bundle.to_json().as_bytes(),
        &bundle.media_type,
    )
    .expect("push");
    assert_eq!(pushed.tag, None, "a layout lists referrers itself");

    let verifier = KeyVerifier::new(testkit::public(&key).clone());
    let found = model::find_signature(store.as_ref(), &a, &verifier).expect("found");
    assert_eq!(found.digest, pushed.digest);
    let verified = found.verified.expect("verifies");
    let ok = model::check_model(
        store.as_ref(),
        &a,
        verified,
        LayerChoice::Auto,
        false,
        &ModelCheckOptions::default(),
        &NoProgress,
    )
    .expect("model matches");
    assert_eq!(ok.resources_checked, 2);

    // Another key: found, but it does not verify.
    let other = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
    let found = model::find_signature(
        store.as_ref(),
        &a,
        &KeyVerifier::new(testkit::public(&other).clone()),
    )
    .expect("found");
    assert!(found.verified.is_err());

    // A changed artifact under the tag: no signature among its referrers.
    oci::write_layout(
        tmp.path(),
        "v1",
        &Image::model(vec![Layer::raw("a.bin", b"ALPHA")]),
    );
    let (store2, a2) = open(tmp.path(), "v1");
    assert!(matches!(
        model::find_signature(store2.as_ref(), &a2, &verifier),
        Err(OciError::NoSignature { .. })
    ));
    // The old signature against the new artifact: a mismatch.
    let (_, a_old) = open(tmp.path(), "v1");
    let v = model_signing::verify::verify_bundle(&bundle, &verifier).expect("signature");
    let err = model::check_model(
        store2.as_ref(),
        &a_old,
        v,
        LayerChoice::Auto,
        false,
        &ModelCheckOptions::default(),
        &NoProgress,
    )
    .expect_err("mismatch");
    let CheckModelError::Verify(VerifyError::ModelMismatch(report)) = err else {
        panic!("{err:?}")
    };
    assert_eq!(report.changed.len(), 1);
    assert_eq!(report.missing, vec!["dir/b.bin".to_owned()]);
}

#[test]
fn an_artifact_cannot_choose_the_blob_reading() {
    // A files signature of a model with a root config.json.
    let files: [(&str, &[u8]); 3] = [
        ("config.json", b"{}"),
        ("model.safetensors", b"weights"),
        ("tokenizer.json", b"tokens"),
    ];
    let tmp = tempfile::tempdir().expect("tempdir");
    let image = Image::model(files.iter().map(|(p, d)| Layer::raw(p, d)).collect());
    oci::write_layout(tmp.path(), "v1", &image);
    let (store, a) = open(tmp.path(), "v1");
    let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
    let signer = KeySigner::new(Box::new(key.clone())).expect("signer");
    let (bundle, _) = model::sign_model(
        store.as_ref(),
        &a,
        &HashConfig::new(),
        LayerMode::Files,
        &signer,
        &NoProgress,
    )
    .expect("sign");
    let verifier = KeyVerifier::new(testkit::public(&key).clone());
    // Another artifact: config.json's bytes as the config blob, the other
    // two files titled as signed but placed (filepath) the other way round.
    let swapped = |title: &str, path: &str, data: &[u8]| {
        Layer::custom(
            oci::RAW,
            data.to_vec(),
            &[(oci::TITLE, title), (oci::FILEPATH, path)],
        )
    };
    let mut evil = Image::model(vec![
        swapped("model.safetensors", "tokenizer.json", files[1].1),
        swapped("tokenizer.json", "model.safetensors", files[2].1),
    ]);
    evil.config = files[0].1.to_vec();
    oci::write_layout(tmp.path(), "evil", &evil);
    let (store, a) = open(tmp.path(), "evil");
    let check = |choice| {
        model::check_model(
            store.as_ref(),
            &a,
            model_signing::verify::verify_bundle(&bundle, &verifier).expect("signature"),
            choice,
            false,
            &ModelCheckOptions::default(),
            &NoProgress,
        )
    };
    // Read by title (the blob reading) it would match; auto reads it as a
    // files reader places it, and it does not.
    assert!(check(LayerChoice::Mode(LayerMode::Blobs)).is_ok());
    assert!(check(LayerChoice::Auto).is_err());
}

#[test]
fn archive_entries_and_ignore_rules_match_the_directory() {
    let files: [(&str, &[u8]); 5] = [
        ("./x/y.bin", b"y"),
        ("x/z.bin", b"zz"),
        (".gitattributes", b"*.bin lfs"),
        ("skip/me.txt", b"skipped"),
        ("empty.txt", b""),
    ];
    let on_disk: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.trim_start_matches("./"), *d))
        .collect();
    let image = Image::model(vec![
        Layer::archive(TAR, &files[..2], None),
        Layer::raw(".gitattributes", files[2].1),
        Layer::archive(TAR_GZIP, &[files[3], files[4]], None),
    ]);
    for config in [
        HashConfig::new(),
        HashConfig::new().ignore_paths(["skip"]).expect("ignore"),
        HashConfig::new().algorithm(HashAlgorithm::Blake2b),
        HashConfig::new().shards(1).expect("shards"),
        HashConfig::new().ignore_git_paths(false),
    ] {
        let a = manifest_of(&image, &config, LayerMode::Files).expect("artifact");
        let d = dir_manifest(&on_disk, &config);
        assert_eq!(a.resources, d.resources, "{config:?}");
        assert_eq!(a.serialization, d.serialization, "{config:?}");
    }
}

#[test]
fn blob_mode_needs_files_and_sha256() {
    let image = Image::model(vec![Layer::raw("a", b"a")]);
    let e = manifest_of(
        &image,
        &HashConfig::new().algorithm(HashAlgorithm::Blake3),
        LayerMode::Blobs,
    )
    .expect_err("refused");
    assert!(
        e.to_string().contains("needs files hashing with sha256"),
        "{e}"
    );
    let e = manifest_of(
        &image,
        &HashConfig::new().shards(10).expect("s"),
        LayerMode::Blobs,
    )
    .expect_err("refused");
    assert!(matches!(e, OciError::Usage(_)), "{e}");
}

#[test]
fn malformed_layers_are_refused_with_their_reason() {
    let config = HashConfig::new();
    let cases: Vec<(Image, &str)> = vec![
        (
            Image::model(vec![Layer::custom("text/plain", b"x".to_vec(), &[])]),
            "not supported",
        ),
        (
            Image::model(vec![Layer::custom(TAR_ZSTD, b"not zstd".to_vec(), &[])]),
            "layer 0",
        ),
        (
            Image::model(vec![Layer::custom(TAR, vec![0xff; 512], &[])]),
            "tar archive",
        ),
        (
            Image::model(vec![Layer::custom(
                TAR,
                oci::tar_raw(&[("a\\..\\b", tar::EntryType::Regular, b"x", None)]),
                &[],
            )]),
            "",
        ),
        (
            Image::model(vec![Layer::custom(
                TAR,
                oci::tar_raw(&[("x", tar::EntryType::Symlink, b"", Some("../../etc"))]),
                &[],
            )]),
            "symbolic link",
        ),
        (Image::model(vec![Layer::raw("..", b"x")]), "invalid path"),
        (Image::model(vec![Layer::raw(".", b"x")]), "invalid path"),
        (Image::model(vec![Layer::raw("a\0b", b"x")]), "invalid path"),
        (
            Image::model(vec![
                Layer::archive(TAR, &[("a", b"1")], None),
                Layer::raw("a", b"2"),
            ]),
            "two layers",
        ),
        (
            Image::model(vec![Layer::archive(TAR, &[("a", b"1"), ("a", b"2")], None)]),
            "two layers",
        ),
        (
            Image::model(vec![Layer::archive(TAR, &[("m/a", b"1")], Some("../m"))]),
            "invalid path",
        ),
    ];
    // A tar archive with its end-of-archive blocks cut off, to be followed
    // by more.
    let open_tar = |files: &[(&str, &[u8])]| {
        let t = oci::tar_of(files);
        t[..t.len() - 1024].to_vec()
    };
    let gzip_members =
        |members: &[Vec<u8>]| -> Vec<u8> { members.iter().flat_map(|m| oci::gzip(m)).collect() };
    let mut cases = cases;
    cases.extend([
        // Another gzip member holding a file of the same name: another reader
        // would unpack the second over the first.
        (
            Image::model(vec![Layer::custom(
                TAR_GZIP,
                gzip_members(&[open_tar(&[("a", b"1")]), oci::tar_of(&[("a", b"2")])]),
                &[],
            )]),
            "two layers",
        ),
        // A whole archive, then more entries after its end.
        (
            Image::model(vec![Layer::custom(
                TAR,
                [oci::tar_of(&[("a", b"1")]), oci::tar_of(&[("b", b"2")])].concat(),
                &[],
            )]),
            "data after the end of the tar archive",
        ),
        (
            Image::model(vec![Layer::custom(
                TAR_GZIP,
                gzip_members(&[oci::tar_of(&[("a", b"1")]), oci::tar_of(&[("b", b"2")])]),
                &[],
            )]),
            "data after the end of the tar archive",
        ),
        (
            Image::model(vec![Layer::custom(
                TAR,
                [oci::tar_of(&[("a", b"1")]), b"trailing".to_vec()].concat(),
                &[],
            )]),
            "data after the end of the tar archive",
        ),
        // Bytes after the last gzip member that are not another member.
        (
            Image::model(vec![Layer::custom(
                TAR_GZIP,
                [oci::gzip(&oci::tar_of(&[("a", b"1")])), b"junk".to_vec()].concat(),
                &[],
            )]),
            "layer 0",
        ),
        (
            Image::model(vec![Layer::custom(
                TAR_ZSTD,
                [
                    zstd::encode_all(&oci::tar_of(&[("a", b"1")])[..], 1).expect("zstd"),
                    b"junk".to_vec(),
                ]
                .concat(),
                &[],
            )]),
            "layer 0",
        ),
        (
            Image::model(vec![Layer::raw(&format!("{}x", "d/".repeat(2100)), b"x")]),
            "longer than 4096 bytes",
        ),
    ]);
    for (image, why) in cases {
        let r = manifest_of(&image, &config, LayerMode::Files);
        if why.is_empty() {
            // A backslash is an ordinary character in a name; the entry is a file.
            let m = r.expect("accepted");
            assert_eq!(m.resources[0].name, "a\\..\\b");
            continue;
        }
        let e = r.expect_err(why);
        assert!(e.to_string().contains(why), "{why}: {e}");
    }
}

#[test]
fn archives_read_as_other_readers_read_them() {
    // Every gzip member and zstd frame is read: files in the second are
    // files of the model.
    let open_tar = |files: &[(&str, &[u8])]| {
        let t = oci::tar_of(files);
        t[..t.len() - 1024].to_vec()
    };
    let both: [(&str, &[u8]); 2] = [("a", b"1"), ("b", b"2")];
    let gz = [
        oci::gzip(&open_tar(&both[..1])),
        oci::gzip(&oci::tar_of(&both[1..])),
    ]
    .concat();
    let zst = [
        zstd::encode_all(&open_tar(&both[..1])[..], 1).expect("zstd"),
        zstd::encode_all(&oci::tar_of(&both[1..])[..], 1).expect("zstd"),
    ]
    .concat();
    // Zero blocks after the end of the archive (record padding) are fine.
    let padded = [oci::tar_of(&both), vec![0; 10240]].concat();
    let config = HashConfig::new();
    for (media_type, blob) in [(TAR_GZIP, gz), (TAR_ZSTD, zst), (TAR, padded)] {
        let image = Image::model(vec![Layer::custom(media_type, blob, &[])]);
        let m = manifest_of(&image, &config, LayerMode::Files).expect(media_type);
        assert_eq!(
            m.resources,
            dir_manifest(&both, &config).resources,
            "{media_type}"
        );
    }
}

/// A tar stream of (header, data) pairs, each padded to 512 bytes, and
/// the end-of-archive blocks.
fn tar_blocks(entries: &[(tar::Header, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (h, data) in entries {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn header(kind: tar::EntryType, path: &str, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_path(path).expect("path");
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

#[test]
fn tar_extension_headers_are_bounded_and_followed() {
    let config = HashConfig::new();
    // A PAX header gives the size of the next entry (its own field says 0):
    // the guard that bounds extension headers follows the same framing.
    let record = b"9 size=5\n".to_vec();
    let pax = tar_blocks(&[
        (
            header(tar::EntryType::XHeader, "PaxHeaders/a", record.len() as u64),
            record,
        ),
        (header(tar::EntryType::Regular, "a", 0), b"12345".to_vec()),
        (header(tar::EntryType::Regular, "b", 2), b"67".to_vec()),
    ]);
    // A name over 100 bytes: the builder writes a GNU long-name header.
    let long = format!("{}/w.bin", "d".repeat(150));
    let named = oci::tar_of(&[(long.as_str(), b"w")]);
    for (blob, files) in [
        (pax, vec![("a", &b"12345"[..]), ("b", b"67")]),
        (named, vec![(long.as_str(), &b"w"[..])]),
    ] {
        for media_type in [TAR, TAR_GZIP] {
            let blob = if media_type == TAR {
                blob.clone()
            } else {
                oci::gzip(&blob)
            };
            let image = Image::model(vec![Layer::custom(media_type, blob, &[])]);
            let m = manifest_of(&image, &config, LayerMode::Files).expect("accepted");
            assert_eq!(m.resources, dir_manifest(&files, &config).resources);
        }
    }
    // Extension headers over 1 MiB are refused before the tar reader holds
    // them; a few kilobytes of gzip could otherwise ask for gigabytes.
    let big = 2u64 << 20;
    for kind in [
        tar::EntryType::GNULongName,
        tar::EntryType::GNULongLink,
        tar::EntryType::XHeader,
        tar::EntryType::XGlobalHeader,
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_path("././@LongLink").expect("path");
        h.set_size(big);
        h.set_cksum();
        let blob = oci::gzip(&tar_blocks(&[
            (h, vec![b'a'; big as usize]),
            (header(tar::EntryType::Regular, "a", 1), b"1".to_vec()),
        ]));
        assert!(blob.len() < 64 << 10, "{}", blob.len());
        let image = Image::model(vec![Layer::custom(TAR_GZIP, blob, &[])]);
        let e = manifest_of(&image, &config, LayerMode::Files).expect_err("too big");
        assert!(
            e.to_string()
                .contains("a tar extension header of 2097152 bytes"),
            "{kind:?}: {e}"
        );
    }
    // GNU sparse entries: refused at their header.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_path("s").expect("path");
    h.set_size(0);
    h.set_cksum();
    let image = Image::model(vec![Layer::custom(
        TAR,
        tar_blocks(&[(h, Vec::new())]),
        &[],
    )]);
    let e = manifest_of(&image, &config, LayerMode::Files).expect_err("sparse");
    assert!(e.to_string().contains("GNU sparse"), "{e}");
}

#[test]
fn an_empty_duplicate_is_refused_with_shards_too() {
    // With shards an empty file has no resource; its path still counts, so
    // a second, empty entry cannot stand in for a signed file unseen.
    let shards = HashConfig::new().shards(4).expect("shards");
    let cases = [
        Image::model(vec![Layer::archive(
            TAR,
            &[("a", b"12345"), ("a", b"")],
            None,
        )]),
        Image::model(vec![Layer::raw("a", b"12345"), Layer::raw("a", b"")]),
        Image::model(vec![
            Layer::archive(TAR, &[("a", b"")], None),
            Layer::raw("a", b"12345"),
        ]),
        Image::model(vec![
            Layer::raw("a", b""),
            Layer::archive(TAR, &[("a/b", b"1")], None),
        ]),
    ];
    for (i, image) in cases.iter().enumerate() {
        let e = manifest_of(image, &shards, LayerMode::Files).expect_err("duplicate");
        assert!(
            e.to_string().contains("two layers") || e.to_string().contains("both a file"),
            "case {i}: {e}"
        );
    }
    // An empty file alone: no resource, as on disk.
    let files: [(&str, &[u8]); 2] = [("a", b""), ("b", b"123456")];
    let image = Image::model(vec![
        Layer::archive(TAR, &files, None),
        Layer::raw("c", b""),
    ]);
    let m = manifest_of(&image, &shards, LayerMode::Files).expect("hash");
    let dir = dir_manifest(&[files[0], files[1], ("c", b"")], &shards);
    assert_eq!(m.resources, dir.resources);
    assert!(
        m.resources.iter().all(|r| r.name.starts_with("b:")),
        "{:?}",
        m.resources
    );
}

#[test]
fn the_resource_limit_holds_across_layers() {
    let config = HashConfig::new().max_resources(3);
    let image = Image::model(vec![
        Layer::archive(TAR, &[("a", b"1"), ("b", b"2")], None),
        Layer::archive(TAR, &[("c", b"3"), ("d", b"4")], None),
    ]);
    let e = manifest_of(&image, &config, LayerMode::Files).expect_err("over the limit");
    assert!(e.to_string().contains('3'), "{e}");
    let one = Image::model(vec![Layer::archive(
        TAR,
        &[("a", b"1"), ("b", b"2"), ("c", b"3"), ("d", b"4")],
        None,
    )]);
    let e = manifest_of(&one, &config, LayerMode::Files).expect_err("over the limit");
    assert!(e.to_string().contains("more than 3 resources"), "{e}");
}

#[test]
fn blob_sizes_and_digests_are_checked_when_streamed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let layer = Layer::archive(TAR, &[("a", b"content")], None);
    let image = Image::model(vec![layer.clone()]);
    oci::write_layout(tmp.path(), "t", &image);
    let d = oci::digest(&layer.blob);
    // Longer than its size: refused without reading past it.
    let mut longer = layer.blob.clone();
    longer.extend_from_slice(&[0; 4096]);
    oci::tamper_blob(tmp.path(), &d, &longer);
    let (store, a) = open(tmp.path(), "t");
    let e = hash_files(store.as_ref(), &a).expect_err("longer");
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e}");
    // Shorter.
    oci::tamper_blob(tmp.path(), &d, &layer.blob[..layer.blob.len() - 512]);
    let e = hash_files(store.as_ref(), &a).expect_err("shorter");
    assert!(
        matches!(
            e,
            OciError::DigestMismatch { .. } | OciError::Archive { .. }
        ),
        "{e}"
    );
    // Same length, other bytes (trailing padding changed).
    let mut other = layer.blob.clone();
    let n = other.len();
    other[n - 1] = 1;
    oci::tamper_blob(tmp.path(), &d, &other);
    let e = hash_files(store.as_ref(), &a).expect_err("other bytes");
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e}");
    // A missing blob.
    std::fs::remove_file(tmp.path().join("blobs/sha256").join(&d[7..])).expect("rm");
    let e = hash_files(store.as_ref(), &a).expect_err("missing");
    assert!(matches!(e, OciError::NotFound { .. }), "{e}");
}

/// The crates of `cargo tree -p PACKAGE -e normal`.
fn dependencies(package: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "tree", "--frozen", "-p", package, "-e", "normal", "--prefix", "none", "--format",
            "{p}",
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_core_library_has_no_registry_client() {
    const NETWORK: [&str; 5] = ["tokio", "reqwest", "hyper", "oci-client", "mio"];
    for core in ["model-signing", "model-signing-hash"] {
        let deps = dependencies(core);
        let found: Vec<&String> = deps
            .iter()
            .filter(|d| NETWORK.contains(&d.as_str()))
            .collect();
        assert!(found.is_empty(), "{core} depends on {found:?}");
    }
    // The check can fail: this crate has them.
    let oci = dependencies("model-signing-oci");
    for needed in ["tokio", "reqwest", "oci-client"] {
        assert!(
            oci.iter().any(|d| d == needed),
            "model-signing-oci lacks {needed}"
        );
    }
}

#[test]
fn layout_files_that_are_not_regular_files_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let layer = Layer::archive(TAR, &[("a", b"content")], None);
    oci::write_layout(tmp.path(), "t", &Image::model(vec![layer.clone()]));
    // A FIFO would block the open forever; a directory is no blob either.
    let blob = tmp
        .path()
        .join("blobs/sha256")
        .join(&oci::digest(&layer.blob)[7..]);
    std::fs::remove_file(&blob).expect("rm");
    let status = std::process::Command::new("mkfifo")
        .arg(&blob)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let (store, a) = open(tmp.path(), "t");
    let e = hash_files(store.as_ref(), &a).expect_err("a FIFO");
    assert!(e.to_string().contains("not a regular file"), "{e}");
    std::fs::remove_file(&blob).expect("rm");
    std::fs::create_dir(&blob).expect("mkdir");
    let e = hash_files(store.as_ref(), &a).expect_err("a directory");
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let index = tmp.path().join("index.json");
    std::fs::remove_file(&index).expect("rm");
    assert!(std::process::Command::new("mkfifo")
        .arg(&index)
        .status()
        .expect("mkfifo runs")
        .success());
    let r = model_signing_oci::parse(&format!("oci-layout://{}:t", tmp.path().display()))
        .expect("parse")
        .expect("oci");
    let store = model_signing_oci::open(&r, &RegistryOptions::default()).expect("open");
    let e = artifact::resolve(store.as_ref(), &r, None).expect_err("index.json a FIFO");
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

//! OCI registry paths that `docker-registry` 2.8 does not have, against the
//! loopback test server of `testkit::oci_server`: the Referrers API, a
//! bearer-token service, counted transfers (signing raw layers reads one
//! manifest and no blob), a registry that stops in the middle of a blob, a
//! manifest past the size cap, and the bound on referrers read.

use std::path::{Path, PathBuf};

use model_signing::keys::KeyAlgorithm;
use serde_json::json;
use testkit::oci::{self, Image, Layer, TAR_GZIP};
use testkit::oci_server::{Server, ServerOptions};
use testkit::{public, Run};

struct Env {
    tmp: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
    docker_config: PathBuf,
}

impl Env {
    fn new(host: &str, creds: Option<(&str, &str)>) -> Env {
        let tmp = tempfile::tempdir().expect("tempdir");
        let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
        let key_path = tmp.path().join("key.pem");
        let public_path = tmp.path().join("key.pub");
        std::fs::write(&key_path, key.to_pkcs8_pem().as_bytes()).expect("key");
        std::fs::write(&public_path, public(&key).to_pem()).expect("key");
        let docker_config = tmp.path().join("docker");
        std::fs::create_dir_all(&docker_config).expect("mkdir");
        if let Some((u, p)) = creds {
            let b64 = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{u}:{p}"),
            );
            std::fs::write(
                docker_config.join("config.json"),
                serde_json::to_vec(&json!({"auths": {format!("http://{host}"): {"auth": b64}}}))
                    .expect("json"),
            )
            .expect("config");
        }
        Env {
            tmp,
            key: key_path,
            public: public_path,
            docker_config,
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = crate::cli_with_docker_config(self.tmp.path(), &self.docker_config)
            .args(args)
            .output()
            .expect("model-signing runs");
        Run::from(out)
    }

    fn sign(&self, r: &str) -> Run {
        self.run(&["sign", "key", r, "--private-key", s(&self.key)])
    }

    fn verify(&self, r: &str, extra: &[&str]) -> Run {
        let mut args = vec!["verify", "key", r, "--public-key", s(&self.public)];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

fn s(p: &Path) -> &str {
    testkit::path_str(p)
}

fn raw_image(size: usize) -> Image {
    Image::model(vec![
        Layer::raw("model-00001.safetensors", &testkit::pattern(size, 1)),
        Layer::raw("model-00002.safetensors", &testkit::pattern(size, 2)),
        Layer::raw("config.json", b"{}"),
    ])
}

#[test]
fn referrers_api_and_token_service() {
    let server = Server::start(ServerOptions {
        referrers_api: true,
        token_auth: Some(("bob".into(), "hunter2".into())),
        bind: None,
    });
    let manifest = server.put_image("team/model", "v1", &raw_image(1000));
    let env = Env::new(&server.host, Some(("bob", "hunter2")));
    let r = server.reference("team/model:v1");
    let signed = env.sign(&r).ok("sign with a bearer token");
    assert!(
        signed.stderr.contains("listed by the Referrers API"),
        "{signed:?}"
    );
    let refs = server.referrers_of(&manifest);
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(
        refs[0]["artifactType"],
        json!("application/vnd.dev.sigstore.bundle.v0.3+json")
    );
    env.verify(&r, &[]).ok("verify through the Referrers API");

    // Wrong password: the token service says no.
    let bad = Env::new(&server.host, Some(("bob", "wrong")));
    let out = bad.verify(&r, &[]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("denied"), "{out:?}");
    // No credentials at all.
    let none = Env::new(&server.host, None);
    let out = none.verify(&r, &[]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("no credentials for"), "{out:?}");
}

#[test]
fn signing_raw_layers_reads_one_manifest_and_no_blob() {
    let server = Server::start(ServerOptions {
        referrers_api: true,
        token_auth: None,
        bind: None,
    });
    let image = raw_image(1 << 20);
    let manifest_len = image.manifest().len() as u64;
    server.put_image("m", "v1", &image);
    let env = Env::new(&server.host, None);
    let r = server.reference("m:v1");
    server.reset_served();
    env.run(&["digest", &r]).ok("digest");
    let served = server.served();
    assert_eq!(served.manifest_gets, 1, "{served:?}");
    assert_eq!(served.manifest_bytes, manifest_len, "{served:?}");
    assert_eq!((served.blob_gets, served.blob_bytes), (0, 0), "{served:?}");

    server.reset_served();
    env.sign(&r).ok("sign");
    let served = server.served();
    assert_eq!(served.blob_bytes, 0, "signing reads no weights: {served:?}");
    assert_eq!(served.manifest_gets, 1, "{served:?}");

    // Another hashing than files + SHA-256 must read the layers.
    server.reset_served();
    env.run(&["digest", &r, "--hash", "blake3"])
        .ok("digest blake3");
    let served = server.served();
    let total: u64 = image.layers.iter().map(|l| l.blob.len() as u64).sum();
    assert_eq!(served.blob_bytes, total, "{served:?}");
    // And verify --deep reads every blob once.
    server.reset_served();
    env.verify(&r, &["--deep"]).ok("deep");
    let served = server.served();
    // Each layer once, and the signature's bundle.
    assert_eq!(
        served.blob_gets,
        image.layers.len() as u64 + 1,
        "{served:?}"
    );
    assert!(served.blob_bytes > total, "{served:?}");
}

#[test]
fn a_registry_that_stops_mid_blob() {
    let server = Server::start(ServerOptions::default());
    let archive = Layer::archive(
        TAR_GZIP,
        &[("weights.bin", &testkit::pattern(200_000, 3))],
        None,
    );
    let raw = Layer::raw("raw.bin", &testkit::pattern(100_000, 4));
    let image = Image::model(vec![archive.clone(), raw.clone()]);
    server.put_image("m", "v1", &image);
    let env = Env::new(&server.host, None);
    let r = server.reference("m:v1");
    env.sign(&r).ok("sign");
    server.truncate_blob(&oci::digest(&archive.blob), archive.blob.len() / 2);
    let out = env.verify(&r, &[]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("m@sha256:"), "names the model: {out:?}");
    assert!(
        out.stderr.contains(&oci::digest(&archive.blob)),
        "names the blob: {out:?}"
    );
    server.truncate_blob(&oci::digest(&archive.blob), usize::MAX);
    server.truncate_blob(&oci::digest(&raw.blob), 10);
    env.verify(&r, &[])
        .ok("raw layers are not read without --deep");
    let out = env.verify(&r, &["--deep"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains(&oci::digest(&raw.blob)), "{out:?}");
}

#[test]
fn oversized_manifests_and_many_referrers_are_bounded() {
    let server = Server::start(ServerOptions {
        referrers_api: true,
        token_auth: None,
        bind: None,
    });
    server.oversize_manifest("m:big", (4 << 20) + 10);
    let env = Env::new(&server.host, None);
    let out = env.run(&["digest", &server.reference("m:big")]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("larger than the 4194304 bytes allowed"),
        "{out:?}"
    );

    // 100 referrers that claim to be signatures: 64 are looked at, each
    // fails, and the error says so.
    let manifest = server.put_image("m", "v1", &raw_image(10));
    let subject = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest, "size": raw_image(10).manifest().len()});
    for i in 0..100 {
        let bundle = format!("{{\"not a bundle\": {i}}}").into_bytes();
        let layer = Layer::custom("application/vnd.dev.sigstore.bundle.v0.3+json", bundle, &[]);
        let mut img = Image::model(vec![layer]);
        img.artifact_type = Some("application/vnd.dev.sigstore.bundle.v0.3+json".into());
        img.config = b"{}".to_vec();
        img.config_media_type = "application/vnd.oci.empty.v1+json".into();
        let mut m: serde_json::Value = serde_json::from_slice(&img.manifest()).expect("json");
        m["subject"] = subject.clone();
        server.put_image("m", &format!("junk{i}"), &img);
        server.put_manifest(
            "m",
            &format!("ref{i}"),
            "application/vnd.oci.image.manifest.v1+json",
            serde_json::to_vec(&m).expect("json"),
        );
    }
    server.reset_served();
    let out = env.verify(&server.reference("m:v1"), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("none of the 64 signatures of the model verified"),
        "{out:?}"
    );
    let served = server.served();
    assert!(served.manifest_gets <= 1 + 64, "{served:?}");
}

#[test]
fn plain_http_only_for_loopback_or_when_allowed() {
    // A host that is not loopback by its name: this machine's own address
    // where it has one, else 0.0.0.0, which Linux connects to locally.
    let bind = testkit::oci_server::non_loopback_address();
    let server = Server::start(ServerOptions {
        bind,
        ..ServerOptions::default()
    });
    let host = match bind {
        Some(_) => server.host.clone(),
        None => format!("0.0.0.0:{}", server.host.rsplit(':').next().expect("port")),
    };
    server.put_image("m", "v1", &raw_image(10));
    let env = Env::new(&host, None);
    let r = format!("oci://{host}/m:v1");
    // Not loopback: HTTPS only, which this server does not speak.
    let out = env.run(&["digest", &r]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains(&format!("https://{host}")), "{out:?}");
    assert_eq!(
        server.served().manifest_gets,
        0,
        "nothing was fetched over plain HTTP"
    );
    env.run(&["digest", &r, "--insecure-registry"])
        .ok("allowed with --insecure-registry");
    assert_eq!(server.served().manifest_gets, 1);
}

#[test]
fn other_referrers_do_not_hide_the_signature() {
    let server = Server::start(ServerOptions {
        referrers_api: true,
        ..ServerOptions::default()
    });
    let image = raw_image(10);
    let manifest = server.put_image("m", "v1", &image);
    let subject = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest, "size": image.manifest().len()});
    // 100 SBOMs attached first (listed first), then the signature.
    for i in 0..100 {
        let sbom = format!("{{\"sbom\": {i}}}").into_bytes();
        let m = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/spdx+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": oci::digest(b"{}"), "size": 2},
            "layers": [{"mediaType": "application/spdx+json", "digest": oci::digest(&sbom), "size": sbom.len()}],
            "subject": subject,
        });
        server.put_manifest(
            "m",
            &format!("sbom{i}"),
            "application/vnd.oci.image.manifest.v1+json",
            serde_json::to_vec(&m).expect("json"),
        );
    }
    let env = Env::new(&server.host, None);
    let r = server.reference("m:v1");
    env.sign(&r).ok("sign");
    let listed = server.referrers_of(&manifest);
    assert_eq!(listed.len(), 101);
    assert_eq!(
        listed[100]["artifactType"],
        json!("application/vnd.dev.sigstore.bundle.v0.3+json")
    );
    server.reset_served();
    env.verify(&r, &[])
        .ok("the signature is found past 100 other referrers");
    // Only the signature's manifest was read among the referrers.
    assert!(server.served().manifest_gets <= 2, "{:?}", server.served());
}

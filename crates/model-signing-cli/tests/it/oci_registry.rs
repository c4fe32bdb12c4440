//! OCI models in a real registry: Debian's `docker-registry` (the CNCF
//! distribution registry 2.8) started on 127.0.0.1, open over plain HTTP
//! and with htpasswd basic auth over TLS (a test CA). Artifacts are built
//! as image layouts and pushed with `skopeo` (an independent client).
//! That registry has no Referrers API: signatures go to the referrers tag
//! schema (`sha256-<hex>`). The Referrers API and token service paths are
//! in `oci_server.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use model_signing::keys::KeyAlgorithm;
use serde_json::{json, Value};
use testkit::oci::{self, Auth, Image, Layer, Registry, TAR, TAR_GZIP};
use testkit::{public, skip_support, Run};

const FILES: [(&str, &[u8]); 4] = [
    ("config.json", b"{\"layers\": 2}"),
    ("model.safetensors", b"registry weights"),
    ("tokenizer/vocab.txt", b"x\ny\n"),
    ("docs/card.md", b"# card\n"),
];

fn image() -> Image {
    Image::model(vec![
        Layer::raw("config.json", FILES[0].1),
        Layer::raw("model.safetensors", FILES[1].1),
        Layer::archive(TAR, &[FILES[2]], Some("tokenizer")),
        Layer::archive(TAR_GZIP, &[FILES[3]], Some("docs")),
    ])
}

/// The registry and skopeo, or a recorded skip (a failure under CI).
fn start(test: &str, auth: Option<Auth>) -> Option<Registry> {
    if oci::skopeo_binary().is_none() {
        skip_support::prerequisite_missing(
            test,
            "skopeo is not installed (apt-get install skopeo)",
        );
        return None;
    }
    let r = Registry::start(auth);
    if r.is_none() {
        skip_support::prerequisite_missing(
            test,
            "docker-registry is not installed (apt-get install docker-registry)",
        );
    }
    r
}

struct Env {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    key: PathBuf,
    public: PathBuf,
    docker_config: PathBuf,
}

impl Env {
    fn new(registry: &Registry) -> Env {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("unpacked");
        testkit::write_files(&dir, &FILES);
        let key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
        let key_path = tmp.path().join("key.pem");
        let public_path = tmp.path().join("key.pub");
        std::fs::write(&key_path, key.to_pkcs8_pem().as_bytes()).expect("key");
        std::fs::write(&public_path, public(&key).to_pem()).expect("key");
        let docker_config = registry
            .docker_config
            .clone()
            .unwrap_or_else(|| tmp.path().join("no-docker-config"));
        Env {
            tmp,
            dir,
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

    fn push(
        &self,
        registry: &Registry,
        image: &Image,
        repo_tag: &str,
        auth: Option<&Auth>,
    ) -> String {
        let layout = self
            .tmp
            .path()
            .join(format!("layout-{}", repo_tag.replace([':', '/'], "-")));
        let digest = oci::write_layout(&layout, "t", image);
        registry.push_layout(&layout, "t", repo_tag, auth);
        digest
    }
}

fn s(p: &Path) -> &str {
    testkit::path_str(p)
}

fn skopeo_raw(registry: &Registry, repo_ref: &str) -> Option<Value> {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/{repo_ref}", registry.host))
        .output()
        .expect("skopeo");
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).expect("json"))
}

#[test]
fn open_registry_sign_verify_with_the_tag_schema() {
    let Some(registry) = start(
        "oci_registry::open_registry_sign_verify_with_the_tag_schema",
        None,
    ) else {
        return;
    };
    let env = Env::new(&registry);
    let manifest = env.push(&registry, &image(), "models/tiny:v1", None);
    let r = registry.reference("models/tiny:v1");

    // The artifact's digest is the unpacked directory's.
    let d_oci = env.run(&["digest", &r]).ok("digest");
    let d_dir = env.run(&["digest", s(&env.dir)]).ok("digest dir");
    assert_eq!(d_oci.stdout, d_dir.stdout);

    let signed = env
        .run(&["sign", "key", &r, "--private-key", s(&env.key), "--json"])
        .ok("sign");
    let doc: Value = serde_json::from_str(&signed.stdout).expect("json");
    assert!(
        signed.stderr.contains("referrers tag sha256-"),
        "{signed:?}"
    );
    let sig_ref = doc["signature"].as_str().expect("signature").to_owned();
    assert!(
        sig_ref.starts_with(&format!("oci://{}/models/tiny@sha256:", registry.host)),
        "{sig_ref}"
    );

    // The referrers index under the tag lists the signature, whose subject is the model.
    let tag = manifest.replace(':', "-");
    let index = skopeo_raw(&registry, &format!("models/tiny:{tag}")).expect("referrers index");
    assert_eq!(
        index["mediaType"],
        json!("application/vnd.oci.image.index.v1+json")
    );
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["artifactType"],
        json!("application/vnd.dev.sigstore.bundle.v0.3+json")
    );
    let sig_manifest = skopeo_raw(
        &registry,
        &format!("models/tiny@{}", entry["digest"].as_str().expect("d")),
    )
    .expect("sig");
    assert_eq!(sig_manifest["subject"]["digest"], json!(manifest));

    let v = env
        .run(&[
            "verify",
            "key",
            &r,
            "--public-key",
            s(&env.public),
            "--json",
        ])
        .ok("verify");
    let v: Value = serde_json::from_str(&v.stdout).expect("json");
    assert_eq!(v["verified"], json!(true));
    assert_eq!(v["signature"], json!(sig_ref));
    // By digest too, and with every blob read.
    let by_digest = registry.reference(&format!("models/tiny@{manifest}"));
    env.run(&[
        "verify",
        "key",
        &by_digest,
        "--public-key",
        s(&env.public),
        "--deep",
    ])
    .ok("deep by digest");

    // A second signature is added to the same index; verify uses the one that verifies.
    let other = testkit::key(KeyAlgorithm::EcdsaP384Sha384);
    let other_path = env.tmp.path().join("other.pem");
    std::fs::write(&other_path, other.to_pkcs8_pem().as_bytes()).expect("key");
    env.run(&["sign", "key", &r, "--private-key", s(&other_path)])
        .ok("second signature");
    let index = skopeo_raw(&registry, &format!("models/tiny:{tag}")).expect("index");
    assert_eq!(
        index["manifests"].as_array().map(Vec::len),
        Some(2),
        "{index}"
    );
    let both = env
        .run(&["verify", "key", &r, "--public-key", s(&env.public)])
        .ok("one of two");
    assert!(both.stderr.contains("one of 2 signatures"), "{both:?}");

    // The tag moved to another manifest: its referrers hold no signature.
    let moved = Image::model(vec![Layer::raw("model.safetensors", b"other weights")]);
    env.push(&registry, &moved, "models/tiny:v1", None);
    let out = env.run(&["verify", "key", &r, "--public-key", s(&env.public)]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains("no signature of") && out.stderr.contains("models/tiny@sha256:"),
        "{out:?}"
    );
    // The old signature, given as a file, does not match the new manifest.
    let sig_file = env.tmp.path().join("model.sig");
    env.run(&[
        "sign",
        "key",
        &by_digest,
        "--private-key",
        s(&env.key),
        "--signature",
        s(&sig_file),
    ])
    .ok("sign to file");
    let out = env.run(&[
        "verify",
        "key",
        &r,
        "--public-key",
        s(&env.public),
        "--signature",
        s(&sig_file),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("does not match its signature"),
        "{out:?}"
    );
}

#[test]
fn the_reference_verifies_the_unpacked_directory() {
    let Some(registry) = start(
        "oci_registry::the_reference_verifies_the_unpacked_directory",
        None,
    ) else {
        return;
    };
    let env = Env::new(&registry);
    env.push(&registry, &image(), "ref/model:v1", None);
    let r = registry.reference("ref/model:v1");
    let sig = env.tmp.path().join("model.sig");
    env.run(&[
        "sign",
        "key",
        &r,
        "--private-key",
        s(&env.key),
        "--signature",
        s(&sig),
    ])
    .ok("sign from the registry");
    testkit::reference::run_cli_ok(
        env.tmp.path(),
        &[
            "verify",
            "key",
            s(&env.dir),
            "--signature",
            s(&sig),
            "--public_key",
            s(&env.public),
        ],
    );
    // And the other way: the reference signs the directory, we verify the registry artifact.
    let ref_sig = env.tmp.path().join("ref.sig");
    testkit::reference::run_cli_ok(
        env.tmp.path(),
        &[
            "sign",
            "key",
            s(&env.dir),
            "--signature",
            s(&ref_sig),
            "--private_key",
            s(&env.key),
        ],
    );
    env.run(&[
        "verify",
        "key",
        &r,
        "--public-key",
        s(&env.public),
        "--signature",
        s(&ref_sig),
    ])
    .ok("the reference's signature of the directory verifies the artifact");
}

#[test]
fn authenticated_registry_over_tls() {
    let auth = Auth {
        user: "alice".into(),
        password: "correct horse".into(),
    };
    let Some(registry) = start(
        "oci_registry::authenticated_registry_over_tls",
        Some(Auth {
            user: auth.user.clone(),
            password: auth.password.clone(),
        }),
    ) else {
        return;
    };
    let env = Env::new(&registry);
    env.push(&registry, &image(), "private/model:v1", Some(&auth));
    let r = registry.reference("private/model:v1");
    let ca = registry.ca.clone().expect("ca");
    env.run(&[
        "sign",
        "key",
        &r,
        "--private-key",
        s(&env.key),
        "--registry-ca",
        s(&ca),
    ])
    .ok("sign over TLS with credentials");
    env.run(&[
        "verify",
        "key",
        &r,
        "--public-key",
        s(&env.public),
        "--registry-ca",
        s(&ca),
    ])
    .ok("verify");

    // Without the CA: the certificate is not trusted, and that is what is
    // reported (plain HTTP is not used for a registry that speaks TLS).
    let out = env.run(&["verify", "key", &r, "--public-key", s(&env.public)]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains(&registry.host), "{out:?}");
    assert!(out.stderr.to_lowercase().contains("certificate"), "{out:?}");

    // Wrong credentials, and none at all.
    let bad_dir = env.tmp.path().join("bad-docker");
    std::fs::create_dir_all(&bad_dir).expect("mkdir");
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alice:wrong");
    std::fs::write(
        bad_dir.join("config.json"),
        serde_json::to_vec(&json!({"auths": {registry.host.clone(): {"auth": b64}}}))
            .expect("json"),
    )
    .expect("config");
    for (config, why) in [
        (bad_dir.clone(), "check the credentials"),
        (env.tmp.path().join("none"), "no credentials for"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_model-signing"))
            .args([
                "verify",
                "key",
                &r,
                "--public-key",
                s(&env.public),
                "--registry-ca",
                s(&ca),
            ])
            .env("DOCKER_CONFIG", &config)
            .env_remove("REGISTRY_AUTH_FILE")
            .output()
            .expect("runs");
        let out = Run::from(out);
        assert_eq!(out.code, 3, "{out:?}");
        assert!(
            out.stderr.contains("denied") && out.stderr.contains(why),
            "{why}: {out:?}"
        );
    }
    // A credential helper, run as Docker runs it: `docker-credential-NAME get`,
    // the registry on stdin. credHelpers names it for this registry.
    let bin = env.tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let helper = bin.join("docker-credential-testhelper");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread host\n[ \"$1\" = get ] && [ \"$host\" = {} ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$host'\",\"Username\":\"{}\",\"Secret\":\"{}\"}}'\n",
            registry.host, auth.user, auth.password
        ),
    )
    .expect("helper");
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let helper_dir = env.tmp.path().join("helper-docker");
    std::fs::create_dir_all(&helper_dir).expect("mkdir");
    for (config, expect_ok) in [
        (
            json!({"credHelpers": {registry.host.clone(): "testhelper"}, "auths": {registry.host.clone(): {"auth": "d3Jvbmc6d3Jvbmc="}}}),
            true,
        ),
        (json!({"credsStore": "testhelper"}), true),
        (
            json!({"credHelpers": {"other.example.com": "testhelper"}}),
            false,
        ),
    ] {
        std::fs::write(
            helper_dir.join("config.json"),
            serde_json::to_vec(&config).expect("json"),
        )
        .expect("config");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Run::from(
            Command::new(env!("CARGO_BIN_EXE_model-signing"))
                .args(["digest", &r, "--registry-ca", s(&ca)])
                .env("DOCKER_CONFIG", &helper_dir)
                .env("PATH", path)
                .env_remove("REGISTRY_AUTH_FILE")
                .output()
                .expect("runs"),
        );
        if expect_ok {
            out.ok("credentials from the helper");
        } else {
            assert_eq!(out.code, 3, "{config}: {out:?}");
            assert!(out.stderr.contains("no credentials for"), "{out:?}");
        }
    }

    // REGISTRY_AUTH_FILE takes precedence over DOCKER_CONFIG.
    let out = Command::new(env!("CARGO_BIN_EXE_model-signing"))
        .args(["digest", &r, "--registry-ca", s(&ca)])
        .env("DOCKER_CONFIG", &bad_dir)
        .env("REGISTRY_AUTH_FILE", env.docker_config.join("config.json"))
        .output()
        .expect("runs");
    Run::from(out).ok("REGISTRY_AUTH_FILE");
}

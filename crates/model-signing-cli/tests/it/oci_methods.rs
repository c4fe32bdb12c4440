//! Every signing method on a registry model: certificates, PKCS#11 tokens (key and certificate)
//! (SoftHSM2) and Sigstore (the loopback stand-in), each signature pushed
//! to `docker-registry` as a referrer and verified from there; each also
//! verifies the unpacked directory, and `inspect` reads it back.

use std::path::{Path, PathBuf};
use std::process::Command;

use model_signing::keys::KeyAlgorithm;
use serde_json::{json, Value};
use sigstore_standin_harness::{Flavour, StandIn};
use testkit::oci::{self, Image, Layer, Registry, TAR_GZIP};
use testkit::softhsm::{module_path, SoftHsm};
use testkit::{skip_support, Pki, Run};

const FILES: [(&str, &[u8]); 2] = [
    ("weights.bin", b"method weights"),
    ("docs/card.md", b"card"),
];

fn image() -> Image {
    Image::model(vec![
        Layer::raw("weights.bin", FILES[0].1),
        Layer::archive(TAR_GZIP, &[FILES[1]], Some("docs")),
    ])
}

fn s(p: &Path) -> &str {
    testkit::path_str(p)
}

struct Setup {
    /// Stopped when the test ends.
    _registry: Registry,
    tmp: tempfile::TempDir,
    dir: PathBuf,
    reference: String,
}

fn setup(test: &str) -> Option<Setup> {
    if oci::skopeo_binary().is_none() || oci::registry_binary().is_none() {
        skip_support::prerequisite_missing(test, "docker-registry and skopeo are not installed");
        return None;
    }
    let registry = Registry::start(None)?;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("unpacked");
    testkit::write_files(&dir, &FILES);
    let layout = tmp.path().join("layout");
    oci::write_layout(&layout, "t", &image());
    registry.push_layout(&layout, "t", "methods/model:v1", None);
    let reference = registry.reference("methods/model:v1");
    Some(Setup {
        _registry: registry,
        tmp,
        dir,
        reference,
    })
}

impl Setup {
    fn run(&self, args: &[&str], env: &[(&str, &Path)]) -> Run {
        let mut cmd =
            crate::cli_with_docker_config(self.tmp.path(), &self.tmp.path().join("no-docker"));
        cmd.args(args).env_remove("MODEL_SIGNING_PKCS11_PIN");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("model-signing runs"))
    }

    /// `verify` on the registry and, with the signature read back by
    /// `inspect`, on the unpacked directory.
    fn verify_both(&self, verify: &[&str], method: &str, env: &[(&str, &Path)]) {
        let mut args = vec!["verify"];
        args.extend_from_slice(verify);
        args.push(&self.reference);
        args.push("--json");
        let out = self.run(&args, env).ok("verify the registry model");
        let v: Value = serde_json::from_str(&out.stdout).expect("json");
        assert_eq!(v["verified"], json!(true), "{v}");
        assert_eq!(v["method"], json!(method), "{v}");
        let sig_ref = v["signature"].as_str().expect("signature").to_owned();
        let inspected = self
            .run(&["inspect", &sig_ref, "--json"], env)
            .ok("inspect");
        let i: Value = serde_json::from_str(&inspected.stdout).expect("json");
        assert_eq!(i["method"], json!(method));
        assert_eq!(i["model_name"], json!("model"));
        // The same signature, pulled to a file, verifies the directory.
        let sig_file = self.tmp.path().join(format!("{method}.sig"));
        let bundle = self.pull_bundle(&sig_ref);
        std::fs::write(&sig_file, bundle).expect("sig");
        let mut args = vec!["verify"];
        args.extend_from_slice(verify);
        args.extend_from_slice(&[s(&self.dir), "--signature", s(&sig_file)]);
        self.run(&args, env)
            .ok("the directory verifies with the registry's signature");
    }

    /// The bundle of the signature manifest `sig_ref`, read with skopeo.
    fn pull_bundle(&self, sig_ref: &str) -> Vec<u8> {
        let repo_digest = sig_ref.strip_prefix("oci://").expect("oci");
        let out = Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false"])
            .arg(format!("docker://{repo_digest}"))
            .output()
            .expect("skopeo");
        assert!(out.status.success());
        let m: Value = serde_json::from_slice(&out.stdout).expect("json");
        let digest = m["layers"][0]["digest"].as_str().expect("layer").to_owned();
        let dest = self.tmp.path().join("pulled");
        let _ = std::fs::remove_dir_all(&dest);
        let out = Command::new("skopeo")
            .args(["copy", "--quiet", "--src-tls-verify=false"])
            .arg(format!("docker://{repo_digest}"))
            .arg(format!("oci:{}:x", dest.display()))
            .output()
            .expect("skopeo copy");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(dest.join("blobs/sha256").join(&digest[7..])).expect("bundle blob")
    }
}

#[test]
fn certificate_method() {
    let Some(t) = setup("oci_methods::certificate_method") else {
        return;
    };
    let pki = Pki::new(KeyAlgorithm::EcdsaP384Sha384);
    let files = pki.write(t.tmp.path());
    t.run(
        &[
            "sign",
            "certificate",
            &t.reference,
            "--private-key",
            s(&files.key),
            "--signing-certificate",
            s(&files.leaf),
            "--certificate-chain",
            s(&files.chain),
        ],
        &[],
    )
    .ok("sign certificate");
    t.verify_both(
        &["certificate", "--certificate-chain", s(&files.root)],
        "certificate",
        &[],
    );
}

#[test]
fn pkcs11_method() {
    let Some(t) = setup("oci_methods::pkcs11_method") else {
        return;
    };
    let hsm = SoftHsm::new();
    let keys = {
        let active = hsm.activate();
        active.init_token("models", "1234");
        active.generate_all_curves("models", "1234")
    };
    let pin = t.tmp.path().join("pin");
    std::fs::write(&pin, "1234\n").expect("pin");
    let uri = format!(
        "pkcs11:token=models;object=p256?module-path={}&pin-source={}",
        module_path().display(),
        pin.display()
    );
    let public = t.tmp.path().join("p256.pub");
    let key = &keys
        .iter()
        .find(|(a, _)| *a == KeyAlgorithm::EcdsaP256Sha256)
        .expect("p256")
        .1;
    std::fs::write(&public, key.to_pem()).expect("pub");
    let env = [("SOFTHSM2_CONF", hsm.conf())];
    t.run(
        &["sign", "pkcs11-key", &t.reference, "--pkcs11-uri", &uri],
        &env,
    )
    .ok("sign pkcs11-key");
    t.verify_both(&["key", "--public-key", s(&public)], "key", &env);

    // The token's key with a certificate a test CA issued for it.
    let ca_key = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
    let ca_spec = testkit::certs::Spec::ca("OCI Token CA");
    let ca = ca_spec.self_signed(&ca_key);
    let leaf = testkit::certs::Spec::leaf("OCI Token Signer").issue(key, &ca_spec.cn, &ca_key);
    let (ca_path, leaf_path) = (t.tmp.path().join("ca.pem"), t.tmp.path().join("leaf.pem"));
    std::fs::write(&ca_path, ca.to_pem()).expect("ca");
    std::fs::write(&leaf_path, leaf.to_pem()).expect("leaf");
    t.run(
        &[
            "sign",
            "pkcs11-certificate",
            &t.reference,
            "--pkcs11-uri",
            &uri,
            "--signing-certificate",
            s(&leaf_path),
        ],
        &env,
    )
    .ok("sign pkcs11-certificate");
    t.verify_both(
        &["certificate", "--certificate-chain", s(&ca_path)],
        "certificate",
        &env,
    );
}
#[test]
fn sigstore_method() {
    let Some(t) = setup("oci_methods::sigstore_method") else {
        return;
    };
    let standin = StandIn::shared();
    let config = standin.trust_config(Flavour::RekorV2).to_path_buf();
    let subject = "https://example.com/oci/sigstore";
    let token = standin.identity_token(subject).expect("token");
    t.run(
        &[
            "sign",
            "sigstore",
            &t.reference,
            "--trust-config",
            s(&config),
            "--identity-token",
            &token,
        ],
        &[],
    )
    .ok("sign sigstore");
    t.verify_both(
        &[
            "sigstore",
            "--trust-config",
            s(&config),
            "--identity",
            subject,
            "--identity-provider",
            standin.issuer(),
        ],
        "sigstore",
        &[],
    );
}

//! Signatures made as the Go implementation of OMS makes them, by other
//! implementations than this library's signers: RSASSA-PKCS1-v1_5 with
//! SHA-256 by OpenSSL, Ed25519ph (SHA-512 pre-hash, empty context) by
//! `ed25519-dalek` (OpenSSL 3.0 has no Ed25519ph), over the DSSE PAE, with the
//! Go tool's key hint (hex SHA-256 of the public key's PEM text). Keys and
//! certificates are made by OpenSSL.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ed25519_dalek::{Signer as _, SigningKey as EdSigningKey};
use model_signing::bundle::VerificationMaterial;
use model_signing::dsse::pae;
use model_signing::keys::{KeyAlgorithm, PublicKey};
use model_signing::sign::{BundleSigner, SignError, SignedPae};
use model_signing::x509::Certificate;
use sha2::{Digest as _, Sha256, Sha512};

pub use ed25519_dalek::SigningKey as Ed25519Key;

/// Runs `openssl` with `args` in `dir`; panics with its stderr if it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the openssl command line tool is installed");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// An RSA key made by OpenSSL: (private key file, public key PEM text).
pub fn rsa_key(dir: &Path, name: &str, bits: u32, exponent: u32) -> (PathBuf, String) {
    let key = format!("{name}.key");
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &format!("rsa_keygen_bits:{bits}"),
            "-pkeyopt",
            &format!("rsa_keygen_pubexp:{exponent}"),
            "-out",
            &key,
        ],
    );
    let public = openssl(dir, &["pkey", "-in", &key, "-pubout"]);
    (
        dir.join(key),
        String::from_utf8(public).expect("PEM is text"),
    )
}

/// Signs `message` with OpenSSL: RSASSA-PKCS1-v1_5 (OpenSSL's default for
/// RSA) or PSS, over the digest `digest`.
pub fn openssl_rsa_sign(
    dir: &Path,
    key: &Path,
    message: &[u8],
    digest: &str,
    pss: bool,
) -> Vec<u8> {
    let input = dir.join("message.bin");
    fs::write(&input, message).expect("write message");
    let mut args = vec![
        format!("-{digest}"),
        "-sign".into(),
        key.display().to_string(),
    ];
    if pss {
        args.extend(["-sigopt".into(), "rsa_padding_mode:pss".into()]);
    }
    args.extend(["-out".into(), "signature.bin".into(), "message.bin".into()]);
    let mut all = vec!["dgst".to_owned()];
    all.extend(args);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    openssl(dir, &refs);
    fs::read(dir.join("signature.bin")).expect("read signature")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The Go implementation's hint: hex SHA-256 of the public key's PEM text.
pub fn go_hint(public_pem: &str) -> String {
    sha256_hex(public_pem.as_bytes())
}

/// How a test signer signs the PAE.
pub enum Scheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256, by OpenSSL.
    RsaPkcs1 { dir: PathBuf, key: PathBuf },
    /// RSASSA-PSS with SHA-256, by OpenSSL (the scheme the Go tool never uses).
    RsaPss { dir: PathBuf, key: PathBuf },
    /// Ed25519ph with the given context (the Go tool: none).
    Ed25519Ph {
        key: Box<EdSigningKey>,
        context: Option<Vec<u8>>,
    },
    /// Pure Ed25519 over the PAE (the Go tool never signs so).
    Ed25519Pure(Box<EdSigningKey>),
}

/// Signs as the Go implementation does: over the PAE of the statement, the
/// material a key hint or the certificates.
pub struct GoSigner {
    pub scheme: Scheme,
    pub material: VerificationMaterial,
}

impl BundleSigner for GoSigner {
    fn sign_envelope(&self, payload_type: &str, payload: &[u8]) -> Result<SignedPae, SignError> {
        let message = pae(payload_type, payload);
        let signature = match &self.scheme {
            Scheme::RsaPkcs1 { dir, key } => openssl_rsa_sign(dir, key, &message, "sha256", false),
            Scheme::RsaPss { dir, key } => openssl_rsa_sign(dir, key, &message, "sha256", true),
            Scheme::Ed25519Ph { key, context } => {
                let mut prehash = Sha512::new();
                prehash.update(&message);
                key.sign_prehashed(prehash, context.as_deref())
                    .expect("Ed25519ph signs")
                    .to_bytes()
                    .to_vec()
            }
            Scheme::Ed25519Pure(key) => key.sign(&message).to_bytes().to_vec(),
        };
        Ok(SignedPae {
            signature,
            material: self.material.clone(),
            tlog_entries: Vec::new(),
            timestamp_data: None,
        })
    }
}

pub fn key_material(public_pem: &str) -> VerificationMaterial {
    VerificationMaterial::PublicKey {
        hint: Some(go_hint(public_pem)),
        raw_bytes: None,
        key_details: None,
    }
}

pub fn ed25519_key(seed: u8) -> EdSigningKey {
    EdSigningKey::from_bytes(&[seed; 32])
}

/// The SubjectPublicKeyInfo PEM of an Ed25519 key, written by OpenSSL from
/// the raw key (so the PEM text is not this library's).
pub fn ed25519_public_pem(dir: &Path, key: &EdSigningKey) -> String {
    // RFC 8410 PKCS#8 for the seed, then OpenSSL derives the public key.
    let mut der = hex::decode("302e020100300506032b657004220420").expect("hex");
    der.extend_from_slice(key.as_bytes());
    let path = dir.join("ed25519.der");
    fs::write(&path, der).expect("write key");
    let pem = openssl(
        dir,
        &["pkey", "-inform", "DER", "-in", "ed25519.der", "-pubout"],
    );
    String::from_utf8(pem).expect("PEM is text")
}

/// A CA and a leaf made by OpenSSL: `ca_alg` and `leaf_alg` are `openssl
/// req -newkey` arguments (`rsa:2048`, `ed25519`).
pub struct OpensslPki {
    pub ca: Certificate,
    pub leaf: Certificate,
    pub leaf_key: PathBuf,
    pub leaf_public: String,
}

pub fn openssl_pki(dir: &Path, ca_alg: &str, leaf_alg: &str) -> OpensslPki {
    let ext = dir.join("leaf.ext");
    fs::write(
        &ext,
        "basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=codeSigning\n\
         subjectKeyIdentifier=hash\n\
         authorityKeyIdentifier=keyid\n",
    )
    .expect("write extensions");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            ca_alg,
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=Test Go CA",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            leaf_alg,
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=Test Go Signer",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    let der = |name: &str| openssl(dir, &["x509", "-in", name, "-outform", "DER"]);
    let leaf_public = openssl(dir, &["x509", "-in", "leaf.pem", "-pubkey", "-noout"]);
    OpensslPki {
        ca: Certificate::from_der(&der("ca.pem")).expect("CA parses"),
        leaf: Certificate::from_der(&der("leaf.pem")).expect("leaf parses"),
        leaf_key: dir.join("leaf.key"),
        leaf_public: String::from_utf8(leaf_public).expect("PEM"),
    }
}

/// The leaf key of an OpenSSL Ed25519 PKI as an `ed25519-dalek` key (the
/// seed is the last 32 bytes of its PKCS#8 DER).
pub fn ed25519_from_openssl(dir: &Path, key: &Path) -> EdSigningKey {
    let der = openssl(
        dir,
        &[
            "pkey",
            "-in",
            key.to_str().expect("UTF-8"),
            "-outform",
            "DER",
        ],
    );
    let seed: [u8; 32] = der[der.len() - 32..].try_into().expect("32 bytes");
    EdSigningKey::from_bytes(&seed)
}

impl OpensslPki {
    /// How the Go tool signs with this PKI's leaf key: Ed25519ph for an
    /// Ed25519 leaf, RSASSA-PKCS1-v1_5 with SHA-256 for an RSA one.
    pub fn go_scheme(&self, dir: &Path) -> Scheme {
        let leaf = PublicKey::from_spki_der(self.leaf.spki_der()).expect("the leaf key loads");
        if leaf.algorithm() == KeyAlgorithm::Ed25519Ph {
            Scheme::Ed25519Ph {
                key: Box::new(ed25519_from_openssl(dir, &self.leaf_key)),
                context: None,
            }
        } else {
            Scheme::RsaPkcs1 {
                dir: dir.to_owned(),
                key: self.leaf_key.clone(),
            }
        }
    }
}

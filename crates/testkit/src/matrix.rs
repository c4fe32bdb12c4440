//! The verification matrix: one row per case, each a model, a signature
//! (built programmatically, and signed again after any change to the payload
//! so that the payload checks are reached rather than the signature check),
//! the trusted key or roots, and the expected outcome: the library's error
//! variant and the words the command line tool must print.
//!
//! The library runs every row in `crates/model-signing/tests/it/verify_matrix.rs`,
//! the command line tool in `crates/model-signing-cli/tests/it/verify_matrix.rs`.

use std::path::{Path, PathBuf};

use model_signing::bundle::{Bundle, BundleError, VerificationMaterial};
use model_signing::dsse::{legacy_v02_pae, Envelope, IN_TOTO_PAYLOAD_TYPE};
use model_signing::hashing::{HashAlgorithm, HashConfig, HashError, NoProgress};
use model_signing::keys::{KeyAlgorithm, PublicKey, SigningKey};
use model_signing::statement::{PayloadError, SerializationError};
use model_signing::verify::{
    verify_bundle, CertificateVerifier, DiffReport, KeyVerifier, ModelCheckOptions,
    SignatureVerifier, SignerMismatch, VerifiedModel, VerifyError,
};
use model_signing::x509::{CertError, Certificate};
use model_signing::JsonError;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::certs::{self, Spec, DAY, EKU_SERVER_AUTH};
use super::*;

/// What verification trusts.
pub enum Trust {
    /// `verify key` with this public key.
    Key(PublicKey),
    /// `verify certificate` with these roots.
    Anchors(Vec<Certificate>),
}

/// Everything one row verifies.
pub struct Setup {
    pub dir: TempDir,
    pub model: PathBuf,
    /// The signature file's bytes.
    pub bundle: Vec<u8>,
    pub trust: Trust,
    /// Verify with `--ignore-unsigned-files`.
    pub ignore_unsigned: bool,
}

pub type Check = Box<dyn Fn(&VerifyError) -> bool + Send + Sync>;

pub enum Expect {
    /// Verification succeeds; these unsigned files are reported as skipped.
    Pass { skipped: Vec<&'static str> },
    /// Verification fails with an error `check` accepts; the command line
    /// tool exits with 1 and prints every one of `cli` on stderr.
    Fail {
        check: Check,
        cli: Vec<&'static str>,
    },
}

pub struct Case {
    pub name: &'static str,
    pub setup: Box<dyn Fn() -> Setup + Send + Sync>,
    pub expect: Expect,
}

impl Case {
    pub fn is_negative(&self) -> bool {
        matches!(self.expect, Expect::Fail { .. })
    }
}

/// Verifies a row with the library and its default options (but for
/// `ignore_unsigned_files`, the row's flag): the command line tool with
/// default flags decides the same (`model-signing-cli/tests/verify_matrix.rs`
/// compares the two row by row).
pub fn verify_library(s: &Setup) -> Result<VerifiedModel, VerifyError> {
    let bundle = Bundle::from_json(&s.bundle)?;
    let verifier: Box<dyn SignatureVerifier> = match &s.trust {
        Trust::Key(key) => Box::new(KeyVerifier::new(key.clone())),
        Trust::Anchors(roots) => Box::new(CertificateVerifier::new(roots.clone())),
    };
    let verified = verify_bundle(&bundle, verifier.as_ref())?;
    let options = ModelCheckOptions {
        ignore_unsigned_files: s.ignore_unsigned,
        ..ModelCheckOptions::default()
    };
    verified.check_model(&s.model, &options, &NoProgress)
}

// ------------------------------------------------------------- builders

/// A small model signed with a P-256 key (files, SHA-256 unless given).
pub struct KeyBase {
    pub dir: TempDir,
    pub model: PathBuf,
    pub key: Key,
    pub bundle: Bundle,
}

impl Default for KeyBase {
    fn default() -> Self {
        KeyBase::new()
    }
}

impl KeyBase {
    pub fn new() -> Self {
        KeyBase::with(HashConfig::new())
    }

    pub fn with(config: HashConfig) -> Self {
        KeyBase::with_model(config, small_model)
    }

    /// A model that is one 30-byte file, `weights.bin`.
    pub fn single_file(config: HashConfig) -> Self {
        KeyBase::with_model(config, |dir| {
            let model = dir.join("weights.bin");
            write(&model, &pattern(30, 5));
            model
        })
    }

    pub fn with_model(config: HashConfig, make: impl FnOnce(&Path) -> PathBuf) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = make(dir.path());
        let key = key(KeyAlgorithm::EcdsaP256Sha256);
        let bundle = sign_with_key(&model, &config, &key);
        KeyBase {
            dir,
            model,
            key,
            bundle,
        }
    }

    pub fn shards(size: u64) -> Self {
        KeyBase::with(HashConfig::new().shards(size).expect("shard size"))
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.model.join(name)
    }

    /// The row: this bundle, verified with the signer's public key.
    pub fn done(self, bundle: Vec<u8>) -> Setup {
        let trust = Trust::Key(public(&self.key).clone());
        self.done_with(bundle, trust)
    }

    pub fn done_with(self, bundle: Vec<u8>, trust: Trust) -> Setup {
        Setup {
            dir: self.dir,
            model: self.model,
            bundle,
            trust,
            ignore_unsigned: false,
        }
    }

    /// The row with the unchanged bundle.
    pub fn signed(self) -> Setup {
        let bundle = self.bundle.to_json().into_bytes();
        self.done(bundle)
    }

    /// The row with the statement changed by `mutate` and signed again.
    pub fn resigned(self, mutate: impl FnOnce(&mut Value)) -> Setup {
        let bundle = resign(&self.bundle, &self.key, mutate)
            .to_json()
            .into_bytes();
        self.done(bundle)
    }

    /// Like [`resigned`](Self::resigned), with the subject digest kept consistent.
    pub fn resigned_fixed(self, mutate: impl FnOnce(&mut Value)) -> Setup {
        self.resigned(|v| {
            mutate(v);
            fix_root(v);
        })
    }

    /// The row with the payload text replaced and signed again.
    pub fn resigned_text(self, edit: impl FnOnce(String) -> String) -> Setup {
        let text = String::from_utf8(self.bundle.envelope.payload.clone()).expect("UTF-8 payload");
        let bundle = resign_raw(
            &self.bundle,
            IN_TOTO_PAYLOAD_TYPE,
            edit(text).into_bytes(),
            &self.key,
        );
        self.done(bundle.to_json().into_bytes())
    }

    /// The row with the bundle JSON changed (not signed again).
    pub fn edited(self, mutate: impl FnOnce(&mut Value)) -> Setup {
        let bundle = edit_json(&self.bundle, mutate);
        self.done(bundle)
    }
}

/// A small model signed by the leaf of a chain, the bundle carrying leaf and
/// intermediate. The bundle is assembled directly, so that certificates the
/// signer would refuse (expired, wrong usage) can be tested on the verifier.
pub fn cert_row(spec: PkiSpec, anchors: impl FnOnce(&Pki) -> Vec<Certificate>) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = small_model(dir.path());
    let pki = Pki::with(spec);
    let signed = sign_with_key(&model, &HashConfig::new(), &pki.leaf_key);
    let bundle = with_material(
        &signed,
        VerificationMaterial::X509CertificateChain(vec![
            pki.leaf.der().to_vec(),
            pki.intermediate.der().to_vec(),
        ]),
    );
    let trust = Trust::Anchors(anchors(&pki));
    Setup {
        dir,
        model,
        bundle: bundle.to_json().into_bytes(),
        trust,
        ignore_unsigned: false,
    }
}

/// The same envelope with other verification material.
pub fn with_material(bundle: &Bundle, material: VerificationMaterial) -> Bundle {
    Bundle::new(material, bundle.envelope.clone())
}

fn own_root(pki: &Pki) -> Vec<Certificate> {
    vec![pki.root.clone()]
}

fn leaf_spec(f: impl FnOnce(Spec) -> Spec) -> PkiSpec {
    let mut spec = PkiSpec::default();
    spec.leaf = f(spec.leaf);
    spec
}

fn write(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn append(path: &Path, data: &[u8]) {
    let mut all = std::fs::read(path).expect("read");
    all.extend_from_slice(data);
    write(path, &all);
}

fn first_resource(v: &mut Value) -> &mut Value {
    &mut v["predicate"]["resources"][0]
}

// ---------------------------------------------------------- expectations

fn pass() -> Expect {
    Expect::Pass {
        skipped: Vec::new(),
    }
}

fn pass_skipping(skipped: &[&'static str]) -> Expect {
    Expect::Pass {
        skipped: skipped.to_vec(),
    }
}

fn fail(
    check: impl Fn(&VerifyError) -> bool + Send + Sync + 'static,
    cli: &[&'static str],
) -> Expect {
    Expect::Fail {
        check: Box::new(check),
        cli: cli.to_vec(),
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// The report lists exactly these differences.
pub fn report_is(r: &DiffReport, changed: &[&str], missing: &[&str], unexpected: &[&str]) -> bool {
    let names: Vec<String> = r.changed.iter().map(|c| c.name.clone()).collect();
    sorted(&names) == strings(changed)
        && sorted(&r.missing) == strings(missing)
        && sorted(&r.unexpected) == strings(unexpected)
}

/// A model mismatch listing exactly these differences; the command line tool
/// names each group and each file.
fn mismatch(
    changed: &'static [&'static str],
    missing: &'static [&'static str],
    unexpected: &'static [&'static str],
) -> Expect {
    let mut cli = vec!["does not match its signature"];
    if !changed.is_empty() {
        cli.push("changed (");
    }
    if !missing.is_empty() {
        cli.push("missing (");
    }
    if !unexpected.is_empty() {
        cli.push("unexpected (");
    }
    cli.extend(changed.iter().chain(missing).chain(unexpected));
    fail(
        move |e| matches!(e, VerifyError::ModelMismatch(r) if report_is(r, changed, missing, unexpected)),
        &cli,
    )
}

fn payload(
    check: impl Fn(&PayloadError) -> bool + Send + Sync + 'static,
    cli: &[&'static str],
) -> Expect {
    fail(
        move |e| matches!(e, VerifyError::Payload(p) if check(p)),
        cli,
    )
}

fn bundle_error(
    check: impl Fn(&BundleError) -> bool + Send + Sync + 'static,
    cli: &[&'static str],
) -> Expect {
    fail(
        move |e| matches!(e, VerifyError::Bundle(b) if check(b)),
        cli,
    )
}

fn cert_error(
    check: impl Fn(&CertError) -> bool + Send + Sync + 'static,
    cli: &[&'static str],
) -> Expect {
    fail(
        move |e| matches!(e, VerifyError::Certificate(c) if check(c)),
        cli,
    )
}

fn bad_name(name: &'static str, reason: &'static str, cli: &'static str) -> Case {
    case(
        name,
        move || KeyBase::new().resigned_fixed(|v| first_resource(v)["name"] = json!(name_of(name))),
        payload(
            move |p| matches!(p, PayloadError::ResourceName { reason: r, .. } if r.contains(reason)),
            &["invalid resource name", cli],
        ),
    )
}

/// The resource name a traversal row signs (row names are printable).
fn name_of(row: &str) -> &str {
    match row {
        "resource name with NUL" => "a\u{0}b",
        "resource name ../x" => "../x",
        "resource name /abs" => "/etc/passwd",
        "resource name a/../b" => "sub/../a.bin",
        "resource name with empty component" => "sub//c.txt",
        other => panic!("no name for {other}"),
    }
}

fn bad_shard_size(name: &'static str, size: Value) -> Case {
    case(
        name,
        move || {
            let size = size.clone();
            KeyBase::shards(8)
                .resigned(move |v| v["predicate"]["serialization"]["shard_size"] = size)
        },
        payload(
            |p| matches!(p, PayloadError::Json(JsonError::Invalid { path, .. }) if path.contains("shard_size")),
            &["shard_size", "must be a positive integer"],
        ),
    )
}

fn case(
    name: &'static str,
    setup: impl Fn() -> Setup + Send + Sync + 'static,
    expect: Expect,
) -> Case {
    Case {
        name,
        setup: Box::new(setup),
        expect,
    }
}

fn unsigned(mut s: Setup) -> Setup {
    s.ignore_unsigned = true;
    s
}

// ------------------------------------------------------------------ rows

/// Every row.
pub fn cases() -> Vec<Case> {
    let mut rows = vec![
        // ---- positive rows
        case("key, files, sha256", || KeyBase::new().signed(), pass()),
        case(
            "key, shards of 8, blake2b",
            || {
                KeyBase::with(
                    HashConfig::new()
                        .algorithm(HashAlgorithm::Blake2b)
                        .shards(8)
                        .expect("shards"),
                )
                .signed()
            },
            pass(),
        ),
        case(
            "key, files, blake3",
            || KeyBase::with(HashConfig::new().algorithm(HashAlgorithm::Blake3)).signed(),
            pass(),
        ),
        case(
            "certificate chain root -> intermediate -> leaf",
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let model = small_model(dir.path());
                let pki = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
                let bundle = sign_with_pki(&model, &HashConfig::new(), &pki);
                Setup {
                    dir,
                    model,
                    bundle: bundle.to_json().into_bytes(),
                    trust: Trust::Anchors(vec![pki.root.clone()]),
                    ignore_unsigned: false,
                }
            },
            pass(),
        ),
        case(
            "single-file model, files",
            || KeyBase::single_file(HashConfig::new()).signed(),
            pass(),
        ),
        case(
            "single-file model, shards of 8 (regression: `.:0:8`, `.:8:16`... are one file)",
            || KeyBase::single_file(HashConfig::new().shards(8).expect("shards")).signed(),
            pass(),
        ),
        case(
            "path ignored by the signature changed",
            || {
                let b = KeyBase::with(HashConfig::new().ignore_paths(["sub"]).expect("ignore"));
                write(&b.file("sub/c.txt"), b"changed\n");
                write(&b.file("sub/new"), b"new\n");
                b.signed()
            },
            pass(),
        ),
        case(
            "git files added after signing",
            || {
                let b = KeyBase::new();
                write_files(
                    &b.model,
                    &[(".git/HEAD", b"ref: x\n"), (".gitignore", b"*.tmp\n")],
                );
                b.signed()
            },
            pass(),
        ),
        case(
            "allowed symlink, signed with allow_symlinks",
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let model = small_model(dir.path());
                std::os::unix::fs::symlink("a.bin", model.join("link")).expect("symlink");
                let key = key(KeyAlgorithm::EcdsaP256Sha256);
                let bundle = sign_with_key(&model, &HashConfig::new().allow_symlinks(true), &key);
                Setup {
                    dir,
                    model,
                    bundle: bundle.to_json().into_bytes(),
                    trust: Trust::Key(public(&key).clone()),
                    ignore_unsigned: false,
                }
            },
            pass(),
        ),
        case(
            "--ignore-unsigned-files, files: unsigned file skipped",
            || {
                let b = KeyBase::new();
                write(&b.file("extra.bin"), b"not signed\n");
                unsigned(b.signed())
            },
            pass_skipping(&["extra.bin"]),
        ),
        case(
            "--ignore-unsigned-files, shards: unsigned file skipped",
            || {
                let b = KeyBase::shards(8);
                write(&b.file("sub/extra.bin"), &pattern(30, 9));
                unsigned(b.signed())
            },
            pass_skipping(&["sub/extra.bin"]),
        ),
        // ---- signature and signer
        case(
            "tampered payload, not signed again",
            || {
                let b = KeyBase::new();
                let mut st = statement(&b.bundle);
                first_resource(&mut st)["digest"] = json!("00".repeat(32));
                fix_root(&mut st);
                let tampered = Bundle::new(
                    b.bundle.material.clone(),
                    Envelope {
                        payload: serde_json::to_vec(&st).expect("JSON"),
                        ..b.bundle.envelope.clone()
                    },
                );
                b.done(tampered.to_json().into_bytes())
            },
            fail(
                |e| matches!(e, VerifyError::BadSignature),
                &["the signature does not verify"],
            ),
        ),
        case(
            "signature by another key (hint names the given key)",
            || {
                let b = KeyBase::new();
                let other = key(KeyAlgorithm::EcdsaP256Sha256);
                let hint = public(&other).hint();
                let bundle = edit_json(&b.bundle, |v| {
                    v["verificationMaterial"]["publicKey"]["hint"] = json!(hint)
                });
                let trust = Trust::Key(public(&other).clone());
                b.done_with(bundle, trust)
            },
            fail(
                |e| matches!(e, VerifyError::BadSignature),
                &["the signature does not verify"],
            ),
        ),
        case(
            "wrong public key",
            || {
                let b = KeyBase::new();
                let other = key(KeyAlgorithm::EcdsaP256Sha256);
                let bundle = b.bundle.to_json().into_bytes();
                b.done_with(bundle, Trust::Key(public(&other).clone()))
            },
            fail(
                |e| {
                    matches!(
                        e,
                        VerifyError::SignerMismatch(SignerMismatch::KeyHint { .. })
                    )
                },
                &["signer mismatch", "not by the given public key"],
            ),
        ),
        case(
            "public key on the wrong curve (P-384 for a P-256 signature)",
            || {
                let b = KeyBase::new();
                let other = key(KeyAlgorithm::EcdsaP384Sha384);
                let hint = public(&other).hint();
                let bundle = edit_json(&b.bundle, |v| {
                    v["verificationMaterial"]["publicKey"]["hint"] = json!(hint)
                });
                b.done_with(bundle, Trust::Key(public(&other).clone()))
            },
            fail(
                |e| matches!(e, VerifyError::BadSignature),
                &["the signature does not verify"],
            ),
        ),
        case(
            "hint does not match the given key",
            || {
                KeyBase::new().edited(|v| {
                    v["verificationMaterial"]["publicKey"]["hint"] = json!("ab".repeat(32))
                })
            },
            fail(
                |e| matches!(e, VerifyError::SignerMismatch(SignerMismatch::KeyHint { signature, .. }) if signature.contains("abab")),
                &["signer mismatch", "hint abab"],
            ),
        ),
        case(
            "key bundle given to verify certificate",
            || {
                let b = KeyBase::new();
                let pki = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
                let bundle = b.bundle.to_json().into_bytes();
                b.done_with(bundle, Trust::Anchors(vec![pki.root.clone()]))
            },
            fail(
                |e| {
                    matches!(
                        e,
                        VerifyError::WrongMaterial {
                            method: "certificate",
                            ..
                        }
                    )
                },
                &[
                    "carries a public key",
                    "certificate verification needs a certificate chain",
                ],
            ),
        ),
        case(
            "certificate bundle given to verify key",
            || {
                let mut s = cert_row(PkiSpec::default(), own_root);
                let b = Bundle::from_json(&s.bundle).expect("bundle");
                let VerificationMaterial::X509CertificateChain(ders) = &b.material else {
                    panic!("certificate material")
                };
                let leaf = Certificate::from_der(&ders[0]).expect("leaf");
                s.trust = Trust::Key(PublicKey::from_spki_der(leaf.spki_der()).expect("key"));
                s
            },
            fail(
                |e| matches!(e, VerifyError::WrongMaterial { method: "key", .. }),
                &[
                    "carries a certificate chain",
                    "key verification needs a public key",
                ],
            ),
        ),
        case(
            "legacy v0.2 PAE over a v1.0 payload",
            || {
                let b = KeyBase::new();
                let env = &b.bundle.envelope;
                // P-256 hashes with SHA-256, the digest v0.2 used on every curve.
                let signature =
                    SigningKey::sign(&*b.key, &legacy_v02_pae(&env.payload_type, &env.payload))
                        .expect("sign");
                let bundle = Bundle::new(
                    b.bundle.material.clone(),
                    Envelope {
                        signature,
                        ..env.clone()
                    },
                );
                b.done(bundle.to_json().into_bytes())
            },
            fail(
                |e| matches!(e, VerifyError::BadSignature),
                &["the signature does not verify"],
            ),
        ),
        // ---- certificates
        case(
            "expired signing certificate",
            || {
                let t = now();
                cert_row(leaf_spec(|s| s.validity(t - 10 * DAY, t - DAY)), own_root)
            },
            cert_error(
                |c| matches!(c, CertError::Expired { .. }),
                &["not trusted", "expired at"],
            ),
        ),
        case(
            "signing certificate not yet valid",
            || {
                let t = now();
                cert_row(leaf_spec(|s| s.validity(t + DAY, t + 10 * DAY)), own_root)
            },
            cert_error(
                |c| matches!(c, CertError::NotYetValid { .. }),
                &["not trusted", "is not valid before"],
            ),
        ),
        case(
            "signing certificate for serverAuth only",
            || cert_row(leaf_spec(|s| s.eku(Some(vec![EKU_SERVER_AUTH]))), own_root),
            cert_error(
                |c| matches!(c, CertError::ExtendedKeyUsage { detail, .. } if detail.contains("1.3.6.1.5.5.7.3.3")),
                &["not trusted", "extended key usage", "1.3.6.1.5.5.7.3.3"],
            ),
        ),
        case(
            "signing certificate without digitalSignature",
            || {
                cert_row(
                    leaf_spec(|s| s.key_usage(Some(certs::KU_KEY_ENCIPHERMENT))),
                    own_root,
                )
            },
            cert_error(
                |c| matches!(c, CertError::KeyUsage { .. }),
                &["not trusted", "key usage", "digitalSignature"],
            ),
        ),
        case(
            "untrusted root",
            || {
                cert_row(PkiSpec::default(), |_| {
                    let other = certs::key(KeyAlgorithm::EcdsaP256Sha256);
                    vec![Spec::ca("Some Other Root").self_signed(&other)]
                })
            },
            cert_error(
                |c| matches!(c, CertError::NoPathToTrustAnchor { .. }),
                &["not trusted", "no path from certificate"],
            ),
        ),
        case(
            "impostor root with the same name",
            || {
                cert_row(PkiSpec::default(), |_| {
                    let other = certs::key(KeyAlgorithm::EcdsaP256Sha256);
                    vec![Spec::ca("Test Root CA").self_signed(&other)]
                })
            },
            cert_error(
                |c| matches!(c, CertError::NoPathToTrustAnchor { detail, .. } if detail.contains("key identifier")),
                &[
                    "not trusted",
                    "certificates named CN=Test Root CA were given",
                    "key identifier",
                ],
            ),
        ),
        case(
            "intermediate that is not a CA",
            || {
                let mut spec = PkiSpec::default();
                spec.intermediate = spec.intermediate.basic_ca(Some(false));
                cert_row(spec, own_root)
            },
            cert_error(
                |c| matches!(c, CertError::NotACa { subject } if subject.contains("Intermediate")),
                &["not trusted", "is not a CA"],
            ),
        ),
        case(
            "leaf certificate of another key",
            || {
                let mut s = cert_row(PkiSpec::default(), own_root);
                // Same chain, but the envelope signed by an unrelated key.
                let b = Bundle::from_json(&s.bundle).expect("bundle");
                let other = certs::key(KeyAlgorithm::EcdsaP256Sha256);
                let env = &b.envelope;
                let forged = resign_raw(&b, &env.payload_type, env.payload.clone(), &other);
                s.bundle = forged.to_json().into_bytes();
                s
            },
            fail(
                |e| matches!(e, VerifyError::BadSignature),
                &["the signature does not verify"],
            ),
        ),
        // ---- bundle
        case(
            "two signatures",
            || {
                KeyBase::new().edited(|v| {
                    let s = v["dsseEnvelope"]["signatures"][0].clone();
                    v["dsseEnvelope"]["signatures"] = json!([s.clone(), s]);
                })
            },
            bundle_error(
                |b| matches!(b, BundleError::SignatureCount(2)),
                &["carries 2 signatures"],
            ),
        ),
        case(
            "zero signatures",
            || KeyBase::new().edited(|v| v["dsseEnvelope"]["signatures"] = json!([])),
            bundle_error(
                |b| matches!(b, BundleError::SignatureCount(0)),
                &["carries 0 signatures"],
            ),
        ),
        case(
            "duplicate JSON key in the bundle",
            || {
                let b = KeyBase::new();
                let text = b.bundle.to_json().replacen(
                    "\"mediaType\"",
                    "\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\", \"mediaType\"",
                    1,
                );
                b.done(text.into_bytes())
            },
            bundle_error(
                |b| matches!(b, BundleError::Json(JsonError::Syntax(m)) if m.contains("duplicate key `mediaType`")),
                &["duplicate key `mediaType`"],
            ),
        ),
        case(
            "unknown bundle media type",
            || KeyBase::new().edited(|v| v["mediaType"] = json!("application/vnd.example+json")),
            bundle_error(
                |b| matches!(b, BundleError::UnknownMediaType(t) if t.contains("example")),
                &["unknown bundle media type", "application/vnd.example+json"],
            ),
        ),
        case(
            "signature file is not JSON",
            || KeyBase::new().done(b"not a bundle\n".to_vec()),
            bundle_error(
                |b| matches!(b, BundleError::Json(JsonError::Syntax(_))),
                &["malformed bundle", "invalid JSON"],
            ),
        ),
        // ---- payload (signed again after the change)
        case(
            "duplicate JSON key in the payload",
            || {
                KeyBase::new().resigned_text(|t| {
                    t.replacen(
                        "\"_type\":",
                        "\"_type\": \"https://in-toto.io/Statement/v1\", \"_type\":",
                        1,
                    )
                })
            },
            payload(
                |p| matches!(p, PayloadError::Json(JsonError::Syntax(m)) if m.contains("duplicate key `_type`")),
                &["malformed payload", "duplicate key `_type`"],
            ),
        ),
        case(
            "wrong payloadType",
            || {
                let b = KeyBase::new();
                let bundle = resign_raw(
                    &b.bundle,
                    "application/json",
                    b.bundle.envelope.payload.clone(),
                    &b.key,
                );
                b.done(bundle.to_json().into_bytes())
            },
            payload(
                |p| matches!(p, PayloadError::PayloadType(t) if t == "application/json"),
                &["payload type is \"application/json\""],
            ),
        ),
        case(
            "unknown predicate type",
            || KeyBase::new().resigned(|v| v["predicateType"] = json!("https://example.com/p/v1")),
            payload(
                |p| matches!(p, PayloadError::PredicateType(t) if t.contains("example.com")),
                &["predicate type is \"https://example.com/p/v1\""],
            ),
        ),
        case(
            "wrong statement type",
            || KeyBase::new().resigned(|v| v["_type"] = json!("https://in-toto.io/Statement/v0.1")),
            payload(
                |p| matches!(p, PayloadError::StatementType(_)),
                &["statement type is \"https://in-toto.io/Statement/v0.1\""],
            ),
        ),
        case(
            "two subjects",
            || {
                KeyBase::new().resigned(|v| {
                    let s = v["subject"][0].clone();
                    v["subject"] = json!([s.clone(), s]);
                })
            },
            payload(
                |p| matches!(p, PayloadError::SubjectCount(2)),
                &["has 2 subjects"],
            ),
        ),
        case(
            "subject digest does not match the resources",
            || {
                KeyBase::new()
                    .resigned(|v| v["subject"][0]["digest"]["sha256"] = json!("11".repeat(32)))
            },
            payload(
                |p| matches!(p, PayloadError::RootDigest { .. }),
                &["subject digest", "does not match the resources"],
            ),
        ),
        case(
            "duplicate resource name",
            || {
                KeyBase::new().resigned_fixed(|v| {
                    let r = first_resource(v).clone();
                    v["predicate"]["resources"]
                        .as_array_mut()
                        .expect("resources")
                        .push(r);
                })
            },
            payload(
                |p| matches!(p, PayloadError::DuplicateResource(n) if n == "a.bin"),
                &["resource \"a.bin\" is listed more than once"],
            ),
        ),
        case(
            "no resources",
            || KeyBase::new().resigned_fixed(|v| v["predicate"]["resources"] = json!([])),
            payload(
                |p| matches!(p, PayloadError::NoResources),
                &["lists no resources"],
            ),
        ),
        case(
            "digest of the wrong length",
            || {
                KeyBase::new()
                    .resigned_fixed(|v| first_resource(v)["digest"] = json!("ab".repeat(31)))
            },
            payload(
                |p| matches!(p, PayloadError::Digest { reason, .. } if reason.contains("31 bytes")),
                &["malformed digest", "31 bytes"],
            ),
        ),
        case(
            "uppercase hex digest",
            || {
                KeyBase::new().resigned_fixed(|v| {
                    let d = first_resource(v)["digest"]
                        .as_str()
                        .expect("digest")
                        .to_uppercase();
                    first_resource(v)["digest"] = json!(d);
                })
            },
            payload(
                |p| matches!(p, PayloadError::Digest { reason, .. } if reason.contains("lowercase")),
                &["malformed digest", "not lowercase hexadecimal"],
            ),
        ),
        case(
            "resource algorithm does not match the serialization",
            || KeyBase::new().resigned_fixed(|v| first_resource(v)["algorithm"] = json!("blake3")),
            payload(
                |p| matches!(p, PayloadError::Algorithm { found, expected, .. } if found == "blake3" && expected == "sha256"),
                &["has algorithm \"blake3\", expected \"sha256\""],
            ),
        ),
        case(
            "shard algorithm with another shard size",
            || {
                KeyBase::shards(8).resigned_fixed(|v| {
                    for r in v["predicate"]["resources"]
                        .as_array_mut()
                        .expect("resources")
                    {
                        r["algorithm"] = json!("sha256-sharded-16");
                    }
                })
            },
            payload(
                |p| matches!(p, PayloadError::Algorithm { expected, .. } if expected == "sha256-sharded-8"),
                &["expected \"sha256-sharded-8\""],
            ),
        ),
        case(
            "unknown hash type",
            || {
                KeyBase::new()
                    .resigned(|v| v["predicate"]["serialization"]["hash_type"] = json!("md5"))
            },
            payload(
                |p| {
                    matches!(
                        p,
                        PayloadError::Serialization(SerializationError::HashType(_))
                    )
                },
                &["invalid serialization", "md5"],
            ),
        ),
        case(
            "ignore path escaping the model",
            || {
                KeyBase::new().resigned(|v| {
                    v["predicate"]["serialization"]["ignore_paths"] = json!(["../other"])
                })
            },
            payload(
                |p| {
                    matches!(
                        p,
                        PayloadError::Serialization(SerializationError::IgnorePath(_))
                    )
                },
                &["invalid serialization", "../other"],
            ),
        ),
        bad_name("resource name ../x", "`..`", "`..` component"),
        bad_name("resource name /abs", "absolute", "absolute path"),
        bad_name("resource name a/../b", "`..`", "`..` component"),
        // A backslash is an ordinary character of a file name: the file
        // `sub\c.txt` signs and verifies (it was once signed, then refused).
        case(
            "resource name with backslash",
            || {
                KeyBase::with_model(HashConfig::new(), |dir| {
                    let model = small_model(dir);
                    std::fs::write(model.join("sub\\c.txt"), b"backslash\n").expect("write");
                    model
                })
                .signed()
            },
            pass(),
        ),
        bad_name("resource name with NUL", "NUL", "NUL byte"),
        bad_name(
            "resource name with empty component",
            "empty path component",
            "empty path component",
        ),
        case(
            "single-file name `.` beside named files",
            || KeyBase::new().resigned_fixed(|v| first_resource(v)["name"] = json!(".")),
            payload(
                |p| matches!(p, PayloadError::ResourceName { name, reason } if name == "." && reason.contains("beside")),
                &["invalid resource name \".\"", "beside other resources"],
            ),
        ),
        case(
            "single-file model changed",
            || {
                let b = KeyBase::single_file(HashConfig::new());
                append(&b.model, b"!");
                b.signed()
            },
            mismatch(&["."], &[], &[]),
        ),
        case(
            "single-file model in shards, one byte appended",
            || {
                let b = KeyBase::single_file(HashConfig::new().shards(8).expect("shards"));
                append(&b.model, b"!");
                b.signed()
            },
            mismatch(&[], &[".:24:30"], &[".:24:31"]),
        ),
        bad_shard_size("shard size zero", json!(0)),
        bad_shard_size("shard size fractional", json!(7.5)),
        bad_shard_size("shard size negative", json!(-8)),
        bad_shard_size("shard size a string", json!("8")),
        // ---- the model
        case(
            "changed file",
            || {
                let b = KeyBase::new();
                write(&b.file("a.bin"), &pattern(20, 99));
                b.signed()
            },
            mismatch(&["a.bin"], &[], &[]),
        ),
        case(
            "one byte appended",
            || {
                let b = KeyBase::new();
                append(&b.file("sub/c.txt"), b"!");
                b.signed()
            },
            mismatch(&["sub/c.txt"], &[], &[]),
        ),
        case(
            "missing file",
            || {
                let b = KeyBase::new();
                std::fs::remove_file(b.file("b.bin")).expect("remove");
                b.signed()
            },
            mismatch(&[], &["b.bin"], &[]),
        ),
        case(
            "unexpected file",
            || {
                let b = KeyBase::new();
                write(&b.file("sub/extra.bin"), b"extra\n");
                b.signed()
            },
            mismatch(&[], &[], &["sub/extra.bin"]),
        ),
        case(
            "renamed file",
            || {
                let b = KeyBase::new();
                std::fs::rename(b.file("a.bin"), b.file("renamed.bin")).expect("rename");
                b.signed()
            },
            mismatch(&[], &["a.bin"], &["renamed.bin"]),
        ),
        case(
            "two files swapped",
            || {
                let b = KeyBase::new();
                let a = std::fs::read(b.file("a.bin")).expect("read");
                let other = std::fs::read(b.file("b.bin")).expect("read");
                write(&b.file("a.bin"), &other);
                write(&b.file("b.bin"), &a);
                b.signed()
            },
            mismatch(&["a.bin", "b.bin"], &[], &[]),
        ),
        case(
            "changed, missing and unexpected at once",
            || {
                let b = KeyBase::new();
                write(&b.file("a.bin"), b"changed");
                std::fs::remove_file(b.file("b.bin")).expect("remove");
                write(&b.file("new.bin"), b"new");
                b.signed()
            },
            mismatch(&["a.bin"], &["b.bin"], &["new.bin"]),
        ),
        case(
            "shards: a byte appended past the last shard",
            || {
                let b = KeyBase::shards(10);
                append(&b.file("a.bin"), b"!");
                b.signed()
            },
            mismatch(&[], &[], &["a.bin:20:21"]),
        ),
        case(
            "shards: shard changed",
            || {
                let b = KeyBase::shards(8);
                let mut data = std::fs::read(b.file("a.bin")).expect("read");
                data[9] ^= 1;
                write(&b.file("a.bin"), &data);
                b.signed()
            },
            mismatch(&["a.bin:8:16"], &[], &[]),
        ),
        case(
            "unsigned symlink added, signed without allow_symlinks: unexpected, not followed",
            || {
                let b = KeyBase::new();
                std::os::unix::fs::symlink("a.bin", b.file("link")).expect("symlink");
                b.signed()
            },
            mismatch(&[], &[], &["link"]),
        ),
        case(
            "signed file replaced by a symlink, signed without allow_symlinks",
            || {
                let b = KeyBase::new();
                let elsewhere = b.dir.path().join("a.bin");
                std::fs::rename(b.file("a.bin"), &elsewhere).expect("move");
                std::os::unix::fs::symlink(&elsewhere, b.file("a.bin")).expect("symlink");
                b.signed()
            },
            fail(
                |e| matches!(e, VerifyError::Hash(HashError::SymlinkNotAllowed { path }) if path.ends_with("a.bin")),
                &[
                    "is a symbolic link",
                    "the signature was made without --allow-symlinks",
                ],
            ),
        ),
        case(
            "--ignore-unsigned-files, files: a signed file changed",
            || {
                let b = KeyBase::new();
                write(&b.file("extra.bin"), b"not signed\n");
                write(&b.file("a.bin"), b"changed");
                unsigned(b.signed())
            },
            mismatch(&["a.bin"], &[], &[]),
        ),
        case(
            "--ignore-unsigned-files, shards: a signed file changed",
            || {
                let b = KeyBase::shards(8);
                write(&b.file("extra.bin"), b"not signed\n");
                let mut data = std::fs::read(b.file("b.bin")).expect("read");
                data[0] ^= 1;
                write(&b.file("b.bin"), &data);
                unsigned(b.signed())
            },
            mismatch(&["b.bin:0:8"], &[], &[]),
        ),
        case(
            "--ignore-unsigned-files with a signed name outside the model",
            || {
                let b = KeyBase::new();
                // What joining the name to the model path would reach.
                write(&b.dir.path().join("outside.bin"), &pattern(20, 1));
                unsigned(b.resigned_fixed(|v| first_resource(v)["name"] = json!("../outside.bin")))
            },
            payload(
                |p| matches!(p, PayloadError::ResourceName { reason, .. } if reason.contains("`..`")),
                &["invalid resource name \"../outside.bin\"", "`..` component"],
            ),
        ),
        case(
            "--ignore-unsigned-files: a signed file missing",
            || {
                let b = KeyBase::new();
                write(&b.file("extra.bin"), b"not signed\n");
                std::fs::remove_file(b.file("sub/c.txt")).expect("remove");
                unsigned(b.signed())
            },
            mismatch(&[], &["sub/c.txt"], &[]),
        ),
    ];
    let names: std::collections::HashSet<&str> = rows.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), rows.len(), "row names are unique");
    rows.shrink_to_fit();
    rows
}

/// The rows, checked to have more negative than positive cases.
pub fn all() -> Vec<Case> {
    let rows = cases();
    let negative = rows.iter().filter(|c| c.is_negative()).count();
    assert!(
        negative > rows.len() - negative,
        "negative rows ({negative}) must outnumber positive ones ({})",
        rows.len() - negative
    );
    rows
}

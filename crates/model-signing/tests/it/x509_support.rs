//! Builds X.509 certificates at test time: keys, every supported signature
//! algorithm (and a few refused ones), and any extension, so that each chain
//! case is made from scratch in a few milliseconds.
//!
//! EC keys are generated per test; RSA keys come from `testdata/x509/keys`
//! because generating them in an unoptimised build takes seconds.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::asn1::{Any, BitString, GeneralizedTime, OctetString, UtcTime};
use der::{Decode, Encode};
use model_signing::x509::Certificate;
use rand_core::OsRng;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::hazmat::PrehashSigner;
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

pub const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
pub const OID_KEY_USAGE: &str = "2.5.29.15";
pub const OID_EXT_KEY_USAGE: &str = "2.5.29.37";
pub const OID_SUBJECT_ALT_NAME: &str = "2.5.29.17";
pub const OID_NAME_CONSTRAINTS: &str = "2.5.29.30";
pub const OID_CERT_POLICIES: &str = "2.5.29.32";
pub const OID_SUBJECT_KEY_ID: &str = "2.5.29.14";
pub const OID_AUTHORITY_KEY_ID: &str = "2.5.29.35";
pub const EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
pub const EKU_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
pub const EKU_ANY: &str = "2.5.29.37.0";

/// keyUsage bits, as `1 << n` for bit `n`.
pub const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub const KU_KEY_ENCIPHERMENT: u16 = 1 << 2;
pub const KU_KEY_CERT_SIGN: u16 = 1 << 5;
pub const KU_CRL_SIGN: u16 = 1 << 6;

pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

pub fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("time fits i64")
}

fn oid(dotted: &str) -> ObjectIdentifier {
    ObjectIdentifier::new(dotted).expect("valid OID")
}

pub fn name(text: &str) -> Name {
    Name::from_str(text).expect("valid name")
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The third-party test data in `testdata/third_party/`.
use testkit::third_party_support;
pub use third_party_support::trust;

/// The reference's own test CA material
/// (`testdata/third_party/model-transparency-golden/keys/certificate`).
pub fn golden_dir() -> PathBuf {
    third_party_support::golden().join("keys/certificate")
}

pub fn golden(file: &str) -> Vec<Certificate> {
    let path = golden_dir().join(file);
    let text = std::fs::read(&path).expect("read golden certificate");
    Certificate::from_pem_bundle(&text).expect("parse golden certificate")
}

/// A signing key.
pub enum Key {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

impl Key {
    pub fn p256() -> Self {
        Key::P256(p256::ecdsa::SigningKey::random(&mut OsRng))
    }

    pub fn p384() -> Self {
        Key::P384(p384::ecdsa::SigningKey::random(&mut OsRng))
    }

    pub fn p521() -> Self {
        Key::P521(p521::ecdsa::SigningKey::random(&mut OsRng))
    }

    /// An RSA key from `testdata/x509/keys/<name>.pem`.
    pub fn rsa(file: &str) -> Self {
        let path = repo_root().join(format!("testdata/x509/keys/{file}.pem"));
        let pem = std::fs::read_to_string(&path).expect("read RSA key fixture");
        Key::Rsa(Box::new(
            rsa::RsaPrivateKey::from_pkcs8_pem(&pem).expect("parse RSA key fixture"),
        ))
    }

    pub fn spki(&self) -> SubjectPublicKeyInfoOwned {
        let ec = |curve: &str, point: &[u8]| SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oid("1.2.840.10045.2.1"),
                parameters: Some(Any::from(oid(curve))),
            },
            subject_public_key: BitString::from_bytes(point).expect("bit string"),
        };
        match self {
            Key::P256(k) => ec(
                "1.2.840.10045.3.1.7",
                k.verifying_key().to_encoded_point(false).as_bytes(),
            ),
            Key::P384(k) => ec(
                "1.3.132.0.34",
                k.verifying_key().to_encoded_point(false).as_bytes(),
            ),
            Key::P521(k) => ec(
                "1.3.132.0.35",
                p521::ecdsa::VerifyingKey::from(k)
                    .to_encoded_point(false)
                    .as_bytes(),
            ),
            Key::Rsa(k) => {
                let der = k
                    .to_public_key()
                    .to_public_key_der()
                    .expect("encode RSA public key");
                SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("parse SPKI")
            }
        }
    }

    /// A key identifier: the first 20 bytes of SHA-256 over the public key.
    pub fn key_id(&self) -> Vec<u8> {
        let spki = self.spki();
        Sha256::digest(spki.subject_public_key.raw_bytes())[..20].to_vec()
    }

    pub fn default_alg(&self) -> Alg {
        match self {
            Key::P256(_) => Alg::EcdsaSha256,
            Key::P384(_) => Alg::EcdsaSha384,
            Key::P521(_) => Alg::EcdsaSha512,
            Key::Rsa(_) => Alg::RsaSha256,
        }
    }

    fn ec_sign(&self, digest: &[u8]) -> Vec<u8> {
        let pad = |field: usize| {
            let mut v = vec![0u8; field.saturating_sub(digest.len())];
            v.extend_from_slice(digest);
            v
        };
        match self {
            Key::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign_prehash(&pad(32)).expect("sign");
                sig.to_der().as_bytes().to_vec()
            }
            Key::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign_prehash(&pad(48)).expect("sign");
                sig.to_der().as_bytes().to_vec()
            }
            Key::P521(k) => {
                let sig: p521::ecdsa::Signature = k.sign_prehash(&pad(66)).expect("sign");
                sig.to_der().as_bytes().to_vec()
            }
            Key::Rsa(_) => panic!("ECDSA algorithm with an RSA key"),
        }
    }

    fn rsa_key(&self) -> &rsa::RsaPrivateKey {
        match self {
            Key::Rsa(k) => k,
            _ => panic!("RSA algorithm with an EC key"),
        }
    }

    /// Signs `tbs` with `alg`. Algorithms that the verifier refuses by OID
    /// (MD5, Ed25519) get a placeholder signature.
    pub fn sign(&self, alg: Alg, tbs: &[u8]) -> Vec<u8> {
        use rsa::{Pkcs1v15Sign, Pss};
        match alg {
            Alg::EcdsaSha256 => self.ec_sign(&Sha256::digest(tbs)),
            Alg::EcdsaSha384 => self.ec_sign(&Sha384::digest(tbs)),
            Alg::EcdsaSha512 => self.ec_sign(&Sha512::digest(tbs)),
            Alg::EcdsaSha1 => self.ec_sign(&sha1(tbs)),
            Alg::RsaSha256 => self
                .rsa_key()
                .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(tbs))
                .expect("sign"),
            Alg::RsaSha384 => self
                .rsa_key()
                .sign(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(tbs))
                .expect("sign"),
            Alg::RsaSha512 => self
                .rsa_key()
                .sign(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(tbs))
                .expect("sign"),
            Alg::RsaSha1 => {
                // DigestInfo prefix for SHA-1 (RFC 8017 9.2 note 1).
                let scheme = Pkcs1v15Sign {
                    hash_len: Some(20),
                    prefix: vec![
                        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05,
                        0x00, 0x04, 0x14,
                    ]
                    .into_boxed_slice(),
                };
                self.rsa_key().sign(scheme, &sha1(tbs)).expect("sign")
            }
            Alg::RsaPssSha256 => self
                .rsa_key()
                .sign_with_rng(
                    &mut OsRng,
                    Pss::new_with_salt::<Sha256>(32),
                    &Sha256::digest(tbs),
                )
                .expect("sign"),
            Alg::RsaPssSha384 => self
                .rsa_key()
                .sign_with_rng(
                    &mut OsRng,
                    Pss::new_with_salt::<Sha384>(48),
                    &Sha384::digest(tbs),
                )
                .expect("sign"),
            Alg::RsaPssSha512 => self
                .rsa_key()
                .sign_with_rng(
                    &mut OsRng,
                    Pss::new_with_salt::<Sha512>(64),
                    &Sha512::digest(tbs),
                )
                .expect("sign"),
            Alg::RsaMd5 | Alg::Ed25519 => vec![0x42; 64],
        }
    }
}

/// Signature algorithms the builder can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    EcdsaSha1,
    RsaSha256,
    RsaSha384,
    RsaSha512,
    RsaSha1,
    RsaMd5,
    RsaPssSha256,
    RsaPssSha384,
    RsaPssSha512,
    Ed25519,
}

impl Alg {
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        let plain = |dotted: &str| AlgorithmIdentifierOwned {
            oid: oid(dotted),
            parameters: None,
        };
        let rsa = |dotted: &str| AlgorithmIdentifierOwned {
            oid: oid(dotted),
            parameters: Some(Any::null()),
        };
        let pss = |params: rsa::pkcs1::RsaPssParams<'_>| AlgorithmIdentifierOwned {
            oid: oid("1.2.840.113549.1.1.10"),
            parameters: Some(Any::from_der(&params.to_der().expect("encode")).expect("any")),
        };
        match self {
            Alg::EcdsaSha256 => plain("1.2.840.10045.4.3.2"),
            Alg::EcdsaSha384 => plain("1.2.840.10045.4.3.3"),
            Alg::EcdsaSha512 => plain("1.2.840.10045.4.3.4"),
            Alg::EcdsaSha1 => plain("1.2.840.10045.4.1"),
            Alg::RsaSha256 => rsa("1.2.840.113549.1.1.11"),
            Alg::RsaSha384 => rsa("1.2.840.113549.1.1.12"),
            Alg::RsaSha512 => rsa("1.2.840.113549.1.1.13"),
            Alg::RsaSha1 => rsa("1.2.840.113549.1.1.5"),
            Alg::RsaMd5 => rsa("1.2.840.113549.1.1.4"),
            Alg::RsaPssSha256 => pss(rsa::pkcs1::RsaPssParams::new::<Sha256>(32)),
            Alg::RsaPssSha384 => pss(rsa::pkcs1::RsaPssParams::new::<Sha384>(48)),
            Alg::RsaPssSha512 => pss(rsa::pkcs1::RsaPssParams::new::<Sha512>(64)),
            Alg::Ed25519 => plain("1.3.101.112"),
        }
    }
}

/// How the authorityKeyIdentifier is written.
#[derive(Clone, Debug)]
pub enum Aki {
    /// The issuer key's identifier.
    FromIssuer,
    /// None.
    Omit,
    /// These bytes.
    Fixed(Vec<u8>),
}

/// What a certificate will say, apart from its keys.
#[derive(Clone, Debug)]
pub struct Spec {
    pub subject: Name,
    pub serial: u64,
    pub not_before: i64,
    pub not_after: i64,
    pub extensions: Vec<Extension>,
    pub alg: Option<Alg>,
    pub ski: bool,
    pub aki: Aki,
    pub version: Version,
}

fn to_time(secs: i64) -> Time {
    let d = Duration::from_secs(u64::try_from(secs).expect("time after 1970"));
    if secs < 2_524_608_000 {
        Time::UtcTime(UtcTime::from_unix_duration(d).expect("utc time"))
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(d).expect("generalized time"))
    }
}

fn key_usage_der(bits: u16) -> Vec<u8> {
    let highest = (0..16u16).rev().find(|n| bits & (1 << n) != 0).unwrap_or(0);
    let len = usize::from(highest / 8) + 1;
    let mut bytes = vec![0u8; len];
    for n in 0..16u16 {
        if bits & (1 << n) != 0 {
            bytes[usize::from(n / 8)] |= 0x80 >> (n % 8);
        }
    }
    let unused = u8::try_from(7 - highest % 8).expect("small");
    BitString::new(unused, bytes)
        .expect("bit string")
        .to_der()
        .expect("encode")
}

impl Spec {
    /// A certificate named `CN=<cn>`, valid from an hour ago for a day, with
    /// key identifiers and no other extension.
    pub fn new(cn: &str) -> Self {
        let t = now();
        Self {
            subject: name(&format!("CN={cn}")),
            serial: u64::from(rand_core::RngCore::next_u32(&mut OsRng)) + 1,
            not_before: t - HOUR,
            not_after: t + DAY,
            extensions: Vec::new(),
            alg: None,
            ski: true,
            aki: Aki::FromIssuer,
            version: Version::V3,
        }
    }

    /// A CA: basicConstraints CA:TRUE (critical) and keyUsage keyCertSign,
    /// cRLSign (critical).
    pub fn ca(cn: &str, path_len: Option<u8>) -> Self {
        Self::new(cn)
            .basic_constraints(true, path_len, true)
            .key_usage(KU_KEY_CERT_SIGN | KU_CRL_SIGN)
    }

    /// A code-signing leaf: keyUsage digitalSignature (critical),
    /// extendedKeyUsage codeSigning.
    pub fn leaf(cn: &str) -> Self {
        Self::new(cn)
            .key_usage(KU_DIGITAL_SIGNATURE)
            .eku(&[EKU_CODE_SIGNING])
    }

    /// Adds (or replaces) an extension with this DER value.
    pub fn ext(mut self, id: &str, critical: bool, value: Vec<u8>) -> Self {
        let id = oid(id);
        self.extensions.retain(|e| e.extn_id != id);
        self.extensions.push(Extension {
            extn_id: id,
            critical,
            extn_value: OctetString::new(value).expect("octet string"),
        });
        self
    }

    /// Adds an extension even if one with the same OID is there.
    pub fn ext_again(mut self, id: &str, critical: bool, value: Vec<u8>) -> Self {
        self.extensions.push(Extension {
            extn_id: oid(id),
            critical,
            extn_value: OctetString::new(value).expect("octet string"),
        });
        self
    }

    pub fn without(mut self, id: &str) -> Self {
        let id = oid(id);
        self.extensions.retain(|e| e.extn_id != id);
        self
    }

    pub fn basic_constraints(self, ca: bool, path_len: Option<u8>, critical: bool) -> Self {
        let value = BasicConstraints {
            ca,
            path_len_constraint: path_len,
        }
        .to_der()
        .expect("encode");
        self.ext(OID_BASIC_CONSTRAINTS, critical, value)
    }

    pub fn key_usage(self, bits: u16) -> Self {
        self.ext(OID_KEY_USAGE, true, key_usage_der(bits))
    }

    pub fn eku(self, purposes: &[&str]) -> Self {
        let value = ExtendedKeyUsage(purposes.iter().map(|p| oid(p)).collect())
            .to_der()
            .expect("encode");
        self.ext(OID_EXT_KEY_USAGE, false, value)
    }

    pub fn san(self, names: Vec<GeneralName>) -> Self {
        let value = SubjectAltName(names).to_der().expect("encode");
        self.ext(OID_SUBJECT_ALT_NAME, false, value)
    }

    pub fn validity(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    pub fn alg(mut self, alg: Alg) -> Self {
        self.alg = Some(alg);
        self
    }

    pub fn aki(mut self, aki: Aki) -> Self {
        self.aki = aki;
        self
    }

    pub fn no_key_ids(mut self) -> Self {
        self.ski = false;
        self.aki = Aki::Omit;
        self
    }

    pub fn subject(mut self, text: &str) -> Self {
        self.subject = name(text);
        self
    }

    /// The unsigned certificate.
    pub fn tbs(&self, subject_key: &Key, issuer_name: &Name, issuer_key: &Key) -> TbsCertificate {
        let alg = self.alg.unwrap_or_else(|| issuer_key.default_alg());
        let mut extensions = self.extensions.clone();
        if self.ski {
            let value =
                SubjectKeyIdentifier(OctetString::new(subject_key.key_id()).expect("octet string"))
                    .to_der()
                    .expect("encode");
            extensions.push(Extension {
                extn_id: oid(OID_SUBJECT_KEY_ID),
                critical: false,
                extn_value: OctetString::new(value).expect("octet string"),
            });
        }
        let aki = match &self.aki {
            Aki::FromIssuer => Some(issuer_key.key_id()),
            Aki::Omit => None,
            Aki::Fixed(id) => Some(id.clone()),
        };
        if let Some(id) = aki {
            let value = AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(id).expect("octet string")),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            }
            .to_der()
            .expect("encode");
            extensions.push(Extension {
                extn_id: oid(OID_AUTHORITY_KEY_ID),
                critical: false,
                extn_value: OctetString::new(value).expect("octet string"),
            });
        }
        TbsCertificate {
            version: self.version,
            serial_number: SerialNumber::new(&self.serial.to_be_bytes()).expect("serial"),
            signature: alg.identifier(),
            issuer: issuer_name.clone(),
            validity: Validity {
                not_before: to_time(self.not_before),
                not_after: to_time(self.not_after),
            },
            subject: self.subject.clone(),
            subject_public_key_info: subject_key.spki(),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: if extensions.is_empty() {
                None
            } else {
                Some(extensions)
            },
        }
    }

    /// Signs the certificate for `subject_key`, as `issuer_name`, with
    /// `issuer_key`.
    pub fn sign(&self, subject_key: &Key, issuer_name: &Name, issuer_key: &Key) -> Certificate {
        let tbs = self.tbs(subject_key, issuer_name, issuer_key);
        Certificate::from_der(&sign_tbs(&tbs, issuer_key)).expect("parse built certificate")
    }

    /// Signs it with its own key.
    pub fn self_signed(&self, key: &Key) -> Certificate {
        self.sign(key, &self.subject, key)
    }
}

/// DER of a certificate made by signing `tbs` with `key`.
pub fn sign_tbs(tbs: &TbsCertificate, key: &Key) -> Vec<u8> {
    let alg = tbs.signature.clone();
    let which = [
        Alg::EcdsaSha256,
        Alg::EcdsaSha384,
        Alg::EcdsaSha512,
        Alg::EcdsaSha1,
        Alg::RsaSha256,
        Alg::RsaSha384,
        Alg::RsaSha512,
        Alg::RsaSha1,
        Alg::RsaMd5,
        Alg::RsaPssSha256,
        Alg::RsaPssSha384,
        Alg::RsaPssSha512,
        Alg::Ed25519,
    ]
    .into_iter()
    .find(|a| a.identifier() == alg)
    .expect("known algorithm");
    let tbs_der = tbs.to_der().expect("encode TBS");
    let signature = key.sign(which, &tbs_der);
    x509_cert::Certificate {
        tbs_certificate: tbs.clone(),
        signature_algorithm: alg,
        signature: BitString::from_bytes(&signature).expect("bit string"),
    }
    .to_der()
    .expect("encode certificate")
}

/// A CA with its key.
pub struct Ca {
    pub cert: Certificate,
    pub key: Key,
    pub name: Name,
}

impl Ca {
    /// A self-signed root from `spec`.
    pub fn root(spec: Spec, key: Key) -> Self {
        let cert = spec.self_signed(&key);
        Self {
            cert,
            key,
            name: spec.subject,
        }
    }

    /// A certificate for `subject_key` issued by this CA.
    pub fn issue(&self, spec: &Spec, subject_key: &Key) -> Certificate {
        spec.sign(subject_key, &self.name, &self.key)
    }

    /// A subordinate CA issued by this CA.
    pub fn sub(&self, spec: Spec, key: Key) -> Ca {
        let cert = self.issue(&spec, &key);
        Ca {
            cert,
            key,
            name: spec.subject,
        }
    }
}

/// SHA-1, only to make genuinely SHA-1-signed certificates that must be
/// refused (shared with the Hugging Face test support, which names git blobs).
pub use testkit::sha1_support::sha1;

//! A small X.509 certificate builder (DER written by hand), so that both the
//! library and the CLI tests can make certificate chains at test time with no
//! dependency beyond the library itself: the library's own ECDSA keys sign,
//! and its strict parser reads the result back.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use model_signing::keys::{DigestAlgorithm, EcPrivateKey, KeyAlgorithm, PublicKey, SigningKey};
use model_signing::x509::Certificate;

pub const EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
pub const EKU_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";

/// keyUsage bits (bit n of the BIT STRING, counted from the left).
pub const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub const KU_KEY_ENCIPHERMENT: u16 = 1 << 2;
pub const KU_KEY_CERT_SIGN: u16 = 1 << 5;
pub const KU_CRL_SIGN: u16 = 1 << 6;

pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// The current time in Unix seconds: the library's clock, which signers
/// check certificates at.
pub use model_signing::sign::now;

// ------------------------------------------------------------------ DER

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).expect("short length"));
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).expect("length of length"));
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|a| a.parse().expect("numeric arc"))
        .collect();
    let mut body = Vec::new();
    let mut push = |mut v: u64| {
        let mut chunk = vec![u8::try_from(v & 0x7f).expect("7 bits")];
        v >>= 7;
        while v > 0 {
            chunk.push(0x80 | u8::try_from(v & 0x7f).expect("7 bits"));
            v >>= 7;
        }
        chunk.reverse();
        body.extend_from_slice(&chunk);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    tlv(0x06, &body)
}

fn uint(value: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = value
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    if bytes.is_empty() || bytes[0] & 0x80 != 0 {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn time(secs: i64) -> Vec<u8> {
    let (y, mo, d) = civil(secs.div_euclid(DAY));
    let rem = secs.rem_euclid(DAY);
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if (1950..2050).contains(&y) {
        let text = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        tlv(0x17, text.as_bytes())
    } else {
        let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
        tlv(0x18, text.as_bytes())
    }
}

/// `CN=<cn>` as a DER Name.
pub fn name(cn: &str) -> Vec<u8> {
    let atv = seq(&[oid("2.5.4.3"), tlv(0x0c, cn.as_bytes())]);
    seq(&[tlv(0x31, &atv)])
}

fn signature_algorithm(alg: KeyAlgorithm) -> Vec<u8> {
    seq(&[oid(match alg {
        KeyAlgorithm::EcdsaP256Sha256 => "1.2.840.10045.4.3.2",
        KeyAlgorithm::EcdsaP384Sha384 => "1.2.840.10045.4.3.3",
        _ => "1.2.840.10045.4.3.4",
    })])
}

fn extension(id: &str, critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![oid(id)];
    if critical {
        parts.push(vec![0x01, 0x01, 0xff]);
    }
    parts.push(tlv(0x04, &value));
    seq(&parts)
}

fn key_usage(bits: u16) -> Vec<u8> {
    let highest = (0..16u16).rev().find(|n| bits & (1 << n) != 0).unwrap_or(0);
    let len = usize::from(highest / 8) + 1;
    let mut bytes = vec![0u8; len];
    for n in 0..16u16 {
        if bits & (1 << n) != 0 {
            bytes[usize::from(n / 8)] |= 0x80 >> (n % 8);
        }
    }
    let mut content = vec![u8::try_from(7 - highest % 8).expect("unused bits")];
    content.extend_from_slice(&bytes);
    tlv(0x03, &content)
}

fn key_id(key: &PublicKey) -> Vec<u8> {
    DigestAlgorithm::Sha256.digest(key.spki_der())[..20].to_vec()
}

// ---------------------------------------------------------- certificates

/// What a certificate says, apart from its keys.
#[derive(Clone, Debug)]
pub struct Spec {
    pub cn: String,
    pub not_before: i64,
    pub not_after: i64,
    /// basicConstraints (critical): `None` leaves the extension out.
    pub ca: Option<bool>,
    /// keyUsage bits (critical): `None` leaves the extension out.
    pub key_usage: Option<u16>,
    /// extendedKeyUsage purposes: `None` leaves the extension out.
    pub eku: Option<Vec<&'static str>>,
}

impl Spec {
    /// A CA valid from two days ago for ten years.
    pub fn ca(cn: &str) -> Self {
        let t = now();
        Spec {
            cn: cn.to_owned(),
            not_before: t - 2 * DAY,
            not_after: t + 3650 * DAY,
            ca: Some(true),
            key_usage: Some(KU_KEY_CERT_SIGN | KU_CRL_SIGN),
            eku: None,
        }
    }

    /// A code-signing leaf valid from an hour ago for a year:
    /// keyUsage digitalSignature, extendedKeyUsage codeSigning.
    pub fn leaf(cn: &str) -> Self {
        let t = now();
        Spec {
            cn: cn.to_owned(),
            not_before: t - HOUR,
            not_after: t + 365 * DAY,
            ca: Some(false),
            key_usage: Some(KU_DIGITAL_SIGNATURE),
            eku: Some(vec![EKU_CODE_SIGNING]),
        }
    }

    pub fn validity(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    pub fn eku(mut self, eku: Option<Vec<&'static str>>) -> Self {
        self.eku = eku;
        self
    }

    pub fn basic_ca(mut self, ca: Option<bool>) -> Self {
        self.ca = ca;
        self
    }

    pub fn key_usage(mut self, bits: Option<u16>) -> Self {
        self.key_usage = bits;
        self
    }

    /// Issues the certificate for `subject` as `issuer_cn`, signed by `issuer_key`.
    pub fn issue(
        &self,
        subject: &PublicKey,
        issuer_cn: &str,
        issuer_key: &EcPrivateKey,
    ) -> Certificate {
        static SERIAL: AtomicU64 = AtomicU64::new(1);
        let serial = (now().unsigned_abs() << 16) + SERIAL.fetch_add(1, Ordering::Relaxed);
        let mut exts = Vec::new();
        if let Some(ca) = self.ca {
            let body = if ca {
                vec![vec![0x01, 0x01, 0xff]]
            } else {
                vec![]
            };
            exts.push(extension("2.5.29.19", true, seq(&body)));
        }
        if let Some(bits) = self.key_usage {
            exts.push(extension("2.5.29.15", true, key_usage(bits)));
        }
        if let Some(eku) = &self.eku {
            let purposes: Vec<Vec<u8>> = eku.iter().map(|p| oid(p)).collect();
            exts.push(extension("2.5.29.37", false, seq(&purposes)));
        }
        exts.push(extension("2.5.29.14", false, tlv(0x04, &key_id(subject))));
        exts.push(extension(
            "2.5.29.35",
            false,
            seq(&[tlv(0x80, &key_id(issuer_key.public_key()))]),
        ));
        let alg = signature_algorithm(issuer_key.algorithm());
        let tbs = seq(&[
            tlv(0xa0, &uint(2)),
            uint(serial),
            alg.clone(),
            name(issuer_cn),
            seq(&[time(self.not_before), time(self.not_after)]),
            name(&self.cn),
            subject.spki_der().to_vec(),
            tlv(0xa3, &seq(&exts)),
        ]);
        let signature = SigningKey::sign(issuer_key, &tbs).expect("sign certificate");
        let mut bits = vec![0u8];
        bits.extend_from_slice(&signature);
        let der = seq(&[tbs, alg, tlv(0x03, &bits)]);
        Certificate::from_der(&der).expect("the built certificate parses")
    }

    /// A self-signed certificate.
    pub fn self_signed(&self, key: &EcPrivateKey) -> Certificate {
        self.issue(key.public_key(), &self.cn, key)
    }
}

/// A key that can be shared between a signer (which takes ownership) and
/// the test that made it.
pub type Key = Arc<EcPrivateKey>;

pub fn key(alg: KeyAlgorithm) -> Key {
    Arc::new(EcPrivateKey::generate(alg))
}

/// The public half of a shared key (`Arc` has the `SigningKey` method of
/// the same name, which returns a `Result`).
pub fn public(key: &Key) -> &PublicKey {
    EcPrivateKey::public_key(key)
}

/// A root CA (P-521), an intermediate CA (P-256) and a code-signing leaf
/// (on the curve asked for).
pub struct Pki {
    pub root_key: Key,
    pub root: Certificate,
    pub intermediate_key: Key,
    pub intermediate: Certificate,
    pub leaf_key: Key,
    pub leaf: Certificate,
}

/// How to change the default chain.
#[derive(Clone, Debug)]
pub struct PkiSpec {
    pub leaf_alg: KeyAlgorithm,
    pub intermediate: Spec,
    pub leaf: Spec,
}

impl Default for PkiSpec {
    fn default() -> Self {
        PkiSpec {
            leaf_alg: KeyAlgorithm::EcdsaP256Sha256,
            intermediate: Spec::ca("Test Intermediate CA"),
            leaf: Spec::leaf("Test Model Signer"),
        }
    }
}

/// PEM files of a chain, written to a directory.
pub struct PkiFiles {
    /// The leaf's private key (PKCS#8).
    pub key: PathBuf,
    /// The leaf certificate.
    pub leaf: PathBuf,
    /// The intermediate (what `--certificate-chain` takes when signing).
    pub chain: PathBuf,
    /// The root (the trust anchor when verifying).
    pub root: PathBuf,
}

impl Pki {
    pub fn new(leaf_alg: KeyAlgorithm) -> Self {
        Pki::with(PkiSpec {
            leaf_alg,
            ..PkiSpec::default()
        })
    }

    pub fn with(spec: PkiSpec) -> Self {
        let root_key = key(KeyAlgorithm::EcdsaP521Sha512);
        let root_spec = Spec::ca("Test Root CA");
        let root = root_spec.self_signed(&root_key);
        let intermediate_key = key(KeyAlgorithm::EcdsaP256Sha256);
        let intermediate =
            spec.intermediate
                .issue(public(&intermediate_key), &root_spec.cn, &root_key);
        let leaf_key = key(spec.leaf_alg);
        let leaf = spec
            .leaf
            .issue(public(&leaf_key), &spec.intermediate.cn, &intermediate_key);
        Pki {
            root_key,
            root,
            intermediate_key,
            intermediate,
            leaf_key,
            leaf,
        }
    }

    /// The certificates a bundle carries: leaf, then intermediate.
    pub fn chain(&self) -> Vec<Certificate> {
        vec![self.intermediate.clone()]
    }

    pub fn write(&self, dir: &Path) -> PkiFiles {
        std::fs::create_dir_all(dir).expect("mkdir");
        let files = PkiFiles {
            key: dir.join("leaf-key.pem"),
            leaf: dir.join("leaf.pem"),
            chain: dir.join("intermediate.pem"),
            root: dir.join("root.pem"),
        };
        write(&files.key, self.leaf_key.to_pkcs8_pem().as_bytes());
        write(&files.leaf, self.leaf.to_pem().as_bytes());
        write(&files.chain, self.intermediate.to_pem().as_bytes());
        write(&files.root, self.root.to_pem().as_bytes());
        files
    }
}

fn write(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

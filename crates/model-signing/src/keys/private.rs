//! In-memory EC private keys: loading (SEC1, PKCS#8, encrypted PKCS#8),
//! generating, exporting and signing.

use std::fmt;

use der::Decode;
use ecdsa::elliptic_curve::NonZeroScalar;
use ecdsa::signature::hazmat::PrehashSigner;
use pkcs8::pkcs5::{self, pbes2};
use pkcs8::{EncryptedPrivateKeyInfo, LineEnding, PrivateKeyInfo};
use rand_core::{OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use super::asn1::{self, Sec1};
use super::{pem, KeyAlgorithm, KeyError, PublicKey, SigningKey};

pub(super) const EC_PRIVATE_KEY: &str = "EC PRIVATE KEY";
pub(super) const PRIVATE_KEY: &str = "PRIVATE KEY";
pub(super) const ENCRYPTED_PRIVATE_KEY: &str = "ENCRYPTED PRIVATE KEY";
const EXPECTED: &str = "an EC private key (`-----BEGIN EC PRIVATE KEY-----`, `-----BEGIN PRIVATE KEY-----` or `-----BEGIN ENCRYPTED PRIVATE KEY-----`)";

/// PBKDF2-HMAC-SHA256 iterations used by
/// [`EcPrivateKey::to_encrypted_pkcs8_pem`] (OWASP's 2023 recommendation).
pub const PKCS8_PBKDF2_ITERATIONS: u32 = 600_000;

/// The fewest PBKDF2 iterations [`EcPrivateKey::to_encrypted_pkcs8_pem_with_iterations`]
/// accepts: the default of OpenSSL and Python `cryptography`.
pub const MIN_PKCS8_PBKDF2_ITERATIONS: u32 = 2048;

/// The most memory an scrypt-encrypted key may ask for when decrypted.
const MAX_SCRYPT_MEMORY: u128 = 1 << 30;

/// An ECDSA private key on P-256, P-384 or P-521, held in memory.
///
/// The secret scalar is wiped when the key is dropped, and `Debug` shows only
/// the algorithm and the public key's fingerprint.
pub struct EcPrivateKey {
    inner: Secret,
    public: PublicKey,
}

// The signing keys wipe their scalar on drop.
enum Secret {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(ecdsa::SigningKey<p521::NistP521>),
}

impl EcPrivateKey {
    /// Reads a private key from PEM text: SEC1 (`EC PRIVATE KEY`), PKCS#8
    /// (`PRIVATE KEY`) or password-encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`,
    /// PBES2 with PBKDF2 or scrypt and AES-CBC). Text around the block is
    /// ignored (`certtool` prints the key's parameters before it, `openssl
    /// ecparam -genkey` an `EC PARAMETERS` block).
    ///
    /// `password` is required for an encrypted key
    /// ([`KeyError::PasswordRequired`]) and refused for a plain one
    /// ([`KeyError::UnexpectedPassword`]); see [`is_encrypted_pem`]. Keys
    /// encrypted in OpenSSL's legacy PEM format fail with
    /// [`KeyError::LegacyEncryptedPem`], which says how to convert them.
    pub fn from_pem(text: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        let pem = read_private_pem(
            text,
            password,
            &[EC_PRIVATE_KEY, PRIVATE_KEY, ENCRYPTED_PRIVATE_KEY],
            EXPECTED,
        )?;
        let key = match pem.label {
            ENCRYPTED_PRIVATE_KEY => return EcPrivateKey::from_pkcs8_info(&pem.decrypted_info()?),
            EC_PRIVATE_KEY => EcPrivateKey::from_sec1_der(&pem.der)?,
            _ => EcPrivateKey::from_pkcs8_der(&pem.der)?,
        };
        if password.is_some() {
            return Err(KeyError::UnexpectedPassword);
        }
        Ok(key)
    }

    /// Reads an unencrypted DER PKCS#8 `PrivateKeyInfo`.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfo::from_der(der).map_err(|e| {
            KeyError::malformed("private key", format!("not a PKCS#8 PrivateKeyInfo: {e}"))
        })?;
        EcPrivateKey::from_pkcs8_info(&info)
    }

    pub(super) fn from_pkcs8_info(info: &PrivateKeyInfo<'_>) -> Result<Self, KeyError> {
        let alg = asn1::key_algorithm(&info.algorithm, "private key")?;
        let sec1 = asn1::parse_sec1(info.private_key)?;
        if sec1.parameters.is_some() {
            let inner = asn1::curve_from_params(sec1.parameters, "private key")?;
            if inner != alg {
                return Err(KeyError::malformed(
                    "private key",
                    format!(
                        "the PKCS#8 wrapper says {} but the EC key inside says {}",
                        alg.curve_name(),
                        inner.curve_name()
                    ),
                ));
            }
        }
        EcPrivateKey::from_sec1(alg, &sec1)
    }

    /// Reads a DER SEC1 `ECPrivateKey` that names its curve.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        let sec1 = asn1::parse_sec1(der)?;
        let alg = asn1::curve_from_params(sec1.parameters, "private key")?;
        EcPrivateKey::from_sec1(alg, &sec1)
    }

    fn from_sec1(alg: KeyAlgorithm, sec1: &Sec1<'_>) -> Result<Self, KeyError> {
        let Some(field_len) = field_len(alg) else {
            return Err(KeyError::UnsupportedKeyType {
                found: alg.curve_name().to_owned(),
            });
        };
        let scalar = sec1.private_key;
        if scalar.is_empty() || scalar.len() > field_len {
            return Err(KeyError::malformed(
                "private key",
                format!(
                    "the private scalar is {} bytes long; {} takes at most {field_len}",
                    scalar.len(),
                    alg.curve_name()
                ),
            ));
        }
        let mut padded = Zeroizing::new(vec![0u8; field_len]);
        padded[field_len - scalar.len()..].copy_from_slice(scalar);
        let out_of_range = || {
            KeyError::malformed(
                "private key",
                "the private scalar is zero or not less than the curve order",
            )
        };
        let inner = match alg {
            KeyAlgorithm::EcdsaP256Sha256 => Secret::P256(
                p256::ecdsa::SigningKey::from_slice(&padded).map_err(|_| out_of_range())?,
            ),
            KeyAlgorithm::EcdsaP384Sha384 => Secret::P384(
                p384::ecdsa::SigningKey::from_slice(&padded).map_err(|_| out_of_range())?,
            ),
            KeyAlgorithm::EcdsaP521Sha512 => {
                Secret::P521(ecdsa::SigningKey::from_slice(&padded).map_err(|_| out_of_range())?)
            }
            _ => {
                return Err(KeyError::UnsupportedKeyType {
                    found: alg.curve_name().to_owned(),
                })
            }
        };
        let key = EcPrivateKey::from_secret(inner);
        if let Some(stored) = sec1.public_key {
            let stored = PublicKey::from_sec1_point(alg, stored)?;
            if stored != key.public {
                return Err(KeyError::malformed(
                    "private key",
                    "the public key stored with the private key does not belong to it",
                ));
            }
        }
        Ok(key)
    }

    fn from_secret(inner: Secret) -> Self {
        let public = match &inner {
            Secret::P256(sk) => PublicKey::from_p256(*sk.verifying_key()),
            Secret::P384(sk) => PublicKey::from_p384(*sk.verifying_key()),
            Secret::P521(sk) => PublicKey::from_p521(*sk.verifying_key()),
        };
        EcPrivateKey { inner, public }
    }

    /// A new random key, from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// When `alg` is not one of [`KeyAlgorithm::ECDSA`].
    pub fn generate(alg: KeyAlgorithm) -> Self {
        let inner = match alg {
            KeyAlgorithm::EcdsaP256Sha256 => {
                Secret::P256(p256::ecdsa::SigningKey::random(&mut OsRng))
            }
            KeyAlgorithm::EcdsaP384Sha384 => {
                Secret::P384(p384::ecdsa::SigningKey::random(&mut OsRng))
            }
            KeyAlgorithm::EcdsaP521Sha512 => Secret::P521(ecdsa::SigningKey::random(&mut OsRng)),
            other => panic!("EcPrivateKey::generate: {other} is not ECDSA"),
        };
        EcPrivateKey::from_secret(inner)
    }

    /// The public half of the key (the [`SigningKey`] method of the same
    /// name returns a clone in a `Result`, since other keys may fail).
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The curve and digest of this key's signatures.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm()
    }

    /// The DER PKCS#8 `PrivateKeyInfo` (named curve; the SEC1 key inside
    /// carries the public key), as OpenSSL writes it.
    fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let alg = self.algorithm();
        let scalar = match &self.inner {
            Secret::P256(sk) => wiped_copy(sk.to_bytes().as_mut_slice()),
            Secret::P384(sk) => wiped_copy(sk.to_bytes().as_mut_slice()),
            Secret::P521(sk) => wiped_copy(sk.to_bytes().as_mut_slice()),
        };
        let point = self.public.sec1_point();
        // ECPrivateKey ::= SEQUENCE { 1, OCTET STRING d, [1] BIT STRING point }
        let capacity = 2 * (scalar.len() + point.len()) + 64;
        let mut public_bits = Vec::with_capacity(point.len() + 4);
        public_bits.push(0);
        public_bits.extend_from_slice(&point);
        let mut tagged_public = Vec::with_capacity(point.len() + 8);
        asn1::write_tlv(&mut tagged_public, 0x03, &public_bits);
        let mut sec1_body = Zeroizing::new(Vec::with_capacity(capacity));
        asn1::write_tlv(&mut sec1_body, 0x02, &[1]);
        asn1::write_tlv(&mut sec1_body, 0x04, &scalar);
        asn1::write_tlv(&mut sec1_body, 0xa1, &tagged_public);
        let mut sec1 = Zeroizing::new(Vec::with_capacity(capacity));
        asn1::write_tlv(&mut sec1, 0x30, &sec1_body);
        // PrivateKeyInfo ::= SEQUENCE { 0, AlgorithmIdentifier, OCTET STRING ECPrivateKey }
        let mut body = Zeroizing::new(Vec::with_capacity(capacity));
        asn1::write_tlv(&mut body, 0x02, &[0]);
        body.extend_from_slice(&asn1::ec_algorithm_identifier(alg));
        asn1::write_tlv(&mut body, 0x04, &sec1);
        let mut der = Zeroizing::new(Vec::with_capacity(capacity));
        asn1::write_tlv(&mut der, 0x30, &body);
        der
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        pem::encode(PRIVATE_KEY, &self.to_pkcs8_der())
    }

    /// The key as encrypted PKCS#8 PEM (`-----BEGIN ENCRYPTED PRIVATE
    /// KEY-----`): PBES2 with PBKDF2-HMAC-SHA256
    /// ([`PKCS8_PBKDF2_ITERATIONS`] iterations, random 16-byte salt) and
    /// AES-256-CBC, which OpenSSL and Python `cryptography` read.
    pub fn to_encrypted_pkcs8_pem(&self, password: &[u8]) -> Result<Zeroizing<String>, KeyError> {
        self.to_encrypted_pkcs8_pem_with_iterations(password, PKCS8_PBKDF2_ITERATIONS)
    }

    /// [`EcPrivateKey::to_encrypted_pkcs8_pem`] with another PBKDF2
    /// iteration count, at least [`MIN_PKCS8_PBKDF2_ITERATIONS`] (OpenSSL's
    /// and Python `cryptography`'s default).
    pub fn to_encrypted_pkcs8_pem_with_iterations(
        &self,
        password: &[u8],
        iterations: u32,
    ) -> Result<Zeroizing<String>, KeyError> {
        let failed = |detail: String| KeyError::EncryptionFailed { detail };
        if password.is_empty() {
            return Err(failed("the password is empty".to_owned()));
        }
        if iterations < MIN_PKCS8_PBKDF2_ITERATIONS {
            return Err(failed(format!(
                "{iterations} PBKDF2 iterations are too few (at least {MIN_PKCS8_PBKDF2_ITERATIONS})"
            )));
        }
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        OsRng
            .try_fill_bytes(&mut salt)
            .and_then(|()| OsRng.try_fill_bytes(&mut iv))
            .map_err(|e| failed(format!("no randomness from the operating system: {e}")))?;
        let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, &salt, &iv)
            .map_err(|e| failed(e.to_string()))?;
        let der = self.to_pkcs8_der();
        let info = PrivateKeyInfo::from_der(&der).map_err(|e| failed(e.to_string()))?;
        let encrypted = info
            .encrypt_with_params(params, password)
            .map_err(|e| failed(e.to_string()))?;
        encrypted
            .to_pem(ENCRYPTED_PRIVATE_KEY, LineEnding::LF)
            .map_err(|e| failed(e.to_string()))
    }

    fn sign_prehash(&self, prehash: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |_| KeyError::SigningFailed {
            detail: "the ECDSA signer refused the digest".to_owned(),
        };
        // P-256 and P-384 use RFC 6979 deterministic nonces; P-521 a random
        // nonce from the operating system. Signatures are normalized to low S.
        let der = match &self.inner {
            Secret::P256(sk) => {
                let sig: p256::ecdsa::Signature = sk.sign_prehash(prehash).map_err(failed)?;
                sig.normalize_s()
                    .unwrap_or(sig)
                    .to_der()
                    .as_bytes()
                    .to_vec()
            }
            Secret::P384(sk) => {
                let sig: p384::ecdsa::Signature = sk.sign_prehash(prehash).map_err(failed)?;
                sig.normalize_s()
                    .unwrap_or(sig)
                    .to_der()
                    .as_bytes()
                    .to_vec()
            }
            Secret::P521(sk) => {
                // What p521's own signer does: RFC 6979 is not defined byte-wise
                // for a 521-bit order.
                let z = ecdsa::hazmat::bits2field::<p521::NistP521>(prehash).map_err(failed)?;
                let k = *NonZeroScalar::<p521::NistP521>::random(&mut OsRng).as_ref();
                let d: &p521::Scalar = sk.as_nonzero_scalar().as_ref();
                let (sig, _) =
                    ecdsa::hazmat::sign_prehashed::<p521::NistP521, p521::Scalar>(d, k, &z)
                        .map_err(failed)?;
                sig.normalize_s()
                    .unwrap_or(sig)
                    .to_der()
                    .as_bytes()
                    .to_vec()
            }
        };
        Ok(der)
    }
}

impl SigningKey for EcPrivateKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm()
    }

    fn public_key(&self) -> Result<PublicKey, KeyError> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let digest = self.algorithm().digest();
        let signature = self.sign_prehash(&digest.digest(message))?;
        // A signature that does not verify (a fault while signing) could leak
        // the key if published: check it first.
        self.public
            .verify(message, &signature)
            .map_err(|_| KeyError::SigningFailed {
                detail: "the signature just made does not verify".to_owned(),
            })?;
        Ok(signature)
    }
}

impl fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcPrivateKey")
            .field("algorithm", &self.algorithm())
            .field(
                "public_key_fingerprint_sha256",
                &self.public.fingerprint_sha256(),
            )
            .finish_non_exhaustive()
    }
}

/// Whether the private key in `text` is password-encrypted PKCS#8
/// (`-----BEGIN ENCRYPTED PRIVATE KEY-----`), so that
/// [`EcPrivateKey::from_pem`] and [`PrivateKey::from_pem`](super::PrivateKey::from_pem)
/// need a password. False for anything else,
/// including keys in OpenSSL's legacy encrypted PEM format, which
/// `from_pem` refuses whatever the password.
pub fn is_encrypted_pem(text: &[u8]) -> bool {
    pem::blocks(text)
        .ok()
        .and_then(|blocks| {
            private_key_block_of(
                &blocks,
                &[
                    EC_PRIVATE_KEY,
                    PRIVATE_KEY,
                    ENCRYPTED_PRIVATE_KEY,
                    "RSA PRIVATE KEY",
                ],
                EXPECTED,
            )
            .ok()
            .map(|b| b.label == ENCRYPTED_PRIVATE_KEY && !b.legacy_encrypted)
        })
        .unwrap_or(false)
}

/// Copies `bytes` into a buffer wiped on drop, and wipes `bytes`.
fn wiped_copy(bytes: &mut [u8]) -> Zeroizing<Vec<u8>> {
    let copy = Zeroizing::new(bytes.to_vec());
    bytes.zeroize();
    copy
}

/// Bytes of the private scalar on the curve; `None` for other key types.
fn field_len(alg: KeyAlgorithm) -> Option<usize> {
    match alg {
        KeyAlgorithm::EcdsaP256Sha256 => Some(32),
        KeyAlgorithm::EcdsaP384Sha384 => Some(48),
        KeyAlgorithm::EcdsaP521Sha512 => Some(66),
        _ => None,
    }
}

/// The DER of the one private key block of a PEM text whose label is one
/// of `labels`; an `ENCRYPTED PRIVATE KEY` is decrypted with `password`
/// (required). Whether a password given for a plain key is an error is the
/// caller's to say, once the key has been read.
pub(super) struct PrivatePem {
    /// The block's label: one of the `labels` asked for.
    pub label: &'static str,
    /// The DER of the key; decrypted for `ENCRYPTED PRIVATE KEY`.
    pub der: Zeroizing<Vec<u8>>,
}

impl PrivatePem {
    /// The `PrivateKeyInfo` of a decrypted key. A wrong password that
    /// happens to leave valid padding yields garbage rather than a
    /// PrivateKeyInfo.
    pub fn decrypted_info(&self) -> Result<PrivateKeyInfo<'_>, KeyError> {
        PrivateKeyInfo::from_der(&self.der).map_err(|_| KeyError::WrongPassword)
    }
}

pub(super) fn read_private_pem(
    text: &[u8],
    password: Option<&[u8]>,
    labels: &[&'static str],
    expected: &'static str,
) -> Result<PrivatePem, KeyError> {
    let blocks = pem::blocks(text)?;
    let block = private_key_block_of(&blocks, labels, expected)?;
    if block.legacy_encrypted {
        return Err(KeyError::LegacyEncryptedPem);
    }
    if block.has_headers {
        return Err(KeyError::malformed(
            "private key",
            format!("unexpected headers in the `{}` PEM block", block.label),
        ));
    }
    let label = labels
        .iter()
        .copied()
        .find(|l| *l == block.label)
        .unwrap_or(PRIVATE_KEY);
    let der = block.decode("private key")?;
    if label == ENCRYPTED_PRIVATE_KEY {
        let password = password.ok_or(KeyError::PasswordRequired)?;
        return Ok(PrivatePem {
            label,
            der: decrypt_pkcs8(&der, password)?,
        });
    }
    Ok(PrivatePem { label, der })
}

/// The one block of a PEM text whose label is one of `labels`.
fn private_key_block_of<'b, 'a>(
    blocks: &'b [pem::Block<'a>],
    labels: &[&str],
    expected: &'static str,
) -> Result<&'b pem::Block<'a>, KeyError> {
    let is_ours = |b: &&pem::Block<'_>| labels.contains(&b.label);
    let mut keys = blocks.iter().filter(is_ours);
    let Some(block) = keys.next() else {
        let unsupported = |label: &str, found: &str| {
            blocks
                .iter()
                .any(|b| b.label == label)
                .then(|| KeyError::UnsupportedKeyType {
                    found: found.to_owned(),
                })
        };
        return Err(unsupported("RSA PRIVATE KEY", "RSA")
            .or_else(|| unsupported("DSA PRIVATE KEY", "DSA"))
            .unwrap_or_else(|| match blocks.first() {
                None => KeyError::NoPemBlock { expected },
                Some(first) => KeyError::WrongPemLabel {
                    found: first.label.to_owned(),
                    expected,
                },
            }));
    };
    if keys.next().is_some() {
        return Err(KeyError::malformed(
            "private key file",
            "it holds more than one private key block",
        ));
    }
    Ok(block)
}

/// Decrypts a DER `EncryptedPrivateKeyInfo` into a buffer wiped on drop.
fn decrypt_pkcs8(der: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let info =
        EncryptedPrivateKeyInfo::from_der(der).map_err(|e| {
            match asn1::describe_encryption(der) {
                Some((_, scheme)) => KeyError::UnsupportedEncryption { scheme },
                None => KeyError::malformed(
                    "encrypted private key",
                    format!("not a PKCS#8 EncryptedPrivateKeyInfo: {e}"),
                ),
            }
        })?;
    if let Some(scrypt) = info
        .encryption_algorithm
        .pbes2()
        .and_then(|p| p.kdf.scrypt())
    {
        let memory = 128u128
            * u128::from(scrypt.block_size)
            * (u128::from(scrypt.cost_parameter) + u128::from(scrypt.parallelization));
        if memory > MAX_SCRYPT_MEMORY {
            return Err(KeyError::UnsupportedEncryption {
                scheme: format!(
                    "scrypt with N={} r={} p={}, which needs more than 1 GiB of memory",
                    scrypt.cost_parameter, scrypt.block_size, scrypt.parallelization
                ),
            });
        }
    }
    let mut buffer = Zeroizing::new(info.encrypted_data.to_vec());
    let len = info
        .encryption_algorithm
        .decrypt_in_place(password, &mut buffer[..])
        .map_err(|e| match e {
            // A bad padding after decryption: pkcs5 0.7 reports it as
            // `EncryptFailed`.
            pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed => KeyError::WrongPassword,
            pkcs5::Error::UnsupportedAlgorithm { oid } => KeyError::UnsupportedEncryption {
                scheme: asn1::describe_encryption(der)
                    .map(|(_, scheme)| scheme)
                    .unwrap_or_else(|| asn1::encryption_name(&oid)),
            },
            pkcs5::Error::NoPbes1CryptSupport => KeyError::UnsupportedEncryption {
                scheme: format!(
                    "PBES1 ({})",
                    asn1::encryption_name(&info.encryption_algorithm.oid())
                ),
            },
            other => KeyError::malformed("encrypted private key", other),
        })?
        .len();
    buffer.truncate(len);
    Ok(buffer)
}

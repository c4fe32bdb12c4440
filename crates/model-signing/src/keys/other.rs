//! RSA and Ed25519 private keys, and [`PrivateKey`], which loads any key
//! this library signs with.
//!
//! RSA keys sign RSASSA-PKCS1-v1_5 with SHA-256 and Ed25519 keys Ed25519ph
//! (SHA-512 pre-hash, empty context): the schemes of the Go implementation
//! of OMS, which the Python reference does not verify.

use std::fmt;

use der::asn1::OctetStringRef;
use der::Decode;
use ecdsa::signature::hazmat::PrehashSigner;
use ecdsa::signature::SignatureEncoding as _;
use pkcs8::PrivateKeyInfo;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use sha2::{Digest as _, Sha256, Sha512};
use zeroize::Zeroizing;

use super::private::{read_private_pem, EC_PRIVATE_KEY, ENCRYPTED_PRIVATE_KEY, PRIVATE_KEY};
use super::{asn1, EcPrivateKey, KeyAlgorithm, KeyError, PublicKey, SigningKey};

const RSA_PRIVATE_KEY: &str = "RSA PRIVATE KEY";
const EXPECTED: &str = "a private key (`-----BEGIN PRIVATE KEY-----`, `-----BEGIN ENCRYPTED PRIVATE KEY-----`, `-----BEGIN EC PRIVATE KEY-----` or `-----BEGIN RSA PRIVATE KEY-----`)";

/// An RSA private key of 2048, 3072 or 4096 bits with the exponent 65537,
/// in memory; it signs RSASSA-PKCS1-v1_5 with SHA-256. The key is wiped when
/// dropped, and `Debug` shows only the algorithm and the public key's
/// fingerprint.
pub struct RsaPrivateKey {
    key: rsa::pkcs1v15::SigningKey<Sha256>,
    public: PublicKey,
}

impl RsaPrivateKey {
    /// Reads a DER PKCS#1 `RSAPrivateKey`. The key's consistency is checked
    /// (its primes multiply to its modulus), and its public half must be a
    /// key [`PublicKey`] accepts.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|e| {
            KeyError::malformed("private key", format!("not a PKCS#1 RSAPrivateKey: {e}"))
        })?;
        key.validate().map_err(|e| {
            KeyError::malformed("private key", format!("inconsistent RSA key: {e}"))
        })?;
        let public_der = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| KeyError::malformed("private key", e))?;
        let public = PublicKey::from_pkcs1_der(public_der.as_bytes())?;
        Ok(RsaPrivateKey {
            key: rsa::pkcs1v15::SigningKey::new(key),
            public,
        })
    }

    /// The public half of the key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl SigningKey for RsaPrivateKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm()
    }

    fn public_key(&self) -> Result<PublicKey, KeyError> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let digest = Sha256::digest(message);
        let signature: rsa::pkcs1v15::Signature =
            self.key
                .sign_prehash(&digest)
                .map_err(|e| KeyError::SigningFailed {
                    detail: format!("the RSA signer refused the digest: {e}"),
                })?;
        checked(&self.public, message, signature.to_vec())
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(f, "RsaPrivateKey", &self.public)
    }
}

/// An Ed25519 private key in memory; it signs Ed25519ph (RFC 8032: SHA-512
/// pre-hash, empty context). The seed is wiped when dropped, and `Debug`
/// shows only the algorithm and the public key's fingerprint.
pub struct Ed25519PrivateKey {
    key: ed25519_dalek::SigningKey,
    public: PublicKey,
}

impl Ed25519PrivateKey {
    /// The key of a 32-byte RFC 8032 seed.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = PublicKey::from_ed25519_bytes(key.verifying_key().as_bytes())?;
        Ok(Ed25519PrivateKey { key, public })
    }

    /// Reads the `privateKey` of an RFC 8410 PKCS#8 Ed25519 key: an OCTET
    /// STRING holding the 32-byte seed.
    fn from_pkcs8_private_key(bytes: &[u8]) -> Result<Self, KeyError> {
        let seed = OctetStringRef::from_der(bytes).map_err(|e| {
            KeyError::malformed(
                "private key",
                format!("not an RFC 8410 Ed25519 private key: {e}"),
            )
        })?;
        let seed: Zeroizing<[u8; 32]> =
            Zeroizing::new(seed.as_bytes().try_into().map_err(|_| {
                KeyError::malformed(
                    "private key",
                    format!("an Ed25519 seed is 32 bytes, not {}", seed.as_bytes().len()),
                )
            })?);
        Ed25519PrivateKey::from_seed(&seed)
    }

    /// The public half of the key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl SigningKey for Ed25519PrivateKey {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Ed25519Ph
    }

    fn public_key(&self) -> Result<PublicKey, KeyError> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut prehash = Sha512::new();
        prehash.update(message);
        let signature =
            self.key
                .sign_prehashed(prehash, None)
                .map_err(|e| KeyError::SigningFailed {
                    detail: format!("the Ed25519ph signer failed: {e}"),
                })?;
        checked(&self.public, message, signature.to_bytes().to_vec())
    }
}

impl fmt::Debug for Ed25519PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(f, "Ed25519PrivateKey", &self.public)
    }
}

/// A private key of any type this library signs with: ECDSA on P-256,
/// P-384 or P-521, RSA (2048, 3072 or 4096 bits, exponent 65537) or Ed25519.
#[derive(Debug)]
#[non_exhaustive]
pub enum PrivateKey {
    /// ECDSA.
    Ec(EcPrivateKey),
    /// RSA, signing RSASSA-PKCS1-v1_5 with SHA-256.
    Rsa(RsaPrivateKey),
    /// Ed25519, signing Ed25519ph.
    Ed25519(Ed25519PrivateKey),
}

impl PrivateKey {
    /// Reads a private key from PEM text: PKCS#8 (`PRIVATE KEY`),
    /// password-encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`), SEC1 (`EC PRIVATE
    /// KEY`) or PKCS#1 (`RSA PRIVATE KEY`), with the rules of
    /// [`EcPrivateKey::from_pem`] for text around the block, passwords and
    /// legacy encryption.
    pub fn from_pem(text: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        let pem = read_private_pem(
            text,
            password,
            &[
                PRIVATE_KEY,
                ENCRYPTED_PRIVATE_KEY,
                EC_PRIVATE_KEY,
                RSA_PRIVATE_KEY,
            ],
            EXPECTED,
        )?;
        let key = match pem.label {
            ENCRYPTED_PRIVATE_KEY => return PrivateKey::from_pkcs8_info(&pem.decrypted_info()?),
            EC_PRIVATE_KEY => PrivateKey::Ec(EcPrivateKey::from_sec1_der(&pem.der)?),
            RSA_PRIVATE_KEY => PrivateKey::Rsa(RsaPrivateKey::from_pkcs1_der(&pem.der)?),
            _ => {
                let info = PrivateKeyInfo::from_der(&pem.der).map_err(|e| {
                    KeyError::malformed("private key", format!("not a PKCS#8 PrivateKeyInfo: {e}"))
                })?;
                PrivateKey::from_pkcs8_info(&info)?
            }
        };
        if password.is_some() {
            return Err(KeyError::UnexpectedPassword);
        }
        Ok(key)
    }

    fn from_pkcs8_info(info: &PrivateKeyInfo<'_>) -> Result<Self, KeyError> {
        match info.algorithm.oid {
            asn1::RSA_ENCRYPTION => {
                if !info.algorithm.parameters.is_none_or(|p| p.is_null()) {
                    return Err(KeyError::malformed(
                        "private key",
                        "rsaEncryption with parameters other than NULL",
                    ));
                }
                RsaPrivateKey::from_pkcs1_der(info.private_key).map(PrivateKey::Rsa)
            }
            asn1::ID_ED25519 => {
                if info.algorithm.parameters.is_some() {
                    return Err(KeyError::malformed(
                        "private key",
                        "Ed25519 with algorithm parameters (RFC 8410 has none)",
                    ));
                }
                Ed25519PrivateKey::from_pkcs8_private_key(info.private_key).map(PrivateKey::Ed25519)
            }
            _ => EcPrivateKey::from_pkcs8_info(info).map(PrivateKey::Ec),
        }
    }

    fn signing_key(&self) -> &dyn SigningKey {
        match self {
            PrivateKey::Ec(k) => k,
            PrivateKey::Rsa(k) => k,
            PrivateKey::Ed25519(k) => k,
        }
    }
}

impl SigningKey for PrivateKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.signing_key().algorithm()
    }

    fn public_key(&self) -> Result<PublicKey, KeyError> {
        self.signing_key().public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.signing_key().sign(message)
    }
}

/// A signature that does not verify (a fault while signing) could leak the
/// key if published: it is checked first.
fn checked(public: &PublicKey, message: &[u8], signature: Vec<u8>) -> Result<Vec<u8>, KeyError> {
    public
        .verify(message, &signature)
        .map_err(|_| KeyError::SigningFailed {
            detail: "the signature just made does not verify".to_owned(),
        })?;
    Ok(signature)
}

fn debug(f: &mut fmt::Formatter<'_>, name: &str, public: &PublicKey) -> fmt::Result {
    f.debug_struct(name)
        .field("algorithm", &public.algorithm())
        .field(
            "public_key_fingerprint_sha256",
            &public.fingerprint_sha256(),
        )
        .finish()
}

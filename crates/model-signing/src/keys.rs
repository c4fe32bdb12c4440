//! Keys: loading, signing and signature verification.
//!
//! The OMS format signs with ECDSA on the NIST curves P-256, P-384 and P-521,
//! each with its own digest (SHA-256, SHA-384, SHA-512), and encodes the
//! signature in DER. The Go implementation of OMS also signs with RSA
//! (RSASSA-PKCS1-v1_5 with SHA-256; 2048, 3072 or 4096 bits) and with
//! Ed25519ph (RFC 8032 pre-hashed Ed25519: SHA-512, empty context), which
//! [`PublicKey`] verifies. A key signature names its key by a hint only, so
//! the scheme follows the key: an RSA key verifies PKCS#1 v1.5 signatures and
//! nothing else (never PSS), an Ed25519 key Ed25519ph signatures and never
//! pure Ed25519 ones. Everything else (RSA below 2048 bits or with an exponent
//! other than 65537, secp256k1, other curves) is refused with
//! [`KeyError::UnsupportedKeyType`].
//!
//! - [`PublicKey`] loads a `-----BEGIN PUBLIC KEY-----` PEM block (also when
//!   explanatory text precedes it, as in `certtool` output), writes the PEM
//!   text the Python reference hashes into `publicKey.hint`, and verifies
//!   signatures.
//! - [`EcPrivateKey`] loads SEC1 (`EC PRIVATE KEY`), PKCS#8 (`PRIVATE KEY`) and
//!   password-encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) keys and signs. Its
//!   secrets are wiped from memory when it is dropped and never printed.
//!   [`RsaPrivateKey`] and [`Ed25519PrivateKey`] do the same for RSA and
//!   Ed25519 keys, and [`PrivateKey`] loads a key of any of these types.
//! - [`SigningKey`] is the trait a signer needs, so that keys held elsewhere
//!   (a PKCS#11 token, a cloud KMS) sign the same way.
//!
//! ```
//! use model_signing::keys::{EcPrivateKey, KeyAlgorithm, SigningKey};
//! # fn main() -> Result<(), model_signing::keys::KeyError> {
//! let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
//! let signature = key.sign(b"message")?;
//! let public = key.public_key(); // `SigningKey::public_key` returns a `Result`
//! public.verify(b"message", &signature)?;
//! assert!(public.verify(b"another message", &signature).is_err());
//! # Ok(())
//! # }
//! ```

mod asn1;
mod error;
mod other;
mod pem;
mod private;
mod public;

use std::fmt;
use std::sync::Arc;

use sha2::Digest as _;

pub use error::KeyError;
pub use other::{Ed25519PrivateKey, PrivateKey, RsaPrivateKey};
pub use private::{
    is_encrypted_pem, EcPrivateKey, MIN_PKCS8_PBKDF2_ITERATIONS, PKCS8_PBKDF2_ITERATIONS,
};
pub(crate) use public::ed25519_key;
pub use public::PublicKey;

/// A signature algorithm: a key type and the digest its signatures use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 (secp256r1) with SHA-256.
    EcdsaP256Sha256,
    /// ECDSA on NIST P-384 (secp384r1) with SHA-384.
    EcdsaP384Sha384,
    /// ECDSA on NIST P-521 (secp521r1) with SHA-512.
    EcdsaP521Sha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256, a 2048-bit modulus.
    Rsa2048Pkcs1v15Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, a 3072-bit modulus.
    Rsa3072Pkcs1v15Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, a 4096-bit modulus.
    Rsa4096Pkcs1v15Sha256,
    /// Ed25519ph (RFC 8032): Ed25519 over the SHA-512 digest of the
    /// message, with an empty context.
    Ed25519Ph,
}

impl KeyAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [KeyAlgorithm; 7] = [
        KeyAlgorithm::EcdsaP256Sha256,
        KeyAlgorithm::EcdsaP384Sha384,
        KeyAlgorithm::EcdsaP521Sha512,
        KeyAlgorithm::Rsa2048Pkcs1v15Sha256,
        KeyAlgorithm::Rsa3072Pkcs1v15Sha256,
        KeyAlgorithm::Rsa4096Pkcs1v15Sha256,
        KeyAlgorithm::Ed25519Ph,
    ];

    /// The ECDSA algorithms: those the Python reference signs and verifies.
    pub const ECDSA: [KeyAlgorithm; 3] = [
        KeyAlgorithm::EcdsaP256Sha256,
        KeyAlgorithm::EcdsaP384Sha384,
        KeyAlgorithm::EcdsaP521Sha512,
    ];

    /// The Sigstore `keyDetails` name (`PKIX_ECDSA_P256_SHA_256`,
    /// `PKIX_RSA_PKCS1V15_2048_SHA256`, `PKIX_ED25519_PH`, ...), as the
    /// Sigstore protocol buffers name them.
    pub fn key_details(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256Sha256 => "PKIX_ECDSA_P256_SHA_256",
            KeyAlgorithm::EcdsaP384Sha384 => "PKIX_ECDSA_P384_SHA_384",
            KeyAlgorithm::EcdsaP521Sha512 => "PKIX_ECDSA_P521_SHA_512",
            KeyAlgorithm::Rsa2048Pkcs1v15Sha256 => "PKIX_RSA_PKCS1V15_2048_SHA256",
            KeyAlgorithm::Rsa3072Pkcs1v15Sha256 => "PKIX_RSA_PKCS1V15_3072_SHA256",
            KeyAlgorithm::Rsa4096Pkcs1v15Sha256 => "PKIX_RSA_PKCS1V15_4096_SHA256",
            KeyAlgorithm::Ed25519Ph => "PKIX_ED25519_PH",
        }
    }

    /// Whether this is ECDSA on a NIST curve.
    pub fn is_ecdsa(self) -> bool {
        KeyAlgorithm::ECDSA.contains(&self)
    }

    /// The RSA algorithm for a modulus of `bits` bits: 2048, 3072 or 4096.
    pub fn rsa(bits: usize) -> Option<Self> {
        match bits {
            2048 => Some(KeyAlgorithm::Rsa2048Pkcs1v15Sha256),
            3072 => Some(KeyAlgorithm::Rsa3072Pkcs1v15Sha256),
            4096 => Some(KeyAlgorithm::Rsa4096Pkcs1v15Sha256),
            _ => None,
        }
    }

    /// The algorithm a Sigstore `keyDetails` name stands for, if supported.
    pub fn from_key_details(s: &str) -> Option<Self> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|alg| alg.key_details() == s)
    }

    /// The key type's short name: the curve's NIST name (`P-256`, `P-384`,
    /// `P-521`), `RSA-2048`, `RSA-3072`, `RSA-4096` or `Ed25519`.
    pub fn curve_name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256Sha256 => "P-256",
            KeyAlgorithm::EcdsaP384Sha384 => "P-384",
            KeyAlgorithm::EcdsaP521Sha512 => "P-521",
            KeyAlgorithm::Rsa2048Pkcs1v15Sha256 => "RSA-2048",
            KeyAlgorithm::Rsa3072Pkcs1v15Sha256 => "RSA-3072",
            KeyAlgorithm::Rsa4096Pkcs1v15Sha256 => "RSA-4096",
            KeyAlgorithm::Ed25519Ph => "Ed25519",
        }
    }

    /// The digest this algorithm's signatures are made over (for Ed25519ph,
    /// the pre-hash).
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            KeyAlgorithm::EcdsaP256Sha256 => DigestAlgorithm::Sha256,
            KeyAlgorithm::EcdsaP384Sha384 => DigestAlgorithm::Sha384,
            KeyAlgorithm::EcdsaP521Sha512 => DigestAlgorithm::Sha512,
            KeyAlgorithm::Rsa2048Pkcs1v15Sha256
            | KeyAlgorithm::Rsa3072Pkcs1v15Sha256
            | KeyAlgorithm::Rsa4096Pkcs1v15Sha256 => DigestAlgorithm::Sha256,
            KeyAlgorithm::Ed25519Ph => DigestAlgorithm::Sha512,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Ed25519Ph => f.write_str("Ed25519ph (SHA-512)"),
            KeyAlgorithm::Rsa2048Pkcs1v15Sha256
            | KeyAlgorithm::Rsa3072Pkcs1v15Sha256
            | KeyAlgorithm::Rsa4096Pkcs1v15Sha256 => write!(
                f,
                "{} PKCS#1 v1.5 with {}",
                self.curve_name(),
                self.digest().display_name()
            ),
            _ => write!(
                f,
                "ECDSA {} with {}",
                self.curve_name(),
                self.digest().display_name()
            ),
        }
    }
}

/// A message digest used by ECDSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The lowercase name: `sha256`, `sha384` or `sha512`.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha384 => "sha384",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    fn display_name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// The digest of `message`.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha256 => sha2::Sha256::digest(message).to_vec(),
            DigestAlgorithm::Sha384 => sha2::Sha384::digest(message).to_vec(),
            DigestAlgorithm::Sha512 => sha2::Sha512::digest(message).to_vec(),
        }
    }

    /// The digest of the concatenation of `chunks`, without concatenating
    /// them: a large message need not be copied to be signed or verified.
    pub fn digest_chunks<'a>(self, chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
        fn run<'a, D: sha2::Digest>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
            let mut h = D::new();
            for c in chunks {
                h.update(c);
            }
            h.finalize().to_vec()
        }
        match self {
            DigestAlgorithm::Sha256 => run::<sha2::Sha256>(chunks),
            DigestAlgorithm::Sha384 => run::<sha2::Sha384>(chunks),
            DigestAlgorithm::Sha512 => run::<sha2::Sha512>(chunks),
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// A key that signs: in memory ([`EcPrivateKey`]), or held by a token or a
/// key service that implements this trait.
pub trait SigningKey: Send + Sync {
    /// The scheme and digest of this key's signatures.
    fn algorithm(&self) -> KeyAlgorithm;

    /// The public half of the key.
    fn public_key(&self) -> Result<PublicKey, KeyError>;

    /// A signature over `message` with the key's scheme: ECDSA over
    /// `message` hashed with the curve's digest (P-256 SHA-256, P-384
    /// SHA-384, P-521 SHA-512), DER-encoded; RSASSA-PKCS1-v1_5 with SHA-256;
    /// or Ed25519ph.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError>;
}

impl<T: SigningKey + ?Sized> SigningKey for &T {
    fn algorithm(&self) -> KeyAlgorithm {
        (**self).algorithm()
    }
    fn public_key(&self) -> Result<PublicKey, KeyError> {
        (**self).public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        (**self).sign(message)
    }
}

impl<T: SigningKey + ?Sized> SigningKey for Box<T> {
    fn algorithm(&self) -> KeyAlgorithm {
        (**self).algorithm()
    }
    fn public_key(&self) -> Result<PublicKey, KeyError> {
        (**self).public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        (**self).sign(message)
    }
}

impl<T: SigningKey + ?Sized> SigningKey for Arc<T> {
    fn algorithm(&self) -> KeyAlgorithm {
        (**self).algorithm()
    }
    fn public_key(&self) -> Result<PublicKey, KeyError> {
        (**self).public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        (**self).sign(message)
    }
}

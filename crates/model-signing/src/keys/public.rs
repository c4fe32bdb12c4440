//! Public keys: loading, PEM text, hint and signature verification.

use std::fmt;
use std::ops::Add;

use der::{asn1::UintRef, Decode, Reader, SliceReader};
use ecdsa::elliptic_curve::generic_array::{typenum::Unsigned, ArrayLength};
use ecdsa::elliptic_curve::{AffinePoint, CurveArithmetic, FieldBytesSize, PrimeCurve};
use ecdsa::hazmat::VerifyPrimitive;
use ecdsa::signature::hazmat::PrehashVerifier;
use ecdsa::SignatureSize;
use sha2::{Digest as _, Sha256};
use spki::SubjectPublicKeyInfoRef;

use super::{asn1, pem, DigestAlgorithm, KeyAlgorithm, KeyError};

const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";
const EXPECTED: &str = "a public key (`-----BEGIN PUBLIC KEY-----`)";

/// An ECDSA public key on P-256, P-384 or P-521.
///
/// Two keys are equal when they are the same point on the same curve.
#[derive(Clone)]
pub struct PublicKey {
    inner: Inner,
    /// The SubjectPublicKeyInfo DER, with the point uncompressed.
    spki: Vec<u8>,
}

#[derive(Clone)]
enum Inner {
    P256(ecdsa::VerifyingKey<p256::NistP256>),
    P384(ecdsa::VerifyingKey<p384::NistP384>),
    P521(ecdsa::VerifyingKey<p521::NistP521>),
}

impl PublicKey {
    /// Reads the `-----BEGIN PUBLIC KEY-----` block of a PEM text (a
    /// SubjectPublicKeyInfo). Text around the block is ignored, so the output
    /// of `certtool --pubkey-info` loads as it is.
    ///
    /// Fails with [`KeyError::WrongPemLabel`] when the text holds another kind
    /// of block (a certificate, a private key), with
    /// [`KeyError::UnsupportedKeyType`] for keys other than ECDSA on P-256,
    /// P-384 or P-521, and when there is more than one public key block.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let blocks = pem::blocks(text.as_bytes())?;
        let mut keys = blocks.iter().filter(|b| b.label == PUBLIC_KEY_LABEL);
        let Some(block) = keys.next() else {
            return Err(match blocks.first() {
                None => KeyError::NoPemBlock { expected: EXPECTED },
                Some(_) if blocks.iter().any(|b| b.label == "RSA PUBLIC KEY") => {
                    KeyError::UnsupportedKeyType {
                        found: "RSA".to_owned(),
                    }
                }
                Some(first) => KeyError::WrongPemLabel {
                    found: first.label.to_owned(),
                    expected: EXPECTED,
                },
            });
        };
        if keys.next().is_some() {
            return Err(KeyError::malformed(
                "public key file",
                "it holds more than one `PUBLIC KEY` block",
            ));
        }
        if block.has_headers {
            return Err(KeyError::malformed(
                "public key",
                "unexpected headers in the `PUBLIC KEY` PEM block",
            ));
        }
        PublicKey::from_spki_der(&block.decode("public key")?)
    }

    /// Reads a DER-encoded SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| {
            KeyError::malformed("public key", format!("not a DER SubjectPublicKeyInfo: {e}"))
        })?;
        let alg = asn1::key_algorithm(&spki.algorithm, "public key")?;
        let point = spki.subject_public_key.as_bytes().ok_or_else(|| {
            KeyError::malformed("public key", "the key BIT STRING has unused bits")
        })?;
        PublicKey::from_sec1_point(alg, point)
    }

    /// A key from its SEC1 point encoding (uncompressed `04 X Y` or
    /// compressed `02 X` / `03 X`), as PKCS#11 tokens hand them out.
    pub fn from_sec1_point(alg: KeyAlgorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        let bad = || {
            KeyError::malformed(
                "public key",
                format!("not a valid SEC1-encoded point on {}", alg.curve_name()),
            )
        };
        if !matches!(bytes.first(), Some(0x02..=0x04)) {
            return Err(bad());
        }
        let inner = match alg {
            KeyAlgorithm::EcdsaP256Sha256 => {
                Inner::P256(ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|_| bad())?)
            }
            KeyAlgorithm::EcdsaP384Sha384 => {
                Inner::P384(ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|_| bad())?)
            }
            KeyAlgorithm::EcdsaP521Sha512 => {
                Inner::P521(ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|_| bad())?)
            }
        };
        Ok(PublicKey::from_inner(inner))
    }

    fn from_inner(inner: Inner) -> Self {
        let point = match &inner {
            Inner::P256(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
            Inner::P384(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
            Inner::P521(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
        };
        let alg = match &inner {
            Inner::P256(_) => KeyAlgorithm::EcdsaP256Sha256,
            Inner::P384(_) => KeyAlgorithm::EcdsaP384Sha384,
            Inner::P521(_) => KeyAlgorithm::EcdsaP521Sha512,
        };
        PublicKey {
            spki: asn1::ec_spki(alg, &point),
            inner,
        }
    }

    pub(crate) fn from_p256(vk: ecdsa::VerifyingKey<p256::NistP256>) -> Self {
        PublicKey::from_inner(Inner::P256(vk))
    }

    pub(crate) fn from_p384(vk: ecdsa::VerifyingKey<p384::NistP384>) -> Self {
        PublicKey::from_inner(Inner::P384(vk))
    }

    pub(crate) fn from_p521(vk: ecdsa::VerifyingKey<p521::NistP521>) -> Self {
        PublicKey::from_inner(Inner::P521(vk))
    }

    /// The curve and digest of this key's signatures.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.inner {
            Inner::P256(_) => KeyAlgorithm::EcdsaP256Sha256,
            Inner::P384(_) => KeyAlgorithm::EcdsaP384Sha384,
            Inner::P521(_) => KeyAlgorithm::EcdsaP521Sha512,
        }
    }

    /// The DER SubjectPublicKeyInfo (named curve, uncompressed point): the
    /// same bytes OpenSSL and Python `cryptography` write, whatever encoding
    /// the key was read from.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The uncompressed SEC1 point (`04 X Y`).
    pub fn sec1_point(&self) -> Vec<u8> {
        match &self.inner {
            Inner::P256(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
            Inner::P384(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
            Inner::P521(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
        }
    }

    /// The PEM text of the SubjectPublicKeyInfo: `-----BEGIN PUBLIC KEY-----`,
    /// base64 in 64-column lines, LF line ends and a final newline, exactly as
    /// Python `cryptography` writes it (`public_bytes(PEM, SubjectPublicKeyInfo)`).
    pub fn to_pem(&self) -> String {
        pem::encode(PUBLIC_KEY_LABEL, &self.spki).to_string()
    }

    /// The key's `publicKey.hint` in a bundle: lowercase hex SHA-256 of
    /// [`PublicKey::to_pem`], as the Python reference computes it.
    pub fn hint(&self) -> String {
        hex::encode(Sha256::digest(self.to_pem().as_bytes()))
    }

    /// Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (the
    /// `Public Key ID` / `pin-sha256` that OpenSSL and certtool print).
    pub fn fingerprint_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.spki))
    }

    /// Verifies a DER-encoded ECDSA signature over `message` hashed with the
    /// curve's digest (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512).
    pub fn verify(&self, message: &[u8], der_signature: &[u8]) -> Result<(), KeyError> {
        self.verify_with_digest(message, der_signature, self.algorithm().digest())
    }

    /// Verifies a DER-encoded ECDSA signature over `message` hashed with
    /// `digest`, whatever the curve (legacy v0.2 signatures hash with SHA-256
    /// on every curve). A digest longer than the curve order is truncated to
    /// its leftmost bits, as ECDSA specifies.
    ///
    /// The signature must be strict DER (no trailing bytes, minimal integer
    /// encodings) with `0 < r, s < n`. High-S signatures are accepted, as
    /// OpenSSL accepts them.
    pub fn verify_with_digest(
        &self,
        message: &[u8],
        der_signature: &[u8],
        digest: DigestAlgorithm,
    ) -> Result<(), KeyError> {
        self.verify_prehashed(&digest.digest(message), der_signature)
    }

    /// Verifies a DER-encoded ECDSA signature over a message whose digest
    /// is `prehash` (computed by the caller, for example over a message
    /// given in pieces with [`DigestAlgorithm::digest_chunks`]), with the
    /// rules of [`verify_with_digest`](Self::verify_with_digest).
    pub fn verify_prehashed(&self, prehash: &[u8], der_signature: &[u8]) -> Result<(), KeyError> {
        check_der_shape(der_signature)?;
        match &self.inner {
            Inner::P256(vk) => verify_prehash(vk, prehash, der_signature),
            Inner::P384(vk) => verify_prehash(vk, prehash, der_signature),
            Inner::P521(vk) => verify_prehash(vk, prehash, der_signature),
        }
    }
}

/// Checks that a signature is a DER SEQUENCE of two non-negative INTEGERs
/// and nothing more, for a precise error message; the ranges of r and s are
/// checked with the curve.
fn check_der_shape(der: &[u8]) -> Result<(), KeyError> {
    let bad = |e: der::Error| KeyError::MalformedSignature {
        detail: format!("not a DER SEQUENCE of two INTEGERs: {e}"),
    };
    let mut reader = SliceReader::new(der).map_err(bad)?;
    reader
        .sequence(|r| {
            UintRef::decode(r)?;
            UintRef::decode(r)?;
            Ok(())
        })
        .map_err(bad)?;
    reader.finish(()).map_err(bad)
}

fn verify_prehash<C>(
    vk: &ecdsa::VerifyingKey<C>,
    prehash: &[u8],
    der_signature: &[u8],
) -> Result<(), KeyError>
where
    C: PrimeCurve + CurveArithmetic,
    AffinePoint<C>: VerifyPrimitive<C>,
    SignatureSize<C>: ArrayLength<u8>,
    ecdsa::der::MaxSize<C>: ArrayLength<u8>,
    <FieldBytesSize<C> as Add>::Output: Add<ecdsa::der::MaxOverhead> + ArrayLength<u8>,
{
    let signature = ecdsa::Signature::<C>::from_der(der_signature).map_err(|_| {
        KeyError::MalformedSignature {
            detail: "r or s is zero, not less than the curve order, or too long for the curve"
                .to_owned(),
        }
    })?;
    // The ECDSA library refuses digests shorter than half the field (SHA-256
    // on P-521). ECDSA itself takes a short digest as the integer it encodes,
    // which left-padding with zeros preserves.
    let field_len = <FieldBytesSize<C> as Unsigned>::USIZE;
    let padded;
    let prehash = if prehash.len() < field_len {
        let mut bytes = vec![0u8; field_len - prehash.len()];
        bytes.extend_from_slice(prehash);
        padded = bytes;
        &padded[..]
    } else {
        prehash
    };
    vk.verify_prehash(prehash, &signature)
        .map_err(|_| KeyError::SignatureInvalid)
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm())
            .field("fingerprint_sha256", &self.fingerprint_sha256())
            .finish()
    }
}

//! Public keys: loading, PEM text, hint and signature verification.

use std::fmt;
use std::ops::Add;

use der::{asn1::UintRef, Decode, Reader, SliceReader};
use ecdsa::elliptic_curve::generic_array::{typenum::Unsigned, ArrayLength};
use ecdsa::elliptic_curve::{AffinePoint, CurveArithmetic, FieldBytesSize, PrimeCurve};
use ecdsa::hazmat::VerifyPrimitive;
use ecdsa::signature::hazmat::PrehashVerifier;
use ecdsa::SignatureSize;
use rsa::pkcs8::EncodePublicKey as _;
use rsa::BigUint;
use sha2::{Digest as _, Sha256, Sha512};
use spki::SubjectPublicKeyInfoRef;

use super::{asn1, pem, DigestAlgorithm, KeyAlgorithm, KeyError};

const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";
const EXPECTED: &str = "a public key (`-----BEGIN PUBLIC KEY-----`)";

/// A public key: ECDSA on P-256, P-384 or P-521, RSA (2048, 3072 or 4096
/// bits, exponent 65537; verifies RSASSA-PKCS1-v1_5 with SHA-256) or Ed25519
/// (verifies Ed25519ph).
///
/// Two keys are equal when their SubjectPublicKeyInfo DER is the same.
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
    Rsa(rsa::pkcs1v15::VerifyingKey<Sha256>, KeyAlgorithm),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// The one RSA public exponent accepted (F4), as the Go implementation of OMS
/// and every current key generator use.
const RSA_EXPONENT: u32 = 65_537;

impl PublicKey {
    /// Reads the `-----BEGIN PUBLIC KEY-----` block of a PEM text (a
    /// SubjectPublicKeyInfo). Text around the block is ignored, so the output
    /// of `certtool --pubkey-info` loads as it is.
    ///
    /// Fails with [`KeyError::WrongPemLabel`] when the text holds another kind
    /// of block (a certificate, a private key), with
    /// [`KeyError::UnsupportedKeyType`] for keys other than ECDSA on P-256,
    /// P-384 or P-521, RSA of 2048, 3072 or 4096 bits with the exponent 65537,
    /// and Ed25519, and when there is more than one public key block.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let blocks = pem::blocks(text.as_bytes())?;
        let mut keys = blocks.iter().filter(|b| b.label == PUBLIC_KEY_LABEL);
        let Some(block) = keys.next() else {
            return Err(match blocks.first() {
                None => KeyError::NoPemBlock { expected: EXPECTED },
                Some(_) if blocks.iter().any(|b| b.label == "RSA PUBLIC KEY") => {
                    KeyError::malformed(
                        "public key",
                        "a PKCS#1 `RSA PUBLIC KEY` block; give the key as a SubjectPublicKeyInfo \
                         (`openssl rsa -RSAPublicKey_in -pubout`)",
                    )
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
        let key = spki.subject_public_key.as_bytes().ok_or_else(|| {
            KeyError::malformed("public key", "the key BIT STRING has unused bits")
        })?;
        match spki.algorithm.oid {
            asn1::RSA_ENCRYPTION => {
                // RFC 8017: NULL parameters (absent is seen in the wild).
                if !spki.algorithm.parameters.is_none_or(|p| p.is_null()) {
                    return Err(KeyError::malformed(
                        "public key",
                        "rsaEncryption with parameters other than NULL",
                    ));
                }
                PublicKey::from_pkcs1_der(key)
            }
            asn1::ID_ED25519 => {
                if spki.algorithm.parameters.is_some() {
                    return Err(KeyError::malformed(
                        "public key",
                        "Ed25519 with algorithm parameters (RFC 8410 has none)",
                    ));
                }
                PublicKey::from_ed25519_bytes(key)
            }
            _ => {
                let alg = asn1::key_algorithm(&spki.algorithm, "public key")?;
                PublicKey::from_sec1_point(alg, key)
            }
        }
    }

    /// An RSA key from its PKCS#1 `RSAPublicKey` DER. Only moduli of 2048,
    /// 3072 and 4096 bits (the sizes OMS names key details for) with the
    /// exponent 65537 are accepted; anything else fails with
    /// [`KeyError::UnsupportedKeyType`].
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = rsa::pkcs1::RsaPublicKey::from_der(der).map_err(|e| {
            KeyError::malformed("public key", format!("not a PKCS#1 RSAPublicKey: {e}"))
        })?;
        Self::from_rsa_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }

    /// An RSA key from its modulus and public exponent (big-endian unsigned
    /// integers, as PKCS#11 `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT` hold
    /// them), by the rules of [`PublicKey::from_pkcs1_der`].
    pub fn from_rsa_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
        let n = BigUint::from_bytes_be(modulus);
        let e = BigUint::from_bytes_be(exponent);
        let bits = n.bits();
        let alg = KeyAlgorithm::rsa(bits).ok_or_else(|| KeyError::UnsupportedKeyType {
            found: format!("RSA key of {bits} bits (2048, 3072 or 4096 are supported)"),
        })?;
        if e != BigUint::from(RSA_EXPONENT) {
            return Err(KeyError::UnsupportedKeyType {
                found: format!("RSA key with the public exponent {e} (only 65537 is supported)"),
            });
        }
        let key = rsa::RsaPublicKey::new(n, e)
            .map_err(|e| KeyError::malformed("public key", format!("invalid RSA key: {e}")))?;
        Ok(PublicKey::from_inner(Inner::Rsa(
            rsa::pkcs1v15::VerifyingKey::new(key),
            alg,
        )))
    }

    /// An Ed25519 key from its 32 bytes (RFC 8032 encoding). Its signatures
    /// are verified as Ed25519ph, the scheme OMS signs Ed25519 keys with.
    pub fn from_ed25519_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let key = ed25519_key(bytes).map_err(|e| KeyError::malformed("public key", e))?;
        Ok(PublicKey::from_inner(Inner::Ed25519(key)))
    }

    /// An EC key from its SEC1 point encoding (uncompressed `04 X Y` or
    /// compressed `02 X` / `03 X`), as PKCS#11 tokens hand them out; `alg`
    /// is one of [`KeyAlgorithm::ECDSA`].
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
            other => {
                return Err(KeyError::malformed(
                    "public key",
                    format!("{other} keys have no SEC1 point encoding"),
                ))
            }
        };
        Ok(PublicKey::from_inner(inner))
    }

    fn from_inner(inner: Inner) -> Self {
        let spki = match &inner {
            Inner::P256(vk) => asn1::ec_spki(
                KeyAlgorithm::EcdsaP256Sha256,
                vk.to_encoded_point(false).as_bytes(),
            ),
            Inner::P384(vk) => asn1::ec_spki(
                KeyAlgorithm::EcdsaP384Sha384,
                vk.to_encoded_point(false).as_bytes(),
            ),
            Inner::P521(vk) => asn1::ec_spki(
                KeyAlgorithm::EcdsaP521Sha512,
                vk.to_encoded_point(false).as_bytes(),
            ),
            // The encoder of a key that was just decoded does not fail; an
            // empty SPKI would only make the key compare unequal to others.
            Inner::Rsa(vk, _) => {
                let key: &rsa::RsaPublicKey = vk.as_ref();
                key.to_public_key_der()
                    .map(|d| d.as_bytes().to_vec())
                    .unwrap_or_default()
            }
            Inner::Ed25519(vk) => asn1::ed25519_spki(vk.as_bytes()),
        };
        PublicKey { spki, inner }
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

    /// The scheme and digest of this key's signatures.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.inner {
            Inner::P256(_) => KeyAlgorithm::EcdsaP256Sha256,
            Inner::P384(_) => KeyAlgorithm::EcdsaP384Sha384,
            Inner::P521(_) => KeyAlgorithm::EcdsaP521Sha512,
            Inner::Rsa(_, alg) => alg,
            Inner::Ed25519(_) => KeyAlgorithm::Ed25519Ph,
        }
    }

    /// The DER SubjectPublicKeyInfo (for EC keys: named curve, uncompressed
    /// point; for RSA keys: NULL parameters): the same bytes OpenSSL, Go and
    /// Python `cryptography` write, whatever encoding the key was read from.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The uncompressed SEC1 point (`04 X Y`) of an EC key; empty for RSA
    /// and Ed25519 keys, which have none.
    pub fn sec1_point(&self) -> Vec<u8> {
        match &self.inner {
            Inner::P256(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
            Inner::P384(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
            Inner::P521(vk) => vk.to_encoded_point(false).as_bytes().to_vec(),
            Inner::Rsa(..) | Inner::Ed25519(_) => Vec::new(),
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

    /// Verifies a signature over `message` with the key's scheme: a
    /// DER-encoded ECDSA signature over `message` hashed with the curve's
    /// digest (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512), an
    /// RSASSA-PKCS1-v1_5 signature with SHA-256 (as long as the modulus), or
    /// an Ed25519ph signature (64 bytes, SHA-512 pre-hash, empty context).
    pub fn verify(&self, message: &[u8], der_signature: &[u8]) -> Result<(), KeyError> {
        self.verify_with_digest(message, der_signature, self.algorithm().digest())
    }

    /// Verifies a DER-encoded ECDSA signature over `message` hashed with
    /// `digest`, whatever the curve (legacy v0.2 signatures hash with SHA-256
    /// on every curve). A digest longer than the curve order is truncated to
    /// its leftmost bits, as ECDSA specifies. RSA and Ed25519 keys accept only
    /// their own digest (SHA-256, SHA-512): another fails as an invalid
    /// signature.
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
        if self.algorithm().is_ecdsa() {
            check_der_shape(der_signature)?;
        }
        match &self.inner {
            Inner::P256(vk) => verify_prehash(vk, prehash, der_signature),
            Inner::P384(vk) => verify_prehash(vk, prehash, der_signature),
            Inner::P521(vk) => verify_prehash(vk, prehash, der_signature),
            Inner::Rsa(vk, _) => verify_rsa(vk, prehash, der_signature),
            Inner::Ed25519(vk) => verify_ed25519ph(vk, prehash, der_signature),
        }
    }
}

/// An Ed25519 key from its 32 bytes, for signatures and for certificate
/// issuers alike; the error says what is wrong with the bytes.
pub(crate) fn ed25519_key(bytes: &[u8]) -> Result<ed25519_dalek::VerifyingKey, String> {
    let bytes: &[u8; 32] = bytes
        .try_into()
        .map_err(|_| format!("an Ed25519 key is 32 bytes, not {}", bytes.len()))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
        .map_err(|_| "not a point on Ed25519".to_owned())?;
    // A small-order point verifies forged signatures under the RFC 8032
    // equation that allows them: refuse such keys.
    if key.is_weak() {
        return Err("an Ed25519 key of small order".to_owned());
    }
    Ok(key)
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over a message whose SHA-256 is
/// `prehash`. The signature must be exactly as long as the modulus; the
/// padding and DigestInfo are compared whole (no lenient parsing).
fn verify_rsa(
    vk: &rsa::pkcs1v15::VerifyingKey<Sha256>,
    prehash: &[u8],
    signature: &[u8],
) -> Result<(), KeyError> {
    let key: &rsa::RsaPublicKey = vk.as_ref();
    let size = rsa::traits::PublicKeyParts::size(key);
    if signature.len() != size {
        return Err(KeyError::MalformedSignature {
            detail: format!(
                "an RSA signature by this key is {size} bytes, not {}",
                signature.len()
            ),
        });
    }
    if prehash.len() != 32 {
        return Err(KeyError::SignatureInvalid);
    }
    let signature =
        rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| KeyError::SignatureInvalid)?;
    vk.verify_prehash(prehash, &signature)
        .map_err(|_| KeyError::SignatureInvalid)
}

/// Ed25519ph (RFC 8032 section 5.1, empty context) over a message whose
/// SHA-512 is `prehash`. Verification is strict: a non-canonical `S` or a
/// small-order `R` is refused.
fn verify_ed25519ph(
    vk: &ed25519_dalek::VerifyingKey,
    prehash: &[u8],
    signature: &[u8],
) -> Result<(), KeyError> {
    let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| {
        KeyError::MalformedSignature {
            detail: format!("an Ed25519 signature is 64 bytes, not {}", signature.len()),
        }
    })?;
    let prehash: [u8; 64] = prehash.try_into().map_err(|_| KeyError::SignatureInvalid)?;
    vk.verify_prehashed_strict(Prehashed(prehash), None, &signature)
        .map_err(|_| KeyError::SignatureInvalid)
}

/// A SHA-512 digest computed elsewhere (over a message given in pieces),
/// handed to the Ed25519ph verifier, which takes the hash function's state.
#[derive(Clone)]
struct Prehashed([u8; 64]);

impl Default for Prehashed {
    fn default() -> Self {
        Prehashed([0; 64])
    }
}

impl sha2::digest::HashMarker for Prehashed {}

impl sha2::digest::OutputSizeUser for Prehashed {
    type OutputSize = <Sha512 as sha2::digest::OutputSizeUser>::OutputSize;
}

impl sha2::digest::Update for Prehashed {
    // The digest is final: nothing more goes in.
    fn update(&mut self, _data: &[u8]) {}
}

impl sha2::digest::FixedOutput for Prehashed {
    fn finalize_into(self, out: &mut sha2::digest::Output<Self>) {
        out.copy_from_slice(&self.0);
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

//! Checking that an issuer's key signed a certificate.

use ::signature::hazmat::PrehashVerifier;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use rsa::pkcs1::{RsaPssParams, TrailerField};
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{AlgorithmIdentifierOwned, AlgorithmIdentifierRef};

use super::{CertError, Certificate};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
/// `id-Ed25519` (RFC 8410): the key type and, for certificates, the
/// signature algorithm (pure Ed25519 over the TBSCertificate).
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// Signature algorithms refused as too weak, with their names.
const WEAK: [(&str, &str); 8] = [
    ("1.2.840.113549.1.1.2", "md2WithRSAEncryption"),
    ("1.2.840.113549.1.1.3", "md4WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.3.14.3.2.29", "sha1WithRSASignature"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
    ("1.2.840.10040.4.3", "dsa-with-sha1"),
    ("1.3.14.3.2.26", "SHA-1"),
];

/// Smallest and largest RSA modulus accepted for an issuer, in bits.
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// A hash of the SHA-2 family, as signature algorithms and RFC 3161
/// imprints name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The hash `alg` names: SHA-256, SHA-384 or SHA-512 with absent or
    /// NULL parameters; SHA-1 is refused as too weak.
    pub(crate) fn from_identifier(alg: &AlgorithmIdentifierOwned) -> Result<Self, String> {
        if !alg.parameters.as_ref().is_none_or(|p| p.is_null()) {
            return Err(format!("parameters on hash algorithm {}", alg.oid));
        }
        match alg.oid {
            SHA256 => Ok(Hash::Sha256),
            SHA384 => Ok(Hash::Sha384),
            SHA512 => Ok(Hash::Sha512),
            other => Err(match weak_name(&other) {
                Some(name) => format!("{name} is too weak"),
                None => format!("unsupported hash algorithm {other}"),
            }),
        }
    }

    /// `sha{256,384,512}WithRSAEncryption`: PKCS#1 v1.5 with this hash.
    pub(crate) fn rsa_pkcs1_oid(self) -> ObjectIdentifier {
        match self {
            Hash::Sha256 => SHA256_WITH_RSA,
            Hash::Sha384 => SHA384_WITH_RSA,
            Hash::Sha512 => SHA512_WITH_RSA,
        }
    }

    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn pkcs1v15(self) -> Pkcs1v15Sign {
        match self {
            Hash::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
            Hash::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
            Hash::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
        }
    }

    fn pss(self, salt_len: usize) -> Pss {
        match self {
            Hash::Sha256 => Pss::new_with_salt::<Sha256>(salt_len),
            Hash::Sha384 => Pss::new_with_salt::<Sha384>(salt_len),
            Hash::Sha512 => Pss::new_with_salt::<Sha512>(salt_len),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignatureAlgorithm {
    RsaPkcs1(Hash),
    RsaPss { hash: Hash, salt_len: usize },
    Ecdsa(Hash),
    Ed25519,
}

enum IssuerKey {
    Rsa(RsaPublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

fn malformed(detail: String) -> CertError {
    CertError::Malformed { detail }
}

fn unsupported(oid: &ObjectIdentifier) -> CertError {
    CertError::UnsupportedAlgorithm {
        oid: oid.to_string(),
    }
}

fn weak_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    let dotted = oid.to_string();
    WEAK.iter()
        .find(|(o, _)| *o == dotted)
        .map(|(_, name)| *name)
}

/// Parameters that must be absent or NULL (RSA PKCS#1 v1.5, hashes).
fn null_or_absent(params: Option<&der::asn1::AnyRef<'_>>) -> bool {
    params.is_none_or(|p| p.is_null())
}

fn hash_of(ai: &AlgorithmIdentifierRef<'_>, subject: &str) -> Result<Hash, CertError> {
    if !null_or_absent(ai.parameters.as_ref()) {
        return Err(malformed(format!(
            "certificate {subject}: parameters on hash algorithm {}",
            ai.oid
        )));
    }
    match ai.oid {
        SHA256 => Ok(Hash::Sha256),
        SHA384 => Ok(Hash::Sha384),
        SHA512 => Ok(Hash::Sha512),
        oid => Err(match weak_name(&oid) {
            Some(name) => CertError::WeakAlgorithm {
                subject: subject.to_owned(),
                algorithm: format!("RSASSA-PSS with {name}"),
            },
            None => unsupported(&oid),
        }),
    }
}

fn parse_algorithm(
    alg: &AlgorithmIdentifierOwned,
    subject: &str,
) -> Result<SignatureAlgorithm, CertError> {
    let params = alg.parameters.as_ref();
    let no_params = |sa: SignatureAlgorithm| {
        let ok = match sa {
            // RFC 4055: NULL, though absent is seen in the wild.
            SignatureAlgorithm::RsaPkcs1(_) => params.is_none_or(|p| p.is_null()),
            // RFC 5758: absent.
            _ => params.is_none(),
        };
        if ok {
            Ok(sa)
        } else {
            Err(malformed(format!(
                "certificate {subject}: unexpected parameters on signature algorithm {}",
                alg.oid
            )))
        }
    };
    match alg.oid {
        SHA256_WITH_RSA => no_params(SignatureAlgorithm::RsaPkcs1(Hash::Sha256)),
        SHA384_WITH_RSA => no_params(SignatureAlgorithm::RsaPkcs1(Hash::Sha384)),
        SHA512_WITH_RSA => no_params(SignatureAlgorithm::RsaPkcs1(Hash::Sha512)),
        ECDSA_WITH_SHA256 => no_params(SignatureAlgorithm::Ecdsa(Hash::Sha256)),
        ECDSA_WITH_SHA384 => no_params(SignatureAlgorithm::Ecdsa(Hash::Sha384)),
        ECDSA_WITH_SHA512 => no_params(SignatureAlgorithm::Ecdsa(Hash::Sha512)),
        // RFC 8410: absent parameters.
        ED25519 => no_params(SignatureAlgorithm::Ed25519),
        RSASSA_PSS => {
            let bad = |what: &str| {
                malformed(format!(
                    "certificate {subject}: RSASSA-PSS parameters: {what}"
                ))
            };
            let params = params.ok_or_else(|| bad("missing"))?;
            let encoded = params.to_der().map_err(|e| bad(&e.to_string()))?;
            let pss = RsaPssParams::from_der(&encoded).map_err(|e| bad(&e.to_string()))?;
            let hash = hash_of(&pss.hash, subject)?;
            if pss.mask_gen.oid != MGF1 {
                return Err(unsupported(&pss.mask_gen.oid));
            }
            let mgf_hash = pss
                .mask_gen
                .parameters
                .as_ref()
                .ok_or_else(|| bad("MGF1 without a hash"))?;
            if hash_of(mgf_hash, subject)? != hash {
                return Err(bad("the MGF1 hash differs from the message hash"));
            }
            if pss.trailer_field != TrailerField::BC {
                return Err(bad("trailer field is not 1"));
            }
            Ok(SignatureAlgorithm::RsaPss {
                hash,
                salt_len: usize::from(pss.salt_len),
            })
        }
        oid => Err(match weak_name(&oid) {
            Some(name) => CertError::WeakAlgorithm {
                subject: subject.to_owned(),
                algorithm: name.to_owned(),
            },
            None => unsupported(&oid),
        }),
    }
}

fn parse_issuer_key(issuer: &Certificate) -> Result<IssuerKey, CertError> {
    let spki = issuer.public_key_info();
    let subject = issuer.subject();
    let bad_key =
        |detail: String| malformed(format!("certificate {subject}: public key: {detail}"));
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| bad_key("BIT STRING with unused bits".into()))?;
    match spki.algorithm.oid {
        RSA_ENCRYPTION => {
            if !spki
                .algorithm
                .parameters
                .as_ref()
                .is_none_or(|p| p.is_null())
            {
                return Err(bad_key("rsaEncryption with parameters".into()));
            }
            let key = rsa::pkcs1::RsaPublicKey::from_der(key_bytes)
                .map_err(|e| bad_key(e.to_string()))?;
            let n = BigUint::from_bytes_be(key.modulus.as_bytes());
            let e = BigUint::from_bytes_be(key.public_exponent.as_bytes());
            let bits = n.bits();
            if bits < RSA_MIN_BITS {
                return Err(CertError::WeakKey {
                    subject,
                    detail: format!("RSA key of {bits} bits (at least {RSA_MIN_BITS} required)"),
                });
            }
            if bits > RSA_MAX_BITS {
                return Err(CertError::UnsupportedAlgorithm {
                    oid: format!("{RSA_ENCRYPTION} with a {bits}-bit key (at most {RSA_MAX_BITS})"),
                });
            }
            RsaPublicKey::new_with_max_size(n, e, RSA_MAX_BITS)
                .map(IssuerKey::Rsa)
                .map_err(|e| bad_key(e.to_string()))
        }
        EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .ok_or_else(|| bad_key("EC key without a named curve".into()))?
                .decode_as::<ObjectIdentifier>()
                .map_err(|_| bad_key("EC key without a named curve".into()))?;
            let bad_point = |_| bad_key("invalid EC point".into());
            match curve {
                SECP256R1 => p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                    .map(IssuerKey::P256)
                    .map_err(bad_point),
                SECP384R1 => p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                    .map(IssuerKey::P384)
                    .map_err(bad_point),
                SECP521R1 => p521::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                    .map(IssuerKey::P521)
                    .map_err(bad_point),
                other => Err(unsupported(&other)),
            }
        }
        ED25519 => {
            if spki.algorithm.parameters.is_some() {
                return Err(bad_key("Ed25519 with parameters".into()));
            }
            crate::keys::ed25519_key(key_bytes)
                .map(IssuerKey::Ed25519)
                .map_err(bad_key)
        }
        other => Err(unsupported(&other)),
    }
}

/// Left-pads a digest shorter than the curve's field so that ECDSA's
/// bits-to-field conversion accepts it (SHA-256 over P-521); the integer value
/// is unchanged.
fn pad_prehash(digest: Vec<u8>, field_len: usize) -> Vec<u8> {
    if digest.len() >= field_len {
        return digest;
    }
    let mut padded = vec![0u8; field_len - digest.len()];
    padded.extend_from_slice(&digest);
    padded
}

/// Checks that `issuer`'s key produced the signature on `child`.
pub(crate) fn verify_signed_by(child: &Certificate, issuer: &Certificate) -> Result<(), CertError> {
    let subject = child.subject();
    let algorithm = parse_algorithm(child.signature_algorithm(), &subject)?;
    let key = parse_issuer_key(issuer)?;
    if check_signature(algorithm, &key, child.tbs_der(), child.signature_bytes()) {
        Ok(())
    } else {
        Err(CertError::BadSignature { subject })
    }
}

/// Checks a signature by `signer`'s key over `message` with `algorithm`
/// (the same algorithms as certificates, by the same rules): what a CMS
/// signature, like an RFC 3161 timestamp's, needs. `Ok(false)` when the
/// signature does not verify; an error when the algorithm or the key cannot
/// be used. `what` names the signed object in errors.
pub(crate) fn verify_message(
    signer: &Certificate,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
    what: &str,
) -> Result<bool, CertError> {
    let algorithm = parse_algorithm(algorithm, what)?;
    let key = parse_issuer_key(signer)?;
    Ok(check_signature(algorithm, &key, message, signature))
}

fn check_signature(
    algorithm: SignatureAlgorithm,
    key: &IssuerKey,
    tbs: &[u8],
    signature: &[u8],
) -> bool {
    match (algorithm, key) {
        (SignatureAlgorithm::RsaPkcs1(hash), IssuerKey::Rsa(key)) => key
            .verify(hash.pkcs1v15(), &hash.digest(tbs), signature)
            .is_ok(),
        (SignatureAlgorithm::RsaPss { hash, salt_len }, IssuerKey::Rsa(key)) => key
            .verify(hash.pss(salt_len), &hash.digest(tbs), signature)
            .is_ok(),
        (SignatureAlgorithm::Ecdsa(hash), IssuerKey::P256(key)) => {
            p256::ecdsa::Signature::from_der(signature).is_ok_and(|sig| {
                key.verify_prehash(&pad_prehash(hash.digest(tbs), 32), &sig)
                    .is_ok()
            })
        }
        (SignatureAlgorithm::Ecdsa(hash), IssuerKey::P384(key)) => {
            p384::ecdsa::Signature::from_der(signature).is_ok_and(|sig| {
                key.verify_prehash(&pad_prehash(hash.digest(tbs), 48), &sig)
                    .is_ok()
            })
        }
        (SignatureAlgorithm::Ecdsa(hash), IssuerKey::P521(key)) => {
            p521::ecdsa::Signature::from_der(signature).is_ok_and(|sig| {
                key.verify_prehash(&pad_prehash(hash.digest(tbs), 66), &sig)
                    .is_ok()
            })
        }
        (SignatureAlgorithm::Ed25519, IssuerKey::Ed25519(key)) => {
            ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify_strict(tbs, &sig).is_ok())
        }
        // The algorithm does not fit the issuer's key type.
        _ => false,
    }
}

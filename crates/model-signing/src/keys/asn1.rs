//! The ASN.1 pieces of keys: algorithm and curve identifiers, SEC1
//! `ECPrivateKey`, and the few DER encodings written here.

use der::asn1::{AnyRef, BitStringRef, ContextSpecific, ObjectIdentifier, OctetStringRef};
use der::{Decode, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierRef;

use super::{KeyAlgorithm, KeyError};

/// `id-ecPublicKey` (RFC 5480).
pub(crate) const ID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `rsaEncryption` (RFC 8017).
pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-Ed25519` (RFC 8410).
pub(crate) const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const PBKDF2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.12");
pub(crate) const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");

/// Names of key algorithms that are refused, for error messages.
const KEY_ALGORITHMS: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.1", "RSA"),
    ("1.2.840.113549.1.1.10", "RSA-PSS"),
    ("1.2.840.10040.4.1", "DSA"),
    ("1.2.840.10046.2.1", "Diffie-Hellman"),
    ("1.3.101.110", "X25519"),
    ("1.3.101.111", "X448"),
    ("1.3.101.112", "Ed25519"),
    ("1.3.101.113", "Ed448"),
    ("1.3.132.1.12", "EC Diffie-Hellman (id-ecDH)"),
    ("1.3.132.1.13", "EC MQV (id-ecMQV)"),
    ("1.2.156.10197.1.301", "SM2"),
];

/// Names of curves that are refused, for error messages.
const CURVES: &[(&str, &str)] = &[
    ("1.3.132.0.10", "secp256k1"),
    ("1.3.132.0.33", "EC curve secp224r1 (P-224)"),
    ("1.2.840.10045.3.1.1", "EC curve secp192r1 (P-192)"),
    ("1.3.132.0.31", "EC curve secp192k1"),
    ("1.3.132.0.32", "EC curve secp224k1"),
    ("1.3.36.3.3.2.8.1.1.7", "EC curve brainpoolP256r1"),
    ("1.3.36.3.3.2.8.1.1.9", "EC curve brainpoolP320r1"),
    ("1.3.36.3.3.2.8.1.1.11", "EC curve brainpoolP384r1"),
    ("1.3.36.3.3.2.8.1.1.13", "EC curve brainpoolP512r1"),
    ("1.2.156.10197.1.301", "EC curve SM2"),
];

/// Names of password-based encryption algorithms, for error messages.
const ENCRYPTION: &[(&str, &str)] = &[
    ("1.2.840.113549.1.5.13", "PBES2"),
    ("1.2.840.113549.1.5.12", "PBKDF2"),
    ("1.3.6.1.4.1.11591.4.11", "scrypt"),
    ("1.2.840.113549.1.5.1", "PBES1 pbeWithMD2AndDES-CBC"),
    ("1.2.840.113549.1.5.3", "PBES1 pbeWithMD5AndDES-CBC"),
    ("1.2.840.113549.1.5.4", "PBES1 pbeWithMD2AndRC2-CBC"),
    ("1.2.840.113549.1.5.6", "PBES1 pbeWithMD5AndRC2-CBC"),
    ("1.2.840.113549.1.5.10", "PBES1 pbeWithSHA1AndDES-CBC"),
    ("1.2.840.113549.1.5.11", "PBES1 pbeWithSHA1AndRC2-CBC"),
    ("1.2.840.113549.1.12.1.1", "PKCS#12 pbeWithSHAAnd128BitRC4"),
    ("1.2.840.113549.1.12.1.2", "PKCS#12 pbeWithSHAAnd40BitRC4"),
    (
        "1.2.840.113549.1.12.1.3",
        "PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC",
    ),
    (
        "1.2.840.113549.1.12.1.4",
        "PKCS#12 pbeWithSHAAnd2-KeyTripleDES-CBC",
    ),
    (
        "1.2.840.113549.1.12.1.5",
        "PKCS#12 pbeWithSHAAnd128BitRC2-CBC",
    ),
    (
        "1.2.840.113549.1.12.1.6",
        "PKCS#12 pbewithSHAAnd40BitRC2-CBC",
    ),
    ("1.2.840.113549.2.7", "hmacWithSHA1"),
    ("1.2.840.113549.2.8", "hmacWithSHA224"),
    ("1.2.840.113549.2.9", "hmacWithSHA256"),
    ("1.2.840.113549.2.10", "hmacWithSHA384"),
    ("1.2.840.113549.2.11", "hmacWithSHA512"),
    ("1.2.840.113549.3.7", "des-ede3-cbc"),
    ("1.3.14.3.2.7", "des-cbc"),
    ("1.2.840.113549.3.2", "rc2-cbc"),
    ("2.16.840.1.101.3.4.1.2", "aes-128-cbc"),
    ("2.16.840.1.101.3.4.1.22", "aes-192-cbc"),
    ("2.16.840.1.101.3.4.1.42", "aes-256-cbc"),
    ("2.16.840.1.101.3.4.1.6", "aes-128-gcm"),
    ("2.16.840.1.101.3.4.1.46", "aes-256-gcm"),
];

fn lookup(table: &[(&str, &'static str)], oid: &ObjectIdentifier) -> Option<&'static str> {
    let dotted = oid.to_string();
    table
        .iter()
        .find(|(known, _)| *known == dotted)
        .map(|(_, name)| *name)
}

/// A name for an encryption algorithm OID, for error messages.
pub(crate) fn encryption_name(oid: &ObjectIdentifier) -> String {
    match lookup(ENCRYPTION, oid) {
        Some(name) => name.to_owned(),
        None => format!("algorithm {oid}"),
    }
}

/// The OID of a supported curve; `None` for an algorithm that is not ECDSA.
pub(crate) fn curve_oid(alg: KeyAlgorithm) -> Option<ObjectIdentifier> {
    match alg {
        KeyAlgorithm::EcdsaP256Sha256 => Some(SECP256R1),
        KeyAlgorithm::EcdsaP384Sha384 => Some(SECP384R1),
        KeyAlgorithm::EcdsaP521Sha512 => Some(SECP521R1),
        _ => None,
    }
}

/// The algorithm of an EC key on the named curve `oid`.
fn curve_from_oid(oid: &ObjectIdentifier) -> Result<KeyAlgorithm, KeyError> {
    KeyAlgorithm::ECDSA
        .into_iter()
        .find(|alg| curve_oid(*alg) == Some(*oid))
        .ok_or_else(|| KeyError::UnsupportedKeyType {
            found: match lookup(CURVES, oid) {
                Some(name) => format!("{name} ({oid})"),
                None => format!("EC curve {oid}"),
            },
        })
}

/// The curve named by the parameters of an EC key (`ECParameters`).
pub(crate) fn curve_from_params(
    params: Option<AnyRef<'_>>,
    what: &'static str,
) -> Result<KeyAlgorithm, KeyError> {
    let Some(params) = params else {
        return Err(KeyError::malformed(
            what,
            "the EC key does not name its curve",
        ));
    };
    match params.tag() {
        Tag::ObjectIdentifier => {
            let oid = params
                .decode_as::<ObjectIdentifier>()
                .map_err(|e| KeyError::malformed(what, format!("bad curve identifier: {e}")))?;
            curve_from_oid(&oid)
        }
        Tag::Sequence => Err(KeyError::UnsupportedKeyType {
            found: "EC key with explicit curve parameters (name the curve instead, e.g. with `openssl ec -param_enc named_curve`)".to_owned(),
        }),
        Tag::Null => Err(KeyError::UnsupportedKeyType {
            found: "EC key with implicitly-CA curve parameters".to_owned(),
        }),
        tag => Err(KeyError::malformed(
            what,
            format!("unexpected {tag} where the EC curve parameters belong"),
        )),
    }
}

/// The algorithm of a key from its `AlgorithmIdentifier` (SPKI or PKCS#8):
/// only `id-ecPublicKey` on P-256, P-384 or P-521 is supported.
pub(crate) fn key_algorithm(
    alg: &AlgorithmIdentifierRef<'_>,
    what: &'static str,
) -> Result<KeyAlgorithm, KeyError> {
    if alg.oid != ID_EC_PUBLIC_KEY {
        return Err(KeyError::UnsupportedKeyType {
            found: match lookup(KEY_ALGORITHMS, &alg.oid) {
                Some(name) => name.to_owned(),
                None => format!("key algorithm {}", alg.oid),
            },
        });
    }
    curve_from_params(alg.parameters, what)
}

/// A SEC1 `ECPrivateKey` (RFC 5915), borrowed from its DER.
pub(crate) struct Sec1<'a> {
    pub private_key: &'a [u8],
    pub parameters: Option<AnyRef<'a>>,
    pub public_key: Option<&'a [u8]>,
}

/// Parses a SEC1 `ECPrivateKey`:
///
/// ```text
/// ECPrivateKey ::= SEQUENCE {
///   version        INTEGER { ecPrivkeyVer1(1) },
///   privateKey     OCTET STRING,
///   parameters [0] ECParameters OPTIONAL,
///   publicKey  [1] BIT STRING OPTIONAL }
/// ```
pub(crate) fn parse_sec1(der: &[u8]) -> Result<Sec1<'_>, KeyError> {
    const WHAT: &str = "EC private key";
    let bad = |e: der::Error| KeyError::malformed(WHAT, format!("not a SEC1 ECPrivateKey: {e}"));
    let mut reader = SliceReader::new(der).map_err(bad)?;
    let (version, private_key, parameters, public_key) = reader
        .sequence(|r| {
            let version = u8::decode(r)?;
            let private_key = OctetStringRef::decode(r)?.as_bytes();
            let parameters =
                ContextSpecific::<AnyRef<'_>>::decode_explicit(r, TagNumber::N0)?.map(|p| p.value);
            let public_key =
                ContextSpecific::<BitStringRef<'_>>::decode_explicit(r, TagNumber::N1)?
                    .map(|p| p.value);
            Ok((version, private_key, parameters, public_key))
        })
        .map_err(bad)?;
    reader.finish(()).map_err(bad)?;
    if version != 1 {
        return Err(KeyError::malformed(
            WHAT,
            format!("unsupported ECPrivateKey version {version}"),
        ));
    }
    let public_key = match public_key {
        None => None,
        Some(bits) => Some(bits.as_bytes().ok_or_else(|| {
            KeyError::malformed(WHAT, "the public key BIT STRING has unused bits")
        })?),
    };
    Ok(Sec1 {
        private_key,
        parameters,
        public_key,
    })
}

/// Appends a DER tag-length-value with a definite length.
pub(crate) fn write_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// The DER of an OID (tag and length included).
pub(crate) fn oid_der(oid: &ObjectIdentifier) -> Vec<u8> {
    let mut out = Vec::with_capacity(oid.as_bytes().len() + 2);
    write_tlv(&mut out, 0x06, oid.as_bytes());
    out
}

/// The DER `AlgorithmIdentifier` of an EC key on the curve of `alg`
/// (`alg` is one of [`KeyAlgorithm::ECDSA`]).
pub(crate) fn ec_algorithm_identifier(alg: KeyAlgorithm) -> Vec<u8> {
    let mut content = oid_der(&ID_EC_PUBLIC_KEY);
    if let Some(curve) = curve_oid(alg) {
        content.extend_from_slice(&oid_der(&curve));
    }
    let mut out = Vec::with_capacity(content.len() + 2);
    write_tlv(&mut out, 0x30, &content);
    out
}

/// The DER `SubjectPublicKeyInfo` of an EC key: algorithm identifier and the
/// SEC1 point in a BIT STRING.
pub(crate) fn ec_spki(alg: KeyAlgorithm, point: &[u8]) -> Vec<u8> {
    spki(&ec_algorithm_identifier(alg), point)
}

/// The DER `SubjectPublicKeyInfo` of an Ed25519 key (RFC 8410: the
/// algorithm identifier has no parameters).
pub(crate) fn ed25519_spki(key: &[u8; 32]) -> Vec<u8> {
    let mut alg = Vec::new();
    write_tlv(&mut alg, 0x30, &oid_der(&ID_ED25519));
    spki(&alg, key)
}

/// A `SubjectPublicKeyInfo` from a DER algorithm identifier and the key's
/// bytes, which go into the BIT STRING.
fn spki(algorithm_identifier: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(key.len() + 1);
    bits.push(0);
    bits.extend_from_slice(key);
    let mut content = algorithm_identifier.to_vec();
    write_tlv(&mut content, 0x03, &bits);
    let mut out = Vec::with_capacity(content.len() + 4);
    write_tlv(&mut out, 0x30, &content);
    out
}

/// Describes the encryption scheme of an `EncryptedPrivateKeyInfo` that the
/// PKCS#8 decoder refused, by walking its algorithm identifiers. `None` when
/// even that structure is broken.
pub(crate) fn describe_encryption(der: &[u8]) -> Option<(ObjectIdentifier, String)> {
    let mut reader = SliceReader::new(der).ok()?;
    let alg = reader
        .sequence(|r| {
            let alg = AlgorithmIdentifierRef::decode(r)?;
            OctetStringRef::decode(r)?;
            Ok(alg)
        })
        .ok()?;
    if alg.oid != PBES2 {
        return Some((alg.oid, encryption_name(&alg.oid)));
    }
    let params = alg.parameters?;
    let (kdf, cipher) = params
        .sequence(|r| {
            let kdf = AlgorithmIdentifierRef::decode(r)?;
            let cipher = AlgorithmIdentifierRef::decode(r)?;
            Ok((kdf, cipher))
        })
        .ok()?;
    let mut kdf_name = encryption_name(&kdf.oid);
    if let Some(kdf_params) = kdf.parameters {
        // PBKDF2-params: salt, iterationCount, keyLength OPTIONAL, prf OPTIONAL.
        let prf = kdf_params
            .sequence(|r| {
                AnyRef::decode(r)?;
                AnyRef::decode(r)?;
                let mut prf = None;
                while !r.is_finished() {
                    let any = AnyRef::decode(r)?;
                    if any.tag() == Tag::Sequence {
                        prf = Some(any.decode_as::<AlgorithmIdentifierRef<'_>>()?.oid);
                    }
                }
                Ok(prf)
            })
            .ok()
            .flatten();
        match prf {
            Some(prf) => kdf_name = format!("{kdf_name} with {}", encryption_name(&prf)),
            // The PRF defaults to HMAC-SHA1 when absent.
            None if kdf.oid == PBKDF2 => kdf_name = format!("{kdf_name} with hmacWithSHA1"),
            None => {}
        }
    }
    Some((
        alg.oid,
        format!("PBES2: {kdf_name}, {}", encryption_name(&cipher.oid)),
    ))
}

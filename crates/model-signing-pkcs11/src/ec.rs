//! EC key attributes as tokens hand them out, and raw ECDSA signatures.

use const_oid::ObjectIdentifier;
use model_signing::keys::KeyAlgorithm;

/// DER of the named-curve OIDs in `CKA_EC_PARAMS`.
const P256_OID_DER: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID_DER: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const P521_OID_DER: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

/// The algorithm of a key from its `CKA_EC_PARAMS`: a named curve OID, or
/// (as some tokens write it) a PrintableString curve name.
pub(crate) fn algorithm_from_params(params: &[u8]) -> Result<KeyAlgorithm, String> {
    if params == P256_OID_DER {
        return Ok(KeyAlgorithm::EcdsaP256Sha256);
    }
    if params == P384_OID_DER {
        return Ok(KeyAlgorithm::EcdsaP384Sha384);
    }
    if params == P521_OID_DER {
        return Ok(KeyAlgorithm::EcdsaP521Sha512);
    }
    match params {
        [0x06, len, rest @ ..] if usize::from(*len) == rest.len() => {
            match ObjectIdentifier::from_bytes(rest) {
                Ok(oid) => Err(format!("EC curve {oid}")),
                Err(_) => Err("EC key with malformed curve parameters".to_owned()),
            }
        }
        [0x13, len, rest @ ..] if usize::from(*len) == rest.len() => {
            match std::str::from_utf8(rest) {
                Ok("prime256v1" | "secp256r1" | "P-256") => Ok(KeyAlgorithm::EcdsaP256Sha256),
                Ok("secp384r1" | "P-384") => Ok(KeyAlgorithm::EcdsaP384Sha384),
                Ok("secp521r1" | "P-521") => Ok(KeyAlgorithm::EcdsaP521Sha512),
                Ok(name) => Err(format!("EC curve {name}")),
                Err(_) => Err("EC key with malformed curve parameters".to_owned()),
            }
        }
        [0x30, ..] => Err("EC key with explicit curve parameters".to_owned()),
        _ => Err("EC key with malformed curve parameters".to_owned()),
    }
}

/// Bytes of one coordinate (and of r and s) on the curve.
pub(crate) fn field_len(alg: KeyAlgorithm) -> usize {
    match alg {
        KeyAlgorithm::EcdsaP384Sha384 => 48,
        KeyAlgorithm::EcdsaP521Sha512 => 66,
        _ => 32,
    }
}

/// The SEC1 point in a `CKA_EC_POINT`: DER OCTET STRING around the point,
/// as PKCS#11 specifies, or the bare uncompressed point some tokens return.
pub(crate) fn point_from_attribute(alg: KeyAlgorithm, value: &[u8]) -> Option<&[u8]> {
    let n = field_len(alg);
    if value.len() == 1 + 2 * n && value.first() == Some(&0x04) {
        return Some(value);
    }
    let (tag, rest) = value.split_first()?;
    if *tag != 0x04 {
        return None;
    }
    let (len, body) = match rest {
        [l, body @ ..] if *l < 0x80 => (usize::from(*l), body),
        [0x81, l, body @ ..] if *l >= 0x80 => (usize::from(*l), body),
        [0x82, hi, lo, body @ ..] if *hi != 0 => (usize::from(*hi) << 8 | usize::from(*lo), body),
        _ => return None,
    };
    (len == body.len()).then_some(body)
}

/// A raw `r || s` ECDSA signature (what `CKM_ECDSA` returns) as DER, with r
/// and s checked to be in range for the curve.
pub(crate) fn raw_to_der(alg: KeyAlgorithm, raw: &[u8]) -> Result<Vec<u8>, String> {
    let n = field_len(alg);
    if raw.len() != 2 * n {
        return Err(format!(
            "the token returned a {}-byte signature; ECDSA on {} gives {} bytes (r || s)",
            raw.len(),
            alg.curve_name(),
            2 * n
        ));
    }
    let bad = |_| "the token returned a signature with r or s out of range".to_owned();
    Ok(match alg {
        KeyAlgorithm::EcdsaP384Sha384 => ecdsa::Signature::<p384::NistP384>::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
        KeyAlgorithm::EcdsaP521Sha512 => ecdsa::Signature::<p521::NistP521>::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
        _ => ecdsa::Signature::<p256::NistP256>::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_from_params() {
        assert_eq!(
            algorithm_from_params(P256_OID_DER),
            Ok(KeyAlgorithm::EcdsaP256Sha256)
        );
        assert_eq!(
            algorithm_from_params(P384_OID_DER),
            Ok(KeyAlgorithm::EcdsaP384Sha384)
        );
        assert_eq!(
            algorithm_from_params(P521_OID_DER),
            Ok(KeyAlgorithm::EcdsaP521Sha512)
        );
        assert_eq!(
            algorithm_from_params(b"\x13\x0aprime256v1"),
            Ok(KeyAlgorithm::EcdsaP256Sha256)
        );
        // secp256k1
        assert_eq!(
            algorithm_from_params(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a]),
            Err("EC curve 1.3.132.0.10".to_owned())
        );
        assert!(algorithm_from_params(&[0x30, 0x00]).is_err());
        assert!(algorithm_from_params(&[]).is_err());
        assert!(algorithm_from_params(&[0x06, 0x09, 0x2a]).is_err());
    }

    #[test]
    fn points_wrapped_or_bare() {
        let alg = KeyAlgorithm::EcdsaP256Sha256;
        let mut point = vec![0x04];
        point.extend([7u8; 64]);
        let mut wrapped = vec![0x04, 65];
        wrapped.extend(&point);
        assert_eq!(point_from_attribute(alg, &point), Some(&point[..]));
        assert_eq!(point_from_attribute(alg, &wrapped), Some(&point[..]));
        let p521 = KeyAlgorithm::EcdsaP521Sha512;
        let mut point = vec![0x04];
        point.extend([7u8; 132]);
        let mut wrapped = vec![0x04, 0x81, 133];
        wrapped.extend(&point);
        assert_eq!(point_from_attribute(p521, &wrapped), Some(&point[..]));
        assert_eq!(point_from_attribute(p521, &wrapped[..50]), None);
        assert_eq!(point_from_attribute(alg, &[0x03, 0x01, 0x00]), None);
    }

    #[test]
    fn raw_signatures_become_der() {
        let alg = KeyAlgorithm::EcdsaP256Sha256;
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[63] = 0x80;
        let der = raw_to_der(alg, &raw).expect("in range");
        assert_eq!(der, [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80]);
        assert!(raw_to_der(alg, &raw[..63]).is_err());
        assert!(raw_to_der(alg, &[0u8; 64]).is_err());
        assert!(raw_to_der(alg, &[0xff; 64]).is_err());
    }
}

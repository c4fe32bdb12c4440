//! The embedded SCT of a freshly issued Fulcio certificate, checked against
//! the trusted CT log keys before the certificate's key signs anything
//! (RFC 6962 section 3.2: the CT log signed the precertificate, which is the
//! certificate's TBS without the SCT list extension).

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use model_signing::keys::{DigestAlgorithm, PublicKey};
use model_signing::x509::Certificate;
use sha2::{Digest, Sha256};

use crate::trust::TrustRoot;

/// The embedded SCT list extension (RFC 6962).
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// One parsed SCT (v1).
#[derive(Debug)]
struct Sct<'a> {
    log_id: &'a [u8],
    timestamp_ms: u64,
    extensions: &'a [u8],
    hash: u8,
    signature_algorithm: u8,
    signature: &'a [u8],
}

/// A bounds-checked reader over TLS-encoded bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("the SCT list is truncated".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn uint(&mut self, n: usize) -> Result<u64, String> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn vector(&mut self, len_bytes: usize) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.uint(len_bytes)?).map_err(|_| "length overflow")?;
        self.take(len)
    }
}

fn parse_list(bytes: &[u8]) -> Result<Vec<Sct<'_>>, String> {
    let mut outer = Reader(bytes);
    let list = outer.vector(2)?;
    if !outer.0.is_empty() {
        return Err("trailing bytes after the SCT list".into());
    }
    let mut list = Reader(list);
    let mut out = Vec::new();
    while !list.0.is_empty() {
        let mut sct = Reader(list.vector(2)?);
        let version = sct.uint(1)?;
        if version != 0 {
            return Err(format!("SCT version {version} is not v1"));
        }
        let parsed = Sct {
            log_id: sct.take(32)?,
            timestamp_ms: sct.uint(8)?,
            extensions: sct.vector(2)?,
            hash: u8::try_from(sct.uint(1)?).map_err(|_| "bad hash")?,
            signature_algorithm: u8::try_from(sct.uint(1)?).map_err(|_| "bad algorithm")?,
            signature: sct.vector(2)?,
        };
        if !sct.0.is_empty() {
            return Err("trailing bytes after an SCT".into());
        }
        out.push(parsed);
    }
    Ok(out)
}

/// The bytes the CT log signed for a precertificate entry.
fn signed_data(leaf: &Certificate, issuer: &Certificate, sct: &Sct<'_>) -> Result<Vec<u8>, String> {
    let mut tbs = leaf.as_x509_cert().tbs_certificate.clone();
    tbs.extensions = tbs
        .extensions
        .map(|exts| exts.into_iter().filter(|e| e.extn_id != SCT_LIST).collect());
    let tbs = tbs
        .to_der()
        .map_err(|e| format!("cannot encode the precertificate: {e}"))?;
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|l| *l < 1 << 24)
        .ok_or("the certificate is too large for an SCT")?;
    let ext_len = u16::try_from(sct.extensions.len()).map_err(|_| "SCT extensions too long")?;
    let mut out = Vec::with_capacity(tbs.len() + 64);
    out.push(0); // version v1
    out.push(0); // signature_type certificate_timestamp
    out.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
    out.extend_from_slice(&Sha256::digest(issuer.spki_der()));
    out.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    out.extend_from_slice(&tbs);
    out.extend_from_slice(&ext_len.to_be_bytes());
    out.extend_from_slice(sct.extensions);
    Ok(out)
}

/// Checks that one of the SCTs embedded in `leaf` verifies with a CT log key
/// of `trust` that was valid when the SCT was issued. `issuer` is the
/// certificate that signed `leaf`, taken from the verified path.
pub(crate) fn check_embedded_sct(
    trust: &TrustRoot,
    leaf: &Certificate,
    issuer: &Certificate,
) -> Result<(), String> {
    let (_, value) = leaf
        .extension_by_oid(&SCT_LIST)
        .ok_or("the certificate carries no SCT")?;
    let inner = OctetString::from_der(value).map_err(|e| format!("malformed SCT list: {e}"))?;
    let scts = parse_list(inner.as_bytes())?;
    if scts.is_empty() {
        return Err("the certificate's SCT list is empty".into());
    }
    let mut failures = Vec::new();
    for sct in &scts {
        match check_one(trust, leaf, issuer, sct) {
            Ok(()) => return Ok(()),
            Err(e) => failures.push(e),
        }
    }
    Err(failures.join("; "))
}

fn check_one(
    trust: &TrustRoot,
    leaf: &Certificate,
    issuer: &Certificate,
    sct: &Sct<'_>,
) -> Result<(), String> {
    let seconds = i64::try_from(sct.timestamp_ms / 1000).map_err(|_| "SCT time out of range")?;
    let log = trust
        .root
        .ctlogs
        .iter()
        .find(|log| log.log_id.key_id.as_bytes() == sct.log_id)
        .ok_or_else(|| {
            format!(
                "the SCT is from CT log {}, which the trusted root does not list",
                hex::encode(sct.log_id)
            )
        })?;
    if let Some(window) = log.public_key.valid_for {
        let after_start = window.start.as_second() <= seconds;
        let before_end = window.end.is_none_or(|end| seconds <= end.as_second());
        if !(after_start && before_end) {
            return Err("the CT log key was not valid when the SCT was issued".into());
        }
    }
    let key = PublicKey::from_spki_der(log.public_key.raw_bytes.as_bytes())
        .map_err(|e| format!("the CT log key cannot be used: {e}"))?;
    // TLS SignatureAndHashAlgorithm: hash 4 = SHA-256, 5 = SHA-384; signature 3 = ECDSA.
    let hash = match sct.hash {
        4 => DigestAlgorithm::Sha256,
        5 => DigestAlgorithm::Sha384,
        other => return Err(format!("unsupported SCT hash algorithm {other}")),
    };
    if sct.signature_algorithm != 3 || key.algorithm().digest() != hash {
        return Err(format!(
            "the SCT's algorithm ({}, {}) does not suit the CT log's {} key",
            sct.hash,
            sct.signature_algorithm,
            key.algorithm().curve_name()
        ));
    }
    key.verify(&signed_data(leaf, issuer, sct)?, sct.signature)
        .map_err(|_| "the SCT signature does not verify with the CT log key".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parsing_is_bounded() {
        assert!(parse_list(&[]).is_err());
        assert!(parse_list(&[0, 5, 1]).is_err());
        assert_eq!(parse_list(&[0, 0]).map(|v| v.len()), Ok(0));
        // One SCT: version, log id, time, no extensions, ECDSA/SHA-256, 2-byte signature.
        let mut sct = vec![0u8];
        sct.extend_from_slice(&[7; 32]);
        sct.extend_from_slice(&42u64.to_be_bytes());
        sct.extend_from_slice(&[0, 0, 4, 3, 0, 2, 9, 9]);
        let mut list = (u16::try_from(sct.len()).expect("small"))
            .to_be_bytes()
            .to_vec();
        list.extend_from_slice(&sct);
        let mut whole = (u16::try_from(list.len()).expect("small"))
            .to_be_bytes()
            .to_vec();
        whole.extend_from_slice(&list);
        let parsed = parse_list(&whole).expect("parses");
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].timestamp_ms, 42);
        assert_eq!(parsed[0].signature, &[9, 9]);
        let mut trailing = whole.clone();
        trailing.push(0);
        assert!(parse_list(&trailing).is_err());
        let mut v2 = whole;
        v2[4] = 1;
        assert!(parse_list(&v2).is_err());
    }
}

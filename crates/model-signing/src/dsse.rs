//! DSSE envelopes and the pre-authentication encoding (PAE) they sign.

use crate::keys::{DigestAlgorithm, KeyError, PublicKey};

/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope with its single signature, as model signatures carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The payload bytes (decoded from base64).
    pub payload: Vec<u8>,
    /// The payload type, normally [`IN_TOTO_PAYLOAD_TYPE`].
    pub payload_type: String,
    /// The signature bytes (DER-encoded ECDSA for every method supported here).
    pub signature: Vec<u8>,
    /// The signature's key id, usually empty.
    pub keyid: Option<String>,
}

impl Envelope {
    /// The bytes that were signed.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Verifies the envelope's signature with `key`: over the PAE hashed
    /// with the key's digest, else (signatures of model-signing v0.2) over
    /// [`legacy_v02_pae`] hashed with SHA-256. Either encoding is hashed as
    /// it is produced, never built whole, so a large payload is not copied.
    pub fn verify(&self, key: &PublicKey) -> Result<PaeEncoding, KeyError> {
        let digest = pae_digest(&self.payload_type, &self.payload, key.algorithm().digest());
        let first = key.verify_prehashed(&digest, &self.signature);
        if first.is_ok() {
            return Ok(PaeEncoding::Standard);
        }
        // model-signing v0.2 signed with ECDSA keys only.
        if !key.algorithm().is_ecdsa() {
            return first.map(|()| PaeEncoding::Standard);
        }
        let legacy = legacy_v02_pae_sha256(&self.payload_type, &self.payload);
        if key.verify_prehashed(&legacy, &self.signature).is_ok() {
            return Ok(PaeEncoding::LegacyV02);
        }
        first.map(|()| PaeEncoding::Standard)
    }
}

/// Which encoding a verified envelope signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaeEncoding {
    /// The DSSE pre-authentication encoding ([`pae`]).
    Standard,
    /// The encoding of model-signing v0.2 ([`legacy_v02_pae`]).
    LegacyV02,
}

/// The digest of [`pae`] with `digest`, computed without building it.
pub fn pae_digest(payload_type: &str, payload: &[u8], digest: DigestAlgorithm) -> Vec<u8> {
    let header = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    );
    digest.digest_chunks([header.as_bytes(), payload])
}

/// The SHA-256 digest of [`legacy_v02_pae`], computed in pieces: the Python
/// `repr` of the payload is up to four times its size.
pub fn legacy_v02_pae_sha256(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(format!(
        "DSSEV1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    ));
    let mut repr = String::with_capacity(64 << 10);
    let quote = repr_quote(payload);
    repr.push('b');
    repr.push(quote);
    for chunk in payload.chunks(16 << 10) {
        push_repr(chunk, quote, &mut repr);
        h.update(repr.as_bytes());
        repr.clear();
    }
    repr.push(quote);
    h.update(repr.as_bytes());
    h.finalize().to_vec()
}

/// `DSSEv1 <len(type)> <type> <len(payload)> <payload>`, lengths in decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(
        format!(
            "DSSEv1 {} {} {} ",
            payload_type.len(),
            payload_type,
            payload.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(payload);
    out
}

/// The encoding that model-signing v0.2 signed by mistake:
/// `DSSEV1 <len(type)> <type> <len(payload)> <Python repr of the payload bytes>`.
/// Only ever accepted for the legacy `https://model_signing/Digests/v0.1` predicate.
pub fn legacy_v02_pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() * 2 + 32);
    out.extend_from_slice(
        format!(
            "DSSEV1 {} {} {} ",
            payload_type.len(),
            payload_type,
            payload.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(python_bytes_repr(payload).as_bytes());
    out
}

/// The quote Python's `repr()` of `data` uses.
fn repr_quote(data: &[u8]) -> char {
    if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    }
}

/// Python's `repr()` of a `bytes` object.
pub(crate) fn python_bytes_repr(data: &[u8]) -> String {
    let quote = repr_quote(data);
    let mut s = String::with_capacity(data.len() + 3);
    s.push('b');
    s.push(quote);
    push_repr(data, quote, &mut s);
    s.push(quote);
    s
}

/// Appends the inside of Python's `repr()` of `data` (between the quotes).
fn push_repr(data: &[u8], quote: char, s: &mut String) {
    for &b in data {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            _ if b as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(b as char),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                s.push_str("\\x");
                s.push(char::from(HEX[usize::from(b >> 4)]));
                s.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn python_repr() {
        assert_eq!(python_bytes_repr(b"ab"), "b'ab'");
        assert_eq!(python_bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(python_bytes_repr(b"'\""), "b'\\'\"'");
        assert_eq!(
            python_bytes_repr(b"\n\t\\\x00\xff"),
            "b'\\n\\t\\\\\\x00\\xff'"
        );
        assert_eq!(legacy_v02_pae("t", b"{}"), b"DSSEV1 1 t 2 b'{}'");
    }

    /// Payloads of every length around the 16 KiB piece size, with every
    /// byte value and both quote characters.
    fn payloads() -> Vec<Vec<u8>> {
        let mut out = vec![Vec::new(), b"'".to_vec(), b"\"'".to_vec()];
        for len in [1, 100, (16 << 10) - 1, 16 << 10, (16 << 10) + 1, 40_000] {
            out.push((0..len).map(|i| (i * 7 % 256) as u8).collect());
            out.push(
                (0..len)
                    .map(|i| if i % 3 == 0 { b'\'' } else { b'a' })
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn pae_digests_in_pieces_equal_digests_of_the_whole_encoding() {
        use crate::keys::DigestAlgorithm as D;
        for payload in payloads() {
            for d in [D::Sha256, D::Sha384, D::Sha512] {
                assert_eq!(
                    pae_digest(IN_TOTO_PAYLOAD_TYPE, &payload, d),
                    d.digest(&pae(IN_TOTO_PAYLOAD_TYPE, &payload)),
                    "{} bytes",
                    payload.len()
                );
            }
            assert_eq!(
                legacy_v02_pae_sha256(IN_TOTO_PAYLOAD_TYPE, &payload),
                D::Sha256.digest(&legacy_v02_pae(IN_TOTO_PAYLOAD_TYPE, &payload)),
                "{} bytes",
                payload.len()
            );
        }
    }
}

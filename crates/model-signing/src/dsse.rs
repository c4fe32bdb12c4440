//! DSSE envelopes and the pre-authentication encoding (PAE) they sign.

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

/// Python's `repr()` of a `bytes` object.
pub fn python_bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(data.len() + 3);
    s.push('b');
    s.push(quote);
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
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push(quote);
    s
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
}

//! DSSE: envelope parsing and the pre-authentication encodings.
//!
//! The first input byte picks what the rest is:
//! - even: a `dsseEnvelope` JSON value, read inside an otherwise fixed bundle;
//!   a parsed envelope must give back its payload type and payload through
//!   its PAE;
//! - odd: a payload type (its length is the second byte) and a payload; the
//!   PAE and the legacy v0.2 encoding must decode back to exactly those, so
//!   that no two (type, payload) pairs share a signed message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model_signing::bundle::Bundle;
use model_signing::dsse::{legacy_v02_pae, pae};
use model_signing::fuzzing::python_bytes_repr;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        envelope(rest);
    } else {
        encodings(rest);
    }
});

fn envelope(json: &[u8]) {
    let mut doc = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"00"},"tlogEntries":[]},"dsseEnvelope":"#.to_vec();
    doc.extend_from_slice(json);
    doc.push(b'}');
    let bundle = match Bundle::from_json(&doc) {
        Ok(b) => b,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let env = &bundle.envelope;
    assert!(!env.payload.is_empty(), "an empty payload was accepted");
    assert!(!env.signature.is_empty(), "an empty signature was accepted");
    let signed = env.pae();
    let (ty, payload) = decode_pae(&signed, b"DSSEv1 ").expect("the PAE decodes");
    assert_eq!(ty, env.payload_type.as_bytes());
    assert_eq!(payload, &env.payload[..]);
}

fn encodings(rest: &[u8]) {
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let split = usize::from(n).min(rest.len());
    let payload_type = String::from_utf8_lossy(&rest[..split]);
    let payload = &rest[split..];

    let encoded = pae(&payload_type, payload);
    let (ty, body) = decode_pae(&encoded, b"DSSEv1 ").expect("the PAE decodes");
    assert_eq!(ty, payload_type.as_bytes());
    assert_eq!(body, payload);

    let legacy = legacy_v02_pae(&payload_type, payload);
    let (ty, repr) = decode_legacy(&legacy).expect("the legacy PAE decodes");
    assert_eq!(ty, payload_type.as_bytes());
    assert_eq!(repr, python_bytes_repr(payload).as_bytes());
    assert_eq!(
        unrepr(repr).as_deref(),
        Some(payload),
        "the Python repr does not decode back"
    );
    check_quote_choice(payload, repr);
}

/// Reads a decimal length followed by a space.
fn length(s: &[u8]) -> Option<(usize, &[u8])> {
    let digits = s.iter().position(|&b| b == b' ')?;
    let text = std::str::from_utf8(&s[..digits]).ok()?;
    if text.is_empty() || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    Some((text.parse().ok()?, &s[digits + 1..]))
}

/// `PREFIX <len> <type> <len> <payload>`, the payload running to the end.
fn decode_pae<'a>(s: &'a [u8], prefix: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let s = s.strip_prefix(prefix)?;
    let (type_len, s) = length(s)?;
    let ty = s.get(..type_len)?;
    let s = s.get(type_len..)?.strip_prefix(b" ")?;
    let (payload_len, payload) = length(s)?;
    (payload.len() == payload_len).then_some((ty, payload))
}

/// The legacy encoding: its second length is the payload's, not the repr's.
fn decode_legacy(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = s.strip_prefix(b"DSSEV1 ")?;
    let (type_len, s) = length(s)?;
    let ty = s.get(..type_len)?;
    let s = s.get(type_len..)?.strip_prefix(b" ")?;
    let (_, repr) = length(s)?;
    Some((ty, repr))
}

/// Decodes Python's `repr()` of a `bytes` object.
fn unrepr(repr: &[u8]) -> Option<Vec<u8>> {
    let body = repr.strip_prefix(b"b")?;
    let (&quote, body) = body.split_first()?;
    if quote != b'\'' && quote != b'"' {
        return None;
    }
    let body = body.strip_suffix(&[quote])?;
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if !(0x20..0x7f).contains(&b) || b == quote {
            return None;
        }
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        match *body.get(i + 1)? {
            b'\\' => out.push(b'\\'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'x' => {
                let hex = std::str::from_utf8(body.get(i + 2..i + 4)?).ok()?;
                if hex.bytes().any(|c| c.is_ascii_uppercase()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => return None,
        }
        i += 2;
    }
    Some(out)
}

/// Python quotes with `"` only when the bytes hold `'` and no `"`.
fn check_quote_choice(payload: &[u8], repr: &[u8]) {
    let double = payload.contains(&b'\'') && !payload.contains(&b'"');
    assert_eq!(repr[1], if double { b'"' } else { b'\'' });
}

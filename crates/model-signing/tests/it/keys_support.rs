//! Helpers shared by the `keys*` tests: fixtures, the `openssl` tool and the
//! Python reference's virtual environment.

use testkit::skip_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of `testdata/keys/`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("testdata/keys").join(name)
}

/// The text of a file of `testdata/keys/`.
pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture is readable")
}

/// Runs `openssl` with `args` in `dir`; panics with its stderr if it fails.
pub use testkit::go::openssl;

/// The Python interpreter of the reference's virtual environment.
///
/// `MODEL_SIGNING_REFERENCE_VENV` (set by `scripts/test`) makes it required;
/// without it the default `target/reference-venv` is used when present, and
/// the interoperability tests are skipped (see `skip_support`) when it is not.
pub fn python() -> Option<PathBuf> {
    let (venv, required) = match std::env::var_os("MODEL_SIGNING_REFERENCE_VENV") {
        Some(dir) => (PathBuf::from(dir), true),
        None => (root().join("target/reference-venv"), false),
    };
    let python = venv.join("bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        !required,
        "MODEL_SIGNING_REFERENCE_VENV is set but {} does not exist: run scripts/setup-reference-venv",
        python.display()
    );
    skip_support::prerequisite_missing(
        "the interoperability tests with the Python reference",
        &format!(
            "the Python reference is not installed in {} (run scripts/setup-reference-venv, or scripts/test)",
            venv.display()
        ),
    );
    None
}

/// Runs a Python script with `args`; returns its stdout, panics with its
/// stderr if it fails.
pub fn run_python(python: &Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        script
    );
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hex.
pub fn unhex(text: &str) -> Vec<u8> {
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Standard base64.
pub fn b64decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// Standard base64.
pub fn b64encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A DER TLV with a short or long definite length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER holding the unsigned big-endian `value`, minimally encoded.
pub fn der_uint(value: &[u8]) -> Vec<u8> {
    let start = value.iter().take_while(|&&b| b == 0).count();
    let mut content = value[start..].to_vec();
    if content.is_empty() || content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

/// A DER ECDSA signature from big-endian r and s.
pub fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut body = der_uint(r);
    body.extend_from_slice(&der_uint(s));
    tlv(0x30, &body)
}

/// r and s (big-endian, minimal) of a DER ECDSA signature made by us.
pub fn split_signature(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    fn int(bytes: &[u8]) -> (Vec<u8>, &[u8]) {
        assert_eq!(bytes[0], 0x02);
        let len = bytes[1] as usize;
        let value = bytes[2..2 + len].to_vec();
        (value, &bytes[2 + len..])
    }
    assert_eq!(der[0], 0x30);
    let body = if der[1] == 0x81 { &der[3..] } else { &der[2..] };
    let (r, rest) = int(body);
    let (s, rest) = int(rest);
    assert!(rest.is_empty());
    (r, s)
}

/// The group orders, big-endian.
pub fn order(alg: model_signing::keys::KeyAlgorithm) -> Vec<u8> {
    use model_signing::keys::KeyAlgorithm;
    unhex(match alg {
        KeyAlgorithm::EcdsaP256Sha256 => {
            "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
        }
        KeyAlgorithm::EcdsaP384Sha384 => {
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"
        }
        _ => {
            "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"
        }
    })
}

/// `a - b` for big-endian unsigned integers with `a >= b`, as wide as `a`.
pub fn sub(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i16;
    for i in 0..a.len() {
        let ai = a[a.len() - 1 - i] as i16;
        let bi = if i < b.len() {
            b[b.len() - 1 - i] as i16
        } else {
            0
        };
        let mut d = ai - bi - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[a.len() - 1 - i] = d as u8;
    }
    assert_eq!(borrow, 0);
    out
}

/// Whether big-endian `a > b`.
pub fn greater(a: &[u8], b: &[u8]) -> bool {
    let strip = |x: &[u8]| x[x.iter().take_while(|&&v| v == 0).count()..].to_vec();
    let (a, b) = (strip(a), strip(b));
    a.len() > b.len() || (a.len() == b.len() && a > b)
}

//! PEM: finding `CERTIFICATE` blocks in text, and writing one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::CertError;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

fn malformed(detail: impl Into<String>) -> CertError {
    CertError::Malformed {
        detail: detail.into(),
    }
}

/// The label of a `-----BEGIN <label>-----` or `-----END <label>-----` line.
fn label<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    line.strip_prefix(prefix)?.strip_suffix(DASHES)
}

fn trim(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    line.get(start..end.max(start)).unwrap_or_default()
}

/// The decoded contents of every `CERTIFICATE` block, in order. Text outside
/// blocks is ignored and so are blocks with other labels; a `CERTIFICATE`
/// block must be closed, hold no headers and be valid padded base64.
pub(crate) fn certificate_blocks(text: &[u8]) -> Result<Vec<Vec<u8>>, CertError> {
    let mut blocks = Vec::new();
    // The open block: its label, its first line number, and its base64.
    let mut open: Option<(Vec<u8>, usize, Vec<u8>)> = None;
    for (number, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = trim(raw);
        match open.as_mut() {
            None => {
                if let Some(l) = label(line, BEGIN) {
                    open = Some((l.to_vec(), number + 1, Vec::new()));
                }
            }
            Some((l, start, body)) => {
                if let Some(end) = label(line, END) {
                    if end != l.as_slice() {
                        return Err(malformed(format!(
                            "PEM block {} opened at line {start} is closed as {}",
                            String::from_utf8_lossy(l),
                            String::from_utf8_lossy(end)
                        )));
                    }
                    if l.as_slice() == b"CERTIFICATE" {
                        let der = STANDARD.decode(&body[..]).map_err(|e| {
                            malformed(format!(
                                "PEM CERTIFICATE block at line {start}: invalid base64: {e}"
                            ))
                        })?;
                        if der.is_empty() {
                            return Err(malformed(format!(
                                "PEM CERTIFICATE block at line {start} is empty"
                            )));
                        }
                        blocks.push(der);
                    }
                    open = None;
                } else if label(line, BEGIN).is_some() {
                    return Err(malformed(format!(
                        "PEM block opened at line {start} is not closed before line {}",
                        number + 1
                    )));
                } else if l.as_slice() == b"CERTIFICATE" {
                    if line.contains(&b':') {
                        return Err(malformed(format!(
                            "PEM CERTIFICATE block at line {start} has headers"
                        )));
                    }
                    body.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
                }
            }
        }
    }
    if let Some((l, start, _)) = open {
        return Err(malformed(format!(
            "PEM block {} opened at line {start} is not closed",
            String::from_utf8_lossy(&l)
        )));
    }
    Ok(blocks)
}

/// PEM text for one block: 64-column base64, LF line ends, final newline.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

//! A lenient PEM reader: finds `-----BEGIN X-----` ... `-----END X-----`
//! blocks anywhere in a text (tools such as `certtool` print an explanation of
//! the key before the block), notes RFC 1421 headers such as
//! `Proc-Type: 4,ENCRYPTED`, and decodes the base64 body into a buffer that is
//! wiped when dropped.

use base64::Engine as _;
use zeroize::Zeroizing;

use super::KeyError;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";
/// Labels longer than this are not PEM labels (and would make poor error messages).
const MAX_LABEL_LEN: usize = 64;

/// One PEM block of a text.
pub(crate) struct Block<'a> {
    /// The label between `BEGIN ` and the closing dashes.
    pub label: &'a str,
    /// Whether an RFC 1421 header says `Proc-Type: 4,ENCRYPTED`.
    pub legacy_encrypted: bool,
    /// Whether the block has RFC 1421 headers at all.
    pub has_headers: bool,
    body: Vec<&'a [u8]>,
}

impl Block<'_> {
    /// The decoded body.
    pub fn decode(&self, what: &'static str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let total: usize = self.body.iter().map(|line| line.len()).sum();
        let mut text = Zeroizing::new(Vec::with_capacity(total));
        for line in &self.body {
            text.extend_from_slice(line);
        }
        if text.is_empty() {
            return Err(KeyError::malformed(
                what,
                format!("the `{}` PEM block is empty", self.label),
            ));
        }
        let engine = &base64::engine::general_purpose::STANDARD;
        let mut out = Zeroizing::new(vec![0u8; base64::decoded_len_estimate(text.len())]);
        // The decoder's error names the offending character: it is left out,
        // since the text may encode a secret.
        let len = engine.decode_slice(&text[..], &mut out[..]).map_err(|_| {
            KeyError::malformed(
                what,
                format!(
                    "the `{}` PEM block is not valid base64 (truncated or corrupted)",
                    self.label
                ),
            )
        })?;
        out.truncate(len);
        Ok(out)
    }
}

/// The PEM text of `der` under `label`: 64-column base64, LF line ends and a
/// final newline (RFC 7468 strict form, as OpenSSL writes it). The result is
/// wiped when dropped, since `der` may be a private key.
pub(crate) fn encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let engine = &base64::engine::general_purpose::STANDARD;
    let b64_len = base64::encoded_len(der.len(), true).unwrap_or(0);
    let mut b64 = Zeroizing::new(vec![0u8; b64_len]);
    let written = engine.encode_slice(der, &mut b64[..]).unwrap_or(0);
    let lines = written.div_ceil(64);
    let mut out = Zeroizing::new(String::with_capacity(
        written + lines + 2 * (label.len() + 16) + 2,
    ));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in b64[..written].chunks(64) {
        out.extend(line.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Every PEM block in `text`, in order. Text outside blocks is ignored.
pub(crate) fn blocks(text: &[u8]) -> Result<Vec<Block<'_>>, KeyError> {
    let mut found = Vec::new();
    let mut lines = text.split(|&b| b == b'\n').map(<[u8]>::trim_ascii);
    while let Some(line) = lines.next() {
        let Some(label) = begin_label(line)? else {
            continue;
        };
        let mut block = Block {
            label,
            legacy_encrypted: false,
            has_headers: false,
            body: Vec::new(),
        };
        let mut in_headers = false;
        let mut closed = false;
        for line in lines.by_ref() {
            if line.starts_with(END) || line.starts_with(BEGIN) {
                if line.starts_with(END)
                    && line.ends_with(DASHES)
                    && line.len() >= END.len() + DASHES.len()
                {
                    let end_label = &line[END.len()..line.len() - DASHES.len()];
                    if end_label == label.as_bytes() {
                        closed = true;
                        break;
                    }
                }
                break;
            }
            if block.body.is_empty() && !in_headers && !block.has_headers && line.contains(&b':') {
                in_headers = true;
                block.has_headers = true;
            }
            if in_headers {
                if line.is_empty() {
                    in_headers = false;
                } else if is_encrypted_proc_type(line) {
                    block.legacy_encrypted = true;
                }
                continue;
            }
            if !line.is_empty() {
                block.body.push(line);
            }
        }
        if !closed {
            return Err(KeyError::malformed(
                "PEM block",
                format!("`-----BEGIN {label}-----` has no matching `-----END {label}-----` line"),
            ));
        }
        found.push(block);
    }
    Ok(found)
}

/// The label of a `-----BEGIN LABEL-----` line, `None` for any other line.
fn begin_label(line: &[u8]) -> Result<Option<&str>, KeyError> {
    if !line.starts_with(BEGIN)
        || !line.ends_with(DASHES)
        || line.len() < BEGIN.len() + DASHES.len()
    {
        return Ok(None);
    }
    let label = &line[BEGIN.len()..line.len() - DASHES.len()];
    let printable = label.iter().all(|&b| (0x20..0x7f).contains(&b));
    if label.is_empty() || label.len() > MAX_LABEL_LEN || !printable {
        return Err(KeyError::malformed(
            "PEM block",
            "a `-----BEGIN` line has an empty, overlong or non-ASCII label",
        ));
    }
    // The bytes are printable ASCII, so this cannot fail.
    Ok(std::str::from_utf8(label).ok())
}

fn is_encrypted_proc_type(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let (name, value) = line.split_at(colon);
    name.trim_ascii().eq_ignore_ascii_case(b"Proc-Type")
        && value[1..]
            .split(|&b| b == b',')
            .any(|part| part.trim_ascii().eq_ignore_ascii_case(b"ENCRYPTED"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_after_text_and_headers() {
        let text = b"Some explanation\n  with: a colon\n\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\r\n-----BEGIN EC PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\nDEK-Info: AES-256-CBC,00\r\n\r\nAAAA\r\n-----END EC PRIVATE KEY-----\r\ntrailer";
        let found = blocks(text).expect("parses");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].label, "EC PARAMETERS");
        assert!(!found[0].has_headers);
        assert_eq!(found[1].label, "EC PRIVATE KEY");
        assert!(found[1].legacy_encrypted);
        assert_eq!(&found[1].decode("x").expect("decodes")[..], &[0, 0, 0]);
    }

    #[test]
    fn rejects_unclosed_and_mismatched_blocks() {
        assert!(blocks(b"-----BEGIN PUBLIC KEY-----\nAAAA\n").is_err());
        assert!(blocks(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err());
        assert!(blocks(b"-----BEGIN -----\n-----END -----\n").is_err());
    }

    #[test]
    fn rejects_bad_base64() {
        for body in ["AAA", "AA=A", "A*AA", "AAAB=", ""] {
            let text = format!("-----BEGIN X-----\n{body}\n-----END X-----\n");
            let found = blocks(text.as_bytes()).expect("parses");
            assert!(found[0].decode("x").is_err(), "{body:?}");
        }
    }
}

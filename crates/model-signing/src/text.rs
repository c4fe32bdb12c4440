//! Untrusted text made safe to show: the one place that decides which
//! characters of a file name, a resource name, an identity or an error
//! quoting them may reach a terminal as they are.
//!
//! Everything a signature says and every name found on disk is untrusted: a
//! file named `ESC[2A CR ESC[J Verification succeeded...` would otherwise move
//! the cursor, erase the real verdict and print a fake one. Front ends pass
//! such strings through [`escape`] (human output) or write JSON with
//! [`json_pretty`] (machine output) before printing them.
//!
//! Escaped, in human output:
//!
//! - C0 controls (U+0000 to U+001F, tab, newline and carriage return
//!   included) as `\t`, `\n`, `\r` or `\xNN`, and DEL as `\x7f`;
//! - C1 controls (U+0080 to U+009F) as `\u{NN}`;
//! - the bidirectional formatting characters (U+061C, U+200E, U+200F,
//!   U+202A to U+202E, U+2066 to U+2069), which reorder what follows them,
//!   and the line and paragraph separators U+2028 and U+2029, as `\u{NNNN}`;
//! - with [`escape_bytes`], every byte that is not part of valid UTF-8 as
//!   `\xNN`.
//!
//! A backslash is shown as it is, so names that contain one stay readable;
//! the escaped form is for reading, not for round trips (JSON output carries
//! the exact names).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// Whether `c` must not reach a terminal as it is.
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `s` with every character that could drive a terminal escaped (see the
/// module documentation); borrowed when there is none.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`escape`], but keeps newlines: for text made of several lines of our
/// own whose content may quote untrusted strings.
pub fn escape_keep_newlines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe_char(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c != '\n' && is_unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for bytes that may not be UTF-8 (a file name on disk): each
/// byte outside valid UTF-8 is written as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return escape(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// [`escape_bytes`] for a path (Unix file names are bytes).
pub fn escape_path(path: &std::path::Path) -> Cow<'_, str> {
    use std::os::unix::ffi::OsStrExt;
    escape_bytes(path.as_os_str().as_bytes())
}

/// Pretty-printed JSON (two-space indent, as `serde_json::to_string_pretty`)
/// in which every string stays exact for a JSON reader, but every character
/// [`is_unsafe_char`] calls unsafe is written as a `\uXXXX` escape, so
/// printing the document cannot drive a terminal either. (`serde_json`
/// escapes only U+0000 to U+001F by itself.)
pub fn json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, SafeFormatter::default());
    value.serialize(&mut ser)?;
    // The serializer writes UTF-8 only.
    String::from_utf8(buf).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// `serde_json`'s pretty formatter, with the extra escapes of [`json_pretty`].
#[derive(Default)]
struct SafeFormatter {
    pretty: serde_json::ser::PrettyFormatter<'static>,
}

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe_char(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                // Every unsafe character lies in the Basic Multilingual Plane.
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

/// Unix seconds as an RFC 3339 UTC time (`2025-11-26T00:00:00Z`), for
/// messages and JSON output; negative times are before 1970.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// An error's message followed by those of its causes, joined by `: `, on
/// one line (unescaped: escape it where it is printed).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_764_115_200), "2025-11-26T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            escape("model/weights-00001.safetensors"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            escape("back\\slash.bin ünïcödé 模型"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn terminal_controls_are_escaped() {
        assert_eq!(
            escape("a\u{1b}[2A\r\u{1b}[JVerification succeeded"),
            "a\\x1b[2A\\r\\x1b[JVerification succeeded"
        );
        assert_eq!(escape("\t\n\u{0}\u{7f}"), "\\t\\n\\x00\\x7f");
        assert_eq!(escape("\u{85}\u{9b}31m"), "\\u{85}\\u{9b}31m");
    }

    #[test]
    fn bidi_overrides_and_isolates_are_escaped() {
        assert_eq!(escape("exe.\u{202e}txt"), "exe.\\u{202e}txt");
        for c in [
            '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}',
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{2028}', '\u{2029}',
        ] {
            let escaped = escape(&c.to_string()).into_owned();
            assert!(escaped.starts_with("\\u{"), "{c:?} -> {escaped}");
            assert!(!escaped.contains(c));
        }
        // Neighbours that are harmless stay.
        assert_eq!(escape("\u{2030}\u{2065}\u{a0}"), "\u{2030}\u{2065}\u{a0}");
    }

    #[test]
    fn newlines_kept_only_when_asked() {
        assert_eq!(escape_keep_newlines("a\nb\u{1b}c"), "a\nb\\x1bc");
        assert_eq!(escape("a\nb"), "a\\nb");
    }

    #[test]
    fn invalid_utf8_bytes_are_escaped() {
        assert_eq!(escape_bytes(b"ok\xff\xfe\x1b.bin"), "ok\\xff\\xfe\\x1b.bin");
        assert_eq!(escape_bytes("é".as_bytes()), "é");
    }

    #[test]
    fn json_keeps_strings_exact_but_escapes_unsafe_characters() {
        let name = "x\u{1b}[2A\u{7f}\u{9b}\u{202e}\u{2069}ü\"\\";
        let doc = serde_json::json!({ "name": name, "list": [1, name] });
        let text = json_pretty(&doc).expect("serializes");
        assert!(
            !text.chars().any(|c| c != '\n' && is_unsafe_char(c)),
            "{text}"
        );
        assert!(
            text.contains("\\u001b[2A\\u007f\\u009b\\u202e\\u2069ü\\\"\\\\"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, doc);
        // Same layout as serde_json's pretty printer when nothing needs escaping.
        let plain = serde_json::json!({ "a": [1, {"b": "c"}], "d": {} , "e": []});
        assert_eq!(
            json_pretty(&plain).expect("serializes"),
            serde_json::to_string_pretty(&plain).expect("serializes")
        );
    }
}

//! The user PIN: where it comes from, and how it is kept.
//!
//! A PIN comes, in this order, from the URI's `pin-value`, from the file its
//! `pin-source` names, or from [`Callbacks::request_pin`], which the
//! application implements (the command-line tool reads an environment
//! variable, then asks on the terminal). The library itself never prompts,
//! prints or reads the environment.

use std::fmt;
use std::io;
use std::path::Path;

use zeroize::Zeroizing;

/// Largest PIN file (`pin-source`) read. PKCS#11 PINs are short; the bound
/// also stops a FIFO or a device named by mistake from being read forever.
pub const MAX_PIN_FILE_BYTES: u64 = 4096;

/// A PIN. Its bytes are wiped from memory when it is dropped, and its
/// `Debug` output is `Pin(REDACTED)`.
#[derive(Clone)]
pub struct Pin(Zeroizing<Vec<u8>>);

impl Pin {
    /// A PIN from its bytes (PKCS#11 PINs are byte strings, usually UTF-8).
    pub fn new(bytes: Vec<u8>) -> Self {
        Pin(Zeroizing::new(bytes))
    }

    pub(crate) fn from_zeroizing(bytes: Zeroizing<Vec<u8>>) -> Self {
        Pin(bytes)
    }

    /// The PIN's bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Reads a PIN file (`pin-source`): its contents, less one final line
    /// ending (`\n` or `\r\n`), so that `echo 1234 > pin` works. A file of
    /// more than [`MAX_PIN_FILE_BYTES`] is refused (`InvalidData`).
    pub fn read_file(path: &Path) -> io::Result<Self> {
        let file = std::fs::File::open(path)?;
        // Room for the largest PIN file up front: no reallocation leaves a
        // copy of the PIN behind.
        let Some(mut bytes) =
            model_signing::limits::read_bounded(file, MAX_PIN_FILE_BYTES, MAX_PIN_FILE_BYTES)?
        else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a PIN file holds at most {MAX_PIN_FILE_BYTES} bytes"),
            ));
        };
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Ok(Pin(bytes))
    }
}

impl From<String> for Pin {
    fn from(s: String) -> Self {
        Pin::new(s.into_bytes())
    }
}

impl From<Zeroizing<String>> for Pin {
    fn from(s: Zeroizing<String>) -> Self {
        Pin::new(s.as_bytes().to_vec())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(REDACTED)")
    }
}

/// What the token says about the PIN it asks for, for a prompt.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PinRequest {
    /// The token label.
    pub token_label: String,
    /// The token serial number.
    pub token_serial: String,
    /// The token reports failed attempts since the last successful login
    /// (`CKF_USER_PIN_COUNT_LOW`).
    pub count_low: bool,
    /// A wrong PIN now locks the token (`CKF_USER_PIN_FINAL_TRY`).
    pub final_try: bool,
}

/// What the application does for the library: supply a PIN the URI does
/// not carry. The library calls it at most once per key it opens, and tries
/// the PIN once: a wrong PIN is an error, never a retry, so that a token's
/// failed-login counter moves by one at most.
pub trait Callbacks {
    /// The user PIN for the token described by `request`; `Ok(None)` when
    /// none can be had (no terminal), which fails with
    /// [`Pkcs11Error::PinRequired`](crate::Pkcs11Error::PinRequired).
    fn request_pin(&self, request: &PinRequest) -> io::Result<Option<Pin>>;
}

/// Callbacks for a program that cannot ask: a PIN must be in the URI.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCallbacks;

impl Callbacks for NoCallbacks {
    fn request_pin(&self, _request: &PinRequest) -> io::Result<Option<Pin>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let pin = Pin::from("123456".to_owned());
        assert_eq!(format!("{pin:?}"), "Pin(REDACTED)");
        assert_eq!(pin.expose(), b"123456");
    }

    #[test]
    fn pin_file_loses_one_line_ending() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (contents, pin) in [
            (&b"1234\n"[..], &b"1234"[..]),
            (b"1234\r\n", b"1234"),
            (b"1234", b"1234"),
            (b"1234\n\n", b"1234\n"),
            (b" 12 34 \n", b" 12 34 "),
            (b"", b""),
        ] {
            let path = dir.path().join("pin");
            std::fs::write(&path, contents).expect("write");
            assert_eq!(Pin::read_file(&path).expect("read").expose(), pin);
        }
    }
}

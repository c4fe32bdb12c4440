//! `Pkcs11Uri::parse` on arbitrary text. Parsing never loads a module: this
//! target only parses and prints.
//!
//! A URI that parses must print (PIN redacted) as a URI that parses to the
//! same attributes, and neither its `Display`, its `Debug` nor any error
//! message may show the PIN.
//!
//! "Shows the PIN" is checked by difference: the same text with another PIN
//! of the same shape must print the first PIN fewer times. A PIN that is
//! also fixed text of a message (`pkcs11`, `token`) is then no false alarm.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model_signing_pkcs11::Pkcs11Uri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let uri = match Pkcs11Uri::parse(text) {
        Ok(uri) => uri,
        Err(e) => {
            let message = e.to_string();
            let debug = format!("{e:?}");
            if let Some(pin) = pin_of(text) {
                let other = Pkcs11Uri::parse(&with_other_pin(text, pin))
                    .expect_err("the same text with another PIN fails too");
                assert!(
                    !shows(&message, &other.to_string(), pin),
                    "an error shows the PIN: {message}"
                );
                if debug_shows_as_is(text) {
                    assert!(
                        !shows(&debug, &format!("{other:?}"), pin),
                        "an error's Debug shows the PIN: {debug}"
                    );
                }
            }
            return;
        }
    };
    let shown = uri.to_string();
    let debug = format!("{uri:?}");
    if uri.has_pin_value() {
        assert!(uri.pin_value().is_some());
        assert!(shown.contains("pin-value=REDACTED"), "{shown}");
        if let Some(pin) = pin_of(text) {
            let other = Pkcs11Uri::parse(&with_other_pin(text, pin))
                .expect("the same text with another PIN parses too");
            assert!(
                !shows(&shown, &other.to_string(), pin),
                "Display shows the PIN: {shown}"
            );
            if debug_shows_as_is(text) {
                assert!(
                    !shows(&debug, &format!("{other:?}"), pin),
                    "Debug shows the PIN: {debug}"
                );
            }
        }
    }

    let again = Pkcs11Uri::parse(&shown)
        .unwrap_or_else(|e| panic!("{shown:?}, printed from {text:?}, does not parse: {e}"));
    assert_eq!(again.to_string(), shown, "printing is not stable");
    assert_eq!(again.token(), uri.token());
    assert_eq!(again.manufacturer(), uri.manufacturer());
    assert_eq!(again.serial(), uri.serial());
    assert_eq!(again.model(), uri.model());
    assert_eq!(again.library_manufacturer(), uri.library_manufacturer());
    assert_eq!(again.library_description(), uri.library_description());
    assert_eq!(again.library_version(), uri.library_version());
    assert_eq!(again.object(), uri.object());
    assert_eq!(again.object_type(), uri.object_type());
    assert_eq!(again.id(), uri.id());
    assert_eq!(again.slot_description(), uri.slot_description());
    assert_eq!(again.slot_manufacturer(), uri.slot_manufacturer());
    assert_eq!(again.slot_id(), uri.slot_id());
    assert_eq!(again.pin_source(), uri.pin_source());
    assert_eq!(again.has_pin_value(), uri.has_pin_value());
    assert_eq!(again.module_name(), uri.module_name());
    assert_eq!(again.module_path(), uri.module_path());
});

/// The raw `pin-value` text of a URI, when it is distinctive enough that
/// finding it in a message cannot be chance: letters and digits, at least
/// six, found nowhere else in the URI, which has no percent-escapes.
fn pin_of(text: &str) -> Option<&str> {
    let query = text.split_once('?')?.1;
    let pin = query
        .split('&')
        .find_map(|part| part.strip_prefix("pin-value="))?;
    let distinctive = pin.len() >= 6
        && pin.bytes().all(|b| b.is_ascii_alphanumeric())
        && pin.bytes().any(|b| b.is_ascii_digit())
        && pin.bytes().any(|b| b.is_ascii_alphabetic())
        && text.matches(pin).count() == 1
        && !text.contains('%');
    distinctive.then_some(pin)
}

/// Whether `Debug` prints every character of `text` as itself. An escaped
/// character adds text of its own (a NUL shows as `\0`), so a PIN of `0ABCDEF`
/// would be "found" in the Debug of an attribute name `<NUL>ABCDEF` that never
/// held it: the Debug checks only run on text that `Debug` does not escape.
fn debug_shows_as_is(text: &str) -> bool {
    text.chars().all(|c| c.escape_debug().count() == 1)
}

/// `text` with its one occurrence of `pin` replaced by another PIN of the
/// same shape that differs in every character (digits and letters rotated).
fn with_other_pin(text: &str, pin: &str) -> String {
    let other: String = pin
        .chars()
        .map(|c| match c {
            '9' => '0',
            'z' => 'a',
            'Z' => 'A',
            c if c.is_ascii_alphanumeric() => char::from(c as u8 + 1),
            c => c,
        })
        .collect();
    text.replacen(pin, &other, 1)
}

/// Whether `printed` (from the text with `pin`) shows the PIN: it holds the
/// PIN more often than `printed_other` (from the same text with another PIN),
/// so the PIN's characters came from the input, not from fixed text.
fn shows(printed: &str, printed_other: &str, pin: &str) -> bool {
    printed.matches(pin).count() > printed_other.matches(pin).count()
}

//! RFC 7512 PKCS#11 URIs: `pkcs11:token=HSM;object=signing-key?module-path=/usr/lib/libhsm.so`.
//!
//! The path part (before `?`, attributes separated by `;`) says which token
//! and which object; the query part (after `?`, separated by `&`) says how to
//! reach it: the module to load and the PIN. Values are percent-decoded.
//!
//! Parsing is strict, so that a typo never widens what a URI selects:
//!
//! - the `pkcs11:` scheme is required (in any case, as RFC 3986 allows);
//! - every attribute is one RFC 7512 defines: vendor-specific attributes
//!   are refused (no module-specific meaning is known for them, and an
//!   unknown path attribute would leave the URI matching nothing), and so is
//!   a misspelt one; an attribute in the wrong part (`pin-value` in the path,
//!   `token` in the query) is refused with a hint;
//! - each attribute appears at most once;
//! - characters the RFC grammar reserves must be percent-encoded (a space as
//!   `%20`, `/` in the path as `%2F`), and every `%` starts a two-digit hex
//!   escape;
//! - `type` is one of `public`, `private`, `cert`, `secret-key`, `data`;
//!   `slot-id` is a decimal number; `library-version` is `M` or `M.m`;
//! - `pin-value` and `pin-source` exclude each other; `pin-source` is an
//!   absolute path or a `file:` URI of one; `module-path` is absolute;
//!   `module-name` is a file name, not a path.
//!
//! The PIN is held in a [`Pin`], wiped from memory when dropped. No error
//! message and no `Debug` or `Display` output holds it: a URI prints with
//! `pin-value=REDACTED`, and an error in the `pin-value` attribute names the
//! attribute, never its characters.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::pin::Pin;

/// The two parts of a PKCS#11 URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// Before `?`: which token and object.
    Path,
    /// After `?`: module and PIN.
    Query,
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Component::Path => "path",
            Component::Query => "query",
        })
    }
}

/// The object class a `type` attribute names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// `public`: a public key.
    Public,
    /// `private`: a private key.
    Private,
    /// `cert`: a certificate.
    Cert,
    /// `secret-key`: a symmetric key.
    SecretKey,
    /// `data`: a data object.
    Data,
}

impl ObjectType {
    /// The URI spelling: `public`, `private`, `cert`, `secret-key`, `data`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Public => "public",
            ObjectType::Private => "private",
            ObjectType::Cert => "cert",
            ObjectType::SecretKey => "secret-key",
            ObjectType::Data => "data",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "public" => ObjectType::Public,
            "private" => ObjectType::Private,
            "cert" => ObjectType::Cert,
            "secret-key" => ObjectType::SecretKey,
            "data" => ObjectType::Data,
            _ => return None,
        })
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a PKCS#11 URI was refused. No variant holds the PIN or any part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// The text does not start with `pkcs11:`.
    #[error("not a PKCS#11 URI: it must start with `pkcs11:` (for example `pkcs11:token=NAME;object=LABEL`)")]
    MissingScheme,
    /// A `#`: PKCS#11 URIs have no fragment.
    #[error("a PKCS#11 URI has no fragment: percent-encode `#` as `%23`")]
    Fragment,
    /// `;;`, a trailing `;` or `&&`: an attribute with no name or value.
    #[error("empty attribute in the URI {component} (check for a doubled or trailing separator)")]
    EmptyAttribute {
        /// Where.
        component: Component,
    },
    /// An attribute without `=`.
    #[error("URI {component} attribute `{name}` has no `=VALUE`")]
    MissingEquals {
        /// Where.
        component: Component,
        /// The text, when it is an attribute name; `(not shown)` otherwise.
        name: String,
    },
    /// An attribute name with characters other than letters, digits, `-`, `_`.
    #[error("invalid attribute name `{name}` in the URI {component}")]
    InvalidAttributeName {
        /// Where.
        component: Component,
        /// The name.
        name: String,
    },
    /// An attribute RFC 7512 does not define (a vendor-specific one, or a typo).
    #[error("unknown URI {component} attribute `{name}`; the {component} attributes are {known}",
        known = known_attributes(*.component))]
    UnknownAttribute {
        /// Where.
        component: Component,
        /// The name.
        name: String,
    },
    /// A path attribute in the query, or a query attribute in the path.
    #[error("`{name}` is a {expected} attribute: {hint}",
        hint = match .expected { Component::Path => "put it before `?`, separated by `;`", Component::Query => "put it after `?`, separated by `&`" })]
    WrongComponent {
        /// The attribute.
        name: String,
        /// Where it belongs.
        expected: Component,
    },
    /// An attribute given twice.
    #[error("attribute `{name}` appears more than once in the URI")]
    Duplicate {
        /// The attribute.
        name: String,
    },
    /// A character the grammar reserves, unencoded.
    #[error("{}", invalid_character_message(.attribute, *.character))]
    InvalidCharacter {
        /// The attribute whose value holds it.
        attribute: String,
        /// The character; `None` in `pin-value`, which is never echoed.
        character: Option<char>,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error("{}", bad_escape_message(.attribute, .escape.as_deref()))]
    BadEscape {
        /// The attribute whose value holds it.
        attribute: String,
        /// The text from `%` on (up to three characters); `None` in `pin-value`.
        escape: Option<String>,
    },
    /// A textual attribute whose decoded value is not UTF-8.
    #[error("the value of `{attribute}` is not UTF-8 once percent-decoded")]
    NotUtf8 {
        /// The attribute.
        attribute: String,
    },
    /// An attribute that needs a value has an empty one.
    #[error("`{attribute}` needs a value")]
    EmptyValue {
        /// The attribute.
        attribute: String,
    },
    /// `slot-id` is not a decimal number that fits in 64 bits.
    #[error("`slot-id` must be a decimal number, found `{value}`")]
    InvalidSlotId {
        /// The value.
        value: String,
    },
    /// `library-version` is not `M` or `M.m` with numbers up to 255.
    #[error("`library-version` must be MAJOR or MAJOR.MINOR (numbers up to 255), found `{value}`")]
    InvalidLibraryVersion {
        /// The value.
        value: String,
    },
    /// `type` is not one RFC 7512 defines.
    #[error("unknown object type `type={value}`; the types are public, private, cert, secret-key and data")]
    UnknownType {
        /// The value.
        value: String,
    },
    /// Both `pin-value` and `pin-source`.
    #[error("the URI gives both `pin-value` and `pin-source`: keep one")]
    PinValueAndSource,
    /// `module-path` is not an absolute path.
    #[error("`module-path` must be an absolute path, found `{path}`")]
    RelativeModulePath {
        /// The value.
        path: String,
    },
    /// `module-name` holds a path separator or is `.` or `..`.
    #[error("`module-name` must be a file name without `/` (use `module-path` for a path), found `{name}`")]
    InvalidModuleName {
        /// The value.
        name: String,
    },
    /// `pin-source` is a relative path.
    #[error("`pin-source` must be an absolute path or a `file:` URI of one, found `{value}`")]
    RelativePinSource {
        /// The value.
        value: String,
    },
    /// `pin-source` is a URI of another scheme, or a command (`|...`).
    #[error("unsupported `pin-source` `{value}`: only files are supported (an absolute path or `file:/PATH`)")]
    UnsupportedPinSource {
        /// The value.
        value: String,
    },
}

fn known_attributes(component: Component) -> String {
    let names: Vec<&str> = ATTRIBUTES
        .iter()
        .filter(|(_, c)| *c == component)
        .map(|(n, _)| *n)
        .collect();
    names.join(", ")
}

fn invalid_character_message(attribute: &str, character: Option<char>) -> String {
    match character {
        Some(c) => {
            let mut utf8 = [0u8; 4];
            let escaped: String = c
                .encode_utf8(&mut utf8)
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            format!(
                "the value of `{attribute}` holds {c:?}, which must be percent-encoded as `{escaped}`"
            )
        }
        None => format!(
            "the value of `{attribute}` holds a character that must be percent-encoded (reserved characters, spaces and non-ASCII characters are written as `%XX`)"
        ),
    }
}

fn bad_escape_message(attribute: &str, escape: Option<&str>) -> String {
    match escape {
        Some(e) => format!(
            "bad percent-escape `{e}` in the value of `{attribute}`: `%` must be followed by two hexadecimal digits (write `%` itself as `%25`)"
        ),
        None => format!(
            "bad percent-escape in the value of `{attribute}`: `%` must be followed by two hexadecimal digits (write `%` itself as `%25`)"
        ),
    }
}

/// Every attribute RFC 7512 defines, and the part it belongs to.
const ATTRIBUTES: [(&str, Component); 17] = [
    ("token", Component::Path),
    ("manufacturer", Component::Path),
    ("serial", Component::Path),
    ("model", Component::Path),
    ("library-manufacturer", Component::Path),
    ("library-description", Component::Path),
    ("library-version", Component::Path),
    ("object", Component::Path),
    ("type", Component::Path),
    ("id", Component::Path),
    ("slot-description", Component::Path),
    ("slot-manufacturer", Component::Path),
    ("slot-id", Component::Path),
    ("pin-source", Component::Query),
    ("pin-value", Component::Query),
    ("module-name", Component::Query),
    ("module-path", Component::Query),
];

const PIN_VALUE: &str = "pin-value";

/// A parsed RFC 7512 PKCS#11 URI.
///
/// ```
/// use model_signing_pkcs11::Pkcs11Uri;
/// let uri = Pkcs11Uri::parse("pkcs11:token=My%20HSM;object=model-signer;id=%01?pin-value=1234")?;
/// assert_eq!(uri.token(), Some("My HSM"));
/// assert_eq!(uri.id(), Some(&[1u8][..]));
/// assert!(uri.has_pin_value());
/// assert_eq!(uri.to_string(), "pkcs11:token=My%20HSM;object=model-signer;id=%01?pin-value=REDACTED");
/// # Ok::<(), model_signing_pkcs11::UriError>(())
/// ```
#[derive(Clone, Default)]
pub struct Pkcs11Uri {
    token: Option<String>,
    manufacturer: Option<String>,
    serial: Option<String>,
    model: Option<String>,
    library_manufacturer: Option<String>,
    library_description: Option<String>,
    library_version: Option<(u8, u8)>,
    object: Option<String>,
    object_type: Option<ObjectType>,
    id: Option<Vec<u8>>,
    slot_description: Option<String>,
    slot_manufacturer: Option<String>,
    slot_id: Option<u64>,
    pin_source: Option<PathBuf>,
    pin_value: Option<Pin>,
    module_name: Option<String>,
    module_path: Option<PathBuf>,
}

impl Pkcs11Uri {
    /// Parses a PKCS#11 URI; see the [module documentation](self) for the
    /// rules.
    pub fn parse(text: &str) -> Result<Self, UriError> {
        let rest = match text.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("pkcs11:") => &text[7..],
            _ => return Err(UriError::MissingScheme),
        };
        if rest.contains('#') {
            return Err(UriError::Fragment);
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri::default();
        let mut seen: Vec<String> = Vec::new();
        if !path.is_empty() {
            for part in path.split(';') {
                uri.add(Component::Path, part, &mut seen, false)?;
            }
        }
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            let hide_names = query.contains(PIN_VALUE);
            for part in query.split('&') {
                uri.add(Component::Query, part, &mut seen, hide_names)?;
            }
        }
        if uri.pin_value.is_some() && uri.pin_source.is_some() {
            return Err(UriError::PinValueAndSource);
        }
        Ok(uri)
    }

    fn add(
        &mut self,
        component: Component,
        part: &str,
        seen: &mut Vec<String>,
        hide_names: bool,
    ) -> Result<(), UriError> {
        if part.is_empty() {
            return Err(UriError::EmptyAttribute { component });
        }
        // A PIN holding an unencoded `&` splits into pieces that look like
        // attributes: when the query has a PIN, its unknown names are not
        // echoed.
        let shown = |name: &str| {
            if hide_names {
                "(not shown: the URI holds a PIN)".to_owned()
            } else {
                name.to_owned()
            }
        };
        let Some((name, raw)) = part.split_once('=') else {
            // The whole part is shown only when it is an attribute name.
            let name = if ATTRIBUTES.iter().any(|(n, _)| *n == part) {
                part.to_owned()
            } else {
                "(not shown)".to_owned()
            };
            return Err(UriError::MissingEquals { component, name });
        };
        if !is_attribute_name(name) {
            return Err(UriError::InvalidAttributeName {
                component,
                name: shown(name),
            });
        }
        match ATTRIBUTES.iter().find(|(n, _)| *n == name) {
            None => {
                return Err(UriError::UnknownAttribute {
                    component,
                    name: shown(name),
                })
            }
            Some((_, expected)) if *expected != component => {
                return Err(UriError::WrongComponent {
                    name: name.to_owned(),
                    expected: *expected,
                })
            }
            Some(_) => {}
        }
        if seen.iter().any(|s| s == name) {
            return Err(UriError::Duplicate {
                name: name.to_owned(),
            });
        }
        seen.push(name.to_owned());
        let value = decode(name, raw, component)?;
        let text = |value: Zeroizing<Vec<u8>>| -> Result<String, UriError> {
            String::from_utf8(value.to_vec()).map_err(|_| UriError::NotUtf8 {
                attribute: name.to_owned(),
            })
        };
        let non_empty = |s: String| -> Result<String, UriError> {
            if s.is_empty() {
                Err(UriError::EmptyValue {
                    attribute: name.to_owned(),
                })
            } else {
                Ok(s)
            }
        };
        match name {
            "token" => self.token = Some(text(value)?),
            "manufacturer" => self.manufacturer = Some(text(value)?),
            "serial" => self.serial = Some(text(value)?),
            "model" => self.model = Some(text(value)?),
            "library-manufacturer" => self.library_manufacturer = Some(text(value)?),
            "library-description" => self.library_description = Some(text(value)?),
            "library-version" => {
                let v = text(value)?;
                self.library_version =
                    Some(parse_version(&v).ok_or(UriError::InvalidLibraryVersion { value: v })?);
            }
            "object" => self.object = Some(text(value)?),
            "type" => {
                let v = text(value)?;
                self.object_type =
                    Some(ObjectType::parse(&v).ok_or(UriError::UnknownType { value: v })?);
            }
            "id" => self.id = Some(value.to_vec()),
            "slot-description" => self.slot_description = Some(text(value)?),
            "slot-manufacturer" => self.slot_manufacturer = Some(text(value)?),
            "slot-id" => {
                let v = text(value)?;
                let id = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    v.parse::<u64>().ok()
                } else {
                    None
                };
                self.slot_id = Some(id.ok_or(UriError::InvalidSlotId { value: v })?);
            }
            "pin-value" => self.pin_value = Some(Pin::from_zeroizing(value)),
            "pin-source" => self.pin_source = Some(pin_source_path(&non_empty(text(value)?)?)?),
            "module-name" => {
                let v = non_empty(text(value)?)?;
                if v.contains('/') || v.contains('\\') || v == "." || v == ".." || v.contains('\0')
                {
                    return Err(UriError::InvalidModuleName { name: v });
                }
                self.module_name = Some(v);
            }
            "module-path" => {
                let v = non_empty(text(value)?)?;
                if !Path::new(&v).is_absolute() || v.contains('\0') {
                    return Err(UriError::RelativeModulePath { path: v });
                }
                self.module_path = Some(PathBuf::from(v));
            }
            _ => {
                return Err(UriError::UnknownAttribute {
                    component,
                    name: shown(name),
                })
            }
        }
        Ok(())
    }

    /// `token`: the token label.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
    /// `manufacturer`: the token manufacturer.
    pub fn manufacturer(&self) -> Option<&str> {
        self.manufacturer.as_deref()
    }
    /// `serial`: the token serial number.
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }
    /// `model`: the token model.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    /// `library-manufacturer`: the module's manufacturer.
    pub fn library_manufacturer(&self) -> Option<&str> {
        self.library_manufacturer.as_deref()
    }
    /// `library-description`: the module's description.
    pub fn library_description(&self) -> Option<&str> {
        self.library_description.as_deref()
    }
    /// `library-version`: the module's version as (major, minor); a version
    /// given without minor has minor 0.
    pub fn library_version(&self) -> Option<(u8, u8)> {
        self.library_version
    }
    /// `object`: the object label (`CKA_LABEL`).
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }
    /// `type`: the object class.
    pub fn object_type(&self) -> Option<ObjectType> {
        self.object_type
    }
    /// `id`: the object identifier (`CKA_ID`), raw bytes.
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }
    /// `slot-description`: the slot description.
    pub fn slot_description(&self) -> Option<&str> {
        self.slot_description.as_deref()
    }
    /// `slot-manufacturer`: the slot manufacturer.
    pub fn slot_manufacturer(&self) -> Option<&str> {
        self.slot_manufacturer.as_deref()
    }
    /// `slot-id`: the slot number.
    pub fn slot_id(&self) -> Option<u64> {
        self.slot_id
    }
    /// `pin-source`: the file holding the PIN.
    pub fn pin_source(&self) -> Option<&Path> {
        self.pin_source.as_deref()
    }
    /// `pin-value`: the PIN itself.
    pub fn pin_value(&self) -> Option<&Pin> {
        self.pin_value.as_ref()
    }
    /// Whether the URI carries the PIN itself (visible to other users of
    /// the machine when passed on a command line).
    pub fn has_pin_value(&self) -> bool {
        self.pin_value.is_some()
    }
    /// `module-name`: the module's file name, looked up in the standard
    /// module directories.
    pub fn module_name(&self) -> Option<&str> {
        self.module_name.as_deref()
    }
    /// `module-path`: the module's absolute path (or a directory to look
    /// `module-name` up in).
    pub fn module_path(&self) -> Option<&Path> {
        self.module_path.as_deref()
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The URI, percent-encoded, with the PIN written as `REDACTED`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path: Vec<String> = Vec::new();
        let text = |name: &str, v: &Option<String>, out: &mut Vec<String>| {
            if let Some(v) = v {
                out.push(format!("{name}={}", encode(v.as_bytes(), Component::Path)));
            }
        };
        text("token", &self.token, &mut path);
        text("manufacturer", &self.manufacturer, &mut path);
        text("serial", &self.serial, &mut path);
        text("model", &self.model, &mut path);
        text(
            "library-manufacturer",
            &self.library_manufacturer,
            &mut path,
        );
        text("library-description", &self.library_description, &mut path);
        if let Some((major, minor)) = self.library_version {
            path.push(format!("library-version={major}.{minor}"));
        }
        text("object", &self.object, &mut path);
        if let Some(t) = self.object_type {
            path.push(format!("type={t}"));
        }
        if let Some(id) = &self.id {
            path.push(format!("id={}", encode_all(id)));
        }
        text("slot-description", &self.slot_description, &mut path);
        text("slot-manufacturer", &self.slot_manufacturer, &mut path);
        if let Some(id) = self.slot_id {
            path.push(format!("slot-id={id}"));
        }
        let mut query: Vec<String> = Vec::new();
        if let Some(p) = &self.pin_source {
            query.push(format!(
                "pin-source={}",
                encode(p.to_string_lossy().as_bytes(), Component::Query)
            ));
        }
        if self.pin_value.is_some() {
            query.push(format!("{PIN_VALUE}=REDACTED"));
        }
        if let Some(n) = &self.module_name {
            query.push(format!(
                "module-name={}",
                encode(n.as_bytes(), Component::Query)
            ));
        }
        if let Some(p) = &self.module_path {
            query.push(format!(
                "module-path={}",
                encode(p.to_string_lossy().as_bytes(), Component::Query)
            ));
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pkcs11Uri").field(&self.to_string()).finish()
    }
}

fn is_attribute_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `b` may appear unencoded in a value of `component`:
/// RFC 3986 unreserved characters, the RFC 7512 `pk11-res-avail` set, and
/// `&` in the path or `/ ? |` in the query.
fn allowed(b: u8, component: Component) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b':'
                | b'['
                | b']'
                | b'@'
                | b'!'
                | b'$'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'='
        )
        || match component {
            Component::Path => b == b'&',
            Component::Query => matches!(b, b'/' | b'?' | b'|'),
        }
}

/// Percent-decodes `raw`, the value of attribute `name`, refusing reserved
/// characters and bad escapes. The output is wiped when dropped (it may be
/// the PIN).
fn decode(name: &str, raw: &str, component: Component) -> Result<Zeroizing<Vec<u8>>, UriError> {
    let secret = name == PIN_VALUE;
    let bytes = raw.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|&c| (c as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(0));
                    i += 3;
                }
                _ => {
                    return Err(UriError::BadEscape {
                        attribute: name.to_owned(),
                        escape: (!secret).then(|| raw[i..].chars().take(3).collect::<String>()),
                    })
                }
            }
        } else if allowed(b, component) {
            out.push(b);
            i += 1;
        } else {
            return Err(UriError::InvalidCharacter {
                attribute: name.to_owned(),
                character: if secret {
                    None
                } else {
                    raw[i..].chars().next()
                },
            });
        }
    }
    Ok(out)
}

fn encode(value: &[u8], component: Component) -> String {
    value
        .iter()
        .map(|&b| {
            if allowed(b, component) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Every byte percent-encoded, as RFC 7512 writes `id`.
pub(crate) fn encode_all(value: &[u8]) -> String {
    value.iter().map(|b| format!("%{b:02X}")).collect()
}

/// A value written the way a URI path attribute takes it.
pub(crate) fn encode_path(value: &str) -> String {
    encode(value.as_bytes(), Component::Path)
}

fn parse_version(v: &str) -> Option<(u8, u8)> {
    let number = |s: &str| -> Option<u8> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match v.split_once('.') {
        Some((major, minor)) => Some((number(major)?, number(minor)?)),
        None => Some((number(v)?, 0)),
    }
}

/// The file a `pin-source` names: an absolute path, or a `file:` URI with an
/// empty or `localhost` authority.
fn pin_source_path(value: &str) -> Result<PathBuf, UriError> {
    if value.starts_with('|') {
        return Err(UriError::UnsupportedPinSource {
            value: value.to_owned(),
        });
    }
    let path = match value.get(..5) {
        Some(scheme) if scheme.eq_ignore_ascii_case("file:") => {
            let rest = &value[5..];
            match rest.strip_prefix("//") {
                Some(after) => {
                    let slash = after.find('/').unwrap_or(after.len());
                    let (authority, path) = after.split_at(slash);
                    if !(authority.is_empty() || authority.eq_ignore_ascii_case("localhost")) {
                        return Err(UriError::UnsupportedPinSource {
                            value: value.to_owned(),
                        });
                    }
                    path
                }
                None => rest,
            }
        }
        _ => {
            // Another scheme (`https:`, `env:`...) has letters, then `:`, before any `/`.
            let scheme_end = value.find(':');
            let slash = value.find('/');
            if let Some(colon) = scheme_end {
                if slash.is_none_or(|s| colon < s)
                    && value[..colon]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                    && colon > 1
                {
                    return Err(UriError::UnsupportedPinSource {
                        value: value.to_owned(),
                    });
                }
            }
            value
        }
    };
    if !Path::new(path).is_absolute() || path.contains('\0') {
        return Err(UriError::RelativePinSource {
            value: value.to_owned(),
        });
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("2"), Some((2, 0)));
        assert_eq!(parse_version("2.40"), Some((2, 40)));
        assert_eq!(parse_version("2."), None);
        assert_eq!(parse_version(".4"), None);
        assert_eq!(parse_version("256"), None);
        assert_eq!(parse_version("1.2.3"), None);
    }

    #[test]
    fn every_byte_round_trips_through_display() {
        let all: Vec<u8> = (0..=255u8).collect();
        let text = format!("pkcs11:id={}", encode_all(&all));
        let uri = Pkcs11Uri::parse(&text).expect("parses");
        assert_eq!(uri.id(), Some(all.as_slice()));
        let again = Pkcs11Uri::parse(&uri.to_string()).expect("display parses");
        assert_eq!(again.id(), Some(all.as_slice()));
    }

    #[test]
    fn display_redacts_the_pin_and_reparses() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=a%20b;object=k;type=private;slot-id=3;library-version=2.40?pin-value=s3cret&module-path=/usr/lib/x.so",
        )
        .expect("parses");
        let shown = uri.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!format!("{uri:?}").contains("s3cret"));
        let again = Pkcs11Uri::parse(&shown).expect("reparses");
        assert_eq!(again.token(), Some("a b"));
        assert_eq!(again.slot_id(), Some(3));
        assert_eq!(again.library_version(), Some((2, 40)));
        assert_eq!(again.module_path(), Some(Path::new("/usr/lib/x.so")));
    }
}

//! A private key held by a PKCS#11 token, as a [`SigningKey`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::RawAuthPin;
use model_signing::keys::{KeyAlgorithm, KeyError, PublicKey, SigningKey};

use crate::ec;
use crate::error::{describe, KeySummary, Pkcs11Error, TokenSummary};
use crate::module::{self, locate_module, standard_module_directories, Module};
use crate::pin::{Callbacks, Pin, PinRequest};
use crate::uri::{encode_all, encode_path, ObjectType, Pkcs11Uri};

/// The message of the test signature [`Pkcs11Key::open`] makes to check
/// that the token's public key belongs to its private key.
const PAIR_CHECK_MESSAGE: &[u8] = b"model-signing: PKCS#11 key pair check";

/// How to open a token key: the callbacks that supply a PIN, and where the
/// module may come from besides the URI.
pub struct OpenOptions<'a> {
    module_path: Option<PathBuf>,
    module_directories: Vec<PathBuf>,
    callbacks: &'a dyn Callbacks,
}

impl<'a> OpenOptions<'a> {
    /// Options with `callbacks`, no module path besides the URI's, and the
    /// [standard module directories](standard_module_directories) for
    /// `module-name`.
    pub fn new(callbacks: &'a dyn Callbacks) -> Self {
        OpenOptions {
            module_path: None,
            module_directories: standard_module_directories(),
            callbacks,
        }
    }

    /// The module to load, an absolute path. When the URI has a
    /// `module-path` too, the two must be the same.
    pub fn module_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.module_path = Some(path.into());
        self
    }

    /// The directories searched for `module-name`, in order, instead of the
    /// standard ones. Relative directories are skipped.
    pub fn module_directories(mut self, directories: Vec<PathBuf>) -> Self {
        self.module_directories = directories
            .into_iter()
            .filter(|d| d.is_absolute())
            .collect();
        self
    }
}

/// An ECDSA or RSA private key on a PKCS#11 token, open and logged in.
///
/// Signing hashes the message on the host (SHA-256, SHA-384 or SHA-512 by
/// curve; SHA-256 for RSA). For ECDSA the token signs the digest with
/// `CKM_ECDSA` and its raw `r || s` is converted to DER; for RSA (2048, 3072
/// or 4096 bits, exponent 65537) the token signs the DER `DigestInfo` of the
/// digest with `CKM_RSA_PKCS`, which makes a PKCS#1 v1.5 signature, as the Go
/// implementation of OMS does. The signature is checked with the public key
/// read from the token before it is returned.
pub struct Pkcs11Key {
    // Dropped in this order: the session (logging out), then the module.
    session: Mutex<Session>,
    handle: ObjectHandle,
    algorithm: KeyAlgorithm,
    public: PublicKey,
    key: KeySummary,
    token: TokenSummary,
    module_path: PathBuf,
    _module: Arc<Module>,
}

impl fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("module", &self.module_path)
            .field("token", &self.token.label)
            .field("slot_id", &self.token.slot_id)
            .field("key", &self.key.to_string())
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Key {
    /// Opens the one private key `uri` selects: loads the module, finds the
    /// one token and the one private key that match, logs in (PIN from the
    /// URI, its `pin-source` file, or `options`' callbacks, tried once),
    /// checks that the key may sign and is ECDSA on P-256, P-384 or P-521
    /// or RSA of 2048, 3072 or 4096 bits with the exponent 65537, reads its
    /// public key from the token, and checks with a test signature that the
    /// two belong together.
    pub fn open(uri: &Pkcs11Uri, options: &OpenOptions<'_>) -> Result<Self, Pkcs11Error> {
        if let Some(t) = uri.object_type().filter(|t| *t != ObjectType::Private) {
            return Err(Pkcs11Error::NotPrivateKeyType { found: t.as_str() });
        }
        let module_path = locate_module(
            uri,
            options.module_path.as_deref(),
            &options.module_directories,
        )?;
        let module = module::load(&module_path)?;
        check_library(uri, &module)?;
        let (slot, info) = select_token(uri, &module)?;
        let token = summary(slot, &info);
        if info.user_pin_locked() {
            return Err(Pkcs11Error::PinLocked { token: token.label });
        }
        let session = module
            .ctx()
            .open_ro_session(slot)
            .map_err(|e| Pkcs11Error::call("C_OpenSession", e))?;
        login(uri, options.callbacks, &module, slot, &info, &session)?;

        let (handle, key) = select_key(uri, &session, &token)?;
        let public = match check_key(&session, handle, &key)? {
            KeyKind::Ec(algorithm) => public_key(&session, handle, &key, algorithm)?,
            KeyKind::Rsa(public) => *public,
        };
        let algorithm = public.algorithm();
        let opened = Pkcs11Key {
            session: Mutex::new(session),
            handle,
            algorithm,
            public,
            key,
            token,
            module_path,
            _module: module,
        };
        opened.check_pair()?;
        Ok(opened)
    }

    /// The key's `CKA_LABEL` (if any) and `CKA_ID`.
    pub fn key(&self) -> &KeySummary {
        &self.key
    }

    /// The token holding the key.
    pub fn token(&self) -> &TokenSummary {
        &self.token
    }

    /// The module the key was opened with.
    pub fn module_path(&self) -> &Path {
        &self.module_path
    }

    /// The public key read from the token.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    fn check_pair(&self) -> Result<(), Pkcs11Error> {
        let signature = self.sign_raw(PAIR_CHECK_MESSAGE).map_err(|e| match e {
            SignFailure::Token(e) => Pkcs11Error::call("C_Sign", e),
            SignFailure::Malformed(_) => Pkcs11Error::KeyPairMismatch {
                key: self.key.clone(),
            },
        })?;
        self.public
            .verify(PAIR_CHECK_MESSAGE, &signature)
            .map_err(|_| Pkcs11Error::KeyPairMismatch {
                key: self.key.clone(),
            })
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignFailure> {
        let digest = self.algorithm.digest().digest(message);
        let rsa = !self.algorithm.is_ecdsa();
        let (mechanism, input) = if rsa {
            let mut info = SHA256_DIGEST_INFO_PREFIX.to_vec();
            info.extend_from_slice(&digest);
            (Mechanism::RsaPkcs, info)
        } else {
            (Mechanism::Ecdsa, digest)
        };
        let raw = {
            let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
            session
                .sign(&mechanism, self.handle, &input)
                .map_err(SignFailure::Token)?
        };
        if rsa {
            let expected = rsa_bytes(self.algorithm);
            if raw.len() != expected {
                return Err(SignFailure::Malformed(format!(
                    "the token returned a {}-byte signature; {} gives {expected} bytes",
                    raw.len(),
                    self.algorithm.curve_name()
                )));
            }
            return Ok(raw);
        }
        ec::raw_to_der(self.algorithm, &raw).map_err(SignFailure::Malformed)
    }
}

/// The DER `DigestInfo` of a SHA-256 digest, up to the digest (RFC 8017
/// 9.2): what `CKM_RSA_PKCS` signs to make a PKCS#1 v1.5 SHA-256 signature.
const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Bytes of an RSA signature (the modulus) for an RSA algorithm.
fn rsa_bytes(algorithm: KeyAlgorithm) -> usize {
    match algorithm {
        KeyAlgorithm::Rsa3072Pkcs1v15Sha256 => 384,
        KeyAlgorithm::Rsa4096Pkcs1v15Sha256 => 512,
        _ => 256,
    }
}

/// What kind of key [`check_key`] found.
enum KeyKind {
    /// ECDSA on this curve; the public key is read afterwards.
    Ec(KeyAlgorithm),
    /// RSA, with its public key (modulus and exponent).
    Rsa(Box<PublicKey>),
}

enum SignFailure {
    Token(CkError),
    Malformed(String),
}

impl SigningKey for Pkcs11Key {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key(&self) -> Result<PublicKey, KeyError> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signature = self
            .sign_raw(message)
            .map_err(|e| KeyError::SigningFailed {
                detail: match e {
                    SignFailure::Token(e) => format!("PKCS#11 C_Sign: {}", describe(&e)),
                    SignFailure::Malformed(detail) => detail,
                },
            })?;
        self.public
            .verify(message, &signature)
            .map_err(|_| KeyError::SigningFailed {
                detail: "the token's signature does not verify with the token's public key"
                    .to_owned(),
            })?;
        Ok(signature)
    }
}

fn summary(slot: Slot, info: &TokenInfo) -> TokenSummary {
    TokenSummary {
        slot_id: slot.id(),
        label: info.label().to_owned(),
        manufacturer: info.manufacturer_id().to_owned(),
        model: info.model().to_owned(),
        serial: info.serial_number().to_owned(),
    }
}

fn check_library(uri: &Pkcs11Uri, module: &Module) -> Result<(), Pkcs11Error> {
    if uri.library_manufacturer().is_none()
        && uri.library_description().is_none()
        && uri.library_version().is_none()
    {
        return Ok(());
    }
    let info = module
        .ctx()
        .get_library_info()
        .map_err(|e| Pkcs11Error::call("C_GetInfo", e))?;
    let mismatch = |attribute, expected: &str, found: &str| {
        Err(Pkcs11Error::LibraryMismatch {
            attribute,
            expected: expected.to_owned(),
            found: found.to_owned(),
        })
    };
    if let Some(m) = uri.library_manufacturer() {
        if m != info.manufacturer_id() {
            return mismatch("library-manufacturer", m, info.manufacturer_id());
        }
    }
    if let Some(d) = uri.library_description() {
        if d != info.library_description() {
            return mismatch("library-description", d, info.library_description());
        }
    }
    if let Some((major, minor)) = uri.library_version() {
        let v = info.library_version();
        if (v.major(), v.minor()) != (major, minor) {
            return mismatch(
                "library-version",
                &format!("{major}.{minor}"),
                &format!("{}.{}", v.major(), v.minor()),
            );
        }
    }
    Ok(())
}

/// The one initialized token the URI's token and slot attributes select.
fn select_token(uri: &Pkcs11Uri, module: &Module) -> Result<(Slot, TokenInfo), Pkcs11Error> {
    let ctx = module.ctx();
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| Pkcs11Error::call("C_GetSlotList", e))?;
    let mut available = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| Pkcs11Error::call("C_GetTokenInfo", e))?;
        // A blank token (SoftHSM always offers one) holds no keys.
        if !info.token_initialized() {
            continue;
        }
        let summary = summary(slot, &info);
        let mut matches = uri.slot_id().is_none_or(|id| id == slot.id())
            && uri.token().is_none_or(|v| v == info.label())
            && uri
                .manufacturer()
                .is_none_or(|v| v == info.manufacturer_id())
            && uri.serial().is_none_or(|v| v == info.serial_number())
            && uri.model().is_none_or(|v| v == info.model());
        if matches && (uri.slot_description().is_some() || uri.slot_manufacturer().is_some()) {
            let slot_info = ctx
                .get_slot_info(slot)
                .map_err(|e| Pkcs11Error::call("C_GetSlotInfo", e))?;
            matches = uri
                .slot_description()
                .is_none_or(|v| v == slot_info.slot_description())
                && uri
                    .slot_manufacturer()
                    .is_none_or(|v| v == slot_info.manufacturer_id());
        }
        if matches {
            matching.push((slot, info, summary.clone()));
        }
        available.push(summary);
    }
    match matching.len() {
        0 => Err(Pkcs11Error::NoToken { available }),
        1 => {
            let (slot, info, _) = matching.remove(0);
            Ok((slot, info))
        }
        _ => Err(Pkcs11Error::AmbiguousToken {
            candidates: matching.into_iter().map(|(_, _, s)| s).collect(),
        }),
    }
}

fn login(
    uri: &Pkcs11Uri,
    callbacks: &dyn Callbacks,
    module: &Module,
    slot: Slot,
    info: &TokenInfo,
    session: &Session,
) -> Result<(), Pkcs11Error> {
    let token = info.label();
    let pin: Option<Pin> = if let Some(pin) = uri.pin_value() {
        Some(pin.clone())
    } else if let Some(path) = uri.pin_source() {
        Some(
            Pin::read_file(path).map_err(|source| Pkcs11Error::PinSource {
                path: path.to_owned(),
                source,
            })?,
        )
    } else if !info.login_required() || info.protected_authentication_path() {
        None
    } else {
        let request = PinRequest {
            token_label: token.to_owned(),
            token_serial: info.serial_number().to_owned(),
            count_low: info.user_pin_count_low(),
            final_try: info.user_pin_final_try(),
        };
        let pin = callbacks
            .request_pin(&request)
            .map_err(Pkcs11Error::PinCallback)?;
        Some(pin.ok_or_else(|| Pkcs11Error::PinRequired {
            token: token.to_owned(),
        })?)
    };
    if pin.is_none() && !info.login_required() {
        return Ok(());
    }
    let result = match &pin {
        Some(pin) => {
            let raw = RawAuthPin::new(Box::new(pin.expose().to_vec()));
            session.login_with_raw(UserType::User, &raw)
        }
        // A PIN pad or biometric reader: the token asks for itself.
        None => session.login(UserType::User, None),
    };
    match result {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            let final_try = module
                .ctx()
                .get_token_info(slot)
                .map(|i| i.user_pin_final_try())
                .unwrap_or(false);
            Err(Pkcs11Error::PinIncorrect {
                token: token.to_owned(),
                final_try,
            })
        }
        Err(e) => Err(login_error(token, e)),
    }
}

/// The error of a failed `C_Login` other than a wrong PIN.
pub(crate) fn login_error(token: &str, err: CkError) -> Pkcs11Error {
    match err {
        CkError::Pkcs11(RvError::PinLocked, _) => Pkcs11Error::PinLocked {
            token: token.to_owned(),
        },
        other => Pkcs11Error::call("C_Login", other),
    }
}

fn text_attribute(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn key_summary(session: &Session, handle: ObjectHandle) -> Result<KeySummary, Pkcs11Error> {
    let attrs = session
        .get_attributes(handle, &[AttributeType::Label, AttributeType::Id])
        .map_err(|e| Pkcs11Error::call("C_GetAttributeValue", e))?;
    let mut summary = KeySummary {
        label: None,
        id: Vec::new(),
    };
    for attr in attrs {
        match attr {
            Attribute::Label(l) => summary.label = Some(text_attribute(&l)),
            Attribute::Id(id) => summary.id = id,
            _ => {}
        }
    }
    Ok(summary)
}

/// The one private key the URI's `object` and `id` select.
fn select_key(
    uri: &Pkcs11Uri,
    session: &Session,
    token: &TokenSummary,
) -> Result<(ObjectHandle, KeySummary), Pkcs11Error> {
    let handles = session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
        .map_err(|e| Pkcs11Error::call("C_FindObjects", e))?;
    let mut available = Vec::new();
    let mut matching = Vec::new();
    for handle in handles {
        let summary = key_summary(session, handle)?;
        let matches = uri
            .object()
            .is_none_or(|o| summary.label.as_deref() == Some(o))
            && uri.id().is_none_or(|id| summary.id == id);
        if matches {
            matching.push((handle, summary.clone()));
        }
        available.push(summary);
    }
    let mut criteria = Vec::new();
    if let Some(o) = uri.object() {
        criteria.push(format!("object={}", encode_path(o)));
    }
    if let Some(id) = uri.id() {
        criteria.push(format!("id={}", encode_all(id)));
    }
    let criteria = if criteria.is_empty() {
        "the URI (it has no `object` or `id`)".to_owned()
    } else {
        format!("`{}`", criteria.join(";"))
    };
    match matching.len() {
        0 => Err(Pkcs11Error::NoMatchingKey {
            token: token.label.clone(),
            criteria,
            available,
        }),
        1 => Ok(matching.remove(0)),
        _ => {
            let candidates: Vec<KeySummary> = matching.into_iter().map(|(_, s)| s).collect();
            Err(Pkcs11Error::AmbiguousKey {
                token: token.label.clone(),
                criteria,
                hint: ambiguity_hint(uri, &candidates),
                candidates,
            })
        }
    }
}

/// Which attributes to add to tell `candidates` apart.
fn ambiguity_hint(uri: &Pkcs11Uri, candidates: &[KeySummary]) -> String {
    fn distinct<T: PartialEq>(values: &[T]) -> bool {
        values
            .iter()
            .enumerate()
            .all(|(i, v)| values[..i].iter().all(|w| w != v))
    }
    let labels: Vec<&Option<String>> = candidates.iter().map(|c| &c.label).collect();
    let ids: Vec<&Vec<u8>> = candidates.iter().map(|c| &c.id).collect();
    let mut add = Vec::new();
    if uri.id().is_none() && distinct(&ids) {
        add.push("`id=`");
    }
    if uri.object().is_none() && distinct(&labels) {
        add.push("`object=`");
    }
    if add.is_empty() {
        let mut missing = Vec::new();
        if uri.id().is_none() {
            missing.push("`id=`");
        }
        if uri.object().is_none() {
            missing.push("`object=`");
        }
        if missing.len() == 2 {
            return "add both `object=` and `id=` to the URI, or give the keys distinct labels or ids on the token".to_owned();
        }
        return "they have the same label and id: give them distinct labels or ids on the token"
            .to_owned();
    }
    format!(
        "add {} with the value of the key to use to the URI",
        add.join(" or ")
    )
}

/// Checks that the key may sign and is ECDSA on a supported curve or RSA of
/// a supported size and exponent.
fn check_key(
    session: &Session,
    handle: ObjectHandle,
    key: &KeySummary,
) -> Result<KeyKind, Pkcs11Error> {
    let attrs = session
        .get_attributes(
            handle,
            &[
                AttributeType::KeyType,
                AttributeType::Sign,
                AttributeType::EcParams,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
            ],
        )
        .map_err(|e| Pkcs11Error::call("C_GetAttributeValue", e))?;
    let mut key_type = None;
    let mut can_sign = false;
    let mut params = None;
    let mut modulus = None;
    let mut exponent = None;
    for attr in attrs {
        match attr {
            Attribute::KeyType(t) => key_type = Some(t),
            Attribute::Sign(s) => can_sign = s,
            Attribute::EcParams(p) => params = Some(p),
            Attribute::Modulus(m) => modulus = Some(m),
            Attribute::PublicExponent(e) => exponent = Some(e),
            _ => {}
        }
    }
    let unsupported = |detail: String| Pkcs11Error::UnsupportedKey {
        key: key.clone(),
        detail,
    };
    let kind = match key_type {
        Some(t) if t == KeyType::EC => {
            let params =
                params.ok_or_else(|| unsupported("EC key without curve parameters".to_owned()))?;
            KeyKind::Ec(ec::algorithm_from_params(&params).map_err(unsupported)?)
        }
        Some(t) if t == KeyType::RSA => {
            let (modulus, exponent) = match (modulus, exponent) {
                (Some(m), Some(e)) if !m.is_empty() && !e.is_empty() => (m, e),
                _ => rsa_public_object(session, key)?.ok_or_else(|| {
                    unsupported(
                        "RSA key whose modulus and public exponent the token does not give"
                            .to_owned(),
                    )
                })?,
            };
            let public = PublicKey::from_rsa_components(&modulus, &exponent)
                .map_err(|e| unsupported(e.to_string()))?;
            KeyKind::Rsa(Box::new(public))
        }
        Some(t) => return Err(unsupported(format!("it is a {t} key"))),
        None => return Err(unsupported("the token does not say its type".to_owned())),
    };
    if !can_sign {
        return Err(Pkcs11Error::KeyCannotSign { key: key.clone() });
    }
    Ok(kind)
}

/// An RSA modulus and public exponent, big-endian.
type RsaComponents = (Vec<u8>, Vec<u8>);

/// The modulus and exponent of the RSA public key object with the private
/// key's `CKA_ID`, for tokens that do not show them on the private key.
fn rsa_public_object(
    session: &Session,
    key: &KeySummary,
) -> Result<Option<RsaComponents>, Pkcs11Error> {
    let handles = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Id(key.id.clone()),
        ])
        .map_err(|e| Pkcs11Error::call("C_FindObjects", e))?;
    let Some(handle) = handles.first() else {
        return Ok(None);
    };
    let attrs = session
        .get_attributes(
            *handle,
            &[AttributeType::Modulus, AttributeType::PublicExponent],
        )
        .map_err(|e| Pkcs11Error::call("C_GetAttributeValue", e))?;
    let (mut modulus, mut exponent) = (None, None);
    for attr in attrs {
        match attr {
            Attribute::Modulus(m) => modulus = Some(m),
            Attribute::PublicExponent(e) => exponent = Some(e),
            _ => {}
        }
    }
    Ok(modulus.zip(exponent))
}

/// The public key of the private key `handle`: the `CKA_EC_POINT` of the
/// public key object with the same `CKA_ID` (and label, when several share
/// the id), else the private key's own `CKA_EC_POINT` or
/// `CKA_PUBLIC_KEY_INFO`.
fn public_key(
    session: &Session,
    handle: ObjectHandle,
    key: &KeySummary,
    algorithm: KeyAlgorithm,
) -> Result<PublicKey, Pkcs11Error> {
    let err = |detail: String| Pkcs11Error::PublicKey {
        key: key.clone(),
        detail,
    };
    let mut template = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(KeyType::EC),
    ];
    if key.id.is_empty() {
        match &key.label {
            Some(label) => template.push(Attribute::Label(label.as_bytes().to_vec())),
            None => template.push(Attribute::Id(Vec::new())),
        }
    } else {
        template.push(Attribute::Id(key.id.clone()));
    }
    let handles = session
        .find_objects(&template)
        .map_err(|e| Pkcs11Error::call("C_FindObjects", e))?;
    let mut points: Vec<(Option<String>, PublicKey)> = Vec::new();
    for h in handles {
        let attrs = session
            .get_attributes(h, &[AttributeType::EcPoint, AttributeType::Label])
            .map_err(|e| Pkcs11Error::call("C_GetAttributeValue", e))?;
        let mut point = None;
        let mut label = None;
        for attr in attrs {
            match attr {
                Attribute::EcPoint(p) => point = Some(p),
                Attribute::Label(l) => label = Some(text_attribute(&l)),
                _ => {}
            }
        }
        let Some(point) = point else { continue };
        // A public key on another curve is another key.
        let Some(sec1) = ec::point_from_attribute(algorithm, &point) else {
            continue;
        };
        if let Ok(pk) = PublicKey::from_sec1_point(algorithm, sec1) {
            points.push((label, pk));
        }
    }
    if points.len() > 1 && points.iter().any(|(_, p)| *p != points[0].1) {
        points.retain(|(l, _)| *l == key.label);
    }
    if let Some((_, first)) = points.first() {
        if points.iter().all(|(_, p)| p == first) {
            return Ok(first.clone());
        }
        return Err(err(format!(
            "{} public key objects with id {} hold different keys",
            points.len(),
            encode_all(&key.id)
        )));
    }
    // No public key object: some tokens expose the point on the private key.
    let attrs = session
        .get_attributes(
            handle,
            &[AttributeType::EcPoint, AttributeType::PublicKeyInfo],
        )
        .map_err(|e| Pkcs11Error::call("C_GetAttributeValue", e))?;
    for attr in attrs {
        match attr {
            Attribute::EcPoint(p) => {
                if let Some(sec1) = ec::point_from_attribute(algorithm, &p) {
                    return PublicKey::from_sec1_point(algorithm, sec1)
                        .map_err(|e| err(e.to_string()));
                }
            }
            Attribute::PublicKeyInfo(spki) if !spki.is_empty() => {
                let pk = PublicKey::from_spki_der(&spki).map_err(|e| err(e.to_string()))?;
                if pk.algorithm() != algorithm {
                    return Err(err(format!(
                        "its public key info is on {}, the private key on {}",
                        pk.algorithm().curve_name(),
                        algorithm.curve_name()
                    )));
                }
                return Ok(pk);
            }
            _ => {}
        }
    }
    Err(err(format!(
        "no EC public key object with id {} on the token, and the private key does not carry its public point",
        encode_all(&key.id)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(label: &str, id: &[u8]) -> KeySummary {
        KeySummary {
            label: Some(label.to_owned()),
            id: id.to_vec(),
        }
    }

    #[test]
    fn ambiguity_hints_name_the_attributes_that_tell_keys_apart() {
        let none = Pkcs11Uri::parse("pkcs11:token=t").expect("uri");
        let hint = ambiguity_hint(&none, &[key("a", &[1]), key("b", &[2])]);
        assert!(hint.contains("`id=` or `object=`"), "{hint}");
        let hint = ambiguity_hint(&none, &[key("a", &[1]), key("a", &[2])]);
        assert!(hint.contains("`id=`") && !hint.contains("object"), "{hint}");
        let hint = ambiguity_hint(&none, &[key("a", &[1]), key("b", &[1])]);
        assert!(
            hint.contains("`object=`") && !hint.contains("`id=`"),
            "{hint}"
        );
        let labelled = Pkcs11Uri::parse("pkcs11:token=t;object=a").expect("uri");
        let hint = ambiguity_hint(&labelled, &[key("a", &[1]), key("a", &[2])]);
        assert!(hint.starts_with("add `id=`"), "{hint}");
        let hint = ambiguity_hint(&labelled, &[key("a", &[1]), key("a", &[1])]);
        assert!(hint.contains("same label and id"), "{hint}");
    }

    #[test]
    fn a_locked_pin_at_login_is_its_own_error() {
        let err = login_error(
            "tok",
            CkError::Pkcs11(RvError::PinLocked, cryptoki::context::Function::Login),
        );
        assert!(matches!(err, Pkcs11Error::PinLocked { .. }), "{err:?}");
        let err = login_error(
            "tok",
            CkError::Pkcs11(
                RvError::UserPinNotInitialized,
                cryptoki::context::Function::Login,
            ),
        );
        assert_eq!(
            err.to_string(),
            "PKCS#11 C_Login failed: CKR_USER_PIN_NOT_INITIALIZED"
        );
    }
}

//! SoftHSM2 tokens made at test time: each test gets its own configuration
//! file and token directory (a tempdir), tokens initialized and keys
//! generated through PKCS#11 itself.
//!
//! SoftHSM reads `SOFTHSM2_CONF` when it is initialized, and a process holds
//! one copy of the module, so in-process use is serialized: a test holds
//! [`SoftHsm::activate`]'s guard while it sets tokens up or opens keys in
//! this process, and drops the keys before the guard. Child processes get
//! `SOFTHSM2_CONF` in their own environment and need no guard.
//!
//! Shared by the tests of `model-signing-pkcs11` and `model-signing-cli`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use model_signing::keys::{KeyAlgorithm, PublicKey};

pub const SO_PIN: &str = "so-pin-8642";

/// Where Debian, Fedora and a source build install the module.
const MODULE_CANDIDATES: [&str; 4] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// The SoftHSM2 module. Fails the test (never skips it) when SoftHSM2 is
/// missing: `.ci/run` and `scripts/test` install it.
pub fn module_path() -> PathBuf {
    MODULE_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "SoftHSM2 is not installed (looked for {}); install it with \
                 `apt-get install softhsm2` (scripts/test does this)",
                MODULE_CANDIDATES.join(", ")
            )
        })
}

/// DER of the named-curve OID of each curve, for `CKA_EC_PARAMS`.
pub fn ec_params(alg: KeyAlgorithm) -> Vec<u8> {
    match alg {
        KeyAlgorithm::EcdsaP256Sha256 => {
            vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        }
        KeyAlgorithm::EcdsaP384Sha384 => vec![0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
        _ => vec![0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
    }
}

/// secp256k1: a curve the signature format does not allow.
pub const SECP256K1_PARAMS: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];

static IN_PROCESS: Mutex<()> = Mutex::new(());

/// A SoftHSM2 installation of its own: configuration and token directory.
pub struct SoftHsm {
    dir: tempfile::TempDir,
    conf: PathBuf,
}

/// Holds the process's SoftHSM for one test; see the module docs.
pub struct Active<'a> {
    _guard: MutexGuard<'static, ()>,
    hsm: &'a SoftHsm,
}

/// A key pair to generate.
#[derive(Clone, Debug)]
pub struct KeySpec {
    pub params: Vec<u8>,
    pub label: Option<String>,
    pub id: Vec<u8>,
    pub sign: bool,
    /// Keep the public key object (`false` deletes it after generation).
    pub public_object: bool,
}

impl KeySpec {
    pub fn new(alg: KeyAlgorithm, label: &str, id: &[u8]) -> Self {
        KeySpec {
            params: ec_params(alg),
            label: Some(label.to_owned()),
            id: id.to_vec(),
            sign: true,
            public_object: true,
        }
    }
}

impl SoftHsm {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token directory");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .expect("softhsm2.conf");
        SoftHsm { dir, conf }
    }

    /// The configuration file, for `SOFTHSM2_CONF`.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Makes this installation the process's SoftHSM until the guard drops.
    pub fn activate(&self) -> Active<'_> {
        let guard = IN_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
        // Serialized by IN_PROCESS; child processes get their own variable.
        std::env::set_var("SOFTHSM2_CONF", &self.conf);
        Active {
            _guard: guard,
            hsm: self,
        }
    }
}

impl Default for SoftHsm {
    fn default() -> Self {
        Self::new()
    }
}

impl Active<'_> {
    /// Runs `f` with the module initialized, and finalizes it after.
    pub fn with<R>(&self, f: impl FnOnce(&Pkcs11) -> R) -> R {
        let ctx = Pkcs11::new(module_path()).expect("load SoftHSM2");
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("C_Initialize");
        let result = f(&ctx);
        ctx.finalize().expect("C_Finalize");
        result
    }

    /// Initializes a new token with `label` and user PIN `pin`; returns its
    /// slot number.
    pub fn init_token(&self, label: &str, pin: &str) -> u64 {
        self.with(|ctx| {
            let free = ctx
                .get_all_slots()
                .expect("slots")
                .into_iter()
                .find(|s| {
                    ctx.get_token_info(*s)
                        .map(|i| !i.token_initialized())
                        .unwrap_or(false)
                })
                .expect("a free SoftHSM slot");
            ctx.init_token(free, &AuthPin::from(SO_PIN), label)
                .expect("C_InitToken");
            let slot = find_slot(ctx, label);
            let session = ctx.open_rw_session(slot).expect("session");
            session
                .login(UserType::So, Some(&AuthPin::from(SO_PIN)))
                .expect("SO login");
            session.init_pin(&AuthPin::from(pin)).expect("C_InitPIN");
        });
        // SoftHSM gives an initialized token a new slot number, derived
        // from its serial, from the next C_Initialize on.
        self.with(|ctx| find_slot(ctx, label).id())
    }

    /// Generates a key pair on token `label`; returns the public key.
    pub fn generate(&self, token: &str, pin: &str, spec: &KeySpec) -> Option<PublicKey> {
        self.with(|ctx| {
            let session = user_session(ctx, token, pin);
            let mut public = vec![
                Attribute::Token(true),
                Attribute::EcParams(spec.params.clone()),
                Attribute::Verify(true),
                Attribute::Id(spec.id.clone()),
            ];
            let mut private = vec![
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Sign(spec.sign),
                Attribute::Id(spec.id.clone()),
            ];
            if let Some(label) = &spec.label {
                public.push(Attribute::Label(label.as_bytes().to_vec()));
                private.push(Attribute::Label(label.as_bytes().to_vec()));
            }
            let (pub_handle, _) = session
                .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
                .expect("C_GenerateKeyPair");
            let point = ec_point(&session, pub_handle);
            if !spec.public_object {
                session.destroy_object(pub_handle).expect("C_DestroyObject");
            }
            let alg = [
                KeyAlgorithm::EcdsaP256Sha256,
                KeyAlgorithm::EcdsaP384Sha384,
                KeyAlgorithm::EcdsaP521Sha512,
            ]
            .into_iter()
            .find(|a| ec_params(*a) == spec.params)?;
            Some(PublicKey::from_sec1_point(alg, &point).expect("SEC1 point"))
        })
    }

    /// Generates an RSA key pair of `bits` bits and public exponent
    /// `exponent` (big-endian) on token `token`, labelled `label` with `id`;
    /// returns its public key when this library accepts it.
    pub fn generate_rsa(
        &self,
        token: &str,
        pin: &str,
        bits: u64,
        exponent: &[u8],
        label: &str,
        id: &[u8],
    ) -> Option<PublicKey> {
        self.with(|ctx| {
            let session = user_session(ctx, token, pin);
            let public = vec![
                Attribute::Token(true),
                Attribute::ModulusBits(bits.into()),
                Attribute::PublicExponent(exponent.to_vec()),
                Attribute::Verify(true),
                Attribute::Id(id.to_vec()),
                Attribute::Label(label.as_bytes().to_vec()),
            ];
            let private = vec![
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Sign(true),
                Attribute::Id(id.to_vec()),
                Attribute::Label(label.as_bytes().to_vec()),
            ];
            let (pub_handle, _) = session
                .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
                .expect("C_GenerateKeyPair (RSA)");
            let attrs = session
                .get_attributes(
                    pub_handle,
                    &[AttributeType::Modulus, AttributeType::PublicExponent],
                )
                .expect("RSA public key attributes");
            let (mut n, mut e) = (Vec::new(), Vec::new());
            for attr in attrs {
                match attr {
                    Attribute::Modulus(m) => n = m,
                    Attribute::PublicExponent(x) => e = x,
                    _ => {}
                }
            }
            PublicKey::from_rsa_components(&n, &e).ok()
        })
    }

    /// Generates an EC key pair of each supported curve, labelled
    /// `p256`, `p384`, `p521` with ids 01, 02, 03.
    pub fn generate_all_curves(&self, token: &str, pin: &str) -> Vec<(KeyAlgorithm, PublicKey)> {
        [
            (KeyAlgorithm::EcdsaP256Sha256, "p256", 1u8),
            (KeyAlgorithm::EcdsaP384Sha384, "p384", 2),
            (KeyAlgorithm::EcdsaP521Sha512, "p521", 3),
        ]
        .into_iter()
        .map(|(alg, label, id)| {
            let pk = self
                .generate(token, pin, &KeySpec::new(alg, label, &[id]))
                .expect("supported curve");
            (alg, pk)
        })
        .collect()
    }

    /// Imports a public key object (no private key) with `label` and `id`.
    pub fn import_public(&self, token: &str, pin: &str, key: &PublicKey, label: &str, id: &[u8]) {
        self.with(|ctx| {
            let session = user_session(ctx, token, pin);
            let point = key.sec1_point();
            let mut wrapped = vec![0x04];
            if point.len() >= 0x80 {
                wrapped.push(0x81);
            }
            wrapped.push(u8::try_from(point.len()).expect("short point"));
            wrapped.extend(&point);
            session
                .create_object(&[
                    Attribute::Class(ObjectClass::PUBLIC_KEY),
                    Attribute::KeyType(cryptoki::object::KeyType::EC),
                    Attribute::Token(true),
                    Attribute::EcParams(ec_params(key.algorithm())),
                    Attribute::EcPoint(wrapped),
                    Attribute::Label(label.as_bytes().to_vec()),
                    Attribute::Id(id.to_vec()),
                ])
                .expect("C_CreateObject");
        })
    }

    /// Whether the token reports `CKF_USER_PIN_COUNT_LOW`.
    pub fn pin_count_low(&self, token: &str) -> bool {
        self.with(|ctx| {
            let slot = find_slot(ctx, token);
            ctx.get_token_info(slot)
                .expect("token info")
                .user_pin_count_low()
        })
    }

    /// Marks the user PIN of every token of this installation as locked
    /// (`CKF_USER_PIN_LOCKED` in the token flags SoftHSM stores and reports
    /// through `C_GetTokenInfo`). SoftHSM2 2.6 counts wrong PINs
    /// (`CKF_USER_PIN_COUNT_LOW`) but never locks a token by itself.
    pub fn lock_user_pins(&self) {
        // CKA_VENDOR_DEFINED + 0x5348 + 3 (SoftHSM's token flags), as the
        // 8-byte big-endian attribute type of its file object store, then
        // the 8-byte value type (2: unsigned long) and the 8-byte value.
        const TOKEN_FLAGS: [u8; 16] = [0, 0, 0, 0, 0x80, 0, 0x53, 0x4b, 0, 0, 0, 0, 0, 0, 0, 2];
        const CKF_USER_PIN_LOCKED: u64 = 0x0004_0000;
        let tokens = self.hsm.dir.path().join("tokens");
        let mut patched = 0;
        for entry in std::fs::read_dir(tokens).expect("token directory") {
            let file = entry.expect("entry").path().join("token.object");
            let mut bytes = std::fs::read(&file).expect("token.object");
            let at = bytes
                .windows(TOKEN_FLAGS.len())
                .position(|w| w == TOKEN_FLAGS)
                .expect("token flags in token.object")
                + TOKEN_FLAGS.len();
            let value: [u8; 8] = bytes[at..at + 8].try_into().expect("8 bytes");
            let flags = u64::from_be_bytes(value) | CKF_USER_PIN_LOCKED;
            bytes[at..at + 8].copy_from_slice(&flags.to_be_bytes());
            std::fs::write(&file, bytes).expect("write token.object");
            patched += 1;
        }
        assert!(patched > 0, "no token to lock");
        self.with(|ctx| {
            for slot in ctx.get_slots_with_token().expect("slots") {
                let info = ctx.get_token_info(slot).expect("token info");
                if info.token_initialized() {
                    assert!(info.user_pin_locked(), "SoftHSM reports the lock");
                }
            }
        });
    }
}

fn find_slot(ctx: &Pkcs11, label: &str) -> Slot {
    ctx.get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .map(|i| i.label() == label)
                .unwrap_or(false)
        })
        .unwrap_or_else(|| panic!("no token labelled {label}"))
}

fn user_session(ctx: &Pkcs11, token: &str, pin: &str) -> Session {
    let session = ctx.open_rw_session(find_slot(ctx, token)).expect("session");
    session
        .login(UserType::User, Some(&AuthPin::from(pin)))
        .expect("user login");
    session
}

fn ec_point(session: &Session, handle: ObjectHandle) -> Vec<u8> {
    let attrs = session
        .get_attributes(handle, &[cryptoki::object::AttributeType::EcPoint])
        .expect("CKA_EC_POINT");
    let Some(Attribute::EcPoint(der)) = attrs.into_iter().next() else {
        panic!("no CKA_EC_POINT");
    };
    // DER OCTET STRING: tag, length (short or 0x81 form), point.
    match der.as_slice() {
        [0x04, 0x81, _, rest @ ..] => rest.to_vec(),
        [0x04, _, rest @ ..] => rest.to_vec(),
        _ => panic!("unexpected CKA_EC_POINT encoding"),
    }
}

//! Token keys against SoftHSM2: signing on every curve, PIN sources, the
//! key and token matching rules, keys that cannot be used, module lookup,
//! and that the PIN never shows in an error.
//!
//! Each test has its own SoftHSM configuration and token directory, with
//! tokens and keys made at test time (see `support/softhsm.rs`).

use testkit as support;

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};

use model_signing::keys::{KeyAlgorithm, SigningKey};
use model_signing::sign::{sign_manifest, KeySigner};
use model_signing_pkcs11::{
    Callbacks, NoCallbacks, OpenOptions, Pin, PinRequest, Pkcs11Error, Pkcs11Key, Pkcs11Uri,
};
use support::softhsm::{module_path, KeySpec, SoftHsm, SECP256K1_PARAMS};

const PIN: &str = "user-pin-1357";

fn uri(text: &str) -> Pkcs11Uri {
    Pkcs11Uri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// `pkcs11:PATH?pin-value=PIN&module-path=SOFTHSM`.
fn uri_with_pin(path: &str) -> Pkcs11Uri {
    uri(&format!(
        "pkcs11:{path}?pin-value={PIN}&module-path={}",
        module_path().display()
    ))
}

fn open(u: &Pkcs11Uri) -> Result<Pkcs11Key, Pkcs11Error> {
    Pkcs11Key::open(u, &OpenOptions::new(&NoCallbacks))
}

fn open_err(u: &Pkcs11Uri) -> Pkcs11Error {
    match open(u) {
        Ok(key) => panic!("{u} opened {key:?}"),
        Err(e) => e,
    }
}

/// Callbacks that hand out a PIN and record what they were asked.
struct Recorder {
    pin: Option<&'static str>,
    asked: RefCell<Vec<PinRequest>>,
}

impl Recorder {
    fn new(pin: Option<&'static str>) -> Self {
        Recorder {
            pin,
            asked: RefCell::new(Vec::new()),
        }
    }
}

impl Callbacks for Recorder {
    fn request_pin(&self, request: &PinRequest) -> io::Result<Option<Pin>> {
        self.asked.borrow_mut().push(request.clone());
        Ok(self.pin.map(|p| Pin::from(p.to_owned())))
    }
}

#[test]
fn signs_with_each_curve_and_the_signatures_verify() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    let keys = active.generate_all_curves("models", PIN);
    for (alg, public) in keys {
        let label = match alg {
            KeyAlgorithm::EcdsaP256Sha256 => "p256",
            KeyAlgorithm::EcdsaP384Sha384 => "p384",
            _ => "p521",
        };
        let key = open(&uri_with_pin(&format!("token=models;object={label}"))).expect("opens");
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key.public_key().expect("public key"), public);
        assert_eq!(key.key().label.as_deref(), Some(label));
        for message in [&b""[..], b"hello", &[0xa5; 10_000]] {
            let signature = key.sign(message).expect("signs");
            public.verify(message, &signature).expect("verifies");
            assert!(public.verify(b"other", &signature).is_err());
        }
        // Through the core signer: the bundle names the token's public key.
        let signer = KeySigner::new(Box::new(key)).expect("signer");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("w"), b"weights").expect("model");
        let manifest = model_signing::Manifest::hash(
            dir.path(),
            &model_signing::hashing::HashConfig::new(),
            &model_signing::hashing::NoProgress,
        )
        .expect("hash");
        let bundle = sign_manifest(&manifest, &signer).expect("bundle");
        assert!(bundle.to_json().contains(&public.hint()));
        // The bundle verifies in memory, without a JSON round trip.
        let verifier = model_signing::verify::KeyVerifier::new(public.clone());
        model_signing::verify::verify_bundle(&bundle, &verifier)
            .expect("the signature verifies")
            .check_model(
                dir.path(),
                &Default::default(),
                &model_signing::hashing::NoProgress,
            )
            .expect("the model matches");
    }
}

#[test]
fn the_key_is_found_by_id_alone_by_label_alone_or_as_the_only_key() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    let public = active
        .generate(
            "models",
            PIN,
            &KeySpec::new(KeyAlgorithm::EcdsaP256Sha256, "only", &[0xab, 0x01]),
        )
        .expect("key");
    for path in [
        "token=models;id=%ab%01",
        "token=models;object=only",
        "token=models",
        "token=models;type=private;object=only;id=%AB%01",
        "",
    ] {
        let key = open(&uri_with_pin(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(key.public(), &public, "{path}");
    }
}

#[test]
fn the_pin_comes_from_a_pin_source_file() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    active.generate_all_curves("models", PIN);
    let pin_file = hsm.dir().join("pin");
    std::fs::write(&pin_file, format!("{PIN}\n")).expect("pin file");
    let module = module_path();
    for source in [
        pin_file.display().to_string(),
        format!("file:{}", pin_file.display()),
        format!("file://{}", pin_file.display()),
    ] {
        let u = uri(&format!(
            "pkcs11:token=models;object=p384?pin-source={source}&module-path={}",
            module.display()
        ));
        open(&u).unwrap_or_else(|e| panic!("{source}: {e}"));
    }
    let missing = uri(&format!(
        "pkcs11:token=models;object=p384?pin-source={}/nope&module-path={}",
        hsm.dir().display(),
        module.display()
    ));
    let err = open_err(&missing);
    assert!(matches!(err, Pkcs11Error::PinSource { .. }), "{err:?}");
    assert!(!err.is_usage());
}

#[test]
fn the_pin_comes_from_the_callbacks_when_the_uri_has_none() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    active.generate_all_curves("models", PIN);
    let u = uri(&format!(
        "pkcs11:token=models;object=p256?module-path={}",
        module_path().display()
    ));

    let err = open_err(&u);
    assert!(matches!(err, Pkcs11Error::PinRequired { .. }), "{err:?}");
    assert!(err.is_usage());

    let callbacks = Recorder::new(Some(PIN));
    Pkcs11Key::open(&u, &OpenOptions::new(&callbacks)).expect("opens");
    let asked = callbacks.asked.borrow();
    assert_eq!(asked.len(), 1, "asked once");
    assert_eq!(asked[0].token_label, "models");
    assert!(!asked[0].count_low && !asked[0].final_try);

    struct Failing;
    impl Callbacks for Failing {
        fn request_pin(&self, _: &PinRequest) -> io::Result<Option<Pin>> {
            Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no tty"))
        }
    }
    let err = Pkcs11Key::open(&u, &OpenOptions::new(&Failing)).expect_err("fails");
    assert!(matches!(err, Pkcs11Error::PinCallback(_)), "{err:?}");

    // A PIN in the URI is used without asking.
    let callbacks = Recorder::new(None);
    Pkcs11Key::open(
        &uri_with_pin("token=models;object=p256"),
        &OpenOptions::new(&callbacks),
    )
    .expect("opens");
    assert!(callbacks.asked.borrow().is_empty());
}

#[test]
fn a_wrong_pin_is_refused_once_and_the_token_counts_it() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    active.generate_all_curves("models", PIN);
    let module = module_path();
    let wrong = uri(&format!(
        "pkcs11:token=models;object=p256?pin-value=wrong-pin-0000&module-path={}",
        module.display()
    ));
    let err = open_err(&wrong);
    assert!(matches!(err, Pkcs11Error::PinIncorrect { .. }), "{err:?}");
    assert!(!err.is_usage());
    assert_eq!(err.to_string(), "wrong PIN for token `models`");
    assert!(active.pin_count_low("models"), "one failed login recorded");

    // The next prompt says so.
    let callbacks = Recorder::new(Some("wrong-again"));
    let u = uri(&format!(
        "pkcs11:token=models;object=p256?module-path={}",
        module.display()
    ));
    let err = Pkcs11Key::open(&u, &OpenOptions::new(&callbacks)).expect_err("wrong PIN");
    assert!(matches!(err, Pkcs11Error::PinIncorrect { .. }), "{err:?}");
    assert_eq!(callbacks.asked.borrow().len(), 1, "no retry");
    assert!(callbacks.asked.borrow()[0].count_low);

    // The right PIN still works, and clears the count.
    open(&uri_with_pin("token=models;object=p256")).expect("opens");
    assert!(!active.pin_count_low("models"));
}

#[test]
fn a_locked_token_is_refused_before_any_login() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    active.generate_all_curves("models", PIN);
    active.lock_user_pins();
    let err = open_err(&uri_with_pin("token=models;object=p256"));
    assert!(matches!(err, Pkcs11Error::PinLocked { .. }), "{err:?}");
    assert!(!err.is_usage());
    assert!(err.to_string().contains("is locked"), "{err}");
    // No PIN was asked for.
    let callbacks = Recorder::new(Some(PIN));
    let u = uri(&format!(
        "pkcs11:token=models;object=p256?module-path={}",
        module_path().display()
    ));
    let err = Pkcs11Key::open(&u, &OpenOptions::new(&callbacks)).expect_err("locked");
    assert!(matches!(err, Pkcs11Error::PinLocked { .. }), "{err:?}");
    assert!(callbacks.asked.borrow().is_empty());
}

#[test]
fn no_matching_key_lists_the_keys_on_the_token() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    active.generate_all_curves("models", PIN);
    for path in [
        "token=models;object=p999",
        "token=models;id=%09",
        "token=models;object=p256;id=%02",
        "token=models;object=P256",
    ] {
        let err = open_err(&uri_with_pin(path));
        assert!(
            matches!(err, Pkcs11Error::NoMatchingKey { .. }),
            "{path}: {err:?}"
        );
        let msg = err.to_string();
        for listed in [
            "object=p256;id=%01",
            "object=p384;id=%02",
            "object=p521;id=%03",
        ] {
            assert!(msg.contains(listed), "{msg}");
        }
        assert!(!err.is_usage());
    }
}

#[test]
fn several_matching_keys_say_which_attribute_to_add() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    let spec = |label: &str, id: &[u8]| KeySpec::new(KeyAlgorithm::EcdsaP256Sha256, label, id);
    active.generate("models", PIN, &spec("release", &[1]));
    active.generate("models", PIN, &spec("release", &[2]));
    active.generate("models", PIN, &spec("nightly", &[3]));
    active.generate("models", PIN, &spec("twin", &[4]));
    active.generate("models", PIN, &spec("twin", &[4]));

    let err = open_err(&uri_with_pin("token=models;object=release"));
    let Pkcs11Error::AmbiguousKey {
        candidates, hint, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(candidates.len(), 2);
    assert!(hint.contains("`id=`"), "{hint}");
    let msg = err.to_string();
    assert!(msg.contains("object=release;id=%01"), "{msg}");
    assert!(msg.contains("object=release;id=%02"), "{msg}");
    assert!(err.is_usage());
    open(&uri_with_pin("token=models;object=release;id=%02")).expect("the id picks one");

    let err = open_err(&uri_with_pin("token=models"));
    assert!(matches!(&err, Pkcs11Error::AmbiguousKey { candidates, .. } if candidates.len() == 5));
    assert!(
        err.to_string().contains("add both `object=` and `id=`"),
        "{err}"
    );

    let err = open_err(&uri_with_pin("token=models;id=%04"));
    assert!(err.to_string().contains("same label and id"), "{err}");
}

#[test]
fn a_key_without_cka_sign_is_refused() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    let mut spec = KeySpec::new(KeyAlgorithm::EcdsaP256Sha256, "no-sign", &[7]);
    spec.sign = false;
    active.generate("models", PIN, &spec);
    let err = open_err(&uri_with_pin("token=models;object=no-sign"));
    assert!(matches!(err, Pkcs11Error::KeyCannotSign { .. }), "{err:?}");
    assert!(err.to_string().contains("CKA_SIGN"), "{err}");
}

#[test]
fn keys_on_other_curves_are_refused() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    let spec = KeySpec {
        params: SECP256K1_PARAMS.to_vec(),
        label: Some("k1".to_owned()),
        id: vec![9],
        sign: true,
        public_object: true,
    };
    active.generate("models", PIN, &spec);
    let err = open_err(&uri_with_pin("token=models;object=k1"));
    assert!(matches!(err, Pkcs11Error::UnsupportedKey { .. }), "{err:?}");
    assert!(err.to_string().contains("1.3.132.0.10"), "{err}");
}

#[test]
fn the_public_key_must_be_on_the_token_and_match_the_private_key() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    let mut spec = KeySpec::new(KeyAlgorithm::EcdsaP384Sha384, "lonely", &[5]);
    spec.public_object = false;
    active.generate("models", PIN, &spec);
    let err = open_err(&uri_with_pin("token=models;object=lonely"));
    assert!(matches!(err, Pkcs11Error::PublicKey { .. }), "{err:?}");

    // A public key object with the same id that belongs to another key.
    let other = active
        .generate(
            "models",
            PIN,
            &KeySpec::new(KeyAlgorithm::EcdsaP384Sha384, "other", &[6]),
        )
        .expect("key");
    active.import_public("models", PIN, &other, "lonely", &[5]);
    let err = open_err(&uri_with_pin("token=models;object=lonely"));
    assert!(
        matches!(err, Pkcs11Error::KeyPairMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn exactly_one_token_must_match() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    let slot_a = active.init_token("alpha", PIN);
    active.init_token("beta", PIN);
    active.generate_all_curves("alpha", PIN);
    active.generate_all_curves("beta", PIN);

    let err = open_err(&uri_with_pin("object=p256"));
    assert!(
        matches!(&err, Pkcs11Error::AmbiguousToken { candidates } if candidates.len() == 2),
        "{err:?}"
    );
    assert!(err.to_string().contains("token=alpha"), "{err}");
    assert!(err.is_usage());

    let err = open_err(&uri_with_pin("token=gamma;object=p256"));
    assert!(matches!(err, Pkcs11Error::NoToken { .. }), "{err:?}");
    assert!(err.to_string().contains("token=beta"), "{err}");

    let err = open_err(&uri_with_pin("slot-id=4242;object=p256"));
    assert!(matches!(err, Pkcs11Error::NoToken { .. }), "{err:?}");
    let err = open_err(&uri_with_pin(&format!(
        "slot-id={slot_a};token=beta;object=p256"
    )));
    assert!(matches!(err, Pkcs11Error::NoToken { .. }), "{err:?}");

    let key = open(&uri_with_pin(&format!("slot-id={slot_a};object=p256"))).expect("by slot");
    assert_eq!(key.token().label, "alpha");
    let serial = key.token().serial.clone();
    drop(key);
    let key = open(&uri_with_pin(&format!(
        "serial={serial};manufacturer=SoftHSM%20project;model=SoftHSM%20v2;object=p256"
    )))
    .expect("by serial");
    assert_eq!(key.token().label, "alpha");
    drop(key);
    let err = open_err(&uri_with_pin("token=alpha;model=HSM%209000;object=p256"));
    assert!(matches!(err, Pkcs11Error::NoToken { .. }), "{err:?}");
    let err = open_err(&uri_with_pin(
        "token=alpha;slot-manufacturer=Acme;object=p256",
    ));
    assert!(matches!(err, Pkcs11Error::NoToken { .. }), "{err:?}");
    open(&uri_with_pin(
        "token=alpha;slot-manufacturer=SoftHSM%20project;object=p256",
    ))
    .expect("by slot manufacturer");
}

#[test]
fn library_attributes_must_match_the_module() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    active.generate_all_curves("models", PIN);
    open(&uri_with_pin(
        "library-manufacturer=SoftHSM;token=models;object=p256",
    ))
    .expect("SoftHSM's manufacturer");
    for path in [
        "library-manufacturer=Acme;token=models;object=p256",
        "library-description=Acme%20HSM;token=models;object=p256",
        "library-version=99.1;token=models;object=p256",
    ] {
        let err = open_err(&uri_with_pin(path));
        assert!(
            matches!(err, Pkcs11Error::LibraryMismatch { .. }),
            "{path}: {err:?}"
        );
    }
}

#[test]
fn only_private_keys_can_be_selected() {
    for t in ["public", "cert", "secret-key", "data"] {
        let err = open_err(&uri_with_pin(&format!("token=models;type={t}")));
        assert!(
            matches!(err, Pkcs11Error::NotPrivateKeyType { .. }),
            "{err:?}"
        );
        assert!(err.is_usage());
    }
}

/// A directory holding a link to SoftHSM named `name`.
fn module_dir(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(module_path(), dir.path().join(name)).expect("symlink");
    dir
}

fn open_with(u: &Pkcs11Uri, options: OpenOptions<'_>) -> Result<Pkcs11Key, Pkcs11Error> {
    Pkcs11Key::open(u, &options)
}

#[test]
fn modules_load_from_absolute_paths_or_exact_names_only() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    active.generate_all_curves("models", PIN);
    let path = |q: &str| {
        uri(&format!(
            "pkcs11:token=models;object=p256?pin-value={PIN}&{q}"
        ))
    };
    let bare = uri(&format!("pkcs11:token=models;object=p256?pin-value={PIN}"));
    let cb = NoCallbacks;

    // The option's path, alone or equal to the URI's.
    open_with(&bare, OpenOptions::new(&cb).module_path(module_path())).expect("option path");
    open_with(
        &path(&format!("module-path={}", module_path().display())),
        OpenOptions::new(&cb).module_path(module_path()),
    )
    .expect("same path twice");

    // Exact names in the module directories.
    let dir = module_dir("libsofthsm2.so");
    let dirs = vec![PathBuf::from("/nonexistent"), dir.path().to_owned()];
    for name in ["softhsm2", "libsofthsm2", "libsofthsm2.so"] {
        open_with(
            &path(&format!("module-name={name}")),
            OpenOptions::new(&cb).module_directories(dirs.clone()),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // A directory as module-path, searched for module-name.
    open_with(
        &path(&format!(
            "module-path={}&module-name=softhsm2",
            dir.path().display()
        )),
        OpenOptions::new(&cb),
    )
    .expect("module-path directory");

    // Never a substring, never another case.
    for name in ["softhsm", "hsm2", "libsofthsm", "SoftHSM2", "softhsm2.s"] {
        let err = open_with(
            &path(&format!("module-name={name}")),
            OpenOptions::new(&cb).module_directories(dirs.clone()),
        )
        .expect_err(name);
        assert!(
            matches!(err, Pkcs11Error::ModuleNameNotFound { .. }),
            "{name}: {err:?}"
        );
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }
    // Not found in the standard directories either.
    let err = open_with(&path("module-name=softhsm"), OpenOptions::new(&cb)).expect_err("fails");
    assert!(
        matches!(err, Pkcs11Error::ModuleNameNotFound { .. }),
        "{err:?}"
    );
    // Relative directories are never searched.
    let err = open_with(
        &path("module-name=softhsm2"),
        OpenOptions::new(&cb).module_directories(vec![PathBuf::from(".")]),
    )
    .expect_err("relative directory");
    assert!(
        matches!(err, Pkcs11Error::ModuleNameNotFound { .. }),
        "{err:?}"
    );

    let cases: Vec<(Pkcs11Uri, OpenOptions<'_>, &str)> = vec![
        (bare.clone(), OpenOptions::new(&cb), "NoModule"),
        (
            bare.clone(),
            OpenOptions::new(&cb).module_path("libsofthsm2.so"),
            "RelativeModulePath",
        ),
        (
            bare.clone(),
            OpenOptions::new(&cb).module_path("./libsofthsm2.so"),
            "RelativeModulePath",
        ),
        (
            path(&format!("module-path={}", module_path().display())),
            OpenOptions::new(&cb).module_path("/usr/lib/other.so"),
            "ModuleConflict",
        ),
        (
            path("module-path=/nonexistent/libx.so"),
            OpenOptions::new(&cb),
            "ModuleNotFound",
        ),
        (
            path(&format!("module-path={}", dir.path().display())),
            OpenOptions::new(&cb),
            "ModuleNameMissing",
        ),
    ];
    for (u, options, expected) in cases {
        let err = open_with(&u, options).expect_err(expected);
        assert!(format!("{err:?}").starts_with(expected), "{u}: {err:?}");
        assert!(err.is_usage() || expected == "ModuleNotFound", "{err:?}");
    }
}

#[test]
fn a_file_that_is_not_a_pkcs11_module_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("not-a-module.so");
    std::fs::write(&text, "not a shared object").expect("write");
    let candidates = [text.clone(), libc_path()];
    for path in candidates.iter().filter(|p| p.is_file()) {
        let u = uri(&format!("pkcs11:token=t?module-path={}", path.display()));
        let err = open_err(&u);
        assert!(
            matches!(err, Pkcs11Error::ModuleLoad { .. }),
            "{}: {err:?}",
            path.display()
        );
    }
}

/// A real shared library without PKCS#11 entry points.
fn libc_path() -> PathBuf {
    [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib64/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .unwrap_or_else(|| PathBuf::from("/lib/libc.so.6"))
}

/// Formats an error as a person would see it: the message, every cause,
/// and the `Debug` form.
fn everything_shown(err: &Pkcs11Error) -> String {
    let mut out = format!("{err}\n{err:?}\n");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push_str(&format!("{s}\n{s:?}\n"));
        source = s.source();
    }
    out
}

#[test]
fn the_pin_never_shows_in_an_error() {
    const PLANTED: &str = "Planted-PIN-93572";
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PLANTED);
    active.generate_all_curves("models", PLANTED);
    let mut spec = KeySpec::new(KeyAlgorithm::EcdsaP256Sha256, "no-sign", &[7]);
    spec.sign = false;
    active.generate("models", PLANTED, &spec);
    active.generate(
        "models",
        PLANTED,
        &KeySpec::new(KeyAlgorithm::EcdsaP256Sha256, "p256", &[8]),
    );
    let module = module_path();
    let pin_file = hsm.dir().join("pin");
    std::fs::write(&pin_file, PLANTED).expect("pin file");
    let with_pin = |path: &str, extra: &str| {
        uri(&format!(
            "pkcs11:{path}?pin-value={PLANTED}&module-path={}{extra}",
            module.display()
        ))
    };
    let mut failures: Vec<(String, Pkcs11Error)> = Vec::new();
    let mut fail = |what: &str, result: Result<Pkcs11Key, Pkcs11Error>| match result {
        Ok(k) => panic!("{what} opened {k:?}"),
        Err(e) => failures.push((what.to_owned(), e)),
    };
    let cb = NoCallbacks;
    fail(
        "no such key",
        open(&with_pin("token=models;object=nope", "")),
    );
    fail("two keys", open(&with_pin("token=models;object=p256", "")));
    fail(
        "no sign",
        open(&with_pin("token=models;object=no-sign", "")),
    );
    fail("no token", open(&with_pin("token=nope", "")));
    fail("type", open(&with_pin("token=models;type=cert", "")));
    fail(
        "library",
        open(&with_pin("library-version=9;token=models", "")),
    );
    fail(
        "module name",
        open(&uri(&format!(
            "pkcs11:token=models?pin-value={PLANTED}&module-name=nope"
        ))),
    );
    fail(
        "conflict",
        open_with(
            &with_pin("token=models;object=p384", ""),
            OpenOptions::new(&cb).module_path("/usr/lib/other.so"),
        ),
    );
    fail(
        "wrong pin from file",
        open(&uri(&format!(
            "pkcs11:token=models;object=p384?pin-source={}X&module-path={}",
            pin_file.display(),
            module.display()
        ))),
    );
    fail(
        "wrong pin",
        open(&uri(&format!(
            "pkcs11:token=models;object=p384?pin-value={PLANTED}X&module-path={}",
            module.display()
        ))),
    );
    active.lock_user_pins();
    fail("locked", open(&with_pin("token=models;object=p384", "")));
    assert_eq!(failures.len(), 11);
    for (what, err) in &failures {
        let shown = everything_shown(err);
        assert!(!shown.contains(PLANTED), "{what}: the PIN shows in {shown}");
        assert!(
            !shown.contains("93572"),
            "{what}: part of the PIN shows in {shown}"
        );
    }
    // Nor in the URI's or the key's Debug output.
    let u = with_pin("token=models;object=p384", "");
    assert!(!format!("{u:?} {u}").contains(PLANTED));
}

#[test]
fn a_module_path_given_twice_must_agree_even_when_equal_by_link() {
    // The option and the URI are compared as given: a link to the same file
    // is still a conflict, so what is loaded is never ambiguous.
    let dir = module_dir("link.so");
    let link: &Path = &dir.path().join("link.so");
    let u = uri(&format!(
        "pkcs11:token=t?pin-value=x&module-path={}",
        module_path().display()
    ));
    let err =
        open_with(&u, OpenOptions::new(&NoCallbacks).module_path(link)).expect_err("conflict");
    assert!(matches!(err, Pkcs11Error::ModuleConflict { .. }), "{err:?}");
}

#[test]
fn signs_with_rsa_keys_as_pkcs1_v1_5_with_sha256() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    let dir = tempfile::tempdir().expect("tempdir");
    for (bits, alg, id) in [
        (2048u64, KeyAlgorithm::Rsa2048Pkcs1v15Sha256, 0x21u8),
        (3072, KeyAlgorithm::Rsa3072Pkcs1v15Sha256, 0x22),
        (4096, KeyAlgorithm::Rsa4096Pkcs1v15Sha256, 0x23),
    ] {
        let label = format!("rsa{bits}");
        let public = active
            .generate_rsa("models", PIN, bits, &[1, 0, 1], &label, &[id])
            .expect("a supported RSA key");
        let key = open(&uri_with_pin(&format!("token=models;object={label}"))).expect("opens");
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key.public_key().expect("public key"), public);
        let message = b"the DSSE pre-authentication encoding";
        let signature = key.sign(message).expect("signs");
        assert_eq!(signature.len(), usize::try_from(bits / 8).expect("size"));
        public.verify(message, &signature).expect("verifies");
        assert!(public.verify(b"other", &signature).is_err());
        // PKCS#1 v1.5 is deterministic, and OpenSSL, independently, agrees.
        assert_eq!(key.sign(message).expect("signs again"), signature);
        let (pem, sig, msg) = (
            dir.path().join(format!("{label}.pub")),
            dir.path().join(format!("{label}.sig")),
            dir.path().join(format!("{label}.msg")),
        );
        std::fs::write(&pem, public.to_pem()).expect("write");
        std::fs::write(&sig, &signature).expect("write");
        std::fs::write(&msg, message).expect("write");
        let out = testkit::go::openssl(
            dir.path(),
            &[
                "dgst",
                "-sha256",
                "-verify",
                pem.to_str().expect("utf-8"),
                "-signature",
                sig.to_str().expect("utf-8"),
                msg.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(String::from_utf8_lossy(&out).trim(), "Verified OK");
    }
}

#[test]
fn rsa_keys_of_other_sizes_or_exponents_are_refused() {
    let hsm = SoftHsm::new();
    let active = hsm.activate();
    active.init_token("models", PIN);
    for (bits, exponent, label, expected) in [
        (1024u64, &[1u8, 0, 1][..], "rsa1024", "RSA key of 1024 bits"),
        (2560, &[1, 0, 1][..], "rsa2560", "RSA key of 2560 bits"),
        (2048, &[3][..], "rsa-e3", "public exponent 3"),
    ] {
        assert!(
            active
                .generate_rsa("models", PIN, bits, exponent, label, label.as_bytes())
                .is_none(),
            "{label} was accepted"
        );
        let err = open_err(&uri_with_pin(&format!("token=models;object={label}")));
        assert!(matches!(err, Pkcs11Error::UnsupportedKey { .. }), "{err:?}");
        assert!(err.to_string().contains(expected), "{label}: {err}");
    }
}

//! Resource names: whatever `sign` accepts, `verify` accepts. A name is any
//! POSIX file name (a backslash, a colon, spaces, a leading dash, `...`,
//! non-ASCII text are ordinary characters), compared exactly and never
//! interpreted, as the reference implementation does.

use std::fs;
use std::path::Path;

use model_signing::bundle::Bundle;
use model_signing::hashing::{check_component, HashAlgorithm, HashConfig, Method, NoProgress};
use model_signing::keys::{EcPrivateKey, KeyAlgorithm};
use model_signing::sign::{sign_model, KeySigner};
use model_signing::statement::parse_resource_name;
use model_signing::verify::{verify_bundle, KeyVerifier, ModelCheckOptions, VerifyError};

/// Legal names that other tools (or an earlier verifier) have treated
/// specially.
const UNUSUAL: [&str; 16] = [
    "back\\slash.bin",
    "C:\\weights",
    "a:1:2",
    "shard:0:10",
    "with space.bin",
    " leading space",
    "-leading-dash",
    "...",
    "..a",
    ".hidden",
    "ünïcödé.safetensors",
    "日本語",
    "tab\there",
    "new\nline",
    "quote\"and'apostrophe",
    "percent%2Fslash",
];

fn model(dir: &Path) {
    for (i, name) in UNUSUAL.iter().enumerate() {
        fs::write(dir.join(name), format!("file {i}\n").repeat(i + 1)).expect("write");
    }
    let sub = dir.join("dir\\with:odd names");
    fs::create_dir(&sub).expect("mkdir");
    fs::write(sub.join("x\\y:1:2"), "nested\n").expect("write");
}

fn sign_then_verify(model_dir: &Path, config: &HashConfig) -> Result<usize, VerifyError> {
    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    let public = key.public_key().clone();
    let signer = KeySigner::new(Box::new(key)).expect("signer");
    let (bundle, manifest) =
        sign_model(model_dir, config, &signer, &NoProgress).expect("sign accepts every name");
    assert!(!manifest.resources.is_empty());
    // Through the file format, as `verify` reads it.
    let bundle = Bundle::from_json(bundle.to_json().as_bytes()).expect("bundle reads back");
    let verified = verify_bundle(&bundle, &KeyVerifier::new(public))?;
    let checked = verified.check_model(model_dir, &ModelCheckOptions::default(), &NoProgress)?;
    Ok(checked.resources_checked)
}

/// Regression: a model holding `back\slash.bin` was signed, then its own
/// signature was refused ("contains a backslash").
#[test]
fn a_backslash_in_a_file_name_signs_and_verifies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::write(tmp.path().join("back\\slash.bin"), "x").expect("write");
    assert_eq!(
        sign_then_verify(tmp.path(), &HashConfig::new()).expect("verifies"),
        1
    );
}

#[test]
fn unusual_legal_names_sign_and_verify_with_every_method() {
    let tmp = tempfile::tempdir().expect("tempdir");
    model(tmp.path());
    let configs = [
        HashConfig::new(),
        HashConfig::new().algorithm(HashAlgorithm::Blake3),
        HashConfig::new().shards(7).expect("shard size"),
    ];
    for config in &configs {
        let checked = sign_then_verify(tmp.path(), config).unwrap_or_else(|e| {
            panic!(
                "{} refused what it signed: {e:?}",
                config.get_method().name()
            )
        });
        assert!(checked > UNUSUAL.len(), "{checked} resources");
    }
}

#[test]
fn a_single_file_model_with_an_unusual_name_signs_and_verifies() {
    for name in UNUSUAL {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join(name);
        fs::write(&file, "single\n").expect("write");
        for config in [
            HashConfig::new(),
            HashConfig::new().shards(3).expect("size"),
        ] {
            assert!(
                sign_then_verify(&file, &config).is_ok(),
                "{name:?} {}",
                config.get_method().name()
            );
        }
    }
}

/// The verifier's name check is the signer's: every component the walk may
/// produce (anything but empty, `.`, `..`, or a `/` or NUL inside) is a
/// valid signed name alone, as a path, and inside a shard name.
#[test]
fn every_component_the_signer_accepts_parses_as_a_signed_name() {
    let mut components: Vec<String> = UNUSUAL.iter().map(|s| (*s).to_owned()).collect();
    // Every printable ASCII character and a few controls, alone and around
    // dots and colons.
    for b in (1u8..0x80).filter(|b| *b != b'/') {
        let c = char::from(b);
        components.extend([
            c.to_string(),
            format!("{c}{c}"),
            format!(".{c}"),
            format!("{c}:0:1"),
            format!("a{c}b"),
        ]);
    }
    let shards = Method::Shards {
        shard_size: std::num::NonZeroU64::new(10).expect("nonzero"),
    };
    let mut accepted = 0;
    for c in &components {
        if check_component(c).is_err() {
            assert!(matches!(c.as_str(), "." | ".."), "{c:?} refused");
            continue;
        }
        accepted += 1;
        for path in [c.clone(), format!("{c}/{c}"), format!("d/{c}")] {
            let key = parse_resource_name(&path, Method::Files).expect("valid name");
            assert_eq!(key.to_string(), path);
            let shard = format!("{path}:10:20");
            let key = parse_resource_name(&shard, shards).expect("valid shard name");
            assert_eq!(key.path(), path);
            assert_eq!(key.to_string(), shard);
        }
    }
    assert!(accepted > 600, "{accepted}");
}

#[test]
fn names_no_directory_entry_can_have_are_refused() {
    for bad in ["", ".", "..", "a/", "/a", "a//b", "a/./b", "a/../b", "a\0b"] {
        // (`statement::tests::paths_no_directory_entry_can_have_are_refused`
        // checks the path rule alone, `.` included.)
        // `.` alone names the file of a single-file model.
        if bad != "." {
            assert!(parse_resource_name(bad, Method::Files).is_err(), "{bad:?}");
        }
    }
    for bad in ["", ".", "..", "a/b", "a\0"] {
        assert!(check_component(bad).is_err(), "{bad:?}");
    }
}

//! The command line under hostile signatures: each input becomes the
//! signature file of a small model (whose file names hold terminal escape
//! sequences and a bidi override) signed once with the demo key
//! (`examples/keys`), and `model-signing verify key` and `inspect` run
//! in-process on it, plain and `--json`.
//!
//! What must hold: `verify` exits 0 only when the library verifies the same
//! bytes and they carry exactly the signed payload, and otherwise exits 1, 2
//! or 3; no output of either command holds a raw control byte (other than the
//! newlines that end lines), DEL, a C1 control or a bidi character.
//!
//! Input: the first byte picks the mode. Even: up to eight edits of four
//! bytes each (position as two big-endian bytes, value, operation: replace,
//! insert or delete) of the signed bundle. Odd: the rest of the input is the
//! whole signature file.

#![no_main]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use model_signing::bundle::Bundle;
use model_signing::hashing::{HashConfig, NoProgress};
use model_signing::keys::{EcPrivateKey, PublicKey};
use model_signing::sign::{sign_model, KeySigner};
use model_signing::text::is_unsafe_char;
use model_signing::verify::{verify_bundle, KeyVerifier};
use model_signing_cli::{run, Io};

const MAX_EDITS: usize = 8;

struct Fixture {
    _dir: tempfile::TempDir,
    model: PathBuf,
    public_key: PathBuf,
    signature: PathBuf,
    json: Vec<u8>,
    payload: Vec<u8>,
    verifier: KeyVerifier,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let model = dir.path().join("model");
        std::fs::create_dir_all(model.join("sub")).expect("mkdir");
        for (name, content) in [
            ("config.json", &b"{}\n"[..]),
            ("weights\u{1b}[2A\r\u{1b}[J.bin", b"weights"),
            ("sub/\u{202e}nib.exe", b"evil"),
        ] {
            std::fs::write(model.join(name), content).expect("write a model file");
        }
        let private = include_bytes!("../../examples/keys/demo-signing-key.pem");
        let public = include_str!("../../examples/keys/demo-signing-key.pub");
        let public_key = dir.path().join("key.pub");
        std::fs::write(&public_key, public).expect("write the public key");
        let key = EcPrivateKey::from_pem(private, None).expect("the demo key loads");
        let signer = KeySigner::new(Box::new(key)).expect("a signer");
        let (bundle, _) =
            sign_model(&model, &HashConfig::new(), &signer, &NoProgress).expect("signs");
        let json = bundle.to_json().into_bytes();
        let verifier = KeyVerifier::new(PublicKey::from_pem(public).expect("the demo key loads"));
        Fixture {
            signature: dir.path().join("model.sig"),
            _dir: dir,
            model,
            public_key,
            payload: bundle.envelope.payload.clone(),
            json,
            verifier,
        }
    })
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the CLI in-process; returns the exit code, stdout and stderr.
fn cli(args: &[&std::ffi::OsStr]) -> (u8, Vec<u8>, Vec<u8>) {
    let (out, err) = (Capture::default(), Capture::default());
    let mut argv = vec![std::ffi::OsStr::new("model-signing")];
    argv.extend_from_slice(args);
    let code = run(argv, Io::streams(Box::new(out.clone()), Box::new(err.clone())));
    let take = |c: Capture| std::mem::take(&mut *c.0.lock().expect("lock"));
    (code, take(out), take(err))
}

fn assert_safe(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{what}: output is not UTF-8 ({e}): {bytes:?}"));
    if let Some(c) = text.chars().find(|&c| c != '\n' && is_unsafe_char(c)) {
        panic!("{what}: raw {c:?} in the output:\n{text:?}");
    }
}

fn edited(original: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut json = original.to_vec();
    for edit in edits.chunks_exact(4).take(MAX_EDITS) {
        let position = usize::from(u16::from_be_bytes([edit[0], edit[1]]));
        match edit[3] % 3 {
            0 if !json.is_empty() => {
                let at = position % json.len();
                json[at] = edit[2];
            }
            1 => json.insert(position % (json.len() + 1), edit[2]),
            2 if !json.is_empty() => {
                json.remove(position % json.len());
            }
            _ => {}
        }
    }
    json
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode % 2 == 0 {
        edited(&f.json, rest)
    } else {
        rest.to_vec()
    };
    std::fs::write(&f.signature, &bytes).expect("write the signature");
    // What the library decides on the same bytes.
    let genuine = Bundle::from_json(&bytes).ok().is_some_and(|b| {
        verify_bundle(&b, &f.verifier).is_ok() && b.envelope.payload == f.payload
    });
    for json in [false, true] {
        let mut args = vec![
            "verify".as_ref(),
            "key".as_ref(),
            f.model.as_os_str(),
            "--signature".as_ref(),
            f.signature.as_os_str(),
            "--public-key".as_ref(),
            f.public_key.as_os_str(),
        ];
        if json {
            args.push("--json".as_ref());
        }
        let (code, out, err) = cli(&args);
        assert!(matches!(code, 0..=3), "exit {code}");
        if code == 0 {
            assert!(
                genuine,
                "verify exited 0 on a signature the library refuses or that carries another payload:\n{}",
                String::from_utf8_lossy(&bytes)
            );
        }
        assert_safe("verify stdout", &out);
        assert_safe("verify stderr", &err);

        let mut args = vec!["inspect".as_ref(), f.signature.as_os_str()];
        if json {
            args.push("--json".as_ref());
        }
        let (code, out, err) = cli(&args);
        assert!(matches!(code, 0..=3), "inspect exit {code}");
        assert_safe("inspect stdout", &out);
        assert_safe("inspect stderr", &err);
    }
});

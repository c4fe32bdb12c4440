//! Sign, then tamper: a few small manifests are signed once with the demo key
//! (`examples/keys`), then each input edits bytes of one signed bundle and
//! verifies it with the demo public key. The edited bundle must fail to parse
//! or to verify, or else mean exactly what was signed: the same payload, the
//! same verified manifest, the same signer.
//!
//! Input: the first byte picks the bundle; then up to four edits of four
//! bytes each: position (two bytes, big-endian, modulo the length), value,
//! and operation (replace, insert or delete, modulo 3).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use model_signing::bundle::Bundle;
use model_signing::hashing::{HashAlgorithm, HashConfig, ResourceDigest, ResourceKey};
use model_signing::keys::{DigestAlgorithm, EcPrivateKey, PublicKey};
use model_signing::sign::{sign_manifest, KeySigner};
use model_signing::statement::SignedManifest;
use model_signing::verify::{verify_bundle, KeyVerifier, Signer};
use model_signing::Manifest;

const MAX_EDITS: usize = 4;

struct Signed {
    json: Vec<u8>,
    payload: Vec<u8>,
    manifest: SignedManifest,
    signer: Signer,
}

struct Fixture {
    verifier: KeyVerifier,
    bundles: Vec<Signed>,
}

fn digest(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut block = DigestAlgorithm::Sha256.digest(seed.as_bytes());
    while out.len() < len {
        out.extend_from_slice(&block);
        block = DigestAlgorithm::Sha256.digest(&block);
    }
    out.truncate(len);
    out
}

fn resource(path: &[&str], range: Option<(u64, u64)>, len: usize) -> ResourceDigest {
    let key = ResourceKey::from_components(path, range).expect("valid test name");
    ResourceDigest {
        digest: digest(&key.to_string(), len),
        key,
    }
}

/// A directory of three files; a sharded file; a single file hashed with BLAKE2b.
fn manifests() -> Vec<Manifest> {
    let files = HashConfig::new();
    let shards = HashConfig::new().shards(16).expect("a valid shard size");
    let blake2b = HashConfig::new().algorithm(HashAlgorithm::Blake2b);
    vec![
        Manifest::from_digests(
            "tiny-model".into(),
            &files,
            vec![
                resource(&["config.json"], None, 32),
                resource(&["model.safetensors"], None, 32),
                resource(&["tokenizer", "vocab.txt"], None, 32),
            ],
        ),
        Manifest::from_digests(
            "sharded".into(),
            &shards,
            vec![
                resource(&["weights.bin"], Some((0, 16)), 32),
                resource(&["weights.bin"], Some((16, 32)), 32),
                resource(&["weights.bin"], Some((32, 40)), 32),
            ],
        ),
        Manifest::from_digests("model.bin".into(), &blake2b, vec![resource(&[], None, 64)]),
    ]
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let private = include_bytes!("../../examples/keys/demo-signing-key.pem");
        let public = include_str!("../../examples/keys/demo-signing-key.pub");
        let key = EcPrivateKey::from_pem(private, None).expect("the demo key loads");
        let signer = KeySigner::new(Box::new(key)).expect("a signer");
        let verifier = KeyVerifier::new(PublicKey::from_pem(public).expect("the demo key loads"));
        let bundles = manifests()
            .iter()
            .map(|manifest| {
                let bundle = sign_manifest(manifest, &signer).expect("signs");
                let json = bundle.to_json().into_bytes();
                let parsed = Bundle::from_json(&json).expect("the signed bundle parses");
                let verified =
                    verify_bundle(&parsed, &verifier).expect("the signed bundle verifies");
                assert_eq!(&verified.value().manifest, manifest);
                Signed {
                    json,
                    payload: parsed.envelope.payload.clone(),
                    manifest: verified.value().clone(),
                    signer: verified.check().signer.clone(),
                }
            })
            .collect();
        Fixture { verifier, bundles }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let Some((&pick, edits)) = data.split_first() else {
        return;
    };
    let original = &fixture.bundles[usize::from(pick) % fixture.bundles.len()];
    let mut json = original.json.clone();
    for edit in edits.chunks_exact(4).take(MAX_EDITS) {
        let position = usize::from(u16::from_be_bytes([edit[0], edit[1]]));
        let value = edit[2];
        match edit[3] % 3 {
            0 if !json.is_empty() => {
                let at = position % json.len();
                json[at] = value;
            }
            1 => {
                let at = position % (json.len() + 1);
                json.insert(at, value);
            }
            2 if !json.is_empty() => {
                json.remove(position % json.len());
            }
            _ => {}
        }
    }
    if json == original.json {
        return;
    }

    let Ok(bundle) = Bundle::from_json(&json) else {
        return;
    };
    let Ok(verified) = verify_bundle(&bundle, &fixture.verifier) else {
        return;
    };
    // It verified: it must say what was signed.
    let shown = String::from_utf8_lossy(&json);
    assert_eq!(
        bundle.envelope.payload, original.payload,
        "an edited payload verified:\n{shown}"
    );
    assert_eq!(
        verified.value(),
        &original.manifest,
        "an edited bundle verified with another manifest:\n{shown}"
    );
    assert_eq!(
        verified.check().signer,
        original.signer,
        "an edited bundle verified with another signer:\n{shown}"
    );
    assert!(!verified.check().legacy_pae);
});

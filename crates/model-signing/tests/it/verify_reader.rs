//! Verify while loading (`open_file` and `VerifyingReader`): every byte
//! handed out is hashed; the read that completes a file (or a shard) whose
//! digest differs fails instead of returning its bytes, and every later
//! read fails too; `finish` fails for a file not read to the end.

use testkit as support;

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::symlink;

use model_signing::hashing::{HashAlgorithm, HashConfig};
use model_signing::reader::{ReadError, VerifyingReader};
use model_signing::verify::{verify_bundle, KeyVerifier, ModelCheckOptions, VerifyError};
use model_signing::ErrorKind;
use support::{public, signed_model, write_files, SignedModel};

const SIZE: usize = 10_000;

fn weights() -> Vec<u8> {
    (0..SIZE).map(|i| (i * 7 % 251) as u8).collect()
}

fn signed(config: &HashConfig) -> SignedModel {
    signed_model(
        &[
            ("model.safetensors", &weights()),
            ("config.json", b"{}\n"),
            ("empty", b""),
        ],
        config,
    )
}

/// Verified reads of a signed model.
trait Reads {
    fn open(&self, name: &str) -> Result<VerifyingReader, VerifyError>;
    fn flip(&self, offset: usize);
}

impl Reads for SignedModel {
    fn open(&self, name: &str) -> Result<VerifyingReader, VerifyError> {
        verify_bundle(&self.bundle, &KeyVerifier::new(public(&self.key).clone()))
            .expect("the signature verifies")
            .open_file(&self.model, name, &ModelCheckOptions::default())
    }

    fn flip(&self, offset: usize) {
        let path = self.model.join("model.safetensors");
        let mut bytes = fs::read(&path).expect("read");
        bytes[offset] ^= 0x01;
        fs::write(&path, bytes).expect("write");
    }
}

fn shards() -> HashConfig {
    HashConfig::new().shards(1000).expect("shard size")
}

/// Reads in `chunk`-byte reads; the bytes read before the error, and it.
fn read_in(reader: &mut VerifyingReader, chunk: usize) -> (Vec<u8>, Option<io::Error>) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn read_error(e: &io::Error) -> &ReadError {
    assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<ReadError>())
        .unwrap_or_else(|| panic!("not a ReadError: {e:?}"))
}

#[test]
fn whole_files_read_and_verify_for_every_algorithm() {
    for algorithm in HashAlgorithm::ALL {
        let s = signed(&HashConfig::new().algorithm(algorithm));
        let mut reader = s.open("model.safetensors").expect("opens");
        assert_eq!(reader.size(), SIZE as u64);
        let (bytes, error) = read_in(&mut reader, 4096);
        assert!(error.is_none(), "{algorithm}: {error:?}");
        assert_eq!(bytes, weights());
        assert!(reader.is_verified());
        reader.finish().expect("verified");
    }
}

#[test]
fn shards_read_in_any_chunk_size() {
    let s = signed(&shards());
    for chunk in [1, 7, 999, 1000, 1001, 4096, 1 << 20] {
        let mut reader = s.open("model.safetensors").expect("opens");
        let (bytes, error) = read_in(&mut reader, chunk);
        assert!(error.is_none(), "{chunk}: {error:?}");
        assert_eq!(bytes, weights(), "{chunk}");
        reader.finish().expect("verified");
    }
}

#[test]
fn read_to_end_and_an_empty_file() {
    let s = signed(&HashConfig::new());
    let mut text = String::new();
    let mut reader = s.open("config.json").expect("opens");
    reader.read_to_string(&mut text).expect("reads");
    assert_eq!(text, "{}\n");
    reader.finish().expect("verified");
    let reader = s.open("empty").expect("opens");
    reader.finish().expect("an empty file verifies");
}

#[test]
fn a_flipped_byte_in_the_first_block_of_a_whole_file_fails_the_last_read() {
    let s = signed(&HashConfig::new());
    s.flip(0);
    let mut reader = s.open("model.safetensors").expect("opens");
    let (bytes, error) = read_in(&mut reader, 4096);
    let error = error.expect("the completing read fails");
    assert!(
        matches!(read_error(&error), ReadError::Mismatch { start: 0, end, .. } if *end == SIZE as u64)
    );
    // The completing read's bytes were withheld.
    assert_eq!(bytes.len(), 8192);
    // And every later read fails.
    let mut buf = [0u8; 16];
    assert!(reader.read(&mut buf).is_err());
    assert!(!reader.is_verified());
    assert_eq!(
        reader.finish().expect_err("failed").kind(),
        ErrorKind::Rejected
    );
}

#[test]
fn a_flipped_byte_in_the_first_shard_fails_the_first_read() {
    let s = signed(&shards());
    s.flip(0);
    let mut reader = s.open("model.safetensors").expect("opens");
    let (bytes, error) = read_in(&mut reader, 1000);
    assert!(bytes.is_empty());
    let error = error.expect("fails");
    assert!(matches!(
        read_error(&error),
        ReadError::Mismatch {
            start: 0,
            end: 1000,
            ..
        }
    ));
}

#[test]
fn a_flipped_byte_in_the_last_block_fails_at_the_end() {
    for config in [HashConfig::new(), shards()] {
        let s = signed(&config);
        s.flip(SIZE - 1);
        let mut reader = s.open("model.safetensors").expect("opens");
        let (bytes, error) = read_in(&mut reader, 1000);
        assert_eq!(
            bytes.len(),
            SIZE - 1000,
            "every read before the last succeeds"
        );
        let error = error.expect("the last read fails");
        assert!(
            matches!(read_error(&error), ReadError::Mismatch { end, .. } if *end == SIZE as u64)
        );
    }
}

#[test]
fn a_truncated_or_extended_file_fails() {
    // Whole files: the digest of what is there differs.
    for size in [SIZE - 1, SIZE + 1, 0] {
        let s = signed(&HashConfig::new());
        let mut bytes = weights();
        bytes.resize(size, 0);
        fs::write(s.model.join("model.safetensors"), bytes).expect("write");
        let mut reader = s.open("model.safetensors").expect("opens");
        let (_, error) = read_in(&mut reader, 4096);
        let error = error.unwrap_or_else(|| panic!("{size}: the last read fails"));
        assert!(
            matches!(read_error(&error), ReadError::Mismatch { .. }),
            "{size}"
        );
    }
    // Shards: the size is signed; the file is refused when opened.
    let s = signed(&shards());
    fs::write(s.model.join("model.safetensors"), &weights()[..SIZE - 1]).expect("write");
    match s.open("model.safetensors") {
        Err(
            e @ VerifyError::FileSize {
                expected, actual, ..
            },
        ) => {
            assert_eq!((expected, actual), (SIZE as u64, SIZE as u64 - 1));
            assert_eq!(e.kind(), ErrorKind::Rejected);
        }
        other => panic!("expected FileSize, got {other:?}"),
    }
}

/// A model whose one file is far larger than what the reader reads ahead.
fn big(config: &HashConfig) -> SignedModel {
    let bytes: Vec<u8> = (0..40u32 << 20).map(|i| (i % 253) as u8).collect();
    signed_model(&[("big.bin", &bytes)], config)
}

#[test]
fn a_file_that_shrinks_or_grows_while_read_fails() {
    // The reader reads a few MiB ahead: what it handed out was verified,
    // and a change further on is found when it gets there.
    let s = big(&HashConfig::new());
    let path = s.model.join("big.bin");
    let mut reader = s.open("big.bin").expect("opens");
    let mut buf = vec![0u8; 4096];
    assert_eq!(reader.read(&mut buf).expect("first read"), 4096);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open")
        .set_len(5000)
        .expect("shrink");
    let (_, error) = read_in(&mut reader, 1 << 20);
    assert!(matches!(
        read_error(&error.expect("fails")),
        ReadError::Size { .. }
    ));

    let s = big(&shards());
    let mut reader = s.open("big.bin").expect("opens");
    assert_eq!(reader.read(&mut buf).expect("first read"), 4096);
    OpenOptions::new()
        .append(true)
        .open(s.model.join("big.bin"))
        .expect("open")
        .write_all(b"more")
        .expect("append");
    let (bytes, error) = read_in(&mut reader, 1 << 20);
    assert_eq!(
        bytes.len() + 4096,
        40 << 20,
        "every signed byte is handed out"
    );
    // The read at the end finds the bytes that follow.
    let error = error.expect("fails");
    let grew = read_error(&error);
    assert!(
        matches!(grew, ReadError::Grew { name, size } if name == "big.bin" && *size == 40 << 20),
        "{grew:?}"
    );
    assert_eq!(
        grew.to_string(),
        "big.bin grew past the 41943040 bytes it had when it was opened (and that the signature lists)"
    );
    assert!(matches!(reader.finish(), Err(ReadError::Grew { .. })));
}

#[test]
fn a_reader_dropped_early_stops_its_read_ahead() {
    let s = big(&HashConfig::new());
    for _ in 0..50 {
        let mut reader = s.open("big.bin").expect("opens");
        let mut buf = [0u8; 16];
        reader.read_exact(&mut buf).expect("reads");
        drop(reader);
    }
    // Each dropped reader's thread ended (else 50 of them would hold
    // 50 x 12 MiB and their files open); a last one reads it all.
    let mut reader = s.open("big.bin").expect("opens");
    let (bytes, error) = read_in(&mut reader, 1 << 20);
    assert!(error.is_none() && bytes.len() == 40 << 20);
    reader.finish().expect("verified");
}

#[test]
fn a_file_not_read_to_the_end_fails_unless_allowed() {
    let s = signed(&HashConfig::new());
    let mut reader = s.open("model.safetensors").expect("opens");
    let mut header = [0u8; 8];
    reader.read_exact(&mut header).expect("reads");
    let error = reader.finish().expect_err("not read to the end");
    assert!(
        matches!(error, ReadError::NotReadToEnd { position: 8, .. }),
        "{error}"
    );
    assert_eq!(error.kind(), ErrorKind::Usage);

    let mut reader = s.open("model.safetensors").expect("opens");
    reader.read_exact(&mut header).expect("reads");
    reader.allow_unread_rest();
    assert!(!reader.is_verified());
    reader.finish().expect("allowed");
}

#[test]
fn names_the_signature_does_not_list_are_refused() {
    let s = signed(&HashConfig::new());
    write_files(&s.model, &[("unsigned.bin", b"x")]);
    for name in ["unsigned.bin", "no-such", "", "."] {
        match s.open(name) {
            Err(VerifyError::NotSigned { .. }) => {}
            other => panic!("{name:?}: expected NotSigned, got {other:?}"),
        }
    }
}

#[test]
fn a_missing_file_is_a_mismatch() {
    let s = signed(&HashConfig::new());
    fs::remove_file(s.model.join("config.json")).expect("remove");
    match s.open("config.json") {
        Err(VerifyError::ModelMismatch(report)) => assert_eq!(report.missing, ["config.json"]),
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn a_file_replaced_by_a_link_is_refused() {
    let s = signed(&HashConfig::new());
    let outside = s.model.parent().expect("parent").join("outside");
    fs::write(&outside, b"{}\n").expect("write");
    fs::remove_file(s.model.join("config.json")).expect("remove");
    symlink(&outside, s.model.join("config.json")).expect("symlink");
    assert!(matches!(s.open("config.json"), Err(VerifyError::Hash(_))));
}

#[test]
fn a_single_file_model_is_refused() {
    let s = signed(&HashConfig::new());
    let verified =
        verify_bundle(&s.bundle, &KeyVerifier::new(public(&s.key).clone())).expect("verifies");
    let err = verified
        .open_file(
            &s.model.join("config.json"),
            "config.json",
            &ModelCheckOptions::default(),
        )
        .expect_err("a file is not a model directory");
    assert!(matches!(err, VerifyError::PartialSingleFile));
}

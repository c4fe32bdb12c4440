//! The PKCS#11 crate's resource bound: a `pin-source` file is read up to
//! `MAX_PIN_FILE_BYTES`, so a device or a huge file named by mistake is
//! refused instead of read into memory.

use std::io::ErrorKind;

use model_signing_pkcs11::{Pin, MAX_PIN_FILE_BYTES};

#[test]
fn pin_file_at_the_limit_is_read_one_byte_more_is_refused() {
    assert_eq!(MAX_PIN_FILE_BYTES, 4096);
    let dir = tempfile::tempdir().expect("tempdir");
    let limit = usize::try_from(MAX_PIN_FILE_BYTES).expect("usize");
    let path = dir.path().join("pin");

    std::fs::write(&path, vec![b'7'; limit]).expect("write");
    assert_eq!(
        Pin::read_file(&path).expect("at the limit").expose().len(),
        limit
    );

    std::fs::write(&path, vec![b'7'; limit + 1]).expect("write");
    let e = Pin::read_file(&path).expect_err("over the limit");
    assert_eq!(e.kind(), ErrorKind::InvalidData);
    assert!(e.to_string().contains("at most 4096 bytes"), "{e}");
    assert!(!e.to_string().contains("7777"), "{e}");
}

#[test]
fn a_huge_sparse_pin_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pin");
    std::fs::File::create(&path)
        .expect("create")
        .set_len(1 << 40)
        .expect("set_len");
    let e = Pin::read_file(&path).expect_err("over the limit");
    assert_eq!(e.kind(), ErrorKind::InvalidData);
}

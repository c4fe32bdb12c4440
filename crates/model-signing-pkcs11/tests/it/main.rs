//! The integration tests of `model-signing-pkcs11`, in one binary:
//! `cargo test -p model-signing-pkcs11 --test it`.
//! Each module is one area; shared helpers come from the `testkit` crate.

mod caps;
mod softhsm;
mod uri;

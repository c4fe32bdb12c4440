//! The integration tests of `model-signing-conformance`, in one binary:
//! `cargo test -p model-signing-conformance --test it`.
//! Each module is one area; shared helpers come from the `testkit` crate.

mod conformance;
mod sign_bundle;

//! The integration tests of `sigstore-standin-harness`, in one binary:
//! `cargo test -p sigstore-standin-harness --test it`.
//! Each module is one area; shared helpers come from the `testkit` crate.

mod reference;
mod standin;

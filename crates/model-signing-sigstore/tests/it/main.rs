//! The integration tests of `model-signing-sigstore`, in one binary:
//! `cargo test -p model-signing-sigstore --test it`.
//! Each module is one area; shared helpers come from the `testkit` crate.

mod caps;
mod golden;
mod golden_placement;
mod oauth;
mod offline_deps;
mod sign_standin;

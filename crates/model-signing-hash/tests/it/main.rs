//! The integration tests of `model-signing-hash`, in one binary:
//! `cargo test -p model-signing-hash --test it`.
//! Each module is one area; shared helpers come from the `testkit` crate.

mod support;

mod caps;
mod faults;
mod golden;
mod hf_snapshot;
mod ignores;
mod incremental;
mod refusals;
mod threads;
mod unsigned;

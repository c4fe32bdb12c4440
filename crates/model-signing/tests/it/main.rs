//! The integration tests of `model-signing`, in one binary:
//! `cargo test -p model-signing --test it`.
//! Each module is one area; shared helpers come from the `testkit` crate.

mod keys_support;
mod x509_support;

mod caps;
mod compat_golden;
mod keys;
mod keys_interop;
mod keys_openssl;
mod keys_rsa_ed25519;
mod keys_wycheproof;
mod names;
mod sign_refusals;
mod sign_verify_interop;
mod skip_policy;
mod timestamps;
mod verify_matrix;
mod verify_partial;
mod verify_reader;
mod verify_rules;
mod x509_chain;
mod x509_parse;

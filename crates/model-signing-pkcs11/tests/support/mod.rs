//! Test helpers.

pub mod softhsm;

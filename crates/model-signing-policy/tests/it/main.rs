//! Integration tests of model-signing-policy.

mod cases;
mod parse;

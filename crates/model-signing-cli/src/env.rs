//! Every environment variable the tool reads, in one place.

/// Password of an encrypted private key.
pub const PASSWORD: &str = "MODEL_SIGNING_PASSWORD";
/// Disables colour when set to a non-empty value.
#[allow(dead_code)]
pub const NO_COLOR: &str = "NO_COLOR";

/// The variables and what they do, for documentation and `--help`.
#[allow(dead_code)]
pub const ALL: [(&str, &str); 2] = [
    (
        PASSWORD,
        "password of an encrypted private key (sign key / sign certificate)",
    ),
    (NO_COLOR, "disable coloured output"),
];

//! Every environment variable the tool reads, in one place.

/// Password of an encrypted private key.
pub const PASSWORD: &str = "MODEL_SIGNING_PASSWORD";
/// User PIN of a PKCS#11 token, when the URI gives none.
pub const PKCS11_PIN: &str = "MODEL_SIGNING_PKCS11_PIN";
/// Disables colour when set to a non-empty value.
#[allow(dead_code)]
pub const NO_COLOR: &str = "NO_COLOR";

/// The variables and what they do, for documentation and `--help`.
#[allow(dead_code)]
pub const ALL: [(&str, &str); 3] = [
    (
        PASSWORD,
        "password of an encrypted private key (sign key / sign certificate)",
    ),
    (NO_COLOR, "disable coloured output"),
    (
        PKCS11_PIN,
        "user PIN of a PKCS#11 token when the URI has no pin-value or pin-source (sign pkcs11-key / pkcs11-certificate)",
    ),
];

//! Errors of loading keys, signing and verifying signatures.

/// What went wrong with a key or a signature.
///
/// No variant carries key material, passwords or decrypted data, so neither
/// `Display` nor `Debug` of an error can leak a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key is not ECDSA on P-256, P-384 or P-521.
    #[error(
        "unsupported key type: {found}; keys are ECDSA on the NIST curves P-256, P-384 and P-521, RSA of 2048, 3072 or 4096 bits with the exponent 65537, and Ed25519"
    )]
    UnsupportedKeyType {
        /// What the key is: `RSA`, `Ed25519`, `secp256k1`, `EC curve secp224r1 (1.3.132.0.33)`...
        found: String,
    },

    /// The private key is encrypted with a scheme that is not supported
    /// (PBES1, PKCS#12 password-based encryption, DES...).
    #[error(
        "the private key is encrypted with an unsupported scheme ({scheme}); re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem`"
    )]
    UnsupportedEncryption {
        /// The encryption scheme found.
        scheme: String,
    },

    /// The private key is encrypted and no password was given.
    #[error("the private key is encrypted: a password is required")]
    PasswordRequired,

    /// A password was given for a private key that is not encrypted.
    #[error("a password was given, but the private key is not encrypted")]
    UnexpectedPassword,

    /// The password does not decrypt the private key.
    #[error("wrong password: the encrypted private key could not be decrypted with it")]
    WrongPassword,

    /// The private key is encrypted in OpenSSL's legacy PEM format
    /// (`Proc-Type: 4,ENCRYPTED`), which is not supported.
    #[error(
        "the private key is encrypted in the legacy OpenSSL PEM format (`Proc-Type: 4,ENCRYPTED`), which is not supported; convert it to encrypted PKCS#8 with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem`"
    )]
    LegacyEncryptedPem,

    /// The text holds no PEM block at all.
    #[error("no PEM block found: expected {expected}")]
    NoPemBlock {
        /// What was looked for.
        expected: &'static str,
    },

    /// The text holds PEM blocks, but none of the kind expected.
    #[error("found a `{found}` PEM block, expected {expected}{hint}", hint = wrong_label_hint(.found, .expected))]
    WrongPemLabel {
        /// The label of the (first) block found.
        found: String,
        /// What was looked for.
        expected: &'static str,
    },

    /// The key (or its PEM wrapping) is not well-formed.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read: `PEM block`, `public key`, `private key`...
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },

    /// The signature is well-formed but does not match the message and key.
    #[error("the signature does not verify with this key")]
    SignatureInvalid,

    /// The signature is not a well-formed DER-encoded ECDSA signature for
    /// this curve (bad encoding, trailing bytes, r or s zero or out of range).
    /// It does not verify either.
    #[error("malformed ECDSA signature: {detail}")]
    MalformedSignature {
        /// What is wrong with it.
        detail: String,
    },

    /// Signing failed.
    #[error("signing failed: {detail}")]
    SigningFailed {
        /// Why.
        detail: String,
    },

    /// Encrypting a private key for export failed.
    #[error("encrypting the private key failed: {detail}")]
    EncryptionFailed {
        /// Why.
        detail: String,
    },
}

impl KeyError {
    /// Whether this error means that a signature did not verify
    /// ([`KeyError::SignatureInvalid`] or [`KeyError::MalformedSignature`]),
    /// as opposed to a problem with the key.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            KeyError::SignatureInvalid | KeyError::MalformedSignature { .. }
        )
    }

    pub(crate) fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Self {
        KeyError::Malformed {
            what,
            detail: detail.to_string(),
        }
    }
}

/// A hint for a PEM block of the wrong kind: what the file seems to be, and
/// what to pass instead.
fn wrong_label_hint(found: &str, expected: &str) -> &'static str {
    let want_public = expected.contains("PUBLIC KEY");
    match found {
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" if want_public => {
            "; this is a certificate: verify with the certificate method, or extract its public key with `openssl x509 -pubkey -noout -in CERT.pem > KEY.pub`"
        }
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
            "; this is a certificate, not a private key: pass the private key it was issued for"
        }
        "PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" if want_public => {
            "; this is a private key: pass its public key, made with `openssl pkey -pubout -in KEY.pem -out KEY.pub`"
        }
        "PUBLIC KEY" => "; this is a public key: signing needs the private key",
        "OPENSSH PRIVATE KEY" => {
            "; this is an OpenSSH key: convert an ECDSA one to PKCS#8 with `ssh-keygen -p -m PKCS8 -f KEY`"
        }
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
            "; this is a certificate signing request, not a key"
        }
        _ => "",
    }
}

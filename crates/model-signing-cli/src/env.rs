//! Every environment variable the tool reads, in one place.

/// Password of an encrypted private key.
pub const PASSWORD: &str = "MODEL_SIGNING_PASSWORD";
/// User PIN of a PKCS#11 token, when the URI gives none.
pub const PKCS11_PIN: &str = "MODEL_SIGNING_PKCS11_PIN";
/// The Hugging Face hub cache (`hf://` models), as the hub client reads it.
pub const HF_HUB_CACHE: &str = "HF_HUB_CACHE";
/// The older name of `HF_HUB_CACHE`, used when that is not set.
pub const HUGGINGFACE_HUB_CACHE: &str = "HUGGINGFACE_HUB_CACHE";
/// The Hugging Face home; the hub cache is `$HF_HOME/hub`.
pub const HF_HOME: &str = "HF_HOME";
/// The user's cache; the hub cache is `$XDG_CACHE_HOME/huggingface/hub`,
/// and `sign --incremental` state records are in
/// `$XDG_CACHE_HOME/model-signing/incremental` (read by
/// `model_signing_hash::Incremental::in_cache_dir`).
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// The home directory; the hub cache is `~/.cache/huggingface/hub` by default.
pub const HOME: &str = "HOME";
/// Disables colour when set to a non-empty value.
#[allow(dead_code)]
pub const NO_COLOR: &str = "NO_COLOR";

/// The variables and what they do, for documentation and `--help`.
#[allow(dead_code)]
pub const ALL: [(&str, &str); 8] = [
    (
        PASSWORD,
        "password of an encrypted private key (sign key / sign certificate)",
    ),
    (NO_COLOR, "disable coloured output"),
    (
        HF_HUB_CACHE,
        "the Hugging Face cache in which hf://ORG/NAME models are found",
    ),
    (HUGGINGFACE_HUB_CACHE, "older name of HF_HUB_CACHE"),
    (
        HF_HOME,
        "Hugging Face home; the cache is $HF_HOME/hub when HF_HUB_CACHE is not set",
    ),
    (
        XDG_CACHE_HOME,
        "the cache is $XDG_CACHE_HOME/huggingface/hub when neither of the above is set; sign --incremental keeps its state records in $XDG_CACHE_HOME/model-signing/incremental",
    ),
    (
        HOME,
        "the cache is ~/.cache/huggingface/hub when none of the above is set; sign --incremental state records are in ~/.cache/model-signing/incremental when XDG_CACHE_HOME is not set",
    ),
    (
        PKCS11_PIN,
        "user PIN of a PKCS#11 token when the URI has no pin-value or pin-source (sign pkcs11-key / pkcs11-certificate)",
    ),
];

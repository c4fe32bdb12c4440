//! Bounds on everything read from a signature, and on what signing writes
//! into one, so that a hostile or broken signature costs a bounded amount of
//! memory and time. `docs/security.md` lists every bound with its value.
//!
//! Each bound is a constant, the default of a field of [`Limits`]; the
//! `*_with_limits` functions take other values (tests use small ones).
//! Signing refuses to write a signature that verifying would refuse.

/// Largest signature file (Sigstore bundle) read: 1 GiB. A model of
/// 2,000,000 files with ImageNet-like names signs to 504 MB (252 bytes per
/// file); this is twice that. Reading a bundle and checking its signature
/// costs at most twice its size plus 64 MiB (`scripts/bench-bundle-memory`).
pub const MAX_BUNDLE_BYTES: usize = 1 << 30;

/// Longest base64 text of one certificate in a bundle: 256 KiB (a DER
/// certificate of 192 KiB). A Fulcio certificate is about 1 KiB; public
/// certificates with hundreds of names stay under 30 KiB.
pub const MAX_CERTIFICATE_BYTES: usize = 256 << 10;

/// Longest string of a bundle other than the payload and the certificates:
/// 64 KiB. The largest, a Rekor entry body (a signature and a certificate)
/// or an RFC 3161 timestamp with its certificates, are a few KiB. With the
/// counts below, everything in a bundle but the payload stays under 12 MiB.
pub const MAX_FIELD_BYTES: usize = 64 << 10;

/// Most hashes in a transparency log inclusion proof: one per level of a
/// Merkle tree of up to 2^64 entries.
pub const MAX_PROOF_HASHES: usize = 64;

/// Most certificates in a bundle's `x509CertificateChain` (the signing
/// certificate and the chain above it). Real chains have two to four.
pub const MAX_CHAIN_CERTIFICATES: usize = 32;

/// Most transparency log entries in a bundle (Sigstore verification then
/// requires exactly one, or none for an instance without a log).
pub const MAX_TLOG_ENTRIES: usize = 8;

/// Most RFC 3161 timestamps in a bundle (clients attach one per timestamp
/// authority; each one is verified, so the count bounds the work).
pub const MAX_TIMESTAMPS: usize = 8;

/// Most resources (files or shards) a signed manifest may list: the same
/// bound as hashing ([`model_signing_hash::MAX_RESOURCES`]), so that nothing
/// this library signs is refused when verified.
pub const MAX_RESOURCES: usize = model_signing_hash::MAX_RESOURCES;

/// Most `ignore_paths` a signed manifest may list. Every file of the model
/// is checked against each of them when it is walked.
pub const MAX_IGNORE_PATHS: usize = 10_000;

pub use crate::json::MAX_DEPTH as MAX_JSON_DEPTH;

/// Reads `reader` to its end, but never more than one byte past `limit`:
/// `Ok(None)` when it holds more than `limit` bytes. The bound applies to the
/// read itself, since a FIFO or a device reports no size and a file may grow
/// after its size was read. Room for `expected` bytes (at most `limit + 1`)
/// is reserved up front, so a file of the size it reported is read without
/// reallocating, which would leave an unwiped copy of a secret behind; the
/// buffer is wiped when dropped.
pub fn read_bounded(
    reader: impl std::io::Read,
    limit: u64,
    expected: u64,
) -> std::io::Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    let cap = expected.min(limit).saturating_add(1);
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(usize::try_from(cap).unwrap_or(0)));
    std::io::Read::read_to_end(
        &mut std::io::Read::take(reader, limit.saturating_add(1)),
        &mut bytes,
    )?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}
pub use crate::statement::MAX_PAYLOAD_BYTES;

/// The bounds in force; [`Limits::default`] holds the constants of this
/// module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bundle, in bytes ([`MAX_BUNDLE_BYTES`]).
    pub bundle_bytes: usize,
    /// Largest signed payload, in bytes ([`MAX_PAYLOAD_BYTES`]).
    pub payload_bytes: usize,
    /// Most certificates in `x509CertificateChain` ([`MAX_CHAIN_CERTIFICATES`]).
    pub chain_certificates: usize,
    /// Most transparency log entries ([`MAX_TLOG_ENTRIES`]).
    pub tlog_entries: usize,
    /// Most RFC 3161 timestamps ([`MAX_TIMESTAMPS`]).
    pub timestamps: usize,
    /// Most resources in a manifest ([`MAX_RESOURCES`]).
    pub resources: usize,
    /// Most ignore paths in a manifest ([`MAX_IGNORE_PATHS`]).
    pub ignore_paths: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bundle_bytes: MAX_BUNDLE_BYTES,
            payload_bytes: MAX_PAYLOAD_BYTES,
            chain_certificates: MAX_CHAIN_CERTIFICATES,
            tlog_entries: MAX_TLOG_ENTRIES,
            timestamps: MAX_TIMESTAMPS,
            resources: MAX_RESOURCES,
            ignore_paths: MAX_IGNORE_PATHS,
        }
    }
}

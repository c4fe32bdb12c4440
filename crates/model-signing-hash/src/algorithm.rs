use std::fmt;
use std::str::FromStr;

use blake2::Blake2b512;
use sha2::{Digest as _, Sha256};

use crate::error::ConfigError;

/// The content hash applied to each file or shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashAlgorithm {
    /// SHA-256 (the default). Uses the CPU's SHA extensions when present.
    #[default]
    Sha256,
    /// Unkeyed BLAKE2b with a 64-byte digest.
    Blake2b,
    /// BLAKE3 with a 32-byte digest, multithreaded for large inputs.
    Blake3,
}

impl HashAlgorithm {
    /// The name used in signatures (`hash_type` and resource `algorithm`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Blake2b => "blake2b",
            HashAlgorithm::Blake3 => "blake3",
        }
    }

    /// Length of a digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 | HashAlgorithm::Blake3 => 32,
            HashAlgorithm::Blake2b => 64,
        }
    }

    /// All supported algorithms.
    pub const ALL: [HashAlgorithm; 3] = [
        HashAlgorithm::Sha256,
        HashAlgorithm::Blake2b,
        HashAlgorithm::Blake3,
    ];

    /// Hashes `data` in one call.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = Hasher::new(self);
        h.update(data);
        h.finalize()
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlgorithm {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha256" => Ok(HashAlgorithm::Sha256),
            "blake2b" => Ok(HashAlgorithm::Blake2b),
            "blake3" => Ok(HashAlgorithm::Blake3),
            other => Err(ConfigError::UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// A streaming hasher for one of the supported algorithms. Single-threaded:
/// the engine gets its parallelism from hashing several files, shards or
/// BLAKE3 subtrees at once.
#[derive(Clone)]
pub struct Hasher(Inner);

#[derive(Clone)]
enum Inner {
    Sha256(Sha256),
    Blake2b(Box<Blake2b512>),
    Blake3(Box<blake3::Hasher>),
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            Inner::Sha256(_) => "sha256",
            Inner::Blake2b(_) => "blake2b",
            Inner::Blake3(_) => "blake3",
        };
        f.debug_tuple("Hasher").field(&name).finish()
    }
}

impl Hasher {
    /// A hasher of `algorithm`, with no input yet.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        match algorithm {
            HashAlgorithm::Sha256 => Hasher(Inner::Sha256(Sha256::new())),
            HashAlgorithm::Blake2b => Hasher(Inner::Blake2b(Box::default())),
            HashAlgorithm::Blake3 => Hasher(Inner::Blake3(Box::default())),
        }
    }

    /// Adds `data` to the input.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            Inner::Sha256(h) => h.update(data),
            Inner::Blake2b(h) => h.update(data),
            Inner::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// The digest of the input.
    pub fn finalize(self) -> Vec<u8> {
        match self.0 {
            Inner::Sha256(h) => h.finalize().to_vec(),
            Inner::Blake2b(h) => h.finalize().to_vec(),
            Inner::Blake3(h) => h.finalize().as_bytes().to_vec(),
        }
    }
}

/// A BLAKE3 input longer than this is hashed as consecutive subtrees of this
/// many bytes, each on its own (so several threads can share one file), and
/// their chaining values are merged into the digest that one pass over the
/// whole input gives. A power of two, at least one 1 KiB BLAKE3 chunk.
pub(crate) const BLAKE3_SUBTREE: u64 = 4 << 20;

/// The BLAKE3 chaining value of one subtree.
pub(crate) type ChainingValue = blake3::hazmat::ChainingValue;

/// Hashes the BLAKE3 subtree that starts `offset` bytes into the input: feed
/// it the subtree's bytes, then call [`Blake3Subtree::finalize`].
pub(crate) struct Blake3Subtree(blake3::Hasher);

impl Blake3Subtree {
    /// `offset` must be a multiple of the subtree length used with
    /// [`blake3_root`].
    pub(crate) fn new(offset: u64) -> Self {
        use blake3::hazmat::HasherExt as _;
        let mut h = blake3::Hasher::new();
        h.set_input_offset(offset);
        Blake3Subtree(h)
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub(crate) fn finalize(&self) -> ChainingValue {
        use blake3::hazmat::HasherExt as _;
        self.0.finalize_non_root()
    }
}

/// The BLAKE3 digest of an input of `len` bytes, from the chaining values of
/// its consecutive `subtree`-byte subtrees (the last one may be shorter).
///
/// `subtree` must be a power of two no smaller than `blake3::CHUNK_LEN`, and
/// `len` must be larger than `subtree` (a single subtree is hashed whole);
/// `cvs` holds `len.div_ceil(subtree)` values. BLAKE3's tree gives the left
/// child of every parent the largest power-of-two number of chunks that
/// leaves the right child non-empty; every such split of a range longer than
/// `subtree` that starts on a subtree boundary falls on a subtree boundary,
/// so the merges below rebuild exactly the standard tree.
pub(crate) fn blake3_root(cvs: &[ChainingValue], subtree: u64, len: u64) -> Vec<u8> {
    use blake3::hazmat::{left_subtree_len, merge_subtrees_non_root, merge_subtrees_root, Mode};

    fn node(cvs: &[ChainingValue], subtree: u64, start: u64, end: u64) -> ChainingValue {
        if end - start <= subtree {
            return cvs[usize::try_from(start / subtree).unwrap_or(usize::MAX)];
        }
        let mid = start + left_subtree_len(end - start);
        merge_subtrees_non_root(
            &node(cvs, subtree, start, mid),
            &node(cvs, subtree, mid, end),
            Mode::Hash,
        )
    }

    assert!(
        subtree.is_power_of_two() && subtree >= blake3::CHUNK_LEN as u64 && len > subtree,
        "BLAKE3 subtree of {subtree} bytes for {len} bytes of input"
    );
    assert_eq!(
        cvs.len() as u64,
        len.div_ceil(subtree),
        "one chaining value per subtree"
    );
    let mid = left_subtree_len(len);
    merge_subtrees_root(
        &node(cvs, subtree, 0, mid),
        &node(cvs, subtree, mid, len),
        Mode::Hash,
    )
    .as_bytes()
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(
            hex::encode(HashAlgorithm::Sha256.digest(b"hello\n")),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
        assert_eq!(
            hex::encode(HashAlgorithm::Blake3.digest(b"")),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(
            hex::encode(HashAlgorithm::Blake2b.digest(b"")),
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419\
             d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        );
    }

    /// Deterministic bytes that are not a repeating pattern of any small period.
    fn data(len: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    }

    fn by_subtrees(input: &[u8], subtree: u64) -> Vec<u8> {
        let cvs: Vec<ChainingValue> = input
            .chunks(subtree as usize)
            .enumerate()
            .map(|(i, piece)| {
                let mut h = Blake3Subtree::new(i as u64 * subtree);
                // Several updates per subtree, as the engine does.
                for part in piece.chunks(700) {
                    h.update(part);
                }
                h.finalize()
            })
            .collect();
        blake3_root(&cvs, subtree, input.len() as u64)
    }

    #[test]
    fn blake3_subtrees_give_the_standard_digest() {
        let chunk = blake3::CHUNK_LEN;
        let input = data(9 * 16 * chunk + 3);
        for subtree in [chunk, 2 * chunk, 4 * chunk, 16 * chunk] {
            let mut lens = Vec::new();
            // Lengths around every subtree and chunk boundary up to nine
            // subtrees, and some in between.
            for m in 1..=9 {
                for d in [-1025i64, -1024, -1023, -1, 0, 1, 517, 1023, 1024, 1025] {
                    let len = (m * subtree) as i64 + d;
                    if len > subtree as i64 && len as usize <= input.len() {
                        lens.push(len as usize);
                    }
                }
            }
            lens.push(input.len());
            for len in lens {
                assert_eq!(
                    by_subtrees(&input[..len], subtree as u64),
                    blake3::hash(&input[..len]).as_bytes().to_vec(),
                    "{len} bytes in subtrees of {subtree}"
                );
            }
        }
    }

    #[test]
    fn blake3_engine_subtree_size_gives_the_standard_digest() {
        let s = BLAKE3_SUBTREE as usize;
        let input = data(3 * s + 1025);
        for len in [s + 1, 2 * s, 2 * s + 1, 3 * s - 1, 3 * s + 1025] {
            assert_eq!(
                by_subtrees(&input[..len], BLAKE3_SUBTREE),
                HashAlgorithm::Blake3.digest(&input[..len]),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn parse_names() {
        for a in HashAlgorithm::ALL {
            assert_eq!(a.name().parse::<HashAlgorithm>(), Ok(a));
        }
        assert!("blake2".parse::<HashAlgorithm>().is_err());
        assert!("SHA256".parse::<HashAlgorithm>().is_err());
    }
}

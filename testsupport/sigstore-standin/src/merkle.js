'use strict';
// An append-only RFC 6962 / RFC 9162 Merkle tree over SHA-256, kept in memory:
// leaf hashes, tree heads and inclusion proofs for any tree size.

const crypto = require('crypto');

function sha256(...parts) {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

const leafHash = (data) => sha256(Buffer.from([0x00]), data);
const nodeHash = (left, right) => sha256(Buffer.from([0x01]), left, right);

// The largest power of two smaller than n (n > 1).
function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

class MerkleTree {
  constructor() {
    this.leaves = [];
  }

  get size() {
    return this.leaves.length;
  }

  // Appends the leaf for `data`; returns its index.
  append(data) {
    this.leaves.push(leafHash(data));
    return this.leaves.length - 1;
  }

  leaf(index) {
    return this.leaves[index];
  }

  // MTH(D[lo:hi]).
  hashRange(lo, hi) {
    const n = hi - lo;
    if (n === 0) return sha256();
    if (n === 1) return this.leaves[lo];
    const k = split(n);
    return nodeHash(this.hashRange(lo, lo + k), this.hashRange(lo + k, hi));
  }

  // The root hash of the tree of the first `size` leaves.
  root(size = this.size) {
    return this.hashRange(0, size);
  }

  // PATH(index, D[0:size]): sibling hashes, deepest first.
  inclusionProof(index, size = this.size) {
    if (index < 0 || index >= size || size > this.size) {
      throw new RangeError(`no leaf ${index} in a tree of size ${size}`);
    }
    const path = (m, lo, hi) => {
      const n = hi - lo;
      if (n === 1) return [];
      const k = split(n);
      if (m < k) return [...path(m, lo, lo + k), this.hashRange(lo + k, hi)];
      return [...path(m - k, lo + k, hi), this.hashRange(lo, lo + k)];
    };
    return path(index, 0, size);
  }
}

module.exports = { MerkleTree, leafHash, nodeHash, sha256 };

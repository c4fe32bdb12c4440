'use strict';
// Inclusion proofs checked with the RFC 9162 section 2.1.3.2 verifier, written
// out here independently of the tree code.

const test = require('node:test');
const assert = require('node:assert');
const { MerkleTree, leafHash, nodeHash, sha256 } = require('../src/merkle');

function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

test('every leaf of every tree up to 40 leaves has a proof that verifies', () => {
  const tree = new MerkleTree();
  for (let n = 1; n <= 40; n += 1) {
    tree.append(Buffer.from(`entry ${n - 1}`));
    const root = tree.root(n);
    for (let i = 0; i < n; i += 1) {
      const proof = tree.inclusionProof(i, n);
      assert.ok(verifyInclusion(i, n, leafHash(Buffer.from(`entry ${i}`)), proof, root), `leaf ${i} of ${n}`);
    }
  }
});

test('proofs against older tree sizes stay valid', () => {
  const tree = new MerkleTree();
  for (let i = 0; i < 20; i += 1) tree.append(Buffer.from([i]));
  const proof = tree.inclusionProof(5, 13);
  assert.ok(verifyInclusion(5, 13, leafHash(Buffer.from([5])), proof, tree.root(13)));
  assert.ok(!verifyInclusion(5, 13, leafHash(Buffer.from([5])), proof, tree.root(20)));
});

test('a changed proof hash, leaf or index does not verify', () => {
  const tree = new MerkleTree();
  for (let i = 0; i < 7; i += 1) tree.append(Buffer.from([i]));
  const root = tree.root();
  const proof = tree.inclusionProof(3);
  const leaf = leafHash(Buffer.from([3]));
  assert.ok(verifyInclusion(3, 7, leaf, proof, root));
  const bad = proof.map((h) => Buffer.from(h));
  bad[1][0] ^= 1;
  assert.ok(!verifyInclusion(3, 7, leaf, bad, root));
  assert.ok(!verifyInclusion(2, 7, leaf, proof, root));
  assert.ok(!verifyInclusion(3, 7, leafHash(Buffer.from([4])), proof, root));
});

test('RFC 6962 hashing: one-leaf root is the leaf hash, empty root is SHA-256("")', () => {
  const tree = new MerkleTree();
  assert.deepStrictEqual(tree.root(), sha256());
  tree.append(Buffer.from('a'));
  assert.deepStrictEqual(tree.root(), sha256(Buffer.from([0]), Buffer.from('a')));
  assert.deepStrictEqual(tree.inclusionProof(0), []);
});

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
const { RekorV1, RekorV2 } = require('../src/rekor');
const { pae } = require('../src/keys');

const b64 = (b) => Buffer.from(b).toString('base64');

function signer() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey, pem: publicKey.export({ type: 'spki', format: 'pem' }), der: publicKey.export({ type: 'spki', format: 'der' }) };
}

function dsse(key, payload = Buffer.from('{"_type":"statement"}')) {
  const payloadType = 'application/vnd.in-toto+json';
  const sig = crypto.sign('sha256', pae(payloadType, payload), key.privateKey);
  return { payload: b64(payload), payloadType, signatures: [{ sig: b64(sig) }] };
}

// Parses "origin\nsize\nroot\n[extra\n]\n— name b64(hint||sig)\n".
function parseCheckpoint(text) {
  const [note, sigs] = text.split('\n\n');
  const m = /^\u2014 (\S+) (\S+)\n$/.exec(sigs);
  const raw = Buffer.from(m[2], 'base64');
  return { note: `${note}\n`, lines: note.split('\n'), name: m[1], hint: raw.subarray(0, 4), sig: raw.subarray(4) };
}

test('Rekor v1 stores a dsse entry in canonical form, with LF PEM, a SET and a signed checkpoint', () => {
  const log = new RekorV1();
  log.url = 'http://127.0.0.1:1234';
  const key = signer();
  const envelope = JSON.stringify(dsse(key));
  const crlfPem = key.pem.replace(/\n/g, '\r\n');
  const res = log.create({ apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope, verifiers: [b64(crlfPem)] } } });
  assert.strictEqual(res.status, 201);
  const [[uuid, entry]] = Object.entries(JSON.parse(res.body));
  assert.match(uuid, /^[0-9a-f]{80}$/);
  const body = JSON.parse(Buffer.from(entry.body, 'base64'));
  assert.deepStrictEqual(Object.keys(body.spec), ['envelopeHash', 'payloadHash', 'signatures']);
  assert.strictEqual(Buffer.from(body.spec.signatures[0].verifier, 'base64').toString(), key.pem);
  assert.strictEqual(body.spec.payloadHash.value, crypto.createHash('sha256').update('{"_type":"statement"}').digest('hex'));
  assert.strictEqual(body.spec.envelopeHash.value, crypto.createHash('sha256').update(envelope).digest('hex'));

  const logId = crypto.createHash('sha256').update(log.publicKeyDer).digest('hex');
  assert.strictEqual(entry.logID, logId);
  const setPayload = `{"body":"${entry.body}","integratedTime":${entry.integratedTime},"logID":"${logId}","logIndex":0}`;
  assert.ok(crypto.verify('sha256', Buffer.from(setPayload), log.keys.publicKey, Buffer.from(entry.verification.signedEntryTimestamp, 'base64')));

  const cp = parseCheckpoint(entry.verification.inclusionProof.checkpoint);
  assert.strictEqual(cp.lines[0], `127.0.0.1:1234 - ${log.treeId}`);
  assert.strictEqual(cp.lines[1], '1');
  assert.match(cp.lines[3], /^Timestamp: \d+$/);
  assert.strictEqual(cp.hint.toString('hex'), logId.slice(0, 8));
  assert.ok(crypto.verify('sha256', Buffer.from(cp.note), log.keys.publicKey, cp.sig));
});

test('Rekor v1 refuses a dsse signature that does not verify, and unknown kinds', () => {
  const log = new RekorV1();
  log.url = 'http://127.0.0.1:1234';
  const envelope = JSON.stringify(dsse(signer()));
  const other = signer();
  assert.throws(
    () => log.create({ apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope, verifiers: [b64(other.pem)] } } }),
    /does not verify/,
  );
  assert.throws(() => log.create({ apiVersion: '0.0.1', kind: 'rekord', spec: {} }), /unsupported entry type/);
});

test('Rekor v1 answers 409 for an entry it already has', () => {
  const log = new RekorV1();
  log.url = 'http://127.0.0.1:1234';
  const key = signer();
  const entry = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: 'ab'.repeat(32) } },
      signature: { content: b64(Buffer.from('sig')), publicKey: { content: b64(key.pem) } },
    },
  };
  assert.strictEqual(log.create(entry).status, 201);
  assert.strictEqual(log.create(entry).status, 409);
});

test('Rekor v2: C2SP log ID, Ed25519 checkpoint, hashedrekord 0.0.2 body, growing proofs', () => {
  const log = new RekorV2();
  log.url = 'http://127.0.0.1:4321';
  const raw = log.publicKeyDer.subarray(log.publicKeyDer.length - 32);
  const expectedId = crypto.createHash('sha256').update(Buffer.concat([Buffer.from('127.0.0.1:4321\n'), Buffer.from([1]), raw])).digest();
  assert.deepStrictEqual(log.logId, expectedId);

  const key = signer();
  let last;
  for (let i = 0; i < 3; i += 1) {
    const res = log.create({
      hashedRekordRequestV002: {
        digest: b64(crypto.randomBytes(32)),
        signature: { content: b64(Buffer.from(`sig ${i}`)), verifier: { keyDetails: 'PKIX_ECDSA_P256_SHA_256', publicKey: { rawBytes: b64(key.der) } } },
      },
    });
    assert.strictEqual(res.status, 201);
    last = JSON.parse(res.body);
  }
  assert.strictEqual(last.logIndex, '2');
  assert.strictEqual(last.inclusionProof.treeSize, '3');
  assert.strictEqual(last.inclusionProof.hashes.length, 1);
  assert.strictEqual(last.integratedTime, undefined);
  assert.strictEqual(last.inclusionPromise, undefined);
  const body = Buffer.from(last.canonicalizedBody, 'base64').toString();
  assert.match(body, /^\{"apiVersion":"0\.0\.2","kind":"hashedrekord","spec":\{"hashedRekordV002":\{"data":\{"algorithm":"SHA2_256","digest":/);
  const cp = parseCheckpoint(last.inclusionProof.checkpoint.envelope);
  assert.deepStrictEqual(cp.lines, ['127.0.0.1:4321', '3', last.inclusionProof.rootHash]);
  assert.deepStrictEqual(cp.hint, expectedId.subarray(0, 4));
  assert.ok(crypto.verify(null, Buffer.from(cp.note), log.keys.publicKey, cp.sig));
});

test('Rekor v2 refuses keyDetails that do not match the key, and digests of the wrong size', () => {
  const log = new RekorV2();
  log.url = 'http://127.0.0.1:4321';
  const key = signer();
  const req = (keyDetails, digest) => ({
    hashedRekordRequestV002: {
      digest: b64(digest),
      signature: { content: b64(Buffer.from('s')), verifier: { keyDetails, publicKey: { rawBytes: b64(key.der) } } },
    },
  });
  assert.throws(() => log.create(req('PKIX_ECDSA_P384_SHA_384', crypto.randomBytes(48))), /does not match the key/);
  assert.throws(() => log.create(req('PKIX_ECDSA_P256_SHA_256', crypto.randomBytes(48))), /digest has 48 bytes/);
});

test('Rekor v2 dsse 0.0.2 checks the signature over the PAE', () => {
  const log = new RekorV2();
  log.url = 'http://127.0.0.1:4321';
  const key = signer();
  const verifiers = [{ keyDetails: 'PKIX_ECDSA_P256_SHA_256', publicKey: { rawBytes: b64(key.der) } }];
  const ok = log.create({ dsseRequestV002: { envelope: dsse(key), verifiers } });
  assert.strictEqual(JSON.parse(ok.body).kindVersion.kind, 'dsse');
  assert.throws(() => log.create({ dsseRequestV002: { envelope: dsse(signer()), verifiers } }), /does not verify/);
});

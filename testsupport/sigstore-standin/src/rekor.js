'use strict';
// Two transparency logs, each a real append-only Merkle tree held in memory
// (indices start at 0, proofs have as many hashes as the tree needs):
//
//   RekorV1  the Rekor v1 REST API; ECDSA P-256 log key; entries of kind
//            hashedrekord 0.0.1 and dsse 0.0.1, stored in their canonical form
//            (a dsse proposedContent becomes {envelopeHash, payloadHash,
//            signatures}, PEM re-encoded with LF line ends, JCS body); every
//            answer carries a signed entry timestamp (SET) and an inclusion
//            proof with a checkpoint ("<host> - <treeID>" origin, Timestamp line).
//   RekorV2  the Rekor v2 API (POST /api/v2/log/entries, plus the C2SP
//            checkpoint and tiles for reading); Ed25519 log key, as the
//            public-good v2 logs use, so the log ID is the C2SP signed-note key
//            ID SHA-256(origin || 0x0A || 0x01 || key) and checkpoint key hints
//            are its first four bytes; entries hashedrekord 0.0.2 and dsse 0.0.2;
//            no SET and no integrated time (v2 has neither).
//
// DSSE signatures are checked over the PAE with the submitted verifier, as
// Rekor does; hashedrekord signatures (over a prehashed digest) are not.

const crypto = require('crypto');
const canonicalize = require('canonicalize');
const { MerkleTree, leafHash } = require('./merkle');
const { HttpError, json, parseJson } = require('./http');
const { b64decode, parseVerifier, verifySignature, pae, keyDetails, spkiDer } = require('./keys');

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex');
const b64 = (buf) => Buffer.from(buf).toString('base64');
const HASH_LENGTHS = { sha256: 64, sha384: 96, sha512: 128 };

function jcs(value) {
  return Buffer.from(canonicalize(value), 'utf8');
}

// A signed note (C2SP signed-note): the text, a blank line, signature lines.
function signedNote(text, name, keyHint, signature) {
  return `${text}\n\u2014 ${name} ${b64(Buffer.concat([keyHint, signature]))}\n`;
}

class Log {
  constructor() {
    this.tree = new MerkleTree();
    this.entries = []; // { body, integratedTime, set, terms }
    this.byLeaf = new Map(); // leaf hash hex -> index
    this.url = null;
  }

  get host() {
    return new URL(this.url).host;
  }

  add(body, extra) {
    const leaf = leafHash(body).toString('hex');
    if (this.byLeaf.has(leaf)) return { index: this.byLeaf.get(leaf), duplicate: true };
    const index = this.tree.append(body);
    this.entries.push({ body, ...extra });
    this.byLeaf.set(leaf, index);
    return { index, duplicate: false };
  }

  proof(index, size = this.tree.size) {
    return { hashes: this.tree.inclusionProof(index, size), root: this.tree.root(size), size };
  }
}

// ---------------------------------------------------------------- v1

class RekorV1 extends Log {
  constructor() {
    super();
    this.keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.publicKeyDer = spkiDer(this.keys.publicKey);
    this.logId = crypto.createHash('sha256').update(this.publicKeyDer).digest();
    this.treeId = (BigInt(`0x${crypto.randomBytes(8).toString('hex')}`) >> 2n).toString();
  }

  checkpoint(size) {
    const root = this.tree.root(size);
    const ns = BigInt(Date.now()) * 1000000n;
    const text = `${this.host} - ${this.treeId}\n${size}\n${b64(root)}\nTimestamp: ${ns}\n`;
    const signature = crypto.sign('sha256', Buffer.from(text), this.keys.privateKey);
    return signedNote(text, this.host, this.logId.subarray(0, 4), signature);
  }

  entryId(index) {
    const treeHex = BigInt(this.treeId).toString(16).padStart(16, '0');
    return treeHex + this.tree.leaf(index).toString('hex');
  }

  entryJson(index, size = this.tree.size) {
    const e = this.entries[index];
    const { hashes, root } = this.proof(index, size);
    return {
      [this.entryId(index)]: {
        body: b64(e.body),
        integratedTime: e.integratedTime,
        logID: this.logId.toString('hex'),
        logIndex: index,
        verification: {
          inclusionProof: {
            checkpoint: this.checkpoint(size),
            hashes: hashes.map((h) => h.toString('hex')),
            logIndex: index,
            rootHash: root.toString('hex'),
            treeSize: size,
          },
          signedEntryTimestamp: b64(e.set),
        },
      },
    };
  }

  create(proposed) {
    if (proposed === null || typeof proposed !== 'object') throw new HttpError(400, 'expected a proposed entry object');
    const { kind, apiVersion } = proposed;
    let canonical;
    if (kind === 'hashedrekord' && apiVersion === '0.0.1') canonical = canonicalHashedRekord(proposed.spec);
    else if (kind === 'dsse' && apiVersion === '0.0.1') canonical = canonicalDsse(proposed.spec);
    else throw new HttpError(400, `unsupported entry type ${kind} ${apiVersion} (the stand-in takes hashedrekord 0.0.1 and dsse 0.0.1)`);
    const body = jcs(canonical.entry);
    const integratedTime = Math.floor(Date.now() / 1000);
    const index = this.tree.size;
    const setPayload = jcs({ body: b64(body), integratedTime, logIndex: index, logID: this.logId.toString('hex') });
    const set = crypto.sign('sha256', setPayload, this.keys.privateKey);
    const added = this.add(body, { integratedTime, set, terms: canonical.terms });
    const location = `/api/v1/log/entries/${this.entryId(added.index)}`;
    if (added.duplicate) {
      return json(409, { code: 409, message: `An equivalent entry already exists in the transparency log with UUID ${this.entryId(added.index)}` }, { Location: location });
    }
    return json(201, this.entryJson(added.index), { Location: location, ETag: this.entryId(added.index) });
  }

  findId(id) {
    if (!/^([0-9a-f]{16})?[0-9a-f]{64}$/.test(id)) return undefined;
    return this.byLeaf.get(id.slice(-64));
  }

  async handle(req, url, body) {
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method === 'POST' && path === '/api/v1/log/entries') return this.create(parseJson(body));
    if (req.method === 'GET' && path === '/api/v1/log') {
      const size = this.tree.size;
      return json(200, {
        rootHash: this.tree.root(size).toString('hex'),
        treeSize: size,
        signedTreeHead: this.checkpoint(size),
        treeID: this.treeId,
        inactiveShards: [],
      });
    }
    if (req.method === 'GET' && path === '/api/v1/log/publicKey') {
      return { status: 200, body: this.keys.publicKey.export({ type: 'spki', format: 'pem' }), type: 'application/x-pem-file' };
    }
    if (req.method === 'GET' && path === '/api/v1/log/entries') {
      const index = Number(url.searchParams.get('logIndex'));
      if (!Number.isInteger(index) || index < 0 || index >= this.tree.size) {
        return json(404, { code: 404, message: 'no entry at that logIndex' });
      }
      return json(200, this.entryJson(index));
    }
    const m = /^\/api\/v1\/log\/entries\/([0-9a-f]+)$/.exec(path);
    if (req.method === 'GET' && m) {
      const index = this.findId(m[1]);
      if (index === undefined) return json(404, { code: 404, message: 'entry not found' });
      return json(200, this.entryJson(index));
    }
    if (req.method === 'POST' && path === '/api/v1/log/entries/retrieve') {
      const q = parseJson(body);
      const found = new Set();
      for (const id of q.entryUUIDs || []) {
        const i = this.findId(String(id));
        if (i !== undefined) found.add(i);
      }
      for (const i of q.logIndexes || []) if (Number.isInteger(i) && i >= 0 && i < this.tree.size) found.add(i);
      return json(200, [...found].sort((a, b) => a - b).map((i) => this.entryJson(i)));
    }
    if (req.method === 'POST' && path === '/api/v1/index/retrieve') {
      const q = parseJson(body);
      const term = String(q.hash || '').toLowerCase();
      const hits = [];
      this.entries.forEach((e, i) => {
        if (e.terms.includes(term)) hits.push(this.entryId(i));
      });
      return json(200, hits);
    }
    return null;
  }
}

function canonicalHashedRekord(spec) {
  const hash = spec?.data?.hash;
  const algorithm = hash?.algorithm;
  const value = String(hash?.value || '').toLowerCase();
  if (!(algorithm in HASH_LENGTHS) || !new RegExp(`^[0-9a-f]{${HASH_LENGTHS[algorithm]}}$`).test(value)) {
    throw new HttpError(400, 'hashedrekord: data.hash must be {algorithm: sha256|sha384|sha512, value: hex}');
  }
  const signature = b64decode(spec?.signature?.content, 'signature.content');
  if (signature.length === 0) throw new HttpError(400, 'hashedrekord: empty signature');
  const verifierPem = b64decode(spec?.signature?.publicKey?.content, 'signature.publicKey.content').toString('utf8');
  const verifier = parseVerifier({ pem: verifierPem }, 'signature.publicKey.content');
  return {
    entry: {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm, value } },
        signature: { content: b64(signature), publicKey: { content: b64(verifier.canonicalPem) } },
      },
    },
    terms: [`${algorithm}:${value}`],
  };
}

// Parses a DSSE envelope object; checks every signature against `verifiers`
// (parsed); returns [{ signature (Buffer), verifier }] sorted as Rekor sorts.
function checkDsse(envelope, verifiers) {
  if (envelope === null || typeof envelope !== 'object') throw new HttpError(400, 'dsse: envelope must be an object');
  if (typeof envelope.payloadType !== 'string') throw new HttpError(400, 'dsse: payloadType must be a string');
  const payload = b64decode(envelope.payload, 'dsse payload');
  const sigs = envelope.signatures;
  if (!Array.isArray(sigs) || sigs.length === 0) throw new HttpError(400, 'dsse: the envelope has no signatures');
  if (verifiers.length === 0) throw new HttpError(400, 'dsse: no verifiers');
  const message = pae(envelope.payloadType, payload);
  const out = sigs.map((s, i) => {
    const signature = b64decode(s?.sig, `dsse signature ${i}`);
    const verifier = verifiers.find((v) => verifySignature(v.key, message, signature));
    if (!verifier) throw new HttpError(400, `dsse: signature ${i} does not verify with any verifier`);
    return { signature, verifier };
  });
  out.sort((a, b) => (b64(a.signature) < b64(b.signature) ? -1 : b64(a.signature) > b64(b.signature) ? 1 : 0));
  return { payload, signatures: out };
}

function canonicalDsse(spec) {
  const content = spec?.proposedContent;
  if (!content || typeof content.envelope !== 'string') {
    throw new HttpError(400, 'dsse: spec.proposedContent.envelope must be the envelope as a JSON string');
  }
  let envelope;
  try {
    envelope = JSON.parse(content.envelope);
  } catch (e) {
    throw new HttpError(400, `dsse: envelope is not JSON: ${e.message}`);
  }
  const verifiers = (content.verifiers || []).map((v, i) =>
    parseVerifier({ pem: b64decode(v, `verifier ${i}`).toString('utf8') }, `verifier ${i}`));
  const { payload, signatures } = checkDsse(envelope, verifiers);
  const envelopeHash = sha256hex(Buffer.from(content.envelope, 'utf8'));
  const payloadHash = sha256hex(payload);
  return {
    entry: {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: envelopeHash },
        payloadHash: { algorithm: 'sha256', value: payloadHash },
        signatures: signatures.map((s) => ({ signature: b64(s.signature), verifier: b64(s.verifier.canonicalPem) })),
      },
    },
    terms: [`sha256:${payloadHash}`, `sha256:${envelopeHash}`],
  };
}

// ---------------------------------------------------------------- v2

const V2_DIGESTS = {
  PKIX_ECDSA_P256_SHA_256: { algorithm: 'SHA2_256', length: 32 },
  PKIX_ECDSA_P384_SHA_384: { algorithm: 'SHA2_384', length: 48 },
  PKIX_ECDSA_P521_SHA_512: { algorithm: 'SHA2_512', length: 64 },
};
const TILE_WIDTH = 256;

class RekorV2 extends Log {
  constructor() {
    super();
    this.keys = crypto.generateKeyPairSync('ed25519');
    this.publicKeyDer = spkiDer(this.keys.publicKey);
  }

  // Called once the URL is known: the origin is the log's host.
  get origin() {
    return this.host;
  }

  get logId() {
    const raw = this.publicKeyDer.subarray(this.publicKeyDer.length - 32);
    return crypto.createHash('sha256').update(Buffer.concat([Buffer.from(`${this.origin}\n`), Buffer.from([0x01]), raw])).digest();
  }

  checkpoint(size) {
    const text = `${this.origin}\n${size}\n${b64(this.tree.root(size))}\n`;
    const signature = crypto.sign(null, Buffer.from(text), this.keys.privateKey);
    return signedNote(text, this.origin, this.logId.subarray(0, 4), signature);
  }

  entryJson(index, size = this.tree.size) {
    const e = this.entries[index];
    const { hashes, root } = this.proof(index, size);
    return {
      logIndex: String(index),
      logId: { keyId: b64(this.logId) },
      kindVersion: { kind: e.kind, version: '0.0.2' },
      inclusionProof: {
        logIndex: String(index),
        rootHash: b64(root),
        treeSize: String(size),
        hashes: hashes.map(b64),
        checkpoint: { envelope: this.checkpoint(size) },
      },
      canonicalizedBody: b64(e.body),
    };
  }

  create(request) {
    if (request === null || typeof request !== 'object') throw new HttpError(400, 'expected a CreateEntryRequest object');
    let entry;
    if (request.hashedRekordRequestV002) entry = canonicalHashedRekordV2(request.hashedRekordRequestV002);
    else if (request.dsseRequestV002) entry = canonicalDsseV2(request.dsseRequestV002);
    else throw new HttpError(400, 'expected hashedRekordRequestV002 or dsseRequestV002');
    const { index } = this.add(jcs(entry), { kind: entry.kind });
    return json(201, this.entryJson(index));
  }

  // C2SP tlog-tiles: GET /api/v2/tile/<L>/<N>[.p/<W>] and /api/v2/tile/entries/<N>[.p/<W>].
  tile(level, indexPath, partial) {
    const n = parseTileIndex(indexPath);
    if (n === null) return null;
    const size = this.tree.size;
    const height = level === 'entries' ? 0 : 8 * Number(level);
    const nodes = Math.floor(size / 2 ** height);
    const available = Math.min(TILE_WIDTH, nodes - n * TILE_WIDTH);
    const width = partial === undefined ? TILE_WIDTH : Number(partial);
    if (!(width >= 1 && width <= TILE_WIDTH) || width > available || (partial !== undefined && width === TILE_WIDTH)) return null;
    const parts = [];
    for (let i = 0; i < width; i += 1) {
      const k = n * TILE_WIDTH + i;
      if (level === 'entries') {
        const body = this.entries[k].body;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(body.length);
        parts.push(len, body);
      } else {
        const span = 2 ** height;
        parts.push(this.tree.hashRange(k * span, (k + 1) * span));
      }
    }
    return { status: 200, body: Buffer.concat(parts), type: 'application/octet-stream' };
  }

  async handle(req, url, body) {
    const path = url.pathname;
    if (req.method === 'POST' && path === '/api/v2/log/entries') return this.create(parseJson(body));
    if (req.method === 'GET' && path === '/api/v2/checkpoint') {
      return { status: 200, body: this.checkpoint(this.tree.size), type: 'text/plain; charset=utf-8' };
    }
    const m = /^\/api\/v2\/tile\/(entries|[0-9])\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d+))?$/.exec(path);
    if (req.method === 'GET' && m) return this.tile(m[1], m[2], m[3]);
    return null;
  }
}

function parseTileIndex(p) {
  const n = Number(p.replace(/x/g, '').replace(/\//g, ''));
  return Number.isSafeInteger(n) ? n : null;
}

// A Rekor v2 verifier: { keyDetails, x509Certificate: {rawBytes} | publicKey: {rawBytes} }.
function parseVerifierV2(v, what) {
  const details = v?.keyDetails;
  const cert = v?.x509Certificate?.rawBytes;
  const pub = v?.publicKey?.rawBytes;
  if ((cert === undefined) === (pub === undefined)) {
    throw new HttpError(400, `${what}: exactly one of x509Certificate and publicKey is required`);
  }
  const der = b64decode(cert ?? pub, `${what} rawBytes`);
  const parsed = parseVerifier({ der, kind: cert !== undefined ? 'certificate' : 'key' }, what);
  if (keyDetails(parsed.key) !== details) {
    throw new HttpError(400, `${what}: keyDetails ${details} does not match the key (${keyDetails(parsed.key)})`);
  }
  const canonical = cert !== undefined
    ? { keyDetails: details, x509Certificate: { rawBytes: b64(der) } }
    : { keyDetails: details, publicKey: { rawBytes: b64(der) } };
  return { ...parsed, canonical };
}

function canonicalHashedRekordV2(req) {
  const verifier = parseVerifierV2(req?.signature?.verifier, 'signature.verifier');
  const digestSpec = V2_DIGESTS[verifier.canonical.keyDetails];
  if (!digestSpec) throw new HttpError(400, `hashedrekord 0.0.2: unsupported keyDetails ${verifier.canonical.keyDetails}`);
  const digest = b64decode(req?.digest, 'digest');
  if (digest.length !== digestSpec.length) {
    throw new HttpError(400, `hashedrekord 0.0.2: digest has ${digest.length} bytes, ${digestSpec.algorithm} has ${digestSpec.length}`);
  }
  const signature = b64decode(req?.signature?.content, 'signature.content');
  if (signature.length === 0) throw new HttpError(400, 'hashedrekord 0.0.2: empty signature');
  return {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: digestSpec.algorithm, digest: b64(digest) },
        signature: { content: b64(signature), verifier: verifier.canonical },
      },
    },
  };
}

function canonicalDsseV2(req) {
  const verifiers = (req?.verifiers || []).map((v, i) => parseVerifierV2(v, `verifier ${i}`));
  const { payload, signatures } = checkDsse(req?.envelope, verifiers);
  return {
    apiVersion: '0.0.2',
    kind: 'dsse',
    spec: {
      dsseV002: {
        payloadHash: { algorithm: 'SHA2_256', digest: b64(crypto.createHash('sha256').update(payload).digest()) },
        signatures: signatures.map((s) => ({ content: b64(s.signature), verifier: s.verifier.canonical })),
      },
    },
  };
}

module.exports = { RekorV1, RekorV2 };

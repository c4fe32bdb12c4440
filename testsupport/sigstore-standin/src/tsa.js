'use strict';
// The timestamp authority: POST /api/v1/timestamp with a DER RFC 3161
// TimeStampReq (application/timestamp-query) answered with a DER TimeStampResp
// (application/timestamp-reply), signed by @sigstore/mock's TSA (a root and a
// timeStamping-EKU signing certificate). The adapter
//   - parses the DER request (the mock takes JSON),
//   - echoes the request's nonce bytes exactly (the mock narrows it to a JS
//     number, which breaks 64-bit nonces),
//   - writes a whole-second genTime (strict DER readers refuse fractions),
//   - uses a random serial number.
// The JSON request form of sigstore's timestamp-authority is accepted as well.
// For tests of certificates used outside their validity, the same endpoint
// under /skew/<seconds> (POST /skew/3600/api/v1/timestamp) stamps a genTime
// shifted by that many seconds.

require('reflect-metadata');
const crypto = require('crypto');
const asn1js = require('asn1js');
const pkijs = require('pkijs');
const { initializeTSA } = require('@sigstore/mock/dist/timestamp');
const { HttpError, parseJson } = require('./http');
const { b64decode } = require('./keys');

const TIMESTAMP_PATH = '/api/v1/timestamp';
const DEFAULT_POLICY = '1.3.6.1.4.1.57264.2';
const HASHES = {
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', length: 32 },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', length: 48 },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', length: 64 },
};
const HASH_OIDS_BY_NAME = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' };

class TimestampAuthority {
  constructor() {
    this.keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.url = null;
  }

  async init() {
    this.tsa = await initializeTSA(this.keys);
    // The mock builds TSTInfo in this method; replace it on this instance.
    this.tsa.tstInfo = (req) => tstInfo(req);
    this.signingCertDer = this.tsa.intCertificate;
    this.rootDer = this.tsa.rootCertificate;
  }

  async timestamp(req, body, skewSeconds = 0) {
    const type = (req.headers['content-type'] || '').toLowerCase();
    const request = type.includes('json') ? fromJson(body) : fromDer(body);
    request.skewSeconds = skewSeconds;
    const reply = await this.tsa.timestamp(request);
    return { status: 201, body: reply, type: 'application/timestamp-reply' };
  }

  async handle(req, url, body) {
    const skewed = /^\/skew\/(-?\d{1,9})(\/.*)$/.exec(url.pathname);
    if (skewed && req.method === 'POST' && skewed[2] === TIMESTAMP_PATH) {
      return this.timestamp(req, body, Number(skewed[1]));
    }
    if (req.method === 'POST' && url.pathname === TIMESTAMP_PATH) return this.timestamp(req, body);
    if (req.method === 'GET' && url.pathname === `${TIMESTAMP_PATH}/certchain`) {
      const pems = [this.signingCertDer, this.rootDer].map((d) => new crypto.X509Certificate(d).toString());
      return { status: 200, body: pems.join(''), type: 'application/pem-certificate-chain' };
    }
    return null;
  }
}

function fromDer(body) {
  let tsq;
  try {
    tsq = pkijs.TimeStampReq.fromBER(new Uint8Array(body));
  } catch (e) {
    throw new HttpError(400, `not a DER TimeStampReq: ${e.message}`);
  }
  const hashAlgorithmOID = tsq.messageImprint.hashAlgorithm.algorithmId;
  const artifactHash = Buffer.from(tsq.messageImprint.hashedMessage.valueBlock.valueHexView);
  checkImprint(hashAlgorithmOID, artifactHash);
  return {
    artifactHash,
    hashAlgorithmOID,
    nonce: tsq.nonce ? Buffer.from(tsq.nonce.valueBlock.valueHexView) : null,
    policyOID: tsq.reqPolicy || DEFAULT_POLICY,
    certReq: tsq.certReq ?? false,
  };
}

function fromJson(body) {
  const json = parseJson(body);
  const hashAlgorithmOID = HASH_OIDS_BY_NAME[String(json.hashAlgorithm || 'sha256').toLowerCase().replace('-', '')];
  if (!hashAlgorithmOID) throw new HttpError(400, `unsupported hashAlgorithm ${json.hashAlgorithm}`);
  const artifactHash = b64decode(json.artifactHash, 'artifactHash');
  checkImprint(hashAlgorithmOID, artifactHash);
  let nonce = null;
  if (json.nonce !== undefined) {
    // A decimal integer: encode as a minimal two's-complement big-endian INTEGER.
    let big;
    try {
      big = BigInt(json.nonce);
    } catch {
      throw new HttpError(400, 'nonce must be an integer');
    }
    if (big < 0n) throw new HttpError(400, 'nonce must not be negative');
    let hex = big.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    nonce = Buffer.from(hex, 'hex');
    if (nonce[0] & 0x80) nonce = Buffer.concat([Buffer.from([0]), nonce]);
  }
  return {
    artifactHash,
    hashAlgorithmOID,
    nonce,
    policyOID: json.tsaPolicyOID || DEFAULT_POLICY,
    certReq: json.certificates ?? false,
  };
}

function checkImprint(oid, hash) {
  const algorithm = HASHES[oid];
  if (!algorithm) throw new HttpError(400, `unsupported message imprint hash algorithm ${oid}`);
  if (hash.length !== algorithm.length) {
    throw new HttpError(400, `message imprint has ${hash.length} bytes, ${algorithm.name} has ${algorithm.length}`);
  }
}

function tstInfo(req) {
  const genTime = new Date((Math.floor(Date.now() / 1000) + (req.skewSeconds || 0)) * 1000);
  const serial = crypto.randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, and minimal as DER
  return new pkijs.TSTInfo({
    version: 1,
    policy: req.policyOID,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: req.hashAlgorithmOID }),
      hashedMessage: new asn1js.OctetString({ valueHex: req.artifactHash }),
    }),
    serialNumber: new asn1js.Integer({ valueHex: serial }),
    genTime,
    accuracy: new pkijs.Accuracy({ seconds: 1 }),
    ...(req.nonce ? { nonce: new asn1js.Integer({ valueHex: req.nonce }) } : {}),
  });
}

module.exports = { TimestampAuthority };

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
require('reflect-metadata');
const asn1js = require('asn1js');
const pkijs = require('pkijs');
const { TimestampAuthority } = require('../src/tsa');

function request({ nonce, hash = crypto.randomBytes(32), oid = '2.16.840.1.101.3.4.2.1' }) {
  const tsq = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: oid }),
      hashedMessage: new asn1js.OctetString({ valueHex: hash }),
    }),
    certReq: true,
    ...(nonce ? { nonce: new asn1js.Integer({ valueHex: nonce }) } : {}),
  });
  return Buffer.from(tsq.toSchema().toBER(false));
}

async function stamp(tsa, der) {
  const res = await tsa.timestamp({ headers: { 'content-type': 'application/timestamp-query' } }, der);
  assert.strictEqual(res.type, 'application/timestamp-reply');
  const resp = pkijs.TimeStampResp.fromBER(new Uint8Array(res.body));
  assert.strictEqual(resp.status.status, 0);
  const signed = new pkijs.SignedData({ schema: resp.timeStampToken.content });
  const info = pkijs.TSTInfo.fromBER(signed.encapContentInfo.eContent.valueBlock.valueHexView);
  return { info, signed, raw: res.body };
}

test('a 64-bit nonce with its top bit set is echoed byte for byte; genTime has whole seconds', async () => {
  const tsa = new TimestampAuthority();
  await tsa.init();
  const nonce = Buffer.from('00f1e2d3c4b5a69788', 'hex');
  const hash = crypto.randomBytes(32);
  const { info, signed } = await stamp(tsa, request({ nonce, hash }));
  assert.deepStrictEqual(Buffer.from(info.nonce.valueBlock.valueHexView), nonce);
  assert.strictEqual(info.genTime.getUTCMilliseconds(), 0);
  assert.deepStrictEqual(Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView), hash);
  assert.strictEqual(signed.certificates.length, 1, 'certReq asks for the signing certificate');
  // The GeneralizedTime in the DER has no fraction.
  const der = Buffer.from(info.toSchema().toBER(false));
  const time = /\d{14}(\.\d+)?Z/.exec(der.toString('latin1'));
  assert.ok(time && time[1] === undefined, `genTime ${time && time[0]}`);
});

test('the signature verifies with the TSA signing certificate', async () => {
  const tsa = new TimestampAuthority();
  await tsa.init();
  const message = Buffer.from('the signature bytes');
  const hash = crypto.createHash('sha256').update(message).digest();
  const { signed, raw } = await stamp(tsa, request({ nonce: Buffer.from([1, 2, 3]), hash }));
  const data = new Uint8Array(message);
  const ok = await signed.verify({ signer: 0, data, trustedCerts: [pkijs.Certificate.fromBER(tsa.rootDer)], checkChain: false });
  assert.ok(ok);
  assert.ok(raw.length > 0);
});

test('a message imprint of the wrong length is refused', async () => {
  const tsa = new TimestampAuthority();
  await tsa.init();
  await assert.rejects(stamp(tsa, request({ hash: crypto.randomBytes(20) })), /message imprint has 20 bytes/);
  await assert.rejects(tsa.timestamp({ headers: {} }, Buffer.from('nonsense')), /not a DER TimeStampReq/);
});

test('under /skew/<seconds>, genTime is shifted by that many seconds', async () => {
  const tsa = new TimestampAuthority();
  await tsa.init();
  const headers = { 'content-type': 'application/timestamp-query' };
  const before = Math.floor(Date.now() / 1000);
  const res = await tsa.handle({ method: 'POST', headers }, new URL('http://x/skew/3600/api/v1/timestamp'), request({}));
  const resp = pkijs.TimeStampResp.fromBER(new Uint8Array(res.body));
  const signed = new pkijs.SignedData({ schema: resp.timeStampToken.content });
  const info = pkijs.TSTInfo.fromBER(signed.encapContentInfo.eContent.valueBlock.valueHexView);
  const shift = info.genTime.getTime() / 1000 - before;
  assert.ok(shift >= 3600 && shift <= 3602, `shifted by ${shift} s`);
  assert.strictEqual(await tsa.handle({ method: 'POST', headers }, new URL('http://x/skew/x/api/v1/timestamp'), request({})), null);
});

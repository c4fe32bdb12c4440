'use strict';
// The trust material of one stand-in instance: its trusted root, and for each
// flavour a signing config and a ClientTrustConfig (what `model_signing
// --trust_config` and `sigstore --trust-config` read).

const fs = require('fs');
const path = require('path');

const TRUSTED_ROOT_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
const SIGNING_CONFIG_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';
const CLIENT_TRUST_CONFIG_TYPE = 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json';
const OPERATOR = 'sigstore-standin';

const b64 = (buf) => Buffer.from(buf).toString('base64');

// Which services each flavour's signing config names.
const FLAVOURS = {
  // Fulcio + Rekor v1, no timestamp authority (times come from the SET).
  'rekor-v1': { rekor: 1, tsa: false },
  // Fulcio + Rekor v1 + TSA, like the public-good production instance.
  'rekor-v1-tsa': { rekor: 1, tsa: true },
  // Fulcio + Rekor v2 + TSA, like the public-good staging instance.
  'rekor-v2': { rekor: 2, tsa: true },
};

function trustedRoot({ validFrom, fulcio, rekorV1, rekorV2, tsa }) {
  const start = validFrom.toISOString();
  return {
    mediaType: TRUSTED_ROOT_TYPE,
    tlogs: [
      {
        baseUrl: rekorV1.url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(rekorV1.publicKeyDer), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(rekorV1.logId) },
      },
      {
        baseUrl: rekorV2.url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(rekorV2.publicKeyDer), keyDetails: 'PKIX_ED25519', validFor: { start } },
        logId: { keyId: b64(rekorV2.logId) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: fulcio.url,
        certChain: { certificates: [{ rawBytes: b64(fulcio.rootDer) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: `${fulcio.url}/ct`,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(fulcio.ctPublicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(fulcio.ctlog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: `${tsa.url}/api/v1/timestamp`,
        certChain: { certificates: [{ rawBytes: b64(tsa.signingCertDer) }, { rawBytes: b64(tsa.rootDer) }] },
        validFor: { start },
      },
    ],
  };
}

function signingConfig(flavour, { validFrom, issuer, fulcio, rekorV1, rekorV2, tsa }) {
  const { rekor, tsa: withTsa } = FLAVOURS[flavour];
  const service = (url, majorApiVersion) => ({
    url,
    majorApiVersion,
    validFor: { start: validFrom.toISOString() },
    operator: OPERATOR,
  });
  return {
    mediaType: SIGNING_CONFIG_TYPE,
    caUrls: [service(fulcio.url, 1)],
    oidcUrls: [service(issuer.url, 1)],
    rekorTlogUrls: [rekor === 1 ? service(rekorV1.url, 1) : service(rekorV2.url, 2)],
    tsaUrls: withTsa ? [service(`${tsa.url}/api/v1/timestamp`, 1)] : [],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
  };
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

// Writes everything under `dir`; returns the paths.
function writeTrustFiles(dir, services) {
  const root = trustedRoot(services);
  const files = { trustedRoot: path.join(dir, 'trusted_root.json'), flavours: {} };
  writeJson(files.trustedRoot, root);
  for (const flavour of Object.keys(FLAVOURS)) {
    const sub = path.join(dir, flavour);
    fs.mkdirSync(sub, { recursive: true });
    const config = signingConfig(flavour, services);
    const paths = {
      signingConfig: path.join(sub, 'signing_config.v0.2.json'),
      trustConfig: path.join(sub, 'trust_config.json'),
    };
    writeJson(paths.signingConfig, config);
    writeJson(paths.trustConfig, { mediaType: CLIENT_TRUST_CONFIG_TYPE, trustedRoot: root, signingConfig: config });
    files.flavours[flavour] = paths;
  }
  return files;
}

module.exports = { writeTrustFiles, FLAVOURS };

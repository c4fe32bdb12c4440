'use strict';
// Keys and certificates as the services see them: PEM parsing, the canonical
// (LF, 64-column) PEM that Rekor stores, DSSE PAE, and signature checks.

const crypto = require('crypto');
const { HttpError } = require('./http');

function b64decode(value, what) {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value.replace(/\s/g, ''))) {
    throw new HttpError(400, `${what} is not valid base64`);
  }
  return Buffer.from(value, 'base64');
}

// The first PEM block of `text`: { label, der }.
function parsePem(pemText, what) {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/.exec(pemText);
  if (!m) throw new HttpError(400, `${what} is not PEM`);
  return { label: m[1], der: Buffer.from(m[2].replace(/\s/g, ''), 'base64') };
}

// A verifier given as a certificate or a public key, from PEM or DER.
// Returns { key, certificate (X509Certificate or null), canonicalPem, der }.
function parseVerifier({ pem, der, kind }, what) {
  let label = kind === 'certificate' ? 'CERTIFICATE' : 'PUBLIC KEY';
  if (pem !== undefined) ({ label, der } = parsePem(pem, what));
  try {
    if (label === 'CERTIFICATE') {
      const certificate = new crypto.X509Certificate(der);
      return { key: certificate.publicKey, certificate, canonicalPem: certificate.toString(), der };
    }
    if (label === 'PUBLIC KEY') {
      const key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
      return { key, certificate: null, canonicalPem: key.export({ type: 'spki', format: 'pem' }), der };
    }
  } catch (e) {
    throw new HttpError(400, `${what} cannot be parsed: ${e.message}`);
  }
  throw new HttpError(400, `${what}: unsupported PEM type ${label}`);
}

// The hash an ECDSA/RSA key signs with (null for Ed25519).
function hashFor(key) {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails.namedCurve;
    return { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' }[curve] || 'sha256';
  }
  return 'sha256';
}

function verifySignature(key, data, signature) {
  try {
    return crypto.verify(hashFor(key), data, key, signature);
  } catch {
    return false;
  }
}

// DSSE pre-authentication encoding.
function pae(payloadType, payload) {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

// Sigstore's key-details name for a key.
function keyDetails(key) {
  if (key.asymmetricKeyType === 'ed25519') return 'PKIX_ED25519';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails.namedCurve;
    const name = { prime256v1: 'PKIX_ECDSA_P256_SHA_256', secp384r1: 'PKIX_ECDSA_P384_SHA_384', secp521r1: 'PKIX_ECDSA_P521_SHA_512' }[curve];
    if (name) return name;
  }
  return null;
}

function spkiDer(key) {
  return key.export({ type: 'spki', format: 'der' });
}

module.exports = { b64decode, parsePem, parseVerifier, verifySignature, pae, keyDetails, spkiDer, hashFor };

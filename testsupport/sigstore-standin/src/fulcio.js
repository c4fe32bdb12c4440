'use strict';
// Fulcio: POST /api/v2/signingCert, served by @sigstore/mock's CA (which
// submits a precertificate to its CT log and embeds the SCT) behind an adapter
// that speaks the real wire format:
//   - the token comes in `Authorization: Bearer` (or credentials.oidcIdentityToken)
//     and must be signed by the stand-in's issuer;
//   - the key comes as certificateSigningRequest (base64 of a PEM CSR, whose
//     signature is checked) or publicKeyRequest (PEM key plus a proof of
//     possession: a signature over the token's email or sub claim);
//   - the answer is signedCertificateEmbeddedSct.chain.certificates (PEM, leaf
//     then root).
// The mock CA issues 10-minute certificates for P-256 keys only, with the
// token's `sub` as a URI SAN and its `iss` in extensions 1.3.6.1.4.1.57264.1.1
// and .1.8 (plus the GitHub Actions claims, when present, in their extensions).

require('reflect-metadata');
const crypto = require('crypto');
const x509 = require('@peculiar/x509');
const { fulcioHandler, initializeCA, initializeCTLog } = require('@sigstore/mock/dist/fulcio');
const { HttpError, json, parseJson } = require('./http');
const { b64decode, verifySignature, spkiDer } = require('./keys');

const SIGNING_CERT_PATH = '/api/v2/signingCert';

class Fulcio {
  constructor(issuer) {
    this.issuer = issuer;
    this.caKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.ctKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.url = null;
  }

  async init() {
    this.ctlog = await initializeCTLog(this.ctKeys);
    this.ca = await initializeCA(this.caKeys, this.ctlog);
    this.handler = fulcioHandler(this.ca, { strict: true });
    this.rootDer = this.ca.rootCertificate;
    this.rootPem = new crypto.X509Certificate(this.rootDer).toString();
  }

  // CT log public key (SPKI DER) and log ID (SHA-256 of it).
  get ctPublicKey() {
    return spkiDer(this.ctKeys.publicKey);
  }

  async signingCert(req, body) {
    const request = parseJson(body);
    const auth = req.headers.authorization || '';
    const bearer = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : null;
    const token = bearer || request?.credentials?.oidcIdentityToken;
    if (!token) throw new HttpError(401, 'no identity token (Authorization: Bearer or credentials.oidcIdentityToken)');
    const claims = await this.issuer.verify(token);

    let publicKey;
    if (request.certificateSigningRequest !== undefined) {
      publicKey = await this.keyFromCsr(request.certificateSigningRequest);
    } else if (request.publicKeyRequest !== undefined) {
      publicKey = this.keyFromPublicKeyRequest(request.publicKeyRequest, claims);
    } else {
      throw new HttpError(400, 'expected certificateSigningRequest or publicKeyRequest');
    }
    if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails.namedCurve !== 'prime256v1') {
      throw new HttpError(400, 'the stand-in CA certifies ECDSA P-256 keys only');
    }

    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const mockRequest = JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: { publicKey: { content: pem } },
    });
    const result = await this.handler.fn(mockRequest);
    if (result.statusCode !== 201) throw new HttpError(result.statusCode, String(result.response));
    return { status: 201, body: result.response, type: 'application/json' };
  }

  async keyFromCsr(value) {
    if (typeof value !== 'string') throw new HttpError(400, 'certificateSigningRequest must be a string');
    // Clients send base64 of the PEM text; accept the PEM text itself too.
    const pem = value.includes('-----BEGIN') ? value : b64decode(value, 'certificateSigningRequest').toString('utf8');
    let csr;
    try {
      csr = new x509.Pkcs10CertificateRequest(pem);
    } catch (e) {
      throw new HttpError(400, `certificateSigningRequest cannot be parsed: ${e.message}`);
    }
    if (!(await csr.verify(crypto.webcrypto))) {
      throw new HttpError(400, 'the CSR signature does not verify with its own key');
    }
    return crypto.createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  }

  keyFromPublicKeyRequest(pkr, claims) {
    const content = pkr?.publicKey?.content;
    if (typeof content !== 'string') throw new HttpError(400, 'publicKeyRequest.publicKey.content must be a PEM string');
    let key;
    try {
      key = crypto.createPublicKey(content);
    } catch (e) {
      throw new HttpError(400, `publicKeyRequest.publicKey cannot be parsed: ${e.message}`);
    }
    const proof = b64decode(pkr.proofOfPossession || '', 'proofOfPossession');
    const candidates = [claims.email, claims.sub].filter((c) => typeof c === 'string');
    if (!candidates.some((c) => verifySignature(key, Buffer.from(c, 'utf8'), proof))) {
      throw new HttpError(400, 'proofOfPossession is not a signature over the token\'s email or sub');
    }
    return key;
  }

  async handle(req, url, body) {
    const path = url.pathname;
    if (req.method === 'POST' && path === SIGNING_CERT_PATH) return this.signingCert(req, body);
    if (req.method === 'GET' && path === '/api/v2/trustBundle') {
      return json(200, { chains: [{ certificates: [this.rootPem] }] });
    }
    if (req.method === 'GET' && path === '/api/v2/configuration') {
      return json(200, {
        issuers: [{ issuerUrl: this.issuer.url, audience: 'sigstore', challengeClaim: 'sub' }],
      });
    }
    return null;
  }
}

module.exports = { Fulcio };

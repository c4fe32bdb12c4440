'use strict';
// The OIDC issuer: discovery document, JWKS, and a helper endpoint that mints
// identity tokens (ES256, signed by the issuer's key generated at start-up).
//
// The stand-in's Fulcio accepts only tokens signed by this key, but whatever
// their `iss` claim: the stand-in plays every identity provider, so a test can
// mint a token "from" https://token.actions.githubusercontent.com if it wants
// certificates carrying that issuer.

const crypto = require('crypto');
const jose = require('jose');
const { HttpError, json, text, parseJson } = require('./http');

const AUDIENCE = 'sigstore';
const DEFAULT_TTL_SECONDS = 600;

class Issuer {
  constructor() {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.url = null; // set once the server listens
  }

  async init() {
    this.jwk = await jose.exportJWK(this.publicKey);
    this.kid = await jose.calculateJwkThumbprint(this.jwk);
    this.jwk = { ...this.jwk, kid: this.kid, alg: 'ES256', use: 'sig' };
    this.keySet = jose.createLocalJWKSet({ keys: [this.jwk] });
  }

  discovery() {
    return {
      issuer: this.url,
      authorization_endpoint: `${this.url}/auth`,
      token_endpoint: `${this.url}/oauth2/token`,
      jwks_uri: `${this.url}/keys`,
      response_types_supported: ['code', 'id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      scopes_supported: ['openid', 'email'],
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'iat', 'iss', 'sub'],
    };
  }

  // Mints a token: `claims` override the defaults (iss = this issuer,
  // aud = sigstore, iat = now, exp = now + ttl). A claim set to null is left out.
  async mint(claims, ttlSeconds = DEFAULT_TTL_SECONDS) {
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) {
      throw new HttpError(400, 'a non-empty "sub" is required');
    }
    const now = Math.floor(Date.now() / 1000);
    const all = { iss: this.url, aud: AUDIENCE, iat: now, exp: now + ttlSeconds, ...claims };
    for (const [k, v] of Object.entries(all)) if (v === null) delete all[k];
    return new jose.SignJWT(all)
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'JWT' })
      .sign(this.privateKey);
  }

  // Checks a token presented to Fulcio; returns its claims.
  async verify(token) {
    try {
      const { payload } = await jose.jwtVerify(token, this.keySet, {
        audience: AUDIENCE,
        algorithms: ['ES256'],
        clockTolerance: 5,
        requiredClaims: ['iss', 'sub', 'iat', 'exp'],
      });
      return payload;
    } catch (e) {
      throw new HttpError(401, `identity token rejected: ${e.message}`);
    }
  }

  async handle(req, url, body) {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      return json(200, this.discovery());
    }
    if (req.method === 'GET' && path === '/keys') {
      return json(200, { keys: [this.jwk] });
    }
    if (path === '/token') {
      // GET /token?sub=S[&email=E][&iss=I][&aud=A][&ttl=SECONDS]
      // POST /token with a JSON object of claims (and optionally "ttl").
      let claims;
      let ttl = DEFAULT_TTL_SECONDS;
      if (req.method === 'GET') {
        claims = {};
        for (const key of ['sub', 'email', 'iss', 'aud']) {
          if (url.searchParams.has(key)) claims[key] = url.searchParams.get(key);
        }
        if (claims.email !== undefined) claims.email_verified = true;
        if (url.searchParams.has('ttl')) ttl = Number(url.searchParams.get('ttl'));
      } else if (req.method === 'POST') {
        claims = parseJson(body);
        if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
          throw new HttpError(400, 'expected a JSON object of claims');
        }
        if ('ttl' in claims) {
          ttl = Number(claims.ttl);
          delete claims.ttl;
        }
      } else {
        return null;
      }
      if (!Number.isInteger(ttl)) throw new HttpError(400, 'ttl must be an integer');
      return text(200, await this.mint(claims, ttl));
    }
    if (path === '/auth' || path === '/oauth2/token') {
      return json(501, {
        error: 'unsupported',
        error_description: 'the stand-in has no interactive login; mint a token at /token',
      });
    }
    return null;
  }
}

module.exports = { Issuer, AUDIENCE };

'use strict';
// A tiny HTTP layer: one server per service, bound to 127.0.0.1 on an
// ephemeral port, with a handler that returns { status, body, type, headers }.

const http = require('http');

const MAX_BODY = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(status, value, headers) {
  return { status, body: JSON.stringify(value), type: 'application/json', headers };
}

function text(status, value) {
  return { status, body: value, type: 'text/plain; charset=utf-8' };
}

// Parses a JSON request body or throws a 400.
function parseJson(body) {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `request body is not JSON: ${e.message}`);
  }
}

// Starts a server for `name`; `handler(req, url, body)` returns a response
// object (see json/text) or null for 404. Resolves to { server, port, url }.
function serve(name, handler, log) {
  const server = http.createServer(async (req, res) => {
    let response;
    try {
      const body = await readBody(req);
      const url = new URL(req.url, 'http://127.0.0.1');
      response = await handler(req, url, body);
      if (!response) {
        response = json(404, { code: 404, message: `no route for ${req.method} ${url.pathname}` });
      }
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      response = json(status, { code: status, message: e.message });
    }
    log(`${name}: ${req.method} ${req.url} -> ${response.status}`);
    const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : Buffer.from(response.body);
    const headers = { 'Content-Type': response.type, 'Content-Length': body.length, ...(response.headers || {}) };
    res.writeHead(response.status, headers);
    res.end(body);
  });
  server.keepAliveTimeout = 2000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ server, port, url: `http://127.0.0.1:${port}` });
    });
  });
}

module.exports = { HttpError, json, text, parseJson, serve };

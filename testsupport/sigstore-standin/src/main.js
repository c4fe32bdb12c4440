#!/usr/bin/env node
'use strict';
// Starts one stand-in instance: fresh keys for every service, one HTTP server
// per service on 127.0.0.1 (ephemeral ports), the trust files written to a
// directory, then one JSON line on stdout saying where everything is.
//
//   node src/main.js [--out DIR] [--watch-stdin] [--verbose]
//
//   --out DIR       write the trust files to DIR (kept on exit); by default a
//                   fresh temporary directory, removed on exit
//   --watch-stdin   exit when stdin closes (a harness holds the pipe, so the
//                   stand-in goes away with the process that started it)
//   --verbose       log every request on stderr
//
// Exits on SIGINT/SIGTERM too. See README.md for the endpoints.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { serve } = require('./http');
const { Issuer } = require('./oidc');
const { Fulcio } = require('./fulcio');
const { RekorV1, RekorV2 } = require('./rekor');
const { TimestampAuthority } = require('./tsa');
const { writeTrustFiles } = require('./trust');

// Trust-material validity starts this long before start-up, so that a client
// whose clock lags a little still sees every service as valid.
const VALID_FROM_SLACK_MS = 60 * 1000;

function parseArgs(argv) {
  const args = { out: null, watchStdin: false, verbose: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--out') args.out = argv[++i];
    else if (a === '--watch-stdin') args.watchStdin = true;
    else if (a === '--verbose') args.verbose = true;
    else {
      process.stderr.write(`sigstore-standin: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  if (args.out === undefined) {
    process.stderr.write('sigstore-standin: --out needs a directory\n');
    process.exit(2);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const log = args.verbose ? (m) => process.stderr.write(`sigstore-standin: ${m}\n`) : () => {};
  const validFrom = new Date(Math.floor((Date.now() - VALID_FROM_SLACK_MS) / 1000) * 1000);

  const issuer = new Issuer();
  const fulcio = new Fulcio(issuer);
  const rekorV1 = new RekorV1();
  const rekorV2 = new RekorV2();
  const tsa = new TimestampAuthority();
  await Promise.all([issuer.init(), fulcio.init(), tsa.init()]);

  const services = { oidc: issuer, fulcio, rekorV1, rekorV2, tsa };
  const servers = [];
  for (const [name, service] of Object.entries(services)) {
    const listening = await serve(name, (req, url, body) => service.handle(req, url, body), log);
    service.url = listening.url;
    servers.push({ name, ...listening });
  }

  let dir = args.out;
  const temporary = dir === null;
  if (temporary) dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigstore-standin-'));
  else fs.mkdirSync(dir, { recursive: true });
  const files = writeTrustFiles(dir, { validFrom, issuer, fulcio, rekorV1, rekorV2, tsa });

  let stopping = false;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    for (const { server } of servers) {
      server.close();
      server.closeAllConnections();
    }
    if (temporary) fs.rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  if (args.watchStdin) {
    process.stdin.on('end', () => stop(0));
    process.stdin.on('close', () => stop(0));
    process.stdin.on('error', () => stop(0));
    process.stdin.resume();
  }

  const ready = {
    ready: true,
    pid: process.pid,
    dir,
    issuer: issuer.url,
    tokenUrl: `${issuer.url}/token`,
    urls: Object.fromEntries(servers.map((s) => [s.name, s.url])),
    ports: Object.fromEntries(servers.map((s) => [s.name, s.port])),
    trustedRoot: files.trustedRoot,
    flavours: files.flavours,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

main().catch((e) => {
  process.stderr.write(`sigstore-standin: start-up failed: ${e.stack || e}\n`);
  process.exit(1);
});

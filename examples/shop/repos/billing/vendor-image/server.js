// A stand-in for the vendor's billing image (registry.example.com/vendor/billing:4.2), which the
// example pulls and never builds: a legacy app that reads only /etc/billing/billing.ini. It
// answers /status to a probe that sends X-Probe, and /config with what it read (the password as
// a hash: it never shows a secret).
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:http');

function readIni(path) {
  const sections = {};
  let section = sections;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) section = sections[header[1]] = {};
    else if (line.includes('=')) section[line.slice(0, line.indexOf('=')).trim()] = line.slice(line.indexOf('=') + 1).trim();
  }
  return sections;
}

const config = readIni('/etc/billing/billing.ini');
const password = config.database.password;
config.database.password = `sha256:${createHash('sha256').update(password).digest('hex')}`;
// Its data folder is a persistent volume, writable by the app's user.
writeFileSync('/var/lib/billing/started', new Date().toISOString());

createServer((request, response) => {
  const send = (code, body) => { response.writeHead(code, { 'content-type': 'application/json' }); response.end(JSON.stringify(body)); };
  if (request.url === '/status') return request.headers['x-probe'] ? send(200, { ok: true }) : send(400, { error: 'X-Probe missing' });
  if (request.url === '/config') return send(200, { config, uid: process.getuid(), started: readFileSync('/var/lib/billing/started', 'utf8') });
  send(404, { error: 'not found' });
}).listen(9000);

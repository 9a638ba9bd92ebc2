/**
 * A tiny git server over HTTP for the test bed: Node's HTTP server in front of `git http-backend`
 * (git's own smart-HTTP CGI program), serving bare repositories under a root folder.
 *
 *   node --import tsx testbed/git-http-server.ts --root DIR --port PORT [--token-file FILE]
 *
 * Repositories live at `DIR/<name>.git` and are reached as `http://127.0.0.1:PORT/<name>.git`.
 * Pushing to a repository that doesn't exist yet creates it, so tests and the demo can
 * `git push` straight away. Binds to 127.0.0.1 only; no authentication, unless `--token-file`
 * names a file holding a token: then every request needs HTTP Basic auth with that token as its
 * password (any user name), as GitHub and GitLab take tokens, for tests of private repos.
 */
import { execFileSync, spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string' }, port: { type: 'string' }, 'token-file': { type: 'string' } } });
if (values.root === undefined || values.port === undefined) {
  console.error('usage: git-http-server --root DIR --port PORT');
  process.exit(2);
}
const root = values.root;
const port = Number(values.port);
const token = values['token-file'] === undefined ? undefined : readFileSync(values['token-file'], 'utf8').trim();

/** True when the request carries Basic auth whose password is the token (always, without one). */
function authorized(req: IncomingMessage): boolean {
  if (token === undefined) return true;
  const header = req.headers.authorization ?? '';
  const match = /^basic\s+(\S+)$/i.exec(header);
  if (match?.[1] === undefined) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const given = Buffer.from(decoded.slice(decoded.indexOf(':') + 1));
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** `/<repo>.git/<rest>`, where repo is one or more safe path segments. */
const repoPath = /^\/((?:[A-Za-z0-9_][A-Za-z0-9._-]*\/)*[A-Za-z0-9_][A-Za-z0-9._-]*\.git)(\/.*)$/;

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    console.error(`${req.method} ${req.url}: ${error instanceof Error ? error.stack : String(error)}`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('internal error\n');
  });
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  console.log(`${new Date().toISOString()} ${req.method} ${url.pathname}${url.search}`);
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (!authorized(req)) {
    res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="diploid test bed git"' }).end('authentication required\n');
    return;
  }
  const match = repoPath.exec(url.pathname);
  if (match === null || match[1] === undefined || match[1].split('/').some((s) => s === '..' || s === '.')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not a repository path\n');
    return;
  }
  const repo = match[1];
  const pushing = url.searchParams.get('service') === 'git-receive-pack' || url.pathname.endsWith('/git-receive-pack');
  if (!existsSync(join(root, repo))) {
    if (!pushing) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`repository ${repo} not found\n`);
      return;
    }
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', join(root, repo)]);
  }
  await cgi(req, res, url);
}

/** Runs `git http-backend` as a CGI program for one request. */
function cgi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    // Allow anonymous pushes (http-backend only allows authenticated ones by default) in every
    // repository, and trust repositories whatever their owner.
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'true',
    GIT_CONFIG_KEY_1: 'safe.directory',
    GIT_CONFIG_VALUE_1: '*',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  if (req.headers['content-length'] !== undefined) env['CONTENT_LENGTH'] = req.headers['content-length'];
  if (req.headers['content-encoding'] !== undefined) env['HTTP_CONTENT_ENCODING'] = req.headers['content-encoding'];
  if (req.headers['git-protocol'] !== undefined) env['GIT_PROTOCOL'] = String(req.headers['git-protocol']);

  return new Promise((resolve, reject) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    child.on('error', reject);
    req.pipe(child.stdin);
    child.stdin.on('error', () => {}); // the backend may stop reading early on an error reply

    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = headerEnd(head);
      if (end === undefined) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end.at).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end.at + end.length));
    });
    child.on('close', (code) => {
      if (!headersDone) {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`git http-backend exited with ${code} before answering\n`);
      } else {
        res.end();
      }
      resolve();
    });
  });
}

function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  if (lf >= 0) return { at: lf, length: 2 };
  return undefined;
}

server.listen(port, '127.0.0.1', () => {
  console.log(`git http server on http://127.0.0.1:${port}, repositories in ${root}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => process.exit(0));
}

/**
 * A stand-in for GitHub's REST API on loopback, for the endpoints diploid uses (no real GitHub
 * can run here). It keeps state (hooks, statuses, branches) and records every request. To keep it
 * honest, every request it receives and every response it sends is checked against GitHub's
 * OpenAPI description; violations are collected in `violations` for tests to assert empty.
 * Status responses are the recorded real exchange of `@octokit/fixtures` (`create-status`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { checkRequest, checkResponse } from './github-openapi.js';

const require = createRequire(import.meta.url);

export interface RecordedRequest {
  readonly method: string;
  /** Path below the API root (`/repos/o/r/hooks`), without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

export interface FakeHook {
  id: number;
  name: string;
  active: boolean;
  events: string[];
  config: { url: string; content_type: string; insecure_ssl: string; secret?: string };
  created_at: string;
  updated_at: string;
}

export interface FakeStatus {
  sha: string;
  state: string;
  context: string;
  description?: string;
  target_url?: string;
}

interface FakeRepo {
  hooks: FakeHook[];
  statuses: FakeStatus[];
  branches: Map<string, string>;
}

/** A canned failure for the next matching request(s). */
export interface Fault {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** How many requests it applies to; 1 by default. */
  times?: number;
  /** Only requests whose `METHOD path` matches. */
  readonly match?: RegExp;
  /** Answer with the request's headers and body in the message, as a misbehaving proxy might. */
  readonly echo?: boolean;
}

const recordedStatus = (() => {
  const scenario = require('@octokit/fixtures/scenarios/api.github.com/create-status/normalized-fixture.json') as { method: string; status: number; response: Record<string, unknown> }[];
  const created = scenario.find((exchange) => exchange.method === 'post' && exchange.status === 201);
  if (!created) throw new Error('create-status fixture has no 201 exchange');
  return created.response;
})();

export class FakeGithubApi {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  readonly repos = new Map<string, FakeRepo>();
  readonly faults: Fault[] = [];
  /** The token the stand-in accepts. */
  token = 'ghp_test_token';
  /** Classic token scopes granted, as GitHub reports them in `X-OAuth-Scopes`. */
  scopes = ['repo', 'admin:repo_hook'];
  /** Branches per page when the client does not ask (GitHub's default is 30). */
  private server: Server | undefined;
  private nextHookId = 1;
  private nextStatusId = 1;
  /** Root under which the API is served: '' (github.com style) or '/api/v3' (GitHub Enterprise Server). */
  constructor(readonly prefix = '') {}

  url = '';

  repo(path: string): FakeRepo {
    let repo = this.repos.get(path);
    if (!repo) {
      repo = { hooks: [], statuses: [], branches: new Map() };
      this.repos.set(path, repo);
    }
    return repo;
  }

  /** Listens on `host` (loopback by default; the bed's pod gateway address for a controller running as a pod). */
  async start(host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, host, resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://${host}:${port}${this.prefix}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (!url.pathname.startsWith(this.prefix)) return this.send(res, method, url.pathname, 404, { message: 'Not Found' }, {}, false);
    const path = url.pathname.slice(this.prefix.length);
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        this.violations.push(`${method} ${path}: request body is not JSON`);
      }
    }
    this.requests.push({ method, path, query: url.searchParams, headers: req.headers, body });
    this.violations.push(...checkRequest(method, path, url.searchParams, body));
    if (text && !String(req.headers['content-type']).startsWith('application/json')) this.violations.push(`${method} ${path}: body sent as ${req.headers['content-type']}`);

    const fault = this.faults.find((f) => (f.times ?? 1) > 0 && (!f.match || f.match.test(`${method} ${path}`)));
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      const echoed = fault.echo ? { message: `you sent ${JSON.stringify(req.headers)} ${text}`, documentation_url: 'https://docs.github.com/rest' } : undefined;
      return this.send(res, method, path, fault.status, echoed ?? fault.body ?? { message: 'fault', documentation_url: 'https://docs.github.com/rest' }, fault.headers ?? {});
    }
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`) {
      return this.send(res, method, path, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    }
    this.route(method, path, url.searchParams, body, res);
  }

  private route(method: string, path: string, query: URLSearchParams, body: any, res: ServerResponse): void {
    const hooks = /^\/repos\/([^/]+)\/([^/]+)\/hooks(?:\/(\d+))?$/.exec(path);
    if (hooks) {
      // A classic token without a hook scope gets 404 (GitHub hides what the token may not see),
      // with the scopes the endpoint accepts in X-Accepted-OAuth-Scopes.
      if (!this.scopes.includes('admin:repo_hook')) return this.send(res, method, path, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }, { 'x-accepted-oauth-scopes': 'admin:repo_hook, read:repo_hook, repo, write:repo_hook' });
      const repo = this.repos.get(`${hooks[1]}/${hooks[2]}`);
      if (!repo) return this.notFound(res, method, path);
      const id = hooks[3] === undefined ? undefined : Number(hooks[3]);
      if (id === undefined && method === 'GET') return this.paginate(res, method, path, query, repo.hooks.map((h) => this.hookView(path, h)));
      if (id === undefined && method === 'POST') {
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const hook: FakeHook = {
          id: this.nextHookId++,
          name: 'web',
          active: body.active ?? true,
          events: body.events ?? ['push'],
          config: { url: body.config.url, content_type: body.config.content_type ?? 'form', insecure_ssl: body.config.insecure_ssl ?? '0', secret: body.config.secret },
          created_at: now,
          updated_at: now,
        };
        repo.hooks.push(hook);
        return this.send(res, method, path, 201, this.hookView(`${path}/${hook.id}`, hook));
      }
      const hook = repo.hooks.find((h) => h.id === id);
      if (!hook) return this.notFound(res, method, path);
      if (method === 'PATCH') {
        if (body.active !== undefined) hook.active = body.active;
        if (body.events !== undefined) hook.events = body.events;
        if (body.config !== undefined) hook.config = { ...hook.config, ...body.config };
        return this.send(res, method, path, 200, this.hookView(path, hook));
      }
      if (method === 'DELETE') {
        repo.hooks.splice(repo.hooks.indexOf(hook), 1);
        return this.send(res, method, path, 204, undefined);
      }
    }
    const statuses = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]+)$/.exec(path);
    if (statuses && method === 'POST') {
      if (!this.scopes.includes('repo:status') && !this.scopes.includes('repo')) return this.forbidden(res, method, path, 'repo:status, repo');
      const repo = this.repos.get(`${statuses[1]}/${statuses[2]}`);
      if (!repo) return this.notFound(res, method, path);
      const status: FakeStatus = { sha: statuses[3]!, state: body.state, context: body.context ?? 'default', description: body.description, target_url: body.target_url };
      repo.statuses.push(status);
      const apiRoot = `https://api.github.com/repos/${statuses[1]}/${statuses[2]}`;
      return this.send(res, method, path, 201, {
        ...recordedStatus,
        url: `${apiRoot}/statuses/${status.sha}`,
        id: this.nextStatusId++,
        state: status.state,
        description: status.description ?? null,
        target_url: status.target_url ?? null,
        context: status.context,
      });
    }
    const branches = /^\/repos\/([^/]+)\/([^/]+)\/branches$/.exec(path);
    if (branches && method === 'GET') {
      const repo = this.repos.get(`${branches[1]}/${branches[2]}`);
      if (!repo) return this.notFound(res, method, path);
      const all = [...repo.branches].sort(([a], [b]) => (a < b ? -1 : 1));
      const apiRoot = `https://api.github.com/repos/${branches[1]}/${branches[2]}`;
      return this.paginate(res, method, path, query, all.map(([name, sha]) => ({ name, commit: { sha, url: `${apiRoot}/commits/${sha}` }, protected: false })));
    }
    this.notFound(res, method, path);
  }

  private hookView(path: string, hook: FakeHook) {
    const api = `https://api.github.com${path.replace(/\/hooks(\/\d+)?$/, `/hooks/${hook.id}`)}`;
    // GitHub never returns a secret, only that one is set.
    const { secret, ...config } = hook.config;
    return {
      type: 'Repository',
      id: hook.id,
      name: hook.name,
      active: hook.active,
      events: hook.events,
      config: secret === undefined ? config : { ...config, secret: '********' },
      updated_at: hook.updated_at,
      created_at: hook.created_at,
      url: api,
      test_url: `${api}/test`,
      ping_url: `${api}/pings`,
      deliveries_url: `${api}/deliveries`,
      last_response: { code: null, status: 'unused', message: null },
    };
  }

  /** GitHub's page/per_page pagination with a `Link` header. */
  private paginate(res: ServerResponse, method: string, path: string, query: URLSearchParams, items: unknown[]): void {
    const perPage = Math.min(Number(query.get('per_page') ?? 30), 100);
    const page = Number(query.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const headers: Record<string, string> = {};
    if (page < last) headers.link = `<${this.url}${path}?per_page=${perPage}&page=${page + 1}>; rel="next", <${this.url}${path}?per_page=${perPage}&page=${last}>; rel="last"`;
    this.send(res, method, path, 200, items.slice((page - 1) * perPage, page * perPage), headers);
  }

  private notFound(res: ServerResponse, method: string, path: string): void {
    this.send(res, method, path, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  }

  private forbidden(res: ServerResponse, method: string, path: string, accepted: string): void {
    this.send(res, method, path, 403, { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com/rest', status: '403' }, { 'x-accepted-oauth-scopes': accepted });
  }

  private send(res: ServerResponse, method: string, path: string, status: number, body: unknown, headers: Record<string, string> = {}, check = true): void {
    if (check) this.violations.push(...checkResponse(method, path, status, body));
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'x-oauth-scopes': this.scopes.join(', '),
      'x-github-media-type': 'github.v3; format=json',
      ...headers,
    });
    res.end(text);
  }
}

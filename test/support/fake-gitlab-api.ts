/**
 * A stand-in for GitLab's REST API (v4) on loopback, for the endpoints diploid uses (no real
 * GitLab can run here). It follows GitLab's REST API reference field by field: the attributes
 * each endpoint accepts (anything else is recorded as a violation), the fields of each response,
 * offset pagination headers, and the error bodies GitLab sends for 401/403/404.
 * References: "Project webhooks API" (api/project_webhooks.md), "Commits API: Set the pipeline
 * status of a commit" (api/commits.md), "Branches API: List repository branches" (api/branches.md).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path below `/api/v4`, as sent (project paths stay URL-encoded). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown> | undefined;
}

export interface FakeHook {
  id: number;
  url: string;
  token?: string;
  push_events: boolean;
  tag_push_events: boolean;
  merge_requests_events: boolean;
  enable_ssl_verification: boolean;
  created_at: string;
}

export interface FakeStatus {
  sha: string;
  status: string;
  name: string;
  ref?: string;
  target_url?: string;
  description?: string;
}

interface FakeProject {
  id: number;
  path: string;
  hooks: FakeHook[];
  statuses: FakeStatus[];
  branches: Map<string, string>;
}

export interface Fault {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  times?: number;
  readonly match?: RegExp;
  /** Answer with the request's headers and body in the message, as a misbehaving proxy might. */
  readonly echo?: boolean;
}

// Attributes each endpoint accepts, per GitLab's REST API reference.
const hookAttributes: Record<string, 'string' | 'boolean'> = {
  url: 'string',
  name: 'string',
  description: 'string',
  token: 'string',
  push_events: 'boolean',
  push_events_branch_filter: 'string',
  branch_filter_strategy: 'string',
  tag_push_events: 'boolean',
  merge_requests_events: 'boolean',
  issues_events: 'boolean',
  confidential_issues_events: 'boolean',
  note_events: 'boolean',
  confidential_note_events: 'boolean',
  job_events: 'boolean',
  pipeline_events: 'boolean',
  wiki_page_events: 'boolean',
  deployment_events: 'boolean',
  feature_flag_events: 'boolean',
  releases_events: 'boolean',
  milestone_events: 'boolean',
  emoji_events: 'boolean',
  resource_access_token_events: 'boolean',
  vulnerability_events: 'boolean',
  enable_ssl_verification: 'boolean',
  custom_webhook_template: 'string',
};
const statusAttributes: Record<string, 'string' | 'number'> = {
  state: 'string',
  ref: 'string',
  name: 'string',
  context: 'string',
  target_url: 'string',
  description: 'string',
  coverage: 'number',
  pipeline_id: 'number',
};
const statusStates = ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'];
const listParams = ['page', 'per_page'];
const branchParams = [...listParams, 'search', 'regex'];

export class FakeGitlabApi {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  readonly projects: FakeProject[] = [];
  readonly faults: Fault[] = [];
  token = 'glpat-test-token';
  /** Scopes of the token; `api` is needed to write, `read_api` to read. */
  scopes = ['api'];
  url = '';
  private server: Server | undefined;
  private nextHookId = 1;
  private nextStatusId = 1;

  project(path: string): FakeProject {
    let project = this.projects.find((p) => p.path === path);
    if (!project) {
      project = { id: this.projects.length + 1, path, hooks: [], statuses: [], branches: new Map() };
      this.projects.push(project);
    }
    return project;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
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
    const method = req.method ?? 'GET';
    const raw = req.url ?? '/';
    const [rawPath = '/', rawQuery = ''] = raw.split('?');
    const query = new URLSearchParams(rawQuery);
    if (!rawPath.startsWith('/api/v4/')) return this.send(res, 404, { error: '404 Not Found' });
    const path = rawPath.slice('/api/v4'.length);
    let body: Record<string, unknown> | undefined;
    if (text) {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        this.violations.push(`${method} ${path}: body is not JSON`);
      }
      if (!String(req.headers['content-type']).startsWith('application/json')) this.violations.push(`${method} ${path}: body sent as ${req.headers['content-type']}`);
    }
    this.requests.push({ method, path, query, headers: req.headers, body });

    const fault = this.faults.find((f) => (f.times ?? 1) > 0 && (!f.match || f.match.test(`${method} ${path}`)));
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      const echoed = fault.echo ? { message: `you sent ${JSON.stringify(req.headers)} ${text}` } : undefined;
      return this.send(res, fault.status, echoed ?? fault.body ?? { message: `${fault.status} fault` }, fault.headers);
    }
    if (req.headers['private-token'] !== this.token) return this.send(res, 401, { message: '401 Unauthorized' });
    this.route(method, path, query, body ?? {}, res);
  }

  private route(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>, res: ServerResponse): void {
    const match = /^\/projects\/([^/]+)\/(hooks(?:\/(\d+))?|statuses\/([0-9a-f]{5,40})|repository\/branches)$/.exec(path);
    if (!match) return this.send(res, 404, { error: '404 Not Found' });
    // `:id` is a numeric id or the URL-encoded full path (`group%2Fproject`).
    const id = decodeURIComponent(match[1]!);
    if (id.includes('/') && match[1]!.includes('/')) this.violations.push(`${method} ${path}: project path not URL-encoded`);
    const project = this.projects.find((p) => p.path === id || String(p.id) === id);
    const writing = method !== 'GET';
    if (writing ? !this.scopes.includes('api') : !this.scopes.some((s) => s === 'api' || s === 'read_api')) {
      const scope = writing ? 'api' : 'api read_api';
      return this.send(
        res,
        403,
        { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope },
        { 'www-authenticate': `Bearer realm="", error="insufficient_scope", error_description="The request requires higher privileges than provided by the access token.", scope="${scope}"` },
      );
    }
    if (!project) return this.send(res, 404, { message: '404 Project Not Found' });

    if (match[2]!.startsWith('hooks')) {
      const hookId = match[3] === undefined ? undefined : Number(match[3]);
      if (hookId === undefined && method === 'GET') {
        this.checkParams(method, path, query, listParams);
        return this.paginate(res, path, query, project.hooks.map((h) => this.hookView(project, h)));
      }
      if (method === 'POST' || method === 'PUT') {
        this.checkBody(method, path, body, hookAttributes, ['url']);
        if (method === 'POST' && hookId === undefined) {
          const hook: FakeHook = {
            id: this.nextHookId++,
            url: String(body.url),
            push_events: body.push_events === undefined ? true : body.push_events === true,
            tag_push_events: body.tag_push_events === true,
            merge_requests_events: body.merge_requests_events === true,
            enable_ssl_verification: body.enable_ssl_verification === undefined ? true : body.enable_ssl_verification === true,
            created_at: '2024-05-01T10:00:00.000Z',
          };
          if (typeof body.token === 'string') hook.token = body.token;
          project.hooks.push(hook);
          return this.send(res, 201, this.hookView(project, hook));
        }
      }
      const hook = project.hooks.find((h) => h.id === hookId);
      if (!hook) return this.send(res, 404, { message: '404 Not found' });
      if (method === 'PUT') {
        for (const key of ['url', 'push_events', 'tag_push_events', 'merge_requests_events', 'enable_ssl_verification', 'token'] as const) {
          if (body[key] !== undefined) (hook as unknown as Record<string, unknown>)[key] = body[key];
        }
        return this.send(res, 200, this.hookView(project, hook));
      }
      if (method === 'DELETE') {
        project.hooks.splice(project.hooks.indexOf(hook), 1);
        return this.send(res, 204, undefined);
      }
      return this.send(res, 405, { message: '405 Method Not Allowed' });
    }

    if (match[4] !== undefined && method === 'POST') {
      this.checkBody(method, path, body, statusAttributes, ['state']);
      const state = String(body.state);
      if (!statusStates.includes(state)) return this.send(res, 400, { error: 'state does not have a valid value' });
      const name = String(body.name ?? body.context ?? 'default');
      const previous = [...project.statuses].reverse().find((s) => s.sha === match[4] && s.name === name);
      // GitLab moves a status through a state machine and refuses a move to the state it is in.
      if (previous?.status === state) {
        const verb = { pending: 'enqueue', running: 'run', success: 'succeed', failed: 'drop', canceled: 'cancel', skipped: 'skip' }[state];
        return this.send(res, 400, { message: `Cannot transition status via :${verb} from :${state}` });
      }
      const status: FakeStatus = { sha: match[4], status: state, name };
      if (typeof body.ref === 'string') status.ref = body.ref;
      if (typeof body.target_url === 'string') status.target_url = body.target_url;
      if (typeof body.description === 'string') status.description = body.description;
      project.statuses.push(status);
      return this.send(res, 201, {
        id: this.nextStatusId++,
        sha: status.sha,
        ref: status.ref ?? null,
        status: status.status,
        name: status.name,
        target_url: status.target_url ?? null,
        description: status.description ?? null,
        created_at: '2024-05-01T10:00:00.000Z',
        started_at: state === 'running' ? '2024-05-01T10:00:00.000Z' : null,
        finished_at: ['success', 'failed', 'canceled'].includes(state) ? '2024-05-01T10:00:00.000Z' : null,
        allow_failure: false,
        coverage: null,
        author: { id: 1, username: 'diploid-bot', name: 'diploid', state: 'active', avatar_url: null, web_url: 'https://gitlab.example.com/diploid-bot' },
      });
    }

    if (match[2] === 'repository/branches' && method === 'GET') {
      this.checkParams(method, path, query, branchParams);
      const branches = [...project.branches].sort(([a], [b]) => (a < b ? -1 : 1));
      return this.paginate(
        res,
        path,
        query,
        branches.map(([name, sha]) => ({
          name,
          merged: false,
          protected: name === 'main',
          default: name === 'main',
          developers_can_push: false,
          developers_can_merge: false,
          can_push: true,
          web_url: `https://gitlab.example.com/${project.path}/-/tree/${name}`,
          commit: {
            id: sha,
            short_id: sha.slice(0, 8),
            created_at: '2024-05-01T10:00:00.000+00:00',
            parent_ids: [],
            title: 'commit',
            message: 'commit',
            author_name: 'Dev',
            author_email: 'dev@example.com',
            authored_date: '2024-05-01T10:00:00.000+00:00',
            committer_name: 'Dev',
            committer_email: 'dev@example.com',
            committed_date: '2024-05-01T10:00:00.000+00:00',
            trailers: {},
            extended_trailers: {},
            web_url: `https://gitlab.example.com/${project.path}/-/commit/${sha}`,
          },
        })),
      );
    }
    this.send(res, 404, { error: '404 Not Found' });
  }

  private hookView(project: FakeProject, hook: FakeHook) {
    // GitLab never returns a hook's token.
    return {
      id: hook.id,
      url: hook.url,
      name: null,
      description: null,
      project_id: project.id,
      push_events: hook.push_events,
      push_events_branch_filter: '',
      branch_filter_strategy: 'wildcard',
      issues_events: false,
      confidential_issues_events: false,
      merge_requests_events: hook.merge_requests_events,
      tag_push_events: hook.tag_push_events,
      note_events: false,
      confidential_note_events: false,
      job_events: false,
      pipeline_events: false,
      wiki_page_events: false,
      deployment_events: false,
      releases_events: false,
      milestone_events: false,
      feature_flag_events: false,
      enable_ssl_verification: hook.enable_ssl_verification,
      repository_update_events: false,
      alert_status: 'executable',
      disabled_until: null,
      url_variables: [],
      created_at: hook.created_at,
      resource_access_token_events: false,
      custom_webhook_template: '',
      custom_headers: [],
    };
  }

  /** GitLab's offset pagination: `X-Page`, `X-Per-Page`, `X-Total`, `X-Next-Page`, ... and `Link`. */
  private paginate(res: ServerResponse, path: string, query: URLSearchParams, items: unknown[]): void {
    const perPage = Math.min(Number(query.get('per_page') ?? 20), 100);
    const page = Number(query.get('page') ?? 1);
    const totalPages = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number) => `${this.url}/api/v4${path}?page=${n}&per_page=${perPage}`;
    const links = [`<${link(1)}>; rel="first"`, `<${link(totalPages)}>; rel="last"`];
    if (page < totalPages) links.unshift(`<${link(page + 1)}>; rel="next"`);
    if (page > 1) links.unshift(`<${link(page - 1)}>; rel="prev"`);
    this.send(res, 200, items.slice((page - 1) * perPage, page * perPage), {
      link: links.join(', '),
      'x-page': String(page),
      'x-per-page': String(perPage),
      'x-total': String(items.length),
      'x-total-pages': String(totalPages),
      'x-next-page': page < totalPages ? String(page + 1) : '',
      'x-prev-page': page > 1 ? String(page - 1) : '',
    });
  }

  private checkParams(method: string, path: string, query: URLSearchParams, allowed: string[]): void {
    for (const key of query.keys()) if (!allowed.includes(key)) this.violations.push(`${method} ${path}: unknown query parameter ${key}`);
  }

  private checkBody(method: string, path: string, body: Record<string, unknown>, allowed: Record<string, string>, required: string[]): void {
    for (const [key, value] of Object.entries(body)) {
      const type = allowed[key];
      if (!type) this.violations.push(`${method} ${path}: unknown attribute ${key}`);
      else if (typeof value !== type) this.violations.push(`${method} ${path}: attribute ${key} should be a ${type}, got ${JSON.stringify(value)}`);
    }
    for (const key of required) if (body[key] === undefined) this.violations.push(`${method} ${path}: missing required attribute ${key}`);
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
    res.end(text);
  }
}

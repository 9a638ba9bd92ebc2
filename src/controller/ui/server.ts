import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveWorkload } from '../../cluster/workloads.js';
import type { PinStore } from '../pin-store.js';
import type { StatusStore } from '../status-store.js';
import { environmentView, type EnvironmentView } from '../status-view.js';
import { UI_PAGE } from './page.js';

export interface UiServerOptions {
  readonly store: StatusStore;
  readonly pins: PinStore;
  /** The services running in a namespace, live from the cluster. */
  readonly workloads: (namespace: string) => Promise<LiveWorkload[]>;
  /** Every request must carry it (header, cookie, or `?token=` once, which sets the cookie). */
  readonly token: string;
  readonly port: number;
  readonly host?: string;
  /** How often the event stream looks for changed statuses. */
  readonly pollMs?: number;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

export interface RunningUi {
  readonly url: string;
  close(): Promise<void>;
}

const COOKIE = 'diploid_ui';

/**
 * The read-only web UI: one page, a JSON API and a server-sent event stream, all behind a token.
 * It shows what `diploid status` shows (statuses hold names, commits, revisions and image
 * references, never a secret value), and has no route that changes anything.
 */
export async function startUiServer(options: UiServerOptions): Promise<RunningUi> {
  const now = options.now ?? (() => new Date());
  const expected = createHash('sha256').update(options.token).digest();
  const streams = new Set<ServerResponse>();

  const views = async (): Promise<EnvironmentView[]> => {
    const pins = await options.pins.list();
    return (await options.store.list()).map((status) => environmentView(status, now(), pins.get(status.environment)));
  };

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    const header = req.headers.authorization?.startsWith('Bearer ') === true ? req.headers.authorization.slice(7) : undefined;
    const cookie = req.headers.cookie?.split(';').map((part) => part.trim()).find((part) => part.startsWith(`${COOKIE}=`))?.slice(COOKIE.length + 1);
    const given = header ?? url.searchParams.get('token') ?? (cookie === undefined ? undefined : decodeURIComponent(cookie));
    // Compared as hashes, in constant time: the length of the token leaks nothing either.
    return given !== undefined && given !== null && timingSafeEqual(createHash('sha256').update(given).digest(), expected);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://ui');
    const security = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
    if (req.method !== 'GET') return void res.writeHead(405, { ...security, allow: 'GET' }).end('read-only\n');
    if (!authorized(req, url)) return void res.writeHead(401, { ...security, 'content-type': 'text/plain' }).end('a token is needed: open /?token=... once, or send Authorization: Bearer ...\n');
    if (url.searchParams.has('token')) {
      // The token leaves the address bar (and history) at once; the cookie carries it from now on.
      const cookie = `${COOKIE}=${encodeURIComponent(url.searchParams.get('token') ?? '')}; HttpOnly; SameSite=Strict; Path=/`;
      return void res.writeHead(303, { ...security, 'set-cookie': cookie, location: url.pathname }).end();
    }
    if (url.pathname === '/') {
      return void res.writeHead(200, { ...security, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'" }).end(UI_PAGE.html);
    }
    if (url.pathname === '/ui.js') return void res.writeHead(200, { ...security, 'content-type': 'text/javascript; charset=utf-8' }).end(UI_PAGE.script);
    if (url.pathname === '/api/environments') return json(res, security, { environments: await views() });
    const one = /^\/api\/environments\/([^/]+)$/.exec(url.pathname);
    if (one !== null) {
      const name = decodeURIComponent(one[1] ?? '');
      const status = await options.store.get(name);
      if (status === undefined) return json(res, security, { error: `no environment "${name}"` }, 404);
      const view = environmentView(status, now(), await options.pins.get(name));
      return json(res, security, { ...view, services: await options.workloads(status.namespace) });
    }
    if (url.pathname === '/api/events') {
      res.writeHead(200, { ...security, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(`retry: 2000\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    json(res, security, { error: 'not found' }, 404);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log?.(`ui: ${req.url?.split('?')[0]}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('the cluster could not be read; see the controller log\n');
      else res.end();
    });
  });

  // One poll for every open page: when anything in the statuses changed, each stream gets the new list.
  let last = '';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    if (streams.size > 0) {
      const environments = await views();
      const text = JSON.stringify(environments.map(({ preview, ...rest }) => ({ ...rest, preview: preview === undefined ? undefined : { ...preview, remainingMs: undefined } })));
      if (text !== last) {
        last = text;
        for (const stream of streams) stream.write(`event: environments\ndata: ${JSON.stringify({ environments })}\n\n`);
      }
    } else last = '';
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void poll().catch((error: unknown) => options.log?.(`ui: cannot read statuses: ${error instanceof Error ? error.message : String(error)}`)).finally(schedule), options.pollMs ?? 1_000);
  };
  schedule();

  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const stream of streams) stream.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, headers: Record<string, string>, value: unknown, status = 200): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(value));
}
